//! SRP values and the two halves of the protocol (docs/protocol.md §3–5, §8.3, §9, §10).

use std::fmt;

use crypto_bigint::{U256, U3072, U4096};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::encoding::{base64_decode, base64_encode, enc, parse_hex, to_hex, to_hex_bytes};
use crate::group::{modn, strip_leading_zeros, u3072_from_be, u3072_to_be, GPow, N_BYTES};
use crate::SrpError;

type HmacSha256 = Hmac<Sha256>;

/// Length of the server's secret exponent `b` (and the recommended client `a`): 256 bits.
pub const SECRET_EXPONENT_LEN: usize = 32;
/// Longest client secret exponent [`SrpClient::new`] takes (JS clients use 128 bytes).
pub const CLIENT_SECRET_MAX_BYTES: usize = N_BYTES;
/// Random bytes per salt (docs/protocol.md §4.2).
pub const SALT_LEN: usize = 16;
/// Longest salt accepted (in bytes, after stripping leading zeros).
pub const MAX_SALT_BYTES: usize = 256;
/// Longest `SRP_A`/`SRP_B` hex accepted. Real values have ≤ 768 digits; the cap bounds the
/// work an attacker can cause (docs/protocol.md §3.3).
pub const MAX_PUBLIC_HEX_DIGITS: usize = 1024;
/// 1024 hex digits.
const MAX_PUBLIC_BYTES: usize = MAX_PUBLIC_HEX_DIGITS / 2;

/// Bits of every server-side exponent (`b`, `x`, `u`): the public bound that fixes the running
/// time of an exponentiation, whatever the secret value.
const EXP_BITS: u32 = 256;

// ---------------------------------------------------------------------------------------------
// Identity and message

/// Who is proving knowledge of which password: the two strings mixed into `x` and into the
/// signed message.
///
/// User sign-in: pool name (pool id after `_`) and `USER_ID_FOR_SRP`.
/// Device sign-in: DeviceGroupKey and DeviceKey (docs/protocol.md §10.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrpIdentity<'a> {
    /// `P`: the pool name, or the DeviceGroupKey.
    pub pool_name: &'a str,
    /// `I`: the canonical username (`USER_ID_FOR_SRP`), or the DeviceKey.
    pub user_id: &'a str,
}

impl<'a> SrpIdentity<'a> {
    /// User SRP: `pool_name` is the part of the pool id after `_` (see
    /// [`pool_name_from_pool_id`]), `user_id_for_srp` the canonical username.
    pub fn user(pool_name: &'a str, user_id_for_srp: &'a str) -> Self {
        SrpIdentity {
            pool_name,
            user_id: user_id_for_srp,
        }
    }

    /// Device SRP: the same formulas with P := DeviceGroupKey and I := DeviceKey.
    pub fn device(device_group_key: &'a str, device_key: &'a str) -> Self {
        SrpIdentity {
            pool_name: device_group_key,
            user_id: device_key,
        }
    }
}

/// `AbCdEfGhI` from `us-east-1_AbCdEfGhI`. `None` unless the id has exactly one `_` with text on
/// both sides (the clients take element 1 of `split('_')`).
pub fn pool_name_from_pool_id(pool_id: &str) -> Option<&str> {
    let (region, name) = pool_id.split_once('_')?;
    (!region.is_empty() && !name.is_empty() && !name.contains('_')).then_some(name)
}

/// What `PASSWORD_CLAIM_SIGNATURE` signs: `M = P ‖ I ‖ secret_block ‖ timestamp`.
#[derive(Clone, Copy, Debug)]
pub struct ClaimMessage<'a> {
    /// P and I. For devices, the device identity (neither pool name nor username appear).
    pub identity: SrpIdentity<'a>,
    /// The **decoded** bytes of `SECRET_BLOCK` / `PASSWORD_CLAIM_SECRET_BLOCK`.
    pub secret_block: &'a [u8],
    /// `TIMESTAMP` exactly as received (check it with [`crate::check_timestamp`] first).
    pub timestamp: &'a str,
}

// ---------------------------------------------------------------------------------------------
// Salt

/// A password salt, held as the unsigned integer the clients see.
///
/// Wire forms: `SALT` challenge parameter = `hex(enc(salt))` ([`Salt::to_hex`]); ConfirmDevice
/// `Salt` = `base64(enc(salt))` ([`Salt::to_base64`]). `x` always hashes `enc(salt)`, which
/// makes the JS clients (parse to integer) and pycognito (hash the hex text) agree
/// (docs/protocol.md §4.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Salt {
    /// Minimal big-endian (no leading zero bytes; empty for 0).
    be: Vec<u8>,
}

