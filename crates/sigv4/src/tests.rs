//! Known-answer tests: AWS's SigV4 test suite and the worked example of AWS's documentation.
//! These live inside the crate so the rebuilt canonical request can be compared line by line.

use super::*;
use std::path::{Path, PathBuf};

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// A request parsed from the suite's `*-signed-request.txt`.
struct Parsed {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

fn parse_http(text: &str) -> Parsed {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().unwrap();
    let (method, target) = request_line.split_once(' ').unwrap();
    // The target may contain raw spaces (get-space-*), so only the protocol suffix is cut.
    let target = target.strip_suffix(" HTTP/1.1").unwrap_or(target);
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            // Obsolete line folding (get-header-value-multiline): keep the fold, the verifier
            // collapses it like any whitespace run.
            let last = headers.last_mut().unwrap();
            last.1.push(b'\n');
            last.1.extend_from_slice(line.as_bytes());
        } else {
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_owned(), value.trim().as_bytes().to_vec()));
        }
    }
    Parsed {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn with_request<T>(p: &Parsed, f: impl FnOnce(&Request<'_>) -> T) -> T {
    let headers: Vec<Header<'_>> = p
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    f(&Request {
        method: &p.method,
        path: &p.path,
        query: &p.query,
        headers: &headers,
        body: &p.body,
    })
}

/// AWS's SigV4 test suite ships inside the `aws-sigv4` crate (a dev-dependency, so cargo has
/// unpacked its source); read it from there rather than keeping a copy.
fn suite_dir() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join("registry/src"))
        .expect("cargo registry sources")
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("aws-sigv4-"))
                && p.join("aws-signing-test-suite/v4").is_dir()
        })
        .collect();
    found.sort();
    found
        .pop()
        .expect("aws-sigv4's source (dev-dependency) with its aws-signing-test-suite")
        .join("aws-signing-test-suite/v4")
}

