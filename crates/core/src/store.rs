//! The persistence boundary. Core states what it needs; `gatehouse-store` implements it for
//! SQLite (and later PostgreSQL). Records carry a `version` so that concurrent writers — other
//! requests, other server processes — never silently overwrite each other.

use std::collections::BTreeMap;

use async_trait::async_trait;
use gatehouse_wire::{
    DomainDescriptionType, GroupType, ResourceServerType, UserPoolClientType, UserPoolType,
    UserStatusType,
};
use serde::{Deserialize, Serialize};

use crate::messages::OutgoingMessage;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with the same key exists.
    #[error("duplicate key")]
    Conflict,
    /// Another user holds this sign-in alias (the claim's `attribute`), or another identity
    /// provider of the pool this `IdpIdentifier`.
    #[error("alias {0} is taken")]
    AliasTaken(String),
    /// The write would pass a limit the caller gave (the pool's identity providers).
    #[error("limit reached")]
    LimitReached,
    #[error("{0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user pool as stored: its full description (the `UserPoolType` shape, without computed
/// counters) and the version used for compare-and-swap updates.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPoolRecord {
    pub id: String,
    pub version: i64,
    pub pool: UserPoolType,
    /// MFA settings beyond `pool.mfa_configuration` and the SMS ones of `UserPoolType`.
    pub mfa: PoolMfaRecord,
    /// Gatehouse's device policy (not on Cognito's wire).
    pub device_policy: DevicePolicy,
    /// SetUserPoolSessionConfiguration's settings (user_sessions.rs).
    pub sessions: SessionPolicy,
}

/// Whether a pool tracks its users' sessions, and how many live token sessions each may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionPolicy {
    pub tracking: bool,
    pub max_per_user: u32,
}

impl Default for SessionPolicy {
    /// Cognito's: tracking off, 20 sessions per user once it is on.
    fn default() -> Self {
        SessionPolicy {
            tracking: false,
            max_per_user: 20,
        }
    }
}

/// How far a pool trusts remembered devices (a Gatehouse extension: DescribeUserPool does not
/// show it). Rules: `device_trust.rs`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DevicePolicy {
    /// Days a remembered device stays trusted since it last authenticated; None: for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_days: Option<u32>,
    /// Remembered devices one user may have; None: no cap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_remembered: Option<u32>,
}

/// SetUserPoolMfaConfig's settings that `UserPoolType` has no member for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoolMfaRecord {
    /// Authenticator apps (TOTP) allowed.
    #[serde(default)]
    pub software_token_enabled: bool,
    /// Email one-time codes: the message and subject, when configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<gatehouse_wire::EmailMfaConfigType>,
    /// Passkeys: the relying party and user verification, as set (passkeys.rs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_authn: Option<gatehouse_wire::WebAuthnConfigurationType>,
}

/// A user's second factors and preferences. The TOTP secrets are sealed with the server key.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserMfaRecord {
    #[serde(default)]
    pub sms_enabled: bool,
    #[serde(default)]
    pub software_token_enabled: bool,
    #[serde(default)]
    pub email_enabled: bool,
    /// `SMS_MFA`, `SOFTWARE_TOKEN_MFA` or `EMAIL_OTP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred: Option<String>,
    /// The verified authenticator secret (sealed, base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_secret: Option<String>,
    /// A secret from AssociateSoftwareToken awaiting VerifySoftwareToken (sealed, base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_totp_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_device_name: Option<String>,
    /// The last 30-second step whose code was accepted for `totp_secret`: a code is good once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_last_step: Option<i64>,
}

impl std::fmt::Debug for UserMfaRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserMfaRecord")
            .field("sms_enabled", &self.sms_enabled)
            .field("software_token_enabled", &self.software_token_enabled)
            .field("email_enabled", &self.email_enabled)
            .field("preferred", &self.preferred)
            .finish_non_exhaustive()
    }
}

/// An app client as stored, secret included (Cognito shows it on DescribeUserPoolClient).
#[derive(Debug, Clone, PartialEq)]
pub struct AppClientRecord {
    pub pool_id: String,
    pub client_id: String,
    pub version: i64,
    pub client: UserPoolClientType,
    /// The client's active secrets (at most two, for rotation: client_secrets.rs). Empty for a
    /// client stored before rotation existed: its `client.client_secret` is its one secret.
    pub secrets: Vec<ClientSecretRecord>,
    /// SetUserPoolClientSessionConfiguration's SSO session validity (minutes); None: Cognito's
    /// default (user_sessions.rs).
    pub sso_max_validity_minutes: Option<i32>,
}

/// One of an app client's secrets (AddUserPoolClientSecret, or the one it was created with).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientSecretRecord {
    /// `<client id>--<creation epoch ms>`.
    pub id: String,
    pub value: String,
    /// Epoch ms.
    pub created_at: i64,
}

impl std::fmt::Debug for ClientSecretRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientSecretRecord({}, <redacted>)", self.id)
    }
}

/// A password as SRP needs it: salt and verifier for the user's canonical username and pool.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordRecord {
    /// `hex(enc(salt))`, the SALT clients receive.
    pub salt: String,
    /// `enc(v)` in base64; password-equivalent, never logged.
    pub verifier: String,
}

impl std::fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordRecord(<redacted>)")
    }
}

/// A password hash a user import brought in (user_import/hashes.rs), kept until the user's
/// first sign-in with that password, which replaces it with a [`PasswordRecord`].
/// Password-equivalent for a weak password: never logged.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportedHash {
    /// The job's `PasswordHashingAlgorithm`, as the API spells it.
    pub algorithm: String,
    pub hash: String,
}

