"""Remembered devices through real clients (docs/devices.md; the wire: docs/protocol.md
§9–11): pycognito's device flow through boto3, the device challenges
(DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER), ConfirmDevice, the user and Admin device operations,
stale device keys, and how refresh and access tokens are bound to devices.

The device maths is pycognito's (`generate_hash_device`, `AWSSRP.process_device_challenge`); its
`confirm_device` / `update_device_status` / `forget_device` post to AWS's hard-coded URL, so those
calls go through boto3 here with the values `generate_hash_device` returns.

The helpers at the top are shared with test_devices_modes.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import time

import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import generate_hash_device

from support import (
    DEVICE_KEY_RE, PASSWORD, Device, SignInEnv, SrpSignIn, aws_error, call, device_attributes, pycognito_user,
    refresh, remembered_status, tokens, user_attributes,
)

INCORRECT = "Incorrect username or password."
NO_DEVICE = "Device does not exist."
INVALID_KEY = "Invalid device key given."
NOT_ENABLED = "Device tracking is not enabled for this user pool."
INVALID_REFRESH = "Invalid Refresh Token"
REVOKED_ACCESS = "Access Token has been revoked"
HEX_RE = re.compile(r"^[0-9a-f]+$")
# Well-formed (the model's `[\w-]+_[0-9a-f-]+`) but never issued.
UNKNOWN_KEY = "us-east-1_0f0e0d0c-0b0a-4909-8807-060504030201"

ALWAYS = {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": False}
ALWAYS_SUPPRESS = {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": True}
OPT_IN = {"DeviceOnlyRememberedOnUserPrompt": True, "ChallengeRequiredOnNewDevice": False}
OPT_IN_SUPPRESS = {"DeviceOnlyRememberedOnUserPrompt": True, "ChallengeRequiredOnNewDevice": True}


# --- helpers -------------------------------------------------------------------------------------

def device_keys(answer: dict) -> list[str]:
    return [d["DeviceKey"] for d in answer["Devices"]]


class Devices(SignInEnv):
    """A pool with the given DeviceConfiguration (None: tracking off), an app client allowing
    every password flow, and the client-side steps of device sign-ins."""

    pool_name = "devices"

    def password_sign_in(self, username: str = "alice", device_key: str | None = None,
                         flow: str = "USER_PASSWORD_AUTH") -> dict:
        """password_auth with this file's order of arguments: InitiateAuth USER_PASSWORD_AUTH (or
        AdminInitiateAuth for the ADMIN_ flows), DEVICE_KEY when given; the raw answer."""
        return self.password_auth(username, flow, device_key)

    def answer_device_challenges(self, answer: dict, device: Device, username: str = "alice",
                                 device_password: str | None = None, admin: bool = False) -> dict:
        """Given the DEVICE_SRP_AUTH challenge, answer it and DEVICE_PASSWORD_VERIFIER as the JS
        clients do (echoing Session); the answer to DEVICE_PASSWORD_VERIFIER."""
        assert answer.get("ChallengeName") == "DEVICE_SRP_AUTH", answer
        assert answer["ChallengeParameters"] == {}, answer
        assert isinstance(answer.get("Session"), str) and answer["Session"], answer
        srp = self.srp(username, device, device_password)
        step = self.respond("DEVICE_SRP_AUTH", {"USERNAME": username, "DEVICE_KEY": device.key,
                                                "SRP_A": f"{srp.large_a_value:x}"}, answer["Session"], admin)
        assert step.get("ChallengeName") == "DEVICE_PASSWORD_VERIFIER", step
        params = step["ChallengeParameters"]
        assert set(params) == {"USERNAME", "DEVICE_KEY", "SRP_B", "SALT", "SECRET_BLOCK"}, params
        assert params["DEVICE_KEY"] == device.key, params
        return self.respond("DEVICE_PASSWORD_VERIFIER", srp.process_device_challenge(params), step["Session"], admin)

    def sign_in(self, flow: str = "USER_PASSWORD_AUTH", username: str = "alice", device: Device | None = None) -> dict:
        """A whole sign-in; with `device`, through the device challenges. The final answer.

        USER_SRP_AUTH is pycognito's AWSSRP.authenticate_user (DEVICE_KEY in InitiateAuth and in
        PASSWORD_VERIFIER, no Session on the device challenges); the password flows put DEVICE_KEY
        in AuthParameters and answer the device challenges with Session."""
        if flow == "USER_SRP_AUTH":
            return self.srp(username, device).authenticate_user()
        answer = self.password_sign_in(username, device.key if device else None, flow)
        if device is None:
            return answer
        return self.answer_device_challenges(answer, device, username, admin=flow.startswith("ADMIN_"))

    # devices

    def confirm(self, result: dict, name: str | None = "laptop", access_token: str | None = None
                ) -> tuple[Device, dict]:
        """ConfirmDevice for the NewDeviceMetadata of `result` with pycognito's verifier; returns
        the device the client keeps and ConfirmDevice's answer."""
        meta = self.new_device_metadata(result)
        secret, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
        kwargs = {} if name is None else {"DeviceName": name}
        answer = self.cognito.confirm_device(AccessToken=access_token or result["AccessToken"],
                                             DeviceKey=meta["DeviceKey"], DeviceSecretVerifierConfig=verifier,
                                             **kwargs)
        return Device(meta["DeviceKey"], meta["DeviceGroupKey"], secret), answer

    def remembered_device(self, username: str = "alice", name: str = "laptop") -> tuple[Device, dict]:
        """Sign in (USER_PASSWORD_AUTH), confirm the new device, and in Opt-In mode remember it;
        returns the device and the sign-in's AuthenticationResult."""
        result = tokens(self.password_sign_in(username))
        device, _ = self.confirm(result, name)
        if self.opt_in:
            self.cognito.update_device_status(AccessToken=result["AccessToken"], DeviceKey=device.key,
                                              DeviceRememberedStatus="remembered")
        return device, result

    def admin_keys(self, username: str = "alice") -> list[str]:
        return device_keys(self.cognito.admin_list_devices(UserPoolId=self.pool, Username=username))


@pytest.fixture
def always(cognito, server) -> Devices:
    env = Devices(cognito, server, ALWAYS)
    env.user("alice", email="alice@example.com", email_verified="true")
    return env


