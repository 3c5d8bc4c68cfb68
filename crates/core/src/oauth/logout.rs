//! GET /logout in both dialects: Cognito's (`client_id` + `logout_uri`, or `client_id` +
//! `redirect_uri` + `response_type` to sign in again) and OpenID Connect's
//! (`post_logout_redirect_uri`, `id_token_hint`, `state`). The browser only ever goes to a URL
//! the client registered: never an open redirect.

use serde::{Deserialize, Serialize};

use super::authorize::{with_params, AuthorizeParams};
use crate::Core;

#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct LogoutParams {
    pub client_id: Option<String>,
    pub logout_uri: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub id_token_hint: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// A checked sign-out: the pool whose hosted-login session ends, and where the browser goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logout {
    pub pool_id: String,
    pub target: LogoutTarget,
}

/// Where a sign-out sends the browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutTarget {
    /// A registered sign-out URL.
    Redirect(String),
    /// Sign in again: the authorization request to start.
    SignInAgain(Box<AuthorizeParams>),
}

impl Core {
    /// Checks a sign-out request; the error is the error page's message.
    pub async fn check_logout(
        &self,
        p: &LogoutParams,
        host_pool: Option<&str>,
    ) -> Result<Logout, String> {
        let hinted = match p.id_token_hint.as_deref() {
            Some(hint) => Some(
                self.id_token_audience(hint)
                    .await
                    .ok_or("invalid id_token_hint")?,
            ),
            None => None,
        };
        let client_id = p
            .client_id
            .clone()
            .or_else(|| hinted.as_ref().map(|(_, aud)| aud.clone()))
            .ok_or("Required parameters missing")?;
        let client = self
            .oauth_client(&client_id, host_pool)
            .await
            .map_err(|_| "server_error")?
            .ok_or("invalid_request")?;
        if let Some((pool, aud)) = &hinted {
            if *pool != client.pool_id || *aud != client.client_id {
                return Err("id_token_hint was not issued to this client".into());
            }
        }
        let done = |target| {
            Ok(Logout {
                pool_id: client.pool_id.clone(),
                target,
            })
        };
        let c = &client.client;
        let registered = |uri: &str, list: &Option<Vec<String>>| {
            list.as_deref().unwrap_or_default().iter().any(|u| u == uri)
        };
        if let Some(uri) = p.logout_uri.as_deref() {
            return if registered(uri, &c.logout_urls) {
                done(LogoutTarget::Redirect(uri.to_string()))
            } else {
                Err("logout_uri is not a sign-out URL of the client".into())
            };
        }
        if let Some(uri) = p.post_logout_redirect_uri.as_deref() {
            if !registered(uri, &c.logout_urls) {
                return Err("post_logout_redirect_uri is not a sign-out URL of the client".into());
            }
            let state: Vec<(&str, &str)> = p.state.iter().map(|s| ("state", s.as_str())).collect();
            return done(LogoutTarget::Redirect(with_params(uri, &state, false)));
        }
        if let (Some(uri), Some(_)) = (p.redirect_uri.as_deref(), p.response_type.as_deref()) {
            if !registered(uri, &c.callback_urls) {
                return Err("redirect_mismatch".into());
            }
            return done(LogoutTarget::SignInAgain(Box::new(AuthorizeParams {
                response_type: p.response_type.clone(),
                client_id: Some(client_id),
                redirect_uri: p.redirect_uri.clone(),
                state: p.state.clone(),
                scope: p.scope.clone(),
                nonce: p.nonce.clone(),
                code_challenge: p.code_challenge.clone(),
                code_challenge_method: p.code_challenge_method.clone(),
                ..Default::default()
            })));
        }
        Err("Required parameters missing".into())
    }
}
