//! Starts the real `gatehouse` binary on a free port with a temporary data directory, and gives
//! tests an official AWS SDK client pointed at it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::Client;

pub struct TestServer {
    child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    pub log_path: PathBuf,
    pub stdout_path: PathBuf,
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestServer {
    /// A fresh server with an empty database.
    pub fn start() -> TestServer {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut s = TestServer::launch(&dir, &["--dev"]);
        s._tmp = Some(tmp);
        s
    }

    /// A server on an existing data directory (restart tests), in development mode.
    pub fn start_in(data_dir: &Path) -> TestServer {
        TestServer::launch(data_dir, &["--dev"])
    }

    /// A server with its own temporary data directory and the given flags (no `--dev` unless
    /// given).
    pub fn start_with(args: &[&str]) -> TestServer {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let mut s = TestServer::launch(&dir, args);
        s._tmp = Some(tmp);
        s
    }

    /// Starts the binary on a port found free. Another test (or suite, CI runs two side by side)
    /// may bind that port first: then this child exits with "cannot listen", and a `/health`
    /// answered on the port would be the other server's. So the child's own "gatehouse
    /// listening" line is awaited before `/health` is trusted, and a lost port means a new one.
    pub fn launch(data_dir: &Path, args: &[&str]) -> TestServer {
        for attempt in 1..=5 {
            let port = free_port();
            let log_path = data_dir.join(format!("server-{port}.log"));
            let stdout_path = data_dir.join(format!("server-{port}.out"));
            let log = std::fs::File::create(&log_path).unwrap();
            let out = std::fs::File::create(&stdout_path).unwrap();
            let child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .args(args)
                .arg("--data-dir")
                .arg(data_dir)
                .env_remove("GATEHOUSE_CONFIG")
                .env_remove("GATEHOUSE_DEV")
                .env_remove("GATEHOUSE_LOG") // the "gatehouse listening" line is awaited
                .env("NO_COLOR", "1")
                .stdout(out)
                .stderr(log)
                .spawn()
                .expect("start gatehouse");
            let mut s = TestServer {
                child: Some(child),
                port,
                data_dir: data_dir.to_path_buf(),
                _tmp: None,
                log_path,
                stdout_path,
            };
            match s.wait_healthy() {
                Ok(()) => return s,
                Err(log) if attempt < 5 && log.contains("cannot listen") => continue,
                Err(log) => panic!("gatehouse did not become healthy; log:\n{log}"),
            }
        }
        unreachable!()
    }

    /// What the server printed on stdout.
    pub fn stdout(&self) -> String {
        std::fs::read_to_string(&self.stdout_path).unwrap_or_default()
    }

    /// The admin key pair from the two `export` lines the server printed on first start.
    pub fn printed_credentials(&self) -> (String, String) {
        let out = self.stdout();
        let get = |var: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("export {var}=")))
                .unwrap_or_else(|| panic!("{var} not printed; stdout: {out:?}"))
                .to_string()
        };
        (get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"))
    }

    /// An SDK client signing with the given key pair.
    pub fn client_with(&self, key: &str, secret: &str) -> Client {
        let conf = aws_sdk_cognitoidentityprovider::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(self.url())
            .credentials_provider(Credentials::new(key, secret, None, None, "test"))
            .build();
        Client::from_conf(conf)
    }

    /// Ok once this child is listening and answers `/health`; Err(log) if it exited or never did.
    fn wait_healthy(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let exited = self
                .child
                .as_mut()
                .map(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited != Some(false) {
                self.child = None;
                return Err(self.log());
            }
            if self.log().contains("gatehouse listening")
                && self
                    .http("GET", "/health", &[], b"")
                    .map(|(status, _, _)| status == 200)
                    .unwrap_or(false)
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.stop();
        Err(self.log())
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK client with dummy credentials (development mode accepts any).
    pub fn client(&self) -> Client {
        self.client_with("AKIDGATEHOUSETEST", "test-secret")
    }

    /// A minimal HTTP/1.1 exchange for protocol-level tests: (status, headers, body).
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
        http_at(self.port, method, path, headers, body)
    }

    /// POST an AWS JSON 1.1 request with the given target operation.
    pub fn call_raw(
        &self,
        target: Option<&str>,
        body: &[u8],
    ) -> (u16, Vec<(String, String)>, serde_json::Value) {
        let t = target.map(|t| format!("AWSCognitoIdentityProviderService.{t}"));
        let mut headers = vec![("Content-Type", "application/x-amz-json-1.1")];
        if let Some(t) = &t {
            headers.push(("X-Amz-Target", t.as_str()));
        }
        let (status, h, b) = self.http("POST", "/", &headers, body).unwrap();
        let v = serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null);
        (status, h, v)
    }

    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log_path).unwrap_or_default()).into_owned()
    }

    /// Sends SIGTERM and waits up to `limit` for the process to exit: how long it took, or
    /// None (then it is killed).
    pub fn terminate_within(&mut self, limit: Duration) -> Option<Duration> {
        let mut c = self.child.take()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status();
        while started.elapsed() < limit {
            if let Ok(Some(_)) = c.try_wait() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// Stops the server with SIGTERM (graceful) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A minimal HTTP/1.1 exchange with 127.0.0.1:`port`: (status, headers, body).
pub fn http_at(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())?;
    // The server may answer before reading an oversized body; ignore a reset while writing.
    let _ = s.write_all(body);
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let hdrs: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if hdrs
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v == "chunked")
    {
        body = dechunk(&body);
    }
    Ok((status, hdrs, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.windows(2).position(|w| w == b"\r\n") else {
            break;
        };
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[nl + 2 + size + 2..];
    }
    out
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The exception name and message of a failed SDK call.
pub fn err_of<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    r: Result<T, E>,
) -> (String, String) {
    let e = r.expect_err("the call should have failed");
    (
        e.code().unwrap_or("<none>").to_string(),
        e.message().unwrap_or("").to_string(),
    )
}

/// A user pool with default settings; its id.
pub async fn create_pool(c: &Client, name: &str) -> String {
    c.create_user_pool()
        .pool_name(name)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap()
}

/// An app client without a secret allowing `flows`; its id.
pub async fn create_app_client(
    c: &Client,
    pool: &str,
    flows: &[aws_sdk_cognitoidentityprovider::types::ExplicitAuthFlowsType],
) -> String {
    c.create_user_pool_client()
        .user_pool_id(pool)
        .client_name("app")
        .set_explicit_auth_flows(Some(flows.to_vec()))
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap()
}

/// A CONFIRMED user: AdminCreateUser without a message, then a permanent AdminSetUserPassword.
pub async fn create_confirmed_user(c: &Client, pool: &str, username: &str, password: &str) {
    c.admin_create_user()
        .user_pool_id(pool)
        .username(username)
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.admin_set_user_password()
        .user_pool_id(pool)
        .username(username)
        .password(password)
        .permanent(true)
        .send()
        .await
        .unwrap();
}
