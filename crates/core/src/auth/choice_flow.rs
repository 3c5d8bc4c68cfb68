//! USER_AUTH, Cognito's choice-based sign-in (docs/passwordless.md; what Cognito does is in
//! docs/design/user-auth-cognito-behaviour.md). The client names the user and, optionally, the
//! first factor it prefers; the server answers with that factor's challenge when the user can
//! use it, else with SELECT_CHALLENGE and the factors available.
//!
//! - PASSWORD and PASSWORD_SRP are the password flows (password_flow.rs, srp_flow.rs), MFA and
//!   devices included.
//! - EMAIL_OTP and SMS_OTP send an eight-digit code that lives as long as the Session. A wrong
//!   code counts towards the lockout and keeps the Session; the right one is taken once, verifies
//!   the address, confirms an unconfirmed user, and ends the sign-in without MFA (passwordless
//!   factors are never followed by MFA). A confirmed device presented with the code then proves
//!   itself with device SRP, as after MFA.
//! - WEB_AUTHN asks for an assertion of one of the user's passkeys over a fresh challenge
//!   (passkeys.rs verifies it); as a code, a failed one counts towards the lockout, the good one
//!   is taken once and is followed by no MFA.
//! - The SELECT_CHALLENGE sign-in is pending in the store (pending.rs) with the factors it
//!   offered; picking an OTP again sends a new code, and the old one stops working.
//! - On a client that hides users, a name no user has is answered as a user would be (the
//!   pool's factors, a code "sent" to a masked address derived from the name), its state sealed
//!   in the Session alone; the password factors go to the password flows' decoys, and every
//!   code is wrong.

use std::collections::BTreeMap;

use gatehouse_wire::{AuthFactorType, ChallengeNameType, UserPoolMfaType, UserStatusType};

use super::mfa_flow::{code_mismatch, usable_factors, Factor};
use super::{check_secret_hash_for, AuthStep, Params};
use crate::store::{AppClientRecord, PendingSignInRecord, PendingStep, UserPoolRecord, UserRecord};
use crate::triggers::{messages_from, MessageContext};
use crate::{Core, CoreError, Result};

/// The first-factor challenges in the order Cognito lists them in AvailableChallenges.
const ORDER: [ChallengeNameType; 5] = [
    ChallengeNameType::PasswordSrp,
    ChallengeNameType::Password,
    ChallengeNameType::EmailOtp,
    ChallengeNameType::SmsOtp,
    ChallengeNameType::WebAuthn,
];

/// The first factors the pool's SignInPolicy allows (Cognito's default: the password).
pub(crate) fn allowed_first_factors(pool: &UserPoolRecord) -> Vec<AuthFactorType> {
    pool.pool
        .policies
        .as_ref()
        .and_then(|p| p.sign_in_policy.as_ref())
        .and_then(|s| s.allowed_first_auth_factors.clone())
        .unwrap_or_else(|| vec![AuthFactorType::Password])
}

/// The first factors `user` has of those the pool allows: a password (or an imported hash), an
/// email address or phone number to send a code to (verified or not: the code verifies it),
/// passkeys.
pub(crate) fn user_first_factors(
    pool: &UserPoolRecord,
    user: &UserRecord,
    passkeys: bool,
) -> Vec<AuthFactorType> {
    let has = |f: &AuthFactorType| match f {
        AuthFactorType::Password => user.password.is_some() || user.imported_hash.is_some(),
        AuthFactorType::EmailOtp => user.attributes.contains_key("email"),
        AuthFactorType::SmsOtp => user.attributes.contains_key("phone_number"),
        AuthFactorType::WebAuthn => passkeys,
        _ => false,
    };
    allowed_first_factors(pool)
        .into_iter()
        .filter(|f| has(f))
        .collect()
}

