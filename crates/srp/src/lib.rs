//! Cognito-compatible SRP-6a maths for Gatehouse — pure, no I/O, no clock, no logging.
//!
//! Implements docs/protocol.md §3–7 and the arithmetic of §8.3, §9 and §10 bit for bit as
//! amazon-cognito-identity-js, Amplify v6 and pycognito compute it: the RFC 3526
//! 3072-bit prime with **g = 2**, Java-style `enc` ("padHex") of every hashed integer, `k`, `x`
//! with the pool-name prefix, `u`, the "Caldera Derived Key" HKDF and the HMAC claim signature,
//! plus the `TIMESTAMP` format.
//!
//! * Server, password records: [`generate_verifier`] / [`Verifier::new`] when a password is set;
//!   [`Verifier::verify_password`] for USER_PASSWORD_AUTH (constant-time compare of `g^x`).
//! * Server, USER_SRP_AUTH and DEVICE_SRP_AUTH: [`PublicValue::from_hex`] on `SRP_A`,
//!   [`ServerChallenge::new`] for `SRP_B`, [`ServerChallenge::verify_claim`] for
//!   `PASSWORD_CLAIM_SIGNATURE`, [`check_timestamp`] for `TIMESTAMP`.
//! * Devices: the same maths with [`SrpIdentity::device`] (pool name := DeviceGroupKey,
//!   user := DeviceKey); [`DeviceSecret`] is the client side of ConfirmDevice and
//!   [`DeviceSecretVerifierConfig::decode`] the server side.
//! * Client (tests, load generator, Rust apps): [`SrpClient`]; [`PreparedPassword`] saves one
//!   exponentiation per sign-in when the same password is used again and again.
//!
//! Randomness is injected: every secret (salt, `a`, `b`, device password) is passed in as
//! bytes; feature `rand` adds convenience constructors taking a `rand_core` 0.9 `CryptoRng`.
//! Secret exponents on the server are 256 bits; modular exponentiation is constant time.
//!
//! ```
//! use gatehouse_srp::*;
//!
//! // Password set (SignUp …): store salt and verifier bytes.
//! let id = SrpIdentity::user("AbCdEfGhI", "alice");
//! let (salt, verifier) = generate_verifier(&id, "Passw0rd!x", &[0x5a; SALT_LEN]);
//! let stored_salt = salt.as_be_bytes().to_vec();
//! let stored_v = verifier.to_bytes();
//!
//! // InitiateAuth USER_SRP_AUTH: the client sends SRP_A.
//! let client = SrpClient::new(&[0x42; 32])?;
//! let srp_a = PublicValue::from_hex(&client.srp_a_hex())?; // InvalidParameter on error
//! let b = [0x17; SECRET_EXPONENT_LEN]; // fresh random bytes in real life
//! let v = Verifier::from_be_bytes(&stored_v)?;
//! let challenge = ServerChallenge::new(&v, &b)?;
//! let salt = Salt::from_be_bytes(&stored_salt)?;
//! let (salt_param, srp_b_param) = (salt.to_hex(), challenge.srp_b_hex());
//! // … seal b and A into SECRET_BLOCK, answer PASSWORD_VERIFIER …
//! let secret_block = b"sealed state";
//!
//! // Client answers.
//! let timestamp = format_timestamp(1_772_355_907);
//! let msg = ClaimMessage { identity: id, secret_block, timestamp: &timestamp };
//! let signature = client.claim_signature(
//!     "Passw0rd!x",
//!     &Salt::from_hex(&salt_param)?,
//!     &PublicValue::from_hex(&srp_b_param)?,
//!     &msg,
//! )?;
//!
//! // RespondToAuthChallenge PASSWORD_VERIFIER: cheap timestamp check first, then the maths
//! // (rebuilding the challenge from the sealed b and the stored verifier).
//! check_timestamp(&timestamp, 1_772_355_910, DEFAULT_MAX_SKEW_SECS)?;
//! let challenge = ServerChallenge::new(&Verifier::from_be_bytes(&stored_v)?, &b)?;
//! challenge.verify_claim(&srp_a, &msg, &signature)?;
//! # Ok::<(), SrpError>(())
//! ```

mod encoding;
mod fixed_base;
mod group;
mod srp;
mod timestamp;

