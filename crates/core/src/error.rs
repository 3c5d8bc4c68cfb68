//! The domain's one error type: its variants are Cognito's exceptions. Mapped to the wire once,
//! here.

use gatehouse_wire::ApiError;

use crate::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    ConcurrentModification(String),
    #[error("{0}")]
    InvalidOAuthFlow(String),
    #[error("{0}")]
    ScopeDoesNotExist(String),
    #[error("{0}")]
    UserPoolTagging(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("{0}")]
    UsernameExists(String),
    #[error("{0}")]
    UserNotFound(String),
    #[error("{0}")]
    CodeMismatch(String),
    #[error("{0}")]
    ExpiredCode(String),
    #[error("{0}")]
    AliasExists(String),
    #[error("{0}")]
    GroupExists(String),
    #[error("{0}")]
    UnsupportedUserState(String),
    #[error("{0}")]
    PasswordHistoryPolicyViolation(String),
    #[error("{0}")]
    UserNotConfirmed(String),
    #[error("{0}")]
    PasswordResetRequired(String),
    #[error("{0}")]
    UnsupportedTokenType(String),
    #[error("{0}")]
    UnsupportedOperation(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    RefreshTokenReuse(String),
    #[error("{0}")]
    InvalidUserPoolConfiguration(String),
    #[error("{0}")]
    DeviceKeyExists(String),
    #[error("{0}")]
    SoftwareTokenMfaNotFound(String),
    #[error("{0}")]
    EnableSoftwareTokenMfa(String),
    #[error("{0}")]
    UserPoolAddOnNotEnabled(String),
    /// A Lambda trigger ran and raised (triggers/mod.rs).
    #[error("{0}")]
    UserLambdaValidation(String),
    /// A Lambda trigger could not be run.
    #[error("{0}")]
    UnexpectedLambda(String),
    /// A Lambda trigger answered something Cognito cannot read.
    #[error("{0}")]
    InvalidLambdaResponse(String),
    #[error("{0}")]
    PreconditionNotMet(String),
    #[error("{0}")]
    DuplicateProvider(String),
    #[error("{0}")]
    TermsExists(String),
    #[error("{0}")]
    ManagedLoginBrandingExists(String),
    #[error("{0}")]
    ServiceQuotaExceeded(String),
    #[error("{0}")]
    OperationNotEnabled(String),
    #[error("{0}")]
    FeatureUnavailableInTier(String),
    #[error("{0}")]
    UserImportInProgress(String),
    /// A passkey refusal: which of Cognito's WebAuthn exceptions, and its message.
    #[error("{1}")]
    WebAuthn(WebAuthnRefusal, String),
    /// A server fault other than storage (a key that cannot be opened ...): logged, answered
    /// as InternalErrorException.
    #[error("internal error: {0}")]
    Internal(String),
    /// A storage failure: logged with its cause, answered as InternalErrorException.
    #[error("store failure: {0}")]
    Store(#[from] StoreError),
}

/// Cognito's passkey exceptions (passkeys.rs says when each is raised).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebAuthnRefusal {
    NotEnabled,
    ConfigurationMissing,
    ChallengeNotFound,
    ClientMismatch,
    OriginNotAllowed,
    RelyingPartyMismatch,
    CredentialNotSupported,
}

impl WebAuthnRefusal {
    fn exception(self) -> &'static str {
        match self {
            WebAuthnRefusal::NotEnabled => "WebAuthnNotEnabledException",
            WebAuthnRefusal::ConfigurationMissing => "WebAuthnConfigurationMissingException",
            WebAuthnRefusal::ChallengeNotFound => "WebAuthnChallengeNotFoundException",
            WebAuthnRefusal::ClientMismatch => "WebAuthnClientMismatchException",
            WebAuthnRefusal::OriginNotAllowed => "WebAuthnOriginNotAllowedException",
            WebAuthnRefusal::RelyingPartyMismatch => "WebAuthnRelyingPartyMismatchException",
            WebAuthnRefusal::CredentialNotSupported => "WebAuthnCredentialNotSupportedException",
        }
    }
}

