//! PostgreSQL: the scale-out store, several server processes on one database. Method for method
//! the SQLite store (same order, same sections): where SQLite's single writer makes a sequence
//! atomic, PostgreSQL (READ COMMITTED, its default) gets a conditional UPDATE, an `ON CONFLICT`
//! or a unique index, and transactions that PostgreSQL aborts to break a deadlock (or a
//! serialization failure) are run again.

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use std::collections::BTreeMap;

use gatehouse_core::messages::OutgoingMessage;
use gatehouse_core::store::{
    AliasClaim, AppClientRecord, AuthSessionRecord, CodeGuess, CodeRecord, CodeStore, DeviceRecord,
    DeviceStore, FeedEvent, FilterAttribute, PasswordRecord, PendingSignInRecord, PendingStep,
    PoolStore, RecordChange, RecordFeed, SignInCounter, SignInStore, SigningKeyRecord, StoreResult,
    TokenStore, UserFilter, UserMfaRecord, UserPoolRecord, UserRecord, UserStore,
};
use gatehouse_core::{Store, StoreError};
use gatehouse_wire::{GroupType, UserStatusType};
use serde::de::DeserializeOwned;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions, PgRow};
use sqlx::{Connection, PgConnection, PgPool, Row};

use crate::OpenOptions;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// How long the first connection at start may take: an unreachable database is reported, not
/// waited for.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A pooled connection idle for this long is checked before it serves a statement.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

pub struct PgStore {
    pool: PgPool,
    /// For the change feed's own connection, outside the bounded pool.
    feed_options: PgConnectOptions,
}

fn backend(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict,
        _ => StoreError::Backend(e.to_string()),
    }
}

fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Backend(format!("encode: {e}")))
}

fn from_json<T: DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Backend(format!("decode stored record: {e}")))
}

/// What a retried transaction failed with: a database error keeps its SQLSTATE until the
/// retry loop has looked at it.
enum Fail {
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
/// the transactions that collided do not meet again in step.
async fn retry<T, F, Fut>(mut f: F) -> StoreResult<T>
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

impl PgStore {
    /// Connects, migrates, and returns a store on a bounded pool. Errors are one line and never
    /// contain the URL (the caller names it, without its password).
    pub async fn open(url: &str, options: &OpenOptions) -> Result<Self, String> {
        let base = PgConnectOptions::from_str(url)
            .map_err(|e| format!("invalid PostgreSQL URL: {e}"))?
            .application_name("gatehouse")
            // Notices ("relation … already exists, skipping" at every start) are not news.
            .options([("client_min_messages", "warning")]);

        // Migrations run on a connection of their own without the statement timeout: waiting
        // for another process's migration, or building an index on a large table, may take
        // longer than any request should.
        let mut first = tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&base))
            .await
            .map_err(|_| format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))?
            .map_err(|e| format!("cannot connect: {e}"))?;
        // `Migrator::run` takes a PostgreSQL advisory lock (keyed by the database name) before
        // it reads `_sqlx_migrations`, and releases it when done: of N processes started
        // together one migrates, the others wait and then find nothing to do. Each migration is
        // applied in a transaction, so one interrupted by kill -9 is rolled back and the next
        // start applies it again.
        // (`run_direct` on the connection itself: `run` through `Acquire` makes the future
        // not `Send`, and a server may want to open its store from a spawned task.)
        MIGRATIONS
            .run_direct(&mut first)
            .await
            .map_err(|e| crate::describe_migrate_error(&e))?;
        // Closing also drops the advisory lock should the migrator have left it held.
        let _ = first.close().await;

        // Every pooled connection starts with the statement timeout (a startup parameter: no
        // extra round trip), and a request waits as long for a free connection.
        let timeout_ms = options.statement_timeout.as_millis().max(1);
        let feed_options = base.clone();
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(options.statement_timeout)
            // A connection that sat idle is pinged before use, so that after a restart or
            // failover of the database a dead one is replaced instead of failing a request.
            // One in steady use is not: the ping is a round trip per statement (9 per sign-in).
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= CHECK_IDLE_AFTER {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            // A transaction left open by a process that froze (or whose network path did)
            // would hold its row locks, a user's counter row say, and make every process's
            // requests for that user wait out their statement timeout until PostgreSQL ends
            // it: it ends it after the same time. Gatehouse's own transactions never wait on
            // anything outside the database.
            .connect_lazy_with(base.options([
                ("statement_timeout", timeout_ms),
                ("idle_in_transaction_session_timeout", timeout_ms),
            ]));
        Ok(PgStore { pool, feed_options })
    }

    /// Connections open in the pool and how many of them are idle (for metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The connection pool, for `migrate-store`'s table copy.
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn pool_row(r: &PgRow) -> StoreResult<UserPoolRecord> {
    Ok(UserPoolRecord {
        id: r.get("id"),
        version: r.get("version"),
        pool: from_json(r.get::<&str, _>("doc"))?,
        mfa: from_json(r.get::<&str, _>("mfa"))?,
    })
}

