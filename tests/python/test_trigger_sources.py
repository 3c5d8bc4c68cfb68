"""Every trigger source of every trigger (docs/triggers.md), beside test_triggers.py: the whole
event of each source compared with == against the shape of AWS's documented examples
(docs/design/lambda-triggers-cognito-events.md), only what truly varies masked (the sub, codes);
the custom senders' sources with the code they are handed completing the operation; the
PreTokenGeneration answers seen in the tokens; where the Lambda endpoint may be configured; and
the failures of the sign-in triggers, each a 4xx in Cognito's words, never a 500.

The functions run on the Lambda Invoke API the test serves (lambda_runtime.py); the shared
server calls it (conftest.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import pytest
import requests

from lambda_runtime import Raw
from oauth_support import CALLBACK, Browser, oauth_client, oauth_pool, pkce, query_of
from support import (NEW_PASSWORD, PASSWORD, REGION, SignInEnv, SrpSignIn, aws_error, new_app_client,
                     outbox_messages, pool_change_settles, tokens, user_attributes, verify_jwt)
from test_devices import Devices
from test_triggers import (ALWAYS, answer_with, custom_pool, echo, legacy_store, pool_with, refuse,
                           token_pool, unique, wait_for)

KMS_KEY = f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SMS_CONFIGURATION = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms-role", "ExternalId": "ext-123"}
EMAIL_MFA = {"Message": "Your sign-in code: {####}", "Subject": "Sign-in code"}
META = {"origin": "web", "lang": "fr"}
TEMPORARY = "Temp-Passw0rd!"
ADMIN = "CLIENT_ID_NOT_APPLICABLE"


def envelope(pool: str, client_id: str | None, source: str, user_name: str, request: dict, response=None,
             version: str = "1", has_response: bool = True) -> dict:
    """The event Cognito sends: its envelope around `request` and the prefilled `response` (the
    custom senders' events have none)."""
    event = {
        "version": version,
        "triggerSource": source,
        "region": REGION,
        "userPoolId": pool,
        "userName": user_name,
        # boto3's and requests' User-Agents name no aws-sdk-<lang>/<version>.
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id or ADMIN},
        "request": request,
    }
    if has_response:
        event["response"] = response
    return event


def attributes_of(event: dict, **expected: str) -> dict:
    """The attributes the event should carry: `expected` (`cognito_user_status` for
    `cognito:user_status`) and the user's sub, which is the one value taken from the event."""
    sub = event["request"]["userAttributes"]["sub"]
    return {"sub": sub, **{k.replace("cognito_", "cognito:", 1): v for k, v in expected.items()}}


def sub_of(cognito, pool: str, username: str) -> str:
    return user_attributes(cognito.admin_get_user(UserPoolId=pool, Username=username))["sub"]


# --- the operations that send a code, by medium ---------------------------------------------------

ADDRESSES = {"email": ("{}@example.com", "{}@new.example"), "phone_number": ("+14155550100", "+14155550199")}


def address(attr: str, name: str, new: bool = False) -> str:
    return ADDRESSES[attr][new].format(name)


def verified(attr: str) -> str:
    return f"{attr}_verified"


@dataclass
class Sent:
    """An operation that sent `user` a code: the outbox purpose, the client the event names
    (None: an admin operation), the user's attributes and status as the event should show them
    (the sub apart), the ClientMetadata CustomMessage should get, how the code completes it, and
    the ClientMetadata a custom sender should get when it differs from CustomMessage's."""
    user: str
    purpose: str
    client_id: str | None
    attributes: dict
    status: str
    metadata: dict | None
    finish: Callable[[str], object]
    sender_metadata: dict | None | str = "as CustomMessage's"

    def senders_metadata(self) -> dict | None:
        return self.metadata if self.sender_metadata == "as CustomMessage's" else self.sender_metadata


def sign_up(env: SignInEnv, attr: str) -> Sent:
    cognito = env.cognito
    cognito.sign_up(ClientId=env.client_id, Username="sam", Password=PASSWORD, ClientMetadata=META,
                    UserAttributes=[{"Name": attr, "Value": address(attr, "sam")}])
    return Sent("sam", "SIGN_UP", env.client_id, {attr: address(attr, "sam")}, "UNCONFIRMED", META,
                lambda code: cognito.confirm_sign_up(ClientId=env.client_id, Username="sam", ConfirmationCode=code))


def resend_code(env: SignInEnv, attr: str) -> Sent:
    sent = sign_up(env, attr)
    env.cognito.resend_confirmation_code(ClientId=env.client_id, Username="sam", ClientMetadata={"again": "yes"})
    sent.metadata = {"again": "yes"}
    return sent


def forgot_password(env: SignInEnv, attr: str) -> Sent:
    cognito = env.cognito
    env.user("fay", **{attr: address(attr, "fay"), verified(attr): "true"})
    cognito.forgot_password(ClientId=env.client_id, Username="fay", ClientMetadata=META)

    def finish(code):
        cognito.confirm_forgot_password(ClientId=env.client_id, Username="fay", ConfirmationCode=code,
                                        Password=NEW_PASSWORD)
        return tokens(env.password_auth("fay", password=NEW_PASSWORD))
    return Sent("fay", "FORGOT_PASSWORD", env.client_id, {attr: address(attr, "fay"), verified(attr): "true"},
                "CONFIRMED", META, finish)


def admin_reset_password(env: SignInEnv, attr: str) -> Sent:
    cognito = env.cognito
    env.user("fay", **{attr: address(attr, "fay"), verified(attr): "true"})
    cognito.admin_reset_user_password(UserPoolId=env.pool, Username="fay", ClientMetadata=META)

    def finish(code):
        cognito.confirm_forgot_password(ClientId=env.client_id, Username="fay", ConfirmationCode=code,
                                        Password=NEW_PASSWORD)
        return tokens(env.password_auth("fay", password=NEW_PASSWORD))
    # The reset is recorded before the code goes: the user is RESET_REQUIRED in the event.
    return Sent("fay", "FORGOT_PASSWORD", None, {attr: address(attr, "fay"), verified(attr): "true"},
                "RESET_REQUIRED", META, finish)


