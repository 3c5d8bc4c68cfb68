//! What a signed-in user does with their access token: GetUser, UpdateUserAttributes,
//! DeleteUserAttributes, DeleteUser, ChangePassword, GetUserAttributeVerificationCode,
//! VerifyUserAttribute, SetUserSettings. Every one first passes the token checks of
//! [`Core::access_token`] (signature, expiry, `token_use`, revocation, user state).

use gatehouse_wire::*;

use crate::attributes::{check_deletable, to_wire};
use crate::codes::VERIFY_ATTRIBUTE_CODE_TTL_MS;
use crate::messages::Purpose;
use crate::tokens::AccessToken;
use crate::triggers::{messages_from, MessageContext};
use crate::{passwords, Caller, Core, CoreError, Result};

/// A user may write the client's WriteAttributes (all mutable ones when unset), never the
/// `_verified` flags unless the client lists them.
async fn check_client_may_write(core: &Core, token: &AccessToken, names: &[&str]) -> Result<()> {
    let client = core.pools().app_client(&token.client_id).await?;
    let allowed = client.and_then(|c| c.client.write_attributes);
    for name in names {
        let ok = match &allowed {
            Some(list) if !list.is_empty() => list.iter().any(|a| a == name),
            _ => !name.ends_with("_verified"),
        };
        if !ok {
            return Err(CoreError::NotAuthorized(
                "A client attempted to write unauthorized attribute".into(),
            ));
        }
    }
    Ok(())
}

impl Core {
    pub async fn get_user(&self, req: GetUserRequest) -> Result<GetUserResponse> {
        let t = self.access_token(&req.access_token).await?;
        let (enabled, preferred) = crate::mfa::user_mfa_settings(&t.user);
        Ok(GetUserResponse {
            username: t.user.username.clone(),
            user_attributes: to_wire(&t.user.attributes, None),
            mfa_options: (!t.user.mfa_options.is_empty()).then(|| t.user.mfa_options.clone()),
            preferred_mfa_setting: preferred,
            user_mfa_setting_list: enabled,
        })
    }

    pub async fn update_user_attributes(
        &self,
        req: UpdateUserAttributesRequest,
    ) -> Result<UpdateUserAttributesResponse> {
        let t = self.access_token(&req.access_token).await?;
        let names: Vec<&str> = req
            .user_attributes
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        check_client_may_write(self, &t, &names).await?;
        let from = MessageContext::new("CustomMessage_UpdateUserAttribute", Some(&t.client_id))
            .with_metadata(req.client_metadata.as_ref());
        let update = self.update_attributes(&t.pool, &t.user.username, &req.user_attributes);
        let sent = messages_from(from, update).await?;
        Ok(UpdateUserAttributesResponse {
            code_delivery_details_list: (!sent.is_empty()).then_some(sent),
        })
    }

    pub async fn delete_user_attributes(
        &self,
        req: DeleteUserAttributesRequest,
    ) -> Result<DeleteUserAttributesResponse> {
        let t = self.access_token(&req.access_token).await?;
        let names: Vec<&str> = req
            .user_attribute_names
            .iter()
            .map(String::as_str)
            .collect();
        check_client_may_write(self, &t, &names).await?;
        check_deletable(&t.pool.pool, &req.user_attribute_names)?;
        self.modify_user(&t.pool, &t.user.username, |u| {
            for name in &req.user_attribute_names {
                u.attributes.remove(name);
            }
            Ok(())
        })
        .await?;
        Ok(DeleteUserAttributesResponse {})
    }

    pub async fn delete_user(&self, req: DeleteUserRequest) -> Result<()> {
        let t = self.access_token(&req.access_token).await?;
        // Sessions, codes and memberships go with the user (the store cascades).
        self.users()
            .delete_user(&t.pool.id, &t.user.username_key)
            .await?;
        Ok(())
    }

