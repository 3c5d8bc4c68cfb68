//! The second factor at sign-in (docs/mfa.md): which challenge a user owes after the password,
//! when a remembered device stands in for it, and the answer to SOFTWARE_TOKEN_MFA. The MFA
//! step is a pending sign-in like the device step (`device_flow`): one Session string from here
//! to the tokens.

use std::collections::BTreeMap;

use gatehouse_wire::{ChallengeNameType, DeviceConfigurationType, UserPoolMfaType};

use super::device_flow::{UnknownDevice, PENDING_SIGN_IN};
use super::{check_secret_hash_for, expired_session, AuthStep, Params};
use crate::devices::tracking;
use crate::store::{AppClientRecord, DeviceRecord, DeviceStatus, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result};

/// The pending sign-in's step while it waits for an authenticator code.
const TOTP_STEP: &str = "SOFTWARE_TOKEN_MFA";

/// The MFA challenge `user` owes after the password, if any. (SMS, email, the choice between
/// factors and MFA_SETUP are not implemented yet: such users sign in without a second factor.)
fn mfa_challenge(pool: &UserPoolRecord, user: &UserRecord) -> Option<ChallengeNameType> {
    let mfa_on = matches!(
        pool.pool.mfa_configuration,
        Some(UserPoolMfaType::On | UserPoolMfaType::Optional)
    );
    let totp = user.mfa.software_token_enabled && user.mfa.totp_secret.is_some();
    (mfa_on && totp).then_some(ChallengeNameType::SoftwareTokenMfa)
}

/// `ChallengeRequiredOnNewDevice: true` lets a remembered device stand in for MFA (once it has
/// passed device SRP), whenever it was remembered.
fn suppresses_mfa(config: Option<&DeviceConfigurationType>, device: &DeviceRecord) -> bool {
    config.is_some_and(|c| c.challenge_required_on_new_device == Some(true))
        && device.status == DeviceStatus::Remembered
}

fn code_mismatch() -> CoreError {
    CoreError::CodeMismatch("Invalid code received for user".into())
}

impl Core {
    /// Whether the sign-in will ask `user` for an MFA code (no remembered device stands in).
    pub(super) fn owes_mfa(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        device: Option<&DeviceRecord>,
    ) -> bool {
        let skip = device.is_some_and(|d| suppresses_mfa(tracking(pool), d));
        mfa_challenge(pool, user).is_some() && !skip
    }

    /// After the password (and the user's state) passed: the MFA challenge, device SRP, or
    /// tokens.
    pub(super) async fn second_factor_or_device(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        match (self.owes_mfa(pool, user, device.as_ref()), device) {
            (true, d) => {
                let key = d.as_ref().map(|d| d.device_key.as_str());
                let pending = self
                    .new_pending_sign_in(pool, client, user, key, TOTP_STEP)
                    .await?;
                Ok(AuthStep {
                    challenge_name: Some(ChallengeNameType::SoftwareTokenMfa),
                    session: Some(pending.session),
                    challenge_parameters: Some(BTreeMap::from([(
                        "USER_ID_FOR_SRP".to_string(),
                        user.username.clone(),
                    )])),
                    ..Default::default()
                })
            }
            (_, Some(d)) => self.begin_device_sign_in(pool, client, user, &d).await,
            (_, None) => Ok(AuthStep::tokens(
                self.tokens_for_new_device(pool, client, user).await?,
            )),
        }
    }

    /// RespondToAuthChallenge SOFTWARE_TOKEN_MFA {USERNAME, SOFTWARE_TOKEN_MFA_CODE, DEVICE_KEY?}.
    pub(super) async fn answer_software_token_mfa(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let s = self.open_challenge_session(pool, client, session, PENDING_SIGN_IN)?;
        let username = responses.required("USERNAME")?;
        let code = responses.required("SOFTWARE_TOKEN_MFA_CODE")?;
        let now = self.now_millis();
        let pending = self
            .store
            .pending_sign_in(&s.id)
            .await?
            .filter(|p| p.step == TOTP_STEP && p.expires_at >= now)
            .ok_or_else(expired_session)?;
        let user = self
            .store
            .user(&pool.id, &pending.username_key)
            .await?
            .filter(|u| Core::session_matches(&s, u))
            .ok_or_else(expired_session)?;
        if !self.names_user(pool, &user, username).await? {
            return Err(expired_session());
        }
        check_secret_hash_for(
            client,
            &[username, &user.username, &user.sub],
            responses.get("SECRET_HASH"),
        )?;
        self.refuse_before_password(&user)?;

        // A wrong code counts towards the lockout, as a wrong password does.
        self.take_attempt(&user).await?;
        let sealed = user.mfa.totp_secret.clone().ok_or_else(code_mismatch)?;
        let secret = self.open_totp_secret(&sealed)?;
        let step = crate::mfa::totp_step(&secret, code, now / 1000)
            .filter(|step| user.mfa.totp_last_step.is_none_or(|last| *step > last))
            .ok_or_else(code_mismatch)?;
        // The step is spent in the same write that checks it was not (two answers racing
        // with one code: one wins).
        self.modify_user(pool, &user.username, |u| {
            if u.mfa.totp_secret.as_deref() != Some(sealed.as_str())
                || u.mfa.totp_last_step.is_some_and(|last| step <= last)
            {
                return Err(code_mismatch());
            }
            u.mfa.totp_last_step = Some(step);
            Ok(())
        })
        .await?;
        self.attempt_succeeded(&user).await?;

        // The device presented with the password, or in this answer (Amplify and
        // amazon-cognito-identity-js echo it here); an unknown one is a new device.
        let key = pending
            .device_key
            .clone()
            .or_else(|| responses.get("DEVICE_KEY").map(str::to_string));
        let device = self
            .presented_device(pool, &user, key.as_deref(), UnknownDevice::Ignore)
            .await?;
        match device {
            Some(d) => self.continue_to_device(pending, TOTP_STEP, &d).await,
            None => {
                if !self
                    .store
                    .take_pending_sign_in(&pending.id, TOTP_STEP)
                    .await?
                {
                    return Err(expired_session());
                }
                Ok(AuthStep::tokens(
                    self.tokens_for_new_device(pool, client, &user).await?,
                ))
            }
        }
    }
}
