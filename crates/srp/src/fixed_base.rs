//! Constant-time fixed-base exponentiation `g^e mod N` for the group generator.
//!
//! Every sign-in raises the *fixed* base g = 2 to a *secret* 256-bit exponent (`g^x` for the
//! verifier and USER_PASSWORD_AUTH, `g^b` for `B`, `g^a` for `A`). With a precomputed table
//! the squarings of a generic exponentiation disappear:
//!
//! ```text
//! e = Σ d_i · 2^(w·i)   (digits d_i ∈ [0, 2^w), i < 256 / w)
//! g^e = Π_i T[i][d_i]   with T[i][d] = g^(d · 2^(w·i)) mod N
//! ```
//!
//! With w = 4 that is 64 table lookups and 63 Montgomery multiplications instead of the 256
//! squarings + ~50 multiplications of a sliding/fixed window over a variable base. The table
//! holds 64 rows × 15 entries (d = 0 is the Montgomery one and is not stored) of 384 bytes:
//! 368,640 bytes, built once on first use (public data: powers of the public g).
//!
//! Entries are kept in Montgomery form with R = 2^3072 (48 64-bit limbs), which is the same
//! representation crypto-bigint's `FixedMontyForm` and aws-lc's `BN_MONT_CTX` use for this N,
//! so either library can multiply them (see [`GTable::pow_crypto_bigint`] and `group::lc`).
//!
//! # Why it is constant time
//!
//! * The number of rows processed depends only on the public exponent bound (`exp_bits`),
//!   never on the exponent's value or bit length.
//! * A digit is read with shifts and a mask at a public position; it is never used as an
//!   index, a loop bound or a branch condition.
//! * [`GTable::select_into`] reads **every** entry of the row, in the same order, for every
//!   digit, and keeps the wanted one with a mask built by `subtle` (`ct_eq` +
//!   `conditional_assign`: `out ^= mask & (out ^ entry)`). The memory addresses touched and the
//!   instructions executed are therefore the same for every digit, so neither cache timing
//!   nor branch prediction can reveal which entry was picked.
//! * The multiplications are the constant-time Montgomery products of crypto-bigint or of
//!   aws-lc (`bn_mul_mont`, fixed width of 48 limbs), always executed, also for digit 0
//!   (which multiplies by the Montgomery one).

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Uint, Word, U3072};
use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use crate::group::{G, L};

/// Window width in bits (digits are base 2^WINDOW).
pub(crate) const WINDOW: u32 = 4;
/// Exponents bounded by at most this many bits take the table path; longer ones (only a
/// client's `a` of more than 32 bytes) use the generic exponentiation.
pub(crate) const MAX_EXP_BITS: u32 = 256;
/// Rows of the table, one per digit position.
const ROWS: usize = (MAX_EXP_BITS / WINDOW) as usize;
/// Stored entries per row: digits 1 ..= 2^WINDOW − 1 (digit 0 is the Montgomery one).
const ENTRIES: usize = (1 << WINDOW) - 1;
/// A digit never straddles two limbs.
const _: () = assert!(Word::BITS.is_multiple_of(WINDOW) && MAX_EXP_BITS.is_multiple_of(WINDOW));

/// Size of the precomputed table in bytes.
pub(crate) const TABLE_BYTES: usize = ROWS * ENTRIES * L * (Word::BITS as usize / 8);

/// The precomputed powers of g, in Montgomery form.
pub(crate) struct GTable {
    /// Row-major: entry `(i, d)` for `d ≥ 1` is `g^(d·2^(WINDOW·i)) · R mod N`, at word
    /// offset `(i · ENTRIES + d − 1) · L`, little-endian limbs.
    words: Box<[Word]>,
    /// `R mod N`, the Montgomery form of 1 (what digit 0 selects).
    one: [Word; L],
}

impl GTable {
    /// Builds the table with crypto-bigint (about a thousand multiplications, once).
    pub(crate) fn new(params: &FixedMontyParams<L>) -> Self {
        let mut words = vec![0 as Word; ROWS * ENTRIES * L].into_boxed_slice();
        // base = g^(2^(WINDOW·i)) for the current row i.
        let mut base = FixedMontyForm::new(&U3072::from_u64(G), params);
        for row in words.chunks_exact_mut(ENTRIES * L) {
            let mut p = base;
            for (d, entry) in row.chunks_exact_mut(L).enumerate() {
                if d > 0 {
                    p = p.mul(&base);
                }
                entry.copy_from_slice(p.as_montgomery().as_words());
            }
            // base^(2^WINDOW) = base^(2^WINDOW − 1) · base
            base = p.mul(&base);
        }
        GTable {
            words,
            one: FixedMontyForm::one(params).as_montgomery().to_words(),
        }
    }

