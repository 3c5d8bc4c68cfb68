//! A pool's users: the list with its search and the Create user form, the pool's groups, and a
//! user's page: enable or disable, reset the password, delete, attributes, groups, MFA, devices,
//! sessions (where the pool tracks them) and their revocation, passkeys, sign-in events and their
//! feedback (where the pool records them), and (with `--dev`) the messages sent to the user.

use super::*;
use gatehouse_wire::{AdminListUserSessionsRequest, AdminRevokeUserSessionRequest, GroupType};

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/console/pools/{id}/users",
            get(users_page).post(create_user),
        )
        .route(
            "/console/pools/{id}/groups",
            get(groups_page).post(create_group),
        )
        .route("/console/pools/{id}/users/{username}", get(user_page))
        .route(
            "/console/pools/{id}/users/{username}/disable",
            post(disable_user),
        )
        .route(
            "/console/pools/{id}/users/{username}/enable",
            post(enable_user),
        )
        .route(
            "/console/pools/{id}/users/{username}/reset-password",
            post(reset_password),
        )
        .route(
            "/console/pools/{id}/users/{username}/delete",
            post(delete_user),
        )
        .route(
            "/console/pools/{id}/users/{username}/attributes",
            post(save_attribute),
        )
        .route(
            "/console/pools/{id}/users/{username}/attributes/delete",
            post(delete_attribute),
        )
        .route(
            "/console/pools/{id}/users/{username}/mfa/reset",
            post(reset_mfa),
        )
        .route(
            "/console/pools/{id}/users/{username}/groups/add",
            post(add_to_group),
        )
        .route(
            "/console/pools/{id}/users/{username}/groups/remove",
            post(remove_from_group),
        )
        .route(
            "/console/pools/{id}/users/{username}/devices/{key}/forget",
            post(forget_device),
        )
        .route(
            "/console/pools/{id}/users/{username}/devices/{key}/status",
            post(set_device_status),
        )
        .route(
            "/console/pools/{id}/users/{username}/events/{event}/feedback",
            post(event_feedback),
        )
        .route(
            "/console/pools/{id}/users/{username}/sessions/{session}/revoke",
            post(revoke_session),
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
    read_only: bool,
    shown: UsersPageState,
}

/// What the users page shows besides the list: a notice, and the Create user form as posted
/// with the API's message beside it.
struct UsersPageState {
    notice: Option<String>,
    new_username: String,
    new_email: String,
    invite: bool,
    create_error: Option<String>,
}

impl Default for UsersPageState {
    fn default() -> Self {
        UsersPageState {
            notice: None,
            new_username: String::new(),
            new_email: String::new(),
            // An invitation is what AdminCreateUser does unless told otherwise.
            invite: true,
            create_error: None,
        }
    }
}

#[derive(Deserialize, Default)]
struct UsersQuery {
    #[serde(default)]
    q: String,
    next: Option<String>,
    notice: Option<String>,
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

fn users_notice(code: &str) -> &'static str {
    match code {
        "deleted" => "The user was deleted.",
        _ => "",
    }
}

async fn users_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(mut q): Query<UsersQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let shown = UsersPageState {
        notice: q
            .notice
            .take()
            .as_deref()
            .map(users_notice)
            .map(str::to_string),
        ..Default::default()
    };
    users_view(&state, &v, &id, q, shown).await
}

async fn users_view(
    state: &AppState,
    v: &Visitor,
    id: &str,
    q: UsersQuery,
    shown: UsersPageState,
) -> Response {
    let core = state.api.core();
    let pool = async {
        v.may(core, Operation::ListUsers, Some(id))?;
        Ok::<_, ApiError>(core.user_pool_record(id).await?)
    }
    .await;
    let pool = match pool {
        Ok(p) => p,
        Err(e) => return api_refusal(state, v, &e),
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
    let status = if error.is_some() || shown.create_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = UsersPage {
        chrome: Chrome::of(state, v),
        pool_id: pool.id,
        pool_name: pool.pool.name.unwrap_or_default(),
        q: q.q,
        users,
        next_token,
        error,
        read_only: v.read_only(),
        shown,
    };
    v.respond(state, (status, render(&page)))
}

#[derive(Deserialize)]
struct CreateUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    /// Present (as "on") only when ticked.
    invite: Option<String>,
    #[serde(default)]
    temporary_password: String,
}

