//! `Error` keeps the SDK's service error reachable and says what happened.

use aws_sdk_cognitoidentityprovider::config::http::HttpResponse;
use aws_sdk_cognitoidentityprovider::error::{ErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError;
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError;
use aws_sdk_cognitoidentityprovider::types::error::{
    NotAuthorizedException, UserNotFoundException,
};
use aws_smithy_types::body::SdkBody;

use crate::srp::SrpError;
use crate::Error;

fn response() -> HttpResponse {
    HttpResponse::new(400.try_into().unwrap(), SdkBody::empty())
}

fn meta(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

#[test]
fn service_errors_keep_code_message_and_type() {
    let na = NotAuthorizedException::builder()
        .message("Incorrect username or password.")
        .meta(meta(
            "NotAuthorizedException",
            "Incorrect username or password.",
        ))
        .build();
    let e: Error = SdkError::service_error(
        RespondToAuthChallengeError::NotAuthorizedException(na),
        response(),
    )
    .into();
    assert_eq!(e.code(), Some("NotAuthorizedException"));
    assert_eq!(e.message(), Some("Incorrect username or password."));
    assert!(e.is_not_authorized());
    assert_eq!(
        e.to_string(),
        "RespondToAuthChallenge: NotAuthorizedException: Incorrect username or password."
    );
    match &e {
        Error::RespondToAuthChallenge(sdk) => assert!(matches!(
            sdk.as_service_error(),
            Some(RespondToAuthChallengeError::NotAuthorizedException(_))
        )),
        other => panic!("{other:?}"),
    }
    assert!(std::error::Error::source(&e).is_some());

    let unf = UserNotFoundException::builder()
        .message("User does not exist.")
        .meta(meta("UserNotFoundException", "User does not exist."))
        .build();
    let e: Error =
        SdkError::service_error(InitiateAuthError::UserNotFoundException(unf), response()).into();
    assert_eq!(e.code(), Some("UserNotFoundException"));
    assert!(!e.is_not_authorized());
    assert!(e
        .to_string()
        .starts_with("InitiateAuth: UserNotFoundException"));
}

#[test]
fn local_errors_have_no_service_code() {
    let e = Error::from(SrpError::PublicValueZero);
    assert_eq!(e.code(), None);
    assert!(!e.is_not_authorized());
    assert_eq!(e.to_string(), "SRP: SRP public value is 0 mod N");
    let e = Error::MissingParameter {
        challenge: "PASSWORD_VERIFIER".into(),
        parameter: "SRP_B",
    };
    assert_eq!(
        e.to_string(),
        "challenge PASSWORD_VERIFIER lacks parameter SRP_B"
    );
    assert!(Error::InvalidPoolId("x".into())
        .to_string()
        .contains("<region>_<name>"));
}
