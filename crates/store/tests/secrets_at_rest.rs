//! App client secrets are stored sealed with the server key (client_secrets.rs): what the store
//! holds does not give them away, while DescribeUserPoolClient, SECRET_HASH and rotation work as
//! before, and a secret stored in the clear by an earlier version still works and is sealed at
//! its client's next write.

mod common;

use common::{core_on, create_pool, on_both, TestClock, TestDb, START_MS};
use gatehouse_core::Core;
use gatehouse_wire::*;

async fn describe(core: &Core, pool: &str, client: &str) -> UserPoolClientType {
    core.describe_user_pool_client(DescribeUserPoolClientRequest {
        user_pool_id: pool.into(),
        client_id: client.into(),
    })
    .await
    .unwrap()
    .user_pool_client
    .unwrap()
}

/// A client with a generated secret: its id and secret.
async fn confidential_client(core: &Core, pool: &str) -> (String, String) {
    let created = core
        .create_user_pool_client(CreateUserPoolClientRequest {
            user_pool_id: pool.into(),
            client_name: "app".into(),
            generate_secret: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    (created.client_id.unwrap(), created.client_secret.unwrap())
}

fn holds(record: &gatehouse_core::store::AppClientRecord, secret: &str) -> bool {
    format!("{record:?}{:?}", record.client.client_secret).contains(secret)
        || record.secrets.iter().any(|s| s.value.contains(secret))
}

on_both! { #[tokio::test] a_client_secret_is_stored_sealed_and_shown_opened }
async fn a_client_secret_is_stored_sealed_and_shown_opened(db: TestDb) {
    let store = db.store().await;
    let core = core_on(store.clone(), TestClock::at(START_MS));
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "rest".into(),
            ..Default::default()
        },
    )
    .await;
    let (id, secret) = confidential_client(&core, &pool).await;

    let stored = store.app_client(&id).await.unwrap().unwrap();
    assert!(
        !holds(&stored, &secret),
        "the secret is stored in the clear"
    );
    let sealed = stored.client.client_secret.as_deref().unwrap();
    assert!(sealed.starts_with("sealed:"), "{sealed}");
    assert!(stored
        .secrets
        .iter()
        .all(|s| s.value.starts_with("sealed:")));

    // Another process (a core with an empty cache) over the same store opens it.
    let other = core_on(store.clone(), TestClock::at(START_MS));
    assert_eq!(
        describe(&other, &pool, &id).await.client_secret.as_deref(),
        Some(secret.as_str())
    );

    // A second secret: stored sealed too; either authenticates (listed without values).
    let added = core
        .add_user_pool_client_secret(AddUserPoolClientSecretRequest {
            user_pool_id: pool.clone(),
            client_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .client_secret_descriptor
        .unwrap()
        .client_secret_value
        .unwrap();
    let stored = store.app_client(&id).await.unwrap().unwrap();
    assert_eq!(stored.secrets.len(), 2);
    assert!(!holds(&stored, &secret) && !holds(&stored, &added));
    let record = other.app_client_record(&pool, &id).await.unwrap();
    let values: Vec<&str> = record.secrets.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(values, [secret.as_str(), added.as_str()]);
}

on_both! { #[tokio::test] a_secret_stored_in_the_clear_still_works_and_is_sealed_at_the_next_write }
async fn a_secret_stored_in_the_clear_still_works_and_is_sealed_at_the_next_write(db: TestDb) {
    let store = db.store().await;
    let core = core_on(store.clone(), TestClock::at(START_MS));
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "legacy".into(),
            ..Default::default()
        },
    )
    .await;
    let (id, _) = confidential_client(&core, &pool).await;
    // As an earlier version wrote it: the secret in the clear, no rotation list.
    let legacy = "legacysecret0123456789abcdefghijklmnopqrstuvwxyz";
    let mut rec = store.app_client(&id).await.unwrap().unwrap();
    rec.client.client_secret = Some(legacy.into());
    rec.secrets.clear();
    rec.version += 1;
    assert!(store.update_app_client(&rec).await.unwrap());

    let fresh = core_on(store.clone(), TestClock::at(START_MS));
    assert_eq!(
        describe(&fresh, &pool, &id).await.client_secret.as_deref(),
        Some(legacy)
    );

    fresh
        .update_user_pool_client(UpdateUserPoolClientRequest {
            user_pool_id: pool.clone(),
            client_id: id.clone(),
            client_name: Some("renamed".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let stored = store.app_client(&id).await.unwrap().unwrap();
    assert!(!holds(&stored, legacy), "still in the clear after a write");
    assert_eq!(
        describe(&fresh, &pool, &id).await.client_secret.as_deref(),
        Some(legacy)
    );
}

on_both! { #[tokio::test] an_identity_providers_secret_is_stored_sealed_and_shown_opened }
async fn an_identity_providers_secret_is_stored_sealed_and_shown_opened(db: TestDb) {
    let store = db.store().await;
    let core = core_on(store.clone(), TestClock::at(START_MS));
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "idp".into(),
            ..Default::default()
        },
    )
    .await;
    let secret = "oidc-client-secret-4f2a9c";
    let details = |secret: &str| {
        [
            ("client_id", "oidc-client"),
            ("client_secret", secret),
            ("authorize_scopes", "openid email"),
            ("oidc_issuer", "https://issuer.example.com"),
            ("attributes_request_method", "GET"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    core.create_identity_provider(CreateIdentityProviderRequest {
        user_pool_id: pool.clone(),
        provider_name: "Corp".into(),
        provider_type: IdentityProviderTypeType::Oidc,
        provider_details: details(secret),
        ..Default::default()
    })
    .await
    .unwrap();
    let raw = store
        .identity_provider(&pool, "Corp")
        .await
        .unwrap()
        .unwrap();
    let raw_secret = &raw.provider.provider_details.as_ref().unwrap()["client_secret"];
    assert!(
        raw_secret.starts_with("sealed:") && !raw_secret.contains(secret),
        "{raw_secret}"
    );

    let describe = |core: Core, pool: String| async move {
        core.describe_identity_provider(DescribeIdentityProviderRequest {
            user_pool_id: pool,
            provider_name: "Corp".into(),
        })
        .await
        .unwrap()
        .identity_provider
        .provider_details
        .unwrap()
    };
    let other = core_on(store.clone(), TestClock::at(START_MS));
    assert_eq!(
        describe(other.clone(), pool.clone()).await["client_secret"],
        secret
    );

    // An update keeps it sealed; a new secret given replaces it.
    other
        .update_identity_provider(UpdateIdentityProviderRequest {
            user_pool_id: pool.clone(),
            provider_name: "Corp".into(),
            provider_details: Some(details("rotated-secret-77")),
            ..Default::default()
        })
        .await
        .unwrap();
    let raw = store
        .identity_provider(&pool, "Corp")
        .await
        .unwrap()
        .unwrap();
    let raw_secret = &raw.provider.provider_details.as_ref().unwrap()["client_secret"];
    assert!(
        raw_secret.starts_with("sealed:") && !raw_secret.contains("rotated"),
        "{raw_secret}"
    );
    assert_eq!(
        describe(core, pool).await["client_secret"],
        "rotated-secret-77"
    );
}

on_both! { #[tokio::test] the_sealing_pass_seals_what_an_earlier_version_left_in_the_clear }
async fn the_sealing_pass_seals_what_an_earlier_version_left_in_the_clear(db: TestDb) {
    let store = db.store().await;
    let core = core_on(store.clone(), TestClock::at(START_MS));
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "pass".into(),
            ..Default::default()
        },
    )
    .await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(confidential_client(&core, &pool).await);
    }
    core.create_identity_provider(CreateIdentityProviderRequest {
        user_pool_id: pool.clone(),
        provider_name: "Google".into(),
        provider_type: IdentityProviderTypeType::Google,
        provider_details: [
            ("client_id", "g"),
            ("client_secret", "google-secret-1"),
            ("authorize_scopes", "email"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(
        core.seal_stored_secrets().await.unwrap(),
        (0, 0),
        "all sealed already"
    );

    // As an earlier version wrote them: two clients' secrets (one with its rotation list) and
    // the provider's in the clear; the third client stays sealed.
    for (i, (id, secret)) in ids.iter().take(2).enumerate() {
        let mut rec = store.app_client(id).await.unwrap().unwrap();
        rec.client.client_secret = Some(secret.clone());
        if i == 0 {
            rec.secrets.clear();
        } else {
            rec.secrets[0].value = secret.clone();
        }
        rec.version += 1;
        assert!(store.update_app_client(&rec).await.unwrap());
    }
    let stored = store
        .identity_provider(&pool, "Google")
        .await
        .unwrap()
        .unwrap();
    let mut clear = stored.clone();
    clear
        .provider
        .provider_details
        .as_mut()
        .unwrap()
        .insert("client_secret".into(), "google-secret-1".into());
    assert!(store
        .update_identity_provider(&stored, &clear, &[])
        .await
        .unwrap());

    let fresh = core_on(store.clone(), TestClock::at(START_MS));
    assert_eq!(fresh.seal_stored_secrets().await.unwrap(), (2, 1));
    for (id, secret) in &ids {
        let rec = store.app_client(id).await.unwrap().unwrap();
        assert!(!holds(&rec, secret), "{id} still in the clear");
        assert_eq!(
            describe(&fresh, &pool, id).await.client_secret.as_deref(),
            Some(secret.as_str())
        );
    }
    let raw = store
        .identity_provider(&pool, "Google")
        .await
        .unwrap()
        .unwrap();
    assert!(raw.provider.provider_details.unwrap()["client_secret"].starts_with("sealed:"));
    assert_eq!(
        fresh.seal_stored_secrets().await.unwrap(),
        (0, 0),
        "a second pass finds nothing"
    );
}
