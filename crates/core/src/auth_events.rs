//! Sign-in events (Cognito's threat protection event history): while a pool's
//! `UserPoolAddOns.AdvancedSecurityMode` is AUDIT or ENFORCED, every sign-in attempt of a user
//! is recorded as an `AuthEventType`, through any flow (SRP, password, the hosted pages),
//! its challenges included: the password step makes the event (`Fail` on a wrong password,
//! `InProgress` while a challenge waits, `Pass` with tokens); later steps find it by the
//! Session they answer and carry it on. AdminListUserAuthEvents lists them newest first,
//! AdminUpdateAuthEventFeedback marks them. With the mode OFF nothing is recorded and the
//! operations answer UserPoolAddOnNotEnabledException, as on Cognito. Events are pruned after
//! the configured retention (default 90 days). Behaviour notes:
//! docs/design/advanced-security-cognito-behaviour.md.

use gatehouse_wire::*;
use sha2::{Digest, Sha256};

use crate::auth::AuthStep;
use crate::risk::Verdict;
use crate::store::{AuthEventRecord, DeviceStatus, UserPoolRecord, UserRecord};
use crate::{Caller, Core, CoreError, Result};

/// AdminListUserAuthEvents' page size when MaxResults is absent or 0 (and its maximum).
const MAX_RESULTS: u32 = 60;

/// What a sign-in step checks: its entry in the event's `ChallengeResponses`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Checked {
    /// The password (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, SRP's PASSWORD_VERIFIER).
    Password,
    /// A second factor's code.
    Mfa,
    /// Anything else (a new password, device SRP, choosing a factor): the outcome only.
    Other,
}

/// One step of a sign-in, as the request gave it.
pub(crate) struct SignInStep<'a> {
    pub username: Option<&'a str>,
    /// The Session answered; None for the first step.
    pub session: Option<&'a str>,
    pub checked: Checked,
    /// The device the step presented (DEVICE_KEY), whose name the event takes.
    pub device_key: Option<&'a str>,
}

/// Whether the pool records sign-in events.
pub fn records_events(pool: &UserPoolRecord) -> bool {
    matches!(
        pool.pool
            .user_pool_add_ons
            .as_ref()
            .map(|a| &a.advanced_security_mode),
        Some(AdvancedSecurityModeType::Audit | AdvancedSecurityModeType::Enforced)
    )
}

/// A sign-in's rating and ENFORCED's verdict on it.
struct Judgement {
    level: Option<RiskLevelType>,
    verdict: Verdict,
    /// The configured action, when ENFORCED found one (its `Notify`).
    action: Option<AccountTakeoverActionType>,
    config: Option<RiskConfigurationType>,
    user: UserRecord,
}

/// Whether the pool acts on the risk it rates (ENFORCED).
fn enforced(pool: &UserPoolRecord) -> bool {
    matches!(
        pool.pool
            .user_pool_add_ons
            .as_ref()
            .map(|a| &a.advanced_security_mode),
        Some(AdvancedSecurityModeType::Enforced)
    )
}

pub(crate) fn add_on_refusal(pool: &UserPoolRecord) -> Result<()> {
    if records_events(pool) {
        return Ok(());
    }
    Err(CoreError::UserPoolAddOnNotEnabled(
        "Advanced security features are not enabled for this user pool.".into(),
    ))
}

fn session_key(session: &str) -> String {
    crate::ids::hex(&Sha256::digest(session.as_bytes()))
}

/// How a refused step reads in the event: a wrong answer to what it checked, or a refusal of
/// the user's state (disabled, locked, unconfirmed). Other errors (bad input, faults) leave
/// no trace.
enum Refusal {
    WrongAnswer,
    UserState,
}

fn refusal(e: &CoreError) -> Option<Refusal> {
    match e {
        CoreError::NotAuthorized(m) if m == "Incorrect username or password." => {
            Some(Refusal::WrongAnswer)
        }
        CoreError::CodeMismatch(_) | CoreError::ExpiredCode(_) => Some(Refusal::WrongAnswer),
        CoreError::NotAuthorized(m)
            if m == "User is disabled."
                || m == "Password attempts exceeded"
                || m.starts_with("Temporary password has expired") =>
        {
            Some(Refusal::UserState)
        }
        CoreError::UserNotConfirmed(_) | CoreError::PasswordResetRequired(_) => {
            Some(Refusal::UserState)
        }
        _ => None,
    }
}

