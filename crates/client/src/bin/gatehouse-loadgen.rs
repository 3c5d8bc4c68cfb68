//! gatehouse-loadgen: real SRP (or USER_PASSWORD_AUTH) sign-ins against a Gatehouse (or
//! Cognito-compatible) endpoint, with the server's CPU cost per sign-in set against the
//! crypto floor measured on the same machine in the same run.
//!
//! 1. Set-up through the SDK, SigV4-signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY:
//!    CreateUserPool, CreateUserPoolClient (USER_SRP, USER_PASSWORD, REFRESH_TOKEN flows),
//!    N × (AdminCreateUser SUPPRESS + AdminSetUserPassword Permanent).
//! 2. Warm-up: one sign-in per user (fills connection pools and the per-user caches below).
//! 3. R sign-ins, C in flight, round-robin over the users; logins/s, latency percentiles,
//!    client CPU per login, and with `--server-pid` the server's CPU per login
//!    (utime + stime from `/proc/<pid>/stat`) and peak RSS (VmHWM).
//!    Several server processes: repeat `--endpoint` (each of the C sign-in loops sends every
//!    request to the next endpoint in turn, loop i starting at endpoint i, so with two
//!    endpoints each SRP sign-in's InitiateAuth and RespondToAuthChallenge land on different
//!    processes) and repeat `--server-pid` (CPU per login is the sum over the processes).
//! 4. The floor, measured before and after the run: median single-thread CPU time of one
//!    constant-time 3072-bit modexp with a 256-bit exponent, and of one RS256 signature
//!    (2048-bit key generated at start, ~900-byte JWT signing input).
//!    An SRP sign-in needs at least 3 modexps on the server (B = k·v + g^b at InitiateAuth;
//!    v^u and (A·v^u)^b at PASSWORD_VERIFIER) and 2 signatures (access and ID token);
//!    USER_PASSWORD_AUTH needs 1 modexp (g^x) and 2 signatures; a sign-in with device SRP
//!    (`--flow device`: the SRP sign-in, then DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER with a
//!    device confirmed for each user at set-up) needs 6 modexps and 2 signatures.
//!
//! Client cost: the generator shares 2 cores with the server, so every millisecond it burns
//! is one the server cannot use. It uses `CachedUser` (see its docs): per user, `a` is drawn
//! once — `A` is the same on each of that user's sign-ins — and `x`, `k·g^x` are cached for
//! the salt the server sends. That takes the client from ~4 to ~2 modexp-equivalents per
//! sign-in (g^a and g^x gone; the 513-bit exponentiation for S remains), while every sign-in
//! stays a complete, genuine exchange for the server: fresh b and B, fresh SECRET_BLOCK, u, S,
//! K, signature and TIMESTAMP, full verification. A fixed A does not make the server's work
//! any cheaper or different.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use aws_sdk_cognitoidentityprovider::config::endpoint::{
    self, Endpoint, EndpointFuture, ResolveEndpoint,
};
use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::error::DisplayErrorContext;
use aws_sdk_cognitoidentityprovider::types::{
    DeviceConfigurationType, DeviceSecretVerifierConfigType, ExplicitAuthFlowsType,
    LambdaConfigType, MessageActionType, UserPoolAddOnsType,
};
use aws_sdk_cognitoidentityprovider::Client;
use clap::{Parser, ValueEnum};
use gatehouse_client::srp::{__bench, base64_encode, DeviceSecret};
use gatehouse_client::{CachedUser, SignInOutcome, SrpSignIn};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Flow {
    /// USER_SRP_AUTH → PASSWORD_VERIFIER (two requests per sign-in).
    Srp,
    /// USER_PASSWORD_AUTH (one request; the password travels to the server).
    Password,
    /// USER_SRP_AUTH, then device SRP with a remembered device (four requests).
    Device,
}

