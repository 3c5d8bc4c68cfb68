//! One-time codes (sign-up confirmation, attribute verification, password reset) and the
//! messages that carry them: six digits, stored as a hash, single use, expiring, locked after
//! repeated wrong guesses. Every message goes to the outbox before the courier.

use gatehouse_wire::{CodeDeliveryDetailsType, DeliveryMediumType};
use subtle::ConstantTimeEq;

use crate::messages::{mask, Medium, OutgoingMessage, Purpose};
use crate::store::{CodeGuess, CodeRecord, UserRecord};
use crate::{Core, CoreError, Result};

/// Guesses allowed per user and purpose in a window, across every code issued in it. A new code
/// does not bring guesses back: otherwise requesting codes would buy unlimited guesses.
pub const MAX_FAILED_ATTEMPTS: u32 = 5;
/// Codes that may be sent per user and purpose in a window (ForgotPassword, resends, …).
pub const MAX_CODES_PER_WINDOW: u32 = 5;
/// The window both limits count over, from its first code.
pub const CODE_WINDOW_MS: i64 = 3600 * 1000;

/// Compare-and-swap rounds before giving up: simultaneous requests for one user's code each win
/// a round or stop once the window's codes are all sent, so contention ends within a few rounds.
const MAX_SWAPS: u32 = 32;

/// The code that replaces `old` at `now`: inside the window it counts one more issued and keeps
/// the guesses taken; after the window everything starts again. `None` when the window's codes
/// are all sent.
pub(crate) fn next_code(old: Option<&CodeRecord>, new: CodeRecord, now: i64) -> Option<CodeRecord> {
    match old {
        Some(old) if old.window_started_at > now - CODE_WINDOW_MS => {
            (old.issued < MAX_CODES_PER_WINDOW).then(|| CodeRecord {
                guesses: old.guesses,
                issued: old.issued + 1,
                window_started_at: old.window_started_at,
                ..new
            })
        }
        _ => Some(CodeRecord {
            guesses: 0,
            issued: 1,
            window_started_at: now,
            ..new
        }),
    }
}

fn attempt_limit_exceeded() -> CoreError {
    CoreError::LimitExceeded("Attempt limit exceeded, please try after some time.".into())
}

fn wrong_code() -> CoreError {
    CoreError::CodeMismatch("Invalid verification code provided, please try again.".into())
}

/// What a code of a user and purpose is hashed with.
fn code_key(user: &UserRecord, purpose: Purpose) -> String {
    format!(
        "{}/{}/{}",
        user.pool_id,
        user.username_key,
        purpose.as_str()
    )
}
/// Cognito's lifetimes.
pub const SIGN_UP_CODE_TTL_MS: i64 = 24 * 3600 * 1000;
pub const VERIFY_ATTRIBUTE_CODE_TTL_MS: i64 = 24 * 3600 * 1000;

impl Core {
    /// A code as stored: HMAC (server key) of what it belongs to (`context`) and the code.
    pub(crate) fn code_hash(&self, context: &str, code: &str) -> String {
        crate::ids::hex(&self.server_key.code_tag(context, code))
    }
}

/// A message template with `{####}` (the code) and `{username}` filled in.
pub(crate) fn fill_template(template: &str, code: &str, username: &str) -> String {
    template
        .replace("{####}", code)
        .replace("{username}", username)
}

/// What a message says and where it goes.
pub(crate) struct Letter<'a> {
    pub medium: Medium,
    pub destination: &'a str,
    pub purpose: Purpose,
    pub subject: Option<String>,
    pub body: String,
    pub code: Option<String>,
    /// The attribute the destination came from (for CodeDeliveryDetails).
    pub attribute: &'a str,
}

impl Core {
    pub(crate) fn six_digits(&self) -> String {
        let mut buf = [0u8; 8];
        loop {
            self.entropy.fill(&mut buf[..4]);
            let n = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
            // Rejection sampling keeps every code equally likely.
            if n < 4_294_000_000 {
                return format!("{:06}", n % 1_000_000);
            }
        }
    }

