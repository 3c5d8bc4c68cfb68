//! Core rules that depend on time, on a real (in-memory) SQLite store with a clock the test
//! moves: codes expire after Cognito's lifetimes.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use gatehouse_core::{Clock, Core, CoreConfig, OsEntropy};
use gatehouse_wire::*;

struct TestClock(AtomicI64);

impl Clock for TestClock {
    fn now_millis(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

async fn core_at(start_ms: i64) -> (Core, Arc<TestClock>) {
    let store = gatehouse_store::open("sqlite::memory:").await.unwrap();
    let clock = Arc::new(TestClock(AtomicI64::new(start_ms)));
    let core = Core::new(
        store,
        clock.clone(),
        Arc::new(OsEntropy),
        CoreConfig::default(),
    );
    (core, clock)
}

#[tokio::test]
async fn sign_up_codes_expire_after_24_hours() {
    let (core, clock) = core_at(1_800_000_000_000).await;
    let pool = core
        .create_user_pool(CreateUserPoolRequest {
            pool_name: "clock".into(),
            auto_verified_attributes: Some(vec![VerifiedAttributeType::Email]),
            ..Default::default()
        })
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = core
        .create_user_pool_client(CreateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_name: "app".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let sign_up = |user: &str| SignUpRequest {
        client_id: client.clone(),
        username: user.into(),
        password: Some("Passw0rd!".into()),
        user_attributes: Some(vec![AttributeType {
            name: "email".into(),
            value: Some(format!("{user}@example.com")),
        }]),
        ..Default::default()
    };
    let confirm = |user: &str, code: &str| ConfirmSignUpRequest {
        client_id: client.clone(),
        username: user.into(),
        confirmation_code: code.into(),
        ..Default::default()
    };
    let code_of = |core: &Core, user: &'static str| {
        let core = core.clone();
        let pool = pool.clone();
        async move {
            core.outbox(Some(&pool), Some(user), 10)
                .await
                .unwrap()
                .pop()
                .unwrap()
                .code
                .unwrap()
        }
    };

    core.sign_up(sign_up("early")).await.unwrap();
    core.sign_up(sign_up("late")).await.unwrap();
    let early = code_of(&core, "early").await;
    let late = code_of(&core, "late").await;

    clock.0.fetch_add(24 * 3600 * 1000 - 1000, Ordering::SeqCst);
    core.confirm_sign_up(confirm("early", &early))
        .await
        .unwrap();

    clock.0.fetch_add(2000, Ordering::SeqCst);
    let err = gatehouse_wire::ApiError::from(
        core.confirm_sign_up(confirm("late", &late))
            .await
            .unwrap_err(),
    );
    assert_eq!(err.code, "ExpiredCodeException");
    assert_eq!(
        err.message,
        "Invalid code provided, please request a code again."
    );

    // A new code works again.
    core.resend_confirmation_code(ResendConfirmationCodeRequest {
        client_id: client.clone(),
        username: "late".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let fresh = code_of(&core, "late").await;
    core.confirm_sign_up(confirm("late", &fresh)).await.unwrap();
}
