//! A real OTLP collector for the tests: Rotel, started on 127.0.0.1 and read back from
//! its detailed debug log.

use super::*;

pub(crate) fn rotel_agent() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("PRODLOG_TEST_ROTEL") {
        return Ok(PathBuf::from(p));
    }
    for python in ["python3", "python"] {
        let out = Command::new(python)
            .args([
                "-c",
                "import os, rotel; print(os.path.dirname(rotel.__file__))",
            ])
            .output();
        if let Ok(out) = out {
            if out.status.success() {
                let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let agent = Path::new(&dir).join("rotel-agent");
                if agent.exists() {
                    return Ok(agent);
                }
            }
        }
    }
    Err("the rotel package is not installed (pip install rotel)".to_owned())
}

pub(crate) struct Rotel {
    pub(crate) server: Server,
    pub(crate) out: PathBuf,
    pub(crate) port: u16,
}

pub(crate) fn start_rotel(dir: &Path, port: u16) -> Result<Rotel, String> {
    let agent = rotel_agent()?;
    let out = dir.join(format!(
        "rotel-{}.out",
        Instant::now().elapsed().as_nanos() ^ u128::from(free_port())
    ));
    let file = std::fs::File::create(&out).map_err(|e| e.to_string())?;
    let grpc = free_port();
    let child = Command::new(&agent)
        .args([
            "start",
            "--otlp-http-endpoint",
            &format!("127.0.0.1:{port}"),
        ])
        .args(["--otlp-grpc-endpoint", &format!("127.0.0.1:{grpc}")])
        .args([
            "--exporter",
            "blackhole",
            "--debug-log",
            "logs",
            "--debug-log-verbosity",
            "detailed",
        ])
        .env("NO_COLOR", "1")
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", agent.display()))?;
    let server = Server { child };
    if !wait_for_tcp(port, Duration::from_secs(15)) {
        return Err(format!(
            "rotel did not listen on {port}: {}",
            std::fs::read_to_string(&out).unwrap_or_default()
        ));
    }
    Ok(Rotel { server, out, port })
}

/// One received record, from Rotel's detailed debug log.
#[derive(Debug, Default, Clone)]
pub(crate) struct Received {
    pub(crate) severity: String,
    pub(crate) body: String,
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) trace_id: String,
    pub(crate) span_id: String,
    pub(crate) resource: Vec<(String, String)>,
    pub(crate) scope: String,
}

impl Received {
    pub(crate) fn attr(&self, k: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    }
}

pub(crate) fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

pub(crate) fn parse_rotel(text: &str) -> Vec<Received> {
    let text = strip_ansi(text);
    let mut out = Vec::new();
    let mut resource = Vec::new();
    let mut scope = String::new();
    let mut in_resource = false;
    let mut cur: Option<Received> = None;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("ResourceLog #") {
            out.extend(cur.take());
            resource.clear();
            in_resource = true;
        } else if t.starts_with("ScopeLogs #") {
            in_resource = false;
        } else if let Some(s) = t.strip_prefix("InstrumentationScope ") {
            scope = s.trim().to_owned();
        } else if t.starts_with("LogRecord #") {
            out.extend(cur.take());
            cur = Some(Received {
                resource: resource.clone(),
                scope: scope.clone(),
                ..Received::default()
            });
        } else if let Some(kv) = t.strip_prefix("-> ") {
            let (k, v) = kv.split_once(": ").unwrap_or((kv, ""));
            let v = v
                .strip_prefix("Str(")
                .or_else(|| v.strip_prefix("Int("))
                .or_else(|| v.strip_prefix("Bool("))
                .and_then(|v| v.strip_suffix(')'))
                .unwrap_or(v);
            if in_resource {
                resource.push((k.to_owned(), v.to_owned()));
            } else if let Some(r) = cur.as_mut() {
                r.attributes.push((k.to_owned(), v.to_owned()));
            }
        } else if let Some(r) = cur.as_mut() {
            if let Some(v) = t.strip_prefix("SeverityText: ") {
                r.severity = v.to_owned();
            } else if let Some(v) = t.strip_prefix("Body: ") {
                r.body = v
                    .strip_prefix("Str(")
                    .and_then(|v| v.strip_suffix(')'))
                    .unwrap_or(v)
                    .to_owned();
            } else if let Some(v) = t.strip_prefix("Trace ID") {
                r.trace_id = v.trim_start_matches([' ', ':']).to_owned();
            } else if let Some(v) = t.strip_prefix("Span ID") {
                r.span_id = v.trim_start_matches([' ', ':']).to_owned();
            }
        }
    }
    out.extend(cur);
    out
}

pub(crate) fn received(rotel: &Rotel) -> Vec<Received> {
    parse_rotel(&std::fs::read_to_string(&rotel.out).unwrap_or_default())
}

pub(crate) fn wait_received(rotel: &Rotel, at_least: usize, within: Duration) -> Vec<Received> {
    let deadline = Instant::now() + within;
    loop {
        let r = received(rotel);
        if r.len() >= at_least || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
