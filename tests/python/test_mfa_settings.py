"""MFA settings (docs/mfa.md), first slice: the pool's MFA configuration (SetUserPoolMfaConfig /
GetUserPoolMfaConfig), authenticator-app enrolment (AssociateSoftwareToken / VerifySoftwareToken)
and the users' MFA preferences (SetUserMFAPreference / AdminSetUserMFAPreference, the legacy
AdminSetUserSettings MFAOptions, UserMFASettingList / PreferredMfaSetting in GetUser and
AdminGetUser). Sign-in challenges are not part of this slice and are not tested here.

TOTP codes are computed by mfa_support with the standard library (RFC 6238: HMAC-SHA1, 6 digits,
30-second steps); the server accepts one step either side of the current one. The one test of that
helper against the RFC's vectors is here (test_totp_helper_matches_rfc_6238), for every MFA suite."""

from __future__ import annotations

import base64
import re

import pytest

from mfa_support import b32_key, current_step, hotp, settle, totp
from support import (
    PASSWORD, aws_error, new_app_client, new_confirmed_user, pycognito_user, sign_in_tokens, strip_meta,
)

PHONE = "+15555550123"
UNKNOWN_POOL = "us-east-1_ZZZZZZZZZ"
SMS_CONFIGURATION = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms-role", "ExternalId": "ext-123"}
SMS_MESSAGE = "Your sign-in code is {####}"
EMAIL_MFA = {"Message": "Your sign-in code is {####}", "Subject": "Your sign-in code"}

TOTP_NOT_ENABLED = "Software Token MFA has not been enabled by the userPool"
CODE_MISMATCH = "Code mismatch and fail enable Software Token MFA"
TOTP_NOT_VERIFIED = "User has not verified software token mfa"
INVALID_ACCESS = "Invalid Access Token"
ACCESS_REVOKED = "Access Token has been revoked"

SECRET_RE = re.compile(r"^[A-Z2-7]{52}$")
TOTP = "SOFTWARE_TOKEN_MFA"
SMS = "SMS_MFA"
EMAIL = "EMAIL_OTP"


# --- TOTP (RFC 6238): mfa_support ------------------------------------------------------------

def window(secret: str, step: int) -> set[str]:
    """The codes the server accepts at `step` (one step of tolerance either side)."""
    return {totp(secret, step + d) for d in (-1, 0, 1)}


