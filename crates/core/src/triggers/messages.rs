//! CustomMessage (docs/triggers.md, "Custom messages"): the wording of messages that carry a
//! code or a temporary password.

use std::collections::BTreeMap;
use std::future::Future;

use serde::Deserialize;
use serde_json::{json, Value};

use super::{current_request, unrecognizable, user_attributes, Call, Trigger};
use crate::store::UserRecord;
use crate::{Core, Result};

tokio::task_local! {
    /// Set around the sending of a code or temporary password: what CustomMessage is told.
    static MESSAGE: MessageContext;
}

/// Which operation a message with a code comes from, as CustomMessage's trigger source names
/// it, and that operation's app client and ClientMetadata.
#[derive(Clone)]
pub(crate) struct MessageContext {
    pub source: &'static str,
    pub client_id: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl MessageContext {
    pub(crate) fn new(source: &'static str, client_id: Option<&str>) -> Self {
        MessageContext {
            source,
            client_id: client_id.map(str::to_string),
            client_metadata: None,
        }
    }

    pub(crate) fn with_metadata(mut self, m: Option<&BTreeMap<String, String>>) -> Self {
        self.client_metadata = m.cloned();
        self
    }
}

/// Runs `f`, whose messages CustomMessage may word, as coming from `ctx`'s operation.
pub(crate) async fn messages_from<F: Future>(ctx: MessageContext, f: F) -> F::Output {
    MESSAGE.scope(ctx, f).await
}

/// The operation whose message is being sent, if it named itself ([`messages_from`]).
pub(crate) fn current_message_context() -> Option<MessageContext> {
    MESSAGE.try_with(Clone::clone).ok()
}

/// CustomMessage's wording (null: the pool's own).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CustomMessageAnswer {
    #[serde(default)]
    sms_message: Option<String>,
    #[serde(default)]
    email_message: Option<String>,
    #[serde(default)]
    email_subject: Option<String>,
}

impl Core {
    /// CustomMessage: the pool's function may word a message carrying a code (or a temporary
    /// password) its own way. It sees `{####}` (and, for an invitation, `{username}`), never the
    /// code; a body without them is ignored and the pool's own message goes instead, as on
    /// Cognito. Messages sent outside a [`messages_from`] scope are not offered.
    pub(crate) async fn custom_message(
        &self,
        user: &UserRecord,
        letter: &mut crate::codes::Letter<'_>,
    ) -> Result<()> {
        let Some(mut ctx) = current_message_context() else {
            return Ok(());
        };
        // A code sent while answering AdminRespondToAuthChallenge (an MFA code) carries that
        // request's ClientMetadata: Cognito documents CustomMessage among the triggers that
        // operation passes it to. RespondToAuthChallenge's and InitiateAuth's lists leave
        // CustomMessage out, and no sign-in operation's reaches the custom senders.
        let told = current_request();
        if ctx.client_metadata.is_none() && told.admin_answer {
            ctx.client_metadata = told.client_metadata;
        }
        let Some(code) = letter.code.clone() else {
            return Ok(());
        };
        let pool = self.pool(&user.pool_id).await?;
        if !Self::has_trigger(&pool, Trigger::CustomMessage) {
            return Ok(());
        }
        let invitation = ctx.source == "CustomMessage_AdminCreateUser";
        let mut request = json!({
            "userAttributes": user_attributes(user),
            "codeParameter": "{####}",
            "linkParameter": "{##Click Here##}",
            "usernameParameter": if invitation { Value::from("{username}") } else { Value::Null },
        });
        if let Some(m) = &ctx.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let response = json!({ "smsMessage": null, "emailMessage": null, "emailSubject": null });
        let caller = told.caller;
        let call = Call {
            pool: &pool,
            trigger: Trigger::CustomMessage,
            source: ctx.source,
            user_name: &user.username,
            client_id: ctx.client_id.as_deref(),
            caller: &caller,
        };
        let answer: CustomMessageAnswer = match self.call_trigger(call, request, response).await? {
            None | Some(Value::Null) => return Ok(()),
            Some(r) => serde_json::from_value(r).map_err(|_| unrecognizable())?,
        };
        let email = letter.medium == crate::messages::Medium::Email;
        let body = if email {
            answer.email_message
        } else {
            answer.sms_message
        };
        if let Some(body) =
            body.filter(|b| b.contains("{####}") && (!invitation || b.contains("{username}")))
        {
            let filled = body.replace("{####}", &code);
            letter.body = if invitation {
                filled.replace("{username}", &user.username)
            } else {
                filled
            };
        }
        if email {
            if let Some(subject) = answer.email_subject.filter(|s| !s.is_empty()) {
                letter.subject = Some(subject);
            }
        }
        Ok(())
    }
}
