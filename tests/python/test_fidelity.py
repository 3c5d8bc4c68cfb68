"""Behaviours where Gatehouse follows what Cognito was seen to do (issue #14, items 4-8), through
boto3 and pycognito, each refusal with its exception and message:

- MFA_SETUP finished by VerifySoftwareToken: the authenticator is the user's at once (docs/mfa.md
  "Setting up a factor at sign-in"), whether or not the client answers MFA_SETUP afterwards.
- An authenticator code already accepted is ExpiredCodeException "Your software token has already
  been used once." at sign-in and at VerifySoftwareToken (also when two requests race with it); a
  fresh code then works.
- Boolean attributes take true/false in any case and are stored in lower case.
- The Schema of CreateUserPool and AddCustomAttributes, and SetUserPoolMfaConfig without a factor.
- Password-reset rules (docs/recovery.md): the legacy destination order, admin_only,
  disabled and FORCE_CHANGE_PASSWORD users.

The TOTP codes are computed here (tests/python/mfa_support.py); a code is computed with at least
5 s left in its step, so a "used" code is still inside the server's window when it is sent again.
"""

from __future__ import annotations

import threading

import pytest
from botocore.exceptions import ClientError
from pycognito.exceptions import SoftwareTokenMFAChallengeException

from mfa_support import (
    PASSWORD, TOTP, Authenticator, Env, assert_mfa_challenge, current_step, mfa_answer, settle, tokens, totp,
)
from support import (
    aws_error, new_app_client, new_confirmed_user, outbox_messages, schema_by_name, unverified_claims, user_attributes,
)

SETUP = "MFA_SETUP"
USED = "Your software token has already been used once."
MISMATCH = "Invalid code received for user"
ENABLE_MISMATCH = "Code mismatch and fail enable Software Token MFA"


