"""A pool's settings sections in the console, in real Chromium: MFA, password policy, sign-in
identifiers and message delivery. Each save must change exactly its own members, as boto3's
DescribeUserPool / GetUserPoolMfaConfig show, refuse what the API refuses with the API's message
beside the section, and refuse a form drawn from a pool that changed since. Fixtures:
console_support.py.
"""

from __future__ import annotations

from console_support import *  # noqa: F401,F403 - fixtures and helpers
from console_support import ADMIN, READER, expect, sign_in


def open_pool(page, server, name):
    sign_in(page, server, ADMIN)
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()


def rich_pool(api, name, **extra):
    """A pool with settings in many members, so a section that resets another one shows."""
    return api.create_user_pool(
        PoolName=name,
        AutoVerifiedAttributes=["email"],
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": True},
        Policies={
            "PasswordPolicy": {"MinimumLength": 10, "RequireSymbols": False, "RequireNumbers": True,
                               "RequireUppercase": True, "RequireLowercase": True,
                               "TemporaryPasswordValidityDays": 3},
        },
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        UserAttributeUpdateSettings={"AttributesRequireVerificationBeforeUpdate": ["email"]},
        AccountRecoverySetting={"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]},
        UserPoolTags={"team": "console"},
        **extra,
    )["UserPool"]["Id"]


def assert_only_changed(before, after, changed):
    for member in set(before) | set(after):
        if member in changed or member == "LastModifiedDate":
            continue
        assert after.get(member) == before.get(member), member


def test_mfa_section_sets_enforcement_and_authenticator_apps_and_nothing_else(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "mfa-section-pool")
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    open_pool(page, console_server, "mfa-section-pool")
    mfa = page.get_by_role("radiogroup", name="MFA enforcement")
    expect(mfa.get_by_label("Off")).to_be_checked()
    expect(page.get_by_label("Suppress MFA on remembered devices")).to_be_disabled()
    mfa.get_by_label("Optional").check()
    page.get_by_label("Authenticator apps (TOTP)").check()
    page.get_by_role("button", name="Save MFA").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    config = admin_api.get_user_pool_mfa_config(UserPoolId=pool_id)
    assert config["MfaConfiguration"] == "OPTIONAL"
    assert config["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["MfaConfiguration"] == "OPTIONAL"
    assert_only_changed(before, after, {"MfaConfiguration"})
    # With MFA on, the device-tracking section offers suppression.
    expect(mfa.get_by_label("Optional")).to_be_checked()
    expect(page.get_by_label("Suppress MFA on remembered devices")).to_be_enabled()


def test_mfa_required_without_a_factor_shows_the_apis_message_beside_the_section(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "mfa-refused-pool")
    open_pool(page, console_server, "mfa-refused-pool")
    page.get_by_role("radiogroup", name="MFA enforcement").get_by_label("Required").check()
    page.get_by_role("button", name="Save MFA").click()
    section = page.get_by_role("group", name="Multi-factor authentication")
    expect(section.get_by_role("alert")).to_contain_text("can't disable all MFAs")
    assert admin_api.get_user_pool_mfa_config(UserPoolId=pool_id)["MfaConfiguration"] == "OFF"


def test_password_policy_section_changes_only_the_password_policy(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "password-section-pool")
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    open_pool(page, console_server, "password-section-pool")
    expect(page.get_by_label("Minimum length")).to_have_value("10")
    expect(page.get_by_label("Require numbers")).to_be_checked()
    page.get_by_label("Minimum length").fill("14")
    page.get_by_label("Require symbols").check()
    page.get_by_label("Require uppercase letters").uncheck()
    page.get_by_label("Temporary passwords expire after (days)").fill("5")
    page.get_by_role("button", name="Save password policy").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    policy = after["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 14
    assert policy["RequireSymbols"] is True
    assert policy["RequireUppercase"] is False
    assert policy["RequireNumbers"] is True
    assert policy["TemporaryPasswordValidityDays"] == 5
    assert {k: v for k, v in after["Policies"].items() if k != "PasswordPolicy"} == \
        {k: v for k, v in before["Policies"].items() if k != "PasswordPolicy"}
    assert_only_changed(before, after, {"Policies"})
    expect(page.get_by_label("Minimum length")).to_have_value("14")


def test_a_password_policy_the_api_refuses_is_refused_beside_the_section(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "password-refused-pool")
    open_pool(page, console_server, "password-refused-pool")
    section = page.get_by_role("group", name="Password policy")
    for typed, message in (("5", "policies.passwordPolicy.minimumLength' failed to satisfy constraint"), ("twelve", "Minimum length must be a whole number")):
        page.get_by_label("Minimum length").fill(typed)
        page.get_by_role("button", name="Save password policy").click()
        expect(section.get_by_role("alert")).to_contain_text(message)
    policy = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] == 10


def test_sign_in_identifiers_are_shown_as_fixed(page, console_server, admin_api):
    admin_api.create_user_pool(PoolName="identifiers-pool", UsernameAttributes=["email"],
                               UsernameConfiguration={"CaseSensitive": False})
    open_pool(page, console_server, "identifiers-pool")
    table = page.get_by_role("table", name="Sign-in identifiers")
    expect(table.get_by_role("row", name="Username attributes")).to_contain_text("email")
    expect(table.get_by_role("row", name="Usernames are case-sensitive")).to_contain_text("no")


def test_message_delivery_section_sets_the_sender_and_verification_messages(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "messages-pool")
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    open_pool(page, console_server, "messages-pool")
    page.get_by_role("radiogroup", name="Email sent by").get_by_label("Your SES identity (DEVELOPER)").check()
    page.get_by_label("SES identity ARN").fill("arn:aws:ses:us-east-1:000000000000:identity/example.com")
    page.get_by_label("From address").fill("Example <no-reply@example.com>")
    page.get_by_label("Verification email subject").fill("Your code")
    page.get_by_label("Verification email message").fill("Your code is {####}.")
    page.get_by_label("Verification SMS message").fill("Code: {####}")
    page.get_by_role("button", name="Save message delivery").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["EmailConfiguration"]["EmailSendingAccount"] == "DEVELOPER"
    assert after["EmailConfiguration"]["SourceArn"] == "arn:aws:ses:us-east-1:000000000000:identity/example.com"
    assert after["EmailConfiguration"]["From"] == "Example <no-reply@example.com>"
    template = after["VerificationMessageTemplate"]
    assert template["EmailSubject"] == "Your code"
    assert template["EmailMessage"] == "Your code is {####}."
    assert template["SmsMessage"] == "Code: {####}"
    assert after["EmailVerificationMessage"] == "Your code is {####}."
    assert_only_changed(before, after, {"EmailConfiguration", "VerificationMessageTemplate",
                                        "EmailVerificationMessage", "EmailVerificationSubject",
                                        "SmsVerificationMessage"})

    # A code message without its placeholder is the API's refusal, shown beside the section.
    page.get_by_label("Verification email message").fill("No code here.")
    page.get_by_role("button", name="Save message delivery").click()
    expect(page.get_by_role("group", name="Message delivery").get_by_role("alert")).to_contain_text(
        "'verificationMessageTemplate.emailMessage' failed to satisfy constraint")
    assert admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]["VerificationMessageTemplate"][
        "EmailMessage"] == "Your code is {####}."


def test_a_stale_settings_form_does_not_overwrite_a_change_made_meanwhile(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "stale-settings-pool")
    open_pool(page, console_server, "stale-settings-pool")
    page.get_by_label("Minimum length").fill("16")
    # Meanwhile, through the API:
    admin_api.set_user_pool_mfa_config(UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
                                       SoftwareTokenMfaConfiguration={"Enabled": True})
    page.get_by_role("button", name="Save password policy").click()
    expect(page.get_by_role("group", name="Password policy").get_by_role("alert")).to_contain_text(
        "changed since this page was loaded")
    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["Policies"]["PasswordPolicy"]["MinimumLength"] == 10
    assert after["MfaConfiguration"] == "OPTIONAL"
    # The page now shows the pool as it is, and a save from it goes through.
    page.get_by_role("radiogroup", name="MFA enforcement").get_by_label("Off").check()
    page.get_by_role("button", name="Save MFA").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert admin_api.get_user_pool_mfa_config(UserPoolId=pool_id)["MfaConfiguration"] == "OFF"


def test_a_read_only_key_cannot_save_a_settings_section(page, console_server, admin_api):
    pool_id = rich_pool(admin_api, "read-only-settings-pool")
    sign_in(page, console_server, READER)
    page.get_by_role("link", name="read-only-settings-pool").click()
    for button in ("Save MFA", "Save password policy", "Save message delivery"):
        expect(page.get_by_role("button", name=button)).to_be_disabled()
    csrf = page.get_by_role("group", name="Password policy").locator("input[name=csrf]").get_attribute("value")
    answer = page.request.post(f"{console_server.url}/console/pools/{pool_id}/password-policy",
                               form={"csrf": csrf, "version": "1", "minimum_length": "20"}, max_redirects=0)
    assert answer.status == 403
    assert "cognito-idp:UpdateUserPool" in answer.text()
    answer = page.request.post(f"{console_server.url}/console/pools/{pool_id}/mfa",
                               form={"csrf": csrf, "version": "1", "mfa": "OFF"}, max_redirects=0)
    assert answer.status == 403
    assert "cognito-idp:SetUserPoolMfaConfig" in answer.text()
    assert admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]["Policies"]["PasswordPolicy"][
        "MinimumLength"] == 10


