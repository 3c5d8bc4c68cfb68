//! The device's part of a sign-in (docs/protocol.md §10): which device a sign-in presented,
//! DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER (SRP with pool name := device group key and
//! user := device key), and tokens with NewDeviceMetadata when no known device took part.
//!
//! Once the password has passed, a sign-in presenting a confirmed device becomes a pending
//! sign-in (`pending.rs`); a client that sends no Session (pycognito) is matched by user, app
//! client and device key. Device SRP alone never mints tokens: it can only finish a pending
//! sign-in, once.

use std::collections::BTreeMap;

use gatehouse_srp::{
    check_timestamp, ClaimMessage, PublicValue, Salt, SrpIdentity, Verifier, DEFAULT_MAX_SKEW_SECS,
};
use gatehouse_wire::{AuthenticationResultType, ChallengeNameType};
use serde::{Deserialize, Serialize};

use super::pending::PENDING_SIGN_IN;
use super::srp_flow::{srp_error, SrpExchange};
use super::{check_secret_hash_for, expired_session, incorrect, AuthStep, Params};
use crate::devices::{device_not_found, tracking};
use crate::server_key::Sealed;
use crate::store::{
    AppClientRecord, DeviceRecord, PendingSignInRecord, PendingStep, UserPoolRecord, UserRecord,
};
use crate::{Caller, Core, CoreError, Result};

/// What to do with a DEVICE_KEY that names no confirmed device of the user.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum UnknownDevice {
    /// PASSWORD_VERIFIER: "Device does not exist.", which every SRP client answers by retrying
    /// the same step without the key (the SRP state stays valid for that).
    Refuse,
    /// The password flows, which no client retries: sign in as a new device.
    Ignore,
}

/// The DEVICE_PASSWORD_VERIFIER SECRET_BLOCK (short field names keep it small).
#[derive(Serialize, Deserialize)]
struct DeviceSrpState {
    /// The pending sign-in this answers.
    id: String,
    #[serde(rename = "p")]
    pool_id: String,
    #[serde(rename = "c")]
    client_id: String,
    #[serde(rename = "u")]
    username_key: String,
    #[serde(rename = "k")]
    device_key: String,
    /// With the device's salt.
    #[serde(flatten)]
    exchange: SrpExchange,
    #[serde(rename = "t")]
    issued_at: i64,
}

impl Core {
    /// The confirmed device of `user` a sign-in step presented in DEVICE_KEY, if tracking is on.
    pub(super) async fn presented_device(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        device_key: Option<&str>,
        unknown: UnknownDevice,
    ) -> Result<Option<DeviceRecord>> {
        let (Some(key), Some(_)) = (device_key, tracking(pool)) else {
            return Ok(None);
        };
        match self.tracked_device(pool, user, key).await? {
            Some(d) => Ok(Some(d)),
            None if unknown == UnknownDevice::Refuse => Err(device_not_found()),
            None => Ok(None),
        }
    }

    /// Tokens for a sign-in that no known device took part in: with tracking on, a new device
    /// key in NewDeviceMetadata, and the refresh-token family bound to it.
    pub(super) async fn tokens_for_new_device(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
    ) -> Result<AuthenticationResultType> {
        self.after_authentication(pool, &client.client_id, user, tracking(pool).is_some())
            .await?;
        if tracking(pool).is_none() {
            return self.start_session(pool, client, user, None).await;
        }
        let metadata = self.issue_device(pool, user).await?;
        let mut result = self
            .start_session(pool, client, user, metadata.device_key.clone())
            .await?;
        result.new_device_metadata = Some(metadata);
        Ok(result)
    }

    /// The password (and MFA) passed and a confirmed device was presented: DEVICE_SRP_AUTH.
    pub(super) async fn begin_device_sign_in(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device: &DeviceRecord,
    ) -> Result<AuthStep> {
        let pending = self
            .new_pending_sign_in(
                pool,
                client,
                user,
                Some(&device.device_key),
                PendingStep::DeviceSrpAuth,
            )
            .await?;
        Ok(device_challenge(pending.session))
    }

    /// After the MFA step: the same pending sign-in goes on to device SRP.
    pub(super) async fn continue_to_device(
        &self,
        mut pending: PendingSignInRecord,
        from_step: PendingStep,
        device: &DeviceRecord,
    ) -> Result<AuthStep> {
        pending.step = PendingStep::DeviceSrpAuth;
        pending.device_key = Some(device.device_key.clone());
        self.advance_pending(&pending, from_step).await?;
        Ok(device_challenge(pending.session))
    }

    /// Whether `name` is one of `user`'s names (username, alias, sub).
    pub(super) async fn names_user(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        name: &str,
    ) -> Result<bool> {
        if name == user.username {
            return Ok(true);
        }
        let named = self.find_user(pool, name).await?;
        Ok(named.is_some_and(|n| n.username_key == user.username_key))
    }

