"""The server as a process: persistence across restarts, --region/--account-id, health, shutdown."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request

import pytest

from support import GatehouseServer, aws_error, make_client


def test_pool_and_client_survive_restart(server_factory):
    srv = server_factory()
    cognito = srv.client()
    pool = cognito.create_user_pool(
        PoolName="durable", DeletionProtection="ACTIVE", UsernameAttributes=["email"],
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True},
        Schema=[{"Name": "tenant", "AttributeDataType": "String"}], UserPoolTags={"k": "v"},
    )["UserPool"]
    cognito.add_custom_attributes(UserPoolId=pool["Id"], CustomAttributes=[{"Name": "late", "AttributeDataType": "Number"}])
    client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"], ClientName="web", GenerateSecret=True, ReadAttributes=["email", "custom:tenant"],
        AccessTokenValidity=30, TokenValidityUnits={"AccessToken": "minutes"})["UserPoolClient"]
    deleted = cognito.create_user_pool(PoolName="deleted")["UserPool"]["Id"]
    cognito.delete_user_pool(UserPoolId=deleted)
    pool_before = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    client_before = cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])["UserPoolClient"]

    assert srv.stop() == 0, "SIGTERM should shut down cleanly:\n" + srv.log_tail()
    srv.start()  # same data dir, new port
    cognito = srv.client()

    assert cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"] == pool_before
    assert cognito.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])["UserPoolClient"] == client_before
    assert [p["Id"] for p in cognito.list_user_pools(MaxResults=60)["UserPools"]] == [pool["Id"]]
    assert cognito.list_tags_for_resource(ResourceArn=pool["Arn"])["Tags"] == {"k": "v"}
    with aws_error("ResourceNotFoundException"):
        cognito.describe_user_pool(UserPoolId=deleted)
    # Deletion protection is also state that must persist.
    with aws_error("InvalidParameterException"):
        cognito.delete_user_pool(UserPoolId=pool["Id"])

    # And writes after the restart work and persist too.
    cognito.update_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"], ClientName="renamed")
    srv.restart()
    after = srv.client().describe_user_pool_client(UserPoolId=pool["Id"], ClientId=client["ClientId"])["UserPoolClient"]
    assert after["ClientName"] == "renamed"
    assert after["ClientSecret"] == client["ClientSecret"]


def test_region_and_account_flags(tmp_path):
    srv = GatehouseServer(tmp_path / "data", tmp_path / "server.log", region="eu-west-2", account_id="123456789012")
    srv.start()
    try:
        cognito = make_client(srv.url)
        pool = cognito.create_user_pool(PoolName="regional")["UserPool"]
        assert re.fullmatch(r"eu-west-2_[0-9A-Za-z]{9}", pool["Id"]), pool["Id"]
        assert pool["Arn"] == f"arn:aws:cognito-idp:eu-west-2:123456789012:userpool/{pool['Id']}"
        cognito.tag_resource(ResourceArn=pool["Arn"], Tags={"a": "b"})
        assert cognito.list_tags_for_resource(ResourceArn=pool["Arn"])["Tags"] == {"a": "b"}
        assert srv.stop() == 0
    finally:
        srv.stop()


def test_health_endpoint(server):
    with urllib.request.urlopen(server.url + "/health", timeout=5) as r:
        assert r.status == 200
        body = json.load(r)
    assert body["status"] == "ok"
    assert body["dev"] is True
    assert isinstance(body["version"], str) and body["version"]


def test_healthcheck_subcommand(server, server_factory):
    up = subprocess.run([str(server.binary), "healthcheck", "--url", server.url],
                        capture_output=True, timeout=30)
    assert up.returncode == 0, up

    srv = server_factory()
    url = srv.url
    srv.stop()
    down = subprocess.run([str(server.binary), "healthcheck", "--url", url], capture_output=True, timeout=30)
    assert down.returncode != 0, down


def test_reset_wipes_everything(server, cognito):
    pool = cognito.create_user_pool(PoolName="p", DeletionProtection="ACTIVE")["UserPool"]["Id"]
    cognito.create_user_pool_client(UserPoolId=pool, ClientName="c")
    server.reset()
    assert cognito.list_user_pools(MaxResults=60)["UserPools"] == []
    with aws_error("ResourceNotFoundException"):
        cognito.describe_user_pool(UserPoolId=pool)


def test_requests_are_spread_over_the_processes(server, cognito):
    """In multi-process mode (GATEHOUSE_TEST_PROCESSES) every process answers in turn; a pool
    created through one is found through every other one at once."""
    counts = getattr(server, "request_counts", None)
    if counts is None:
        pytest.skip("one process")
    before = server.request_counts
    pool = cognito.create_user_pool(PoolName="spread")["UserPool"]["Id"]
    for _ in range(2 * len(server.endpoints)):
        assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["Name"] == "spread"
    after = server.request_counts
    assert all(a - b >= 2 for a, b in zip(after, before)), (before, after)
    for endpoint in server.endpoints:
        assert make_client(endpoint).describe_user_pool(UserPoolId=pool)["UserPool"]["Id"] == pool
