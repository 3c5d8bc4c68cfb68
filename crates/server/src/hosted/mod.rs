//! Managed login: the hosted pages (`/oauth2/authorize`, `/login`) and the OAuth back channel
//! (`/oauth2/token`, `/oauth2/userInfo`, `/oauth2/revoke`, `/logout`), as Cognito names them.
//! Thin: every check and every sign-in step is core's (`gatehouse_core::oauth`); here are the
//! forms, cookies and redirects. The endpoints answer at the public URL, where `client_id`
//! names the pool, and on a pool's own domain (the Host header), which serves only that pool.
//!
//! Cookies: the CSRF token of the forms (`gatehouse_csrf`, double-submitted, which also stops
//! login CSRF: a form posted from elsewhere lacks the browser's cookie value) and the browser's
//! remembered devices (`gatehouse_device_{poolId}`, sealed) and its hosted-login session
//! (`gatehouse_session_{poolId}`, sealed, one hour; cleared by /logout). All `HttpOnly`,
//! `SameSite=Lax`, `Secure` behind https. Pages cannot be framed.

#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use gatehouse_core::oauth::authorize::{Authorization, AuthorizeParams, Prompt, Refusal};
use gatehouse_core::oauth::hosted_sign_in::{BrowserDevices, HostedStep};
use gatehouse_core::{Caller, CoreError};
use gatehouse_wire::{ApiError, ChallengeNameType};
use serde::Deserialize;

use crate::AppState;

mod accounts;
mod endpoints;
mod feedback;
mod look;

const CSRF_COOKIE: &str = "gatehouse_csrf";
/// Browsers keep cookies at most 400 days.
const DEVICE_COOKIE_AGE: i64 = 400 * 86_400;

pub(crate) fn routes(state: Arc<AppState>) -> Router<Arc<AppState>> {
    Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route("/login", get(login_page).post(login))
        .route("/login/challenge", axum::routing::post(challenge))
        .route("/login/passkey", axum::routing::post(passkey_login))
        .route("/login/device", axum::routing::post(remember))
        .route("/error", get(error_page))
        .merge(endpoints::routes())
        .merge(accounts::routes())
        .merge(feedback::routes())
        .layer(axum::middleware::from_fn_with_state(state, look::apply))
        .route(
            "/_gatehouse/ui-customization/{pool_id}/{client}/{version}/image",
            get(look::image),
        )
        .route("/_gatehouse/hosted/passkey.js", get(passkey_script))
        .layer(axum::middleware::map_response(page_headers))
}

/// No framing, nothing cached, no referrer with codes in it.
async fn page_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if h.get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"))
    {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
            ),
        );
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, max-age=0, must-revalidate"),
    );
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The path the server is mounted at (`{public-url}`'s path), without a trailing slash.
fn base(state: &AppState) -> String {
    state
        .config
        .public_url
        .split_once("://")
        .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].trim_end_matches('/')))
        .unwrap_or("")
        .to_string()
}

/// The pool whose own host name the request came to, if any (see `Core::pool_of_host`).
pub(crate) async fn host_pool(state: &AppState, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let public_host = state
        .config
        .public_url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .unwrap_or("");
    if host.eq_ignore_ascii_case(public_host) {
        return None;
    }
    state.api.core().pool_of_host(host).await.ok().flatten()
}

fn secure(state: &AppState) -> &'static str {
    if state.config.public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

fn set_cookie(res: &mut Response, state: &AppState, name: &str, value: &str, max_age: i64) {
    let path = if base(state).is_empty() {
        "/".to_string()
    } else {
        base(state)
    };
    let cookie = format!(
        "{name}={value}; Path={path}; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        secure(state)
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| c.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|v| !v.is_empty())
}

fn device_cookie_name(pool_id: &str) -> String {
    format!("gatehouse_device_{pool_id}")
}

/// The browser's hosted-login session in a pool (core's `oauth::hosted_session`).
pub(crate) fn session_cookie_name(pool_id: &str) -> String {
    format!("gatehouse_session_{pool_id}")
}

fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "hosted page template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "hosted/error.html")]
struct ErrorPage<'a> {
    heading: &'a str,
    message: &'a str,
}

