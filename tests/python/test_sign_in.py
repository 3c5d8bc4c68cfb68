"""Sign-in through boto3: InitiateAuth / AdminInitiateAuth with every password flow, the
PASSWORD_VERIFIER and NEW_PASSWORD_REQUIRED challenges, refresh (REFRESH_TOKEN_AUTH and
GetTokensFromRefreshToken, with and without rotation), ExplicitAuthFlows, SECRET_HASH, user states
and PreventUserExistenceErrors."""

from __future__ import annotations

import base64
import json
import re

import pytest

from support import (
    NEW_PASSWORD, PASSWORD, SrpSignIn, aws_error, new_app_client, new_confirmed_user, password_sign_in, refresh,
    pool_change_settles, secret_hash, user_attributes,
)

TEMPORARY = "Temp0rary!"
HEX_RE = re.compile(r"^[0-9a-f]+$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TOKEN_KEYS = {"AccessToken", "ExpiresIn", "TokenType", "RefreshToken", "IdToken"}
INCORRECT = "Incorrect username or password."
# What AWS answers for a flow the app client does not allow (e.g. "InvalidParameterException:
# USER_PASSWORD_AUTH flow not enabled for this client"), before it looks at the user.
FLOW_REFUSED = "InvalidParameterException"


def assert_tokens(answer: dict, refresh: bool = True) -> dict:
    """A successful sign-in answer: tokens and nothing else."""
    assert "ChallengeName" not in answer and "Session" not in answer, answer
    assert answer.get("ChallengeParameters", {}) == {}, answer
    result = answer["AuthenticationResult"]
    assert set(result) == (TOKEN_KEYS if refresh else TOKEN_KEYS - {"RefreshToken"}), result
    assert result["TokenType"] == "Bearer"
    assert result["ExpiresIn"] == 3600
    for name in ("AccessToken", "IdToken"):
        assert result[name].count(".") == 2, result[name]
    return result


def get_username(cognito, access_token) -> str:
    return cognito.get_user(AccessToken=access_token)["Username"]


# --- password flows ------------------------------------------------------------------------------

def test_user_password_auth(cognito, pool, client_id, alice):
    result = assert_tokens(password_sign_in(cognito, client_id, "alice", PASSWORD))
    assert get_username(cognito, result["AccessToken"]) == "alice"


@pytest.mark.parametrize("flow", ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"])
def test_admin_password_flows(cognito, pool, client_id, alice, flow):
    answer = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow=flow,
                                         AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    result = assert_tokens(answer)
    assert get_username(cognito, result["AccessToken"]) == "alice"


def test_admin_initiate_auth_with_the_wrong_pool(cognito, pool, client_id, alice):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    # The client belongs to another pool: it does not exist in this one.
    with aws_error("ResourceNotFoundException", client_id):
        cognito.admin_initiate_auth(UserPoolId=other, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})


def test_user_srp_auth_challenge_shape_and_tokens(cognito, pool, client_id, alice):
    srp = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD)
    challenge = srp.initiate()
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    params = challenge["ChallengeParameters"]
    assert set(params) == {"SALT", "SRP_B", "SECRET_BLOCK", "USER_ID_FOR_SRP", "USERNAME"}, params
    assert params["USER_ID_FOR_SRP"] == params["USERNAME"] == "alice"
    assert HEX_RE.match(params["SALT"]) and HEX_RE.match(params["SRP_B"]), params
    assert int(params["SRP_B"], 16) != 0
    # Standard base64 with padding: pycognito decodes it strictly.
    block = params["SECRET_BLOCK"]
    assert len(block) % 4 == 0 and base64.b64encode(base64.b64decode(block, validate=True)).decode() == block
    result = assert_tokens(srp.respond(srp.responses(challenge)))
    assert get_username(cognito, result["AccessToken"]) == "alice"


