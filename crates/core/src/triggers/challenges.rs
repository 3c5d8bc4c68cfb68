//! The custom authentication triggers' calls (DefineAuthChallenge, CreateAuthChallenge,
//! VerifyAuthChallengeResponse); the flow they conduct is `auth/custom_flow.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{current_request, null_is_false, unrecognizable, user_attributes, Call, Trigger};
use crate::store::{CustomRound, UserPoolRecord, UserRecord};
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

impl Core {
    /// The call of a custom authentication trigger for `user` in the running sign-in request.
    fn challenge_call<'a>(
        pool: &'a UserPoolRecord,
        client_id: &'a str,
        user: &'a UserRecord,
        trigger: Trigger,
        source: &'static str,
        caller: &'a Caller,
    ) -> Call<'a> {
        Call {
            pool,
            trigger,
            source,
            user_name: &user.username,
            client_id: Some(client_id),
            caller,
        }
    }

    /// DefineAuthChallenge: given the rounds so far, what comes next.
    pub(crate) async fn define_auth_challenge(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        user: &UserRecord,
        rounds: &[CustomRound],
    ) -> Result<DefineAnswer> {
        let told = current_request();
        let mut request = json!({
            "userAttributes": user_attributes(user),
            "session": rounds,
        });
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
            user,
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
        user: &UserRecord,
        challenge_name: &str,
        rounds: &[CustomRound],
    ) -> Result<CreateAnswer> {
        let told = current_request();
        let mut request = json!({
            "userAttributes": user_attributes(user),
            "challengeName": challenge_name,
            "session": rounds,
        });
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
            user,
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
        user: &UserRecord,
        private_parameters: &BTreeMap<String, String>,
        answer: &str,
    ) -> Result<bool> {
        let told = current_request();
        let mut request = json!({
            "userAttributes": user_attributes(user),
            "privateChallengeParameters": private_parameters,
            "challengeAnswer": answer,
        });
        if let Some(m) = &told.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let call = Self::challenge_call(
            pool,
            client_id,
            user,
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