/// Load generator for Gatehouse sign-ins: SRP by default, USER_PASSWORD_AUTH for comparison.
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// Server endpoint; repeat (or comma-separate) for several processes sharing one database:
    /// set-up goes to the first, sign-in requests to each in turn.
    #[arg(long, default_value = "http://127.0.0.1:9229", value_delimiter = ',')]
    endpoint: Vec<String>,
    /// Region for the SDK (and SigV4 scope of the admin calls).
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Users to create (sign-ins go round-robin over them).
    #[arg(long, default_value_t = 200)]
    users: usize,
    /// Measured sign-ins.
    #[arg(long, default_value_t = 5000)]
    logins: usize,
    /// Sign-ins in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Sign-in flow.
    #[arg(long, value_enum, default_value_t = Flow::Srp)]
    flow: Flow,
    /// PID of the server process, for its CPU per login and peak RSS; repeat (or
    /// comma-separate) for several processes: their CPU is summed.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Create the app client with a secret (every step then carries SECRET_HASH).
    #[arg(long)]
    client_secret: bool,
    /// The pool's threat protection (UserPoolAddOns.AdvancedSecurityMode): OFF, AUDIT (every
    /// sign-in recorded and rated) or ENFORCED.
    #[arg(long, default_value = "OFF")]
    advanced_security: String,
    /// A PreTokenGeneration function for the pool (its ARN): every sign-in then calls it on
    /// the server's --lambda-endpoint (bench/lambda_echo.py answers it doing nothing).
    #[arg(long)]
    pre_token_generation: Option<String>,
    /// Unmeasured sign-ins per user before the run.
    #[arg(long, default_value_t = 1)]
    warmup_rounds: usize,
    /// Samples for each floor figure.
    #[arg(long, default_value_t = 400)]
    floor_samples: usize,
    /// Access key for the admin calls.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    access_key_id: String,
    /// Secret key for the admin calls.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

