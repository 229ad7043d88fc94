//! `prodlog patterns`: messages grouped into templates (variable parts masked), with
//! counts, levels, first and last seen and a sparkline; against a `--since` baseline, the
//! templates that are new or whose rate jumped, and the minutes whose errors spiked.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;

use crate::files::{self, Lines, Skipped};
use crate::miner::{template_id, Miner};
use crate::record::{level_rank, Head, Record};

pub(crate) struct Args {
    pub(crate) paths: Vec<PathBuf>,
    pub(crate) since: Option<String>,
    pub(crate) json: bool,
    pub(crate) top: usize,
    pub(crate) assign: bool,
}

/// What template mining reads of one line.
pub(crate) struct Line<'a> {
    pub(crate) message: &'a str,
    /// Upper case, `None` for a line that is not JSON.
    pub(crate) level: Option<String>,
    pub(crate) time: &'a str,
    pub(crate) micros: Option<i64>,
}

/// Every line of `paths`, in input order, as the text templates are mined from: a JSON
/// line's `message` (read by [`Head`], else the full parse), any other line as it is.
pub(crate) fn for_each_message(
    paths: &[PathBuf],
    skipped: &mut Skipped,
    mut f: impl FnMut(&Line<'_>),
) {
    let mut buf = Vec::new();
    for p in paths {
        let mut lines = match files::open(p) {
            Ok(r) => Lines::new(r),
            Err(e) => {
                skipped.add(p, e);
                continue;
            }
        };
        loop {
            match lines.next_into(&mut buf) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    skipped.add(p, format!("read error after line {}: {e}", lines.number));
                    break;
                }
            }
            let raw = files::text(&buf);
            if let Some(h) = Head::parse(&raw) {
                let time = h.time.as_deref().unwrap_or("");
                f(&Line {
                    message: &h.message,
                    level: Some(
                        h.level
                            .as_deref()
                            .map_or_else(|| "INFO".to_owned(), crate::record::normalize_level),
                    ),
                    time,
                    micros: crate::record::parse_time_str(time),
                });
            } else if let Some(r) = Record::parse(&raw) {
                f(&Line {
                    message: &r.message,
                    level: Some(r.level.clone()),
                    time: &r.time,
                    micros: r.micros,
                });
            } else {
                f(&Line {
                    message: raw.trim_end_matches('\r'),
                    level: None,
                    time: "",
                    micros: None,
                });
            }
        }
        if lines.cut > 0 {
            eprintln!(
                "prodlog patterns: {}: {} lines longer than 1 MiB read cut",
                p.display(),
                lines.cut
            );
        }
    }
}

/// The miner, fed every message of `paths`.
pub(crate) fn mine(paths: &[PathBuf], skipped: &mut Skipped) -> Miner {
    let mut miner = Miner::new();
    for_each_message(paths, skipped, |l| {
        miner.add(l.message);
    });
    miner
}

/// `--assign`: for every input line, in order, its template's id and text (one JSON
/// object per line). Two passes: the templates are final before any line is assigned.
fn assign(paths: &[PathBuf], skipped: &mut Skipped) {
    use std::io::Write as _;
    let miner = mine(paths, skipped);
    let texts: Vec<(String, String)> = miner
        .groups
        .iter()
        .map(|g| {
            let t = g.text();
            (template_id(&t), t)
        })
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut n = 0u64;
    let mut ignored = Skipped::default();
    let mut line = String::new();
    for_each_message(paths, &mut ignored, |l| {
        n += 1;
        line.clear();
        let value = match miner.find(l.message).and_then(|g| texts.get(g)) {
            Some((id, t)) => json!({"line": n, "template_id": id, "template": t}),
            None => json!({"line": n, "template_id": null, "template": null}),
        };
        line.push_str(&value.to_string());
        let mut safe = String::new();
        crate::render::json_escape_into(&mut safe, &line);
        let _ = writeln!(out, "{safe}");
    });
    let _ = out.flush();
}

/// For `view --template`: the id of the template of each message, given the templates
/// mined from `paths`.
pub(crate) fn template_of(miner: &Miner, message: &str) -> Option<String> {
    miner
        .find(message)
        .map(|g| template_id(&miner.groups[g].text()))
}

#[derive(Default)]
struct Group {
    count: u64,
    levels: std::collections::BTreeMap<u8, String>,
    first: Option<i64>,
    last: Option<i64>,
    first_time: String,
    last_time: String,
    /// Events per time bucket.
    times: Vec<i64>,
    base: u64,
    window: u64,
}

fn minute(m: i64) -> i64 {
    m.div_euclid(60_000_000)
}

