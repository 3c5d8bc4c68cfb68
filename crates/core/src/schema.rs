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
/// Developer-only custom attributes: written and read with IAM credentials only.
pub const DEV_PREFIX: &str = "dev:custom:";

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

/// The largest `MaxLength` (and `MinLength`) a string attribute may have.
const MAX_STRING_LENGTH: u64 = 2048;

fn invalid(why: String) -> CoreError {
    CoreError::InvalidParameter(why)
}

/// A constraint limit: a string of digits (Cognito refuses signs, decimals and blanks).
fn limit(v: &Option<String>, kind: &str, name: &str) -> Result<Option<u64>, CoreError> {
    match v.as_deref() {
        None => Ok(None),
        Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            // Beyond u64 is beyond every bound checked here.
            Ok(Some(s.parse().unwrap_or(u64::MAX)))
        }
        Some(_) => Err(invalid(format!(
            "Invalid {kind} for schema attribute {name}"
        ))),
    }
}

/// Checks the constraints of `a` for an attribute of type `ty` named `name`, and returns the
/// pair to store: those of the attribute's type, the other type's dropped, as Cognito does.
/// `default` is what a string attribute without constraints shows.
fn constraints_for(
    a: &SchemaAttributeType,
    ty: &AttributeDataType,
    name: &str,
    default: (
        Option<StringAttributeConstraintsType>,
        Option<NumberAttributeConstraintsType>,
    ),
) -> Result<
    (
        Option<StringAttributeConstraintsType>,
        Option<NumberAttributeConstraintsType>,
    ),
    CoreError,
> {
    match ty {
        AttributeDataType::String => {
            let Some(c) = &a.string_attribute_constraints else {
                return Ok((default.0, None));
            };
            let kind = "StringAttributeConstraints";
            let min = limit(&c.min_length, kind, name)?;
            let max = limit(&c.max_length, kind, name)?;
            if min.max(max).is_some_and(|l| l > MAX_STRING_LENGTH) {
                return Err(invalid(format!(
                    "user.{name}: String attributes cannot have a length of more than {MAX_STRING_LENGTH}"
                )));
            }
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    return Err(invalid(format!(
                        "user.{name}: Max length cannot be less than min length."
                    )));
                }
            }
            Ok((Some(c.clone()), None))
        }
        AttributeDataType::Number => {
            let Some(c) = &a.number_attribute_constraints else {
                return Ok((None, default.1));
            };
            let kind = "NumberAttributeConstraints";
            let min = limit(&c.min_value, kind, name)?;
            let max = limit(&c.max_value, kind, name)?;
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    return Err(invalid(format!(
                        "user.{name}: Max value cannot be less than min value."
                    )));
                }
            }
            Ok((None, Some(c.clone())))
        }
        // Booleans and dates have no constraints.
        _ => Ok((None, None)),
    }
}

/// The name of a custom attribute without its prefix (`custom:` or `dev:custom:`), as the
/// request may give it either way.
fn base_name(name: &str) -> &str {
    name.strip_prefix(DEV_PREFIX)
        .or_else(|| name.strip_prefix(CUSTOM_PREFIX))
        .unwrap_or(name)
}

/// Whether `name` is a custom attribute's full name (`custom:x` or `dev:custom:x`).
fn is_custom(name: &str) -> bool {
    name.starts_with(CUSTOM_PREFIX) || name.starts_with(DEV_PREFIX)
}

