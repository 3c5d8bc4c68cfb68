//! Failures are logged with the message id and destination, never with the code or body.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use gatehouse_core::messages::Courier;
use gatehouse_delivery::{SmtpConfig, SmtpCourier, SmtpSecurity, WebhookConfig, WebhookCourier};
use support::{email_message, sms_message, HookServer, Reply, SmtpBehaviour, SmtpServer};
use tracing_subscriber::fmt::MakeWriter;

/// Collects everything the subscriber writes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

// A code and body words that cannot turn up in logs by chance (ports, timestamps, ids).
const CODE: &str = "Qz7-SECRET-CODE-4xW";
const BODY_WORDS: [&str; 2] = ["confirmation code", "authentication code"];

// Current-thread runtime: the subscriber installed for this thread sees every task,
// including the test servers' and the HTTP client's connection tasks.
#[tokio::test(flavor = "current_thread")]
async fn failures_never_log_the_code_or_body() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // Webhook: two 503s and then success, a 400, and an unreachable URL.
    let server = HookServer::start(&[Reply::Status(503), Reply::Status(503)]).await;
    let hook = |url: &str| WebhookConfig {
        max_attempts: 3,
        initial_backoff_ms: 5,
        max_backoff_ms: 20,
        timeout_ms: Some(2_000),
        ..WebhookConfig::new(url, "log-test-secret")
    };
    let courier = WebhookCourier::new(hook(&server.url)).unwrap();
    courier.deliver(&sms_message(CODE)).await.unwrap();
    let bad = HookServer::start(&[Reply::Status(400)]).await;
    let courier = WebhookCourier::new(hook(&bad.url)).unwrap();
    courier.deliver(&sms_message(CODE)).await.unwrap_err();
    let port = support::closed_port().await;
    let courier = WebhookCourier::new(hook(&format!("http://127.0.0.1:{port}/"))).unwrap();
    let err = courier.deliver(&email_message(CODE)).await.unwrap_err();
    assert!(!err.0.contains(CODE));

    // SMTP: a refused recipient and a busy relay.
    let smtp = |port: u16| SmtpConfig {
        port: Some(port),
        security: SmtpSecurity::None,
        max_attempts: 2,
        initial_backoff_ms: 5,
        max_backoff_ms: 20,
        ..SmtpConfig::new("127.0.0.1", "no-reply@gatehouse.test")
    };
    let refusing = SmtpServer::start(SmtpBehaviour {
        refuse_recipients: true,
        ..Default::default()
    })
    .await;
    let err = SmtpCourier::new(smtp(refusing.port))
        .unwrap()
        .deliver(&email_message(CODE))
        .await
        .unwrap_err();
    assert!(!err.0.contains(CODE));
    let busy = SmtpServer::start(SmtpBehaviour {
        busy_connections: 10,
        ..Default::default()
    })
    .await;
    SmtpCourier::new(smtp(busy.port))
        .unwrap()
        .deliver(&email_message(CODE))
        .await
        .unwrap_err();

    let logs = capture.text();
    assert!(
        !logs.contains(CODE),
        "the code leaked into the logs:\n{logs}"
    );
    for word in BODY_WORDS {
        assert!(
            !logs.contains(word),
            "the body leaked into the logs:\n{logs}"
        );
    }
    assert!(!logs.contains("log-test-secret"), "{logs}");

    // What is logged: a warning per retried failure, an error per final failure, each
    // with the message id and destination.
    let warns: Vec<&str> = logs.lines().filter(|l| l.contains(" WARN ")).collect();
    let errors: Vec<&str> = logs.lines().filter(|l| l.contains(" ERROR ")).collect();
    assert_eq!(warns.len(), 2 + 2 + 1, "{logs}");
    assert_eq!(errors.len(), 4, "{logs}");
    for line in warns.iter().chain(&errors) {
        assert!(line.contains("message_id="), "{line}");
        assert!(line.contains("destination="), "{line}");
    }
    assert!(errors
        .iter()
        .any(|l| l.contains("7d9e2c4b-1f3a-4e6d-8b2c-0a1b2c3d4e5f") && l.contains("+15550100")));
    assert!(errors
        .iter()
        .any(|l| l.contains("0b6c1f5e-3a0d-4c55-9a59-5f2f5e0c9d11")
            && l.contains("alice@example.com")));
}
