"""What the tokens say: access and ID tokens verified (PyJWT) against the pool's JWKS and issuer,
their exact claims, groups, custom attributes, lifetimes from the app client's settings, what
refresh keeps, and the pool's OpenID configuration document."""

from __future__ import annotations

import re
import time

import jwt
import pytest
from botocore.exceptions import ClientError

from support import (
    PASSWORD, fetch_json, new_app_client, new_confirmed_user, sign_in_tokens, user_attributes, verify_jwt,
)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACCESS_CLAIMS = {"sub", "iss", "client_id", "origin_jti", "event_id", "token_use", "scope", "auth_time", "exp",
                 "iat", "jti", "username"}
ID_BASE_CLAIMS = {"sub", "iss", "aud", "cognito:username", "origin_jti", "event_id", "token_use", "auth_time",
                  "exp", "iat", "jti"}


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(PoolName="tokens", Schema=[
        {"Name": "tenant", "AttributeDataType": "String", "Mutable": True},
        {"Name": "level", "AttributeDataType": "Number", "Mutable": True},
    ])["UserPool"]["Id"]


@pytest.fixture
def issuer(server, pool):
    return f"{server.url}/{pool}"


@pytest.fixture
def alice_attributes():
    return {"email": "alice@example.com", "email_verified": "true", "custom_tenant": "acme", "custom_level": "42"}


def both(issuer, client_id, result) -> tuple[dict, dict]:
    return (verify_jwt(issuer, result["AccessToken"], "access"),
            verify_jwt(issuer, result["IdToken"], "id", client_id))


# --- signature, header, JWKS ---------------------------------------------------------------------

def test_tokens_verify_against_the_pool_jwks(cognito, server, pool, issuer, client_id, alice):
    result = sign_in_tokens(cognito, client_id)
    jwks = fetch_json(f"{server.url}/{pool}/.well-known/jwks.json")
    assert jwks["keys"], jwks
    kids = set()
    for key in jwks["keys"]:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig", key
        assert key["kid"] and key["n"] and key["e"], key
        assert "d" not in key and "p" not in key, "private key material in the JWKS"
        kids.add(key["kid"])
    assert len(kids) == len(jwks["keys"]), "kid values must be unique"
    for name in ("AccessToken", "IdToken"):
        header = jwt.get_unverified_header(result[name])
        assert header["alg"] == "RS256", header
        assert header["kid"] in kids, header
    verify_jwt(issuer, result["AccessToken"], "access", jwks=jwks)
    verify_jwt(issuer, result["IdToken"], "id", client_id, jwks=jwks)


def test_tokens_fail_verification_with_another_issuer_or_audience(cognito, server, pool, issuer, client_id, alice):
    result = sign_in_tokens(cognito, client_id)
    jwks = fetch_json(f"{issuer}/.well-known/jwks.json")
    with pytest.raises(jwt.InvalidIssuerError):
        verify_jwt(f"{server.url}/us-east-1_ZZZZZZZZZ", result["AccessToken"], "access", jwks=jwks)
    with pytest.raises(jwt.InvalidAudienceError):
        verify_jwt(issuer, result["IdToken"], "id", "someotherclientid", jwks=jwks)


def test_each_pool_has_its_own_issuer(cognito, server, pool, client_id, alice):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    other_client = new_app_client(cognito, other)[0]
    new_confirmed_user(cognito, other, "alice", PASSWORD)
    access = verify_jwt(f"{server.url}/{other}", sign_in_tokens(cognito, other_client)["AccessToken"], "access")
    assert access["iss"] == f"{server.url}/{other}"
    assert access["client_id"] == other_client


def test_openid_configuration(server, pool, issuer):
    document = fetch_json(f"{issuer}/.well-known/openid-configuration")
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert "RS256" in document["id_token_signing_alg_values_supported"]
    assert fetch_json(document["jwks_uri"])["keys"]


