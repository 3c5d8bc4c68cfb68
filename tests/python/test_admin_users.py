"""Administrative user management: AdminCreateUser (invitations in the development outbox),
AdminSetUserPassword, AdminGetUser, AdminDeleteUser, AdminDisableUser / AdminEnableUser,
AdminUpdateUserAttributes, AdminDeleteUserAttributes."""

from __future__ import annotations

import datetime as dt
import re
import string

import pytest

from support import aws_error, strip_meta, user_attributes

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UNKNOWN_POOL = "us-east-1_ZZZZZZZZZ"
SYMBOLS = set("^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-")


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(PoolName="admin-users", Schema=[
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": True},
        {"Name": "level", "AttributeDataType": "Number", "Mutable": False},
    ])["UserPool"]["Id"]


def create(cognito, pool, username, *attrs: tuple[str, str], **kwargs) -> dict:
    return cognito.admin_create_user(
        UserPoolId=pool, Username=username,
        UserAttributes=[{"Name": n, "Value": v} for n, v in attrs], **kwargs)["User"]


def get(cognito, pool, username) -> dict:
    return cognito.admin_get_user(UserPoolId=pool, Username=username)


def assert_meets_default_policy(password: str) -> None:
    assert len(password) >= 8, password
    assert any(c in string.ascii_uppercase for c in password), password
    assert any(c in string.ascii_lowercase for c in password), password
    assert any(c in string.digits for c in password), password
    assert any(c in SYMBOLS for c in password), password


# --- AdminCreateUser -----------------------------------------------------------------------------

