//! The AWS JSON 1.1 protocol at the byte level: every bad input gets an AWS-style JSON error that
//! names the problem, never a 500; headers, CORS, health, the CLI's own commands.

mod common;

use std::process::Command;

use common::TestServer;

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn bad_inputs_answer_aws_style_errors() {
    let srv = TestServer::start();
    let long = "a".repeat(129);
    let cases: Vec<(Option<&str>, Vec<u8>, &str, &str)> = vec![
        (
            Some("CreateUserPool"),
            b"{not json".to_vec(),
            "SerializationException",
            "Unable to parse",
        ),
        (
            Some("CreateUserPool"),
            br#"{"PoolName": 5}"#.to_vec(),
            "SerializationException",
            "expected a string",
        ),
        (
            Some("ListUserPools"),
            br#"{"MaxResults": "ten"}"#.to_vec(),
            "SerializationException",
            "expected i32",
        ),
        (
            Some("CreateUserPool"),
            br#"{"PoolName": "p", "Schema": {"a": 1}}"#.to_vec(),
            "SerializationException",
            "expected a sequence",
        ),
        (
            Some("CreateUserPool"),
            format!(r#"{{"PoolName": "{long}"}}"#).into_bytes(),
            "InvalidParameterException",
            "Member must have length less than or equal to 128",
        ),
        (
            Some("CreateUserPool"),
            br#"{"PoolName": "a/b"}"#.to_vec(),
            "InvalidParameterException",
            "Member must satisfy regular expression pattern",
        ),
        (
            Some("CreateUserPool"),
            br#"{"PoolName": "p", "MfaConfiguration": "SOMETIMES"}"#.to_vec(),
            "InvalidParameterException",
            "Member must satisfy enum value set: [OFF, ON, OPTIONAL]",
        ),
        (
            Some("CreateUserPool"),
            br#"{}"#.to_vec(),
            "InvalidParameterException",
            "Value null at 'poolName' failed to satisfy constraint: Member must not be null",
        ),
        (
            Some("ListUserPools"),
            br#"{"MaxResults": 0}"#.to_vec(),
            "InvalidParameterException",
            "Member must have value greater than or equal to 1",
        ),
        (
            Some("DescribeUserPool"),
            br#"{"UserPoolId": "no-underscore"}"#.to_vec(),
            "InvalidParameterException",
            "at 'userPoolId'",
        ),
        (
            Some("CreateUserPool"),
            br#"{"PoolName": "p", "Schema": [{"Name": "x", "AttributeDataType": "Text"}]}"#
                .to_vec(),
            "InvalidParameterException",
            "at 'schema.1.member.attributeDataType'",
        ),
        (
            Some("NoSuchOperation"),
            b"{}".to_vec(),
            "UnknownOperationException",
            "NoSuchOperation",
        ),
        (
            None,
            b"{}".to_vec(),
            "UnknownOperationException",
            "X-Amz-Target",
        ),
        (
            Some("CreateUserPool"),
            vec![b' '; 2 * 1024 * 1024],
            "RequestEntityTooLargeException",
            "limit",
        ),
    ];
    for (target, body, code, needle) in cases {
        let (status, headers, v) = srv.call_raw(target, &body);
        assert_ne!(status, 500, "{target:?}: {v}");
        assert!(
            status == 400 || status == 413,
            "{target:?}: status {status}"
        );
        assert_eq!(v["__type"], code, "{target:?}: {v}");
        let msg = v["message"].as_str().unwrap_or("");
        assert!(msg.contains(needle), "{target:?}: {msg:?} lacks {needle:?}");
        assert_eq!(header(&headers, "x-amzn-errortype"), Some(code));
        assert!(header(&headers, "x-amzn-requestid").is_some());
    }
    // Several failures are counted and joined, as AWS does.
    let (_, _, v) = srv.call_raw(
        Some("CreateUserPool"),
        br#"{"PoolName": "a/b", "MfaConfiguration": "X"}"#,
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("2 validation errors detected: "),
        "{v}"
    );
    // Sensitive values are never echoed.
    let (_, _, v) = srv.call_raw(
        Some("SignUp"),
        format!(
            r#"{{"ClientId": "c", "Username": "u", "Password": "{}"}}"#,
            "p".repeat(300)
        )
        .as_bytes(),
    );
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("Value at 'password'") && !msg.contains("ppp"),
        "{msg}"
    );
}

#[test]
fn nulls_in_maps_are_absent_and_success_is_json() {
    let srv = TestServer::start();
    let (status, headers, v) = srv.call_raw(Some("CreateUserPool"), br#"{"PoolName": "n", "UserPoolTags": {"keep": "1", "drop": null}, "DeviceConfiguration": null}"#);
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        header(&headers, "content-type"),
        Some("application/x-amz-json-1.1")
    );
    assert!(header(&headers, "x-amzn-requestid").is_some());
    assert_eq!(
        v["UserPool"]["UserPoolTags"],
        serde_json::json!({"keep": "1"})
    );
    assert!(v["UserPool"].get("DeviceConfiguration").is_none());
    // Operations without output answer `{}`, and `application/json` is accepted too.
    let id = v["UserPool"]["Id"].as_str().unwrap().to_string();
    let (status, _, body) = srv
        .http(
            "POST",
            "/any/prefix",
            &[
                ("Content-Type", "application/json"),
                (
                    "X-Amz-Target",
                    "AWSCognitoIdentityProviderService.DeleteUserPool",
                ),
            ],
            format!(r#"{{"UserPoolId": "{id}"}}"#).as_bytes(),
        )
        .unwrap();
    assert_eq!((status, body.as_slice()), (200, b"{}".as_slice()));
    // A form post (what a browser may send without a preflight) is refused.
    let (status, _, body) = srv
        .http(
            "POST",
            "/",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                (
                    "X-Amz-Target",
                    "AWSCognitoIdentityProviderService.ListUserPools",
                ),
            ],
            b"MaxResults=1",
        )
        .unwrap();
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("SerializationException"));
}