def race(calls) -> list:
    """Runs the calls at once (released together by a barrier); each result is the answer or the
    ClientError raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, call):
        barrier.wait()
        try:
            results[i] = call()
        except ClientError as e:
            results[i] = e

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def assert_one_wins(results: list, label: str) -> None:
    """Exactly one call succeeded; every other one is "already used"."""
    won = [r for r in results if not isinstance(r, ClientError)]
    lost = [r.response["Error"] for r in results if isinstance(r, ClientError)]
    assert len(won) == 1, (label, won, lost)
    assert all(e["Code"] == "ExpiredCodeException" and e["Message"] == USED for e in lost), (label, lost)


# --- 4. MFA_SETUP completed by VerifySoftwareToken ------------------------------------------------

@pytest.fixture
def on_env(cognito, server) -> Env:
    """MFA ON, authenticator apps the only factor; carol has none yet."""
    e = Env(cognito, server)
    e.set_mfa("ON")
    e.user("carol")
    return e


def setup_session(e: Env) -> str:
    answer = e.password_auth("carol")
    assert answer.get("ChallengeName") == SETUP, answer
    assert answer["ChallengeParameters"]["MFAS_CAN_SETUP"] == '["SOFTWARE_TOKEN_MFA"]', answer
    return answer["Session"]


def associate_and_verify(e: Env, session: str) -> tuple[str, Authenticator]:
    """AssociateSoftwareToken and VerifySoftwareToken with the MFA_SETUP Session, as Amplify does;
    returns the Session Verify answered and the authenticator (its verified step spent)."""
    associated = e.cognito.associate_software_token(Session=session)
    step = settle()
    verified = e.cognito.verify_software_token(Session=associated["Session"],
                                               UserCode=totp(associated["SecretCode"], step),
                                               FriendlyDeviceName="phone")
    assert verified["Status"] == "SUCCESS" and verified["Session"], verified
    return verified["Session"], Authenticator(associated["SecretCode"], step)


def mfa_of(e: Env, username: str) -> tuple[list | None, str | None]:
    got = e.cognito.admin_get_user(UserPoolId=e.pool, Username=username)
    return got.get("UserMFASettingList"), got.get("PreferredMfaSetting")


def test_verify_in_mfa_setup_enrols_without_the_answer(on_env):
    """VerifySoftwareToken with the MFA_SETUP Session is enough: TOTP is enabled and preferred
    before any answer, and the next sign-in (pycognito, SRP) asks SOFTWARE_TOKEN_MFA, not MFA_SETUP.
    There, the code Verify accepted is already used; a fresh one signs in."""
    e = on_env
    assert mfa_of(e, "carol") == (None, None)
    _, app = associate_and_verify(e, setup_session(e))
    assert mfa_of(e, "carol") == ([TOTP], TOTP)

    u = e.pycognito("carol")
    with pytest.raises(SoftwareTokenMFAChallengeException):
        u.authenticate(PASSWORD)
    assert_mfa_challenge(u.mfa_tokens, "carol")
    assert current_step() <= app.spent + 1  # the verified code is still inside the window
    with aws_error("ExpiredCodeException", USED):
        u.respond_to_software_token_mfa_challenge(totp(app.secret, app.spent))
    u.respond_to_software_token_mfa_challenge(app.next_code())
    assert e.access_claims(u.access_token)["username"] == "carol"
    # A password sign-in is asked for the code too.
    assert_mfa_challenge(e.password_auth("carol"), "carol")


def test_answering_mfa_setup_after_verify_still_finishes(on_env):
    """After Verify enrolled the authenticator, MFA_SETUP answered with the Session ends the
    sign-in with tokens; the factor stays as Verify set it; the next sign-in asks its code."""
    e = on_env
    answer_session, app = associate_and_verify(e, setup_session(e))
    e.assert_signed_in(tokens(e.respond(SETUP, {"USERNAME": "carol"}, answer_session)), "carol")
    assert mfa_of(e, "carol") == ([TOTP], TOTP)
    # The Session ended with the sign-in.
    with aws_error("NotAuthorizedException", "Invalid session for the user, session is expired."):
        e.respond(SETUP, {"USERNAME": "carol"}, answer_session)
    session = assert_mfa_challenge(e.password_auth("carol"), "carol")
    e.assert_signed_in(tokens(e.respond(TOTP, mfa_answer("carol", app.next_code()), session)), "carol")


def test_verify_in_mfa_setup_twice_with_one_code(on_env):
    """The same code sent to VerifySoftwareToken twice in one MFA_SETUP: the second is already
    used; a code of the next step verifies again and MFA_SETUP still finishes."""
    e = on_env
    associated = e.cognito.associate_software_token(Session=setup_session(e))
    secret = associated["SecretCode"]
    step = settle()
    first = e.cognito.verify_software_token(Session=associated["Session"], UserCode=totp(secret, step))
    assert first["Status"] == "SUCCESS"
    with aws_error("ExpiredCodeException", USED):
        e.cognito.verify_software_token(Session=first["Session"], UserCode=totp(secret, step))
    with aws_error("EnableSoftwareTokenMFAException", ENABLE_MISMATCH):
        e.cognito.verify_software_token(Session=first["Session"],
                                        UserCode=Authenticator(secret, step).wrong_code())
    again = e.cognito.verify_software_token(Session=first["Session"], UserCode=totp(secret, step + 1))
    assert again["Status"] == "SUCCESS"
    e.assert_signed_in(tokens(e.respond(SETUP, {"USERNAME": "carol"}, again["Session"])), "carol")


# --- 5. a code already used -----------------------------------------------------------------------

@pytest.fixture
def env(cognito, server) -> Env:
    """MFA OPTIONAL with authenticator apps; alice without a factor yet."""
    e = Env(cognito, server)
    e.user("alice")
    return e


def test_a_used_code_at_sign_in_is_expired_code(env):
    """At SOFTWARE_TOKEN_MFA: the code VerifySoftwareToken accepted is ExpiredCodeException "already
    used" (a wrong code stays CodeMismatchException); the Session stays good and a fresh code signs
    in. pycognito's next sign-in: that code is used now too; a fresh one signs in."""
    app = env.enrol("alice", previous_step=True)  # three fresh steps without waiting for one
    session = assert_mfa_challenge(env.password_auth())
    assert current_step() <= app.spent + 1
    with aws_error("ExpiredCodeException", USED):
        env.respond(TOTP, mfa_answer("alice", totp(app.secret, app.spent)), session)
    with aws_error("CodeMismatchException", MISMATCH):
        env.respond(TOTP, mfa_answer("alice", app.wrong_code()), session)
    code = app.next_code()
    env.assert_signed_in(tokens(env.respond(TOTP, mfa_answer("alice", code), session)))

    u = env.pycognito("alice")
    with pytest.raises(SoftwareTokenMFAChallengeException):
        u.authenticate(PASSWORD)
    assert current_step() <= app.spent + 1
    with aws_error("ExpiredCodeException", USED):
        u.respond_to_software_token_mfa_challenge(code)
    u.respond_to_software_token_mfa_challenge(app.next_code())
    assert env.access_claims(u.access_token)["username"] == "alice"


