//! App client secrets and their rotation: AddUserPoolClientSecret, ListUserPoolClientSecrets,
//! DeleteUserPoolClientSecret, and the one rule every secret check follows (SECRET_HASH, the
//! token endpoints, RevokeToken, GetTokensFromRefreshToken, GetClientToken): a client holds at
//! most two active secrets, and either authenticates it. Cognito's behaviour, with sources:
//! docs/design/client-secrets-cognito-behaviour.md.
//!
//! DescribeUserPoolClient's `ClientSecret` stays the secret the client was created with until
//! that one is deleted; a secret added later is shown once, by AddUserPoolClientSecret (and
//! only when Gatehouse generated it), as Cognito does.

use std::borrow::Cow;

use gatehouse_wire::*;
use subtle::ConstantTimeEq;

use crate::server_key::{is_sealed_at_rest, Sealed};
use crate::store::{AppClientRecord, ClientSecretRecord};
use crate::{ids, Core, CoreError, Result};

/// Active secrets one app client may hold.
pub const MAX_CLIENT_SECRETS: usize = 2;

/// The secrets that authenticate the client now. A client stored before rotation existed has
/// only the one it was created with, named after its creation date.
pub(crate) fn active_secrets(client: &AppClientRecord) -> Cow<'_, [ClientSecretRecord]> {
    if !client.secrets.is_empty() {
        return Cow::Borrowed(&client.secrets);
    }
    match &client.client.client_secret {
        Some(value) => {
            let created_at = (client.client.creation_date.unwrap_or(0.0) * 1000.0) as i64;
            Cow::Owned(vec![ClientSecretRecord {
                id: secret_id(&client.client_id, created_at),
                value: value.clone(),
                created_at,
            }])
        }
        None => Cow::Owned(Vec::new()),
    }
}

/// A confidential client: one that has a secret.
pub fn is_confidential(client: &AppClientRecord) -> bool {
    !active_secrets(client).is_empty()
}

/// Whether `given` is one of the client's secrets. Each comparison is constant-time and all are
/// made, so the time does not tell which one matched.
pub(crate) fn secret_matches(client: &AppClientRecord, given: &str) -> bool {
    active_secrets(client).iter().fold(false, |found, s| {
        found | bool::from(s.value.as_bytes().ct_eq(given.as_bytes()))
    })
}

/// Whether `given` is the SECRET_HASH of `username` under one of the client's secrets.
pub(crate) fn secret_hash_matches(client: &AppClientRecord, username: &str, given: &str) -> bool {
    active_secrets(client).iter().fold(false, |found, s| {
        let expected = gatehouse_srp::secret_hash(&s.value, username, &client.client_id);
        found | bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
    })
}

/// The secret Gatehouse itself signs with for the client (the hosted pages' SECRET_HASH): the
/// newest.
pub(crate) fn signing_secret(client: &AppClientRecord) -> Option<String> {
    active_secrets(client)
        .iter()
        .max_by_key(|s| s.created_at)
        .map(|s| s.value.clone())
}

fn secret_id(client_id: &str, created_at: i64) -> String {
    format!("{client_id}--{created_at}")
}

/// The secret record of a client created with `value`.
pub(crate) fn first_secret(client_id: &str, value: &str, created_at: i64) -> ClientSecretRecord {
    ClientSecretRecord {
        id: secret_id(client_id, created_at),
        value: value.to_string(),
        created_at,
    }
}

fn descriptor(s: &ClientSecretRecord, show_value: bool) -> ClientSecretDescriptorType {
    ClientSecretDescriptorType {
        client_secret_id: Some(s.id.clone()),
        client_secret_value: show_value.then(|| s.value.clone()),
        client_secret_create_date: Some(s.created_at as f64 / 1000.0),
    }
}

/// Secrets at rest: a client's secrets are stored sealed with the server key, so that a copy of
/// the database (a backup, a dump) does not give them away; DescribeUserPoolClient still shows
/// the secret, so it is sealed, not hashed. Records read from the store are opened here and
/// records written are sealed here: the rest of core sees the secrets in the clear. A secret
/// stored in the clear by an earlier version is read as it is, and sealed at its client's next
/// write or by [`Core::seal_stored_secrets`].
impl Core {
    /// `rec` as it is stored: its secrets sealed.
    pub(crate) fn client_to_store(&self, rec: &AppClientRecord) -> AppClientRecord {
        let mut stored = rec.clone();
        if let Some(v) = &rec.client.client_secret {
            stored.client.client_secret = Some(self.seal_at_rest(Sealed::ClientSecret, v));
        }
        for s in &mut stored.secrets {
            s.value = self.seal_at_rest(Sealed::ClientSecret, &s.value);
        }
        stored
    }

    /// A client as the store gave it, its secrets opened.
    pub(crate) fn client_from_store(&self, mut rec: AppClientRecord) -> Result<AppClientRecord> {
        if let Some(v) = &rec.client.client_secret {
            rec.client.client_secret = Some(self.open_at_rest(Sealed::ClientSecret, v)?);
        }
        for s in &mut rec.secrets {
            s.value = self.open_at_rest(Sealed::ClientSecret, &s.value)?;
        }
        Ok(rec)
    }

