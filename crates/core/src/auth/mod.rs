//! Sign-in: InitiateAuth, AdminInitiateAuth, RespondToAuthChallenge and
//! AdminRespondToAuthChallenge. Each flow is a module; what they share lives here: the client's
//! allowed flows, SECRET_HASH, finding the user (and not revealing strangers when the client
//! prevents user-existence errors), the user's state, lockout, and finishing with tokens or the
//! next challenge.
//!
//! | flow / challenge | module |
//! | --- | --- |
//! | USER_SRP_AUTH → PASSWORD_VERIFIER | [`srp_flow`] |
//! | USER_AUTH → SELECT_CHALLENGE, PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP, WEB_AUTHN | [`choice_flow`] |
//! | USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH (ADMIN_NO_SRP_AUTH) | [`password_flow`] |
//! | REFRESH_TOKEN_AUTH / REFRESH_TOKEN, GetTokensFromRefreshToken | [`refresh_flow`] |
//! | NEW_PASSWORD_REQUIRED | [`new_password`] |
//! | DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER, NewDeviceMetadata | [`device_flow`] |
//! | SMS_MFA, EMAIL_OTP, SOFTWARE_TOKEN_MFA, SELECT_MFA_TYPE, MFA_SETUP; when a remembered device skips MFA | [`mfa_flow`] |
//! | failed-attempt lockout | [`lockout`] |
//! | the sealed `Session` of a challenge | [`challenge_session`] |

mod challenge_session;
mod choice_flow;
mod custom_flow;
mod device_flow;
mod lockout;
mod mfa_flow;
mod new_password;
mod password_flow;
mod pending;
mod refresh_flow;
mod srp_flow;

use std::collections::BTreeMap;

use gatehouse_wire::*;

use crate::app_clients::check_secret_hash;
use crate::auth_events::{Checked, SignInStep};
use crate::store::{AppClientRecord, DeviceRecord, UserPoolRecord, UserRecord};
use crate::triggers::{requested, Requested};
use crate::{Caller, Core, CoreError, Result};

pub(crate) use choice_flow::{allowed_first_factors, user_first_factors};

/// What a sign-in step answers: tokens, or the next challenge.
#[derive(Debug, Default)]
pub(crate) struct AuthStep {
    pub challenge_name: Option<ChallengeNameType>,
    pub session: Option<String>,
    pub challenge_parameters: Option<BTreeMap<String, String>>,
    pub authentication_result: Option<AuthenticationResultType>,
    /// USER_AUTH: the first factors the sign-in may choose from.
    pub available_challenges: Option<Vec<ChallengeNameType>>,
    /// The user whose first factor passed, for the sign-in's event (auth_events.rs); not sent.
    pub user: Option<Box<UserRecord>>,
}

impl AuthStep {
    fn tokens(result: AuthenticationResultType) -> Self {
        AuthStep {
            // Clients read `ChallengeParameters` unconditionally; Cognito sends `{}`.
            challenge_parameters: Some(BTreeMap::new()),
            authentication_result: Some(result),
            ..Default::default()
        }
    }
}

macro_rules! step_into {
    ($($t:ident),*) => {$(
        impl From<AuthStep> for $t {
            fn from(s: AuthStep) -> Self {
                $t {
                    challenge_name: s.challenge_name,
                    session: s.session,
                    challenge_parameters: s.challenge_parameters,
                    authentication_result: s.authentication_result,
                    available_challenges: s.available_challenges,
                }
            }
        }
    )*};
}
step_into!(
    InitiateAuthResponse,
    AdminInitiateAuthResponse,
    RespondToAuthChallengeResponse,
    AdminRespondToAuthChallengeResponse
);

/// Which API a sign-in came through: the admin variants are SigV4-signed and name the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    Public,
    Admin,
}

/// A request's parameters (AuthParameters or ChallengeResponses); null values were dropped by
/// the wire layer.
#[derive(Clone, Copy)]
pub(crate) struct Params<'a>(&'a BTreeMap<String, String>);

impl<'a> Params<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn required(&self, key: &str) -> Result<&'a str> {
        self.get(key)
            .ok_or_else(|| CoreError::InvalidParameter(format!("Missing required parameter {key}")))
    }
}

