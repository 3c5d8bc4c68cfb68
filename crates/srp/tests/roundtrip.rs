//! Property tests over the public API: the client and server halves agree for random users,
//! passwords (non-ASCII included), salts, secrets and timestamps; anything else is rejected.

use gatehouse_srp::{
    check_timestamp, format_timestamp, generate_verifier, ClaimMessage, DeviceSecret, PublicValue,
    Salt, ServerChallenge, SrpClient, SrpError, SrpIdentity, Verifier,
};
use proptest::prelude::*;

fn nonzero_bytes(
    len: impl Into<proptest::collection::SizeRange>,
) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), len).prop_filter("non-zero", |v| v.iter().any(|&b| b != 0))
}

proptest! {
    // Each case runs about a dozen 3072-bit exponentiations.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn client_and_server_agree(
        pool in "[0-9A-Za-z]{1,16}",
        user in "\\PC{1,40}",
        password in "\\PC{0,64}",
        salt_random in any::<[u8; 16]>(),
        a in nonzero_bytes(1..=128),
        b in any::<[u8; 32]>().prop_filter("non-zero", |b| b.iter().any(|&x| x != 0)),
        secret_block in prop::collection::vec(any::<u8>(), 0..200),
        unix in 0i64..4_102_444_800,
    ) {
        let id = SrpIdentity::user(&pool, &user);
        // Server: password record, stored and reloaded as bytes.
        let (salt, v) = generate_verifier(&id, &password, &salt_random);
        let v = Verifier::from_be_bytes(&v.to_bytes()).unwrap();
        let salt = Salt::from_be_bytes(salt.as_be_bytes()).unwrap();
        prop_assert!(v.verify_password(&id, &salt, &password));
        let wrong = format!("{password}\u{e9}");
        prop_assert!(!v.verify_password(&id, &salt, &wrong));

        // Client → SRP_A; server → SRP_B and SALT; everything crosses the "wire" as text.
        let client = SrpClient::new(&a).unwrap();
        let srp_a = PublicValue::from_hex(&client.srp_a_hex()).unwrap();
        let server = ServerChallenge::new(&v, &b).unwrap();
        let srp_b = PublicValue::from_hex(&server.srp_b_hex()).unwrap();
        let wire_salt = Salt::from_hex(&salt.to_hex()).unwrap();

        let timestamp = format_timestamp(unix);
        prop_assert_eq!(check_timestamp(&timestamp, unix + 7, 300), Ok(unix));
        let msg = ClaimMessage { identity: id, secret_block: &secret_block, timestamp: &timestamp };
        let sig = client.claim_signature(&password, &wire_salt, &srp_b, &msg).unwrap();
        prop_assert_eq!(sig.len(), 44);
        prop_assert_eq!(server.verify_claim(&srp_a, &msg, &sig), Ok(()));

        let bad = client.claim_signature(&wrong, &wire_salt, &srp_b, &msg).unwrap();
        prop_assert_eq!(server.verify_claim(&srp_a, &msg, &bad), Err(SrpError::BadSignature));
    }

    #[test]
    fn device_confirm_then_device_sign_in(
        group_key in "-[A-Za-z0-9_-]{9}",
        uuid in "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
        r40 in any::<[u8; 40]>(),
        r16 in any::<[u8; 16]>(),
        a in nonzero_bytes(32),
        b in any::<[u8; 32]>().prop_filter("non-zero", |b| b.iter().any(|&x| x != 0)),
        secret_block in prop::collection::vec(any::<u8>(), 1..100),
        unix in 1_700_000_000i64..1_900_000_000,
    ) {
        let device_key = format!("us-east-1_{uuid}");
        // Client: ConfirmDevice payload.
        let dev = DeviceSecret::generate(&group_key, &device_key, &r40, &r16);
        prop_assert_eq!(dev.device_password().len(), 56);
        let cfg = dev.verifier_config();
        // Server: store what ConfirmDevice carried.
        let (salt, v) = cfg.decode().unwrap();
        prop_assert_eq!(&salt, dev.salt());

        // DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER.
        let client = SrpClient::new(&a).unwrap();
        let server = ServerChallenge::new(&v, &b).unwrap();
        let id = SrpIdentity::device(&group_key, &device_key);
        let timestamp = format_timestamp(unix);
        let msg = ClaimMessage { identity: id, secret_block: &secret_block, timestamp: &timestamp };
        let sig = client
            .claim_signature(
                dev.device_password(),
                &Salt::from_hex(&salt.to_hex()).unwrap(),
                &PublicValue::from_hex(&server.srp_b_hex()).unwrap(),
                &msg,
            )
            .unwrap();
        let srp_a = PublicValue::from_hex(&client.srp_a_hex()).unwrap();
        prop_assert_eq!(server.verify_claim(&srp_a, &msg, &sig), Ok(()));
        // A user-style message with the same key does not verify.
        let as_user = ClaimMessage { identity: SrpIdentity::user("pool", &device_key), ..msg };
        prop_assert_eq!(server.verify_claim(&srp_a, &as_user, &sig), Err(SrpError::BadSignature));
    }

    #[test]
    fn timestamp_round_trip(unix in -62_135_596_800i64..253_402_300_799) {
        // Years 0001..=9999.
        let s = format_timestamp(unix);
        prop_assert_eq!(gatehouse_srp::parse_timestamp(&s), Ok(unix));
    }

    #[test]
    fn hex_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let h = gatehouse_srp::to_hex(&bytes);
        let parsed = gatehouse_srp::parse_hex(&h, 200).unwrap();
        let stripped: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
        prop_assert_eq!(&parsed, &stripped);
        let e = gatehouse_srp::enc(&bytes);
        prop_assert!(e[0] & 0x80 == 0);
        prop_assert!(e.len() == 1 || e[0] != 0 || e[1] & 0x80 != 0);
    }
}
