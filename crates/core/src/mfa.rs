//! Multi-factor authentication: the pool's MFA configuration (SetUserPoolMfaConfig,
//! GetUserPoolMfaConfig), authenticator-app enrolment (AssociateSoftwareToken,
//! VerifySoftwareToken) and the users' preferences (SetUserMFAPreference and its admin twin,
//! the legacy MFAOptions). Rules: docs/mfa.md. The challenges at sign-in: `auth::mfa_flow`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_wire::*;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use crate::console::SeenVersion;
use crate::server_key::Sealed;
use crate::store::{UserMfaRecord, UserPoolRecord, UserRecord};
use crate::{Core, CoreError, Result};

/// RFC 6238 as Cognito uses it: 30-second steps, 6 digits, HMAC-SHA1.
const TOTP_STEP_SECS: i64 = 30;
const TOTP_DIGITS: usize = 6;
/// Bytes of a new authenticator secret: 52 base32 characters, as Cognito's SecretCode.
const TOTP_SECRET_LEN: usize = 32;

const SMS_MFA: &str = "SMS_MFA";
const SOFTWARE_TOKEN_MFA: &str = "SOFTWARE_TOKEN_MFA";
const EMAIL_OTP: &str = "EMAIL_OTP";

fn code_placeholder_missing(what: &str) -> CoreError {
    CoreError::InvalidParameter(format!("{what} must contain the {{####}} placeholder."))
}

/// The step (counter) whose code `code` is, within one step of `now_secs` either side.
pub(crate) fn totp_step(secret: &[u8], code: &str, now_secs: i64) -> Option<i64> {
    if code.len() != TOTP_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = TOTP::new(
        Algorithm::SHA1,
        TOTP_DIGITS,
        0,
        TOTP_STEP_SECS as u64,
        secret.to_vec(),
    )
    .ok()?;
    let now_step = now_secs.div_euclid(TOTP_STEP_SECS);
    let mut found = None;
    // Every candidate is compared, in constant time, whichever matches.
    for step in [now_step - 1, now_step, now_step + 1] {
        let expected = totp.generate((step.max(0) * TOTP_STEP_SECS) as u64);
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    found
}

/// A right code whose step was already accepted for this secret (at sign-in or by
/// VerifySoftwareToken): Cognito tells it apart from a wrong code.
pub(crate) fn totp_already_used() -> CoreError {
    CoreError::ExpiredCode("Your software token has already been used once.".into())
}

fn token_or_session_missing() -> CoreError {
    CoreError::InvalidParameter("Either AccessToken or Session must be given.".into())
}

/// Whether the pool can send MFA codes by SMS (it has an SMS configuration).
pub(crate) fn pool_offers_sms(pool: &UserPoolRecord) -> bool {
    pool.pool.sms_configuration.is_some()
}

/// Whether the pool can send MFA codes by email (it has an email MFA configuration).
pub(crate) fn pool_offers_email(pool: &UserPoolRecord) -> bool {
    pool.mfa.email.is_some()
}

/// The factors a user has enabled, as GetUser lists them, and the preferred one.
pub(crate) fn user_mfa_settings(user: &UserRecord) -> (Option<Vec<String>>, Option<String>) {
    let m = &user.mfa;
    let list: Vec<String> = [
        (m.sms_enabled, SMS_MFA),
        (m.software_token_enabled, SOFTWARE_TOKEN_MFA),
        (m.email_enabled, EMAIL_OTP),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, name)| name.to_string())
    .collect();
    ((!list.is_empty()).then_some(list), m.preferred.clone())
}

/// The legacy MFAOptions: only SMS to the phone number exists.
pub(crate) fn check_mfa_options(options: &[MFAOptionType]) -> Result<()> {
    for o in options {
        let sms = o.delivery_medium.as_ref() == Some(&DeliveryMediumType::Sms);
        if !sms || o.attribute_name.as_deref() != Some("phone_number") {
            return Err(CoreError::InvalidParameter(
                "Only SMS to phone_number can be set as an MFA option.".into(),
            ));
        }
    }
    Ok(())
}

/// One factor's `{Enabled, PreferredMfa}` from a preference request.
struct FactorSetting {
    name: &'static str,
    enabled: Option<bool>,
    preferred: Option<bool>,
}

