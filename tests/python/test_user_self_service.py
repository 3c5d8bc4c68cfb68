"""What a signed-in user does with an access token: GetUser, UpdateUserAttributes (email change
verified with the code from the outbox), DeleteUserAttributes, DeleteUser, ChangePassword,
GetUserAttributeVerificationCode / VerifyUserAttribute, SetUserSettings; and ending sessions:
GlobalSignOut, AdminUserGlobalSignOut, RevokeToken."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from support import (
    NEW_PASSWORD, PASSWORD, aws_error, new_app_client, new_confirmed_user, outbox_messages, password_sign_in, refresh,
    sign_in_tokens, strip_meta, user_attributes,
)

INCORRECT = "Incorrect username or password."
WRONG_CODE = "Invalid verification code provided, please try again."
ACCESS_REVOKED = "Access Token has been revoked"
REFRESH_REVOKED = "Refresh Token has been revoked"


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(PoolName="self-service", AutoVerifiedAttributes=["email"],
                                    Schema=[{"Name": "tenant", "AttributeDataType": "String"}])["UserPool"]["Id"]


@pytest.fixture
def alice_attributes():
    return {"email": "alice@example.com", "email_verified": "true", "custom_tenant": "acme"}


@pytest.fixture
def tokens(cognito, client_id, alice):
    return sign_in_tokens(cognito, client_id)


def attributes(cognito, pool, username="alice") -> dict[str, str]:
    return user_attributes(cognito.admin_get_user(UserPoolId=pool, Username=username))


def verify_codes(server, pool, username="alice") -> list[dict]:
    return outbox_messages(server, pool, "VERIFY_ATTRIBUTE", username)


# --- GetUser -------------------------------------------------------------------------------------

def test_get_user(cognito, pool, alice, tokens):
    answer = strip_meta(cognito.get_user(AccessToken=tokens["AccessToken"]))
    assert answer["Username"] == "alice"
    attrs = user_attributes(answer)
    assert attrs == {"sub": user_attributes(alice)["sub"], "email": "alice@example.com", "email_verified": "true",
                     "custom:tenant": "acme"}


def test_get_user_follows_admin_changes(cognito, pool, tokens):
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "given_name", "Value": "Alice"}])
    assert user_attributes(cognito.get_user(AccessToken=tokens["AccessToken"]))["given_name"] == "Alice"


# --- UpdateUserAttributes / VerifyUserAttribute -------------------------------------------------

def test_update_attribute_without_verification(cognito, server, pool, tokens):
    answer = strip_meta(cognito.update_user_attributes(
        AccessToken=tokens["AccessToken"], UserAttributes=[{"Name": "given_name", "Value": "Alice"},
                                                           {"Name": "custom:tenant", "Value": "globex"}]))
    assert answer.get("CodeDeliveryDetailsList", []) == []
    attrs = attributes(cognito, pool)
    assert attrs["given_name"] == "Alice" and attrs["custom:tenant"] == "globex"
    assert verify_codes(server, pool) == []


def test_update_email_sends_a_code_then_verify(cognito, server, pool, tokens):
    answer = cognito.update_user_attributes(AccessToken=tokens["AccessToken"],
                                            UserAttributes=[{"Name": "email", "Value": "alice@new.example.com"}])
    [details] = answer["CodeDeliveryDetailsList"]
    assert details["DeliveryMedium"] == "EMAIL" and details["AttributeName"] == "email"
    assert details["Destination"].startswith("a***@") and "new.example.com" not in details["Destination"]
    attrs = attributes(cognito, pool)
    assert attrs["email"] == "alice@new.example.com"
    assert attrs["email_verified"] == "false"
    [message] = verify_codes(server, pool)
    assert message["Destination"] == "alice@new.example.com" and message["Medium"] == "EMAIL"

    wrong = "000000" if message["Code"] != "000000" else "111111"
    with aws_error("CodeMismatchException", WRONG_CODE):
        cognito.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email", Code=wrong)
    assert attributes(cognito, pool)["email_verified"] == "false"
    assert strip_meta(cognito.verify_user_attribute(AccessToken=tokens["AccessToken"], AttributeName="email",
                                                    Code=message["Code"])) == {}
    assert attributes(cognito, pool)["email_verified"] == "true"


def test_update_unknown_attribute(cognito, pool, tokens):
    with aws_error("InvalidParameterException", "custom:nope"):
        cognito.update_user_attributes(AccessToken=tokens["AccessToken"],
                                       UserAttributes=[{"Name": "custom:nope", "Value": "x"}])
    assert "custom:nope" not in attributes(cognito, pool)


def test_update_respects_write_attributes(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, name="narrow", WriteAttributes=["given_name"])
    access = sign_in_tokens(cognito, client_id)["AccessToken"]
    with aws_error("NotAuthorizedException"):
        cognito.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "custom:tenant", "Value": "x"}])
    cognito.update_user_attributes(AccessToken=access, UserAttributes=[{"Name": "given_name", "Value": "Al"}])
    attrs = attributes(cognito, pool)
    assert attrs["custom:tenant"] == "acme" and attrs["given_name"] == "Al"


def test_get_user_attribute_verification_code(cognito, server, pool, client_id):
    new_confirmed_user(cognito, pool, "bob", PASSWORD, email="bob@example.com")
    access = sign_in_tokens(cognito, client_id, "bob")["AccessToken"]
    details = cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")[
        "CodeDeliveryDetails"]
    assert details["DeliveryMedium"] == "EMAIL" and details["AttributeName"] == "email"
    assert details["Destination"] == "b***@e***"
    [message] = verify_codes(server, pool, "bob")
    assert message["Destination"] == "bob@example.com"
    cognito.verify_user_attribute(AccessToken=access, AttributeName="email", Code=message["Code"])
    assert attributes(cognito, pool, "bob")["email_verified"] == "true"


def test_verification_code_is_for_the_attribute_it_was_sent_for(cognito, server, pool, client_id):
    new_confirmed_user(cognito, pool, "bob", PASSWORD, email="bob@example.com")
    access = sign_in_tokens(cognito, client_id, "bob")["AccessToken"]
    cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    # A newer code replaces the older one.
    cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName="email")
    first, second = verify_codes(server, pool, "bob")
    if first["Code"] != second["Code"]:
        with aws_error("CodeMismatchException", WRONG_CODE):
            cognito.verify_user_attribute(AccessToken=access, AttributeName="email", Code=first["Code"])
    cognito.verify_user_attribute(AccessToken=access, AttributeName="email", Code=second["Code"])
    assert attributes(cognito, pool, "bob")["email_verified"] == "true"


# --- DeleteUserAttributes / DeleteUser -----------------------------------------------------------

def test_delete_user_attributes(cognito, pool, tokens):
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "given_name", "Value": "Alice"}])
    assert strip_meta(cognito.delete_user_attributes(
        AccessToken=tokens["AccessToken"], UserAttributeNames=["given_name", "custom:tenant"])) == {}
    attrs = attributes(cognito, pool)
    assert "given_name" not in attrs and "custom:tenant" not in attrs
    assert attrs["email"] == "alice@example.com"


def test_delete_user(cognito, pool, client_id, tokens):
    assert strip_meta(cognito.delete_user(AccessToken=tokens["AccessToken"])) == {}
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")
    with aws_error("UserNotFoundException", "User does not exist."):
        sign_in_tokens(cognito, client_id)
    with pytest.raises(ClientError) as info:
        cognito.get_user(AccessToken=tokens["AccessToken"])
    assert info.value.response["Error"]["Code"] in ("NotAuthorizedException", "UserNotFoundException")
    with pytest.raises(ClientError) as info:
        refresh(cognito, client_id, tokens["RefreshToken"])
    assert info.value.response["Error"]["Code"] in ("NotAuthorizedException", "UserNotFoundException")


# --- ChangePassword ------------------------------------------------------------------------------

def test_change_password(cognito, pool, client_id, tokens):
    assert strip_meta(cognito.change_password(AccessToken=tokens["AccessToken"], PreviousPassword=PASSWORD,
                                              ProposedPassword=NEW_PASSWORD)) == {}
    sign_in_tokens(cognito, client_id, password=NEW_PASSWORD)
    with aws_error("NotAuthorizedException", INCORRECT):
        sign_in_tokens(cognito, client_id)


def test_change_password_wrong_previous(cognito, pool, client_id, tokens):
    with aws_error("NotAuthorizedException", INCORRECT):
        cognito.change_password(AccessToken=tokens["AccessToken"], PreviousPassword="Wr0ng-pass!",
                                ProposedPassword=NEW_PASSWORD)
    sign_in_tokens(cognito, client_id)
    with aws_error("NotAuthorizedException", INCORRECT):
        sign_in_tokens(cognito, client_id, password=NEW_PASSWORD)


def test_change_password_policy(cognito, pool, client_id, tokens):
    with aws_error("InvalidPasswordException", "Password did not conform with policy: Password not long enough"):
        cognito.change_password(AccessToken=tokens["AccessToken"], PreviousPassword=PASSWORD,
                                ProposedPassword="Sh0rt!")
    sign_in_tokens(cognito, client_id)


# --- SetUserSettings -----------------------------------------------------------------------------

def test_set_user_settings(cognito, pool, client_id):
    new_confirmed_user(cognito, pool, "pat", PASSWORD, phone_number="+15555550123", phone_number_verified="true")
    access = sign_in_tokens(cognito, client_id, "pat")["AccessToken"]
    assert strip_meta(cognito.set_user_settings(
        AccessToken=access, MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}])) == {}
    assert strip_meta(cognito.set_user_settings(AccessToken=access, MFAOptions=[])) == {}
    assert cognito.get_user(AccessToken=access)["Username"] == "pat"


# --- GlobalSignOut / AdminUserGlobalSignOut ------------------------------------------------------

def assert_session_revoked(cognito, client_id, session: dict) -> None:
    with aws_error("NotAuthorizedException", ACCESS_REVOKED):
        cognito.get_user(AccessToken=session["AccessToken"])
    with aws_error("NotAuthorizedException", REFRESH_REVOKED):
        refresh(cognito, client_id, session["RefreshToken"])
    with aws_error("NotAuthorizedException", REFRESH_REVOKED):
        cognito.get_tokens_from_refresh_token(RefreshToken=session["RefreshToken"], ClientId=client_id)


def test_global_sign_out(cognito, pool, client_id, alice):
    first, second = sign_in_tokens(cognito, client_id), sign_in_tokens(cognito, client_id)
    renewed = refresh(cognito, client_id, first["RefreshToken"])["AuthenticationResult"]
    assert strip_meta(cognito.global_sign_out(AccessToken=first["AccessToken"])) == {}
    assert_session_revoked(cognito, client_id, first)
    assert_session_revoked(cognito, client_id, second)
    with aws_error("NotAuthorizedException", ACCESS_REVOKED):
        cognito.get_user(AccessToken=renewed["AccessToken"])
    # A new sign-in is not affected.
    fresh = sign_in_tokens(cognito, client_id)
    assert cognito.get_user(AccessToken=fresh["AccessToken"])["Username"] == "alice"
    assert refresh(cognito, client_id, fresh["RefreshToken"])["AuthenticationResult"]["AccessToken"]


def test_revoked_access_token_refused_by_every_operation(cognito, pool, client_id, alice):
    access = sign_in_tokens(cognito, client_id)["AccessToken"]
    cognito.global_sign_out(AccessToken=access)
    calls = [
        lambda: cognito.get_user(AccessToken=access),
        lambda: cognito.update_user_attributes(AccessToken=access,
                                               UserAttributes=[{"Name": "given_name", "Value": "X"}]),
        lambda: cognito.delete_user_attributes(AccessToken=access, UserAttributeNames=["custom:tenant"]),
        lambda: cognito.change_password(AccessToken=access, PreviousPassword=PASSWORD, ProposedPassword=NEW_PASSWORD),
        lambda: cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName="email"),
        lambda: cognito.verify_user_attribute(AccessToken=access, AttributeName="email", Code="123456"),
        lambda: cognito.set_user_settings(AccessToken=access, MFAOptions=[]),
        lambda: cognito.global_sign_out(AccessToken=access),
        lambda: cognito.delete_user(AccessToken=access),
    ]
    for call in calls:
        with aws_error("NotAuthorizedException", ACCESS_REVOKED):
            call()
    # Nothing changed.
    attrs = attributes(cognito, pool)
    assert "given_name" not in attrs and attrs["custom:tenant"] == "acme"
    sign_in_tokens(cognito, client_id)


def test_admin_user_global_sign_out(cognito, pool, client_id, alice):
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    mine, bobs = sign_in_tokens(cognito, client_id), sign_in_tokens(cognito, client_id, "bob")
    assert strip_meta(cognito.admin_user_global_sign_out(UserPoolId=pool, Username="alice")) == {}
    assert_session_revoked(cognito, client_id, mine)
    # Another user's session is untouched.
    assert cognito.get_user(AccessToken=bobs["AccessToken"])["Username"] == "bob"
    refresh(cognito, client_id, bobs["RefreshToken"])
    sign_in_tokens(cognito, client_id)


def test_admin_user_global_sign_out_unknown_user(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_user_global_sign_out(UserPoolId=pool, Username="nobody")


# --- RevokeToken ---------------------------------------------------------------------------------

def test_revoke_token_ends_one_session(cognito, pool, client_id, alice):
    first, second = sign_in_tokens(cognito, client_id), sign_in_tokens(cognito, client_id)
    renewed = refresh(cognito, client_id, first["RefreshToken"])["AuthenticationResult"]
    assert strip_meta(cognito.revoke_token(Token=first["RefreshToken"], ClientId=client_id)) == {}
    assert_session_revoked(cognito, client_id, first)
    # Access tokens minted from the revoked refresh token are revoked with it.
    with aws_error("NotAuthorizedException", ACCESS_REVOKED):
        cognito.get_user(AccessToken=renewed["AccessToken"])
    # The other session goes on.
    assert cognito.get_user(AccessToken=second["AccessToken"])["Username"] == "alice"
    refresh(cognito, client_id, second["RefreshToken"])


def test_revoke_token_with_an_access_token(cognito, pool, client_id, tokens):
    with aws_error("UnsupportedTokenTypeException"):
        cognito.revoke_token(Token=tokens["AccessToken"], ClientId=client_id)
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"


def test_revoke_token_with_a_client_secret(cognito, pool, alice):
    client_id, secret = new_app_client(cognito, pool, name="secret", GenerateSecret=True)
    session = password_sign_in(cognito, client_id, "alice", PASSWORD, client_secret=secret)["AuthenticationResult"]
    with pytest.raises(ClientError):
        cognito.revoke_token(Token=session["RefreshToken"], ClientId=client_id, ClientSecret="x" * len(secret))
    with pytest.raises(ClientError):
        cognito.revoke_token(Token=session["RefreshToken"], ClientId=client_id)
    assert cognito.get_user(AccessToken=session["AccessToken"])["Username"] == "alice"
    cognito.revoke_token(Token=session["RefreshToken"], ClientId=client_id, ClientSecret=secret)
    with aws_error("NotAuthorizedException", ACCESS_REVOKED):
        cognito.get_user(AccessToken=session["AccessToken"])


def test_revoke_token_disabled_on_the_client(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, name="norevoke", EnableTokenRevocation=False)
    session = sign_in_tokens(cognito, client_id)
    with aws_error("UnsupportedOperationException"):
        cognito.revoke_token(Token=session["RefreshToken"], ClientId=client_id)
    refresh(cognito, client_id, session["RefreshToken"])
