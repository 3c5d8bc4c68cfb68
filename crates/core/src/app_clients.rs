//! App clients: CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
//! DeleteUserPoolClient, ListUserPoolClients, with Cognito's defaults and rules for token
//! validity, auth flows, attributes and OAuth settings.

use std::collections::HashSet;

use gatehouse_wire::*;

use crate::console::SeenVersion;
use crate::store::AppClientRecord;
use crate::{ids, pagination, Core, CoreError, Result};

const CAS_ATTEMPTS: u32 = 5;
const LEGACY_FLOWS: &[ExplicitAuthFlowsType] = &[
    ExplicitAuthFlowsType::AdminNoSrpAuth,
    ExplicitAuthFlowsType::CustomAuthFlowOnly,
    ExplicitAuthFlowsType::UserPasswordAuth,
];

fn seconds(value: i32, unit: &TimeUnitsType) -> i64 {
    let v = value as i64;
    match unit {
        TimeUnitsType::Seconds => v,
        TimeUnitsType::Minutes => v * 60,
        TimeUnitsType::Hours => v * 3600,
        _ => v * 86_400,
    }
}

/// A token lifetime with its unit: what was given (unit defaulting as Cognito documents), or
/// the default lifetime.
fn validity(
    given: Option<i32>,
    unit: Option<TimeUnitsType>,
    given_default_unit: TimeUnitsType,
    default: (i32, TimeUnitsType),
    range: (i64, i64),
    what: &str,
) -> Result<(i32, TimeUnitsType)> {
    let (v, u) = match given {
        Some(v) => (v, unit.unwrap_or(given_default_unit)),
        None => match unit {
            // A unit without a value keeps the default lifetime, expressed in that unit.
            Some(u) => {
                let s = seconds(default.0, &default.1);
                let per = seconds(1, &u);
                ((s / per).max(1) as i32, u)
            }
            None => default,
        },
    };
    let s = seconds(v, &u);
    if s < range.0 || s > range.1 {
        return Err(CoreError::InvalidParameter(format!(
            "Invalid range for token validity: {what} must be between {} and {} seconds.",
            range.0, range.1
        )));
    }
    Ok((v, u))
}

/// Whether the client hides which users exist (PreventUserExistenceErrors = ENABLED).
pub(crate) fn prevents_existence_errors(client: &AppClientRecord) -> bool {
    client.client.prevent_user_existence_errors == Some(PreventUserExistenceErrorTypes::Enabled)
}

/// Cognito's answer when a public code operation (confirm sign-up, confirm a password reset)
/// names a user that does not exist: a wrong code when the client hides existence.
pub(crate) fn unknown_user(client: &AppClientRecord) -> CoreError {
    if prevents_existence_errors(client) {
        CoreError::CodeMismatch("Invalid verification code provided, please try again.".into())
    } else {
        CoreError::UserNotFound("Username/client id combination not found.".into())
    }
}

/// What a code-sending operation (resend a confirmation code, forgot password) answers for a
/// stranger when the client hides existence: a delivery shaped like a real one.
pub(crate) fn decoy_delivery(username: &str) -> CodeDeliveryDetailsType {
    CodeDeliveryDetailsType {
        destination: Some(crate::messages::mask(&format!("{username}@example.com"))),
        delivery_medium: Some(DeliveryMediumType::Email),
        attribute_name: Some("email".into()),
    }
}

/// Checks `SECRET_HASH` (Base64(HMAC-SHA256(client secret, username + client id))) for clients
/// that have a secret, in constant time.
pub(crate) fn check_secret_hash(
    client: &AppClientRecord,
    username: &str,
    given: Option<&str>,
) -> Result<()> {
    if !crate::client_secrets::is_confidential(client) {
        return Ok(());
    }
    let id = &client.client_id;
    let Some(given) = given else {
        return Err(CoreError::NotAuthorized(format!(
            "Client {id} is configured for secret but secret was not received"
        )));
    };
    if crate::client_secrets::secret_hash_matches(client, username, given) {
        Ok(())
    } else {
        Err(CoreError::NotAuthorized(format!(
            "Unable to verify secret hash for client {id}"
        )))
    }
}

