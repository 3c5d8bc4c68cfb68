//! Just enough calendar arithmetic for SigV4: parse the request date, format timestamps for the
//! string to sign and for AWS's error messages. Hand-written to keep the crate free of a date
//! library; all values are UTC seconds since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0')))
}

fn to_unix(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<i64> {
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60;
    valid.then(|| {
        days_from_civil(year, month, day) * 86_400
            + i64::from(hour) * 3600
            + i64::from(minute) * 60
            + i64::from(second)
    })
}

/// `YYYYMMDD'T'HHMMSS'Z'`, the only form AWS accepts in `X-Amz-Date`.
pub(crate) fn parse_iso_basic(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    to_unix(
        i64::from(digits(&b[0..4])?),
        digits(&b[4..6])?,
        digits(&b[6..8])?,
        digits(&b[9..11])?,
        digits(&b[11..13])?,
        digits(&b[13..15])?,
    )
}

/// The HTTP `Date` form, `Sun, 06 Nov 1994 08:49:37 GMT`. botocore writes the zone as `-0000`
/// when it signs with a `Date` header (Python's `formatdate`), so the numeric UTC zones are
/// accepted too.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let rest = s.split_once(", ").map_or(s, |(_, r)| r);
    let mut parts = rest.split(' ');
    let day = digits(parts.next()?.as_bytes())?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)? as u32 + 1;
    let year_s = parts.next()?;
    if year_s.len() != 4 {
        return None;
    }
    let year = i64::from(digits(year_s.as_bytes())?);
    let mut hms = parts.next()?.split(':');
    let (h, m, sec) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || h.len() != 2 || m.len() != 2 || sec.len() != 2 {
        return None;
    }
    if !matches!(parts.next()?, "GMT" | "UTC" | "+0000" | "-0000") || parts.next().is_some() {
        return None;
    }
    to_unix(
        year,
        month,
        day,
        digits(h.as_bytes())?,
        digits(m.as_bytes())?,
        digits(sec.as_bytes())?,
    )
}

/// Formats as `YYYYMMDD'T'HHMMSS'Z'`.
pub(crate) fn format_iso_basic(unix: i64) -> String {
    let (y, mo, d) = civil_from_days(unix.div_euclid(86_400));
    let secs = unix.rem_euclid(86_400);
    format!(
        "{y:04}{mo:02}{d:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

pub(crate) fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

pub(crate) fn system_time(unix: i64) -> SystemTime {
    if unix >= 0 {
        UNIX_EPOCH + Duration::from_secs(unix as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(unix.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_basic_round_trip() {
        for s in [
            "19700101T000000Z",
            "20150830T123600Z",
            "20000229T235959Z",
            "20240101T000000Z",
            "99991231T235959Z",
        ] {
            assert_eq!(format_iso_basic(parse_iso_basic(s).unwrap()), s);
        }
        assert_eq!(parse_iso_basic("20150830T123600Z"), Some(1_440_938_160));
    }

    #[test]
    fn iso_basic_rejects_malformed() {
        for s in [
            "",
            "201",
            "20150830T123600",
            "2015-08-30T12:36:00Z",
            "20150230T000000Z",
            "20190229T000000Z",
            "20151301T000000Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "2015083OT123600Z",
            "+0150830T123600Z",
        ] {
            assert_eq!(parse_iso_basic(s), None, "{s}");
        }
    }

    #[test]
    fn http_dates() {
        let want = parse_iso_basic("20150830T123600Z");
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), want);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 -0000"), want);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 +0000"), want);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 +0200"), None);
        assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36 GMT"), None);
        assert_eq!(parse_http_date("Sun, 31 Sep 2015 12:36:00 GMT"), None);
        assert_eq!(parse_http_date("20150830T123600Z"), None);
    }

    #[test]
    fn system_time_round_trip() {
        for t in [0, 1, 1_440_938_160, -86_400] {
            assert_eq!(unix_seconds(system_time(t)), t);
        }
    }
}
