"""App clients: CreateUserPoolClient / Describe / Update / Delete / ListUserPoolClients."""

from __future__ import annotations

import re

import pytest

from support import aws_error, strip_meta, token_validity_seconds

CLIENT_ID_RE = re.compile(r"^[a-z0-9]{26}$")
DEFAULT_VALIDITY = {"AccessToken": 3600, "IdToken": 3600, "RefreshToken": 30 * 86400}

FULL_CLIENT = dict(
    ClientName="web app+=,.@-_ 1",
    GenerateSecret=True,
    RefreshTokenValidity=10,
    AccessTokenValidity=2,
    IdTokenValidity=3,
    ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH"],
    ReadAttributes=["email", "email_verified", "custom:tenant"],
    WriteAttributes=["email", "custom:tenant"],
    SupportedIdentityProviders=["COGNITO"],
    CallbackURLs=["https://a.example/cb", "https://b.example/cb", "http://localhost:3000/cb", "myapp://callback"],
    LogoutURLs=["https://a.example/out"],
    DefaultRedirectURI="https://b.example/cb",
    AllowedOAuthFlows=["code", "implicit"],
    AllowedOAuthScopes=["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
    AllowedOAuthFlowsUserPoolClient=True,
    PreventUserExistenceErrors="ENABLED",
    EnableTokenRevocation=False,
    EnablePropagateAdditionalUserContextData=True,
    AuthSessionValidity=10,
)
ECHOED = [k for k in FULL_CLIENT if k not in ("GenerateSecret",)]


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(
        PoolName="clients", Schema=[{"Name": "tenant", "AttributeDataType": "String"}])["UserPool"]["Id"]


def describe(cognito, pool, client_id):
    return cognito.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]


# --- create / describe ---------------------------------------------------------------------------