def test_a_used_code_at_verify_software_token_is_expired_code(env):
    """VerifySoftwareToken (access token): the code that verified the secret, sent again, is
    already used; a wrong code is EnableSoftwareTokenMFAException; a fresh code verifies again."""
    access = tokens(env.password_auth())["AccessToken"]
    secret = env.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    step = settle()
    code = totp(secret, step)
    assert env.cognito.verify_software_token(AccessToken=access, UserCode=code)["Status"] == "SUCCESS"
    with aws_error("ExpiredCodeException", USED):
        env.cognito.verify_software_token(AccessToken=access, UserCode=code)
    with aws_error("EnableSoftwareTokenMFAException", ENABLE_MISMATCH):
        env.cognito.verify_software_token(AccessToken=access, UserCode=Authenticator(secret, step).wrong_code())
    fresh = totp(secret, step + 1)
    assert env.cognito.verify_software_token(AccessToken=access, UserCode=fresh)["Status"] == "SUCCESS"
    with aws_error("ExpiredCodeException", USED):
        env.cognito.verify_software_token(AccessToken=access, UserCode=fresh)


def test_one_code_racing_in_simultaneous_sign_ins(env, server):
    """Four sign-ins waiting for the code answer with one fresh code at once: one gets tokens, the
    other three ExpiredCodeException (the step is checked and spent in one write)."""
    app = env.enrol("alice")
    sessions = [assert_mfa_challenge(env.password_auth()) for _ in range(4)]
    code = app.next_code()
    clients = [server.client() for _ in sessions]
    results = race([
        (lambda c=c, s=s: c.respond_to_auth_challenge(ClientId=env.client_id, ChallengeName=TOTP, Session=s,
                                                      ChallengeResponses=mfa_answer("alice", code)))
        for c, s in zip(clients, sessions)
    ])
    assert_one_wins(results, "sign-ins")
    env.assert_signed_in(tokens(next(r for r in results if not isinstance(r, ClientError))))


def test_one_code_racing_in_simultaneous_verifications(env, server):
    """Eight VerifySoftwareToken calls with one code at once, first for a pending secret and then
    for the verified one: each time one SUCCESS, the others "already used"."""
    access = tokens(env.password_auth())["AccessToken"]
    secret = env.cognito.associate_software_token(AccessToken=access)["SecretCode"]
    step = settle(margin=10)
    clients = [server.client() for _ in range(8)]
    for label, code in (("pending secret", totp(secret, step)), ("verified secret", totp(secret, step + 1))):
        results = race([(lambda c=c: c.verify_software_token(AccessToken=access, UserCode=code)) for c in clients])
        assert_one_wins(results, label)


# --- 6. Boolean attributes ------------------------------------------------------------------------

def test_boolean_attributes_ignore_case(cognito):
    """email_verified, phone_number_verified and a custom Boolean take "True", "FALSE", "fAlSe"…;
    AdminGetUser, ListUsers and the ID token show them as true / false."""
    pool = cognito.create_user_pool(PoolName="booleans", Schema=[
        {"Name": "vip", "AttributeDataType": "Boolean"}])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    got = new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="True",
                             phone_number="+15555550123", phone_number_verified="FALSE", custom_vip="TRUE")
    attrs = user_attributes(got)
    assert (attrs["email_verified"], attrs["phone_number_verified"], attrs["custom:vip"]) == ("true", "false", "true")

    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice", UserAttributes=[
        {"Name": "email_verified", "Value": "False"}, {"Name": "phone_number_verified", "Value": "tRuE"},
        {"Name": "custom:vip", "Value": "fAlSe"}])
    attrs = user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))
    assert (attrs["email_verified"], attrs["phone_number_verified"], attrs["custom:vip"]) == ("false", "true", "false")
    [listed] = cognito.list_users(UserPoolId=pool)["Users"]
    assert user_attributes(listed)["phone_number_verified"] == "true"

    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "email_verified", "Value": "TRUE"}])
    result = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    claims = unverified_claims(result["AuthenticationResult"]["IdToken"])
    assert claims["email_verified"] is True and claims["phone_number_verified"] is True, claims


