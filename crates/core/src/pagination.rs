//! Opaque pagination tokens: the last key of the previous page, base64url-encoded.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::CoreError;

pub fn encode(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
}

/// Pages are fetched with one row more than `limit`: its presence says another page exists.
/// Trims that row and gives the token for the next page (the last row's key), if any.
pub fn next_token<T>(rows: &mut Vec<T>, limit: u32, key: impl Fn(&T) -> &str) -> Option<String> {
    if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|r| encode(key(r)))
    } else {
        None
    }
}

pub fn decode(token: Option<&str>) -> Result<Option<String>, CoreError> {
    let Some(t) = token else { return Ok(None) };
    URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .map(Some)
        .ok_or_else(|| CoreError::InvalidParameter("Invalid pagination token.".into()))
}

/// A page token on (creation time, id), for lists ordered by creation (import jobs, identity
/// providers, terms).
pub fn decode_cursor(token: Option<&str>) -> Result<Option<(i64, String)>, CoreError> {
    decode(token)?
        .map(|t| {
            t.split_once(' ')
                .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.to_string())))
                .ok_or_else(|| CoreError::InvalidParameter("Invalid pagination token.".into()))
        })
        .transpose()
}

/// [`next_token`] for a (creation time, id) cursor.
pub fn next_cursor<T>(
    rows: &mut Vec<T>,
    limit: u32,
    cursor: impl Fn(&T) -> (i64, &str),
) -> Option<String> {
    if rows.len() <= limit as usize {
        return None;
    }
    rows.truncate(limit as usize);
    rows.last().map(|r| {
        let (at, id) = cursor(r);
        encode(&format!("{at} {id}"))
    })
}
