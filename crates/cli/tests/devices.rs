//! Remembered devices through the official Rust SDK and Gatehouse's Rust SRP client: a device
//! issued at sign-in, confirmed, then proving itself with device SRP; the User Opt-In mode; a
//! wrong device secret; and the stale-key retry path (docs/devices.md).

mod common;

use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, DeviceConfigurationType, DeviceRememberedStatusType,
    DeviceSecretVerifierConfigType, ExplicitAuthFlowsType,
};
use aws_sdk_cognitoidentityprovider::Client;
use common::{create_app_client, create_confirmed_user, err_of, TestServer};
use gatehouse_client::srp::DeviceSecret;
use gatehouse_client::{SignInOutcome, SrpSignIn};

const PASSWORD: &str = "Corr3ct-Horse!";

/// A pool with the given device mode, an SRP client and user "ferris".
async fn pool_with_devices(c: &Client, opt_in: bool) -> (String, String) {
    let pool = c
        .create_user_pool()
        .pool_name("devices")
        .device_configuration(
            DeviceConfigurationType::builder()
                .challenge_required_on_new_device(true)
                .device_only_remembered_on_user_prompt(opt_in)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client_id = create_app_client(
        c,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserSrpAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;
    create_confirmed_user(c, &pool, "ferris", PASSWORD).await;
    (pool, client_id)
}

fn tokens(
    outcome: SignInOutcome,
) -> aws_sdk_cognitoidentityprovider::types::AuthenticationResultType {
    match outcome {
        SignInOutcome::Tokens(t) => t,
        other => panic!("expected tokens, got {other:?}"),
    }
}

/// The `device_key` claim of an access token (payload decoded, not verified: the server checks).
fn device_claim(access_token: &str) -> Option<String> {
    use base64::Engine;
    let payload = access_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("device_key")?.as_str().map(str::to_string)
}

/// Signs in without a device, confirms the device it was given, and returns the device.
async fn confirmed_device(
    c: &Client,
    srp: &SrpSignIn,
    name: &str,
) -> (String, String, DeviceSecret, bool) {
    let first = tokens(srp.sign_in(c, "ferris", PASSWORD).await.unwrap());
    let meta = first.new_device_metadata().expect("NewDeviceMetadata");
    let key = meta.device_key().unwrap().to_string();
    let group = meta.device_group_key().unwrap().to_string();
    assert_eq!(
        device_claim(first.access_token().unwrap()).as_deref(),
        Some(key.as_str())
    );
    let (mut r40, mut r16) = ([0u8; 40], [0u8; 16]);
    aws_lc_rs::rand::fill(&mut r40).unwrap();
    aws_lc_rs::rand::fill(&mut r16).unwrap();
    let secret = DeviceSecret::generate(&group, &key, &r40, &r16);
    let config = secret.verifier_config();
    let confirmed = c
        .confirm_device()
        .access_token(first.access_token().unwrap())
        .device_key(&key)
        .device_name(name)
        .device_secret_verifier_config(
            DeviceSecretVerifierConfigType::builder()
                .password_verifier(config.password_verifier)
                .salt(config.salt)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (key, group, secret, confirmed.user_confirmation_necessary())
}

#[tokio::test]
async fn a_confirmed_device_signs_in_with_device_srp() {
    let srv = TestServer::start();
    let c = srv.client();
    let (pool, client_id) = pool_with_devices(&c, false).await;
    let srp = SrpSignIn::new(&pool, &client_id).unwrap();
    let (key, group, secret, necessary) = confirmed_device(&c, &srp, "ferris-laptop").await;
    assert!(!necessary, "Always mode remembers at once");

    let with_device = srp.clone().device(&key, &group, secret.device_password());
    let second = tokens(with_device.sign_in(&c, "ferris", PASSWORD).await.unwrap());
    assert!(
        second.new_device_metadata().is_none(),
        "a known device gets no new key"
    );
    let access = second.access_token().unwrap();
    assert_eq!(device_claim(access).as_deref(), Some(key.as_str()));

    let listed = c.list_devices().access_token(access).send().await.unwrap();
    let devices = listed.devices();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].device_key(), Some(key.as_str()));
    let attr = |n: &str| {
        devices[0]
            .device_attributes()
            .iter()
            .find(|a| a.name() == n)
            .and_then(|a| a.value())
            .map(str::to_string)
    };
    assert_eq!(attr("device_name").as_deref(), Some("ferris-laptop"));
    assert_eq!(
        attr("dev:device_remembered_status").as_deref(),
        Some("remembered")
    );
    assert_eq!(attr("last_ip_used").as_deref(), Some("127.0.0.1"));

    // The refresh token is bound to the device: another key is refused, none is accepted.
    let refresh = second.refresh_token().unwrap();
    let other = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", refresh)
        .auth_parameters(
            "DEVICE_KEY",
            "us-east-1_00000000-0000-4000-8000-000000000000",
        )
        .send()
        .await;
    assert_eq!(
        err_of(other),
        (
            "NotAuthorizedException".to_string(),
            "Invalid Refresh Token".to_string()
        )
    );
    for device in [Some(key.as_str()), None] {
        let mut req = c
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh);
        if let Some(k) = device {
            req = req.auth_parameters("DEVICE_KEY", k);
        }
        let out = req.send().await.unwrap();
        let fresh = out.authentication_result().unwrap().access_token().unwrap();
        assert_eq!(device_claim(fresh).as_deref(), Some(key.as_str()));
    }

    // A wrong device secret fails the sign-in as a wrong password does.
    let impostor = srp.clone().device(&key, &group, "not-the-device-password");
    let wrong = impostor.sign_in(&c, "ferris", PASSWORD).await.unwrap_err();
    assert!(wrong.is_not_authorized(), "{wrong:?}");
    assert_eq!(wrong.message(), Some("Incorrect username or password."));

    // Forgetting the device revokes what it holds, except the calling access token, which
    // works until it expires so the app can refresh its list and sign out; its key then means
    // nothing.
    let other_sign_in = tokens(with_device.sign_in(&c, "ferris", PASSWORD).await.unwrap());
    c.forget_device()
        .access_token(access)
        .device_key(&key)
        .send()
        .await
        .unwrap();
    let user = c.get_user().access_token(access).send().await.unwrap();
    assert_eq!(user.username(), "ferris");
    let listed = c.list_devices().access_token(access).send().await.unwrap();
    assert!(listed.devices().is_empty(), "the device is gone");
    let no_refresh = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", refresh)
        .send()
        .await;
    assert_eq!(
        err_of(no_refresh),
        (
            "NotAuthorizedException".to_string(),
            "Refresh Token has been revoked".to_string()
        )
    );
    // Another sign-in of the same device loses everything.
    let revoked = c
        .get_user()
        .access_token(other_sign_in.access_token().unwrap())
        .send()
        .await;
    assert_eq!(
        err_of(revoked),
        (
            "NotAuthorizedException".to_string(),
            "Access Token has been revoked".to_string()
        )
    );
    let other_refresh = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", other_sign_in.refresh_token().unwrap())
        .send()
        .await;
    assert_eq!(err_of(other_refresh).0, "NotAuthorizedException");
    // Signing out (GlobalSignOut) still ends the spared access token.
    c.global_sign_out()
        .access_token(access)
        .send()
        .await
        .unwrap();
    let signed_out = c.get_user().access_token(access).send().await;
    assert_eq!(
        err_of(signed_out),
        (
            "NotAuthorizedException".to_string(),
            "Access Token has been revoked".to_string()
        )
    );
    // The server answers the forgotten key with "Device does not exist."; the client, like the
    // JavaScript ones, resends its proof without the key and is treated as a new device.
    let again = tokens(with_device.sign_in(&c, "ferris", PASSWORD).await.unwrap());
    let fresh = again.new_device_metadata().expect("a new device key");
    assert_ne!(fresh.device_key(), Some(key.as_str()));
}