/// AdminCreateUser: with an invitation (the API's default message action, by email when an
/// address is given) or with MessageAction SUPPRESS; then on to the new user's page.
async fn create_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CreateUserForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let invite = form.invite.is_some();
    let email = form.email.trim();
    let created = async {
        v.may(core, Operation::AdminCreateUser, Some(&id))?;
        let mut body = serde_json::json!({ "UserPoolId": id, "Username": form.username });
        if !email.is_empty() {
            body["UserAttributes"] = serde_json::json!([{ "Name": "email", "Value": email }]);
        }
        if !invite {
            body["MessageAction"] = "SUPPRESS".into();
        } else if !email.is_empty() {
            // The API's default medium is SMS; the form asks for an email address.
            body["DesiredDeliveryMediums"] = serde_json::json!(["EMAIL"]);
        }
        if !form.temporary_password.is_empty() {
            body["TemporaryPassword"] = form.temporary_password.as_str().into();
        }
        let created = core
            .admin_create_user(api_request::<raw::AdminCreateUserRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(
            created
                .user
                .and_then(|u| u.username)
                .unwrap_or_else(|| form.username.clone()),
        )
    }
    .await;
    match created {
        Ok(username) => {
            let to = format!(
                "{}/pools/{id}/users/{}?notice=created",
                base(&state),
                urlencode(&username)
            );
            v.respond(&state, Redirect::to(&to))
        }
        Err(e) if e.code == "AccessDeniedException" => api_refusal(&state, &v, &e),
        Err(e) => {
            let shown = UsersPageState {
                notice: None,
                new_username: form.username.clone(),
                new_email: form.email.clone(),
                invite,
                create_error: Some(e.message),
            };
            users_view(&state, &v, &id, UsersQuery::default(), shown).await
        }
    }
}

// ---- the pool's groups ----

struct GroupRow {
    name: String,
    description: String,
    precedence: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/groups.html")]
struct GroupsPage {
    chrome: Chrome,
    pool_id: String,
    pool_name: String,
    groups: Vec<GroupRow>,
    next_token: Option<String>,
    read_only: bool,
    notice: Option<String>,
    group_name: String,
    description: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct GroupsQuery {
    next: Option<String>,
    notice: Option<String>,
}

/// The Create group form as posted, with the API's message.
#[derive(Default)]
struct GroupsPageState {
    notice: Option<String>,
    group_name: String,
    description: String,
    error: Option<String>,
}

async fn groups_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<GroupsQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = (q.notice.as_deref() == Some("created")).then(|| "The group was created.".into());
    let shown = GroupsPageState {
        notice,
        ..Default::default()
    };
    groups_view(&state, &v, &id, q.next, shown).await
}

async fn groups_view(
    state: &AppState,
    v: &Visitor,
    id: &str,
    next: Option<String>,
    shown: GroupsPageState,
) -> Response {
    let core = state.api.core();
    let read = async {
        v.may(core, Operation::ListGroups, Some(id))?;
        let pool = core.user_pool_record(id).await?;
        let listed = core
            .list_groups(api_request::<raw::ListGroupsRequest, _>(
                serde_json::json!({ "UserPoolId": id, "Limit": 60, "NextToken": next }),
            )?)
            .await?;
        Ok::<_, ApiError>((pool, listed))
    }
    .await;
    let (pool, listed) = match read {
        Ok(r) => r,
        Err(e) => return api_refusal(state, v, &e),
    };
    let groups = listed
        .groups
        .unwrap_or_default()
        .into_iter()
        .map(|g| GroupRow {
            name: g.group_name.unwrap_or_default(),
            description: g.description.unwrap_or_default(),
            precedence: g.precedence.map(|p| p.to_string()).unwrap_or_default(),
            created: g.creation_date.map(date).unwrap_or_default(),
        })
        .collect();
    let status = if shown.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = GroupsPage {
        chrome: Chrome::of(state, v),
        pool_id: pool.id,
        pool_name: pool.pool.name.unwrap_or_default(),
        groups,
        next_token: listed.next_token,
        read_only: v.read_only(),
        notice: shown.notice,
        group_name: shown.group_name,
        description: shown.description,
        error: shown.error,
    };
    v.respond(state, (status, render(&page)))
}

#[derive(Deserialize)]
struct CreateGroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    group_name: String,
    #[serde(default)]
    description: String,
}