/// "Chrome on Linux" for a browser, "Boto3 1.35.0" for an SDK: what a User-Agent says.
pub(crate) fn device_name_of(user_agent: &str) -> String {
    if user_agent.starts_with("Mozilla/") {
        return crate::oauth::hosted_sign_in::browser_name(user_agent);
    }
    let first = user_agent.split_whitespace().next().unwrap_or("");
    match first.split_once('/') {
        Some((name, version)) if !name.is_empty() => format!("{name} {version}"),
        _ if !first.is_empty() => first.to_string(),
        _ => "Unknown".into(),
    }
}

impl Core {
    /// Records what a sign-in step did, if the pool records events, and returns the step's
    /// result, or ENFORCED's refusal of it (its tokens revoked). A failure to record is logged
    /// and lets AUDIT's sign-in through; ENFORCED refuses what it could not judge.
    pub(crate) async fn record_sign_in_step(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        caller: &Caller,
        step: SignInStep<'_>,
        result: Result<AuthStep>,
    ) -> Result<AuthStep> {
        if !records_events(pool) {
            return result;
        }
        let refusal = match self
            .try_record_sign_in_step(pool, client_id, caller, step, &result)
            .await
        {
            Ok(None) => return result,
            Ok(Some(message)) => CoreError::NotAuthorized(message.into()),
            // ENFORCED fails closed: a sign-in it could not judge does not pass.
            Err(e) if enforced(pool) => e,
            Err(e) => {
                tracing::error!(error = %e, pool_id = %pool.id, "recording a sign-in event failed");
                return result;
            }
        };
        let session = result
            .ok()
            .and_then(|s| s.authentication_result)
            .and_then(|t| t.refresh_token)
            .and_then(|t| crate::sessions::session_id_of(&t));
        if let Some(id) = session {
            self.tokens()
                .revoke_auth_session(&id, self.now_millis())
                .await?;
        }
        Err(refusal)
    }

