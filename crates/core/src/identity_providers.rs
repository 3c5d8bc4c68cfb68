//! Identity providers: Create/Describe/Update/Delete/ListIdentityProviders,
//! GetIdentityProviderByIdentifier, and users' links to them (AdminLinkProviderForUser,
//! AdminDisableProviderForUser). Each provider is validated per type and returned as Cognito
//! returns it (the keys Cognito adds, Apple's private key withheld); app clients may name it in
//! `SupportedIdentityProviders`. Federation itself (managed login sending the browser to the
//! provider) is not built yet. Cognito's behaviour, with sources:
//! docs/design/identity-providers-cognito-behaviour.md.

use std::collections::{BTreeMap, HashSet};

use gatehouse_wire::*;
use serde_json::{json, Value};

use crate::server_key::{is_sealed_at_rest, Sealed};
use crate::store::{IdentityProviderRecord, UserPoolRecord};
use crate::{Core, CoreError, Result, StoreError};

/// Providers per pool (Cognito's default quota).
pub const MAX_PROVIDERS: u32 = 300;
/// Identities one user may be linked to.
pub const MAX_LINKS: usize = 5;
/// Facebook's Graph API version when the request names none.
const FACEBOOK_API_VERSION: &str = "v17.0";

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidParameter(message.into())
}

fn not_found(name: &str) -> CoreError {
    CoreError::ResourceNotFound(format!("Identity provider {name} does not exist."))
}

/// A social provider is named after its type, and its name is its type's alone.
fn check_name(name: &str, kind: &IdentityProviderTypeType) -> Result<()> {
    use IdentityProviderTypeType as T;
    let social = [
        T::Google,
        T::Facebook,
        T::Loginwithamazon,
        T::Signinwithapple,
    ];
    let named_for_a_type = social.iter().any(|t| t.as_str() == name);
    let fits = if social.contains(kind) {
        name == kind.as_str()
    } else {
        !named_for_a_type
    };
    if fits {
        Ok(())
    } else {
        Err(invalid(format!(
            "Provider {name} cannot be of type {kind}."
        )))
    }
}

