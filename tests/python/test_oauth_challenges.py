"""The hosted pages' challenges (docs/managed-login.md "Pages"): TOTP set-up with a QR code when
the pool requires MFA and the user has none (MFA_SETUP, then the app's code), or email codes (the
address, then the code sent there), a new password for
a user created with a temporary one (NEW_PASSWORD_REQUIRED), and the API's lockout shared by the
hosted sign-in.
"""

from __future__ import annotations

import re
import html
from urllib.parse import parse_qs, urlsplit

from mfa_support import settle, totp
from oauth_support import Browser, oauth_client, oauth_pool, pkce
from support import PASSWORD, last_code, new_confirmed_user, outbox_messages


def start(server, client_id, username="alice", password=PASSWORD):
    b = Browser(server.url)
    _, challenge = pkce()
    b.sign_in(client_id, username=username, password=password, code_challenge=challenge,
              code_challenge_method="S256")
    return b


def test_a_user_without_a_factor_sets_up_an_authenticator_from_the_qr_code(server, cognito):
    pool = oauth_pool(cognito, domain="totp-setup", MfaConfiguration="OFF")
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="ON",
                                     SoftwareTokenMfaConfiguration={"Enabled": True})
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    b = start(server, client_id)
    assert "Set up your authenticator app" in b.page.text, b.page.text[:400]
    assert "<svg" in b.page.text  # the QR code, inline
    otpauth = html.unescape(re.search(r'name="otpauth" value="([^"]+)"', b.page.text).group(1))
    assert otpauth.startswith("otpauth://totp/oauth-pool:alice?")
    secret = parse_qs(urlsplit(otpauth).query)["secret"][0]
    assert secret in b.page.text
    # A wrong code keeps the page, with the same secret.
    b.submit("Continue", code="000000" if totp(secret) != "000000" else "111111")
    assert b.page.status_code == 400 and secret in b.page.text
    b.submit("Continue", code=totp(secret, settle()))
    assert b.redirect and "code=" in b.redirect, b.page.text[:400]
    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert user["UserMFASettingList"] == ["SOFTWARE_TOKEN_MFA"]


def test_a_user_without_a_factor_chooses_email_codes_and_sets_them_up(server, cognito):
    pool = oauth_pool(cognito, domain="email-setup")
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "Your sign-in code: {####}", "Subject": "Sign-in code"})
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    b = start(server, client_id)
    # Both factors may be set up: the choice first.
    assert "Set up a second sign-in step" in b.page.text, b.page.text[:400]
    assert 'value="SOFTWARE_TOKEN_MFA"' in b.page.text and 'value="EMAIL_OTP"' in b.page.text
    b.submit("Continue", factor="EMAIL_OTP")
    assert b.has_field("email"), b.page.text[:400]
    # Not an address: the page again, with the API's message.
    b.submit("Continue", email="not-an-address")
    assert b.page.status_code == 400 and "Invalid email address format." in b.page.text
    b.submit("Continue", email="alice@example.com")
    assert "Enter the code we emailed you" in b.page.text, b.page.text[:400]
    [sent] = outbox_messages(server, pool, "MFA")
    assert sent["Destination"] == "alice@example.com"
    assert sent["Body"] == f"Your sign-in code: {sent['Code']}"
    b.submit("Continue", code=sent["Code"])
    assert b.redirect and "code=" in b.redirect, b.page.text[:400]
    user = cognito.admin_get_user(UserPoolId=pool, Username="alice")
    assert user["UserMFASettingList"] == ["EMAIL_OTP"]
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["email"] == "alice@example.com" and attrs["email_verified"] == "true"


def test_the_choice_of_an_authenticator_app_leads_to_the_qr_code(server, cognito):
    pool = oauth_pool(cognito, domain="choose-totp")
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool, MfaConfiguration="ON", SoftwareTokenMfaConfiguration={"Enabled": True},
        EmailMfaConfiguration={"Message": "Your sign-in code: {####}", "Subject": "Sign-in code"})
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    b = start(server, client_id)
    b.submit("Continue", factor="SOFTWARE_TOKEN_MFA")
    assert "Set up your authenticator app" in b.page.text and "<svg" in b.page.text, b.page.text[:400]
    otpauth = html.unescape(re.search(r'name="otpauth" value="([^"]+)"', b.page.text).group(1))
    b.submit("Continue", code=totp(parse_qs(urlsplit(otpauth).query)["secret"][0], settle()))
    assert b.redirect and "code=" in b.redirect, b.page.text[:400]