def test_totp_helper_matches_rfc_6238():
    # RFC 6238 appendix B, SHA-1, T = 59 s: 94287082 with 8 digits.
    key = b"12345678901234567890"
    assert hotp(key, 59 // 30, digits=8) == "94287082"
    assert hotp(key, 1111111109 // 30, digits=8) == "07081804"
    assert hotp(key, 59 // 30) == "287082"
    secret = base64.b32encode(key).decode().rstrip("=")
    assert totp(secret, 1) == "287082"


# --- fixtures and helpers ------------------------------------------------------------------------

@pytest.fixture
def mfa_pool(cognito):
    """A pool with MFA OPTIONAL, authenticator apps allowed, SMS and email configured."""
    pool_id = cognito.create_user_pool(PoolName="mfa-settings")["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
        SoftwareTokenMfaConfiguration={"Enabled": True},
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MESSAGE, "SmsConfiguration": SMS_CONFIGURATION},
        EmailMfaConfiguration=EMAIL_MFA,
    )
    return pool_id


@pytest.fixture
def client_id(cognito, mfa_pool):
    return new_app_client(cognito, mfa_pool)[0]


@pytest.fixture
def alice(cognito, mfa_pool):
    """Email, no phone number."""
    return new_confirmed_user(cognito, mfa_pool, "alice", PASSWORD, email="alice@example.com",
                              email_verified="true")


@pytest.fixture
def bob(cognito, mfa_pool):
    """Phone number, no email."""
    return new_confirmed_user(cognito, mfa_pool, "bob", PASSWORD, phone_number=PHONE,
                              phone_number_verified="true")


@pytest.fixture
def access(cognito, client_id, alice) -> str:
    return sign_in_tokens(cognito, client_id, "alice")["AccessToken"]


@pytest.fixture
def bob_access(cognito, client_id, bob) -> str:
    return sign_in_tokens(cognito, client_id, "bob")["AccessToken"]


def pycognito_signed_in(server, pool_id, client_id, username="alice"):
    """pycognito signed in with USER_SRP_AUTH (its tokens verified against the server's JWKS)."""
    u = pycognito_user(server.url, pool_id, client_id, username)
    u.authenticate(PASSWORD)
    return u


def enrol_totp(cognito, access: str, previous_step: bool = False) -> str:
    """Associate and verify an authenticator app; returns the secret. `previous_step`: with the
    previous step's code, at least 10 s before the current step ends (as mfa_support.Env.enrol)."""
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    step = settle(margin=10) - 1 if previous_step else settle()
    assert cognito.verify_software_token(AccessToken=access, UserCode=totp(secret, step),
                                         FriendlyDeviceName="phone")["Status"] == "SUCCESS"
    return secret


def mfa_settings(answer: dict) -> tuple[list[str] | None, str | None]:
    """(sorted UserMFASettingList or None when absent, PreferredMfaSetting or None) of GetUser /
    AdminGetUser."""
    listed = answer.get("UserMFASettingList")
    return (sorted(listed) if listed is not None else None), (answer.get("PreferredMfaSetting") or None)


def user_mfa(cognito, access: str) -> tuple[list[str] | None, str | None]:
    return mfa_settings(cognito.get_user(AccessToken=access))


def admin_user_mfa(cognito, pool_id: str, username: str) -> tuple[list[str] | None, str | None]:
    return mfa_settings(cognito.admin_get_user(UserPoolId=pool_id, Username=username))


def pool_mfa(cognito, pool_id: str) -> dict:
    return strip_meta(cognito.get_user_pool_mfa_config(UserPoolId=pool_id))


# --- SetUserPoolMfaConfig / GetUserPoolMfaConfig -------------------------------------------------

def test_new_pool_mfa_is_off(cognito, pool):
    config = pool_mfa(cognito, pool)
    assert config["MfaConfiguration"] == "OFF"
    assert config.get("SoftwareTokenMfaConfiguration", {}).get("Enabled", False) is False


@pytest.mark.parametrize("mfa", ["OFF", "OPTIONAL", "ON"])
def test_set_mfa_config_with_totp(cognito, pool, mfa):
    answer = strip_meta(cognito.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration=mfa, SoftwareTokenMfaConfiguration={"Enabled": True}))
    assert answer["MfaConfiguration"] == mfa
    assert answer["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert pool_mfa(cognito, pool) == answer
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["MfaConfiguration"] == mfa


def test_set_mfa_config_back_to_off(cognito, pool):
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    answer = strip_meta(cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OFF"))
    assert answer["MfaConfiguration"] == "OFF"
    assert pool_mfa(cognito, pool) == answer
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["MfaConfiguration"] == "OFF"


def test_set_mfa_config_with_sms(cognito, pool):
    sms = {"SmsAuthenticationMessage": SMS_MESSAGE, "SmsConfiguration": SMS_CONFIGURATION}
    answer = strip_meta(cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON",
                                                         SmsMfaConfiguration=sms))
    assert answer["MfaConfiguration"] == "ON"
    assert answer["SmsMfaConfiguration"] == sms
    assert answer.get("SoftwareTokenMfaConfiguration", {}).get("Enabled", False) is False
    assert pool_mfa(cognito, pool) == answer
    described = cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    assert described["MfaConfiguration"] == "ON"
    assert described["SmsAuthenticationMessage"] == SMS_MESSAGE
    assert described["SmsConfiguration"] == SMS_CONFIGURATION


def test_set_mfa_config_with_every_factor(cognito, pool):
    sms = {"SmsAuthenticationMessage": SMS_MESSAGE, "SmsConfiguration": SMS_CONFIGURATION}
    answer = strip_meta(cognito.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="OPTIONAL", SmsMfaConfiguration=sms,
        SoftwareTokenMfaConfiguration={"Enabled": True}, EmailMfaConfiguration=EMAIL_MFA))
    assert answer["MfaConfiguration"] == "OPTIONAL"
    assert answer["SmsMfaConfiguration"] == sms
    assert answer["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    assert answer["EmailMfaConfiguration"] == EMAIL_MFA
    assert pool_mfa(cognito, pool) == answer


def test_mfa_config_of_a_pool_created_with_mfa(cognito):
    pool_id = cognito.create_user_pool(PoolName="mfa", MfaConfiguration="OPTIONAL",
                                       SmsAuthenticationMessage=SMS_MESSAGE,
                                       SmsConfiguration=SMS_CONFIGURATION)["UserPool"]["Id"]
    config = pool_mfa(cognito, pool_id)
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SmsMfaConfiguration"] == {"SmsAuthenticationMessage": SMS_MESSAGE,
                                             "SmsConfiguration": SMS_CONFIGURATION}


def test_mfa_config_follows_update_user_pool(cognito, pool):
    cognito.update_user_pool(UserPoolId=pool, MfaConfiguration="OPTIONAL", SmsConfiguration=SMS_CONFIGURATION)
    assert pool_mfa(cognito, pool)["MfaConfiguration"] == "OPTIONAL"
    cognito.update_user_pool(UserPoolId=pool, MfaConfiguration="OFF")
    assert pool_mfa(cognito, pool)["MfaConfiguration"] == "OFF"


@pytest.mark.parametrize("mfa", ["ON", "OPTIONAL"])
@pytest.mark.parametrize("factors", [
    {},
    {"SoftwareTokenMfaConfiguration": {"Enabled": False}},
], ids=["nothing", "totp-disabled"])
def test_mfa_on_without_a_factor(cognito, pool, mfa, factors):
    with aws_error("InvalidParameterException"):
        cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration=mfa, **factors)
    assert pool_mfa(cognito, pool)["MfaConfiguration"] == "OFF"
    assert cognito.describe_user_pool(UserPoolId=pool)["UserPool"]["MfaConfiguration"] == "OFF"


