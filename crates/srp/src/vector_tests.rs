//! The docs/protocol.md §15 vectors, which amazon-cognito-identity-js, Amplify v6 and pycognito
//! reproduce bit for bit. Checks every intermediate (x, v, A, B, u, S, K) on both halves.

use crypto_bigint::{U256, U3072};
use serde_json::Value;

use crate::encoding::{base64_decode, pad_hex, parse_hex, to_hex};
use crate::group::{modn, u3072_from_be, u3072_to_be};
use crate::srp::{compute_x, scrambler};
use crate::*;

const VECTORS: &str = include_str!("../tests/data/srp-vectors.json");

fn vectors() -> Value {
    serde_json::from_str(VECTORS).expect("vectors parse")
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("missing string {key}"))
}

fn bytes_of_hex(h: &str) -> Vec<u8> {
    parse_hex(h, 4096).unwrap()
}

#[test]
fn k_matches_spec() {
    let k = modn().k();
    assert_eq!(to_hex(&u3072_to_be(k)), K_HEX);
    assert_eq!(s(&vectors(), "k_hex"), K_HEX);
}

#[test]
fn n_is_the_rfc3526_prime() {
    let n = parse_hex(N_HEX, 768).unwrap();
    assert_eq!(n.len(), 384);
    assert_eq!(pad_hex(&n).len(), 770, "enc(N) is 385 bytes");
    assert_eq!(enc(&[G as u8]), vec![2]);
}

