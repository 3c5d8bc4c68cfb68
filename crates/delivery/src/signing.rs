//! The one HMAC signature of everything Gatehouse POSTs to an operator's URL (the webhook
//! courier's messages, the Lambda triggers served at a URL): `X-Gatehouse-Timestamp: <unix
//! seconds>` and `X-Gatehouse-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::hmac;
use hyper::header::HeaderValue;

/// Header carrying the Unix time (seconds) at which the request was signed.
pub const TIMESTAMP_HEADER: &str = "X-Gatehouse-Timestamp";
/// Header carrying `sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "X-Gatehouse-Signature";

/// An HMAC-SHA256 key made from a configured secret.
pub(crate) fn key(secret: &str) -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())
}

/// The values of [`TIMESTAMP_HEADER`] and [`SIGNATURE_HEADER`] for `body`, signed now.
pub(crate) fn signed_headers(key: &hmac::Key, body: &[u8]) -> (HeaderValue, HeaderValue) {
    let timestamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Digits, and `sha256=` then hex digits: always valid header values.
    (
        HeaderValue::from(timestamp),
        HeaderValue::from_str(&sign_with(key, timestamp, body))
            .expect("a signature is a valid header value"),
    )
}

/// Computes the `X-Gatehouse-Signature` value for a request body:
/// `sha256=` followed by the lowercase hex HMAC-SHA256, keyed with the secret, of the
/// decimal timestamp, a `.`, and the body bytes exactly as received.
pub fn signature(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    sign_with(&key, timestamp, body)
}

fn sign_with(key: &hmac::Key, timestamp: u64, body: &[u8]) -> String {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    let tag = ctx.sign();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for byte in tag.as_ref() {
        out.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    out
}

/// Checks a received request the way a Rust receiver would: the signature must match
/// (compared in constant time) and the timestamp must lie within `tolerance` of `now`
/// (both Unix seconds), which bounds replays.
pub fn verify_signature(
    secret: &[u8],
    timestamp_header: &str,
    body: &[u8],
    signature_header: &str,
    now: u64,
    tolerance: Duration,
) -> bool {
    let Ok(timestamp) = timestamp_header.trim().parse::<u64>() else {
        return false;
    };
    if now.abs_diff(timestamp) > tolerance.as_secs() {
        return false;
    }
    let Some(tag) = signature_header
        .trim()
        .strip_prefix("sha256=")
        .and_then(decode_hex)
    else {
        return false;
    };
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut data = Vec::with_capacity(24 + body.len());
    data.extend_from_slice(timestamp_header.trim().as_bytes());
    data.push(b'.');
    data.extend_from_slice(body);
    hmac::verify(&key, &data, &tag).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_a_known_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(b"what do ya want for nothing?");
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let tag: String = ctx
            .sign()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(tag, expected);
        // And our framing: "<timestamp>.<body>".
        let ours = signature(b"Jefe", 1700000000, b"{}");
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(b"1700000000.{}");
        let direct: String = ctx
            .sign()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(ours, format!("sha256={direct}"));
    }

    #[test]
    fn signed_headers_verify() {
        let body = br#"{"triggerSource":"PreSignUp_SignUp"}"#;
        let (timestamp, sig) = signed_headers(&key("s3cret"), body);
        let (timestamp, sig) = (timestamp.to_str().unwrap(), sig.to_str().unwrap());
        let now: u64 = timestamp.parse().unwrap();
        let tolerance = Duration::from_secs(300);
        assert!(verify_signature(
            b"s3cret", timestamp, body, sig, now, tolerance
        ));
        assert!(!verify_signature(
            b"other", timestamp, body, sig, now, tolerance
        ));
    }

    #[test]
    fn verify_accepts_good_and_rejects_bad() {
        let body = br#"{"Version":1}"#;
        let sig = signature(b"s3cret", 1_000, body);
        let ok = |ts: &str, body: &[u8], sig: &str, now: u64| {
            verify_signature(b"s3cret", ts, body, sig, now, Duration::from_secs(300))
        };
        assert!(ok("1000", body, &sig, 1_100));
        assert!(!ok("1000", body, &sig, 1_400), "too old");
        assert!(!ok("1001", body, &sig, 1_000), "other timestamp");
        assert!(!ok("1000", b"{}", &sig, 1_000), "other body");
        assert!(!ok("1000", body, &sig[7..], 1_000), "no prefix");
        assert!(!ok("1000", body, "sha256=zz", 1_000), "not hex");
        assert!(!verify_signature(
            b"other",
            "1000",
            body,
            &sig,
            1_000,
            Duration::from_secs(300)
        ));
    }
}
