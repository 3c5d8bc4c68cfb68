"""GetUserAuthFactors and AdminGetUserAuthFactors through boto3: the first factors a user could
sign in with under the pool's SignInPolicy, with their MFA settings.
"""

from __future__ import annotations

from support import PASSWORD, aws_error, new_app_client, new_confirmed_user, password_sign_in


def test_factors_follow_the_sign_in_policy_and_what_the_user_has(cognito):
    pool = cognito.create_user_pool(PoolName="factors", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "SMS_OTP"]}})["UserPool"]["Id"]
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    admin = cognito.admin_get_user_auth_factors(UserPoolId=pool, Username="alice")
    assert admin["Username"] == "alice"
    # No phone: no SMS code.
    assert admin["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP"]
    # A phone, verified or not (the code sent to it verifies it), is a factor.
    cognito.admin_update_user_attributes(UserPoolId=pool, Username="alice",
                                         UserAttributes=[{"Name": "phone_number", "Value": "+15550100"}])
    assert cognito.admin_get_user_auth_factors(UserPoolId=pool, Username="alice")["ConfiguredUserAuthFactors"] == [
        "PASSWORD", "EMAIL_OTP", "SMS_OTP"]
    access = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]["AccessToken"]
    own = cognito.get_user_auth_factors(AccessToken=access)
    assert own["ConfiguredUserAuthFactors"] == ["PASSWORD", "EMAIL_OTP", "SMS_OTP"] and own["Username"] == "alice"
    # A pool with the default policy offers the password alone.
    plain = cognito.create_user_pool(PoolName="plain")["UserPool"]["Id"]
    new_confirmed_user(cognito, plain, "bob", PASSWORD, email="bob@example.com", email_verified="true")
    assert cognito.admin_get_user_auth_factors(UserPoolId=plain, Username="bob")["ConfiguredUserAuthFactors"] == [
        "PASSWORD"]
    with aws_error("UserNotFoundException"):
        cognito.admin_get_user_auth_factors(UserPoolId=plain, Username="nobody")
    with aws_error("NotAuthorizedException"):
        cognito.get_user_auth_factors(AccessToken="not-a-token")
