"""Choice-based sign-in (AuthFlow USER_AUTH) through boto3 (docs/passwordless.md): the preferred
challenge honoured, SELECT_CHALLENGE listing what the user may use, one-time codes by email and
SMS (eight digits, from the outbox) as the first factor, PASSWORD and PASSWORD_SRP, wrong codes
counted towards the lockout, MFA only after a password, and devices as after any other sign-in."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError

from mfa_support import Env
from support import (PASSWORD, SrpSignIn, assert_tokens_of, aws_error, last_code, new_app_client,
                     new_confirmed_user, outbox_messages, tokens)

ALL_FACTORS = ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]
USER_AUTH_FLOWS = ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
EMAIL = "alice@example.com"
PHONE = "+15550100"


def choice_pool(cognito, factors=ALL_FACTORS, **settings):
    return cognito.create_user_pool(PoolName="choice", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": factors}}, **settings)["UserPool"]["Id"]


@pytest.fixture
def env(server, cognito):
    """A pool allowing password, email and SMS codes, a client allowing USER_AUTH only, and alice
    with a password, an email address and a phone number."""
    pool = choice_pool(cognito)
    client_id, _ = new_app_client(cognito, pool, ExplicitAuthFlows=USER_AUTH_FLOWS)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email=EMAIL, phone_number=PHONE)
    return pool, client_id


def user_auth(cognito, client_id, username="alice", **params):
    return cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH",
                                 AuthParameters={"USERNAME": username, **params})


def respond(cognito, client_id, challenge, session, **responses):
    return cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName=challenge, Session=session,
                                             ChallengeResponses={"USERNAME": "alice", **responses})


def sign_in_code(server, pool, username="alice"):
    code = last_code(server, pool, "MFA", username)
    assert re.fullmatch(r"\d{8}", code), code
    return code


def test_select_challenge_lists_what_the_user_may_use(server, cognito, env):
    pool, client_id = env
    answer = user_auth(cognito, client_id)
    assert answer["ChallengeName"] == "SELECT_CHALLENGE"
    assert answer["AvailableChallenges"] == ["PASSWORD_SRP", "PASSWORD", "EMAIL_OTP", "SMS_OTP"]
    assert answer["ChallengeParameters"] == {} and answer["Session"]
    # A user without a phone is not offered SMS; a pool allowing the password alone offers it alone.
    new_confirmed_user(cognito, pool, "bob", PASSWORD, email="bob@example.com")
    assert user_auth(cognito, client_id, "bob")["AvailableChallenges"] == ["PASSWORD_SRP", "PASSWORD", "EMAIL_OTP"]
    plain = choice_pool(cognito, ["PASSWORD"])
    plain_client, _ = new_app_client(cognito, plain, ExplicitAuthFlows=USER_AUTH_FLOWS)
    new_confirmed_user(cognito, plain, "carol", PASSWORD, email="carol@example.com")
    assert user_auth(cognito, plain_client, "carol")["AvailableChallenges"] == ["PASSWORD_SRP", "PASSWORD"]
    # A preference the user cannot use falls back to the menu, as on Cognito.
    answer = user_auth(cognito, client_id, "bob", PREFERRED_CHALLENGE="SMS_OTP")
    assert answer["ChallengeName"] == "SELECT_CHALLENGE"
    # GetUserAuthFactors says the same.
    factors = cognito.admin_get_user_auth_factors(UserPoolId=pool, Username="alice")["ConfiguredUserAuthFactors"]
    assert factors == ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]


def test_email_code_chosen_from_the_menu_signs_in_and_verifies_the_address(server, cognito, env):
    pool, client_id = env
    menu = user_auth(cognito, client_id)
    challenge = respond(cognito, client_id, "SELECT_CHALLENGE", menu["Session"], ANSWER="EMAIL_OTP")
    assert challenge["ChallengeName"] == "EMAIL_OTP"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == "a***@e***"
    [message] = outbox_messages(server, pool, "MFA")
    assert message["Destination"] == EMAIL and message["Medium"] == "EMAIL"
    result = tokens(respond(cognito, client_id, "EMAIL_OTP", challenge["Session"],
                            EMAIL_OTP_CODE=sign_in_code(server, pool)))
    _, id_claims = assert_tokens_of(f"{server.url}/{pool}", result, client_id, "alice")
    assert id_claims["email_verified"] is True
    # The code and its Session are spent.
    with aws_error("NotAuthorizedException", "session is expired"):
        respond(cognito, client_id, "EMAIL_OTP", challenge["Session"], EMAIL_OTP_CODE=sign_in_code(server, pool))


def test_preferred_sms_code(server, cognito, env):
    pool, client_id = env
    challenge = user_auth(cognito, client_id, PREFERRED_CHALLENGE="SMS_OTP")
    assert challenge["ChallengeName"] == "SMS_OTP"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "SMS"
    assert challenge["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"].endswith("0100")
    result = tokens(respond(cognito, client_id, "SMS_OTP", challenge["Session"],
                            SMS_OTP_CODE=sign_in_code(server, pool)))
    assert_tokens_of(f"{server.url}/{pool}", result, client_id, "alice")
    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert {"Name": "phone_number_verified", "Value": "true"} in user["UserAttributes"]


def test_password_and_password_srp(server, cognito, env):
    pool, client_id = env
    issuer = f"{server.url}/{pool}"
    # PASSWORD with the password: tokens at once; a wrong one is refused as USER_PASSWORD_AUTH is.
    assert_tokens_of(issuer, tokens(user_auth(cognito, client_id, PREFERRED_CHALLENGE="PASSWORD",
                                              PASSWORD=PASSWORD)), client_id, "alice")
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        user_auth(cognito, client_id, PREFERRED_CHALLENGE="PASSWORD", PASSWORD="Wr0ng-password")
    # PASSWORD_SRP with SRP_A: PASSWORD_VERIFIER, then tokens (ALLOW_USER_AUTH alone suffices).
    srp = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD)
    verifier = user_auth(cognito, client_id, PREFERRED_CHALLENGE="PASSWORD_SRP", SRP_A=srp.srp_a)
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    assert_tokens_of(issuer, tokens(srp.respond(srp.responses(verifier))), client_id, "alice")
    # From the menu, as Amplify answers it: SELECT_CHALLENGE with ANSWER and the password or SRP_A.
    menu = user_auth(cognito, client_id)
    assert_tokens_of(issuer, tokens(respond(cognito, client_id, "SELECT_CHALLENGE", menu["Session"],
                                            ANSWER="PASSWORD", PASSWORD=PASSWORD)), client_id, "alice")
    srp = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD)
    verifier = respond(cognito, client_id, "SELECT_CHALLENGE", menu["Session"], ANSWER="PASSWORD_SRP",
                       SRP_A=srp.srp_a)
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    assert_tokens_of(issuer, tokens(srp.respond(srp.responses(verifier))), client_id, "alice")
    # The password named without it: its own challenge, answered on that Session.
    asked = user_auth(cognito, client_id, PREFERRED_CHALLENGE="PASSWORD")
    assert asked["ChallengeName"] == "PASSWORD" and asked["Session"]
    assert_tokens_of(issuer, tokens(respond(cognito, client_id, "PASSWORD", asked["Session"], PASSWORD=PASSWORD)),
                     client_id, "alice")


def test_wrong_codes_count_towards_the_lockout_and_a_new_code_replaces_the_old(server, cognito, env):
    pool, client_id = env
    menu = user_auth(cognito, client_id)
    first = respond(cognito, client_id, "SELECT_CHALLENGE", menu["Session"], ANSWER="EMAIL_OTP")
    old = sign_in_code(server, pool)
    # Choosing again sends a new code; the old one no longer works.
    again = respond(cognito, client_id, "SELECT_CHALLENGE", first["Session"], ANSWER="EMAIL_OTP")
    new = sign_in_code(server, pool)
    assert new != old or len(outbox_messages(server, pool, "MFA")) == 2
    wrong = "00000000" if new != "00000000" else "11111111"
    with aws_error("CodeMismatchException"):
        respond(cognito, client_id, "EMAIL_OTP", again["Session"], EMAIL_OTP_CODE=old if old != new else wrong)
    # Four more wrong codes (five in all), each keeping the Session; then the user is locked out,
    # and even the right code is refused, as a right password would be.
    for _ in range(4):
        with aws_error("CodeMismatchException"):
            respond(cognito, client_id, "EMAIL_OTP", again["Session"], EMAIL_OTP_CODE=wrong)
    with aws_error("NotAuthorizedException", "Password attempts exceeded"):
        respond(cognito, client_id, "EMAIL_OTP", again["Session"], EMAIL_OTP_CODE=new)
    with aws_error("NotAuthorizedException", "Password attempts exceeded"):
        user_auth(cognito, client_id, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)


def test_refusals(server, cognito, env):
    pool, client_id = env
    # A client without ALLOW_USER_AUTH.
    other, _ = new_app_client(cognito, pool)
    with aws_error("InvalidParameterException", "USER_AUTH flow not enabled for this client"):
        user_auth(cognito, other)
    with aws_error("InvalidParameterException"):
        user_auth(cognito, client_id, PREFERRED_CHALLENGE="SOFTWARE_TOKEN_MFA")
    with aws_error("UserNotFoundException"):
        user_auth(cognito, client_id, "nobody")
    menu = user_auth(cognito, client_id)
    with aws_error("InvalidParameterException"):
        respond(cognito, client_id, "SELECT_CHALLENGE", menu["Session"], ANSWER="WEB_AUTHN")
    with aws_error("InvalidParameterException"):
        respond(cognito, client_id, "SELECT_CHALLENGE", menu["Session"], ANSWER="PASSWORD")
    # The Session names its user.
    new_confirmed_user(cognito, pool, "bob", PASSWORD, email="bob@example.com")
    with aws_error("NotAuthorizedException"):
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SELECT_CHALLENGE", Session=menu["Session"],
                                          ChallengeResponses={"USERNAME": "bob", "ANSWER": "EMAIL_OTP"})
    # A disabled user gets no code.
    cognito.admin_disable_user(UserPoolId=pool, Username="bob")
    with aws_error("NotAuthorizedException", "User is disabled."):
        user_auth(cognito, client_id, "bob", PREFERRED_CHALLENGE="EMAIL_OTP")
    assert outbox_messages(server, pool, "MFA", "bob") == []


def test_a_client_that_hides_users_answers_a_stranger_as_a_user(server, cognito, env):
    """The menu, a code "sent" to a masked address (the same for the same name), every code
    wrong, the password refused as a wrong one: nothing tells the stranger apart."""
    pool, _ = env
    hiding, _ = new_app_client(cognito, pool, ExplicitAuthFlows=USER_AUTH_FLOWS,
                               PreventUserExistenceErrors="ENABLED")
    real = user_auth(cognito, hiding)
    menu = user_auth(cognito, hiding, "nobody")
    assert menu["ChallengeName"] == "SELECT_CHALLENGE" and menu["ChallengeParameters"] == {}
    assert menu["AvailableChallenges"] == real["AvailableChallenges"]

    def stranger(challenge, session, **responses):
        return cognito.respond_to_auth_challenge(ClientId=hiding, ChallengeName=challenge, Session=session,
                                                 ChallengeResponses={"USERNAME": "nobody", **responses})

    code = stranger("SELECT_CHALLENGE", menu["Session"], ANSWER="EMAIL_OTP")
    assert code["ChallengeName"] == "EMAIL_OTP"
    destination = code["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"]
    assert re.fullmatch(r"[a-z]\*\*\*@[a-z]\*\*\*", destination), destination
    assert code["ChallengeParameters"]["CODE_DELIVERY_DELIVERY_MEDIUM"] == "EMAIL"
    with aws_error("CodeMismatchException"):
        stranger("EMAIL_OTP", code["Session"], EMAIL_OTP_CODE="12345678")
    again = user_auth(cognito, hiding, "nobody", PREFERRED_CHALLENGE="EMAIL_OTP")
    assert again["ChallengeName"] == "EMAIL_OTP"
    assert again["ChallengeParameters"]["CODE_DELIVERY_DESTINATION"] == destination
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        stranger("SELECT_CHALLENGE", menu["Session"], ANSWER="PASSWORD", PASSWORD=PASSWORD)
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        user_auth(cognito, hiding, "nobody", PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    # What the menu did not offer is refused in the words a user gets; a re-selected code lists
    # the menu again; the Session is as long as a user's.
    plain = choice_pool(cognito, ["PASSWORD", "EMAIL_OTP"])
    plain_hiding, _ = new_app_client(cognito, plain, ExplicitAuthFlows=USER_AUTH_FLOWS,
                                     PreventUserExistenceErrors="ENABLED")
    new_confirmed_user(cognito, plain, "alice", PASSWORD, email=EMAIL, phone_number=PHONE)
    real_menu = user_auth(cognito, plain_hiding)
    fake_menu = user_auth(cognito, plain_hiding, "nobody")
    assert len(real_menu["Session"]) == len(fake_menu["Session"])
    refusals = []
    for name, session in (("alice", real_menu["Session"]), ("nobody", fake_menu["Session"])):
        with pytest.raises(ClientError) as e:
            cognito.respond_to_auth_challenge(ClientId=plain_hiding, ChallengeName="SELECT_CHALLENGE", Session=session,
                                              ChallengeResponses={"USERNAME": name, "ANSWER": "SMS_OTP"})
        refusals.append((e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]))
    assert refusals[0] == refusals[1] and refusals[0][0] == "InvalidParameterException", refusals
    assert stranger("SELECT_CHALLENGE", code["Session"], ANSWER="EMAIL_OTP")["AvailableChallenges"] == \
        real["AvailableChallenges"]
    # A decoy SRP challenge, as USER_SRP_AUTH gives strangers.
    srp = SrpSignIn(cognito, pool, hiding, "nobody", PASSWORD)
    verifier = stranger("SELECT_CHALLENGE", menu["Session"], ANSWER="PASSWORD_SRP", SRP_A=srp.srp_a)
    assert verifier["ChallengeName"] == "PASSWORD_VERIFIER"
    # The Session is the stranger's alone.
    with aws_error("NotAuthorizedException"):
        cognito.respond_to_auth_challenge(ClientId=hiding, ChallengeName="SELECT_CHALLENGE", Session=menu["Session"],
                                          ChallengeResponses={"USERNAME": "alice", "ANSWER": "EMAIL_OTP"})


def test_a_hiding_client_answers_the_edges_of_a_choice_alike_for_users_and_strangers(server, cognito, env):
    """A code answered where none was sent (at the menu, or after the other code was chosen) is
    a wrong code for a user as for a stranger; a user with nothing to sign in with gets the
    stranger's menu, whose every answer fails."""
    pool, _ = env
    hiding, _ = new_app_client(cognito, pool, ExplicitAuthFlows=USER_AUTH_FLOWS,
                               PreventUserExistenceErrors="ENABLED")

    def answer(name, challenge, session, **responses):
        try:
            cognito.respond_to_auth_challenge(ClientId=hiding, ChallengeName=challenge, Session=session,
                                              ChallengeResponses={"USERNAME": name, **responses})
        except ClientError as e:
            return e.response["Error"]["Code"], e.response["Error"]["Message"]
        raise AssertionError("accepted")

    sms, refusals = {}, {}
    for name in ("alice", "nobody"):
        menu = user_auth(cognito, hiding, name)["Session"]
        at_menu = answer(name, "EMAIL_OTP", menu, EMAIL_OTP_CODE="12345678")
        sms[name] = cognito.respond_to_auth_challenge(ClientId=hiding, ChallengeName="SELECT_CHALLENGE", Session=menu,
                                                      ChallengeResponses={"USERNAME": name, "ANSWER": "SMS_OTP"})
        assert sms[name]["ChallengeName"] == "SMS_OTP"
        refusals[name] = (at_menu, answer(name, "EMAIL_OTP", sms[name]["Session"], EMAIL_OTP_CODE="12345678"))
    assert refusals["alice"] == refusals["nobody"], refusals
    assert refusals["alice"][0][0] == refusals["alice"][1][0] == "CodeMismatchException", refusals
    # Alice's code still signs her in: those answers were not its answers.
    tokens(cognito.respond_to_auth_challenge(ClientId=hiding, ChallengeName="SMS_OTP", Session=sms["alice"]["Session"],
                                             ChallengeResponses={"USERNAME": "alice",
                                                                 "SMS_OTP_CODE": sign_in_code(server, pool)}))

    # A user with no factor the pool allows (no email, no phone, codes only) is a stranger here.
    codes_only = choice_pool(cognito, ["EMAIL_OTP", "SMS_OTP"])
    codes_hiding, _ = new_app_client(cognito, codes_only, ExplicitAuthFlows=USER_AUTH_FLOWS,
                                     PreventUserExistenceErrors="ENABLED")
    new_confirmed_user(cognito, codes_only, "bare", PASSWORD)
    bare = user_auth(cognito, codes_hiding, "bare")
    nobody = user_auth(cognito, codes_hiding, "nobody")
    assert bare["ChallengeName"] == nobody["ChallengeName"] == "SELECT_CHALLENGE"
    assert bare["AvailableChallenges"] == nobody["AvailableChallenges"] == ["EMAIL_OTP", "SMS_OTP"]
    chosen = cognito.respond_to_auth_challenge(ClientId=codes_hiding, ChallengeName="SELECT_CHALLENGE",
                                               Session=bare["Session"],
                                               ChallengeResponses={"USERNAME": "bare", "ANSWER": "EMAIL_OTP"})
    assert chosen["ChallengeName"] == "EMAIL_OTP"
    assert outbox_messages(server, codes_only, "MFA", "bare") == []
    with aws_error("CodeMismatchException"):
        cognito.respond_to_auth_challenge(ClientId=codes_hiding, ChallengeName="EMAIL_OTP", Session=chosen["Session"],
                                          ChallengeResponses={"USERNAME": "bare", "EMAIL_OTP_CODE": "12345678"})
    # A client that shows users refuses such a user at once.
    plain, _ = new_app_client(cognito, codes_only, ExplicitAuthFlows=USER_AUTH_FLOWS)
    with aws_error("NotAuthorizedException", "Incorrect username or password."):
        user_auth(cognito, plain, "bare")


