//! The server key: one 32-byte secret per deployment (kept in the data dir or given in config,
//! the same for every process sharing a database). Two AES-256-GCM keys are derived from it:
//! one seals the sign-in state handed to clients (SECRET_BLOCK, Session), so any process can
//! continue a sign-in another one started; the other seals the pools' private signing keys at
//! rest. Each sealed blob binds its purpose as associated data, so one kind cannot pass for
//! another.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::hmac;

use crate::Entropy;

pub const SERVER_KEY_LEN: usize = 32;

/// What a sealed blob is for (the associated data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sealed {
    /// USER_SRP_AUTH state in a SECRET_BLOCK.
    SrpState,
    /// DEVICE_SRP_AUTH state in a DEVICE_PASSWORD_VERIFIER SECRET_BLOCK.
    DeviceSrpState,
    /// A challenge's `Session` string.
    ChallengeSession,
    /// A pool's private signing key (PKCS#8).
    SigningKey,
    /// A user's authenticator (TOTP) secret.
    TotpSecret,
    /// A web console session cookie.
    ConsoleSession,
    /// A browser's remembered devices (hosted pages' cookie).
    BrowserDevices,
    /// A hosted sign-in waiting for the remember-this-device answer.
    DevicePrompt,
    /// A browser's hosted-login session (signed in to the pool for an hour).
    HostedSession,
    /// The feedback links of a sign-in notification (UpdateAuthEventFeedback's token).
    FeedbackToken,
    /// An app client's secret, as stored (client_secrets.rs).
    ClientSecret,
    /// An identity provider's client secret or private key, as stored (identity_providers.rs).
    ProviderSecret,
}

impl Sealed {
    fn aad(self) -> &'static [u8] {
        match self {
            Sealed::SrpState => b"gatehouse srp-state v1",
            Sealed::DeviceSrpState => b"gatehouse device-srp-state v1",
            Sealed::ChallengeSession => b"gatehouse challenge-session v1",
            Sealed::SigningKey => b"gatehouse signing-key v1",
            Sealed::TotpSecret => b"gatehouse totp-secret v1",
            Sealed::ConsoleSession => b"gatehouse console-session v1",
            Sealed::BrowserDevices => b"gatehouse browser-devices v1",
            Sealed::DevicePrompt => b"gatehouse device-prompt v1",
            Sealed::HostedSession => b"gatehouse hosted-session v1",
            Sealed::FeedbackToken => b"gatehouse feedback-token v1",
            Sealed::ClientSecret => b"gatehouse client-secret v1",
            Sealed::ProviderSecret => b"gatehouse provider-secret v1",
        }
    }
}

pub struct ServerKey {
    in_flight: LessSafeKey,
    at_rest: LessSafeKey,
    decoys: hmac::Key,
    codes: hmac::Key,
    /// The secret of the presigned URLs user imports are uploaded to (hex).
    uploads: String,
    fingerprint: String,
}

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

fn derive(master: &[u8; SERVER_KEY_LEN], label: &[u8]) -> LessSafeKey {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master), label);
    let key = UnboundKey::new(&AES_256_GCM, tag.as_ref()).expect("32-byte AES key");
    LessSafeKey::new(key)
}

fn derive_hmac(master: &[u8; SERVER_KEY_LEN], label: &[u8]) -> hmac::Key {
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, master), label);
    hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref())
}