    /// The event's write; Some(message) when ENFORCED refuses the sign-in.
    async fn try_record_sign_in_step(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        caller: &Caller,
        step: SignInStep<'_>,
        result: &Result<AuthStep>,
    ) -> Result<Option<&'static str>> {
        let refused = match result {
            Ok(_) => None,
            Err(e) => match refusal(e) {
                Some(r) => Some(r),
                None => return Ok(None),
            },
        };
        // A password step starts its event (the Session it may answer, SRP's, started none).
        let existing = match step.session {
            Some(s) if step.checked != Checked::Password => {
                self.auth_events()
                    .auth_event_by_session(&pool.id, &session_key(s))
                    .await?
            }
            _ => None,
        };
        let mut judged = None;
        let mut event = match existing {
            Some(e) => e,
            // Only the password step starts an event (SRP's first call checks nothing).
            None if step.checked == Checked::Password => {
                // The flow hands over the user it signed in; a refused step is looked up.
                let signed_in = result
                    .as_ref()
                    .ok()
                    .and_then(|s| s.user.as_deref().cloned());
                let user = match signed_in {
                    Some(u) => u,
                    None => match self.find_user(pool, step.username.unwrap_or("")).await? {
                        Some(u) => u,
                        None => return Ok(None),
                    },
                };
                let (event, trusted) = self
                    .new_sign_in_event(pool, &user, caller, step.device_key)
                    .await?;
                if let Ok(next) = result {
                    judged = Some(
                        self.judge(pool, client_id, &user, caller, trusted, next)
                            .await?,
                    );
                }
                event
            }
            None => return Ok(None),
        };
        let e = &mut event.event;
        let answer = |r| ChallengeResponseType {
            challenge_name: Some(match step.checked {
                Checked::Mfa => ChallengeName::Mfa,
                _ => ChallengeName::Password,
            }),
            challenge_response: Some(r),
        };
        let responses = e.challenge_responses.get_or_insert_with(Vec::new);
        let mut block = None;
        match (result, refused) {
            (Ok(next), _) => {
                if step.checked != Checked::Other {
                    responses.push(answer(ChallengeResponse::Success));
                }
                if let Some(j) = &judged {
                    let risk = e.event_risk.get_or_insert_with(Default::default);
                    risk.risk_level = j.level.clone();
                    risk.risk_decision = Some(match &j.verdict {
                        Verdict::Allow(d) => d.clone(),
                        Verdict::Block(_) => RiskDecisionType::Block,
                    });
                }
                if let Some(Judgement {
                    verdict: Verdict::Block(message),
                    ..
                }) = &judged
                {
                    e.event_response = Some(EventResponseType::Fail);
                    event.session_key = None;
                    block = Some(*message);
                } else {
                    match (&next.authentication_result, &next.session) {
                        (Some(tokens), _) => {
                            e.event_response = Some(EventResponseType::Pass);
                            event.session_key = None;
                            event.session_id = tokens
                                .refresh_token
                                .as_deref()
                                .and_then(crate::sessions::session_id_of);
                            event.device_key = tokens
                                .new_device_metadata
                                .as_ref()
                                .and_then(|m| m.device_key.clone())
                                .or(event.device_key.take());
                        }
                        (None, None) => {
                            e.event_response = Some(EventResponseType::Pass);
                            event.session_key = None;
                        }
                        (None, Some(s)) => {
                            e.event_response = Some(EventResponseType::Inprogress);
                            event.session_key = Some(session_key(s));
                        }
                    }
                }
            }
            (Err(_), Some(Refusal::WrongAnswer)) => {
                responses.push(answer(ChallengeResponse::Failure));
                // A wrong code may be tried again with the same Session; a wrong password ends
                // the attempt.
                if step.checked != Checked::Mfa {
                    e.event_response = Some(EventResponseType::Fail);
                    event.session_key = None;
                }
            }
            (Err(_), _) => {
                e.event_response = Some(EventResponseType::Fail);
                event.session_key = None;
            }
        }
        if event.device_key.is_none() {
            event.device_key = step.device_key.map(String::from);
        }
        if event.version == 0 {
            event.version = 1;
            self.auth_events().insert_auth_event(&event).await?;
        } else {
            event.version += 1;
            // A lost race (two answers at once) keeps the other writer's account.
            self.auth_events().update_auth_event(&event).await?;
        }
        self.deliver_auth_event(pool, &event).await;
        if let Some(Judgement {
            action: Some(action),
            config,
            user,
            ..
        }) = &judged
        {
            // Boxed: a notice may go through a Lambda trigger, a deep future to carry inline.
            Box::pin(self.notify_risk(user, &event, config.as_ref(), action, client_id)).await?;
        }
        Ok(block)
    }

    /// A sign-in's risk, and (ENFORCED) what is done about it.
    async fn judge(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        user: &UserRecord,
        caller: &Caller,
        trusted_device: bool,
        next: &AuthStep,
    ) -> Result<Judgement> {
        let config = self.effective_risk_configuration(pool, client_id).await?;
        let ip = caller.ip.map(|i| i.to_string());
        let level = self
            .rate_sign_in(pool, user, config.as_ref(), ip.as_deref(), trusted_device)
            .await?;
        if !enforced(pool) {
            return Ok(Judgement {
                level,
                verdict: Verdict::Allow(RiskDecisionType::Norisk),
                action: None,
                config,
                user: user.clone(),
            });
        }
        let asks_mfa = matches!(
            next.challenge_name,
            Some(
                ChallengeNameType::SmsMfa
                    | ChallengeNameType::SoftwareTokenMfa
                    | ChallengeNameType::EmailOtp
                    | ChallengeNameType::SelectMfaType
                    | ChallengeNameType::MfaSetup
            )
        );
        let (verdict, action) =
            Core::verdict(config.as_ref(), ip.as_deref(), level.as_ref(), asks_mfa);
        Ok(Judgement {
            level,
            verdict,
            action,
            config,
            user: user.clone(),
        })
    }

    /// A new SignIn event of `user`, not yet stored (version 0).
    async fn new_sign_in_event(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        caller: &Caller,
        device_key: Option<&str>,
    ) -> Result<(AuthEventRecord, bool)> {
        let now = self.now_millis();
        let device = match device_key {
            Some(key) => self
                .devices()
                .device(&pool.id, key)
                .await?
                .filter(|d| d.username_key == user.username_key),
            None => None,
        };
        let trusted = device
            .as_ref()
            .is_some_and(|d| self.device_status(pool, d) == DeviceStatus::Remembered);
        let device_name = device
            .and_then(|d| d.name)
            .or_else(|| caller.user_agent.as_deref().map(device_name_of));
        let event_id = crate::ids::uuid(self.entropy.as_ref());
        let record = AuthEventRecord {
            pool_id: pool.id.clone(),
            event_id: event_id.clone(),
            username_key: user.username_key.clone(),
            session_key: None,
            created_at: now,
            version: 0,
            event: AuthEventType {
                event_id: Some(event_id),
                event_type: Some(EventType::Signin),
                creation_date: Some(now as f64 / 1000.0),
                event_response: None,
                event_risk: Some(EventRiskType {
                    risk_decision: Some(RiskDecisionType::Norisk),
                    compromised_credentials_detected: Some(false),
                    ..Default::default()
                }),
                challenge_responses: Some(Vec::new()),
                event_context_data: Some(EventContextDataType {
                    ip_address: caller.ip.map(|ip| ip.to_string()),
                    device_name,
                    ..Default::default()
                }),
                event_feedback: None,
            },
            device_key: None,
            session_id: None,
        };
        Ok((record, trusted))
    }

    /// An account event of `user` (sign-up, a password change or reset, a resent code), if the
    /// pool records events. A failure to record is logged.
    pub(crate) async fn record_account_event(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        kind: EventType,
        passed: bool,
        caller: &Caller,
    ) {
        if !records_events(pool) {
            return;
        }
        let recorded = async {
            let (mut event, _) = self.new_sign_in_event(pool, user, caller, None).await?;
            event.event.event_type = Some(kind);
            event.event.event_response = Some(if passed {
                EventResponseType::Pass
            } else {
                EventResponseType::Fail
            });
            event.version = 1;
            self.auth_events().insert_auth_event(&event).await?;
            self.deliver_auth_event(pool, &event).await;
            Ok::<_, CoreError>(())
        }
        .await;
        if let Err(e) = recorded {
            tracing::error!(error = %e, pool_id = %pool.id, "recording an account event failed");
        }
    }

    pub async fn admin_list_user_auth_events(
        &self,
        req: AdminListUserAuthEventsRequest,
    ) -> Result<AdminListUserAuthEventsResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        add_on_refusal(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let limit = match req.max_results {
            None | Some(0) => MAX_RESULTS,
            Some(n) => (n.clamp(1, MAX_RESULTS as i32)) as u32,
        };
        let cursor =
            match req.next_token.as_deref() {
                None => None,
                Some(t) => Some(parse_cursor(t).ok_or_else(|| {
                    CoreError::InvalidParameter("Invalid pagination token.".into())
                })?),
            };
        let mut events = self
            .auth_events()
            .list_auth_events(
                &pool.id,
                &user.username_key,
                cursor.as_ref().map(|(at, id)| (*at, id.as_str())),
                limit + 1,
            )
            .await?;
        let next_token = if events.len() > limit as usize {
            events.truncate(limit as usize);
            events
                .last()
                .map(|e| format!("{}#{}", e.event_id, e.created_at))
        } else {
            None
        };
        Ok(AdminListUserAuthEventsResponse {
            auth_events: Some(events.into_iter().map(|e| e.event).collect()),
            next_token,
        })
    }

    pub async fn admin_update_auth_event_feedback(
        &self,
        req: AdminUpdateAuthEventFeedbackRequest,
    ) -> Result<AdminUpdateAuthEventFeedbackResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        add_on_refusal(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        self.set_event_feedback(&pool, &user, &req.event_id, req.feedback_value, "Admin")
            .await?;
        Ok(AdminUpdateAuthEventFeedbackResponse {})
    }

    /// The feedback on one of `user`'s events; the last word stands.
    pub(crate) async fn set_event_feedback(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        event_id: &str,
        value: FeedbackValueType,
        provider: &str,
    ) -> Result<()> {
        loop {
            let mut event = self
                .auth_events()
                .auth_event(&pool.id, event_id)
                .await?
                .filter(|e| e.username_key == user.username_key)
                .ok_or_else(|| CoreError::ResourceNotFound("Event does not exist.".into()))?;
            event.event.event_feedback = Some(EventFeedbackType {
                feedback_value: value.clone(),
                provider: provider.to_string(),
                feedback_date: Some(self.now_epoch()),
            });
            event.version += 1;
            if self.auth_events().update_auth_event(&event).await? {
                if value == FeedbackValueType::Invalid {
                    self.disown_sign_in(&event).await?;
                }
                return Ok(());
            }
        }
    }

    /// Deletes the events older than the retention period; how many.
    pub async fn prune_auth_events(&self) -> Result<u64> {
        let before = self.now_millis() - self.config.auth_event_retention_ms;
        Ok(self.auth_events().prune_auth_events(before).await?)
    }
}

/// A NextToken: `{eventId}#{createdAt ms}`.
fn parse_cursor(token: &str) -> Option<(i64, String)> {
    let (id, at) = token.rsplit_once('#')?;
    Some((at.parse().ok()?, id.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_come_from_the_user_agent() {
        assert_eq!(
            device_name_of("Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1"),
            "Boto3 1.35.0"
        );
        assert_eq!(
            device_name_of(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
            ),
            "Chrome on Linux"
        );
        assert_eq!(device_name_of("node"), "node");
        assert_eq!(device_name_of(""), "Unknown");
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        assert_eq!(
            parse_cursor("abc-1#1700000000123"),
            Some((1_700_000_000_123, "abc-1".into()))
        );
        assert_eq!(parse_cursor("abc"), None);
        assert_eq!(parse_cursor("abc#x"), None);
    }
}
