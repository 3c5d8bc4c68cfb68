//! A pending sign-in: one whose password passed and that waits for more, an MFA code or choice
//! (SMS_MFA, EMAIL_OTP, SOFTWARE_TOKEN_MFA, SELECT_MFA_TYPE, MFA_SETUP) or its device's SRP
//! (DEVICE_SRP_AUTH), shared by the MFA and device flows. It lives in the store, so any server
//! process can continue it. Its one Session string is returned with every challenge that
//! follows (clients that answer with an earlier challenge's Session still match); each answer
//! moves it on from the step it waited for, at most once, and the last one finishes it, once.

use super::expired_session;
use crate::store::{AppClientRecord, PendingSignInRecord, PendingStep, UserPoolRecord, UserRecord};
use crate::{Core, Result};

/// The `challenge` of the Session a pending sign-in carries (whatever its next step).
pub(super) const PENDING_SIGN_IN: &str = "PENDING_SIGN_IN";

impl Core {
    /// A pending sign-in waiting for `step`, and its Session.
    pub(super) async fn new_pending_sign_in(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device_key: Option<&str>,
        step: PendingStep,
    ) -> Result<PendingSignInRecord> {
        let pending = self.pending_sign_in_record(pool, client, user, device_key, step);
        self.sign_ins().insert_pending_sign_in(&pending).await?;
        Ok(pending)
    }

    /// A pending sign-in waiting for `step`, not yet stored.
    pub(super) fn pending_sign_in_record(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device_key: Option<&str>,
        step: PendingStep,
    ) -> PendingSignInRecord {
        let (id, session, expires_at) =
            self.seal_challenge_session(pool, client, user, PENDING_SIGN_IN);
        PendingSignInRecord {
            id,
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: user.username_key.clone(),
            device_key: device_key.map(str::to_string),
            step,
            session,
            created_at: self.now_millis(),
            expires_at,
            mfa: Default::default(),
            custom: None,
        }
    }

    /// Writes `pending` if it still waits for `from_step`; a sign-in that another answer moved
    /// on or finished is an expired session.
    pub(super) async fn advance_pending(
        &self,
        pending: &PendingSignInRecord,
        from_step: PendingStep,
    ) -> Result<()> {
        if self
            .sign_ins()
            .advance_pending_sign_in(pending, from_step)
            .await?
        {
            Ok(())
        } else {
            Err(expired_session())
        }
    }

    /// Finishes the pending sign-in `id` at its last step, `step`: once (a replay, or a race
    /// with another answer, finds it gone and is an expired session).
    pub(super) async fn finish_pending(&self, id: &str, step: PendingStep) -> Result<()> {
        if self.sign_ins().take_pending_sign_in(id, step).await? {
            Ok(())
        } else {
            Err(expired_session())
        }
    }

    /// The unexpired pending sign-in of `session`, if it waits for `step`, and its user (still
    /// the one the Session was issued to).
    pub(super) async fn pending_at(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        step: PendingStep,
    ) -> Result<(PendingSignInRecord, UserRecord)> {
        self.pending_at_one_of(pool, client, session, &[step]).await
    }

    /// [`Core::pending_at`] for a sign-in waiting at any of `steps`.
    pub(super) async fn pending_at_one_of(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        steps: &[PendingStep],
    ) -> Result<(PendingSignInRecord, UserRecord)> {
        let s = self.open_challenge_session(pool, client, session, PENDING_SIGN_IN)?;
        let pending = self
            .sign_ins()
            .pending_sign_in(&s.id)
            .await?
            .filter(|p| steps.contains(&p.step) && p.expires_at >= self.now_millis())
            .ok_or_else(expired_session)?;
        let user = self
            .users()
            .user(&pool.id, &pending.username_key)
            .await?
            .filter(|u| Core::session_matches(&s, u))
            .ok_or_else(expired_session)?;
        Ok((pending, user))
    }
}