impl Salt {
    /// From unsigned big-endian bytes, e.g. 16 fresh random bytes or a stored salt.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, SrpError> {
        let be = strip_leading_zeros(bytes);
        if be.len() > MAX_SALT_BYTES {
            return Err(SrpError::TooLong);
        }
        Ok(Salt { be: be.to_vec() })
    }

    /// From the `SALT` challenge parameter (client side) or any hex form of the integer.
    pub fn from_hex(s: &str) -> Result<Self, SrpError> {
        Salt::from_be_bytes(&parse_hex(s, 2 * (MAX_SALT_BYTES + 1))?)
    }

    /// From ConfirmDevice `DeviceSecretVerifierConfig.Salt` (base64 of `enc(salt)`).
    pub fn from_base64(s: &str) -> Result<Self, SrpError> {
        Salt::from_be_bytes(&base64_decode(s)?)
    }

    /// Minimal unsigned big-endian bytes (a storage form; [`Salt::from_be_bytes`] reads it back).
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.be
    }

    /// `enc(salt)`: the bytes hashed into `x`.
    pub fn enc_bytes(&self) -> Vec<u8> {
        enc(&self.be)
    }

    /// `SALT` challenge parameter: lowercase `hex(enc(salt))`.
    pub fn to_hex(&self) -> String {
        to_hex_bytes(&self.enc_bytes())
    }

    /// ConfirmDevice form: `base64(enc(salt))`.
    pub fn to_base64(&self) -> String {
        base64_encode(&self.enc_bytes())
    }

    /// 16 random bytes from `rng`.
    #[cfg(feature = "rand")]
    pub fn random(rng: &mut impl rand_core::CryptoRng) -> Self {
        let mut raw = [0u8; SALT_LEN];
        rng.fill_bytes(&mut raw);
        Salt::from_be_bytes(&raw).expect("16 bytes fit")
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt({})", self.to_hex())
    }
}

// ---------------------------------------------------------------------------------------------
// Hash helpers (docs/protocol.md §4.2, §5)

/// `x = H(enc(salt) ‖ H(P ‖ I ‖ ":" ‖ password))`.
pub(crate) fn compute_x(identity: &SrpIdentity, salt: &Salt, password: &str) -> Zeroizing<U256> {
    let mut inner = Sha256::new();
    inner.update(identity.pool_name.as_bytes());
    inner.update(identity.user_id.as_bytes());
    inner.update(b":");
    inner.update(password.as_bytes());
    let mut ih = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(salt.enc_bytes());
    outer.update(ih.as_slice());
    ih.as_mut_slice().zeroize();
    let mut xh = outer.finalize();
    let x = Zeroizing::new(U256::from_be_slice(xh.as_slice()));
    xh.as_mut_slice().zeroize();
    x
}

/// `u = H(enc(A) ‖ enc(B))`, as raw digest and integer; zero is rejected.
pub(crate) fn scrambler(a: &PublicValue, b: &PublicValue) -> Result<([u8; 32], U256), SrpError> {
    let mut h = Sha256::new();
    h.update(enc(&a.be));
    h.update(enc(&b.be));
    let mut digest = [0u8; 32];
    digest.copy_from_slice(h.finalize().as_slice());
    let u = U256::from_be_slice(&digest);
    if u == U256::ZERO {
        return Err(SrpError::ScramblerZero);
    }
    Ok((digest, u))
}

/// The "Caldera Derived Key": one HKDF-SHA256 block, salt `enc(u)`, IKM `enc(S)`, 16 bytes.
pub(crate) fn derive_key(u: &[u8; 32], s: &U3072) -> Zeroizing<[u8; 16]> {
    let s_enc = Zeroizing::new(enc(&Zeroizing::new(u3072_to_be(s))[..]));
    let mut mac = HmacSha256::new_from_slice(&enc(u)).expect("HMAC takes any key length");
    mac.update(&s_enc);
    let mut prk = mac.finalize().into_bytes();
    let mut mac = HmacSha256::new_from_slice(prk.as_slice()).expect("HMAC takes any key length");
    prk.as_mut_slice().zeroize();
    mac.update(b"Caldera Derived Key\x01");
    let mut okm = mac.finalize().into_bytes();
    let mut k = Zeroizing::new([0u8; 16]);
    k.copy_from_slice(&okm.as_slice()[..16]);
    okm.as_mut_slice().zeroize();
    k
}

/// `base64(HMAC-SHA256(K, P ‖ I ‖ secret_block ‖ timestamp))`.
fn sign(key: &[u8; 16], msg: &ClaimMessage) -> String {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg.identity.pool_name.as_bytes());
    mac.update(msg.identity.user_id.as_bytes());
    mac.update(msg.secret_block);
    mac.update(msg.timestamp.as_bytes());
    base64_encode(mac.finalize().into_bytes().as_slice())
}

/// `SECRET_HASH = base64(HMAC-SHA256(client_secret, username ‖ client_id))` (docs/protocol.md
/// §7). Not SRP, but the same primitives and needed next to it.
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    let mut mac =
        HmacSha256::new_from_slice(client_secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64_encode(mac.finalize().into_bytes().as_slice())
}

// ---------------------------------------------------------------------------------------------
// Verifier

