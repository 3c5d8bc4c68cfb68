//! SHA-256, the HMAC key chain and constant-time comparisons, all from aws-lc-rs.

use aws_lc_rs::{constant_time, digest, hmac};
use zeroize::Zeroizing;

pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

/// Decodes the 64 lower-case hex digits SDKs send; anything else cannot match what AWS
/// computes (AWS compares the hex strings), so it is rejected here rather than normalised.
pub(crate) fn decode_signature(s: &str) -> Option<[u8; 32]> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks_exact(2).enumerate() {
        out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
    }
    Some(out)
}

fn hmac_sign(key: &[u8], data: &[u8]) -> Zeroizing<[u8; 32]> {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(tag.as_ref());
    out
}

/// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
///
/// Not cached: the chain is four HMACs (microseconds), and a cache would have to be invalidated
/// whenever a secret is rotated or deleted.
pub(crate) fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut k_secret = Zeroizing::new(Vec::with_capacity(4 + secret.len()));
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac_sign(&k_secret, date.as_bytes());
    let k_region = hmac_sign(&*k_date, region.as_bytes());
    let k_service = hmac_sign(&*k_region, service.as_bytes());
    let k_signing = hmac_sign(&*k_service, b"aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, &*k_signing)
}

/// Constant-time check of the provided signature against HMAC(kSigning, string to sign).
pub(crate) fn signature_matches(
    key: &hmac::Key,
    string_to_sign: &[u8],
    provided: &[u8; 32],
) -> bool {
    hmac::verify(key, string_to_sign, provided).is_ok()
}

/// The signature of an outgoing request (`sign`), in hex.
pub(crate) fn sign_hex(key: &hmac::Key, string_to_sign: &[u8]) -> String {
    hex(hmac::sign(key, string_to_sign).as_ref())
}

/// Compares two secrets without leaking where they differ or (beyond the hash) their lengths.
pub(crate) fn secrets_equal(a: &[u8], b: &[u8]) -> bool {
    constant_time::verify_slices_are_equal(&sha256(a), &sha256(b)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_key_derivation() {
        // The worked example of AWS's SigV4 documentation (IAM ListUsers, 2015-08-30).
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20150830",
            "us-east-1",
            "iam",
        );
        let sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
                   f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59";
        assert_eq!(
            sign_hex(&key, sts.as_bytes()),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        );
    }

    #[test]
    fn signature_decoding() {
        let lower = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        assert_eq!(hex(&decode_signature(lower).unwrap()), lower);
        assert!(decode_signature(&lower.to_uppercase()).is_none());
        assert!(decode_signature(&lower[..62]).is_none());
        assert!(decode_signature("").is_none());
        assert!(decode_signature(&format!("{}g", &lower[..63])).is_none());
    }

    #[test]
    fn secret_comparison() {
        assert!(secrets_equal(b"token", b"token"));
        assert!(!secrets_equal(b"token", b"token2"));
        assert!(!secrets_equal(b"", b"x"));
    }
}