@pytest.fixture
def opt_in(cognito, server) -> Devices:
    env = Devices(cognito, server, OPT_IN)
    env.user("alice", email="alice@example.com", email_verified="true")
    return env


def get_tokens(env: Devices, refresh_token: str, device_key: str | None = None) -> dict:
    extra = {} if device_key is None else {"DeviceKey": device_key}
    return env.cognito.get_tokens_from_refresh_token(ClientId=env.client_id, RefreshToken=refresh_token, **extra)


# --- pycognito's device flow through boto3 --------------------------------------------------------

def test_pycognito_device_flow(always):
    """AWSSRP without a device gets NewDeviceMetadata; generate_hash_device + ConfirmDevice; a new
    AWSSRP holding the device passes DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER (sent without Session)
    and gets tokens bound to the device, without NewDeviceMetadata."""
    first = tokens(always.srp().authenticate_user())
    meta = always.new_device_metadata(first)
    device_password, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    confirmed = always.cognito.confirm_device(AccessToken=first["AccessToken"], DeviceKey=meta["DeviceKey"],
                                              DeviceSecretVerifierConfig=verifier, DeviceName="pycognito")
    assert confirmed["UserConfirmationNecessary"] is False
    device = Device(meta["DeviceKey"], meta["DeviceGroupKey"], device_password)
    for _ in range(2):  # the device keeps working
        result = tokens(always.srp(device=device).authenticate_user())
        assert "NewDeviceMetadata" not in result
        claims = always.access_claims(result["AccessToken"])
        assert claims["device_key"] == device.key
        assert claims["username"] == "alice"
        assert result["RefreshToken"] and result["IdToken"]
    assert always.admin_keys() == [device.key]


def test_pycognito_device_sign_in_with_an_email_alias(cognito, server):
    """pycognito sends the typed alias as USERNAME in DEVICE_SRP_AUTH; Gatehouse accepts any of the
    user's names there."""
    env = Devices(cognito, server, ALWAYS, AliasAttributes=["email"])
    env.user("alice", email="alice@example.com", email_verified="true")
    first = tokens(env.srp("alice@example.com").authenticate_user())
    device, _ = env.confirm(first)
    result = tokens(env.srp("alice@example.com", device).authenticate_user())
    assert "NewDeviceMetadata" not in result
    claims = env.access_claims(result["AccessToken"])
    assert claims["device_key"] == device.key and claims["username"] == "alice"


def test_pycognito_wrong_device_password(always):
    """A device secret that does not match the stored verifier: NotAuthorizedException, as for a
    wrong password."""
    device, _ = always.remembered_device()
    with aws_error("NotAuthorizedException", INCORRECT):
        always.srp(device=device, device_password=device.password[:-4] + "AAA=").authenticate_user()


def test_pycognito_with_a_forgotten_device(always):
    """pycognito keeps a forgotten key: its PASSWORD_VERIFIER answer is refused with
    ResourceNotFoundException "Device does not exist." (pycognito does not retry)."""
    device, _ = always.remembered_device()
    always.cognito.admin_forget_device(UserPoolId=always.pool, Username="alice", DeviceKey=device.key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.srp(device=device).authenticate_user()


def test_pycognito_cognito_class_in_a_tracked_pool(server, always):
    """pycognito's Cognito class ignores NewDeviceMetadata and never confirms the device; its
    authenticate and renew_access_token (no DEVICE_KEY) keep working in a tracked pool."""
    u = pycognito_user(server.url, always.pool, always.client_id)
    u.authenticate(PASSWORD)
    key = u.access_claims["device_key"]
    assert DEVICE_KEY_RE.match(key)
    old = u.access_token
    u.renew_access_token()
    assert u.access_token != old
    assert u.access_claims["device_key"] == key
    assert always.admin_keys() == []


def test_pycognito_renews_device_bound_tokens(server, always):
    """pycognito's renew_access_token sends no DEVICE_KEY; Gatehouse accepts the refresh of a
    device-bound token, and the new access token keeps the device_key claim."""
    device, _ = always.remembered_device()
    result = tokens(always.srp(device=device).authenticate_user())
    u = pycognito_user(server.url, always.pool, always.client_id, id_token=result["IdToken"],
                       access_token=result["AccessToken"], refresh_token=result["RefreshToken"])
    u.renew_access_token()
    assert u.access_token != result["AccessToken"]
    assert u.access_claims["device_key"] == device.key
    assert u.get_user().username == "alice"


# --- the device challenges on the wire -------------------------------------------------------------

def test_device_challenges_shape(always):
    """DEVICE_SRP_AUTH has ChallengeParameters {} and a Session; DEVICE_PASSWORD_VERIFIER carries
    USERNAME, DEVICE_KEY, SRP_B, SALT, SECRET_BLOCK and the same Session (one Session per sign-in)."""
    device, _ = always.remembered_device()
    answer = always.password_sign_in(device_key=device.key)
    assert answer["ChallengeName"] == "DEVICE_SRP_AUTH"
    assert answer["ChallengeParameters"] == {}
    assert "AuthenticationResult" not in answer
    srp = always.srp(device=device)
    step = always.respond("DEVICE_SRP_AUTH", {"USERNAME": "alice", "DEVICE_KEY": device.key,
                                              "SRP_A": f"{srp.large_a_value:x}"}, answer["Session"])
    assert step["ChallengeName"] == "DEVICE_PASSWORD_VERIFIER"
    assert step["Session"] == answer["Session"]
    params = step["ChallengeParameters"]
    assert set(params) == {"USERNAME", "DEVICE_KEY", "SRP_B", "SALT", "SECRET_BLOCK"}, params
    assert params["USERNAME"] == "alice" and params["DEVICE_KEY"] == device.key
    assert HEX_RE.match(params["SRP_B"]) and HEX_RE.match(params["SALT"]), params
    block = params["SECRET_BLOCK"]
    assert base64.b64encode(base64.b64decode(block, validate=True)).decode() == block
    result = tokens(always.respond("DEVICE_PASSWORD_VERIFIER", srp.process_device_challenge(params),
                                   step["Session"]))
    assert "NewDeviceMetadata" not in result
    assert always.access_claims(result["AccessToken"])["device_key"] == device.key


def test_device_salt_is_the_confirmed_one(always):
    """SALT in DEVICE_PASSWORD_VERIFIER is the salt the client sent in ConfirmDevice."""
    first = tokens(always.password_sign_in())
    meta = always.new_device_metadata(first)
    secret, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    always.cognito.confirm_device(AccessToken=first["AccessToken"], DeviceKey=meta["DeviceKey"],
                                  DeviceSecretVerifierConfig=verifier)
    answer = always.password_sign_in(device_key=meta["DeviceKey"])
    srp = always.srp(device=Device(meta["DeviceKey"], meta["DeviceGroupKey"], secret))
    step = always.respond("DEVICE_SRP_AUTH", {"USERNAME": "alice", "DEVICE_KEY": meta["DeviceKey"],
                                              "SRP_A": f"{srp.large_a_value:x}"}, answer["Session"])
    salt = int(step["ChallengeParameters"]["SALT"], 16)
    assert salt == int.from_bytes(base64.b64decode(verifier["Salt"]), "big")


def test_srp_sign_in_with_the_device_key_in_password_verifier(always):
    """The JS clients' SRP path: DEVICE_KEY only in the PASSWORD_VERIFIER answer, then the device
    challenges with Session echoed."""
    device, _ = always.remembered_device()
    srp = SrpSignIn(always.cognito, always.pool, always.client_id, "alice", PASSWORD)
    challenge = srp.initiate()
    answer = srp.respond(srp.responses(challenge, DEVICE_KEY=device.key))
    result = tokens(always.answer_device_challenges(answer, device))
    assert "NewDeviceMetadata" not in result
    assert always.access_claims(result["AccessToken"])["device_key"] == device.key


@pytest.mark.parametrize("flow", ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])
def test_admin_password_flow_with_a_device(always, flow):
    """DEVICE_KEY in AdminInitiateAuth's AuthParameters leads to the device challenges, answered with
    AdminRespondToAuthChallenge."""
    device, _ = always.remembered_device()
    answer = always.password_sign_in(device_key=device.key, flow=flow)
    result = tokens(always.answer_device_challenges(answer, device, admin=True))
    assert "NewDeviceMetadata" not in result
    assert always.access_claims(result["AccessToken"])["device_key"] == device.key