/// The password verifier `v = g^x mod N` (0 < v < N). Password-equivalent: zeroized on drop,
/// redacted in `Debug`.
#[derive(Clone)]
pub struct Verifier {
    v: U3072,
}

impl Drop for Verifier {
    fn drop(&mut self) {
        self.v.zeroize();
    }
}

impl Verifier {
    /// `v = g^x`, `x = H(enc(salt) ‖ H(P ‖ I ‖ ":" ‖ password))`. One 256-bit exponentiation.
    pub fn new(identity: &SrpIdentity, salt: &Salt, password: &str) -> Self {
        Verifier::new_via(identity, salt, password, GPow::FixedBase)
    }

    /// [`Verifier::new`] computing `g^x` by the given method (benchmarks, tests).
    pub(crate) fn new_via(identity: &SrpIdentity, salt: &Salt, password: &str, via: GPow) -> Self {
        let x = compute_x(identity, salt, password);
        Verifier {
            v: modn().pow_g_via(&*x, EXP_BITS, via),
        }
    }

    /// From unsigned big-endian bytes (a stored record, or a decoded ConfirmDevice
    /// `PasswordVerifier`; a leading `00` is fine). Must be `0 < v < N`.
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, SrpError> {
        let v = modn()
            .canonical_from_be(bytes)
            .ok_or(SrpError::ValueOutOfRange)?;
        if v == U3072::ZERO {
            return Err(SrpError::ValueOutOfRange);
        }
        Ok(Verifier { v })
    }

    /// From ConfirmDevice `DeviceSecretVerifierConfig.PasswordVerifier`.
    pub fn from_base64(s: &str) -> Result<Self, SrpError> {
        let bytes = Zeroizing::new(base64_decode(s)?);
        Verifier::from_be_bytes(&bytes)
    }

    /// `enc(v)`: 384 or 385 bytes. The storage form (and what the device clients base64).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(enc(&Zeroizing::new(u3072_to_be(&self.v))[..]))
    }

    /// `base64(enc(v))`, the ConfirmDevice `PasswordVerifier` form.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(base64_encode(&self.to_bytes()))
    }

    /// USER_PASSWORD_AUTH / ADMIN_USER_PASSWORD_AUTH: recomputes `g^x` from the presented
    /// password and compares with `v` in constant time. One 256-bit exponentiation.
    pub fn verify_password(&self, identity: &SrpIdentity, salt: &Salt, password: &str) -> bool {
        self.verify_password_via(identity, salt, password, GPow::FixedBase)
    }

    /// [`Verifier::verify_password`] computing `g^x` by the given method (benchmarks, tests).
    pub(crate) fn verify_password_via(
        &self,
        identity: &SrpIdentity,
        salt: &Salt,
        password: &str,
        via: GPow,
    ) -> bool {
        let candidate = Verifier::new_via(identity, salt, password, via);
        self.v.ct_eq(&candidate.v).into()
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier(<redacted>)")
    }
}

/// A fresh password record: salt from 16 random bytes, then `v`. Call whenever a plaintext
/// password is set (SignUp, AdminCreateUser, AdminSetUserPassword, ChangePassword, …).
pub fn generate_verifier(
    identity: &SrpIdentity,
    password: &str,
    salt_random: &[u8; SALT_LEN],
) -> (Salt, Verifier) {
    let salt = Salt::from_be_bytes(salt_random).expect("16 bytes fit");
    let v = Verifier::new(identity, &salt, password);
    (salt, v)
}

/// [`generate_verifier`] with the salt drawn from `rng`.
#[cfg(feature = "rand")]
pub fn generate_verifier_with_rng(
    identity: &SrpIdentity,
    password: &str,
    rng: &mut impl rand_core::CryptoRng,
) -> (Salt, Verifier) {
    let salt = Salt::random(rng);
    let v = Verifier::new(identity, &salt, password);
    (salt, v)
}

/// 32 random non-zero bytes for `b` (or a 256-bit client `a`).
#[cfg(feature = "rand")]
pub fn random_exponent(
    rng: &mut impl rand_core::CryptoRng,
) -> Zeroizing<[u8; SECRET_EXPONENT_LEN]> {
    let mut e = Zeroizing::new([0u8; SECRET_EXPONENT_LEN]);
    while e.iter().all(|&b| b == 0) {
        rng.fill_bytes(&mut e[..]);
    }
    e
}

// ---------------------------------------------------------------------------------------------
// Public values A and B

/// A public SRP value (`SRP_A` or `SRP_B`), never `0 mod N`.
///
/// Kept as received (unsigned, leading zeros stripped, up to 512 bytes) because `u` hashes
/// `enc` of the value as sent, and reduced mod N for the arithmetic. Genuine clients always
/// send values below N.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicValue {
    be: Vec<u8>,
    pub(crate) reduced: U3072,
}

