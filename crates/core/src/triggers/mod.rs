//! Lambda triggers: a pool's `LambdaConfig` names functions that Cognito calls at set points of
//! its operations, with an event of a fixed shape, and whose answer it obeys (docs/triggers.md;
//! Cognito's events and errors, researched: docs/design/lambda-triggers-cognito-events.md).
//!
//! This module builds each trigger's event, hands it to the [`LambdaInvoker`] (the Lambda Invoke
//! API, `gatehouse-delivery`'s `lambda.rs`), and reads the answer back, failing the operation
//! with Cognito's exceptions. Where each operation calls which trigger is in the operation's own
//! module, at the point Cognito calls it. A pool that names a trigger never has it skipped: with
//! no Lambda endpoint configured, the call fails as an unreachable function does.
//!
//! Here: the invocation, the event's envelope, and the sign-up and sign-in triggers
//! (PreSignUp, PostConfirmation, PreAuthentication, PostAuthentication). Beside it:
//! `tokens.rs` (PreTokenGeneration), `challenges.rs` (custom authentication),
//! `migration.rs` (UserMigration), `messages.rs` (CustomMessage) and `senders.rs`
//! (CustomEmailSender, CustomSMSSender).

mod challenges;
mod messages;
mod migration;
mod senders;
mod tokens;

pub(crate) use challenges::{DefineAnswer, Subject};
pub(crate) use messages::{messages_from, MessageContext};
pub(crate) use senders::{SenderJob, TakeoverNotice};
pub(crate) use tokens::{sign_in_token_source, Claims, TokenSource};

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use gatehouse_wire::{ChallengeNameType, LambdaConfigType, PreTokenGenerationLambdaVersionType};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::store::{AppClientRecord, UserPoolRecord, UserRecord};
use crate::{Caller, Core, CoreError, Result};

/// A trigger, by its `LambdaConfig` member (also its name in Cognito's error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    UserMigration,
    CustomMessage,
    CustomEmailSender,
    CustomSmsSender,
}

impl Trigger {
    pub fn name(self) -> &'static str {
        match self {
            Trigger::PreSignUp => "PreSignUp",
            Trigger::PostConfirmation => "PostConfirmation",
            Trigger::PreAuthentication => "PreAuthentication",
            Trigger::PostAuthentication => "PostAuthentication",
            Trigger::PreTokenGeneration => "PreTokenGeneration",
            Trigger::DefineAuthChallenge => "DefineAuthChallenge",
            Trigger::CreateAuthChallenge => "CreateAuthChallenge",
            Trigger::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Trigger::UserMigration => "UserMigration",
            Trigger::CustomMessage => "CustomMessage",
            Trigger::CustomEmailSender => "CustomEmailSender",
            Trigger::CustomSmsSender => "CustomSMSSender",
        }
    }

    /// The function the pool names for this trigger, if any.
    fn function(self, config: &LambdaConfigType) -> Option<&str> {
        match self {
            Trigger::PreSignUp => config.pre_sign_up.as_deref(),
            Trigger::PostConfirmation => config.post_confirmation.as_deref(),
            Trigger::PreAuthentication => config.pre_authentication.as_deref(),
            Trigger::PostAuthentication => config.post_authentication.as_deref(),
            // PreTokenGenerationConfig names the function and its event version; a bare
            // PreTokenGeneration ARN is version 1.
            Trigger::PreTokenGeneration => config
                .pre_token_generation_config
                .as_ref()
                .map(|c| c.lambda_arn.as_str())
                .or(config.pre_token_generation.as_deref()),
            Trigger::DefineAuthChallenge => config.define_auth_challenge.as_deref(),
            Trigger::CreateAuthChallenge => config.create_auth_challenge.as_deref(),
            Trigger::VerifyAuthChallengeResponse => {
                config.verify_auth_challenge_response.as_deref()
            }
            Trigger::UserMigration => config.user_migration.as_deref(),
            Trigger::CustomMessage => config.custom_message.as_deref(),
            Trigger::CustomEmailSender => config
                .custom_email_sender
                .as_ref()
                .map(|c| c.lambda_arn.as_str()),
            Trigger::CustomSmsSender => config
                .custom_sms_sender
                .as_ref()
                .map(|c| c.lambda_arn.as_str()),
        }
        .filter(|arn| !arn.is_empty())
    }
}