/// Checks the `ClientSecret` a request gives (GetTokensFromRefreshToken) for a client that
/// has secrets, with Cognito's messages.
pub(crate) fn check_client_secret(client: &AppClientRecord, given: Option<&str>) -> Result<()> {
    if !crate::client_secrets::is_confidential(client) {
        return Ok(());
    }
    let id = &client.client_id;
    let Some(given) = given else {
        return Err(CoreError::NotAuthorized(format!(
            "Client {id} is configured for secret but secret was not received"
        )));
    };
    if crate::client_secrets::secret_matches(client, given) {
        Ok(())
    } else {
        Err(CoreError::NotAuthorized(format!(
            "Unable to verify secret hash for client {id}"
        )))
    }
}

impl Core {
    /// The app client a public request names, with its pool.
    pub(crate) async fn client_and_pool(
        &self,
        client_id: &str,
    ) -> Result<(AppClientRecord, crate::store::UserPoolRecord)> {
        let client = self
            .client_record(client_id)
            .await?
            .ok_or_else(|| CoreError::client_not_found(client_id))?;
        let pool = self.pool(&client.pool_id).await?;
        Ok((client, pool))
    }

    /// Writes `s` into `client` with defaults for what is omitted, checking Cognito's rules.
    fn apply_client_settings(
        &self,
        pool: &UserPoolType,
        client: &mut UserPoolClientType,
        s: UserPoolClientSettings,
        creating: bool,
        confidential: bool,
        custom_scopes: &HashSet<String>,
        known_providers: &HashSet<String>,
    ) -> Result<()> {
        // No `..`: a member the model adds fails to compile here until it is given a meaning.
        let UserPoolClientSettings {
            access_token_validity,
            allowed_oauth_flows,
            allowed_oauth_flows_user_pool_client,
            allowed_oauth_scopes,
            analytics_configuration,
            auth_session_validity,
            callback_urls,
            client_name,
            default_redirect_uri,
            enable_propagate_additional_user_context_data,
            enable_token_revocation,
            explicit_auth_flows,
            id_token_validity,
            logout_urls,
            prevent_user_existence_errors,
            read_attributes,
            refresh_token_rotation,
            refresh_token_validity,
            supported_identity_providers,
            token_validity_units,
            write_attributes,
        } = s;
        // The name is kept when an update omits it.
        if let Some(name) = client_name {
            client.client_name = Some(name);
        }
        let units = token_validity_units.unwrap_or_default();
        let (access, access_u) = validity(
            access_token_validity,
            units.access_token,
            TimeUnitsType::Hours,
            (60, TimeUnitsType::Minutes),
            (300, 86_400),
            "AccessTokenValidity",
        )?;
        let (id, id_u) = validity(
            id_token_validity,
            units.id_token,
            TimeUnitsType::Hours,
            (60, TimeUnitsType::Minutes),
            (300, 86_400),
            "IdTokenValidity",
        )?;
        // Cognito documents that a refresh validity of 0 means the default of 30 days.
        let (refresh_given, refresh_unit) = match refresh_token_validity {
            Some(0) => (None, None),
            v => (v, units.refresh_token),
        };
        let (refresh, refresh_u) = validity(
            refresh_given,
            refresh_unit,
            TimeUnitsType::Days,
            (30, TimeUnitsType::Days),
            (3600, 3650 * 86_400),
            "RefreshTokenValidity",
        )?;
        if seconds(refresh, &refresh_u) < seconds(access, &access_u).max(seconds(id, &id_u)) {
            return Err(CoreError::InvalidParameter(
                "RefreshTokenValidity must be at least AccessTokenValidity and IdTokenValidity."
                    .into(),
            ));
        }
        client.access_token_validity = Some(access);
        client.id_token_validity = Some(id);
        client.refresh_token_validity = Some(refresh);
        client.token_validity_units = Some(TokenValidityUnitsType {
            access_token: Some(access_u),
            id_token: Some(id_u),
            refresh_token: Some(refresh_u),
        });

        if let Some(flows) = &explicit_auth_flows {
            let legacy = flows.iter().any(|f| LEGACY_FLOWS.contains(f));
            let modern = flows.iter().any(|f| !LEGACY_FLOWS.contains(f));
            if legacy && modern {
                return Err(CoreError::InvalidParameter(
                    "ExplicitAuthFlows cannot mix legacy values (ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH) with ALLOW_ values.".into(),
                ));
            }
            // A machine client's one flow: GetClientToken (client_secrets.rs) signs in no user.
            let machine = flows.contains(&ExplicitAuthFlowsType::AllowClientTokenAuth);
            if machine && flows.len() > 1 {
                return Err(CoreError::InvalidParameter(
                    "ALLOW_CLIENT_TOKEN_AUTH cannot be combined with other ExplicitAuthFlows."
                        .into(),
                ));
            }
            if machine && !confidential {
                return Err(CoreError::InvalidParameter(
                    "ALLOW_CLIENT_TOKEN_AUTH needs a client with a client secret.".into(),
                ));
            }
        }
        client.explicit_auth_flows = explicit_auth_flows;

        let verb = if creating { "creating" } else { "updating" };
        let schema = pool.schema_attributes.as_deref().unwrap_or_default();
        let known = |n: &String| schema.iter().any(|a| a.name.as_ref() == Some(n));
        if let Some(read) = &read_attributes {
            if !read.iter().all(known) {
                return Err(CoreError::InvalidParameter(format!(
                    "Invalid read attributes specified while {verb} a client"
                )));
            }
        }
        if let Some(write) = &write_attributes {
            let writable = |n: &String| {
                schema
                    .iter()
                    .any(|a| a.name.as_ref() == Some(n) && a.mutable != Some(false))
            };
            if !write.iter().all(writable) {
                return Err(CoreError::InvalidParameter(format!(
                    "Invalid write attributes specified while {verb} a client"
                )));
            }
        }
        client.read_attributes = read_attributes;
        client.write_attributes = write_attributes;

        crate::oauth::client_settings::check(
            &crate::oauth::client_settings::OAuthSettings {
                pool_id: pool.id.as_deref().unwrap_or_default(),
                enabled: allowed_oauth_flows_user_pool_client == Some(true),
                flows: allowed_oauth_flows.as_deref().unwrap_or_default(),
                scopes: allowed_oauth_scopes.as_deref().unwrap_or_default(),
                callback_urls: callback_urls.as_deref().unwrap_or_default(),
                logout_urls: logout_urls.as_deref().unwrap_or_default(),
                default_redirect_uri: default_redirect_uri.as_deref(),
                identity_providers: supported_identity_providers.as_deref().unwrap_or_default(),
                known_providers,
                has_secret: confidential,
            },
            custom_scopes,
        )?;
        client.supported_identity_providers = supported_identity_providers;
        client.allowed_oauth_flows = allowed_oauth_flows;
        client.allowed_oauth_scopes = allowed_oauth_scopes;
        client.allowed_oauth_flows_user_pool_client =
            Some(allowed_oauth_flows_user_pool_client.unwrap_or(false));
        client.callback_urls = callback_urls;
        client.logout_urls = logout_urls;
        client.default_redirect_uri = default_redirect_uri;
        client.analytics_configuration = analytics_configuration;
        client.auth_session_validity = Some(auth_session_validity.unwrap_or(3));
        client.enable_token_revocation = Some(enable_token_revocation.unwrap_or(true));
        client.enable_propagate_additional_user_context_data =
            Some(enable_propagate_additional_user_context_data.unwrap_or(false));
        client.prevent_user_existence_errors =
            Some(prevent_user_existence_errors.unwrap_or(PreventUserExistenceErrorTypes::Legacy));
        client.refresh_token_rotation = refresh_token_rotation;
        Ok(())
    }

