//! Self sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode, AdminConfirmSignUp.

use std::collections::BTreeMap;

use gatehouse_wire::*;

use crate::app_clients::{
    check_secret_hash, decoy_delivery, prevents_existence_errors, unknown_user,
};
use crate::attributes::{check_required, check_writes};
use crate::codes::SIGN_UP_CODE_TTL_MS;
use crate::messages::Purpose;
use crate::store::{AppClientRecord, UserPoolRecord, UserRecord};
use crate::triggers::{messages_from, Call, MessageContext, PreSignUpAnswer, Trigger};
use crate::users::username_key;
use crate::{passwords, Caller, Core, CoreError, Result};

impl Core {
    pub async fn sign_up(&self, caller: &Caller, req: SignUpRequest) -> Result<SignUpResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let p = &pool.pool;
        if p.admin_create_user_config
            .as_ref()
            .and_then(|c| c.allow_admin_create_user_only)
            == Some(true)
        {
            return Err(CoreError::NotAuthorized(
                "SignUp is not permitted for this user pool".into(),
            ));
        }
        let password = req.password.clone().ok_or_else(|| {
            CoreError::InvalidParameter("Password is required for SignUp.".into())
        })?;
        let identity = self.new_identity(p, &req.username)?;
        let given = req.user_attributes.clone().unwrap_or_default();
        if let Some(allowed) = &client.client.write_attributes {
            if let Some(a) = given.iter().find(|a| !allowed.contains(&a.name)) {
                return Err(CoreError::NotAuthorized(format!(
                    "A client attempted to write unauthorized attribute: {}",
                    a.name
                )));
            }
        }
        let mut attributes = check_writes(p, &given, true)?;
        // Verification flags are earned with a code, not claimed at sign-up.
        attributes.remove("email_verified");
        attributes.remove("phone_number_verified");
        if let Some((attr, value)) = &identity.attribute {
            attributes.insert(attr.to_string(), value.clone());
        }
        attributes.insert("sub".into(), identity.sub.clone());
        check_required(p, &attributes)?;
        let policy = passwords::policy_of(p);
        passwords::check_policy(&policy, &password)?;
        // PreSignUp sees what the caller gave (no `sub`), and may refuse or confirm the user.
        let mut given_attributes = attributes.clone();
        given_attributes.remove("sub");
        let validation_data: Option<BTreeMap<String, String>> =
            req.validation_data.as_ref().map(|v| {
                v.iter()
                    .map(|a| (a.name.clone(), a.value.clone().unwrap_or_default()))
                    .collect()
            });
        let answer = self
            .pre_sign_up_trigger(
                Call {
                    pool: &pool,
                    trigger: Trigger::PreSignUp,
                    source: "PreSignUp_SignUp",
                    user_name: &identity.username,
                    client_id: Some(&client.client_id),
                    caller,
                },
                &given_attributes,
                validation_data.as_ref(),
                req.client_metadata.as_ref(),
            )
            .await?;
        let auto_verified = verify_as_told(&mut attributes, &answer)?;
        let now = self.now_millis();
        let user = UserRecord {
            pool_id: pool.id.clone(),
            username_key: username_key(p, &identity.username),
            username: identity.username.clone(),
            sub: identity.sub.clone(),
            status: if answer.auto_confirm_user {
                UserStatusType::Confirmed
            } else {
                UserStatusType::Unconfirmed
            },
            enabled: true,
            attributes,
            password: Some(passwords::make_record(
                self.entropy.as_ref(),
                &pool.id,
                &identity.username,
                &password,
            )),
            password_history: Vec::new(),
            imported_hash: None,
            temporary_password_expires_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
            mfa_options: Vec::new(),
            mfa: Default::default(),
            failed_sign_ins: 0,
            locked_until: None,
        };
        // An address PreSignUp verified becomes an alias taken over from any other holder.
        self.check_aliases_free(&pool, &user, auto_verified, true)
            .await?;
        self.insert_user(&pool, &user, auto_verified).await?;
        let details = if answer.auto_confirm_user {
            None
        } else {
            let from = MessageContext::new("CustomMessage_SignUp", Some(&client.client_id))
                .with_metadata(req.client_metadata.as_ref());
            let send = self.send_verification_code(p, &user, Purpose::SignUp, SIGN_UP_CODE_TTL_MS);
            messages_from(from, send).await?
        };
        self.record_account_event(&pool, &user, EventType::Signup, true, caller)
            .await;
        Ok(SignUpResponse {
            user_confirmed: answer.auto_confirm_user,
            user_sub: identity.sub,
            code_delivery_details: details,
            session: None,
        })
    }

    async fn sign_up_user(
        &self,
        client: &AppClientRecord,
        pool: &UserPoolRecord,
        username: &str,
    ) -> Result<UserRecord> {
        self.find_user(pool, username)
            .await?
            .ok_or_else(|| unknown_user(client))
    }

    pub async fn confirm_sign_up(
        &self,
        req: ConfirmSignUpRequest,
    ) -> Result<ConfirmSignUpResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let user = self.sign_up_user(&client, &pool, &req.username).await?;
        if user.status != UserStatusType::Unconfirmed {
            return Err(CoreError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status
            )));
        }
        // The attribute the code verifies becomes a verified alias: it must be free (or be
        // taken over with ForceAliasCreation) before anything is written.
        let verifies = self
            .codes()
            .code(&pool.id, &user.username_key, Purpose::SignUp.as_str())
            .await?
            .and_then(|c| c.attribute);
        let confirm = |u: &mut UserRecord| {
            u.status = UserStatusType::Confirmed;
            if let Some(attr) = &verifies {
                u.attributes
                    .insert(format!("{attr}_verified"), "true".into());
            }
        };
        let mut candidate = user.clone();
        confirm(&mut candidate);
        let force = req.force_alias_creation == Some(true);
        self.check_aliases_free(&pool, &candidate, force, false)
            .await?;
        self.redeem_code(&user, Purpose::SignUp, &req.confirmation_code)
            .await?;
        let confirmed = self
            .write_user(&pool, &user.username, force, |u| {
                confirm(u);
                Ok(())
            })
            .await?;
        let call = Call {
            pool: &pool,
            trigger: Trigger::PostConfirmation,
            source: "PostConfirmation_ConfirmSignUp",
            user_name: &confirmed.username,
            client_id: Some(&client.client_id),
            caller: &Caller::default(),
        };
        self.post_confirmation_trigger(call, &confirmed, req.client_metadata.as_ref())
            .await?;
        Ok(ConfirmSignUpResponse { session: None })
    }

    pub async fn resend_confirmation_code(
        &self,
        caller: &Caller,
        req: ResendConfirmationCodeRequest,
    ) -> Result<ResendConfirmationCodeResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let user = match self.find_user(&pool, &req.username).await? {
            Some(u) => u,
            // With PreventUserExistenceErrors, an unknown user looks like a sent code.
            None if prevents_existence_errors(&client) => {
                return Ok(ResendConfirmationCodeResponse {
                    code_delivery_details: Some(decoy_delivery(&req.username)),
                })
            }
            None => return Err(unknown_user(&client)),
        };
        if user.status != UserStatusType::Unconfirmed {
            return Err(CoreError::InvalidParameter(
                "User is already confirmed.".into(),
            ));
        }
        let from = MessageContext::new("CustomMessage_ResendCode", Some(&client.client_id))
            .with_metadata(req.client_metadata.as_ref());
        let send =
            self.send_verification_code(&pool.pool, &user, Purpose::SignUp, SIGN_UP_CODE_TTL_MS);
        let details = messages_from(from, send).await?;
        if details.is_none() {
            return Err(CoreError::InvalidParameter(
                "Auto verification not turned on.".into(),
            ));
        }
        self.record_account_event(&pool, &user, EventType::Resendcode, true, caller)
            .await;
        Ok(ResendConfirmationCodeResponse {
            code_delivery_details: details,
        })
    }

    pub async fn admin_confirm_sign_up(
        &self,
        req: AdminConfirmSignUpRequest,
    ) -> Result<AdminConfirmSignUpResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        if user.status != UserStatusType::Unconfirmed {
            return Err(CoreError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status
            )));
        }
        let confirmed = self
            .modify_user(&pool, &user.username, |u| {
                u.status = UserStatusType::Confirmed;
                Ok(())
            })
            .await?;
        let call = Call {
            pool: &pool,
            trigger: Trigger::PostConfirmation,
            source: "PostConfirmation_ConfirmSignUp",
            user_name: &confirmed.username,
            client_id: None,
            caller: &Caller::default(),
        };
        self.post_confirmation_trigger(call, &confirmed, req.client_metadata.as_ref())
            .await?;
        Ok(AdminConfirmSignUpResponse {})
    }
}

/// PreSignUp's autoVerifyEmail / autoVerifyPhone: the attribute must be there to be verified.
/// Whether anything was verified.
fn verify_as_told(
    attributes: &mut BTreeMap<String, String>,
    answer: &PreSignUpAnswer,
) -> Result<bool> {
    let mut verified = false;
    for (told, attr) in [
        (answer.auto_verify_email, "email"),
        (answer.auto_verify_phone, "phone_number"),
    ] {
        if !told {
            continue;
        }
        if attributes.get(attr).is_none_or(|v| v.is_empty()) {
            return Err(CoreError::InvalidParameter(format!(
                "PreSignUp verified {attr}, which the user does not have."
            )));
        }
        attributes.insert(format!("{attr}_verified"), "true".into());
        verified = true;
    }
    Ok(verified)
}
