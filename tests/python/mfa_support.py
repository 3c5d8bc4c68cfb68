"""Helpers shared by the MFA suites: TOTP computed here (RFC 6238), the authenticator app of a
user, and `Env`, a pool with MFA and optional device tracking plus the client side of sign-ins
(docs/mfa.md, docs/devices.md), built on support.SignInEnv.

TOTP: HMAC-SHA1, 6 digits, 30-second steps; the server accepts one step either side. A code is
only computed with at least 5 s left in its step, and an `Authenticator` remembers the last step
whose code the server accepted (VerifySoftwareToken spends its step too), so no test reuses a
code by accident.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time
from pycognito import Cognito
from pycognito.aws_srp import generate_hash_device

from support import (  # noqa: F401 (PASSWORD, Device, tokens, … are re-exported to the MFA suites)
    PASSWORD, Device, SignInEnv, SrpSignIn, assert_tokens_of, pool_change_settles, pycognito_user, remembered_status,
    tokens,
)

TOTP = "SOFTWARE_TOKEN_MFA"
MISMATCH = "Invalid code received for user"
USED = "Your software token has already been used once."
EXPIRED_SESSION = "Invalid session for the user, session is expired."
LOCKED = "Password attempts exceeded"
INCORRECT = "Incorrect username or password."
STEP = 30

PASSWORD_VERIFIER = "PASSWORD_VERIFIER"
DEVICE_SRP_AUTH = "DEVICE_SRP_AUTH"
DEVICE_PASSWORD_VERIFIER = "DEVICE_PASSWORD_VERIFIER"


# --- TOTP (RFC 6238) -------------------------------------------------

def b32_key(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def hotp(key: bytes, counter: int, digits: int = 6) -> str:
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def current_step() -> int:
    return int(time.time()) // STEP


def totp(secret: str, step: int | None = None) -> str:
    return hotp(b32_key(secret), current_step() if step is None else step)


def settle(margin: float = 5.0) -> int:
    """Wait, if need be, until at least `margin` seconds of the current step remain; returns it."""
    left = STEP - time.time() % STEP
    if left < margin:
        time.sleep(left + 0.2)
    return current_step()


def wait_for_step(step: int) -> None:
    while current_step() < step:
        time.sleep(max(0.1, step * STEP - time.time() + 0.2))


class Authenticator:
    """A user's authenticator app: the secret, and the last step whose code the server accepted
    (codes of that step and earlier are never sent again as right codes)."""

    def __init__(self, secret: str, spent: int):
        self.secret = secret
        self.spent = spent

    def next_code(self) -> str:
        """A code the server accepts now and has not seen: of the current step, or of the next one
        when the current one is spent; waits for a new step when even the next one is spent. The
        step is then counted as spent (the caller expects the code to be accepted)."""
        while True:
            now = settle()
            step = max(now, self.spent + 1)
            if step <= now + 1:
                self.spent = step
                return totp(self.secret, step)
            wait_for_step(step - 1)

    def wrong_code(self) -> str:
        """A well-formed code that is right for no step near now."""
        now = current_step()
        near = {totp(self.secret, now + d) for d in range(-3, 4)}
        return next(c for c in ("000000", "111111", "123456", "654321", "999999", "246802") if c not in near)


# --- pools, users, devices -----------------------------------------------------------------------

def assert_mfa_challenge(answer: dict, user_id: str = "alice") -> str:
    """A SOFTWARE_TOKEN_MFA challenge as docs/mfa.md describes it; returns its Session."""
    assert answer.get("ChallengeName") == TOTP, answer
    assert answer["ChallengeParameters"] == {"USER_ID_FOR_SRP": user_id}, answer
    assert isinstance(answer.get("Session"), str) and answer["Session"], answer
    assert "AuthenticationResult" not in answer, answer
    return answer["Session"]


def mfa_answer(username: str, code: str, device_key: str | None = None, **extra) -> dict:
    responses = {"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code, **extra}
    if device_key is not None:
        responses["DEVICE_KEY"] = device_key
    return responses


def error_of(info) -> tuple[str, str]:
    err = info.value.response["Error"]
    return err["Code"], err.get("Message", "")


class Env(SignInEnv):
    """A pool with MFA OPTIONAL and authenticator apps allowed (the mode can be changed later with
    set_mfa), device tracking per `devices` (None: off), an app client allowing every password flow,
    and the client-side steps of sign-ins."""

    pool_name = "mfa-sign-in"

    def __init__(self, cognito, server, devices: dict | None = None, **pool_settings):
        super().__init__(cognito, server, devices, **pool_settings)
        self.set_mfa("OPTIONAL")
        self.configured = True

    def set_mfa(self, mode: str) -> None:
        self.cognito.set_user_pool_mfa_config(UserPoolId=self.pool, MfaConfiguration=mode,
                                              SoftwareTokenMfaConfiguration={"Enabled": True})
        if getattr(self, "configured", False):
            # A process that served this pool may keep it: let the change reach it.
            pool_change_settles(self.server)

    def enrol(self, username: str = "alice", access: str | None = None, enable: bool = True,
              preferred: bool = True, previous_step: bool = False) -> Authenticator:
        """Associate and verify an authenticator app (with `access`, else the access token of a
        password sign-in, which must end in tokens) and enable TOTP for sign-in.

        `previous_step`: verify with the previous step's code (in the window), so that the current
        and next steps stay unspent: a test that needs three fresh codes gets them without waiting
        up to 30 s for a new step. At least 10 s of the current step are then left, for checks
        that the spent code is still in the window."""
        if access is None:
            access = tokens(self.password_auth(username))["AccessToken"]
        secret = self.cognito.associate_software_token(AccessToken=access)["SecretCode"]
        step = settle(margin=10) - 1 if previous_step else settle()
        assert self.cognito.verify_software_token(AccessToken=access, UserCode=totp(secret, step),
                                                  FriendlyDeviceName="phone")["Status"] == "SUCCESS"
        if enable:
            self.cognito.set_user_mfa_preference(
                AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": preferred})
        return Authenticator(secret, step)

    # sign-ins

    def device_srp(self, username: str, device: Device, session: str, admin: bool = False) -> dict:
        """DEVICE_SRP_AUTH answered as the JS clients do (echoing `session`, the sign-in's one
        Session), then DEVICE_PASSWORD_VERIFIER with pycognito's device maths; returns the last
        answer. Checks that DEVICE_PASSWORD_VERIFIER carries the same Session."""
        dsrp = self.srp(username, device)
        step = self.respond(DEVICE_SRP_AUTH, {"USERNAME": username, "DEVICE_KEY": device.key,
                                              "SRP_A": f"{dsrp.large_a_value:x}"}, session, admin)
        assert step.get("ChallengeName") == DEVICE_PASSWORD_VERIFIER, step
        assert step["Session"] == session, "DEVICE_PASSWORD_VERIFIER does not carry the sign-in's Session"
        return self.respond(DEVICE_PASSWORD_VERIFIER, dsrp.process_device_challenge(step["ChallengeParameters"]),
                            session, admin)

    def srp_steps(self, username: str = "alice") -> SrpSignIn:
        return SrpSignIn(self.cognito, self.pool, self.client_id, username, PASSWORD)

    def pycognito(self, username: str = "alice") -> Cognito:
        return pycognito_user(self.server.url, self.pool, self.client_id, username)

    # tokens and devices

    def assert_signed_in(self, result: dict, username: str = "alice") -> dict:
        """Verified tokens of `username` (support.assert_tokens_of); returns the access token's claims."""
        return assert_tokens_of(self.issuer, result, self.client_id, username)[0]

    def confirm(self, result: dict) -> Device:
        """ConfirmDevice for the NewDeviceMetadata of `result` with pycognito's verifier."""
        meta = self.new_device_metadata(result)
        secret, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
        answer = self.cognito.confirm_device(AccessToken=result["AccessToken"], DeviceKey=meta["DeviceKey"],
                                             DeviceSecretVerifierConfig=verifier, DeviceName="laptop")
        assert answer["UserConfirmationNecessary"] is self.opt_in
        return Device(meta["DeviceKey"], meta["DeviceGroupKey"], secret)

    def admin_status(self, key: str, username: str = "alice") -> str:
        return remembered_status(self.admin_device(key, username))

    def prepare(self, state: str, username: str = "alice") -> tuple[Device | None, Authenticator]:
        """Before MFA: a sign-in, its device confirmed and brought to `state` (new: no device,
        not_remembered, remembered); then the user's authenticator app, enrolled with that sign-in's
        access token and enabled. Returns the device (None when new) and the app."""
        first = tokens(self.password_auth(username))
        device = None
        if state != "new":
            device = self.confirm(first)
            if state != ("not_remembered" if self.opt_in else "remembered"):
                self.cognito.update_device_status(AccessToken=first["AccessToken"], DeviceKey=device.key,
                                                  DeviceRememberedStatus=state)
            assert self.admin_status(device.key, username) == state
        return device, self.enrol(username, first["AccessToken"])

    def sign_in(self, flow: str, auth: Authenticator | None, username: str = "alice",
                device: Device | None = None, key_at: str = "password") -> tuple[list[str], dict]:
        """A whole sign-in, answering each challenge as it comes (the device challenges as the JS
        clients do, echoing Session); returns the challenge names in order and the tokens.

        `key_at` says where the client presents the device: "password" (InitiateAuth of the
        password flows, the PASSWORD_VERIFIER answer of SRP), "mfa" (the SOFTWARE_TOKEN_MFA answer)
        or "both". Checks on the way: the MFA challenge's shape, and that DEVICE_SRP_AUTH and
        DEVICE_PASSWORD_VERIFIER carry the Session of the MFA challenge before them."""
        admin = flow.startswith("ADMIN_")
        key_first = device.key if device is not None and key_at in ("password", "both") else None
        key_mfa = device.key if device is not None and key_at in ("mfa", "both") else None
        sequence: list[str] = []
        if flow == "USER_SRP_AUTH":
            srp = self.srp_steps(username)
            challenge = srp.initiate()
            sequence.append(challenge["ChallengeName"])
            extra = {"DEVICE_KEY": key_first} if key_first else {}
            answer = srp.respond(srp.responses(challenge, **extra))
        else:
            answer = self.password_auth(username, flow, key_first)
        session = None
        for _ in range(4):
            name = answer.get("ChallengeName")
            if name is None:
                break
            sequence.append(name)
            if name == TOTP:
                session = assert_mfa_challenge(answer, username)
                assert auth is not None, f"unexpected MFA challenge after {sequence}"
                answer = self.respond(TOTP, mfa_answer(username, auth.next_code(), key_mfa), session, admin)
            elif name == DEVICE_SRP_AUTH:
                assert device is not None, answer
                assert answer["ChallengeParameters"] == {}, answer
                if session is not None:
                    assert answer["Session"] == session, "DEVICE_SRP_AUTH does not carry the MFA challenge's Session"
                session = answer["Session"]
                sequence.append(DEVICE_PASSWORD_VERIFIER)
                answer = self.device_srp(username, device, session, admin)
            else:
                raise AssertionError(f"unexpected challenge {name} after {sequence}: {answer}")
        return sequence, tokens(answer)
