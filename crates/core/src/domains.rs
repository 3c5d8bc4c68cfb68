//! User pool domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain. A domain is where a pool's hosted pages and OAuth endpoints answer: a
//! prefix (`{prefix}.auth.{region}.amazoncognito.com` on AWS) or a custom domain with its
//! certificate. Behaviour and messages: docs/design/oauth-cognito-behaviour.md §1.

use gatehouse_wire::*;

use crate::{Core, CoreError, Result, StoreError};

/// Words Cognito refuses inside a prefix domain.
const RESERVED_WORDS: [&str; 3] = ["aws", "amazon", "cognito"];

fn no_such_domain() -> CoreError {
    CoreError::InvalidParameter("No such domain or user pool exists.".into())
}

/// A prefix domain's name: lowercase letters, digits and inner hyphens, no reserved word. The
/// model's pattern is not applied to custom domains (they have dots), so it is checked here.
fn check_prefix(domain: &str) -> Result<()> {
    let bytes = domain.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-';
    if !valid {
        return Err(CoreError::InvalidParameter(
            "The domain name contains an invalid character. Domain names can only contain lower-case letters, numbers, and hyphens. Please enter a different name that follows this format: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$".into(),
        ));
    }
    if let Some(word) = RESERVED_WORDS.iter().find(|w| domain.contains(*w)) {
        return Err(CoreError::InvalidParameter(format!(
            "Domain cannot contain reserved word: {word}"
        )));
    }
    Ok(())
}

/// A custom domain: a host name of dot-separated labels (it is served at `https://{domain}`).
fn check_custom(domain: &str) -> Result<()> {
    let valid = domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if valid {
        Ok(())
    } else {
        Err(CoreError::InvalidParameter(format!(
            "The custom domain {domain} is not a valid host name."
        )))
    }
}

/// `managed_login_version`: 1 (the classic hosted UI) unless 2 (managed login) is asked for.
fn login_version(v: Option<i32>) -> Result<i32> {
    match v.unwrap_or(1) {
        v @ (1 | 2) => Ok(v),
        v => Err(CoreError::InvalidParameter(format!(
            "ManagedLoginVersion {v} is not supported; use 1 (hosted UI) or 2 (managed login)."
        ))),
    }
}

/// A moment as Cognito stamps versions (a domain's, a UI customization's CSSVersion):
/// `yyyyMMddHHmmss`, UTC.
pub(crate) fn version_stamp(ms: i64) -> String {
    let now = time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

impl Core {
    pub async fn create_user_pool_domain(
        &self,
        req: CreateUserPoolDomainRequest,
    ) -> Result<CreateUserPoolDomainResponse> {
        match &req.custom_domain_config {
            Some(_) => check_custom(&req.domain)?,
            None => check_prefix(&req.domain)?,
        }
        let version = login_version(req.managed_login_version)?;
        let pool = self.pool(&req.user_pool_id).await?;
        // Cognito's Version of a domain is when it was made: yyyyMMddHHmmss.
        let description = DomainDescriptionType {
            user_pool_id: Some(pool.id.clone()),
            aws_account_id: Some(self.config.account_id.clone()),
            domain: Some(req.domain.clone()),
            status: Some(DomainStatusType::Active),
            custom_domain_config: req.custom_domain_config.clone(),
            managed_login_version: Some(version),
            routing: req.routing.clone(),
            version: Some(version_stamp(self.now_millis())),
            ..Default::default()
        };
        match self.pools().insert_domain(&description).await {
            // Which promise the store kept: the name is another pool's, or this pool has one.
            Err(StoreError::Conflict) => {
                return Err(CoreError::InvalidParameter(
                    match self.pools().domain(&req.domain).await? {
                        Some(d) if d.user_pool_id.as_deref() != Some(pool.id.as_str()) => {
                            "Domain already associated with another user pool."
                        }
                        _ => "User pool already has a domain configured.",
                    }
                    .into(),
                ))
            }
            other => other?,
        }
        tracing::info!(pool_id = %pool.id, domain = %req.domain, "user pool domain created");
        Ok(CreateUserPoolDomainResponse {
            cloud_front_domain: None,
            managed_login_version: Some(version),
            routing: req.routing,
        })
    }

    /// An unknown domain is described as nothing (an empty description), as Cognito does.
    pub async fn describe_user_pool_domain(
        &self,
        req: DescribeUserPoolDomainRequest,
    ) -> Result<DescribeUserPoolDomainResponse> {
        Ok(DescribeUserPoolDomainResponse {
            domain_description: Some(self.pools().domain(&req.domain).await?.unwrap_or_default()),
        })
    }

    /// Changes the managed login version and a custom domain's certificate; never the name.
    pub async fn update_user_pool_domain(
        &self,
        req: UpdateUserPoolDomainRequest,
    ) -> Result<UpdateUserPoolDomainResponse> {
        self.pool(&req.user_pool_id).await?;
        let mut d = match self.pools().domain(&req.domain).await? {
            Some(d) if d.user_pool_id.as_deref() == Some(req.user_pool_id.as_str()) => d,
            _ => return Err(no_such_domain()),
        };
        if let Some(v) = req.managed_login_version {
            d.managed_login_version = Some(login_version(Some(v))?);
        }
        if let Some(config) = req.custom_domain_config.clone() {
            if d.custom_domain_config.is_none() {
                return Err(CoreError::InvalidParameter(
                    "CustomDomainConfig can only be updated for a custom domain.".into(),
                ));
            }
            d.custom_domain_config = Some(config);
        }
        if req.routing.is_some() {
            d.routing = req.routing.clone();
        }
        if !self.pools().update_domain(&d).await? {
            return Err(no_such_domain());
        }
        Ok(UpdateUserPoolDomainResponse {
            cloud_front_domain: None,
            managed_login_version: d.managed_login_version,
            routing: d.routing,
        })
    }

    pub async fn delete_user_pool_domain(
        &self,
        req: DeleteUserPoolDomainRequest,
    ) -> Result<DeleteUserPoolDomainResponse> {
        self.pool(&req.user_pool_id).await?;
        if !self
            .pools()
            .delete_domain(&req.user_pool_id, &req.domain)
            .await?
        {
            return Err(no_such_domain());
        }
        tracing::info!(pool_id = %req.user_pool_id, domain = %req.domain, "user pool domain deleted");
        Ok(DeleteUserPoolDomainResponse {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_cognitos_pattern_and_reserved_words() {
        for ok in ["a", "my-app", "0day", "x".repeat(63).as_str()] {
            assert!(check_prefix(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            "My-App",
            "a.b",
            "a_b",
            "x".repeat(64).as_str(),
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
        let e = check_prefix("myaws-app").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Domain cannot contain reserved word: aws",
            "a reserved word inside a prefix"
        );
    }

    #[test]
    fn custom_domains_are_host_names() {
        assert!(check_custom("auth.example.com").is_ok());
        for bad in [
            "example",
            "auth..example.com",
            "-a.example.com",
            "Auth.Example.com",
        ] {
            assert!(check_custom(bad).is_err(), "{bad}");
        }
    }
}
