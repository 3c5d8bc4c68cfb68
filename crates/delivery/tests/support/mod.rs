//! Real listeners for the delivery tests: a small SMTP server (RFC 5321 subset) and an HTTP
//! webhook receiver, both on free 127.0.0.1 ports, both recording what they received.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use gatehouse_core::messages::{Medium, OutgoingMessage, Purpose};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

pub fn email_message(code: &str) -> OutgoingMessage {
    OutgoingMessage {
        message_id: "0b6c1f5e-3a0d-4c55-9a59-5f2f5e0c9d11".into(),
        pool_id: "us-east-1_TestPool1".into(),
        username: "alice".into(),
        destination: "alice@example.com".into(),
        medium: Medium::Email,
        purpose: Purpose::SignUp,
        subject: Some("Your verification code".into()),
        body: format!("Your confirmation code is {code}"),
        code: Some(code.into()),
        created_at: 1_700_000_000_123,
        delivery: Default::default(),
        delivered_at: None,
        redacted: false,
    }
}

pub fn sms_message(code: &str) -> OutgoingMessage {
    OutgoingMessage {
        message_id: "7d9e2c4b-1f3a-4e6d-8b2c-0a1b2c3d4e5f".into(),
        pool_id: "us-east-1_TestPool1".into(),
        username: "bob".into(),
        destination: "+15550100".into(),
        medium: Medium::Sms,
        purpose: Purpose::Mfa,
        subject: None,
        body: format!("Your authentication code is {code}"),
        code: Some(code.into()),
        created_at: 1_700_000_000_456,
        delivery: Default::default(),
        delivered_at: None,
        redacted: false,
    }
}

/// A port on which nothing listens (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------------------------------
// SMTP

/// One completed mail transaction.
#[derive(Debug, Clone, Default)]
pub struct SmtpTransaction {
    pub hello: String,
    /// The decoded `AUTH PLAIN` response: `\0user\0password`.
    pub auth_plain: Option<String>,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message as received after DATA, dot-unstuffed, CRLF line ends.
    pub data: String,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SmtpBehaviour {
    /// Advertise `AUTH PLAIN LOGIN` in the EHLO reply.
    pub offer_auth: bool,
    /// Answer every RCPT TO with 550.
    pub refuse_recipients: bool,
    /// Greet the first N connections with 421 (service not available) and hang up.
    pub busy_connections: usize,
}

#[derive(Default)]
pub struct SmtpLog {
    pub connections: usize,
    pub transactions: Vec<SmtpTransaction>,
    /// Every command line received, in order, over all connections.
    pub commands: Vec<String>,
}

pub struct SmtpServer {
    pub port: u16,
    pub log: Arc<Mutex<SmtpLog>>,
}

impl SmtpServer {
    pub async fn start(behaviour: SmtpBehaviour) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(SmtpLog::default()));
        let shared = log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let index = {
                    let mut log = shared.lock().unwrap();
                    log.connections += 1;
                    log.connections - 1
                };
                let log = shared.clone();
                tokio::spawn(async move {
                    let _ = smtp_session(stream, behaviour, index, log).await;
                });
            }
        });
        SmtpServer { port, log }
    }

    pub fn transactions(&self) -> Vec<SmtpTransaction> {
        self.log.lock().unwrap().transactions.clone()
    }

    pub fn connections(&self) -> usize {
        self.log.lock().unwrap().connections
    }
}

