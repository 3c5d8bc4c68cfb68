//! Password recovery: ForgotPassword and ConfirmForgotPassword (the user proves they hold a
//! verified email or phone number), and AdminResetUserPassword (an administrator sends the
//! user there, status RESET_REQUIRED).

use std::collections::BTreeMap;

use gatehouse_wire::*;

use crate::app_clients::{
    check_secret_hash, decoy_delivery, prevents_existence_errors, unknown_user,
};
use crate::messages::Purpose;
use crate::store::{UserPoolRecord, UserRecord};
use crate::triggers::{messages_from, Call, MessageContext, Trigger};
use crate::user_migration::MigrationSource;
use crate::{passwords, Caller, Core, CoreError, Result};

/// Cognito's lifetime of a password-reset code.
pub const FORGOT_PASSWORD_CODE_TTL_MS: i64 = 3600 * 1000;

/// Where a reset code goes (docs/recovery.md), among the user's verified contacts:
///
/// - without an AccountRecoverySetting, Cognito's legacy rule: a verified phone number first,
///   then a verified email;
/// - with one, its mechanisms by priority; a phone number the user also receives SMS MFA codes
///   on does not count, nor an email address that receives email MFA codes (a second factor
///   must not also reset the first).
///
/// `Err(())` when the setting is `admin_only`: users cannot reset their own password.
fn recovery_attribute(pool: &UserPoolType, user: &UserRecord) -> Result<Option<&'static str>, ()> {
    let sms_mfa = user.mfa.sms_enabled || !user.mfa_options.is_empty();
    recovery_choice(pool, &user.attributes, sms_mfa, user.mfa.email_enabled)
}

/// [`recovery_attribute`] for a user with `attributes` who receives SMS MFA codes (`sms_mfa`)
/// or email MFA codes (`email_mfa`).
fn recovery_choice(
    pool: &UserPoolType,
    attributes: &BTreeMap<String, String>,
    sms_mfa: bool,
    email_mfa: bool,
) -> Result<Option<&'static str>, ()> {
    let verified = |a: &str| {
        attributes.contains_key(a)
            && attributes.get(&format!("{a}_verified")).map(String::as_str) == Some("true")
    };
    if admin_only_pool(pool) {
        return Err(());
    }
    let mechanisms = pool
        .account_recovery_setting
        .as_ref()
        .and_then(|s| s.recovery_mechanisms.clone())
        .filter(|m| !m.is_empty());
    let Some(mut mechanisms) = mechanisms else {
        return Ok(["phone_number", "email"].into_iter().find(|a| verified(a)));
    };
    mechanisms.sort_by_key(|o| o.priority);
    let mut found = None;
    for o in mechanisms {
        match o.name {
            RecoveryOptionNameType::VerifiedEmail if !email_mfa && verified("email") => {
                found = found.or(Some("email"))
            }
            RecoveryOptionNameType::VerifiedPhoneNumber if !sms_mfa && verified("phone_number") => {
                found = found.or(Some("phone_number"))
            }
            _ => {}
        }
    }
    Ok(found)
}

fn no_recovery_contact() -> CoreError {
    CoreError::InvalidParameter(
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
            .into(),
    )
}

fn admin_only() -> CoreError {
    CoreError::NotAuthorized("Contact administrator to reset password.".into())
}

fn disabled() -> CoreError {
    CoreError::NotAuthorized("User is disabled.".into())
}

/// A user who never chose a password (FORCE_CHANGE_PASSWORD) has nothing to reset: they sign in
/// with the temporary one.
fn cannot_reset(status: &UserStatusType) -> Result<()> {
    if *status == UserStatusType::ForceChangePassword {
        return Err(CoreError::NotAuthorized(
            "User password cannot be reset in the current state.".into(),
        ));
    }
    Ok(())
}

/// Whether the pool's recovery setting is `admin_only` (users cannot reset their own password).
fn admin_only_pool(pool: &UserPoolType) -> bool {
    pool.account_recovery_setting
        .as_ref()
        .and_then(|s| s.recovery_mechanisms.as_ref())
        .is_some_and(|m| {
            m.iter()
                .any(|o| o.name == RecoveryOptionNameType::AdminOnly)
        })
}

