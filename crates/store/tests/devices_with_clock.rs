//! Device rules that depend on time or on state shared between server processes, on a real
//! SQLite store with a clock the test moves: issued device keys lapse unconfirmed after a day
//! (and are pruned), a pending device sign-in lives as long as the client's auth session, and a
//! device sign-in started by one server process is finished by another.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{
    core_on, create_client, create_pool, create_user, err, on_both, TestClock, TestDb, PASSWORD,
    START_MS,
};
use gatehouse_core::{Caller, Clock, Core, Store};
use gatehouse_srp::{
    base64_decode, format_timestamp, ClaimMessage, DeviceSecret, PublicValue, Salt, SrpClient,
    SrpIdentity,
};
use gatehouse_wire::*;

const DAY_MS: i64 = 24 * 3600 * 1000;

struct World {
    store: Arc<dyn Store>,
    clock: Arc<TestClock>,
    pool: String,
    client: String,
}

impl World {
    async fn new(store: Arc<dyn Store>) -> World {
        let clock = TestClock::at(START_MS);
        let core = core_on(store.clone(), clock.clone());
        let pool = create_pool(
            &core,
            CreateUserPoolRequest {
                pool_name: "devices".into(),
                device_configuration: Some(DeviceConfigurationType {
                    challenge_required_on_new_device: Some(false),
                    device_only_remembered_on_user_prompt: Some(false),
                }),
                ..Default::default()
            },
        )
        .await;
        let flows = [
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ];
        let client = create_client(&core, &pool, &flows, Default::default()).await;
        create_user(&core, &pool, "ana", true).await;
        World {
            store,
            clock,
            pool,
            client,
        }
    }

    /// A server process on the shared store and clock (same server key, as in a deployment).
    fn core(&self) -> Core {
        core_on(self.store.clone(), self.clock.clone())
    }

    fn advance(&self, ms: i64) {
        self.clock.advance(ms);
    }

    async fn sign_in(&self, core: &Core, device_key: Option<&str>) -> InitiateAuthResponse {
        let mut params = BTreeMap::from([
            ("USERNAME".to_string(), "ana".to_string()),
            ("PASSWORD".to_string(), PASSWORD.to_string()),
        ]);
        if let Some(k) = device_key {
            params.insert("DEVICE_KEY".into(), k.into());
        }
        core.initiate_auth(
            &Caller::default(),
            InitiateAuthRequest {
                auth_flow: AuthFlowType::UserPasswordAuth,
                client_id: self.client.clone(),
                auth_parameters: Some(params),
                ..Default::default()
            },
        )
        .await
        .unwrap()
    }

