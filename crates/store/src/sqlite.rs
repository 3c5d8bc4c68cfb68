//! SQLite: WAL mode, foreign keys on, migrations embedded in the binary. Statements number
//! their parameters `$1`, `$2`, … as PostgreSQL's do (sqlx binds SQLite's `$N` to the N-th
//! value, as it does `?N`), so that the two back ends' SQL reads alike.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use std::collections::BTreeMap;

use gatehouse_core::messages::OutgoingMessage;
use gatehouse_core::store::{
    AliasClaim, AppClientRecord, AuthSessionRecord, CodeGuess, CodeRecord, CodeStore, DeviceRecord,
    DeviceStore, FilterAttribute, PasswordRecord, PendingSignInRecord, PendingStep, PoolStore,
    SignInCounter, SignInStore, SigningKeyRecord, StoreResult, TokenStore, UserFilter,
    UserMfaRecord, UserPoolRecord, UserRecord, UserStore,
};
use gatehouse_core::{Store, StoreError};
use gatehouse_wire::{GroupType, UserStatusType};
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection, Row, SqliteConnection, SqlitePool};

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

pub struct SqliteStore {
    pool: SqlitePool,
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
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(1)
            // A SQLite connection is a local file handle that cannot go stale; the default
            // ping before each acquire would double the worker round trips of every query.
            .test_before_acquire(false)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        if memory {
            MIGRATIONS.run(&pool).await?;
        }
        Ok(SqliteStore { pool })
    }

    /// Connections open in the pool and how many of them are idle (for metrics).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// The connection pool, for `migrate-store`'s table copy.
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }
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

fn pool_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<UserPoolRecord> {
    Ok(UserPoolRecord {
        id: r.get("id"),
        version: r.get("version"),
        pool: from_json(r.get::<&str, _>("doc"))?,
        mfa: from_json(r.get::<&str, _>("mfa"))?,
    })
}

fn client_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<AppClientRecord> {
    Ok(AppClientRecord {
        client_id: r.get("client_id"),
        pool_id: r.get("pool_id"),
        version: r.get("version"),
        client: from_json(r.get::<&str, _>("doc"))?,
    })
}

/// The JSON part of a user row.
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