/// The keys a type takes, those it needs, and what Cognito adds to them.
fn complete_details(
    kind: &IdentityProviderTypeType,
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    use IdentityProviderTypeType as T;
    let social_required = ["client_id", "client_secret", "authorize_scopes"];
    let social_added = [
        "attributes_url",
        "attributes_url_add_attributes",
        "authorize_url",
        "oidc_issuer",
        "token_request_method",
        "token_url",
    ];
    let (required, optional): (&[&str], Vec<&str>) = match kind {
        T::Google | T::Loginwithamazon => (&social_required, social_added.to_vec()),
        T::Facebook => (
            &social_required,
            [&social_added[..], &["api_version"]].concat(),
        ),
        T::Signinwithapple => (
            &[
                "client_id",
                "team_id",
                "key_id",
                "private_key",
                "authorize_scopes",
            ],
            social_added.to_vec(),
        ),
        T::Oidc => (
            &[
                "client_id",
                "client_secret",
                "authorize_scopes",
                "oidc_issuer",
                "attributes_request_method",
            ],
            vec![
                "authorize_url",
                "token_url",
                "attributes_url",
                "jwks_uri",
                "attributes_url_add_attributes",
            ],
        ),
        T::Saml => (
            &[],
            vec![
                "MetadataURL",
                "MetadataFile",
                "IDPSignout",
                "IDPInit",
                "EncryptedResponses",
                "RequestSigningAlgorithm",
                "SSORedirectBindingURI",
                "SLORedirectBindingURI",
            ],
        ),
        T::Unrecognized(_) => (&[], Vec::new()),
    };
    if let Some(key) = given
        .keys()
        .find(|k| !required.contains(&k.as_str()) && !optional.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "{key} is not a valid key for {kind} identity provider details."
        )));
    }
    if required
        .iter()
        .any(|k| given.get(*k).is_none_or(|v| v.trim().is_empty()))
    {
        return Err(invalid(format!(
            "{} are all required idp details.",
            and_list(required)
        )));
    }
    let mut d = given.clone();
    let mut set = |k: &str, v: &str| {
        d.insert(k.to_string(), v.to_string());
    };
    match kind {
        T::Google => {
            set(
                "attributes_url",
                "https://people.googleapis.com/v1/people/me?personFields=",
            );
            set("attributes_url_add_attributes", "true");
            set(
                "authorize_url",
                "https://accounts.google.com/o/oauth2/v2/auth",
            );
            set("oidc_issuer", "https://accounts.google.com");
            set("token_request_method", "POST");
            set("token_url", "https://www.googleapis.com/oauth2/v4/token");
        }
        T::Facebook => {
            let v = given
                .get("api_version")
                .cloned()
                .unwrap_or_else(|| FACEBOOK_API_VERSION.to_string());
            set(
                "attributes_url",
                &format!("https://graph.facebook.com/{v}/me?fields="),
            );
            set("attributes_url_add_attributes", "true");
            set(
                "authorize_url",
                &format!("https://www.facebook.com/{v}/dialog/oauth"),
            );
            set("token_request_method", "GET");
            set(
                "token_url",
                &format!("https://graph.facebook.com/{v}/oauth/access_token"),
            );
            d.remove("oidc_issuer");
        }
        T::Loginwithamazon => {
            set("attributes_url", "https://api.amazon.com/user/profile");
            set("attributes_url_add_attributes", "false");
            set("authorize_url", "https://www.amazon.com/ap/oa");
            set("token_request_method", "POST");
            set("token_url", "https://api.amazon.com/auth/o2/token");
            d.remove("oidc_issuer");
        }
        T::Signinwithapple => {
            check_apple_key(&given["private_key"])?;
            set("attributes_url_add_attributes", "false");
            set("authorize_url", "https://appleid.apple.com/auth/authorize");
            set("oidc_issuer", "https://appleid.apple.com");
            set("token_request_method", "POST");
            set("token_url", "https://appleid.apple.com/auth/token");
            d.remove("attributes_url");
        }
        T::Oidc => {
            for url in [
                "oidc_issuer",
                "authorize_url",
                "token_url",
                "attributes_url",
                "jwks_uri",
            ] {
                if let Some(v) = given.get(url) {
                    if !v.starts_with("https://") {
                        return Err(invalid(format!("{url} must be an https URL.")));
                    }
                }
            }
            if !matches!(given["attributes_request_method"].as_str(), "GET" | "POST") {
                return Err(invalid("attributes_request_method must be GET or POST."));
            }
            set("attributes_url_add_attributes", "false");
        }
        T::Saml => complete_saml(&mut d)?,
        T::Unrecognized(_) => {}
    }
    Ok(d)
}

fn and_list(keys: &[&str]) -> String {
    match keys {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Sign in with Apple's key: the `.p8` file, a PKCS#8 P-256 private key.
fn check_apple_key(pem: &str) -> Result<()> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    let usable = base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
        .is_some_and(|der| {
            aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &der,
            )
            .is_ok()
        });
    if usable {
        Ok(())
    } else {
        Err(invalid(
            "Provided private key cannot be used for Sign in with Apple.",
        ))
    }
}