impl PublicValue {
    /// Parses `SRP_A` (server) or `SRP_B` (client): unpadded hex of any case and length up to
    /// [`MAX_PUBLIC_HEX_DIGITS`]. Errors: [`SrpError::InvalidHex`], [`SrpError::TooLong`],
    /// [`SrpError::PublicValueZero`] when the value is `0 mod N`.
    pub fn from_hex(s: &str) -> Result<Self, SrpError> {
        PublicValue::from_be_bytes(&parse_hex(s, MAX_PUBLIC_HEX_DIGITS)?)
    }

    /// From unsigned big-endian bytes (e.g. A kept in sealed server state). Same checks as
    /// [`PublicValue::from_hex`].
    pub fn from_be_bytes(bytes: &[u8]) -> Result<Self, SrpError> {
        let be = strip_leading_zeros(bytes);
        if be.len() > MAX_PUBLIC_BYTES {
            return Err(SrpError::TooLong);
        }
        let reduced = modn().reduce_be(be);
        if reduced == U3072::ZERO {
            return Err(SrpError::PublicValueZero);
        }
        Ok(PublicValue {
            be: be.to_vec(),
            reduced,
        })
    }

    fn from_residue(r: U3072) -> Result<Self, SrpError> {
        if r == U3072::ZERO {
            return Err(SrpError::PublicValueZero);
        }
        Ok(PublicValue {
            be: strip_leading_zeros(&u3072_to_be(&r)).to_vec(),
            reduced: r,
        })
    }

    /// Wire form: lowercase hex without leading zeros (`SRP_B` / `SRP_A`).
    pub fn to_hex(&self) -> String {
        to_hex(&self.be)
    }

    /// Minimal unsigned big-endian bytes (≤ 384 for genuine values; ≤ 512 in general).
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.be
    }

    /// `enc(value)`, the bytes hashed into `u`.
    pub fn enc_bytes(&self) -> Vec<u8> {
        enc(&self.be)
    }
}

impl fmt::Debug for PublicValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicValue({})", self.to_hex())
    }
}

// ---------------------------------------------------------------------------------------------
// Server half

/// The server side of one SRP exchange: secret `b`, the verifier, and `B = k·v + g^b mod N`.
///
/// Typical flow: at InitiateAuth draw 32 random bytes `b`, build the challenge, send
/// [`ServerChallenge::srp_b_hex`] and seal `b` and `A` into the SECRET_BLOCK state; at
/// PASSWORD_VERIFIER rebuild it from the sealed `b` and the stored verifier and call
/// [`ServerChallenge::verify_claim`]. Secrets are zeroized on drop.
pub struct ServerChallenge {
    b: U256,
    v: U3072,
    srp_b: PublicValue,
}

impl Drop for ServerChallenge {
    fn drop(&mut self) {
        self.b.zeroize();
        self.v.zeroize();
    }
}

impl ServerChallenge {
    /// Computes `B = (k·v + g^b) mod N` (one 256-bit exponentiation). `b_secret` is the
    /// big-endian secret exponent; it must be non-zero ([`SrpError::InvalidSecret`]).
    pub fn new(
        verifier: &Verifier,
        b_secret: &[u8; SECRET_EXPONENT_LEN],
    ) -> Result<Self, SrpError> {
        ServerChallenge::new_via(verifier, b_secret, GPow::FixedBase)
    }

    /// [`ServerChallenge::new`] computing `g^b` by the given method (benchmarks, tests).
    pub(crate) fn new_via(
        verifier: &Verifier,
        b_secret: &[u8; SECRET_EXPONENT_LEN],
        via: GPow,
    ) -> Result<Self, SrpError> {
        let m = modn();
        let b = Zeroizing::new(U256::from_be_slice(b_secret));
        if *b == U256::ZERO {
            return Err(SrpError::InvalidSecret);
        }
        let gb = Zeroizing::new(m.pow_g_via(&*b, EXP_BITS, via));
        let kv = Zeroizing::new(m.mul(m.k(), &verifier.v));
        // B = 0 would need g^b = -k·v: probability ~2^-3072, but the clients abort on it.
        let srp_b = PublicValue::from_residue(m.add(&kv, &gb))?;
        Ok(ServerChallenge {
            b: *b,
            v: verifier.v,
            srp_b,
        })
    }

    /// `B`.
    pub fn public_b(&self) -> &PublicValue {
        &self.srp_b
    }

    /// The challenge issued earlier, rebuilt from the secret `b` and the `B` it produced, both
    /// kept in state only the server can have written (Gatehouse seals them into the
    /// SECRET_BLOCK): no exponentiation. `B` is not recomputed, so it must come from that
    /// authenticated state, never from the client.
    pub fn resume(
        verifier: &Verifier,
        b_secret: &[u8; SECRET_EXPONENT_LEN],
        srp_b: PublicValue,
    ) -> Result<Self, SrpError> {
        let b = Zeroizing::new(U256::from_be_slice(b_secret));
        if *b == U256::ZERO {
            return Err(SrpError::InvalidSecret);
        }
        Ok(ServerChallenge {
            b: *b,
            v: verifier.v,
            srp_b,
        })
    }

