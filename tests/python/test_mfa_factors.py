"""The MFA challenges besides the authenticator app, through real clients (docs/mfa.md "Which
challenge", "Codes by SMS and email", "Choosing a factor", "Setting up a factor at sign-in";
"Remembered devices skip it"):

- SMS_MFA and EMAIL_OTP: the code is read from the development outbox, as a user reads their
  phone; pycognito answers SMS_MFA; wrong codes, codes of another sign-in, a code used twice.
- SELECT_MFA_TYPE when several factors are enabled and none is preferred.
- MFA_SETUP in an `ON` pool for a user without a factor: AssociateSoftwareToken and
  VerifySoftwareToken with the Session, then the answer; the factor then protects every sign-in.
- The matrix MFA OFF / ON / OPTIONAL × device mode (No, Always, User Opt-In) × device state (new,
  not_remembered, remembered) × ChallengeRequiredOnNewDevice, for a user with SMS MFA and for a
  user without any factor, each with the exact sequence of challenges.
"""

from __future__ import annotations

import json

import pytest
from pycognito.exceptions import SMSMFAChallengeException

from mfa_support import (
    DEVICE_PASSWORD_VERIFIER, DEVICE_SRP_AUTH, EXPIRED_SESSION, LOCKED, PASSWORD, PASSWORD_VERIFIER, TOTP,
    Authenticator, Device, Env, settle, tokens, totp,
)
from support import aws_error, outbox_messages, pool_change_settles, user_attributes

SMS = "SMS_MFA"
EMAIL = "EMAIL_OTP"
SELECT = "SELECT_MFA_TYPE"
SETUP = "MFA_SETUP"
PHONE = "+15555550123"
MASKED_PHONE = "+*******0123"
EMAIL_ADDRESS = "alice@example.com"
MASKED_EMAIL = "a***@e***"
SMS_CONFIGURATION = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms-role", "ExternalId": "ext-123"}
SMS_MESSAGE = "Your Example code is {####}."
EMAIL_MFA = {"Message": "Your Example sign-in code: {####}", "Subject": "Example sign-in"}
CODE_MISMATCH = "Invalid code or auth state for the user."


class FactorEnv(Env):
    """A pool offering SMS, email and authenticator apps (each unless told otherwise), MFA
    OPTIONAL until set_mfa says otherwise."""

    def __init__(self, cognito, server, devices: dict | None = None, sms: bool = True, email: bool = True,
                 software_token: bool = True, **pool_settings):
        self.factors = {"sms": sms, "email": email, "software_token": software_token}
        super().__init__(cognito, server, devices, **pool_settings)

    def set_mfa(self, mode: str) -> None:
        kwargs = {"UserPoolId": self.pool, "MfaConfiguration": mode,
                  "SoftwareTokenMfaConfiguration": {"Enabled": self.factors["software_token"]}}
        if self.factors["sms"]:
            kwargs["SmsMfaConfiguration"] = {"SmsAuthenticationMessage": SMS_MESSAGE,
                                             "SmsConfiguration": SMS_CONFIGURATION}
        if self.factors["email"]:
            kwargs["EmailMfaConfiguration"] = EMAIL_MFA
        self.cognito.set_user_pool_mfa_config(**kwargs)
        if getattr(self, "signed_in", False):
            # Sign-ins made other processes keep the pool: let the change reach them.
            pool_change_settles(self.server)

    def password_auth(self, *args, **kwargs) -> dict:
        self.signed_in = True
        return super().password_auth(*args, **kwargs)

    def respond(self, *args, **kwargs) -> dict:
        self.signed_in = True
        return super().respond(*args, **kwargs)

    def sms_user(self, username: str = "alice", **attributes) -> None:
        """A user with a phone number and an email address, SMS MFA enabled and preferred."""
        self.user(username, phone_number=PHONE, email=EMAIL_ADDRESS, **attributes)
        self.cognito.admin_set_user_mfa_preference(UserPoolId=self.pool, Username=username,
                                                   SMSMfaSettings={"Enabled": True, "PreferredMfa": True})

    def mfa_messages(self, username: str = "alice") -> list[dict]:
        return outbox_messages(self.server, self.pool, "MFA", username)

    def last_code(self, username: str = "alice", medium: str = "SMS") -> str:
        """The code of the newest MFA message to `username`, checked to be of `medium`."""
        message = self.mfa_messages(username)[-1]
        assert message["Medium"] == medium, message
        return message["Code"]

    def attribute(self, name: str, username: str = "alice") -> str | None:
        return user_attributes(self.cognito.admin_get_user(UserPoolId=self.pool, Username=username)).get(name)

    def code_answer(self, challenge: str, code: str, username: str = "alice", **extra) -> dict:
        field = {SMS: "SMS_MFA_CODE", EMAIL: "EMAIL_OTP_CODE", TOTP: "SOFTWARE_TOKEN_MFA_CODE"}[challenge]
        return {"USERNAME": username, field: code, **extra}

    def set_up_authenticator(self, session: str, username: str = "alice") -> tuple[str, Authenticator]:
        """MFA_SETUP answered as Amplify does: AssociateSoftwareToken and VerifySoftwareToken with the
        Session, then RespondToAuthChallenge MFA_SETUP with the Session Verify returned. Returns the
        Session to answer with and the authenticator."""
        associated = self.cognito.associate_software_token(Session=session)
        secret = associated["SecretCode"]
        assert associated["Session"], associated
        step = settle()
        verified = self.cognito.verify_software_token(Session=associated["Session"], UserCode=totp(secret, step),
                                                      FriendlyDeviceName="phone")
        assert verified["Status"] == "SUCCESS", verified
        assert verified["Session"], verified
        return verified["Session"], Authenticator(secret, step)


