//! User pool replicas (CreateUserPoolReplica, DeleteUserPoolReplica, ListUserPoolReplicas,
//! UpdateUserPoolReplica) in a single-Region installation: a pool is its own primary, listed as
//! Cognito lists a primary, and another Region cannot be added, since a Gatehouse deployment is
//! one Region (several processes on one database are its answer to availability:
//! docs/deploy.md). Cognito's behaviour: docs/design/remaining-operations-cognito-behaviour.md §6.

use gatehouse_wire::*;

use crate::store::UserPoolRecord;
use crate::{Core, CoreError, Result};

impl Core {
    /// The pool as the one replica of its one Region: primary and active.
    fn primary(&self, pool: &UserPoolRecord) -> UserPoolReplicaType {
        UserPoolReplicaType {
            region_name: Some(self.config.region.clone()),
            role: Some(ReplicaRoleType::Primary),
            status: Some(ReplicaStatusType::Active),
            user_pool_arn: Some(self.pool_arn(&pool.id)),
        }
    }

    pub async fn list_user_pool_replicas(
        &self,
        req: ListUserPoolReplicasRequest,
    ) -> Result<ListUserPoolReplicasResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        crate::pagination::decode(req.next_token.as_deref())?;
        Ok(ListUserPoolReplicasResponse {
            user_pool_replicas: Some(vec![self.primary(&pool)]),
            next_token: None,
        })
    }

    pub async fn create_user_pool_replica(
        &self,
        req: CreateUserPoolReplicaRequest,
    ) -> Result<CreateUserPoolReplicaResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        if pool.pool.user_pool_tier == Some(UserPoolTierType::Lite) {
            return Err(CoreError::FeatureUnavailableInTier(
                "Multi-Region replication is not available in the LITE tier.".into(),
            ));
        }
        if req.region_name == self.config.region {
            return Err(CoreError::InvalidParameter(format!(
                "User pool {} already exists in {}.",
                pool.id, req.region_name
            )));
        }
        Err(single_region())
    }

    pub async fn update_user_pool_replica(
        &self,
        req: UpdateUserPoolReplicaRequest,
    ) -> Result<UpdateUserPoolReplicaResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        self.own_region(&req.region_name)?;
        if req.status != UpdateReplicaStatusType::Active {
            return Err(CoreError::InvalidParameter(
                "The primary replica cannot be made inactive.".into(),
            ));
        }
        Ok(UpdateUserPoolReplicaResponse {
            user_pool_replica: Some(self.primary(&pool)),
        })
    }

    pub async fn delete_user_pool_replica(
        &self,
        req: DeleteUserPoolReplicaRequest,
    ) -> Result<DeleteUserPoolReplicaResponse> {
        self.pool(&req.user_pool_id).await?;
        self.own_region(&req.region_name)?;
        Err(CoreError::InvalidParameter(
            "The primary replica cannot be deleted; delete the user pool instead.".into(),
        ))
    }

    /// Only this deployment's Region holds a replica of the pool.
    fn own_region(&self, region: &str) -> Result<()> {
        if region == self.config.region {
            Ok(())
        } else {
            Err(CoreError::ResourceNotFound(format!(
                "The user pool has no replica in {region}."
            )))
        }
    }
}

fn single_region() -> CoreError {
    CoreError::OperationNotEnabled(
        "Multi-Region replication is not available in this deployment: Gatehouse serves one Region."
            .into(),
    )
}
