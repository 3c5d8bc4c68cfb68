//! The persistence boundary. Core states what it needs; `gatehouse-store` implements it for
//! SQLite (and later PostgreSQL). Records carry a `version` so that concurrent writers — other
//! requests, other server processes — never silently overwrite each other.

use std::collections::BTreeMap;

use async_trait::async_trait;
use gatehouse_wire::{GroupType, UserPoolClientType, UserPoolType, UserStatusType};
use serde::{Deserialize, Serialize};

use crate::messages::OutgoingMessage;

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

/// A password as SRP needs it: salt and verifier for the user's canonical username and pool.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordRecord {
    /// `hex(enc(salt))`, the SALT clients receive.
    pub salt: String,
    /// `enc(v)` in base64; password-equivalent, never logged.
    pub verifier: String,
}

impl std::fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordRecord(<redacted>)")
    }
}

/// A user as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub pool_id: String,
    /// The canonical username, as created; immutable (SRP verifiers depend on it).
    pub username: String,
    /// The lookup key: `username`, lower-cased in case-insensitive pools.
    pub username_key: String,
    pub sub: String,
    pub status: UserStatusType,
    pub enabled: bool,
    /// Every attribute, `sub` included.
    pub attributes: BTreeMap<String, String>,
    pub password: Option<PasswordRecord>,
    /// Earlier passwords, newest first, as many as the pool's PasswordHistorySize needs.
    pub password_history: Vec<PasswordRecord>,
    /// When a temporary password stops working (epoch ms).
    pub temporary_password_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub version: i64,
}

/// A ListUsers filter: `attribute = "value"` or `attribute ^= "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    /// One of: username, email, phone_number, name, given_name, family_name,
    /// preferred_username, cognito:user_status, status, sub.
    pub attribute: String,
    pub prefix: bool,
    pub value: String,
}

/// A one-time code (confirmation, verification, password reset), kept only as a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeRecord {
    pub pool_id: String,
    pub username_key: String,
    pub purpose: String,
    /// SHA-256 of the code, hex.
    pub code_hash: String,
    /// The attribute the code verifies, if any (`email`, `phone_number`).
    pub attribute: Option<String>,
    pub expires_at: i64,
    pub failed_attempts: u32,
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

    /// Inserts a user; `Conflict` when the username key or the sub is taken.
    async fn insert_user(&self, user: &UserRecord) -> StoreResult<()>;
    async fn user(&self, pool_id: &str, username_key: &str) -> StoreResult<Option<UserRecord>>;
    async fn user_by_sub(&self, pool_id: &str, sub: &str) -> StoreResult<Option<UserRecord>>;
    /// Users whose `attribute` (email, phone_number or preferred_username) equals `value`.
    /// Emails and preferred usernames are indexed lower-cased: pass `value` lower-cased too.
    async fn users_by_attribute(
        &self,
        pool_id: &str,
        attribute: &str,
        value: &str,
    ) -> StoreResult<Vec<UserRecord>>;
    /// Compare-and-swap on `version`, as for pools.
    async fn update_user(&self, user: &UserRecord) -> StoreResult<bool>;
    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool>;
    /// Users ordered by username key, starting after `after`.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;

    /// Replaces the user's code for the same purpose.
    async fn put_code(&self, code: &CodeRecord) -> StoreResult<()>;
    async fn code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<Option<CodeRecord>>;
    async fn delete_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> StoreResult<()>;

    /// Appends to the outbox.
    async fn push_message(&self, message: &OutgoingMessage) -> StoreResult<()>;
    /// Outbox messages, oldest first, optionally of one pool and one canonical username.
    async fn messages(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<OutgoingMessage>>;

    /// Inserts a group; `Conflict` when the name is taken in the pool.
    async fn insert_group(&self, group: &GroupType) -> StoreResult<()>;
    async fn group(&self, pool_id: &str, name: &str) -> StoreResult<Option<GroupType>>;
    async fn update_group(&self, group: &GroupType) -> StoreResult<bool>;
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool>;
    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupType>>;
    /// Idempotent.
    async fn add_member(&self, pool_id: &str, group: &str, username_key: &str) -> StoreResult<()>;
    async fn remove_member(
        &self,
        pool_id: &str,
        group: &str,
        username_key: &str,
    ) -> StoreResult<()>;
    /// Groups of a user ordered by name.
    async fn groups_of_user(
        &self,
        pool_id: &str,
        username_key: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<GroupType>>;
    /// Members of a group ordered by username key.
    async fn members(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<UserRecord>>;

    /// Removes all state (development mode's reset endpoint).
    async fn reset(&self) -> StoreResult<()>;
}
