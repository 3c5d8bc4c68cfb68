//! USER_PASSWORD_AUTH (InitiateAuth) and ADMIN_USER_PASSWORD_AUTH / ADMIN_NO_SRP_AUTH
//! (AdminInitiateAuth): the password travels to the server, which checks it against the SRP
//! verifier (g^x recomputed, compared in constant time).

use super::device_flow::UnknownDevice;
use super::{check_secret_hash_for, incorrect, AuthStep, Params};
use crate::passwords::srp_pool_name;
use crate::store::{AppClientRecord, UserPoolRecord};
use crate::user_migration::MigrationSource;
use crate::{Core, Result};

impl Core {
    pub(super) async fn password_sign_in(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let username = params.required("USERNAME")?;
        let password = params.required("PASSWORD")?;
        let secret_hash = params.get("SECRET_HASH");
        // A client secret is checked first: a caller without it learns nothing about users.
        if secret_hash.is_none() {
            check_secret_hash_for(client, &[username], None)?;
        }
        let found = match self.find_user(pool, username).await? {
            Some(u) => Some(u),
            // A name no user has: the pool's UserMigration may know it (user_migration.rs).
            None => self
                .migrate_user(
                    pool,
                    client,
                    username,
                    Some(password),
                    MigrationSource::Authentication,
                )
                .await
                .map_err(|e| match e {
                    crate::CoreError::UserNotFound(_)
                        if crate::app_clients::prevents_existence_errors(client) =>
                    {
                        incorrect()
                    }
                    e => e,
                })?,
        };
        let mut user = match found {
            Some(u) => u,
            None if crate::app_clients::prevents_existence_errors(client) => {
                self.before_password_check(pool, client, None, username)
                    .await?;
                // Spend what a real check costs, so timing does not tell strangers apart.
                let (_, salt, verifier) = self.decoy_verifier(pool, username);
                let identity = gatehouse_srp::SrpIdentity::user(srp_pool_name(&pool.id), username);
                let _ = verifier.verify_password(&identity, &salt, password);
                return Err(incorrect());
            }
            None => return Err(crate::CoreError::user_not_found()),
        };
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;
        self.before_password_check(pool, client, Some(&user), username)
            .await?;
        self.take_attempt(&mut user).await?;
        if !self.password_is_right(pool, &mut user, password).await? {
            return Err(incorrect());
        }
        let device = self
            .presented_device(pool, &user, params.get("DEVICE_KEY"), UnknownDevice::Ignore)
            .await?;
        self.finish_sign_in(pool, client, &mut user, device).await
    }
}