def update_attribute(env: SignInEnv, attr: str) -> Sent:
    """UpdateUserAttributes changing the address: the new one is the user's (unverified) at once,
    and the code verifies it (the pool does not keep the old address until then)."""
    cognito = env.cognito
    env.user("uma", **{attr: address(attr, "uma"), verified(attr): "true"})
    access = tokens(env.password_auth("uma"))["AccessToken"]
    cognito.update_user_attributes(AccessToken=access, ClientMetadata=META,
                                   UserAttributes=[{"Name": attr, "Value": address(attr, "uma", new=True)}])
    return Sent("uma", "VERIFY_ATTRIBUTE", env.client_id,
                {attr: address(attr, "uma", new=True), verified(attr): "false"}, "CONFIRMED", META,
                lambda code: cognito.verify_user_attribute(AccessToken=access, AttributeName=attr, Code=code))


def admin_update_attribute(env: SignInEnv, attr: str) -> Sent:
    cognito = env.cognito
    env.user("uma", **{attr: address(attr, "uma"), verified(attr): "true"})
    cognito.admin_update_user_attributes(UserPoolId=env.pool, Username="uma", ClientMetadata=META,
                                         UserAttributes=[{"Name": attr, "Value": address(attr, "uma", new=True)}])

    def finish(code):
        access = tokens(env.password_auth("uma"))["AccessToken"]
        return cognito.verify_user_attribute(AccessToken=access, AttributeName=attr, Code=code)
    return Sent("uma", "VERIFY_ATTRIBUTE", None,
                {attr: address(attr, "uma", new=True), verified(attr): "false"}, "CONFIRMED", META, finish)


def verify_attribute(env: SignInEnv, attr: str) -> Sent:
    cognito = env.cognito
    env.user("vic", **{attr: address(attr, "vic")})
    access = tokens(env.password_auth("vic"))["AccessToken"]
    cognito.get_user_attribute_verification_code(AccessToken=access, AttributeName=attr, ClientMetadata=META)

    def finish(code):
        cognito.verify_user_attribute(AccessToken=access, AttributeName=attr, Code=code)
        assert user_attributes(cognito.get_user(AccessToken=access))[verified(attr)] == "true"
    return Sent("vic", "VERIFY_ATTRIBUTE", env.client_id, {attr: address(attr, "vic")}, "CONFIRMED", META, finish)


def admin_create_user(env: SignInEnv, attr: str) -> Sent:
    cognito = env.cognito
    medium = "EMAIL" if attr == "email" else "SMS"
    cognito.admin_create_user(UserPoolId=env.pool, Username="ada", TemporaryPassword=TEMPORARY,
                              UserAttributes=[{"Name": attr, "Value": address(attr, "ada")}],
                              DesiredDeliveryMediums=[medium], ClientMetadata=META)

    def finish(code):
        step = env.password_auth("ada", password=code)
        assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED", step
        return tokens(env.respond("NEW_PASSWORD_REQUIRED", {"USERNAME": "ada", "NEW_PASSWORD": NEW_PASSWORD},
                                  step["Session"]))
    return Sent("ada", "INVITATION", None, {attr: address(attr, "ada")}, "FORCE_CHANGE_PASSWORD", META, finish)


def authentication(env: SignInEnv, attr: str) -> Sent:
    """An MFA code: SMS_MFA by phone, EMAIL_OTP by email. InitiateAuth's ClientMetadata is not
    the message's (Cognito gives it to PreAuthentication, PreSignUp and UserMigration only)."""
    cognito = env.cognito
    env.user("mia", **{attr: address(attr, "mia"), verified(attr): "true"})
    if attr == "phone_number":
        cognito.set_user_pool_mfa_config(UserPoolId=env.pool, MfaConfiguration="ON",
                                         SmsMfaConfiguration={"SmsConfiguration": SMS_CONFIGURATION})
        challenge, field = "SMS_MFA", "SMS_MFA_CODE"
    else:
        cognito.set_user_pool_mfa_config(UserPoolId=env.pool, MfaConfiguration="OPTIONAL",
                                         EmailMfaConfiguration=EMAIL_MFA)
        cognito.admin_set_user_mfa_preference(UserPoolId=env.pool, Username="mia",
                                              EmailMfaSettings={"Enabled": True, "PreferredMfa": True})
        challenge, field = "EMAIL_OTP", "EMAIL_OTP_CODE"
    pool_change_settles(env.server)
    step = cognito.initiate_auth(ClientId=env.client_id, AuthFlow="USER_PASSWORD_AUTH", ClientMetadata=META,
                                 AuthParameters={"USERNAME": "mia", "PASSWORD": PASSWORD})
    assert step["ChallengeName"] == challenge, step
    return Sent("mia", "MFA", env.client_id, {attr: address(attr, "mia"), verified(attr): "true"}, "CONFIRMED",
                None, lambda code: tokens(env.respond(challenge, {"USERNAME": "mia", field: code}, step["Session"])))