fn client_row(r: &PgRow) -> StoreResult<AppClientRecord> {
    Ok(AppClientRecord {
        client_id: r.get("client_id"),
        pool_id: r.get("pool_id"),
        version: r.get("version"),
        client: from_json(r.get::<&str, _>("doc"))?,
    })
}

/// The JSON part of a user row (as in SQLite: `migrate-store` copies documents as they are).
#[derive(serde::Serialize, serde::Deserialize)]
struct UserDoc {
    attributes: BTreeMap<String, String>,
    password: Option<PasswordRecord>,
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

const USER_COLUMNS: &str =
    "pool_id, username_key, username, sub, status, enabled, created_at, version, failed_sign_ins, locked_until, doc";

fn session_row(r: &PgRow) -> StoreResult<AuthSessionRecord> {
    let mut s: AuthSessionRecord = from_json(r.get::<&str, _>("session_doc"))?;
    // Bulk revocation writes the column only.
    s.revoked_at = r.get("session_revoked_at");
    s.version = r.get("session_version");
    Ok(s)
}

/// A session and its user in one row; the session's columns are renamed so that the user's
/// keep the names [`user_row`] reads.
static SESSION_WITH_USER: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let user_columns: Vec<String> = USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect();
    format!(
        "SELECT s.revoked_at AS session_revoked_at, s.version AS session_version, \
         s.doc AS session_doc, {} FROM auth_sessions s LEFT JOIN users u \
         ON u.pool_id = s.pool_id AND u.username_key = s.username_key WHERE s.id = $1",
        user_columns.join(", ")
    )
});

fn user_row(r: &PgRow) -> StoreResult<UserRecord> {
    let doc: UserDoc = from_json(r.get::<&str, _>("doc"))?;
    Ok(UserRecord {
        pool_id: r.get("pool_id"),
        username_key: r.get("username_key"),
        username: r.get("username"),
        sub: r.get("sub"),
        status: UserStatusType::parse(r.get::<&str, _>("status")),
        enabled: r.get::<i64, _>("enabled") != 0,
        attributes: doc.attributes,
        password: doc.password,
        password_history: doc.password_history,
        temporary_password_expires_at: doc.temporary_password_expires_at,
        mfa_options: doc.mfa_options,
        mfa: doc.mfa,
        created_at: r.get("created_at"),
        updated_at: doc.updated_at,
        version: r.get("version"),
        failed_sign_ins: r.get::<i64, _>("failed_sign_ins").clamp(0, u32::MAX as i64) as u32,
        locked_until: r.get("locked_until"),
    })
}

fn user_doc(u: &UserRecord) -> StoreResult<String> {
    to_json(&UserDoc {
        attributes: u.attributes.clone(),
        password: u.password.clone(),
        password_history: u.password_history.clone(),
        temporary_password_expires_at: u.temporary_password_expires_at,
        updated_at: u.updated_at,
        mfa_options: u.mfa_options.clone(),
        mfa: u.mfa.clone(),
    })
}

/// The SQL expression a ListUsers filter attribute reads. Computed values get the "C" collation
/// the key columns have, so that prefix ranges compare bytewise as in SQLite.
fn filter_column(attribute: FilterAttribute) -> &'static str {
    match attribute {
        FilterAttribute::Username => "username",
        FilterAttribute::Email => "email",
        FilterAttribute::PhoneNumber => "phone_number",
        FilterAttribute::PreferredUsername => "preferred_username",
        FilterAttribute::Sub => "sub",
        FilterAttribute::UserStatus => "status",
        FilterAttribute::Status => {
            "((CASE enabled WHEN 1 THEN 'Enabled' ELSE 'Disabled' END) COLLATE \"C\")"
        }
        FilterAttribute::Name => "(user_attribute(doc, 'name') COLLATE \"C\")",
        FilterAttribute::GivenName => "(user_attribute(doc, 'given_name') COLLATE \"C\")",
        FilterAttribute::FamilyName => "(user_attribute(doc, 'family_name') COLLATE \"C\")",
    }
}

