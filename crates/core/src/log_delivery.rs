//! SetLogDeliveryConfiguration / GetLogDeliveryConfiguration: where a pool's logs go, with
//! Cognito's routing rules (message-delivery errors, `userNotification`, at ERROR to CloudWatch
//! Logs; threat protection's sign-in events, `userAuthEvents`, at INFO to CloudWatch Logs, S3 or
//! Firehose, on the Plus plan). Cognito's behaviour, with the messages measured on it:
//! docs/design/remaining-operations-cognito-behaviour.md §4.
//!
//! Gatehouse holds no AWS sink. With `--log-delivery-dir`, each sign-in event a pool routes is
//! appended as one JSON line to a file standing for its destination,
//! `DIR/<cloudwatch|s3|firehose>/<the ARN's last segment>.jsonl` (docs/deploy.md, "Sign-in
//! events a pool routes").

use gatehouse_wire::*;

use crate::store::{AuthEventRecord, UserPoolRecord};
use crate::{Core, CoreError, Result};

/// The file under the delivery directory that stands for a configuration's destination.
fn destination_file(c: &LogConfigurationType) -> Option<std::path::PathBuf> {
    let (kind, arn) = if let Some(d) = &c.cloud_watch_logs_configuration {
        ("cloudwatch", d.log_group_arn.clone()?)
    } else if let Some(d) = &c.s3_configuration {
        ("s3", d.bucket_arn.clone()?)
    } else if let Some(d) = &c.firehose_configuration {
        ("firehose", d.stream_arn.clone()?)
    } else {
        return None;
    };
    let last = arn.rsplit([':', '/']).find(|s| !s.is_empty())?;
    let name: String = last
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    (!name.starts_with('.')).then(|| std::path::Path::new(kind).join(format!("{name}.jsonl")))
}

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
    /// A sign-in event that ended (passed or failed), delivered where the pool routes
    /// `userAuthEvents`, when the server has a delivery directory. Delivery is best effort: a
    /// failure is logged, the sign-in goes on.
    pub(crate) async fn deliver_auth_event(&self, pool: &UserPoolRecord, event: &AuthEventRecord) {
        let Some(dir) = self.config.log_delivery_dir.clone() else {
            return;
        };
        if event.event.event_response == Some(EventResponseType::Inprogress) {
            return;
        }
        let routed = match self.pools().log_delivery(&pool.id).await {
            Ok(Some(c)) => c,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, pool_id = %pool.id, "reading the log delivery configuration failed");
                return;
            }
        };
        let files: Vec<std::path::PathBuf> = routed
            .log_configurations
            .iter()
            .filter(|c| c.event_source == EventSourceName::Userauthevents)
            .filter_map(destination_file)
            .map(|f| dir.join(f))
            .collect();
        if files.is_empty() {
            return;
        }
        let mut line = serde_json::json!({
            "eventSource": "userAuthEvents",
            "logLevel": "INFO",
            "userPoolId": pool.id,
            "username": event.username_key,
            "event": event.event,
        })
        .to_string();
        line.push('\n');
        let written = tokio::task::spawn_blocking(move || {
            use std::io::Write;
            for file in files {
                if let Some(parent) = file.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                // One write of the whole line to a file opened for appending: processes that
                // share the directory never interleave within a line.
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&file)?
                    .write_all(line.as_bytes())?;
            }
            Ok::<_, std::io::Error>(())
        })
        .await;
        if let Ok(Err(e)) | Err(e) = written.map_err(std::io::Error::other) {
            tracing::warn!(error = %e, pool_id = %pool.id, "delivering a sign-in event failed");
        }
    }

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
