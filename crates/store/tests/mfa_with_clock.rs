//! The MFA challenges at sign-in with a clock the test moves: authenticator codes one step either
//! side are good, older ones are not, used ones are "already used"; the challenge's Session (and
//! with it an SMS code, or an MFA_SETUP in progress) expires with the app client's
//! AuthSessionValidity.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use common::{
    core_on, create_client, create_pool, create_user, err, on_both, TestClock, TestDb, PASSWORD,
    START_MS,
};
use gatehouse_core::{Caller, Clock, Core};
use gatehouse_wire::*;
use totp_rs::{Algorithm, Secret, TOTP};

struct World {
    core: Core,
    clock: Arc<TestClock>,
    pool: String,
    client: String,
    totp: TOTP,
}

impl World {
    fn now_secs(&self) -> u64 {
        (self.clock.now_millis() / 1000) as u64
    }

    fn advance_secs(&self, s: i64) {
        self.clock.advance(s * 1000);
    }

    /// The code of the step `offset` steps from now.
    fn code(&self, offset: i64) -> String {
        self.totp
            .generate((self.now_secs() as i64 + offset * 30) as u64)
    }

    async fn password(&self) -> InitiateAuthResponse {
        self.core
            .initiate_auth(
                &Caller::default(),
                InitiateAuthRequest {
                    auth_flow: AuthFlowType::UserPasswordAuth,
                    client_id: self.client.clone(),
                    auth_parameters: Some(BTreeMap::from([
                        ("USERNAME".to_string(), "ana".to_string()),
                        ("PASSWORD".to_string(), PASSWORD.to_string()),
                    ])),
                    ..Default::default()
                },
            )
            .await
            .unwrap()
    }

    async fn answer(
        &self,
        session: &Option<String>,
        code: &str,
    ) -> Result<RespondToAuthChallengeResponse, (String, String)> {
        self.respond(
            ChallengeNameType::SoftwareTokenMfa,
            session,
            &[("SOFTWARE_TOKEN_MFA_CODE", code)],
        )
        .await
    }

    /// RespondToAuthChallenge as ana with these responses besides USERNAME.
    async fn respond(
        &self,
        challenge: ChallengeNameType,
        session: &Option<String>,
        responses: &[(&str, &str)],
    ) -> Result<RespondToAuthChallengeResponse, (String, String)> {
        let mut all = BTreeMap::from([("USERNAME".to_string(), "ana".to_string())]);
        all.extend(
            responses
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        self.core
            .respond_to_auth_challenge(
                &Caller::default(),
                RespondToAuthChallengeRequest {
                    client_id: self.client.clone(),
                    challenge_name: challenge,
                    session: session.clone(),
                    challenge_responses: Some(all),
                    ..Default::default()
                },
            )
            .await
            .map_err(err)
    }

    /// The code of the newest message to ana.
    async fn last_code(&self) -> String {
        let messages = self
            .core
            .outbox(Some(&self.pool), Some("ana"), 100)
            .await
            .unwrap();
        messages.last().unwrap().code.clone().unwrap()
    }
}

/// A pool with optional TOTP MFA and a user "ana" enrolled (enrolment verified with the code of
/// the current step, and TOTP preferred).
async fn world(db: &TestDb) -> World {
    let clock = TestClock::at(START_MS);
    let core = core_on(db.store().await, clock.clone());
    let pool = create_pool(
        &core,
        CreateUserPoolRequest {
            pool_name: "mfa".into(),
            ..Default::default()
        },
    )
    .await;
    core.set_user_pool_mfa_config(SetUserPoolMfaConfigRequest {
        user_pool_id: pool.clone(),
        mfa_configuration: Some(UserPoolMfaType::Optional),
        software_token_mfa_configuration: Some(SoftwareTokenMfaConfigType {
            enabled: Some(true),
        }),
        ..Default::default()
    })
    .await
    .unwrap();
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
        totp: TOTP::new(Algorithm::SHA1, 6, 0, 30, vec![0; 16]).unwrap(),
    };
    let access = w
        .password()
        .await
        .authentication_result
        .unwrap()
        .access_token
        .unwrap();
    let secret = w
        .core
        .associate_software_token(AssociateSoftwareTokenRequest {
            access_token: Some(access.clone()),
            session: None,
        })
        .await
        .unwrap()
        .secret_code
        .unwrap();
    w.totp = TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        30,
        Secret::Encoded(secret).to_bytes().unwrap(),
    )
    .unwrap();
    let verified = w
        .core
        .verify_software_token(VerifySoftwareTokenRequest {
            access_token: Some(access.clone()),
            user_code: w.code(0),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        verified.status,
        Some(VerifySoftwareTokenResponseType::Success)
    );
    w.core
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
    w
}

fn mismatch() -> (String, String) {
    (
        "CodeMismatchException".into(),
        "Invalid code received for user".into(),
    )
}

fn used() -> (String, String) {
    (
        "ExpiredCodeException".into(),
        "Your software token has already been used once.".into(),
    )
}

