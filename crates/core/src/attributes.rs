//! User attributes against the pool's schema: existence, mutability, types, lengths, formats,
//! required attributes.

use std::collections::BTreeMap;

use gatehouse_wire::{AttributeDataType, AttributeType, SchemaAttributeType, UserPoolType};

use crate::{CoreError, Result};

fn schema_error(name: &str, why: &str) -> CoreError {
    CoreError::InvalidParameter(format!(
        "Attributes did not conform to the schema: {name}: {why}"
    ))
}

fn definition<'a>(pool: &'a UserPoolType, name: &str) -> Option<&'a SchemaAttributeType> {
    pool.schema_attributes
        .as_deref()
        .unwrap_or_default()
        .iter()
        .find(|a| a.name.as_deref() == Some(name))
}

/// Why a value breaks its definition, if it does.
fn check_value(def: &SchemaAttributeType, name: &str, value: &str) -> Result<()> {
    // U+0000 is no text any client means, and PostgreSQL's text cannot hold it: refused on both
    // stores alike rather than stored on one and an internal error on the other.
    if value.contains('\0') {
        return Err(schema_error(
            name,
            "String must not contain a NUL character",
        ));
    }
    match def.attribute_data_type {
        Some(AttributeDataType::Number) => {
            let n: f64 = value
                .parse()
                .map_err(|_| schema_error(name, "Number must be a number"))?;
            if let Some(c) = &def.number_attribute_constraints {
                if let Some(min) = c.min_value.as_deref().and_then(|m| m.parse::<f64>().ok()) {
                    if n < min {
                        return Err(schema_error(
                            name,
                            &format!("Number must be no less than {min}"),
                        ));
                    }
                }
                if let Some(max) = c.max_value.as_deref().and_then(|m| m.parse::<f64>().ok()) {
                    if n > max {
                        return Err(schema_error(
                            name,
                            &format!("Number must be no greater than {max}"),
                        ));
                    }
                }
            }
        }
        Some(AttributeDataType::Boolean) if boolean(value).is_none() => {
            return Err(schema_error(name, "Boolean must be true or false"));
        }
        Some(AttributeDataType::Datetime) if value.is_empty() => {
            return Err(schema_error(name, "DateTime must not be empty"));
        }
        _ => {
            let len = value.chars().count();
            if let Some(c) = &def.string_attribute_constraints {
                if let Some(max) = c
                    .max_length
                    .as_deref()
                    .and_then(|m| m.parse::<usize>().ok())
                {
                    if len > max {
                        return Err(schema_error(
                            name,
                            &format!("String must be no longer than {max} characters"),
                        ));
                    }
                }
                if let Some(min) = c
                    .min_length
                    .as_deref()
                    .and_then(|m| m.parse::<usize>().ok())
                {
                    if len < min {
                        return Err(schema_error(
                            name,
                            &format!("String must be no shorter than {min} characters"),
                        ));
                    }
                }
            }
        }
    }
    match name {
        "email" if !is_email(value) => Err(CoreError::InvalidParameter(
            "Invalid email address format.".into(),
        )),
        "phone_number" if !is_phone(value) => Err(CoreError::InvalidParameter(
            "Invalid phone number format.".into(),
        )),
        _ => Ok(()),
    }
}

/// A Boolean attribute's value as Cognito reads it: `true` or `false` in any case ("True",
/// "FALSE"), stored and returned in lower case.
fn boolean(value: &str) -> Option<&'static str> {
    if value.eq_ignore_ascii_case("true") {
        Some("true")
    } else if value.eq_ignore_ascii_case("false") {
        Some("false")
    } else {
        None
    }
}