struct User {
    cached: CachedUser,
    password: String,
    /// `--flow device`: the sign-in configured with this user's confirmed device.
    device: Option<SrpSignIn>,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if let Err(e) = run(args).await {
        eprintln!("gatehouse-loadgen: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), BoxError> {
    if args.users == 0 || args.concurrency == 0 {
        return Err("--users and --concurrency must be at least 1".into());
    }
    println!(
        "gatehouse-loadgen: flow {}, endpoint {}, {} users, {} logins, concurrency {}, {} cores",
        match args.flow {
            Flow::Srp => "srp (USER_SRP_AUTH)",
            Flow::Password => "password (USER_PASSWORD_AUTH)",
            Flow::Device => "device (USER_SRP_AUTH + DEVICE_SRP_AUTH)",
        },
        args.endpoint.join(" + "),
        args.users,
        args.logins,
        args.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // ---- the floor, before the load --------------------------------------------------------
    // Measured before and after the run (the machine may be busier or quieter than during it);
    // the ratio uses the mean.
    let samples = args.floor_samples;
    let bench = Arc::new(tokio::task::spawn_blocking(FloorBench::new).await??);
    let before = {
        let bench = bench.clone();
        tokio::task::spawn_blocking(move || bench.measure(samples)).await?
    };

    // ---- set-up -------------------------------------------------------------------------
    let admin = sdk_client(&args, Some((&args.access_key_id, &args.secret_access_key)));
    let t = Instant::now();
    let (sign_in, users) = set_up(&args, &admin).await?;
    println!(
        "setup: pool {}, client {} (secret: {}), {} users in {:.1} s",
        sign_in.pool_id(),
        sign_in.client_id(),
        if args.client_secret { "yes" } else { "no" },
        users.len(),
        t.elapsed().as_secs_f64()
    );

    // Sign-ins are unsigned: no credentials, and no retries, so every failure is counted. One
    // client per sign-in loop, each sending its requests to the endpoints in turn.
    let sdk: Vec<Client> = (0..args.concurrency)
        .map(|i| sign_in_client(&args, i))
        .collect();
    let sign_in = Arc::new(sign_in);
    let users = Arc::new(users);

    let warmup = args.warmup_rounds * users.len();
    if warmup > 0 {
        let w = drive(&args, &sdk, &sign_in, &users, warmup).await;
        println!(
            "warm-up: {} logins in {:.1} s, {} errors",
            warmup,
            w.elapsed.as_secs_f64(),
            w.error_count()
        );
        w.print_errors();
    }

    // ---- measured run -------------------------------------------------------------------
    let server_before = args
        .server_pid
        .iter()
        .map(|&pid| proc_cpu_secs(pid))
        .collect::<Result<Vec<_>, _>>()?;
    let client_before = proc_cpu_secs_self()?;
    let r = drive(&args, &sdk, &sign_in, &users, args.logins).await;
    let client_cpu = proc_cpu_secs_self()? - client_before;
    let server_cpus = args
        .server_pid
        .iter()
        .zip(&server_before)
        .map(|(&pid, before)| Ok::<_, BoxError>(proc_cpu_secs(pid)? - before))
        .collect::<Result<Vec<_>, _>>()?;
    let server_cpu = (!server_cpus.is_empty()).then(|| server_cpus.iter().sum::<f64>());

    let ok = r.latencies.len();
    println!(
        "run: {} logins in {:.2} s, {} ok, {} errors",
        args.logins,
        r.elapsed.as_secs_f64(),
        ok,
        r.error_count()
    );
    r.print_errors();
    row(
        "logins/s",
        format!("{:.1}", ok as f64 / r.elapsed.as_secs_f64()),
    );
    let mut lat = r.latencies.clone();
    lat.sort_unstable();
    if !lat.is_empty() {
        row(
            "latency ms",
            format!(
                "p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
                ms(percentile(&lat, 50.0)),
                ms(percentile(&lat, 90.0)),
                ms(percentile(&lat, 99.0)),
                ms(*lat.last().unwrap())
            ),
        );
    }
    // Per attempted login: with errors in the run these figures are not comparable.
    let per_login = |secs: f64| secs * 1000.0 / args.logins.max(1) as f64;
    row(
        "client CPU per login (this process)",
        format!("{:.3} ms  ({client_cpu:.2} s)", per_login(client_cpu)),
    );
    let server_ms = server_cpu.map(per_login);
    let several = args.server_pid.len() > 1;
    for (&pid, &cpu) in args.server_pid.iter().zip(&server_cpus) {
        let label = if several {
            format!("  pid {pid}, utime+stime")
        } else {
            format!("server CPU per login (pid {pid}, utime+stime)")
        };
        row(&label, format!("{:.3} ms  ({cpu:.2} s)", per_login(cpu)));
    }
    if let (true, Some(cpu), Some(ms_per)) = (several, server_cpu, server_ms) {
        row(
            &format!(
                "server CPU per login ({} processes, sum)",
                server_cpus.len()
            ),
            format!("{ms_per:.3} ms  ({cpu:.2} s)"),
        );
    }
    for &pid in &args.server_pid {
        let (hwm, rss) = proc_memory_kib(pid)?;
        row(
            &if several {
                format!("server peak RSS (VmHWM), pid {pid}")
            } else {
                "server peak RSS (VmHWM)".to_string()
            },
            format!(
                "{:.1} MiB  (VmRSS now {:.1} MiB)",
                hwm as f64 / 1024.0,
                rss as f64 / 1024.0
            ),
        );
    }

    // ---- the floor, again ---------------------------------------------------------------
    let after = {
        let bench = bench.clone();
        tokio::task::spawn_blocking(move || bench.measure(samples)).await?
    };
    let input_len = bench.input.len();
    println!(
        "crypto floor on this machine (median thread CPU time of {} samples; before / after the run):",
        samples
    );
    let pair = |f: fn(&Floor) -> f64| format!("{:.3} / {:.3} ms", f(&before), f(&after));
    row(
        "modexp 3072-bit, 256-bit exponent (aws-lc)",
        pair(|f| ms(f.modexp)),
    );
    row(
        &format!("RS256, 2048-bit key, {}-byte input", input_len),
        pair(|f| ms(f.rs256)),
    );
    let (srp_b, pw_b, dev_b) = before.logins_ms();
    let (srp_a, pw_a, dev_a) = after.logins_ms();
    let (srp_floor, pw_floor, dev_floor) = (
        (srp_b + srp_a) / 2.0,
        (pw_b + pw_a) / 2.0,
        (dev_b + dev_a) / 2.0,
    );
    row(
        "SRP floor = 3 modexp + 2 RS256",
        format!("{srp_b:.3} / {srp_a:.3} ms, mean {srp_floor:.3} ms"),
    );
    row(
        "password floor = 1 modexp + 2 RS256",
        format!("{pw_b:.3} / {pw_a:.3} ms, mean {pw_floor:.3} ms"),
    );
    row(
        "device floor = 6 modexp + 2 RS256",
        format!("{dev_b:.3} / {dev_a:.3} ms, mean {dev_floor:.3} ms"),
    );
    if let Some(server_ms) = server_ms {
        let (name, f) = match args.flow {
            Flow::Srp => ("SRP", srp_floor),
            Flow::Password => ("password", pw_floor),
            Flow::Device => ("device", dev_floor),
        };
        row(
            &format!("ratio server CPU per login / {name} floor"),
            format!("{:.2}  (goal <= 1.3)", server_ms / f),
        );
    } else {
        println!("  (pass --server-pid for the server's CPU per login and the ratio)");
    }
    Ok(())
}

fn row(label: &str, value: String) {
    println!("  {label:<46} {value}");
}

fn sdk_client(args: &Args, credentials: Option<(&str, &str)>) -> Client {
    let mut conf = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(args.region.clone()))
        .endpoint_url(&args.endpoint[0]);
    match credentials {
        Some((key, secret)) => {
            conf = conf.credentials_provider(Credentials::new(key, secret, None, None, "env"))
        }
        None => conf = conf.retry_config(RetryConfig::disabled()),
    }
    Client::from_conf(conf.build())
}

/// The unsigned client of sign-in loop `i`: no credentials, no retries (every failure is
/// counted), each request to the next of the endpoints, starting at endpoint `i`.
fn sign_in_client(args: &Args, i: usize) -> Client {
    let conf = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(args.region.clone()))
        .endpoint_resolver(RoundRobin {
            endpoints: args.endpoint.clone(),
            next: AtomicUsize::new(i),
        })
        .retry_config(RetryConfig::disabled());
    Client::from_conf(conf.build())
}

/// Resolves each request (each attempt; retries are off) to the next endpoint in turn.
#[derive(Debug)]
struct RoundRobin {
    endpoints: Vec<String>,
    next: AtomicUsize,
}

impl ResolveEndpoint for RoundRobin {
    fn resolve_endpoint<'a>(&'a self, _: &'a endpoint::Params) -> EndpointFuture<'a> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.endpoints.len();
        EndpointFuture::ready(Ok(Endpoint::builder()
            .url(self.endpoints[i].clone())
            .build()))
    }
}