async fn create_group(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CreateGroupForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let created = async {
        v.may(core, Operation::CreateGroup, Some(&id))?;
        let mut body = serde_json::json!({ "UserPoolId": id, "GroupName": form.group_name });
        if !form.description.trim().is_empty() {
            body["Description"] = form.description.as_str().into();
        }
        core.create_group(api_request::<raw::CreateGroupRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match created {
        Ok(()) => {
            let to = format!("{}/pools/{id}/groups?notice=created", base(&state));
            v.respond(&state, Redirect::to(&to))
        }
        Err(e) if e.code == "AccessDeniedException" => api_refusal(&state, &v, &e),
        Err(e) => {
            let shown = GroupsPageState {
                notice: None,
                group_name: form.group_name,
                description: form.description,
                error: Some(e.message),
            };
            groups_view(&state, &v, &id, None, shown).await
        }
    }
}

// ---- one user ----

fn notice_text(code: &str) -> &'static str {
    match code {
        "created" => "The user was created.",
        "disabled" => "The user was disabled.",
        "enabled" => "The user was enabled.",
        "reset" => {
            "The password was reset: the user must set a new one with the code sent to them."
        }
        "attribute_saved" => "The attribute was saved.",
        "attribute_deleted" => "The attribute was deleted.",
        "mfa_reset" => "MFA was reset: no factor is enabled or preferred.",
        "group_added" => "The user was added to the group.",
        "group_removed" => "The user was removed from the group.",
        "forgotten" => "The device was forgotten.",
        "status" => "The device's status was changed.",
        "feedback" => "The event's feedback was saved.",
        "session_revoked" => "The session was revoked: its tokens no longer work.",
        _ => "",
    }
}

/// One of the user's sessions (AdminListUserSessions).
struct SessionRow {
    id: String,
    client: String,
    device: String,
    created: String,
    last_active: String,
    ip: String,
}

/// One of the user's passkeys.
struct PasskeyRow {
    name: String,
    relying_party: String,
    transports: String,
    created: String,
}

struct DeviceRow {
    key: String,
    name: String,
    remembered: bool,
    last_ip: String,
    last_sign_in: String,
    first_seen: String,
}

/// One sign-in event (AdminListUserAuthEvents).
struct EventRow {
    id: String,
    when: String,
    kind: String,
    response: String,
    risk: String,
    device: String,
    ip: String,
    feedback: String,
}

/// One message of the development outbox.
struct OutboxRow {
    sent: String,
    purpose: &'static str,
    medium: &'static str,
    destination: String,
    code: String,
    body: String,
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
    mfa_preferred: String,
    mfa_enabled: String,
    groups: Vec<String>,
    /// The pool's groups the user is not in.
    addable: Vec<String>,
    devices: Vec<DeviceRow>,
    /// `Some` where the pool tracks sessions.
    sessions: Option<Vec<SessionRow>>,
    passkeys: Vec<PasskeyRow>,
    /// `Some` where the pool records sign-in events (threat protection AUDIT or ENFORCED).
    events: Option<Vec<EventRow>>,
    /// The next page of events.
    events_next: Option<String>,
    /// `Some` in development mode only.
    outbox: Option<Vec<OutboxRow>>,
    read_only: bool,
    shown: UserPageState,
}

/// What a user page shows besides the user: a notice, or an action's error beside its form
/// (the attribute form keeps what was typed).
#[derive(Default)]
struct UserPageState {
    notice: Option<String>,
    status_error: Option<String>,
    password_error: Option<String>,
    delete_error: Option<String>,
    attribute_error: Option<String>,
    attr_name: String,
    attr_value: String,
    mfa_error: Option<String>,
    group_error: Option<String>,
    device_error: Option<String>,
    session_error: Option<String>,
    event_error: Option<String>,
    /// The page of events shown (its NextToken); None: the newest.
    events_page: Option<String>,
}

#[derive(Deserialize)]
struct UserQuery {
    notice: Option<String>,
    events: Option<String>,
}

async fn user_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    Query(q): Query<UserQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = q.notice.as_deref().map(notice_text).map(str::to_string);
    let shown = UserPageState {
        notice,
        events_page: q.events.filter(|t| !t.is_empty()),
        ..Default::default()
    };
    user_view(&state, &v, &id, &username, shown).await
}

