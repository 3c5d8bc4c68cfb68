//! The webhook courier: each message is POSTed, signed, to an HTTP endpoint of the
//! operator's (which then sends the SMS or email through whatever provider it likes).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use gatehouse_core::messages::{Courier, DeliveryError, OutgoingMessage};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use serde::{Deserialize, Serialize};

use crate::http::error_chain;
use crate::retry::{caused_by_tls, Backoff};
use crate::signing::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use crate::smtp::{default_initial_backoff_ms, default_max_backoff_ms};

/// Header carrying the message's `MessageId` (the same on every retry: deduplicate on it).
pub const MESSAGE_ID_HEADER: &str = "X-Gatehouse-Message-Id";
/// Header carrying the attempt number, 1 for the first try.
pub const ATTEMPT_HEADER: &str = "X-Gatehouse-Attempt";
/// Value of the document's `"Version"` field.
pub const PAYLOAD_VERSION: u32 = 1;

const DEFAULT_TIMEOUT_MS: u64 = 10_000;
const RESPONSE_BODY_LIMIT: usize = 64 * 1024;

/// Settings of [`WebhookCourier`]. Keys are snake_case; unknown keys are rejected.
///
/// ```toml
/// url = "https://hooks.example.com/gatehouse"
/// secret = "a long random string"   # HMAC key; never printed
/// timeout_ms = 10000                # optional, per attempt
/// max_attempts = 5                  # optional
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// `http://` or `https://` endpoint; redirects are not followed.
    pub url: String,
    /// Key of the HMAC-SHA256 signature. Never shown by `Debug` nor logged.
    pub secret: String,
    /// Time allowed for each attempt, from connecting to the response headers; default 10 000.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Tries per message, counting the first; default 5.
    #[serde(default = "default_webhook_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry, doubled for each further one (with jitter); default 200.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest wait between two tries (also caps a `Retry-After`); default 5 000.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

fn default_webhook_attempts() -> u32 {
    5
}

impl WebhookConfig {
    /// A configuration with every optional key at its default.
    pub fn new(url: impl Into<String>, secret: impl Into<String>) -> Self {
        WebhookConfig {
            url: url.into(),
            secret: secret.into(),
            timeout_ms: None,
            max_attempts: default_webhook_attempts(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.url)
            .field("secret", &"<redacted>")
            .field("timeout_ms", &self.timeout_ms)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff_ms", &self.initial_backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .finish()
    }
}

/// The JSON document POSTed for a message: `"Version": 1` and every field of
/// [`OutgoingMessage`] under its PascalCase name.
#[derive(Serialize)]
struct Payload<'a> {
    #[serde(rename = "Version")]
    version: u32,
    #[serde(flatten)]
    message: &'a OutgoingMessage,
}

/// Delivers messages (EMAIL and SMS) by POSTing a signed JSON document to a webhook.
///
/// Each request carries `Content-Type: application/json`, [`TIMESTAMP_HEADER`],
/// [`SIGNATURE_HEADER`], [`MESSAGE_ID_HEADER`] and [`ATTEMPT_HEADER`]. A 2xx answer means
/// delivered. Connection errors (except TLS failures), timeouts, 408, 429 and 5xx are retried with exponential
/// backoff and jitter up to `max_attempts` (each retry is signed afresh); other answers
/// fail at once. `deliver` returns when the message is delivered or has finally failed.
///
/// To verify a request, a receiver computes
/// `hex(HMAC-SHA256(secret, timestamp + "." + raw_body))`, compares it in constant time with
/// the part of `X-Gatehouse-Signature` after `sha256=`, and rejects timestamps more than a
/// few minutes from its clock; see [`verify_signature`](crate::verify_signature).
pub struct WebhookCourier {
    client: crate::http::HttpClient,
    uri: Uri,
    key: hmac::Key,
    timeout: Duration,
    max_attempts: u32,
    backoff: Backoff,
}

impl fmt::Debug for WebhookCourier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookCourier")
            .field("uri", &self.uri)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// What one attempt came to.
enum Outcome {
    Delivered(StatusCode),
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Fail(String),
}

impl WebhookCourier {
    /// Checks the configuration and builds the HTTP client (TLS with the system's CA
    /// certificates). No connection is opened until the first delivery.
    pub fn new(config: WebhookConfig) -> Result<Self, String> {
        let uri: Uri = config
            .url
            .trim()
            .parse()
            .map_err(|e| format!("webhook: `url` is not a URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err("webhook: `url` must start with http:// or https://".into()),
        };
        match uri.authority() {
            None => return Err("webhook: `url` has no host".into()),
            Some(authority) if authority.as_str().contains('@') => {
                return Err(
                    "webhook: `url` must not carry credentials; requests are signed with `secret`"
                        .into(),
                )
            }
            Some(_) => {}
        }
        if config.secret.is_empty() {
            return Err("webhook: `secret` is empty".into());
        }
        if config.max_attempts == 0 {
            return Err("webhook: `max_attempts` must be at least 1".into());
        }
        let timeout = Duration::from_millis(config.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS));
        if timeout.is_zero() {
            return Err("webhook: `timeout_ms` must be positive".into());
        }

        let client = crate::http::client("webhook", https, timeout)?;

        Ok(WebhookCourier {
            client,
            uri,
            key: signing::key(&config.secret),
            timeout,
            max_attempts: config.max_attempts,
            backoff: Backoff {
                initial: Duration::from_millis(config.initial_backoff_ms),
                max: Duration::from_millis(config.max_backoff_ms),
            },
        })
    }

