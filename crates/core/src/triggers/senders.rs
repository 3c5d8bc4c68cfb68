//! CustomEmailSender and CustomSMSSender (docs/triggers.md, "Custom senders"): a pool that names
//! one hands its messages carrying a code or a temporary password, of that medium, to the
//! function instead of Gatehouse's own delivery. As on Cognito the function is called in the
//! background: the operation does not wait for it, its failure never reaches the caller, and its
//! answer is ignored. CustomMessage is not asked: the function words the message itself.
//!
//! Cognito encrypts the code under the pool's KMS key (an AWS Encryption SDK message). Gatehouse
//! holds no KMS key, so `request.code` carries the code in plain text: the local form the docs
//! describe, which a handler reads instead of decrypting. The message is in the outbox as every
//! message is, its delivery status saying whether the function took it.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};

use super::{messages::current_message_context, user_attributes, Call, Trigger};
use crate::messages::{DeliveryStatus, Medium, OutgoingMessage};
use crate::store::{UserPoolRecord, UserRecord};
use crate::{Caller, Core};

/// Tries per message, and the waits between them (Lambda retries an asynchronous call twice;
/// its waits are minutes, which a local runtime has no use for).
const RETRY_WAITS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];

/// A message's hand-over to a custom sender: which function, the event's trigger source, and
/// what its request says besides the code.
pub(crate) struct SenderJob {
    sender: Trigger,
    source: String,
    client_id: Option<String>,
    client_metadata: Option<BTreeMap<String, String>>,
    caller: Caller,
    /// `request.userAttributes`: the user's, or a takeover notice's own (below).
    user_attributes: Value,
}

/// Threat protection's notice of a risky sign-in, as CustomEmailSender is told of it: in place
/// of the user's attributes, the sign-in's (`EVENT_ID`, `IP_ADDRESS`, the feedback links ...).
pub(crate) struct TakeoverNotice<'a> {
    pub client_id: &'a str,
    pub event_id: &'a str,
    pub username: &'a str,
    pub ip_address: &'a str,
    pub action: &'a str,
    pub link_valid: &'a str,
    pub link_invalid: &'a str,
    pub login_time: &'a str,
    pub feedback_token: &'a str,
    pub city: Option<&'a str>,
    pub country: Option<&'a str>,
    pub device_name: Option<&'a str>,
}

impl Core {
    /// The custom sender that takes `medium`'s message with `code` from the running operation,
    /// if the pool names one: messages without a code (notifications) keep the server's own
    /// delivery, as do messages sent outside an operation that CustomMessage would be told of.
    pub(crate) fn custom_sender_for(
        pool: &UserPoolRecord,
        user: &UserRecord,
        medium: Medium,
        code: Option<&str>,
    ) -> Option<SenderJob> {
        let sender = match medium {
            Medium::Email => Trigger::CustomEmailSender,
            Medium::Sms => Trigger::CustomSmsSender,
        };
        if code.is_none() || !Self::has_trigger(pool, sender) {
            return None;
        }
        let ctx = current_message_context()?;
        // CustomMessage_SignUp is CustomEmailSender_SignUp: the same operations, by name.
        let operation = ctx.source.strip_prefix("CustomMessage_")?;
        Some(SenderJob {
            sender,
            source: format!("{}_{operation}", sender.name()),
            client_id: ctx.client_id,
            client_metadata: ctx.client_metadata,
            caller: super::current_request().caller,
            user_attributes: user_attributes(user),
        })
    }

    /// The pool's CustomEmailSender for a threat-protection notice
    /// (`CustomEmailSender_AccountTakeOverNotification`, with no code), if it names one.
    pub(crate) fn takeover_sender_for(
        pool: &UserPoolRecord,
        notice: &TakeoverNotice<'_>,
    ) -> Option<SenderJob> {
        if !Self::has_trigger(pool, Trigger::CustomEmailSender) {
            return None;
        }
        let mut attributes = json!({
            "EVENT_ID": notice.event_id,
            "USER_NAME": notice.username,
            "IP_ADDRESS": notice.ip_address,
            "ACCOUNT_TAKE_OVER_ACTION": notice.action,
            "ONE_CLICK_LINK_VALID": notice.link_valid,
            "ONE_CLICK_LINK_INVALID": notice.link_invalid,
            "LOGIN_TIME": notice.login_time,
            "FEEDBACK_TOKEN": notice.feedback_token,
        });
        for (name, value) in [
            ("CITY", notice.city),
            ("COUNTRY", notice.country),
            ("DEVICE_NAME", notice.device_name),
        ] {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                attributes[name] = json!(v);
            }
        }
        Some(SenderJob {
            sender: Trigger::CustomEmailSender,
            source: "CustomEmailSender_AccountTakeOverNotification".into(),
            client_id: Some(notice.client_id.to_string()),
            client_metadata: None,
            caller: super::current_request().caller,
            user_attributes: attributes,
        })
    }

    /// Hands `message` (already in the outbox as `record`) to the job's sender in the
    /// background, then records whether it took it. A message the function never took stays
    /// in the outbox with its text, as any failed delivery does.
    pub(crate) fn hand_to_custom_sender(
        &self,
        pool: UserPoolRecord,
        user: &UserRecord,
        job: SenderJob,
        message: OutgoingMessage,
        mut record: OutgoingMessage,
    ) {
        let request_type = match job.sender {
            Trigger::CustomSmsSender => "customSMSSenderRequestV1",
            _ => "customEmailSenderRequestV1",
        };
        let request = json!({
            "type": request_type,
            "code": message.code,
            "clientMetadata": job.client_metadata.as_ref().map_or(Value::Null, |m| json!(m)),
            "userAttributes": job.user_attributes,
        });
        let username = user.username.clone();
        let core = self.clone();
        tokio::spawn(async move {
            let call = Call {
                pool: &pool,
                trigger: job.sender,
                source: &job.source,
                user_name: &username,
                client_id: job.client_id.as_deref(),
                caller: &job.caller,
            };
            let event = core.event(&call, request, None);
            let function = pool
                .pool
                .lambda_config
                .as_ref()
                .and_then(|c| job.sender.function(c))
                .unwrap_or_default();
            let mut tried = 0;
            let taken = loop {
                match core.invoke(&call, function, &event).await {
                    Ok(_) => break true,
                    Err(e) => {
                        tracing::warn!(message_id = %message.message_id, error = %e, attempt = tried + 1, "custom sender failed");
                        let Some(wait) = RETRY_WAITS.get(tried) else {
                            break false;
                        };
                        tried += 1;
                        tokio::time::sleep(*wait).await;
                    }
                }
            };
            if taken {
                record.delivery = DeliveryStatus::Delivered;
                record.delivered_at = Some(core.now_millis());
            } else {
                record = OutgoingMessage {
                    delivery: DeliveryStatus::Failed,
                    ..message
                };
            }
            if let Err(e) = core.codes().update_message(&record).await {
                tracing::error!(message_id = %record.message_id, error = %e, "could not record a custom sender's delivery");
            }
        });
    }
}
