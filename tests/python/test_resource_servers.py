"""Resource servers through boto3: CreateResourceServer, DescribeResourceServer,
UpdateResourceServer, DeleteResourceServer, ListResourceServers (with boto3's paginator).
Cognito's behaviour and messages: docs/design/oauth-cognito-behaviour.md §2.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from support import aws_error

SCOPES = [{"ScopeName": "read", "ScopeDescription": "Read orders"},
          {"ScopeName": "write", "ScopeDescription": "Write orders"}]


def test_create_describe_update_delete(cognito, pool):
    created = cognito.create_resource_server(UserPoolId=pool, Identifier="https://api.example.com",
                                             Name="Orders API", Scopes=SCOPES)["ResourceServer"]
    assert created == {"UserPoolId": pool, "Identifier": "https://api.example.com",
                       "Name": "Orders API", "Scopes": SCOPES}
    described = cognito.describe_resource_server(UserPoolId=pool, Identifier="https://api.example.com")
    assert described["ResourceServer"] == created

    # Update replaces the name and the scopes; scopes not given are gone.
    updated = cognito.update_resource_server(UserPoolId=pool, Identifier="https://api.example.com",
                                             Name="Orders", Scopes=SCOPES[:1])["ResourceServer"]
    assert updated["Name"] == "Orders" and updated["Scopes"] == SCOPES[:1]
    bare = cognito.update_resource_server(UserPoolId=pool, Identifier="https://api.example.com",
                                          Name="Orders")["ResourceServer"]
    assert "Scopes" not in bare
    assert "Scopes" not in cognito.describe_resource_server(
        UserPoolId=pool, Identifier="https://api.example.com")["ResourceServer"]

    cognito.delete_resource_server(UserPoolId=pool, Identifier="https://api.example.com")
    with aws_error("ResourceNotFoundException", "Resource server https://api.example.com does not exist."):
        cognito.describe_resource_server(UserPoolId=pool, Identifier="https://api.example.com")
    with aws_error("ResourceNotFoundException"):
        cognito.delete_resource_server(UserPoolId=pool, Identifier="https://api.example.com")
    with aws_error("ResourceNotFoundException"):
        cognito.update_resource_server(UserPoolId=pool, Identifier="https://api.example.com", Name="x")


def test_identifiers_are_unique_per_pool_even_when_created_at_once(cognito, pool):
    def create(_):
        try:
            cognito.create_resource_server(UserPoolId=pool, Identifier="orders", Name="Orders")
            return True
        except cognito.exceptions.InvalidParameterException as e:
            assert e.response["Error"]["Message"] == f"orders already exists in user pool {pool}."
            return False

    with ThreadPoolExecutor(max_workers=8) as ex:
        assert sum(ex.map(create, range(8))) == 1
    # Another pool may use the same identifier.
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    cognito.create_resource_server(UserPoolId=other, Identifier="orders", Name="Orders")


def test_the_models_constraints_and_repeated_scope_names_are_refused(cognito_raw, pool):
    cognito = cognito_raw
    with aws_error("InvalidParameterException", "identifier"):
        cognito.create_resource_server(UserPoolId=pool, Identifier="has space", Name="x")
    with aws_error("InvalidParameterException", "scopeName"):
        cognito.create_resource_server(UserPoolId=pool, Identifier="api", Name="x",
                                       Scopes=[{"ScopeName": "a/b", "ScopeDescription": "d"}])
    with aws_error("InvalidParameterException", "scopes"):
        cognito.create_resource_server(UserPoolId=pool, Identifier="api", Name="x",
                                       Scopes=[{"ScopeName": f"s{i}", "ScopeDescription": "d"} for i in range(101)])
    with aws_error("InvalidParameterException", "Scope read is given more than once."):
        cognito.create_resource_server(UserPoolId=pool, Identifier="api", Name="x",
                                       Scopes=[SCOPES[0], SCOPES[0]])
    with aws_error("ResourceNotFoundException", "User pool us-east-1_nothere does not exist."):
        cognito.create_resource_server(UserPoolId="us-east-1_nothere", Identifier="api", Name="x")
    assert cognito.list_resource_servers(UserPoolId=pool, MaxResults=50)["ResourceServers"] == []


def test_list_pages_through_every_server_once(cognito, pool):
    for i in range(23):
        cognito.create_resource_server(UserPoolId=pool, Identifier=f"api-{i:02d}", Name=f"API {i}")
    first = cognito.list_resource_servers(UserPoolId=pool, MaxResults=10)
    assert len(first["ResourceServers"]) == 10 and "NextToken" in first
    pages = cognito.get_paginator("list_resource_servers").paginate(
        UserPoolId=pool, PaginationConfig={"PageSize": 10})
    listed = [s["Identifier"] for page in pages for s in page["ResourceServers"]]
    assert listed == [f"api-{i:02d}" for i in range(23)]
    with aws_error("InvalidParameterException"):
        cognito.list_resource_servers(UserPoolId=pool, MaxResults=10, NextToken="not-a-token")