fn error_response(status: StatusCode, message: &str) -> Response {
    let page = ErrorPage {
        heading: "Something went wrong",
        message,
    };
    (status, render(&page)).into_response()
}

#[derive(Deserialize)]
struct ErrorQuery {
    error: Option<String>,
}

async fn error_page(Query(q): Query<ErrorQuery>) -> Response {
    let message = q.error.unwrap_or_else(|| "An error occurred.".into());
    error_response(StatusCode::BAD_REQUEST, &message)
}

/// Where a refused authorization request sends the browser.
fn refused(r: Refusal) -> Response {
    match r {
        Refusal::ErrorPage(e) => error_response(StatusCode::BAD_REQUEST, &e),
        Refusal::Redirect(url) => found(&url),
    }
}

/// A 302 (OAuth's redirect), not axum's 303.
fn found(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => error_response(StatusCode::BAD_REQUEST, "invalid redirect"),
    }
}

fn query_of(p: &AuthorizeParams) -> String {
    serde_urlencoded::to_string(p).unwrap_or_default()
}

/// GET /oauth2/authorize: checked, then answered from the browser's hosted-login session, or
/// on to the sign-in page with the same parameters.
async fn authorize(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    let host = host_pool(&state, &headers).await;
    let authz = match state
        .api
        .core()
        .check_authorization(&p, host.as_deref())
        .await
    {
        Ok(a) => a,
        Err(r) => return refused(r),
    };
    if let Some(answer) = signed_in_already(&state, &headers, &authz).await {
        return answer;
    }
    found(&format!("{}/login?{}", base(&state), query_of(&p)))
}

/// The answer to an authorization the browser's hosted-login session settles: the redirect back
/// to the client, or `login_required` under `prompt=none`. None: show the sign-in page.
async fn signed_in_already(
    state: &AppState,
    headers: &HeaderMap,
    authz: &Authorization,
) -> Option<Response> {
    let core = state.api.core();
    let session = cookie(headers, &session_cookie_name(&authz.pool_id));
    match core.resume_hosted_session(authz, session).await {
        Ok(Some(redirect)) => Some(found(&redirect)),
        Ok(None) if authz.prompt == Prompt::None => Some(found(&authz.login_required())),
        Ok(None) => None,
        Err(e) => {
            let (status, message) = step_error(e);
            Some(error_response(status, &message))
        }
    }
}

/// What the sign-in pages need of a request: the checked authorization, the browser's CSRF
/// token (made now if it has none), who is calling.
struct Visit {
    authz: Authorization,
    params: AuthorizeParams,
    csrf: String,
    new_csrf: bool,
    caller: Caller,
}

async fn visit(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    p: AuthorizeParams,
) -> Result<Visit, Response> {
    let host = host_pool(state, headers).await;
    let authz = state
        .api
        .core()
        .check_authorization(&p, host.as_deref())
        .await
        .map_err(refused)?;
    let (csrf, new_csrf) = match cookie(headers, CSRF_COOKIE) {
        Some(c) => (c.to_string(), false),
        None => (uuid::Uuid::new_v4().simple().to_string(), true),
    };
    let ip = crate::protocol::client_ip(peer.ip(), headers, &state.config.trusted_proxies);
    let caller = Caller {
        ip: Some(ip),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(String::from),
    };
    Ok(Visit {
        authz,
        params: p,
        csrf,
        new_csrf,
        caller,
    })
}

/// The visit of a form post: its CSRF token checked, and the client address's rate limit (the
/// API's, shared with sign-in, sign-up and recovery).
async fn poster(
    state: &AppState,
    headers: &HeaderMap,
    peer: SocketAddr,
    p: AuthorizeParams,
    csrf: &str,
) -> Result<Visit, Response> {
    let v = visit(state, headers, peer, p).await?;
    v.check_csrf(csrf)?;
    if let Some(ip) = v.caller.ip {
        if let Err(e) = state.limits.check_ip(ip) {
            return Err(error_response(StatusCode::TOO_MANY_REQUESTS, &e.message));
        }
    }
    Ok(v)
}