impl Core {
    async fn send_reset_code(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
    ) -> Result<CodeDeliveryDetailsType> {
        let attribute = recovery_attribute(&pool.pool, user)
            .map_err(|()| admin_only())?
            .ok_or_else(no_recovery_contact)?;
        self.send_code_to(
            &pool.pool,
            user,
            attribute,
            Purpose::ForgotPassword,
            FORGOT_PASSWORD_CODE_TTL_MS,
        )
        .await?
        .ok_or_else(no_recovery_contact)
    }

    pub async fn forgot_password(
        &self,
        caller: &Caller,
        req: ForgotPasswordRequest,
    ) -> Result<ForgotPasswordResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        // Refused whoever asks, so the answer says nothing of the user.
        if admin_only_pool(&pool.pool) {
            return Err(admin_only());
        }
        let found = match self.find_user(&pool, &req.username).await? {
            Some(u) => Some(u),
            // A name no user has: the pool's UserMigration may know it (user_migration.rs).
            None => {
                let told = crate::triggers::Requested {
                    caller: caller.clone(),
                    client_metadata: req.client_metadata.clone(),
                    ..Default::default()
                };
                let migrated = self.migrate_user(
                    &pool,
                    &client,
                    &req.username,
                    None,
                    MigrationSource::ForgotPassword,
                );
                crate::triggers::requested(told, migrated).await?
            }
        };
        let user = match found {
            Some(u) => u,
            // A stranger gets an answer shaped like a real one.
            None if prevents_existence_errors(&client) => {
                return Ok(ForgotPasswordResponse {
                    code_delivery_details: Some(decoy_delivery(&req.username)),
                });
            }
            None => return Err(unknown_user(&client)),
        };
        if !user.enabled {
            return Err(disabled());
        }
        cannot_reset(&user.status)?;
        let from = MessageContext::new("CustomMessage_ForgotPassword", Some(&client.client_id))
            .with_metadata(req.client_metadata.as_ref());
        let details = messages_from(from, self.send_reset_code(&pool, &user)).await?;
        self.record_account_event(&pool, &user, EventType::Forgotpassword, true, caller)
            .await;
        Ok(ForgotPasswordResponse {
            code_delivery_details: Some(details),
        })
    }

    pub async fn confirm_forgot_password(
        &self,
        caller: &Caller,
        req: ConfirmForgotPasswordRequest,
    ) -> Result<ConfirmForgotPasswordResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let mut user = match self.find_user(&pool, &req.username).await? {
            Some(u) => u,
            None => return Err(unknown_user(&client)),
        };
        let policy = passwords::policy_of(&pool.pool);
        // Policy and history first, on a copy: a refused password leaves the code usable.
        let mut trial = user.clone();
        passwords::replace(self.entropy.as_ref(), &policy, &mut trial, &req.password)?;
        let redeemed = self
            .redeem_code(&user, Purpose::ForgotPassword, &req.confirmation_code)
            .await;
        // The reset changes the password: a PasswordChange event, failed by a wrong code.
        if let Err(CoreError::CodeMismatch(_) | CoreError::ExpiredCode(_)) = &redeemed {
            self.record_account_event(&pool, &user, EventType::Passwordchange, false, caller)
                .await;
        }
        redeemed?;
        let reset = self
            .modify_user(&pool, &user.username, |u| {
                passwords::replace(self.entropy.as_ref(), &policy, u, &req.password)?;
                if matches!(
                    u.status,
                    UserStatusType::ResetRequired | UserStatusType::ForceChangePassword
                ) {
                    u.status = UserStatusType::Confirmed;
                }
                u.temporary_password_expires_at = None;
                Ok(())
            })
            .await?;
        // A proven reset ends any lock.
        self.attempt_succeeded(&mut user).await?;
        self.record_account_event(&pool, &user, EventType::Passwordchange, true, caller)
            .await;
        let call = Call {
            pool: &pool,
            trigger: Trigger::PostConfirmation,
            source: "PostConfirmation_ConfirmForgotPassword",
            user_name: &reset.username,
            client_id: Some(&client.client_id),
            caller,
        };
        self.post_confirmation_trigger(call, &reset, req.client_metadata.as_ref())
            .await?;
        Ok(ConfirmForgotPasswordResponse {})
    }

    pub async fn admin_reset_user_password(
        &self,
        req: AdminResetUserPasswordRequest,
    ) -> Result<AdminResetUserPasswordResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let refuse = |u: &UserRecord| -> Result<()> {
            if !u.enabled {
                return Err(disabled());
            }
            cannot_reset(&u.status)?;
            match recovery_attribute(&pool.pool, u) {
                Ok(Some(_)) => Ok(()),
                _ => Err(no_recovery_contact()),
            }
        };
        refuse(&user)?;
        // Checked again in the write: a user disabled or given a temporary password meanwhile
        // is not reset.
        let user = self
            .modify_user(&pool, &user.username, |u| {
                refuse(u)?;
                u.status = UserStatusType::ResetRequired;
                Ok(())
            })
            .await?;
        let from = MessageContext::new("CustomMessage_ForgotPassword", None)
            .with_metadata(req.client_metadata.as_ref());
        messages_from(from, self.send_reset_code(&pool, &user)).await?;
        Ok(AdminResetUserPasswordResponse {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn both() -> BTreeMap<String, String> {
        attrs(&[
            ("email", "a@example.com"),
            ("email_verified", "true"),
            ("phone_number", "+15555550123"),
            ("phone_number_verified", "true"),
        ])
    }

    fn pool(mechanisms: &[(RecoveryOptionNameType, i32)]) -> UserPoolType {
        UserPoolType {
            account_recovery_setting: Some(AccountRecoverySettingType {
                recovery_mechanisms: Some(
                    mechanisms
                        .iter()
                        .map(|(name, priority)| RecoveryOptionType {
                            name: name.clone(),
                            priority: *priority,
                        })
                        .collect(),
                ),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn without_a_setting_a_verified_phone_comes_first() {
        let legacy = UserPoolType::default();
        assert_eq!(
            recovery_choice(&legacy, &both(), false, false),
            Ok(Some("phone_number"))
        );
        let email_only = attrs(&[
            ("email", "a@example.com"),
            ("email_verified", "true"),
            ("phone_number", "+15555550123"),
            ("phone_number_verified", "false"),
        ]);
        assert_eq!(
            recovery_choice(&legacy, &email_only, false, false),
            Ok(Some("email"))
        );
        // The legacy rule does not skip a phone that receives SMS MFA codes.
        assert_eq!(
            recovery_choice(&legacy, &both(), true, true),
            Ok(Some("phone_number"))
        );
        assert_eq!(
            recovery_choice(&legacy, &attrs(&[]), false, false),
            Ok(None)
        );
    }

    #[test]
    fn a_setting_orders_by_priority_and_skips_mfa_contacts() {
        use RecoveryOptionNameType::*;
        let email_first = pool(&[(VerifiedPhoneNumber, 2), (VerifiedEmail, 1)]);
        assert_eq!(
            recovery_choice(&email_first, &both(), false, false),
            Ok(Some("email"))
        );
        let phone_first = pool(&[(VerifiedPhoneNumber, 1), (VerifiedEmail, 2)]);
        assert_eq!(
            recovery_choice(&phone_first, &both(), false, false),
            Ok(Some("phone_number"))
        );
        assert_eq!(
            recovery_choice(&phone_first, &both(), true, false),
            Ok(Some("email"))
        );
        assert_eq!(
            recovery_choice(&email_first, &both(), false, true),
            Ok(Some("phone_number"))
        );
        let phone_only = pool(&[(VerifiedPhoneNumber, 1)]);
        assert_eq!(recovery_choice(&phone_only, &both(), true, false), Ok(None));
        assert_eq!(
            recovery_choice(&pool(&[(AdminOnly, 1)]), &both(), false, false),
            Err(())
        );
    }

    #[test]
    fn force_change_password_cannot_be_reset() {
        assert!(cannot_reset(&UserStatusType::Confirmed).is_ok());
        assert!(cannot_reset(&UserStatusType::ResetRequired).is_ok());
        match cannot_reset(&UserStatusType::ForceChangePassword) {
            Err(CoreError::NotAuthorized(m)) => {
                assert_eq!(m, "User password cannot be reset in the current state.")
            }
            other => panic!("{other:?}"),
        }
    }
}