def assert_code_challenge(answer: dict, challenge: str, destination: str, user_id: str = "alice") -> str:
    """An SMS_MFA or EMAIL_OTP challenge as docs/mfa.md describes it; returns its Session."""
    assert answer.get("ChallengeName") == challenge, answer
    medium = "SMS" if challenge == SMS else "EMAIL"
    assert answer["ChallengeParameters"] == {
        "CODE_DELIVERY_DELIVERY_MEDIUM": medium,
        "CODE_DELIVERY_DESTINATION": destination,
        "USER_ID_FOR_SRP": user_id,
    }, answer
    assert "AuthenticationResult" not in answer, answer
    return answer["Session"]


def listed(answer: dict, parameter: str) -> list[str]:
    """A JSON list in the ChallengeParameters (MFAS_CAN_CHOOSE, MFAS_CAN_SETUP)."""
    return json.loads(answer["ChallengeParameters"][parameter])


@pytest.fixture
def env(cognito, server) -> FactorEnv:
    e = FactorEnv(cognito, server)
    e.sms_user("alice")
    return e


# --- SMS and email codes --------------------------------------------------------------------------

@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
def test_sms_code_from_the_outbox(env, flow):
    """SMS_MFA with the masked phone number; the outbox holds one SMS to the phone with the pool's
    message; the code ends the sign-in (the admin flow answers with AdminRespondToAuthChallenge)."""
    admin = flow.startswith("ADMIN_")
    session = assert_code_challenge(env.password_auth(flow=flow), SMS, MASKED_PHONE)
    [message] = env.mfa_messages()
    assert message["Destination"] == PHONE and message["Medium"] == "SMS", message
    assert message["Body"] == SMS_MESSAGE.replace("{####}", message["Code"]), message
    assert len(message["Code"]) == 6 and message["Code"].isdigit(), message
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, message["Code"]), session, admin)))


def test_sms_with_pycognito(env):
    """pycognito's authenticate raises SMSMFAChallengeException; respond_to_sms_mfa_challenge with the
    code from the outbox signs in, and pycognito verifies the tokens against our JWKS."""
    u = env.pycognito()
    with pytest.raises(SMSMFAChallengeException):
        u.authenticate(PASSWORD)
    assert_code_challenge(u.mfa_tokens, SMS, MASKED_PHONE)
    u.respond_to_sms_mfa_challenge(env.last_code())
    assert u.access_token and u.id_token and u.refresh_token
    assert u.get_user().username == "alice"


