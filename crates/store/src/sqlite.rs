//! SQLite: WAL mode, foreign keys on, migrations embedded in the binary. The trait methods are
//! written once for both back ends in `shared.rs`; this file opens the database and holds what
//! SQLite does its own way.

use std::str::FromStr;
use std::time::Duration;

use gatehouse_core::store::{AliasClaim, FilterAttribute, StoreResult, UserFilter};
use gatehouse_core::StoreError;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection, SqlitePool};

use crate::shared::{self, backend, to_json};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
    /// One connection of its own for the read every access-token operation makes (the token's
    /// session joined with its user): sqlx hands each statement to its connection's worker
    /// thread, and a connection kept busy by a stream of such short indexed reads rarely
    /// sleeps, where spread over the pool's eight each hand-off is a wake-up (GetUser 56 µs of
    /// server CPU instead of 76, docs/measurements.md). Only that read uses it, and it never
    /// holds it across another statement, so nothing slow queues in front of it.
    token_reader: SqlitePool,
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self, sqlx::Error> {
        let memory = url.contains(":memory:");
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .foreign_keys(true)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            // WAL + NORMAL: a committed transaction survives a process crash; only an OS crash
            // can lose the last few.
            .synchronous(SqliteSynchronous::Normal)
            // Deleted and overwritten records (redacted outbox messages, spent codes) are zeroed
            // in the file rather than left in free space.
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(5));
        if !memory {
            // One connection alone creates the file, switches it to WAL and migrates it: when
            // the pool's connections raced to do that, a fresh database could answer
            // "database is locked" (changing the journal mode does not wait for a busy lock).
            // Processes started together on a fresh file take turns (sqlx has no migration lock
            // for SQLite): the lock file beside the database is held while one migrates.
            let lock = migration_lock(opts.get_filename()).await?;
            let mut first = SqliteConnection::connect_with(&opts).await?;
            MIGRATIONS.run(&mut first).await?;
            first.close().await?;
            drop(lock);
        }
        // An in-memory database exists per connection: keep exactly one (and share it).
        let pool = connections(if memory { 1 } else { 8 })
            .connect_with(opts.clone())
            .await?;
        if memory {
            MIGRATIONS.run(&pool).await?;
        }
        let token_reader = if memory {
            pool.clone()
        } else {
            connections(1).connect_with(opts).await?
        };
        Ok(SqliteStore { pool, token_reader })
    }

    /// Connections open in the pool and how many of them are idle (for metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The connection pool, for `migrate-store`'s table copy.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn token_reads(&self) -> &SqlitePool {
        &self.token_reader
    }
}

/// A pool of at most `max` connections, all kept open.
fn connections(max: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max)
        .min_connections(1)
        // A SQLite connection is a local file handle that cannot go stale; the default ping
        // before each acquire would double the worker round trips of every query.
        .test_before_acquire(false)
        .idle_timeout(None)
        .max_lifetime(None)
}

/// An exclusive lock on `<database>.migrate-lock`, released when the file is dropped.
async fn migration_lock(db: &std::path::Path) -> Result<std::fs::File, sqlx::Error> {
    let mut path = db.as_os_str().to_owned();
    path.push(".migrate-lock");
    tokio::task::spawn_blocking(move || {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok(file)
    })
    .await
    .map_err(|e| sqlx::Error::Io(std::io::Error::other(e)))?
    .map_err(sqlx::Error::Io)
}

// Where SQLite's SQL differs from PostgreSQL's (postgres.rs has the same section).

/// Pool and app-client writes answer with the row they wrote (PostgreSQL's also announce it to
/// the other processes).
const UPDATE_USER_POOL: &str =
    "UPDATE user_pools SET name = $1, version = $2, doc = $3, mfa = $4, device_policy = $5 WHERE id = $6 AND version = $7 RETURNING id";
const DELETE_USER_POOL: &str = "DELETE FROM user_pools WHERE id = $1 RETURNING id";
const UPDATE_APP_CLIENT: &str =
    "UPDATE app_clients SET name = $1, version = $2, doc = $3 WHERE client_id = $4 AND version = $5 RETURNING client_id";
const DELETE_APP_CLIENT: &str =
    "DELETE FROM app_clients WHERE pool_id = $1 AND client_id = $2 RETURNING client_id";

const PUT_RISK_CONFIGURATION: &str =
    "INSERT INTO risk_configurations (pool_id, client_id, doc) VALUES ($1, $2, $3) \
     ON CONFLICT (pool_id, client_id) DO UPDATE SET doc = excluded.doc";
const DELETE_RISK_CONFIGURATION: &str =
    "DELETE FROM risk_configurations WHERE pool_id = $1 AND client_id = $2";

/// A job's file, only while the job is Created: one statement, and SQLite's writes are one at
/// a time, so StartUserImportJob cannot commit in between.
const PUT_IMPORT_FILE: &str = "INSERT INTO user_import_files (pool_id, job_id, csv) \
     SELECT pool_id, job_id, $3 FROM user_import_jobs \
     WHERE pool_id = $1 AND job_id = $2 AND status = 'Created' \
     ON CONFLICT (pool_id, job_id) DO UPDATE SET csv = excluded.csv";

/// The visible pool ids travel as one JSON array, whatever their number.
const ONLY_POOL_IDS: &str = " AND id IN (SELECT value FROM json_each($2))";

fn pool_ids(ids: &[String]) -> StoreResult<String> {
    to_json(&ids)
}

