//! One measured case: a subscriber set as the global default in a fresh process, then a loop
//! of identical events.

use std::io;
use std::path::Path;
use std::time::Instant;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

use crate::alloc;

/// What a case measured.
pub struct Measured {
    pub ns_per_event: f64,
    pub allocs_per_event: f64,
}

/// The event of the bench at a given level: a message and five fields (a string, two
/// integers, a float, a bool). `in_spans` wraps it in two nested spans carrying
/// `request_id`, `user_id` and `db_table`.
macro_rules! bench_event {
    ($level:ident) => {
        bench_event!($level, "alice")
    };
    ($level:ident, $customer:expr) => {
        tracing::$level!(
            customer = $customer,
            amount = 1299u64,
            attempt = -3i64,
            ratio = 0.875f64,
            approved = true,
            "payment processed"
        )
    };
}

#[inline(never)]
fn event() {
    bench_event!(info);
}

/// The bench event with a GitHub token in the `customer` value.
#[inline(never)]
fn secret_event() {
    bench_event!(info, "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7C");
}

#[inline(never)]
fn disabled_event() {
    bench_event!(debug);
}

/// Events sent before the measured loop.
fn warm_up(n: u64) -> u64 {
    n.min(10_000) / 10
}

fn in_spans(n: u64, f: fn()) -> Measured {
    let outer = tracing::info_span!("request", request_id = "req-7f3a9c", user_id = 42u64);
    let _o = outer.enter();
    let inner = tracing::info_span!("db", db_table = "payments");
    let _i = inner.enter();
    for _ in 0..warm_up(n) {
        f();
    }
    let a0 = alloc::count();
    let t0 = Instant::now();
    for _ in 0..n {
        f();
    }
    let elapsed = t0.elapsed();
    let allocs = alloc::count() - a0;
    Measured {
        ns_per_event: elapsed.as_nanos() as f64 / n as f64,
        allocs_per_event: allocs as f64 / n as f64,
    }
}

/// Each event in a span entered just for it, as each poll of an instrumented future enters
/// its span: the span's context is found again on every enter.
fn polled(n: u64) -> Measured {
    let outer = tracing::info_span!("request", request_id = "req-7f3a9c", user_id = 42u64);
    let inner = tracing::info_span!(parent: &outer, "db", db_table = "payments");
    let poll = || {
        let _entered = inner.enter();
        event();
    };
    for _ in 0..warm_up(n) {
        poll();
    }
    let a0 = alloc::count();
    let t0 = Instant::now();
    for _ in 0..n {
        poll();
    }
    let elapsed = t0.elapsed();
    Measured {
        ns_per_event: elapsed.as_nanos() as f64 / n as f64,
        allocs_per_event: (alloc::count() - a0) as f64 / n as f64,
    }
}

fn set<S>(subscriber: S)
where
    S: tracing::Subscriber + Send + Sync + 'static,
{
    tracing::subscriber::set_global_default(subscriber).expect("one subscriber per process");
}

fn fmt_json<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    set(tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_max_level(LevelFilter::INFO)
        .with_writer(writer)
        .finish());
}

fn json_subscriber<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let layer = json_subscriber::fmt::layer()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .flatten_span_list_on_top_level(true)
        .with_writer(writer);
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

