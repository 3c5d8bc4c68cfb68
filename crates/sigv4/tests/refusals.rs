//! Each refusal, with the exception, status and message AWS sends for it.

mod common;

use std::time::Duration;

use common::*;
use gatehouse_sigv4::{Credential, ErrorKind, SigV4Error, Verifier};

const OP_BODY: &str = r#"{"UserPoolId":"us-east-1_abc","Username":"alice"}"#;

fn signed() -> Owned {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    sign_default(&mut req);
    req
}

fn auth(req: &Owned) -> String {
    req.header("authorization").unwrap()
}

fn refuse(req: &Owned) -> SigV4Error {
    req.verify_at(&verifier(), at(T0), None).unwrap_err()
}

fn assert_refusal(err: &SigV4Error, kind: ErrorKind, exception: &str, message: &str) {
    assert_eq!(err.kind(), kind, "{err}");
    assert_eq!(err.exception_name(), exception);
    assert_eq!(err.status_code(), 400);
    assert_eq!(err.message(), message);
}

fn assert_mismatch(err: &SigV4Error) {
    assert_refusal(
        err,
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "The request signature we calculated does not match the signature you provided. Check \
         your AWS Secret Access Key and signing method. Consult the service documentation for \
         details.",
    );
}

#[test]
fn accepts_a_signed_request_and_reports_who_signed() {
    let v = signed().verify_at(&verifier(), at(T0 + 10), None).unwrap();
    assert_eq!(v.access_key_id, AKID);
    assert_eq!(v.date, "20240101");
    assert_eq!(v.region, "us-east-1");
    assert_eq!(v.service, "cognito-idp");
    assert_eq!(v.signed_at, at(T0));
    assert!(!v.session_token && !v.presigned);
}

#[test]
fn begin_and_finish_support_async_lookups() {
    let req = signed();
    let v = verifier();
    req.with(|r| {
        let pending = v.begin(r, at(T0)).unwrap();
        assert_eq!(pending.access_key_id(), AKID);
        // ... the server awaits its store here ...
        pending.finish(Some(&Credential::new(SECRET))).unwrap();
        let pending = v.begin(r, at(T0)).unwrap();
        assert_refusal(
            &pending.finish(None).unwrap_err(),
            ErrorKind::UnrecognizedClient,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        );
    });
}

#[test]
fn stores_can_be_maps_or_trait_objects() {
    let mut keys = std::collections::HashMap::new();
    keys.insert(AKID.to_owned(), Credential::new(SECRET));
    let store: &dyn gatehouse_sigv4::CredentialStore = &keys;
    let req = signed();
    req.with(|r| verifier().verify(r, at(T0), store)).unwrap();
    keys.clear();
    let err = req
        .with(|r| verifier().verify(r, at(T0), &keys))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnrecognizedClient);
}

#[test]
fn missing_authorization() {
    let req = Owned::cognito("AdminGetUser", OP_BODY);
    assert_refusal(
        &refuse(&req),
        ErrorKind::MissingAuthenticationToken,
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
    );
}

#[test]
fn authorization_without_any_parameter() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    req.set_header("Authorization", "X");
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        "Authorization header requires 'Credential' parameter. Authorization header requires \
         'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=X",
    );
}

#[test]
fn bearer_token_instead_of_a_signature() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    req.set_header(
        "Authorization",
        "Bearer eyJraWQiOiJ4In0.eyJzdWIiOiJ4In0.c2ln",
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        "'eyJraWQiOiJ4In0.eyJzdWIiOiJ4In0.c2ln' not a valid key=value pair (missing equal-sign) \
         in Authorization header: 'Bearer eyJraWQiOiJ4In0.eyJzdWIiOiJ4In0.c2ln'.",
    );
}

#[test]
fn malformed_authorization_parts() {
    let mut req = signed();
    let original = auth(&req);
    let sig_at = original.find(", Signature=").unwrap();
    let without_signature = original[..sig_at].to_owned();
    req.set_header("Authorization", &without_signature);
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        &format!("Authorization header requires 'Signature' parameter. Authorization={without_signature}"),
    );

    // Spaces instead of commas are accepted between the pairs.
    let mut req = signed();
    req.set_header("Authorization", &original.replace(", ", " "));
    req.verify_at(&verifier(), at(T0), None).unwrap();
}

