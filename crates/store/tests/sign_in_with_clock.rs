//! Sign-in rules that depend on time or on state shared between server processes, on a real
//! SQLite store with a clock the test moves: token, refresh-token, SRP-state and
//! temporary-password lifetimes, the SRP timestamp window, and the lockout, which holds across
//! two cores (two server processes) sharing one database.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{
    core_on, create_client, create_pool, create_user, err, on_both, TestClock, TestDb, PASSWORD,
    START_MS,
};
use gatehouse_core::{Caller, Clock, Core};
use gatehouse_srp::{format_timestamp, ClaimMessage, PublicValue, Salt, SrpClient, SrpIdentity};
use gatehouse_wire::*;

struct World {
    core: Core,
    clock: Arc<TestClock>,
    pool: String,
    client: String,
}

async fn world_on(store: Arc<dyn gatehouse_core::Store>) -> World {
    let clock = TestClock::at(START_MS);
    let core = core_on(store, clock.clone());
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "clock".into(),
            ..Default::default()
        },
    )
    .await;
    let flows = [
        ExplicitAuthFlowsType::AllowUserPasswordAuth,
        ExplicitAuthFlowsType::AllowUserSrpAuth,
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
    ];
    let client = create_client(
        &core,
        &pool,
        &flows,
        CreateUserPoolClientRequest {
            refresh_token_validity: Some(60),
            token_validity_units: Some(TokenValidityUnitsType {
                refresh_token: Some(TimeUnitsType::Minutes),
                ..Default::default()
            }),
            ..Default::default()
        },
    )
    .await;
    World {
        core,
        clock,
        pool,
        client,
    }
}

/// A world on a database file, and a second server process on the same database, with the same
/// server key and clock.
async fn two_processes(db: &TestDb) -> (World, Core) {
    let w = world_on(db.open().await).await;
    let other = core_on(db.open().await, w.clock.clone());
    (w, other)
}

async fn world(db: &TestDb) -> World {
    world_on(db.store().await).await
}

impl World {
    async fn user(&self, name: &str, permanent: bool) {
        create_user(&self.core, &self.pool, name, permanent).await;
    }

    async fn password_sign_in(
        &self,
        core: &Core,
        name: &str,
        password: &str,
    ) -> Result<InitiateAuthResponse, (String, String)> {
        core.initiate_auth(
            &Caller::default(),
            InitiateAuthRequest {
                auth_flow: AuthFlowType::UserPasswordAuth,
                client_id: self.client.clone(),
                auth_parameters: Some(BTreeMap::from([
                    ("USERNAME".into(), name.into()),
                    ("PASSWORD".into(), password.into()),
                ])),
                ..Default::default()
            },
        )
        .await
        .map_err(err)
    }