/// Normalises one custom attribute definition from a request: its type is required, its name
/// gets its prefix (`dev:custom:` when developer-only, else `custom:`), and its defaults.
fn custom_definition(a: &SchemaAttributeType) -> Result<SchemaAttributeType, CoreError> {
    let given = a
        .name
        .as_deref()
        .ok_or_else(|| invalid("Attribute name is required.".into()))?;
    let developer_only = a.developer_only_attribute == Some(true);
    let prefix = if developer_only {
        DEV_PREFIX
    } else {
        CUSTOM_PREFIX
    };
    let full = format!("{prefix}{}", base_name(given));
    let ty = a.attribute_data_type.clone().ok_or_else(|| {
        invalid(
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."
                .into(),
        )
    })?;
    if a.required == Some(true) {
        return Err(invalid(
            "Required custom attributes are not supported currently.".into(),
        ));
    }
    // A custom string attribute without constraints shows empty ones, as in Cognito.
    let defaults = (
        Some(StringAttributeConstraintsType::default()),
        Some(NumberAttributeConstraintsType::default()),
    );
    let (string_c, number_c) = constraints_for(a, &ty, &full, defaults)?;
    Ok(SchemaAttributeType {
        name: Some(full),
        string_attribute_constraints: string_c,
        number_attribute_constraints: number_c,
        attribute_data_type: Some(ty),
        developer_only_attribute: Some(developer_only),
        mutable: Some(a.mutable.unwrap_or(true)),
        required: Some(false),
    })
}

/// Applies a request's definition of a standard attribute: `Required`, `Mutable` and the
/// constraints of its type may change; its type and developer-only flag may not.
fn override_standard(
    std_attr: &mut SchemaAttributeType,
    a: &SchemaAttributeType,
    name: &str,
) -> Result<(), CoreError> {
    let ty = std_attr
        .attribute_data_type
        .clone()
        .unwrap_or(AttributeDataType::String);
    if a.attribute_data_type.as_ref().is_some_and(|t| *t != ty)
        || a.developer_only_attribute == Some(true)
    {
        return Err(invalid(format!(
            "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
        )));
    }
    if name == "sub" && (a.mutable == Some(true) || a.required == Some(false)) {
        return Err(invalid(
            "The sub attribute is required and immutable.".into(),
        ));
    }
    if let Some(r) = a.required {
        std_attr.required = Some(r);
    }
    if let Some(m) = a.mutable {
        std_attr.mutable = Some(m);
    }
    // Cognito reads a standard attribute's constraints only when the definition names its type.
    if a.attribute_data_type.is_some() {
        let current = (
            std_attr.string_attribute_constraints.clone(),
            std_attr.number_attribute_constraints.clone(),
        );
        let (string_c, number_c) = constraints_for(a, &ty, name, current)?;
        std_attr.string_attribute_constraints = string_c;
        std_attr.number_attribute_constraints = number_c;
    }
    Ok(())
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
            .ok_or_else(|| invalid("Attribute name is required.".into()))?;
        // `x`, `custom:x` and `dev:custom:x` name one custom attribute.
        if !seen.insert(base_name(name).to_string()) {
            return Err(invalid(format!("Duplicate attribute name: {name}")));
        }
        if let Some(std_attr) = out.iter_mut().find(|s| s.name.as_deref() == Some(name)) {
            override_standard(std_attr, a, name)?;
        } else {
            out.push(custom_definition(a)?);
        }
    }
    check_custom_count(&out)?;
    Ok(out)
}

/// `AddCustomAttributes`: appends to an existing schema. A name taken in either form
/// (`custom:x`, `dev:custom:x`) is refused.
pub fn add_custom(
    schema: &mut Vec<SchemaAttributeType>,
    added: &[SchemaAttributeType],
) -> Result<(), CoreError> {
    for a in added {
        let def = custom_definition(a)?;
        let base = base_name(def.name.as_deref().unwrap_or_default()).to_string();
        if let Some(existing) = schema
            .iter()
            .filter_map(|s| s.name.as_deref())
            .find(|n| is_custom(n) && base_name(n) == base)
        {
            return Err(invalid(format!(
                "Existing attribute already has name {existing}."
            )));
        }
        schema.push(def);
    }
    check_custom_count(schema)
}

