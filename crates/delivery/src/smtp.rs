//! The SMTP courier: email messages to a mail relay (a provider's submission port, a local
//! MTA, or a development catcher such as MailHog).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::messages::{Courier, DeliveryError, Medium, OutgoingMessage, Purpose};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::retry::{caused_by_tls, Backoff};

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with `STARTTLS` before anything else is sent; a server that
    /// does not offer it is refused (no silent downgrade). Default port 587.
    #[default]
    Starttls,
    /// TLS from the first byte ("implicit TLS", SMTPS). Default port 465.
    Tls,
    /// No encryption at all: only for local catchers (MailHog, Mailpit) or a relay on the
    /// same host. Default port 25.
    None,
}

impl SmtpSecurity {
    fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::Starttls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// Settings of [`SmtpCourier`]. Keys are snake_case; unknown keys are rejected.
///
/// ```toml
/// host = "smtp.example.com"
/// port = 587                      # optional: 587 / 465 / 25 by `security`
/// security = "starttls"           # "starttls" (default) | "tls" | "none"
/// username = "apikey"             # optional; with `password`
/// password = "..."                # optional; never printed
/// from = "Example <no-reply@example.com>"
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Relay host name (checked against its certificate) or IP address.
    pub host: String,
    /// Relay port; by default 587 (`starttls`), 465 (`tls`) or 25 (`none`).
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Login for `AUTH` (PLAIN or LOGIN, whichever the relay offers); needs `password`.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `AUTH`; needs `username`. Never shown by `Debug` nor logged.
    #[serde(default)]
    pub password: Option<String>,
    /// Sender: `no-reply@example.com` or `Example <no-reply@example.com>`.
    pub from: String,
    /// Name sent with `EHLO`; by default the address literal `[127.0.0.1]`. Some relays
    /// want the sending host's DNS name.
    #[serde(default)]
    pub hello_name: Option<String>,
    /// Time allowed for each SMTP command (connect, each reply); default 30 000.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Tries per message, counting the first (default 3). Only transient failures
    /// (connection errors, timeouts, 4xx replies) are tried again.
    #[serde(default = "default_smtp_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry, doubled for each further one (with jitter); default 200.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest wait between two tries; default 5 000.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

fn default_smtp_attempts() -> u32 {
    3
}

pub(crate) fn default_initial_backoff_ms() -> u64 {
    200
}

pub(crate) fn default_max_backoff_ms() -> u64 {
    5_000
}

const DEFAULT_SMTP_TIMEOUT_MS: u64 = 30_000;

impl SmtpConfig {
    /// A configuration with every optional key at its default (`starttls`, no login).
    pub fn new(host: impl Into<String>, from: impl Into<String>) -> Self {
        SmtpConfig {
            host: host.into(),
            port: None,
            security: SmtpSecurity::default(),
            username: None,
            password: None,
            from: from.into(),
            hello_name: None,
            timeout_ms: None,
            max_attempts: default_smtp_attempts(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }
}

impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("hello_name", &self.hello_name)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .finish()
    }
}

/// Delivers EMAIL messages over SMTP as plain-text mail (subject and body from the
/// message). SMS messages are refused: they need the [`WebhookCourier`](crate::WebhookCourier).
///
/// Each delivery opens a connection, sends one mail and closes it. Transient failures are
/// tried again up to `max_attempts`; permanent ones (5xx replies such as a refused
/// recipient, TLS failures, a relay without `STARTTLS` when it is required) are not. As
/// with any retried SMTP client, a connection lost after the relay took the mail but before
/// it said so can make the mail arrive twice.
pub struct SmtpCourier {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    host: String,
    port: u16,
    security: SmtpSecurity,
    max_attempts: u32,
    backoff: Backoff,
}

impl fmt::Debug for SmtpCourier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpCourier")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpCourier {
    /// Checks the configuration and prepares the transport. Nothing is sent and no
    /// connection is opened until the first delivery.
    pub fn new(config: SmtpConfig) -> Result<Self, String> {
        let host = config.host.trim().to_owned();
        if host.is_empty() {
            return Err("smtp: `host` is empty".into());
        }
        let from: Mailbox = config
            .from
            .parse()
            .map_err(|e| format!("smtp: `from` ({:?}) is not a mailbox: {e}", config.from))?;
        if config.max_attempts == 0 {
            return Err("smtp: `max_attempts` must be at least 1".into());
        }
        let port = config.port.unwrap_or(config.security.default_port());
        let builder = match config.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&host)
                    .map_err(|e| format!("smtp: cannot set up TLS for {host}: {e}"))?
            }
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&host)
                .map_err(|e| format!("smtp: cannot set up TLS for {host}: {e}"))?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host),
        };
        let timeout = Duration::from_millis(config.timeout_ms.unwrap_or(DEFAULT_SMTP_TIMEOUT_MS));
        let mut builder = builder.port(port).timeout(Some(timeout));
        match (config.username, config.password) {
            (Some(username), Some(password)) => {
                if config.security == SmtpSecurity::None {
                    tracing::warn!(
                        host = %host,
                        port,
                        "smtp: security is \"none\": the password will cross the network unencrypted"
                    );
                }
                builder = builder.credentials(Credentials::new(username, password));
            }
            (None, None) => {}
            _ => return Err("smtp: `username` and `password` go together".into()),
        }
        if let Some(name) = config.hello_name {
            builder = builder.hello_name(ClientId::Domain(name));
        }
        Ok(SmtpCourier {
            transport: builder.build(),
            from,
            host,
            port,
            security: config.security,
            max_attempts: config.max_attempts,
            backoff: Backoff {
                initial: Duration::from_millis(config.initial_backoff_ms),
                max: Duration::from_millis(config.max_backoff_ms),
            },
        })
    }

    fn build_mail(&self, message: &OutgoingMessage) -> Result<Message, DeliveryError> {
        let to: Address = message.destination.trim().parse().map_err(|e| {
            DeliveryError(format!(
                "message {}: destination {:?} is not an email address: {e}",
                message.message_id, message.destination
            ))
        })?;
        let subject = message
            .subject
            .clone()
            .unwrap_or_else(|| default_subject(message.purpose).to_owned());
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, to))
            .subject(subject)
            .message_id(Some(format!(
                "<{}@{}>",
                header_safe(&message.message_id),
                self.from.email.domain()
            )))
            .header(ContentType::TEXT_PLAIN)
            .body(message.body.clone())
            .map_err(|e| {
                DeliveryError(format!(
                    "message {}: cannot build the email: {e}",
                    message.message_id
                ))
            })
    }
}