def authentication_after_srp(env: SignInEnv, attr: str) -> Sent:
    """The SMS_MFA code sent by RespondToAuthChallenge (SRP's PASSWORD_VERIFIER): its
    ClientMetadata is not the message's (Cognito's list for that operation leaves CustomMessage
    and the custom senders out)."""
    cognito = env.cognito
    env.user("mia", **{attr: address(attr, "mia"), verified(attr): "true"})
    cognito.set_user_pool_mfa_config(UserPoolId=env.pool, MfaConfiguration="ON",
                                     SmsMfaConfiguration={"SmsConfiguration": SMS_CONFIGURATION})
    pool_change_settles(env.server)
    srp = SrpSignIn(cognito, env.pool, env.client_id, "mia", PASSWORD)
    challenge = srp.initiate()
    step = cognito.respond_to_auth_challenge(ClientId=env.client_id, ChallengeName="PASSWORD_VERIFIER",
                                             ChallengeResponses=srp.responses(challenge), ClientMetadata=META)
    assert step["ChallengeName"] == "SMS_MFA", step
    return Sent("mia", "MFA", env.client_id, {attr: address(attr, "mia"), verified(attr): "true"}, "CONFIRMED",
                None, lambda code: tokens(env.respond("SMS_MFA", {"USERNAME": "mia", "SMS_MFA_CODE": code},
                                                      step["Session"])))


def authentication_by_admin_answer(env: SignInEnv, attr: str) -> Sent:
    """The SMS_MFA code sent by AdminRespondToAuthChallenge (SELECT_MFA_TYPE answered SMS_MFA):
    its ClientMetadata is the CustomMessage's, as Cognito documents for that operation (a custom
    sender is not given it)."""
    cognito = env.cognito
    attributes = {attr: address(attr, "mia"), verified(attr): "true",
                  "email": address("email", "mia"), "email_verified": "true"}
    env.user("mia", **attributes)
    cognito.set_user_pool_mfa_config(UserPoolId=env.pool, MfaConfiguration="OPTIONAL",
                                     SmsMfaConfiguration={"SmsConfiguration": SMS_CONFIGURATION},
                                     EmailMfaConfiguration=EMAIL_MFA)
    cognito.admin_set_user_mfa_preference(UserPoolId=env.pool, Username="mia",
                                          SMSMfaSettings={"Enabled": True, "PreferredMfa": False},
                                          EmailMfaSettings={"Enabled": True, "PreferredMfa": False})
    select = env.password_auth("mia", flow="ADMIN_USER_PASSWORD_AUTH")
    assert select["ChallengeName"] == "SELECT_MFA_TYPE", select
    step = cognito.admin_respond_to_auth_challenge(
        UserPoolId=env.pool, ClientId=env.client_id, ChallengeName="SELECT_MFA_TYPE", Session=select["Session"],
        ChallengeResponses={"USERNAME": "mia", "ANSWER": "SMS_MFA"}, ClientMetadata=META)
    assert step["ChallengeName"] == "SMS_MFA", step
    return Sent("mia", "MFA", env.client_id, attributes, "CONFIRMED", META,
                lambda code: tokens(env.respond("SMS_MFA", {"USERNAME": "mia", "SMS_MFA_CODE": code},
                                                step["Session"], admin=True)), sender_metadata=None)


def code_env(cognito, server, lambda_runtime, attr: str, policies: dict | None = None,
             **functions) -> tuple[SignInEnv, dict[str, str]]:
    """A pool that verifies `attr` and names these functions (CustomMessage=handler, and the
    custom senders CustomEmailSender / CustomSMSSender, V1_0 with the KMS key Cognito asks for),
    with `policies` as its Policies if given; the functions' names, by trigger."""
    names = {trigger: unique(trigger) for trigger in functions}
    config = {}
    for trigger, handler in functions.items():
        arn = lambda_runtime.function(names[trigger], handler)
        config[trigger] = arn if trigger == "CustomMessage" else {"LambdaArn": arn, "LambdaVersion": "V1_0"}
    if set(functions) & {"CustomEmailSender", "CustomSMSSender"}:
        config["KMSKeyID"] = KMS_KEY
    settings = {"Policies": policies} if policies else {}
    env = SignInEnv(cognito, server, LambdaConfig=config, AutoVerifiedAttributes=[attr],
                    SmsConfiguration=SMS_CONFIGURATION, **settings)
    return env, names


# --- CustomMessage, every source ------------------------------------------------------------------


def word(event):
    """Words every message: the source's own subject and text, with Cognito's placeholders."""
    request, response = event["request"], event["response"]
    source = event["triggerSource"].removeprefix("CustomMessage_")
    who = f"{request['usernameParameter']} " if request["usernameParameter"] else ""
    response["emailSubject"] = f"Acme: {source}"
    response["emailMessage"] = f"<p>{source} for {who}code {request['codeParameter']}</p>"
    response["smsMessage"] = f"Acme {source}: {who}{request['codeParameter']}"
    return event


