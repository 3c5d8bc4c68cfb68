//! Passwords: the pool's policy, and storage as SRP salt + verifier only (no second hash). A
//! password check recomputes g^x and compares with the verifier in constant time.

use gatehouse_srp::{Salt, SrpIdentity, Verifier};
use gatehouse_wire::PasswordPolicyType;

use crate::store::{PasswordRecord, UserRecord};
use crate::{CoreError, Entropy, Result};

/// Cognito's symbol set for `RequireSymbols`.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// The pool's password policy (Cognito's default when the pool has none).
pub(crate) fn policy_of(pool: &gatehouse_wire::UserPoolType) -> PasswordPolicyType {
    pool.policies
        .as_ref()
        .and_then(|x| x.password_policy.clone())
        .unwrap_or_else(crate::user_pools::default_password_policy)
}

/// `InvalidPasswordException` with Cognito's message when `password` breaks the policy.
pub fn check_policy(policy: &PasswordPolicyType, password: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(CoreError::InvalidPassword(format!(
            "Password did not conform with policy: {why}"
        )))
    };
    let min = policy.minimum_length.unwrap_or(8).max(6) as usize;
    if password.chars().count() < min {
        return fail("Password not long enough");
    }
    if password.chars().count() > 256 {
        return fail("Password is too long");
    }
    if policy.require_uppercase == Some(true) && !password.chars().any(|c| c.is_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if policy.require_lowercase == Some(true) && !password.chars().any(|c| c.is_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if policy.require_numbers == Some(true) && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if policy.require_symbols == Some(true) && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    if password.starts_with(' ') || password.ends_with(' ') {
        return Err(CoreError::InvalidParameter(
            "The password can't begin or end with a space.".into(),
        ));
    }
    Ok(())
}

/// The pool name SRP mixes into x: the part of the pool id after the underscore.
pub fn srp_pool_name(pool_id: &str) -> &str {
    pool_id.split_once('_').map_or(pool_id, |(_, name)| name)
}

/// Salt and verifier for `password` of `username` in `pool_id`.
pub fn make_record(
    entropy: &dyn Entropy,
    pool_id: &str,
    username: &str,
    password: &str,
) -> PasswordRecord {
    let mut salt = [0u8; 16];
    entropy.fill(&mut salt);
    let identity = SrpIdentity::user(srp_pool_name(pool_id), username);
    let (salt, verifier) = gatehouse_srp::generate_verifier(&identity, password, &salt);
    PasswordRecord {
        salt: salt.to_hex(),
        verifier: verifier.to_base64().to_string(),
    }
}

/// Whether `password` is the one `record` was made from (constant-time comparison).
pub fn verify(record: &PasswordRecord, pool_id: &str, username: &str, password: &str) -> bool {
    let (Ok(salt), Ok(verifier)) = (
        Salt::from_hex(&record.salt),
        Verifier::from_base64(&record.verifier),
    ) else {
        return false;
    };
    verifier.verify_password(
        &SrpIdentity::user(srp_pool_name(pool_id), username),
        &salt,
        password,
    )
}

/// Gives `user` a new password: the policy, then the pool's password history (the new one may
/// not be any of the last `PasswordHistorySize`), then a fresh salt and verifier.
pub(crate) fn replace(
    entropy: &dyn Entropy,
    policy: &PasswordPolicyType,
    user: &mut UserRecord,
    password: &str,
) -> Result<()> {
    check_policy(policy, password)?;
    let keep = policy.password_history_size.unwrap_or(0).max(0) as usize;
    if keep > 0 {
        let recent = user
            .password
            .iter()
            .chain(user.password_history.iter())
            .take(keep);
        for old in recent {
            if verify(old, &user.pool_id, &user.username, password) {
                return Err(CoreError::PasswordHistoryPolicyViolation(format!(
                    "The password must not be one of the user's last {keep} passwords."
                )));
            }
        }
    }
    let new = make_record(entropy, &user.pool_id, &user.username, password);
    // A reset before the first sign-in replaces an imported hash as well.
    user.imported_hash = None;
    if let Some(old) = user.password.replace(new) {
        if keep > 0 {
            user.password_history.insert(0, old);
        }
    }
    user.password_history.truncate(keep.saturating_sub(1));
    Ok(())
}

/// A temporary password that satisfies `policy`: one character of each class, then random
/// letters and digits.
pub fn generate_temporary(entropy: &dyn Entropy, policy: &PasswordPolicyType) -> String {
    const CLASSES: [&[u8]; 4] = [
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"abcdefghijkmnopqrstuvwxyz",
        b"23456789",
        b"^$*.!@#%&-_=+",
    ];
    const ANY: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let len = (policy.minimum_length.unwrap_or(8).max(12)) as usize;
    let mut bytes = vec![0u8; len * 2];
    entropy.fill(&mut bytes);
    let mut out: Vec<u8> = CLASSES
        .iter()
        .zip(&bytes)
        .map(|(class, b)| class[*b as usize % class.len()])
        .collect();
    for b in &bytes[4..len] {
        out.push(ANY[*b as usize % ANY.len()]);
    }
    // Shuffle so the classes are not always in front (Fisher-Yates with the spare bytes).
    for i in (1..out.len()).rev() {
        let j = bytes[len + i % len] as usize % (i + 1);
        out.swap(i, j);
    }
    String::from_utf8(out).expect("ascii")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsEntropy;

    fn strict() -> PasswordPolicyType {
        crate::user_pools::default_password_policy()
    }

    #[test]
    fn policy_messages() {
        let p = strict();
        let msg = |pw: &str| check_policy(&p, pw).unwrap_err().to_string();
        assert_eq!(
            msg("Ab1!"),
            "Password did not conform with policy: Password not long enough"
        );
        assert_eq!(
            msg("abcdefg1!"),
            "Password did not conform with policy: Password must have uppercase characters"
        );
        assert_eq!(
            msg("ABCDEFG1!"),
            "Password did not conform with policy: Password must have lowercase characters"
        );
        assert_eq!(
            msg("Abcdefgh!"),
            "Password did not conform with policy: Password must have numeric characters"
        );
        assert_eq!(
            msg("Abcdefgh1"),
            "Password did not conform with policy: Password must have symbol characters"
        );
        assert!(check_policy(&p, "Abcdefg1!").is_ok());
    }

    #[test]
    fn verifier_round_trip_and_generated_passwords_pass_the_policy() {
        let rec = make_record(&OsEntropy, "us-east-1_AbCdEfGhI", "alice", "Passw0rd!ü");
        assert!(verify(&rec, "us-east-1_AbCdEfGhI", "alice", "Passw0rd!ü"));
        assert!(!verify(&rec, "us-east-1_AbCdEfGhI", "alice", "Passw0rd!u"));
        assert!(!verify(&rec, "us-east-1_AbCdEfGhI", "bob", "Passw0rd!ü"));
        for _ in 0..50 {
            let t = generate_temporary(&OsEntropy, &strict());
            assert!(check_policy(&strict(), &t).is_ok(), "{t}");
        }
    }
}
