//! Password hashes brought in by a user import job with a `PasswordHashingAlgorithm`
//! (docs/user-import.md, "Password hashes"). Each format carries its own parameters, and each
//! parameter has Cognito's ceiling (OWASP's recommended minimum): a stronger hash is refused,
//! as are malformed ones, when the row is imported. The check itself is the algorithm's
//! well-kept crate (bcrypt, scrypt, argon2) or aws-lc-rs (PBKDF2), all comparing in constant
//! time; it runs once, at the user's first password sign-in, which then stores the SRP
//! verifier and drops the hash (auth/password_flow.rs).

use base64::Engine;
use gatehouse_wire::PasswordHashingAlgorithmType as Algorithm;

use crate::store::ImportedHash;

/// bcrypt's cost ceiling.
const BCRYPT_MAX_COST: u32 = 12;
/// scrypt's ceilings: N, r, p.
const SCRYPT_MAX: (u64, u32, u32) = (65_536, 8, 1);
/// Argon2id's ceilings: memory (KiB), iterations, parallelism.
const ARGON2_MAX: (u32, u32, u32) = (19_456, 2, 1);
/// PBKDF2-SHA256's iteration ceiling.
const PBKDF2_MAX_ITERATIONS: u32 = 600_000;

/// The parsed form of a hash, its parameters within the ceilings.
#[derive(Debug)]
enum Parsed {
    Bcrypt,
    Scrypt {
        log_n: u8,
        r: u32,
        p: u32,
        salt: Vec<u8>,
        key: Vec<u8>,
    },
    Argon2id,
    Pbkdf2 {
        iterations: u32,
        salt: Vec<u8>,
        key: Vec<u8>,
    },
}

/// Why a row's hash is refused (the row's FAILED reason).
pub(crate) fn check(algorithm: &Algorithm, hash: &str) -> Result<(), String> {
    parse(algorithm, hash).map(|_| ())
}

fn parse(algorithm: &Algorithm, hash: &str) -> Result<Parsed, String> {
    let malformed = || format!("The password hash is not a valid {algorithm} hash.");
    let too_strong = |what: &str| {
        format!("The password hash's {what} is above the maximum Cognito accepts for {algorithm}.")
    };
    match algorithm {
        Algorithm::Bcrypt => {
            // $2b$10$ + 22 characters of salt + 31 of hash.
            let b = hash.as_bytes();
            let prefix_ok = hash.len() == 60
                && matches!(hash.get(..4), Some("$2a$" | "$2b$" | "$2x$" | "$2y$"))
                && b[6] == b'$';
            let cost: u32 = hash.get(4..6).and_then(|c| c.parse().ok()).unwrap_or(0);
            if !prefix_ok || cost < 4 || hash.parse::<bcrypt::HashParts>().is_err() {
                return Err(malformed());
            }
            if cost > BCRYPT_MAX_COST {
                return Err(too_strong("cost"));
            }
            Ok(Parsed::Bcrypt)
        }
        Algorithm::Scrypt => {
            // N$r$p$hexSalt$hexHash, without a leading `$`.
            let parts: Vec<&str> = hash.split('$').collect();
            let [n, r, p, salt, key] = parts[..] else {
                return Err(malformed());
            };
            let (Ok(n), Ok(r), Ok(p)) = (n.parse::<u64>(), r.parse::<u32>(), p.parse::<u32>())
            else {
                return Err(malformed());
            };
            let (Some(salt), Some(key)) = (hex(salt), hex(key)) else {
                return Err(malformed());
            };
            if n < 2
                || !n.is_power_of_two()
                || r == 0
                || p == 0
                || salt.is_empty()
                || key.len() < 16
            {
                return Err(malformed());
            }
            if n > SCRYPT_MAX.0 || r > SCRYPT_MAX.1 || p > SCRYPT_MAX.2 {
                return Err(too_strong("cost (N, r or p)"));
            }
            // What scrypt itself can compute (log2 N below 16·r, a key of 10 to 64 bytes):
            // anything else could never be checked at sign-in.
            if scrypt::Params::new(n.trailing_zeros() as u8, r, p, key.len()).is_err() {
                return Err(malformed());
            }
            Ok(Parsed::Scrypt {
                log_n: n.trailing_zeros() as u8,
                r,
                p,
                salt,
                key,
            })
        }
        Algorithm::Argon2id => {
            let parsed = argon2::PasswordHash::new(hash).map_err(|_| malformed())?;
            if parsed.algorithm.as_str() != "argon2id" || parsed.hash.is_none() {
                return Err(malformed());
            }
            let params = argon2::Params::try_from(&parsed).map_err(|_| malformed())?;
            if params.m_cost() > ARGON2_MAX.0
                || params.t_cost() > ARGON2_MAX.1
                || params.p_cost() > ARGON2_MAX.2
            {
                return Err(too_strong("cost (m, t or p)"));
            }
            Ok(Parsed::Argon2id)
        }
        Algorithm::Pbkdf2Sha256 => {
            // $pbkdf2-sha256$<iterations>$<salt>$<hash>, base64 without padding (passlib's
            // adapted alphabet, `.` for `+`, is accepted too).
            let rest = hash.strip_prefix("$pbkdf2-sha256$").ok_or_else(malformed)?;
            let parts: Vec<&str> = rest.split('$').collect();
            let [iterations, salt, key] = parts[..] else {
                return Err(malformed());
            };
            let iterations: u32 = iterations.parse().map_err(|_| malformed())?;
            let (Some(salt), Some(key)) = (b64(salt), b64(key)) else {
                return Err(malformed());
            };
            if iterations == 0 || salt.is_empty() || key.len() < 16 {
                return Err(malformed());
            }
            if iterations > PBKDF2_MAX_ITERATIONS {
                return Err(too_strong("iteration count"));
            }
            Ok(Parsed::Pbkdf2 {
                iterations,
                salt,
                key,
            })
        }
        Algorithm::Unrecognized(_) => Err(malformed()),
    }
}

