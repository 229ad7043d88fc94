//! `prodlog view`: JSON-lines logs as coloured human lines, merged in time order across
//! files, rotated backups and `.gz`, filtered; `--follow` across rotation.

use std::collections::BinaryHeap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::files::{self, Lines, Skipped};
use crate::record::{level_rank, normalize_level, Record};
use crate::render::{self, Style};

pub(crate) struct Args {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) level: Option<String>,
    pub(crate) target: Vec<String>,
    pub(crate) since: Option<String>,
    pub(crate) until: Option<String>,
    pub(crate) field: Vec<String>,
    pub(crate) grep: Option<String>,
    pub(crate) template: Option<String>,
    pub(crate) follow: bool,
    pub(crate) json: bool,
    pub(crate) ansi: bool,
}

/// What a line must be to be shown.
pub(crate) struct Filter {
    min_level: u8,
    targets: Vec<String>,
    since: Option<i64>,
    until: Option<i64>,
    fields: Vec<(String, String)>,
    grep: Option<regex::Regex>,
    /// `--template`: the templates mined from the files, and the id wanted.
    template: Option<(crate::miner::Miner, String)>,
}

impl Filter {
    pub(crate) fn new(a: &Args) -> Result<Filter, String> {
        let now = crate::record::now_micros();
        let min_level = match &a.level {
            None => 0,
            Some(l) => {
                let n = normalize_level(l);
                if !matches!(
                    n.as_str(),
                    "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "CRITICAL"
                ) {
                    return Err(format!(
                        "--level {l:?}: expected trace, debug, info, warn, error or critical"
                    ));
                }
                level_rank(&n)
            }
        };
        let when = |s: &Option<String>, flag: &str| -> Result<Option<i64>, String> {
            s.as_deref()
                .map(|s| crate::record::parse_when(s, now).map_err(|e| format!("{flag} {e}")))
                .transpose()
        };
        let mut fields = Vec::new();
        for f in &a.field {
            let (k, v) = f
                .split_once('=')
                .ok_or_else(|| format!("--field {f:?}: expected key=value"))?;
            fields.push((k.to_owned(), v.to_owned()));
        }
        let grep = a
            .grep
            .as_deref()
            .map(|g| regex::Regex::new(g).map_err(|e| format!("--grep: {e}")))
            .transpose()?;
        Ok(Filter {
            min_level,
            targets: a.target.clone(),
            since: when(&a.since, "--since")?,
            until: when(&a.until, "--until")?,
            fields,
            grep,
            template: None,
        })
    }

    /// `--template ID`: the templates are mined from `paths` first.
    pub(crate) fn with_template(mut self, id: Option<&str>, paths: &[PathBuf]) -> Filter {
        if let Some(id) = id {
            let mut skipped = files::Skipped::default();
            let miner = crate::patterns::mine(paths, &mut skipped);
            self.template = Some((miner, id.to_owned()));
        }
        self
    }

    /// Whether a line passes. Non-JSON lines pass only filters they can be judged by
    /// (`--grep`), and only when no field-based filter is set.
    pub(crate) fn admits(&self, raw: &str, r: Option<&Record>) -> bool {
        if let Some(g) = &self.grep {
            if !g.is_match(raw) {
                return false;
            }
        }
        if let Some((miner, id)) = &self.template {
            let message = r.map_or(raw, |r| r.message.as_str());
            if crate::patterns::template_of(miner, message).as_deref() != Some(id.as_str()) {
                return false;
            }
        }
        let Some(r) = r else {
            return self.min_level == 0
                && self.targets.is_empty()
                && self.since.is_none()
                && self.until.is_none()
                && self.fields.is_empty();
        };
        if level_rank(&r.level) < self.min_level {
            return false;
        }
        if !self.targets.is_empty()
            && !self.targets.iter().any(|t| {
                r.target == *t
                    || r.target
                        .strip_prefix(t.as_str())
                        .is_some_and(|rest| rest.starts_with("::"))
            })
        {
            return false;
        }
        if let Some(since) = self.since {
            if r.micros.is_none_or(|t| t < since) {
                return false;
            }
        }
        if let Some(until) = self.until {
            if r.micros.is_none_or(|t| t > until) {
                return false;
            }
        }
        self.fields
            .iter()
            .all(|(k, v)| r.field(k).as_deref() == Some(v.as_str()))
    }
}

/// One file's next line, ordered by time for the merge.
struct Head {
    micros: i64,
    /// The rotation set it came from.
    chain: usize,
    file: usize,
    seq: u64,
    raw: String,
}

