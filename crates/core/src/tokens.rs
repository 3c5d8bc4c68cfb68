//! ID and access tokens: RS256 JWTs signed with per-pool keys, the JWKS and OpenID discovery
//! documents, and the checks an access token passes before a user operation runs.
//!
//! Each pool has two RSA-2048 keys (access and ID tokens are signed with different keys, as
//! Cognito does), generated with the pool; private keys are stored sealed with the server key.
//! Parsed key objects are cached per pool: parsing a key costs more than a signature.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, ParsedPublicKey, RsaKeyPair, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use gatehouse_wire::{AuthenticationResultType, TimeUnitsType, UserPoolClientType};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::server_key::Sealed;
use crate::store::{AuthSessionRecord, SigningKeyRecord, UserPoolRecord, UserRecord};
use crate::triggers::{Claims, TokenSource};
use crate::verified_tokens::TokenClaims;
use crate::{Core, CoreError, Result};

/// The `scope` of tokens issued by the user-pool API (not OAuth).
pub const API_SCOPE: &str = "aws.cognito.signin.user.admin";

struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
}

/// One pool's keys, parsed once.
pub(crate) struct PoolKeys {
    access: SigningKey,
    id: SigningKey,
    verifiers: Vec<(String, ParsedPublicKey)>,
    jwks: Value,
}

/// Parsed keys per pool id.
#[derive(Default)]
pub(crate) struct KeyCache {
    pools: RwLock<HashMap<String, Arc<PoolKeys>>>,
}

impl KeyCache {
    fn get(&self, pool_id: &str) -> Option<Arc<PoolKeys>> {
        self.pools.read().expect("key cache").get(pool_id).cloned()
    }
    fn put(&self, pool_id: &str, keys: Arc<PoolKeys>) {
        self.pools
            .write()
            .expect("key cache")
            .insert(pool_id.to_string(), keys);
    }
    pub(crate) fn clear(&self) {
        self.pools.write().expect("key cache").clear();
    }
    pub(crate) fn forget(&self, pool_id: &str) {
        self.pools.write().expect("key cache").remove(pool_id);
    }
}

fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn seconds(value: i32, unit: Option<TimeUnitsType>, default_unit: TimeUnitsType) -> i64 {
    let per = match unit.unwrap_or(default_unit) {
        TimeUnitsType::Seconds => 1,
        TimeUnitsType::Minutes => 60,
        TimeUnitsType::Hours => 3600,
        TimeUnitsType::Days => 86_400,
        TimeUnitsType::Unrecognized(_) => 3600,
    };
    value as i64 * per
}

/// Access, ID and refresh lifetimes of a client in seconds. A value without a unit is in hours
/// (access, ID) or days (refresh); an absent value is Cognito's default (60 min, 60 min, 30 d).
pub(crate) fn lifetimes(c: &UserPoolClientType) -> (i64, i64, i64) {
    let units = c.token_validity_units.clone().unwrap_or_default();
    let access = c.access_token_validity.map_or(3600, |v| {
        seconds(v, units.access_token, TimeUnitsType::Hours)
    });
    let id = c
        .id_token_validity
        .map_or(3600, |v| seconds(v, units.id_token, TimeUnitsType::Hours));
    let refresh = c.refresh_token_validity.map_or(30 * 86_400, |v| {
        seconds(v, units.refresh_token, TimeUnitsType::Days)
    });
    (access, id, refresh)
}

fn public_jwk(kid: &str, pair: &RsaKeyPair) -> Value {
    let public = pair.public_key();
    json!({
        "alg": "RS256",
        "e": b64url(public.exponent().big_endian_without_leading_zero()),
        "kid": kid,
        "kty": "RSA",
        "n": b64url(public.modulus().big_endian_without_leading_zero()),
        "use": "sig",
    })
}

/// Cognito's kids are base64 of a digest; ours: SHA-256 of the public key.
fn kid_of(pair: &RsaKeyPair) -> String {
    STANDARD.encode(Sha256::digest(pair.public_key().as_ref()))
}

/// RSA-2048 key pairs generated ahead of need. Generating one takes ~70 ms of CPU (more on a busy
/// machine), two per CreateUserPool: the request takes pairs from here, and a background thread
/// tops the stock up to [`STOCKED_KEYS`] after each take. A stocked pair is fresh randomness held
/// only in memory until one pool takes it, exactly as if generated then; an empty stock generates
/// in the request, as before. It starts empty, so a process that creates no pool spends nothing.
struct KeyStock {
    keys: Mutex<Vec<RsaKeyPair>>,
    refilling: AtomicBool,
}

