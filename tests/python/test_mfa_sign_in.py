"""The SOFTWARE_TOKEN_MFA challenge at sign-in and its suppression on remembered devices, through
real clients (docs/mfa.md "Sign-in with an authenticator app" and "Remembered devices skip it";
docs/devices.md "Sign-in").

- Which sign-ins are challenged: every password flow (USER_PASSWORD_AUTH, USER_SRP_AUTH with
  pycognito and step by step, ADMIN_USER_PASSWORD_AUTH, after NEW_PASSWORD_REQUIRED) of a user with
  TOTP enabled in an OPTIONAL or ON pool; not a user without TOTP, not in an OFF pool.
- Refusals: wrong, too old or too new codes (CodeMismatchException), reused codes
  (ExpiredCodeException "already used"), the Session staying good after each;
  foreign, tampered and garbage Sessions (NotAuthorizedException), SECRET_HASH, the lockout.
- Devices × MFA: Always / User Opt-In × new / not_remembered / remembered ×
  ChallengeRequiredOnNewDevice, with the exact sequence of challenges, DEVICE_KEY sent at the
  password step, in the MFA answer or both.
- DEVICE_SRP_AUTH answered while the sign-in waits for the MFA code never skips the code.

TOTP: RFC 6238 computed by mfa_support (HMAC-SHA1, 6 digits, 30-second steps; the server accepts one step
either side). A code is only computed with at least 5 s left in its step, and an `Authenticator`
remembers the last step whose code the server accepted (VerifySoftwareToken spends its step too),
so no test reuses a code by accident: a sign-in right after enrolment answers with the next
step's code, a later one waits for a fresh step when it must.
"""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from mfa_support import (
    DEVICE_PASSWORD_VERIFIER, DEVICE_SRP_AUTH, EXPIRED_SESSION, INCORRECT, LOCKED, MISMATCH, PASSWORD,
    PASSWORD_VERIFIER, TOTP, USED, Authenticator, Device, Env, assert_mfa_challenge, current_step, error_of,
    mfa_answer, settle, tokens, totp, wait_for_step,
)
from support import aws_error, new_app_client, secret_hash


@pytest.fixture
def env(cognito, server) -> Env:
    """OPTIONAL pool, TOTP allowed, no device tracking; alice exists."""
    e = Env(cognito, server)
    e.user("alice", email="alice@example.com", email_verified="true")
    return e


@pytest.fixture
def alice_app(env) -> Authenticator:
    """Alice's authenticator app, enabled and preferred."""
    return env.enrol("alice")


# --- 1. who is challenged -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["OPTIONAL", "ON"])
def test_user_password_auth_is_challenged(env, alice_app, mode):
    """USER_PASSWORD_AUTH of a TOTP user: SOFTWARE_TOKEN_MFA with a Session and
    {USER_ID_FOR_SRP: alice}, no tokens; the right code ends the sign-in with tokens."""
    env.set_mfa(mode)
    answer = env.password_auth()
    session = assert_mfa_challenge(answer)
    result = tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session))
    env.assert_signed_in(result)
    assert "NewDeviceMetadata" not in result  # tracking is off


def test_enabled_but_not_preferred_is_challenged(env):
    """TOTP enabled without being preferred still protects the sign-in."""
    app = env.enrol("alice", preferred=False)
    got = env.cognito.admin_get_user(UserPoolId=env.pool, Username="alice")
    assert got["UserMFASettingList"] == [TOTP]
    session = assert_mfa_challenge(env.password_auth())
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", app.next_code()), session)))


def test_srp_with_pycognito_awssrp(env, alice_app):
    """pycognito's AWSSRP raises SoftwareTokenMFAChallengeException carrying the challenge; boto3's
    RespondToAuthChallenge with the code finishes."""
    with pytest.raises(SoftwareTokenMFAChallengeException) as info:
        env.srp().authenticate_user()
    challenge = info.value.get_tokens()
    session = assert_mfa_challenge(challenge)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session)))


