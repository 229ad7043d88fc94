//! `prodlog audit`: stream log files (plain or gzipped) in chunks of whole lines, scan the
//! chunks on several threads with the redaction layer's detectors, report leaks by file
//! and line without echoing them, and summarise levels, targets and non-JSON lines.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use prodlog_redact::Redactor;
use serde_json::{json, Value};

const CHUNK: usize = 4 << 20;

/// One leak: where, and what kind (the detectors' rule names).
struct Finding<'r> {
    file: usize,
    line: u64,
    /// Rule names, borrowed from the redactor that found them.
    kinds: Vec<&'r str>,
}

#[derive(Default)]
struct Tally<'r> {
    lines: u64,
    bytes: u64,
    non_json: u64,
    levels: HashMap<String, u64>,
    targets: HashMap<String, u64>,
    findings: Vec<Finding<'r>>,
}

impl<'r> Tally<'r> {
    fn merge(&mut self, other: Tally<'r>) {
        self.lines += other.lines;
        self.bytes += other.bytes;
        self.non_json += other.non_json;
        for (k, v) in other.levels {
            *self.levels.entry(k).or_default() += v;
        }
        for (k, v) in other.targets {
            *self.targets.entry(k).or_default() += v;
        }
        self.findings.extend(other.findings);
    }
}

/// A block of whole lines of one file, starting at line `first`.
struct Chunk {
    file: usize,
    first: u64,
    data: Vec<u8>,
}

/// `"key":"value"` near the start of a JSON line, without parsing the rest; `finder`
/// searches for `"key":"`, built once (profiled: building `str::find`'s two-way searcher
/// per call, then a window search, were 5-13% of `audit`).
fn string_field<'a>(line: &'a str, finder: &memchr::memmem::Finder<'_>) -> Option<&'a str> {
    let at = finder.find(line.as_bytes())? + finder.needle().len();
    let rest = &line[at..];
    Some(&rest[..memchr::memchr(b'"', rest.as_bytes())?])
}

/// One more of `key`, allocating only for a key not seen before.
fn count(map: &mut HashMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_owned(), 1);
        }
    }
}

fn scan<'r>(redactor: &'r Redactor, chunk: &Chunk) -> Tally<'r> {
    let mut t = Tally::default();
    // `from_utf8` has a fast path for ASCII; the lossy decoder walks chunk by chunk
    // (profiled: 7% of `audit`).
    let text = match std::str::from_utf8(&chunk.data) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(&chunk.data),
    };
    let mut names = crate::walk::Names::default();
    let level_key = memchr::memmem::Finder::new(b"\"level\":\"");
    let target_key = memchr::memmem::Finder::new(b"\"target\":\"");
    for (i, line) in text.split('\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        t.lines += 1;
        t.bytes += line.len() as u64 + 1;
        // A JSON object line (the writers never split one); its fields are read by hand.
        let is_json = line.starts_with('{') && line.trim_end().ends_with('}');
        if is_json {
            if let Some(level) = string_field(line, &level_key) {
                count(&mut t.levels, level);
            }
            if let Some(target) = string_field(line, &target_key) {
                count(&mut t.targets, target);
            }
        } else {
            t.non_json += 1;
        }
        // A console capture: colours would split `key=value` apart.
        let plain;
        let line = if line.contains('\x1b') {
            plain = strip_ansi(line);
            plain.as_str()
        } else {
            line
        };
        // What the formatters redact: each JSON value on its own (decoded), and every value
        // under a sensitive name; anything else line by line.
        let kinds = match is_json
            .then(|| crate::walk::leaks(redactor, line, &mut names))
            .flatten()
        {
            Some(kinds) => kinds,
            None => redactor.find(line),
        };
        if !kinds.is_empty() {
            t.findings.push(Finding {
                file: chunk.file,
                line: chunk.first + i as u64,
                kinds,
            });
        }
    }
    t
}