pub(crate) fn is_email(v: &str) -> bool {
    match v.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !v.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

/// E.164: `+` and 2 to 15 digits.
pub(crate) fn is_phone(v: &str) -> bool {
    v.strip_prefix('+')
        .is_some_and(|d| (2..=15).contains(&d.len()) && d.chars().all(|c| c.is_ascii_digit()))
}

/// Checks attributes a request wants to set. `creating`: immutable attributes may be given.
pub(crate) fn check_writes(
    pool: &UserPoolType,
    attrs: &[AttributeType],
    creating: bool,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for a in attrs {
        let name = a.name.as_str();
        let value = a.value.clone().unwrap_or_default();
        if name == "sub" {
            return Err(CoreError::InvalidParameter(
                "Cannot modify an immutable attribute: sub".into(),
            ));
        }
        let def = definition(pool, name)
            .ok_or_else(|| schema_error(name, "Attribute does not exist in the schema."))?;
        if !creating && def.mutable == Some(false) {
            return Err(CoreError::InvalidParameter(format!(
                "Cannot modify an immutable attribute: {name}"
            )));
        }
        check_value(def, name, &value)?;
        let value = match def.attribute_data_type {
            Some(AttributeDataType::Boolean) => {
                boolean(&value).map(str::to_string).unwrap_or(value)
            }
            _ => value,
        };
        out.insert(name.to_string(), value);
    }
    Ok(out)
}

/// Attributes a request may delete: known, neither required nor immutable.
pub(crate) fn check_deletable(pool: &UserPoolType, names: &[String]) -> Result<()> {
    for name in names {
        match definition(pool, name) {
            None => {
                return Err(schema_error(
                    name,
                    "Attribute does not exist in the schema.",
                ))
            }
            Some(d) if d.required == Some(true) || d.mutable == Some(false) => {
                return Err(CoreError::InvalidParameter(format!(
                    "Cannot delete a required or immutable attribute: {name}"
                )));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Required attributes the pool's schema demands, missing from `attrs`.
pub(crate) fn check_required(pool: &UserPoolType, attrs: &BTreeMap<String, String>) -> Result<()> {
    for def in pool.schema_attributes.as_deref().unwrap_or_default() {
        let name = def.name.as_deref().unwrap_or_default();
        if def.required == Some(true)
            && name != "sub"
            && attrs.get(name).is_none_or(|v| v.is_empty())
        {
            return Err(schema_error(
                name,
                &format!("The attribute {name} is required"),
            ));
        }
    }
    Ok(())
}

/// The wire form, in attribute-name order.
pub(crate) fn to_wire(
    attrs: &BTreeMap<String, String>,
    only: Option<&[String]>,
) -> Vec<AttributeType> {
    attrs
        .iter()
        .filter(|(k, _)| only.is_none_or(|o| o.iter().any(|n| n == *k)))
        .map(|(k, v)| AttributeType {
            name: k.clone(),
            value: Some(v.clone()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::pool_schema;

    fn pool_with_flag() -> UserPoolType {
        let flag = SchemaAttributeType {
            name: Some("vip".into()),
            attribute_data_type: Some(AttributeDataType::Boolean),
            ..Default::default()
        };
        UserPoolType {
            schema_attributes: Some(pool_schema(&[flag]).unwrap()),
            ..Default::default()
        }
    }

    fn write(pool: &UserPoolType, name: &str, value: &str) -> Result<BTreeMap<String, String>> {
        let attr = AttributeType {
            name: name.into(),
            value: Some(value.into()),
        };
        check_writes(pool, &[attr], true)
    }

    #[test]
    fn booleans_ignore_case_and_are_stored_in_lower_case() {
        let pool = pool_with_flag();
        for name in ["email_verified", "phone_number_verified", "custom:vip"] {
            for (given, stored) in [
                ("true", "true"),
                ("True", "true"),
                ("TRUE", "true"),
                ("false", "false"),
                ("False", "false"),
                ("fAlSe", "false"),
            ] {
                let out = write(&pool, name, given).unwrap();
                assert_eq!(
                    out.get(name).map(String::as_str),
                    Some(stored),
                    "{name}={given}"
                );
            }
            for bad in ["yes", "1", "t", "truee", " true"] {
                match write(&pool, name, bad) {
                    Err(CoreError::InvalidParameter(m)) => assert_eq!(
                        m,
                        format!("Attributes did not conform to the schema: {name}: Boolean must be true or false")
                    ),
                    other => panic!("{name}={bad}: {other:?}"),
                }
            }
        }
        // Other types keep their value as given.
        let out = write(&pool, "name", "True").unwrap();
        assert_eq!(out.get("name").map(String::as_str), Some("True"));
    }

    #[test]
    fn a_nul_character_is_refused_in_every_attribute() {
        let pool = pool_with_flag();
        for (name, value) in [
            ("email", "a\0b@example.com"),
            ("name", "Ana\0"),
            ("preferred_username", "\0"),
        ] {
            match write(&pool, name, value) {
                Err(CoreError::InvalidParameter(m)) => assert_eq!(
                    m,
                    format!("Attributes did not conform to the schema: {name}: String must not contain a NUL character")
                ),
                other => panic!("{name}: {other:?}"),
            }
        }
    }
}
