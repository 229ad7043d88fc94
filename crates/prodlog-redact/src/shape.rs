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
    /// For a text of at most 64 bytes with digits: a bit per byte of a digit group
    /// (digits, and single spaces, dashes, dots or underscores between two digits).
    pub(crate) groups: Option<u64>,
    /// A byte that may start an escape, an invisible or look-alike character or a line
    /// break (`%`, `&`, `\\`, NUL, CR, LF, non-ASCII): the text may read otherwise than its
    /// bytes (see [`normalize`](crate::normalize)).
    pub(crate) unusual: bool,
}

impl Shape {
    /// False when no digit group can hold `min` digits (an upper bound: a group's bits
    /// count its joins too); true when unknown (a long text).
    pub(crate) fn may_have_group(&self, min: usize) -> bool {
        self.groups.is_none_or(|g| has_run(g, min))
    }
}

/// Whether `bits` has `k` consecutive ones (`k` ≤ 64).
fn has_run(bits: u64, k: usize) -> bool {
    let (mut x, mut len) = (bits, 1);
    while len < k && x != 0 {
        let step = len.min(k - len);
        x &= x >> step;
        len += step;
    }
    x != 0
}

const TOKEN: u16 = 1;
const DIGIT: u16 = 2;
const SEPARATOR: u16 = 4;
const AT: u16 = 8;
const DASH: u16 = 16;
const PAREN: u16 = 32;
const QUOTE: u16 = 64;
const NOT_HEX: u16 = 128;
const UNUSUAL: u16 = 256;

/// The class bits of every byte, so the pass is one table load per byte.
static CLASS: [u16; 256] = {
    let mut t = [0u16; 256];
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
        if matches!(b, b'%' | b'&' | b'\\' | 0 | b'\r' | b'\n') || b >= 0x80 {
            c |= UNUSUAL;
        }
        t[i] = c;
        i += 1;
    }
    t
};

impl Shape {
    /// One table walk collects the byte classes, counts digits and measures runs of token
    /// characters; dashes are looked at again only when there is one.
    #[inline]
    pub(crate) fn of(bytes: &[u8]) -> Shape {
        // The walk only ORs the byte classes together; digits and runs are counted in
        // walks of their own, only when the classes say they can matter (callgrind on the
        // bench's clean event: ~10 instructions per byte before, ~3 now for a text with
        // neither).
        let mut flags = 0u16;
        for &b in bytes {
            flags |= CLASS[usize::from(b)];
        }
        let (mut digits, mut groups) = (0, None);
        if flags & DIGIT != 0 {
            if bytes.len() <= 64 {
                // A bit per digit and per joining byte: the digit rules' gates test runs
                // with shifts before any loop (see `has_run`).
                let (mut d, mut j) = (0u64, 0u64);
                for (i, &b) in bytes.iter().enumerate() {
                    let digit = b.is_ascii_digit();
                    digits += usize::from(digit);
                    d |= u64::from(digit) << i;
                    j |= u64::from(matches!(b, b' ' | b'-' | b'.' | b'_')) << i;
                }
                // Digits, and single joins with a digit on each side.
                groups = Some(d | (j & (d << 1) & (d >> 1)));
            } else {
                digits = bytes.iter().filter(|b| b.is_ascii_digit()).count();
            }
        }
        let separator = flags & SEPARATOR != 0;
        // PEM armour (`-----`), a command-line flag (`--password`, ` -p`), or a call with
        // string arguments (`Credential("user", "…")`).
        let armour = (flags & DASH != 0
            && memchr::memchr_iter(b'-', bytes)
                .any(|i| bytes.get(i + 1) == Some(&b'-') || (i > 0 && bytes[i - 1] == b' ')))
            || flags & (PAREN | QUOTE) == PAREN | QUOTE;
        // Only needed when nothing else sends the text to the prefilter; a loop of its own,
        // so the common case (a separator) never pays for its dependency chain.
        let long_run = flags & SEPARATOR == 0 && !armour && has_long_run(bytes);
        Shape {
            groups,
            hex_only: flags & NOT_HEX == 0,
            separator,
            armour,
            at: flags & AT != 0,
            digits,
            long_run,
            unusual: flags & UNUSUAL != 0,
        }
    }
}