def test_a_code_verifies_only_the_address_it_was_sent_to(server, cognito, env):
    pool, client_id = env
    challenge = user_auth(cognito, client_id, PREFERRED_CHALLENGE="EMAIL_OTP")
    code = sign_in_code(server, pool)
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice", UserAttributes=[
        {"Name": "email", "Value": "someone-else@example.com"}])
    tokens(respond(cognito, client_id, "EMAIL_OTP", challenge["Session"], EMAIL_OTP_CODE=code))
    attributes = {a["Name"]: a["Value"] for a in
                  cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserAttributes"]}
    assert attributes["email"] == "someone-else@example.com" and attributes.get("email_verified") != "true"


def test_an_unconfirmed_user_is_confirmed_by_an_email_code(server, cognito, env):
    pool, client_id = env
    cognito.sign_up(ClientId=client_id, Username="dora", Password=PASSWORD,
                    UserAttributes=[{"Name": "email", "Value": "dora@example.com"}])
    assert cognito.admin_get_user(UserPoolId=pool, Username="dora")["UserStatus"] == "UNCONFIRMED"
    challenge = user_auth(cognito, client_id, "dora", PREFERRED_CHALLENGE="EMAIL_OTP")
    assert challenge["ChallengeName"] == "EMAIL_OTP"
    tokens(cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="EMAIL_OTP", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "dora", "EMAIL_OTP_CODE": sign_in_code(server, pool, "dora")}))
    assert cognito.admin_get_user(UserPoolId=pool, Username="dora")["UserStatus"] == "CONFIRMED"


