"""Session tracking through boto3 (docs/sessions.md): the pool's and the app client's session
configuration, a user's sessions listed (each sign-in one token session, with its client,
device, creation and last use) and revoked, at once for its tokens, and the cap per user
enforced, also against simultaneous sign-ins."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from support import (PASSWORD, aws_error, new_app_client, new_confirmed_user, password_sign_in, pool_change_settles,
                     refresh, tokens)

SESSION_ID = re.compile(r"^tkn[a-z0-9]{25}$")


def track(cognito, pool, max_per_user=20, server=None):
    answer = cognito.set_user_pool_session_configuration(
        UserPoolId=pool, UserSessionTracking="ENABLED", TokenSession={"MaxPerUser": max_per_user})
    if server is not None:
        pool_change_settles(server)
    return answer


def sign_in(cognito, client_id, name="alice"):
    return tokens(password_sign_in(cognito, client_id, name, PASSWORD))


def test_configuration_defaults_replacement_and_refusals(cognito, pool):
    got = cognito.get_user_pool_session_configuration(UserPoolId=pool)
    assert got["UserSessionTracking"] == "DISABLED" and got["TokenSession"] == {"MaxPerUser": 20}
    client_id, _ = new_app_client(cognito, pool)
    # The client's SSO setting needs tracking first.
    with aws_error("OperationNotEnabledException"):
        cognito.set_user_pool_client_session_configuration(
            UserPoolId=pool, ClientId=client_id, SSOSession={"MaxValidityMinutes": 5})
    set_ = track(cognito, pool, 3)
    assert set_["UserSessionTracking"] == "ENABLED" and set_["TokenSession"] == {"MaxPerUser": 3}
    got = cognito.get_user_pool_session_configuration(UserPoolId=pool)
    assert got["UserSessionTracking"] == "ENABLED" and got["TokenSession"] == {"MaxPerUser": 3}
    assert cognito.get_user_pool_client_session_configuration(
        UserPoolId=pool, ClientId=client_id)["SSOSession"] == {"MaxValidityMinutes": 60}
    cognito.set_user_pool_client_session_configuration(
        UserPoolId=pool, ClientId=client_id, SSOSession={"MaxValidityMinutes": 0})
    assert cognito.get_user_pool_client_session_configuration(
        UserPoolId=pool, ClientId=client_id)["SSOSession"] == {"MaxValidityMinutes": 0}
    # Out of the model's bounds, an unknown pool or client, the Lite tier.
    with aws_error("InvalidParameterException"):
        track(cognito, pool, 101)
    with aws_error("InvalidParameterException"):
        cognito.set_user_pool_client_session_configuration(
            UserPoolId=pool, ClientId=client_id, SSOSession={"MaxValidityMinutes": 129601})
    with aws_error("ResourceNotFoundException"):
        cognito.get_user_pool_session_configuration(UserPoolId="us-east-1_nothere00")
    with aws_error("ResourceNotFoundException"):
        cognito.get_user_pool_client_session_configuration(UserPoolId=pool, ClientId="1" * 26)
    lite = cognito.create_user_pool(PoolName="lite", UserPoolTier="LITE")["UserPool"]["Id"]
    with aws_error("FeatureUnavailableInTierException"):
        track(cognito, lite)
    # Turning tracking off keeps the cap it had.
    cognito.set_user_pool_session_configuration(
        UserPoolId=pool, UserSessionTracking="DISABLED", TokenSession={"MaxPerUser": 3})
    assert cognito.get_user_pool_session_configuration(UserPoolId=pool)["UserSessionTracking"] == "DISABLED"


def test_sessions_are_listed_with_client_device_and_use_then_revoked_at_once(server, cognito, pool):
    track(cognito, pool, server=server)
    web, _ = new_app_client(cognito, pool, "web")
    mobile, _ = new_app_client(cognito, pool, "mobile")
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    before = time.time()
    first = sign_in(cognito, web)
    second = sign_in(cognito, mobile)
    listed = cognito.list_user_sessions(AccessToken=first["AccessToken"])["Sessions"]
    assert len(listed) == 2
    by_client = {s["ClientId"]: s for s in listed}
    assert set(by_client) == {web, mobile}
    for s in listed:
        assert SESSION_ID.match(s["SessionId"]) and s["SessionType"] == "TOKEN"
        assert s["CreateDate"].timestamp() >= before - 1
        assert s["LastActiveDate"] >= s["CreateDate"]
        assert s["LastIPAddress"] == "127.0.0.1"
        # boto3's User-Agent names the SDK.
        assert "Boto3" in s["DeviceType"] or "botocore" in s["DeviceType"].lower(), s
    assert by_client[web]["IsCurrentSession"] is True and by_client[mobile]["IsCurrentSession"] is False
    admin = cognito.admin_list_user_sessions(UserPoolId=pool, Username="alice")["Sessions"]
    assert {s["SessionId"] for s in admin} == {s["SessionId"] for s in listed}
    assert not any(s["IsCurrentSession"] for s in admin)

    # A refresh is the session's use: LastActiveDate moves.
    time.sleep(1.1)
    refresh(cognito, mobile, second["RefreshToken"])
    again = {s["ClientId"]: s for s in cognito.admin_list_user_sessions(UserPoolId=pool, Username="alice")["Sessions"]}
    assert again[mobile]["LastActiveDate"] > by_client[mobile]["LastActiveDate"]
    assert again[web]["LastActiveDate"] == by_client[web]["LastActiveDate"]

    # One's own session cannot be revoked this way; another one can, and its tokens die at once.
    with aws_error("InvalidParameterException"):
        cognito.revoke_user_session(AccessToken=first["AccessToken"], SessionId=by_client[web]["SessionId"])
    cognito.revoke_user_session(AccessToken=first["AccessToken"], SessionId=by_client[mobile]["SessionId"])
    with aws_error("NotAuthorizedException"):
        cognito.get_user(AccessToken=second["AccessToken"])
    with aws_error("NotAuthorizedException"):
        refresh(cognito, mobile, second["RefreshToken"])
    cognito.get_user(AccessToken=first["AccessToken"])
    assert [s["ClientId"] for s in cognito.list_user_sessions(AccessToken=first["AccessToken"])["Sessions"]] == [web]
    # Gone, unknown, SSO-shaped or malformed ids.
    with aws_error("ResourceNotFoundException"):
        cognito.revoke_user_session(AccessToken=first["AccessToken"], SessionId=by_client[mobile]["SessionId"])
    with aws_error("ResourceNotFoundException"):
        cognito.admin_revoke_user_session(UserPoolId=pool, Username="alice", SessionId="sso" + "0" * 25)
    with aws_error("InvalidParameterException"):
        cognito.admin_revoke_user_session(UserPoolId=pool, Username="alice", SessionId="tkn" + "A" * 25)

    # Another user's session is not found through this user; the admin revokes it by its user.
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    bob = sign_in(cognito, web, "bob")
    bobs = cognito.list_user_sessions(AccessToken=bob["AccessToken"])["Sessions"][0]["SessionId"]
    with aws_error("ResourceNotFoundException"):
        cognito.admin_revoke_user_session(UserPoolId=pool, Username="alice", SessionId=bobs)
    cognito.admin_revoke_user_session(UserPoolId=pool, Username="bob", SessionId=bobs)
    with aws_error("NotAuthorizedException"):
        cognito.get_user(AccessToken=bob["AccessToken"])
    with aws_error("UserNotFoundException"):
        cognito.admin_list_user_sessions(UserPoolId=pool, Username="nobody")


def test_listing_and_revoking_need_tracking(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    access = sign_in(cognito, client_id)["AccessToken"]
    with aws_error("OperationNotEnabledException"):
        cognito.list_user_sessions(AccessToken=access)
    with aws_error("OperationNotEnabledException"):
        cognito.admin_list_user_sessions(UserPoolId=pool, Username="alice")


def test_the_cap_revokes_the_least_recently_used_session(server, cognito, pool):
    track(cognito, pool, 3, server)
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    signed = [sign_in(cognito, client_id) for _ in range(3)]
    time.sleep(0.05)
    # The first is refreshed: now the second is the least recently used.
    refresh(cognito, client_id, signed[0]["RefreshToken"])
    fourth = sign_in(cognito, client_id)
    with aws_error("NotAuthorizedException"):
        cognito.get_user(AccessToken=signed[1]["AccessToken"])
    for live in (signed[0], signed[2], fourth):
        cognito.get_user(AccessToken=live["AccessToken"])
    assert len(cognito.admin_list_user_sessions(UserPoolId=pool, Username="alice")["Sessions"]) == 3
    # Lowering the cap evicts at the next sign-in, down to the new cap.
    track(cognito, pool, 1, server)
    assert len(cognito.admin_list_user_sessions(UserPoolId=pool, Username="alice")["Sessions"]) == 3
    last = sign_in(cognito, client_id)
    listed = cognito.list_user_sessions(AccessToken=last["AccessToken"])["Sessions"]
    assert len(listed) == 1 and listed[0]["IsCurrentSession"]


def test_simultaneous_sign_ins_never_pass_the_cap(server, cognito, pool):
    track(cognito, pool, 2, server)
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    clients = [server.client() for _ in range(8)]
    barrier = threading.Barrier(len(clients))

    def one(c):
        barrier.wait()
        try:
            return sign_in(c, client_id)
        except ClientError as e:
            return e.response["Error"]["Code"]

    with ThreadPoolExecutor(len(clients)) as ex:
        results = list(ex.map(one, clients))
    assert all(isinstance(r, dict) for r in results), results
    assert len(cognito.admin_list_user_sessions(UserPoolId=pool, Username="alice")["Sessions"]) == 2
    alive = 0
    for r in results:
        try:
            cognito.get_user(AccessToken=r["AccessToken"])
            alive += 1
        except ClientError as e:
            assert e.response["Error"]["Code"] == "NotAuthorizedException"
    assert alive == 2
