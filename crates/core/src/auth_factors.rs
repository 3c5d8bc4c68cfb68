//! GetUserAuthFactors and AdminGetUserAuthFactors: the first factors a user could sign in with
//! under the pool's SignInPolicy (a password; a one-time code to their email or phone where the
//! policy allows it; passkeys once they exist), with the MFA settings GetUser shows. The rule is
//! the choice-based sign-in's (auth/choice_flow.rs::user_first_factors).

use gatehouse_wire::*;

use crate::store::{UserPoolRecord, UserRecord};
use crate::{Core, Result};

impl Core {
    async fn auth_factors(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
    ) -> Result<GetUserAuthFactorsResponse> {
        let (enabled, preferred) = crate::mfa::user_mfa_settings(user);
        let passkeys = !self.usable_passkeys(pool, user).await?.is_empty();
        Ok(GetUserAuthFactorsResponse {
            username: user.username.clone(),
            preferred_mfa_setting: preferred,
            user_mfa_setting_list: enabled,
            configured_user_auth_factors: Some(crate::auth::user_first_factors(
                pool, user, passkeys,
            )),
        })
    }

    pub async fn get_user_auth_factors(
        &self,
        req: GetUserAuthFactorsRequest,
    ) -> Result<GetUserAuthFactorsResponse> {
        let t = self.access_token(&req.access_token).await?;
        self.auth_factors(&t.pool, &t.user).await
    }

    pub async fn admin_get_user_auth_factors(
        &self,
        req: AdminGetUserAuthFactorsRequest,
    ) -> Result<AdminGetUserAuthFactorsResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let f = self.auth_factors(&pool, &user).await?;
        Ok(AdminGetUserAuthFactorsResponse {
            username: f.username,
            preferred_mfa_setting: f.preferred_mfa_setting,
            user_mfa_setting_list: f.user_mfa_setting_list,
            configured_user_auth_factors: f.configured_user_auth_factors,
        })
    }
}
