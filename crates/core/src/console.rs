//! Sessions of the web console (`/console/`, served by the server crate). Whoever signs in with
//! an admin access key gets a session naming that key, sealed with the server key into the
//! session cookie, so any process sharing the key can serve the next page. A session ends after
//! [`CONSOLE_IDLE_MS`] without a request, or [`CONSOLE_MAX_MS`] after it began, whichever comes
//! first, or when signed out: sign-out records the session's id as spent (the store's single-use
//! states), so a copy of the cookie is refused from then on, by every process. Each session
//! carries its own CSRF token, which every form posts back.
//!
//! The console's actions are the API's core functions: this module only says who is signed in.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::server_key::Sealed;
use crate::{Core, Result};

/// The id a signed-out session is recorded under among the spent states.
fn spent_id(session: &ConsoleSession) -> String {
    format!("console:{}", session.id)
}

/// A console session ends after this long without a request.
pub const CONSOLE_IDLE_MS: i64 = 30 * 60 * 1000;
/// And this long after sign-in, whatever happens.
pub const CONSOLE_MAX_MS: i64 = 12 * 60 * 60 * 1000;

/// Who is signed in to the console.
#[derive(Clone, Serialize, Deserialize)]
pub struct ConsoleSession {
    /// Recorded as spent at sign-out.
    #[serde(rename = "i")]
    id: String,
    /// The admin access key id the session signed in with (its policy applies).
    #[serde(rename = "k")]
    pub access_key_id: String,
    /// The token every form of this session posts back.
    #[serde(rename = "x")]
    pub csrf: String,
    #[serde(rename = "s")]
    started_at: i64,
    #[serde(rename = "l")]
    last_seen_at: i64,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl ConsoleSession {
    /// Whether `given` is this session's CSRF token (compared in constant time).
    pub fn csrf_matches(&self, given: &str) -> bool {
        bool::from(self.csrf.as_bytes().ct_eq(given.as_bytes()))
    }
}

impl Core {
    /// A new session for `access_key_id` (already checked): the session and its cookie value.
    pub fn start_console_session(&self, access_key_id: &str) -> (ConsoleSession, String) {
        let mut csrf = [0u8; 24];
        self.entropy.fill(&mut csrf);
        let mut id = [0u8; 16];
        self.entropy.fill(&mut id);
        let now = self.now_millis();
        let session = ConsoleSession {
            id: crate::ids::hex(&id),
            access_key_id: access_key_id.to_string(),
            csrf: URL_SAFE_NO_PAD.encode(csrf),
            started_at: now,
            last_seen_at: now,
        };
        let cookie = self.seal_console_session(&session);
        (session, cookie)
    }

    /// The session a cookie holds, if it is genuine, neither idle too long nor too old, and not
    /// signed out, with the cookie to send back (its idle clock restarted).
    pub async fn resume_console_session(
        &self,
        cookie: &str,
    ) -> Result<Option<(ConsoleSession, String)>> {
        let Some(session) = self.open_console_cookie(cookie) else {
            return Ok(None);
        };
        if self
            .sign_ins()
            .auth_state_spent(&spent_id(&session))
            .await?
        {
            return Ok(None);
        }
        Ok(Some(self.renewed(session)))
    }

    /// Ends the session everywhere: its cookie is refused from now on.
    pub async fn end_console_session(&self, session: &ConsoleSession) -> Result<()> {
        self.sign_ins()
            .spend_auth_state(
                &spent_id(session),
                session.started_at + CONSOLE_MAX_MS + 60_000,
            )
            .await?;
        Ok(())
    }

    /// A genuine cookie's session, if its time is not up.
    fn open_console_cookie(&self, cookie: &str) -> Option<ConsoleSession> {
        let sealed = URL_SAFE_NO_PAD.decode(cookie).ok()?;
        let plain = self.server_key.open(Sealed::ConsoleSession, &sealed)?;
        let session: ConsoleSession = serde_json::from_slice(&plain).ok()?;
        let now = self.now_millis();
        let live = now - session.last_seen_at <= CONSOLE_IDLE_MS
            && now - session.started_at <= CONSOLE_MAX_MS
            && now >= session.last_seen_at - 60_000;
        live.then_some(session)
    }

    /// The session seen now, and its cookie (the idle clock restarted).
    fn renewed(&self, mut session: ConsoleSession) -> (ConsoleSession, String) {
        session.last_seen_at = self.now_millis();
        let cookie = self.seal_console_session(&session);
        (session, cookie)
    }

    fn seal_console_session(&self, session: &ConsoleSession) -> String {
        let plain = serde_json::to_vec(session).expect("session serialises");
        URL_SAFE_NO_PAD.encode(self.server_key.seal(
            self.entropy.as_ref(),
            Sealed::ConsoleSession,
            &plain,
        ))
    }
}

/// The version of a record a console form was drawn from. An update that names one is refused
/// once the record has moved on, so a stale form never silently overwrites a change made
/// meanwhile (by another operator, or through the API). The API's updates name none.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeenVersion(pub Option<i64>);

impl SeenVersion {
    /// Checked inside the update's compare-and-swap round, against the version it read.
    pub(crate) fn check(self, current: i64, what: &str) -> Result<()> {
        match self.0 {
            Some(seen) if seen != current => Err(crate::CoreError::ConcurrentModification(
                format!("The {what} changed since this page was loaded; reload it and save again."),
            )),
            _ => Ok(()),
        }
    }
}