def test_srp_with_pycognito_cognito_class(env, alice_app):
    """pycognito's Cognito.authenticate raises on the challenge and keeps it;
    respond_to_software_token_mfa_challenge finishes and pycognito verifies the tokens."""
    u = env.pycognito()
    with pytest.raises(SoftwareTokenMFAChallengeException):
        u.authenticate(PASSWORD)
    assert_mfa_challenge(u.mfa_tokens)
    u.respond_to_software_token_mfa_challenge(alice_app.next_code())
    assert u.access_token and u.id_token and u.refresh_token
    assert u.get_user().username == "alice"


def test_srp_step_by_step(env, alice_app):
    """USER_SRP_AUTH answered by hand: PASSWORD_VERIFIER, then SOFTWARE_TOKEN_MFA."""
    sequence, result = env.sign_in("USER_SRP_AUTH", alice_app)
    assert sequence == [PASSWORD_VERIFIER, TOTP]
    env.assert_signed_in(result)


@pytest.mark.parametrize("flow", ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])
def test_admin_flow_is_challenged(env, alice_app, flow):
    """AdminInitiateAuth answers the challenge; AdminRespondToAuthChallenge finishes."""
    session = assert_mfa_challenge(env.password_auth(flow=flow))
    result = tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session, admin=True))
    env.assert_signed_in(result)


def test_after_new_password_required(env, alice_app):
    """A TOTP user whose password was reset by the admin: NEW_PASSWORD_REQUIRED, then
    SOFTWARE_TOKEN_MFA, then tokens; the new password then leads to the challenge too."""
    env.cognito.admin_set_user_password(UserPoolId=env.pool, Username="alice", Password="Temp0rary!",
                                        Permanent=False)
    answer = env.password_auth(password="Temp0rary!")
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED", answer
    answer = env.respond("NEW_PASSWORD_REQUIRED", {"USERNAME": "alice", "NEW_PASSWORD": "N3w-Passw0rd!"},
                         answer["Session"])
    session = assert_mfa_challenge(answer)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session)))
    assert_mfa_challenge(env.password_auth(password="N3w-Passw0rd!"))


def test_user_id_for_srp_is_the_username_when_signing_in_with_an_alias(cognito, server):
    """Signed in with the email alias: USER_ID_FOR_SRP is the username, and the answer in that
    name ends the sign-in."""
    e = Env(cognito, server, AliasAttributes=["email"])
    e.user("alice", email="alice@example.com", email_verified="true")
    app = e.enrol("alice")
    session = assert_mfa_challenge(e.password_auth("alice@example.com"), "alice")
    e.assert_signed_in(tokens(e.respond(TOTP, mfa_answer("alice", app.next_code()), session)))


def test_users_without_totp_get_tokens_at_once(env, alice_app):
    """In the same pool: bob never enrolled, carol verified an app but never enabled TOTP, dave
    enabled it then disabled it. Every flow ends in tokens at once."""
    env.user("bob")
    env.user("carol")
    env.enrol("carol", enable=False)
    env.user("dave")
    dave = tokens(env.password_auth("dave"))
    env.enrol("dave", dave["AccessToken"])
    assert_mfa_challenge(env.password_auth("dave"), "dave")
    env.cognito.set_user_mfa_preference(AccessToken=dave["AccessToken"],
                                        SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})
    for name in ("bob", "carol", "dave"):
        env.assert_signed_in(tokens(env.password_auth(name)), name)
        env.assert_signed_in(tokens(env.password_auth(name, "ADMIN_USER_PASSWORD_AUTH")), name)
        env.assert_signed_in(tokens(env.srp(name).authenticate_user()), name)
    # Alice is still challenged.
    assert_mfa_challenge(env.password_auth())


