"""The hosted pages' challenges (docs/managed-login.md "Pages"): TOTP set-up with a QR code when
the pool requires MFA and the user has none (MFA_SETUP, then the app's code), a new password for
a user created with a temporary one (NEW_PASSWORD_REQUIRED), and the API's lockout shared by the
hosted sign-in.
"""

from __future__ import annotations

import re
import html
from urllib.parse import parse_qs, urlsplit

from mfa_support import settle, totp
from oauth_support import Browser, oauth_client, oauth_pool, pkce
from support import PASSWORD, new_confirmed_user


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