def test_admin_initiate_auth_with_srp(cognito, pool, client_id, alice):
    srp = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD)
    challenge = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="USER_SRP_AUTH",
                                            AuthParameters=srp.auth_parameters())
    assert challenge["ChallengeName"] == "PASSWORD_VERIFIER"
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == "alice"
    done = cognito.admin_respond_to_auth_challenge(UserPoolId=pool, ClientId=client_id,
                                                   ChallengeName="PASSWORD_VERIFIER",
                                                   ChallengeResponses=srp.responses(challenge))
    assert get_username(cognito, assert_tokens(done)["AccessToken"]) == "alice"

def test_user_srp_auth_salt_is_stable_and_b_fresh(cognito, pool, client_id, alice):
    first = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate()["ChallengeParameters"]
    second = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate()["ChallengeParameters"]
    assert first["SALT"] == second["SALT"]
    assert first["SRP_B"] != second["SRP_B"]
    assert first["SECRET_BLOCK"] != second["SECRET_BLOCK"]


def test_srp_salt_changes_with_the_password(cognito, pool, client_id, alice):
    before = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate()["ChallengeParameters"]["SALT"]
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=NEW_PASSWORD, Permanent=True)
    srp = SrpSignIn(cognito, pool, client_id, "alice", NEW_PASSWORD)
    challenge = srp.initiate()
    assert challenge["ChallengeParameters"]["SALT"] != before
    assert_tokens(srp.respond(srp.responses(challenge)))
    with aws_error("NotAuthorizedException", INCORRECT):
        SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).sign_in()


def test_srp_with_an_email_alias_uses_the_canonical_username(cognito):
    pool = cognito.create_user_pool(PoolName="alias", AliasAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    srp = SrpSignIn(cognito, pool, client_id, "alice@example.com", PASSWORD)
    challenge = srp.initiate()
    params = challenge["ChallengeParameters"]
    assert params["USER_ID_FOR_SRP"] == params["USERNAME"] == "alice"
    result = assert_tokens(srp.respond(srp.responses(challenge)))
    assert get_username(cognito, result["AccessToken"]) == "alice"
    # The password flow accepts the alias too.
    assert_tokens(password_sign_in(cognito, client_id, "alice@example.com", PASSWORD))


def test_srp_in_an_email_username_pool(cognito):
    pool = cognito.create_user_pool(PoolName="email", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    user = new_confirmed_user(cognito, pool, "bob@example.com", PASSWORD)
    canonical = user["Username"]
    assert UUID_RE.match(canonical), user
    srp = SrpSignIn(cognito, pool, client_id, "bob@example.com", PASSWORD)
    challenge = srp.initiate()
    assert challenge["ChallengeParameters"]["USER_ID_FOR_SRP"] == canonical
    assert challenge["ChallengeParameters"]["USERNAME"] == canonical
    result = assert_tokens(srp.respond(srp.responses(challenge)))
    assert get_username(cognito, result["AccessToken"]) == canonical


def test_wrong_password_every_flow(cognito, pool, client_id, alice):
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, "alice", "Wr0ng-pass!")
    with aws_error("NotAuthorizedException", INCORRECT):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice", "PASSWORD": "Wr0ng-pass!"})
    with aws_error("NotAuthorizedException", INCORRECT):
        SrpSignIn(cognito, pool, client_id, "alice", "Wr0ng-pass!").sign_in()


def test_missing_auth_parameters(cognito_raw, pool, client_id, alice):
    with aws_error("InvalidParameterException", "PASSWORD"):
        cognito_raw.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"USERNAME": "alice"})
    with aws_error("InvalidParameterException", "SRP_A"):
        cognito_raw.initiate_auth(ClientId=client_id, AuthFlow="USER_SRP_AUTH", AuthParameters={"USERNAME": "alice"})
    with aws_error("InvalidParameterException", "USERNAME"):
        cognito_raw.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                  AuthParameters={"PASSWORD": PASSWORD})


def test_unknown_client(cognito, alice):
    with aws_error("ResourceNotFoundException"):
        password_sign_in(cognito, "abcdefghijklmnopqrstuvwxyz", "alice", PASSWORD)


# --- refresh -------------------------------------------------------------------------------------