/// The challenges a USER_AUTH sign-in of `user` may choose from. MFA and passwordless factors
/// do not mix: where the pool requires MFA, or the user has a second factor, only the password
/// is offered (it is followed by MFA).
fn available_challenges(
    pool: &UserPoolRecord,
    user: &UserRecord,
    passkeys: bool,
) -> Vec<ChallengeNameType> {
    let mfa_applies = match pool.pool.mfa_configuration {
        Some(UserPoolMfaType::On) => true,
        Some(UserPoolMfaType::Optional) => !usable_factors(pool, user).is_empty(),
        _ => false,
    };
    let factors = user_first_factors(pool, user, passkeys);
    let offered = |c: &ChallengeNameType| {
        let factor = match c {
            ChallengeNameType::PasswordSrp | ChallengeNameType::Password => {
                AuthFactorType::Password
            }
            ChallengeNameType::EmailOtp => AuthFactorType::EmailOtp,
            ChallengeNameType::SmsOtp => AuthFactorType::SmsOtp,
            _ => AuthFactorType::WebAuthn,
        };
        factors.contains(&factor) && (!mfa_applies || factor == AuthFactorType::Password)
    };
    ORDER.into_iter().filter(offered).collect()
}

/// The challenge InitiateAuth USER_AUTH goes to without a menu: the PREFERRED_CHALLENGE when it
/// is available, else a passwordless user's single factor when nothing was preferred (the same
/// rule for a stranger on a hiding client, so that the answer does not tell them apart); None:
/// SELECT_CHALLENGE.
fn chosen_challenge(
    preferred: Option<&ChallengeNameType>,
    available: &[ChallengeNameType],
) -> Option<ChallengeNameType> {
    match preferred {
        Some(p) => available.contains(p).then(|| p.clone()),
        None => (available == [ChallengeNameType::EmailOtp]).then_some(ChallengeNameType::EmailOtp),
    }
}

/// The code factor a first-factor OTP challenge is, and the step it waits at.
fn otp_factor(challenge: &ChallengeNameType) -> Option<(Factor, PendingStep)> {
    match challenge {
        ChallengeNameType::EmailOtp => Some((Factor::Email, PendingStep::EmailOtpSignIn)),
        ChallengeNameType::SmsOtp => Some((Factor::Sms, PendingStep::SmsOtpSignIn)),
        _ => None,
    }
}

fn names(challenges: &[ChallengeNameType]) -> Vec<String> {
    challenges.iter().map(|c| c.as_str().to_string()).collect()
}

/// The `challenge` of a stranger's USER_AUTH Session, and where it keeps what it offered.
const STRANGER: &str = "USER_AUTH_STRANGER";
const OFFERED: &str = "offered";

fn not_offered(offered: &[String]) -> CoreError {
    CoreError::InvalidParameter(format!(
        "ANSWER must be one of the challenges offered: {}",
        offered.join(", ")
    ))
}

/// The steps a USER_AUTH sign-in waits at before its first factor passed (an EMAIL_OTP answer on
/// such a Session is the first factor's, not MFA's).
const CHOOSING: [PendingStep; 4] = [
    PendingStep::SelectChallenge,
    PendingStep::EmailOtpSignIn,
    PendingStep::SmsOtpSignIn,
    PendingStep::WebAuthn,
];

/// The challenges a pending USER_AUTH sign-in offered.
fn offered_of(pending: &PendingSignInRecord) -> Vec<ChallengeNameType> {
    pending
        .mfa
        .offered
        .iter()
        .map(|o| ChallengeNameType::parse(o))
        .collect()
}