async fn set_up(args: &Args, admin: &Client) -> Result<(SrpSignIn, Vec<User>), BoxError> {
    let unix = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut pool = admin
        .create_user_pool()
        .pool_name(format!("loadgen-{unix}"));
    if args.flow == Flow::Device {
        // Always remember devices.
        pool = pool.device_configuration(
            DeviceConfigurationType::builder()
                .challenge_required_on_new_device(false)
                .device_only_remembered_on_user_prompt(false)
                .build(),
        );
    }
    if args.advanced_security != "OFF" {
        pool = pool.user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(args.advanced_security.as_str().into())
                .build()?,
        );
    }
    if let Some(arn) = &args.pre_token_generation {
        pool = pool.lambda_config(
            LambdaConfigType::builder()
                .pre_token_generation(arn)
                .build(),
        );
    }
    let pool = pool
        .send()
        .await
        .map_err(|e| format!("CreateUserPool: {}", DisplayErrorContext(e)))?;
    let pool_id = pool
        .user_pool()
        .and_then(|p| p.id())
        .ok_or("CreateUserPool returned no pool id")?
        .to_string();
    let client = admin
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("loadgen")
        .generate_secret(args.client_secret)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .map_err(|e| format!("CreateUserPoolClient: {}", DisplayErrorContext(e)))?;
    let client = client
        .user_pool_client()
        .ok_or("CreateUserPoolClient returned no client")?;
    let mut sign_in = SrpSignIn::new(
        &pool_id,
        client
            .client_id()
            .ok_or("CreateUserPoolClient returned no client id")?,
    )?;
    if args.client_secret {
        sign_in = sign_in.client_secret(
            client
                .client_secret()
                .ok_or("CreateUserPoolClient returned no secret")?,
        );
    }

    // Users, C at a time (setting a password costs the server one exponentiation).
    let mut tag = [0u8; 4];
    getrandom::fill(&mut tag)?;
    let tag: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.concurrency.min(args.users) {
        let (admin, pool_id, next, tag) =
            (admin.clone(), pool_id.clone(), next.clone(), tag.clone());
        let n = args.users;
        tasks.spawn(async move {
            let mut made = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return Ok::<_, String>(made);
                }
                let username = format!("user{i:05}");
                let password = format!("Lg-{tag}-{i}-Aa1!");
                admin
                    .admin_create_user()
                    .user_pool_id(&pool_id)
                    .username(&username)
                    .message_action(MessageActionType::Suppress)
                    .send()
                    .await
                    .map_err(|e| {
                        format!("AdminCreateUser {username}: {}", DisplayErrorContext(e))
                    })?;
                admin
                    .admin_set_user_password()
                    .user_pool_id(&pool_id)
                    .username(&username)
                    .password(&password)
                    .permanent(true)
                    .send()
                    .await
                    .map_err(|e| {
                        format!(
                            "AdminSetUserPassword {username}: {}",
                            DisplayErrorContext(e)
                        )
                    })?;
                made.push((i, username, password));
            }
        });
    }
    let mut made = Vec::with_capacity(args.users);
    while let Some(r) = tasks.join_next().await {
        made.extend(r??);
    }
    made.sort_by_key(|(i, _, _)| *i);
    // One g^a per user, here rather than in the measured run.
    let users = made
        .into_iter()
        .map(|(_, username, password)| {
            Ok(User {
                cached: CachedUser::new(username, password.clone())?,
                password,
                device: None,
            })
        })
        .collect::<Result<Vec<_>, gatehouse_client::Error>>()?;
    let users = if args.flow == Flow::Device {
        confirm_devices(admin, &sign_in, users).await?
    } else {
        users
    };
    Ok((sign_in, users))
}

