//! What the redactor's test binaries share.
#![allow(dead_code)]

/// A small deterministic generator (xorshift), so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// A random credential: 10 to 30 letters and digits, ending in a digit.
    pub fn secret(&mut self) -> String {
        const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let len = 10 + self.below(21);
        let mut s: String = (0..len)
            .map(|_| char::from(CHARS[self.below(CHARS.len())]))
            .collect();
        s.push(char::from(b'2' + self.below(8) as u8));
        s
    }
}
