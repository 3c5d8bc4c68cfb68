//! Threat protection's risk (docs/devices.md "Risk and notifications"): SetRiskConfiguration and
//! DescribeRiskConfiguration, the rating of a sign-in, what ENFORCED does about it, and the
//! notification email with its feedback links. Cognito's risk model is its own secret; Gatehouse's
//! rules are deterministic and small, read from the user's own sign-in events:
//!
//! | the sign-in (after a right password) | risk |
//! | --- | --- |
//! | from an address in the pool's `SkippedIPRangeList`, or presenting a trusted remembered device | none |
//! | after 5 or more failed attempts since the user's last success, within the hour | High |
//! | from a new device and an address the user never signed in from, having signed in before | Medium |
//! | from a new device otherwise (a known address, or the first sign-in) | Low |
//!
//! AUDIT rates and records; ENFORCED also acts, with the action of the app client's
//! configuration, else the pool's: BLOCK refuses ("Unable to login because of security
//! reasons."), MFA_REQUIRED refuses a user who has no second factor to ask, MFA_IF_CONFIGURED
//! lets the user's own MFA (always asked on a new device) stand, NO_ACTION lets it through;
//! `Notify` emails the user. An address in `BlockedIPRangeList` is refused ("Request not allowed
//! due to security reasons."). Feedback "Invalid" from the email's link (or
//! UpdateAuthEventFeedback) forgets the sign-in's device and revokes its tokens.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use gatehouse_wire::*;
use serde::{Deserialize, Serialize};

use crate::codes::Letter;
use crate::messages::{Medium, Purpose};
use crate::server_key::Sealed;
use crate::store::{AuthEventRecord, SignInHistory, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result};

/// How long a notification's feedback links work.
const FEEDBACK_TTL_MS: i64 = 7 * 86_400_000;
/// Failed attempts since the last success that make a sign-in high risk.
const FAILURES_FOR_HIGH: usize = 5;
const HOUR_MS: i64 = 3_600_000;
/// How many of the user's latest events (within the hour) the failure count reads.
const HISTORY: u32 = 20;

pub(crate) const BLOCKED: &str = "Unable to login because of security reasons.";
pub(crate) const BLOCKED_ADDRESS: &str = "Request not allowed due to security reasons.";

/// What ENFORCED makes of a rated sign-in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Verdict {
    /// Through; the event's RiskDecision.
    Allow(RiskDecisionType),
    /// Refused with this message.
    Block(&'static str),
}

/// The feedback token's content (sealed).
#[derive(Serialize, Deserialize)]
struct FeedbackClaim {
    #[serde(rename = "p")]
    pool_id: String,
    #[serde(rename = "u")]
    username_key: String,
    #[serde(rename = "e")]
    event_id: String,
    #[serde(rename = "x")]
    expires_at: i64,
}

fn in_ranges(ip: Option<&str>, ranges: Option<&Vec<String>>) -> bool {
    let Some(ip) = ip.and_then(|i| i.parse::<std::net::IpAddr>().ok()) else {
        return false;
    };
    ranges
        .into_iter()
        .flatten()
        .filter_map(|r| r.parse::<ipnet::IpNet>().ok())
        .any(|net| net.contains(&ip))
}

fn check_ranges(list: Option<&Vec<String>>, name: &str) -> Result<()> {
    let list = list.map(Vec::as_slice).unwrap_or_default();
    if list.len() > 200 {
        return Err(CoreError::InvalidParameter(format!(
            "{name} takes at most 200 CIDR ranges."
        )));
    }
    if let Some(bad) = list.iter().find(|r| r.parse::<ipnet::IpNet>().is_err()) {
        return Err(CoreError::InvalidParameter(format!(
            "{name} contains an invalid CIDR range: {bad}"
        )));
    }
    Ok(())
}

/// The user's risk for a sign-in that passed its password, from the user's sign-in history
/// (this sign-in's not in it). See the module's table.
pub(crate) fn rate(history: &SignInHistory, trusted_device: bool) -> Option<RiskLevelType> {
    if trusted_device {
        return None;
    }
    let failures = history
        .latest
        .iter()
        .take_while(|r| r.as_str() != "Pass")
        .filter(|r| r.as_str() == "Fail")
        .count();
    if failures >= FAILURES_FOR_HIGH {
        Some(RiskLevelType::High)
    } else if history.has_passed && !history.passed_from_address {
        Some(RiskLevelType::Medium)
    } else {
        Some(RiskLevelType::Low)
    }
}