def test_pool_off_means_no_challenge(env, alice_app):
    """MFA turned OFF for the pool: alice, with TOTP enabled, signs in with the password alone in
    every flow; turned back to OPTIONAL, she is challenged again."""
    env.set_mfa("OFF")
    env.assert_signed_in(tokens(env.password_auth()))
    env.assert_signed_in(tokens(env.password_auth(flow="ADMIN_USER_PASSWORD_AUTH")))
    env.assert_signed_in(tokens(env.srp().authenticate_user()))
    u = env.pycognito()
    u.authenticate(PASSWORD)
    assert u.get_user().username == "alice"
    env.set_mfa("OPTIONAL")
    assert_mfa_challenge(env.password_auth())


def test_secret_hash_in_the_mfa_answer(env, alice_app):
    """An app client with a secret: the MFA answer needs SECRET_HASH like every answer; the
    refusals leave the challenge usable."""
    client_id, secret = new_app_client(env.cognito, env.pool, name="secret", GenerateSecret=True)
    answer = env.password_auth(client_id=client_id, SECRET_HASH=secret_hash(secret, "alice", client_id))
    session = assert_mfa_challenge(answer)
    code = alice_app.next_code()
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        env.respond(TOTP, mfa_answer("alice", code), session, client_id=client_id)
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        env.respond(TOTP, mfa_answer("alice", code, SECRET_HASH=secret_hash("x", "alice", client_id)), session,
                    client_id=client_id)
    result = tokens(env.respond(TOTP, mfa_answer("alice", code, SECRET_HASH=secret_hash(secret, "alice", client_id)),
                                session, client_id=client_id))
    assert env.access_claims(result["AccessToken"])["client_id"] == client_id


# --- 2. refusals ---------------------------------------------------------------------------------

def test_wrong_code_then_the_right_one(env, alice_app):
    """A wrong code: CodeMismatchException "Invalid code received for user", twice; the same
    Session then takes the right code."""
    session = assert_mfa_challenge(env.password_auth())
    for _ in range(2):
        with aws_error("CodeMismatchException", MISMATCH):
            env.respond(TOTP, mfa_answer("alice", alice_app.wrong_code()), session)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session)))


def test_a_code_is_accepted_once(env):
    """The code VerifySoftwareToken accepted is refused at the next sign-in (still in its window),
    as is the code the previous sign-in was accepted with: ExpiredCodeException "Your software
    token has already been used once."; each refusal leaves the Session usable."""
    app = env.enrol("alice", previous_step=True)  # three fresh steps without waiting for one
    enrolment_step = app.spent
    session = assert_mfa_challenge(env.password_auth())
    assert current_step() <= enrolment_step + 1  # the enrolment code is still within the window
    with aws_error("ExpiredCodeException", USED):
        env.respond(TOTP, mfa_answer("alice", totp(app.secret, enrolment_step)), session)
    first_code = app.next_code()
    first_step = app.spent
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", first_code), session)))

    session = assert_mfa_challenge(env.password_auth())
    assert current_step() <= first_step + 1  # the first sign-in's code is still within the window
    with aws_error("ExpiredCodeException", USED):
        env.respond(TOTP, mfa_answer("alice", first_code), session)
    # Answered in a later step, with a code nobody used yet.
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", app.next_code()), session)))


def test_codes_outside_the_window(env, alice_app):
    """Codes of two steps before and two steps after now: CodeMismatchException; then the right one."""
    session = assert_mfa_challenge(env.password_auth())
    now = settle()
    near = {totp(alice_app.secret, now + d) for d in (-1, 0, 1)}
    for step in (now - 2, now + 2, now - 3):
        code = totp(alice_app.secret, step)
        if code in near:  # one chance in a few hundred thousand
            continue
        with aws_error("CodeMismatchException", MISMATCH):
            env.respond(TOTP, mfa_answer("alice", code), session)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session)))


def test_codes_one_step_either_side_are_accepted(env):
    """Tolerance: the previous step's code and the next step's code end a sign-in (each never used
    before)."""
    app = env.enrol("alice", previous_step=True)  # one step less to wait for
    wait_for_step(app.spent + 2)
    now = settle()
    session = assert_mfa_challenge(env.password_auth())
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", totp(app.secret, now - 1)), session)))
    session = assert_mfa_challenge(env.password_auth())
    assert current_step() == now
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", totp(app.secret, now + 1)), session)))