/// Whether `bytes` has a run of [`MIN_RUN`] token characters. Any such run covers one of
/// the bytes looked at: every `MIN_RUN`-th byte, and after a run that was measured, the
/// `MIN_RUN`-th byte past its end. So prose is mostly skipped: `payment processed` looks
/// at one byte and measures one word (callgrind: ~95 instructions a text before, ~25 now).
fn has_long_run(bytes: &[u8]) -> bool {
    let token = |b: u8| CLASS[usize::from(b)] & TOKEN != 0;
    let mut k = MIN_RUN - 1;
    while let Some(&b) = bytes.get(k) {
        if !token(b) {
            k += MIN_RUN;
            continue;
        }
        let mut start = k;
        while start > 0 && token(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = k + 1;
        while end < bytes.len() && token(bytes[end]) {
            end += 1;
        }
        if end - start >= MIN_RUN {
            return true;
        }
        k = end + MIN_RUN;
    }
    false
}

/// The most digits in one group where single spaces or dashes may separate them
/// (`4111 1111 1111 1111`, `123-45-6789`): a card or an SSN needs a group this long, and a
/// timestamp (`2026-11-25T01:34:45`) has none longer than 8.
pub(crate) fn longest_digit_group(bytes: &[u8]) -> usize {
    if bytes.len() > 64 {
        // Prose, mostly letters: the branches predict well, and cost less than the
        // arithmetic below (the text-heavy bench row: ~170 ns more without this).
        return branchy_digit_group(bytes);
    }
    // Without branches on the bytes: hex ids and UUIDs (digits and letters mixed at
    // random) made the branchy loop mispredict on most bytes (perf: 17% of `audit`).
    let (mut best, mut run, mut prev_digit) = (0usize, 0usize, false);
    for &b in bytes {
        let digit = b.is_ascii_digit();
        let joins = prev_digit & matches!(b, b' ' | b'-' | b'.' | b'_');
        run = (run + usize::from(digit)) * usize::from(digit | joins);
        best = best.max(run);
        prev_digit = digit;
    }
    best
}

/// [`longest_digit_group`] with a branch per byte (and the reference its tests check the
/// branchless loop against).
fn branchy_digit_group(bytes: &[u8]) -> usize {
    let (mut best, mut run, mut prev_digit) = (0, 0, false);
    for &b in bytes {
        if b.is_ascii_digit() {
            run += 1;
            prev_digit = true;
        } else if prev_digit && matches!(b, b' ' | b'-' | b'.' | b'_') {
            prev_digit = false;
        } else {
            best = best.max(run);
            run = 0;
            prev_digit = false;
        }
    }
    best.max(run)
}

/// [`longest_digit_group`] counting only what a regex between `\b`s could match: a group
/// may start at its first digit when a non-word byte (or the start) comes before it, or at
/// any digit after one of its joins; likewise at its end. `0123456789ab` (the tail of a
/// UUID) counts 0; `x1 4111 1111 1111 1111` counts the 16 digits after `x1 `.
pub(crate) fn longest_bounded_digit_group(bytes: &[u8]) -> usize {
    let word = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    let mut best = 0;
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // One joined group: digits, single spaces, dashes, dots or underscores between digits.
        let start = i;
        let mut end = i;
        let mut j = i;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                j += 1;
                end = j;
            } else if matches!(bytes[j], b' ' | b'-' | b'.' | b'_')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        // Where a match may start and end inside the group.
        let left = if start == 0 || !word(start - 1) {
            Some(start)
        } else {
            (start..end)
                .find(|&k| matches!(bytes[k], b' ' | b'-' | b'.' | b'_'))
                .map(|k| k + 1)
        };
        let right = if !word(end) {
            Some(end)
        } else {
            (start..end)
                .rev()
                .find(|&k| matches!(bytes[k], b' ' | b'-' | b'.' | b'_'))
        };
        if let (Some(l), Some(r)) = (left, right) {
            if l < r {
                best = best.max(bytes[l..r].iter().filter(|b| b.is_ascii_digit()).count());
            }
        }
        i = end.max(i + 1);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_groups_are_what_a_regex_between_word_boundaries_can_match() {
        for (t, n) in [
            ("4111 1111 1111 1111", 16),
            ("card=4111111111111111;", 16),
            ("x1 4111 1111 1111 1111", 16),
            ("4111 1111 1111 1111 2x", 16),
            ("0190d3e2-1c4a-7abc-8def-0123456789ab", 0),
            ("0190d3e2-1c4a-7abc-8def-012345678901", 12),
            ("4bf92f3577b34da6a3ce929d0e0e4736", 0),
            ("id4111111111111111", 0),
            ("123-45-6789", 9),
            ("orders:user:551234", 6),
            ("", 0),
        ] {
            assert_eq!(longest_bounded_digit_group(t.as_bytes()), n, "{t:?}");
        }
    }

    #[test]
    fn long_runs_on_random_texts_as_the_plain_loop_finds_them() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 90) as usize;
            let mut y = x;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    // Mostly token bytes, a space now and then: runs of every length.
                    if (y >> 33).is_multiple_of(9) {
                        b' '
                    } else {
                        b'a'
                    }
                })
                .collect();
            let mut run = 0;
            let by_loop = text.iter().any(|&c| {
                run = if c == b'a' { run + 1 } else { 0 };
                run >= MIN_RUN
            });
            assert_eq!(
                has_long_run(&text),
                by_loop,
                "{:?}",
                String::from_utf8_lossy(&text)
            );
        }
    }

    #[test]
    fn group_bits_bound_the_digit_groups() {
        for t in [
            "4111 1111 1111 1111",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "a1-2-3b",
            "12  34",
            "--1--",
        ] {
            let shape = Shape::of(t.as_bytes());
            let longest = longest_digit_group(t.as_bytes());
            for min in 1..20 {
                if longest >= min {
                    assert!(shape.may_have_group(min), "{t:?} {min}");
                }
            }
        }
        let s = Shape::of(b"4bf92f3577b34da6a3ce929d0e0e4736");
        assert!(s.may_have_group(4) && !s.may_have_group(5));
        assert!(has_run(0b1111, 4) && !has_run(0b1011, 3) && has_run(u64::MAX, 64));
    }

    #[test]
    fn digit_groups_as_the_branchy_loop_counts_them() {
        for t in [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "123-45-6789",
            "2026-11-25T01:34:45",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            "1  2",
            "1--2",
            "-1 2-",
            "",
            "12 34 56 78 90 12 34 a 1",
            "took 1523 ms, card 4111 1111 1111 1111 and 123-45-6789 then a long tail of prose 12",
            "1--2 1  2 -1 2- ab12cd 3456-7890 1111 2222 3333 4444 5555 6666 7777 8888 9999 0000",
        ] {
            assert_eq!(
                longest_digit_group(t.as_bytes()),
                branchy_digit_group(t.as_bytes()),
                "{t:?}"
            );
        }
    }

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
            "abcdefghijk abcdefghijk abcdefghijk abcdefghijkl",
            "abcdefghijk abcdefghijk abcdefghijk abcdefghijk",
            "a bcdefghijklm",
            "abcdefghijklm n",
            "           abcdefghijkl",
            "            abcdefghijkl",
            "             abcdefghijkl x",
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
            assert_eq!(longest_digit_group(b), branchy_digit_group(b), "{t:?}");
            assert_eq!(has_long_run(b), by_loop, "{t:?}");
        }
    }
}