def test_sms_message_needs_the_code_placeholder(cognito, pool):
    with aws_error("InvalidParameterException"):
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True},
            SmsMfaConfiguration={"SmsAuthenticationMessage": "Your sign-in code is here",
                                 "SmsConfiguration": SMS_CONFIGURATION})
    assert pool_mfa(cognito, pool)["MfaConfiguration"] == "OFF"
    assert "SmsAuthenticationMessage" not in cognito.describe_user_pool(UserPoolId=pool)["UserPool"]


def test_email_message_needs_the_code_placeholder(cognito, pool):
    with aws_error("InvalidParameterException"):
        cognito.set_user_pool_mfa_config(
            UserPoolId=pool, MfaConfiguration="OPTIONAL", SoftwareTokenMfaConfiguration={"Enabled": True},
            EmailMfaConfiguration={"Message": "Your sign-in code is here", "Subject": "Code"})
    assert pool_mfa(cognito, pool)["MfaConfiguration"] == "OFF"


def test_mfa_config_of_an_unknown_pool(cognito):
    with aws_error("ResourceNotFoundException", UNKNOWN_POOL):
        cognito.get_user_pool_mfa_config(UserPoolId=UNKNOWN_POOL)
    with aws_error("ResourceNotFoundException", UNKNOWN_POOL):
        cognito.set_user_pool_mfa_config(UserPoolId=UNKNOWN_POOL, MfaConfiguration="OPTIONAL",
                                         SoftwareTokenMfaConfiguration={"Enabled": True})


# --- AssociateSoftwareToken ----------------------------------------------------------------------