/// Why an invocation gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvokeError {
    /// The function ran and raised: its `errorMessage`.
    Function(String),
    /// The function could not be run: the Invoke API's error code (`ResourceNotFoundException`,
    /// `AccessDeniedException`, ...) or what went wrong on the way ("Socket timeout while
    /// invoking Lambda function").
    Invocation(String),
}

/// Runs a Lambda function synchronously (RequestResponse) and returns its output.
#[async_trait]
pub trait LambdaInvoker: Send + Sync {
    async fn invoke(
        &self,
        function: &str,
        payload: Vec<u8>,
    ) -> std::result::Result<Vec<u8>, InvokeError>;

    /// The longest one invocation waits (Cognito's 5 seconds).
    fn max_wait(&self) -> Duration {
        Duration::from_secs(5)
    }
}

tokio::task_local! {
    /// Set around an operation whose time is bounded (the server's operation deadline): the
    /// milliseconds its trigger calls take, which the bound must not count.
    static LAMBDA_MS: Arc<AtomicU64>;
}

/// Runs `f` adding the time its Lambda triggers take to `spent` (milliseconds): while a call is
/// in flight, its longest possible wait is counted, then what it took. The server extends an
/// operation's deadline by it, so a bound meant for a stalled database does not cut off a
/// trigger Cognito would have waited for.
pub async fn counting_lambda_time<F: Future>(spent: Arc<AtomicU64>, f: F) -> F::Output {
    LAMBDA_MS.scope(spent, f).await
}

/// No Lambda endpoint configured: every trigger call fails, as a function that cannot be
/// reached does (never silently skipped).
pub struct NoLambdaEndpoint;

#[async_trait]
impl LambdaInvoker for NoLambdaEndpoint {
    async fn invoke(
        &self,
        function: &str,
        _payload: Vec<u8>,
    ) -> std::result::Result<Vec<u8>, InvokeError> {
        tracing::warn!(
            function,
            "a pool names a Lambda trigger but no --lambda-endpoint is configured"
        );
        Err(InvokeError::Invocation(
            "no Lambda endpoint is configured (--lambda-endpoint)".into(),
        ))
    }
}

impl Core {
    /// Calls the Lambda invocations through `lambda` (the binary's `--lambda-endpoint`).
    pub fn with_lambda(mut self, lambda: Arc<dyn LambdaInvoker>) -> Self {
        self.lambda = lambda;
        self
    }
}

/// `callerContext.awsSdkVersion`: the SDK named by the caller's User-Agent
/// (`aws-sdk-js/3.600.0` gives `aws-sdk-js-3.600.0`), else Cognito's `aws-sdk-unknown-unknown`.
pub(crate) fn sdk_version(caller: &Caller) -> String {
    caller
        .user_agent
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .find_map(|token| {
            let (name, version) = token.split_once('/')?;
            let lang = name.strip_prefix("aws-sdk-")?;
            (!lang.is_empty() && !version.is_empty()).then(|| format!("aws-sdk-{lang}-{version}"))
        })
        .unwrap_or_else(|| "aws-sdk-unknown-unknown".into())
}

tokio::task_local! {
    /// Set around a sign-in request: what its triggers are told besides their own members.
    static REQUESTED: Requested;
}

/// What a sign-in request gives the triggers it fires, deep inside its flows: who called, and
/// its ClientMetadata, which InitiateAuth hands to PreAuthentication as `validationData` and
/// RespondToAuthChallenge to the later triggers as `clientMetadata`.
#[derive(Clone, Default)]
pub(crate) struct Requested {
    pub caller: Caller,
    pub validation_data: Option<BTreeMap<String, String>>,
    pub client_metadata: Option<BTreeMap<String, String>>,
    /// The challenge a RespondToAuthChallenge answers (which token source its tokens are).
    pub challenge: Option<ChallengeNameType>,
    /// A sign-in on the hosted pages: its tokens are minted at the token endpoint, not here.
    pub hosted: bool,
    /// AdminRespondToAuthChallenge: its ClientMetadata also reaches CustomMessage
    /// (messages.rs).
    pub admin_answer: bool,
}