async fn smtp_session(
    stream: TcpStream,
    behaviour: SmtpBehaviour,
    index: usize,
    log: Arc<Mutex<SmtpLog>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if index < behaviour.busy_connections {
        write
            .write_all(b"421 4.3.2 test.local busy, try again later\r\n")
            .await?;
        return Ok(());
    }
    write.write_all(b"220 test.local ESMTP ready\r\n").await?;
    let mut tx = SmtpTransaction::default();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']).to_owned();
        log.lock().unwrap().commands.push(command.clone());
        let upper = command.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO ") {
            tx = SmtpTransaction {
                hello: command[5..].to_owned(),
                ..Default::default()
            };
            if behaviour.offer_auth {
                "250-test.local\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES\r\n".into()
            } else {
                "250-test.local\r\n250 ENHANCEDSTATUSCODES\r\n".into()
            }
        } else if upper.starts_with("HELO ") {
            tx = SmtpTransaction {
                hello: command[5..].to_owned(),
                ..Default::default()
            };
            "250 test.local\r\n".into()
        } else if upper.starts_with("AUTH PLAIN ") && behaviour.offer_auth {
            use base64::Engine;
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(command[11..].trim())
                .unwrap_or_default();
            tx.auth_plain = Some(String::from_utf8_lossy(&decoded).into_owned());
            "235 2.7.0 authenticated\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            tx.mail_from = angle_address(&command[10..]);
            "250 2.1.0 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            if behaviour.refuse_recipients {
                "550 5.1.1 mailbox unavailable\r\n".into()
            } else {
                tx.rcpt_to.push(angle_address(&command[8..]));
                "250 2.1.5 ok\r\n".into()
            }
        } else if upper == "DATA" {
            if tx.rcpt_to.is_empty() {
                "554 5.5.1 no valid recipients\r\n".into()
            } else {
                write
                    .write_all(b"354 end data with <CRLF>.<CRLF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    let unstuffed = line.strip_prefix('.').unwrap_or(&line);
                    data.push_str(unstuffed);
                }
                tx.data = data;
                log.lock().unwrap().transactions.push(tx.clone());
                tx = SmtpTransaction {
                    hello: tx.hello.clone(),
                    ..Default::default()
                };
                "250 2.0.0 queued\r\n".into()
            }
        } else if upper == "RSET" {
            tx = SmtpTransaction {
                hello: tx.hello.clone(),
                ..Default::default()
            };
            "250 2.0.0 ok\r\n".into()
        } else if upper == "NOOP" {
            "250 2.0.0 ok\r\n".into()
        } else if upper == "QUIT" {
            write.write_all(b"221 2.0.0 bye\r\n").await?;
            return Ok(());
        } else {
            "502 5.5.2 command not implemented\r\n".into()
        };
        write.write_all(reply.as_bytes()).await?;
    }
}

/// `<a@b> BODY=8BITMIME` → `a@b`.
fn angle_address(rest: &str) -> String {
    let rest = rest.trim();
    match (rest.find('<'), rest.find('>')) {
        (Some(open), Some(close)) if open < close => rest[open + 1..close].to_owned(),
        _ => rest.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

// ---------------------------------------------------------------------------------------
// Webhook

#[derive(Debug, Clone)]
pub struct HookRequest {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl HookRequest {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .unwrap()
    }
}

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy)]
pub enum Reply {
    Status(u16),
    /// Wait this long, then answer 200.
    Slow(Duration),
}

#[derive(Clone)]
struct HookState {
    requests: Arc<Mutex<Vec<HookRequest>>>,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

pub struct HookServer {
    pub url: String,
    requests: Arc<Mutex<Vec<HookRequest>>>,
}

impl HookServer {
    /// Answers the scripted replies in order, then 200 for every further request.
    pub async fn start(script: &[Reply]) -> HookServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let state = HookState {
            requests: Arc::new(Mutex::new(Vec::new())),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
        };
        let requests = state.requests.clone();
        let app = axum::Router::new()
            .route("/hooks/gatehouse", post(receive))
            .with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        HookServer {
            url: format!("http://{addr}/hooks/gatehouse"),
            requests,
        }
    }

    pub fn requests(&self) -> Vec<HookRequest> {
        self.requests.lock().unwrap().clone()
    }
}

async fn receive(State(state): State<HookState>, headers: HeaderMap, body: Bytes) -> StatusCode {
    state
        .requests
        .lock()
        .unwrap()
        .push(HookRequest { headers, body });
    let reply = state
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or(Reply::Status(200));
    match reply {
        Reply::Status(code) => StatusCode::from_u16(code).unwrap(),
        Reply::Slow(wait) => {
            tokio::time::sleep(wait).await;
            StatusCode::OK
        }
    }
}
