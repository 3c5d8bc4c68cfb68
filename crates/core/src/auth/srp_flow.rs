//! USER_SRP_AUTH → PASSWORD_VERIFIER (docs/protocol.md §8). The password never reaches the server.
//!
//! The SRP state (A, b, who, which client, when) is sealed with the server key into the
//! SECRET_BLOCK, because pycognito sends no Session: any server process can finish a sign-in
//! another one started. A state lives [`SRP_STATE_TTL_MS`] and is spent (recorded in the store)
//! when it succeeds, so it cannot be replayed; it is not spent by a failed attempt, as the
//! JavaScript clients resend the same block after a "device does not exist" error.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_srp::{
    check_timestamp, ClaimMessage, PublicValue, Salt, ServerChallenge, SrpError, SrpIdentity,
    Verifier, DEFAULT_MAX_SKEW_SECS, SECRET_EXPONENT_LEN,
};
use gatehouse_wire::ChallengeNameType;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::device_flow::UnknownDevice;
use super::{check_secret_hash_for, expired_session, incorrect, AuthStep, Params};
use crate::ids::hex;
use crate::passwords::srp_pool_name;
use crate::server_key::Sealed;
use crate::store::{AppClientRecord, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result};

/// How long a PASSWORD_VERIFIER challenge can be answered.
pub(crate) const SRP_STATE_TTL_MS: i64 = 5 * 60 * 1000;

/// The server's half of an SRP exchange, carried in a SECRET_BLOCK between the challenge and
/// the claim (short field names keep the block small).
#[derive(Serialize, Deserialize)]
pub(super) struct SrpExchange {
    /// SRP_A, hex.
    #[serde(rename = "a")]
    srp_a: String,
    /// The server's secret exponent b, hex.
    #[serde(rename = "b")]
    b: String,
    /// SRP_B, hex: kept so the answer needs no second g^b.
    #[serde(rename = "B")]
    srp_b: String,
    /// The salt the challenge used: a password changed since then fails the claim.
    #[serde(rename = "s")]
    pub salt: String,
}

impl SrpExchange {
    /// A fresh secret exponent for `verifier`: the exchange to seal and the challenge (SRP_B).
    pub(super) fn begin(
        core: &Core,
        verifier: &Verifier,
        salt: &Salt,
        srp_a: &PublicValue,
    ) -> Result<(Self, ServerChallenge)> {
        let mut b = [0u8; SECRET_EXPONENT_LEN];
        core.entropy.fill(&mut b);
        let challenge = ServerChallenge::new(verifier, &b).map_err(|_| incorrect())?;
        let exchange = SrpExchange {
            srp_a: srp_a.to_hex(),
            b: hex(&b),
            srp_b: challenge.srp_b_hex(),
            salt: salt.to_hex(),
        };
        Ok((exchange, challenge))
    }

    /// The challenge again, for checking the claim, with the client's SRP_A.
    pub(super) fn resume(&self, verifier: &Verifier) -> Result<(ServerChallenge, PublicValue)> {
        let b: [u8; SECRET_EXPONENT_LEN] = unhex(&self.b)
            .and_then(|v| v.try_into().ok())
            .ok_or_else(expired_session)?;
        let srp_a = PublicValue::from_hex(&self.srp_a).map_err(srp_error)?;
        let srp_b = PublicValue::from_hex(&self.srp_b).map_err(|_| expired_session())?;
        let challenge = ServerChallenge::resume(verifier, &b, srp_b).map_err(|_| incorrect())?;
        Ok((challenge, srp_a))
    }
}

/// What the PASSWORD_VERIFIER SECRET_BLOCK carries.
#[derive(Serialize, Deserialize)]
struct SrpState {
    /// Single-use id.
    id: String,
    #[serde(rename = "p")]
    pool_id: String,
    #[serde(rename = "c")]
    client_id: String,
    /// The user's key; None for the decoy answered to a stranger.
    #[serde(rename = "u")]
    username_key: Option<String>,
    /// USER_ID_FOR_SRP.
    #[serde(rename = "i")]
    srp_user: String,
    #[serde(flatten)]
    exchange: SrpExchange,
    /// Issued at (epoch ms).
    #[serde(rename = "t")]
    issued_at: i64,
    /// The SRP step of a custom authentication (CUSTOM_AUTH with SRP_A).
    #[serde(rename = "x", default, skip_serializing_if = "std::ops::Not::not")]
    custom: bool,
}

