//! The SMTP courier against a real SMTP listener on 127.0.0.1.

mod support;

use std::time::{Duration, Instant};

use gatehouse_core::messages::Courier;
use gatehouse_delivery::{SmtpConfig, SmtpCourier, SmtpSecurity};
use support::{email_message, sms_message, SmtpBehaviour, SmtpServer};

fn plain_config(port: u16) -> SmtpConfig {
    SmtpConfig {
        port: Some(port),
        security: SmtpSecurity::None,
        hello_name: Some("gatehouse.test".into()),
        timeout_ms: Some(2_000),
        initial_backoff_ms: 10,
        max_backoff_ms: 50,
        ..SmtpConfig::new("127.0.0.1", "Gatehouse <no-reply@gatehouse.test>")
    }
}

/// Unfolds header continuation lines so a header can be matched whole.
fn unfold(data: &str) -> String {
    data.replace("\r\n ", " ").replace("\r\n\t", " ")
}

#[tokio::test]
async fn delivers_email_with_envelope_subject_and_code() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;
    let courier = SmtpCourier::new(plain_config(server.port)).unwrap();
    let message = email_message("482913");

    courier.deliver(&message).await.unwrap();

    let transactions = server.transactions();
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx.hello, "gatehouse.test");
    assert_eq!(tx.mail_from, "no-reply@gatehouse.test");
    assert_eq!(tx.rcpt_to, vec!["alice@example.com".to_owned()]);
    assert_eq!(tx.auth_plain, None);
    let data = unfold(&tx.data);
    let (headers, body) = data.split_once("\r\n\r\n").expect("headers and body");
    assert!(
        headers.contains("Subject: Your verification code\r\n"),
        "{headers}"
    );
    assert!(
        headers.contains("From: Gatehouse <no-reply@gatehouse.test>"),
        "{headers}"
    );
    assert!(headers.contains("To: alice@example.com"), "{headers}");
    assert!(
        headers.contains("Message-ID: <0b6c1f5e-3a0d-4c55-9a59-5f2f5e0c9d11@gatehouse.test>"),
        "{headers}"
    );
    assert!(headers.contains("Content-Type: text/plain"), "{headers}");
    assert!(headers.contains("Date: "), "{headers}");
    assert!(body.contains("Your confirmation code is 482913"), "{body}");
    // The courier said goodbye properly.
    let commands = server.log.lock().unwrap().commands.clone();
    assert_eq!(commands.last().map(String::as_str), Some("QUIT"));
}

#[tokio::test]
async fn authenticates_when_credentials_are_configured() {
    let server = SmtpServer::start(SmtpBehaviour {
        offer_auth: true,
        ..Default::default()
    })
    .await;
    let config = SmtpConfig {
        username: Some("mailer".into()),
        password: Some("pa55word".into()),
        ..plain_config(server.port)
    };
    let courier = SmtpCourier::new(config).unwrap();
    courier.deliver(&email_message("111222")).await.unwrap();
    let tx = &server.transactions()[0];
    assert_eq!(tx.auth_plain.as_deref(), Some("\0mailer\0pa55word"));
    assert!(!format!("{courier:?}").contains("pa55word"));
}

#[tokio::test]
async fn refused_recipient_is_a_delivery_error_without_retry() {
    let server = SmtpServer::start(SmtpBehaviour {
        refuse_recipients: true,
        ..Default::default()
    })
    .await;
    let courier = SmtpCourier::new(plain_config(server.port)).unwrap();
    let err = courier
        .deliver(&email_message("482913"))
        .await
        .expect_err("a 550 on RCPT must fail the delivery");
    assert!(err.0.contains("550"), "{}", err.0);
    assert!(err.0.contains("alice@example.com"), "{}", err.0);
    assert!(!err.0.contains("482913"), "{}", err.0);
    assert!(server.transactions().is_empty());
    assert_eq!(server.connections(), 1, "permanent errors are not retried");
}

#[tokio::test]
async fn transient_failures_are_retried() {
    let server = SmtpServer::start(SmtpBehaviour {
        busy_connections: 2,
        ..Default::default()
    })
    .await;
    let courier = SmtpCourier::new(plain_config(server.port)).unwrap();
    courier.deliver(&email_message("777888")).await.unwrap();
    assert_eq!(server.connections(), 3);
    assert_eq!(server.transactions().len(), 1);
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let server = SmtpServer::start(SmtpBehaviour {
        busy_connections: 100,
        ..Default::default()
    })
    .await;
    let config = SmtpConfig {
        max_attempts: 2,
        ..plain_config(server.port)
    };
    let courier = SmtpCourier::new(config).unwrap();
    let err = courier.deliver(&email_message("777888")).await.unwrap_err();
    assert!(err.0.contains("2 attempt(s)"), "{}", err.0);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn unreachable_relay_errors_after_retries() {
    let port = support::closed_port().await;
    let courier = SmtpCourier::new(plain_config(port)).unwrap();
    let started = Instant::now();
    let err = courier.deliver(&email_message("777888")).await.unwrap_err();
    assert!(err.0.contains("3 attempt(s)"), "{}", err.0);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn sms_is_refused_by_the_smtp_courier() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;
    let courier = SmtpCourier::new(plain_config(server.port)).unwrap();
    let err = courier.deliver(&sms_message("123456")).await.unwrap_err();
    assert!(err.0.contains("webhook courier"), "{}", err.0);
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn invalid_destination_is_an_error() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;
    let courier = SmtpCourier::new(plain_config(server.port)).unwrap();
    let mut message = email_message("123456");
    message.destination = "not-an-address".into();
    assert!(courier.deliver(&message).await.is_err());
    assert_eq!(server.connections(), 0);
}

#[tokio::test]
async fn missing_subject_gets_a_default_by_purpose() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;
    let courier = SmtpCourier::new(plain_config(server.port)).unwrap();
    let mut message = email_message("ABCdef12!");
    message.subject = None;
    message.purpose = gatehouse_core::messages::Purpose::Invitation;
    courier.deliver(&message).await.unwrap();
    let data = unfold(&server.transactions()[0].data);
    assert!(
        data.contains("Subject: Your temporary password\r\n"),
        "{data}"
    );
}

/// Implicit TLS against a plain-text server: the rustls handshake fails (proving the TLS
/// stack is wired and its crypto provider found), and the failure is not retried.
#[tokio::test]
async fn tls_against_a_plain_server_fails_once() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;
    let config = SmtpConfig {
        security: SmtpSecurity::Tls,
        ..plain_config(server.port)
    };
    let courier = SmtpCourier::new(config).unwrap();
    let err = courier.deliver(&email_message("1")).await.unwrap_err();
    assert!(err.0.contains("1 attempt(s)"), "{}", err.0);
    assert_eq!(server.connections(), 1);
    assert!(server.transactions().is_empty());
}

/// `starttls` never falls back to plain text when the server does not offer STARTTLS.
#[tokio::test]
async fn starttls_is_required_when_configured() {
    let server = SmtpServer::start(SmtpBehaviour::default()).await;
    let config = SmtpConfig {
        security: SmtpSecurity::Starttls,
        ..plain_config(server.port)
    };
    let courier = SmtpCourier::new(config).unwrap();
    let err = courier.deliver(&email_message("1")).await.unwrap_err();
    assert!(err.0.to_ascii_lowercase().contains("starttls"), "{}", err.0);
    assert_eq!(server.connections(), 1);
    let commands = server.log.lock().unwrap().commands.clone();
    assert!(
        !commands.iter().any(|c| c.starts_with("MAIL FROM")),
        "{commands:?}"
    );
}
