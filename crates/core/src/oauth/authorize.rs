//! GET /oauth2/authorize (and the hosted /login page, which takes the same parameters): the
//! request's checks in Cognito's order, and what a finished sign-in ends with, an authorization
//! code or (implicit grant) tokens in the redirect's fragment.
//!
//! Until `client_id` and `redirect_uri` are trusted, errors go to the server's own error page;
//! after, to the redirect URI (`?error=…&state=…`). Codes are single use, bound to the client,
//! the redirect URI and the PKCE challenge, and valid 5 minutes.

use gatehouse_wire::{AuthenticationResultType, OAuthFlowType};
use serde::{Deserialize, Serialize};

use super::scopes::{self, OPENID};
use crate::client_secrets::is_confidential;
use crate::store::{AppClientRecord, AuthorizationCodeRecord};
use crate::triggers::TokenSource;
use crate::{Core, CoreError, Result};

/// How long an authorization code lives.
pub const CODE_TTL_MS: i64 = 5 * 60_000;

/// The authorization request's parameters, as the query string gives them (`/login` carries
/// them through the sign-in steps in its own URL).
#[derive(Debug, Default, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct AuthorizeParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_challenge_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_provider: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idp_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// OpenID Connect's `prompt`: `login` signs in again even with a live session, `none`
    /// never shows a page (`login_required` instead); `consent` and `select_account` change
    /// nothing, as on Cognito.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// OpenID Connect's `max_age`: a session older than this many seconds signs in again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<String>,
}

/// What the authorization request says about an existing hosted-login session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Use a live session, else show the sign-in pages.
    Default,
    /// Always show the sign-in pages.
    Login,
    /// Never show a page: a live session, or `login_required`.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    Code,
    Token,
}

/// A checked authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub pool_id: String,
    pub client_id: String,
    pub client_name: Option<String>,
    pub redirect_uri: String,
    pub response_type: ResponseType,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    /// Seconds a session may have lasted since its sign-in to be used without signing in again.
    pub max_age: Option<i64>,
}

impl Authorization {
    /// The refusal `prompt=none` ends with when the browser would have to sign in.
    pub fn login_required(&self) -> String {
        let mut params = vec![
            ("error", "login_required"),
            ("error_description", "the user must sign in"),
        ];
        if let Some(s) = &self.state {
            params.push(("state", s));
        }
        with_params(&self.redirect_uri, &params, false)
    }
}

/// Why an authorization request was refused, and where the browser goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The client or redirect URI cannot be trusted: the server's error page, never a redirect.
    ErrorPage(String),
    /// A redirect to the client's redirect URI with `error` (and `state`).
    Redirect(String),
}

/// `uri` with `params` added to its query (`?` or `&`), or its fragment (`#`).
pub fn with_params(uri: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let mut out = uri.to_string();
    let mut sep = if fragment {
        '#'
    } else if uri.contains('?') {
        '&'
    } else {
        '?'
    };
    for (k, v) in params {
        out.push(sep);
        sep = '&';
        out.extend(form_urlencoded::byte_serialize(k.as_bytes()));
        out.push('=');
        out.extend(form_urlencoded::byte_serialize(v.as_bytes()));
    }
    out
}

