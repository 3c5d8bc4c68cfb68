//! Couriers that carry Gatehouse's messages to people: confirmation codes, invitations
//! (temporary passwords) and MFA codes; [`LambdaClient`], which invokes the pools' Lambda
//! triggers through the Lambda Invoke API; and [`LambdaUrlClient`], which POSTs them, signed
//! as the webhook is, to a plain HTTPS URL configured per function ARN ([`LambdaRouter`] sends
//! each function to the one or the other).
//!
//! The two couriers implement [`gatehouse_core::messages::Courier`]:
//!
//! - [`SmtpCourier`] sends EMAIL messages as plain-text mail through an SMTP relay
//!   (`security` = `starttls`, `tls` or `none`), configured by [`SmtpConfig`].
//! - [`WebhookCourier`] POSTs every message (EMAIL or SMS) as a signed JSON document to an
//!   HTTP endpoint, configured by [`WebhookConfig`].
//!
//! `deliver` returns once the message is delivered or has finally failed (after the
//! configured retries); the error then says why, and the caller keeps the outbox record.
//! Neither courier ever logs a message's code or body: failures are logged (`warn` for each
//! failed try that will be retried, `error` for the final failure) with the message id and
//! destination only.
//!
//! # Webhook document
//!
//! ```json
//! {"Version":1,"MessageId":"...","PoolId":"us-east-1_abc","Username":"...",
//!  "Destination":"+15550100","Medium":"SMS","Purpose":"SIGN_UP","Subject":null,
//!  "Body":"Your code is 123456","Code":"123456","CreatedAt":1700000000000}
//! ```
//!
//! `Medium` is `EMAIL` or `SMS`; `Purpose` is `SIGN_UP`, `INVITATION`, `FORGOT_PASSWORD`,
//! `MFA` or `VERIFY_ATTRIBUTE`; `CreatedAt` is in epoch milliseconds. Retries of one message
//! carry the same `MessageId` (and `X-Gatehouse-Message-Id`): receivers should deduplicate
//! on it, since a lost response makes a delivered message be sent again.
//!
//! # Verifying a webhook request
//!
//! Headers: `X-Gatehouse-Timestamp: <unix seconds>` and
//! `X-Gatehouse-Signature: sha256=<hex>`. The receiver:
//!
//! 1. takes the raw request body bytes, before any JSON parsing;
//! 2. computes `HMAC-SHA256(key = secret, data = timestamp + "." + body)`, where
//!    `timestamp` is the header's text exactly as received;
//! 3. hex-encodes it (lowercase) and compares it, in constant time, with the signature
//!    header's value after `sha256=`;
//! 4. rejects the request if the timestamp is more than, say, 5 minutes from its own clock
//!    (each retry is signed afresh with a new timestamp).
//!
//! [`verify_signature`] does exactly this, and [`signature`] computes the header value.
//!
//! ```
//! use std::time::Duration;
//! use gatehouse_delivery::{signature, verify_signature};
//!
//! let body = br#"{"Version":1,"MessageId":"m-1"}"#;
//! let header = signature(b"s3cret", 1_700_000_000, body);
//! assert!(header.starts_with("sha256="));
//! assert!(verify_signature(b"s3cret", "1700000000", body, &header,
//!                          1_700_000_060, Duration::from_secs(300)));
//! ```

mod http;
mod lambda;
mod lambda_url;
mod retry;
mod signing;
mod smtp;
mod webhook;

pub use lambda::{
    LambdaClient, LambdaCredentials, LambdaSettings, DEFAULT_TIMEOUT as LAMBDA_TIMEOUT,
};
pub use lambda_url::{
    LambdaFunctionUrl, LambdaRouter, LambdaUrlClient, LambdaUrlSettings, FUNCTION_HEADER,
};
pub use signing::{signature, verify_signature, SIGNATURE_HEADER, TIMESTAMP_HEADER};
pub use smtp::{SmtpConfig, SmtpCourier, SmtpSecurity};
pub use webhook::{
    WebhookConfig, WebhookCourier, ATTEMPT_HEADER, MESSAGE_ID_HEADER, PAYLOAD_VERSION,
};
