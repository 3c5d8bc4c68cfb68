"""How users are named and found: UsernameAttributes (email as the username, UUID canonical
usernames), AliasAttributes (sign-in with a verified email), and UsernameConfiguration.CaseSensitive."""

from __future__ import annotations

import re

import pytest

from support import aws_error, user_attributes

PASSWORD = "Passw0rd!"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def make_pool(cognito, **settings) -> tuple[str, str]:
    pool = cognito.create_user_pool(PoolName="names", **settings)["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    return pool, client_id


# --- UsernameAttributes ["email"] ----------------------------------------------------------------

@pytest.fixture
def email_pool(cognito):
    return make_pool(cognito, UsernameAttributes=["email"], AutoVerifiedAttributes=["email"])


def test_email_username_sign_up_end_to_end(cognito, server, email_pool):
    pool, client_id = email_pool
    created = cognito.sign_up(ClientId=client_id, Username="carol@example.com", Password=PASSWORD)
    sub = created["UserSub"]
    assert created["CodeDeliveryDetails"] == {
        "Destination": "c***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}

    # The canonical username is a UUID equal to the sub; the email became the email attribute.
    user = cognito.admin_get_user(UserPoolId=pool, Username="carol@example.com")
    assert UUID_RE.match(user["Username"]), user
    assert user["Username"] == sub
    assert user_attributes(user)["sub"] == sub
    assert user_attributes(user)["email"] == "carol@example.com"
    assert cognito.admin_get_user(UserPoolId=pool, Username=sub)["Username"] == sub

    # The outbox is reachable by the email, the canonical username and the sub alike.
    [message] = server.outbox(pool, "carol@example.com")
    assert message["Username"] == sub
    assert message["Destination"] == "carol@example.com"
    assert server.outbox(pool, sub) == [message]

    cognito.confirm_sign_up(ClientId=client_id, Username="carol@example.com", ConfirmationCode=message["Code"])
    user = cognito.admin_get_user(UserPoolId=pool, Username="carol@example.com")
    assert user["UserStatus"] == "CONFIRMED"
    assert user_attributes(user)["email_verified"] == "true"
    [listed] = cognito.list_users(UserPoolId=pool, Filter='email = "carol@example.com"')["Users"]
    assert listed["Username"] == sub


def test_email_username_taken_twice(cognito, email_pool):
    pool, client_id = email_pool
    cognito.sign_up(ClientId=client_id, Username="carol@example.com", Password=PASSWORD)
    with aws_error("UsernameExistsException"):
        cognito.sign_up(ClientId=client_id, Username="carol@example.com", Password=PASSWORD)
    with aws_error("UsernameExistsException"):
        cognito.admin_create_user(UserPoolId=pool, Username="carol@example.com", MessageAction="SUPPRESS")
    assert len(cognito.list_users(UserPoolId=pool)["Users"]) == 1


def test_email_username_must_be_an_email(cognito, email_pool):
    pool, client_id = email_pool
    with aws_error("InvalidParameterException", "Username should be an email."):
        cognito.sign_up(ClientId=client_id, Username="carol", Password=PASSWORD)
    with aws_error("InvalidParameterException", "Username should be an email."):
        cognito.admin_create_user(UserPoolId=pool, Username="carol", MessageAction="SUPPRESS")
    assert cognito.list_users(UserPoolId=pool)["Users"] == []


def test_email_username_admin_create_user(cognito, server, email_pool):
    pool, _ = email_pool
    user = cognito.admin_create_user(UserPoolId=pool, Username="dan@example.com",
                                     DesiredDeliveryMediums=["EMAIL"])["User"]
    assert UUID_RE.match(user["Username"]) and user["Username"] == user_attributes(user)["sub"]
    assert user_attributes(user)["email"] == "dan@example.com"
    [invite] = server.outbox(pool, "dan@example.com")
    assert invite["Purpose"] == "INVITATION" and invite["Username"] == user["Username"]
    assert invite["Destination"] == "dan@example.com"
    cognito.admin_set_user_password(UserPoolId=pool, Username="dan@example.com", Password="Perm4nent!", Permanent=True)
    assert cognito.admin_get_user(UserPoolId=pool, Username=user["Username"])["UserStatus"] == "CONFIRMED"


def test_phone_number_username(cognito):
    pool, client_id = make_pool(cognito, UsernameAttributes=["phone_number"])
    sub = cognito.sign_up(ClientId=client_id, Username="+15555550100", Password=PASSWORD)["UserSub"]
    user = cognito.admin_get_user(UserPoolId=pool, Username="+15555550100")
    assert user["Username"] == sub
    assert user_attributes(user)["phone_number"] == "+15555550100"


# --- AliasAttributes ["email"] -------------------------------------------------------------------

@pytest.fixture
def alias_pool(cognito):
    return make_pool(cognito, AliasAttributes=["email"], AutoVerifiedAttributes=["email"])


def test_alias_lookup_needs_a_verified_email(cognito, server, alias_pool):
    pool, client_id = alias_pool
    cognito.sign_up(ClientId=client_id, Username="frank", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "frank@example.com"}])
    # Unverified: the email is no alias yet.
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="frank@example.com")
    code = server.outbox(pool, "frank")[-1]["Code"]
    cognito.confirm_sign_up(ClientId=client_id, Username="frank", ConfirmationCode=code)
    # Verified by the confirmation: the email now finds the user.
    user = cognito.admin_get_user(UserPoolId=pool, Username="frank@example.com")
    assert user["Username"] == "frank"
    assert user["UserStatus"] == "CONFIRMED"
    assert server.outbox(pool, "frank@example.com") == server.outbox(pool, "frank")