#[test]
fn cors_preflight_and_exposed_headers() {
    let srv = TestServer::start();
    let (status, h, _) = srv
        .http(
            "OPTIONS",
            "/",
            &[
                ("Origin", "http://localhost:3000"),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "content-type,x-amz-target,x-amz-user-agent,cache-control,x-app-header",
                ),
            ],
            b"",
        )
        .unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        Some("http://localhost:3000")
    );
    assert!(header(&h, "access-control-allow-methods")
        .unwrap()
        .contains("POST"));
    let allowed = header(&h, "access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for needed in [
        "content-type",
        "x-amz-target",
        "x-amz-user-agent",
        "cache-control",
        "x-app-header",
    ] {
        assert!(allowed.contains(needed), "{allowed}");
    }
    let (_, h, _) = srv
        .http(
            "POST",
            "/",
            &[
                ("Origin", "http://localhost:3000"),
                ("Content-Type", "application/x-amz-json-1.1"),
                (
                    "X-Amz-Target",
                    "AWSCognitoIdentityProviderService.ListUserPools",
                ),
            ],
            br#"{"MaxResults": 1}"#,
        )
        .unwrap();
    let exposed = header(&h, "access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for needed in [
        "x-amzn-requestid",
        "x-amzn-errortype",
        "x-amzn-errormessage",
        "date",
    ] {
        assert!(exposed.contains(needed), "{exposed}");
    }
}

#[test]
fn health_healthcheck_and_dev_reset() {
    let srv = TestServer::start();
    let (status, _, body) = srv.http("GET", "/health", &[], b"").unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "ok");
    assert_eq!(v["dev"], true);
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let ok = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["healthcheck", "--url", &srv.url()])
        .output()
        .unwrap();
    assert!(ok.status.success());
    let down = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["healthcheck", "--url", "http://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!down.status.success());

    srv.call_raw(Some("CreateUserPool"), br#"{"PoolName": "wiped"}"#);
    let (status, _, _) = srv.http("POST", "/_gatehouse/reset", &[], b"").unwrap();
    assert_eq!(status, 200);
    let (_, _, v) = srv.call_raw(Some("ListUserPools"), br#"{"MaxResults": 60}"#);
    assert_eq!(v["UserPools"], serde_json::json!([]));
}

#[test]
fn reset_endpoint_does_not_exist_without_dev() {
    let tmp = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(tmp.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let mut healthy = None;
    for _ in 0..500 {
        let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["healthcheck", "--url", &url])
            .output()
            .unwrap();
        if out.status.success() {
            healthy = Some(String::from_utf8_lossy(&out.stdout).to_string());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let health: serde_json::Value =
        serde_json::from_str(healthy.as_deref().expect("server came up")).unwrap();
    assert_eq!(health["dev"], false);
    // Without --dev the reset path is just another API path: no operation named, nothing wiped.
    let (status, _, body) = common::http_at(port, "POST", "/_gatehouse/reset", &[], b"").unwrap();
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 400);
    assert!(
        body.contains("UnknownOperationException") && !body.contains("\"reset\""),
        "{body}"
    );
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn operations_doc_is_generated_from_the_code() {
    let out = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .arg("operations")
        .output()
        .unwrap();
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/operations.md"
    ))
    .unwrap_or_default();
    assert!(
        doc == generated,
        "docs/operations.md is stale: run `cargo run -- operations > docs/operations.md`"
    );
    assert!(generated.contains("| CreateUserPool | SigV4 (admin) | yes |"));
    assert!(generated.contains("| InitiateAuth | public / token | yes |"));
    assert!(generated.contains("| ConfirmDevice | public / token | yes |"));
    assert!(generated.contains("| ListWebAuthnCredentials | public / token | yes |"));
    assert!(generated.contains("141 of 141 operations implemented."));
}

#[test]
fn client_text_cannot_forge_log_lines() {
    let srv = TestServer::start();
    let (_, _, v) = srv.call_raw(
        Some("DescribeUserPool"),
        br#"{"UserPoolId": "us-east-1_x\nFORGED INFO admin logged in"}"#,
    );
    assert_eq!(v["__type"], "InvalidParameterException", "{v}");
    assert!(
        v["message"].as_str().unwrap().contains("FORGED"),
        "the value is echoed to the client"
    );
    let log = srv.log();
    assert!(log.contains("refused"), "{log}");
    assert!(!log.lines().any(|l| l.starts_with("FORGED")), "{log}");
}