impl std::fmt::Debug for ImportedHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ImportedHash({}, <redacted>)", self.algorithm)
    }
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub pool_id: String,
    /// The canonical username, as created; immutable (SRP verifiers depend on it).
    pub username: String,
    /// The lookup key: `username`, lower-cased in case-insensitive pools.
    pub username_key: String,
    pub sub: String,
    pub status: UserStatusType,
    pub enabled: bool,
    /// Every attribute, `sub` included.
    pub attributes: BTreeMap<String, String>,
    pub password: Option<PasswordRecord>,
    /// A password hash from a user import, until the first sign-in with its password (then
    /// None, and `password` holds the SRP verifier made from the password typed).
    pub imported_hash: Option<ImportedHash>,
    /// Earlier passwords, newest first, as many as the pool's PasswordHistorySize needs.
    pub password_history: Vec<PasswordRecord>,
    /// When a temporary password stops working (epoch ms).
    pub temporary_password_expires_at: Option<i64>,
    /// The legacy MFA setting (SetUserSettings / AdminSetUserSettings).
    pub mfa_options: Vec<gatehouse_wire::MFAOptionType>,
    /// Second factors and preferences (SetUserMFAPreference, TOTP enrolment).
    pub mfa: UserMfaRecord,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
    /// Consecutive failed sign-ins. Kept apart from the versioned record: a failed attempt
    /// changes neither `version` nor the last-modified date.
    pub failed_sign_ins: u32,
    /// While set and in the future, sign-in is refused ("Password attempts exceeded").
    pub locked_until: Option<i64>,
}

/// One sign-in's refresh-token family: created when tokens are first issued, refreshed,
/// revoked by RevokeToken or sign-out. Its id is the tokens' `origin_jti`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthSessionRecord {
    pub id: String,
    pub pool_id: String,
    pub client_id: String,
    pub username_key: String,
    /// SHA-256 (hex) of the secret half of the current refresh token.
    pub refresh_hash: String,
    /// After a rotation: the previous secret's hash, accepted until `previous_valid_until`.
    pub previous_refresh_hash: Option<String>,
    pub previous_valid_until: Option<i64>,
    /// Hashes of older rotated-out secrets (newest first, bounded): their reuse is detected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retired_hashes: Vec<String>,
    /// When the user authenticated (epoch s): `auth_time` of every token of the family.
    pub auth_time: i64,
    pub device_key: Option<String>,
    pub created_at: i64,
    /// When the refresh token stops working (epoch ms).
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub version: i64,
    /// The refresh token alone was revoked (ForgetDevice of the session's own device): refreshes
    /// are refused, its access tokens keep working until they expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_revoked_at: Option<i64>,
    /// The OAuth scopes granted to a sign-in through the hosted pages (/oauth2/token); `None`
    /// for the user-pool API's sign-ins, whose tokens carry `aws.cognito.signin.user.admin`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// The latest sign-in or refresh: kept in the store apart from the document, so writing it
    /// never races the compare-and-swap of the rest.
    #[serde(skip)]
    pub activity: SessionActivity,
}

/// When a session was last used, and from where (ListUserSessions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionActivity {
    /// Epoch ms.
    pub at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// An OAuth authorization code waiting at the token endpoint: what it was issued for. Only a
/// hash of the code is stored; the code itself travels once, through the browser.
#[derive(Clone, Serialize, Deserialize)]
pub struct AuthorizationCodeRecord {
    /// SHA-256 (hex) of the code.
    pub code_hash: String,
    pub pool_id: String,
    pub client_id: String,
    /// The sign-in (auth session) whose tokens the code redeems.
    pub session_id: String,
    /// The `redirect_uri` of the authorization request: the token request must repeat it.
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    /// PKCE S256 challenge (base64url SHA-256 of the verifier), if the request carried one.
    pub code_challenge: Option<String>,
    /// Epoch ms.
    pub expires_at: i64,
}

impl std::fmt::Debug for AuthorizationCodeRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationCodeRecord")
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for AuthSessionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSessionRecord")
            .field("id", &self.id)
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field("revoked_at", &self.revoked_at)
            .finish_non_exhaustive()
    }
}

/// The session a self-service ForgetDevice was called from (see [`Store::forget_device`]).
#[derive(Debug, Clone, Copy)]
pub struct SparedSession<'a> {
    pub id: &'a str,
    /// When its row may go: once no access token of it can still be valid.
    pub expires_at: i64,
}

/// A device's place in its life: a key handed out at sign-in, then a tracked device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceStatus {
    /// In NewDeviceMetadata, awaiting ConfirmDevice; never listed, lapses at `expires_at`.
    Issued,
    Remembered,
    NotRemembered,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Issued => "issued",
            DeviceStatus::Remembered => "remembered",
            DeviceStatus::NotRemembered => "not_remembered",
        }
    }
}

/// A device of a user (device tracking). The verifier is password-equivalent for the device.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub pool_id: String,
    /// `<region>_<uuid>`: unique in the pool, never reused.
    pub device_key: String,
    pub username_key: String,
    /// The SRP "pool name" of the device's verifier.
    pub group_key: String,
    pub status: DeviceStatus,
    /// `hex(enc(salt))` and `enc(v)` in base64, from ConfirmDevice.
    pub salt: Option<String>,
    pub verifier: Option<String>,
    pub name: Option<String>,
    pub last_ip: Option<String>,
    /// The product of the User-Agent that confirmed the device (`dev:device_sdk`).
    pub sdk: Option<String>,
    pub created_at: i64,
    pub modified_at: i64,
    pub last_authenticated_at: Option<i64>,
    /// When the device was last (re)made remembered (epoch ms): its trust runs from this or
    /// its last authentication, whichever is later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remembered_at: Option<i64>,
    /// Issued keys only: when the key lapses unconfirmed (epoch ms).
    pub expires_at: Option<i64>,
    pub version: i64,
}

impl std::fmt::Debug for DeviceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceRecord")
            .field("pool_id", &self.pool_id)
            .field("device_key", &self.device_key)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// What a pending sign-in waits for: the challenge its client answers next. Stored by the