@pytest.mark.parametrize("flow", ["REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"])
def test_refresh_token_auth(cognito, pool, client_id, alice, flow):
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    renewed = assert_tokens(refresh(cognito, client_id, first["RefreshToken"], flow=flow), refresh=False)
    assert renewed["AccessToken"] != first["AccessToken"]
    assert renewed["IdToken"] != first["IdToken"]
    assert get_username(cognito, renewed["AccessToken"]) == "alice"
    # The refresh token stays usable (no rotation on this client).
    assert_tokens(refresh(cognito, client_id, first["RefreshToken"], flow=flow), refresh=False)


def test_admin_refresh_token_auth(cognito, pool, client_id, alice):
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    renewed = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                                          AuthParameters={"REFRESH_TOKEN": first["RefreshToken"]})
    assert get_username(cognito, assert_tokens(renewed, refresh=False)["AccessToken"]) == "alice"


def test_get_tokens_from_refresh_token_without_rotation(cognito, pool, client_id, alice):
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    answer = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=client_id)
    result = answer["AuthenticationResult"]
    assert set(result) == TOKEN_KEYS - {"RefreshToken"}, result
    assert result["TokenType"] == "Bearer" and result["ExpiresIn"] == 3600
    assert get_username(cognito, result["AccessToken"]) == "alice"
    # Still valid: nothing rotated.
    again = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=client_id)
    assert "AccessToken" in again["AuthenticationResult"]


ROTATION = {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}


def rotate(cognito, client_id, token) -> dict:
    return cognito.get_tokens_from_refresh_token(RefreshToken=token, ClientId=client_id)["AuthenticationResult"]


def test_get_tokens_from_refresh_token_with_rotation(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, RefreshTokenRotation=ROTATION)
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    rotated = rotate(cognito, client_id, first["RefreshToken"])
    assert set(rotated) == TOKEN_KEYS, rotated
    assert rotated["RefreshToken"] != first["RefreshToken"]
    assert get_username(cognito, rotated["AccessToken"]) == "alice"
    # The rotated-out token is refused (no grace period) ...
    with aws_error("RefreshTokenReuseException"):
        rotate(cognito, client_id, first["RefreshToken"])


def test_rotation_chain(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, RefreshTokenRotation=ROTATION)
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]["RefreshToken"]
    second = rotate(cognito, client_id, first)["RefreshToken"]
    # The new refresh token works and rotates again ...
    third = rotate(cognito, client_id, second)["RefreshToken"]
    assert len({first, second, third}) == 3
    # ... and a token rotated out two generations ago is refused as reused, like the last one.
    with aws_error("RefreshTokenReuseException"):
        rotate(cognito, client_id, first)

def test_rotation_grace_period_lets_the_old_token_retry(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, RefreshTokenRotation={"Feature": "ENABLED",
                                                                       "RetryGracePeriodSeconds": 60})
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    rotated = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"],
                                                    ClientId=client_id)["AuthenticationResult"]
    # Within the grace period the rotated-out token may be used again (a client retrying).
    retried = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"],
                                                    ClientId=client_id)["AuthenticationResult"]
    assert get_username(cognito, retried["AccessToken"]) == "alice"
    assert get_username(cognito, rotated["AccessToken"]) == "alice"

def test_get_tokens_from_refresh_token_with_a_client_secret(cognito, pool, alice):
    client_id, secret = new_app_client(cognito, pool, GenerateSecret=True)
    first = password_sign_in(cognito, client_id, "alice", PASSWORD, client_secret=secret)["AuthenticationResult"]
    result = cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=client_id,
                                                   ClientSecret=secret)["AuthenticationResult"]
    assert get_username(cognito, result["AccessToken"]) == "alice"
    with aws_error("NotAuthorizedException"):
        cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=client_id,
                                              ClientSecret=secret[:-1] + ("A" if secret[-1] != "A" else "B"))
    with aws_error("NotAuthorizedException"):
        cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=client_id)


def test_refresh_token_of_another_client(cognito, pool, client_id, alice):
    other, _ = new_app_client(cognito, pool, name="other")
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    with aws_error("NotAuthorizedException", "Invalid Refresh Token"):
        refresh(cognito, other, first["RefreshToken"])
    with aws_error("NotAuthorizedException", "Invalid Refresh Token"):
        cognito.get_tokens_from_refresh_token(RefreshToken=first["RefreshToken"], ClientId=other)