@pytest.mark.parametrize("name", ["email_verified", "phone_number_verified", "custom:vip"])
@pytest.mark.parametrize("value", ["yes", "1", "T", "truee"])
def test_other_boolean_values_are_refused(cognito, name, value):
    pool = cognito.create_user_pool(PoolName="booleans", Schema=[
        {"Name": "vip", "AttributeDataType": "Boolean"}])["UserPool"]["Id"]
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", phone_number="+15555550123")
    with aws_error("InvalidParameterException",
                   f"Attributes did not conform to the schema: {name}: Boolean must be true or false"):
        cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                             UserAttributes=[{"Name": name, "Value": value}])
    with aws_error("InvalidParameterException", name):
        cognito.admin_create_user(UserPoolId=pool, Username="bob", MessageAction="SUPPRESS",
                                  UserAttributes=[{"Name": name, "Value": value}])


# --- 7. schema validation -------------------------------------------------------------------------

NO_TYPE = "Invalid AttributeDataType input, consider using the provided AttributeDataType enum."


def standard_refusal(name: str) -> str:
    return f"You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"


@pytest.mark.parametrize("attribute, message", [
    ({"Name": "tier"}, NO_TYPE),
    ({"Name": "tier", "Mutable": True, "StringAttributeConstraints": {"MaxLength": "9"}}, NO_TYPE),
    ({"Name": "code", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "ten"}},
     "Invalid StringAttributeConstraints for schema attribute custom:code"),
    ({"Name": "code", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "-1"}},
     "Invalid StringAttributeConstraints for schema attribute custom:code"),
    ({"Name": "score", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "1.5"}},
     "Invalid NumberAttributeConstraints for schema attribute custom:score"),
    ({"Name": "code", "AttributeDataType": "String", "StringAttributeConstraints": {"MaxLength": "2049"}},
     "user.custom:code: String attributes cannot have a length of more than 2048"),
    ({"Name": "code", "AttributeDataType": "String", "StringAttributeConstraints": {"MinLength": "5", "MaxLength": "4"}},
     "user.custom:code: Max length cannot be less than min length."),
    ({"Name": "score", "AttributeDataType": "Number", "NumberAttributeConstraints": {"MinValue": "9", "MaxValue": "1"}},
     "user.custom:score: Max value cannot be less than min value."),
    ({"Name": "key", "AttributeDataType": "String", "DeveloperOnlyAttribute": True,
      "StringAttributeConstraints": {"MaxLength": "4096"}},
     "user.dev:custom:key: String attributes cannot have a length of more than 2048"),
], ids=["no-type", "no-type-with-constraints", "not-a-number", "negative", "decimal", "over-2048", "min-over-max",
        "min-value-over-max", "dev-over-2048"])
def test_custom_attribute_refusals(cognito, attribute, message):
    """The same definition is refused by CreateUserPool and by AddCustomAttributes, which then
    adds nothing."""
    with aws_error("InvalidParameterException", message) as info:
        cognito.create_user_pool(PoolName="schema", Schema=[attribute])
    assert info.value.response["Error"]["Message"] == message
    assert cognito.list_user_pools(MaxResults=10)["UserPools"] == []
    pool = cognito.create_user_pool(PoolName="schema")["UserPool"]["Id"]
    with aws_error("InvalidParameterException", message) as info:
        cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": "fine", "AttributeDataType": "String"}, attribute])
    assert info.value.response["Error"]["Message"] == message
    names = schema_by_name(cognito.describe_user_pool(UserPoolId=pool)["UserPool"])
    assert not [n for n in names if n.startswith(("custom:", "dev:"))], names