impl Core {
    /// InitiateAuth / AdminInitiateAuth USER_AUTH {USERNAME, PREFERRED_CHALLENGE?, PASSWORD?,
    /// SRP_A?, SECRET_HASH?}.
    pub(super) async fn start_user_auth(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let username = params.required("USERNAME")?;
        let preferred = params
            .get("PREFERRED_CHALLENGE")
            .map(|p| {
                let c = ChallengeNameType::parse(p);
                ORDER.contains(&c).then_some(c).ok_or_else(|| {
                    CoreError::InvalidParameter(format!(
                        "PREFERRED_CHALLENGE must be one of {}.",
                        names(&ORDER).join(", ")
                    ))
                })
            })
            .transpose()?;
        let secret_hash = params.get("SECRET_HASH");
        if secret_hash.is_none() {
            check_secret_hash_for(client, &[username], None)?;
        }
        let Some(user) = self.find_user(pool, username).await? else {
            // The password named with it: the password flows answer a name no user has (the
            // pool's UserMigration, a decoy SRP challenge, or Cognito's refusal).
            match preferred {
                Some(ChallengeNameType::Password) if params.get("PASSWORD").is_some() => {
                    return self.password_sign_in(pool, client, params).await;
                }
                Some(ChallengeNameType::PasswordSrp) if params.get("SRP_A").is_some() => {
                    return self.start_srp(pool, client, params).await;
                }
                _ => {}
            }
            if !crate::app_clients::prevents_existence_errors(client) {
                return Err(CoreError::user_not_found());
            }
            check_secret_hash_for(client, &[username], secret_hash)?;
            return self
                .stranger_choice(pool, client, None, username, preferred, params)
                .await;
        };
        check_secret_hash_for(client, &[username, &user.username, &user.sub], secret_hash)?;
        self.refuse_before_password(&user)?;
        let passkeys = self.usable_passkeys(pool, &user).await?;
        let available = available_challenges(pool, &user, !passkeys.is_empty());
        if available.is_empty() {
            // Nothing this user can sign in with: a client that hides users answers as it does
            // for a name no user has (a menu whose every answer fails), else the refusal.
            if crate::app_clients::prevents_existence_errors(client) {
                return self
                    .stranger_choice(pool, client, Some(&user), username, preferred, params)
                    .await;
            }
            return Err(super::incorrect());
        }
        match chosen_challenge(preferred.as_ref(), &available) {
            Some(ChallengeNameType::Password) if params.get("PASSWORD").is_some() => {
                self.password_sign_in(pool, client, params).await
            }
            Some(ChallengeNameType::PasswordSrp) if params.get("SRP_A").is_some() => {
                self.start_srp(pool, client, params).await
            }
            Some(c) if otp_factor(&c).is_some() => {
                self.send_sign_in_code(pool, client, &user, &c, &available, None)
                    .await
            }
            Some(ChallengeNameType::WebAuthn) => {
                self.passkey_challenge(pool, client, &user, &available, None)
                    .await
            }
            // The password named without it: its challenge, answered on the same Session.
            other => {
                let pending = self
                    .new_pending_sign_in_offering(pool, client, &user, &available)
                    .await?;
                Ok(AuthStep {
                    challenge_name: Some(other.unwrap_or(ChallengeNameType::SelectChallenge)),
                    session: Some(pending.session),
                    challenge_parameters: Some(BTreeMap::new()),
                    available_challenges: Some(available),
                    ..Default::default()
                })
            }
        }
    }

    /// USER_AUTH of `typed`, a name no user has (or `user`, who has nothing to sign in with), on
    /// a client that hides users: the answer a user with every factor the pool allows would get
    /// (but passkeys). PreAuthentication is still told the truth about who it is.
    async fn stranger_choice(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: Option<&UserRecord>,
        typed: &str,
        preferred: Option<ChallengeNameType>,
        params: Params<'_>,
    ) -> Result<AuthStep> {
        let password_only = pool.pool.mfa_configuration == Some(UserPoolMfaType::On);
        let allowed = allowed_first_factors(pool);
        let available: Vec<ChallengeNameType> = ORDER
            .into_iter()
            .filter(|c| match c {
                ChallengeNameType::PasswordSrp | ChallengeNameType::Password => {
                    allowed.contains(&AuthFactorType::Password)
                }
                ChallengeNameType::EmailOtp => {
                    !password_only && allowed.contains(&AuthFactorType::EmailOtp)
                }
                ChallengeNameType::SmsOtp => {
                    !password_only && allowed.contains(&AuthFactorType::SmsOtp)
                }
                _ => false,
            })
            .collect();
        match chosen_challenge(preferred.as_ref(), &available) {
            Some(ChallengeNameType::Password) if params.get("PASSWORD").is_some() => {
                self.password_sign_in(pool, client, params).await
            }
            Some(ChallengeNameType::PasswordSrp) if params.get("SRP_A").is_some() => {
                self.start_srp(pool, client, params).await
            }
            chosen => {
                if chosen.as_ref().is_some_and(|c| otp_factor(c).is_some()) {
                    self.before_password_check(pool, client, user, typed)
                        .await?;
                }
                // What it offered travels in the Session: answers are checked against it.
                let kept = crate::store::PendingCustom {
                    private_parameters: [(OFFERED.to_string(), names(&available).join(","))].into(),
                    ..Default::default()
                };
                let session = self.seal_stranger_session(pool, client, typed, STRANGER, kept);
                let challenge = chosen.unwrap_or(ChallengeNameType::SelectChallenge);
                let parameters = self.stranger_delivery(typed, &challenge);
                Ok(AuthStep {
                    challenge_name: Some(challenge),
                    session: Some(session),
                    challenge_parameters: Some(parameters),
                    available_challenges: Some(available),
                    ..Default::default()
                })
            }
        }
    }