/// The newest `limit` messages, returned oldest first.
const MESSAGES: &str =
    "SELECT doc FROM (SELECT seq, doc FROM outbox WHERE ($1 IS NULL OR pool_id = $1) AND ($2 IS NULL OR username = $2) \
     ORDER BY seq DESC LIMIT $3) ORDER BY seq";

/// `IS` takes NULL as equal to NULL (PostgreSQL's IS NOT DISTINCT FROM).
const SWAP_SIGN_IN_COUNTER: &str = "UPDATE users SET failed_sign_ins = $1, locked_until = $2 \
     WHERE pool_id = $3 AND username_key = $4 AND failed_sign_ins = $5 AND locked_until IS $6";

/// The device's sessions but the spared one (`$4`, NULL when none).
const REVOKE_DEVICE_SESSIONS: &str =
    "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 \
     WHERE pool_id = $2 AND device_key = $3 AND revoked_at IS NULL AND ($4 IS NULL OR id <> $4)";

const SPARE_DEVICE_SESSION: &str =
    "UPDATE auth_sessions SET expires_at = MIN(expires_at, $1), version = version + 1, \
     doc = json_set(doc, '$.refresh_revoked_at', $2, '$.expires_at', MIN(expires_at, $1)) \
     WHERE id = $3 AND pool_id = $4 AND device_key = $5 AND revoked_at IS NULL";

/// One process: no one else to tell.
const ANNOUNCE_RESET: Option<&str> = None;

/// Nothing to lock before counting a pool's identity providers: SQLite writes one at a time,
/// and the count and the insert are one statement (a read first would start a snapshot that a
/// simultaneous writer could make stale).
const LOCK_POOL_PROVIDERS: Option<&str> = None;
/// Serialises a user's sign-ins while the session cap is applied (SQLite has one writer already).
const LOCK_USER: Option<&str> = None;

/// Without statistics SQLite would walk the primary key (it gives the order) and test every
/// user; a filter on an indexed column reads that index instead and sorts the few matches.
fn index_hint(filter: Option<&UserFilter>) -> &'static str {
    match filter.map(|f| f.attribute) {
        Some(FilterAttribute::Username) => " INDEXED BY users_by_username",
        Some(FilterAttribute::Email) => " INDEXED BY users_by_email",
        Some(FilterAttribute::PhoneNumber) => " INDEXED BY users_by_phone",
        Some(FilterAttribute::PreferredUsername) => " INDEXED BY users_by_preferred_username",
        Some(FilterAttribute::Sub) => " INDEXED BY users_by_sub",
        _ => "",
    }
}

/// The SQL expression a ListUsers filter attribute reads.
fn filter_column(attribute: FilterAttribute) -> &'static str {
    match attribute {
        FilterAttribute::Username => "username",
        FilterAttribute::Email => "email",
        FilterAttribute::PhoneNumber => "phone_number",
        FilterAttribute::PreferredUsername => "preferred_username",
        FilterAttribute::Sub => "sub",
        FilterAttribute::UserStatus => "status",
        FilterAttribute::Status => "(CASE enabled WHEN 1 THEN 'Enabled' ELSE 'Disabled' END)",
        FilterAttribute::Name => "json_extract(doc, '$.attributes.name')",
        FilterAttribute::GivenName => "json_extract(doc, '$.attributes.given_name')",
        FilterAttribute::FamilyName => "json_extract(doc, '$.attributes.family_name')",
    }
}

/// Writes a user's alias claims inside its write's transaction. A claim held by another user
/// fails the transaction (`AliasTaken`), unless it is taken over: then the holder loses the
/// claim and its `{attribute}_verified` becomes "false", in the same transaction.
async fn claim_aliases(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    pool_id: &str,
    username_key: &str,
    aliases: &[AliasClaim],
) -> StoreResult<()> {
    for a in aliases {
        if a.take_over {
            let holder: Option<String> = sqlx::query_scalar(
                "DELETE FROM user_aliases WHERE pool_id = $1 AND alias = $2 AND username_key <> $3 \
                 RETURNING username_key",
            )
            .bind(pool_id)
            .bind(&a.key)
            .bind(username_key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?;
            if let Some(holder) = holder {
                sqlx::query(
                    "UPDATE users SET doc = json_set(doc, $1, 'false'), version = version + 1 \
                     WHERE pool_id = $2 AND username_key = $3",
                )
                .bind(format!("$.attributes.{}_verified", a.attribute))
                .bind(pool_id)
                .bind(&holder)
                .execute(&mut **tx)
                .await
                .map_err(backend)?;
            }
        }
        sqlx::query("INSERT INTO user_aliases (pool_id, alias, username_key) VALUES ($1, $2, $3)")
            .bind(pool_id)
            .bind(&a.key)
            .bind(username_key)
            .execute(&mut **tx)
            .await
            .map_err(|e| match backend(e) {
                StoreError::Conflict => StoreError::AliasTaken(a.attribute.clone()),
                other => other,
            })?;
    }
    Ok(())
}

// The trait methods, written once for both back ends.
shared::pool_store!(SqliteStore);
shared::user_store!(SqliteStore);
shared::code_store!(SqliteStore);
shared::sign_in_store!(SqliteStore);
shared::token_store!(SqliteStore);
shared::device_store!(SqliteStore);
shared::auth_event_store!(SqliteStore);
shared::import_store!(SqliteStore);
shared::identity_provider_store!(SqliteStore);
shared::terms_store!(SqliteStore);
shared::branding_store!(SqliteStore);
shared::passkey_store!(SqliteStore);
shared::store!(SqliteStore);
