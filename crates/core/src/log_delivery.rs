//! SetLogDeliveryConfiguration / GetLogDeliveryConfiguration: where a pool's logs would go, with
//! Cognito's routing rules (message-delivery errors, `userNotification`, at ERROR to CloudWatch
//! Logs; threat protection's sign-in events, `userAuthEvents`, at INFO to CloudWatch Logs, S3 or
//! Firehose, on the Plus plan). The configuration is stored and returned; Gatehouse holds no AWS
//! sink, so nothing is delivered to the ARNs yet. Cognito's behaviour, with the messages
//! measured on it: docs/design/remaining-operations-cognito-behaviour.md §4.

use gatehouse_wire::*;

use crate::{Core, CoreError, Result};

fn destinations(c: &LogConfigurationType) -> usize {
    usize::from(c.cloud_watch_logs_configuration.is_some())
        + usize::from(c.s3_configuration.is_some())
        + usize::from(c.firehose_configuration.is_some())
}

/// Cognito's two request checks, in one message: sources without a destination, then sources
/// given twice (its words, "then" included).
fn check_request(configs: &[LogConfigurationType]) -> Result<()> {
    let names = |v: Vec<&EventSourceName>| {
        v.iter()
            .map(|s| s.as_str().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bare: Vec<&EventSourceName> = configs
        .iter()
        .filter(|c| destinations(c) == 0)
        .map(|c| &c.event_source)
        .collect();
    let mut repeated: Vec<&EventSourceName> = Vec::new();
    for (i, c) in configs.iter().enumerate() {
        if configs[..i]
            .iter()
            .any(|o| o.event_source == c.event_source)
            && !repeated.contains(&&c.event_source)
        {
            repeated.push(&c.event_source);
        }
    }
    let mut clauses = Vec::new();
    if !bare.is_empty() {
        clauses.push(format!(
            "Following event sources in request have no destination: [{}].",
            names(bare)
        ));
    }
    if !repeated.is_empty() {
        clauses.push(format!(
            "Following event sources appear more then once in a request: [{}].",
            names(repeated)
        ));
    }
    if clauses.is_empty() {
        return Ok(());
    }
    Err(CoreError::InvalidParameter(format!(
        "Request validation Failed. {}",
        clauses.join(" ")
    )))
}

/// Each source's level and destinations.
fn check_routing(pool_tier: Option<&UserPoolTierType>, c: &LogConfigurationType) -> Result<()> {
    if destinations(c) > 1 {
        return Err(CoreError::InvalidParameter(format!(
            "Only one destination may be given for event source {}.",
            c.event_source
        )));
    }
    match c.event_source {
        EventSourceName::Usernotification => {
            if c.log_level != LogLevel::Error || c.cloud_watch_logs_configuration.is_none() {
                return Err(CoreError::InvalidParameter(
                    "Event source userNotification takes log level ERROR and a CloudWatch Logs destination."
                        .into(),
                ));
            }
        }
        _ => {
            if c.log_level != LogLevel::Info {
                return Err(CoreError::InvalidParameter(
                    "Event source userAuthEvents takes log level INFO.".into(),
                ));
            }
            if pool_tier != Some(&UserPoolTierType::Plus) {
                return Err(CoreError::FeatureUnavailableInTier(
                    "Exporting user authentication events requires the PLUS feature plan.".into(),
                ));
            }
        }
    }
    Ok(())
}

impl Core {
    /// Replaces the pool's whole configuration; an empty list clears it.
    pub async fn set_log_delivery_configuration(
        &self,
        req: SetLogDeliveryConfigurationRequest,
    ) -> Result<SetLogDeliveryConfigurationResponse> {
        check_request(&req.log_configurations)?;
        let pool = self.pool(&req.user_pool_id).await?;
        for c in &req.log_configurations {
            check_routing(pool.pool.user_pool_tier.as_ref(), c)?;
        }
        let config = LogDeliveryConfigurationType {
            user_pool_id: pool.id.clone(),
            log_configurations: req.log_configurations,
        };
        self.pools().put_log_delivery(&config).await?;
        Ok(SetLogDeliveryConfigurationResponse {
            log_delivery_configuration: Some(config),
        })
    }

    /// A pool never configured answers its id with an empty list.
    pub async fn get_log_delivery_configuration(
        &self,
        req: GetLogDeliveryConfigurationRequest,
    ) -> Result<GetLogDeliveryConfigurationResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let config =
            self.pools()
                .log_delivery(&pool.id)
                .await?
                .unwrap_or(LogDeliveryConfigurationType {
                    user_pool_id: pool.id.clone(),
                    log_configurations: Vec::new(),
                });
        Ok(GetLogDeliveryConfigurationResponse {
            log_delivery_configuration: Some(config),
        })
    }
}