pub(super) fn srp_error(e: SrpError) -> CoreError {
    match e {
        SrpError::InvalidHex | SrpError::TooLong | SrpError::PublicValueZero => {
            CoreError::InvalidParameter(
                "SRP_A is invalid: it must be hexadecimal and not 0 mod N.".into(),
            )
        }
        SrpError::TimestampMalformed => CoreError::InvalidParameter(e.to_string()),
        _ => incorrect(),
    }
}

pub(super) fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl Core {
    /// A SECRET_BLOCK: `state` sealed with the server key for `purpose`, standard base64.
    pub(super) fn seal_secret_block(&self, purpose: Sealed, state: &impl Serialize) -> String {
        let plain = serde_json::to_vec(state).expect("state serialises");
        STANDARD.encode(self.server_key.seal(self.entropy.as_ref(), purpose, &plain))
    }

    /// Opens a SECRET_BLOCK sealed for `purpose`: its bytes (which the claim signs) and its
    /// state. Any defect is an expired session.
    pub(super) fn open_secret_block<T: DeserializeOwned>(
        &self,
        purpose: Sealed,
        block_b64: &str,
    ) -> Result<(Vec<u8>, T)> {
        let block = STANDARD.decode(block_b64).map_err(|_| expired_session())?;
        let state = self
            .server_key
            .open(purpose, &block)
            .and_then(|plain| serde_json::from_slice(&plain).ok())
            .ok_or_else(expired_session)?;
        Ok((block, state))
    }

    /// A state issued for (`pool_id`, `client_id`) at `issued_at` is answered through the same
    /// pool and client within [`SRP_STATE_TTL_MS`] (a minute of clock skew between processes
    /// allowed).
    pub(super) fn check_srp_state_fresh(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        (pool_id, client_id, issued_at): (&str, &str, i64),
    ) -> Result<()> {
        let now = self.now_millis();
        if client_id != client.client_id
            || pool_id != pool.id
            || now - issued_at > SRP_STATE_TTL_MS
            || now < issued_at - 60_000
        {
            return Err(expired_session());
        }
        Ok(())
    }

    /// InitiateAuth USER_SRP_AUTH: answers PASSWORD_VERIFIER with SALT, SRP_B, SECRET_BLOCK and
    /// the canonical username.
    pub(super) async fn start_srp(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let username = params.required("USERNAME")?;
        let srp_a_hex = params.required("SRP_A")?;
        let srp_a = PublicValue::from_hex(srp_a_hex).map_err(srp_error)?;
        let secret_hash = params.get("SECRET_HASH");
        if secret_hash.is_none() {
            check_secret_hash_for(client, &[username], None)?;
        }
        let user = match self.find_user(pool, username).await? {
            Some(u) => Some(u),
            None if crate::app_clients::prevents_existence_errors(client) => None,
            None => return Err(CoreError::user_not_found()),
        };
        match &user {
            Some(u) => {
                check_secret_hash_for(client, &[username, &u.username, &u.sub], secret_hash)?;
                self.refuse_before_password(u)?;
                self.before_password_check(pool, client, Some(u), username)
                    .await?;
            }
            None => {
                check_secret_hash_for(client, &[username], secret_hash)?;
                self.before_password_check(pool, client, None, username)
                    .await?;
            }
        }
        self.password_verifier_challenge(
            pool,
            client,
            user.as_ref(),
            (username, secret_hash),
            &srp_a,
            false,
        )
    }

    /// The PASSWORD_VERIFIER challenge for `user` (None: a stranger, answered with a decoy), its
    /// state sealed in SECRET_BLOCK. `custom`: the SRP step of a custom authentication, whose
    /// answer goes on to DefineAuthChallenge (custom_flow.rs).
    pub(super) fn password_verifier_challenge(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: Option<&UserRecord>,
        (username, secret_hash): (&str, Option<&str>),
        srp_a: &PublicValue,
        custom: bool,
    ) -> Result<AuthStep> {
        let (srp_user, salt, verifier) = match user {
            Some(u) => {
                let record = u.password.as_ref().ok_or_else(incorrect)?;
                let salt = Salt::from_hex(&record.salt).map_err(|_| incorrect())?;
                let v = Verifier::from_base64(&record.verifier).map_err(|_| incorrect())?;
                (u.username.clone(), salt, v)
            }
            None => {
                check_secret_hash_for(client, &[username], secret_hash)?;
                self.decoy_verifier(pool, username)
            }
        };
        let (exchange, challenge) = SrpExchange::begin(self, &verifier, &salt, srp_a)?;
        let mut id = [0u8; 16];
        self.entropy.fill(&mut id);
        let state = SrpState {
            id: hex(&id),
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: user.map(|u| u.username_key.clone()),
            srp_user: srp_user.clone(),
            exchange,
            issued_at: self.now_millis(),
            custom,
        };
        let parameters = [
            ("SALT", salt.to_hex()),
            ("SRP_B", challenge.srp_b_hex()),
            (
                "SECRET_BLOCK",
                self.seal_secret_block(Sealed::SrpState, &state),
            ),
            ("USER_ID_FOR_SRP", srp_user.clone()),
            // Must equal USER_ID_FOR_SRP: Amplify files tokens and devices under it.
            ("USERNAME", srp_user),
        ];
        Ok(AuthStep {
            challenge_name: Some(ChallengeNameType::PasswordVerifier),
            challenge_parameters: Some(
                parameters
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v))
                    .collect(),
            ),
            ..Default::default()
        })
    }

    /// A stranger's salt and verifier: derived from the name with the server key, so repeated
    /// attempts see the same SALT, and nothing tells them apart from a real user's.
    pub(super) fn decoy_verifier(
        &self,
        pool: &UserPoolRecord,
        name: &str,
    ) -> (String, Salt, Verifier) {
        let label = format!("{}\0{}", pool.id, name);
        let seed = self.server_key.decoy(label.as_bytes());
        let salt = Salt::from_be_bytes(&seed[..16]).expect("16-byte salt");
        let password = hex(&seed[16..]);
        let verifier = Verifier::new(
            &SrpIdentity::user(srp_pool_name(&pool.id), name),
            &salt,
            &password,
        );
        (name.to_string(), salt, verifier)
    }

    /// RespondToAuthChallenge PASSWORD_VERIFIER (docs/protocol.md §8.3).
    pub(super) async fn verify_password_claim(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let block_b64 = responses.required("PASSWORD_CLAIM_SECRET_BLOCK")?;
        let signature = responses.required("PASSWORD_CLAIM_SIGNATURE")?;
        let timestamp = responses.required("TIMESTAMP")?;
        let username = responses.required("USERNAME")?;
        let secret_hash = responses.get("SECRET_HASH");
        let device_key = responses.get("DEVICE_KEY");

        let (block, state): (_, SrpState) = self.open_secret_block(Sealed::SrpState, block_b64)?;
        self.check_srp_state_fresh(
            pool,
            client,
            (&state.pool_id, &state.client_id, state.issued_at),
        )?;
        let now = self.now_millis();
        let Some(username_key) = state.username_key.as_deref() else {
            // The decoy for a stranger: the same answer as a wrong password.
            check_secret_hash_for(client, &[username], secret_hash)?;
            return Err(incorrect());
        };
        let mut user = self
            .users()
            .user(&pool.id, username_key)
            .await?
            .ok_or_else(incorrect)?;
        // USERNAME may be USER_ID_FOR_SRP or any other name of the same user.
        if !self.names_user(pool, &user, username).await? {
            return Err(incorrect());
        }
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;

        // Cheap checks before the exponentiations.
        check_timestamp(timestamp, now / 1000, DEFAULT_MAX_SKEW_SECS).map_err(srp_error)?;
        let record = user.password.as_ref().ok_or_else(incorrect)?;
        if record.salt != state.exchange.salt || user.username != state.srp_user {
            // The password changed since the challenge.
            return Err(incorrect());
        }
        let verifier = Verifier::from_base64(&record.verifier).map_err(|_| incorrect())?;
        let (challenge, srp_a) = state.exchange.resume(&verifier)?;
        self.take_attempt(&mut user).await?;
        let msg = ClaimMessage {
            identity: SrpIdentity::user(srp_pool_name(&pool.id), &user.username),
            secret_block: &block,
            timestamp,
        };
        challenge
            .verify_claim(&srp_a, &msg, signature)
            .map_err(srp_error)?;
        // Before the state is spent: the clients answer "Device does not exist." by resending
        // this very block without the key.
        let device = self
            .presented_device(pool, &user, device_key, UnknownDevice::Refuse)
            .await?;
        // Spent only now, on success; a second use of the same block is a replay.
        if !self
            .sign_ins()
            .spend_auth_state(&state.id, state.issued_at + SRP_STATE_TTL_MS + 60_000)
            .await?
        {
            return Err(expired_session());
        }
        if state.custom {
            return self
                .custom_after_password(pool, client, &mut user, device)
                .await;
        }
        self.finish_sign_in(pool, client, &mut user, device).await
    }
}
