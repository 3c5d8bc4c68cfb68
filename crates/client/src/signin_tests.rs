//! The pure parts of the sign-in against the test vectors of docs/protocol.md §15
//! (`srp-vectors.json`, the copy the srp crate tests with): given the challenge parameters, a
//! fixed `a` and a fixed TIMESTAMP, the responses must carry exactly the vectors' signature.

use std::collections::HashMap;

use gatehouse_srp::{parse_hex, parse_timestamp, SrpError};
use serde_json::Value;

use super::*;

const VECTORS: &str = include_str!("../../srp/tests/data/srp-vectors.json");

fn vector(name: &str) -> Value {
    let all: Value = serde_json::from_str(VECTORS).expect("vectors parse");
    all[name].clone()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))
}

fn client_from(v: &Value) -> SrpClient {
    SrpClient::new(&parse_hex(s(v, "a_hex"), 1024).unwrap()).unwrap()
}

/// PASSWORD_VERIFIER ChallengeParameters as the server sends them for this vector.
fn verifier_params(v: &Value) -> HashMap<String, String> {
    ["SALT", "SRP_B", "SECRET_BLOCK"]
        .into_iter()
        .map(|k| (k.to_string(), s(v, k).to_string()))
        .chain([
            ("USER_ID_FOR_SRP".into(), s(v, "userIdForSrp").into()),
            ("USERNAME".into(), s(v, "userIdForSrp").into()),
        ])
        .collect()
}

fn sign_in_for(v: &Value) -> SrpSignIn {
    SrpSignIn::new(format!("us-east-1_{}", s(v, "poolName")), "client123").unwrap()
}

#[test]
fn password_verifier_matches_vectors() {
    for name in ["user_v1", "user_v2"] {
        let v = vector(name);
        let client = client_from(&v);
        assert_eq!(client.srp_a_hex(), s(&v, "SRP_A"), "{name}: A");
        let (user_id, r) = sign_in_for(&v)
            .password_verifier_responses(
                &client,
                Proof::Password(s(&v, "password")),
                &verifier_params(&v),
                s(&v, "TIMESTAMP"),
            )
            .unwrap();
        assert_eq!(user_id, s(&v, "userIdForSrp"));
        assert_eq!(
            r["PASSWORD_CLAIM_SIGNATURE"],
            s(&v, "PASSWORD_CLAIM_SIGNATURE"),
            "{name}: signature"
        );
        assert_eq!(r["USERNAME"], s(&v, "userIdForSrp"));
        assert_eq!(r["PASSWORD_CLAIM_SECRET_BLOCK"], s(&v, "SECRET_BLOCK"));
        assert_eq!(r["TIMESTAMP"], s(&v, "TIMESTAMP"));
        // No secret, no device: exactly the four keys every client sends.
        assert_eq!(r.len(), 4, "{name}: {r:?}");
    }
}

#[test]
fn cached_user_gives_the_same_signature_and_follows_salt_changes() {
    let v = vector("user_v1");
    let user = CachedUser {
        username: "alice".into(),
        password: Zeroizing::new(s(&v, "password").into()),
        client: client_from(&v),
        prepared: Mutex::new(None),
    };
    let signin = sign_in_for(&v);
    let params = verifier_params(&v);
    for _ in 0..2 {
        // Second round: served from the cache.
        let (_, r) = signin
            .password_verifier_responses(
                &user.client,
                Proof::Cached(&user),
                &params,
                s(&v, "TIMESTAMP"),
            )
            .unwrap();
        assert_eq!(
            r["PASSWORD_CLAIM_SIGNATURE"],
            s(&v, "PASSWORD_CLAIM_SIGNATURE")
        );
        assert!(user.prepared.lock().unwrap().is_some());
    }
    // A new salt (password set again) must not reuse the old x.
    let mut reset = params.clone();
    reset.insert("SALT".into(), "0a1b2c3d4e5f60718293a4b5c6d7e8f9".into());
    let (_, cached) = signin
        .password_verifier_responses(
            &user.client,
            Proof::Cached(&user),
            &reset,
            "Sun Mar 1 09:05:07 UTC 2026",
        )
        .unwrap();
    let (_, plain) = signin
        .password_verifier_responses(
            &user.client,
            Proof::Password(s(&v, "password")),
            &reset,
            "Sun Mar 1 09:05:07 UTC 2026",
        )
        .unwrap();
    assert_eq!(
        cached["PASSWORD_CLAIM_SIGNATURE"],
        plain["PASSWORD_CLAIM_SIGNATURE"]
    );
    assert_ne!(
        cached["PASSWORD_CLAIM_SIGNATURE"],
        s(&v, "PASSWORD_CLAIM_SIGNATURE")
    );
    // So must another user id (same password, same salt).
    let mut other = params.clone();
    other.insert("USER_ID_FOR_SRP".into(), "bob".into());
    let (id, cached) = signin
        .password_verifier_responses(
            &user.client,
            Proof::Cached(&user),
            &other,
            "Sun Mar 1 09:05:07 UTC 2026",
        )
        .unwrap();
    let (_, plain) = signin
        .password_verifier_responses(
            &user.client,
            Proof::Password(s(&v, "password")),
            &other,
            "Sun Mar 1 09:05:07 UTC 2026",
        )
        .unwrap();
    assert_eq!(id, "bob");
    assert_eq!(
        cached["PASSWORD_CLAIM_SIGNATURE"],
        plain["PASSWORD_CLAIM_SIGNATURE"]
    );
}

