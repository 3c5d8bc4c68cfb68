//! Device trust beyond Cognito (core's `device_trust.rs`) with a clock the test moves, on both
//! stores: a remembered device that has not authenticated for the pool's lifetime asks for the
//! second factor again and lists as not remembered; the cap forgets the least recently used
//! device when a new one is remembered, and its refresh token stops working.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{
    core_on, create_client, create_pool, create_user, err, on_both, TestClock, TestDb, PASSWORD,
    START_MS,
};
use gatehouse_core::store::DevicePolicy;
use gatehouse_core::{Caller, Clock, Core};
use gatehouse_srp::DeviceSecret;
use gatehouse_wire::*;
use totp_rs::{Algorithm, Secret, TOTP};

const DAY_MS: i64 = 86_400_000;

struct World {
    core: Core,
    clock: Arc<TestClock>,
    pool: String,
    client: String,
    totp: Option<TOTP>,
}

impl World {
    /// A pool that always remembers devices, with MFA skipped on them when `mfa` (TOTP, ana
    /// enrolled), and the policy given.
    async fn new(db: &TestDb, mfa: bool, policy: DevicePolicy) -> World {
        let clock = TestClock::at(START_MS);
        let core = core_on(db.store().await, clock.clone());
        let pool = create_pool(
            &core,
            CreateUserPoolRequest {
                pool_name: "trust".into(),
                device_configuration: Some(DeviceConfigurationType {
                    challenge_required_on_new_device: Some(mfa),
                    device_only_remembered_on_user_prompt: Some(false),
                }),
                ..Default::default()
            },
        )
        .await;
        core.set_device_policy(&pool, policy).await.unwrap();
        let flows = [
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ];
        let client = create_client(&core, &pool, &flows, Default::default()).await;
        create_user(&core, &pool, "ana", true).await;
        let mut w = World {
            core,
            clock,
            pool,
            client,
            totp: None,
        };
        if mfa {
            w.enrol().await;
        }
        w
    }

