//! `migrate-store`'s copy: a SQLite store in use, copied into a fresh PostgreSQL database, serves
//! the same users there: the password signs in, the refresh token issued before the copy still
//! refreshes, groups and the outbox came along, and new records do not collide with copied ones.
//! Runs when GATEHOUSE_TEST_DATABASE_URL is set (real-client coverage: tests/python).

#[allow(unused_macros, unused_imports)] // on_both: this test needs PostgreSQL, not both
mod common;

use std::collections::BTreeMap;

use common::{
    core_on, create_client, create_pool, create_user, TestClock, TestDb, PASSWORD, START_MS,
};
use gatehouse_core::messages::{Medium, OutgoingMessage, Purpose};
use gatehouse_core::store::{DeviceRecord, DeviceStatus};
use gatehouse_core::{Caller, Clock, Core};
use gatehouse_store::copy::{copy_sqlite_to_postgres, CopyEvent};
use gatehouse_wire::*;
use totp_rs::{Algorithm, Secret, TOTP};

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

async fn password_sign_in(core: &Core, client: &str) -> InitiateAuthResponse {
    core.initiate_auth(
        &Caller::default(),
        InitiateAuthRequest {
            auth_flow: AuthFlowType::UserPasswordAuth,
            client_id: client.into(),
            auth_parameters: Some(BTreeMap::from([
                ("USERNAME".into(), "ana".into()),
                ("PASSWORD".into(), PASSWORD.into()),
            ])),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn totp_code(totp: &TOTP, clock: &TestClock) -> String {
    totp.generate((clock.now_millis() / 1000) as u64)
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

/// A SQLite store in use (a pool with device tracking and TOTP MFA, ana in a group with an
/// enrolled authenticator app, a remembered device, a session, an outbox message) copied into a
/// fresh PostgreSQL database: what the tests below look at. `None` without PostgreSQL.
struct Copied {
    /// Both databases live as long as the test.
    sqlite: TestDb,
    pg: TestDb,
    clock: std::sync::Arc<TestClock>,
    pool: String,
    client: String,
    /// Issued before the copy.
    tokens: AuthenticationResultType,
    totp: TOTP,
    device_key: String,
    /// What the copy reported: (table, rows).
    tables: Vec<(String, u64)>,
}

impl Copied {
    async fn new() -> Option<Copied> {
        let pg = TestDb::postgres().await?;
        let sqlite = TestDb::sqlite();
        let clock = TestClock::at(START_MS);
        let before = core_on(sqlite.open().await, clock.clone());
        // As a server does at start: the deployment's key is recorded.
        before.check_server_key().await.unwrap();
        let pool = create_pool(
            &before,
            CreateUserPoolRequest {
                pool_name: "copied".into(),
                device_configuration: Some(DeviceConfigurationType {
                    challenge_required_on_new_device: Some(false),
                    device_only_remembered_on_user_prompt: Some(true),
                }),
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
        before
            .set_user_pool_mfa_config(SetUserPoolMfaConfigRequest {
                user_pool_id: pool.clone(),
                mfa_configuration: Some(UserPoolMfaType::Optional),
                software_token_mfa_configuration: Some(SoftwareTokenMfaConfigType {
                    enabled: Some(true),
                }),
                ..Default::default()
            })
            .await
            .unwrap();
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
        let tokens = password_sign_in(&before, &client)
            .await
            .authentication_result
            .unwrap();
        // An authenticator app, enrolled and preferred: its secret is sealed with the server key.
        let access = tokens.access_token.clone().unwrap();
        let secret = before
            .associate_software_token(AssociateSoftwareTokenRequest {
                access_token: Some(access.clone()),
                session: None,
            })
            .await
            .unwrap()
            .secret_code
            .unwrap();
        let totp = TOTP::new(
            Algorithm::SHA1,
            6,
            0,
            30,
            Secret::Encoded(secret).to_bytes().unwrap(),
        )
        .unwrap();
        before
            .verify_software_token(VerifySoftwareTokenRequest {
                access_token: Some(access.clone()),
                user_code: totp_code(&totp, &clock),
                ..Default::default()
            })
            .await
            .unwrap();
        before
            .set_user_mfa_preference(SetUserMFAPreferenceRequest {
                access_token: access.clone(),
                software_token_mfa_settings: Some(SoftwareTokenMfaSettingsType {
                    enabled: Some(true),
                    preferred_mfa: Some(true),
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        // A remembered device (as ConfirmDevice leaves it; its SRP is covered by tests/python).
        let device_key = format!(
            "us-east-1_{}",
            "0".repeat(8) + "-0000-4000-8000-000000000001"
        );
        before
            .store()
            .insert_device(&DeviceRecord {
                pool_id: pool.clone(),
                device_key: device_key.clone(),
                username_key: "ana".into(),
                group_key: "-group".into(),
                status: DeviceStatus::Remembered,
                salt: Some("00".into()),
                verifier: Some("AA==".into()),
                name: Some("laptop".into()),
                last_ip: None,
                sdk: None,
                created_at: START_MS,
                modified_at: START_MS,
                last_authenticated_at: None,
                remembered_at: None,
                expires_at: None,
                version: 1,
            })
            .await
            .unwrap();
        let store = before.store().clone();
        store.push_message(&message("m-1")).await.unwrap();
        drop(before);
        drop(store);

        let to = pg.url();
        let tables = copy(&sqlite.url(), &to, false).await.unwrap();
        Some(Copied {
            sqlite,
            pg,
            clock,
            pool,
            client,
            tokens,
            totp,
            device_key,
            tables,
        })
    }

    /// A core on the PostgreSQL copy, as a server started on it.
    async fn after(&self) -> Core {
        let after = core_on(self.pg.open().await, self.clock.clone());
        after.check_server_key().await.unwrap();
        after
    }

    fn rows(&self, table: &str) -> Option<u64> {
        self.tables
            .iter()
            .find(|(n, _)| n == table)
            .map(|(_, n)| *n)
    }
}

#[tokio::test]
async fn the_copy_fills_every_table_the_store_used() {
    let Some(c) = Copied::new().await else {
        return;
    };
    assert_eq!(c.rows("users"), Some(1));
    // The remembered laptop, and the key the sign-in was handed (device tracking is on).
    assert_eq!(c.rows("devices"), Some(2));
    assert_eq!(c.rows("auth_sessions"), Some(1));
    assert_eq!(c.rows("group_members"), Some(1));
    assert_eq!(c.rows("outbox"), Some(1));
    assert_eq!(c.rows("signing_keys"), Some(2));
    assert_eq!(
        c.rows("deployment"),
        Some(1),
        "the server key's fingerprint came along"
    );
}

#[tokio::test]
async fn tokens_issued_before_the_copy_work_after_it() {
    let Some(c) = Copied::new().await else {
        return;
    };
    let after = c.after().await;
    // The refresh token issued before the copy refreshes after it.
    let refreshed = after
        .initiate_auth(
            &Caller::default(),
            InitiateAuthRequest {
                auth_flow: AuthFlowType::RefreshTokenAuth,
                client_id: c.client.clone(),
                auth_parameters: Some(BTreeMap::from([(
                    "REFRESH_TOKEN".into(),
                    c.tokens.refresh_token.clone().unwrap(),
                )])),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(refreshed
        .authentication_result
        .unwrap()
        .access_token
        .is_some());
    // The access token still verifies (same signing keys).
    let me = after
        .get_user(GetUserRequest {
            access_token: c.tokens.access_token.clone().unwrap(),
        })
        .await
        .unwrap();
    assert_eq!(me.username, "ana");
}

#[tokio::test]
async fn the_password_and_the_authenticator_app_sign_in_after_the_copy() {
    let Some(c) = Copied::new().await else {
        return;
    };
    let after = c.after().await;
    // The authenticator app's next code answers the challenge: the sealed secret opens under
    // the same server key.
    let challenge = password_sign_in(&after, &c.client).await;
    assert_eq!(
        challenge.challenge_name,
        Some(ChallengeNameType::SoftwareTokenMfa)
    );
    c.clock.advance(30_000);
    let signed_in = after
        .respond_to_auth_challenge(
            &Caller::default(),
            RespondToAuthChallengeRequest {
                client_id: c.client.clone(),
                challenge_name: ChallengeNameType::SoftwareTokenMfa,
                session: challenge.session.clone(),
                challenge_responses: Some(BTreeMap::from([
                    ("USERNAME".into(), "ana".into()),
                    (
                        "SOFTWARE_TOKEN_MFA_CODE".into(),
                        totp_code(&c.totp, &c.clock),
                    ),
                ])),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(signed_in.authentication_result.is_some());
}

#[tokio::test]
async fn devices_groups_and_the_outbox_come_along_and_new_rows_follow_them() {
    let Some(c) = Copied::new().await else {
        return;
    };
    let after = c.after().await;
    let device = after
        .admin_get_device(AdminGetDeviceRequest {
            user_pool_id: c.pool.clone(),
            username: "ana".into(),
            device_key: c.device_key.clone(),
        })
        .await
        .unwrap()
        .device;
    assert_eq!(device.device_key.as_deref(), Some(c.device_key.as_str()));
    assert_eq!(
        device_name(&device),
        Some("laptop"),
        "the device's attributes came along"
    );
    let groups = after
        .admin_list_groups_for_user(AdminListGroupsForUserRequest {
            user_pool_id: c.pool.clone(),
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
}

fn device_name(device: &DeviceType) -> Option<&str> {
    device
        .device_attributes
        .iter()
        .flatten()
        .find(|a| a.name == "device_name")
        .and_then(|a| a.value.as_deref())
}

#[tokio::test]
async fn a_target_with_records_is_refused_unless_forced() {
    let Some(c) = Copied::new().await else {
        return;
    };
    let to = c.pg.url();
    let refused = copy(&c.sqlite.url(), &to, false).await.unwrap_err();
    assert!(refused.contains("not empty"), "{refused}");
    let again = copy(&c.sqlite.url(), &to, true).await.unwrap();
    assert_eq!(again, c.tables);
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