impl Visit {
    /// A form post's CSRF token must be the browser's cookie, which a page elsewhere cannot
    /// read or set.
    fn check_csrf(&self, given: &str) -> Result<(), Response> {
        let ok = !self.new_csrf
            && bool::from(subtle::ConstantTimeEq::ct_eq(
                self.csrf.as_bytes(),
                given.as_bytes(),
            ));
        if ok {
            Ok(())
        } else {
            Err(error_response(
                StatusCode::FORBIDDEN,
                "This form is not from this browser's sign-in (missing or wrong CSRF token). Go back and try again.",
            ))
        }
    }

    fn action(&self, state: &AppState, path: &str) -> String {
        format!("{}{path}?{}", base(state), query_of(&self.params))
    }

    /// `page` with the CSRF cookie when it is new.
    fn respond(&self, state: &AppState, page: impl IntoResponse) -> Response {
        let mut res = page.into_response();
        if self.new_csrf {
            set_cookie(&mut res, state, CSRF_COOKIE, &self.csrf, 86_400);
        }
        res
    }

    fn devices(&self, state: &AppState, headers: &HeaderMap) -> BrowserDevices {
        let name = device_cookie_name(&self.authz.pool_id);
        state
            .api
            .core()
            .open_browser_devices(&self.authz.pool_id, cookie(headers, &name))
    }
}

#[derive(Template)]
#[template(path = "hosted/login.html")]
struct LoginPage {
    app: Option<String>,
    action: String,
    /// The passkey button's form, when the pool takes passkeys.
    passkey: Option<String>,
    csrf: String,
    username: String,
    error: Option<String>,
    notice: Option<String>,
    forgot: String,
    sign_up: String,
}

impl LoginPage {
    fn new(state: &AppState, v: &Visit) -> LoginPage {
        LoginPage {
            app: v.authz.client_name.clone(),
            action: v.action(state, "/login"),
            passkey: None,
            csrf: v.csrf.clone(),
            username: String::new(),
            error: None,
            notice: None,
            forgot: v.action(state, "/forgotPassword"),
            sign_up: v.action(state, "/signup"),
        }
    }
}

async fn login_page(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    let v = match visit(&state, &headers, peer, p).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    if let Some(answer) = signed_in_already(&state, &headers, &v.authz).await {
        return answer;
    }
    let page = LoginPage {
        passkey: passkey_action(&state, &v).await,
        ..LoginPage::new(&state, &v)
    };
    v.respond(&state, render(&page))
}

/// Where the sign-in page's passkey button posts, when the pool takes passkeys.
async fn passkey_action(state: &AppState, v: &Visit) -> Option<String> {
    let core = state.api.core();
    core.hosted_offers_passkeys(&v.authz)
        .await
        .then(|| v.action(state, "/login/passkey"))
}

#[derive(Deserialize)]
struct PasskeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
}

/// The passkey button: the WEB_AUTHN challenge's page, whose script asks the browser for the
/// assertion and posts it to /login/challenge.
async fn passkey_login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(form): Form<PasskeyForm>,
) -> Response {
    let v = match poster(&state, &headers, peer, p, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let mut devices = v.devices(&state, &headers);
    let username = form.username.trim();
    let step = state
        .api
        .core()
        .hosted_passkey_start(&v.authz, username, &mut devices, &v.caller)
        .await;
    match step {
        Ok(step) => next_page(&state, &v, step, devices).await,
        Err(e) => {
            let (status, message) = step_error(e);
            let page = LoginPage {
                username: username.to_string(),
                error: Some(message),
                passkey: passkey_action(&state, &v).await,
                ..LoginPage::new(&state, &v)
            };
            v.respond(&state, (status, render(&page)))
        }
    }
}

/// The passkey page's script (the pages allow no inline script): the request options to
/// `navigator.credentials.get`, the assertion posted back as Amplify writes it.
async fn passkey_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../../templates/hosted/passkey.js"),
    )
        .into_response()
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// What a failed step tells the user: the API's message (the same words, the same
/// PreventUserExistenceErrors), never an internal cause.
fn step_error(e: CoreError) -> (StatusCode, String) {
    let e = ApiError::from(e);
    if e.status() >= 500 {
        tracing::error!(code = %e.code, message = %e.message, "hosted sign-in step failed");
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in is unavailable right now. Try again in a moment.".into(),
        );
    }
    (StatusCode::BAD_REQUEST, e.message)
}