#[async_trait]
impl Courier for SmtpCourier {
    async fn deliver(&self, message: &OutgoingMessage) -> Result<(), DeliveryError> {
        if message.medium != Medium::Email {
            return Err(DeliveryError(format!(
                "message {} is an SMS: SMS needs the webhook courier, the SMTP courier sends email only",
                message.message_id
            )));
        }
        let mail = self.build_mail(message)?;
        let mut attempt = 1;
        loop {
            let err = match self.transport.send(mail.clone()).await {
                Ok(_) => {
                    tracing::info!(
                        message_id = %message.message_id,
                        destination = %message.destination,
                        attempt,
                        "email delivered to the SMTP relay"
                    );
                    return Ok(());
                }
                Err(err) => err,
            };
            let retryable = is_retryable(&err);
            if retryable && attempt < self.max_attempts {
                tracing::warn!(
                    message_id = %message.message_id,
                    destination = %message.destination,
                    attempt,
                    max_attempts = self.max_attempts,
                    error = %err,
                    "SMTP delivery failed; will retry"
                );
                tokio::time::sleep(self.backoff.delay(attempt)).await;
                attempt += 1;
                continue;
            }
            tracing::error!(
                message_id = %message.message_id,
                destination = %message.destination,
                attempt,
                retryable,
                error = %err,
                "SMTP delivery failed for good"
            );
            return Err(DeliveryError(format!(
                "SMTP delivery of message {} to {} via {}:{} failed after {attempt} attempt(s): {err}",
                message.message_id, message.destination, self.host, self.port
            )));
        }
    }
}

/// Transient: 4xx replies, timeouts, connection and network errors, except a failed TLS
/// handshake (a certificate problem does not heal by itself).
fn is_retryable(err: &lettre::transport::smtp::Error) -> bool {
    if err.is_permanent() || err.is_client() || err.is_response() || err.is_tls() {
        return false;
    }
    !caused_by_tls(err)
}

fn default_subject(purpose: Purpose) -> &'static str {
    match purpose {
        Purpose::Invitation => "Your temporary password",
        Purpose::ForgotPassword => "Your password reset code",
        Purpose::Mfa => "Your authentication code",
        Purpose::SignUp | Purpose::VerifyAttribute => "Your verification code",
        Purpose::RiskNotification => "New sign-in attempt",
        Purpose::DeviceForgotten => "A device was signed out",
    }
}

/// Keeps only characters that are safe inside a `Message-ID`.
fn header_safe(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_keys() {
        let config: SmtpConfig = serde_json::from_value(serde_json::json!({
            "host": "smtp.example.com",
            "from": "Example <no-reply@example.com>",
        }))
        .unwrap();
        assert_eq!(config.security, SmtpSecurity::Starttls);
        assert_eq!(config.port, None);
        assert_eq!(config.max_attempts, 3);
        let courier = SmtpCourier::new(config).unwrap();
        assert_eq!(courier.port, 587);

        let config: SmtpConfig = serde_json::from_value(serde_json::json!({
            "host": "localhost", "port": 1025, "security": "none",
            "username": "u", "password": "hunter2", "from": "a@b.test",
            "hello_name": "gatehouse.test", "timeout_ms": 1000,
            "max_attempts": 1, "initial_backoff_ms": 1, "max_backoff_ms": 2,
        }))
        .unwrap();
        assert_eq!(config.security, SmtpSecurity::None);
        let debug = format!("{config:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let tls: SmtpConfig = serde_json::from_value(serde_json::json!({
            "host": "smtp.example.com", "security": "tls", "from": "a@b.test",
        }))
        .unwrap();
        assert_eq!(SmtpCourier::new(tls).unwrap().port, 465);
    }

    #[test]
    fn config_rejects_unknown_keys_and_bad_values() {
        let unknown = serde_json::from_value::<SmtpConfig>(serde_json::json!({
            "host": "h", "from": "a@b.test", "sender": "x",
        }));
        assert!(unknown.is_err());
        let security = serde_json::from_value::<SmtpConfig>(serde_json::json!({
            "host": "h", "from": "a@b.test", "security": "ssl",
        }));
        assert!(security.is_err());
        assert!(SmtpCourier::new(SmtpConfig::new("h", "not a mailbox")).is_err());
        assert!(SmtpCourier::new(SmtpConfig::new(" ", "a@b.test")).is_err());
        let mut lonely = SmtpConfig::new("h", "a@b.test");
        lonely.username = Some("u".into());
        assert!(SmtpCourier::new(lonely).is_err());
    }

    #[test]
    fn message_ids_are_header_safe() {
        assert_eq!(header_safe("ab-12_3.x<>\r\n@"), "ab-12_3.x");
    }
}
