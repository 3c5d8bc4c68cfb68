//! Terms documents: CreateTerms, DescribeTerms, DescribeTermsByClient, ListTerms, UpdateTerms,
//! DeleteTerms. An app client has at most one `terms-of-use` and one `privacy-policy` (the
//! store's key keeps that true under simultaneous requests), each a link per language; once a
//! client has both, the hosted sign-up page links them (crates/server/src/hosted/accounts.rs).
//! Nothing is enforced (`Enforcement` is `NONE`, Cognito's only value). Cognito's behaviour:
//! docs/design/remaining-operations-cognito-behaviour.md §3.

use gatehouse_wire::*;

use crate::{ids, Core, CoreError, Result, StoreError};

fn not_found(id: &str) -> CoreError {
    CoreError::ResourceNotFound(format!("Terms {id} do not exist."))
}

fn exists(name: &str) -> CoreError {
    CoreError::TermsExists(format!(
        "Terms with name {name} already exist for this app client."
    ))
}

fn check_links(links: &Option<std::collections::BTreeMap<String, String>>) -> Result<()> {
    if links.as_ref().is_none_or(|l| l.is_empty()) {
        return Err(CoreError::InvalidParameter(
            "1 validation error detected: Value at 'links' failed to satisfy constraint: Member must have length greater than or equal to 1"
                .into(),
        ));
    }
    Ok(())
}

/// The link a page in `language` shows (Gatehouse's pages are English): that language's,
/// else `cognito:default`, else any.
pub(crate) fn link_for<'a>(terms: &'a TermsType, language: &str) -> Option<&'a str> {
    terms
        .links
        .get(&format!("cognito:{language}"))
        .or_else(|| terms.links.get("cognito:default"))
        .or_else(|| terms.links.values().next())
        .map(String::as_str)
}

impl Core {
    pub async fn create_terms(&self, req: CreateTermsRequest) -> Result<CreateTermsResponse> {
        self.app_client(&req.user_pool_id, &req.client_id).await?;
        check_links(&req.links)?;
        let now = self.now_epoch();
        let terms = TermsType {
            terms_id: ids::uuid(self.entropy.as_ref()),
            user_pool_id: req.user_pool_id.clone(),
            client_id: req.client_id.clone(),
            terms_name: req.terms_name.clone(),
            terms_source: req.terms_source,
            enforcement: req.enforcement,
            links: req.links.unwrap_or_default(),
            creation_date: now,
            last_modified_date: now,
        };
        match self.terms_store().insert_terms(&terms).await {
            Err(StoreError::Conflict) => return Err(exists(&req.terms_name)),
            other => other?,
        }
        Ok(CreateTermsResponse { terms: Some(terms) })
    }

    pub async fn describe_terms(&self, req: DescribeTermsRequest) -> Result<DescribeTermsResponse> {
        self.pool(&req.user_pool_id).await?;
        let terms = self
            .terms_store()
            .terms(&req.user_pool_id, &req.terms_id)
            .await?
            .ok_or_else(|| not_found(&req.terms_id))?;
        Ok(DescribeTermsResponse { terms: Some(terms) })
    }

    pub async fn describe_terms_by_client(
        &self,
        req: DescribeTermsByClientRequest,
    ) -> Result<DescribeTermsByClientResponse> {
        self.app_client(&req.user_pool_id, &req.client_id).await?;
        let terms = self
            .terms_store()
            .client_terms(&req.user_pool_id, &req.client_id)
            .await?
            .into_iter()
            .find(|t| t.terms_name == req.terms_name)
            .ok_or_else(|| {
                CoreError::ResourceNotFound(format!(
                    "App client {} has no terms named {}.",
                    req.client_id, req.terms_name
                ))
            })?;
        Ok(DescribeTermsByClientResponse { terms: Some(terms) })
    }

    /// Members given replace the stored ones; a rename onto the client's other document is
    /// TermsExistsException. A compare-and-swap, retried: simultaneous updates all apply.
    pub async fn update_terms(&self, req: UpdateTermsRequest) -> Result<UpdateTermsResponse> {
        self.pool(&req.user_pool_id).await?;
        if req.links.is_some() {
            check_links(&req.links)?;
        }
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), 8);
        while rounds.next().await {
            let previous = self
                .terms_store()
                .terms(&req.user_pool_id, &req.terms_id)
                .await?
                .ok_or_else(|| not_found(&req.terms_id))?;
            let mut terms = previous.clone();
            if let Some(name) = &req.terms_name {
                terms.terms_name = name.clone();
            }
            if let Some(source) = &req.terms_source {
                terms.terms_source = source.clone();
            }
            if let Some(enforcement) = &req.enforcement {
                terms.enforcement = enforcement.clone();
            }
            if let Some(links) = &req.links {
                terms.links = links.clone();
            }
            terms.last_modified_date = self.now_epoch();
            match self.terms_store().update_terms(&previous, &terms).await {
                Ok(true) => return Ok(UpdateTermsResponse { terms: Some(terms) }),
                Ok(false) => continue,
                Err(StoreError::Conflict) => return Err(exists(&terms.terms_name)),
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::ConcurrentModification(
            "The terms were modified concurrently; retry the request.".into(),
        ))
    }

    pub async fn delete_terms(&self, req: DeleteTermsRequest) -> Result<()> {
        self.pool(&req.user_pool_id).await?;
        if !self
            .terms_store()
            .delete_terms(&req.user_pool_id, &req.terms_id)
            .await?
        {
            return Err(not_found(&req.terms_id));
        }
        Ok(())
    }

    /// The pool's terms, oldest first; each without its client and links, as Cognito lists them.
    pub async fn list_terms(&self, req: ListTermsRequest) -> Result<ListTermsResponse> {
        self.pool(&req.user_pool_id).await?;
        let limit = req.max_results.unwrap_or(60).clamp(1, 60) as u32;
        let after = crate::pagination::decode_cursor(req.next_token.as_deref())?;
        let mut rows = self
            .terms_store()
            .list_terms(
                &req.user_pool_id,
                after.as_ref().map(|(t, i)| (*t, i.as_str())),
                limit + 1,
            )
            .await?;
        let next_token = crate::pagination::next_cursor(&mut rows, limit, |t| {
            ((t.creation_date * 1000.0) as i64, &t.terms_id)
        });
        Ok(ListTermsResponse {
            terms: rows
                .into_iter()
                .map(|t| TermsDescriptionType {
                    terms_id: t.terms_id,
                    terms_name: t.terms_name,
                    enforcement: t.enforcement,
                    creation_date: t.creation_date,
                    last_modified_date: t.last_modified_date,
                })
                .collect(),
            next_token,
        })
    }

    /// The hosted sign-up page's links, once the client has both documents: (label, URL) in
    /// the page's language.
    pub async fn sign_up_terms_links(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Vec<(&'static str, String)>> {
        let all = self.terms_store().client_terms(pool_id, client_id).await?;
        let find = |name: &str| all.iter().find(|t| t.terms_name == name);
        let (Some(use_terms), Some(privacy)) = (find("terms-of-use"), find("privacy-policy"))
        else {
            return Ok(Vec::new());
        };
        // Only web links reach the page: the model lets `javascript:` through.
        Ok([("Terms of use", use_terms), ("Privacy policy", privacy)]
            .into_iter()
            .filter_map(|(label, t)| Some((label, link_for(t, "english")?.to_string())))
            .filter(|(_, url)| url.starts_with("https://") || url.starts_with("http://"))
            .collect())
    }

    pub(crate) fn terms_store(&self) -> &dyn crate::store::TermsStore {
        &*self.store
    }
}
