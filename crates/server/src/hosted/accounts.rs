//! The hosted pages for accounts: sign-up and its confirmation code (`/signup`, `/confirmUser`),
//! and the forgotten password (`/forgotPassword`, `/confirmForgotPassword`). Each form's input is
//! decoded and validated as the API's request would be, then handed to the core function the
//! API calls (with the client's SECRET_HASH added by core). Success leads back to the sign-in
//! page with the same authorization parameters.

use gatehouse_wire::{
    raw, ConfirmForgotPasswordRequest, ConfirmSignUpRequest, ForgotPasswordRequest, SignUpRequest,
};
use serde_json::json;

use super::*;
use crate::console::api_request;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/signup", get(sign_up_page).post(sign_up))
        .route("/confirmUser", axum::routing::post(confirm_user))
        .route("/forgotPassword", get(forgot_page).post(forgot))
        .route(
            "/confirmForgotPassword",
            axum::routing::post(confirm_forgot),
        )
}

struct Field {
    label: String,
    name: String,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
}

fn field(label: &str, name: &str, kind: &'static str, autocomplete: &'static str) -> Field {
    Field {
        label: label.into(),
        name: name.into(),
        kind,
        autocomplete,
        value: String::new(),
    }
}

/// "email" → "Email", "custom:team" → "Team", "phone_number" → "Phone number".
fn attribute_label(name: &str) -> String {
    let bare = name.rsplit(':').next().unwrap_or(name).replace('_', " ");
    let mut chars = bare.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn attribute_field(name: &str) -> Field {
    let (kind, autocomplete) = match name {
        "email" => ("email", "email"),
        "phone_number" => ("tel", "tel"),
        "name" => ("text", "name"),
        _ => ("text", "off"),
    };
    Field {
        label: attribute_label(name),
        name: format!("attr.{name}"),
        kind,
        autocomplete,
        value: String::new(),
    }
}

#[derive(Template)]
#[template(path = "hosted/form.html")]
struct FormPage {
    heading: &'static str,
    prompt: String,
    action: String,
    csrf: String,
    hidden: Vec<(String, String)>,
    fields: Vec<Field>,
    button: &'static str,
    error: Option<String>,
    /// Links under the form: the client's terms on the sign-up page (crates/core/src/terms.rs).
    links: Vec<(&'static str, String)>,
}

async fn sign_up_form(
    state: &AppState,
    v: &Visit,
    error: Option<String>,
    values: &[(String, String)],
) -> Response {
    let attributes = match state.api.core().hosted_sign_up_fields(&v.authz).await {
        Ok(a) => a,
        Err(e) => return error_response(step_error(e).0, "Sign-up is unavailable right now."),
    };
    let mut fields = vec![
        field("Username", "username", "text", "username"),
        field("Password", "password", "password", "new-password"),
    ];
    fields.extend(attributes.iter().map(|a| attribute_field(a)));
    for f in &mut fields {
        if f.kind != "password" {
            if let Some((_, value)) = values.iter().find(|(k, _)| *k == f.name) {
                f.value = value.clone();
            }
        }
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let links = state
        .api
        .core()
        .sign_up_terms_links(&v.authz.pool_id, &v.authz.client_id)
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "the client's terms could not be read");
            Vec::new()
        });
    let page = FormPage {
        heading: "Sign up",
        prompt: String::new(),
        action: v.action(state, "/signup"),
        csrf: v.csrf.clone(),
        hidden: Vec::new(),
        fields,
        button: "Sign up",
        error,
        links,
    };
    v.respond(state, (status, render(&page)))
}

async fn sign_up_page(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    match visit(&state, &headers, peer, p).await {
        Ok(v) => sign_up_form(&state, &v, None, &[]).await,
        Err(page) => page,
    }
}

/// A posted form as (name, value) pairs: the sign-up form's attribute fields vary.
type Pairs = Form<Vec<(String, String)>>;

fn value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

fn login_with(state: &AppState, v: &Visit, username: &str, notice: &str) -> Response {
    let page = LoginPage {
        username: username.to_string(),
        notice: Some(notice.to_string()),
        ..LoginPage::new(state, v)
    };
    v.respond(state, render(&page))
}

fn code_form(
    state: &AppState,
    v: &Visit,
    path: &str,
    username: &str,
    prompt: String,
    with_password: bool,
    error: Option<String>,
) -> Response {
    let mut fields = vec![field("Code", "code", "text", "one-time-code")];
    if with_password {
        fields.push(field(
            "New password",
            "password",
            "password",
            "new-password",
        ));
    }
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = FormPage {
        heading: if with_password {
            "Reset your password"
        } else {
            "Confirm your account"
        },
        prompt,
        action: v.action(state, path),
        csrf: v.csrf.clone(),
        hidden: vec![("username".into(), username.to_string())],
        fields,
        button: "Continue",
        error,
        links: Vec::new(),
    };
    v.respond(state, (status, render(&page)))
}