/// Applies SetUserMFAPreference's settings to `m`: given factors replaced, others kept, at
/// most one preferred, a preferred factor enabled, and only factors the user can use.
fn apply_preferences(
    pool: &UserPoolRecord,
    user: &UserRecord,
    m: &mut UserMfaRecord,
    settings: &[FactorSetting],
) -> Result<()> {
    for s in settings {
        let preferred = s.preferred == Some(true);
        let enabled = s.enabled.unwrap_or(false) || preferred;
        // A factor the pool cannot deliver would be skipped at sign-in: refused here instead.
        let offered = match s.name {
            SMS_MFA => pool_offers_sms(pool),
            EMAIL_OTP => pool_offers_email(pool),
            _ => true,
        };
        if enabled && !offered {
            return Err(CoreError::InvalidParameter(format!(
                "The user pool is not configured for {}.",
                s.name
            )));
        }
        if enabled {
            let usable = match s.name {
                SOFTWARE_TOKEN_MFA => m.totp_secret.is_some(),
                SMS_MFA => user.attributes.contains_key("phone_number"),
                _ => user.attributes.contains_key("email"),
            };
            if !usable {
                let why = match s.name {
                    SOFTWARE_TOKEN_MFA => "User has not verified software token mfa".to_string(),
                    other => format!("User does not have delivery config set to turn on {other}"),
                };
                return Err(CoreError::InvalidParameter(why));
            }
        }
        match s.name {
            SMS_MFA => m.sms_enabled = enabled,
            SOFTWARE_TOKEN_MFA => m.software_token_enabled = enabled,
            _ => m.email_enabled = enabled,
        }
        if preferred {
            m.preferred = Some(s.name.to_string());
        } else if m.preferred.as_deref() == Some(s.name) {
            m.preferred = None;
        }
    }
    if settings
        .iter()
        .filter(|s| s.preferred == Some(true))
        .count()
        > 1
    {
        return Err(CoreError::InvalidParameter(
            "Only one MFA method can be preferred.".into(),
        ));
    }
    Ok(())
}

fn factor_settings(
    sms: &Option<SMSMfaSettingsType>,
    totp: &Option<SoftwareTokenMfaSettingsType>,
    email: &Option<EmailMfaSettingsType>,
) -> Vec<FactorSetting> {
    let mut out = Vec::new();
    if let Some(s) = sms {
        out.push(FactorSetting {
            name: SMS_MFA,
            enabled: s.enabled,
            preferred: s.preferred_mfa,
        });
    }
    if let Some(s) = totp {
        out.push(FactorSetting {
            name: SOFTWARE_TOKEN_MFA,
            enabled: s.enabled,
            preferred: s.preferred_mfa,
        });
    }
    if let Some(s) = email {
        out.push(FactorSetting {
            name: EMAIL_OTP,
            enabled: s.enabled,
            preferred: s.preferred_mfa,
        });
    }
    out
}

impl Core {
    fn mfa_config_of(rec: &UserPoolRecord) -> GetUserPoolMfaConfigResponse {
        let p = &rec.pool;
        let sms =
            (p.sms_authentication_message.is_some() || p.sms_configuration.is_some()).then(|| {
                SmsMfaConfigType {
                    sms_authentication_message: p.sms_authentication_message.clone(),
                    sms_configuration: p.sms_configuration.clone(),
                }
            });
        GetUserPoolMfaConfigResponse {
            mfa_configuration: Some(p.mfa_configuration.clone().unwrap_or(UserPoolMfaType::Off)),
            sms_mfa_configuration: sms,
            software_token_mfa_configuration: Some(SoftwareTokenMfaConfigType {
                enabled: Some(rec.mfa.software_token_enabled),
            }),
            email_mfa_configuration: rec.mfa.email.clone(),
            web_authn_configuration: rec.mfa.web_authn.clone(),
        }
    }

    pub async fn get_user_pool_mfa_config(
        &self,
        req: GetUserPoolMfaConfigRequest,
    ) -> Result<GetUserPoolMfaConfigResponse> {
        Ok(Self::mfa_config_of(
            &self.pool_from_store(&req.user_pool_id).await?,
        ))
    }

    /// SetUserPoolMfaConfig: what is given replaces what was; `ON` and `OPTIONAL` need a factor.
    pub async fn set_user_pool_mfa_config(
        &self,
        req: SetUserPoolMfaConfigRequest,
    ) -> Result<SetUserPoolMfaConfigResponse> {
        self.set_user_pool_mfa_config_as_seen(req, SeenVersion::default())
            .await
    }

