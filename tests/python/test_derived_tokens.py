"""GetDerivedToken (RFC 8693 token exchange) through boto3: a client allowed to exchange trades
a user's access token for one bound to a resource server, no wider than the subject's, recording
an actor for delegation, and dying with the subject's sign-in. Cognito has documented only the
model: docs/design/remaining-operations-cognito-behaviour.md §7.
"""

from __future__ import annotations

import jwt
import pytest

from support import PASSWORD, aws_error, new_app_client, new_confirmed_user, password_sign_in, verify_jwt


@pytest.fixture
def setup(cognito, pool):
    cognito.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "r"}])
    app, _ = new_app_client(cognito, pool)
    exchanger = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="exchanger", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_TOKEN_EXCHANGE_IMPERSONATION", "ALLOW_TOKEN_EXCHANGE_DELEGATION"])["UserPoolClient"]
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    alice = password_sign_in(cognito, app, "alice", PASSWORD)["AuthenticationResult"]
    bob = password_sign_in(cognito, app, "bob", PASSWORD)["AuthenticationResult"]
    return app, exchanger["ClientId"], exchanger["ClientSecret"], alice, bob


def derive(cognito, client_id, secret, subject, **extra):
    extra.setdefault("SubjectTokenType", "ACCESS_TOKEN")
    return cognito.get_derived_token(ClientId=client_id, ClientSecret=secret, SubjectToken=subject, **extra)


def test_an_exchanged_token_is_audience_bound_and_the_subjects(server, cognito, pool, setup):
    _, client_id, secret, alice, _ = setup
    issued = derive(cognito, client_id, secret, alice["AccessToken"], Audiences=["orders"])
    assert (issued["IssuedTokenType"], issued["TokenType"]) == ("ACCESS_TOKEN", "Bearer")
    claims = verify_jwt(f"{server.url}/{pool}", issued["IssuedToken"], "access")
    subject = jwt.decode(alice["AccessToken"], options={"verify_signature": False})
    assert (claims["sub"], claims["username"], claims["client_id"], claims["aud"]) == (
        subject["sub"], "alice", client_id, "orders")
    assert claims["exp"] <= subject["exp"] and claims["origin_jti"] == subject["origin_jti"]
    # For the resource server only: Cognito's own user operations are not its to call.
    assert "scope" not in claims and "Scopes" not in issued and "act" not in claims
    with aws_error("NotAuthorizedException"):
        cognito.get_user(AccessToken=issued["IssuedToken"])


def test_delegation_records_the_actor(server, cognito, pool, setup):
    _, client_id, secret, alice, bob = setup
    issued = derive(cognito, client_id, secret, alice["AccessToken"], ActorToken=bob["AccessToken"],
                    ActorTokenType="ACCESS_TOKEN", Resources=["orders"])
    claims = verify_jwt(f"{server.url}/{pool}", issued["IssuedToken"], "access")
    bob_sub = jwt.decode(bob["AccessToken"], options={"verify_signature": False})["sub"]
    assert claims["act"]["sub"] == bob_sub and claims["aud"] == "orders"


def test_refusals_and_revocation(cognito, pool, setup):
    app, client_id, secret, alice, _ = setup
    with aws_error("NotAuthorizedException", "Invalid client or secret"):
        derive(cognito, client_id, "x" * 30, alice["AccessToken"])
    with aws_error("NotAuthorizedException", "Token exchange is not enabled"):
        cognito.get_derived_token(ClientId=app, SubjectToken=alice["AccessToken"], SubjectTokenType="ACCESS_TOKEN")
    with aws_error("InvalidParameterException", "not a resource server"):
        derive(cognito, client_id, secret, alice["AccessToken"], Audiences=["billing"])
    with aws_error("InvalidParameterException", "not in the subject token"):
        derive(cognito, client_id, secret, alice["AccessToken"], Scopes=["orders/read"])
    with aws_error("InvalidParameterException", "not supported"):
        derive(cognito, client_id, secret, alice["IdToken"], SubjectTokenType="ID_TOKEN")
    # The subject's sign-out ends what it could be exchanged for.
    cognito.global_sign_out(AccessToken=alice["AccessToken"])
    with aws_error("NotAuthorizedException", "revoked"):
        derive(cognito, client_id, secret, alice["AccessToken"])
