//! The HTTP front end: routes, the AWS JSON 1.1 protocol, CORS, health. No business rules: each
//! operation is decoded by the wire layer and handed to one core function, named in the table
//! `crates/server/operations.txt` (from which `operations.rs` is generated).

mod admin_auth;
mod api;
mod console;
mod hosted;
mod limits;
mod metrics;
mod operations;
mod protocol;
mod serve;
mod user_import;

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use gatehouse_core::Core;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

pub use admin_auth::AdminCredential;
pub use api::{implemented_operations, Api};
pub use metrics::Metrics;
pub use serve::{serve_with, ConnectionLimits};

/// Largest request body accepted (AWS's own limits for this API are far below it).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Longest time a request may take before it is answered with an error.
pub const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Debug, Clone, Default)]
pub struct ServerConfig {
    /// Development mode: admin calls accepted unsigned or signed with any key, the reset
    /// endpoint, loud warnings.
    pub dev: bool,
    pub public_url: String,
    /// Access keys for admin operations (SigV4).
    pub admin_credentials: Vec<AdminCredential>,
    /// Requests per second per client address on sign-in, sign-up and recovery (0 = off).
    pub rate_limit_per_ip: u32,
    /// The same per app client.
    pub rate_limit_per_client: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Longest an operation may work once its request is read (None: [`REQUEST_TIMEOUT`]).
    /// Set to the database statement timeout: the database bounds each statement itself, but
    /// one that stops answering altogether (a frozen network path) is bounded only here.
    pub operation_deadline: Option<std::time::Duration>,
    /// Development mode: the core's clock, which `POST /_gatehouse/clock` moves.
    pub dev_clock: Option<Arc<gatehouse_core::ShiftedClock>>,
}

pub(crate) struct AppState {
    pub api: Api,
    pub config: ServerConfig,
    pub admin_auth: admin_auth::AdminAuth,
    pub limits: Arc<limits::RateLimits>,
}

/// Builds the router for a core and configuration.
pub fn router(core: Core, config: ServerConfig) -> Router {
    let dev = config.dev;
    let admin_auth = admin_auth::AdminAuth::new(config.dev, config.admin_credentials.clone());
    let limits = Arc::new(limits::RateLimits::new(
        config.rate_limit_per_ip,
        config.rate_limit_per_client,
    ));
    let state = Arc::new(AppState {
        api: Api::new(core),
        config,
        admin_auth,
        limits,
    });
    let mut app = Router::new()
        .route("/health", get(health))
        // Any path: deployments behind a path prefix still work (the target names the operation).
        .route("/", post(protocol::handle))
        // GET on any path: the well-known documents (`/{poolId}/.well-known/...`).
        .route("/{*path}", post(protocol::handle).get(well_known))
        // A user import's CSV, PUT to the presigned URL CreateUserImportJob gave.
        .route(
            "/_gatehouse/user-import/{pool_id}/{job_id}",
            put(user_import::upload),
        )
        .merge(console::routes())
        .merge(hosted::routes(state.clone()));
    if dev {
        app = app
            .route("/_gatehouse/reset", post(reset))
            .route("/_gatehouse/clock", get(clock).post(move_clock))
            .route("/_gatehouse/outbox", get(outbox));
    }
    app.layer(tower_http::timeout::TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        REQUEST_TIMEOUT,
    ))
    .layer(axum::middleware::map_response(close_after_unread_body))
    .layer(cors())
    .with_state(state)
}

/// A request refused before its body was read (too large, timed out) ends its connection: the
/// server drops the unread rest, and a client that kept the connection for its next request
/// would have that request reset. `Connection: close` tells it to open a new one.
async fn close_after_unread_body(mut res: Response) -> Response {
    if matches!(
        res.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    res
}

/// Browsers run amazon-cognito-identity-js and Amplify: answer preflights and expose the headers
/// their error handling reads.
fn cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::POST, Method::GET, Method::PUT, Method::OPTIONS])
        // content-type, x-amz-target, x-amz-user-agent, cache-control and any app header.
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            HeaderName::from_static("x-amzn-requestid"),
            HeaderName::from_static("x-amzn-errortype"),
            HeaderName::from_static("x-amzn-errormessage"),
            header::DATE,
        ])
        .max_age(std::time::Duration::from_secs(600))
}