/// `line` without terminal escape sequences (CSI `ESC [ … letter`, OSC `ESC ] … BEL`).
fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for n in chars.by_ref() {
                    if n.is_ascii_alphabetic() || n == '~' {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(n) = chars.next() {
                    if n == '\x07' || (n == '\x1b' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Reads `path` (gunzipping `.gz`) and sends chunks of whole lines.
fn read_file(
    file: usize,
    path: &Path,
    tx: &mpsc::SyncSender<Chunk>,
    progress: &indicatif::ProgressBar,
) -> io::Result<()> {
    let raw = File::open(path)?;
    let mut reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let mut line = 1u64;
    let mut carry: Vec<u8> = Vec::new();
    let mut long_pieces = 0u64;
    let result = (|| loop {
        let mut buf = std::mem::take(&mut carry);
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let n = reader.read(&mut buf[start..])?;
        buf.truncate(start + n);
        progress.inc(n as u64);
        if n == 0 {
            if !buf.is_empty() {
                let _ = tx.send(Chunk {
                    file,
                    first: line,
                    data: buf,
                });
            }
            return Ok(());
        }
        let Some(cut) = memchr::memrchr(b'\n', &buf) else {
            if buf.len() < LONG_LINE {
                carry = buf;
                continue;
            }
            // One line longer than LONG_LINE: scanned in pieces (memory stays bounded);
            // the last 4 KiB start the next piece, so a secret across the cut is whole
            // in one of them.
            carry = buf[buf.len() - 4096..].to_vec();
            long_pieces += 1;
            let _ = tx.send(Chunk {
                file,
                first: line,
                data: buf,
            });
            continue;
        };
        carry = buf[cut + 1..].to_vec();
        buf.truncate(cut + 1);
        let lines = memchr::memchr_iter(b'\n', &buf).count() as u64;
        let _ = tx.send(Chunk {
            file,
            first: line,
            data: buf,
        });
        line += lines;
    })();
    if long_pieces > 0 {
        eprintln!(
            "prodlog audit: {}: a line longer than {} MiB was scanned in {long_pieces} pieces",
            path.display(),
            LONG_LINE >> 20
        );
    }
    result
}

/// A line longer than this is scanned in pieces.
const LONG_LINE: usize = 16 << 20;

pub(crate) struct Options {
    pub(crate) json: bool,
    pub(crate) threads: usize,
    pub(crate) paths: Vec<PathBuf>,
}

pub(crate) fn main(mut o: Options) -> ExitCode {
    // More threads than cores only add contention; a huge number would exhaust the
    // process (each has a stack and two chunks in flight).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cap = (cores * 2).clamp(1, 64);
    if o.threads > cap {
        eprintln!(
            "prodlog audit: --threads {} lowered to {cap} ({cores} cores)",
            o.threads
        );
        o.threads = cap;
    }
    let o = o;
    let mut skipped = crate::files::Skipped::default();
    let files = crate::files::collect_all(&o.paths, &mut skipped);
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let progress = if std::io::stderr().is_terminal() && total > 64 << 20 {
        let bar = indicatif::ProgressBar::new(total);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let started = Instant::now();
    let redactor = Redactor::default();
    let (tx, rx) = mpsc::sync_channel::<Chunk>(o.threads * 2);
    let rx = std::sync::Mutex::new(rx);
    let mut errors = Vec::new();
    let tally = std::thread::scope(|s| {
        let workers: Vec<_> = (0..o.threads)
            .map(|_| {
                let (rx, redactor) = (&rx, &redactor);
                s.spawn(move || {
                    let mut t = Tally::default();
                    loop {
                        let chunk = match rx.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => break,
                        };
                        match chunk {
                            Ok(c) => t.merge(scan(redactor, &c)),
                            Err(_) => break,
                        }
                    }
                    t
                })
            })
            .collect();
        for (i, f) in files.iter().enumerate() {
            if let Err(e) = read_file(i, f, &tx, &progress) {
                errors.push(format!("{}: {e}", f.display()));
            }
        }
        drop(tx);
        let mut all = Tally::default();
        for w in workers {
            if let Ok(t) = w.join() {
                all.merge(t);
            }
        }
        all
    });
    progress.finish_and_clear();
    let elapsed = started.elapsed();
    let mut findings = tally.findings;
    findings.sort_by_key(|f| (f.file, f.line));
    // Targets and levels are text from the files like any other: a `log` record's target
    // can be a URL with a password. Shown redacted, and without control characters.
    let shown = |text: &str| -> String {
        redactor
            .redact_text(text)
            .chars()
            .map(|c| if c.is_control() { '\u{fffd}' } else { c })
            .collect()
    };
    let mut targets: Vec<(String, &u64)> =
        tally.targets.iter().map(|(k, v)| (shown(k), v)).collect();
    targets.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(&b.0)));
    let mut levels: Vec<(String, &u64)> = tally.levels.iter().map(|(k, v)| (shown(k), v)).collect();
    levels.sort();
    if o.json {
        let report = json!({
            "files": files.len(),
            "lines": tally.lines,
            "bytes": tally.bytes,
            "non_json_lines": tally.non_json,
            "levels": levels.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<String, Value>>(),
            "noisiest_targets": targets.iter().take(10).map(|(k, v)| json!({"target": k, "lines": v})).collect::<Vec<_>>(),
            "findings": findings.iter().map(|f| json!({"path": files[f.file].display().to_string(), "line": f.line, "kinds": f.kinds})).collect::<Vec<_>>(),
            "errors": errors,
            "skipped": skipped.0.iter().map(|(p, why)| json!({"path": p.display().to_string(), "why": why})).collect::<Vec<_>>(),
            "seconds": elapsed.as_secs_f64(),
        });
        println!("{report}");
    } else {
        for f in &findings {
            println!(
                "{}:{}: {}",
                files[f.file].display(),
                f.line,
                f.kinds.join(", ")
            );
        }
        let mb = tally.bytes as f64 / 1e6;
        println!(
            "scanned {} files, {} lines, {:.1} MB in {:.2} s ({:.0} MB/s); {} non-JSON lines",
            files.len(),
            tally.lines,
            mb,
            elapsed.as_secs_f64(),
            mb / elapsed.as_secs_f64().max(1e-9),
            tally.non_json
        );
        let levels: Vec<String> = levels.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("levels: {}", levels.join(", "));
        let top: Vec<String> = targets
            .iter()
            .take(5)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("noisiest targets: {}", top.join(", "));
        for e in &errors {
            eprintln!("prodlog audit: {e}");
        }
        println!(
            "{}",
            if findings.is_empty() {
                "no leaked secrets found".to_owned()
            } else {
                format!("{} lines with leaked secrets", findings.len())
            }
        );
    }
    skipped.report("audit");
    if !findings.is_empty() {
        ExitCode::from(1)
    } else if !errors.is_empty() || !skipped.is_empty() {
        // A path could not be read: the audit is not complete.
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    }
}