    /// The client, or ResourceNotFoundException; a client of another pool counts as missing.
    pub(crate) async fn app_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<AppClientRecord> {
        match self.client_record(client_id).await? {
            Some(c) if c.pool_id == pool_id => Ok(c),
            _ => Err(CoreError::client_not_found(client_id)),
        }
    }

    /// A client by id alone, from the record cache when fresh.
    pub(crate) async fn client_record(&self, client_id: &str) -> Result<Option<AppClientRecord>> {
        if let Some(rec) = self.records.client(client_id) {
            return Ok(Some(rec));
        }
        let read_at = self.records.generation();
        let rec = self.stored_client(client_id).await?;
        if let Some(r) = &rec {
            self.records.put_client(r, read_at);
        }
        Ok(rec)
    }

    /// Read-modify-write of a client with compare-and-swap, retried while other writers win;
    /// every process drops its cached copy.
    pub(crate) async fn modify_app_client<F>(
        &self,
        pool_id: &str,
        client_id: &str,
        mut f: F,
    ) -> Result<AppClientRecord>
    where
        F: FnMut(&mut AppClientRecord) -> Result<()> + Send,
    {
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), CAS_ATTEMPTS);
        while rounds.next().await {
            let mut rec = match self.stored_client(client_id).await? {
                Some(c) if c.pool_id == pool_id => c,
                _ => return Err(CoreError::client_not_found(client_id)),
            };
            f(&mut rec)?;
            rec.version += 1;
            let echo = self.records.echo_of(format!("client:{client_id}"));
            let written = self
                .pools()
                .update_app_client(&self.client_to_store(&rec))
                .await?;
            self.records.forget_client(client_id);
            if written {
                echo.heard().await;
                return Ok(rec);
            }
        }
        Err(CoreError::ConcurrentModification(
            "The app client was modified concurrently; retry the request.".into(),
        ))
    }

    pub async fn create_user_pool_client(
        &self,
        req: CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let now = self.now_epoch();
        let client_id = ids::client_id(self.entropy.as_ref());
        let secret = match (&req.client_secret, req.generate_secret) {
            (Some(_), Some(true)) => {
                return Err(CoreError::InvalidParameter(
                    "You cannot specify both GenerateSecret as true and a ClientSecret.".into(),
                ))
            }
            (Some(s), _) => Some(s.clone()),
            (None, Some(true)) => Some(ids::client_secret(self.entropy.as_ref())),
            _ => None,
        };
        let confidential = secret.is_some();
        let mut client = UserPoolClientType {
            user_pool_id: Some(req.user_pool_id.clone()),
            client_id: Some(client_id.clone()),
            client_secret: secret,
            creation_date: Some(now),
            last_modified_date: Some(now),
            ..Default::default()
        };
        let pool_id = req.user_pool_id.clone();
        self.apply_client_settings(
            &pool.pool,
            &mut client,
            UserPoolClientSettings::from(&req),
            true,
            confidential,
            &self.custom_scopes(&pool_id).await?,
            &self.provider_names(&pool_id).await?,
        )?;
        let secrets = client
            .client_secret
            .iter()
            .map(|v| crate::client_secrets::first_secret(&client_id, v, (now * 1000.0) as i64))
            .collect();
        let rec = AppClientRecord {
            pool_id,
            client_id,
            version: 1,
            client,
            secrets,
            sso_max_validity_minutes: None,
        };
        self.pools()
            .insert_app_client(&self.client_to_store(&rec))
            .await?;
        Ok(CreateUserPoolClientResponse {
            user_pool_client: Some(rec.client),
        })
    }

    pub async fn describe_user_pool_client(
        &self,
        req: DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse> {
        let rec = self
            .app_client_record(&req.user_pool_id, &req.client_id)
            .await?;
        Ok(DescribeUserPoolClientResponse {
            user_pool_client: Some(rec.client),
        })
    }

    /// The client as stored now, with its version: what DescribeUserPoolClient shows, and the
    /// version a console form names so that a save from it can be refused once the client moved on.
    pub async fn app_client_record(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<AppClientRecord> {
        // Admin reads show what is stored now, even if another process changed it a moment ago.
        self.pool_from_store(pool_id).await?;
        match self.stored_client(client_id).await? {
            Some(c) if c.pool_id == pool_id => Ok(c),
            _ => Err(CoreError::client_not_found(client_id)),
        }
    }

    pub async fn update_user_pool_client(
        &self,
        req: UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse> {
        self.update_user_pool_client_as_seen(req, SeenVersion::default())
            .await
    }

    /// UpdateUserPoolClient from a console form drawn from version `seen` of the client.
    pub async fn update_user_pool_client_as_seen(
        &self,
        req: UpdateUserPoolClientRequest,
        seen: SeenVersion,
    ) -> Result<UpdateUserPoolClientResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let custom_scopes = self.custom_scopes(&req.user_pool_id).await?;
        let known_providers = self.provider_names(&req.user_pool_id).await?;
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), CAS_ATTEMPTS);
        while rounds.next().await {
            // From the store, not the cache: compare-and-swap needs the current version.
            let mut rec = match self.stored_client(&req.client_id).await? {
                Some(c) if c.pool_id == req.user_pool_id => c,
                _ => return Err(CoreError::client_not_found(&req.client_id)),
            };
            seen.check(rec.version, "app client")?;
            let confidential = crate::client_secrets::is_confidential(&rec);
            // Identity and secrets stay; every other member is reset unless given.
            let mut client = UserPoolClientType {
                user_pool_id: rec.client.user_pool_id.take(),
                client_id: rec.client.client_id.take(),
                client_name: rec.client.client_name.take(),
                client_secret: rec.client.client_secret.take(),
                creation_date: rec.client.creation_date,
                last_modified_date: Some(self.now_epoch()),
                ..Default::default()
            };
            let settings = UserPoolClientSettings::from(req.clone());
            self.apply_client_settings(
                &pool.pool,
                &mut client,
                settings,
                false,
                confidential,
                &custom_scopes,
                &known_providers,
            )?;
            rec.client = client;
            rec.version += 1;
            let echo = self.records.echo_of(format!("client:{}", req.client_id));
            let written = self
                .pools()
                .update_app_client(&self.client_to_store(&rec))
                .await?;
            self.records.forget_client(&req.client_id);
            if written {
                echo.heard().await;
                return Ok(UpdateUserPoolClientResponse {
                    user_pool_client: Some(rec.client),
                });
            }
        }
        Err(CoreError::ConcurrentModification(
            "The app client was modified concurrently; retry the request.".into(),
        ))
    }

    pub async fn delete_user_pool_client(&self, req: DeleteUserPoolClientRequest) -> Result<()> {
        self.pool(&req.user_pool_id).await?;
        let echo = self.records.echo_of(format!("client:{}", req.client_id));
        if !self
            .pools()
            .delete_app_client(&req.user_pool_id, &req.client_id)
            .await?
        {
            return Err(CoreError::client_not_found(&req.client_id));
        }
        self.records.forget_client(&req.client_id);
        echo.heard().await;
        Ok(())
    }

    pub async fn list_user_pool_clients(
        &self,
        req: ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse> {
        self.pool(&req.user_pool_id).await?;
        let after = pagination::decode(req.next_token.as_deref())?;
        let limit = req.max_results.unwrap_or(60).clamp(1, 60) as u32;
        let mut rows = self
            .pools()
            .list_app_clients(&req.user_pool_id, after.as_deref(), limit + 1)
            .await?;
        let next_token = pagination::next_token(&mut rows, limit, |r| &r.client_id);
        let user_pool_clients = rows
            .into_iter()
            .map(|r| UserPoolClientDescription {
                client_id: Some(r.client_id),
                client_name: r.client.client_name,
                user_pool_id: Some(r.pool_id),
            })
            .collect();
        Ok(ListUserPoolClientsResponse {
            user_pool_clients: Some(user_pool_clients),
            next_token,
        })
    }
}
