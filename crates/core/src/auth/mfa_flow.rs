//! The second factor at sign-in (docs/mfa.md): which challenge a user owes after the password
//! (SMS_MFA, EMAIL_OTP, SOFTWARE_TOKEN_MFA, SELECT_MFA_TYPE or MFA_SETUP), when a remembered
//! device stands in for it, and the answers. The MFA step is a pending sign-in like the device
//! step (`device_flow`): one Session string from here to the tokens.

use std::collections::BTreeMap;

use gatehouse_wire::{ChallengeNameType, UserPoolMfaType};
use subtle::ConstantTimeEq;

use super::device_flow::UnknownDevice;
use super::{check_secret_hash_for, expired_session, AuthStep, Params};
use crate::codes::{fill_template, Letter};
use crate::devices::tracking;
use crate::messages::{mask, Medium, Purpose};
use crate::mfa::{pool_offers_email, pool_offers_sms, totp_already_used, totp_step};
use crate::store::{
    AppClientRecord, DeviceRecord, DeviceStatus, PendingSignInRecord, PendingStep, UserPoolRecord,
    UserRecord,
};
use crate::triggers::{messages_from, MessageContext};
use crate::{Core, CoreError, Result};

/// A second factor a sign-in can ask for (SMS and email codes also serve as first factors,
/// choice_flow.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Factor {
    Sms,
    Email,
    Totp,
}

impl Factor {
    /// The challenge's name, which is also the pending sign-in's step and the factor's name in
    /// the MFA settings.
    fn name(self) -> &'static str {
        match self {
            Factor::Sms => "SMS_MFA",
            Factor::Email => "EMAIL_OTP",
            Factor::Totp => "SOFTWARE_TOKEN_MFA",
        }
    }

    /// The step a pending sign-in waits at for this factor's code.
    fn step(self) -> PendingStep {
        match self {
            Factor::Sms => PendingStep::SmsMfa,
            Factor::Email => PendingStep::EmailOtp,
            Factor::Totp => PendingStep::SoftwareTokenMfa,
        }
    }

    fn challenge(self) -> ChallengeNameType {
        match self {
            Factor::Sms => ChallengeNameType::SmsMfa,
            Factor::Email => ChallengeNameType::EmailOtp,
            Factor::Totp => ChallengeNameType::SoftwareTokenMfa,
        }
    }

    /// A name as clients send it (the model's text also spells email `EMAIL_MFA`).
    fn named(name: &str) -> Option<Factor> {
        match name {
            "SMS_MFA" => Some(Factor::Sms),
            "EMAIL_OTP" | "EMAIL_MFA" => Some(Factor::Email),
            "SOFTWARE_TOKEN_MFA" => Some(Factor::Totp),
            _ => None,
        }
    }

    /// The attribute a code is sent to.
    pub(super) fn attribute(self) -> &'static str {
        match self {
            Factor::Email => "email",
            _ => "phone_number",
        }
    }
}

