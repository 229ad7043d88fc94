//! Escaping for the two outputs: JSON strings and console text.
//!
//! Both scan bytes and copy clean runs in one `push_str`, so the common case (nothing to
//! escape) is a scan plus a memcpy.

use std::fmt::{self, Write};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// What a byte needs in a JSON string: 0 = copy, b'u' = `\u00XX`, else the escape letter.
static JSON_ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[b'\n' as usize] = b'n';
    t[b'\r' as usize] = b'r';
    t[b'\t' as usize] = b't';
    t[0x08] = b'b';
    t[0x0c] = b'f';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    // U+2028 / U+2029 start with 0xE2; checked in full below.
    t[0xE2] = b'?';
    t
};

/// Could any byte of this 8-byte word need escaping in JSON? (Exact for ASCII; any
/// non-ASCII byte also answers yes, and the byte loop then looks closer.)
#[inline(always)]
fn word_may_need_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let q = w ^ (LO * b'"' as u64);
    let quote = q.wrapping_sub(LO) & !q;
    let b = w ^ (LO * b'\\' as u64);
    let backslash = b.wrapping_sub(LO) & !b;
    ((control | quote | backslash) & HI | w & HI) != 0
}

/// The index of the first byte at or after `i` that may need escaping (or `bytes.len()`).
#[inline]
fn find_special(bytes: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if word_may_need_escape(u64::from_le_bytes(word)) {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && JSON_ESCAPE[bytes[i] as usize] == 0 {
        i += 1;
    }
    i
}

/// Appends `s` escaped for the inside of a JSON string (no surrounding quotes).
///
/// Escapes `"`, `\`, every control character below U+0020 and the JavaScript line
/// terminators U+2028 / U+2029, so a line stays one valid JSON line whatever `s` holds.
/// Clean runs are found eight bytes at a time and copied with one `push_str`.
#[inline]
pub(crate) fn json_escape_into(buf: &mut String, s: &str) {
    let first = find_special(s.as_bytes(), 0);
    if first == s.len() {
        buf.push_str(s);
    } else {
        json_escape_from(buf, s, first);
    }
}

/// The escaping loop, from the first byte that may need it.
#[inline(never)]
fn json_escape_from(buf: &mut String, s: &str, mut i: usize) {
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(&b) = bytes.get(i) {
        let esc = JSON_ESCAPE[b as usize];
        if esc == b'?' {
            // U+2028 = E2 80 A8, U+2029 = E2 80 A9; any other E2 sequence is copied.
            if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)) {
                buf.push_str(&s[start..i]);
                buf.push_str(if bytes[i + 2] == 0xA8 {
                    "\\u2028"
                } else {
                    "\\u2029"
                });
                i += 3;
                start = i;
            } else {
                i += 1;
            }
            i = find_special(bytes, i);
            continue;
        }
        buf.push_str(&s[start..i]);
        if esc == b'u' {
            buf.push_str("\\u00");
            buf.push(HEX[(b >> 4) as usize] as char);
            buf.push(HEX[(b & 0xF) as usize] as char);
        } else {
            buf.push('\\');
            buf.push(esc as char);
        }
        i += 1;
        start = i;
        i = find_special(bytes, i);
    }
    buf.push_str(&s[start..]);
}

/// Appends `s` as a quoted JSON string.
pub(crate) fn json_str(buf: &mut String, s: &str) {
    buf.push('"');
    json_escape_into(buf, s);
    buf.push('"');
}

/// Appends bytes as a JSON string, decoding invalid UTF-8 lossily (U+FFFD) without allocating.
pub(crate) fn json_bytes(buf: &mut String, bytes: &[u8]) {
    buf.push('"');
    for chunk in bytes.utf8_chunks() {
        json_escape_into(buf, chunk.valid());
        if !chunk.invalid().is_empty() {
            buf.push('\u{FFFD}');
        }
    }
    buf.push('"');
}

/// A `fmt::Write` that JSON-escapes what `Debug`/`Display` implementations write.
pub(crate) struct JsonEscaper<'a>(pub(crate) &'a mut String);

impl Write for JsonEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        json_escape_into(self.0, s);
        Ok(())
    }
}

