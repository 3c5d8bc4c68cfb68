//! Gatehouse's domain: every Cognito rule lives here, in the module named after its concept.
//! No HTTP and no SQL: requests arrive as wire shapes, state goes through [`Store`], and time and
//! randomness are injected ([`Clock`], [`Entropy`]) so rules are tested deterministically.

pub mod app_clients;
mod attributes;
mod auth;
mod auth_events;
mod auth_factors;
mod backoff;
pub mod client_secrets;
mod codes;
pub mod console;
mod derived_tokens;
pub mod device_trust;
mod devices;
mod domains;
mod env;
mod error;
pub mod groups;
pub mod identity_providers;
pub mod ids;
mod log_delivery;
mod maintenance;
mod managed_login_branding;
pub mod messages;
mod mfa;
pub mod oauth;
mod pagination;
mod passkeys;
pub mod passwords;
mod provisioned_limits;
mod record_cache;
mod recovery;
mod replicas;
mod resource_servers;
mod risk;
pub mod schema;
mod self_service;
pub mod server_key;
mod sessions;
pub mod sign_up;
mod signing_certificate;
pub mod store;
pub mod tags;
mod terms;
pub mod tokens;
pub mod triggers;
pub mod ui_customization;
pub mod user_import;
pub mod user_migration;
pub mod user_pools;
mod user_sessions;
pub mod users;
mod verified_tokens;

use std::sync::Arc;

pub use auth_events::records_events;
pub use env::{Clock, Entropy, OsEntropy, ShiftedClock, SystemClock};
pub use error::CoreError;
pub use record_cache::reading_through;
pub use store::{Store, StoreError};
pub use triggers::counting_lambda_time;

/// Settings of the deployment that shape identifiers.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Region used in pool ids (`us-east-1_AbC123xyz`) and ARNs.
    pub region: String,
    /// Account id used in ARNs.
    pub account_id: String,
    /// Base URL clients reach this server at, without a trailing slash: tokens' issuer is
    /// `{public_url}/{poolId}`.
    pub public_url: String,
    /// Keep codes and temporary passwords in the outbox after delivery (development mode: the
    /// outbox API reads them). The binary sets it from `--dev`; off, a delivered message is kept
    /// redacted (messages.rs).
    pub keep_message_secrets: bool,
    /// How long outbox messages are kept (ms).
    pub outbox_retention_ms: i64,
    /// How long sign-in events are kept (ms).
    pub auth_event_retention_ms: i64,
    /// Where pools' routed log records are written (log_delivery.rs); None: nowhere.
    pub log_delivery_dir: Option<std::path::PathBuf>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            public_url: "http://127.0.0.1:9229".into(),
            keep_message_secrets: true,
            outbox_retention_ms: 7 * 86_400_000,
            auth_event_retention_ms: 90 * 86_400_000,
            log_delivery_dir: None,
        }
    }
}

/// Who is calling, as far as the transport can tell: devices record the address they were last
/// used from and take a name from the User-Agent when the app gives none.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

/// The domain service: what the HTTP layer calls.
#[derive(Clone)]
pub struct Core {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) entropy: Arc<dyn Entropy>,
    pub(crate) config: Arc<CoreConfig>,
    pub(crate) courier: Arc<dyn messages::Courier>,
    pub(crate) lambda: Arc<dyn triggers::LambdaInvoker>,
    pub(crate) server_key: Arc<server_key::ServerKey>,
    pub(crate) key_cache: Arc<tokens::KeyCache>,
    pub(crate) records: Arc<record_cache::RecordCache>,
    pub(crate) verified_tokens: Arc<verified_tokens::VerifiedTokens>,
}

impl Core {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        config: CoreConfig,
    ) -> Self {
        let courier = Arc::new(messages::LogCourier { show_codes: false });
        let server_key = Arc::new(server_key::ServerKey::random(entropy.as_ref()));
        Core {
            store,
            clock,
            entropy,
            config: Arc::new(config),
            courier,
            lambda: Arc::new(triggers::NoLambdaEndpoint),
            server_key,
            key_cache: Arc::default(),
            records: Arc::default(),
            verified_tokens: Arc::default(),
        }
    }

    /// Seals sign-in state and signing keys with `key` (the deployment's server key) instead of
    /// a random per-process key.
    pub fn with_server_key(mut self, key: server_key::ServerKey) -> Self {
        self.server_key = Arc::new(key);
        self
    }

    /// Delivers messages through `courier` instead of the log.
    pub fn with_courier(mut self, courier: Arc<dyn messages::Courier>) -> Self {
        self.courier = courier;
        self
    }

    /// Wipes every record (development mode's reset), and the caches that mirror them.
    pub async fn reset(&self) -> std::result::Result<(), StoreError> {
        self.store.reset().await?;
        self.key_cache.clear();
        self.records.clear();
        self.verified_tokens.clear();
        Ok(())
    }

    /// Refuses a database that processes with another server key use: they could not open
    /// each other's sealed sign-in state, signing keys or TOTP secrets, nor match codes.
    pub async fn check_server_key(&self) -> std::result::Result<(), String> {
        let mine = self.server_key.fingerprint();
        let recorded = self
            .store
            .server_key_fingerprint(mine)
            .await
            .map_err(|e| format!("cannot read the deployment's server key fingerprint: {e}"))?;
        if recorded == mine {
            return Ok(());
        }
        Err(format!(
            "this database belongs to a deployment with another server key (fingerprint \
             {recorded}; this process's is {mine}): give every process the same server key \
             (GATEHOUSE_SERVER_KEY / server_key, or the same server.key file)"
        ))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    // One family of records each: a core module's calls say which records it touches.
    pub(crate) fn pools(&self) -> &dyn store::PoolStore {
        &*self.store
    }

    pub(crate) fn users(&self) -> &dyn store::UserStore {
        &*self.store
    }

    pub(crate) fn codes(&self) -> &dyn store::CodeStore {
        &*self.store
    }

    pub(crate) fn sign_ins(&self) -> &dyn store::SignInStore {
        &*self.store
    }

    pub(crate) fn tokens(&self) -> &dyn store::TokenStore {
        &*self.store
    }

    pub(crate) fn devices(&self) -> &dyn store::DeviceStore {
        &*self.store
    }

    pub(crate) fn auth_events(&self) -> &dyn store::AuthEventStore {
        &*self.store
    }

    pub(crate) fn now_millis(&self) -> i64 {
        self.clock.now_millis()
    }

    /// Now, in epoch seconds with millisecond precision, as Cognito's dates are on the wire.
    pub(crate) fn now_epoch(&self) -> f64 {
        let ms = self.clock.now_millis();
        ms as f64 / 1000.0
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
