//! What the outbox keeps (messages.rs): outside development mode a delivered message is recorded
//! redacted, a failed one keeps its text, a courier that does not carry the text (the log without
//! `--dev`) leaves it in the outbox; in development mode every message keeps its text; messages
//! are pruned after the retention.

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{create_client, create_pool, on_both, TestClock, TestDb, START_MS};
use gatehouse_core::messages::{
    Courier, DeliveryError, DeliveryStatus, LogCourier, OutgoingMessage,
};
use gatehouse_core::server_key::ServerKey;
use gatehouse_core::{Caller, Core, CoreConfig, OsEntropy};
use gatehouse_wire::*;

/// Records what it is given; fails when told to.
struct Recorder {
    fail: bool,
    got: Mutex<Vec<OutgoingMessage>>,
}

#[async_trait]
impl Courier for Recorder {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        self.got.lock().unwrap().push(m.clone());
        if self.fail {
            Err(DeliveryError("receiver down".into()))
        } else {
            Ok(())
        }
    }
}

async fn world(
    db: &TestDb,
    dev: bool,
    courier: Arc<dyn Courier>,
    clock: Arc<TestClock>,
) -> (Core, String, String) {
    let config = CoreConfig {
        keep_message_secrets: dev,
        outbox_retention_ms: 3 * 86_400_000,
        ..Default::default()
    };
    let core = Core::new(db.store().await, clock, Arc::new(OsEntropy), config)
        .with_server_key(ServerKey::from_bytes(&[7; 32]))
        .with_courier(courier);
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "outbox".into(),
            auto_verified_attributes: Some(vec![VerifiedAttributeType::Email]),
            ..Default::default()
        },
    )
    .await;
    let client = create_client(&core, &pool, &[], Default::default()).await;
    core.sign_up(
        &Caller::default(),
        SignUpRequest {
            client_id: client.clone(),
            username: "ana".into(),
            password: Some("Passw0rd!".into()),
            user_attributes: Some(vec![AttributeType {
                name: "email".into(),
                value: Some("ana@example.com".into()),
            }]),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (core, pool, client)
}

on_both! { #[tokio::test] delivered_messages_are_kept_redacted_and_the_code_still_works }
async fn delivered_messages_are_kept_redacted_and_the_code_still_works(db: TestDb) {
    let courier = Arc::new(Recorder {
        fail: false,
        got: Mutex::default(),
    });
    let (core, pool, client) = world(&db, false, courier.clone(), TestClock::at(START_MS)).await;
    let sent = courier.got.lock().unwrap()[0].clone();
    let code = sent.code.clone().expect("the courier got the code");
    assert!(sent.body.contains(&code));
    assert_eq!(sent.delivery, DeliveryStatus::Pending);

    let kept = core.outbox(Some(&pool), Some("ana"), 10).await.unwrap();
    assert_eq!(kept.len(), 1);
    let m = &kept[0];
    assert!(m.redacted && m.code.is_none() && m.body.is_empty() && m.subject.is_none());
    assert_eq!(m.destination, "a***@e***");
    assert_eq!(m.delivery, DeliveryStatus::Delivered);
    assert_eq!(m.delivered_at, Some(START_MS));
    assert_eq!(m.message_id, sent.message_id);

    core.confirm_sign_up(ConfirmSignUpRequest {
        client_id: client,
        username: "ana".into(),
        confirmation_code: code,
        ..Default::default()
    })
    .await
    .unwrap();
}

on_both! { #[tokio::test] a_failed_delivery_keeps_the_text }
async fn a_failed_delivery_keeps_the_text(db: TestDb) {
    let courier = Arc::new(Recorder {
        fail: true,
        got: Mutex::default(),
    });
    let (core, pool, _) = world(&db, false, courier.clone(), TestClock::at(START_MS)).await;
    let kept = core.outbox(Some(&pool), Some("ana"), 10).await.unwrap();
    assert_eq!(kept[0].delivery, DeliveryStatus::Failed);
    assert!(!kept[0].redacted);
    assert_eq!(kept[0].code, courier.got.lock().unwrap()[0].code);
    assert_eq!(kept[0].destination, "ana@example.com");
}

on_both! { #[tokio::test] development_mode_and_the_quiet_log_keep_the_text }
async fn development_mode_and_the_quiet_log_keep_the_text(db: TestDb) {
    let dev = Arc::new(Recorder {
        fail: false,
        got: Mutex::default(),
    });
    let (core, pool, _) = world(&db, true, dev, TestClock::at(START_MS)).await;
    let kept = core.outbox(Some(&pool), Some("ana"), 10).await.unwrap();
    assert_eq!(kept[0].delivery, DeliveryStatus::Delivered);
    assert!(kept[0].code.is_some() && !kept[0].redacted);

    // The log without --dev does not carry the code: the outbox is the only copy.
    let quiet = Arc::new(LogCourier { show_codes: false });
    let (core, pool, _) = world(&db, false, quiet, TestClock::at(START_MS)).await;
    let kept = core.outbox(Some(&pool), Some("ana"), 10).await.unwrap();
    assert!(kept[0].code.is_some() && !kept[0].redacted);
}

on_both! { #[tokio::test] messages_are_pruned_after_the_retention }
async fn messages_are_pruned_after_the_retention(db: TestDb) {
    let clock = TestClock::at(START_MS);
    let courier = Arc::new(Recorder {
        fail: false,
        got: Mutex::default(),
    });
    let (core, pool, _) = world(&db, false, courier, clock.clone()).await;
    clock.advance(3 * 86_400_000);
    assert_eq!(
        core.prune_outbox().await.unwrap(),
        0,
        "kept for the whole retention"
    );
    assert_eq!(core.outbox(Some(&pool), None, 10).await.unwrap().len(), 1);
    clock.advance(1);
    assert_eq!(core.prune_outbox().await.unwrap(), 1);
    assert!(core.outbox(Some(&pool), None, 10).await.unwrap().is_empty());
}
