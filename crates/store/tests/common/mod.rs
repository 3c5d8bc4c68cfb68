//! What the clock tests share: a clock the test moves, a core (a "server process") on a store
//! and that clock, the usual pool / app client / user set-up, and errors as (code, message).

#![allow(dead_code)] // each test file uses its own part

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use gatehouse_core::server_key::ServerKey;
use gatehouse_core::{Clock, Core, CoreConfig, OsEntropy, Store};
use gatehouse_wire::*;

/// 2027-01-15: far from any boundary the tests care about.
pub const START_MS: i64 = 1_800_000_000_000;
pub const PASSWORD: &str = "Passw0rd!";

pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn at(start_ms: i64) -> Arc<TestClock> {
        Arc::new(TestClock(AtomicI64::new(start_ms)))
    }

    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fresh in-memory SQLite store.
pub async fn memory_store() -> Arc<dyn Store> {
    gatehouse_store::open("sqlite::memory:").await.unwrap()
}

/// A core on `store` and `clock`; every core gets the same server key, as the processes of one
/// deployment do.
pub fn core_on(store: Arc<dyn Store>, clock: Arc<TestClock>) -> Core {
    Core::new(store, clock, Arc::new(OsEntropy), CoreConfig::default())
        .with_server_key(ServerKey::from_bytes(&[7; 32]))
}

/// A core error as the wire shows it.
pub fn err(e: gatehouse_core::CoreError) -> (String, String) {
    let e = ApiError::from(e);
    (e.code.to_string(), e.message)
}

pub async fn create_pool(core: &Core, request: CreateUserPoolRequest) -> String {
    core.create_user_pool(request)
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap()
}

/// An app client of `pool` (no secret) allowing `flows`; `request` gives any other settings.
pub async fn create_client(
    core: &Core,
    pool: &str,
    flows: &[ExplicitAuthFlowsType],
    request: CreateUserPoolClientRequest,
) -> String {
    core.create_user_pool_client(CreateUserPoolClientRequest {
        user_pool_id: pool.to_string(),
        client_name: "app".into(),
        explicit_auth_flows: (!flows.is_empty()).then(|| flows.to_vec()),
        ..request
    })
    .await
    .unwrap()
    .user_pool_client
    .unwrap()
    .client_id
    .unwrap()
}

/// AdminCreateUser (no message) with PASSWORD as the temporary password; with `permanent`,
/// AdminSetUserPassword makes it permanent (the user is CONFIRMED).
pub async fn create_user(core: &Core, pool: &str, name: &str, permanent: bool) {
    core.admin_create_user(AdminCreateUserRequest {
        user_pool_id: pool.to_string(),
        username: name.into(),
        message_action: Some(MessageActionType::Suppress),
        temporary_password: Some(PASSWORD.into()),
        ..Default::default()
    })
    .await
    .unwrap();
    if permanent {
        core.admin_set_user_password(AdminSetUserPasswordRequest {
            user_pool_id: pool.to_string(),
            username: name.into(),
            password: PASSWORD.into(),
            permanent: Some(true),
        })
        .await
        .unwrap();
    }
}