    /// Where a stranger's code "went": a masked address derived from the name, the same each
    /// time, shaped as a real one.
    fn stranger_delivery(
        &self,
        typed: &str,
        challenge: &ChallengeNameType,
    ) -> BTreeMap<String, String> {
        let tag = self.code_hash("USER_AUTH stranger", typed);
        let letter = |i: usize| (b'a' + tag.as_bytes()[i] % 26) as char;
        let (medium, destination) = match challenge {
            ChallengeNameType::EmailOtp => ("EMAIL", format!("{}***@{}***", letter(0), letter(1))),
            ChallengeNameType::SmsOtp => {
                let digits: String = tag
                    .bytes()
                    .take(4)
                    .map(|b| char::from(b'0' + b % 10))
                    .collect();
                ("SMS", format!("+*******{digits}"))
            }
            _ => return BTreeMap::new(),
        };
        BTreeMap::from([
            (
                "CODE_DELIVERY_DELIVERY_MEDIUM".to_string(),
                medium.to_string(),
            ),
            ("CODE_DELIVERY_DESTINATION".to_string(), destination),
        ])
    }

    /// An answer on a stranger's Session (see [`Core::stranger_choice`]): `None` when the
    /// Session is not one.
    async fn stranger_answer(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        challenge: &ChallengeNameType,
        responses: Params<'_>,
    ) -> Option<Result<AuthStep>> {
        let s = self
            .open_challenge_session(pool, client, session, STRANGER)
            .ok()?;
        Some(
            async {
                let username = responses.required("USERNAME")?;
                if username != s.username_key {
                    return Err(super::expired_session());
                }
                check_secret_hash_for(client, &[username], responses.get("SECRET_HASH"))?;
                let offered: Vec<String> = s
                    .stranger
                    .as_ref()
                    .and_then(|k| k.private_parameters.get(OFFERED))
                    .map(|o| o.split(',').map(str::to_string).collect())
                    .unwrap_or_default();
                let answered_code = match challenge {
                    ChallengeNameType::EmailOtp => Some("EMAIL_OTP_CODE"),
                    ChallengeNameType::SmsOtp => Some("SMS_OTP_CODE"),
                    _ => None,
                };
                if let Some(key) = answered_code {
                    responses.required(key)?;
                    return Err(code_mismatch());
                }
                let answer = match challenge {
                    ChallengeNameType::SelectChallenge => {
                        ChallengeNameType::parse(responses.required("ANSWER")?)
                    }
                    other => other.clone(),
                };
                if !offered.iter().any(|o| o == answer.as_str()) {
                    return Err(not_offered(&offered));
                }
                match answer {
                    ChallengeNameType::Password => {
                        responses.required("PASSWORD")?;
                        self.password_sign_in(pool, client, responses).await
                    }
                    ChallengeNameType::PasswordSrp => self.start_srp(pool, client, responses).await,
                    c if otp_factor(&c).is_some() => {
                        // The Session is a stranger's, the name maybe a user's without a factor.
                        let user = self.find_user(pool, username).await?;
                        self.before_password_check(pool, client, user.as_ref(), username)
                            .await?;
                        Ok(AuthStep {
                            challenge_parameters: Some(self.stranger_delivery(username, &c)),
                            challenge_name: Some(c),
                            session: session.map(str::to_string),
                            available_challenges: Some(
                                offered
                                    .iter()
                                    .map(|o| ChallengeNameType::parse(o))
                                    .collect(),
                            ),
                            ..Default::default()
                        })
                    }
                    _ => Err(not_offered(&offered)),
                }
            }
            .await,
        )
    }

    async fn new_pending_sign_in_offering(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        available: &[ChallengeNameType],
    ) -> Result<PendingSignInRecord> {
        let mut pending =
            self.pending_sign_in_record(pool, client, user, None, PendingStep::SelectChallenge);
        pending.mfa.offered = names(available);
        self.sign_ins().insert_pending_sign_in(&pending).await?;
        Ok(pending)
    }