/// challenge's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingStep {
    #[serde(rename = "SMS_MFA")]
    SmsMfa,
    #[serde(rename = "EMAIL_OTP")]
    EmailOtp,
    #[serde(rename = "SOFTWARE_TOKEN_MFA")]
    SoftwareTokenMfa,
    #[serde(rename = "SELECT_MFA_TYPE")]
    SelectMfaType,
    #[serde(rename = "MFA_SETUP")]
    MfaSetup,
    #[serde(rename = "DEVICE_SRP_AUTH")]
    DeviceSrpAuth,
    /// A custom authentication round (the challenge triggers, auth/custom_flow.rs).
    #[serde(rename = "CUSTOM_CHALLENGE")]
    CustomChallenge,
    /// A USER_AUTH sign-in choosing its first factor (auth/choice_flow.rs).
    #[serde(rename = "SELECT_CHALLENGE")]
    SelectChallenge,
    /// A USER_AUTH sign-in waiting for the code it emailed as its first factor.
    #[serde(rename = "EMAIL_OTP_SIGN_IN")]
    EmailOtpSignIn,
    /// A USER_AUTH sign-in waiting for the code it texted as its first factor.
    #[serde(rename = "SMS_OTP")]
    SmsOtpSignIn,
    /// A USER_AUTH sign-in waiting for a passkey's assertion.
    #[serde(rename = "WEB_AUTHN")]
    WebAuthn,
}

impl PendingStep {
    /// The challenge's name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            PendingStep::SmsMfa => "SMS_MFA",
            PendingStep::EmailOtp => "EMAIL_OTP",
            PendingStep::SoftwareTokenMfa => "SOFTWARE_TOKEN_MFA",
            PendingStep::SelectMfaType => "SELECT_MFA_TYPE",
            PendingStep::MfaSetup => "MFA_SETUP",
            PendingStep::DeviceSrpAuth => "DEVICE_SRP_AUTH",
            PendingStep::CustomChallenge => "CUSTOM_CHALLENGE",
            PendingStep::SelectChallenge => "SELECT_CHALLENGE",
            PendingStep::EmailOtpSignIn => "EMAIL_OTP_SIGN_IN",
            PendingStep::SmsOtpSignIn => "SMS_OTP",
            PendingStep::WebAuthn => "WEB_AUTHN",
        }
    }
}

/// A sign-in whose password passed and that waits for an MFA code or for its device to
/// authenticate: the server side of the one `Session` string the rest of the sign-in carries,
/// found by user and device key when a client sends no Session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSignInRecord {
    pub id: String,
    pub pool_id: String,
    pub client_id: String,
    pub username_key: String,
    /// The confirmed device presented so far, if any.
    pub device_key: Option<String>,
    /// The challenge it waits for.
    pub step: PendingStep,
    /// The Session string handed to the client with every challenge of this sign-in.
    pub session: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// What the MFA step needs besides the step's name.
    #[serde(default, skip_serializing_if = "PendingMfa::is_empty")]
    pub mfa: PendingMfa,
    /// A custom authentication's rounds so far and its open challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<PendingCustom>,
}

/// A custom authentication in progress: what DefineAuthChallenge is shown (its `session`), and
/// what CreateAuthChallenge kept for VerifyAuthChallengeResponse.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingCustom {
    pub rounds: Vec<CustomRound>,
    #[serde(default)]
    pub private_parameters: std::collections::BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
}

/// One round of a custom authentication, as the challenge triggers' `session` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomRound {
    pub challenge_name: String,
    pub challenge_result: bool,
    pub challenge_metadata: Option<String>,
}

/// The second factor of a pending sign-in: the code sent by SMS or email (as a hash), the
/// factors offered (SELECT_MFA_TYPE, MFA_SETUP), and the authenticator being set up.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PendingMfa {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offered: Vec<String>,
    /// MFA_SETUP: the secret from AssociateSoftwareToken (sealed, base64) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_secret: Option<String>,
    /// … and, once VerifySoftwareToken accepted a code, that code's step and the app's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_verified_step: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_device_name: Option<String>,
    /// MFA_SETUP answered with an address: the EMAIL_OTP code went there; a right code makes
    /// it the user's verified email and email MFA the user's factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_email: Option<String>,
    /// An email or SMS code (first factor or MFA): the address or number it was sent to (a
    /// right code verifies only that one, and only while it is still the user's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_to: Option<String>,
    /// A WEB_AUTHN first factor: the passkey verifier's state (its challenge and policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_authn_state: Option<serde_json::Value>,
}

impl PendingMfa {
    fn is_empty(&self) -> bool {
        *self == PendingMfa::default()
    }
}

impl std::fmt::Debug for PendingMfa {
    // The code's hash and the sealed secret stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingMfa")
            .field("offered", &self.offered)
            .field("setup_verified", &self.setup_verified_step.is_some())
            .finish_non_exhaustive()
    }
}

/// A user's failed sign-ins, as plain values: core computes the next state (the lockout rule)
/// and the store swaps it in atomically.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInCounter {
    /// Consecutive failed attempts.
    pub failed: u32,
    /// While set and in the future, sign-in is refused.
    pub locked_until: Option<i64>,
}

/// A pool's token-signing key: the private key sealed with the server key.
#[derive(Debug, Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub pool_id: String,
    pub kid: String,
    /// `access` or `id`.
    pub token_use: String,
    /// PKCS#8 DER sealed with the server key (base64).
    pub sealed_private_key: String,
    pub created_at: i64,
}

/// What ListUsers can filter on (the attributes AWS documents for its `Filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterAttribute {
    Username,
    Email,
    PhoneNumber,
    Name,
    GivenName,
    FamilyName,
    PreferredUsername,
    /// `cognito:user_status`: the user's status (CONFIRMED, …).
    UserStatus,
    /// `status`: Enabled or Disabled.
    Status,
    Sub,
}

impl FilterAttribute {
    pub const ALL: [FilterAttribute; 10] = [
        FilterAttribute::Username,
        FilterAttribute::Email,
        FilterAttribute::PhoneNumber,
        FilterAttribute::Name,
        FilterAttribute::GivenName,
        FilterAttribute::FamilyName,
        FilterAttribute::PreferredUsername,
        FilterAttribute::UserStatus,
        FilterAttribute::Status,
        FilterAttribute::Sub,
    ];

