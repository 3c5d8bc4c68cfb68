//! Admin authentication: SigV4 with the generated or configured access keys, AWS's refusals,
//! credential policies, development mode, and rate limits on the public operations.

mod common;

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::{create_app_client, create_confirmed_user, create_pool, err_of, http_at, TestServer};

/// Signs a cognito-idp request with the `aws-sigv4` crate; returns the headers to send.
fn signed_headers(
    port: u16,
    op: &str,
    body: &str,
    key: &str,
    secret: &str,
    service: &str,
    time: SystemTime,
) -> Vec<(String, String)> {
    let identity: Identity = Credentials::new(key, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let host = format!("127.0.0.1:{port}");
    let mut headers = vec![
        ("host".to_string(), host.clone()),
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            format!("AWSCognitoIdentityProviderService.{op}"),
        ),
    ];
    let uri = format!("http://{host}/");
    let signable = SignableRequest::new(
        "POST",
        uri.clone(),
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder()
        .method("POST")
        .uri(uri)
        .body(())
        .unwrap();
    instructions.apply_to_request_http1x(&mut req);
    for (k, v) in req.headers() {
        headers.push((k.as_str().to_string(), v.to_str().unwrap().to_string()));
    }
    headers
}

fn send(port: u16, headers: &[(String, String)], body: &str) -> (u16, serde_json::Value) {
    let hs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (status, _, body) = http_at(port, "POST", "/", &hs, body.as_bytes()).unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    )
}

async fn pool_count(c: &Client) -> usize {
    c.list_user_pools()
        .max_results(60)
        .send()
        .await
        .unwrap()
        .user_pools
        .unwrap()
        .len()
}

#[tokio::test]
async fn generated_credentials_are_printed_once_and_sign_admin_calls() {
    let tmp = tempfile::tempdir().unwrap();
    let (key, secret) = {
        let srv = TestServer::launch(tmp.path(), &[]);
        let (key, secret) = srv.printed_credentials();
        assert!(key.starts_with("AKIA") && key.len() == 20, "{key}");
        let file = std::fs::read_to_string(tmp.path().join("credentials")).unwrap();
        assert!(file.contains("[default]"));
        assert!(file.contains(&format!("aws_access_key_id = {key}")));
        assert!(file.contains(&format!("aws_secret_access_key = {secret}")));
        let c = srv.client_with(&key, &secret);
        c.create_user_pool()
            .pool_name("signed")
            .send()
            .await
            .unwrap();
        assert!(
            !srv.log().contains(&secret),
            "the secret must not reach the log"
        );
        (key, secret)
    };
    // Second start: the same pair from the file, nothing printed.
    let srv = TestServer::launch(tmp.path(), &[]);
    assert!(!srv.stdout().contains("export"), "{}", srv.stdout());
    assert_eq!(pool_count(&srv.client_with(&key, &secret)).await, 1);
}

