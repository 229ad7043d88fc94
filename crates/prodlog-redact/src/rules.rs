//! The built-in value rules: what a secret looks like, by the formats' own definitions, with
//! the literals that must be present for each rule to be worth running.

/// How a rule's match is checked beyond its regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    None,
    /// A machine-issued token by its shape (`issued.rs`), found by hand.
    Issued,
    /// A payment card number: 13–19 digits, a known issuer prefix, Luhn-valid.
    Card,
    /// A US social security number that can exist (no 000/666/9xx area, 00 group, 0000 serial).
    Ssn,
    /// A bearer token without a header name: long, or with a digit (not an English word).
    TokenLike,
    /// `key = value` in text: the key must be a sensitive name.
    SensitiveKey,
    /// A vendor format from the table, tried where its prefix occurs.
    Vendor,
    /// The capture group `k` must be a sensitive name (`<add key="DbPassword" value=…>`).
    NamedKey,
    /// Not a parameter's name (`Digest username=` is not a credential).
    NotAParamName,
    /// 40 base64 characters near "aws"/"secret": mixed case (not a hex digest).
    AwsSecret,
    /// An IBAN: its ISO 13616 mod-97 checksum holds.
    Iban,
    /// The value of a secret-looking command-line flag, unless it is a plain lower-case word
    /// (`--secret flag is deprecated` is prose).
    NotAWord,
}

/// What must be in a text for a rule to run (a cheap prefilter).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Gate {
    /// Any of these literals, ASCII case-insensitive.
    Literals(&'static [&'static str]),
    /// A group of digits (see [`Digits`]).
    Digits(Digits),
    /// A run of at least `shape::MIN_RUN` token characters.
    LongRun,
}

/// The digits a rule needs before its regex is worth running.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Digits {
    /// At least this many digits in one group (single spaces or dashes may join them).
    pub(crate) min: usize,
    /// The group must be able to start and end at a word boundary, as a regex between
    /// `\b`s needs: `0123456789ab` inside a UUID is not a number.
    pub(crate) bounded: bool,
    /// This byte, at least this many times.
    pub(crate) byte: Option<(u8, usize)>,
    /// An upper-case ASCII letter somewhere (an IBAN's country code).
    pub(crate) upper: bool,
}

impl Digits {
    const fn group(min: usize) -> Self {
        Digits {
            min,
            bounded: false,
            byte: None,
            upper: false,
        }
    }

    const fn bounded(min: usize) -> Self {
        Digits {
            bounded: true,
            ..Digits::group(min)
        }
    }
}

/// One built-in rule. The part replaced is the capture group `s` when the regex has one,
/// otherwise the whole match.
#[derive(Debug)]
pub(crate) struct Builtin {
    pub(crate) name: &'static str,
    pub(crate) pattern: &'static str,
    pub(crate) gate: Gate,
    pub(crate) check: Check,
    /// The pattern cannot match without a `:` or `=` in the text.
    pub(crate) needs_separator: bool,
}

const fn rule(name: &'static str, pattern: &'static str, gate: Gate, check: Check) -> Builtin {
    Builtin {
        name,
        pattern,
        gate,
        check,
        needs_separator: false,
    }
}

const fn with_separator(mut b: Builtin) -> Builtin {
    b.needs_separator = true;
    b
}