def test_create_minimal_client_defaults(cognito, pool):
    created = cognito.create_user_pool_client(UserPoolId=pool, ClientName="minimal")["UserPoolClient"]
    assert CLIENT_ID_RE.match(created["ClientId"]), created["ClientId"]
    assert created["UserPoolId"] == pool
    assert created["ClientName"] == "minimal"
    assert "ClientSecret" not in created
    assert created["AccessTokenValidity"] == 60
    assert created["IdTokenValidity"] == 60
    assert created["RefreshTokenValidity"] == 30
    assert created["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}
    assert created["PreventUserExistenceErrors"] == "LEGACY"
    assert created["EnableTokenRevocation"] is True
    assert created["AuthSessionValidity"] == 3
    assert created.get("AllowedOAuthFlowsUserPoolClient", False) is False
    # "Amazon Cognito only populates ReadAttributes [WriteAttributes] in the API response if you
    # have specified your own custom set."
    assert "ReadAttributes" not in created and "WriteAttributes" not in created
    for key in ("CallbackURLs", "LogoutURLs", "AllowedOAuthFlows", "AllowedOAuthScopes", "DefaultRedirectURI"):
        assert not created.get(key), key
    assert created["CreationDate"] == created["LastModifiedDate"]
    assert describe(cognito, pool, created["ClientId"]) == created


def test_create_every_member_round_trips(cognito, pool):
    created = cognito.create_user_pool_client(UserPoolId=pool, **FULL_CLIENT)["UserPoolClient"]
    described = describe(cognito, pool, created["ClientId"])
    assert described == created
    for key in ECHOED:
        assert described.get(key) == FULL_CLIENT[key], (key, described.get(key))
    assert len(described["ClientSecret"]) == 51
    assert re.fullmatch(r"[\w+]+", described["ClientSecret"])


def test_generated_secrets_differ(cognito, pool):
    secrets = {cognito.create_user_pool_client(UserPoolId=pool, ClientName=f"c{i}", GenerateSecret=True)
               ["UserPoolClient"]["ClientSecret"] for i in range(5)}
    assert len(secrets) == 5
    assert all(len(s) == 51 for s in secrets)


def test_generate_secret_false_has_no_secret(cognito, pool):
    created = cognito.create_user_pool_client(UserPoolId=pool, ClientName="public", GenerateSecret=False)
    client_id = created["UserPoolClient"]["ClientId"]
    assert "ClientSecret" not in created["UserPoolClient"]
    assert "ClientSecret" not in describe(cognito, pool, client_id)


def test_generate_secret_and_custom_secret_are_exclusive(cognito, pool):
    # "You cannot specify both GenerateSecret as true and provide a ClientSecret value."
    with aws_error("InvalidParameterException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="both", GenerateSecret=True,
                                        ClientSecret="abcdefghijklmnopqrstuvwxyz0123")
    assert cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"] == []


def test_custom_client_secret(cognito, pool):
    secret = "abcdefghijklmnopqrstuvwxyz0123"
    created = cognito.create_user_pool_client(UserPoolId=pool, ClientName="custom", ClientSecret=secret)
    assert created["UserPoolClient"]["ClientSecret"] == secret
    assert describe(cognito, pool, created["UserPoolClient"]["ClientId"])["ClientSecret"] == secret


def test_client_ids_unique_across_pools(cognito, pool):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    ids = [cognito.create_user_pool_client(UserPoolId=p, ClientName="same")["UserPoolClient"]["ClientId"]
           for p in (pool, other) for _ in range(5)]
    assert len(set(ids)) == 10


def test_create_client_unknown_pool(cognito):
    with aws_error("ResourceNotFoundException", "User pool us-east-1_DDDDDDDDD does not exist."):
        cognito.create_user_pool_client(UserPoolId="us-east-1_DDDDDDDDD", ClientName="c")


def test_describe_unknown_client(cognito, pool):
    with aws_error("ResourceNotFoundException", "abcdefghijklmnopqrstuvwxyz"):
        cognito.describe_user_pool_client(UserPoolId=pool, ClientId="abcdefghijklmnopqrstuvwxyz")


def test_client_is_scoped_to_its_pool(cognito, pool):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    with aws_error("ResourceNotFoundException"):
        cognito.describe_user_pool_client(UserPoolId=other, ClientId=client_id)
    with aws_error("ResourceNotFoundException"):
        cognito.update_user_pool_client(UserPoolId=other, ClientId=client_id, ClientName="hijack")
    with aws_error("ResourceNotFoundException"):
        cognito.delete_user_pool_client(UserPoolId=other, ClientId=client_id)
    assert describe(cognito, pool, client_id)["ClientName"] == "c"


def test_create_client_validation(cognito_raw, pool):
    with aws_error("InvalidParameterException",
                   "Value 'bad/name' at 'clientName' failed to satisfy constraint: "
                   "Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"):
        cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName="bad/name")
    with aws_error("InvalidParameterException", "at 'explicitAuthFlows.1.member' failed to satisfy constraint"):
        cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_FOO"])
    with aws_error("InvalidParameterException", "at 'authSessionValidity' failed to satisfy constraint"):
        cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName="c", AuthSessionValidity=16)
    with aws_error("InvalidParameterException", "at 'preventUserExistenceErrors' failed to satisfy constraint"):
        cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName="c", PreventUserExistenceErrors="ON")
    assert cognito_raw.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"] == []


# --- attributes and auth flows -------------------------------------------------------------------

@pytest.mark.parametrize("member", ["ReadAttributes", "WriteAttributes"])
@pytest.mark.parametrize("attribute", ["nope", "custom:missing", "tenant"])
def test_attribute_permissions_must_name_schema_attributes(cognito, pool, member, attribute):
    with aws_error("InvalidParameterException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", **{member: ["email", attribute]})
    assert cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"] == []


def test_attribute_permissions_round_trip(cognito, pool):
    created = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="c", ReadAttributes=["custom:tenant", "given_name", "phone_number_verified"],
        WriteAttributes=["given_name"])["UserPoolClient"]
    described = describe(cognito, pool, created["ClientId"])
    assert sorted(described["ReadAttributes"]) == ["custom:tenant", "given_name", "phone_number_verified"]
    assert described["WriteAttributes"] == ["given_name"]


def test_explicit_auth_flows_round_trip(cognito, pool):
    flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                                ExplicitAuthFlows=flows)["UserPoolClient"]["ClientId"]
    assert sorted(describe(cognito, pool, client_id)["ExplicitAuthFlows"]) == sorted(flows)


# --- token validity ------------------------------------------------------------------------------

def test_token_validity_with_units(cognito, pool):
    units = {"AccessToken": "minutes", "IdToken": "seconds", "RefreshToken": "hours"}
    created = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="c", AccessTokenValidity=15, IdTokenValidity=900, RefreshTokenValidity=12,
        TokenValidityUnits=units)["UserPoolClient"]
    described = describe(cognito, pool, created["ClientId"])
    assert described["AccessTokenValidity"] == 15
    assert described["IdTokenValidity"] == 900
    assert described["RefreshTokenValidity"] == 12
    assert described["TokenValidityUnits"] == units