fn names(groups: Option<Vec<GroupType>>) -> Vec<String> {
    groups
        .unwrap_or_default()
        .into_iter()
        .filter_map(|g| g.group_name)
        .collect()
}

async fn user_view(
    state: &AppState,
    v: &Visitor,
    id: &str,
    username: &str,
    shown: UserPageState,
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
                serde_json::json!({ "UserPoolId": id, "Username": user.username, "Limit": 60 }),
            )?;
            core.admin_list_devices(req)
                .await?
                .devices
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        v.may(core, Operation::AdminListGroupsForUser, Some(id))?;
        let groups = core
            .admin_list_groups_for_user(api_request::<raw::AdminListGroupsForUserRequest, _>(
                serde_json::json!({ "UserPoolId": id, "Username": user.username, "Limit": 60 }),
            )?)
            .await?
            .groups;
        v.may(core, Operation::ListGroups, Some(id))?;
        let pool_groups = core
            .list_groups(api_request::<raw::ListGroupsRequest, _>(
                serde_json::json!({ "UserPoolId": id, "Limit": 60 }),
            )?)
            .await?
            .groups;
        let outbox = if state.config.dev {
            Some(core.outbox(Some(id), Some(&user.username), 50).await?)
        } else {
            None
        };
        // Events exist only where the pool records them.
        let events = if records_events(&pool) {
            v.may(core, Operation::AdminListUserAuthEvents, Some(id))?;
            let mut body =
                serde_json::json!({ "UserPoolId": id, "Username": user.username, "MaxResults": 20 });
            if let Some(t) = &shown.events_page {
                body["NextToken"] = t.clone().into();
            }
            let req: AdminListUserAuthEventsRequest =
                api_request::<raw::AdminListUserAuthEventsRequest, _>(body)?;
            Some(core.admin_list_user_auth_events(req).await?)
        } else {
            None
        };
        // Sessions are listed where the pool tracks them; passkeys always.
        let sessions = if pool.sessions.tracking {
            v.may(core, Operation::AdminListUserSessions, Some(id))?;
            let req: AdminListUserSessionsRequest =
                api_request::<raw::AdminListUserSessionsRequest, _>(
                    serde_json::json!({ "UserPoolId": id, "Username": user.username }),
                )?;
            Some(core.admin_list_user_sessions(req).await?.sessions.unwrap_or_default())
        } else {
            None
        };
        let passkeys = core.console_passkeys(id, &user.username).await?;
        Ok::<_, ApiError>((
            pool,
            user,
            devices,
            names(groups),
            names(pool_groups),
            (events, outbox, sessions, passkeys),
        ))
    }
    .await;
    let (pool, user, devices, groups, pool_groups, (events, outbox, sessions, passkeys)) =
        match read {
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
    let sessions = sessions.map(|list| {
        list.into_iter()
            .map(|s| SessionRow {
                id: s.session_id.unwrap_or_default(),
                client: s.client_id.unwrap_or_default(),
                device: s.device_type.unwrap_or_default(),
                created: s.create_date.map(date).unwrap_or_default(),
                last_active: s.last_active_date.map(date).unwrap_or_default(),
                ip: s.last_ip_address.unwrap_or_default(),
            })
            .collect()
    });
    let passkeys = passkeys
        .into_iter()
        .map(|p| PasskeyRow {
            name: p.friendly_credential_name,
            relying_party: p.relying_party_id,
            transports: p.authenticator_transports.join(", "),
            created: date(p.created_at),
        })
        .collect();
    let events_next = events.as_ref().and_then(|e| e.next_token.clone());
    let events = events.map(|e| {
        e.auth_events
            .unwrap_or_default()
            .into_iter()
            .map(event_row)
            .collect()
    });
    let outbox = outbox.map(|messages| {
        messages
            .into_iter()
            .map(|m| OutboxRow {
                sent: date(m.created_at as f64 / 1000.0),
                purpose: m.purpose.as_str(),
                medium: m.medium.as_str(),
                destination: m.destination,
                code: m.code.unwrap_or_default(),
                body: m.body,
            })
            .collect()
    });
    let addable = pool_groups
        .into_iter()
        .filter(|g| !groups.contains(g))
        .collect();
    let failed = [
        &shown.status_error,
        &shown.password_error,
        &shown.delete_error,
        &shown.attribute_error,
        &shown.mfa_error,
        &shown.group_error,
        &shown.device_error,
        &shown.session_error,
        &shown.event_error,
    ]
    .iter()
    .any(|e| e.is_some());
    let status = if failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let none = || "none".to_string();
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
        mfa_preferred: user.preferred_mfa_setting.unwrap_or_else(none),
        mfa_enabled: user
            .user_mfa_setting_list
            .filter(|l| !l.is_empty())
            .map(|l| l.join(", "))
            .unwrap_or_else(none),
        groups,
        addable,
        devices,
        sessions,
        passkeys,
        events,
        events_next,
        outbox,
        read_only: v.read_only(),
        shown,
    };
    v.respond(state, (status, render(&page)))
}