@pytest.mark.parametrize("source, operation, attr", [
    ("CustomMessage_ResendCode", resend_code, "email"),
    ("CustomMessage_ForgotPassword", forgot_password, "email"),
    ("CustomMessage_ForgotPassword", admin_reset_password, "phone_number"),
    ("CustomMessage_UpdateUserAttribute", update_attribute, "email"),
    ("CustomMessage_UpdateUserAttribute", admin_update_attribute, "phone_number"),
    ("CustomMessage_VerifyUserAttribute", verify_attribute, "email"),
    ("CustomMessage_VerifyUserAttribute", verify_attribute, "phone_number"),
    ("CustomMessage_AdminCreateUser", admin_create_user, "email"),
    ("CustomMessage_Authentication", authentication, "phone_number"),
    ("CustomMessage_Authentication", authentication, "email"),
    ("CustomMessage_Authentication", authentication_after_srp, "phone_number"),
    ("CustomMessage_Authentication", authentication_by_admin_answer, "phone_number"),
], ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_custom_message_words_each_sources_message(cognito, server, lambda_runtime, source, operation, attr):
    env, names = code_env(cognito, server, lambda_runtime, attr, CustomMessage=word)
    sent = operation(env, attr)
    event = lambda_runtime.events(names["CustomMessage"])[-1]
    invitation = source == "CustomMessage_AdminCreateUser"
    request = {
        "userAttributes": attributes_of(event, **sent.attributes, cognito_user_status=sent.status),
        "codeParameter": "{####}",
        "linkParameter": "{##Click Here##}",
        "usernameParameter": "{username}" if invitation else None,
    }
    if sent.metadata is not None:
        request["clientMetadata"] = sent.metadata
    assert event == envelope(env.pool, sent.client_id, source, sent.user, request,
                             {"smsMessage": None, "emailMessage": None, "emailSubject": None})
    assert event["request"]["userAttributes"]["sub"] == sub_of(cognito, env.pool, sent.user)
    # The message that went is the function's, with the code (and the username) put in.
    message = outbox_messages(server, env.pool, sent.purpose, sent.user)[-1]
    code, short = message["Code"], source.removeprefix("CustomMessage_")
    who = f"{sent.user} " if invitation else ""
    assert code and code not in str(event)
    if attr == "email":
        assert (message["Medium"], message["Subject"], message["Body"]) == (
            "EMAIL", f"Acme: {short}", f"<p>{short} for {who}code {code}</p>")
    else:
        assert (message["Medium"], message["Body"]) == ("SMS", f"Acme {short}: {who}{code}")
    sent.finish(code)


@pytest.mark.parametrize("trigger", ["CustomMessage", "CustomEmailSender"])
def test_a_user_auth_sign_in_code_goes_through_the_message_triggers(cognito, server, lambda_runtime, trigger):
    """USER_AUTH's EMAIL_OTP code (the first factor) is CustomMessage_Authentication, worded by
    the function, or CustomEmailSender_Authentication, handed the code, as an MFA code is;
    InitiateAuth's ClientMetadata reaches neither."""
    env, names = code_env(cognito, server, lambda_runtime, "email",
                          policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}},
                          **{trigger: word if trigger == "CustomMessage" else echo})
    client_id, _ = new_app_client(cognito, env.pool, ExplicitAuthFlows=["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    env.user("uma", email=address("email", "uma"), email_verified="true")
    step = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", ClientMetadata=META,
                                 AuthParameters={"USERNAME": "uma", "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert step["ChallengeName"] == "EMAIL_OTP", step
    source = f"{trigger}_Authentication"
    assert wait_for(lambda: any(e["triggerSource"] == source for e in lambda_runtime.events(names[trigger])))
    [event] = [e for e in lambda_runtime.events(names[trigger]) if e["triggerSource"] == source]
    message = outbox_messages(server, env.pool, "MFA", "uma")[-1]
    code = message["Code"]
    attributes = attributes_of(event, email=address("email", "uma"), email_verified="true",
                               cognito_user_status="CONFIRMED")
    if trigger == "CustomMessage":
        assert event == envelope(env.pool, client_id, source, "uma", {
            "userAttributes": attributes, "codeParameter": "{####}", "linkParameter": "{##Click Here##}",
            "usernameParameter": None}, {"smsMessage": None, "emailMessage": None, "emailSubject": None})
        assert (message["Subject"], message["Body"]) == ("Acme: Authentication",
                                                         f"<p>Authentication for code {code}</p>")
        assert code not in str(event)
    else:
        assert event == envelope(env.pool, client_id, source, "uma", {
            "type": "customEmailSenderRequestV1", "code": code, "clientMetadata": None,
            "userAttributes": attributes}, has_response=False)
    assert len(code) == 8 and code.isdigit(), code
    tokens(cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="EMAIL_OTP", Session=step["Session"],
                                             ChallengeResponses={"USERNAME": "uma", "EMAIL_OTP_CODE": code}))


# --- CustomEmailSender and CustomSMSSender, every source ------------------------------------------


@pytest.mark.parametrize("sender, source, operation, attr", [
    ("CustomEmailSender", "CustomEmailSender_ResendCode", resend_code, "email"),
    ("CustomEmailSender", "CustomEmailSender_ForgotPassword", forgot_password, "email"),
    ("CustomEmailSender", "CustomEmailSender_AdminCreateUser", admin_create_user, "email"),
    ("CustomEmailSender", "CustomEmailSender_UpdateUserAttribute", update_attribute, "email"),
    ("CustomEmailSender", "CustomEmailSender_VerifyUserAttribute", verify_attribute, "email"),
    ("CustomEmailSender", "CustomEmailSender_Authentication", authentication, "email"),
    ("CustomSMSSender", "CustomSMSSender_SignUp", sign_up, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_ResendCode", resend_code, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_ForgotPassword", forgot_password, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_UpdateUserAttribute", update_attribute, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_VerifyUserAttribute", verify_attribute, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_AdminCreateUser", admin_create_user, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_Authentication", authentication_after_srp, "phone_number"),
    ("CustomSMSSender", "CustomSMSSender_Authentication", authentication_by_admin_answer, "phone_number"),
], ids=lambda v: v if isinstance(v, str) else v.__name__)
def test_a_custom_sender_is_handed_each_sources_code_which_completes_the_operation(
        cognito, server, lambda_runtime, sender, source, operation, attr):
    env, names = code_env(cognito, server, lambda_runtime, attr, **{sender: echo},
                          CustomMessage=refuse("CustomMessage is not asked when a sender is"))
    sent = operation(env, attr)
    assert wait_for(lambda: any(e["triggerSource"] == source for e in lambda_runtime.events(names[sender])))
    [event] = [e for e in lambda_runtime.events(names[sender]) if e["triggerSource"] == source]
    message = outbox_messages(server, env.pool, sent.purpose, sent.user)[-1]
    request_type = "customEmailSenderRequestV1" if sender == "CustomEmailSender" else "customSMSSenderRequestV1"
    # The code in plain text: Gatehouse's local form of Cognito's KMS-encrypted code.
    assert event == envelope(env.pool, sent.client_id, source, sent.user, {
        "type": request_type,
        "code": message["Code"],
        "clientMetadata": sent.senders_metadata(),
        "userAttributes": attributes_of(event, **sent.attributes, cognito_user_status=sent.status),
    }, has_response=False)
    assert message["Medium"] == ("EMAIL" if sender == "CustomEmailSender" else "SMS")
    assert lambda_runtime.events(names["CustomMessage"]) == []
    # What the function was handed is what the user types to finish.
    sent.finish(event["request"]["code"])
    assert wait_for(lambda: outbox_messages(server, env.pool, sent.purpose, sent.user)[-1].get("Delivery")
                    == "DELIVERED")


# --- PreTokenGeneration: each source's whole event, and what its answer does ------------------------


def token_request(event: dict, role: str | None, scopes=("aws.cognito.signin.user.admin",), metadata=None,
                  **attributes) -> dict:
    """PreTokenGeneration's request for `event`'s user (`role`: the group `readers` of
    token_pool, None: no group), from version 2 with `scopes`."""
    groups = ({"groupsToOverride": ["readers"], "iamRolesToOverride": [role], "preferredRole": role} if role
              else {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": None})
    request = {"userAttributes": attributes_of(event, **attributes), "groupConfiguration": groups}
    if scopes is not None:
        request["scopes"] = list(scopes)
    if metadata is not None:
        request["clientMetadata"] = metadata
    return request


ALICE = {"email": "alice@example.com", "email_verified": "true", "cognito_user_status": "CONFIRMED"}
V2_RESPONSE = {"claimsAndScopeOverrideDetails": None}


def test_pre_token_generation_v2_on_a_sign_in_overrides_groups_and_suppresses_id_claims(
        cognito, server, lambda_runtime):
    auditors = "arn:aws:iam::000000000000:role/auditors"
    admins = "arn:aws:iam::000000000000:role/admins"

    def customise(event):
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "idTokenGeneration": {"claimsToSuppress": ["email", "email_verified"]},
            "groupOverrideDetails": {"groupsToOverride": ["admins", "auditors"],
                                     "iamRolesToOverride": [admins, auditors], "preferredRole": auditors},
        }
        return event
    env, name, role = token_pool(cognito, server, lambda_runtime, customise, "V2_0")
    result = tokens(env.password_auth("alice"))
    [event] = lambda_runtime.events(name)
    assert event == envelope(env.pool, env.client_id, "TokenGeneration_Authentication", "alice",
                             token_request(event, role, **ALICE), V2_RESPONSE, version="2")
    assert event["request"]["userAttributes"]["sub"] == sub_of(cognito, env.pool, "alice")
    id_claims = verify_jwt(env.issuer, result["IdToken"], "id", env.client_id)
    access = env.access_claims(result["AccessToken"])
    assert "email" not in id_claims and "email_verified" not in id_claims
    assert (id_claims["cognito:groups"], id_claims["cognito:roles"], id_claims["cognito:preferred_role"]) == (
        ["admins", "auditors"], [admins, auditors], auditors)
    assert access["cognito:groups"] == ["admins", "auditors"]
    # The access token carries no roles, whatever the override says.
    assert "cognito:roles" not in access and "cognito:preferred_role" not in access


def test_pre_token_generation_v3_on_a_sign_in_adds_claims_to_both_tokens(cognito, server, lambda_runtime):
    def customise(event):
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme", "tier": 3}},
            "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme", "features": ["a", "b"]}},
        }
        return event
    env, name, role = token_pool(cognito, server, lambda_runtime, customise, "V3_0")
    result = tokens(env.password_auth("alice"))
    [event] = lambda_runtime.events(name)
    assert event == envelope(env.pool, env.client_id, "TokenGeneration_Authentication", "alice",
                             token_request(event, role, **ALICE), V2_RESPONSE, version="3")
    id_claims = verify_jwt(env.issuer, result["IdToken"], "id", env.client_id)
    access = env.access_claims(result["AccessToken"])
    assert (id_claims["tenant"], id_claims["tier"]) == ("acme", 3)
    assert (access["tenant"], access["features"]) == ("acme", ["a", "b"])
    assert "features" not in id_claims and "tier" not in access