def test_refresh_of_a_disabled_user(cognito, pool, client_id, alice):
    first = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]
    cognito.admin_disable_user(UserPoolId=pool, Username="alice")
    with aws_error("NotAuthorizedException"):
        refresh(cognito, client_id, first["RefreshToken"])


# --- ExplicitAuthFlows ---------------------------------------------------------------------------

def test_default_client_allows_srp_and_refresh_only(cognito, pool, alice):
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="default")["UserPoolClient"]["ClientId"]
    with aws_error(FLOW_REFUSED, "USER_PASSWORD_AUTH flow not enabled for this client"):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    for flow in ("ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"):
        with aws_error(FLOW_REFUSED, "flow not enabled for this client"):
            cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow=flow,
                                        AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    result = assert_tokens(SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).sign_in())
    assert_tokens(refresh(cognito, client_id, result["RefreshToken"]), refresh=False)


def test_client_without_srp(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH",
                                                                    "ALLOW_REFRESH_TOKEN_AUTH"])
    with aws_error(FLOW_REFUSED, "flow not enabled for this client"):
        SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate()
    with aws_error(FLOW_REFUSED, "flow not enabled for this client"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    assert_tokens(password_sign_in(cognito, client_id, "alice", PASSWORD))


def test_flow_enabled_by_update_user_pool_client(server, cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    with aws_error(FLOW_REFUSED, "USER_PASSWORD_AUTH flow not enabled for this client"):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    cognito.update_user_pool_client(UserPoolId=pool, ClientId=client_id,
                                    ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    pool_change_settles(server)
    assert_tokens(password_sign_in(cognito, client_id, "alice", PASSWORD))


def test_flow_refusal_does_not_reveal_the_user(cognito, pool):
    client_id = cognito.create_user_pool_client(UserPoolId=pool, ClientName="default")["UserPoolClient"]["ClientId"]
    with aws_error(FLOW_REFUSED, "USER_PASSWORD_AUTH flow not enabled for this client"):
        password_sign_in(cognito, client_id, "nobody", PASSWORD)


# --- SECRET_HASH ---------------------------------------------------------------------------------

@pytest.fixture
def secret_client(cognito, pool):
    return new_app_client(cognito, pool, name="secret", GenerateSecret=True)


def test_secret_hash_user_password_auth(cognito, pool, secret_client, alice):
    client_id, secret = secret_client
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        password_sign_in(cognito, client_id, "alice", PASSWORD, client_secret="not-the-secret")
    # A hash over another username is wrong too.
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        password_sign_in(cognito, client_id, "alice", PASSWORD, client_secret=secret, hash_username="bob")
    assert_tokens(password_sign_in(cognito, client_id, "alice", PASSWORD, client_secret=secret))


def test_secret_hash_admin_flow(cognito, pool, secret_client, alice):
    client_id, secret = secret_client
    params = {"USERNAME": "alice", "PASSWORD": PASSWORD}
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters=params)
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={**params, "SECRET_HASH": secret_hash("x", "alice", client_id)})
    assert_tokens(cognito.admin_initiate_auth(
        UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={**params, "SECRET_HASH": secret_hash(secret, "alice", client_id)}))


def test_secret_hash_srp_both_steps(cognito, pool, secret_client, alice):
    client_id, secret = secret_client
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate()
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate(SECRET_HASH=secret_hash("x", "alice", client_id))
    srp = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD, client_secret=secret)
    challenge = srp.initiate()
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        srp.respond(srp.responses(challenge, SECRET_HASH=None))
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        srp.respond(srp.responses(challenge, SECRET_HASH=secret_hash("x", "alice", client_id)))
    # The refusals above did not use up the challenge.
    assert_tokens(srp.respond(srp.responses(challenge)))