@pytest.mark.parametrize("name_form", ["username", "email alias", "sub"])
def test_device_challenge_username_may_be_any_name_of_the_user(cognito, server, name_form):
    """USERNAME in DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER may be the username, an alias or the sub
    (Gatehouse)."""
    env = Devices(cognito, server, ALWAYS, AliasAttributes=["email"])
    sub = user_attributes(env.user("alice", email="alice@example.com", email_verified="true"))["sub"]
    name = {"username": "alice", "email alias": "alice@example.com", "sub": sub}[name_form]
    device, _ = env.remembered_device()
    answer = env.password_sign_in(device_key=device.key)
    result = tokens(env.answer_device_challenges(answer, device, username=name))
    assert env.access_claims(result["AccessToken"])["device_key"] == device.key


def test_wrong_device_secret(always):
    """DEVICE_PASSWORD_VERIFIER signed with a wrong device password: NotAuthorizedException
    "Incorrect username or password." and no tokens."""
    device, _ = always.remembered_device()
    answer = always.password_sign_in(device_key=device.key)
    with aws_error("NotAuthorizedException", INCORRECT):
        always.answer_device_challenges(answer, device, device_password=device.password[:-4] + "AAA=")


def test_not_remembered_device_still_authenticates(opt_in):
    """Opt-In: a confirmed device the user never remembered still passes device SRP and is not
    issued again."""
    first = tokens(opt_in.password_sign_in())
    device, confirmed = opt_in.confirm(first)
    assert confirmed["UserConfirmationNecessary"] is True
    assert remembered_status(opt_in.admin_device(device.key)) == "not_remembered"
    for flow in ("USER_PASSWORD_AUTH", "USER_SRP_AUTH"):
        result = tokens(opt_in.sign_in(flow, device=device))
        assert "NewDeviceMetadata" not in result
        assert opt_in.access_claims(result["AccessToken"])["device_key"] == device.key
    assert opt_in.admin_keys() == [device.key]


def _device_srp_alone(env: Devices, device: Device, session: str | None) -> dict:
    """DEVICE_SRP_AUTH and, if that is answered, DEVICE_PASSWORD_VERIFIER with the right device
    secret — without a password step before."""
    srp = env.srp(device=device)
    step = env.respond("DEVICE_SRP_AUTH", {"USERNAME": "alice", "DEVICE_KEY": device.key,
                                           "SRP_A": f"{srp.large_a_value:x}"}, session)
    return env.respond("DEVICE_PASSWORD_VERIFIER", srp.process_device_challenge(step["ChallengeParameters"]),
                       step.get("Session", session))


def test_device_srp_alone_never_mints_tokens(always):
    """Device SRP without the password just before it is refused, with or without a Session, and a
    finished device sign-in cannot be replayed (the device secret is not a password)."""
    device, _ = always.remembered_device()
    refusals = ("NotAuthorizedException", "InvalidParameterException")
    for session in (None, "x" * 64):
        with pytest.raises(ClientError) as info:
            _device_srp_alone(always, device, session)
        assert info.value.response["Error"]["Code"] in refusals, info.value.response
    # A finished sign-in: pycognito-style (no Session) and JS-style (its Session).
    tokens(always.srp(device=device).authenticate_user())
    answer = always.password_sign_in(device_key=device.key)
    tokens(always.answer_device_challenges(answer, device))
    for session in (None, answer["Session"]):
        with pytest.raises(ClientError) as info:
            _device_srp_alone(always, device, session)
        assert info.value.response["Error"]["Code"] in refusals, info.value.response


# --- NewDeviceMetadata -----------------------------------------------------------------------------

@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH",
                                  "ADMIN_NO_SRP_AUTH"])
def test_new_device_metadata_for_every_password_flow(always, flow):
    """Every sign-in without a device ends with NewDeviceMetadata (<region>_<uuid> key, group key)
    and an access token whose device_key is that key; each sign-in gets its own key."""
    first = always.new_device_metadata(tokens(always.sign_in(flow)))
    second = always.new_device_metadata(tokens(always.sign_in(flow)))
    assert first["DeviceKey"] != second["DeviceKey"]