/// How long `/health` waits for the database before calling it down.
const HEALTH_DB_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// 200 while the database answers, 503 while it does not: load balancers take a process whose
/// database is unreachable out of rotation, and put it back once it answers again.
async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let ping = tokio::time::timeout(HEALTH_DB_TIMEOUT, state.api.core().store().ping()).await;
    let up = matches!(ping, Ok(Ok(())));
    if !up {
        tracing::warn!(error = ?ping.ok().and_then(Result::err), "health: database down");
    }
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Json(serde_json::json!({
        "status": if up { "ok" } else { "unavailable" },
        "database": if up { "up" } else { "down" },
        "version": env!("CARGO_PKG_VERSION"),
        "dev": state.config.dev,
    }));
    (status, body)
}

/// `/{poolId}/.well-known/jwks.json` and `/{poolId}/.well-known/openid-configuration`, where
/// token verifiers (pycognito, aws-jwt-verify, API gateways) fetch keys.
async fn well_known(
    State(state): State<Arc<AppState>>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> axum::response::Response {
    let core = state.api.core();
    let Some((pool_id, document)) = path
        .trim_start_matches('/')
        .split_once("/.well-known/")
        .filter(|(pool, _)| !pool.contains('/'))
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let found = match document {
        "jwks.json" => core.jwks(pool_id).await,
        "openid-configuration" => core.openid_configuration(pool_id).await,
        _ => Ok(None),
    };
    match found {
        Ok(Some(doc)) => {
            ([(header::CACHE_CONTROL, "public, max-age=300")], Json(doc)).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"message": format!("User pool {pool_id} does not exist.")})),
        )
            .into_response(),
        Err(e) => {
            let e = gatehouse_wire::ApiError::from(e);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"__type": e.code, "message": e.message})),
            )
                .into_response()
        }
    }
}

async fn reset(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.api.core().reset().await {
        Ok(()) => {
            tracing::warn!("all state wiped by /_gatehouse/reset");
            (StatusCode::OK, Json(serde_json::json!({"reset": true})))
        }
        Err(e) => {
            tracing::error!(cause = %e, "reset failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({"reset": false})),
            )
        }
    }
}

#[derive(serde::Deserialize)]
struct ClockMove {
    /// Seconds the server's clock runs ahead of the system's (negative: behind; 0: back).
    #[serde(rename = "OffsetSeconds")]
    offset_seconds: i64,
}

/// Development mode: how far the server's clock is moved, and its time.
async fn clock(State(state): State<Arc<AppState>>) -> axum::response::Response {
    let Some(c) = &state.config.dev_clock else {
        return StatusCode::NOT_FOUND.into_response();
    };
    use gatehouse_core::Clock;
    Json(serde_json::json!({
        "OffsetSeconds": c.offset_ms() / 1000,
        "Now": c.now_millis() as f64 / 1000.0,
    }))
    .into_response()
}

/// Development mode: moves the server's clock, so that tests can see codes, tokens and device
/// trust expire without waiting.
async fn move_clock(
    State(state): State<Arc<AppState>>,
    Json(m): Json<ClockMove>,
) -> axum::response::Response {
    let Some(c) = &state.config.dev_clock else {
        return StatusCode::NOT_FOUND.into_response();
    };
    c.set_offset_ms(m.offset_seconds.saturating_mul(1000));
    tracing::warn!(
        offset_seconds = m.offset_seconds,
        "clock moved by /_gatehouse/clock"
    );
    clock(State(state)).await
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct OutboxQuery {
    pool_id: Option<String>,
    username: Option<String>,
    limit: Option<u32>,
}

/// Development mode: the messages Gatehouse sent, so tests and local apps can read codes.
async fn outbox(
    State(state): State<Arc<AppState>>,
    axum::extract::Query(q): axum::extract::Query<OutboxQuery>,
) -> axum::response::Response {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    match state
        .api
        .core()
        .outbox(q.pool_id.as_deref(), q.username.as_deref(), limit)
        .await
    {
        Ok(messages) => Json(serde_json::json!({ "Messages": messages })).into_response(),
        Err(e) => {
            let e = gatehouse_wire::ApiError::from(e);
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
            (
                status,
                Json(serde_json::json!({"__type": e.code, "message": e.message})),
            )
                .into_response()
        }
    }
}

/// Serves until ctrl-c / SIGTERM, then lets in-flight requests finish within
/// `limits.shutdown_timeout`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    serve_with(listener, app, limits, shutdown_signal()).await
}

/// Resolves on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
