//! Grouping accuracy of `prodlog patterns --assign` on a labelled corpus generated here:
//! templates whose variables are of every class a log carries (numbers, hex, IPs with
//! ports, paths, URLs, durations, sizes, block- and container-style ids, UUIDs, words from
//! a vocabulary, `key=value` pairs, quoted strings), each line's true template known. The
//! metric is the log-parsing research's grouping accuracy (Zhu et al., ICSE-SEIP 2019):
//! a line counts when the lines grouped with it are exactly the lines of its template.

use std::collections::HashMap;
use std::io::Write as _;
use std::process::Command;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "oscar", "peggy", "trent", "victor", "walter",
];

fn value(kind: &str, r: &mut Rng) -> String {
    match kind {
        "n" => r.below(100_000).to_string(),
        "hex" => format!("{:x}", r.next() >> 20),
        "ip" => format!(
            "10.{}.{}.{}:{}",
            r.below(256),
            r.below(256),
            r.below(256),
            1024 + r.below(60_000)
        ),
        "path" => format!(
            "/var/lib/app/{}/part-{:05}.dat",
            WORDS[r.below(16) as usize],
            r.below(99_999)
        ),
        "url" => format!(
            "https://api.example.com/v2/orders/{}?page={}",
            r.below(9999),
            r.below(9)
        ),
        "dur" => format!("{}ms", r.below(5000)),
        "size" => format!("{}KB", r.below(4096)),
        "blk" => format!("blk_-{}", r.next() >> 4),
        "container" => format!(
            "container_{}_{:04}_01_{:06}",
            1_445_000_000_000u64 + r.below(1_000_000),
            r.below(9999),
            r.below(999_999)
        ),
        "uuid" => format!(
            "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
            r.next() as u32,
            r.below(65536),
            r.below(4096),
            r.below(4096),
            r.next() >> 16
        ),
        "word" => WORDS[r.below(WORDS.len() as u64) as usize].to_owned(),
        "kv" => format!("attempt={}", r.below(9)),
        "quoted" => format!("\"{}-{}\"", WORDS[r.below(16) as usize], r.below(999)),
        other => panic!("{other}"),
    }
}

/// The templates: constant words and `{kind}` slots.
const TEMPLATES: &[&str] = &[
    "Receiving block {blk} src: /{ip} dest: /{ip}",
    "PacketResponder {n} for block {blk} terminating",
    "Verification succeeded for {blk}",
    "Deleting block {blk} file {path}",
    "user {word} logged in from {ip}",
    "user {word} logged out after {dur}",
    "session opened for user {word} by (uid={n})",
    "Failed password for {word} from {ip} port {n} ssh2",
    "Accepted publickey for {word} from {ip} port {n} ssh2",
    "Connection closed by {ip} [preauth]",
    "GET {url} returned {n} in {dur}",
    "POST {url} failed: upstream timeout after {dur}",
    "cache miss for {quoted}",
    "cache hit for {quoted} size {size}",
    "Container {container} transitioned from RUNNING to COMPLETED",
    "Assigned container {container} to node {word}",
    "Stopping container {container} with exit code {n}",
    "payment {uuid} slow: {n} ms",
    "payment {uuid} settled amount={n} currency=EUR",
    "order {uuid} shipped to warehouse {word}",
    "retrying request {hex} {kv}",
    "worker {n} picked job {hex} from queue {word}",
    "compaction of {path} finished in {dur}, freed {size}",
    "checkpoint {n} written to {path}",
    "snapshot {hex} restored in {dur}",
    "heartbeat from {ip} late by {dur}",
    "leader elected: node {n} term {n}",
    "configuration reloaded from {path}",
    "disk usage at {n} percent on {path}",
    "rate limit exceeded for key {hex}",
    "TLS handshake with {ip} failed: certificate expired",
    "TLS handshake with {ip} completed in {dur}",
    "query took {dur} rows={n}",
    "transaction {hex} committed",
    "transaction {hex} rolled back: deadlock detected",
    "startup complete",
    "shutdown requested by signal {n}",
    "scheduled task {word} ran in {dur}",
    "uploaded {size} to {url}",
    "downloaded {size} from {url} in {dur}",
];

fn fill(template: &str, r: &mut Rng) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find('}').unwrap() + i;
        out.push_str(&value(&rest[i + 1..j], r));
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

/// Grouping accuracy of `predicted` against `truth` (one label each per line).
fn grouping_accuracy(truth: &[usize], predicted: &[String]) -> f64 {
    let mut by_truth: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut by_pred: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, (t, p)) in truth.iter().zip(predicted).enumerate() {
        by_truth.entry(*t).or_default().push(i);
        by_pred.entry(p.as_str()).or_default().push(i);
    }
    let correct = (0..truth.len())
        .filter(|&i| by_truth[&truth[i]] == by_pred[predicted[i].as_str()])
        .count();
    correct as f64 / truth.len() as f64
}

#[test]
fn grouping_accuracy_on_a_labelled_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corpus.log");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let mut truth = Vec::new();
    for i in 0..20_000u64 {
        let t = r.below(TEMPLATES.len() as u64) as usize;
        truth.push(t);
        let message = fill(TEMPLATES[t], &mut r);
        let line = serde_json::json!({
            "timestamp": format!("2026-12-08T10:{:02}:{:02}.000000Z", i / 60 % 60, i % 60),
            "level": "INFO",
            "target": "corpus",
            "message": message,
        });
        writeln!(f, "{line}").unwrap();
    }
    drop(f);
    let out = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args(["patterns", "--assign"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let first = String::from_utf8(out.stdout).unwrap();
    let predicted: Vec<String> = first
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["template_id"].as_str().unwrap_or("none").to_owned()
        })
        .collect();
    assert_eq!(
        predicted.len(),
        truth.len(),
        "one answer per line, in order"
    );
    let ga = grouping_accuracy(&truth, &predicted);
    let templates: std::collections::HashSet<&String> = predicted.iter().collect();
    println!(
        "  grouping accuracy {ga:.3} on 20,000 lines of {} templates ({} found)",
        TEMPLATES.len(),
        templates.len()
    );
    assert!(ga >= 0.9, "grouping accuracy {ga:.3}");
    // Stable ids: the same input gives the same ids.
    let again = Command::new(env!("CARGO_BIN_EXE_prodlog"))
        .args(["patterns", "--assign"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        again.stdout == first.as_bytes(),
        "the same ids on a second run"
    );
}
