//! A pool's users: the list with its search, and a user's page with their devices.

use super::*;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
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
}

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

fn notice_text(code: &str) -> &'static str {
    match code {
        "forgotten" => "The device was forgotten.",
        "status" => "The device's status was changed.",
        _ => "",
    }
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
    Query(q): Query<NoticeQuery>,
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
