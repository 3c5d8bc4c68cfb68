//! App clients through the official Rust SDK: secrets, auth flows, token validity, attributes,
//! OAuth settings, reset-on-update, pagination and refusals.

mod common;

use aws_sdk_cognitoidentityprovider::types::*;
use common::{err_of, TestServer};

async fn pool(c: &aws_sdk_cognitoidentityprovider::Client) -> String {
    c.create_user_pool()
        .pool_name("clients")
        .schema(
            SchemaAttributeType::builder()
                .name("team")
                .attribute_data_type(AttributeDataType::String)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap()
}

#[tokio::test]
async fn create_describe_with_secret_and_defaults() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool_id = pool(&c).await;
    let created = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .generate_secret(true)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .read_attributes("email")
        .read_attributes("custom:team")
        .write_attributes("email")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let id = created.client_id.clone().unwrap();
    assert_eq!(id.len(), 26);
    let secret = created.client_secret.clone().unwrap();
    assert_eq!(secret.len(), 51);
    let d = c
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(
        d.client_secret.as_deref(),
        Some(secret.as_str()),
        "Describe shows the secret, as Cognito does"
    );
    assert_eq!(d.client_name.as_deref(), Some("web"));
    assert_eq!(d.explicit_auth_flows.unwrap().len(), 2);
    assert_eq!(
        d.read_attributes.unwrap(),
        vec!["email".to_string(), "custom:team".to_string()]
    );
    assert_eq!(d.access_token_validity, Some(60));
    assert_eq!(d.id_token_validity, Some(60));
    assert_eq!(d.refresh_token_validity, 30);
    let u = d.token_validity_units.unwrap();
    assert_eq!(
        (u.access_token, u.id_token, u.refresh_token),
        (
            Some(TimeUnitsType::Minutes),
            Some(TimeUnitsType::Minutes),
            Some(TimeUnitsType::Days)
        )
    );
    assert_eq!(
        d.prevent_user_existence_errors,
        Some(PreventUserExistenceErrorTypes::Legacy)
    );
    assert_eq!(d.enable_token_revocation, Some(true));
    assert_eq!(d.auth_session_validity, Some(3));
    assert_eq!(d.allowed_o_auth_flows_user_pool_client, Some(false));
    let none = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("nosecret")
        .send()
        .await
        .unwrap();
    assert!(none.user_pool_client.unwrap().client_secret.is_none());
}

#[tokio::test]
async fn token_validity_units_and_ranges() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool_id = pool(&c).await;
    let d = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("v")
        .access_token_validity(2)
        .id_token_validity(30)
        .refresh_token_validity(5)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .id_token(TimeUnitsType::Minutes)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let u = d.token_validity_units.unwrap();
    assert_eq!(d.access_token_validity, Some(2));
    assert_eq!(
        u.access_token,
        Some(TimeUnitsType::Hours),
        "a value without a unit is in hours"
    );
    assert_eq!(u.id_token, Some(TimeUnitsType::Minutes));
    assert_eq!(
        (d.refresh_token_validity, u.refresh_token),
        (5, Some(TimeUnitsType::Days))
    );
    let (code, msg) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("v")
            .access_token_validity(2)
            .token_validity_units(
                TokenValidityUnitsType::builder()
                    .access_token(TimeUnitsType::Days)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("AccessTokenValidity"), "{msg}");
    let (code, _) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("v")
            .refresh_token_validity(30)
            .token_validity_units(
                TokenValidityUnitsType::builder()
                    .refresh_token(TimeUnitsType::Minutes)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidParameterException",
        "refresh tokens live at least an hour"
    );
}