def test_the_seeds_device_tracking_set_up_done_entirely_in_the_console(page, console_server, admin_api):
    """Create a pool, make its MFA Optional, then User opt-in with suppression: all by hand."""
    sign_in(page, console_server, ADMIN)
    page.get_by_label("Pool name").fill("by-hand-pool")
    page.get_by_role("button", name="Create pool").click()
    expect(page.get_by_role("status")).to_have_text("The pool was created.")
    page.get_by_role("link", name="by-hand-pool").click()
    pool_id = {p["Name"]: p["Id"] for p in admin_api.list_user_pools(MaxResults=60)["UserPools"]}["by-hand-pool"]
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]

    expect(page.get_by_label("Suppress MFA on remembered devices")).to_be_disabled()
    page.get_by_role("radiogroup", name="MFA enforcement").get_by_label("Optional").check()
    page.get_by_label("Authenticator apps (TOTP)").check()
    page.get_by_role("button", name="Save MFA").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    page.get_by_role("radiogroup", name="Remember user devices").get_by_label("User opt-in").check()
    page.get_by_label("Suppress MFA on remembered devices").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["DeviceConfiguration"] == {"ChallengeRequiredOnNewDevice": True,
                                            "DeviceOnlyRememberedOnUserPrompt": True}
    assert after["MfaConfiguration"] == "OPTIONAL"
    assert_only_changed(before, after, {"DeviceConfiguration", "MfaConfiguration"})
    assert admin_api.get_user_pool_mfa_config(UserPoolId=pool_id)["SoftwareTokenMfaConfiguration"] == {"Enabled": True}
