//! The OAuth back channel: POST /oauth2/token, GET|POST /oauth2/userInfo, POST /oauth2/revoke,
//! and GET /logout. JSON errors `{"error", "error_description"}` as RFC 6749 and Cognito give
//! them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::oauth::logout::{LogoutParams, LogoutTarget};
use gatehouse_core::oauth::token::{BasicAuth, TokenForm};
use gatehouse_core::oauth::OAuthError;
use serde_json::json;

use super::*;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/oauth2/token", axum::routing::post(token))
        .route("/oauth2/userInfo", get(user_info).post(user_info))
        .route("/oauth2/revoke", axum::routing::post(revoke))
        .route("/logout", get(logout))
}

fn oauth_error(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut body = serde_json::Map::new();
    body.insert("error".into(), json!(e.error));
    if let Some(d) = &e.description {
        body.insert("error_description".into(), json!(d));
    }
    let mut res = (status, axum::Json(serde_json::Value::Object(body))).into_response();
    if e.status == 401 {
        let scheme = if e.error == "invalid_token" {
            "Bearer"
        } else {
            "Basic"
        };
        let challenge = format!(
            "{scheme} error=\"{}\", error_description=\"{}\"",
            e.error,
            e.description
                .as_deref()
                .unwrap_or_default()
                .replace('"', "'")
        );
        if let Ok(v) = HeaderValue::from_str(&challenge) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
    }
    res
}

/// `Authorization: Basic base64(client_id:client_secret)`, each part form-urlencoded first
/// (RFC 6749 §2.3.1).
fn basic_auth(headers: &HeaderMap) -> Result<Option<BasicAuth>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || OAuthError::new("invalid_client", "Client authentication failed.");
    let text = value.to_str().map_err(|_| bad())?;
    let Some(encoded) = text
        .strip_prefix("Basic ")
        .or_else(|| text.strip_prefix("basic "))
    else {
        return Err(bad());
    };
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| form_urlencoded_decode(s);
    Ok(Some(BasicAuth {
        client_id: unescape(id),
        client_secret: unescape(secret),
    }))
}

fn form_urlencoded_decode(s: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
        .ok()
        .and_then(|mut v| v.pop())
        .map(|(_, v)| v)
        .unwrap_or_else(|| s.to_string())
}

/// A form body, refused as OAuth's `invalid_request` when it is not one.
struct OAuthForm(TokenForm);

impl<S: Send + Sync> axum::extract::FromRequest<S> for OAuthForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Form::<TokenForm>::from_request(req, state).await {
            Ok(Form(f)) => Ok(OAuthForm(f)),
            Err(_) => Err(oauth_error(OAuthError::new(
                "invalid_request",
                "the body must be application/x-www-form-urlencoded",
            ))),
        }
    }
}

async fn token(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm,
) -> Response {
    let ip = crate::protocol::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    if let Err(e) = state.limits.check_ip(ip) {
        return oauth_error(OAuthError {
            error: "slow_down",
            description: Some(e.message),
            status: 429,
        });
    }
    let basic = match basic_auth(&headers) {
        Ok(b) => b,
        Err(e) => return oauth_error(e),
    };
    let host = host_pool(&state, &headers).await;
    match state
        .api
        .core()
        .oauth_token(form, basic, host.as_deref())
        .await
    {
        Ok(body) => axum::Json(body).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn user_info(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match state.api.core().user_info(bearer).await {
        Ok(claims) => axum::Json(claims).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    OAuthForm(form): OAuthForm,
) -> Response {
    let basic = match basic_auth(&headers) {
        Ok(b) => b,
        Err(e) => return oauth_error(e),
    };
    let host = host_pool(&state, &headers).await;
    match state
        .api
        .core()
        .oauth_revoke(form, basic, host.as_deref())
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_error(e),
    }
}

/// GET /logout: the browser goes only to a registered URL, or to the sign-in page again.
async fn logout(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(p): Query<LogoutParams>,
) -> Response {
    let host = host_pool(&state, &headers).await;
    let logout = match state.api.core().check_logout(&p, host.as_deref()).await {
        Ok(l) => l,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, &message),
    };
    let mut res = match logout.target {
        LogoutTarget::Redirect(url) => found(&url),
        LogoutTarget::SignInAgain(params) => found(&format!(
            "{}/oauth2/authorize?{}",
            base(&state),
            query_of(&params)
        )),
    };
    // The hosted-login session ends; the browser's remembered device stays.
    let name = session_cookie_name(&logout.pool_id);
    set_cookie(&mut res, &state, &name, "", 0);
    res
}