    /// SetUserPoolMfaConfig from a console form drawn from version `seen` of the pool.
    pub async fn set_user_pool_mfa_config_as_seen(
        &self,
        req: SetUserPoolMfaConfigRequest,
        seen: SeenVersion,
    ) -> Result<SetUserPoolMfaConfigResponse> {
        if let Some(sms) = &req.sms_mfa_configuration {
            if sms
                .sms_authentication_message
                .as_deref()
                .is_some_and(|m| !m.contains("{####}"))
            {
                return Err(code_placeholder_missing("SmsAuthenticationMessage"));
            }
        }
        if let Some(email) = &req.email_mfa_configuration {
            if email
                .message
                .as_deref()
                .is_some_and(|m| !m.contains("{####}"))
            {
                return Err(code_placeholder_missing("EmailMfaConfiguration.Message"));
            }
        }
        if let Some(w) = &req.web_authn_configuration {
            crate::passkeys::check_configuration(w)?;
        }
        let rec = self
            .modify_pool_record(&req.user_pool_id, |rec| {
                seen.check(rec.version, "user pool")?;
                if let Some(sms) = &req.sms_mfa_configuration {
                    rec.pool.sms_authentication_message = sms.sms_authentication_message.clone();
                    rec.pool.sms_configuration = sms.sms_configuration.clone();
                }
                if let Some(t) = &req.software_token_mfa_configuration {
                    rec.mfa.software_token_enabled = t.enabled == Some(true);
                }
                if let Some(e) = &req.email_mfa_configuration {
                    rec.mfa.email = Some(e.clone());
                }
                if let Some(w) = &req.web_authn_configuration {
                    rec.mfa.web_authn = Some(w.clone());
                }
                if let Some(mode) = &req.mfa_configuration {
                    rec.pool.mfa_configuration = Some(mode.clone());
                }
                let mode = rec.pool.mfa_configuration.clone();
                let has_factor = rec.pool.sms_configuration.is_some()
                    || rec.mfa.software_token_enabled
                    || rec.mfa.email.is_some();
                if matches!(mode, Some(UserPoolMfaType::On | UserPoolMfaType::Optional))
                    && !has_factor
                {
                    return Err(CoreError::InvalidParameter(
                        "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.".into(),
                    ));
                }
                Ok(())
            })
            .await?;
        let c = Self::mfa_config_of(&rec);
        Ok(SetUserPoolMfaConfigResponse {
            mfa_configuration: c.mfa_configuration,
            sms_mfa_configuration: c.sms_mfa_configuration,
            software_token_mfa_configuration: c.software_token_mfa_configuration,
            email_mfa_configuration: c.email_mfa_configuration,
            web_authn_configuration: c.web_authn_configuration,
        })
    }

    /// AssociateSoftwareToken with an access token: a new authenticator secret, pending until
    /// VerifySoftwareToken proves the app holds it.
    ///
    /// With the Session of an MFA_SETUP challenge instead, the secret belongs to that sign-in
    /// (`auth::mfa_flow`).
    pub async fn associate_software_token(
        &self,
        req: AssociateSoftwareTokenRequest,
    ) -> Result<AssociateSoftwareTokenResponse> {
        let access_token = match (req.access_token.as_deref(), req.session.as_deref()) {
            (Some(token), _) => token,
            (None, Some(session)) => {
                let (secret_code, session) =
                    self.associate_software_token_in_sign_in(session).await?;
                return Ok(AssociateSoftwareTokenResponse {
                    secret_code: Some(secret_code),
                    session: Some(session),
                });
            }
            (None, None) => return Err(token_or_session_missing()),
        };
        let t = self.access_token(access_token).await?;
        if !t.pool.mfa.software_token_enabled {
            return Err(CoreError::SoftwareTokenMfaNotFound(
                "Software Token MFA has not been enabled by the userPool".into(),
            ));
        }
        let (secret_code, sealed) = self.new_totp_secret()?;
        self.modify_user(&t.pool, &t.user.username, |u| {
            u.mfa.pending_totp_secret = Some(sealed.clone());
            Ok(())
        })
        .await?;
        Ok(AssociateSoftwareTokenResponse {
            secret_code: Some(secret_code),
            session: None,
        })
    }

