"""DeviceConfiguration: the console's No / Always / User Opt-In modes (docs/devices.md "Modes").

Absent object = device tracking off ("No"); any object = tracking on.
"""

from __future__ import annotations

import pytest

# (console mode, DeviceConfiguration or None for "No")
MODES = [
    ("No", None),
    ("Always, suppress MFA = No", {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": False}),
    ("Always, suppress MFA = Yes", {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": True}),
    ("User opt-in, suppress MFA = No", {"DeviceOnlyRememberedOnUserPrompt": True, "ChallengeRequiredOnNewDevice": False}),
    ("User opt-in, suppress MFA = Yes", {"DeviceOnlyRememberedOnUserPrompt": True, "ChallengeRequiredOnNewDevice": True}),
]
MODE_IDS = [m[0] for m in MODES]


def device_configuration(cognito, pool_id):
    return cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"].get("DeviceConfiguration")


@pytest.mark.parametrize("mode, config", MODES, ids=MODE_IDS)
def test_create_round_trips_mode(cognito, mode, config):
    kwargs = {"PoolName": "devices"}
    if config is not None:
        kwargs["DeviceConfiguration"] = config
    created = cognito.create_user_pool(**kwargs)["UserPool"]
    assert created.get("DeviceConfiguration") == config
    assert device_configuration(cognito, created["Id"]) == config


@pytest.mark.parametrize("mode, config", MODES, ids=MODE_IDS)
def test_update_round_trips_mode(cognito, mode, config):
    # Start from a different mode so that the update visibly changes something.
    start = {"DeviceOnlyRememberedOnUserPrompt": config is None or not config["DeviceOnlyRememberedOnUserPrompt"],
             "ChallengeRequiredOnNewDevice": config is None or not config["ChallengeRequiredOnNewDevice"]}
    pool_id = cognito.create_user_pool(PoolName="devices", DeviceConfiguration=start)["UserPool"]["Id"]
    assert device_configuration(cognito, pool_id) == start
    kwargs = {"UserPoolId": pool_id}
    if config is not None:
        kwargs["DeviceConfiguration"] = config
    cognito.update_user_pool(**kwargs)
    assert device_configuration(cognito, pool_id) == config


def test_all_false_is_on_not_off(cognito):
    # {false, false} is "Always remember, no MFA suppression", not "off".
    config = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}
    pool_id = cognito.create_user_pool(PoolName="devices", DeviceConfiguration=config)["UserPool"]["Id"]
    described = device_configuration(cognito, pool_id)
    assert described is not None
    assert described == config


def test_update_without_device_configuration_turns_tracking_off(cognito):
    config = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}
    pool_id = cognito.create_user_pool(PoolName="devices", DeviceConfiguration=config)["UserPool"]["Id"]
    # An update about something else entirely.
    cognito.update_user_pool(UserPoolId=pool_id, AutoVerifiedAttributes=["email"])
    pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert "DeviceConfiguration" not in pool
    assert pool["AutoVerifiedAttributes"] == ["email"]


def test_partial_object_turns_tracking_on(cognito):
    pool_id = cognito.create_user_pool(
        PoolName="devices", DeviceConfiguration={"ChallengeRequiredOnNewDevice": True})["UserPool"]["Id"]
    described = device_configuration(cognito, pool_id)
    assert described is not None
    assert described["ChallengeRequiredOnNewDevice"] is True
    assert described.get("DeviceOnlyRememberedOnUserPrompt", False) is False


def test_modes_cycle_on_one_pool(cognito):
    pool_id = cognito.create_user_pool(PoolName="devices")["UserPool"]["Id"]
    for _, config in MODES[1:] + MODES[:1] + MODES[2:3]:
        kwargs = {"UserPoolId": pool_id}
        if config is not None:
            kwargs["DeviceConfiguration"] = config
        cognito.update_user_pool(**kwargs)
        assert device_configuration(cognito, pool_id) == config


def test_device_configuration_is_per_pool(cognito):
    on = cognito.create_user_pool(
        PoolName="on", DeviceConfiguration={"ChallengeRequiredOnNewDevice": True,
                                            "DeviceOnlyRememberedOnUserPrompt": False})["UserPool"]["Id"]
    off = cognito.create_user_pool(PoolName="off")["UserPool"]["Id"]
    cognito.update_user_pool(UserPoolId=off)
    assert device_configuration(cognito, on) == {"ChallengeRequiredOnNewDevice": True,
                                                 "DeviceOnlyRememberedOnUserPrompt": False}
    assert device_configuration(cognito, off) is None