    /// RespondToAuthChallenge DEVICE_SRP_AUTH {USERNAME, DEVICE_KEY, SRP_A}: the device's SRP
    /// challenge, DEVICE_PASSWORD_VERIFIER.
    pub(super) async fn answer_device_srp_auth(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let username = responses.required("USERNAME")?;
        let device_key = responses.required("DEVICE_KEY")?;
        let srp_a = PublicValue::from_hex(responses.required("SRP_A")?).map_err(srp_error)?;
        let now = self.now_millis();
        let pending = match session {
            Some(_) => {
                let s = self.open_challenge_session(pool, client, session, PENDING_SIGN_IN)?;
                self.sign_ins().pending_sign_in(&s.id).await?
            }
            None => match self.find_user(pool, username).await? {
                Some(u) => {
                    self.sign_ins()
                        .pending_sign_in_for_device(
                            &pool.id,
                            &client.client_id,
                            &u.username_key,
                            device_key,
                            now,
                        )
                        .await?
                }
                None => None,
            },
        };
        // Only a sign-in that waits for its device: one still owing an MFA code cannot skip it.
        let pending = pending
            .filter(|p| p.expires_at >= now && p.client_id == client.client_id)
            .filter(|p| p.step == PendingStep::DeviceSrpAuth)
            .ok_or_else(expired_session)?;
        if pending.device_key.as_deref() != Some(device_key) {
            return Err(CoreError::InvalidParameter(
                "Invalid device key given.".into(),
            ));
        }
        let user = self
            .users()
            .user(&pool.id, &pending.username_key)
            .await?
            .ok_or_else(expired_session)?;
        if !self.names_user(pool, &user, username).await? {
            return Err(incorrect());
        }
        let secret_hash = responses.get("SECRET_HASH");
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;
        let device = self
            .tracked_device(pool, &user, device_key)
            .await?
            .ok_or_else(device_not_found)?;
        let (salt, verifier) = device_secrets(&device)?;

        let (exchange, challenge) = SrpExchange::begin(self, &verifier, &salt, &srp_a)?;
        let state = DeviceSrpState {
            id: pending.id.clone(),
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: user.username_key.clone(),
            device_key: device_key.to_string(),
            exchange,
            issued_at: now,
        };
        let parameters = [
            ("USERNAME", user.username.clone()),
            ("DEVICE_KEY", device_key.to_string()),
            ("SRP_B", challenge.srp_b_hex()),
            ("SALT", salt.to_hex()),
            (
                "SECRET_BLOCK",
                self.seal_secret_block(Sealed::DeviceSrpState, &state),
            ),
        ];
        Ok(AuthStep {
            challenge_name: Some(ChallengeNameType::DevicePasswordVerifier),
            session: Some(pending.session),
            challenge_parameters: Some(
                parameters
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            ..Default::default()
        })
    }

    /// RespondToAuthChallenge DEVICE_PASSWORD_VERIFIER: the device's signed claim finishes the
    /// pending sign-in with tokens bound to the device (and no NewDeviceMetadata).
    pub(super) async fn verify_device_claim(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        caller: &Caller,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let block_b64 = responses.required("PASSWORD_CLAIM_SECRET_BLOCK")?;
        let signature = responses.required("PASSWORD_CLAIM_SIGNATURE")?;
        let timestamp = responses.required("TIMESTAMP")?;
        let username = responses.required("USERNAME")?;
        let device_key = responses.required("DEVICE_KEY")?;

        let (block, state): (_, DeviceSrpState) =
            self.open_secret_block(Sealed::DeviceSrpState, block_b64)?;
        self.check_srp_state_fresh(
            pool,
            client,
            (&state.pool_id, &state.client_id, state.issued_at),
        )?;
        let now = self.now_millis();
        if state.device_key != device_key {
            return Err(CoreError::InvalidParameter(
                "Invalid device key given.".into(),
            ));
        }
        let user = self
            .users()
            .user(&pool.id, &state.username_key)
            .await?
            .ok_or_else(incorrect)?;
        if !self.names_user(pool, &user, username).await? {
            return Err(incorrect());
        }
        let secret_hash = responses.get("SECRET_HASH");
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;
        check_timestamp(timestamp, now / 1000, DEFAULT_MAX_SKEW_SECS).map_err(srp_error)?;
        let device = self
            .tracked_device(pool, &user, device_key)
            .await?
            .ok_or_else(device_not_found)?;
        let (salt, verifier) = device_secrets(&device)?;
        if salt.to_hex() != state.exchange.salt {
            return Err(incorrect());
        }
        let (challenge, srp_a) = state.exchange.resume(&verifier)?;
        let msg = ClaimMessage {
            identity: SrpIdentity::device(&device.group_key, &device.device_key),
            secret_block: &block,
            timestamp,
        };
        challenge
            .verify_claim(&srp_a, &msg, signature)
            .map_err(srp_error)?;
        // Finished once: a replayed claim finds the sign-in gone. Taken only after a correct
        // claim, so a stranger who knows the user and the device key (and can fetch a
        // challenge without a Session) cannot end someone else's sign-in with a wrong one;
        // guessing the 40-byte device secret is hopeless anyway.
        self.finish_pending(&state.id, PendingStep::DeviceSrpAuth)
            .await?;
        self.after_authentication(pool, &client.client_id, &user, false)
            .await?;
        let key = device.device_key.clone();
        self.device_authenticated(device, caller).await?;
        Ok(AuthStep::tokens(
            self.start_session(pool, client, &user, Some(key)).await?,
        ))
    }
}

fn device_secrets(device: &DeviceRecord) -> Result<(Salt, Verifier)> {
    let broken = || CoreError::Internal(format!("device {} has no verifier", device.device_key));
    let salt = Salt::from_hex(device.salt.as_deref().ok_or_else(broken)?).map_err(|_| broken())?;
    let verifier = Verifier::from_base64(device.verifier.as_deref().ok_or_else(broken)?)
        .map_err(|_| broken())?;
    Ok((salt, verifier))
}

/// DEVICE_SRP_AUTH with the sign-in's Session.
fn device_challenge(session: String) -> AuthStep {
    AuthStep {
        challenge_name: Some(ChallengeNameType::DeviceSrpAuth),
        session: Some(session),
        // Empty on purpose: Amplify would file the device under a USERNAME given here and
        // then miss it (docs/protocol.md §10.2); no client reads anything from this challenge.
        challenge_parameters: Some(BTreeMap::new()),
        ..Default::default()
    }
}
