"""Admin calls outside development mode: SigV4 with the credentials Gatehouse printed on first
start, through boto3 and the AWS CLI; AWS's refusals otherwise."""

from __future__ import annotations

import os
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import REGION, call


def signed_client(url: str, key: str, secret: str):
    return boto3.client(
        "cognito-idp", endpoint_url=url, region_name=REGION, aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def test_boto3_with_printed_credentials(server_factory):
    srv = server_factory(dev=False)
    key, secret = srv.printed_credentials()
    assert key.startswith("AKIA") and len(key) == 20
    idp = signed_client(srv.url, key, secret)
    pool = idp.create_user_pool(PoolName="signed")["UserPool"]
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Name"] == "signed"

    with pytest.raises(ClientError) as e:
        signed_client(srv.url, key, "not-the-secret").delete_user_pool(UserPoolId=pool["Id"])
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(ClientError) as e:
        signed_client(srv.url, "AKIANOSUCHKEY0000000", secret).delete_user_pool(UserPoolId=pool["Id"])
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    unsigned = call(srv.url, "DeleteUserPool", {"UserPoolId": pool["Id"]})
    assert unsigned.status == 400 and unsigned.json()["__type"] == "MissingAuthenticationTokenException"
    # None of the refused calls deleted the pool.
    assert idp.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]["Id"] == pool["Id"]


def test_aws_cli_with_printed_credentials_and_the_shared_credentials_file(server_factory, tmp_path):
    srv = server_factory(dev=False)
    key, secret = srv.printed_credentials()
    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    base.update(AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE=str(tmp_path / "none"), AWS_PAGER="")

    def aws(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "awscli", "cognito-idp", *args, "--endpoint-url", srv.url, "--output", "json"],
            env={**base, **env_extra}, capture_output=True, text=True, timeout=60,
        )

    # The two pasted export lines.
    ok = aws({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}, "create-user-pool", "--pool-name", "cli")
    assert ok.returncode == 0, ok.stderr
    # The credentials file Gatehouse wrote, as AWS_SHARED_CREDENTIALS_FILE.
    listed = aws({"AWS_SHARED_CREDENTIALS_FILE": str(srv.data_dir / "credentials")}, "list-user-pools", "--max-results", "10")
    assert listed.returncode == 0, listed.stderr
    assert '"cli"' in listed.stdout
    bad = aws({"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": "wrong"}, "list-user-pools", "--max-results", "10")
    assert bad.returncode != 0
    assert "InvalidSignatureException" in bad.stderr
