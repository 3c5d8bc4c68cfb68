"""Lambda triggers through boto3 (docs/triggers.md): the shared server invokes the pools'
functions on the Lambda Invoke API the test serves (lambda_runtime.py), signed with SigV4 (checked
here with botocore's own signer). Each test asserts the exact event Cognito sends for its trigger
source (the shapes of AWS's documented examples; docs/design/lambda-triggers-cognito-events.md),
what the function's answer does, and Cognito's errors when the function raises, answers late or
answers something unreadable. No failure is a 500.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import LAMBDA_SIGNING
from lambda_runtime import Raw
from oauth_support import CALLBACK, Browser, oauth_client, oauth_pool, pkce, query_of
from support import (PASSWORD, PASSWORD_FLOWS, REGION, GatehouseServer, SignInEnv, new_app_client,
                     new_confirmed_user, outbox_messages, pool_change_settles, tokens, verify_jwt)
from test_devices import Devices

ALWAYS = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}


def error_of(e) -> tuple[str, str]:
    return e.response["Error"]["Code"], e.response["Error"]["Message"]


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def answer_with(**response):
    """A handler that answers the event with `response` members set."""
    def handler(event):
        event["response"].update(response)
        return event
    return handler


def refuse(message: str):
    def handler(event):
        raise RuntimeError(message)
    return handler


def echo(event):
    return event


def pool_with(cognito, server, lambda_runtime, devices=None, **handlers) -> tuple[SignInEnv, dict[str, str]]:
    """A SignInEnv whose pool names a function per trigger (PreSignUp=handler, ...); the
    functions' names, by trigger."""
    names = {trigger: unique(trigger) for trigger in handlers}
    config = {trigger: lambda_runtime.function(names[trigger], h) for trigger, h in handlers.items()}
    env = SignInEnv(cognito, server, devices=devices, LambdaConfig=config,
                    AutoVerifiedAttributes=["email"])
    return env, names


def test_pre_sign_up_gets_cognitos_event_and_can_confirm_and_verify(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime,
                           PreSignUp=answer_with(autoConfirmUser=True, autoVerifyEmail=True))
    answer = cognito.sign_up(ClientId=env.client_id, Username="ann", Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
                             ValidationData=[{"Name": "invite", "Value": "x-123"}],
                             ClientMetadata={"source": "web"})
    assert answer["UserConfirmed"] is True
    assert "CodeDeliveryDetails" not in answer
    [event] = lambda_runtime.events(names["PreSignUp"])
    assert event == {
        "version": "1",
        "triggerSource": "PreSignUp_SignUp",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "ann",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        "request": {
            "userAttributes": {"email": "ann@example.com"},
            "validationData": {"invite": "x-123"},
            "clientMetadata": {"source": "web"},
        },
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }
    user = cognito.admin_get_user(UserPoolId=env.pool, Username="ann")
    assert user["UserStatus"] == "CONFIRMED"
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email_verified"] == "true"
    # Confirmed by the trigger: no code was sent, and the user signs in at once.
    assert outbox_messages(server, env.pool, "SIGN_UP", "ann") == []
    assert "AccessToken" in tokens(env.password_auth("ann"))


def test_without_an_answer_pre_sign_up_leaves_the_usual_confirmation(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PreSignUp=echo)
    answer = cognito.sign_up(ClientId=env.client_id, Username="bob", Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": "bob@example.com"}])
    assert answer["UserConfirmed"] is False
    assert answer["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    [event] = lambda_runtime.events(names["PreSignUp"])
    # Nothing given: validationData is null and clientMetadata absent, as Cognito sends them.
    assert event["request"] == {"userAttributes": {"email": "bob@example.com"}, "validationData": None}


def test_a_pre_sign_up_that_raises_refuses_the_sign_up_in_cognitos_words(cognito, server, lambda_runtime):
    env, _ = pool_with(cognito, server, lambda_runtime,
                       PreSignUp=refuse("Registration from this domain is not allowed."))
    with pytest.raises(cognito.exceptions.UserLambdaValidationException) as e:
        cognito.sign_up(ClientId=env.client_id, Username="eve", Password=PASSWORD,
                        UserAttributes=[{"Name": "email", "Value": "eve@blocked.example"}])
    # Cognito adds its own full stop after the function's message.
    assert error_of(e.value) == ("UserLambdaValidationException",
                                  "PreSignUp failed with error Registration from this domain is not allowed..")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=env.pool, Username="eve")


@pytest.mark.parametrize("output, message", [
    (b"not json at all", "Invalid lambda function output : Invalid JSON"),
    (b"null", "Invalid lambda function output : Invalid JSON"),
    (b'{"response": {"autoConfirmUser": "yes"}}', "Unrecognizable lambda output"),
    (b'{"response": ["autoConfirmUser"]}', "Unrecognizable lambda output"),
])
def test_unreadable_answers_are_invalid_lambda_responses(cognito, server, lambda_runtime, output, message):
    env, _ = pool_with(cognito, server, lambda_runtime, PreSignUp=lambda event: Raw(output))
    with pytest.raises(cognito.exceptions.InvalidLambdaResponseException) as e:
        cognito.sign_up(ClientId=env.client_id, Username="mal", Password=PASSWORD,
                        UserAttributes=[{"Name": "email", "Value": "mal@example.com"}])
    assert error_of(e.value) == ("InvalidLambdaResponseException", message)


def test_a_function_that_is_missing_or_answers_late_is_an_unexpected_lambda_error(cognito, server, lambda_runtime):
    missing = SignInEnv(cognito, server, LambdaConfig={
        "PreSignUp": f"arn:aws:lambda:{REGION}:000000000000:function:{unique('nowhere')}"})
    with pytest.raises(cognito.exceptions.UnexpectedLambdaException) as e:
        cognito.sign_up(ClientId=missing.client_id, Username="kim", Password=PASSWORD)
    assert error_of(e.value) == ("UnexpectedLambdaException",
                                  "PreSignUp invocation failed due to error ResourceNotFoundException.")

    def slow(event):
        time.sleep(6)
        return event
    late, _ = pool_with(cognito, server, lambda_runtime, PreSignUp=slow)
    started = time.monotonic()
    with pytest.raises(cognito.exceptions.UnexpectedLambdaException) as e:
        cognito.sign_up(ClientId=late.client_id, Username="kim", Password=PASSWORD)
    waited = time.monotonic() - started
    assert error_of(e.value) == (
        "UnexpectedLambdaException",
        "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function.")
    assert 4.5 < waited < 6, waited
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=late.pool, Username="kim")


def test_admin_create_user_calls_pre_sign_up_without_a_client_and_ignores_its_flags(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PreSignUp=answer_with(autoConfirmUser=True))
    cognito.admin_create_user(UserPoolId=env.pool, Username="cat", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "cat@example.com"}],
                              ClientMetadata={"by": "admin"})
    [event] = lambda_runtime.events(names["PreSignUp"])
    assert event["triggerSource"] == "PreSignUp_AdminCreateUser"
    assert event["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"
    assert event["request"] == {"userAttributes": {"email": "cat@example.com"}, "validationData": None,
                                "clientMetadata": {"by": "admin"}}
    assert cognito.admin_get_user(UserPoolId=env.pool, Username="cat")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_post_confirmation_is_told_after_the_confirmation_which_stays_when_it_fails(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PostConfirmation=refuse("CRM is down."))
    cognito.sign_up(ClientId=env.client_id, Username="dan", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "dan@example.com"}])
    code = outbox_messages(server, env.pool, "SIGN_UP", "dan")[-1]["Code"]
    with pytest.raises(cognito.exceptions.UserLambdaValidationException) as e:
        cognito.confirm_sign_up(ClientId=env.client_id, Username="dan", ConfirmationCode=code,
                                ClientMetadata={"step": "confirm"})
    assert error_of(e.value) == ("UserLambdaValidationException", "PostConfirmation failed with error CRM is down..")
    user = cognito.admin_get_user(UserPoolId=env.pool, Username="dan")
    assert user["UserStatus"] == "CONFIRMED"
    sub = {a["Name"]: a["Value"] for a in user["UserAttributes"]}["sub"]
    [event] = lambda_runtime.events(names["PostConfirmation"])
    assert event == {
        "version": "1",
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "dan",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        "request": {
            "userAttributes": {"sub": sub, "email": "dan@example.com", "email_verified": "true",
                               "cognito:user_status": "CONFIRMED"},
            "clientMetadata": {"step": "confirm"},
        },
        "response": {},
    }


