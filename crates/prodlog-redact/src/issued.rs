//! Machine-issued tokens by their shape, whatever their vendor: a lower-case prefix
//! (`acme_live_`, `xyz-pat-`), a separator, and a random body — judged by the body's
//! character classes, length and entropy, and by what the prefix's words say. The vendor
//! table stays the precise path for the formats it knows (and wins where both match: its
//! span comes first); this catches the next vendor before anyone lists it.
//!
//! A secret here is:
//! - a prefix with a secret's word (`sk`, `secret`, `key`, `token`, `pat`, …, or a word
//!   ending in one: `shpat`) and a body of 16+ characters that looks random (digits and
//!   letters mixed, not a hex digest), or
//! - any prefix and a body of 32+ characters of upper case, lower case and digits mixed,
//!   with high entropy (no word is that).
//!
//! Never one: a prefix naming something public by design ([`PUBLIC`]: publishable and
//! client keys, object ids, digests, trace ids); a body of hex digits (content hashes,
//! trace ids, UUIDs) or of one letter case without digits (words).

/// Prefix words of secrets. A prefix word equal to one, or ending in one of the longer
/// ones (`shpat`, `apikey`), marks the token as a credential.
pub(crate) const SECRET_WORDS: &[&str] = &[
    "sk", "rk", "secret", "sec", "key", "apikey", "api", "token", "tok", "tkn", "pat", "pw", "pwd",
    "pass", "private", "priv", "access", "auth", "cred", "creds", "bot", "hook", "webhook", "sess",
    "session", "refresh", "oauth", "signing", "sig",
];

/// Prefix words of what is public by design: publishable and client keys, object and
/// request ids, digests, trace ids.
pub(crate) const PUBLIC: &[&str] = &[
    "pk",
    "pub",
    "public",
    "publishable",
    "client",
    "clientid",
    "cid",
    "app",
    "appid",
    "id",
    "uid",
    "ref",
    "sha1",
    "sha256",
    "sha384",
    "sha512",
    "md5",
    "etag",
    "hash",
    "digest",
    "checksum",
    "commit",
    "rev",
    "build",
    "trace",
    "traceparent",
    "span",
    "parent",
    "req",
    "request",
    "corr",
    "correlation",
    "msg",
    "message",
    "order",
    "cus",
    "customer",
    "user",
    "acct",
    "account",
    "evt",
    "event",
    "obj",
    "object",
    "file",
    "blob",
    "img",
    "image",
    "doc",
    "ksuid",
    "ulid",
    "uuid",
    "nonce",
    "state",
    "job",
    "task",
    "container",
    "attempt",
    "application",
    "blk",
    "block",
    "chunk",
    "part",
    "page",
];

/// First words of tokens made up for tests and documentation.
pub(crate) const FAKE: &[&str] = &[
    "foo",
    "bar",
    "baz",
    "qux",
    "example",
    "dummy",
    "fake",
    "sample",
    "demo",
    "mock",
    "placeholder",
    "xxx",
    "your",
    "my",
];

/// The byte ranges of issued tokens in `text`. Only runs with a `_` or `-` can be one:
/// `memchr` finds those, and each is measured from there (a pass over every byte cost a
/// fifth of the text-heavy bench row).
pub(crate) fn find(text: &str, mut found: impl FnMut(usize, usize)) {
    let b = text.as_bytes();
    let token = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let mut pos = 0;
    while let Some(off) = memchr::memchr2(b'_', b'-', &b[pos..]) {
        let sep = pos + off;
        let mut start = sep;
        while start > 0 && token(b[start - 1]) {
            start -= 1;
        }
        let mut end = sep + 1;
        while end < b.len() && token(b[end]) {
            end += 1;
        }
        if end - start >= 19 && is_issued(&text[start..end]) {
            found(start, end);
        }
        pos = end;
    }
}

