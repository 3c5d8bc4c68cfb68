//! The web console at `/console/`: server-rendered pages (askama templates in
//! `templates/console/`) whose forms work without JavaScript. Handlers are as thin as the API's:
//! each action is checked against the signed-in key's policy exactly as a SigV4 call of the same
//! operation would be ([`admin_auth::authorize`]), its input validated by the wire layer as the
//! API validates it, and done by the core function the API calls. The console adds no rule.
//!
//! Sign-in takes an admin access key id and its secret; the session is a sealed cookie
//! (`gatehouse_core::console`), `HttpOnly`, `SameSite=Strict`, `Secure` behind https. Every form
//! carries the session's CSRF token. With `--dev` the console is open, under a banner.

#![allow(clippy::result_large_err)] // see `Page`

use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use gatehouse_core::console::{ConsoleSession, SeenVersion, CONSOLE_IDLE_MS};
use gatehouse_core::{records_events, Core};
use gatehouse_wire::validate::Validate;
use gatehouse_wire::{
    raw, AdminForgetDeviceRequest, AdminGetUserRequest, AdminListDevicesRequest,
    AdminListUserAuthEventsRequest, AdminScope, AdminUpdateAuthEventFeedbackRequest,
    AdminUpdateDeviceStatusRequest, ApiError, AttributeType, AuthEventType, CreateUserPoolRequest,
    DeleteUserPoolRequest, DeviceConfigurationType, ListUserPoolsRequest, ListUsersRequest,
    Operation, UserPoolMfaType,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::{admin_auth, AppState};

mod clients;
mod pools;
mod session;
mod users;

/// A handler's early answer is a whole page (it lives for one request, so its size is no cost).
type Page<T> = Result<T, Response>;

const COOKIE: &str = "gatehouse_console";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .merge(session::routes())
        .merge(pools::routes())
        .merge(clients::routes())
        .merge(users::routes())
        .layer(axum::middleware::map_response(page_headers))
}

/// No framing (clickjacking), no script or style from elsewhere, nothing cached.
async fn page_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    res
}

/// Who is looking at a page.
struct Visitor {
    /// `None` in development mode (no sign-in, no policy).
    session: Option<ConsoleSession>,
    scope: Option<AdminScope>,
    /// The session cookie again, its idle clock restarted.
    cookie: Option<String>,
}

impl Visitor {
    fn csrf(&self) -> String {
        self.session
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default()
    }

    fn read_only(&self) -> bool {
        self.scope.as_ref().is_some_and(|s| s.read_only)
    }

    /// The key's policy for `op` on `pool_id`, as for a SigV4 call.
    fn may(&self, core: &Core, op: Operation, pool_id: Option<&str>) -> Result<(), ApiError> {
        admin_auth::authorize(self.scope.as_ref(), op, pool_id, |p| core.pool_arn(p))
    }

    /// A form's token: refused unless it is the session's (development mode has none).
    fn check_csrf(&self, given: &str) -> Page<()> {
        match &self.session {
            Some(s) if !s.csrf_matches(given) => Err(refusal(
                StatusCode::FORBIDDEN,
                "Refused",
                "This form is not from your console session (missing or wrong CSRF token). Reload the page and try again.",
            )),
            _ => Ok(()),
        }
    }

    /// `page` with the refreshed session cookie.
    fn respond(&self, state: &AppState, page: impl IntoResponse) -> Response {
        let mut res = page.into_response();
        if let Some(c) = &self.cookie {
            set_cookie(&mut res, state, c, CONSOLE_IDLE_MS / 1000);
        }
        res
    }
}

/// What every page's frame (`base.html`) shows: where the console lives, who is signed in, the
/// session's CSRF token for the sign-out form, the development-mode banner.
struct Chrome {
    base: String,
    who: Option<String>,
    csrf: String,
    dev: bool,
}

impl Chrome {
    fn of(state: &AppState, v: &Visitor) -> Chrome {
        Chrome {
            base: base(state),
            who: v.session.as_ref().map(|s| s.access_key_id.clone()),
            csrf: v.csrf(),
            dev: state.config.dev,
        }
    }

    /// For pages shown to someone not signed in.
    fn anonymous(base: String) -> Chrome {
        Chrome {
            base,
            who: None,
            csrf: String::new(),
            dev: false,
        }
    }
}

