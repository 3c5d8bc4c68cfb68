//! Secret material: zeroed on drop, never printed.

use std::collections::HashMap;
use std::fmt;
use std::hash::BuildHasher;
use zeroize::Zeroizing;

/// A secret access key or session token. `Debug` prints a placeholder; memory is zeroed on drop.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a secret string.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret itself. Call only to hand it to something that needs the raw value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(**redacted**)")
    }
}

/// What the server knows about one access key id.
#[derive(Clone, Debug)]
pub struct Credential {
    secret_access_key: Secret,
    session_token: Option<Secret>,
}

impl Credential {
    /// A long-term key: requests must not carry `X-Amz-Security-Token`.
    pub fn new(secret_access_key: impl Into<Secret>) -> Self {
        Self {
            secret_access_key: secret_access_key.into(),
            session_token: None,
        }
    }

    /// A temporary key: requests must carry exactly this `X-Amz-Security-Token`.
    pub fn with_session_token(mut self, token: impl Into<Secret>) -> Self {
        self.session_token = Some(token.into());
        self
    }

    pub(crate) fn secret_access_key(&self) -> &Secret {
        &self.secret_access_key
    }

    pub(crate) fn session_token(&self) -> Option<&Secret> {
        self.session_token.as_ref()
    }
}

/// Looks up the credential for an access key id. Closures `Fn(&str) -> Option<Credential>`
/// implement it; for an async store use [`Verifier::begin`](crate::Verifier::begin) and
/// [`Pending::finish`](crate::Pending::finish) instead.
pub trait CredentialStore {
    /// `None` when the access key id is unknown (answered as `UnrecognizedClientException`).
    fn credential(&self, access_key_id: &str) -> Option<Credential>;
}

impl<F> CredentialStore for F
where
    F: Fn(&str) -> Option<Credential>,
{
    fn credential(&self, access_key_id: &str) -> Option<Credential> {
        self(access_key_id)
    }
}

/// A fixed set of keys, e.g. from the server's configuration.
impl<H: BuildHasher> CredentialStore for HashMap<String, Credential, H> {
    fn credential(&self, access_key_id: &str) -> Option<Credential> {
        self.get(access_key_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let c =
            Credential::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").with_session_token("tok3n");
        let shown = format!("{c:?} {:?}", Secret::new("abc"));
        assert!(!shown.contains("EXAMPLEKEY"), "{shown}");
        assert!(!shown.contains("tok3n"), "{shown}");
        assert!(!shown.contains("abc"), "{shown}");
        assert!(shown.contains("redacted"));
    }
}