#[test]
fn secret_hash_is_over_the_canonical_username() {
    // docs/protocol.md §7 vector: username "test", client "123abd", secret "clientSecret".
    let sh = vector("secret_hash");
    let v = vector("user_v1");
    let signin = SrpSignIn::new("us-east-1_AbCdEfGhI", s(&sh, "clientId"))
        .unwrap()
        .client_secret(s(&sh, "clientSecret"));
    let mut params = verifier_params(&v);
    // The server canonicalised an alias typed at InitiateAuth to "test".
    params.insert("USER_ID_FOR_SRP".into(), s(&sh, "username").into());
    params.insert("USERNAME".into(), s(&sh, "username").into());
    let (_, r) = signin
        .password_verifier_responses(
            &client_from(&v),
            Proof::Password("pw"),
            &params,
            s(&v, "TIMESTAMP"),
        )
        .unwrap();
    assert_eq!(r["SECRET_HASH"], s(&sh, "SECRET_HASH"));
    assert_eq!(r["USERNAME"], "test");

    let mut init = HashMap::new();
    signin.add_secret_hash(&mut init, "test");
    assert_eq!(init["SECRET_HASH"], s(&sh, "SECRET_HASH"));
    let mut none = HashMap::new();
    SrpSignIn::new("us-east-1_AbCdEfGhI", "c")
        .unwrap()
        .add_secret_hash(&mut none, "test");
    assert!(none.is_empty());
}

#[test]
fn device_verifier_matches_vector() {
    let v = vector("device_v1");
    let user = vector("user_v1");
    let signin = sign_in_for(&user).device(
        s(&v, "userIdForSrp"), // DeviceKey
        s(&v, "poolName"),     // DeviceGroupKey
        s(&v, "password"),     // device password
    );
    let client = client_from(&v);
    assert_eq!(client.srp_a_hex(), s(&v, "SRP_A"));
    let mut params: HashMap<String, String> = ["SALT", "SRP_B", "SECRET_BLOCK"]
        .into_iter()
        .map(|k| (k.to_string(), s(&v, k).to_string()))
        .collect();
    params.insert("DEVICE_KEY".into(), s(&v, "userIdForSrp").into());
    let r = signin
        .device_verifier_responses(&client, "alice", &params, s(&v, "TIMESTAMP"))
        .unwrap();
    assert_eq!(
        r["PASSWORD_CLAIM_SIGNATURE"],
        s(&v, "PASSWORD_CLAIM_SIGNATURE")
    );
    assert_eq!(r["DEVICE_KEY"], s(&v, "userIdForSrp"));
    assert_eq!(r["USERNAME"], "alice", "falls back to the canonical user");
    assert_eq!(r["PASSWORD_CLAIM_SECRET_BLOCK"], s(&v, "SECRET_BLOCK"));
    assert_eq!(r["TIMESTAMP"], s(&v, "TIMESTAMP"));
    assert!(!r.contains_key("SECRET_HASH"));

    // The challenge's USERNAME wins when present; the signature does not depend on it.
    params.insert("USERNAME".into(), "alice-canonical".into());
    let r2 = signin
        .device_verifier_responses(&client, "alice", &params, s(&v, "TIMESTAMP"))
        .unwrap();
    assert_eq!(r2["USERNAME"], "alice-canonical");
    assert_eq!(
        r2["PASSWORD_CLAIM_SIGNATURE"],
        r["PASSWORD_CLAIM_SIGNATURE"]
    );

    // With a device configured, PASSWORD_VERIFIER carries its key (docs/protocol.md §8.2).
    let (_, pv) = signin
        .password_verifier_responses(
            &client_from(&user),
            Proof::Password(s(&user, "password")),
            &verifier_params(&user),
            s(&user, "TIMESTAMP"),
        )
        .unwrap();
    assert_eq!(pv["DEVICE_KEY"], s(&v, "userIdForSrp"));
    assert_eq!(
        pv["PASSWORD_CLAIM_SIGNATURE"],
        s(&user, "PASSWORD_CLAIM_SIGNATURE")
    );
}

