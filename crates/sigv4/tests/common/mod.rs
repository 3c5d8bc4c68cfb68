//! Shared helpers: an owned request, and signing through the `aws-sigv4` crate (the oracle).
#![allow(dead_code)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SessionTokenMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use gatehouse_sigv4::{Credential, Request, SigV4Error, Verified, Verifier};

pub const AKID: &str = "AKIDEXAMPLE";
pub const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
pub const HOST: &str = "cognito-idp.us-east-1.amazonaws.com";
/// 2024-01-01T00:00:00Z.
pub const T0: u64 = 1_704_067_200;

pub fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[derive(Clone)]
pub struct Owned {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} {}?{}", self.method, self.path, self.query)?;
        for (n, v) in &self.headers {
            writeln!(f, "{n}: {}", String::from_utf8_lossy(v))?;
        }
        write!(f, "\n{}", String::from_utf8_lossy(&self.body))
    }
}

impl Owned {
    /// What an SDK sends for a cognito-idp operation, before signing.
    pub fn cognito(operation: &str, body: &str) -> Self {
        Self {
            method: "POST".into(),
            path: "/".into(),
            query: String::new(),
            headers: vec![
                ("Host".into(), HOST.into()),
                (
                    "Content-Type".into(),
                    b"application/x-amz-json-1.1".to_vec(),
                ),
                (
                    "X-Amz-Target".into(),
                    format!("AWSCognitoIdentityProviderService.{operation}").into_bytes(),
                ),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn with<T>(&self, f: impl FnOnce(&Request<'_>) -> T) -> T {
        let headers: Vec<(&str, &[u8])> = self
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_slice()))
            .collect();
        f(&Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &headers,
            body: &self.body,
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    pub fn set_header(&mut self, name: &str, value: &str) {
        self.remove_header(name);
        self.headers.push((name.into(), value.as_bytes().to_vec()));
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Verifies with the example key (plus `token`, if any) known to the store.
    pub fn verify_at(
        &self,
        verifier: &Verifier,
        now: SystemTime,
        token: Option<&str>,
    ) -> Result<Verified, SigV4Error> {
        let token = token.map(str::to_owned);
        self.with(|req| {
            verifier.verify(req, now, &|akid: &str| {
                (akid == AKID).then(|| {
                    let c = Credential::new(SECRET);
                    match &token {
                        Some(t) => c.with_session_token(t.as_str()),
                        None => c,
                    }
                })
            })
        })
    }
}

/// How to sign with the oracle.
#[derive(Clone, Debug)]
pub struct Sign {
    pub akid: String,
    pub secret: String,
    pub token: Option<String>,
    pub region: String,
    pub service: String,
    pub time: SystemTime,
    pub presign: Option<Duration>,
    pub token_unsigned: bool,
    pub content_sha256_header: bool,
}

impl Default for Sign {
    fn default() -> Self {
        Self {
            akid: AKID.into(),
            secret: SECRET.into(),
            token: None,
            region: "us-east-1".into(),
            service: "cognito-idp".into(),
            time: at(T0),
            presign: None,
            token_unsigned: false,
            content_sha256_header: false,
        }
    }
}

/// Signs `req` in place with the `aws-sigv4` crate, applying its instructions the way the Rust
/// SDK does (through `http::Request`).
pub fn sign_with(req: &mut Owned, opts: &Sign) {
    let identity: Identity =
        Credentials::new(&opts.akid, &opts.secret, opts.token.clone(), None, "test").into();
    let mut settings = SigningSettings::default();
    if let Some(expires) = opts.presign {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
    }
    if opts.token_unsigned {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }
    if opts.content_sha256_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&opts.region)
        .name(&opts.service)
        .time(opts.time)
        .settings(settings)
        .build()
        .unwrap()
        .into();

    let host = req.header("host").unwrap_or_else(|| HOST.to_owned());
    let uri = if req.query.is_empty() {
        format!("https://{host}{}", req.path)
    } else {
        format!("https://{host}{}?{}", req.path, req.query)
    };
    let header_strs: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|(n, v)| (n.clone(), String::from_utf8(v.clone()).unwrap()))
        .collect();
    let signable = SignableRequest::new(
        &req.method,
        uri.clone(),
        header_strs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(&req.body),
    )
    .unwrap();
    let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();

    let mut http_req = http::Request::builder()
        .method(req.method.as_str())
        .uri(uri)
        .body(())
        .unwrap();
    instructions.apply_to_request_http1x(&mut http_req);
    if let Some(q) = http_req.uri().query() {
        req.query = q.to_owned();
    }
    for (name, value) in http_req.headers() {
        req.headers
            .push((name.as_str().to_owned(), value.as_bytes().to_vec()));
    }
}

pub fn sign_default(req: &mut Owned) {
    sign_with(req, &Sign::default());
}

/// The verifier Gatehouse runs by default in these tests.
pub fn verifier() -> Verifier {
    Verifier::new(["us-east-1", "eu-west-1"])
}