fn check_full_vector(name: &str) {
    let all = vectors();
    let vec = &all[name];
    let id = SrpIdentity::user(s(vec, "poolName"), s(vec, "userIdForSrp"));
    let password = s(vec, "password");
    let salt = Salt::from_hex(s(vec, "SALT")).unwrap();
    assert_eq!(salt.to_hex(), s(vec, "SALT"), "{name}: SALT wire form");

    // (1) x and v from password and salt.
    let x = compute_x(&id, &salt, password);
    assert_eq!(
        to_hex(x.to_be_bytes().as_slice()),
        s(vec, "x_hex"),
        "{name}: x"
    );
    let v = Verifier::new(&id, &salt, password);
    assert_eq!(
        to_hex_bytes(&v.to_bytes()),
        s(vec, "verifier_hex"),
        "{name}: v"
    );
    assert!(v.verify_password(&id, &salt, password));

    // (2) B from b and v.
    let b: [u8; 32] = bytes_of_hex(s(vec, "b_hex")).try_into().unwrap();
    let server = ServerChallenge::new(&v, &b).unwrap();
    assert_eq!(server.srp_b_hex(), s(vec, "SRP_B"), "{name}: B");

    // Client A from a.
    let a_bytes = bytes_of_hex(s(vec, "a_hex"));
    let client = SrpClient::new(&a_bytes).unwrap();
    assert_eq!(client.srp_a_hex(), s(vec, "SRP_A"), "{name}: A");
    let srp_a = PublicValue::from_hex(s(vec, "SRP_A")).unwrap();
    let srp_b = PublicValue::from_hex(s(vec, "SRP_B")).unwrap();

    // (3) u, S (both formulas), K.
    let (u_digest, u) = scrambler(&srp_a, &srp_b).unwrap();
    assert_eq!(pad_hex(&u_digest), s(vec, "u_hex"), "{name}: u");
    let m = modn();
    let b_int = U256::from_be_slice(&b);
    let v_int = u3072_from_be(&bytes_of_hex(s(vec, "verifier_hex")));
    let s_server = m.pow(&m.mul(&srp_a.reduced, &m.pow(&v_int, &u, 256)), &b_int, 256);
    assert_eq!(
        pad_hex(&u3072_to_be(&s_server)),
        s(vec, "S_hex"),
        "{name}: S server"
    );
    let a_int = u3072_from_be(&a_bytes).resize::<{ crypto_bigint::U4096::LIMBS }>();
    let x_wide = x.resize::<{ crypto_bigint::U4096::LIMBS }>();
    let e = a_int.wrapping_add(&u.resize().wrapping_mul(&x_wide));
    let base = m.sub(&srp_b.reduced, &m.mul(m.k(), &m.pow_g(&*x, 256)));
    let s_client: U3072 = m.pow(&base, &e, 4096);
    assert_eq!(s_client, s_server, "{name}: S client");
    assert_eq!(
        to_hex_bytes(&crate::srp::derive_key(&u_digest, &s_server)[..]),
        s(vec, "hkdf_hex")
    );
    assert_eq!(
        to_hex_bytes(&server.session_key_for_test(&srp_a)),
        s(vec, "hkdf_hex"),
        "{name}: K server"
    );
    assert_eq!(
        to_hex_bytes(&client.session_key_for_test(password, &salt, &srp_b, &id)),
        s(vec, "hkdf_hex"),
        "{name}: K client"
    );

    // (4) signature: client produces it, server accepts it.
    let secret_block = base64_decode(s(vec, "SECRET_BLOCK")).unwrap();
    let msg = ClaimMessage {
        identity: id,
        secret_block: &secret_block,
        timestamp: s(vec, "TIMESTAMP"),
    };
    let sig = client
        .claim_signature(password, &salt, &srp_b, &msg)
        .unwrap();
    assert_eq!(sig, s(vec, "PASSWORD_CLAIM_SIGNATURE"), "{name}: signature");
    let prepared = PreparedPassword::new(&id, &salt, password);
    assert_eq!(
        client
            .claim_signature_prepared(&prepared, &srp_b, &msg)
            .unwrap(),
        sig,
        "{name}: signature from prepared password"
    );
    server.verify_claim(&srp_a, &msg, &sig).unwrap();
    // The same challenge resumed from b and the B it issued verifies the same claim.
    let resumed = ServerChallenge::resume(&v, &b, srp_b.clone()).unwrap();
    resumed.verify_claim(&srp_a, &msg, &sig).unwrap();
    parse_timestamp(msg.timestamp).unwrap();

    // Wrong password, wrong timestamp, wrong user, wrong block, mangled signature.
    let bad = client
        .claim_signature("not the password", &salt, &srp_b, &msg)
        .unwrap();
    assert_eq!(
        server.verify_claim(&srp_a, &msg, &bad),
        Err(SrpError::BadSignature)
    );
    let other_ts = ClaimMessage {
        timestamp: "Sun Mar 1 09:05:08 UTC 2026",
        ..msg
    };
    assert_eq!(
        server.verify_claim(&srp_a, &other_ts, &sig),
        Err(SrpError::BadSignature)
    );
    let other_user = ClaimMessage {
        identity: SrpIdentity::user(id.pool_name, "mallory"),
        ..msg
    };
    assert_eq!(
        server.verify_claim(&srp_a, &other_user, &sig),
        Err(SrpError::BadSignature)
    );
    let other_block = ClaimMessage {
        secret_block: &secret_block[1..],
        ..msg
    };
    assert_eq!(
        server.verify_claim(&srp_a, &other_block, &sig),
        Err(SrpError::BadSignature)
    );
    for mangled in ["", &sig[..43], &sig.to_lowercase()] {
        assert_eq!(
            server.verify_claim(&srp_a, &msg, mangled),
            Err(SrpError::BadSignature)
        );
    }
}

use crate::encoding::to_hex_bytes;

#[test]
fn vector_user_v1() {
    check_full_vector("user_v1");
}

#[test]
fn vector_user_v2_non_ascii_password_odd_length_a() {
    let all = vectors();
    assert_eq!(s(&all["user_v2"], "SRP_A").len(), 767);
    check_full_vector("user_v2");
}

#[test]
fn vector_device_v1() {
    check_full_vector("device_v1");
}

