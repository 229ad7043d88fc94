//! `prodlog trace ID`: every line of one request across files, rotated backups and `.gz`,
//! in time order, drawn as its span tree with durations.
//!
//! A literal search first: each file is read in large blocks and searched for the id with
//! `memchr::memmem` (SIMD); only a line holding the id is parsed, and kept when its
//! `request_id` (or a trace id, under any schema's name) is the id. So the search runs at
//! memory speed, like `grep -F`, and a line that merely mentions the id in its message is
//! not taken for part of the request.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::files::{self, Skipped};
use crate::record::Record;
use crate::render::{self, Style};

/// One line of the request.
struct Hit {
    micros: i64,
    file: usize,
    line: u64,
    raw: String,
    record: Record,
}

pub(crate) struct Args {
    pub(crate) id: String,
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) json: bool,
    pub(crate) ansi: bool,
}

/// Block size of the literal search.
const BLOCK: usize = 8 << 20;

pub(crate) fn main(a: &Args) -> ExitCode {
    if a.id.trim().is_empty() || a.id.contains('\n') {
        eprintln!("prodlog trace: the id must be a non-empty single line");
        return ExitCode::from(2);
    }
    let mut skipped = Skipped::default();
    let files = files::collect(&a.paths, &mut skipped);
    let finder = memchr::memmem::Finder::new(a.id.as_bytes());
    let mut hits = Vec::new();
    let mut kept = Kept::default();
    for (i, path) in files.iter().enumerate() {
        let reader = match files::open(path) {
            Ok(r) => r,
            Err(e) => {
                skipped.add(path, e);
                continue;
            }
        };
        if let Err(e) = search(reader, &finder, &a.id, i, &mut hits, &mut kept) {
            skipped.add(path, e);
        }
    }
    // Time order; lines of equal time keep their file and line order.
    hits.sort_by_key(|h| (h.micros, h.file, h.line));
    skipped.report("trace");
    if kept.over > 0 {
        eprintln!(
            "prodlog trace: {} more lines holding {:?} not shown: the first {} MiB of matching lines are (the files are read oldest first)",
            kept.over,
            a.id,
            MAX_KEPT >> 20
        );
    }
    if a.json {
        let mut out = String::new();
        for h in &hits {
            out.push_str(&h.raw);
            out.push('\n');
        }
        print!("{out}");
    } else {
        print!(
            "{}",
            draw(&a.id, &hits, files.len(), Style { ansi: a.ansi })
        );
    }
    if hits.is_empty() {
        if !a.json {
            eprintln!(
                "prodlog trace: no line of {:?} in {} files",
                a.id,
                files.len()
            );
        }
        return ExitCode::from(1);
    }
    if skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

/// The most bytes of matching lines kept (each is parsed too, which takes a few times
/// its size): a request id matched by gigabytes of lines — a compressed backup of one
/// endless request — is shown up to here and the rest counted, so memory stays bounded
/// whatever the files hold.
const MAX_KEPT: usize = 64 << 20;

/// Matching lines kept so far, and those past [`MAX_KEPT`].
#[derive(Default)]
struct Kept {
    bytes: usize,
    over: u64,
}

/// Searches one file block by block; a line cut by a block boundary is carried over
/// (and a line longer than [`files::MAX_LINE`] without the id is dropped as it goes).
fn search(
    mut reader: Box<dyn Read>,
    finder: &memchr::memmem::Finder<'_>,
    id: &str,
    file: usize,
    hits: &mut Vec<Hit>,
    kept: &mut Kept,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; BLOCK];
    let mut carry = 0usize; // bytes of an unfinished line at the start of `buf`
    let mut line_no = 0u64; // lines before `buf`
    loop {
        let n = read_full(&mut reader, &mut buf[carry..])?;
        let end = carry + n;
        let last = n == 0;
        // The part holding whole lines.
        let whole = if last {
            end
        } else {
            match memchr::memrchr(b'\n', &buf[..end]) {
                Some(i) => i + 1,
                None if end == buf.len() => {
                    // One line longer than the block: keep its head only.
                    let keep = files::MAX_LINE.min(end);
                    carry = keep;
                    continue;
                }
                None => {
                    carry = end;
                    continue;
                }
            }
        };
        let block = &buf[..whole];
        let mut from = 0;
        let mut counted = 0; // offset up to which newlines were counted
        while let Some(pos) = finder.find(&block[from..]) {
            let at = from + pos;
            let start = memchr::memrchr(b'\n', &block[..at]).map_or(0, |i| i + 1);
            let stop = memchr::memchr(b'\n', &block[at..]).map_or(block.len(), |i| at + i);
            line_no += memchr::memchr_iter(b'\n', &block[counted..start]).count() as u64;
            counted = start;
            let raw = files::text(&block[start..stop]);
            let raw = raw.trim_end_matches('\r');
            if kept.bytes + raw.len() > MAX_KEPT {
                // Past the budget: counted (a line holding the id), neither parsed nor kept.
                kept.over += 1;
            } else if let Some(record) = Record::parse(raw) {
                if record.belongs_to(id) {
                    kept.bytes += raw.len();
                    hits.push(Hit {
                        micros: record.micros.unwrap_or(i64::MAX),
                        file,
                        line: line_no + 1,
                        raw: raw.to_owned(),
                        record,
                    });
                }
            }
            from = stop.min(block.len());
            if from >= block.len() {
                break;
            }
        }
        line_no += memchr::memchr_iter(b'\n', &block[counted..]).count() as u64;
        if last {
            return Ok(());
        }
        buf.copy_within(whole..end, 0);
        carry = end - whole;
    }
}

fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// One span of the request: when its lines start and end, what its close event says.
struct SpanRow {
    name: String,
    first: i64,
    last: i64,
    /// From a timing event (`duration_ms`), when there is one.
    duration_ms: Option<f64>,
    slow: bool,
    errors: usize,
    lines: usize,
}

fn ms(micros: i64) -> String {
    let ms = micros as f64 / 1000.0;
    if ms >= 1000.0 {
        format!("{:.3} s", ms / 1000.0)
    } else {
        format!("{ms:.1} ms")
    }
}

/// The summary line, the span tree (a span sits under another whose time range holds
/// it) and the lines.
fn draw(id: &str, hits: &[Hit], file_count: usize, style: Style) -> String {
    let mut out = String::new();
    if hits.is_empty() {
        return out;
    }
    let first = hits
        .iter()
        .filter_map(|h| h.record.micros)
        .min()
        .unwrap_or(0);
    let last = hits
        .iter()
        .filter_map(|h| h.record.micros)
        .max()
        .unwrap_or(first);
    let errors = hits
        .iter()
        .filter(|h| crate::record::level_rank(&h.record.level) >= 4)
        .count();
    let status = hits
        .iter()
        .rev()
        .find_map(|h| h.record.field("status"))
        .unwrap_or_else(|| "-".to_owned());
    let files: std::collections::BTreeSet<usize> = hits.iter().map(|h| h.file).collect();
    // The request's own measured duration (its completion line's or its span's
    // `duration_ms`), else the spread of its lines, said so.
    let measured = hits
        .iter()
        .filter(|h| {
            h.record.span.as_deref() == Some("request") || h.record.message.starts_with("request ")
        })
        .filter_map(|h| {
            h.record
                .fields
                .get("duration_ms")
                .and_then(serde_json::Value::as_f64)
        })
        .filter(|d| d.is_finite() && *d >= 0.0)
        .fold(None, |m: Option<f64>, d| Some(m.map_or(d, |m| m.max(d))));
    let took = match measured {
        Some(d) => format!("{} (measured)", ms((d * 1000.0) as i64)),
        None => format!(
            "{} (from the lines' times: no duration_ms)",
            ms(last - first)
        ),
    };
    out.push_str("request ");
    style.paint(&mut out, "1", id);
    out.push_str(&format!(
        ": {} lines from {} of {} files, {} → {}, {}, status {status}, ",
        hits.len(),
        files.len(),
        file_count,
        hits[0].record.time,
        hits.iter()
            .rev()
            .find(|h| h.record.micros.is_some())
            .map_or("-", |h| h.record.time.as_str()),
        took,
    ));
    if errors > 0 {
        style.paint(&mut out, "1;31", &format!("{errors} errors"));
    } else {
        out.push_str("no errors");
    }
    out.push_str("\n\n");

    // Spans by first appearance.
    let mut spans: Vec<SpanRow> = Vec::new();
    for h in hits {
        let Some(name) = &h.record.span else { continue };
        let t = h.record.micros.unwrap_or(first);
        let row = match spans.iter_mut().position(|s| &s.name == name) {
            Some(i) => &mut spans[i],
            None => {
                spans.push(SpanRow {
                    name: name.clone(),
                    first: t,
                    last: t,
                    duration_ms: None,
                    slow: false,
                    errors: 0,
                    lines: 0,
                });
                spans.last_mut().expect("just pushed")
            }
        };
        row.first = row.first.min(t);
        row.last = row.last.max(t);
        row.lines += 1;
        if crate::record::level_rank(&h.record.level) >= 4 {
            row.errors += 1;
        }
        // What prodlog measured, not the spread of the lines: a timing close event or a
        // completion line (the tower layer's `request completed`) carries the span's
        // `duration_ms` at its end, so the span began that much earlier.
        if let Some(d) = h
            .record
            .fields
            .get("duration_ms")
            .and_then(serde_json::Value::as_f64)
            .filter(|d| d.is_finite() && *d >= 0.0)
        {
            row.duration_ms = Some(row.duration_ms.map_or(d, |m: f64| m.max(d)));
            row.first = row.first.min(t - (d * 1000.0) as i64);
        }
        if h.record.fields.get("slow") == Some(&serde_json::Value::Bool(true)) {
            row.slow = true;
        }
    }
    // Nesting by time: a span's parent is the shortest span whose range holds it.
    let depth: Vec<usize> = (0..spans.len())
        .map(|i| {
            let mut d = 0;
            let mut cur = i;
            for _ in 0..spans.len() {
                let parent = (0..spans.len())
                    .filter(|&j| {
                        j != cur
                            && spans[j].first <= spans[cur].first
                            && spans[j].last >= spans[cur].last
                            && (spans[j].last - spans[j].first > spans[cur].last - spans[cur].first
                                || (spans[j].last - spans[j].first
                                    == spans[cur].last - spans[cur].first
                                    && j < cur))
                    })
                    .min_by_key(|&j| spans[j].last - spans[j].first);
                match parent {
                    Some(p) => {
                        d += 1;
                        cur = p;
                    }
                    None => break,
                }
            }
            d
        })
        .collect();
    if !spans.is_empty() {
        // The lines name their innermost span, not its parent: the tree is inferred from
        // the spans' time ranges (measured ones where a duration was logged).
        out.push_str("spans (nested by their time ranges)\n");
    }
    for (s, d) in spans.iter().zip(&depth) {
        out.push_str(&"  ".repeat(*d + 1));
        out.push_str("└ ");
        style.paint(&mut out, "1", &s.name);
        let took = s
            .duration_ms
            .map(|d| ms((d * 1000.0) as i64))
            .unwrap_or_else(|| ms(s.last - s.first));
        out.push_str(&format!("  {took}  {} lines", s.lines));
        if s.slow {
            out.push_str("  ");
            style.paint(&mut out, "1;33", "SLOW");
        }
        if s.errors > 0 {
            out.push_str("  ");
            style.paint(&mut out, "1;31", &format!("{} errors", s.errors));
        }
        out.push('\n');
    }
    out.push_str("\nlines\n");
    for h in hits {
        out.push_str("  ");
        let offset = h.record.micros.map_or_else(
            || "        ?".to_owned(),
            |t| format!("{:>9}", format!("+{}", ms(t - first))),
        );
        style.paint(&mut out, "2", &offset);
        out.push(' ');
        render::line(&mut out, &h.record, style);
        out.push('\n');
    }
    out
}
