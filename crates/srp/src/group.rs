//! The SRP group (RFC 3526 3072-bit MODP prime, g = 2) and the one type that owns the
//! big-integer backend.
//!
//! Everything else in the crate talks to [`ModN`] only, in terms of canonical residues
//! (`U3072` values `< N`), so the exponentiation backend can be swapped here without touching
//! the protocol code. Montgomery parameters for N are computed once, on first use.
//!
//! Backends for exponentiation (see README for the measurements behind the choice):
//! * feature `aws-lc` (default): aws-lc's `BN_mod_exp_mont_consttime`, ~1.7x faster;
//! * without it: `crypto-bigint` fixed-width Montgomery arithmetic (pure Rust, constant time).
//!
//! `g^secret` (verifier, `B`, a 256-bit client `A`) does not use them: [`ModN::pow_g`] takes
//! the constant-time fixed-base table of `crate::fixed_base` (~4x faster), multiplying with
//! aws-lc's `BN_mod_mul_montgomery` (feature `aws-lc`) or crypto-bigint's `FixedMontyForm`.
//!
//! Additions, multiplications and reductions always use crypto-bigint: a handful of them sit
//! next to hundreds of multiplications inside one exponentiation. Comparisons and equality on
//! `Uint` are constant time in crypto-bigint.

use std::sync::OnceLock;

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{NonZero, Odd, Uint, U256, U3072, U4096};
use sha2::{Digest, Sha256};

use crate::encoding::enc;
use crate::fixed_base::{self, GTable};

/// Byte length of N (and of every canonical residue).
pub(crate) const N_BYTES: usize = 384;
/// Limbs of a 3072-bit integer on this target.
pub(crate) const L: usize = U3072::LIMBS;

/// N: RFC 3526 §4 (MODP group 15), big-endian hex.
pub(crate) const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD",
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F",
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510",
    "15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C",
    "BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// The generator. Cognito uses 2 (not RFC 5054's 5 for this prime).
pub(crate) const G: u64 = 2;

/// How [`ModN::pow_g_via`] computes `g^e`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GPow {
    /// Precomputed table of powers of g (the default).
    FixedBase,
    /// The generic variable-base exponentiation of the active backend (the previous method).
    Generic,
}

/// Arithmetic modulo N. One process-wide instance, see [`modn`].
pub(crate) struct ModN {
    n: U3072,
    n_nz: NonZero<U3072>,
    n_wide: NonZero<U4096>,
    params: FixedMontyParams<L>,
    /// Powers of g for [`ModN::pow_g`], built on its first call.
    g_table: OnceLock<GTable>,
    k: U3072,
    #[cfg(feature = "aws-lc")]
    lc: lc::LcMont,
}

/// The shared group instance (Montgomery parameters computed once).
pub(crate) fn modn() -> &'static ModN {
    static MODN: OnceLock<ModN> = OnceLock::new();
    MODN.get_or_init(ModN::new)
}

impl ModN {
    fn new() -> Self {
        let n = U3072::from_be_hex(N_HEX);
        let odd = Odd::new(n).expect("N is odd");
        // N is public, so the faster variable-time setup is fine.
        let params = FixedMontyParams::new_vartime(odd);
        // k = H(enc(N) || enc(g)), read as an unsigned integer (< 2^256 < N).
        let mut h = Sha256::new();
        h.update(enc(n.to_be_bytes().as_slice()));
        h.update(enc(&[G as u8]));
        let k = U256::from_be_slice(&h.finalize()).resize::<L>();
        ModN {
            n,
            n_nz: NonZero::new(n).expect("N is non-zero"),
            n_wide: NonZero::new(n.resize::<{ U4096::LIMBS }>()).expect("N is non-zero"),
            params,
            g_table: OnceLock::new(),
            k,
            #[cfg(feature = "aws-lc")]
            lc: lc::LcMont::new(&n),
        }
    }

    /// The multiplier parameter k.
    pub(crate) fn k(&self) -> &U3072 {
        &self.k
    }

    /// Reduces an unsigned big-endian integer of at most 512 bytes modulo N.
    pub(crate) fn reduce_be(&self, be: &[u8]) -> U3072 {
        assert!(be.len() <= U4096::BYTES, "value longer than 4096 bits");
        let mut buf = [0u8; U4096::BYTES];
        buf[U4096::BYTES - be.len()..].copy_from_slice(be);
        let wide = U4096::from_be_slice(&buf);
        wide.rem(&self.n_wide).resize::<L>()
    }