def test_pre_token_generation_new_password_challenge_event(cognito, server, lambda_runtime):
    env, name, _ = token_pool(cognito, server, lambda_runtime, echo, "V2_0")
    cognito.admin_create_user(UserPoolId=env.pool, Username="ned", TemporaryPassword=TEMPORARY,
                              MessageAction="SUPPRESS", UserAttributes=[{"Name": "name", "Value": "Ned"}])
    step = env.password_auth("ned", password=TEMPORARY)
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    tokens(cognito.respond_to_auth_challenge(
        ClientId=env.client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=step["Session"],
        ChallengeResponses={"USERNAME": "ned", "NEW_PASSWORD": NEW_PASSWORD}, ClientMetadata=META))
    [event] = lambda_runtime.events(name)
    # The new password is set before the tokens: the user is CONFIRMED. RespondToAuthChallenge's
    # ClientMetadata is the function's.
    assert event == envelope(env.pool, env.client_id, "TokenGeneration_NewPasswordChallenge", "ned",
                             token_request(event, None, metadata=META, name="Ned",
                                           cognito_user_status="CONFIRMED"), V2_RESPONSE, version="2")


def test_pre_token_generation_device_and_refresh_events(cognito, server, lambda_runtime):
    env, name, role = token_pool(cognito, server, lambda_runtime, echo, "V2_0", devices=ALWAYS)
    device, _ = env.confirm(tokens(env.sign_in("USER_PASSWORD_AUTH")))
    again = tokens(env.sign_in("USER_PASSWORD_AUTH", device=device))
    event = lambda_runtime.events(name)[-1]
    assert event == envelope(env.pool, env.client_id, "TokenGeneration_AuthenticateDevice", "alice",
                             token_request(event, role, **ALICE), V2_RESPONSE, version="2")
    # REFRESH_TOKEN_AUTH: InitiateAuth's ClientMetadata is not the function's (Cognito gives it
    # only to PreSignUp, PreAuthentication and UserMigration).
    tokens(cognito.initiate_auth(ClientId=env.client_id, AuthFlow="REFRESH_TOKEN_AUTH", ClientMetadata=META,
                                 AuthParameters={"REFRESH_TOKEN": again["RefreshToken"], "DEVICE_KEY": device.key}))
    event = lambda_runtime.events(name)[-1]
    assert event == envelope(env.pool, env.client_id, "TokenGeneration_RefreshTokens", "alice",
                             token_request(event, role, **ALICE), V2_RESPONSE, version="2")
    # GetTokensFromRefreshToken's ClientMetadata is (its one trigger is PreTokenGeneration).
    cognito.get_tokens_from_refresh_token(ClientId=env.client_id, RefreshToken=again["RefreshToken"],
                                          DeviceKey=device.key, ClientMetadata=META)
    event = lambda_runtime.events(name)[-1]
    assert event == envelope(env.pool, env.client_id, "TokenGeneration_RefreshTokens", "alice",
                             token_request(event, role, metadata=META, **ALICE), V2_RESPONSE, version="2")
    assert len(lambda_runtime.events(name)) == 4