/// Replaces the notification templates' placeholders.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (k, v) in values {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    out
}

const DEFAULT_TEXT: &str = "We noticed a sign-in to your account {username} from a device we had not seen before.\n\nTime: {login-time}\nDevice: {device-name}\nIP address: {ip-address}\n\nIf this was you, confirm it: {one-click-link-valid}\nIf it was not you, tell us and that device is signed out: {one-click-link-invalid}\n";
const BLOCKED_TEXT: &str = "We blocked a sign-in to your account {username} from a device we had not seen before.\n\nTime: {login-time}\nDevice: {device-name}\nIP address: {ip-address}\n\nIf this was you, tell us: {one-click-link-valid}\nIf it was not you, change your password and tell us: {one-click-link-invalid}\n";

impl Core {
    pub async fn set_risk_configuration(
        &self,
        req: SetRiskConfigurationRequest,
    ) -> Result<SetRiskConfigurationResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let client_id = self.risk_scope(&pool, req.client_id.as_deref()).await?;
        if let Some(e) = &req.risk_exception_configuration {
            check_ranges(e.blocked_ip_range_list.as_ref(), "BlockedIPRangeList")?;
            check_ranges(e.skipped_ip_range_list.as_ref(), "SkippedIPRangeList")?;
        }
        if let Some(a) = &req.account_takeover_risk_configuration {
            let notifies = [
                &a.actions.low_action,
                &a.actions.medium_action,
                &a.actions.high_action,
            ]
            .into_iter()
            .flatten()
            .any(|x| x.notify);
            if notifies && a.notify_configuration.is_none() {
                return Err(CoreError::InvalidParameter(
                    "NotifyConfiguration is required when an action notifies.".into(),
                ));
            }
        }
        let config = RiskConfigurationType {
            user_pool_id: Some(pool.id.clone()),
            client_id: (!client_id.is_empty()).then(|| client_id.clone()),
            account_takeover_risk_configuration: req.account_takeover_risk_configuration,
            compromised_credentials_risk_configuration: req
                .compromised_credentials_risk_configuration,
            risk_exception_configuration: req.risk_exception_configuration,
            last_modified_date: Some(self.now_epoch()),
        };
        let empty = config.account_takeover_risk_configuration.is_none()
            && config.compromised_credentials_risk_configuration.is_none()
            && config.risk_exception_configuration.is_none();
        // Only the ids: the scope's configuration is removed (the client inherits the pool's).
        let echo = self.records.echo_of(format!("pool:{}", pool.id));
        self.pools()
            .put_risk_configuration(&pool.id, &client_id, (!empty).then_some(&config))
            .await?;
        self.records.forget_pool(&pool.id);
        echo.heard().await;
        Ok(SetRiskConfigurationResponse {
            risk_configuration: config,
        })
    }

    pub async fn describe_risk_configuration(
        &self,
        req: DescribeRiskConfigurationRequest,
    ) -> Result<DescribeRiskConfigurationResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let client_id = self.risk_scope(&pool, req.client_id.as_deref()).await?;
        let stored = self
            .pools()
            .risk_configurations(&pool.id, &[&client_id])
            .await?
            .pop();
        Ok(DescribeRiskConfigurationResponse {
            risk_configuration: stored.unwrap_or(RiskConfigurationType {
                user_pool_id: Some(pool.id.clone()),
                client_id: (!client_id.is_empty()).then_some(client_id),
                ..Default::default()
            }),
        })
    }

    /// The stored scope of a risk configuration: "" for the pool (no ClientId, or CloudFormation's
    /// `ALL`), else an app client of the pool.
    async fn risk_scope(&self, pool: &UserPoolRecord, client_id: Option<&str>) -> Result<String> {
        match client_id {
            None | Some("ALL") => Ok(String::new()),
            Some(id) => Ok(self.app_client(&pool.id, id).await?.client_id),
        }
    }

    /// The configuration a sign-in through `client_id` is judged by: the client's, else the
    /// pool's (cached with the pool, record_cache.rs).
    pub(crate) async fn effective_risk_configuration(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
    ) -> Result<Option<RiskConfigurationType>> {
        if let Some(config) = self.records.risk(&pool.id, client_id) {
            return Ok(config);
        }
        let read_at = self.records.generation();
        let both = self
            .pools()
            .risk_configurations(&pool.id, &[client_id, ""])
            .await?;
        let (own, pools): (Vec<_>, Vec<_>) = both
            .into_iter()
            .partition(|c| c.client_id.as_deref() == Some(client_id));
        let config = own.into_iter().chain(pools).next();
        self.records.put_risk(&pool.id, client_id, &config, read_at);
        Ok(config)
    }

    /// The user's risk for this sign-in; None in a skipped address range.
    pub(crate) async fn rate_sign_in(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        config: Option<&RiskConfigurationType>,
        ip: Option<&str>,
        trusted_device: bool,
    ) -> Result<Option<RiskLevelType>> {
        let exceptions = config.and_then(|c| c.risk_exception_configuration.as_ref());
        if in_ranges(
            ip,
            exceptions.and_then(|e| e.skipped_ip_range_list.as_ref()),
        ) {
            return Ok(None);
        }
        if trusted_device {
            return Ok(None);
        }
        let history = self
            .auth_events()
            .sign_in_history(
                &pool.id,
                &user.username_key,
                ip,
                self.now_millis() - HOUR_MS,
                HISTORY,
            )
            .await?;
        Ok(rate(&history, trusted_device))
    }

    /// ENFORCED's verdict on a rated sign-in. `asks_mfa`: the sign-in goes on to an MFA
    /// challenge. Also the action, for the notification.
    pub(crate) fn verdict(
        config: Option<&RiskConfigurationType>,
        ip: Option<&str>,
        level: Option<&RiskLevelType>,
        asks_mfa: bool,
    ) -> (Verdict, Option<AccountTakeoverActionType>) {
        let exceptions = config.and_then(|c| c.risk_exception_configuration.as_ref());
        if in_ranges(
            ip,
            exceptions.and_then(|e| e.blocked_ip_range_list.as_ref()),
        ) {
            return (Verdict::Block(BLOCKED_ADDRESS), None);
        }
        let actions = config
            .and_then(|c| c.account_takeover_risk_configuration.as_ref())
            .map(|a| &a.actions);
        let action = match (actions, level) {
            (Some(a), Some(RiskLevelType::Low)) => a.low_action.clone(),
            (Some(a), Some(RiskLevelType::Medium)) => a.medium_action.clone(),
            (Some(a), Some(RiskLevelType::High)) => a.high_action.clone(),
            _ => None,
        };
        let verdict = match action.as_ref().map(|a| (&a.event_action, a.notify)) {
            None => Verdict::Allow(RiskDecisionType::Norisk),
            Some((AccountTakeoverEventActionType::Block, _)) => Verdict::Block(BLOCKED),
            Some((AccountTakeoverEventActionType::MfaRequired, _)) if !asks_mfa => {
                Verdict::Block(BLOCKED)
            }
            Some((AccountTakeoverEventActionType::NoAction, false)) => {
                Verdict::Allow(RiskDecisionType::Norisk)
            }
            Some(_) => Verdict::Allow(RiskDecisionType::Accounttakeover),
        };
        (verdict, action)
    }

    /// The notification email of an event, when its action notifies and the user has an
    /// address: the pool's template for the action (or Gatehouse's), with the feedback links.
    pub(crate) async fn notify_risk(
        &self,
        user: &UserRecord,
        event: &AuthEventRecord,
        config: Option<&RiskConfigurationType>,
        action: &AccountTakeoverActionType,
        client_id: &str,
    ) -> Result<()> {
        if !action.notify {
            return Ok(());
        }
        let Some(address) = user.attributes.get("email") else {
            return Ok(());
        };
        let notify = config
            .and_then(|c| c.account_takeover_risk_configuration.as_ref())
            .and_then(|a| a.notify_configuration.as_ref());
        let (template, default_subject, default_text) = match action.event_action {
            AccountTakeoverEventActionType::Block => (
                notify.and_then(|n| n.block_email.as_ref()),
                "Blocked sign-in attempt",
                BLOCKED_TEXT,
            ),
            AccountTakeoverEventActionType::NoAction => (
                notify.and_then(|n| n.no_action_email.as_ref()),
                "New sign-in attempt",
                DEFAULT_TEXT,
            ),
            _ => (
                notify.and_then(|n| n.mfa_email.as_ref()),
                "New sign-in attempt",
                DEFAULT_TEXT,
            ),
        };
        let token = self.feedback_token(event);
        let link = |value: &str| {
            crate::oauth::authorize::with_params(
                &format!("{}/auth-events/feedback", self.config.public_url),
                &[
                    ("pool", event.pool_id.as_str()),
                    ("user", user.username.as_str()),
                    ("event", event.event_id.as_str()),
                    ("token", token.as_str()),
                    ("value", value),
                ],
                false,
            )
        };
        let (valid, invalid) = (link("Valid"), link("Invalid"));
        let context = event.event.event_context_data.clone().unwrap_or_default();
        let when = utc_time(event.created_at);
        let values = [
            ("username", user.username.as_str()),
            (
                "ip-address",
                context.ip_address.as_deref().unwrap_or("unknown"),
            ),
            ("city", context.city.as_deref().unwrap_or("")),
            ("country", context.country.as_deref().unwrap_or("")),
            ("login-time", when.as_str()),
            (
                "device-name",
                context.device_name.as_deref().unwrap_or("unknown"),
            ),
            ("one-click-link-valid", valid.as_str()),
            ("one-click-link-invalid", invalid.as_str()),
            ("event-id", event.event_id.as_str()),
            ("feedback-token", token.as_str()),
        ];
        let subject = template
            .map(|t| t.subject.as_str())
            .unwrap_or(default_subject);
        let body = template
            .and_then(|t| t.text_body.as_deref())
            .unwrap_or(default_text);
        let pool = self.pool(&user.pool_id).await?;
        // A CustomEmailSender takes the notice instead (triggers/senders.rs).
        let notice = crate::triggers::TakeoverNotice {
            client_id,
            event_id: &event.event_id,
            username: &user.username,
            ip_address: context.ip_address.as_deref().unwrap_or("unknown"),
            action: action.event_action.as_str(),
            link_valid: &valid,
            link_invalid: &invalid,
            login_time: &when,
            feedback_token: &token,
            city: context.city.as_deref(),
            country: context.country.as_deref(),
            device_name: context.device_name.as_deref(),
        };
        let sender = Self::takeover_sender_for(&pool, &notice);
        self.send_through(
            pool,
            user,
            sender,
            Letter {
                medium: Medium::Email,
                destination: address,
                purpose: Purpose::RiskNotification,
                subject: Some(fill(subject, &values)),
                body: fill(body, &values),
                code: None,
                attribute: "email",
            },
        )
        .await?;
        Ok(())
    }

    fn feedback_token(&self, event: &AuthEventRecord) -> String {
        let claim = FeedbackClaim {
            pool_id: event.pool_id.clone(),
            username_key: event.username_key.clone(),
            event_id: event.event_id.clone(),
            expires_at: self.now_millis() + FEEDBACK_TTL_MS,
        };
        let plain = serde_json::to_vec(&claim).expect("claim serialises");
        URL_SAFE_NO_PAD.encode(self.server_key.seal(
            self.entropy.as_ref(),
            Sealed::FeedbackToken,
            &plain,
        ))
    }

    /// UpdateAuthEventFeedback (unsigned: the notification's token is its authority). Invalid
    /// forgets the sign-in's device and revokes its tokens.
    pub async fn update_auth_event_feedback(
        &self,
        req: UpdateAuthEventFeedbackRequest,
    ) -> Result<UpdateAuthEventFeedbackResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        crate::auth_events::add_on_refusal(&pool)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let invalid = || CoreError::NotAuthorized("Invalid feedback token.".into());
        let claim = URL_SAFE_NO_PAD
            .decode(&req.feedback_token)
            .ok()
            .and_then(|sealed| self.server_key.open(Sealed::FeedbackToken, &sealed))
            .and_then(|plain| serde_json::from_slice::<FeedbackClaim>(&plain).ok())
            .ok_or_else(invalid)?;
        if claim.pool_id != pool.id
            || claim.username_key != user.username_key
            || claim.event_id != req.event_id
            || claim.expires_at <= self.now_millis()
        {
            return Err(invalid());
        }
        self.set_event_feedback(&pool, &user, &req.event_id, req.feedback_value, "User")
            .await?;
        Ok(UpdateAuthEventFeedbackResponse {})
    }

    /// What "this wasn't me" does: the event's device is forgotten and its sign-in's tokens
    /// revoked.
    pub(crate) async fn disown_sign_in(&self, event: &AuthEventRecord) -> Result<()> {
        let now = self.now_millis();
        if let Some(key) = &event.device_key {
            let owned = self
                .devices()
                .device(&event.pool_id, key)
                .await?
                .is_some_and(|d| d.username_key == event.username_key);
            if owned {
                self.devices()
                    .forget_device(&event.pool_id, key, now, None)
                    .await?;
            }
        }
        if let Some(id) = &event.session_id {
            self.tokens().revoke_auth_session(id, now).await?;
        }
        Ok(())
    }
}

