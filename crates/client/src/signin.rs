//! The sign-in state machine: InitiateAuth → PASSWORD_VERIFIER → (DEVICE_SRP_AUTH →
//! DEVICE_PASSWORD_VERIFIER) → tokens, or a challenge handed back to the caller.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, AuthenticationResultType, ChallengeNameType,
};
use aws_sdk_cognitoidentityprovider::Client;
use gatehouse_srp::{
    base64_decode, format_timestamp, pool_name_from_pool_id, secret_hash, ClaimMessage,
    PreparedPassword, PublicValue, Salt, SrpClient, SrpIdentity, SECRET_EXPONENT_LEN,
};
use zeroize::Zeroizing;

use crate::Error;

/// Configuration for signing users in to one app client of one user pool with SRP
/// (`USER_SRP_AUTH`), the way the Amplify and amazon-cognito-identity-js clients do.
///
/// Cheap to clone; one value serves any number of concurrent sign-ins.
#[derive(Clone)]
pub struct SrpSignIn {
    pool_id: String,
    pool_name: String,
    client_id: String,
    client_secret: Option<Zeroizing<String>>,
    device: Option<Device>,
}

/// A remembered device: what ConfirmDevice stored on the client.
#[derive(Clone)]
struct Device {
    key: String,
    group_key: String,
    password: Zeroizing<String>,
}

/// How a sign-in ended when no step failed.
#[derive(Debug)]
pub enum SignInOutcome {
    /// Signed in. `new_device_metadata` is set when the server wants this (untracked) device
    /// confirmed.
    Tokens(AuthenticationResultType),
    /// The server wants something this library does not answer by itself:
    /// `NEW_PASSWORD_REQUIRED`, `SMS_MFA`, `SOFTWARE_TOKEN_MFA`, `MFA_SETUP`,
    /// `DEVICE_SRP_AUTH` without a configured device, … Answer with [`SrpSignIn::respond`].
    Challenge(Challenge),
}

impl SignInOutcome {
    /// The tokens, or the pending challenge as the error.
    #[allow(clippy::result_large_err)]
    pub fn into_tokens(self) -> Result<AuthenticationResultType, Challenge> {
        match self {
            SignInOutcome::Tokens(t) => Ok(t),
            SignInOutcome::Challenge(c) => Err(c),
        }
    }
}

/// A challenge the caller has to answer.
#[derive(Clone, Debug)]
pub struct Challenge {
    /// E.g. [`ChallengeNameType::NewPasswordRequired`].
    pub name: ChallengeNameType,
    /// `ChallengeParameters` as sent by the server (for NEW_PASSWORD_REQUIRED:
    /// `userAttributes`, `requiredAttributes`, `USER_ID_FOR_SRP`).
    pub parameters: HashMap<String, String>,
    /// The `Session` to send back, if the server returned one.
    pub session: Option<String>,
    /// The canonical username (`USER_ID_FOR_SRP`) that later responses use as `USERNAME` and
    /// for `SECRET_HASH`.
    pub username: String,
}

/// A user signed in again and again — by a load generator or a test — with client work
/// cut roughly in half.
///
/// Two shortcuts, both invisible to the server and both fine for synthetic users only:
/// * `a` is drawn once in [`CachedUser::new`] and the same `A` is sent on every sign-in,
///   saving `g^a` per sign-in. Each exchange is still a genuine one: the server draws a fresh
///   `b`, so `B`, `u`, `S`, `K` and the signature differ every time. (An application should
///   use a fresh `a` per sign-in, as [`SrpSignIn::sign_in`] does: a reused `a` lets anyone who
///   learns it once derive every later session key.)
/// * `x` and `k·g^x` ([`PreparedPassword`]) are kept for the pool, `USER_ID_FOR_SRP` and `SALT`
///   of the last challenge and recomputed only when one of them changes (password reset …),
///   saving `g^x` per sign-in.
///
/// What remains per sign-in on the client is one exponentiation `(B − k·g^x)^(a+u·x)` with a
/// ~513-bit exponent plus a few hashes. `Sync`: concurrent sign-ins of the same user may share
/// one value.
pub struct CachedUser {
    username: String,
    password: Zeroizing<String>,
    client: SrpClient,
    prepared: Mutex<Option<PreparedEntry>>,
}