    /// `SRP_B` challenge parameter (lowercase hex, unpadded).
    pub fn srp_b_hex(&self) -> String {
        self.srp_b.to_hex()
    }

    /// Checks `PASSWORD_CLAIM_SIGNATURE` (docs/protocol.md §5, §8.3, §10.3).
    ///
    /// Rejects `A ≡ 0 mod N` ([`SrpError::PublicValueZero`]; already excluded by
    /// [`PublicValue`]'s constructors, re-checked here) and `u = 0`
    /// ([`SrpError::ScramblerZero`]), computes `S = (A·v^u)^b mod N` (two 256-bit
    /// exponentiations), `K`, the HMAC over `msg`, and compares its base64 with
    /// `signature_b64` in constant time ([`SrpError::BadSignature`]).
    ///
    /// Does not look at the clock: run [`crate::check_timestamp`] on `msg.timestamp` first
    /// (it is cheap, this is not).
    pub fn verify_claim(
        &self,
        srp_a: &PublicValue,
        msg: &ClaimMessage,
        signature_b64: &str,
    ) -> Result<(), SrpError> {
        let key = self.session_key(srp_a)?;
        let expected = sign(&key, msg);
        if bool::from(expected.as_bytes().ct_eq(signature_b64.as_bytes())) {
            Ok(())
        } else {
            Err(SrpError::BadSignature)
        }
    }

    /// `K` (16 bytes) for this exchange, `S = (A·v^u)^b`.
    fn session_key(&self, srp_a: &PublicValue) -> Result<Zeroizing<[u8; 16]>, SrpError> {
        if srp_a.reduced == U3072::ZERO {
            return Err(SrpError::PublicValueZero);
        }
        let (u_digest, u) = scrambler(srp_a, &self.srp_b)?;
        let m = modn();
        let vu = Zeroizing::new(m.pow(&self.v, &u, EXP_BITS));
        let base = Zeroizing::new(m.mul(&srp_a.reduced, &vu));
        let s = Zeroizing::new(m.pow(&base, &self.b, EXP_BITS));
        Ok(derive_key(&u_digest, &s))
    }

    #[cfg(test)]
    pub(crate) fn session_key_for_test(&self, srp_a: &PublicValue) -> [u8; 16] {
        *self.session_key(srp_a).unwrap()
    }
}

impl fmt::Debug for ServerChallenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerChallenge")
            .field("srp_b", &self.srp_b)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Client half

/// The client side: secret `a`, `A = g^a mod N`, and the claim signature for a
/// PASSWORD_VERIFIER or DEVICE_PASSWORD_VERIFIER challenge. Secrets are zeroized on drop.
pub struct SrpClient {
    a: U4096,
    a_bits: u32,
    srp_a: PublicValue,
}

impl Drop for SrpClient {
    fn drop(&mut self) {
        self.a.zeroize();
    }
}

impl SrpClient {
    /// `a_secret`: big-endian secret exponent, 1..=384 bytes, non-zero. 32 random bytes are
    /// plenty and fastest; the JS clients use 128. The byte length (not the value) sets the
    /// running time.
    pub fn new(a_secret: &[u8]) -> Result<Self, SrpError> {
        if a_secret.is_empty()
            || a_secret.len() > CLIENT_SECRET_MAX_BYTES
            || a_secret.iter().all(|&b| b == 0)
        {
            return Err(SrpError::InvalidSecret);
        }
        let a = Zeroizing::new(u3072_from_be(a_secret).resize::<{ U4096::LIMBS }>());
        let a_bits = 8 * a_secret.len() as u32;
        let srp_a = PublicValue::from_residue(modn().pow_g(&*a, a_bits))?;
        Ok(SrpClient {
            a: *a,
            a_bits,
            srp_a,
        })
    }

    /// A client with a fresh 256-bit `a` from `rng`.
    #[cfg(feature = "rand")]
    pub fn random(rng: &mut impl rand_core::CryptoRng) -> Self {
        SrpClient::new(&random_exponent(rng)[..]).expect("valid 32-byte exponent")
    }

    /// `A`.
    pub fn public_a(&self) -> &PublicValue {
        &self.srp_a
    }

    /// `SRP_A` request parameter (lowercase hex, unpadded).
    pub fn srp_a_hex(&self) -> String {
        self.srp_a.to_hex()
    }

    /// `PASSWORD_CLAIM_SIGNATURE` for a PASSWORD_VERIFIER (user identity) or
    /// DEVICE_PASSWORD_VERIFIER (device identity, password = device password) challenge.
    ///
    /// `salt` and `srp_b` come from the challenge's `SALT` and `SRP_B`
    /// ([`Salt::from_hex`], [`PublicValue::from_hex`], which rejects `B ≡ 0`); `msg` carries
    /// P, I = `USER_ID_FOR_SRP` (or the device pair), the decoded `SECRET_BLOCK` and the
    /// TIMESTAMP to send ([`crate::format_timestamp`]).
    pub fn claim_signature(
        &self,
        password: &str,
        salt: &Salt,
        srp_b: &PublicValue,
        msg: &ClaimMessage,
    ) -> Result<String, SrpError> {
        let key = self.session_key(password, salt, srp_b, &msg.identity)?;
        Ok(sign(&key, msg))
    }