def test_associate_software_token(cognito, mfa_pool, access):
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    assert SECRET_RE.match(secret), secret
    assert len(b32_key(secret)) == 32
    again = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    assert SECRET_RE.match(again), again
    assert again != secret


def test_associate_with_pycognito(server, mfa_pool, client_id, alice):
    u = pycognito_signed_in(server, mfa_pool, client_id)
    secret = u.associate_software_token()
    assert SECRET_RE.match(secret), secret


def test_associate_in_a_pool_without_totp(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    access = sign_in_tokens(cognito, client_id, "alice")["AccessToken"]
    with aws_error("SoftwareTokenMFANotFoundException", TOTP_NOT_ENABLED):
        cognito.associate_software_token(AccessToken=access)


def test_associate_in_an_sms_only_pool(cognito, pool):
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="OPTIONAL",
        SmsMfaConfiguration={"SmsAuthenticationMessage": SMS_MESSAGE, "SmsConfiguration": SMS_CONFIGURATION})
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    access = sign_in_tokens(cognito, client_id, "alice")["AccessToken"]
    with aws_error("SoftwareTokenMFANotFoundException", TOTP_NOT_ENABLED):
        cognito.associate_software_token(AccessToken=access)


def secret_forms(secret: str) -> list[bytes]:
    key = b32_key(secret)
    return [secret.encode(), secret.lower().encode(), key, key.hex().encode(), key.hex().upper().encode(),
            base64.b64encode(key), base64.b64encode(key).rstrip(b"="), base64.urlsafe_b64encode(key).rstrip(b"=")]


def test_secret_is_stored_sealed(cognito, server, mfa_pool, access):
    pending = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    on_disk = server.stored_bytes()
    assert b"alice@example.com" in on_disk  # the right place, and written through
    for form in secret_forms(pending):
        assert form not in on_disk, form
    verified = enrol_totp(cognito, access)
    on_disk = server.stored_bytes()
    for form in secret_forms(verified):
        assert form not in on_disk, form


# --- VerifySoftwareToken -------------------------------------------------------------------------

def test_verify_software_token(cognito, mfa_pool, access):
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    settle()
    answer = cognito.verify_software_token(AccessToken=access, UserCode=totp(secret), FriendlyDeviceName="phone")
    assert strip_meta(answer) == {"Status": "SUCCESS"}


def test_verify_with_pycognito(server, mfa_pool, client_id, alice):
    u = pycognito_signed_in(server, mfa_pool, client_id)
    secret = u.associate_software_token()
    settle()
    assert u.verify_software_token(totp(secret), "my phone") is True


def wrong_code(secret: str, step: int) -> str:
    """A 6-digit code that none of the steps near `step` produce."""
    near = {totp(secret, step + d) for d in range(-3, 4)}
    return next(c for c in ("000000", "123456", "999999", "314159") if c not in near)


def test_verify_wrong_code(cognito, mfa_pool, access):
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    step = settle()
    with aws_error("EnableSoftwareTokenMFAException", CODE_MISMATCH):
        cognito.verify_software_token(AccessToken=access, UserCode=wrong_code(secret, step))
    # The secret is still pending: a wrong code did not verify it ...
    with aws_error("InvalidParameterException", TOTP_NOT_VERIFIED):
        cognito.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    # ... nor discard it.
    settle()
    assert cognito.verify_software_token(AccessToken=access, UserCode=totp(secret))["Status"] == "SUCCESS"


def associate_with_distinct_code(cognito, access: str, offset: int) -> tuple[str, int]:
    """Associate a secret whose code for (now + offset) differs from every code the server
    accepts now (probability of a clash ~3e-6, but then try another secret); returns
    (secret, step)."""
    for _ in range(5):
        secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
        step = settle()
        if totp(secret, step + offset) not in window(secret, step):
            return secret, step
    raise AssertionError("no secret with distinct codes")