/// A PKCE S256 challenge: base64url of 32 bytes, 43 characters.
fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Core {
    /// The pool whose domain `host` is (a custom domain, or a prefix domain's first label), if
    /// any: requests to that host name serve that pool only.
    pub async fn pool_of_host(&self, host: &str) -> Result<Option<String>> {
        let host = host
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if let Some(d) = self.pools().domain(&host).await? {
            return Ok(d.user_pool_id);
        }
        let Some((label, _)) = host.split_once('.') else {
            return Ok(None);
        };
        Ok(self
            .pools()
            .domain(label)
            .await?
            .and_then(|d| d.user_pool_id))
    }

    /// An OAuth-enabled client of a pool that has a domain (Cognito serves the endpoints only
    /// then), in `host_pool` when the request came to a pool's own host name.
    pub(crate) async fn oauth_client(
        &self,
        client_id: &str,
        host_pool: Option<&str>,
    ) -> Result<Option<AppClientRecord>> {
        let Some(client) = self.client_record(client_id).await? else {
            return Ok(None);
        };
        if host_pool.is_some_and(|p| p != client.pool_id) {
            return Ok(None);
        }
        if self
            .pools()
            .domain_of_pool(&client.pool_id)
            .await?
            .is_none()
        {
            return Ok(None);
        }
        Ok(Some(client))
    }

    /// Checks an authorization request. `host_pool`: see [`Core::pool_of_host`].
    pub async fn check_authorization(
        &self,
        p: &AuthorizeParams,
        host_pool: Option<&str>,
    ) -> std::result::Result<Authorization, Refusal> {
        let page = |e: &str| Refusal::ErrorPage(e.to_string());
        let Some(client_id) = p.client_id.as_deref().filter(|c| !c.is_empty()) else {
            return Err(page("Required parameters missing"));
        };
        let client = match self.oauth_client(client_id, host_pool).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(page("invalid_request")),
            Err(e) => {
                tracing::error!(error = %e, "authorization request");
                return Err(page("server_error"));
            }
        };
        let c = &client.client;
        if c.allowed_oauth_flows_user_pool_client != Some(true) {
            return Err(page("unauthorized_client"));
        }
        let callbacks = c.callback_urls.as_deref().unwrap_or_default();
        let redirect_uri = match p.redirect_uri.as_deref().filter(|r| !r.is_empty()) {
            Some(r) => r.to_string(),
            None => match &c.default_redirect_uri {
                Some(d) => d.clone(),
                None => return Err(page("Required parameters missing")),
            },
        };
        // Exact match, trailing slash and case included.
        if !callbacks.contains(&redirect_uri) {
            return Err(page("redirect_mismatch"));
        }
        let state = p.state.clone();
        let refuse = |error: &str, description: &str| {
            let mut params = vec![("error", error), ("error_description", description)];
            if let Some(s) = &state {
                params.push(("state", s));
            }
            Refusal::Redirect(with_params(&redirect_uri, &params, false))
        };
        let flows = c.allowed_oauth_flows.as_deref().unwrap_or_default();
        let response_type = match p.response_type.as_deref() {
            Some("code") => ResponseType::Code,
            Some("token") => ResponseType::Token,
            None | Some("") => return Err(refuse("invalid_request", "response_type is required")),
            Some(_) => {
                return Err(refuse(
                    "unsupported_response_type",
                    "response_type must be code or token",
                ))
            }
        };
        let allowed = match response_type {
            ResponseType::Code => flows.contains(&OAuthFlowType::Code),
            ResponseType::Token => flows.contains(&OAuthFlowType::Implicit),
        };
        if !allowed {
            return Err(refuse(
                "unauthorized_client",
                "the client may not use this response_type",
            ));
        }
        let challenge = match (
            p.code_challenge.as_deref(),
            p.code_challenge_method.as_deref(),
        ) {
            (None, None) => None,
            (Some(ch), Some("S256")) if valid_challenge(ch) => Some(ch.to_string()),
            (Some(_), Some("S256")) => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge is not an S256 challenge",
                ))
            }
            (_, Some(m)) if m != "S256" => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge_method must be S256",
                ))
            }
            _ => {
                return Err(refuse(
                    "invalid_request",
                    "code_challenge and code_challenge_method=S256 go together",
                ))
            }
        };
        if challenge.is_none() && response_type == ResponseType::Code && !is_confidential(&client) {
            return Err(refuse(
                "invalid_request",
                "a public client must use PKCE (code_challenge with code_challenge_method=S256)",
            ));
        }
        let allowed_scopes = c.allowed_oauth_scopes.as_deref().unwrap_or_default();
        let requested = match p.scope.as_deref() {
            None => allowed_scopes.to_vec(),
            Some(s) => match scopes::parse(s) {
                Some(v) if !v.is_empty() => v,
                Some(_) => allowed_scopes.to_vec(),
                None => return Err(refuse("invalid_scope", "the scope parameter is malformed")),
            },
        };
        if let Some(s) = requested.iter().find(|s| !allowed_scopes.contains(s)) {
            return Err(refuse(
                "invalid_scope",
                &format!("{s} is not allowed for this client"),
            ));
        }
        let has_openid = requested.iter().any(|s| s == OPENID);
        if !has_openid
            && requested
                .iter()
                .any(|s| matches!(s.as_str(), "email" | "phone" | "profile"))
        {
            return Err(refuse(
                "invalid_scope",
                "email, phone and profile need openid",
            ));
        }
        let scopes = match self.live_scopes(&client.pool_id, &requested).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "authorization request");
                return Err(refuse("server_error", "internal error"));
            }
        };
        if scopes.is_empty() {
            return Err(refuse("invalid_scope", "no requested scope exists"));
        }
        let idp = p
            .identity_provider
            .as_deref()
            .or(p.idp_identifier.as_deref());
        let supports_cognito = c
            .supported_identity_providers
            .as_deref()
            .is_none_or(|v| v.is_empty() || v.iter().any(|x| x == "COGNITO"));
        if idp.is_some_and(|i| i != "COGNITO") || !supports_cognito {
            return Err(refuse("invalid_request", "identity provider not supported"));
        }
        let prompt = match p
            .prompt
            .as_deref()
            .map(|v| v.split_whitespace().collect::<Vec<_>>())
        {
            None => Prompt::Default,
            Some(v) if v.contains(&"none") && v.len() > 1 => {
                return Err(refuse("invalid_request", "prompt=none goes alone"))
            }
            Some(v) if v.contains(&"none") => Prompt::None,
            Some(v) if v.contains(&"login") => Prompt::Login,
            Some(_) => Prompt::Default,
        };
        let max_age = match p.max_age.as_deref() {
            None | Some("") => None,
            Some(m) => match m.parse::<i64>() {
                Ok(secs) if secs >= 0 => Some(secs),
                _ => {
                    return Err(refuse(
                        "invalid_request",
                        "max_age must be a number of seconds",
                    ))
                }
            },
        };
        Ok(Authorization {
            pool_id: client.pool_id.clone(),
            client_id: client.client_id.clone(),
            client_name: c.client_name.clone(),
            redirect_uri,
            response_type,
            scopes,
            state,
            nonce: p.nonce.clone(),
            code_challenge: challenge,
            prompt,
            max_age,
        })
    }

    /// The redirect a finished sign-in ends with. `signed_in` are the tokens of the sign-in
    /// (its refresh token names the session); the code, or the implicit grant's tokens, carry
    /// the authorization's scopes.
    pub async fn complete_authorization(
        &self,
        authz: &Authorization,
        signed_in: &AuthenticationResultType,
    ) -> Result<String> {
        let session_id = signed_in
            .refresh_token
            .as_deref()
            .and_then(crate::sessions::session_id_of)
            .ok_or_else(|| CoreError::Internal("the sign-in ended without a session".into()))?;
        self.authorize_session(authz, session_id).await
    }

    /// The redirect that hands the sign-in session `session_id` to the authorization's client.
    pub(crate) async fn authorize_session(
        &self,
        authz: &Authorization,
        session_id: String,
    ) -> Result<String> {
        let now = self.now_millis();
        let state = authz.state.as_deref();
        match authz.response_type {
            ResponseType::Code => {
                // The sign-in's own refresh token was never handed out: the code stands for it.
                self.grant_scopes(&session_id, &authz.scopes, false).await?;
                let mut raw = [0u8; 32];
                self.entropy.fill(&mut raw);
                let code = crate::ids::hex(&raw);
                self.tokens()
                    .insert_authorization_code(&AuthorizationCodeRecord {
                        code_hash: super::code_hash(&code),
                        pool_id: authz.pool_id.clone(),
                        client_id: authz.client_id.clone(),
                        session_id,
                        redirect_uri: authz.redirect_uri.clone(),
                        scopes: authz.scopes.clone(),
                        nonce: authz.nonce.clone(),
                        code_challenge: authz.code_challenge.clone(),
                        expires_at: now + CODE_TTL_MS,
                    })
                    .await?;
                let mut params = vec![("code", code.as_str())];
                params.extend(state.map(|s| ("state", s)));
                Ok(with_params(&authz.redirect_uri, &params, false))
            }
            ResponseType::Token => {
                // The implicit grant never gives a refresh token.
                let session = self.grant_scopes(&session_id, &authz.scopes, true).await?;
                let (client, pool) = self.client_and_pool(&authz.client_id).await?;
                let user = self
                    .users()
                    .user(&pool.id, &session.username_key)
                    .await?
                    .ok_or_else(CoreError::user_not_found)?;
                let tokens = self
                    .mint_tokens(
                        &pool,
                        &client.client,
                        &user,
                        &session,
                        authz.nonce.as_deref(),
                        TokenSource::HostedAuth,
                    )
                    .await?;
                let expires = tokens.expires_in.unwrap_or(3600).to_string();
                let mut params = Vec::new();
                if let Some(id) = &tokens.id_token {
                    params.push(("id_token", id.as_str()));
                }
                let access = tokens.access_token.clone().unwrap_or_default();
                params.push(("access_token", &access));
                params.push(("token_type", "Bearer"));
                params.push(("expires_in", &expires));
                params.extend(state.map(|s| ("state", s)));
                Ok(with_params(&authz.redirect_uri, &params, true))
            }
        }
    }
}