struct PreparedEntry {
    pool_name: String,
    user_id: String,
    salt: Salt,
    prepared: PreparedPassword,
}

impl CachedUser {
    /// Draws the fixed secret `a` (256 bits from the OS) and computes `A` once.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Result<Self, Error> {
        Ok(CachedUser {
            username: username.into(),
            password: Zeroizing::new(password.into()),
            client: fresh_client()?,
            prepared: Mutex::new(None),
        })
    }

    /// The username as typed (sent in InitiateAuth).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The prepared password for this challenge, from the cache or computed (and cached).
    fn prepared_for(&self, identity: &SrpIdentity, salt: &Salt) -> PreparedPassword {
        let mut slot = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = slot.as_ref() {
            if e.pool_name == identity.pool_name && e.user_id == identity.user_id && &e.salt == salt
            {
                return e.prepared.clone();
            }
        }
        let prepared = PreparedPassword::new(identity, salt, &self.password);
        *slot = Some(PreparedEntry {
            pool_name: identity.pool_name.to_string(),
            user_id: identity.user_id.to_string(),
            salt: salt.clone(),
            prepared: prepared.clone(),
        });
        prepared
    }
}

impl fmt::Debug for CachedUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachedUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// What proves the password in a PASSWORD_VERIFIER answer.
#[derive(Clone, Copy)]
pub(crate) enum Proof<'a> {
    Password(&'a str),
    Cached(&'a CachedUser),
}

/// One server answer, from either operation.
struct Step {
    name: Option<ChallengeNameType>,
    parameters: HashMap<String, String>,
    session: Option<String>,
    tokens: Option<AuthenticationResultType>,
}

impl SrpSignIn {
    /// For the user pool `pool_id` (`us-east-1_AbCdEfGhI`) and app client `client_id`.
    ///
    /// Fails with [`Error::InvalidPoolId`] unless the pool id is `<region>_<name>`: the name
    /// part goes into the SRP maths.
    pub fn new(pool_id: impl Into<String>, client_id: impl Into<String>) -> Result<Self, Error> {
        let pool_id = pool_id.into();
        let pool_name = pool_name_from_pool_id(&pool_id)
            .ok_or_else(|| Error::InvalidPoolId(pool_id.clone()))?
            .to_string();
        Ok(SrpSignIn {
            pool_id,
            pool_name,
            client_id: client_id.into(),
            client_secret: None,
            device: None,
        })
    }

    /// The app client's secret: every step then carries `SECRET_HASH` (over the typed
    /// username at InitiateAuth, over the canonical username afterwards).
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(Zeroizing::new(secret.into()));
        self
    }

    /// A device remembered from an earlier sign-in (the `DeviceKey` and `DeviceGroupKey` of
    /// `NewDeviceMetadata`, and the device password generated for ConfirmDevice, e.g. by
    /// [`gatehouse_srp::DeviceSecret`]). Its key is sent with PASSWORD_VERIFIER; when the
    /// server then asks for `DEVICE_SRP_AUTH` the device proves itself with SRP too.
    pub fn device(
        mut self,
        device_key: impl Into<String>,
        device_group_key: impl Into<String>,
        device_password: impl Into<String>,
    ) -> Self {
        self.device = Some(Device {
            key: device_key.into(),
            group_key: device_group_key.into(),
            password: Zeroizing::new(device_password.into()),
        });
        self
    }

    /// The user pool id.
    pub fn pool_id(&self) -> &str {
        &self.pool_id
    }

    /// The app client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Signs `username` (as typed: username or alias) in with SRP: `InitiateAuth`
    /// `USER_SRP_AUTH`, then `RespondToAuthChallenge` `PASSWORD_VERIFIER`, then — if the server
    /// asks and a device is configured — `DEVICE_SRP_AUTH` and `DEVICE_PASSWORD_VERIFIER`.
    ///
    /// A fresh 256-bit `a` is drawn from the OS for each call; `TIMESTAMP` comes from the
    /// system clock, so it must be within the server's skew window (5 minutes).
    pub async fn sign_in(
        &self,
        sdk: &Client,
        username: &str,
        password: &str,
    ) -> Result<SignInOutcome, Error> {
        let client = fresh_client()?;
        self.srp_sign_in(sdk, username, &client, Proof::Password(password))
            .await
    }

    /// [`SrpSignIn::sign_in`] for a user signed in repeatedly, with the client-side shortcuts
    /// of [`CachedUser`] (same `A` each time, cached `x`). Load generators and tests only.
    pub async fn sign_in_cached(
        &self,
        sdk: &Client,
        user: &CachedUser,
    ) -> Result<SignInOutcome, Error> {
        self.srp_sign_in(sdk, &user.username, &user.client, Proof::Cached(user))
            .await
    }

    /// `InitiateAuth` with `flow` and `params` (plus SECRET_HASH when the client has a secret):
    /// the first step.
    async fn initiate(
        &self,
        sdk: &Client,
        flow: AuthFlowType,
        username: &str,
        mut params: HashMap<String, String>,
    ) -> Result<Step, Error> {
        self.add_secret_hash(&mut params, username);
        let out = sdk
            .initiate_auth()
            .auth_flow(flow)
            .client_id(&self.client_id)
            .set_auth_parameters(Some(params))
            .send()
            .await
            .map_err(Error::initiate)?;
        Ok(Step {
            name: out.challenge_name,
            parameters: out.challenge_parameters.unwrap_or_default(),
            session: out.session,
            tokens: out.authentication_result,
        })
    }

    /// `InitiateAuth` `USER_PASSWORD_AUTH`: the password goes to the server in clear (over
    /// TLS). For comparison with SRP (load generator `--flow password`) and for clients
    /// that cannot do SRP. Later challenges, including device SRP, are handled as in
    /// [`SrpSignIn::sign_in`].
    pub async fn sign_in_user_password(
        &self,
        sdk: &Client,
        username: &str,
        password: &str,
    ) -> Result<SignInOutcome, Error> {
        let mut params = HashMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("PASSWORD".to_string(), password.to_string()),
        ]);
        if let Some(d) = &self.device {
            // Amplify sends the device key at InitiateAuth on this flow.
            params.insert("DEVICE_KEY".into(), d.key.clone());
        }
        let step = self
            .initiate(sdk, AuthFlowType::UserPasswordAuth, username, params)
            .await?;
        let user_id = canonical_username(&step.parameters).unwrap_or(username);
        let user_id = user_id.to_string();
        self.advance(sdk, step, user_id).await
    }

    /// Answers a challenge returned in [`SignInOutcome::Challenge`], e.g. NEW_PASSWORD_REQUIRED
    /// with `[("NEW_PASSWORD", "…")]` or SOFTWARE_TOKEN_MFA with
    /// `[("SOFTWARE_TOKEN_MFA_CODE", "123456")]`.
    ///
    /// Adds what every answer needs unless already given: `USERNAME` (the canonical name),
    /// `SECRET_HASH` when a client secret is set, `DEVICE_KEY` for MFA and custom challenges
    /// when a device is configured, and the challenge's `Session`. A following
    /// `DEVICE_SRP_AUTH` is handled like in [`SrpSignIn::sign_in`].
    pub async fn respond<K, V>(
        &self,
        sdk: &Client,
        challenge: &Challenge,
        answers: impl IntoIterator<Item = (K, V)>,
    ) -> Result<SignInOutcome, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut responses: HashMap<String, String> = answers
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        responses
            .entry("USERNAME".into())
            .or_insert_with(|| challenge.username.clone());
        if !responses.contains_key("SECRET_HASH") {
            self.add_secret_hash(&mut responses, &challenge.username);
        }
        if let Some(d) = &self.device {
            if takes_device_key(&challenge.name) {
                responses
                    .entry("DEVICE_KEY".into())
                    .or_insert_with(|| d.key.clone());
            }
        }
        let step = self
            .respond_raw(
                sdk,
                challenge.name.clone(),
                challenge.session.clone(),
                responses,
            )
            .await?;
        self.advance(sdk, step, challenge.username.clone()).await
    }

    // -----------------------------------------------------------------------------------------

    async fn srp_sign_in(
        &self,
        sdk: &Client,
        username: &str,
        client: &SrpClient,
        proof: Proof<'_>,
    ) -> Result<SignInOutcome, Error> {
        let params = HashMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("SRP_A".to_string(), client.srp_a_hex()),
        ]);
        let step = self
            .initiate(sdk, AuthFlowType::UserSrpAuth, username, params)
            .await?;
        if step.tokens.is_some() || step.name != Some(ChallengeNameType::PasswordVerifier) {
            let user_id = canonical_username(&step.parameters).unwrap_or(username);
            let user_id = user_id.to_string();
            return self.advance(sdk, step, user_id).await;
        }

        let timestamp = now_timestamp();
        let (user_id, mut responses) =
            self.password_verifier_responses(client, proof, &step.parameters, &timestamp)?;
        let first = self
            .respond_raw(
                sdk,
                ChallengeNameType::PasswordVerifier,
                step.session.clone(),
                responses.clone(),
            )
            .await;
        let next = match first {
            Err(e) if self.device.is_some() && is_stale_device(&e) => {
                // docs/protocol.md §10.4: the server forgot the device. Like the JS clients,
                // resend the same proof without DEVICE_KEY (the server keeps the SRP state for
                // this); the tokens then carry fresh NewDeviceMetadata, telling the caller to
                // confirm a new device.
                responses.remove("DEVICE_KEY");
                self.respond_raw(
                    sdk,
                    ChallengeNameType::PasswordVerifier,
                    step.session.clone(),
                    responses,
                )
                .await?
            }
            other => other?,
        };
        self.advance(sdk, next, user_id).await
    }

    /// Tokens, device SRP when asked for and possible, else the challenge for the caller.
    async fn advance(
        &self,
        sdk: &Client,
        mut step: Step,
        user_id: String,
    ) -> Result<SignInOutcome, Error> {
        let mut device_done = false;
        loop {
            if let Some(tokens) = step.tokens {
                return Ok(SignInOutcome::Tokens(tokens));
            }
            match step.name {
                Some(ChallengeNameType::DeviceSrpAuth) if self.device.is_some() && !device_done => {
                    device_done = true;
                    step = self.device_sign_in(sdk, &user_id, step.session).await?;
                }
                Some(name) => {
                    return Ok(SignInOutcome::Challenge(Challenge {
                        name,
                        parameters: step.parameters,
                        session: step.session,
                        username: user_id,
                    }))
                }
                None => return Err(Error::EmptyResponse),
            }
        }
    }

    /// DEVICE_SRP_AUTH (fresh `A`) then DEVICE_PASSWORD_VERIFIER; returns the answer to the
    /// latter (or the unexpected answer to the former).
    async fn device_sign_in(
        &self,
        sdk: &Client,
        user_id: &str,
        session: Option<String>,
    ) -> Result<Step, Error> {
        let device = self.device.as_ref().expect("checked by the caller");
        let client = fresh_client()?;
        let mut responses = HashMap::from([
            ("USERNAME".to_string(), user_id.to_string()),
            ("DEVICE_KEY".to_string(), device.key.clone()),
            ("SRP_A".to_string(), client.srp_a_hex()),
        ]);
        self.add_secret_hash(&mut responses, user_id);
        let step = self
            .respond_raw(
                sdk,
                ChallengeNameType::DeviceSrpAuth,
                session.clone(),
                responses,
            )
            .await?;
        if step.tokens.is_some() || step.name != Some(ChallengeNameType::DevicePasswordVerifier) {
            return Ok(step);
        }
        let timestamp = now_timestamp();
        let responses =
            self.device_verifier_responses(&client, user_id, &step.parameters, &timestamp)?;
        // One Session per sign-in transaction: keep the last one seen if none came back.
        let session = step.session.or(session);
        self.respond_raw(
            sdk,
            ChallengeNameType::DevicePasswordVerifier,
            session,
            responses,
        )
        .await
    }

    async fn respond_raw(
        &self,
        sdk: &Client,
        name: ChallengeNameType,
        session: Option<String>,
        responses: HashMap<String, String>,
    ) -> Result<Step, Error> {
        let out = sdk
            .respond_to_auth_challenge()
            .client_id(&self.client_id)
            .challenge_name(name)
            .set_session(session)
            .set_challenge_responses(Some(responses))
            .send()
            .await
            .map_err(Error::respond)?;
        Ok(Step {
            name: out.challenge_name,
            parameters: out.challenge_parameters.unwrap_or_default(),
            session: out.session,
            tokens: out.authentication_result,
        })
    }

    // -----------------------------------------------------------------------------------------
    // The pure parts (unit-tested against the vectors of docs/protocol.md §15).

    fn add_secret_hash(&self, params: &mut HashMap<String, String>, username: &str) {
        if let Some(secret) = &self.client_secret {
            params.insert(
                "SECRET_HASH".into(),
                secret_hash(secret, username, &self.client_id),
            );
        }
    }

    /// The PASSWORD_VERIFIER `ChallengeResponses` (docs/protocol.md §8.2) for the challenge
    /// parameters `params`, and the canonical username they name.
    pub(crate) fn password_verifier_responses(
        &self,
        client: &SrpClient,
        proof: Proof<'_>,
        params: &HashMap<String, String>,
        timestamp: &str,
    ) -> Result<(String, HashMap<String, String>), Error> {
        const CH: &str = "PASSWORD_VERIFIER";
        let user_id = canonical_username(params).ok_or(Error::MissingParameter {
            challenge: CH.into(),
            parameter: "USER_ID_FOR_SRP",
        })?;
        let salt = Salt::from_hex(param(params, CH, "SALT")?)?;
        let srp_b = PublicValue::from_hex(param(params, CH, "SRP_B")?)?;
        let secret_block = param(params, CH, "SECRET_BLOCK")?;
        let block_bytes = base64_decode(secret_block)?;
        let identity = SrpIdentity::user(&self.pool_name, user_id);
        let msg = ClaimMessage {
            identity,
            secret_block: &block_bytes,
            timestamp,
        };
        let signature = match proof {
            Proof::Password(password) => client.claim_signature(password, &salt, &srp_b, &msg)?,
            Proof::Cached(user) => client.claim_signature_prepared(
                &user.prepared_for(&identity, &salt),
                &srp_b,
                &msg,
            )?,
        };
        let mut responses = HashMap::from([
            ("USERNAME".to_string(), user_id.to_string()),
            (
                "PASSWORD_CLAIM_SECRET_BLOCK".to_string(),
                secret_block.to_string(),
            ),
            ("TIMESTAMP".to_string(), timestamp.to_string()),
            ("PASSWORD_CLAIM_SIGNATURE".to_string(), signature),
        ]);
        self.add_secret_hash(&mut responses, user_id);
        if let Some(d) = &self.device {
            responses.insert("DEVICE_KEY".into(), d.key.clone());
        }
        Ok((user_id.to_string(), responses))
    }

    /// The DEVICE_PASSWORD_VERIFIER `ChallengeResponses` (docs/protocol.md §10.3): the user
    /// formulas with P := DeviceGroupKey, I := DeviceKey, password := the device password.
    pub(crate) fn device_verifier_responses(
        &self,
        client: &SrpClient,
        user_id: &str,
        params: &HashMap<String, String>,
        timestamp: &str,
    ) -> Result<HashMap<String, String>, Error> {
        const CH: &str = "DEVICE_PASSWORD_VERIFIER";
        let device = self.device.as_ref().expect("only called with a device");
        let salt = Salt::from_hex(param(params, CH, "SALT")?)?;
        let srp_b = PublicValue::from_hex(param(params, CH, "SRP_B")?)?;
        let secret_block = param(params, CH, "SECRET_BLOCK")?;
        let block_bytes = base64_decode(secret_block)?;
        let msg = ClaimMessage {
            identity: SrpIdentity::device(&device.group_key, &device.key),
            secret_block: &block_bytes,
            timestamp,
        };
        let signature = client.claim_signature(&device.password, &salt, &srp_b, &msg)?;
        let username = params.get("USERNAME").map_or(user_id, String::as_str);
        let mut responses = HashMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("DEVICE_KEY".to_string(), device.key.clone()),
            (
                "PASSWORD_CLAIM_SECRET_BLOCK".to_string(),
                secret_block.to_string(),
            ),
            ("TIMESTAMP".to_string(), timestamp.to_string()),
            ("PASSWORD_CLAIM_SIGNATURE".to_string(), signature),
        ]);
        self.add_secret_hash(&mut responses, username);
        Ok(responses)
    }
}

