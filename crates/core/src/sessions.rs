//! Refresh tokens and the sign-in they belong to (an auth session, whose id is the tokens'
//! `origin_jti`): issued at sign-in, refreshed (REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken
//! with optional rotation), revoked one at a time (RevokeToken) or all at once (GlobalSignOut,
//! AdminUserGlobalSignOut). Access tokens die with their session: user operations check it.
//!
//! A refresh token is opaque to clients: base64url(session id ‖ 32 random bytes). The store keeps
//! only a SHA-256 of the random part.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_wire::*;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::{AppClientRecord, AuthSessionRecord, UserPoolRecord, UserRecord};
use crate::tokens::lifetimes;
use crate::triggers::TokenSource;
use crate::{Core, CoreError, Result};

const SECRET_LEN: usize = 32;
/// Revoked sessions are kept this long so their access tokens (at most a day) read "revoked".
const KEEP_REVOKED_MS: i64 = 86_400_000;
/// Rotated-out refresh secrets remembered for reuse detection.
const MAX_RETIRED: usize = 32;

fn hash_hex(secret: &[u8]) -> String {
    crate::ids::hex(&Sha256::digest(secret))
}

fn invalid_refresh_token() -> CoreError {
    CoreError::NotAuthorized("Invalid Refresh Token".into())
}

/// Splits a refresh token into its session id and secret.
fn parse_refresh_token(token: &str) -> Option<(String, Vec<u8>)> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != 16 + SECRET_LEN {
        return None;
    }
    let id = uuid::Uuid::from_slice(&bytes[..16]).ok()?.to_string();
    Some((id, bytes[16..].to_vec()))
}

/// The session (sign-in) a refresh token belongs to.
pub(crate) fn session_id_of(token: &str) -> Option<String> {
    parse_refresh_token(token).map(|(id, _)| id)
}

fn is_rotating(client: &UserPoolClientType) -> bool {
    client
        .refresh_token_rotation
        .as_ref()
        .is_some_and(|r| r.feature == FeatureType::Enabled)
}

impl Core {
    fn new_refresh_secret(&self, session_id: &str) -> (String, String) {
        let mut secret = [0u8; SECRET_LEN];
        self.entropy.fill(&mut secret);
        let id = uuid::Uuid::parse_str(session_id).expect("session ids are uuids");
        let mut token = id.as_bytes().to_vec();
        token.extend_from_slice(&secret);
        (URL_SAFE_NO_PAD.encode(token), hash_hex(&secret))
    }

    /// A hosted-page sign-in becomes an OAuth one: its session gets `scopes`, and the refresh
    /// token its sign-in minted (never handed out) is replaced by one nobody knows; the token
    /// endpoint hands out a fresh one ([`Core::reissue_refresh_token`]). `no_refresh`: the
    /// implicit grant, whose session is never refreshed.
    pub(crate) async fn grant_scopes(
        &self,
        session_id: &str,
        scopes: &[String],
        no_refresh: bool,
    ) -> Result<AuthSessionRecord> {
        let mut session = self
            .tokens()
            .auth_session(session_id)
            .await?
            .ok_or_else(|| CoreError::Internal("the sign-in's session is gone".into()))?;
        let (_, hash) = self.new_refresh_secret(&session.id);
        session.refresh_hash = hash;
        session.scopes = Some(scopes.to_vec());
        if no_refresh {
            session.refresh_revoked_at = Some(self.now_millis());
        }
        session.version += 1;
        if !self.tokens().update_auth_session(&session).await? {
            return Err(CoreError::NotAuthorized(
                "Refresh Token has been revoked".into(),
            ));
        }
        Ok(session)
    }

    /// A new refresh token for `session` (an authorization code redeemed): the only one that
    /// works from now on.
    pub(crate) async fn reissue_refresh_token(
        &self,
        session: &mut AuthSessionRecord,
    ) -> Result<Option<String>> {
        let (token, hash) = self.new_refresh_secret(&session.id);
        session.refresh_hash = hash;
        session.version += 1;
        Ok(self
            .tokens()
            .update_auth_session(session)
            .await?
            .then_some(token))
    }