def test_a_right_sms_code_verifies_the_phone_number(env):
    """The code reached the phone: phone_number_verified becomes true."""
    assert env.attribute("phone_number_verified") in (None, "false")
    session = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    tokens(env.respond(SMS, env.code_answer(SMS, env.last_code()), session))
    assert env.attribute("phone_number_verified") == "true"


def test_a_right_sms_code_verifies_only_the_number_it_went_to(env):
    """The number changed between the code and its answer: the sign-in ends (the code was
    right), but the new number, which never received it, stays unverified."""
    session = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    code = env.last_code()
    env.cognito.admin_update_user_attributes(UserPoolId=env.pool, Username="alice", UserAttributes=[
        {"Name": "phone_number", "Value": "+15550100999"}])
    tokens(env.respond(SMS, env.code_answer(SMS, code), session))
    assert env.attribute("phone_number") == "+15550100999"
    assert env.attribute("phone_number_verified") in (None, "false")


def test_wrong_sms_code_then_the_right_one(env):
    """A wrong code: CodeMismatchException "Invalid code or auth state for the user."; the Session
    stays good for the right code."""
    session = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    code = env.last_code()
    wrong = "000000" if code != "000000" else "111111"
    with aws_error("CodeMismatchException", CODE_MISMATCH):
        env.respond(SMS, env.code_answer(SMS, wrong), session)
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, code), session)))


def test_a_code_belongs_to_its_sign_in_and_is_used_once(env):
    """Two sign-ins in flight: each has its own code, the other's is refused; a code that ended a
    sign-in cannot end it again."""
    first = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    first_code = env.last_code()
    second = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    second_code = env.last_code()
    if first_code != second_code:  # equal one time in a million
        with aws_error("CodeMismatchException", CODE_MISMATCH):
            env.respond(SMS, env.code_answer(SMS, second_code), first)
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, first_code), first)))
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        env.respond(SMS, env.code_answer(SMS, first_code), first)
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, second_code), second)))


def test_sms_session_of_another_user(env):
    """Alice's Session answered in Bob's name (with Bob's code or Alice's): "Invalid session for the
    user, session is expired."; Alice's sign-in still ends with her code."""
    env.sms_user("bob")
    alice = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    alice_code = env.last_code()
    assert_code_challenge(env.password_auth("bob"), SMS, MASKED_PHONE, "bob")
    bob_code = env.last_code("bob")
    for code in (alice_code, bob_code):
        with aws_error("NotAuthorizedException", EXPIRED_SESSION):
            env.respond(SMS, env.code_answer(SMS, code, "bob"), alice)
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, alice_code), alice)))


def test_answering_another_challenge_name(env):
    """The Session of SMS_MFA answered as SOFTWARE_TOKEN_MFA or EMAIL_OTP: the sign-in waits for
    an SMS code, so it is an invalid session; the SMS answer still works."""
    session = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    code = env.last_code()
    for other in (TOTP, EMAIL):
        with aws_error("NotAuthorizedException", EXPIRED_SESSION):
            env.respond(other, env.code_answer(other, code), session)
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, code), session)))


def test_wrong_sms_codes_lock_the_user(env):
    """Wrong codes count towards the lockout like wrong passwords: after five the right code and
    the password are refused with "Password attempts exceeded"."""
    session = assert_code_challenge(env.password_auth(), SMS, MASKED_PHONE)
    code = env.last_code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with aws_error("CodeMismatchException", CODE_MISMATCH):
            env.respond(SMS, env.code_answer(SMS, wrong), session)
    with aws_error("NotAuthorizedException", LOCKED):
        env.respond(SMS, env.code_answer(SMS, code), session)
    with aws_error("NotAuthorizedException", LOCKED):
        env.password_auth()


