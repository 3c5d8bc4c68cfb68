//! `migrate-store`'s copy: a SQLite store in use, copied into a fresh PostgreSQL database, serves
//! the same users there: the password signs in, the refresh token issued before the copy still
//! refreshes, groups and the outbox came along, and new records do not collide with copied ones.
//! Runs when GATEHOUSE_TEST_DATABASE_URL is set (real-client coverage: tests/python).

mod common;

use std::collections::BTreeMap;

use common::{
    core_on, create_client, create_pool, create_user, TestClock, TestDb, PASSWORD, START_MS,
};
use gatehouse_core::messages::{Medium, OutgoingMessage, Purpose};
use gatehouse_core::Core;
use gatehouse_store::copy::{copy_sqlite_to_postgres, CopyEvent};
use gatehouse_wire::*;

fn message(id: &str) -> OutgoingMessage {
    OutgoingMessage {
        message_id: id.into(),
        pool_id: "us-east-1_Pool".into(),
        username: "ana".into(),
        destination: "ana@example.com".into(),
        medium: Medium::Email,
        purpose: Purpose::SignUp,
        subject: None,
        body: "hello".into(),
        code: None,
        created_at: START_MS,
        delivery: Default::default(),
        delivered_at: None,
        redacted: false,
    }
}

async fn password_sign_in(core: &Core, client: &str) -> AuthenticationResultType {
    core.initiate_auth(InitiateAuthRequest {
        auth_flow: AuthFlowType::UserPasswordAuth,
        client_id: client.into(),
        auth_parameters: Some(BTreeMap::from([
            ("USERNAME".into(), "ana".into()),
            ("PASSWORD".into(), PASSWORD.into()),
        ])),
        ..Default::default()
    })
    .await
    .unwrap()
    .authentication_result
    .unwrap()
}

async fn copy(from: &str, to: &str, force: bool) -> Result<Vec<(String, u64)>, String> {
    let mut events = 0;
    let mut progress = |_: CopyEvent<'_>| events += 1;
    let report = copy_sqlite_to_postgres(from, to, force, &mut progress).await?;
    assert!(
        events >= report.tables.len(),
        "progress is reported per table"
    );
    Ok(report.tables)
}

#[tokio::test]
async fn a_sqlite_store_copied_to_postgres_serves_the_same_users() {
    let Some(pg) = TestDb::postgres().await else {
        return;
    };
    let sqlite = TestDb::sqlite();
    let clock = TestClock::at(START_MS);
    let before = core_on(sqlite.open().await, clock.clone());
    // As a server does at start: the deployment's key is recorded.
    before.check_server_key().await.unwrap();
    let pool = create_pool(
        &before,
        CreateUserPoolRequest {
            pool_name: "copied".into(),
            ..Default::default()
        },
    )
    .await;
    let client = create_client(
        &before,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
        CreateUserPoolClientRequest::default(),
    )
    .await;
    create_user(&before, &pool, "ana", true).await;
    before
        .create_group(CreateGroupRequest {
            user_pool_id: pool.clone(),
            group_name: "staff".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    before
        .admin_add_user_to_group(AdminAddUserToGroupRequest {
            user_pool_id: pool.clone(),
            username: "ana".into(),
            group_name: "staff".into(),
        })
        .await
        .unwrap();
    let tokens = password_sign_in(&before, &client).await;
    let store = before.store().clone();
    store.push_message(&message("m-1")).await.unwrap();
    drop(before);
    drop(store);

    let to = pg.url();
    let tables = copy(&sqlite.url(), &to, false).await.unwrap();
    let rows = |t: &str| tables.iter().find(|(n, _)| n == t).map(|(_, n)| *n);
    assert_eq!(rows("users"), Some(1));
    assert_eq!(rows("auth_sessions"), Some(1));
    assert_eq!(rows("group_members"), Some(1));
    assert_eq!(rows("outbox"), Some(1));
    assert_eq!(rows("signing_keys"), Some(2));
    assert_eq!(
        rows("deployment"),
        Some(1),
        "the server key's fingerprint came along"
    );

    let after = core_on(pg.open().await, clock.clone());
    after.check_server_key().await.unwrap();
    // The refresh token issued before the copy refreshes after it.
    let refreshed = after
        .initiate_auth(InitiateAuthRequest {
            auth_flow: AuthFlowType::RefreshTokenAuth,
            client_id: client.clone(),
            auth_parameters: Some(BTreeMap::from([(
                "REFRESH_TOKEN".into(),
                tokens.refresh_token.clone().unwrap(),
            )])),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(refreshed
        .authentication_result
        .unwrap()
        .access_token
        .is_some());
    // The access token still verifies (same signing keys), the password still signs in.
    let me = after
        .get_user(GetUserRequest {
            access_token: tokens.access_token.clone().unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(me.username, "ana");
    password_sign_in(&after, &client).await;
    let groups = after
        .admin_list_groups_for_user(AdminListGroupsForUserRequest {
            user_pool_id: pool.clone(),
            username: "ana".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        groups.groups.unwrap()[0].group_name.as_deref(),
        Some("staff")
    );
    // A new outbox row gets a number after the copied ones.
    after.store().push_message(&message("m-2")).await.unwrap();
    let messages = after.store().messages(None, None, 10).await.unwrap();
    let ids: Vec<&str> = messages.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids, ["m-1", "m-2"]);
    drop(after);

    // A target with records is refused, unless --force.
    let refused = copy(&sqlite.url(), &to, false).await.unwrap_err();
    assert!(refused.contains("not empty"), "{refused}");
    let again = copy(&sqlite.url(), &to, true).await.unwrap();
    assert_eq!(again, tables);
}

#[tokio::test]
async fn urls_of_the_wrong_kind_are_refused_before_anything_is_opened() {
    let mut progress = |_: CopyEvent<'_>| {};
    let e = copy_sqlite_to_postgres(
        "postgres://a/b",
        "postgres://u:pw@c/d",
        false,
        &mut progress,
    )
    .await
    .err()
    .unwrap();
    assert!(e.contains("--from must be a sqlite: URL"), "{e}");
    let e = copy_sqlite_to_postgres("sqlite::memory:", "sqlite:x", false, &mut progress)
        .await
        .err()
        .unwrap();
    assert!(e.contains("--to must be a postgres:// URL"), "{e}");
}