def test_post_confirmation_follows_a_password_reset(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PostConfirmation=echo)
    env.user("fay", email="fay@example.com", email_verified="true")
    cognito.forgot_password(ClientId=env.client_id, Username="fay")
    code = outbox_messages(server, env.pool, "FORGOT_PASSWORD", "fay")[-1]["Code"]
    cognito.confirm_forgot_password(ClientId=env.client_id, Username="fay", ConfirmationCode=code,
                                    Password="N3w-Passw0rd!")
    [event] = lambda_runtime.events(names["PostConfirmation"])
    assert event["triggerSource"] == "PostConfirmation_ConfirmForgotPassword"
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    # Admin confirmation: no client.
    cognito.sign_up(ClientId=env.client_id, Username="gil", Password=PASSWORD)
    cognito.admin_confirm_sign_up(UserPoolId=env.pool, Username="gil")
    event = lambda_runtime.events(names["PostConfirmation"])[-1]
    assert (event["triggerSource"], event["callerContext"]["clientId"]) == (
        "PostConfirmation_ConfirmSignUp", "CLIENT_ID_NOT_APPLICABLE")


def test_pre_authentication_refuses_a_passwordless_sign_in_before_its_code_is_sent(cognito, server, lambda_runtime):
    """USER_AUTH (docs/passwordless.md): the code is sent only once PreAuthentication let the
    sign-in through."""
    def gate(event):
        raise RuntimeError("SPIKE_LOCKED")
    env, names = pool_with(cognito, server, lambda_runtime, PreAuthentication=gate)
    cognito.update_user_pool(UserPoolId=env.pool, Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}},
        LambdaConfig=cognito.describe_user_pool(UserPoolId=env.pool)["UserPool"]["LambdaConfig"])
    client_id, _ = new_app_client(cognito, env.pool, ExplicitAuthFlows=["ALLOW_USER_AUTH"])
    env.user("ivy", email="ivy@example.com")
    with pytest.raises(cognito.exceptions.UserLambdaValidationException):
        cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={
            "USERNAME": "ivy", "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert outbox_messages(server, env.pool, "MFA", "ivy") == []
    [event] = lambda_runtime.events(names["PreAuthentication"])
    assert event["userName"] == "ivy" and event["triggerSource"] == "PreAuthentication_Authentication"


def test_pre_authentication_sees_the_sign_in_first_and_its_refusal_wins(cognito, server, lambda_runtime):
    refused = set()

    def gate(event):
        if event["userName"] in refused:
            raise RuntimeError("SPIKE_LOCKED")
        return event
    env, names = pool_with(cognito, server, lambda_runtime, PreAuthentication=gate)
    env.user("hal", email="hal@example.com")
    cognito.initiate_auth(ClientId=env.client_id, AuthFlow="USER_PASSWORD_AUTH",
                          AuthParameters={"USERNAME": "hal", "PASSWORD": PASSWORD},
                          ClientMetadata={"app": "mobile"})
    [event] = lambda_runtime.events(names["PreAuthentication"])
    sub = event["request"]["userAttributes"]["sub"]
    assert event == {
        "version": "1",
        "triggerSource": "PreAuthentication_Authentication",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "hal",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        "request": {
            "userAttributes": {"sub": sub, "email": "hal@example.com", "cognito:user_status": "CONFIRMED"},
            # InitiateAuth's ClientMetadata reaches PreAuthentication as validationData.
            "validationData": {"app": "mobile"},
        },
        "response": {},
    }
    # SRP's first call is the sign-in's start too.
    env.srp("hal").authenticate_user()
    assert len(lambda_runtime.events(names["PreAuthentication"])) == 2
    refused.add("hal")
    for password in (PASSWORD, "Wrong-passw0rd!"):
        with pytest.raises(cognito.exceptions.UserLambdaValidationException) as e:
            env.password_auth("hal", password=password)
        assert error_of(e.value) == ("UserLambdaValidationException",
                                      "PreAuthentication failed with error SPIKE_LOCKED.")
    with pytest.raises(cognito.exceptions.UserLambdaValidationException):
        env.srp("hal").authenticate_user()
    # A user who does not exist is not the function's to judge.
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        env.password_auth("nobody")
    assert {e["userName"] for e in lambda_runtime.events(names["PreAuthentication"])} == {"hal"}


def test_a_client_that_hides_users_shows_pre_authentication_its_strangers(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PreAuthentication=echo)
    env.user("ida", email="ida@example.com")
    hiding = new_app_client(cognito, env.pool, "hiding", PreventUserExistenceErrors="ENABLED")[0]
    for flow in ("USER_PASSWORD_AUTH", "USER_SRP_AUTH"):
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            if flow == "USER_PASSWORD_AUTH":
                env.password_auth("nobody", client_id=hiding)
            else:
                from pycognito.aws_srp import AWSSRP
                AWSSRP(username="nobody", password=PASSWORD, pool_id=env.pool, client_id=hiding,
                       client=cognito).authenticate_user()
    strangers = lambda_runtime.events(names["PreAuthentication"])
    assert len(strangers) == 2
    for event in strangers:
        assert (event["userName"], event["callerContext"]["clientId"]) == ("nobody", hiding)
        assert event["request"] == {"userAttributes": {}, "validationData": None, "userNotFound": True}
    # A user it knows: userNotFound is false on such a client, and absent on one that does not hide.
    env.password_auth("ida", client_id=hiding)
    assert lambda_runtime.events(names["PreAuthentication"])[-1]["request"]["userNotFound"] is False
    env.password_auth("ida")
    assert "userNotFound" not in lambda_runtime.events(names["PreAuthentication"])[-1]["request"]
    # Strangers on a client that tells them apart are refused before any trigger.
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        env.password_auth("nobody")
    assert len(lambda_runtime.events(names["PreAuthentication"])) == 4


def test_a_user_on_the_strangers_menu_is_still_a_user_to_pre_authentication(cognito, lambda_runtime):
    """USER_AUTH offers a user with nothing to sign in with the stranger's menu on a client that
    hides users; PreAuthentication, told of the code chosen there, is told who it really is."""
    name = unique("PreAuthentication")
    pool = cognito.create_user_pool(
        PoolName="codes-only", Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ["EMAIL_OTP", "SMS_OTP"]}},
        LambdaConfig={"PreAuthentication": lambda_runtime.function(name, echo)})["UserPool"]["Id"]
    hiding = new_app_client(cognito, pool, ExplicitAuthFlows=["ALLOW_USER_AUTH"],
                            PreventUserExistenceErrors="ENABLED")[0]
    created = new_confirmed_user(cognito, pool, "bare", PASSWORD, name="Bare")
    [sub] = [a["Value"] for a in created["UserAttributes"] if a["Name"] == "sub"]
    told = {}
    for who in ("bare", "nobody"):
        before = len(lambda_runtime.events(name))
        # The code named at once, then chosen from the menu: each tells the function once.
        named = cognito.initiate_auth(ClientId=hiding, AuthFlow="USER_AUTH",
                                      AuthParameters={"USERNAME": who, "PREFERRED_CHALLENGE": "EMAIL_OTP"})
        menu = cognito.initiate_auth(ClientId=hiding, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": who})
        chosen = cognito.respond_to_auth_challenge(ClientId=hiding, ChallengeName="SELECT_CHALLENGE",
                                                   Session=menu["Session"],
                                                   ChallengeResponses={"USERNAME": who, "ANSWER": "SMS_OTP"})
        assert (named["ChallengeName"], chosen["ChallengeName"]) == ("EMAIL_OTP", "SMS_OTP")
        told[who] = [(e["userName"], e["request"]) for e in lambda_runtime.events(name)[before:]]
    real = {"userAttributes": {"sub": sub, "name": "Bare", "cognito:user_status": "CONFIRMED"},
            "validationData": None, "userNotFound": False}
    assert told["bare"] == [("bare", real)] * 2, told["bare"]
    stranger = {"userAttributes": {}, "validationData": None, "userNotFound": True}
    assert told["nobody"] == [("nobody", stranger)] * 2, told["nobody"]


def test_post_authentication_is_told_of_a_new_device_and_can_stop_the_tokens(cognito, server, lambda_runtime):
    stop = []

    def after(event):
        if stop:
            raise RuntimeError("Audit log unavailable")
        return event
    env, names = pool_with(cognito, server, lambda_runtime, devices=ALWAYS, PostAuthentication=after)
    env.user("ivy")
    srp = env.srp("ivy")
    first = srp.authenticate_user(client_metadata={"screen": "login"})
    [event] = lambda_runtime.events(names["PostAuthentication"])
    assert event["triggerSource"] == "PostAuthentication_Authentication"
    assert event["request"]["newDeviceUsed"] is True
    # RespondToAuthChallenge's ClientMetadata reaches it as clientMetadata.
    assert event["request"]["clientMetadata"] == {"screen": "login"}
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"
    assert "NewDeviceMetadata" in first["AuthenticationResult"]
    stop.append(True)
    with pytest.raises(cognito.exceptions.UserLambdaValidationException) as e:
        env.password_auth("ivy")
    assert error_of(e.value) == ("UserLambdaValidationException",
                                  "PostAuthentication failed with error Audit log unavailable.")


def test_invocations_are_signed_for_lambda_with_sigv4(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, PreSignUp=echo)
    cognito.sign_up(ClientId=env.client_id, Username="jo", Password=PASSWORD)
    [call] = lambda_runtime.invocations(names["PreSignUp"])
    arn = f"arn:aws:lambda:{REGION}:000000000000:function:{names['PreSignUp']}"
    assert call.path == "/2015-03-31/functions/" + arn.replace(":", "%3A") + "/invocations"
    assert call.headers["x-amz-invocation-type"] == "RequestResponse"
    # botocore signs the same request at the same instant: the signatures agree.
    request = AWSRequest(method="POST", url=f"{lambda_runtime.url}{call.path}", data=call.body,
                         headers={"Content-Type": call.headers["content-type"],
                                  "X-Amz-Invocation-Type": "RequestResponse",
                                  "X-Amz-Date": call.headers["x-amz-date"]})
    request.context["timestamp"] = call.headers["x-amz-date"]
    credentials = Credentials(LAMBDA_SIGNING["AWS_ACCESS_KEY_ID"], LAMBDA_SIGNING["AWS_SECRET_ACCESS_KEY"])
    signer = SigV4Auth(credentials, "lambda", REGION)
    signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
    assert call.headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={LAMBDA_SIGNING['AWS_ACCESS_KEY_ID']}/{call.headers['x-amz-date'][:8]}"
        f"/{REGION}/lambda/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type, ")
    assert call.headers["authorization"].endswith(f"Signature={signature}")