    /// Starts USER_SRP_AUTH and returns the PASSWORD_VERIFIER answer a client would send,
    /// built with `timestamp_secs`.
    async fn srp_answer(&self, name: &str, timestamp_secs: i64) -> RespondToAuthChallengeRequest {
        let client = SrpClient::new(&[0x42; 32]).unwrap();
        let challenge = self
            .core
            .initiate_auth(
                &Caller::default(),
                InitiateAuthRequest {
                    auth_flow: AuthFlowType::UserSrpAuth,
                    client_id: self.client.clone(),
                    auth_parameters: Some(BTreeMap::from([
                        ("USERNAME".into(), name.into()),
                        ("SRP_A".into(), client.srp_a_hex()),
                    ])),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let p = challenge.challenge_parameters.unwrap();
        let block = gatehouse_srp::base64_decode(&p["SECRET_BLOCK"]).unwrap();
        let timestamp = format_timestamp(timestamp_secs);
        let pool_name = self.pool.split_once('_').unwrap().1;
        let signature = client
            .claim_signature(
                PASSWORD,
                &Salt::from_hex(&p["SALT"]).unwrap(),
                &PublicValue::from_hex(&p["SRP_B"]).unwrap(),
                &ClaimMessage {
                    identity: SrpIdentity::user(pool_name, &p["USER_ID_FOR_SRP"]),
                    secret_block: &block,
                    timestamp: &timestamp,
                },
            )
            .unwrap();
        RespondToAuthChallengeRequest {
            client_id: self.client.clone(),
            challenge_name: ChallengeNameType::PasswordVerifier,
            challenge_responses: Some(BTreeMap::from([
                ("USERNAME".into(), p["USER_ID_FOR_SRP"].clone()),
                (
                    "PASSWORD_CLAIM_SECRET_BLOCK".into(),
                    p["SECRET_BLOCK"].clone(),
                ),
                ("PASSWORD_CLAIM_SIGNATURE".into(), signature),
                ("TIMESTAMP".into(), timestamp),
            ])),
            ..Default::default()
        }
    }

    fn now_secs(&self) -> i64 {
        self.clock.now_millis() / 1000
    }
}

fn incorrect() -> (String, String) {
    (
        "NotAuthorizedException".into(),
        "Incorrect username or password.".into(),
    )
}

fn exceeded() -> (String, String) {
    (
        "NotAuthorizedException".into(),
        "Password attempts exceeded".into(),
    )
}

on_both! { #[tokio::test] access_tokens_expire_after_the_clients_lifetime }
async fn access_tokens_expire_after_the_clients_lifetime(db: TestDb) {
    let w = world(&db).await;
    w.user("alice", true).await;
    let tokens = w
        .password_sign_in(&w.core, "alice", PASSWORD)
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    assert_eq!(tokens.expires_in, Some(3600));
    let get = || GetUserRequest {
        access_token: tokens.access_token.clone().unwrap(),
    };
    w.clock.advance(3599 * 1000);
    assert_eq!(w.core.get_user(get()).await.unwrap().username, "alice");
    w.clock.advance(2000);
    assert_eq!(
        err(w.core.get_user(get()).await.unwrap_err()),
        (
            "NotAuthorizedException".into(),
            "Access Token has expired".into()
        )
    );
}

on_both! { #[tokio::test] refresh_tokens_expire_after_the_clients_lifetime }
async fn refresh_tokens_expire_after_the_clients_lifetime(db: TestDb) {
    let w = world(&db).await;
    w.user("alice", true).await;
    let refresh = w
        .password_sign_in(&w.core, "alice", PASSWORD)
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .refresh_token
        .unwrap();
    let req = || InitiateAuthRequest {
        auth_flow: AuthFlowType::RefreshTokenAuth,
        client_id: w.client.clone(),
        auth_parameters: Some(BTreeMap::from([("REFRESH_TOKEN".into(), refresh.clone())])),
        ..Default::default()
    };
    w.clock.advance(59 * 60 * 1000);
    let refreshed = w
        .core
        .initiate_auth(&Caller::default(), req())
        .await
        .unwrap();
    let result = refreshed.authentication_result.unwrap();
    assert!(result.access_token.is_some() && result.refresh_token.is_none());
    w.clock.advance(2 * 60 * 1000);
    assert_eq!(
        err(w
            .core
            .initiate_auth(&Caller::default(), req())
            .await
            .unwrap_err()),
        (
            "NotAuthorizedException".into(),
            "Refresh Token has expired".into()
        )
    );
}

on_both! { #[tokio::test] srp_state_lives_five_minutes_and_timestamps_must_be_within_five_minutes }
async fn srp_state_lives_five_minutes_and_timestamps_must_be_within_five_minutes(db: TestDb) {
    let w = world(&db).await;
    w.user("alice", true).await;

    // A timestamp 6 minutes off either way is refused; the same block then still works.
    let answer = w.srp_answer("alice", w.now_secs() - 360).await;
    assert_eq!(
        err(w
            .core
            .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer)
            .await
            .unwrap_err()),
        incorrect()
    );
    let answer = w.srp_answer("alice", w.now_secs() + 360).await;
    assert_eq!(
        err(w
            .core
            .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer)
            .await
            .unwrap_err()),
        incorrect()
    );

    // Answered 4 minutes after the challenge (the client's clock agreeing): tokens.
    let answer = w.srp_answer("alice", w.now_secs() + 240).await;
    w.clock.advance(240 * 1000);
    assert!(w
        .core
        .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer)
        .await
        .unwrap()
        .authentication_result
        .is_some());
    // Answered 5.5 minutes after: the state has expired, though the timestamp is current.
    let answer = w.srp_answer("alice", w.now_secs() + 330).await;
    w.clock.advance(330 * 1000);
    assert_eq!(
        err(w
            .core
            .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer)
            .await
            .unwrap_err()),
        (
            "NotAuthorizedException".into(),
            "Invalid session for the user, session is expired.".into()
        )
    );
}

on_both! { #[tokio::test] temporary_passwords_expire }
async fn temporary_passwords_expire(db: TestDb) {
    let w = world(&db).await;
    w.user("temp", false).await;
    let step = w.password_sign_in(&w.core, "temp", PASSWORD).await.unwrap();
    assert_eq!(
        step.challenge_name,
        Some(ChallengeNameType::NewPasswordRequired)
    );
    w.clock.advance(8 * 86_400_000);
    assert_eq!(
        w.password_sign_in(&w.core, "temp", PASSWORD)
            .await
            .unwrap_err(),
        (
            "NotAuthorizedException".into(),
            "Temporary password has expired and must be reset by an administrator.".into()
        )
    );
}

on_both! { #[tokio::test] lockout_grows_expires_and_holds_across_processes }
async fn lockout_grows_expires_and_holds_across_processes(db: TestDb) {
    let (w, other) = two_processes(&db).await;
    w.user("bob", true).await;

    for _ in 0..5 {
        assert_eq!(
            w.password_sign_in(&w.core, "bob", "wrong")
                .await
                .unwrap_err(),
            incorrect()
        );
    }
    // Locked for 1 s, in both processes, even with the right password.
    assert_eq!(
        w.password_sign_in(&w.core, "bob", PASSWORD)
            .await
            .unwrap_err(),
        exceeded()
    );
    assert_eq!(
        w.password_sign_in(&other, "bob", PASSWORD)
            .await
            .unwrap_err(),
        exceeded()
    );
    // The SRP path is locked too.
    assert_eq!(
        err(w
            .core
            .initiate_auth(
                &Caller::default(),
                InitiateAuthRequest {
                    auth_flow: AuthFlowType::UserSrpAuth,
                    client_id: w.client.clone(),
                    auth_parameters: Some(BTreeMap::from([
                        ("USERNAME".into(), "bob".into()),
                        ("SRP_A".into(), "02".into()),
                    ])),
                    ..Default::default()
                }
            )
            .await
            .unwrap_err()),
        exceeded()
    );

    // After the lock, one more failure locks for 2 s.
    w.clock.advance(1001);
    assert_eq!(
        w.password_sign_in(&other, "bob", "wrong")
            .await
            .unwrap_err(),
        incorrect()
    );
    w.clock.advance(1500);
    assert_eq!(
        w.password_sign_in(&w.core, "bob", PASSWORD)
            .await
            .unwrap_err(),
        exceeded()
    );
    w.clock.advance(600);
    w.password_sign_in(&w.core, "bob", PASSWORD).await.unwrap();

    // Success reset the count: five new failures are needed for a lock.
    for _ in 0..4 {
        w.password_sign_in(&other, "bob", "wrong")
            .await
            .unwrap_err();
    }
    w.password_sign_in(&w.core, "bob", PASSWORD).await.unwrap();
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] parallel_guesses_cannot_outrun_the_lock }
async fn parallel_guesses_cannot_outrun_the_lock(db: TestDb) {
    // Three server processes on one database, the guesses dealt to them in turn.
    let w = Arc::new(world_on(db.open().await).await);
    let processes = Arc::new([
        core_on(db.open().await, w.clock.clone()),
        core_on(db.open().await, w.clock.clone()),
        core_on(db.open().await, w.clock.clone()),
    ]);
    w.user("carol", true).await;
    let guesses: Vec<_> = (0..24)
        .map(|i| {
            let (w, processes) = (w.clone(), processes.clone());
            tokio::spawn(async move {
                w.password_sign_in(&processes[i % 3], "carol", &format!("guess-{i}"))
                    .await
                    .unwrap_err()
            })
        })
        .collect();
    let mut tested = 0;
    for g in guesses {
        let e = g.await.unwrap();
        if e == incorrect() {
            tested += 1;
        } else {
            assert_eq!(e, exceeded());
        }
    }
    // Every attempt is counted before its password is looked at, and the clock stands still
    // (the lock never lapses): exactly the free five are tested.
    assert_eq!(tested, 5, "{tested} guesses were tested");
}

on_both! { #[tokio::test] disabling_a_user_revokes_its_tokens_for_good }
async fn disabling_a_user_revokes_its_tokens_for_good(db: TestDb) {
    let w = world(&db).await;
    w.user("dave", true).await;
    let tokens = w
        .password_sign_in(&w.core, "dave", PASSWORD)
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    let admin = |enabled: bool| {
        let core = w.core.clone();
        let pool = w.pool.clone();
        async move {
            if enabled {
                core.admin_enable_user(AdminEnableUserRequest {
                    user_pool_id: pool,
                    username: "dave".into(),
                })
                .await
                .map(|_| ())
            } else {
                core.admin_disable_user(AdminDisableUserRequest {
                    user_pool_id: pool,
                    username: "dave".into(),
                })
                .await
                .map(|_| ())
            }
        }
    };
    admin(false).await.unwrap();
    admin(true).await.unwrap();
    let get = w
        .core
        .get_user(GetUserRequest {
            access_token: tokens.access_token.clone().unwrap(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err(get),
        (
            "NotAuthorizedException".into(),
            "Access Token has been revoked".into()
        )
    );
}

on_both! { #[tokio::test] a_new_password_session_dies_when_the_temporary_password_changes }
async fn a_new_password_session_dies_when_the_temporary_password_changes(db: TestDb) {
    let w = world(&db).await;
    w.user("erin", false).await;
    let step = w.password_sign_in(&w.core, "erin", PASSWORD).await.unwrap();
    let session = step.session.unwrap();
    // The administrator issues another temporary password: the old session is worthless.
    w.core
        .admin_set_user_password(AdminSetUserPasswordRequest {
            user_pool_id: w.pool.clone(),
            username: "erin".into(),
            password: "Another-Temp0rary!".into(),
            permanent: Some(false),
        })
        .await
        .unwrap();
    let answer = |session: String| RespondToAuthChallengeRequest {
        client_id: w.client.clone(),
        challenge_name: ChallengeNameType::NewPasswordRequired,
        session: Some(session),
        challenge_responses: Some(BTreeMap::from([
            ("USERNAME".into(), "erin".into()),
            ("NEW_PASSWORD".into(), "Brand-New-Passw0rd!".into()),
        ])),
        ..Default::default()
    };
    assert_eq!(
        err(w
            .core
            .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer(session))
            .await
            .unwrap_err()),
        (
            "NotAuthorizedException".into(),
            "Invalid session for the user, session is expired.".into()
        )
    );
    // A session from the current temporary password works, once.
    let fresh = w
        .password_sign_in(&w.core, "erin", "Another-Temp0rary!")
        .await
        .unwrap()
        .session
        .unwrap();
    let done = w
        .core
        .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer(fresh.clone()))
        .await
        .unwrap();
    assert!(done.authentication_result.is_some());
    assert!(w
        .core
        .respond_to_auth_challenge(&gatehouse_core::Caller::default(), answer(fresh))
        .await
        .is_err());
}

on_both! { #[tokio::test] a_token_checked_before_still_answers_to_what_another_process_does }
/// A process remembers the access tokens whose signature it has checked; what another process
/// does to the sign-in or the user still counts at once.
async fn a_token_checked_before_still_answers_to_what_another_process_does(db: TestDb) {
    let (w, other) = two_processes(&db).await;
    w.user("carol", true).await;
    let sign_in = || async {
        w.password_sign_in(&w.core, "carol", PASSWORD)
            .await
            .unwrap()
            .authentication_result
            .unwrap()
            .access_token
            .unwrap()
    };
    let get = |token: &str| {
        w.core.get_user(GetUserRequest {
            access_token: token.into(),
        })
    };
    let revoked = (
        "NotAuthorizedException".to_string(),
        "Access Token has been revoked".to_string(),
    );

    // Signed out in the other process.
    let token = sign_in().await;
    assert_eq!(get(&token).await.unwrap().username, "carol");
    other
        .global_sign_out(GlobalSignOutRequest {
            access_token: token.clone(),
        })
        .await
        .unwrap();
    assert_eq!(err(get(&token).await.unwrap_err()), revoked);

    // A remembered token with one byte of its signature changed is another token.
    let token = sign_in().await;
    assert_eq!(get(&token).await.unwrap().username, "carol");
    let mut forged = token.clone().into_bytes();
    let last = forged.len() - 2;
    forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        err(get(std::str::from_utf8(&forged).unwrap())
            .await
            .unwrap_err()),
        (
            "NotAuthorizedException".into(),
            "Invalid Access Token".into()
        )
    );

    // The user deleted in the other process: its sign-ins go with it.
    other
        .admin_delete_user(AdminDeleteUserRequest {
            user_pool_id: w.pool.clone(),
            username: "carol".into(),
        })
        .await
        .unwrap();
    assert_eq!(err(get(&token).await.unwrap_err()), revoked);
}