/// SAML: metadata by URL (kept as given: Gatehouse fetches nothing) or inline, whose
/// HTTP-Redirect sign-in and sign-out locations Cognito adds as SSO/SLORedirectBindingURI.
fn complete_saml(d: &mut BTreeMap<String, String>) -> Result<()> {
    if !d.contains_key("MetadataURL") && !d.contains_key("MetadataFile") {
        return Err(invalid(
            "At least one of the MetadataURL or MetadataFile should be provided.",
        ));
    }
    for flag in ["IDPSignout", "IDPInit", "EncryptedResponses"] {
        if d.get(flag).is_some_and(|v| v != "true" && v != "false") {
            return Err(invalid(format!("{flag} must be true or false.")));
        }
    }
    if d.get("RequestSigningAlgorithm")
        .is_some_and(|v| v != "rsa-sha256")
    {
        return Err(invalid("RequestSigningAlgorithm only accepts rsa-sha256."));
    }
    if let Some(url) = d.get("MetadataURL") {
        if !url.starts_with("https://") && !url.starts_with("http://") {
            return Err(invalid("MetadataURL must be an http or https URL."));
        }
    }
    let Some(file) = d.get("MetadataFile").cloned() else {
        return Ok(());
    };
    let doc =
        roxmltree::Document::parse(&file).map_err(|_| invalid("Unable to unmarshall metadata"))?;
    const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
    let location = |service: &str| {
        doc.descendants()
            .filter(|n| n.tag_name().name() == service)
            .find(|n| n.attribute("Binding") == Some(REDIRECT))
            .and_then(|n| n.attribute("Location"))
            .map(str::to_string)
    };
    let sso = location("SingleSignOnService").ok_or_else(|| {
        invalid("No SingleSignOn Http redirect binding location found in metadata.")
    })?;
    d.insert("SSORedirectBindingURI".into(), sso);
    if let Some(slo) = location("SingleLogoutService") {
        d.insert("SLORedirectBindingURI".into(), slo);
    }
    Ok(())
}

/// Keys are the pool's attributes (or `username`, the claim the federated username comes
/// from), and every attribute the pool requires is mapped; `username` is added when absent,
/// from the claim each type names its users by.
fn complete_mapping(
    pool: &UserPoolRecord,
    kind: &IdentityProviderTypeType,
    given: Option<BTreeMap<String, String>>,
) -> Result<BTreeMap<String, String>> {
    use IdentityProviderTypeType as T;
    let mut mapping = given.unwrap_or_default();
    let schema = pool.pool.schema_attributes.as_deref().unwrap_or_default();
    let known: HashSet<&str> = schema.iter().filter_map(|a| a.name.as_deref()).collect();
    let bad: Vec<&str> = mapping
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "username" && !known.contains(k))
        .collect();
    if !bad.is_empty() {
        return Err(invalid(format!(
            "AttributeMapping contains invalid mapping: [{}]",
            bad.join(", ")
        )));
    }
    let missing: Vec<&str> = schema
        .iter()
        .filter(|a| a.required == Some(true))
        .filter_map(|a| a.name.as_deref())
        .filter(|n| *n != "sub" && !mapping.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "The attribute mapping is missing required attributes [{}]",
            missing.join(", ")
        )));
    }
    let username_claim = match kind {
        T::Facebook => Some("id"),
        T::Loginwithamazon => Some("user_id"),
        T::Google | T::Signinwithapple | T::Oidc => Some("sub"),
        _ => None,
    };
    if let Some(claim) = username_claim {
        mapping
            .entry("username".into())
            .or_insert_with(|| claim.to_string());
    }
    Ok(mapping)
}

/// Unique within the list (the store keeps them unique in the pool).
fn check_identifiers(ids: &[String]) -> Result<()> {
    let mut seen = HashSet::new();
    match ids.iter().find(|i| !seen.insert(i.as_str())) {
        Some(dup) => Err(invalid(format!("Duplicate identifier {dup}."))),
        None => Ok(()),
    }
}

/// AcrMapping is OIDC's alone.
fn check_acr(
    kind: &IdentityProviderTypeType,
    acr: &Option<BTreeMap<String, String>>,
) -> Result<()> {
    if acr.as_ref().is_some_and(|a| !a.is_empty()) && *kind != IdentityProviderTypeType::Oidc {
        return Err(invalid(
            "AcrMapping is only supported for OIDC identity providers.",
        ));
    }
    Ok(())
}

/// ProviderDetails members that are secrets, stored sealed with the server key
/// (`Core::seal_at_rest`): a copy of the database does not give them away.
const SECRET_DETAILS: [&str; 2] = ["client_secret", "private_key"];

