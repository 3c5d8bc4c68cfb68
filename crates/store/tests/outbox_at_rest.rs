//! The outbox's redaction and pruning leave nothing readable in the SQLite files: the store runs
//! with `secure_delete`, so overwritten and deleted records are zeroed, not left in free space.

use gatehouse_core::messages::{Medium, OutgoingMessage, Purpose};
use gatehouse_core::store::CodeStore;
use gatehouse_store::SqliteStore;
use sqlx::Connection;

fn message(id: &str, code: &str, created_at: i64) -> OutgoingMessage {
    OutgoingMessage {
        message_id: id.into(),
        pool_id: "us-east-1_Pool".into(),
        username: "ana".into(),
        destination: "ana@example.com".into(),
        medium: Medium::Email,
        purpose: Purpose::SignUp,
        subject: Some("Your code".into()),
        body: format!("Probe body carrying {code} for ana"),
        code: Some(code.into()),
        created_at,
        delivery: Default::default(),
        delivered_at: None,
        redacted: false,
    }
}

fn files_holding(dir: &std::path::Path, needle: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read(p)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle.as_bytes())
        })
        .map(|p| p.file_name().unwrap().to_string_lossy().to_string())
        .collect()
}

#[tokio::test]
async fn redacted_and_pruned_messages_leave_no_trace_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gatehouse.db");
    let url = format!("sqlite:{}", path.display());
    let store = SqliteStore::open(&url).await.unwrap();
    let kept = message("m-1", "KEPT-CODE-314159", 1_000);
    let old = message("m-2", "OLD-CODE-271828", 10);
    store.push_message(&kept).await.unwrap();
    store.push_message(&old).await.unwrap();
    // Copy both pages into the main file, so the test sees what secure_delete must erase there.
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        files_holding(dir.path(), "KEPT-CODE-314159"),
        ["gatehouse.db"]
    );

    let mut redacted = kept.redacted();
    redacted.delivery = gatehouse_core::messages::DeliveryStatus::Delivered;
    store.update_message(&redacted).await.unwrap();
    assert_eq!(store.prune_messages(100).await.unwrap(), 1);
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    for secret in ["KEPT-CODE-314159", "OLD-CODE-271828", "Probe body carrying"] {
        assert_eq!(
            files_holding(dir.path(), secret),
            Vec::<String>::new(),
            "{secret} is still readable"
        );
    }
    let left = store.messages(None, None, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].redacted && left[0].code.is_none() && left[0].body.is_empty());
    assert_eq!(left[0].destination, "a***@e***");
}