#[test]
fn vector_device_confirm() {
    let all = vectors();
    let vec = &all["device_confirm"];
    let r40: [u8; 40] = bytes_of_hex(s(vec, "random40_hex")).try_into().unwrap();
    let r16: [u8; 16] = bytes_of_hex(s(vec, "random16_hex")).try_into().unwrap();
    let dev = DeviceSecret::generate(s(vec, "DeviceGroupKey"), s(vec, "DeviceKey"), &r40, &r16);
    assert_eq!(dev.device_password(), s(vec, "randomPassword"));
    assert_eq!(dev.salt().to_hex(), s(vec, "salt_padHex"));
    let cfg = dev.verifier_config();
    assert_eq!(cfg.salt, s(vec, "Salt_b64"));
    assert_eq!(cfg.password_verifier, s(vec, "PasswordVerifier_b64"));
    assert_eq!(
        to_hex_bytes(&dev.verifier().to_bytes()),
        s(vec, "verifier_hex")
    );

    // Server side of ConfirmDevice, then the device sign-in of device_v1 with what it stored.
    let (salt, v) = cfg.decode().unwrap();
    assert_eq!(salt.to_hex(), s(&all["device_v1"], "SALT"));
    let login = &all["device_v1"];
    assert_eq!(s(login, "password"), dev.device_password());
    let b: [u8; 32] = bytes_of_hex(s(login, "b_hex")).try_into().unwrap();
    let server = ServerChallenge::new(&v, &b).unwrap();
    assert_eq!(server.srp_b_hex(), s(login, "SRP_B"));
    let block = base64_decode(s(login, "SECRET_BLOCK")).unwrap();
    let msg = ClaimMessage {
        identity: SrpIdentity::device(s(vec, "DeviceGroupKey"), s(vec, "DeviceKey")),
        secret_block: &block,
        timestamp: s(login, "TIMESTAMP"),
    };
    let srp_a = PublicValue::from_hex(s(login, "SRP_A")).unwrap();
    server
        .verify_claim(&srp_a, &msg, s(login, "PASSWORD_CLAIM_SIGNATURE"))
        .unwrap();
}

#[test]
fn device_config_decode_rejects_garbage() {
    let bad_b64 = DeviceSecretVerifierConfig {
        password_verifier: "not base64!".into(),
        salt: "AMMWvsUV7yMag2XaYCykS9k=".into(),
    };
    assert_eq!(bad_b64.decode().err(), Some(SrpError::InvalidBase64));
    let zero = DeviceSecretVerifierConfig {
        password_verifier: "AAAA".into(),
        salt: "AMMWvsUV7yMag2XaYCykS9k=".into(),
    };
    assert_eq!(zero.decode().err(), Some(SrpError::ValueOutOfRange));
}

/// alexrudd/cognito-srp's Go vector (docs/protocol.md §15): client side only, degenerate B.
#[test]
fn vector_alexrudd_client() {
    let client = SrpClient::new(&1_234_567_890u32.to_be_bytes()).unwrap();
    let salt = Salt::from_hex("499602d2").unwrap();
    let srp_b = PublicValue::from_hex("499602d2").unwrap();
    let id = SrpIdentity::user("myPool", "test");
    assert_eq!(
        to_hex_bytes(&client.session_key_for_test("test", &salt, &srp_b, &id)),
        "d96cde6c95dda17175c1293140c5a81f"
    );
    let msg = ClaimMessage {
        identity: id,
        secret_block: b"secretssecrestssecrets",
        timestamp: "Tue Jul 10 11:01:00 UTC 2018",
    };
    assert_eq!(
        client.claim_signature("test", &salt, &srp_b, &msg).unwrap(),
        "tdvQu/Li/qWl8Nni0aFPs+MwY4rvKZm0kSMrGIMSUHk="
    );
}

#[test]
fn vector_secret_hash() {
    let all = vectors();
    let v = &all["secret_hash"];
    assert_eq!(
        secret_hash(s(v, "clientSecret"), s(v, "username"), s(v, "clientId")),
        s(v, "SECRET_HASH")
    );
}

#[test]
fn client_rejects_zero_b() {
    let n = N_HEX.to_ascii_lowercase();
    assert_eq!(PublicValue::from_hex(&n), Err(SrpError::PublicValueZero));
}

#[cfg(feature = "aws-lc")]
#[test]
fn backends_agree() {
    let m = modn();
    let base = m.reduce_be(&[0xa5; 384]);
    for e in [[0u8; 32], [1; 32], [0xff; 32]] {
        let e = U256::from_be_slice(&e);
        assert_eq!(
            m.pow_crypto_bigint(&base, &e, 256),
            m.pow_aws_lc(&base, &e, 256)
        );
    }
}
