//! AWS Signature Version 4 verification for requests to Gatehouse's cognito-idp endpoint, and
//! signing of the requests Gatehouse itself sends (the Lambda Invoke API: [`sign`]).
//!
//! The verifier rebuilds the canonical request from the request exactly as it arrived, derives
//! the signing key for the credential's date, region and service, compares signatures in constant
//! time and enforces the clock-skew window. Refusals carry the exception name, HTTP status and
//! message that AWS itself sends, so SDK users see familiar errors.
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use gatehouse_sigv4::{Credential, Request, Verifier};
//!
//! let headers = [
//!     ("Host", b"cognito-idp.us-east-1.amazonaws.com".as_slice()),
//!     ("X-Amz-Date", b"20240101T000000Z".as_slice()),
//!     ("Authorization", b"AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/cognito-idp/aws4_request, \
//!        SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000".as_slice()),
//! ];
//! let request = Request { method: "POST", path: "/", query: "", headers: &headers, body: b"{}" };
//! let verifier = Verifier::new(["us-east-1"]);
//! let now = UNIX_EPOCH + Duration::from_secs(1_704_067_200); // 2024-01-01T00:00:00Z
//! let err = verifier
//!     .verify(&request, now, &|akid: &str| (akid == "AKID").then(|| Credential::new("secret")))
//!     .unwrap_err();
//! assert_eq!(err.exception_name(), "InvalidSignatureException");
//! assert_eq!(err.status_code(), 400);
//! ```

mod canonical;
mod crypto;
mod error;
mod presign;
mod secret;
mod time;

use std::fmt;
use std::time::{Duration, SystemTime};

pub use error::{ErrorKind, SigV4Error};
pub use secret::{Credential, CredentialStore, Secret};

use canonical::QueryParam;

/// The only algorithm AWS accepts for SigV4.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Last element of every credential scope.
const TERMINATOR: &str = "aws4_request";
/// Longest `X-Amz-Expires` AWS allows on a presigned request: seven days.
const MAX_PRESIGN_EXPIRES: u64 = 604_800;

/// One header as received: name (any case) and raw value bytes.
pub type Header<'a> = (&'a str, &'a [u8]);

/// An HTTP request as it arrived, independent of any HTTP library.
///
/// Behind HTTP/2 there is no `Host` header: pass the `:authority` as a `host` header, which is
/// what HTTP/2 SDK clients sign.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// `POST`, `GET`, ... as sent.
    pub method: &'a str,
    /// Raw, still percent-encoded path, e.g. `/`.
    pub path: &'a str,
    /// Raw query string without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header occurrence, in arrival order.
    pub headers: &'a [Header<'a>],
    /// The complete body.
    pub body: &'a [u8],
}

impl fmt::Debug for Request<'_> {
    // Header values may hold session tokens: show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_len", &self.query.len())
            .field(
                "headers",
                &self.headers.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Who signed an accepted request, and for which scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The access key id that signed.
    pub access_key_id: String,
    /// `YYYYMMDD` of the credential scope.
    pub date: String,
    /// Region of the credential scope (one of the accepted regions).
    pub region: String,
    /// Service of the credential scope (the verifier's service).
    pub service: String,
    /// The request time the client signed (`X-Amz-Date`, or `Date`).
    pub signed_at: SystemTime,
    /// Whether the request carried a session token (already checked against the credential).
    pub session_token: bool,
    /// Whether the signature came in the query string rather than the `Authorization` header.
    pub presigned: bool,
}

/// Which regions a credential scope may name.
#[derive(Clone, Debug)]
enum Regions {
    Any,
    Only(Vec<String>),
}

/// Verifies SigV4 signatures for one service (`cognito-idp` unless changed).
#[derive(Clone, Debug)]
pub struct Verifier {
    service: String,
    regions: Regions,
    max_skew: u64,
    required_headers: Vec<String>,
}

impl Verifier {
    /// The service name SDKs put in the credential scope for Cognito user pools.
    pub const COGNITO_IDP: &'static str = "cognito-idp";