    /// Rows to process for an exponent `< 2^exp_bits`: a function of the public bound only.
    pub(crate) fn rows_for(exp_bits: u32) -> usize {
        assert!(
            exp_bits <= MAX_EXP_BITS,
            "fixed-base table covers {MAX_EXP_BITS}-bit exponents"
        );
        (exp_bits.div_ceil(WINDOW) as usize).max(1)
    }

    /// Digit `i` (base 2^WINDOW, little-endian) of `exp`. `i` is public; the digit's value is
    /// only ever passed to [`GTable::select_into`].
    pub(crate) fn digit<const E: usize>(exp: &Uint<E>, i: usize) -> Word {
        let bit = i * WINDOW as usize;
        let limb = exp
            .as_words()
            .get(bit / Word::BITS as usize)
            .copied()
            .unwrap_or(0);
        (limb >> (bit % Word::BITS as usize)) & ((1 << WINDOW) - 1)
    }

    /// Writes entry `(row, digit)` into `out` (the Montgomery one for digit 0).
    ///
    /// Constant time in `digit`: all `ENTRIES` entries of the row are read in order and each
    /// is conditionally assigned under a mask from `digit.ct_eq(j)`; exactly one (or none,
    /// for digit 0) takes effect. No branch, no index and no early exit depends on `digit`.
    pub(crate) fn select_into(&self, row: usize, digit: Word, out: &mut [Word; L]) {
        out.copy_from_slice(&self.one);
        let row_words = &self.words[row * ENTRIES * L..(row + 1) * ENTRIES * L];
        for (j, entry) in row_words.chunks_exact(L).enumerate() {
            let hit = digit.ct_eq(&(j as Word + 1));
            for (o, e) in out.iter_mut().zip(entry) {
                o.conditional_assign(e, hit);
            }
        }
    }

    /// `g^exp mod N` for `exp < 2^exp_bits`, `exp_bits ≤ MAX_EXP_BITS`, multiplying with
    /// crypto-bigint's constant-time `FixedMontyForm` product.
    pub(crate) fn pow_crypto_bigint<const E: usize>(
        &self,
        params: &FixedMontyParams<L>,
        exp: &Uint<E>,
        exp_bits: u32,
    ) -> U3072 {
        let rows = Self::rows_for(exp_bits);
        let mut acc = FixedMontyForm::zero(params);
        self.select_into(
            0,
            Self::digit(exp, 0),
            acc.as_montgomery_mut().as_mut_words(),
        );
        let mut factor = FixedMontyForm::zero(params);
        for i in 1..rows {
            let words = factor.as_montgomery_mut().as_mut_words();
            self.select_into(i, Self::digit(exp, i), words);
            acc = acc.mul(&factor);
        }
        let r = acc.retrieve();
        factor.zeroize();
        acc.zeroize();
        r
    }
}

#[cfg(test)]
mod tests {
    use crypto_bigint::{U256, U4096};
    use proptest::prelude::*;

    use super::*;
    use crate::group::{modn, GPow};

    /// `g^e` by every fixed-base path this build has, each checked against both generic
    /// exponentiations; returns the common value.
    fn check<const E: usize>(e: &Uint<E>, bits: u32) -> U3072 {
        let m = modn();
        let g = U3072::from_u64(G);
        let generic = m.pow_crypto_bigint(&g, e, bits);
        #[cfg(feature = "aws-lc")]
        assert_eq!(
            m.pow_aws_lc(&g, e, bits),
            generic,
            "generic backends, bits {bits}"
        );
        assert_eq!(m.pow_g_via(e, bits, GPow::Generic), generic);
        assert_eq!(
            m.pow_g_fixed_crypto_bigint(e, bits),
            generic,
            "cb, bits {bits}"
        );
        #[cfg(feature = "aws-lc")]
        assert_eq!(
            m.pow_g_fixed_aws_lc(e, bits),
            generic,
            "aws-lc, bits {bits}"
        );
        assert_eq!(m.pow_g(e, bits), generic);
        generic
    }

    fn u256_from_be(b: &[u8; 32]) -> U256 {
        U256::from_be_slice(b)
    }

