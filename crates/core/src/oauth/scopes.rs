//! OAuth scopes: Cognito's built-in ones and resource-server scopes (`identifier/name`).

use crate::{Core, Result};

pub const OPENID: &str = "openid";
/// Built-in scopes. `email`, `phone` and `profile` come only with `openid`.
pub const STANDARD: &[&str] = &[
    "phone",
    "email",
    OPENID,
    "profile",
    crate::tokens::API_SCOPE,
];

pub fn is_standard(scope: &str) -> bool {
    STANDARD.contains(&scope)
}

/// A space-separated `scope` parameter; None if it is malformed (empty items, a scope out of
/// the model's character set).
pub fn parse(param: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for s in param.split(' ') {
        if s.is_empty() {
            continue;
        }
        let ok = s.len() <= 256
            && s.bytes()
                .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
        if !ok {
            return None;
        }
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    }
    Some(out)
}

impl Core {
    /// `granted` without the resource-server scopes deleted since they were granted.
    pub(crate) async fn live_scopes(
        &self,
        pool_id: &str,
        granted: &[String],
    ) -> Result<Vec<String>> {
        if granted.iter().all(|s| is_standard(s)) {
            return Ok(granted.to_vec());
        }
        let custom = self.custom_scopes(pool_id).await?;
        Ok(granted
            .iter()
            .filter(|s| is_standard(s) || custom.contains(s.as_str()))
            .cloned()
            .collect())
    }
}
