//! Gatehouse's domain: every Cognito rule lives here, in the module named after its concept.
//! No HTTP and no SQL: requests arrive as wire shapes, state goes through [`Store`], and time and
//! randomness are injected ([`Clock`], [`Entropy`]) so rules are tested deterministically.

pub mod app_clients;
pub mod messages;
mod env;
mod error;
pub mod ids;
mod pagination;
pub mod schema;
pub mod store;
pub mod tags;
pub mod user_pools;

use std::sync::Arc;

pub use env::{Clock, Entropy, OsEntropy, SystemClock};
pub use error::CoreError;
pub use store::{Store, StoreError};

/// Settings of the deployment that shape identifiers.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// Region used in pool ids (`us-east-1_AbC123xyz`) and ARNs.
    pub region: String,
    /// Account id used in ARNs.
    pub account_id: String,
}

impl Default for CoreConfig {
    fn default() -> Self {
        CoreConfig {
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
        }
    }
}

/// The domain service: what the HTTP layer calls.
#[derive(Clone)]
pub struct Core {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) entropy: Arc<dyn Entropy>,
    pub(crate) config: Arc<CoreConfig>,
}

impl Core {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        entropy: Arc<dyn Entropy>,
        config: CoreConfig,
    ) -> Self {
        Core {
            store,
            clock,
            entropy,
            config: Arc::new(config),
        }
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Now, in epoch seconds with millisecond precision, as Cognito's dates are on the wire.
    pub(crate) fn now_epoch(&self) -> f64 {
        let ms = self.clock.now_millis();
        ms as f64 / 1000.0
    }
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;
