//! Configuration: flags, then `GATEHOUSE_*` environment variables, then a TOML file given with
//! `--config`, then defaults.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::Args;
use gatehouse_server::AdminCredential;
use serde::Deserialize;

#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// TOML file with any of the settings below (keys as the flags, with underscores).
    #[arg(long, env = "GATEHOUSE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:9229].
    #[arg(long, env = "GATEHOUSE_LISTEN", global = true)]
    pub listen: Option<String>,
    /// Directory for the embedded SQLite database and the generated admin credentials
    /// [default: ./gatehouse-data].
    #[arg(long, env = "GATEHOUSE_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL, overriding --data-dir for the database: sqlite:PATH, or
    /// postgres://USER:PASSWORD@HOST/DB (TLS with ?sslmode=require or verify-full).
    #[arg(
        long,
        env = "GATEHOUSE_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// PostgreSQL: connections this process keeps to the database at most [default: 10].
    #[arg(long, env = "GATEHOUSE_DATABASE_MAX_CONNECTIONS", global = true)]
    pub database_max_connections: Option<u32>,
    /// PostgreSQL: milliseconds a statement may run before it is cancelled, and a request may
    /// wait for a free connection [default: 5000].
    #[arg(long, env = "GATEHOUSE_DATABASE_STATEMENT_TIMEOUT_MS", global = true)]
    pub database_statement_timeout_ms: Option<u64>,
    /// Base URL for token issuers and well-known documents [default: http://<listen>].
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// Region used in pool ids and ARNs [default: us-east-1].
    #[arg(long, env = "GATEHOUSE_REGION", global = true)]
    pub region: Option<String>,
    /// Account id used in ARNs [default: 000000000000].
    #[arg(long, env = "GATEHOUSE_ACCOUNT_ID", global = true)]
    pub account_id: Option<String>,
    /// Development mode: admin calls accepted unsigned or with any credentials, and
    /// /_gatehouse/reset enabled; never expose such a server.
    #[arg(long, env = "GATEHOUSE_DEV", global = true)]
    pub dev: bool,
    /// Requests per second per client address on sign-in, sign-up, recovery and confirmation
    /// (bursts of twice that; 0 = off) [default: 100, or 0 with --dev].
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_PER_IP", global = true)]
    pub rate_limit_per_ip: Option<u32>,
    /// The same per app client [default: 1000, or 0 with --dev].
    #[arg(long, env = "GATEHOUSE_RATE_LIMIT_PER_CLIENT", global = true)]
    pub rate_limit_per_client: Option<u32>,
    /// A proxy whose X-Forwarded-For is believed (repeat the flag, or comma-separate).
    #[arg(
        long = "trusted-proxy",
        env = "GATEHOUSE_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<IpAddr>,
    /// Access key id of an admin credential (with GATEHOUSE_SECRET_ACCESS_KEY).
    #[arg(long, env = "GATEHOUSE_ACCESS_KEY_ID", global = true)]
    pub access_key_id: Option<String>,
    /// Its secret; prefer the environment variable, which stays out of process listings.
    #[arg(
        long,
        env = "GATEHOUSE_SECRET_ACCESS_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_access_key: Option<String>,
    /// The server key (32 bytes, base64) sealing sign-in state and signing keys; the same for
    /// every process sharing a database [default: <data-dir>/server.key, generated].
    #[arg(
        long,
        env = "GATEHOUSE_SERVER_KEY",
        global = true,
        hide_env_values = true
    )]
    pub server_key: Option<String>,
    /// How codes and invitations leave: log, smtp or webhook (configured in the TOML file's
    /// [smtp] / [webhook] tables) [default: log].
    #[arg(long, env = "GATEHOUSE_DELIVERY", global = true)]
    pub delivery: Option<String>,
    /// Days outbox messages are kept before they are pruned [default: 7].
    #[arg(long, env = "GATEHOUSE_OUTBOX_RETENTION_DAYS", global = true)]
    pub outbox_retention_days: Option<u32>,
    /// Days sign-in events (AdminListUserAuthEvents) are kept before they are pruned
    /// [default: 90].
    #[arg(long, env = "GATEHOUSE_AUTH_EVENT_RETENTION_DAYS", global = true)]
    pub auth_event_retention_days: Option<u32>,
    /// Write the sign-in events pools route with SetLogDeliveryConfiguration to files here, one
    /// JSON line per event in DIR/<cloudwatch|s3|firehose>/<name>.jsonl [default: off].
    #[arg(long, env = "GATEHOUSE_LOG_DELIVERY_DIR", global = true)]
    pub log_delivery_dir: Option<std::path::PathBuf>,
    /// Serve Prometheus metrics (GET /metrics) on this address [default: off].
    #[arg(long, env = "GATEHOUSE_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<String>,
    /// The Lambda Invoke API that runs the pools' Lambda triggers (`sam local start-lambda`,
    /// LocalStack, ...), e.g. http://127.0.0.1:3001; calls are signed with the AWS credentials of
    /// the environment or ~/.aws/credentials [default: none: a pool naming a trigger fails the
    /// operations that call it].
    #[arg(long, env = "GATEHOUSE_LAMBDA_ENDPOINT", global = true)]
    pub lambda_endpoint: Option<String>,
    /// Seconds a client may take to send a request's headers [default: 10].
    #[arg(long, env = "GATEHOUSE_HEADER_READ_TIMEOUT", global = true)]
    pub header_read_timeout: Option<u64>,
    /// Seconds after which a connection without a request in flight is closed [default: 60].
    #[arg(long, env = "GATEHOUSE_IDLE_TIMEOUT", global = true)]
    pub idle_timeout: Option<u64>,
    /// Seconds in-flight requests get after SIGTERM / Ctrl-C before the process exits anyway
    /// [default: 10].
    #[arg(long, env = "GATEHOUSE_SHUTDOWN_TIMEOUT", global = true)]
    pub shutdown_timeout: Option<u64>,
    /// Connections served at once; more wait to be accepted [default: 1024].
    #[arg(long, env = "GATEHOUSE_MAX_CONNECTIONS", global = true)]
    pub max_connections: Option<usize>,
}

