//! The custom authentication triggers' calls (DefineAuthChallenge, CreateAuthChallenge,
//! VerifyAuthChallengeResponse); the flow they conduct is `auth/custom_flow.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{current_request, null_is_false, unrecognizable, user_attributes, Call, Trigger};
use crate::store::{AppClientRecord, CustomRound, UserPoolRecord, UserRecord};
use crate::{Caller, Core, Result};

/// DefineAuthChallenge's decision.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DefineAnswer {
    #[serde(default)]
    pub challenge_name: Option<String>,
    #[serde(default, deserialize_with = "null_is_false")]
    pub issue_tokens: bool,
    #[serde(default, deserialize_with = "null_is_false")]
    pub fail_authentication: bool,
}

/// CreateAuthChallenge's challenge.
#[derive(Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CreateAnswer {
    #[serde(default)]
    pub public_challenge_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub private_challenge_parameters: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub challenge_metadata: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct VerifyAnswer {
    #[serde(default, deserialize_with = "null_is_false")]
    answer_correct: bool,
}

/// Whom a custom authentication is about: a user, or, on an app client that hides which users
/// exist (PreventUserExistenceErrors), a name no user has. Such a client's functions are told
/// `userNotFound` (true for a stranger, who has no attributes), so that they can put the same
/// challenges to strangers as to users, as on Cognito.
#[derive(Clone, Copy)]
pub(crate) struct Subject<'a> {
    pub name: &'a str,
    pub user: Option<&'a UserRecord>,
    pub hides_users: bool,
}

impl<'a> Subject<'a> {
    pub(crate) fn user(user: &'a UserRecord, client: &AppClientRecord) -> Self {
        Subject {
            name: &user.username,
            user: Some(user),
            hides_users: crate::app_clients::prevents_existence_errors(client),
        }
    }

    pub(crate) fn stranger(typed: &'a str) -> Self {
        Subject {
            name: typed,
            user: None,
            hides_users: true,
        }
    }

    /// The request's `userAttributes`, and `userNotFound` where it is said.
    fn request(&self, mut request: Value) -> Value {
        request["userAttributes"] = self.user.map_or_else(|| json!({}), user_attributes);
        if self.hides_users {
            request["userNotFound"] = json!(self.user.is_none());
        }
        request
    }
}

impl Core {
    /// The call of a custom authentication trigger about `who` in the running sign-in request.
    fn challenge_call<'a>(
        pool: &'a UserPoolRecord,
        client_id: &'a str,
        who: Subject<'a>,
        trigger: Trigger,
        source: &'static str,
        caller: &'a Caller,
    ) -> Call<'a> {
        Call {
            pool,
            trigger,
            source,
            user_name: who.name,
            client_id: Some(client_id),
            caller,
        }
    }

    /// DefineAuthChallenge: given the rounds so far, what comes next.
    pub(crate) async fn define_auth_challenge(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        who: Subject<'_>,
        rounds: &[CustomRound],
    ) -> Result<DefineAnswer> {
        let told = current_request();
        let mut request = who.request(json!({ "session": rounds }));
        if let Some(m) = &told.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let response = json!({
            "challengeName": null,
            "issueTokens": false,
            "failAuthentication": false,
        });
        let call = Self::challenge_call(
            pool,
            client_id,
            who,
            Trigger::DefineAuthChallenge,
            "DefineAuthChallenge_Authentication",
            &told.caller,
        );
        match self.call_trigger(call, request, response).await? {
            None | Some(Value::Null) => Ok(DefineAnswer::default()),
            Some(r) => serde_json::from_value(r).map_err(|_| unrecognizable()),
        }
    }

    /// CreateAuthChallenge: the challenge `challenge_name` (CUSTOM_CHALLENGE) to put to the user.
    pub(crate) async fn create_auth_challenge(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        who: Subject<'_>,
        challenge_name: &str,
        rounds: &[CustomRound],
    ) -> Result<CreateAnswer> {
        let told = current_request();
        let mut request = who.request(json!({
            "challengeName": challenge_name,
            "session": rounds,
        }));
        if let Some(m) = &told.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let response = json!({
            "publicChallengeParameters": null,
            "privateChallengeParameters": null,
            "challengeMetadata": null,
        });
        let call = Self::challenge_call(
            pool,
            client_id,
            who,
            Trigger::CreateAuthChallenge,
            "CreateAuthChallenge_Authentication",
            &told.caller,
        );
        match self.call_trigger(call, request, response).await? {
            None | Some(Value::Null) => Ok(CreateAnswer::default()),
            Some(r) => serde_json::from_value(r).map_err(|_| unrecognizable()),
        }
    }

    /// VerifyAuthChallengeResponse: whether `answer` answers the challenge Create made.
    pub(crate) async fn verify_auth_challenge(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        who: Subject<'_>,
        private_parameters: &BTreeMap<String, String>,
        answer: &str,
    ) -> Result<bool> {
        let told = current_request();
        let mut request = who.request(json!({
            "privateChallengeParameters": private_parameters,
            "challengeAnswer": answer,
        }));
        if let Some(m) = &told.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let call = Self::challenge_call(
            pool,
            client_id,
            who,
            Trigger::VerifyAuthChallengeResponse,
            "VerifyAuthChallengeResponse_Authentication",
            &told.caller,
        );
        match self
            .call_trigger(call, request, json!({ "answerCorrect": false }))
            .await?
        {
            None | Some(Value::Null) => Ok(false),
            Some(r) => Ok(serde_json::from_value::<VerifyAnswer>(r)
                .map_err(|_| unrecognizable())?
                .answer_correct),
        }
    }
}