def test_token_validity_without_units_defaults(cognito, pool):
    # Default unit in an API request: hours for access and ID tokens, days for refresh tokens.
    created = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="c", AccessTokenValidity=2, IdTokenValidity=3,
        RefreshTokenValidity=10)["UserPoolClient"]
    described = describe(cognito, pool, created["ClientId"])
    assert token_validity_seconds(described, "AccessToken") == 2 * 3600
    assert token_validity_seconds(described, "IdToken") == 3 * 3600
    assert token_validity_seconds(described, "RefreshToken") == 10 * 86400


def test_partial_units_keep_defaults_for_the_others(cognito, pool):
    created = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="c", AccessTokenValidity=30,
        TokenValidityUnits={"AccessToken": "minutes"})["UserPoolClient"]
    described = describe(cognito, pool, created["ClientId"])
    assert token_validity_seconds(described, "AccessToken") == 30 * 60
    assert token_validity_seconds(described, "IdToken") == DEFAULT_VALIDITY["IdToken"]
    assert token_validity_seconds(described, "RefreshToken") == DEFAULT_VALIDITY["RefreshToken"]


def test_default_token_validity_is_one_hour_and_thirty_days(cognito, pool):
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    described = describe(cognito, pool, client_id)
    for token, seconds in DEFAULT_VALIDITY.items():
        assert token_validity_seconds(described, token) == seconds, token


def test_refresh_token_validity_zero_means_default(cognito, pool):
    # "You can't set RefreshTokenValidity to 0. If you do, Amazon Cognito overrides the value with
    # the default value of 30 days."
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c",
                                                RefreshTokenValidity=0)["UserPoolClient"]["ClientId"]
    assert token_validity_seconds(describe(cognito, pool, client_id), "RefreshToken") == 30 * 86400


@pytest.mark.parametrize("kwargs", [
    dict(AccessTokenValidity=1, TokenValidityUnits={"AccessToken": "days"}),
    dict(AccessTokenValidity=24, TokenValidityUnits={"AccessToken": "hours"}),
    dict(AccessTokenValidity=5, TokenValidityUnits={"AccessToken": "minutes"}),
    dict(IdTokenValidity=300, TokenValidityUnits={"IdToken": "seconds"}),
    dict(IdTokenValidity=86400, TokenValidityUnits={"IdToken": "seconds"}),
    dict(RefreshTokenValidity=60, TokenValidityUnits={"RefreshToken": "minutes"}),
    dict(RefreshTokenValidity=3650, TokenValidityUnits={"RefreshToken": "days"}),
], ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_token_validity_bounds_accepted(cognito, pool, kwargs):
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", **kwargs)["UserPoolClient"]["ClientId"]
    described = describe(cognito, pool, client_id)
    for key, value in kwargs.items():
        if key != "TokenValidityUnits":
            assert described[key] == value


@pytest.mark.parametrize("kwargs", [
    dict(AccessTokenValidity=2, TokenValidityUnits={"AccessToken": "days"}),
    dict(AccessTokenValidity=25),  # hours by default
    dict(AccessTokenValidity=4, TokenValidityUnits={"AccessToken": "minutes"}),
    dict(IdTokenValidity=299, TokenValidityUnits={"IdToken": "seconds"}),
    dict(IdTokenValidity=2, TokenValidityUnits={"IdToken": "days"}),
    dict(RefreshTokenValidity=59, TokenValidityUnits={"RefreshToken": "minutes"}),
    dict(RefreshTokenValidity=3651),  # days by default
], ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()))
def test_token_validity_out_of_range(cognito, pool, kwargs):
    with aws_error("InvalidParameterException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", **kwargs)
    assert cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"] == []


# --- OAuth ---------------------------------------------------------------------------------------

def test_client_credentials_requires_secret(cognito, pool):
    with aws_error("InvalidOAuthFlowException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="m2m", AllowedOAuthFlows=["client_credentials"],
                                        AllowedOAuthScopes=["openid"], AllowedOAuthFlowsUserPoolClient=True)
    assert cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"] == []


