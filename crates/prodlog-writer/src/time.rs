//! RFC 3339 timestamps for the writer's own report lines.

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