#[test]
fn missing_x_amz_date() {
    let mut req = signed();
    req.remove_header("x-amz-date");
    let a = auth(&req);
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        &format!(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header. Authorization={a}"
        ),
    );
}

#[test]
fn malformed_x_amz_date() {
    let mut req = signed();
    req.set_header("X-Amz-Date", "2024-01-01T00:00:00Z");
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        "Date must be in ISO-8601 'basic format'. Got '2024-01-01T00:00:00Z'. See \
         http://en.wikipedia.org/wiki/ISO_8601",
    );
}

#[test]
fn unknown_access_key() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    sign_with(
        &mut req,
        &Sign {
            akid: "AKIDUNKNOWN".into(),
            ..Sign::default()
        },
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::UnrecognizedClient,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );
}

#[test]
fn wrong_secret() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    sign_with(
        &mut req,
        &Sign {
            secret: "not-the-secret".into(),
            ..Sign::default()
        },
    );
    assert_mismatch(&refuse(&req));
}

#[test]
fn tampered_body() {
    let mut req = signed();
    req.body = OP_BODY.replace("alice", "mallory").into_bytes();
    assert_mismatch(&refuse(&req));
}

#[test]
fn tampered_signed_header() {
    let mut req = signed();
    req.set_header(
        "X-Amz-Target",
        "AWSCognitoIdentityProviderService.AdminDeleteUser",
    );
    assert_mismatch(&refuse(&req));
}

#[test]
fn tampered_path_query_and_method() {
    for tamper in [
        |r: &mut Owned| r.path = "/x".into(),
        |r: &mut Owned| r.query = "a=b".into(),
        |r: &mut Owned| r.method = "PUT".into(),
    ] {
        let mut req = signed();
        tamper(&mut req);
        assert_mismatch(&refuse(&req));
    }
}

#[test]
fn unsigned_headers_may_be_added_or_changed() {
    let mut req = signed();
    req.headers
        .push(("User-Agent".into(), b"proxy/1.0".to_vec()));
    req.headers
        .push(("X-Forwarded-For".into(), b"10.0.0.1".to_vec()));
    req.verify_at(&verifier(), at(T0), None).unwrap();
}

#[test]
fn tampered_or_uppercase_signature() {
    let original = auth(&signed());
    let sig = &original[original.find("Signature=").unwrap() + 10..];
    let mut flipped = sig.to_owned().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    for bad in [
        flipped,
        sig.to_uppercase(),
        sig[..63].to_owned(),
        format!("{sig}0"),
    ] {
        let mut req = signed();
        req.set_header("Authorization", &original.replace(sig, &bad));
        assert_mismatch(&refuse(&req));
    }
}

#[test]
fn host_must_be_signed() {
    let mut req = signed();
    let a = auth(&req);
    req.set_header("Authorization", &a.replace(";host;", ";"));
    let msg = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.";
    assert_refusal(
        &refuse(&req),
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        msg,
    );

    let empty = a.replace(
        "SignedHeaders=content-type;host;x-amz-date;x-amz-target",
        "SignedHeaders=",
    );
    assert_ne!(empty, a);
    req.set_header("Authorization", &empty);
    assert_refusal(
        &refuse(&req),
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        msg,
    );
}

#[test]
fn required_signed_header() {
    let strict = verifier().require_signed_header("X-Amz-Target");
    signed().verify_at(&strict, at(T0), None).unwrap();

    let mut req = signed();
    let a = auth(&req);
    req.set_header("Authorization", &a.replace(";x-amz-target", ""));
    let err = req.verify_at(&strict, at(T0), None).unwrap_err();
    assert_refusal(
        &err,
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
    );
}