    /// A fresh code by email or SMS for the sign-in `pending` (a new one when None), replacing
    /// any code it had: the EMAIL_OTP or SMS_OTP challenge.
    async fn send_sign_in_code(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        challenge: &ChallengeNameType,
        available: &[ChallengeNameType],
        pending: Option<PendingSignInRecord>,
    ) -> Result<AuthStep> {
        let (factor, step) = otp_factor(challenge).expect("an OTP challenge");
        // The pool's PreAuthentication trigger may refuse the sign-in before a code is sent.
        self.before_password_check(pool, client, Some(user), &user.username)
            .await?;
        let code = self.eight_digits();
        let sent_to = user.attributes.get(factor.attribute()).cloned();
        let pending = self
            .first_factor_pending(pool, client, user, available, step, pending, |p| {
                p.mfa.code_hash = Some(self.code_hash(&p.id, &code));
                p.mfa.sent_to = sent_to;
            })
            .await?;
        let from = MessageContext::new("CustomMessage_Authentication", Some(&client.client_id));
        let send = self.send_mfa_code(pool, user, factor, Some(code), None);
        let params = messages_from(from, send).await?;
        Ok(AuthStep {
            challenge_name: Some(challenge.clone()),
            session: Some(pending.session),
            challenge_parameters: Some(params),
            available_challenges: Some(available.to_vec()),
            ..Default::default()
        })
    }

    /// RespondToAuthChallenge SELECT_CHALLENGE {USERNAME, ANSWER, PASSWORD? | SRP_A?}, or
    /// PASSWORD {USERNAME, PASSWORD} / PASSWORD_SRP {USERNAME, SRP_A} on a USER_AUTH Session.
    pub(super) async fn answer_select_challenge(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        challenge: &ChallengeNameType,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        if let Some(answer) = self
            .stranger_answer(pool, client, session, challenge, responses)
            .await
        {
            return answer;
        }
        let (pending, user) = self
            .pending_for_answer_at(pool, client, session, &CHOOSING, &responses)
            .await?;
        let answer = match challenge {
            ChallengeNameType::SelectChallenge => {
                ChallengeNameType::parse(responses.required("ANSWER")?)
            }
            other => other.clone(),
        };
        if !pending.mfa.offered.iter().any(|o| o == answer.as_str()) {
            return Err(not_offered(&pending.mfa.offered));
        }
        match answer {
            ChallengeNameType::Password => {
                responses.required("PASSWORD")?;
                self.password_sign_in(pool, client, responses).await
            }
            ChallengeNameType::PasswordSrp => self.start_srp(pool, client, responses).await,
            c if otp_factor(&c).is_some() => {
                let offered = offered_of(&pending);
                self.send_sign_in_code(pool, client, &user, &c, &offered, Some(pending))
                    .await
            }
            ChallengeNameType::WebAuthn => {
                if responses.get("CREDENTIAL").is_some() {
                    return Err(CoreError::InvalidParameter(
                        "Ask for the WEB_AUTHN challenge first: its CREDENTIAL signs its challenge."
                            .into(),
                    ));
                }
                let offered = offered_of(&pending);
                self.passkey_challenge(pool, client, &user, &offered, Some(pending))
                    .await
            }
            other => Err(CoreError::InvalidParameter(format!(
                "The challenge {} is not supported by this server yet.",
                other.as_str()
            ))),
        }
    }

    /// Whether the Session of an EMAIL_OTP answer belongs to a USER_AUTH sign-in waiting for its
    /// first factor (else it is an MFA code, mfa_flow.rs).
    pub(super) async fn is_sign_in_code(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
    ) -> bool {
        self.open_challenge_session(pool, client, session, STRANGER)
            .is_ok()
            || self
                .pending_at_one_of(pool, client, session, &CHOOSING)
                .await
                .is_ok()
    }

