//! Records as coloured human lines, with every control character shown, never obeyed.

use std::fmt::Write as _;

use crate::record::Record;

/// ANSI colours on or off.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Style {
    pub(crate) ansi: bool,
}

impl Style {
    pub(crate) fn paint(&self, out: &mut String, code: &str, text: &str) {
        if self.ansi {
            let _ = write!(out, "\x1b[{code}m");
            escape_into(out, text);
            out.push_str("\x1b[0m");
        } else {
            escape_into(out, text);
        }
    }

    pub(crate) fn level_code(level: &str) -> &'static str {
        match level {
            "CRITICAL" => "1;41",
            "ERROR" => "1;31",
            "WARN" => "33",
            "INFO" => "32",
            "DEBUG" => "34",
            _ => "2",
        }
    }
}

/// `text` with control characters, DEL, C1 controls and the Unicode line separators and
/// direction overrides written as escapes: a value can neither move the cursor nor start
/// a line that looks like another entry.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    // Printable ASCII (most text) needs nothing: copied at once.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control()
                || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{feff}') =>
            {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// A JSON line for `--json` output: what a terminal would obey (control characters,
/// DEL, C1 controls, line separators, direction overrides, zero-width characters) is
/// written as the JSON escape `\uXXXX`. A valid line stays valid and means the same; a
/// file's raw escape bytes never reach the terminal.
pub(crate) fn json_escape_into(out: &mut String, line: &str) {
    if line.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        out.push_str(line);
        return;
    }
    for c in line.chars() {
        if c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{feff}')
        {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
}

/// `TIME LEVEL target: message key=value …` (the console's layout).
pub(crate) fn line(out: &mut String, r: &Record, style: Style) {
    let time = r.time.as_str();
    style.paint(out, "2", time);
    out.push(' ');
    let level = match r.level.as_str() {
        "INFO" => "INFO ",
        "WARN" => "WARN ",
        other => other,
    };
    style.paint(out, Style::level_code(&r.level), level);
    out.push(' ');
    if !r.target.is_empty() {
        style.paint(out, "2", &r.target);
        out.push_str(": ");
    }
    escape_into(out, &r.message);
    for (k, v) in &r.fields {
        out.push(' ');
        style.paint(out, "3", k);
        out.push('=');
        match v {
            serde_json::Value::String(s) => escape_into(out, s),
            serde_json::Value::Number(n) => {
                let _ = write!(out, "{n}");
            }
            serde_json::Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            other => escape_into(out, &other.to_string()),
        }
    }
    if let Some(span) = &r.span {
        out.push(' ');
        if style.ansi {
            out.push_str("\x1b[2m");
        }
        out.push('[');
        escape_into(out, span);
        out.push(']');
        if style.ansi {
            out.push_str("\x1b[0m");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_values_are_shown_not_obeyed() {
        let r = Record::parse(
            r#"{"timestamp":"t","level":"INFO","target":"a","message":"x\u001b[2Jy\nINFO forged","k":"\u202e"}"#,
        )
        .unwrap();
        let mut s = String::new();
        line(&mut s, &r, Style { ansi: false });
        assert!(
            !s.contains('\x1b') && !s.contains('\n') && !s.contains('\u{202e}'),
            "{s}"
        );
        assert!(s.contains("x\\u{1b}[2Jy\\nINFO forged"), "{s}");
    }
}
