//! SQLite: WAL mode, foreign keys on, migrations embedded in the binary.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_core::store::{AppClientRecord, StoreResult, UserPoolRecord};
use gatehouse_core::{Store, StoreError};
use serde::de::DeserializeOwned;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

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
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            // An in-memory database exists per connection: keep exactly one.
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts)
            .await?;
        MIGRATIONS.run(&pool).await?;
        Ok(SqliteStore { pool })
    }
}

fn pool_row(r: &sqlx::sqlite::SqliteRow) -> StoreResult<UserPoolRecord> {
    Ok(UserPoolRecord {
        id: r.get("id"),
        version: r.get("version"),
        pool: from_json(r.get::<&str, _>("doc"))?,
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

#[async_trait]
impl Store for SqliteStore {
    async fn insert_user_pool(&self, p: &UserPoolRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO user_pools (id, name, version, created_at, doc) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&p.id)
        .bind(p.pool.name.as_deref().unwrap_or_default())
        .bind(p.version)
        .bind((p.pool.creation_date.unwrap_or_default() * 1000.0) as i64)
        .bind(to_json(&p.pool)?)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn user_pool(&self, id: &str) -> StoreResult<Option<UserPoolRecord>> {
        let row = sqlx::query("SELECT id, version, doc FROM user_pools WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(pool_row).transpose()
    }

    async fn update_user_pool(&self, p: &UserPoolRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE user_pools SET name = ?, version = ?, doc = ? WHERE id = ? AND version = ?",
        )
        .bind(p.pool.name.as_deref().unwrap_or_default())
        .bind(p.version)
        .bind(to_json(&p.pool)?)
        .bind(&p.id)
        .bind(p.version - 1)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_user_pool(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM user_pools WHERE id = ?")
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
    ) -> StoreResult<Vec<UserPoolRecord>> {
        let rows =
            sqlx::query("SELECT id, version, doc FROM user_pools WHERE id > ? ORDER BY id LIMIT ?")
                .bind(after.unwrap_or(""))
                .bind(limit as i64)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter().map(pool_row).collect()
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE pool_id = ?")
            .bind(pool_id)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    async fn insert_app_client(&self, c: &AppClientRecord) -> StoreResult<()> {
        sqlx::query("INSERT INTO app_clients (client_id, pool_id, name, version, doc) VALUES (?, ?, ?, ?, ?)")
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
            "SELECT client_id, pool_id, version, doc FROM app_clients WHERE client_id = ?",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        row.as_ref().map(client_row).transpose()
    }

    async fn update_app_client(&self, c: &AppClientRecord) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE app_clients SET name = ?, version = ?, doc = ? WHERE client_id = ? AND version = ?")
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
        let done = sqlx::query("DELETE FROM app_clients WHERE pool_id = ? AND client_id = ?")
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
            "SELECT client_id, pool_id, version, doc FROM app_clients WHERE pool_id = ? AND client_id > ? ORDER BY client_id LIMIT ?",
        )
        .bind(pool_id)
        .bind(after.unwrap_or(""))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(client_row).collect()
    }

    async fn reset(&self) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for table in ["users", "app_clients", "user_pools"] {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }
}
