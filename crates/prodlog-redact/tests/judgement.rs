//! A sensitive name is judged with its value, and prodlog's own output is clean: the
//! families the redactor must leave alone (placeholders, references, masks, code, markers
//! it wrote itself, digits inside identifiers) and the secrets beside them that it must
//! still take — each family generated over names, separators and quoting, not listed.

use prodlog_redact::Redactor;

const NAMES: &[&str] = &[
    "password",
    "db_password",
    "apiKey",
    "api_key",
    "secret",
    "token",
    "auth_token",
    "client_secret",
    "SMTP_PASSWORD",
    "session",
];

/// `name<sep>value` in the syntaxes a log line uses.
fn pairs(name: &str, value: &str) -> Vec<String> {
    vec![
        format!("{name}={value}"),
        format!("{name}: {value}"),
        format!("{name} = \"{value}\""),
        format!("{{\"{name}\":\"{value}\"}}"),
        format!("config loaded {name}={value} retries=3"),
    ]
}

#[test]
fn values_that_are_not_secrets_stay_and_are_not_reported() {
    let r = Redactor::default();
    let innocents = [
        // Placeholders and templates.
        "REPLACE_ME",
        "YOUR_API_KEY",
        "<YOUR_KEY>",
        "<your-token-here>",
        "changeme-here",
        "insert_key_here",
        "${DB_PASSWORD}",
        "$DB_PASSWORD",
        "%DB_PASSWORD%",
        "{{ vault.token }}",
        // Masks, by hand or by a redactor.
        "********",
        "sk_live_…4242",
        "****4242",
        "[hidden]",
        "(sensitive value)",
        "[REDACTED]",
        "[REDACTED:3fa9c1d2]",
        "[REDACTED:last4=4242]",
        // Code and object references.
        "getAuthToken()",
        "self.token",
        "config.db.password",
        "SessionManager@3f2a1b",
        // Flags.
        "true",
        "null",
        "none",
    ];
    let mut changed = Vec::new();
    for name in NAMES {
        for value in innocents {
            for text in pairs(name, value) {
                let out = r.redact_text(&text);
                let found = r.find(&text);
                if out != text || !found.is_empty() {
                    changed.push(format!("{text:?} -> {out:?} {found:?}"));
                }
            }
        }
    }
    assert!(
        changed.is_empty(),
        "innocent values changed:\n{}",
        changed.join("\n")
    );
}

#[test]
fn secrets_beside_them_are_still_taken() {
    let r = Redactor::default();
    let secrets = [
        "hunter2!",
        "Tr0ub4dor&3",
        "MY-PASSWORD",
        "s3cr3t_v4lu3_9f8e",
        "xK9#mQ2$vL5p",
        "correct-horse-battery-staple-42",
    ];
    let mut kept = Vec::new();
    for name in NAMES.iter().filter(|n| !n.eq_ignore_ascii_case("session")) {
        for value in secrets {
            for text in pairs(name, value) {
                let out = r.redact_text(&text);
                if out.contains(value) || r.find(&text).is_empty() {
                    kept.push(format!("{text:?} -> {out:?}"));
                }
            }
        }
    }
    assert!(kept.is_empty(), "secrets left:\n{}", kept.join("\n"));
}

/// Output prodlog wrote is clean to the audit, whatever the rule that redacted it.
#[test]
fn redacted_text_is_clean_to_find() {
    let r = Redactor::default();
    let raw = [
        "postgres://billing:Zx9#kk21mq@db.internal:5432/orders",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
        "curl -H 'X-Api-Key: 9f8e7d6c5b4a39281706f5e4d3c2b1a0' https://api.example.com",
        "password=hunter2! user=ann",
        "card 4532015112830366 charged",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ];
    for text in raw {
        let once = r.redact_text(text);
        assert_ne!(once, text, "nothing taken from {text:?}");
        assert!(
            r.find(&once).is_empty(),
            "{once:?} reported: {:?}",
            r.find(&once)
        );
        assert_eq!(
            r.redact_text(&once),
            once,
            "redacting twice changes {once:?}"
        );
    }
}

/// A card number stands alone: digits joined to an identifier, in a path segment or
/// after a joiner run are ids, whatever Luhn says.
#[test]
fn card_numbers_stand_alone() {
    let r = Redactor::default();
    let card = "4532015112830366";
    for text in [
        format!("chunk_-{card} stored"),
        format!("/data/blocks/{card}/meta"),
        format!("blk_{card}"),
        format!("job-{card}-retry"),
        format!("v1.{card}"),
    ] {
        assert_eq!(r.redact_text(&text), text, "an id taken for a card");
    }
    for text in [
        format!("card {card} charged"),
        format!("card={card}"),
        format!("{{\"pan\":\"{card}\"}}"),
        format!("paid with {card}."),
        format!("balance -{card}"),
    ] {
        assert!(
            !r.redact_text(&text).contains(card),
            "a card kept in {text:?}"
        );
    }
}
