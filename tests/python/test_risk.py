"""Threat protection's risk through boto3 (docs/devices.md "Risk and notifications"):
SetRiskConfiguration / DescribeRiskConfiguration as Cognito answers them; AUDIT rates and never
acts; ENFORCED blocks with Cognito's words, holds a user without MFA to MFA_REQUIRED, honours the
blocked and skipped address ranges, and notifies by email, whose "this wasn't me" link forgets
the sign-in's device and revokes its tokens. The rating rules: crates/core/src/risk.rs.
"""

from __future__ import annotations

import html
import re
import time

import pytest
import requests
from pycognito.aws_srp import generate_hash_device

from support import PASSWORD, SignInEnv, aws_error, outbox_messages, refresh, tokens

ALWAYS = {"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False}
NOTIFY = {"From": "security@example.com", "SourceArn": "arn:aws:ses:us-east-1:000000000000:identity/example.com",
          "NoActionEmail": {"Subject": "New sign-in to {username}",
                            "TextBody": "From {device-name} at {ip-address}. Not you? {one-click-link-invalid}"}}


def actions(low=None, medium=None, high=None) -> dict:
    out = {}
    for name, a in (("LowAction", low), ("MediumAction", medium), ("HighAction", high)):
        if a:
            out[name] = {"EventAction": a[0], "Notify": a[1]}
    return out


def pool_with(cognito, server, mode: str, devices=None, **risk) -> SignInEnv:
    env = SignInEnv(cognito, server, devices=devices, UserPoolAddOns={"AdvancedSecurityMode": mode})
    env.user(email="alice@example.com")
    if risk:
        cognito.set_risk_configuration(UserPoolId=env.pool, **risk)
    return env


def events(env) -> list[dict]:
    return env.cognito.admin_list_user_auth_events(UserPoolId=env.pool, Username="alice")["AuthEvents"]


def fail_five_times(env):
    for _ in range(5):
        with aws_error("NotAuthorizedException"):
            env.password_auth(password="not-the-password")
    time.sleep(1.5)  # the lockout after five failures lasts a second


def admin_sign_in_from(env, ip: str) -> dict:
    return env.cognito.admin_initiate_auth(
        UserPoolId=env.pool, ClientId=env.client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD},
        ContextData={"IpAddress": ip, "ServerName": "app.example", "ServerPath": "/", "HttpHeaders": []})


def test_risk_configuration_is_set_described_and_reset(cognito, server):
    env = pool_with(cognito, server, "AUDIT")
    empty = cognito.describe_risk_configuration(UserPoolId=env.pool)["RiskConfiguration"]
    assert empty == {"UserPoolId": env.pool}
    config = {
        "AccountTakeoverRiskConfiguration": {"NotifyConfiguration": NOTIFY,
                                             "Actions": actions(("NO_ACTION", True), ("MFA_IF_CONFIGURED", True),
                                                                ("BLOCK", True))},
        "CompromisedCredentialsRiskConfiguration": {"EventFilter": ["SIGN_IN"], "Actions": {"EventAction": "BLOCK"}},
        "RiskExceptionConfiguration": {"BlockedIPRangeList": ["192.0.2.0/24"], "SkippedIPRangeList": ["10.0.0.0/8"]},
    }
    set_ = cognito.set_risk_configuration(UserPoolId=env.pool, **config)["RiskConfiguration"]
    described = cognito.describe_risk_configuration(UserPoolId=env.pool)["RiskConfiguration"]
    assert set_ == described
    assert described["UserPoolId"] == env.pool and "ClientId" not in described and "LastModifiedDate" in described
    for k, v in config.items():
        assert described[k] == v, k
    # A client's own configuration replaces the pool's for it; without one, Describe names only ids.
    assert cognito.describe_risk_configuration(UserPoolId=env.pool, ClientId=env.client_id)["RiskConfiguration"] \
        == {"UserPoolId": env.pool, "ClientId": env.client_id}
    cognito.set_risk_configuration(UserPoolId=env.pool, ClientId=env.client_id,
                                   RiskExceptionConfiguration={"SkippedIPRangeList": ["127.0.0.0/8"]})
    own = cognito.describe_risk_configuration(UserPoolId=env.pool, ClientId=env.client_id)["RiskConfiguration"]
    assert own["ClientId"] == env.client_id and "AccountTakeoverRiskConfiguration" not in own
    # The ids alone reset a scope (as Terraform deletes).
    cognito.set_risk_configuration(UserPoolId=env.pool)
    assert cognito.describe_risk_configuration(UserPoolId=env.pool)["RiskConfiguration"] == {"UserPoolId": env.pool}
    with aws_error("ResourceNotFoundException"):
        cognito.describe_risk_configuration(UserPoolId=env.pool, ClientId="nosuchclient0000000000000")
    with aws_error("InvalidParameterException", "invalid CIDR range: 300.1.1.1/8"):
        cognito.set_risk_configuration(UserPoolId=env.pool,
                                       RiskExceptionConfiguration={"BlockedIPRangeList": ["300.1.1.1/8"]})
    with aws_error("InvalidParameterException", "NotifyConfiguration is required when an action notifies."):
        cognito.set_risk_configuration(UserPoolId=env.pool, AccountTakeoverRiskConfiguration={
            "Actions": actions(("NO_ACTION", True))})


