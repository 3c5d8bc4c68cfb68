//! POST /oauth2/token and POST /oauth2/revoke: client authentication (`client_secret_basic`,
//! `client_secret_post`, or none for a public client) and the grants `authorization_code` (with
//! PKCE), `refresh_token` and `client_credentials`. Errors are OAuth's (RFC 6749 §5.2).

use std::collections::BTreeMap;

use gatehouse_wire::{OAuthFlowType, RevokeTokenRequest};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use subtle::ConstantTimeEq;

use super::{code_hash, s256, scopes, OAuthError};
use crate::client_secrets::{is_confidential, secret_matches, signing_secret};
use crate::store::AppClientRecord;
use crate::triggers::TokenSource;
use crate::{Core, CoreError};

type OResult<T> = std::result::Result<T, OAuthError>;

/// The token request's form.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct TokenForm {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// /oauth2/revoke's token.
    pub token: Option<String>,
    /// `client_credentials`' ClientMetadata for PreTokenGeneration: a JSON object of strings.
    pub aws_client_metadata: Option<String>,
}

/// The credentials of an `Authorization: Basic` header, already decoded.
#[derive(Debug, Clone)]
pub struct BasicAuth {
    pub client_id: String,
    pub client_secret: String,
}

fn invalid_client() -> OAuthError {
    OAuthError::new("invalid_client", "Client authentication failed.")
}

fn invalid_grant(why: &str) -> OAuthError {
    OAuthError::new("invalid_grant", why)
}

fn required(v: &Option<String>, name: &str) -> OResult<String> {
    v.clone()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthError::new("invalid_request", format!("{name} is required")))
}

impl Core {
    /// The client a back-channel request authenticates as: Basic or form credentials (not
    /// both), a secret compared in constant time, none for a public client.
    async fn authenticate_client(
        &self,
        form: &TokenForm,
        basic: Option<&BasicAuth>,
        host_pool: Option<&str>,
    ) -> OResult<AppClientRecord> {
        let (id, secret) = match basic {
            Some(_) if form.client_secret.is_some() => {
                return Err(OAuthError::new(
                    "invalid_request",
                    "use one client authentication method",
                ))
            }
            Some(b) => {
                if form.client_id.as_deref().is_some_and(|c| c != b.client_id) {
                    return Err(invalid_client());
                }
                (b.client_id.clone(), Some(b.client_secret.clone()))
            }
            None => (
                required(&form.client_id, "client_id")?,
                form.client_secret.clone(),
            ),
        };
        let client = self
            .oauth_client(&id, host_pool)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(invalid_client)?;
        match (is_confidential(&client), secret.as_deref()) {
            (true, Some(given)) if secret_matches(&client, given) => {}
            (false, None) => {}
            _ => return Err(invalid_client()),
        }
        if client.client.allowed_oauth_flows_user_pool_client != Some(true) {
            return Err(OAuthError::new(
                "unauthorized_client",
                "the client is not enabled for OAuth",
            ));
        }
        Ok(client)
    }

    /// POST /oauth2/token. `host_pool`: see [`Core::pool_of_host`].
    pub async fn oauth_token(
        &self,
        form: TokenForm,
        basic: Option<BasicAuth>,
        host_pool: Option<&str>,
    ) -> OResult<Value> {
        let grant = required(&form.grant_type, "grant_type")?;
        if !matches!(
            grant.as_str(),
            "authorization_code" | "refresh_token" | "client_credentials"
        ) {
            return Err(OAuthError::new(
                "unsupported_grant_type",
                "grant_type must be authorization_code, refresh_token or client_credentials",
            ));
        }
        let client = self
            .authenticate_client(&form, basic.as_ref(), host_pool)
            .await?;
        match grant.as_str() {
            "authorization_code" => self.code_grant(&client, &form).await,
            "refresh_token" => self.refresh_grant(&client, &form).await,
            _ => self.client_credentials_grant(&client, &form).await,
        }
    }