/// What a sign-in asks after the password.
#[derive(Debug, PartialEq, Eq)]
enum SecondFactor {
    None,
    /// One factor's code.
    Code(Factor),
    /// SELECT_MFA_TYPE: several factors enabled, none preferred.
    Choose(Vec<Factor>),
    /// MFA_SETUP: the pool requires MFA and the user has no factor; what the pool offers.
    Setup(Vec<&'static str>),
}

/// The factors `user` has enabled that can be used now. SMS counts when set by the preferences
/// or by the legacy MFAOptions. An authenticator stays usable after the pool stops offering
/// TOTP, as in Cognito; SMS and email need the pool's configuration and the user's attribute.
pub(super) fn usable_factors(pool: &UserPoolRecord, user: &UserRecord) -> Vec<Factor> {
    let m = &user.mfa;
    let has = |a: &str| user.attributes.contains_key(a);
    let mut out = Vec::new();
    if (m.sms_enabled || !user.mfa_options.is_empty())
        && has("phone_number")
        && pool_offers_sms(pool)
    {
        out.push(Factor::Sms);
    }
    if m.software_token_enabled && m.totp_secret.is_some() {
        out.push(Factor::Totp);
    }
    if m.email_enabled && has("email") && pool_offers_email(pool) {
        out.push(Factor::Email);
    }
    out
}

/// The pool's MFA mode applied to the user (docs/mfa.md, "Which challenge"):
/// `OPTIONAL` asks users who enabled a factor; `ON` also asks those who did not, by SMS to the
/// phone number or email to the address they have, else through MFA_SETUP.
fn second_factor(pool: &UserPoolRecord, user: &UserRecord) -> SecondFactor {
    let required = match pool.pool.mfa_configuration {
        Some(UserPoolMfaType::On) => true,
        Some(UserPoolMfaType::Optional) => false,
        _ => return SecondFactor::None,
    };
    let factors = usable_factors(pool, user);
    let has = |a: &str| user.attributes.contains_key(a);
    match factors.as_slice() {
        [] if !required => SecondFactor::None,
        [] if pool_offers_sms(pool) && has("phone_number") => SecondFactor::Code(Factor::Sms),
        [] if pool_offers_email(pool) && has("email") => SecondFactor::Code(Factor::Email),
        [] => {
            let mut offered = Vec::new();
            if pool_offers_sms(pool) {
                offered.push(Factor::Sms.name());
            }
            if pool.mfa.software_token_enabled {
                offered.push(Factor::Totp.name());
            }
            if pool_offers_email(pool) {
                offered.push(Factor::Email.name());
            }
            SecondFactor::Setup(offered)
        }
        [one] => SecondFactor::Code(*one),
        many => {
            let preferred = user.mfa.preferred.as_deref().and_then(Factor::named);
            match preferred.filter(|p| many.contains(p)) {
                Some(p) => SecondFactor::Code(p),
                None => SecondFactor::Choose(many.to_vec()),
            }
        }
    }
}

/// `ChallengeRequiredOnNewDevice: true` lets a remembered device stand in for MFA (once it has
/// passed device SRP), whenever it was remembered and, under the pool's device policy, its
/// trust has not lapsed (`device_trust.rs`).
fn suppresses_mfa(pool: &UserPoolRecord, device: &DeviceRecord, now: i64) -> bool {
    tracking(pool).is_some_and(|c| c.challenge_required_on_new_device == Some(true))
        && crate::device_trust::status_under(&pool.device_policy, device, now)
            == DeviceStatus::Remembered
}

fn totp_mismatch() -> CoreError {
    CoreError::CodeMismatch("Invalid code received for user".into())
}

pub(super) fn code_mismatch() -> CoreError {
    CoreError::CodeMismatch("Invalid code or auth state for the user.".into())
}

fn setup_mismatch() -> CoreError {
    CoreError::EnableSoftwareTokenMfa("Code mismatch and fail enable Software Token MFA".into())
}

fn json_list(names: &[&str]) -> String {
    serde_json::to_string(names).expect("a list of names serialises")
}

impl Core {
    /// What this sign-in asks after the password, once a presented device had its say.
    fn second_factor_with(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        device: Option<&DeviceRecord>,
    ) -> SecondFactor {
        let skip = device.is_some_and(|d| suppresses_mfa(pool, d, self.now_millis()));
        match second_factor(pool, user) {
            // MFA_SETUP is never skipped: the pool wants every user to have a factor.
            SecondFactor::Code(_) | SecondFactor::Choose(_) if skip => SecondFactor::None,
            other => other,
        }
    }

    /// Whether the sign-in will ask `user` for an MFA code (no remembered device stands in).
    pub(super) fn owes_mfa(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        device: Option<&DeviceRecord>,
    ) -> bool {
        matches!(
            self.second_factor_with(pool, user, device),
            SecondFactor::Code(_) | SecondFactor::Choose(_)
        )
    }

    /// After the password (and the user's state) passed: an MFA challenge, device SRP, or
    /// tokens; the step names the user.
    pub(super) async fn second_factor_or_device(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        let mut step = self.next_after_password(pool, client, user, device).await?;
        step.user = Some(Box::new(user.clone()));
        Ok(step)
    }