def test_audit_rates_a_burst_of_failures_high_and_lets_the_sign_in_through(cognito, server):
    env = pool_with(cognito, server, "AUDIT",
                    AccountTakeoverRiskConfiguration={"Actions": actions(high=("BLOCK", False))})
    first = tokens(env.password_auth())
    assert first["AccessToken"]
    fail_five_times(env)
    tokens(env.password_auth())
    latest = events(env)[0]
    assert latest["EventResponse"] == "Pass"
    assert latest["EventRisk"]["RiskLevel"] == "High" and latest["EventRisk"]["RiskDecision"] == "NoRisk"
    assert events(env)[-1]["EventRisk"]["RiskLevel"] == "Low"  # the first sign-in ever, a new device


def test_enforced_blocks_high_risk_with_cognitos_words(cognito, server):
    env = pool_with(cognito, server, "ENFORCED",
                    AccountTakeoverRiskConfiguration={"Actions": actions(("NO_ACTION", False), None,
                                                                         ("BLOCK", False))})
    tokens(env.password_auth())
    fail_five_times(env)
    with aws_error("NotAuthorizedException", "Unable to login because of security reasons."):
        env.password_auth()
    blocked = events(env)[0]
    assert blocked["EventResponse"] == "Fail" and blocked["EventRisk"]["RiskDecision"] == "Block"
    assert blocked["EventRisk"]["RiskLevel"] == "High"


def test_mfa_required_refuses_a_user_without_mfa_from_a_new_network(cognito, server):
    env = pool_with(cognito, server, "ENFORCED",
                    AccountTakeoverRiskConfiguration={"Actions": actions(("NO_ACTION", False),
                                                                         ("MFA_REQUIRED", False))})
    tokens(admin_sign_in_from(env, "198.51.100.7"))  # the first sign-in: low
    tokens(admin_sign_in_from(env, "198.51.100.7"))  # a known address: low
    with aws_error("NotAuthorizedException", "Unable to login because of security reasons."):
        admin_sign_in_from(env, "203.0.113.9")  # a new network: medium, and no MFA to ask
    assert events(env)[0]["EventRisk"] == {"RiskDecision": "Block", "RiskLevel": "Medium",
                                           "CompromisedCredentialsDetected": False}


@pytest.mark.parametrize("ranges, refused", [
    ({"BlockedIPRangeList": ["127.0.0.0/8"]}, True),
    ({"SkippedIPRangeList": ["127.0.0.0/8"]}, False),
])
def test_address_ranges_block_or_skip(cognito, server, ranges, refused):
    env = pool_with(cognito, server, "ENFORCED", RiskExceptionConfiguration=ranges,
                    AccountTakeoverRiskConfiguration={"Actions": actions(("BLOCK", False))})
    if refused:
        with aws_error("NotAuthorizedException", "Request not allowed due to security reasons."):
            env.password_auth()
    else:
        tokens(env.password_auth())  # low risk would be blocked; the range skips the rating
        assert "RiskLevel" not in events(env)[0]["EventRisk"]