#[tokio::test]
async fn oauth_members_round_trip_and_refusals() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool_id = pool(&c).await;
    let d = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("oauth")
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .callback_urls("https://app.example/cb")
        .logout_urls("https://app.example/out")
        .default_redirect_uri("https://app.example/cb")
        .supported_identity_providers("COGNITO")
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .enable_token_revocation(false)
        .auth_session_validity(10)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(d.allowed_o_auth_flows_user_pool_client, Some(true));
    assert_eq!(d.allowed_o_auth_flows.unwrap(), vec![OAuthFlowType::Code]);
    assert_eq!(
        d.allowed_o_auth_scopes.unwrap(),
        vec!["openid".to_string(), "email".to_string()]
    );
    assert_eq!(
        d.callback_urls.unwrap(),
        vec!["https://app.example/cb".to_string()]
    );
    assert_eq!(d.logout_urls.unwrap().len(), 1);
    assert_eq!(
        d.default_redirect_uri.as_deref(),
        Some("https://app.example/cb")
    );
    assert_eq!(
        d.prevent_user_existence_errors,
        Some(PreventUserExistenceErrorTypes::Enabled)
    );
    assert_eq!(
        (d.enable_token_revocation, d.auth_session_validity),
        (Some(false), Some(10))
    );

    let (code, _) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("cc")
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidOAuthFlowException");
    let (code, msg) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("s")
            .allowed_o_auth_scopes("no.such/scope")
            .send()
            .await,
    );
    assert_eq!(code, "ScopeDoesNotExistException");
    assert!(msg.contains("no.such/scope"));
    let (code, _) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("r")
            .read_attributes("custom:nope")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("w")
            .write_attributes("sub")
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidParameterException",
        "sub is immutable, so not writable"
    );
    let (code, _) = err_of(
        c.create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("mix")
            .explicit_auth_flows(ExplicitAuthFlowsType::AdminNoSrpAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = err_of(
        c.create_user_pool_client()
            .user_pool_id("us-east-1_missing12")
            .client_name("x")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn update_resets_omitted_members_and_keeps_the_secret() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool_id = pool(&c).await;
    let created = c
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("u")
        .generate_secret(true)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .enable_token_revocation(false)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let id = created.client_id.unwrap();
    let u = c
        .update_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&id)
        .access_token_validity(30)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Minutes)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(u.client_secret, created.client_secret);
    assert_eq!(u.client_name.as_deref(), Some("u"));
    assert!(
        u.explicit_auth_flows.is_none(),
        "omitted ExplicitAuthFlows reset"
    );
    assert_eq!(
        u.enable_token_revocation,
        Some(true),
        "omitted EnableTokenRevocation back to its default"
    );
    assert_eq!(u.access_token_validity, Some(30));
    let d = c
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(d, u);
    let (code, msg) = err_of(
        c.update_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id("nosuchclient0000000000000a")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert!(msg.contains("does not exist"));
}

#[tokio::test]
async fn list_paginates_and_delete_removes() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool_id = pool(&c).await;
    let other = pool(&c).await;
    c.create_user_pool_client()
        .user_pool_id(&other)
        .client_name("elsewhere")
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..5 {
        let cl = c
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name(format!("c{i}"))
            .send()
            .await
            .unwrap();
        ids.push(cl.user_pool_client.unwrap().client_id.unwrap());
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_user_pool_clients()
            .user_pool_id(&pool_id)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        for d in page.user_pool_clients.unwrap() {
            assert_eq!(d.user_pool_id.as_deref(), Some(pool_id.as_str()));
            seen.push(d.client_id.unwrap());
        }
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);
    c.delete_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&ids[0])
        .send()
        .await
        .unwrap();
    let (code, _) = err_of(
        c.describe_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&ids[0])
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = err_of(
        c.delete_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&ids[0])
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    // A client is only visible through its own pool.
    let (code, _) = err_of(
        c.describe_user_pool_client()
            .user_pool_id(&other)
            .client_id(&ids[1])
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    // Deleting the pool deletes its clients.
    c.delete_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    let (code, _) = err_of(
        c.list_user_pool_clients()
            .user_pool_id(&pool_id)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}