async fn login(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(form): Form<LoginForm>,
) -> Response {
    let v = match poster(&state, &headers, peer, p, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let mut devices = v.devices(&state, &headers);
    let step = state
        .api
        .core()
        .hosted_sign_in(
            &v.authz,
            form.username.trim(),
            &form.password,
            &mut devices,
            &v.caller,
        )
        .await;
    match step {
        Ok(step) => next_page(&state, &v, step, devices).await,
        Err(e) => {
            let (status, message) = step_error(e);
            let page = LoginPage {
                username: form.username.trim().to_string(),
                error: Some(message),
                passkey: passkey_action(&state, &v).await,
                ..LoginPage::new(&state, &v)
            };
            v.respond(&state, (status, render(&page)))
        }
    }
}

#[derive(Template)]
#[template(path = "hosted/challenge.html")]
struct ChallengePage {
    heading: &'static str,
    prompt: String,
    kind: &'static str,
    action: String,
    csrf: String,
    challenge: String,
    session: String,
    username: String,
    factors: Vec<(String, &'static str)>,
    error: Option<String>,
    /// WEB_AUTHN: the request options (JSON) and the script that uses them.
    options: String,
    script: String,
    /// TOTP set-up: the secret, its otpauth URI, and that URI as an SVG QR code.
    secret: String,
    otpauth: String,
    qr: Option<String>,
}

/// An `otpauth://` URI as an inline SVG QR code (the page's CSP allows no outside image).
fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .build(),
    )
}

/// The TOTP set-up page (MFA_SETUP): a new secret for the user's app.
async fn totp_setup_page(
    state: &AppState,
    v: &Visit,
    session: &str,
    username: String,
) -> Result<ChallengePage, CoreError> {
    let (secret, session, otpauth) = state
        .api
        .core()
        .hosted_totp_secret(&v.authz, session, &username)
        .await?;
    Ok(setup_page(
        state, v, session, username, secret, otpauth, None,
    ))
}

fn setup_page(
    state: &AppState,
    v: &Visit,
    session: String,
    username: String,
    secret: String,
    otpauth: String,
    error: Option<String>,
) -> ChallengePage {
    ChallengePage {
        error,
        qr: qr_svg(&otpauth),
        secret,
        otpauth,
        ..mfa_setup_form(
            state,
            v,
            session,
            username,
            "Set up your authenticator app",
            "Scan the code with your authenticator app, then enter the 6-digit code it shows.",
            "totp_setup",
        )
    }
}

/// A page of the MFA_SETUP challenge, its fields to fill in.
fn mfa_setup_form(
    state: &AppState,
    v: &Visit,
    session: String,
    username: String,
    heading: &'static str,
    prompt: &str,
    kind: &'static str,
) -> ChallengePage {
    ChallengePage {
        heading,
        prompt: prompt.to_string(),
        kind,
        action: v.action(state, "/login/challenge"),
        csrf: v.csrf.clone(),
        challenge: ChallengeNameType::MfaSetup.as_str().to_string(),
        session,
        username,
        factors: Vec::new(),
        error: None,
        options: String::new(),
        script: String::new(),
        secret: String::new(),
        otpauth: String::new(),
        qr: None,
    }
}

/// The email set-up page: the address the sign-in codes go to (MFA_SETUP answered with EMAIL,
/// then the code sent there, as Amplify sets email MFA up).
fn email_setup_page(
    state: &AppState,
    v: &Visit,
    session: String,
    username: String,
    error: Option<String>,
) -> ChallengePage {
    ChallengePage {
        error,
        ..mfa_setup_form(
            state,
            v,
            session,
            username,
            "Set up sign-in codes by email",
            "Enter the email address your sign-in codes should go to. We will send a code to confirm it.",
            "email_setup",
        )
    }
}

