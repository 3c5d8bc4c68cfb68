//! What the SQLite and PostgreSQL stores share: error mapping, retries, the JSON documents and
//! rows, and every method whose statement reads the same in both dialects.
//!
//! Statements number their parameters `$1`, `$2`, …: PostgreSQL's form, which SQLite reads as
//! well (sqlx binds SQLite's `$N` to the N-th value, as it does `?N`).
//!
//! The trait impls are macros, expanded in each back end's module (`sqlite.rs`, `postgres.rs`):
//! there `self.pool` is that back end's pool, and these names are its own:
//! - `claim_aliases`, a user's alias claims inside its write's transaction;
//! - `filter_column` and `index_hint`, for ListUsers filters;
//! - `pool_ids`, the value a list of pool ids travels as (with `ONLY_POOL_IDS`);
//! - the statements written in each dialect: `UPDATE_USER_POOL`, `DELETE_USER_POOL`,
//!   `UPDATE_APP_CLIENT`, `DELETE_APP_CLIENT`, `ONLY_POOL_IDS`, `MESSAGES`,
//!   `SWAP_SIGN_IN_COUNTER`, `REVOKE_DEVICE_SESSIONS`, `SPARE_DEVICE_SESSION`, `ANNOUNCE_RESET`,
//!   `PUT_RISK_CONFIGURATION`, `DELETE_RISK_CONFIGURATION`, `PUT_IMPORT_FILE`,
//!   `LOCK_POOL_PROVIDERS`, `LOCK_USER`.
//!
//! Macros rather than functions generic over the database: those would need sqlx bounds for
//! every type bound or read, and sqlx has no driver-independent `rows_affected`.

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use gatehouse_core::store::{
    AppClientRecord, AuthSessionRecord, CodeRecord, PasswordRecord, StoreResult, UserMfaRecord,
    UserPoolRecord, UserRecord,
};
use gatehouse_core::StoreError;
use gatehouse_wire::UserStatusType;
use serde::de::DeserializeOwned;

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Backend(e.to_string()),
    }
}

pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encode: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("decode stored record: {e}")))
}

/// What a retried transaction failed with: a database error keeps its SQLSTATE until the
/// retry loop has looked at it.
pub(crate) enum Fail {
    Sql(sqlx::Error),
    Store(StoreError),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Fail {
        Fail::Sql(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Fail {
        Fail::Store(e)
    }
}

impl Fail {
    /// PostgreSQL aborted the transaction to resolve a conflict with another one (serialization
    /// failure 40001, deadlock 40P01): nothing of it was written, running it again is safe.
    /// SQLite, one writer at a time, never does.
    fn retryable(&self) -> bool {
        matches!(self, Fail::Sql(sqlx::Error::Database(d))
            if matches!(d.code().as_deref(), Some("40001" | "40P01")))
    }

    fn into_store(self) -> StoreError {
        match self {
            Fail::Sql(e) => backend(e),
            Fail::Store(e) => e,
        }
    }
}

/// Attempts of a transaction that keeps being aborted by conflicts, before the error is returned.
const ATTEMPTS: u32 = 5;

/// Runs `f` (one transaction, or one statement touching many rows) until it is not aborted by a
/// conflict, at most [`ATTEMPTS`] times, pausing a few jittered milliseconds in between so that
/// the transactions that collided do not meet again in step. On SQLite the first attempt is the
/// only one.
pub(crate) async fn retry<T, F, Fut>(mut f: F) -> StoreResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Fail>>,
{
    let mut attempt = 1;
    loop {
        match f().await {
            Err(e) if e.retryable() && attempt < ATTEMPTS => {
                let ceiling = 4u64 << attempt; // 8, 16, 32, 64 ms
                tokio::time::sleep(Duration::from_millis(1 + jitter(ceiling))).await;
                attempt += 1;
            }
            other => return other.map_err(Fail::into_store),
        }
    }
}

/// A number below `ceiling`, different on each call (std's per-call random hash keys).
fn jitter(ceiling: u64) -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::time::Instant::now()) % ceiling
}

#[derive(sqlx::FromRow)]
pub(crate) struct PoolRow {
    id: String,
    version: i64,
    doc: String,
    mfa: String,
    device_policy: String,
}

impl PoolRow {
    pub(crate) fn record(self) -> StoreResult<UserPoolRecord> {
        let doc: PoolDoc = from_json(&self.doc)?;
        Ok(UserPoolRecord {
            id: self.id,
            version: self.version,
            pool: doc.pool,
            mfa: from_json(&self.mfa)?,
            device_policy: from_json(&self.device_policy)?,
            sessions: doc.sessions.unwrap_or_default(),
        })
    }
}

/// A pool's document: the pool as the API describes it and, beside its members, the session
/// configuration (absent from documents written before it, which read as Cognito's default).
#[derive(serde::Serialize, serde::Deserialize)]
struct PoolDoc {
    #[serde(flatten)]
    pool: gatehouse_wire::UserPoolType,
    #[serde(
        rename = "gatehouse:sessions",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    sessions: Option<gatehouse_core::store::SessionPolicy>,
}

pub(crate) fn pool_doc(p: &UserPoolRecord) -> StoreResult<String> {
    to_json(&PoolDoc {
        pool: p.pool.clone(),
        sessions: (p.sessions != Default::default()).then_some(p.sessions),
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct ClientRow {
    client_id: String,
    pool_id: String,
    version: i64,
    doc: String,
}

impl ClientRow {
    pub(crate) fn record(self) -> StoreResult<AppClientRecord> {
        let doc: ClientDoc = from_json(&self.doc)?;
        Ok(AppClientRecord {
            client_id: self.client_id,
            pool_id: self.pool_id,
            version: self.version,
            client: doc.client,
            secrets: doc.secrets,
            sso_max_validity_minutes: doc.sso_max_validity_minutes,
        })
    }
}

/// An app client's document: the client as the API describes it, and beside its members the
/// secrets of rotation (absent from documents written before it, which read as none).
#[derive(serde::Serialize, serde::Deserialize)]
struct ClientDoc {
    #[serde(flatten)]
    client: gatehouse_wire::UserPoolClientType,
    #[serde(
        rename = "gatehouse:secrets",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    secrets: Vec<gatehouse_core::store::ClientSecretRecord>,
    #[serde(
        rename = "gatehouse:sso_max_validity_minutes",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    sso_max_validity_minutes: Option<i32>,
}

pub(crate) fn client_doc(c: &AppClientRecord) -> StoreResult<String> {
    to_json(&ClientDoc {
        client: c.client.clone(),
        secrets: c.secrets.clone(),
        sso_max_validity_minutes: c.sso_max_validity_minutes,
    })
}

/// The JSON part of a user row (the same in both back ends: `migrate-store` copies documents
/// as they are).
#[derive(serde::Serialize, serde::Deserialize)]
struct UserDoc {
    attributes: BTreeMap<String, String>,
    password: Option<PasswordRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    imported_hash: Option<gatehouse_core::store::ImportedHash>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    password_history: Vec<PasswordRecord>,
    temporary_password_expires_at: Option<i64>,
    updated_at: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mfa_options: Vec<gatehouse_wire::MFAOptionType>,
    #[serde(default, skip_serializing_if = "is_default")]
    mfa: UserMfaRecord,
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

pub(crate) fn user_doc(u: &UserRecord) -> StoreResult<String> {
    to_json(&UserDoc {
        attributes: u.attributes.clone(),
        password: u.password.clone(),
        imported_hash: u.imported_hash.clone(),
        password_history: u.password_history.clone(),
        temporary_password_expires_at: u.temporary_password_expires_at,
        updated_at: u.updated_at,
        mfa_options: u.mfa_options.clone(),
        mfa: u.mfa.clone(),
    })
}

/// The columns [`UserRow`] reads.
pub(crate) const USER_COLUMNS: &str =
    "pool_id, username_key, username, sub, status, enabled, created_at, version, failed_sign_ins, locked_until, doc";

/// [`USER_COLUMNS`] of the table aliased `u`.
pub(crate) static U_USER_COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<String> = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
    columns.join(", ")
});

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    pool_id: String,
    username_key: String,
    username: String,
    sub: String,
    status: String,
    enabled: i64,
    created_at: i64,
    version: i64,
    failed_sign_ins: i64,
    locked_until: Option<i64>,
    doc: String,
}

impl UserRow {
    pub(crate) fn record(self) -> StoreResult<UserRecord> {
        let doc: UserDoc = from_json(&self.doc)?;
        Ok(UserRecord {
            pool_id: self.pool_id,
            username_key: self.username_key,
            username: self.username,
            sub: self.sub,
            status: UserStatusType::parse(&self.status),
            enabled: self.enabled != 0,
            attributes: doc.attributes,
            password: doc.password,
            imported_hash: doc.imported_hash,
            password_history: doc.password_history,
            temporary_password_expires_at: doc.temporary_password_expires_at,
            mfa_options: doc.mfa_options,
            mfa: doc.mfa,
            created_at: self.created_at,
            updated_at: doc.updated_at,
            version: self.version,
            failed_sign_ins: self.failed_sign_ins.clamp(0, u32::MAX as i64) as u32,
            locked_until: self.locked_until,
        })
    }
}

/// A session's columns, renamed so that a row may hold its user's under their own names.
#[derive(sqlx::FromRow)]
pub(crate) struct SessionRow {
    session_revoked_at: Option<i64>,
    session_version: i64,
    session_doc: String,
    session_last_active_at: i64,
    session_last_ip: Option<String>,
    session_last_user_agent: Option<String>,
}

/// The columns [`SessionRow`] reads, of the table aliased `s`.
pub(crate) const SESSION_COLUMNS: &str = "s.revoked_at AS session_revoked_at, \
     s.version AS session_version, s.doc AS session_doc, \
     s.last_active_at AS session_last_active_at, s.last_ip AS session_last_ip, \
     s.last_user_agent AS session_last_user_agent";

impl SessionRow {
    pub(crate) fn record(self) -> StoreResult<AuthSessionRecord> {
        let mut s: AuthSessionRecord = from_json(&self.session_doc)?;
        // Bulk revocation writes the column only.
        s.revoked_at = self.session_revoked_at;
        s.version = self.session_version;
        s.activity = gatehouse_core::store::SessionActivity {
            at: self.session_last_active_at,
            ip: self.session_last_ip,
            user_agent: self.session_last_user_agent,
        };
        Ok(s)
    }
}

/// A session and its user in one row, as [`SessionRow`] and [`UserRow`] read them.
pub(crate) static SESSION_WITH_USER: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {SESSION_COLUMNS}, {} FROM auth_sessions s LEFT JOIN users u \
         ON u.pool_id = s.pool_id AND u.username_key = s.username_key WHERE s.id = $1",
        *U_USER_COLUMNS
    )
});