    pub async fn change_password(
        &self,
        caller: &Caller,
        req: ChangePasswordRequest,
    ) -> Result<ChangePasswordResponse> {
        let mut t = self.access_token(&req.access_token).await?;
        self.check_lock(&t.user)?;
        self.take_attempt(&mut t.user).await?;
        let previous = req.previous_password.as_deref().unwrap_or_default();
        let right = self
            .password_is_right(&t.pool, &mut t.user, previous)
            .await?;
        if !right {
            self.record_account_event(&t.pool, &t.user, EventType::Passwordchange, false, caller)
                .await;
            return Err(CoreError::NotAuthorized(
                "Incorrect username or password.".into(),
            ));
        }
        self.attempt_succeeded(&mut t.user).await?;
        let policy = passwords::policy_of(&t.pool.pool);
        self.modify_user(&t.pool, &t.user.username, |u| {
            passwords::replace(self.entropy.as_ref(), &policy, u, &req.proposed_password)
        })
        .await?;
        self.record_account_event(&t.pool, &t.user, EventType::Passwordchange, true, caller)
            .await;
        Ok(ChangePasswordResponse {})
    }

    pub async fn get_user_attribute_verification_code(
        &self,
        req: GetUserAttributeVerificationCodeRequest,
    ) -> Result<GetUserAttributeVerificationCodeResponse> {
        let t = self.access_token(&req.access_token).await?;
        if !matches!(req.attribute_name.as_str(), "email" | "phone_number") {
            return Err(CoreError::InvalidParameter(format!(
                "Cannot verify attribute {}: only email and phone_number are verified by code.",
                req.attribute_name
            )));
        }
        let from = MessageContext::new("CustomMessage_VerifyUserAttribute", Some(&t.client_id))
            .with_metadata(req.client_metadata.as_ref());
        let send = self.send_code_to(
            &t.pool.pool,
            &t.user,
            &req.attribute_name,
            Purpose::VerifyAttribute,
            VERIFY_ATTRIBUTE_CODE_TTL_MS,
        );
        let sent = messages_from(from, send).await?.ok_or_else(|| {
            CoreError::InvalidParameter(format!(
                "The user has no {} to verify.",
                req.attribute_name
            ))
        })?;
        Ok(GetUserAttributeVerificationCodeResponse {
            code_delivery_details: Some(sent),
        })
    }

    pub async fn verify_user_attribute(
        &self,
        req: VerifyUserAttributeRequest,
    ) -> Result<VerifyUserAttributeResponse> {
        let t = self.access_token(&req.access_token).await?;
        let code = self
            .codes()
            .code(
                &t.pool.id,
                &t.user.username_key,
                Purpose::VerifyAttribute.as_str(),
            )
            .await?;
        if code.is_none_or(|c| c.attribute.as_deref() != Some(req.attribute_name.as_str())) {
            return Err(CoreError::CodeMismatch(
                "Invalid verification code provided, please try again.".into(),
            ));
        }
        // Verifying makes the value a usable alias: it must be free first.
        let flag = format!("{}_verified", req.attribute_name);
        let mut candidate = t.user.clone();
        candidate.attributes.insert(flag.clone(), "true".into());
        self.check_aliases_free(&t.pool, &candidate, false, false)
            .await?;
        self.redeem_code(&t.user, Purpose::VerifyAttribute, &req.code)
            .await?;
        self.modify_user(&t.pool, &t.user.username, |u| {
            u.attributes.insert(flag.clone(), "true".into());
            Ok(())
        })
        .await?;
        Ok(VerifyUserAttributeResponse {})
    }

    /// The legacy per-user SMS MFA setting (SetUserMFAPreference is the current one).
    pub async fn set_user_settings(
        &self,
        req: SetUserSettingsRequest,
    ) -> Result<SetUserSettingsResponse> {
        let t = self.access_token(&req.access_token).await?;
        crate::mfa::check_mfa_options(&req.mfa_options)?;
        self.set_mfa_options(&t.pool, &t.user.username, &req.mfa_options)
            .await?;
        Ok(SetUserSettingsResponse {})
    }
}
