//! PostgreSQL: the scale-out store, several server processes on one database. The trait methods
//! are in `shared.rs`, the same statements as SQLite's; this file opens the database and holds
//! what PostgreSQL does its own way. Where SQLite's single writer makes a sequence atomic,
//! PostgreSQL (READ COMMITTED, its default) gets a conditional UPDATE, an `ON CONFLICT` or a
//! unique index, and transactions that PostgreSQL aborts to break a deadlock (or a serialization
//! failure) are run again (`shared::retry`).

use std::str::FromStr;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use gatehouse_core::store::{
    AliasClaim, FeedEvent, FilterAttribute, RecordChange, RecordFeed, StoreResult, UserFilter,
};
use gatehouse_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::shared::{self, backend, from_json, to_json, Fail};
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

    /// Where an access token's session and user are read: the pool, like every statement.
    fn token_reads(&self) -> &PgPool {
        &self.pool
    }
}

// Where PostgreSQL's SQL differs from SQLite's (sqlite.rs has the same section).

/// Pool and app-client writes announce themselves on [`FEED_CHANNEL`]: the notification leaves
/// with the commit, and only if a row was written (it is the row the statement answers with).
const UPDATE_USER_POOL: &str =
    "WITH u AS (UPDATE user_pools SET name = $1, version = $2, doc = $3, mfa = $4, device_policy = $5 WHERE id = $6 AND version = $7 RETURNING id) \
     SELECT pg_notify('gatehouse_records', 'pool:' || id) FROM u";
const DELETE_USER_POOL: &str = "WITH d AS (DELETE FROM user_pools WHERE id = $1 RETURNING id) \
     SELECT pg_notify('gatehouse_records', 'pool:' || id) FROM d";
const UPDATE_APP_CLIENT: &str =
    "WITH u AS (UPDATE app_clients SET name = $1, version = $2, doc = $3 WHERE client_id = $4 AND version = $5 RETURNING client_id) \
     SELECT pg_notify('gatehouse_records', 'client:' || client_id) FROM u";
const DELETE_APP_CLIENT: &str =
    "WITH d AS (DELETE FROM app_clients WHERE pool_id = $1 AND client_id = $2 RETURNING client_id) \
     SELECT pg_notify('gatehouse_records', 'client:' || client_id) FROM d";
/// A risk configuration is cached with its pool: its write announces the pool.
const PUT_RISK_CONFIGURATION: &str =
    "WITH w AS (INSERT INTO risk_configurations (pool_id, client_id, doc) VALUES ($1, $2, $3) \
     ON CONFLICT (pool_id, client_id) DO UPDATE SET doc = excluded.doc RETURNING pool_id) \
     SELECT pg_notify('gatehouse_records', 'pool:' || pool_id) FROM w";
const DELETE_RISK_CONFIGURATION: &str =
    "WITH d AS (DELETE FROM risk_configurations WHERE pool_id = $1 AND client_id = $2 RETURNING pool_id) \
     SELECT pg_notify('gatehouse_records', 'pool:' || pool_id) FROM d";

/// A job's file, only while the job is Created: the job row is share-locked, so
/// StartUserImportJob's update waits for this insert, or this insert, waiting for the update,
/// sees the new status and writes nothing.
const PUT_IMPORT_FILE: &str = "INSERT INTO user_import_files (pool_id, job_id, csv) \
     SELECT pool_id, job_id, $3 FROM user_import_jobs \
     WHERE pool_id = $1 AND job_id = $2 AND status = 'Created' FOR SHARE \
     ON CONFLICT (pool_id, job_id) DO UPDATE SET csv = excluded.csv";

/// The visible pool ids travel as one array, whatever their number.
const ONLY_POOL_IDS: &str = " AND id = ANY($2)";

fn pool_ids(ids: &[String]) -> StoreResult<&[String]> {
    Ok(ids)
}

/// The newest `limit` messages, returned oldest first. A parameter that may be NULL needs a
/// type (`::text`), a subquery a name.
const MESSAGES: &str =
    "SELECT doc FROM (SELECT seq, doc FROM outbox WHERE ($1::text IS NULL OR pool_id = $1) AND ($2::text IS NULL OR username = $2) \
     ORDER BY seq DESC LIMIT $3) newest ORDER BY seq";

/// SQLite's `IS` is IS NOT DISTINCT FROM: NULL equals NULL.
const SWAP_SIGN_IN_COUNTER: &str = "UPDATE users SET failed_sign_ins = $1, locked_until = $2 \
     WHERE pool_id = $3 AND username_key = $4 AND failed_sign_ins = $5 \
       AND locked_until IS NOT DISTINCT FROM $6";

/// The device's sessions but the spared one (`$4`, NULL when none: hence its type).
const REVOKE_DEVICE_SESSIONS: &str = "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 \
     WHERE pool_id = $2 AND device_key = $3 AND revoked_at IS NULL AND ($4::text IS NULL OR id <> $4)";

/// The document holds ids, hashes and numbers only: jsonb takes it as it is.
const SPARE_DEVICE_SESSION: &str =
    "UPDATE auth_sessions SET expires_at = LEAST(expires_at, $1), version = version + 1, \
     doc = jsonb_set(jsonb_set(doc::jsonb, '{refresh_revoked_at}', to_jsonb($2::bigint)), \
                     '{expires_at}', to_jsonb(LEAST(expires_at, $1)))::text \
     WHERE id = $3 AND pool_id = $4 AND device_key = $5 AND revoked_at IS NULL";

/// Every record is gone: the other processes' caches drop everything.
const ANNOUNCE_RESET: Option<&str> = Some("SELECT pg_notify('gatehouse_records', '*')");

/// Creations of a pool's identity providers wait for each other on the pool's row, so the
/// count that bounds them (a statement of its own, hence a fresh snapshot) sees every
/// committed one.
const LOCK_POOL_PROVIDERS: Option<&str> = Some("SELECT 1 FROM user_pools WHERE id = $1 FOR UPDATE");
/// Serialises a user's sign-ins while the session cap is applied.
const LOCK_USER: Option<&str> =
    Some("SELECT 1 FROM users WHERE pool_id = $1 AND username_key = $2 FOR UPDATE");

/// No index hints: PostgreSQL's planner has statistics and picks the filter's index.
fn index_hint(_filter: Option<&UserFilter>) -> &'static str {
    ""
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

// The trait methods, written once for both back ends.
shared::pool_store!(PgStore);
shared::user_store!(PgStore);
shared::code_store!(PgStore);
shared::sign_in_store!(PgStore);
shared::token_store!(PgStore);
shared::device_store!(PgStore);
shared::auth_event_store!(PgStore);
shared::import_store!(PgStore);
shared::identity_provider_store!(PgStore);
shared::terms_store!(PgStore);
shared::branding_store!(PgStore);
shared::passkey_store!(PgStore);
shared::store!(
    PgStore,
    fn record_feed(&self) -> Option<Box<dyn RecordFeed>> {
        Some(Box::new(PgRecordFeed {
            options: self.feed_options.clone(),
            listener: None,
            next_heartbeat: Instant::now(),
            vouch: None,
        }))
    }
);

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