pub(crate) const CODE_COLUMNS: &str =
    "pool_id, username_key, purpose, code_hash, attribute, expires_at, guesses, issued, window_started_at";

#[derive(sqlx::FromRow)]
pub(crate) struct CodeRow {
    pool_id: String,
    username_key: String,
    purpose: String,
    code_hash: String,
    attribute: Option<String>,
    expires_at: i64,
    guesses: i64,
    issued: i64,
    window_started_at: i64,
}

impl CodeRow {
    pub(crate) fn record(self) -> CodeRecord {
        CodeRecord {
            pool_id: self.pool_id,
            username_key: self.username_key,
            purpose: self.purpose,
            code_hash: self.code_hash,
            attribute: self.attribute,
            expires_at: self.expires_at,
            guesses: self.guesses.clamp(0, u32::MAX as i64) as u32,
            issued: self.issued.clamp(0, u32::MAX as i64) as u32,
            window_started_at: self.window_started_at,
        }
    }
}

/// The tables, each before those it references: emptied in this order.
pub(crate) const TABLES: [&str; 28] = [
    "passkey_registrations",
    "passkeys",
    "managed_login_brandings",
    "ui_customizations",
    "terms",
    "log_delivery_configurations",
    "identity_provider_identifiers",
    "identity_providers",
    "user_import_files",
    "user_import_jobs",
    "risk_configurations",
    "auth_events",
    "authorization_codes",
    "resource_servers",
    "user_pool_domains",
    "pending_sign_ins",
    "devices",
    "auth_sessions",
    "spent_auth_states",
    "signing_keys",
    "group_members",
    "groups",
    "codes",
    "user_aliases",
    "outbox",
    "users",
    "app_clients",
    "user_pools",
];

// The trait impls. rustfmt leaves macro bodies alone: keep them formatted as it would.