def test_alias_from_admin_verified_email(cognito, alias_pool):
    pool, _ = alias_pool
    cognito.admin_create_user(UserPoolId=pool, Username="gina", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "gina@example.com"}, {"Name": "email_verified", "Value": "true"}])
    assert cognito.admin_get_user(UserPoolId=pool, Username="gina@example.com")["Username"] == "gina"
    cognito.admin_disable_user(UserPoolId=pool, Username="gina@example.com")
    assert cognito.admin_get_user(UserPoolId=pool, Username="gina")["Enabled"] is False


def test_alias_email_shaped_username_refused(cognito, alias_pool):
    pool, client_id = alias_pool
    with aws_error("InvalidParameterException"):
        cognito.sign_up(ClientId=client_id, Username="frank@example.com", Password=PASSWORD)
    with aws_error("InvalidParameterException"):
        cognito.admin_create_user(UserPoolId=pool, Username="frank@example.com", MessageAction="SUPPRESS")
    assert cognito.list_users(UserPoolId=pool)["Users"] == []


def test_alias_verified_email_is_unique(cognito, alias_pool):
    pool, _ = alias_pool
    verified = [{"Name": "email", "Value": "same@example.com"}, {"Name": "email_verified", "Value": "true"}]
    cognito.admin_create_user(UserPoolId=pool, Username="first", MessageAction="SUPPRESS", UserAttributes=verified)
    with aws_error("AliasExistsException"):
        cognito.admin_create_user(UserPoolId=pool, Username="second", MessageAction="SUPPRESS", UserAttributes=verified)
    assert cognito.admin_get_user(UserPoolId=pool, Username="same@example.com")["Username"] == "first"



def verified(address: str) -> list[dict]:
    return [{"Name": "email", "Value": address}, {"Name": "email_verified", "Value": "true"}]