#[tokio::test]
async fn bad_signatures_are_refused_with_aws_exceptions_and_change_nothing() {
    let srv = TestServer::start_with(&[]);
    let (key, secret) = srv.printed_credentials();
    let good = srv.client_with(&key, &secret);

    let (code, msg) = err_of(
        srv.client_with(&key, "wrong-secret")
            .create_user_pool()
            .pool_name("x")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        msg.starts_with("The request signature we calculated does not match"),
        "{msg}"
    );

    let (code, msg) = err_of(
        srv.client_with("AKIAUNKNOWNKEY000000", &secret)
            .create_user_pool()
            .pool_name("x")
            .send()
            .await,
    );
    assert_eq!(code, "UnrecognizedClientException");
    assert_eq!(
        msg,
        "The security token included in the request is invalid."
    );

    let body = r#"{"PoolName":"original"}"#;
    // Correctly signed by hand: accepted (the harness itself is right).
    let ok = signed_headers(
        srv.port,
        "ListUserPools",
        r#"{"MaxResults":1}"#,
        &key,
        &secret,
        "cognito-idp",
        SystemTime::now(),
    );
    let (status, v) = send(srv.port, &ok, r#"{"MaxResults":1}"#);
    assert_eq!(status, 200, "{v}");
    // Signed 6 minutes ago: outside the 5-minute window.
    let h = signed_headers(
        srv.port,
        "CreateUserPool",
        body,
        &key,
        &secret,
        "cognito-idp",
        SystemTime::now() - Duration::from_secs(360),
    );
    let (_, v) = send(srv.port, &h, body);
    assert_eq!(v["__type"], "InvalidSignatureException");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired"),
        "{v}"
    );
    // Tampered body.
    let h = signed_headers(
        srv.port,
        "CreateUserPool",
        body,
        &key,
        &secret,
        "cognito-idp",
        SystemTime::now(),
    );
    let (status, v) = send(srv.port, &h, r#"{"PoolName":"tampered"}"#);
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("InvalidSignatureException"))
    );
    // Another service's signature.
    let h = signed_headers(
        srv.port,
        "CreateUserPool",
        body,
        &key,
        &secret,
        "cognito-identity",
        SystemTime::now(),
    );
    let (_, v) = send(srv.port, &h, body);
    assert_eq!(v["__type"], "InvalidSignatureException");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("Credential should be scoped to correct service: 'cognito-idp'"),
        "{v}"
    );
    // A header removed after signing.
    let mut h = signed_headers(
        srv.port,
        "CreateUserPool",
        body,
        &key,
        &secret,
        "cognito-idp",
        SystemTime::now(),
    );
    h.retain(|(k, _)| k != "x-amz-date");
    let (_, v) = send(srv.port, &h, body);
    assert_eq!(v["__type"], "IncompleteSignatureException", "{v}");
    // No signature at all.
    let (status, _, v) = srv.call_raw(Some("CreateUserPool"), body.as_bytes());
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("MissingAuthenticationTokenException"))
    );
    assert_eq!(v["message"], "Missing Authentication Token");

    assert_eq!(
        pool_count(&good).await,
        0,
        "no refused call changed anything"
    );
    // Public operations need no signature.
    let (_, _, v) = srv.call_raw(
        Some("InitiateAuth"),
        br#"{"AuthFlow":"USER_SRP_AUTH","ClientId":"abc"}"#,
    );
    assert_ne!(v["__type"], "MissingAuthenticationTokenException");
}

#[tokio::test]
async fn read_only_and_pool_scoped_credentials() {
    let tmp = tempfile::tempdir().unwrap();
    // First the pools, with a full-access key.
    let config = tmp.path().join("gatehouse.toml");
    let write_config = |scoped_pool: &str| {
        std::fs::write(
            &config,
            format!(
                r#"
[[credentials]]
access_key_id = "AKIAADMIN00000000000"
secret_access_key = "admin-secret"

[[credentials]]
access_key_id = "AKIAREADONLY00000000"
secret_access_key = "reader-secret"
read_only = true

[[credentials]]
access_key_id = "AKIASCOPED0000000000"
secret_access_key = "scoped-secret"
pools = ["{scoped_pool}"]
"#
            ),
        )
        .unwrap();
    };
    write_config("none-yet");
    let args = ["--config", config.to_str().unwrap()];
    let (a, b) = {
        let srv = TestServer::launch(tmp.path(), &args);
        assert!(
            !srv.stdout().contains("export"),
            "configured keys: nothing generated"
        );
        let admin = srv.client_with("AKIAADMIN00000000000", "admin-secret");
        let a = create_pool(&admin, "a").await;
        let b = create_pool(&admin, "b").await;
        (a, b)
    };
    write_config(&a);
    let srv = TestServer::launch(tmp.path(), &args);

    let reader = srv.client_with("AKIAREADONLY00000000", "reader-secret");
    reader
        .describe_user_pool()
        .user_pool_id(&a)
        .send()
        .await
        .unwrap();
    assert_eq!(pool_count(&reader).await, 2);
    let (code, msg) = err_of(reader.update_user_pool().user_pool_id(&a).send().await);
    assert_eq!(code, "AccessDeniedException");
    assert!(msg.contains("cognito-idp:UpdateUserPool"), "{msg}");
    let (code, _) = err_of(reader.create_user_pool().pool_name("c").send().await);
    assert_eq!(code, "AccessDeniedException");

    let scoped = srv.client_with("AKIASCOPED0000000000", "scoped-secret");
    scoped
        .describe_user_pool()
        .user_pool_id(&a)
        .send()
        .await
        .unwrap();
    scoped
        .create_user_pool_client()
        .user_pool_id(&a)
        .client_name("ok")
        .send()
        .await
        .unwrap();
    let (code, _) = err_of(scoped.describe_user_pool().user_pool_id(&b).send().await);
    assert_eq!(code, "AccessDeniedException");
    let (code, _) = err_of(scoped.create_user_pool().pool_name("c").send().await);
    assert_eq!(code, "AccessDeniedException");
    let listed = scoped
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .unwrap()
        .user_pools
        .unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|p| p.id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec![a.clone()]
    );
    // Filtered before paging: a page of one holds the one visible pool and promises no more.
    let page = scoped
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.user_pools
            .unwrap()
            .iter()
            .map(|p| p.id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec![a.clone()]
    );
    assert_eq!(page.next_token, None);
    let arn_b = format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{b}");
    let (code, _) = err_of(
        scoped
            .list_tags_for_resource()
            .resource_arn(arn_b)
            .send()
            .await,
    );
    assert_eq!(code, "AccessDeniedException");

    let admin = srv.client_with("AKIAADMIN00000000000", "admin-secret");
    let d = admin
        .describe_user_pool()
        .user_pool_id(&a)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(
        d.name.as_deref(),
        Some("a"),
        "the refused calls changed nothing"
    );
    assert_eq!(pool_count(&admin).await, 2);
}