/// `PoolStore` for `$store` (see the module's comment).
macro_rules! pool_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{
                AppClientRecord, PoolStore, SigningKeyRecord, StoreResult, UserPoolRecord,
            };
            use gatehouse_wire::{DomainDescriptionType, ResourceServerType};
            use $crate::shared::{
                backend, client_doc, from_json, pool_doc, retry, to_json, ClientRow, PoolRow,
            };

            #[async_trait::async_trait]
            impl PoolStore for $store {
                async fn insert_user_pool(&self, p: &UserPoolRecord) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO user_pools (id, name, version, created_at, doc, mfa, device_policy) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&p.id)
                    .bind(p.pool.name.as_deref().unwrap_or_default())
                    .bind(p.version)
                    .bind((p.pool.creation_date.unwrap_or_default() * 1000.0) as i64)
                    .bind(pool_doc(p)?)
                    .bind(to_json(&p.mfa)?)
                    .bind(to_json(&p.device_policy)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn user_pool(&self, id: &str) -> StoreResult<Option<UserPoolRecord>> {
                    sqlx::query_as::<_, PoolRow>("SELECT id, version, doc, mfa, device_policy FROM user_pools WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)?
                        .map(PoolRow::record)
                        .transpose()
                }

                async fn update_user_pool(&self, p: &UserPoolRecord) -> StoreResult<bool> {
                    // A row comes back if one was written.
                    let written = sqlx::query(UPDATE_USER_POOL)
                        .bind(p.pool.name.as_deref().unwrap_or_default())
                        .bind(p.version)
                        .bind(pool_doc(p)?)
                        .bind(to_json(&p.mfa)?)
                        .bind(to_json(&p.device_policy)?)
                        .bind(&p.id)
                        .bind(p.version - 1)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(written.len() == 1)
                }

                async fn delete_user_pool(&self, id: &str) -> StoreResult<bool> {
                    // The cascade touches many rows of many tables: it may meet another writer's
                    // locks.
                    retry(move || async move {
                        let deleted = sqlx::query(DELETE_USER_POOL)
                            .bind(id)
                            .fetch_all(&self.pool)
                            .await?;
                        Ok(deleted.len() == 1)
                    })
                    .await
                }

                async fn list_user_pools(
                    &self,
                    after: Option<&str>,
                    limit: u32,
                    only: Option<&[String]>,
                ) -> StoreResult<Vec<UserPoolRecord>> {
                    // The visible ids travel as one value, whatever their number.
                    let (only_sql, limit_param) = if only.is_some() {
                        (ONLY_POOL_IDS, "$3")
                    } else {
                        ("", "$2")
                    };
                    let sql = format!(
                        "SELECT id, version, doc, mfa, device_policy FROM user_pools WHERE id > $1{only_sql} ORDER BY id LIMIT {limit_param}"
                    );
                    let mut q = sqlx::query_as::<_, PoolRow>(&sql).bind(after.unwrap_or(""));
                    if let Some(ids) = only {
                        q = q.bind(pool_ids(ids)?);
                    }
                    let rows = q
                        .bind(limit as i64)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    rows.into_iter().map(PoolRow::record).collect()
                }

                async fn insert_app_client(&self, c: &AppClientRecord) -> StoreResult<()> {
                    sqlx::query("INSERT INTO app_clients (client_id, pool_id, name, version, doc) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&c.client_id)
                        .bind(&c.pool_id)
                        .bind(c.client.client_name.as_deref().unwrap_or_default())
                        .bind(c.version)
                        .bind(client_doc(c)?)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn app_client(&self, client_id: &str) -> StoreResult<Option<AppClientRecord>> {
                    sqlx::query_as::<_, ClientRow>(
                        "SELECT client_id, pool_id, version, doc FROM app_clients WHERE client_id = $1",
                    )
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?
                    .map(ClientRow::record)
                    .transpose()
                }

                async fn update_app_client(&self, c: &AppClientRecord) -> StoreResult<bool> {
                    // A row comes back if one was written.
                    let written = sqlx::query(UPDATE_APP_CLIENT)
                        .bind(c.client.client_name.as_deref().unwrap_or_default())
                        .bind(c.version)
                        .bind(client_doc(c)?)
                        .bind(&c.client_id)
                        .bind(c.version - 1)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(written.len() == 1)
                }

                async fn delete_app_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
                    let deleted = sqlx::query(DELETE_APP_CLIENT)
                        .bind(pool_id)
                        .bind(client_id)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(deleted.len() == 1)
                }

                async fn list_app_clients(
                    &self,
                    pool_id: &str,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<AppClientRecord>> {
                    let rows = sqlx::query_as::<_, ClientRow>(
                        "SELECT client_id, pool_id, version, doc FROM app_clients WHERE pool_id = $1 AND client_id > $2 ORDER BY client_id LIMIT $3",
                    )
                    .bind(pool_id)
                    .bind(after.unwrap_or(""))
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    rows.into_iter().map(ClientRow::record).collect()
                }

                async fn insert_signing_keys(&self, keys: &[SigningKeyRecord]) -> StoreResult<()> {
                    retry(|| async {
                        let mut tx = self.pool.begin().await?;
                        for k in keys {
                            sqlx::query(
                                "INSERT INTO signing_keys (pool_id, kid, token_use, sealed_private_key, created_at) \
                                 VALUES ($1, $2, $3, $4, $5)",
                            )
                            .bind(&k.pool_id)
                            .bind(&k.kid)
                            .bind(&k.token_use)
                            .bind(&k.sealed_private_key)
                            .bind(k.created_at)
                            .execute(&mut *tx)
                            .await?;
                        }
                        tx.commit().await?;
                        Ok(())
                    })
                    .await
                }

                async fn signing_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKeyRecord>> {
                    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
                        "SELECT pool_id, kid, token_use, sealed_private_key, created_at FROM signing_keys \
                         WHERE pool_id = $1 ORDER BY created_at, kid",
                    )
                    .bind(pool_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(rows
                        .into_iter()
                        .map(
                            |(pool_id, kid, token_use, sealed_private_key, created_at)| SigningKeyRecord {
                                pool_id,
                                kid,
                                token_use,
                                sealed_private_key,
                                created_at,
                            },
                        )
                        .collect())
                }

                async fn insert_domain(&self, d: &DomainDescriptionType) -> StoreResult<()> {
                    sqlx::query("INSERT INTO user_pool_domains (domain, pool_id, doc) VALUES ($1, $2, $3)")
                        .bind(d.domain.as_deref().unwrap_or_default())
                        .bind(d.user_pool_id.as_deref().unwrap_or_default())
                        .bind(to_json(d)?)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn domain(&self, domain: &str) -> StoreResult<Option<DomainDescriptionType>> {
                    let doc: Option<String> =
                        sqlx::query_scalar("SELECT doc FROM user_pool_domains WHERE domain = $1")
                            .bind(domain)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn domain_of_pool(&self, pool_id: &str) -> StoreResult<Option<DomainDescriptionType>> {
                    let doc: Option<String> =
                        sqlx::query_scalar("SELECT doc FROM user_pool_domains WHERE pool_id = $1")
                            .bind(pool_id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn update_domain(&self, d: &DomainDescriptionType) -> StoreResult<bool> {
                    let done = sqlx::query("UPDATE user_pool_domains SET doc = $1 WHERE domain = $2 AND pool_id = $3")
                        .bind(to_json(d)?)
                        .bind(d.domain.as_deref().unwrap_or_default())
                        .bind(d.user_pool_id.as_deref().unwrap_or_default())
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool> {
                    let done = sqlx::query("DELETE FROM user_pool_domains WHERE domain = $1 AND pool_id = $2")
                        .bind(domain)
                        .bind(pool_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn insert_resource_server(&self, r: &ResourceServerType) -> StoreResult<()> {
                    sqlx::query("INSERT INTO resource_servers (pool_id, identifier, doc) VALUES ($1, $2, $3)")
                        .bind(r.user_pool_id.as_deref().unwrap_or_default())
                        .bind(r.identifier.as_deref().unwrap_or_default())
                        .bind(to_json(r)?)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn resource_server(
                    &self,
                    pool_id: &str,
                    identifier: &str,
                ) -> StoreResult<Option<ResourceServerType>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM resource_servers WHERE pool_id = $1 AND identifier = $2",
                    )
                    .bind(pool_id)
                    .bind(identifier)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn update_resource_server(&self, r: &ResourceServerType) -> StoreResult<bool> {
                    let done = sqlx::query("UPDATE resource_servers SET doc = $1 WHERE pool_id = $2 AND identifier = $3")
                        .bind(to_json(r)?)
                        .bind(r.user_pool_id.as_deref().unwrap_or_default())
                        .bind(r.identifier.as_deref().unwrap_or_default())
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
                    let done = sqlx::query("DELETE FROM resource_servers WHERE pool_id = $1 AND identifier = $2")
                        .bind(pool_id)
                        .bind(identifier)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn list_resource_servers(
                    &self,
                    pool_id: &str,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<ResourceServerType>> {
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM resource_servers WHERE pool_id = $1 AND identifier > $2 ORDER BY identifier LIMIT $3",
                    )
                    .bind(pool_id)
                    .bind(after.unwrap_or(""))
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn risk_configurations(
                    &self,
                    pool_id: &str,
                    client_ids: &[&str],
                ) -> StoreResult<Vec<gatehouse_wire::RiskConfigurationType>> {
                    // At most two scopes are asked for (a client's and the pool's): one statement.
                    let first = client_ids.first().copied().unwrap_or("");
                    let second = client_ids.get(1).copied().unwrap_or(first);
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM risk_configurations WHERE pool_id = $1 AND client_id IN ($2, $3)",
                    )
                    .bind(pool_id)
                    .bind(first)
                    .bind(second)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn put_risk_configuration(
                    &self,
                    pool_id: &str,
                    client_id: &str,
                    config: Option<&gatehouse_wire::RiskConfigurationType>,
                ) -> StoreResult<()> {
                    // The pool's change is announced with the write: other processes cache
                    // the configurations with the pool.
                    let q = match config {
                        Some(c) => sqlx::query(PUT_RISK_CONFIGURATION)
                            .bind(pool_id)
                            .bind(client_id)
                            .bind(to_json(c)?),
                        None => sqlx::query(DELETE_RISK_CONFIGURATION)
                            .bind(pool_id)
                            .bind(client_id),
                    };
                    q.fetch_all(&self.pool).await.map_err(backend)?;
                    Ok(())
                }

                async fn log_delivery(
                    &self,
                    pool_id: &str,
                ) -> StoreResult<Option<gatehouse_wire::LogDeliveryConfigurationType>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM log_delivery_configurations WHERE pool_id = $1",
                    )
                    .bind(pool_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn put_log_delivery(
                    &self,
                    config: &gatehouse_wire::LogDeliveryConfigurationType,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO log_delivery_configurations (pool_id, doc) VALUES ($1, $2) \
                         ON CONFLICT (pool_id) DO UPDATE SET doc = excluded.doc",
                    )
                    .bind(&config.user_pool_id)
                    .bind(to_json(config)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn ui_customization(
                    &self,
                    pool_id: &str,
                    client_id: &str,
                ) -> StoreResult<Option<gatehouse_core::store::UiCustomizationRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM ui_customizations WHERE pool_id = $1 AND client_id = $2",
                    )
                    .bind(pool_id)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn put_ui_customization(
                    &self,
                    pool_id: &str,
                    client_id: &str,
                    record: Option<&gatehouse_core::store::UiCustomizationRecord>,
                ) -> StoreResult<()> {
                    let q = match record {
                        Some(r) => sqlx::query(
                            "INSERT INTO ui_customizations (pool_id, client_id, doc) VALUES ($1, $2, $3) \
                             ON CONFLICT (pool_id, client_id) DO UPDATE SET doc = excluded.doc",
                        )
                        .bind(pool_id)
                        .bind(client_id)
                        .bind(to_json(r)?),
                        None => sqlx::query(
                            "DELETE FROM ui_customizations WHERE pool_id = $1 AND client_id = $2",
                        )
                        .bind(pool_id)
                        .bind(client_id),
                    };
                    q.execute(&self.pool).await.map_err(backend)?;
                    Ok(())
                }
            }
        };
    };
}
pub(crate) use pool_store;

/// `UserStore` for `$store` (see the module's comment).
macro_rules! user_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{AliasClaim, StoreResult, UserFilter, UserRecord, UserStore};
            use gatehouse_core::StoreError;
            use gatehouse_wire::GroupType;
            use $crate::shared::{
                backend, from_json, retry, to_json, user_doc, UserRow, USER_COLUMNS, U_USER_COLUMNS,
            };

            #[async_trait::async_trait]
            impl UserStore for $store {
                async fn count_users(&self, pool_id: &str) -> StoreResult<i64> {
                    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE pool_id = $1")
                        .bind(pool_id)
                        .fetch_one(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn insert_user(&self, u: &UserRecord, aliases: &[AliasClaim]) -> StoreResult<()> {
                    let doc = user_doc(u)?;
                    retry(|| async {
                        let mut tx = self.pool.begin().await?;
                        sqlx::query(
                            "INSERT INTO users (pool_id, username_key, username, sub, status, enabled, email, phone_number, preferred_username, created_at, version, doc) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        )
                        .bind(&u.pool_id)
                        .bind(&u.username_key)
                        .bind(&u.username)
                        .bind(&u.sub)
                        .bind(u.status.as_str())
                        .bind(u.enabled as i64)
                        .bind(u.attributes.get("email").map(|v| v.to_lowercase()))
                        .bind(u.attributes.get("phone_number"))
                        .bind(u.attributes.get("preferred_username").map(|v| v.to_lowercase()))
                        .bind(u.created_at)
                        .bind(u.version)
                        .bind(&doc)
                        .execute(&mut *tx)
                        .await?;
                        claim_aliases(&mut tx, &u.pool_id, &u.username_key, aliases).await?;
                        tx.commit().await?;
                        Ok(())
                    })
                    .await
                }

                async fn user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<UserRecord>> {
                    sqlx::query_as::<_, UserRow>(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND username_key = $2"
                    ))
                    .bind(pool_id)
                    .bind(username_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?
                    .map(UserRow::record)
                    .transpose()
                }

                async fn user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<UserRecord>> {
                    sqlx::query_as::<_, UserRow>(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND sub = $2"
                    ))
                    .bind(pool_id)
                    .bind(sub)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?
                    .map(UserRow::record)
                    .transpose()
                }

                async fn users_by_attribute(
                    &self,
                    pool_id: &str,
                    attribute: &str,
                    value: &str,
                ) -> StoreResult<Vec<UserRecord>> {
                    let column = match attribute {
                        "email" => "email",
                        "phone_number" => "phone_number",
                        "preferred_username" => "preferred_username",
                        other => {
                            return Err(StoreError::Backend(format!(
                                "no index on attribute {other}"
                            )))
                        }
                    };
                    let rows = sqlx::query_as::<_, UserRow>(&format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND {column} = $2"
                    ))
                    .bind(pool_id)
                    .bind(value)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    rows.into_iter().map(UserRow::record).collect()
                }

                async fn user_by_alias_claim(
                    &self,
                    pool_id: &str,
                    key: &str,
                ) -> StoreResult<Option<UserRecord>> {
                    sqlx::query_as::<_, UserRow>(&format!(
                        "SELECT {} FROM users u JOIN user_aliases a \
                         ON a.pool_id = u.pool_id AND a.username_key = u.username_key \
                         WHERE a.pool_id = $1 AND a.alias = $2",
                        *U_USER_COLUMNS
                    ))
                    .bind(pool_id)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?
                    .map(UserRow::record)
                    .transpose()
                }

                async fn update_user(&self, u: &UserRecord, aliases: &[AliasClaim]) -> StoreResult<bool> {
                    let doc = user_doc(u)?;
                    retry(|| async {
                        let mut tx = self.pool.begin().await?;
                        let done = sqlx::query(
                            "UPDATE users SET status = $1, enabled = $2, email = $3, phone_number = $4, preferred_username = $5, version = $6, doc = $7 \
                             WHERE pool_id = $8 AND username_key = $9 AND version = $10",
                        )
                        .bind(u.status.as_str())
                        .bind(u.enabled as i64)
                        .bind(u.attributes.get("email").map(|v| v.to_lowercase()))
                        .bind(u.attributes.get("phone_number"))
                        .bind(u.attributes.get("preferred_username").map(|v| v.to_lowercase()))
                        .bind(u.version)
                        .bind(&doc)
                        .bind(&u.pool_id)
                        .bind(&u.username_key)
                        .bind(u.version - 1)
                        .execute(&mut *tx)
                        .await?;
                        if done.rows_affected() != 1 {
                            return Ok(false);
                        }
                        sqlx::query("DELETE FROM user_aliases WHERE pool_id = $1 AND username_key = $2")
                            .bind(&u.pool_id)
                            .bind(&u.username_key)
                            .execute(&mut *tx)
                            .await?;
                        claim_aliases(&mut tx, &u.pool_id, &u.username_key, aliases).await?;
                        tx.commit().await?;
                        Ok(true)
                    })
                    .await
                }

                async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool> {
                    // Cascades to the user's sessions, devices, codes and claims.
                    retry(move || async move {
                        let done = sqlx::query("DELETE FROM users WHERE pool_id = $1 AND username_key = $2")
                            .bind(pool_id)
                            .bind(username_key)
                            .execute(&self.pool)
                            .await?;
                        Ok(done.rows_affected() == 1)
                    })
                    .await
                }

                async fn list_users(
                    &self,
                    pool_id: &str,
                    filter: Option<&UserFilter>,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<UserRecord>> {
                    let index = index_hint(filter);
                    let mut sql = format!(
                        "SELECT {USER_COLUMNS} FROM users{index} WHERE pool_id = $1 AND username_key > $2"
                    );
                    let mut binds: Vec<String> = Vec::new();
                    if let Some(f) = filter {
                        let col = filter_column(f.attribute);
                        if f.prefix {
                            // A range keeps the index usable; U+10FFFF sorts after every character
                            // (the columns compare bytewise).
                            sql.push_str(&format!(" AND {col} >= $3 AND {col} < $4"));
                            binds.push(f.value.clone());
                            binds.push(format!("{}{}", f.value, char::MAX));
                        } else {
                            sql.push_str(&format!(" AND {col} = $3"));
                            binds.push(f.value.clone());
                        }
                    }
                    sql.push_str(&format!(
                        " ORDER BY username_key LIMIT ${}",
                        binds.len() + 3
                    ));
                    let mut q = sqlx::query_as::<_, UserRow>(&sql)
                        .bind(pool_id)
                        .bind(after.unwrap_or(""));
                    for b in &binds {
                        q = q.bind(b);
                    }
                    let rows = q
                        .bind(limit as i64)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    rows.into_iter().map(UserRow::record).collect()
                }

                async fn insert_group(&self, g: &GroupType) -> StoreResult<()> {
                    sqlx::query("INSERT INTO groups (pool_id, name, doc) VALUES ($1, $2, $3)")
                        .bind(g.user_pool_id.as_deref().unwrap_or_default())
                        .bind(g.group_name.as_deref().unwrap_or_default())
                        .bind(to_json(g)?)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn group(&self, pool_id: &str, name: &str) -> StoreResult<Option<GroupType>> {
                    let doc: Option<String> =
                        sqlx::query_scalar("SELECT doc FROM groups WHERE pool_id = $1 AND name = $2")
                            .bind(pool_id)
                            .bind(name)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn update_group(&self, g: &GroupType) -> StoreResult<bool> {
                    let done = sqlx::query("UPDATE groups SET doc = $1 WHERE pool_id = $2 AND name = $3")
                        .bind(to_json(g)?)
                        .bind(g.user_pool_id.as_deref().unwrap_or_default())
                        .bind(g.group_name.as_deref().unwrap_or_default())
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
                    let done = sqlx::query("DELETE FROM groups WHERE pool_id = $1 AND name = $2")
                        .bind(pool_id)
                        .bind(name)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn list_groups(
                    &self,
                    pool_id: &str,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<GroupType>> {
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM groups WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT $3",
                    )
                    .bind(pool_id)
                    .bind(after.unwrap_or(""))
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn add_member(&self, pool_id: &str, group: &str, username_key: &str) -> StoreResult<()> {
                    sqlx::query("INSERT INTO group_members (pool_id, group_name, username_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                        .bind(pool_id)
                        .bind(group)
                        .bind(username_key)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn remove_member(
                    &self,
                    pool_id: &str,
                    group: &str,
                    username_key: &str,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "DELETE FROM group_members WHERE pool_id = $1 AND group_name = $2 AND username_key = $3",
                    )
                    .bind(pool_id)
                    .bind(group)
                    .bind(username_key)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn groups_of_user(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<GroupType>> {
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT g.doc FROM group_members m JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name \
                         WHERE m.pool_id = $1 AND m.username_key = $2 AND m.group_name > $3 ORDER BY m.group_name LIMIT $4",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(after.unwrap_or(""))
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn members(
                    &self,
                    pool_id: &str,
                    group: &str,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<UserRecord>> {
                    let rows = sqlx::query_as::<_, UserRow>(&format!(
                        "SELECT {} FROM group_members m JOIN users u ON u.pool_id = m.pool_id AND u.username_key = m.username_key \
                         WHERE m.pool_id = $1 AND m.group_name = $2 AND m.username_key > $3 ORDER BY m.username_key LIMIT $4",
                        *U_USER_COLUMNS
                    ))
                    .bind(pool_id)
                    .bind(group)
                    .bind(after.unwrap_or(""))
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    rows.into_iter().map(UserRow::record).collect()
                }
            }
        };
    };
}
pub(crate) use user_store;

/// `CodeStore` for `$store` (see the module's comment).
macro_rules! code_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::messages::OutgoingMessage;
            use gatehouse_core::store::{CodeGuess, CodeRecord, CodeStore, StoreResult};
            use $crate::shared::{backend, from_json, retry, to_json, CodeRow, CODE_COLUMNS};

            #[async_trait::async_trait]
            impl CodeStore for $store {
                async fn swap_code(&self, c: &CodeRecord, expected: Option<&CodeRecord>) -> StoreResult<bool> {
                    // Both are one statement: a simultaneous insert of the same key waits for the
                    // first and then does nothing; a simultaneous update waits for the row and
                    // re-checks the expected values on what the other wrote.
                    let done = match expected {
                        None => sqlx::query(
                            "INSERT INTO codes (pool_id, username_key, purpose, code_hash, attribute, expires_at, guesses, issued, window_started_at) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (pool_id, username_key, purpose) DO NOTHING",
                        )
                        .bind(&c.pool_id)
                        .bind(&c.username_key)
                        .bind(&c.purpose)
                        .bind(&c.code_hash)
                        .bind(&c.attribute)
                        .bind(c.expires_at)
                        .bind(i64::from(c.guesses))
                        .bind(i64::from(c.issued))
                        .bind(c.window_started_at)
                        .execute(&self.pool)
                        .await,
                        Some(old) => sqlx::query(
                            "UPDATE codes SET code_hash = $1, attribute = $2, expires_at = $3, guesses = $4, issued = $5, window_started_at = $6 \
                             WHERE pool_id = $7 AND username_key = $8 AND purpose = $9 \
                               AND code_hash = $10 AND guesses = $11 AND issued = $12 AND window_started_at = $13",
                        )
                        .bind(&c.code_hash)
                        .bind(&c.attribute)
                        .bind(c.expires_at)
                        .bind(i64::from(c.guesses))
                        .bind(i64::from(c.issued))
                        .bind(c.window_started_at)
                        .bind(&c.pool_id)
                        .bind(&c.username_key)
                        .bind(&c.purpose)
                        .bind(&old.code_hash)
                        .bind(i64::from(old.guesses))
                        .bind(i64::from(old.issued))
                        .bind(old.window_started_at)
                        .execute(&self.pool)
                        .await,
                    }
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn guess_code(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    purpose: &str,
                    max_guesses: u32,
                ) -> StoreResult<CodeGuess> {
                    // A concurrent guess waits for the row and re-checks `guesses < max` on what
                    // it wrote.
                    let row = sqlx::query_as::<_, CodeRow>(&format!(
                        "UPDATE codes SET guesses = guesses + 1 \
                         WHERE pool_id = $1 AND username_key = $2 AND purpose = $3 AND guesses < $4 \
                         RETURNING {CODE_COLUMNS}"
                    ))
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(purpose)
                    .bind(i64::from(max_guesses))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    if let Some(r) = row {
                        return Ok(CodeGuess::Taken(r.record()));
                    }
                    Ok(match self.code(pool_id, username_key, purpose).await? {
                        Some(_) => CodeGuess::Exhausted,
                        None => CodeGuess::NoCode,
                    })
                }

                async fn consume_code(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    purpose: &str,
                    code_hash: &str,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3 AND code_hash = $4",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(purpose)
                    .bind(code_hash)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn code(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    purpose: &str,
                ) -> StoreResult<Option<CodeRecord>> {
                    let row = sqlx::query_as::<_, CodeRow>(&format!(
                        "SELECT {CODE_COLUMNS} FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3"
                    ))
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(purpose)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(row.map(CodeRow::record))
                }

                async fn push_message(&self, m: &OutgoingMessage) -> StoreResult<()> {
                    sqlx::query("INSERT INTO outbox (message_id, pool_id, username, created_at, doc) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&m.message_id)
                        .bind(&m.pool_id)
                        .bind(&m.username)
                        .bind(m.created_at)
                        .bind(to_json(m)?)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn messages(
                    &self,
                    pool_id: Option<&str>,
                    username: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<OutgoingMessage>> {
                    let docs: Vec<String> = sqlx::query_scalar(MESSAGES)
                        .bind(pool_id)
                        .bind(username)
                        .bind(limit as i64)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn update_message(&self, m: &OutgoingMessage) -> StoreResult<()> {
                    sqlx::query("UPDATE outbox SET doc = $1 WHERE message_id = $2")
                        .bind(to_json(m)?)
                        .bind(&m.message_id)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn prune_messages(&self, created_before: i64) -> StoreResult<u64> {
                    retry(move || async move {
                        let done = sqlx::query("DELETE FROM outbox WHERE created_at < $1")
                            .bind(created_before)
                            .execute(&self.pool)
                            .await?;
                        Ok(done.rows_affected())
                    })
                    .await
                }
            }
        };
    };
}
pub(crate) use code_store;

/// `SignInStore` for `$store` (see the module's comment).
macro_rules! sign_in_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{
                PendingSignInRecord, PendingStep, SignInCounter, SignInStore, StoreResult,
            };
            use $crate::shared::{backend, from_json, to_json};

            #[async_trait::async_trait]
            impl SignInStore for $store {
                async fn sign_in_counter(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                ) -> StoreResult<Option<SignInCounter>> {
                    let row: Option<(i64, Option<i64>)> = sqlx::query_as(
                        "SELECT failed_sign_ins, locked_until FROM users WHERE pool_id = $1 AND username_key = $2",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(row.map(|(failed, locked_until)| SignInCounter {
                        failed: failed.clamp(0, u32::MAX as i64) as u32,
                        locked_until,
                    }))
                }

                async fn swap_sign_in_counter(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    expected: SignInCounter,
                    new: SignInCounter,
                ) -> StoreResult<bool> {
                    // A simultaneous attempt waits for the row, then finds the counter changed.
                    let done = sqlx::query(SWAP_SIGN_IN_COUNTER)
                        .bind(i64::from(new.failed))
                        .bind(new.locked_until)
                        .bind(pool_id)
                        .bind(username_key)
                        .bind(i64::from(expected.failed))
                        .bind(expected.locked_until)
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn spend_auth_state(&self, id: &str, expires_at: i64) -> StoreResult<bool> {
                    // A simultaneous insert of the same id waits for the first to commit, then
                    // does nothing.
                    let done = sqlx::query(
                        "INSERT INTO spent_auth_states (id, expires_at) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                    )
                    .bind(id)
                    .bind(expires_at)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn auth_state_spent(&self, id: &str) -> StoreResult<bool> {
                    let row: Option<(i64,)> =
                        sqlx::query_as("SELECT expires_at FROM spent_auth_states WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(row.is_some())
                }

                async fn insert_pending_sign_in(&self, p: &PendingSignInRecord) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO pending_sign_ins (id, pool_id, client_id, username_key, device_key, step, expires_at, doc) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&p.id)
                    .bind(&p.pool_id)
                    .bind(&p.client_id)
                    .bind(&p.username_key)
                    .bind(&p.device_key)
                    .bind(p.step.as_str())
                    .bind(p.expires_at)
                    .bind(to_json(p)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn pending_sign_in(&self, id: &str) -> StoreResult<Option<PendingSignInRecord>> {
                    let doc: Option<String> =
                        sqlx::query_scalar("SELECT doc FROM pending_sign_ins WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn pending_sign_in_for_device(
                    &self,
                    pool_id: &str,
                    client_id: &str,
                    username_key: &str,
                    device_key: &str,
                    now: i64,
                ) -> StoreResult<Option<PendingSignInRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM pending_sign_ins WHERE pool_id = $1 AND username_key = $2 \
                         AND device_key = $3 AND client_id = $4 AND expires_at >= $5 \
                         ORDER BY expires_at DESC LIMIT 1",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(device_key)
                    .bind(client_id)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn advance_pending_sign_in(
                    &self,
                    p: &PendingSignInRecord,
                    from_step: PendingStep,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE pending_sign_ins SET device_key = $1, step = $2, doc = $3 WHERE id = $4 AND step = $5",
                    )
                    .bind(&p.device_key)
                    .bind(p.step.as_str())
                    .bind(to_json(p)?)
                    .bind(&p.id)
                    .bind(from_step.as_str())
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn take_pending_sign_in(&self, id: &str, step: PendingStep) -> StoreResult<bool> {
                    let done = sqlx::query("DELETE FROM pending_sign_ins WHERE id = $1 AND step = $2")
                        .bind(id)
                        .bind(step.as_str())
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }
            }
        };
    };
}
pub(crate) use sign_in_store;

/// `TokenStore` for `$store` (see the module's comment).
macro_rules! token_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{
                AuthSessionRecord, AuthorizationCodeRecord, StoreResult, TokenStore, UserRecord,
            };
            use sqlx::{FromRow, Row};
            use $crate::shared::{
                backend, from_json, retry, to_json, SessionRow, UserRow, SESSION_COLUMNS,
                SESSION_WITH_USER,
            };

            #[async_trait::async_trait]
            impl TokenStore for $store {
                async fn insert_auth_session(
                    &self,
                    s: &AuthSessionRecord,
                    cap: Option<u32>,
                ) -> StoreResult<Vec<String>> {
                    let doc = to_json(s)?;
                    let insert = |doc: String| {
                        sqlx::query(
                            "INSERT INTO auth_sessions (id, pool_id, username_key, client_id, device_key, expires_at, revoked_at, version, doc, last_active_at, last_ip, last_user_agent) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                        )
                        .bind(&s.id)
                        .bind(&s.pool_id)
                        .bind(&s.username_key)
                        .bind(&s.client_id)
                        .bind(&s.device_key)
                        .bind(s.expires_at)
                        .bind(s.revoked_at)
                        .bind(s.version)
                        .bind(doc)
                        .bind(s.activity.at)
                        .bind(&s.activity.ip)
                        .bind(&s.activity.user_agent)
                    };
                    let Some(cap) = cap else {
                        // No cap: one statement, no transaction around it (BEGIN and COMMIT
                        // would be two more round trips per sign-in).
                        insert(doc).execute(&self.pool).await.map_err(backend)?;
                        return Ok(Vec::new());
                    };
                    retry(|| {
                        let doc = doc.clone();
                        async move {
                            let mut tx = self.pool.begin().await?;
                            if let Some(lock) = LOCK_USER {
                                sqlx::query(lock)
                                    .bind(&s.pool_id)
                                    .bind(&s.username_key)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            insert(doc).execute(&mut *tx).await?;
                            let mut evicted = Vec::new();
                            {
                                // Newest activity first: those past the cap are the least
                                // recently used.
                                let others: Vec<String> = sqlx::query_scalar(
                                    "SELECT id FROM auth_sessions WHERE pool_id = $1 AND username_key = $2 \
                                     AND revoked_at IS NULL AND expires_at > $3 AND id <> $4 \
                                     ORDER BY last_active_at DESC, id DESC",
                                )
                                .bind(&s.pool_id)
                                .bind(&s.username_key)
                                .bind(s.activity.at)
                                .bind(&s.id)
                                .fetch_all(&mut *tx)
                                .await?;
                                for id in others.into_iter().skip(cap.saturating_sub(1) as usize) {
                                    sqlx::query(
                                        "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 WHERE id = $2",
                                    )
                                    .bind(s.activity.at)
                                    .bind(&id)
                                    .execute(&mut *tx)
                                    .await?;
                                    evicted.push(id);
                                }
                            }
                            tx.commit().await?;
                            Ok(evicted)
                        }
                    })
                    .await
                }

                async fn touch_auth_session(
                    &self,
                    id: &str,
                    a: &gatehouse_core::store::SessionActivity,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE auth_sessions SET last_active_at = $1, last_ip = COALESCE($2, last_ip), \
                         last_user_agent = COALESCE($3, last_user_agent) WHERE id = $4",
                    )
                    .bind(a.at)
                    .bind(&a.ip)
                    .bind(&a.user_agent)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn live_auth_sessions(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    now: i64,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<AuthSessionRecord>> {
                    sqlx::query_as::<_, SessionRow>(&format!(
                        "SELECT {SESSION_COLUMNS} FROM auth_sessions s \
                         WHERE s.pool_id = $1 AND s.username_key = $2 AND s.revoked_at IS NULL \
                         AND s.expires_at > $3 AND s.id > $4 ORDER BY s.id LIMIT $5"
                    ))
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(now)
                    .bind(after.unwrap_or(""))
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?
                    .into_iter()
                    .map(SessionRow::record)
                    .collect()
                }

                async fn auth_session(&self, id: &str) -> StoreResult<Option<AuthSessionRecord>> {
                    sqlx::query_as::<_, SessionRow>(&format!(
                        "SELECT {SESSION_COLUMNS} FROM auth_sessions s WHERE s.id = $1"
                    ))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?
                    .map(SessionRow::record)
                    .transpose()
                }

                async fn auth_session_with_user(
                    &self,
                    id: &str,
                ) -> StoreResult<Option<(AuthSessionRecord, Option<UserRecord>)>> {
                    // Every access-token operation's read: on the connection kept for it.
                    let row = sqlx::query(&SESSION_WITH_USER)
                        .bind(id)
                        .fetch_optional(self.token_reads())
                        .await
                        .map_err(backend)?;
                    let Some(r) = row else { return Ok(None) };
                    let s = SessionRow::from_row(&r).map_err(backend)?.record()?;
                    let user = match r.get::<Option<&str>, _>("doc") {
                        Some(_) => Some(UserRow::from_row(&r).map_err(backend)?.record()?),
                        None => None,
                    };
                    Ok(Some((s, user)))
                }

                async fn update_auth_session(&self, s: &AuthSessionRecord) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE auth_sessions SET expires_at = $1, revoked_at = $2, version = $3, doc = $4 \
                         WHERE id = $5 AND version = $6",
                    )
                    .bind(s.expires_at)
                    .bind(s.revoked_at)
                    .bind(s.version)
                    .bind(to_json(s)?)
                    .bind(&s.id)
                    .bind(s.version - 1)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn revoke_auth_session(&self, id: &str, at: i64) -> StoreResult<()> {
                    sqlx::query(
                        "UPDATE auth_sessions SET revoked_at = COALESCE(revoked_at, $1), version = version + 1 \
                         WHERE id = $2",
                    )
                    .bind(at)
                    .bind(id)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn revoke_user_sessions(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    at: i64,
                ) -> StoreResult<u64> {
                    // Many rows, in whatever order: it may deadlock with a ForgetDevice of the
                    // same user.
                    retry(move || async move {
                        let done = sqlx::query(
                            "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 \
                             WHERE pool_id = $2 AND username_key = $3 AND revoked_at IS NULL",
                        )
                        .bind(at)
                        .bind(pool_id)
                        .bind(username_key)
                        .execute(&self.pool)
                        .await?;
                        Ok(done.rows_affected())
                    })
                    .await
                }

                async fn insert_authorization_code(
                    &self,
                    c: &AuthorizationCodeRecord,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO authorization_codes (code_hash, pool_id, expires_at, doc) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(&c.code_hash)
                    .bind(&c.pool_id)
                    .bind(c.expires_at)
                    .bind(to_json(c)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn take_authorization_code(
                    &self,
                    code_hash: &str,
                ) -> StoreResult<Option<AuthorizationCodeRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "DELETE FROM authorization_codes WHERE code_hash = $1 RETURNING doc",
                    )
                    .bind(code_hash)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn prune_auth_state(&self, now: i64, revoked_before: i64) -> StoreResult<u64> {
                    let mut removed = retry(move || async move {
                        let sessions =
                            sqlx::query("DELETE FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $2")
                                .bind(now)
                                .bind(revoked_before)
                                .execute(&self.pool)
                                .await?;
                        Ok(sessions.rows_affected())
                    })
                    .await?;
                    for sql in [
                        "DELETE FROM spent_auth_states WHERE expires_at < $1",
                        "DELETE FROM pending_sign_ins WHERE expires_at < $1",
                        "DELETE FROM passkey_registrations WHERE expires_at < $1",
                        "DELETE FROM authorization_codes WHERE expires_at < $1",
                        "DELETE FROM devices WHERE expires_at < $1 AND status = 'issued'",
                    ] {
                        removed += retry(move || async move {
                            Ok(sqlx::query(sql)
                                .bind(now)
                                .execute(&self.pool)
                                .await?
                                .rows_affected())
                        })
                        .await?;
                    }
                    Ok(removed)
                }
            }
        };
    };
}
pub(crate) use token_store;

/// `DeviceStore` for `$store` (see the module's comment).
macro_rules! device_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{DeviceRecord, DeviceStore, SparedSession, StoreResult};
            use $crate::shared::{backend, from_json, retry, to_json};

            #[async_trait::async_trait]
            impl DeviceStore for $store {
                async fn insert_device(&self, d: &DeviceRecord) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO devices (pool_id, device_key, username_key, status, expires_at, version, doc) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&d.pool_id)
                    .bind(&d.device_key)
                    .bind(&d.username_key)
                    .bind(d.status.as_str())
                    .bind(d.expires_at)
                    .bind(d.version)
                    .bind(to_json(d)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn device(&self, pool_id: &str, device_key: &str) -> StoreResult<Option<DeviceRecord>> {
                    let doc: Option<String> =
                        sqlx::query_scalar("SELECT doc FROM devices WHERE pool_id = $1 AND device_key = $2")
                            .bind(pool_id)
                            .bind(device_key)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(backend)?;
                    doc.map(|d| from_json(&d)).transpose()
                }

                async fn update_device(&self, d: &DeviceRecord) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE devices SET status = $1, expires_at = $2, version = $3, doc = $4 \
                         WHERE pool_id = $5 AND device_key = $6 AND version = $7",
                    )
                    .bind(d.status.as_str())
                    .bind(d.expires_at)
                    .bind(d.version)
                    .bind(to_json(d)?)
                    .bind(&d.pool_id)
                    .bind(&d.device_key)
                    .bind(d.version - 1)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn forget_device(
                    &self,
                    pool_id: &str,
                    device_key: &str,
                    at: i64,
                    spare: Option<SparedSession<'_>>,
                ) -> StoreResult<bool> {
                    retry(|| async {
                        let mut tx = self.pool.begin().await?;
                        let gone = sqlx::query("DELETE FROM devices WHERE pool_id = $1 AND device_key = $2")
                            .bind(pool_id)
                            .bind(device_key)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                            == 1;
                        let spared = spare.map(|s| s.id);
                        sqlx::query(REVOKE_DEVICE_SESSIONS)
                            .bind(at)
                            .bind(pool_id)
                            .bind(device_key)
                            .bind(spared)
                            .execute(&mut *tx)
                            .await?;
                        if let Some(s) = spare {
                            // The version moves, so a refresh that read the session before cannot
                            // write it back without the mark.
                            sqlx::query(SPARE_DEVICE_SESSION)
                                .bind(s.expires_at)
                                .bind(at)
                                .bind(s.id)
                                .bind(pool_id)
                                .bind(device_key)
                                .execute(&mut *tx)
                                .await?;
                        }
                        tx.commit().await?;
                        Ok(gone)
                    })
                    .await
                }

                async fn list_devices(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    remembered_only: bool,
                    after: Option<&str>,
                    limit: u32,
                ) -> StoreResult<Vec<DeviceRecord>> {
                    // The status condition matches one of the two partial indexes word for word.
                    let status = if remembered_only {
                        "status = 'remembered'"
                    } else {
                        "status <> 'issued'"
                    };
                    let sql = format!(
                        "SELECT doc FROM devices WHERE pool_id = $1 AND username_key = $2 AND {status} \
                         AND device_key > $3 ORDER BY device_key LIMIT $4"
                    );
                    let docs: Vec<String> = sqlx::query_scalar(&sql)
                        .bind(pool_id)
                        .bind(username_key)
                        .bind(after.unwrap_or(""))
                        .bind(limit as i64)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }
            }
        };
    };
}
pub(crate) use device_store;

/// `AuthEventStore` for `$store` (see the module's comment).
macro_rules! auth_event_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{AuthEventRecord, AuthEventStore, SignInHistory, StoreResult};
            use $crate::shared::{backend, from_json, ip_of, response_of, retry, to_json};

            #[async_trait::async_trait]
            impl AuthEventStore for $store {
                async fn insert_auth_event(&self, e: &AuthEventRecord) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO auth_events (pool_id, event_id, username_key, session_key, response, ip, created_at, version, doc) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&e.pool_id)
                    .bind(&e.event_id)
                    .bind(&e.username_key)
                    .bind(&e.session_key)
                    .bind(response_of(e))
                    .bind(ip_of(e))
                    .bind(e.created_at)
                    .bind(e.version)
                    .bind(to_json(e)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn auth_event(
                    &self,
                    pool_id: &str,
                    event_id: &str,
                ) -> StoreResult<Option<AuthEventRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM auth_events WHERE pool_id = $1 AND event_id = $2",
                    )
                    .bind(pool_id)
                    .bind(event_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn auth_event_by_session(
                    &self,
                    pool_id: &str,
                    session_key: &str,
                ) -> StoreResult<Option<AuthEventRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM auth_events WHERE session_key = $1 AND pool_id = $2",
                    )
                    .bind(session_key)
                    .bind(pool_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn update_auth_event(&self, e: &AuthEventRecord) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE auth_events SET session_key = $1, response = $7, version = $2, doc = $3 \
                         WHERE pool_id = $4 AND event_id = $5 AND version = $6",
                    )
                    .bind(&e.session_key)
                    .bind(e.version)
                    .bind(to_json(e)?)
                    .bind(&e.pool_id)
                    .bind(&e.event_id)
                    .bind(e.version - 1)
                    .bind(response_of(e))
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn list_auth_events(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    before: Option<(i64, &str)>,
                    limit: u32,
                ) -> StoreResult<Vec<AuthEventRecord>> {
                    // No cursor: every event is older than i64::MAX.
                    let (at, id) = before.unwrap_or((i64::MAX, ""));
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM auth_events WHERE pool_id = $1 AND username_key = $2 \
                         AND (created_at < $3 OR (created_at = $3 AND event_id < $4)) \
                         ORDER BY created_at DESC, event_id DESC LIMIT $5",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(at)
                    .bind(id)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn sign_in_history(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    address: Option<&str>,
                    since: i64,
                    limit: u32,
                ) -> StoreResult<SignInHistory> {
                    // One statement: the latest responses (kind 0, newest first), then a row
                    // of kind 1 if the user ever passed, and of kind 2 if from this address;
                    // both answered from the index of passes, whatever the user's history.
                    let rows: Vec<(i32, String, i64, String)> = sqlx::query_as(
                        "SELECT 0 AS kind, response, created_at, event_id FROM \
                           (SELECT response, created_at, event_id FROM auth_events \
                            WHERE pool_id = $1 AND username_key = $2 AND created_at > $3 \
                            ORDER BY created_at DESC, event_id DESC LIMIT $4) latest \
                         UNION ALL SELECT 1, 'Pass', 0, '' WHERE EXISTS (SELECT 1 FROM auth_events \
                           WHERE pool_id = $1 AND username_key = $2 AND response = 'Pass') \
                         UNION ALL SELECT 2, 'Pass', 0, '' WHERE EXISTS (SELECT 1 FROM auth_events \
                           WHERE pool_id = $1 AND username_key = $2 AND response = 'Pass' AND ip = $5) \
                         ORDER BY kind, created_at DESC, event_id DESC",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(since)
                    .bind(limit as i64)
                    .bind(address)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    let has_passed = rows.iter().any(|r| r.0 == 1);
                    let from_address = rows.iter().any(|r| r.0 == 2);
                    let latest = rows.into_iter().filter(|r| r.0 == 0).map(|r| r.1).collect();
                    Ok(SignInHistory {
                        latest,
                        has_passed,
                        passed_from_address: from_address,
                    })
                }

                async fn prune_auth_events(&self, before: i64) -> StoreResult<u64> {
                    retry(move || async move {
                        Ok(sqlx::query("DELETE FROM auth_events WHERE created_at < $1")
                            .bind(before)
                            .execute(&self.pool)
                            .await?
                            .rows_affected())
                    })
                    .await
                }
            }
        };
    };
}
pub(crate) use auth_event_store;

/// `ImportStore` for `$store` (see the module's comment).
macro_rules! import_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{ImportJobRecord, ImportStore, StoreResult};
            use $crate::shared::{backend, from_json, import_status, retry, to_json};

            #[async_trait::async_trait]
            impl ImportStore for $store {
                async fn insert_import_job(&self, j: &ImportJobRecord) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO user_import_jobs (pool_id, job_id, status, created_at, version, doc) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&j.pool_id)
                    .bind(&j.job_id)
                    .bind(import_status(j))
                    .bind(j.created_at)
                    .bind(j.version)
                    .bind(to_json(j)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn import_job(
                    &self,
                    pool_id: &str,
                    job_id: &str,
                ) -> StoreResult<Option<ImportJobRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM user_import_jobs WHERE pool_id = $1 AND job_id = $2",
                    )
                    .bind(pool_id)
                    .bind(job_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn update_import_job(&self, j: &ImportJobRecord) -> StoreResult<bool> {
                    let doc = to_json(j)?;
                    retry(move || {
                        let doc = doc.clone();
                        async move {
                            let done = sqlx::query(
                                "UPDATE user_import_jobs SET status = $1, version = $2, doc = $3 \
                                 WHERE pool_id = $4 AND job_id = $5 AND version = $6",
                            )
                            .bind(import_status(j))
                            .bind(j.version)
                            .bind(doc)
                            .bind(&j.pool_id)
                            .bind(&j.job_id)
                            .bind(j.version - 1)
                            .execute(&self.pool)
                            .await?;
                            Ok(done.rows_affected() == 1)
                        }
                    })
                    .await
                }

                async fn list_import_jobs(
                    &self,
                    pool_id: &str,
                    after: Option<(i64, &str)>,
                    limit: u32,
                ) -> StoreResult<Vec<ImportJobRecord>> {
                    // No cursor: every job is older than i64::MAX.
                    let (at, id) = after.unwrap_or((i64::MAX, ""));
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM user_import_jobs WHERE pool_id = $1 \
                         AND (created_at < $2 OR (created_at = $2 AND job_id < $3)) \
                         ORDER BY created_at DESC, job_id DESC LIMIT $4",
                    )
                    .bind(pool_id)
                    .bind(at)
                    .bind(id)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn import_jobs_with_status(
                    &self,
                    statuses: &[&str],
                ) -> StoreResult<Vec<ImportJobRecord>> {
                    let mut out = Vec::new();
                    for status in statuses {
                        let docs: Vec<String> = sqlx::query_scalar(
                            "SELECT doc FROM user_import_jobs WHERE status = $1",
                        )
                        .bind(*status)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(backend)?;
                        for d in &docs {
                            out.push(from_json(d)?);
                        }
                    }
                    Ok(out)
                }

                async fn put_import_file(
                    &self,
                    pool_id: &str,
                    job_id: &str,
                    csv: &[u8],
                ) -> StoreResult<bool> {
                    retry(move || async move {
                        let done = sqlx::query(PUT_IMPORT_FILE)
                            .bind(pool_id)
                            .bind(job_id)
                            .bind(csv)
                            .execute(&self.pool)
                            .await?;
                        Ok(done.rows_affected() == 1)
                    })
                    .await
                }

                async fn has_import_file(&self, pool_id: &str, job_id: &str) -> StoreResult<bool> {
                    // COUNT: a bigint in both dialects (a bare 1 is PostgreSQL's int4).
                    let found: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM user_import_files WHERE pool_id = $1 AND job_id = $2",
                    )
                    .bind(pool_id)
                    .bind(job_id)
                    .fetch_one(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(found > 0)
                }

                async fn delete_import_file(&self, pool_id: &str, job_id: &str) -> StoreResult<()> {
                    retry(move || async move {
                        sqlx::query(
                            "DELETE FROM user_import_files WHERE pool_id = $1 AND job_id = $2",
                        )
                        .bind(pool_id)
                        .bind(job_id)
                        .execute(&self.pool)
                        .await?;
                        Ok(())
                    })
                    .await
                }

                async fn import_file(
                    &self,
                    pool_id: &str,
                    job_id: &str,
                ) -> StoreResult<Option<Vec<u8>>> {
                    sqlx::query_scalar(
                        "SELECT csv FROM user_import_files WHERE pool_id = $1 AND job_id = $2",
                    )
                    .bind(pool_id)
                    .bind(job_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)
                }
            }
        };
    };
}
pub(crate) use import_store;

/// `IdentityProviderStore` for `$store` (see the module's comment).
macro_rules! identity_provider_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{IdentityProviderRecord, IdentityProviderStore, StoreResult};
            use gatehouse_core::StoreError;
            use $crate::shared::{backend, from_json, retry, to_json, Fail};

            #[async_trait::async_trait]
            impl IdentityProviderStore for $store {
                async fn insert_identity_provider(
                    &self,
                    p: &IdentityProviderRecord,
                    identifiers: &[String],
                    max: u32,
                ) -> StoreResult<()> {
                    let doc = to_json(&p.provider)?;
                    retry(|| {
                        let doc = doc.clone();
                        async move {
                            let mut tx = self.pool.begin().await?;
                            if let Some(lock) = LOCK_POOL_PROVIDERS {
                                sqlx::query(lock).bind(&p.pool_id).execute(&mut *tx).await?;
                            }
                            // Counted and written in one statement, after the pool's lock.
                            let done = sqlx::query(
                                "INSERT INTO identity_providers (pool_id, name, created_at, doc) \
                                 SELECT $1, $2, $3, $4 \
                                 WHERE (SELECT COUNT(*) FROM identity_providers WHERE pool_id = $1) < $5 \
                                 ON CONFLICT (pool_id, name) DO NOTHING",
                            )
                            .bind(&p.pool_id)
                            .bind(&p.name)
                            .bind(p.created_at)
                            .bind(doc)
                            .bind(max as i64)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                let named: i64 = sqlx::query_scalar(
                                    "SELECT COUNT(*) FROM identity_providers WHERE pool_id = $1 AND name = $2",
                                )
                                .bind(&p.pool_id)
                                .bind(&p.name)
                                .fetch_one(&mut *tx)
                                .await?;
                                let refusal = if named > 0 {
                                    StoreError::Conflict
                                } else {
                                    StoreError::LimitReached
                                };
                                return Err(Fail::Store(refusal));
                            }
                            // Each identifier its own row: a taken one is `AliasTaken`.
                            for id in identifiers {
                                let put = sqlx::query(
                                    "INSERT INTO identity_provider_identifiers (pool_id, identifier, name) \
                                     VALUES ($1, $2, $3) ON CONFLICT (pool_id, identifier) DO NOTHING",
                                )
                                .bind(&p.pool_id)
                                .bind(id)
                                .bind(&p.name)
                                .execute(&mut *tx)
                                .await?;
                                if put.rows_affected() == 0 {
                                    return Err(Fail::Store(StoreError::AliasTaken(id.clone())));
                                }
                            }
                            tx.commit().await?;
                            Ok(())
                        }
                    })
                    .await
                }

                async fn update_identity_provider(
                    &self,
                    previous: &IdentityProviderRecord,
                    p: &IdentityProviderRecord,
                    identifiers: &[String],
                ) -> StoreResult<bool> {
                    let doc = to_json(&p.provider)?;
                    let was = to_json(&previous.provider)?;
                    retry(|| {
                        let (doc, was) = (doc.clone(), was.clone());
                        async move {
                            let mut tx = self.pool.begin().await?;
                            let done = sqlx::query(
                                "UPDATE identity_providers SET doc = $1 \
                                 WHERE pool_id = $2 AND name = $3 AND doc = $4",
                            )
                            .bind(doc)
                            .bind(&p.pool_id)
                            .bind(&p.name)
                            .bind(was)
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                return Ok(false);
                            }
                            sqlx::query(
                                "DELETE FROM identity_provider_identifiers WHERE pool_id = $1 AND name = $2",
                            )
                            .bind(&p.pool_id)
                            .bind(&p.name)
                            .execute(&mut *tx)
                            .await?;
                            // Each identifier its own row: a taken one is `AliasTaken`.
                            for id in identifiers {
                                let put = sqlx::query(
                                    "INSERT INTO identity_provider_identifiers (pool_id, identifier, name) \
                                     VALUES ($1, $2, $3) ON CONFLICT (pool_id, identifier) DO NOTHING",
                                )
                                .bind(&p.pool_id)
                                .bind(id)
                                .bind(&p.name)
                                .execute(&mut *tx)
                                .await?;
                                if put.rows_affected() == 0 {
                                    return Err(Fail::Store(StoreError::AliasTaken(id.clone())));
                                }
                            }
                            tx.commit().await?;
                            Ok(true)
                        }
                    })
                    .await
                }

                async fn delete_identity_provider(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
                    retry(|| async move {
                        let done = sqlx::query(
                            "DELETE FROM identity_providers WHERE pool_id = $1 AND name = $2",
                        )
                        .bind(pool_id)
                        .bind(name)
                        .execute(&self.pool)
                        .await?;
                        Ok(done.rows_affected() == 1)
                    })
                    .await
                }

                async fn identity_provider(
                    &self,
                    pool_id: &str,
                    name: &str,
                ) -> StoreResult<Option<IdentityProviderRecord>> {
                    let row: Option<(String, String, i64, String)> = sqlx::query_as(
                        "SELECT pool_id, name, created_at, doc FROM identity_providers \
                         WHERE pool_id = $1 AND name = $2",
                    )
                    .bind(pool_id)
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(provider_record).transpose()
                }

                async fn identity_provider_by_identifier(
                    &self,
                    pool_id: &str,
                    identifier: &str,
                ) -> StoreResult<Option<IdentityProviderRecord>> {
                    let row: Option<(String, String, i64, String)> = sqlx::query_as(
                        "SELECT p.pool_id, p.name, p.created_at, p.doc FROM identity_providers p \
                         JOIN identity_provider_identifiers i ON i.pool_id = p.pool_id AND i.name = p.name \
                         WHERE i.pool_id = $1 AND i.identifier = $2",
                    )
                    .bind(pool_id)
                    .bind(identifier)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    row.map(provider_record).transpose()
                }

                async fn list_identity_providers(
                    &self,
                    pool_id: &str,
                    after: Option<(i64, &str)>,
                    limit: u32,
                ) -> StoreResult<Vec<IdentityProviderRecord>> {
                    // No cursor: every provider is newer than i64::MIN.
                    let (at, name) = after.unwrap_or((i64::MIN, ""));
                    let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
                        "SELECT pool_id, name, created_at, doc FROM identity_providers WHERE pool_id = $1 \
                         AND (created_at > $2 OR (created_at = $2 AND name > $3)) \
                         ORDER BY created_at, name LIMIT $4",
                    )
                    .bind(pool_id)
                    .bind(at)
                    .bind(name)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    rows.into_iter().map(provider_record).collect()
                }
            }

            fn provider_record(
                (pool_id, name, created_at, doc): (String, String, i64, String),
            ) -> StoreResult<IdentityProviderRecord> {
                Ok(IdentityProviderRecord {
                    pool_id,
                    name,
                    created_at,
                    provider: from_json(&doc)?,
                })
            }
        };
    };
}
pub(crate) use identity_provider_store;

/// `TermsStore` for `$store` (see the module's comment).
macro_rules! terms_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{StoreResult, TermsStore};
            use gatehouse_wire::TermsType;
            use $crate::shared::{backend, from_json, retry, to_json};

            fn created_ms(t: &TermsType) -> i64 {
                (t.creation_date * 1000.0) as i64
            }

            #[async_trait::async_trait]
            impl TermsStore for $store {
                async fn insert_terms(&self, t: &TermsType) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO terms (pool_id, terms_id, client_id, name, created_at, doc) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&t.user_pool_id)
                    .bind(&t.terms_id)
                    .bind(&t.client_id)
                    .bind(&t.terms_name)
                    .bind(created_ms(t))
                    .bind(to_json(t)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn update_terms(
                    &self,
                    previous: &TermsType,
                    t: &TermsType,
                ) -> StoreResult<bool> {
                    let doc = to_json(t)?;
                    let was = to_json(previous)?;
                    retry(|| {
                        let (doc, was) = (doc.clone(), was.clone());
                        async move {
                            let done = sqlx::query(
                                "UPDATE terms SET name = $1, doc = $2 \
                                 WHERE pool_id = $3 AND terms_id = $4 AND doc = $5",
                            )
                            .bind(&t.terms_name)
                            .bind(doc)
                            .bind(&t.user_pool_id)
                            .bind(&t.terms_id)
                            .bind(was)
                            .execute(&self.pool)
                            .await?;
                            Ok(done.rows_affected() == 1)
                        }
                    })
                    .await
                }

                async fn delete_terms(&self, pool_id: &str, terms_id: &str) -> StoreResult<bool> {
                    let done =
                        sqlx::query("DELETE FROM terms WHERE pool_id = $1 AND terms_id = $2")
                            .bind(pool_id)
                            .bind(terms_id)
                            .execute(&self.pool)
                            .await
                            .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn terms(
                    &self,
                    pool_id: &str,
                    terms_id: &str,
                ) -> StoreResult<Option<TermsType>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM terms WHERE pool_id = $1 AND terms_id = $2",
                    )
                    .bind(pool_id)
                    .bind(terms_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn client_terms(
                    &self,
                    pool_id: &str,
                    client_id: &str,
                ) -> StoreResult<Vec<TermsType>> {
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM terms WHERE pool_id = $1 AND client_id = $2 ORDER BY name",
                    )
                    .bind(pool_id)
                    .bind(client_id)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }

                async fn list_terms(
                    &self,
                    pool_id: &str,
                    after: Option<(i64, &str)>,
                    limit: u32,
                ) -> StoreResult<Vec<TermsType>> {
                    let (at, id) = after.unwrap_or((i64::MIN, ""));
                    let docs: Vec<String> = sqlx::query_scalar(
                        "SELECT doc FROM terms WHERE pool_id = $1 \
                         AND (created_at > $2 OR (created_at = $2 AND terms_id > $3)) \
                         ORDER BY created_at, terms_id LIMIT $4",
                    )
                    .bind(pool_id)
                    .bind(at)
                    .bind(id)
                    .bind(limit as i64)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    docs.iter().map(|d| from_json(d)).collect()
                }
            }
        };
    };
}
pub(crate) use terms_store;

/// `BrandingStore` for `$store` (see the module's comment).
macro_rules! branding_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{BrandingStore, StoreResult};
            use gatehouse_wire::ManagedLoginBrandingType;
            use $crate::shared::{backend, from_json, to_json};

            fn id_of(b: &ManagedLoginBrandingType) -> &str {
                b.managed_login_branding_id.as_deref().unwrap_or_default()
            }

            fn pool_of(b: &ManagedLoginBrandingType) -> &str {
                b.user_pool_id.as_deref().unwrap_or_default()
            }

            #[async_trait::async_trait]
            impl BrandingStore for $store {
                async fn insert_branding(
                    &self,
                    client_id: &str,
                    b: &ManagedLoginBrandingType,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO managed_login_brandings (pool_id, branding_id, client_id, doc) \
                         VALUES ($1, $2, $3, $4)",
                    )
                    .bind(pool_of(b))
                    .bind(id_of(b))
                    .bind(client_id)
                    .bind(to_json(b)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn update_branding(
                    &self,
                    previous: &ManagedLoginBrandingType,
                    b: &ManagedLoginBrandingType,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE managed_login_brandings SET doc = $1 \
                         WHERE pool_id = $2 AND branding_id = $3 AND doc = $4",
                    )
                    .bind(to_json(b)?)
                    .bind(pool_of(b))
                    .bind(id_of(b))
                    .bind(to_json(previous)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_branding(&self, pool_id: &str, branding_id: &str) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "DELETE FROM managed_login_brandings WHERE pool_id = $1 AND branding_id = $2",
                    )
                    .bind(pool_id)
                    .bind(branding_id)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn branding(
                    &self,
                    pool_id: &str,
                    branding_id: &str,
                ) -> StoreResult<Option<ManagedLoginBrandingType>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM managed_login_brandings WHERE pool_id = $1 AND branding_id = $2",
                    )
                    .bind(pool_id)
                    .bind(branding_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }

                async fn client_branding(
                    &self,
                    pool_id: &str,
                    client_id: &str,
                ) -> StoreResult<Option<ManagedLoginBrandingType>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "SELECT doc FROM managed_login_brandings WHERE pool_id = $1 AND client_id = $2",
                    )
                    .bind(pool_id)
                    .bind(client_id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }
            }
        };
    };
}
pub(crate) use branding_store;

/// A job's `Status` as its column holds it.
pub(crate) fn import_status(j: &gatehouse_core::store::ImportJobRecord) -> &str {
    j.job.status.as_ref().map_or("", |s| s.as_str())
}

/// An event's `EventResponse` as its column holds it ("" while unset).
pub(crate) fn response_of(e: &gatehouse_core::store::AuthEventRecord) -> &str {
    e.event
        .event_response
        .as_ref()
        .map(|r| r.as_str())
        .unwrap_or("")
}

/// The client's address of an event, as its column holds it.
pub(crate) fn ip_of(e: &gatehouse_core::store::AuthEventRecord) -> Option<&str> {
    e.event
        .event_context_data
        .as_ref()
        .and_then(|c| c.ip_address.as_deref())
}

/// `Store` for `$store`, with the back end's own further methods (see the module's comment).
macro_rules! store {
    ($store:ty $(, $($own:tt)+)?) => {
        const _: () = {
            use gatehouse_core::store::StoreResult;
            use gatehouse_core::Store;
            use $crate::shared::{backend, retry, TABLES};

            #[async_trait::async_trait]
            impl Store for $store {
                async fn ping(&self) -> StoreResult<()> {
                    sqlx::query("SELECT 1")
                        .execute(&self.pool)
                        .await
                        .map_err(backend)?;
                    Ok(())
                }

                async fn server_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String> {
                    // Of simultaneous first starts, one insert wins; the others wait for it and
                    // read its value.
                    sqlx::query(
                        "INSERT INTO deployment (name, value) VALUES ('server_key_fingerprint', $1) \
                         ON CONFLICT (name) DO NOTHING",
                    )
                    .bind(fingerprint)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    sqlx::query_scalar("SELECT value FROM deployment WHERE name = 'server_key_fingerprint'")
                        .fetch_one(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn deployment_setting(&self, name: &str) -> StoreResult<Option<String>> {
                    sqlx::query_scalar("SELECT value FROM deployment WHERE name = $1")
                        .bind(name)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(backend)
                }

                async fn put_deployment_setting(&self, name: &str, value: &str) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO deployment (name, value) VALUES ($1, $2) \
                         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    )
                    .bind(name)
                    .bind(value)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn reset(&self) -> StoreResult<()> {
                    retry(|| async {
                        let mut tx = self.pool.begin().await?;
                        for table in TABLES {
                            sqlx::query(&format!("DELETE FROM {table}"))
                                .execute(&mut *tx)
                                .await?;
                        }
                        sqlx::query("DELETE FROM deployment WHERE name LIKE 'setting:%'")
                            .execute(&mut *tx)
                            .await?;
                        if let Some(sql) = ANNOUNCE_RESET {
                            sqlx::query(sql).execute(&mut *tx).await?;
                        }
                        tx.commit().await?;
                        Ok(())
                    })
                    .await
                }

                $($($own)+)?
            }
        };
    };
}
pub(crate) use store;

/// `PasskeyStore` for `$store` (see the module's comment).
macro_rules! passkey_store {
    ($store:ty) => {
        const _: () = {
            use gatehouse_core::store::{
                PasskeyRecord, PasskeyRegistrationRecord, PasskeyStore, StoreResult,
            };
            use gatehouse_core::StoreError;
            use $crate::shared::{backend, from_json, retry, to_json};

            fn passkey(counter: i64, doc: &str) -> StoreResult<PasskeyRecord> {
                let mut p: PasskeyRecord = from_json(doc)?;
                p.counter = u32::try_from(counter).unwrap_or(u32::MAX);
                Ok(p)
            }

            #[async_trait::async_trait]
            impl PasskeyStore for $store {
                async fn insert_passkey(&self, p: &PasskeyRecord, max: u32) -> StoreResult<()> {
                    let doc = to_json(p)?;
                    retry(|| {
                        let doc = doc.clone();
                        async move {
                            let mut tx = self.pool.begin().await?;
                            if let Some(lock) = LOCK_USER {
                                sqlx::query(lock)
                                    .bind(&p.pool_id)
                                    .bind(&p.username_key)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            // Counted and written in one statement, after the user's lock.
                            let done = sqlx::query(
                                "INSERT INTO passkeys (pool_id, credential_id, username_key, counter, created_at, doc) \
                                 SELECT $1, $2, $3, $4, $5, $6 \
                                 WHERE (SELECT COUNT(*) FROM passkeys WHERE pool_id = $1 AND username_key = $3) < $7 \
                                 ON CONFLICT (pool_id, credential_id) DO NOTHING",
                            )
                            .bind(&p.pool_id)
                            .bind(&p.credential_id)
                            .bind(&p.username_key)
                            .bind(i64::from(p.counter))
                            .bind(p.created_at)
                            .bind(doc)
                            .bind(i64::from(max))
                            .execute(&mut *tx)
                            .await?;
                            if done.rows_affected() == 0 {
                                let taken: i64 = sqlx::query_scalar(
                                    "SELECT COUNT(*) FROM passkeys WHERE pool_id = $1 AND credential_id = $2",
                                )
                                .bind(&p.pool_id)
                                .bind(&p.credential_id)
                                .fetch_one(&mut *tx)
                                .await?;
                                return Err($crate::shared::Fail::Store(if taken > 0 {
                                    StoreError::Conflict
                                } else {
                                    StoreError::LimitReached
                                }));
                            }
                            tx.commit().await?;
                            Ok(())
                        }
                    })
                    .await
                }

                async fn passkeys(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                ) -> StoreResult<Vec<PasskeyRecord>> {
                    let rows: Vec<(i64, String)> = sqlx::query_as(
                        "SELECT counter, doc FROM passkeys WHERE pool_id = $1 AND username_key = $2 \
                         ORDER BY created_at, credential_id",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
                    rows.iter().map(|(c, d)| passkey(*c, d)).collect()
                }

                async fn raise_passkey_counter(
                    &self,
                    p: &PasskeyRecord,
                    counter: u32,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "UPDATE passkeys SET counter = $1, doc = $2 \
                         WHERE pool_id = $3 AND credential_id = $4 AND counter < $1",
                    )
                    .bind(i64::from(counter))
                    .bind(to_json(p)?)
                    .bind(&p.pool_id)
                    .bind(&p.credential_id)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_passkey(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                    credential_id: &str,
                ) -> StoreResult<bool> {
                    let done = sqlx::query(
                        "DELETE FROM passkeys WHERE pool_id = $1 AND username_key = $2 AND credential_id = $3",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .bind(credential_id)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(done.rows_affected() == 1)
                }

                async fn put_passkey_registration(
                    &self,
                    r: &PasskeyRegistrationRecord,
                ) -> StoreResult<()> {
                    sqlx::query(
                        "INSERT INTO passkey_registrations (pool_id, username_key, expires_at, doc) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (pool_id, username_key) \
                         DO UPDATE SET expires_at = excluded.expires_at, doc = excluded.doc",
                    )
                    .bind(&r.pool_id)
                    .bind(&r.username_key)
                    .bind(r.expires_at)
                    .bind(to_json(r)?)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                    Ok(())
                }

                async fn take_passkey_registration(
                    &self,
                    pool_id: &str,
                    username_key: &str,
                ) -> StoreResult<Option<PasskeyRegistrationRecord>> {
                    let doc: Option<String> = sqlx::query_scalar(
                        "DELETE FROM passkey_registrations WHERE pool_id = $1 AND username_key = $2 RETURNING doc",
                    )
                    .bind(pool_id)
                    .bind(username_key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(backend)?;
                    doc.as_deref().map(from_json).transpose()
                }
            }
        };
    };
}
pub(crate) use passkey_store;
