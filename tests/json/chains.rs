//! The span context `JsonLayer` and `ConsoleLayer` render once per span chain and thread,
//! checked against the registry walk `JsonFormat` and `ConsoleFormat` do for every event:
//! the same subscriber writes each event through all four, under random sequences of span creation, enter, exit (in and out of
//! order), re-entry, record, `context::add`, close (so span ids are reused), explicit
//! parents and colliding keys, on one thread and on several threads sharing spans.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use prodlog::format::{ConsoleFormat, ConsoleLayer, JsonFormat, JsonLayer, MemorySink};
use tracing::field::Empty;
use tracing::Span;
use tracing_core::LevelFilter;
use tracing_subscriber::prelude::*;

/// A `MakeWriter` keeping the `fmt` layer's lines.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The JSON and console lines of the cached layers and of the walking formatters.
struct Captures {
    json: MemorySink,
    json_walked: Shared,
    console: MemorySink,
    console_walked: Shared,
}

/// The subscriber: context, then the four formatters under one INFO filter (so DEBUG spans
/// are invisible to all of them), and their captures.
fn subscriber() -> (tracing::Dispatch, Captures) {
    let c = Captures {
        json: MemorySink::default(),
        json_walked: Shared::default(),
        console: MemorySink::default(),
        console_walked: Shared::default(),
    };
    let (jw, cw) = (c.json_walked.clone(), c.console_walked.clone());
    let all = JsonLayer::new(c.json.clone())
        .and_then(
            tracing_subscriber::fmt::layer()
                .event_format(JsonFormat::new())
                .with_writer(move || jw.clone()),
        )
        .and_then(ConsoleLayer::new(c.console.clone()))
        .and_then(
            tracing_subscriber::fmt::layer()
                .event_format(ConsoleFormat::new())
                .with_ansi(false)
                .with_writer(move || cw.clone()),
        )
        .with_filter(LevelFilter::INFO);
    let subscriber = tracing_subscriber::registry()
        .with(prodlog::context::ContextLayer::new())
        .with(all);
    (tracing::Dispatch::new(subscriber), c)
}

/// The lines by their `seq` field, without the timestamp (JSON or console lines).
fn by_seq(text: &str) -> BTreeMap<u64, String> {
    text.lines()
        .map(|line| {
            let rest = match line.split_once("Z\",") {
                Some((_, rest)) => rest,
                None => line.split_once(' ').expect("a timestamp").1,
            };
            let after = ["\"seq\":", " seq="]
                .iter()
                .find_map(|k| rest.split_once(k))
                .expect("every event has a seq")
                .1;
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            (after[..digits].parse().expect("a number"), rest.to_owned())
        })
        .collect()
}

/// Whether a line carries a span's context (a field only spans have).
fn in_a_span(line: &str) -> bool {
    [
        "request_id",
        "hidden",
        "child",
        "root",
        "inner",
        "pool",
        "tenant",
    ]
    .iter()
    .any(|k| line.contains(&format!("\"{k}\":")) || line.contains(&format!(" {k}=")))
}

fn new_span(rng: &mut Rng, n: u64, parent: Option<&Span>) -> Span {
    let explicit = parent.map(|p| p.id());
    match (rng.below(5), explicit) {
        (0, _) => tracing::info_span!("request", request_id = n, user_id = Empty, shared = "req"),
        (1, _) => tracing::debug_span!("hidden", hidden = n, shared = "debug"),
        (2, Some(p)) => tracing::info_span!(parent: p, "child", child = n, shared = Empty),
        (3, _) => tracing::info_span!(parent: None, "root", root = n, late = Empty),
        _ => tracing::info_span!("inner", inner = n, shared = "inner", late = Empty),
    }
}

fn event(rng: &mut Rng, seq: u64, live: &[Span]) {
    match rng.below(7) {
        0 => tracing::info!(seq, shared = "event", "colliding key"),
        1 => tracing::warn!(seq, request_id = "event-id", "colliding id"),
        2 if !live.is_empty() => {
            let p = &live[rng.below(live.len())];
            tracing::info!(parent: p, seq, "explicit parent")
        }
        3 => tracing::info!(parent: None, seq, "root event"),
        4 => tracing::error!(seq, code = 7, "failure"),
        _ => tracing::info!(seq, n = 1, "plain"),
    }
}

