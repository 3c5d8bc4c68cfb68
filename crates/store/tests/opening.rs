//! Opening a store: processes started together migrate once, a database migrated by a newer
//! Gatehouse is refused, and a database in trouble answers within the statement timeout.

mod common;

use std::time::{Duration, Instant};

use common::{on_both, TestDb};
use gatehouse_core::store::UserPoolRecord;
use gatehouse_store::OpenOptions;
use sqlx::{Connection, Executor};

/// Runs `sql` (returning one integer) on the database behind a store's URL.
async fn on_db(url: &str, sql: &str) -> i64 {
    if url.starts_with("sqlite:") {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

/// PostgreSQL only: SQLite is one process's embedded database, and its migrator takes no lock.
#[tokio::test]
async fn postgres_processes_started_together_migrate_once() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url();
    // Four "processes" connecting at once, each on its own connections.
    let (a, b, c, d) = tokio::join!(
        gatehouse_store::open(&url),
        gatehouse_store::open(&url),
        gatehouse_store::open(&url),
        gatehouse_store::open(&url)
    );
    for opened in [a, b, c, d] {
        opened.unwrap();
    }
    // Each migration applied once, by one of them: one row per migration file.
    let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/postgres"))
        .unwrap()
        .count() as i64;
    let applied = on_db(&url, "SELECT COUNT(*) FROM _sqlx_migrations").await;
    assert_eq!(applied, files, "each migration was applied once");
}

on_both! { #[tokio::test] a_database_migrated_by_a_newer_gatehouse_is_refused }
async fn a_database_migrated_by_a_newer_gatehouse_is_refused(db: TestDb) {
    let url = db.url();
    gatehouse_store::open(&url).await.unwrap();
    let checksum = if db.is_postgres() {
        "'\\x00'::bytea"
    } else {
        "x'00'"
    };
    on_db(
        &url,
        &format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (9999, 'from a later version', TRUE, {checksum}, 0) RETURNING version"
        ),
    )
    .await;
    let refused = match gatehouse_store::open(&url).await {
        Ok(_) => panic!("opened a database with an unknown migration"),
        Err(e) => e,
    };
    assert!(
        refused.contains("schema is newer than this Gatehouse (migration 9999"),
        "{refused}"
    );
    assert!(!refused.contains('\n'), "one line: {refused}");
}

/// PostgreSQL only: SQLite's writers wait for each other through its busy timeout (5 s).
#[tokio::test]
async fn postgres_statements_blocked_by_a_lock_give_up_at_the_statement_timeout() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url();
    let options = OpenOptions {
        max_connections: 2,
        statement_timeout: Duration::from_millis(300),
    };
    let store = gatehouse_store::open_with(&url, &options).await.unwrap();
    let pool = UserPoolRecord {
        id: "us-east-1_locked".into(),
        version: 1,
        pool: Default::default(),
        mfa: Default::default(),
        device_policy: Default::default(),
        sessions: Default::default(),
    };
    store.insert_user_pool(&pool).await.unwrap();

    // Another session holds the table: reads and writes of it wait for the lock.
    let mut holder = sqlx::PgConnection::connect(&url).await.unwrap();
    holder.execute("BEGIN").await.unwrap();
    holder
        .execute("LOCK TABLE user_pools IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let started = Instant::now();
    let blocked = store.user_pool(&pool.id).await;
    let waited = started.elapsed();
    assert!(blocked.is_err(), "{blocked:?}");
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(2),
        "gave up after {waited:?}"
    );
    holder.execute("ROLLBACK").await.unwrap();
    assert!(store.user_pool(&pool.id).await.unwrap().is_some());
}