def test_new_device_metadata_after_new_password_required(always):
    """A sign-in that ends after NEW_PASSWORD_REQUIRED gets NewDeviceMetadata too."""
    always.cognito.admin_create_user(UserPoolId=always.pool, Username="dave", TemporaryPassword="Temp0rary!",
                                     MessageAction="SUPPRESS")
    answer = always.cognito.initiate_auth(ClientId=always.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                          AuthParameters={"USERNAME": "dave", "PASSWORD": "Temp0rary!"})
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = always.respond("NEW_PASSWORD_REQUIRED", {"USERNAME": "dave", "NEW_PASSWORD": "N3w-Passw0rd!"},
                          answer["Session"])
    result = tokens(done)
    always.new_device_metadata(result)
    device, _ = always.confirm(result)
    assert always.admin_keys("dave") == [device.key]


def test_refresh_never_hands_out_keys(always):
    """REFRESH_TOKEN_AUTH and GetTokensFromRefreshToken return no NewDeviceMetadata; the new access
    token carries the device of the refresh token's sign-in."""
    first = tokens(always.password_sign_in())
    key = always.new_device_metadata(first)["DeviceKey"]
    for renewed in (tokens(refresh(always.cognito, always.client_id, first["RefreshToken"]))["AccessToken"],
                    get_tokens(always, first["RefreshToken"])["AuthenticationResult"]["AccessToken"]):
        assert always.access_claims(renewed)["device_key"] == key
    for answer in (refresh(always.cognito, always.client_id, first["RefreshToken"]),
                   get_tokens(always, first["RefreshToken"])):
        assert "NewDeviceMetadata" not in answer["AuthenticationResult"]


def test_unconfirmed_keys_are_never_listed(always):
    """A key handed out but never confirmed is not a device: not listed, not gettable."""
    first = tokens(always.password_sign_in())
    key = always.new_device_metadata(first)["DeviceKey"]
    assert always.admin_keys() == []
    assert device_keys(always.cognito.list_devices(AccessToken=first["AccessToken"])) == []
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.admin_device(key)


# --- ConfirmDevice ---------------------------------------------------------------------------------

def test_confirm_device_answers_per_mode(always, opt_in):
    """UserConfirmationNecessary is false for Always (device remembered), true for Opt-In
    (not_remembered)."""
    for env, necessary, status in ((always, False, "remembered"), (opt_in, True, "not_remembered")):
        device, answer = env.confirm(tokens(env.password_sign_in()))
        assert answer["UserConfirmationNecessary"] is necessary
        assert remembered_status(env.admin_device(device.key)) == status


def test_confirm_device_twice(always):
    """Confirming an already confirmed key: DeviceKeyExistsException."""
    first = tokens(always.password_sign_in())
    device, _ = always.confirm(first)
    _, verifier = generate_hash_device(device.group_key, device.key)
    with aws_error("DeviceKeyExistsException"):
        always.cognito.confirm_device(AccessToken=first["AccessToken"], DeviceKey=device.key,
                                      DeviceSecretVerifierConfig=verifier)
    # The first confirmation stands.
    assert tokens(always.sign_in(device=device))


def test_confirm_device_with_another_sign_ins_access_token(always):
    """A key of this user, but issued to another sign-in than the access token's:
    InvalidParameterException "Invalid device key given."."""
    first = tokens(always.password_sign_in())
    second = tokens(always.password_sign_in())
    key = always.new_device_metadata(first)["DeviceKey"]
    group = first["NewDeviceMetadata"]["DeviceGroupKey"]
    _, verifier = generate_hash_device(group, key)
    with aws_error("InvalidParameterException", INVALID_KEY):
        always.cognito.confirm_device(AccessToken=second["AccessToken"], DeviceKey=key,
                                      DeviceSecretVerifierConfig=verifier)
    assert always.admin_keys() == []
    # With its own sign-in's token it still confirms.
    always.cognito.confirm_device(AccessToken=first["AccessToken"], DeviceKey=key, DeviceSecretVerifierConfig=verifier)
    assert always.admin_keys() == [key]


def test_confirm_device_with_another_users_key(always):
    """Another user's key: ResourceNotFoundException "Device does not exist."."""
    always.user("bob")
    bobs = tokens(always.password_sign_in("bob"))
    bob_meta = always.new_device_metadata(bobs)
    alices = tokens(always.password_sign_in())
    _, verifier = generate_hash_device(bob_meta["DeviceGroupKey"], bob_meta["DeviceKey"])
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.confirm_device(AccessToken=alices["AccessToken"], DeviceKey=bob_meta["DeviceKey"],
                                      DeviceSecretVerifierConfig=verifier)
    assert always.admin_keys("alice") == [] and always.admin_keys("bob") == []


def test_confirm_device_unknown_key(always):
    first = tokens(always.password_sign_in())
    _, verifier = generate_hash_device("-group", UNKNOWN_KEY)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.confirm_device(AccessToken=first["AccessToken"], DeviceKey=UNKNOWN_KEY,
                                      DeviceSecretVerifierConfig=verifier)


@pytest.mark.parametrize("config", [
    None,
    {"Salt": base64.b64encode(b"\x01" * 16).decode(), "PasswordVerifier": "not base64 at all!"},
    {"Salt": base64.b64encode(b"\x01" * 16).decode(), "PasswordVerifier": base64.b64encode(b"\x00").decode()},
], ids=["missing", "verifier not base64", "verifier zero"])
def test_confirm_device_needs_a_valid_verifier(cognito_raw, always, config):
    """No DeviceSecretVerifierConfig, or one that is no SRP salt and verifier:
    InvalidParameterException; the key stays confirmable."""
    first = tokens(always.password_sign_in())
    meta = always.new_device_metadata(first)
    kwargs = {} if config is None else {"DeviceSecretVerifierConfig": config}
    with aws_error("InvalidParameterException"):
        cognito_raw.confirm_device(AccessToken=first["AccessToken"], DeviceKey=meta["DeviceKey"], **kwargs)
    assert always.admin_keys() == []
    device, _ = always.confirm(first)
    assert tokens(always.sign_in(device=device))


