//! Opaque pagination tokens: the last key of the previous page, base64url-encoded.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::CoreError;

pub fn encode(last_key: &str) -> String {
    URL_SAFE_NO_PAD.encode(last_key.as_bytes())
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
