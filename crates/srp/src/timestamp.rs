//! The `TIMESTAMP` challenge response: `EEE MMM d HH:mm:ss UTC yyyy` (docs/protocol.md §6).
//!
//! English names, UTC, day of month without leading zero, hours/minutes/seconds always two
//! digits, four-digit year, single spaces. The server signs over the received text, so it
//! accepts only the canonical rendering of an instant (real Cognito rejects a zero-padded day
//! or a wrong weekday). No clock in here: callers pass Unix seconds in.

use crate::SrpError;

/// Default accepted clock skew between the client's TIMESTAMP and the server clock.
pub const DEFAULT_MAX_SKEW_SECS: u32 = 300;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SECS_PER_DAY: i64 = 86_400;

/// Renders Unix seconds (UTC) canonically, e.g. `Sun Mar 1 09:05:07 UTC 2026`.
///
/// Meant for years 0–9999 (the format has a four-digit year); outside that range the year is
/// printed as is and [`parse_timestamp`] will not accept the result.
pub fn format_timestamp(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(SECS_PER_DAY);
    let secs = unix_secs.rem_euclid(SECS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    // 1970-01-01 was a Thursday (index 4).
    let wd = (days + 4).rem_euclid(7) as usize;
    format!(
        "{} {} {} {:02}:{:02}:{:02} UTC {:04}",
        WEEKDAYS[wd],
        MONTHS[(m - 1) as usize],
        d,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        y
    )
}

/// Parses a TIMESTAMP and returns its Unix seconds, accepting only the canonical form.
///
/// * [`SrpError::TimestampMalformed`] — not of the shape at all (wrong field count, unknown
///   English names, non-numbers, impossible date/time): Cognito answers
///   `InvalidParameterException` "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in
///   english."
/// * [`SrpError::TimestampNotCanonical`] — readable but not byte-identical to the canonical
///   rendering of its instant (zero-padded day, single-digit hour, wrong weekday, a zone other
///   than `UTC`): Cognito answers `NotAuthorizedException`.
pub fn parse_timestamp(s: &str) -> Result<i64, SrpError> {
    use SrpError::{TimestampMalformed as Bad, TimestampNotCanonical as NonCanon};

    let fields: Vec<&str> = s.split(' ').collect();
    let [wd, mon, day, time, zone, year] = fields[..] else {
        return Err(Bad);
    };
    if !WEEKDAYS.contains(&wd) {
        return Err(Bad);
    }
    let month = MONTHS.iter().position(|&m| m == mon).ok_or(Bad)? as u32 + 1;
    let day = small_number(day, 2).ok_or(Bad)?;
    let mut hms = time.split(':');
    let (Some(h), Some(mi), Some(se), None) = (hms.next(), hms.next(), hms.next(), hms.next())
    else {
        return Err(Bad);
    };
    let (h, mi, se) = (
        small_number(h, 2).ok_or(Bad)?,
        small_number(mi, 2).ok_or(Bad)?,
        small_number(se, 2).ok_or(Bad)?,
    );
    if year.len() != 4 {
        return Err(Bad);
    }
    let year = small_number(year, 4).ok_or(Bad)? as i64;
    if zone.is_empty() || !zone.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Bad);
    }
    if day == 0 || day > days_in_month(year, month) || h > 23 || mi > 59 || se > 59 {
        return Err(Bad);
    }
    let unix = days_from_civil(year, month, day) * SECS_PER_DAY
        + i64::from(h) * 3600
        + i64::from(mi) * 60
        + i64::from(se);
    if zone != "UTC" || format_timestamp(unix) != s {
        return Err(NonCanon);
    }
    Ok(unix)
}

/// [`parse_timestamp`], then requires `|now - timestamp| <= max_skew_secs`
/// ([`SrpError::TimestampSkew`] otherwise). Returns the timestamp's Unix seconds.
pub fn check_timestamp(s: &str, now_unix_secs: i64, max_skew_secs: u32) -> Result<i64, SrpError> {
    let t = parse_timestamp(s)?;
    if t.abs_diff(now_unix_secs) > u64::from(max_skew_secs) {
        return Err(SrpError::TimestampSkew);
    }
    Ok(t)
}

