//! GetDerivedToken: RFC 8693 token exchange. An app client that allows
//! `ALLOW_TOKEN_EXCHANGE_IMPERSONATION` trades a user's live access token of its pool for an
//! access token of its own, bound to one audience (a resource server of the pool) and scopes no
//! wider than the subject's; with an actor token (and `ALLOW_TOKEN_EXCHANGE_DELEGATION`) the
//! new token records the actor in `act`. The derived token is for resource servers: it never
//! carries `aws.cognito.signin.user.admin` (Cognito's own user operations refuse it), names the
//! subject's sign-in (`origin_jti`) and never outlives the subject token; an exchange needs the
//! subject's sign-in to be live.
//! The model is the only evidence of Cognito's behaviour (no documentation yet): ID-token and
//! SAML subjects, and ID tokens issued, are refused. Notes:
//! docs/design/remaining-operations-cognito-behaviour.md §7.

use gatehouse_wire::*;
use serde_json::{json, Value};

use crate::{Core, CoreError, Result};

fn unsupported(what: &str) -> CoreError {
    CoreError::InvalidParameter(format!("{what} is not supported by this server yet."))
}

impl Core {
    pub async fn get_derived_token(
        &self,
        req: GetDerivedTokenRequest,
    ) -> Result<GetDerivedTokenResponse> {
        let (client, pool) = self.client_and_pool(&req.client_id).await?;
        if crate::client_secrets::is_confidential(&client)
            && !req
                .client_secret
                .as_deref()
                .is_some_and(|s| crate::client_secrets::secret_matches(&client, s))
        {
            return Err(CoreError::NotAuthorized("Invalid client or secret".into()));
        }
        let delegation = req.actor_token.is_some();
        let needed = if delegation {
            ExplicitAuthFlowsType::AllowTokenExchangeDelegation
        } else {
            ExplicitAuthFlowsType::AllowTokenExchangeImpersonation
        };
        if !client
            .client
            .explicit_auth_flows
            .iter()
            .flatten()
            .any(|f| *f == needed)
        {
            return Err(CoreError::NotAuthorized(format!(
                "Token exchange is not enabled for this client ({needed})."
            )));
        }
        if req.subject_token_type != TokenTypeIdentifierType::AccessToken
            || req.subject_token_provider_name.is_some()
        {
            return Err(unsupported(
                "A subject token other than an access token of this pool",
            ));
        }
        if req
            .requested_token_type
            .as_ref()
            .is_some_and(|t| *t != IssuedTokenTypeIdentifierType::AccessToken)
        {
            return Err(unsupported("Issuing an ID token"));
        }
        let (subject, subject_claims) = self.checked_access_token(&req.subject_token, None).await?;
        if subject.pool.id != pool.id {
            return Err(CoreError::NotAuthorized(
                "The subject token is not of this client's user pool.".into(),
            ));
        }
        let actor = match &req.actor_token {
            None => None,
            Some(token) => {
                if req.actor_token_type.as_ref() != Some(&TokenTypeIdentifierType::AccessToken) {
                    return Err(unsupported("An actor token other than an access token"));
                }
                let (actor, _) = self.checked_access_token(token, None).await?;
                if actor.pool.id != pool.id {
                    return Err(CoreError::NotAuthorized(
                        "The actor token is not of this client's user pool.".into(),
                    ));
                }
                Some(actor)
            }
        };

        // The audience: one resource server of the pool (Audiences or Resources).
        let servers = self
            .pools()
            .list_resource_servers(&pool.id, None, 1000)
            .await?;
        let audience: Vec<String> = req
            .audiences
            .iter()
            .flatten()
            .chain(req.resources.iter().flatten())
            .cloned()
            .collect();
        for a in &audience {
            if !servers.iter().any(|s| s.identifier.as_deref() == Some(a)) {
                return Err(CoreError::InvalidParameter(format!(
                    "{a} is not a resource server of this user pool."
                )));
            }
        }

        // Scopes: the subject's, or fewer; never beyond the client's.
        let held: Vec<String> = subject_claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect();
        let allowed = client
            .client
            .allowed_oauth_scopes
            .clone()
            .unwrap_or_default();
        let scopes: Vec<String> = match &req.scopes {
            Some(asked) if !asked.is_empty() => {
                if let Some(s) = asked.iter().find(|s| !held.contains(s)) {
                    return Err(CoreError::InvalidParameter(format!(
                        "Scope {s} is not in the subject token."
                    )));
                }
                asked.clone()
            }
            _ => held.clone(),
        }
        .into_iter()
        // Cognito's own user operations are not the exchanged token's to call.
        .filter(|s| s != crate::tokens::API_SCOPE)
        .filter(|s| allowed.is_empty() || allowed.contains(s))
        .collect();

        let (ttl, _, _) = crate::tokens::lifetimes(&client.client);
        let now = self.now_millis() / 1000;
        let exp = (now + ttl).min(subject_claims.exp.unwrap_or(now + ttl));
        let mut claims = json!({
            "sub": subject.user.sub,
            "iss": self.issuer(&pool.id),
            "client_id": client.client_id,
            "origin_jti": subject.session.id,
            "token_use": "access",
            "auth_time": subject.session.auth_time,
            "exp": exp,
            "iat": now,
            "jti": crate::ids::uuid(self.entropy.as_ref()),
            "username": subject.user.username,
            "version": 2,
        });
        if let Value::Object(map) = &mut claims {
            if !scopes.is_empty() {
                map.insert("scope".into(), json!(scopes.join(" ")));
            }
            match audience.as_slice() {
                [] => {}
                [one] => {
                    map.insert("aud".into(), json!(one));
                }
                many => {
                    map.insert("aud".into(), json!(many));
                }
            }
            if let Some(actor) = &actor {
                map.insert(
                    "act".into(),
                    json!({ "sub": actor.user.sub, "client_id": actor.client_id }),
                );
            }
        }
        let token = self.sign_access_claims(&pool.id, &claims).await?;
        Ok(GetDerivedTokenResponse {
            issued_token: token,
            issued_token_type: IssuedTokenTypeIdentifierType::AccessToken,
            token_type: OAuthTokenTypeType::Bearer,
            expires_in: Some((exp - now).max(0) as i32),
            scopes: (!scopes.is_empty()).then_some(scopes),
        })
    }
}
