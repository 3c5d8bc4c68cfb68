"""An app client's OAuth settings, checked as Cognito checks them (exact types and messages:
docs/design/oauth-cognito-behaviour.md §3.3), and the client_credentials grant with
resource-server scopes at /oauth2/token.
"""

from __future__ import annotations

import jwt
import pytest
import requests

from oauth_support import CALLBACK, oauth_pool
from support import aws_error


@pytest.fixture
def pool(cognito):
    pool_id = oauth_pool(cognito, domain="m2m-login")
    cognito.create_resource_server(UserPoolId=pool_id, Identifier="https://api.example", Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "read"},
                                           {"ScopeName": "write", "ScopeDescription": "write"}])
    return pool_id


def create(cognito, pool, **settings):
    return cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", **settings)["UserPoolClient"]


@pytest.mark.parametrize("settings, error, message", [
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthScopes": ["openid"]}, "InvalidParameterException",
     "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows."),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"]}, "InvalidParameterException",
     "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows."),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid"]},
     "InvalidOAuthFlowException", "CallbackUrls can not be empty when code flow or implicit flow is selected"),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code", "client_credentials"],
      "AllowedOAuthScopes": ["https://api.example/read"], "CallbackURLs": [CALLBACK], "GenerateSecret": True},
     "InvalidOAuthFlowException",
     "client_credentials flow can not be selected along with code flow or implicit flow."),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["client_credentials"],
      "AllowedOAuthScopes": ["https://api.example/read"]}, "InvalidOAuthFlowException",
     "client_credentials flow can not be selected if client does not have a client secret."),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["client_credentials"],
      "AllowedOAuthScopes": ["https://api.example/read", "openid"], "GenerateSecret": True},
     "InvalidOAuthFlowException", "openid is not supported with client_credentials flow"),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"], "CallbackURLs": [CALLBACK],
      "AllowedOAuthScopes": ["openid", "https://api.example/delete"]}, "ScopeDoesNotExistException",
     "Invalid scope requested: https://api.example/delete"),
    ({"AllowedOAuthFlowsUserPoolClient": True, "AllowedOAuthFlows": ["code"], "CallbackURLs": [CALLBACK],
      "AllowedOAuthScopes": ["openid"], "LogoutURLs": ["http://app.example/bye"]}, "InvalidParameterException",
     "Invalid logout URL http://app.example/bye: HTTPS is required except for localhost."),
])
def test_oauth_settings_are_refused_in_cognitos_words(cognito, pool, settings, error, message):
    with aws_error(error, message):
        create(cognito, pool, **settings)


def test_a_resource_server_scope_may_be_given_to_a_client(cognito, pool):
    c = create(cognito, pool, GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
               AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["https://api.example/read"])
    assert c["AllowedOAuthScopes"] == ["https://api.example/read"]


def m2m_client(cognito, pool, scopes=("https://api.example/read", "https://api.example/write")):
    c = create(cognito, pool, GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
               AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=list(scopes))
    return c["ClientId"], c["ClientSecret"]


def client_token(server, client_id, secret, **form):
    return requests.post(f"{server.url}/oauth2/token", data={"grant_type": "client_credentials", **form},
                         auth=(client_id, secret))


def claims(server, pool, token):
    key = jwt.PyJWKClient(f"{server.url}/{pool}/.well-known/jwks.json").get_signing_key_from_jwt(token).key
    return jwt.decode(token, key, algorithms=["RS256"], issuer=f"{server.url}/{pool}")


def test_client_credentials_grants_only_the_scope_asked_for(server, cognito, pool):
    client_id, secret = m2m_client(cognito, pool)
    r = client_token(server, client_id, secret, scope="https://api.example/read")
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    c = claims(server, pool, body["access_token"])
    assert c["scope"] == "https://api.example/read"
    assert c["sub"] == client_id and c["client_id"] == client_id and c["token_use"] == "access"
    # Without `scope`: every scope of the client.
    c = claims(server, pool, client_token(server, client_id, secret).json()["access_token"])
    assert c["scope"].split() == ["https://api.example/read", "https://api.example/write"]


def test_client_credentials_refusals(server, cognito, pool):
    client_id, secret = m2m_client(cognito, pool, scopes=("https://api.example/read",))
    r = client_token(server, client_id, secret, scope="https://api.example/write")
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
    r = client_token(server, client_id, "wrong")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    assert "WWW-Authenticate" in r.headers
    r = requests.post(f"{server.url}/oauth2/token", data={"grant_type": "password", "client_id": client_id})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = requests.post(f"{server.url}/oauth2/token", json={"grant_type": "client_credentials"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"


def test_a_deleted_scope_drops_out_of_new_tokens_but_stays_on_the_client(server, cognito, pool):
    client_id, secret = m2m_client(cognito, pool)
    cognito.update_resource_server(UserPoolId=pool, Identifier="https://api.example", Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    c = claims(server, pool, client_token(server, client_id, secret).json()["access_token"])
    assert c["scope"] == "https://api.example/read"
    described = cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    assert "https://api.example/write" in described["AllowedOAuthScopes"]
    cognito.delete_resource_server(UserPoolId=pool, Identifier="https://api.example")
    r = client_token(server, client_id, secret)
    assert r.status_code == 400 and r.json()["error"] == "invalid_scope"