fn session_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<AuthSessionRecord> {
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

fn user_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<UserRecord> {
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

const CODE_COLUMNS: &str =
    "pool_id, username_key, purpose, code_hash, attribute, expires_at, guesses, issued, window_started_at";

fn code_row(r: &sqlx::sqlite::SqliteRow) -> CodeRecord {
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

fn group_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<GroupType> {
    from_json(r.get::<&str, _>("doc"))
}

#[async_trait]
impl PoolStore for SqliteStore {
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
        let done = sqlx::query(
            "UPDATE user_pools SET name = $1, version = $2, doc = $3, mfa = $4 WHERE id = $5 AND version = $6",
        )
        .bind(p.pool.name.as_deref().unwrap_or_default())
        .bind(p.version)
        .bind(to_json(&p.pool)?)
        .bind(to_json(&p.mfa)?)
        .bind(&p.id)
        .bind(p.version - 1)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user_pool(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM user_pools WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_user_pools(
        &self,
        after: Option<&str>,
        limit: u32,
        only: Option<&[String]>,
    ) -> StoreResult<Vec<UserPoolRecord>> {
        // The visible ids travel as one JSON array, whatever their number.
        let (only_sql, limit_param) = if only.is_some() {
            (" AND id IN (SELECT value FROM json_each($2))", "$3")
        } else {
            ("", "$2")
        };
        let sql = format!(
            "SELECT id, version, doc, mfa FROM user_pools WHERE id > $1{only_sql} ORDER BY id LIMIT {limit_param}"
        );
        let mut q = sqlx::query(&sql).bind(after.unwrap_or(""));
        if let Some(ids) = only {
            q = q.bind(to_json(&ids)?);
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
        let done = sqlx::query("UPDATE app_clients SET name = $1, version = $2, doc = $3 WHERE client_id = $4 AND version = $5")
            .bind(c.client.client_name.as_deref().unwrap_or_default())
            .bind(c.version)
            .bind(to_json(&c.client)?)
            .bind(&c.client_id)
            .bind(c.version - 1)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_app_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM app_clients WHERE pool_id = $1 AND client_id = $2")
            .bind(pool_id)
            .bind(client_id)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
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
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
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
impl UserStore for SqliteStore {
    async fn count_users(&self, pool_id: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE pool_id = $1")
            .bind(pool_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_user(&self, u: &UserRecord, aliases: &[AliasClaim]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
        .bind(user_doc(u)?)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        claim_aliases(&mut tx, &u.pool_id, &u.username_key, aliases).await?;
        tx.commit().await.map_err(backend)
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
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
        .bind(user_doc(u)?)
        .bind(&u.pool_id)
        .bind(&u.username_key)
        .bind(u.version - 1)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM user_aliases WHERE pool_id = $1 AND username_key = $2")
            .bind(&u.pool_id)
            .bind(&u.username_key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        claim_aliases(&mut tx, &u.pool_id, &u.username_key, aliases).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE pool_id = $1 AND username_key = $2")
            .bind(pool_id)
            .bind(username_key)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>> {
        // Without statistics SQLite would walk the primary key (it gives the order) and test
        // every user; a filter on an indexed column reads that index instead and sorts the few
        // matches.
        let index = match filter.map(|f| f.attribute) {
            Some(FilterAttribute::Email) => " INDEXED BY users_by_email",
            Some(FilterAttribute::PhoneNumber) => " INDEXED BY users_by_phone",
            Some(FilterAttribute::PreferredUsername) => " INDEXED BY users_by_preferred_username",
            Some(FilterAttribute::Sub) => " INDEXED BY users_by_sub",
            _ => "",
        };
        let mut sql = format!(
            "SELECT {USER_COLUMNS} FROM users{index} WHERE pool_id = $1 AND username_key > $2"
        );
        let mut binds: Vec<String> = Vec::new();
        if let Some(f) = filter {
            let col = filter_column(f.attribute);
            if f.prefix {
                // A range keeps the index usable; U+10FFFF sorts after every character.
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
impl CodeStore for SqliteStore {
    async fn swap_code(&self, c: &CodeRecord, expected: Option<&CodeRecord>) -> StoreResult<bool> {
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
            "SELECT doc FROM (SELECT seq, doc FROM outbox WHERE ($1 IS NULL OR pool_id = $1) AND ($2 IS NULL OR username = $2) \
             ORDER BY seq DESC LIMIT $3) ORDER BY seq",
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
        let done = sqlx::query("DELETE FROM outbox WHERE created_at < $1")
            .bind(created_before)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected())
    }
}

#[async_trait]
impl SignInStore for SqliteStore {
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
        let done = sqlx::query(
            "UPDATE users SET failed_sign_ins = $1, locked_until = $2 \
             WHERE pool_id = $3 AND username_key = $4 AND failed_sign_ins = $5 AND locked_until IS $6",
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
impl TokenStore for SqliteStore {
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
        let done = sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 \
             WHERE pool_id = $2 AND username_key = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(pool_id)
        .bind(username_key)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected())
    }

    async fn prune_auth_state(&self, now: i64, revoked_before: i64) -> StoreResult<u64> {
        let sessions =
            sqlx::query("DELETE FROM auth_sessions WHERE expires_at < $1 OR revoked_at < $2")
                .bind(now)
                .bind(revoked_before)
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        let mut removed = sessions.rows_affected();
        for sql in [
            "DELETE FROM spent_auth_states WHERE expires_at < $1",
            "DELETE FROM pending_sign_ins WHERE expires_at < $1",
            "DELETE FROM devices WHERE expires_at < $1 AND status = 'issued'",
        ] {
            removed += sqlx::query(sql)
                .bind(now)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected();
        }
        Ok(removed)
    }
}

#[async_trait]
impl DeviceStore for SqliteStore {
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
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let gone = sqlx::query("DELETE FROM devices WHERE pool_id = $1 AND device_key = $2")
            .bind(pool_id)
            .bind(device_key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected()
            == 1;
        let spared = spare.map(|s| s.id);
        sqlx::query(
            "UPDATE auth_sessions SET revoked_at = $1, version = version + 1 \
             WHERE pool_id = $2 AND device_key = $3 AND revoked_at IS NULL AND ($4 IS NULL OR id <> $4)",
        )
        .bind(at)
        .bind(pool_id)
        .bind(device_key)
        .bind(spared)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if let Some(s) = spare {
            // The version moves, so a refresh that read the session before cannot write it back
            // without the mark.
            sqlx::query(
                "UPDATE auth_sessions SET expires_at = MIN(expires_at, $1), version = version + 1, \
                 doc = json_set(doc, '$.refresh_revoked_at', $2, '$.expires_at', MIN(expires_at, $1)) \
                 WHERE id = $3 AND pool_id = $4 AND device_key = $5 AND revoked_at IS NULL",
            )
            .bind(s.expires_at)
            .bind(at)
            .bind(s.id)
            .bind(pool_id)
            .bind(device_key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(gone)
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
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn server_key_fingerprint(&self, fingerprint: &str) -> StoreResult<String> {
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
        let mut tx = self.pool.begin().await.map_err(backend)?;
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
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}
