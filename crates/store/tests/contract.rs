//! The store contract where the back ends could part ways, checked on each: keys order and
//! page bytewise whatever the database's locale, prefix filters are ranges of bytes, and an
//! attribute value JSON allows but PostgreSQL text does not ("\u0000") does not break a
//! filter for the rest of the pool. A deleted pool takes its domain and resource servers with it.

mod common;

use std::collections::BTreeMap;

use common::{on_both, TestDb};
use gatehouse_core::store::{FilterAttribute, UserFilter, UserPoolRecord, UserRecord};
use gatehouse_core::Store;
use gatehouse_wire::UserStatusType;

const POOL: &str = "us-east-1_contract";

async fn pool_with_users(db: &TestDb, users: &[(&str, &str)]) -> std::sync::Arc<dyn Store> {
    let store = db.store().await;
    store
        .insert_user_pool(&UserPoolRecord {
            id: POOL.into(),
            version: 1,
            pool: Default::default(),
            mfa: Default::default(),
            device_policy: Default::default(),
            sessions: Default::default(),
        })
        .await
        .unwrap();
    for (i, (username, name)) in users.iter().enumerate() {
        let user = UserRecord {
            pool_id: POOL.into(),
            username: username.to_string(),
            username_key: username.to_string(),
            sub: format!("sub-{i}"),
            status: UserStatusType::Confirmed,
            enabled: true,
            attributes: BTreeMap::from([
                ("sub".to_string(), format!("sub-{i}")),
                ("name".to_string(), name.to_string()),
            ]),
            password: None,
            password_history: Vec::new(),
            imported_hash: None,
            temporary_password_expires_at: None,
            mfa_options: Vec::new(),
            mfa: Default::default(),
            created_at: 1,
            updated_at: 1,
            version: 1,
            failed_sign_ins: 0,
            locked_until: None,
        };
        store.insert_user(&user, &[]).await.unwrap();
    }
    store
}

async fn usernames(
    store: &dyn Store,
    filter: Option<(&str, bool, &str)>,
    after: Option<&str>,
) -> Vec<String> {
    let filter = filter.map(|(attribute, prefix, value)| UserFilter {
        attribute: FilterAttribute::named(attribute).unwrap(),
        prefix,
        value: value.into(),
    });
    store
        .list_users(POOL, filter.as_ref(), after, 60)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect()
}

