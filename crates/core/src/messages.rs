//! Messages to people (confirmation codes, invitations, MFA codes): what is sent, and the
//! `Courier` that carries it. Every message is recorded in the store's outbox, then the
//! configured courier delivers it (the log, SMTP, a webhook).
//!
//! Secrets at rest: outside development mode, a message whose courier carries its text is
//! recorded without it ([`OutgoingMessage::redacted`]: no code, temporary password, body or
//! subject; destination masked), so codes never reach the database files. Only a failed
//! delivery keeps the text (an operator can read it with `gatehouse outbox`), and the log
//! courier without `--dev` (the outbox is then the only copy). In `--dev` every message keeps
//! its text for the outbox API. Outbox rows are pruned after the configured retention.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// How a message reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Medium {
    Email,
    Sms,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Email => "EMAIL",
            Medium::Sms => "SMS",
        }
    }
}

/// Why a message was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Purpose {
    SignUp,
    Invitation,
    ForgotPassword,
    Mfa,
    VerifyAttribute,
    /// Threat protection's notice of a risky sign-in (risk.rs).
    RiskNotification,
    /// The remembered-device cap forgot a device (device_trust.rs).
    DeviceForgotten,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignUp => "SIGN_UP",
            Purpose::Invitation => "INVITATION",
            Purpose::ForgotPassword => "FORGOT_PASSWORD",
            Purpose::Mfa => "MFA",
            Purpose::VerifyAttribute => "VERIFY_ATTRIBUTE",
            Purpose::RiskNotification => "RISK_NOTIFICATION",
            Purpose::DeviceForgotten => "DEVICE_FORGOTTEN",
        }
    }
}

/// One message, as kept in the outbox and handed to the courier. Field names are those of
/// the outbox API (`GET /_gatehouse/outbox`).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutgoingMessage {
    pub message_id: String,
    pub pool_id: String,
    /// The user's canonical username.
    pub username: String,
    /// An email address or a phone number.
    pub destination: String,
    pub medium: Medium,
    pub purpose: Purpose,
    /// Email subject; `None` for SMS.
    pub subject: Option<String>,
    pub body: String,
    /// The code or temporary password the body carries, if any.
    pub code: Option<String>,
    /// Epoch milliseconds.
    pub created_at: i64,
    /// The outbox's record of the hand-over; absent while pending (and so in what couriers get).
    #[serde(default, skip_serializing_if = "DeliveryStatus::is_pending")]
    pub delivery: DeliveryStatus,
    /// When the courier took it (epoch ms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<i64>,
    /// Code, body and subject removed and destination masked (see the module's notes).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
}

/// Where a message stands with its courier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    #[default]
    Pending,
    Delivered,
    Failed,
}

impl DeliveryStatus {
    pub fn is_pending(&self) -> bool {
        *self == DeliveryStatus::Pending
    }
}

impl OutgoingMessage {
    /// The message without what it carries: only non-secret metadata stays (id, pool, user,
    /// medium, purpose, masked destination, dates, delivery status).
    pub fn redacted(&self) -> OutgoingMessage {
        OutgoingMessage {
            destination: mask(&self.destination),
            subject: None,
            body: String::new(),
            code: None,
            redacted: true,
            ..self.clone()
        }
    }
}

impl std::fmt::Debug for OutgoingMessage {
    // Codes and bodies (which contain them) stay out of debug output and logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingMessage")
            .field("message_id", &self.message_id)
            .field("pool_id", &self.pool_id)
            .field("medium", &self.medium)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// Carries messages to people. Implementations must not log codes or bodies unless told to
/// (development mode), and must report failures rather than drop messages.
#[async_trait]
pub trait Courier: Send + Sync + 'static {
    /// Delivers one message. Returning means the message is handed over (or queued for
    /// retries); an error means it will not arrive.
    async fn deliver(&self, message: &OutgoingMessage) -> Result<(), DeliveryError>;

    /// Whether delivering `message` carries its text (code, temporary password) to the
    /// recipient. When it does not (the log without `--dev`), the outbox keeps the text: it is
    /// the only copy.
    fn carries_text(&self, _message: &OutgoingMessage) -> bool {
        true
    }
}

/// The default courier: the server log. Codes appear in it only in development mode; the
/// outbox keeps every message either way.
pub struct LogCourier {
    pub show_codes: bool,
}

#[async_trait]
impl Courier for LogCourier {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        if self.show_codes {
            tracing::info!(message_id = %m.message_id, pool_id = %m.pool_id, medium = m.medium.as_str(), purpose = m.purpose.as_str(), destination = %m.destination, code = m.code.as_deref().unwrap_or(""), "message (development mode shows the code)");
        } else {
            tracing::info!(message_id = %m.message_id, pool_id = %m.pool_id, medium = m.medium.as_str(), purpose = m.purpose.as_str(), destination = %mask(&m.destination), "message written to the outbox");
        }
        Ok(())
    }

    fn carries_text(&self, _message: &OutgoingMessage) -> bool {
        self.show_codes
    }
}

/// How Cognito shows a destination in `CodeDeliveryDetails`: `a***@e***`, `+*******1234`.
pub fn mask(destination: &str) -> String {
    if let Some((local, domain)) = destination.split_once('@') {
        let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
        format!("{}***@{}***", first(local), first(domain))
    } else {
        let n = destination.chars().count();
        let tail: String = destination.chars().skip(n.saturating_sub(4)).collect();
        format!("+{}{tail}", "*".repeat(n.saturating_sub(5)))
    }
}
