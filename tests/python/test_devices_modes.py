"""The console's device-tracking choices end to end over the wire (docs/devices.md "Modes"):
No, Always and User Opt-In, each with and without
ChallengeRequiredOnNewDevice, signed in with pycognito's SRP client and with boto3's
USER_PASSWORD_AUTH.

For a tracked mode: sign in → NewDeviceMetadata → ConfirmDevice (UserConfirmationNecessary false for
Always, true for Opt-In) → ListDevices shows the device (Always) or only after UpdateDeviceStatus
remembered (Opt-In) → the next sign-in passes DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER and gets
tokens bound to the device without NewDeviceMetadata.
"""

from __future__ import annotations

import pytest
from pycognito.aws_srp import generate_hash_device

from support import PASSWORD, SrpSignIn, aws_error, device_attributes, remembered_status, tokens
from test_devices import (
    ALWAYS, ALWAYS_SUPPRESS, NOT_ENABLED, OPT_IN, OPT_IN_SUPPRESS, UNKNOWN_KEY, Devices, device_keys,
)

TRACKED = [
    ("Always", ALWAYS),
    ("Always, ChallengeRequiredOnNewDevice", ALWAYS_SUPPRESS),
    ("User Opt-In", OPT_IN),
    ("User Opt-In, ChallengeRequiredOnNewDevice", OPT_IN_SUPPRESS),
]
FLOWS = ["USER_SRP_AUTH", "USER_PASSWORD_AUTH"]


@pytest.mark.parametrize("flow", FLOWS)
@pytest.mark.parametrize("config", [c for _, c in TRACKED], ids=[n for n, _ in TRACKED])
def test_tracked_mode_end_to_end(cognito, server, config, flow):
    env = Devices(cognito, server, config)
    env.user()
    opt_in = config["DeviceOnlyRememberedOnUserPrompt"]

    first = tokens(env.sign_in(flow))
    device, confirmed = env.confirm(first, name="laptop")
    assert confirmed["UserConfirmationNecessary"] is opt_in
    access = first["AccessToken"]

    [admin_view] = cognito.admin_list_devices(UserPoolId=env.pool, Username="alice")["Devices"]
    assert admin_view["DeviceKey"] == device.key
    assert device_attributes(admin_view)["device_name"] == "laptop"
    if opt_in:
        assert remembered_status(admin_view) == "not_remembered"
        assert device_keys(cognito.list_devices(AccessToken=access)) == []
        cognito.update_device_status(AccessToken=access, DeviceKey=device.key, DeviceRememberedStatus="remembered")
    [listed] = cognito.list_devices(AccessToken=access)["Devices"]
    assert listed["DeviceKey"] == device.key
    assert remembered_status(listed) == "remembered"

    for _ in range(2):  # the device authenticates at every later sign-in
        result = tokens(env.sign_in(flow, device=device))
        assert "NewDeviceMetadata" not in result
        claims = env.access_claims(result["AccessToken"])
        assert claims["device_key"] == device.key and claims["username"] == "alice"
    assert env.admin_keys() == [device.key]


def test_partial_device_configuration_is_always(cognito, server):
    """Sending the object at all turns tracking on: {ChallengeRequiredOnNewDevice: true} alone is
    Always (ConfirmDevice remembers at once)."""
    env = Devices(cognito, server, {"ChallengeRequiredOnNewDevice": True})
    env.user()
    device, confirmed = env.confirm(tokens(env.sign_in()))
    assert confirmed["UserConfirmationNecessary"] is False
    assert remembered_status(env.admin_device(device.key)) == "remembered"


# --- No (DeviceConfiguration absent) ---------------------------------------------------------------

@pytest.mark.parametrize("flow", FLOWS + ["ADMIN_USER_PASSWORD_AUTH"])
def test_no_tracking_issues_no_device(cognito, server, flow):
    """Tracking off: tokens without NewDeviceMetadata and an access token without device_key."""
    env = Devices(cognito, server, None)
    env.user()
    result = tokens(env.sign_in(flow))
    assert "NewDeviceMetadata" not in result
    assert "device_key" not in env.access_claims(result["AccessToken"])


