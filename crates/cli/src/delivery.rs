//! Which courier carries messages, from the configuration: `delivery = "log"` (default),
//! `"smtp"` (email by SMTP; SMS by the webhook when one is configured, else the log) or
//! `"webhook"` (everything to the webhook). The outbox keeps every message whatever the choice.

use std::sync::Arc;

use async_trait::async_trait;
use gatehouse_core::messages::{Courier, DeliveryError, LogCourier, Medium, OutgoingMessage};
use gatehouse_delivery::{SmtpConfig, SmtpCourier, WebhookConfig, WebhookCourier};

/// Email one way, SMS another.
struct ByMedium {
    email: Arc<dyn Courier>,
    sms: Arc<dyn Courier>,
}

#[async_trait]
impl Courier for ByMedium {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        match m.medium {
            Medium::Email => self.email.deliver(m).await,
            Medium::Sms => self.sms.deliver(m).await,
        }
    }

    fn carries_text(&self, m: &OutgoingMessage) -> bool {
        match m.medium {
            Medium::Email => self.email.carries_text(m),
            Medium::Sms => self.sms.carries_text(m),
        }
    }
}

/// Counts deliveries and failures by medium for the metrics listener.
pub struct Counted(pub Arc<dyn Courier>);

#[async_trait]
impl Courier for Counted {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        let medium = match m.medium {
            Medium::Email => "email",
            Medium::Sms => "sms",
        };
        let r = self.0.deliver(m).await;
        match &r {
            Ok(()) => metrics::counter!("gatehouse_messages_delivered_total", "medium" => medium)
                .increment(1),
            Err(_) => {
                metrics::counter!("gatehouse_message_delivery_failures_total", "medium" => medium)
                    .increment(1)
            }
        }
        r
    }
}

pub fn courier(
    kind: &str,
    smtp: Option<SmtpConfig>,
    webhook: Option<WebhookConfig>,
    dev: bool,
) -> Result<Arc<dyn Courier>, String> {
    let log: Arc<dyn Courier> = Arc::new(LogCourier { show_codes: dev });
    let webhook = webhook
        .map(|w| WebhookCourier::new(w).map(|c| Arc::new(c) as Arc<dyn Courier>))
        .transpose()
        .map_err(|e| format!("[webhook]: {e}"))?;
    match kind {
        "log" => Ok(log),
        "smtp" => {
            let smtp =
                smtp.ok_or("delivery = \"smtp\" needs an [smtp] table in the config file")?;
            let email = Arc::new(SmtpCourier::new(smtp).map_err(|e| format!("[smtp]: {e}"))?);
            Ok(Arc::new(ByMedium {
                email,
                sms: webhook.unwrap_or(log),
            }))
        }
        "webhook" => webhook.ok_or_else(|| {
            "delivery = \"webhook\" needs a [webhook] table in the config file".to_string()
        }),
        other => Err(format!("unknown delivery {other:?}: log, smtp or webhook")),
    }
}
