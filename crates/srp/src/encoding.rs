//! Byte encodings the clients use: `enc` ("padHex", Java `BigInteger.toByteArray()` for
//! non-negative values), unpadded lowercase hex, standard base64.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::SrpError;

/// Standard alphabet; emits padding, accepts input with or without it.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// `enc(n)` of docs/protocol.md §3.2: the minimal big-endian two's-complement encoding of the
/// non-negative integer whose unsigned big-endian bytes are `be` (leading zero bytes allowed).
///
/// Leading zero bytes are stripped, then one `00` is prepended if the top bit is set;
/// zero encodes as the single byte `00`. Examples: 200 → `00 c8`, 256 → `01 00`.
pub fn enc(be: &[u8]) -> Vec<u8> {
    let be = crate::group::strip_leading_zeros(be);
    let mut out = Vec::with_capacity(be.len() + 1);
    if be.first().is_none_or(|&b| b & 0x80 != 0) {
        out.push(0);
    }
    out.extend_from_slice(be);
    out
}

/// `hex(enc(n))`, lowercase — the form the JS clients call `padHex` (and the `SALT` wire form).
pub fn pad_hex(be: &[u8]) -> String {
    to_hex_bytes(&enc(be))
}

/// Lowercase hex of the integer without leading zeros (`"0"` for zero): what JavaScript's
/// `BigInteger.toString(16)` and Python's `format(n, "x")` produce (the `SRP_A`/`SRP_B` form).
pub fn to_hex(be: &[u8]) -> String {
    let s = to_hex_bytes(crate::group::strip_leading_zeros(be));
    if s.is_empty() {
        "0".to_owned()
    } else if let Some(rest) = s.strip_prefix('0') {
        rest.to_owned()
    } else {
        s
    }
}

/// Lowercase hex of every byte (two digits each).
pub(crate) fn to_hex_bytes(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses unsigned hex of any length up to `max_digits` (either case, odd length allowed, no
/// sign, no `0x`) into minimal big-endian bytes (zero → empty).
///
/// Errors: [`SrpError::InvalidHex`] for an empty string or a non-hex character,
/// [`SrpError::TooLong`] beyond `max_digits`.
pub fn parse_hex(s: &str, max_digits: usize) -> Result<Vec<u8>, SrpError> {
    if s.is_empty() {
        return Err(SrpError::InvalidHex);
    }
    if s.len() > max_digits {
        return Err(SrpError::TooLong);
    }
    let digits = s.as_bytes();
    let mut out = Vec::with_capacity(digits.len().div_ceil(2));
    // An odd count means the first byte has one digit.
    let (head, rest) = digits.split_at(digits.len() % 2);
    if let Some(&d) = head.first() {
        out.push(hex_val(d)?);
    }
    for pair in rest.chunks_exact(2) {
        out.push(hex_val(pair[0])? << 4 | hex_val(pair[1])?);
    }
    let first = out.iter().position(|&b| b != 0).unwrap_or(out.len());
    out.drain(..first);
    Ok(out)
}

fn hex_val(d: u8) -> Result<u8, SrpError> {
    match d {
        b'0'..=b'9' => Ok(d - b'0'),
        b'a'..=b'f' => Ok(d - b'a' + 10),
        b'A'..=b'F' => Ok(d - b'A' + 10),
        _ => Err(SrpError::InvalidHex),
    }
}

/// Standard base64 with `=` padding (what every client decodes; pycognito requires padding).
pub fn base64_encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Standard-alphabet base64, padding optional.
pub fn base64_decode(s: &str) -> Result<Vec<u8>, SrpError> {
    B64.decode(s).map_err(|_| SrpError::InvalidBase64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_be(n: u64) -> Vec<u8> {
        n.to_be_bytes().to_vec()
    }

    #[test]
    fn enc_examples_from_spec() {
        assert_eq!(pad_hex(&int_be(20)), "14");
        assert_eq!(pad_hex(&int_be(200)), "00c8");
        assert_eq!(pad_hex(&int_be(256)), "0100");
        assert_eq!(pad_hex(&int_be(0x8123abcd)), "008123abcd");
        assert_eq!(pad_hex(&int_be(0x123abcd)), "0123abcd");
        assert_eq!(pad_hex(&int_be(0)), "00");
        assert_eq!(pad_hex(&[]), "00");
        assert_eq!(enc(&[2]), vec![2]);
    }

    /// Java `BigInteger.valueOf(i).toByteArray()` for 0..=256, the non-negative half of the
    /// table in amazon-cognito-identity-js' AuthenticationHelper tests.
    #[test]
    fn enc_matches_java_to_byte_array_for_small_values() {
        for i in 0u64..=256 {
            let expected: Vec<u8> = match i {
                0..=127 => vec![i as u8],
                128..=255 => vec![0, i as u8],
                _ => vec![1, 0],
            };
            assert_eq!(enc(&int_be(i)), expected, "i = {i}");
        }
    }

    #[test]
    fn to_hex_is_unpadded_lowercase() {
        assert_eq!(to_hex(&[]), "0");
        assert_eq!(to_hex(&[0, 0]), "0");
        assert_eq!(to_hex(&[0x0a, 0xbc]), "abc");
        assert_eq!(to_hex(&[0, 0xff, 0x01]), "ff01");
    }

    #[test]
    fn parse_hex_accepts_odd_length_and_strips_zeros() {
        assert_eq!(parse_hex("abc", 10).unwrap(), vec![0x0a, 0xbc]);
        assert_eq!(parse_hex("00FF01", 10).unwrap(), vec![0xff, 0x01]);
        assert_eq!(parse_hex("0", 10).unwrap(), Vec::<u8>::new());
        assert_eq!(parse_hex("", 10), Err(SrpError::InvalidHex));
        assert_eq!(parse_hex("0x12", 10), Err(SrpError::InvalidHex));
        assert_eq!(parse_hex("-1", 10), Err(SrpError::InvalidHex));
        assert_eq!(parse_hex("12 ", 10), Err(SrpError::InvalidHex));
        assert_eq!(parse_hex("é", 10), Err(SrpError::InvalidHex));
        assert_eq!(parse_hex("12345678901", 10), Err(SrpError::TooLong));
    }

    #[test]
    fn base64_round_trip_and_padding() {
        assert_eq!(base64_encode(b"ab"), "YWI=");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(base64_decode("YWI").unwrap(), b"ab");
        assert_eq!(base64_decode("YW-_"), Err(SrpError::InvalidBase64));
    }
}
