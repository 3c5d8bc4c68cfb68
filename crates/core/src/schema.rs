//! User-pool attribute schema: Cognito's standard attributes with their defaults, and the rules
//! for the `Schema` a pool is created with and for `AddCustomAttributes`.

use gatehouse_wire::{
    AttributeDataType, NumberAttributeConstraintsType, SchemaAttributeType,
    StringAttributeConstraintsType,
};

use crate::CoreError;

/// Custom attributes per pool (Cognito's quota).
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;
pub const CUSTOM_PREFIX: &str = "custom:";

/// Standard attributes (OpenID Connect claims plus Cognito's), in the order Cognito lists them.
const STANDARD: &[(&str, AttributeDataType)] = &[
    ("sub", AttributeDataType::String),
    ("name", AttributeDataType::String),
    ("given_name", AttributeDataType::String),
    ("family_name", AttributeDataType::String),
    ("middle_name", AttributeDataType::String),
    ("nickname", AttributeDataType::String),
    ("preferred_username", AttributeDataType::String),
    ("profile", AttributeDataType::String),
    ("picture", AttributeDataType::String),
    ("website", AttributeDataType::String),
    ("email", AttributeDataType::String),
    ("email_verified", AttributeDataType::Boolean),
    ("gender", AttributeDataType::String),
    ("birthdate", AttributeDataType::String),
    ("zoneinfo", AttributeDataType::String),
    ("locale", AttributeDataType::String),
    ("phone_number", AttributeDataType::String),
    ("phone_number_verified", AttributeDataType::Boolean),
    ("address", AttributeDataType::String),
    ("updated_at", AttributeDataType::Number),
    ("identities", AttributeDataType::String),
];

pub fn is_standard(name: &str) -> bool {
    STANDARD.iter().any(|(n, _)| *n == name)
}

fn string_limits(min: &str, max: &str) -> Option<StringAttributeConstraintsType> {
    Some(StringAttributeConstraintsType {
        min_length: Some(min.to_string()),
        max_length: Some(max.to_string()),
    })
}

/// A standard attribute as Cognito describes it when the pool does not override it.
fn standard_default(name: &str, ty: &AttributeDataType) -> SchemaAttributeType {
    let (string_c, number_c) = match (name, ty) {
        ("sub", _) => (string_limits("1", "2048"), None),
        ("birthdate", _) => (string_limits("10", "10"), None),
        ("identities", _) => (Some(StringAttributeConstraintsType::default()), None),
        (_, AttributeDataType::String) => (string_limits("0", "2048"), None),
        (_, AttributeDataType::Number) => (
            None,
            Some(NumberAttributeConstraintsType {
                min_value: Some("0".into()),
                max_value: None,
            }),
        ),
        _ => (None, None),
    };
    SchemaAttributeType {
        name: Some(name.to_string()),
        attribute_data_type: Some(ty.clone()),
        developer_only_attribute: Some(false),
        mutable: Some(name != "sub"),
        required: Some(name == "sub"),
        string_attribute_constraints: string_c,
        number_attribute_constraints: number_c,
    }
}

fn parse_limit(v: &Option<String>, what: &str) -> Result<(), CoreError> {
    match v {
        Some(s) if s.parse::<i64>().is_err() => Err(CoreError::InvalidParameter(format!(
            "{what} must be an integer: {s}"
        ))),
        _ => Ok(()),
    }
}

/// Normalises one attribute definition from a request: a custom attribute gets its `custom:`
/// prefix and its defaults; a standard attribute keeps its type.
fn custom_definition(a: &SchemaAttributeType) -> Result<SchemaAttributeType, CoreError> {
    let name = a
        .name
        .clone()
        .ok_or_else(|| CoreError::InvalidParameter("Attribute name is required.".into()))?;
    if let Some(c) = &a.string_attribute_constraints {
        parse_limit(&c.min_length, "MinLength")?;
        parse_limit(&c.max_length, "MaxLength")?;
    }
    if let Some(c) = &a.number_attribute_constraints {
        parse_limit(&c.min_value, "MinValue")?;
        parse_limit(&c.max_value, "MaxValue")?;
    }
    if a.required == Some(true) {
        return Err(CoreError::InvalidParameter(
            "Required custom attributes are not supported currently.".into(),
        ));
    }
    let ty = a
        .attribute_data_type
        .clone()
        .unwrap_or(AttributeDataType::String);
    let full = if name.starts_with(CUSTOM_PREFIX) {
        name
    } else {
        format!("{CUSTOM_PREFIX}{name}")
    };
    Ok(SchemaAttributeType {
        name: Some(full),
        string_attribute_constraints: match (&ty, &a.string_attribute_constraints) {
            (AttributeDataType::String, None) => Some(StringAttributeConstraintsType::default()),
            (_, c) => c.clone(),
        },
        number_attribute_constraints: match (&ty, &a.number_attribute_constraints) {
            (AttributeDataType::Number, None) => Some(NumberAttributeConstraintsType::default()),
            (_, c) => c.clone(),
        },
        attribute_data_type: Some(ty),
        developer_only_attribute: Some(a.developer_only_attribute.unwrap_or(false)),
        mutable: Some(a.mutable.unwrap_or(true)),
        required: Some(false),
    })
}