def test_secret_hash_refresh(cognito, pool, secret_client, alice):
    client_id, secret = secret_client
    sub = user_attributes(alice)["sub"]
    token = password_sign_in(cognito, client_id, "alice", PASSWORD, client_secret=secret)["AuthenticationResult"][
        "RefreshToken"]
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        refresh(cognito, client_id, token)
    with aws_error("NotAuthorizedException", f"Unable to verify secret hash for client {client_id}"):
        refresh(cognito, client_id, token, SECRET_HASH=secret_hash("x", "alice", client_id))
    # Over the username (what pycognito sends) or over the sub (what AWS documents).
    assert_tokens(refresh(cognito, client_id, token, SECRET_HASH=secret_hash(secret, "alice", client_id)), refresh=False)
    assert_tokens(refresh(cognito, client_id, token, SECRET_HASH=secret_hash(secret, sub, client_id)), refresh=False)


def test_client_without_secret_ignores_no_hash(cognito, pool, client_id, alice):
    assert_tokens(password_sign_in(cognito, client_id, "alice", PASSWORD))


# --- user states ---------------------------------------------------------------------------------

def test_disabled_user(cognito, pool, client_id, alice):
    cognito.admin_disable_user(UserPoolId=pool, Username="alice")
    with aws_error("NotAuthorizedException", "User is disabled."):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    with aws_error("NotAuthorizedException", "User is disabled."):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})
    with aws_error("NotAuthorizedException", "User is disabled."):
        SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).sign_in()
    cognito.admin_enable_user(UserPoolId=pool, Username="alice")
    assert_tokens(password_sign_in(cognito, client_id, "alice", PASSWORD))


def test_unconfirmed_user(cognito, pool, client_id):
    cognito.sign_up(ClientId=client_id, Username="carol", Password=PASSWORD)
    with aws_error("UserNotConfirmedException", "User is not confirmed."):
        password_sign_in(cognito, client_id, "carol", PASSWORD)
    with aws_error("UserNotConfirmedException", "User is not confirmed."):
        SrpSignIn(cognito, pool, client_id, "carol", PASSWORD).sign_in()
    cognito.admin_confirm_sign_up(UserPoolId=pool, Username="carol")
    assert_tokens(password_sign_in(cognito, client_id, "carol", PASSWORD))


def test_reset_required_user(cognito, pool, client_id, alice):
    cognito.admin_reset_user_password(UserPoolId=pool, Username="alice")
    assert cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserStatus"] == "RESET_REQUIRED"
    with aws_error("PasswordResetRequiredException", "Password reset required for the user"):
        password_sign_in(cognito, client_id, "alice", PASSWORD)
    with aws_error("PasswordResetRequiredException", "Password reset required for the user"):
        SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).sign_in()


# --- PreventUserExistenceErrors ------------------------------------------------------------------

def test_unknown_user_legacy(cognito, pool, client_id, alice):
    with aws_error("UserNotFoundException", "User does not exist."):
        password_sign_in(cognito, client_id, "nobody", PASSWORD)
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "nobody", "PASSWORD": PASSWORD})
    with aws_error("UserNotFoundException", "User does not exist."):
        SrpSignIn(cognito, pool, client_id, "nobody", PASSWORD).initiate()


def test_unknown_user_enabled(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, "nobody", PASSWORD)
    with aws_error("NotAuthorizedException", INCORRECT):
        cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": "nobody", "PASSWORD": PASSWORD})


