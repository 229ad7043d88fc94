//! Whether a value found after a sensitive name could be a secret: what a human would
//! leave alone (flags, masks, placeholders, references, code, paths, versions, and — under
//! a key that is not of the password family — words of prose).

use crate::pairs::AUTH_SCHEMES;

/// A value that is not a secret whatever its key says: a flag (`YES`, `true`, `null`), a
/// mask (`********`, `[hidden]`), a placeholder (`?`, `$1`, `:pw`, `%s`, `{}`) or a
/// reference to where the secret really is (`$VAR`, `${VAR}`, `%VAR%`, `{{ var }}`).
pub(crate) fn is_not_a_secret(v: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes",
        "no",
        "true",
        "false",
        "null",
        "none",
        "nil",
        "undefined",
        "empty",
        "on",
        "off",
        "ok",
        "n/a",
        "na",
        "unset",
        "required",
        "optional",
        "hidden",
        "redacted",
        "masked",
        "filtered",
        "removed",
        "omitted",
        "-",
    ];
    let b = v.as_bytes();
    // What a redactor already wrote (prodlog's `[REDACTED]`, `[REDACTED:3fa9c1d2]`,
    // `[REDACTED:last4=1234]`, others' `[FILTERED]`) and what a human masked by hand
    // (`sk_live_…4242`, `****1234`, `•••• 4242`): nothing left to hide.
    if v.starts_with("[REDACTED") || masked(v) || path(b) || version(b) {
        return true;
    }
    if b.is_empty()
        || WORDS
            .iter()
            .chain(AUTH_SCHEMES)
            .any(|w| w.eq_ignore_ascii_case(v))
    {
        return true;
    }
    // Masks: one repeated character, or a bracketed word.
    if b.len() >= 3
        && b.iter().all(|&c| c == b[0])
        && matches!(b[0], b'*' | b'x' | b'X' | b'.' | b'#')
    {
        return true;
    }
    if matches!(
        (b[0], b[b.len() - 1]),
        (b'[', b']') | (b'<', b'>') | (b'(', b')')
    ) && b[1..b.len() - 1]
        .iter()
        .all(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b' ' | b'-'))
    {
        return true;
    }
    // A variable's name, as scanners allow-list them: `DB_PASSWORD` or `db_password`
    // (a mixed-case word with digits after a `$` is a password that starts with `$`).
    let ident = |s: &[u8]| {
        !s.is_empty()
            && (s.iter().all(|c| c.is_ascii_uppercase() || *c == b'_')
                || s.iter().all(|c| c.is_ascii_lowercase() || *c == b'_'))
    };
    match b[0] {
        // SQL and format placeholders.
        b'?' => b.len() == 1 || b[1..].iter().all(u8::is_ascii_digit),
        b'$' => {
            b[1..].iter().all(u8::is_ascii_digit) && b.len() > 1
                || ident(&b[1..])
                || b[1..].starts_with(b"{")
        }
        b':' | b'@' => ident(&b[1..]),
        b'%' => {
            b.len() <= 4 || (b[b.len() - 1] == b'%' && ident(&b[1..b.len() - 1])) || b[1] == b'('
        }
        b'{' => true, // `{}`, `{0}`, `{{ var }}`: a template
        _ => placeholder(v) || code_reference(b),
    }
}

/// A file system path (`/work/main`, `./certs/key.pem`, `~/.ssh/id_ed25519`): where a
/// secret may be, not the secret.
fn path(b: &[u8]) -> bool {
    let rest = if let Some(r) = b.strip_prefix(b"~/") {
        r
    } else if let Some(r) = b.strip_prefix(b"./").or_else(|| b.strip_prefix(b"../")) {
        r
    } else if let Some(r) = b.strip_prefix(b"/") {
        r
    } else {
        return false;
    };
    !rest.is_empty()
        && rest[0] != b'/'
        && rest.iter().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'/' | b'.' | b'_' | b'-' | b'@' | b'+')
        })
}

/// A version (`1.2.3`, `v2.0.1-rc1`, `1:4.13+dfsg1-1+deb12u1`).
fn version(b: &[u8]) -> bool {
    let b = b.strip_prefix(b"v").unwrap_or(b);
    let epoch = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let b = if epoch > 0 && b.get(epoch) == Some(&b':') {
        &b[epoch + 1..]
    } else {
        b
    };
    let major = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let minor = b
        .get(major + 1..)
        .map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count());
    major > 0
        && major <= 4
        && b.get(major) == Some(&b'.')
        && minor > 0
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'~' | b'-' | b':'))
}