/// The provider as responses show it: Apple's private key is never given back.
fn shown(mut p: IdentityProviderType) -> IdentityProviderType {
    if let Some(d) = &mut p.provider_details {
        d.remove("private_key");
    }
    p
}

impl Core {
    /// `rec` as it is stored: its secret details sealed.
    fn provider_to_store(&self, rec: &IdentityProviderRecord) -> IdentityProviderRecord {
        let mut stored = rec.clone();
        if let Some(d) = &mut stored.provider.provider_details {
            for key in SECRET_DETAILS {
                if let Some(v) = d.get_mut(key) {
                    *v = self.seal_at_rest(Sealed::ProviderSecret, v);
                }
            }
        }
        stored
    }

    /// A provider as the store gave it, its secret details opened (one stored in the clear by an
    /// earlier version is read as it is, and sealed at its next update).
    fn provider_from_store(
        &self,
        mut rec: IdentityProviderRecord,
    ) -> Result<IdentityProviderRecord> {
        if let Some(d) = &mut rec.provider.provider_details {
            for key in SECRET_DETAILS {
                if let Some(v) = d.get_mut(key) {
                    *v = self.open_at_rest(Sealed::ProviderSecret, v)?;
                }
            }
        }
        Ok(rec)
    }

    /// Every provider of the pool as stored (secret details sealed), oldest first.
    async fn stored_providers(&self, pool_id: &str) -> Result<Vec<IdentityProviderRecord>> {
        let mut all = Vec::new();
        loop {
            let after = all
                .last()
                .map(|p: &IdentityProviderRecord| (p.created_at, p.name.as_str()));
            let page = self
                .identity_providers()
                .list_identity_providers(pool_id, after, 100)
                .await?;
            let full = page.len() == 100;
            all.extend(page);
            if !full {
                return Ok(all);
            }
        }
    }

    /// Rewrites, sealed, the pool's providers whose secret details are still stored in the
    /// clear (client_secrets.rs `seal_stored_secrets`); how many.
    pub(crate) async fn seal_stored_provider_secrets(&self, pool_id: &str) -> Result<u32> {
        let mut sealed = 0;
        for stored in &self.stored_providers(pool_id).await? {
            let clear = stored.provider.provider_details.as_ref().is_some_and(|d| {
                SECRET_DETAILS
                    .iter()
                    .any(|k| d.get(*k).is_some_and(|v| !is_sealed_at_rest(v)))
            });
            if !clear {
                continue;
            }
            let opened = self.provider_from_store(stored.clone())?;
            let identifiers = opened.provider.idp_identifiers.clone().unwrap_or_default();
            // A provider changed meanwhile is left to that change (and the next pass).
            if self
                .identity_providers()
                .update_identity_provider(stored, &self.provider_to_store(&opened), &identifiers)
                .await?
            {
                sealed += 1;
            }
        }
        Ok(sealed)
    }

    /// The names of the pool's providers (app clients' SupportedIdentityProviders).
    pub(crate) async fn provider_names(&self, pool_id: &str) -> Result<HashSet<String>> {
        Ok(self
            .stored_providers(pool_id)
            .await?
            .into_iter()
            .map(|p| p.name)
            .collect())
    }

    pub(crate) fn identity_providers(&self) -> &dyn crate::store::IdentityProviderStore {
        &*self.store
    }