    /// The name a `Filter` uses.
    pub fn name(self) -> &'static str {
        match self {
            FilterAttribute::Username => "username",
            FilterAttribute::Email => "email",
            FilterAttribute::PhoneNumber => "phone_number",
            FilterAttribute::Name => "name",
            FilterAttribute::GivenName => "given_name",
            FilterAttribute::FamilyName => "family_name",
            FilterAttribute::PreferredUsername => "preferred_username",
            FilterAttribute::UserStatus => "cognito:user_status",
            FilterAttribute::Status => "status",
            FilterAttribute::Sub => "sub",
        }
    }

    pub fn named(name: &str) -> Option<FilterAttribute> {
        FilterAttribute::ALL.into_iter().find(|a| a.name() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub attribute: FilterAttribute,
    pub prefix: bool,
    pub value: String,
}

/// A one-time code (confirmation, verification, password reset), kept only as a hash.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeRecord {
    pub pool_id: String,
    pub username_key: String,
    pub purpose: String,
    /// HMAC-SHA-256 (server key) of the code and what it belongs to, hex.
    pub code_hash: String,
    /// The attribute the code verifies, if any (`email`, `phone_number`).
    pub attribute: Option<String>,
    pub expires_at: i64,
    /// Guesses taken (right or wrong) since the window began, across the codes it issued.
    pub guesses: u32,
    /// Codes issued since the window began (this one included).
    pub issued: u32,
    /// When the window began (epoch ms).
    pub window_started_at: i64,
}

/// What taking a guess at a code found.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeGuess {
    /// No live code for this user and purpose.
    NoCode,
    /// The window's guesses are used up: this one was not taken.
    Exhausted,
    /// The guess was counted; here is the code to compare it with.
    Taken(CodeRecord),
}

/// A sign-in alias a user record claims: unique in its pool. Core decides which values a user
/// holds and how they compare (`key`); the store keeps the claims unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasClaim {
    /// `attribute:value`, the value normalised as the pool compares it.
    pub key: String,
    pub attribute: String,
    /// ForceAliasCreation: a current holder loses the alias (its `{attribute}_verified` becomes
    /// "false") in the same transaction, instead of the write being refused.
    pub take_over: bool,
}

/// User pools, their app clients and their token-signing keys.
#[async_trait]
pub trait PoolStore: Send + Sync {
    async fn insert_user_pool(&self, pool: &UserPoolRecord) -> StoreResult<()>;

    async fn user_pool(&self, id: &str) -> StoreResult<Option<UserPoolRecord>>;

    /// Writes `pool` if the stored version is still `pool.version - 1`; false otherwise.
    async fn update_user_pool(&self, pool: &UserPoolRecord) -> StoreResult<bool>;

    /// Deletes the pool and everything in it; false if it did not exist.
    async fn delete_user_pool(&self, id: &str) -> StoreResult<bool>;

    /// Pools ordered by id, starting after `after`; only those in `only` when given (filtered
    /// before the limit, so that a page is full whenever more pools exist).
    async fn list_user_pools(
        &self,
        after: Option<&str>,
        limit: u32,
        only: Option<&[String]>,
    ) -> StoreResult<Vec<UserPoolRecord>>;

    async fn insert_app_client(&self, client: &AppClientRecord) -> StoreResult<()>;

    /// Looks a client up by id alone: sign-in requests name only the client.
    async fn app_client(&self, client_id: &str) -> StoreResult<Option<AppClientRecord>>;

    /// Compare-and-swap on `version`, as for pools.
    async fn update_app_client(&self, client: &AppClientRecord) -> StoreResult<bool>;

    async fn delete_app_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;

    /// Clients of one pool ordered by id, starting after `after`.
    async fn list_app_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AppClientRecord>>;

    async fn insert_signing_keys(&self, keys: &[SigningKeyRecord]) -> StoreResult<()>;

    async fn signing_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKeyRecord>>;

    /// Inserts a pool's domain; `Conflict` when the domain is taken or the pool has one.
    async fn insert_domain(&self, domain: &DomainDescriptionType) -> StoreResult<()>;

    async fn domain(&self, domain: &str) -> StoreResult<Option<DomainDescriptionType>>;

    async fn domain_of_pool(&self, pool_id: &str) -> StoreResult<Option<DomainDescriptionType>>;

    /// Rewrites the domain's record if it is still `pool_id`'s; false otherwise.
    async fn update_domain(&self, domain: &DomainDescriptionType) -> StoreResult<bool>;

    /// Deletes the domain if it is `pool_id`'s; false otherwise.
    async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool>;

    /// Inserts a resource server; `Conflict` when the pool has one with that identifier.
    async fn insert_resource_server(&self, server: &ResourceServerType) -> StoreResult<()>;

    async fn resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServerType>>;

    /// Rewrites an existing resource server; false if there is none.
    async fn update_resource_server(&self, server: &ResourceServerType) -> StoreResult<bool>;

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool>;

    /// A pool's resource servers ordered by identifier, starting after `after`.
    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<ResourceServerType>>;

    /// The risk configurations stored for these scopes (at most two: "" is the pool's, else an
    /// app client's), in no particular order.
    async fn risk_configurations(
        &self,
        pool_id: &str,
        client_ids: &[&str],
    ) -> StoreResult<Vec<gatehouse_wire::RiskConfigurationType>>;

    /// Stores (or, with None, removes) a risk configuration.
    async fn put_risk_configuration(
        &self,
        pool_id: &str,
        client_id: &str,
        config: Option<&gatehouse_wire::RiskConfigurationType>,
    ) -> StoreResult<()>;

    /// The pool's log delivery configuration (SetLogDeliveryConfiguration), if one was set.
    async fn log_delivery(
        &self,
        pool_id: &str,
    ) -> StoreResult<Option<gatehouse_wire::LogDeliveryConfigurationType>>;

    /// Replaces the pool's log delivery configuration.
    async fn put_log_delivery(
        &self,
        config: &gatehouse_wire::LogDeliveryConfigurationType,
    ) -> StoreResult<()>;

    /// The hosted-UI customization of the pool (`ALL`) or a client.
    async fn ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<UiCustomizationRecord>>;

    /// Replaces (None: removes) it.
    async fn put_ui_customization(
        &self,
        pool_id: &str,
        client_id: &str,
        record: Option<&UiCustomizationRecord>,
    ) -> StoreResult<()>;
}

