//! The ways a secret's key or separator is disguised so that the bytes no longer say
//! `password=`: escaping (URL, HTML entities, JavaScript/JSON), invisible characters,
//! fullwidth and look-alike letters, a NUL or a line break before the separator, prose
//! (`password is: …`). Each family is generated — random keys from the sensitive nouns,
//! random secrets, every encoding of every separator — not a list of examples; the same
//! text without the disguise is checked too, and innocent look-alikes stay as they are.

use prodlog_redact::Redactor;

mod common;

use common::Rng;

const KEYS: &[&str] = &[
    "password",
    "passwd",
    "db_password",
    "api_key",
    "apiKey",
    "client_secret",
    "access_token",
    "secret",
    "token",
    "auth_token",
];

/// The ways to write `=` (or `:`) that a reader still reads as one.
fn separators() -> Vec<String> {
    vec![
        "%3D".into(),
        "%3d".into(),
        "%3A".into(),
        "&#61;".into(),
        "&#x3D;".into(),
        "&#x3d;".into(),
        "&equals;".into(),
        "&#58;".into(),
        "&colon;".into(),
        r"\x3d".into(),
        r"\x3D".into(),
        r"\u003d".into(),
        r"\u003D".into(),
        r"\u{3d}".into(),
        r"\x3a".into(),
        "\0=".into(),
        "\n=".into(),
        "\r\n=".into(),
        " \n :".into(),
        "\u{200b}=".into(),
        "&#61".into(),
        r"\075".into(),
    ]
}

/// A key disguised inside: an invisible character, fullwidth or look-alike letters.
fn disguise(key: &str, how: usize, rng: &mut Rng) -> String {
    let chars: Vec<char> = key.chars().collect();
    let at = 1 + rng.below(chars.len() - 1);
    match how {
        0..=5 => {
            let invisible = [
                '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}',
            ][how];
            let mut s: String = chars[..at].iter().collect();
            s.push(invisible);
            s.extend(&chars[at..]);
            s
        }
        6 => chars
            .iter()
            .map(|&c| {
                char::from_u32(c as u32 + 0xFEE0)
                    .filter(|_| c.is_ascii_graphic())
                    .unwrap_or(c)
            })
            .collect(),
        7 => chars
            .iter()
            .map(|&c| match c {
                'a' => 'а',
                'o' => 'о',
                'e' => 'е',
                'p' => 'р',
                'c' => 'с',
                'x' => 'х',
                c => c,
            })
            .collect(),
        _ => {
            let mut s: String = chars[..at].iter().collect();
            s.push('\0');
            s.extend(&chars[at..]);
            s
        }
    }
}

fn assert_gone(r: &Redactor, text: &str, secret: &str) {
    let out = r.redact_text(text);
    assert!(
        !out.contains(secret),
        "leaked {secret:?} from {text:?}: {out:?}"
    );
    assert!(out.contains("[REDACTED"), "{text:?}: {out:?}");
    assert!(
        !r.find(text).is_empty(),
        "find() (the audit) misses what redact_text() removes: {text:?}"
    );
}

#[test]
fn escaped_separators() {
    let r = Redactor::default();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for sep in separators() {
        for _ in 0..20 {
            let key = KEYS[rng.below(KEYS.len())];
            let mut secret = rng.secret();
            if sep.ends_with(|c: char| c.is_ascii_digit()) {
                // `&#61` then `4…` reads as `&#614`, another character: a letter first.
                secret.insert(0, 'k');
            }
            let prefix = ["", "GET /login?", "form body: ", "user=bob&"][rng.below(4)];
            let suffix = ["", "&next=%2Fhome", " ok", "\"}"][rng.below(4)];
            assert_gone(&r, &format!("{prefix}{key}{sep}{secret}{suffix}"), &secret);
        }
    }
}

#[test]
fn disguised_keys() {
    let r = Redactor::default();
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    for how in 0..9 {
        for _ in 0..20 {
            let key = disguise(KEYS[rng.below(KEYS.len())], how, &mut rng);
            let secret = rng.secret();
            let sep = ["=", ": ", "\":\"", " => "][rng.below(4)];
            assert_gone(&r, &format!("login {key}{sep}{secret} done"), &secret);
        }
    }
}

#[test]
fn prose_with_a_colon() {
    let r = Redactor::default();
    let mut rng = Rng(0x5eed_1234_abcd_0003);
    for verb in ["is:", "is :", "was:", "is =", "="] {
        for _ in 0..10 {
            let key = [
                "password",
                "the password",
                "your API key",
                "token",
                "secret",
            ][rng.below(5)];
            let secret = rng.secret();
            assert_gone(&r, &format!("{key} {verb} {secret}"), &secret);
        }
    }
}

#[test]
fn cards_with_any_separator() {
    let r = Redactor::default();
    for card in [
        "4111111111111111",
        "5500000000000004",
        "4012888888881881",
        "6011111111111117",
    ] {
        for sep in [".", "_", " ", "-"] {
            let grouped = card
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(sep);
            let out = r.redact_text(&grouped);
            assert!(!out.contains(&grouped[..9]), "{grouped}: {out}");
            let text = format!("card {grouped} charged");
            let out = r.redact_text(&text);
            assert!(!out.contains(&grouped[..9]), "{grouped}: {out}");
        }
        for signed in [format!("-{card}"), format!("{card}.0")] {
            let out = r.redact_text(&signed);
            assert!(!out.contains(&card[..9]), "{signed}: {out}");
        }
    }
}

#[test]
fn innocent_look_alikes_stay() {
    let r = Redactor::default();
    for text in [
        "download 100% complete",
        "search?q=password%20reset%20help",
        "password&#32;policy updated",
        "A &amp; B &lt;tag&gt;",
        "path C:\\x3d\\data",
        "пароль изменён",
        "Γεια σου κόσμε",
        "ｈｅｌｌｏ ｗｏｒｌｄ",
        "version 1.2.3.4 build 2026.11.25.1",
        "the password is incorrect",
        "password is: required",
        "token=${API_TOKEN}",
        "password%3D%24%7BDB_PASSWORD%7D",
        "line one\nline two\n",
    ] {
        assert_eq!(r.redact_text(text), text, "{text}");
    }
}