def test_a_new_device_is_notified_and_this_wasnt_me_signs_it_out(cognito, server):
    env = pool_with(cognito, server, "ENFORCED", devices=ALWAYS,
                    AccountTakeoverRiskConfiguration={"NotifyConfiguration": NOTIFY,
                                                      "Actions": actions(("NO_ACTION", True))})
    result = tokens(env.password_auth())
    meta = env.new_device_metadata(result)
    _, verifier = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    cognito.confirm_device(AccessToken=result["AccessToken"], DeviceKey=meta["DeviceKey"],
                           DeviceSecretVerifierConfig=verifier, DeviceName="stranger's laptop")
    event = events(env)[0]
    assert event["EventRisk"] == {"RiskDecision": "AccountTakeover", "RiskLevel": "Low",
                                  "CompromisedCredentialsDetected": False}
    [mail] = outbox_messages(server, env.pool, "RISK_NOTIFICATION")
    assert mail["Destination"] == "alice@example.com" and mail["Subject"] == "New sign-in to alice"
    assert mail["Body"].startswith("From ") and " at 127.0.0.1. Not you? http" in mail["Body"]
    link = re.search(r"(http\S+)", mail["Body"]).group(1)
    # Opening the link changes nothing (mail scanners open links); its button does.
    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "This wasn't you?" in html.unescape(page.text)
    assert "EventFeedback" not in events(env)[0]
    form = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    action = html.unescape(re.search(r'action="([^"]+)"', page.text).group(1))
    done = requests.post(server.url + action if action.startswith("/") else action,
                         data={k: html.unescape(v) for k, v in form.items()}, timeout=10)
    assert done.status_code == 200 and "signed out and forgotten" in done.text
    marked = events(env)[0]
    assert marked["EventFeedback"]["FeedbackValue"] == "Invalid" and marked["EventFeedback"]["Provider"] == "User"
    assert cognito.admin_list_devices(UserPoolId=env.pool, Username="alice")["Devices"] == []
    with aws_error("NotAuthorizedException"):
        refresh(cognito, env.client_id, result["RefreshToken"], device_key=meta["DeviceKey"])
    # The token is bound to its user and event.
    token = html.unescape(form["token"])
    with aws_error("NotAuthorizedException", "Invalid feedback token."):
        cognito.update_auth_event_feedback(UserPoolId=env.pool, Username="alice", EventId=event["EventId"],
                                           FeedbackToken=token[:-4] + "AAAA", FeedbackValue="Valid")
    cognito.update_auth_event_feedback(UserPoolId=env.pool, Username="alice", EventId=event["EventId"],
                                       FeedbackToken=token, FeedbackValue="Valid")
    assert events(env)[0]["EventFeedback"]["FeedbackValue"] == "Valid"


def test_choice_based_sign_in_is_judged_as_the_password_flows_are(cognito, server):
    """USER_AUTH's first factors (docs/passwordless.md) start the sign-in's event and are judged:
    a blocked address is refused whether the password comes from the menu or a code is answered."""
    from support import last_code, new_app_client
    env = pool_with(cognito, server, "ENFORCED", RiskExceptionConfiguration={"BlockedIPRangeList": ["127.0.0.0/8"]},
                    AccountTakeoverRiskConfiguration={"Actions": actions(("NO_ACTION", False))})
    cognito.update_user_pool(UserPoolId=env.pool, UserPoolAddOns={"AdvancedSecurityMode": "ENFORCED"}, Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]}})
    client_id, _ = new_app_client(cognito, env.pool, ExplicitAuthFlows=["ALLOW_USER_AUTH"])
    menu = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    with aws_error("NotAuthorizedException", "Request not allowed due to security reasons."):
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SELECT_CHALLENGE", Session=menu["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "ANSWER": "PASSWORD",
                                                              "PASSWORD": PASSWORD})
    code = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={
        "USERNAME": "alice", "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    with aws_error("NotAuthorizedException", "Request not allowed due to security reasons."):
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="EMAIL_OTP", Session=code["Session"],
                                          ChallengeResponses={"USERNAME": "alice",
                                                              "EMAIL_OTP_CODE": last_code(server, env.pool, "MFA")})
    assert [e["EventResponse"] for e in events(env)[:2]] == ["Fail", "Fail"]