const CODE_COLUMNS: &str =
    "pool_id, username_key, purpose, code_hash, attribute, expires_at, guesses, issued, window_started_at";

fn code_row(r: &PgRow) -> CodeRecord {
    CodeRecord {
        pool_id: r.get("pool_id"),
        username_key: r.get("username_key"),
        purpose: r.get("purpose"),
        code_hash: r.get("code_hash"),
        attribute: r.get("attribute"),
        expires_at: r.get("expires_at"),
        guesses: r.get::<i64, _>("guesses").clamp(0, u32::MAX as i64) as u32,
        issued: r.get::<i64, _>("issued").clamp(0, u32::MAX as i64) as u32,
        window_started_at: r.get("window_started_at"),
    }
}

/// How often a taken-over alias is claimed again when a plain claim was committed between our
/// delete and our insert, before the claim is reported taken.
const TAKE_OVER_ATTEMPTS: usize = 5;

/// Writes a user's alias claims inside its write's transaction. A claim held by another user
/// fails the transaction (`AliasTaken`), unless it is taken over: then the holder loses the
/// claim and its `{attribute}_verified` becomes "false", in the same transaction.
///
/// Unlike SQLite, where the whole transaction holds the write lock, a READ COMMITTED statement
/// sees only what was committed when it began. Take-overs of one alias therefore queue on a
/// transaction-scoped advisory lock: once it is granted, the previous taker has committed and
/// the next statement sees it as the holder. A plain claim committed between our DELETE and our
/// INSERT is not queued: the insert does nothing on conflict, and the alias is taken over
/// again from a fresh statement.
async fn claim_aliases(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    pool_id: &str,
    username_key: &str,
    aliases: &[AliasClaim],
) -> Result<(), Fail> {
    for a in aliases {
        if !a.take_over {
            sqlx::query(
                "INSERT INTO user_aliases (pool_id, alias, username_key) VALUES ($1, $2, $3)",
            )
            .bind(pool_id)
            .bind(&a.key)
            .bind(username_key)
            .execute(&mut **tx)
            .await
            .map_err(|e| match backend(e) {
                StoreError::Conflict => StoreError::AliasTaken(a.attribute.clone()),
                other => other,
            })?;
            continue;
        }
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("gatehouse alias take-over {pool_id} {}", a.key))
            .execute(&mut **tx)
            .await?;
        let mut claimed = false;
        for _ in 0..TAKE_OVER_ATTEMPTS {
            let holder: Option<String> = sqlx::query_scalar(
                "DELETE FROM user_aliases WHERE pool_id = $1 AND alias = $2 AND username_key <> $3 \
                 RETURNING username_key",
            )
            .bind(pool_id)
            .bind(&a.key)
            .bind(username_key)
            .fetch_optional(&mut **tx)
            .await?;
            if let Some(holder) = holder {
                unverify(tx, pool_id, &holder, &a.attribute).await?;
            }
            claimed = sqlx::query(
                "INSERT INTO user_aliases (pool_id, alias, username_key) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(pool_id)
            .bind(&a.key)
            .bind(username_key)
            .execute(&mut **tx)
            .await?
            .rows_affected()
                == 1;
            if claimed {
                break;
            }
        }
        if !claimed {
            return Err(StoreError::AliasTaken(a.attribute.clone()).into());
        }
    }
    Ok(())
}

