//! What can go wrong during a sign-in.

use std::fmt;

use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError;
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError;
use gatehouse_srp::SrpError;

/// A failed sign-in step.
///
/// Service answers (wrong password, unknown user, lockout …) arrive as
/// [`Error::InitiateAuth`] or [`Error::RespondToAuthChallenge`] with the SDK's typed error
/// inside, so callers can match on it, or use [`Error::code`] / [`Error::is_not_authorized`]:
///
/// ```
/// # fn f(e: gatehouse_client::Error) {
/// use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError;
/// match &e {
///     gatehouse_client::Error::RespondToAuthChallenge(sdk) => match sdk.as_service_error() {
///         Some(RespondToAuthChallengeError::NotAuthorizedException(na)) => {
///             eprintln!("refused: {}", na.message().unwrap_or_default())
///         }
///         _ => eprintln!("{e}"),
///     },
///     _ if e.is_not_authorized() => eprintln!("refused at InitiateAuth"),
///     _ => eprintln!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The `InitiateAuth` call failed: a service error such as `NotAuthorizedException` or
    /// `UserNotFoundException`, or a transport/dispatch failure.
    InitiateAuth(Box<SdkError<InitiateAuthError>>),
    /// A `RespondToAuthChallenge` call failed (PASSWORD_VERIFIER, DEVICE_SRP_AUTH,
    /// DEVICE_PASSWORD_VERIFIER or an answer passed to [`crate::SrpSignIn::respond`]).
    RespondToAuthChallenge(Box<SdkError<RespondToAuthChallengeError>>),
    /// The server's challenge parameters did not make a valid SRP exchange (bad hex or base64
    /// in `SRP_B`/`SALT`/`SECRET_BLOCK`, `B ≡ 0 mod N`, `u = 0`).
    Srp(SrpError),
    /// A challenge lacked a parameter this client needs.
    MissingParameter {
        /// The challenge name, e.g. `PASSWORD_VERIFIER`.
        challenge: String,
        /// The missing key, e.g. `SRP_B`.
        parameter: &'static str,
    },
    /// The server answered with neither tokens nor a challenge.
    EmptyResponse,
    /// The pool id is not `<region>_<name>`: the pool name after the `_` is part of the SRP
    /// maths.
    InvalidPoolId(String),
    /// The operating system's random number generator failed.
    Random(getrandom::Error),
}

impl Error {
    pub(crate) fn initiate(e: SdkError<InitiateAuthError>) -> Self {
        Error::InitiateAuth(Box::new(e))
    }

    pub(crate) fn respond(e: SdkError<RespondToAuthChallengeError>) -> Self {
        Error::RespondToAuthChallenge(Box::new(e))
    }

    /// The service's error code, e.g. `"NotAuthorizedException"`, when the server answered
    /// with an error; `None` for transport failures and local errors.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::InitiateAuth(e) => e.code(),
            Error::RespondToAuthChallenge(e) => e.code(),
            _ => None,
        }
    }

    /// The service's error message, e.g. `"Incorrect username or password."`.
    pub fn message(&self) -> Option<&str> {
        match self {
            Error::InitiateAuth(e) => e.message(),
            Error::RespondToAuthChallenge(e) => e.message(),
            _ => None,
        }
    }

    /// `NotAuthorizedException` from either call: wrong password, disabled user, lockout,
    /// flow not enabled, bad SECRET_HASH, …
    pub fn is_not_authorized(&self) -> bool {
        self.code() == Some("NotAuthorizedException")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn sdk<E>(f: &mut fmt::Formatter<'_>, op: &str, e: &SdkError<E>) -> fmt::Result
        where
            E: ProvideErrorMetadata + std::error::Error + 'static,
        {
            match e.code() {
                Some(code) => write!(f, "{op}: {code}: {}", e.message().unwrap_or("")),
                None => write!(f, "{op}: {}", DisplayErrorContext(e)),
            }
        }
        match self {
            Error::InitiateAuth(e) => sdk(f, "InitiateAuth", e),
            Error::RespondToAuthChallenge(e) => sdk(f, "RespondToAuthChallenge", e),
            Error::Srp(e) => write!(f, "SRP: {e}"),
            Error::MissingParameter {
                challenge,
                parameter,
            } => write!(f, "challenge {challenge} lacks parameter {parameter}"),
            Error::EmptyResponse => f.write_str("the server sent neither tokens nor a challenge"),
            Error::InvalidPoolId(id) => {
                write!(f, "pool id {id:?} is not of the form <region>_<name>")
            }
            Error::Random(e) => write!(f, "random number generator: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::InitiateAuth(e) => Some(e.as_ref()),
            Error::RespondToAuthChallenge(e) => Some(e.as_ref()),
            Error::Srp(e) => Some(e),
            Error::Random(e) => Some(e),
            _ => None,
        }
    }
}

impl From<SrpError> for Error {
    fn from(e: SrpError) -> Self {
        Error::Srp(e)
    }
}

impl From<SdkError<InitiateAuthError>> for Error {
    fn from(e: SdkError<InitiateAuthError>) -> Self {
        Error::initiate(e)
    }
}

impl From<SdkError<RespondToAuthChallengeError>> for Error {
    fn from(e: SdkError<RespondToAuthChallengeError>) -> Self {
        Error::respond(e)
    }
}