#[cfg(test)]
mod vector_tests;

pub use encoding::{base64_decode, base64_encode, enc, pad_hex, parse_hex, to_hex};
/// The `rand_core` version the `rand` feature's functions take (0.9, as used by rand 0.9).
#[cfg(feature = "rand")]
pub use rand_core;
pub use srp::{
    generate_verifier, pool_name_from_pool_id, secret_hash, ClaimMessage, DeviceSecret,
    DeviceSecretVerifierConfig, PreparedPassword, PublicValue, Salt, ServerChallenge, SrpClient,
    SrpIdentity, Verifier, CLIENT_SECRET_MAX_BYTES, MAX_PUBLIC_HEX_DIGITS, MAX_SALT_BYTES,
    SALT_LEN, SECRET_EXPONENT_LEN,
};
#[cfg(feature = "rand")]
pub use srp::{generate_verifier_with_rng, random_exponent};
pub use timestamp::{check_timestamp, format_timestamp, parse_timestamp, DEFAULT_MAX_SKEW_SECS};

/// N as big-endian hex (RFC 3526 §4, 3072 bits).
pub const N_HEX: &str = group::N_HEX;
/// The generator g.
pub const G: u64 = group::G;
/// `k = H(enc(N) ‖ enc(g))` as lowercase hex.
pub const K_HEX: &str = "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6";

/// Why an SRP step failed. Suggested Cognito mapping in the comment of each variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SrpError {
    /// Empty input or a non-hex character (InvalidParameterException).
    InvalidHex,
    /// Input longer than allowed, e.g. SRP_A beyond [`MAX_PUBLIC_HEX_DIGITS`]
    /// (InvalidParameterException).
    TooLong,
    /// `A mod N == 0` (or `B mod N == 0` on the client): the classic SRP bypass
    /// (InvalidParameterException at InitiateAuth / DEVICE_SRP_AUTH).
    PublicValueZero,
    /// A verifier that is 0 or not below N (InvalidParameterException on ConfirmDevice;
    /// a corrupt record otherwise).
    ValueOutOfRange,
    /// Not standard base64 (InvalidParameterException).
    InvalidBase64,
    /// A secret exponent that is zero or has an unsupported length (caller bug).
    InvalidSecret,
    /// `u = H(enc(A) ‖ enc(B))` is zero; abort (NotAuthorizedException).
    ScramblerZero,
    /// PASSWORD_CLAIM_SIGNATURE does not match (NotAuthorizedException
    /// "Incorrect username or password.").
    BadSignature,
    /// TIMESTAMP is not `EEE MMM d HH:mm:ss z yyyy` in English (InvalidParameterException
    /// "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english.").
    TimestampMalformed,
    /// TIMESTAMP is readable but not the canonical rendering of its instant
    /// (NotAuthorizedException "Incorrect username or password.").
    TimestampNotCanonical,
    /// TIMESTAMP too far from the server clock (NotAuthorizedException).
    TimestampSkew,
}

impl std::fmt::Display for SrpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SrpError::InvalidHex => "invalid hex",
            SrpError::TooLong => "value too long",
            SrpError::PublicValueZero => "SRP public value is 0 mod N",
            SrpError::ValueOutOfRange => "value out of range",
            SrpError::InvalidBase64 => "invalid base64",
            SrpError::InvalidSecret => "invalid secret exponent",
            SrpError::ScramblerZero => "SRP scrambler u is 0",
            SrpError::BadSignature => "claim signature mismatch",
            SrpError::TimestampMalformed => {
                "TIMESTAMP format should be EEE MMM d HH:mm:ss z yyyy in english."
            }
            SrpError::TimestampNotCanonical => "TIMESTAMP is not in canonical form",
            SrpError::TimestampSkew => "TIMESTAMP outside the allowed clock skew",
        })
    }
}

impl std::error::Error for SrpError {}

#[doc(hidden)]
/// Raw exponentiation entry points for `examples/bench_modexp.rs`; not a stable API.
pub mod __bench {
    use crypto_bigint::{U256, U3072};

    use crate::group::{modn, u3072_from_be, N_BYTES};