/// Sets the holder's `{attribute}_verified` attribute to "false" (SQLite's `json_set`). Done on
/// the decoded document rather than with jsonb functions, which refuse some strings JSON allows
/// ("\u0000") and would fail the take-over of such a user's alias.
async fn unverify(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    pool_id: &str,
    username_key: &str,
    attribute: &str,
) -> Result<(), Fail> {
    let doc: Option<String> = sqlx::query_scalar(
        "SELECT doc FROM users WHERE pool_id = $1 AND username_key = $2 FOR UPDATE",
    )
    .bind(pool_id)
    .bind(username_key)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(doc) = doc else { return Ok(()) };
    let mut doc: serde_json::Value = from_json(&doc)?;
    doc["attributes"][format!("{attribute}_verified")] = "false".into();
    sqlx::query(
        "UPDATE users SET doc = $1, version = version + 1 WHERE pool_id = $2 AND username_key = $3",
    )
    .bind(to_json(&doc)?)
    .bind(pool_id)
    .bind(username_key)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn group_row(r: &PgRow) -> StoreResult<GroupType> {
    from_json(r.get::<&str, _>("doc"))
}

#[async_trait]
impl PoolStore for PgStore {
    async fn insert_user_pool(&self, p: &UserPoolRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_pools (id, name, version, created_at, doc, mfa) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&p.id)
        .bind(p.pool.name.as_deref().unwrap_or_default())
        .bind(p.version)
        .bind((p.pool.creation_date.unwrap_or_default() * 1000.0) as i64)
        .bind(to_json(&p.pool)?)
        .bind(to_json(&p.mfa)?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn user_pool(&self, id: &str) -> StoreResult<Option<UserPoolRecord>> {
        let row = sqlx::query("SELECT id, version, doc, mfa FROM user_pools WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(pool_row).transpose()
    }

    async fn update_user_pool(&self, p: &UserPoolRecord) -> StoreResult<bool> {
        // The notification leaves with the commit, and only if the row was written.
        let written = sqlx::query(
            "WITH u AS (UPDATE user_pools SET name = $1, version = $2, doc = $3, mfa = $4 WHERE id = $5 AND version = $6 RETURNING id) \
             SELECT pg_notify('gatehouse_records', 'pool:' || id) FROM u",
        )
        .bind(p.pool.name.as_deref().unwrap_or_default())
        .bind(p.version)
        .bind(to_json(&p.pool)?)
        .bind(to_json(&p.mfa)?)
        .bind(&p.id)
        .bind(p.version - 1)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(written.len() == 1)
    }

    async fn delete_user_pool(&self, id: &str) -> StoreResult<bool> {
        // The cascade touches many rows of many tables: it may meet another writer's locks.
        retry(move || async move {
            let deleted = sqlx::query(
                "WITH d AS (DELETE FROM user_pools WHERE id = $1 RETURNING id) \
                 SELECT pg_notify('gatehouse_records', 'pool:' || id) FROM d",
            )
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
        // The visible ids travel as one array, whatever their number.
        let (only_sql, limit_param) = if only.is_some() {
            (" AND id = ANY($2)", "$3")
        } else {
            ("", "$2")
        };
        let sql = format!(
            "SELECT id, version, doc, mfa FROM user_pools WHERE id > $1{only_sql} ORDER BY id LIMIT {limit_param}"
        );
        let mut q = sqlx::query(&sql).bind(after.unwrap_or(""));
        if let Some(ids) = only {
            q = q.bind(ids);
        }
        let rows = q
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(pool_row).collect()
    }

    async fn insert_app_client(&self, c: &AppClientRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO app_clients (client_id, pool_id, name, version, doc) VALUES ($1, $2, $3, $4, $5)")
            .bind(&c.client_id)
            .bind(&c.pool_id)
            .bind(c.client.client_name.as_deref().unwrap_or_default())
            .bind(c.version)
            .bind(to_json(&c.client)?)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn app_client(&self, client_id: &str) -> StoreResult<Option<AppClientRecord>> {
        let row = sqlx::query(
            "SELECT client_id, pool_id, version, doc FROM app_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(client_row).transpose()
    }

    async fn update_app_client(&self, c: &AppClientRecord) -> StoreResult<bool> {
        let written = sqlx::query(
            "WITH u AS (UPDATE app_clients SET name = $1, version = $2, doc = $3 WHERE client_id = $4 AND version = $5 RETURNING client_id) \
             SELECT pg_notify('gatehouse_records', 'client:' || client_id) FROM u",
        )
        .bind(c.client.client_name.as_deref().unwrap_or_default())
        .bind(c.version)
        .bind(to_json(&c.client)?)
        .bind(&c.client_id)
        .bind(c.version - 1)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(written.len() == 1)
    }

    async fn delete_app_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let deleted = sqlx::query(
            "WITH d AS (DELETE FROM app_clients WHERE pool_id = $1 AND client_id = $2 RETURNING client_id) \
             SELECT pg_notify('gatehouse_records', 'client:' || client_id) FROM d",
        )
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
        let rows = sqlx::query(
            "SELECT client_id, pool_id, version, doc FROM app_clients WHERE pool_id = $1 AND client_id > $2 ORDER BY client_id LIMIT $3",
        )
        .bind(pool_id)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(client_row).collect()
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
        let rows = sqlx::query(
            "SELECT pool_id, kid, token_use, sealed_private_key, created_at FROM signing_keys \
             WHERE pool_id = $1 ORDER BY created_at, kid",
        )
        .bind(pool_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(rows
            .iter()
            .map(|r| SigningKeyRecord {
                pool_id: r.get("pool_id"),
                kid: r.get("kid"),
                token_use: r.get("token_use"),
                sealed_private_key: r.get("sealed_private_key"),
                created_at: r.get("created_at"),
            })
            .collect())
    }
}

#[async_trait]
impl UserStore for PgStore {
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
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND username_key = $2"
        ))
        .bind(pool_id)
        .bind(username_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(user_row).transpose()
    }

    async fn user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND sub = $2"
        ))
        .bind(pool_id)
        .bind(sub)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(user_row).transpose()
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
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND {column} = $2"
        ))
        .bind(pool_id)
        .bind(value)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(user_row).collect()
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
        // No index hints: PostgreSQL's planner has statistics and picks the filter's index.
        let mut sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND username_key > $2");
        let mut binds: Vec<String> = Vec::new();
        if let Some(f) = filter {
            let col = filter_column(f.attribute);
            if f.prefix {
                // A range keeps the index usable; U+10FFFF sorts after every character (the
                // columns compare bytewise, COLLATE "C").
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
        let mut q = sqlx::query(&sql).bind(pool_id).bind(after.unwrap_or(""));
        for b in &binds {
            q = q.bind(b);
        }
        let rows = q
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(user_row).collect()
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
        let row = sqlx::query("SELECT doc FROM groups WHERE pool_id = $1 AND name = $2")
            .bind(pool_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(group_row).transpose()
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
        let rows = sqlx::query(
            "SELECT doc FROM groups WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT $3",
        )
        .bind(pool_id)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(group_row).collect()
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
        let rows = sqlx::query(
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
        rows.iter().map(group_row).collect()
    }

    async fn members(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM group_members m JOIN users u ON u.pool_id = m.pool_id AND u.username_key = m.username_key \
             WHERE m.pool_id = $1 AND m.group_name = $2 AND m.username_key > $3 ORDER BY m.username_key LIMIT $4",
            USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
        ))
        .bind(pool_id)
        .bind(group)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(user_row).collect()
    }
}

#[async_trait]
impl CodeStore for PgStore {
    async fn swap_code(&self, c: &CodeRecord, expected: Option<&CodeRecord>) -> StoreResult<bool> {
        // Both are one statement: a simultaneous insert of the same key waits for the first and
        // then does nothing; a simultaneous update waits for the row and re-checks the
        // expected values on what the other wrote.
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
        // A concurrent guess waits for the row and re-checks `guesses < max` on what it wrote.
        let row = sqlx::query(&format!(
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
            return Ok(CodeGuess::Taken(code_row(&r)));
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
        let row = sqlx::query(&format!(
            "SELECT {CODE_COLUMNS} FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3"
        ))
        .bind(pool_id)
        .bind(username_key)
        .bind(purpose)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(row.as_ref().map(code_row))
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
        // The newest `limit`, returned oldest first.
        let rows = sqlx::query(
            "SELECT doc FROM (SELECT seq, doc FROM outbox WHERE ($1::text IS NULL OR pool_id = $1) AND ($2::text IS NULL OR username = $2) \
             ORDER BY seq DESC LIMIT $3) newest ORDER BY seq",
        )
        .bind(pool_id)
        .bind(username)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| from_json(r.get::<&str, _>("doc")))
            .collect()
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

#[async_trait]
impl SignInStore for PgStore {
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
        // A simultaneous attempt waits for the row, then finds the counter changed (SQLite's
        // `IS` is IS NOT DISTINCT FROM: NULL equals NULL).
        let done = sqlx::query(
            "UPDATE users SET failed_sign_ins = $1, locked_until = $2 \
             WHERE pool_id = $3 AND username_key = $4 AND failed_sign_ins = $5 \
               AND locked_until IS NOT DISTINCT FROM $6",
        )
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
        // A simultaneous insert of the same id waits for the first to commit, then does nothing.
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
        let row = sqlx::query("SELECT doc FROM pending_sign_ins WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| from_json(r.get::<&str, _>("doc"))).transpose()
    }

    async fn pending_sign_in_for_device(
        &self,
        pool_id: &str,
        client_id: &str,
        username_key: &str,
        device_key: &str,
        now: i64,
    ) -> StoreResult<Option<PendingSignInRecord>> {
        let row = sqlx::query(
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
        row.map(|r| from_json(r.get::<&str, _>("doc"))).transpose()
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

#[async_trait]
impl TokenStore for PgStore {
    async fn insert_auth_session(&self, s: &AuthSessionRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO auth_sessions (id, pool_id, username_key, client_id, device_key, expires_at, revoked_at, version, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&s.id)
        .bind(&s.pool_id)
        .bind(&s.username_key)
        .bind(&s.client_id)
        .bind(&s.device_key)
        .bind(s.expires_at)
        .bind(s.revoked_at)
        .bind(s.version)
        .bind(to_json(s)?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn auth_session(&self, id: &str) -> StoreResult<Option<AuthSessionRecord>> {
        let row = sqlx::query(
            "SELECT revoked_at AS session_revoked_at, version AS session_version, \
             doc AS session_doc FROM auth_sessions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(session_row).transpose()
    }

    async fn auth_session_with_user(
        &self,
        id: &str,
    ) -> StoreResult<Option<(AuthSessionRecord, Option<UserRecord>)>> {
        let row = sqlx::query(&SESSION_WITH_USER)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        let Some(r) = row else { return Ok(None) };
        let s = session_row(&r)?;
        let user = match r.get::<Option<&str>, _>("doc") {
            Some(_) => Some(user_row(&r)?),
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
        // Many rows, in whatever order: it may deadlock with a ForgetDevice of the same user.
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

#[async_trait]
impl DeviceStore for PgStore {
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
        let row = sqlx::query("SELECT doc FROM devices WHERE pool_id = $1 AND device_key = $2")
            .bind(pool_id)
            .bind(device_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| from_json(r.get::<&str, _>("doc"))).transpose()
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
        spare: Option<gatehouse_core::store::SparedSession<'_>>,
    ) -> StoreResult<bool> {
        retry(|| async {
            let mut tx = self.pool.begin().await?;
            let gone =
                sqlx::query("DELETE FROM devices WHERE pool_id = $1 AND device_key = $2")
                    .bind(pool_id)
                    .bind(device_key)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
            let spared = spare.map(|s| s.id);
            sqlx::query(
                "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 \
                 WHERE pool_id = $2 AND device_key = $3 AND revoked_at IS NULL AND ($4::text IS NULL OR id <> $4)",
            )
            .bind(at)
            .bind(pool_id)
            .bind(device_key)
            .bind(spared)
            .execute(&mut *tx)
            .await?;
            if let Some(s) = spare {
                // The version moves, so a refresh that read the session before cannot write it
                // back without the mark. The document holds ids, hashes and numbers only: jsonb
                // takes it as it is.
                sqlx::query(
                    "UPDATE auth_sessions SET expires_at = LEAST(expires_at, $1), version = version + 1, \
                     doc = jsonb_set(jsonb_set(doc::jsonb, '{refresh_revoked_at}', to_jsonb($2::bigint)), \
                                     '{expires_at}', to_jsonb(LEAST(expires_at, $1)))::text \
                     WHERE id = $3 AND pool_id = $4 AND device_key = $5 AND revoked_at IS NULL",
                )
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
        let rows = sqlx::query(&sql)
            .bind(pool_id)
            .bind(username_key)
            .bind(after.unwrap_or(""))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| from_json(r.get::<&str, _>("doc")))
            .collect()
    }
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn server_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String> {
        // Of simultaneous first starts, one insert wins; the others wait for it and read its value.
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

    async fn reset(&self) -> StoreResult<()> {
        retry(|| async {
            let mut tx = self.pool.begin().await?;
            for table in [
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
            ] {
                sqlx::query(&format!("DELETE FROM {table}"))
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("SELECT pg_notify('gatehouse_records', '*')")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    fn record_feed(&self) -> Option<Box<dyn RecordFeed>> {
        Some(Box::new(PgRecordFeed {
            options: self.feed_options.clone(),
            listener: None,
            next_heartbeat: Instant::now(),
            vouch: None,
        }))
    }
}

/// The channel on which pool and app-client writes announce themselves: the payload is
/// `pool:{id}`, `client:{id}` or `*` (every record), sent by the writing statement itself so it
/// leaves exactly when the write commits.
const FEED_CHANNEL: &str = "gatehouse_records";
/// How often the feed asks the database to vouch that every change until then was delivered
/// (a `SELECT 1` on the listening connection: PostgreSQL sends the notifications committed
/// before a query ahead of its answer). Caches rely on these words: a feed cut off without a
/// sound (a frozen network path) stops vouching, and caches stop trusting it within 700 ms.
const FEED_HEARTBEAT: Duration = Duration::from_millis(200);
/// A heartbeat not answered within this is a lost connection.
const FEED_PING_TIMEOUT: Duration = Duration::from_secs(1);

/// LISTEN on a connection of its own (not one of the bounded pool's, which serve requests).
struct PgRecordFeed {
    options: PgConnectOptions,
    listener: Option<PgListener>,
    next_heartbeat: Instant,
    /// A heartbeat answered at this send time, to report once the notifications that arrived
    /// before its answer have been.
    vouch: Option<Instant>,
}

impl PgRecordFeed {
    async fn connect(&self) -> Result<PgListener, sqlx::Error> {
        let pool = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(self.options.clone().application_name("gatehouse-feed"));
        let mut listener = PgListener::connect_with(&pool).await?;
        // Reconnection is this feed's business: it must say `Lost` and then `Live`.
        listener.eager_reconnect(false);
        listener.ignore_pool_close_event(true);
        listener.listen(FEED_CHANNEL).await?;
        Ok(listener)
    }

    fn lost(&mut self) -> FeedEvent {
        self.listener = None;
        self.vouch = None;
        FeedEvent::Lost
    }
}

fn parse_change(payload: &str) -> Option<RecordChange> {
    if payload == "*" {
        return Some(RecordChange::All);
    }
    match payload.split_once(':')? {
        ("pool", id) => Some(RecordChange::Pool(id.to_string())),
        ("client", id) => Some(RecordChange::Client(id.to_string())),
        _ => None,
    }
}

#[async_trait]
impl RecordFeed for PgRecordFeed {
    async fn next(&mut self) -> FeedEvent {
        loop {
            let Some(listener) = self.listener.as_mut() else {
                match tokio::time::timeout(CONNECT_TIMEOUT, self.connect()).await {
                    Ok(Ok(l)) => {
                        self.listener = Some(l);
                        self.next_heartbeat = Instant::now();
                        return FeedEvent::Live;
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "change feed: cannot connect"),
                    Err(_) => tracing::debug!("change feed: no answer to connect"),
                }
                tokio::time::sleep(FEED_HEARTBEAT).await;
                continue;
            };
            // Notifications that came in with a heartbeat's answer are reported before it.
            if let Some(n) = listener.next_buffered() {
                match parse_change(n.payload()) {
                    Some(change) => return FeedEvent::Change(change),
                    None => continue,
                }
            }
            if let Some(at) = self.vouch.take() {
                return FeedEvent::Vouched(at);
            }
            let now = Instant::now();
            if now >= self.next_heartbeat {
                self.next_heartbeat = now + FEED_HEARTBEAT;
                let ping = sqlx::query("SELECT 1").execute(&mut *listener);
                match tokio::time::timeout(FEED_PING_TIMEOUT, ping).await {
                    Ok(Ok(_)) => self.vouch = Some(now),
                    _ => return self.lost(),
                }
                continue;
            }
            // Receiving is cancel-safe in sqlx (buffered reads): a timeout loses nothing.
            match tokio::time::timeout(self.next_heartbeat - now, listener.try_recv()).await {
                Ok(Ok(Some(n))) => {
                    if let Some(change) = parse_change(n.payload()) {
                        return FeedEvent::Change(change);
                    }
                }
                Ok(Ok(None)) | Ok(Err(_)) => return self.lost(),
                Err(_heartbeat_due) => {}
            }
        }
    }
}