def test_legacy_mfa_options_mean_sms(env):
    """AdminSetUserSettings MFAOptions (SMS to phone_number), without any preference: SMS_MFA."""
    env.user("bob", phone_number=PHONE)
    env.assert_signed_in(tokens(env.password_auth("bob")), "bob")
    env.cognito.admin_set_user_settings(UserPoolId=env.pool, Username="bob",
                                        MFAOptions=[{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}])
    session = assert_code_challenge(env.password_auth("bob"), SMS, MASKED_PHONE, "bob")
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, env.last_code("bob"), "bob"), session)), "bob")


def test_email_code(env):
    """EMAIL_OTP with the masked address; the mail has the pool's subject and message; the code
    (EMAIL_OTP_CODE) ends the sign-in and verifies the address."""
    env.cognito.admin_set_user_mfa_preference(UserPoolId=env.pool, Username="alice",
                                              EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    session = assert_code_challenge(env.password_auth(), EMAIL, MASKED_EMAIL)
    message = env.mfa_messages()[-1]
    assert message["Medium"] == "EMAIL" and message["Destination"] == EMAIL_ADDRESS, message
    assert message["Subject"] == EMAIL_MFA["Subject"], message
    assert message["Body"] == EMAIL_MFA["Message"].replace("{####}", message["Code"]), message
    with aws_error("CodeMismatchException", CODE_MISMATCH):
        env.respond(EMAIL, env.code_answer(EMAIL, "000000" if message["Code"] != "000000" else "111111"), session)
    env.assert_signed_in(tokens(env.respond(EMAIL, env.code_answer(EMAIL, message["Code"]), session)))
    assert env.attribute("email_verified") == "true"


def test_factors_the_pool_cannot_deliver_cannot_be_enabled(cognito, server):
    """A pool with authenticator apps only: enabling SMS or email MFA for a user who has a phone
    number and an address is InvalidParameterException (a factor the pool cannot deliver would
    protect nothing); the user signs in with the password alone, as before."""
    e = Env(cognito, server)  # Env's own MFA set-up: OPTIONAL, authenticator apps only
    e.user("bob", phone_number=PHONE, email=EMAIL_ADDRESS)
    with aws_error("InvalidParameterException", "not configured for SMS_MFA"):
        cognito.admin_set_user_mfa_preference(UserPoolId=e.pool, Username="bob", SMSMfaSettings={"Enabled": True})
    with aws_error("InvalidParameterException", "not configured for EMAIL_OTP"):
        cognito.admin_set_user_mfa_preference(UserPoolId=e.pool, Username="bob",
                                              EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert "UserMFASettingList" not in cognito.admin_get_user(UserPoolId=e.pool, Username="bob")
    e.assert_signed_in(tokens(e.password_auth("bob")), "bob")


# --- SELECT_MFA_TYPE -------------------------------------------------------------------------------

def enable_all_unpreferred(env: FactorEnv, username: str = "alice") -> Authenticator:
    """SMS, email and an authenticator app enabled, none preferred (SMS is turned off first so
    that the enrolment's sign-in ends in tokens)."""
    env.cognito.admin_set_user_mfa_preference(UserPoolId=env.pool, Username=username,
                                              SMSMfaSettings={"Enabled": False, "PreferredMfa": False})
    app = env.enrol(username, preferred=False)
    env.cognito.admin_set_user_mfa_preference(
        UserPoolId=env.pool, Username=username,
        SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        EmailMfaSettings={"Enabled": True, "PreferredMfa": False})
    got = env.cognito.admin_get_user(UserPoolId=env.pool, Username=username)
    assert sorted(got["UserMFASettingList"]) == [EMAIL, SMS, TOTP], got
    assert "PreferredMfaSetting" not in got, got
    return app


def assert_select(answer: dict) -> str:
    assert answer.get("ChallengeName") == SELECT, answer
    assert set(answer["ChallengeParameters"]) == {"MFAS_CAN_CHOOSE", "USER_ID_FOR_SRP"}, answer
    assert answer["ChallengeParameters"]["USER_ID_FOR_SRP"] == "alice"
    return answer["Session"]


@pytest.mark.parametrize("choice", [SMS, EMAIL, TOTP])
def test_select_mfa_type(env, choice):
    """Several factors, none preferred: SELECT_MFA_TYPE listing them; the ANSWER leads to that
    factor's challenge with the same Session, whose code ends the sign-in."""
    app = enable_all_unpreferred(env)
    answer = env.password_auth()
    session = assert_select(answer)
    assert sorted(listed(answer, "MFAS_CAN_CHOOSE")) == [EMAIL, SMS, TOTP]
    assert not env.mfa_messages(), "no code is sent before the user chooses"
    answer = env.respond(SELECT, {"USERNAME": "alice", "ANSWER": choice}, session)
    assert answer["ChallengeName"] == choice, answer
    assert answer["Session"] == session
    if choice == TOTP:
        assert answer["ChallengeParameters"] == {"USER_ID_FOR_SRP": "alice"}
        code = app.next_code()
    else:
        assert_code_challenge(answer, choice, MASKED_PHONE if choice == SMS else MASKED_EMAIL)
        code = env.last_code(medium="SMS" if choice == SMS else "EMAIL")
    env.assert_signed_in(tokens(env.respond(choice, env.code_answer(choice, code), session)))


def test_select_refusals(env):
    """An ANSWER that was not offered (or no factor at all) is InvalidParameterException and the
    choice can still be made; answering the code challenge before choosing is an invalid
    session; once chosen, the choice cannot be made again."""
    env.cognito.admin_set_user_mfa_preference(
        UserPoolId=env.pool, Username="alice", SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
        EmailMfaSettings={"Enabled": True, "PreferredMfa": False})
    answer = env.password_auth()
    session = assert_select(answer)
    assert sorted(listed(answer, "MFAS_CAN_CHOOSE")) == [EMAIL, SMS]
    for bad in (TOTP, "PASSWORD", "sms_mfa"):
        with aws_error("InvalidParameterException", "ANSWER"):
            env.respond(SELECT, {"USERNAME": "alice", "ANSWER": bad}, session)
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        env.respond(SMS, env.code_answer(SMS, "123456"), session)
    answer = env.respond(SELECT, {"USERNAME": "alice", "ANSWER": SMS}, session)
    assert_code_challenge(answer, SMS, MASKED_PHONE)
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        env.respond(SELECT, {"USERNAME": "alice", "ANSWER": EMAIL}, session)
    env.assert_signed_in(tokens(env.respond(SMS, env.code_answer(SMS, env.last_code()), session)))


def test_a_preferred_factor_is_asked_directly(env):
    """With a preferred factor among several, its challenge comes at once."""
    app = enable_all_unpreferred(env)
    env.cognito.admin_set_user_mfa_preference(UserPoolId=env.pool, Username="alice",
                                              SoftwareTokenMfaSettings={"Enabled": True, "PreferredMfa": True})
    answer = env.password_auth()
    assert answer["ChallengeName"] == TOTP, answer
    env.assert_signed_in(tokens(env.respond(TOTP, env.code_answer(TOTP, app.next_code()), answer["Session"])))


# --- MFA_SETUP ------------------------------------------------------------------------------------

@pytest.fixture
def on_pool(cognito, server) -> FactorEnv:
    """MFA ON with authenticator apps and email offered, no SMS; carol has no factor and no email."""
    e = FactorEnv(cognito, server, sms=False)
    e.set_mfa("ON")
    e.user("carol")
    return e


def assert_setup(answer: dict, offered: list[str], user_id: str = "carol") -> str:
    assert answer.get("ChallengeName") == SETUP, answer
    assert listed(answer, "MFAS_CAN_SETUP") == offered, answer
    assert answer["ChallengeParameters"]["USER_ID_FOR_SRP"] == user_id
    assert "AuthenticationResult" not in answer
    return answer["Session"]


@pytest.mark.parametrize("flow", ["USER_PASSWORD_AUTH", "USER_SRP_AUTH", "ADMIN_USER_PASSWORD_AUTH"])
def test_mfa_setup_with_an_authenticator(on_pool, flow):
    """A user without a factor in an ON pool: MFA_SETUP; Associate and Verify with the Session, then
    the answer ends the sign-in. The authenticator is then enabled and preferred, and the next
    sign-in asks for its code."""
    e = on_pool
    if flow == "USER_SRP_AUTH":
        answer = e.srp_steps("carol").sign_in()
    else:
        answer = e.password_auth("carol", flow)
    session = assert_setup(answer, [TOTP, EMAIL])
    answer_session, app = e.set_up_authenticator(session)
    result = tokens(e.respond(SETUP, {"USERNAME": "carol"}, answer_session, admin=flow.startswith("ADMIN_")))
    e.assert_signed_in(result, "carol")
    got = e.cognito.admin_get_user(UserPoolId=e.pool, Username="carol")
    assert got["UserMFASettingList"] == [TOTP] and got["PreferredMfaSetting"] == TOTP, got
    answer = e.password_auth("carol")
    assert answer["ChallengeName"] == TOTP, answer
    e.assert_signed_in(tokens(e.respond(TOTP, e.code_answer(TOTP, app.next_code(), "carol"), answer["Session"])),
                       "carol")


def test_mfa_setup_refusals(on_pool):
    """MFA_SETUP answered before an authenticator was verified: InvalidParameterException; a wrong
    code in VerifySoftwareToken: EnableSoftwareTokenMFAException; Sessions that are not a pending
    MFA_SETUP (garbage, another challenge's): NotAuthorizedException. The set-up then succeeds."""
    e = on_pool
    session = assert_setup(e.password_auth("carol"), [TOTP, EMAIL])
    with aws_error("InvalidParameterException", "AssociateSoftwareToken"):
        e.respond(SETUP, {"USERNAME": "carol"}, session)
    with aws_error("InvalidParameterException"):
        e.cognito.verify_software_token(Session=session, UserCode="123456")
    associated = e.cognito.associate_software_token(Session=session)
    now = settle()
    near = {totp(associated["SecretCode"], now + d) for d in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in near)
    with aws_error("EnableSoftwareTokenMFAException", "Code mismatch"):
        e.cognito.verify_software_token(Session=associated["Session"], UserCode=wrong)
    with aws_error("InvalidParameterException", "AssociateSoftwareToken"):
        e.respond(SETUP, {"USERNAME": "carol"}, session)
    for bad in ("x" * 64, ):
        with aws_error("NotAuthorizedException", EXPIRED_SESSION):
            e.cognito.associate_software_token(Session=bad)
        with aws_error("NotAuthorizedException", EXPIRED_SESSION):
            e.cognito.verify_software_token(Session=bad, UserCode="123456")
    # A NEW_PASSWORD_REQUIRED Session is not an MFA_SETUP one.
    e.user("dave")
    e.cognito.admin_set_user_password(UserPoolId=e.pool, Username="dave", Password="Temp0rary!", Permanent=False)
    other = e.password_auth("dave", password="Temp0rary!")
    assert other["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        e.cognito.associate_software_token(Session=other["Session"])
    answer_session, _ = e.set_up_authenticator(session)
    e.assert_signed_in(tokens(e.respond(SETUP, {"USERNAME": "carol"}, answer_session)), "carol")
    with aws_error("NotAuthorizedException", EXPIRED_SESSION):
        e.cognito.associate_software_token(Session=session)


def test_mfa_setup_without_authenticator_apps(cognito, server):
    """An ON pool offering SMS only: a user without a phone number gets MFA_SETUP listing SMS_MFA,
    and AssociateSoftwareToken with its Session is SoftwareTokenMFANotFoundException."""
    e = FactorEnv(cognito, server, email=False, software_token=False)
    e.set_mfa("ON")
    e.user("carol")
    session = assert_setup(e.password_auth("carol"), [SMS])
    with aws_error("SoftwareTokenMFANotFoundException", "Software Token MFA has not been enabled by the userPool"):
        cognito.associate_software_token(Session=session)


def test_on_pool_sends_a_code_to_the_phone_or_address_the_user_has(cognito, server):
    """ON, a user without a factor: a phone number gets SMS_MFA (and is verified by the right code),
    else an email address gets EMAIL_OTP; OPTIONAL asks neither."""
    e = FactorEnv(cognito, server)
    e.set_mfa("ON")
    e.user("pat", phone_number=PHONE, email=EMAIL_ADDRESS)
    e.user("em", email=EMAIL_ADDRESS)
    session = assert_code_challenge(e.password_auth("pat"), SMS, MASKED_PHONE, "pat")
    e.assert_signed_in(tokens(e.respond(SMS, e.code_answer(SMS, e.last_code("pat"), "pat"), session)), "pat")
    assert e.attribute("phone_number_verified", "pat") == "true"
    session = assert_code_challenge(e.password_auth("em"), EMAIL, MASKED_EMAIL, "em")
    e.assert_signed_in(tokens(e.respond(EMAIL, e.code_answer(EMAIL, e.last_code("em", "EMAIL"), "em"), session)),
                       "em")
    e.set_mfa("OPTIONAL")
    for name in ("pat", "em"):
        e.assert_signed_in(tokens(e.password_auth(name)), name)



def test_mfa_setup_by_email(on_pool):
    """MFA_SETUP answered with EMAIL (as Amplify does when the user picks email): an EMAIL_OTP code
    to that address, the same Session; the right code ends the sign-in, the address becomes
    carol's verified email and email MFA her factor; the next sign-in asks for an email code."""
    e = on_pool
    session = assert_setup(e.password_auth("carol"), [TOTP, EMAIL])
    for bad in ("not-an-address", "carol@"):
        with aws_error("InvalidParameterException", "email"):
            e.respond(SETUP, {"USERNAME": "carol", "EMAIL": bad}, session)
    answer = e.respond(SETUP, {"USERNAME": "carol", "EMAIL": "carol@example.org"}, session)
    assert answer["Session"] == session
    assert_code_challenge(answer, EMAIL, "c***@e***", "carol")
    [message] = e.mfa_messages("carol")
    assert message["Destination"] == "carol@example.org" and message["Medium"] == "EMAIL", message
    assert e.attribute("email", "carol") is None, "the address is carol's only once the code came back"
    e.assert_signed_in(tokens(e.respond(EMAIL, e.code_answer(EMAIL, message["Code"], "carol"), session)), "carol")
    assert e.attribute("email", "carol") == "carol@example.org"
    assert e.attribute("email_verified", "carol") == "true"
    got = e.cognito.admin_get_user(UserPoolId=e.pool, Username="carol")
    assert got["UserMFASettingList"] == [EMAIL] and got["PreferredMfaSetting"] == EMAIL, got
    assert_code_challenge(e.password_auth("carol"), EMAIL, "c***@e***", "carol")


def test_mfa_setup_by_email_needs_the_pool_to_offer_it(cognito, server):
    """In an ON pool without email MFA, MFA_SETUP does not list EMAIL_OTP and refuses an EMAIL
    answer."""
    e = FactorEnv(cognito, server, sms=False, email=False)
    e.set_mfa("ON")
    e.user("carol")
    session = assert_setup(e.password_auth("carol"), [TOTP])
    with aws_error("InvalidParameterException", "Email MFA cannot be set up"):
        e.respond(SETUP, {"USERNAME": "carol", "EMAIL": "carol@example.org"}, session)
    assert not e.mfa_messages("carol")

# --- the matrix: pool MFA × device mode × device state × suppression ------------------------------

DEVICE_MODES = {
    "no": None,
    "always": {"DeviceOnlyRememberedOnUserPrompt": False},
    "opt_in": {"DeviceOnlyRememberedOnUserPrompt": True},
}
CASES = [("no", "new", False)] + [
    (mode, state, flag)
    for mode in ("always", "opt_in")
    for state in ("new", "not_remembered", "remembered")
    for flag in (True, False)
]


def matrix_env(cognito, server, device_mode: str, state: str, flag: bool, who: str) -> tuple[FactorEnv, Device | None]:
    """A pool of that device mode; the user (`sms`: SMS MFA enabled and preferred; `none`: no
    factor, no phone, no email) with a device brought to `state` by a sign-in made while MFA was
    OFF."""
    devices = DEVICE_MODES[device_mode]
    if devices is not None:
        devices = {**devices, "ChallengeRequiredOnNewDevice": flag}
    e = FactorEnv(cognito, server, devices)
    e.set_mfa("OFF")
    if who == "sms":
        e.user("alice", phone_number=PHONE)
    else:
        e.user("alice")
    device = None
    if state != "new":
        first = tokens(e.password_auth())
        device = e.confirm(first)
        if state != ("not_remembered" if e.opt_in else "remembered"):
            e.cognito.update_device_status(AccessToken=first["AccessToken"], DeviceKey=device.key,
                                           DeviceRememberedStatus=state)
        assert e.admin_status(device.key) == state
    if who == "sms":
        e.cognito.admin_set_user_mfa_preference(UserPoolId=e.pool, Username="alice",
                                                SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    return e, device


def expected(mfa: str, device_mode: str, state: str, flag: bool, who: str) -> list[str]:
    """The challenges Cognito gives (docs/mfa.md "Which challenge", "Remembered devices skip
    it"): the MFA challenge unless MFA is OFF, or the user has no factor and MFA is not ON, or a
    remembered device stands in (tracking on, ChallengeRequiredOnNewDevice true) — never for
    MFA_SETUP; then device SRP when a confirmed device was presented."""
    sequence = [PASSWORD_VERIFIER]
    tracked = device_mode != "no"
    if who == "sms":
        skipped = tracked and flag and state == "remembered"
        if mfa != "OFF" and not skipped:
            sequence.append(SMS)
    elif mfa == "ON":
        sequence.append(SETUP)
    if tracked and state != "new":
        sequence += [DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
    return sequence


def sign_in_answering_everything(e: FactorEnv, device: Device | None) -> tuple[list[str], dict]:
    """USER_SRP_AUTH presenting `device` with the password, each challenge answered as the clients
    do (SMS code from the outbox, MFA_SETUP with an authenticator, device SRP with pycognito);
    checks that every challenge after the password carries one Session. Returns the challenge
    names and the tokens."""
    srp = e.srp_steps("alice")
    challenge = srp.initiate()
    sequence = [challenge["ChallengeName"]]
    extra = {"DEVICE_KEY": device.key} if device else {}
    answer = srp.respond(srp.responses(challenge, **extra))
    session = None
    for _ in range(4):
        name = answer.get("ChallengeName")
        if name is None:
            break
        sequence.append(name)
        if session is not None and name != DEVICE_PASSWORD_VERIFIER:
            assert answer["Session"] == session, f"{name} carries another Session"
        session = answer["Session"]
        if name == SMS:
            answer = e.respond(SMS, e.code_answer(SMS, e.last_code()), session)
        elif name == SETUP:
            answer_session, _ = e.set_up_authenticator(session, "alice")
            answer = e.respond(SETUP, {"USERNAME": "alice"}, answer_session)
        elif name == DEVICE_SRP_AUTH:
            sequence.append(DEVICE_PASSWORD_VERIFIER)
            answer = e.device_srp("alice", device, session)
        else:
            raise AssertionError(f"unexpected {name} after {sequence}")
    return sequence, tokens(answer)


@pytest.mark.parametrize("who", ["sms", "none"])
@pytest.mark.parametrize("device_mode,state,flag", CASES)
@pytest.mark.parametrize("mfa", ["OFF", "ON", "OPTIONAL"])
def test_matrix(cognito, server, mfa, device_mode, state, flag, who):
    e, device = matrix_env(cognito, server, device_mode, state, flag, who)
    e.set_mfa(mfa)
    sequence, result = sign_in_answering_everything(e, device)
    assert sequence == expected(mfa, device_mode, state, flag, who)
    claims = e.assert_signed_in(result)
    if device is not None:
        assert claims["device_key"] == device.key
        assert "NewDeviceMetadata" not in result
    elif device_mode != "no":
        e.new_device_metadata(result)
    else:
        assert "NewDeviceMetadata" not in result and "device_key" not in claims