#[tokio::test]
async fn opt_in_devices_wait_for_the_user_and_admins_see_them() {
    let srv = TestServer::start();
    let c = srv.client();
    let (pool, client_id) = pool_with_devices(&c, true).await;
    let srp = SrpSignIn::new(&pool, &client_id).unwrap();
    let (key, group, secret, necessary) = confirmed_device(&c, &srp, "tablet").await;
    assert!(necessary, "User Opt-In asks the user");

    // Not remembered yet: invisible to the user, visible to administrators, and still
    // authenticated by device SRP.
    let with_device = srp.clone().device(&key, &group, secret.device_password());
    let signed_in = tokens(with_device.sign_in(&c, "ferris", PASSWORD).await.unwrap());
    let access = signed_in.access_token().unwrap();
    assert!(signed_in.new_device_metadata().is_none());
    let mine = c.list_devices().access_token(access).send().await.unwrap();
    assert!(mine.devices().is_empty());
    let hidden = c
        .get_device()
        .access_token(access)
        .device_key(&key)
        .send()
        .await;
    assert_eq!(err_of(hidden).0, "ResourceNotFoundException");
    let admin = c
        .admin_get_device()
        .user_pool_id(&pool)
        .username("ferris")
        .device_key(&key)
        .send()
        .await
        .unwrap();
    let status = admin
        .device()
        .unwrap()
        .device_attributes()
        .iter()
        .find(|a| a.name() == "dev:device_remembered_status")
        .and_then(|a| a.value())
        .map(str::to_string);
    assert_eq!(status.as_deref(), Some("not_remembered"));

    c.update_device_status()
        .access_token(access)
        .device_key(&key)
        .device_remembered_status(DeviceRememberedStatusType::Remembered)
        .send()
        .await
        .unwrap();
    let mine = c.list_devices().access_token(access).send().await.unwrap();
    assert_eq!(mine.devices().len(), 1);

    let listed = c
        .admin_list_devices()
        .user_pool_id(&pool)
        .username("ferris")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.devices().len(), 1);
    c.admin_forget_device()
        .user_pool_id(&pool)
        .username("ferris")
        .device_key(&key)
        .send()
        .await
        .unwrap();
    // AdminForgetDevice spares nothing: the user's access token of that device is revoked too.
    let revoked = c.get_user().access_token(access).send().await;
    assert_eq!(
        err_of(revoked),
        (
            "NotAuthorizedException".to_string(),
            "Access Token has been revoked".to_string()
        )
    );
    let gone = c
        .admin_get_device()
        .user_pool_id(&pool)
        .username("ferris")
        .device_key(&key)
        .send()
        .await;
    assert_eq!(
        err_of(gone),
        (
            "ResourceNotFoundException".to_string(),
            "Device does not exist.".to_string()
        )
    );
}
