//! RFC 3339 timestamps in UTC with microseconds: `2026-11-25T01:34:45.123456Z`.
//!
//! Written by hand instead of through `time`/`chrono`: the calendar part is cached per thread
//! and only recomputed when the second changes, so an event pays for a clock read, a
//! 20-byte copy and six digits.

use std::cell::{Cell, RefCell};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

thread_local! {
    /// The last second seen by this thread, and its `YYYY-MM-DDTHH:MM:SS`.
    static CACHE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

thread_local! {
    /// The event being dispatched on this thread (its address and its callsite's) and the
    /// time [`TimestampLayer`] read for it.
    static STAMP: Cell<(usize, usize, SystemTime)> = const { Cell::new((0, 0, UNIX_EPOCH)) };
}

fn key(event: &Event<'_>) -> (usize, usize) {
    (
        std::ptr::from_ref(event) as usize,
        std::ptr::from_ref(event.metadata()) as usize,
    )
}

/// The time of `event`: the one [`TimestampLayer`] read for it, else now.
pub(crate) fn event_time(event: &Event<'_>) -> SystemTime {
    let (a, b) = key(event);
    match STAMP.try_with(Cell::get) {
        Ok((x, y, t)) if x == a && y == b => t,
        _ => SystemTime::now(),
    }
}

/// Sets the time of `event` (a recorded event written later keeps its own).
pub(crate) fn set_event_time(event: &Event<'_>, time: SystemTime) {
    let (a, b) = key(event);
    let _ = STAMP.try_with(|s| s.set((a, b, time)));
}

/// Reads the clock once per event for every destination after it, so the console line
/// and the file line of one event carry the same timestamp (and the clock is read once).
///
/// Put it before [`JsonLayer`](crate::JsonLayer) and [`ConsoleLayer`](crate::ConsoleLayer)
/// under the same filter (the preset does): `TimestampLayer.and_then(json).and_then(console)`.
/// Without it each formatter reads the clock itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimestampLayer;

impl<S: Subscriber> Layer<S> for TimestampLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let (a, b) = key(event);
        let _ = STAMP.try_with(|s| s.set((a, b, SystemTime::now())));
    }
}

/// Appends `now` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (times before 1970 are clamped to the epoch).
pub(crate) fn write_rfc3339(buf: &mut String, now: SystemTime) {
    let d = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let cached = CACHE.try_with(|c| {
        let Ok(mut c) = c.try_borrow_mut() else {
            return false;
        };
        if c.0 != secs || c.1.is_empty() {
            c.1.clear();
            c.1.push_str(std::str::from_utf8(&civil(secs)).unwrap_or("1970-01-01T00:00:00"));
            c.0 = secs;
        }
        buf.push_str(&c.1);
        true
    });
    if cached != Ok(true) {
        buf.push_str(std::str::from_utf8(&civil(secs)).unwrap_or("1970-01-01T00:00:00"));
    }
    let m = d.subsec_micros();
    buf.push('.');
    for div in [100_000, 10_000, 1_000, 100, 10, 1] {
        buf.push(char::from(b'0' + (m / div % 10) as u8));
    }
    buf.push('Z');
}

/// `t` as prodlog writes times: `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC, microseconds).
pub fn format_rfc3339(t: SystemTime) -> String {
    let mut s = String::with_capacity(27);
    write_rfc3339(&mut s, t);
    s
}

/// Nanoseconds since the Unix epoch of an RFC 3339 time: `2026-11-25T01:34:45.123456Z`,
/// with an offset (`+01:00`), a space for the `T`, any number of fraction digits (up to
/// nine are kept); a missing zone reads as UTC. `None` for anything else.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i.min(start + 9)];
        if !digits.is_empty() {
            nanos = digits.parse::<i64>().ok()? * 10i64.pow(9 - digits.len() as u32);
        }
    }
    let offset = match b.get(i) {
        None | Some(b'Z' | b'z') => 0,
        Some(sign @ (b'+' | b'-')) => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' {
                o
            } else {
                -o
            }
        }
        _ => return None,
    };
    // Howard Hinnant's `days_from_civil`.
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(nanos))
}

/// `YYYY-MM-DDTHH:MM:SS` for a Unix second (Howard Hinnant's `civil_from_days`).
fn civil(secs: u64) -> [u8; 19] {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = (yoe + era * 400 + i64::from(month <= 2)).clamp(0, 9999) as u64;
    let mut out = *b"0000-00-00T00:00:00";
    let mut put = |at: usize, width: usize, mut v: u64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month as u64);
    put(8, 2, day as u64);
    put(11, 2, rem / 3600);
    put(14, 2, rem / 60 % 60);
    put(17, 2, rem % 60);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fmt(secs: u64, micros: u32) -> String {
        let mut b = String::new();
        write_rfc3339(
            &mut b,
            UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros.into()),
        );
        b
    }

    #[test]
    fn parse_reads_what_write_writes_and_offsets() {
        let t = UNIX_EPOCH + Duration::from_secs(1_795_570_485) + Duration::from_micros(123_456);
        assert_eq!(
            parse_rfc3339(&format_rfc3339(t)),
            Some(1_795_570_485_123_456_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T02:34:45+01:00"),
            Some(1_795_570_485_000_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-25 01:34:45.5"),
            Some(1_795_570_485_500_000_000)
        );
        assert_eq!(
            parse_rfc3339("2026-11-25T01:34:45.Z"),
            Some(1_795_570_485_000_000_000)
        );
        for bad in [
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-11-25T01:34:4xZ",
            "2026-11-25T01:34:45Q",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn known_instants() {
        assert_eq!(fmt(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(fmt(951_782_400, 7), "2000-02-29T00:00:00.000007Z");
        assert_eq!(fmt(1_795_570_485, 123_456), "2026-11-25T01:34:45.123456Z");
        assert_eq!(fmt(4_102_444_799, 999_999), "2099-12-31T23:59:59.999999Z");
        // same second twice uses the cache, and a new second refreshes it
        assert_eq!(fmt(1_795_570_485, 1), "2026-11-25T01:34:45.000001Z");
        assert_eq!(fmt(1_795_570_486, 1), "2026-11-25T01:34:46.000001Z");
    }
}