    /// Parses an unsigned big-endian integer that must already be `< N`.
    pub(crate) fn canonical_from_be(&self, be: &[u8]) -> Option<U3072> {
        let be = strip_leading_zeros(be);
        if be.len() > N_BYTES {
            return None;
        }
        let v = u3072_from_be(be);
        if v < self.n {
            Some(v)
        } else {
            None
        }
    }

    pub(crate) fn add(&self, a: &U3072, b: &U3072) -> U3072 {
        a.add_mod(b, &self.n_nz)
    }

    pub(crate) fn sub(&self, a: &U3072, b: &U3072) -> U3072 {
        a.sub_mod(b, &self.n_nz)
    }

    pub(crate) fn mul(&self, a: &U3072, b: &U3072) -> U3072 {
        let a = FixedMontyForm::new(a, &self.params);
        let b = FixedMontyForm::new(b, &self.params);
        (a * b).retrieve()
    }

    /// `base^exp mod N`, constant time in `base` and `exp`; requires `exp < 2^exp_bits`.
    /// The running time depends on `exp_bits` alone: pass a public bound (256 for server
    /// secrets), never the exponent's actual bit length.
    pub(crate) fn pow<const E: usize>(&self, base: &U3072, exp: &Uint<E>, exp_bits: u32) -> U3072 {
        #[cfg(feature = "aws-lc")]
        {
            self.pow_aws_lc(base, exp, exp_bits)
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            self.pow_crypto_bigint(base, exp, exp_bits)
        }
    }

    /// `g^exp mod N`; same contract as [`ModN::pow`]. Uses the fixed-base table (no squarings,
    /// ~4x faster) whenever the public bound allows it, which covers every server exponent.
    pub(crate) fn pow_g<const E: usize>(&self, exp: &Uint<E>, exp_bits: u32) -> U3072 {
        self.pow_g_via(exp, exp_bits, GPow::FixedBase)
    }

    /// [`ModN::pow_g`] with an explicit method (benchmarks and tests compare the two).
    pub(crate) fn pow_g_via<const E: usize>(
        &self,
        exp: &Uint<E>,
        exp_bits: u32,
        via: GPow,
    ) -> U3072 {
        // `exp_bits` is a public bound (a constant, or a client's secret *length*), so
        // branching on it reveals nothing about the exponent.
        if via == GPow::FixedBase && exp_bits <= fixed_base::MAX_EXP_BITS {
            self.pow_g_fixed(exp, exp_bits)
        } else {
            self.pow(&U3072::from_u64(G), exp, exp_bits)
        }
    }

    /// The fixed-base table, built on first use.
    pub(crate) fn g_table(&self) -> &GTable {
        self.g_table.get_or_init(|| GTable::new(&self.params))
    }

    #[cfg(test)]
    pub(crate) fn params_for_test(&self) -> FixedMontyParams<L> {
        self.params
    }

    /// A fresh table, for timing its construction.
    pub(crate) fn build_g_table_for_bench(&self) -> GTable {
        GTable::new(&self.params)
    }

    /// Fixed-base `g^exp` with the active backend's Montgomery multiplication.
    /// Requires `exp < 2^exp_bits` and `exp_bits ≤ 256`.
    pub(crate) fn pow_g_fixed<const E: usize>(&self, exp: &Uint<E>, exp_bits: u32) -> U3072 {
        #[cfg(feature = "aws-lc")]
        {
            self.pow_g_fixed_aws_lc(exp, exp_bits)
        }
        #[cfg(not(feature = "aws-lc"))]
        {
            self.pow_g_fixed_crypto_bigint(exp, exp_bits)
        }
    }

    /// Fixed-base `g^exp`, multiplying with crypto-bigint.
    pub(crate) fn pow_g_fixed_crypto_bigint<const E: usize>(
        &self,
        exp: &Uint<E>,
        exp_bits: u32,
    ) -> U3072 {
        self.g_table()
            .pow_crypto_bigint(&self.params, exp, exp_bits)
    }

    /// Fixed-base `g^exp`, multiplying with aws-lc's `BN_mod_mul_montgomery`.
    #[cfg(feature = "aws-lc")]
    pub(crate) fn pow_g_fixed_aws_lc<const E: usize>(&self, exp: &Uint<E>, exp_bits: u32) -> U3072 {
        self.lc.pow_g_fixed(self.g_table(), exp, exp_bits)
    }

