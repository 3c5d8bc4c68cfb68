//! GetProvisionedLimit / UpdateProvisionedLimit: the request rate (per second) of an API
//! category for the whole deployment, Cognito's per-account quota. Each category starts at
//! Cognito's default, may be raised (never lowered below it) where Cognito lets it be, up to
//! ten times the default here (Cognito's ceiling is the account's Service Quotas maximum:
//! ServiceQuotaExceededException beyond it). The values are stored and reported; Gatehouse's
//! throttles are `--rate-limit-per-ip` and `--rate-limit-per-client` (docs/deploy.md).
//! Cognito's behaviour: docs/design/remaining-operations-cognito-behaviour.md §5.

use gatehouse_wire::*;

use crate::{Core, CoreError, Result};

/// Cognito's categories: default requests per second, and whether it may be raised.
const CATEGORIES: &[(&str, i32, bool)] = &[
    ("UserAuthentication", 120, true),
    ("UserCreation", 50, true),
    ("UserFederation", 25, true),
    ("UserAccountRecovery", 30, false),
    ("UserRead", 120, true),
    ("UserUpdate", 25, false),
    ("UserResourceRead", 50, true),
    ("UserResourceUpdate", 25, false),
    ("UserList", 30, false),
    ("UserPoolRead", 15, false),
    ("UserPoolUpdate", 15, false),
    ("UserPoolResourceRead", 20, false),
    ("UserPoolResourceUpdate", 15, false),
    ("UserPoolClientRead", 15, false),
    ("UserPoolClientUpdate", 15, false),
    ("UserToken", 120, false),
];

/// How far above its default a category may be raised here.
const CEILING_FACTOR: i32 = 10;

/// The category a definition names: `API_CATEGORY` with exactly a `Category` attribute.
fn category(def: &LimitDefinitionType) -> Result<(&'static str, i32, bool)> {
    if def.limit_class != LimitClass::ApiCategory {
        return Err(CoreError::InvalidParameter(format!(
            "Unsupported limit class {}.",
            def.limit_class
        )));
    }
    let name = match (def.attributes.len(), def.attributes.get("Category")) {
        (1, Some(name)) => name,
        _ => {
            return Err(CoreError::InvalidParameter(
                "An API_CATEGORY limit is named by exactly one attribute, Category.".into(),
            ))
        }
    };
    CATEGORIES
        .iter()
        .find(|(c, _, _)| c == name)
        .copied()
        .ok_or_else(|| {
            CoreError::ResourceNotFound(format!("Limit category {name} does not exist."))
        })
}

fn setting_name(category: &str) -> String {
    format!("setting:provisioned_limit:{category}")
}

impl Core {
    async fn provisioned(&self, def: &LimitDefinitionType) -> Result<LimitType> {
        let (name, free, _) = category(def)?;
        let stored = self.store.deployment_setting(&setting_name(name)).await?;
        Ok(LimitType {
            limit_definition: def.clone(),
            provisioned_limit_value: stored.and_then(|v| v.parse().ok()).unwrap_or(free),
            free_limit_value: free,
        })
    }

    pub async fn get_provisioned_limit(
        &self,
        req: GetProvisionedLimitRequest,
    ) -> Result<GetProvisionedLimitResponse> {
        Ok(GetProvisionedLimitResponse {
            limit: self.provisioned(&req.limit_definition).await?,
        })
    }

    pub async fn update_provisioned_limit(
        &self,
        req: UpdateProvisionedLimitRequest,
    ) -> Result<UpdateProvisionedLimitResponse> {
        let (name, free, adjustable) = category(&req.limit_definition)?;
        let wanted = req.requested_limit_value;
        if !adjustable && wanted != free {
            return Err(CoreError::InvalidParameter(format!(
                "The {name} limit cannot be adjusted."
            )));
        }
        if wanted < free {
            return Err(CoreError::InvalidParameter(format!(
                "The {name} limit cannot be set below its default of {free}."
            )));
        }
        if wanted > free * CEILING_FACTOR {
            return Err(CoreError::ServiceQuotaExceeded(format!(
                "The {name} limit cannot exceed {}.",
                free * CEILING_FACTOR
            )));
        }
        self.store
            .put_deployment_setting(&setting_name(name), &wanted.to_string())
            .await?;
        Ok(UpdateProvisionedLimitResponse {
            limit: self.provisioned(&req.limit_definition).await?,
        })
    }
}