/// MFA_SETUP: the user has no second factor yet and the pool requires one. An authenticator
/// app (QR code) or email codes, whichever the pool allows; the choice first when both.
async fn mfa_setup_page(
    state: &AppState,
    v: &Visit,
    session: String,
    username: String,
    parameters: &BTreeMap<String, String>,
) -> Response {
    let can = parameters
        .get("MFAS_CAN_SETUP")
        .and_then(|l| serde_json::from_str::<Vec<String>>(l).ok())
        .unwrap_or_default();
    let totp = can.iter().any(|f| f == "SOFTWARE_TOKEN_MFA");
    let email = can.iter().any(|f| f == "EMAIL_OTP");
    match (totp, email) {
        (true, true) => render(&ChallengePage {
            factors: vec![
                ("SOFTWARE_TOKEN_MFA".into(), factor_label("SOFTWARE_TOKEN_MFA")),
                ("EMAIL_OTP".into(), factor_label("EMAIL_OTP")),
            ],
            ..mfa_setup_form(
                state,
                v,
                session,
                username,
                "Set up a second sign-in step",
                "How do you want to confirm it is you when you sign in?",
                "select",
            )
        }),
        (true, false) => totp_setup_answer(state, v, &session, username).await,
        (false, true) => render(&email_setup_page(state, v, session, username, None)),
        (false, false) => error_response(
            StatusCode::BAD_REQUEST,
            "This account must finish setting up multi-factor authentication in the app before it can sign in here.",
        ),
    }
}

async fn totp_setup_answer(
    state: &AppState,
    v: &Visit,
    session: &str,
    username: String,
) -> Response {
    match totp_setup_page(state, v, session, username).await {
        Ok(page) => render(&page),
        Err(e) => {
            let (status, message) = step_error(e);
            error_response(status, &message)
        }
    }
}

fn factor_label(name: &str) -> &'static str {
    match name {
        "SOFTWARE_TOKEN_MFA" => "Authenticator app",
        "SMS_MFA" => "Text message",
        "EMAIL_OTP" => "Email",
        _ => "Other",
    }
}

/// The page for a challenge, or None for one the pages cannot answer.
fn challenge_page(
    state: &AppState,
    v: &Visit,
    name: &ChallengeNameType,
    session: String,
    parameters: &BTreeMap<String, String>,
    username: String,
    error: Option<String>,
) -> Option<ChallengePage> {
    let destination = parameters
        .get("CODE_DELIVERY_DESTINATION")
        .cloned()
        .unwrap_or_default();
    let (heading, prompt, kind) = match name {
        ChallengeNameType::SoftwareTokenMfa => (
            "Enter your authenticator code",
            "Enter the 6-digit code from your authenticator app.".to_string(),
            "code",
        ),
        ChallengeNameType::SmsMfa => (
            "Enter the code we texted you",
            format!("We sent a code to {destination}."),
            "code",
        ),
        ChallengeNameType::EmailOtp => (
            "Enter the code we emailed you",
            format!("We sent a code to {destination}."),
            "code",
        ),
        ChallengeNameType::SelectMfaType => (
            "Choose how to verify",
            "How do you want to receive your sign-in code?".to_string(),
            "select",
        ),
        ChallengeNameType::NewPasswordRequired => (
            "Choose a new password",
            "Your password must be changed before you continue.".to_string(),
            "new_password",
        ),
        ChallengeNameType::WebAuthn => (
            "Sign in with your passkey",
            "Use your passkey when your browser asks for it.".to_string(),
            "passkey",
        ),
        _ => return None,
    };
    let factors = parameters
        .get("MFAS_CAN_CHOOSE")
        .and_then(|l| serde_json::from_str::<Vec<String>>(l).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|f| {
            let label = factor_label(&f);
            (f, label)
        })
        .collect();
    Some(ChallengePage {
        heading,
        prompt,
        kind,
        action: v.action(state, "/login/challenge"),
        csrf: v.csrf.clone(),
        challenge: name.as_str().to_string(),
        session,
        username,
        factors,
        error,
        options: parameters
            .get("CREDENTIAL_REQUEST_OPTIONS")
            .cloned()
            .unwrap_or_default(),
        script: format!("{}/_gatehouse/hosted/passkey.js", base(state)),
        secret: String::new(),
        otpauth: String::new(),
        qr: None,
    })
}

#[derive(Template)]
#[template(path = "hosted/remember.html")]
struct RememberPage {
    action: String,
    csrf: String,
    prompt: String,
}