    async fn next_after_password(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        device: Option<DeviceRecord>,
    ) -> Result<AuthStep> {
        let key = device.as_ref().map(|d| d.device_key.as_str());
        let (step, challenge, list, names): (_, _, _, Vec<&str>) =
            match self.second_factor_with(pool, user, device.as_ref()) {
                SecondFactor::None => {
                    return match &device {
                        Some(d) => self.begin_device_sign_in(pool, client, user, d).await,
                        None => Ok(AuthStep::tokens(
                            self.tokens_for_new_device(pool, client, user).await?,
                        )),
                    };
                }
                SecondFactor::Code(factor) => {
                    let mut pending =
                        self.pending_sign_in_record(pool, client, user, key, factor.step());
                    let code = self.prepare_code(&mut pending, user, factor, None);
                    self.sign_ins().insert_pending_sign_in(&pending).await?;
                    let from = MessageContext::new(
                        "CustomMessage_Authentication",
                        Some(&client.client_id),
                    );
                    let send = self.send_mfa_code(pool, user, factor, code, None);
                    let params = messages_from(from, send).await?;
                    return Ok(mfa_challenge(factor, pending.session, params, user));
                }
                SecondFactor::Choose(factors) => (
                    PendingStep::SelectMfaType,
                    ChallengeNameType::SelectMfaType,
                    "MFAS_CAN_CHOOSE",
                    factors.iter().map(|f| f.name()).collect(),
                ),
                SecondFactor::Setup(names) => (
                    PendingStep::MfaSetup,
                    ChallengeNameType::MfaSetup,
                    "MFAS_CAN_SETUP",
                    names,
                ),
            };
        // The factors offered are kept: the answer must pick one of them.
        let mut pending = self.pending_sign_in_record(pool, client, user, key, step);
        pending.mfa.offered = names.iter().map(|n| n.to_string()).collect();
        self.sign_ins().insert_pending_sign_in(&pending).await?;
        Ok(AuthStep {
            challenge_name: Some(challenge),
            session: Some(pending.session),
            challenge_parameters: Some(BTreeMap::from([
                (list.to_string(), json_list(&names)),
                ("USER_ID_FOR_SRP".to_string(), user.username.clone()),
            ])),
            ..Default::default()
        })
    }

    /// For SMS and email: a fresh code, kept in `pending` as a hash, with the address it goes
    /// to (`to`, else the user's attribute): a right code verifies that address only.
    fn prepare_code(
        &self,
        pending: &mut PendingSignInRecord,
        user: &UserRecord,
        factor: Factor,
        to: Option<&str>,
    ) -> Option<String> {
        (factor != Factor::Totp).then(|| {
            let code = self.six_digits();
            pending.mfa.code_hash = Some(self.code_hash(&pending.id, &code));
            pending.mfa.sent_to = match to {
                Some(address) => Some(address.to_string()),
                None => user.attributes.get(factor.attribute()).cloned(),
            };
            code
        })
    }

    /// Sends an SMS or email code with the pool's MFA message; the challenge parameters that
    /// tell the client where it went.
    pub(super) async fn send_mfa_code(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        factor: Factor,
        code: Option<String>,
        to: Option<&str>,
    ) -> Result<BTreeMap<String, String>> {
        let Some(code) = code else {
            return Ok(BTreeMap::new());
        };
        let destination = match to {
            Some(address) => address.to_string(),
            None => user
                .attributes
                .get(factor.attribute())
                .cloned()
                .unwrap_or_default(),
        };
        let default = "Your authentication code is {####}. ".to_string();
        let (medium, subject, template) = match factor {
            Factor::Email => {
                let c = pool.mfa.email.clone().unwrap_or_default();
                let subject = c
                    .subject
                    .unwrap_or_else(|| "Your authentication code".into());
                (Medium::Email, Some(subject), c.message.unwrap_or(default))
            }
            _ => (
                Medium::Sms,
                None,
                pool.pool
                    .sms_authentication_message
                    .clone()
                    .unwrap_or(default),
            ),
        };
        let body = fill_template(&template, &code, &user.username);
        let letter = Letter {
            medium,
            destination: &destination,
            purpose: Purpose::Mfa,
            subject,
            body,
            code: Some(code),
            attribute: factor.attribute(),
        };
        self.send(user, letter).await?;
        Ok(BTreeMap::from([
            (
                "CODE_DELIVERY_DELIVERY_MEDIUM".to_string(),
                medium.as_str().to_string(),
            ),
            ("CODE_DELIVERY_DESTINATION".to_string(), mask(&destination)),
        ]))
    }

    /// The pending sign-in a challenge answer continues, waiting for `step`, and its user (who
    /// must be the one USERNAME names and the Session was issued to).
    async fn pending_for_answer(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        step: PendingStep,
        responses: &Params<'_>,
    ) -> Result<(PendingSignInRecord, UserRecord)> {
        self.pending_for_answer_at(pool, client, session, &[step], responses)
            .await
    }

