//! Authorization codes (gatehouse_core::oauth) with a clock the test moves, on both stores: a
//! code lives 5 minutes, is spent by the one redemption that takes it however many race for
//! it, and redeems nothing once its user is disabled.

mod common;

use std::sync::Arc;

use common::{
    core_on, create_client, create_pool, create_user, on_both, TestClock, TestDb, PASSWORD,
    START_MS,
};
use gatehouse_core::oauth::authorize::{AuthorizeParams, CODE_TTL_MS};
use gatehouse_core::oauth::hosted_sign_in::{BrowserDevices, HostedStep};
use gatehouse_core::oauth::token::TokenForm;
use gatehouse_core::{Caller, Core};
use gatehouse_wire::*;

const CALLBACK: &str = "https://app.example/cb";
/// A PKCE verifier and its S256 challenge (base64url SHA-256, computed independently).
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K1s5uIAKDEEW0rD0Sya8Ug3xhQ";
const CHALLENGE: &str = "bIn-n8nyZO6Wch7ci7izrFUsePF-y1mI7iCZ3AGFuGw";

struct Setup {
    core: Arc<Core>,
    clock: Arc<TestClock>,
    pool: String,
    client: String,
}

async fn setup(db: &TestDb) -> Setup {
    let clock = TestClock::at(START_MS);
    let core = Arc::new(core_on(db.store().await, clock.clone()));
    let pool = create_pool(&core, CreateUserPoolRequest::default()).await;
    core.create_user_pool_domain(CreateUserPoolDomainRequest {
        domain: "codes-test".into(),
        user_pool_id: pool.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let client = create_client(
        &core,
        &pool,
        &[],
        CreateUserPoolClientRequest {
            allowed_oauth_flows_user_pool_client: Some(true),
            allowed_oauth_flows: Some(vec![OAuthFlowType::Code]),
            allowed_oauth_scopes: Some(vec!["openid".into()]),
            callback_urls: Some(vec![CALLBACK.into()]),
            ..Default::default()
        },
    )
    .await;
    create_user(&core, &pool, "alice", true).await;
    Setup {
        core,
        clock,
        pool,
        client,
    }
}

/// Signs alice in through the hosted pages' steps; returns the code.
async fn code(s: &Setup) -> String {
    let params = AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(s.client.clone()),
        redirect_uri: Some(CALLBACK.into()),
        code_challenge: Some(CHALLENGE.into()),
        code_challenge_method: Some("S256".into()),
        ..Default::default()
    };
    let authz = s.core.check_authorization(&params, None).await.unwrap();
    let mut devices = BrowserDevices::default();
    let step = s
        .core
        .hosted_sign_in(&authz, "alice", PASSWORD, &mut devices, &Caller::default())
        .await
        .unwrap();
    let HostedStep::SignedIn { tokens, .. } = step else {
        panic!("expected a finished sign-in, got {step:?}");
    };
    let redirect = s
        .core
        .complete_authorization(&authz, &tokens)
        .await
        .unwrap();
    redirect
        .split_once("code=")
        .map(|(_, c)| c.to_string())
        .expect("a code in the redirect")
}

fn form(s: &Setup, code: &str) -> TokenForm {
    TokenForm {
        grant_type: Some("authorization_code".into()),
        code: Some(code.into()),
        redirect_uri: Some(CALLBACK.into()),
        code_verifier: Some(VERIFIER.into()),
        client_id: Some(s.client.clone()),
        ..Default::default()
    }
}

on_both! { #[tokio::test] a_code_lives_five_minutes }
async fn a_code_lives_five_minutes(db: TestDb) {
    let s = setup(&db).await;
    let fresh = code(&s).await;
    s.clock.advance(CODE_TTL_MS - 1000);
    let tokens = s
        .core
        .oauth_token(form(&s, &fresh), None, None)
        .await
        .unwrap();
    assert!(tokens["id_token"].is_string() && tokens["refresh_token"].is_string());
    let stale = code(&s).await;
    s.clock.advance(CODE_TTL_MS);
    let e = s
        .core
        .oauth_token(form(&s, &stale), None, None)
        .await
        .unwrap_err();
    assert_eq!(
        (e.error, e.description.as_deref()),
        ("invalid_grant", Some("the code has expired"))
    );
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] one_of_many_simultaneous_redemptions_gets_the_tokens }
async fn one_of_many_simultaneous_redemptions_gets_the_tokens(db: TestDb) {
    let s = setup(&db).await;
    for _ in 0..3 {
        let c = code(&s).await;
        let tries: Vec<_> = (0..16)
            .map(|_| {
                let core = s.core.clone();
                let f = form(&s, &c);
                tokio::spawn(async move { core.oauth_token(f, None, None).await })
            })
            .collect();
        let mut won = 0;
        for t in tries {
            match t.await.unwrap() {
                Ok(_) => won += 1,
                Err(e) => assert_eq!(e.error, "invalid_grant"),
            }
        }
        assert_eq!(won, 1);
    }
}

on_both! { #[tokio::test] a_disabled_user_redeems_nothing }
async fn a_disabled_user_redeems_nothing(db: TestDb) {
    let s = setup(&db).await;
    let c = code(&s).await;
    s.core
        .admin_disable_user(AdminDisableUserRequest {
            user_pool_id: s.pool.clone(),
            username: "alice".into(),
        })
        .await
        .unwrap();
    let e = s
        .core
        .oauth_token(form(&s, &c), None, None)
        .await
        .unwrap_err();
    assert_eq!(e.error, "invalid_grant");
}
