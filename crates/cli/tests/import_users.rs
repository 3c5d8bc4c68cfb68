//! `gatehouse import-users` (docs/user-import.md): the operator's import, on the server's own
//! data directory, with Cognito's rules per row; a user brought with a PBKDF2 hash then signs
//! in with the old password through the server, and by SRP after that.

mod common;

use std::process::Command;

use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, VerifiedAttributeType,
};
use base64::Engine;
use common::{create_app_client, err_of, TestServer};
use gatehouse_client::{SignInOutcome, SrpSignIn};

const OLD_PASSWORD: &str = "Legacy-Passw0rd!";

/// The password as passlib's pbkdf2_sha256 stores it.
fn pbkdf2_hash(password: &str) -> String {
    let salt = b"0123456789abcdef";
    let mut key = [0u8; 32];
    aws_lc_rs::pbkdf2::derive(
        aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        std::num::NonZeroU32::new(10_000).unwrap(),
        salt,
        password.as_bytes(),
        &mut key,
    );
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(b);
    format!("$pbkdf2-sha256$10000${}${}", b64(salt), b64(&key))
}

fn import_users(data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("import-users")
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("GATEHOUSE_CONFIG")
        .env("NO_COLOR", "1")
        .output()
        .expect("run gatehouse import-users")
}

#[tokio::test]
async fn imported_users_are_created_with_cognitos_rules_and_sign_in_with_their_hash() {
    let mut srv = TestServer::start();
    let c = srv.client();
    let pool = c
        .create_user_pool()
        .pool_name("import")
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client_id = create_app_client(
        &c,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowUserSrpAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;
    srv.stop();

    let data_dir = srv.data_dir.clone();
    let file = data_dir.join("users.csv");
    std::fs::write(
        &file,
        format!(
            "cognito:username,email,email_verified,password_hash\n\
             ann,ann@example.com,true,{}\n\
             bob,bob@example.com,true,\n\
             carl,carl@example.com,false,\n\
             ann,ann2@example.com,true,\n",
            pbkdf2_hash(OLD_PASSWORD)
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let out = import_users(
        &data_dir,
        &[
            "--pool",
            &pool,
            "--password-hashing-algorithm",
            "PBKDF2_SHA256",
            file,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            &summary["ImportedUsers"],
            &summary["SkippedUsers"],
            &summary["FailedUsers"]
        ),
        (&2.into(), &1.into(), &1.into()),
        "{summary}"
    );
    assert!(
        stderr.contains("[FAILED] Line Number 3 - The User Record does not set any of the auto verified attributes to true."),
        "{stderr}"
    );
    assert!(
        stderr.contains("[SKIPPED] Line Number 4 - The user already exists."),
        "{stderr}"
    );

    // Refusals: an unknown pool, an unknown algorithm, a file whose header Cognito refuses.
    let unknown = import_users(&data_dir, &["--pool", "us-east-1_NoSuchPool", file]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("does not exist"));
    let bad = import_users(
        &data_dir,
        &["--pool", &pool, "--password-hashing-algorithm", "MD5", file],
    );
    assert_eq!(bad.status.code(), Some(2));
    std::fs::write(data_dir.join("bad.csv"), "email\nx@example.com\n").unwrap();
    let headless = import_users(
        &data_dir,
        &["--pool", &pool, data_dir.join("bad.csv").to_str().unwrap()],
    );
    assert!(!headless.status.success());
    assert!(String::from_utf8_lossy(&headless.stderr).contains("cognito:username"));

    // The server sees them: ann signs in with the old password, then by SRP.
    let srv = TestServer::start_in(&data_dir);
    let c = srv.client();
    let bob = c
        .admin_get_user()
        .user_pool_id(&pool)
        .username("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(bob.user_status().unwrap().as_str(), "RESET_REQUIRED");
    let srp = SrpSignIn::new(&pool, &client_id).unwrap();
    let before = srp.sign_in(&c, "ann", OLD_PASSWORD).await.unwrap_err();
    assert!(before.is_not_authorized(), "{before:?}");
    let first = c
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("PASSWORD", OLD_PASSWORD)
        .send()
        .await
        .unwrap();
    assert!(first.authentication_result().is_some());
    match srp.sign_in(&c, "ann", OLD_PASSWORD).await.unwrap() {
        SignInOutcome::Tokens(_) => {}
        other => panic!("expected tokens, got {other:?}"),
    }
    let (code, _) = err_of(
        c.initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "bob")
            .auth_parameters("PASSWORD", OLD_PASSWORD)
            .send()
            .await,
    );
    assert_eq!(code, "PasswordResetRequiredException");
}