def test_constraints_of_the_other_type_are_dropped(cognito):
    both = {"StringAttributeConstraints": {"MinLength": "1", "MaxLength": "8"},
            "NumberAttributeConstraints": {"MinValue": "1", "MaxValue": "8"}}
    pool = cognito.create_user_pool(PoolName="schema", Schema=[
        {"Name": "s", "AttributeDataType": "String", **both},
        {"Name": "n", "AttributeDataType": "Number", **both},
        {"Name": "b", "AttributeDataType": "Boolean", **both},
        {"Name": "name", "AttributeDataType": "String", **both},
    ])["UserPool"]
    cognito.add_custom_attributes(UserPoolId=pool["Id"], CustomAttributes=[
        {"Name": "d", "AttributeDataType": "DateTime", **both}])
    attrs = schema_by_name(cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"])

    def kinds(name):
        a = attrs[name]
        return ("StringAttributeConstraints" in a, "NumberAttributeConstraints" in a)

    assert kinds("custom:s") == (True, False) and kinds("custom:n") == (False, True)
    assert kinds("custom:b") == (False, False) and kinds("custom:d") == (False, False)
    assert kinds("name") == (True, False)
    assert attrs["custom:s"]["StringAttributeConstraints"] == both["StringAttributeConstraints"]
    assert attrs["custom:n"]["NumberAttributeConstraints"] == both["NumberAttributeConstraints"]
    assert attrs["name"]["StringAttributeConstraints"] == both["StringAttributeConstraints"]


def test_developer_only_attributes_are_dev_custom(cognito):
    """DeveloperOnlyAttribute true names the attribute dev:custom:NAME (at creation and when added);
    an administrator writes and reads it under that name."""
    pool = cognito.create_user_pool(PoolName="dev", Schema=[
        {"Name": "tier", "AttributeDataType": "String", "DeveloperOnlyAttribute": True}])["UserPool"]["Id"]
    cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
        {"Name": "score", "AttributeDataType": "Number", "DeveloperOnlyAttribute": True}])
    attrs = schema_by_name(cognito.describe_user_pool(UserPoolId=pool)["UserPool"])
    for name in ("dev:custom:tier", "dev:custom:score"):
        assert attrs[name]["DeveloperOnlyAttribute"] is True, attrs[name]
    assert "custom:tier" not in attrs and "custom:score" not in attrs
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "dev:custom:tier", "Value": "gold"}])
    got = user_attributes(cognito.admin_get_user(UserPoolId=pool, Username="alice"))
    assert got["dev:custom:tier"] == "gold"


@pytest.mark.parametrize("existing, added, taken", [
    ({"DeveloperOnlyAttribute": False}, {"DeveloperOnlyAttribute": True}, "custom:x"),
    ({"DeveloperOnlyAttribute": True}, {"DeveloperOnlyAttribute": False}, "dev:custom:x"),
    ({"DeveloperOnlyAttribute": True}, {"DeveloperOnlyAttribute": True}, "dev:custom:x"),
])
def test_add_custom_attributes_refuses_either_form(cognito, existing, added, taken):
    pool = cognito.create_user_pool(PoolName="s", Schema=[
        {"Name": "x", "AttributeDataType": "String", **existing}])["UserPool"]["Id"]
    with aws_error("InvalidParameterException", f"Existing attribute already has name {taken}."):
        cognito.add_custom_attributes(UserPoolId=pool, CustomAttributes=[
            {"Name": "x", "AttributeDataType": "Number", **added}])
    attrs = schema_by_name(cognito.describe_user_pool(UserPoolId=pool)["UserPool"])
    assert attrs[taken]["AttributeDataType"] == "String"
    assert len([n for n in attrs if n.endswith("custom:x")]) == 1


@pytest.mark.parametrize("attribute", [
    {"Name": "email", "AttributeDataType": "Number"},
    {"Name": "email", "AttributeDataType": "String", "DeveloperOnlyAttribute": True},
    {"Name": "email", "DeveloperOnlyAttribute": True},
    {"Name": "email_verified", "AttributeDataType": "String"},
    {"Name": "updated_at", "AttributeDataType": "String"},
])
def test_a_standard_attribute_keeps_its_type_and_is_never_developer_only(cognito, attribute):
    with aws_error("InvalidParameterException") as info:
        cognito.create_user_pool(PoolName="schema", Schema=[attribute])
    assert info.value.response["Error"]["Message"] == standard_refusal(attribute["Name"])


@pytest.mark.parametrize("mode", ["ON", "OPTIONAL"])
def test_mfa_on_without_a_factor_is_refused(cognito, pool, mode):
    with aws_error("InvalidParameterException") as info:
        cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration=mode,
                                         SoftwareTokenMfaConfiguration={"Enabled": False})
    assert info.value.response["Error"]["Message"] == (
        "Invalid MFA configuration given, can't disable all MFAs with a required or optional configuration.")
    assert cognito.get_user_pool_mfa_config(UserPoolId=pool)["MfaConfiguration"] == "OFF"


# --- 8. password-reset rules ----------------------------------------------------------------------

PHONE = "+15555550123"
CANNOT_RESET = "User password cannot be reset in the current state."


def recovery_pool(cognito, **settings) -> tuple[str, str]:
    pool = cognito.create_user_pool(PoolName="recovery", **settings)["UserPool"]["Id"]
    return pool, new_app_client(cognito, pool)[0]


def contacts(phone_verified: str = "true", email_verified: str = "true") -> dict:
    return dict(email="alice@example.com", email_verified=email_verified, phone_number=PHONE,
                phone_number_verified=phone_verified)