    /// A fresh code for `purpose`, replacing any earlier one; LimitExceededException once the
    /// window's codes are all sent.
    pub(crate) async fn issue_code(
        &self,
        user: &UserRecord,
        purpose: Purpose,
        attribute: Option<&str>,
        ttl_ms: i64,
    ) -> Result<String> {
        let code = self.six_digits();
        let now = self.now_millis();
        let fresh = CodeRecord {
            pool_id: user.pool_id.clone(),
            username_key: user.username_key.clone(),
            purpose: purpose.as_str().to_string(),
            code_hash: self.code_hash(&code_key(user, purpose), &code),
            attribute: attribute.map(str::to_string),
            expires_at: now + ttl_ms,
            guesses: 0,
            issued: 1,
            window_started_at: now,
        };
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), MAX_SWAPS);
        while rounds.next().await {
            let old = self
                .codes()
                .code(&user.pool_id, &user.username_key, purpose.as_str())
                .await?;
            let Some(new) = next_code(old.as_ref(), fresh.clone(), now) else {
                return Err(attempt_limit_exceeded());
            };
            if self.codes().swap_code(&new, old.as_ref()).await? {
                return Ok(code);
            }
        }
        Err(CoreError::Internal("code kept changing".into()))
    }

    /// Checks and consumes a code. Every guess is counted before it is compared, in one step in
    /// the store, so simultaneous guesses cannot exceed the limit; only one of several
    /// simultaneous right answers consumes the code.
    pub(crate) async fn redeem_code(
        &self,
        user: &UserRecord,
        purpose: Purpose,
        code: &str,
    ) -> Result<CodeRecord> {
        let rec = match self
            .codes()
            .guess_code(
                &user.pool_id,
                &user.username_key,
                purpose.as_str(),
                MAX_FAILED_ATTEMPTS,
            )
            .await?
        {
            CodeGuess::NoCode => return Err(wrong_code()),
            CodeGuess::Exhausted => return Err(attempt_limit_exceeded()),
            CodeGuess::Taken(rec) => rec,
        };
        let given = self.code_hash(&code_key(user, purpose), code);
        if !bool::from(given.as_bytes().ct_eq(rec.code_hash.as_bytes())) {
            return Err(wrong_code());
        }
        if rec.expires_at < self.now_millis() {
            return Err(CoreError::ExpiredCode(
                "Invalid code provided, please request a code again.".into(),
            ));
        }
        let consumed = self
            .codes()
            .consume_code(
                &user.pool_id,
                &user.username_key,
                purpose.as_str(),
                &rec.code_hash,
            )
            .await?;
        if !consumed {
            // A simultaneous request redeemed it first.
            return Err(wrong_code());
        }
        Ok(rec)
    }

    /// Records a message in the outbox, then hands it to the courier. Outside development mode
    /// a message whose courier carries its text is recorded without it (redacted), so the code
    /// never reaches the database; a failed delivery is recorded with its text, never hidden.
    pub(crate) async fn send(
        &self,
        user: &UserRecord,
        letter: Letter<'_>,
    ) -> Result<CodeDeliveryDetailsType> {
        let pool = self.pool(&user.pool_id).await?;
        // A custom sender takes a message with a code (triggers/senders.rs).
        let sender = Self::custom_sender_for(&pool, user, letter.medium, letter.code.as_deref());
        // Boxed: every operation that sends carries this future, triggers included.
        Box::pin(self.send_through(pool, user, sender, letter)).await
    }

    /// [`Core::send`], the message going to `sender` when there is one; otherwise the pool's
    /// CustomMessage trigger may word it (triggers/messages.rs) before the courier takes it.
    pub(crate) async fn send_through(
        &self,
        pool: crate::store::UserPoolRecord,
        user: &UserRecord,
        sender: Option<crate::triggers::SenderJob>,
        mut letter: Letter<'_>,
    ) -> Result<CodeDeliveryDetailsType> {
        if sender.is_none() {
            self.custom_message(user, &mut letter).await?;
        }
        let details = CodeDeliveryDetailsType {
            destination: Some(mask(letter.destination)),
            delivery_medium: Some(match letter.medium {
                Medium::Email => DeliveryMediumType::Email,
                Medium::Sms => DeliveryMediumType::Sms,
            }),
            attribute_name: Some(letter.attribute.to_string()),
        };
        let message = OutgoingMessage {
            message_id: crate::ids::uuid(self.entropy.as_ref()),
            pool_id: user.pool_id.clone(),
            username: user.username.clone(),
            destination: letter.destination.to_string(),
            medium: letter.medium,
            purpose: letter.purpose,
            subject: letter.subject,
            body: letter.body,
            code: letter.code,
            created_at: self.now_millis(),
            delivery: crate::messages::DeliveryStatus::Pending,
            delivered_at: None,
            redacted: false,
        };
        // A custom sender carries the text as a courier does.
        let carried = sender.is_some() || self.courier.carries_text(&message);
        let keep_text = self.config.keep_message_secrets || !carried;
        let mut record = if keep_text {
            message.clone()
        } else {
            message.redacted()
        };
        self.codes().push_message(&record).await?;
        if let Some(job) = sender {
            self.hand_to_custom_sender(pool, user, job, message, record);
            return Ok(details);
        }
        match self.courier.deliver(&message).await {
            Ok(()) => {
                record.delivery = crate::messages::DeliveryStatus::Delivered;
                record.delivered_at = Some(self.now_millis());
            }
            Err(e) => {
                tracing::error!(message_id = %message.message_id, error = %e, "message delivery failed; it stays in the outbox");
                record = OutgoingMessage {
                    delivery: crate::messages::DeliveryStatus::Failed,
                    ..message
                };
            }
        }
        self.codes().update_message(&record).await?;
        Ok(details)
    }

    /// Sends a sign-up code to the attribute the pool auto-verifies (the phone number first
    /// when it verifies both, as Cognito does). `None` when the user has neither.
    pub(crate) async fn send_verification_code(
        &self,
        pool: &gatehouse_wire::UserPoolType,
        user: &UserRecord,
        purpose: Purpose,
        ttl_ms: i64,
    ) -> Result<Option<CodeDeliveryDetailsType>> {
        let auto = pool.auto_verified_attributes.as_deref().unwrap_or_default();
        let wants =
            |n: &str| auto.iter().any(|a| a.as_str() == n) && user.attributes.contains_key(n);
        let attribute = if wants("phone_number") {
            "phone_number"
        } else if wants("email") {
            "email"
        } else {
            return Ok(None);
        };
        self.send_code_to(pool, user, attribute, purpose, ttl_ms)
            .await
    }

    /// Issues a code verifying `attribute` (email or phone number) and sends it there with the
    /// pool's verification template. `None` when the user has no such attribute.
    pub(crate) async fn send_code_to(
        &self,
        pool: &gatehouse_wire::UserPoolType,
        user: &UserRecord,
        attribute: &str,
        purpose: Purpose,
        ttl_ms: i64,
    ) -> Result<Option<CodeDeliveryDetailsType>> {
        let Some(destination) = user.attributes.get(attribute).cloned() else {
            return Ok(None);
        };
        let medium = if attribute == "email" {
            Medium::Email
        } else {
            Medium::Sms
        };
        let code = self
            .issue_code(user, purpose, Some(attribute), ttl_ms)
            .await?;
        let t = pool
            .verification_message_template
            .clone()
            .unwrap_or_default();
        let default = || "Your verification code is {####}. ".to_string();
        let (subject, template) = match medium {
            Medium::Email => (
                Some(
                    t.email_subject
                        .unwrap_or_else(|| "Your verification code".into()),
                ),
                t.email_message.unwrap_or_else(default),
            ),
            Medium::Sms => (None, t.sms_message.unwrap_or_else(default)),
        };
        let body = fill_template(&template, &code, &user.username);
        let letter = Letter {
            medium,
            destination: &destination,
            purpose,
            subject,
            body,
            code: Some(code),
            attribute,
        };
        Ok(Some(self.send(user, letter).await?))
    }
}

