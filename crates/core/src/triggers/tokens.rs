//! PreTokenGeneration (docs/triggers.md, "PreTokenGeneration"): the claims of tokens about to be
//! signed, as the pool's function edits them, with the claims Cognito protects kept.

use std::collections::BTreeMap;

use gatehouse_wire::{ChallengeNameType, GroupType};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{
    current_request, token_trigger_version, unrecognizable, user_attributes, Call, Trigger,
};
use crate::store::{UserPoolRecord, UserRecord};
use crate::{Core, Result};

/// Where tokens are minted, as PreTokenGeneration's trigger source names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    /// A sign-in through the API (which challenge ended it: [`sign_in_token_source`]).
    Authentication,
    NewPasswordChallenge,
    AuthenticateDevice,
    RefreshTokens,
    /// The OAuth endpoints: an authorization code redeemed, or the implicit grant.
    HostedAuth,
    /// Tokens no one receives (a hosted sign-in's, before its authorization code): no trigger.
    Unseen,
}

impl TokenSource {
    fn trigger_source(self) -> Option<&'static str> {
        Some(match self {
            TokenSource::Authentication => "TokenGeneration_Authentication",
            TokenSource::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            TokenSource::AuthenticateDevice => "TokenGeneration_AuthenticateDevice",
            TokenSource::RefreshTokens => "TokenGeneration_RefreshTokens",
            TokenSource::HostedAuth => "TokenGeneration_HostedAuth",
            TokenSource::Unseen => return None,
        })
    }
}

/// The source of the tokens that end the running sign-in request.
pub(crate) fn sign_in_token_source() -> TokenSource {
    let told = current_request();
    if told.hosted {
        return TokenSource::Unseen;
    }
    match told.challenge {
        Some(ChallengeNameType::NewPasswordRequired) => TokenSource::NewPasswordChallenge,
        Some(ChallengeNameType::DevicePasswordVerifier) => TokenSource::AuthenticateDevice,
        _ => TokenSource::Authentication,
    }
}

/// Claims no trigger may add, change or remove, in either token (Cognito's list); the groups
/// claims change only through `groupOverrideDetails`.
const PROTECTED: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
];
/// More that the access token keeps: who it is for, its scopes (changed through the scope
/// lists) and the device its refresh token is bound to.
const PROTECTED_ACCESS: &[&str] = &[
    "client_id",
    "scope",
    "username",
    "event_id",
    "version",
    "device_key",
];

/// A token's claims as PreTokenGeneration may change them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClaimsOverride {
    #[serde(default)]
    claims_to_add_or_override: Option<Map<String, Value>>,
    #[serde(default)]
    claims_to_suppress: Option<Vec<String>>,
    #[serde(default)]
    scopes_to_add: Option<Vec<String>>,
    #[serde(default)]
    scopes_to_suppress: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupOverride {
    #[serde(default)]
    groups_to_override: Option<Vec<String>>,
    #[serde(default)]
    iam_roles_to_override: Option<Vec<String>>,
    #[serde(default)]
    preferred_role: Option<String>,
}

/// Version 1's answer: the ID token's claims, and the groups of both tokens.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Answer {
    #[serde(default)]
    claims_override_details: Option<V1Override>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V1Override {
    #[serde(default)]
    claims_to_add_or_override: Option<BTreeMap<String, String>>,
    #[serde(default)]
    claims_to_suppress: Option<Vec<String>>,
    #[serde(default)]
    group_override_details: Option<GroupOverride>,
}

/// Versions 2 and 3: each token's claims, the access token's scopes, the groups.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Answer {
    #[serde(default)]
    claims_and_scope_override_details: Option<V2Override>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct V2Override {
    #[serde(default)]
    id_token_generation: Option<ClaimsOverride>,
    #[serde(default)]
    access_token_generation: Option<ClaimsOverride>,
    #[serde(default)]
    group_override_details: Option<GroupOverride>,
}

/// The claims of the two tokens about to be signed.
pub(crate) struct Claims<'a> {
    pub access: &'a mut Map<String, Value>,
    pub id: &'a mut Map<String, Value>,
}

impl Core {
    /// PreTokenGeneration: the pool's function may add, change and suppress claims, override
    /// the groups (and, from version 2, the access token's claims and scopes) of tokens about
    /// to be signed for `user`. Nothing it says touches the claims Cognito protects.
    pub(crate) async fn customise_tokens(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        user: &UserRecord,
        source: TokenSource,
        groups: &[GroupType],
        claims: Claims<'_>,
    ) -> Result<()> {
        let Some(trigger_source) = source.trigger_source() else {
            return Ok(());
        };
        if !Self::has_trigger(pool, Trigger::PreTokenGeneration) {
            return Ok(());
        }
        let told = current_request();
        let version = token_trigger_version(pool);
        let mut request = json!({
            "userAttributes": user_attributes(user),
            "groupConfiguration": group_configuration(groups),
        });
        if version >= 2 {
            let scopes: Vec<&str> = claims
                .access
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split_whitespace()
                .collect();
            request["scopes"] = json!(scopes);
        }
        if let Some(m) = &told.client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let response = if version >= 2 {
            json!({ "claimsAndScopeOverrideDetails": null })
        } else {
            json!({ "claimsOverrideDetails": null })
        };
        let call = Call {
            pool,
            trigger: Trigger::PreTokenGeneration,
            source: trigger_source,
            user_name: &user.username,
            client_id: Some(client_id),
            caller: &told.caller,
        };
        let Some(answer) = self.call_trigger(call, request, response).await? else {
            return Ok(());
        };
        if version >= 2 {
            let answer: V2Answer = serde_json::from_value(answer).map_err(|_| unrecognizable())?;
            let Some(o) = answer.claims_and_scope_override_details else {
                return Ok(());
            };
            if let Some(id) = &o.id_token_generation {
                apply_claims(claims.id, id, &[]);
            }
            if let Some(access) = &o.access_token_generation {
                apply_claims(claims.access, access, PROTECTED_ACCESS);
                apply_scopes(claims.access, access);
            }
            if let Some(g) = &o.group_override_details {
                apply_groups(claims.access, claims.id, g);
            }
        } else {
            let answer: V1Answer = serde_json::from_value(answer).map_err(|_| unrecognizable())?;
            let Some(o) = answer.claims_override_details else {
                return Ok(());
            };
            let id = ClaimsOverride {
                claims_to_add_or_override: o
                    .claims_to_add_or_override
                    .map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()),
                claims_to_suppress: o.claims_to_suppress,
                ..Default::default()
            };
            apply_claims(claims.id, &id, &[]);
            if let Some(g) = &o.group_override_details {
                apply_groups(claims.access, claims.id, g);
            }
        }
        Ok(())
    }
}

