//! One cheap pass over a text: which rules could possibly match it.

/// The shortest run of token characters a value rule without a separator can match
/// (a bearer token, a JWT, the shortest vendor token); PEM armour is checked apart.
pub(crate) const MIN_RUN: usize = 12;

/// What one pass over a text tells about which rules could match.
pub(crate) struct Shape {
    pub(crate) separator: bool,
    /// Five dashes in a row: PEM armour.
    pub(crate) armour: bool,
    pub(crate) at: bool,
    pub(crate) digits: usize,
    /// A run of at least [`MIN_RUN`] token characters.
    pub(crate) long_run: bool,
    /// Only hex digits and dashes (a UUID, a trace id, a digest): no literal any rule
    /// needs can be in it, only digit-rule secrets (cards, SSNs).
    pub(crate) hex_only: bool,
}

const TOKEN: u8 = 1;
const DIGIT: u8 = 2;
const SEPARATOR: u8 = 4;
const AT: u8 = 8;
const DASH: u8 = 16;
const PAREN: u8 = 32;
const QUOTE: u8 = 64;
const NOT_HEX: u8 = 128;

/// The class bits of every byte, so the pass is one table load per byte.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let mut c = 0;
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'/' | b'~') {
            c |= TOKEN;
        }
        if b.is_ascii_digit() {
            c |= DIGIT;
        }
        if b == b':' || b == b'=' {
            c |= SEPARATOR;
        }
        if b == b'@' {
            c |= AT;
        }
        if b == b'-' {
            c |= DASH;
        }
        if b == b'(' {
            c |= PAREN;
        }
        if b == b'"' {
            c |= QUOTE;
        }
        if !(b.is_ascii_hexdigit() || b == b'-') {
            c |= NOT_HEX;
        }
        t[i] = c;
        i += 1;
    }
    t
};

impl Shape {
    /// One table walk collects the byte classes, counts digits and measures runs of token
    /// characters; dashes are looked at again only when there is one.
    pub(crate) fn of(bytes: &[u8]) -> Shape {
        // The walk only ORs the byte classes together; digits and runs are counted in
        // walks of their own, only when the classes say they can matter (callgrind on the
        // bench's clean event: ~10 instructions per byte before, ~3 now for a text with
        // neither).
        let mut flags = 0u8;
        for &b in bytes {
            flags |= CLASS[usize::from(b)];
        }
        let digits = if flags & DIGIT != 0 {
            bytes.iter().filter(|b| b.is_ascii_digit()).count()
        } else {
            0
        };
        let separator = flags & SEPARATOR != 0;
        // PEM armour (`-----`), a command-line flag (`--password`, ` -p`), or a call with
        // string arguments (`Credential("user", "…")`).
        let armour = (flags & DASH != 0 && bytes.windows(2).any(|w| w == b"--" || w == b" -"))
            || flags & (PAREN | QUOTE) == PAREN | QUOTE;
        // Only needed when nothing else sends the text to the prefilter; a loop of its own,
        // so the common case (a separator) never pays for its dependency chain.
        let long_run = flags & SEPARATOR == 0
            && !armour
            && bytes.len() >= MIN_RUN
            && if bytes.len() <= 64 {
                // A bit per token character; a long run is four shifts away.
                let mut tokens = 0u64;
                for (i, &b) in bytes.iter().enumerate() {
                    tokens |= u64::from(CLASS[usize::from(b)] & TOKEN) << i;
                }
                has_run_of_12(tokens)
            } else {
                let mut run = 0u32;
                bytes.iter().any(|&b| {
                    run = (run + 1) * u32::from(CLASS[usize::from(b)] & TOKEN);
                    run as usize >= MIN_RUN
                })
            };
        Shape {
            hex_only: flags & NOT_HEX == 0,
            separator,
            armour,
            at: flags & AT != 0,
            digits,
            long_run,
        }
    }
}

/// Whether `bits` has [`MIN_RUN`] (12) consecutive ones: after `x &= x >> k` a bit is set
/// where a run of `k + 1` (then 2k, …) starts.
fn has_run_of_12(bits: u64) -> bool {
    const _: () = assert!(MIN_RUN == 12);
    let mut x = bits;
    x &= x >> 1; // runs of 2
    x &= x >> 2; // 4
    x &= x >> 4; // 8
    x &= x >> 4; // 12
    x != 0
}

/// The most digits in one group where single spaces or dashes may separate them
/// (`4111 1111 1111 1111`, `123-45-6789`): a card or an SSN needs a group this long, and a
/// timestamp (`2026-11-25T01:34:45`) has none longer than 8.
pub(crate) fn longest_digit_group(bytes: &[u8]) -> usize {
    let (mut best, mut run, mut prev_digit) = (0, 0, false);
    for &b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            prev_digit = true;
        } else if prev_digit && (b == b' ' || b == b'-') {
            prev_digit = false;
        } else {
            best = best.max(run);
            run = 0;
            prev_digit = false;
        }
    }
    best.max(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_twelve_are_found_by_the_bit_trick_as_by_the_loop() {
        let texts = [
            "payment processed",
            "abcdefghijk l",
            "abcdefghijkl",
            " abcdefghijkl ",
            "x abcdefghijk abcdefghijk y",
            "0123456789ab!",
            "ab cd ef gh ij kl mn op qr st uv wx yz ab cd ef gh ij kl mn op qr",
            "................................................................",
            "a                                                   abcdefghijkl",
        ];
        for t in texts {
            let b = t.as_bytes();
            let mut run = 0;
            let by_loop = b.iter().any(|&c| {
                run = if CLASS[usize::from(c)] & TOKEN != 0 {
                    run + 1
                } else {
                    0
                };
                run >= MIN_RUN
            });
            assert_eq!(Shape::of(b).long_run, by_loop, "{t:?}");
            if b.len() > 64 {
                continue;
            }
            let mut bits = 0u64;
            for (i, &c) in b.iter().enumerate() {
                bits |= u64::from(CLASS[usize::from(c)] & TOKEN) << i;
            }
            assert_eq!(has_run_of_12(bits), by_loop, "{t:?}");
        }
    }
}
