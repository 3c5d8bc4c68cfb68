"""pycognito 2024.5.1, unmodified, pointed at Gatehouse with `boto3_client_kwargs={"endpoint_url": ...}`.

pycognito signs in with USER_SRP_AUTH and then verifies both tokens itself: RS256 signature by the
key named by `kid` in `<endpoint_url>/<poolId>/.well-known/jwks.json`, `iss == <endpoint_url>/<poolId>`,
`aud` (ID token) and `token_use`. So every successful call here also proves the tokens, the JWKS
and the issuer are right."""

from __future__ import annotations

import pytest
from pycognito.exceptions import ForceChangePasswordException, TokenVerificationException

from support import (
    NEW_PASSWORD, PASSWORD, assert_tokens_of, aws_error, last_code, new_app_client, new_confirmed_user,
    outbox_messages, pycognito_user, user_attributes,
)

TEMPORARY = "Temp0rary!"


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(PoolName="pycognito", AutoVerifiedAttributes=["email"],
                                    Schema=[{"Name": "tenant", "AttributeDataType": "String"}])["UserPool"]["Id"]


@pytest.fixture
def alice_attributes():
    return {"email": "alice@example.com", "email_verified": "true", "custom_tenant": "acme"}


# --- authenticate (USER_SRP_AUTH + token verification) -------------------------------------------