/// Two pools' worth.
const STOCKED_KEYS: usize = 4;

static KEY_STOCK: KeyStock = KeyStock {
    keys: Mutex::new(Vec::new()),
    refilling: AtomicBool::new(false),
};

/// A fresh RSA-2048 key (PKCS#8 DER), from the stock: the pool's SAML signing key.
pub(crate) fn new_rsa_key() -> Result<Vec<u8>> {
    let pair = KEY_STOCK.take()?;
    let der = pair
        .as_der()
        .map_err(|_| CoreError::Internal("RSA key encoding failed".into()))?;
    Ok(der.as_ref().to_vec())
}

fn generate_key_pair() -> Result<RsaKeyPair> {
    RsaKeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| CoreError::Internal("RSA key generation failed".into()))
}

impl KeyStock {
    fn stocked(&self) -> std::sync::MutexGuard<'_, Vec<RsaKeyPair>> {
        // A panic while holding the lock leaves a valid Vec: keep using it.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A pair no one else has: from the stock, else generated now.
    fn take(&'static self) -> Result<RsaKeyPair> {
        let stocked = self.stocked().pop();
        self.refill();
        match stocked {
            Some(pair) => Ok(pair),
            None => generate_key_pair(),
        }
    }

    /// Starts the refill thread unless one is running.
    fn refill(&'static self) {
        if self.refilling.swap(true, Ordering::AcqRel) {
            return;
        }
        let started = std::thread::Builder::new()
            .name("signing-key-stock".into())
            .spawn(move || loop {
                let mut failed = false;
                while !failed && self.stocked().len() < STOCKED_KEYS {
                    match generate_key_pair() {
                        Ok(pair) => self.stocked().push(pair),
                        Err(_) => failed = true, // requests generate (and report) their own
                    }
                }
                self.refilling.store(false, Ordering::Release);
                // A take between the last check and the store saw a refill running: go on.
                if failed
                    || self.stocked().len() >= STOCKED_KEYS
                    || self.refilling.swap(true, Ordering::AcqRel)
                {
                    break;
                }
            });
        if started.is_err() {
            self.refilling.store(false, Ordering::Release);
        }
    }
}

/// Why an access token was refused, in Cognito's words.
fn invalid_access_token() -> CoreError {
    CoreError::NotAuthorized("Invalid Access Token".into())
}

/// An access token that passed every check.
#[derive(Debug, Clone)]
pub(crate) struct AccessToken {
    pub pool: UserPoolRecord,
    pub user: UserRecord,
    pub client_id: String,
    /// The sign-in the token came from (its refresh-token family), with its device.
    pub session: AuthSessionRecord,
}

impl Core {
    /// Generates and stores a new pool's two signing keys.
    pub(crate) async fn create_signing_keys(&self, pool_id: &str) -> Result<()> {
        let now = self.now_millis();
        let mut records = Vec::new();
        for token_use in ["access", "id"] {
            let pair = KEY_STOCK.take()?;
            let der = pair
                .as_der()
                .map_err(|_| CoreError::Internal("RSA key encoding failed".into()))?;
            let sealed =
                self.server_key
                    .seal(self.entropy.as_ref(), Sealed::SigningKey, der.as_ref());
            records.push(SigningKeyRecord {
                pool_id: pool_id.to_string(),
                kid: kid_of(&pair),
                token_use: token_use.to_string(),
                sealed_private_key: STANDARD.encode(sealed),
                created_at: now,
            });
        }
        self.pools().insert_signing_keys(&records).await?;
        Ok(())
    }