pub(crate) fn main(a: &Args) -> ExitCode {
    let since = match a
        .since
        .as_deref()
        .map(|s| crate::record::parse_when(s, crate::record::now_micros()))
        .transpose()
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("prodlog patterns: --since {e}");
            return ExitCode::from(2);
        }
    };
    let mut skipped = Skipped::default();
    let paths = files::collect(&a.paths, &mut skipped);
    if a.assign {
        assign(&paths, &mut skipped);
        skipped.report("patterns");
        return if skipped.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        };
    }
    let mut miner = Miner::new();
    let mut stats: Vec<Group> = Vec::new();
    let mut errors_per_minute: HashMap<i64, (u64, u64)> = HashMap::new(); // (errors, all)
    let (mut t_min, mut t_max) = (i64::MAX, i64::MIN);
    let mut lines_read = 0u64;
    for_each_message(&paths, &mut skipped, |l| {
        lines_read += 1;
        if l.message.is_empty() {
            return;
        }
        let at = miner.add(l.message);
        if at == stats.len() {
            stats.push(Group::default());
        }
        let g = &mut stats[at];
        g.count += 1;
        let Some(level) = &l.level else {
            return;
        };
        g.levels
            .entry(level_rank(level))
            .or_insert_with(|| level.clone());
        if let Some(t) = l.micros {
            if g.first.is_none_or(|f| t < f) {
                g.first = Some(t);
                g.first_time = l.time.to_owned();
            }
            if g.last.is_none_or(|x| t > x) {
                g.last = Some(t);
                g.last_time = l.time.to_owned();
            }
            g.times.push(t);
            t_min = t_min.min(t);
            t_max = t_max.max(t);
            match since {
                Some(s) if t >= s => g.window += 1,
                Some(_) => g.base += 1,
                None => {}
            }
            let e = errors_per_minute.entry(minute(t)).or_default();
            e.1 += 1;
            if level_rank(level) >= 4 {
                e.0 += 1;
            }
        }
    });
    let texts: Vec<String> = miner.groups.iter().map(crate::miner::Group::text).collect();
    let groups: HashMap<&String, &Group> = texts.iter().zip(stats.iter()).collect();
    skipped.report("patterns");

    // Flags against the baseline.
    let (base_minutes, window_minutes) = match since {
        Some(s) if t_min < s && t_max >= s => (
            ((s - t_min) as f64 / 60e6).max(1.0),
            ((t_max - s) as f64 / 60e6).max(1.0),
        ),
        _ => (0.0, 0.0),
    };
    let flag = |g: &Group| -> Option<&'static str> {
        since?;
        if base_minutes == 0.0 || g.window == 0 {
            return None;
        }
        if g.base == 0 {
            return Some("NEW");
        }
        let base_rate = g.base as f64 / base_minutes;
        let win_rate = g.window as f64 / window_minutes;
        (g.window >= 5 && win_rate >= 3.0 * base_rate).then_some("RATE UP")
    };
    let mut spikes = Vec::new();
    if let (Some(s), true) = (since, base_minutes > 0.0) {
        let base_errors: u64 = errors_per_minute
            .iter()
            .filter(|(m, _)| **m < minute(s))
            .map(|(_, e)| e.0)
            .sum();
        let base_rate = base_errors as f64 / base_minutes;
        let mut minutes: Vec<(&i64, &(u64, u64))> = errors_per_minute
            .iter()
            .filter(|(m, _)| **m >= minute(s))
            .collect();
        minutes.sort();
        for (m, (errors, _)) in minutes {
            if *errors >= 5 && *errors as f64 >= 3.0 * base_rate.max(1.0) {
                spikes.push((*m, *errors, base_rate));
            }
        }
    }

    let mut rows: Vec<(&String, &Group)> = groups.iter().map(|(t, g)| (*t, *g)).collect();
    rows.sort_by(|a, b| {
        flag(b.1)
            .is_some()
            .cmp(&flag(a.1).is_some())
            .then(b.1.count.cmp(&a.1.count))
            .then(a.0.cmp(b.0))
    });
    let buckets = 24usize;
    let spark = |g: &Group| -> String {
        if t_max <= t_min {
            return "▁".repeat(buckets);
        }
        let mut counts = vec![0u64; buckets];
        for &t in &g.times {
            let i = ((t - t_min) as f64 / (t_max - t_min) as f64 * (buckets as f64 - 1.0)).round()
                as usize;
            counts[i.min(buckets - 1)] += 1;
        }
        let max = counts.iter().copied().max().unwrap_or(0).max(1);
        counts
            .iter()
            .map(|&c| ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'][((c * 7) / max) as usize])
            .collect()
    };
    let format_minute = |m: i64| -> String {
        let secs = m * 60;
        let (h, mi) = (secs.rem_euclid(86_400) / 3600, secs.rem_euclid(3600) / 60);
        format!("{h:02}:{mi:02}")
    };
    if a.json {
        let templates: Vec<_> = rows
            .iter()
            .take(a.top)
            .map(|(t, g)| {
                json!({
                    "template": t,
                    "template_id": template_id(t),
                    "count": g.count,
                    "levels": g.levels.values().collect::<Vec<_>>(),
                    "first": g.first_time,
                    "last": g.last_time,
                    "baseline": g.base,
                    "window": g.window,
                    "flag": flag(g),
                })
            })
            .collect();
        let spikes: Vec<_> = spikes
            .iter()
            .map(|(m, e, b)| json!({"minute": format_minute(*m), "errors": e, "baseline_per_minute": b}))
            .collect();
        let mut safe = String::new();
        crate::render::json_escape_into(
            &mut safe,
            &json!({"lines": lines_read, "templates": templates, "error_spikes": spikes})
                .to_string(),
        );
        println!("{safe}");
    } else {
        println!("{} lines, {} templates", lines_read, groups.len());
        println!(
            "{:>8}  {:<14} {:<24}  template",
            "count", "levels", "over time"
        );
        for (t, g) in rows.iter().take(a.top) {
            let levels: Vec<&str> = g.levels.values().map(String::as_str).collect();
            let mut shown = String::new();
            crate::render::escape_into(&mut shown, t);
            let f = flag(g).map(|f| format!("  [{f}]")).unwrap_or_default();
            println!(
                "{:>8}  {:<14} {}  {shown}{f}",
                g.count,
                levels.join(","),
                spark(g)
            );
        }
        for (m, errors, base) in &spikes {
            println!(
                "error spike at {}: {errors} errors (baseline {base:.1}/min)",
                format_minute(*m)
            );
        }
    }
    if skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}