    #[test]
    fn edge_exponents() {
        let one = U256::ONE;
        assert_eq!(check(&one, 256), U3072::from_u64(2));
        assert_eq!(check(&U256::from_u64(2), 256), U3072::from_u64(4));
        assert_eq!(
            check(&U256::from_u64(0x3f), 256),
            U3072::from_u64(1 << 0x3f)
        );
        // 2^64 overflows one limb: g^(2^6) · … checked against the generic path only.
        check(&U256::from_u64(64), 256);
        check(&U256::from_u64(0xffff_ffff_ffff_ffff), 256);
        check(&one.shl_vartime(255), 256);
        check(&U256::MAX, 256);
        check(&U256::MAX.shr_vartime(1), 256);
        // Every digit 0 except one, every digit 15 except one, alternating digits.
        check(&u256_from_be(&[0xf0; 32]), 256);
        check(&u256_from_be(&[0x0f; 32]), 256);
        check(&u256_from_be(&[0x5a; 32]), 256);
        // e = 0 never reaches here (secrets are non-zero) but still gives 1.
        assert_eq!(check(&U256::ZERO, 256), U3072::ONE);
    }

    #[test]
    fn short_bounds_and_wide_exponent_types() {
        // A client's `a` of n bytes: bound 8n, exponent held in a 4096-bit integer.
        for n in [1usize, 2, 7, 16, 31, 32] {
            let mut be = [0u8; 32];
            for (i, b) in be[32 - n..].iter_mut().enumerate() {
                *b = 0xff - i as u8;
            }
            let e = u256_from_be(&be);
            let bits = 8 * n as u32;
            let r = check(&e, bits);
            assert_eq!(check(&e.resize::<{ U4096::LIMBS }>(), bits), r);
        }
        // Odd bounds that are not multiples of the window.
        for bits in [1u32, 3, 5, 9, 255] {
            let e = U256::MAX.shr_vartime(256 - bits);
            check(&e, bits);
        }
    }

    #[test]
    fn longer_bounds_fall_back_to_generic() {
        let m = modn();
        let e = U4096::MAX.shr_vartime(4096 - 1024);
        let g = U3072::from_u64(G);
        assert_eq!(m.pow_g(&e, 1024), m.pow_crypto_bigint(&g, &e, 1024));
    }

    #[test]
    fn table_entries_are_powers_of_g() {
        let m = modn();
        let table = m.g_table();
        assert_eq!(table.words.len() * (Word::BITS as usize / 8), TABLE_BYTES);
        let g = U3072::from_u64(G);
        for row in [0usize, 1, 17, ROWS - 1] {
            for d in 0..=ENTRIES as Word {
                let mut sel = [0 as Word; L];
                table.select_into(row, d, &mut sel);
                let got =
                    FixedMontyForm::from_montgomery(Uint::from_words(sel), &m.params_for_test())
                        .retrieve();
                // d · 2^(4·row) < 2^256
                let e = U256::from_word(d).shl_vartime(WINDOW * row as u32);
                assert_eq!(got, m.pow_crypto_bigint(&g, &e, 256), "row {row} digit {d}");
            }
        }
    }

    #[test]
    fn digits() {
        let e = u256_from_be(&core::array::from_fn(|i| i as u8));
        // Least significant byte is 31 = 0x1f: digits f, 1; the most significant is 0x00.
        assert_eq!(GTable::digit(&e, 0), 0xf);
        assert_eq!(GTable::digit(&e, 1), 0x1);
        assert_eq!(GTable::digit(&e, 2), 0xe);
        assert_eq!(GTable::digit(&e, 63), 0);
        assert_eq!(GTable::digit(&e, 62), 0);
        assert_eq!(GTable::digit(&e, 61), 0);
        assert_eq!(GTable::digit(&e, 60), 0x1);
        // Positions past the exponent's limbs read as 0.
        assert_eq!(GTable::digit(&crypto_bigint::U64::MAX, 16), 0);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn fixed_base_matches_generic(e in any::<[u8; 32]>()) {
            check(&u256_from_be(&e), 256);
        }

        #[test]
        fn fixed_base_matches_generic_short(e in prop::collection::vec(any::<u8>(), 1..=32)) {
            let mut be = [0u8; 32];
            be[32 - e.len()..].copy_from_slice(&e);
            check(&u256_from_be(&be), 8 * e.len() as u32);
        }
    }
}