impl Core {
    /// PreTokenGeneration for a machine-to-machine token (`TokenGeneration_ClientCredentials`),
    /// called only when the pool's function is version 3, as on Cognito. There is no user:
    /// the event's `userName` is empty, `userAttributes` is `{}` and the groups are empty; its
    /// `clientMetadata` is the token request's `aws_client_metadata`. Only the access token's
    /// claims and scopes can change (there is no ID token, and no groups to override).
    pub(crate) async fn customise_client_token(
        &self,
        pool: &UserPoolRecord,
        client_id: &str,
        client_metadata: Option<&BTreeMap<String, String>>,
        access: &mut Map<String, Value>,
    ) -> Result<()> {
        if token_trigger_version(pool) < 3 || !Self::has_trigger(pool, Trigger::PreTokenGeneration)
        {
            return Ok(());
        }
        let scopes: Vec<&str> = access
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let mut request = json!({
            "userAttributes": {},
            "groupConfiguration": group_configuration(&[]),
            "scopes": scopes,
        });
        if let Some(m) = client_metadata {
            request["clientMetadata"] = json!(m);
        }
        let told = current_request();
        let call = Call {
            pool,
            trigger: Trigger::PreTokenGeneration,
            source: "TokenGeneration_ClientCredentials",
            user_name: "",
            client_id: Some(client_id),
            caller: &told.caller,
        };
        let response = json!({ "claimsAndScopeOverrideDetails": null });
        let Some(answer) = self.call_trigger(call, request, response).await? else {
            return Ok(());
        };
        let answer: V2Answer = serde_json::from_value(answer).map_err(|_| unrecognizable())?;
        if let Some(access_override) = answer
            .claims_and_scope_override_details
            .and_then(|o| o.access_token_generation)
        {
            apply_claims(access, &access_override, PROTECTED_ACCESS);
            apply_scopes(access, &access_override);
        }
        Ok(())
    }
}

/// The event's `groupConfiguration`: the user's groups, their roles, and the role of the group
/// with the lowest precedence.
fn group_configuration(groups: &[GroupType]) -> Value {
    let roles: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    let preferred = groups
        .iter()
        .filter(|g| g.role_arn.is_some())
        .min_by_key(|g| g.precedence.unwrap_or(i32::MAX))
        .and_then(|g| g.role_arn.clone());
    json!({
        "groupsToOverride": groups.iter().filter_map(|g| g.group_name.clone()).collect::<Vec<_>>(),
        "iamRolesToOverride": roles,
        "preferredRole": preferred,
    })
}

/// Whether a trigger may touch `name` in a token whose own protected claims are `more`.
fn changeable(name: &str, more: &[&str]) -> bool {
    !PROTECTED.contains(&name) && !more.contains(&name) && !name.starts_with("cognito:")
}

/// Adds, then suppresses (a claim both added and suppressed is suppressed, as on Cognito).
fn apply_claims(claims: &mut Map<String, Value>, o: &ClaimsOverride, more: &[&str]) {
    for (name, value) in o.claims_to_add_or_override.iter().flatten() {
        if changeable(name, more) {
            claims.insert(name.clone(), value.clone());
        }
    }
    for name in o.claims_to_suppress.iter().flatten() {
        if changeable(name, more) {
            claims.remove(name);
        }
    }
}

/// The access token's `scope`: scopes added, then suppressed.
fn apply_scopes(access: &mut Map<String, Value>, o: &ClaimsOverride) {
    if o.scopes_to_add.is_none() && o.scopes_to_suppress.is_none() {
        return;
    }
    let mut scopes: Vec<String> = access
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split_whitespace()
        .map(String::from)
        .collect();
    for s in o.scopes_to_add.iter().flatten() {
        if !s.is_empty() && !s.contains(char::is_whitespace) && !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    let suppressed = o.scopes_to_suppress.as_deref().unwrap_or_default();
    scopes.retain(|s| !suppressed.contains(s));
    access.insert("scope".into(), Value::String(scopes.join(" ")));
}

/// `groupOverrideDetails`: each list given replaces its claim (empty removes it).
fn apply_groups(access: &mut Map<String, Value>, id: &mut Map<String, Value>, g: &GroupOverride) {
    let set = |claims: &mut Map<String, Value>, name: &str, list: &Option<Vec<String>>| match list {
        Some(l) if l.is_empty() => {
            claims.remove(name);
        }
        Some(l) => {
            claims.insert(name.into(), json!(l));
        }
        None => {}
    };
    set(access, "cognito:groups", &g.groups_to_override);
    set(id, "cognito:groups", &g.groups_to_override);
    set(id, "cognito:roles", &g.iam_roles_to_override);
    if let Some(role) = &g.preferred_role {
        id.insert("cognito:preferred_role".into(), json!(role));
    }
}
