//! Identifiers in Cognito's formats.

use crate::Entropy;

/// A random (v4) UUID: subs, token ids, session ids, message ids.
pub fn uuid(entropy: &dyn Entropy) -> String {
    let mut b = [0u8; 16];
    entropy.fill(&mut b);
    uuid::Builder::from_random_bytes(b).into_uuid().to_string()
}

/// Lowercase hex, two digits per byte (fixed width, unlike SRP's unpadded integers).
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// `len` characters drawn uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(entropy: &dyn Entropy, alphabet: &[u8], len: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        entropy.fill(&mut buf);
        for &b in &buf {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// `len` characters of `[0-9A-Za-z]` (an import job's `import-AbC123xyz0`).
pub fn alphanumeric(entropy: &dyn Entropy, len: usize) -> String {
    random_string(entropy, ALNUM, len)
}

/// `us-east-1_AbC123xyz`: exactly one underscore, the part after it `[0-9A-Za-z]+`, because SRP
/// clients take that part as the pool name.
pub fn user_pool_id(entropy: &dyn Entropy, region: &str) -> String {
    format!("{region}_{}", random_string(entropy, ALNUM, 9))
}

/// `<region>_<uuid>`: a device key, as Cognito's (model pattern `[\w-]+_[0-9a-f-]+`).
pub fn device_key(entropy: &dyn Entropy, region: &str) -> String {
    format!("{region}_{}", uuid(entropy))
}

/// A device group key: opaque to clients, which only hash it; short and URL-safe.
pub fn device_group_key(entropy: &dyn Entropy) -> String {
    format!("-{}", random_string(entropy, ALNUM, 9))
}

/// 26 lowercase alphanumerics, like Cognito's app client ids.
pub fn client_id(entropy: &dyn Entropy) -> String {
    random_string(entropy, LOWER_ALNUM, 26)
}

/// 51 lowercase alphanumerics (about 263 bits), like Cognito's client secrets.
pub fn client_secret(entropy: &dyn Entropy) -> String {
    random_string(entropy, LOWER_ALNUM, 51)
}

/// An admin access key pair in AWS's formats: `AKIA` + 16 uppercase alphanumerics, and a
/// 40-character secret (about 238 bits).
pub fn access_key_pair(entropy: &dyn Entropy) -> (String, String) {
    const UPPER_ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    const SECRET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/";
    (
        format!("AKIA{}", random_string(entropy, UPPER_ALNUM, 16)),
        random_string(entropy, SECRET, 40),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsEntropy;

    #[test]
    fn formats() {
        let id = user_pool_id(&OsEntropy, "eu-west-1");
        let (region, name) = id.split_once('_').unwrap();
        assert_eq!(region, "eu-west-1");
        assert_eq!(name.len(), 9);
        assert!(name.chars().all(|c| c.is_ascii_alphanumeric()));
        let c = client_id(&OsEntropy);
        assert_eq!(c.len(), 26);
        assert!(c
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        assert_ne!(client_secret(&OsEntropy), client_secret(&OsEntropy));
    }
}