fn base(state: &AppState) -> String {
    let path = state
        .config
        .public_url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].trim_end_matches('/')))
        .unwrap_or("");
    format!("{path}/console")
}

fn set_cookie(res: &mut Response, state: &AppState, value: &str, max_age: i64) {
    let secure = if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={value}; Path={}; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        base(state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(COOKIE)?.strip_prefix('='))
}

/// The visitor, or the sign-in page for a visitor without a live session.
async fn visitor(state: &AppState, headers: &HeaderMap) -> Page<Visitor> {
    if state.config.dev {
        return Ok(Visitor {
            session: None,
            scope: None,
            cookie: None,
        });
    }
    let core = state.api.core();
    let resumed = match cookie_value(headers) {
        Some(c) => match core.resume_console_session(c).await {
            Ok(r) => r,
            Err(e) => {
                let e = ApiError::from(e);
                return Err(refusal(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Unavailable",
                    &e.message,
                ));
            }
        },
        None => None,
    };
    // A key removed from the configuration ends its sessions.
    let Some((session, cookie)) = resumed else {
        return Err(Redirect::to(&format!("{}/sign-in", base(state))).into_response());
    };
    let Some(scope) = state.admin_auth.scope(&session.access_key_id) else {
        return Err(Redirect::to(&format!("{}/sign-in", base(state))).into_response());
    };
    Ok(Visitor {
        session: Some(session),
        scope: Some(scope),
        cookie: Some(cookie),
    })
}

/// The visitor of a form post, once the form's CSRF token is checked.
async fn poster(state: &AppState, headers: &HeaderMap, csrf: &str) -> Page<Visitor> {
    let v = visitor(state, headers).await?;
    v.check_csrf(csrf)?;
    Ok(v)
}

/// Decodes and validates `input` exactly as the API decodes the operation's request body.
pub(crate) fn api_request<R, T>(input: serde_json::Value) -> Result<T, ApiError>
where
    R: DeserializeOwned + Validate,
    T: From<R>,
{
    let raw: R = gatehouse_wire::validate::decode(input.to_string().as_bytes())?;
    Ok(raw.into())
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage<'a> {
    chrome: Chrome,
    heading: &'a str,
    message: &'a str,
}

/// A page that only says why something was refused.
fn refusal(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = MessagePage {
        chrome: Chrome::anonymous("/console".into()),
        heading,
        message,
    };
    (status, render(&page)).into_response()
}

fn api_refusal(state: &AppState, v: &Visitor, e: &ApiError) -> Response {
    let status = if e.code == "AccessDeniedException" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = MessagePage {
        chrome: Chrome::of(state, v),
        heading: "Refused",
        message: &e.message,
    };
    v.respond(state, (status, render(&page)))
}

fn date(epoch_seconds: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(epoch_seconds as i64)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A form that carries nothing but its CSRF token.
#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// A page reached after an action says what was done (`?notice=code`).
#[derive(Deserialize)]
struct NoticeQuery {
    notice: Option<String>,
}

/// The body of an Update request (UpdateUserPool, UpdateUserPoolClient) that gives again every
/// member the described record holds, with the form's `changes` on top. Those operations reset
/// what they omit; a console section changes only its own members.
fn update_request(
    described: &impl serde::Serialize,
    members: &[&str],
    changes: serde_json::Value,
) -> serde_json::Value {
    let mut body = serde_json::Map::new();
    if let Ok(serde_json::Value::Object(d)) = serde_json::to_value(described) {
        for (k, v) in d {
            if members.contains(&k.as_str()) && !v.is_null() {
                body.insert(k, v);
            }
        }
    }
    if let serde_json::Value::Object(c) = changes {
        body.extend(c);
    }
    serde_json::Value::Object(body)
}

/// A form body, or the console's refusal page when it cannot be read (a tampered hidden field,
/// a body that is not a form): the same page as every other refusal, not axum's plain text.
struct ConsoleForm<T>(T);

impl<T, S> axum::extract::FromRequest<S> for ConsoleForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Response> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(form)) => Ok(ConsoleForm(form)),
            Err(e) => Err(refusal(
                e.status(),
                "Refused",
                "This form could not be read. Reload the page and try again.",
            )),
        }
    }
}