/// Users (attributes, passwords, MFA enrolments and sign-in aliases are parts of the user
/// record), groups and memberships.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Users in the pool (Cognito's EstimatedNumberOfUsers).
    async fn count_users(&self, pool_id: &str) -> StoreResult<i64>;

    /// Inserts a user with its alias claims in one transaction; `Conflict` when the username key
    /// or the sub is taken, `AliasTaken` when another user holds a claimed alias.
    async fn insert_user(&self, user: &UserRecord, aliases: &[AliasClaim]) -> StoreResult<()>;

    async fn user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<UserRecord>>;

    async fn user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<UserRecord>>;

    /// Users whose `attribute` (email, phone_number or preferred_username) equals `value`.
    /// Emails and preferred usernames are indexed lower-cased: pass `value` lower-cased too.
    async fn users_by_attribute(
        &self,
        pool_id: &str,
        attribute: &str,
        value: &str,
    ) -> StoreResult<Vec<UserRecord>>;

    /// The user holding the alias claim `key` (an [`AliasClaim::key`]).
    async fn user_by_alias_claim(
        &self,
        pool_id: &str,
        key: &str,
    ) -> StoreResult<Option<UserRecord>>;

    /// Compare-and-swap on `version`, as for pools; the user's alias claims become `aliases` in
    /// the same transaction (`AliasTaken` when another user holds one and it is not taken over).
    async fn update_user(&self, user: &UserRecord, aliases: &[AliasClaim]) -> StoreResult<bool>;

    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool>;

    /// Users ordered by username key, starting after `after`.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;

    /// Inserts a group; `Conflict` when the name is taken in the pool.
    async fn insert_group(&self, group: &GroupType) -> StoreResult<()>;

    async fn group(&self, pool_id: &str, name: &str) -> StoreResult<Option<GroupType>>;

    async fn update_group(&self, group: &GroupType) -> StoreResult<bool>;

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool>;

    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupType>>;

    /// Idempotent.
    async fn add_member(&self, pool_id: &str, group: &str, username_key: &str) -> StoreResult<()>;

    async fn remove_member(
        &self,
        pool_id: &str,
        group: &str,
        username_key: &str,
    ) -> StoreResult<()>;

    /// Groups of a user ordered by name.
    async fn groups_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupType>>;

    /// Members of a group ordered by username key.
    async fn members(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;
}

/// One-time codes and the outbox of messages that carry them.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Writes `code` as the user's code for its purpose if the stored one is still `expected`
    /// (the same hash, guesses, issued and window start; `None`: no code is stored); false
    /// otherwise. Core decides what the new code's counters are (the issuing window's rule).
    async fn swap_code(
        &self,
        code: &CodeRecord,
        expected: Option<&CodeRecord>,
    ) -> StoreResult<bool>;

    /// Takes one guess at the code in one atomic step: counts it unless the window's
    /// `max_guesses` are used up. Simultaneous guesses never take more than `max_guesses`.
    async fn guess_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
        max_guesses: u32,
    ) -> StoreResult<CodeGuess>;

    /// Deletes the code if it is still the one hashed `code_hash`: true for exactly one caller.
    async fn consume_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
        code_hash: &str,
    ) -> StoreResult<bool>;

    async fn code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<Option<CodeRecord>>;

    /// Appends to the outbox.
    async fn push_message(&self, message: &OutgoingMessage) -> StoreResult<()>;

    /// Outbox messages, oldest first, optionally of one pool and one canonical username.
    async fn messages(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<OutgoingMessage>>;

    /// Replaces the stored message of the same id (its delivery status, its redaction).
    async fn update_message(&self, message: &OutgoingMessage) -> StoreResult<()>;

    /// Deletes messages created before `created_before` (epoch ms); returns how many.
    async fn prune_messages(&self, created_before: i64) -> StoreResult<u64>;
}

/// Sign-ins under way: the failed-attempt counter, single-use sign-in states (SECRET_BLOCKs,
/// Sessions) and pending sign-ins waiting for an MFA code or a device.
#[async_trait]
pub trait SignInStore: Send + Sync {
    /// The user's failed-sign-in counter; `None` when there is no such user.
    async fn sign_in_counter(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<SignInCounter>>;

    /// Writes `new` if the stored counter still equals `expected`; false otherwise (another
    /// attempt was counted first, or the user is gone).
    async fn swap_sign_in_counter(
        &self,
        pool_id: &str,
        username_key: &str,
        expected: SignInCounter,
        new: SignInCounter,
    ) -> StoreResult<bool>;

    /// Records that a single-use sign-in state (a SECRET_BLOCK, a Session) was used; false when
    /// it had been already. `expires_at` says when the record may be pruned.
    async fn spend_auth_state(&self, id: &str, expires_at: i64) -> StoreResult<bool>;

    /// Whether a state was spent (a console session ended by sign-out).
    async fn auth_state_spent(&self, id: &str) -> StoreResult<bool>;

    async fn insert_pending_sign_in(&self, pending: &PendingSignInRecord) -> StoreResult<()>;

    async fn pending_sign_in(&self, id: &str) -> StoreResult<Option<PendingSignInRecord>>;

    /// The newest pending sign-in of this user, client and device that has not expired at `now`
    /// (whatever step it waits for).
    async fn pending_sign_in_for_device(
        &self,
        pool_id: &str,
        client_id: &str,
        username_key: &str,
        device_key: &str,
        now: i64,
    ) -> StoreResult<Option<PendingSignInRecord>>;

    /// Writes `pending` if it still waits for `from_step`; false otherwise (another answer
    /// moved it on).
    async fn advance_pending_sign_in(
        &self,
        pending: &PendingSignInRecord,
        from_step: PendingStep,
    ) -> StoreResult<bool>;

    /// Deletes it if it waits for `step`; false when it was gone already or waits for another
    /// step (each pending sign-in is finished once, at its last step).
    async fn take_pending_sign_in(&self, id: &str, step: PendingStep) -> StoreResult<bool>;
}

/// A user's passkey (a WebAuthn credential) as CompleteWebAuthnRegistration stored it.
#[derive(Clone, Serialize, Deserialize)]
pub struct PasskeyRecord {
    pub pool_id: String,
    pub username_key: String,
    /// base64url (unpadded) of the credential's raw id: unique in the pool.
    pub credential_id: String,
    pub relying_party_id: String,
    pub friendly_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<String>,
    /// As the browser reported them at registration.
    #[serde(default)]
    pub transports: Vec<String>,
    /// Epoch ms.
    pub created_at: i64,
    /// The signature counter last seen (a column: raised in place, never lowered).
    #[serde(skip)]
    pub counter: u32,
    /// The verifier's credential (public key and flags) in its own serde form.
    pub credential: serde_json::Value,
}

impl std::fmt::Debug for PasskeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyRecord")
            .field("credential_id", &self.credential_id)
            .field("counter", &self.counter)
            .finish_non_exhaustive()
    }
}

