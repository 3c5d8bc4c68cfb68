//! User migration (docs/triggers.md, "User migration"): when a sign-in with a password
//! (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, the hosted pages) or ForgotPassword names no
//! user, a pool with a UserMigration trigger asks it about the name; a user it returns is
//! created there and then, and the operation goes on with it. SRP cannot migrate (the server
//! never sees the password).
//!
//! - `userAttributes` are checked against the schema as AdminCreateUser's are (`sub` and
//!   `username` are Gatehouse's to make); the typed name becomes the username, or, in a pool
//!   whose users sign in with their email or phone, that attribute of a generated username.
//! - `finalUserStatus` CONFIRMED (the default) keeps the typed password, whatever the pool's
//!   password policy; RESET_REQUIRED creates the user without one, and the sign-in answers
//!   PasswordResetRequiredException (ForgotPassword always creates such a user).
//! - `forceAliasCreation` takes a verified email or phone alias over from another user.
//! - `enableSMSMFA` turns SMS MFA on for the new user; it needs a `phone_number` and a pool
//!   that can send SMS, or the migration fails.
//! - No welcome message is sent, whatever `messageAction` and `desiredDeliveryMediums` say
//!   (values other than Cognito's are refused): Cognito's welcome message is AdminCreateUser's
//!   invitation, which exists to deliver a temporary password, and a migrated user has none;
//!   they already know their password.

use gatehouse_wire::UserStatusType;

use crate::attributes::check_writes;
use crate::store::{AppClientRecord, UserPoolRecord, UserRecord};
use crate::triggers::Trigger;
use crate::users::username_key;
use crate::{passwords, Core, CoreError, Result};

/// Where a migration was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MigrationSource {
    /// A sign-in, with the typed password.
    Authentication,
    ForgotPassword,
}

impl Core {
    /// The user UserMigration makes of `typed` (None: the pool has no such trigger, or the
    /// function knows no such user). A function that fails, or a user that cannot be created,
    /// is Cognito's "Exception migrating user".
    pub(crate) async fn migrate_user(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        typed: &str,
        password: Option<&str>,
        source: MigrationSource,
    ) -> Result<Option<UserRecord>> {
        if !Self::has_trigger(pool, Trigger::UserMigration) {
            return Ok(None);
        }
        let trigger_source = match source {
            MigrationSource::Authentication => "UserMigration_Authentication",
            MigrationSource::ForgotPassword => "UserMigration_ForgotPassword",
        };
        let failed = || {
            CoreError::UserNotFound(format!(
                "Exception migrating user in app client {}",
                client.client_id
            ))
        };
        let answer = match self
            .user_migration_trigger(pool, &client.client_id, typed, password, trigger_source)
            .await
        {
            Ok(a) => a,
            // ForgotPassword shows the function's own failure; a sign-in does not.
            Err(e) if source == MigrationSource::ForgotPassword => return Err(e),
            Err(e) => {
                tracing::info!(error = %e, pool_id = %pool.id, "UserMigration failed");
                return Err(failed());
            }
        };
        let Some(mut given) = answer.user_attributes else {
            return Ok(None);
        };
        given.remove("sub");
        given.remove("username");
        let reset = source == MigrationSource::ForgotPassword
            || answer.final_user_status.as_deref() == Some("RESET_REQUIRED");
        if let Some(status) = answer.final_user_status.as_deref() {
            if !matches!(status, "CONFIRMED" | "RESET_REQUIRED") {
                return Err(CoreError::InvalidLambdaResponse(
                    "Unrecognizable lambda output".into(),
                ));
            }
        }
        let p = &pool.pool;
        let identity = self.new_identity(p, typed).map_err(|_| failed())?;
        let wire: Vec<gatehouse_wire::AttributeType> = given
            .into_iter()
            .map(|(name, value)| gatehouse_wire::AttributeType {
                name,
                value: Some(value),
            })
            .collect();
        let mut attributes = check_writes(p, &wire, true)?;
        if let Some((attr, value)) = &identity.attribute {
            attributes.insert(attr.to_string(), value.clone());
        }
        attributes.insert("sub".into(), identity.sub.clone());
        let now = self.now_millis();
        let password = match (reset, password) {
            (false, Some(typed_password)) => Some(passwords::make_record(
                self.entropy.as_ref(),
                &pool.id,
                &identity.username,
                typed_password,
            )),
            _ => None,
        };
        let mut mfa = crate::store::UserMfaRecord::default();
        if answer.enable_sms_mfa {
            if !crate::mfa::pool_offers_sms(pool) || !attributes.contains_key("phone_number") {
                tracing::info!(
                    pool_id = %pool.id,
                    "UserMigration asked for SMS MFA without a phone number or an SMS configuration"
                );
                return Err(failed());
            }
            mfa.sms_enabled = true;
        }
        let user = UserRecord {
            pool_id: pool.id.clone(),
            username_key: username_key(p, &identity.username),
            username: identity.username.clone(),
            sub: identity.sub,
            status: if reset {
                UserStatusType::ResetRequired
            } else {
                UserStatusType::Confirmed
            },
            enabled: true,
            attributes,
            password,
            password_history: Vec::new(),
            imported_hash: None,
            temporary_password_expires_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            mfa_options: Vec::new(),
            mfa,
            failed_sign_ins: 0,
            locked_until: None,
        };
        let force = answer.force_alias_creation;
        self.check_aliases_free(pool, &user, force, true).await?;
        match self.insert_user(pool, &user, force).await {
            Ok(()) => {}
            // Two sign-ins migrating the same user at once: the other one made it.
            Err(CoreError::UsernameExists(_)) => {
                return self.find_user(pool, typed).await;
            }
            Err(e) => return Err(e),
        }
        tracing::info!(pool_id = %pool.id, source = trigger_source, "user migrated");
        Ok(Some(user))
    }
}
