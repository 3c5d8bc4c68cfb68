//! Validation against the model's constraints, reported in AWS's words:
//! `2 validation errors detected: Value 'x' at 'poolName' failed to satisfy constraint: …; …`.

use std::fmt::{self, Display, Write as _};
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::generated::PATTERNS;
use crate::ApiError;

/// Implemented by every raw (not yet validated) structure.
pub trait Validate {
    fn validate(&self, path: &Path<'_>, errs: &mut Errors);
}

/// A member path such as `userAttributes.1.member.name`, built on the stack and only rendered
/// when something fails.
pub enum Path<'a> {
    Root,
    Child(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
    Key(&'a Path<'a>, &'a str),
}

impl<'a> Path<'a> {
    pub fn child(&'a self, name: &'a str) -> Path<'a> {
        Path::Child(self, name)
    }
    pub fn index(&'a self, i: usize) -> Path<'a> {
        Path::Index(self, i)
    }
    pub fn key(&'a self, k: &'a str) -> Path<'a> {
        Path::Key(self, k)
    }
    fn render(&self, out: &mut String) {
        let (parent, seg): (&Path<'_>, String) = match self {
            Path::Root => return,
            Path::Child(p, s) => (p, (*s).to_string()),
            Path::Index(p, i) => (p, i.to_string()),
            Path::Key(p, k) => (p, (*k).to_string()),
        };
        parent.render(out);
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&seg);
    }
}

/// Collected validation failures.
#[derive(Default)]
pub struct Errors(Vec<String>);

impl Errors {
    pub fn null(&mut self, path: &Path<'_>) {
        let mut p = String::new();
        path.render(&mut p);
        self.0.push(format!(
            "Value null at '{p}' failed to satisfy constraint: Member must not be null"
        ));
    }

    /// `value` is `None` for sensitive members, whose values AWS never echoes.
    pub fn push(
        &mut self,
        path: &Path<'_>,
        value: Option<&dyn Display>,
        constraint: fmt::Arguments<'_>,
    ) {
        let mut p = String::new();
        path.render(&mut p);
        let mut line = String::from("Value ");
        if let Some(v) = value {
            let _ = write!(line, "'{v}' ");
        }
        let _ = write!(line, "at '{p}' failed to satisfy constraint: {constraint}");
        self.0.push(line);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `InvalidParameterException` AWS answers, or `None` when all is well.
    pub fn into_error(self) -> Option<ApiError> {
        match self.0.len() {
            0 => None,
            1 => Some(ApiError::invalid_parameter(format!(
                "1 validation error detected: {}",
                self.0[0]
            ))),
            n => Some(ApiError::invalid_parameter(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            ))),
        }
    }
}

/// Lists print as Java does: `[a, b]`.
pub struct ListDisplay<'a, T>(pub &'a [T]);

impl<T: fmt::Debug> Display for ListDisplay<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('[')?;
        for (i, x) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            // Strings print without quotes, like Java's List.toString.
            let s = format!("{x:?}");
            f.write_str(
                s.strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or(&s),
            )?;
        }
        f.write_char(']')
    }
}

/// Whether `value` matches model pattern number `idx`, compiled once on first use.
pub fn matches(idx: usize, value: &str) -> bool {
    static COMPILED: OnceLock<Vec<fancy_regex::Regex>> = OnceLock::new();
    let all = COMPILED.get_or_init(|| {
        PATTERNS
            .iter()
            .map(|(_, rust)| fancy_regex::Regex::new(rust).expect("model pattern compiles"))
            .collect()
    });
    // A pattern so complex that matching gives up counts as a mismatch.
    all[idx].is_match(value).unwrap_or(false)
}

/// serde's message with the offending value cut out: `invalid type: integer `455886`, expected
/// a string` would echo a code sent as a number (or any secret sent with the wrong type).
fn without_values(msg: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = msg.strip_prefix(prefix) {
            // The value comes before the last ", expected" (the value may itself contain one).
            if let Some(at) = rest.rfind(", expected") {
                let kind = rest[..at].split([' ', '`', '"']).next().unwrap_or("");
                return format!("{prefix}{kind}{}", &rest[at..]);
            }
        }
    }
    msg.to_string()
}