on_both! { #[tokio::test] keys_order_and_page_bytewise }
async fn keys_order_and_page_bytewise(db: TestDb) {
    let names = ["b", "a", "Z", "é", "aa", "B", "a-b", "a b"];
    let store = pool_with_users(&db, &names.map(|n| (n, "x"))).await;
    // Byte order: space and '-' before letters, upper case before lower case, é last.
    let all = ["B", "Z", "a", "a b", "a-b", "aa", "b", "é"];
    assert_eq!(usernames(&*store, None, None).await, all);
    assert_eq!(usernames(&*store, None, Some("a")).await, all[3..]);
    assert_eq!(
        usernames(&*store, Some(("username", true, "a")), None).await,
        ["a", "a b", "a-b", "aa"]
    );
    assert_eq!(
        usernames(&*store, Some(("username", false, "B")), None).await,
        ["B"]
    );
}

on_both! { #[tokio::test] a_nul_in_one_users_name_does_not_break_the_pools_filters }
async fn a_nul_in_one_users_name_does_not_break_the_pools_filters(db: TestDb) {
    let store = pool_with_users(&db, &[("ana", "an\0a"), ("bob", "anbo"), ("cy", "cy")]).await;
    assert_eq!(
        usernames(&*store, Some(("name", true, "an")), None).await,
        ["ana", "bob"]
    );
    assert_eq!(
        usernames(&*store, Some(("name", false, "anbo")), None).await,
        ["bob"]
    );
    let ana = store.user(POOL, "ana").await.unwrap().unwrap();
    assert_eq!(
        ana.attributes["name"], "an\0a",
        "the document keeps the value"
    );
}

on_both! { #[tokio::test] a_deleted_pool_takes_its_domain_and_resource_servers }
async fn a_deleted_pool_takes_its_domain_and_resource_servers(db: TestDb) {
    use gatehouse_wire::{DomainDescriptionType, ResourceServerType};
    let store = pool_with_users(&db, &[]).await;
    let domain = DomainDescriptionType {
        domain: Some("contract-login".into()),
        user_pool_id: Some(POOL.into()),
        ..Default::default()
    };
    store.insert_domain(&domain).await.unwrap();
    let server = ResourceServerType {
        user_pool_id: Some(POOL.into()),
        identifier: Some("api".into()),
        name: Some("API".into()),
        ..Default::default()
    };
    store.insert_resource_server(&server).await.unwrap();
    // One domain per pool and one pool per domain are the table's keys.
    let other = DomainDescriptionType {
        domain: Some("another-name".into()),
        ..domain.clone()
    };
    assert!(matches!(
        store.insert_domain(&other).await,
        Err(gatehouse_core::StoreError::Conflict)
    ));

    assert!(store.delete_user_pool(POOL).await.unwrap());
    assert!(store.domain("contract-login").await.unwrap().is_none());
    assert!(store.resource_server(POOL, "api").await.unwrap().is_none());
    // The name is free again, for a pool made with the same id.
    store
        .insert_user_pool(&UserPoolRecord {
            id: POOL.into(),
            version: 1,
            pool: Default::default(),
            mfa: Default::default(),
            device_policy: Default::default(),
            sessions: Default::default(),
        })
        .await
        .unwrap();
    store.insert_domain(&domain).await.unwrap();
}

on_both! { #[tokio::test] import_jobs_swap_by_version_page_in_order_and_keep_their_file }
async fn import_jobs_swap_by_version_page_in_order_and_keep_their_file(db: TestDb) {
    use gatehouse_core::store::ImportJobRecord;
    use gatehouse_wire::{UserImportJobStatusType, UserImportJobType};
    let store = pool_with_users(&db, &[]).await;
    let job = |id: &str, at: i64| ImportJobRecord {
        pool_id: POOL.into(),
        job_id: id.into(),
        created_at: at,
        version: 1,
        job: UserImportJobType {
            job_id: Some(id.into()),
            status: Some(UserImportJobStatusType::Created),
            ..Default::default()
        },
        uploaded: false,
        rows_done: 0,
        lease_until: None,
        run_id: None,
    };
    for (id, at) in [("import-b", 2), ("import-a", 2), ("import-c", 1)] {
        store.insert_import_job(&job(id, at)).await.unwrap();
    }
    assert!(matches!(
        store.insert_import_job(&job("import-a", 5)).await,
        Err(gatehouse_core::StoreError::Conflict)
    ));
    let ids = |jobs: Vec<ImportJobRecord>| jobs.into_iter().map(|j| j.job_id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.list_import_jobs(POOL, None, 2).await.unwrap()),
        ["import-b", "import-a"]
    );
    assert_eq!(
        ids(store
            .list_import_jobs(POOL, Some((2, "import-a")), 10)
            .await
            .unwrap()),
        ["import-c"]
    );

    // The file: kept, replaced by a second upload while the job is Created.
    assert_eq!(store.import_file(POOL, "import-a").await.unwrap(), None);
    assert!(!store.has_import_file(POOL, "import-a").await.unwrap());
    assert!(store
        .put_import_file(POOL, "import-a", b"first\n\x00\xff")
        .await
        .unwrap());
    assert!(store
        .put_import_file(POOL, "import-a", b"second")
        .await
        .unwrap());
    assert!(store.has_import_file(POOL, "import-a").await.unwrap());
    assert!(!store
        .put_import_file(POOL, "import-nope", b"x")
        .await
        .unwrap());

    // Compare-and-swap: of two writers of version 2, one wins.
    let mut started = store.import_job(POOL, "import-a").await.unwrap().unwrap();
    started.version = 2;
    started.job.status = Some(UserImportJobStatusType::Pending);
    assert!(store.update_import_job(&started).await.unwrap());
    assert!(!store.update_import_job(&started).await.unwrap());
    let pending = store.import_jobs_with_status(&["Pending"]).await.unwrap();
    assert_eq!(ids(pending), ["import-a"]);

    // Once started, the file is the run's: an upload is refused and leaves it as it was.
    assert!(!store
        .put_import_file(POOL, "import-a", b"third")
        .await
        .unwrap());
    assert_eq!(
        store
            .import_file(POOL, "import-a")
            .await
            .unwrap()
            .as_deref(),
        Some(&b"second"[..])
    );
    store.put_import_file(POOL, "import-b", b"b").await.unwrap();
    store.delete_import_file(POOL, "import-b").await.unwrap();
    assert!(!store.has_import_file(POOL, "import-b").await.unwrap());
    assert!(store.delete_user_pool(POOL).await.unwrap());
    assert!(store.import_job(POOL, "import-a").await.unwrap().is_none());
    assert_eq!(store.import_file(POOL, "import-a").await.unwrap(), None);
}

on_both! { #[tokio::test] identity_providers_keep_names_and_identifiers_unique_and_go_with_their_pool }
async fn identity_providers_keep_names_and_identifiers_unique_and_go_with_their_pool(db: TestDb) {
    use gatehouse_core::store::IdentityProviderRecord;
    use gatehouse_core::StoreError;
    let store = pool_with_users(&db, &[]).await;
    let provider = |name: &str, at: i64| IdentityProviderRecord {
        pool_id: POOL.into(),
        name: name.into(),
        created_at: at,
        provider: gatehouse_wire::IdentityProviderType {
            provider_name: Some(name.into()),
            ..Default::default()
        },
    };
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    store
        .insert_identity_provider(&provider("Corp", 2), &ids(&["corp", "corp.example"]), 300)
        .await
        .unwrap();
    store
        .insert_identity_provider(&provider("Alpha", 1), &[], 300)
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_identity_provider(&provider("Corp", 3), &[], 300)
            .await,
        Err(StoreError::Conflict)
    ));
    // A taken identifier refuses the whole provider.
    assert!(matches!(
        store
            .insert_identity_provider(&provider("Other", 3), &ids(&["new", "corp"]), 300)
            .await,
        Err(StoreError::AliasTaken(id)) if id == "corp"
    ));
    assert!(store
        .identity_provider(POOL, "Other")
        .await
        .unwrap()
        .is_none());
    let names = |v: Vec<IdentityProviderRecord>| v.into_iter().map(|p| p.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_identity_providers(POOL, None, 10).await.unwrap()),
        ["Alpha", "Corp"]
    );
    assert_eq!(
        names(
            store
                .list_identity_providers(POOL, Some((1, "Alpha")), 10)
                .await
                .unwrap()
        ),
        ["Corp"]
    );
    let by_id = store
        .identity_provider_by_identifier(POOL, "corp.example")
        .await
        .unwrap();
    assert_eq!(by_id.map(|p| p.name).as_deref(), Some("Corp"));
    // An update replaces the identifiers: the old ones are free again.
    let stored = store
        .identity_provider(POOL, "Corp")
        .await
        .unwrap()
        .unwrap();
    let mut changed = provider("Corp", 2);
    changed.provider.provider_type = Some(gatehouse_wire::IdentityProviderTypeType::Saml);
    assert!(store
        .update_identity_provider(&stored, &changed, &ids(&["corporate"]))
        .await
        .unwrap());
    // Compare-and-swap: the state the first writer replaced no longer matches.
    let mut again = provider("Corp", 2);
    again.provider.provider_type = Some(gatehouse_wire::IdentityProviderTypeType::Oidc);
    assert!(!store
        .update_identity_provider(&stored, &again, &[])
        .await
        .unwrap());
    assert!(store
        .identity_provider_by_identifier(POOL, "corp")
        .await
        .unwrap()
        .is_none());
    store
        .insert_identity_provider(&provider("Other", 3), &ids(&["corp"]), 300)
        .await
        .unwrap();
    assert!(!store
        .update_identity_provider(&provider("Nope", 3), &provider("Nope", 3), &[])
        .await
        .unwrap());
    assert!(store.delete_identity_provider(POOL, "Other").await.unwrap());
    assert!(!store.delete_identity_provider(POOL, "Other").await.unwrap());
    assert!(store
        .identity_provider_by_identifier(POOL, "corp")
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_user_pool(POOL).await.unwrap());
    assert!(store
        .identity_provider(POOL, "Corp")
        .await
        .unwrap()
        .is_none());
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] simultaneous_creations_never_pass_the_pools_provider_limit }
async fn simultaneous_creations_never_pass_the_pools_provider_limit(db: TestDb) {
    use gatehouse_core::store::IdentityProviderRecord;
    use gatehouse_core::StoreError;
    let store = pool_with_users(&db, &[]).await;
    for round in 0..4 {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    let name = format!("Round{round}Idp{i}");
                    let p = IdentityProviderRecord {
                        pool_id: POOL.into(),
                        name: name.clone(),
                        created_at: i,
                        provider: gatehouse_wire::IdentityProviderType {
                            provider_name: Some(name),
                            ..Default::default()
                        },
                    };
                    // Each round allows three more than the rounds before made.
                    store
                        .insert_identity_provider(&p, &[], 3 * (round + 1))
                        .await
                })
            })
            .collect();
        let mut made = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(()) => made += 1,
                Err(StoreError::LimitReached) => {}
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(made, 3, "round {round}");
    }
    let all = store
        .list_identity_providers(POOL, None, 100)
        .await
        .unwrap();
    assert_eq!(all.len(), 12);
}

