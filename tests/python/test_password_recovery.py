"""Getting back in without the password: ForgotPassword / ConfirmForgotPassword with the code from
the development outbox, and AdminResetUserPassword (RESET_REQUIRED until the user sets a new
password with a code)."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from support import (
    NEW_PASSWORD, PASSWORD, assert_tokens_of, aws_error, last_code, new_app_client, new_confirmed_user,
    outbox_messages, password_sign_in, secret_hash, sign_in_tokens, strip_meta, user_attributes, user_status,
)

INCORRECT = "Incorrect username or password."
WRONG_CODE = "Invalid verification code provided, please try again."
CODE_RE = re.compile(r"^[0-9]{6}$")
RESET = "FORGOT_PASSWORD"


def other_code(code: str) -> str:
    return "000000" if code != "000000" else "111111"


def assert_recovered(cognito, server, pool, client_id, alice, username="alice", client_secret=None) -> None:
    """After the recovery, NEW_PASSWORD signs alice in (as `username`, a name or alias of hers):
    both tokens verify against the pool's keys and name alice, her sub unchanged; the old PASSWORD
    is refused. Returns the AuthenticationResult."""
    result = sign_in_tokens(cognito, client_id, username, NEW_PASSWORD, client_secret=client_secret,
                            hash_username=username)
    assert_tokens_of(f"{server.url}/{pool}", result, client_id, "alice", user_attributes(alice)["sub"])
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, username, PASSWORD, client_secret)
    return result


# --- ForgotPassword / ConfirmForgotPassword ------------------------------------------------------

def test_forgot_password_and_confirm(cognito, server, pool, client_id, alice):
    answer = strip_meta(cognito.forgot_password(ClientId=client_id, Username="alice"))
    assert answer == {"CodeDeliveryDetails": {"Destination": "a***@e***", "DeliveryMedium": "EMAIL",
                                              "AttributeName": "email"}}
    [message] = outbox_messages(server, pool, RESET)
    assert CODE_RE.match(message["Code"]) and message["Destination"] == "alice@example.com"
    # Until confirmed, the old password still works.
    password_sign_in(cognito, client_id, "alice", PASSWORD)

    with aws_error("CodeMismatchException", WRONG_CODE):
        cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=other_code(message["Code"]),
                                        Password=NEW_PASSWORD)
    password_sign_in(cognito, client_id, "alice", PASSWORD)

    assert strip_meta(cognito.confirm_forgot_password(ClientId=client_id, Username="alice",
                                                      ConfirmationCode=message["Code"], Password=NEW_PASSWORD)) == {}
    assert user_status(cognito, pool) == "CONFIRMED"
    assert_recovered(cognito, server, pool, client_id, alice)


def test_reset_code_is_single_use(cognito, server, pool, client_id, alice):
    cognito.forgot_password(ClientId=client_id, Username="alice")
    code = last_code(server, pool, RESET)
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password=NEW_PASSWORD)
    with pytest.raises(ClientError) as info:
        cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code,
                                        Password="An0ther-pass!")
    assert info.value.response["Error"]["Code"] in ("CodeMismatchException", "ExpiredCodeException")
    assert_recovered(cognito, server, pool, client_id, alice)
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, "alice", "An0ther-pass!")


def test_confirm_forgot_password_policy(cognito, server, pool, client_id, alice):
    cognito.forgot_password(ClientId=client_id, Username="alice")
    code = last_code(server, pool, RESET)
    with aws_error("InvalidPasswordException", "Password did not conform with policy"):
        cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password="short")
    # The code survives a refused password.
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password=NEW_PASSWORD)
    assert_recovered(cognito, server, pool, client_id, alice)


def test_forgot_password_with_a_client_secret(cognito, server, pool, alice):
    client_id, secret = new_app_client(cognito, pool, name="secret", GenerateSecret=True)
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        cognito.forgot_password(ClientId=client_id, Username="alice", SecretHash=secret_hash("x", "alice", client_id))
    assert outbox_messages(server, pool, RESET) == []
    cognito.forgot_password(ClientId=client_id, Username="alice", SecretHash=secret_hash(secret, "alice", client_id))
    code = last_code(server, pool, RESET)
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password=NEW_PASSWORD,
                                    SecretHash=secret_hash(secret, "alice", client_id))
    assert_recovered(cognito, server, pool, client_id, alice, client_secret=secret)


def test_forgot_password_unknown_user(cognito, server, pool, client_id):
    with aws_error("UserNotFoundException", "Username/client id combination not found."):
        cognito.forgot_password(ClientId=client_id, Username="nobody")


def test_forgot_password_unknown_user_hidden(cognito, server, pool):
    client_id, _ = new_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    answer = cognito.forgot_password(ClientId=client_id, Username="nobody")
    # A believable answer, and nothing sent.
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] in ("EMAIL", "SMS")
    assert server.outbox(pool, "nobody") == []


def test_forgot_password_by_email_alias(cognito, server):
    pool = cognito.create_user_pool(PoolName="alias", AliasAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    alice = new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    cognito.forgot_password(ClientId=client_id, Username="alice@example.com")
    code = last_code(server, pool, RESET)
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice@example.com", ConfirmationCode=code,
                                    Password=NEW_PASSWORD)
    assert_recovered(cognito, server, pool, client_id, alice)
    assert_recovered(cognito, server, pool, client_id, alice, username="alice@example.com")


def test_forgot_password_confirms_nothing_else(cognito, server, pool, client_id, alice):
    cognito.forgot_password(ClientId=client_id, Username="alice")
    code = last_code(server, pool, RESET)
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password=NEW_PASSWORD)
    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert user["Enabled"] is True
    assert user_attributes(user)["email"] == "alice@example.com"


# --- AdminResetUserPassword ----------------------------------------------------------------------

def test_admin_reset_then_forgot_password(cognito, server, pool, client_id, alice):
    assert strip_meta(cognito.admin_reset_user_password(UserPoolId=pool, Username="alice")) == {}
    assert user_status(cognito, pool) == "RESET_REQUIRED"
    assert len(outbox_messages(server, pool, RESET)) == 1
    with aws_error("PasswordResetRequiredException", "Password reset required for the user"):
        password_sign_in(cognito, client_id, "alice", PASSWORD)

    cognito.forgot_password(ClientId=client_id, Username="alice")
    code = last_code(server, pool, RESET)
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=code, Password=NEW_PASSWORD)
    assert user_status(cognito, pool) == "CONFIRMED"
    result = assert_recovered(cognito, server, pool, client_id, alice)
    assert cognito.get_user(AccessToken=result["AccessToken"])["Username"] == "alice"


def test_admin_reset_code_is_usable_directly(cognito, server, pool, client_id, alice):
    cognito.admin_reset_user_password(UserPoolId=pool, Username="alice")
    [message] = outbox_messages(server, pool, RESET)
    cognito.confirm_forgot_password(ClientId=client_id, Username="alice", ConfirmationCode=message["Code"],
                                    Password=NEW_PASSWORD)
    assert user_status(cognito, pool) == "CONFIRMED"
    assert_recovered(cognito, server, pool, client_id, alice)


def test_admin_reset_unknown_user(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_reset_user_password(UserPoolId=pool, Username="nobody")


def test_admin_set_user_password_clears_reset_required(cognito, server, pool, client_id, alice):
    cognito.admin_reset_user_password(UserPoolId=pool, Username="alice")
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=NEW_PASSWORD, Permanent=True)
    assert user_status(cognito, pool) == "CONFIRMED"
    assert_recovered(cognito, server, pool, client_id, alice)