    /// A fresh access token of the same sign-in (its `device_key` claim stays).
    async fn refreshed(
        &self,
        core: &Core,
        tokens: &AuthenticationResultType,
    ) -> AuthenticationResultType {
        let fresh = core
            .initiate_auth(
                &Caller::default(),
                InitiateAuthRequest {
                    auth_flow: AuthFlowType::RefreshTokenAuth,
                    client_id: self.client.clone(),
                    auth_parameters: Some(BTreeMap::from([(
                        "REFRESH_TOKEN".to_string(),
                        tokens.refresh_token.clone().unwrap(),
                    )])),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .authentication_result
            .unwrap();
        AuthenticationResultType {
            new_device_metadata: tokens.new_device_metadata.clone(),
            refresh_token: tokens.refresh_token.clone(),
            ..fresh
        }
    }

    async fn confirm(
        &self,
        core: &Core,
        tokens: &AuthenticationResultType,
    ) -> Result<(String, String, DeviceSecret), (String, String)> {
        let meta = tokens.new_device_metadata.clone().unwrap();
        let (key, group) = (meta.device_key.unwrap(), meta.device_group_key.unwrap());
        let secret = DeviceSecret::generate(&group, &key, &[3; 40], &[9; 16]);
        let config = secret.verifier_config();
        core.confirm_device(
            &Caller::default(),
            ConfirmDeviceRequest {
                access_token: tokens.access_token.clone().unwrap(),
                device_key: key.clone(),
                device_secret_verifier_config: Some(DeviceSecretVerifierConfigType {
                    password_verifier: Some(config.password_verifier),
                    salt: Some(config.salt),
                }),
                device_name: Some("phone".into()),
            },
        )
        .await
        .map_err(err)?;
        Ok((key, group, secret))
    }

    fn respond(
        &self,
        name: ChallengeNameType,
        session: Option<String>,
        responses: &[(&str, &str)],
    ) -> RespondToAuthChallengeRequest {
        RespondToAuthChallengeRequest {
            client_id: self.client.clone(),
            challenge_name: name,
            session,
            challenge_responses: Some(
                responses
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        }
    }
}

on_both! { #[tokio::test] issued_keys_lapse_after_a_day_and_are_pruned }
async fn issued_keys_lapse_after_a_day_and_are_pruned(db: TestDb) {
    let w = World::new(db.store().await).await;
    let core = w.core();
    let first = w.sign_in(&core, None).await.authentication_result.unwrap();
    let key = first
        .new_device_metadata
        .as_ref()
        .unwrap()
        .device_key
        .clone()
        .unwrap();
    assert!(w.store.device(&w.pool, &key).await.unwrap().is_some());

    // A day later the key is gone: ConfirmDevice refuses it and the pruner deletes it.
    w.advance(DAY_MS + 1);
    let first = w.refreshed(&core, &first).await;
    let lapsed = w.confirm(&core, &first).await.unwrap_err();
    assert_eq!(
        lapsed,
        (
            "ResourceNotFoundException".into(),
            "Device does not exist.".into()
        )
    );
    core.prune_auth_state().await.unwrap();
    assert!(w.store.device(&w.pool, &key).await.unwrap().is_none());

    // Confirmed just before its day is out, a device stays.
    let second = w.sign_in(&core, None).await.authentication_result.unwrap();
    w.advance(DAY_MS - 1000);
    let second = w.refreshed(&core, &second).await;
    let (confirmed, _, _) = w.confirm(&core, &second).await.unwrap();
    core.prune_auth_state().await.unwrap();
    w.advance(30 * DAY_MS);
    core.prune_auth_state().await.unwrap();
    assert!(
        w.store.device(&w.pool, &confirmed).await.unwrap().is_some(),
        "confirmed devices never lapse"
    );
}

on_both! { #[tokio::test] a_device_sign_in_started_on_one_process_finishes_on_another_within_the_session }
async fn a_device_sign_in_started_on_one_process_finishes_on_another_within_the_session(
    db: TestDb,
) {
    let w = World::new(db.open().await).await;
    let a = w.core();
    let b = core_on(db.open().await, w.clock.clone());
    let first = w.sign_in(&a, None).await.authentication_result.unwrap();
    let (key, group, secret) = w.confirm(&a, &first).await.unwrap();

    // The pending sign-in lives as long as the client's auth session (3 minutes by default).
    let started = w.sign_in(&a, Some(&key)).await;
    assert_eq!(
        started.challenge_name,
        Some(ChallengeNameType::DeviceSrpAuth)
    );
    w.advance(3 * 60 * 1000 + 1);
    let client = SrpClient::new(&[0x24; 32]).unwrap();
    let srp_a = client.srp_a_hex();
    let answer = [
        ("USERNAME", "ana"),
        ("DEVICE_KEY", key.as_str()),
        ("SRP_A", srp_a.as_str()),
    ];
    let late = b
        .respond_to_auth_challenge(
            &Caller::default(),
            w.respond(
                ChallengeNameType::DeviceSrpAuth,
                started.session.clone(),
                &answer,
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(err(late).0, "NotAuthorizedException");

    // In time: started on A, challenged by B (no Session, as pycognito), finished on A.
    let started = w.sign_in(&a, Some(&key)).await;
    let session = started.session.clone();
    let challenge = b
        .respond_to_auth_challenge(
            &Caller::default(),
            w.respond(ChallengeNameType::DeviceSrpAuth, None, &answer),
        )
        .await
        .unwrap();
    assert_eq!(
        challenge.challenge_name,
        Some(ChallengeNameType::DevicePasswordVerifier)
    );
    assert_eq!(
        challenge.session, session,
        "one Session for the whole sign-in"
    );
    let p = challenge.challenge_parameters.unwrap();
    let block = base64_decode(&p["SECRET_BLOCK"]).unwrap();
    let timestamp = format_timestamp(w.clock.now_millis() / 1000);
    let signature = client
        .claim_signature(
            secret.device_password(),
            &Salt::from_hex(&p["SALT"]).unwrap(),
            &PublicValue::from_hex(&p["SRP_B"]).unwrap(),
            &ClaimMessage {
                identity: SrpIdentity::device(&group, &key),
                secret_block: &block,
                timestamp: &timestamp,
            },
        )
        .unwrap();
    let claim = [
        ("USERNAME", p["USERNAME"].as_str()),
        ("DEVICE_KEY", key.as_str()),
        ("PASSWORD_CLAIM_SECRET_BLOCK", p["SECRET_BLOCK"].as_str()),
        ("PASSWORD_CLAIM_SIGNATURE", signature.as_str()),
        ("TIMESTAMP", timestamp.as_str()),
    ];
    let done = a
        .respond_to_auth_challenge(
            &Caller::default(),
            w.respond(
                ChallengeNameType::DevicePasswordVerifier,
                session.clone(),
                &claim,
            ),
        )
        .await
        .unwrap();
    let tokens = done.authentication_result.unwrap();
    assert!(tokens.new_device_metadata.is_none());
    let device = w.store.device(&w.pool, &key).await.unwrap().unwrap();
    assert_eq!(device.last_authenticated_at, Some(w.clock.now_millis()));

    // The same claim again (on either process) finds the sign-in finished.
    let replay = b
        .respond_to_auth_challenge(
            &Caller::default(),
            w.respond(ChallengeNameType::DevicePasswordVerifier, session, &claim),
        )
        .await
        .unwrap_err();
    assert_eq!(
        err(replay),
        (
            "NotAuthorizedException".into(),
            "Invalid session for the user, session is expired.".into()
        )
    );
}
