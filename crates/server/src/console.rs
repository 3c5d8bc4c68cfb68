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
use gatehouse_core::console::{ConsoleSession, CONSOLE_IDLE_MS};
use gatehouse_core::Core;
use gatehouse_wire::validate::Validate;
use gatehouse_wire::{
    raw, AdminForgetDeviceRequest, AdminGetUserRequest, AdminListDevicesRequest, AdminScope,
    AdminUpdateDeviceStatusRequest, ApiError, AttributeType, CreateUserPoolRequest,
    DeleteUserPoolRequest, DeviceConfigurationType, ListUserPoolsRequest, ListUsersRequest,
    Operation, UserPoolMfaType,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::{admin_auth, AppState};

/// A handler's early answer is a whole page (it lives for one request, so its size is no cost).
type Page<T> = Result<T, Response>;

const COOKIE: &str = "gatehouse_console";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(pools_page).post(create_pool))
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route("/console/pools/{id}", get(pool_page))
        .route(
            "/console/pools/{id}/device-tracking",
            post(save_device_tracking),
        )
        .route("/console/pools/{id}/delete", post(delete_pool))
        .route("/console/pools/{id}/users", get(users_page))
        .route("/console/pools/{id}/users/{username}", get(user_page))
        .route(
            "/console/pools/{id}/users/{username}/devices/{key}/forget",
            post(forget_device),
        )
        .route(
            "/console/pools/{id}/users/{username}/devices/{key}/status",
            post(set_device_status),
        )
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
fn api_request<R, T>(input: serde_json::Value) -> Result<T, ApiError>
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

// ---- sign-in ----

#[derive(Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    access_key_id: String,
    error: Option<String>,
}