@pytest.mark.parametrize("scope", ["orders/read", "no-such-scope"])
def test_unknown_scope(cognito, pool, scope):
    with aws_error("ScopeDoesNotExistException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", AllowedOAuthFlows=["code"],
                                        AllowedOAuthScopes=["openid", scope], AllowedOAuthFlowsUserPoolClient=True,
                                        CallbackURLs=["https://a.example/cb"])


def test_default_redirect_uri_must_be_a_callback_url(cognito, pool):
    # "DefaultRedirectURI ... Must be in the CallbackURLs list."
    with aws_error("InvalidParameterException"):
        cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", AllowedOAuthFlows=["code"],
                                        AllowedOAuthScopes=["openid"], AllowedOAuthFlowsUserPoolClient=True,
                                        CallbackURLs=["https://a.example/cb"],
                                        DefaultRedirectURI="https://elsewhere.example/cb")


@pytest.mark.parametrize("url", [
    "http://app.example.com/cb",       # "Amazon Cognito requires HTTPS over HTTP except for ... localhost"
    "https://app.example.com/cb#frag",  # "Not include a fragment component."
    "/relative/cb",                     # "Be an absolute URI."
])
def test_callback_url_rules(cognito_raw, pool, url):
    with aws_error("InvalidParameterException"):
        cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName="c", AllowedOAuthFlows=["code"],
                                            AllowedOAuthScopes=["openid"], AllowedOAuthFlowsUserPoolClient=True,
                                            CallbackURLs=[url])


@pytest.mark.parametrize("url", ["http://localhost:8080/cb", "http://127.0.0.1/cb", "http://[::1]:3000/cb",
                                 "myapp://example", "https://app.example.com/cb?x=1"])
def test_callback_url_allowed_forms(cognito, pool, url):
    created = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", AllowedOAuthFlows=["code"],
                                              AllowedOAuthScopes=["openid"], AllowedOAuthFlowsUserPoolClient=True,
                                              CallbackURLs=[url])["UserPoolClient"]
    assert describe(cognito, pool, created["ClientId"])["CallbackURLs"] == [url]


# --- update --------------------------------------------------------------------------------------

def test_update_sets_members_and_keeps_secret(cognito, pool):
    created = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", GenerateSecret=True)["UserPoolClient"]
    update = {k: v for k, v in FULL_CLIENT.items() if k != "GenerateSecret"}
    updated = cognito.update_user_pool_client(UserPoolId=pool, ClientId=created["ClientId"], **update)["UserPoolClient"]
    described = describe(cognito, pool, created["ClientId"])
    assert described == updated
    for key, value in update.items():
        assert described.get(key) == value, key
    assert described["ClientSecret"] == created["ClientSecret"]
    assert described["ClientId"] == created["ClientId"]
    assert described["CreationDate"] == created["CreationDate"]
    assert described["LastModifiedDate"] >= created["LastModifiedDate"]


def test_update_resets_omitted_members(cognito, pool):
    created = cognito.create_user_pool_client(UserPoolId=pool, **FULL_CLIENT)["UserPoolClient"]
    cognito.update_user_pool_client(UserPoolId=pool, ClientId=created["ClientId"], ClientName="renamed")
    after = describe(cognito, pool, created["ClientId"])
    assert after["ClientName"] == "renamed"
    assert after["ClientSecret"] == created["ClientSecret"]
    for token, seconds in DEFAULT_VALIDITY.items():
        assert token_validity_seconds(after, token) == seconds, token
    assert after["PreventUserExistenceErrors"] == "LEGACY"
    assert after["EnableTokenRevocation"] is True
    assert after["AuthSessionValidity"] == 3
    assert after.get("AllowedOAuthFlowsUserPoolClient", False) is False
    assert after.get("EnablePropagateAdditionalUserContextData", False) is False
    for key in ("ReadAttributes", "WriteAttributes", "CallbackURLs", "LogoutURLs", "DefaultRedirectURI",
                "AllowedOAuthFlows", "AllowedOAuthScopes", "SupportedIdentityProviders"):
        assert not after.get(key), key
    assert after.get("ExplicitAuthFlows") != FULL_CLIENT["ExplicitAuthFlows"]