    /// The pool's parsed keys: from the cache, else from the store (generated on first use for
    /// pools made before keys existed).
    pub(crate) async fn pool_keys(&self, pool_id: &str) -> Result<Arc<PoolKeys>> {
        if let Some(k) = self.key_cache.get(pool_id) {
            return Ok(k);
        }
        // The SAML signing key (signing_certificate.rs) signs no token.
        let token_keys = |records: Vec<SigningKeyRecord>| -> Vec<SigningKeyRecord> {
            records
                .into_iter()
                .filter(|r| r.token_use != crate::signing_certificate::SAML_TOKEN_USE)
                .collect()
        };
        let mut records = token_keys(self.pools().signing_keys(pool_id).await?);
        if records.is_empty() {
            self.create_signing_keys(pool_id).await?;
            records = token_keys(self.pools().signing_keys(pool_id).await?);
        }
        let mut access = None;
        let mut id = None;
        let mut verifiers = Vec::new();
        let mut jwks = Vec::new();
        for r in records {
            let der = STANDARD
                .decode(&r.sealed_private_key)
                .ok()
                .and_then(|sealed| self.server_key.open(Sealed::SigningKey, &sealed))
                .ok_or_else(|| {
                    CoreError::Internal(format!(
                        "signing key {} of pool {pool_id} cannot be opened: is this the server key it was sealed with?",
                        r.kid
                    ))
                })?;
            let pair = RsaKeyPair::from_pkcs8(&der)
                .map_err(|_| CoreError::Internal("stored signing key is corrupt".into()))?;
            let parsed =
                ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref())
                    .map_err(|_| CoreError::Internal("stored signing key is corrupt".into()))?;
            jwks.push(public_jwk(&r.kid, &pair));
            verifiers.push((r.kid.clone(), parsed));
            // The newest key of each use signs (records come oldest first).
            let key = SigningKey { kid: r.kid, pair };
            match r.token_use.as_str() {
                "access" => access = Some(key),
                _ => id = Some(key),
            }
        }
        let (Some(access), Some(id)) = (access, id) else {
            return Err(CoreError::Internal(format!(
                "pool {pool_id} lacks signing keys"
            )));
        };
        let keys = Arc::new(PoolKeys {
            access,
            id,
            verifiers,
            jwks: json!({ "keys": jwks }),
        });
        self.key_cache.put(pool_id, keys.clone());
        Ok(keys)
    }

    /// `{public-url}/{poolId}`: the `iss` of every token of the pool.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.config.public_url)
    }

    /// The pool's JWKS document, or None for an unknown pool.
    pub async fn jwks(&self, pool_id: &str) -> Result<Option<Value>> {
        if self.pools().user_pool(pool_id).await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.pool_keys(pool_id).await?.jwks.clone()))
    }

    /// The pool's OpenID Connect discovery document, or None for an unknown pool.
    pub async fn openid_configuration(&self, pool_id: &str) -> Result<Option<Value>> {
        if self.pools().user_pool(pool_id).await?.is_none() {
            return Ok(None);
        }
        let issuer = self.issuer(pool_id);
        let mut doc = json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["code", "token"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "cognito:username", "email", "email_verified", "phone_number", "phone_number_verified"],
            "authorization_endpoint": "",
            "token_endpoint": "",
            "userinfo_endpoint": "",
        });
        // The OAuth endpoints exist once the pool has a domain, as on Cognito (whose document
        // then has empty strings); they answer at the public URL (and on the domain's host).
        if self.pools().domain_of_pool(pool_id).await?.is_some() {
            let base = &self.config.public_url;
            for (key, path) in [
                ("authorization_endpoint", "/oauth2/authorize"),
                ("token_endpoint", "/oauth2/token"),
                ("userinfo_endpoint", "/oauth2/userInfo"),
                ("end_session_endpoint", "/logout"),
                ("revocation_endpoint", "/oauth2/revoke"),
            ] {
                doc[key] = json!(format!("{base}{path}"));
            }
            doc["code_challenge_methods_supported"] = json!(["S256"]);
            doc["grant_types_supported"] = json!([
                "authorization_code",
                "refresh_token",
                "client_credentials",
                "implicit"
            ]);
        }
        Ok(Some(doc))
    }

    fn sign(key: &SigningKey, claims: &Value) -> Result<String> {
        let header = json!({ "kid": key.kid, "alg": "RS256" });
        let mut input = b64url(header.to_string().as_bytes());
        input.push('.');
        input.push_str(&b64url(claims.to_string().as_bytes()));
        let mut sig = vec![0u8; key.pair.public_modulus_len()];
        key.pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .map_err(|_| CoreError::Internal("RS256 signing failed".into()))?;
        input.push('.');
        input.push_str(&b64url(&sig));
        Ok(input)
    }

    /// Access and ID tokens for `user` in the refresh-token family `session`; the caller adds
    /// the refresh token when one is issued. A session from the hosted pages carries OAuth
    /// scopes: its access token says them (resource-server scopes deleted since drop out), and
    /// it has an ID token only with `openid`, with the authorization request's `nonce`.
    pub(crate) async fn mint_tokens(
        &self,
        pool: &UserPoolRecord,
        client: &UserPoolClientType,
        user: &UserRecord,
        session: &AuthSessionRecord,
        nonce: Option<&str>,
        source: TokenSource,
    ) -> Result<AuthenticationResultType> {
        let scopes = match &session.scopes {
            Some(granted) => Some(self.live_scopes(&pool.id, granted).await?),
            None => None,
        };
        let scope = scopes
            .as_ref()
            .map_or(API_SCOPE.to_string(), |s| s.join(" "));
        let with_id = scopes
            .as_ref()
            .is_none_or(|s| s.iter().any(|x| x == crate::oauth::scopes::OPENID));
        let keys = self.pool_keys(&pool.id).await?;
        let (access_ttl, id_ttl, _) = lifetimes(client);
        let now = self.now_millis() / 1000;
        let iss = self.issuer(&pool.id);
        let event_id = crate::ids::uuid(self.entropy.as_ref());
        let user_groups = self
            .users()
            .groups_of_user(&pool.id, &user.username_key, None, 1000)
            .await?;
        let groups: Vec<String> = user_groups
            .iter()
            .filter_map(|g| g.group_name.clone())
            .collect();
        let client_id = client.client_id.clone().unwrap_or_default();

        let mut access = Map::new();
        access.insert("sub".into(), json!(user.sub));
        if !groups.is_empty() {
            access.insert("cognito:groups".into(), json!(groups));
        }
        if let Some(device) = &session.device_key {
            access.insert("device_key".into(), json!(device));
        }
        access.insert("iss".into(), json!(iss));
        access.insert("client_id".into(), json!(client_id));
        access.insert("origin_jti".into(), json!(session.id));
        access.insert("event_id".into(), json!(event_id));
        access.insert("token_use".into(), json!("access"));
        if scopes.is_some() {
            access.insert("version".into(), json!(2));
        }
        access.insert("scope".into(), json!(scope));
        access.insert("auth_time".into(), json!(session.auth_time));
        access.insert("exp".into(), json!(now + access_ttl));
        access.insert("iat".into(), json!(now));
        access.insert("jti".into(), json!(crate::ids::uuid(self.entropy.as_ref())));
        access.insert("username".into(), json!(user.username));

        let mut id = Map::new();
        let readable = |name: &str| {
            client
                .read_attributes
                .as_ref()
                .is_none_or(|r| r.is_empty() || r.iter().any(|a| a == name))
        };
        for (name, value) in &user.attributes {
            if name == "sub" || !readable(name) {
                continue;
            }
            let v = match name.as_str() {
                "email_verified" | "phone_number_verified" => json!(value == "true"),
                _ => json!(value),
            };
            id.insert(name.clone(), v);
        }
        id.insert("sub".into(), json!(user.sub));
        if !groups.is_empty() {
            id.insert("cognito:groups".into(), json!(groups));
        }
        id.insert("iss".into(), json!(iss));
        id.insert("cognito:username".into(), json!(user.username));
        id.insert("origin_jti".into(), json!(session.id));
        id.insert("aud".into(), json!(client_id));
        id.insert("event_id".into(), json!(event_id));
        id.insert("token_use".into(), json!("id"));
        id.insert("auth_time".into(), json!(session.auth_time));
        id.insert("exp".into(), json!(now + id_ttl));
        id.insert("iat".into(), json!(now));
        id.insert("jti".into(), json!(crate::ids::uuid(self.entropy.as_ref())));

        let claims = Claims {
            access: &mut access,
            id: &mut id,
        };
        self.customise_tokens(pool, &client_id, user, source, &user_groups, claims)
            .await?;
        let access_token = Self::sign(&keys.access, &Value::Object(access))?;
        let id_token = if with_id {
            if scopes.is_some() {
                // OIDC's at_hash: the left half of SHA-256 of the access token.
                let digest = Sha256::digest(access_token.as_bytes());
                id.insert("at_hash".into(), json!(b64url(&digest[..16])));
            }
            if let Some(n) = nonce {
                id.insert("nonce".into(), json!(n));
            }
            Some(Self::sign(&keys.id, &Value::Object(id))?)
        } else {
            None
        };
        Ok(AuthenticationResultType {
            access_token: Some(access_token),
            expires_in: Some(access_ttl as i32),
            id_token,
            new_device_metadata: None,
            refresh_token: None,
            token_type: Some("Bearer".into()),
        })
    }

    /// The client_credentials grant's access token: the client is its subject, `scope` holds
    /// the granted resource-server scopes. Returns it with its lifetime in seconds.
    /// `claims` signed with the pool's access-token key.
    pub(crate) async fn sign_access_claims(&self, pool_id: &str, claims: &Value) -> Result<String> {
        let keys = self.pool_keys(pool_id).await?;
        Self::sign(&keys.access, claims)
    }

    pub(crate) async fn mint_client_token(
        &self,
        client: &crate::store::AppClientRecord,
        scopes: &[String],
        client_metadata: Option<&BTreeMap<String, String>>,
    ) -> Result<(String, i64)> {
        let keys = self.pool_keys(&client.pool_id).await?;
        let (ttl, _, _) = lifetimes(&client.client);
        let now = self.now_millis() / 1000;
        let mut claims = json!({
            "sub": client.client_id,
            "token_use": "access",
            "scope": scopes.join(" "),
            "auth_time": now,
            "iss": self.issuer(&client.pool_id),
            "exp": now + ttl,
            "iat": now,
            "version": 2,
            "jti": crate::ids::uuid(self.entropy.as_ref()),
            "client_id": client.client_id,
        });
        let pool = self.pool(&client.pool_id).await?;
        if let Value::Object(access) = &mut claims {
            self.customise_client_token(&pool, &client.client_id, client_metadata, access)
                .await?;
        }
        Ok((Self::sign(&keys.access, &claims)?, ttl))
    }

    /// Checks an access token as Cognito's user operations do: signature with the pool's key,
    /// `token_use`, expiry, the scope `aws.cognito.signin.user.admin`, the app client,
    /// revocation (its sign-in's refresh-token family must be live), and that the user still
    /// exists and is enabled.
    pub(crate) async fn access_token(&self, token: &str) -> Result<AccessToken> {
        self.access_token_with_scope(token, API_SCOPE).await
    }

    /// [`Core::access_token`] for a token that must carry `scope` (userInfo asks `openid`).
    pub(crate) async fn access_token_with_scope(
        &self,
        token: &str,
        scope: &str,
    ) -> Result<AccessToken> {
        Ok(self.checked_access_token(token, Some(scope)).await?.0)
    }

    /// A live access token of one of our pools, with its claims: signature, expiry, its
    /// sign-in not revoked, its user there and enabled, and `scope` among its scopes if given.
    pub(crate) async fn checked_access_token(
        &self,
        token: &str,
        scope: Option<&str>,
    ) -> Result<(AccessToken, Arc<TokenClaims>)> {
        let (claims, pool) = self.verified_claims(token).await?;
        if claims.token_use.as_deref() != Some("access") {
            return Err(invalid_access_token());
        }
        let scoped = scope.is_none_or(|scope| {
            claims
                .scope
                .as_deref()
                .is_some_and(|s| s.split(' ').any(|x| x == scope))
        });
        if !scoped {
            return Err(CoreError::NotAuthorized(
                "Access Token does not have required scopes".into(),
            ));
        }
        let exp = claims.exp.ok_or_else(invalid_access_token)?;
        if exp <= self.now_millis() / 1000 {
            return Err(CoreError::NotAuthorized("Access Token has expired".into()));
        }
        let (Some(client_id), Some(session_id), Some(username)) = (
            claims.client_id.as_deref(),
            claims.origin_jti.as_deref(),
            claims.username.as_deref(),
        ) else {
            return Err(invalid_access_token());
        };
        let (session, user) = match self.tokens().auth_session_with_user(session_id).await? {
            Some((s, user)) if s.revoked_at.is_none() => (s, user),
            _ => {
                return Err(CoreError::NotAuthorized(
                    "Access Token has been revoked".into(),
                ))
            }
        };
        if session.client_id != client_id || session.pool_id != claims.pool_id {
            return Err(invalid_access_token());
        }
        let user = user
            .filter(|u| u.username == username)
            .ok_or_else(CoreError::user_not_found)?;
        if !user.enabled {
            return Err(CoreError::NotAuthorized("User is disabled.".into()));
        }
        let checked = AccessToken {
            pool,
            user,
            client_id: client_id.to_string(),
            session,
        };
        Ok((checked, claims))
    }

    /// An ID token's pool and audience, if one of our pools signed it (expired or not: an
    /// `id_token_hint` may be).
    pub(crate) async fn id_token_audience(&self, token: &str) -> Option<(String, String)> {
        let (claims, pool) = self.verified_claims(token).await.ok()?;
        if claims.token_use.as_deref() != Some("id") {
            return None;
        }
        Some((pool.id, claims.aud.clone()?))
    }

    /// The claims of a JWT signed by one of our pools' keys, with our issuer, and its pool; any
    /// defect is "Invalid Access Token". A token verified before skips the RSA check (see
    /// [`crate::verified_tokens`]), not the check that its pool and key still exist.
    async fn verified_claims(&self, token: &str) -> Result<(Arc<TokenClaims>, UserPoolRecord)> {
        let remembered = self.verified_tokens.get(token);
        let (claims, unverified) = match remembered {
            Some(claims) => (claims, None),
            None => {
                let (claims, signed, signature) = self.parse_jwt(token)?;
                (Arc::new(claims), Some((signed, signature)))
            }
        };
        let pool = self.token_pool(&claims.pool_id).await?;
        let keys = self.pool_keys(&claims.pool_id).await?;
        let verifier = keys
            .verifiers
            .iter()
            .find(|(kid, _)| *kid == claims.kid)
            .map(|(_, v)| v)
            .ok_or_else(invalid_access_token)?;
        if let Some((signed, signature)) = unverified {
            verifier
                .verify_sig(signed.as_bytes(), &signature)
                .map_err(|_| invalid_access_token())?;
            self.verified_tokens
                .put(token, claims.clone(), self.now_millis() / 1000);
        }
        Ok((claims, pool))
    }

    /// A JWT's claims (not yet trusted), the text its signature covers and the signature. Only
    /// RS256 with a `kid` and an issuer of ours passes.
    fn parse_jwt<'t>(&self, token: &'t str) -> Result<(TokenClaims, &'t str, Vec<u8>)> {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid_access_token());
        };
        let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).ok();
        let header: Map<String, Value> = decode(h)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid_access_token)?;
        // Only RS256: `alg: none` and HMAC-with-the-public-key tricks end here.
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(invalid_access_token());
        }
        let kid = header
            .get("kid")
            .and_then(Value::as_str)
            .ok_or_else(invalid_access_token)?;
        let claims: Map<String, Value> = decode(p)
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid_access_token)?;
        let pool_id = claims
            .get("iss")
            .and_then(Value::as_str)
            .and_then(|iss| iss.strip_prefix(&self.config.public_url))
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|id| !id.is_empty() && !id.contains('/'))
            .ok_or_else(invalid_access_token)?;
        let signature = decode(s).ok_or_else(invalid_access_token)?;
        let str_claim = |k: &str| claims.get(k).and_then(Value::as_str).map(str::to_string);
        let parsed = TokenClaims {
            kid: kid.to_string(),
            pool_id: pool_id.to_string(),
            token_use: str_claim("token_use"),
            exp: claims.get("exp").and_then(Value::as_i64),
            client_id: str_claim("client_id"),
            origin_jti: str_claim("origin_jti"),
            username: str_claim("username"),
            scope: str_claim("scope"),
            aud: str_claim("aud"),
        };
        Ok((parsed, &token[..h.len() + 1 + p.len()], signature))
    }

    /// The pool a token's issuer names; a pool that is gone makes the token invalid.
    async fn token_pool(&self, pool_id: &str) -> Result<UserPoolRecord> {
        match self.pool(pool_id).await {
            Err(CoreError::ResourceNotFound(_)) => Err(invalid_access_token()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_follow_units_and_defaults() {
        let mut c = UserPoolClientType::default();
        assert_eq!(lifetimes(&c), (3600, 3600, 30 * 86_400));
        c.access_token_validity = Some(5);
        c.id_token_validity = Some(2);
        c.refresh_token_validity = Some(10);
        c.token_validity_units = Some(gatehouse_wire::TokenValidityUnitsType {
            access_token: Some(TimeUnitsType::Minutes),
            id_token: Some(TimeUnitsType::Hours),
            refresh_token: Some(TimeUnitsType::Days),
        });
        assert_eq!(lifetimes(&c), (300, 7200, 864_000));
    }
}