    /// Seals every secret still stored in the clear (written by a version before secrets were
    /// sealed): app clients' and identity providers'. Each is rewritten through its
    /// compare-and-swap, so a change made meanwhile is kept. Returns how many clients and
    /// providers were rewritten. Run it once no process of an older version serves the database
    /// (those read a sealed secret as text that matches nothing): `gatehouse seal-secrets`, and
    /// at every start of the embedded store, which one process owns.
    pub async fn seal_stored_secrets(&self) -> Result<(u32, u32)> {
        let (mut clients, mut providers) = (0, 0);
        let mut after_pool: Option<String> = None;
        loop {
            let pools = self
                .pools()
                .list_user_pools(after_pool.as_deref(), 100, None)
                .await?;
            for pool in &pools {
                let mut after: Option<String> = None;
                loop {
                    let page = self
                        .pools()
                        .list_app_clients(&pool.id, after.as_deref(), 100)
                        .await?;
                    for c in &page {
                        let clear = c.client.client_secret.iter().any(|v| !is_sealed_at_rest(v))
                            || c.secrets.iter().any(|s| !is_sealed_at_rest(&s.value));
                        if !clear {
                            continue;
                        }
                        match self
                            .modify_app_client(&pool.id, &c.client_id, |_| Ok(()))
                            .await
                        {
                            Ok(_) => clients += 1,
                            // Deleted meanwhile: nothing left to seal.
                            Err(CoreError::ResourceNotFound(_)) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    after = page.last().map(|c| c.client_id.clone());
                    if page.len() < 100 {
                        break;
                    }
                }
                providers += self.seal_stored_provider_secrets(&pool.id).await?;
            }
            after_pool = pools.last().map(|p| p.id.clone());
            if pools.len() < 100 {
                return Ok((clients, providers));
            }
        }
    }

    /// The stored client `client_id`, secrets opened.
    pub(crate) async fn stored_client(&self, client_id: &str) -> Result<Option<AppClientRecord>> {
        self.pools()
            .app_client(client_id)
            .await?
            .map(|r| self.client_from_store(r))
            .transpose()
    }

    pub async fn add_user_pool_client_secret(
        &self,
        req: AddUserPoolClientSecretRequest,
    ) -> Result<AddUserPoolClientSecretResponse> {
        self.pool(&req.user_pool_id).await?;
        let generated = req.client_secret.is_none();
        let value = req
            .client_secret
            .clone()
            .unwrap_or_else(|| ids::client_secret(self.entropy.as_ref()));
        let now = self.now_millis();
        let mut added = None;
        self.modify_app_client(&req.user_pool_id, &req.client_id, |rec| {
            let mut secrets = active_secrets(rec).into_owned();
            if secrets.is_empty() {
                return Err(CoreError::InvalidParameter(format!(
                    "Client {} does not have a client secret.",
                    rec.client_id
                )));
            }
            if secrets.len() >= MAX_CLIENT_SECRETS {
                return Err(CoreError::LimitExceeded(format!(
                    "An app client can have at most {MAX_CLIENT_SECRETS} client secrets."
                )));
            }
            // Ids name the creation time: two made in one millisecond take the next one.
            let newest = secrets.iter().map(|s| s.created_at).max().unwrap_or(0);
            let secret = first_secret(&rec.client_id, &value, now.max(newest + 1));
            secrets.push(secret.clone());
            rec.secrets = secrets;
            added = Some(secret);
            Ok(())
        })
        .await?;
        let added = added.expect("set by the last successful round");
        Ok(AddUserPoolClientSecretResponse {
            client_secret_descriptor: Some(descriptor(&added, generated)),
        })
    }

    /// Oldest first, without values; never more than one page.
    pub async fn list_user_pool_client_secrets(
        &self,
        req: ListUserPoolClientSecretsRequest,
    ) -> Result<ListUserPoolClientSecretsResponse> {
        self.pool(&req.user_pool_id).await?;
        let rec = self.app_client(&req.user_pool_id, &req.client_id).await?;
        let mut secrets = active_secrets(&rec).into_owned();
        secrets.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(ListUserPoolClientSecretsResponse {
            client_secrets: Some(secrets.iter().map(|s| descriptor(s, false)).collect()),
            next_token: None,
        })
    }

    /// The last secret stays (a confidential client cannot become public). Deleting the one
    /// the client was created with takes `ClientSecret` off DescribeUserPoolClient.
    pub async fn delete_user_pool_client_secret(
        &self,
        req: DeleteUserPoolClientSecretRequest,
    ) -> Result<DeleteUserPoolClientSecretResponse> {
        self.pool(&req.user_pool_id).await?;
        self.modify_app_client(&req.user_pool_id, &req.client_id, |rec| {
            let mut secrets = active_secrets(rec).into_owned();
            let Some(i) = secrets.iter().position(|s| s.id == req.client_secret_id) else {
                return Err(CoreError::ResourceNotFound(format!(
                    "Client secret {} does not exist.",
                    req.client_secret_id
                )));
            };
            if secrets.len() == 1 {
                return Err(CoreError::InvalidParameter(
                    "The last client secret of an app client cannot be deleted.".into(),
                ));
            }
            let gone = secrets.remove(i);
            if rec.client.client_secret.as_deref() == Some(gone.value.as_str()) {
                rec.client.client_secret = None;
            }
            rec.secrets = secrets;
            Ok(())
        })
        .await?;
        Ok(DeleteUserPoolClientSecretResponse {})
    }
}