def test_without_an_endpoint_a_named_trigger_fails_rather_than_being_skipped(tmp_path):
    server = GatehouseServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        cognito = server.client()
        env = SignInEnv(cognito, server, LambdaConfig={
            "PreSignUp": f"arn:aws:lambda:{REGION}:000000000000:function:anything"})
        with pytest.raises(cognito.exceptions.UnexpectedLambdaException) as e:
            cognito.sign_up(ClientId=env.client_id, Username="lee", Password=PASSWORD)
        assert error_of(e.value) == (
            "UnexpectedLambdaException",
            "PreSignUp invocation failed due to error no Lambda endpoint is configured (--lambda-endpoint).")
        with pytest.raises(cognito.exceptions.UserNotFoundException):
            cognito.admin_get_user(UserPoolId=env.pool, Username="lee")
    finally:
        server.stop()


# --- PreTokenGeneration --------------------------------------------------------------------------


def token_pool(cognito, server, lambda_runtime, handler, version: str | None, devices=None):
    """A Devices env whose pool runs `handler` as PreTokenGeneration (version None: the bare
    `PreTokenGeneration` ARN, V1_0), with a group `readers` (role, precedence 2) holding alice."""
    name = unique("tokens")
    arn = lambda_runtime.function(name, handler)
    config = ({"PreTokenGeneration": arn} if version is None
              else {"PreTokenGenerationConfig": {"LambdaArn": arn, "LambdaVersion": version}})
    env = Devices(cognito, server, devices=devices, LambdaConfig=config)
    env.user("alice", email="alice@example.com", email_verified="true")
    role = "arn:aws:iam::000000000000:role/readers"
    cognito.create_group(UserPoolId=env.pool, GroupName="readers", RoleArn=role, Precedence=2)
    cognito.admin_add_user_to_group(UserPoolId=env.pool, Username="alice", GroupName="readers")
    return env, name, role


def test_pre_token_generation_v1_changes_the_id_token_and_the_groups_but_never_protected_claims(
        cognito, server, lambda_runtime):
    def customise(event):
        event["response"]["claimsOverrideDetails"] = {
            "claimsToAddOrOverride": {"tenant": "acme", "sub": "forged", "cognito:username": "mallory",
                                      "email": "changed@example.com"},
            "claimsToSuppress": ["email", "iss"],
            "groupOverrideDetails": {"groupsToOverride": ["admins"], "iamRolesToOverride": [],
                                     "preferredRole": None},
        }
        return event
    env, name, role = token_pool(cognito, server, lambda_runtime, customise, None)
    result = tokens(env.password_auth("alice"))
    [event] = lambda_runtime.events(name)
    sub = event["request"]["userAttributes"]["sub"]
    assert event == {
        "version": "1",
        "triggerSource": "TokenGeneration_Authentication",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "alice",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        "request": {
            "userAttributes": {"sub": sub, "email": "alice@example.com", "email_verified": "true",
                               "cognito:user_status": "CONFIRMED"},
            "groupConfiguration": {"groupsToOverride": ["readers"], "iamRolesToOverride": [role],
                                   "preferredRole": role},
        },
        "response": {"claimsOverrideDetails": None},
    }
    id_claims = verify_jwt(env.issuer, result["IdToken"], "id", env.client_id)
    access = env.access_claims(result["AccessToken"])
    assert id_claims["tenant"] == "acme"
    # Added and suppressed: suppressed. Protected: untouched.
    assert "email" not in id_claims
    assert (id_claims["sub"], id_claims["cognito:username"], id_claims["iss"]) == (sub, "alice", env.issuer)
    assert id_claims["cognito:groups"] == ["admins"] and access["cognito:groups"] == ["admins"]
    # Version 1 leaves the access token's own claims alone.
    assert "tenant" not in access


