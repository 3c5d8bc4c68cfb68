//! The persistence boundary. Core states what it needs; `gatehouse-store` implements it for
//! SQLite (and later PostgreSQL). Records carry a `version` so that concurrent writers — other
//! requests, other server processes — never silently overwrite each other.

use async_trait::async_trait;
use gatehouse_wire::{UserPoolClientType, UserPoolType};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A record with the same key exists.
    #[error("duplicate key")]
    Conflict,
    #[error("{0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A user pool as stored: its full description (the `UserPoolType` shape, without computed
/// counters) and the version used for compare-and-swap updates.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPoolRecord {
    pub id: String,
    pub version: i64,
    pub pool: UserPoolType,
}

/// An app client as stored, secret included (Cognito shows it on DescribeUserPoolClient).
#[derive(Debug, Clone, PartialEq)]
pub struct AppClientRecord {
    pub pool_id: String,
    pub client_id: String,
    pub version: i64,
    pub client: UserPoolClientType,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    async fn insert_user_pool(&self, pool: &UserPoolRecord) -> StoreResult<()>;
    async fn user_pool(&self, id: &str) -> StoreResult<Option<UserPoolRecord>>;
    /// Writes `pool` if the stored version is still `pool.version - 1`; false otherwise.
    async fn update_user_pool(&self, pool: &UserPoolRecord) -> StoreResult<bool>;
    /// Deletes the pool and everything in it; false if it did not exist.
    async fn delete_user_pool(&self, id: &str) -> StoreResult<bool>;
    /// Pools ordered by id, starting after `after`.
    async fn list_user_pools(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserPoolRecord>>;
    /// Users in the pool (Cognito's EstimatedNumberOfUsers).
    async fn count_users(&self, pool_id: &str) -> StoreResult<i64>;

    async fn insert_app_client(&self, client: &AppClientRecord) -> StoreResult<()>;
    /// Looks a client up by id alone: sign-in requests name only the client.
    async fn app_client(&self, client_id: &str) -> StoreResult<Option<AppClientRecord>>;
    /// Compare-and-swap on `version`, as for pools.
    async fn update_app_client(&self, client: &AppClientRecord) -> StoreResult<bool>;
    async fn delete_app_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;
    /// Clients of one pool ordered by id, starting after `after`.
    async fn list_app_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<AppClientRecord>>;

    /// Removes all state (development mode's reset endpoint).
    async fn reset(&self) -> StoreResult<()>;
}
