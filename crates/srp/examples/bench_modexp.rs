//! Per-operation timings for the SRP backends and the fixed-base `g^e` table.
//!
//! ```sh
//! cargo run --release --example bench_modexp                          # aws-lc active (default)
//! cargo run --release --example bench_modexp --no-default-features    # crypto-bigint only
//! ```
//!
//! Each figure is the median of many single-call timings. Methods that are compared
//! ("generic" vs "fixed-base", "before" vs "after") are timed round-robin, call by call, so
//! load from other processes hits all of them alike.

use std::hint::black_box;
use std::time::Instant;

use gatehouse_srp::__bench;
use gatehouse_srp::{
    format_timestamp, generate_verifier, ClaimMessage, PublicValue, ServerChallenge, SrpClient,
    SrpIdentity,
};

/// Median single-call time in µs of each closure, timed round-robin for `runs` rounds after
/// a warm-up of `runs / 10 + 1` rounds.
fn medians_us(runs: usize, fs: &mut [&mut dyn FnMut(usize)]) -> Vec<f64> {
    for i in 0..runs / 10 + 1 {
        for f in fs.iter_mut() {
            f(i);
        }
    }
    let mut samples = vec![Vec::with_capacity(runs); fs.len()];
    for i in 0..runs {
        for (f, s) in fs.iter_mut().zip(samples.iter_mut()) {
            let t = Instant::now();
            f(i);
            s.push(t.elapsed().as_secs_f64() * 1e6);
        }
    }
    samples
        .into_iter()
        .map(|mut s| {
            s.sort_by(f64::total_cmp);
            s[s.len() / 2]
        })
        .collect()
}

fn median_us(runs: usize, mut f: impl FnMut(usize)) -> f64 {
    medians_us(runs, &mut [&mut f])[0]
}

fn report(name: &str, us: f64) {
    println!("{name:<62} {us:>9.1} µs  ({:.3} ms)", us / 1000.0);
}

fn report_pair(name: &str, before: f64, after: f64) {
    println!(
        "{name:<40} before {before:>8.1} µs   after {after:>8.1} µs   ({:.1}x)",
        before / after
    );
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
    println!("3072-bit modulus, 256-bit exponent unless noted; median of single calls\n");

    report(
        "modexp crypto-bigint (256-bit bound)",
        median_us(300, |i| {
            black_box(__bench::modexp_crypto_bigint(&base, &exps[i % 16]));
        }),
    );
    report(
        "modexp crypto-bigint, same exponent at 3072-bit precision",
        median_us(21, |i| {
            black_box(__bench::modexp_crypto_bigint_full_width(
                &base,
                &exps[i % 16],
            ));
        }),
    );
    #[cfg(feature = "aws-lc")]
    report(
        "modexp aws-lc BN_mod_exp_mont_consttime (256-bit)",
        median_us(300, |i| {
            black_box(__bench::modexp_aws_lc(&base, &exps[i % 16]));
        }),
    );
    #[cfg(not(feature = "aws-lc"))]
    println!("(aws-lc not built: rerun without --no-default-features to compare)");

    // Fixed base g = 2: generic exponentiation vs the precomputed table.
    println!("\ng^e, 256-bit secret e (fixed base g = 2):");
    let build = (0..5)
        .map(|_| __bench::g_table_build_time().as_secs_f64() * 1e3)
        .fold(f64::INFINITY, f64::min);
    println!(
        "fixed-base table: {} bytes ({:.0} KiB), built once in {build:.1} ms",
        __bench::g_table_bytes(),
        __bench::g_table_bytes() as f64 / 1024.0
    );
    let mut generic = |i: usize| {
        black_box(__bench::pow_g_generic(&exps[i % 16]));
    };
    let mut fixed_cb = |i: usize| {
        black_box(__bench::pow_g_fixed_crypto_bigint(&exps[i % 16]));
    };
    #[cfg(feature = "aws-lc")]
    {
        let mut fixed_lc = |i: usize| {
            black_box(__bench::pow_g_fixed_aws_lc(&exps[i % 16]));
        };
        let m = medians_us(1000, &mut [&mut generic, &mut fixed_cb, &mut fixed_lc]);
        report("g^e generic (aws-lc BN_mod_exp_mont_consttime)", m[0]);
        report("g^e fixed-base, crypto-bigint FixedMontyForm::mul", m[1]);
        report(
            "g^e fixed-base, aws-lc BN_mod_mul_montgomery (active)",
            m[2],
        );
        println!(
            "speed-up of the active fixed-base path: {:.1}x",
            m[0] / m[2]
        );
    }
    #[cfg(not(feature = "aws-lc"))]
    {
        let m = medians_us(1000, &mut [&mut generic, &mut fixed_cb]);
        report("g^e generic (crypto-bigint pow_bounded_exp)", m[0]);
        report(
            "g^e fixed-base, crypto-bigint FixedMontyForm::mul (active)",
            m[1],
        );
        println!(
            "speed-up of the active fixed-base path: {:.1}x",
            m[0] / m[1]
        );
    }

    println!("\nprotocol operations, before (generic g^e) / after (fixed-base g^e):");
    let id = SrpIdentity::user("AbCdEfGhI", "alice");
    let (salt, v) = generate_verifier(&id, "Passw0rd!x", &[0x5a; 16]);
    let m = medians_us(
        500,
        &mut [
            &mut |_| {
                assert!(__bench::verify_password_generic(
                    &v,
                    &id,
                    &salt,
                    "Passw0rd!x"
                ));
            },
            &mut |_| {
                assert!(v.verify_password(&id, &salt, "Passw0rd!x"));
            },
        ],
    );
    report_pair("Verifier::verify_password (g^x)", m[0], m[1]);
    let m = medians_us(
        500,
        &mut [
            &mut |i| {
                black_box(__bench::server_challenge_generic(&v, &exps[i % 16]).unwrap());
            },
            &mut |i| {
                black_box(ServerChallenge::new(&v, &exps[i % 16]).unwrap());
            },
        ],
    );
    report_pair("ServerChallenge::new (B = k·v + g^b)", m[0], m[1]);

    println!("\nother protocol operations (active backend):");
    let client = SrpClient::new(&[0x42; 32]).unwrap();
    let srp_a = PublicValue::from_hex(&client.srp_a_hex()).unwrap();
    report(
        "SrpClient::new (A = g^a, 256-bit a)",
        median_us(300, |i| {
            black_box(SrpClient::new(&exps[i % 16]).unwrap());
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
        median_us(200, |_| {
            server.verify_claim(&srp_a, &msg, &sig).unwrap();
        }),
    );
    report(
        "full server verify: rebuild challenge from b + verify_claim",
        median_us(200, |_| {
            let s = ServerChallenge::new(&v, &exps[0]).unwrap();
            s.verify_claim(&srp_a, &msg, &sig).unwrap();
        }),
    );
    report(
        "client claim_signature (256-bit a)",
        median_us(100, |_| {
            black_box(
                client
                    .claim_signature("Passw0rd!x", &salt, &srp_b, &msg)
                    .unwrap(),
            );
        }),
    );
}