/// Runs `f` (a sign-in request) with `requested` told to its triggers.
pub(crate) async fn requested<F: std::future::Future>(requested: Requested, f: F) -> F::Output {
    REQUESTED.scope(requested, f).await
}

/// The running sign-in request's [`Requested`] (empty outside one).
pub(crate) fn current_request() -> Requested {
    REQUESTED.try_with(Clone::clone).unwrap_or_default()
}

/// The event's `version`: "1", but PreTokenGeneration's follows its configured version.
fn event_version(pool: &UserPoolRecord, trigger: Trigger) -> &'static str {
    match (trigger, token_trigger_version(pool)) {
        (Trigger::PreTokenGeneration, 2) => "2",
        (Trigger::PreTokenGeneration, 3) => "3",
        _ => "1",
    }
}

/// The version of the pool's PreTokenGeneration event: 1, 2 or 3.
fn token_trigger_version(pool: &UserPoolRecord) -> u8 {
    let version = pool
        .pool
        .lambda_config
        .as_ref()
        .and_then(|c| c.pre_token_generation_config.as_ref())
        .map(|c| &c.lambda_version);
    match version {
        Some(PreTokenGenerationLambdaVersionType::V20) => 2,
        Some(PreTokenGenerationLambdaVersionType::V30) => 3,
        _ => 1,
    }
}

/// A map of strings as the events carry them; None (no map given) is JSON `null`.
fn string_map(map: Option<&BTreeMap<String, String>>) -> Value {
    map.map_or(Value::Null, |m| json!(m))
}

/// The user's attributes as events carry them: every attribute, plus `cognito:user_status`.
fn user_attributes(user: &UserRecord) -> Value {
    let mut out: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    out.insert(
        "cognito:user_status".into(),
        Value::String(user.status.to_string()),
    );
    Value::Object(out)
}

/// What identifies one trigger call besides its request.
pub(crate) struct Call<'a> {
    pub pool: &'a UserPoolRecord,
    pub trigger: Trigger,
    pub source: &'a str,
    pub user_name: &'a str,
    /// The app client of the request; None for admin operations without one.
    pub client_id: Option<&'a str>,
    pub caller: &'a Caller,
}

/// PreSignUp's answer (read back from `response`).
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PreSignUpAnswer {
    #[serde(default, deserialize_with = "null_is_false")]
    pub auto_confirm_user: bool,
    #[serde(default, deserialize_with = "null_is_false")]
    pub auto_verify_email: bool,
    #[serde(default, deserialize_with = "null_is_false")]
    pub auto_verify_phone: bool,
}

fn null_is_false<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}

impl Core {
    /// Whether `pool` names `trigger`.
    pub(crate) fn has_trigger(pool: &UserPoolRecord, trigger: Trigger) -> bool {
        pool.pool
            .lambda_config
            .as_ref()
            .and_then(|c| trigger.function(c))
            .is_some()
    }

    /// Calls the call's trigger with `request` (and `response` prefilled as Cognito does) and
    /// returns the function's `response`; None when the pool names no such trigger.
    pub(crate) async fn call_trigger(
        &self,
        call: Call<'_>,
        request: Value,
        response: Value,
    ) -> Result<Option<Value>> {
        let Some(function) = call
            .pool
            .pool
            .lambda_config
            .as_ref()
            .and_then(|c| call.trigger.function(c))
        else {
            return Ok(None);
        };
        let event = self.event(&call, request, Some(response));
        let output = self.invoke(&call, function, &event).await?;
        let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(&output) else {
            return Err(CoreError::InvalidLambdaResponse(
                "Invalid lambda function output : Invalid JSON".into(),
            ));
        };
        match answer.remove("response") {
            Some(r @ (Value::Object(_) | Value::Null)) => Ok(Some(r)),
            None => Ok(Some(Value::Null)),
            Some(_) => Err(unrecognizable()),
        }
    }

