"""The AWS CLI (awscli from PyPI, run as `python -m awscli`) against Gatehouse with --endpoint-url.

Acceptance: the AWS CLI creates and describes a pool against it with --endpoint-url; after a
restart the pool is still there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from support import DUMMY_KEY, DUMMY_SECRET


def aws_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=DUMMY_KEY,
        AWS_SECRET_ACCESS_KEY=DUMMY_SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_PAGER="",
    )
    return env


def aws(tmp_path, endpoint: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "awscli", "cognito-idp", *args, "--endpoint-url", endpoint, "--output", "json"]
    proc = subprocess.run(cmd, env=aws_env(tmp_path), capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, f"{cmd}\nstdout: {proc.stdout}\nstderr: {proc.stderr}"
    return proc


def test_cli_create_describe_restart(server_factory, tmp_path):
    srv = server_factory()
    created = json.loads(aws(tmp_path, srv.url, "create-user-pool", "--pool-name", "cli-pool",
                             "--device-configuration", "ChallengeRequiredOnNewDevice=true,DeviceOnlyRememberedOnUserPrompt=false",
                             "--user-pool-tags", "origin=cli").stdout)["UserPool"]
    pool_id = created["Id"]
    assert pool_id.startswith("us-east-1_")
    assert created["Name"] == "cli-pool"

    described = json.loads(aws(tmp_path, srv.url, "describe-user-pool", "--user-pool-id", pool_id).stdout)["UserPool"]
    assert described["Id"] == pool_id
    assert described["Name"] == "cli-pool"
    assert described["DeviceConfiguration"] == {"ChallengeRequiredOnNewDevice": True,
                                                "DeviceOnlyRememberedOnUserPrompt": False}
    assert described["UserPoolTags"] == {"origin": "cli"}
    assert described["MfaConfiguration"] == "OFF"

    assert srv.stop() == 0
    srv.start()

    again = json.loads(aws(tmp_path, srv.url, "describe-user-pool", "--user-pool-id", pool_id).stdout)["UserPool"]
    assert again == described
    listed = json.loads(aws(tmp_path, srv.url, "list-user-pools", "--max-results", "10").stdout)["UserPools"]
    assert [p["Id"] for p in listed] == [pool_id]


def test_cli_client_and_error_exit(server, tmp_path):
    pool_id = json.loads(aws(tmp_path, server.url, "create-user-pool", "--pool-name", "p").stdout)["UserPool"]["Id"]
    client = json.loads(aws(tmp_path, server.url, "create-user-pool-client", "--user-pool-id", pool_id,
                            "--client-name", "cli-client", "--generate-secret",
                            "--explicit-auth-flows", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH").stdout)
    client = client["UserPoolClient"]
    assert len(client["ClientSecret"]) == 51
    assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    listed = json.loads(aws(tmp_path, server.url, "list-user-pool-clients", "--user-pool-id", pool_id).stdout)
    assert [c["ClientId"] for c in listed["UserPoolClients"]] == [client["ClientId"]]

    missing = aws(tmp_path, server.url, "describe-user-pool", "--user-pool-id", "us-east-1_AAAAAAAAA", check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr
    assert "User pool us-east-1_AAAAAAAAA does not exist." in missing.stderr


@pytest.mark.parametrize("page_size", ["1", "2"])
def test_cli_auto_pagination(server, tmp_path, cognito, page_size):
    pool_id = cognito.create_user_pool(PoolName="p")["UserPool"]["Id"]
    ids = {cognito.create_user_pool_client(UserPoolId=pool_id, ClientName=f"c{i}")["UserPoolClient"]["ClientId"]
           for i in range(5)}
    # The CLI follows NextToken itself; --page-size sets MaxResults of each request.
    out = json.loads(aws(tmp_path, server.url, "list-user-pool-clients", "--user-pool-id", pool_id,
                         "--page-size", page_size).stdout)
    assert sorted(c["ClientId"] for c in out["UserPoolClients"]) == sorted(ids)
    assert "NextToken" not in out


def test_cli_one_call_per_family_of_the_remaining_operations(server, tmp_path, cognito):
    """The AWS CLI drives each family added by the remaining-operations issue: user import,
    identity providers, client secrets, terms, UI customization and managed login styles, log
    delivery, replicas, provisioned limits, the signing certificate, auth factors."""
    pool = cognito.create_user_pool(PoolName="cli", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain="cli-families", UserPoolId=pool)
    client = cognito.create_user_pool_client(UserPoolId=pool, ClientName="c", GenerateSecret=True)["UserPoolClient"]
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")

    def run(*args):
        return json.loads(aws(tmp_path, server.url, *args).stdout or "{}")

    assert run("get-csv-header", "--user-pool-id", pool)["CSVHeader"][-1] == "password_hash"
    job = run("create-user-import-job", "--user-pool-id", pool, "--job-name", "cli",
              "--cloud-watch-logs-role-arn", "arn:aws:iam::000000000000:role/Import")["UserImportJob"]
    assert job["Status"] == "Created"
    provider = run("create-identity-provider", "--user-pool-id", pool, "--provider-name", "Google",
                   "--provider-type", "Google", "--provider-details",
                   "client_id=c,client_secret=s,authorize_scopes=openid")["IdentityProvider"]
    assert provider["ProviderDetails"]["oidc_issuer"] == "https://accounts.google.com"
    secrets = run("list-user-pool-client-secrets", "--user-pool-id", pool, "--client-id", client["ClientId"])
    assert len(secrets["ClientSecrets"]) == 1
    terms = run("create-terms", "--user-pool-id", pool, "--client-id", client["ClientId"], "--terms-name",
                "terms-of-use", "--terms-source", "LINK", "--enforcement", "NONE",
                "--links", "cognito:default=https://example.com/terms")["Terms"]
    assert terms["TermsName"] == "terms-of-use"
    assert run("set-ui-customization", "--user-pool-id", pool, "--css",
               ".label-customizable { font-weight: 700; }")["UICustomization"]["ClientId"] == "ALL"
    branding = run("create-managed-login-branding", "--user-pool-id", pool, "--client-id", client["ClientId"],
                   "--use-cognito-provided-values")["ManagedLoginBranding"]
    assert branding["UseCognitoProvidedValues"] is True
    assert run("get-log-delivery-configuration", "--user-pool-id", pool)["LogDeliveryConfiguration"] == {
        "UserPoolId": pool, "LogConfigurations": []}
    assert run("list-user-pool-replicas", "--user-pool-id", pool)["UserPoolReplicas"][0]["Role"] == "PRIMARY"
    limit = run("get-provisioned-limit", "--limit-definition",
                '{"LimitClass":"API_CATEGORY","Attributes":{"Category":"UserRead"}}')["Limit"]
    assert limit["FreeLimitValue"] == 120
    assert run("get-signing-certificate", "--user-pool-id", pool)["Certificate"]
    assert run("admin-get-user-auth-factors", "--user-pool-id", pool, "--username", "alice")["Username"] == "alice"