def test_a_temporary_password_is_changed_on_the_page(server, cognito):
    pool = oauth_pool(cognito, domain="new-password")
    cognito.admin_create_user(UserPoolId=pool, Username="bob", TemporaryPassword="Temp-Passw0rd!",
                              MessageAction="SUPPRESS")
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    b = start(server, client_id, username="bob", password="Temp-Passw0rd!")
    assert "Choose a new password" in b.page.text
    b.submit("Continue", new_password="short")
    assert b.page.status_code == 400 and "Password" in b.page.text
    b.submit("Continue", new_password="Brand-New-Passw0rd!")
    assert b.redirect and "code=" in b.redirect, b.page.text[:400]
    assert cognito.admin_get_user(UserPoolId=pool, Username="bob")["UserStatus"] == "CONFIRMED"


def test_the_hosted_sign_in_shares_the_apis_lockout(server, cognito):
    pool = oauth_pool(cognito, domain="lockout")
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    messages = [start(server, client_id, password=f"wrong-{i}").page.text for i in range(6)]
    assert "Incorrect username or password." in messages[0]
    assert "Password attempts exceeded" in messages[-1]
    # Locked for the API too, even with the right password.
    b = start(server, client_id)
    assert "Password attempts exceeded" in b.page.text


def test_sign_up_and_confirmation_on_the_hosted_pages(server, cognito):
    pool = oauth_pool(cognito, domain="sign-up", AutoVerifiedAttributes=["email"],
                      Schema=[{"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True}])
    client_id, _ = oauth_client(cognito, pool, secret=True, scopes=("openid",))
    b = Browser(server.url)
    _, challenge = pkce()
    b.get("/oauth2/authorize", response_type="code", client_id=client_id,
          redirect_uri="https://app.example/callback", code_challenge=challenge, code_challenge_method="S256")
    link = html.unescape(re.search(r'href="([^"]*signup[^"]*)"', b.page.text).group(1))
    b.get(link)
    assert b.has_field("attr.email") and b.has_field("password")
    # The API's validation and password policy, in its words.
    b.submit("Sign up", username="carol", password="short", **{"attr.email": "carol@example.com"})
    assert b.page.status_code == 400 and "Password did not conform with policy" in b.page.text
    assert 'value="carol@example.com"' in b.page.text  # kept for the next try
    b.submit("Sign up", username="carol", password="Carol-Passw0rd!", **{"attr.email": "carol@example.com"})
    assert "Confirm your account" in b.page.text and "c***@e***" in b.page.text
    b.submit("Continue", code="000000")
    assert b.page.status_code == 400 and "Invalid verification code" in b.page.text
    b.submit("Continue", code=last_code(server, pool, "SIGN_UP", "carol"))
    assert "Your account is confirmed. Sign in." in b.page.text
    b.submit("Sign in", username="carol", password="Carol-Passw0rd!")
    assert b.redirect and "code=" in b.redirect, b.page.text[:400]


def test_a_forgotten_password_is_reset_on_the_hosted_pages(server, cognito):
    pool = oauth_pool(cognito, domain="forgot")
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    b = Browser(server.url)
    _, challenge = pkce()
    b.get("/oauth2/authorize", response_type="code", client_id=client_id,
          redirect_uri="https://app.example/callback", code_challenge=challenge, code_challenge_method="S256")
    b.get(html.unescape(re.search(r'href="([^"]*forgotPassword[^"]*)"', b.page.text).group(1)))
    b.submit("Continue", username="alice")
    assert "Reset your password" in b.page.text
    b.submit("Continue", code=last_code(server, pool, "FORGOT_PASSWORD"), password="Another-Passw0rd!")
    assert "Your password is changed. Sign in." in b.page.text
    b.submit("Sign in", username="alice", password="Another-Passw0rd!")
    assert b.redirect and "code=" in b.redirect, b.page.text[:400]