def test_admin_create_user_sends_invitation(cognito, server, pool):
    """Acceptance: the invitation with the temporary password is in the outbox."""
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    user = create(cognito, pool, "alice", ("email", "alice@example.com"), DesiredDeliveryMediums=["EMAIL"])
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    assert user["Username"] == "alice"
    assert user["Enabled"] is True
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert before <= user["UserCreateDate"] <= after
    assert user["UserCreateDate"] == user["UserLastModifiedDate"]
    attrs = user_attributes(user)
    assert attrs["email"] == "alice@example.com"
    assert UUID_RE.match(attrs["sub"]), attrs

    [message] = server.outbox(pool, "alice")
    assert message["Purpose"] == "INVITATION"
    assert message["Medium"] == "EMAIL"
    assert message["Destination"] == "alice@example.com"
    assert message["Username"] == "alice"
    temporary = message["Code"]
    assert_meets_default_policy(temporary)
    # AWS's default invitation template.
    assert message["Subject"] == "Your temporary password"
    assert message["Body"] == f"Your username is alice and temporary password is {temporary}."

    got = get(cognito, pool, "alice")
    assert got["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert user_attributes(got) == attrs
    assert got["UserCreateDate"] == user["UserCreateDate"]


def test_admin_create_user_given_temporary_password(cognito, server, pool):
    create(cognito, pool, "alice", ("email", "alice@example.com"),
           TemporaryPassword="Temp0rary!", DesiredDeliveryMediums=["EMAIL"])
    [message] = server.outbox(pool, "alice")
    assert message["Code"] == "Temp0rary!"
    assert "Temp0rary!" in message["Body"]


def test_admin_create_user_generated_password_meets_strict_policy(cognito, server):
    pool = cognito.create_user_pool(PoolName="strict", Policies={"PasswordPolicy": {
        "MinimumLength": 24, "RequireUppercase": True, "RequireLowercase": True,
        "RequireNumbers": True, "RequireSymbols": True}})["UserPool"]["Id"]
    passwords = set()
    for i in range(3):
        create(cognito, pool, f"u{i}", ("email", f"u{i}@example.com"), DesiredDeliveryMediums=["EMAIL"])
        [message] = server.outbox(pool, f"u{i}")
        assert len(message["Code"]) >= 24, message["Code"]
        assert_meets_default_policy(message["Code"])
        passwords.add(message["Code"])
    assert len(passwords) == 3


def test_admin_create_user_invite_message_template(cognito, server):
    pool = cognito.create_user_pool(PoolName="templated", AdminCreateUserConfig={"InviteMessageTemplate": {
        "EmailSubject": "Welcome aboard",
        "EmailMessage": "Hi {username}, your password is {####}",
        "SMSMessage": "{username}: {####}",
    }})["UserPool"]["Id"]
    create(cognito, pool, "carol", ("email", "carol@example.com"), ("phone_number", "+15555550100"),
           DesiredDeliveryMediums=["EMAIL", "SMS"])
    messages = {m["Medium"]: m for m in server.outbox(pool, "carol")}
    assert set(messages) == {"EMAIL", "SMS"}
    mail, sms = messages["EMAIL"], messages["SMS"]
    assert mail["Subject"] == "Welcome aboard"
    assert mail["Body"] == f"Hi carol, your password is {mail['Code']}"
    assert mail["Destination"] == "carol@example.com"
    assert sms["Body"] == f"carol: {sms['Code']}"
    assert sms["Destination"] == "+15555550100"
    assert sms["Code"] == mail["Code"]  # one temporary password, sent twice
    assert {m["Purpose"] for m in messages.values()} == {"INVITATION"}


def test_admin_create_user_default_medium_is_sms(cognito, server, pool):
    create(cognito, pool, "mailonly", ("email", "m@example.com"))
    assert [m for m in server.outbox(pool, "mailonly") if m["Medium"] == "SMS"] == []
    assert [m for m in server.outbox(pool, "mailonly") if m["Purpose"] == "INVITATION" and m["Medium"] == "EMAIL"] == []

    create(cognito, pool, "phone", ("phone_number", "+15555550101"))
    [message] = server.outbox(pool, "phone")
    assert (message["Medium"], message["Destination"], message["Purpose"]) == ("SMS", "+15555550101", "INVITATION")
    assert message["Code"] in message["Body"]


def test_admin_create_user_suppress(cognito, server, pool):
    user = create(cognito, pool, "quiet", ("email", "q@example.com"), ("phone_number", "+15555550102"),
                  MessageAction="SUPPRESS", DesiredDeliveryMediums=["EMAIL", "SMS"])
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert server.outbox(pool, "quiet") == []


def test_admin_create_user_resend(cognito, server, pool):
    create(cognito, pool, "alice", ("email", "alice@example.com"), TemporaryPassword="Temp0rary!",
           MessageAction="SUPPRESS")
    assert server.outbox(pool, "alice") == []
    resent = cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="RESEND",
                                       DesiredDeliveryMediums=["EMAIL"])["User"]
    assert resent["Username"] == "alice"
    assert resent["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    [message] = server.outbox(pool, "alice")
    assert message["Purpose"] == "INVITATION"
    # RESEND issues a new temporary password.
    assert message["Code"] != "Temp0rary!"
    assert_meets_default_policy(message["Code"])
    assert get(cognito, pool, "alice")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_admin_create_user_resend_errors(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_create_user(UserPoolId=pool, Username="nobody", MessageAction="RESEND")
    create(cognito, pool, "done", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="done", Password="Perm4nent!", Permanent=True)
    with aws_error("UnsupportedUserStateException"):
        cognito.admin_create_user(UserPoolId=pool, Username="done", MessageAction="RESEND")
    assert get(cognito, pool, "done")["UserStatus"] == "CONFIRMED"


def test_admin_create_user_existing(cognito, pool):
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    with aws_error("UsernameExistsException", "User account already exists"):
        create(cognito, pool, "alice", MessageAction="SUPPRESS")


def test_admin_create_user_weak_temporary_password(cognito, server, pool):
    with aws_error("InvalidPasswordException", "Password did not conform with policy: Password not long enough"):
        create(cognito, pool, "alice", ("email", "a@example.com"), TemporaryPassword="Aa1!",
               DesiredDeliveryMediums=["EMAIL"])
    with aws_error("UserNotFoundException"):
        get(cognito, pool, "alice")
    assert server.outbox(pool, "alice") == []


@pytest.mark.parametrize("name", ["custom:nope", "bogus"])
def test_admin_create_user_unknown_attribute(cognito, pool, name):
    with aws_error("InvalidParameterException",
                   f"Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."):
        create(cognito, pool, "alice", (name, "x"), MessageAction="SUPPRESS")


def test_admin_create_user_unknown_pool(cognito):
    with aws_error("ResourceNotFoundException", f"User pool {UNKNOWN_POOL} does not exist."):
        cognito.admin_create_user(UserPoolId=UNKNOWN_POOL, Username="alice")


# --- AdminSetUserPassword ------------------------------------------------------------------------

def test_admin_set_user_password_permanent_and_temporary(cognito, pool):
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    assert strip_meta(cognito.admin_set_user_password(
        UserPoolId=pool, Username="alice", Password="Perm4nent!", Permanent=True)) == {}
    assert get(cognito, pool, "alice")["UserStatus"] == "CONFIRMED"
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Temp0rary!", Permanent=False)
    assert get(cognito, pool, "alice")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Perm4nent!2", Permanent=True)
    assert get(cognito, pool, "alice")["UserStatus"] == "CONFIRMED"


def test_admin_set_user_password_confirms_unconfirmed_sign_up(cognito, pool):
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    cognito.sign_up(ClientId=client_id, Username="alice", Password="Passw0rd!")
    assert get(cognito, pool, "alice")["UserStatus"] == "UNCONFIRMED"
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password="Perm4nent!", Permanent=True)
    assert get(cognito, pool, "alice")["UserStatus"] == "CONFIRMED"


@pytest.mark.parametrize("password, reason", [
    ("Sh0rt!", "Password not long enough"),
    ("perm4nent!", "Password must have uppercase characters"),
    ("Permanent!", "Password must have numeric characters"),
])
def test_admin_set_user_password_policy(cognito, pool, password, reason):
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    with aws_error("InvalidPasswordException", reason):
        cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=password, Permanent=True)
    assert get(cognito, pool, "alice")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_admin_set_user_password_unknown_user(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_set_user_password(UserPoolId=pool, Username="nobody", Password="Perm4nent!", Permanent=True)


# --- AdminGetUser / AdminDeleteUser --------------------------------------------------------------

def test_admin_get_user_errors(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        get(cognito, pool, "nobody")
    with aws_error("ResourceNotFoundException", f"User pool {UNKNOWN_POOL} does not exist."):
        get(cognito, UNKNOWN_POOL, "nobody")


def test_admin_get_user_by_sub(cognito, pool):
    # "If username isn't an alias attribute in your user pool, this value must be the sub of a local user"
    sub = user_attributes(create(cognito, pool, "alice", MessageAction="SUPPRESS"))["sub"]
    assert get(cognito, pool, sub)["Username"] == "alice"


def test_users_are_scoped_to_their_pool(cognito, pool):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    with aws_error("UserNotFoundException"):
        get(cognito, other, "alice")
    create(cognito, other, "alice", MessageAction="SUPPRESS")  # the same name is free in another pool
    assert user_attributes(get(cognito, pool, "alice"))["sub"] != user_attributes(get(cognito, other, "alice"))["sub"]


def test_admin_delete_user(cognito, server, pool):
    create(cognito, pool, "alice", ("email", "a@example.com"), DesiredDeliveryMediums=["EMAIL"])
    old_sub = user_attributes(get(cognito, pool, "alice"))["sub"]
    assert strip_meta(cognito.admin_delete_user(UserPoolId=pool, Username="alice")) == {}
    with aws_error("UserNotFoundException", "User does not exist."):
        get(cognito, pool, "alice")
    with aws_error("UserNotFoundException"):
        cognito.admin_delete_user(UserPoolId=pool, Username="alice")
    assert cognito.list_users(UserPoolId=pool)["Users"] == []
    # The name can be used again, by a new user.
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    assert user_attributes(get(cognito, pool, "alice"))["sub"] != old_sub


# --- AdminDisableUser / AdminEnableUser ----------------------------------------------------------

def test_admin_disable_and_enable_user(cognito, pool):
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    assert strip_meta(cognito.admin_disable_user(UserPoolId=pool, Username="alice")) == {}
    disabled = get(cognito, pool, "alice")
    assert disabled["Enabled"] is False
    assert disabled["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    # A disabled user still appears in ListUsers.
    assert [u["Enabled"] for u in cognito.list_users(UserPoolId=pool)["Users"]] == [False]
    cognito.admin_disable_user(UserPoolId=pool, Username="alice")  # idempotent
    assert strip_meta(cognito.admin_enable_user(UserPoolId=pool, Username="alice")) == {}
    assert get(cognito, pool, "alice")["Enabled"] is True


@pytest.mark.parametrize("operation", ["admin_disable_user", "admin_enable_user"])
def test_admin_disable_enable_unknown_user(cognito, pool, operation):
    with aws_error("UserNotFoundException", "User does not exist."):
        getattr(cognito, operation)(UserPoolId=pool, Username="nobody")


# --- AdminUpdateUserAttributes -------------------------------------------------------------------

def test_admin_update_user_attributes(cognito, pool):
    created = create(cognito, pool, "alice", ("given_name", "Alice"), MessageAction="SUPPRESS")
    assert strip_meta(cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice", UserAttributes=[
        {"Name": "given_name", "Value": "Alicia"},
        {"Name": "family_name", "Value": "Smith"},
        {"Name": "custom:tenant", "Value": "acme"},
    ])) == {}
    user = get(cognito, pool, "alice")
    attrs = user_attributes(user)
    assert attrs["given_name"] == "Alicia"
    assert attrs["family_name"] == "Smith"
    assert attrs["custom:tenant"] == "acme"
    assert attrs["sub"] == user_attributes(created)["sub"]
    assert user["UserLastModifiedDate"] >= created["UserLastModifiedDate"]


def test_admin_update_user_attributes_blank_value_deletes(cognito, pool):
    # "To delete an attribute from your user, submit the attribute in your API request with a blank value."
    create(cognito, pool, "alice", ("given_name", "Alice"), ("family_name", "Smith"), MessageAction="SUPPRESS")
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "given_name", "Value": ""}])
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert "given_name" not in attrs, attrs
    assert attrs["family_name"] == "Smith"


