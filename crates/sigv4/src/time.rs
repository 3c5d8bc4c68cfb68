//! The dates of SigV4: the request date (`X-Amz-Date`, or an HTTP `Date` header), and
//! timestamps for the string to sign and for AWS's error messages; all values are UTC seconds
//! since the Unix epoch. The calendar is the `time` crate's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::PrimitiveDateTime;

/// `YYYYMMDD'T'HHMMSS'Z'`.
const ISO_BASIC: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
/// `06 Nov 1994 08:49:37`: an HTTP date after its weekday and before its zone.
const HTTP_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[day] [month repr:short] [year] [hour]:[minute]:[second]");

/// `YYYYMMDD'T'HHMMSS'Z'`, the only form AWS accepts in `X-Amz-Date`.
pub(crate) fn parse_iso_basic(s: &str) -> Option<i64> {
    // Digits only where digits go (no sign, no spaces), then the calendar checks the values.
    let b = s.as_bytes();
    let digits_where_due = b.len() == 16
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 8 | 15) || c.is_ascii_digit());
    if !digits_where_due {
        return None;
    }
    let t = PrimitiveDateTime::parse(s, ISO_BASIC).ok()?;
    Some(t.assume_utc().unix_timestamp())
}

/// The HTTP `Date` form, `Sun, 06 Nov 1994 08:49:37 GMT`. botocore writes the zone as `-0000`
/// when it signs with a `Date` header (Python's `formatdate`), so the numeric UTC zones are
/// accepted too.
pub(crate) fn parse_http_date(s: &str) -> Option<i64> {
    let rest = s.split_once(", ").map_or(s, |(_, r)| r);
    let (when, zone) = rest.rsplit_once(' ')?;
    if !matches!(zone, "GMT" | "UTC" | "+0000" | "-0000") {
        return None;
    }
    let t = PrimitiveDateTime::parse(when, HTTP_DATE).ok()?;
    Some(t.assume_utc().unix_timestamp())
}

/// Formats as `YYYYMMDD'T'HHMMSS'Z'` (empty outside the years 0–9999).
pub(crate) fn format_iso_basic(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .filter(|t| (0..=9999).contains(&t.year()))
        .and_then(|t| t.format(ISO_BASIC).ok())
        .unwrap_or_default()
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