/// `--flow device`: one sign-in per user that gets a device key, ConfirmDevice with a fresh
/// device secret, and the user's sign-in configured with that device.
async fn confirm_devices(
    sdk: &Client,
    sign_in: &SrpSignIn,
    users: Vec<User>,
) -> Result<Vec<User>, BoxError> {
    let mut out = Vec::with_capacity(users.len());
    for mut user in users {
        let tokens = match sign_in.sign_in_cached(sdk, &user.cached).await? {
            SignInOutcome::Tokens(t) => t,
            SignInOutcome::Challenge(c) => return Err(format!("unexpected {}", c.name).into()),
        };
        let meta = tokens
            .new_device_metadata()
            .ok_or("no NewDeviceMetadata: is device tracking on?")?;
        let (key, group) = (
            meta.device_key().ok_or("no DeviceKey")?,
            meta.device_group_key().ok_or("no DeviceGroupKey")?,
        );
        let (mut r40, mut r16) = ([0u8; 40], [0u8; 16]);
        getrandom::fill(&mut r40)?;
        getrandom::fill(&mut r16)?;
        let secret = DeviceSecret::generate(group, key, &r40, &r16);
        let config = secret.verifier_config();
        sdk.confirm_device()
            .access_token(tokens.access_token().ok_or("no AccessToken")?)
            .device_key(key)
            .device_name("loadgen")
            .device_secret_verifier_config(
                DeviceSecretVerifierConfigType::builder()
                    .password_verifier(config.password_verifier)
                    .salt(config.salt)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| format!("ConfirmDevice: {}", DisplayErrorContext(e)))?;
        user.device = Some(sign_in.clone().device(key, group, secret.device_password()));
        out.push(user);
    }
    Ok(out)
}

struct RunResult {
    latencies: Vec<Duration>,
    errors: BTreeMap<String, usize>,
    samples: Vec<String>,
    elapsed: Duration,
}

impl RunResult {
    fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    fn print_errors(&self) {
        for (kind, n) in &self.errors {
            println!("  error {kind}: {n}");
        }
        for s in &self.samples {
            println!("  e.g. {s}");
        }
        if self.errors.contains_key("TooManyRequestsException") {
            println!(
                "  hint: the server rate-limits sign-ins per address and per client \
                 (Gatehouse: 100/s and 1000/s unless --dev); start it with \
                 --rate-limit-per-ip 0 --rate-limit-per-client 0 for load tests"
            );
        }
    }
}