/// A StartWebAuthnRegistration waiting for its CompleteWebAuthnRegistration (one per user).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasskeyRegistrationRecord {
    pub pool_id: String,
    pub username_key: String,
    /// The app client whose access token started it.
    pub client_id: String,
    pub relying_party_id: String,
    /// Epoch ms.
    pub expires_at: i64,
    /// The verifier's registration state (its challenge, policy, excluded ids).
    pub state: serde_json::Value,
}

/// Passkeys and their pending registrations.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Inserts a passkey in one atomic step: `LimitReached` when the user holds `max` already,
    /// `Conflict` when the pool holds its credential id.
    async fn insert_passkey(&self, passkey: &PasskeyRecord, max: u32) -> StoreResult<()>;

    /// The user's passkeys, oldest first.
    async fn passkeys(&self, pool_id: &str, username_key: &str) -> StoreResult<Vec<PasskeyRecord>>;

    /// Raises the stored signature counter to `counter` and writes `credential` (its flags),
    /// unless the stored counter is already as high: false then (a simultaneous sign-in got
    /// there first with a later count).
    async fn raise_passkey_counter(
        &self,
        passkey: &PasskeyRecord,
        counter: u32,
    ) -> StoreResult<bool>;

    /// Deletes one of the user's passkeys; false when the user has none with that id.
    async fn delete_passkey(
        &self,
        pool_id: &str,
        username_key: &str,
        credential_id: &str,
    ) -> StoreResult<bool>;

    /// Writes the user's pending registration, replacing any earlier one.
    async fn put_passkey_registration(&self, r: &PasskeyRegistrationRecord) -> StoreResult<()>;

    /// Removes and returns the user's pending registration: a registration is completed once,
    /// by the one request that takes it (expired ones included: core checks the time).
    async fn take_passkey_registration(
        &self,
        pool_id: &str,
        username_key: &str,
    ) -> StoreResult<Option<PasskeyRegistrationRecord>>;
}

/// Refresh-token families (auth sessions): issue, rotate, revoke, prune.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Inserts a session. With `cap`, the user's live sessions (unrevoked, unexpired at the
    /// session's `activity.at`) are brought down to `cap` counting this one: the least recently
    /// active others are revoked in the same transaction, after the user is locked, so
    /// simultaneous sign-ins never pass the cap together. Returns the ids it revoked.
    async fn insert_auth_session(
        &self,
        session: &AuthSessionRecord,
        cap: Option<u32>,
    ) -> StoreResult<Vec<String>>;

    /// Records a session's latest use (columns only: the document and version stay). An
    /// address or user agent not known (None) leaves the one recorded before.
    async fn touch_auth_session(&self, id: &str, activity: &SessionActivity) -> StoreResult<()>;

    /// The user's sessions neither revoked nor expired at `now`, by id after `after`, at most
    /// `limit`.
    async fn live_auth_sessions(
        &self,
        pool_id: &str,
        username_key: &str,
        now: i64,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AuthSessionRecord>>;

    async fn auth_session(&self, id: &str) -> StoreResult<Option<AuthSessionRecord>>;

    /// A session with its user (`None` if the user is gone), in one read: every access-token
    /// check needs both.
    async fn auth_session_with_user(
        &self,
        id: &str,
    ) -> StoreResult<Option<(AuthSessionRecord, Option<UserRecord>)>>;

    /// Compare-and-swap on `version`. Revocation bumps the version, so a write prepared before
    /// a revocation never lands over it.
    async fn update_auth_session(&self, session: &AuthSessionRecord) -> StoreResult<bool>;

    /// Marks one session revoked at `at` (kept if already revoked), whatever its version.
    async fn revoke_auth_session(&self, id: &str, at: i64) -> StoreResult<()>;

    /// Marks every live session of the user revoked at `at`; returns how many.
    async fn revoke_user_sessions(
        &self,
        pool_id: &str,
        username_key: &str,
        at: i64,
    ) -> StoreResult<u64>;

    async fn insert_authorization_code(&self, code: &AuthorizationCodeRecord) -> StoreResult<()>;

    /// Removes the code and returns it, if it is there: a code is spent by the one request that
    /// takes it, whatever its expiry (core checks that).
    async fn take_authorization_code(
        &self,
        code_hash: &str,
    ) -> StoreResult<Option<AuthorizationCodeRecord>>;

    /// Deletes expired sessions, sessions revoked before `revoked_before`, spent states, pending
    /// sign-ins, authorization codes and unconfirmed device keys past their expiry. Returns the number of rows removed.
    async fn prune_auth_state(&self, now: i64, revoked_before: i64) -> StoreResult<u64>;
}

/// Devices of users (device tracking).
#[async_trait]
pub trait DeviceStore: Send + Sync {
    /// Inserts a device; `Conflict` when the key exists.
    async fn insert_device(&self, device: &DeviceRecord) -> StoreResult<()>;

    async fn device(&self, pool_id: &str, device_key: &str) -> StoreResult<Option<DeviceRecord>>;

    /// Compare-and-swap on `version`.
    async fn update_device(&self, device: &DeviceRecord) -> StoreResult<bool>;

    /// Deletes the device and, in the same transaction, revokes (at `at`) the refresh-token
    /// families bound to it; false if it did not exist. `spare`: ForgetDevice's own session,
    /// if bound to the device, only has its refresh token revoked (`refresh_revoked_at`, its
    /// access tokens stay valid) and expires at `spare.expires_at` at the latest.
    async fn forget_device(
        &self,
        pool_id: &str,
        device_key: &str,
        at: i64,
        spare: Option<SparedSession<'_>>,
    ) -> StoreResult<bool>;

