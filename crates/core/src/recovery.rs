//! Password recovery: ForgotPassword and ConfirmForgotPassword (the user proves they hold a
//! verified email or phone number), and AdminResetUserPassword (an administrator sends the
//! user there, status RESET_REQUIRED).

use gatehouse_wire::*;

use crate::app_clients::{
    check_secret_hash, decoy_delivery, prevents_existence_errors, unknown_user,
};
use crate::messages::Purpose;
use crate::store::{UserPoolRecord, UserRecord};
use crate::{passwords, Core, CoreError, Result};

/// Cognito's lifetime of a password-reset code.
pub const FORGOT_PASSWORD_CODE_TTL_MS: i64 = 3600 * 1000;

/// Where a reset code goes: the pool's AccountRecoverySetting order (verified email first by
/// default), among the user's verified contacts.
fn recovery_attribute(pool: &UserPoolType, user: &UserRecord) -> Option<&'static str> {
    let verified = |a: &str| {
        user.attributes.contains_key(a)
            && user
                .attributes
                .get(&format!("{a}_verified"))
                .map(String::as_str)
                == Some("true")
    };
    let order: Vec<RecoveryOptionNameType> = pool
        .account_recovery_setting
        .as_ref()
        .and_then(|s| s.recovery_mechanisms.clone())
        .map(|mut m| {
            m.sort_by_key(|o| o.priority);
            m.into_iter().map(|o| o.name).collect()
        })
        .unwrap_or_else(|| {
            vec![
                RecoveryOptionNameType::VerifiedEmail,
                RecoveryOptionNameType::VerifiedPhoneNumber,
            ]
        });
    order.into_iter().find_map(|o| match o {
        RecoveryOptionNameType::VerifiedEmail if verified("email") => Some("email"),
        RecoveryOptionNameType::VerifiedPhoneNumber if verified("phone_number") => {
            Some("phone_number")
        }
        _ => None,
    })
}

fn no_recovery_contact() -> CoreError {
    CoreError::InvalidParameter(
        "Cannot reset password for the user as there is no registered/verified email or phone_number"
            .into(),
    )
}

impl Core {
    async fn send_reset_code(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
    ) -> Result<CodeDeliveryDetailsType> {
        let attribute = recovery_attribute(&pool.pool, user).ok_or_else(no_recovery_contact)?;
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
        req: ForgotPasswordRequest,
    ) -> Result<ForgotPasswordResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let user = match self.find_user(&pool, &req.username).await? {
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
            return Err(CoreError::NotAuthorized("User is disabled.".into()));
        }
        Ok(ForgotPasswordResponse {
            code_delivery_details: Some(self.send_reset_code(&pool, &user).await?),
        })
    }

    pub async fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPasswordRequest,
    ) -> Result<ConfirmForgotPasswordResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let user = match self.find_user(&pool, &req.username).await? {
            Some(u) => u,
            None => return Err(unknown_user(&client)),
        };
        let policy = passwords::policy_of(&pool.pool);
        // Policy and history first, on a copy: a refused password leaves the code usable.
        let mut trial = user.clone();
        passwords::replace(self.entropy.as_ref(), &policy, &mut trial, &req.password)?;
        self.redeem_code(&user, Purpose::ForgotPassword, &req.confirmation_code)
            .await?;
        self.modify_user(&pool, &user.username, |u| {
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
        self.attempt_succeeded(&user).await?;
        Ok(ConfirmForgotPasswordResponse {})
    }

    pub async fn admin_reset_user_password(
        &self,
        req: AdminResetUserPasswordRequest,
    ) -> Result<AdminResetUserPasswordResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        if recovery_attribute(&pool.pool, &user).is_none() {
            return Err(no_recovery_contact());
        }
        let user = self
            .modify_user(&pool, &user.username, |u| {
                u.status = UserStatusType::ResetRequired;
                Ok(())
            })
            .await?;
        self.send_reset_code(&pool, &user).await?;
        Ok(AdminResetUserPasswordResponse {})
    }
}