/// Is `c` something a terminal would act on or a reader would take for a line break?
///
/// C0 controls (newline, carriage return, ESC, …), DEL, C1 controls (U+0080–U+009F, which
/// include the 8-bit CSI), the Unicode line/paragraph separators and the bidirectional
/// overrides used in "trojan source" tricks.
///
/// Also every other invisible formatting character that changes how a line reads: the
/// direction marks (U+200E, U+200F, U+061C), zero-width characters (U+200B–U+200D,
/// U+2060–U+2064, U+FEFF) and the deprecated format characters U+206A–U+206F.
fn console_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}'
        | '\u{206a}'..='\u{206f}' | '\u{feff}')
}

/// Appends `s` for a terminal or a plain-text file: control characters and escape sequences
/// come out as visible escapes (`\n`, `\x1b`, `\u{2028}`), so a value can never start a second
/// line or drive the terminal. With `quote_chars`, `"` and `\` are escaped too (for quoted values).
pub(crate) fn console_escape_into(buf: &mut String, s: &str, quote_chars: bool) {
    let bytes = s.as_bytes();
    // Fast path: printable ASCII and ordinary multi-byte text.
    let needs = bytes.iter().any(|&b| {
        b < 0x20
            || b == 0x7f
            || (0xC2..=0xE2).contains(&b)
            || b == 0xEF
            || quote_chars && (b == b'"' || b == b'\\')
    });
    if !needs {
        buf.push_str(s);
        return;
    }
    for c in s.chars() {
        match c {
            '\n' => buf.push_str("\\n"),
            '\r' => buf.push_str("\\r"),
            '\t' => buf.push_str("\\t"),
            '"' | '\\' if quote_chars => {
                buf.push('\\');
                buf.push(c);
            }
            c if console_unsafe(c) => {
                let n = c as u32;
                if n < 0x80 {
                    buf.push_str("\\x");
                    buf.push(HEX[(n >> 4) as usize] as char);
                    buf.push(HEX[(n & 0xF) as usize] as char);
                } else {
                    let _ = write!(buf, "\\u{{{n:x}}}");
                }
            }
            c => buf.push(c),
        }
    }
}

/// Does a console string value need quotes to read as one `key=value` token?
pub(crate) fn console_needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.bytes().any(|b| {
            b <= b' '
                || b == b'"'
                || b == b'='
                || b == b'\\'
                || b == 0x7f
                || (0xC2..=0xE2).contains(&b)
                || b == 0xEF
        })
}

/// A `fmt::Write` that console-escapes what `Debug`/`Display` implementations write.
pub(crate) struct ConsoleEscaper<'a>(pub(crate) &'a mut String);

impl Write for ConsoleEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        console_escape_into(self.0, s, false);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn j(s: &str) -> String {
        let mut b = String::new();
        json_str(&mut b, s);
        b
    }

    #[test]
    fn json_escapes_round_trip() {
        for s in [
            "plain",
            "q\"uo\\te",
            "new\nline\r\t",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "sep\u{2028}par\u{2029}end",
            "\u{2026}\u{20ac} ok",
            "\u{1b}[31mred",
            "",
        ] {
            let out = j(s);
            assert!(!out.contains('\n') && !out.contains('\u{2028}'), "{out}");
            let back: String = serde_json::from_str(&out).unwrap();
            assert_eq!(back, s);
        }
        assert_eq!(j("a\u{2028}"), "\"a\\u2028\"");
    }

    #[test]
    fn lossy_bytes() {
        let mut b = String::new();
        json_bytes(&mut b, b"ok\xff\xfe\"x");
        let back: String = serde_json::from_str(&b).unwrap();
        assert_eq!(back, "ok\u{FFFD}\u{FFFD}\"x");
    }

    #[test]
    fn console_escapes_controls() {
        let mut b = String::new();
        console_escape_into(&mut b, "a\nb\u{1b}[2J\u{9b}c\u{202e}d \u{e9}", false);
        assert_eq!(b, "a\\nb\\x1b[2J\\u{9b}c\\u{202e}d \u{e9}");
        for mark in [
            '\u{200e}', '\u{200f}', '\u{61c}', '\u{200b}', '\u{feff}', '\u{2066}',
        ] {
            let mut b = String::new();
            console_escape_into(&mut b, &format!("x{mark}y"), false);
            assert_eq!(b, format!("x\\u{{{:x}}}y", mark as u32), "{mark:?}");
        }
        let mut b = String::new();
        console_escape_into(&mut b, "ｆｕｌｌ ｗｉｄｔｈ", false);
        assert_eq!(b, "ｆｕｌｌ ｗｉｄｔｈ", "visible text stays");
        assert!(console_needs_quotes("a b"));
        assert!(!console_needs_quotes("abc"));
    }
}