/// "2026-12-03 23:47:12 UTC" for epoch ms.
pub(crate) fn utc_time(ms: i64) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(latest: &[&str], has_passed: bool, from_address: bool) -> SignInHistory {
        SignInHistory {
            latest: latest.iter().map(|r| r.to_string()).collect(),
            has_passed,
            passed_from_address: from_address,
        }
    }

    #[test]
    fn the_rules_of_the_table() {
        // A trusted device: no risk, whatever else.
        assert_eq!(rate(&history(&["Fail"; 6], true, false), true), None);
        // The first sign-in ever: low.
        assert_eq!(
            rate(&history(&[], false, false), false),
            Some(RiskLevelType::Low)
        );
        // A new device from a known address: low; from a new one: medium.
        assert_eq!(
            rate(&history(&["Pass"], true, true), false),
            Some(RiskLevelType::Low)
        );
        assert_eq!(
            rate(&history(&["Pass"], true, false), false),
            Some(RiskLevelType::Medium)
        );
        // Five failures since the user's last success (within the hour asked): high.
        let burst = ["Fail", "Fail", "InProgress", "Fail", "Fail", "Fail", "Pass"];
        assert_eq!(
            rate(&history(&burst, true, true), false),
            Some(RiskLevelType::High)
        );
        // A success in between resets the count.
        let reset = ["Fail", "Fail", "Pass", "Fail", "Fail", "Fail"];
        assert_eq!(
            rate(&history(&reset, true, true), false),
            Some(RiskLevelType::Low)
        );
    }

    #[test]
    fn verdicts_follow_the_configured_actions() {
        let action = |a, notify| {
            Some(AccountTakeoverActionType {
                event_action: a,
                notify,
            })
        };
        let config = RiskConfigurationType {
            account_takeover_risk_configuration: Some(AccountTakeoverRiskConfigurationType {
                actions: AccountTakeoverActionsType {
                    low_action: action(AccountTakeoverEventActionType::NoAction, false),
                    medium_action: action(AccountTakeoverEventActionType::MfaRequired, true),
                    high_action: action(AccountTakeoverEventActionType::Block, true),
                },
                notify_configuration: None,
            }),
            risk_exception_configuration: Some(RiskExceptionConfigurationType {
                blocked_ip_range_list: Some(vec!["10.0.0.0/8".into()]),
                skipped_ip_range_list: None,
            }),
            ..Default::default()
        };
        let v = |ip, level, mfa| Core::verdict(Some(&config), Some(ip), level, mfa).0;
        assert_eq!(
            v("1.1.1.1", Some(&RiskLevelType::Low), false),
            Verdict::Allow(RiskDecisionType::Norisk)
        );
        assert_eq!(
            v("1.1.1.1", Some(&RiskLevelType::Medium), true),
            Verdict::Allow(RiskDecisionType::Accounttakeover)
        );
        assert_eq!(
            v("1.1.1.1", Some(&RiskLevelType::Medium), false),
            Verdict::Block(BLOCKED)
        );
        assert_eq!(
            v("1.1.1.1", Some(&RiskLevelType::High), true),
            Verdict::Block(BLOCKED)
        );
        assert_eq!(v("10.1.2.3", None, true), Verdict::Block(BLOCKED_ADDRESS));
        assert_eq!(
            Core::verdict(None, Some("1.1.1.1"), Some(&RiskLevelType::High), false).0,
            Verdict::Allow(RiskDecisionType::Norisk)
        );
    }

    #[test]
    fn dates_read_as_utc() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(1_796_341_632_000), "2026-12-03 23:47:12 UTC");
    }
}
