//! Promises that simultaneous requests must not break, raced many times on a file-backed SQLite
//! store (several connections) with two cores on it, as two server processes share a database:
//! a code is redeemed once and guessed at most five times, an alias has one holder, a
//! revocation that answered holds, a rotated refresh token is taken once, and concurrent
//! attribute updates all land.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{
    core_on, create_client, create_pool, create_user, err, on_both, TestClock, TestDb, START_MS,
};
use gatehouse_core::messages::{Courier, DeliveryError, OutgoingMessage};
use gatehouse_core::{Caller, Core};
use gatehouse_wire::*;

const ROUNDS: usize = 8;

/// Keeps every delivered message, so a test can read the codes.
#[derive(Default)]
struct Inbox(Mutex<Vec<OutgoingMessage>>);

#[async_trait]
impl Courier for Inbox {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        self.0.lock().unwrap().push(m.clone());
        Ok(())
    }
}

impl Inbox {
    fn last_code(&self, username: &str) -> String {
        let all = self.0.lock().unwrap();
        all.iter()
            .rev()
            .find(|m| m.username == username)
            .and_then(|m| m.code.clone())
            .expect("a code was sent")
    }
}

struct World {
    clock: Arc<TestClock>,
    /// Two "processes" on one database.
    a: Core,
    b: Core,
    inbox: Arc<Inbox>,
}

impl World {
    async fn new(db: &TestDb) -> World {
        let store = db.open().await;
        let clock = TestClock::at(START_MS);
        let inbox = Arc::new(Inbox::default());
        let a = core_on(store.clone(), clock.clone()).with_courier(inbox.clone());
        let b = core_on(store, clock.clone()).with_courier(inbox.clone());
        World { clock, a, b, inbox }
    }

    /// Core `a` for even tasks, `b` for odd ones.
    fn core(&self, i: usize) -> Core {
        if i % 2 == 0 {
            self.a.clone()
        } else {
            self.b.clone()
        }
    }
}

/// Runs `n` copies of `f(i)` at once and collects their results in order.
async fn race<T, F, Fut>(n: usize, f: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    let mut out = Vec::with_capacity(n);
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Exactly one of `results` succeeded; every other failed with `loser`.
fn one_wins(results: &[Result<(), (String, String)>], loser: &str) {
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(e.0, loser, "{e:?}");
    }
}

fn email_pool(verified_alias: bool) -> CreateUserPoolRequest {
    CreateUserPoolRequest {
        pool_name: "races".into(),
        auto_verified_attributes: Some(vec![VerifiedAttributeType::Email]),
        username_attributes: (!verified_alias).then(|| vec![UsernameAttributeType::Email]),
        alias_attributes: verified_alias.then(|| vec![AliasAttributeType::Email]),
        ..Default::default()
    }
}

/// A pool whose users recover by email, a client, and `name` with a verified email.
async fn recovery_world(db: &TestDb) -> (World, String, String) {
    let w = World::new(db).await;
    let pool = create_pool(&w.a, email_pool(true)).await;
    let client = create_client(&w.a, &pool, &[], Default::default()).await;
    (w, pool, client)
}

async fn user_with_email(w: &World, pool: &str, name: &str) {
    create_user(&w.a, pool, name, true).await;
    w.a.admin_update_user_attributes(AdminUpdateUserAttributesRequest {
        user_pool_id: pool.into(),
        username: name.into(),
        user_attributes: vec![
            attr("email", &format!("{name}@example.com")),
            attr("email_verified", "true"),
        ],
        ..Default::default()
    })
    .await
    .unwrap();
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType {
        name: name.into(),
        value: Some(value.into()),
    }
}