/// Session ids order as their numbers do.
fn sid(i: u128) -> String {
    format!("session-{i:06}")
}

fn session(id: u128, active_at: i64) -> gatehouse_core::store::AuthSessionRecord {
    gatehouse_core::store::AuthSessionRecord {
        id: sid(id),
        pool_id: POOL.into(),
        client_id: "client".into(),
        username_key: "alice".into(),
        refresh_hash: "h".into(),
        previous_refresh_hash: None,
        previous_valid_until: None,
        retired_hashes: Vec::new(),
        auth_time: 1,
        device_key: None,
        created_at: active_at,
        expires_at: i64::MAX,
        revoked_at: None,
        version: 1,
        refresh_revoked_at: None,
        scopes: None,
        activity: gatehouse_core::store::SessionActivity {
            at: active_at,
            ip: Some("192.0.2.1".into()),
            user_agent: Some("agent".into()),
        },
    }
}

on_both! { #[tokio::test] the_session_cap_revokes_the_least_recently_active_and_activity_is_kept_apart }
async fn the_session_cap_revokes_the_least_recently_active_and_activity_is_kept_apart(db: TestDb) {
    let store = pool_with_users(&db, &[("alice", "Alice")]).await;
    for i in 1..=3 {
        assert!(store
            .insert_auth_session(&session(i, 10 * i as i64), Some(3))
            .await
            .unwrap()
            .is_empty());
    }
    // The first is used again: the second is now the least recently active.
    let first = sid(1);
    let used = gatehouse_core::store::SessionActivity {
        at: 100,
        ip: Some("2001:db8::1".into()),
        user_agent: None,
    };
    store.touch_auth_session(&first, &used).await.unwrap();
    // A use that does not know the user agent keeps the one recorded before.
    let used = gatehouse_core::store::SessionActivity {
        user_agent: Some("agent".into()),
        ..used
    };
    let evicted = store
        .insert_auth_session(&session(4, 110), Some(3))
        .await
        .unwrap();
    assert_eq!(evicted, vec![sid(2)]);
    let live = store
        .live_auth_sessions(POOL, "alice", 120, None, 10)
        .await
        .unwrap();
    let ids: Vec<&str> = live.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, vec![sid(1), sid(3), sid(4)]);
    assert_eq!(live[0].activity, used);
    // A compare-and-swap of the document leaves the activity as it was.
    let mut s = store.auth_session(&first).await.unwrap().unwrap();
    s.version += 1;
    assert!(store.update_auth_session(&s).await.unwrap());
    assert_eq!(
        store.auth_session(&first).await.unwrap().unwrap().activity,
        used
    );
    // Pages by id; expired sessions are not live.
    let page = store
        .live_auth_sessions(POOL, "alice", 120, Some(&first), 1)
        .await
        .unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, sid(3));
    let mut old = session(5, 1);
    old.expires_at = 50;
    store.insert_auth_session(&old, None).await.unwrap();
    assert_eq!(
        store
            .live_auth_sessions(POOL, "alice", 120, None, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] simultaneous_sign_ins_never_pass_the_session_cap }