/// Word boundaries are ASCII (`(?-u:\b)`): secrets are ASCII, and Unicode boundaries cost
/// tens of thousands of allocations and milliseconds to compile.
///
/// Every built-in rule, in the order spans are preferred when two overlap.
pub(crate) const BUILTINS: &[Builtin] = &[
    rule(
        "private_key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(?P<s>(?s:.*?))(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\z)",
        Gate::Literals(&["PRIVATE KEY"]),
        Check::None,
    ),
    rule(
        "jwt",
        r"(?-u:\b)eyJ[A-Za-z0-9_-]{2,}\.e[wy][A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*)?",
        Gate::Literals(&["eyJ"]),
        Check::None,
    ),
    // Found by hand at the prefilter's hits of each format's prefix (see `vendors.rs`).
    rule("vendor_token", r"\A\z", Gate::Literals(&[]), Check::Vendor),
    // Tokens of vendors nobody listed, by their shape (see `issued.rs`): after the table,
    // whose spans win where both match.
    rule("issued_token", r"\A\z", Gate::LongRun, Check::Issued),
    rule(
        "vendor_signature",
        crate::vendors::SIGNATURES,
        Gate::Literals(crate::vendors::SIGNATURE_LITERALS),
        Check::None,
    ),
    with_separator(rule(
        "url_credentials",
        r#"(?-u:\b)[A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s:/?#@"'<>\[\]]{0,256}:(?P<s>[^\s/?"'<>]{1,256})@"#,
        Gate::Literals(&["://"]),
        Check::None,
    )),
    rule(
        "url_key",
        r"(?:hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[A-Za-z0-9+/_-]{20,})|https://(?P<s2>[0-9a-f]{32})@[A-Za-z0-9.-]*sentry|discord(?:app)?\.com/api/webhooks/[0-9]+/(?P<s3>[A-Za-z0-9_-]{20,})|(?:webhook\.office\.com/webhookb2|outlook\.office(?:365)?\.com/webhook)/(?P<s4>[A-Za-z0-9@/_-]{20,})|hooks\.zapier\.com/hooks/catch/(?P<s5>[0-9]+/[A-Za-z0-9]+))",
        Gate::Literals(&[
            "hooks.slack.com",
            "sentry",
            "webhooks",
            "webhook",
            "hooks.zapier.com",
        ]),
        Check::None,
    ),
    with_separator(rule(
        "authorization",
        r#"(?i)(?-u:\b)(?:proxy-)?authorization["']?[ \t]*[:=][ \t]*["']?(?:[A-Za-z][A-Za-z0-9-]*[ \t]+)?(?P<s>[^\s"']+)"#,
        Gate::Literals(&["authorization"]),
        Check::NotAParamName,
    )),
    with_separator(rule(
        "cookie",
        r#"(?i)(?-u:\b)(?:set-)?cookie["']?[ \t]*:[ \t]*(?P<s>[^\r\n"]+)"#,
        Gate::Literals(&["cookie"]),
        Check::None,
    )),
    rule(
        "aws_secret_access_key",
        r"(?i:aws|secret)[^\r\n]{0,40}?[^A-Za-z0-9/+](?P<s>[A-Za-z0-9/+]{40})={0,2}(?:[^A-Za-z0-9/+=]|$)",
        Gate::Literals(&["aws", "secret"]),
        Check::AwsSecret,
    ),
    rule(
        "bearer",
        // `=` only as padding at the end: `token_type=Bearer expires_in=3600` is no credential.
        r"(?i)(?-u:\b)(?:bearer|basic)[ \t]+(?P<s>[A-Za-z0-9._~+/-]{12,}=*)",
        Gate::Literals(&["bearer", "basic"]),
        Check::TokenLike,
    ),
    with_separator(rule(
        "key_value",
        // Found by hand from the prefilter's hits (see `pairs.rs`), not by a regex.
        r"\A\z",
        Gate::Literals(&[]),
        Check::SensitiveKey,
    )),
    rule(
        "card_number",
        r"(?-u:\b)(?:[0-9]{4}[ ._-]?[0-9]{4}[ ._-]?[0-9]{4}[ ._-]?[0-9]{1,7}(?:[ ._-][0-9]{1,3})?|[0-9]{4}[ ._-]?[0-9]{6}[ ._-]?[0-9]{4,5})(?-u:\b)",
        Gate::Digits(Digits::bounded(13)),
        Check::Card,
    ),
    rule(
        "us_ssn",
        r"(?-u:\b)(?:[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4})(?-u:\b)",
        Gate::Digits(Digits::bounded(9)),
        Check::Ssn,
    ),
    rule(
        "cli_flag",
        r#"(?i)(?:^|[ \t])--?(?:[a-z0-9]+[-_])*(?:password|passwd|pwd|token|secret|api[-_]?key|access[-_]?key|auth)[ \t]+(?:"(?P<s2>[^"\r\n]+)"|'(?P<s3>[^'\r\n]+)'|(?P<s>[^\s"'-][^\s"']*))"#,
        Gate::Literals(&[
            "password",
            "passwd",
            "pwd",
            "token",
            "secret",
            "api-key",
            "api_key",
            "apikey",
            "access-key",
            "access_key",
            "auth",
        ]),
        Check::NotAWord,
    ),
    rule(
        "cli_short_password",
        // mysql-style `-pSECRET` / `-p SECRET`, `sshpass -p SECRET`, `docker login -p SECRET`
        // (and podman, buildah, skopeo, helm, oras), `redis-cli -a SECRET`.
        r#"(?i)(?-u:\b)(?:(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb|mariadb-dump|mariadb-admin|sshpass|(?:docker|podman|buildah|skopeo|nerdctl|oras|helm(?:[ \t]+registry)?)[ \t]+login)(?:[ \t]+[^\s]+)*?[ \t]+-p|(?:redis-cli|keydb-cli|valkey-cli)(?:[ \t]+[^\s]+)*?[ \t]+-a)[ \t]?(?P<s>[^\s"',;-][^\s"']*)"#,
        Gate::Literals(&[
            "mysql",
            "mariadb",
            "sshpass",
            "login",
            "redis-cli",
            "keydb-cli",
            "valkey-cli",
        ]),
        Check::NotAWord,
    ),
    rule(
        "cli_user_password",
        // `curl -u user:pass`, `--user user:pass`, `--proxy-user user:pass`.
        r#"(?:^|[ \t])(?:-u|-U|--user|--proxy-user)[ \t]+["']?[^\s:"']+:(?P<s>[^\s"']+)"#,
        Gate::Literals(&["-u"]),
        Check::None,
    ),
    rule(
        "config_key_value",
        // `<add key="DbPassword" value="…"/>` (.NET app settings) and the like.
        r#"(?i)key[ \t]*=[ \t]*["'](?P<k>[^"'\r\n]{1,100})["'][ \t]+value[ \t]*=[ \t]*["'](?P<s>[^"'\r\n]*)["']"#,
        Gate::Literals(&["key=\"", "key='", "key = "]),
        Check::NamedKey,
    ),
    rule(
        "positional_credentials",
        // `Credential("user", "…")`, `BasicAuth("user", "…")`, `login("user", "…")`.
        r#"(?i)(?-u:\b)[A-Za-z_:]*(?:credentials?|basic_?auth|login|userpass(?:word)?|passwordauth)[ \t]*\([ \t]*"[^"\r\n]*"[ \t]*,[ \t]*"(?P<s>[^"\r\n]+)""#,
        Gate::Literals(&["cred", "auth", "login", "userpass"]),
        Check::None,
    ),
    rule(
        "digest_response",
        r#"(?i)(?:^|[\s,])response[ \t]*=[ \t]*"?(?P<s>[0-9a-f]{32,128})"#,
        Gate::Literals(&["response"]),
        Check::None,
    ),
    rule(
        "dsn_credentials",
        // Go's MySQL DSN `user:pass@tcp(host)`, Oracle's `user/pass@//host:1521/svc`.
        r#"(?-u:\b)[^\s:@/"'=]{1,64}:(?P<s>[^\s@/"']{1,128})@(?:tcp|udp|unix)\(|(?-u:\b)[A-Za-z][A-Za-z0-9_$#]{0,29}/(?P<s2>[^\s/@"']{1,64})@(?://)?[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?/[A-Za-z0-9_.]+"#,
        Gate::Literals(&["@tcp(", "@udp(", "@unix(", "@//", ":1521/"]),
        Check::None,
    ),
    rule(
        "pgpass_line",
        // `host:port:database:user:password` (~/.pgpass).
        // A whole text of its own (anchored: a JSON line, full of colons, fails at once).
        r"^[^\s:]+:(?:[0-9]{1,5}|\*):[^\s:]+:[^\s:]+:(?P<s>\S+)$",
        // Four colons: `orders:user:551234` (a cache key) is not a pgpass line.
        Gate::Digits(Digits {
            byte: Some((b':', 4)),
            ..Digits::group(4)
        }),
        Check::None,
    ),
    rule(
        "netrc_password",
        r"(?i)(?-u:\b)machine[ \t]+\S+(?:[ \t]+login[ \t]+\S+)?[ \t]+password[ \t]+(?P<s>\S+)",
        Gate::Literals(&["machine"]),
        Check::None,
    ),
    rule(
        "password_hash",
        // crypt(3) formats (bcrypt, sha256/512-crypt, yescrypt, argon2, …) and Django's.
        r#"(?:\$(?:2[abxy]?|1|5|6|7|y|gy|md5|sha1|pbkdf2(?:-sha(?:1|256|512))?)\$|\$argon2(?:id|i|d)\$|(?-u:\b)(?:pbkdf2_sha(?:1|256)|bcrypt_sha256|argon2|scrypt)\$)[^\s"';]{20,}"#,
        Gate::Literals(&[
            "$2",
            "$1$",
            "$5$",
            "$6$",
            "$7$",
            "$y$",
            "$gy$",
            "$md5",
            "$sha1$",
            "$pbkdf2",
            "$argon2",
            "pbkdf2_sha",
            "bcrypt_sha256$",
            "argon2$",
            "scrypt$",
        ]),
        Check::None,
    ),
    rule(
        "iban",
        r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?-u:\b)",
        Gate::Digits(Digits {
            upper: true,
            ..Digits::group(10)
        }),
        Check::Iban,
    ),
];