    /// The user's tracked devices (remembered ones only when `remembered_only`), ordered by key,
    /// starting after `after`. Issued keys are never listed.
    async fn list_devices(
        &self,
        pool_id: &str,
        username_key: &str,
        remembered_only: bool,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<DeviceRecord>>;
}

/// One sign-in event of a user (AdminListUserAuthEvents' `AuthEventType`): a sign-in attempt,
/// sign-up, password change or reset. `session_key` ties a sign-in's later steps to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthEventRecord {
    pub pool_id: String,
    pub event_id: String,
    pub username_key: String,
    /// SHA-256 (hex) of the Session the sign-in's latest challenge handed out, while it waits
    /// for an answer.
    pub session_key: Option<String>,
    /// Epoch ms.
    pub created_at: i64,
    pub version: i64,
    pub event: gatehouse_wire::AuthEventType,
    /// The device the sign-in presented or was given, and its refresh-token session: what
    /// "this wasn't me" forgets and revokes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
}

/// What the risk rating reads of a user's past sign-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignInHistory {
    /// `EventResponse` of the user's latest events since the time asked, newest first.
    pub latest: Vec<String>,
    /// Whether any event of the user passed.
    pub has_passed: bool,
    /// Whether one passed from the address asked about.
    pub passed_from_address: bool,
}

/// Sign-in events.
#[async_trait]
pub trait AuthEventStore: Send + Sync {
    async fn insert_auth_event(&self, event: &AuthEventRecord) -> StoreResult<()>;

    async fn auth_event(
        &self,
        pool_id: &str,
        event_id: &str,
    ) -> StoreResult<Option<AuthEventRecord>>;

    /// The event of the sign-in whose latest challenge handed out the Session hashed to
    /// `session_key`.
    async fn auth_event_by_session(
        &self,
        pool_id: &str,
        session_key: &str,
    ) -> StoreResult<Option<AuthEventRecord>>;

    /// Compare-and-swap on `version` (the record carries the new one).
    async fn update_auth_event(&self, event: &AuthEventRecord) -> StoreResult<bool>;

    /// The user's events, newest first, older than `before` (created_at, event_id) if given.
    async fn list_auth_events(
        &self,
        pool_id: &str,
        username_key: &str,
        before: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<AuthEventRecord>>;

    /// Removes the events created before `before` (epoch ms); how many.
    async fn prune_auth_events(&self, before: i64) -> StoreResult<u64>;

    /// The user's sign-in history as the rating reads it: the responses of at most `limit` events
    /// created after `since` (epoch ms), and whether any passed, from `address` or at all.
    async fn sign_in_history(
        &self,
        pool_id: &str,
        username_key: &str,
        address: Option<&str>,
        since: i64,
        limit: u32,
    ) -> StoreResult<SignInHistory>;
}

/// A user import job (CreateUserImportJob and the operations after it) and how far its run has
/// got. `job` is the job as the API describes it; the rest is the run's own bookkeeping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportJobRecord {
    pub pool_id: String,
    pub job_id: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Compare-and-swap counter: each write carries the next one.
    pub version: i64,
    pub job: gatehouse_wire::UserImportJobType,
    /// Whether the CSV was uploaded to the job's URL.
    #[serde(default)]
    pub uploaded: bool,
    /// Data rows of the CSV already taken (a resumed run starts after them).
    #[serde(default)]
    pub rows_done: u64,
    /// The running process holds the job until then (epoch ms), renewing it as it goes; a job
    /// whose lease ran out is another process's to resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    /// The run holding the lease (a random id per run): a run that finds another's id has
    /// lost the job and stops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
}

/// A pool's identity provider (CreateIdentityProvider), as the API describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityProviderRecord {
    pub pool_id: String,
    pub name: String,
    /// Epoch ms: the listing's order.
    pub created_at: i64,
    pub provider: gatehouse_wire::IdentityProviderType,
}

/// Identity providers, each with its `IdpIdentifiers`, unique in the pool.
#[async_trait]
pub trait IdentityProviderStore: Send + Sync {
    /// The provider and its identifiers, in one transaction: `Conflict` when the pool has a
    /// provider of that name, `AliasTaken(identifier)` when another provider has an identifier,
    /// `LimitReached` when the pool has `max` providers already (counted in the same atomic
    /// step, so simultaneous creations cannot pass it together).
    async fn insert_identity_provider(
        &self,
        p: &IdentityProviderRecord,
        identifiers: &[String],
        max: u32,
    ) -> StoreResult<()>;

    /// Replaces the provider of that name and its identifiers, as insert does, if it is still
    /// `previous` (compare-and-swap on the document); false otherwise.
    async fn update_identity_provider(
        &self,
        previous: &IdentityProviderRecord,
        p: &IdentityProviderRecord,
        identifiers: &[String],
    ) -> StoreResult<bool>;

    async fn delete_identity_provider(&self, pool_id: &str, name: &str) -> StoreResult<bool>;

    async fn identity_provider(
        &self,
        pool_id: &str,
        name: &str,
    ) -> StoreResult<Option<IdentityProviderRecord>>;

    async fn identity_provider_by_identifier(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<IdentityProviderRecord>>;

    /// Oldest first (created_at, then name), after the cursor if given.
    async fn list_identity_providers(
        &self,
        pool_id: &str,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<IdentityProviderRecord>>;
}

/// A hosted-UI customization (SetUICustomization) of a pool (`ALL`) or an app client: the API's
/// view and the logo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UiCustomizationRecord {
    pub customization: gatehouse_wire::UICustomizationType,
    /// The logo (PNG or JPEG), base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
}

/// Managed login styles (CreateManagedLoginBranding ...): one per app client, going with it.
#[async_trait]
pub trait BrandingStore: Send + Sync {
    /// `Conflict` when the client has a style.
    async fn insert_branding(
        &self,
        client_id: &str,
        branding: &gatehouse_wire::ManagedLoginBrandingType,
    ) -> StoreResult<()>;