/// The end user an app's server names in AdminInitiateAuth's ContextData: its address, and
/// the User-Agent among the headers it passed on.
fn end_user(c: &ContextDataType) -> Caller {
    Caller {
        ip: c.ip_address.parse().ok(),
        user_agent: c
            .http_headers
            .iter()
            .find(|h| {
                h.header_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case("user-agent"))
            })
            .and_then(|h| h.header_value.clone()),
    }
}

fn incorrect() -> CoreError {
    CoreError::NotAuthorized("Incorrect username or password.".into())
}

fn expired_session() -> CoreError {
    CoreError::NotAuthorized("Invalid session for the user, session is expired.".into())
}

/// Whether the client allows `flow`. Without ExplicitAuthFlows Cognito allows SRP, custom and
/// refresh; the legacy values allow SRP and refresh besides what they name.
fn flow_allowed(client: &UserPoolClientType, flow: &AuthFlowType) -> bool {
    use ExplicitAuthFlowsType as F;
    let flows = client.explicit_auth_flows.clone().unwrap_or_default();
    let flows = if flows.is_empty() {
        vec![
            F::AllowUserSrpAuth,
            F::AllowCustomAuth,
            F::AllowRefreshTokenAuth,
        ]
    } else {
        flows
    };
    let has = |f: F| flows.contains(&f);
    let legacy = flows.iter().any(|f| {
        matches!(
            f,
            F::AdminNoSrpAuth | F::CustomAuthFlowOnly | F::UserPasswordAuth
        )
    });
    match flow {
        AuthFlowType::UserSrpAuth => {
            has(F::AllowUserSrpAuth) || (legacy && !has(F::CustomAuthFlowOnly))
        }
        AuthFlowType::UserPasswordAuth => has(F::AllowUserPasswordAuth) || has(F::UserPasswordAuth),
        AuthFlowType::AdminUserPasswordAuth | AuthFlowType::AdminNoSrpAuth => {
            has(F::AllowAdminUserPasswordAuth) || has(F::AdminNoSrpAuth)
        }
        AuthFlowType::RefreshTokenAuth | AuthFlowType::RefreshToken => {
            has(F::AllowRefreshTokenAuth) || legacy
        }
        AuthFlowType::CustomAuth => has(F::AllowCustomAuth) || has(F::CustomAuthFlowOnly),
        AuthFlowType::UserAuth => has(F::AllowUserAuth),
        AuthFlowType::Unrecognized(_) => false,
    }
}

/// SECRET_HASH may be computed over any name of the user (clients differ: the typed name, the
/// canonical username, the sub); it only authenticates the client.
fn check_secret_hash_for(
    client: &AppClientRecord,
    names: &[&str],
    given: Option<&str>,
) -> Result<()> {
    let mut last = Ok(());
    for name in names {
        last = check_secret_hash(client, name, given);
        if last.is_ok() {
            return Ok(());
        }
    }
    last
}

