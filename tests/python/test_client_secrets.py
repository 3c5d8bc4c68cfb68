"""App client secret rotation (AddUserPoolClientSecret, ListUserPoolClientSecrets,
DeleteUserPoolClientSecret), GetClientToken, GetSigningCertificate and AdminDeleteSoftwareToken
through boto3. What Cognito does: docs/design/client-secrets-cognito-behaviour.md.
"""

from __future__ import annotations

import base64
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import padding

from mfa_support import Env, tokens
from support import (PASSWORD, REGION, aws_error, call, new_app_client, new_confirmed_user, password_sign_in,
                     pool_change_settles, secret_hash, unverified_claims)


@pytest.fixture
def confidential(cognito, pool):
    """A confidential client allowing the password flows, and alice: (ClientId, ClientSecret)."""
    client_id, secret = new_app_client(cognito, pool, GenerateSecret=True)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    return client_id, secret


def sign_in_with(cognito, client_id: str, secret: str) -> dict:
    return cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "alice", "PASSWORD": PASSWORD, "SECRET_HASH": secret_hash(secret, "alice", client_id)})


def test_a_second_secret_works_beside_the_first_until_the_first_is_deleted(server, cognito, pool, confidential):
    client_id, original = confidential
    listed = cognito.list_user_pool_client_secrets(UserPoolId=pool, ClientId=client_id)["ClientSecrets"]
    assert len(listed) == 1 and "ClientSecretValue" not in listed[0]
    first_id = listed[0]["ClientSecretId"]
    assert re.fullmatch(rf"{client_id}--\d+", first_id)

    added = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=client_id)["ClientSecretDescriptor"]
    second = added["ClientSecretValue"]
    assert re.fullmatch(r"[a-z0-9]{51}", second) and second != original
    pool_change_settles(server)
    # Either secret signs a SECRET_HASH; Describe still shows the client's own.
    for secret in (original, second):
        assert "AccessToken" in sign_in_with(cognito, client_id, secret)["AuthenticationResult"]
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    assert described["ClientSecret"] == original
    ids = [s["ClientSecretId"] for s in cognito.list_user_pool_client_secrets(
        UserPoolId=pool, ClientId=client_id)["ClientSecrets"]]
    assert ids == [first_id, added["ClientSecretId"]]

    with aws_error("LimitExceededException"):
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=client_id)
    cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=client_id, ClientSecretId=first_id)
    pool_change_settles(server)
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        sign_in_with(cognito, client_id, original)
    result = sign_in_with(cognito, client_id, second)["AuthenticationResult"]
    assert "ClientSecret" not in cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    # Refresh takes the remaining secret too.
    refreshed = cognito.get_tokens_from_refresh_token(RefreshToken=result["RefreshToken"], ClientId=client_id,
                                                      ClientSecret=second)
    assert "AccessToken" in refreshed["AuthenticationResult"]
    with aws_error("InvalidParameterException", "last client secret"):
        cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=client_id,
                                               ClientSecretId=added["ClientSecretId"])
    with aws_error("ResourceNotFoundException", "Client secret"):
        cognito.delete_user_pool_client_secret(UserPoolId=pool, ClientId=client_id, ClientSecretId=first_id)


def test_a_custom_secret_is_not_shown_back_and_public_clients_have_none(cognito, pool, confidential):
    client_id, _ = confidential
    custom = "Custom_secret+value_0123456789"
    added = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=client_id,
                                                ClientSecret=custom)["ClientSecretDescriptor"]
    assert "ClientSecretValue" not in added and added["ClientSecretId"].startswith(client_id + "--")
    assert "AccessToken" in sign_in_with(cognito, client_id, custom)["AuthenticationResult"]
    public, _ = new_app_client(cognito, pool, name="public")
    with aws_error("InvalidParameterException", "does not have a client secret"):
        cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=public)
    assert cognito.list_user_pool_client_secrets(UserPoolId=pool, ClientId=public)["ClientSecrets"] == []
    with aws_error("ResourceNotFoundException"):
        cognito.list_user_pool_client_secrets(UserPoolId=pool, ClientId="nosuchclient0000000000000")


def test_the_models_constraints_on_custom_secrets(cognito_raw, pool):
    client_id, _ = new_app_client(cognito_raw, pool, GenerateSecret=True)
    for bad in ("short", "has-a-hyphen-in-it-0123456", "x" * 65):
        with aws_error("InvalidParameterException", "clientSecret"):
            cognito_raw.add_user_pool_client_secret(UserPoolId=pool, ClientId=client_id, ClientSecret=bad)


def test_of_simultaneous_additions_one_makes_the_second_secret(cognito, pool, confidential):
    client_id, _ = confidential

    def add(_):
        try:
            cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=client_id)
            return True
        except cognito.exceptions.LimitExceededException:
            return False

    with ThreadPoolExecutor(max_workers=6) as ex:
        assert sum(ex.map(add, range(6))) == 1
    assert len(cognito.list_user_pool_client_secrets(UserPoolId=pool, ClientId=client_id)["ClientSecrets"]) == 2


def machine_client(cognito, pool: str, **settings) -> tuple[str, str]:
    cognito.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "r"},
                                           {"ScopeName": "write", "ScopeDescription": "w"}])
    created = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="machine", GenerateSecret=True, ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"],
        AllowedOAuthScopes=["orders/read", "orders/write"], **settings)["UserPoolClient"]
    return created["ClientId"], created["ClientSecret"]


