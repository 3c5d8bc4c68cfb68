//! The `gatehouse` binary: `serve` (the default), `healthcheck`, `operations`, `outbox`,
//! `migrate-store`.

mod config;
mod credentials;
mod delivery;
mod server_key;

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use gatehouse_core::{Core, CoreConfig, OsEntropy, Store, SystemClock};

use config::{ServeArgs, Settings};

// Requests allocate many small, short-lived buffers on several threads: under callgrind a GetUser
// took 186k instructions with glibc's malloc and 152k with mimalloc (docs/measurements.md).
// `no_thp`: without it, mimalloc asks for transparent huge pages and the resident set doubles.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "A self-hosted user-pool server that speaks the Amazon Cognito API"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve(ServeArgs),
    /// Exit 0 when a server answers on BASE (default: from --listen), non-zero otherwise.
    Healthcheck {
        #[arg(long)]
        url: Option<String>,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Print the table of cognito-idp operations and whether this build implements them.
    Operations,
    /// Print recent messages from the outbox (codes, invitations) as JSON, oldest first.
    Outbox {
        /// Only this pool's messages.
        #[arg(long)]
        pool: Option<String>,
        /// Only this user's (canonical username, alias or sub; needs --pool for the last two).
        #[arg(long)]
        user: Option<String>,
        /// How many of the most recent messages.
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Show or set a pool's device policy (docs/devices.md, "Trust that expires"), on the
    /// configured database (--data-dir or --database-url, as for serve). Prints the policy.
    DevicePolicy {
        /// The pool.
        #[arg(long)]
        pool: String,
        /// Days a remembered device stays trusted since it last authenticated; 0: for ever.
        #[arg(long)]
        remembered_days: Option<u32>,
        /// Remembered devices one user may have (the least recently used go first); 0: no cap.
        #[arg(long)]
        max_remembered: Option<u32>,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Import users from a CSV file in Cognito's import format (docs/user-import.md), on the
    /// configured database (--data-dir or --database-url, as for serve), without the API's
    /// 100 MB / 500,000-user limits. Prints a summary.
    ImportUsers {
        /// The pool the users go to.
        #[arg(long)]
        pool: String,
        /// The algorithm of the file's password_hash column: BCRYPT, SCRYPT, ARGON2ID or
        /// PBKDF2_SHA256.
        #[arg(long)]
        password_hashing_algorithm: Option<String>,
        /// The CSV file.
        file: std::path::PathBuf,
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Seal the app client and identity provider secrets an earlier version stored in the clear
    /// (docs/deploy.md, "Upgrades"), on the configured database. Run it once every process runs
    /// this version. Prints how many were sealed.
    SealSecrets {
        #[command(flatten)]
        serve: ServeArgs,
    },
    /// Copy every record of an embedded SQLite store into PostgreSQL (docs/deploy.md). Stop the
    /// servers on the SQLite store first; run the PostgreSQL ones with the same server key.
    MigrateStore {
        /// The source: sqlite:PATH (e.g. sqlite:gatehouse-data/gatehouse.db).
        #[arg(long)]
        from: String,
        /// The target: postgres://… (migrated first; must hold no record unless --force).
        #[arg(long)]
        to: String,
        /// Replace whatever records the target holds.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    // Everything this process creates (the database and its -wal/-shm, credentials, the server
    // key) is the owner's alone, whatever the inherited umask.
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
    let cli = Cli::parse();
    match cli.command {
        None => run_serve(cli.serve),
        Some(Command::Serve(args)) => run_serve(args),
        Some(Command::Healthcheck { url, serve }) => healthcheck(url, serve),
        Some(Command::Outbox {
            pool,
            user,
            limit,
            serve,
        }) => print_outbox(serve, pool, user, limit),
        Some(Command::MigrateStore { from, to, force }) => migrate_store(&from, &to, force),
        Some(Command::ImportUsers {
            pool,
            password_hashing_algorithm,
            file,
            serve,
        }) => import_users(serve, &pool, password_hashing_algorithm.as_deref(), &file),
        Some(Command::DevicePolicy {
            pool,
            remembered_days,
            max_remembered,
            serve,
        }) => device_policy(serve, &pool, remembered_days, max_remembered),
        Some(Command::SealSecrets { serve }) => seal_secrets(serve),
        Some(Command::Operations) => {
            print!("{}", operations_markdown());
            ExitCode::SUCCESS
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The log on stderr, at GATEHOUSE_LOG's level (info by default).
fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        // Logs on stderr; stdout carries only what a user is meant to copy (credentials).
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal; log files and collectors get plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn run_serve(args: ServeArgs) -> ExitCode {
    let settings = match Settings::resolve(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gatehouse: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging();
    let rt = runtime();
    let result = rt.block_on(serve(settings));
    // Connections still open after the grace period are dropped, not waited for.
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("gatehouse: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(s: Settings) -> Result<(), String> {
    if s.dev {
        tracing::warn!(
            "DEVELOPMENT MODE (--dev): admin calls are accepted unsigned or with any credentials \
             and /_gatehouse/reset wipes everything; never expose this server"
        );
    }
    let admin_credentials = if s.credentials.is_empty() {
        let path = credentials::file_in(&s.data_dir);
        let (creds, generated) = credentials::load_or_generate(&path)?;
        if generated {
            // Printed once, on stdout, for the user to paste; the log names only the file.
            println!("export AWS_ACCESS_KEY_ID={}", creds[0].access_key_id);
            println!(
                "export AWS_SECRET_ACCESS_KEY={}",
                creds[0].secret_access_key
            );
            tracing::info!(file = %path.display(), "generated admin credentials (printed once above; also usable with AWS_SHARED_CREDENTIALS_FILE)");
        } else {
            tracing::info!(file = %path.display(), "admin credentials loaded");
        }
        creds
    } else {
        s.credentials.clone()
    };
    let metrics = match &s.metrics_listen {
        Some(_) => Some(gatehouse_server::Metrics::install()?),
        None => None,
    };
    let mut courier = delivery::courier(&s.delivery, s.smtp.clone(), s.webhook.clone(), s.dev)?;
    if metrics.is_some() {
        courier = Arc::new(delivery::Counted(courier));
    }
    // Development mode's clock can be moved (POST /_gatehouse/clock).
    let dev_clock = s
        .dev
        .then(|| Arc::new(gatehouse_core::ShiftedClock::default()));
    let clock: Arc<dyn gatehouse_core::Clock> = match &dev_clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    // Checked before the database is opened: a bad [[lambda_function]] fails the start at once.
    let lambda = delivery::lambda(
        s.lambda_endpoint.as_deref(),
        &s.region,
        s.lambda_functions.clone(),
    )?;
    let (core, pool_stats) = open_core_on(&s, clock).await?;
    let mut core = core.with_courier(courier);
    if let Some(lambda) = lambda {
        core = core.with_lambda(lambda);
    }
    // The embedded store has one process: secrets an earlier version stored in the clear are
    // sealed now. Processes sharing PostgreSQL may still include older ones, which could not
    // read them: there the operator runs `gatehouse seal-secrets` once the rollout is done.
    if !s.database_url.starts_with("postgres") {
        let (clients, providers) = core
            .seal_stored_secrets()
            .await
            .map_err(|e| format!("sealing stored secrets: {e}"))?;
        if clients + providers > 0 {
            tracing::info!(clients, providers, "sealed secrets stored in the clear");
        }
    }
    // This process's background work (crates/core/src/maintenance.rs): pruning expired sign-in
    // state and old outbox messages, following other processes' pool and client changes, and
    // resuming user imports a dead process left.
    tokio::spawn({
        let core = core.clone();
        async move { core.prune_periodically().await }
    });
    tokio::spawn({
        let core = core.clone();
        async move { core.follow_record_changes().await }
    });
    tokio::spawn({
        let core = core.clone();
        async move { core.tend_imports_periodically().await }
    });
    let app = gatehouse_server::router(
        core,
        gatehouse_server::ServerConfig {
            dev: s.dev,
            public_url: s.public_url.clone(),
            admin_credentials,
            rate_limit_per_ip: s.rate_limit_per_ip,
            rate_limit_per_client: s.rate_limit_per_client,
            trusted_proxies: s.trusted_proxies.clone(),
            operation_deadline: Some(s.database.statement_timeout),
            dev_clock,
        },
    );
    let listener = tokio::net::TcpListener::bind(&s.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", s.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(
        %addr,
        database = %s.database_display(),
        public_url = %s.public_url,
        region = %s.region,
        rate_limit_per_ip = s.rate_limit_per_ip,
        "gatehouse listening"
    );
    let api = gatehouse_server::serve(listener, app, s.limits.clone());
    let (Some(metrics), Some(addr)) = (metrics, &s.metrics_listen) else {
        return api.await.map_err(|e| e.to_string());
    };
    let metrics_listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
    let metrics_addr = metrics_listener.local_addr().map_err(|e| e.to_string())?;
    // The pool's size is read when scraped rather than counted.
    let pool_gauges = Arc::new(move || {
        let (size, idle) = pool_stats();
        metrics::gauge!("gatehouse_db_pool_connections").set(size as f64);
        metrics::gauge!("gatehouse_db_pool_idle_connections").set(idle as f64);
    }) as Arc<dyn Fn() + Send + Sync>;
    tracing::info!(addr = %metrics_addr, "metrics at /metrics");
    let metrics_serve = gatehouse_server::serve(
        metrics_listener,
        metrics.router(Some(pool_gauges)),
        s.limits.clone(),
    );
    let (a, m) = tokio::join!(api, metrics_serve);
    a.and(m).map_err(|e| e.to_string())
}

/// The domain service on the configured database, and how to read the size of its connection
/// pool (for the gauges).
async fn open_core(s: &Settings) -> Result<(Core, PoolStats), String> {
    open_core_on(s, Arc::new(SystemClock)).await
}

/// [`open_core`] with the clock given (development mode's movable clock).
async fn open_core_on(
    s: &Settings,
    clock: Arc<dyn gatehouse_core::Clock>,
) -> Result<(Core, PoolStats), String> {
    let opened = gatehouse_store::open_for_server(&s.database_url, &s.database).await?;
    let store: Arc<dyn Store> = opened.store;
    let config = CoreConfig {
        region: s.region.clone(),
        account_id: s.account_id.clone(),
        public_url: s.public_url.clone(),
        keep_message_secrets: s.dev,
        outbox_retention_ms: i64::from(s.outbox_retention_days) * 86_400_000,
        auth_event_retention_ms: i64::from(s.auth_event_retention_days) * 86_400_000,
        log_delivery_dir: s.log_delivery_dir.clone(),
    };
    let key = server_key::load(s.server_key.as_deref(), &s.data_dir)?;
    let core = Core::new(store, clock, Arc::new(OsEntropy), config).with_server_key(key);
    core.check_server_key().await?;
    Ok((core, opened.pool_stats))
}

/// `migrate-store`: a progress bar per table at a terminal, a log line per table otherwise.
fn migrate_store(from: &str, to: &str, force: bool) -> ExitCode {
    use gatehouse_store::copy::{copy_sqlite_to_postgres, CopyEvent};
    use indicatif::{ProgressBar, ProgressStyle};

    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let style = ProgressStyle::with_template("{msg:>18} [{bar:40}] {pos}/{len}")
        .expect("progress template")
        .progress_chars("=> ");
    let mut bar: Option<ProgressBar> = None;
    let mut current = String::new();
    let mut progress = |event: CopyEvent<'_>| match event {
        CopyEvent::Table { name, rows } => {
            if let Some(b) = bar.take() {
                b.finish();
            }
            current = name.to_string();
            if terminal {
                let b = ProgressBar::new(rows).with_style(style.clone());
                b.set_message(name.to_string());
                bar = Some(b);
            } else {
                eprintln!("gatehouse: copying {name}: {rows} rows");
            }
        }
        CopyEvent::Rows { copied } => {
            if let Some(b) = &bar {
                b.set_position(copied);
            }
        }
    };
    let result = runtime().block_on(copy_sqlite_to_postgres(from, to, force, &mut progress));
    if let Some(b) = bar.take() {
        b.finish();
    }
    match result {
        Ok(report) => {
            let total: u64 = report.tables.iter().map(|(_, n)| n).sum();
            for (table, rows) in &report.tables {
                eprintln!("gatehouse: {table}: {rows} rows copied and counted in the target");
            }
            eprintln!(
                "gatehouse: copied {total} records into {}; start the servers there with the \
                 same server key",
                gatehouse_store::redact_url(to)
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            if current.is_empty() {
                eprintln!("gatehouse: migrate-store failed: {e}");
            } else {
                eprintln!("gatehouse: migrate-store failed while copying {current}: {e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// `import-users`: a progress bar at a terminal, a log line every 100,000 rows otherwise, and
/// the summary.
fn import_users(
    args: ServeArgs,
    pool: &str,
    algorithm: Option<&str>,
    file: &std::path::Path,
) -> ExitCode {
    use gatehouse_core::user_import::{ImportProgress, ImportSummary};
    use gatehouse_wire::PasswordHashingAlgorithmType as Algorithm;
    use indicatif::{ProgressBar, ProgressStyle};

    struct Progress {
        bar: Option<ProgressBar>,
        done: u64,
        logged: u64,
    }

    #[async_trait::async_trait]
    impl ImportProgress for Progress {
        fn started(&mut self, rows: u64) {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let style = ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} rows ({per_sec}, {eta} left)",
                )
                .expect("progress template")
                .progress_chars("=> ");
                let bar = ProgressBar::new(rows).with_style(style);
                bar.set_message("importing");
                self.bar = Some(bar);
            } else {
                eprintln!("gatehouse: importing {rows} rows");
            }
        }

        async fn checkpoint(&mut self, delta: ImportSummary) -> gatehouse_core::Result<bool> {
            self.done += delta.imported + delta.skipped + delta.failed;
            match &self.bar {
                Some(bar) => bar.set_position(self.done),
                None if self.done - self.logged >= 100_000 => {
                    self.logged = self.done;
                    eprintln!("gatehouse: {} rows taken", self.done);
                }
                None => {}
            }
            Ok(true)
        }
    }

    let algorithm = match algorithm.map(Algorithm::parse) {
        Some(Algorithm::Unrecognized(a)) => {
            eprintln!(
                "gatehouse: --password-hashing-algorithm {a}: expected one of {}",
                Algorithm::VALUES.join(", ")
            );
            return ExitCode::from(2);
        }
        other => other,
    };
    let csv = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("gatehouse: cannot read {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    // Each skipped or failed row's reason is logged, as a job's are.
    init_logging();
    let started = std::time::Instant::now();
    let mut progress = Progress {
        bar: None,
        done: 0,
        logged: 0,
    };
    let result = Settings::resolve(args).and_then(|s| {
        runtime().block_on(async {
            let (core, _) = open_core(&s).await?;
            core.import_users_file(pool, &csv, algorithm, &mut progress)
                .await
                .map_err(|e| e.to_string())
        })
    });
    if let Some(bar) = progress.bar.take() {
        bar.finish();
    }
    match result {
        Ok(summary) => {
            let secs = started.elapsed().as_secs_f64();
            let rows = summary.imported + summary.skipped + summary.failed;
            println!(
                "{}",
                serde_json::json!({
                    "UserPoolId": pool,
                    "ImportedUsers": summary.imported,
                    "SkippedUsers": summary.skipped,
                    "FailedUsers": summary.failed,
                    "Seconds": (secs * 10.0).round() / 10.0,
                    "RowsPerSecond": (rows as f64 / secs.max(1e-9)).round(),
                })
            );
            if summary.failed + summary.skipped > 0 {
                eprintln!(
                    "gatehouse: the log says why each skipped or failed row was (\"[FAILED] Line \
                     Number N - ...\")"
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatehouse: import-users failed: {e}");
            ExitCode::FAILURE
        }
    }
}

type PoolStats = Arc<dyn Fn() -> (u32, usize) + Send + Sync>;

/// Reads the outbox straight from the database (SQLite allows this while a server runs).
fn print_outbox(
    args: ServeArgs,
    pool: Option<String>,
    user: Option<String>,
    limit: u32,
) -> ExitCode {
    let result = Settings::resolve(args).and_then(|s| {
        runtime().block_on(async {
            let (core, _) = open_core(&s).await?;
            core.outbox(pool.as_deref(), user.as_deref(), limit)
                .await
                .map_err(|e| e.to_string())
        })
    });
    match result {
        Ok(messages) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "Messages": messages }))
                    .expect("json")
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatehouse: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `device-policy`: the flags given change the policy (0 removes a limit); the result is printed.
/// `seal-secrets`: prints `{"AppClients": n, "IdentityProviders": m}` sealed.
fn seal_secrets(args: ServeArgs) -> ExitCode {
    let result = Settings::resolve(args).and_then(|s| {
        runtime().block_on(async {
            let (core, _) = open_core(&s).await?;
            core.seal_stored_secrets().await.map_err(|e| e.to_string())
        })
    });
    match result {
        Ok((clients, providers)) => {
            println!(
                "{}",
                serde_json::json!({"AppClients": clients, "IdentityProviders": providers})
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatehouse: {e}");
            ExitCode::FAILURE
        }
    }
}

fn device_policy(
    args: ServeArgs,
    pool: &str,
    remembered_days: Option<u32>,
    max_remembered: Option<u32>,
) -> ExitCode {
    let result = Settings::resolve(args).and_then(|s| {
        runtime().block_on(async {
            let (core, _) = open_core(&s).await?;
            let mut policy = core.device_policy(pool).await.map_err(|e| e.to_string())?;
            let limit = |n: u32| (n > 0).then_some(n);
            if let Some(d) = remembered_days {
                policy.remembered_days = limit(d);
            }
            if let Some(m) = max_remembered {
                policy.max_remembered = limit(m);
            }
            if remembered_days.is_some() || max_remembered.is_some() {
                core.set_device_policy(pool, policy)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(policy)
        })
    });
    match result {
        Ok(p) => {
            println!(
                "{}",
                serde_json::json!({
                    "UserPoolId": pool,
                    "RememberedDays": p.remembered_days,
                    "MaxRemembered": p.max_remembered,
                })
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatehouse: {e}");
            ExitCode::FAILURE
        }
    }
}

fn healthcheck(url: Option<String>, args: ServeArgs) -> ExitCode {
    let base = match url {
        Some(u) => u,
        None => match Settings::resolve(args) {
            Ok(s) => format!("http://{}", s.listen),
            Err(e) => {
                eprintln!("gatehouse: {e}");
                return ExitCode::from(2);
            }
        },
    };
    match runtime().block_on(config::probe_health(&base)) {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gatehouse: no healthy server at {base}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The implemented-operations table for docs/operations.md, derived from the code.
fn operations_markdown() -> String {
    use gatehouse_wire::Operation;
    let implemented = gatehouse_server::implemented_operations();
    let mut names: Vec<Operation> = Operation::ALL.to_vec();
    names.sort_by_key(|o| o.name());
    let mut out = String::from(
        "# Operations\n\n\
         Generated by `cargo run -- operations > docs/operations.md` (a test keeps it current).\n\
         Operations not implemented yet answer `UnsupportedOperationException` naming the operation.\n\
         An implemented operation behaves as Cognito documents it; the last column names what it\n\
         does differently here, or what it leaves for later (notes: `crates/server/operation-notes.txt`).\n\n",
    );
    out.push_str(&format!(
        "{} of {} operations implemented.\n\n",
        implemented.len(),
        names.len()
    ));
    let notes = operation_notes();
    out.push_str("| operation | authorization | implemented | here |\n| --- | --- | --- | --- |\n");
    for op in names {
        let auth = if op.requires_sigv4() {
            "SigV4 (admin)"
        } else {
            "public / token"
        };
        let done = if implemented.contains(&op) {
            "yes"
        } else {
            "not yet"
        };
        let note = notes.get(op.name()).copied().unwrap_or("");
        out.push_str(&format!("| {} | {auth} | {done} | {note} |\n", op.name()));
    }
    out
}

/// `crates/server/operation-notes.txt`: operation → note. A name that is no operation panics,
/// so the table's test fails rather than a note going unseen.
fn operation_notes() -> std::collections::BTreeMap<&'static str, &'static str> {
    let text = include_str!("../../server/operation-notes.txt");
    let mut notes = std::collections::BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (name, note) = line.split_once(' ').unwrap_or((line, ""));
        assert!(
            gatehouse_wire::Operation::from_name(name).is_some(),
            "operation-notes.txt names no operation: {name}"
        );
        notes.insert(name, note.trim());
    }
    notes
}