    /// The event of `call`: Cognito's envelope around `request`, and `response` prefilled
    /// (None: the custom senders' events, which have none).
    fn event(&self, call: &Call<'_>, request: Value, response: Option<Value>) -> Value {
        let mut event = json!({
            "version": event_version(call.pool, call.trigger),
            "triggerSource": call.source,
            "region": self.config.region,
            "userPoolId": call.pool.id,
            "userName": call.user_name,
            "callerContext": {
                "awsSdkVersion": sdk_version(call.caller),
                "clientId": call.client_id.unwrap_or("CLIENT_ID_NOT_APPLICABLE"),
            },
            "request": request,
        });
        if let Some(r) = response {
            event["response"] = r;
        }
        event
    }

    /// Runs `function` with `event`; its output, or Cognito's error for a failed call.
    async fn invoke(&self, call: &Call<'_>, function: &str, event: &Value) -> Result<Vec<u8>> {
        let name = call.trigger.name();
        let payload = serde_json::to_vec(event).expect("an event serialises");
        let started = std::time::Instant::now();
        let reserved = self.lambda.max_wait().as_millis() as u64;
        let budget = LAMBDA_MS.try_with(Arc::clone).ok();
        if let Some(b) = &budget {
            b.fetch_add(reserved, Ordering::AcqRel);
        }
        let output = self.lambda.invoke(function, payload).await;
        if let Some(b) = &budget {
            let took = (started.elapsed().as_millis() as u64).min(reserved);
            b.fetch_sub(reserved - took, Ordering::AcqRel);
        }
        tracing::info!(
            trigger = name,
            source = call.source,
            function,
            micros = started.elapsed().as_micros() as u64,
            ok = output.is_ok(),
            "Lambda trigger called"
        );
        output.map_err(|e| match e {
            // Cognito's words, the final dot included (even after the function's own).
            InvokeError::Function(message) => {
                CoreError::UserLambdaValidation(format!("{name} failed with error {message}."))
            }
            InvokeError::Invocation(cause) => CoreError::UnexpectedLambda(format!(
                "{name} invocation failed due to error {cause}."
            )),
        })
    }

    /// PreSignUp (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`): may refuse the sign-up;
    /// its flags are returned (AdminCreateUser ignores them).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn pre_sign_up_trigger(
        &self,
        call: Call<'_>,
        attributes: &BTreeMap<String, String>,
        validation_data: Option<&BTreeMap<String, String>>,
        client_metadata: Option<&BTreeMap<String, String>>,
    ) -> Result<PreSignUpAnswer> {
        let mut request = json!({
            "userAttributes": attributes,
            "validationData": string_map(validation_data),
        });
        if let Some(m) = client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let response = json!({
            "autoConfirmUser": false,
            "autoVerifyEmail": false,
            "autoVerifyPhone": false,
        });
        match self.call_trigger(call, request, response).await? {
            None | Some(Value::Null) => Ok(PreSignUpAnswer::default()),
            Some(r) => serde_json::from_value(r).map_err(|_| unrecognizable()),
        }
    }

    /// PostConfirmation (`PostConfirmation_ConfirmSignUp`, `_ConfirmForgotPassword`): told
    /// after the change is committed; its failure is the caller's error, the change stays.
    pub(crate) async fn post_confirmation_trigger(
        &self,
        call: Call<'_>,
        user: &UserRecord,
        client_metadata: Option<&BTreeMap<String, String>>,
    ) -> Result<()> {
        let mut request = json!({ "userAttributes": user_attributes(user) });
        if let Some(m) = client_metadata {
            request["clientMetadata"] = json!(m);
        }
        self.call_trigger(call, request, json!({})).await?;
        Ok(())
    }

    /// PreAuthentication: may refuse a sign-in before its password is checked. Its
    /// `validationData` is the ClientMetadata of InitiateAuth. `user_not_found`: said only to
    /// clients that hide which users exist (PreventUserExistenceErrors), whose strangers are
    /// shown to the function too, with no attributes.
    pub(crate) async fn pre_authentication_trigger(
        &self,
        call: Call<'_>,
        user: Option<&UserRecord>,
        validation_data: Option<&BTreeMap<String, String>>,
        user_not_found: Option<bool>,
    ) -> Result<()> {
        let mut request = json!({
            "userAttributes": user.map_or_else(|| json!({}), user_attributes),
            "validationData": string_map(validation_data),
        });
        if let Some(not_found) = user_not_found {
            request["userNotFound"] = json!(not_found);
        }
        self.call_trigger(call, request, json!({})).await?;
        Ok(())
    }

    /// PostAuthentication: told once every challenge passed, before the tokens go out; its
    /// failure fails the sign-in.
    pub(crate) async fn post_authentication_trigger(
        &self,
        call: Call<'_>,
        user: &UserRecord,
        new_device_used: bool,
        client_metadata: Option<&BTreeMap<String, String>>,
    ) -> Result<()> {
        let mut request = json!({
            "userAttributes": user_attributes(user),
            "newDeviceUsed": new_device_used,
        });
        if let Some(m) = client_metadata {
            request["clientMetadata"] = json!(m);
        }
        self.call_trigger(call, request, json!({})).await?;
        Ok(())
    }
}

