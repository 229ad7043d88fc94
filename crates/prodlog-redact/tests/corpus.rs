//! The redaction corpora through [`Redactor`] directly: prodlog's own cases
//! (`tests/corpus/corpus.jsonl`, hundreds of secrets per format and spelling plus look-alikes)
//! and, when present, the shared external set taken from public secret scanners. The same
//! files also run end to end through `prodlog::init()` (the workspace's `tests/redaction`).

use std::path::Path;

use prodlog_redact::Redactor;
use serde_json::Value;

struct Score {
    secrets: usize,
    leaked: Vec<String>,
    innocents: usize,
    altered: Vec<String>,
}

fn score(path: &Path) -> Option<Score> {
    let text = std::fs::read_to_string(path).ok()?;
    let r = Redactor::default();
    let mut s = Score {
        secrets: 0,
        leaked: Vec::new(),
        innocents: 0,
        altered: Vec::new(),
    };
    for line in text.lines() {
        let case: Value = serde_json::from_str(line).expect("a JSON case");
        let value = case["value"].as_str().unwrap();
        let out = match case["field"].as_str() {
            Some(field) if case["where"] == "field" => r.redact_field(field, value),
            _ => r.redact_text(value),
        };
        let id = case["id"].as_str().unwrap();
        if case["kind"] == "secret" {
            s.secrets += 1;
            if out.contains(case["secret"].as_str().unwrap()) {
                s.leaked.push(format!("{id}: {value:?} -> {out:?}"));
            }
        } else {
            s.innocents += 1;
            if out != value {
                s.altered.push(format!("{id}: {value:?} -> {out:?}"));
            }
        }
    }
    Some(s)
}

#[test]
fn own_corpus_every_secret_removed_every_innocent_intact() {
    let s = score(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/corpus.jsonl"))
        .expect("the corpus is part of the crate");
    assert!(
        s.secrets >= 300 && s.innocents >= 150,
        "a corpus of hundreds of cases"
    );
    assert!(s.leaked.is_empty(), "leaked:\n{}", s.leaked.join("\n"));
    assert!(s.altered.is_empty(), "altered:\n{}", s.altered.join("\n"));
}

#[test]
fn external_conformance_set() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/redact-cases/external.jsonl");
    let Some(s) = score(&path) else {
        eprintln!("skipped: {} is absent", path.display());
        return;
    };
    eprintln!(
        "external: {}/{} secrets removed, {}/{} innocents intact",
        s.secrets - s.leaked.len(),
        s.secrets,
        s.innocents - s.altered.len(),
        s.innocents
    );
    assert!(s.leaked.is_empty(), "leaked:\n{}", s.leaked.join("\n"));
    assert!(
        s.altered.len() * 100 <= s.innocents,
        "more than 1% altered:\n{}",
        s.altered.join("\n")
    );
}