def test_pre_token_generation_v2_edits_both_tokens_and_scopes_and_cannot_take_the_device(
        cognito, server, lambda_runtime):
    def customise(event):
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "idTokenGeneration": {"claimsToAddOrOverride": {"plan": {"tier": "gold"}, "seats": 5}},
            "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme", "device_key": "forged"},
                                      "claimsToSuppress": ["device_key", "username"],
                                      "scopesToAdd": ["api/read", "api/write"],
                                      "scopesToSuppress": ["api/write"]},
        }
        return event
    env, name, _ = token_pool(cognito, server, lambda_runtime, customise, "V2_0", devices=ALWAYS)
    first = tokens(env.sign_in("USER_SRP_AUTH"))
    device, _ = env.confirm(first)
    again = tokens(env.sign_in("USER_PASSWORD_AUTH", device=device))
    refreshed = tokens(cognito.initiate_auth(ClientId=env.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                             AuthParameters={"REFRESH_TOKEN": again["RefreshToken"],
                                                             "DEVICE_KEY": device.key}))
    events = lambda_runtime.events(name)
    assert [e["triggerSource"] for e in events] == [
        "TokenGeneration_Authentication", "TokenGeneration_AuthenticateDevice", "TokenGeneration_RefreshTokens"]
    assert {e["version"] for e in events} == {"2"}
    assert events[0]["request"]["scopes"] == ["aws.cognito.signin.user.admin"]
    assert events[0]["response"] == {"claimsAndScopeOverrideDetails": None}
    for result in (again, refreshed):
        access = env.access_claims(result["AccessToken"])
        id_claims = verify_jwt(env.issuer, result["IdToken"], "id", env.client_id)
        assert (id_claims["plan"], id_claims["seats"]) == ({"tier": "gold"}, 5)
        assert access["tenant"] == "acme"
        # The device the refresh token is bound to stays in the access token, whatever it asks.
        assert (access["device_key"], access["username"]) == (device.key, "alice")
        assert access["scope"].split() == ["aws.cognito.signin.user.admin", "api/read"]


def test_pre_token_generation_names_the_new_password_challenge(cognito, server, lambda_runtime):
    env, name, _ = token_pool(cognito, server, lambda_runtime, echo, "V2_0")
    cognito.admin_create_user(UserPoolId=env.pool, Username="ned", TemporaryPassword="Temp-Passw0rd!",
                              MessageAction="SUPPRESS")
    step = env.password_auth("ned", password="Temp-Passw0rd!")
    assert step["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    tokens(env.respond("NEW_PASSWORD_REQUIRED", {"USERNAME": "ned", "NEW_PASSWORD": "N3w-Passw0rd!"},
                       step["Session"]))
    assert lambda_runtime.events(name)[-1]["triggerSource"] == "TokenGeneration_NewPasswordChallenge"


def test_a_pre_token_generation_that_raises_gives_no_tokens(cognito, server, lambda_runtime):
    env, _, _ = token_pool(cognito, server, lambda_runtime, refuse("Tenant suspended."), "V2_0")
    with pytest.raises(cognito.exceptions.UserLambdaValidationException) as e:
        env.password_auth("alice")
    assert error_of(e.value) == ("UserLambdaValidationException",
                                 "PreTokenGeneration failed with error Tenant suspended..")


@pytest.mark.parametrize("version", ["V2_0", "V3_0"])
def test_pre_token_generation_v3_customises_machine_tokens_and_v2_is_not_asked(
        cognito, server, lambda_runtime, version):
    def customise(event):
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme", "client_id": "forged"},
                                      "scopesToAdd": ["https://api.example/extra"],
                                      "scopesToSuppress": ["https://api.example/write"]},
            "idTokenGeneration": {"claimsToAddOrOverride": {"ignored": True}},
        }
        return event
    name = unique("PreTokenGeneration")
    arn = lambda_runtime.function(name, customise)
    pool = oauth_pool(cognito, domain=unique("m2m"), LambdaConfig={
        "PreTokenGenerationConfig": {"LambdaArn": arn, "LambdaVersion": version}})
    cognito.create_resource_server(UserPoolId=pool, Identifier="https://api.example", Name="api",
                                   Scopes=[{"ScopeName": "read", "ScopeDescription": "read"},
                                           {"ScopeName": "write", "ScopeDescription": "write"}])
    client_id, secret = oauth_client(cognito, pool, secret=True, flows=("client_credentials",),
                                     scopes=("https://api.example/read", "https://api.example/write"),
                                     CallbackURLs=[], LogoutURLs=[])
    r = requests.post(f"{server.url}/oauth2/token", auth=(client_id, secret), data={
        "grant_type": "client_credentials", "aws_client_metadata": '{"on_behalf_of": "ann"}'})
    assert r.status_code == 200, r.text
    access = verify_jwt(f"{server.url}/{pool}", r.json()["access_token"], "access", client_id)
    if version == "V2_0":
        # Only version 3 functions are told of machine-to-machine tokens, as on Cognito.
        assert lambda_runtime.events(name) == []
        assert "tenant" not in access
        return
    [event] = lambda_runtime.events(name)
    assert event == {
        "version": "3",
        "triggerSource": "TokenGeneration_ClientCredentials",
        "region": REGION,
        "userPoolId": pool,
        "userName": "",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "request": {
            "userAttributes": {},
            "groupConfiguration": {"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": None},
            "scopes": ["https://api.example/read", "https://api.example/write"],
            "clientMetadata": {"on_behalf_of": "ann"},
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }
    assert access["tenant"] == "acme"
    assert access["client_id"] == client_id and access["sub"] == client_id
    assert access["scope"].split() == ["https://api.example/read", "https://api.example/extra"]
    # ClientMetadata that is not a map of strings is the caller's error, not the function's.
    r = requests.post(f"{server.url}/oauth2/token", auth=(client_id, secret), data={
        "grant_type": "client_credentials", "aws_client_metadata": "[1, 2]"})
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    # A function that raises gives no token.
    lambda_runtime.function(name, refuse("No machines today."))
    r = requests.post(f"{server.url}/oauth2/token", auth=(client_id, secret),
                      data={"grant_type": "client_credentials"})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "invalid_request",
                        "error_description": "PreTokenGeneration failed with error No machines today.."}


def test_managed_login_fires_the_sign_in_triggers_and_pre_token_generation_once_as_hosted_auth(
        cognito, server, lambda_runtime):
    names = {t: unique(t) for t in ("PreAuthentication", "PostAuthentication", "PreTokenGeneration")}

    suspended = []

    def customise(event):
        if suspended:
            raise RuntimeError("Tenant suspended.")
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "acme"}}}
        return event
    handlers = {"PreAuthentication": echo, "PostAuthentication": echo, "PreTokenGeneration": customise}
    arns = {t: lambda_runtime.function(names[t], h) for t, h in handlers.items()}
    pool = oauth_pool(cognito, domain=unique("hosted"), LambdaConfig={
        "PreAuthentication": arns["PreAuthentication"], "PostAuthentication": arns["PostAuthentication"],
        "PreTokenGenerationConfig": {"LambdaArn": arns["PreTokenGeneration"], "LambdaVersion": "V2_0"}})
    client_id, _ = oauth_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com")
    browser = Browser(server.url)
    verifier, challenge = pkce()
    browser.sign_in(client_id, password=PASSWORD, scope="openid email", code_challenge=challenge,
                    code_challenge_method="S256")
    code = query_of(browser.redirect)["code"]
    # The sign-in itself mints nothing anyone receives: no token trigger yet.
    assert lambda_runtime.events(names["PreTokenGeneration"]) == []
    assert [e["triggerSource"] for e in lambda_runtime.events(names["PreAuthentication"])] == [
        "PreAuthentication_Authentication"]
    assert len(lambda_runtime.events(names["PostAuthentication"])) == 1
    answer = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK, "client_id": client_id,
        "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    [event] = lambda_runtime.events(names["PreTokenGeneration"])
    assert (event["triggerSource"], event["version"]) == ("TokenGeneration_HostedAuth", "2")
    assert event["request"]["scopes"] == ["openid", "email"]
    access = verify_jwt(f"{server.url}/{pool}", answer.json()["access_token"], "access")
    assert access["tenant"] == "acme"
    # Refused at the token endpoint: OAuth's invalid_request with Cognito's words, not a 500.
    suspended.append(True)
    answer = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "refresh_token", "refresh_token": answer.json()["refresh_token"], "client_id": client_id})
    assert answer.status_code == 400, answer.text
    assert answer.json() == {"error": "invalid_request",
                             "error_description": "PreTokenGeneration failed with error Tenant suspended.."}