async fn forgot(w: &World, client: &str, name: &str) -> String {
    w.a.forgot_password(
        &Caller::default(),
        ForgotPasswordRequest {
            client_id: client.into(),
            username: name.into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    w.inbox.last_code(name)
}

fn confirm_forgot(
    core: Core,
    client: &str,
    name: &str,
    code: &str,
) -> impl std::future::Future<Output = Result<(), (String, String)>> + Send + 'static {
    let req = ConfirmForgotPasswordRequest {
        client_id: client.into(),
        username: name.into(),
        confirmation_code: code.into(),
        password: format!("N3w-{code}-Passw0rd!"),
        ..Default::default()
    };
    async move {
        core.confirm_forgot_password(&Caller::default(), req)
            .await
            .map(|_| ())
            .map_err(err)
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] simultaneous_confirmations_of_one_code_accept_it_once }
async fn simultaneous_confirmations_of_one_code_accept_it_once(db: TestDb) {
    let (w, pool, client) = recovery_world(&db).await;
    for round in 0..ROUNDS {
        let name = format!("user{round}");
        user_with_email(&w, &pool, &name).await;
        let code = forgot(&w, &client, &name).await;
        let results = race(16, |i| confirm_forgot(w.core(i), &client, &name, &code)).await;
        // The others find the code spent or, when more than five guesses were counted before
        // the winner consumed it (a truly parallel store, PostgreSQL), the guesses used up.
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        for e in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                ["CodeMismatchException", "LimitExceededException"].contains(&e.0.as_str()),
                "{e:?}"
            );
        }
        // Spent: it never comes back.
        let again = confirm_forgot(w.a.clone(), &client, &name, &code).await;
        assert_eq!(again.unwrap_err().0, "CodeMismatchException");
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] thirty_two_simultaneous_wrong_guesses_check_at_most_five }
async fn thirty_two_simultaneous_wrong_guesses_check_at_most_five(db: TestDb) {
    let (w, pool, client) = recovery_world(&db).await;
    for round in 0..ROUNDS {
        let name = format!("user{round}");
        user_with_email(&w, &pool, &name).await;
        let code = forgot(&w, &client, &name).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let results = race(32, |i| confirm_forgot(w.core(i), &client, &name, wrong)).await;
        let checked = results
            .iter()
            .filter(|r| matches!(r, Err((c, _)) if c == "CodeMismatchException"))
            .count();
        let refused = results
            .iter()
            .filter(|r| matches!(r, Err((c, _)) if c == "LimitExceededException"))
            .count();
        assert_eq!((checked, refused), (5, 27), "round {round}");
        // The right code is refused too now, and a new code does not bring guesses back.
        let right = confirm_forgot(w.a.clone(), &client, &name, &code).await;
        assert_eq!(right.unwrap_err().0, "LimitExceededException");
        let code = forgot(&w, &client, &name).await;
        let right = confirm_forgot(w.a.clone(), &client, &name, &code).await;
        assert_eq!(right.unwrap_err().0, "LimitExceededException");
    }
    // The window ends: a new code works again.
    w.clock.advance(3600 * 1000 + 1);
    let code = forgot(&w, &client, "user0").await;
    confirm_forgot(w.a.clone(), &client, "user0", &code)
        .await
        .unwrap();
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] a_wrong_guess_racing_the_right_one_never_revives_the_code }
async fn a_wrong_guess_racing_the_right_one_never_revives_the_code(db: TestDb) {
    let (w, pool, client) = recovery_world(&db).await;
    for round in 0..ROUNDS {
        let name = format!("user{round}");
        user_with_email(&w, &pool, &name).await;
        let code = forgot(&w, &client, &name).await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let results = race(4, |i| {
            let guess = if i == 0 { code.clone() } else { wrong.into() };
            confirm_forgot(w.core(i), &client, &name, &guess)
        })
        .await;
        assert!(results[0].is_ok(), "round {round}: {results:?}");
        let again = race(4, |i| confirm_forgot(w.core(i), &client, &name, &code)).await;
        assert!(again.iter().all(|r| r.is_err()), "round {round}: {again:?}");
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] forgot_password_sends_at_most_five_codes_an_hour }
async fn forgot_password_sends_at_most_five_codes_an_hour(db: TestDb) {
    let (w, pool, client) = recovery_world(&db).await;
    user_with_email(&w, &pool, "alice").await;
    let results = race(12, |i| {
        let core = w.core(i);
        let req = ForgotPasswordRequest {
            client_id: client.clone(),
            username: "alice".into(),
            ..Default::default()
        };
        async move {
            core.forgot_password(&Caller::default(), req)
                .await
                .map(|_| ())
                .map_err(err)
        }
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 5);
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            e,
            &(
                "LimitExceededException".to_string(),
                "Attempt limit exceeded, please try after some time.".to_string()
            )
        );
    }
    w.clock.advance(3600 * 1000 + 1);
    forgot(&w, &client, "alice").await;
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] simultaneous_sign_ups_with_one_email_as_username_make_one_user }
async fn simultaneous_sign_ups_with_one_email_as_username_make_one_user(db: TestDb) {
    let w = World::new(&db).await;
    let pool = create_pool(
        &w.a,
        CreateUserPoolRequest {
            username_configuration: Some(UsernameConfigurationType {
                case_sensitive: false,
            }),
            ..email_pool(false)
        },
    )
    .await;
    let client = create_client(&w.a, &pool, &[], Default::default()).await;
    for round in 0..ROUNDS {
        let email = format!("Same{round}@example.com");
        let results = race(16, |i| {
            let core = w.core(i);
            // Case differs between requests: the pool compares without it.
            let username = if i % 3 == 0 {
                email.to_lowercase()
            } else {
                email.clone()
            };
            let req = SignUpRequest {
                client_id: client.clone(),
                username,
                password: Some("Passw0rd!".into()),
                ..Default::default()
            };
            async move {
                core.sign_up(&Caller::default(), req)
                    .await
                    .map(|_| ())
                    .map_err(err)
            }
        })
        .await;
        one_wins(&results, "UsernameExistsException");
        let listed =
            w.a.list_users(ListUsersRequest {
                user_pool_id: pool.clone(),
                filter: Some(format!("email = \"{}\"", email.to_lowercase())),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.users.unwrap_or_default().len(), 1, "round {round}");
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] simultaneous_creations_with_one_verified_email_alias_leave_one_holder }
async fn simultaneous_creations_with_one_verified_email_alias_leave_one_holder(db: TestDb) {
    let w = World::new(&db).await;
    let pool = create_pool(&w.a, email_pool(true)).await;
    for round in 0..ROUNDS {
        let email = format!("shared{round}@example.com");
        let results = race(16, |i| {
            let core = w.core(i);
            let req = AdminCreateUserRequest {
                user_pool_id: pool.clone(),
                username: format!("r{round}u{i}"),
                message_action: Some(MessageActionType::Suppress),
                user_attributes: Some(vec![attr("email", &email), attr("email_verified", "true")]),
                ..Default::default()
            };
            async move { core.admin_create_user(req).await.map(|_| ()).map_err(err) }
        })
        .await;
        one_wins(&results, "AliasExistsException");
        // And by update: users without the alias all try to verify it at once.
        let results = race(8, |i| {
            let core = w.core(i);
            let (pool, email) = (pool.clone(), email.clone());
            async move {
                let name = format!("r{round}late{i}");
                core.admin_create_user(AdminCreateUserRequest {
                    user_pool_id: pool.clone(),
                    username: name.clone(),
                    message_action: Some(MessageActionType::Suppress),
                    ..Default::default()
                })
                .await
                .unwrap();
                core.admin_update_user_attributes(AdminUpdateUserAttributesRequest {
                    user_pool_id: pool,
                    username: name,
                    user_attributes: vec![attr("email", &email), attr("email_verified", "true")],
                    ..Default::default()
                })
                .await
                .map(|_| ())
                .map_err(err)
            }
        })
        .await;
        assert!(results.iter().all(|r| r.is_err()), "{results:?}");
        let holders = verified_holders(&w.a, &pool, &email).await.len();
        assert_eq!(holders, 1, "round {round}");
    }
}

/// Users of `pool` whose email is `email` and verified.
async fn verified_holders(core: &Core, pool: &str, email: &str) -> Vec<String> {
    core.list_users(ListUsersRequest {
        user_pool_id: pool.into(),
        filter: Some(format!("email = \"{email}\"")),
        ..Default::default()
    })
    .await
    .unwrap()
    .users
    .unwrap_or_default()
    .into_iter()
    .filter(|u| {
        u.attributes
            .iter()
            .flatten()
            .any(|a| a.name == "email_verified" && a.value.as_deref() == Some("true"))
    })
    .filter_map(|u| u.username)
    .collect()
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] force_alias_creation_moves_the_alias_in_one_step }
async fn force_alias_creation_moves_the_alias_in_one_step(db: TestDb) {
    let w = World::new(&db).await;
    let pool = create_pool(&w.a, email_pool(true)).await;
    let email = "moved@example.com";
    let make = |name: &str, force: bool| AdminCreateUserRequest {
        user_pool_id: pool.clone(),
        username: name.into(),
        message_action: Some(MessageActionType::Suppress),
        force_alias_creation: Some(force),
        user_attributes: Some(vec![attr("email", email), attr("email_verified", "true")]),
        ..Default::default()
    };
    w.a.admin_create_user(make("first", false)).await.unwrap();
    let results = race(8, |i| {
        let core = w.core(i);
        let req = make(&format!("forced{i}"), true);
        async move { core.admin_create_user(req).await.map(|_| ()).map_err(err) }
    })
    .await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    let verified = verified_holders(&w.a, &pool, email).await;
    assert_eq!(verified.len(), 1, "{verified:?}");
    assert_ne!(verified[0], "first");
}