    /// A new authenticator secret: its base32 text for the app (Cognito's SecretCode) and the
    /// secret sealed with the server key for the store.
    pub(crate) fn new_totp_secret(&self) -> Result<(String, String)> {
        let mut secret = zeroize::Zeroizing::new([0u8; TOTP_SECRET_LEN]);
        self.entropy.fill(&mut secret[..]);
        let totp = TOTP::new(
            Algorithm::SHA1,
            TOTP_DIGITS,
            0,
            TOTP_STEP_SECS as u64,
            secret.to_vec(),
        )
        .map_err(|e| CoreError::Internal(format!("totp: {e:?}")))?;
        let sealed = STANDARD.encode(self.server_key.seal(
            self.entropy.as_ref(),
            Sealed::TotpSecret,
            &secret[..],
        ));
        Ok((totp.get_secret_base32(), sealed))
    }

    pub(crate) fn open_totp_secret(&self, sealed: &str) -> Result<zeroize::Zeroizing<Vec<u8>>> {
        STANDARD
            .decode(sealed)
            .ok()
            .and_then(|b| self.server_key.open(Sealed::TotpSecret, &b))
            .map(zeroize::Zeroizing::new)
            .ok_or_else(|| CoreError::Internal("a TOTP secret cannot be opened".into()))
    }

    /// VerifySoftwareToken with an access token: the pending secret becomes the user's when the
    /// code is right. Without a pending secret, a code of the verified secret is checked again
    /// (a step already accepted is "already used").
    pub async fn verify_software_token(
        &self,
        req: VerifySoftwareTokenRequest,
    ) -> Result<VerifySoftwareTokenResponse> {
        let access_token = match (req.access_token.as_deref(), req.session.as_deref()) {
            (Some(token), _) => token,
            (None, Some(session)) => {
                let name = req.friendly_device_name.clone();
                let session = self
                    .verify_software_token_in_sign_in(session, &req.user_code, name)
                    .await?;
                return Ok(VerifySoftwareTokenResponse {
                    status: Some(VerifySoftwareTokenResponseType::Success),
                    session: Some(session),
                });
            }
            (None, None) => return Err(token_or_session_missing()),
        };
        let t = self.access_token(access_token).await?;
        let mismatch = || {
            CoreError::EnableSoftwareTokenMfa(
                "Code mismatch and fail enable Software Token MFA".into(),
            )
        };
        let now = self.now_millis() / 1000;
        let name = req.friendly_device_name.clone();
        if let Some(pending) = t.user.mfa.pending_totp_secret.clone() {
            let secret = self.open_totp_secret(&pending)?;
            let step = totp_step(&secret, &req.user_code, now).ok_or_else(mismatch)?;
            self.modify_user(&t.pool, &t.user.username, |u| {
                // Raced by another Associate or Verify. (A pending secret has never been used:
                // the last step used belongs to the secret it replaces.)
                if u.mfa.pending_totp_secret.as_deref() != Some(pending.as_str()) {
                    let spent = u.mfa.totp_secret.as_deref() == Some(pending.as_str())
                        && u.mfa.totp_last_step.is_some_and(|last| step <= last);
                    return Err(if spent {
                        totp_already_used()
                    } else {
                        mismatch()
                    });
                }
                u.mfa.totp_secret = u.mfa.pending_totp_secret.take();
                u.mfa.totp_device_name = name.clone();
                u.mfa.totp_last_step = Some(step);
                Ok(())
            })
            .await?;
        } else if let Some(sealed) = t.user.mfa.totp_secret.clone() {
            let secret = self.open_totp_secret(&sealed)?;
            let step = totp_step(&secret, &req.user_code, now).ok_or_else(mismatch)?;
            // Checked and spent in one write (compare-and-swap on the user's version): of two
            // requests with one code, the second finds the step spent.
            self.modify_user(&t.pool, &t.user.username, |u| {
                if u.mfa.totp_secret.as_deref() != Some(sealed.as_str()) {
                    return Err(mismatch());
                }
                if u.mfa.totp_last_step.is_some_and(|last| step <= last) {
                    return Err(totp_already_used());
                }
                u.mfa.totp_last_step = Some(step);
                if name.is_some() {
                    u.mfa.totp_device_name = name.clone();
                }
                Ok(())
            })
            .await?;
        } else {
            return Err(CoreError::InvalidParameter(
                "No software token is being associated: call AssociateSoftwareToken first.".into(),
            ));
        }
        Ok(VerifySoftwareTokenResponse {
            status: Some(VerifySoftwareTokenResponseType::Success),
            session: None,
        })
    }

