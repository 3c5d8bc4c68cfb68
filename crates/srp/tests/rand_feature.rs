//! The `rand` convenience constructors, driven by a deterministic test generator.
#![cfg(feature = "rand")]

use gatehouse_srp::rand_core::{CryptoRng, RngCore};
use gatehouse_srp::{
    format_timestamp, generate_verifier_with_rng, random_exponent, ClaimMessage, DeviceSecret,
    PublicValue, Salt, ServerChallenge, SrpClient, SrpIdentity,
};

/// xorshift64*: NOT secure; only here to exercise the API reproducibly.
struct TestRng(u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
impl CryptoRng for TestRng {}

#[test]
fn rand_constructors_round_trip() {
    let mut rng = TestRng(0x9e37_79b9_7f4a_7c15);
    let id = SrpIdentity::user("AbCdEfGhI", "alice");
    let (salt, v) = generate_verifier_with_rng(&id, "pässwörd", &mut rng);
    assert!(v.verify_password(&id, &salt, "pässwörd"));
    assert_ne!(Salt::random(&mut rng), salt);

    let b = random_exponent(&mut rng);
    let server = ServerChallenge::new(&v, &b).unwrap();
    let client = SrpClient::random(&mut rng);
    let ts = format_timestamp(1_772_355_907);
    let msg = ClaimMessage {
        identity: id,
        secret_block: b"block",
        timestamp: &ts,
    };
    let sig = client
        .claim_signature("pässwörd", &salt, server.public_b(), &msg)
        .unwrap();
    let srp_a = PublicValue::from_hex(&client.srp_a_hex()).unwrap();
    server.verify_claim(&srp_a, &msg, &sig).unwrap();

    let dev = DeviceSecret::random("-KmT3xQ9zA", "us-east-1_x", &mut rng);
    let (dsalt, dv) = dev.verifier_config().decode().unwrap();
    let did = SrpIdentity::device("-KmT3xQ9zA", "us-east-1_x");
    assert!(dv.verify_password(&did, &dsalt, dev.device_password()));
}