/// The full `SchemaAttributes` of a new pool: the standard attributes (with the request's
/// overrides of `Required`, `Mutable` and constraints) followed by its custom attributes.
pub fn pool_schema(
    requested: &[SchemaAttributeType],
) -> Result<Vec<SchemaAttributeType>, CoreError> {
    let mut out: Vec<SchemaAttributeType> = STANDARD
        .iter()
        .map(|(n, t)| standard_default(n, t))
        .collect();
    let mut seen = std::collections::HashSet::new();
    for a in requested {
        let name = a
            .name
            .as_deref()
            .ok_or_else(|| CoreError::InvalidParameter("Attribute name is required.".into()))?;
        if !seen.insert(name.to_string()) {
            return Err(CoreError::InvalidParameter(format!(
                "Duplicate attribute name: {name}"
            )));
        }
        if let Some(std_attr) = out.iter_mut().find(|s| s.name.as_deref() == Some(name)) {
            if let Some(t) = &a.attribute_data_type {
                if Some(t) != std_attr.attribute_data_type.as_ref() {
                    return Err(CoreError::InvalidParameter(format!(
                        "The attribute data type of standard attribute {name} cannot be changed."
                    )));
                }
            }
            if name == "sub" && (a.mutable == Some(true) || a.required == Some(false)) {
                return Err(CoreError::InvalidParameter(
                    "The sub attribute is required and immutable.".into(),
                ));
            }
            if let Some(r) = a.required {
                std_attr.required = Some(r);
            }
            if let Some(m) = a.mutable {
                std_attr.mutable = Some(m);
            }
            if a.string_attribute_constraints.is_some() {
                std_attr.string_attribute_constraints = a.string_attribute_constraints.clone();
            }
            if a.number_attribute_constraints.is_some() {
                std_attr.number_attribute_constraints = a.number_attribute_constraints.clone();
            }
        } else {
            out.push(custom_definition(a)?);
        }
    }
    check_custom_count(&out)?;
    Ok(out)
}

/// `AddCustomAttributes`: appends to an existing schema.
pub fn add_custom(
    schema: &mut Vec<SchemaAttributeType>,
    added: &[SchemaAttributeType],
) -> Result<(), CoreError> {
    for a in added {
        let def = custom_definition(a)?;
        let name = def.name.clone().unwrap_or_default();
        if schema
            .iter()
            .any(|s| s.name.as_deref() == Some(name.as_str()))
        {
            return Err(CoreError::InvalidParameter(format!(
                "Existing attribute already has name {name}."
            )));
        }
        schema.push(def);
    }
    check_custom_count(schema)
}

fn check_custom_count(schema: &[SchemaAttributeType]) -> Result<(), CoreError> {
    let n = schema
        .iter()
        .filter(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.starts_with(CUSTOM_PREFIX))
        })
        .count();
    if n > MAX_CUSTOM_ATTRIBUTES {
        return Err(CoreError::LimitExceeded(format!(
            "A user pool can have at most {MAX_CUSTOM_ATTRIBUTES} custom attributes."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(name: &str) -> SchemaAttributeType {
        SchemaAttributeType {
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn standard_attributes_present_and_custom_prefixed() {
        let s = pool_schema(&[
            attr("team"),
            SchemaAttributeType {
                required: Some(true),
                ..attr("email")
            },
        ])
        .unwrap();
        assert_eq!(s[0].name.as_deref(), Some("sub"));
        assert_eq!(s[0].mutable, Some(false));
        let email = s
            .iter()
            .find(|a| a.name.as_deref() == Some("email"))
            .unwrap();
        assert_eq!(email.required, Some(true));
        assert!(s.iter().any(|a| a.name.as_deref() == Some("custom:team")));
    }

    #[test]
    fn refusals() {
        assert!(pool_schema(&[attr("x"), attr("x")]).is_err());
        assert!(pool_schema(&[SchemaAttributeType {
            required: Some(true),
            ..attr("x")
        }])
        .is_err());
        let mut s = pool_schema(&[attr("x")]).unwrap();
        let err = add_custom(&mut s, &[attr("x")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Existing attribute already has name custom:x."
        );
        let many: Vec<_> = (0..51).map(|i| attr(&format!("a{i}"))).collect();
        assert!(matches!(
            pool_schema(&many),
            Err(CoreError::LimitExceeded(_))
        ));
    }
}
