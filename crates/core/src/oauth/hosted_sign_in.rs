//! The hosted pages' sign-in, and browsers remembered as devices.
//!
//! The pages are a client of the same sign-in the API runs (auth/): the password step as
//! USER_PASSWORD_AUTH, then whatever challenge the user's state calls for (new password, MFA,
//! MFA set-up), answered from the pages' forms. The pages hold the client's secret, so they send
//! SECRET_HASH as an SDK app would.
//!
//! A browser is a device, exactly as device tracking treats SDK apps: when a sign-in issues a
//! new device key, the server confirms it for the browser (a fresh device password, its salt and
//! verifier stored by ConfirmDevice, named after the User-Agent) and keeps key, group key and
//! password in a sealed, HttpOnly cookie. A later sign-in presents that key; when the pool
//! skips MFA for remembered devices, the server answers DEVICE_SRP_AUTH with the cookie's
//! password, so the device's stored verifier is what decides. User opt-in asks the user
//! ([`DevicePrompt`]); Always remembers at once. A forgotten device is a new device again.

use std::collections::BTreeMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_srp::{
    base64_decode, format_timestamp, secret_hash, ClaimMessage, DeviceSecret, PublicValue, Salt,
    SrpClient, SrpIdentity,
};
use gatehouse_wire::{
    AuthenticationResultType, ChallengeNameType, ConfirmDeviceRequest,
    ConfirmForgotPasswordRequest, ConfirmSignUpRequest, DeviceSecretVerifierConfigType,
    ForgotPasswordRequest, ForgotPasswordResponse, NewDeviceMetadataType, SignUpRequest,
    SignUpResponse,
};
use serde::{Deserialize, Serialize};

use super::authorize::Authorization;
use crate::auth::AuthStep;
use crate::server_key::Sealed;
use crate::store::{AppClientRecord, UserPoolRecord};
use crate::{Caller, Core, CoreError, Result};

/// How long the remember-this-device question waits for its answer.
const PROMPT_TTL_MS: i64 = 10 * 60_000;
/// Users one browser keeps devices for, per pool (the cookie stays small).
const MAX_USERS: usize = 8;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BrowserDevice {
    #[serde(rename = "k")]
    key: String,
    #[serde(rename = "g")]
    group: String,
    #[serde(rename = "p")]
    password: String,
    /// When it was last used (epoch ms): the oldest goes first when the cookie is full.
    #[serde(rename = "t")]
    used_at: i64,
}

/// A browser's devices in one pool, per user (username key): the cookie's content.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BrowserDevices {
    #[serde(rename = "d", default)]
    devices: BTreeMap<String, BrowserDevice>,
    #[serde(skip)]
    changed: bool,
}

impl BrowserDevices {
    /// Whether the cookie must be written again.
    pub fn changed(&self) -> bool {
        self.changed
    }
}

/// A sign-in's next page.
#[derive(Debug)]
pub enum HostedStep {
    /// Signed in. `prompt`: User opt-in wants the remember-this-device question asked first.
    SignedIn {
        tokens: AuthenticationResultType,
        prompt: Option<DevicePrompt>,
    },
    /// A challenge to show: its name, `Session`, parameters, and the user's name (USERNAME of
    /// the answer).
    Challenge {
        name: ChallengeNameType,
        session: String,
        parameters: BTreeMap<String, String>,
        username: String,
    },
}

/// The remember-this-device question: which device, whose.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevicePrompt {
    #[serde(rename = "p")]
    pool_id: String,
    #[serde(rename = "u")]
    username_key: String,
    #[serde(rename = "k")]
    device_key: String,
    /// Where the browser goes after the answer (the authorization's redirect).
    #[serde(rename = "r", default)]
    redirect: String,
    #[serde(rename = "x", default)]
    expires_at: i64,
}

/// "Chrome on Linux": what a browser's User-Agent says it is.
pub fn browser_name(user_agent: &str) -> String {
    let ua = user_agent;
    let browser = if ua.contains("Edg/") {
        "Edge"
    } else if ua.contains("OPR/") {
        "Opera"
    } else if ua.contains("Firefox/") {
        "Firefox"
    } else if ua.contains("Chrome/") || ua.contains("Chromium/") || ua.contains("CriOS/") {
        "Chrome"
    } else if ua.contains("Safari/") {
        "Safari"
    } else {
        "Browser"
    };
    let os = if ua.contains("Android") {
        "Android"
    } else if ua.contains("iPhone") || ua.contains("iPad") {
        "iOS"
    } else if ua.contains("Windows") {
        "Windows"
    } else if ua.contains("Mac OS X") || ua.contains("Macintosh") {
        "macOS"
    } else if ua.contains("CrOS") {
        "ChromeOS"
    } else if ua.contains("Linux") {
        "Linux"
    } else {
        "an unknown system"
    };
    format!("{browser} on {os}")
}