# --- CUSTOM_AUTH: DefineAuthChallenge, CreateAuthChallenge, VerifyAuthChallengeResponse ------------


def passwordless(codes: list[str]):
    """The three challenge triggers of a passwordless sign-in by a code: a challenge until one is
    answered right, tokens then, failure after three wrong answers. Create hands out the next
    code of `codes`."""
    def define(event):
        rounds = event["request"]["session"]
        r = event["response"]
        if rounds and rounds[-1]["challengeName"] == "CUSTOM_CHALLENGE" and rounds[-1]["challengeResult"]:
            r["issueTokens"] = True
        elif sum(1 for x in rounds if x["challengeName"] == "CUSTOM_CHALLENGE") >= 3:
            r["failAuthentication"] = True
        elif rounds and rounds[0]["challengeName"] == "SRP_A" and len(rounds) == 1:
            r["challengeName"] = "PASSWORD_VERIFIER"
        else:
            r["challengeName"] = "CUSTOM_CHALLENGE"
        return event

    def create(event):
        code = codes.pop(0)
        event["response"]["publicChallengeParameters"] = {"delivery": "EMAIL", "hint": "a***@example.com"}
        event["response"]["privateChallengeParameters"] = {"code": code}
        event["response"]["challengeMetadata"] = f"CODE-{code}"
        return event

    def verify(event):
        expected = event["request"]["privateChallengeParameters"]["code"]
        event["response"]["answerCorrect"] = event["request"]["challengeAnswer"] == expected
        return event
    return {"DefineAuthChallenge": define, "CreateAuthChallenge": create, "VerifyAuthChallengeResponse": verify}


def custom_pool(cognito, server, lambda_runtime, codes, devices=None):
    env, names = pool_with(cognito, server, lambda_runtime, devices=devices, **passwordless(codes))
    env.client_id = new_app_client(cognito, env.pool, "custom",
                                   ExplicitAuthFlows=[*PASSWORD_FLOWS, "ALLOW_CUSTOM_AUTH"])[0]
    env.user("alice", email="alice@example.com")
    return env, names


def start_custom(env, **params):
    return env.cognito.initiate_auth(ClientId=env.client_id, AuthFlow="CUSTOM_AUTH",
                                     AuthParameters={"USERNAME": "alice", **params})


def test_custom_auth_runs_define_create_verify_until_define_issues_tokens(cognito, server, lambda_runtime):
    env, names = custom_pool(cognito, server, lambda_runtime, ["111111", "222222"])
    first = start_custom(env)
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"delivery": "EMAIL", "hint": "a***@example.com", "USERNAME": "alice"}
    wrong = env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "000000"}, first["Session"])
    # A wrong answer: Define asks again, Create makes a new challenge, with a new Session.
    assert wrong["ChallengeName"] == "CUSTOM_CHALLENGE" and wrong["Session"] != first["Session"]
    # The first challenge was answered: its Session is spent.
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "111111"}, first["Session"])
    result = tokens(env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "222222"}, wrong["Session"],
                                ))
    assert env.access_claims(result["AccessToken"])["username"] == "alice"
    defines = lambda_runtime.events(names["DefineAuthChallenge"])
    assert [e["request"]["session"] for e in defines] == [
        [],
        [{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "CODE-111111"}],
        [{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": False, "challengeMetadata": "CODE-111111"},
         {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": True, "challengeMetadata": "CODE-222222"}],
    ]
    assert defines[0]["triggerSource"] == "DefineAuthChallenge_Authentication"
    assert defines[0]["response"] == {"challengeName": None, "issueTokens": False, "failAuthentication": False}
    create = lambda_runtime.events(names["CreateAuthChallenge"])[1]
    assert create["triggerSource"] == "CreateAuthChallenge_Authentication"
    assert create["request"]["challengeName"] == "CUSTOM_CHALLENGE"
    assert create["request"]["session"] == defines[1]["request"]["session"]
    verify = lambda_runtime.events(names["VerifyAuthChallengeResponse"])[-1]
    assert verify["triggerSource"] == "VerifyAuthChallengeResponse_Authentication"
    assert (verify["request"]["privateChallengeParameters"], verify["request"]["challengeAnswer"]) == (
        {"code": "222222"}, "222222")
    assert verify["response"] == {"answerCorrect": False}


def test_a_client_that_hides_users_puts_a_strangers_custom_challenges_as_a_users(cognito, server, lambda_runtime):
    env, names = custom_pool(cognito, server, lambda_runtime, ["111111", "222222", "333333"])
    hiding = new_app_client(cognito, env.pool, "hiding", PreventUserExistenceErrors="ENABLED",
                            ExplicitAuthFlows=[*PASSWORD_FLOWS, "ALLOW_CUSTOM_AUTH"])[0]

    def start(name):
        return cognito.initiate_auth(ClientId=hiding, AuthFlow="CUSTOM_AUTH", AuthParameters={"USERNAME": name})
    # A stranger gets a challenge as a user does: nothing tells them apart.
    first = start("nobody")
    assert first["ChallengeName"] == "CUSTOM_CHALLENGE"
    assert first["ChallengeParameters"] == {"delivery": "EMAIL", "hint": "a***@example.com", "USERNAME": "nobody"}
    again = env.respond("CUSTOM_CHALLENGE", {"USERNAME": "nobody", "ANSWER": "000000"}, first["Session"],
                        client_id=hiding)
    assert again["ChallengeName"] == "CUSTOM_CHALLENGE"
    # Even the right answer to the function's challenge gives a stranger no tokens.
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as e:
        env.respond("CUSTOM_CHALLENGE", {"USERNAME": "nobody", "ANSWER": "222222"}, again["Session"],
                    client_id=hiding)
    assert error_of(e.value) == ("NotAuthorizedException", "Incorrect username or password.")
    # Another name cannot answer a stranger's challenge.
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "222222"}, again["Session"],
                    client_id=hiding)
    for trigger in ("DefineAuthChallenge", "CreateAuthChallenge", "VerifyAuthChallengeResponse"):
        for event in lambda_runtime.events(names[trigger]):
            assert (event["userName"], event["request"]["userAttributes"], event["request"]["userNotFound"]) == (
                "nobody", {}, True), trigger
    assert len(lambda_runtime.events(names["DefineAuthChallenge"])) == 3
    # A user the client knows: userNotFound is false, and the sign-in ends in tokens.
    known = start("alice")
    assert tokens(env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "333333"}, known["Session"],
                              client_id=hiding))
    assert lambda_runtime.events(names["DefineAuthChallenge"])[-1]["request"]["userNotFound"] is False
    # A client that does not hide users tells a stranger at once, and never asks the functions.
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        start_custom(env, USERNAME="nobody")
    assert len(lambda_runtime.events(names["DefineAuthChallenge"])) == 5


