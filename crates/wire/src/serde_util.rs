//! Serde helpers shared by the generated code.

use serde::de::Visitor;
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

/// Passes a structure to serde as a map only: AWS answers a JSON array where an object belongs
/// with `SerializationException`, while serde's derive would read it as positional fields.
pub struct ObjectOnly<D>(pub D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_map(v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