def test_authenticate(server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    assert u.token_type == "Bearer"
    assert u.access_token and u.id_token and u.refresh_token
    assert u.access_claims["username"] == "alice"
    assert u.access_claims["client_id"] == client_id
    assert u.access_claims["iss"] == f"{server.url}/{pool}"
    assert u.id_claims["cognito:username"] == "alice"
    assert u.id_claims["aud"] == client_id
    assert u.id_claims["email"] == "alice@example.com"
    assert u.id_claims["custom:tenant"] == "acme"
    assert u.id_claims["sub"] == user_attributes(alice)["sub"]
    # Tokens handed to a fresh object verify too.
    again = pycognito_user(server.url, pool, client_id, id_token=u.id_token, access_token=u.access_token)
    again.verify_tokens()
    assert again.check_token(renew=False) is False


def test_authenticate_wrong_password(server, pool, client_id, alice):
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        pycognito_user(server.url, pool, client_id).authenticate("Wr0ng-pass!")


def test_authenticate_unknown_user(server, pool, client_id):
    with aws_error("UserNotFoundException", "User does not exist."):
        pycognito_user(server.url, pool, client_id, username="nobody").authenticate(PASSWORD)


def test_authenticate_with_an_email_alias(cognito, server):
    pool = cognito.create_user_pool(PoolName="alias", AliasAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    u = pycognito_user(server.url, pool, client_id, username="alice@example.com")
    u.authenticate(PASSWORD)
    assert u.access_claims["username"] == "alice"


def test_authenticate_in_an_email_username_pool(cognito, server):
    pool = cognito.create_user_pool(PoolName="email", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    created = new_confirmed_user(cognito, pool, "bob@example.com", PASSWORD)
    u = pycognito_user(server.url, pool, client_id, username="bob@example.com")
    u.authenticate(PASSWORD)
    assert u.access_claims["username"] == created["Username"]
    assert u.id_claims["email"] == "bob@example.com"


def test_tokens_of_another_pool_fail_verification(cognito, server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    other_client = new_app_client(cognito, other)[0]
    stranger = pycognito_user(server.url, other, other_client, id_token=u.id_token, access_token=u.access_token)
    with pytest.raises((TokenVerificationException, IndexError)):
        stranger.verify_tokens()


def test_admin_authenticate(server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.admin_authenticate(PASSWORD)
    assert u.access_claims["username"] == "alice"
    assert u.refresh_token


# --- token renewal -------------------------------------------------------------------------------

def test_renew_access_token(server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    old_access, old_refresh, old_claims = u.access_token, u.refresh_token, u.access_claims
    u.renew_access_token()
    assert u.access_token != old_access
    assert u.refresh_token == old_refresh
    assert u.access_claims["origin_jti"] == old_claims["origin_jti"]
    assert u.access_claims["auth_time"] == old_claims["auth_time"]
    assert u.get_user().sub == user_attributes(alice)["sub"]


# --- user operations -----------------------------------------------------------------------------

def test_get_user(server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    profile = u.get_user()
    assert profile.username == "alice"
    assert profile.sub == user_attributes(alice)["sub"]
    assert profile.email == "alice@example.com"
    assert profile.email_verified is True
    assert getattr(profile, "custom:tenant") == "acme"
    assert profile._metadata["username"] == "alice"


def test_update_profile_and_verify_email(cognito, server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    u.update_profile({"given_name": "Alice", "email": "alice@new.example.com"})
    attrs = user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))
    assert attrs["given_name"] == "Alice"
    assert attrs["email"] == "alice@new.example.com"
    assert attrs["email_verified"] == "false"
    [message] = outbox_messages(server, pool, "VERIFY_ATTRIBUTE")
    assert message["Destination"] == "alice@new.example.com"
    u.validate_verification(message["Code"])
    attrs = user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))
    assert attrs["email_verified"] == "true"


def test_send_verification(cognito, server, pool, client_id):
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com")
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    u.send_verification("email")
    code = last_code(server, pool, "VERIFY_ATTRIBUTE")
    u.validate_verification(code, "email")
    assert user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))["email_verified"] == "true"


def test_change_password(server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    u.change_password(PASSWORD, NEW_PASSWORD)
    pycognito_user(server.url, pool, client_id).authenticate(NEW_PASSWORD)
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        pycognito_user(server.url, pool, client_id).authenticate(PASSWORD)


def test_change_password_wrong_previous(server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        u.change_password("Wr0ng-pass!", NEW_PASSWORD)
    pycognito_user(server.url, pool, client_id).authenticate(PASSWORD)


def test_logout(cognito, server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    access, refresh = u.access_token, u.refresh_token
    u.logout()
    assert u.access_token is None and u.refresh_token is None
    with aws_error("NotAuthorizedException", "Access Token has been revoked"):
        cognito.get_user(AccessToken=access)
    stale = pycognito_user(server.url, pool, client_id, access_token=access, refresh_token=refresh)
    with aws_error("NotAuthorizedException", "Refresh Token has been revoked"):
        stale.renew_access_token()
    # Signing in again works.
    pycognito_user(server.url, pool, client_id).authenticate(PASSWORD)


def test_delete_user(cognito, server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.authenticate(PASSWORD)
    u.delete_user()
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user(UserPoolId=pool, Username="alice")


def test_forgot_password(cognito, server, pool, client_id, alice):
    u = pycognito_user(server.url, pool, client_id)
    u.initiate_forgot_password()
    code = last_code(server, pool, "FORGOT_PASSWORD")
    u.confirm_forgot_password(code, NEW_PASSWORD)
    again = pycognito_user(server.url, pool, client_id)
    again.authenticate(NEW_PASSWORD)
    # pycognito checked the signatures; the tokens must also be alice's, through this client.
    assert_tokens_of(f"{server.url}/{pool}", {"AccessToken": again.access_token, "IdToken": again.id_token,
                                              "RefreshToken": again.refresh_token},
                     client_id, "alice", user_attributes(alice)["sub"])
    assert again.id_claims["email"] == "alice@example.com"
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        pycognito_user(server.url, pool, client_id).authenticate(PASSWORD)


# --- NEW_PASSWORD_REQUIRED -----------------------------------------------------------------------

def test_new_password_challenge(cognito, server, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    u = pycognito_user(server.url, pool, client_id, username="dave")
    with pytest.raises(ForceChangePasswordException):
        u.authenticate(TEMPORARY)
    u.new_password_challenge(TEMPORARY, NEW_PASSWORD)
    assert u.access_claims["username"] == "dave"
    assert cognito.admin_get_user(UserPoolId=pool, Username="dave")["UserStatus"] == "CONFIRMED"
    pycognito_user(server.url, pool, client_id, username="dave").authenticate(NEW_PASSWORD)


def test_new_password_challenge_in_an_email_username_pool(cognito, server):
    pool = cognito.create_user_pool(PoolName="email", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    created = cognito.admin_create_user(UserPoolId=pool, Username="fay@example.com", TemporaryPassword=TEMPORARY,
                                        MessageAction="SUPPRESS")["User"]
    u = pycognito_user(server.url, pool, client_id, username="fay@example.com")
    u.new_password_challenge(TEMPORARY, NEW_PASSWORD)
    assert u.access_claims["username"] == created["Username"]
    pycognito_user(server.url, pool, client_id, username="fay@example.com").authenticate(NEW_PASSWORD)


# --- a client with a secret ----------------------------------------------------------------------

@pytest.fixture
def secret_client(cognito, pool):
    return new_app_client(cognito, pool, name="secret", GenerateSecret=True)


def test_client_secret_authenticate_renew_and_get_user(server, pool, secret_client, alice):
    client_id, secret = secret_client
    u = pycognito_user(server.url, pool, client_id, client_secret=secret)
    u.authenticate(PASSWORD)
    assert u.access_claims["client_id"] == client_id
    old = u.access_token
    u.renew_access_token()
    assert u.access_token != old
    assert u.get_user().email == "alice@example.com"
    u.admin_authenticate(PASSWORD)
    assert u.id_claims["aud"] == client_id


def test_client_secret_renew_with_an_alias(cognito, server):
    # pycognito hashes the name it was given (here the alias) for REFRESH_TOKEN_AUTH.
    pool = cognito.create_user_pool(PoolName="alias", AliasAttributes=["email"])["UserPool"]["Id"]
    client_id, secret = new_app_client(cognito, pool, GenerateSecret=True)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    u = pycognito_user(server.url, pool, client_id, username="alice@example.com", client_secret=secret)
    u.authenticate(PASSWORD)
    u.renew_access_token()
    assert u.access_claims["username"] == "alice"


def test_client_secret_wrong_or_missing(server, pool, secret_client, alice):
    client_id, secret = secret_client
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        pycognito_user(server.url, pool, client_id, client_secret="not-the-secret").authenticate(PASSWORD)
    with aws_error("NotAuthorizedException",
                   f"Client {client_id} is configured for secret but secret was not received"):
        pycognito_user(server.url, pool, client_id).authenticate(PASSWORD)


def test_client_secret_new_password_challenge(cognito, server, pool, secret_client):
    client_id, secret = secret_client
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    u = pycognito_user(server.url, pool, client_id, username="dave", client_secret=secret)
    u.new_password_challenge(TEMPORARY, NEW_PASSWORD)
    assert u.access_claims["username"] == "dave"