def test_session_of_another_user(env, alice_app):
    """Alice's name with Carol's Session (with Alice's code, or Carol's): NotAuthorizedException
    "Invalid session for the user, session is expired."; neither sign-in was spoiled."""
    env.user("carol")
    carol_app = env.enrol("carol")
    alice_session = assert_mfa_challenge(env.password_auth())
    carol_session = assert_mfa_challenge(env.password_auth("carol"), "carol")
    alice_code = alice_app.next_code()
    carol_code = carol_app.next_code()
    for code in (alice_code, carol_code):
        with aws_error("NotAuthorizedException", EXPIRED_SESSION):
            env.respond(TOTP, mfa_answer("alice", code), carol_session)
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        env.respond(TOTP, mfa_answer("carol", carol_code), alice_session)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_code), alice_session)))
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("carol", carol_code), carol_session)), "carol")


def test_session_on_another_app_client(env, alice_app):
    """The challenge belongs to the app client of the sign-in."""
    other, _ = new_app_client(env.cognito, env.pool, name="other")
    session = assert_mfa_challenge(env.password_auth())
    code = alice_app.next_code()
    with aws_error("NotAuthorizedException"):
        env.respond(TOTP, mfa_answer("alice", code), session, client_id=other)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", code), session)))


def test_garbage_and_tampered_sessions(env, alice_app):
    """A Session that was never issued, or an issued one altered: NotAuthorizedException "Invalid
    session for the user, session is expired."; the genuine one still works."""
    session = assert_mfa_challenge(env.password_auth())
    code = alice_app.next_code()
    middle = len(session) // 2
    tampered = session[:middle] + ("A" if session[middle] != "A" else "B") + session[middle + 1:]
    for bad in ("x" * 64, "AYABeEXAMPLE" * 20, tampered):
        with aws_error("NotAuthorizedException", EXPIRED_SESSION):
            env.respond(TOTP, mfa_answer("alice", code), bad)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", code), session)))


def test_a_finished_session_cannot_be_answered_again(env, alice_app):
    """After the tokens, the MFA Session is spent: answering it again (even with a new, right code)
    is NotAuthorizedException."""
    session = assert_mfa_challenge(env.password_auth())
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session)))
    with aws_error("NotAuthorizedException"):
        env.respond(TOTP, mfa_answer("alice", totp(alice_app.secret, current_step() + 1)), session)


def test_wrong_codes_lock_the_user(env):
    """Wrong codes count towards the lockout: after five CodeMismatchException the user is locked
    ("Password attempts exceeded"): the right code and a new sign-in are refused while it lasts;
    after it, the sign-in works again, still with the challenge."""
    alice_app = env.enrol("alice", previous_step=True)  # two fresh codes without waiting for a step
    settle(margin=15)
    session = assert_mfa_challenge(env.password_auth())
    right = alice_app.next_code()
    outcomes = []
    for _ in range(8):
        with pytest.raises(ClientError) as info:
            env.respond(TOTP, mfa_answer("alice", alice_app.wrong_code()), session)
        outcomes.append(error_of(info))
        if outcomes[-1] == ("NotAuthorizedException", LOCKED):
            break
    mismatches = [o for o in outcomes if o == ("CodeMismatchException", MISMATCH)]
    assert outcomes[-1] == ("NotAuthorizedException", LOCKED), outcomes
    assert outcomes[:-1] == mismatches and len(mismatches) >= 4, outcomes
    with aws_error("NotAuthorizedException", LOCKED):
        env.respond(TOTP, mfa_answer("alice", right), session)
    with aws_error("NotAuthorizedException", LOCKED):
        env.password_auth()
    deadline = time.monotonic() + 20
    while True:
        try:
            answer = env.password_auth()
            break
        except ClientError as e:
            assert e.response["Error"]["Message"] == LOCKED and time.monotonic() < deadline, e.response
            time.sleep(0.5)
    session = assert_mfa_challenge(answer)
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", alice_app.next_code()), session)))