    fn request(
        &self,
        message: &OutgoingMessage,
        body: &Bytes,
        attempt: u32,
    ) -> Result<Request<Full<Bytes>>, String> {
        let (timestamp, signature) = signing::signed_headers(&self.key, body);
        let message_id = HeaderValue::from_str(&message.message_id)
            .map_err(|_| "the message id is not a valid header value".to_owned())?;
        Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("gatehouse-delivery/", env!("CARGO_PKG_VERSION")),
            )
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature)
            .header(MESSAGE_ID_HEADER, message_id)
            .header(ATTEMPT_HEADER, attempt)
            .body(Full::new(body.clone()))
            .map_err(|e| format!("cannot build the request: {e}"))
    }

    async fn attempt(&self, request: Request<Full<Bytes>>) -> Outcome {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => {
                return Outcome::Retry {
                    reason: format!("no response within {} ms", self.timeout.as_millis()),
                    retry_after: None,
                }
            }
            Ok(Err(e)) if caused_by_tls(&e) => return Outcome::Fail(error_chain(&e)),
            Ok(Err(e)) => {
                return Outcome::Retry {
                    reason: error_chain(&e),
                    retry_after: None,
                }
            }
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Read (a bounded amount of) the answer so the connection can be reused; its
        // content is not needed, and not logged.
        let drain = Limited::new(response.into_body(), RESPONSE_BODY_LIMIT).collect();
        let _ = tokio::time::timeout_at(deadline, drain).await;

        if status.is_success() {
            Outcome::Delivered(status)
        } else if status == StatusCode::REQUEST_TIMEOUT
            || status == StatusCode::TOO_MANY_REQUESTS
            || status.is_server_error()
        {
            Outcome::Retry {
                reason: format!("HTTP {status}"),
                retry_after,
            }
        } else {
            Outcome::Fail(format!("HTTP {status}"))
        }
    }
}

#[async_trait]
impl Courier for WebhookCourier {
    async fn deliver(&self, message: &OutgoingMessage) -> Result<(), DeliveryError> {
        let payload = Payload {
            version: PAYLOAD_VERSION,
            message,
        };
        let body = Bytes::from(serde_json::to_vec(&payload).map_err(|e| {
            DeliveryError(format!(
                "message {}: cannot encode the webhook document: {e}",
                message.message_id
            ))
        })?);

        let mut attempt = 1;
        loop {
            let outcome = match self.request(message, &body, attempt) {
                Ok(request) => self.attempt(request).await,
                Err(reason) => Outcome::Fail(reason),
            };
            let (reason, retry_after, retryable) = match outcome {
                Outcome::Delivered(status) => {
                    tracing::info!(
                        message_id = %message.message_id,
                        destination = %message.destination,
                        attempt,
                        status = status.as_u16(),
                        "message delivered to the webhook"
                    );
                    return Ok(());
                }
                Outcome::Retry {
                    reason,
                    retry_after,
                } => (reason, retry_after, true),
                Outcome::Fail(reason) => (reason, None, false),
            };
            if retryable && attempt < self.max_attempts {
                let mut wait = self.backoff.delay(attempt);
                if let Some(asked) = retry_after {
                    wait = wait.max(asked.min(self.backoff.max));
                }
                tracing::warn!(
                    message_id = %message.message_id,
                    destination = %message.destination,
                    attempt,
                    max_attempts = self.max_attempts,
                    error = %reason,
                    retry_in_ms = wait.as_millis() as u64,
                    "webhook delivery failed; will retry"
                );
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            tracing::error!(
                message_id = %message.message_id,
                destination = %message.destination,
                attempt,
                retryable,
                error = %reason,
                "webhook delivery failed for good"
            );
            return Err(DeliveryError(format!(
                "webhook delivery of message {} to {} failed after {attempt} attempt(s): {reason}",
                message.message_id, message.destination
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_redaction_and_validation() {
        let config: WebhookConfig = serde_json::from_value(serde_json::json!({
            "url": "https://hooks.example.com/x", "secret": "topsecret",
        }))
        .unwrap();
        assert_eq!(config.max_attempts, 5);
        assert_eq!(config.timeout_ms, None);
        assert_eq!(config.initial_backoff_ms, 200);
        assert!(!format!("{config:?}").contains("topsecret"));
        assert!(serde_json::from_value::<WebhookConfig>(serde_json::json!({
            "url": "https://h/", "secret": "s", "retries": 3,
        }))
        .is_err());
        assert!(serde_json::from_value::<WebhookConfig>(serde_json::json!({
            "url": "https://h/",
        }))
        .is_err());
        for bad in [
            WebhookConfig::new("ftp://h/x", "s"),
            WebhookConfig::new("not a url", "s"),
            WebhookConfig::new("http://user:pw@h/x", "s"),
            WebhookConfig::new("http://h/x", ""),
            WebhookConfig {
                max_attempts: 0,
                ..WebhookConfig::new("http://h/x", "s")
            },
        ] {
            assert!(WebhookCourier::new(bad).is_err());
        }
        assert!(WebhookCourier::new(WebhookConfig::new("http://127.0.0.1:9/x", "s")).is_ok());
    }
}