/// Whether a maximal run of `[A-Za-z0-9_-]` is a machine-issued secret.
pub(crate) fn is_issued(run: &str) -> bool {
    let mut prefix_end = 0;
    let mut words = 0;
    let mut marker = false;
    for part in run.split(['_', '-']) {
        let word = !part.is_empty()
            && part.len() <= 16
            && part
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            && part.as_bytes()[0].is_ascii_lowercase()
            && !random(part.as_bytes());
        if !word {
            break;
        }
        if PUBLIC.contains(&part) {
            return false;
        }
        marker |= SECRET_WORDS.contains(&part)
            || SECRET_WORDS
                .iter()
                .any(|w| w.len() >= 3 && part.len() > w.len() && part.ends_with(w));
        words += 1;
        prefix_end += part.len() + 1;
    }
    if words == 0 || words > 4 || prefix_end >= run.len() {
        return false;
    }
    // A test fixture's or a documentation's token (`foo_…`, `example-…`).
    let first = run.split(['_', '-']).next().unwrap_or_default();
    if FAKE.contains(&first) {
        return false;
    }
    // One pass over the body's letters and digits: classes, class changes, capital
    // pairs, lower-case runs and the counts for the entropy.
    let (mut upper, mut lower, mut digits, mut len) = (0usize, 0usize, 0usize, 0usize);
    let (mut changes, mut capital_pairs, mut runs, mut long_runs, mut run_len) = (0, 0, 0, 0, 0);
    let mut counts = [0u32; 128];
    let mut prev: Option<u8> = None;
    let class = |c: u8| (c.is_ascii_uppercase(), c.is_ascii_digit());
    for &c in run.as_bytes()[prefix_end..]
        .iter()
        .filter(|c| c.is_ascii_alphanumeric())
        .chain(std::iter::once(&b'.'))
    {
        if c.is_ascii_lowercase() {
            run_len += 1;
        } else if run_len > 0 {
            runs += 1;
            long_runs += usize::from(run_len >= 4);
            run_len = 0;
        }
        if c == b'.' {
            break;
        }
        len += 1;
        upper += usize::from(c.is_ascii_uppercase());
        lower += usize::from(c.is_ascii_lowercase());
        digits += usize::from(c.is_ascii_digit());
        counts[usize::from(c & 0x7f)] += 1;
        if let Some(p) = prev {
            changes += usize::from(class(p) != class(c));
            capital_pairs += usize::from(p.is_ascii_uppercase() && c.is_ascii_uppercase());
        }
        prev = Some(c);
    }
    let hex = upper == 0
        && run.as_bytes()[prefix_end..]
            .iter()
            .filter(|c| c.is_ascii_alphanumeric())
            .all(u8::is_ascii_hexdigit);
    let mixed3 = upper >= 2 && lower >= 2 && digits >= 2;
    let mixed2 = digits >= 3 && upper + lower >= 3 && !hex;
    let mixed_case = upper >= 3 && lower >= 3;
    // Random text changes character class (upper, lower, digit) at about 6 of 10 places;
    // CamelCase words change twice per capital but never put two capitals together
    // (acronyms do, in long runs of few changes). Words also keep long runs of lower case
    // (`Sponsored`): at least half of the runs 4 letters or more, where in random text a
    // run that long is one in eight.
    let wordy = runs > 0 && long_runs * 2 >= runs;
    let random_mix = changes * 4 >= len && (capital_pairs >= 2 || digits >= 2) && !wordy;
    let entropy = entropy(&counts, len);
    if marker && len >= 16 {
        return (mixed3 && entropy >= 3.5)
            || (mixed2 && entropy >= 3.3)
            || (mixed_case && random_mix && entropy >= 3.5);
    }
    len >= 32 && (mixed3 || mixed_case) && random_mix && entropy >= 4.2
}

/// A prefix part that is itself random (a body with no prefix before it).
fn random(part: &[u8]) -> bool {
    part.len() >= 12 && part.iter().filter(|c| c.is_ascii_digit()).count() >= 3
}

/// Shannon entropy in bits per character, from the characters' counts (`len` of them in
/// all). Shared with the rules files' `entropy` thresholds.
pub(crate) fn entropy(counts: &[u32], len: usize) -> f64 {
    if len == 0 {
        return 0.0;
    }
    let n = len as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::is_issued;

    #[test]
    fn shapes() {
        for secret in [
            "acme_sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "zonk_pat_11AbCdEf22GhIjKl33MnOp",
            "xyzkey-3ax6xnjp29jd6fds4gc373sgvjxteol0",
            "nimbus_9fKx2LqPzR7tWv3YbN8cM1dJ5hG4sQ0aE6uT",
            "shpat_x8K2mQ9vL4pR7tW1yB5nC3",
        ] {
            assert!(is_issued(secret), "{secret}");
        }
        for public in [
            "pk_live_51HqLyjWDarjtT1zdp7dcAbCdEfGh",
            "cus_NffrFeUfNV2Hib",
            "ch_3MmlLrLkdIwHu7ix0snN0B15",
            "sha256-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU",
            "trace_4bf92f3577b34da6a3ce929d0e0e4736",
            "dashboard_refresh_interval_seconds_total",
            "container_1445144423722_0020_01_000002",
            "blk_-1608999687919862906",
            "web-7d4b9c8f6-x2k9p",
            "user_profile_settings_controller",
            "token_4bf92f3577b34da6a3ce929d0e0e4736",
            "api_ConfigurationManagerFactory",
            "service_UserAccountSettingsControllerImpl",
            "desktop-rhf_SponsoredProductsRemoteRHFSearchEXPSubsK2ClickPagination",
        ] {
            assert!(!is_issued(public), "{public}");
        }
    }
}