    /// [`SrpClient::claim_signature`] with the password-derived values computed beforehand
    /// ([`PreparedPassword::new`] with the same identity, salt and password): one
    /// exponentiation instead of two. `prepared` must belong to `msg.identity` and the
    /// challenge's `SALT`, otherwise the signature is simply wrong.
    pub fn claim_signature_prepared(
        &self,
        prepared: &PreparedPassword,
        srp_b: &PublicValue,
        msg: &ClaimMessage,
    ) -> Result<String, SrpError> {
        let key = self.session_key_prepared(prepared, srp_b)?;
        Ok(sign(&key, msg))
    }

    /// `K`, with `S = (B − k·g^x)^(a + u·x) mod N`.
    fn session_key(
        &self,
        password: &str,
        salt: &Salt,
        srp_b: &PublicValue,
        identity: &SrpIdentity,
    ) -> Result<Zeroizing<[u8; 16]>, SrpError> {
        if srp_b.reduced == U3072::ZERO {
            return Err(SrpError::PublicValueZero); // before paying for g^x
        }
        self.session_key_prepared(&PreparedPassword::new(identity, salt, password), srp_b)
    }

    fn session_key_prepared(
        &self,
        prepared: &PreparedPassword,
        srp_b: &PublicValue,
    ) -> Result<Zeroizing<[u8; 16]>, SrpError> {
        if srp_b.reduced == U3072::ZERO {
            return Err(SrpError::PublicValueZero);
        }
        let (u_digest, u) = scrambler(&self.srp_a, srp_b)?;
        let m = modn();
        let x = &prepared.x;
        let base = Zeroizing::new(m.sub(&srp_b.reduced, &prepared.kgx));
        // a + u·x < 2^3072 + 2^512 fits in 4096 bits; bound the exponent by the public
        // length of a (or of u·x), plus one carry bit.
        const W: usize = U4096::LIMBS;
        let ux = Zeroizing::new(u.resize::<W>().wrapping_mul(&x.resize::<W>()));
        let e = Zeroizing::new(self.a.wrapping_add(&ux));
        let bits = self.a_bits.max(2 * EXP_BITS) + 1;
        let s = Zeroizing::new(m.pow(&base, &*e, bits));
        Ok(derive_key(&u_digest, &s))
    }

    #[cfg(test)]
    pub(crate) fn session_key_for_test(
        &self,
        password: &str,
        salt: &Salt,
        srp_b: &PublicValue,
        identity: &SrpIdentity,
    ) -> [u8; 16] {
        *self.session_key(password, salt, srp_b, identity).unwrap()
    }
}

impl fmt::Debug for SrpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrpClient")
            .field("srp_a", &self.srp_a)
            .finish_non_exhaustive()
    }
}

/// The password-derived half of the client's work for one identity, salt and password: `x`
/// and `k·g^x mod N` (one exponentiation).
///
/// For clients that sign in many times with the same password while the salt stays the same —
/// load generators, tests — and pass it to [`SrpClient::claim_signature_prepared`]. Applications
/// signing in once per session gain nothing. Password-equivalent: zeroized on drop, redacted in
/// `Debug`.
#[derive(Clone)]
pub struct PreparedPassword {
    x: U256,
    kgx: U3072,
}

impl PreparedPassword {
    /// `x = H(enc(salt) ‖ H(P ‖ I ‖ ":" ‖ password))` and `k·g^x`. For devices: the device
    /// identity, the device salt and the device password.
    pub fn new(identity: &SrpIdentity, salt: &Salt, password: &str) -> Self {
        let m = modn();
        let x = compute_x(identity, salt, password);
        let gx = Zeroizing::new(m.pow_g(&*x, EXP_BITS));
        PreparedPassword {
            x: *x,
            kgx: m.mul(m.k(), &gx),
        }
    }
}

impl Drop for PreparedPassword {
    fn drop(&mut self) {
        self.x.zeroize();
        self.kgx.zeroize();
    }
}

impl fmt::Debug for PreparedPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedPassword(<redacted>)")
    }
}

// ---------------------------------------------------------------------------------------------
// Devices (docs/protocol.md §9)

/// ConfirmDevice `DeviceSecretVerifierConfig`, both fields standard base64 as on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceSecretVerifierConfig {
    /// `PasswordVerifier` = `base64(enc(v))` (384 or 385 bytes decoded).
    pub password_verifier: String,
    /// `Salt` = `base64(enc(salt))` (15–17 bytes decoded for 16 random bytes).
    pub salt: String,
}

