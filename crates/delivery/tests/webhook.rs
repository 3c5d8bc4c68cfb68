//! The webhook courier against a real HTTP listener on 127.0.0.1.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use gatehouse_core::messages::Courier;
use gatehouse_delivery::{WebhookConfig, WebhookCourier};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use support::{email_message, sms_message, HookRequest, HookServer, Reply};

const SECRET: &str = "whsec-test-0123456789";

fn config(url: &str) -> WebhookConfig {
    WebhookConfig {
        timeout_ms: Some(2_000),
        initial_backoff_ms: 10,
        max_backoff_ms: 40,
        ..WebhookConfig::new(url, SECRET)
    }
}

/// The documented recipe, implemented independently (RustCrypto `hmac` + `sha2`):
/// hex(HMAC-SHA256(secret, timestamp + "." + raw body)) == signature header after "sha256=".
fn signature_is_valid(request: &HookRequest, secret: &str) -> bool {
    let timestamp = request.header("x-gatehouse-timestamp");
    let Some(hex) = request
        .header("x-gatehouse-signature")
        .strip_prefix("sha256=")
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(&request.body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == hex
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn posts_a_signed_json_document() {
    let server = HookServer::start(&[]).await;
    let courier = WebhookCourier::new(config(&server.url)).unwrap();
    let message = sms_message("905112");

    courier.deliver(&message).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(
        request.header("x-gatehouse-message-id"),
        "7d9e2c4b-1f3a-4e6d-8b2c-0a1b2c3d4e5f"
    );
    assert_eq!(request.header("x-gatehouse-attempt"), "1");
    let timestamp: u64 = request.header("x-gatehouse-timestamp").parse().unwrap();
    assert!(now().abs_diff(timestamp) < 60);
    assert!(signature_is_valid(request, SECRET));
    assert!(!signature_is_valid(request, "another secret"));
    // The crate's own verifier agrees.
    assert!(gatehouse_delivery::verify_signature(
        SECRET.as_bytes(),
        request.header("x-gatehouse-timestamp"),
        &request.body,
        request.header("x-gatehouse-signature"),
        now(),
        Duration::from_secs(300),
    ));

    let doc: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(doc["Version"], 1);
    assert_eq!(doc["MessageId"], "7d9e2c4b-1f3a-4e6d-8b2c-0a1b2c3d4e5f");
    assert_eq!(doc["PoolId"], "us-east-1_TestPool1");
    assert_eq!(doc["Username"], "bob");
    assert_eq!(doc["Destination"], "+15550100");
    assert_eq!(doc["Medium"], "SMS");
    assert_eq!(doc["Purpose"], "MFA");
    assert_eq!(doc["Subject"], Value::Null);
    assert_eq!(doc["Body"], "Your authentication code is 905112");
    assert_eq!(doc["Code"], "905112");
    assert_eq!(doc["CreatedAt"], 1_700_000_000_456_i64);
    assert_eq!(doc.as_object().unwrap().len(), 11, "{doc}");
}

#[tokio::test]
async fn email_messages_go_too() {
    let server = HookServer::start(&[]).await;
    let courier = WebhookCourier::new(config(&server.url)).unwrap();
    courier.deliver(&email_message("314159")).await.unwrap();
    let request = &server.requests()[0];
    let doc: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(doc["Medium"], "EMAIL");
    assert_eq!(doc["Purpose"], "SIGN_UP");
    assert_eq!(doc["Subject"], "Your verification code");
    assert_eq!(doc["Destination"], "alice@example.com");
    assert_eq!(doc["Code"], "314159");
    assert!(signature_is_valid(request, SECRET));
}

#[tokio::test]
async fn retries_503_then_succeeds() {
    let server = HookServer::start(&[Reply::Status(503), Reply::Status(503)]).await;
    let courier = WebhookCourier::new(config(&server.url)).unwrap();
    courier.deliver(&email_message("271828")).await.unwrap();
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.header("x-gatehouse-attempt"), (i + 1).to_string());
        assert_eq!(request.body, requests[0].body, "same document every time");
        assert!(signature_is_valid(request, SECRET), "each retry is signed");
    }
}

#[tokio::test]
async fn retries_429_and_408() {
    let server = HookServer::start(&[Reply::Status(429), Reply::Status(408)]).await;
    let courier = WebhookCourier::new(config(&server.url)).unwrap();
    courier.deliver(&email_message("1")).await.unwrap();
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn client_error_is_not_retried() {
    let server = HookServer::start(&[Reply::Status(400)]).await;
    let courier = WebhookCourier::new(config(&server.url)).unwrap();
    let err = courier.deliver(&email_message("1")).await.unwrap_err();
    assert!(err.0.contains("400"), "{}", err.0);
    assert!(err.0.contains("1 attempt(s)"), "{}", err.0);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn persistent_server_errors_stop_at_max_attempts() {
    let server = HookServer::start(&[Reply::Status(500); 10]).await;
    let courier = WebhookCourier::new(WebhookConfig {
        max_attempts: 4,
        ..config(&server.url)
    })
    .unwrap();
    let err = courier.deliver(&email_message("1")).await.unwrap_err();
    assert!(err.0.contains("500"), "{}", err.0);
    assert!(err.0.contains("4 attempt(s)"), "{}", err.0);
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn unreachable_url_errors_after_max_attempts() {
    let port = support::closed_port().await;
    let courier = WebhookCourier::new(WebhookConfig {
        max_attempts: 3,
        ..config(&format!("http://127.0.0.1:{port}/hook"))
    })
    .unwrap();
    let started = Instant::now();
    let err = courier.deliver(&email_message("1")).await.unwrap_err();
    assert!(err.0.contains("3 attempt(s)"), "{}", err.0);
    assert!(err.0.to_ascii_lowercase().contains("connect"), "{}", err.0);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let server = HookServer::start(&[Reply::Slow(Duration::from_millis(1_500))]).await;
    let courier = WebhookCourier::new(WebhookConfig {
        timeout_ms: Some(200),
        ..config(&server.url)
    })
    .unwrap();
    let started = Instant::now();
    courier.deliver(&email_message("1")).await.unwrap();
    assert_eq!(server.requests().len(), 2);
    assert!(started.elapsed() < Duration::from_millis(1_500));
}

#[tokio::test]
async fn backoff_grows_between_attempts() {
    let server = HookServer::start(&[Reply::Status(502); 3]).await;
    let courier = WebhookCourier::new(WebhookConfig {
        initial_backoff_ms: 100,
        max_backoff_ms: 1_000,
        ..config(&server.url)
    })
    .unwrap();
    let started = Instant::now();
    courier.deliver(&email_message("1")).await.unwrap();
    // Waits of at least 50 + 100 + 200 ms (half of 100, 200, 400: equal jitter).
    assert!(started.elapsed() >= Duration::from_millis(350));
    assert_eq!(server.requests().len(), 4);
}

/// An https URL pointing at a plain-HTTP listener: the rustls handshake fails (proving the
/// TLS client is wired and its crypto provider found) and is not retried.
#[tokio::test]
async fn tls_failure_is_not_retried() {
    let server = HookServer::start(&[]).await;
    let url = server.url.replacen("http://", "https://", 1);
    let courier = WebhookCourier::new(config(&url)).unwrap();
    let err = courier.deliver(&email_message("1")).await.unwrap_err();
    assert!(err.0.contains("1 attempt(s)"), "{}", err.0);
    assert!(server.requests().is_empty());
}
