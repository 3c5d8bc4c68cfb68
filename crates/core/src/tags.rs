//! TagResource, UntagResource, ListTagsForResource on user pools (addressed by ARN).

use std::collections::BTreeMap;

use gatehouse_wire::*;

use crate::{Core, CoreError, Result};

/// Tags per resource (AWS's limit).
pub const MAX_TAGS: usize = 50;

pub(crate) fn check(tags: &BTreeMap<String, String>) -> Result<()> {
    if tags.len() > MAX_TAGS {
        return Err(CoreError::InvalidParameter(format!(
            "A resource can have at most {MAX_TAGS} tags."
        )));
    }
    if tags.keys().any(|k| k.starts_with("aws:")) {
        return Err(CoreError::InvalidParameter(
            "Tag keys may not start with aws:".into(),
        ));
    }
    Ok(())
}

impl Core {
    /// The pool id an ARN names, if it is one of this deployment's pool ARNs.
    fn pool_id_of_arn(&self, arn: &str) -> Result<String> {
        let prefix = format!(
            "arn:aws:cognito-idp:{}:{}:userpool/",
            self.config.region, self.config.account_id
        );
        arn.strip_prefix(&prefix)
            .map(str::to_string)
            .ok_or_else(|| CoreError::ResourceNotFound(format!("Resource {arn} does not exist.")))
    }

    async fn pool_for_arn(&self, arn: &str) -> Result<String> {
        let id = self.pool_id_of_arn(arn)?;
        match self.pools().user_pool(&id).await? {
            Some(_) => Ok(id),
            None => Err(CoreError::ResourceNotFound(format!(
                "Resource {arn} does not exist."
            ))),
        }
    }

    pub async fn tag_resource(&self, req: TagResourceRequest) -> Result<TagResourceResponse> {
        let id = self.pool_for_arn(&req.resource_arn).await?;
        self.modify_pool(&id, |pool| {
            let tags = pool.user_pool_tags.get_or_insert_with(BTreeMap::new);
            tags.extend(req.tags.clone());
            check(tags)
        })
        .await?;
        Ok(TagResourceResponse {})
    }

    pub async fn untag_resource(&self, req: UntagResourceRequest) -> Result<UntagResourceResponse> {
        let id = self.pool_for_arn(&req.resource_arn).await?;
        self.modify_pool(&id, |pool| {
            if let Some(tags) = pool.user_pool_tags.as_mut() {
                for k in &req.tag_keys {
                    tags.remove(k);
                }
            }
            Ok(())
        })
        .await?;
        Ok(UntagResourceResponse {})
    }

    pub async fn list_tags_for_resource(
        &self,
        req: ListTagsForResourceRequest,
    ) -> Result<ListTagsForResourceResponse> {
        let id = self.pool_for_arn(&req.resource_arn).await?;
        let rec = self.pool(&id).await?;
        Ok(ListTagsForResourceResponse {
            tags: Some(rec.pool.user_pool_tags.unwrap_or_default()),
        })
    }
}