/// After an action on a user: back to the user's page (or to `done`) saying what happened, or
/// the page again with the API's message beside the form concerned.
async fn user_action_answer(
    state: &AppState,
    v: &Visitor,
    (id, username): (&str, &str),
    result: Result<(), ApiError>,
    notice: &str,
    beside: impl FnOnce(String) -> UserPageState,
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
        Err(e) => user_view(state, v, id, username, beside(e.message)).await,
    }
}

/// The body of an admin operation on one user, with `more` members.
fn on_user(id: &str, username: &str, more: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({ "UserPoolId": id, "Username": username });
    if let (Some(b), serde_json::Value::Object(m)) = (body.as_object_mut(), more) {
        b.extend(m);
    }
    body
}

fn beside_status(e: String) -> UserPageState {
    UserPageState {
        status_error: Some(e),
        ..Default::default()
    }
}

async fn disable_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminDisableUser, Some(&id))?;
        let body = on_user(&id, &username, serde_json::json!({}));
        core.admin_disable_user(api_request::<raw::AdminDisableUserRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(
        &state,
        &v,
        (&id, &username),
        done,
        "disabled",
        beside_status,
    )
    .await
}

async fn enable_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminEnableUser, Some(&id))?;
        let body = on_user(&id, &username, serde_json::json!({}));
        core.admin_enable_user(api_request::<raw::AdminEnableUserRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(&state, &v, (&id, &username), done, "enabled", beside_status).await
}