def test_get_client_token_mints_a_machine_access_token(server, cognito, pool):
    client_id, secret = machine_client(cognito, pool)
    unsigned = cognito
    result = unsigned.get_client_token(ClientId=client_id, Secret=secret)["ClientAuthenticationResult"]
    assert (result["TokenType"], result["ExpiresIn"]) == ("Bearer", 3600)
    claims = unverified_claims(result["AccessToken"])
    assert (claims["token_use"], claims["client_id"], claims["sub"]) == ("access", client_id, client_id)
    assert claims["scope"] == "orders/read orders/write"
    only = cognito.get_client_token(ClientId=client_id, Secret=secret, Scopes=["orders/read"])
    assert unverified_claims(only["ClientAuthenticationResult"]["AccessToken"])["scope"] == "orders/read"
    with aws_error("NotAuthorizedException", "Invalid client or secret"):
        cognito.get_client_token(ClientId=client_id, Secret="x" * 30)
    with aws_error("InvalidParameterException"):
        cognito.get_client_token(ClientId=client_id, Secret=secret, Scopes=["orders/delete"])
    # A rotated-in secret mints too.
    second = cognito.add_user_pool_client_secret(UserPoolId=pool, ClientId=client_id)["ClientSecretDescriptor"]
    pool_change_settles(server)
    assert cognito.get_client_token(ClientId=client_id, Secret=second["ClientSecretValue"])["ClientAuthenticationResult"]


def test_get_client_token_is_authorised_by_the_client_secret_not_sigv4(server_factory):
    srv = server_factory(dev=False)
    key, secret_key = srv.printed_credentials()
    admin = boto3.client("cognito-idp", endpoint_url=srv.url, region_name=REGION, aws_access_key_id=key,
                         aws_secret_access_key=secret_key)
    pool = admin.create_user_pool(PoolName="m2m")["UserPool"]["Id"]
    client_id, secret = machine_client(admin, pool)
    unsigned = call(srv.url, "GetClientToken", {"ClientId": client_id, "Secret": secret})
    assert unsigned.status == 200, unsigned.json()
    assert unverified_claims(unsigned.json()["ClientAuthenticationResult"]["AccessToken"])["client_id"] == client_id
    refused = call(srv.url, "DescribeUserPool", {"UserPoolId": pool})
    assert refused.json()["__type"] == "MissingAuthenticationTokenException"


def test_client_token_auth_is_a_machine_clients_only_flow(cognito, pool):
    with aws_error("InvalidParameterException", "ALLOW_CLIENT_TOKEN_AUTH"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="m", GenerateSecret=True,
                                        ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"])
    with aws_error("InvalidParameterException", "ALLOW_CLIENT_TOKEN_AUTH"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="m", ExplicitAuthFlows=["ALLOW_CLIENT_TOKEN_AUTH"])
    user_client, secret = new_app_client(cognito, pool, GenerateSecret=True)
    with aws_error("NotAuthorizedException"):
        cognito.get_client_token(ClientId=user_client, Secret=secret)
    machine, machine_secret = machine_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    with aws_error("InvalidParameterException"):
        password_sign_in(cognito, machine, "alice", PASSWORD, client_secret=machine_secret)


def test_the_signing_certificate_is_the_pools_own_and_stable(cognito, pool):
    first = cognito.get_signing_certificate(UserPoolId=pool)["Certificate"]
    cert = x509.load_der_x509_certificate(base64.b64decode(first))
    assert cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value == pool
    assert cert.issuer == cert.subject
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days >= 3650
    # Self-signed, RSA with SHA-256: its own key checks its signature.
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                             cert.signature_hash_algorithm)
    assert cognito.get_signing_certificate(UserPoolId=pool)["Certificate"] == first
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    assert cognito.get_signing_certificate(UserPoolId=other)["Certificate"] != first
    # The SAML key is not a token key.
    jwks = urllib.request.urlopen(
        f"{cognito.meta.endpoint_url}/{pool}/.well-known/jwks.json", timeout=10).read()
    assert len(__import__("json").loads(jwks)["keys"]) == 2
    with aws_error("ResourceNotFoundException"):
        cognito.get_signing_certificate(UserPoolId="us-east-1_NoSuchPool")


def test_simultaneous_first_requests_make_one_certificate(cognito, pool):
    with ThreadPoolExecutor(max_workers=6) as ex:
        certs = set(ex.map(lambda _: cognito.get_signing_certificate(UserPoolId=pool)["Certificate"], range(6)))
    assert len(certs) == 1


def test_admin_delete_software_token_removes_the_authenticator_only(cognito, server):
    env = Env(cognito, server)
    env.user("alice", email="alice@example.com", email_verified="true")
    env.enrol("alice")
    before = cognito.admin_get_user(UserPoolId=env.pool, Username="alice")
    assert before["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]
    assert env.password_auth("alice")["ChallengeName"] == "SOFTWARE_TOKEN_MFA"
    cognito.admin_delete_software_token(UserPoolId=env.pool, Username="alice")
    after = cognito.admin_get_user(UserPoolId=env.pool, Username="alice")
    assert "UserMFASettingList" not in after and "PreferredMfaSetting" not in after
    # MFA optional and no factor left: tokens without a challenge.
    assert "AccessToken" in tokens(env.password_auth("alice"))
    with aws_error("ResourceNotFoundException"):
        cognito.admin_delete_software_token(UserPoolId=env.pool, Username="alice")
    with aws_error("UserNotFoundException"):
        cognito.admin_delete_software_token(UserPoolId=env.pool, Username="nobody")
    # With MFA required, the next sign-in asks for a new factor.
    env.enrol("alice")
    env.set_mfa("ON")
    cognito.admin_delete_software_token(UserPoolId=env.pool, Username="alice")
    assert env.password_auth("alice")["ChallengeName"] == "MFA_SETUP"
