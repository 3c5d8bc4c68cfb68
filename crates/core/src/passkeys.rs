//! Passkeys (docs/passkeys.md; what Cognito does is in docs/design/passkeys-cognito-behaviour.md):
//! the pool's relying party, StartWebAuthnRegistration / CompleteWebAuthnRegistration,
//! ListWebAuthnCredentials, DeleteWebAuthnCredential, and the WEB_AUTHN first factor's
//! options and assertion check (auth/choice_flow.rs asks for them).
//!
//! The WebAuthn checks themselves are webauthn-rs-core's: the challenge, the origin, the RP id
//! hash, the user presence and verification flags, the attestation (`none`, `packed` self or
//! with certificates; ES256 and RS256) and at sign-in the signature and the counter. Gatehouse
//! writes the options documents in Cognito's form, keeps what it must itself (one pending
//! registration per user, taken once; each credential id once in the pool; at most 20 per user,
//! counted in the store's insert), and checks the origin first so that the refusal names
//! Cognito's exception.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_wire::*;
use serde_json::{json, Value};
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, AuthenticationState, COSEAlgorithm, Credential,
    PublicKeyCredential, RegisterPublicKeyCredential, RegistrationState, UserVerificationPolicy,
};
use webauthn_rs_core::WebauthnCore;

use crate::error::WebAuthnRefusal as Refusal;
use crate::store::{PasskeyRecord, PasskeyRegistrationRecord, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result, StoreError};

/// Passkeys one user may have (Cognito's).
pub const MAX_PASSKEYS: u32 = 20;
/// How long a StartWebAuthnRegistration waits for its completion.
const REGISTRATION_TTL_MS: i64 = 5 * 60_000;
/// The `timeout` of the creation options (Cognito's).
const REGISTRATION_TIMEOUT_MS: u64 = 60_000;
/// The `timeout` of the sign-in's request options (Cognito's: the default Session's life).
const SIGN_IN_TIMEOUT_MS: u64 = 180_000;

fn refused(kind: Refusal, message: &str) -> CoreError {
    CoreError::WebAuthn(kind, message.into())
}

fn invalid_credential() -> CoreError {
    CoreError::InvalidParameter("Credential data is not valid".into())
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url with or without padding.
fn from_b64url(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// SetUserPoolMfaConfig's WebAuthnConfiguration: a relying party id must be a host name that
/// could own passkeys (not an address, not a bare top-level name).
pub(crate) fn check_configuration(w: &WebAuthnConfigurationType) -> Result<()> {
    let Some(id) = w.relying_party_id.as_deref() else {
        return Ok(());
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let is_address = id.parse::<std::net::IpAddr>().is_ok();
    let labels: Vec<&str> = id.split('.').collect();
    let host = labels.iter().all(|l| label_ok(l));
    let owned = id == "localhost" || labels.len() >= 2;
    if is_address || !host || !owned {
        return Err(CoreError::InvalidParameter(format!(
            "RelyingPartyId {id} is not a valid domain for passkeys."
        )));
    }
    Ok(())
}

/// Whether a ceremony at `origin` may use passkeys of `rp_id`: https on the RP id or one of its
/// subdomains, any port; plain http only for `localhost`, which browsers treat as secure.
pub(crate) fn origin_allowed(rp_id: &str, origin: &str) -> bool {
    let Ok(url) = url::Url::parse(origin) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let under = host == rp_id || host.ends_with(&format!(".{rp_id}"));
    match url.scheme() {
        "https" => under,
        "http" => under && rp_id == "localhost",
        _ => false,
    }
}

/// The verifier for `rp_id`: its origins are the ones [`origin_allowed`] admits (checked first
/// by Gatehouse; the crate checks again).
fn verifier(rp_id: &str, timeout_ms: u64) -> WebauthnCore {
    let mut origins = vec![url::Url::parse(&format!("https://{rp_id}")).expect("a host name")];
    if rp_id == "localhost" {
        origins.push(url::Url::parse("http://localhost").expect("localhost"));
    }
    WebauthnCore::new_unsafe_experts_only(
        rp_id,
        rp_id,
        origins,
        std::time::Duration::from_millis(timeout_ms),
        Some(true),
        Some(true),
    )
}

fn policy_of(pool: &UserPoolRecord) -> UserVerificationPolicy {
    match pool
        .mfa
        .web_authn
        .as_ref()
        .and_then(|w| w.user_verification.clone())
    {
        Some(UserVerificationType::Required) => UserVerificationPolicy::Required,
        _ => UserVerificationPolicy::Preferred,
    }
}

fn policy_name(p: &UserVerificationPolicy) -> &'static str {
    match p {
        UserVerificationPolicy::Required => "required",
        _ => "preferred",
    }
}

/// What a browser put in clientDataJSON: the origin and the challenge it signed.
fn client_data(credential: &Value) -> Result<(String, String)> {
    let raw = credential
        .pointer("/response/clientDataJSON")
        .and_then(Value::as_str)
        .and_then(from_b64url)
        .ok_or_else(invalid_credential)?;
    let data: Value = serde_json::from_slice(&raw).map_err(|_| invalid_credential())?;
    let field = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_string);
    Ok((
        field("origin").ok_or_else(invalid_credential)?,
        field("challenge").ok_or_else(invalid_credential)?,
    ))
}

/// The name Cognito gives a passkey from where it lives.
fn friendly_name(attachment: Option<&str>) -> &'static str {
    match attachment {
        Some("cross-platform") => "Roaming passkey",
        Some("platform") => "Platform passkey",
        _ => "Passkey",
    }
}