def test_wrong_codes_count_across_sign_ins(env, alice_app):
    """The failures count towards the user's lockout even when a new sign-in passes the password
    in between: otherwise whoever knows the password could try four codes per sign-in for ever.
    Three wrong codes in one sign-in, then wrong codes in the next: the user is locked within that
    next sign-in."""
    settle(margin=15)
    session = assert_mfa_challenge(env.password_auth())
    for _ in range(3):
        with aws_error("CodeMismatchException", MISMATCH):
            env.respond(TOTP, mfa_answer("alice", alice_app.wrong_code()), session)
    session = assert_mfa_challenge(env.password_auth())
    outcomes = []
    for _ in range(4):
        with pytest.raises(ClientError) as info:
            env.respond(TOTP, mfa_answer("alice", alice_app.wrong_code()), session)
        outcomes.append(error_of(info))
        if outcomes[-1] == ("NotAuthorizedException", LOCKED):
            break
    assert outcomes[-1] == ("NotAuthorizedException", LOCKED), \
        f"3 wrong codes, a new sign-in, then {len(outcomes)} more wrong codes and no lock: {outcomes}"


# --- 3. devices × MFA ----------------------------------------------------------------------------

MODES = {"Always": False, "Opt-In": True}
STATES_AND_KEYS = [("new", None), ("not_remembered", "password"), ("not_remembered", "mfa"),
                   ("not_remembered", "both"), ("remembered", "password"), ("remembered", "mfa"),
                   ("remembered", "both")]


def device_env(cognito, server, mode: str, flag: bool) -> Env:
    e = Env(cognito, server, {"DeviceOnlyRememberedOnUserPrompt": MODES[mode],
                              "ChallengeRequiredOnNewDevice": flag})
    e.user("alice", email="alice@example.com", email_verified="true")
    return e