    /// [`Core::pending_for_answer`] for a sign-in waiting at any of `steps`.
    pub(super) async fn pending_for_answer_at(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        steps: &[PendingStep],
        responses: &Params<'_>,
    ) -> Result<(PendingSignInRecord, UserRecord)> {
        let (pending, user) = self.pending_at_one_of(pool, client, session, steps).await?;
        let username = responses.required("USERNAME")?;
        if !self.names_user(pool, &user, username).await? {
            return Err(expired_session());
        }
        check_secret_hash_for(
            client,
            &[username, &user.username, &user.sub],
            responses.get("SECRET_HASH"),
        )?;
        self.refuse_before_password(&user)?;
        Ok((pending, user))
    }

    /// RespondToAuthChallenge SMS_MFA {SMS_MFA_CODE}, EMAIL_OTP {EMAIL_OTP_CODE} and
    /// SOFTWARE_TOKEN_MFA {SOFTWARE_TOKEN_MFA_CODE}, each with USERNAME, DEVICE_KEY?,
    /// SECRET_HASH?.
    pub(super) async fn answer_mfa_code(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        challenge: &ChallengeNameType,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let factor = Factor::named(challenge.as_str()).ok_or_else(expired_session)?;
        let (pending, mut user) = self
            .pending_for_answer(pool, client, session, factor.step(), &responses)
            .await?;
        let code = match factor {
            Factor::Sms => responses.required("SMS_MFA_CODE")?,
            Factor::Totp => responses.required("SOFTWARE_TOKEN_MFA_CODE")?,
            Factor::Email => match responses.get("EMAIL_MFA_CODE") {
                Some(c) => c,
                None => responses.required("EMAIL_OTP_CODE")?,
            },
        };
        // A wrong code counts towards the lockout, as a wrong password does.
        self.take_attempt(&mut user).await?;
        match factor {
            Factor::Totp => self.check_totp_code(pool, &user, code).await?,
            _ => {
                if !self.pending_code_is(&pending, code) {
                    return Err(code_mismatch());
                }
                if let Some(address) = &pending.mfa.setup_email {
                    self.adopt_email_factor(pool, &user, address).await?;
                } else {
                    // The code reached the phone or the mailbox: the attribute is verified, if
                    // it is still the one the code went to (checked in the write itself, so a
                    // change racing this answer is never marked verified).
                    let attribute = factor.attribute();
                    let flag = format!("{attribute}_verified");
                    let sent_to = pending.mfa.sent_to.as_ref();
                    let unverified = user.attributes.get(&flag).map(String::as_str) != Some("true");
                    if unverified && sent_to.is_some() && user.attributes.get(attribute) == sent_to
                    {
                        self.modify_user(pool, &user.username, |u| {
                            if u.attributes.get(attribute) == sent_to {
                                u.attributes.insert(flag.clone(), "true".into());
                            }
                            Ok(())
                        })
                        .await?;
                    }
                }
            }
        }
        self.attempt_succeeded(&mut user).await?;
        self.after_second_factor(pool, client, &user, pending, factor.step(), &responses)
            .await
    }

    /// Whether `code` is the one the pending sign-in sent (its hash, compared in constant time).
    pub(super) fn pending_code_is(&self, pending: &PendingSignInRecord, code: &str) -> bool {
        let expected = pending.mfa.code_hash.as_deref().unwrap_or_default();
        bool::from(
            self.code_hash(&pending.id, code)
                .as_bytes()
                .ct_eq(expected.as_bytes()),
        )
    }