/// A value masked by hand: an ellipsis, or a run of three mask characters, with at most
/// four other characters of a secret's alphabet beside it (`sk_live_…4242`, `****1234`).
fn masked(v: &str) -> bool {
    const MASKS: &[&str] = &["…", "***", "•••", "●●●", "xxxx", "XXXX", "...."];
    if !MASKS.iter().any(|m| v.contains(m)) {
        return false;
    }
    let shown = v
        .split(['…', '*', '•', '●', '.', 'x', 'X'])
        .map(|part| part.rsplit(['_', '-']).next().unwrap_or(part))
        .map(str::len)
        .max()
        .unwrap_or(0);
    shown <= 4
}

/// A placeholder a human writes for a secret to come: `REPLACE_ME`, `YOUR_API_KEY`,
/// `<your-token>`, `changeme`, `insert-key-here`, `example`, `dummy`. Words only (letters
/// and joiners), at least one of them a placeholder word, or an upper-case snake name of
/// two words or more (a constant's or variable's name, not a value).
fn placeholder(v: &str) -> bool {
    /// Words that make a value a placeholder (`REPLACE_ME`, `your-token-here`); the first
    /// ones also do alone (`changeme`).
    const PLACEHOLDER: &[&str] = &[
        "your",
        "replace",
        "change",
        "changeme",
        "example",
        "sample",
        "placeholder",
        "here",
        "dummy",
        "fake",
        "insert",
        "enter",
        "todo",
        "tbd",
        "fixme",
        "xxx",
        "foo",
    ];
    const ALONE: usize = 8;
    /// Words that may stand beside them (`insert-key-here`).
    const BESIDE: &[&str] = &["secret", "password", "token", "key", "value", "test"];
    let b = v.as_bytes();
    if b.len() > 48
        || !b
            .iter()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, b'_' | b'-'))
    {
        return false;
    }
    let upper_snake = b.contains(&b'_')
        && b.iter().all(|c| c.is_ascii_uppercase() || *c == b'_')
        && b.split(|c| *c == b'_').filter(|w| !w.is_empty()).count() >= 2;
    let is = |list: &[&str], w: &str| list.iter().any(|p| p.eq_ignore_ascii_case(w));
    let words = || v.split(['_', '-']).filter(|w| !w.is_empty());
    let count = words().count();
    let placeholder_words = count >= 2
        && words().any(|w| is(PLACEHOLDER, w))
        && words().all(|w| is(PLACEHOLDER, w) || is(BESIDE, w) || w.len() <= 3);
    let alone = count == 1 && is(&PLACEHOLDER[..ALONE], v);
    upper_snake || placeholder_words || alone
}

/// Code, not a value: a call (`getAuthToken(`), a field path (`self.token`,
/// `req.headers.authorization`), a Java-style object reference (`SessionManager@3f2a1b`).
fn code_reference(b: &[u8]) -> bool {
    let ident = |s: &[u8]| {
        !s.is_empty()
            && !s[0].is_ascii_digit()
            && s.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    if let Some(name) = b.strip_suffix(b"(").or_else(|| b.strip_suffix(b"()")) {
        return name
            .split(|c| *c == b'.' || *c == b':')
            .all(|p| p.is_empty() || ident(p));
    }
    // A field path from an object a program holds its settings or request in
    // (`self.token`, `config.db.password`, `req.headers.authorization`).
    const ROOTS: &[&[u8]] = &[
        b"self",
        b"this",
        b"req",
        b"request",
        b"res",
        b"response",
        b"config",
        b"cfg",
        b"conf",
        b"ctx",
        b"context",
        b"env",
        b"settings",
        b"opts",
        b"options",
        b"params",
        b"args",
        b"state",
        b"secrets",
        b"process",
        b"os",
        b"app",
    ];
    let mut parts = b.split(|c| *c == b'.');
    let root = parts.next().unwrap_or_default();
    if b.contains(&b'.') && ROOTS.contains(&root) && parts.all(ident) {
        return true;
    }
    if let Some(at) = b.iter().position(|c| *c == b'@') {
        let (class, hash) = (&b[..at], &b[at + 1..]);
        return ident(class)
            && class[0].is_ascii_uppercase()
            && !hash.is_empty()
            && hash.len() <= 16
            && hash.iter().all(u8::is_ascii_hexdigit);
    }
    false
}

/// A key of the password family (a secret a human chose, of any length and shape).
pub(crate) fn password_family(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["pass", "pwd", "pin", "secret"]
        .iter()
        .any(|w| k.contains(w))
}

/// What is not a secret under a key that is not of the password family: a word of prose
/// (`PAT: Configuration`, `token: expired`: one case, letters only — a machine-issued
/// credential mixes cases or has digits). A password can be any word, so it stays taken.
pub(crate) fn not_a_secret_for(key: &str, v: &str) -> bool {
    let b = v.as_bytes();
    let word = !b.is_empty()
        && b.len() <= 24
        && b.iter().all(u8::is_ascii_alphabetic)
        && (b[1..].iter().all(u8::is_ascii_lowercase) || b.iter().all(u8::is_ascii_uppercase));
    word && !password_family(key)
}