impl Core {
    /// PreAuthentication for a sign-in through `client`, before its password is checked
    /// (USER_PASSWORD_AUTH, the admin password flows, USER_SRP_AUTH, CUSTOM_AUTH, managed
    /// login). `user` None: no user has the name `typed`; the function is told only when the
    /// client hides which users exist, as `userNotFound` (Cognito's rule), and the sign-in then
    /// fails as any stranger's does.
    pub(crate) async fn before_password_check(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: Option<&UserRecord>,
        typed: &str,
    ) -> Result<()> {
        let hides_users = crate::app_clients::prevents_existence_errors(client);
        if !Self::has_trigger(pool, Trigger::PreAuthentication) || (user.is_none() && !hides_users)
        {
            return Ok(());
        }
        let told = current_request();
        let call = Call {
            pool,
            trigger: Trigger::PreAuthentication,
            source: "PreAuthentication_Authentication",
            user_name: user.map_or(typed, |u| &u.username),
            client_id: Some(&client.client_id),
            caller: &told.caller,
        };
        let not_found = hides_users.then_some(user.is_none());
        self.pre_authentication_trigger(call, user, told.validation_data.as_ref(), not_found)
            .await
    }

    /// PostAuthentication once a sign-in passed every challenge, before its tokens exist.
    /// `new_device_used`: the sign-in presented no remembered device (device tracking on).
    pub(crate) async fn after_authentication(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        user: &UserRecord,
        new_device_used: bool,
    ) -> Result<()> {
        if !Self::has_trigger(pool, Trigger::PostAuthentication) {
            return Ok(());
        }
        let told = current_request();
        let call = Call {
            pool,
            trigger: Trigger::PostAuthentication,
            source: "PostAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(client_id),
            caller: &told.caller,
        };
        self.post_authentication_trigger(call, user, new_device_used, told.client_metadata.as_ref())
            .await
    }
}

fn unrecognizable() -> CoreError {
    CoreError::InvalidLambdaResponse("Unrecognizable lambda output".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sdk_comes_from_the_user_agent() {
        let caller = |ua: &str| Caller {
            ip: None,
            user_agent: Some(ua.into()),
        };
        assert_eq!(
            sdk_version(&caller("aws-sdk-js/3.600.0 ua/2.1 os/linux lang/js")),
            "aws-sdk-js-3.600.0"
        );
        assert_eq!(
            sdk_version(&caller("Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0")),
            "aws-sdk-unknown-unknown"
        );
        assert_eq!(sdk_version(&Caller::default()), "aws-sdk-unknown-unknown");
    }

    #[test]
    fn pre_sign_up_answers_read_nulls_as_false() {
        let a: PreSignUpAnswer = serde_json::from_value(
            json!({"autoConfirmUser": true, "autoVerifyEmail": null, "extra": 1}),
        )
        .unwrap();
        assert_eq!(
            a,
            PreSignUpAnswer {
                auto_confirm_user: true,
                ..Default::default()
            }
        );
        assert!(
            serde_json::from_value::<PreSignUpAnswer>(json!({"autoConfirmUser": "yes"})).is_err()
        );
    }
}