#[tokio::test]
async fn dev_mode_accepts_dummy_or_no_credentials_and_default_mode_does_not() {
    let dev = TestServer::start();
    dev.client_with("whatever", "dummy")
        .create_user_pool()
        .pool_name("dev")
        .send()
        .await
        .unwrap();
    let (status, _, _) = dev.call_raw(Some("ListUserPools"), br#"{"MaxResults":5}"#);
    assert_eq!(status, 200);

    let prod = TestServer::start_with(&[]);
    let (code, _) = err_of(
        prod.client_with("whatever", "dummy")
            .create_user_pool()
            .pool_name("x")
            .send()
            .await,
    );
    assert_eq!(code, "UnrecognizedClientException");
    let (_, _, v) = prod.call_raw(Some("ListUserPools"), br#"{"MaxResults":5}"#);
    assert_eq!(v["__type"], "MissingAuthenticationTokenException");
}

/// One InitiateAuth from a chosen loopback address.
async fn initiate_from(
    local: &str,
    port: u16,
    client_id: &str,
    user: &str,
    password: &str,
) -> serde_json::Value {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let sock = tokio::net::TcpSocket::new_v4().unwrap();
    sock.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut s = sock
        .connect(format!("127.0.0.1:{port}").parse().unwrap())
        .await
        .unwrap();
    let body = serde_json::json!({
        "AuthFlow": "USER_PASSWORD_AUTH",
        "ClientId": client_id,
        "AuthParameters": {"USERNAME": user, "PASSWORD": password},
    })
    .to_string();
    let req = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap_or("null"))
        .unwrap_or(serde_json::Value::Null)
}

#[tokio::test]
async fn flooding_sign_in_from_one_address_is_throttled_while_others_pass() {
    let srv = TestServer::start_with(&["--rate-limit-per-ip", "5"]);
    let (key, secret) = srv.printed_credentials();
    let c = srv.client_with(&key, &secret);
    let pool = create_pool(&c, "flood").await;
    let client = create_app_client(
        &c,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;
    for user in ["alice", "victim"] {
        create_confirmed_user(&c, &pool, user, "Passw0rd!").await;
    }
    // An attacker guesses the victim's password from one address.
    let mut throttled = 0;
    for _ in 0..30 {
        let answer = initiate_from("127.0.0.1", srv.port, &client, "victim", "guess").await;
        if answer["__type"] == "TooManyRequestsException" {
            throttled += 1;
        }
    }
    assert!(
        throttled >= 15,
        "a burst of 10 then refusals, got {throttled} refusals of 30"
    );
    // Someone else, from another address, signs in.
    let other = initiate_from("127.0.0.2", srv.port, &client, "alice", "Passw0rd!").await;
    assert!(
        other["AuthenticationResult"]["AccessToken"].is_string(),
        "{other}"
    );
    // Admin and other operations are not counted against the sign-in limit.
    let (_, _, v) = srv.call_raw(Some("ListUserPools"), br#"{"MaxResults":1}"#);
    assert_eq!(v["__type"], "MissingAuthenticationTokenException");
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let srv = TestServer::start_with(&["--rate-limit-per-ip", "0"]);
    let (key, secret) = srv.printed_credentials();
    let c = srv.client_with(&key, &secret);
    let pool = create_pool(&c, "secrets").await;
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("s")
        .generate_secret(true)
        .send()
        .await
        .unwrap();
    let client_secret = client.user_pool_client.unwrap().client_secret.unwrap();
    let password = "Sup3r-Secret-Passw0rd!";
    // Requests carrying passwords, codes and tokens, refused or not, are logged without them.
    for body in [
        format!(r#"{{"ClientId":"abc","Username":"u","Password":"{password}"}}"#),
        format!(r#"{{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"abc","AuthParameters":{{"USERNAME":"u","PASSWORD":"{password}"}}}}"#),
        r#"{"ClientId":"abc","Username":"u","ConfirmationCode":"493817","Password":"Another-Passw0rd"}"#.to_string(),
        format!(r#"{{"AccessToken":"{}"}}"#, "eyJ.tokenpayload.sig"),
        format!(r#"{{"ClientId":"abc","Username":"u","Password":"{}"}}"#, "x".repeat(300)),
    ] {
        for op in ["SignUp", "InitiateAuth", "ConfirmForgotPassword", "GetUser"] {
            srv.call_raw(Some(op), body.as_bytes());
        }
    }
    // A real sign-up: the password, the temporary password of an invitation and the
    // confirmation code travel through the server (read back with `gatehouse outbox`).
    c.update_user_pool()
        .user_pool_id(&pool)
        .auto_verified_attributes(
            aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
        )
        .send()
        .await
        .unwrap();
    let plain = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("p")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let plain = plain.user_pool_client.unwrap().client_id.unwrap();
    let email = aws_sdk_cognitoidentityprovider::types::AttributeType::builder()
        .name("email")
        .value("v@example.com")
        .build()
        .unwrap();
    c.sign_up()
        .client_id(&plain)
        .username("victor")
        .password(password)
        .user_attributes(email.clone())
        .send()
        .await
        .unwrap();
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("wendy")
        .user_attributes(email.clone())
        .desired_delivery_mediums(aws_sdk_cognitoidentityprovider::types::DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    let outbox = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["outbox", "--pool", &pool])
        .arg("--data-dir")
        .arg(&srv.data_dir)
        .output()
        .unwrap();
    assert!(
        outbox.status.success(),
        "{}",
        String::from_utf8_lossy(&outbox.stderr)
    );
    let messages: serde_json::Value = serde_json::from_slice(&outbox.stdout).unwrap();
    let codes: Vec<String> = messages["Messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 2, "{messages}");
    c.confirm_sign_up()
        .client_id(&plain)
        .username("victor")
        .confirmation_code(&codes[0])
        .send()
        .await
        .unwrap();
    // A real sign-in, a token-authenticated call and a refresh: tokens cross the server.
    let tokens = c
        .initiate_auth()
        .client_id(&plain)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "victor")
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    let access = tokens.access_token.unwrap();
    let id = tokens.id_token.unwrap();
    let refresh = tokens.refresh_token.unwrap();
    c.get_user().access_token(&access).send().await.unwrap();
    c.initiate_auth()
        .client_id(&plain)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await
        .unwrap();

    let log = srv.log();
    assert!(log.contains("operation=GetUser"));
    // Each token's signature (or the refresh token's random part) is its secret half.
    for token in [&access, &id] {
        let signature = token.rsplit('.').next().unwrap();
        assert!(!log.contains(signature), "a token leaked into the log");
    }
    assert!(
        !log.contains(&refresh[20..]),
        "a refresh token leaked into the log"
    );
    assert!(
        log.contains("operation=InitiateAuth"),
        "the log has the requests: {log}"
    );
    assert!(log.contains("operation=ConfirmSignUp"));
    for code in &codes {
        assert!(
            !log.contains(code.as_str()),
            "a code or temporary password leaked into the log"
        );
    }
    for s in [
        secret.as_str(),
        client_secret.as_str(),
        password,
        "Another-Passw0rd",
        "493817",
        "tokenpayload",
        "xxxxxxxxxx",
    ] {
        assert!(!log.contains(s), "{s} leaked into the log");
    }
}
