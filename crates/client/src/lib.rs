//! Client side of Cognito SRP sign-in for Rust applications, tests and load generators —
//! against Gatehouse or Amazon Cognito — on top of the official
//! [`aws_sdk_cognitoidentityprovider::Client`].
//!
//! [`SrpSignIn`] runs `USER_SRP_AUTH` exactly as Amplify / amazon-cognito-identity-js do
//! (docs/protocol.md §8–10): `InitiateAuth` with `SRP_A` (and `SECRET_HASH` over the
//! typed username for clients with a secret), then `RespondToAuthChallenge`
//! `PASSWORD_VERIFIER` with `USERNAME = USER_ID_FOR_SRP`, the secret block, a `TIMESTAMP` from
//! the system clock and the claim signature; then, when the server asks for it and a device
//! is configured, `DEVICE_SRP_AUTH` → `DEVICE_PASSWORD_VERIFIER`. Any other challenge
//! (`NEW_PASSWORD_REQUIRED`, MFA, …) comes back as a [`Challenge`] to answer with
//! [`SrpSignIn::respond`]. The maths is [`gatehouse_srp`]'s (re-exported as
//! [`srp`]).
//!
//! The caller builds the SDK client with its own endpoint; `InitiateAuth` and
//! `RespondToAuthChallenge` are unsigned, so no credentials are needed.
//!
//! ```no_run
//! use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Region};
//! use aws_sdk_cognitoidentityprovider::types::ChallengeNameType;
//! use gatehouse_client::{SignInOutcome, SrpSignIn};
//!
//! # async fn run() -> Result<(), gatehouse_client::Error> {
//! let conf = aws_sdk_cognitoidentityprovider::Config::builder()
//!     .behavior_version(BehaviorVersion::latest())
//!     .region(Region::new("us-east-1"))
//!     .endpoint_url("http://127.0.0.1:9229")
//!     .build();
//! let sdk = aws_sdk_cognitoidentityprovider::Client::from_conf(conf);
//!
//! let sign_in = SrpSignIn::new("us-east-1_AbCdEfGhI", "5q2dlm8ce1example")?;
//! let tokens = match sign_in.sign_in(&sdk, "alice", "Passw0rd!x").await {
//!     Ok(SignInOutcome::Tokens(tokens)) => tokens,
//!     Ok(SignInOutcome::Challenge(ch)) if ch.name == ChallengeNameType::NewPasswordRequired => {
//!         let next = sign_in.respond(&sdk, &ch, [("NEW_PASSWORD", "N3w-Passw0rd!")]).await?;
//!         next.into_tokens().expect("no further challenge in this pool")
//!     }
//!     Ok(SignInOutcome::Challenge(ch)) => panic!("unhandled challenge {}", ch.name),
//!     Err(e) if e.is_not_authorized() => panic!("refused: {}", e.message().unwrap_or("")),
//!     Err(e) => return Err(e),
//! };
//! println!("access token: {}", tokens.access_token().unwrap_or_default());
//! # Ok(())
//! # }
//! ```
//!
//! With a client secret: `SrpSignIn::new(..)?.client_secret(secret)`. With a remembered
//! device: `.device(device_key, device_group_key, device_password)`.
//!
//! For load generators and tests, [`CachedUser`] with [`SrpSignIn::sign_in_cached`] keeps the
//! client's share of the work per sign-in to one exponentiation; the crate's
//! `gatehouse-loadgen` binary (feature `loadgen`, on by default) uses it.

mod error;
mod signin;

#[cfg(test)]
#[path = "error_tests.rs"]
mod error_tests;

pub use error::Error;
pub use gatehouse_srp as srp;
pub use signin::{CachedUser, Challenge, SignInOutcome, SrpSignIn};