    pub(crate) fn pow_crypto_bigint<const E: usize>(
        &self,
        base: &U3072,
        exp: &Uint<E>,
        exp_bits: u32,
    ) -> U3072 {
        FixedMontyForm::new(base, &self.params)
            .pow_bounded_exp(exp, exp_bits)
            .retrieve()
    }

    #[cfg(feature = "aws-lc")]
    pub(crate) fn pow_aws_lc<const E: usize>(
        &self,
        base: &U3072,
        exp: &Uint<E>,
        exp_bits: u32,
    ) -> U3072 {
        use zeroize::Zeroize;
        // aws-lc's constant-time path runs over the BIGNUM's full width, i.e. over the byte
        // length we hand it: pass exactly the public bound, rounded up to whole bytes.
        let nbytes = (exp_bits.div_ceil(8) as usize).min(Uint::<E>::BYTES);
        let mut e = exp.to_be_bytes();
        let be = e.as_slice();
        let r = self
            .lc
            .pow(base.to_be_bytes().as_slice(), &be[be.len() - nbytes..]);
        e.zeroize();
        r
    }
}

pub(crate) fn strip_leading_zeros(be: &[u8]) -> &[u8] {
    let first = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    &be[first..]
}

/// Big-endian bytes (at most 384) into a `U3072`.
pub(crate) fn u3072_from_be(be: &[u8]) -> U3072 {
    assert!(be.len() <= N_BYTES);
    let mut buf = [0u8; N_BYTES];
    buf[N_BYTES - be.len()..].copy_from_slice(be);
    let v = U3072::from_be_slice(&buf);
    zeroize::Zeroize::zeroize(&mut buf);
    v
}

/// Fixed-length (384-byte) big-endian encoding of a residue.
pub(crate) fn u3072_to_be(v: &U3072) -> [u8; N_BYTES] {
    let mut out = [0u8; N_BYTES];
    out.copy_from_slice(v.to_be_bytes().as_slice());
    out
}

#[cfg(feature = "aws-lc")]
mod lc {
    //! Thin, safe wrapper over aws-lc's constant-time BN exponentiation.
    use aws_lc_sys as sys;
    use crypto_bigint::U3072;

    use super::{u3072_from_be, L, N_BYTES};
    use crate::fixed_base::GTable;
    use crypto_bigint::{Uint, Word};
    use zeroize::Zeroize;

    /// N and its Montgomery context, created once and only read afterwards.
    pub(super) struct LcMont {
        n: *mut sys::BIGNUM,
        mont: *mut sys::BN_MONT_CTX,
    }

    // SAFETY: both pointers are written once in `new` and then only passed as `const`
    // arguments to aws-lc, which does not mutate them; they are freed only in `drop`.
    unsafe impl Send for LcMont {}
    unsafe impl Sync for LcMont {}

    impl LcMont {
        pub(super) fn new(n: &U3072) -> Self {
            let be = n.to_be_bytes();
            // SAFETY: plain FFI calls with valid buffers; results are checked for NULL.
            unsafe {
                let bn = sys::BN_bin2bn(be.as_slice().as_ptr(), N_BYTES, std::ptr::null_mut());
                assert!(!bn.is_null(), "BN_bin2bn failed");
                let ctx = sys::BN_CTX_new();
                assert!(!ctx.is_null(), "BN_CTX_new failed");
                let mont = sys::BN_MONT_CTX_new_consttime(bn, ctx);
                sys::BN_CTX_free(ctx);
                assert!(!mont.is_null(), "BN_MONT_CTX_new_consttime failed");
                LcMont { n: bn, mont }
            }
        }

        /// `base^exp mod N`; `base` is 384 bytes big-endian and `< N`.
        pub(super) fn pow(&self, base: &[u8], exp: &[u8]) -> U3072 {
            let mut out = [0u8; N_BYTES];
            // SAFETY: FFI with valid pointers/lengths; every allocation is checked and freed
            // (BN_clear_free wipes secret limbs).
            unsafe {
                let ctx = sys::BN_CTX_new();
                let a = sys::BN_bin2bn(base.as_ptr(), base.len(), std::ptr::null_mut());
                let p = sys::BN_bin2bn(exp.as_ptr(), exp.len(), std::ptr::null_mut());
                let r = sys::BN_new();
                assert!(!(ctx.is_null() || a.is_null() || p.is_null() || r.is_null()));
                let ok = sys::BN_mod_exp_mont_consttime(r, a, p, self.n, ctx, self.mont) == 1
                    && sys::BN_bn2bin_padded(out.as_mut_ptr(), N_BYTES, r) == 1;
                sys::BN_clear_free(a);
                sys::BN_clear_free(p);
                sys::BN_clear_free(r);
                sys::BN_CTX_free(ctx);
                assert!(ok, "BN_mod_exp_mont_consttime failed");
            }
            let v = u3072_from_be(&out);
            zeroize::Zeroize::zeroize(&mut out);
            v
        }
    }