impl fmt::Debug for SrpSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpSignIn")
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("device_key", &self.device.as_ref().map(|d| &d.key))
            .finish()
    }
}

/// `USER_ID_FOR_SRP`, else `USERNAME` (the two are equal on Cognito).
fn canonical_username(params: &HashMap<String, String>) -> Option<&str> {
    params
        .get("USER_ID_FOR_SRP")
        .or_else(|| params.get("USERNAME"))
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

fn param<'a>(
    params: &'a HashMap<String, String>,
    challenge: &str,
    name: &'static str,
) -> Result<&'a str, Error> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| Error::MissingParameter {
            challenge: challenge.into(),
            parameter: name,
        })
}

/// Challenges whose answers carry the device key (docs/protocol.md §10.1, as Amplify sends them).
fn takes_device_key(name: &ChallengeNameType) -> bool {
    matches!(
        name,
        ChallengeNameType::SmsMfa
            | ChallengeNameType::SoftwareTokenMfa
            | ChallengeNameType::EmailOtp
            | ChallengeNameType::SmsOtp
            | ChallengeNameType::CustomChallenge
    )
}

/// `ResourceNotFoundException` about the device (docs/protocol.md §10.4; the JS clients' test).
fn is_stale_device(e: &Error) -> bool {
    e.code() == Some("ResourceNotFoundException")
        && e.message()
            .is_some_and(|m| m.to_ascii_lowercase().contains("device"))
}

/// An SRP client with a fresh 256-bit secret `a` from the OS.
pub(crate) fn fresh_client() -> Result<SrpClient, Error> {
    let mut a = Zeroizing::new([0u8; SECRET_EXPONENT_LEN]);
    while a.iter().all(|&b| b == 0) {
        getrandom::fill(&mut a[..]).map_err(Error::Random)?;
    }
    Ok(SrpClient::new(&a[..])?)
}

/// `TIMESTAMP` for now, from the system clock (docs/protocol.md §6).
pub(crate) fn now_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format_timestamp(secs)
}

#[cfg(test)]
#[path = "signin_tests.rs"]
mod tests;