async fn sign_in_page(State(state): State<Arc<AppState>>) -> Response {
    if state.config.dev {
        return Redirect::to(&format!("{}/", base(&state))).into_response();
    }
    render(&SignInPage {
        chrome: Chrome::anonymous(base(&state)),
        access_key_id: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct SignInForm {
    access_key_id: String,
    secret_access_key: String,
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    if state.config.dev {
        return Redirect::to(&format!("{}/", base(&state))).into_response();
    }
    // Guessing secrets is limited per address as guessing passwords is.
    let ip = crate::protocol::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    if let Err(e) = state.limits.check_ip(ip) {
        return refusal(StatusCode::TOO_MANY_REQUESTS, "Refused", &e.message);
    }
    let key = form.access_key_id.trim();
    if state
        .admin_auth
        .check_secret(key, &form.secret_access_key)
        .is_none()
    {
        tracing::info!(access_key_id = %key, "console sign-in refused");
        let page = SignInPage {
            chrome: Chrome::anonymous(base(&state)),
            access_key_id: key.to_string(),
            error: Some("The access key ID or the secret access key is wrong.".into()),
        };
        return (StatusCode::UNAUTHORIZED, render(&page)).into_response();
    }
    tracing::info!(access_key_id = %key, "console sign-in");
    let (_, cookie) = state.api.core().start_console_session(key);
    let mut res = Redirect::to(&format!("{}/", base(&state))).into_response();
    set_cookie(&mut res, &state, &cookie, CONSOLE_IDLE_MS / 1000);
    res
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    if let Some(session) = &v.session {
        if let Err(e) = state.api.core().end_console_session(session).await {
            let e = ApiError::from(e);
            return refusal(StatusCode::SERVICE_UNAVAILABLE, "Unavailable", &e.message);
        }
    }
    let mut res = Redirect::to(&format!("{}/sign-in", base(&state))).into_response();
    set_cookie(&mut res, &state, "", 0);
    res
}

// ---- pools ----

struct PoolRow {
    id: String,
    name: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/pools.html")]
struct PoolsPage {
    chrome: Chrome,
    pools: Vec<PoolRow>,
    next_token: Option<String>,
    pool_name: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct PoolsQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn pools_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<PoolsQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = q.notice.as_deref().map(notice_text).map(str::to_string);
    pools_view(&state, &v, q.next, String::new(), None, notice).await
}

fn notice_text(code: &str) -> &'static str {
    match code {
        "created" => "The pool was created.",
        "deleted" => "The pool was deleted.",
        "saved" => "Saved.",
        "forgotten" => "The device was forgotten.",
        "status" => "The device's status was changed.",
        _ => "",
    }
}

async fn pools_view(
    state: &AppState,
    v: &Visitor,
    next: Option<String>,
    pool_name: String,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let core = state.api.core();
    if let Err(e) = v.may(core, Operation::ListUserPools, None) {
        return api_refusal(state, v, &e);
    }
    let req = ListUserPoolsRequest {
        max_results: 60,
        next_token: next,
    };
    let visible = v.scope.as_ref().and_then(|s| s.pools.as_deref());
    let listed = match core.list_user_pools(req, visible).await {
        Ok(l) => l,
        Err(e) => return api_refusal(state, v, &ApiError::from(e)),
    };
    let pools = listed
        .user_pools
        .unwrap_or_default()
        .into_iter()
        .map(|p| PoolRow {
            id: p.id.unwrap_or_default(),
            name: p.name.unwrap_or_default(),
            created: p.creation_date.map(date).unwrap_or_default(),
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PoolsPage {
        chrome: Chrome::of(state, v),
        pools,
        next_token: listed.next_token,
        pool_name,
        error,
        notice,
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

#[derive(Deserialize)]
struct CreatePoolForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    pool_name: String,
}

async fn create_pool(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<CreatePoolForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let created = async {
        v.may(core, Operation::CreateUserPool, None)?;
        let req: CreateUserPoolRequest = api_request::<raw::CreateUserPoolRequest, _>(
            serde_json::json!({ "PoolName": form.pool_name }),
        )?;
        Ok::<_, ApiError>(core.create_user_pool(req).await?)
    }
    .await;
    match created {
        Ok(_) => v.respond(
            &state,
            Redirect::to(&format!("{}/?notice=created", base(&state))),
        ),
        Err(e) if e.code == "AccessDeniedException" => api_refusal(&state, &v, &e),
        Err(e) => pools_view(&state, &v, None, form.pool_name, Some(e.message), None).await,
    }
}

// ---- one pool ----

#[derive(Template)]
#[template(path = "console/pool.html")]
struct PoolPage {
    chrome: Chrome,
    id: String,
    name: String,
    version: i64,
    mfa: &'static str,
    mfa_on: bool,
    /// "no", "always" or "opt_in".
    remember: &'static str,
    suppress_mfa: bool,
    read_only: bool,
    notice: Option<String>,
    device_error: Option<String>,
    delete_error: Option<String>,
}

#[derive(Deserialize)]
struct PoolQuery {
    notice: Option<String>,
}

/// What a pool page shows besides its record; errors go next to their section.
#[derive(Default)]
struct PoolPageState {
    notice: Option<String>,
    device_error: Option<String>,
    delete_error: Option<String>,
}

async fn pool_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<PoolQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = q.notice.as_deref().map(notice_text).map(str::to_string);
    pool_view(
        &state,
        &v,
        &id,
        PoolPageState {
            notice,
            ..Default::default()
        },
    )
    .await
}

async fn pool_view(state: &AppState, v: &Visitor, id: &str, shown: PoolPageState) -> Response {
    let core = state.api.core();
    let rec = async {
        v.may(core, Operation::DescribeUserPool, Some(id))?;
        Ok::<_, ApiError>(core.user_pool_record(id).await?)
    }
    .await;
    let rec = match rec {
        Ok(r) => r,
        Err(e) => return api_refusal(state, v, &e),
    };
    let mfa = rec
        .pool
        .mfa_configuration
        .clone()
        .unwrap_or(UserPoolMfaType::Off);
    let device = rec.pool.device_configuration.clone();
    let remember = match &device {
        None => "no",
        Some(d) if d.device_only_remembered_on_user_prompt == Some(true) => "opt_in",
        Some(_) => "always",
    };
    let status = if shown.device_error.is_some() || shown.delete_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PoolPage {
        chrome: Chrome::of(state, v),
        id: rec.id.clone(),
        name: rec.pool.name.clone().unwrap_or_default(),
        version: rec.version,
        mfa: match mfa {
            UserPoolMfaType::On => "Required",
            UserPoolMfaType::Optional => "Optional",
            _ => "Off",
        },
        mfa_on: matches!(mfa, UserPoolMfaType::On | UserPoolMfaType::Optional),
        remember,
        suppress_mfa: device.and_then(|d| d.challenge_required_on_new_device) == Some(true),
        read_only: v.read_only(),
        notice: shown.notice,
        device_error: shown.device_error,
        delete_error: shown.delete_error,
    };
    v.respond(state, (status, render(&page)))
}

/// After an action on a pool: on to `done`, or a page that says why not (the pool's page, with
/// the message beside the section that failed, when the pool is there to show).
async fn pool_action_answer(
    state: &AppState,
    v: &Visitor,
    id: &str,
    result: Result<(), ApiError>,
    done: &str,
    beside: impl FnOnce(String) -> PoolPageState,
) -> Response {
    match result {
        Ok(()) => v.respond(state, Redirect::to(done)),
        Err(e) if e.code == "AccessDeniedException" || e.code == "ResourceNotFoundException" => {
            api_refusal(state, v, &e)
        }
        Err(e) => pool_view(state, v, id, beside(e.message)).await,
    }
}

#[derive(Deserialize)]
struct DeviceTrackingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    remember: String,
    /// Present (as "on") only when ticked.
    suppress_mfa: Option<String>,
}

async fn save_device_tracking(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DeviceTrackingForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let suppress = form.suppress_mfa.is_some();
    let saved = async {
        // The same policy as UpdateUserPool, the operation that sets this through the API.
        v.may(core, Operation::UpdateUserPool, Some(&id))?;
        let config = match form.remember.as_str() {
            "no" => None,
            "always" | "opt_in" => Some(DeviceConfigurationType {
                challenge_required_on_new_device: Some(suppress),
                device_only_remembered_on_user_prompt: Some(form.remember == "opt_in"),
            }),
            _ => {
                return Err(ApiError::new(
                    "InvalidParameterException",
                    "Choose whether to remember user devices.".to_string(),
                ))
            }
        };
        core.set_device_configuration(&id, config, form.version)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let done = format!("{}/pools/{id}?notice=saved", base(&state));
    pool_action_answer(&state, &v, &id, saved, &done, |e| PoolPageState {
        device_error: Some(e),
        ..Default::default()
    })
    .await
}

#[derive(Deserialize)]
struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

async fn delete_pool(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let deleted = async {
        v.may(core, Operation::DeleteUserPool, Some(&id))?;
        let rec = core.user_pool_record(&id).await?;
        if rec.pool.name.as_deref() != Some(form.confirm.trim()) {
            return Err(ApiError::new(
                "InvalidParameterException",
                "Type the pool's name exactly to delete it.".to_string(),
            ));
        }
        let req: DeleteUserPoolRequest = api_request::<
            gatehouse_wire::raw::DeleteUserPoolRequest,
            _,
        >(serde_json::json!({ "UserPoolId": id }))?;
        core.delete_user_pool(req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let done = format!("{}/?notice=deleted", base(&state));
    pool_action_answer(&state, &v, &id, deleted, &done, |e| PoolPageState {
        delete_error: Some(e),
        ..Default::default()
    })
    .await
}

// ---- users and their devices ----

struct UserRow {
    username: String,
    status: String,
    enabled: bool,
    email: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    chrome: Chrome,
    pool_id: String,
    pool_name: String,
    q: String,
    users: Vec<UserRow>,
    next_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct UsersQuery {
    #[serde(default)]
    q: String,
    next: Option<String>,
}

fn attribute<'a>(attrs: &'a [AttributeType], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.value.as_deref())
}

/// The search box: a ListUsers filter as typed when it has an operator, else a username prefix.
fn users_filter(q: &str) -> Option<String> {
    let q = q.trim();
    if q.is_empty() {
        None
    } else if q.contains('=') {
        Some(q.to_string())
    } else {
        Some(format!("username ^= \"{}\"", q.replace(['"', '\\'], "")))
    }
}

async fn users_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<UsersQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let pool = async {
        v.may(core, Operation::ListUsers, Some(&id))?;
        Ok::<_, ApiError>(core.user_pool_record(&id).await?)
    }
    .await;
    let pool = match pool {
        Ok(p) => p,
        Err(e) => return api_refusal(&state, &v, &e),
    };
    let listed = async {
        let req: ListUsersRequest = api_request::<raw::ListUsersRequest, _>(serde_json::json!({
            "UserPoolId": id,
            "Filter": users_filter(&q.q),
            "Limit": 60,
            "PaginationToken": q.next,
        }))?;
        Ok::<_, ApiError>(core.list_users(req).await?)
    }
    .await;
    let (users, next_token, error) = match listed {
        Ok(l) => (l.users.unwrap_or_default(), l.pagination_token, None),
        Err(e) => (Vec::new(), None, Some(e.message)),
    };
    let users = users
        .into_iter()
        .map(|u| {
            let attrs = u.attributes.unwrap_or_default();
            UserRow {
                email: attribute(&attrs, "email").unwrap_or_default().to_string(),
                username: u.username.unwrap_or_default(),
                status: u.user_status.map(|s| s.to_string()).unwrap_or_default(),
                enabled: u.enabled.unwrap_or(true),
            }
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = UsersPage {
        chrome: Chrome::of(&state, &v),
        pool_id: pool.id,
        pool_name: pool.pool.name.unwrap_or_default(),
        q: q.q,
        users,
        next_token,
        error,
    };
    v.respond(&state, (status, render(&page)))
}

struct DeviceRow {
    key: String,
    name: String,
    remembered: bool,
    last_ip: String,
    last_sign_in: String,
    first_seen: String,
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    chrome: Chrome,
    pool_id: String,
    pool_name: String,
    username: String,
    status: String,
    enabled: bool,
    attributes: Vec<(String, String)>,
    devices: Vec<DeviceRow>,
    read_only: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn user_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    Query(q): Query<PoolQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = q.notice.as_deref().map(notice_text).map(str::to_string);
    user_view(&state, &v, &id, &username, notice, None).await
}

async fn user_view(
    state: &AppState,
    v: &Visitor,
    id: &str,
    username: &str,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let core = state.api.core();
    let read = async {
        v.may(core, Operation::AdminGetUser, Some(id))?;
        let pool = core.user_pool_record(id).await?;
        let user = core
            .admin_get_user(
                api_request::<raw::AdminGetUserRequest, AdminGetUserRequest>(
                    serde_json::json!({ "UserPoolId": id, "Username": username }),
                )?,
            )
            .await?;
        // Devices exist only where the pool tracks them.
        let devices = if pool.pool.device_configuration.is_some() {
            v.may(core, Operation::AdminListDevices, Some(id))?;
            let req: AdminListDevicesRequest = api_request::<raw::AdminListDevicesRequest, _>(
                serde_json::json!({ "UserPoolId": id, "Username": username, "Limit": 60 }),
            )?;
            core.admin_list_devices(req)
                .await?
                .devices
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok::<_, ApiError>((pool, user, devices))
    }
    .await;
    let (pool, user, devices) = match read {
        Ok(r) => r,
        Err(e) => return api_refusal(state, v, &e),
    };
    let devices = devices
        .into_iter()
        .map(|d| {
            let attrs = d.device_attributes.unwrap_or_default();
            let key = d.device_key.unwrap_or_default();
            DeviceRow {
                name: attribute(&attrs, "device_name").unwrap_or(&key).to_string(),
                remembered: attribute(&attrs, "dev:device_remembered_status") == Some("remembered"),
                last_ip: attribute(&attrs, "last_ip_used")
                    .unwrap_or_default()
                    .to_string(),
                last_sign_in: d
                    .device_last_authenticated_date
                    .map(date)
                    .unwrap_or_default(),
                first_seen: d.device_create_date.map(date).unwrap_or_default(),
                key,
            }
        })
        .collect();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = UserPage {
        chrome: Chrome::of(state, v),
        pool_id: pool.id,
        pool_name: pool.pool.name.unwrap_or_default(),
        username: user.username,
        status: user.user_status.map(|s| s.to_string()).unwrap_or_default(),
        enabled: user.enabled.unwrap_or(true),
        attributes: user
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.name, a.value.unwrap_or_default()))
            .collect(),
        devices,
        read_only: v.read_only(),
        notice,
        error,
    };
    v.respond(state, (status, render(&page)))
}

/// After an action on a user's device: back to the user's page, saying what happened or why not.
async fn device_action_answer(
    state: &AppState,
    v: &Visitor,
    (id, username): (&str, &str),
    result: Result<(), ApiError>,
    notice: &str,
) -> Response {
    match result {
        Ok(()) => {
            let to = format!(
                "{}/pools/{id}/users/{}?notice={notice}",
                base(state),
                urlencode(username)
            );
            v.respond(state, Redirect::to(&to))
        }
        Err(e) if e.code == "AccessDeniedException" => api_refusal(state, v, &e),
        Err(e) => user_view(state, v, id, username, None, Some(e.message)).await,
    }
}

/// A path segment as a link carries it.
fn urlencode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

async fn forget_device(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username, key)): Path<(String, String, String)>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminForgetDevice, Some(&id))?;
        let req: AdminForgetDeviceRequest = api_request::<raw::AdminForgetDeviceRequest, _>(
            serde_json::json!({ "UserPoolId": id, "Username": username, "DeviceKey": key }),
        )?;
        core.admin_forget_device(req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    device_action_answer(&state, &v, (&id, &username), done, "forgotten").await
}

#[derive(Deserialize)]
struct DeviceStatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

async fn set_device_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username, key)): Path<(String, String, String)>,
    Form(form): Form<DeviceStatusForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminUpdateDeviceStatus, Some(&id))?;
        let req: AdminUpdateDeviceStatusRequest =
            api_request::<raw::AdminUpdateDeviceStatusRequest, _>(serde_json::json!({
                "UserPoolId": id,
                "Username": username,
                "DeviceKey": key,
                "DeviceRememberedStatus": form.status,
            }))?;
        core.admin_update_device_status(req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    device_action_answer(&state, &v, (&id, &username), done, "status").await
}