@pytest.mark.parametrize("name", ["custom:x", "nonsense"])
def test_admin_update_user_attributes_unknown_attribute(cognito, pool, name):
    create(cognito, pool, "alice", ("given_name", "Alice"), MessageAction="SUPPRESS")
    with aws_error("InvalidParameterException",
                   f"Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice", UserAttributes=[
            {"Name": "given_name", "Value": "Changed"}, {"Name": name, "Value": "4"}])
    # Nothing of the refused request was applied.
    assert user_attributes(get(cognito, pool, "alice"))["given_name"] == "Alice"


@pytest.mark.parametrize("name, value", [("custom:level", "4"), ("sub", "11111111-2222-3333-4444-555555555555")])
def test_admin_update_user_attributes_immutable(cognito, pool, name, value):
    created = create(cognito, pool, "alice", ("custom:level", "3"), MessageAction="SUPPRESS")
    with aws_error("InvalidParameterException", name):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                             UserAttributes=[{"Name": name, "Value": value}])
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert attrs["custom:level"] == "3"
    assert attrs["sub"] == user_attributes(created)["sub"]


def test_admin_update_email_unverifies_without_auto_verification(cognito, server, pool):
    create(cognito, pool, "alice", ("email", "old@example.com"), ("email_verified", "true"), MessageAction="SUPPRESS")
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "email", "Value": "new@example.com"}])
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert attrs["email"] == "new@example.com"
    assert attrs["email_verified"] == "false"
    assert server.outbox(pool, "alice") == []


