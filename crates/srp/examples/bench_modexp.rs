//! Per-operation timings for the SRP backends.
//!
//! ```sh
//! cargo run --release --example bench_modexp                    # crypto-bigint only
//! cargo run --release --example bench_modexp --features aws-lc  # both, aws-lc active
//! ```
//!
//! Each figure is the best (lowest) mean over several batches, to damp noise from other load.

use std::hint::black_box;
use std::time::Instant;

use gatehouse_srp::__bench;
use gatehouse_srp::{
    format_timestamp, generate_verifier, ClaimMessage, PublicValue, ServerChallenge, SrpClient,
    SrpIdentity,
};

const BATCHES: usize = 5;

fn best_mean_us(iters: usize, mut f: impl FnMut(usize)) -> f64 {
    for i in 0..iters / 10 + 1 {
        f(i); // warm-up
    }
    let mut best = f64::INFINITY;
    for _ in 0..BATCHES {
        let t = Instant::now();
        for i in 0..iters {
            f(i);
        }
        best = best.min(t.elapsed().as_secs_f64() * 1e6 / iters as f64);
    }
    best
}

fn report(name: &str, us: f64) {
    println!("{name:<58} {:>9.1} µs  ({:.3} ms)", us, us / 1000.0);
}

fn main() {
    // Pseudo-random but fixed inputs (no RNG dependency).
    let mut base = [0u8; 384];
    for (i, b) in base.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(167).wrapping_add(13);
    }
    base[0] = 0x7f;
    let exps: Vec<[u8; 32]> = (0..16u8)
        .map(|k| core::array::from_fn(|i| (i as u8 ^ k).wrapping_mul(97).wrapping_add(k) | 1))
        .collect();

    println!("active backend: {}", __bench::ACTIVE_BACKEND);
    println!("3072-bit modulus, 256-bit exponent unless noted\n");

    report(
        "modexp crypto-bigint (256-bit bound)",
        best_mean_us(200, |i| {
            black_box(__bench::modexp_crypto_bigint(&base, &exps[i % 16]));
        }),
    );
    report(
        "modexp crypto-bigint, same exponent at 3072-bit precision",
        best_mean_us(20, |i| {
            black_box(__bench::modexp_crypto_bigint_full_width(
                &base,
                &exps[i % 16],
            ));
        }),
    );
    #[cfg(feature = "aws-lc")]
    report(
        "modexp aws-lc BN_mod_exp_mont_consttime (256-bit)",
        best_mean_us(200, |i| {
            black_box(__bench::modexp_aws_lc(&base, &exps[i % 16]));
        }),
    );
    #[cfg(not(feature = "aws-lc"))]
    println!("(aws-lc not built: rerun with --features aws-lc to compare)");

    println!("\nprotocol operations with the active backend:");
    let id = SrpIdentity::user("AbCdEfGhI", "alice");
    let (salt, v) = generate_verifier(&id, "Passw0rd!x", &[0x5a; 16]);
    report(
        "Verifier::new / verify_password (g^x)",
        best_mean_us(100, |_| {
            black_box(v.verify_password(&id, &salt, "Passw0rd!x"));
        }),
    );
    let client = SrpClient::new(&[0x42; 32]).unwrap();
    let srp_a = PublicValue::from_hex(&client.srp_a_hex()).unwrap();
    report(
        "ServerChallenge::new (B = k·v + g^b)",
        best_mean_us(100, |i| {
            black_box(ServerChallenge::new(&v, &exps[i % 16]).unwrap());
        }),
    );
    let server = ServerChallenge::new(&v, &exps[0]).unwrap();
    let srp_b = PublicValue::from_hex(&server.srp_b_hex()).unwrap();
    let ts = format_timestamp(1_772_355_907);
    let block = [7u8; 64];
    let msg = ClaimMessage {
        identity: id,
        secret_block: &block,
        timestamp: &ts,
    };
    let sig = client
        .claim_signature("Passw0rd!x", &salt, &srp_b, &msg)
        .unwrap();
    report(
        "ServerChallenge::verify_claim (v^u, (A·v^u)^b, HKDF, HMAC)",
        best_mean_us(100, |_| {
            server.verify_claim(&srp_a, &msg, &sig).unwrap();
        }),
    );
    report(
        "full server verify: rebuild challenge from b + verify_claim",
        best_mean_us(100, |_| {
            let s = ServerChallenge::new(&v, &exps[0]).unwrap();
            s.verify_claim(&srp_a, &msg, &sig).unwrap();
        }),
    );
    report(
        "client claim_signature (256-bit a)",
        best_mean_us(50, |_| {
            black_box(
                client
                    .claim_signature("Passw0rd!x", &salt, &srp_b, &msg)
                    .unwrap(),
            );
        }),
    );
}