/// 1..=`max_len` ASCII digits.
fn small_number(s: &str, max_len: usize) -> Option<u32> {
    if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Proleptic Gregorian calendar conversions (H. Hinnant, "chrono-Compatible Low-Level Date
// Algorithms").
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-03-01T09:05:07Z
    const T_MAR_2026: i64 = 1_772_355_907;

    #[test]
    fn renders_spec_examples() {
        assert_eq!(
            format_timestamp(1_546_322_769),
            "Tue Jan 1 06:06:09 UTC 2019"
        );
        assert_eq!(format_timestamp(T_MAR_2026), "Sun Mar 1 09:05:07 UTC 2026");
        assert_eq!(format_timestamp(0), "Thu Jan 1 00:00:00 UTC 1970");
        assert_eq!(
            format_timestamp(951_782_400),
            "Tue Feb 29 00:00:00 UTC 2000"
        );
        assert_eq!(format_timestamp(-1), "Wed Dec 31 23:59:59 UTC 1969");
    }

    #[test]
    fn parses_vector_timestamps() {
        for s in [
            "Sun Mar 1 09:05:07 UTC 2026",
            "Wed Dec 31 23:59:59 UTC 2025",
            "Mon Feb 2 00:00:01 UTC 2026",
            "Tue Jul 10 11:01:00 UTC 2018",
            "Thu Nov 26 09:42:09 UTC 2026",
            "Tue Jan 1 06:06:09 UTC 2019",
        ] {
            let t = parse_timestamp(s).unwrap();
            assert_eq!(format_timestamp(t), s);
        }
        assert_eq!(
            parse_timestamp("Sun Mar 1 09:05:07 UTC 2026"),
            Ok(T_MAR_2026)
        );
    }

    #[test]
    fn rejects_non_canonical() {
        for s in [
            "Sun Mar 01 09:05:07 UTC 2026", // padded day (measured on AWS)
            "Mon Mar 1 09:05:07 UTC 2026",  // wrong weekday (measured on AWS)
            "Sun Mar 1 9:05:07 UTC 2026",   // unpadded hour
            "Sun Mar 1 09:5:07 UTC 2026",
            "Sun Mar 1 09:05:7 UTC 2026",
            "Sun Mar 1 09:05:07 GMT 2026",
        ] {
            assert_eq!(
                parse_timestamp(s),
                Err(SrpError::TimestampNotCanonical),
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "2026-03-01T09:05:07Z",
            "Sun Mar  1 09:05:07 UTC 2026", // double space
            "Sun Mar 1 09:05:07 UTC 2026 ", // trailing space
            "So Mär 1 09:05:07 UTC 2026",   // not English
            "sun mar 1 09:05:07 UTC 2026",  // case
            "Sun Mar 1 09:05 UTC 2026",     // no seconds
            "Sun Mar 1 09:05:07:00 UTC 2026",
            "Sun Mar 1 24:00:00 UTC 2026",
            "Sun Mar 1 09:60:07 UTC 2026",
            "Sun Mar 1 09:05:60 UTC 2026",
            "Sun Mar 0 09:05:07 UTC 2026",
            "Sun Mar 32 09:05:07 UTC 2026",
            "Mon Feb 29 09:05:07 UTC 2026", // not a leap year
            "Sun Mar 001 09:05:07 UTC 2026",
            "Sun Mar 1 09:05:07 UTC 26",
            "Sun Mar 1 09:05:07 UTC 02026",
            "Sun Mar 1 09:05:07 UTC +026",
            "Sun Mar +1 09:05:07 UTC 2026",
            "Sun Mar 1 09:05:07 utc 2026",
            "Sun Mar 1 09:05:07 Z1 2026",
        ] {
            assert_eq!(
                parse_timestamp(s),
                Err(SrpError::TimestampMalformed),
                "{s:?}"
            );
        }
    }

    #[test]
    fn skew_window() {
        let s = "Sun Mar 1 09:05:07 UTC 2026";
        assert_eq!(check_timestamp(s, T_MAR_2026 + 300, 300), Ok(T_MAR_2026));
        assert_eq!(check_timestamp(s, T_MAR_2026 - 300, 300), Ok(T_MAR_2026));
        assert_eq!(
            check_timestamp(s, T_MAR_2026 + 301, 300),
            Err(SrpError::TimestampSkew)
        );
        assert_eq!(
            check_timestamp(s, T_MAR_2026 - 301, 300),
            Err(SrpError::TimestampSkew)
        );
        assert_eq!(
            check_timestamp("Sun Mar 01 09:05:07 UTC 2026", T_MAR_2026, 300),
            Err(SrpError::TimestampNotCanonical)
        );
    }

    #[test]
    fn round_trips_every_day_for_decades() {
        let mut t = -86_400 * 365 * 80 + 3_723; // 1890 … 2050, at 01:02:03
        while t < 86_400 * 365 * 80 {
            let s = format_timestamp(t);
            assert_eq!(parse_timestamp(&s), Ok(t), "{s}");
            t += 86_400;
        }
    }
}