    /// Replaces the style of that id if it is still `previous` (compare-and-swap on the
    /// document); false otherwise.
    async fn update_branding(
        &self,
        previous: &gatehouse_wire::ManagedLoginBrandingType,
        branding: &gatehouse_wire::ManagedLoginBrandingType,
    ) -> StoreResult<bool>;

    async fn delete_branding(&self, pool_id: &str, branding_id: &str) -> StoreResult<bool>;

    async fn branding(
        &self,
        pool_id: &str,
        branding_id: &str,
    ) -> StoreResult<Option<gatehouse_wire::ManagedLoginBrandingType>>;

    async fn client_branding(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Option<gatehouse_wire::ManagedLoginBrandingType>>;
}

/// Terms documents (CreateTerms ...): each names its app client, and a client has one of each
/// name.
#[async_trait]
pub trait TermsStore: Send + Sync {
    /// `Conflict` when the client has terms of that name.
    async fn insert_terms(&self, terms: &gatehouse_wire::TermsType) -> StoreResult<()>;

    /// Replaces the terms of that id if they are still `previous` (compare-and-swap on the
    /// document; false otherwise); `Conflict` when renamed onto a name the client has.
    async fn update_terms(
        &self,
        previous: &gatehouse_wire::TermsType,
        terms: &gatehouse_wire::TermsType,
    ) -> StoreResult<bool>;

    async fn delete_terms(&self, pool_id: &str, terms_id: &str) -> StoreResult<bool>;

    async fn terms(
        &self,
        pool_id: &str,
        terms_id: &str,
    ) -> StoreResult<Option<gatehouse_wire::TermsType>>;

    /// The client's terms, by name.
    async fn client_terms(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> StoreResult<Vec<gatehouse_wire::TermsType>>;

    /// The pool's terms, oldest first (creation, then id), after the cursor if given.
    async fn list_terms(
        &self,
        pool_id: &str,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<gatehouse_wire::TermsType>>;
}

/// User import jobs and their CSV files.
#[async_trait]
pub trait ImportStore: Send + Sync {
    async fn insert_import_job(&self, job: &ImportJobRecord) -> StoreResult<()>;

    async fn import_job(&self, pool_id: &str, job_id: &str)
        -> StoreResult<Option<ImportJobRecord>>;

    /// Compare-and-swap on `version` (the record carries the new one).
    async fn update_import_job(&self, job: &ImportJobRecord) -> StoreResult<bool>;

    /// The pool's jobs, newest first (CreationDate, then JobId, descending), after the cursor
    /// (created_at, job_id) if given.
    async fn list_import_jobs(
        &self,
        pool_id: &str,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<ImportJobRecord>>;

    /// Every pool's jobs whose `Status` is one of `statuses` (runs to resume or expire).
    async fn import_jobs_with_status(&self, statuses: &[&str])
        -> StoreResult<Vec<ImportJobRecord>>;

    /// Keeps `csv` as the job's file, replacing an earlier upload, if and only if the job's
    /// status is still `Created`, in one atomic step: an upload racing StartUserImportJob is
    /// either in the file the run reads or refused (false).
    async fn put_import_file(&self, pool_id: &str, job_id: &str, csv: &[u8]) -> StoreResult<bool>;

    /// Whether the job has a file (without reading it).
    async fn has_import_file(&self, pool_id: &str, job_id: &str) -> StoreResult<bool>;

    /// Drops the job's file (the job is over: Cognito deletes it too).
    async fn delete_import_file(&self, pool_id: &str, job_id: &str) -> StoreResult<()>;

    async fn import_file(&self, pool_id: &str, job_id: &str) -> StoreResult<Option<Vec<u8>>>;
}

/// A pool or app client written by some server process (this one included), as a back end that
/// shares its database between processes reports it (PostgreSQL: LISTEN/NOTIFY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordChange {
    Pool(String),
    Client(String),
    /// Every record may have changed (development mode's reset).
    All,
}

/// What a [`RecordFeed`] says next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedEvent {
    /// The feed is (again) connected: from now on every change is reported. Changes made while
    /// it was not were not, so anything cached before is suspect.
    Live,
    Change(RecordChange),
    /// Every change committed before this instant has been reported (the database answered a
    /// query sent then, after the notifications before it). A feed says so a few times a
    /// second; a feed that stops saying so may be cut off without knowing it.
    Vouched(std::time::Instant),
    /// The feed lost its connection; it reconnects by itself on the next call.
    Lost,
}

/// Changes to pools and app clients as they commit, so a process's cache of them can follow
/// writes made through other processes.
#[async_trait]
pub trait RecordFeed: Send {
    async fn next(&mut self) -> FeedEvent;
}

/// Every family together: what a back end implements and what core holds. Core modules name
/// the family they use (`use crate::store::CodeStore;`), so each asks only for its own records.
#[async_trait]
pub trait Store:
    PasskeyStore
    + PoolStore
    + UserStore
    + CodeStore
    + SignInStore
    + TokenStore
    + DeviceStore
    + AuthEventStore
    + ImportStore
    + IdentityProviderStore
    + TermsStore
    + BrandingStore
    + 'static
{
    /// One cheap round trip to the database (`/health`).
    async fn ping(&self) -> StoreResult<()>;

    /// Records `fingerprint` as the deployment's server key unless one is recorded already;
    /// returns the recorded one (the first writer's, whoever wins a race).
    async fn server_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String>;

    /// A setting of the whole deployment (not of a pool), by name.
    async fn deployment_setting(&self, name: &str) -> StoreResult<Option<String>>;

    /// Writes a deployment setting. Names starting `setting:` are dropped by [`Store::reset`];
    /// the others are facts of the deployment (the server key's fingerprint).
    async fn put_deployment_setting(&self, name: &str, value: &str) -> StoreResult<()>;

    /// Removes all state (development mode's reset endpoint).
    async fn reset(&self) -> StoreResult<()>;

    /// The feed of pool and app-client changes, for back ends shared by several processes;
    /// `None` where this process is the only writer it needs to hear of (embedded SQLite).
    fn record_feed(&self) -> Option<Box<dyn RecordFeed>> {
        None
    }
}
