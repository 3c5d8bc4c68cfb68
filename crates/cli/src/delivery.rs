//! Which courier carries messages, from the configuration: `delivery = "log"` (default),
//! `"smtp"` (email by SMTP; SMS by the webhook when one is configured, else the log) or
//! `"webhook"` (everything to the webhook). The outbox keeps every message whatever the choice.
//! Also the Lambda trigger client, from `lambda_endpoint` and the AWS credentials, and the
//! `[[lambda_function]]` tables (functions served at a signed URL instead).

use std::sync::Arc;

use async_trait::async_trait;
use gatehouse_core::messages::{Courier, DeliveryError, LogCourier, Medium, OutgoingMessage};
use gatehouse_core::triggers::{LambdaInvoker, NoLambdaEndpoint};
use gatehouse_delivery::{SmtpConfig, SmtpCourier, WebhookConfig, WebhookCourier};

/// Email one way, SMS another.
struct ByMedium {
    email: Arc<dyn Courier>,
    sms: Arc<dyn Courier>,
}

#[async_trait]
impl Courier for ByMedium {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        match m.medium {
            Medium::Email => self.email.deliver(m).await,
            Medium::Sms => self.sms.deliver(m).await,
        }
    }

    fn carries_text(&self, m: &OutgoingMessage) -> bool {
        match m.medium {
            Medium::Email => self.email.carries_text(m),
            Medium::Sms => self.sms.carries_text(m),
        }
    }
}

/// Counts deliveries and failures by medium for the metrics listener.
pub struct Counted(pub Arc<dyn Courier>);

#[async_trait]
impl Courier for Counted {
    async fn deliver(&self, m: &OutgoingMessage) -> Result<(), DeliveryError> {
        let medium = match m.medium {
            Medium::Email => "email",
            Medium::Sms => "sms",
        };
        let r = self.0.deliver(m).await;
        match &r {
            Ok(()) => metrics::counter!("gatehouse_messages_delivered_total", "medium" => medium)
                .increment(1),
            Err(_) => {
                metrics::counter!("gatehouse_message_delivery_failures_total", "medium" => medium)
                    .increment(1)
            }
        }
        r
    }
}

pub fn courier(
    kind: &str,
    smtp: Option<SmtpConfig>,
    webhook: Option<WebhookConfig>,
    dev: bool,
) -> Result<Arc<dyn Courier>, String> {
    let log: Arc<dyn Courier> = Arc::new(LogCourier { show_codes: dev });
    let webhook = webhook
        .map(|w| WebhookCourier::new(w).map(|c| Arc::new(c) as Arc<dyn Courier>))
        .transpose()
        .map_err(|e| format!("[webhook]: {e}"))?;
    match kind {
        "log" => Ok(log),
        "smtp" => {
            let smtp =
                smtp.ok_or("delivery = \"smtp\" needs an [smtp] table in the config file")?;
            let email = Arc::new(SmtpCourier::new(smtp).map_err(|e| format!("[smtp]: {e}"))?);
            Ok(Arc::new(ByMedium {
                email,
                sms: webhook.unwrap_or(log),
            }))
        }
        "webhook" => webhook.ok_or_else(|| {
            "delivery = \"webhook\" needs a [webhook] table in the config file".to_string()
        }),
        other => Err(format!("unknown delivery {other:?}: log, smtp or webhook")),
    }
}

/// What runs the pools' Lambda triggers: the functions of `functions` at their URLs, every
/// other one through the Lambda Invoke API at `endpoint` (see [`invoke_api`]), or, without an
/// endpoint, nowhere (core's `NoLambdaEndpoint`: the call fails). None when neither is
/// configured (core's default is that same `NoLambdaEndpoint`).
pub fn lambda(
    endpoint: Option<&str>,
    region: &str,
    functions: Vec<gatehouse_delivery::LambdaFunctionUrl>,
) -> Result<Option<Arc<dyn LambdaInvoker>>, String> {
    let other: Option<Arc<dyn LambdaInvoker>> =
        endpoint.map(|e| invoke_api(e, region)).transpose()?;
    if functions.is_empty() {
        return Ok(other);
    }
    let urls = gatehouse_delivery::LambdaUrlClient::new(
        gatehouse_delivery::LambdaUrlSettings::new(functions),
    )?;
    // ARNs only: the URLs may carry tokens in their query, and the secrets are never shown.
    tracing::info!(
        count = urls.functions().len(),
        functions = %urls.functions().join(", "),
        "Lambda triggers served at a signed URL"
    );
    let other = other.unwrap_or_else(|| Arc::new(NoLambdaEndpoint));
    Ok(Some(Arc::new(gatehouse_delivery::LambdaRouter::new(
        urls, other,
    ))))
}

/// The Lambda Invoke API client for `endpoint`, signing with the AWS credentials of the
/// environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) or of the
/// shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, else ~/.aws/credentials; profile
/// `AWS_PROFILE`, else `default`); unsigned without any.
fn invoke_api(endpoint: &str, region: &str) -> Result<Arc<dyn LambdaInvoker>, String> {
    let credentials = aws_credentials();
    tracing::info!(
        endpoint,
        signed = credentials.is_some(),
        "Lambda triggers are invoked through the Lambda Invoke API"
    );
    let client = gatehouse_delivery::LambdaClient::new(gatehouse_delivery::LambdaSettings {
        endpoint: endpoint.to_string(),
        credentials,
        region: region.to_string(),
        timeout: gatehouse_delivery::LAMBDA_TIMEOUT,
    })?;
    Ok(Arc::new(client))
}

fn aws_credentials() -> Option<gatehouse_delivery::LambdaCredentials> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let (Some(id), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        return Some(gatehouse_delivery::LambdaCredentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: env("AWS_SESSION_TOKEN"),
        });
    }
    let file = env("AWS_SHARED_CREDENTIALS_FILE")
        .map(std::path::PathBuf::from)
        .or_else(|| env("HOME").map(|h| std::path::Path::new(&h).join(".aws/credentials")))?;
    let text = std::fs::read_to_string(file).ok()?;
    profile_credentials(
        &text,
        &env("AWS_PROFILE").unwrap_or_else(|| "default".into()),
    )
}

/// One profile's keys from a shared-credentials file (INI: `[profile]`, `key = value`).
fn profile_credentials(text: &str, profile: &str) -> Option<gatehouse_delivery::LambdaCredentials> {
    let mut in_profile = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_profile = name.trim() == profile;
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !in_profile {
            continue;
        }
        let value = Some(value.trim().to_string());
        match key.trim() {
            "aws_access_key_id" => id = value,
            "aws_secret_access_key" => secret = value,
            "aws_session_token" => token = value,
            _ => {}
        }
    }
    Some(gatehouse_delivery::LambdaCredentials {
        access_key_id: id?,
        secret_access_key: secret?,
        session_token: token,
    })
}

#[cfg(test)]
mod lambda_tests {
    use super::profile_credentials;

    #[test]
    fn a_profiles_keys_are_read_from_the_shared_file() {
        let text = "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n\
                    [dev]\naws_access_key_id=AKIDDEV\naws_secret_access_key=s2\naws_session_token=t\n";
        let dev = profile_credentials(text, "dev").unwrap();
        assert_eq!(dev.access_key_id, "AKIDDEV");
        assert_eq!(dev.secret_access_key, "s2");
        assert_eq!(dev.session_token.as_deref(), Some("t"));
        assert_eq!(
            profile_credentials(text, "default").unwrap().access_key_id,
            "AKIDDEFAULT"
        );
        assert!(profile_credentials(text, "other").is_none());
    }
}
