//! A pool's app clients: the list, creating one (its secret shown once), editing and deleting.
//!
//! The forms set a client's name, its auth flows and its token lifetimes. A save is
//! UpdateUserPoolClient with every other member the client holds given again
//! ([`update_request`]), so what was set through the API (OAuth, attributes, …) survives it, and
//! it names the version of the client the form was drawn from, so a stale form is refused.

use super::*;
use gatehouse_wire::{
    CreateUserPoolClientRequest, DeleteUserPoolClientRequest, ListUserPoolClientsRequest,
    TimeUnitsType, UpdateUserPoolClientRequest, UserPoolClientSettings, UserPoolClientType,
};
use serde_json::json;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/console/pools/{id}/clients",
            get(clients_page).post(create_client),
        )
        .route(
            "/console/pools/{id}/clients/{client_id}",
            get(client_page).post(save_client),
        )
        .route(
            "/console/pools/{id}/clients/{client_id}/delete",
            post(delete_client),
        )
}

/// The auth flows the forms offer, by their API names.
const FLOWS: [&str; 6] = [
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_AUTH",
];

/// A posted form's fields as sent. Read as text, so no input fails to decode: numbers are
/// parsed here and a bad one is answered beside its field.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// What the create and edit forms hold, as typed (kept when the form is refused).
#[derive(Clone)]
struct ClientInput {
    name: String,
    generate_secret: bool,
    flows: Vec<String>,
    /// Minutes.
    access: String,
    /// Minutes.
    id: String,
    /// Days.
    refresh: String,
}

impl ClientInput {
    /// A new client's form: Cognito's default lifetimes, SRP and refresh-token sign-in.
    fn new_client() -> ClientInput {
        ClientInput {
            name: String::new(),
            generate_secret: false,
            flows: vec![
                "ALLOW_USER_SRP_AUTH".into(),
                "ALLOW_REFRESH_TOKEN_AUTH".into(),
            ],
            access: "60".into(),
            id: "60".into(),
            refresh: "30".into(),
        }
    }

    /// The edit form of `client`, as stored.
    fn of(client: &UserPoolClientType) -> ClientInput {
        let units = client.token_validity_units.clone().unwrap_or_default();
        ClientInput {
            name: client.client_name.clone().unwrap_or_default(),
            generate_secret: client.client_secret.is_some(),
            flows: client
                .explicit_auth_flows
                .iter()
                .flatten()
                .map(|f| f.as_str().to_string())
                .collect(),
            access: in_unit(
                client.access_token_validity,
                units.access_token.unwrap_or(TimeUnitsType::Hours),
                60,
            ),
            id: in_unit(
                client.id_token_validity,
                units.id_token.unwrap_or(TimeUnitsType::Hours),
                60,
            ),
            refresh: in_unit(
                client.refresh_token_validity,
                units.refresh_token.unwrap_or(TimeUnitsType::Days),
                86_400,
            ),
        }
    }

    fn from_fields(f: &Fields) -> ClientInput {
        ClientInput {
            name: f.get("name").to_string(),
            generate_secret: !f.get("generate_secret").is_empty(),
            flows: f
                .all("flow")
                .into_iter()
                .filter(|x| FLOWS.contains(&x.as_str()))
                .collect(),
            access: f.get("access").to_string(),
            id: f.get("id_token").to_string(),
            refresh: f.get("refresh").to_string(),
        }
    }

    /// The checkboxes: each flow the forms offer, ticked or not.
    fn flow_boxes(&self) -> Vec<(&'static str, bool)> {
        FLOWS
            .iter()
            .map(|f| (*f, self.flows.iter().any(|g| g == f)))
            .collect()
    }