/// After a step: the next challenge's page, the remember-this-device question, or the redirect
/// back to the app; the device cookie rewritten when it changed.
async fn next_page(
    state: &AppState,
    v: &Visit,
    step: HostedStep,
    devices: BrowserDevices,
) -> Response {
    let core = state.api.core();
    let mut signed_in = None;
    let mut res = match step {
        HostedStep::Challenge {
            name: ChallengeNameType::MfaSetup,
            session,
            parameters,
            username,
        } => mfa_setup_page(state, v, session, username, &parameters).await,
        HostedStep::Challenge {
            name,
            session,
            parameters,
            username,
        } => match challenge_page(state, v, &name, session, &parameters, username, None) {
            Some(page) => render(&page),
            None => error_response(
                StatusCode::BAD_REQUEST,
                "This account must finish setting up multi-factor authentication in the app before it can sign in here.",
            ),
        },
        HostedStep::SignedIn { tokens, prompt } => {
            signed_in = core.seal_hosted_session(&v.authz.pool_id, &tokens);
            match core.complete_authorization(&v.authz, &tokens).await {
                Ok(redirect) => match prompt {
                    Some(prompt) => render(&RememberPage {
                        action: v.action(state, "/login/device"),
                        csrf: v.csrf.clone(),
                        prompt: core.seal_device_prompt(&prompt, &redirect),
                    }),
                    None => found(&redirect),
                },
                Err(e) => {
                    let (status, message) = step_error(e);
                    error_response(status, &message)
                }
            }
        }
    };
    if let Some(session) = signed_in {
        let name = session_cookie_name(&v.authz.pool_id);
        let age = gatehouse_core::oauth::hosted_session::HOSTED_SESSION_TTL_MS / 1000;
        set_cookie(&mut res, state, &name, &session, age);
    }
    if devices.changed() {
        let name = device_cookie_name(&v.authz.pool_id);
        let value = core.seal_browser_devices(&v.authz.pool_id, &devices);
        set_cookie(&mut res, state, &name, &value, DEVICE_COOKIE_AGE);
    }
    v.respond(state, res)
}

#[derive(Deserialize)]
struct ChallengeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    challenge: String,
    #[serde(default)]
    session: String,
    #[serde(default)]
    username: String,
    code: Option<String>,
    factor: Option<String>,
    new_password: Option<String>,
    /// Email MFA set-up: the address.
    email: Option<String>,
    /// WEB_AUTHN: the assertion, as JSON, and the request options the page carried.
    credential: Option<String>,
    options: Option<String>,
    /// TOTP set-up: shown again when a code is wrong.
    #[serde(default)]
    secret: String,
    #[serde(default)]
    otpauth: String,
}

