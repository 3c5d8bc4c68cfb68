//! REFRESH_TOKEN_AUTH / REFRESH_TOKEN (InitiateAuth, AdminInitiateAuth) and
//! GetTokensFromRefreshToken. The refresh token family itself is in `sessions.rs`.

use gatehouse_wire::*;

use super::{check_secret_hash_for, AuthStep, Params};
use crate::store::{AppClientRecord, UserPoolRecord};
use crate::triggers::{requested, Requested};
use crate::{Caller, Core, CoreError, Result};

impl Core {
    pub(super) async fn refresh_flow(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let token = params.required("REFRESH_TOKEN")?;
        let secret_hash = params.get("SECRET_HASH");
        // The hash is over the token owner's name (AWS wants the internal username; clients
        // send the sub, the username or the alias they typed — any of the user's names passes).
        let given_name = params.get("USERNAME");
        let result = self
            .refresh_session(
                pool,
                client,
                token,
                params.get("DEVICE_KEY"),
                false,
                |user| {
                    let mut names = vec![user.username.as_str(), user.sub.as_str()];
                    names.extend(given_name);
                    // pycognito hashes the name it was given, which may be an alias.
                    for alias in ["email", "phone_number", "preferred_username"] {
                        names.extend(user.attributes.get(alias).map(String::as_str));
                    }
                    check_secret_hash_for(client, &names, secret_hash)
                },
            )
            .await?;
        Ok(AuthStep::tokens(result))
    }

    pub async fn get_tokens_from_refresh_token(
        &self,
        caller: &Caller,
        req: GetTokensFromRefreshTokenRequest,
    ) -> Result<GetTokensFromRefreshTokenResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        crate::app_clients::check_client_secret(&client, req.client_secret.as_deref())?;
        let allowed = super::flow_allowed(&client.client, &AuthFlowType::RefreshTokenAuth);
        if !allowed {
            return Err(CoreError::InvalidParameter(
                "REFRESH_TOKEN_AUTH flow not enabled for this client".into(),
            ));
        }
        // Its ClientMetadata is PreTokenGeneration's `clientMetadata` (Cognito's routing: the
        // one trigger this operation fires), unlike REFRESH_TOKEN_AUTH's, which InitiateAuth
        // gives only to PreSignUp, PreAuthentication and UserMigration.
        let told = Requested {
            caller: caller.clone(),
            client_metadata: req.client_metadata,
            ..Default::default()
        };
        let refreshed = self.refresh_session(
            &pool,
            &client,
            &req.refresh_token,
            req.device_key.as_deref().filter(|k| !k.is_empty()),
            true,
            |_| Ok(()),
        );
        let result = requested(told, refreshed).await?;
        Ok(GetTokensFromRefreshTokenResponse {
            authentication_result: Some(result),
        })
    }
}
