//! An app client's OAuth settings (CreateUserPoolClient, UpdateUserPoolClient), checked as
//! Cognito checks them, in Cognito's order and words (docs/design/oauth-cognito-behaviour.md
//! §3.3).

use std::collections::HashSet;

use gatehouse_wire::OAuthFlowType;

use super::scopes::is_standard;
use crate::{CoreError, Result};

/// The OAuth members of a client request, borrowed.
pub(crate) struct OAuthSettings<'a> {
    pub pool_id: &'a str,
    pub enabled: bool,
    pub flows: &'a [OAuthFlowType],
    pub scopes: &'a [String],
    pub callback_urls: &'a [String],
    pub logout_urls: &'a [String],
    pub default_redirect_uri: Option<&'a str>,
    pub identity_providers: &'a [String],
    /// The names of the pool's identity providers (identity_providers.rs).
    pub known_providers: &'a HashSet<String>,
    pub has_secret: bool,
}

/// Checks `s`; `custom_scopes` holds the pool's resource-server scopes (`identifier/name`).
pub(crate) fn check(s: &OAuthSettings, custom_scopes: &HashSet<String>) -> Result<()> {
    if s.enabled && (s.flows.is_empty() || s.scopes.is_empty()) {
        return Err(CoreError::InvalidParameter(
            "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows.".into(),
        ));
    }
    // With OAuth off, a browser flow is stored without callback URLs (the endpoints refuse
    // the client anyway); client_credentials' own rules hold either way.
    let browser_flow = s
        .flows
        .iter()
        .any(|f| matches!(f, OAuthFlowType::Code | OAuthFlowType::Implicit));
    if s.enabled && browser_flow && s.callback_urls.is_empty() {
        return Err(CoreError::InvalidOAuthFlow(
            "CallbackUrls can not be empty when code flow or implicit flow is selected".into(),
        ));
    }
    if s.flows.contains(&OAuthFlowType::ClientCredentials) {
        if browser_flow {
            return Err(CoreError::InvalidOAuthFlow(
                "client_credentials flow can not be selected along with code flow or implicit flow.".into(),
            ));
        }
        if !s.has_secret {
            return Err(CoreError::InvalidOAuthFlow(
                "client_credentials flow can not be selected if client does not have a client secret.".into(),
            ));
        }
        if let Some(scope) = s.scopes.iter().find(|sc| is_standard(sc)) {
            return Err(CoreError::InvalidOAuthFlow(format!(
                "{scope} is not supported with client_credentials flow"
            )));
        }
    }
    if let Some(scope) = s
        .scopes
        .iter()
        .find(|sc| !is_standard(sc) && !custom_scopes.contains(sc.as_str()))
    {
        return Err(CoreError::ScopeDoesNotExist(format!(
            "Invalid scope requested: {scope}"
        )));
    }
    // COGNITO (local sign-in) or one of the pool's identity providers.
    if let Some(p) = s
        .identity_providers
        .iter()
        .find(|p| p.as_str() != "COGNITO" && !s.known_providers.contains(p.as_str()))
    {
        return Err(CoreError::InvalidParameter(format!(
            "The provider {p} does not exist for User Pool {}",
            s.pool_id
        )));
    }
    for url in s
        .callback_urls
        .iter()
        .map(String::as_str)
        .chain(s.default_redirect_uri)
    {
        check_redirect_url(url, "callback")?;
    }
    for url in s.logout_urls {
        check_redirect_url(url, "logout")?;
    }
    if let Some(uri) = s.default_redirect_uri {
        if !s.callback_urls.iter().any(|u| u == uri) {
            return Err(CoreError::InvalidParameter(
                "DefaultRedirectURI must be one of the CallbackURLs.".into(),
            ));
        }
    }
    Ok(())
}

/// Cognito's rules for callback and sign-out URLs: absolute, no fragment, HTTPS unless the host
/// is the local machine (custom schemes such as `myapp://cb` are allowed).
pub(crate) fn check_redirect_url(url: &str, kind: &str) -> Result<()> {
    let invalid =
        |why: &str| CoreError::InvalidParameter(format!("Invalid {kind} URL {url}: {why}."));
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(invalid("it must be an absolute URI"));
    };
    if scheme.is_empty()
        || !scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return Err(invalid("it must be an absolute URI"));
    }
    if url.contains('#') {
        return Err(invalid("it must not include a fragment"));
    }
    if scheme.eq_ignore_ascii_case("http") {
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6
                .split(']')
                .next()
                .map(|h| format!("[{h}]"))
                .unwrap_or_default(),
            None => authority
                .split(':')
                .next()
                .unwrap_or("")
                .to_ascii_lowercase(),
        };
        if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err(invalid("HTTPS is required except for localhost"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_urls() {
        for ok in [
            "https://app.example/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1/x",
            "http://[::1]:8080/",
            "myapp://cb",
        ] {
            assert!(check_redirect_url(ok, "callback").is_ok(), "{ok}");
        }
        for bad in [
            "http://app.example/cb",
            "https://app.example/cb#frag",
            "/relative/cb",
            "http://localhost.evil.com/",
        ] {
            assert!(check_redirect_url(bad, "callback").is_err(), "{bad}");
        }
    }

    static NO_PROVIDERS: std::sync::LazyLock<HashSet<String>> =
        std::sync::LazyLock::new(HashSet::new);

    fn settings<'a>(flows: &'a [OAuthFlowType], scopes: &'a [String]) -> OAuthSettings<'a> {
        OAuthSettings {
            pool_id: "p",
            enabled: true,
            flows,
            scopes,
            callback_urls: &[],
            logout_urls: &[],
            default_redirect_uri: None,
            identity_providers: &[],
            known_providers: &NO_PROVIDERS,
            has_secret: true,
        }
    }

    #[test]
    fn client_credentials_takes_only_custom_scopes_that_exist() {
        let custom: HashSet<String> = ["api/read".to_string()].into();
        let flows = [OAuthFlowType::ClientCredentials];
        let ok = ["api/read".to_string()];
        assert!(check(&settings(&flows, &ok), &custom).is_ok());
        let openid = ["api/read".to_string(), "openid".to_string()];
        match check(&settings(&flows, &openid), &custom) {
            Err(CoreError::InvalidOAuthFlow(m)) => {
                assert_eq!(m, "openid is not supported with client_credentials flow")
            }
            other => panic!("{other:?}"),
        }
        let gone = ["api/write".to_string()];
        match check(&settings(&flows, &gone), &custom) {
            Err(CoreError::ScopeDoesNotExist(m)) => {
                assert_eq!(m, "Invalid scope requested: api/write")
            }
            other => panic!("{other:?}"),
        }
        let mut no_secret = settings(&flows, &ok);
        no_secret.has_secret = false;
        assert!(matches!(
            check(&no_secret, &custom),
            Err(CoreError::InvalidOAuthFlow(_))
        ));
    }
}