def test_no_tracking_ignores_device_keys_at_sign_in(cognito, server):
    """Tracking off: a DEVICE_KEY in InitiateAuth or in the PASSWORD_VERIFIER answer is ignored."""
    env = Devices(cognito, server, None)
    env.user()
    for flow in ("USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"):
        result = tokens(env.password_sign_in(device_key=UNKNOWN_KEY, flow=flow))
        assert "NewDeviceMetadata" not in result
    srp = SrpSignIn(cognito, env.pool, env.client_id, "alice", PASSWORD)
    result = tokens(srp.respond(srp.responses(srp.initiate(), DEVICE_KEY=UNKNOWN_KEY)))
    assert "NewDeviceMetadata" not in result
    assert "device_key" not in env.access_claims(result["AccessToken"])


def _device_op(env: Devices, op: str, access: str) -> dict:
    c, target = env.cognito, {"UserPoolId": env.pool, "Username": "alice"}
    if op == "ConfirmDevice":
        _, verifier = generate_hash_device("-group", UNKNOWN_KEY)
        return c.confirm_device(AccessToken=access, DeviceKey=UNKNOWN_KEY, DeviceSecretVerifierConfig=verifier)
    if op == "GetDevice":
        return c.get_device(AccessToken=access, DeviceKey=UNKNOWN_KEY)
    if op == "ListDevices":
        return c.list_devices(AccessToken=access)
    if op == "UpdateDeviceStatus":
        return c.update_device_status(AccessToken=access, DeviceKey=UNKNOWN_KEY, DeviceRememberedStatus="remembered")
    if op == "ForgetDevice":
        return c.forget_device(AccessToken=access, DeviceKey=UNKNOWN_KEY)
    if op == "AdminGetDevice":
        return c.admin_get_device(**target, DeviceKey=UNKNOWN_KEY)
    if op == "AdminListDevices":
        return c.admin_list_devices(**target)
    if op == "AdminUpdateDeviceStatus":
        return c.admin_update_device_status(**target, DeviceKey=UNKNOWN_KEY, DeviceRememberedStatus="remembered")
    assert op == "AdminForgetDevice"
    return c.admin_forget_device(**target, DeviceKey=UNKNOWN_KEY)


DEVICE_OPS = ["ConfirmDevice", "GetDevice", "ListDevices", "UpdateDeviceStatus", "ForgetDevice", "AdminGetDevice",
              "AdminListDevices", "AdminUpdateDeviceStatus", "AdminForgetDevice"]


@pytest.mark.parametrize("op", DEVICE_OPS)
def test_no_tracking_refuses_device_operations(cognito, server, op):
    """Tracking off: every device operation answers InvalidUserPoolConfigurationException."""
    env = Devices(cognito, server, None)
    env.user()
    access = tokens(env.sign_in())["AccessToken"]
    with aws_error("InvalidUserPoolConfigurationException", NOT_ENABLED):
        _device_op(env, op, access)


def test_tracking_turned_off_after_devices_were_remembered(cognito, server):
    """UpdateUserPool without DeviceConfiguration turns tracking off: a remembered device's key is
    ignored at sign-in (tokens at once, no device challenge, no new key) and device calls are refused."""
    env = Devices(cognito, server, ALWAYS)
    env.user()
    device, _ = env.remembered_device()
    cognito.update_user_pool(UserPoolId=env.pool)
    assert "DeviceConfiguration" not in cognito.describe_user_pool(UserPoolId=env.pool)["UserPool"]

    result = tokens(env.password_sign_in(device_key=device.key))
    assert "NewDeviceMetadata" not in result
    assert "device_key" not in env.access_claims(result["AccessToken"])
    srp_result = tokens(env.srp(device=device).authenticate_user())
    assert "NewDeviceMetadata" not in srp_result
    with aws_error("InvalidUserPoolConfigurationException", NOT_ENABLED):
        cognito.list_devices(AccessToken=result["AccessToken"])
    with aws_error("InvalidUserPoolConfigurationException", NOT_ENABLED):
        cognito.admin_list_devices(UserPoolId=env.pool, Username="alice")