async fn simultaneous_sign_ins_never_pass_the_session_cap(db: TestDb) {
    let store = pool_with_users(&db, &[("alice", "Alice")]).await;
    for round in 0..4u128 {
        let tasks: Vec<_> = (0..8u128)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .insert_auth_session(
                            &session(round * 100 + i + 1, 1000 + round as i64),
                            Some(2),
                        )
                        .await
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let live = store
            .live_auth_sessions(POOL, "alice", 0, None, 100)
            .await
            .unwrap();
        assert_eq!(live.len(), 2, "round {round}");
    }
}

fn passkey(id: &str, created_at: i64) -> gatehouse_core::store::PasskeyRecord {
    gatehouse_core::store::PasskeyRecord {
        pool_id: POOL.into(),
        username_key: "alice".into(),
        credential_id: id.into(),
        relying_party_id: "localhost".into(),
        friendly_name: "Passkey".into(),
        attachment: None,
        transports: vec!["internal".into()],
        created_at,
        counter: 0,
        credential: serde_json::json!({"key": id}),
    }
}

on_both! { #[tokio::test(flavor = "multi_thread", worker_threads = 4)] passkeys_are_unique_capped_and_their_counters_only_rise }
async fn passkeys_are_unique_capped_and_their_counters_only_rise(db: TestDb) {
    use gatehouse_core::store::PasskeyRegistrationRecord;
    use gatehouse_core::StoreError;
    let store = pool_with_users(&db, &[("alice", "Alice"), ("bob", "Bob")]).await;
    // Simultaneous registrations never pass the cap.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_passkey(&passkey(&format!("key{i}"), i), 3)
                    .await
            })
        })
        .collect();
    let mut made = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => made += 1,
            Err(StoreError::LimitReached) => {}
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(made, 3);
    let mine = store.passkeys(POOL, "alice").await.unwrap();
    assert_eq!(mine.len(), 3);
    // A credential id is the pool's once, whoever registers it.
    let mut taken = passkey(&mine[0].credential_id, 99);
    taken.username_key = "bob".into();
    assert!(matches!(
        store.insert_passkey(&taken, 20).await,
        Err(StoreError::Conflict)
    ));
    // The counter rises, never falls.
    let p = &mine[0];
    assert!(store.raise_passkey_counter(p, 5).await.unwrap());
    assert!(!store.raise_passkey_counter(p, 5).await.unwrap());
    assert!(!store.raise_passkey_counter(p, 3).await.unwrap());
    let again = store.passkeys(POOL, "alice").await.unwrap();
    assert_eq!(
        again
            .iter()
            .find(|q| q.credential_id == p.credential_id)
            .unwrap()
            .counter,
        5
    );
    // Deleting takes only the user's own.
    assert!(!store
        .delete_passkey(POOL, "bob", &p.credential_id)
        .await
        .unwrap());
    assert!(store
        .delete_passkey(POOL, "alice", &p.credential_id)
        .await
        .unwrap());
    // A pending registration is taken once, the latest replacing the earlier.
    for n in 1..=2 {
        store
            .put_passkey_registration(&PasskeyRegistrationRecord {
                pool_id: POOL.into(),
                username_key: "alice".into(),
                client_id: format!("client{n}"),
                relying_party_id: "localhost".into(),
                expires_at: i64::MAX,
                state: serde_json::json!({}),
            })
            .await
            .unwrap();
    }
    let taken = store
        .take_passkey_registration(POOL, "alice")
        .await
        .unwrap();
    assert_eq!(taken.unwrap().client_id, "client2");
    assert!(store
        .take_passkey_registration(POOL, "alice")
        .await
        .unwrap()
        .is_none());
}
