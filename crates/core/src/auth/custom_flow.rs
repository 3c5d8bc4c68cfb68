//! CUSTOM_AUTH: a sign-in the pool's challenge triggers conduct (docs/triggers.md, "Custom
//! authentication"). DefineAuthChallenge is shown the rounds so far and decides: fail, issue
//! tokens, or put another challenge, which CreateAuthChallenge makes and
//! VerifyAuthChallengeResponse judges. Two starts, as Cognito has them:
//!
//! - plain (`USERNAME` only): Define sees no rounds;
//! - with SRP (`SRP_A`, `CHALLENGE_NAME: SRP_A`, what amazon-cognito-identity-js sends): Define
//!   sees `SRP_A` and asks for PASSWORD_VERIFIER; the password's SRP proof is checked as in
//!   USER_SRP_AUTH (srp_flow.rs), then Define sees `PASSWORD_VERIFIER` too.
//!
//! Each CUSTOM_CHALLENGE is a pending sign-in of its own (a fresh Session per round), taken once
//! by its answer, so two answers to one challenge cannot both go on. Tokens come as from any
//! other sign-in: PostAuthentication, a new device or the presented device's SRP.

use gatehouse_srp::PublicValue;
use gatehouse_wire::{ChallengeNameType, UserStatusType};

use super::device_flow::UnknownDevice;
use super::srp_flow::srp_error;
use super::{check_secret_hash_for, incorrect, AuthStep, Params};
use crate::store::{
    AppClientRecord, CustomRound, DeviceRecord, PendingCustom, PendingStep, UserPoolRecord,
    UserRecord,
};
use crate::triggers::{DefineAnswer, Subject, Trigger};
use crate::{Core, CoreError, Result};

/// Rounds one custom sign-in may take: Cognito documents no limit, and counting attempts is the
/// functions' job; this only ends a conversation that never would.
const MAX_ROUNDS: usize = 50;

const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// Define, shown `[SRP_A]`, asks for the password's SRP proof (PASSWORD_VERIFIER).
fn asks_for_the_password(decision: &DefineAnswer) -> bool {
    !decision.fail_authentication
        && !decision.issue_tokens
        && decision.challenge_name.as_deref() == Some("PASSWORD_VERIFIER")
}

fn round(name: &str, result: bool, metadata: Option<String>) -> CustomRound {
    CustomRound {
        challenge_name: name.to_string(),
        challenge_result: result,
        challenge_metadata: metadata,
    }
}

impl Core {
    /// InitiateAuth / AdminInitiateAuth CUSTOM_AUTH.
    pub(super) async fn start_custom(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let username = params.required("USERNAME")?;
        let secret_hash = params.get("SECRET_HASH");
        if secret_hash.is_none() {
            check_secret_hash_for(client, &[username], None)?;
        }
        let all_there = [
            Trigger::DefineAuthChallenge,
            Trigger::CreateAuthChallenge,
            Trigger::VerifyAuthChallengeResponse,
        ]
        .into_iter()
        .all(|t| Self::has_trigger(pool, t));
        if !all_there {
            return Err(CoreError::InvalidParameter(
                "Custom auth lambda trigger is not configured for the user pool.".into(),
            ));
        }
        let user = match self.find_user(pool, username).await? {
            Some(u) => u,
            None if crate::app_clients::prevents_existence_errors(client) => {
                check_secret_hash_for(client, &[username], secret_hash)?;
                self.before_password_check(pool, client, None, username)
                    .await?;
                return self
                    .start_stranger(pool, client, username, params.get("SRP_A"))
                    .await;
            }
            None => return Err(CoreError::user_not_found()),
        };
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;
        if user.status == UserStatusType::Unconfirmed {
            return Err(CoreError::UserNotConfirmed("User is not confirmed.".into()));
        }
        self.before_password_check(pool, client, Some(&user), username)
            .await?;
        let Some(srp_a) = params.get("SRP_A") else {
            let device = self
                .presented_device(pool, &user, params.get("DEVICE_KEY"), UnknownDevice::Ignore)
                .await?;
            return self
                .custom_next(pool, client, &user, Vec::new(), device)
                .await;
        };
        let rounds = vec![round("SRP_A", true, None)];
        let decision = self
            .define_auth_challenge(
                pool,
                &client.client_id,
                Subject::user(&user, client),
                &rounds,
            )
            .await?;
        if asks_for_the_password(&decision) {
            let srp_a = PublicValue::from_hex(srp_a).map_err(srp_error)?;
            return self.password_verifier_challenge(
                pool,
                client,
                Some(&user),
                (username, secret_hash),
                &srp_a,
                true,
            );
        }
        let device = self
            .presented_device(pool, &user, params.get("DEVICE_KEY"), UnknownDevice::Ignore)
            .await?;
        self.follow_decision(pool, client, &user, rounds, decision, device)
            .await
    }