    /// The three lifetimes as numbers, or what is wrong beside each field. `None`: left empty
    /// (the default) or, on an edit form, left as `stored` shows it (which may be no whole
    /// number in the form's unit). Their range is the API's to check.
    fn lifetimes(&self, stored: Option<&ClientInput>) -> Result<[Option<i64>; 3], FieldErrors> {
        let number = |text: &str, shown: Option<&String>, unit: &str| {
            let t = text.trim();
            if t.is_empty() || shown.is_some_and(|s| s == t) {
                Ok(None)
            } else {
                // The API's integers are 32-bit: a larger number is no lifetime either.
                t.parse::<i32>()
                    .map(|n| Some(n.into()))
                    .map_err(|_| format!("Enter a whole number of {unit}."))
            }
        };
        let access = number(&self.access, stored.map(|s| &s.access), "minutes");
        let id = number(&self.id, stored.map(|s| &s.id), "minutes");
        let refresh = number(&self.refresh, stored.map(|s| &s.refresh), "days");
        match (access, id, refresh) {
            (Ok(a), Ok(i), Ok(r)) => Ok([a, i, r]),
            (a, i, r) => Err(FieldErrors {
                access: a.err(),
                id: i.err(),
                refresh: r.err(),
                ..Default::default()
            }),
        }
    }
}

fn unit_seconds(unit: &TimeUnitsType) -> i64 {
    match unit {
        TimeUnitsType::Seconds => 1,
        TimeUnitsType::Minutes => 60,
        TimeUnitsType::Hours => 3600,
        _ => 86_400,
    }
}

/// A stored lifetime in the form's unit (`per` seconds): whole when it divides, else decimal.
fn in_unit(value: Option<i32>, unit: TimeUnitsType, per: i64) -> String {
    let Some(v) = value else {
        return String::new();
    };
    let s = v as i64 * unit_seconds(&unit);
    if s % per == 0 {
        (s / per).to_string()
    } else {
        (s as f64 / per as f64).to_string()
    }
}

/// A stored lifetime as the API holds it, for the settings shown.
fn lifetime_text(value: Option<i32>, unit: Option<&TimeUnitsType>) -> String {
    match (value, unit) {
        (Some(v), Some(u)) => format!("{v} {u}"),
        (Some(v), None) => v.to_string(),
        _ => "default".into(),
    }
}

/// Why a form was refused, beside the form or beside one of its fields.
#[derive(Default)]
struct FieldErrors {
    form: Option<String>,
    access: Option<String>,
    id: Option<String>,
    refresh: Option<String>,
}

impl FieldErrors {
    fn of(message: String) -> FieldErrors {
        FieldErrors {
            form: Some(message),
            ..Default::default()
        }
    }

    fn any(&self) -> bool {
        self.form.is_some() || self.access.is_some() || self.id.is_some() || self.refresh.is_some()
    }
}

fn units_json(access: &str, id: &str, refresh: &str) -> serde_json::Value {
    json!({ "AccessToken": access, "IdToken": id, "RefreshToken": refresh })
}

fn flows_json(flows: &[String]) -> serde_json::Value {
    if flows.is_empty() {
        serde_json::Value::Null
    } else {
        json!(flows)
    }
}

fn notice_text(code: &str) -> &'static str {
    match code {
        "saved" => "Saved.",
        "deleted" => "The app client was deleted.",
        _ => "",
    }
}

// ---- the list, and creating a client ----

struct ClientRow {
    id: String,
    name: String,
}