/// What a registration's verification error means in Cognito's words.
fn registration_refusal(e: webauthn_rs_core::error::WebauthnError) -> CoreError {
    use webauthn_rs_core::error::WebauthnError as E;
    match e {
        E::MismatchedChallenge | E::ChallengeNotFound => refused(
            Refusal::ChallengeNotFound,
            "The passkey registration challenge was not found or has expired.",
        ),
        E::InvalidRPOrigin | E::CredentialCrossOrigin => refused(
            Refusal::OriginNotAllowed,
            "The passkey's origin is not allowed for this user pool's relying party.",
        ),
        E::InvalidRPIDHash => refused(
            Refusal::RelyingPartyMismatch,
            "The passkey was made for another relying party.",
        ),
        E::AttestationNotSupported
        | E::COSEKeyInvalidAlgorithm
        | E::CredentialAlteredAlgFromRequest
        | E::COSEKeyInvalidType
        | E::COSEKeyECDSAInvalidCurve
        | E::COSEKeyRSANEInvalid
        | E::AttestationStatementMapInvalid
        | E::AttestationStatementSigMissing
        | E::AttestationStatementSigInvalid
        | E::AttestationStatementX5CMissing
        | E::AttestationStatementX5CInvalid
        | E::AttestationStatementAlgMissing
        | E::AttestationStatementAlgMismatch
        | E::AttestationStatementAlgInvalid => refused(
            Refusal::CredentialNotSupported,
            "Passkeys from this authenticator are not supported.",
        ),
        _ => invalid_credential(),
    }
}

impl Core {
    pub(crate) fn passkey_store(&self) -> &dyn crate::store::PasskeyStore {
        &*self.store
    }

    /// The pool's relying party id: the one set, else its custom domain, else its prefix
    /// domain's full name; None when it has none of these.
    pub(crate) async fn relying_party_id(&self, pool: &UserPoolRecord) -> Result<Option<String>> {
        if let Some(id) = pool
            .mfa
            .web_authn
            .as_ref()
            .and_then(|w| w.relying_party_id.clone())
        {
            return Ok(Some(id));
        }
        let Some(domain) = self.pools().domain_of_pool(&pool.id).await? else {
            return Ok(None);
        };
        Ok(domain.domain.map(|d| {
            if domain.custom_domain_config.is_some() {
                d
            } else {
                format!("{d}.auth.{}.amazoncognito.com", self.config.region)
            }
        }))
    }

    /// Passkeys need WEB_AUTHN among the pool's first factors.
    fn check_passkeys_enabled(pool: &UserPoolRecord) -> Result<()> {
        if crate::auth::allowed_first_factors(pool).contains(&AuthFactorType::WebAuthn) {
            Ok(())
        } else {
            Err(refused(
                Refusal::NotEnabled,
                "Passkeys are not enabled for this user pool: add WEB_AUTHN to its AllowedFirstAuthFactors.",
            ))
        }
    }

