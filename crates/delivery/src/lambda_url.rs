//! Lambda triggers served at a plain HTTP(S) URL, for teams without a Lambda runtime: per
//! function ARN (a `[[lambda_function]]` table of the config file), the event JSON is POSTed
//! to the URL signed exactly as the webhook courier signs its messages
//! (`X-Gatehouse-Timestamp`, `X-Gatehouse-Signature`, see [`crate::signing`]), with the ARN in
//! [`FUNCTION_HEADER`].
//!
//! What comes back: a 2xx body is the function's output (unless it is an object of nothing but
//! `errorMessage`, `errorType`, `stackTrace`, `trace`, which is how runtimes report errors, as
//! [`crate::LambdaClient`] reads the Runtime Interface Emulator); any other status whose body
//! is a JSON object with a string `errorMessage` is the function's error; any other status is
//! a failed invocation ("HTTP 503"). Redirects are not followed. Cognito waits 5 seconds.
//!
//! [`LambdaRouter`] sends the functions that have a URL to it and all others on (to the Lambda
//! Invoke API client, or core's `NoLambdaEndpoint`).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use gatehouse_core::triggers::{InvokeError, LambdaInvoker};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE, USER_AGENT};
use hyper::{Method, Request, StatusCode, Uri};
use serde::Deserialize;

use crate::http::{error_chain, HttpClient};
use crate::lambda::{emulator_error, read_answer, TIMED_OUT};
use crate::signing::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// Header naming the function (the ARN the pool's `LambdaConfig` holds) a request invokes.
pub const FUNCTION_HEADER: &str = "X-Gatehouse-Function";

/// One `[[lambda_function]]` table: the function `arn` is served at `url`, requests signed
/// with `secret`. Unknown keys are rejected; a missing key is reported by
/// [`LambdaUrlClient::new`], naming the entry, like any other bad value.
///
/// ```toml
/// [[lambda_function]]
/// arn = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up"
/// url = "https://hooks.example.com/pre-sign-up"
/// secret = "a long random string"   # HMAC key; never printed or logged
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LambdaFunctionUrl {
    /// The function as pools name it in `LambdaConfig`, matched exactly.
    #[serde(default)]
    pub arn: String,
    /// `http://` or `https://`, without credentials; redirects are not followed.
    #[serde(default)]
    pub url: String,
    /// Key of the HMAC-SHA256 signature. Never shown by `Debug` nor logged.
    #[serde(default)]
    pub secret: String,
}

impl fmt::Debug for LambdaFunctionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaFunctionUrl")
            .field("arn", &self.arn)
            .field("url", &without_query(&self.url))
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The functions served at URLs, and how long a call may take.
#[derive(Debug, Clone)]
pub struct LambdaUrlSettings {
    pub functions: Vec<LambdaFunctionUrl>,
    /// From connecting to the end of the response body; Cognito's is 5 s.
    pub timeout: Duration,
}

impl LambdaUrlSettings {
    /// `functions` with Cognito's 5-second wait.
    pub fn new(functions: Vec<LambdaFunctionUrl>) -> Self {
        LambdaUrlSettings {
            functions,
            timeout: crate::lambda::DEFAULT_TIMEOUT,
        }
    }
}

/// Where one function is served.
struct Target {
    uri: Uri,
    key: hmac::Key,
    /// The ARN, as the [`FUNCTION_HEADER`] value.
    function: HeaderValue,
}

/// Invokes the functions that are served at a URL.
pub struct LambdaUrlClient {
    client: HttpClient,
    targets: HashMap<String, Target>,
    timeout: Duration,
}

