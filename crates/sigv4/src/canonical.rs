//! Canonical request pieces, rebuilt from the request exactly as it arrived.
//!
//! The server sees the path and query as they were put on the wire (already percent-encoded by
//! the SDK); the SDK built its canonical request from that same wire form. Each helper here
//! therefore works on raw bytes and reproduces what the SDKs do for non-S3 services.

use crate::Header;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 unreserved characters: never percent-encoded in a canonical request.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// SigV4's `UriEncode`: every byte but the unreserved ones (and `/` in paths) becomes `%XX`
/// with upper-case hex.
fn uri_encode_into(out: &mut String, bytes: &[u8], keep_slash: bool) {
    for &b in bytes {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(b & 0xf)]));
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Form-style decoding as the SDK signers apply it to an existing query string (`+` is a space;
/// a `%` that starts no valid escape is kept as a literal byte).
pub(crate) fn query_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let escaped = match b.get(i..i + 3) {
            Some([b'%', hi, lo]) => hex_val(*hi).zip(hex_val(*lo)),
            _ => None,
        };
        match (escaped, b[i]) {
            (Some((hi, lo)), _) => {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, other) => out.push(other),
        }
        i += 1;
    }
    out
}

/// Canonical URI for non-S3 services: remove `.`/`..` and empty segments (RFC 3986 5.2.4, as the
/// SDKs normalize), then percent-encode the wire path once more, so `%3D` becomes `%253D`.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    if raw_path.is_empty() || raw_path == "/" {
        return "/".to_owned();
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing_slash = ["/", "/.", "/..", "/./", "/../"]
        .iter()
        .any(|suffix| raw_path.ends_with(suffix))
        || raw_path == "."
        || raw_path == "..";
    let mut out = String::with_capacity(raw_path.len() + 8);
    for segment in &segments {
        out.push('/');
        uri_encode_into(&mut out, segment.as_bytes(), false);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    out
}

/// One decoded query parameter.
pub(crate) struct QueryParam {
    pub(crate) key: Vec<u8>,
    pub(crate) value: Vec<u8>,
}

/// A query value as SigV4 encodes it (every byte but the unreserved ones, `/` included).
pub(crate) fn encode_query_value(bytes: &[u8]) -> String {
    let mut out = String::new();
    uri_encode_into(&mut out, bytes, false);
    out
}

/// Splits a raw query string (no leading `?`) into decoded parameters. Empty pieces (`a=1&&b=2`)
/// are dropped, as the SDKs' parsers do; a piece with no `=` has an empty value.
pub(crate) fn parse_query(raw: &str) -> Vec<QueryParam> {
    raw.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            QueryParam {
                key: query_decode(k),
                value: query_decode(v),
            }
        })
        .collect()
}

/// Canonical query string: every name and value encoded, sorted by encoded name then value.
/// `skip` leaves out one parameter name (`X-Amz-Signature` for presigned requests).
pub(crate) fn canonical_query(params: &[QueryParam], skip: Option<&[u8]>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .filter(|p| skip != Some(p.key.as_slice()))
        .map(|p| {
            let mut k = String::new();
            let mut v = String::new();
            uri_encode_into(&mut k, &p.key, false);
            uri_encode_into(&mut v, &p.value, false);
            (k, v)
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// Values of every header called `lower_name` (ASCII case-insensitive), in arrival order.
pub(crate) fn header_values<'a>(
    headers: &'a [Header<'a>],
    lower_name: &'a str,
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |(name, _)| name.eq_ignore_ascii_case(lower_name))
        .map(|(_, value)| *value)
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// Appends the canonical value of a header: each occurrence trimmed with inner whitespace runs
/// collapsed to one space (botocore, the JS and Java SDKs all collapse tabs too), occurrences
/// joined by commas.
pub(crate) fn push_canonical_header_value<'a>(
    out: &mut Vec<u8>,
    values: impl Iterator<Item = &'a [u8]>,
) {
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let mut pending_space = false;
        let mut wrote = false;
        for &b in value {
            if is_space(b) {
                pending_space = wrote;
            } else {
                if pending_space {
                    out.push(b' ');
                    pending_space = false;
                }
                out.push(b);
                wrote = true;
            }
        }
    }
}

/// The joined canonical value of one header, if present (used for `X-Amz-Date` and friends so
/// they are read exactly as they were signed).
pub(crate) fn canonical_header(headers: &[Header<'_>], lower_name: &str) -> Option<Vec<u8>> {
    let mut values = header_values(headers, lower_name).peekable();
    values.peek()?;
    let mut out = Vec::new();
    push_canonical_header_value(&mut out, values);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths() {
        for (raw, want) in [
            ("", "/"),
            ("/", "/"),
            ("//", "/"),
            ("/foo/bar", "/foo/bar"),
            ("/foo/bar/", "/foo/bar/"),
            ("//example//", "/example/"),
            ("/./", "/"),
            ("/example/..", "/"),
            ("/example1/example2/../..", "/"),
            ("/example/.", "/example/"),
            ("/../foo", "/foo"),
            ("/a/./b/../c", "/a/c"),
            ("/example space/", "/example%20space/"),
            (
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                "/test/%40connections/JBDvjfGEIAMCERw%253D",
            ),
            ("/\u{1234}", "/%E1%88%B4"),
            ("/-._~", "/-._~"),
            ("foo", "/foo"),
        ] {
            assert_eq!(canonical_uri(raw), want, "{raw:?}");
        }
    }

    #[test]
    fn queries() {
        let q = |raw: &str| canonical_query(&parse_query(raw), None);
        assert_eq!(q(""), "");
        assert_eq!(
            q("Param2=value2&Param1=value1"),
            "Param1=value1&Param2=value2"
        );
        assert_eq!(
            q("Param1=value2&Param1=Value1"),
            "Param1=Value1&Param1=value2"
        );
        assert_eq!(q("Param1"), "Param1=");
        assert_eq!(q("a=1&&b=2&"), "a=1&b=2");
        assert_eq!(q("a%20b=c+d"), "a%20b=c%20d");
        assert_eq!(q("k=%2f%2F"), "k=%2F%2F");
        assert_eq!(q("k=100%"), "k=100%25");
        assert_eq!(q("k=%zz"), "k=%25zz");
        assert_eq!(q("k=-._~"), "k=-._~");
        assert_eq!(q("\u{1234}=bar"), "%E1%88%B4=bar");
        let signed = canonical_query(
            &parse_query("b=2&X-Amz-Signature=abc&a=1"),
            Some(b"X-Amz-Signature"),
        );
        assert_eq!(signed, "a=1&b=2");
    }

    #[test]
    fn header_values_are_trimmed_and_joined() {
        let headers: Vec<Header<'_>> = vec![
            ("My-Header1", b"  value1  ".as_slice()),
            ("my-header2", b"\"a   b \t c\"".as_slice()),
            ("MY-HEADER1", b"value2".as_slice()),
            ("empty", b"".as_slice()),
        ];
        let get = |n| canonical_header(&headers, n).map(|v| String::from_utf8(v).unwrap());
        assert_eq!(get("my-header1").as_deref(), Some("value1,value2"));
        assert_eq!(get("my-header2").as_deref(), Some("\"a b c\""));
        assert_eq!(get("empty").as_deref(), Some(""));
        assert_eq!(get("absent"), None);
    }
}