def test_admin_update_email_sends_verification_when_auto_verified(cognito, server):
    pool = cognito.create_user_pool(PoolName="verify", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    create(cognito, pool, "alice", ("email", "old@example.com"), ("email_verified", "true"), MessageAction="SUPPRESS")
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "email", "Value": "new@example.com"}])
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert attrs["email"] == "new@example.com"
    assert attrs["email_verified"] == "false"
    [message] = server.outbox(pool, "alice")
    assert message["Purpose"] == "VERIFY_ATTRIBUTE"
    assert message["Medium"] == "EMAIL"
    assert message["Destination"] == "new@example.com"
    assert re.fullmatch(r"[0-9]{6}", message["Code"]), message
    assert message["Code"] in message["Body"]


def test_admin_update_email_with_email_verified_true_sends_nothing(cognito, server):
    # "If you set the email_verified ... value ... to true, Amazon Cognito doesn't send a verification message"
    pool = cognito.create_user_pool(PoolName="verify", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    create(cognito, pool, "alice", ("email", "old@example.com"), MessageAction="SUPPRESS")
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice", UserAttributes=[
        {"Name": "email", "Value": "new@example.com"}, {"Name": "email_verified", "Value": "true"}])
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert (attrs["email"], attrs["email_verified"]) == ("new@example.com", "true")
    assert server.outbox(pool, "alice") == []


