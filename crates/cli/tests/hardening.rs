//! What an exposed server must withstand: slow clients, shutdown with a stalled client, files
//! readable by others, codes echoed back; and the operator's view: SigV4 over h2c, metrics.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, ExplicitAuthFlowsType, VerifiedAttributeType,
};
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use common::{create_app_client, create_confirmed_user, free_port, http_at, TestServer};

/// Sends a header line every 100 ms until the server closes the connection; how long that took.
fn trickle_headers_until_closed(port: u16, give_up: Duration) -> Option<Duration> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let started = Instant::now();
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n").unwrap();
    let mut buf = [0u8; 512];
    let mut i = 0;
    while started.elapsed() < give_up {
        if s.write_all(format!("X-Slow-{i}: a\r\n").as_bytes())
            .is_err()
        {
            return Some(started.elapsed());
        }
        i += 1;
        match s.read(&mut buf) {
            Ok(0) => return Some(started.elapsed()),
            // An answer (408) before the close counts as the close.
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(started.elapsed()),
        }
    }
    None
}

#[test]
fn a_slow_headers_client_is_cut_off_within_the_header_timeout() {
    let srv = TestServer::start_with(&["--dev", "--header-read-timeout", "1"]);
    let took = trickle_headers_until_closed(srv.port, Duration::from_secs(10))
        .expect("the slow client was still connected after 10 s");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(3),
        "closed after {took:?}, header timeout 1 s"
    );
    // Others are still served.
    let (status, _, _) = srv.http("GET", "/health", &[], b"").unwrap();
    assert_eq!(status, 200);
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    // The header timeout is long: only the idle timeout can close a client that sends nothing.
    let srv = TestServer::start_with(&[
        "--dev",
        "--header-read-timeout",
        "30",
        "--idle-timeout",
        "1",
    ]);
    let mut s = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let n = s.read(&mut buf).unwrap_or(0);
    let took = started.elapsed();
    assert_eq!(n, 0, "the server should close, not answer");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(4),
        "closed after {took:?}, idle timeout 1 s"
    );
}

