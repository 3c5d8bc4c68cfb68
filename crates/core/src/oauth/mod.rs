//! OAuth 2.0 and OpenID Connect, as Cognito's managed login serves them: the app client's OAuth
//! settings, the authorization request, codes, the token endpoint's grants, userInfo, logout
//! and revocation. Behaviour and messages: docs/design/oauth-cognito-behaviour.md; user guide:
//! docs/managed-login.md.
//!
//! | concept | module |
//! | --- | --- |
//! | an app client's OAuth settings (CreateUserPoolClient, UpdateUserPoolClient) | [`client_settings`] |
//! | scopes: built-in and resource-server scopes | [`scopes`] |
//! | GET /oauth2/authorize: the request's checks; codes and implicit tokens it ends with | [`authorize`] |
//! | POST /oauth2/token: client authentication and the three grants | [`token`] |
//! | /oauth2/userInfo, /oauth2/revoke, /logout | [`userinfo`], [`token`], [`logout`] |
//! | the hosted pages' sign-in, and browsers remembered as devices | [`hosted_sign_in`] |
//! | the hosted-login session: signed in once, every client of the pool for an hour; `prompt`, `max_age` | [`hosted_session`] |

pub mod authorize;
pub(crate) mod client_settings;
pub mod hosted_session;
pub mod hosted_sign_in;
pub mod logout;
pub mod scopes;
pub mod token;
pub mod userinfo;

use crate::CoreError;

/// An OAuth error for the back-channel endpoints: the `error` code, a description, and the
/// HTTP status (400, or 401 for client authentication and bad bearer tokens).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    pub error: &'static str,
    pub description: Option<String>,
    pub status: u16,
}

impl OAuthError {
    pub fn new(error: &'static str, description: impl Into<String>) -> Self {
        let status = match error {
            "invalid_client" | "invalid_token" => 401,
            "server_error" => 500,
            _ => 400,
        };
        OAuthError {
            error,
            description: Some(description.into()),
            status,
        }
    }

    /// A store or other internal failure: logged by the caller, shown as `server_error`.
    pub fn internal(e: CoreError) -> Self {
        // A Lambda trigger's refusal is the app's answer, said as Cognito says it.
        if let CoreError::UserLambdaValidation(m)
        | CoreError::UnexpectedLambda(m)
        | CoreError::InvalidLambdaResponse(m) = &e
        {
            return OAuthError::new("invalid_request", m.clone());
        }
        tracing::error!(error = %e, "OAuth request failed");
        OAuthError {
            error: "server_error",
            description: None,
            status: 500,
        }
    }
}

/// Base64url SHA-256 of a PKCE `code_verifier`: what S256 compares with the challenge.
pub(crate) fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// What the store keeps of an authorization code: its SHA-256, hex.
pub(crate) fn code_hash(code: &str) -> String {
    use sha2::Digest;
    crate::ids::hex(&sha2::Sha256::digest(code.as_bytes()))
}