def hosted_pool(cognito, lambda_runtime, handler, **more):
    """An OAuth pool whose PreTokenGeneration (V2_0) is `handler`, with more functions by
    trigger; its client and the functions' names."""
    names = {"PreTokenGeneration": unique("hosted-tokens"), **{t: unique(t) for t in more}}
    config = {"PreTokenGenerationConfig": {
        "LambdaArn": lambda_runtime.function(names["PreTokenGeneration"], handler), "LambdaVersion": "V2_0"}}
    config.update({t: lambda_runtime.function(names[t], h) for t, h in more.items()})
    pool = oauth_pool(cognito, domain=unique("hosted"), LambdaConfig=config)
    client_id, _ = oauth_client(cognito, pool)
    return pool, client_id, names


def hosted_code(server, client_id) -> tuple[str, str]:
    """A hosted sign-in of alice: its authorization code and PKCE verifier."""
    browser = Browser(server.url)
    verifier, challenge = pkce()
    browser.sign_in(client_id, password=PASSWORD, scope="openid email", code_challenge=challenge,
                    code_challenge_method="S256")
    assert browser.redirect, browser.page.text[:500]
    return query_of(browser.redirect)["code"], verifier


def redeem(server, client_id, code, verifier) -> requests.Response:
    return requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": client_id,
        "code_verifier": verifier})


def test_pre_token_generation_hosted_auth_event(cognito, server, lambda_runtime):
    pool, client_id, names = hosted_pool(cognito, lambda_runtime, answer_with(claimsAndScopeOverrideDetails={
        "idTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme"}}}))
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
    answer = redeem(server, client_id, *hosted_code(server, client_id))
    assert answer.status_code == 200, answer.text
    [event] = lambda_runtime.events(names["PreTokenGeneration"])
    assert event == envelope(pool, client_id, "TokenGeneration_HostedAuth", "alice",
                             token_request(event, None, scopes=["openid", "email"], email="alice@example.com",
                                           cognito_user_status="CONFIRMED"), V2_RESPONSE, version="2")
    assert verify_jwt(f"{server.url}/{pool}", answer.json()["id_token"], "id", client_id)["tenant"] == "acme"


# --- the other sign-in and confirmation triggers' whole events ------------------------------------


def test_custom_challenge_events(cognito, server, lambda_runtime):
    env, names = custom_pool(cognito, server, lambda_runtime, ["123456"])
    step = cognito.initiate_auth(ClientId=env.client_id, AuthFlow="CUSTOM_AUTH", ClientMetadata={"at": "start"},
                                 AuthParameters={"USERNAME": "alice"})
    result = tokens(cognito.respond_to_auth_challenge(
        ClientId=env.client_id, ChallengeName="CUSTOM_CHALLENGE", Session=step["Session"],
        ChallengeResponses={"USERNAME": "alice", "ANSWER": "123456"}, ClientMetadata={"at": "answer"}))
    assert env.access_claims(result["AccessToken"])["username"] == "alice"
    defines = lambda_runtime.events(names["DefineAuthChallenge"])
    [create] = lambda_runtime.events(names["CreateAuthChallenge"])
    [verify] = lambda_runtime.events(names["VerifyAuthChallengeResponse"])
    attributes = attributes_of(create, email="alice@example.com", cognito_user_status="CONFIRMED")
    assert attributes["sub"] == sub_of(cognito, env.pool, "alice")
    undecided = {"challengeName": None, "issueTokens": False, "failAuthentication": False}
    # InitiateAuth's ClientMetadata is not the challenge functions' (Cognito's routing);
    # RespondToAuthChallenge's is.
    assert defines == [
        envelope(env.pool, env.client_id, "DefineAuthChallenge_Authentication", "alice",
                 {"userAttributes": attributes, "session": []}, undecided),
        envelope(env.pool, env.client_id, "DefineAuthChallenge_Authentication", "alice",
                 {"userAttributes": attributes, "clientMetadata": {"at": "answer"}, "session": [
                     {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True,
                      "challengeMetadata": "CODE-123456"}]}, undecided),
    ]
    assert create == envelope(env.pool, env.client_id, "CreateAuthChallenge_Authentication", "alice",
                              {"userAttributes": attributes, "challengeName": "CUSTOM_CHALLENGE", "session": []},
                              {"publicChallengeParameters": None, "privateChallengeParameters": None,
                               "challengeMetadata": None})
    assert verify == envelope(env.pool, env.client_id, "VerifyAuthChallengeResponse_Authentication", "alice",
                              {"userAttributes": attributes, "privateChallengeParameters": {"code": "123456"},
                               "challengeAnswer": "123456", "clientMetadata": {"at": "answer"}},
                              {"answerCorrect": False})