def test_update_errors(cognito_raw, pool):
    client_id = cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName="c")["UserPoolClient"]["ClientId"]
    with aws_error("ResourceNotFoundException"):
        cognito_raw.update_user_pool_client(UserPoolId=pool, ClientId="zzzzzzzzzzzzzzzzzzzzzzzzzz", ClientName="x")
    with aws_error("ResourceNotFoundException", "User pool us-east-1_EEEEEEEEE does not exist."):
        cognito_raw.update_user_pool_client(UserPoolId="us-east-1_EEEEEEEEE", ClientId=client_id, ClientName="x")
    with aws_error("InvalidParameterException"):
        cognito_raw.update_user_pool_client(UserPoolId=pool, ClientId=client_id, ReadAttributes=["nope"])
    with aws_error("InvalidOAuthFlowException"):
        cognito_raw.update_user_pool_client(UserPoolId=pool, ClientId=client_id,
                                            AllowedOAuthFlows=["client_credentials"], AllowedOAuthScopes=["openid"],
                                            AllowedOAuthFlowsUserPoolClient=True)
    with aws_error("InvalidParameterException"):
        cognito_raw.update_user_pool_client(UserPoolId=pool, ClientId=client_id, AccessTokenValidity=2,
                                            TokenValidityUnits={"AccessToken": "days"})
    with aws_error("InvalidParameterException", "at 'clientName' failed to satisfy constraint"):
        cognito_raw.update_user_pool_client(UserPoolId=pool, ClientId=client_id, ClientName="bad/name")
    described = describe(cognito_raw, pool, client_id)
    assert described["ClientName"] == "c" and described["AccessTokenValidity"] == 60


# --- delete / list -------------------------------------------------------------------------------

def test_delete_client(cognito, pool):
    keep = cognito.create_user_pool_client(UserPoolId=pool, ClientName="keep")["UserPoolClient"]["ClientId"]
    gone = cognito.create_user_pool_client(UserPoolId=pool, ClientName="gone")["UserPoolClient"]["ClientId"]
    assert strip_meta(cognito.delete_user_pool_client(UserPoolId=pool, ClientId=gone)) == {}
    with aws_error("ResourceNotFoundException"):
        cognito.describe_user_pool_client(UserPoolId=pool, ClientId=gone)
    with aws_error("ResourceNotFoundException"):
        cognito.delete_user_pool_client(UserPoolId=pool, ClientId=gone)
    listed = cognito.list_user_pool_clients(UserPoolId=pool, MaxResults=60)["UserPoolClients"]
    assert [c["ClientId"] for c in listed] == [keep]


def test_list_clients_pages_by_hand(cognito, pool):
    made = {cognito.create_user_pool_client(UserPoolId=pool, ClientName=f"c{i}")["UserPoolClient"]["ClientId"]: f"c{i}"
            for i in range(7)}
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    cognito.create_user_pool_client(UserPoolId=other, ClientName="elsewhere")
    seen = []
    kwargs = {"UserPoolId": pool, "MaxResults": 3}
    for _ in range(10):
        page = cognito.list_user_pool_clients(**kwargs)
        assert len(page["UserPoolClients"]) <= 3
        for entry in page["UserPoolClients"]:
            assert entry["UserPoolId"] == pool
            assert entry["ClientName"] == made[entry["ClientId"]]
            assert "ClientSecret" not in entry
        seen += [c["ClientId"] for c in page["UserPoolClients"]]
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    else:
        pytest.fail("pagination does not end")
    assert sorted(seen) == sorted(made)


def test_list_clients_paginator(cognito, pool):
    made = {cognito.create_user_pool_client(UserPoolId=pool, ClientName=f"c{i}")["UserPoolClient"]["ClientId"]
            for i in range(5)}
    pages = list(cognito.get_paginator("list_user_pool_clients").paginate(
        UserPoolId=pool, PaginationConfig={"PageSize": 2}))
    assert len(pages) == 3
    assert sorted(c["ClientId"] for page in pages for c in page["UserPoolClients"]) == sorted(made)


def test_list_clients_default_max_results_and_bounds(cognito_raw, pool):
    for i in range(3):
        cognito_raw.create_user_pool_client(UserPoolId=pool, ClientName=f"c{i}")
    assert len(cognito_raw.list_user_pool_clients(UserPoolId=pool)["UserPoolClients"]) == 3
    for bad in (0, 61):
        with aws_error("InvalidParameterException", "at 'maxResults' failed to satisfy constraint"):
            cognito_raw.list_user_pool_clients(UserPoolId=pool, MaxResults=bad)
    with aws_error("ResourceNotFoundException", "User pool us-east-1_FFFFFFFFF does not exist."):
        cognito_raw.list_user_pool_clients(UserPoolId="us-east-1_FFFFFFFFF", MaxResults=10)