    /// RespondToAuthChallenge EMAIL_OTP {USERNAME, EMAIL_OTP_CODE} or SMS_OTP {USERNAME,
    /// SMS_OTP_CODE}, with SECRET_HASH? and DEVICE_KEY?, as the first factor.
    pub(super) async fn answer_sign_in_code(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        challenge: &ChallengeNameType,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        if let Some(answer) = self
            .stranger_answer(pool, client, session, challenge, responses)
            .await
        {
            return answer;
        }
        let (factor, step) = otp_factor(challenge).expect("an OTP challenge");
        // Any step of the choice: a code answered where none was sent (at the menu, or after
        // the other code or a passkey was chosen) is a wrong code, as it is for a stranger.
        let (pending, mut user) = self
            .pending_for_answer_at(pool, client, session, &CHOOSING, &responses)
            .await?;
        let code = responses.required(match factor {
            Factor::Email => "EMAIL_OTP_CODE",
            _ => "SMS_OTP_CODE",
        })?;
        if pending.step != step {
            return Err(code_mismatch());
        }
        // Counted before it is compared, as a password is: wrong codes lead to the lockout.
        self.take_attempt(&mut user).await?;
        if !self.pending_code_is(&pending, code) {
            return Err(code_mismatch());
        }
        self.attempt_succeeded(&mut user).await?;
        // The code reached the address: it is verified (if it is still the user's), and an
        // unconfirmed user confirmed.
        let flag = format!("{}_verified", factor.attribute());
        let sent_to = pending.mfa.sent_to.clone();
        let user = self
            .modify_user(pool, &user.username, |u| {
                if sent_to.is_some() && u.attributes.get(factor.attribute()) == sent_to.as_ref() {
                    u.attributes.insert(flag.clone(), "true".into());
                }
                if u.status == UserStatusType::Unconfirmed {
                    u.status = UserStatusType::Confirmed;
                }
                Ok(())
            })
            .await?;
        self.after_first_factor(pool, client, user, pending, step, &responses)
            .await
    }

    /// The WEB_AUTHN challenge for the sign-in `pending` (a new one when None): request options
    /// naming the user's passkeys over a fresh challenge, whose verifier state the sign-in keeps.
    async fn passkey_challenge(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        available: &[ChallengeNameType],
        pending: Option<PendingSignInRecord>,
    ) -> Result<AuthStep> {
        self.before_password_check(pool, client, Some(user), &user.username)
            .await?;
        let passkeys = self.usable_passkeys(pool, user).await?;
        let (options, state) = self.passkey_request(pool, &passkeys)?;
        let step = PendingStep::WebAuthn;
        let pending = self
            .first_factor_pending(pool, client, user, available, step, pending, |p| {
                p.mfa.code_hash = None;
                p.mfa.web_authn_state = Some(state);
            })
            .await?;
        Ok(AuthStep {
            challenge_name: Some(ChallengeNameType::WebAuthn),
            session: Some(pending.session),
            challenge_parameters: Some(BTreeMap::from([(
                "CREDENTIAL_REQUEST_OPTIONS".to_string(),
                options,
            )])),
            available_challenges: Some(available.to_vec()),
            ..Default::default()
        })
    }

    /// RespondToAuthChallenge WEB_AUTHN {USERNAME, CREDENTIAL, SECRET_HASH?}: the passkey's
    /// assertion as the first factor.
    pub(super) async fn answer_passkey(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let step = PendingStep::WebAuthn;
        let (pending, mut user) = self
            .pending_for_answer_at(pool, client, session, &[step], &responses)
            .await?;
        let credential = responses.required("CREDENTIAL")?;
        let state = pending
            .mfa
            .web_authn_state
            .clone()
            .ok_or_else(super::expired_session)?;
        // Counted before it is checked, as a password is.
        self.take_attempt(&mut user).await?;
        self.check_passkey_assertion(pool, &user, &state, credential)
            .await?;
        self.attempt_succeeded(&mut user).await?;
        self.after_first_factor(pool, client, user, pending, step, &responses)
            .await
    }

    /// The sign-in `pending` moved on to `step` (a new one offering `available` when None),
    /// with what `set` keeps for the factor's answer.
    #[allow(clippy::too_many_arguments)]
    async fn first_factor_pending(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        available: &[ChallengeNameType],
        step: PendingStep,
        pending: Option<PendingSignInRecord>,
        set: impl FnOnce(&mut PendingSignInRecord),
    ) -> Result<PendingSignInRecord> {
        match pending {
            Some(mut p) => {
                let from = p.step;
                p.step = step;
                set(&mut p);
                self.advance_pending(&p, from).await?;
                Ok(p)
            }
            None => {
                let mut p = self.pending_sign_in_record(pool, client, user, None, step);
                p.mfa.offered = names(available);
                set(&mut p);
                self.sign_ins().insert_pending_sign_in(&p).await?;
                Ok(p)
            }
        }
    }