def test_confirm_device_names_the_device_after_the_user_agent(server, always):
    """Without DeviceName, device_name is the request's User-Agent (Gatehouse) and dev:device_sdk its
    product; with boto3 that is its own User-Agent."""
    first = tokens(always.password_sign_in())
    meta = always.new_device_metadata(first)
    _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    agent = "ExampleApp/2.1 (X11; Linux x86_64) tests"
    resp = call(server.url, "ConfirmDevice", {"AccessToken": first["AccessToken"], "DeviceKey": meta["DeviceKey"],
                                              "DeviceSecretVerifierConfig": verifier},
                extra_headers={"User-Agent": agent})
    assert resp.status == 200, resp
    assert resp.json() == {"UserConfirmationNecessary": False}
    attrs = device_attributes(always.admin_device(meta["DeviceKey"]))
    assert attrs["device_name"] == agent
    assert attrs["dev:device_sdk"].startswith("ExampleApp"), attrs

    second = tokens(always.password_sign_in())
    device, _ = always.confirm(second, name=None)
    attrs = device_attributes(always.admin_device(device.key))
    assert attrs["device_name"].startswith("Boto3/"), attrs


def test_confirm_device_with_a_device_name(always):
    device, _ = always.remembered_device(name="Alice's laptop")
    assert device_attributes(always.admin_device(device.key))["device_name"] == "Alice's laptop"


# --- DeviceType ------------------------------------------------------------------------------------

def test_device_attributes_and_dates(always):
    """DeviceAttributes: device_status valid, device_name, dev:device_remembered_status,
    last_ip_used (the client's address), dev:device_owner, dev:device_arn; the three dates."""
    device, first = always.remembered_device(name="laptop")
    listed = always.cognito.admin_list_devices(UserPoolId=always.pool, Username="alice")["Devices"]
    got = always.admin_device(device.key)
    user_view = always.cognito.get_device(AccessToken=first["AccessToken"], DeviceKey=device.key)["Device"]
    for d in (listed[0], got, user_view):
        assert d["DeviceKey"] == device.key
        attrs = device_attributes(d)
        assert attrs["device_status"] == "valid"
        assert attrs["device_name"] == "laptop"
        assert attrs["dev:device_remembered_status"] == "remembered"
        assert attrs["last_ip_used"] == "127.0.0.1"
        assert attrs["dev:device_owner"] == f"alice.{always.pool}"
        assert attrs["dev:device_arn"].startswith("arn:aws:cognito-idp:"), attrs
        assert attrs["dev:device_arn"].endswith(device.key), attrs
        for field in ("DeviceCreateDate", "DeviceLastModifiedDate", "DeviceLastAuthenticatedDate"):
            assert isinstance(d[field], dt.datetime), (field, d)
        assert d["DeviceCreateDate"] <= d["DeviceLastModifiedDate"]
        now = dt.datetime.now(dt.timezone.utc)
        assert abs((now - d["DeviceCreateDate"]).total_seconds()) < 120


def test_last_authenticated_moves_forward(always):
    """DeviceLastAuthenticatedDate is updated by a device sign-in."""
    device, _ = always.remembered_device()
    before = always.admin_device(device.key)
    time.sleep(1.2)
    tokens(always.sign_in(device=device))
    after = always.admin_device(device.key)
    assert after["DeviceLastAuthenticatedDate"] > before["DeviceLastAuthenticatedDate"]
    assert after["DeviceCreateDate"] == before["DeviceCreateDate"]
    assert device_attributes(after)["last_ip_used"] == "127.0.0.1"


def test_last_ip_ignores_x_forwarded_for_from_an_untrusted_peer(server, always):
    """X-Forwarded-For is believed only from a configured trusted proxy."""
    first = tokens(always.password_sign_in())
    meta = always.new_device_metadata(first)
    _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    resp = call(server.url, "ConfirmDevice", {"AccessToken": first["AccessToken"], "DeviceKey": meta["DeviceKey"],
                                              "DeviceSecretVerifierConfig": verifier, "DeviceName": "proxied"},
                extra_headers={"X-Forwarded-For": "203.0.113.9"})
    assert resp.status == 200, resp
    assert device_attributes(always.admin_device(meta["DeviceKey"]))["last_ip_used"] == "127.0.0.1"


def test_last_ip_from_a_trusted_proxy(server_factory):
    """Behind a trusted proxy, last_ip_used is the client address from X-Forwarded-For."""
    srv = server_factory(extra_args=("--trusted-proxy", "127.0.0.1"))
    env = Devices(srv.client(), srv, ALWAYS)
    env.user()
    first = tokens(env.password_sign_in())
    meta = env.new_device_metadata(first)
    _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    resp = call(srv.url, "ConfirmDevice", {"AccessToken": first["AccessToken"], "DeviceKey": meta["DeviceKey"],
                                           "DeviceSecretVerifierConfig": verifier, "DeviceName": "proxied"},
                extra_headers={"X-Forwarded-For": "203.0.113.9"})
    assert resp.status == 200, resp
    assert device_attributes(env.admin_device(meta["DeviceKey"]))["last_ip_used"] == "203.0.113.9"


# --- Admin device operations -----------------------------------------------------------------------

def test_admin_sees_not_remembered_devices(opt_in):
    """Opt-In before UpdateDeviceStatus: AdminListDevices / AdminGetDevice show the device as
    not_remembered, while the user's ListDevices / GetDevice do not see it."""
    first = tokens(opt_in.password_sign_in())
    device, _ = opt_in.confirm(first)
    [listed] = opt_in.cognito.admin_list_devices(UserPoolId=opt_in.pool, Username="alice")["Devices"]
    assert listed["DeviceKey"] == device.key and remembered_status(listed) == "not_remembered"
    assert remembered_status(opt_in.admin_device(device.key)) == "not_remembered"
    assert device_keys(opt_in.cognito.list_devices(AccessToken=first["AccessToken"])) == []
    with aws_error("ResourceNotFoundException"):
        opt_in.cognito.get_device(AccessToken=first["AccessToken"], DeviceKey=device.key)