    /// The authenticator code of a sign-in: right for the user's secret (else
    /// CodeMismatchException) and newer than the last one accepted (else ExpiredCodeException
    /// "already used": a code is good once).
    async fn check_totp_code(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        code: &str,
    ) -> Result<()> {
        let sealed = user.mfa.totp_secret.clone().ok_or_else(totp_mismatch)?;
        let secret = self.open_totp_secret(&sealed)?;
        let step = totp_step(&secret, code, self.now_millis() / 1000).ok_or_else(totp_mismatch)?;
        // The step is checked and spent in one write (a compare-and-swap on the user's
        // version): of two answers racing with one code, the second finds it spent.
        self.modify_user(pool, &user.username, |u| {
            if u.mfa.totp_secret.as_deref() != Some(sealed.as_str()) {
                return Err(totp_mismatch());
            }
            if u.mfa.totp_last_step.is_some_and(|last| step <= last) {
                return Err(totp_already_used());
            }
            u.mfa.totp_last_step = Some(step);
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// RespondToAuthChallenge SELECT_MFA_TYPE {USERNAME, ANSWER}: the chosen factor's challenge,
    /// with the same Session.
    pub(super) async fn answer_select_mfa_type(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let (pending, user) = self
            .pending_for_answer(
                pool,
                client,
                session,
                PendingStep::SelectMfaType,
                &responses,
            )
            .await?;
        let answer = responses.required("ANSWER")?;
        let factor = Factor::named(answer)
            .filter(|f| pending.mfa.offered.iter().any(|o| o == f.name()))
            .ok_or_else(|| {
                CoreError::InvalidParameter(format!(
                    "ANSWER must be one of the factors offered: {}",
                    pending.mfa.offered.join(", ")
                ))
            })?;
        self.move_to_code(
            pool,
            &user,
            pending,
            PendingStep::SelectMfaType,
            factor,
            None,
        )
        .await
    }

    /// Moves `pending` on from `from_step` to `factor`'s challenge, with the same Session; for
    /// SMS and email a fresh code goes to the user's attribute, or to `to`.
    async fn move_to_code(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        mut pending: PendingSignInRecord,
        from_step: PendingStep,
        factor: Factor,
        to: Option<&str>,
    ) -> Result<AuthStep> {
        pending.step = factor.step();
        let code = self.prepare_code(&mut pending, user, factor, to);
        self.advance_pending(&pending, from_step).await?;
        let from = MessageContext::new("CustomMessage_Authentication", Some(&pending.client_id));
        let params = messages_from(from, self.send_mfa_code(pool, user, factor, code, to)).await?;
        Ok(mfa_challenge(factor, pending.session, params, user))
    }

    /// RespondToAuthChallenge MFA_SETUP {USERNAME}, after AssociateSoftwareToken and
    /// VerifySoftwareToken with this Session: the authenticator becomes the user's factor
    /// (enabled, and preferred unless another is), and the sign-in goes on.
    pub(super) async fn answer_mfa_setup(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let (mut pending, user) = self
            .pending_for_answer(pool, client, session, PendingStep::MfaSetup, &responses)
            .await?;
        if let Some(address) = responses.get("EMAIL") {
            // Email MFA set up as Amplify does it: a code to the address given, as EMAIL_OTP.
            if !pending
                .mfa
                .offered
                .iter()
                .any(|o| o == Factor::Email.name())
            {
                return Err(CoreError::InvalidParameter(
                    "Email MFA cannot be set up in this user pool.".into(),
                ));
            }
            if !crate::attributes::is_email(address) {
                return Err(CoreError::InvalidParameter(
                    "Invalid email address format.".into(),
                ));
            }
            pending.mfa.setup_email = Some(address.to_string());
            return self
                .move_to_code(
                    pool,
                    &user,
                    pending,
                    PendingStep::MfaSetup,
                    Factor::Email,
                    Some(address),
                )
                .await;
        }
        // VerifySoftwareToken already made the authenticator the user's factor: the answer
        // only finishes the sign-in (rewriting the factor here could undo a later change).
        if pending.mfa.setup_verified_step.is_none() {
            return Err(CoreError::InvalidParameter(
                "No authenticator was verified for this sign-in: call AssociateSoftwareToken and VerifySoftwareToken with the Session first.".into(),
            ));
        }
        self.after_second_factor(
            pool,
            client,
            &user,
            pending,
            PendingStep::MfaSetup,
            &responses,
        )
        .await
    }

    /// MFA_SETUP by email finished with the right code: the address is the user's, verified,
    /// and email MFA is enabled (and preferred unless another factor is).
    async fn adopt_email_factor(
        &self,
        pool: &UserPoolRecord,
        user: &UserRecord,
        address: &str,
    ) -> Result<()> {
        let attribute = |name: &str, value: &str| gatehouse_wire::AttributeType {
            name: name.to_string(),
            value: Some(value.to_string()),
        };
        self.update_attributes(
            pool,
            &user.username,
            &[
                attribute("email", address),
                attribute("email_verified", "true"),
            ],
        )
        .await?;
        self.modify_user(pool, &user.username, |u| {
            u.mfa.email_enabled = true;
            u.mfa
                .preferred
                .get_or_insert_with(|| Factor::Email.name().into());
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// The MFA step passed: device SRP when a confirmed device was presented (with the
    /// password or in this answer: Amplify and amazon-cognito-identity-js echo DEVICE_KEY
    /// here), else tokens (with a new device key when tracking is on).
    pub(super) async fn after_second_factor(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
        pending: PendingSignInRecord,
        step: PendingStep,
        responses: &Params<'_>,
    ) -> Result<AuthStep> {
        let key = pending
            .device_key
            .clone()
            .or_else(|| responses.get("DEVICE_KEY").map(str::to_string));
        let device = self
            .presented_device(pool, user, key.as_deref(), UnknownDevice::Ignore)
            .await?;
        match device {
            Some(d) => self.continue_to_device(pending, step, &d).await,
            None => {
                self.finish_pending(&pending.id, step).await?;
                Ok(AuthStep::tokens(
                    self.tokens_for_new_device(pool, client, user).await?,
                ))
            }
        }
    }

    /// The pending sign-in an MFA_SETUP Session belongs to, and its user (AssociateSoftwareToken
    /// and VerifySoftwareToken name no pool or client: the Session does).
    async fn setup_in_progress(
        &self,
        session: &str,
    ) -> Result<(UserPoolRecord, PendingSignInRecord, UserRecord)> {
        let s = self.peek_challenge_session(session)?;
        let pool = self.pool(&s.pool_id).await.map_err(|_| expired_session())?;
        let client = self
            .app_client(&pool.id, &s.client_id)
            .await
            .map_err(|_| expired_session())?;
        let (pending, user) = self
            .pending_at(&pool, &client, Some(session), PendingStep::MfaSetup)
            .await?;
        self.refuse_before_password(&user)?;
        Ok((pool, pending, user))
    }

    /// AssociateSoftwareToken with the Session of MFA_SETUP: a secret for this sign-in (it
    /// becomes the user's when MFA_SETUP is answered). Returns the secret and the Session.
    pub(crate) async fn associate_software_token_in_sign_in(
        &self,
        session: &str,
    ) -> Result<(String, String)> {
        let (pool, mut pending, _) = self.setup_in_progress(session).await?;
        if !pool.mfa.software_token_enabled {
            return Err(CoreError::SoftwareTokenMfaNotFound(
                "Software Token MFA has not been enabled by the userPool".into(),
            ));
        }
        let (secret_code, sealed) = self.new_totp_secret()?;
        pending.mfa.setup_secret = Some(sealed);
        pending.mfa.setup_verified_step = None;
        self.advance_pending(&pending, PendingStep::MfaSetup)
            .await?;
        Ok((secret_code, pending.session))
    }

    /// VerifySoftwareToken with the Session of MFA_SETUP: the code proves the app holds this
    /// sign-in's secret, which becomes the user's factor at once (enabled and preferred), as in
    /// Cognito: the next sign-in asks for its code even if this one never answers MFA_SETUP.
    /// Returns the Session to answer MFA_SETUP with.
    pub(crate) async fn verify_software_token_in_sign_in(
        &self,
        session: &str,
        code: &str,
        friendly_name: Option<String>,
    ) -> Result<String> {
        let (pool, mut pending, user) = self.setup_in_progress(session).await?;
        let sealed = pending.mfa.setup_secret.clone().ok_or_else(|| {
            CoreError::InvalidParameter(
                "No software token is being associated: call AssociateSoftwareToken first.".into(),
            )
        })?;
        let secret = self.open_totp_secret(&sealed)?;
        let step = totp_step(&secret, code, self.now_millis() / 1000).ok_or_else(setup_mismatch)?;
        // Enrolled, and the step spent, in one write (a compare-and-swap on the user's
        // version): a second Verify with the same code finds it used.
        let name = friendly_name.clone();
        self.modify_user(&pool, &user.username, |u| {
            if u.mfa.totp_secret.as_deref() == Some(sealed.as_str()) {
                if u.mfa.totp_last_step.is_some_and(|last| step <= last) {
                    return Err(totp_already_used());
                }
            } else {
                u.mfa.totp_secret = Some(sealed.clone());
            }
            u.mfa.totp_last_step = Some(step);
            u.mfa.totp_device_name = name.clone();
            u.mfa.software_token_enabled = true;
            u.mfa.preferred = Some(Factor::Totp.name().into());
            Ok(())
        })
        .await?;
        pending.mfa.setup_verified_step = Some(step);
        pending.mfa.setup_device_name = friendly_name;
        self.advance_pending(&pending, PendingStep::MfaSetup)
            .await?;
        Ok(pending.session)
    }
}

/// The challenge asking for `factor`'s code.
fn mfa_challenge(
    factor: Factor,
    session: String,
    mut params: BTreeMap<String, String>,
    user: &UserRecord,
) -> AuthStep {
    params.insert("USER_ID_FOR_SRP".to_string(), user.username.clone());
    AuthStep {
        challenge_name: Some(factor.challenge()),
        session: Some(session),
        challenge_parameters: Some(params),
        ..Default::default()
    }
}
