//! gitleaks' own default configuration (`../shared/redact-rules/gitleaks.toml`, MIT, read in
//! place): it loads, what cannot apply to log lines is skipped with a reason, and the values
//! its rules describe — generated from each rule's own regex — are redacted.

use std::path::PathBuf;

use prodlog_redact::Redactor;
use rand::SeedableRng;

fn rules_file() -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/redact-rules/gitleaks.toml");
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipped: {} is absent", path.display());
        None
    }
}

#[test]
fn the_default_gitleaks_configuration_loads_and_reports_what_it_skips() {
    let Some(path) = rules_file() else { return };
    let r = Redactor::builder()
        .rules_file(&path)
        .build()
        .expect("loads");
    let total = std::fs::read_to_string(&path)
        .unwrap()
        .matches("[[rules]]")
        .count();
    println!(
        "{} of {total} rules in use; skipped: {:?}",
        r.file_rule_count(),
        r.skipped_rules()
    );
    assert!(r.file_rule_count() >= 200, "{}", r.file_rule_count());
    let skipped_rules = r
        .skipped_rules()
        .iter()
        .filter(|(id, _)| !id.starts_with('[') && !id.ends_with("(allowlist)"))
        .count();
    assert_eq!(
        r.file_rule_count() + skipped_rules,
        total,
        "every rule is either used or reported"
    );
    for (_, reason) in r.skipped_rules() {
        assert!(!reason.is_empty(), "saw {:?}", &reason);
    }
}

#[test]
fn values_the_rules_describe_are_redacted() {
    let Some(path) = rules_file() else { return };
    let text = std::fs::read_to_string(&path).unwrap();
    let r = Redactor::builder().rules_file(&path).build().unwrap();
    let table: toml::Table = toml::from_str(&text).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let (mut tried, mut removed) = (0, 0);
    let mut missed = Vec::new();
    for rule in table["rules"].as_array().unwrap() {
        let Some(pattern) = rule.get("regex").and_then(|v| v.as_str()) else {
            continue;
        };
        // RE2's ASCII classes, as prodlog reads the file.
        let ascii = pattern
            .replace(r"\s", r"[\t\n\x0C\r ]")
            .replace(r"\w", "[0-9A-Za-z_]")
            .replace(r"\d", "[0-9]");
        let Ok(regex) = regex::RegexBuilder::new(&ascii)
            .size_limit(32 << 20)
            .build()
        else {
            continue;
        };
        let Ok(hir) = regex_syntax::ParserBuilder::new()
            .build()
            .parse(&without_anchors(&ascii))
        else {
            continue;
        };
        let Ok(gen) = rand_regex::Regex::with_hir(hir, 12) else {
            continue;
        };
        let group = rule
            .get("secretGroup")
            .and_then(|v| v.as_integer())
            .map(|g| g as usize);
        let min_entropy = rule.get("entropy").and_then(|v| v.as_float());
        let keywords: Vec<String> = rule
            .get("keywords")
            .and_then(|k| k.as_array())
            .map(|ks| {
                ks.iter()
                    .filter_map(|k| k.as_str())
                    .map(str::to_ascii_lowercase)
                    .collect()
            })
            .unwrap_or_default();
        let id = rule["id"].as_str().unwrap();
        let mut samples = 0;
        for _ in 0..400 {
            if samples == 3 {
                break;
            }
            let bytes: Vec<u8> = rand::Rng::sample(&mut rng, &gen);
            // Log lines of ASCII: RE2 reads `\s`, `\w` as ASCII, and nobody writes `aſana`.
            let Ok(sample) = String::from_utf8(bytes) else {
                continue;
            };
            if !sample.is_ascii() {
                continue;
            }
            if sample.contains(['\n', '\r']) || sample.len() > 300 {
                continue;
            }
            let Some(caps) = regex.captures(&sample) else {
                continue;
            };
            let secret = match group {
                Some(g) => caps.get(g),
                None => (1..caps.len()).find_map(|g| caps.get(g).filter(|m| !m.is_empty())),
            }
            .or_else(|| caps.get(0))
            .unwrap()
            .as_str()
            .to_owned();
            // What gitleaks itself would not report is not counted: too little entropy, or
            // none of the rule's keywords in the text.
            let lower = sample.to_ascii_lowercase();
            let keyword =
                keywords.is_empty() || keywords.iter().any(|k| lower.contains(k.as_str()));
            if secret.len() < 6 || min_entropy.is_some_and(|e| entropy(&secret) < e) || !keyword {
                continue;
            }
            samples += 1;
            tried += 1;
            let line = format!("request failed: {sample} (retrying)");
            if r.redact_text(&line).contains(&secret) {
                missed.push(format!("{id}: {sample:?} secret {secret:?}"));
            } else {
                removed += 1;
            }
        }
    }
    let share = removed as f64 / tried as f64;
    println!(
        "{removed}/{tried} generated secrets removed ({:.1}%)",
        share * 100.0
    );
    assert!(tried > 450, "{tried}");
    for m in &missed {
        println!("  not removed: {m}");
    }
    assert!(
        share >= 0.9,
        "only {:.1}%: {:?}",
        share * 100.0,
        &missed[..missed.len().min(20)]
    );
}

/// The generator cannot produce anchors or word boundaries: drop them (the regex that
/// checks each sample keeps them, so a sample that needs them is simply not counted).
fn without_anchors(p: &str) -> String {
    let mut out = String::new();
    let mut chars = p.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('b' | 'B' | 'z' | 'A') if !in_class => {}
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => {}
            },
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap_or('^'));
                }
                if chars.peek() == Some(&']') {
                    out.push(chars.next().unwrap_or(']'));
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '^' | '$' if !in_class => {}
            _ => out.push(c),
        }
    }
    out.replace("|)", ")").replace("(?:|", "(?:")
}

fn entropy(s: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for b in s.bytes() {
        *counts.entry(b).or_insert(0u32) += 1;
    }
    let n = s.len() as f64;
    counts
        .values()
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[test]
fn clean_log_lines_stay_clean_with_the_rules_loaded() {
    let Some(path) = rules_file() else { return };
    let r = Redactor::builder().rules_file(&path).build().unwrap();
    for line in [
        "request completed status=200 duration_ms=12.5 path=/api/v1/orders",
        "user 42 logged in from 10.0.0.7",
        "cache miss for key orders:2026-11-30",
        "request_id=3f2b8c1e-8a1c-4f3e-9b7c-0f3e2b7c9d10",
        "payment processed amount=1299 currency=EUR",
    ] {
        assert_eq!(r.redact_text(line), line);
    }
}
