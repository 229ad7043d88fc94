//! `key = value` pairs in free text, found from the positions where the prefilter saw a
//! secret noun: the key around each hit is read by hand, and only a sensitive key's value
//! is parsed. Reading by hand instead of running a capturing regex over every pair keeps a
//! JSON line with ten innocent keys at the cost of one scan.

use crate::values::{is_not_a_secret, not_a_secret_for, password_family};

/// Authorization schemes: the word after them is the credential, and alone they are none
/// (`auth: bearer`, `Authorization: Bearer`).
pub(crate) const AUTH_SCHEMES: &[&str] =
    &["bearer", "basic", "digest", "token", "negotiate", "ntlm"];

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// The byte range of a value that starts at `at` (after the separator), if any:
/// `\"…\"` (escaped JSON), `"…"`, `'…'`, or a bare token (after an optional auth scheme).
fn value_at(b: &[u8], mut at: usize) -> Option<(usize, usize)> {
    if b[at..].starts_with(b"Some(") {
        // `{:#?}` puts the value on a line of its own: `Some(\n    "…",\n)`.
        at += 5;
        while at < b.len() && b[at].is_ascii_whitespace() {
            at += 1;
        }
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
                b'\n' | b'\r' => break,
                b'\\' if q == b'"' => i += 2,
                _ => i += 1,
            }
        }
        // A quote never closed (a line cut short, a hand-made message): the word after it.
        return bare(b, start);
    }
    // `Bearer abc`, `Basic abc`, `Digest …`, `Token …`: the credential is the word after.
    for scheme in AUTH_SCHEMES.iter().map(|s| s.as_bytes()) {
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
    bare(b, at)
}