impl ServerKey {
    pub fn from_bytes(master: &[u8; SERVER_KEY_LEN]) -> Self {
        let fingerprint = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, master),
            b"gatehouse: server key fingerprint",
        );
        ServerKey {
            fingerprint: crate::ids::hex(&fingerprint.as_ref()[..16]),
            codes: derive_hmac(master, b"gatehouse: one-time codes"),
            uploads: crate::ids::hex(
                hmac::sign(
                    &hmac::Key::new(hmac::HMAC_SHA256, master),
                    b"gatehouse: upload URLs",
                )
                .as_ref(),
            ),
            in_flight: derive(master, b"gatehouse: sign-in state sealing"),
            at_rest: derive(master, b"gatehouse: signing keys at rest"),
            decoys: hmac::Key::new(
                hmac::HMAC_SHA256,
                hmac::sign(
                    &hmac::Key::new(hmac::HMAC_SHA256, master),
                    b"gatehouse: decoys",
                )
                .as_ref(),
            ),
        }
    }

    /// A fresh random key (tests, and cores built without one).
    pub fn random(entropy: &dyn Entropy) -> Self {
        let mut k = [0u8; SERVER_KEY_LEN];
        entropy.fill(&mut k);
        Self::from_bytes(&k)
    }

    /// Stable pseudo-random bytes for `label`: decoy salts and verifiers for users that do not
    /// exist, so that the answer for a stranger looks the same every time.
    pub(crate) fn decoy(&self, label: &[u8]) -> [u8; 32] {
        let tag = hmac::sign(&self.decoys, label);
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// The stored form of a one-time code: keyed, so that a copy of the database does not give
    /// the code away (six digits are a million guesses for a plain hash).
    /// A public name for this key: recorded in the database by the first process, compared by
    /// every later one, so that a process started with another key is refused before it seals
    /// or opens anything. It reveals nothing of the key (an HMAC of a fixed label under the key
    /// itself, 128 bits, like the keys derived from it).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The key user-import upload URLs are presigned with (and checked against).
    pub(crate) fn upload_credential(&self) -> gatehouse_sigv4::Credential {
        gatehouse_sigv4::Credential::new(self.uploads.clone())
    }

    pub(crate) fn code_tag(&self, context: &str, code: &str) -> [u8; 32] {
        let mut ctx = hmac::Context::with_key(&self.codes);
        ctx.update(context.as_bytes());
        ctx.update(&[0]);
        ctx.update(code.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    fn key(&self, purpose: Sealed) -> &LessSafeKey {
        match purpose {
            Sealed::SigningKey
            | Sealed::TotpSecret
            | Sealed::ClientSecret
            | Sealed::ProviderSecret => &self.at_rest,
            _ => &self.in_flight,
        }
    }

    /// `nonce ‖ ciphertext ‖ tag`.
    pub(crate) fn seal(&self, entropy: &dyn Entropy, purpose: Sealed, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        entropy.fill(&mut nonce);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .key(purpose)
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(purpose.aad()),
                &mut out[NONCE_LEN..],
            )
            .expect("AES-GCM sealing");
        out.extend_from_slice(tag.as_ref());
        out
    }

    /// The plaintext, or None when the blob was not sealed by this key for this purpose.
    pub(crate) fn open(&self, purpose: Sealed, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN + 16 {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = body.to_vec();
        let plain = self
            .key(purpose)
            .open_in_place(nonce, Aad::from(purpose.aad()), &mut buf)
            .ok()?;
        Some(plain.to_vec())
    }
}

/// How a secret sealed at rest is stored in a text field: this prefix, then the sealed bytes in
/// base64. The fields it is used for (client secrets, `[\w+]+`; provider secrets) never start
/// this way in the clear, so a value written in the clear by an earlier version is told apart
/// and read as it is.
const SEALED_PREFIX: &str = "sealed:";

/// Whether a stored text field is sealed (else it was written in the clear by an earlier
/// version).
pub(crate) fn is_sealed_at_rest(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

impl crate::Core {
    /// `value` sealed for `purpose`, as a text field stores it.
    pub(crate) fn seal_at_rest(&self, purpose: Sealed, value: &str) -> String {
        use base64::Engine;
        let sealed = self
            .server_key
            .seal(self.entropy.as_ref(), purpose, value.as_bytes());
        let b64 = base64::engine::general_purpose::STANDARD.encode(sealed);
        format!("{SEALED_PREFIX}{b64}")
    }

    /// A text field written by [`Self::seal_at_rest`] opened (one stored in the clear, as it is).
    pub(crate) fn open_at_rest(&self, purpose: Sealed, stored: &str) -> crate::Result<String> {
        use base64::Engine;
        let Some(sealed) = stored.strip_prefix(SEALED_PREFIX) else {
            return Ok(stored.to_string());
        };
        base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()
            .and_then(|b| self.server_key.open(purpose, &b))
            .and_then(|plain| String::from_utf8(plain).ok())
            .ok_or_else(|| crate::CoreError::Internal("a stored secret cannot be opened".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OsEntropy;

    #[test]
    fn sealed_blobs_open_only_with_the_same_key_and_purpose() {
        let key = ServerKey::random(&OsEntropy);
        let blob = key.seal(&OsEntropy, Sealed::SrpState, b"state");
        assert_eq!(
            key.open(Sealed::SrpState, &blob).as_deref(),
            Some(&b"state"[..])
        );
        assert_eq!(key.open(Sealed::ChallengeSession, &blob), None);
        assert_eq!(
            ServerKey::random(&OsEntropy).open(Sealed::SrpState, &blob),
            None
        );
        let mut edited = blob.clone();
        edited[14] ^= 1;
        assert_eq!(key.open(Sealed::SrpState, &edited), None);
        assert_eq!(key.open(Sealed::SrpState, &blob[..20]), None);
    }
}