/// Decodes a request body (empty means `{}`) into a raw shape and validates it.
pub fn decode<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    let value: T = serde_json::from_slice(body).map_err(|e| {
        ApiError::serialization(format!(
            "Unable to parse request body: {}",
            without_values(&e.to_string())
        ))
    })?;
    let mut errs = Errors::default();
    value.validate(&Path::Root, &mut errs);
    match errs.into_error() {
        Some(e) => Err(e),
        None => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_pattern_compiles() {
        for (i, (java, rust)) in PATTERNS.iter().enumerate() {
            assert!(
                fancy_regex::Regex::new(rust).is_ok(),
                "pattern {i} {java} -> {rust}"
            );
        }
    }

    #[test]
    fn java_semantics_of_translated_patterns() {
        let idx = |p: &str| PATTERNS.iter().position(|(j, _)| *j == p).unwrap();
        let pool_name = idx(r"[\w\s+=,.@-]+");
        assert!(matches(pool_name, "my pool-1.test@x"));
        assert!(!matches(pool_name, "bad/name"));
        // Java's \w is ASCII only.
        assert!(!matches(pool_name, "pöol"));
        let b64ish = idx("[A-Za-z0-9-_+/=.]+");
        assert!(matches(b64ish, "a-b_c+d/e=.f"));
        assert!(!matches(b64ish, "a b"));
        let no_trailing_dot = idx(r"^[0-9A-Za-z\.\-_]*(?<!\.)$");
        assert!(matches(no_trailing_dot, "abc.def"));
        assert!(!matches(no_trailing_dot, "abc."));
    }

    #[test]
    fn codes_are_never_echoed() {
        use crate::raw::ConfirmSignUpRequest as Req;
        for body in [
            &br#"{"ClientId":"c","Username":"u","ConfirmationCode":"455 886"}"#[..],
            br#"{"ClientId":"c","Username":"u","ConfirmationCode":455886}"#,
            br#"{"ClientId":"c","Username":"u","ConfirmationCode":[455886]}"#,
        ] {
            let err = decode::<Req>(body).err().expect("refused");
            assert!(
                !err.message.contains("455"),
                "{}: {}",
                err.code,
                err.message
            );
        }
        let err = decode::<Req>(br#"{"ClientId":"c","Username":"u","ConfirmationCode":"455 886"}"#)
            .err()
            .unwrap();
        assert_eq!(err.message, "1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+");
        assert_eq!(
            without_values(
                "invalid type: string \"a, expected b\", expected u32 at line 1 column 9"
            ),
            "invalid type: string, expected u32 at line 1 column 9"
        );
    }

    #[test]
    fn arrays_are_not_objects() {
        use crate::raw::CreateUserPoolRequest as Req;
        for body in [
            &b"[]"[..],
            br#"{"PoolName":"x","DeviceConfiguration":[true,false]}"#,
            br#"{"PoolName":"x","Policies":[]}"#,
        ] {
            let err = decode::<Req>(body).err().expect("refused");
            assert_eq!(
                err.code,
                "SerializationException",
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        let ok = decode::<Req>(
            br#"{"PoolName":"x","DeviceConfiguration":{"ChallengeRequiredOnNewDevice":true}}"#,
        )
        .ok()
        .unwrap();
        assert_eq!(
            ok.device_configuration
                .unwrap()
                .challenge_required_on_new_device,
            Some(true)
        );
    }

    #[test]
    fn messages_follow_aws_wording() {
        let mut e = Errors::default();
        let root = Path::Root;
        let p = root.child("poolName");
        e.push(
            &p,
            Some(&"x/y"),
            format_args!("Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"),
        );
        let err = e.into_error().unwrap();
        assert_eq!(err.code, "InvalidParameterException");
        assert_eq!(
            err.message,
            "1 validation error detected: Value 'x/y' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
        );
        let mut e = Errors::default();
        let a = root.child("schema");
        let b = a.index(1);
        let c = b.child("member");
        let d = c.child("name");
        e.null(&d);
        e.push(
            &p,
            None,
            format_args!("Member must have length less than or equal to 128"),
        );
        assert_eq!(
            e.into_error().unwrap().message,
            "2 validation errors detected: Value null at 'schema.1.member.name' failed to satisfy constraint: Member must not be null; Value at 'poolName' failed to satisfy constraint: Member must have length less than or equal to 128"
        );
    }
}