impl PartialEq for Head {
    fn eq(&self, o: &Self) -> bool {
        (self.micros, self.file, self.seq) == (o.micros, o.file, o.seq)
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Head {
    // A max-heap: the earliest first.
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.micros, o.file, o.seq).cmp(&(self.micros, self.file, self.seq))
    }
}

pub(crate) fn main(a: &Args) -> ExitCode {
    let filter = match Filter::new(a) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("prodlog view: {e}");
            return ExitCode::from(2);
        }
    };
    let mut skipped = Skipped::default();
    let paths = files::collect(&a.paths, &mut skipped);
    let filter = filter.with_template(a.template.as_deref(), &paths);
    let style = Style { ansi: a.ansi };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    // More sets than may be open at once: merged first, in groups, into sorted runs.
    let (_runs, merged) = match premerge(&paths, &mut skipped) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("prodlog view: cannot write a temporary run: {e}");
            return ExitCode::from(3);
        }
    };
    let mut merge = Merge::new(&merged);
    for c in 0..merge.chains.len() {
        merge.advance(c, &mut skipped);
    }
    let mut text = String::new();
    let mut broken = false;
    while let Some(head) = merge.heap.pop() {
        if emit(&mut out, &mut text, &head.raw, &filter, a.json, style).is_err() {
            broken = true; // a closed pager: stop quietly
            break;
        }
        merge.advance(head.chain, &mut skipped);
    }
    let _ = out.flush();
    drop(out);
    merge.report_cuts();
    skipped.report("view");
    if a.follow && !broken {
        crate::follow::follow(&a.paths, &paths, &filter, a.json, style);
    }
    if skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

/// The most rotation sets merged at once (each holds one open file and one line). More
/// are merged in passes: groups of this many into temporary sorted runs, then the runs —
/// so 3,000 separate logs need no more than this many descriptors.
const MAX_OPEN_SETS: usize = 128;

/// When `paths` hold more than [`MAX_OPEN_SETS`] sets: merges them, a group at a time,
/// into runs in a temporary directory (kept alive by the first value) and returns the
/// runs' paths; otherwise the paths as they are.
fn premerge(
    paths: &[PathBuf],
    skipped: &mut Skipped,
) -> std::io::Result<(Option<tempfile::TempDir>, Vec<PathBuf>)> {
    let mut current = paths.to_vec();
    let mut dir: Option<tempfile::TempDir> = None;
    let mut round = 0;
    loop {
        let chains = Merge::new(&current).chains;
        if chains.len() <= MAX_OPEN_SETS {
            return Ok((dir, current));
        }
        let tmp = match &dir {
            Some(d) => d.path().to_owned(),
            None => {
                let d = tempfile::Builder::new().prefix("prodlog-view-").tempdir()?;
                let p = d.path().to_owned();
                dir = Some(d);
                p
            }
        };
        let mut runs = Vec::new();
        for (k, group) in chains.chunks(MAX_OPEN_SETS).enumerate() {
            let group_paths: Vec<PathBuf> = group
                .iter()
                .flat_map(|c| c.files.iter().map(|&i| current[i].clone()))
                .collect();
            let run = tmp.join(format!("run-{round}-{k}.log"));
            let mut out = std::io::BufWriter::new(std::fs::File::create(&run)?);
            let mut merge = Merge::new(&group_paths);
            for c in 0..merge.chains.len() {
                merge.advance(c, skipped);
            }
            while let Some(head) = merge.heap.pop() {
                out.write_all(head.raw.as_bytes())?;
                out.write_all(b"\n")?;
                merge.advance(head.chain, skipped);
            }
            out.flush()?;
            merge.report_cuts();
            runs.push(run);
        }
        current = runs;
        round += 1;
    }
}

/// The files being merged, as rotation sets: `app.log.3`, `app.log.2`, `app.log.1`,
/// `app.log` hold one stream in time order, so each set is read one file after the other
/// and only its current file is open. Open files and memory (one line held per set) are
/// bounded by the number of sets, not of files: 3,000 backups of one log are one open
/// file and one line.
struct Merge<'p> {
    paths: &'p [PathBuf],
    chains: Vec<Chain>,
    /// Each file's last time (a line without one takes it).
    last_time: Vec<i64>,
    /// Each file's lines cut at the length cap.
    cut: Vec<u64>,
    heap: BinaryHeap<Head>,
    buf: Vec<u8>,
}