async fn challenge(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(form): Form<ChallengeForm>,
) -> Response {
    let v = match poster(&state, &headers, peer, p, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let name = ChallengeNameType::parse(&form.challenge);
    if name == ChallengeNameType::MfaSetup {
        return match (form.email.is_some(), form.factor.as_deref()) {
            (true, _) => email_setup(&state, &v, &headers, form).await,
            (false, Some("EMAIL_OTP")) => v.respond(
                &state,
                render(&email_setup_page(
                    &state,
                    &v,
                    form.session,
                    form.username,
                    None,
                )),
            ),
            (false, Some("SOFTWARE_TOKEN_MFA")) => {
                let page = totp_setup_answer(&state, &v, &form.session, form.username).await;
                v.respond(&state, page)
            }
            _ => totp_setup(&state, &v, &headers, form).await,
        };
    }
    let mut answers = BTreeMap::new();
    match &name {
        ChallengeNameType::SoftwareTokenMfa => {
            answers.insert("SOFTWARE_TOKEN_MFA_CODE", form.code.clone());
        }
        ChallengeNameType::SmsMfa => {
            answers.insert("SMS_MFA_CODE", form.code.clone());
        }
        ChallengeNameType::EmailOtp => {
            answers.insert("EMAIL_OTP_CODE", form.code.clone());
        }
        ChallengeNameType::SelectMfaType => {
            answers.insert("ANSWER", form.factor.clone());
        }
        ChallengeNameType::NewPasswordRequired => {
            answers.insert("NEW_PASSWORD", form.new_password.clone());
        }
        ChallengeNameType::WebAuthn => {
            answers.insert("CREDENTIAL", form.credential.clone());
        }
        _ => return error_response(StatusCode::BAD_REQUEST, "Unknown sign-in step."),
    }
    let answers: BTreeMap<String, String> = answers
        .into_iter()
        .map(|(k, val)| (k.to_string(), val.unwrap_or_default().trim().to_string()))
        .collect();
    let mut devices = v.devices(&state, &headers);
    let step = state
        .api
        .core()
        .hosted_answer(
            &v.authz,
            name.clone(),
            &form.session,
            &form.username,
            answers,
            &mut devices,
            &v.caller,
        )
        .await;
    match step {
        Ok(step) => next_page(&state, &v, step, devices).await,
        Err(e) => {
            let expired = matches!(&e, CoreError::NotAuthorized(m) if m.contains("session"));
            let (status, message) = step_error(e);
            // A wrong code may be tried again on the same page while its session lives; a
            // refused passkey too, with the options the page carried.
            let mut kept = BTreeMap::new();
            if let Some(options) = form
                .options
                .clone()
                .filter(|_| name == ChallengeNameType::WebAuthn)
            {
                kept.insert("CREDENTIAL_REQUEST_OPTIONS".to_string(), options);
            }
            match challenge_page(
                &state,
                &v,
                &name,
                form.session.clone(),
                &kept,
                form.username.clone(),
                Some(message.clone()),
            ) {
                Some(page) if !expired => v.respond(&state, (status, render(&page))),
                _ => error_response(status, &message),
            }
        }
    }
}

/// The email set-up page's address: MFA_SETUP answered with EMAIL, then the code sent there.
async fn email_setup(
    state: &AppState,
    v: &Visit,
    headers: &HeaderMap,
    form: ChallengeForm,
) -> Response {
    let mut devices = v.devices(state, headers);
    let address = form.email.clone().unwrap_or_default().trim().to_string();
    let answers = BTreeMap::from([("EMAIL".to_string(), address)]);
    let step = state
        .api
        .core()
        .hosted_answer(
            &v.authz,
            ChallengeNameType::MfaSetup,
            &form.session,
            &form.username,
            answers,
            &mut devices,
            &v.caller,
        )
        .await;
    match step {
        Ok(step) => next_page(state, v, step, devices).await,
        Err(e) => {
            let retry = matches!(&e, CoreError::InvalidParameter(_));
            let (status, message) = step_error(e);
            if !retry {
                return error_response(status, &message);
            }
            let page = email_setup_page(state, v, form.session, form.username, Some(message));
            v.respond(state, (status, render(&page)))
        }
    }
}

/// The TOTP set-up page's code.
async fn totp_setup(
    state: &AppState,
    v: &Visit,
    headers: &HeaderMap,
    form: ChallengeForm,
) -> Response {
    let mut devices = v.devices(state, headers);
    let code = form.code.clone().unwrap_or_default();
    let step = state
        .api
        .core()
        .hosted_totp_setup(
            &v.authz,
            &form.session,
            &form.username,
            code.trim(),
            &mut devices,
            &v.caller,
        )
        .await;
    match step {
        Ok(step) => next_page(state, v, step, devices).await,
        Err(e) => {
            let retry = matches!(
                &e,
                CoreError::CodeMismatch(_) | CoreError::EnableSoftwareTokenMfa(_)
            );
            let (status, message) = step_error(e);
            if retry && !form.secret.is_empty() {
                let page = setup_page(
                    state,
                    v,
                    form.session,
                    form.username,
                    form.secret,
                    form.otpauth,
                    Some(message),
                );
                return v.respond(state, (status, render(&page)));
            }
            error_response(status, &message)
        }
    }
}

#[derive(Deserialize)]
struct RememberForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    prompt: String,
    #[serde(default)]
    remember: String,
}

async fn remember(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(form): Form<RememberForm>,
) -> Response {
    if let Err(page) = poster(&state, &headers, peer, p, &form.csrf).await {
        return page;
    }
    let remember = form.remember == "yes";
    match state
        .api
        .core()
        .answer_device_prompt(&form.prompt, remember)
        .await
    {
        Ok(redirect) => found(&redirect),
        Err(e) => {
            let (status, message) = step_error(e);
            error_response(status, &message)
        }
    }
}