#[test]
fn bad_challenges_are_reported() {
    let v = vector("user_v1");
    let signin = sign_in_for(&v);
    let client = client_from(&v);
    let ts = s(&v, "TIMESTAMP");
    for key in ["SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP"] {
        let mut p = verifier_params(&v);
        p.remove(key);
        if key == "USER_ID_FOR_SRP" {
            p.remove("USERNAME");
        }
        match signin.password_verifier_responses(&client, Proof::Password("pw"), &p, ts) {
            Err(Error::MissingParameter {
                challenge,
                parameter,
            }) => {
                assert_eq!(challenge, "PASSWORD_VERIFIER");
                assert_eq!(parameter, key);
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    // USERNAME alone is enough (USER_ID_FOR_SRP is the preferred key).
    let mut p = verifier_params(&v);
    p.remove("USER_ID_FOR_SRP");
    assert!(signin
        .password_verifier_responses(&client, Proof::Password("pw"), &p, ts)
        .is_ok());

    let cases = [
        ("SRP_B", "0", SrpError::PublicValueZero),
        ("SRP_B", "xyz", SrpError::InvalidHex),
        ("SALT", "", SrpError::InvalidHex),
        ("SECRET_BLOCK", "not base64!", SrpError::InvalidBase64),
    ];
    for (key, value, want) in cases {
        let mut p = verifier_params(&v);
        p.insert(key.into(), value.into());
        match signin.password_verifier_responses(&client, Proof::Password("pw"), &p, ts) {
            Err(Error::Srp(e)) => assert_eq!(e, want, "{key}={value}"),
            other => panic!("{key}={value}: {other:?}"),
        }
    }
}

#[test]
fn pool_id_must_have_a_name_part() {
    for bad in ["us-east-1", "_abc", "us-east-1_", "a_b_c", ""] {
        assert!(
            matches!(SrpSignIn::new(bad, "c"), Err(Error::InvalidPoolId(ref id)) if id == bad),
            "{bad}"
        );
    }
    let ok = SrpSignIn::new("eu-west-1_Xy9", "cid").unwrap();
    assert_eq!(ok.pool_id(), "eu-west-1_Xy9");
    assert_eq!(ok.client_id(), "cid");
}

#[test]
fn timestamp_is_canonical_and_now() {
    let ts = now_timestamp();
    let parsed = parse_timestamp(&ts).unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - parsed).abs() <= 2, "{ts}");
}

#[test]
fn fresh_clients_differ() {
    let a = fresh_client().unwrap();
    let b = fresh_client().unwrap();
    assert_ne!(a.srp_a_hex(), b.srp_a_hex());
    // A = g^a for a 256-bit a: at most 768 hex digits, never padded.
    assert!(a.srp_a_hex().len() <= 768 && !a.srp_a_hex().starts_with('0'));
}

#[test]
fn secrets_stay_out_of_debug() {
    let signin = SrpSignIn::new("us-east-1_Abc", "cid")
        .unwrap()
        .client_secret("s3cr3t-value")
        .device("dev-key", "group-key", "dev-password");
    let dbg = format!("{signin:?}");
    assert!(
        !dbg.contains("s3cr3t-value") && !dbg.contains("dev-password"),
        "{dbg}"
    );
    assert!(
        dbg.contains("dev-key") && dbg.contains("<redacted>"),
        "{dbg}"
    );
    let user = CachedUser::new("alice", "hunter2-password").unwrap();
    let dbg = format!("{user:?}");
    assert!(
        !dbg.contains("hunter2-password") && dbg.contains("alice"),
        "{dbg}"
    );
}

#[test]
fn device_key_goes_only_into_mfa_and_custom_answers() {
    assert!(takes_device_key(&ChallengeNameType::SoftwareTokenMfa));
    assert!(takes_device_key(&ChallengeNameType::SmsMfa));
    assert!(takes_device_key(&ChallengeNameType::CustomChallenge));
    assert!(!takes_device_key(&ChallengeNameType::NewPasswordRequired));
    assert!(!takes_device_key(&ChallengeNameType::MfaSetup));
}