impl Core {
    /// Outbox messages, oldest first: all, one pool's, or one user's (`username` may be the
    /// canonical username, an alias or the sub).
    pub async fn outbox(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: u32,
    ) -> Result<Vec<OutgoingMessage>> {
        let canonical = match (pool_id, username) {
            (Some(pool_id), Some(name)) => {
                let pool = self.pool(pool_id).await?;
                Some(
                    self.find_user(&pool, name)
                        .await?
                        .map_or_else(|| name.to_string(), |u| u.username),
                )
            }
            (None, Some(name)) => Some(name.to_string()),
            _ => None,
        };
        Ok(self
            .codes()
            .messages(pool_id, canonical.as_deref(), limit)
            .await?)
    }

    /// Deletes outbox messages older than the configured retention; run periodically.
    pub async fn prune_outbox(&self) -> Result<u64> {
        let before = self.now_millis() - self.config.outbox_retention_ms;
        Ok(self.codes().prune_messages(before).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(guesses: u32, issued: u32, window_started_at: i64) -> CodeRecord {
        CodeRecord {
            pool_id: "p".into(),
            username_key: "u".into(),
            purpose: "forgot_password".into(),
            code_hash: "h".into(),
            attribute: None,
            expires_at: 0,
            guesses,
            issued,
            window_started_at,
        }
    }

    #[test]
    fn a_new_code_keeps_the_windows_guesses_until_the_window_ends() {
        let fresh = code(0, 1, 0);
        let first = next_code(None, fresh.clone(), 1000).unwrap();
        assert_eq!(
            (first.guesses, first.issued, first.window_started_at),
            (0, 1, 1000)
        );
        let second = next_code(Some(&code(3, 1, 1000)), fresh.clone(), 2000).unwrap();
        assert_eq!(
            (second.guesses, second.issued, second.window_started_at),
            (3, 2, 1000)
        );
        let later = next_code(Some(&code(5, 5, 1000)), fresh, 1000 + CODE_WINDOW_MS).unwrap();
        assert_eq!(
            (later.guesses, later.issued, later.window_started_at),
            (0, 1, 1000 + CODE_WINDOW_MS)
        );
    }

    #[test]
    fn the_sixth_code_in_a_window_is_refused() {
        let full = code(0, MAX_CODES_PER_WINDOW, 0);
        assert!(next_code(Some(&full), code(0, 1, 0), CODE_WINDOW_MS - 1).is_none());
    }
}
