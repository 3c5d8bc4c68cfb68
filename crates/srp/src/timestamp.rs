//! The `TIMESTAMP` challenge response: `EEE MMM d HH:mm:ss UTC yyyy` (docs/protocol.md §6).
//!
//! English names, UTC, day of month without leading zero, hours/minutes/seconds always two
//! digits, four-digit year, single spaces. The server signs over the received text, so it
//! accepts only the canonical rendering of an instant (real Cognito rejects a zero-padded day
//! or a wrong weekday). No clock in here: callers pass Unix seconds in.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

use crate::SrpError;

/// Default accepted clock skew between the client's TIMESTAMP and the server clock.
pub const DEFAULT_MAX_SKEW_SECS: u32 = 300;

/// `EEE MMM d HH:mm:ss UTC yyyy`.
const CANONICAL: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short] [month repr:short] [day padding:none] [hour]:[minute]:[second] UTC [year]"
);
/// The same without the zone, the day and the time of day read with or without padding.
const LENIENT: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short] [month repr:short] [day padding:none] [hour padding:none]:[minute padding:none]:[second padding:none] [year]"
);
const LENIENT_NO_WEEKDAY: &[BorrowedFormatItem<'static>] = format_description!(
    "[month repr:short] [day padding:none] [hour padding:none]:[minute padding:none]:[second padding:none] [year]"
);
const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/// Renders Unix seconds (UTC) canonically, e.g. `Sun Mar 1 09:05:07 UTC 2026`.
///
/// Meant for years 0–9999 (the format has a four-digit year); outside it the result is empty
/// and [`parse_timestamp`] will not accept it.
pub fn format_timestamp(unix_secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix_secs)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .and_then(|t| t.format(CANONICAL).ok())
        .unwrap_or_default()
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
    let [wd, mon, day, clock, zone, year] = fields[..] else {
        return Err(Bad);
    };
    if zone.is_empty() || !zone.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(Bad);
    }
    // Read leniently (a padded or unpadded day and time of day): what is readable but not
    // canonical is told apart below, by rendering it again.
    let date_and_time = format!("{mon} {day} {clock} {year}");
    let when = match time::PrimitiveDateTime::parse(&format!("{wd} {date_and_time}"), LENIENT) {
        Ok(t) => t,
        // `time` refuses a weekday that is not the date's: readable, so merely not canonical.
        Err(_)
            if WEEKDAYS.contains(&wd)
                && time::PrimitiveDateTime::parse(&date_and_time, LENIENT_NO_WEEKDAY).is_ok() =>
        {
            return Err(NonCanon)
        }
        Err(_) => return Err(Bad),
    };
    let unix = when.assume_utc().unix_timestamp();
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