/// One random walk of `steps` operations; `shared` spans may be entered and parented under,
/// never changed (other threads use them at the same time).
fn walk(seed: u64, steps: usize, seq_base: u64, shared: &[Span]) {
    let mut rng = Rng(seed | 1);
    let mut live: Vec<Span> = Vec::new();
    let mut entered: Vec<tracing::span::EnteredSpan> = Vec::new();
    let mut seq = seq_base;
    for step in 0..steps {
        let n = step as u64;
        match rng.below(12) {
            0 | 1 => {
                let parent = live.get(rng.below(live.len() + 1)).cloned();
                live.push(new_span(&mut rng, n, parent.as_ref()));
            }
            2 | 3 if !live.is_empty() => {
                let s = live[rng.below(live.len())].clone();
                entered.push(s.entered()); // may be a re-entry: a duplicate on the stack
            }
            4 if !shared.is_empty() => {
                entered.push(shared[rng.below(shared.len())].clone().entered());
            }
            5 if !entered.is_empty() => {
                // Out of order as often as not.
                let at = if rng.below(2) == 0 {
                    entered.len() - 1
                } else {
                    rng.below(entered.len())
                };
                drop(entered.remove(at));
            }
            6 if !live.is_empty() => {
                let s = &live[rng.below(live.len())];
                match rng.below(3) {
                    0 => s.record("user_id", n),
                    1 => s.record("late", "recorded"),
                    _ => s.record("shared", n),
                };
            }
            7 => {
                let current = Span::current();
                let on_shared = shared.iter().any(|s| s.id() == current.id());
                if !on_shared && current.id().is_some() {
                    prodlog::context::add("added", n);
                }
            }
            8 if !live.is_empty() => {
                // Closed once no guard holds it: its id goes back to the registry's slab.
                live.swap_remove(rng.below(live.len()));
            }
            _ => {
                seq += 1;
                event(&mut rng, seq, &live);
            }
        }
    }
    // Exit in a scrambled order before the spans go.
    while !entered.is_empty() {
        let at = rng.below(entered.len());
        drop(entered.remove(at));
        seq += 1;
        tracing::info!(seq, "after exit");
    }
}

fn assert_all_same(c: &Captures, min_events: usize) {
    assert_same(&c.json, &c.json_walked, min_events);
    assert_same(&c.console, &c.console_walked, min_events);
}

fn assert_same(cached: &MemorySink, walked: &Shared, min_events: usize) {
    let cached = by_seq(&cached.text());
    let walked = by_seq(&String::from_utf8_lossy(&walked.0.lock().unwrap()));
    assert!(
        cached.len() >= min_events,
        "only {} events were written",
        cached.len()
    );
    assert_eq!(
        cached.len(),
        walked.len(),
        "both formatters saw every event"
    );
    let mut with_spans = 0;
    for (seq, line) in &cached {
        assert_eq!(
            Some(line),
            walked.get(seq),
            "event {seq}: the cached context differs from the registry's"
        );
        with_spans += usize::from(in_a_span(line));
    }
    assert!(
        with_spans * 2 > cached.len(),
        "most events are inside spans ({with_spans} of {})",
        cached.len()
    );
}

#[test]
fn cached_span_context_matches_the_registry_walk_on_one_thread() {
    let (dispatch, captures) = subscriber();
    tracing::dispatcher::with_default(&dispatch, || {
        for seed in 1..40u64 {
            walk(seed * 0x9E37_79B9, 400, seed * 1_000_000, &[]);
        }
    });
    assert_all_same(&captures, 3_000);
}

#[test]
fn cached_span_context_matches_the_registry_walk_on_threads_sharing_spans() {
    let (dispatch, captures) = subscriber();
    let shared: Vec<Span> = tracing::dispatcher::with_default(&dispatch, || {
        vec![
            tracing::info_span!("pool", pool = "a", shared = "pool"),
            tracing::info_span!("tenant", tenant = "t-1"),
        ]
    });
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let (dispatch, shared) = (dispatch.clone(), shared.clone());
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for round in 0..10u64 {
                        let seed = (t + 1) * 7919 + round * 104_729;
                        walk(seed, 400, (t * 100 + round) * 1_000_000, &shared);
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a walker thread");
    }
    assert_all_same(&captures, 3_000);
}

#[test]
fn a_span_entered_in_a_task_on_another_thread_brings_its_newest_fields() {
    let lines = MemorySink::default();
    let subscriber = tracing_subscriber::registry()
        .with(prodlog::context::ContextLayer::new())
        .with(JsonLayer::new(lines.clone()));
    let dispatch = tracing::Dispatch::new(subscriber);
    let request = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request", request_id = "r-9", user_id = Empty)
    });
    for user in 0..3u64 {
        let (d, r) = (dispatch.clone(), request.clone());
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&d, || {
                let _in = r.enter();
                tracing::info!("before");
                r.record("user_id", user); // seen by the next event in this thread
                tracing::info!(user, "after");
            })
        })
        .join()
        .unwrap();
    }
    let ls: Vec<serde_json::Value> = lines
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(ls.len(), 6);
    for pair in ls.chunks(2) {
        assert_eq!(pair[1]["user_id"], pair[1]["user"], "{pair:?}");
        assert_eq!(pair[1]["request_id"], "r-9");
    }
    assert!(ls[0].get("user_id").is_none(), "saw {:?}", &ls[0]);
    assert_eq!(
        ls[2]["user_id"], 0,
        "a later thread sees the earlier record"
    );
}