fn json_str(json: &str, key: &str) -> Option<String> {
    // The context files are flat and simple; a full JSON parser is not worth a dependency.
    let at = json.find(&format!("\"{key}\""))?;
    let rest = &json[at + key.len() + 2..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

struct Case {
    name: String,
    token: Option<String>,
    now: SystemTime,
    region: String,
    service: String,
    /// The token was added after signing (`omit_session_token`).
    token_unsigned: bool,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(suite_dir()).unwrap() {
        let dir = entry.unwrap().path();
        // Cases without a context, or with `"normalize": false`, describe S3's unnormalised
        // paths; cognito-idp, like every non-S3 service, normalises.
        let Ok(context) = std::fs::read_to_string(dir.join("context.json")) else {
            continue;
        };
        if context.contains("\"normalize\": false") {
            continue;
        }
        let ts = json_str(&context, "timestamp")
            .unwrap()
            .replace(['-', ':'], "");
        out.push(Case {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            token: json_str(&context, "token"),
            now: time::system_time(time::parse_iso_basic(&ts).unwrap()),
            region: json_str(&context, "region").unwrap(),
            service: json_str(&context, "service").unwrap(),
            token_unsigned: context.contains("\"omit_session_token\": true"),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(out.len() >= 30, "test suite fixtures missing");
    out
}

fn credential(token: Option<&str>) -> Credential {
    let c = Credential::new(SECRET);
    match token {
        Some(t) => c.with_session_token(t),
        None => c,
    }
}

#[test]
fn aws_test_suite_header_signatures() {
    for case in cases() {
        let dir = suite_dir().join(&case.name);
        let signed = std::fs::read_to_string(dir.join("header-signed-request.txt")).unwrap();
        let want_canonical =
            std::fs::read_to_string(dir.join("header-canonical-request.txt")).unwrap();
        let want_sts = std::fs::read_to_string(dir.join("header-string-to-sign.txt")).unwrap();
        let parsed = parse_http(&signed);
        let verifier = Verifier::new([case.region.as_str()]).with_service(&case.service);
        with_request(&parsed, |req| {
            let pending = verifier.begin(req, case.now).unwrap();
            let canonical = String::from_utf8(pending.canonical_request()).unwrap();
            assert_eq!(
                canonical, want_canonical,
                "{}: canonical request",
                case.name
            );
            let sts_hash = crypto::hex(&crypto::sha256(canonical.as_bytes()));
            assert!(
                want_sts.ends_with(&sts_hash),
                "{}: string to sign",
                case.name
            );
            let verified = pending
                .finish(Some(&credential(case.token.as_deref())))
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(verified.access_key_id, AKID);
            assert_eq!(verified.session_token, case.token.is_some());
            assert!(!verified.presigned);
        });
    }
}

#[test]
fn aws_test_suite_presigned_urls() {
    for case in cases() {
        let dir = suite_dir().join(&case.name);
        // A query-string token is either in the canonical query or not; AWS and the SDKs put it
        // in, so the suite's "token added after signing" variant does not apply to URLs.
        let Ok(signed) = std::fs::read_to_string(dir.join("query-signed-request.txt")) else {
            continue;
        };
        if case.token_unsigned {
            continue;
        }
        let want_canonical =
            std::fs::read_to_string(dir.join("query-canonical-request.txt")).unwrap();
        let parsed = parse_http(&signed);
        let verifier = Verifier::new([case.region.as_str()]).with_service(&case.service);
        with_request(&parsed, |req| {
            let pending = verifier.begin(req, case.now).unwrap();
            let canonical = String::from_utf8(pending.canonical_request()).unwrap();
            assert_eq!(
                canonical, want_canonical,
                "{}: canonical request",
                case.name
            );
            let verified = pending
                .finish(Some(&credential(case.token.as_deref())))
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert!(verified.presigned);
        });
    }
}

#[test]
fn aws_test_suite_tampering_is_refused() {
    for case in cases() {
        let dir = suite_dir().join(&case.name);
        let signed = std::fs::read_to_string(dir.join("header-signed-request.txt")).unwrap();
        let mut parsed = parse_http(&signed);
        parsed.body.push(b'!');
        let verifier = Verifier::new([case.region.as_str()]).with_service(&case.service);
        let err = with_request(&parsed, |req| {
            verifier
                .verify(req, case.now, &|_: &str| {
                    Some(credential(case.token.as_deref()))
                })
                .unwrap_err()
        });
        assert_eq!(err, SigV4Error::signature_mismatch(), "{}", case.name);
    }
}

/// The worked example of AWS's "Create a signed AWS API request" documentation (IAM ListUsers).
#[test]
fn documented_iam_example() {
    let headers: Vec<Header<'_>> = vec![
        ("Host", b"iam.amazonaws.com".as_slice()),
        (
            "Content-Type",
            b"application/x-www-form-urlencoded; charset=utf-8".as_slice(),
        ),
        ("X-Amz-Date", b"20150830T123600Z".as_slice()),
        (
            "Authorization",
            b"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, \
              SignedHeaders=content-type;host;x-amz-date, \
              Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
                .as_slice(),
        ),
    ];
    let req = Request {
        method: "GET",
        path: "/",
        query: "Action=ListUsers&Version=2010-05-08",
        headers: &headers,
        body: b"",
    };
    let now = time::system_time(time::parse_iso_basic("20150830T123900Z").unwrap());
    let verifier = Verifier::new(["us-east-1"]).with_service("iam");
    let pending = verifier.begin(&req, now).unwrap();
    assert_eq!(
        crypto::hex(&crypto::sha256(&pending.canonical_request())),
        "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    let verified = pending.finish(Some(&Credential::new(SECRET))).unwrap();
    assert_eq!(verified.date, "20150830");
    assert_eq!(verified.region, "us-east-1");
    assert_eq!(verified.service, "iam");
}

/// The suite's double-url-encode case (a Lambda ARN in the path) ships no context file; its
/// canonical URI is the part that matters.
#[test]
fn aws_test_suite_double_url_encode() {
    assert_eq!(
        canonical::canonical_uri(
            "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations"
        ),
        "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-west-2%253A892717189312%253Afunction%253Amy-rusty-fun/invocations"
    );
}

/// The signer against the suite: each unsigned `request.txt`, signed at the case's time, gets
/// the suite's signature.
#[test]
fn aws_test_suite_signing() {
    let mut signed_cases = 0;
    for case in cases() {
        // A token added after signing is not something a signer does,
        if case.token_unsigned {
            continue;
        }
        let dir = suite_dir().join(&case.name);
        let Ok(text) = std::fs::read_to_string(dir.join("request.txt")) else {
            continue;
        };
        // Nor is adding x-amz-content-sha256 (S3's `sign_body`): Lambda takes none.
        let context = std::fs::read_to_string(dir.join("context.json")).unwrap();
        if context.contains("\"sign_body\": true") {
            continue;
        }
        let want = std::fs::read_to_string(dir.join("header-signature.txt")).unwrap();
        let mut parsed = parse_http(&text);
        // The path as the signed request has it: a few request.txt files pre-encode theirs.
        let signed = std::fs::read_to_string(dir.join("header-signed-request.txt")).unwrap();
        parsed.path = parse_http(&signed).path;
        with_request(&parsed, |req| {
            let signed = sign(
                req,
                AKID,
                &credential(case.token.as_deref()),
                &case.region,
                &case.service,
                case.now,
            );
            assert!(
                signed
                    .authorization
                    .ends_with(&format!("Signature={}", want.trim())),
                "{}: {}",
                case.name,
                signed.authorization
            );
            assert_eq!(signed.security_token, case.token);
        });
        signed_cases += 1;
    }
    assert!(signed_cases >= 25, "{signed_cases} cases signed");
}

/// What the signer signs, the verifier accepts: a Lambda invocation with an ARN in its path
/// (double-encoded in the canonical URI) and a session token.
#[test]
fn signed_lambda_invocations_verify() {
    let now = time::system_time(1_764_806_400);
    let path = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Apre-sign-up/invocations";
    let body = br#"{"version":"1"}"#;
    let base: Vec<Header<'_>> = vec![
        ("Host", b"127.0.0.1:3001".as_slice()),
        ("Content-Type", b"application/json".as_slice()),
        ("X-Amz-Invocation-Type", b"RequestResponse".as_slice()),
    ];
    let unsigned = Request {
        method: "POST",
        path,
        query: "",
        headers: &base,
        body,
    };
    let cred = credential(Some("session-token"));
    let signed = sign(&unsigned, AKID, &cred, "us-east-1", "lambda", now);
    let date = signed.amz_date.clone().unwrap();
    let token = signed.security_token.clone().unwrap();
    let mut headers = base.clone();
    headers.push(("X-Amz-Date", date.as_bytes()));
    headers.push(("X-Amz-Security-Token", token.as_bytes()));
    headers.push(("Authorization", signed.authorization.as_bytes()));
    let req = Request {
        headers: &headers,
        ..unsigned
    };
    let verifier = Verifier::new(["us-east-1"]).with_service("lambda");
    let verified = verifier
        .verify(&req, now, &|akid: &str| {
            (akid == AKID).then(|| cred.clone())
        })
        .unwrap();
    assert_eq!(verified.service, "lambda");
    assert!(verified.session_token);
    // One byte of the body changed: refused.
    let tampered = Request {
        body: br#"{"version":"2"}"#,
        ..req
    };
    assert!(verifier
        .verify(&tampered, now, &|akid: &str| (akid == AKID)
            .then(|| cred.clone()))
        .is_err());
}
