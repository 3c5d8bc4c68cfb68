//! Pool and app-client changes made through one server process reach another that has them
//! cached: at once on PostgreSQL (LISTEN/NOTIFY), within the cache's short TTL on a shared
//! SQLite file; and admin reads never show a cached copy.

mod common;

use std::time::{Duration, Instant};

use common::{core_on, create_client, create_pool, create_user, err, on_both, TestClock, TestDb};
use gatehouse_core::{Caller, Core};
use gatehouse_wire::*;

async fn password_sign_in(core: &Core, client: &str) -> Result<(), (String, String)> {
    core.initiate_auth(
        &Caller::default(),
        InitiateAuthRequest {
            auth_flow: AuthFlowType::UserPasswordAuth,
            client_id: client.into(),
            auth_parameters: Some(
                [
                    ("USERNAME".to_string(), "ada".to_string()),
                    ("PASSWORD".to_string(), common::PASSWORD.to_string()),
                ]
                .into(),
            ),
            ..Default::default()
        },
    )
    .await
    .map(|_| ())
    .map_err(err)
}

/// Two "processes" on `db`: `a` follows the change feed (once live, on PostgreSQL) and has
/// signed ada in through a client allowing `flows`, so it holds the pool and the client in its
/// cache; `b` made them. Returns both, the pool, the client and the follower task.
async fn two_processes(
    db: &TestDb,
    flows: &[ExplicitAuthFlowsType],
) -> (Core, Core, String, String, tokio::task::JoinHandle<()>) {
    let clock = TestClock::at(common::START_MS);
    let a = core_on(db.open().await, clock.clone());
    let b = core_on(db.open().await, clock);
    let follower = a.clone();
    let feed = tokio::spawn(async move { follower.follow_record_changes().await });
    if db.is_postgres() {
        wait_until(|| a.record_feed_live(), "the feed is live").await;
    }
    let pool = create_pool(
        &b,
        CreateUserPoolRequest {
            pool_name: "p".into(),
            ..Default::default()
        },
    )
    .await;
    let client = create_client(&b, &pool, flows, Default::default()).await;
    create_user(&b, &pool, "ada", true).await;
    password_sign_in(&a, &client).await.unwrap();
    (a, b, pool, client, feed)
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 2)] a_client_change_through_one_process_is_honoured_by_another_within_a_second }
async fn a_client_change_through_one_process_is_honoured_by_another_within_a_second(db: TestDb) {
    let (a, b, pool, client, feed) = two_processes(
        &db,
        &[
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;

    b.update_user_pool_client(UpdateUserPoolClientRequest {
        user_pool_id: pool.clone(),
        client_id: client.clone(),
        explicit_auth_flows: Some(vec![
            ExplicitAuthFlowsType::AllowUserSrpAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ]),
        ..Default::default()
    })
    .await
    .unwrap();
    let changed = Instant::now();

    // An admin read through a shows the change at once, whatever a has cached.
    let described = a
        .describe_user_pool_client(DescribeUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_id: client.clone(),
        })
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(
        described.explicit_auth_flows.unwrap(),
        vec![
            ExplicitAuthFlowsType::AllowUserSrpAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth
        ]
    );

    // Sign-ins through a are refused once a hears of the change.
    let refused = loop {
        match password_sign_in(&a, &client).await {
            Ok(()) => {
                assert!(
                    changed.elapsed() < Duration::from_secs(1),
                    "still allowed after 1 s"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(e) => break e,
        }
    };
    let seen_after = changed.elapsed();
    assert_eq!(refused.0, "InvalidParameterException", "{refused:?}");
    assert!(seen_after < Duration::from_secs(1), "{seen_after:?}");
    if db.is_postgres() {
        // The notification, not the 800 ms TTL, dropped the cached client.
        assert!(seen_after < Duration::from_millis(400), "{seen_after:?}");
    }
    eprintln!("change seen by the other process after {seen_after:?}");
    feed.abort();
}

/// The feed's connection is killed, and a change is made while it reconnects: the change is
/// still honoured within a second (the short TTL applies while the feed is down, and what was
/// cached before is dropped when it is back), and the feed comes back by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_while_the_feed_reconnects_is_not_missed() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (a, b, pool, client, feed) =
        two_processes(&db, &[ExplicitAuthFlowsType::AllowUserPasswordAuth]).await;

    let killed: i64 = {
        use sqlx::{Connection, Row};
        let mut admin = sqlx::PgConnection::connect(&db.url()).await.unwrap();
        sqlx::query(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = 'gatehouse-feed'",
        )
        .fetch_one(&mut admin)
        .await
        .unwrap()
        .get(0)
    };
    assert_eq!(killed, 1, "one feed connection");
    b.update_user_pool_client(UpdateUserPoolClientRequest {
        user_pool_id: pool.clone(),
        client_id: client.clone(),
        explicit_auth_flows: Some(vec![ExplicitAuthFlowsType::AllowUserSrpAuth]),
        ..Default::default()
    })
    .await
    .unwrap();
    let changed = Instant::now();
    while password_sign_in(&a, &client).await.is_ok() {
        assert!(
            changed.elapsed() < Duration::from_secs(1),
            "still allowed after 1 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    eprintln!(
        "change seen after {:?} with the feed cut",
        changed.elapsed()
    );
    wait_until(|| a.record_feed_live(), "the feed is live again").await;
    feed.abort();
}

async fn wait_until(ok: impl Fn() -> bool, what: &str) {
    let since = Instant::now();
    while !ok() {
        assert!(since.elapsed() < Duration::from_secs(10), "never: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