    pub async fn create_identity_provider(
        &self,
        req: CreateIdentityProviderRequest,
    ) -> Result<CreateIdentityProviderResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let kind = req.provider_type;
        check_name(&req.provider_name, &kind)?;
        let details = complete_details(&kind, &req.provider_details)?;
        let mapping = complete_mapping(&pool, &kind, req.attribute_mapping)?;
        let identifiers = req.idp_identifiers.unwrap_or_default();
        check_identifiers(&identifiers)?;
        check_acr(&kind, &req.acr_mapping)?;
        let now = self.now_epoch();
        let provider = IdentityProviderType {
            user_pool_id: Some(pool.id.clone()),
            provider_name: Some(req.provider_name.clone()),
            provider_type: Some(kind),
            provider_details: Some(details),
            attribute_mapping: Some(mapping),
            idp_identifiers: Some(identifiers.clone()),
            acr_mapping: req.acr_mapping.filter(|a| !a.is_empty()),
            last_modified_date: Some(now),
            creation_date: Some(now),
        };
        let record = IdentityProviderRecord {
            pool_id: pool.id.clone(),
            name: req.provider_name.clone(),
            created_at: self.now_millis(),
            provider,
        };
        match self
            .identity_providers()
            .insert_identity_provider(
                &self.provider_to_store(&record),
                &identifiers,
                MAX_PROVIDERS,
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::LimitReached) => {
                return Err(CoreError::LimitExceeded(format!(
                    "A user pool can have at most {MAX_PROVIDERS} identity providers."
                )))
            }
            Err(StoreError::Conflict) => {
                return Err(CoreError::DuplicateProvider(format!(
                    "{} already exists in user pool {}",
                    req.provider_name, pool.id
                )))
            }
            Err(StoreError::AliasTaken(id)) => {
                return Err(invalid(format!("Duplicate identifier {id}.")))
            }
            Err(e) => return Err(e.into()),
        }
        Ok(CreateIdentityProviderResponse {
            identity_provider: shown(record.provider),
        })
    }

    /// The provider as stored (secret details sealed).
    async fn stored_provider(&self, pool_id: &str, name: &str) -> Result<IdentityProviderRecord> {
        self.identity_providers()
            .identity_provider(pool_id, name)
            .await?
            .ok_or_else(|| not_found(name))
    }

    pub async fn describe_identity_provider(
        &self,
        req: DescribeIdentityProviderRequest,
    ) -> Result<DescribeIdentityProviderResponse> {
        self.pool(&req.user_pool_id).await?;
        let stored = self
            .stored_provider(&req.user_pool_id, &req.provider_name)
            .await?;
        let p = self.provider_from_store(stored)?;
        Ok(DescribeIdentityProviderResponse {
            identity_provider: shown(p.provider),
        })
    }

    pub async fn get_identity_provider_by_identifier(
        &self,
        req: GetIdentityProviderByIdentifierRequest,
    ) -> Result<GetIdentityProviderByIdentifierResponse> {
        self.pool(&req.user_pool_id).await?;
        let p = self
            .identity_providers()
            .identity_provider_by_identifier(&req.user_pool_id, &req.idp_identifier)
            .await?
            .ok_or_else(|| {
                CoreError::ResourceNotFound(format!(
                    "Identity provider with identifier {} does not exist.",
                    req.idp_identifier
                ))
            })?;
        let p = self.provider_from_store(p)?;
        Ok(GetIdentityProviderByIdentifierResponse {
            identity_provider: shown(p.provider),
        })
    }

    /// Each member given replaces the stored one, checked as on creation; the others stay. A
    /// compare-and-swap on the stored provider, retried: simultaneous updates all apply.
    pub async fn update_identity_provider(
        &self,
        req: UpdateIdentityProviderRequest,
    ) -> Result<UpdateIdentityProviderResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), 8);
        while rounds.next().await {
            // The compare-and-swap is on the stored document: `previous` stays sealed.
            let previous = self.stored_provider(&pool.id, &req.provider_name).await?;
            let mut record = self.provider_from_store(previous.clone())?;
            let p = &mut record.provider;
            let kind = p.provider_type.clone().unwrap_or_default();
            if let Some(given) = &req.provider_details {
                p.provider_details = Some(complete_details(&kind, given)?);
            }
            if req.attribute_mapping.is_some() {
                p.attribute_mapping = Some(complete_mapping(
                    &pool,
                    &kind,
                    req.attribute_mapping.clone(),
                )?);
            }
            if let Some(ids) = &req.idp_identifiers {
                check_identifiers(ids)?;
                p.idp_identifiers = Some(ids.clone());
            }
            if req.acr_mapping.is_some() {
                check_acr(&kind, &req.acr_mapping)?;
                p.acr_mapping = req.acr_mapping.clone().filter(|a| !a.is_empty());
            }
            p.last_modified_date = Some(self.now_epoch());
            let identifiers = p.idp_identifiers.clone().unwrap_or_default();
            match self
                .identity_providers()
                .update_identity_provider(&previous, &self.provider_to_store(&record), &identifiers)
                .await
            {
                Ok(true) => {
                    return Ok(UpdateIdentityProviderResponse {
                        identity_provider: shown(record.provider),
                    })
                }
                Ok(false) => continue,
                Err(StoreError::AliasTaken(id)) => {
                    return Err(invalid(format!("Duplicate identifier {id}.")))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::ConcurrentModification(
            "The identity provider was modified concurrently; retry the request.".into(),
        ))
    }

    /// Users linked to the provider keep their links, as on Cognito.
    pub async fn delete_identity_provider(&self, req: DeleteIdentityProviderRequest) -> Result<()> {
        self.pool(&req.user_pool_id).await?;
        if !self
            .identity_providers()
            .delete_identity_provider(&req.user_pool_id, &req.provider_name)
            .await?
        {
            return Err(not_found(&req.provider_name));
        }
        Ok(())
    }

    /// Creation order; 0 or no MaxResults is a page of 50, Cognito's largest.
    pub async fn list_identity_providers(
        &self,
        req: ListIdentityProvidersRequest,
    ) -> Result<ListIdentityProvidersResponse> {
        self.pool(&req.user_pool_id).await?;
        let limit = match req.max_results {
            None | Some(0) => 50,
            Some(n) => n.clamp(1, 50) as u32,
        };
        let after = crate::pagination::decode_cursor(req.next_token.as_deref())?;
        let mut rows = self
            .identity_providers()
            .list_identity_providers(
                &req.user_pool_id,
                after.as_ref().map(|(t, n)| (*t, n.as_str())),
                limit + 1,
            )
            .await?;
        let next_token =
            crate::pagination::next_cursor(&mut rows, limit, |p| (p.created_at, &p.name));
        Ok(ListIdentityProvidersResponse {
            providers: rows
                .into_iter()
                .map(|r| ProviderDescription {
                    provider_name: r.provider.provider_name,
                    provider_type: r.provider.provider_type,
                    last_modified_date: r.provider.last_modified_date,
                    creation_date: r.provider.creation_date,
                })
                .collect(),
            next_token,
        })
    }

    /// Links an identity of one of the pool's providers, not yet used by anyone, to a user:
    /// an entry of its `identities` attribute. The identity is claimed in the pool as an alias
    /// is, so two links of one identity at once leave it with one user.
    pub async fn admin_link_provider_for_user(
        &self,
        req: AdminLinkProviderForUserRequest,
    ) -> Result<AdminLinkProviderForUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let source = &req.source_user;
        let source_name = source.provider_name.as_deref().unwrap_or_default();
        if source_name.eq_ignore_ascii_case("Cognito") {
            return Err(invalid("Invalid SourceUser: Cognito users with a username/password may not be passed in as a SourceUser, only as a DestinationUser"));
        }
        let provider = self
            .identity_providers()
            .identity_provider(&pool.id, source_name)
            .await?
            .ok_or_else(|| {
                invalid(format!(
                    "Invalid SourceUser: {source_name} is not a valid identity provider for this user pool."
                ))
            })?;
        let kind = provider.provider.provider_type.clone().unwrap_or_default();
        let attribute = source
            .provider_attribute_name
            .as_deref()
            .unwrap_or_default();
        let social = !matches!(
            kind,
            IdentityProviderTypeType::Oidc | IdentityProviderTypeType::Saml
        );
        if attribute.is_empty() || (social && attribute != "Cognito_Subject") {
            return Err(invalid(
                "Invalid SourceUser: ProviderAttributeName must be Cognito_Subject for social providers.",
            ));
        }
        let user_id = source
            .provider_attribute_value
            .clone()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid("Invalid SourceUser: ProviderAttributeValue is required."))?;
        let destination = &req.destination_user;
        if !destination
            .provider_name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case("Cognito"))
        {
            return Err(invalid(
                "Invalid DestinationUser: only a Cognito user may be a DestinationUser here.",
            ));
        }
        let username = destination
            .provider_attribute_value
            .as_deref()
            .unwrap_or_default();
        let user = self.user_or_not_found(&pool, username).await?;
        let now = self.now_millis();
        let entry = json!({
            "userId": user_id,
            "providerName": source_name,
            "providerType": kind.as_str(),
            "issuer": null,
            "primary": false,
            "dateCreated": now,
        });
        let written = self
            .modify_user(&pool, &user.username, |u| {
                let mut list = linked_identities(u);
                if list.iter().any(|e| same_identity(e, source_name, &user_id)) {
                    return Err(invalid(
                        "Invalid SourceUser: the source user is already linked to a user.",
                    ));
                }
                if list.len() >= MAX_LINKS {
                    return Err(CoreError::LimitExceeded(format!(
                        "A user can be linked to at most {MAX_LINKS} identities."
                    )));
                }
                list.push(entry.clone());
                u.attributes
                    .insert("identities".into(), Value::Array(list).to_string());
                Ok(())
            })
            .await;
        match written {
            Ok(_) => Ok(AdminLinkProviderForUserResponse {}),
            // The identity's claim is another user's.
            Err(CoreError::AliasExists(_)) => Err(invalid(
                "Invalid SourceUser: the source user is already linked to a user.",
            )),
            Err(e) => Err(e),
        }
    }

    /// Removes a linked identity from the user holding it.
    pub async fn admin_disable_provider_for_user(
        &self,
        req: AdminDisableProviderForUserRequest,
    ) -> Result<AdminDisableProviderForUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let who = &req.user;
        let provider = who.provider_name.as_deref().unwrap_or_default();
        let user_id = who.provider_attribute_value.as_deref().unwrap_or_default();
        if provider.eq_ignore_ascii_case("Cognito") {
            return Err(invalid(
                "Disabling a Cognito user's password sign-in is not supported; use AdminDisableUser.",
            ));
        }
        let claim = identity_claim(provider, user_id);
        let holder = self
            .users()
            .user_by_alias_claim(&pool.id, &claim)
            .await?
            .ok_or_else(|| invalid("User is not linked to the given provider."))?;
        self.modify_user(&pool, &holder.username, |u| {
            let list: Vec<Value> = linked_identities(u)
                .into_iter()
                .filter(|e| !same_identity(e, provider, user_id))
                .collect();
            if list.is_empty() {
                u.attributes.remove("identities");
            } else {
                u.attributes
                    .insert("identities".into(), Value::Array(list).to_string());
            }
            Ok(())
        })
        .await?;
        Ok(AdminDisableProviderForUserResponse {})
    }
}

/// The entries of a user's `identities` attribute (a JSON array).
pub(crate) fn linked_identities(u: &crate::store::UserRecord) -> Vec<Value> {
    u.attributes
        .get("identities")
        .and_then(|s| serde_json::from_str::<Vec<Value>>(s).ok())
        .unwrap_or_default()
}

fn same_identity(entry: &Value, provider: &str, user_id: &str) -> bool {
    entry["providerName"] == provider && entry["userId"] == user_id
}

/// The alias-claim key of a linked identity: one user per identity in a pool.
pub(crate) fn identity_claim(provider: &str, user_id: &str) -> String {
    // JSON, so that a `:` in either part cannot make two identities one key.
    format!("identities:{}", json!([provider, user_id]))
}
