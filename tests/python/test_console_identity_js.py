"""The console and a real JavaScript client together: amazon-cognito-identity-js (unmodified, run
by tests/node/identity_js_sign_in.mjs) signs in with SRP, confirms its device and remembers it;
the user's page in the console, in Chromium, lists that device by the name the library gave it;
Forget removes it; the library's next sign-in, still holding the old key, is a new device.

Needs the Node clients (npm --prefix tests/node ci) besides the browser; without them the test
is skipped, unless GATEHOUSE_REQUIRE_BROWSER=1 (CI), which makes it a failure. Fixtures:
console_support.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from console_support import *  # noqa: F401,F403 - fixtures and helpers
from console_support import expect, open_user

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
NODE = shutil.which("node")
if NODE is None or not (NODE_DIR / "node_modules" / "amazon-cognito-identity-js").exists():
    if os.environ.get("GATEHOUSE_REQUIRE_BROWSER") == "1":
        raise RuntimeError("the Node clients are required: npm --prefix tests/node ci")
    pytest.skip("node or tests/node/node_modules missing", allow_module_level=True)


def identity_js_sign_in(server, pool_id, client_id, storage):
    """One sign-in by the library over `storage` (its localStorage, kept between calls)."""
    run = subprocess.run(
        [NODE, str(NODE_DIR / "identity_js_sign_in.mjs")],
        input=json.dumps({"endpoint": server.url, "poolId": pool_id, "clientId": client_id,
                          "username": "ana", "password": "Passw0rd!", "storage": storage}),
        capture_output=True, text=True, timeout=60, cwd=NODE_DIR,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_identity_js_remembers_its_device_the_console_forgets_it_and_the_next_sign_in_is_new(
        page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(
        PoolName="identity-js-pool",
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False},
    )["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    admin_api.admin_create_user(UserPoolId=pool_id, Username="ana", MessageAction="SUPPRESS")
    admin_api.admin_set_user_password(UserPoolId=pool_id, Username="ana", Password="Passw0rd!", Permanent=True)

    first = identity_js_sign_in(console_server, pool_id, client_id, {})
    assert first["newDevice"] and not first["deviceSrp"], first["operations"]
    assert "ConfirmDevice 200" in first["operations"]
    key, name = first["deviceKey"], first["deviceName"]
    assert key and name
    # Remembered: the library's next sign-in proves the device with device SRP, no new key.
    second = identity_js_sign_in(console_server, pool_id, client_id, first["storage"])
    assert second["deviceSrp"] and not second["newDevice"], second["operations"]
    assert second["deviceKey"] == key

    open_user(page, console_server, "identity-js-pool")
    devices = page.get_by_role("table", name="Devices")
    row = devices.get_by_role("row", name=name)
    expect(row).to_contain_text("remembered")
    page.get_by_role("button", name=f"Forget {name}").click()
    expect(page.get_by_role("status")).to_have_text("The device was forgotten.")
    expect(page.get_by_text("No devices.")).to_be_visible()

    third = identity_js_sign_in(console_server, pool_id, client_id, second["storage"])
    assert third["newDevice"] and not third["deviceSrp"], third["operations"]
    assert "ConfirmDevice 200" in third["operations"]
    assert third["deviceKey"] and third["deviceKey"] != key
    listed = admin_api.admin_list_devices(UserPoolId=pool_id, Username="ana")["Devices"]
    assert [d["DeviceKey"] for d in listed] == [third["deviceKey"]]
