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