/// A confirmed user signed in with USER_PASSWORD_AUTH on `client`: (access, refresh).
async fn sign_in(core: &Core, client: &str, name: &str) -> (String, String) {
    let r = core
        .initiate_auth(
            &Caller::default(),
            InitiateAuthRequest {
                auth_flow: AuthFlowType::UserPasswordAuth,
                client_id: client.into(),
                auth_parameters: Some(
                    [
                        ("USERNAME".to_string(), name.to_string()),
                        ("PASSWORD".to_string(), common::PASSWORD.to_string()),
                    ]
                    .into(),
                ),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    (r.access_token.unwrap(), r.refresh_token.unwrap())
}

async fn token_pool(db: &TestDb, rotation: bool) -> (World, String) {
    let w = World::new(db).await;
    let pool = create_pool(
        &w.a,
        CreateUserPoolRequest {
            pool_name: "tokens".into(),
            ..Default::default()
        },
    )
    .await;
    let client = create_client(
        &w.a,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
        CreateUserPoolClientRequest {
            refresh_token_rotation: rotation.then(|| RefreshTokenRotationType {
                feature: FeatureType::Enabled,
                retry_grace_period_seconds: Some(0),
            }),
            ..Default::default()
        },
    )
    .await;
    create_user(&w.a, &pool, "alice", true).await;
    (w, client)
}

fn refresh(
    core: Core,
    client: &str,
    token: &str,
    rotation: bool,
) -> impl std::future::Future<Output = Result<(String, Option<String>), (String, String)>> + Send + 'static
{
    let (client, token) = (client.to_string(), token.to_string());
    async move {
        let r = if rotation {
            core.get_tokens_from_refresh_token(
                &Caller::default(),
                GetTokensFromRefreshTokenRequest {
                    client_id: client,
                    refresh_token: token,
                    ..Default::default()
                },
            )
            .await
            .map_err(err)?
            .authentication_result
        } else {
            core.initiate_auth(
                &Caller::default(),
                InitiateAuthRequest {
                    auth_flow: AuthFlowType::RefreshTokenAuth,
                    client_id: client,
                    auth_parameters: Some([("REFRESH_TOKEN".to_string(), token)].into()),
                    ..Default::default()
                },
            )
            .await
            .map_err(err)?
            .authentication_result
        }
        .unwrap();
        Ok((r.access_token.unwrap(), r.refresh_token))
    }
}

async fn get_user(core: &Core, access: &str) -> Result<(), (String, String)> {
    core.get_user(GetUserRequest {
        access_token: access.into(),
    })
    .await
    .map(|_| ())
    .map_err(err)
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] a_revocation_that_answered_always_holds_against_a_racing_refresh }
async fn a_revocation_that_answered_always_holds_against_a_racing_refresh(db: TestDb) {
    for rotation in [false, true] {
        let (w, client) = token_pool(&db, rotation).await;
        for round in 0..ROUNDS * 2 {
            let (_, token) = sign_in(&w.a, &client, "alice").await;
            let revoker = {
                let (core, client, token) = (w.b.clone(), client.clone(), token.clone());
                tokio::spawn(async move {
                    core.revoke_token(RevokeTokenRequest {
                        client_id: client,
                        token,
                        ..Default::default()
                    })
                    .await
                    .map_err(err)
                })
            };
            let refreshes = race(3, |i| refresh(w.core(i), &client, &token, rotation)).await;
            revoker.await.unwrap().unwrap();
            // Everything the refreshes gave out is dead, whoever won.
            for r in refreshes.into_iter().flatten() {
                let e = get_user(&w.a, &r.0).await.unwrap_err();
                assert_eq!(e.0, "NotAuthorizedException", "round {round}: {e:?}");
                if let Some(rotated) = r.1 {
                    assert!(refresh(w.a.clone(), &client, &rotated, rotation)
                        .await
                        .is_err());
                }
            }
            assert!(refresh(w.a.clone(), &client, &token, rotation)
                .await
                .is_err());
        }
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] a_rotated_refresh_token_without_grace_is_taken_once }
async fn a_rotated_refresh_token_without_grace_is_taken_once(db: TestDb) {
    let (w, client) = token_pool(&db, true).await;
    for round in 0..ROUNDS * 2 {
        let (_, token) = sign_in(&w.a, &client, "alice").await;
        let results = race(8, |i| refresh(w.core(i), &client, &token, true)).await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "round {round}: {results:?}"
        );
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] thirty_two_concurrent_attribute_updates_of_one_user_all_succeed }
async fn thirty_two_concurrent_attribute_updates_of_one_user_all_succeed(db: TestDb) {
    let w = World::new(&db).await;
    let schema: Vec<SchemaAttributeType> = (0..32)
        .map(|i| SchemaAttributeType {
            name: Some(format!("a{i}")),
            attribute_data_type: Some(AttributeDataType::String),
            mutable: Some(true),
            ..Default::default()
        })
        .collect();
    let pool = create_pool(
        &w.a,
        CreateUserPoolRequest {
            pool_name: "attrs".into(),
            schema: Some(schema),
            ..Default::default()
        },
    )
    .await;
    for round in 0..ROUNDS / 2 {
        let name = format!("user{round}");
        create_user(&w.a, &pool, &name, true).await;
        let results = race(32, |i| {
            let core = w.core(i);
            let req = AdminUpdateUserAttributesRequest {
                user_pool_id: pool.clone(),
                username: name.clone(),
                user_attributes: vec![attr(&format!("custom:a{i}"), &format!("v{i}"))],
                ..Default::default()
            };
            async move { core.admin_update_user_attributes(req).await.map_err(err) }
        })
        .await;
        for r in &results {
            assert!(r.is_ok(), "round {round}: {r:?}");
        }
        let user =
            w.a.admin_get_user(AdminGetUserRequest {
                user_pool_id: pool.clone(),
                username: name.clone(),
            })
            .await
            .unwrap();
        let custom = user
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.name.starts_with("custom:a"))
            .count();
        assert_eq!(custom, 32, "round {round}: every update landed");
    }
}