#[test]
fn shutdown_is_bounded_while_stalled_clients_are_connected() {
    let mut srv = TestServer::start_with(&[
        "--dev",
        "--header-read-timeout",
        "60",
        "--shutdown-timeout",
        "1",
    ]);
    // One client stuck in its headers, one in the middle of a request body (a request in
    // flight that will never finish).
    let mut headers = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    headers
        .write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut body = TcpStream::connect(("127.0.0.1", srv.port)).unwrap();
    body.write_all(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n\
          X-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\n\
          Content-Length: 100\r\n\r\n{\"MaxRe",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let took = srv
        .terminate_within(Duration::from_secs(8))
        .expect("the server did not stop within 8 s of SIGTERM");
    assert!(
        took < Duration::from_secs(3),
        "stopped after {took:?}, shutdown bound 1 s"
    );
    drop((headers, body));
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[test]
fn data_directory_and_database_files_are_owner_only() {
    // A data directory the server creates itself.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fresh").join("data");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--dev", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(&dir)
        .env_remove("GATEHOUSE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http_at(port, "GET", "/health", &[], b"").map(|r| r.0).ok() != Some(200) {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let check = |dir: &Path| {
        for f in [
            "gatehouse.db",
            "gatehouse.db-wal",
            "gatehouse.db-shm",
            "credentials",
            "server.key",
        ] {
            assert_eq!(mode(&dir.join(f)), 0o600, "{f}");
        }
    };
    assert_eq!(mode(&dir), 0o700, "the new data directory");
    check(&dir);
    let _ = child.kill();
    let _ = child.wait();

    // A directory the operator made (0755 here): its mode is theirs, the files are still 0600.
    let tmp = tempfile::tempdir().unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let srv = TestServer::start_in(tmp.path());
    check(&srv.data_dir);
}

async fn pool_with_client(c: &aws_sdk_cognitoidentityprovider::Client) -> (String, String) {
    let pool = c
        .create_user_pool()
        .pool_name("hardening")
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = create_app_client(
        c,
        &pool,
        &[
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;
    (pool, client)
}

#[tokio::test]
async fn a_code_is_never_echoed_whatever_its_format() {
    let srv = TestServer::start();
    let c = srv.client();
    let (_, client) = pool_with_client(&c).await;
    c.sign_up()
        .client_id(&client)
        .username("spaced")
        .password("Passw0rd!x")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("spaced@example.com")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let spaced =
        format!(r#"{{"ClientId":"{client}","Username":"spaced","ConfirmationCode":"918 273"}}"#);
    let (status, _, body) = srv.call_raw(Some("ConfirmSignUp"), spaced.as_bytes());
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidParameterException");
    assert_eq!(
        body["message"],
        "1 validation error detected: Value at 'confirmationCode' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\S]+"
    );
    // A code sent as a JSON number.
    let number =
        format!(r#"{{"ClientId":"{client}","Username":"spaced","ConfirmationCode":918273}}"#);
    let (status, _, body) = srv.call_raw(Some("ConfirmSignUp"), number.as_bytes());
    assert_eq!(status, 400);
    assert!(
        !body.to_string().contains("918"),
        "a numeric code was echoed: {body}"
    );
    let log = srv.log();
    for shown in ["918 273", "918273"] {
        assert!(!log.contains(shown), "{shown} in the log:\n{log}");
    }
}

/// A signed admin request sent over HTTP/2 with prior knowledge (h2c), where the host is only
/// the `:authority` pseudo-header. `signed_for` is the authority the signature covers.
async fn h2c_admin_call(
    port: u16,
    signed_for: &str,
    key: &str,
    secret: &str,
) -> (u16, serde_json::Value) {
    use http_body_util::BodyExt;
    let body = r#"{"PoolName":"over-h2"}"#;
    let identity: Identity = Credentials::new(key, secret, None, None, "test").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cognito-idp")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let headers = [
        ("host", signed_for.to_string()),
        ("content-type", "application/x-amz-json-1.1".to_string()),
        (
            "x-amz-target",
            "AWSCognitoIdentityProviderService.CreateUserPool".to_string(),
        ),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{signed_for}/"),
        headers.iter().map(|(k, v)| (*k, v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http::Request::builder()
        .method("POST")
        .uri(format!("http://127.0.0.1:{port}/"));
    for (k, v) in &headers[1..] {
        req = req.header(*k, v);
    }
    let mut req = req.body(http_body_util::Full::new(bytes_of(body))).unwrap();
    instructions.apply_to_request_http1x(&mut req);
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tcp),
    )
    .await
    .expect("h2c handshake (prior knowledge)");
    tokio::spawn(conn);
    let res = send.send_request(req).await.unwrap();
    assert_eq!(res.version(), http::Version::HTTP_2);
    let status = res.status().as_u16();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

fn bytes_of(s: &str) -> hyper::body::Bytes {
    hyper::body::Bytes::copy_from_slice(s.as_bytes())
}

#[tokio::test]
async fn sigv4_over_h2c_uses_the_authority_as_host() {
    let srv = TestServer::start_with(&[]);
    let out = srv.stdout();
    let get = |var: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("export {var}=")))
            .unwrap_or_else(|| panic!("{var} not printed"))
            .to_string()
    };
    let (key, secret) = (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"));
    let authority = format!("127.0.0.1:{}", srv.port);
    let (status, body) = h2c_admin_call(srv.port, &authority, &key, &secret).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["UserPool"]["Name"], "over-h2");
    // Signed for another host: the authority really is what is checked.
    let (status, body) = h2c_admin_call(srv.port, "127.0.0.1:1", &key, &secret).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "InvalidSignatureException");
}

/// The metrics page, once `want` appears in it (deliveries are counted asynchronously).
fn scrape_until(port: u16, want: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, headers, body) = http_at(port, "GET", "/metrics", &[], b"").unwrap();
        assert_eq!(status, 200);
        assert!(headers
            .iter()
            .any(|(k, v)| k == "content-type" && v.starts_with("text/plain")));
        let text = String::from_utf8(body).unwrap();
        if text.contains(want) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn metrics_listener_shows_requests_sign_ins_deliveries_and_the_pool() {
    let mport = free_port();
    let srv = TestServer::start_with(&["--dev", "--metrics-listen", &format!("127.0.0.1:{mport}")]);
    // The API port does not serve metrics.
    let (status, _, _) = srv.http("GET", "/metrics", &[], b"").unwrap();
    assert_ne!(status, 200);
    let c = srv.client();
    let (pool, client) = pool_with_client(&c).await;
    create_confirmed_user(&c, &pool, "metered", "Passw0rd!x").await;
    let signed_in = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "metered")
        .auth_parameters("PASSWORD", "Passw0rd!x")
        .send()
        .await;
    assert!(signed_in.is_ok());
    let wrong = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "metered")
        .auth_parameters("PASSWORD", "Wrong0rd!x")
        .send()
        .await;
    assert!(wrong.is_err());
    // A failing SignUp, then one that sends a code.
    assert!(c
        .sign_up()
        .client_id("nosuchclient")
        .username("x")
        .password("Passw0rd!x")
        .send()
        .await
        .is_err());
    c.sign_up()
        .client_id(&client)
        .username("coded")
        .password("Passw0rd!x")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("coded@example.com")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let text = scrape_until(
        mport,
        "gatehouse_messages_delivered_total{medium=\"email\"}",
    );
    for want in [
        "gatehouse_requests_total{operation=\"CreateUserPool\",outcome=\"success\"} 1",
        "gatehouse_requests_total{operation=\"SignUp\",outcome=\"success\"} 1",
        "gatehouse_request_duration_seconds_bucket{operation=\"CreateUserPool\",le=\"",
        "gatehouse_sign_ins_total{flow=\"USER_PASSWORD_AUTH\",result=\"tokens\"} 1",
        "gatehouse_sign_ins_total{flow=\"USER_PASSWORD_AUTH\",result=\"NotAuthorizedException\"} 1",
        "gatehouse_messages_delivered_total{medium=\"email\"} 1",
        "gatehouse_db_pool_connections ",
        "gatehouse_db_pool_idle_connections ",
    ] {
        assert!(text.contains(want), "{want} missing from:\n{text}");
    }
    let failed_sign_up = text
        .lines()
        .find(|l| {
            l.starts_with("gatehouse_requests_total{operation=\"SignUp\",outcome=\"")
                && !l.contains("success")
        })
        .unwrap_or_else(|| panic!("no failed SignUp in:\n{text}"));
    assert!(
        failed_sign_up.contains("Exception\"} 1"),
        "{failed_sign_up}"
    );
}