def test_custom_auth_fails_when_define_says_so_and_needs_all_three_triggers(cognito, server, lambda_runtime):
    env, _ = custom_pool(cognito, server, lambda_runtime, ["1", "2", "3"])
    step = start_custom(env)
    for _ in range(2):
        step = env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "no"}, step["Session"])
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as e:
        env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "no"}, step["Session"])
    assert error_of(e.value) == ("NotAuthorizedException", "Incorrect username or password.")
    partial, _ = pool_with(cognito, server, lambda_runtime, DefineAuthChallenge=echo)
    partial.client_id = new_app_client(cognito, partial.pool, "custom", ExplicitAuthFlows=["ALLOW_CUSTOM_AUTH"])[0]
    partial.user("alice")
    with pytest.raises(cognito.exceptions.InvalidParameterException) as e:
        start_custom(partial)
    assert error_of(e.value) == ("InvalidParameterException",
                                 "Custom auth lambda trigger is not configured for the user pool.")


def test_custom_auth_after_srp_checks_the_password_first(cognito, server, lambda_runtime):
    env, names = custom_pool(cognito, server, lambda_runtime, ["424242"])
    srp = env.srp("alice")
    step = start_custom(env, SRP_A=f"{srp.large_a_value:x}", CHALLENGE_NAME="SRP_A")
    assert step["ChallengeName"] == "PASSWORD_VERIFIER"
    assert set(step["ChallengeParameters"]) == {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}
    claim = srp.process_challenge(step["ChallengeParameters"], {"USERNAME": "alice"})
    step = env.respond("PASSWORD_VERIFIER", claim, step.get("Session"))
    assert step["ChallengeName"] == "CUSTOM_CHALLENGE"
    tokens(env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "424242"}, step["Session"]))
    assert [[r["challengeName"] for r in e["request"]["session"]]
            for e in lambda_runtime.events(names["DefineAuthChallenge"])] == [
        ["SRP_A"], ["SRP_A", "PASSWORD_VERIFIER"], ["SRP_A", "PASSWORD_VERIFIER", "CUSTOM_CHALLENGE"]]
    # A wrong password never reaches the custom challenge.
    bad = env.srp("alice", password="Wrong-passw0rd!")
    step = start_custom(env, SRP_A=f"{bad.large_a_value:x}", CHALLENGE_NAME="SRP_A")
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        env.respond("PASSWORD_VERIFIER", bad.process_challenge(step["ChallengeParameters"], {"USERNAME": "alice"}))


def test_one_custom_challenge_answered_at_once_many_times_goes_on_once(cognito, server, lambda_runtime):
    env, _ = custom_pool(cognito, server, lambda_runtime, ["777777"])
    step = start_custom(env)

    def answer(_):
        try:
            return "tokens" if "AuthenticationResult" in env.respond(
                "CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "777777"}, step["Session"]) else "other"
        except cognito.exceptions.NotAuthorizedException:
            return "refused"
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(answer, range(8)))
    assert sorted(outcomes) == ["refused"] * 7 + ["tokens"], outcomes


def test_custom_auth_keeps_devices_whole(cognito, server, lambda_runtime):
    env, _ = custom_pool(cognito, server, lambda_runtime, ["1", "2"], devices=ALWAYS)
    step = start_custom(env)
    first = tokens(env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "1"}, step["Session"]))
    device, _ = Devices.confirm(env, first)
    # Presenting the remembered device: its SRP follows the custom challenge, as after a password.
    step = start_custom(env, DEVICE_KEY=device.key)
    answer = env.respond("CUSTOM_CHALLENGE", {"USERNAME": "alice", "ANSWER": "2"}, step["Session"])
    result = tokens(Devices.answer_device_challenges(env, answer, device))
    assert env.access_claims(result["AccessToken"])["device_key"] == device.key
    assert "NewDeviceMetadata" not in result


# --- UserMigration --------------------------------------------------------------------------------

LEGACY = {"ann": ("legacy-pass", {"email": "ann@legacy.example", "email_verified": "true", "name": "Ann"})}


def legacy_store(status: str = "CONFIRMED"):
    """UserMigration over LEGACY: a user it knows (with the right password, for a sign-in)."""
    def migrate(event):
        known = LEGACY.get(event["userName"])
        if known is None:
            return event
        if event["triggerSource"] == "UserMigration_Authentication" and event["request"]["password"] != known[0]:
            raise RuntimeError("Bad password")
        event["response"].update(userAttributes=dict(known[1]), finalUserStatus=status, messageAction="SUPPRESS")
        return event
    return migrate


def test_a_user_unknown_to_the_pool_is_migrated_at_sign_in_then_signs_in_with_srp(cognito, server, lambda_runtime):
    env, names = pool_with(cognito, server, lambda_runtime, UserMigration=legacy_store())
    # The legacy password need not meet the pool's policy.
    answer = cognito.initiate_auth(ClientId=env.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                   AuthParameters={"USERNAME": "ann", "PASSWORD": "legacy-pass"},
                                   ClientMetadata={"origin": "web"})
    assert "AccessToken" in tokens(answer)
    [event] = lambda_runtime.events(names["UserMigration"])
    assert event == {
        "version": "1",
        "triggerSource": "UserMigration_Authentication",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "ann",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        "request": {"password": "legacy-pass", "validationData": {"origin": "web"}},
        "response": {"userAttributes": None, "finalUserStatus": None, "messageAction": None,
                     "desiredDeliveryMediums": None, "forceAliasCreation": None, "enableSMSMFA": None},
    }
    user = cognito.admin_get_user(UserPoolId=env.pool, Username="ann")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "CONFIRMED"
    assert (attributes["email"], attributes["email_verified"], attributes["name"]) == (
        "ann@legacy.example", "true", "Ann")
    assert attributes["sub"]
    # From now on the user is the pool's own: SRP signs in with the same password, no migration.
    assert "AccessToken" in env.srp("ann", password="legacy-pass").authenticate_user()["AuthenticationResult"]
    assert len(lambda_runtime.events(names["UserMigration"])) == 1


def test_a_migration_that_fails_or_knows_no_one_creates_no_user(cognito, server, lambda_runtime):
    env, _ = pool_with(cognito, server, lambda_runtime, UserMigration=legacy_store())
    with pytest.raises(cognito.exceptions.UserNotFoundException) as e:
        env.password_auth("ann", password="wrong-pass")
    assert error_of(e.value) == ("UserNotFoundException",
                                 f"Exception migrating user in app client {env.client_id}")
    with pytest.raises(cognito.exceptions.UserNotFoundException) as e:
        env.password_auth("stranger", password="whatever-1A!")
    assert error_of(e.value) == ("UserNotFoundException", "User does not exist.")
    for name in ("ann", "stranger"):
        with pytest.raises(cognito.exceptions.UserNotFoundException):
            cognito.admin_get_user(UserPoolId=env.pool, Username=name)


