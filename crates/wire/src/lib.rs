//! The wire layer: request/response shapes of every cognito-idp operation, the AWS error
//! envelope, and input validation from the model's constraints. No I/O, no business rules.
//!
//! `generated.rs` comes from `model/cognito-idp-2016-04-18.shapes.json`; regenerate it with
//! `cargo run -p gatehouse-codegen`.

mod error;
mod generated;
mod serde_util;
pub mod validate;

pub use error::ApiError;
pub use generated::*;

/// What the HTTP layer knows about a request that some operations need (device records keep the
/// client's address, device names fall back to the User-Agent).
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    /// The client's address (after trusted-proxy resolution).
    pub source_ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
    /// Who signed an admin call and what that credential may do; `None` for public operations
    /// and in development mode.
    pub admin: Option<AdminScope>,
}

/// The reach of an admin credential.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminScope {
    pub access_key_id: String,
    /// The pools it may act on; `None` for all.
    pub pools: Option<Vec<String>>,
    /// Describe/Get/List operations only.
    pub read_only: bool,
}

/// The prefix of `X-Amz-Target` for this service.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