/// The bare token at `at`: up to a blank, a quote or punctuation that ends a value. A
/// value that opens a bracket (`(sensitive value)`, `[hidden]`, `<your token>`) is read to
/// its closing bracket on the same line, so a mask or a placeholder with a blank in it is
/// judged whole (and left whole) rather than cut at the blank.
fn bare(b: &[u8], at: usize) -> Option<(usize, usize)> {
    if let Some(close) = b.get(at).and_then(|&c| match c {
        b'(' => Some(b')'),
        b'[' => Some(b']'),
        b'<' => Some(b'>'),
        _ => None,
    }) {
        let inner = &b[at + 1..b.len().min(at + 1 + 64)];
        if let Some(n) = inner.iter().position(|&c| c == close || c == b'\n') {
            if inner[n] == close {
                return Some((at, at + n + 2));
            }
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
    // Where the last key looked at (or the value found after it) ends: a hit before it is
    // inside what was read already. Skipping it keeps the work linear — a 2 MB token full
    // of prefilter hits is read once, not once per hit (measured: 80 KB of `c…c=x` took
    // 2.8 s before, 0.2 ms after).
    let mut read_to = 0;
    for &hit in hits {
        if hit < read_to {
            continue;
        }
        let mut start = hit;
        while start > 0 && is_key_byte(b[start - 1]) {
            start -= 1;
        }
        // `--password=…`, `-Ddb.password=…`: the dashes and a `-D` introduce the key.
        while start < hit && matches!(b[start], b'-' | b'.') {
            start += 1;
        }
        if start == last_key {
            continue;
        }
        last_key = start;
        let mut end = hit;
        while end < b.len() && is_key_byte(b[end]) {
            end += 1;
        }
        read_to = end;
        // A key starts with a letter or `_` (or a digit, when letters follow: `1password_…`).
        if start == end
            || !(b[start].is_ascii_alphabetic()
                || b[start] == b'_'
                || (b[start].is_ascii_digit() && b[start..end].iter().any(u8::is_ascii_alphabetic)))
        {
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
        // `unseal key 1: …`: a number between a key and its separator.
        if i > end && i < b.len() && b[i].is_ascii_digit() {
            let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            if b.get(i + digits) == Some(&b':') {
                i += digits;
            }
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
            // Prose: `login with password Hunter2x`, `the token is 8f3ac2e9d1b7`: no
            // separator, so only a word that reads like a credential counts.
            // `api key`, `access token`: the word before, with it.
            let key_start = match prev_word_start(b, start) {
                Some(s) if !strong_noun(&text[start..end]) => s,
                _ => start,
            };
            let key = &text[key_start..end];
            // A word of its own (`prod/db/password version=3` is a path, then a pair).
            let standalone = key_start == 0 || b[key_start - 1].is_ascii_whitespace();
            if standalone && i > end && i < b.len() && strong_noun(key) && sensitive(key) {
                let mut v = i;
                for verb in [&b"is"[..], b"was", b"of"] {
                    if b[v..].starts_with(verb)
                        && b.get(v + verb.len())
                            .is_some_and(|c| matches!(c, b' ' | b':' | b'='))
                    {
                        v += verb.len();
                    }
                }
                // `the password is: …`, `api key is = …`: the verb then a separator says
                // what follows is the value, as `key: value` does.
                let mut blanks = b[v..].iter().take_while(|&&c| c == b' ').count();
                let separated = matches!(b.get(v + blanks), Some(b':' | b'='));
                if separated {
                    v += blanks + 1;
                    blanks = b[v..].iter().take_while(|&&c| c == b' ').count();
                }
                v += blanks;
                if let Some((vs, ve)) = (v < b.len()).then(|| value_at(b, v)).flatten() {
                    if separated || looks_like_a_credential(&b[vs..ve]) {
                        push_value(text, key, vs, ve, out);
                        read_to = read_to.max(ve);
                    }
                }
            }
            continue;
        };
        // `auth:user:291326`, `token:refresh`, `/api/auth:login`, `…:secret:orders/db-…`:
        // a colon with nothing after it joins the parts of a name, not a key to its value.
        let compact = sep == 1
            && b[i] == b':'
            && b.get(i + 1)
                .is_some_and(|c| !matches!(c, b' ' | b'\t' | b'"' | b'\'' | b'\\'));
        if compact && start > 0 && matches!(b[start - 1], b':' | b'/') {
            continue;
        }
        i += sep;
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i >= b.len()
            || !(sensitive(&text[start..end]) || two_words(text, start, end, &sensitive))
        {
            continue;
        }
        // `{"x-api-key": ["…", "…"]}`: every string of the array.
        if b[i] == b'['
            && b.get(i + 1)
                .is_some_and(|c| matches!(c, b'"' | b'\'' | b' '))
        {
            let mut j = i + 1;
            while j < b.len() && b[j] != b']' {
                if matches!(b[j], b'"' | b'\'') {
                    if let Some((vs, ve)) = value_at(b, j) {
                        push_value(text, &text[start..end], vs, ve, out);
                        read_to = read_to.max(ve);
                        j = ve + 1;
                        continue;
                    }
                }
                j += 1;
            }
            continue;
        }
        if let Some((vs, ve)) = value_at(b, i) {
            let value = &b[vs..ve];
            let first = value
                .split(|c| matches!(c, b':' | b'/'))
                .next()
                .unwrap_or(value);
            if compact
                && first
                    .iter()
                    .all(|c| c.is_ascii_lowercase() || matches!(c, b'_' | b'-'))
            {
                continue; // `token:refresh`, `auth:user:291326`
            }
            if plural_count(&text[start..end]) && value.iter().all(u8::is_ascii_digit) {
                continue; // `max_tokens=4096`
            }
            // `python3-jwt:amd64`, `session:abc1`: a name joined by a colon to a short
            // lower-case word is no machine-issued credential (a password still is).
            if compact
                && value.len() < 12
                && value
                    .iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && !password_family(&text[start..end])
            {
                continue;
            }
            push_value(text, &text[start..end], vs, ve, out);
            read_to = read_to.max(ve);
        }
    }
}

/// Pushes a value's range unless it is not a secret (see [`is_not_a_secret`]), already
/// redacted, or only the JSON punctuation that ends an enclosing string (`"a=","b":…`).
fn push_value(text: &str, key: &str, vs: usize, ve: usize, out: &mut Vec<(usize, usize)>) {
    if ve <= vs || !text.is_char_boundary(vs) || !text.is_char_boundary(ve) {
        return;
    }
    let b = text.as_bytes();
    // `[hidden]`, `<redacted>`: the closing bracket ended the bare value.
    let closed = matches!(
        (b[vs], b.get(ve)),
        (b'[', Some(b']')) | (b'<', Some(b'>')) | (b'(', Some(b')'))
    );
    let v = &text[vs..ve + usize::from(closed)];
    let redacted =
        text[vs..].starts_with("[REDACTED") || v.bytes().all(|c| b",:{}[] ".contains(&c));
    if !redacted && !is_not_a_secret(v) && !not_a_secret_for(key, v) {
        out.push((vs, ve));
    }
}

/// Keys that name the credential itself (not an IBAN, a PIN or a card, whose own rules
/// check their values): the only ones a bare word after them is taken for.
fn strong_noun(key: &str) -> bool {
    let k = key.as_bytes();
    [
        &b"password"[..],
        b"passwd",
        b"pwd",
        b"passphrase",
        b"passcode",
        b"secret",
        b"token",
        b"apikey",
        b"api_key",
        b"api key",
        b"credential",
        b"credentials",
    ]
    .iter()
    .any(|n| k.len() >= n.len() && k[k.len() - n.len()..].eq_ignore_ascii_case(n))
}

/// A word that reads like a credential rather than prose: at least 8 characters, letters and
/// digits both, nothing that makes it a path, a date or a number.
fn looks_like_a_credential(v: &[u8]) -> bool {
    v.len() >= 8
        && v.iter().any(u8::is_ascii_digit)
        && v.iter().any(u8::is_ascii_alphabetic)
        && v.iter()
            .all(|c| c.is_ascii_graphic() && !matches!(c, b'/' | b':' | b'.' | b',' | b'='))
}

/// A key whose last word is a plural noun (`max_tokens`, `secrets`): with a number, a count.
fn plural_count(key: &str) -> bool {
    let lower = key.as_bytes();
    [
        "tokens",
        "secrets",
        "passwords",
        "keys",
        "credentials",
        "cookies",
    ]
    .iter()
    .any(|p| {
        lower.len() >= p.len() && lower[lower.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes())
    })
}

/// `preshared key`, `unseal key`, `api token`: the word before the key, with it.
fn two_words(text: &str, start: usize, end: usize, sensitive: &impl Fn(&str) -> bool) -> bool {
    prev_word_start(text.as_bytes(), start).is_some_and(|s| sensitive(&text[s..end]))
}

/// Where the word before `start` (separated by one space) begins, if there is one.
fn prev_word_start(b: &[u8], start: usize) -> Option<usize> {
    if start < 2 || b[start - 1] != b' ' {
        return None;
    }
    let mut s = start - 1;
    while s > 0 && b[s - 1].is_ascii_alphanumeric() {
        s -= 1;
    }
    (s < start - 1).then_some(s)
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
        assert_eq!(values("login with password Hunter2x ok"), ["Hunter2x"]);
        assert_eq!(values("the password is s3cretPass1"), ["s3cretPass1"]);
        assert!(values("password reset requested for user 42").is_empty());
        assert!(values("password is incorrect").is_empty());
        assert!(values("password policy v2 applied").is_empty());
        assert!(values("secret_name=prod/db/password version=3").is_empty());
    }
}
