"""Sign-in events through boto3 (docs/devices.md "Sign-in events"): with the pool's
AdvancedSecurityMode AUDIT or ENFORCED, every sign-in attempt is an AuthEventType listed by
AdminListUserAuthEvents, newest first, paged, with the device's name and the client's address;
failures are Fail, a sign-in waiting for its MFA code InProgress then Pass; feedback marks an
event. With the mode OFF, the operations answer UserPoolAddOnNotEnabledException, as on Cognito.
"""

from __future__ import annotations

from pycognito.aws_srp import generate_hash_device

from mfa_support import TOTP, Env, assert_mfa_challenge, mfa_answer
from support import PASSWORD, Device, SignInEnv, aws_error, last_code, tokens

AUDIT = {"AdvancedSecurityMode": "AUDIT"}
ALWAYS = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}
CHROME_ON_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Chrome/131.0.0.0 Safari/537.36")


def events(env, username="alice", **kwargs) -> list[dict]:
    return env.cognito.admin_list_user_auth_events(UserPoolId=env.pool, Username=username, **kwargs)["AuthEvents"]


def new_device(env, name: str) -> Device:
    """A sign-in whose new device is confirmed under `name`."""
    result = tokens(env.password_auth())
    meta = env.new_device_metadata(result)
    secret, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    env.cognito.confirm_device(AccessToken=result["AccessToken"], DeviceKey=meta["DeviceKey"],
                               DeviceSecretVerifierConfig=verifier, DeviceName=name)
    return Device(meta["DeviceKey"], meta["DeviceGroupKey"], secret)


def device_sign_in(env, device: Device) -> dict:
    """USER_PASSWORD_AUTH presenting a remembered device, then its device SRP."""
    answer = env.password_auth(device_key=device.key)
    assert answer["ChallengeName"] == "DEVICE_SRP_AUTH", answer
    return tokens(env.device_srp("alice", device, answer["Session"]))


def test_the_event_operations_need_the_add_on(cognito, server):
    env = SignInEnv(cognito, server)
    env.user()
    tokens(env.password_auth())
    message = "Advanced security features are not enabled for this user pool."
    with aws_error("UserPoolAddOnNotEnabledException", message):
        events(env)
    with aws_error("UserPoolAddOnNotEnabledException", message):
        cognito.admin_update_auth_event_feedback(UserPoolId=env.pool, Username="alice", EventId="x",
                                                 FeedbackValue="Valid")
    # Turned on later: what happened before was not recorded.
    cognito.update_user_pool(UserPoolId=env.pool, UserPoolAddOns=AUDIT)
    assert events(env) == []


def test_sign_ins_from_two_devices_are_listed_newest_first_with_their_names(cognito, server):
    env = Env(cognito, server, devices=ALWAYS, UserPoolAddOns=AUDIT)
    env.user()
    laptop, phone = new_device(env, "laptop"), new_device(env, "phone")
    device_sign_in(env, laptop)
    device_sign_in(env, phone)
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        env.password_auth(password="not-the-password")
    listed = events(env)
    assert len(listed) == 5
    failed, from_phone, from_laptop = listed[:3]
    assert failed["EventType"] == "SignIn" and failed["EventResponse"] == "Fail"
    assert failed["ChallengeResponses"] == [{"ChallengeName": "Password", "ChallengeResponse": "Failure"}]
    for event, name in ((from_phone, "phone"), (from_laptop, "laptop")):
        assert event["EventType"] == "SignIn" and event["EventResponse"] == "Pass", event
        assert event["EventContextData"]["DeviceName"] == name
        assert event["EventContextData"]["IpAddress"] == "127.0.0.1"
        assert event["ChallengeResponses"] == [{"ChallengeName": "Password", "ChallengeResponse": "Success"}]
        assert event["EventRisk"]["RiskDecision"] == "NoRisk"
    dates = [e["CreationDate"] for e in listed]
    assert dates == sorted(dates, reverse=True)
    assert len({e["EventId"] for e in listed}) == 5


def test_the_app_server_names_its_user_in_context_data(cognito, server):
    env = SignInEnv(cognito, server, UserPoolAddOns=AUDIT)
    env.user()
    cognito.admin_initiate_auth(
        UserPoolId=env.pool, ClientId=env.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        ContextData={"IpAddress": "203.0.113.7", "ServerName": "app.example", "ServerPath": "/login",
                     "HttpHeaders": [{"headerName": "User-Agent", "headerValue": CHROME_ON_WINDOWS}]})
    [event] = events(env)
    assert event["EventContextData"]["IpAddress"] == "203.0.113.7"
    assert event["EventContextData"]["DeviceName"] == "Chrome on Windows"


