//! `key = value` pairs in free text, found from the positions where the prefilter saw a
//! secret noun: the key around each hit is read by hand, and only a sensitive key's value
//! is parsed. Reading by hand instead of running a capturing regex over every pair keeps a
//! JSON line with ten innocent keys at the cost of one scan.

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The byte range of a value that starts at `at` (after the separator), if any:
/// `\"…\"` (escaped JSON), `"…"`, `'…'`, or a bare token (after an optional auth scheme).
fn value_at(b: &[u8], mut at: usize) -> Option<(usize, usize)> {
    if b[at..].starts_with(b"Some(") {
        at += 5;
    }
    // `\"…\"` (JSON inside a JSON string), `\\\"…\\\"` (inside that again in a log
    // line), …: the value ends at the same run of backslashes before a quote.
    let slashes = b[at..].iter().take_while(|&&c| c == b'\\').count();
    if slashes > 0 && b.get(at + slashes) == Some(&b'"') {
        let start = at + slashes + 1;
        let mut i = start;
        while i < b.len() {
            match b[i] {
                b'\n' | b'\r' => return None,
                b'\\' => {
                    let run = b[i..].iter().take_while(|&&c| c == b'\\').count();
                    if run == slashes && b.get(i + run) == Some(&b'"') {
                        return Some((start, i));
                    }
                    i += run.max(1) + usize::from(run > slashes);
                }
                _ => i += 1,
            }
        }
        return None;
    }
    if let Some(&q) = b.get(at).filter(|&&q| q == b'"' || q == b'\'') {
        let start = at + 1;
        let mut i = start;
        while i < b.len() {
            match b[i] {
                c if c == q => return Some((start, i)),
                b'\n' | b'\r' => return None,
                b'\\' if q == b'"' => i += 2,
                _ => i += 1,
            }
        }
        return None;
    }
    // `Bearer abc`, `Basic abc`, `Digest …`, `Token …`: the credential is the word after.
    for scheme in [&b"bearer"[..], b"basic", b"digest", b"token"] {
        let end = at + scheme.len();
        if b.len() > end
            && b[at..end].eq_ignore_ascii_case(scheme)
            && (b[end] == b' ' || b[end] == b'\t')
        {
            at = end;
            while at < b.len() && (b[at] == b' ' || b[at] == b'\t') {
                at += 1;
            }
            break;
        }
    }
    let end = b[at..]
        .iter()
        .position(|&c| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'"' | b'\'' | b',' | b';' | b'&' | b'}' | b']' | b')' | b'<' | b'>' | b'\\'
                )
        })
        .map_or(b.len(), |n| at + n);
    (end > at).then_some((at, end))
}

/// For each prefilter hit, the value of the pair whose key contains it, when the key is
/// sensitive. Ranges are pushed to `out`, each key considered once.
pub(crate) fn find_pairs(
    text: &str,
    hits: &[usize],
    sensitive: impl Fn(&str) -> bool,
    out: &mut Vec<(usize, usize)>,
) {
    let b = text.as_bytes();
    let mut last_key = usize::MAX;
    for &hit in hits {
        let mut start = hit;
        while start > 0 && is_key_byte(b[start - 1]) {
            start -= 1;
        }
        if start == last_key {
            continue;
        }
        last_key = start;
        let mut end = hit;
        while end < b.len() && is_key_byte(b[end]) {
            end += 1;
        }
        // A key starts with a letter or `_`.
        if start == end || !(b[start].is_ascii_alphabetic() || b[start] == b'_') {
            continue;
        }
        let mut i = end;
        // The key's closing quote, escaped (any number of times) or not.
        let slashes = b[i..].iter().take_while(|&&c| c == b'\\').count();
        if b.get(i + slashes).is_some_and(|&q| q == b'"' || q == b'\'') {
            i += slashes + 1;
        }
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        // `auth::password::check`, `core::pin::Pin`: a path segment, not a key.
        if b[i..].starts_with(b"::") {
            continue;
        }
        let sep = if b[i..].starts_with(b"=>") || b[i..].starts_with(b":=") {
            2
        } else if i < b.len() && (b[i] == b'=' || b[i] == b':') {
            1
        } else {
            continue;
        };
        i += sep;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len() || !sensitive(&text[start..end]) {
            continue;
        }
        if let Some((vs, ve)) = value_at(b, i) {
            // Already redacted (plain or keyed-hash form): nothing to do. A "value" of only
            // JSON punctuation is the end of an enclosing JSON string (`"a=","b":…`).
            let redacted = text[vs..].starts_with("[REDACTED")
                || b[vs..ve].iter().all(|c| b",:{}[] ".contains(c));
            if ve > vs && !redacted && text.is_char_boundary(vs) && text.is_char_boundary(ve) {
                out.push((vs, ve));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::find_pairs;

    fn values(text: &str) -> Vec<&str> {
        let hits: Vec<usize> = text.match_indices("pass").map(|(i, _)| i).collect();
        let mut out = Vec::new();
        find_pairs(
            text,
            &hits,
            |k| k.to_ascii_lowercase().ends_with("password"),
            &mut out,
        );
        out.iter().map(|&(s, e)| &text[s..e]).collect()
    }

    #[test]
    fn every_syntax() {
        assert_eq!(values("password=hunter2 user=a"), ["hunter2"]);
        assert_eq!(values(r#"{"db_password": "a b c"}"#), ["a b c"]);
        assert_eq!(values(r#"{\"password\":\"x\\y\"}"#), [r"x\\y"]);
        assert_eq!(values(r#"{\\\"password\\\":\\\"deep\\\"}"#), ["deep"]);
        assert_eq!(values("password => 'q'"), ["q"]);
        assert_eq!(values("Config { password: Some(\"s\") }"), ["s"]);
        assert_eq!(values("user:password=hunter2"), ["hunter2"]);
        assert_eq!(values("password: Bearer abc.def"), ["abc.def"]);
        assert!(values("password reset requested").is_empty());
        assert!(values("password=\nnext").is_empty());
        assert!(values("password=[REDACTED]").is_empty());
        assert!(values(r#"{"message":"PASSWORD=","target":"x"}"#).is_empty());
        assert!(values("app::auth::password::check (src/auth.rs:10:5)").is_empty());
    }
}