def test_post_authentication_event(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PostAuthentication=echo)
    env.user("pat", email="pat@example.com", email_verified="true")
    srp = SrpSignIn(cognito, env.pool, env.client_id, "pat", PASSWORD)
    tokens(cognito.respond_to_auth_challenge(ClientId=env.client_id, ChallengeName="PASSWORD_VERIFIER",
                                             ChallengeResponses=srp.responses(srp.initiate()), ClientMetadata=META))
    [event] = lambda_runtime.events(names["PostAuthentication"])
    assert event == envelope(env.pool, env.client_id, "PostAuthentication_Authentication", "pat", {
        "userAttributes": attributes_of(event, email="pat@example.com", email_verified="true",
                                        cognito_user_status="CONFIRMED"),
        # No device tracking in this pool: no device is new.
        "newDeviceUsed": False,
        "clientMetadata": META,
    }, {})
    assert event["request"]["userAttributes"]["sub"] == sub_of(cognito, env.pool, "pat")


def test_post_confirmation_after_a_password_reset_event(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PostConfirmation=echo)
    env.user("fay", email="fay@example.com", email_verified="true")
    cognito.forgot_password(ClientId=env.client_id, Username="fay")
    code = outbox_messages(server, env.pool, "FORGOT_PASSWORD", "fay")[-1]["Code"]
    cognito.confirm_forgot_password(ClientId=env.client_id, Username="fay", ConfirmationCode=code,
                                    Password=NEW_PASSWORD, ClientMetadata=META)
    [event] = lambda_runtime.events(names["PostConfirmation"])
    assert event == envelope(env.pool, env.client_id, "PostConfirmation_ConfirmForgotPassword", "fay", {
        "userAttributes": attributes_of(event, email="fay@example.com", email_verified="true",
                                        cognito_user_status="CONFIRMED"),
        "clientMetadata": META,
    }, {})


def test_user_migration_for_a_forgotten_password_event(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, UserMigration=legacy_store())
    sent = cognito.forgot_password(ClientId=env.client_id, Username="ann", ClientMetadata=META)
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    [event] = lambda_runtime.events(names["UserMigration"])
    # No password (none was typed); ForgotPassword's ClientMetadata as clientMetadata.
    assert event == envelope(env.pool, env.client_id, "UserMigration_ForgotPassword", "ann",
                             {"validationData": None, "clientMetadata": META},
                             {"userAttributes": None, "finalUserStatus": None, "messageAction": None,
                              "desiredDeliveryMediums": None, "forceAliasCreation": None, "enableSMSMFA": None})
    assert cognito.admin_get_user(UserPoolId=env.pool, Username="ann")["UserStatus"] == "RESET_REQUIRED"


# --- PreSignUp's autoVerifyPhone; a migrated user's devices -----------------------------------------


def test_pre_sign_up_can_verify_the_phone_number_and_confirm(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime,
                           PreSignUp=answer_with(autoConfirmUser=True, autoVerifyPhone=True))
    answer = cognito.sign_up(ClientId=env.client_id, Username="phil", Password=PASSWORD,
                             UserAttributes=[{"Name": "phone_number", "Value": "+14155550123"}])
    assert answer["UserConfirmed"] is True and "CodeDeliveryDetails" not in answer
    [event] = lambda_runtime.events(names["PreSignUp"])
    assert event == envelope(env.pool, env.client_id, "PreSignUp_SignUp", "phil",
                             {"userAttributes": {"phone_number": "+14155550123"}, "validationData": None},
                             {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False})
    user = cognito.admin_get_user(UserPoolId=env.pool, Username="phil")
    assert user["UserStatus"] == "CONFIRMED"
    assert user_attributes(user)["phone_number_verified"] == "true"
    assert "email_verified" not in user_attributes(user)
    assert outbox_messages(server, env.pool, "SIGN_UP", "phil") == []
    # Verifying a phone number the user does not have is the caller's error, and no user is made.
    with aws_error("InvalidParameterException", "phone_number"):
        cognito.sign_up(ClientId=env.client_id, Username="nophone", Password=PASSWORD,
                        UserAttributes=[{"Name": "email", "Value": "np@example.com"}])
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=env.pool, Username="nophone")


def test_a_migrated_user_gets_a_device_and_signs_in_with_it(cognito, server, lambda_runtime):
    name = unique("UserMigration")
    env = Devices(cognito, server, devices=ALWAYS,
                  LambdaConfig={"UserMigration": lambda_runtime.function(name, legacy_store())})
    first = tokens(env.password_auth("ann", password="legacy-pass"))
    assert len(lambda_runtime.events(name)) == 1
    # The migrating sign-in is a sign-in: a new device, which the client confirms.
    device, confirmed = env.confirm(first)
    assert confirmed["UserConfirmationNecessary"] is False
    assert env.admin_keys("ann") == [device.key]
    # Then the device's SRP, after the password's (pycognito, as a JS client would).
    result = tokens(env.srp("ann", device, password="legacy-pass").authenticate_user())
    assert env.access_claims(result["AccessToken"])["device_key"] == device.key
    assert "NewDeviceMetadata" not in result
    # And the password flow with the device: its challenges, then tokens bound to it.
    step = env.password_auth("ann", device_key=device.key, password="legacy-pass")
    result = tokens(env.answer_device_challenges(step, device, "ann"))
    assert env.access_claims(result["AccessToken"])["device_key"] == device.key
    # The user is the pool's own now: no migration again.
    assert len(lambda_runtime.events(name)) == 1


# --- InboundFederation is stored --------------------------------------------------------------------


