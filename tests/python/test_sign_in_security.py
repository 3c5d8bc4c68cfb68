"""Attacks on sign-in and tokens, each refused with Cognito's exception and message: tampered SRP
steps (signature, replayed SECRET_BLOCK, skewed TIMESTAMP, degenerate SRP_A), forged access and
refresh tokens, and the lockout after repeated wrong passwords."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import time

import jwt
import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pycognito.aws_srp import N_HEX

from support import (
    PASSWORD, SrpSignIn, aws_error, cognito_timestamp, fetch_json, new_app_client, new_confirmed_user,
    password_sign_in, refresh, sign_in_tokens,
)

WRONG = "Wr0ng-pass!"
INCORRECT = "Incorrect username or password."
EXPIRED_SESSION = "Invalid session for the user, session is expired."
INVALID_ACCESS = "Invalid Access Token"
INVALID_REFRESH = "Invalid Refresh Token"
LOCKED = "Password attempts exceeded"
N = int(N_HEX, 16)


def srp(cognito, pool, client_id, username="alice", password=PASSWORD) -> SrpSignIn:
    return SrpSignIn(cognito, pool, client_id, username, password)


def assert_signed_in(answer: dict) -> None:
    assert answer["AuthenticationResult"]["AccessToken"], answer


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- PASSWORD_VERIFIER tampering -----------------------------------------------------------------

def test_srp_wrong_password(cognito, pool, client_id, alice):
    with aws_error("NotAuthorizedException", INCORRECT):
        srp(cognito, pool, client_id, password=WRONG).sign_in()


def test_srp_wrong_claim_signature(cognito, pool, client_id, alice):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    good = s.responses(challenge)
    forged = base64.b64encode(os.urandom(32)).decode()
    with aws_error("NotAuthorizedException", INCORRECT):
        s.respond({**good, "PASSWORD_CLAIM_SIGNATURE": forged})
    # One bit off.
    raw = bytearray(base64.b64decode(good["PASSWORD_CLAIM_SIGNATURE"]))
    raw[0] ^= 1
    flipped = srp(cognito, pool, client_id)
    challenge = flipped.initiate()
    with aws_error("NotAuthorizedException", INCORRECT):
        flipped.respond(flipped.responses(challenge, PASSWORD_CLAIM_SIGNATURE=base64.b64encode(bytes(raw)).decode()))


def test_srp_signature_over_another_timestamp(cognito, pool, client_id, alice):
    # The signature covers TIMESTAMP: a valid signature with an edited timestamp fails.
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    signed = s.responses(challenge, timestamp=cognito_timestamp(dt.datetime.now(dt.timezone.utc)))
    later = cognito_timestamp(dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=61))
    with aws_error("NotAuthorizedException", INCORRECT):
        s.respond({**signed, "TIMESTAMP": later})


def test_srp_secret_block_replayed_after_success(cognito, pool, client_id, alice):
    s = srp(cognito, pool, client_id)
    responses = s.responses(s.initiate())
    assert_signed_in(s.respond(responses))
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        s.respond(responses)


def test_srp_secret_block_replayed_with_a_fresh_timestamp(cognito, pool, client_id, alice):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    assert_signed_in(s.respond(s.responses(challenge)))
    time.sleep(1.1)
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        s.respond(s.responses(challenge))


@pytest.mark.parametrize("minutes", [6, -6])
def test_srp_timestamp_six_minutes_off(cognito, pool, client_id, alice, minutes):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    skewed = cognito_timestamp(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes))
    with aws_error("NotAuthorizedException", INCORRECT):
        s.respond(s.responses(challenge, timestamp=skewed))


@pytest.mark.parametrize("minutes", [4, -4])
def test_srp_timestamp_within_the_window(cognito, pool, client_id, alice, minutes):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    skewed = cognito_timestamp(dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes))
    assert_signed_in(s.respond(s.responses(challenge, timestamp=skewed)))


def test_srp_timestamp_with_a_wrong_weekday(cognito, pool, client_id, alice):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    now = cognito_timestamp(dt.datetime.now(dt.timezone.utc))
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    wrong_day = days[(days.index(now[:3]) + 1) % 7] + now[3:]
    with aws_error("NotAuthorizedException", INCORRECT):
        s.respond(s.responses(challenge, timestamp=wrong_day))


def test_srp_timestamp_not_a_date(cognito, pool, client_id, alice):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    with aws_error("InvalidParameterException", "TIMESTAMP"):
        s.respond(s.responses(challenge, timestamp="yesterday at noon"))


def test_srp_secret_block_tampered(cognito, pool, client_id, alice):
    s = srp(cognito, pool, client_id)
    challenge = s.initiate()
    block = bytearray(base64.b64decode(challenge["ChallengeParameters"]["SECRET_BLOCK"]))
    block[len(block) // 2] ^= 0x55
    tampered = base64.b64encode(bytes(block)).decode()
    forged = {**challenge, "ChallengeParameters": {**challenge["ChallengeParameters"], "SECRET_BLOCK": tampered}}
    with aws_error("NotAuthorizedException"):
        s.respond(s.responses(forged))
    with aws_error("NotAuthorizedException"):
        s.respond(s.responses(challenge, PASSWORD_CLAIM_SECRET_BLOCK=base64.b64encode(os.urandom(64)).decode()))
    # The genuine block still works afterwards.
    assert_signed_in(s.respond(s.responses(challenge)))


def test_srp_secret_block_missing(cognito_raw, pool, client_id, alice):
    s = SrpSignIn(cognito_raw, pool, client_id, "alice", PASSWORD)
    challenge = s.initiate()
    with aws_error("InvalidParameterException", "PASSWORD_CLAIM_SECRET_BLOCK"):
        s.respond(s.responses(challenge, PASSWORD_CLAIM_SECRET_BLOCK=None))


def test_srp_secret_block_of_another_user(cognito, pool, client_id, alice):
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    bob = srp(cognito, pool, client_id, "bob")
    bob_challenge = bob.initiate()
    # Bob's challenge answered in Alice's name (with a signature Bob could make).
    with aws_error("NotAuthorizedException"):
        bob.respond(bob.responses(bob_challenge, USERNAME="alice"))


def test_srp_challenge_answered_on_another_client(cognito, pool, client_id, alice):
    other, _ = new_app_client(cognito, pool, name="other")
    s = srp(cognito, pool, client_id)
    responses = s.responses(s.initiate())
    with aws_error("NotAuthorizedException"):
        cognito.respond_to_auth_challenge(ClientId=other, ChallengeName="PASSWORD_VERIFIER",
                                          ChallengeResponses=responses)


@pytest.mark.parametrize("srp_a", ["0", "00", N_HEX.lower(), f"{2 * N:x}", f"{N * 3:x}", "not-hex"])
def test_srp_degenerate_a(cognito, pool, client_id, alice, srp_a):
    with aws_error("InvalidParameterException", "SRP_A"):
        srp(cognito, pool, client_id).initiate(SRP_A=srp_a)


def test_srp_a_too_long(cognito, pool, client_id, alice):
    with aws_error("InvalidParameterException", "SRP_A"):
        srp(cognito, pool, client_id).initiate(SRP_A="f" * 20000)


# --- forged access tokens ------------------------------------------------------------------------

@pytest.fixture
def tokens(cognito, client_id, alice):
    return sign_in_tokens(cognito, client_id)


def parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def assemble(header: dict, payload: dict, signature: str) -> str:
    return ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), signature])


def assert_invalid_access_token(cognito, token: str) -> None:
    with aws_error("NotAuthorizedException", INVALID_ACCESS):
        cognito.get_user(AccessToken=token)


def test_garbage_access_tokens(cognito, tokens):
    for token in ("not-a-token", "a.b.c", tokens["AccessToken"] + "x", tokens["AccessToken"].rsplit(".", 1)[0]):
        assert_invalid_access_token(cognito, token)


def test_alg_none(cognito, tokens):
    header, payload, _ = parts(tokens["AccessToken"])
    assert_invalid_access_token(cognito, assemble({**header, "alg": "none"}, payload, ""))
    assert_invalid_access_token(cognito, assemble({**header, "alg": "None"}, payload, ""))


def test_signed_by_another_key_with_the_same_kid(cognito, tokens):
    header, payload, _ = parts(tokens["AccessToken"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(payload, key, algorithm="RS256", headers={"kid": header["kid"]})
    assert_invalid_access_token(cognito, forged)


def test_hs256_with_the_public_key_as_secret(cognito, server, pool, tokens):
    header, payload, _ = parts(tokens["AccessToken"])
    [jwk] = [k for k in fetch_json(f"{server.url}/{pool}/.well-known/jwks.json")["keys"] if k["kid"] == header["kid"]]
    public_pem = jwt.PyJWK(jwk).key.public_bytes(encoding=serialization.Encoding.PEM,
                                                 format=serialization.PublicFormat.SubjectPublicKeyInfo)
    forged_header = {**header, "alg": "HS256"}
    signing_input = ".".join([b64url(json.dumps(forged_header).encode()), b64url(json.dumps(payload).encode())])
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    assert_invalid_access_token(cognito, signing_input + "." + b64url(mac))


def test_edited_payload_keeps_the_signature(cognito, pool, tokens):
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    bob_sub = {a["Name"]: a["Value"] for a in cognito.admin_get_user(UserPoolId=pool, Username="bob")[
        "UserAttributes"]}["sub"]
    header, payload, signature = parts(tokens["AccessToken"])
    assert_invalid_access_token(cognito, assemble(header, {**payload, "username": "bob", "sub": bob_sub}, signature))
    assert_invalid_access_token(cognito, assemble(header, {**payload, "exp": payload["exp"] + 86400}, signature))
    # Re-encoding the untouched payload differently (key order, spacing) also breaks the signature.
    reordered = dict(reversed(list(payload.items())))
    assert_invalid_access_token(cognito, assemble(header, reordered, signature))


def test_unknown_kid(cognito, tokens):
    header, payload, signature = parts(tokens["AccessToken"])
    assert_invalid_access_token(cognito, assemble({**header, "kid": "no-such-key"}, payload, signature))


def test_id_token_is_not_an_access_token(cognito, tokens):
    assert_invalid_access_token(cognito, tokens["IdToken"])
    with aws_error("NotAuthorizedException", INVALID_ACCESS):
        cognito.global_sign_out(AccessToken=tokens["IdToken"])
    with aws_error("NotAuthorizedException", INVALID_ACCESS):
        cognito.change_password(AccessToken=tokens["IdToken"], PreviousPassword=PASSWORD,
                                ProposedPassword="N3w-Passw0rd!")
    # Nothing was signed out or changed.
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"


def test_forged_token_refused_by_a_state_changing_operation(cognito, pool, client_id, tokens):
    header, payload, _ = parts(tokens["AccessToken"])
    forged = assemble({**header, "alg": "none"}, payload, "")
    with aws_error("NotAuthorizedException", INVALID_ACCESS):
        cognito.delete_user(AccessToken=forged)
    with aws_error("NotAuthorizedException", INVALID_ACCESS):
        cognito.update_user_attributes(AccessToken=forged, UserAttributes=[{"Name": "email", "Value": "x@evil.test"}])
    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert {a["Name"]: a["Value"] for a in user["UserAttributes"]}["email"] == "alice@example.com"


# --- revoked and forged refresh tokens -----------------------------------------------------------

def test_tokens_after_global_sign_out(cognito, client_id, tokens):
    cognito.global_sign_out(AccessToken=tokens["AccessToken"])
    with aws_error("NotAuthorizedException", "Access Token has been revoked"):
        cognito.get_user(AccessToken=tokens["AccessToken"])
    with aws_error("NotAuthorizedException", "Refresh Token has been revoked"):
        refresh(cognito, client_id, tokens["RefreshToken"])


def test_invalid_refresh_tokens(cognito, client_id, tokens):
    token = tokens["RefreshToken"]
    middle = len(token) // 2
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    for bad in ("garbage", altered, tokens["AccessToken"], tokens["IdToken"]):
        with aws_error("NotAuthorizedException", INVALID_REFRESH):
            refresh(cognito, client_id, bad)
        with aws_error("NotAuthorizedException", INVALID_REFRESH):
            cognito.get_tokens_from_refresh_token(RefreshToken=bad, ClientId=client_id)
    # The genuine one still works.
    assert refresh(cognito, client_id, token)["AuthenticationResult"]["AccessToken"]


# --- lockout -------------------------------------------------------------------------------------

def fail_five_times(cognito, client_id, username="alice") -> None:
    for _ in range(5):
        with aws_error("NotAuthorizedException", INCORRECT):
            password_sign_in(cognito, client_id, username, WRONG)


def test_lockout_after_five_failures(cognito, pool, client_id, alice):
    fail_five_times(cognito, client_id)
    with aws_error("NotAuthorizedException", LOCKED):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    time.sleep(1.1)
    assert password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]["AccessToken"]
    # The success reset the count: the next failure is an ordinary one, and the one after that too.
    for _ in range(2):
        with aws_error("NotAuthorizedException", INCORRECT):
            password_sign_in(cognito, client_id, "alice", WRONG)
    password_sign_in(cognito, client_id, "alice", PASSWORD)


def test_lockout_applies_to_every_flow(cognito, pool, client_id, alice):
    fail_five_times(cognito, client_id)
    with aws_error("NotAuthorizedException", LOCKED):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    with aws_error("NotAuthorizedException", LOCKED):
        srp(cognito, pool, client_id).sign_in()


def test_failures_count_across_flows(cognito, pool, client_id, alice):
    for _ in range(2):
        with aws_error("NotAuthorizedException", INCORRECT):
            password_sign_in(cognito, client_id, "alice", WRONG)
    for _ in range(2):
        with aws_error("NotAuthorizedException", INCORRECT):
            srp(cognito, pool, client_id, password=WRONG).sign_in()
    with aws_error("NotAuthorizedException", INCORRECT):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice", "PASSWORD": WRONG})
    with aws_error("NotAuthorizedException", LOCKED):
        password_sign_in(cognito, client_id, "alice", PASSWORD)


def test_lockout_doubles(cognito, pool, client_id, alice):
    fail_five_times(cognito, client_id)
    time.sleep(1.1)
    # A sixth failure after the first lock: now locked for 2 s.
    with pytest.raises(ClientError) as info:
        password_sign_in(cognito, client_id, "alice", WRONG)
    err = info.value.response["Error"]
    assert err["Code"] == "NotAuthorizedException" and err["Message"] in (INCORRECT, LOCKED), err
    time.sleep(1.1)
    with aws_error("NotAuthorizedException", LOCKED):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    time.sleep(1.1)
    assert password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]["AccessToken"]


def test_lockout_is_per_user(cognito, pool, client_id, alice):
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    fail_five_times(cognito, client_id)
    assert password_sign_in(cognito, client_id, "bob", PASSWORD)["AuthenticationResult"]["AccessToken"]
    with aws_error("NotAuthorizedException", LOCKED):
        password_sign_in(cognito, client_id, "alice", PASSWORD)


def test_locked_user_keeps_existing_sessions(cognito, pool, client_id, alice, tokens):
    fail_five_times(cognito, client_id)
    assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"] == "alice"


def test_failure_count_is_kept_across_a_restart(server_factory):
    srv = server_factory()
    cognito = srv.client()
    pool = cognito.create_user_pool(PoolName="durable")["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    for _ in range(4):
        with aws_error("NotAuthorizedException", INCORRECT):
            password_sign_in(cognito, client_id, "alice", WRONG)
    srv.restart()
    cognito = srv.client()
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, "alice", WRONG)
    with aws_error("NotAuthorizedException", LOCKED):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
