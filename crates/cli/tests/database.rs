//! The database as an operator meets it at start: a PostgreSQL URL from the flag, the
//! environment or the config file reaches the store, and an unreachable database stops the
//! process at once with one line naming the URL without its password.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

const UNREACHABLE: &str = "postgres://u:secret@127.0.0.1:1/x";

fn gatehouse(args: &[&str], env: &[(&str, &str)], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("GATEHOUSE_CONFIG")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn an_unreachable_postgres_stops_the_start_with_one_line_without_the_password() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("gatehouse.toml");
    std::fs::write(&config, format!("database_url = \"{UNREACHABLE}\"\n")).unwrap();
    let config = config.to_str().unwrap();
    for (how, args, env) in [
        ("flag", vec!["--database-url", UNREACHABLE], vec![]),
        (
            "environment",
            vec![],
            vec![("GATEHOUSE_DATABASE_URL", UNREACHABLE)],
        ),
        ("config file", vec!["--config", config], vec![]),
    ] {
        let started = Instant::now();
        let out = gatehouse(&args, &env, tmp.path());
        assert!(
            started.elapsed() < Duration::from_secs(12),
            "{how}: took {:?}",
            started.elapsed()
        );
        assert_eq!(out.status.code(), Some(1), "{how}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let said: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("gatehouse: "))
            .collect();
        assert_eq!(said.len(), 1, "{how}: {stderr}");
        assert!(
            said[0].starts_with(
                "gatehouse: cannot open postgres://u:***@127.0.0.1:1/x: cannot connect"
            ),
            "{how}: {stderr}"
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            !stderr.contains("secret") && !stdout.contains("secret"),
            "{how}: the password was shown: {stderr}"
        );
    }
}

#[test]
fn database_pool_bounds_are_checked() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, said) in [
        (
            ["--database-max-connections", "0"],
            "database max connections must be at least 1",
        ),
        (
            ["--database-statement-timeout-ms", "0"],
            "database statement timeout must be at least 1 ms",
        ),
    ] {
        let out = gatehouse(&args, &[], tmp.path());
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(said));
    }
}

/// `gatehouse outbox` opens the store as a server does, then exits: enough to start "a process".
fn open_with_key(db: &str, key: &str, data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["outbox", "--database-url", db, "--data-dir"])
        .arg(data_dir)
        .env_remove("GATEHOUSE_CONFIG")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env("GATEHOUSE_SERVER_KEY", key)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn a_process_with_another_server_key_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", tmp.path().join("shared.db").display());
    let first = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
    let other = "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";
    let out = open_with_key(&db, first, tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same key again: welcome.
    assert!(open_with_key(&db, first, tmp.path()).status.success());
    let out = open_with_key(&db, other, tmp.path());
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("this database belongs to a deployment with another server key"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(other) && !stderr.contains(first),
        "{stderr}"
    );
    // The first key still works: the refused process recorded nothing.
    assert!(open_with_key(&db, first, tmp.path()).status.success());
}

/// A database of its own on the PostgreSQL server of GATEHOUSE_TEST_DATABASE_URL, dropped at
/// the end; None (the test says it was skipped) when that is not set.
struct PgDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl PgDatabase {
    async fn create() -> Option<PgDatabase> {
        use sqlx::Connection;
        let Some(admin_url) = std::env::var("GATEHOUSE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        else {
            eprintln!("skipped: GATEHOUSE_TEST_DATABASE_URL is not set");
            return None;
        };
        let name = format!(
            "gh_t_cli_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
                % 1_000_000_000
        );
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        Some(PgDatabase {
            admin_url,
            name,
            url: url.to_string(),
        })
    }

    async fn drop_it(self) {
        use sqlx::Connection;
        let mut admin = sqlx::PgConnection::connect(&self.admin_url).await.unwrap();
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.name
        ))
        .execute(&mut admin)
        .await
        .unwrap();
    }
}

/// kill -9 while the first migration is half applied (its transaction is made to wait on a
/// table another session is creating): nothing of it stays, and the next start applies it all.
#[tokio::test]
async fn a_postgres_migration_killed_midway_is_completed_by_the_next_start() {
    use sqlx::{Connection, Row};
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let key = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

    // A table the migration creates after several others, being created (not committed) by
    // another session: the migration's CREATE TABLE waits for it.
    let mut blocker = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut blocker).await.unwrap();
    sqlx::query("CREATE TABLE signing_keys (x int)")
        .execute(&mut blocker)
        .await
        .unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            &db.url,
        ])
        .arg("--data-dir")
        .arg(tmp.path())
        .env_remove("GATEHOUSE_CONFIG")
        .env("GATEHOUSE_SERVER_KEY", key)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut watcher = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let since = Instant::now();
    loop {
        let waiting: i64 = sqlx::query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND application_name = 'gatehouse' AND wait_event_type = 'Lock'",
        )
        .fetch_one(&mut watcher)
        .await
        .unwrap()
        .get(0);
        if waiting == 1 {
            break;
        }
        assert!(
            since.elapsed() < Duration::from_secs(20),
            "the migration never reached the blocked table"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();

    // PostgreSQL rolled the half-applied migration back: not one of its tables is there.
    let tables_after_kill: i64 = sqlx::query(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('user_pools', 'app_clients', 'users', 'signing_keys')",
    )
    .fetch_one(&mut watcher)
    .await
    .unwrap()
    .get(0);
    assert_eq!(tables_after_kill, 0);

    // The next start migrates completely.
    let out = open_with_key(&db.url, key, tmp.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tables: i64 = sqlx::query(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_name IN ('user_pools', 'app_clients', 'users', 'signing_keys', 'deployment')",
    )
    .fetch_one(&mut watcher)
    .await
    .unwrap()
    .get(0);
    assert_eq!(tables, 5);
    let failed: i64 = sqlx::query("SELECT count(*) FROM _sqlx_migrations WHERE NOT success")
        .fetch_one(&mut watcher)
        .await
        .unwrap()
        .get(0);
    assert_eq!(failed, 0);
    drop((blocker, watcher));
    db.drop_it().await;
}
