//! GET|POST /oauth2/userInfo: the user's claims for an access token that carries `openid`
//! (tokens from InitiateAuth do not), limited to what the client may read.

use serde_json::{json, Map, Value};

use super::{scopes::OPENID, OAuthError};
use crate::{Core, CoreError};

impl Core {
    pub async fn user_info(&self, bearer: Option<&str>) -> Result<Value, OAuthError> {
        let Some(token) = bearer.filter(|t| !t.is_empty()) else {
            return Err(OAuthError::new(
                "invalid_request",
                "Bad OAuth2 request at UserInfo Endpoint",
            ));
        };
        let t = match self.access_token_with_scope(token, OPENID).await {
            Ok(t) => t,
            Err(CoreError::NotAuthorized(m)) if m.contains("scopes") => {
                return Err(OAuthError::new(
                    "invalid_token",
                    "Access token does not contain openid scope",
                ))
            }
            Err(CoreError::NotAuthorized(_) | CoreError::UserNotFound(_)) => {
                return Err(OAuthError::new(
                    "invalid_token",
                    "Access token is expired, disabled, or deleted, or the user has globally signed out.",
                ))
            }
            Err(e) => return Err(OAuthError::internal(e)),
        };
        let client = self
            .client_record(&t.client_id)
            .await
            .map_err(OAuthError::internal)?;
        let readable = |name: &str| {
            client
                .as_ref()
                .and_then(|c| c.client.read_attributes.as_ref())
                .is_none_or(|r| r.is_empty() || r.iter().any(|a| a == name))
        };
        let mut claims = Map::new();
        for (name, value) in &t.user.attributes {
            if name != "sub" && readable(name) {
                claims.insert(name.clone(), json!(value));
            }
        }
        claims.insert("sub".into(), json!(t.user.sub));
        claims.insert("username".into(), json!(t.user.username));
        Ok(Value::Object(claims))
    }
}