def expected_sequence(flow: str, state: str, key_at: str | None, flag: bool) -> list[str]:
    """docs/mfa.md: a remembered device presented at the password step with the flag true skips
    the code; otherwise the code, then the device challenges when a confirmed device was presented."""
    prefix = [PASSWORD_VERIFIER] if flow == "USER_SRP_AUTH" else []
    if state == "new":
        return prefix + [TOTP]
    if state == "remembered" and flag and key_at in ("password", "both"):
        return prefix + [DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
    return prefix + [TOTP, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]


@pytest.mark.parametrize("state,key_at", STATES_AND_KEYS,
                         ids=[f"{s}-key_at_{k}" if k else s for s, k in STATES_AND_KEYS])
@pytest.mark.parametrize("flag", [True, False], ids=["ChallengeRequiredOnNewDevice", "no-flag"])
@pytest.mark.parametrize("mode", list(MODES))
def test_device_matrix_srp(cognito, server, mode, flag, state, key_at):
    """USER_SRP_AUTH of a TOTP user, DEVICE_KEY in the PASSWORD_VERIFIER answer and/or the MFA
    answer: the exact challenges, tokens bound to the device (or NewDeviceMetadata for a new one)."""
    e = device_env(cognito, server, mode, flag)
    device, app = e.prepare(state)
    sequence, result = e.sign_in("USER_SRP_AUTH", app, device=device, key_at=key_at or "password")
    assert sequence == expected_sequence("USER_SRP_AUTH", state, key_at, flag)
    claims = e.assert_signed_in(result)
    if device is None:
        e.new_device_metadata(result)
    else:
        assert "NewDeviceMetadata" not in result, result
        assert claims["device_key"] == device.key
        assert e.admin_status(device.key) == state  # signing in does not change it


@pytest.mark.parametrize("state", ["not_remembered", "remembered"])
@pytest.mark.parametrize("flag", [True, False], ids=["ChallengeRequiredOnNewDevice", "no-flag"])
@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
def test_device_password_flows(cognito, server, flow, flag, state):
    """DEVICE_KEY in the password flows' AuthParameters (Always mode): the same rule."""
    e = device_env(cognito, server, "Always", flag)
    device, app = e.prepare(state)
    sequence, result = e.sign_in(flow, app, device=device, key_at="password")
    assert sequence == expected_sequence(flow, state, "password", flag)
    assert e.assert_signed_in(result)["device_key"] == device.key
    assert "NewDeviceMetadata" not in result


@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
@pytest.mark.parametrize("flag", [True, False], ids=["ChallengeRequiredOnNewDevice", "no-flag"])
def test_new_device_in_the_password_flows(cognito, server, flag, flow):
    """No device presented: the code, then tokens with NewDeviceMetadata."""
    e = device_env(cognito, server, "Always", flag)
    _, app = e.prepare("new")
    sequence, result = e.sign_in(flow, app)
    assert sequence == expected_sequence(flow, "new", None, flag)
    e.new_device_metadata(result)


@pytest.mark.parametrize("mode", list(MODES))
def test_device_remembered_after_an_mfa_sign_in_skips_the_code(cognito, server, mode):
    """The device of an MFA sign-in (NewDeviceMetadata after the code), confirmed and remembered:
    the next sign-in with it skips the code (ChallengeRequiredOnNewDevice true)."""
    e = device_env(cognito, server, mode, True)
    _, app = e.prepare("new")
    _, result = e.sign_in("USER_SRP_AUTH", app)
    device = e.confirm(result)
    if e.opt_in:
        e.cognito.update_device_status(AccessToken=result["AccessToken"], DeviceKey=device.key,
                                       DeviceRememberedStatus="remembered")
    sequence, again = e.sign_in("USER_SRP_AUTH", None, device=device)
    assert sequence == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
    assert e.assert_signed_in(again)["device_key"] == device.key


def test_forgetting_to_remember_brings_the_code_back(cognito, server):
    """AdminUpdateDeviceStatus not_remembered on a device that skipped the code: the next sign-in
    is challenged again (then device SRP); remembered again, it skips again."""
    e = device_env(cognito, server, "Always", True)
    device, app = e.prepare("remembered")
    assert e.sign_in("USER_SRP_AUTH", None, device=device)[0] == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH,
                                                                   DEVICE_PASSWORD_VERIFIER]
    e.cognito.admin_update_device_status(UserPoolId=e.pool, Username="alice", DeviceKey=device.key,
                                         DeviceRememberedStatus="not_remembered")
    assert e.sign_in("USER_SRP_AUTH", app, device=device)[0] == [PASSWORD_VERIFIER, TOTP, DEVICE_SRP_AUTH,
                                                                  DEVICE_PASSWORD_VERIFIER]
    e.cognito.admin_update_device_status(UserPoolId=e.pool, Username="alice", DeviceKey=device.key,
                                         DeviceRememberedStatus="remembered")
    assert e.sign_in("USER_SRP_AUTH", None, device=device)[0] == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH,
                                                                   DEVICE_PASSWORD_VERIFIER]


@pytest.mark.parametrize("state", ["not_remembered", "remembered"])
@pytest.mark.parametrize("flag", [True, False], ids=["ChallengeRequiredOnNewDevice", "no-flag"])
def test_no_code_due_means_device_srp_alone(cognito, server, flag, state):
    """When no code is due (the pool turned OFF for a TOTP user; a user without TOTP in the OPTIONAL
    pool), a confirmed device is authenticated by device SRP right after the password, whatever
    its status and the flag."""
    e = device_env(cognito, server, "Always", flag)
    device, _ = e.prepare(state)
    e.user("bob")
    bob_device = e.confirm(tokens(e.password_auth("bob")))
    if state == "not_remembered":
        e.cognito.admin_update_device_status(UserPoolId=e.pool, Username="bob", DeviceKey=bob_device.key,
                                             DeviceRememberedStatus="not_remembered")
    sequence, result = e.sign_in("USER_SRP_AUTH", None, "bob", device=bob_device)
    assert sequence == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
    assert e.assert_signed_in(result, "bob")["device_key"] == bob_device.key
    e.set_mfa("OFF")
    sequence, result = e.sign_in("USER_SRP_AUTH", None, device=device)
    assert sequence == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
    assert e.assert_signed_in(result)["device_key"] == device.key