def test_mfa_follows_a_password_and_excludes_passwordless_factors(server, cognito):
    pool = choice_pool(cognito, MfaConfiguration="ON", SmsConfiguration={
        "SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"})
    client_id, _ = new_app_client(cognito, pool, ExplicitAuthFlows=USER_AUTH_FLOWS)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email=EMAIL, phone_number=PHONE,
                       phone_number_verified="true")
    menu = user_auth(cognito, client_id)
    assert menu["AvailableChallenges"] == ["PASSWORD_SRP", "PASSWORD"]
    mfa = user_auth(cognito, client_id, PREFERRED_CHALLENGE="PASSWORD", PASSWORD=PASSWORD)
    assert mfa["ChallengeName"] == "SMS_MFA"


def test_admin_initiate_auth_user_auth(server, cognito, env):
    pool, client_id = env
    challenge = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="USER_AUTH",
                                            AuthParameters={"USERNAME": "alice", "PREFERRED_CHALLENGE": "EMAIL_OTP"})
    assert challenge["ChallengeName"] == "EMAIL_OTP"
    result = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=client_id, ChallengeName="EMAIL_OTP", Session=challenge["Session"],
        ChallengeResponses={"USERNAME": "alice", "EMAIL_OTP_CODE": sign_in_code(server, pool)})
    assert_tokens_of(f"{server.url}/{pool}", tokens(result), client_id, "alice")