def test_public_url_sets_the_issuer(server_factory):
    srv = server_factory(extra_args=("--public-url", "https://idp.example.test"))
    cognito = srv.client()
    pool = cognito.create_user_pool(PoolName="public")["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    result = sign_in_tokens(cognito, client_id)
    issuer = f"https://idp.example.test/{pool}"
    # The keys are still served here; the issuer names the public URL.
    jwks = fetch_json(f"{srv.url}/{pool}/.well-known/jwks.json")
    assert verify_jwt(issuer, result["AccessToken"], "access", jwks=jwks)["iss"] == issuer
    assert verify_jwt(issuer, result["IdToken"], "id", client_id, jwks=jwks)["iss"] == issuer
    document = fetch_json(f"{srv.url}/{pool}/.well-known/openid-configuration")
    assert document["issuer"] == issuer
    assert document["jwks_uri"] == f"{issuer}/.well-known/jwks.json"


# --- claims --------------------------------------------------------------------------------------

def test_access_token_claims(cognito, pool, issuer, client_id, alice):
    before = int(time.time()) - 2
    access, _ = both(issuer, client_id, sign_in_tokens(cognito, client_id))
    assert set(access) == ACCESS_CLAIMS, access
    assert access["sub"] == user_attributes(alice)["sub"]
    assert access["iss"] == issuer
    assert access["client_id"] == client_id
    assert access["token_use"] == "access"
    assert access["scope"] == "aws.cognito.signin.user.admin"
    assert access["username"] == "alice"
    assert before <= access["auth_time"] <= access["iat"] <= int(time.time()) + 2
    assert access["exp"] - access["iat"] == 3600
    for claim in ("jti", "origin_jti", "event_id"):
        assert UUID_RE.match(access[claim]), (claim, access[claim])
    for claim in ("auth_time", "iat", "exp"):
        assert type(access[claim]) is int, (claim, access[claim])


def test_id_token_claims(cognito, pool, issuer, client_id, alice):
    access, id_claims = both(issuer, client_id, sign_in_tokens(cognito, client_id))
    assert set(id_claims) == ID_BASE_CLAIMS | {"email", "email_verified", "custom:tenant", "custom:level"}, id_claims
    assert id_claims["sub"] == access["sub"]
    assert id_claims["aud"] == client_id
    assert id_claims["cognito:username"] == "alice"
    assert id_claims["token_use"] == "id"
    assert id_claims["email"] == "alice@example.com"
    assert id_claims["email_verified"] is True
    # Custom attributes are strings, whatever their type in the schema.
    assert id_claims["custom:tenant"] == "acme"
    assert id_claims["custom:level"] == "42"
    assert id_claims["exp"] - id_claims["iat"] == 3600
    # One sign-in: one origin_jti and event_id shared by both tokens, distinct jti.
    assert id_claims["origin_jti"] == access["origin_jti"]
    assert id_claims["event_id"] == access["event_id"]
    assert id_claims["auth_time"] == access["auth_time"]
    assert id_claims["jti"] != access["jti"]


def test_verified_flags_are_booleans(cognito, pool, issuer, client_id):
    new_confirmed_user(cognito, pool, "pat", PASSWORD, phone_number="+15555550123", phone_number_verified="true",
                       email="pat@example.com", email_verified="false")
    _, id_claims = both(issuer, client_id, sign_in_tokens(cognito, client_id, "pat"))
    assert id_claims["phone_number"] == "+15555550123"
    assert id_claims["phone_number_verified"] is True
    assert id_claims["email_verified"] is False


def test_each_sign_in_is_a_new_origin(cognito, pool, issuer, client_id, alice):
    first, _ = both(issuer, client_id, sign_in_tokens(cognito, client_id))
    second, _ = both(issuer, client_id, sign_in_tokens(cognito, client_id))
    assert first["origin_jti"] != second["origin_jti"]
    assert first["jti"] != second["jti"]
    assert first["event_id"] != second["event_id"]


def test_groups_claim(cognito, pool, issuer, client_id, alice):
    access, id_claims = both(issuer, client_id, sign_in_tokens(cognito, client_id))
    assert "cognito:groups" not in access and "cognito:groups" not in id_claims
    for name in ("admins", "editors"):
        cognito.create_group(UserPoolId=pool, GroupName=name)
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName=name)
    access, id_claims = both(issuer, client_id, sign_in_tokens(cognito, client_id))
    assert sorted(access["cognito:groups"]) == ["admins", "editors"]
    assert sorted(id_claims["cognito:groups"]) == ["admins", "editors"]
    assert set(access) == ACCESS_CLAIMS | {"cognito:groups"}


def test_groups_follow_on_refresh(cognito, pool, issuer, client_id, alice):
    first = sign_in_tokens(cognito, client_id)
    cognito.create_group(UserPoolId=pool, GroupName="admins")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName="admins")
    renewed = cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})["AuthenticationResult"]
    access, id_claims = both(issuer, client_id, renewed)
    assert access["cognito:groups"] == ["admins"]
    assert id_claims["cognito:groups"] == ["admins"]


def test_refreshed_id_token_has_current_attributes(cognito, pool, issuer, client_id, alice):
    first = sign_in_tokens(cognito, client_id)
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "custom:tenant", "Value": "globex"}])
    renewed = cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})["AuthenticationResult"]
    _, id_claims = both(issuer, client_id, renewed)
    assert id_claims["custom:tenant"] == "globex"


