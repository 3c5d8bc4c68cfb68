//! The pools list and a pool's page: its settings, section by section, and its deletion.

use super::*;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/", get(pools_page).post(create_pool))
        .route("/console/pools/{id}", get(pool_page))
        .route(
            "/console/pools/{id}/device-tracking",
            post(save_device_tracking),
        )
        .route("/console/pools/{id}/delete", post(delete_pool))
}

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
    Query(q): Query<NoticeQuery>,
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
        core.set_device_configuration(&id, config, SeenVersion(Some(form.version)))
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