    async fn passkey_relying_party(&self, pool: &UserPoolRecord) -> Result<String> {
        Self::check_passkeys_enabled(pool)?;
        self.relying_party_id(pool).await?.ok_or_else(|| {
            refused(
                Refusal::ConfigurationMissing,
                "The user pool has no relying party id and no domain.",
            )
        })
    }

    /// StartWebAuthnRegistration: creation options in Cognito's form; the registration waits
    /// for its completion (five minutes), replacing any earlier one of the user.
    pub async fn start_web_authn_registration(
        &self,
        req: StartWebAuthnRegistrationRequest,
    ) -> Result<StartWebAuthnRegistrationResponse> {
        let t = self.access_token(&req.access_token).await?;
        let rp_id = self.passkey_relying_party(&t.pool).await?;
        let existing = self
            .passkey_store()
            .passkeys(&t.pool.id, &t.user.username_key)
            .await?;
        if existing.len() >= MAX_PASSKEYS as usize {
            return Err(CoreError::LimitExceeded(format!(
                "A user can register at most {MAX_PASSKEYS} passkeys."
            )));
        }
        let excluded: Vec<Vec<u8>> = existing
            .iter()
            .filter_map(|p| from_b64url(&p.credential_id))
            .collect();
        let policy = policy_of(&t.pool);
        let core = verifier(&rp_id, REGISTRATION_TIMEOUT_MS);
        let builder = core
            .new_challenge_register_builder(
                t.user.sub.as_bytes(),
                &t.user.username,
                &t.user.username,
            )
            .map_err(|e| CoreError::Internal(format!("passkey options: {e}")))?
            .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256])
            .require_resident_key(true)
            .user_verification_policy(policy)
            .attestation(AttestationConveyancePreference::None)
            .exclude_credentials(Some(excluded))
            .extensions(None);
        let (options, state) = core
            .generate_challenge_register(builder)
            .map_err(|e| CoreError::Internal(format!("passkey options: {e}")))?;
        let pending = PasskeyRegistrationRecord {
            pool_id: t.pool.id.clone(),
            username_key: t.user.username_key.clone(),
            client_id: t.client_id.clone(),
            relying_party_id: rp_id.clone(),
            expires_at: self.now_millis() + REGISTRATION_TTL_MS,
            state: serde_json::to_value(&state)
                .map_err(|e| CoreError::Internal(format!("registration state: {e}")))?,
        };
        self.passkey_store()
            .put_passkey_registration(&pending)
            .await?;
        let exclude: Vec<Value> = existing
            .iter()
            .map(|p| json!({"type": "public-key", "id": p.credential_id}))
            .collect();
        Ok(StartWebAuthnRegistrationResponse {
            credential_creation_options: json!({
                "rp": {"id": rp_id, "name": rp_id},
                "user": {
                    "id": b64url(t.user.sub.as_bytes()),
                    "name": t.user.username,
                    "displayName": t.user.username,
                },
                "challenge": b64url(&options.public_key.challenge),
                "pubKeyCredParams": [
                    {"type": "public-key", "alg": -7},
                    {"type": "public-key", "alg": -257},
                ],
                "timeout": REGISTRATION_TIMEOUT_MS,
                "excludeCredentials": exclude,
                "authenticatorSelection": {
                    "residentKey": "required",
                    "requireResidentKey": true,
                    "userVerification": policy_name(&policy),
                },
            }),
        })
    }

    /// CompleteWebAuthnRegistration: the browser's RegistrationResponseJSON verified against
    /// the user's pending registration, which it spends whatever the outcome.
    pub async fn complete_web_authn_registration(
        &self,
        req: CompleteWebAuthnRegistrationRequest,
    ) -> Result<CompleteWebAuthnRegistrationResponse> {
        let t = self.access_token(&req.access_token).await?;
        Self::check_passkeys_enabled(&t.pool)?;
        let not_found = || {
            refused(
                Refusal::ChallengeNotFound,
                "The passkey registration challenge was not found or has expired.",
            )
        };
        let pending = self
            .passkey_store()
            .take_passkey_registration(&t.pool.id, &t.user.username_key)
            .await?
            .filter(|p| p.expires_at > self.now_millis())
            .ok_or_else(not_found)?;
        if pending.client_id != t.client_id {
            return Err(refused(
                Refusal::ClientMismatch,
                "The passkey registration was started by another app client.",
            ));
        }
        let rp_id = &pending.relying_party_id;
        let (origin, challenge) = client_data(&req.credential)?;
        if !origin_allowed(rp_id, &origin) {
            return Err(refused(
                Refusal::OriginNotAllowed,
                "The passkey's origin is not allowed for this user pool's relying party.",
            ));
        }
        let state: RegistrationState = serde_json::from_value(pending.state.clone())
            .map_err(|e| CoreError::Internal(format!("registration state: {e}")))?;
        let expected = serde_json::to_value(&state).ok().and_then(|s| {
            s.get("challenge")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
        if expected.as_deref().map(|c| c.trim_end_matches('='))
            != Some(challenge.trim_end_matches('='))
        {
            return Err(not_found());
        }
        let registration: RegisterPublicKeyCredential =
            serde_json::from_value(req.credential.clone()).map_err(|_| invalid_credential())?;
        // The verifier reports an excluded (already registered) id as an altered algorithm.
        let presented = b64url(registration.raw_id.as_ref());
        if self
            .passkey_store()
            .passkeys(&t.pool.id, &t.user.username_key)
            .await?
            .iter()
            .any(|p| p.credential_id == presented)
        {
            return Err(CoreError::InvalidParameter(
                "This passkey is registered already.".into(),
            ));
        }
        let mut credential = verifier(rp_id, REGISTRATION_TIMEOUT_MS)
            .register_credential(&registration, &state, None)
            .map_err(registration_refusal)?;
        // Under `preferred`, later sign-ins need not verify the user, whatever this one did.
        if policy_of(&t.pool) != UserVerificationPolicy::Required {
            credential.user_verified = false;
        }
        let attachment = req
            .credential
            .get("authenticatorAttachment")
            .and_then(Value::as_str)
            .filter(|a| ["platform", "cross-platform"].contains(a))
            .map(str::to_string);
        let transports: Vec<String> = req
            .credential
            .pointer("/response/transports")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .take(8)
                    .map(|s| s.chars().take(32).collect())
                    .collect()
            })
            .unwrap_or_default();
        let passkey = PasskeyRecord {
            pool_id: t.pool.id.clone(),
            username_key: t.user.username_key.clone(),
            credential_id: b64url(&credential.cred_id),
            relying_party_id: rp_id.clone(),
            friendly_name: friendly_name(attachment.as_deref()).into(),
            attachment,
            transports,
            created_at: self.now_millis(),
            counter: credential.counter,
            credential: serde_json::to_value(&credential)
                .map_err(|e| CoreError::Internal(format!("credential: {e}")))?,
        };
        match self
            .passkey_store()
            .insert_passkey(&passkey, MAX_PASSKEYS)
            .await
        {
            Ok(()) => Ok(CompleteWebAuthnRegistrationResponse {}),
            Err(StoreError::Conflict) => Err(CoreError::InvalidParameter(
                "This passkey is registered already.".into(),
            )),
            Err(StoreError::LimitReached) => Err(CoreError::LimitExceeded(format!(
                "A user can register at most {MAX_PASSKEYS} passkeys."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list_web_authn_credentials(
        &self,
        req: ListWebAuthnCredentialsRequest,
    ) -> Result<ListWebAuthnCredentialsResponse> {
        let t = self.access_token(&req.access_token).await?;
        let limit = req
            .max_results
            .filter(|m| *m > 0)
            .unwrap_or(MAX_PASSKEYS as i32) as usize;
        let all = self
            .passkey_store()
            .passkeys(&t.pool.id, &t.user.username_key)
            .await?;
        let start = match crate::pagination::decode(req.next_token.as_deref())? {
            Some(after) => {
                all.iter()
                    .position(|p| p.credential_id == after)
                    .ok_or_else(|| {
                        CoreError::InvalidParameter("Invalid pagination token.".into())
                    })?
                    + 1
            }
            None => 0,
        };
        let mut page: Vec<&PasskeyRecord> = all.iter().skip(start).take(limit + 1).collect();
        let next_token = (page.len() > limit).then(|| {
            page.truncate(limit);
            crate::pagination::encode(&page[limit - 1].credential_id)
        });
        Ok(ListWebAuthnCredentialsResponse {
            credentials: page
                .into_iter()
                .map(|p| WebAuthnCredentialDescription {
                    credential_id: p.credential_id.clone(),
                    friendly_credential_name: p.friendly_name.clone(),
                    relying_party_id: p.relying_party_id.clone(),
                    authenticator_attachment: p.attachment.clone(),
                    authenticator_transports: p.transports.clone(),
                    created_at: p.created_at as f64 / 1000.0,
                })
                .collect(),
            next_token,
        })
    }

    pub async fn delete_web_authn_credential(
        &self,
        req: DeleteWebAuthnCredentialRequest,
    ) -> Result<DeleteWebAuthnCredentialResponse> {
        let t = self.access_token(&req.access_token).await?;
        let id = req.credential_id.trim_end_matches('=');
        if !self
            .passkey_store()
            .delete_passkey(&t.pool.id, &t.user.username_key, id)
            .await?
        {
            return Err(CoreError::ResourceNotFound(
                "The user has no passkey with this id.".into(),
            ));
        }
        Ok(DeleteWebAuthnCredentialResponse {})
    }

    /// A user's passkeys for the console (Cognito has no admin operation that lists them).
    pub async fn console_passkeys(
        &self,
        pool_id: &str,
        username: &str,
    ) -> Result<Vec<WebAuthnCredentialDescription>> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_or_not_found(&pool, username).await?;
        let all = self
            .passkey_store()
            .passkeys(&pool.id, &user.username_key)
            .await?;
        Ok(all
            .into_iter()
            .map(|p| WebAuthnCredentialDescription {
                created_at: p.created_at as f64 / 1000.0,
                credential_id: p.credential_id,
                friendly_credential_name: p.friendly_name,
                relying_party_id: p.relying_party_id,
                authenticator_attachment: p.attachment,
                authenticator_transports: p.transports,
            })
            .collect())
    }

    /// The user's passkeys under the pool's relying party now (a changed RP id leaves the
    /// older ones unusable, as on Cognito).
    pub(crate) async fn usable_passkeys(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
    ) -> Result<Vec<PasskeyRecord>> {
        if Self::check_passkeys_enabled(pool).is_err() {
            return Ok(Vec::new());
        }
        let Some(rp_id) = self.relying_party_id(pool).await? else {
            return Ok(Vec::new());
        };
        let all = self
            .passkey_store()
            .passkeys(&pool.id, &user.username_key)
            .await?;
        Ok(all
            .into_iter()
            .filter(|p| p.relying_party_id == rp_id)
            .collect())
    }

    /// The WEB_AUTHN challenge's request options (CREDENTIAL_REQUEST_OPTIONS) for `passkeys`, and
    /// the verifier's state to keep with the sign-in (without the credentials: they are read
    /// again when the assertion comes).
    pub(crate) fn passkey_request(
        &self,
        pool: &UserPoolRecord,
        passkeys: &[PasskeyRecord],
    ) -> Result<(String, Value)> {
        let rp_id = passkeys
            .first()
            .map(|p| p.relying_party_id.clone())
            .ok_or_else(|| CoreError::Internal("no passkey to ask for".into()))?;
        let credentials = passkeys
            .iter()
            .map(|p| serde_json::from_value::<Credential>(p.credential.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| CoreError::Internal(format!("stored passkey: {e}")))?;
        let policy = policy_of(pool);
        let core = verifier(&rp_id, SIGN_IN_TIMEOUT_MS);
        let builder = core
            .new_challenge_authenticate_builder(credentials, Some(policy))
            .map_err(|e| CoreError::Internal(format!("passkey request: {e}")))?
            .allow_backup_eligible_upgrade(true);
        let (request, mut state) = core
            .generate_challenge_authenticate(builder)
            .map_err(|e| CoreError::Internal(format!("passkey request: {e}")))?;
        state.set_allowed_credentials(Vec::new());
        let allow: Vec<Value> = passkeys
            .iter()
            .map(|p| json!({"type": "public-key", "id": p.credential_id, "transports": p.transports}))
            .collect();
        let options = json!({
            "challenge": b64url(&request.public_key.challenge),
            "timeout": SIGN_IN_TIMEOUT_MS,
            "rpId": rp_id,
            "allowCredentials": allow,
            "userVerification": policy_name(&policy),
        });
        let state = serde_json::to_value(&state)
            .map_err(|e| CoreError::Internal(format!("authentication state: {e}")))?;
        Ok((options.to_string(), state))
    }

    /// A WEB_AUTHN answer: the assertion (`CREDENTIAL`, an AuthenticationResponseJSON) made by
    /// one of `user`'s passkeys over the sign-in's challenge, at an allowed origin, with user
    /// presence (and verification where the pool requires it), and a signature counter above
    /// the last one seen (unless the authenticator keeps none). The counter is raised.
    pub(crate) async fn check_passkey_assertion(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        state: &Value,
        credential: &str,
    ) -> Result<()> {
        let refused = || CoreError::NotAuthorized("Incorrect passkey.".into());
        let raw: Value = serde_json::from_str(credential).map_err(|_| invalid_credential())?;
        let assertion: PublicKeyCredential =
            serde_json::from_value(raw.clone()).map_err(|_| invalid_credential())?;
        if assertion
            .get_user_unique_id()
            .is_some_and(|h| h != user.sub.as_bytes())
        {
            return Err(refused());
        }
        let id = b64url(assertion.get_credential_id());
        let passkeys = self.usable_passkeys(pool, user).await?;
        let passkey = passkeys
            .into_iter()
            .find(|p| p.credential_id == id)
            .ok_or_else(refused)?;
        let (origin, _) = client_data(&raw)?;
        if !origin_allowed(&passkey.relying_party_id, &origin) {
            return Err(refused());
        }
        let mut stored: Credential = serde_json::from_value(passkey.credential.clone())
            .map_err(|e| CoreError::Internal(format!("stored passkey: {e}")))?;
        stored.counter = passkey.counter;
        let mut state: AuthenticationState = serde_json::from_value(state.clone())
            .map_err(|e| CoreError::Internal(format!("authentication state: {e}")))?;
        state.set_allowed_credentials(vec![stored.clone()]);
        let result = verifier(&passkey.relying_party_id, SIGN_IN_TIMEOUT_MS)
            .authenticate_credential(&assertion, &state)
            .map_err(|_| refused())?;
        if result.needs_update() {
            stored.counter = stored.counter.max(result.counter());
            stored.backup_state = result.backup_state();
            stored.backup_eligible = result.backup_eligible();
            let mut updated = passkey.clone();
            updated.credential = serde_json::to_value(&stored)
                .map_err(|e| CoreError::Internal(format!("credential: {e}")))?;
            // A simultaneous sign-in that raised it further wins; a count not above the one
            // stored was refused by the verifier already.
            if result.counter() > passkey.counter
                && !self
                    .passkey_store()
                    .raise_passkey_counter(&updated, result.counter())
                    .await?
            {
                return Err(refused());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_the_relying_party_and_its_subdomains_over_https() {
        assert!(origin_allowed(
            "auth.example.com",
            "https://auth.example.com"
        ));
        assert!(origin_allowed(
            "auth.example.com",
            "https://app.auth.example.com:8443"
        ));
        assert!(!origin_allowed(
            "auth.example.com",
            "http://auth.example.com"
        ));
        assert!(!origin_allowed(
            "auth.example.com",
            "https://evil-auth.example.com"
        ));
        assert!(!origin_allowed("auth.example.com", "https://example.com"));
        assert!(origin_allowed("localhost", "http://localhost:5173"));
        assert!(!origin_allowed("localhost", "http://127.0.0.1:5173"));
        assert!(!origin_allowed(
            "auth.example.com",
            "android:apk-key-hash:abc"
        ));
    }

    #[test]
    fn relying_party_ids_are_host_names_that_can_own_passkeys() {
        let rp = |id: &str| WebAuthnConfigurationType {
            relying_party_id: Some(id.into()),
            ..Default::default()
        };
        for ok in ["localhost", "auth.example.com", "example.co.uk"] {
            assert!(check_configuration(&rp(ok)).is_ok(), "{ok}");
        }
        for bad in [
            "com",
            "127.0.0.1",
            "Auth.Example.com",
            "a..b",
            "https://x.com",
            "-a.com",
        ] {
            assert!(check_configuration(&rp(bad)).is_err(), "{bad}");
        }
    }
}
