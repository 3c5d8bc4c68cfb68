//! The `Session` string of a challenge (NEW_PASSWORD_REQUIRED, a pending sign-in waiting for
//! MFA or device SRP): the sign-in's state sealed with the server key, valid for the client's
//! AuthSessionValidity (3–15 minutes), spent when the challenge is answered correctly.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::expired_session;
use crate::server_key::Sealed;
use crate::store::{AppClientRecord, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result};

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ChallengeSession {
    pub id: String,
    #[serde(rename = "p")]
    pub pool_id: String,
    #[serde(rename = "c")]
    pub client_id: String,
    #[serde(rename = "u")]
    pub username_key: String,
    /// The user's sub and password salt when issued: a user deleted and recreated under the
    /// same name, or given another password since, does not match.
    #[serde(rename = "s")]
    pub sub: String,
    #[serde(rename = "w")]
    pub password_salt: Option<String>,
    /// The challenge this session answers.
    #[serde(rename = "n")]
    pub challenge: String,
    #[serde(rename = "t")]
    pub issued_at: i64,
    #[serde(rename = "x")]
    pub expires_at: i64,
    /// A custom authentication of a name no user has (custom_flow.rs), carried here since there
    /// is no user to keep it in the store for.
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    pub stranger: Option<crate::store::PendingCustom>,
    /// Filler that brings the sealed text to a multiple of [`SESSION_BLOCK`] bytes: a Session's
    /// length does not tell a stranger's from a user's.
    #[serde(rename = "z", default, skip_serializing_if = "String::is_empty")]
    pub pad: String,
}

/// The sealed text of a Session is a multiple of this many bytes.
const SESSION_BLOCK: usize = 256;

impl Core {
    pub(crate) fn new_challenge_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        challenge: &str,
    ) -> String {
        self.seal_challenge_session(pool, client, user, challenge).1
    }

    /// A new Session: its id, the sealed string, and when it expires (epoch ms).
    pub(crate) fn seal_challenge_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        challenge: &str,
    ) -> (String, String, i64) {
        let salt = user.password.as_ref().map(|p| p.salt.clone());
        self.seal_session_of(
            pool,
            client,
            (&user.username_key, &user.sub, salt),
            challenge,
            None,
        )
    }

    /// A Session of a custom authentication of `typed`, a name no user has: `custom` holds its
    /// rounds and open challenge (custom_flow.rs).
    pub(crate) fn seal_stranger_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        typed: &str,
        challenge: &str,
        custom: crate::store::PendingCustom,
    ) -> String {
        self.seal_session_of(pool, client, (typed, "", None), challenge, Some(custom))
            .1
    }

    /// A new Session about (username key, sub, password salt).
    fn seal_session_of(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        (username_key, sub, password_salt): (&str, &str, Option<String>),
        challenge: &str,
        stranger: Option<crate::store::PendingCustom>,
    ) -> (String, String, i64) {
        let minutes = client
            .client
            .auth_session_validity
            .unwrap_or(3)
            .clamp(3, 15) as i64;
        let now = self.now_millis();
        let mut id = [0u8; 16];
        self.entropy.fill(&mut id);
        let session = ChallengeSession {
            id: crate::ids::hex(&id),
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: username_key.to_string(),
            sub: sub.to_string(),
            password_salt,
            challenge: challenge.to_string(),
            issued_at: now,
            expires_at: now + minutes * 60_000,
            stranger,
            pad: String::new(),
        };
        let mut session = session;
        let bare = serde_json::to_vec(&session)
            .expect("session serialises")
            .len();
        // `,"z":""` is 7 bytes; the filler (at least one byte) makes up the rest of the block.
        let target = (bare + 8).div_ceil(SESSION_BLOCK) * SESSION_BLOCK;
        session.pad = "0".repeat(target - bare - 7);
        let plain = serde_json::to_vec(&session).expect("session serialises");
        debug_assert_eq!(plain.len() % SESSION_BLOCK, 0);
        let sealed = STANDARD.encode(self.server_key.seal(
            self.entropy.as_ref(),
            Sealed::ChallengeSession,
            &plain,
        ));
        (session.id, sealed, session.expires_at)
    }

    /// Whether `user` is still the user (and password) the session was issued for.
    pub(crate) fn session_matches(s: &ChallengeSession, user: &UserRecord) -> bool {
        s.sub == user.sub && s.password_salt == user.password.as_ref().map(|p| p.salt.clone())
    }

    /// Opens a Session for `challenge` of this pool and client; any defect, or expiry, is
    /// Cognito's "Invalid session for the user, session is expired."
    pub(crate) fn open_challenge_session(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        challenge: &str,
    ) -> Result<ChallengeSession> {
        let session = session.ok_or_else(|| {
            CoreError::InvalidParameter("Missing required parameter Session".into())
        })?;
        let s = self.peek_challenge_session(session)?;
        if s.pool_id != pool.id
            || s.client_id != client.client_id
            || s.challenge != challenge
            || s.expires_at < self.now_millis()
        {
            return Err(expired_session());
        }
        Ok(s)
    }

    /// Opens a Session without checking what it is for: only to learn its pool and client,
    /// which `open_challenge_session` then checks.
    pub(crate) fn peek_challenge_session(&self, session: &str) -> Result<ChallengeSession> {
        STANDARD
            .decode(session)
            .ok()
            .and_then(|b| self.server_key.open(Sealed::ChallengeSession, &b))
            .and_then(|plain| serde_json::from_slice(&plain).ok())
            .ok_or_else(expired_session)
    }

    /// Marks the session used; false when it already was (a replay).
    pub(crate) async fn spend_challenge_session(&self, s: &ChallengeSession) -> Result<bool> {
        Ok(self
            .sign_ins()
            .spend_auth_state(&s.id, s.expires_at + 60_000)
            .await?)
    }
}
