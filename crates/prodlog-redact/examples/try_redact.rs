//! Reads lines on stdin and shows what the default redactor changes (a development aid).
fn main() {
    let r = prodlog_redact::Redactor::default();
    for line in std::io::stdin().lines() {
        let line = line.unwrap();
        let out = r.redact_text(&line);
        if out != line {
            println!("CHANGED: {line}\n     -> {out}");
        } else {
            println!("same:    {line}");
        }
    }
}
