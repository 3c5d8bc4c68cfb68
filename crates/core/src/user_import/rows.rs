//! From a CSV line to a user (docs/user-import.md, "Rows"): Cognito's rules for the header
//! (known columns, once each, `cognito:username` present, `password_hash` present when the job
//! names an algorithm) and for each row. A row that breaks a rule is FAILED with the reason,
//! a username already in the pool is SKIPPED, and the job goes on either way.

use gatehouse_wire::{
    AttributeType, PasswordHashingAlgorithmType, UserPoolMfaType, UserStatusType,
    VerifiedAttributeType,
};

use super::csv::FileError;
use super::hashes;
use crate::attributes::{check_required, check_writes};
use crate::store::{ImportedHash, UserPoolRecord, UserRecord};
use crate::users::username_key;
use crate::{Core, CoreError, Result};

/// What a row came to (Cognito's log words: SUCCEEDED, SKIPPED, FAILED).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    Imported,
    Skipped(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Attribute(String),
    Username,
    MfaEnabled,
    PasswordHash,
}

/// How a job reads its rows: the header's columns, and what of the pool and the job the rules
/// need.
pub(crate) struct Plan {
    /// What each row's sub derives from (with its line number): a run resumed after its
    /// process died takes its last rows again, and knows the users it finds with the sub it
    /// would give them as its own, not as users that already existed.
    sub_seed: String,
    columns: Vec<Column>,
    algorithm: Option<PasswordHashingAlgorithmType>,
    auto_verified: Vec<&'static str>,
    mfa: UserPoolMfaType,
}

impl Plan {
    /// The header checked against the pool's GetCSVHeader (any subset, in any order).
    pub(crate) fn new(
        pool: &UserPoolRecord,
        header: &[String],
        algorithm: Option<PasswordHashingAlgorithmType>,
        sub_seed: &str,
    ) -> Result<Plan, FileError> {
        let known = super::csv_header(&pool.pool);
        let mut columns = Vec::with_capacity(header.len());
        for name in header {
            if !known.contains(name) {
                return Err(format!(
                    "The CSV header has a column that is not in the user pool's header: {name}."
                ));
            }
            let column = match name.as_str() {
                "cognito:username" => Column::Username,
                "cognito:mfa_enabled" => Column::MfaEnabled,
                "password_hash" => Column::PasswordHash,
                attribute => Column::Attribute(attribute.to_string()),
            };
            if columns.contains(&column) {
                return Err(format!("The CSV header names the column {name} twice."));
            }
            columns.push(column);
        }
        if !columns.contains(&Column::Username) {
            return Err("The CSV header has no cognito:username column.".into());
        }
        if algorithm.is_some() && !columns.contains(&Column::PasswordHash) {
            return Err(
                "The CSV header has no password_hash column, which the job's \
                        PasswordHashingAlgorithm requires."
                    .into(),
            );
        }
        let auto_verified = pool
            .pool
            .auto_verified_attributes
            .iter()
            .flatten()
            .map(|a| match a {
                VerifiedAttributeType::PhoneNumber => "phone_number",
                _ => "email",
            })
            .collect();
        Ok(Plan {
            sub_seed: sub_seed.to_string(),
            columns,
            algorithm,
            auto_verified,
            mfa: pool
                .pool
                .mfa_configuration
                .clone()
                .unwrap_or(UserPoolMfaType::Off),
        })
    }