    /// A BIGNUM header over a caller-owned buffer of exactly `L` limbs (never reallocated or
    /// freed by aws-lc: `BN_FLG_STATIC_DATA`, `dmax = L`). Width `L` for every value, so
    /// `BN_mod_mul_montgomery` takes its fixed-width `bn_mul_mont` path.
    fn static_bn(words: *const sys::BN_ULONG) -> sys::BIGNUM {
        sys::BIGNUM {
            d: words as *mut sys::BN_ULONG,
            width: L as std::os::raw::c_int,
            dmax: L as std::os::raw::c_int,
            neg: 0,
            flags: sys::BN_FLG_STATIC_DATA as std::os::raw::c_int,
        }
    }

    impl LcMont {
        /// `r = a·b·R^-1 mod N` (Montgomery product) for `L`-limb values; constant time.
        fn mont_mul(&self, ctx: *mut sys::BN_CTX, r: &mut [Word; L], a: &[Word; L], b: &[Word; L]) {
            // `Word` and `BN_ULONG` are both u64 (or both u32): this fails to compile otherwise.
            let (a_ptr, b_ptr): (*const sys::BN_ULONG, *const sys::BN_ULONG) =
                (a.as_ptr(), b.as_ptr());
            let r_ptr: *mut sys::BN_ULONG = r.as_mut_ptr();
            let bn_a = static_bn(a_ptr);
            let bn_b = static_bn(b_ptr);
            let mut bn_r = static_bn(r_ptr);
            // SAFETY: the three headers point at distinct live buffers of `L` limbs; `dmax = L`
            // and the static flag keep aws-lc from reallocating `r` (it would fail instead);
            // `self.mont` is valid for the process lifetime.
            let ok = unsafe { sys::BN_mod_mul_montgomery(&mut bn_r, &bn_a, &bn_b, self.mont, ctx) };
            assert!(
                ok == 1 && bn_r.d == r_ptr && bn_r.width == L as std::os::raw::c_int,
                "BN_mod_mul_montgomery failed"
            );
        }

        /// Fixed-base `g^exp` (see `crate::fixed_base`): table rows selected in constant time,
        /// multiplied with aws-lc's Montgomery product. `exp < 2^exp_bits`, `exp_bits ≤ 256`.
        pub(super) fn pow_g_fixed<const E: usize>(
            &self,
            table: &GTable,
            exp: &Uint<E>,
            exp_bits: u32,
        ) -> U3072 {
            let rows = GTable::rows_for(exp_bits);
            let mut acc = [0 as Word; L];
            let mut tmp = [0 as Word; L];
            let mut factor = [0 as Word; L];
            table.select_into(0, GTable::digit(exp, 0), &mut acc);
            // SAFETY: plain allocation, checked; freed below.
            let ctx = unsafe { sys::BN_CTX_new() };
            assert!(!ctx.is_null(), "BN_CTX_new failed");
            for i in 1..rows {
                table.select_into(i, GTable::digit(exp, i), &mut factor);
                self.mont_mul(ctx, &mut tmp, &acc, &factor);
                std::mem::swap(&mut acc, &mut tmp);
            }
            // Leave Montgomery form: acc · 1 · R^-1. A fully reduced operand (1) gives a fully
            // reduced result.
            let mut one = [0 as Word; L];
            one[0] = 1;
            self.mont_mul(ctx, &mut tmp, &acc, &one);
            // SAFETY: allocated above, freed once.
            unsafe { sys::BN_CTX_free(ctx) };
            let r = U3072::from_words(tmp);
            acc.zeroize();
            tmp.zeroize();
            factor.zeroize();
            r
        }
    }

    impl Drop for LcMont {
        fn drop(&mut self) {
            // SAFETY: allocated in `new`, freed exactly once.
            unsafe {
                sys::BN_MONT_CTX_free(self.mont);
                sys::BN_free(self.n);
            }
        }
    }
}