/// Whether `password` is the one `imported` was made from. CPU- and memory-hard by design
/// (up to a quarter of a second, 64 MiB for scrypt): callers run it off the async threads.
pub(crate) fn verify(imported: &ImportedHash, password: &str) -> bool {
    let algorithm = Algorithm::parse(&imported.algorithm);
    let Ok(parsed) = parse(&algorithm, &imported.hash) else {
        return false;
    };
    let pw = password.as_bytes();
    match parsed {
        Parsed::Bcrypt => bcrypt::verify(pw, &imported.hash).unwrap_or(false),
        Parsed::Scrypt {
            log_n,
            r,
            p,
            salt,
            key,
        } => {
            let Ok(params) = scrypt::Params::new(log_n, r, p, key.len()) else {
                return false;
            };
            let mut out = vec![0u8; key.len()];
            scrypt::scrypt(pw, &salt, &params, &mut out).is_ok()
                && subtle::ConstantTimeEq::ct_eq(out.as_slice(), key.as_slice()).into()
        }
        Parsed::Argon2id => {
            use argon2::PasswordVerifier;
            argon2::PasswordHash::new(&imported.hash)
                .is_ok_and(|h| argon2::Argon2::default().verify_password(pw, &h).is_ok())
        }
        Parsed::Pbkdf2 {
            iterations,
            salt,
            key,
        } => aws_lc_rs::pbkdf2::verify(
            aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
            std::num::NonZeroU32::new(iterations).expect("checked above"),
            &salt,
            pw,
            &key,
        )
        .is_ok(),
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn b64(s: &str) -> Option<Vec<u8>> {
    let s = s.replace('.', "+");
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(algorithm: Algorithm, hash: String) -> ImportedHash {
        ImportedHash {
            algorithm: algorithm.as_str().into(),
            hash,
        }
    }

    #[test]
    fn each_algorithm_accepts_its_password_and_no_other() {
        let bcrypt = bcrypt::hash("Correct-Horse-9", 4).unwrap();
        let argon = {
            use argon2::password_hash::{PasswordHasher, SaltString};
            let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
            argon2::Argon2::new(
                argon2::Algorithm::Argon2id,
                argon2::Version::V0x13,
                argon2::Params::new(1024, 2, 1, None).unwrap(),
            )
            .hash_password(b"Correct-Horse-9", &salt)
            .unwrap()
            .to_string()
        };
        let scrypt = {
            let mut out = [0u8; 32];
            scrypt::scrypt(
                b"Correct-Horse-9",
                b"0123456789abcdef",
                &scrypt::Params::new(10, 8, 1, 32).unwrap(),
                &mut out,
            )
            .unwrap();
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            format!("1024$8$1${}${}", hex(b"0123456789abcdef"), hex(&out))
        };
        let pbkdf2 = {
            let mut out = [0u8; 32];
            aws_lc_rs::pbkdf2::derive(
                aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
                std::num::NonZeroU32::new(1000).unwrap(),
                b"0123456789abcdef",
                b"Correct-Horse-9",
                &mut out,
            );
            let e = |b: &[u8]| base64::engine::general_purpose::STANDARD_NO_PAD.encode(b);
            format!("$pbkdf2-sha256$1000${}${}", e(b"0123456789abcdef"), e(&out))
        };
        for (algorithm, hash) in [
            (Algorithm::Bcrypt, bcrypt),
            (Algorithm::Argon2id, argon),
            (Algorithm::Scrypt, scrypt),
            (Algorithm::Pbkdf2Sha256, pbkdf2),
        ] {
            assert_eq!(check(&algorithm, &hash), Ok(()), "{algorithm}");
            let h = imported(algorithm.clone(), hash.clone());
            assert!(verify(&h, "Correct-Horse-9"), "{algorithm}");
            assert!(!verify(&h, "Correct-Horse-8"), "{algorithm}");
            // Another algorithm's hash is malformed for this one.
            let other = if algorithm == Algorithm::Bcrypt {
                Algorithm::Argon2id
            } else {
                Algorithm::Bcrypt
            };
            assert!(check(&other, &hash).is_err(), "{algorithm} as {other}");
        }
    }

    #[test]
    fn parameters_above_cognitos_ceilings_are_refused() {
        let too_strong = [
            (Algorithm::Bcrypt, bcrypt::hash("x", 13).unwrap()),
            (
                Algorithm::Scrypt,
                format!("131072$8$1${}${}", "ab".repeat(16), "cd".repeat(32)),
            ),
            (
                Algorithm::Argon2id,
                "$argon2id$v=19$m=19457,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
            ),
            (
                Algorithm::Pbkdf2Sha256,
                format!("$pbkdf2-sha256$600001${}${}", "AAAAAAAAAAAAAAAAAAAAAA", "A".repeat(43)),
            ),
        ];
        for (algorithm, hash) in too_strong {
            let why = check(&algorithm, &hash).unwrap_err();
            assert!(why.contains("above the maximum"), "{algorithm}: {why}");
        }
        for (algorithm, hash) in [
            (Algorithm::Bcrypt, "$2b$10$short"),
            (Algorithm::Scrypt, "$65536$8$1$ab$cd"),
            (
                Algorithm::Argon2id,
                "$argon2i$v=19$m=1024,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            ),
            (Algorithm::Pbkdf2Sha256, "pbkdf2_sha256$1000$salt$hash"),
        ] {
            let why = check(&algorithm, hash).unwrap_err();
            assert!(why.contains("not a valid"), "{algorithm}: {why}");
        }
    }
}