impl Core {
    /// The browser's devices in `pool_id` from its cookie; a cookie that does not open (another
    /// server key, tampered, another pool's) counts as none.
    pub fn open_browser_devices(&self, pool_id: &str, cookie: Option<&str>) -> BrowserDevices {
        cookie
            .and_then(|c| URL_SAFE_NO_PAD.decode(c).ok())
            .and_then(|sealed| self.server_key.open(Sealed::BrowserDevices, &sealed))
            .and_then(|plain| serde_json::from_slice::<(String, BrowserDevices)>(&plain).ok())
            .filter(|(pool, _)| pool == pool_id)
            .map(|(_, d)| d)
            .unwrap_or_default()
    }

    /// The cookie's value for `devices`.
    pub fn seal_browser_devices(&self, pool_id: &str, devices: &BrowserDevices) -> String {
        let plain = serde_json::to_vec(&(pool_id, devices)).expect("devices serialise");
        URL_SAFE_NO_PAD.encode(self.server_key.seal(
            self.entropy.as_ref(),
            Sealed::BrowserDevices,
            &plain,
        ))
    }

    async fn hosted_client(
        &self,
        authz: &Authorization,
    ) -> Result<(UserPoolRecord, AppClientRecord)> {
        let (client, pool) = self.client_and_pool(&authz.client_id).await?;
        Ok((pool, client))
    }

