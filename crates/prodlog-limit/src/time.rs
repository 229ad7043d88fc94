//! RFC 3339 timestamps for the summaries.

/// `YYYY-MM-DDTHH:MM:SS.fffZ` (`digits` of the fraction: 3 or 6) for a time after the
/// epoch, by Howard Hinnant's `civil_from_days`: a few lines instead of a date library
/// (prodlog-format writes its timestamps the same way).
pub(crate) fn rfc3339(t: std::time::SystemTime, digits: u32) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rem = secs % 86_400;
    let frac = u64::from(d.subsec_nanos()) / 10u64.pow(9 - digits.min(9));
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{frac:0width$}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        width = digits as usize
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_times() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_570_485_123);
        assert_eq!(super::rfc3339(t, 3), "2026-11-25T01:34:45.123Z");
        assert_eq!(
            super::rfc3339(std::time::UNIX_EPOCH, 6),
            "1970-01-01T00:00:00.000000Z"
        );
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(super::rfc3339(leap, 3), "2000-02-29T00:00:00.000Z");
    }
}