def test_admin_update_user_attributes_unknown_user(cognito, pool):
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="nobody",
                                             UserAttributes=[{"Name": "name", "Value": "x"}])


# --- AdminDeleteUserAttributes -------------------------------------------------------------------

def test_admin_delete_user_attributes(cognito, pool):
    create(cognito, pool, "alice", ("given_name", "Alice"), ("family_name", "Smith"), ("custom:tenant", "acme"),
           MessageAction="SUPPRESS")
    assert strip_meta(cognito.admin_delete_user_attributes(
        UserPoolId=pool, Username="alice", UserAttributeNames=["given_name", "custom:tenant"])) == {}
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert "given_name" not in attrs and "custom:tenant" not in attrs
    assert attrs["family_name"] == "Smith"
    assert "sub" in attrs


def test_admin_delete_user_attributes_refusals(cognito):
    pool = cognito.create_user_pool(PoolName="req", Schema=[
        {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True},
        {"Name": "level", "AttributeDataType": "Number", "Mutable": False},
    ])["UserPool"]["Id"]
    create(cognito, pool, "alice", ("email", "a@example.com"), ("custom:level", "3"), MessageAction="SUPPRESS")
    for name in ("email", "custom:level", "sub"):
        with aws_error("InvalidParameterException"):
            cognito.admin_delete_user_attributes(UserPoolId=pool, Username="alice", UserAttributeNames=[name])
    with aws_error("InvalidParameterException", "custom:zzz"):
        cognito.admin_delete_user_attributes(UserPoolId=pool, Username="alice", UserAttributeNames=["custom:zzz"])
    attrs = user_attributes(get(cognito, pool, "alice"))
    assert attrs["email"] == "a@example.com" and attrs["custom:level"] == "3"
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_delete_user_attributes(UserPoolId=pool, Username="nobody", UserAttributeNames=["name"])


# --- attribute values ----------------------------------------------------------------------------

@pytest.mark.parametrize("name, value, message", [
    ("email", "not-an-email", "Invalid email address format."),
    ("phone_number", "5555", "Invalid phone number format."),
    ("custom:level", "abc", "custom:level"),
    ("email_verified", "maybe", "email_verified"),
])
def test_attribute_values_are_validated(cognito, pool, name, value, message):
    with aws_error("InvalidParameterException", message):
        create(cognito, pool, "alice", (name, value), MessageAction="SUPPRESS")
    with aws_error("UserNotFoundException"):
        get(cognito, pool, "alice")
    create(cognito, pool, "alice", MessageAction="SUPPRESS")
    with aws_error("InvalidParameterException", message):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                             UserAttributes=[{"Name": name, "Value": value}])
    assert name not in user_attributes(get(cognito, pool, "alice"))


def test_custom_attribute_constraints(cognito):
    pool = cognito.create_user_pool(PoolName="constrained", Schema=[
        {"Name": "code", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "4"}},
        {"Name": "score", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "10"}},
    ])["UserPool"]["Id"]
    for name, value in (("custom:code", "toolong"), ("custom:code", "x"), ("custom:score", "11"), ("custom:score", "-1")):
        with aws_error("InvalidParameterException", "Attributes did not conform to the schema", name):
            create(cognito, pool, "alice", (name, value), MessageAction="SUPPRESS")
    user = create(cognito, pool, "alice", ("custom:code", "abcd"), ("custom:score", "10"), MessageAction="SUPPRESS")
    assert user_attributes(user)["custom:code"] == "abcd" and user_attributes(user)["custom:score"] == "10"


def test_username_pattern(cognito_raw, pool):
    with aws_error("InvalidParameterException", "username"):
        cognito_raw.admin_create_user(UserPoolId=pool, Username="has space", MessageAction="SUPPRESS")