fn check_custom_count(schema: &[SchemaAttributeType]) -> Result<(), CoreError> {
    let n = schema
        .iter()
        .filter(|s| s.name.as_deref().is_some_and(is_custom))
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

    fn typed(name: &str, ty: AttributeDataType) -> SchemaAttributeType {
        SchemaAttributeType {
            attribute_data_type: Some(ty),
            ..attr(name)
        }
    }

    fn strings(name: &str, min: Option<&str>, max: Option<&str>) -> SchemaAttributeType {
        SchemaAttributeType {
            string_attribute_constraints: Some(StringAttributeConstraintsType {
                min_length: min.map(Into::into),
                max_length: max.map(Into::into),
            }),
            ..typed(name, AttributeDataType::String)
        }
    }

    fn numbers(name: &str, min: Option<&str>, max: Option<&str>) -> SchemaAttributeType {
        SchemaAttributeType {
            number_attribute_constraints: Some(NumberAttributeConstraintsType {
                min_value: min.map(Into::into),
                max_value: max.map(Into::into),
            }),
            ..typed(name, AttributeDataType::Number)
        }
    }

    fn message(r: Result<Vec<SchemaAttributeType>, CoreError>) -> String {
        match r {
            Err(CoreError::InvalidParameter(m)) => m,
            other => panic!("expected InvalidParameter, got {other:?}"),
        }
    }

    fn find<'a>(s: &'a [SchemaAttributeType], name: &str) -> &'a SchemaAttributeType {
        s.iter()
            .find(|a| a.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{name} missing"))
    }

    #[test]
    fn standard_attributes_present_and_custom_prefixed() {
        let s = pool_schema(&[
            typed("team", AttributeDataType::String),
            SchemaAttributeType {
                required: Some(true),
                ..attr("email")
            },
        ])
        .unwrap();
        assert_eq!(s[0].name.as_deref(), Some("sub"));
        assert_eq!(s[0].mutable, Some(false));
        assert_eq!(find(&s, "email").required, Some(true));
        let team = find(&s, "custom:team");
        assert_eq!(team.developer_only_attribute, Some(false));
        assert_eq!(
            team.string_attribute_constraints,
            Some(StringAttributeConstraintsType::default())
        );
    }

    #[test]
    fn a_custom_attribute_needs_its_type() {
        assert_eq!(
            message(pool_schema(&[attr("team")])),
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."
        );
        let mut s = pool_schema(&[]).unwrap();
        assert!(add_custom(&mut s, &[attr("team")]).is_err());
        assert!(!s.iter().any(|a| a.name.as_deref() == Some("custom:team")));
    }

    #[test]
    fn constraints_are_digit_strings_within_bounds() {
        for bad in ["-1", "1.5", "", "ten", " 3"] {
            assert_eq!(
                message(pool_schema(&[strings("code", Some(bad), None)])),
                "Invalid StringAttributeConstraints for schema attribute custom:code",
                "{bad:?}"
            );
            assert_eq!(
                message(pool_schema(&[numbers("score", None, Some(bad))])),
                "Invalid NumberAttributeConstraints for schema attribute custom:score",
                "{bad:?}"
            );
        }
        assert_eq!(
            message(pool_schema(&[strings("code", None, Some("2049"))])),
            "user.custom:code: String attributes cannot have a length of more than 2048"
        );
        assert!(pool_schema(&[strings("code", Some("0"), Some("2048"))]).is_ok());
        assert_eq!(
            message(pool_schema(&[strings("code", Some("5"), Some("4"))])),
            "user.custom:code: Max length cannot be less than min length."
        );
        assert_eq!(
            message(pool_schema(&[numbers("score", Some("10"), Some("9"))])),
            "user.custom:score: Max value cannot be less than min value."
        );
        // Limits beyond 64 bits are still compared as numbers.
        assert!(pool_schema(&[numbers("big", Some("9"), Some("99999999999999999999999"))]).is_ok());
        // A standard attribute's constraints are checked too.
        assert_eq!(
            message(pool_schema(&[strings("name", None, Some("4096"))])),
            "user.name: String attributes cannot have a length of more than 2048"
        );
    }

    #[test]
    fn constraints_of_the_other_type_are_dropped() {
        let both = |name: &str, ty: AttributeDataType| SchemaAttributeType {
            string_attribute_constraints: Some(StringAttributeConstraintsType {
                min_length: Some("1".into()),
                max_length: Some("5".into()),
            }),
            number_attribute_constraints: Some(NumberAttributeConstraintsType {
                min_value: Some("1".into()),
                max_value: Some("5".into()),
            }),
            ..typed(name, ty)
        };
        let s = pool_schema(&[
            both("s", AttributeDataType::String),
            both("n", AttributeDataType::Number),
            both("b", AttributeDataType::Boolean),
            both("d", AttributeDataType::Datetime),
            both("name", AttributeDataType::String),
        ])
        .unwrap();
        let pair = |n: &str| {
            let a = find(&s, n);
            (
                a.string_attribute_constraints.is_some(),
                a.number_attribute_constraints.is_some(),
            )
        };
        assert_eq!(pair("custom:s"), (true, false));
        assert_eq!(pair("custom:n"), (false, true));
        assert_eq!(pair("custom:b"), (false, false));
        assert_eq!(pair("custom:d"), (false, false));
        assert_eq!(pair("name"), (true, false));
        assert_eq!(
            find(&s, "name").string_attribute_constraints,
            Some(StringAttributeConstraintsType {
                min_length: Some("1".into()),
                max_length: Some("5".into()),
            })
        );
    }

    #[test]
    fn developer_only_attributes_are_dev_custom() {
        let dev = SchemaAttributeType {
            developer_only_attribute: Some(true),
            ..typed("secret", AttributeDataType::String)
        };
        let s = pool_schema(std::slice::from_ref(&dev)).unwrap();
        let a = find(&s, "dev:custom:secret");
        assert_eq!(a.developer_only_attribute, Some(true));
        assert!(!s.iter().any(|a| a.name.as_deref() == Some("custom:secret")));
        // Either form of one name is the same attribute, at creation and when adding.
        assert_eq!(
            message(pool_schema(&[
                dev.clone(),
                typed("secret", AttributeDataType::String)
            ])),
            "Duplicate attribute name: secret"
        );
        let mut s = pool_schema(std::slice::from_ref(&dev)).unwrap();
        let err = add_custom(&mut s, &[typed("secret", AttributeDataType::Number)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Existing attribute already has name dev:custom:secret."
        );
        let mut s = pool_schema(&[typed("x", AttributeDataType::String)]).unwrap();
        let err = add_custom(
            &mut s,
            &[SchemaAttributeType {
                developer_only_attribute: Some(true),
                ..typed("x", AttributeDataType::String)
            }],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Existing attribute already has name custom:x."
        );
    }

    #[test]
    fn a_standard_attribute_keeps_its_type_and_audience() {
        let expected = "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email";
        assert_eq!(
            message(pool_schema(&[typed("email", AttributeDataType::Number)])),
            expected
        );
        assert_eq!(
            message(pool_schema(&[SchemaAttributeType {
                developer_only_attribute: Some(true),
                ..attr("email")
            }])),
            expected
        );
        // Naming its own type is fine.
        assert!(pool_schema(&[typed("email", AttributeDataType::String)]).is_ok());
        assert!(pool_schema(&[typed("email_verified", AttributeDataType::Boolean)]).is_ok());
    }

    #[test]
    fn refusals() {
        let x = || typed("x", AttributeDataType::String);
        assert_eq!(
            message(pool_schema(&[x(), x()])),
            "Duplicate attribute name: x"
        );
        assert!(pool_schema(&[SchemaAttributeType {
            required: Some(true),
            ..x()
        }])
        .is_err());
        let mut s = pool_schema(&[x()]).unwrap();
        let err = add_custom(&mut s, &[x()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Existing attribute already has name custom:x."
        );
        let many: Vec<_> = (0..51)
            .map(|i| typed(&format!("a{i}"), AttributeDataType::String))
            .collect();
        assert!(matches!(
            pool_schema(&many),
            Err(CoreError::LimitExceeded(_))
        ));
    }
}
