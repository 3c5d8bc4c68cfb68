"""The device policy from the command line (docs/devices.md "Trust that expires"):
`gatehouse device-policy` works on the server's database while it runs, the server honours the
policy within a second, and DescribeUserPool's answer stays Cognito's. The cap holds when many
devices are remembered at once, and the user is told by email which devices it forgot. The rules
themselves (lifetime, cap) are proved with a clock in crates/store/tests/device_trust_with_clock.rs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

from pycognito.aws_srp import generate_hash_device

from support import GatehouseCluster, SignInEnv, gatehouse_binary, outbox_messages, refresh, tokens

ALWAYS = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}


def device_policy(server, pool: str, *flags: str) -> subprocess.CompletedProcess:
    """`gatehouse device-policy` on the database of `server`."""
    env = dict(os.environ)
    if isinstance(server, GatehouseCluster):
        where = ["--database-url", server.database_url]
        env["GATEHOUSE_SERVER_KEY"] = server.server_key
    else:
        where = ["--data-dir", str(server.data_dir)]
    return subprocess.run([str(gatehouse_binary()), "device-policy", "--pool", pool, *where, *flags],
                          capture_output=True, text=True, timeout=60, env=env)


def new_device(env) -> str:
    result = tokens(env.password_auth())
    meta = env.new_device_metadata(result)
    _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    env.cognito.confirm_device(AccessToken=result["AccessToken"], DeviceKey=meta["DeviceKey"],
                               DeviceSecretVerifierConfig=verifier)
    return meta["DeviceKey"]


def test_the_cli_sets_a_cap_the_running_server_honours(cognito, server):
    env = SignInEnv(cognito, server, devices=ALWAYS)
    env.user()
    shown = device_policy(server, env.pool)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout) == {"UserPoolId": env.pool, "RememberedDays": None, "MaxRemembered": None}
    set_ = device_policy(server, env.pool, "--max-remembered", "1", "--remembered-days", "30")
    assert set_.returncode == 0, set_.stderr
    assert json.loads(set_.stdout) == {"UserPoolId": env.pool, "RememberedDays": 30, "MaxRemembered": 1}
    time.sleep(1.2)  # the server's copy of the pool is at most 800 ms old
    first = new_device(env)
    second = new_device(env)
    keys = [d["DeviceKey"] for d in cognito.admin_list_devices(UserPoolId=env.pool, Username="alice")["Devices"]]
    assert keys == [second], (first, keys)
    # Cognito's wire is unchanged: DescribeUserPool knows nothing of the policy.
    described = json.dumps(cognito.describe_user_pool(UserPoolId=env.pool)["UserPool"], default=str)
    assert "RememberedDays" not in described and "MaxRemembered" not in described
    # 0 removes a limit.
    cleared = device_policy(server, env.pool, "--max-remembered", "0")
    assert json.loads(cleared.stdout) == {"UserPoolId": env.pool, "RememberedDays": 30, "MaxRemembered": None}


def test_the_cli_refuses_what_is_out_of_bounds_or_unknown(cognito, server):
    env = SignInEnv(cognito, server, devices=ALWAYS)
    out = device_policy(server, env.pool, "--remembered-days", "5000")
    assert out.returncode != 0 and "1 to 3650 days" in out.stderr
    out = device_policy(server, "us-east-1_AAAAAAAAA")
    assert out.returncode != 0 and "does not exist" in out.stderr


def test_devices_remembered_at_once_end_within_the_cap_and_the_user_is_told_what_it_forgot(cognito, server):
    env = SignInEnv(cognito, server, devices=ALWAYS)
    env.user(email="alice@example.com")
    assert device_policy(server, env.pool, "--max-remembered", "2").returncode == 0
    time.sleep(1.2)  # the server's copy of the pool is at most 800 ms old
    signed_in = [tokens(env.password_auth()) for _ in range(8)]

    def confirm(i: int) -> str:
        meta = env.new_device_metadata(signed_in[i])
        _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
        env.cognito.confirm_device(AccessToken=signed_in[i]["AccessToken"], DeviceKey=meta["DeviceKey"],
                                   DeviceSecretVerifierConfig=verifier, DeviceName=f"device-{i}")
        return meta["DeviceKey"]

    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(confirm, range(8)))
    listed = cognito.admin_list_devices(UserPoolId=env.pool, Username="alice")["Devices"]
    kept = {d["DeviceKey"] for d in listed}
    # Within the cap, and never emptied by requests forgetting each other's devices.
    assert 1 <= len(kept) <= 2, kept
    # Each forgotten device is named once, in a message to the user; the kept ones never.
    told = outbox_messages(server, env.pool, "DEVICE_FORGOTTEN")
    assert told and all(m["Destination"] == "alice@example.com" for m in told)
    named = [n for m in told for n in re.findall(r"^- (device-\d+) \(last used", m["Body"], re.M)]
    forgotten = {f"device-{i}" for i, k in enumerate(keys) if k not in kept}
    assert sorted(named) == sorted(forgotten), (named, forgotten)
    # A forgotten device's refresh token no longer works; a kept one's does.
    for i, key in enumerate(keys):
        try:
            works = "AuthenticationResult" in refresh(cognito, env.client_id, signed_in[i]["RefreshToken"], key)
        except cognito.exceptions.NotAuthorizedException:
            works = False
        assert works == (key in kept), (i, key, kept)