def test_alias_conflict_on_confirm_sign_up(cognito, server, alias_pool):
    # ConfirmSignUp ForceAliasCreation: "If false and an attribute belongs to an existing alias, this
    # request returns an AliasExistsException error." A refused confirmation confirms nothing.
    pool, client_id = alias_pool
    cognito.admin_create_user(UserPoolId=pool, Username="old", MessageAction="SUPPRESS",
                              UserAttributes=verified("x@example.com"))
    cognito.sign_up(ClientId=client_id, Username="new", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "x@example.com"}])
    code = server.outbox(pool, "new")[-1]["Code"]
    with aws_error("AliasExistsException"):
        cognito.confirm_sign_up(ClientId=client_id, Username="new", ConfirmationCode=code)
    new = cognito.admin_get_user(UserPoolId=pool, Username="new")
    assert new["UserStatus"] == "UNCONFIRMED"
    assert user_attributes(new).get("email_verified", "false") == "false"
    assert cognito.admin_get_user(UserPoolId=pool, Username="x@example.com")["Username"] == "old"


def test_alias_migrates_with_force_alias_creation_on_confirm(cognito, server, alias_pool):
    # "A value of true migrates the alias from an existing user to the new user"
    pool, client_id = alias_pool
    cognito.admin_create_user(UserPoolId=pool, Username="old", MessageAction="SUPPRESS",
                              UserAttributes=verified("x@example.com"))
    cognito.sign_up(ClientId=client_id, Username="new", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "x@example.com"}])
    code = server.outbox(pool, "new")[-1]["Code"]
    cognito.confirm_sign_up(ClientId=client_id, Username="new", ConfirmationCode=code, ForceAliasCreation=True)
    assert cognito.admin_get_user(UserPoolId=pool, Username="new")["UserStatus"] == "CONFIRMED"
    assert cognito.admin_get_user(UserPoolId=pool, Username="x@example.com")["Username"] == "new"


def test_alias_migrates_with_force_alias_creation_on_admin_create_user(cognito, alias_pool):
    pool, _ = alias_pool
    cognito.admin_create_user(UserPoolId=pool, Username="old", MessageAction="SUPPRESS",
                              UserAttributes=verified("x@example.com"))
    cognito.admin_create_user(UserPoolId=pool, Username="new", MessageAction="SUPPRESS",
                              UserAttributes=verified("x@example.com"), ForceAliasCreation=True)
    assert cognito.admin_get_user(UserPoolId=pool, Username="x@example.com")["Username"] == "new"


def test_alias_conflict_on_update_user_attributes(cognito, alias_pool):
    pool, _ = alias_pool
    cognito.admin_create_user(UserPoolId=pool, Username="first", MessageAction="SUPPRESS",
                              UserAttributes=verified("x@example.com"))
    cognito.admin_create_user(UserPoolId=pool, Username="second", MessageAction="SUPPRESS",
                              UserAttributes=verified("y@example.com"))
    with aws_error("AliasExistsException"):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="second",
                                             UserAttributes=verified("x@example.com"))
    assert user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="second"))["email"] == "y@example.com"
    assert cognito.admin_get_user(UserPoolId=pool, Username="x@example.com")["Username"] == "first"


def test_email_username_follows_email_change(cognito):
    pool, _ = make_pool(cognito, UsernameAttributes=["email"])
    username = cognito.admin_create_user(UserPoolId=pool, Username="a@example.com",
                                         MessageAction="SUPPRESS")["User"]["Username"]
    cognito.admin_update_user_attributes(UserPoolId=pool, Username=username, UserAttributes=verified("b@example.com"))
    assert cognito.admin_get_user(UserPoolId=pool, Username="b@example.com")["Username"] == username
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="a@example.com")

# --- CaseSensitive -------------------------------------------------------------------------------

def test_case_insensitive_usernames(cognito, server):
    pool, client_id = make_pool(cognito, UsernameConfiguration={"CaseSensitive": False},
                                AutoVerifiedAttributes=["email"])
    cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    assert cognito.admin_get_user(UserPoolId=pool, Username="ALICE")["Username"] == "alice"
    with aws_error("UsernameExistsException"):
        cognito.sign_up(ClientId=client_id, Username="Alice", Password=PASSWORD)
    with aws_error("UsernameExistsException"):
        cognito.admin_create_user(UserPoolId=pool, Username="ALICE", MessageAction="SUPPRESS")
    code = server.outbox(pool, "aLiCe")[-1]["Code"]
    cognito.confirm_sign_up(ClientId=client_id, Username="Alice", ConfirmationCode=code)
    assert cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserStatus"] == "CONFIRMED"
    assert len(cognito.list_users(UserPoolId=pool)["Users"]) == 1
    cognito.admin_delete_user(UserPoolId=pool, Username="ALICE")
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")


