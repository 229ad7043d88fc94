//! The text as a reader would see it: what hides a secret from rules that read bytes.
//!
//! A key or a separator can be written so that a human still reads `password=…` but the
//! bytes do not say it:
//! - **one round of escaping**: URL (`password%3D…`), HTML entities (`password&#61;…`,
//!   `&equals;`, a numeric one without its `;`), JavaScript, JSON and C (`password\x3d…`,
//!   `\u003d`, `\u{3d}`, octal `\075`);
//! - **invisible characters** inside a word: zero-width spaces and joiners, soft hyphens,
//!   bidi controls, variation selectors, combining accents, a NUL;
//! - **look-alike letters**: fullwidth forms (`ｐａｓｓｗｏｒｄ`), mathematical letters
//!   (`𝐩𝐚𝐬𝐬`), and Cyrillic or Greek letters that look Latin (`pаssword` with a Cyrillic
//!   `а`) — the latter only in a word that reads as Latin once they are mapped (every
//!   letter ASCII or a look-alike: UTS #39's "skeleton"), so Russian or Greek prose is
//!   left as it is;
//! - **a line break** between a key and its separator (`password\n=…`).
//!
//! [`view`] makes that reading: a copy of the text with these undone, and for each of its
//! bytes the offset in the original it came from. The redactor runs its rules over the
//! view too and maps what it finds back, so only the original's secret bytes are replaced
//! and the rest of the line is untouched. A text with none of these shapes costs one test
//! of the byte classes [`Shape`](crate::shape::Shape) already gathers.
//!
//! One round only: `%253D` reads as `%3D`, which is what a reader of the line sees too.

/// The normalised copy of a text and, for each of its bytes, where it came from.
pub(crate) struct View {
    pub(crate) text: String,
    /// `origin[i]`: the offset in the original of the unit view byte `i` came from; one more
    /// entry, the original's length, for the end. `u32`: a scanned text is at most
    /// [`MAX_SCAN_BYTES`](crate::MAX_SCAN_BYTES).
    origin: Vec<u32>,
}

impl View {
    /// The original range of the view's range `start..end`.
    pub(crate) fn original(&self, start: usize, end: usize) -> (usize, usize) {
        (self.origin[start] as usize, self.origin[end] as usize)
    }
}

/// Zero-width, formatting and other invisible code points (Unicode's `Default_Ignorable`
/// set, as far as text in a log can carry it), dropped from the view.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        // Combining diacritical marks: `pa\u{301}ssword` reads as `password` with an accent.
        0x0300..=0x036F |
        0x00AD | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0xE0000..=0xE0FFF)
}

/// The ASCII character a code point is written in place of, whatever the word around it.
fn wide(c: char) -> Option<u8> {
    let u = c as u32;
    match u {
        // Fullwidth ASCII.
        0xFF01..=0xFF5E => Some((u - 0xFEE0) as u8),
        0x3000 => Some(b' '),
        // Mathematical alphanumeric symbols: 13 styles of A-Z a-z, then digits.
        0x1D400..=0x1D6A3 => {
            let i = ((u - 0x1D400) % 52) as u8;
            Some(if i < 26 { b'A' + i } else { b'a' + i - 26 })
        }
        0x1D7CE..=0x1D7FF => Some(b'0' + ((u - 0x1D7CE) % 10) as u8),
        _ => None,
    }
}