def test_admin_update_device_status_toggles(opt_in):
    """AdminUpdateDeviceStatus remembered makes the device visible to the user; not_remembered hides it
    again; the admin view follows."""
    first = tokens(opt_in.password_sign_in())
    device, _ = opt_in.confirm(first)
    access = first["AccessToken"]
    before = opt_in.admin_device(device.key)
    opt_in.cognito.admin_update_device_status(UserPoolId=opt_in.pool, Username="alice", DeviceKey=device.key,
                                              DeviceRememberedStatus="remembered")
    after = opt_in.admin_device(device.key)
    assert remembered_status(after) == "remembered"
    assert after["DeviceLastModifiedDate"] >= before["DeviceLastModifiedDate"]
    assert device_keys(opt_in.cognito.list_devices(AccessToken=access)) == [device.key]
    got = opt_in.cognito.get_device(AccessToken=access, DeviceKey=device.key)["Device"]
    assert got["DeviceKey"] == device.key and remembered_status(got) == "remembered"
    opt_in.cognito.admin_update_device_status(UserPoolId=opt_in.pool, Username="alice", DeviceKey=device.key,
                                              DeviceRememberedStatus="not_remembered")
    assert remembered_status(opt_in.admin_device(device.key)) == "not_remembered"
    assert device_keys(opt_in.cognito.list_devices(AccessToken=access)) == []
    with aws_error("ResourceNotFoundException"):
        opt_in.cognito.get_device(AccessToken=access, DeviceKey=device.key)


