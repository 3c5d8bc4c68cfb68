//! NEW_PASSWORD_REQUIRED: a user created by an administrator (FORCE_CHANGE_PASSWORD) signs in
//! with the temporary password and must choose a new one, supplying any required attribute the
//! account lacks.

use std::collections::BTreeMap;

use gatehouse_wire::*;

use super::{expired_session, AuthStep, Params};
use crate::attributes::{check_required, check_writes};
use crate::store::{AppClientRecord, UserPoolRecord, UserRecord};
use crate::{passwords, Core, CoreError, Result};

const CHALLENGE: &str = "NEW_PASSWORD_REQUIRED";

/// Required attributes of the pool that the user has no value for.
fn missing_required(pool: &UserPoolType, user: &UserRecord) -> Vec<String> {
    pool.schema_attributes
        .iter()
        .flatten()
        .filter(|d| d.required == Some(true))
        .filter_map(|d| d.name.clone())
        .filter(|n| n != "sub" && user.attributes.get(n).is_none_or(|v| v.is_empty()))
        .collect()
}

impl Core {
    pub(super) fn new_password_challenge(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        user: &UserRecord,
    ) -> Result<AuthStep> {
        // amazon-cognito-identity-js parses both JSON strings unconditionally.
        let attributes: BTreeMap<&String, &String> = user
            .attributes
            .iter()
            .filter(|(k, _)| k.as_str() != "sub")
            .collect();
        let required: Vec<String> = missing_required(&pool.pool, user)
            .into_iter()
            .map(|n| format!("userAttributes.{n}"))
            .collect();
        let parameters = BTreeMap::from([
            ("USER_ID_FOR_SRP".to_string(), user.username.clone()),
            (
                "userAttributes".to_string(),
                serde_json::to_string(&attributes).expect("json"),
            ),
            (
                "requiredAttributes".to_string(),
                serde_json::to_string(&required).expect("json"),
            ),
        ]);
        Ok(AuthStep {
            challenge_name: Some(ChallengeNameType::NewPasswordRequired),
            session: Some(self.new_challenge_session(pool, client, user, CHALLENGE)),
            challenge_parameters: Some(parameters),
            user: Some(Box::new(user.clone())),
            ..Default::default()
        })
    }

    pub(super) async fn complete_new_password(
        &self,
        pool: &UserPoolRecord,
        client: &AppClientRecord,
        session: Option<&str>,
        responses: Params<'_>,
    ) -> Result<AuthStep> {
        let s = self.open_challenge_session(pool, client, session, CHALLENGE)?;
        let password = responses.required("NEW_PASSWORD")?;
        let user = self
            .users()
            .user(&pool.id, &s.username_key)
            .await?
            .ok_or_else(expired_session)?;
        if let Some(name) = responses.get("USERNAME") {
            let named = self.find_user(pool, name).await?;
            if named.is_none_or(|n| n.username_key != user.username_key) {
                return Err(expired_session());
            }
        }
        super::check_secret_hash_for(
            client,
            &[user.username.as_str(), user.sub.as_str()]
                .into_iter()
                .chain(responses.get("USERNAME"))
                .collect::<Vec<_>>(),
            responses.get("SECRET_HASH"),
        )?;
        if user.status != UserStatusType::ForceChangePassword || !Core::session_matches(&s, &user) {
            return Err(expired_session());
        }
        self.refuse_before_password(&user)?;
        // userAttributes.<name> answers; other keys (pycognito resends the whole earlier map)
        // are ignored.
        let given: Vec<AttributeType> = responses
            .0
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("userAttributes.").map(|name| AttributeType {
                    name: name.to_string(),
                    value: Some(v.clone()),
                })
            })
            .filter(|a| !matches!(a.name.as_str(), "email_verified" | "phone_number_verified"))
            .collect();
        let changes = check_writes(&pool.pool, &given, false)?;
        let mut merged = user.attributes.clone();
        merged.extend(changes.clone());
        check_required(&pool.pool, &merged)?;
        let policy = passwords::policy_of(&pool.pool);
        passwords::check_policy(&policy, password)?;
        // Single use: spent before the write; the checks inside the write cover races with
        // administrators changing the user.
        if !self.spend_challenge_session(&s).await? {
            return Err(expired_session());
        }
        let updated = self
            .modify_user(pool, &user.username, |u| {
                if u.status != UserStatusType::ForceChangePassword
                    || !u.enabled
                    || !Core::session_matches(&s, u)
                {
                    return Err(expired_session());
                }
                passwords::replace(self.entropy.as_ref(), &policy, u, password)?;
                u.attributes.extend(changes.clone());
                u.status = UserStatusType::Confirmed;
                u.temporary_password_expires_at = None;
                Ok(())
            })
            .await
            .map_err(|e| match e {
                CoreError::UserNotFound(_) => expired_session(),
                other => other,
            })?;
        self.second_factor_or_device(pool, client, &updated, None)
            .await
    }
}