    /// A successful sign-in: a new refresh-token family and its first tokens.
    pub(crate) async fn start_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device_key: Option<String>,
    ) -> Result<AuthenticationResultType> {
        let now_s = self.now_millis() / 1000;
        let (session, token) = self
            .insert_session(pool, client, user, device_key, now_s)
            .await?;
        let source = crate::triggers::sign_in_token_source();
        let mut result = self
            .mint_tokens(pool, &client.client, user, &session, None, source)
            .await?;
        result.refresh_token = Some(token);
        Ok(result)
    }

    /// A new refresh-token family for `user` at `client`, authenticated at `auth_time` (epoch
    /// seconds): the stored session and its refresh token.
    pub(crate) async fn insert_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device_key: Option<String>,
        auth_time: i64,
    ) -> Result<(AuthSessionRecord, String)> {
        let now = self.now_millis();
        let (_, _, refresh_ttl) = lifetimes(&client.client);
        let id = crate::ids::uuid(self.entropy.as_ref());
        let (token, hash) = self.new_refresh_secret(&id);
        let session = AuthSessionRecord {
            id,
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: user.username_key.clone(),
            refresh_hash: hash,
            previous_refresh_hash: None,
            previous_valid_until: None,
            retired_hashes: Vec::new(),
            auth_time,
            device_key,
            created_at: now,
            expires_at: now + refresh_ttl * 1000,
            revoked_at: None,
            version: 1,
            refresh_revoked_at: None,
            scopes: None,
            activity: self.activity_at(now),
        };
        // A pool that tracks sessions caps them per user (user_sessions.rs).
        let cap = crate::user_sessions::session_cap(pool);
        self.tokens().insert_auth_session(&session, cap).await?;
        Ok((session, token))
    }

    /// New access and ID tokens for a refresh token of `client`. `may_rotate`: the operation is
    /// GetTokensFromRefreshToken, which rotates the refresh token when the client asks for it.
    /// `device_key`: the device the caller says it is; a refresh token bound to a device is
    /// refused to any other (none at all is accepted: pycognito never sends one).
    pub(crate) async fn refresh_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        refresh_token: &str,
        device_key: Option<&str>,
        may_rotate: bool,
        authorize_client: impl Fn(&UserRecord) -> Result<()>,
    ) -> Result<AuthenticationResultType> {
        let (id, secret) = parse_refresh_token(refresh_token).ok_or_else(invalid_refresh_token)?;
        let mut session = self
            .tokens()
            .auth_session(&id)
            .await?
            .filter(|s| s.client_id == client.client_id && s.pool_id == pool.id)
            .ok_or_else(invalid_refresh_token)?;
        // Read after the session: a racing refresh that rotated it set its grace from a clock
        // read before its write, so this request never sees itself inside that grace early.
        let now = self.now_millis();
        let given = hash_hex(&secret);
        let current = bool::from(given.as_bytes().ct_eq(session.refresh_hash.as_bytes()));
        let previous = session
            .previous_refresh_hash
            .as_ref()
            .is_some_and(|h| bool::from(given.as_bytes().ct_eq(h.as_bytes())));
        let retired = session
            .retired_hashes
            .iter()
            .any(|h| bool::from(given.as_bytes().ct_eq(h.as_bytes())));
        if !current && !previous && !retired {
            return Err(invalid_refresh_token());
        }
        // The client proves itself (SECRET_HASH) before the token's state is revealed or
        // changed: a copied token without the client secret cannot revoke the family.
        let user = self
            .users()
            .user(&pool.id, &session.username_key)
            .await?
            .ok_or_else(|| CoreError::NotAuthorized("User does not exist.".into()))?;
        authorize_client(&user)?;
        if session.revoked_at.is_some() || session.refresh_revoked_at.is_some() {
            return Err(CoreError::NotAuthorized(
                "Refresh Token has been revoked".into(),
            ));
        }
        if session.expires_at <= now {
            return Err(CoreError::NotAuthorized("Refresh Token has expired".into()));
        }
        // The grace period is a half-open interval: with none, a rotated-out token is never
        // taken again, even in the millisecond it was rotated.
        let past_grace = previous
            && session
                .previous_valid_until
                .is_none_or(|until| until <= now);
        if retired || past_grace {
            // A rotated-out token used after its grace period: someone holds a copy. The whole
            // family is revoked, as OAuth's refresh-token reuse detection recommends.
            self.tokens().revoke_auth_session(&session.id, now).await?;
            return Err(CoreError::RefreshTokenReuse(
                "Refresh token has been reused after its grace period.".into(),
            ));
        }
        if !user.enabled {
            return Err(CoreError::NotAuthorized("User is disabled.".into()));
        }
        let tracked = crate::devices::tracking(pool).is_some();
        if device_key.is_some_and(|k| tracked && session.device_key.as_deref() != Some(k)) {
            return Err(invalid_refresh_token());
        }
        let mut new_token = None;
        if may_rotate && is_rotating(&client.client) {
            let grace = client
                .client
                .refresh_token_rotation
                .as_ref()
                .and_then(|r| r.retry_grace_period_seconds)
                .unwrap_or(0) as i64;
            let (token, hash) = self.new_refresh_secret(&session.id);
            if let Some(older) = session.previous_refresh_hash.take() {
                session.retired_hashes.insert(0, older);
                session.retired_hashes.truncate(MAX_RETIRED);
            }
            session.previous_refresh_hash =
                Some(std::mem::replace(&mut session.refresh_hash, hash));
            // No grace: the rotated-out secret is never good again (not even within this
            // millisecond, whatever the clocks of other processes say).
            session.previous_valid_until = (grace > 0).then(|| now + grace * 1000);
            session.version += 1;
            if !self.tokens().update_auth_session(&session).await? {
                // Another refresh rotated it at the same moment: this copy lost the race.
                return Err(invalid_refresh_token());
            }
            new_token = Some(token);
        }
        self.note_session_use(pool, &session).await?;
        let mut result = self
            .mint_tokens(
                pool,
                &client.client,
                &user,
                &session,
                None,
                TokenSource::RefreshTokens,
            )
            .await?;
        result.refresh_token = new_token;
        Ok(result)
    }

    /// RevokeToken: ends the refresh token's family, and with it every access token minted
    /// from it.
    pub async fn revoke_token(&self, req: RevokeTokenRequest) -> Result<RevokeTokenResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        if crate::client_secrets::is_confidential(&client) {
            let given = req.client_secret.as_deref().unwrap_or_default();
            if !crate::client_secrets::secret_matches(&client, given) {
                return Err(CoreError::Unauthorized(
                    "Client authentication failed.".into(),
                ));
            }
        }
        if client.client.enable_token_revocation == Some(false) {
            return Err(CoreError::UnsupportedOperation(
                "Token revocation is not enabled for this client.".into(),
            ));
        }
        if req.token.split('.').count() == 3 {
            return Err(CoreError::UnsupportedTokenType(
                "Only refresh tokens can be revoked.".into(),
            ));
        }
        let Some((id, secret)) = parse_refresh_token(&req.token) else {
            // RFC 7009: an unknown token is not an error.
            return Ok(RevokeTokenResponse {});
        };
        let Some(session) = self.tokens().auth_session(&id).await? else {
            return Ok(RevokeTokenResponse {});
        };
        let given = hash_hex(&secret);
        let known = bool::from(given.as_bytes().ct_eq(session.refresh_hash.as_bytes()))
            || session
                .previous_refresh_hash
                .as_ref()
                .is_some_and(|h| bool::from(given.as_bytes().ct_eq(h.as_bytes())));
        if !known || session.client_id != client.client_id || session.pool_id != pool.id {
            return Ok(RevokeTokenResponse {});
        }
        // Unconditional and version-bumping: a refresh that read the session before this
        // cannot write over the revocation, and whatever it minted dies with the session.
        self.tokens()
            .revoke_auth_session(&session.id, self.now_millis())
            .await?;
        Ok(RevokeTokenResponse {})
    }

    /// GlobalSignOut: every refresh token of the user, and every access token, stop working.
    pub async fn global_sign_out(
        &self,
        req: GlobalSignOutRequest,
    ) -> Result<GlobalSignOutResponse> {
        let token = self.access_token(&req.access_token).await?;
        self.tokens()
            .revoke_user_sessions(&token.pool.id, &token.user.username_key, self.now_millis())
            .await?;
        Ok(GlobalSignOutResponse {})
    }

    pub async fn admin_user_global_sign_out(
        &self,
        req: AdminUserGlobalSignOutRequest,
    ) -> Result<AdminUserGlobalSignOutResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        self.tokens()
            .revoke_user_sessions(&pool.id, &user.username_key, self.now_millis())
            .await?;
        Ok(AdminUserGlobalSignOutResponse {})
    }

    /// Drops expired sessions, long-revoked ones and spent sign-in states: run periodically so
    /// the store stays the size of the live sign-ins.
    pub async fn prune_auth_state(&self) -> Result<u64> {
        let now = self.now_millis();
        Ok(self
            .tokens()
            .prune_auth_state(now, now - KEEP_REVOKED_MS)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_carry_their_session_id() {
        let id = "0b9f4d0e-7a55-4c1c-9d5e-1f2a3b4c5d6e";
        let mut bytes = uuid::Uuid::parse_str(id).unwrap().as_bytes().to_vec();
        bytes.extend_from_slice(&[7u8; SECRET_LEN]);
        let token = URL_SAFE_NO_PAD.encode(&bytes);
        assert_eq!(
            parse_refresh_token(&token),
            Some((id.to_string(), vec![7u8; SECRET_LEN]))
        );
        assert_eq!(parse_refresh_token("eyJ.a.b"), None);
        assert_eq!(parse_refresh_token(&token[..token.len() - 2]), None);
    }
}