/// The e-mail rule, off unless [`RedactorBuilder::emails`](crate::RedactorBuilder::emails).
pub(crate) const EMAIL: Builtin = rule(
    "email",
    r"(?-u:\b)[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}(?-u:\b)",
    Gate::Literals(&["@"]),
    Check::None,
);

/// Luhn checksum over ASCII digits.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// A card number by its issuer prefix, length and Luhn checksum.
pub(crate) fn is_card(m: &str) -> bool {
    let mut digits = [0u8; 19];
    let mut n = 0;
    for b in m.bytes().filter(u8::is_ascii_digit) {
        if n == digits.len() {
            return false;
        }
        digits[n] = b;
        n += 1;
    }
    let d = &digits[..n];
    if !(13..=19).contains(&n) || d.iter().all(|&c| c == d[0]) {
        return false;
    }
    let prefix = |k: usize| -> u32 {
        d[..k]
            .iter()
            .fold(0, |acc, c| acc * 10 + u32::from(c - b'0'))
    };
    let issuer = match d[0] {
        b'4' => matches!(n, 13 | 16 | 19), // Visa
        // Mastercard, Maestro
        b'5' => {
            (n == 16 && (51..=55).contains(&prefix(2)))
                || ((12..=19).contains(&n) && matches!(prefix(4), 5018 | 5020 | 5038 | 5893))
        }
        // Mastercard, Mir
        b'2' => {
            n == 16 && ((2221..=2720).contains(&prefix(4)) || (2200..=2204).contains(&prefix(4)))
        }
        b'3' => match prefix(2) {
            34 | 37 => n == 15,                               // Amex
            35 => (16..=19).contains(&n),                     // JCB
            36 | 38 | 39 => (14..=19).contains(&n),           // Diners
            30 => (14..=19).contains(&n) && prefix(3) <= 305, // Diners
            _ => false,
        },
        b'6' => {
            (16..=19).contains(&n)
                && (prefix(4) == 6011
                    || prefix(2) == 65
                    || prefix(2) == 62                                          // UnionPay
                    || matches!(prefix(4), 6304 | 6759 | 6761 | 6762 | 6763)     // Maestro
                    || (644..=649).contains(&prefix(3))) // Discover
        }
        _ => false,
    };
    issuer && luhn(d)
}

