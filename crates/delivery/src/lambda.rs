//! Lambda triggers through the AWS Lambda Invoke API, at a configured endpoint (any local
//! runtime that speaks it: `sam local start-lambda`, LocalStack, serverless-offline, moto):
//! `POST {endpoint}/2015-03-31/functions/{function}/invocations`, RequestResponse, SigV4-signed
//! for the service `lambda` when credentials are configured (local runtimes ignore signatures).
//!
//! The function is named by the ARN the pool's `LambdaConfig` holds, percent-encoded in the path
//! (Lambda takes a full ARN there). What comes back (docs/design/lambda-triggers-cognito-events.md
//! section 6): a 200 with `X-Amz-Function-Error` is the function's error, its `errorMessage`
//! handed on; a 200 without it is the function's output (unless it is an `errorMessage`
//! object, which is how the Runtime Interface Emulator reports errors); any other status is the
//! Invoke API refusing, named by `X-Amzn-ErrorType`. Cognito waits 5 seconds.

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use gatehouse_core::triggers::{InvokeError, LambdaInvoker};
use gatehouse_sigv4::{Credential, Request as SigV4Request};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Uri};

use crate::http::{error_chain, HttpClient};

/// How long Cognito waits for a trigger.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Lambda's own limit on a synchronous response.
const RESPONSE_LIMIT: usize = 6 * 1024 * 1024;
/// Cognito's words when the wait runs out.
pub(crate) const TIMED_OUT: &str = "Socket timeout while invoking Lambda function";

/// AWS credentials that sign the invocations.
#[derive(Clone)]
pub struct LambdaCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for LambdaCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Where and how trigger functions are invoked.
#[derive(Debug, Clone)]
pub struct LambdaSettings {
    /// `http://host:port` (optionally with a path prefix) of the Invoke API.
    pub endpoint: String,
    /// None: requests go unsigned.
    pub credentials: Option<LambdaCredentials>,
    /// The region signed for when a function is not named by an ARN that says its own.
    pub region: String,
    pub timeout: Duration,
}

/// Invokes trigger functions through the Lambda Invoke API.
pub struct LambdaClient {
    client: HttpClient,
    /// Scheme and authority of the endpoint, and its path prefix without a trailing `/`.
    scheme: String,
    authority: String,
    prefix: String,
    credentials: Option<(String, Credential)>,
    region: String,
    timeout: Duration,
}

impl fmt::Debug for LambdaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LambdaClient")
            .field(
                "endpoint",
                &format!("{}://{}{}", self.scheme, self.authority, self.prefix),
            )
            .field("signed", &self.credentials.is_some())
            .finish_non_exhaustive()
    }
}

impl LambdaClient {
    /// Checks the endpoint and builds the HTTP client; nothing is contacted until a trigger runs.
    pub fn new(settings: LambdaSettings) -> Result<Self, String> {
        let uri: Uri = settings
            .endpoint
            .trim()
            .parse()
            .map_err(|e| format!("lambda endpoint: not a URL: {e}"))?;
        let scheme = match uri.scheme_str() {
            Some(s @ ("http" | "https")) => s.to_string(),
            _ => return Err("lambda endpoint: must start with http:// or https://".into()),
        };
        let authority = match uri.authority() {
            Some(a) if !a.as_str().contains('@') => a.as_str().to_string(),
            Some(_) => return Err("lambda endpoint: must not carry credentials".into()),
            None => return Err("lambda endpoint: has no host".into()),
        };
        if settings.timeout.is_zero() {
            return Err("lambda endpoint: the timeout must be positive".into());
        }
        let client = crate::http::client("lambda endpoint", scheme == "https", settings.timeout)?;
        let credentials = settings.credentials.map(|c| {
            let mut credential = Credential::new(c.secret_access_key);
            if let Some(token) = c.session_token {
                credential = credential.with_session_token(token);
            }
            (c.access_key_id, credential)
        });
        Ok(LambdaClient {
            client,
            scheme,
            authority,
            prefix: uri.path().trim_end_matches('/').to_string(),
            credentials,
            region: settings.region,
            timeout: settings.timeout,
        })
    }

    fn request(&self, function: &str, payload: Vec<u8>) -> Result<Request<Full<Bytes>>, String> {
        let path = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.prefix,
            percent_encode(function)
        );
        let mut headers: Vec<(&str, String)> = vec![
            ("host", self.authority.clone()),
            ("content-type", "application/json".into()),
            ("x-amz-invocation-type", "RequestResponse".into()),
        ];
        if let Some((access_key_id, credential)) = &self.credentials {
            let raw: Vec<(&str, &[u8])> = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
            let unsigned = SigV4Request {
                method: "POST",
                path: &path,
                query: "",
                headers: &raw,
                body: &payload,
            };
            let region = region_of(function).unwrap_or(&self.region);
            let signed = gatehouse_sigv4::sign(
                &unsigned,
                access_key_id,
                credential,
                region,
                "lambda",
                SystemTime::now(),
            );
            headers.extend(signed.amz_date.map(|d| ("x-amz-date", d)));
            headers.extend(signed.security_token.map(|t| ("x-amz-security-token", t)));
            headers.push(("authorization", signed.authorization));
        }
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(format!("{}://{}{path}", self.scheme, self.authority));
        for (name, value) in headers {
            builder = builder.header(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).map_err(|_| format!("invalid {name} header"))?,
            );
        }
        builder
            .body(Full::new(Bytes::from(payload)))
            .map_err(|e| format!("cannot build the request: {e}"))
    }
}