impl Core {
    pub async fn initiate_auth(
        &self,
        caller: &Caller,
        req: InitiateAuthRequest,
    ) -> Result<InitiateAuthResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        let params = req.auth_parameters.unwrap_or_default();
        let flow = (Api::Public, req.auth_flow);
        let told = Requested {
            caller: caller.clone(),
            validation_data: req.client_metadata,
            ..Default::default()
        };
        requested(
            told,
            self.initiate(caller, &pool, &client, flow, Params(&params)),
        )
        .await
        .map(Into::into)
    }

    pub async fn admin_initiate_auth(
        &self,
        caller: &Caller,
        req: AdminInitiateAuthRequest,
    ) -> Result<AdminInitiateAuthResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let client = self.app_client(&pool.id, &req.client_id).await?;
        let params = req.auth_parameters.unwrap_or_default();
        // The app's server says who its user is (ContextData): the event records that.
        let named;
        let caller = match &req.context_data {
            Some(c) => {
                named = end_user(c);
                &named
            }
            None => caller,
        };
        let flow = (Api::Admin, req.auth_flow);
        let told = Requested {
            caller: caller.clone(),
            validation_data: req.client_metadata,
            ..Default::default()
        };
        requested(
            told,
            self.initiate(caller, &pool, &client, flow, Params(&params)),
        )
        .await
        .map(Into::into)
    }

    pub async fn respond_to_auth_challenge(
        &self,
        caller: &Caller,
        req: RespondToAuthChallengeRequest,
    ) -> Result<RespondToAuthChallengeResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        let responses = req.challenge_responses.unwrap_or_default();
        let told = Requested {
            caller: caller.clone(),
            client_metadata: req.client_metadata,
            challenge: Some(req.challenge_name.clone()),
            ..Default::default()
        };
        let answer = (
            req.challenge_name,
            req.session.as_deref(),
            Params(&responses),
        );
        requested(told, self.respond(caller, &pool, &client, answer))
            .await
            .map(Into::into)
    }

    pub async fn admin_respond_to_auth_challenge(
        &self,
        caller: &Caller,
        req: AdminRespondToAuthChallengeRequest,
    ) -> Result<AdminRespondToAuthChallengeResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let client = self.app_client(&pool.id, &req.client_id).await?;
        let responses = req.challenge_responses.unwrap_or_default();
        let told = Requested {
            caller: caller.clone(),
            client_metadata: req.client_metadata,
            challenge: Some(req.challenge_name.clone()),
            admin_answer: true,
            ..Default::default()
        };
        let answer = (
            req.challenge_name,
            req.session.as_deref(),
            Params(&responses),
        );
        requested(told, self.respond(caller, &pool, &client, answer))
            .await
            .map(Into::into)
    }

    /// The hosted pages' password step: as USER_PASSWORD_AUTH, whatever the client's
    /// ExplicitAuthFlows (managed login signs in for any OAuth client, as Cognito's does).
    pub(crate) async fn hosted_password_step(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: &BTreeMap<String, String>,
    ) -> Result<AuthStep> {
        let params = Params(params);
        let told = Requested {
            caller: caller.clone(),
            hosted: true,
            ..Default::default()
        };
        let result = requested(told, self.password_sign_in(pool, client, params)).await;
        self.record_password_step(caller, pool, client, params, result)
            .await
    }

    /// The hosted pages' passkey step: USER_AUTH preferring WEB_AUTHN, for any OAuth client (as
    /// the password step).
    pub(crate) async fn hosted_user_auth_step(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: &BTreeMap<String, String>,
    ) -> Result<AuthStep> {
        let told = Requested {
            caller: caller.clone(),
            hosted: true,
            ..Default::default()
        };
        requested(told, self.start_user_auth(pool, client, Params(params))).await
    }

    /// A first step that checked the password, recorded (auth_events.rs): its result, or
    /// threat protection's refusal of it.
    async fn record_password_step(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: Params<'_>,
        result: Result<AuthStep>,
    ) -> Result<AuthStep> {
        let step = SignInStep {
            username: params.get("USERNAME"),
            session: None,
            checked: Checked::Password,
            device_key: params.get("DEVICE_KEY"),
        };
        self.record_sign_in_step(pool, &client.client_id, caller, step, result)
            .await
    }

    /// The hosted pages' answer to a challenge: as RespondToAuthChallenge.
    pub(crate) async fn hosted_respond(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        challenge: ChallengeNameType,
        session: Option<&str>,
        responses: &BTreeMap<String, String>,
    ) -> Result<AuthStep> {
        let told = Requested {
            caller: caller.clone(),
            hosted: true,
            ..Default::default()
        };
        let answer = (challenge, session, Params(responses));
        requested(told, self.respond(caller, pool, client, answer)).await
    }

    async fn initiate(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        (api, flow): (Api, AuthFlowType),
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let checks_password = match flow {
            AuthFlowType::UserPasswordAuth
            | AuthFlowType::AdminUserPasswordAuth
            | AuthFlowType::AdminNoSrpAuth => true,
            AuthFlowType::UserAuth => {
                params.get("PREFERRED_CHALLENGE") == Some("PASSWORD")
                    && params.get("PASSWORD").is_some()
            }
            _ => false,
        };
        let result = self.initiate_flow(api, pool, client, flow, params).await;
        if !checks_password {
            return result;
        }
        self.record_password_step(caller, pool, client, params, result)
            .await
    }

    async fn initiate_flow(
        &self,
        api: Api,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        flow: AuthFlowType,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let supported = match api {
            Api::Public => !matches!(
                flow,
                AuthFlowType::AdminNoSrpAuth | AuthFlowType::AdminUserPasswordAuth
            ),
            Api::Admin => !matches!(flow, AuthFlowType::UserPasswordAuth),
        };
        if !supported || matches!(flow, AuthFlowType::Unrecognized(_)) {
            return Err(CoreError::InvalidParameter(
                "Initiate Auth method not supported.".into(),
            ));
        }
        if !flow_allowed(&client.client, &flow) {
            return Err(CoreError::InvalidParameter(format!(
                "{} flow not enabled for this client",
                flow.as_str()
            )));
        }
        match flow {
            AuthFlowType::UserSrpAuth => self.start_srp(pool, client, params).await,
            AuthFlowType::UserPasswordAuth
            | AuthFlowType::AdminUserPasswordAuth
            | AuthFlowType::AdminNoSrpAuth => self.password_sign_in(pool, client, params).await,
            AuthFlowType::RefreshTokenAuth | AuthFlowType::RefreshToken => {
                self.refresh_flow(pool, client, params).await
            }
            AuthFlowType::CustomAuth => self.start_custom(pool, client, params).await,
            AuthFlowType::UserAuth => self.start_user_auth(pool, client, params).await,
            _ => Err(CoreError::InvalidParameter(format!(
                "{} is not supported by this server yet.",
                flow.as_str()
            ))),
        }
    }

    async fn respond(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        (challenge, session, responses): (ChallengeNameType, Option<&str>, Params<'_>),
    ) -> Result<AuthStep> {
        // EMAIL_OTP is a first factor on a USER_AUTH Session, else an MFA code: one look.
        let first_factor_code = challenge == ChallengeNameType::EmailOtp
            && self.is_sign_in_code(pool, client, session).await;
        // The first factor's check (a password, or USER_AUTH's code or passkey) starts the
        // sign-in's event and is what threat protection judges; a second factor's follows it.
        let checked = match challenge {
            ChallengeNameType::PasswordVerifier
            | ChallengeNameType::Password
            | ChallengeNameType::SmsOtp
            | ChallengeNameType::WebAuthn => Checked::Password,
            ChallengeNameType::SelectChallenge if responses.get("ANSWER") == Some("PASSWORD") => {
                Checked::Password
            }
            ChallengeNameType::EmailOtp if first_factor_code => Checked::Password,
            ChallengeNameType::SmsMfa
            | ChallengeNameType::EmailOtp
            | ChallengeNameType::SoftwareTokenMfa => Checked::Mfa,
            _ => Checked::Other,
        };
        let result = self
            .respond_to(
                caller,
                pool,
                client,
                (challenge, session, responses),
                first_factor_code,
            )
            .await;
        let step = SignInStep {
            username: responses.get("USERNAME"),
            session,
            checked,
            device_key: responses.get("DEVICE_KEY"),
        };
        self.record_sign_in_step(pool, &client.client_id, caller, step, result)
            .await
    }

    async fn respond_to(
        &self,
        caller: &Caller,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        (challenge, session, responses): (ChallengeNameType, Option<&str>, Params<'_>),
        first_factor_code: bool,
    ) -> Result<AuthStep> {
        match challenge {
            ChallengeNameType::PasswordVerifier => {
                self.verify_password_claim(pool, client, responses).await
            }
            ChallengeNameType::NewPasswordRequired => {
                self.complete_new_password(pool, client, session, responses)
                    .await
            }
            ChallengeNameType::EmailOtp if first_factor_code => {
                self.answer_sign_in_code(pool, client, session, &challenge, responses)
                    .await
            }
            ChallengeNameType::SmsOtp => {
                self.answer_sign_in_code(pool, client, session, &challenge, responses)
                    .await
            }
            ChallengeNameType::SmsMfa
            | ChallengeNameType::EmailOtp
            | ChallengeNameType::SoftwareTokenMfa => {
                self.answer_mfa_code(pool, client, session, &challenge, responses)
                    .await
            }
            ChallengeNameType::WebAuthn => {
                self.answer_passkey(pool, client, session, responses).await
            }
            ChallengeNameType::SelectChallenge
            | ChallengeNameType::Password
            | ChallengeNameType::PasswordSrp => {
                self.answer_select_challenge(pool, client, session, &challenge, responses)
                    .await
            }
            ChallengeNameType::SelectMfaType => {
                self.answer_select_mfa_type(pool, client, session, responses)
                    .await
            }
            ChallengeNameType::MfaSetup => {
                self.answer_mfa_setup(pool, client, session, responses)
                    .await
            }
            ChallengeNameType::DeviceSrpAuth => {
                self.answer_device_srp_auth(pool, client, session, responses)
                    .await
            }
            ChallengeNameType::DevicePasswordVerifier => {
                self.verify_device_claim(pool, client, caller, responses)
                    .await
            }
            ChallengeNameType::CustomChallenge => {
                self.answer_custom_challenge(pool, client, session, responses)
                    .await
            }
            other => Err(CoreError::InvalidParameter(format!(
                "The challenge {} is not supported by this server yet.",
                other.as_str()
            ))),
        }
    }

    /// States that end a sign-in before the password is looked at.
    fn refuse_before_password(&self, user: &UserRecord) -> Result<()> {
        if !user.enabled {
            return Err(CoreError::NotAuthorized("User is disabled.".into()));
        }
        if user.status == UserStatusType::ResetRequired {
            return Err(CoreError::PasswordResetRequired(
                "Password reset required for the user".into(),
            ));
        }
        self.check_lock(user)
    }

    /// After a correct password: tokens, or the challenge the user's state (or the device the
    /// sign-in presented) calls for. The failed-attempt count is cleared here, unless an MFA
    /// code is still owed: then only a right code clears it, so that knowing the password does
    /// not buy endless guesses at the code (nor does it count as a failure).
    async fn finish_sign_in(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &mut UserRecord,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        let confirmed = !matches!(
            user.status,
            UserStatusType::Unconfirmed | UserStatusType::ForceChangePassword
        );
        if confirmed && self.owes_mfa(pool, user, device.as_ref()) {
            self.attempt_was_right(user).await?;
        } else {
            self.attempt_succeeded(user).await?;
        }
        match user.status {
            UserStatusType::Unconfirmed => {
                Err(CoreError::UserNotConfirmed("User is not confirmed.".into()))
            }
            UserStatusType::ForceChangePassword => {
                if user
                    .temporary_password_expires_at
                    .is_some_and(|t| t < self.now_millis())
                {
                    return Err(CoreError::NotAuthorized(
                        "Temporary password has expired and must be reset by an administrator."
                            .into(),
                    ));
                }
                self.new_password_challenge(pool, client, user)
            }
            _ => {
                self.second_factor_or_device(pool, client, user, device)
                    .await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ExplicitAuthFlowsType as F;

    fn client(flows: Option<Vec<F>>) -> UserPoolClientType {
        UserPoolClientType {
            explicit_auth_flows: flows,
            ..Default::default()
        }
    }

    #[test]
    fn allowed_flows_follow_cognito_defaults_and_legacy_values() {
        let none = client(None);
        assert!(flow_allowed(&none, &AuthFlowType::UserSrpAuth));
        assert!(flow_allowed(&none, &AuthFlowType::RefreshTokenAuth));
        assert!(!flow_allowed(&none, &AuthFlowType::UserPasswordAuth));
        assert!(!flow_allowed(&none, &AuthFlowType::AdminUserPasswordAuth));

        let legacy = client(Some(vec![F::AdminNoSrpAuth]));
        assert!(flow_allowed(&legacy, &AuthFlowType::AdminNoSrpAuth));
        assert!(flow_allowed(&legacy, &AuthFlowType::AdminUserPasswordAuth));
        assert!(flow_allowed(&legacy, &AuthFlowType::UserSrpAuth));
        assert!(flow_allowed(&legacy, &AuthFlowType::RefreshToken));
        assert!(!flow_allowed(&legacy, &AuthFlowType::UserPasswordAuth));

        let modern = client(Some(vec![F::AllowUserPasswordAuth]));
        assert!(flow_allowed(&modern, &AuthFlowType::UserPasswordAuth));
        assert!(!flow_allowed(&modern, &AuthFlowType::UserSrpAuth));
        assert!(!flow_allowed(&modern, &AuthFlowType::RefreshTokenAuth));
    }
}