def test_admin_forget_device(always):
    """AdminForgetDevice removes the device: not listed, not gettable, a second forget is
    ResourceNotFoundException "Device does not exist."."""
    device, first = always.remembered_device()
    other, _ = always.remembered_device(name="phone")
    always.cognito.admin_forget_device(UserPoolId=always.pool, Username="alice", DeviceKey=device.key)
    assert always.admin_keys() == [other.key]
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.admin_device(device.key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.admin_forget_device(UserPoolId=always.pool, Username="alice", DeviceKey=device.key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.admin_update_device_status(UserPoolId=always.pool, Username="alice", DeviceKey=device.key,
                                                  DeviceRememberedStatus="remembered")


def _admin_op(env: Devices, op: str, username: str, key: str) -> dict:
    target = {"UserPoolId": env.pool, "Username": username}
    if op == "admin_list_devices":
        return env.cognito.admin_list_devices(**target)
    if op == "admin_update_device_status":
        return env.cognito.admin_update_device_status(**target, DeviceKey=key, DeviceRememberedStatus="remembered")
    return getattr(env.cognito, op)(**target, DeviceKey=key)


ADMIN_OPS = ["admin_get_device", "admin_list_devices", "admin_update_device_status", "admin_forget_device"]


@pytest.mark.parametrize("op", ADMIN_OPS)
def test_admin_device_ops_unknown_user(always, op):
    device, _ = always.remembered_device()
    with aws_error("UserNotFoundException"):
        _admin_op(always, op, "nobody", device.key)


@pytest.mark.parametrize("op", [op for op in ADMIN_OPS if op != "admin_list_devices"])
def test_admin_device_ops_unknown_key(always, op):
    always.remembered_device()
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        _admin_op(always, op, "alice", UNKNOWN_KEY)


@pytest.mark.parametrize("op", [op for op in ADMIN_OPS if op != "admin_list_devices"])
def test_admin_device_ops_with_another_users_key(always, op):
    """A device is addressed through its owner only."""
    always.user("bob")
    bobs, _ = always.remembered_device("bob")
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        _admin_op(always, op, "alice", bobs.key)
    assert always.admin_keys("bob") == [bobs.key]
    assert remembered_status(always.admin_device(bobs.key, "bob")) == "remembered"


def _pages(fetch, limit: int) -> tuple[list[str], list[int]]:
    keys, sizes, token = [], [], None
    for _ in range(10):
        kwargs = {"Limit": limit} if token is None else {"Limit": limit, "PaginationToken": token}
        page = fetch(**kwargs)
        keys += device_keys(page)
        sizes.append(len(page["Devices"]))
        token = page.get("PaginationToken")
        if not token:
            return keys, sizes
    raise AssertionError("paging did not end")


def test_paging_admin_list_devices(opt_in):
    """Five devices with Limit 2: pages of 2, 2, 1 with an opaque PaginationToken; no Limit: all
    five, no token. Not-remembered devices count for the admin."""
    created = set()
    for _ in range(5):
        device, _ = opt_in.confirm(tokens(opt_in.password_sign_in()))
        created.add(device.key)
    fetch = lambda **kw: opt_in.cognito.admin_list_devices(UserPoolId=opt_in.pool, Username="alice", **kw)
    keys, sizes = _pages(fetch, 2)
    assert sizes == [2, 2, 1]
    assert len(keys) == 5 and set(keys) == created
    everything = fetch()
    assert set(device_keys(everything)) == created and "PaginationToken" not in everything


def test_paging_list_devices(always):
    """The user's ListDevices pages the same way."""
    created, access = set(), None
    for _ in range(5):
        device, result = always.remembered_device()
        created.add(device.key)
        access = result["AccessToken"]
    fetch = lambda **kw: always.cognito.list_devices(AccessToken=access, **kw)
    keys, sizes = _pages(fetch, 2)
    assert sizes == [2, 2, 1]
    assert len(keys) == 5 and set(keys) == created
    everything = fetch()
    assert set(device_keys(everything)) == created and "PaginationToken" not in everything


def test_list_devices_limit_over_60(cognito_raw, always):
    device, first = always.remembered_device()
    with aws_error("InvalidParameterException"):
        cognito_raw.list_devices(AccessToken=first["AccessToken"], Limit=61)
    with aws_error("InvalidParameterException"):
        cognito_raw.admin_list_devices(UserPoolId=always.pool, Username="alice", Limit=61)


# --- the user's device operations ------------------------------------------------------------------

def test_user_get_device(always):
    device, first = always.remembered_device(name="laptop")
    got = always.cognito.get_device(AccessToken=first["AccessToken"], DeviceKey=device.key)["Device"]
    assert got["DeviceKey"] == device.key
    assert device_attributes(got)["device_name"] == "laptop"


def test_user_update_device_status_on_a_not_remembered_device(opt_in):
    """UpdateDeviceStatus works on any confirmed device of the user, remembered or not."""
    first = tokens(opt_in.password_sign_in())
    device, _ = opt_in.confirm(first)
    access = first["AccessToken"]
    opt_in.cognito.update_device_status(AccessToken=access, DeviceKey=device.key, DeviceRememberedStatus="remembered")
    assert device_keys(opt_in.cognito.list_devices(AccessToken=access)) == [device.key]
    opt_in.cognito.update_device_status(AccessToken=access, DeviceKey=device.key,
                                        DeviceRememberedStatus="not_remembered")
    assert device_keys(opt_in.cognito.list_devices(AccessToken=access)) == []
    assert remembered_status(opt_in.admin_device(device.key)) == "not_remembered"


def test_user_forget_device(always):
    """ForgetDevice (another device's access token): gone for the user and the admin."""
    device, _ = always.remembered_device()
    other, second = always.remembered_device(name="phone")
    access = second["AccessToken"]
    always.cognito.forget_device(AccessToken=access, DeviceKey=device.key)
    assert device_keys(always.cognito.list_devices(AccessToken=access)) == [other.key]
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.get_device(AccessToken=access, DeviceKey=device.key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.update_device_status(AccessToken=access, DeviceKey=device.key,
                                            DeviceRememberedStatus="remembered")
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.cognito.forget_device(AccessToken=access, DeviceKey=device.key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        always.admin_device(device.key)


def test_user_ops_on_another_users_device(always):
    """The user API never reaches another user's device."""
    always.user("bob")
    bobs, _ = always.remembered_device("bob")
    _, alices = always.remembered_device()
    access = alices["AccessToken"]
    with aws_error("ResourceNotFoundException"):
        always.cognito.get_device(AccessToken=access, DeviceKey=bobs.key)
    with aws_error("ResourceNotFoundException"):
        always.cognito.update_device_status(AccessToken=access, DeviceKey=bobs.key,
                                            DeviceRememberedStatus="not_remembered")
    with aws_error("ResourceNotFoundException"):
        always.cognito.forget_device(AccessToken=access, DeviceKey=bobs.key)
    assert bobs.key not in device_keys(always.cognito.list_devices(AccessToken=access))
    assert remembered_status(always.admin_device(bobs.key, "bob")) == "remembered"


def test_device_ops_need_a_valid_access_token(always):
    device, _ = always.remembered_device()
    with aws_error("NotAuthorizedException"):
        always.cognito.list_devices(AccessToken="not-a-token")
    with aws_error("NotAuthorizedException"):
        always.cognito.get_device(AccessToken="not-a-token", DeviceKey=device.key)


# --- stale device keys at sign-in ------------------------------------------------------------------

STALE_KINDS = ["forgotten", "another user's", "unknown", "unconfirmed"]


def _stale_key(env: Devices, kind: str) -> str:
    if kind == "forgotten":
        device, _ = env.remembered_device()
        env.cognito.admin_forget_device(UserPoolId=env.pool, Username="alice", DeviceKey=device.key)
        return device.key
    if kind == "another user's":
        env.user("bob")
        return env.remembered_device("bob")[0].key
    if kind == "unconfirmed":
        return env.new_device_metadata(tokens(env.password_sign_in()))["DeviceKey"]
    return UNKNOWN_KEY


@pytest.mark.parametrize("kind", STALE_KINDS)
def test_stale_key_in_password_verifier_then_retry_without_it(always, kind):
    """A stale DEVICE_KEY in the PASSWORD_VERIFIER answer: ResourceNotFoundException "Device does not
    exist."; the same answer (same SECRET_BLOCK and signature) resent without the key, as the JS
    clients do, succeeds with a fresh NewDeviceMetadata."""
    key = _stale_key(always, kind)
    srp = SrpSignIn(always.cognito, always.pool, always.client_id, "alice", PASSWORD)
    challenge = srp.initiate()
    with_key = srp.responses(challenge, DEVICE_KEY=key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        srp.respond(with_key)
    without = {k: v for k, v in with_key.items() if k != "DEVICE_KEY"}
    result = tokens(srp.respond(without))
    meta = always.new_device_metadata(result)
    assert meta["DeviceKey"] != key
    assert always.access_claims(result["AccessToken"])["username"] == "alice"


def test_stale_key_retry_with_a_null_device_key(server, always):
    """amazon-cognito-identity-js retries with "DEVICE_KEY": null in the same body."""
    key = _stale_key(always, "forgotten")
    srp = SrpSignIn(always.cognito, always.pool, always.client_id, "alice", PASSWORD)
    challenge = srp.initiate()
    responses = srp.responses(challenge, DEVICE_KEY=key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        srp.respond(responses)
    resp = call(server.url, "RespondToAuthChallenge", {
        "ClientId": always.client_id, "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeResponses": {**responses, "DEVICE_KEY": None}, "ClientMetadata": {}})
    assert resp.status == 200, resp
    meta = always.new_device_metadata(resp.json()["AuthenticationResult"])
    assert meta["DeviceKey"] != key


def test_stale_key_retry_with_a_new_timestamp(always):
    """Amplify re-signs the retry with a new TIMESTAMP over the same SECRET_BLOCK."""
    key = _stale_key(always, "forgotten")
    srp = SrpSignIn(always.cognito, always.pool, always.client_id, "alice", PASSWORD)
    challenge = srp.initiate()
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        srp.respond(srp.responses(challenge, DEVICE_KEY=key))
    time.sleep(1.1)
    always.new_device_metadata(tokens(srp.respond(srp.responses(challenge))))


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
@pytest.mark.parametrize("kind", STALE_KINDS)
def test_stale_key_in_password_flows_gets_a_fresh_device(always, kind, flow):
    """In the password flows a stale DEVICE_KEY is ignored: tokens at once with a fresh
    NewDeviceMetadata (Gatehouse)."""
    key = _stale_key(always, kind)
    result = tokens(always.password_sign_in(device_key=key, flow=flow))
    meta = always.new_device_metadata(result)
    assert meta["DeviceKey"] != key
    device, _ = always.confirm(result)
    assert tokens(always.sign_in(device=device))


# --- refresh tokens and access tokens bound to devices ---------------------------------------------

def test_refresh_with_the_devices_key(always):
    """A refresh presenting the key of its own device is accepted (REFRESH_TOKEN_AUTH DEVICE_KEY,
    GetTokensFromRefreshToken DeviceKey)."""
    device, _ = always.remembered_device()
    result = tokens(always.sign_in(device=device))
    renewed = tokens(refresh(always.cognito, always.client_id, result["RefreshToken"], device.key))
    assert always.access_claims(renewed["AccessToken"])["device_key"] == device.key
    renewed = get_tokens(always, result["RefreshToken"], device.key)["AuthenticationResult"]
    assert always.access_claims(renewed["AccessToken"])["device_key"] == device.key


def test_refresh_of_the_issuing_sign_in_with_its_key(always):
    """The refresh token of the sign-in that issued the key is bound to that device."""
    device, first = always.remembered_device()
    renewed = tokens(refresh(always.cognito, always.client_id, first["RefreshToken"], device.key))
    assert always.access_claims(renewed["AccessToken"])["device_key"] == device.key


def test_refresh_without_a_device_key_is_accepted(always):
    """No DEVICE_KEY / DeviceKey at all: accepted (Gatehouse; pycognito never sends one)."""
    device, _ = always.remembered_device()
    result = tokens(always.sign_in(device=device))
    renewed = tokens(refresh(always.cognito, always.client_id, result["RefreshToken"]))
    assert always.access_claims(renewed["AccessToken"])["device_key"] == device.key
    renewed = get_tokens(always, result["RefreshToken"])["AuthenticationResult"]
    assert always.access_claims(renewed["AccessToken"])["device_key"] == device.key


@pytest.mark.parametrize("which", ["another device of the user", "unknown key"])
def test_refresh_with_another_devices_key(always, which):
    """A refresh presenting a key other than its device's: NotAuthorizedException "Invalid Refresh
    Token"."""
    device, _ = always.remembered_device()
    other, _ = always.remembered_device(name="phone")
    wrong = other.key if which == "another device of the user" else UNKNOWN_KEY
    result = tokens(always.sign_in(device=device))
    with aws_error("NotAuthorizedException", INVALID_REFRESH):
        refresh(always.cognito, always.client_id, result["RefreshToken"], wrong)
    with aws_error("NotAuthorizedException", INVALID_REFRESH):
        get_tokens(always, result["RefreshToken"], wrong)
    # The refusal does not spoil the token.
    assert tokens(refresh(always.cognito, always.client_id, result["RefreshToken"], device.key))


@pytest.mark.parametrize("how", ["ForgetDevice", "AdminForgetDevice"])
def test_forget_device_revokes_its_tokens(always, how):
    """Forgetting a device revokes its refresh tokens (refresh → NotAuthorizedException) and every
    access token minted from them (GetUser → "Access Token has been revoked"), except, for
    ForgetDevice, the access tokens of the sign-in that made the call: they keep working (ListDevices,
    GetUser) while its refresh token is revoked. AdminForgetDevice spares nothing. Another
    device's session is untouched."""
    device, first = always.remembered_device()
    signed_in = tokens(always.sign_in(device=device))
    refreshed = tokens(refresh(always.cognito, always.client_id, signed_in["RefreshToken"], device.key))
    other, _ = always.remembered_device(name="phone")
    others = tokens(always.sign_in(device=other))
    if how == "ForgetDevice":
        always.cognito.forget_device(AccessToken=signed_in["AccessToken"], DeviceKey=device.key)
    else:
        always.cognito.admin_forget_device(UserPoolId=always.pool, Username="alice", DeviceKey=device.key)

    for token in (first["RefreshToken"], signed_in["RefreshToken"]):
        for key in (device.key, None):
            with aws_error("NotAuthorizedException"):
                refresh(always.cognito, always.client_id, token, key)
        with aws_error("NotAuthorizedException"):
            get_tokens(always, token)
    with aws_error("NotAuthorizedException", "Refresh Token has been revoked"):
        refresh(always.cognito, always.client_id, signed_in["RefreshToken"], device.key)
    spared = (signed_in["AccessToken"], refreshed["AccessToken"]) if how == "ForgetDevice" else ()
    for access in (first["AccessToken"], signed_in["AccessToken"], refreshed["AccessToken"]):
        if access in spared:
            assert always.cognito.get_user(AccessToken=access)["Username"] == "alice"
            listed = always.cognito.list_devices(AccessToken=access)["Devices"]
            assert [d["DeviceKey"] for d in listed] == [other.key]
        else:
            with aws_error("NotAuthorizedException", REVOKED_ACCESS):
                always.cognito.get_user(AccessToken=access)

    assert always.cognito.get_user(AccessToken=others["AccessToken"])["Username"] == "alice"
    assert tokens(refresh(always.cognito, always.client_id, others["RefreshToken"], other.key))
    assert always.admin_keys() == [other.key]


def test_forget_device_spared_access_token_ends_with_sign_out(always):
    """The access token spared by ForgetDevice still dies with GlobalSignOut, and with RevokeToken
    of its refresh token."""
    device, _ = always.remembered_device()
    signed_in = tokens(always.sign_in(device=device))
    always.cognito.forget_device(AccessToken=signed_in["AccessToken"], DeviceKey=device.key)
    always.cognito.global_sign_out(AccessToken=signed_in["AccessToken"])
    with aws_error("NotAuthorizedException", REVOKED_ACCESS):
        always.cognito.get_user(AccessToken=signed_in["AccessToken"])

    device, _ = always.remembered_device(name="phone")
    signed_in = tokens(always.sign_in(device=device))
    always.cognito.forget_device(AccessToken=signed_in["AccessToken"], DeviceKey=device.key)
    always.cognito.revoke_token(Token=signed_in["RefreshToken"], ClientId=always.client_id)
    with aws_error("NotAuthorizedException", REVOKED_ACCESS):
        always.cognito.get_user(AccessToken=signed_in["AccessToken"])


@pytest.mark.parametrize("how", ["GlobalSignOut", "AdminUserGlobalSignOut"])
def test_global_sign_out_leaves_devices_remembered(always, how):
    """GlobalSignOut / AdminUserGlobalSignOut end the sessions but keep the devices: still listed and
    remembered, and the next sign-in still authenticates the device."""
    device, _ = always.remembered_device()
    result = tokens(always.sign_in(device=device))
    if how == "GlobalSignOut":
        always.cognito.global_sign_out(AccessToken=result["AccessToken"])
    else:
        always.cognito.admin_user_global_sign_out(UserPoolId=always.pool, Username="alice")
    with aws_error("NotAuthorizedException"):
        refresh(always.cognito, always.client_id, result["RefreshToken"], device.key)
    [listed] = always.cognito.admin_list_devices(UserPoolId=always.pool, Username="alice")["Devices"]
    assert listed["DeviceKey"] == device.key and remembered_status(listed) == "remembered"
    again = tokens(always.sign_in("USER_SRP_AUTH", device=device))
    assert "NewDeviceMetadata" not in again
    assert device_keys(always.cognito.list_devices(AccessToken=again["AccessToken"])) == [device.key]
