//! Core rules that depend on time, on a real store (in-memory SQLite; PostgreSQL too when
//! configured) with a clock the test moves: codes expire after Cognito's lifetimes.

mod common;

use common::{core_on, create_client, create_pool, on_both, TestClock, TestDb, START_MS};
use gatehouse_core::{Caller, Core};
use gatehouse_wire::*;

on_both! { #[tokio::test] sign_up_codes_expire_after_24_hours }
async fn sign_up_codes_expire_after_24_hours(db: TestDb) {
    let clock = TestClock::at(START_MS);
    let core = core_on(db.store().await, clock.clone());
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "clock".into(),
            auto_verified_attributes: Some(vec![VerifiedAttributeType::Email]),
            ..Default::default()
        },
    )
    .await;
    let client = create_client(&core, &pool, &[], Default::default()).await;
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

    core.sign_up(&Caller::default(), sign_up("early"))
        .await
        .unwrap();
    core.sign_up(&Caller::default(), sign_up("late"))
        .await
        .unwrap();
    let early = code_of(&core, "early").await;
    let late = code_of(&core, "late").await;

    clock.advance(24 * 3600 * 1000 - 1000);
    core.confirm_sign_up(confirm("early", &early))
        .await
        .unwrap();

    clock.advance(2000);
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
    core.resend_confirmation_code(
        &Caller::default(),
        ResendConfirmationCodeRequest {
            client_id: client.clone(),
            username: "late".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let fresh = code_of(&core, "late").await;
    core.confirm_sign_up(confirm("late", &fresh)).await.unwrap();
}