def test_a_user_migrated_to_reset_required_must_reset_and_forgot_password_migrates_too(
        cognito, server, lambda_runtime):
    env, _ = pool_with(cognito, server, lambda_runtime, UserMigration=legacy_store("RESET_REQUIRED"))
    with pytest.raises(cognito.exceptions.PasswordResetRequiredException):
        env.password_auth("ann", password="legacy-pass")
    assert cognito.admin_get_user(UserPoolId=env.pool, Username="ann")["UserStatus"] == "RESET_REQUIRED"
    # ForgotPassword of a name no user has: migrated (RESET_REQUIRED), the code goes to its email.
    other, names = pool_with(cognito, server, lambda_runtime, UserMigration=legacy_store())
    sent = cognito.forgot_password(ClientId=other.client_id, Username="ann")
    assert sent["CodeDeliveryDetails"]["DeliveryMedium"] == "EMAIL"
    [event] = lambda_runtime.events(names["UserMigration"])
    assert event["triggerSource"] == "UserMigration_ForgotPassword" and "password" not in event["request"]
    code = outbox_messages(server, other.pool, "FORGOT_PASSWORD", "ann")[-1]["Code"]
    cognito.confirm_forgot_password(ClientId=other.client_id, Username="ann", ConfirmationCode=code,
                                    Password="N3w-Passw0rd!")
    assert "AccessToken" in tokens(other.password_auth("ann", password="N3w-Passw0rd!"))


def test_a_migration_can_turn_sms_mfa_on_for_a_user_with_a_phone(cognito, server, lambda_runtime):
    def migrate(event):
        phone = {"phone_number": "+14155550100"} if event["userName"] == "ann" else {}
        event["response"].update(userAttributes={"email": f"{event['userName']}@legacy.example", **phone},
                                 enableSMSMFA=True, messageAction="SUPPRESS", desiredDeliveryMediums=["EMAIL"])
        return event
    env, _ = pool_with(cognito, server, lambda_runtime, UserMigration=migrate)
    sms = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms-role", "ExternalId": "ext-123"}
    cognito.set_user_pool_mfa_config(UserPoolId=env.pool, MfaConfiguration="OPTIONAL",
                                     SmsMfaConfiguration={"SmsConfiguration": sms})
    pool_change_settles(server)
    step = env.password_auth("ann", password="legacy-pass")
    assert step["ChallengeName"] == "SMS_MFA", step
    user = cognito.admin_get_user(UserPoolId=env.pool, Username="ann")
    assert user["UserMFASettingList"] == ["SMS_MFA"]
    # SMS MFA for a user without a phone number cannot be: no user, Cognito's migration error.
    with pytest.raises(cognito.exceptions.UserNotFoundException) as e:
        env.password_auth("bob", password="legacy-pass")
    assert error_of(e.value) == ("UserNotFoundException",
                                 f"Exception migrating user in app client {env.client_id}")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=env.pool, Username="bob")


@pytest.mark.parametrize("answer", [{"messageAction": "SEND"}, {"desiredDeliveryMediums": ["PIGEON"]},
                                    {"enableSMSMFA": "yes"}])
def test_a_migration_answer_out_of_cognitos_values_is_refused(cognito, server, lambda_runtime, answer):
    def migrate(event):
        event["response"].update(userAttributes={"email": "ann@legacy.example"}, **answer)
        return event
    env, _ = pool_with(cognito, server, lambda_runtime, UserMigration=migrate)
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        env.password_auth("ann", password="legacy-pass")
    with pytest.raises(cognito.exceptions.InvalidLambdaResponseException):
        cognito.forgot_password(ClientId=env.client_id, Username="ann")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        cognito.admin_get_user(UserPoolId=env.pool, Username="ann")


def test_many_first_sign_ins_at_once_migrate_one_user(cognito, server, lambda_runtime):
    env, _ = pool_with(cognito, server, lambda_runtime, UserMigration=legacy_store())

    def sign_in(_):
        return "AccessToken" in tokens(env.password_auth("ann", password="legacy-pass"))
    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(sign_in, range(8)))
    listed = cognito.list_users(UserPoolId=env.pool)["Users"]
    assert [u["Username"] for u in listed] == ["ann"]


# --- CustomMessage --------------------------------------------------------------------------------


def test_custom_message_words_the_sign_up_code_and_never_sees_it(cognito, server, lambda_runtime):
    def word(event):
        code = event["request"]["codeParameter"]
        event["response"]["emailSubject"] = "Welcome to Acme"
        event["response"]["emailMessage"] = f"Hello {event['request']['userAttributes']['name']}, your code is {code}."
        return event
    env, names = pool_with(cognito, server, lambda_runtime, CustomMessage=word)
    cognito.sign_up(ClientId=env.client_id, Username="ola", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "ola@example.com"}, {"Name": "name", "Value": "Ola"}],
                    ClientMetadata={"lang": "en"})
    [message] = outbox_messages(server, env.pool, "SIGN_UP", "ola")
    assert message["Subject"] == "Welcome to Acme"
    assert message["Body"] == f"Hello Ola, your code is {message['Code']}."
    [event] = lambda_runtime.events(names["CustomMessage"])
    sub = event["request"]["userAttributes"]["sub"]
    assert event == {
        "version": "1",
        "triggerSource": "CustomMessage_SignUp",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "ola",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        "request": {
            "userAttributes": {"sub": sub, "email": "ola@example.com", "name": "Ola",
                               "cognito:user_status": "UNCONFIRMED"},
            "codeParameter": "{####}",
            "linkParameter": "{##Click Here##}",
            "usernameParameter": None,
            "clientMetadata": {"lang": "en"},
        },
        "response": {"smsMessage": None, "emailMessage": None, "emailSubject": None},
    }
    assert message["Code"] not in str(event)
    cognito.resend_confirmation_code(ClientId=env.client_id, Username="ola")
    assert lambda_runtime.events(names["CustomMessage"])[-1]["triggerSource"] == "CustomMessage_ResendCode"


def test_an_invitation_needs_both_placeholders_or_the_pools_own_message_goes(cognito, server, lambda_runtime):
    wordings = ["Join us, {username}: your password is {####}", "Your password is {####}"]

    def word(event):
        event["response"]["emailMessage"] = wordings.pop(0)
        return event
    env, names = pool_with(cognito, server, lambda_runtime, CustomMessage=word)
    for name in ("pia", "quinn"):
        cognito.admin_create_user(UserPoolId=env.pool, Username=name, TemporaryPassword="Temp-Passw0rd!",
                                  UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}],
                                  DesiredDeliveryMediums=["EMAIL"])
    [pia] = outbox_messages(server, env.pool, "INVITATION", "pia")
    assert pia["Body"] == "Join us, pia: your password is Temp-Passw0rd!"
    # No {username}: ignored, the pool's own invitation goes.
    [quinn] = outbox_messages(server, env.pool, "INVITATION", "quinn")
    assert quinn["Body"] == "Your username is quinn and temporary password is Temp-Passw0rd!."
    event = lambda_runtime.events(names["CustomMessage"])[0]
    assert (event["triggerSource"], event["callerContext"]["clientId"], event["request"]["usernameParameter"]) == (
        "CustomMessage_AdminCreateUser", "CLIENT_ID_NOT_APPLICABLE", "{username}")


# --- Custom senders -------------------------------------------------------------------------------


def sender_pool(cognito, server, lambda_runtime, email=None, sms=None, **handlers):
    """A pool whose CustomEmailSender / CustomSMSSender are `email` / `sms`; the functions' names."""
    names, config = {}, {"KMSKeyID": f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}
    for trigger, handler in (("CustomEmailSender", email), ("CustomSMSSender", sms)):
        if handler is not None:
            names[trigger] = unique(trigger)
            config[trigger] = {"LambdaArn": lambda_runtime.function(names[trigger], handler), "LambdaVersion": "V1_0"}
    for trigger, handler in handlers.items():
        names[trigger] = unique(trigger)
        config[trigger] = lambda_runtime.function(names[trigger], handler)
    env = SignInEnv(cognito, server, LambdaConfig=config, AutoVerifiedAttributes=["email"])
    return env, names


