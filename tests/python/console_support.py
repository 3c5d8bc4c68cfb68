"""What the console's browser tests share: a server with an admin key and a read-only key, boto3 on
that key, Chromium driven by Playwright (Debian's chromium, /usr/bin/chromium or
$GATEHOUSE_CHROMIUM), signing in, and the pools and devices the tests start from.

Without playwright or chromium, importing this skips the test module, unless
GATEHOUSE_REQUIRE_BROWSER=1 (CI sets it), which turns a missing browser into a failure. In the
PostgreSQL lane (GATEHOUSE_TEST_PROCESSES and GATEHOUSE_TEST_DATABASE_URL set) the console's
server runs on a PostgreSQL database of its own.
"""

from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from pycognito.aws_srp import generate_hash_device

from cluster import fresh_database
from support import GatehouseServer, REGION

CHROMIUM = os.environ.get("GATEHOUSE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ADMIN = ("AKIACONSOLEADMIN0000", "console-admin-secret")
READER = ("AKIACONSOLEREADER000", "console-reader-secret")
# Screenshots go to the test's temporary directory, or with GATEHOUSE_UPDATE_SCREENSHOTS=1 to
# docs/console/, where docs/console.md shows them.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
DATABASE_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL") if os.environ.get("GATEHOUSE_TEST_PROCESSES") else None

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if sync_playwright is None or not Path(CHROMIUM).exists():
    if os.environ.get("GATEHOUSE_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests required but playwright or {CHROMIUM} is missing")
    pytest.skip("playwright or chromium not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def console_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("console")
    config = base / "gatehouse.toml"
    config.write_text(
        f"""
[[credentials]]
access_key_id = "{ADMIN[0]}"
secret_access_key = "{ADMIN[1]}"

[[credentials]]
access_key_id = "{READER[0]}"
secret_access_key = "{READER[1]}"
read_only = true
"""
    )
    extra = ["--config", str(config)]
    drop = None
    if DATABASE_URL:
        url, drop = fresh_database(DATABASE_URL, prefix=(os.environ.get("GATEHOUSE_TEST_DATABASE_PREFIX") or "gh_pytest") + "_console")
        extra += ["--database-url", url]
    srv = GatehouseServer(base / "data", base / "server.log", dev=False, extra_args=tuple(extra)).start()
    yield srv
    srv.stop()
    if drop:
        drop()


@pytest.fixture
def screenshots(tmp_path):
    if os.environ.get("GATEHOUSE_UPDATE_SCREENSHOTS") == "1":
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path


@pytest.fixture(scope="module")
def admin_api(console_server):
    return boto3.client(
        "cognito-idp", endpoint_url=console_server.url, region_name=REGION,
        aws_access_key_id=ADMIN[0], aws_secret_access_key=ADMIN[1],
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


@contextmanager
def chromium():
    """Chromium under Playwright; the `browser` fixture (conftest.py) holds one for the session."""
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    pg = context.new_page()
    yield pg
    context.close()


def sign_in(page, server, key=ADMIN):
    page.goto(server.url + "/console/")
    page.get_by_label("Access key ID").fill(key[0])
    page.get_by_label("Secret access key").fill(key[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="User pools")).to_be_visible()


def mfa_optional_pool(api, name):
    return api.create_user_pool(
        PoolName=name,
        MfaConfiguration="OPTIONAL",
        SmsConfiguration={"SnsCallerArn": "arn:aws:iam::000000000000:role/sms"},
        AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": False}},
        UserPoolTags={"team": "console"},
    )["UserPool"]["Id"]


def tracked_pool_with_ana(api, name, attributes=()):
    """A pool that always remembers devices, an app client with USER_PASSWORD_AUTH, and ana."""
    pool_id = api.create_user_pool(
        PoolName=name,
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False},
    )["UserPool"]["Id"]
    client_id = api.create_user_pool_client(
        UserPoolId=pool_id, ClientName="app",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    api.admin_create_user(UserPoolId=pool_id, Username="ana", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "ana@example.com"}, *attributes])
    api.admin_set_user_password(UserPoolId=pool_id, Username="ana", Password="Passw0rd!", Permanent=True)
    return pool_id, client_id


def sign_in_as_device(api, client_id, device_key=None):
    params = {"USERNAME": "ana", "PASSWORD": "Passw0rd!"}
    if device_key:
        params["DEVICE_KEY"] = device_key
    return api.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters=params)["AuthenticationResult"]


def remember_new_device(api, client_id, name):
    """A sign-in on a new device, confirmed with `name` (remembered: the pool always remembers)."""
    result = sign_in_as_device(api, client_id)
    meta = result["NewDeviceMetadata"]
    _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    api.confirm_device(AccessToken=result["AccessToken"], DeviceKey=meta["DeviceKey"],
                       DeviceSecretVerifierConfig=verifier, DeviceName=name)
    return meta["DeviceKey"]


def open_user(page, server, pool_name, username="ana", key=ADMIN):
    sign_in(page, server, key)
    page.get_by_role("link", name=pool_name).click()
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name=username).click()
    expect(page.get_by_role("heading", name=username)).to_be_visible()