def test_without_a_recovery_setting_a_verified_phone_comes_first(cognito, server):
    """No AccountRecoverySetting (Cognito's legacy rule): a verified phone number gets the code even
    when the email is verified too; with the phone unverified, the email gets it."""
    pool, client_id = recovery_pool(cognito)
    assert "AccountRecoverySetting" not in cognito.describe_user_pool(UserPoolId=pool)["UserPool"]
    new_confirmed_user(cognito, pool, "alice", PASSWORD, **contacts())
    details = cognito.forgot_password(ClientId=client_id, Username="alice")["CodeDeliveryDetails"]
    assert details == {"Destination": "+*******0123", "DeliveryMedium": "SMS", "AttributeName": "phone_number"}
    [message] = outbox_messages(server, pool, "FORGOT_PASSWORD")
    assert message["Medium"] == "SMS" and message["Destination"] == PHONE, message

    new_confirmed_user(cognito, pool, "bob", PASSWORD, **contacts(phone_verified="false"))
    details = cognito.forgot_password(ClientId=client_id, Username="bob")["CodeDeliveryDetails"]
    assert details == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def test_a_recovery_setting_orders_and_skips_the_sms_mfa_phone(cognito, server):
    """With a setting, its priorities decide; a phone number that receives the user's SMS MFA codes
    does not count, so the email gets the code."""
    pool, client_id = recovery_pool(cognito, AccountRecoverySetting={"RecoveryMechanisms": [
        {"Name": "verified_phone_number", "Priority": 1}, {"Name": "verified_email", "Priority": 2}]})
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OPTIONAL", SmsMfaConfiguration={
        "SmsAuthenticationMessage": "Code {####}",
        "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "x"}})
    new_confirmed_user(cognito, pool, "alice", PASSWORD, **contacts())
    assert cognito.forgot_password(ClientId=client_id, Username="alice")["CodeDeliveryDetails"][
        "DeliveryMedium"] == "SMS"
    cognito.admin_set_user_mfa_preference(UserPoolId=pool, Username="alice",
                                          SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    assert cognito.forgot_password(ClientId=client_id, Username="alice")["CodeDeliveryDetails"] == {
        "Destination": "a***@e***", "DeliveryMedium": "EMAIL", "AttributeName": "email"}


def test_admin_only_recovery_refuses_forgot_password(cognito, server):
    """AccountRecoverySetting admin_only: ForgotPassword is NotAuthorizedException for a user and
    for a stranger alike; no code is sent."""
    pool, client_id = recovery_pool(cognito, AccountRecoverySetting={"RecoveryMechanisms": [
        {"Name": "admin_only", "Priority": 1}]})
    new_confirmed_user(cognito, pool, "alice", PASSWORD, **contacts())
    for username in ("alice", "nobody"):
        with aws_error("NotAuthorizedException") as info:
            cognito.forgot_password(ClientId=client_id, Username=username)
        assert info.value.response["Error"]["Message"] == "Contact administrator to reset password."
    assert outbox_messages(server, pool, "FORGOT_PASSWORD") == []


def test_admin_reset_of_a_disabled_user_is_refused(cognito, server):
    pool, _ = recovery_pool(cognito)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, **contacts())
    cognito.admin_disable_user(UserPoolId=pool, Username="alice")
    with aws_error("NotAuthorizedException") as info:
        cognito.admin_reset_user_password(UserPoolId=pool, Username="alice")
    assert info.value.response["Error"]["Message"] == "User is disabled."
    assert cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserStatus"] == "CONFIRMED"
    assert outbox_messages(server, pool, "FORGOT_PASSWORD") == []


def test_force_change_password_cannot_be_reset(cognito, server):
    """A user created by an administrator who never chose a password (FORCE_CHANGE_PASSWORD):
    ForgotPassword and AdminResetUserPassword are NotAuthorizedException, nothing changes or is
    sent; the temporary password still leads to NEW_PASSWORD_REQUIRED."""
    pool, client_id = recovery_pool(cognito)
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS",
                              TemporaryPassword="Temp0rary!",
                              UserAttributes=[{"Name": k, "Value": v} for k, v in contacts().items()])
    for call in (lambda: cognito.forgot_password(ClientId=client_id, Username="alice"),
                 lambda: cognito.admin_reset_user_password(UserPoolId=pool, Username="alice")):
        with aws_error("NotAuthorizedException") as info:
            call()
        assert info.value.response["Error"]["Message"] == CANNOT_RESET
    assert cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert outbox_messages(server, pool, "FORGOT_PASSWORD") == []
    answer = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "alice", "PASSWORD": "Temp0rary!"})
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
