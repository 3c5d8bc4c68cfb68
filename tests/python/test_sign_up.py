"""Self-service sign-up: SignUp / ConfirmSignUp / ResendConfirmationCode / AdminConfirmSignUp, with
the confirmation codes read from the development outbox (GET /_gatehouse/outbox)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from support import PASSWORD, aws_error, last_code, secret_hash, strip_meta, user_attributes, user_status

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CODE_RE = re.compile(r"^[0-9]{6}$")
WRONG_CODE = "Invalid verification code provided, please try again."


def email(address: str) -> list[dict]:
    return [{"Name": "email", "Value": address}]


@pytest.fixture
def pool(cognito):
    """A pool that auto-verifies email (so SignUp sends a code) with a custom attribute."""
    return cognito.create_user_pool(
        PoolName="sign-up", AutoVerifiedAttributes=["email"],
        Schema=[{"Name": "tenant", "AttributeDataType": "String"}],
    )["UserPool"]["Id"]


@pytest.fixture
def client_id(cognito, pool):
    return cognito.create_user_pool_client(UserPoolId=pool, ClientName="app")["UserPoolClient"]["ClientId"]


def sign_up(cognito, client_id, username, address=None, **kwargs):
    return cognito.sign_up(ClientId=client_id, Username=username, Password=kwargs.pop("Password", PASSWORD),
                           UserAttributes=email(address or f"{username}@example.com"), **kwargs)


# --- acceptance ----------------------------------------------------------------------------------

def test_sign_up_confirm_with_code_from_outbox(cognito, server, pool, client_id):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    created = strip_meta(sign_up(cognito, client_id, "alice", "alice@example.com"))
    assert created["UserConfirmed"] is False
    assert UUID_RE.match(created["UserSub"]), created
    assert created["CodeDeliveryDetails"] == {
        "Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}

    # The message is in the outbox before SignUp returned.
    [message] = server.outbox(pool, "alice")
    assert message["Purpose"] == "SIGN_UP"
    assert message["Medium"] == "EMAIL"
    assert message["Destination"] == "alice@example.com"
    assert message["Username"] == "alice"
    assert message["PoolId"] == pool
    assert CODE_RE.match(message["Code"]), message
    assert message["Code"] in message["Body"]
    assert message["CreatedAt"] >= before.timestamp() * 1000

    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert user["Enabled"] is True
    assert user_attributes(user)["sub"] == created["UserSub"]
    assert user_attributes(user)["email"] == "alice@example.com"
    assert user_attributes(user).get("email_verified", "false") == "false"

    assert strip_meta(cognito.confirm_sign_up(ClientId=client_id, Username="alice",
                                              ConfirmationCode=message["Code"])) == {}
    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert user["UserStatus"] == "CONFIRMED"
    # Confirming with the code sent to the email verifies the email.
    assert user_attributes(user)["email_verified"] == "true"


def test_outbox_accepts_the_sub(cognito, server, pool, client_id):
    sub = sign_up(cognito, client_id, "alice")["UserSub"]
    assert server.outbox(pool, sub) == server.outbox(pool, "alice")
    assert len(server.outbox(pool, sub)) == 1


def test_sign_up_with_custom_attribute(cognito, pool, client_id):
    cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD,
                    UserAttributes=email("a@example.com") + [{"Name": "custom:tenant", "Value": "acme"}])
    attrs = user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))
    assert attrs["custom:tenant"] == "acme"


# --- SignUp errors -------------------------------------------------------------------------------

def test_sign_up_existing_username(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    with aws_error("UsernameExistsException", "User already exists"):
        sign_up(cognito, client_id, "alice", "other@example.com")
    # The first registration is untouched and no second code was sent.
    assert user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))["email"] == "alice@example.com"
    assert len(server.outbox(pool, "alice")) == 1


@pytest.mark.parametrize("password, reason", [
    ("Pw0rd!", "Password not long enough"),
    ("passw0rd!", "Password must have uppercase characters"),
    ("PASSW0RD!", "Password must have lowercase characters"),
    ("Password!", "Password must have numeric characters"),
    ("Passw0rdd", "Password must have symbol characters"),
])
def test_sign_up_password_policy(cognito, pool, client_id, password, reason):
    with aws_error("InvalidPasswordException", f"Password did not conform with policy: {reason}"):
        sign_up(cognito, client_id, "alice", Password=password)
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")


def test_sign_up_custom_password_policy(cognito):
    pool = cognito.create_user_pool(PoolName="lax", Policies={"PasswordPolicy": {
        "MinimumLength": 12, "RequireUppercase": False, "RequireLowercase": True,
        "RequireNumbers": False, "RequireSymbols": False}})["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    with aws_error("InvalidPasswordException", "Password not long enough"):
        cognito.sign_up(ClientId=client_id, Username="a", Password="abcdefghijk")
    cognito.sign_up(ClientId=client_id, Username="a", Password="abcdefghijkl")
    assert cognito.admin_get_user(UserPoolId=pool, Username="a")["UserStatus"] == "UNCONFIRMED"


def test_sign_up_missing_required_attribute(cognito):
    pool = cognito.create_user_pool(PoolName="req", Schema=[
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    with aws_error("InvalidParameterException", "Attributes did not conform to the schema", "email"):
        cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD)
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")
    cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD, UserAttributes=email("a@example.com"))


@pytest.mark.parametrize("name", ["custom:nope", "bogus"])
def test_sign_up_unknown_attribute(cognito, pool, client_id, name):
    with aws_error("InvalidParameterException",
                   f"Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."):
        cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD,
                        UserAttributes=email("a@example.com") + [{"Name": name, "Value": "x"}])


def test_sign_up_unknown_client(cognito):
    with aws_error("ResourceNotFoundException", "abcdefghijklmnopqrstuvwxyz"):
        cognito.sign_up(ClientId="abcdefghijklmnopqrstuvwxyz", Username="alice", Password=PASSWORD)


def test_sign_up_refused_when_only_admins_create_users(cognito):
    pool = cognito.create_user_pool(PoolName="closed", AdminCreateUserConfig={
        "AllowAdminCreateUserOnly": True})["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    with aws_error("NotAuthorizedException", "SignUp is not permitted for this user pool"):
        cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD)
    assert cognito.list_users(UserPoolId=pool)["Users"] == []
    # Administrators still can.
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    assert user_status(cognito, pool, "alice") == "FORCE_CHANGE_PASSWORD"


def test_sign_up_without_auto_verification_sends_nothing(cognito, server):
    pool = cognito.create_user_pool(PoolName="quiet")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    created = sign_up(cognito, client_id, "alice")
    assert created["UserConfirmed"] is False
    assert "CodeDeliveryDetails" not in created
    assert server.outbox(pool, "alice") == []
    assert user_status(cognito, pool, "alice") == "UNCONFIRMED"


def test_sign_up_phone_number_code_by_sms(cognito, server):
    pool = cognito.create_user_pool(PoolName="sms", AutoVerifiedAttributes=["phone_number"])["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    created = cognito.sign_up(ClientId=client_id, Username="pat", Password=PASSWORD,
                              UserAttributes=[{"Name": "phone_number", "Value": "+15555550123"}])
    details = created["CodeDeliveryDetails"]
    assert details["DeliveryMedium"] == "SMS" and details["AttributeName"] == "phone_number"
    assert details["Destination"].endswith("0123") and "555555" not in details["Destination"]
    [message] = server.outbox(pool, "pat")
    assert (message["Medium"], message["Destination"], message["Purpose"]) == ("SMS", "+15555550123", "SIGN_UP")
    cognito.confirm_sign_up(ClientId=client_id, Username="pat", ConfirmationCode=message["Code"])
    user = cognito.admin_get_user(UserPoolId=pool, Username="pat")
    assert user["UserStatus"] == "CONFIRMED"
    assert user_attributes(user)["phone_number_verified"] == "true"


# --- SECRET_HASH ---------------------------------------------------------------------------------

@pytest.fixture
def secret_client(cognito, pool):
    created = cognito.create_user_pool_client(UserPoolId=pool, ClientName="server", GenerateSecret=True)
    return created["UserPoolClient"]["ClientId"], created["UserPoolClient"]["ClientSecret"]


def test_secret_hash_required(cognito, pool, secret_client):
    client_id, _ = secret_client
    with aws_error("NotAuthorizedException",
                   f"Client {client_id} is configured for secret but secret was not received"):
        sign_up(cognito, client_id, "alice")
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")


def test_secret_hash_wrong(cognito, pool, secret_client):
    client_id, secret = secret_client
    for wrong in ("AAAA", secret_hash(secret, "bob", client_id), secret_hash("not-the-secret", "alice", client_id)):
        with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
            sign_up(cognito, client_id, "alice", SecretHash=wrong)
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")


def test_secret_hash_on_every_public_call(cognito, server, pool, secret_client):
    client_id, secret = secret_client
    good = secret_hash(secret, "alice", client_id)
    sign_up(cognito, client_id, "alice", SecretHash=good)

    with aws_error("NotAuthorizedException", "secret was not received"):
        cognito.resend_confirmation_code(ClientId=client_id, Username="alice")
    with aws_error("NotAuthorizedException", "Unable to verify secret hash"):
        cognito.resend_confirmation_code(ClientId=client_id, Username="alice", SecretHash="AAAA")
    assert len(server.outbox(pool, "alice")) == 1
    cognito.resend_confirmation_code(ClientId=client_id, Username="alice", SecretHash=good)
    code = last_code(server, pool, "SIGN_UP", "alice")

    with aws_error("NotAuthorizedException", "secret was not received"):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code)
    with aws_error("NotAuthorizedException", "Unable to verify secret hash"):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code,
                                SecretHash=secret_hash(secret, "mallory", client_id))
    assert user_status(cognito, pool, "alice") == "UNCONFIRMED"
    cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code, SecretHash=good)
    assert user_status(cognito, pool, "alice") == "CONFIRMED"


# --- ConfirmSignUp -------------------------------------------------------------------------------

def test_confirm_wrong_code(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    code = last_code(server, pool, "SIGN_UP", "alice")
    wrong = "000000" if code != "000000" else "111111"
    with aws_error("CodeMismatchException", WRONG_CODE):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=wrong)
    assert user_status(cognito, pool, "alice") == "UNCONFIRMED"
    cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code)
    assert user_status(cognito, pool, "alice") == "CONFIRMED"


def test_confirm_code_belongs_to_its_user(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    sign_up(cognito, client_id, "bob")
    alice_code, bob_code = last_code(server, pool, "SIGN_UP", "alice"), last_code(server, pool, "SIGN_UP", "bob")
    if alice_code == bob_code:  # one in a million; nothing to test
        pytest.skip("both users drew the same code")
    with aws_error("CodeMismatchException", WRONG_CODE):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=bob_code)
    assert user_status(cognito, pool, "alice") == "UNCONFIRMED"


def test_confirm_attempt_limit(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    code = last_code(server, pool, "SIGN_UP", "alice")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with aws_error("CodeMismatchException", WRONG_CODE):
            cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=wrong)
    with aws_error("LimitExceededException", "Attempt limit exceeded, please try after some time."):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=wrong)
    # Locked out: even the right code is refused for now.
    with aws_error("LimitExceededException"):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code)
    assert user_status(cognito, pool, "alice") == "UNCONFIRMED"


def test_confirm_code_is_single_use(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    code = last_code(server, pool, "SIGN_UP", "alice")
    cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code)
    with aws_error("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED"):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=code)
    assert user_status(cognito, pool, "alice") == "CONFIRMED"


def test_confirm_unknown_user(cognito, pool, client_id):
    with aws_error("UserNotFoundException"):
        cognito.confirm_sign_up(ClientId=client_id, Username="nobody", ConfirmationCode="123456")


def test_confirm_unknown_user_prevent_user_existence_errors(cognito, pool):
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="private",
                                                PreventUserExistenceErrors="ENABLED")["UserPoolClient"]["ClientId"]
    with aws_error("CodeMismatchException", WRONG_CODE):
        cognito.confirm_sign_up(ClientId=client_id, Username="nobody", ConfirmationCode="123456")


def test_confirm_unknown_client(cognito):
    with aws_error("ResourceNotFoundException"):
        cognito.confirm_sign_up(ClientId="abcdefghijklmnopqrstuvwxyz", Username="a", ConfirmationCode="123456")


# --- ResendConfirmationCode ----------------------------------------------------------------------

def test_resend_new_code_replaces_old(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    old = last_code(server, pool, "SIGN_UP", "alice")
    resent = strip_meta(cognito.resend_confirmation_code(ClientId=client_id, Username="alice"))
    assert resent == {"CodeDeliveryDetails": {
        "Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}}
    messages = server.outbox(pool, "alice")
    assert [m["Purpose"] for m in messages] == ["SIGN_UP", "SIGN_UP"]
    assert messages[0]["CreatedAt"] <= messages[1]["CreatedAt"]
    new = messages[1]["Code"]
    if old == new:  # one in a million; the old-code assertion would be meaningless
        pytest.skip("the resent code equals the first one")
    with aws_error("CodeMismatchException", WRONG_CODE):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=old)
    assert user_status(cognito, pool, "alice") == "UNCONFIRMED"
    cognito.confirm_sign_up(ClientId=client_id, Username="alice", ConfirmationCode=new)
    assert user_status(cognito, pool, "alice") == "CONFIRMED"


def test_resend_for_confirmed_user(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    cognito.confirm_sign_up(ClientId=client_id, Username="alice",
                            ConfirmationCode=last_code(server, pool, "SIGN_UP", "alice"))
    with aws_error("InvalidParameterException", "User is already confirmed."):
        cognito.resend_confirmation_code(ClientId=client_id, Username="alice")
    assert len(server.outbox(pool, "alice")) == 1


def test_resend_unknown_user(cognito, pool, client_id):
    with aws_error("UserNotFoundException"):
        cognito.resend_confirmation_code(ClientId=client_id, Username="nobody")


def test_resend_unknown_user_prevent_user_existence_errors(cognito, server, pool):
    # "Account confirmation and password recovery return a response indicating a code was sent
    # to a simulated destination" when PreventUserExistenceErrors is ENABLED.
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="private",
                                                PreventUserExistenceErrors="ENABLED")["UserPoolClient"]["ClientId"]
    resent = cognito.resend_confirmation_code(ClientId=client_id, Username="nobody")
    assert resent["CodeDeliveryDetails"]["DeliveryMedium"] in ("EMAIL", "SMS")
    assert server.outbox(pool, "nobody") == []


# --- AdminConfirmSignUp --------------------------------------------------------------------------

def test_admin_confirm_sign_up(cognito, server, pool, client_id):
    sign_up(cognito, client_id, "alice")
    assert strip_meta(cognito.admin_confirm_sign_up(UserPoolId=pool, Username="alice")) == {}
    assert user_status(cognito, pool, "alice") == "CONFIRMED"
    # The unused code no longer confirms anything.
    with aws_error("NotAuthorizedException", "User cannot be confirmed. Current status is CONFIRMED"):
        cognito.confirm_sign_up(ClientId=client_id, Username="alice",
                                ConfirmationCode=last_code(server, pool, "SIGN_UP", "alice"))
    with aws_error("NotAuthorizedException", "Current status is CONFIRMED"):
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username="alice")


def test_admin_confirm_sign_up_errors(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username="nobody")
    with aws_error("ResourceNotFoundException"):
        cognito.admin_confirm_sign_up(UserPoolId="us-east-1_ZZZZZZZZZ", Username="nobody")
    cognito.admin_create_user(UserPoolId=pool, Username="invited", MessageAction="SUPPRESS")
    with aws_error("NotAuthorizedException", "Current status is FORCE_CHANGE_PASSWORD"):
        cognito.admin_confirm_sign_up(UserPoolId=pool, Username="invited")
    assert user_status(cognito, pool, "invited") == "FORCE_CHANGE_PASSWORD"