async fn reset_password(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminResetUserPassword, Some(&id))?;
        let body = on_user(&id, &username, serde_json::json!({}));
        core.admin_reset_user_password(api_request::<raw::AdminResetUserPasswordRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(&state, &v, (&id, &username), done, "reset", |e| {
        UserPageState {
            password_error: Some(e),
            ..Default::default()
        }
    })
    .await
}

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    confirm: String,
}

async fn delete_user(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<ConfirmForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminDeleteUser, Some(&id))?;
        if form.confirm.trim() != username {
            return Err(ApiError::new(
                "InvalidParameterException",
                "Type the username exactly to delete the user.".to_string(),
            ));
        }
        let body = on_user(&id, &username, serde_json::json!({}));
        core.admin_delete_user(api_request::<raw::AdminDeleteUserRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match done {
        Ok(()) => {
            let to = format!("{}/pools/{id}/users?notice=deleted", base(&state));
            v.respond(&state, Redirect::to(&to))
        }
        Err(e) => {
            user_action_answer(&state, &v, (&id, &username), Err(e), "", |e| {
                UserPageState {
                    delete_error: Some(e),
                    ..Default::default()
                }
            })
            .await
        }
    }
}

#[derive(Deserialize)]
struct AttributeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

/// AdminUpdateUserAttributes with one attribute (a blank value removes it, as in the API).
async fn save_attribute(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<AttributeForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminUpdateUserAttributes, Some(&id))?;
        let body = on_user(
            &id,
            &username,
            serde_json::json!({
                "UserAttributes": [{ "Name": form.name.trim(), "Value": form.value }],
            }),
        );
        core.admin_update_user_attributes(api_request::<raw::AdminUpdateUserAttributesRequest, _>(
            body,
        )?)
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let AttributeForm { name, value, .. } = form;
    user_action_answer(&state, &v, (&id, &username), done, "attribute_saved", |e| {
        UserPageState {
            attribute_error: Some(e),
            attr_name: name,
            attr_value: value,
            ..Default::default()
        }
    })
    .await
}

#[derive(Deserialize)]
struct AttributeNameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

async fn delete_attribute(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<AttributeNameForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminDeleteUserAttributes, Some(&id))?;
        let body = on_user(
            &id,
            &username,
            serde_json::json!({ "UserAttributeNames": [form.name] }),
        );
        core.admin_delete_user_attributes(api_request::<raw::AdminDeleteUserAttributesRequest, _>(
            body,
        )?)
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(
        &state,
        &v,
        (&id, &username),
        done,
        "attribute_deleted",
        |e| UserPageState {
            attribute_error: Some(e),
            ..Default::default()
        },
    )
    .await
}

/// AdminSetUserMFAPreference with every factor (SMS, software token, email) neither enabled
/// nor preferred.
async fn reset_mfa(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminSetUserMFAPreference, Some(&id))?;
        let off = serde_json::json!({ "Enabled": false, "PreferredMfa": false });
        let body = on_user(
            &id,
            &username,
            serde_json::json!({
                "SMSMfaSettings": off,
                "SoftwareTokenMfaSettings": off,
                "EmailMfaSettings": off,
            }),
        );
        core.admin_set_user_mfa_preference(
            api_request::<raw::AdminSetUserMFAPreferenceRequest, _>(body)?,
        )
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(&state, &v, (&id, &username), done, "mfa_reset", |e| {
        UserPageState {
            mfa_error: Some(e),
            ..Default::default()
        }
    })
    .await
}

#[derive(Deserialize)]
struct GroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    group: String,
}

fn beside_groups(e: String) -> UserPageState {
    UserPageState {
        group_error: Some(e),
        ..Default::default()
    }
}

async fn add_to_group(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<GroupForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminAddUserToGroup, Some(&id))?;
        let body = on_user(
            &id,
            &username,
            serde_json::json!({ "GroupName": form.group }),
        );
        core.admin_add_user_to_group(api_request::<raw::AdminAddUserToGroupRequest, _>(body)?)
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(
        &state,
        &v,
        (&id, &username),
        done,
        "group_added",
        beside_groups,
    )
    .await
}

