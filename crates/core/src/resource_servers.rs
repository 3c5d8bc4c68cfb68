//! Resource servers: CreateResourceServer, DescribeResourceServer, UpdateResourceServer,
//! DeleteResourceServer, ListResourceServers. A resource server names an API and the custom
//! scopes (`{identifier}/{scope}`) app clients may ask for in OAuth. Behaviour and messages:
//! docs/design/oauth-cognito-behaviour.md §2.

use std::collections::HashSet;

use gatehouse_wire::*;

use crate::{pagination, Core, CoreError, Result, StoreError};

fn not_found(identifier: &str) -> CoreError {
    CoreError::ResourceNotFound(format!("Resource server {identifier} does not exist."))
}

/// Page size of ListResourceServers (the model allows 1 to 50).
fn page(max_results: Option<i32>) -> u32 {
    max_results.unwrap_or(50).clamp(1, 50) as u32
}

/// The server as stored and described: no `Scopes` member when it has none, and each scope
/// name once (a scope is `{identifier}/{name}`: two of the same name would be one scope).
fn resource_server(
    pool_id: &str,
    identifier: &str,
    name: &str,
    scopes: Option<Vec<ResourceServerScopeType>>,
) -> Result<ResourceServerType> {
    let scopes = scopes.unwrap_or_default();
    let mut seen = HashSet::new();
    if let Some(dup) = scopes.iter().find(|s| !seen.insert(s.scope_name.as_str())) {
        return Err(CoreError::InvalidParameter(format!(
            "Scope {} is given more than once.",
            dup.scope_name
        )));
    }
    Ok(ResourceServerType {
        user_pool_id: Some(pool_id.to_string()),
        identifier: Some(identifier.to_string()),
        name: Some(name.to_string()),
        scopes: (!scopes.is_empty()).then_some(scopes),
        managed_by: None,
    })
}

impl Core {
    pub async fn create_resource_server(
        &self,
        req: CreateResourceServerRequest,
    ) -> Result<CreateResourceServerResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let server = resource_server(&pool.id, &req.identifier, &req.name, req.scopes)?;
        match self.pools().insert_resource_server(&server).await {
            Err(StoreError::Conflict) => {
                return Err(CoreError::InvalidParameter(format!(
                    "{} already exists in user pool {}.",
                    req.identifier, pool.id
                )))
            }
            other => other?,
        }
        Ok(CreateResourceServerResponse {
            resource_server: server,
        })
    }

    pub async fn describe_resource_server(
        &self,
        req: DescribeResourceServerRequest,
    ) -> Result<DescribeResourceServerResponse> {
        self.pool(&req.user_pool_id).await?;
        let server = self
            .pools()
            .resource_server(&req.user_pool_id, &req.identifier)
            .await?
            .ok_or_else(|| not_found(&req.identifier))?;
        Ok(DescribeResourceServerResponse {
            resource_server: server,
        })
    }

    /// Replaces the name and the scopes: scopes not given are gone (as in Cognito). App clients
    /// keep naming a removed scope; it is simply not granted.
    pub async fn update_resource_server(
        &self,
        req: UpdateResourceServerRequest,
    ) -> Result<UpdateResourceServerResponse> {
        self.pool(&req.user_pool_id).await?;
        let server = resource_server(&req.user_pool_id, &req.identifier, &req.name, req.scopes)?;
        if !self.pools().update_resource_server(&server).await? {
            return Err(not_found(&req.identifier));
        }
        Ok(UpdateResourceServerResponse {
            resource_server: server,
        })
    }

    pub async fn delete_resource_server(&self, req: DeleteResourceServerRequest) -> Result<()> {
        self.pool(&req.user_pool_id).await?;
        if !self
            .pools()
            .delete_resource_server(&req.user_pool_id, &req.identifier)
            .await?
        {
            return Err(not_found(&req.identifier));
        }
        Ok(())
    }

    pub async fn list_resource_servers(
        &self,
        req: ListResourceServersRequest,
    ) -> Result<ListResourceServersResponse> {
        self.pool(&req.user_pool_id).await?;
        let after = pagination::decode(req.next_token.as_deref())?;
        let limit = page(req.max_results);
        let mut rows = self
            .pools()
            .list_resource_servers(&req.user_pool_id, after.as_deref(), limit + 1)
            .await?;
        let next_token = pagination::next_token(&mut rows, limit, |s| {
            s.identifier.as_deref().unwrap_or_default()
        });
        Ok(ListResourceServersResponse {
            resource_servers: rows,
            next_token,
        })
    }

    /// Every scope of the pool's resource servers, as `identifier/name`: what app clients may
    /// name, and what a token may still carry (a deleted scope drops out of tokens at once).
    pub(crate) async fn custom_scopes(&self, pool_id: &str) -> Result<HashSet<String>> {
        let mut scopes = HashSet::new();
        let mut after: Option<String> = None;
        loop {
            let rows = self
                .pools()
                .list_resource_servers(pool_id, after.as_deref(), 100)
                .await?;
            let full = rows.len() == 100;
            for server in &rows {
                let id = server.identifier.as_deref().unwrap_or_default();
                for scope in server.scopes.iter().flatten() {
                    scopes.insert(format!("{id}/{}", scope.scope_name));
                }
            }
            match rows.last() {
                Some(last) if full => after = last.identifier.clone(),
                _ => return Ok(scopes),
            }
        }
    }
}
