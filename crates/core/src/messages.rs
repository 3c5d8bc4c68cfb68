//! Messages to people (confirmation codes, invitations, MFA codes): what is sent, and the
//! `Courier` that carries it. Every message is first kept in the store's outbox (so tests and
//! local apps can read codes, and nothing is silently lost); the configured courier then
//! delivers it (the log, SMTP, a webhook).

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
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::SignUp => "SIGN_UP",
            Purpose::Invitation => "INVITATION",
            Purpose::ForgotPassword => "FORGOT_PASSWORD",
            Purpose::Mfa => "MFA",
            Purpose::VerifyAttribute => "VERIFY_ATTRIBUTE",
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
}