impl CoreError {
    pub fn exception(&self) -> &'static str {
        match self {
            CoreError::InvalidParameter(_) => "InvalidParameterException",
            CoreError::ResourceNotFound(_) => "ResourceNotFoundException",
            CoreError::NotAuthorized(_) => "NotAuthorizedException",
            CoreError::LimitExceeded(_) => "LimitExceededException",
            CoreError::ConcurrentModification(_) => "ConcurrentModificationException",
            CoreError::InvalidOAuthFlow(_) => "InvalidOAuthFlowException",
            CoreError::ScopeDoesNotExist(_) => "ScopeDoesNotExistException",
            CoreError::UserPoolTagging(_) => "UserPoolTaggingException",
            CoreError::InvalidPassword(_) => "InvalidPasswordException",
            CoreError::UsernameExists(_) => "UsernameExistsException",
            CoreError::UserNotFound(_) => "UserNotFoundException",
            CoreError::CodeMismatch(_) => "CodeMismatchException",
            CoreError::ExpiredCode(_) => "ExpiredCodeException",
            CoreError::AliasExists(_) => "AliasExistsException",
            CoreError::GroupExists(_) => "GroupExistsException",
            CoreError::UnsupportedUserState(_) => "UnsupportedUserStateException",
            CoreError::PasswordHistoryPolicyViolation(_) => {
                "PasswordHistoryPolicyViolationException"
            }
            CoreError::UserNotConfirmed(_) => "UserNotConfirmedException",
            CoreError::PasswordResetRequired(_) => "PasswordResetRequiredException",
            CoreError::UnsupportedTokenType(_) => "UnsupportedTokenTypeException",
            CoreError::UnsupportedOperation(_) => "UnsupportedOperationException",
            CoreError::Unauthorized(_) => "UnauthorizedException",
            CoreError::RefreshTokenReuse(_) => "RefreshTokenReuseException",
            CoreError::InvalidUserPoolConfiguration(_) => "InvalidUserPoolConfigurationException",
            CoreError::DeviceKeyExists(_) => "DeviceKeyExistsException",
            CoreError::SoftwareTokenMfaNotFound(_) => "SoftwareTokenMFANotFoundException",
            CoreError::EnableSoftwareTokenMfa(_) => "EnableSoftwareTokenMFAException",
            CoreError::UserPoolAddOnNotEnabled(_) => "UserPoolAddOnNotEnabledException",
            CoreError::UserLambdaValidation(_) => "UserLambdaValidationException",
            CoreError::UnexpectedLambda(_) => "UnexpectedLambdaException",
            CoreError::InvalidLambdaResponse(_) => "InvalidLambdaResponseException",
            CoreError::PreconditionNotMet(_) => "PreconditionNotMetException",
            CoreError::DuplicateProvider(_) => "DuplicateProviderException",
            CoreError::TermsExists(_) => "TermsExistsException",
            CoreError::ManagedLoginBrandingExists(_) => "ManagedLoginBrandingExistsException",
            CoreError::ServiceQuotaExceeded(_) => "ServiceQuotaExceededException",
            CoreError::OperationNotEnabled(_) => "OperationNotEnabledException",
            CoreError::FeatureUnavailableInTier(_) => "FeatureUnavailableInTierException",
            CoreError::UserImportInProgress(_) => "UserImportInProgressException",
            CoreError::WebAuthn(kind, _) => kind.exception(),
            CoreError::Store(_) | CoreError::Internal(_) => "InternalErrorException",
        }
    }

    pub(crate) fn pool_not_found(pool_id: &str) -> Self {
        CoreError::ResourceNotFound(format!("User pool {pool_id} does not exist."))
    }

    pub(crate) fn user_not_found() -> Self {
        CoreError::UserNotFound("User does not exist.".into())
    }

    pub(crate) fn client_not_found(client_id: &str) -> Self {
        CoreError::ResourceNotFound(format!("User pool client {client_id} does not exist."))
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Store(cause) => {
                // The user sees a generic message; the cause goes to the log only.
                tracing::error!(%cause, "store failure");
                ApiError::internal()
            }
            CoreError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::internal()
            }
            other => ApiError::new(other.exception(), other.to_string()),
        }
    }
}