@pytest.mark.parametrize("settings", [{"UsernameConfiguration": {"CaseSensitive": True}}, {}],
                         ids=["case-sensitive", "api-default"])
def test_case_sensitive_usernames(cognito, settings):
    pool, client_id = make_pool(cognito, **settings)
    lower = cognito.sign_up(ClientId=client_id, Username="alice", Password=PASSWORD)["UserSub"]
    upper = cognito.sign_up(ClientId=client_id, Username="Alice", Password=PASSWORD)["UserSub"]
    assert lower != upper
    assert user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))["sub"] == lower
    assert user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="Alice"))["sub"] == upper
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="ALICE")
    assert sorted(u["Username"] for u in cognito.list_users(UserPoolId=pool)["Users"]) == ["Alice", "alice"]


def test_case_insensitive_email_username(cognito):
    # CaseSensitive false: "users can sign in with ... for email, email@example.com or
    # EMaiL@eXamplE.Com ... Amazon Cognito treats any variation in case as the same user".
    pool, client_id = make_pool(cognito, UsernameAttributes=["email"], UsernameConfiguration={"CaseSensitive": False})
    sub = cognito.sign_up(ClientId=client_id, Username="Carol@Example.com", Password=PASSWORD)["UserSub"]
    assert cognito.admin_get_user(UserPoolId=pool, Username="carol@example.com")["Username"] == sub
    with aws_error("UsernameExistsException"):
        cognito.sign_up(ClientId=client_id, Username="CAROL@example.com", Password=PASSWORD)
    assert len(cognito.list_users(UserPoolId=pool)["Users"]) == 1


def test_case_insensitive_email_alias(cognito):
    # CaseSensitive false "also enables both preferred_username and email alias to be case insensitive".
    pool, _ = make_pool(cognito, AliasAttributes=["email"], UsernameConfiguration={"CaseSensitive": False})
    cognito.admin_create_user(UserPoolId=pool, Username="gina", MessageAction="SUPPRESS", UserAttributes=[
        {"Name": "email", "Value": "Gina@Example.com"}, {"Name": "email_verified", "Value": "true"}])
    assert cognito.admin_get_user(UserPoolId=pool, Username="gina@example.com")["Username"] == "gina"
    with aws_error("AliasExistsException"):
        cognito.admin_create_user(UserPoolId=pool, Username="other", MessageAction="SUPPRESS", UserAttributes=[
            {"Name": "email", "Value": "GINA@example.com"}, {"Name": "email_verified", "Value": "true"}])


def test_email_username_change_to_taken_email(cognito):
    # AdminUpdateUserAttributes models AliasExistsException (not UsernameExistsException); a
    # refused update changes nothing.
    pool, _ = make_pool(cognito, UsernameAttributes=["email"])
    mine = cognito.admin_create_user(UserPoolId=pool, Username="a@example.com", MessageAction="SUPPRESS")["User"]
    theirs = cognito.admin_create_user(UserPoolId=pool, Username="c@example.com", MessageAction="SUPPRESS")["User"]
    with aws_error("AliasExistsException"):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username=mine["Username"],
                                             UserAttributes=verified("c@example.com"))
    assert user_attributes(cognito.admin_get_user(UserPoolId=pool, Username=mine["Username"]))["email"] == "a@example.com"
    assert cognito.admin_get_user(UserPoolId=pool, Username="a@example.com")["Username"] == mine["Username"]
    assert cognito.admin_get_user(UserPoolId=pool, Username="c@example.com")["Username"] == theirs["Username"]