fn delivery_prompt(destination: Option<String>) -> String {
    match destination {
        Some(d) => format!("We sent a code to {d}."),
        None => "We sent you a code.".into(),
    }
}

async fn sign_up(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(pairs): Pairs,
) -> Response {
    let v = match poster(&state, &headers, peer, p, value(&pairs, "csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let username = value(&pairs, "username").trim().to_string();
    let attributes: Vec<_> = pairs
        .iter()
        .filter_map(|(k, val)| {
            k.strip_prefix("attr.")
                .map(|n| json!({"Name": n, "Value": val.trim()}))
        })
        .collect();
    let body = json!({
        "ClientId": v.authz.client_id,
        "Username": username,
        "Password": value(&pairs, "password"),
        "UserAttributes": attributes,
    });
    let result = match api_request::<raw::SignUpRequest, SignUpRequest>(body) {
        Ok(req) => state
            .api
            .core()
            .hosted_sign_up(&v.caller, &v.authz, req)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(r) if r.user_confirmed => {
            login_with(&state, &v, &username, "Your account is ready. Sign in.")
        }
        Ok(r) => {
            let to = r.code_delivery_details.and_then(|d| d.destination);
            code_form(
                &state,
                &v,
                "/confirmUser",
                &username,
                delivery_prompt(to),
                false,
                None,
            )
        }
        Err(e) => sign_up_form(&state, &v, Some(visible_message(e)), &pairs).await,
    }
}

/// What a refused request tells the user: the API's message, never an internal cause.
fn visible_message(e: ApiError) -> String {
    if e.status() >= 500 {
        tracing::error!(code = %e.code, message = %e.message, "hosted account page failed");
        return "This is unavailable right now. Try again in a moment.".into();
    }
    e.message
}

async fn confirm_user(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(pairs): Pairs,
) -> Response {
    let v = match poster(&state, &headers, peer, p, value(&pairs, "csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let username = value(&pairs, "username").to_string();
    let body = json!({
        "ClientId": v.authz.client_id,
        "Username": username,
        "ConfirmationCode": value(&pairs, "code").trim(),
    });
    let result = match api_request::<raw::ConfirmSignUpRequest, ConfirmSignUpRequest>(body) {
        Ok(req) => state
            .api
            .core()
            .hosted_confirm_sign_up(&v.authz, req)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => login_with(&state, &v, &username, "Your account is confirmed. Sign in."),
        Err(e) => code_form(
            &state,
            &v,
            "/confirmUser",
            &username,
            String::new(),
            false,
            Some(visible_message(e)),
        ),
    }
}

fn forgot_form(state: &AppState, v: &Visit, error: Option<String>) -> Response {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = FormPage {
        heading: "Forgot your password?",
        prompt: "We will send a code to reset it.".into(),
        action: v.action(state, "/forgotPassword"),
        csrf: v.csrf.clone(),
        hidden: Vec::new(),
        fields: vec![field("Username", "username", "text", "username")],
        button: "Continue",
        error,
        links: Vec::new(),
    };
    v.respond(state, (status, render(&page)))
}

async fn forgot_page(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    match visit(&state, &headers, peer, p).await {
        Ok(v) => forgot_form(&state, &v, None),
        Err(page) => page,
    }
}

async fn forgot(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(pairs): Pairs,
) -> Response {
    let v = match poster(&state, &headers, peer, p, value(&pairs, "csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let username = value(&pairs, "username").trim().to_string();
    let body = json!({"ClientId": v.authz.client_id, "Username": username});
    let result = match api_request::<raw::ForgotPasswordRequest, ForgotPasswordRequest>(body) {
        Ok(req) => state
            .api
            .core()
            .hosted_forgot_password(&v.caller, &v.authz, req)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(r) => {
            let to = r.code_delivery_details.and_then(|d| d.destination);
            code_form(
                &state,
                &v,
                "/confirmForgotPassword",
                &username,
                delivery_prompt(to),
                true,
                None,
            )
        }
        Err(e) => forgot_form(&state, &v, Some(visible_message(e))),
    }
}

async fn confirm_forgot(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
    Form(pairs): Pairs,
) -> Response {
    let v = match poster(&state, &headers, peer, p, value(&pairs, "csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let username = value(&pairs, "username").to_string();
    let body = json!({
        "ClientId": v.authz.client_id,
        "Username": username,
        "ConfirmationCode": value(&pairs, "code").trim(),
        "Password": value(&pairs, "password"),
    });
    let result = match api_request::<raw::ConfirmForgotPasswordRequest, ConfirmForgotPasswordRequest>(
        body,
    ) {
        Ok(req) => state
            .api
            .core()
            .hosted_confirm_forgot_password(&v.caller, &v.authz, req)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => login_with(&state, &v, &username, "Your password is changed. Sign in."),
        Err(e) => code_form(
            &state,
            &v,
            "/confirmForgotPassword",
            &username,
            String::new(),
            true,
            Some(visible_message(e)),
        ),
    }
}