/// `n` sign-ins, `--concurrency` in flight, sign-in `i` for user `i mod users`.
async fn drive(
    args: &Args,
    sdk: &[Client],
    sign_in: &Arc<SrpSignIn>,
    users: &Arc<Vec<User>>,
    n: usize,
) -> RunResult {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..args.concurrency.min(n.max(1)) {
        let (sdk, sign_in, users, next) = (
            sdk[task % sdk.len()].clone(),
            sign_in.clone(),
            users.clone(),
            next.clone(),
        );
        let flow = args.flow;
        tasks.spawn(async move {
            let mut lat = Vec::new();
            let mut errors = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return (lat, errors);
                }
                let user = &users[i % users.len()];
                let t = Instant::now();
                let outcome = match flow {
                    Flow::Srp => sign_in.sign_in_cached(&sdk, &user.cached).await,
                    Flow::Device => {
                        let with_device = user.device.as_ref().expect("devices set up");
                        with_device.sign_in_cached(&sdk, &user.cached).await
                    }
                    Flow::Password => {
                        sign_in
                            .sign_in_user_password(&sdk, user.cached.username(), &user.password)
                            .await
                    }
                };
                match outcome {
                    Ok(SignInOutcome::Tokens(t_)) if t_.access_token().is_some() => {
                        lat.push(t.elapsed())
                    }
                    Ok(SignInOutcome::Tokens(_)) => errors.push((
                        "NoAccessToken".to_string(),
                        "tokens without AccessToken".to_string(),
                    )),
                    Ok(SignInOutcome::Challenge(c)) => errors.push((
                        format!("Challenge {}", c.name),
                        format!(
                            "{}: unexpected challenge {}",
                            user.cached.username(),
                            c.name
                        ),
                    )),
                    Err(e) => errors.push((
                        e.code().unwrap_or("local/transport").to_string(),
                        format!("{}: {e}", user.cached.username()),
                    )),
                }
            }
        });
    }
    let mut r = RunResult {
        latencies: Vec::with_capacity(n),
        errors: BTreeMap::new(),
        samples: Vec::new(),
        elapsed: Duration::ZERO,
    };
    while let Some(done) = tasks.join_next().await {
        let (lat, errs) = done.expect("sign-in task panicked");
        r.latencies.extend(lat);
        for (kind, sample) in errs {
            *r.errors.entry(kind).or_default() += 1;
            if r.samples.len() < 3 {
                r.samples.push(sample);
            }
        }
    }
    r.elapsed = start.elapsed();
    r
}

// ---- measurements ------------------------------------------------------------------------

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort_unstable();
    v[v.len() / 2]
}

fn clock_ticks_per_sec() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// utime + stime of all threads of a process, in seconds (`/proc/<pid>/stat` fields 14 and 15).
fn proc_cpu_secs_at(path: &str) -> Result<f64, BoxError> {
    let stat = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    // The command name (field 2) may contain spaces; fields after it follow the last ')'.
    let rest = stat
        .rsplit_once(')')
        .ok_or_else(|| format!("{path}: unexpected format"))?
        .1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14 → index 11, stime index 12.
    let utime: u64 = f.get(11).ok_or("short stat")?.parse()?;
    let stime: u64 = f.get(12).ok_or("short stat")?.parse()?;
    Ok((utime + stime) as f64 / clock_ticks_per_sec())
}

fn proc_cpu_secs(pid: u32) -> Result<f64, BoxError> {
    proc_cpu_secs_at(&format!("/proc/{pid}/stat"))
}

fn proc_cpu_secs_self() -> Result<f64, BoxError> {
    proc_cpu_secs_at("/proc/self/stat")
}

/// (VmHWM, VmRSS) in KiB.
fn proc_memory_kib(pid: u32) -> Result<(u64, u64), BoxError> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let field = |name: &str| -> Result<u64, BoxError> {
        let line = status
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or_else(|| format!("{path}: no {name}"))?;
        Ok(line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?)
    };
    Ok((field("VmHWM:")?, field("VmRSS:")?))
}

struct Floor {
    modexp: Duration,
    rs256: Duration,
}

