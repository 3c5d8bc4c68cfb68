//! Presigned URLs in S3's form, made and checked by the same party: Gatehouse hands out the URL
//! a user import's CSV is PUT to (CreateUserImportJob's `PreSignedUrl`) and checks it when the
//! upload arrives. The query is AWS's (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`,
//! `X-Amz-Expires`, `X-Amz-SignedHeaders`, `X-Amz-Signature`), the payload is `UNSIGNED-PAYLOAD`
//! as in every S3 presigned PUT, and the host signed is the one the URL names (not the one a
//! proxy may forward), so both ends compute the same canonical request. Besides `host`, the
//! target may sign headers the uploader must send (Cognito's import URL signs
//! `x-amz-server-side-encryption: aws:kms`).

use std::time::SystemTime;

use crate::{canonical, crypto, time, Credential, ALGORITHM, MAX_PRESIGN_EXPIRES, TERMINATOR};

/// What a presigned request is about: method, host (as in the URL) and raw path.
#[derive(Debug, Clone, Copy)]
pub struct PresignTarget<'a> {
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// Headers signed besides `host`: lower-case names, sorted, with their values.
    pub headers: &'a [(&'a str, &'a str)],
}

impl PresignTarget<'_> {
    fn signed_headers(&self) -> String {
        let mut names = vec!["host"];
        names.extend(self.headers.iter().map(|(n, _)| *n));
        names.join(";")
    }
}

/// Why a presigned request is refused (S3's error codes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PresignError {
    /// `AuthorizationQueryParametersError`: a parameter is missing or malformed.
    Malformed(String),
    /// `AccessDenied` "Request has expired" (or is not valid yet).
    Expired,
    /// `SignatureDoesNotMatch`.
    Mismatch,
}

fn canonical_request(target: &PresignTarget<'_>, query: &[canonical::QueryParam]) -> String {
    let mut headers = format!("host:{}\n", target.host.trim().to_ascii_lowercase());
    for (name, value) in target.headers {
        headers.push_str(&format!("{name}:{}\n", value.trim()));
    }
    format!(
        "{}\n{}\n{}\n{headers}\n{}\nUNSIGNED-PAYLOAD",
        target.method,
        canonical::canonical_uri(target.path),
        canonical::canonical_query(query, Some(b"X-Amz-Signature")),
        target.signed_headers(),
    )
}

fn signature(
    target: &PresignTarget<'_>,
    query: &[canonical::QueryParam],
    credential: &Credential,
    amz_date: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or_default();
    let scope = format!("{date}/{}/{}/{TERMINATOR}", target.region, target.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        crypto::hex(&crypto::sha256(canonical_request(target, query).as_bytes())),
    );
    let key = crypto::signing_key(
        credential.secret_access_key().expose(),
        date,
        target.region,
        target.service,
    );
    crypto::sign_hex(&key, string_to_sign.as_bytes())
}

/// The query string (no `?`) that presigns `target` for `expires` seconds from `now`.
pub fn presign(
    target: &PresignTarget<'_>,
    access_key_id: &str,
    credential: &Credential,
    now: SystemTime,
    expires: u64,
) -> String {
    let amz_date = time::format_iso_basic(time::unix_seconds(now));
    let scope = format!(
        "{access_key_id}/{}/{}/{}/{TERMINATOR}",
        &amz_date[..8],
        target.region,
        target.service
    );
    let mut raw = String::new();
    for (i, (k, v)) in [
        ("X-Amz-Algorithm", ALGORITHM),
        ("X-Amz-Credential", scope.as_str()),
        ("X-Amz-Date", amz_date.as_str()),
        (
            "X-Amz-Expires",
            &expires.min(MAX_PRESIGN_EXPIRES).to_string(),
        ),
        ("X-Amz-SignedHeaders", target.signed_headers().as_str()),
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            raw.push('&');
        }
        raw.push_str(k);
        raw.push('=');
        raw.push_str(&canonical::encode_query_value(v.as_bytes()));
    }
    let query = canonical::parse_query(&raw);
    let sig = signature(target, &query, credential, &amz_date);
    format!("{raw}&X-Amz-Signature={sig}")
}