impl fmt::Debug for LambdaUrlClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let urls: HashMap<&str, String> = self
            .targets
            .iter()
            .map(|(arn, t)| (arn.as_str(), without_query(&t.uri.to_string())))
            .collect();
        f.debug_struct("LambdaUrlClient")
            .field("functions", &urls)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LambdaUrlClient {
    /// Checks every entry (the first bad one is named in the error, never with its secret) and
    /// builds the HTTP client; nothing is contacted until a trigger runs.
    pub fn new(settings: LambdaUrlSettings) -> Result<Self, String> {
        if settings.timeout.is_zero() {
            return Err("[[lambda_function]]: the timeout must be positive".into());
        }
        let mut targets = HashMap::new();
        let mut https = false;
        for (i, function) in settings.functions.iter().enumerate() {
            let name = if function.arn.is_empty() {
                format!("[[lambda_function]] entry {}", i + 1)
            } else {
                // Escaped: a stray line break must not split the one line of the error.
                format!(
                    "[[lambda_function]] entry {} ({})",
                    i + 1,
                    function.arn.escape_debug()
                )
            };
            let target = target(function).map_err(|e| format!("{name}: {e}"))?;
            https |= target.uri.scheme_str() == Some("https");
            if targets.insert(function.arn.clone(), target).is_some() {
                return Err(format!("{name}: the same `arn` is configured twice"));
            }
        }
        let client = crate::http::client("[[lambda_function]]", https, settings.timeout)?;
        Ok(LambdaUrlClient {
            client,
            targets,
            timeout: settings.timeout,
        })
    }

    /// Whether `function` is served at a URL.
    pub fn serves(&self, function: &str) -> bool {
        self.targets.contains_key(function)
    }

    /// The ARNs served, sorted (for the start-up log).
    pub fn functions(&self) -> Vec<&str> {
        let mut arns: Vec<&str> = self.targets.keys().map(String::as_str).collect();
        arns.sort_unstable();
        arns
    }
}

/// One entry, checked.
fn target(function: &LambdaFunctionUrl) -> Result<Target, String> {
    if function.arn.trim().is_empty() {
        return Err("`arn` is missing or empty".into());
    }
    // It travels in a header: no control characters, no line breaks.
    let header = HeaderValue::from_str(&function.arn)
        .map_err(|_| "`arn` holds characters a header cannot carry".to_string())?;
    if function.url.trim().is_empty() {
        return Err("`url` is missing or empty".into());
    }
    let uri: Uri = function
        .url
        .trim()
        .parse()
        .map_err(|e| format!("`url` is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("`url` must start with http:// or https://".into());
    }
    match uri.authority() {
        None => return Err("`url` has no host".into()),
        Some(a) if a.as_str().contains('@') => {
            return Err(
                "`url` must not carry credentials; requests are signed with `secret`".into(),
            )
        }
        Some(_) => {}
    }
    if function.secret.is_empty() {
        return Err("`secret` is missing or empty".into());
    }
    Ok(Target {
        uri,
        key: signing::key(&function.secret),
        function: header,
    })
}

#[async_trait]
impl LambdaInvoker for LambdaUrlClient {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let Some(target) = self.targets.get(function) else {
            // Only when used alone: LambdaRouter sends nothing else here.
            return Err(InvokeError::Invocation("ResourceNotFoundException".into()));
        };
        let body = Bytes::from(payload);
        let (timestamp, signature) = signing::signed_headers(&target.key, &body);
        let request = Request::builder()
            .method(Method::POST)
            .uri(target.uri.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(
                USER_AGENT,
                concat!("gatehouse-delivery/", env!("CARGO_PKG_VERSION")),
            )
            .header(TIMESTAMP_HEADER, timestamp)
            .header(SIGNATURE_HEADER, signature)
            .header(FUNCTION_HEADER, target.function.clone())
            .body(Full::new(body))
            .map_err(|e| {
                tracing::error!(function, error = %e, "cannot invoke a Lambda trigger");
                InvokeError::Invocation("ServiceException".into())
            })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(InvokeError::Invocation(TIMED_OUT.into())),
            Ok(Err(e)) => {
                tracing::warn!(
                    function,
                    url = %without_query(&target.uri.to_string()),
                    error = %error_chain(&e),
                    "the function's URL could not be reached"
                );
                return Err(InvokeError::Invocation(
                    "Unable to reach the function's URL".into(),
                ));
            }
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let body = read_answer(response.into_body(), deadline).await?;
        let answer = answer(status, body);
        if let Err(InvokeError::Invocation(reason)) = &answer {
            // The body is not logged: it may carry what the event carried.
            tracing::warn!(
                function,
                url = %without_query(&target.uri.to_string()),
                error = %reason,
                "the function's URL refused the invocation"
            );
        }
        answer
    }

    fn max_wait(&self) -> Duration {
        self.timeout
    }
}

/// What an answer means: the function's output, its error, or a failed invocation.
fn answer(status: StatusCode, body: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
    if status.is_success() {
        return match emulator_error(&body) {
            Some(message) => Err(InvokeError::Function(message)),
            None => Ok(body),
        };
    }
    match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(m)) => match m.get("errorMessage") {
            Some(serde_json::Value::String(message)) => Err(InvokeError::Function(message.clone())),
            _ => Err(InvokeError::Invocation(format!("HTTP {}", status.as_u16()))),
        },
        _ => Err(InvokeError::Invocation(format!("HTTP {}", status.as_u16()))),
    }
}

