//! The hosted-login session: a browser that signed in on the hosted pages stays signed in to the
//! pool for an hour (Cognito's session cookie), so an authorization request from any of the
//! pool's clients is answered at once, without the pages. `prompt=login` and an OIDC `max_age`
//! shorter than the session's age make the browser sign in again; `prompt=none` never shows a
//! page (`login_required` when there is no session).
//!
//! The cookie is sealed and names the sign-in's refresh-token session, so it lives no longer
//! than the user's right to sign in: a global sign-out (which revokes the user's sessions), a
//! disabled, deleted or re-created user, or one who must reset a password ends it. /logout
//! clears it. Each authorization it answers starts a session of its own for the new client,
//! with the first sign-in's `auth_time` and, while the browser is still one of the user's
//! devices, its device key.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_wire::{AuthenticationResultType, UserStatusType};
use serde::{Deserialize, Serialize};

use super::authorize::{Authorization, Prompt};
use crate::server_key::Sealed;
use crate::{Core, Result};

/// How long a hosted sign-in is remembered (Cognito: one hour).
pub const HOSTED_SESSION_TTL_MS: i64 = 60 * 60_000;

/// The cookie's content.
#[derive(Debug, Serialize, Deserialize)]
struct HostedSession {
    #[serde(rename = "p")]
    pool_id: String,
    /// The sign-in's refresh-token session.
    #[serde(rename = "s")]
    session_id: String,
    #[serde(rename = "x")]
    expires_at: i64,
}

impl Core {
    /// The session cookie's value after a hosted sign-in that ended with `signed_in`.
    pub fn seal_hosted_session(
        &self,
        pool_id: &str,
        signed_in: &AuthenticationResultType,
    ) -> Option<String> {
        let session_id = signed_in
            .refresh_token
            .as_deref()
            .and_then(crate::sessions::session_id_of)?;
        let plain = serde_json::to_vec(&HostedSession {
            pool_id: pool_id.to_string(),
            session_id,
            expires_at: self.now_millis() + HOSTED_SESSION_TTL_MS,
        })
        .expect("session serialises");
        let sealed = self
            .server_key
            .seal(self.entropy.as_ref(), Sealed::HostedSession, &plain);
        Some(URL_SAFE_NO_PAD.encode(sealed))
    }

    /// An authorization answered from the browser's hosted-login session: the redirect back to
    /// the client, or None when the browser must sign in (no live session, `prompt=login`, or
    /// a session older than `max_age`).
    pub async fn resume_hosted_session(
        &self,
        authz: &Authorization,
        cookie: Option<&str>,
    ) -> Result<Option<String>> {
        if authz.prompt == Prompt::Login {
            return Ok(None);
        }
        let Some(hosted) = cookie
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|sealed| self.server_key.open(Sealed::HostedSession, &sealed))
            .and_then(|plain| serde_json::from_slice::<HostedSession>(&plain).ok())
        else {
            return Ok(None);
        };
        let now = self.now_millis();
        if hosted.pool_id != authz.pool_id || hosted.expires_at <= now {
            return Ok(None);
        }
        let Some(first) = self.tokens().auth_session(&hosted.session_id).await? else {
            return Ok(None);
        };
        if first.pool_id != authz.pool_id || first.revoked_at.is_some() {
            return Ok(None);
        }
        if authz
            .max_age
            .is_some_and(|max| now / 1000 - first.auth_time > max)
        {
            return Ok(None);
        }
        let (client, pool) = self.client_and_pool(&authz.client_id).await?;
        // A pool that tracks sessions lets each client bound how long it reuses one
        // (SetUserPoolClientSessionConfiguration; 0: never), within the cookie's hour.
        if pool.sessions.tracking {
            let minutes = i64::from(crate::user_sessions::sso_max_validity_minutes(&client));
            if now / 1000 - first.auth_time >= minutes * 60 {
                return Ok(None);
            }
        }
        let Some(user) = self.users().user(&pool.id, &first.username_key).await? else {
            return Ok(None);
        };
        let may_sign_in = user.enabled
            && user.created_at <= first.created_at
            && matches!(
                user.status,
                UserStatusType::Confirmed | UserStatusType::ExternalProvider
            );
        if !may_sign_in {
            return Ok(None);
        }
        // The browser's device, while it still is one of the user's.
        let device_key = match first.device_key {
            Some(key) => self
                .devices()
                .device(&pool.id, &key)
                .await?
                .filter(|d| d.username_key == user.username_key)
                .map(|d| d.device_key),
            None => None,
        };
        let (session, _) = self
            .insert_session(&pool, &client, &user, device_key, first.auth_time)
            .await?;
        self.authorize_session(authz, session.id).await.map(Some)
    }
}
