//! Machine-issued tokens of vendors nobody listed, recognised by their shape: a generated
//! corpus of made-up vendors (random prefixes, secret words, separators, body lengths,
//! places in a line), and beside it the shapes that are public by design (publishable
//! keys, object ids, UUID/ULID/KSUID, digests, trace ids, pod names, identifiers), which
//! must stay byte for byte.

mod common;

use common::Rng;
use prodlog_redact::Redactor;

const BASE62: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

fn body(rng: &mut Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.below(alphabet.len())]))
        .collect()
}

/// A made-up vendor name: 3 to 7 letters no list knows.
fn vendor(rng: &mut Rng) -> String {
    const CONSONANTS: &[u8] = b"bcdfghjklmnprstvwz";
    const VOWELS: &[u8] = b"aeiou";
    let n = 3 + rng.below(5);
    (0..n)
        .map(|i| {
            let set = if i % 2 == 0 { CONSONANTS } else { VOWELS };
            char::from(set[rng.below(set.len())])
        })
        .collect()
}

fn place(rng: &mut Rng, token: &str) -> String {
    match rng.below(6) {
        0 => format!("using {token} for the upstream"),
        1 => format!("{{\"note\":\"{token}\",\"retries\":3}}"),
        2 => format!("config: upstream={token}"),
        3 => format!("curl -H 'X-Custom: {token}' https://api.example.net/v1"),
        4 => format!("[{token}]"),
        _ => token.to_owned(),
    }
}

#[test]
fn tokens_of_unlisted_vendors_are_taken() {
    let r = Redactor::default();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    const MARKERS: &[&str] = &[
        "sk", "key", "secret", "token", "pat", "api", "live_sk", "rk",
    ];
    let (mut total, mut missed) = (0, Vec::new());
    for i in 0..3000 {
        let sep = if rng.below(2) == 0 { "_" } else { "-" };
        let token = if i % 2 == 0 {
            // A secret word in the prefix: 16 to 48 characters of body.
            let marker = rng.pick(MARKERS).replace('_', sep);
            let len = 16 + rng.below(33);
            format!(
                "{}{sep}{marker}{sep}{}",
                vendor(&mut rng),
                body(&mut rng, BASE62, len)
            )
        } else {
            // Any prefix: 32 to 64 characters of body.
            let len = 32 + rng.below(33);
            format!("{}{sep}{}", vendor(&mut rng), body(&mut rng, BASE62, len))
        };
        let line = place(&mut rng, &token);
        total += 1;
        if r.redact_text(&line).contains(&token) {
            missed.push(line);
        }
    }
    let caught = total - missed.len();
    println!("issued tokens of made-up vendors: {caught}/{total} taken");
    assert!(
        caught * 100 >= total * 97,
        "{caught}/{total} taken; missed, first 20:\n{}",
        missed
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn public_shapes_stay() {
    let r = Redactor::default();
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    const HEX: &[u8] = b"0123456789abcdef";
    const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    const OBJECTS: &[&str] = &[
        "cus", "ch", "evt", "acct", "req", "user", "order", "obj", "msg",
    ];
    let mut changed = Vec::new();
    for _ in 0..3000 {
        let sep = if rng.below(2) == 0 { "_" } else { "-" };
        let value = match rng.below(10) {
            0 => {
                let len = 24 + rng.below(76);
                format!("pk_live_{}", body(&mut rng, BASE62, len))
            }
            1 => {
                let object = rng.pick(OBJECTS);
                let len = 14 + rng.below(15);
                format!("{object}{sep}{}", body(&mut rng, BASE62, len))
            }
            2 => {
                let h = body(&mut rng, HEX, 32);
                format!(
                    "{}-{}-4{}-a{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[13..16],
                    &h[17..20],
                    &h[20..]
                )
            }
            3 => body(&mut rng, CROCKFORD, 26),
            4 => body(&mut rng, BASE62, 27),
            5 => format!("sha256-{}", body(&mut rng, HEX, 64)),
            6 => format!("trace{sep}{}", body(&mut rng, HEX, 32)),
            7 => format!(
                "{}-{}-{}",
                vendor(&mut rng),
                body(&mut rng, b"0123456789abcdef", 9),
                body(&mut rng, b"bcdfghjklmnpqrstvwxz2456789", 5)
            ),
            8 => format!(
                "container_{}_{:04}_01_{:06}",
                1_445_144_423_722u64 + rng.below(1000) as u64,
                rng.below(10_000),
                rng.below(1_000_000)
            ),
            _ => format!(
                "{}_{}_{}_total",
                vendor(&mut rng),
                vendor(&mut rng),
                vendor(&mut rng)
            ),
        };
        let line = place(&mut rng, &value);
        if r.redact_text(&line) != line {
            changed.push(format!("{line} -> {}", r.redact_text(&line)));
        }
    }
    assert!(
        changed.is_empty(),
        "{} public values changed, first 20:\n{}",
        changed.len(),
        changed
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// A listed vendor's distinctive prefix is a token wherever it starts a word, also when a
/// `-` or `_` glues it to a name before it (`access-key-AKIA…`, `x-ghp_…`); only a
/// common-word prefix inside a compound (`pk_live_…` holds `live_`) is the compound's.
#[test]
fn listed_prefixes_glued_to_a_name_are_still_taken() {
    let r = Redactor::default();
    let mut rng = Rng(0x5eed_1234_abcd_0003);
    const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut kept = Vec::new();
    for _ in 0..200 {
        let glue = rng.pick(&["-", "_", "--", "-_"]);
        let name = vendor(&mut rng);
        let token = match rng.below(2) {
            0 => format!("ghp_{}", body(&mut rng, BASE62, 36)),
            _ => format!("AKIA{}", body(&mut rng, UPPER_DIGITS, 16)),
        };
        let line = place(&mut rng, &format!("{name}{glue}{token}"));
        if r.redact_text(&line).contains(&token) {
            kept.push(line);
        }
    }
    assert!(kept.is_empty(), "tokens kept:\n{}", kept.join("\n"));
}