    /// The sign-in form: username and password.
    pub async fn hosted_sign_in(
        &self,
        authz: &Authorization,
        username: &str,
        password: &str,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<HostedStep> {
        let (pool, client) = self.hosted_client(authz).await?;
        let mut params = BTreeMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("PASSWORD".to_string(), password.to_string()),
        ]);
        // The browser presents its device of this user, if it has one.
        let user = self.find_user(&pool, username).await?;
        if let Some(d) = user
            .as_ref()
            .and_then(|u| devices.devices.get(&u.username_key))
        {
            params.insert("DEVICE_KEY".into(), d.key.clone());
        }
        add_secret_hash(&client, username, &mut params);
        let step = self
            .hosted_password_step(caller, &pool, &client, &params)
            .await?;
        let name = user.map_or(username.to_string(), |u| u.username);
        self.hosted_follow(&pool, &client, &name, step, devices, caller)
            .await
    }

    /// Whether the sign-in page offers passkeys: the pool takes them and has a relying party.
    pub async fn hosted_offers_passkeys(&self, authz: &Authorization) -> bool {
        let Ok((pool, _)) = self.hosted_client(authz).await else {
            return false;
        };
        crate::auth::allowed_first_factors(&pool)
            .contains(&gatehouse_wire::AuthFactorType::WebAuthn)
            && matches!(self.relying_party_id(&pool).await, Ok(Some(_)))
    }

    /// The sign-in page's passkey button: the WEB_AUTHN challenge for the user named (docs/
    /// passkeys.md), answered by the browser's `navigator.credentials.get` on the next page.
    pub async fn hosted_passkey_start(
        &self,
        authz: &Authorization,
        username: &str,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<HostedStep> {
        let (pool, client) = self.hosted_client(authz).await?;
        let mut params = BTreeMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("PREFERRED_CHALLENGE".to_string(), "WEB_AUTHN".to_string()),
        ]);
        add_secret_hash(&client, username, &mut params);
        let step = self
            .hosted_user_auth_step(caller, &pool, &client, &params)
            .await?;
        // A user without a passkey here (or a stranger) gets the menu: the same refusal.
        if step.challenge_name != Some(ChallengeNameType::WebAuthn) {
            return Err(CoreError::NotAuthorized(
                "No passkey can sign in this user here.".into(),
            ));
        }
        let name = match self.find_user(&pool, username).await? {
            Some(u) => u.username,
            None => username.to_string(),
        };
        self.hosted_follow(&pool, &client, &name, step, devices, caller)
            .await
    }

    /// An answer to a challenge page (`answers` as RespondToAuthChallenge's ChallengeResponses,
    /// without USERNAME and SECRET_HASH, which are added here).
    #[allow(clippy::too_many_arguments)]
    pub async fn hosted_answer(
        &self,
        authz: &Authorization,
        challenge: ChallengeNameType,
        session: &str,
        username: &str,
        mut answers: BTreeMap<String, String>,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<HostedStep> {
        let (pool, client) = self.hosted_client(authz).await?;
        answers.insert("USERNAME".into(), username.to_string());
        add_secret_hash(&client, username, &mut answers);
        // A passkey sign-in began without the browser's device: it is presented with the answer.
        if challenge == ChallengeNameType::WebAuthn {
            if let Some(d) = self
                .find_user(&pool, username)
                .await?
                .and_then(|u| devices.devices.get(&u.username_key).cloned())
            {
                answers.insert("DEVICE_KEY".into(), d.key);
            }
        }
        let step = self
            .hosted_respond(caller, &pool, &client, challenge, Some(session), &answers)
            .await?;
        self.hosted_follow(&pool, &client, username, step, devices, caller)
            .await
    }

    /// MFA set-up on the hosted pages (MFA_SETUP with an authenticator app): a new secret for
    /// the page to show, as text and as an `otpauth://` URI for a QR code, and the sign-in's
    /// Session to carry on (AssociateSoftwareToken with a Session).
    pub async fn hosted_totp_secret(
        &self,
        authz: &Authorization,
        session: &str,
        username: &str,
    ) -> Result<(String, String, String)> {
        let (pool, _) = self.hosted_client(authz).await?;
        let (secret, session) = self.associate_software_token_in_sign_in(session).await?;
        let issuer = pool.pool.name.clone().unwrap_or_else(|| pool.id.clone());
        let enc = |s: &str| {
            form_urlencoded::byte_serialize(s.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        };
        let uri = format!(
            "otpauth://totp/{}:{}?secret={secret}&issuer={}",
            enc(&issuer),
            enc(username),
            enc(&issuer)
        );
        Ok((secret, session, uri))
    }

    /// The set-up page's code: VerifySoftwareToken with the Session, then MFA_SETUP answered.
    #[allow(clippy::too_many_arguments)]
    pub async fn hosted_totp_setup(
        &self,
        authz: &Authorization,
        session: &str,
        username: &str,
        code: &str,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<HostedStep> {
        let session = self
            .verify_software_token_in_sign_in(session, code, Some("Authenticator app".into()))
            .await?;
        self.hosted_answer(
            authz,
            ChallengeNameType::MfaSetup,
            &session,
            username,
            BTreeMap::new(),
            devices,
            caller,
        )
        .await
    }

    /// The attributes the sign-up page asks for besides username and password: those the
    /// pool requires, but `sub`, which the pool assigns (a pool that signs in with emails or phone numbers takes the username as
    /// that attribute).
    pub async fn hosted_sign_up_fields(&self, authz: &Authorization) -> Result<Vec<String>> {
        let (pool, _) = self.hosted_client(authz).await?;
        let by_username: Vec<String> = pool
            .pool
            .username_attributes
            .iter()
            .flatten()
            .map(|a| a.as_str().to_string())
            .collect();
        Ok(pool
            .pool
            .schema_attributes
            .iter()
            .flatten()
            .filter(|a| a.required == Some(true))
            .filter_map(|a| a.name.clone())
            .filter(|n| n != "sub" && !by_username.contains(n))
            .collect())
    }

    /// SignUp from the hosted page: the request as the API validated it, for the
    /// authorization's client, with its SECRET_HASH.
    pub async fn hosted_sign_up(
        &self,
        caller: &Caller,
        authz: &Authorization,
        mut req: SignUpRequest,
    ) -> Result<SignUpResponse> {
        let (_, client) = self.hosted_client(authz).await?;
        req.client_id = client.client_id.clone();
        req.secret_hash = client_secret_hash(&client, &req.username);
        self.sign_up(caller, req).await
    }

    /// ConfirmSignUp from the hosted page.
    pub async fn hosted_confirm_sign_up(
        &self,
        authz: &Authorization,
        mut req: ConfirmSignUpRequest,
    ) -> Result<()> {
        let (_, client) = self.hosted_client(authz).await?;
        req.client_id = client.client_id.clone();
        req.secret_hash = client_secret_hash(&client, &req.username);
        self.confirm_sign_up(req).await.map(|_| ())
    }

    /// ForgotPassword from the hosted page.
    pub async fn hosted_forgot_password(
        &self,
        caller: &Caller,
        authz: &Authorization,
        mut req: ForgotPasswordRequest,
    ) -> Result<ForgotPasswordResponse> {
        let (_, client) = self.hosted_client(authz).await?;
        req.client_id = client.client_id.clone();
        req.secret_hash = client_secret_hash(&client, &req.username);
        self.forgot_password(caller, req).await
    }

    /// ConfirmForgotPassword from the hosted page.
    pub async fn hosted_confirm_forgot_password(
        &self,
        caller: &Caller,
        authz: &Authorization,
        mut req: ConfirmForgotPasswordRequest,
    ) -> Result<()> {
        let (_, client) = self.hosted_client(authz).await?;
        req.client_id = client.client_id.clone();
        req.secret_hash = client_secret_hash(&client, &req.username);
        self.confirm_forgot_password(caller, req).await.map(|_| ())
    }

    /// Goes on from a sign-in step: device SRP answered for the browser, a new device confirmed
    /// for it, or the challenge page to show.
    async fn hosted_follow(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        username: &str,
        mut step: AuthStep,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<HostedStep> {
        if step.challenge_name == Some(ChallengeNameType::DeviceSrpAuth) {
            step = self
                .browser_device_srp(pool, client, username, step, devices, caller)
                .await?;
        }
        if let Some(mut tokens) = step.authentication_result {
            let prompt = match tokens.new_device_metadata.take() {
                Some(meta) => {
                    self.confirm_browser_device(pool, &tokens, meta, devices, caller)
                        .await?
                }
                None => None,
            };
            return Ok(HostedStep::SignedIn { tokens, prompt });
        }
        let (Some(name), Some(session)) = (step.challenge_name, step.session) else {
            return Err(CoreError::Internal(
                "a sign-in step without a challenge".into(),
            ));
        };
        Ok(HostedStep::Challenge {
            name,
            session,
            parameters: step.challenge_parameters.unwrap_or_default(),
            username: username.to_string(),
        })
    }

    /// DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER, answered with the device password from the
    /// browser's cookie.
    async fn browser_device_srp(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        username: &str,
        step: AuthStep,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<AuthStep> {
        let user = self
            .find_user(pool, username)
            .await?
            .ok_or_else(CoreError::user_not_found)?;
        let device = devices
            .devices
            .get_mut(&user.username_key)
            .ok_or_else(|| CoreError::Internal("device SRP without the browser's device".into()))?;
        let mut a = [0u8; 32];
        self.entropy.fill(&mut a);
        let srp = SrpClient::new(&a).map_err(|_| CoreError::Internal("SRP".into()))?;
        let mut answers = BTreeMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("DEVICE_KEY".to_string(), device.key.clone()),
            ("SRP_A".to_string(), srp.srp_a_hex()),
        ]);
        add_secret_hash(client, username, &mut answers);
        let challenge = self
            .hosted_respond(
                caller,
                pool,
                client,
                ChallengeNameType::DeviceSrpAuth,
                step.session.as_deref(),
                &answers,
            )
            .await?;
        let params = challenge.challenge_parameters.unwrap_or_default();
        let param = |k: &str| params.get(k).map(String::as_str).unwrap_or_default();
        let bad = |_| CoreError::Internal("device SRP challenge".into());
        let salt = Salt::from_hex(param("SALT")).map_err(bad)?;
        let srp_b = PublicValue::from_hex(param("SRP_B")).map_err(bad)?;
        let block = base64_decode(param("SECRET_BLOCK")).map_err(bad)?;
        let timestamp = format_timestamp(self.now_millis() / 1000);
        let msg = ClaimMessage {
            identity: SrpIdentity::device(&device.group, &device.key),
            secret_block: &block,
            timestamp: &timestamp,
        };
        let signature = srp
            .claim_signature(&device.password, &salt, &srp_b, &msg)
            .map_err(bad)?;
        let mut answers = BTreeMap::from([
            ("USERNAME".to_string(), username.to_string()),
            ("DEVICE_KEY".to_string(), device.key.clone()),
            ("PASSWORD_CLAIM_SIGNATURE".to_string(), signature),
            (
                "PASSWORD_CLAIM_SECRET_BLOCK".to_string(),
                param("SECRET_BLOCK").to_string(),
            ),
            ("TIMESTAMP".to_string(), timestamp.clone()),
        ]);
        add_secret_hash(client, username, &mut answers);
        device.used_at = self.now_millis();
        devices.changed = true;
        self.hosted_respond(
            caller,
            pool,
            client,
            ChallengeNameType::DevicePasswordVerifier,
            challenge.session.as_deref(),
            &answers,
        )
        .await
    }

    /// ConfirmDevice for the browser: a device password only the cookie keeps. Returns the
    /// question to ask when the pool lets the user decide.
    async fn confirm_browser_device(
        &self,
        pool: &UserPoolRecord,
        tokens: &AuthenticationResultType,
        meta: NewDeviceMetadataType,
        devices: &mut BrowserDevices,
        caller: &Caller,
    ) -> Result<Option<DevicePrompt>> {
        let (Some(key), Some(group), Some(access)) = (
            meta.device_key,
            meta.device_group_key,
            tokens.access_token.as_deref(),
        ) else {
            return Ok(None);
        };
        let mut r40 = zeroize::Zeroizing::new([0u8; 40]);
        let mut r16 = [0u8; 16];
        self.entropy.fill(&mut r40[..]);
        self.entropy.fill(&mut r16);
        let secret = DeviceSecret::generate(&group, &key, &r40, &r16);
        let config = secret.verifier_config();
        let name = caller.user_agent.as_deref().map(browser_name);
        let confirmed = self
            .confirm_device(
                caller,
                ConfirmDeviceRequest {
                    access_token: access.to_string(),
                    device_key: key.clone(),
                    device_name: name,
                    device_secret_verifier_config: Some(DeviceSecretVerifierConfigType {
                        password_verifier: Some(config.password_verifier),
                        salt: Some(config.salt),
                    }),
                },
            )
            .await?;
        let user = self
            .access_token(access)
            .await
            .map_err(|_| CoreError::Internal("the new sign-in's token".into()))?
            .user;
        devices.devices.insert(
            user.username_key.clone(),
            BrowserDevice {
                key: key.clone(),
                group,
                password: secret.device_password().to_string(),
                used_at: self.now_millis(),
            },
        );
        while devices.devices.len() > MAX_USERS {
            let oldest = devices
                .devices
                .iter()
                .min_by_key(|(_, d)| d.used_at)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                devices.devices.remove(&k);
            }
        }
        devices.changed = true;
        Ok(
            (confirmed.user_confirmation_necessary == Some(true)).then(|| DevicePrompt {
                pool_id: pool.id.clone(),
                username_key: user.username_key,
                device_key: key,
                redirect: String::new(),
                expires_at: 0,
            }),
        )
    }

    /// The question's hidden form value: sealed, with where the browser goes after the answer.
    pub fn seal_device_prompt(&self, prompt: &DevicePrompt, redirect: &str) -> String {
        let mut p = prompt.clone();
        p.redirect = redirect.to_string();
        p.expires_at = self.now_millis() + PROMPT_TTL_MS;
        let plain = serde_json::to_vec(&p).expect("prompt serialises");
        URL_SAFE_NO_PAD.encode(self.server_key.seal(
            self.entropy.as_ref(),
            Sealed::DevicePrompt,
            &plain,
        ))
    }

    /// The user's answer: the device is remembered or not (UpdateDeviceStatus's rule). Returns
    /// where the browser goes next.
    pub async fn answer_device_prompt(&self, sealed: &str, remember: bool) -> Result<String> {
        let prompt: DevicePrompt = URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()
            .and_then(|s| self.server_key.open(Sealed::DevicePrompt, &s))
            .and_then(|p| serde_json::from_slice(&p).ok())
            .filter(|p: &DevicePrompt| p.expires_at > self.now_millis())
            .ok_or_else(|| CoreError::NotAuthorized("The sign-in has expired.".into()))?;
        self.set_browser_device_remembered(
            &prompt.pool_id,
            &prompt.username_key,
            &prompt.device_key,
            remember,
        )
        .await?;
        Ok(prompt.redirect)
    }
}

fn client_secret_hash(client: &AppClientRecord, username: &str) -> Option<String> {
    crate::client_secrets::signing_secret(client)
        .map(|secret| secret_hash(&secret, username, &client.client_id))
}

fn add_secret_hash(
    client: &AppClientRecord,
    username: &str,
    params: &mut BTreeMap<String, String>,
) {
    if let Some(hash) = client_secret_hash(client, username) {
        params.insert("SECRET_HASH".into(), hash);
    }
}

#[cfg(test)]
mod tests {
    use super::browser_name;

    #[test]
    fn browsers_are_named_after_their_user_agent() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36";
        assert_eq!(browser_name(chrome), "Chrome on Linux");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(browser_name(firefox), "Firefox on Windows");
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(browser_name(safari), "Safari on iOS");
    }
}