    /// TOTP for ana, enabled and preferred, in a pool with MFA optional.
    async fn enrol(&mut self) {
        self.core
            .set_user_pool_mfa_config(SetUserPoolMfaConfigRequest {
                user_pool_id: self.pool.clone(),
                mfa_configuration: Some(UserPoolMfaType::Optional),
                software_token_mfa_configuration: Some(SoftwareTokenMfaConfigType {
                    enabled: Some(true),
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        let access = self
            .sign_in(None)
            .await
            .authentication_result
            .unwrap()
            .access_token
            .unwrap();
        let secret = self
            .core
            .associate_software_token(AssociateSoftwareTokenRequest {
                access_token: Some(access.clone()),
                session: None,
            })
            .await
            .unwrap()
            .secret_code
            .unwrap();
        let totp = TOTP::new(
            Algorithm::SHA1,
            6,
            0,
            30,
            Secret::Encoded(secret).to_bytes().unwrap(),
        )
        .unwrap();
        self.totp = Some(totp);
        self.core
            .verify_software_token(VerifySoftwareTokenRequest {
                access_token: Some(access.clone()),
                user_code: self.code(),
                ..Default::default()
            })
            .await
            .unwrap();
        self.core
            .set_user_mfa_preference(SetUserMFAPreferenceRequest {
                access_token: access,
                software_token_mfa_settings: Some(SoftwareTokenMfaSettingsType {
                    enabled: Some(true),
                    preferred_mfa: Some(true),
                }),
                ..Default::default()
            })
            .await
            .unwrap();
        // The enrolment's code is spent: the next sign-in's is the next step's.
        self.clock.advance(30_000);
    }

    fn code(&self) -> String {
        let now = (self.clock.now_millis() / 1000) as u64;
        self.totp.as_ref().unwrap().generate(now)
    }

    async fn sign_in(&self, device_key: Option<&str>) -> InitiateAuthResponse {
        let mut params = BTreeMap::from([
            ("USERNAME".to_string(), "ana".to_string()),
            ("PASSWORD".to_string(), PASSWORD.to_string()),
        ]);
        if let Some(k) = device_key {
            params.insert("DEVICE_KEY".into(), k.into());
        }
        self.core
            .initiate_auth(
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

    /// A whole sign-in without a device (the TOTP code when asked): its tokens.
    async fn tokens(&self) -> AuthenticationResultType {
        let first = self.sign_in(None).await;
        if let Some(t) = first.authentication_result {
            return t;
        }
        assert_eq!(
            first.challenge_name,
            Some(ChallengeNameType::SoftwareTokenMfa)
        );
        let answer = self
            .core
            .respond_to_auth_challenge(
                &Caller::default(),
                RespondToAuthChallengeRequest {
                    client_id: self.client.clone(),
                    challenge_name: ChallengeNameType::SoftwareTokenMfa,
                    session: first.session,
                    challenge_responses: Some(BTreeMap::from([
                        ("USERNAME".to_string(), "ana".to_string()),
                        ("SOFTWARE_TOKEN_MFA_CODE".to_string(), self.code()),
                    ])),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        self.clock.advance(30_000);
        answer.authentication_result.unwrap()
    }

    /// A new device from a whole sign-in, confirmed (remembered: the pool always remembers);
    /// its key and the sign-in's refresh token.
    async fn new_device(&self) -> (String, String) {
        let tokens = self.tokens().await;
        let meta = tokens.new_device_metadata.clone().unwrap();
        let (key, group) = (meta.device_key.unwrap(), meta.device_group_key.unwrap());
        let config = DeviceSecret::generate(&group, &key, &[3; 40], &[9; 16]).verifier_config();
        self.core
            .confirm_device(
                &Caller::default(),
                ConfirmDeviceRequest {
                    access_token: tokens.access_token.clone().unwrap(),
                    device_key: key.clone(),
                    device_secret_verifier_config: Some(DeviceSecretVerifierConfigType {
                        password_verifier: Some(config.password_verifier),
                        salt: Some(config.salt),
                    }),
                    device_name: None,
                },
            )
            .await
            .unwrap();
        (key, tokens.refresh_token.unwrap())
    }

    async fn status(&self, key: &str) -> Result<String, (String, String)> {
        let device = self
            .core
            .admin_get_device(AdminGetDeviceRequest {
                user_pool_id: self.pool.clone(),
                username: "ana".into(),
                device_key: key.into(),
            })
            .await
            .map_err(err)?
            .device;
        Ok(device
            .device_attributes
            .unwrap_or_default()
            .into_iter()
            .find(|a| a.name == "dev:device_remembered_status")
            .and_then(|a| a.value)
            .unwrap())
    }

    async fn remembered_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .core
            .admin_list_devices(AdminListDevicesRequest {
                user_pool_id: self.pool.clone(),
                username: "ana".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .devices
            .unwrap_or_default()
            .into_iter()
            .filter(|d| {
                d.device_attributes.iter().flatten().any(|a| {
                    a.name == "dev:device_remembered_status"
                        && a.value.as_deref() == Some("remembered")
                })
            })
            .map(|d| d.device_key.unwrap())
            .collect();
        keys.sort();
        keys
    }
}

on_both! { #[tokio::test] a_device_idle_past_the_lifetime_asks_for_the_second_factor_again }
async fn a_device_idle_past_the_lifetime_asks_for_the_second_factor_again(db: TestDb) {
    let policy = DevicePolicy {
        remembered_days: Some(30),
        max_remembered: None,
    };
    let w = World::new(&db, true, policy).await;
    let (key, _) = w.new_device().await;
    assert_eq!(w.status(&key).await.unwrap(), "remembered");
    // Within the lifetime the device stands in for MFA: device SRP, no code.
    w.clock.advance(30 * DAY_MS - 60_000 - 1);
    let within = w.sign_in(Some(&key)).await;
    assert_eq!(
        within.challenge_name,
        Some(ChallengeNameType::DeviceSrpAuth)
    );
    // Thirty days since it last authenticated: the code again, and not remembered any more.
    w.clock.advance(60_001);
    let lapsed = w.sign_in(Some(&key)).await;
    assert_eq!(
        lapsed.challenge_name,
        Some(ChallengeNameType::SoftwareTokenMfa)
    );
    assert_eq!(w.status(&key).await.unwrap(), "not_remembered");
    assert!(w.remembered_keys().await.is_empty());
    // Told not_remembered while lapsed, it stays so when the lifetime is lifted.
    let set = |status| AdminUpdateDeviceStatusRequest {
        user_pool_id: w.pool.clone(),
        username: "ana".into(),
        device_key: key.clone(),
        device_remembered_status: Some(status),
    };
    w.core
        .admin_update_device_status(set(DeviceRememberedStatusType::NotRemembered))
        .await
        .unwrap();
    w.core
        .set_device_policy(&w.pool, DevicePolicy::default())
        .await
        .unwrap();
    assert_eq!(w.status(&key).await.unwrap(), "not_remembered");
    w.core.set_device_policy(&w.pool, policy).await.unwrap();
    // Remembered again by an administrator: trusted from now.
    w.core
        .admin_update_device_status(AdminUpdateDeviceStatusRequest {
            user_pool_id: w.pool.clone(),
            username: "ana".into(),
            device_key: key.clone(),
            device_remembered_status: Some(DeviceRememberedStatusType::Remembered),
        })
        .await
        .unwrap();
    assert_eq!(w.status(&key).await.unwrap(), "remembered");
    let again = w.sign_in(Some(&key)).await;
    assert_eq!(again.challenge_name, Some(ChallengeNameType::DeviceSrpAuth));
    // Without a lifetime the same idle device is trusted for ever.
    w.core
        .set_device_policy(&w.pool, DevicePolicy::default())
        .await
        .unwrap();
    w.clock.advance(400 * DAY_MS);
    assert_eq!(w.status(&key).await.unwrap(), "remembered");
}

on_both! { #[tokio::test] the_cap_forgets_the_least_recently_used_device_and_its_tokens }
async fn the_cap_forgets_the_least_recently_used_device_and_its_tokens(db: TestDb) {
    let policy = DevicePolicy {
        remembered_days: None,
        max_remembered: Some(2),
    };
    let w = World::new(&db, false, policy).await;
    let (first, first_refresh) = w.new_device().await;
    w.clock.advance(60_000);
    let (second, _) = w.new_device().await;
    w.clock.advance(60_000);
    let mut both = vec![first.clone(), second.clone()];
    both.sort();
    assert_eq!(w.remembered_keys().await, both);
    // The first device's refresh token works while the device is remembered.
    let refresh = |token: String, key: String| InitiateAuthRequest {
        auth_flow: AuthFlowType::RefreshTokenAuth,
        client_id: w.client.clone(),
        auth_parameters: Some(BTreeMap::from([
            ("REFRESH_TOKEN".to_string(), token),
            ("DEVICE_KEY".to_string(), key),
        ])),
        ..Default::default()
    };
    w.core
        .initiate_auth(
            &Caller::default(),
            refresh(first_refresh.clone(), first.clone()),
        )
        .await
        .unwrap();
    // A third: the least recently used (the first) is forgotten, with its tokens.
    let (third, _) = w.new_device().await;
    let mut kept = vec![second.clone(), third.clone()];
    kept.sort();
    assert_eq!(w.remembered_keys().await, kept);
    assert_eq!(
        w.status(&first).await.unwrap_err(),
        (
            "ResourceNotFoundException".into(),
            "Device does not exist.".into()
        )
    );
    let refused = w
        .core
        .initiate_auth(&Caller::default(), refresh(first_refresh, first))
        .await
        .unwrap_err();
    assert_eq!(err(refused).0, "NotAuthorizedException");
}