    /// The user a row describes, or why it cannot be imported.
    fn user(
        &self,
        core: &Core,
        pool: &UserPoolRecord,
        line: u64,
        values: Vec<String>,
    ) -> Result<UserRecord, String> {
        if values.len() != self.columns.len() {
            return Err(format!(
                "The row has {} values; the header has {} columns (a comma inside a value is \
                 written \\,).",
                values.len(),
                self.columns.len()
            ));
        }
        let p = &pool.pool;
        let (mut username, mut mfa_enabled, mut hash) =
            (String::new(), String::new(), String::new());
        let mut given = Vec::new();
        for (column, value) in self.columns.iter().zip(values) {
            match column {
                Column::Username => username = value,
                Column::MfaEnabled => mfa_enabled = value,
                Column::PasswordHash => hash = value,
                Column::Attribute(_) if value.is_empty() => {}
                Column::Attribute(name) => given.push(AttributeType {
                    value: Some(if name == "birthdate" {
                        birthdate(&value)
                    } else {
                        value
                    }),
                    name: name.clone(),
                }),
            }
        }
        if username.is_empty() {
            return Err("The cognito:username value is missing.".into());
        }
        // The API's own rule for usernames (letters, marks, symbols, numbers, punctuation):
        // a name it could not write, it could not name either.
        if username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
            || username.chars().count() > 128
        {
            return Err(
                "The cognito:username value must be at most 128 characters, \
                        without spaces or tabs."
                    .into(),
            );
        }
        let mut attributes = check_writes(p, &given, true).map_err(|e| e.to_string())?;
        let verified = |attr: &str| {
            attributes
                .get(&format!("{attr}_verified"))
                .map(String::as_str)
                == Some("true")
        };
        for attr in ["email", "phone_number"] {
            if verified(attr) && !attributes.contains_key(attr) {
                return Err(format!(
                    "{attr}_verified is true but the row has no {attr}."
                ));
            }
        }
        if !self.auto_verified.is_empty() && !self.auto_verified.iter().any(|a| verified(a)) {
            return Err(
                "The User Record does not set any of the auto verified attributes to \
                        true. (Example: email_verified to true)."
                    .into(),
            );
        }
        let sms_mfa = match (mfa_enabled.to_ascii_lowercase().as_str(), &self.mfa) {
            ("", _) => false,
            ("true", UserPoolMfaType::Off) | ("false", UserPoolMfaType::On) => {
                return Err(format!(
                    "cognito:mfa_enabled is {mfa_enabled}, which the user pool's MFA \
                     configuration {} does not allow.",
                    self.mfa.as_str()
                ))
            }
            ("true", _) => true,
            ("false", _) => false,
            _ => return Err("cognito:mfa_enabled must be true, false or empty.".into()),
        };
        let imported_hash = match (&self.algorithm, hash.is_empty()) {
            (_, true) => None,
            (None, false) => {
                return Err("A password hash was given but the import job has no \
                            PasswordHashingAlgorithm."
                    .into())
            }
            (Some(algorithm), false) => {
                hashes::check(algorithm, &hash)?;
                Some(ImportedHash {
                    algorithm: algorithm.as_str().to_string(),
                    hash,
                })
            }
        };
        let mut identity = core.new_identity(p, &username).map_err(|e| e.to_string())?;
        let sub = core.import_sub(&self.sub_seed, line);
        if identity.username == identity.sub {
            identity.username = sub.clone(); // a pool whose users sign in with email or phone
        }
        identity.sub = sub;
        if let Some((attr, value)) = &identity.attribute {
            if attributes.get(*attr).is_some_and(|v| v != value) {
                return Err(format!(
                    "The {attr} column differs from cognito:username, which is the user's {attr}."
                ));
            }
            attributes.insert(attr.to_string(), value.clone());
        }
        attributes.insert("sub".into(), identity.sub.clone());
        check_required(p, &attributes).map_err(|e| e.to_string())?;
        let now = core.now_millis();
        let mut mfa = crate::store::UserMfaRecord::default();
        mfa.sms_enabled = sms_mfa;
        Ok(UserRecord {
            pool_id: pool.id.clone(),
            username_key: username_key(p, &identity.username),
            username: identity.username,
            sub: identity.sub,
            status: if imported_hash.is_some() {
                UserStatusType::Confirmed
            } else {
                UserStatusType::ResetRequired
            },
            enabled: true,
            attributes,
            password: None,
            imported_hash,
            password_history: Vec::new(),
            temporary_password_expires_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            mfa_options: Vec::new(),
            mfa,
            failed_sign_ins: 0,
            locked_until: None,
        })
    }
}

/// `mm/dd/yyyy`, the form the CSV carries, as the `YYYY-MM-DD` every API reads and writes.
fn birthdate(value: &str) -> String {
    let parts: Vec<&str> = value.split('/').collect();
    match parts[..] {
        [m, d, y] if m.len() <= 2 && d.len() <= 2 && y.len() == 4 => {
            format!("{y}-{m:0>2}-{d:0>2}")
        }
        _ => value.to_string(),
    }
}

impl Core {
    /// The sub of the user made from line `line` of a run seeded `seed`: a UUID only this
    /// server key can foresee, the same each time the line is taken.
    fn import_sub(&self, seed: &str, line: u64) -> String {
        let bytes = self
            .server_key
            .decoy(format!("user import sub {seed} {line}").as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(&bytes[..16]);
        uuid::Builder::from_random_bytes(b).into_uuid().to_string()
    }

    /// One row: the user created (no message sent, no trigger run, as Cognito's import), or
    /// why not. Only the store's failure is an error: the run stops and resumes later.
    pub(crate) async fn import_row(
        &self,
        pool: &UserPoolRecord,
        plan: &Plan,
        line: u64,
        values: Vec<String>,
    ) -> Result<Outcome> {
        let user = match plan.user(self, pool, line, values) {
            Ok(u) => u,
            Err(why) => return Ok(Outcome::Failed(why)),
        };
        let written = match self.check_aliases_free(pool, &user, false, true).await {
            Ok(()) => self.insert_user(pool, &user, false).await,
            Err(e) => Err(e),
        };
        Ok(match written {
            Ok(()) => Outcome::Imported,
            Err(CoreError::UsernameExists(_)) => {
                // This row's own user, made before a resumed run's last checkpoint was written?
                let found = self.users().user(&pool.id, &user.username_key).await?;
                if found.is_some_and(|u| u.sub == user.sub) {
                    Outcome::Imported
                } else {
                    Outcome::Skipped("The user already exists.".into())
                }
            }
            Err(e @ (CoreError::Store(_) | CoreError::Internal(_))) => return Err(e),
            Err(e) => Outcome::Failed(e.to_string()),
        })
    }
}