on_both! { #[tokio::test] codes_are_good_one_step_either_side_and_once }
async fn codes_are_good_one_step_either_side_and_once(db: TestDb) {
    let w = world(&db).await;
    // Enrolment spent the current step's code.
    let challenge = w.password().await;
    assert_eq!(
        challenge.challenge_name,
        Some(ChallengeNameType::SoftwareTokenMfa)
    );
    assert_eq!(
        w.answer(&challenge.session, &w.code(0)).await.unwrap_err(),
        used(),
        "the enrolment code again"
    );
    // Two steps on: the previous-but-one step's code is too old; the previous step's is good.
    w.advance_secs(60);
    assert_eq!(
        w.answer(&challenge.session, &w.code(-2)).await.unwrap_err(),
        mismatch()
    );
    let done = w.answer(&challenge.session, &w.code(-1)).await.unwrap();
    assert!(done.authentication_result.is_some());

    // That step is spent now, and so is every earlier one; the next step's code is good.
    let again = w.password().await;
    assert_eq!(
        w.answer(&again.session, &w.code(-1)).await.unwrap_err(),
        used()
    );
    let next = w.answer(&again.session, &w.code(1)).await.unwrap();
    assert!(next.authentication_result.is_some());
    // The Session is finished with the sign-in.
    assert_eq!(
        w.answer(&again.session, &w.code(1)).await.unwrap_err().0,
        "NotAuthorizedException"
    );
}

on_both! { #[tokio::test] the_challenge_session_expires_with_the_auth_session_validity }
async fn the_challenge_session_expires_with_the_auth_session_validity(db: TestDb) {
    let w = world(&db).await;
    w.advance_secs(30);
    let challenge = w.password().await;
    w.advance_secs(3 * 60 + 1);
    let code = w.code(0);
    assert_eq!(
        w.answer(&challenge.session, &code).await.unwrap_err(),
        (
            "NotAuthorizedException".into(),
            "Invalid session for the user, session is expired.".into()
        )
    );
    // A fresh sign-in with the same (unspent) code goes through.
    let fresh = w.password().await;
    assert!(w
        .answer(&fresh.session, &code)
        .await
        .unwrap()
        .authentication_result
        .is_some());
}

fn expired() -> (String, String) {
    (
        "NotAuthorizedException".into(),
        "Invalid session for the user, session is expired.".into(),
    )
}

on_both! { #[tokio::test] an_sms_code_expires_with_its_session }
async fn an_sms_code_expires_with_its_session(db: TestDb) {
    let w = world(&db).await;
    w.core
        .set_user_pool_mfa_config(SetUserPoolMfaConfigRequest {
            user_pool_id: w.pool.clone(),
            mfa_configuration: Some(UserPoolMfaType::Optional),
            sms_mfa_configuration: Some(SmsMfaConfigType {
                sms_authentication_message: Some("code {####}".into()),
                sms_configuration: Some(SmsConfigurationType {
                    sns_caller_arn: Some("arn:aws:iam::123456789012:role/sms".into()),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    w.core
        .admin_update_user_attributes(AdminUpdateUserAttributesRequest {
            user_pool_id: w.pool.clone(),
            username: "ana".into(),
            user_attributes: vec![AttributeType {
                name: "phone_number".into(),
                value: Some("+15555550100".into()),
            }],
            ..Default::default()
        })
        .await
        .unwrap();
    w.core
        .admin_set_user_mfa_preference(AdminSetUserMFAPreferenceRequest {
            user_pool_id: w.pool.clone(),
            username: "ana".into(),
            sms_mfa_settings: Some(SMSMfaSettingsType {
                enabled: Some(true),
                preferred_mfa: Some(true),
            }),
            ..Default::default()
        })
        .await
        .unwrap();

    let challenge = w.password().await;
    assert_eq!(challenge.challenge_name, Some(ChallengeNameType::SmsMfa));
    let code = w.last_code().await;
    w.advance_secs(3 * 60 + 1);
    assert_eq!(
        w.respond(
            ChallengeNameType::SmsMfa,
            &challenge.session,
            &[("SMS_MFA_CODE", &code)]
        )
        .await
        .unwrap_err(),
        expired()
    );
    // A new sign-in sends a new code, which works within the Session's life.
    let fresh = w.password().await;
    let code = w.last_code().await;
    w.advance_secs(2 * 60);
    let done = w
        .respond(
            ChallengeNameType::SmsMfa,
            &fresh.session,
            &[("SMS_MFA_CODE", &code)],
        )
        .await
        .unwrap();
    assert!(done.authentication_result.is_some());
}

on_both! { #[tokio::test] an_mfa_setup_expires_with_its_session }
async fn an_mfa_setup_expires_with_its_session(db: TestDb) {
    let w = world(&db).await;
    w.core
        .set_user_pool_mfa_config(SetUserPoolMfaConfigRequest {
            user_pool_id: w.pool.clone(),
            mfa_configuration: Some(UserPoolMfaType::On),
            ..Default::default()
        })
        .await
        .unwrap();
    // ana's authenticator is turned off: in an ON pool she has to set one up.
    w.core
        .admin_set_user_mfa_preference(AdminSetUserMFAPreferenceRequest {
            user_pool_id: w.pool.clone(),
            username: "ana".into(),
            software_token_mfa_settings: Some(SoftwareTokenMfaSettingsType {
                enabled: Some(false),
                preferred_mfa: Some(false),
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    let challenge = w.password().await;
    assert_eq!(challenge.challenge_name, Some(ChallengeNameType::MfaSetup));
    let associated = w
        .core
        .associate_software_token(AssociateSoftwareTokenRequest {
            access_token: None,
            session: challenge.session.clone(),
        })
        .await
        .unwrap();
    let totp = TOTP::new(
        Algorithm::SHA1,
        6,
        0,
        30,
        Secret::Encoded(associated.secret_code.unwrap())
            .to_bytes()
            .unwrap(),
    )
    .unwrap();
    w.advance_secs(3 * 60 + 1);
    let late = w
        .core
        .verify_software_token(VerifySoftwareTokenRequest {
            session: associated.session.clone(),
            user_code: totp.generate(w.now_secs()),
            ..Default::default()
        })
        .await
        .map_err(err)
        .unwrap_err();
    assert_eq!(late, expired());
    assert_eq!(
        w.respond(ChallengeNameType::MfaSetup, &associated.session, &[])
            .await
            .unwrap_err(),
        expired()
    );
}