#[test]
fn clock_skew_boundaries() {
    let req = signed();
    let v = verifier();
    // Exactly five minutes either way is still accepted, as by AWS.
    req.verify_at(&v, at(T0 + 300), None).unwrap();
    req.verify_at(&v, at(T0 - 300), None).unwrap();

    let err = req.verify_at(&v, at(T0 + 301), None).unwrap_err();
    assert_refusal(
        &err,
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z \
         (20240101T000501Z - 5 min.)",
    );
    let err = req.verify_at(&v, at(T0 - 301), None).unwrap_err();
    assert_refusal(
        &err,
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Signature not yet current: 20240101T000000Z is still later than 20231231T235959Z \
         (20231231T235459Z + 5 min.)",
    );

    let lenient = verifier().with_max_skew(Duration::from_secs(900));
    req.verify_at(&lenient, at(T0 + 900), None).unwrap();
    let err = req.verify_at(&lenient, at(T0 + 3600), None).unwrap_err();
    assert_eq!(
        err.message(),
        "Signature expired: 20240101T000000Z is now earlier than 20240101T004500Z \
         (20240101T010000Z - 15 min.)"
    );
}

#[test]
fn wrong_service() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    sign_with(
        &mut req,
        &Sign {
            service: "cognito-identity".into(),
            ..Sign::default()
        },
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'cognito-idp'. ",
    );
}

#[test]
fn wrong_region() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    sign_with(
        &mut req,
        &Sign {
            region: "us-west-2".into(),
            ..Sign::default()
        },
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'us-west-2'. ",
    );
    // Another accepted region, or any region when so configured, is fine.
    req.verify_at(&Verifier::any_region(), at(T0), None)
        .unwrap();
    let mut eu = Owned::cognito("AdminGetUser", OP_BODY);
    sign_with(
        &mut eu,
        &Sign {
            region: "eu-west-1".into(),
            ..Sign::default()
        },
    );
    assert_eq!(
        eu.verify_at(&verifier(), at(T0), None).unwrap().region,
        "eu-west-1"
    );
}

#[test]
fn every_scope_problem_is_reported_at_once() {
    let mut req = signed();
    let a = auth(&req);
    req.set_header(
        "Authorization",
        &a.replace(
            "AKIDEXAMPLE/20240101/us-east-1/cognito-idp/aws4_request",
            "AKIDEXAMPLE/20231231/mars-1/s3/aws5_request",
        ),
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'mars-1'. Credential should be \
         scoped to correct service: 'cognito-idp'. Credential should be scoped with a valid \
         terminator: 'aws4_request', not 'aws5_request'. Date in Credential scope does not \
         match YYYYMMDD from ISO-8601 version of date from HTTP: '20231231' != '20240101', \
         from '20240101T000000Z'. ",
    );
}

#[test]
fn credential_with_wrong_number_of_elements() {
    let mut req = signed();
    let a = auth(&req);
    req.set_header(
        "Authorization",
        &a.replace("/cognito-idp/aws4_request", "/aws4_request"),
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        "Credential must have exactly 5 slash-delimited elements, e.g. \
         keyid/date/region/service/term, got 'AKIDEXAMPLE/20240101/us-east-1/aws4_request'",
    );
    // A trailing slash is not an extra element.
    let mut req = signed();
    req.set_header(
        "Authorization",
        &a.replace("aws4_request,", "aws4_request/,"),
    );
    req.verify_at(&verifier(), at(T0), None).unwrap();
}

#[test]
fn unsupported_algorithm() {
    let mut req = signed();
    let a = auth(&req);
    req.set_header(
        "Authorization",
        &a.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"),
    );
    assert_refusal(
        &refuse(&req),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). ",
    );
}

#[test]
fn header_and_query_authentication_together() {
    let mut req = signed();
    req.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    assert_refusal(
        &refuse(&req),
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
    );
}