@pytest.mark.parametrize("offset", [-1, 1], ids=["previous-step", "next-step"])
def test_verify_accepts_one_step_either_side(cognito, mfa_pool, access, offset):
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    step = settle()
    answer = cognito.verify_software_token(AccessToken=access, UserCode=totp(secret, step + offset))
    assert strip_meta(answer) == {"Status": "SUCCESS"}


@pytest.mark.parametrize("offset", [-2, 2], ids=["two-steps-back", "two-steps-ahead"])
def test_verify_refuses_codes_two_steps_away(cognito, mfa_pool, access, offset):
    secret, step = associate_with_distinct_code(cognito, access, offset)
    with aws_error("EnableSoftwareTokenMFAException", CODE_MISMATCH):
        cognito.verify_software_token(AccessToken=access, UserCode=totp(secret, step + offset))


def test_verify_without_associate(cognito, mfa_pool, access):
    with aws_error("InvalidParameterException"):
        cognito.verify_software_token(AccessToken=access, UserCode="123456")


def test_verify_twice(cognito, mfa_pool, access):
    secret = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    settle()
    code = totp(secret)
    assert cognito.verify_software_token(AccessToken=access, UserCode=code)["Status"] == "SUCCESS"
    # The pending secret became the user's and its code's step is spent.
    with aws_error("ExpiredCodeException", "Your software token has already been used once."):
        cognito.verify_software_token(AccessToken=access, UserCode=code)


def test_second_associate_replaces_the_pending_secret(cognito, mfa_pool, access):
    for _ in range(5):
        first = cognito.associate_software_token(AccessToken=access)["SecretCode"]
        second = cognito.associate_software_token(AccessToken=access)["SecretCode"]
        step = settle()
        if totp(first, step) not in window(second, step):
            break
    with aws_error("EnableSoftwareTokenMFAException", CODE_MISMATCH):
        cognito.verify_software_token(AccessToken=access, UserCode=totp(first, step))
    settle()
    assert cognito.verify_software_token(AccessToken=access, UserCode=totp(second))["Status"] == "SUCCESS"


def test_verified_secret_stays_while_a_new_one_is_pending(cognito, mfa_pool, access):
    first = enrol_totp(cognito, access, previous_step=True)
    for _ in range(5):
        second = cognito.associate_software_token(AccessToken=access)["SecretCode"]
        step = settle()
        if totp(first, step) not in window(second, step):
            break
    # The user still has a verified secret: TOTP can be enabled.
    assert strip_meta(cognito.set_user_mfa_preference(
        AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})) == {}
    assert user_mfa(cognito, access) == ([TOTP], TOTP)
    # The pending secret is the new one: the old secret's code does not verify it.
    with aws_error("EnableSoftwareTokenMFAException", CODE_MISMATCH):
        cognito.verify_software_token(AccessToken=access, UserCode=totp(first, step))
    # Verified with a later step's code than the first secret (same-step re-enrolment: the next
    # test): the first took the previous step's, so no step need pass.
    settle()
    assert cognito.verify_software_token(AccessToken=access, UserCode=totp(second))["Status"] == "SUCCESS"
    assert user_mfa(cognito, access) == ([TOTP], TOTP)


def test_re_enrolment_in_the_same_step(cognito, mfa_pool, access):
    """A new secret's code was never used, even if the old secret was verified in the same
    30-second step: the user who re-enrols at once (another phone) is not refused."""
    first = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    step = settle(margin=10)
    assert cognito.verify_software_token(AccessToken=access, UserCode=totp(first, step))["Status"] == "SUCCESS"
    second = cognito.associate_software_token(AccessToken=access)["SecretCode"]
    assert current_step() == step
    answer = cognito.verify_software_token(AccessToken=access, UserCode=totp(second, step))
    assert strip_meta(answer) == {"Status": "SUCCESS"}


def test_verifying_does_not_enable_totp(cognito, mfa_pool, alice, access):
    enrol_totp(cognito, access)
    assert user_mfa(cognito, access) == (None, None)
    assert admin_user_mfa(cognito, mfa_pool, "alice") == (None, None)


# --- SetUserMFAPreference ------------------------------------------------------------------------

