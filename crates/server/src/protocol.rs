//! AWS JSON 1.1: `POST` with `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`,
//! JSON in and out, errors as `{"__type", "message"}` with `x-amzn-ErrorType`, and a request id
//! on every answer.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use gatehouse_wire::{dispatch, ApiError, Operation, RequestContext, TARGET_PREFIX};
use tracing::Instrument;

use crate::{AppState, MAX_BODY_BYTES};

const JSON_11: &str = "application/x-amz-json-1.1";

pub(crate) async fn handle(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request<Body>,
) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Only a known operation name goes into the log as is: the header is the client's text.
    let known = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name);
    let op_name = known.map_or("(unknown)", Operation::name);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        operation = %op_name,
        pool_id = tracing::field::Empty,
        client_id = tracing::field::Empty,
    );
    async move {
        let started = std::time::Instant::now();
        let result = answer(&state, &parts, peer, &request_id, &target, body).await;
        if let Some(op) = known {
            crate::metrics::request(
                op.name(),
                result.as_ref().map(|_| ()).map_err(|e| e.code),
                started.elapsed(),
            );
        }
        let response = match result {
            Ok(bytes) => respond(StatusCode::OK, &request_id, bytes, None),
            Err(e) => {
                let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
                // Error messages never contain secrets (the wire layer redacts sensitive values).
                // Debug-quoted: a message may echo client text (an unknown target, a value).
                tracing::info!(error = e.code, message = ?e.message, "refused");
                respond(status, &request_id, e.body(), Some(e.code))
            }
        };
        tracing::info!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}

async fn answer(
    state: &AppState,
    parts: &Parts,
    peer: SocketAddr,
    request_id: &str,
    target: &str,
    body: Body,
) -> Result<Vec<u8>, ApiError> {
    let headers = &parts.headers;
    let op = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name)
        .ok_or_else(|| {
            let shown = if target.is_empty() {
                "(no X-Amz-Target header)"
            } else {
                target
            };
            ApiError::new(
                "UnknownOperationException",
                format!("Unknown operation: {shown}"),
            )
        })?;
    check_content_type(headers)?;
    let body = read_body(body).await?;
    let client_ip = client_ip(peer.ip(), headers, &state.config.trusted_proxies);
    state.limits.check(op, client_ip, &body)?;
    let admin = if op.requires_sigv4() {
        state
            .admin_auth
            .authenticate(parts, &body, std::time::SystemTime::now())?
    } else {
        None
    };
    let ctx = RequestContext {
        request_id: request_id.to_string(),
        source_ip: Some(client_ip),
        user_agent: headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        admin,
    };
    let deadline = state
        .config
        .operation_deadline
        .unwrap_or(crate::REQUEST_TIMEOUT);
    // Each store call is atomic on its own, so abandoning an operation here leaves what a
    // crash at the same point would: nothing acknowledged is lost, nothing half-written.
    let run = async {
        let run = dispatch(&state.api, &ctx, op, &body);
        if op.requires_sigv4() {
            // Admin operations see every committed change to pools and clients, whichever
            // process made it: they read them from the store, not this process's cache.
            gatehouse_core::reading_through(run).await
        } else {
            run.await
        }
    };
    // Time spent waiting for Lambda triggers (each bounded on its own) does not count.
    let lambda_ms = Arc::new(AtomicU64::new(0));
    let run = gatehouse_core::counting_lambda_time(lambda_ms.clone(), run);
    tokio::pin!(run);
    let started = tokio::time::Instant::now();
    loop {
        let allowed = deadline + Duration::from_millis(lambda_ms.load(Ordering::Acquire));
        match tokio::time::timeout_at(started + allowed, &mut run).await {
            Ok(answer) => return answer,
            // A trigger call began meanwhile: its wait extends the deadline.
            Err(_)
                if started.elapsed()
                    < deadline + Duration::from_millis(lambda_ms.load(Ordering::Acquire)) =>
            {
                continue
            }
            Err(_) => {
                tracing::warn!(
                    operation = op.name(),
                    deadline_ms = deadline.as_millis() as u64,
                    "operation abandoned at its deadline (database not answering?)"
                );
                metrics::counter!("gatehouse_operation_deadline_total").increment(1);
                return Err(ApiError::internal());
            }
        }
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
pub(crate) fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

/// JSON only: a form or text body is refused before it reaches an operation (this also keeps
/// browsers from posting to the API without a CORS preflight).
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(ct) = headers.get("content-type") else {
        return Ok(());
    };
    let ct = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match ct.as_str() {
        JSON_11 | "application/x-amz-json-1.0" | "application/json" => Ok(()),
        other => Err(ApiError::serialization(format!(
            "Unsupported content type '{other}': send {JSON_11} or application/json"
        ))),
    }
}

async fn read_body(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            ApiError::new(
                "RequestEntityTooLargeException",
                format!("Request body exceeds the limit of {MAX_BODY_BYTES} bytes."),
            )
        })
}

fn respond(
    status: StatusCode,
    request_id: &str,
    body: Vec<u8>,
    error: Option<&'static str>,
) -> Response {
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert("content-type", HeaderValue::from_static(JSON_11));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(code) = error {
        h.insert("x-amzn-errortype", HeaderValue::from_static(code));
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "198.51.100.7, 203.0.113.9".parse().unwrap(),
        );
        let peer: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(
            client_ip(peer, &h, &[proxy]),
            peer,
            "an untrusted peer cannot claim an address"
        );
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_ip(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