#[test]
fn session_tokens() {
    let token = "FwoGZXIvYXdzEXAMPLETOKEN//+==";
    let with_token = |unsigned: bool| {
        let mut req = Owned::cognito("AdminGetUser", OP_BODY);
        sign_with(
            &mut req,
            &Sign {
                token: Some(token.into()),
                token_unsigned: unsigned,
                ..Sign::default()
            },
        );
        req
    };
    let v = verifier();
    let ok = with_token(false)
        .verify_at(&v, at(T0), Some(token))
        .unwrap();
    assert!(ok.session_token);
    // Some clients add the token after signing; AWS accepts that, so do we.
    with_token(true).verify_at(&v, at(T0), Some(token)).unwrap();

    let unrecognized = |err: SigV4Error| {
        assert_refusal(
            &err,
            ErrorKind::UnrecognizedClient,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    };
    // Wrong token for a temporary key, no token for a temporary key, token for a long-term key.
    unrecognized(
        with_token(true)
            .verify_at(&v, at(T0), Some("other"))
            .unwrap_err(),
    );
    unrecognized(signed().verify_at(&v, at(T0), Some(token)).unwrap_err());
    unrecognized(with_token(false).verify_at(&v, at(T0), None).unwrap_err());
    // A signed token cannot be swapped.
    let mut swapped = with_token(false);
    swapped.set_header("X-Amz-Security-Token", "other");
    assert_mismatch(&swapped.verify_at(&v, at(T0), Some("other")).unwrap_err());
}

#[test]
fn content_sha256_header_is_signed_but_not_trusted() {
    let mut req = Owned::cognito("AdminGetUser", OP_BODY);
    sign_with(
        &mut req,
        &Sign {
            content_sha256_header: true,
            ..Sign::default()
        },
    );
    assert!(req.header("x-amz-content-sha256").is_some());
    req.verify_at(&verifier(), at(T0), None).unwrap();

    let mut tampered = req.clone();
    tampered.body = b"{}".to_vec();
    assert_mismatch(&tampered.verify_at(&verifier(), at(T0), None).unwrap_err());
}

#[test]
fn presigned_urls() {
    let presigned = |expires: u64| {
        let mut req = Owned::cognito("AdminGetUser", OP_BODY);
        sign_with(
            &mut req,
            &Sign {
                presign: Some(Duration::from_secs(expires)),
                ..Sign::default()
            },
        );
        assert!(req.header("authorization").is_none());
        req
    };
    let v = verifier();
    let ok = presigned(3600).verify_at(&v, at(T0 + 60), None).unwrap();
    assert!(ok.presigned);

    // X-Amz-Expires shorter than the skew window is honoured.
    let short = presigned(60);
    short.verify_at(&v, at(T0 + 60), None).unwrap();
    let err = short.verify_at(&v, at(T0 + 61), None).unwrap_err();
    assert_refusal(
        &err,
        ErrorKind::InvalidSignature,
        "InvalidSignatureException",
        "Signature expired: 20240101T000000Z is now earlier than 20240101T000001Z \
         (20240101T000101Z - 1 min.)",
    );

    let mut tampered = presigned(3600);
    tampered.body.push(b' ');
    assert_mismatch(&tampered.verify_at(&v, at(T0), None).unwrap_err());

    let mut incomplete = Owned::cognito("AdminGetUser", OP_BODY);
    incomplete.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240101T000000Z".into();
    assert_refusal(
        &refuse(&incomplete),
        ErrorKind::IncompleteSignature,
        "IncompleteSignatureException",
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string \
         parameters must include 'X-Amz-Signature'. AWS query-string parameters must include \
         'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
    );
}

#[test]
fn errors_display_their_exception() {
    let err = refuse(&Owned::cognito("AdminGetUser", OP_BODY));
    assert_eq!(
        err.to_string(),
        "MissingAuthenticationTokenException: Missing Authentication Token"
    );
    for (kind, name) in [
        (
            ErrorKind::MissingAuthenticationToken,
            "MissingAuthenticationTokenException",
        ),
        (
            ErrorKind::IncompleteSignature,
            "IncompleteSignatureException",
        ),
        (ErrorKind::UnrecognizedClient, "UnrecognizedClientException"),
        (ErrorKind::InvalidSignature, "InvalidSignatureException"),
    ] {
        assert_eq!(kind.exception_name(), name);
        assert_eq!(kind.status_code(), 400);
    }
}
