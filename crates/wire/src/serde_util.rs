//! Serde helpers shared by the generated code.

use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;

use crate::ApiError;

/// Maps whose values are JSON `null` are treated as absent entries: amazon-cognito-identity-js
/// sends `"DEVICE_KEY": null` when it has no device.
pub fn map_skip_nulls<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    let m: Option<BTreeMap<String, Option<V>>> = Option::deserialize(d)?;
    Ok(m.unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect())
}

pub fn opt_map_skip_nulls<'de, D, V>(d: D) -> Result<Option<BTreeMap<String, V>>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    let m: Option<BTreeMap<String, Option<V>>> = Option::deserialize(d)?;
    Ok(m.map(|m| {
        m.into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect()
    }))
}

/// Encodes a response; operations without an output answer `{}`.
pub fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, ApiError> {
    let bytes = serde_json::to_vec(v).map_err(|_| ApiError::internal())?;
    if bytes == b"null" {
        return Ok(b"{}".to_vec());
    }
    Ok(bytes)
}