    pub async fn set_user_mfa_preference(
        &self,
        req: SetUserMFAPreferenceRequest,
    ) -> Result<SetUserMFAPreferenceResponse> {
        let t = self.access_token(&req.access_token).await?;
        let settings = factor_settings(
            &req.sms_mfa_settings,
            &req.software_token_mfa_settings,
            &req.email_mfa_settings,
        );
        self.set_preferences(&t.pool, &t.user.username, &settings)
            .await?;
        Ok(SetUserMFAPreferenceResponse {})
    }

    pub async fn admin_set_user_mfa_preference(
        &self,
        req: AdminSetUserMFAPreferenceRequest,
    ) -> Result<AdminSetUserMFAPreferenceResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let settings = factor_settings(
            &req.sms_mfa_settings,
            &req.software_token_mfa_settings,
            &req.email_mfa_settings,
        );
        self.set_preferences(&pool, &user.username, &settings)
            .await?;
        Ok(AdminSetUserMFAPreferenceResponse {})
    }

    /// AdminDeleteSoftwareToken: the user's authenticator is gone (a pending association too),
    /// and with it a preference for it; other factors stay. A pool that requires MFA then asks
    /// for a new factor at the next sign-in (MFA_SETUP) unless another remains.
    pub async fn admin_delete_software_token(
        &self,
        req: AdminDeleteSoftwareTokenRequest,
    ) -> Result<AdminDeleteSoftwareTokenResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        if user.status == UserStatusType::Unconfirmed {
            return Err(CoreError::UserNotConfirmed("User is not confirmed.".into()));
        }
        self.modify_user(&pool, &user.username, |u| {
            let m = &mut u.mfa;
            if m.totp_secret.is_none() {
                return Err(CoreError::ResourceNotFound(
                    "Software token MFA is not associated with the user.".into(),
                ));
            }
            m.totp_secret = None;
            m.pending_totp_secret = None;
            m.totp_device_name = None;
            m.totp_last_step = None;
            m.software_token_enabled = false;
            if m.preferred.as_deref() == Some(SOFTWARE_TOKEN_MFA) {
                m.preferred = None;
            }
            Ok(())
        })
        .await?;
        Ok(AdminDeleteSoftwareTokenResponse {})
    }

    async fn set_preferences(
        &self,
        pool: &UserPoolRecord,
        username: &str,
        settings: &[FactorSetting],
    ) -> Result<()> {
        self.modify_user(pool, username, |u| {
            let mut m = u.mfa.clone();
            apply_preferences(pool, u, &mut m, settings)?;
            u.mfa = m;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// AdminSetUserSettings: the legacy MFAOptions, as SetUserSettings for the user.
    pub async fn admin_set_user_settings(
        &self,
        req: AdminSetUserSettingsRequest,
    ) -> Result<AdminSetUserSettingsResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        check_mfa_options(&req.mfa_options)?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        self.set_mfa_options(&pool, &user.username, &req.mfa_options)
            .await?;
        Ok(AdminSetUserSettingsResponse {})
    }

    /// The legacy MFAOptions of a user (SetUserSettings, AdminSetUserSettings), once checked
    /// with [`check_mfa_options`].
    pub(crate) async fn set_mfa_options(
        &self,
        pool: &UserPoolRecord,
        username: &str,
        options: &[MFAOptionType],
    ) -> Result<()> {
        self.modify_user(pool, username, |u| {
            u.mfa_options = options.to_vec();
            Ok(())
        })
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 column (8 digits there; the last 6 are the 6-digit code).
    #[test]
    fn totp_matches_rfc_6238_vectors_within_one_step() {
        let secret = b"12345678901234567890";
        for (time, code8) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
        ] {
            let code = &code8[2..];
            let step = time / 30;
            assert_eq!(totp_step(secret, code, time), Some(step));
            assert_eq!(
                totp_step(secret, code, time + 30),
                Some(step),
                "one step late"
            );
            assert_eq!(
                totp_step(secret, code, time - 30),
                Some(step),
                "one step early"
            );
            assert_eq!(totp_step(secret, code, time + 60), None, "two steps late");
        }
        assert_eq!(totp_step(secret, "28708", 59), None);
        assert_eq!(totp_step(secret, "28708x", 59), None);
    }
}