def test_new_user_has_no_mfa(cognito, mfa_pool, alice, access):
    assert user_mfa(cognito, access) == (None, None)
    assert admin_user_mfa(cognito, mfa_pool, "alice") == (None, None)
    assert "UserMFASettingList" not in cognito.get_user(AccessToken=access)


def test_totp_preferred_after_verification(cognito, mfa_pool, alice, access):
    enrol_totp(cognito, access)
    answer = cognito.set_user_mfa_preference(AccessToken=access,
                                             SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert strip_meta(answer) == {}
    got = cognito.get_user(AccessToken=access)
    assert got["UserMFASettingList"] == [TOTP]
    assert got["PreferredMfaSetting"] == TOTP
    admin = cognito.admin_get_user(UserPoolId=mfa_pool, Username="alice")
    assert admin["UserMFASettingList"] == [TOTP]
    assert admin["PreferredMfaSetting"] == TOTP


def test_totp_enrolment_with_pycognito(cognito, server, mfa_pool, client_id, alice):
    u = pycognito_signed_in(server, mfa_pool, client_id)
    secret = u.associate_software_token()
    settle()
    assert u.verify_software_token(totp(secret), "my phone") is True
    # pycognito sends SMS {Enabled: false} too: disabling a factor alice cannot use is fine.
    u.set_user_mfa_preference(sms_mfa=False, software_token_mfa=True, preferred="SOFTWARE_TOKEN")
    assert user_mfa(cognito, u.access_token) == ([TOTP], TOTP)
    u.set_user_mfa_preference(sms_mfa=False, software_token_mfa=False)
    assert user_mfa(cognito, u.access_token) == (None, None)
    assert "UserMFASettingList" not in cognito.get_user(AccessToken=u.access_token)


def test_totp_before_association(cognito, mfa_pool, access):
    with aws_error("InvalidParameterException", TOTP_NOT_VERIFIED):
        cognito.set_user_mfa_preference(AccessToken=access,
                                        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert user_mfa(cognito, access) == (None, None)


def test_totp_before_verification(cognito, mfa_pool, access):
    cognito.associate_software_token(AccessToken=access)
    with aws_error("InvalidParameterException", TOTP_NOT_VERIFIED):
        cognito.set_user_mfa_preference(AccessToken=access, SoftwareTokenMfaSettings={"Enabled": True})
    assert user_mfa(cognito, access) == (None, None)


def test_sms_without_a_phone_number(cognito, mfa_pool, access):
    with aws_error("InvalidParameterException"):
        cognito.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True})
    assert user_mfa(cognito, access) == (None, None)