def test_pycognito_remembered_device_skips_the_code(cognito, server):
    """pycognito's AWSSRP holding a remembered device (ChallengeRequiredOnNewDevice true): tokens
    without any code, the device challenges answered without Session."""
    e = device_env(cognito, server, "Always", True)
    device, _ = e.prepare("remembered")
    result = tokens(e.srp(device=device).authenticate_user())
    assert e.assert_signed_in(result)["device_key"] == device.key
    assert "NewDeviceMetadata" not in result


@pytest.mark.parametrize("state,flag", [("remembered", False), ("not_remembered", True)])
def test_pycognito_device_then_code(cognito, server, state, flag):
    """pycognito's AWSSRP holding a device that does not skip the code: it raises
    SoftwareTokenMFAChallengeException (DEVICE_KEY went with its PASSWORD_VERIFIER answer); the code
    answered without DEVICE_KEY leads to DEVICE_SRP_AUTH on the same Session."""
    e = device_env(cognito, server, "Always", flag)
    device, app = e.prepare(state)
    with pytest.raises(SoftwareTokenMFAChallengeException) as info:
        e.srp(device=device).authenticate_user()
    session = assert_mfa_challenge(info.value.get_tokens())
    answer = e.respond(TOTP, mfa_answer("alice", app.next_code()), session)
    assert answer.get("ChallengeName") == DEVICE_SRP_AUTH, answer
    assert answer["Session"] == session
    dsrp = e.srp(device=device)
    step = e.respond(DEVICE_SRP_AUTH, {"USERNAME": "alice", "DEVICE_KEY": device.key,
                                       "SRP_A": f"{dsrp.large_a_value:x}"}, session)
    result = tokens(e.respond(DEVICE_PASSWORD_VERIFIER, dsrp.process_device_challenge(step["ChallengeParameters"]),
                              step["Session"]))
    assert e.assert_signed_in(result)["device_key"] == device.key


def test_wrong_device_secret_after_the_code(cognito, server):
    """The code passed but the device secret is wrong: NotAuthorizedException, no tokens."""
    e = device_env(cognito, server, "Always", False)
    device, app = e.prepare("remembered")
    with aws_error("NotAuthorizedException", INCORRECT):
        e.sign_in("USER_SRP_AUTH", app, device=Device(device.key, device.group_key,
                                                      device.password[:-4] + "AAA="))


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
@pytest.mark.parametrize("kind", ["unknown", "another user's"])
def test_stale_key_in_the_password_flows_then_the_code(cognito, server, kind, flow):
    """docs/devices.md: in the password flows a stale DEVICE_KEY is ignored. With MFA: the code,
    then tokens with a fresh NewDeviceMetadata (no device challenges)."""
    e = device_env(cognito, server, "Always", True)
    _, app = e.prepare("new")
    if kind == "unknown":
        key = "us-east-1_0f0e0d0c-0b0a-4909-8807-060504030201"
    else:
        e.user("bob")
        key = e.confirm(tokens(e.password_auth("bob"))).key
    sequence, result = e.sign_in(flow, app, device=Device(key, "group", "secret"), key_at="password")
    assert sequence == [TOTP]
    meta = e.new_device_metadata(result)
    assert meta["DeviceKey"] != key


# --- 4. device SRP cannot replace a code that is due ---------------------------------------------