def test_inbound_federation_is_stored_with_the_pool(cognito, lambda_runtime):
    first = f"arn:aws:lambda:{REGION}:000000000000:function:{unique('inbound')}"
    second = f"arn:aws:lambda:{REGION}:000000000000:function:{unique('inbound')}"
    pool = cognito.create_user_pool(PoolName="federating", LambdaConfig={
        "InboundFederation": {"LambdaArn": first, "LambdaVersion": "V1_0"}})["UserPool"]
    assert pool["LambdaConfig"] == {"InboundFederation": {"LambdaArn": first, "LambdaVersion": "V1_0"}}
    described = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["LambdaConfig"] == {"InboundFederation": {"LambdaArn": first, "LambdaVersion": "V1_0"}}
    cognito.update_user_pool(UserPoolId=pool["Id"], LambdaConfig={
        "PreSignUp": first, "InboundFederation": {"LambdaArn": second, "LambdaVersion": "V1_0"}})
    described = cognito.describe_user_pool(UserPoolId=pool["Id"])["UserPool"]
    assert described["LambdaConfig"] == {"PreSignUp": first,
                                         "InboundFederation": {"LambdaArn": second, "LambdaVersion": "V1_0"}}


# --- where the Lambda endpoint is configured --------------------------------------------------------


@pytest.mark.parametrize("where", ["environment", "config_file"])
def test_the_lambda_endpoint_from_the_environment_or_the_config_file_alone(
        server_factory, lambda_runtime, tmp_path, monkeypatch, where):
    monkeypatch.delenv("GATEHOUSE_LAMBDA_ENDPOINT", raising=False)
    monkeypatch.delenv("GATEHOUSE_CONFIG", raising=False)
    if where == "environment":
        srv = server_factory(env={"GATEHOUSE_LAMBDA_ENDPOINT": lambda_runtime.url})
    else:
        config = tmp_path / "gatehouse.toml"
        config.write_text(f'lambda_endpoint = "{lambda_runtime.url}"\n')
        srv = server_factory(extra_args=("--config", str(config)))
    cognito = srv.client()
    name = unique("PreSignUp")
    env = SignInEnv(cognito, srv, LambdaConfig={
        "PreSignUp": lambda_runtime.function(name, answer_with(autoConfirmUser=True))})
    answer = cognito.sign_up(ClientId=env.client_id, Username="lee", Password=PASSWORD)
    assert answer["UserConfirmed"] is True
    [event] = lambda_runtime.events(name)
    assert event == envelope(env.pool, env.client_id, "PreSignUp_SignUp", "lee",
                             {"userAttributes": {}, "validationData": None},
                             {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False})


# --- failures of the sign-in triggers: 4xx in Cognito's words, never a 500 --------------------------

FAULTS = {
    "raises": (refuse("Directory unavailable."), "UserLambdaValidationException",
               "{trigger} failed with error Directory unavailable.."),
    "not_json": (lambda event: Raw(b"<html>oops</html>"), "InvalidLambdaResponseException",
                 "Invalid lambda function output : Invalid JSON"),
    "wrong_shape": (lambda event: {**event, "response": ["not", "an", "object"]}, "InvalidLambdaResponseException",
                    "Unrecognizable lambda output"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("trigger", ["PreAuthentication", "PreTokenGeneration"])
def test_a_failing_sign_in_trigger_fails_the_srp_sign_in_in_cognitos_words(
        cognito, server, lambda_runtime, trigger, fault):
    handler, exception, message = FAULTS[fault]
    if trigger == "PreTokenGeneration":
        env, name, _ = token_pool(cognito, server, lambda_runtime, handler, "V2_0")
        if fault == "wrong_shape":
            handler = answer_with(claimsAndScopeOverrideDetails={"idTokenGeneration": "tenant=acme"})
            lambda_runtime.function(name, handler)
    else:
        env, names = pool_with(cognito, server, lambda_runtime, PreAuthentication=handler)
        env.user("alice", email="alice@example.com")
        name = names[trigger]
    srp = SrpSignIn(cognito, env.pool, env.client_id, "alice", PASSWORD)
    # PreAuthentication refuses SRP's first call; PreTokenGeneration its last.
    with aws_error(exception, status=400) as e:
        srp.sign_in()
    assert e.value.response["Error"]["Message"] == message.format(trigger=trigger)
    assert len(lambda_runtime.events(name)) == 1
    assert cognito.admin_get_user(UserPoolId=env.pool, Username="alice")["UserStatus"] == "CONFIRMED"


def test_a_pre_token_generation_that_answers_late_gives_no_tokens_and_no_500(cognito, server, lambda_runtime):
    def slow(event):
        time.sleep(5.5)
        return event
    env, name, _ = token_pool(cognito, server, lambda_runtime, slow, "V2_0")
    started = time.monotonic()
    with aws_error("UnexpectedLambdaException", status=400) as e:
        env.password_auth("alice")
    waited = time.monotonic() - started
    assert e.value.response["Error"]["Message"] == (
        "PreTokenGeneration invocation failed due to error Socket timeout while invoking Lambda function.")
    assert 4.5 < waited < 5.5 + 1, waited
    # The function is there again for the next sign-in, which succeeds.
    lambda_runtime.function(name, echo)
    assert "AccessToken" in tokens(env.password_auth("alice"))


@pytest.mark.parametrize("fault", ["not_json", "wrong_shape"])
def test_a_pre_token_generation_unreadable_at_the_token_endpoint_is_oauths_invalid_request(
        cognito, server, lambda_runtime, fault):
    output = b"not json" if fault == "not_json" else b'{"response": {"claimsAndScopeOverrideDetails": 7}}'
    pool, client_id, names = hosted_pool(cognito, lambda_runtime, lambda event: Raw(output),
                                         PreAuthentication=echo)
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=PASSWORD, Permanent=True)
    answer = redeem(server, client_id, *hosted_code(server, client_id))
    assert answer.status_code == 400, answer.text
    description = ("Invalid lambda function output : Invalid JSON" if fault == "not_json"
                   else "Unrecognizable lambda output")
    assert answer.json() == {"error": "invalid_request", "error_description": description}
    assert len(lambda_runtime.events(names["PreTokenGeneration"])) == 1
    assert [e["triggerSource"] for e in lambda_runtime.events(names["PreAuthentication"])] == [
        "PreAuthentication_Authentication"]