/// A URL without its query string (which may hold a token), for logs.
fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or("").to_string()
}

/// Sends the functions served at a URL there, and every other one to `other` (the Lambda
/// Invoke API client, or core's `NoLambdaEndpoint` when none is configured).
pub struct LambdaRouter {
    urls: LambdaUrlClient,
    other: Arc<dyn LambdaInvoker>,
}

impl LambdaRouter {
    pub fn new(urls: LambdaUrlClient, other: Arc<dyn LambdaInvoker>) -> Self {
        LambdaRouter { urls, other }
    }
}

#[async_trait]
impl LambdaInvoker for LambdaRouter {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        if self.urls.serves(function) {
            self.urls.invoke(function, payload).await
        } else {
            self.other.invoke(function, payload).await
        }
    }

    /// Both are Cognito's 5 seconds unless a test says otherwise.
    fn max_wait(&self) -> Duration {
        self.urls.max_wait().max(self.other.max_wait())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(arn: &str, url: &str, secret: &str) -> LambdaFunctionUrl {
        LambdaFunctionUrl {
            arn: arn.into(),
            url: url.into(),
            secret: secret.into(),
        }
    }

    const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up";

    fn error_of(functions: Vec<LambdaFunctionUrl>) -> String {
        LambdaUrlClient::new(LambdaUrlSettings::new(functions)).unwrap_err()
    }

    #[test]
    fn entries_are_checked_and_named_without_their_secret() {
        let good = entry(ARN, "https://hooks.example.com/pre?token=x", "topsecret");
        assert!(!format!("{good:?}").contains("topsecret"));
        assert!(!format!("{good:?}").contains("token=x"));
        let client = LambdaUrlClient::new(LambdaUrlSettings::new(vec![good.clone()])).unwrap();
        assert!(client.serves(ARN));
        assert!(!client.serves("arn:aws:lambda:us-east-1:123456789012:function:other"));
        assert!(!format!("{client:?}").contains("token=x"));

        assert_eq!(
            error_of(vec![good.clone(), entry(ARN, "http://h/x", "topsecret2")]),
            format!("[[lambda_function]] entry 2 ({ARN}): the same `arn` is configured twice")
        );
        assert_eq!(
            error_of(vec![entry(ARN, "ftp://h/x", "topsecret")]),
            format!(
                "[[lambda_function]] entry 1 ({ARN}): `url` must start with http:// or https://"
            )
        );
        assert_eq!(
            error_of(vec![entry("", "http://h/x", "topsecret")]),
            "[[lambda_function]] entry 1: `arn` is missing or empty"
        );
        for bad in [
            entry(ARN, "not a url", "topsecret"),
            entry(ARN, "http://user:topsecret@h/x", "s"),
            entry(ARN, "/relative", "topsecret"),
            entry(ARN, "http://h/x", ""),
            entry("arn\nx", "http://h/x", "topsecret"),
        ] {
            let e = error_of(vec![bad]);
            assert!(e.starts_with("[[lambda_function]] entry 1"), "{e}");
            assert!(!e.contains("topsecret"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn answers_map_to_output_function_errors_and_failed_invocations() {
        let ok =
            |status: u16, body: &str| answer(StatusCode::from_u16(status).unwrap(), body.into());
        assert_eq!(
            ok(200, r#"{"response":{}}"#).unwrap(),
            br#"{"response":{}}"#
        );
        assert_eq!(ok(204, "").unwrap(), b"");
        assert_eq!(
            ok(200, r#"{"errorMessage":"boom","errorType":"Error"}"#),
            Err(InvokeError::Function("boom".into()))
        );
        assert_eq!(
            ok(400, r#"{"errorMessage":"no thanks"}"#),
            Err(InvokeError::Function("no thanks".into()))
        );
        assert_eq!(
            ok(500, r#"{"errorMessage":"crashed","stackTrace":[]}"#),
            Err(InvokeError::Function("crashed".into()))
        );
        assert_eq!(ok(503, ""), Err(InvokeError::Invocation("HTTP 503".into())));
        assert_eq!(
            ok(400, r#"{"errorMessage":42}"#),
            Err(InvokeError::Invocation("HTTP 400".into()))
        );
        assert_eq!(ok(302, ""), Err(InvokeError::Invocation("HTTP 302".into())));
    }
}