    /// A first factor passed (a code, a passkey): a new password where one is owed, else no
    /// MFA, the device's SRP or tokens. The step names the user.
    async fn after_first_factor(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: UserRecord,
        pending: PendingSignInRecord,
        step: PendingStep,
        responses: &Params<'_>,
    ) -> Result<AuthStep> {
        let mut next = if user.status == UserStatusType::ForceChangePassword {
            self.finish_pending(&pending.id, step).await?;
            self.new_password_challenge(pool, client, &user)?
        } else {
            self.after_second_factor(pool, client, &user, pending, step, responses)
                .await?
        };
        next.user = Some(Box::new(user));
        Ok(next)
    }

    /// Eight digits, each code equally likely (Cognito's passwordless codes).
    pub(crate) fn eight_digits(&self) -> String {
        let mut buf = [0u8; 4];
        loop {
            self.entropy.fill(&mut buf);
            let n = u32::from_le_bytes(buf);
            // Rejection sampling: 4,200,000,000 is the largest multiple of 10^8 below 2^32.
            if n < 4_200_000_000 {
                return format!("{:08}", n % 100_000_000);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::UserRecord;
    use gatehouse_wire::{SignInPolicyType, UserPoolPolicyType, UserPoolType};

    fn pool(factors: Vec<AuthFactorType>, mfa: UserPoolMfaType) -> UserPoolRecord {
        UserPoolRecord {
            id: "p".into(),
            version: 1,
            pool: UserPoolType {
                policies: Some(UserPoolPolicyType {
                    sign_in_policy: Some(SignInPolicyType {
                        allowed_first_auth_factors: Some(factors),
                    }),
                    ..Default::default()
                }),
                mfa_configuration: Some(mfa),
                ..Default::default()
            },
            mfa: Default::default(),
            device_policy: Default::default(),
            sessions: Default::default(),
        }
    }

    fn user(attributes: &[(&str, &str)], password: bool) -> UserRecord {
        UserRecord {
            pool_id: "p".into(),
            username: "u".into(),
            username_key: "u".into(),
            sub: "s".into(),
            status: UserStatusType::Confirmed,
            enabled: true,
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            password: None,
            imported_hash: password.then(|| crate::store::ImportedHash {
                algorithm: "BCRYPT".into(),
                hash: "x".into(),
            }),
            password_history: Vec::new(),
            temporary_password_expires_at: None,
            mfa_options: Vec::new(),
            mfa: Default::default(),
            created_at: 1,
            updated_at: 1,
            version: 1,
            failed_sign_ins: 0,
            locked_until: None,
        }
    }

    #[test]
    fn the_offer_follows_the_policy_what_the_user_has_and_mfa() {
        use AuthFactorType as F;
        use ChallengeNameType as C;
        let all = vec![F::EmailOtp, F::Password, F::SmsOtp, F::WebAuthn];
        let both = user(&[("email", "a@b.c"), ("phone_number", "+15550100")], true);
        assert_eq!(
            available_challenges(&pool(all.clone(), UserPoolMfaType::Off), &both, true),
            vec![
                C::PasswordSrp,
                C::Password,
                C::EmailOtp,
                C::SmsOtp,
                C::WebAuthn
            ]
        );
        // No passkey, no phone, no password: only what the user has.
        let email_only = user(&[("email", "a@b.c")], false);
        assert_eq!(
            available_challenges(&pool(all.clone(), UserPoolMfaType::Off), &email_only, false),
            vec![C::EmailOtp]
        );
        // The policy decides, whatever the user has.
        assert_eq!(
            available_challenges(&pool(vec![F::Password], UserPoolMfaType::Off), &both, true),
            vec![C::PasswordSrp, C::Password]
        );
        // MFA required: the password alone, followed by MFA.
        assert_eq!(
            available_challenges(&pool(all, UserPoolMfaType::On), &both, true),
            vec![C::PasswordSrp, C::Password]
        );
    }
}
