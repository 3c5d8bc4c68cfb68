//! Sign-in through the official Rust SDK with Gatehouse's Rust SRP client (`gatehouse-client`):
//! USER_SRP_AUTH end to end, the tokens it yields, and the errors a client matches on.

mod common;

use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ExplicitAuthFlowsType};
use common::{create_app_client, create_confirmed_user, create_pool, err_of, TestServer};
use gatehouse_client::{SignInOutcome, SrpSignIn};

const PASSWORD: &str = "Corr3ct-Horse!";

#[tokio::test]
async fn srp_sign_in_with_the_rust_client_yields_working_tokens() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = create_pool(&c, "rust-srp").await;
    let client_id = create_app_client(
        &c,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserSrpAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;
    create_confirmed_user(&c, &pool, "ferris", PASSWORD).await;

    let srp = SrpSignIn::new(&pool, &client_id).unwrap();
    let tokens = match srp.sign_in(&c, "ferris", PASSWORD).await.unwrap() {
        SignInOutcome::Tokens(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    };
    assert_eq!(tokens.token_type(), Some("Bearer"));
    assert_eq!(tokens.expires_in(), 3600);
    let access = tokens.access_token().unwrap();
    let me = c.get_user().access_token(access).send().await.unwrap();
    assert_eq!(me.username(), "ferris");

    // The refresh token works, and the wrong password is Cognito's error.
    let refreshed = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", tokens.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    assert!(refreshed
        .authentication_result()
        .unwrap()
        .access_token()
        .is_some());
    let wrong = srp
        .sign_in(&c, "ferris", "Wrong-Horse-1!")
        .await
        .unwrap_err();
    assert!(wrong.is_not_authorized(), "{wrong:?}");
    assert_eq!(wrong.message(), Some("Incorrect username or password."));

    // USER_PASSWORD_AUTH is not enabled on this client.
    let refused = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ferris")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await;
    assert_eq!(
        err_of(refused),
        (
            "InvalidParameterException".to_string(),
            "USER_PASSWORD_AUTH flow not enabled for this client".to_string()
        )
    );
}
