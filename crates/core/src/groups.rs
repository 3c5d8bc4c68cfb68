//! Groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups, AdminAddUserToGroup,
//! AdminRemoveUserFromGroup, AdminListGroupsForUser, ListUsersInGroup.

use gatehouse_wire::*;

use crate::{pagination, Core, CoreError, Result, StoreError};

fn group_not_found() -> CoreError {
    CoreError::ResourceNotFound("Group not found.".into())
}

/// Page size for group listings (the model allows up to 60).
fn page(limit: Option<i32>) -> u32 {
    limit.unwrap_or(60).clamp(1, 60) as u32
}

impl Core {
    async fn existing_group(&self, pool_id: &str, name: &str) -> Result<GroupType> {
        self.users()
            .group(pool_id, name)
            .await?
            .ok_or_else(group_not_found)
    }

    pub async fn create_group(&self, req: CreateGroupRequest) -> Result<CreateGroupResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let now = self.now_epoch();
        let group = GroupType {
            group_name: Some(req.group_name.clone()),
            user_pool_id: Some(pool.id.clone()),
            description: req.description,
            role_arn: req.role_arn,
            precedence: req.precedence,
            creation_date: Some(now),
            last_modified_date: Some(now),
        };
        match self.users().insert_group(&group).await {
            Err(StoreError::Conflict) => {
                return Err(CoreError::GroupExists(
                    "A group with the name already exists.".into(),
                ))
            }
            other => other?,
        }
        Ok(CreateGroupResponse { group: Some(group) })
    }

    pub async fn get_group(&self, req: GetGroupRequest) -> Result<GetGroupResponse> {
        self.pool(&req.user_pool_id).await?;
        Ok(GetGroupResponse {
            group: Some(
                self.existing_group(&req.user_pool_id, &req.group_name)
                    .await?,
            ),
        })
    }

    pub async fn update_group(&self, req: UpdateGroupRequest) -> Result<UpdateGroupResponse> {
        self.pool(&req.user_pool_id).await?;
        let mut g = self
            .existing_group(&req.user_pool_id, &req.group_name)
            .await?;
        // Only the members given change (UpdateGroup is not a reset, unlike UpdateUserPool).
        if req.description.is_some() {
            g.description = req.description;
        }
        if req.role_arn.is_some() {
            g.role_arn = req.role_arn;
        }
        if req.precedence.is_some() {
            g.precedence = req.precedence;
        }
        g.last_modified_date = Some(self.now_epoch());
        if !self.users().update_group(&g).await? {
            return Err(group_not_found());
        }
        Ok(UpdateGroupResponse { group: Some(g) })
    }

    pub async fn delete_group(&self, req: DeleteGroupRequest) -> Result<()> {
        self.pool(&req.user_pool_id).await?;
        if !self
            .users()
            .delete_group(&req.user_pool_id, &req.group_name)
            .await?
        {
            return Err(group_not_found());
        }
        Ok(())
    }

    pub async fn list_groups(&self, req: ListGroupsRequest) -> Result<ListGroupsResponse> {
        self.pool(&req.user_pool_id).await?;
        let after = pagination::decode(req.next_token.as_deref())?;
        let limit = page(req.limit);
        let mut rows = self
            .users()
            .list_groups(&req.user_pool_id, after.as_deref(), limit + 1)
            .await?;
        let next_token = pagination::next_token(&mut rows, limit, |g| {
            g.group_name.as_deref().unwrap_or_default()
        });
        Ok(ListGroupsResponse {
            groups: Some(rows),
            next_token,
        })
    }

    pub async fn admin_add_user_to_group(&self, req: AdminAddUserToGroupRequest) -> Result<()> {
        let user = self
            .membership(&req.user_pool_id, &req.group_name, &req.username)
            .await?;
        let users = self.users();
        users
            .add_member(&req.user_pool_id, &req.group_name, &user)
            .await?;
        Ok(())
    }

    pub async fn admin_remove_user_from_group(
        &self,
        req: AdminRemoveUserFromGroupRequest,
    ) -> Result<()> {
        let user = self
            .membership(&req.user_pool_id, &req.group_name, &req.username)
            .await?;
        let users = self.users();
        users
            .remove_member(&req.user_pool_id, &req.group_name, &user)
            .await?;
        Ok(())
    }

    /// The user's key for a membership change, once the pool, the user and the group are known
    /// to exist (each missing one is its own error).
    async fn membership(&self, pool_id: &str, group: &str, username: &str) -> Result<String> {
        let pool = self.pool(pool_id).await?;
        let user = self.user_or_not_found(&pool, username).await?;
        self.existing_group(&pool.id, group).await?;
        Ok(user.username_key)
    }

    pub async fn admin_list_groups_for_user(
        &self,
        req: AdminListGroupsForUserRequest,
    ) -> Result<AdminListGroupsForUserResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let user = self.user_or_not_found(&pool, &req.username).await?;
        let after = pagination::decode(req.next_token.as_deref())?;
        let limit = page(req.limit);
        let mut rows = self
            .users()
            .groups_of_user(&pool.id, &user.username_key, after.as_deref(), limit + 1)
            .await?;
        let next_token = pagination::next_token(&mut rows, limit, |g| {
            g.group_name.as_deref().unwrap_or_default()
        });
        Ok(AdminListGroupsForUserResponse {
            groups: Some(rows),
            next_token,
        })
    }

    pub async fn list_users_in_group(
        &self,
        req: ListUsersInGroupRequest,
    ) -> Result<ListUsersInGroupResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        self.existing_group(&pool.id, &req.group_name).await?;
        let after = pagination::decode(req.next_token.as_deref())?;
        let limit = page(req.limit);
        let mut rows = self
            .users()
            .members(&pool.id, &req.group_name, after.as_deref(), limit + 1)
            .await?;
        let next_token = pagination::next_token(&mut rows, limit, |u| &u.username_key);
        Ok(ListUsersInGroupResponse {
            users: Some(rows.iter().map(|u| self.user_type(u, None)).collect()),
            next_token,
        })
    }
}