/// Spans nested deeper than a chain is kept for (64) still get their whole context, from
/// the registry walk; and an event at every depth matches it.
#[test]
fn deep_nesting_past_the_kept_chains_still_carries_every_span() {
    fn descend(depth: u64, seq: &mut u64) {
        if depth == 100 {
            return;
        }
        let _entered = tracing::info_span!("level", depth, inner = depth).entered();
        *seq += 1;
        tracing::info!(seq = *seq, "down");
        descend(depth + 1, seq);
        *seq += 1;
        tracing::info!(seq = *seq, "up");
    }
    let (dispatch, captures) = subscriber();
    tracing::dispatcher::with_default(&dispatch, || descend(0, &mut 0));
    assert_all_same(&captures, 200);
    let deepest = by_seq(&captures.json.text())[&100].clone();
    assert!(
        deepest.contains("\"depth\":99") && deepest.contains("\"inner\":99"),
        "the innermost span wins: {deepest}"
    );
}

/// Through the preset at `warn`, into real files: the INFO request span is kept for its
/// context, so the WARN and ERROR lines inside it carry its fields as they change (a late
/// record, `context::add`), a DEBUG span entered inside it shows nothing, an explicit
/// parent and an exit are honoured; the error-only file gets the same context.
#[test]
fn the_preset_at_warn_keeps_the_changing_request_context_in_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = crate::support::files_only(dir.path())
        .directives("warn")
        .into_layer()
        .unwrap();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let hostile = "ua\n{\"level\":\"ERROR\",\"forged\":1}\u{1b}[2J\"";
        let request = tracing::info_span!(
            "request",
            request_id = "r-1",
            user_id = Empty,
            agent = hostile
        );
        let other = tracing::info_span!("request", request_id = "r-2");
        {
            let _in = request.enter();
            tracing::warn!(seq = 1u64, "before auth");
            request.record("user_id", 7);
            tracing::warn!(seq = 2u64, "after auth");
            prodlog::context::add("tenant", "acme");
            {
                let _debug = tracing::debug_span!("cache", hidden = 1).entered();
                tracing::error!(seq = 3u64, "inside a debug span");
            }
            tracing::warn!(parent: &other, seq = 4u64, "explicit parent");
            tracing::info!(seq = 99u64, "below the level");
        }
        tracing::warn!(seq = 5u64, "after the request");
    });
    drop(guard);
    let main = crate::support::read_json_lines(&dir.path().join("t.log"));
    let seqs: Vec<u64> = main.iter().map(|l| l["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5], "WARN and ERROR only: {main:?}");
    let field = |i: usize, k: &str| main[i].get(k).cloned();
    // One line per event whatever the span holds: the chain is copied escaped.
    let raw = std::fs::read_to_string(dir.path().join("t.log")).unwrap();
    assert_eq!(raw.lines().count(), 5, "{raw}");
    for i in 0..3 {
        assert_eq!(
            field(i, "agent"),
            Some("ua\n{\"level\":\"ERROR\",\"forged\":1}\u{1b}[2J\"".into())
        );
        assert_eq!(field(i, "forged"), None);
    }
    assert_eq!(field(0, "request_id"), Some("r-1".into()));
    assert_eq!(field(0, "user_id"), None, "not recorded yet");
    assert_eq!(field(1, "user_id"), Some(7.into()), "the late record shows");
    assert_eq!(
        field(2, "tenant"),
        Some("acme".into()),
        "context::add shows"
    );
    assert_eq!(field(2, "user_id"), Some(7.into()));
    assert_eq!(field(2, "hidden"), None, "the DEBUG span is off at warn");
    assert_eq!(field(2, "span"), Some("request".into()));
    assert_eq!(
        field(3, "request_id"),
        Some("r-2".into()),
        "the explicit parent"
    );
    assert_eq!(field(3, "user_id"), None);
    assert_eq!(field(4, "request_id"), None, "outside the request");
    let errors = crate::support::read_json_lines(&dir.path().join("t.error.log"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["tenant"], "acme");
    assert_eq!(errors[0]["request_id"], "r-1");
}