def test_unknown_user_enabled_srp_looks_like_a_real_challenge(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    real = SrpSignIn(cognito, pool, client_id, "alice", PASSWORD).initiate()
    srp = SrpSignIn(cognito, pool, client_id, "nobody", PASSWORD)
    fake = srp.initiate()
    assert fake["ChallengeName"] == "PASSWORD_VERIFIER"
    params = fake["ChallengeParameters"]
    assert set(params) == set(real["ChallengeParameters"]), (params, real)
    assert params["USER_ID_FOR_SRP"] == params["USERNAME"] == "nobody"
    assert HEX_RE.match(params["SALT"]) and HEX_RE.match(params["SRP_B"]), params
    base64.b64decode(params["SECRET_BLOCK"], validate=True)
    # The same unknown name gets the same salt every time, like a real user.
    assert SrpSignIn(cognito, pool, client_id, "nobody", PASSWORD).initiate()["ChallengeParameters"]["SALT"] \
        == params["SALT"]
    with aws_error("NotAuthorizedException", INCORRECT):
        srp.respond(srp.responses(fake))


def test_enabled_still_reports_wrong_password_the_same_way(cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, "alice", "Wr0ng-pass!")


# --- NEW_PASSWORD_REQUIRED -----------------------------------------------------------------------

def new_password_challenge(answer: dict) -> dict:
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED", answer
    assert "AuthenticationResult" not in answer, answer
    assert isinstance(answer["Session"], str) and answer["Session"], answer
    params = answer["ChallengeParameters"]
    assert {"USER_ID_FOR_SRP", "userAttributes", "requiredAttributes"} <= set(params), params
    return params


def test_new_password_required_after_admin_create_user(cognito, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": "dave@example.com"}])
    answer = password_sign_in(cognito, client_id, "dave", TEMPORARY)
    params = new_password_challenge(answer)
    assert params["USER_ID_FOR_SRP"] == "dave"
    assert json.loads(params["requiredAttributes"]) == []
    attributes = json.loads(params["userAttributes"])
    assert attributes["email"] == "dave@example.com"
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": params["USER_ID_FOR_SRP"], "NEW_PASSWORD": NEW_PASSWORD})
    result = assert_tokens(done)
    assert get_username(cognito, result["AccessToken"]) == "dave"
    assert cognito.admin_get_user(UserPoolId=pool, Username="dave")["UserStatus"] == "CONFIRMED"
    assert_tokens(password_sign_in(cognito, client_id, "dave", NEW_PASSWORD))
    with aws_error("NotAuthorizedException", INCORRECT):
        password_sign_in(cognito, client_id, "dave", TEMPORARY)


def test_new_password_required_through_srp(cognito, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    srp = SrpSignIn(cognito, pool, client_id, "dave", TEMPORARY)
    answer = srp.sign_in()
    params = new_password_challenge(answer)
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": params["USER_ID_FOR_SRP"], "NEW_PASSWORD": NEW_PASSWORD})
    assert_tokens(done)
    assert_tokens(SrpSignIn(cognito, pool, client_id, "dave", NEW_PASSWORD).sign_in())


def test_new_password_required_admin_respond(cognito, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    answer = cognito.admin_initiate_auth(UserPoolId=pool, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                                         AuthParameters={"USERNAME": "dave", "PASSWORD": TEMPORARY})
    params = new_password_challenge(answer)
    done = cognito.admin_respond_to_auth_challenge(
        UserPoolId=pool, ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": params["USER_ID_FOR_SRP"], "NEW_PASSWORD": NEW_PASSWORD})
    assert_tokens(done)
    assert cognito.admin_get_user(UserPoolId=pool, Username="dave")["UserStatus"] == "CONFIRMED"


def test_new_password_must_meet_the_policy(cognito, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    answer = password_sign_in(cognito, client_id, "dave", TEMPORARY)
    with aws_error("InvalidPasswordException", "Password did not conform with policy"):
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
            ChallengeResponses={"USERNAME": "dave", "NEW_PASSWORD": "short"})
    assert cognito.admin_get_user(UserPoolId=pool, Username="dave")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_new_password_with_a_bad_session(cognito, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    password_sign_in(cognito, client_id, "dave", TEMPORARY)
    with aws_error("NotAuthorizedException", "Invalid session for the user"):
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session="x" * 64,
            ChallengeResponses={"USERNAME": "dave", "NEW_PASSWORD": NEW_PASSWORD})
    assert cognito.admin_get_user(UserPoolId=pool, Username="dave")["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_new_password_session_is_single_use(cognito, pool, client_id):
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    answer = password_sign_in(cognito, client_id, "dave", TEMPORARY)
    responses = {"USERNAME": "dave", "NEW_PASSWORD": NEW_PASSWORD}
    assert_tokens(cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                                                    Session=answer["Session"], ChallengeResponses=responses))
    with aws_error("NotAuthorizedException", "Invalid session for the user"):
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                                          Session=answer["Session"],
                                          ChallengeResponses={**responses, "NEW_PASSWORD": "An0ther-pass!"})
    assert_tokens(password_sign_in(cognito, client_id, "dave", NEW_PASSWORD))


def test_new_password_required_with_a_required_attribute(cognito):
    # AWS: "You can create a user without specifying any attributes other than Username"; the
    # required attributes the user lacks are asked for in the NEW_PASSWORD_REQUIRED challenge.
    pool = cognito.create_user_pool(PoolName="req", Schema=[
        {"Name": "name", "AttributeDataType": "String", "Required": True, "Mutable": True}])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    cognito.admin_create_user(UserPoolId=pool, Username="erin", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    answer = password_sign_in(cognito, client_id, "erin", TEMPORARY)
    params = new_password_challenge(answer)
    assert json.loads(params["requiredAttributes"]) == ["userAttributes.name"]
    assert "name" not in json.loads(params["userAttributes"])
    with aws_error("InvalidParameterException", "name"):
        cognito.respond_to_auth_challenge(
            ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
            ChallengeResponses={"USERNAME": params["USER_ID_FOR_SRP"], "NEW_PASSWORD": NEW_PASSWORD})
    assert cognito.admin_get_user(UserPoolId=pool, Username="erin")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    answer = password_sign_in(cognito, client_id, "erin", TEMPORARY)
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": params["USER_ID_FOR_SRP"], "NEW_PASSWORD": NEW_PASSWORD,
                            "userAttributes.name": "Erin Example"})
    assert_tokens(done)
    user = cognito.admin_get_user(UserPoolId=pool, Username="erin")
    assert user["UserStatus"] == "CONFIRMED"
    assert user_attributes(user)["name"] == "Erin Example"


def test_new_password_required_username_from_the_challenge(cognito):
    # In an email-as-username pool the canonical username is a UUID: the challenge names it, and
    # the client answers with it.
    pool = cognito.create_user_pool(PoolName="email", UsernameAttributes=["email"])["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    created = cognito.admin_create_user(UserPoolId=pool, Username="fay@example.com", TemporaryPassword=TEMPORARY,
                                        MessageAction="SUPPRESS")["User"]
    answer = password_sign_in(cognito, client_id, "fay@example.com", TEMPORARY)
    params = new_password_challenge(answer)
    assert params["USER_ID_FOR_SRP"] == created["Username"]
    assert UUID_RE.match(params["USER_ID_FOR_SRP"]), params
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={"USERNAME": params["USER_ID_FOR_SRP"], "NEW_PASSWORD": NEW_PASSWORD})
    result = assert_tokens(done)
    assert get_username(cognito, result["AccessToken"]) == created["Username"]
    assert_tokens(password_sign_in(cognito, client_id, "fay@example.com", NEW_PASSWORD))


def test_new_password_with_a_secret_client(cognito, pool, secret_client):
    client_id, secret = secret_client
    cognito.admin_create_user(UserPoolId=pool, Username="dave", TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS")
    answer = password_sign_in(cognito, client_id, "dave", TEMPORARY, client_secret=secret)
    base = {"USERNAME": "dave", "NEW_PASSWORD": NEW_PASSWORD}
    with aws_error("NotAuthorizedException", f"Client {client_id} is configured for secret but secret was not received"):
        cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED",
                                          Session=answer["Session"], ChallengeResponses=base)
    done = cognito.respond_to_auth_challenge(
        ClientId=client_id, ChallengeName="NEW_PASSWORD_REQUIRED", Session=answer["Session"],
        ChallengeResponses={**base, "SECRET_HASH": secret_hash(secret, "dave", client_id)})
    assert_tokens(done)


def test_admin_set_user_password_temporary_forces_a_change(cognito, pool, client_id, alice):
    cognito.admin_set_user_password(UserPoolId=pool, Username="alice", Password=TEMPORARY, Permanent=False)
    answer = password_sign_in(cognito, client_id, "alice", TEMPORARY)
    assert new_password_challenge(answer)["USER_ID_FOR_SRP"] == "alice"
    assert cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserStatus"] == "FORCE_CHANGE_PASSWORD"