def _try_device_srp(e: Env, device: Device, session: str | None, admin: bool) -> tuple[str, dict | None]:
    """DEVICE_SRP_AUTH (and DEVICE_PASSWORD_VERIFIER if that is answered) with the right device
    secret; returns how it ended and any tokens."""
    dsrp = e.srp(device=device)
    try:
        step = e.respond(DEVICE_SRP_AUTH, {"USERNAME": "alice", "DEVICE_KEY": device.key,
                                           "SRP_A": f"{dsrp.large_a_value:x}"}, session, admin)
    except ClientError as err:
        return err.response["Error"]["Code"], None
    try:
        done = e.respond(DEVICE_PASSWORD_VERIFIER, dsrp.process_device_challenge(step["ChallengeParameters"]),
                         step.get("Session", session), admin)
    except ClientError as err:
        return "DEVICE_SRP_AUTH accepted, then " + err.response["Error"]["Code"], None
    return f"accepted ({step.get('ChallengeName')} then {done.get('ChallengeName', 'tokens')})", done


@pytest.mark.parametrize("with_session", [True, False], ids=["with-session", "without-session"])
@pytest.mark.parametrize("flow", ["USER_SRP_AUTH", "USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
@pytest.mark.parametrize("state,flag", [("remembered", False), ("not_remembered", True)],
                         ids=["remembered-no-flag", "not_remembered-flag"])
def test_device_srp_does_not_skip_the_code(cognito, server, state, flag, flow, with_session):
    """The sign-in presented its device and waits for the code; the client answers DEVICE_SRP_AUTH
    instead (with the MFA Session, or without one as pycognito would): NotAuthorizedException, no
    tokens; the next sign-in is still challenged for the code."""
    e = device_env(cognito, server, "Always" if state == "remembered" else "Opt-In", flag)
    device, _ = e.prepare(state)
    admin = flow.startswith("ADMIN_")
    if flow == "USER_SRP_AUTH":
        srp = e.srp_steps()
        answer = srp.respond(srp.responses(srp.initiate(), DEVICE_KEY=device.key))
    else:
        answer = e.password_auth(flow=flow, device_key=device.key)
    session = assert_mfa_challenge(answer)
    outcome, done = _try_device_srp(e, device, session if with_session else None, admin)
    assert done is None, f"MFA skipped with device SRP: {outcome}: {done}"
    assert outcome == "NotAuthorizedException", outcome
    assert_mfa_challenge(e.password_auth(flow=flow if flow != "USER_SRP_AUTH" else "USER_PASSWORD_AUTH",
                                         device_key=device.key))


def test_device_srp_without_a_presented_device_does_not_skip_the_code(cognito, server):
    """The sign-in presented no device (so it waits for the code); DEVICE_SRP_AUTH with a remembered
    device of the user and the MFA Session: NotAuthorizedException, no tokens."""
    e = device_env(cognito, server, "Always", True)
    device, _ = e.prepare("remembered")
    session = assert_mfa_challenge(e.password_auth())
    for s in (session, None):
        outcome, done = _try_device_srp(e, device, s, False)
        assert done is None, f"MFA skipped with device SRP: {outcome}: {done}"
        assert outcome == "NotAuthorizedException", outcome


def test_the_skip_belongs_to_the_presented_device(cognito, server):
    """ChallengeRequiredOnNewDevice true: remembered device A presented at the password step gets
    DEVICE_SRP_AUTH instead of the code; answering it with another confirmed device of the user that
    is not remembered (B, whose secret the client holds), with the Session or without, is refused
    without tokens."""
    e = device_env(cognito, server, "Always", True)
    a, app = e.prepare("remembered")
    _, result = e.sign_in("USER_PASSWORD_AUTH", app)  # the code, then a new device
    b = e.confirm(result)
    e.cognito.admin_update_device_status(UserPoolId=e.pool, Username="alice", DeviceKey=b.key,
                                         DeviceRememberedStatus="not_remembered")
    for with_session in (True, False):
        answer = e.password_auth(device_key=a.key)
        assert answer.get("ChallengeName") == DEVICE_SRP_AUTH, answer
        outcome, done = _try_device_srp(e, b, answer["Session"] if with_session else None, False)
        assert done is None, f"device B used device A's skip: {outcome}: {done}"
        assert outcome in ("NotAuthorizedException", "InvalidParameterException"), outcome