    /// The SRP step of a custom authentication passed (srp_flow.rs): Define goes on.
    pub(super) async fn custom_after_password(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &mut UserRecord,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        self.attempt_succeeded(user).await?;
        let rounds = vec![
            round("SRP_A", true, None),
            round("PASSWORD_VERIFIER", true, None),
        ];
        self.custom_next(pool, client, user, rounds, device).await
    }

    /// RespondToAuthChallenge CUSTOM_CHALLENGE: Verify judges the ANSWER, Define decides.
    pub(super) async fn answer_custom_challenge(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let username = responses.required("USERNAME")?;
        let answer = responses.required("ANSWER")?;
        if let Some(s) = session.filter(|s| self.is_stranger_session(s)) {
            check_secret_hash_for(client, &[username], responses.get("SECRET_HASH"))?;
            return self
                .answer_stranger(pool, client, s, username, answer)
                .await;
        }
        let (pending, user) = self
            .pending_at(pool, client, session, PendingStep::CustomChallenge)
            .await?;
        if !self.names_user(pool, &user, username).await? {
            return Err(incorrect());
        }
        let secret_hash = responses.get("SECRET_HASH");
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;
        // This challenge is answered once: a second answer (or a replay) finds it gone.
        self.finish_pending(&pending.id, PendingStep::CustomChallenge)
            .await?;
        let custom = pending.custom.unwrap_or_default();
        let correct = self
            .verify_auth_challenge(
                pool,
                &client.client_id,
                Subject::user(&user, client),
                &custom.private_parameters,
                answer,
            )
            .await?;
        let mut rounds = custom.rounds;
        rounds.push(round(CUSTOM_CHALLENGE, correct, custom.metadata));
        let device = match &pending.device_key {
            Some(key) => self.tracked_device(pool, &user, key).await?,
            None => None,
        };
        self.custom_next(pool, client, &user, rounds, device).await
    }

    /// Define, shown `rounds`, and what it decides.
    async fn custom_next(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        rounds: Vec<CustomRound>,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        if rounds.len() >= MAX_ROUNDS {
            return Err(incorrect());
        }
        let decision = self
            .define_auth_challenge(
                pool,
                &client.client_id,
                Subject::user(user, client),
                &rounds,
            )
            .await?;
        self.follow_decision(pool, client, user, rounds, decision, device)
            .await
    }

    async fn follow_decision(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        rounds: Vec<CustomRound>,
        decision: DefineAnswer,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        if decision.fail_authentication {
            return Err(incorrect());
        }
        if decision.issue_tokens {
            let mut step = match &device {
                Some(d) => self.begin_device_sign_in(pool, client, user, d).await?,
                None => AuthStep::tokens(self.tokens_for_new_device(pool, client, user).await?),
            };
            step.user = Some(Box::new(user.clone()));
            return Ok(step);
        }
        let (custom, parameters) = self
            .next_challenge(pool, client, Subject::user(user, client), rounds, &decision)
            .await?;
        let key = device.as_ref().map(|d| d.device_key.as_str());
        let mut pending =
            self.pending_sign_in_record(pool, client, user, key, PendingStep::CustomChallenge);
        pending.custom = Some(custom);
        self.sign_ins().insert_pending_sign_in(&pending).await?;
        Ok(AuthStep {
            challenge_name: Some(ChallengeNameType::CustomChallenge),
            session: Some(pending.session),
            challenge_parameters: Some(parameters),
            ..Default::default()
        })
    }
}