/// Cyrillic, Greek and Latin-extension letters that look like an ASCII letter (from
/// Unicode's confusables, the ones fonts draw alike).
fn look_alike(c: char) -> Option<u8> {
    Some(match c {
        'а' | 'α' | 'ɑ' => b'a',
        'А' | 'Α' => b'A',
        'В' | 'Β' => b'B',
        'с' | 'ϲ' => b'c',
        'С' | 'Ϲ' => b'C',
        'ԁ' => b'd',
        'е' | 'ε' => b'e',
        'Е' | 'Ε' => b'E',
        'ɡ' => b'g',
        'һ' => b'h',
        'Н' | 'Η' => b'H',
        'і' | 'ι' | 'ı' => b'i',
        'І' | 'Ι' | 'Ӏ' => b'I',
        'ј' | 'ϳ' => b'j',
        'Ј' => b'J',
        'к' | 'κ' => b'k',
        'К' | 'Κ' => b'K',
        'М' | 'Μ' => b'M',
        'Ν' => b'N',
        'о' | 'ο' | 'σ' => b'o',
        'О' | 'Ο' => b'O',
        'р' | 'ρ' => b'p',
        'Р' | 'Ρ' => b'P',
        'ԛ' => b'q',
        'г' => b'r',
        'ѕ' => b's',
        'Ѕ' => b'S',
        'Т' | 'Τ' => b'T',
        'υ' => b'u',
        'ν' | 'ѵ' => b'v',
        'ԝ' | 'ω' => b'w',
        'х' | 'χ' => b'x',
        'Х' | 'Χ' => b'X',
        'у' | 'γ' => b'y',
        'У' | 'Υ' => b'Y',
        'Ζ' => b'Z',
        _ => return None,
    })
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

/// `%XX`, `&#N;`, `&#xH;`, `&name;`, `\xHH`, `\uHHHH`, `\u{H…}` at `i`: the character and
/// the length of its escape. Only ASCII from `%XX` and `\xHH` (a byte of a multi-byte
/// character alone is not text).
fn unescape(b: &[u8], i: usize) -> Option<(char, usize)> {
    match b[i] {
        b'%' => {
            let v = hex(*b.get(i + 1)?)? * 16 + hex(*b.get(i + 2)?)?;
            (v < 0x80).then(|| (char::from(v as u8), 3))
        }
        b'\\' => match *b.get(i + 1)? {
            // C, Python and old JavaScript octal: `\075`.
            b'0'..=b'3' => {
                let oct = |k: usize| {
                    b.get(i + k)
                        .filter(|c| (b'0'..=b'7').contains(c))
                        .map(|c| u32::from(c - b'0'))
                };
                let v = oct(1)? * 64 + oct(2)? * 8 + oct(3)?;
                (v < 0x80 && v > 0).then(|| (char::from(v as u8), 4))
            }
            b'x' => {
                let v = hex(*b.get(i + 2)?)? * 16 + hex(*b.get(i + 3)?)?;
                (v < 0x80).then(|| (char::from(v as u8), 4))
            }
            b'u' if b.get(i + 2) == Some(&b'{') => {
                let digits = b[i + 3..]
                    .iter()
                    .take(7)
                    .take_while(|c| c.is_ascii_hexdigit())
                    .count();
                if digits == 0 || b.get(i + 3 + digits) != Some(&b'}') {
                    return None;
                }
                let v = b[i + 3..i + 3 + digits]
                    .iter()
                    .try_fold(0u32, |a, &c| Some(a * 16 + hex(c)?))?;
                Some((char::from_u32(v)?, digits + 4))
            }
            b'u' => {
                let v = (2..6).try_fold(0u32, |a, k| Some(a * 16 + hex(*b.get(i + k)?)?))?;
                Some((char::from_u32(v)?, 6))
            }
            _ => None,
        },
        b'&' => {
            // A numeric reference may go without its `;` (browsers read `&#61x` as `=x`).
            if b.get(i + 1) == Some(&b'#') {
                let digits = b[i + 2..]
                    .iter()
                    .take(7)
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                let after = b.get(i + 2 + digits);
                if digits > 0 && after != Some(&b';') {
                    let v: u32 = std::str::from_utf8(&b[i + 2..i + 2 + digits])
                        .ok()?
                        .parse()
                        .ok()?;
                    return (v < 0x80 && v > 0).then(|| (char::from(v as u8), digits + 2));
                }
            }
            let semi = b[i + 1..].iter().take(10).position(|&c| c == b';')? + i + 1;
            let body = &b[i + 1..semi];
            let c = if let Some(num) = body.strip_prefix(b"#") {
                let v = match num.first()? {
                    b'x' | b'X' => num[1..]
                        .iter()
                        .try_fold(0u32, |a, &c| Some(a.checked_mul(16)? + hex(c)?))?,
                    _ => num.iter().try_fold(0u32, |a, &c| {
                        Some(a.checked_mul(10)? + (c as char).to_digit(10)?)
                    })?,
                };
                char::from_u32(v)?
            } else {
                match body {
                    b"equals" => '=',
                    b"colon" => ':',
                    b"quot" => '"',
                    b"apos" => '\'',
                    b"amp" => '&',
                    b"lt" => '<',
                    b"gt" => '>',
                    b"nbsp" => ' ',
                    b"sol" => '/',
                    b"commat" => '@',
                    _ => return None,
                }
            };
            Some((c, semi + 1 - i))
        }
        _ => None,
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether the word around `at` (a look-alike letter) is a Latin word in disguise: an
/// ASCII letter in it, and every other letter a look-alike, wide, or invisible. A word of
/// Greek or Cyrillic alone (`σου`, `пароль`) is prose in its own script. Returns the
/// answer and where the word ends, so a caller asks once per word (linear time, whatever
/// the length of the word).
fn latin_word(text: &str, at: usize) -> (bool, usize) {
    let ok = |c: char| c.is_ascii() || look_alike(c).is_some() || wide(c).is_some() || invisible(c);
    let in_word = |c: char| is_word_char(c) || invisible(c);
    let start = text[..at]
        .char_indices()
        .rev()
        .take_while(|&(_, c)| in_word(c))
        .last()
        .map_or(at, |(i, _)| i);
    let end = text[at..]
        .char_indices()
        .find(|&(_, c)| !in_word(c))
        .map_or(text.len(), |(i, _)| at + i);
    let mut ascii = false;
    for c in text[start..end].chars() {
        if !ok(c) {
            return (false, end);
        }
        ascii |= c.is_ascii_alphabetic();
    }
    (ascii, end)
}

/// Memoises [`latin_word`] for the word being read.
#[derive(Default)]
struct Words {
    end: usize,
    latin: bool,
}

impl Words {
    fn latin(&mut self, text: &str, at: usize) -> bool {
        if at >= self.end {
            (self.latin, self.end) = latin_word(text, at);
        }
        self.latin
    }
}

/// A line break (with blanks) between a word and a `=` or `:`: the length to skip.
fn break_before_separator(b: &[u8], i: usize) -> Option<usize> {
    // The last byte before the break and the blanks ahead of it.
    let before = b[..i].iter().rposition(|c| !matches!(c, b' ' | b'\t'))?;
    let prev = b[before];
    if !(prev.is_ascii_alphanumeric() || matches!(prev, b'_' | b'"' | b'\'')) {
        return None;
    }
    let n = b[i..]
        .iter()
        .take_while(|c| matches!(c, b'\r' | b'\n' | b' ' | b'\t' | 0))
        .count();
    matches!(b.get(i + n), Some(b'=' | b':')).then_some(n)
}

/// Whether anything in `text` would change in its view: each kind of shape is looked for
/// with `memchr` (or the standard library's vectorised ASCII test), so a text with a `&` in
/// a query string or a line break costs a few fast scans, not a walk of every byte.
fn anything_to_undo(text: &str) -> bool {
    let b = text.as_bytes();
    // An entity needs its `;`: a query string's `&` alone is not looked at.
    let entities = memchr::memchr(b';', b).is_some() || memchr::memmem::find(b, b"&#").is_some();
    memchr::memchr2_iter(b'%', b'\\', b).any(|i| unescape(b, i).is_some())
        || (entities && memchr::memchr_iter(b'&', b).any(|i| unescape(b, i).is_some()))
        || memchr::memchr(0, b).is_some()
        || memchr::memchr2_iter(b'\r', b'\n', b).any(|i| break_before_separator(b, i).is_some())
        || (!text.is_ascii() && {
            let mut words = Words::default();
            text.char_indices().any(|(i, c)| {
                !c.is_ascii()
                    && (invisible(c)
                        || wide(c).is_some()
                        || (look_alike(c).is_some() && words.latin(text, i)))
            })
        })
}

/// The view of `text`, or `None` when it reads as it is written (nothing to undo).
pub(crate) fn view(text: &str) -> Option<View> {
    if !anything_to_undo(text) {
        return None;
    }
    let b = text.as_bytes();
    let mut out: Option<View> = None;
    let mut words = Words::default();
    // Copies `text[from..i]` into the view once the first change is seen.
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let change: Option<(Option<char>, usize)> = match c {
            b'%' | b'\\' | b'&' => unescape(b, i).map(|(ch, n)| (Some(ch), n)),
            0 => Some((None, 1)),
            b'\r' | b'\n' => break_before_separator(b, i).map(|n| (None, n)),
            0x80.. => {
                let ch = text[i..].chars().next().unwrap_or('\u{FFFD}');
                let n = ch.len_utf8();
                if invisible(ch) {
                    Some((None, n))
                } else if let Some(a) = wide(ch) {
                    Some((Some(char::from(a)), n))
                } else if let Some(a) = look_alike(ch).filter(|_| words.latin(text, i)) {
                    Some((Some(char::from(a)), n))
                } else {
                    // Not a change: step over the whole character.
                    i += n;
                    continue;
                }
            }
            _ => None,
        };
        let Some((replacement, len)) = change else {
            i += 1;
            continue;
        };
        let v = out.get_or_insert_with(|| View {
            text: String::with_capacity(text.len()),
            origin: Vec::with_capacity(text.len() + 1),
        });
        v.text.push_str(&text[copied..i]);
        v.origin.extend(copied as u32..i as u32);
        if let Some(ch) = replacement {
            let mut buf = [0u8; 4];
            let s = ch.encode_utf8(&mut buf);
            v.text.push_str(s);
            v.origin.extend(std::iter::repeat_n(i as u32, s.len()));
        }
        i += len;
        copied = i;
    }
    let mut v = out?;
    v.text.push_str(&text[copied..]);
    v.origin.extend(copied as u32..=text.len() as u32);
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::view;

    fn seen(t: &str) -> String {
        view(t).map_or_else(|| t.to_owned(), |v| v.text)
    }

    #[test]
    fn undoes_one_round() {
        assert_eq!(seen("password%3Dhunter2"), "password=hunter2");
        assert_eq!(seen("password&#61;x&#x3D;y&equals;z"), "password=x=y=z");
        assert_eq!(seen(r"password\x3dx\u003dy\u{3d}z"), "password=x=y=z");
        assert_eq!(seen("%253D"), "%3D");
        assert_eq!(seen("pass\u{200b}word\u{0}=x"), "password=x");
        assert_eq!(seen("ｐａｓｓｗｏｒｄ＝x"), "password=x");
        assert_eq!(seen("pаsswоrd=x"), "password=x");
        assert_eq!(seen("password\r\n  =x"), "password=x");
        assert_eq!(seen("𝐩𝐚𝐬𝐬𝐰𝐨𝐫𝐝=x"), "password=x");
    }

    #[test]
    fn leaves_text_that_reads_as_written() {
        for t in [
            "plain text 100% done",
            "пароль принят",
            "Γεια σου κόσμε",
            "раѕѕ слово",
            "a & b; c\\n",
            "%zz %4",
            "line one\nline two",
            "é ü ß 日本語",
        ] {
            assert!(view(t).is_none(), "{t}");
        }
    }

    #[test]
    fn maps_back() {
        let t = "x pass\u{200b}word%3Dhunter2 y";
        let v = view(t).unwrap();
        let at = v.text.find("hunter2").unwrap();
        let (s, e) = v.original(at, at + 7);
        assert_eq!(&t[s..e], "hunter2");
    }
}