impl DeviceSecretVerifierConfig {
    /// Server side of ConfirmDevice: both fields read as unsigned big-endian integers (the
    /// leading `00` is harmless). Errors: [`SrpError::InvalidBase64`], [`SrpError::TooLong`],
    /// [`SrpError::ValueOutOfRange`] (verifier 0 or ≥ N).
    pub fn decode(&self) -> Result<(Salt, Verifier), SrpError> {
        let salt = Salt::from_base64(&self.salt)?;
        let v = Verifier::from_base64(&self.password_verifier)?;
        Ok((salt, v))
    }
}

impl fmt::Debug for DeviceSecretVerifierConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSecretVerifierConfig")
            .field("salt", &self.salt)
            .finish_non_exhaustive()
    }
}

/// Client side of ConfirmDevice (`generateHashDevice`): the device password the client keeps,
/// and the salt and verifier it sends. Zeroized on drop.
#[derive(Clone)]
pub struct DeviceSecret {
    device_password: Zeroizing<String>,
    salt: Salt,
    verifier: Verifier,
}

impl DeviceSecret {
    /// Device password = `base64(random40)` (56 chars); salt from `random16`;
    /// `x` with P := DeviceGroupKey, I := DeviceKey; `v = g^x`.
    pub fn generate(
        device_group_key: &str,
        device_key: &str,
        random40: &[u8; 40],
        random16: &[u8; SALT_LEN],
    ) -> Self {
        let device_password = Zeroizing::new(base64_encode(random40));
        let identity = SrpIdentity::device(device_group_key, device_key);
        let (salt, verifier) = generate_verifier(&identity, &device_password, random16);
        DeviceSecret {
            device_password,
            salt,
            verifier,
        }
    }

    /// [`DeviceSecret::generate`] with randomness from `rng`.
    #[cfg(feature = "rand")]
    pub fn random(
        device_group_key: &str,
        device_key: &str,
        rng: &mut impl rand_core::CryptoRng,
    ) -> Self {
        let mut r40 = Zeroizing::new([0u8; 40]);
        let mut r16 = [0u8; SALT_LEN];
        rng.fill_bytes(&mut r40[..]);
        rng.fill_bytes(&mut r16);
        DeviceSecret::generate(device_group_key, device_key, &r40, &r16)
    }

    /// The device password (`randomPasswordKey` in the JS clients' storage).
    pub fn device_password(&self) -> &str {
        &self.device_password
    }

    /// The salt.
    pub fn salt(&self) -> &Salt {
        &self.salt
    }

    /// The verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// The ConfirmDevice `DeviceSecretVerifierConfig` to send.
    pub fn verifier_config(&self) -> DeviceSecretVerifierConfig {
        DeviceSecretVerifierConfig {
            password_verifier: self.verifier.to_base64().to_string(),
            salt: self.salt.to_base64(),
        }
    }
}