def test_an_srp_sign_in_with_mfa_is_in_progress_until_the_code(cognito, server):
    env = Env(cognito, server, UserPoolAddOns=AUDIT)
    env.user()
    app = env.enrol("alice", previous_step=True)
    before = len(events(env))
    srp = env.srp_steps()
    challenge = srp.initiate()
    assert len(events(env)) == before  # SRP's first call checks nothing
    answer = srp.respond(srp.responses(challenge))
    session = assert_mfa_challenge(answer)
    [waiting] = events(env, MaxResults=1)
    assert waiting["EventResponse"] == "InProgress"
    assert waiting["ChallengeResponses"] == [{"ChallengeName": "Password", "ChallengeResponse": "Success"}]
    with aws_error("CodeMismatchException"):
        env.respond(TOTP, mfa_answer("alice", app.wrong_code()), session)
    tokens(env.respond(TOTP, mfa_answer("alice", app.next_code()), session))
    [done] = events(env, MaxResults=1)
    assert done["EventId"] == waiting["EventId"] and done["EventResponse"] == "Pass"
    assert done["ChallengeResponses"] == [
        {"ChallengeName": "Password", "ChallengeResponse": "Success"},
        {"ChallengeName": "Mfa", "ChallengeResponse": "Failure"},
        {"ChallengeName": "Mfa", "ChallengeResponse": "Success"},
    ]


def test_events_page_and_take_feedback(cognito, server):
    env = SignInEnv(cognito, server, UserPoolAddOns=AUDIT)
    env.user()
    for _ in range(5):
        tokens(env.password_auth())
    everything = events(env)
    assert len(everything) == 5
    pages, token = [], None
    while True:
        kwargs = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        answer = cognito.admin_list_user_auth_events(UserPoolId=env.pool, Username="alice", **kwargs)
        pages.append(answer["AuthEvents"])
        token = answer.get("NextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [e["EventId"] for p in pages for e in p] == [e["EventId"] for e in everything]
    with aws_error("InvalidParameterException", "Invalid pagination token."):
        events(env, NextToken="garbage")

    target = everything[2]["EventId"]
    cognito.admin_update_auth_event_feedback(UserPoolId=env.pool, Username="alice", EventId=target,
                                             FeedbackValue="Invalid")
    marked = next(e for e in events(env) if e["EventId"] == target)
    assert marked["EventFeedback"]["FeedbackValue"] == "Invalid"
    assert marked["EventFeedback"]["Provider"] == "Admin" and "FeedbackDate" in marked["EventFeedback"]
    with aws_error("ResourceNotFoundException", "Event does not exist."):
        cognito.admin_update_auth_event_feedback(UserPoolId=env.pool, Username="alice", EventId="nope",
                                                 FeedbackValue="Valid")
    # Another user's event is not this user's.
    env.user("bob")
    with aws_error("ResourceNotFoundException", "Event does not exist."):
        cognito.admin_update_auth_event_feedback(UserPoolId=env.pool, Username="bob", EventId=target,
                                                 FeedbackValue="Valid")


def test_a_deleted_user_takes_its_events_along(cognito, server):
    env = SignInEnv(cognito, server, UserPoolAddOns=AUDIT)
    env.user()
    tokens(env.password_auth())
    cognito.admin_delete_user(UserPoolId=env.pool, Username="alice")
    env.user()
    assert events(env) == []


def test_max_results_is_bounded(cognito, server):
    env = SignInEnv(cognito, server, UserPoolAddOns=AUDIT)
    env.user()
    with aws_error("InvalidParameterException", "Member must have value less than or equal to 60"):
        events(env, MaxResults=61)


def test_sign_up_resent_codes_resets_and_password_changes_are_events_too(cognito, server):
    env = SignInEnv(cognito, server, UserPoolAddOns=AUDIT, AutoVerifiedAttributes=["email"])
    cognito.sign_up(ClientId=env.client_id, Username="carol", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "carol@example.com"}])
    cognito.resend_confirmation_code(ClientId=env.client_id, Username="carol")
    cognito.confirm_sign_up(ClientId=env.client_id, Username="carol",
                            ConfirmationCode=last_code(server, env.pool, "SIGN_UP", "carol"))
    cognito.forgot_password(ClientId=env.client_id, Username="carol")
    with aws_error("CodeMismatchException"):
        cognito.confirm_forgot_password(ClientId=env.client_id, Username="carol", ConfirmationCode="000000",
                                        Password="N3w-Passw0rd!")
    code = last_code(server, env.pool, "FORGOT_PASSWORD", "carol")
    cognito.confirm_forgot_password(ClientId=env.client_id, Username="carol", ConfirmationCode=code,
                                    Password="N3w-Passw0rd!")
    access = tokens(env.password_auth("carol", password="N3w-Passw0rd!"))["AccessToken"]
    with aws_error("NotAuthorizedException"):
        cognito.change_password(AccessToken=access, PreviousPassword="wrong-Passw0rd!", ProposedPassword=PASSWORD)
    cognito.change_password(AccessToken=access, PreviousPassword="N3w-Passw0rd!", ProposedPassword=PASSWORD)
    listed = [(e["EventType"], e["EventResponse"]) for e in events(env, "carol")][::-1]
    assert listed == [("SignUp", "Pass"), ("ResendCode", "Pass"), ("ForgotPassword", "Pass"),
                      ("PasswordChange", "Fail"), ("PasswordChange", "Pass"), ("SignIn", "Pass"),
                      ("PasswordChange", "Fail"), ("PasswordChange", "Pass")]
    assert all(e["EventContextData"]["IpAddress"] == "127.0.0.1" for e in events(env, "carol"))