/// Checks `raw_query`, made by [`presign`] for `target` with this key, at `now`.
pub fn check_presigned(
    target: &PresignTarget<'_>,
    raw_query: &str,
    access_key_id: &str,
    credential: &Credential,
    now: SystemTime,
) -> Result<(), PresignError> {
    let query = canonical::parse_query(raw_query);
    let get = |name: &str| {
        query
            .iter()
            .find(|p| p.key == name.as_bytes())
            .and_then(|p| String::from_utf8(p.value.clone()).ok())
            .ok_or_else(|| {
                PresignError::Malformed(format!(
                    "Query-string authentication requires the {name} parameter"
                ))
            })
    };
    if get("X-Amz-Algorithm")? != ALGORITHM
        || get("X-Amz-SignedHeaders")? != target.signed_headers()
    {
        return Err(PresignError::Mismatch);
    }
    let amz_date = get("X-Amz-Date")?;
    let signed_at = time::parse_iso_basic(&amz_date).ok_or_else(|| {
        PresignError::Malformed("X-Amz-Date must be in the ISO8601 Long Format".into())
    })?;
    let expires: i64 = get("X-Amz-Expires")?
        .parse()
        .ok()
        .filter(|e| (1..=MAX_PRESIGN_EXPIRES as i64).contains(e))
        .ok_or_else(|| {
            PresignError::Malformed("X-Amz-Expires must be a number of seconds".into())
        })?;
    let expected_scope = format!(
        "{access_key_id}/{}/{}/{}/{TERMINATOR}",
        amz_date.get(..8).unwrap_or_default(),
        target.region,
        target.service
    );
    let provided = get("X-Amz-Signature")?;
    let computed = signature(target, &query, credential, &amz_date);
    let credential_ok = crypto::secrets_equal(
        get("X-Amz-Credential")?.as_bytes(),
        expected_scope.as_bytes(),
    );
    if !(credential_ok && crypto::secrets_equal(provided.as_bytes(), computed.as_bytes())) {
        return Err(PresignError::Mismatch);
    }
    let now = time::unix_seconds(now);
    if now > signed_at + expires || now + 300 < signed_at {
        return Err(PresignError::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn target() -> PresignTarget<'static> {
        PresignTarget {
            method: "PUT",
            host: "gatehouse.example:9229",
            path: "/_gatehouse/user-import/us-east-1_Ab12Cd34E/import-AbCdEfGhIj",
            region: "us-east-1",
            service: "s3",
            headers: &[("x-amz-server-side-encryption", "aws:kms")],
        }
    }

    #[test]
    fn a_presigned_query_checks_until_it_expires_and_not_once_changed() {
        let key = Credential::new("import-secret".to_string());
        let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let q = presign(&target(), "GATEHOUSE", &key, then, 900);
        assert!(q.starts_with("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=GATEHOUSE%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host%3Bx-amz-server-side-encryption&X-Amz-Signature="), "{q}");
        let at = |s: u64| then + Duration::from_secs(s);
        assert_eq!(
            check_presigned(&target(), &q, "GATEHOUSE", &key, at(899)),
            Ok(())
        );
        assert_eq!(
            check_presigned(&target(), &q, "GATEHOUSE", &key, at(901)),
            Err(PresignError::Expired)
        );
        let other_key = Credential::new("another".to_string());
        assert_eq!(
            check_presigned(&target(), &q, "GATEHOUSE", &other_key, at(1)),
            Err(PresignError::Mismatch)
        );
        let longer = q.replace("X-Amz-Expires=900", "X-Amz-Expires=9000");
        assert_eq!(
            check_presigned(&target(), &longer, "GATEHOUSE", &key, at(1)),
            Err(PresignError::Mismatch)
        );
        let elsewhere = PresignTarget {
            path: "/_gatehouse/user-import/us-east-1_Ab12Cd34E/import-Other00000",
            ..target()
        };
        assert_eq!(
            check_presigned(&elsewhere, &q, "GATEHOUSE", &key, at(1)),
            Err(PresignError::Mismatch)
        );
        // An upload without the signed header (or with another value) does not match.
        let plain = PresignTarget {
            headers: &[("x-amz-server-side-encryption", "AES256")],
            ..target()
        };
        assert_eq!(
            check_presigned(&plain, &q, "GATEHOUSE", &key, at(1)),
            Err(PresignError::Mismatch)
        );
        let unsigned = q.split("&X-Amz-Signature").next().unwrap();
        assert!(matches!(
            check_presigned(&target(), unsigned, "GATEHOUSE", &key, at(1)),
            Err(PresignError::Malformed(_))
        ));
    }
}
