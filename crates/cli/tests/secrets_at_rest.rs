//! Secrets at rest: without `--dev`, a code delivered by the webhook courier never reaches the
//! database files (db, -wal, -shm), and it still confirms the user.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, DeliveryMediumType, ExplicitAuthFlowsType, VerificationMessageTemplateType,
    VerifiedAttributeType,
};
use common::{create_app_client, TestServer};

/// A webhook receiver: answers 200 to every POST and keeps the JSON bodies.
fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0u8; length];
            if reader.read_exact(&mut body).is_ok() {
                if let Ok(v) = serde_json::from_slice(&body) {
                    sink.lock().unwrap().push(v);
                }
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}

/// The files of `dir` (the database, its -wal and -shm, the server's log) holding `needle` (for a run of digits: not inside a longer run).
fn found_in(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let digits = needle.bytes().all(|b| b.is_ascii_digit());
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let n = needle.len();
        let hit = bytes.windows(n).enumerate().any(|(i, w)| {
            w == needle.as_bytes()
                && (!digits
                    || (!bytes.get(i.wrapping_sub(1)).is_some_and(u8::is_ascii_digit)
                        && !bytes.get(i + n).is_some_and(u8::is_ascii_digit)))
        });
        if hit {
            hits.push(name);
        }
    }
    hits
}

#[tokio::test]
async fn delivered_codes_are_not_kept_in_the_database_files() {
    let (url, received) = receiver();
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("gatehouse.toml");
    std::fs::write(
        &config,
        format!(
            "delivery = \"webhook\"\n\n[webhook]\nurl = \"{url}\"\nsecret = \"probe-secret\"\n"
        ),
    )
    .unwrap();
    let mut srv = TestServer::start_with(&["--config", config.to_str().unwrap()]);
    let data_dir = srv.data_dir.clone();
    let (key, secret) = srv.printed_credentials();
    let c = srv.client_with(&key, &secret);
    let pool = c
        .create_user_pool()
        .pool_name("at-rest")
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .verification_message_template(
            VerificationMessageTemplateType::builder()
                .email_message("Probe-body: your Gatehouse code is {####} - keep it to yourself")
                .email_subject("Probe subject")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client =
        create_app_client(&c, &pool, &[ExplicitAuthFlowsType::AllowUserPasswordAuth]).await;
    let email = AttributeType::builder()
        .name("email")
        .value("rest@example.com")
        .build()
        .unwrap();
    c.sign_up()
        .client_id(&client)
        .username("rest")
        .password("Corr3ct-Horse!")
        .user_attributes(email.clone())
        .send()
        .await
        .unwrap();
    // An invitation carries a temporary password.
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("invited")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("invited@example.com")
                .build()
                .unwrap(),
        )
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();

    let messages = received.lock().unwrap().clone();
    assert_eq!(
        messages.len(),
        2,
        "both messages reached the webhook: {messages:?}"
    );
    let code = messages[0]["Code"].as_str().unwrap().to_string();
    let body = messages[0]["Body"].as_str().unwrap().to_string();
    assert!(
        body.contains(&code) && body.starts_with("Probe-body"),
        "{body}"
    );
    let temporary = messages[1]["Code"].as_str().unwrap().to_string();
    let invitation = messages[1]["Body"].as_str().unwrap().to_string();

    // While the server runs (WAL and shared memory present) and after it stopped.
    for moment in ["running", "stopped"] {
        if moment == "stopped" {
            srv.stop();
        }
        for secret in [&code, &body, &temporary, &invitation] {
            assert_eq!(
                found_in(&data_dir, secret),
                Vec::<String>::new(),
                "a delivered secret is readable in the data directory ({moment})"
            );
        }
    }

    // The outbox keeps only metadata: masked destination, delivery status.
    let outbox = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(["outbox", "--pool", &pool, "--data-dir"])
        .arg(&data_dir)
        .env_remove("GATEHOUSE_CONFIG")
        .env_remove("GATEHOUSE_DEV")
        .output()
        .unwrap();
    assert!(
        outbox.status.success(),
        "{}",
        String::from_utf8_lossy(&outbox.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&outbox.stdout).unwrap();
    let listed = listed["Messages"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2, "{listed:?}");
    for m in &listed {
        assert_eq!(m["Delivery"], "DELIVERED", "{m}");
        assert_eq!(m["Redacted"], true, "{m}");
        assert!(m.get("Code").is_none_or(|c| c.is_null()), "{m}");
        assert_eq!(m["Body"], "", "{m}");
        assert_eq!(m["Medium"], "EMAIL");
    }
    assert_eq!(listed[0]["Destination"], "r***@e***");
    assert_eq!(listed[0]["Purpose"], "SIGN_UP");

    // The code still confirms the user.
    let srv = TestServer::launch(&data_dir, &["--config", config.to_str().unwrap()]);
    let c = srv.client_with(&key, &secret);
    c.confirm_sign_up()
        .client_id(&client)
        .username("rest")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let user = c
        .admin_get_user()
        .user_pool_id(&pool)
        .username("rest")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
}
