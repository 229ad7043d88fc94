//! Request ids: generated (UUIDv7, time-ordered) or accepted from a caller when sane.

use std::cell::Cell;
use std::fmt;
use std::hash::{BuildHasher, RandomState};
use std::time::{SystemTime, UNIX_EPOCH};

/// A request id: a UUIDv7 (`0192a4c7-5e1b-7c3d-9f2a-1b2c3d4e5f60`, sortable by time) or a
/// sanitized incoming id. Stored inline, no allocation.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestId {
    bytes: [u8; MAX_LEN],
    len: u8,
}

/// The longest incoming id accepted.
pub const MAX_LEN: usize = 64;

/// 64 random bits from a per-thread SplitMix64 generator seeded by the standard library's
/// random keys (request ids, W3C span ids: unique, not secret).
pub(crate) fn random_u64() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(std::thread::current().id()) | 1);
    }
    STATE.with(|s| {
        let mut z = s.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        s.set(z);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    })
}

impl RequestId {
    /// A fresh UUIDv7: 48 bits of milliseconds, then 74 random bits (from a per-thread
    /// generator seeded by the standard library's random keys), so ids from many threads
    /// and processes do not collide and sort by creation time.
    pub fn generate() -> RequestId {
        let next = random_u64;
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let (a, b) = (next(), next());
        let hi = (ms << 16) | 0x7000 | (a & 0x0fff); // time, version 7, rand_a
        let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000; // variant, rand_b
        let mut id = RequestId {
            bytes: [0; MAX_LEN],
            len: 36,
        };
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut pos = 0;
        for (i, nibble) in (0..32).map(|i| {
            let word = if i < 16 { hi } else { lo };
            (i, (word >> (60 - 4 * (i % 16))) & 0xf)
        }) {
            if matches!(i, 8 | 12 | 16 | 20) {
                id.bytes[pos] = b'-';
                pos += 1;
            }
            id.bytes[pos] = HEX[nibble as usize];
            pos += 1;
        }
        id
    }

    /// `incoming` when it is a sane id — 1 to 64 characters among ASCII letters, digits and
    /// `- _ . : /` — so a hostile header can neither forge a log line nor bloat it; `None`
    /// otherwise.
    pub fn accept(incoming: &str) -> Option<RequestId> {
        let b = incoming.as_bytes();
        let sane = !b.is_empty()
            && b.len() <= MAX_LEN
            && b.iter().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':' | b'/')
            });
        sane.then(|| {
            let mut id = RequestId {
                bytes: [0; MAX_LEN],
                len: b.len() as u8,
            };
            id.bytes[..b.len()].copy_from_slice(b);
            id
        })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII was ever written.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

impl AsRef<str> for RequestId {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn uuid_v7_shape_unique_and_time_ordered() {
        let ids: Vec<RequestId> = (0..10_000).map(|_| RequestId::generate()).collect();
        let set: HashSet<&str> = ids.iter().map(RequestId::as_str).collect();
        assert_eq!(set.len(), ids.len());
        for id in &ids {
            let s = id.as_str();
            assert_eq!(s.len(), 36);
            assert_eq!(&s[14..15], "7", "version 7: {s}");
            assert!(matches!(&s[19..20], "8" | "9" | "a" | "b"), "variant: {s}");
        }
        let first = &ids[0].as_str()[..13];
        let last = &ids[ids.len() - 1].as_str()[..13];
        assert!(first <= last, "time-ordered prefix");
    }

    #[test]
    fn hostile_ids_are_refused() {
        assert_eq!(
            RequestId::accept("abc-123_x.y:z/1").unwrap().as_str(),
            "abc-123_x.y:z/1"
        );
        for bad in [
            "",
            "a b",
            "x\ny",
            "{\"level\":\"ERROR\"}",
            "\u{1b}[2J",
            "é",
            &"a".repeat(65),
        ] {
            assert!(RequestId::accept(bad).is_none(), "{bad:?}");
        }
    }
}