/// One rotation set: its files (indices into the paths, oldest first), the one being read.
struct Chain {
    files: Vec<usize>,
    at: usize,
    reader: Option<Lines>,
}

impl<'p> Merge<'p> {
    fn new(paths: &'p [PathBuf]) -> Merge<'p> {
        let mut chains: Vec<Chain> = Vec::new();
        let mut last_key = None;
        for (i, p) in paths.iter().enumerate() {
            let key = (p.parent().map(Path::to_path_buf), files::stem(p));
            if last_key.as_ref() != Some(&key) {
                chains.push(Chain {
                    files: Vec::new(),
                    at: 0,
                    reader: None,
                });
                last_key = Some(key);
            }
            if let Some(c) = chains.last_mut() {
                c.files.push(i);
            }
        }
        Merge {
            paths,
            chains,
            last_time: vec![i64::MIN; paths.len()],
            cut: vec![0; paths.len()],
            heap: BinaryHeap::new(),
            buf: Vec::new(),
        }
    }

    /// Says on stderr which files had lines cut at the length cap.
    fn report_cuts(&self) {
        for (p, cut) in self.paths.iter().zip(&self.cut) {
            if *cut > 0 {
                eprintln!(
                    "prodlog view: {}: {cut} lines longer than 1 MiB shown cut",
                    p.display()
                );
            }
        }
    }

    /// Pushes set `c`'s next line on the heap, opening its next file when one ends.
    fn advance(&mut self, c: usize, skipped: &mut Skipped) {
        let chain = &mut self.chains[c];
        while let Some(&i) = chain.files.get(chain.at) {
            if chain.reader.is_none() {
                match files::open(&self.paths[i]) {
                    Ok(r) => chain.reader = Some(Lines::new(r)),
                    Err(e) => {
                        skipped.add(&self.paths[i], e);
                        chain.at += 1;
                        continue;
                    }
                }
            }
            let Some(r) = chain.reader.as_mut() else {
                return;
            };
            match r.next_into(&mut self.buf) {
                Ok(true) => {
                    let raw = files::text(&self.buf).into_owned();
                    let micros = quick_time(&raw).unwrap_or(self.last_time[i]);
                    self.last_time[i] = micros;
                    self.heap.push(Head {
                        micros,
                        chain: c,
                        file: i,
                        seq: r.number,
                        raw,
                    });
                    return;
                }
                Ok(false) => {}
                Err(e) => skipped.add(
                    &self.paths[i],
                    format!("read error after line {}: {e}", r.number),
                ),
            }
            self.cut[i] = r.cut;
            chain.reader = None;
            chain.at += 1;
        }
    }
}

/// The level of a prodlog line (`"level":"WARN"` near its start), without parsing it.
fn quick_level(raw: &str) -> Option<&str> {
    const KEY: &str = "\"level\":\"";
    let head = raw.get(..raw.len().min(96))?;
    let at = head.find(KEY)? + KEY.len();
    let rest = &raw[at..];
    let level = &rest[..rest.find('"')?];
    // Only prodlog's own upper-case names; anything else is judged after parsing.
    matches!(
        level,
        "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "CRITICAL"
    )
    .then_some(level)
}

/// The time of a JSON line, for ordering, without parsing the whole line.
fn quick_time(raw: &str) -> Option<i64> {
    for key in ["\"timestamp\":\"", "\"@timestamp\":\"", "\"time\":\""] {
        if let Some(at) = raw.find(key) {
            let rest = &raw[at + key.len()..];
            let end = rest.find('"')?;
            return crate::record::parse_rfc3339(&rest[..end]);
        }
    }
    Record::parse(raw).and_then(|r| r.micros)
}

pub(crate) fn emit(
    out: &mut impl Write,
    text: &mut String,
    raw: &str,
    filter: &Filter,
    json: bool,
    style: Style,
) -> std::io::Result<()> {
    // A prodlog line below `--level` is dropped before it is parsed (most of them, with
    // `--level error`).
    if filter.min_level > 0 && quick_level(raw).is_some_and(|l| level_rank(l) < filter.min_level) {
        return Ok(());
    }
    let record = Record::parse(raw);
    if !filter.admits(raw, record.as_ref()) {
        return Ok(());
    }
    text.clear();
    if json {
        render::json_escape_into(text, raw);
    } else {
        match &record {
            Some(r) => render::line(text, r, style),
            None => render::escape_into(text, raw),
        }
    }
    text.push('\n');
    out.write_all(text.as_bytes())
}