    fn inputs(base: &[u8; N_BYTES], exp: &[u8; 32]) -> (U3072, U256) {
        let m = modn();
        (m.reduce_be(base), U256::from_be_slice(exp))
    }

    /// `base^exp mod N` with crypto-bigint, 256-bit exponent bound.
    pub fn modexp_crypto_bigint(base: &[u8; N_BYTES], exp: &[u8; 32]) -> [u8; N_BYTES] {
        let (b, e) = inputs(base, exp);
        crate::group::u3072_to_be(&modn().pow_crypto_bigint(&b, &e, 256))
    }

    /// Same, but the exponent held and bounded at 3072-bit precision (what `pow()` without a
    /// bound would cost).
    pub fn modexp_crypto_bigint_full_width(base: &[u8; N_BYTES], exp: &[u8; 32]) -> [u8; N_BYTES] {
        let (b, e) = inputs(base, exp);
        let wide = u3072_from_be(e.to_be_bytes().as_slice());
        crate::group::u3072_to_be(&modn().pow_crypto_bigint(&b, &wide, 3072))
    }

    /// `base^exp mod N` with aws-lc `BN_mod_exp_mont_consttime`, 256-bit exponent.
    #[cfg(feature = "aws-lc")]
    pub fn modexp_aws_lc(base: &[u8; N_BYTES], exp: &[u8; 32]) -> [u8; N_BYTES] {
        let (b, e) = inputs(base, exp);
        crate::group::u3072_to_be(&modn().pow_aws_lc(&b, &e, 256))
    }

    /// `g^exp mod N` with the active backend's generic exponentiation (the method before the
    /// fixed-base table).
    pub fn pow_g_generic(exp: &[u8; 32]) -> [u8; N_BYTES] {
        let e = U256::from_be_slice(exp);
        crate::group::u3072_to_be(&modn().pow_g_via(&e, 256, crate::group::GPow::Generic))
    }

    /// `g^exp mod N` with the fixed-base table, multiplying with crypto-bigint.
    pub fn pow_g_fixed_crypto_bigint(exp: &[u8; 32]) -> [u8; N_BYTES] {
        let e = U256::from_be_slice(exp);
        crate::group::u3072_to_be(&modn().pow_g_fixed_crypto_bigint(&e, 256))
    }

    /// `g^exp mod N` with the fixed-base table, multiplying with aws-lc.
    #[cfg(feature = "aws-lc")]
    pub fn pow_g_fixed_aws_lc(exp: &[u8; 32]) -> [u8; N_BYTES] {
        let e = U256::from_be_slice(exp);
        crate::group::u3072_to_be(&modn().pow_g_fixed_aws_lc(&e, 256))
    }

    /// Builds the fixed-base table (if not built yet) and returns its size in bytes.
    pub fn g_table_bytes() -> usize {
        modn().g_table();
        crate::fixed_base::TABLE_BYTES
    }

    /// Time to build a fresh fixed-base table (what the first sign-in of a process pays).
    pub fn g_table_build_time() -> std::time::Duration {
        let t = std::time::Instant::now();
        std::hint::black_box(modn().build_g_table_for_bench());
        t.elapsed()
    }

    /// [`crate::Verifier::verify_password`] as it was before the fixed-base table.
    pub fn verify_password_generic(
        v: &crate::Verifier,
        identity: &crate::SrpIdentity,
        salt: &crate::Salt,
        password: &str,
    ) -> bool {
        v.verify_password_via(identity, salt, password, crate::group::GPow::Generic)
    }

    /// [`crate::ServerChallenge::new`] as it was before the fixed-base table.
    pub fn server_challenge_generic(
        v: &crate::Verifier,
        b: &[u8; 32],
    ) -> Result<crate::ServerChallenge, crate::SrpError> {
        crate::ServerChallenge::new_via(v, b, crate::group::GPow::Generic)
    }

    /// Name of the backend [`crate::ServerChallenge`] and friends use in this build.
    pub const ACTIVE_BACKEND: &str = if cfg!(feature = "aws-lc") {
        "aws-lc (generic: BN_mod_exp_mont_consttime; g^e: fixed-base table, BN_mod_mul_montgomery)"
    } else {
        "crypto-bigint (generic: pow_bounded_exp; g^e: fixed-base table, FixedMontyForm::mul)"
    };
}