impl Floor {
    /// (SRP floor, password floor, device-SRP floor) in ms.
    fn logins_ms(&self) -> (f64, f64, f64) {
        let (m, r) = (ms(self.modexp), ms(self.rs256));
        (3.0 * m + 2.0 * r, m + 2.0 * r, 6.0 * m + 2.0 * r)
    }
}

/// CPU time of the calling thread. The floor is measured in CPU time, like the server's cost
/// it is compared with, so other load on the machine preempting the measuring thread does not
/// inflate it.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Inputs for the floor, made once at start: a random base below N (N's top byte is 0xff),
/// random 256-bit exponents, and a cached 2048-bit RSA key pair as a server holds it, with a
/// JWT signing input the size of an access token's header.payload.
struct FloorBench {
    base: [u8; 384],
    exps: Vec<[u8; 32]>,
    key: RsaKeyPair,
    input: Vec<u8>,
}

impl FloorBench {
    fn new() -> Result<Self, BoxError> {
        let mut base = [0u8; 384];
        getrandom::fill(&mut base)?;
        base[0] &= 0x7f;
        let mut exps = vec![[0u8; 32]; 16];
        for e in &mut exps {
            getrandom::fill(e)?;
            e[0] |= 0x80;
        }
        let key =
            RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| "RSA key generation failed")?;
        Ok(FloorBench {
            base,
            exps,
            key,
            input: jwt_signing_input(),
        })
    }

    /// Median single-thread CPU costs of the two primitives a sign-in cannot avoid.
    fn measure(&self, samples: usize) -> Floor {
        let samples = samples.max(11);
        for e in self.exps.iter().take(8) {
            black_box(__bench::modexp_aws_lc(&self.base, e)); // warm-up
        }
        let modexp = median(
            (0..samples)
                .map(|i| {
                    let t = thread_cpu_time();
                    black_box(__bench::modexp_aws_lc(
                        black_box(&self.base),
                        &self.exps[i % self.exps.len()],
                    ));
                    thread_cpu_time().saturating_sub(t)
                })
                .collect(),
        );
        let rng = SystemRandom::new();
        let mut sig = vec![0u8; self.key.public_modulus_len()];
        let mut sign = || {
            self.key
                .sign(&RSA_PKCS1_SHA256, &rng, black_box(&self.input), &mut sig)
                .expect("RSA signing");
        };
        for _ in 0..5 {
            sign(); // warm-up
        }
        let rs256 = median(
            (0..samples)
                .map(|_| {
                    let t = thread_cpu_time();
                    sign();
                    thread_cpu_time().saturating_sub(t)
                })
                .collect(),
        );
        Floor { modexp, rs256 }
    }
}

/// `base64url(header) . base64url(payload)` of a typical access token, ~900 bytes.
fn jwt_signing_input() -> Vec<u8> {
    fn b64url(s: &str) -> String {
        base64_encode(s.as_bytes())
            .trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    }
    let header = r#"{"kid":"2cb5f3a1-7c1e-4a0b-9d7a-3f8e5b6c1d20","alg":"RS256"}"#;
    let payload = concat!(
        r#"{"sub":"6f1c2a3e-1b7d-4c55-9a0e-7f1b2c3d4e5f","cognito:groups":["admins","loadgen"],"#,
        r#""iss":"http://127.0.0.1:9229/us-east-1_AbCdEfGhI","client_id":"5q2dlm8ce1examplefvd7c0n3r","#,
        r#""origin_jti":"0c5a9b0e-6f2d-4b8e-8a71-2d4c6e8f0a1b","event_id":"9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b","#,
        r#""token_use":"access","scope":"aws.cognito.signin.user.admin","auth_time":1772355907,"#,
        r#""exp":1772359507,"iat":1772355907,"jti":"3b2a1f0e-9d8c-4b7a-a695-8f7e6d5c4b3a","#,
        r#""username":"6f1c2a3e-1b7d-4c55-9a0e-7f1b2c3d4e5f","device_key":"us-east-1_6c1e3f2a-0b9d-4e8f-a7c6-5d4b3a291807","#,
        r#""custom:tenant":"acme-corporation-international","custom:role":"load-generator"}"#
    );
    format!("{}.{}", b64url(header), b64url(payload)).into_bytes()
}