    async fn code_grant(&self, client: &AppClientRecord, form: &TokenForm) -> OResult<Value> {
        let code = required(&form.code, "code")?;
        let redirect_uri = required(&form.redirect_uri, "redirect_uri")?;
        if !client
            .client
            .allowed_oauth_flows
            .iter()
            .flatten()
            .any(|f| *f == OAuthFlowType::Code)
        {
            return Err(OAuthError::new(
                "unauthorized_client",
                "Client is not allowed for code grant flow",
            ));
        }
        // Taken, whatever follows: a code is tried once (RFC 6749 §4.1.2).
        let rec = self
            .tokens()
            .take_authorization_code(&code_hash(&code))
            .await
            .map_err(|e| OAuthError::internal(e.into()))?
            .ok_or_else(|| invalid_grant("the code is invalid or was used already"))?;
        if rec.client_id != client.client_id || rec.pool_id != client.pool_id {
            return Err(invalid_grant("the code was issued to another client"));
        }
        if rec.expires_at <= self.now_millis() {
            return Err(invalid_grant("the code has expired"));
        }
        if rec.redirect_uri != redirect_uri {
            return Err(invalid_grant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        match (&rec.code_challenge, form.code_verifier.as_deref()) {
            (None, None) => {}
            (Some(challenge), Some(verifier)) => {
                if !bool::from(s256(verifier).as_bytes().ct_eq(challenge.as_bytes())) {
                    return Err(invalid_grant(
                        "code_verifier does not match the code_challenge",
                    ));
                }
            }
            (Some(_), None) => return Err(invalid_grant("code_verifier is required")),
            (None, Some(_)) => {
                return Err(invalid_grant(
                    "the authorization request had no code_challenge",
                ))
            }
        }
        let (pool, session, user) = self
            .live_session(client, &rec.session_id)
            .await?
            .ok_or_else(|| invalid_grant("the sign-in has ended"))?;
        let mut session = session;
        let refresh = self
            .reissue_refresh_token(&mut session)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(|| invalid_grant("the sign-in has ended"))?;
        let tokens = self
            .mint_tokens(
                &pool,
                &client.client,
                &user,
                &session,
                rec.nonce.as_deref(),
                TokenSource::HostedAuth,
            )
            .await
            .map_err(OAuthError::internal)?;
        Ok(token_response(tokens, Some(refresh)))
    }

    /// The session, its pool and its user, if the session is live and the user enabled.
    async fn live_session(
        &self,
        client: &AppClientRecord,
        session_id: &str,
    ) -> OResult<
        Option<(
            crate::store::UserPoolRecord,
            crate::store::AuthSessionRecord,
            crate::store::UserRecord,
        )>,
    > {
        let pool = self
            .pool(&client.pool_id)
            .await
            .map_err(OAuthError::internal)?;
        let found = self
            .tokens()
            .auth_session_with_user(session_id)
            .await
            .map_err(|e| OAuthError::internal(e.into()))?;
        Ok(match found {
            Some((s, Some(u)))
                if s.revoked_at.is_none() && s.expires_at > self.now_millis() && u.enabled =>
            {
                Some((pool, s, u))
            }
            _ => None,
        })
    }

    async fn refresh_grant(&self, client: &AppClientRecord, form: &TokenForm) -> OResult<Value> {
        let token = required(&form.refresh_token, "refresh_token")?;
        let pool = self
            .pool(&client.pool_id)
            .await
            .map_err(OAuthError::internal)?;
        // Device-tracked sessions refresh here too (Cognito refuses them, amplify-js#8981).
        let tokens = self
            .refresh_session(&pool, client, &token, None, true, |_| Ok(()))
            .await
            .map_err(|e| match e {
                CoreError::NotAuthorized(m) | CoreError::RefreshTokenReuse(m) => invalid_grant(&m),
                other => OAuthError::internal(other),
            })?;
        let refresh = tokens.refresh_token.clone();
        Ok(token_response(tokens, refresh))
    }

    async fn client_credentials_grant(
        &self,
        client: &AppClientRecord,
        form: &TokenForm,
    ) -> OResult<Value> {
        let allowed_flow = client
            .client
            .allowed_oauth_flows
            .iter()
            .flatten()
            .any(|f| *f == OAuthFlowType::ClientCredentials);
        if !allowed_flow || !is_confidential(client) {
            return Err(OAuthError::new(
                "unauthorized_client",
                "Client is not allowed for client_credentials flow",
            ));
        }
        let requested = match form.scope.as_deref().map(scopes::parse) {
            None => None,
            Some(None) => {
                return Err(OAuthError::new(
                    "invalid_scope",
                    "the scope parameter is malformed",
                ))
            }
            Some(Some(v)) if v.is_empty() => None,
            Some(Some(v)) => Some(v),
        };
        let granted = self
            .machine_scopes(client, requested)
            .await
            .map_err(|e| match e {
                CoreError::InvalidParameter(m) => OAuthError::new("invalid_scope", m),
                e => OAuthError::internal(e),
            })?;
        let metadata = match form.aws_client_metadata.as_deref() {
            None | Some("") => None,
            Some(m) => Some(
                serde_json::from_str::<BTreeMap<String, String>>(m).map_err(|_| {
                    OAuthError::new(
                        "invalid_request",
                        "aws_client_metadata must be a JSON object of strings",
                    )
                })?,
            ),
        };
        let (token, expires_in) = self
            .mint_client_token(client, &granted, metadata.as_ref())
            .await
            .map_err(OAuthError::internal)?;
        Ok(json!({ "access_token": token, "expires_in": expires_in, "token_type": "Bearer" }))
    }

    /// The scopes a machine token gets: those asked for (all the client's when none are), each
    /// one the client's, of those the ones whose resource server still exists. InvalidParameter
    /// (the token endpoint's invalid_scope) otherwise.
    async fn machine_scopes(
        &self,
        client: &AppClientRecord,
        requested: Option<Vec<String>>,
    ) -> crate::Result<Vec<String>> {
        let allowed = client
            .client
            .allowed_oauth_scopes
            .as_deref()
            .unwrap_or_default();
        let requested = requested.unwrap_or_else(|| allowed.to_vec());
        if let Some(s) = requested.iter().find(|s| !allowed.contains(s)) {
            return Err(CoreError::InvalidParameter(format!(
                "{s} is not allowed for this client"
            )));
        }
        let granted = self.live_scopes(&client.pool_id, &requested).await?;
        if granted.is_empty() {
            return Err(CoreError::InvalidParameter(
                "no requested scope exists".into(),
            ));
        }
        Ok(granted)
    }

    /// GetClientToken: the client_credentials grant through the API, for a client whose secret
    /// is `Secret` and that allows `ALLOW_CLIENT_TOKEN_AUTH` (or the client_credentials OAuth
    /// flow). Docs: docs/design/client-secrets-cognito-behaviour.md §2.
    pub async fn get_client_token(
        &self,
        req: gatehouse_wire::GetClientTokenRequest,
    ) -> crate::Result<gatehouse_wire::GetClientTokenResponse> {
        let (client, _) = self.client_and_pool(&req.client_id).await?;
        if !secret_matches(&client, &req.secret) {
            return Err(CoreError::NotAuthorized("Invalid client or secret".into()));
        }
        let c = &client.client;
        let token_auth = c
            .explicit_auth_flows
            .iter()
            .flatten()
            .any(|f| *f == gatehouse_wire::ExplicitAuthFlowsType::AllowClientTokenAuth);
        let credentials_flow = c.allowed_oauth_flows_user_pool_client == Some(true)
            && c.allowed_oauth_flows
                .iter()
                .flatten()
                .any(|f| *f == OAuthFlowType::ClientCredentials);
        if !token_auth && !credentials_flow {
            return Err(CoreError::NotAuthorized(
                "Client is not enabled for CLIENT_TOKEN_AUTH flow.".into(),
            ));
        }
        let requested = req.scopes.filter(|s| !s.is_empty());
        let granted = self.machine_scopes(&client, requested).await?;
        let (token, expires_in) = self
            .mint_client_token(&client, &granted, req.client_metadata.as_ref())
            .await?;
        Ok(gatehouse_wire::GetClientTokenResponse {
            client_authentication_result: Some(gatehouse_wire::ClientAuthenticationResultType {
                access_token: Some(token),
                expires_in: Some(expires_in as i32),
                token_type: Some("Bearer".into()),
            }),
        })
    }

    /// POST /oauth2/revoke: RevokeToken's rule (sessions.rs), answered in OAuth's words.
    pub async fn oauth_revoke(
        &self,
        form: TokenForm,
        basic: Option<BasicAuth>,
        host_pool: Option<&str>,
    ) -> OResult<()> {
        let token = required(&form.token, "token")?;
        let client = self
            .authenticate_client(&form, basic.as_ref(), host_pool)
            .await?;
        let req = RevokeTokenRequest {
            token,
            client_id: client.client_id.clone(),
            client_secret: signing_secret(&client),
            ..Default::default()
        };
        match self.revoke_token(req).await {
            Ok(_) => Ok(()),
            Err(CoreError::UnsupportedOperation(m)) => Err(OAuthError::new("invalid_request", m)),
            Err(CoreError::UnsupportedTokenType(m)) => {
                Err(OAuthError::new("unsupported_token_type", m))
            }
            Err(e) => Err(OAuthError::internal(e)),
        }
    }
}

/// The token endpoint's success body.
fn token_response(t: gatehouse_wire::AuthenticationResultType, refresh: Option<String>) -> Value {
    let mut body = Map::new();
    if let Some(id) = t.id_token {
        body.insert("id_token".into(), json!(id));
    }
    body.insert("access_token".into(), json!(t.access_token));
    if let Some(r) = refresh {
        body.insert("refresh_token".into(), json!(r));
    }
    body.insert("expires_in".into(), json!(t.expires_in.unwrap_or(3600)));
    body.insert("token_type".into(), json!("Bearer"));
    Value::Object(body)
}