def wait_for(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_a_custom_email_sender_takes_the_code_in_the_background_instead_of_the_server(
        cognito, server, lambda_runtime):
    took = []

    def slow_sender(event):
        time.sleep(2)
        took.append(event)
        return {"ignored": True}
    env, names = sender_pool(cognito, server, lambda_runtime, email=slow_sender,
                             CustomMessage=refuse("CustomMessage is not asked when a sender is"))
    started = time.monotonic()
    answer = cognito.sign_up(ClientId=env.client_id, Username="ann", Password=PASSWORD,
                             UserAttributes=[{"Name": "email", "Value": "ann@example.com"}],
                             ClientMetadata={"lang": "fr"})
    # The operation does not wait for the function.
    assert time.monotonic() - started < 1.5
    assert answer["CodeDeliveryDetails"] == {"Destination": "a***@e***", "DeliveryMedium": "EMAIL",
                                             "AttributeName": "email"}
    assert wait_for(lambda: took)
    [event] = took
    [message] = outbox_messages(server, env.pool, "SIGN_UP", "ann")
    sub = event["request"]["userAttributes"]["sub"]
    assert event == {
        "version": "1",
        "triggerSource": "CustomEmailSender_SignUp",
        "region": REGION,
        "userPoolId": env.pool,
        "userName": "ann",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": env.client_id},
        # No `response`: a sender's answer is not read. The code is in plain text (Gatehouse's
        # local form of Cognito's KMS-encrypted code).
        "request": {"type": "customEmailSenderRequestV1", "code": message["Code"],
                    "clientMetadata": {"lang": "fr"},
                    "userAttributes": {"sub": sub, "email": "ann@example.com",
                                       "cognito:user_status": "UNCONFIRMED"}},
    }
    assert wait_for(lambda: outbox_messages(server, env.pool, "SIGN_UP", "ann")[0].get("Delivery") == "DELIVERED")
    assert lambda_runtime.events(names["CustomMessage"]) == []
    cognito.confirm_sign_up(ClientId=env.client_id, Username="ann", ConfirmationCode=event["request"]["code"])
    # A password reset goes the same way, as its own trigger source; no ClientMetadata is null.
    cognito.forgot_password(ClientId=env.client_id, Username="ann")
    assert wait_for(lambda: len(took) == 2)
    assert took[1]["triggerSource"] == "CustomEmailSender_ForgotPassword"
    assert took[1]["request"]["clientMetadata"] is None
    assert took[1]["request"]["code"] == outbox_messages(server, env.pool, "FORGOT_PASSWORD", "ann")[-1]["Code"]


def test_a_custom_sender_that_fails_never_fails_the_operation_and_the_outbox_says_so(
        cognito, server, lambda_runtime):
    env, names = sender_pool(cognito, server, lambda_runtime, email=refuse("Provider down."))
    answer = cognito.admin_create_user(UserPoolId=env.pool, Username="bob", TemporaryPassword="Temp-Passw0rd!",
                                       UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
                                       DesiredDeliveryMediums=["EMAIL"])
    assert answer["User"]["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    # Tried three times (Lambda retries an asynchronous call twice), then recorded as failed.
    assert wait_for(lambda: outbox_messages(server, env.pool, "INVITATION", "bob")[0].get("Delivery") == "FAILED")
    events = lambda_runtime.events(names["CustomEmailSender"])
    assert len(events) == 3
    assert {e["triggerSource"] for e in events} == {"CustomEmailSender_AdminCreateUser"}
    assert events[0]["request"]["code"] == "Temp-Passw0rd!"
    assert events[0]["callerContext"]["clientId"] == "CLIENT_ID_NOT_APPLICABLE"


def test_a_custom_sms_sender_takes_sms_mfa_codes_and_email_keeps_the_servers_delivery(
        cognito, server, lambda_runtime):
    env, names = sender_pool(cognito, server, lambda_runtime, sms=echo)
    sms = {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms-role", "ExternalId": "ext-123"}
    cognito.set_user_pool_mfa_config(UserPoolId=env.pool, MfaConfiguration="ON",
                                      SmsMfaConfiguration={"SmsConfiguration": sms})
    env.user("cat", phone_number="+14155550100", phone_number_verified="true", email="cat@example.com")
    step = env.password_auth("cat")
    assert step["ChallengeName"] == "SMS_MFA"
    assert wait_for(lambda: lambda_runtime.events(names["CustomSMSSender"]))
    [event] = lambda_runtime.events(names["CustomSMSSender"])
    assert event["triggerSource"] == "CustomSMSSender_Authentication"
    assert event["request"]["type"] == "customSMSSenderRequestV1"
    code = event["request"]["code"]
    assert code == outbox_messages(server, env.pool, "MFA", "cat")[-1]["Code"]
    assert "AccessToken" in tokens(env.respond("SMS_MFA", {"USERNAME": "cat", "SMS_MFA_CODE": code},
                                               step["Session"]))
    # No CustomEmailSender: an email code goes through the server's own delivery.
    cognito.admin_update_user_attributes(UserPoolId=env.pool, Username="cat",
                                         UserAttributes=[{"Name": "email", "Value": "cat@new.example"}])
    assert outbox_messages(server, env.pool, "VERIFY_ATTRIBUTE", "cat")[-1].get("Delivery") == "DELIVERED"
    assert len(lambda_runtime.events(names["CustomSMSSender"])) == 1


def test_threat_protections_notice_goes_to_the_custom_email_sender_with_the_sign_ins_attributes(
        cognito, server, lambda_runtime):
    name = unique("CustomEmailSender")
    env = SignInEnv(cognito, server, devices=ALWAYS, UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"},
                    LambdaConfig={"KMSKeyID": f"arn:aws:kms:{REGION}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                                  "CustomEmailSender": {"LambdaArn": lambda_runtime.function(name, echo),
                                                        "LambdaVersion": "V1_0"}})
    env.user(email="alice@example.com")
    cognito.set_risk_configuration(UserPoolId=env.pool, AccountTakeoverRiskConfiguration={
        "NotifyConfiguration": {"From": "security@example.com",
                                "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/example.com"},
        "Actions": {"LowAction": {"EventAction": "NO_ACTION", "Notify": True}}})
    tokens(env.password_auth())
    assert wait_for(lambda: lambda_runtime.events(name))
    [event] = lambda_runtime.events(name)
    [auth_event] = cognito.admin_list_user_auth_events(UserPoolId=env.pool, Username="alice")["AuthEvents"]
    attributes = event["request"]["userAttributes"]
    assert event["triggerSource"] == "CustomEmailSender_AccountTakeOverNotification"
    assert event["callerContext"]["clientId"] == env.client_id
    assert (event["request"]["type"], event["request"]["code"]) == ("customEmailSenderRequestV1", None)
    assert {k: attributes[k] for k in ("EVENT_ID", "USER_NAME", "ACCOUNT_TAKE_OVER_ACTION")} == {
        "EVENT_ID": auth_event["EventId"], "USER_NAME": "alice", "ACCOUNT_TAKE_OVER_ACTION": "NO_ACTION"}
    assert set(attributes) >= {"IP_ADDRESS", "ONE_CLICK_LINK_VALID", "ONE_CLICK_LINK_INVALID", "LOGIN_TIME",
                               "FEEDBACK_TOKEN"}
    # The "this wasn't me" link the function is given works as the server's own email's does.
    assert "value=Invalid" in attributes["ONE_CLICK_LINK_INVALID"]
    cognito.update_auth_event_feedback(UserPoolId=env.pool, Username="alice", EventId=attributes["EVENT_ID"],
                                       FeedbackToken=attributes["FEEDBACK_TOKEN"], FeedbackValue="Valid")
    assert wait_for(lambda: outbox_messages(server, env.pool, "RISK_NOTIFICATION")[0].get("Delivery") == "DELIVERED")