impl fmt::Debug for DeviceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceSecret")
            .field("salt", &self.salt)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_name_split() {
        assert_eq!(
            pool_name_from_pool_id("us-east-1_AbCdEfGhI"),
            Some("AbCdEfGhI")
        );
        assert_eq!(pool_name_from_pool_id("us-east-1"), None);
        assert_eq!(pool_name_from_pool_id("_Abc"), None);
        assert_eq!(pool_name_from_pool_id("us-east-1_"), None);
        assert_eq!(pool_name_from_pool_id("a_b_c"), None);
    }

    #[test]
    fn salt_forms() {
        // The 1-in-512 case of docs/protocol.md §4.3: a leading 00 byte with a low second byte.
        let raw = [0x00, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01];
        let s = Salt::from_be_bytes(&raw).unwrap();
        assert_eq!(s.to_hex(), "123400000000000000000000000001");
        assert_eq!(Salt::from_hex(&s.to_hex()).unwrap(), s);
        let top = Salt::from_hex("8ce8291892390f6b53a245933faf6164").unwrap();
        assert_eq!(top.to_hex(), "008ce8291892390f6b53a245933faf6164");
        assert_eq!(Salt::from_base64(&top.to_base64()).unwrap(), top);
        assert_eq!(Salt::from_be_bytes(&[1; 257]), Err(SrpError::TooLong));
    }

    #[test]
    fn public_value_checks() {
        let n_hex = crate::N_HEX.to_ascii_lowercase();
        assert_eq!(PublicValue::from_hex("0"), Err(SrpError::PublicValueZero));
        assert_eq!(PublicValue::from_hex("000"), Err(SrpError::PublicValueZero));
        assert_eq!(
            PublicValue::from_hex(&n_hex),
            Err(SrpError::PublicValueZero)
        );
        // 2N and 5N fit in 1024 hex digits and are still 0 mod N.
        let n = crate::parse_hex(&n_hex, 768).unwrap();
        let two_n = {
            let mut out = vec![0u8; n.len() + 1];
            let mut carry = 0u16;
            for i in (0..n.len()).rev() {
                let t = u16::from(n[i]) * 2 + carry;
                out[i + 1] = t as u8;
                carry = t >> 8;
            }
            out[0] = carry as u8;
            out
        };
        assert_eq!(
            PublicValue::from_be_bytes(&two_n),
            Err(SrpError::PublicValueZero)
        );
        assert_eq!(PublicValue::from_hex(""), Err(SrpError::InvalidHex));
        assert_eq!(PublicValue::from_hex("xyz"), Err(SrpError::InvalidHex));
        assert_eq!(
            PublicValue::from_hex(&"f".repeat(1025)),
            Err(SrpError::TooLong)
        );
        // 2^3072 - 1 > N is not 0 mod N: accepted, and kept (for hashing) as sent.
        let big = PublicValue::from_hex(&"f".repeat(768)).unwrap();
        assert_eq!(big.as_be_bytes().len(), 384);
        assert_eq!(big.to_hex(), "f".repeat(768));
        assert_eq!(big.enc_bytes().len(), 385);
        let upper = PublicValue::from_hex("ABCDEF").unwrap();
        assert_eq!(upper.to_hex(), "abcdef");
        assert_eq!(upper.enc_bytes(), vec![0x00, 0xab, 0xcd, 0xef]);
    }

    #[test]
    fn verifier_range_checks() {
        assert_eq!(
            Verifier::from_be_bytes(&[0; 10]).err(),
            Some(SrpError::ValueOutOfRange)
        );
        let n = crate::parse_hex(crate::N_HEX, 768).unwrap();
        assert_eq!(
            Verifier::from_be_bytes(&n).err(),
            Some(SrpError::ValueOutOfRange)
        );
        assert_eq!(
            Verifier::from_be_bytes(&[1; 385]).err(),
            Some(SrpError::ValueOutOfRange)
        );
        let mut n_minus_1 = n.clone();
        *n_minus_1.last_mut().unwrap() -= 1;
        let v = Verifier::from_be_bytes(&n_minus_1).unwrap();
        assert_eq!(&v.to_bytes()[1..], &n_minus_1[..]);
        assert_eq!(v.to_bytes()[0], 0);
        assert_eq!(format!("{v:?}"), "Verifier(<redacted>)");
    }

    #[test]
    fn zero_secrets_rejected() {
        let id = SrpIdentity::user("p", "u");
        let (_, v) = generate_verifier(&id, "pw", &[7; 16]);
        assert_eq!(
            ServerChallenge::new(&v, &[0; 32]).err(),
            Some(SrpError::InvalidSecret)
        );
        assert_eq!(SrpClient::new(&[]).err(), Some(SrpError::InvalidSecret));
        assert_eq!(SrpClient::new(&[0; 8]).err(), Some(SrpError::InvalidSecret));
        assert_eq!(
            SrpClient::new(&[1; 385]).err(),
            Some(SrpError::InvalidSecret)
        );
    }

    #[test]
    fn fixed_base_and_generic_agree_on_protocol_values() {
        let id = SrpIdentity::user("AbCdEfGhI", "alice");
        let salt = Salt::from_be_bytes(&[0x33; 16]).unwrap();
        let fixed = Verifier::new_via(&id, &salt, "Passw0rd!x", GPow::FixedBase);
        let generic = Verifier::new_via(&id, &salt, "Passw0rd!x", GPow::Generic);
        assert_eq!(fixed.v, generic.v);
        assert!(fixed.verify_password_via(&id, &salt, "Passw0rd!x", GPow::Generic));
        assert!(generic.verify_password_via(&id, &salt, "Passw0rd!x", GPow::FixedBase));
        assert!(!fixed.verify_password_via(&id, &salt, "Passw0rd!y", GPow::Generic));
        for b in [[1u8; 32], [0xff; 32], {
            let mut b = [0u8; 32];
            b[31] = 1;
            b
        }] {
            let f = ServerChallenge::new_via(&fixed, &b, GPow::FixedBase).unwrap();
            let g = ServerChallenge::new_via(&fixed, &b, GPow::Generic).unwrap();
            assert_eq!(f.public_b(), g.public_b());
        }
        // A client's a: 32 bytes take the table, 128 bytes the generic path; both agree.
        for len in [1usize, 32, 33, 128] {
            let a: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) | 1).collect();
            let c = SrpClient::new(&a).unwrap();
            let e = u3072_from_be(&a).resize::<{ U4096::LIMBS }>();
            let want = modn().pow_g_via(&e, 8 * len as u32, GPow::Generic);
            assert_eq!(c.public_a().reduced, want, "a of {len} bytes");
        }
    }

    #[test]
    fn password_check() {
        let id = SrpIdentity::user("AbCdEfGhI", "alice");
        let (salt, v) = generate_verifier(&id, "Passw0rd!x", &[0x80; 16]);
        assert!(v.verify_password(&id, &salt, "Passw0rd!x"));
        assert!(!v.verify_password(&id, &salt, "Passw0rd!y"));
        assert!(!v.verify_password(&SrpIdentity::user("AbCdEfGhI", "bob"), &salt, "Passw0rd!x"));
        let restored = Verifier::from_be_bytes(&v.to_bytes()).unwrap();
        assert!(restored.verify_password(&id, &salt, "Passw0rd!x"));
    }
}
