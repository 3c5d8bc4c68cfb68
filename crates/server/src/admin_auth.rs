//! Authentication of admin operations (everything the model does not mark `authtype: none`):
//! AWS Signature Version 4 against the configured access keys, and the small policy a key may
//! carry (some pools only, read-only). Development mode accepts any signature or none.

use std::collections::HashMap;
use std::time::SystemTime;

use axum::http::request::Parts;
use gatehouse_sigv4::{Credential, Request, Verifier};
use gatehouse_wire::{AdminScope, ApiError, Operation};

/// An access key pair and what it may do.
#[derive(Clone)]
pub struct AdminCredential {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Pools this key may act on; `None` for all (and for creating pools).
    pub pools: Option<Vec<String>>,
    pub read_only: bool,
}

impl std::fmt::Debug for AdminCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminCredential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field("pools", &self.pools)
            .field("read_only", &self.read_only)
            .finish()
    }
}

pub struct AdminAuth {
    dev: bool,
    verifier: Verifier,
    keys: HashMap<String, (Credential, AdminScope)>,
    /// The secrets again, for the console's sign-in form.
    secrets: HashMap<String, String>,
}

impl AdminAuth {
    pub fn new(dev: bool, credentials: Vec<AdminCredential>) -> Self {
        let secrets = credentials
            .iter()
            .map(|c| (c.access_key_id.clone(), c.secret_access_key.clone()))
            .collect();
        let keys = credentials
            .into_iter()
            .map(|c| {
                let scope = AdminScope {
                    access_key_id: c.access_key_id.clone(),
                    pools: c.pools,
                    read_only: c.read_only,
                };
                (
                    c.access_key_id,
                    (Credential::new(c.secret_access_key), scope),
                )
            })
            // Clients sign with whatever region they are configured for; the signature still
            // proves possession of the key.
            .collect();
        AdminAuth {
            dev,
            verifier: Verifier::any_region(),
            keys,
            secrets,
        }
    }

    /// The policy of `access_key_id` when `secret` is its secret (compared in constant time):
    /// the console's sign-in.
    pub fn check_secret(&self, access_key_id: &str, secret: &str) -> Option<AdminScope> {
        use subtle::ConstantTimeEq;
        let known = self.secrets.get(access_key_id)?;
        if bool::from(known.as_bytes().ct_eq(secret.as_bytes())) {
            self.scope(access_key_id)
        } else {
            None
        }
    }

    /// The policy of a configured key; `None` once the key is gone.
    pub fn scope(&self, access_key_id: &str) -> Option<AdminScope> {
        self.keys.get(access_key_id).map(|(_, s)| s.clone())
    }

    /// Checks the signature of an admin call. `Ok(None)` in development mode.
    pub fn authenticate(
        &self,
        parts: &Parts,
        body: &[u8],
        now: SystemTime,
    ) -> Result<Option<AdminScope>, ApiError> {
        if self.dev {
            return Ok(None);
        }
        let mut headers: Vec<(&str, &[u8])> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()))
            .collect();
        // HTTP/2 has no Host header: the client signed `:authority`, which arrives as the
        // URI's authority.
        if !parts.headers.contains_key("host") {
            if let Some(authority) = parts.uri.authority() {
                headers.push(("host", authority.as_str().as_bytes()));
            }
        }
        let request = Request {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body,
        };
        let result = self.verifier.begin(&request, now).and_then(|pending| {
            let entry = self.keys.get(pending.access_key_id());
            let verified = pending.finish(entry.map(|(c, _)| c))?;
            Ok((verified, entry.map(|(_, s)| s.clone())))
        });
        match result {
            Ok((_, scope)) => Ok(scope),
            Err(e) => {
                tracing::info!(error = e.exception_name(), "admin call refused");
                Err(ApiError::new(e.exception_name(), e.message().to_string()))
            }
        }
    }
}

/// The credential's policy: read-only keys may only describe, get and list; pool-scoped keys
/// may only touch their pools (ListUserPools is filtered to them instead).
pub fn authorize(
    scope: Option<&AdminScope>,
    op: Operation,
    pool_id: Option<&str>,
    pool_arn: impl Fn(&str) -> String,
) -> Result<(), ApiError> {
    let Some(scope) = scope else { return Ok(()) };
    let resource = pool_id.map(&pool_arn).unwrap_or_else(|| "*".to_string());
    let denied = || {
        ApiError::new(
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: cognito-idp:{} on resource: {resource}",
                scope.access_key_id,
                op.name()
            ),
        )
    };
    if scope.read_only && !op.is_read_only() {
        return Err(denied());
    }
    if let Some(pools) = &scope.pools {
        match pool_id {
            Some(p) if pools.iter().any(|x| x == p) => {}
            None if op == Operation::ListUserPools => {}
            _ => return Err(denied()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arn(id: &str) -> String {
        format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}")
    }

    #[test]
    fn policy() {
        let ro = AdminScope {
            access_key_id: "K".into(),
            pools: None,
            read_only: true,
        };
        assert!(authorize(Some(&ro), Operation::DescribeUserPool, Some("p"), arn).is_ok());
        let e = authorize(
            Some(&ro),
            Operation::DeleteUserPool,
            Some("us-east-1_a"),
            arn,
        )
        .unwrap_err();
        assert_eq!(e.code, "AccessDeniedException");
        assert!(
            e.message.contains("cognito-idp:DeleteUserPool")
                && e.message.contains("userpool/us-east-1_a")
        );
        let scoped = AdminScope {
            access_key_id: "K".into(),
            pools: Some(vec!["a".into()]),
            read_only: false,
        };
        assert!(authorize(Some(&scoped), Operation::UpdateUserPool, Some("a"), arn).is_ok());
        assert!(authorize(Some(&scoped), Operation::UpdateUserPool, Some("b"), arn).is_err());
        assert!(authorize(Some(&scoped), Operation::CreateUserPool, None, arn).is_err());
        assert!(authorize(Some(&scoped), Operation::ListUserPools, None, arn).is_ok());
        assert!(authorize(None, Operation::DeleteUserPool, Some("b"), arn).is_ok());
    }
}