def test_a_passwordless_sign_in_on_a_remembered_device_is_a_device_sign_in(server, cognito):
    env = Env(cognito, server, devices={"ChallengeRequiredOnNewDevice": True,
                                        "DeviceOnlyRememberedOnUserPrompt": False},
              Policies={"SignInPolicy": {"AllowedFirstAuthFactors": ALL_FACTORS}})
    env.client_id = new_app_client(cognito, env.pool, ExplicitAuthFlows=USER_AUTH_FLOWS)[0]
    env.user(email=EMAIL)
    first = user_auth(cognito, env.client_id, PREFERRED_CHALLENGE="EMAIL_OTP")
    result = tokens(env.respond("EMAIL_OTP", {"USERNAME": "alice", "EMAIL_OTP_CODE": sign_in_code(server, env.pool)},
                                first["Session"]))
    device = env.confirm(result)
    # The next one presents the device with its code: device SRP follows, then tokens bound to it.
    second = user_auth(cognito, env.client_id, PREFERRED_CHALLENGE="EMAIL_OTP")
    step = env.respond("EMAIL_OTP", {"USERNAME": "alice", "DEVICE_KEY": device.key,
                                     "EMAIL_OTP_CODE": sign_in_code(server, env.pool)}, second["Session"])
    assert step["ChallengeName"] == "DEVICE_SRP_AUTH" and step["Session"] == second["Session"], step
    done = tokens(env.device_srp("alice", device, step["Session"]))
    assert env.access_claims(done["AccessToken"])["device_key"] == device.key
    assert "NewDeviceMetadata" not in done
    with pytest.raises(ClientError):
        env.device_srp("alice", device, step["Session"])