/// An IBAN whose mod-97 checksum holds (letters count as 10..35, the first four characters
/// moved to the end).
pub(crate) fn is_iban(m: &str) -> bool {
    let chars = || m.bytes().filter(|b| *b != b' ');
    let len = chars().count();
    if !(15..=34).contains(&len) {
        return false;
    }
    let mut rem: u32 = 0;
    for c in chars().skip(4).chain(chars().take(4)) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// A US SSN that the SSA could have issued.
pub(crate) fn is_ssn(m: &str) -> bool {
    let b = m.as_bytes();
    if b.len() != 11 {
        return false;
    }
    let area = &b[0..3];
    area != b"000" && area != b"666" && area[0] != b'9' && &b[4..6] != b"00" && &b[7..11] != b"0000"
}

/// An AWS secret access key rather than a hex digest or a path: both cases present.
pub(crate) fn is_aws_secret(m: &str) -> bool {
    m.bytes().any(|b| b.is_ascii_uppercase()) && m.bytes().any(|b| b.is_ascii_lowercase())
}

/// Not a plain lower-case word (a flag's value rather than the next word of a sentence).
pub(crate) fn is_not_a_word(m: &str) -> bool {
    m.len() >= 20 || !m.bytes().all(|b| b.is_ascii_lowercase())
}

/// A bearer token rather than a word that follows "bearer" in a sentence.
pub(crate) fn is_token_like(m: &str) -> bool {
    m.len() >= 20
        || m.bytes()
            .any(|b| b.is_ascii_digit() || b == b'.' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_need_issuer_length_and_luhn() {
        assert!(is_card("4111 1111 1111 1111"));
        assert!(is_card("5500-0000-0000-0004"));
        assert!(is_card("378282246310005"));
        assert!(is_card("6011111111111117"));
        assert!(!is_card("4111 1111 1111 1112"), "Luhn");
        assert!(!is_card("1234567812345670"), "no issuer starts with 1");
        assert!(
            !is_card("4444444444444448"[..15].as_ref()),
            "Visa is 13, 16 or 19"
        );
        assert!(!is_card("0000000000000000"));
    }

    #[test]
    fn iban_checksums() {
        assert!(is_iban("DE89370400440532013000"));
        assert!(is_iban("GB82 WEST 1234 5698 7654 32"));
        assert!(!is_iban("DE89370400440532013001"));
        assert!(!is_iban("AB12CDEFGHIJKLMN"));
    }

    #[test]
    fn ssn_ranges() {
        assert!(is_ssn("123-45-6789"));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(!is_ssn(bad), "{bad}");
        }
    }
}
