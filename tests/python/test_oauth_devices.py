"""Browsers remembered as devices by the hosted pages (docs/managed-login.md "Remembered
browsers"), with a cookie jar standing in for the browser (test_oauth_browser.py drives
Chromium): in a pool with device tracking, a browser that signs in becomes a device of the user;
User opt-in asks, Always remembers; a remembered browser skips the TOTP code when the pool asks
for a code only on new devices; ForgetDevice or not_remembered makes it a new device again; its
tokens carry device_key.
"""

from __future__ import annotations

import jwt
import pytest
import requests

from mfa_support import Env
from oauth_support import CHROME_UA, Browser, oauth_client, pkce, query_of

OPT_IN = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}
ALWAYS = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": False}


def setup(cognito, server, devices):
    env = Env(cognito, server, devices=devices)
    cognito.create_user_pool_domain(Domain="devices-login", UserPoolId=env.pool)
    env.user("alice")
    authenticator = env.enrol("alice")
    client_id, _ = oauth_client(cognito, env.pool, scopes=("openid",))
    return env, authenticator, client_id


def start(server, client_id, browser=None):
    """A sign-in; in a `browser` that signed in before, after it signs out (else its hosted-login
    session would answer without the pages)."""
    if browser is None:
        browser = Browser(server.url)
    else:
        browser.sign_out(client_id)
    _, challenge = pkce()
    browser.sign_in(client_id, code_challenge=challenge, code_challenge_method="S256")
    return browser


def asks_code(browser) -> bool:
    return browser.redirect is None and browser.has_field("code")


def devices_of(cognito, pool):
    return cognito.admin_list_devices(UserPoolId=pool, Username="alice")["Devices"]


def attrs(device):
    return {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}


def test_user_opt_in_asks_and_a_remembered_browser_skips_the_code(server, cognito):
    env, authenticator, client_id = setup(cognito, server, OPT_IN)
    before = {d["DeviceKey"] for d in devices_of(cognito, env.pool)}
    b = start(server, client_id)
    assert asks_code(b), b.page.text[:300]
    b.submit("Continue", code=authenticator.next_code())
    assert "Remember this device" in b.page.text
    b.submit("Remember this device")
    assert b.redirect and "code=" in b.redirect
    new = [d for d in devices_of(cognito, env.pool) if d["DeviceKey"] not in before]
    assert len(new) == 1
    a = attrs(new[0])
    assert a["device_name"] == "Chrome on Linux" and a["dev:device_remembered_status"] == "remembered"
    # Signed out and back in, in the same browser: no code.
    start(server, client_id, b)
    assert b.redirect and "code=" in b.redirect, b.page.text[:300]
    # A fresh browser is a new device: asked.
    assert asks_code(start(server, client_id))
    # Forgotten by an admin: the first browser is asked again.
    cognito.admin_forget_device(UserPoolId=env.pool, Username="alice", DeviceKey=new[0]["DeviceKey"])
    assert asks_code(start(server, client_id, b))


def test_dont_remember_leaves_the_browser_a_device_that_is_asked(server, cognito):
    env, authenticator, client_id = setup(cognito, server, OPT_IN)
    b = start(server, client_id)
    b.submit("Continue", code=authenticator.next_code())
    b.submit("Don't remember")
    assert b.redirect and "code=" in b.redirect
    statuses = [attrs(d)["dev:device_remembered_status"] for d in devices_of(cognito, env.pool)
                if attrs(d).get("device_name") == "Chrome on Linux"]
    assert statuses == ["not_remembered"]
    assert asks_code(start(server, client_id, b))


def test_always_remembers_at_once_and_tokens_carry_the_device(server, cognito):
    env, authenticator, client_id = setup(cognito, server, ALWAYS)
    verifier, challenge = pkce()
    b = Browser(server.url)
    b.sign_in(client_id, code_challenge=challenge, code_challenge_method="S256")
    b.submit("Continue", code=authenticator.next_code())
    assert b.redirect and "code=" in b.redirect, b.page.text[:300]
    code = query_of(b.redirect)["code"]
    tokens = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "authorization_code", "code": code, "client_id": client_id,
        "redirect_uri": "https://app.example/callback", "code_verifier": verifier}).json()
    device_key = jwt.decode(tokens["access_token"], options={"verify_signature": False})["device_key"]
    named = {d["DeviceKey"]: attrs(d) for d in devices_of(cognito, env.pool)}
    assert named[device_key]["dev:device_remembered_status"] == "remembered"
    # The refresh token of a device-tracked session works at the token endpoint (Cognito's doesn't).
    r = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    # Not remembered any more: a new device again.
    cognito.admin_update_device_status(UserPoolId=env.pool, Username="alice", DeviceKey=device_key,
                                       DeviceRememberedStatus="not_remembered")
    assert asks_code(start(server, client_id, b))


def test_a_cookie_from_another_browser_profile_is_not_a_device(server, cognito):
    env, authenticator, client_id = setup(cognito, server, ALWAYS)
    b = start(server, client_id)
    b.submit("Continue", code=authenticator.next_code())
    # The cookie's value edited: it opens nothing, so the browser is new (and asked).
    cookie = next(c for c in b.http.cookies if c.name.startswith("gatehouse_device_"))
    cookie.value = cookie.value[:-4] + ("AAAA" if not cookie.value.endswith("AAAA") else "BBBB")
    assert asks_code(start(server, client_id, b))


@pytest.mark.parametrize("ua, name", [
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0", "Firefox on Windows"),
    (CHROME_UA, "Chrome on Linux"),
])
def test_the_device_is_named_after_the_browser(server, cognito, ua, name):
    env, authenticator, client_id = setup(cognito, server, ALWAYS)
    b = start(server, client_id, Browser(server.url, user_agent=ua))
    b.submit("Continue", code=authenticator.next_code())
    assert name in [attrs(d).get("device_name") for d in devices_of(cognito, env.pool)]