/// An admin credential in the config file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCredential {
    access_key_id: String,
    secret_access_key: String,
    /// Pool ids this credential may act on (all when absent).
    pools: Option<Vec<String>>,
    #[serde(default)]
    read_only: bool,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    database_max_connections: Option<u32>,
    database_statement_timeout_ms: Option<u64>,
    public_url: Option<String>,
    region: Option<String>,
    account_id: Option<String>,
    dev: Option<bool>,
    rate_limit_per_ip: Option<u32>,
    rate_limit_per_client: Option<u32>,
    trusted_proxies: Option<Vec<IpAddr>>,
    #[serde(default)]
    credentials: Vec<FileCredential>,
    delivery: Option<String>,
    server_key: Option<String>,
    smtp: Option<gatehouse_delivery::SmtpConfig>,
    webhook: Option<gatehouse_delivery::WebhookConfig>,
    outbox_retention_days: Option<u32>,
    auth_event_retention_days: Option<u32>,
    log_delivery_dir: Option<std::path::PathBuf>,
    metrics_listen: Option<String>,
    lambda_endpoint: Option<String>,
    /// Trigger functions served at a plain URL (file only: each has a secret).
    #[serde(default)]
    lambda_function: Vec<gatehouse_delivery::LambdaFunctionUrl>,
    header_read_timeout: Option<u64>,
    idle_timeout: Option<u64>,
    shutdown_timeout: Option<u64>,
    max_connections: Option<usize>,
}

