//! Signing in to the console with an admin key, and out.

use super::*;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/sign-in", get(sign_in_page).post(sign_in))
        .route("/console/sign-out", post(sign_out))
}

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
    ConsoleForm(form): ConsoleForm<SignInForm>,
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

async fn sign_out(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
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
