//! GetUserAuthFactors and AdminGetUserAuthFactors: the first factors a user could sign in with
//! under the pool's SignInPolicy (a password; a one-time code to a verified email or phone where
//! the policy allows it; passkeys once they exist), with the MFA settings GetUser shows. The
//! choice-based sign-in (USER_AUTH) that uses them is issue #22's.

use gatehouse_wire::*;

use crate::store::{UserPoolRecord, UserRecord};
use crate::{Core, Result};

/// The factors `user` has, of those the pool's policy allows (Cognito's default: the password).
pub(crate) fn configured_factors(pool: &UserPoolRecord, user: &UserRecord) -> Vec<AuthFactorType> {
    let allowed = pool
        .pool
        .policies
        .as_ref()
        .and_then(|p| p.sign_in_policy.as_ref())
        .and_then(|s| s.allowed_first_auth_factors.clone())
        .unwrap_or_else(|| vec![AuthFactorType::Password]);
    let verified = |attr: &str| {
        user.attributes.contains_key(attr)
            && user
                .attributes
                .get(&format!("{attr}_verified"))
                .map(String::as_str)
                == Some("true")
    };
    let has = |f: &AuthFactorType| match f {
        AuthFactorType::Password => user.password.is_some() || user.imported_hash.is_some(),
        AuthFactorType::EmailOtp => verified("email"),
        AuthFactorType::SmsOtp => verified("phone_number"),
        _ => false,
    };
    allowed.into_iter().filter(|f| has(f)).collect()
}

impl Core {
    fn auth_factors(&self, pool: &UserPoolRecord, user: &UserRecord) -> GetUserAuthFactorsResponse {
        let (enabled, preferred) = crate::mfa::user_mfa_settings(user);
        GetUserAuthFactorsResponse {
            username: user.username.clone(),
            preferred_mfa_setting: preferred,
            user_mfa_setting_list: enabled,
            configured_user_auth_factors: Some(configured_factors(pool, user)),
        }
    }

    pub async fn get_user_auth_factors(
        &self,
        req: GetUserAuthFactorsRequest,
    ) -> Result<GetUserAuthFactorsResponse> {
        let t = self.access_token(&req.access_token).await?;
        Ok(self.auth_factors(&t.pool, &t.user))
    }

    pub async fn admin_get_user_auth_factors(
        &self,
        req: AdminGetUserAuthFactorsRequest,
    ) -> Result<AdminGetUserAuthFactorsResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let f = self.auth_factors(&pool, &user);
        Ok(AdminGetUserAuthFactorsResponse {
            username: f.username,
            preferred_mfa_setting: f.preferred_mfa_setting,
            user_mfa_setting_list: f.user_mfa_setting_list,
            configured_user_auth_factors: f.configured_user_auth_factors,
        })
    }
}