def test_sms_with_a_phone_number(cognito, mfa_pool, bob, bob_access):
    assert strip_meta(cognito.set_user_mfa_preference(AccessToken=bob_access,
                                                      SMSMfaSettings={"Enabled": True})) == {}
    assert user_mfa(cognito, bob_access) == ([SMS], None)
    cognito.set_user_mfa_preference(AccessToken=bob_access, SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert user_mfa(cognito, bob_access) == ([SMS], SMS)
    assert admin_user_mfa(cognito, mfa_pool, "bob") == ([SMS], SMS)


def test_email_without_an_email(cognito, mfa_pool, bob, bob_access):
    with aws_error("InvalidParameterException"):
        cognito.set_user_mfa_preference(AccessToken=bob_access, EmailMfaSettings={"Enabled": True})
    assert user_mfa(cognito, bob_access) == (None, None)


def test_email_with_an_email(cognito, mfa_pool, access):
    cognito.set_user_mfa_preference(AccessToken=access, EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert user_mfa(cognito, access) == ([EMAIL], EMAIL)


def test_disabling_removes_the_factor(cognito, mfa_pool, bob, bob_access):
    enrol_totp(cognito, bob_access)
    cognito.set_user_mfa_preference(AccessToken=bob_access, SMSMfaSettings={"Enabled": True},
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert user_mfa(cognito, bob_access) == (sorted([SMS, TOTP]), TOTP)
    cognito.set_user_mfa_preference(AccessToken=bob_access, SoftwareTokenMfaSettings={"Enabled": False})
    got = user_mfa(cognito, bob_access)
    assert got[0] == [SMS]
    assert got[1] != TOTP
    cognito.set_user_mfa_preference(AccessToken=bob_access, SMSMfaSettings={"Enabled": False})
    assert user_mfa(cognito, bob_access) == (None, None)
    assert "UserMFASettingList" not in cognito.get_user(AccessToken=bob_access)


def test_a_factor_not_given_is_kept(cognito, mfa_pool, bob, bob_access):
    enrol_totp(cognito, bob_access)
    cognito.set_user_mfa_preference(AccessToken=bob_access,
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    cognito.set_user_mfa_preference(AccessToken=bob_access, SMSMfaSettings={"Enabled": True})
    assert user_mfa(cognito, bob_access) == (sorted([SMS, TOTP]), TOTP)
    # An empty request changes nothing.
    cognito.set_user_mfa_preference(AccessToken=bob_access)
    assert user_mfa(cognito, bob_access) == (sorted([SMS, TOTP]), TOTP)


def test_at_most_one_factor_is_preferred(cognito, mfa_pool, bob, bob_access):
    enrol_totp(cognito, bob_access)
    cognito.set_user_mfa_preference(AccessToken=bob_access,
                                    SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    cognito.set_user_mfa_preference(AccessToken=bob_access, SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert user_mfa(cognito, bob_access) == (sorted([SMS, TOTP]), SMS)
    assert admin_user_mfa(cognito, mfa_pool, "bob") == (sorted([SMS, TOTP]), SMS)


def test_a_refused_request_changes_nothing(cognito, mfa_pool, access):
    # TOTP is fine (email too), SMS is not: nothing is applied.
    enrol_totp(cognito, access)
    with aws_error("InvalidParameterException"):
        cognito.set_user_mfa_preference(AccessToken=access, SMSMfaSettings={"Enabled": True},
                                        SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert user_mfa(cognito, access) == (None, None)


# --- AdminSetUserMFAPreference / AdminSetUserSettings --------------------------------------------

def test_admin_set_user_mfa_preference(cognito, mfa_pool, alice, bob, bob_access):
    answer = cognito.admin_set_user_mfa_preference(UserPoolId=mfa_pool, Username="bob",
                                                   SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert strip_meta(answer) == {}
    admin = cognito.admin_get_user(UserPoolId=mfa_pool, Username="bob")
    assert admin["UserMFASettingList"] == [SMS]
    assert admin["PreferredMfaSetting"] == SMS
    assert user_mfa(cognito, bob_access) == ([SMS], SMS)
    # The other user is untouched.
    assert admin_user_mfa(cognito, mfa_pool, "alice") == (None, None)


def test_admin_totp_for_a_user_who_verified(cognito, mfa_pool, alice, access):
    enrol_totp(cognito, access)
    cognito.admin_set_user_mfa_preference(UserPoolId=mfa_pool, Username="alice",
                                          SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert admin_user_mfa(cognito, mfa_pool, "alice") == ([TOTP], TOTP)
    assert user_mfa(cognito, access) == ([TOTP], TOTP)
    cognito.admin_set_user_mfa_preference(UserPoolId=mfa_pool, Username="alice",
                                          SoftwareTokenMfaSettings={"Enabled": False, "PreferredMfa": False})
    assert admin_user_mfa(cognito, mfa_pool, "alice") == (None, None)


def test_admin_totp_for_a_user_who_did_not_verify(cognito, mfa_pool, alice):
    with aws_error("InvalidParameterException", TOTP_NOT_VERIFIED):
        cognito.admin_set_user_mfa_preference(UserPoolId=mfa_pool, Username="alice",
                                              SoftwareTokenMfaSettings={"Enabled": True})
    assert admin_user_mfa(cognito, mfa_pool, "alice") == (None, None)


def test_admin_sms_without_a_phone_number(cognito, mfa_pool, alice):
    with aws_error("InvalidParameterException"):
        cognito.admin_set_user_mfa_preference(UserPoolId=mfa_pool, Username="alice",
                                              SMSMfaSettings={"Enabled": True})
    assert admin_user_mfa(cognito, mfa_pool, "alice") == (None, None)


def test_admin_set_user_mfa_preference_unknown_user(cognito, mfa_pool):
    with aws_error("UserNotFoundException"):
        cognito.admin_set_user_mfa_preference(UserPoolId=mfa_pool, Username="nobody",
                                              SMSMfaSettings={"Enabled": True})


def test_admin_set_user_mfa_preference_unknown_pool(cognito):
    with aws_error("ResourceNotFoundException"):
        cognito.admin_set_user_mfa_preference(UserPoolId=UNKNOWN_POOL, Username="bob",
                                              SMSMfaSettings={"Enabled": True})


def test_admin_set_user_settings(cognito, mfa_pool, bob, bob_access):
    options = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    assert strip_meta(cognito.admin_set_user_settings(UserPoolId=mfa_pool, Username="bob",
                                                      MFAOptions=options)) == {}
    assert cognito.admin_get_user(UserPoolId=mfa_pool, Username="bob")["MFAOptions"] == options
    assert cognito.get_user(AccessToken=bob_access)["MFAOptions"] == options
    cognito.admin_set_user_settings(UserPoolId=mfa_pool, Username="bob", MFAOptions=[])
    assert not cognito.admin_get_user(UserPoolId=mfa_pool, Username="bob").get("MFAOptions")


def test_set_user_settings_shows_in_admin_get_user(cognito, mfa_pool, bob, bob_access):
    options = [{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]
    cognito.set_user_settings(AccessToken=bob_access, MFAOptions=options)
    assert cognito.admin_get_user(UserPoolId=mfa_pool, Username="bob")["MFAOptions"] == options


def test_admin_set_user_settings_unknown_user(cognito, mfa_pool):
    with aws_error("UserNotFoundException"):
        cognito.admin_set_user_settings(UserPoolId=mfa_pool, Username="nobody",
                                        MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}])


# --- access tokens -------------------------------------------------------------------------------

TOKEN_OPERATIONS = {
    "associate_software_token": lambda c, token: c.associate_software_token(AccessToken=token),
    "verify_software_token": lambda c, token: c.verify_software_token(AccessToken=token, UserCode="123456"),
    "set_user_mfa_preference": lambda c, token: c.set_user_mfa_preference(
        AccessToken=token, SMSMfaSettings={"Enabled": False}),
}


@pytest.mark.parametrize("operation", sorted(TOKEN_OPERATIONS))
def test_invalid_access_token(cognito, mfa_pool, client_id, alice, operation):
    tokens = sign_in_tokens(cognito, client_id)
    for token in ("not-a-token", tokens["AccessToken"] + "x", tokens["IdToken"]):
        with aws_error("NotAuthorizedException", INVALID_ACCESS):
            TOKEN_OPERATIONS[operation](cognito, token)


@pytest.mark.parametrize("operation", sorted(TOKEN_OPERATIONS))
def test_revoked_access_token(cognito, mfa_pool, client_id, alice, operation):
    access = sign_in_tokens(cognito, client_id, "alice")["AccessToken"]
    cognito.global_sign_out(AccessToken=access)
    with aws_error("NotAuthorizedException", ACCESS_REVOKED):
        TOKEN_OPERATIONS[operation](cognito, access)


def test_invalid_token_enrols_nothing(cognito, mfa_pool, client_id, alice, access):
    with aws_error("NotAuthorizedException"):
        cognito.associate_software_token(AccessToken="not-a-token")
    # Nothing is pending for alice.
    with aws_error("InvalidParameterException"):
        cognito.verify_software_token(AccessToken=access, UserCode="123456")