#[async_trait]
impl LambdaInvoker for LambdaClient {
    async fn invoke(&self, function: &str, payload: Vec<u8>) -> Result<Vec<u8>, InvokeError> {
        let request = self.request(function, payload).map_err(|e| {
            tracing::error!(function, error = %e, "cannot invoke a Lambda trigger");
            InvokeError::Invocation("ServiceException".into())
        })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let response = match tokio::time::timeout_at(deadline, self.client.request(request)).await {
            Err(_) => return Err(InvokeError::Invocation(TIMED_OUT.into())),
            Ok(Err(e)) => {
                tracing::warn!(function, error = %error_chain(&e), "the Lambda endpoint could not be reached");
                return Err(InvokeError::Invocation(
                    "Unable to reach the Lambda endpoint".into(),
                ));
            }
            Ok(Ok(r)) => r,
        };
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let function_error = header("x-amz-function-error");
        let error_type = header("x-amzn-errortype");
        let body = read_answer(response.into_body(), deadline).await?;
        if !status.is_success() {
            let code = error_type
                .as_deref()
                .and_then(|t| t.split(':').next())
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| status_code_name(status.as_u16()).into());
            return Err(InvokeError::Invocation(code));
        }
        if function_error.is_some() {
            return Err(InvokeError::Function(error_message(&body)));
        }
        if let Some(message) = emulator_error(&body) {
            return Err(InvokeError::Function(message));
        }
        Ok(body)
    }

    fn max_wait(&self) -> Duration {
        self.timeout
    }
}

/// A function error's `errorMessage` (the body itself when it is not that JSON).
fn error_message(body: &[u8]) -> String {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(m)) => match m.get("errorMessage") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::from_utf8_lossy(body).into_owned(),
        },
        Ok(serde_json::Value::String(s)) => s,
        _ => String::from_utf8_lossy(body).into_owned(),
    }
}

/// A function's answer, read whole within `deadline` and Lambda's size limit (shared with the
/// plain-URL client, lambda_url.rs).
pub(crate) async fn read_answer(
    body: hyper::body::Incoming,
    deadline: tokio::time::Instant,
) -> Result<Vec<u8>, InvokeError> {
    let body = Limited::new(body, RESPONSE_LIMIT).collect();
    match tokio::time::timeout_at(deadline, body).await {
        Err(_) => Err(InvokeError::Invocation(TIMED_OUT.into())),
        Ok(Err(_)) => Err(InvokeError::Invocation(
            "the function's response was too large".into(),
        )),
        Ok(Ok(b)) => Ok(b.to_bytes().to_vec()),
    }
}

/// The Runtime Interface Emulator sends a function's error as a plain 200: an object with an
/// `errorMessage` and nothing but error members.
pub(crate) fn emulator_error(body: &[u8]) -> Option<String> {
    let serde_json::Value::Object(m) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let only_error = m.keys().all(|k| {
        ["errorMessage", "errorType", "stackTrace", "trace", "cause"].contains(&k.as_str())
    });
    match m.get("errorMessage") {
        Some(serde_json::Value::String(s)) if only_error => Some(s.clone()),
        _ => None,
    }
}

fn status_code_name(status: u16) -> &'static str {
    match status {
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        429 => "TooManyRequestsException",
        _ => "ServiceException",
    }
}

/// The region of `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
fn region_of(function: &str) -> Option<&str> {
    let mut parts = function.split(':');
    (parts.next()? == "arn").then_some(())?;
    parts.next()?;
    (parts.next()? == "lambda").then_some(())?;
    parts.next().filter(|r| !r.is_empty())
}

/// A path segment: everything but RFC 3986's unreserved characters percent-encoded.
fn percent_encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len() * 3);
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_travel_encoded_and_name_their_region() {
        let arn = "arn:aws:lambda:eu-west-2:123456789012:function:pre-sign-up";
        assert_eq!(
            percent_encode(arn),
            "arn%3Aaws%3Alambda%3Aeu-west-2%3A123456789012%3Afunction%3Apre-sign-up"
        );
        assert_eq!(region_of(arn), Some("eu-west-2"));
        assert_eq!(region_of("pre-sign-up"), None);
    }

    #[test]
    fn errors_are_read_as_runtimes_send_them() {
        assert_eq!(
            error_message(br#"{"errorMessage":"No such tenant.","errorType":"Error","trace":[]}"#),
            "No such tenant."
        );
        assert_eq!(error_message(b"plain words"), "plain words");
        assert_eq!(
            emulator_error(br#"{"errorMessage":"boom","errorType":"Error"}"#).as_deref(),
            Some("boom")
        );
        // An event that happens to carry an errorMessage member is an answer, not an error.
        assert_eq!(
            emulator_error(br#"{"errorMessage":"x","response":{}}"#),
            None
        );
    }
}