fn prodlog_sink() {
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let layer = ContextLayer::new().and_then(JsonLayer::with_make_writer(io::sink));
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

/// prodlog's JSON and console lines, both to `io::sink`, one clock read for both (as the
/// preset does); the console redacts with `console_redactor` (the JSON line's own when
/// `None`).
fn prodlog_json_and_console(console_redactor: Option<prodlog::redact::Redactor>) {
    use prodlog::context::ContextLayer;
    use prodlog::format::{ConsoleLayer, JsonLayer, MakeWriterSink, TimestampLayer};
    let redactor = prodlog::redact::Redactor::default();
    let console = ConsoleLayer::new(MakeWriterSink(io::sink))
        .with_redactor(console_redactor.unwrap_or_else(|| redactor.clone()));
    let layer = TimestampLayer
        .and_then(ContextLayer::new())
        .and_then(JsonLayer::with_make_writer(io::sink).with_redactor(redactor))
        .and_then(console);
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

/// tracing-subscriber's JSON and text formatters side by side, both to `io::sink`.
fn fmt_json_and_text() {
    let json = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(io::sink);
    let text = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(io::sink);
    set(tracing_subscriber::registry().with(json.and_then(text).with_filter(LevelFilter::INFO)));
}

/// prodlog's JSON to `io::sink` behind the rate limiter, every level limited by `spec`.
fn prodlog_limited(spec: &str) {
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let limit = prodlog::limit::RateLimit::new(
        prodlog::limit::LimitSpec::parse(spec).expect("a valid spec"),
    );
    let layer = ContextLayer::new().and_then(limit.wrap(JsonLayer::with_make_writer(io::sink)));
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

#[inline(never)]
fn storm_event() {
    bench_event!(error);
}

/// The default redactor with gitleaks' default rule file (`../shared/redact-rules/`).
pub fn gitleaks_redactor() -> Option<prodlog::redact::Redactor> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/redact-rules/gitleaks.toml");
    prodlog::redact::Redactor::builder()
        .rules_file(path)
        .build()
        .ok()
}

fn prodlog_with(redactor: prodlog::redact::Redactor) {
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let layer = ContextLayer::new()
        .with_redactor(redactor.clone())
        .and_then(JsonLayer::with_make_writer(io::sink).with_redactor(redactor));
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

fn prodlog_schema(schema: prodlog::format::JsonSchema) {
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let layer = ContextLayer::new().and_then(JsonLayer::with_make_writer(io::sink).schema(schema));
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

/// prodlog's JSON to `io::sink`, plus OTLP export to a discarding collector on 127.0.0.1
/// (over TLS with gzip when `dir` is given: it holds the test CA).
fn prodlog_otlp(tls_in: Option<&Path>) -> prodlog::ship::Shipper {
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let otlp = match tls_in {
        None => prodlog::ship::Otlp::new(format!("http://127.0.0.1:{}", crate::collector::start())),
        Some(dir) => {
            let (port, ca) = crate::collector::start_tls(dir);
            prodlog::ship::Otlp::new(format!("https://localhost:{port}"))
                .ca_certificate(ca)
                .compression(prodlog::ship::Compression::Gzip)
        }
    };
    let shipper = otlp
        .queue_bytes(256 << 20)
        .build()
        .expect("the exporter starts");
    let layer = ContextLayer::new().and_then(
        JsonLayer::with_make_writer(io::sink).with_sink(LevelFilter::TRACE, shipper.clone()),
    );
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
    shipper
}

/// prodlog's JSON to a file and to OTLP: the file as the exporter's spool, or not.
fn prodlog_spool(dir: &Path, spooled: bool) -> (prodlog::writer::Writer, prodlog::ship::Shipper) {
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let writer = prodlog::writer::Writer::builder(dir.join("app.log"))
        .spool(spooled)
        .build()
        .expect("the file opens");
    let mut otlp =
        prodlog::ship::Otlp::new(format!("http://127.0.0.1:{}", crate::collector::start()))
            .queue_bytes(256 << 20);
    if let Some(spool) = writer.spool() {
        otlp = otlp.spool(spool, LevelFilter::TRACE);
    }
    let shipper = otlp.build().expect("the exporter starts");
    let json = if spooled {
        JsonLayer::default().with_sink(
            LevelFilter::TRACE,
            prodlog::ship::Spooled::new(
                writer.clone(),
                LevelFilter::TRACE,
                shipper.clone(),
                LevelFilter::TRACE,
            ),
        )
    } else {
        JsonLayer::with_make_writer(writer.clone()).with_sink(LevelFilter::TRACE, shipper.clone())
    };
    let layer = ContextLayer::new().and_then(json);
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
    (writer, shipper)
}

/// A text-heavy event: a 300-byte message with a URL and a header dump.
#[inline(never)]
fn text_event() {
    tracing::info!(
        status = 502u64,
        "upstream call failed: GET https://api.partner.example.com/v2/orders/8812?page=3&sort=desc \
         headers: accept=application/json content-type=application/json user-agent=svc/1.4.2 \
         x-request-id=3f2b8c1e-8a1c-4f3e-9b7c-0f3e2b7c9d10 traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 \
         retry-after=30 took 1523 ms"
    );
}

/// prodlog's JSON with redaction off, to an `io::sink` or through `writer`.
fn prodlog_unredacted<W>(writer: W)
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    use prodlog::context::ContextLayer;
    use prodlog::format::JsonLayer;
    let layer = ContextLayer::new()
        .without_redaction()
        .and_then(JsonLayer::with_make_writer(writer).without_redaction());
    set(tracing_subscriber::registry().with(layer.with_filter(LevelFilter::INFO)));
}

/// Runs one case in this process; `name` is `<row>/<impl>`.
pub fn run(name: &str, n: u64, dir: &Path) -> Option<Measured> {
    let (row, imp) = name.split_once('/')?;
    if row.starts_with("filter-") {
        return crate::filters::run(row, imp, n);
    }
    if row.starts_with("span-") {
        return crate::timing::run(row, imp, n);
    }
    if row == "record" {
        return crate::record::run(imp, n);
    }
    if row == "log-err" {
        return log_err(imp, n);
    }
    match (row, imp) {
        ("disabled" | "sink" | "poll", "fmt-json") => fmt_json(io::sink),
        ("disabled" | "sink" | "poll", "json-subscriber") => json_subscriber(io::sink),
        ("disabled" | "sink" | "poll", "prodlog") => prodlog_sink(),
        ("redact" | "redact-secret" | "redact-text", "prodlog") => prodlog_sink(),
        ("redact" | "redact-secret" | "redact-text" | "redact-gitleaks", "prodlog-off") => {
            prodlog_unredacted(io::sink)
        }
        ("redact-gitleaks", "prodlog") => prodlog_with(gitleaks_redactor()?),
        ("redact" | "redact-secret", "naive-regex-writer") => {
            prodlog_unredacted(crate::naive::NaiveRedactingWriter::new())
        }
        ("console", "prodlog") => prodlog_json_and_console(None),
        ("console", "prodlog-rescan") => prodlog_json_and_console(Some(
            prodlog::redact::Redactor::builder()
                .build()
                .expect("the built-in rules"),
        )),
        ("console", "fmt-json+fmt") => fmt_json_and_text(),
        ("schema", "prodlog") => prodlog_schema(prodlog::format::JsonSchema::Prodlog),
        ("schema", "ecs") => prodlog_schema(prodlog::format::JsonSchema::Ecs),
        ("schema", "gcp") => prodlog_schema(prodlog::format::JsonSchema::Gcp),
        ("schema", "otel") => prodlog_schema(prodlog::format::JsonSchema::Otel),
        ("otlp", "prodlog") => prodlog_sink(),
        ("otlp", "prodlog-otlp" | "prodlog-otlp-tls-gzip") => {
            let shipper = prodlog_otlp((imp == "prodlog-otlp-tls-gzip").then_some(dir));
            let m = in_spans(n, event);
            shipper.flush(std::time::Duration::from_secs(30));
            let s = shipper.stats();
            eprintln!("otlp: {} records sent, {} dropped", s.sent, s.dropped);
            return Some(m);
        }
        ("otlp-spool", _) => {
            let (writer, shipper) = prodlog_spool(dir, imp == "prodlog-spooled");
            let m = in_spans(n, event);
            writer.flush(std::time::Duration::from_secs(30));
            shipper.flush(std::time::Duration::from_secs(30));
            return Some(m);
        }
        ("limit-pass", "prodlog-limited") => prodlog_limited("100000000/s"),
        ("limit-pass", "prodlog-default-limits") => {
            prodlog_limited("error=1000/s+10000,warn=1000/s+10000")
        }
        ("limit-pass", "prodlog") => prodlog_sink(),
        ("storm", "prodlog-limited") => prodlog_limited("error=1000/s+10000"),
        ("storm", "prodlog") => prodlog_sink(),
        ("storm", "fmt-json") => fmt_json(io::sink),
        ("disabled", "prodlog-init") => {
            // The bench spans are a `request`: with the recorder on, its DEBUG events would
            // be recorded (the `record` row), not filtered out.
            let guard = prodlog::builder()
                .from_env(false)
                .record(LevelFilter::OFF)
                .console(prodlog::ConsoleMode::Off)
                .try_init()
                .ok()?;
            std::mem::forget(guard);
        }
        ("file", _) => return Some(file(imp, n, dir)),
        _ => return None,
    }
    if row == "poll" {
        return Some(polled(n));
    }
    Some(in_spans(
        n,
        match row {
            "disabled" => disabled_event,
            "redact-secret" => secret_event,
            "redact-text" => text_event,
            "storm" => storm_event,
            _ => event,
        },
    ))
}

/// From the first event until every line is in the file and synced.
fn file(imp: &str, n: u64, dir: &Path) -> Measured {
    let path = dir.join(format!("{imp}.log"));
    let a0 = alloc::count();
    let t0 = Instant::now();
    match imp {
        "prodlog" => {
            let guard = prodlog::builder()
                .from_env(false)
                .console(prodlog::ConsoleMode::Off)
                .error_file(false)
                .app_name(imp)
                .log_dir(dir)
                .try_init()
                .expect("prodlog init");
            in_spans(n, event);
            drop(guard); // flushes and fsyncs the current file
                         // The files rotated on the way too, as the peers' one file is synced whole.
            for entry in std::fs::read_dir(dir).expect("bench dir").flatten() {
                let _ = std::fs::File::open(entry.path()).and_then(|f| f.sync_all());
            }
        }
        _ => {
            let file = std::fs::File::create(&path).expect("create bench file");
            // Lossless, like prodlog's default: every line must reach the disk.
            let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
                .lossy(false)
                .finish(file);
            if imp == "fmt-json" {
                fmt_json(writer);
            } else {
                json_subscriber(writer);
            }
            in_spans(n, event);
            drop(guard); // waits for the worker to write everything
            std::fs::File::open(&path)
                .and_then(|f| f.sync_all())
                .expect("sync bench file");
        }
    }
    let elapsed = t0.elapsed();
    // Every file of the implementation: prodlog's rotated ones too.
    let lines: usize = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(imp))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .sum();
    eprintln!("{imp}: {lines} lines of {} on disk", n + warm_up(n));
    Measured {
        ns_per_event: elapsed.as_nanos() as f64 / n as f64,
        allocs_per_event: (alloc::count() - a0) as f64 / n as f64,
    }
}

/// `log_err` on an error with one cause, in a request span, to `io::sink`; with
/// `prodlog-backtrace`, `RUST_BACKTRACE=1` (one capture per error, symbols resolved; the
/// first resolution, which loads the debug info, is in the warm-up).
fn log_err(imp: &str, n: u64) -> Option<Measured> {
    use prodlog::LogErr;
    if imp == "prodlog-backtrace" {
        std::env::set_var("RUST_BACKTRACE", "1");
    } else {
        std::env::remove_var("RUST_BACKTRACE");
        std::env::remove_var("RUST_LIB_BACKTRACE");
    }
    prodlog_sink();
    let fail = || -> Result<(), std::io::Error> {
        Err(std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "connection reset by peer",
        )))
    };
    let request = tracing::info_span!("request", request_id = "req-7f3a9c");
    let _r = request.enter();
    for _ in 0..warm_up(n).max(10) {
        let _ = std::hint::black_box(fail().log_err());
    }
    let a0 = alloc::count();
    let t0 = Instant::now();
    for _ in 0..n {
        let _ = std::hint::black_box(fail().log_err());
    }
    let elapsed = t0.elapsed();
    Some(Measured {
        ns_per_event: elapsed.as_nanos() as f64 / n as f64,
        allocs_per_event: (alloc::count() - a0) as f64 / n as f64,
    })
}