/// The settings in force.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    /// The PostgreSQL pool's bounds.
    pub database: gatehouse_store::OpenOptions,
    pub public_url: String,
    pub region: String,
    pub account_id: String,
    pub dev: bool,
    pub rate_limit_per_ip: u32,
    pub rate_limit_per_client: u32,
    pub trusted_proxies: Vec<IpAddr>,
    /// Configured admin credentials; empty means "use the data dir's credentials file".
    pub credentials: Vec<AdminCredential>,
    /// How messages leave: log, smtp or webhook.
    pub delivery: String,
    /// Base64 server key from config; None: the data dir's file.
    pub server_key: Option<String>,
    pub smtp: Option<gatehouse_delivery::SmtpConfig>,
    pub webhook: Option<gatehouse_delivery::WebhookConfig>,
    /// Days outbox messages are kept.
    pub outbox_retention_days: u32,
    /// Days sign-in events are kept.
    pub auth_event_retention_days: u32,
    /// Where routed sign-in events are written; None: nowhere.
    pub log_delivery_dir: Option<std::path::PathBuf>,
    /// Where Prometheus metrics are served; None: nowhere.
    pub metrics_listen: Option<String>,
    /// The Lambda Invoke API of the pools' triggers; None: none.
    pub lambda_endpoint: Option<String>,
    /// The `[[lambda_function]]` tables: trigger functions served at a signed URL instead
    /// (checked when the server starts; `Debug` hides their secrets).
    pub lambda_functions: Vec<gatehouse_delivery::LambdaFunctionUrl>,
    pub limits: gatehouse_server::ConnectionLimits,
}

impl Settings {
    pub fn resolve(a: ServeArgs) -> Result<Settings, String> {
        let file: FileConfig = match &a.config {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                toml::from_str(&text).map_err(|e| config_error(p, &text, &e))?
            }
            None => FileConfig::default(),
        };
        let listen = a
            .listen
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:9229".into());
        let region = a
            .region
            .or(file.region)
            .unwrap_or_else(|| "us-east-1".into());
        if region.is_empty()
            || !region
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(format!(
                "invalid region {region:?}: letters, digits and '-' only"
            ));
        }
        let account_id = a
            .account_id
            .or(file.account_id)
            .unwrap_or_else(|| "000000000000".into());
        if account_id.len() != 12 || !account_id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("invalid account id {account_id:?}: 12 digits"));
        }
        let data_dir = a
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("gatehouse-data"));
        create_private_dir(&data_dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", data_dir.display()))?;
        let database_url = a
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| gatehouse_store::sqlite_url_for_dir(&data_dir));
        let database = {
            let d = gatehouse_store::OpenOptions::default();
            let max_connections = a
                .database_max_connections
                .or(file.database_max_connections)
                .unwrap_or(d.max_connections);
            let statement_timeout = a
                .database_statement_timeout_ms
                .or(file.database_statement_timeout_ms)
                .map_or(d.statement_timeout, std::time::Duration::from_millis);
            if max_connections == 0 {
                return Err("database max connections must be at least 1".into());
            }
            if statement_timeout.is_zero() {
                return Err("database statement timeout must be at least 1 ms".into());
            }
            gatehouse_store::OpenOptions {
                max_connections,
                statement_timeout,
            }
        };
        let public_url = a
            .public_url
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"))
            .trim_end_matches('/')
            .to_string();
        let dev = a.dev || file.dev.unwrap_or(false);
        let mut credentials: Vec<AdminCredential> = file
            .credentials
            .into_iter()
            .map(|c| AdminCredential {
                access_key_id: c.access_key_id,
                secret_access_key: c.secret_access_key,
                pools: c.pools,
                read_only: c.read_only,
            })
            .collect();
        match (a.access_key_id, a.secret_access_key) {
            (Some(k), Some(s)) => credentials.push(AdminCredential {
                access_key_id: k,
                secret_access_key: s,
                pools: None,
                read_only: false,
            }),
            (None, None) => {}
            _ => {
                return Err(
                    "GATEHOUSE_ACCESS_KEY_ID and GATEHOUSE_SECRET_ACCESS_KEY go together".into(),
                )
            }
        }
        // Benchmarks and test suites run from one address: development mode has no limits.
        let (ip_default, client_default) = if dev { (0, 0) } else { (100, 1000) };
        Ok(Settings {
            listen,
            data_dir,
            database_url,
            database,
            public_url,
            region,
            account_id,
            dev,
            rate_limit_per_ip: a
                .rate_limit_per_ip
                .or(file.rate_limit_per_ip)
                .unwrap_or(ip_default),
            rate_limit_per_client: a
                .rate_limit_per_client
                .or(file.rate_limit_per_client)
                .unwrap_or(client_default),
            trusted_proxies: if a.trusted_proxies.is_empty() {
                file.trusted_proxies.unwrap_or_default()
            } else {
                a.trusted_proxies
            },
            credentials,
            delivery: a.delivery.or(file.delivery).unwrap_or_else(|| "log".into()),
            server_key: a.server_key.or(file.server_key),
            smtp: file.smtp,
            webhook: file.webhook,
            outbox_retention_days: a
                .outbox_retention_days
                .or(file.outbox_retention_days)
                .unwrap_or(7),
            auth_event_retention_days: a
                .auth_event_retention_days
                .or(file.auth_event_retention_days)
                .unwrap_or(90),
            metrics_listen: a.metrics_listen.or(file.metrics_listen),
            lambda_endpoint: a.lambda_endpoint.or(file.lambda_endpoint),
            log_delivery_dir: a.log_delivery_dir.or(file.log_delivery_dir),
            lambda_functions: file.lambda_function,
            limits: {
                let d = gatehouse_server::ConnectionLimits::default();
                let secs = std::time::Duration::from_secs;
                gatehouse_server::ConnectionLimits {
                    header_read_timeout: a
                        .header_read_timeout
                        .or(file.header_read_timeout)
                        .map_or(d.header_read_timeout, secs),
                    idle_timeout: a
                        .idle_timeout
                        .or(file.idle_timeout)
                        .map_or(d.idle_timeout, secs),
                    shutdown_timeout: a
                        .shutdown_timeout
                        .or(file.shutdown_timeout)
                        .map_or(d.shutdown_timeout, secs),
                    max_connections: a
                        .max_connections
                        .or(file.max_connections)
                        .unwrap_or(d.max_connections),
                }
            },
        })
    }

    /// The database location without its password, for logs.
    pub fn database_display(&self) -> String {
        gatehouse_store::redact_url(&self.database_url)
    }
}

