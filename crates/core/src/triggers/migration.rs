//! UserMigration's call; what is made of its answer is `user_migration.rs`.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{current_request, null_is_false, string_map, unrecognizable, Call, Trigger};
use crate::store::UserPoolRecord;
use crate::{Core, Result};

/// UserMigration's answer: the user to create, or nothing (no `userAttributes`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MigrationAnswer {
    #[serde(default)]
    pub user_attributes: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub final_user_status: Option<String>,
    #[serde(default, deserialize_with = "null_is_false")]
    pub force_alias_creation: bool,
    #[serde(default, rename = "enableSMSMFA", deserialize_with = "null_is_false")]
    pub enable_sms_mfa: bool,
    /// `SUPPRESS` or `RESEND`: read only so that another value is refused (no welcome message
    /// is sent either way: user_migration.rs).
    #[serde(default)]
    #[allow(dead_code)]
    pub message_action: Option<MessageAction>,
    #[serde(default)]
    #[allow(dead_code)]
    pub desired_delivery_mediums: Option<Vec<DeliveryMedium>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum MessageAction {
    Suppress,
    Resend,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub(crate) enum DeliveryMedium {
    Email,
    Sms,
}

impl Core {
    /// UserMigration (`UserMigration_Authentication` with the typed password,
    /// `UserMigration_ForgotPassword` without): the legacy store's answer for `typed`, a name no
    /// user of the pool has.
    pub(crate) async fn user_migration_trigger(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        typed: &str,
        password: Option<&str>,
        source: &'static str,
    ) -> Result<MigrationAnswer> {
        let told = current_request();
        let mut request = json!({ "validationData": string_map(told.validation_data.as_ref()) });
        if let Some(p) = password {
            request["password"] = json!(p);
        }
        if let Some(m) = &told.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let response = json!({
            "userAttributes": null,
            "finalUserStatus": null,
            "messageAction": null,
            "desiredDeliveryMediums": null,
            "forceAliasCreation": null,
            "enableSMSMFA": null,
        });
        let call = Call {
            pool,
            trigger: Trigger::UserMigration,
            source,
            user_name: typed,
            client_id: Some(client_id),
            caller: &told.caller,
        };
        match self.call_trigger(call, request, response).await? {
            None | Some(Value::Null) => Ok(MigrationAnswer::default()),
            Some(r) => serde_json::from_value(r).map_err(|_| unrecognizable()),
        }
    }
}
