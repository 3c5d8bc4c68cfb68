//! Requests captured from the real SDKs (botocore, which boto3 and the AWS CLI use, and the AWS
//! SDK for JavaScript v3), exactly as they go on the wire. `tests/sdk/gen_*` regenerate them.

mod common;

use std::time::Duration;

use common::Owned;
use gatehouse_sigv4::{Credential, ErrorKind, Verifier};
use serde_json::Value;

struct Fixture {
    sdk: String,
    name: String,
    region: String,
    token: Option<String>,
    request: Owned,
}

fn load(file: &str) -> (String, String, Vec<Fixture>) {
    let path = format!("{}/tests/sdk/{file}", env!("CARGO_MANIFEST_DIR"));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let s = |v: &Value| v.as_str().unwrap().to_owned();
    let cases = json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let body = s(&c["body_hex"]);
            let body = (0..body.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&body[i..i + 2], 16).unwrap())
                .collect();
            Fixture {
                sdk: s(&c["sdk"]),
                name: s(&c["name"]),
                region: s(&c["region"]),
                token: c["token"].as_str().map(str::to_owned),
                request: Owned {
                    method: s(&c["method"]),
                    path: s(&c["path"]),
                    query: s(&c["query"]),
                    headers: c["headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|h| (s(&h[0]), s(&h[1]).into_bytes()))
                        .collect(),
                    body,
                },
            }
        })
        .collect();
    (s(&json["akid"]), s(&json["secret"]), cases)
}

fn check_sdk(file: &str, expected_cases: usize) {
    let (akid, secret, cases) = load(file);
    assert_eq!(cases.len(), expected_cases, "{file}");
    let strict = Verifier::new(["us-east-1", "eu-west-1"]).require_signed_header("X-Amz-Target");
    // The fixtures were signed whenever they were generated: find that time first.
    let timeless = Verifier::any_region().with_max_skew(Duration::from_secs(100 * 365 * 86_400));

    for f in &cases {
        let label = format!("{} {}", f.sdk, f.name);
        let store = |token: Option<String>| {
            let (akid, secret) = (akid.clone(), secret.clone());
            move |id: &str| {
                (id == akid).then(|| {
                    let c = Credential::new(secret.as_str());
                    match &token {
                        Some(t) => c.with_session_token(t.as_str()),
                        None => c,
                    }
                })
            }
        };
        let verify = |req: &Owned, v: &Verifier, now, token: Option<String>| {
            req.with(|r| v.verify(r, now, &store(token)))
        };

        let signed_at = verify(
            &f.request,
            &timeless,
            std::time::SystemTime::now(),
            f.token.clone(),
        )
        .unwrap_or_else(|e| panic!("{label}: {e}"))
        .signed_at;
        let ok = verify(&f.request, &strict, signed_at, f.token.clone())
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(ok.access_key_id, akid, "{label}");
        assert_eq!(ok.region, f.region, "{label}");
        assert_eq!(ok.service, "cognito-idp", "{label}");
        assert_eq!(ok.session_token, f.token.is_some(), "{label}");

        let mut tampered = f.request.clone();
        tampered.body.push(b' ');
        let err = verify(&tampered, &strict, signed_at, f.token.clone()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSignature, "{label}: {err}");

        let stale = signed_at + Duration::from_secs(301);
        let err = verify(&f.request, &strict, stale, f.token.clone()).unwrap_err();
        assert!(
            err.message().starts_with("Signature expired: "),
            "{label}: {err}"
        );

        if f.token.is_some() {
            let err = verify(&f.request, &strict, signed_at, None).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::UnrecognizedClient, "{label}: {err}");
        }
    }
}

#[test]
fn botocore_requests_verify() {
    check_sdk("botocore.json", 6);
}

#[test]
fn botocore_date_header_instead_of_x_amz_date() {
    let (_, _, cases) = load("botocore.json");
    let f = cases
        .iter()
        .find(|c| c.name == "admin-delete-user-date-header")
        .unwrap();
    assert!(f.request.header("x-amz-date").is_none());
    let date = f.request.header("date").unwrap();
    assert!(date.ends_with(" -0000"), "{date}");
}

#[test]
fn javascript_v3_requests_verify() {
    check_sdk("js-v3.json", 4);
}