#[derive(Template)]
#[template(path = "console/clients.html")]
struct ClientsPage {
    chrome: Chrome,
    pool_id: String,
    pool_name: String,
    clients: Vec<ClientRow>,
    next_token: Option<String>,
    list_error: Option<String>,
    form: ClientInput,
    flow_boxes: Vec<(&'static str, bool)>,
    errors: FieldErrors,
    read_only: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
struct ClientsQuery {
    next: Option<String>,
    notice: Option<String>,
}

async fn clients_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<ClientsQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = q.notice.as_deref().map(notice_text).map(str::to_string);
    clients_view(
        &state,
        &v,
        &id,
        q.next,
        ClientInput::new_client(),
        FieldErrors::default(),
        notice,
    )
    .await
}

async fn clients_view(
    state: &AppState,
    v: &Visitor,
    id: &str,
    next: Option<String>,
    form: ClientInput,
    errors: FieldErrors,
    notice: Option<String>,
) -> Response {
    let core = state.api.core();
    let pool = async {
        v.may(core, Operation::ListUserPoolClients, Some(id))?;
        Ok::<_, ApiError>(core.user_pool_record(id).await?)
    }
    .await;
    let pool = match pool {
        Ok(p) => p,
        Err(e) => return api_refusal(state, v, &e),
    };
    let listed = async {
        let req: ListUserPoolClientsRequest =
            api_request::<raw::ListUserPoolClientsRequest, _>(json!({
                "UserPoolId": id,
                "MaxResults": 60,
                "NextToken": next,
            }))?;
        Ok::<_, ApiError>(core.list_user_pool_clients(req).await?)
    }
    .await;
    let (clients, next_token, list_error) = match listed {
        Ok(l) => (l.user_pool_clients.unwrap_or_default(), l.next_token, None),
        Err(e) => (Vec::new(), None, Some(e.message)),
    };
    let clients = clients
        .into_iter()
        .map(|c| ClientRow {
            id: c.client_id.unwrap_or_default(),
            name: c.client_name.unwrap_or_default(),
        })
        .collect();
    let status = if errors.any() || list_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ClientsPage {
        chrome: Chrome::of(state, v),
        pool_id: pool.id,
        pool_name: pool.pool.name.unwrap_or_default(),
        clients,
        next_token,
        list_error,
        flow_boxes: form.flow_boxes(),
        form,
        errors,
        read_only: v.read_only(),
        notice,
    };
    v.respond(state, (status, render(&page)))
}

async fn create_client(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    ConsoleForm(fields): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(fields);
    let v = match poster(&state, &headers, fields.get("csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let input = ClientInput::from_fields(&fields);
    if let Err(e) = v.may(core, Operation::CreateUserPoolClient, Some(&id)) {
        return api_refusal(&state, &v, &e);
    }
    let [access, id_token, refresh] = match input.lifetimes(None) {
        Ok(l) => l,
        Err(errors) => return clients_view(&state, &v, &id, None, input, errors, None).await,
    };
    let created = async {
        let req: CreateUserPoolClientRequest =
            api_request::<raw::CreateUserPoolClientRequest, _>(json!({
                "UserPoolId": id,
                "ClientName": input.name,
                "GenerateSecret": input.generate_secret,
                "ExplicitAuthFlows": flows_json(&input.flows),
                "AccessTokenValidity": access,
                "IdTokenValidity": id_token,
                "RefreshTokenValidity": refresh,
                "TokenValidityUnits": units_json("minutes", "minutes", "days"),
            }))?;
        Ok::<_, ApiError>(core.create_user_pool_client(req).await?)
    }
    .await;
    match created {
        // The secret is shown this once, on the new client's page answered here.
        Ok(resp) => {
            let client = resp.user_pool_client.unwrap_or_default();
            let client_id = client.client_id.unwrap_or_default();
            let shown = ClientShown {
                secret: client.client_secret,
                ..Default::default()
            };
            client_view(&state, &v, &id, &client_id, shown).await
        }
        Err(e) if e.code == "AccessDeniedException" || e.code == "ResourceNotFoundException" => {
            api_refusal(&state, &v, &e)
        }
        Err(e) => {
            clients_view(
                &state,
                &v,
                &id,
                None,
                input,
                FieldErrors::of(e.message),
                None,
            )
            .await
        }
    }
}

// ---- one client ----

#[derive(Template)]
#[template(path = "console/client.html")]
struct ClientPage {
    chrome: Chrome,
    pool_id: String,
    pool_name: String,
    client_id: String,
    name: String,
    has_secret: bool,
    /// Only on the page that answers the creation.
    secret: Option<String>,
    settings: Vec<(&'static str, String)>,
    version: i64,
    form: ClientInput,
    flow_boxes: Vec<(&'static str, bool)>,
    errors: FieldErrors,
    delete_error: Option<String>,
    read_only: bool,
    notice: Option<String>,
}

/// What a client page shows besides the client: the form as typed when it was refused (with
/// the version it was drawn from), errors beside their section, a notice, the new secret.
#[derive(Default)]
struct ClientShown {
    typed: Option<(ClientInput, i64)>,
    errors: FieldErrors,
    delete_error: Option<String>,
    notice: Option<String>,
    secret: Option<String>,
}

async fn client_page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, client_id)): Path<(String, String)>,
    Query(q): Query<NoticeQuery>,
) -> Response {
    let v = match visitor(&state, &headers).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let notice = q.notice.as_deref().map(notice_text).map(str::to_string);
    let shown = ClientShown {
        notice,
        ..Default::default()
    };
    client_view(&state, &v, &id, &client_id, shown).await
}

fn list_text(items: Option<&[String]>) -> String {
    match items {
        Some(i) if !i.is_empty() => i.join(", "),
        _ => "none".into(),
    }
}

async fn client_view(
    state: &AppState,
    v: &Visitor,
    id: &str,
    client_id: &str,
    shown: ClientShown,
) -> Response {
    let core = state.api.core();
    let read = async {
        v.may(core, Operation::DescribeUserPoolClient, Some(id))?;
        let pool = core.user_pool_record(id).await?;
        let rec = core.app_client_record(id, client_id).await?;
        Ok::<_, ApiError>((pool, rec))
    }
    .await;
    let (pool, rec) = match read {
        Ok(r) => r,
        Err(e) => return api_refusal(state, v, &e),
    };
    let c = &rec.client;
    let units = c.token_validity_units.clone().unwrap_or_default();
    let flows: Vec<String> = c
        .explicit_auth_flows
        .iter()
        .flatten()
        .map(|f| f.as_str().to_string())
        .collect();
    let settings = vec![
        ("Client ID", rec.client_id.clone()),
        (
            "Has a client secret",
            if gatehouse_core::client_secrets::is_confidential(&rec) {
                "yes"
            } else {
                "no"
            }
            .into(),
        ),
        ("Auth flows", list_text(Some(&flows))),
        (
            "Access token validity",
            lifetime_text(c.access_token_validity, units.access_token.as_ref()),
        ),
        (
            "ID token validity",
            lifetime_text(c.id_token_validity, units.id_token.as_ref()),
        ),
        (
            "Refresh token validity",
            lifetime_text(c.refresh_token_validity, units.refresh_token.as_ref()),
        ),
        ("Callback URLs", list_text(c.callback_urls.as_deref())),
        (
            "OAuth flows",
            list_text(
                c.allowed_oauth_flows
                    .as_ref()
                    .map(|f| f.iter().map(|x| x.as_str().to_string()).collect::<Vec<_>>())
                    .as_deref(),
            ),
        ),
        ("OAuth scopes", list_text(c.allowed_oauth_scopes.as_deref())),
        ("Read attributes", list_text(c.read_attributes.as_deref())),
        ("Write attributes", list_text(c.write_attributes.as_deref())),
    ];
    let (form, version) = shown
        .typed
        .unwrap_or_else(|| (ClientInput::of(c), rec.version));
    let status = if shown.errors.any() || shown.delete_error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = ClientPage {
        chrome: Chrome::of(state, v),
        pool_id: pool.id,
        pool_name: pool.pool.name.unwrap_or_default(),
        client_id: rec.client_id.clone(),
        name: c.client_name.clone().unwrap_or_default(),
        has_secret: gatehouse_core::client_secrets::is_confidential(&rec),
        secret: shown.secret,
        settings,
        version,
        flow_boxes: form.flow_boxes(),
        form,
        errors: shown.errors,
        delete_error: shown.delete_error,
        read_only: v.read_only(),
        notice: shown.notice,
    };
    v.respond(state, (status, render(&page)))
}

/// After an action on a client: on to `done`, or a page that says why not (the client's page,
/// with the message beside the section that failed, when the client is there to show).
async fn client_action_answer(
    state: &AppState,
    v: &Visitor,
    (id, client_id): (&str, &str),
    result: Result<(), ApiError>,
    done: &str,
    beside: impl FnOnce(String) -> ClientShown,
) -> Response {
    match result {
        Ok(()) => v.respond(state, Redirect::to(done)),
        Err(e) if e.code == "AccessDeniedException" || e.code == "ResourceNotFoundException" => {
            api_refusal(state, v, &e)
        }
        Err(e) => client_view(state, v, id, client_id, beside(e.message)).await,
    }
}

async fn save_client(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, client_id)): Path<(String, String)>,
    ConsoleForm(fields): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(fields);
    let v = match poster(&state, &headers, fields.get("csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let input = ClientInput::from_fields(&fields);
    // A form without a version is as stale as one from an older version.
    let version: i64 = fields.get("version").trim().parse().unwrap_or(0);
    if let Err(e) = v.may(core, Operation::UpdateUserPoolClient, Some(&id)) {
        return api_refusal(&state, &v, &e);
    }
    let typed = Some((input.clone(), version));
    let rec = match core.app_client_record(&id, &client_id).await {
        Ok(r) => r,
        Err(e) => return api_refusal(&state, &v, &ApiError::from(e)),
    };
    let stored = ClientInput::of(&rec.client);
    let [access, id_token, refresh] = match input.lifetimes(Some(&stored)) {
        Ok(l) => l,
        Err(errors) => {
            let shown = ClientShown {
                typed,
                errors,
                ..Default::default()
            };
            return client_view(&state, &v, &id, &client_id, shown).await;
        }
    };
    let saved = async {
        // A lifetime left as shown keeps its stored value and unit (which the form's unit may
        // not express exactly); one changed is set in the form's unit.
        let units = rec.client.token_validity_units.clone().unwrap_or_default();
        let unit = |u: Option<TimeUnitsType>, default: TimeUnitsType| {
            u.unwrap_or(default).as_str().to_string()
        };
        let mut units = [
            unit(units.access_token, TimeUnitsType::Hours),
            unit(units.id_token, TimeUnitsType::Hours),
            unit(units.refresh_token, TimeUnitsType::Days),
        ];
        let mut changes = json!({
            "ClientName": input.name,
            // Flows the form does not offer (set through the API) are kept.
            "ExplicitAuthFlows": flows_json(
                &stored
                    .flows
                    .iter()
                    .filter(|f| !FLOWS.contains(&f.as_str()))
                    .chain(input.flows.iter())
                    .cloned()
                    .collect::<Vec<_>>(),
            ),
        });
        let lifetimes = [
            (
                "AccessTokenValidity",
                &input.access,
                &stored.access,
                access,
                "minutes",
            ),
            (
                "IdTokenValidity",
                &input.id,
                &stored.id,
                id_token,
                "minutes",
            ),
            (
                "RefreshTokenValidity",
                &input.refresh,
                &stored.refresh,
                refresh,
                "days",
            ),
        ];
        for (i, (member, typed, shown, value, form_unit)) in lifetimes.into_iter().enumerate() {
            if typed.trim() != shown.as_str() {
                changes[member] = json!(value);
                units[i] = form_unit.to_string();
            }
        }
        changes["TokenValidityUnits"] = units_json(&units[0], &units[1], &units[2]);
        let mut body = update_request(&rec.client, &UserPoolClientSettings::MEMBERS, changes);
        body["UserPoolId"] = json!(id);
        body["ClientId"] = json!(client_id);
        let req: UpdateUserPoolClientRequest =
            api_request::<raw::UpdateUserPoolClientRequest, _>(body)?;
        core.update_user_pool_client_as_seen(req, SeenVersion(Some(version)))
            .await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let done = format!(
        "{}/pools/{id}/clients/{}?notice=saved",
        base(&state),
        urlencode(&client_id)
    );
    client_action_answer(&state, &v, (&id, &client_id), saved, &done, |e| {
        ClientShown {
            typed,
            errors: FieldErrors::of(e),
            ..Default::default()
        }
    })
    .await
}

async fn delete_client(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, client_id)): Path<(String, String)>,
    ConsoleForm(fields): ConsoleForm<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(fields);
    let v = match poster(&state, &headers, fields.get("csrf")).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let core = state.api.core();
    let deleted = async {
        v.may(core, Operation::DeleteUserPoolClient, Some(&id))?;
        let rec = core.app_client_record(&id, &client_id).await?;
        if rec.client.client_name.as_deref() != Some(fields.get("confirm").trim()) {
            return Err(ApiError::new(
                "InvalidParameterException",
                "Type the app client's name exactly to delete it.".to_string(),
            ));
        }
        let req: DeleteUserPoolClientRequest = api_request::<raw::DeleteUserPoolClientRequest, _>(
            json!({ "UserPoolId": id, "ClientId": client_id }),
        )?;
        core.delete_user_pool_client(req).await?;
        Ok::<_, ApiError>(())
    }
    .await;
    let done = format!("{}/pools/{id}/clients?notice=deleted", base(&state));
    client_action_answer(&state, &v, (&id, &client_id), deleted, &done, |e| {
        ClientShown {
            delete_error: Some(e),
            ..Default::default()
        }
    })
    .await
}