def test_id_token_in_an_email_username_pool(cognito, server):
    pool = cognito.create_user_pool(PoolName="email", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    user = new_confirmed_user(cognito, pool, "bob@example.com", PASSWORD)
    access, id_claims = both(f"{server.url}/{pool}", client_id, sign_in_tokens(cognito, client_id, "bob@example.com"))
    assert access["username"] == user["Username"] == id_claims["cognito:username"]
    assert UUID_RE.match(access["username"])
    assert id_claims["email"] == "bob@example.com"


# --- refresh keeps the origin --------------------------------------------------------------------

@pytest.mark.parametrize("how", ["REFRESH_TOKEN_AUTH", "GetTokensFromRefreshToken"])
def test_refresh_keeps_auth_time_and_origin_jti(cognito, pool, issuer, client_id, alice, how):
    first = sign_in_tokens(cognito, client_id)
    access1, id1 = both(issuer, client_id, first)
    time.sleep(1.1)
    if how == "REFRESH_TOKEN_AUTH":
        renewed = cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                        AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    else:
        renewed = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=client_id)
    access2, id2 = both(issuer, client_id, renewed["AuthenticationResult"])
    assert access2["auth_time"] == access1["auth_time"] == id2["auth_time"]
    assert access2["origin_jti"] == access1["origin_jti"] == id2["origin_jti"] == id1["origin_jti"]
    assert access2["jti"] != access1["jti"] and id2["jti"] != id1["jti"]
    assert access2["iat"] > access1["iat"]
    assert access2["sub"] == access1["sub"] and access2["username"] == "alice"


def test_rotation_keeps_the_origin(cognito, pool, issuer, alice):
    client_id, _ = new_app_client(cognito, pool, RefreshTokenRotation={"Feature": "ENABLED",
                                                                       "RetryGracePeriodSeconds": 0})
    first = sign_in_tokens(cognito, client_id)
    access1, _ = both(issuer, client_id, first)
    rotated = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"],
                                                    ClientId=client_id)["AuthenticationResult"]
    access2, _ = both(issuer, client_id, rotated)
    assert access2["origin_jti"] == access1["origin_jti"]
    assert access2["auth_time"] == access1["auth_time"]


# --- lifetimes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, access_seconds, id_seconds", [
    ({}, 3600, 3600),
    ({"AccessTokenValidity": 5, "IdTokenValidity": 600,
      "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "seconds"}}, 300, 600),
    ({"AccessTokenValidity": 2, "IdTokenValidity": 1}, 7200, 3600),
    ({"AccessTokenValidity": 1, "TokenValidityUnits": {"AccessToken": "days"}}, 86400, 3600),
])
def test_lifetimes_follow_the_client(cognito, pool, issuer, alice, settings, access_seconds, id_seconds):
    client_id, _ = new_app_client(cognito, pool, **settings)
    result = sign_in_tokens(cognito, client_id)
    assert result["ExpiresIn"] == access_seconds
    access, id_claims = both(issuer, client_id, result)
    assert access["exp"] - access["iat"] == access_seconds
    assert id_claims["exp"] - id_claims["iat"] == id_seconds
    renewed = cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": result["RefreshToken"]})["AuthenticationResult"]
    assert renewed["ExpiresIn"] == access_seconds


def test_lifetime_change_applies_to_new_tokens(cognito, pool, issuer, client_id, alice):
    cognito.update_user_pool_client(UserPoolId=pool, ClientId=client_id, ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"], AccessTokenValidity=10,
        TokenValidityUnits={"AccessToken": "minutes"})
    result = sign_in_tokens(cognito, client_id)
    assert result["ExpiresIn"] == 600
    access, _ = both(issuer, client_id, result)
    assert access["exp"] - access["iat"] == 600


# --- restarts ------------------------------------------------------------------------------------

def test_tokens_survive_a_restart(server_factory):
    # A restart listens on another port: a fixed public URL keeps the issuer.
    srv = server_factory(extra_args=("--public-url", "http://gatehouse.test"))
    cognito = srv.client()
    pool = cognito.create_user_pool(PoolName="durable")["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    kept, revoked = sign_in_tokens(cognito, client_id), sign_in_tokens(cognito, client_id)
    cognito.revoke_token(Token=revoked["RefreshToken"], ClientId=client_id)
    jwks = fetch_json(f"{srv.url}/{pool}/.well-known/jwks.json")

    srv.restart()
    cognito = srv.client()
    issuer = f"http://gatehouse.test/{pool}"
    # Same signing keys: tokens issued before the restart still verify and still work.
    assert fetch_json(f"{srv.url}/{pool}/.well-known/jwks.json") == jwks
    verify_jwt(issuer, kept["AccessToken"], "access", jwks=jwks)
    assert cognito.get_user(AccessToken=kept["AccessToken"])["Username"] == "alice"
    renewed = cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                    AuthParameters={"REFRESH_TOKEN": kept["RefreshToken"]})["AuthenticationResult"]
    verify_jwt(issuer, renewed["IdToken"], "id", client_id, jwks=jwks)
    # Revocations are kept too.
    with pytest.raises(ClientError) as info:
        cognito.initiate_auth(ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": revoked["RefreshToken"]})
    assert info.value.response["Error"]["Message"] == "Refresh Token has been revoked"
    with pytest.raises(ClientError) as info:
        cognito.get_user(AccessToken=revoked["AccessToken"])
    assert info.value.response["Error"]["Message"] == "Access Token has been revoked"