    /// A verifier for `cognito-idp` accepting credential scopes in the given regions, with AWS's
    /// five-minute clock skew.
    #[must_use]
    pub fn new<I, S>(regions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            service: Self::COGNITO_IDP.to_owned(),
            regions: Regions::Only(regions.into_iter().map(Into::into).collect()),
            max_skew: 300,
            required_headers: Vec::new(),
        }
    }

    /// Like [`Verifier::new`] but any region in the credential scope is accepted.
    #[must_use]
    pub fn any_region() -> Self {
        Self {
            regions: Regions::Any,
            ..Self::new(Vec::<String>::new())
        }
    }

    /// Expect another service name in the credential scope.
    #[must_use]
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = service.into();
        self
    }

    /// How far `X-Amz-Date` may be from the server's clock (default five minutes).
    #[must_use]
    pub fn with_max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew.as_secs();
        self
    }

    /// Also insist that this header is signed (`host` always is), e.g. `X-Amz-Target` so a
    /// captured request cannot be replayed as another operation. Every AWS SDK signs it.
    #[must_use]
    pub fn require_signed_header(mut self, name: impl Into<String>) -> Self {
        self.required_headers.push(name.into());
        self
    }

    /// Verifies `request` at time `now`, looking the access key up in `store`.
    pub fn verify<S: CredentialStore + ?Sized>(
        &self,
        request: &Request<'_>,
        now: SystemTime,
        store: &S,
    ) -> Result<Verified, SigV4Error> {
        let pending = self.begin(request, now)?;
        let credential = store.credential(pending.access_key_id());
        pending.finish(credential.as_ref())
    }

    /// First half of [`Verifier::verify`] for async credential stores: runs every check that
    /// needs no secret, then tells which access key to look up.
    pub fn begin<'r>(
        &'r self,
        request: &'r Request<'r>,
        now: SystemTime,
    ) -> Result<Pending<'r>, SigV4Error> {
        // The checks run in the order AWS applies them (as charted against the live services by
        // the dynalite and kinesalite emulators), so a request with several faults gets the
        // same error it would get from AWS: presence, parameters, date, skew, host, algorithm,
        // credential shape, scope; then (in `finish`) key id, signature, session token.
        let query = canonical::parse_query(request.query);
        let authorization = canonical::header_values(request.headers, "authorization")
            .next()
            .map(String::from_utf8_lossy);
        let query_auth = query.iter().any(|p| p.key == b"X-Amz-Algorithm");
        let parts = match (authorization, query_auth) {
            (Some(_), true) => {
                return Err(SigV4Error::invalid(
                    "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' \
                     as HTTP header.",
                ))
            }
            (None, false) => return Err(SigV4Error::missing_token()),
            (Some(auth), false) => from_header(&auth, request.headers)?,
            (None, true) => from_query(&query)?,
        };

        let now = time::unix_seconds(now);
        self.check_time(&parts, now)?;

        let signed_headers: Vec<String> = parts
            .signed_headers
            .split(';')
            .map(str::to_ascii_lowercase)
            .collect();
        let is_signed = |name: &str| signed_headers.iter().any(|h| h.eq_ignore_ascii_case(name));
        if !is_signed("host") {
            return Err(SigV4Error::invalid(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        if let Some(name) = self.required_headers.iter().find(|n| !is_signed(n)) {
            return Err(SigV4Error::invalid(format!(
                "'{name}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }

        if parts.algorithm != ALGORITHM {
            return Err(SigV4Error::incomplete(format!(
                "Unsupported AWS 'algorithm': '{}' (only {ALGORITHM} for now). ",
                parts.algorithm
            )));
        }

        // AWS ignores trailing slashes when counting the credential's elements.
        let credential = parts.credential.trim_end_matches('/');
        let scope: Vec<&str> = credential.split('/').collect();
        let [access_key_id, date, region, service, terminator] = scope[..] else {
            return Err(SigV4Error::incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, \
                 e.g. keyid/date/region/service/term, got '{credential}'"
            )));
        };
        self.check_scope(date, region, service, terminator, parts.timestamp)?;

        Ok(Pending {
            request,
            query,
            signed_headers,
            access_key_id: access_key_id.to_owned(),
            date: date.to_owned(),
            region: region.to_owned(),
            service: service.to_owned(),
            parts,
        })
    }

    fn check_time(&self, parts: &AuthParts, now: i64) -> Result<(), SigV4Error> {
        let skew = i64::try_from(self.max_skew).unwrap_or(i64::MAX);
        let signed = parts.timestamp;
        let stamp = time::format_iso_basic;
        if signed < now.saturating_sub(skew) {
            return Err(SigV4Error::invalid(format!(
                "Signature expired: {} is now earlier than {} ({} - {})",
                stamp(signed),
                stamp(now.saturating_sub(skew)),
                stamp(now),
                duration_text(self.max_skew)
            )));
        }
        if signed > now.saturating_add(skew) {
            return Err(SigV4Error::invalid(format!(
                "Signature not yet current: {} is still later than {} ({} + {})",
                stamp(signed),
                stamp(now.saturating_add(skew)),
                stamp(now),
                duration_text(self.max_skew)
            )));
        }
        // A presigned request also stops being valid after its own X-Amz-Expires.
        if let Some(expires) = parts.expires {
            // At most MAX_PRESIGN_EXPIRES, so the cast is exact.
            let expires_i = expires as i64;
            if signed < now.saturating_sub(expires_i) {
                return Err(SigV4Error::invalid(format!(
                    "Signature expired: {} is now earlier than {} ({} - {})",
                    stamp(signed),
                    stamp(now.saturating_sub(expires_i)),
                    stamp(now),
                    duration_text(expires)
                )));
            }
        }
        Ok(())
    }

    fn check_scope(
        &self,
        date: &str,
        region: &str,
        service: &str,
        terminator: &str,
        timestamp: i64,
    ) -> Result<(), SigV4Error> {
        // AWS reports every scope problem at once, each sentence followed by a space.
        let mut message = String::new();
        let region_ok = match &self.regions {
            Regions::Any => !region.is_empty(),
            Regions::Only(list) => list.iter().any(|r| r == region),
        };
        if !region_ok {
            message += &format!("Credential should be scoped to a valid region, not '{region}'. ");
        }
        if service != self.service {
            message += &format!(
                "Credential should be scoped to correct service: '{}'. ",
                self.service
            );
        }
        if terminator != TERMINATOR {
            message += &format!(
                "Credential should be scoped with a valid terminator: '{TERMINATOR}', not \
                 '{terminator}'. "
            );
        }
        let iso = time::format_iso_basic(timestamp);
        if date != &iso[..8] {
            message += &format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
                 from HTTP: '{date}' != '{}', from '{iso}'. ",
                &iso[..8]
            );
        }
        if message.is_empty() {
            Ok(())
        } else {
            Err(SigV4Error::invalid(message))
        }
    }
}

/// "5 min." as AWS writes the skew window; seconds when it is not whole minutes.
fn duration_text(secs: u64) -> String {
    if secs % 60 == 0 {
        format!("{} min.", secs / 60)
    } else {
        format!("{secs} sec.")
    }
}

/// The signature's parts, wherever they came from.
struct AuthParts {
    algorithm: String,
    credential: String,
    signed_headers: String,
    signature: String,
    /// The signed request time, UTC seconds.
    timestamp: i64,
    /// `X-Amz-Expires` of a presigned request.
    expires: Option<u64>,
    /// The session token the request carries.
    session_token: Option<Vec<u8>>,
    presigned: bool,
}

fn iso_date_error(value: &str) -> SigV4Error {
    SigV4Error::incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{value}'. See \
         http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// Parses `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
fn from_header(auth: &str, headers: &[Header<'_>]) -> Result<AuthParts, SigV4Error> {
    let trimmed = auth.trim();
    let (algorithm, rest) = trimmed
        .split_once(|c: char| c.is_ascii_whitespace())
        .unwrap_or((trimmed, ""));
    let (mut credential, mut signed_headers, mut signature) = (None, None, None);
    // AWS accepts commas, spaces or both between the key=value pairs.
    for piece in rest
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|p| !p.is_empty())
    {
        let Some((key, value)) = piece.split_once('=') else {
            return Err(SigV4Error::incomplete(format!(
                "'{piece}' not a valid key=value pair (missing equal-sign) in Authorization \
                 header: '{auth}'."
            )));
        };
        match key {
            "Credential" => credential = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            "Signature" => signature = Some(value),
            _ => {}
        }
    }

    let amz_date = canonical::canonical_header(headers, "x-amz-date");
    let http_date = canonical::canonical_header(headers, "date");

    let mut missing = String::new();
    if credential.is_none_or(str::is_empty) {
        missing += "Authorization header requires 'Credential' parameter. ";
    }
    if signature.is_none_or(str::is_empty) {
        missing += "Authorization header requires 'Signature' parameter. ";
    }
    // An empty SignedHeaders is accepted here and refused later for not signing `host`.
    if signed_headers.is_none() {
        missing += "Authorization header requires 'SignedHeaders' parameter. ";
    }
    if amz_date.is_none() && http_date.is_none() {
        missing += "Authorization header requires existence of either a 'X-Amz-Date' or a \
                    'Date' header. ";
    }
    if !missing.is_empty() {
        return Err(SigV4Error::incomplete(format!(
            "{missing}Authorization={auth}"
        )));
    }

    // X-Amz-Date wins; the Date header (which botocore signs when the caller set one) may also
    // be in HTTP-date form.
    let timestamp = match (amz_date, http_date) {
        (Some(v), _) => {
            let v = String::from_utf8_lossy(&v);
            time::parse_iso_basic(&v).ok_or_else(|| iso_date_error(&v))?
        }
        (None, Some(v)) => {
            let v = String::from_utf8_lossy(&v);
            time::parse_iso_basic(&v)
                .or_else(|| time::parse_http_date(&v))
                .ok_or_else(|| iso_date_error(&v))?
        }
        (None, None) => unreachable!("checked above"),
    };

    let session_token = canonical::header_values(headers, "x-amz-security-token")
        .next()
        .map(|v| v.trim_ascii().to_vec());

    Ok(AuthParts {
        algorithm: algorithm.to_owned(),
        credential: credential.unwrap_or_default().to_owned(),
        signed_headers: signed_headers.unwrap_or_default().to_owned(),
        signature: signature.unwrap_or_default().to_owned(),
        timestamp,
        expires: None,
        session_token,
        presigned: false,
    })
}

/// Parses presigned query-string authentication (`X-Amz-Algorithm=...&X-Amz-Credential=...`).
fn from_query(query: &[QueryParam]) -> Result<AuthParts, SigV4Error> {
    let get = |name: &str| {
        query
            .iter()
            .find(|p| p.key == name.as_bytes())
            .map(|p| String::from_utf8_lossy(&p.value).into_owned())
    };
    let mut missing = String::new();
    let mut required = |name: &str| {
        let value = get(name).filter(|v| !v.is_empty());
        if value.is_none() {
            missing += &format!("AWS query-string parameters must include '{name}'. ");
        }
        value.unwrap_or_default()
    };
    let algorithm = required("X-Amz-Algorithm");
    let credential = required("X-Amz-Credential");
    let signature = required("X-Amz-Signature");
    let signed_headers = required("X-Amz-SignedHeaders");
    let date = required("X-Amz-Date");
    if !missing.is_empty() {
        return Err(SigV4Error::incomplete(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    }
    let timestamp = time::parse_iso_basic(&date).ok_or_else(|| iso_date_error(&date))?;
    let expires = match get("X-Amz-Expires") {
        None => None,
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if secs <= MAX_PRESIGN_EXPIRES => Some(secs),
            _ => {
                return Err(SigV4Error::incomplete(format!(
                    "X-Amz-Expires must be a whole number of seconds between 0 and \
                     {MAX_PRESIGN_EXPIRES}, got '{v}'. Re-examine the query-string parameters."
                )))
            }
        },
    };
    Ok(AuthParts {
        algorithm,
        credential,
        signed_headers,
        signature,
        timestamp,
        expires,
        session_token: get("X-Amz-Security-Token").map(String::into_bytes),
        presigned: true,
    })
}

/// A request whose signature is well formed and in scope, waiting for the credential of
/// [`Pending::access_key_id`].
pub struct Pending<'r> {
    request: &'r Request<'r>,
    query: Vec<QueryParam>,
    signed_headers: Vec<String>,
    access_key_id: String,
    date: String,
    region: String,
    service: String,
    parts: AuthParts,
}

impl fmt::Debug for Pending<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("access_key_id", &self.access_key_id)
            .field("date", &self.date)
            .field("region", &self.region)
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl Pending<'_> {
    /// The access key id to look up.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Checks the signature with the looked-up credential (`None`: unknown access key).
    pub fn finish(self, credential: Option<&Credential>) -> Result<Verified, SigV4Error> {
        let credential = credential.ok_or_else(SigV4Error::unrecognized_client)?;

        let canonical_request = self.canonical_request();
        let string_to_sign = format!(
            "{ALGORITHM}\n{}\n{}/{}/{}/{TERMINATOR}\n{}",
            time::format_iso_basic(self.parts.timestamp),
            self.date,
            self.region,
            self.service,
            crypto::hex(&crypto::sha256(&canonical_request)),
        );
        let key = crypto::signing_key(
            credential.secret_access_key().expose(),
            &self.date,
            &self.region,
            &self.service,
        );
        let matches = crypto::decode_signature(&self.parts.signature)
            .is_some_and(|sig| crypto::signature_matches(&key, string_to_sign.as_bytes(), &sig));
        if !matches {
            return Err(SigV4Error::signature_mismatch());
        }

        // The token is checked after the signature, as AWS does. It need not be signed (some
        // clients add it afterwards) but must be the one issued with this key, and a long-term
        // key takes none.
        let token_ok = match (credential.session_token(), &self.parts.session_token) {
            (None, None) => true,
            (Some(expected), Some(sent)) => {
                crypto::secrets_equal(expected.expose().as_bytes(), sent)
            }
            _ => false,
        };
        if !token_ok {
            return Err(SigV4Error::unrecognized_client());
        }

        Ok(Verified {
            access_key_id: self.access_key_id,
            date: self.date,
            region: self.region,
            service: self.service,
            signed_at: time::system_time(self.parts.timestamp),
            session_token: self.parts.session_token.is_some(),
            presigned: self.parts.presigned,
        })
    }

    /// The canonical request, rebuilt from the request as received.
    fn canonical_request(&self) -> Vec<u8> {
        let skip = self
            .parts
            .presigned
            .then_some(b"X-Amz-Signature".as_slice());
        canonical_request(self.request, &self.query, skip, &self.signed_headers)
    }
}

/// The canonical request of `req` over `signed_headers` (lower-case, sorted): what the verifier
/// rebuilds and the signer signs.
fn canonical_request(
    req: &Request<'_>,
    query: &[QueryParam],
    skip: Option<&[u8]>,
    signed_headers: &[String],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(req.method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical::canonical_uri(req.path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical::canonical_query(query, skip).as_bytes());
    out.push(b'\n');
    for name in signed_headers {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        canonical::push_canonical_header_value(
            &mut out,
            canonical::header_values(req.headers, name),
        );
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.join(";").as_bytes());
    out.push(b'\n');
    // Non-S3 services hash the body they received; a client-sent x-amz-content-sha256 is
    // only ever a signed header, never trusted as the payload hash.
    out.extend_from_slice(crypto::hex(&crypto::sha256(req.body)).as_bytes());
    out
}

/// The headers that sign an outgoing request: add them to it as they are.
#[derive(Clone)]
pub struct Signed {
    /// `X-Amz-Date`, unless the request carried one (then that one was signed).
    pub amz_date: Option<String>,
    /// `X-Amz-Security-Token`, for a credential with a session token.
    pub security_token: Option<String>,
    pub authorization: String,
}

impl fmt::Debug for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signed")
            .field("amz_date", &self.amz_date)
            .finish_non_exhaustive()
    }
}

/// Signs `req` (its headers must include `host`) for `service` in `region` at `now`, over every
/// header it has plus `X-Amz-Date` and the session token: the Authorization header and its
/// companions, as an AWS SDK would send them. Gatehouse signs its calls to the Lambda Invoke API
/// with it; the canonical request is the verifier's, so both sides read SigV4 one way.
pub fn sign(
    req: &Request<'_>,
    access_key_id: &str,
    credential: &Credential,
    region: &str,
    service: &str,
    now: SystemTime,
) -> Signed {
    let timestamp = time::unix_seconds(now);
    let given_date = canonical::canonical_header(req.headers, "x-amz-date")
        .and_then(|d| String::from_utf8(d).ok());
    let amz_date = given_date
        .clone()
        .unwrap_or_else(|| time::format_iso_basic(timestamp));
    let date = amz_date.get(..8).unwrap_or_default().to_string();
    let token = credential
        .session_token()
        .map(|t| t.expose().to_string())
        .filter(|_| canonical::canonical_header(req.headers, "x-amz-security-token").is_none());
    let mut headers: Vec<Header<'_>> = req.headers.to_vec();
    if given_date.is_none() {
        headers.push(("x-amz-date", amz_date.as_bytes()));
    }
    if let Some(t) = &token {
        headers.push(("x-amz-security-token", t.as_bytes()));
    }
    let mut signed_headers: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    signed_headers.sort();
    signed_headers.dedup();
    let with_headers = Request {
        headers: &headers,
        ..*req
    };
    let query = canonical::parse_query(req.query);
    let canonical = canonical_request(&with_headers, &query, None, &signed_headers);
    let scope = format!("{date}/{region}/{service}/{TERMINATOR}");
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        crypto::hex(&crypto::sha256(&canonical)),
    );
    let key = crypto::signing_key(
        credential.secret_access_key().expose(),
        &date,
        region,
        service,
    );
    let signature = crypto::sign_hex(&key, string_to_sign.as_bytes());
    Signed {
        amz_date: given_date.is_none().then_some(amz_date),
        security_token: token,
        authorization: format!(
            "{ALGORITHM} Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={signature}",
            signed_headers.join(";")
        ),
    }
}

pub use presign::{check_presigned, presign, PresignError, PresignTarget};

#[cfg(test)]
mod tests;
