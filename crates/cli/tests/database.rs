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
