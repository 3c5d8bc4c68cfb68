//! Sign-in through the official Rust SDK with Gatehouse's Rust SRP client (`gatehouse-client`):
//! USER_SRP_AUTH end to end, the tokens it yields, and the errors a client matches on.

mod common;

use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
};
use common::{err_of, TestServer};
use gatehouse_client::{SignInOutcome, SrpSignIn};

const PASSWORD: &str = "Corr3ct-Horse!";

#[tokio::test]
async fn srp_sign_in_with_the_rust_client_yields_working_tokens() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = c
        .create_user_pool()
        .pool_name("rust-srp")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client_id = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("ferris")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.admin_set_user_password()
        .user_pool_id(&pool)
        .username("ferris")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();

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