/// A config file's error in one line, by line number: toml's own text quotes the offending line,
/// which may hold a secret (a misspelt key next to its value).
fn config_error(path: &std::path::Path, text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = &text.as_bytes()[..span.start.min(text.len())];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            format!("invalid config {}, line {line}: {message}", path.display())
        }
        None => format!("invalid config {}: {message}", path.display()),
    }
}

/// The data directory, owner-only (0700) when it is created here; a directory the operator made
/// keeps its mode (the files inside are created 0600 whatever it is).
fn create_private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// GET {base}/health over a plain TCP connection (no HTTP client dependency for one request).
pub async fn probe_health(base: &str) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = base
        .strip_prefix("http://")
        .ok_or("only http:// URLs are supported")?;
    let (hostport, prefix) = match rest.split_once('/') {
        Some((h, p)) => (h, format!("/{}", p.trim_end_matches('/'))),
        None => (rest, String::new()),
    };
    let hostport = hostport.to_string();
    let fut = async move {
        let mut s = tokio::net::TcpStream::connect(&hostport)
            .await
            .map_err(|e| e.to_string())?;
        let req = format!(
            "GET {prefix}/health HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&buf).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        if head.starts_with("HTTP/1.1 200") {
            Ok(body.trim().to_string())
        } else {
            Err(format!("answered {}", head.lines().next().unwrap_or("")))
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), fut)
        .await
        .map_err(|_| "timed out".to_string())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_functions_are_read_from_the_file_and_errors_never_quote_it() {
        let text =
            "[[lambda_function]]\narn = \"arn:aws:lambda:us-east-1:123456789012:function:f\"\n\
                    url = \"https://hooks.example.com/f\"\nsecret = \"topsecret\"\n";
        let file: FileConfig = toml::from_str(text).unwrap();
        assert_eq!(file.lambda_function.len(), 1);
        assert_eq!(file.lambda_function[0].secret, "topsecret");
        assert!(!format!("{:?}", file.lambda_function).contains("topsecret"));

        // A misspelt key: toml's own message would quote the line, value and all.
        let typo = text.replace("secret =", "secrett =");
        let e = toml::from_str::<FileConfig>(&typo).err().unwrap();
        let line = config_error(std::path::Path::new("g.toml"), &typo, &e);
        assert!(
            line.starts_with("invalid config g.toml, line 4: unknown field `secrett`"),
            "{line}"
        );
        assert!(
            !line.contains("topsecret") && !line.contains('\n'),
            "{line}"
        );
    }
}