impl Core {
    /// Define asked for another CUSTOM_CHALLENGE (anything else is an unrecognizable answer):
    /// CreateAuthChallenge makes it. Returns what the challenge's answer needs kept, and the
    /// challenge's parameters for the client (`USERNAME` added).
    async fn next_challenge(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        who: Subject<'_>,
        rounds: Vec<CustomRound>,
        decision: &DefineAnswer,
    ) -> Result<(PendingCustom, std::collections::BTreeMap<String, String>)> {
        if decision.challenge_name.as_deref() != Some(CUSTOM_CHALLENGE) {
            return Err(CoreError::InvalidLambdaResponse(
                "Unrecognizable lambda output".into(),
            ));
        }
        let created = self
            .create_auth_challenge(pool, &client.client_id, who, CUSTOM_CHALLENGE, &rounds)
            .await?;
        let mut parameters = created.public_challenge_parameters.unwrap_or_default();
        parameters.insert("USERNAME".into(), who.name.to_string());
        let custom = PendingCustom {
            rounds,
            private_parameters: created.private_challenge_parameters.unwrap_or_default(),
            metadata: created.challenge_metadata,
        };
        Ok((custom, parameters))
    }
}

/// The Session challenge of a stranger's custom authentication.
const STRANGER_CHALLENGE: &str = "CUSTOM_CHALLENGE_NO_USER";

impl Core {
    /// CUSTOM_AUTH for a name no user has, on a client that hides which users exist: the
    /// functions conduct it as for a user, told `userNotFound`, so a stranger meets the same
    /// challenges and learns nothing (Cognito's way). It can only end in failure: Define's
    /// `issueTokens` has no one to issue them to. Nothing is stored; each challenge's state is
    /// sealed in its Session.
    async fn start_stranger(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        typed: &str,
        srp_a: Option<&str>,
    ) -> Result<AuthStep> {
        let who = Subject::stranger(typed);
        let Some(srp_a) = srp_a else {
            return self.stranger_next(pool, client, typed, Vec::new()).await;
        };
        let rounds = vec![round("SRP_A", true, None)];
        let decision = self
            .define_auth_challenge(pool, &client.client_id, who, &rounds)
            .await?;
        if asks_for_the_password(&decision) {
            // The decoy PASSWORD_VERIFIER of USER_SRP_AUTH's strangers: its answer fails.
            let srp_a = PublicValue::from_hex(srp_a).map_err(srp_error)?;
            return self.password_verifier_challenge(
                pool,
                client,
                None,
                (typed, None),
                &srp_a,
                true,
            );
        }
        self.follow_stranger_decision(pool, client, typed, rounds, decision)
            .await
    }

    fn is_stranger_session(&self, session: &str) -> bool {
        self.peek_challenge_session(session)
            .is_ok_and(|s| s.challenge == STRANGER_CHALLENGE)
    }

    /// RespondToAuthChallenge CUSTOM_CHALLENGE with a stranger's Session.
    async fn answer_stranger(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: &str,
        username: &str,
        answer: &str,
    ) -> Result<AuthStep> {
        let s = self.open_challenge_session(pool, client, Some(session), STRANGER_CHALLENGE)?;
        let custom = s.stranger.unwrap_or_default();
        if s.username_key != username {
            return Err(incorrect());
        }
        let correct = self
            .verify_auth_challenge(
                pool,
                &client.client_id,
                Subject::stranger(username),
                &custom.private_parameters,
                answer,
            )
            .await?;
        let mut rounds = custom.rounds;
        rounds.push(round(CUSTOM_CHALLENGE, correct, custom.metadata));
        self.stranger_next(pool, client, username, rounds).await
    }

    async fn stranger_next(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        typed: &str,
        rounds: Vec<CustomRound>,
    ) -> Result<AuthStep> {
        if rounds.len() >= MAX_ROUNDS {
            return Err(incorrect());
        }
        let decision = self
            .define_auth_challenge(pool, &client.client_id, Subject::stranger(typed), &rounds)
            .await?;
        self.follow_stranger_decision(pool, client, typed, rounds, decision)
            .await
    }

    async fn follow_stranger_decision(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        typed: &str,
        rounds: Vec<CustomRound>,
        decision: DefineAnswer,
    ) -> Result<AuthStep> {
        // Failing, or issuing tokens to no one, ends as any stranger's sign-in does.
        if decision.fail_authentication || decision.issue_tokens {
            return Err(incorrect());
        }
        let (custom, parameters) = self
            .next_challenge(pool, client, Subject::stranger(typed), rounds, &decision)
            .await?;
        let session = self.seal_stranger_session(pool, client, typed, STRANGER_CHALLENGE, custom);
        Ok(AuthStep {
            challenge_name: Some(ChallengeNameType::CustomChallenge),
            session: Some(session),
            challenge_parameters: Some(parameters),
            ..Default::default()
        })
    }
}