async fn remove_from_group(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username)): Path<(String, String)>,
    ConsoleForm(form): ConsoleForm<GroupForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminRemoveUserFromGroup, Some(&id))?;
        let body = on_user(
            &id,
            &username,
            serde_json::json!({ "GroupName": form.group }),
        );
        core.admin_remove_user_from_group(api_request::<raw::AdminRemoveUserFromGroupRequest, _>(
            body,
        )?)
        .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(
        &state,
        &v,
        (&id, &username),
        done,
        "group_removed",
        beside_groups,
    )
    .await
}

// ---- the user's devices ----

fn beside_sessions(e: String) -> UserPageState {
    UserPageState {
        session_error: Some(e),
        ..Default::default()
    }
}

/// AdminRevokeUserSession: the session's tokens stop working at once.
async fn revoke_session(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username, session)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminRevokeUserSession, Some(&id))?;
        let req: AdminRevokeUserSessionRequest =
            api_request::<raw::AdminRevokeUserSessionRequest, _>(
                serde_json::json!({ "UserPoolId": id, "Username": username, "SessionId": session }),
            )?;
        core.admin_revoke_user_session(req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(
        &state,
        &v,
        (&id, &username),
        done,
        "session_revoked",
        beside_sessions,
    )
    .await
}

fn beside_devices(e: String) -> UserPageState {
    UserPageState {
        device_error: Some(e),
        ..Default::default()
    }
}
/// AdminForgetDevice: the device key is a path segment, as the link carries it.
async fn forget_device(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username, key)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
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
    user_action_answer(
        &state,
        &v,
        (&id, &username),
        done,
        "forgotten",
        beside_devices,
    )
    .await
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
    ConsoleForm(form): ConsoleForm<DeviceStatusForm>,
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
    user_action_answer(&state, &v, (&id, &username), done, "status", beside_devices).await
}

/// An event as its row shows it.
fn event_row(e: AuthEventType) -> EventRow {
    let context = e.event_context_data.unwrap_or_default();
    let risk = e.event_risk.unwrap_or_default();
    let risk = match (risk.risk_level, risk.risk_decision) {
        (Some(level), Some(decision)) => format!("{level} ({decision})"),
        (None, Some(decision)) => decision.to_string(),
        (level, None) => level.map(|l| l.to_string()).unwrap_or_default(),
    };
    EventRow {
        id: e.event_id.unwrap_or_default(),
        when: e.creation_date.map(date).unwrap_or_default(),
        kind: e.event_type.map(|t| t.to_string()).unwrap_or_default(),
        response: e.event_response.map(|r| r.to_string()).unwrap_or_default(),
        risk,
        device: context.device_name.unwrap_or_default(),
        ip: context.ip_address.unwrap_or_default(),
        feedback: e
            .event_feedback
            .map(|f| f.feedback_value.to_string())
            .unwrap_or_default(),
    }
}

#[derive(Deserialize)]
struct FeedbackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    value: String,
}

/// AdminUpdateAuthEventFeedback: the operator marks an event Valid or Invalid.
async fn event_feedback(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, username, event)): Path<(String, String, String)>,
    ConsoleForm(form): ConsoleForm<FeedbackForm>,
) -> Response {
    let v = match poster(&state, &headers, &form.csrf).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let done = async {
        v.may(core, Operation::AdminUpdateAuthEventFeedback, Some(&id))?;
        let req: AdminUpdateAuthEventFeedbackRequest =
            api_request::<raw::AdminUpdateAuthEventFeedbackRequest, _>(serde_json::json!({
                "UserPoolId": id,
                "Username": username,
                "EventId": event,
                "FeedbackValue": form.value,
            }))?;
        core.admin_update_auth_event_feedback(req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    user_action_answer(&state, &v, (&id, &username), done, "feedback", |e| {
        UserPageState {
            event_error: Some(e),
            ..Default::default()
        }
    })
    .await
}
