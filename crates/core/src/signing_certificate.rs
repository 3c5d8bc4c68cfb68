//! GetSigningCertificate: the X.509 certificate of the key a pool signs its SAML requests
//! with (docs/design/client-secrets-cognito-behaviour.md §3). The key is the pool's own, kept
//! sealed beside its token keys (token use `saml`, never in the JWKS) and made on the first
//! request; the certificate is self-signed, valid ten years from the key's creation, and the
//! same bytes at every call (RSA PKCS#1 v1.5 signatures are deterministic), so an identity
//! provider that pins it keeps working. Gatehouse has no SAML federation yet: nothing signs
//! with the key but this certificate.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_wire::*;

use crate::server_key::Sealed;
use crate::store::SigningKeyRecord;
use crate::{Core, CoreError, Result, StoreError};

/// The kid of a pool's SAML signing key: one per pool, so that two first requests at once
/// make one key (the second insert conflicts and reads the first's).
const SAML_KID: &str = "saml-signing";
pub(crate) const SAML_TOKEN_USE: &str = "saml";
const VALID_DAYS: i64 = 3652;

impl Core {
    pub async fn get_signing_certificate(
        &self,
        req: GetSigningCertificateRequest,
    ) -> Result<GetSigningCertificateResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let record = self.saml_signing_key(&pool.id).await?;
        let der = STANDARD
            .decode(&record.sealed_private_key)
            .ok()
            .and_then(|sealed| self.server_key.open(Sealed::SigningKey, &sealed))
            .ok_or_else(|| {
                CoreError::Internal(format!(
                    "the SAML signing key of pool {} cannot be opened",
                    pool.id
                ))
            })?;
        let certificate = certificate(&pool.id, &der, record.created_at)?;
        Ok(GetSigningCertificateResponse {
            certificate: Some(STANDARD.encode(certificate)),
        })
    }

    async fn saml_signing_key(&self, pool_id: &str) -> Result<SigningKeyRecord> {
        for _ in 0..2 {
            let found = self.pools().signing_keys(pool_id).await?;
            if let Some(r) = found.into_iter().find(|r| r.token_use == SAML_TOKEN_USE) {
                return Ok(r);
            }
            let pair = crate::tokens::new_rsa_key()?;
            let sealed = self
                .server_key
                .seal(self.entropy.as_ref(), Sealed::SigningKey, &pair);
            let record = SigningKeyRecord {
                pool_id: pool_id.to_string(),
                kid: SAML_KID.into(),
                token_use: SAML_TOKEN_USE.into(),
                sealed_private_key: STANDARD.encode(sealed),
                created_at: self.now_millis(),
            };
            match self.pools().insert_signing_keys(&[record]).await {
                Ok(()) | Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Internal(format!(
            "pool {pool_id}: the SAML signing key was not found after it was made"
        )))
    }
}

/// The self-signed certificate (DER) of `pkcs8` for `pool_id`: subject and issuer
/// `CN=<pool id>, O=Gatehouse`, serial and validity fixed by the key's creation.
fn certificate(pool_id: &str, pkcs8: &[u8], created_at: i64) -> Result<Vec<u8>> {
    let failed = |e: rcgen::Error| CoreError::Internal(format!("signing certificate: {e}"));
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls_pki_types::PrivatePkcs8KeyDer::from(pkcs8),
        &rcgen::PKCS_RSA_SHA256,
    )
    .map_err(failed)?;
    let mut params = rcgen::CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    name.push(rcgen::DnType::CommonName, pool_id);
    name.push(rcgen::DnType::OrganizationName, "Gatehouse");
    params.distinguished_name = name;
    let start = time::OffsetDateTime::from_unix_timestamp(created_at / 1000)
        .map_err(|e| CoreError::Internal(format!("signing certificate date: {e}")))?;
    params.not_before = start;
    params.not_after = start + time::Duration::days(VALID_DAYS);
    params.serial_number = Some(rcgen::SerialNumber::from((created_at as u64) << 8 | 1));
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok(cert.der().to_vec())
}
