//! What replaces a secret, and what text is already a replacement: the markers the
//! redactor writes must never be taken for a secret again (by a second redaction or by
//! an audit of prodlog's own output).

use std::hash::{BuildHasher, RandomState};

use crate::redactor::{Replacement, REDACTED};

/// Whether `at` starts a word of its own: not after a letter or digit, nor after a `_`
/// or `-` that joins it to one (inside a compound token).
pub(crate) fn word_start(b: &[u8], at: usize) -> bool {
    match at.checked_sub(1).map(|i| b[i]) {
        None => true,
        Some(c) if c.is_ascii_alphanumeric() => false,
        Some(b'_' | b'-') => !(at >= 2 && b[at - 2].is_ascii_alphanumeric()),
        Some(_) => true,
    }
}

/// A span that holds nothing but a redaction marker (`[REDACTED]`, `[REDACTED:3fa9c1d2]`,
/// `[REDACTED:last4=1234]`), after an optional authorization scheme.
pub(crate) fn already_redacted(span: &str) -> bool {
    let mut s = span.trim();
    if let Some((scheme, rest)) = s.split_once(' ') {
        if crate::pairs::AUTH_SCHEMES
            .iter()
            .any(|w| w.eq_ignore_ascii_case(scheme))
        {
            s = rest.trim_start();
        }
    }
    s.strip_prefix("[REDACTED")
        .and_then(|r| r.strip_suffix(']'))
        .is_some_and(|inner| {
            inner.is_empty()
                || (inner.starts_with(':') && !inner.contains([']', '[']) && inner.len() <= 24)
        })
}

/// Appends the replacement of `secret`.
pub(crate) fn replace(
    out: &mut String,
    replacement: Replacement,
    secret: &str,
    digits_only: bool,
    hasher: &RandomState,
) {
    match replacement {
        Replacement::Redacted => out.push_str(REDACTED),
        Replacement::KeyedHash => {
            let h = hasher.hash_one(secret);
            out.push_str(&format!("[REDACTED:{:08x}]", h >> 32));
        }
        Replacement::KeepLast(n) => {
            let kept: Vec<char> = secret
                .chars()
                .filter(|c| !digits_only || c.is_ascii_digit())
                .collect();
            let n = usize::from(n);
            // Never show more than a third of a secret.
            if n == 0 || kept.len() < n * 3 {
                out.push_str(REDACTED);
                return;
            }
            out.push_str(&format!("[REDACTED:last{n}="));
            out.extend(&kept[kept.len() - n..]);
            out.push(']');
        }
    }
}
