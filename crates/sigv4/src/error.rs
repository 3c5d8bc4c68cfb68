//! Refusals, named and worded as AWS answers them on the cognito-idp endpoint.

use std::fmt;

/// Which AWS exception a refusal is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No `Authorization` header and no `X-Amz-Algorithm` query parameter.
    MissingAuthenticationToken,
    /// The signature is malformed or lacks a part (credential, signed headers, date, ...).
    IncompleteSignature,
    /// Unknown access key id, or a session token that does not belong to it.
    UnrecognizedClient,
    /// Well-formed but wrong: bad signature, stale date, wrong credential scope, unsigned `host`.
    InvalidSignature,
}

impl ErrorKind {
    /// The `__type` AWS puts in the JSON error body (and `x-amzn-ErrorType`).
    pub fn exception_name(self) -> &'static str {
        match self {
            Self::MissingAuthenticationToken => "MissingAuthenticationTokenException",
            Self::IncompleteSignature => "IncompleteSignatureException",
            Self::UnrecognizedClient => "UnrecognizedClientException",
            Self::InvalidSignature => "InvalidSignatureException",
        }
    }

    /// HTTP status. AWS JSON 1.1 services (cognito-idp, Kinesis, ...) answer every
    /// authentication refusal with 400 Bad Request, not 403.
    pub fn status_code(self) -> u16 {
        400
    }
}

/// A refused request: the exception, its HTTP status and AWS's message text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigV4Error {
    kind: ErrorKind,
    message: String,
}

impl SigV4Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    pub(crate) fn missing_token() -> Self {
        Self::new(
            ErrorKind::MissingAuthenticationToken,
            "Missing Authentication Token",
        )
    }

    pub(crate) fn incomplete(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::IncompleteSignature, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidSignature, message)
    }

    pub(crate) fn unrecognized_client() -> Self {
        Self::new(
            ErrorKind::UnrecognizedClient,
            "The security token included in the request is invalid.",
        )
    }

    pub(crate) fn signature_mismatch() -> Self {
        Self::invalid(
            "The request signature we calculated does not match the signature you provided. \
             Check your AWS Secret Access Key and signing method. \
             Consult the service documentation for details.",
        )
    }

    /// Which exception this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// `MissingAuthenticationTokenException`, `IncompleteSignatureException`, ...
    pub fn exception_name(&self) -> &'static str {
        self.kind.exception_name()
    }

    /// The HTTP status AWS uses for this exception.
    pub fn status_code(&self) -> u16 {
        self.kind.status_code()
    }

    /// The `message` AWS sends. It may quote the client's own `Authorization` header or
    /// credential scope back, as AWS does, but never a secret.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SigV4Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.exception_name(), self.message)
    }
}

impl std::error::Error for SigV4Error {}
