"""Managed login in real Chromium (Playwright, Debian's chromium) with real relying parties:

- a single-page app on oidc-client-ts (tests/python/spa/) signs in with code + PKCE through the
  hosted pages; aws-jwt-verify accepts its ID and access tokens; userInfo answers its claims; a
  silent refresh works; logout returns to its registered URL;
- a server-side app on openid-client, configured from the issuer URL alone, completes the code
  flow as a confidential client (client_secret_basic), then userInfo and a refresh;
- in a pool with User opt-in, TOTP MFA and "a code only on new devices": the first sign-in asks the
  code and offers "Remember this device"; after sign-out, the same browser is asked no code; a
  fresh browser context is asked; AdminForgetDevice makes the first browser be asked again;
  AdminListDevices shows the browser as "Chrome on Linux".

The Node libraries run from tests/node (npm --prefix tests/node ci). Fixtures and the browser:
conftest.py (`browser`, one Chromium for the session), console_support.py, oauth_support.py.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from console_support import expect  # also: skips (or fails in CI) without Playwright and Chromium
from mfa_support import Env
from support import PASSWORD, free_port, new_confirmed_user

NODE_DIR = Path(__file__).resolve().parents[1] / "node"
SPA_DIR = Path(__file__).resolve().parent / "spa"
NODE = shutil.which("node")
OIDC_BUNDLE = NODE_DIR / "node_modules" / "oidc-client-ts" / "dist" / "browser" / "oidc-client-ts.min.js"
if NODE is None or not OIDC_BUNDLE.exists():
    if os.environ.get("GATEHOUSE_REQUIRE_BROWSER") == "1":
        raise RuntimeError("the Node clients are required: npm --prefix tests/node ci")
    pytest.skip("node or tests/node/node_modules missing", allow_module_level=True)

OPT_IN = {"ChallengeRequiredOnNewDevice": True, "DeviceOnlyRememberedOnUserPrompt": True}


def node(script: str, payload: dict) -> dict:
    run = subprocess.run([NODE, str(NODE_DIR / script)], input=json.dumps(payload), capture_output=True,
                         text=True, timeout=60, cwd=NODE_DIR)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def spa(tmp_path_factory):
    """The SPA's files at http://localhost:PORT (a registered callback may be http on localhost)."""
    root = tmp_path_factory.mktemp("spa")
    shutil.copy(SPA_DIR / "app.js", root / "app.js")
    # One page under the three names the app's URLs use; app.js acts on its path.
    for name in ("index.html", "callback.html", "signed-out.html"):
        shutil.copy(SPA_DIR / "index.html", root / name)
    shutil.copy(OIDC_BUNDLE, root / OIDC_BUNDLE.name)
    handler = functools.partial(QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://localhost:{httpd.server_address[1]}"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def context(browser):
    ctx = browser.new_context()
    yield ctx
    ctx.close()


def hosted_sign_in(page, username="alice", password=PASSWORD):
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_an_spa_on_oidc_client_ts_signs_in_refreshes_and_signs_out(server, cognito, context, spa):
    pool = cognito.create_user_pool(PoolName="spa-pool")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain="spa-login", UserPoolId=pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true",
                       name="Alice Example")
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="spa", AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"],
        AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[f"{spa}/callback.html"],
        LogoutURLs=[f"{spa}/signed-out.html"], SupportedIdentityProviders=["COGNITO"],
    )["UserPoolClient"]["ClientId"]
    issuer = f"{server.url}/{pool}"
    page = context.new_page()
    page.goto(f"{spa}/index.html?authority={issuer}&client_id={client_id}")
    expect(page.locator("#status")).to_have_text("ready")
    page.evaluate("() => { window.app.signIn(); }")
    page.wait_for_url(f"{server.url}/login?**")
    hosted_sign_in(page)
    page.wait_for_url(f"{spa}/callback.html?**")
    expect(page.locator("#status")).to_have_text("signed in as alice")
    user = page.evaluate("window.app.ready.then(u => ({id: u.id_token, access: u.access_token,"
                         " refresh: u.refresh_token, profile: u.profile, scope: u.scope}))")
    # userInfo's claims are in the profile (loadUserInfo).
    assert user["profile"]["email"] == "alice@example.com" and user["profile"]["name"] == "Alice Example"
    assert user["profile"]["username"] == "alice"
    assert user["refresh"]
    verified = node("verify_tokens.mjs", {"issuer": issuer, "jwksUri": f"{issuer}/.well-known/jwks.json",
                                          "clientId": client_id, "idToken": user["id"],
                                          "accessToken": user["access"]})
    assert verified["id"]["cognito:username"] == "alice"
    assert verified["access"]["scope"] == "openid email profile"
    # A silent refresh: the refresh token at the token endpoint, new tokens.
    refreshed = page.evaluate("window.app.refresh().then(u => ({access: u.access_token, sub: u.profile.sub}))")
    assert refreshed["access"] != user["access"] and refreshed["sub"] == user["profile"]["sub"]
    # Logout (OIDC's dialect with id_token_hint) returns to the registered URL.
    page.evaluate("() => { window.app.signOut(); }")
    page.wait_for_url(f"{spa}/signed-out.html**")
    expect(page.locator("#status")).to_have_text("signed out")


def test_a_server_side_app_on_openid_client_completes_the_code_flow(server, cognito, context):
    pool = cognito.create_user_pool(PoolName="rp-pool")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain="rp-login", UserPoolId=pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD, email="alice@example.com", email_verified="true")
    callback = f"http://localhost:{free_port()}/auth/callback"
    created = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="web", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email", "profile"], CallbackURLs=[callback],
    )["UserPoolClient"]
    base = {"issuer": f"{server.url}/{pool}", "clientId": created["ClientId"],
            "clientSecret": created["ClientSecret"], "redirectUri": callback}
    started = node("openid_client_flow.mjs", {**base, "step": "start"})
    page = context.new_page()
    landed: list[str] = []

    def app(route):  # the app's callback: nothing serves it, the test reads where the browser went
        landed.append(route.request.url)
        route.fulfill(status=200, body="signed in")

    page.route(f"{callback}**", app)
    page.goto(started["url"])
    hosted_sign_in(page)
    page.wait_for_url(f"{callback}?**")
    assert landed, "the browser never reached the app's callback"
    done = node("openid_client_flow.mjs", {**base, **started, "step": "finish", "callbackUrl": landed[0]})
    assert done["idClaims"]["cognito:username"] == "alice" and done["idClaims"]["nonce"] == started["nonce"]
    assert done["userInfo"]["email"] == "alice@example.com"
    assert done["refreshed"]["idClaims"]["sub"] == done["idClaims"]["sub"]


def test_a_remembered_browser_skips_the_code_until_it_is_forgotten(server, cognito, browser):
    env = Env(cognito, server, devices=OPT_IN)
    cognito.create_user_pool_domain(Domain="browser-devices", UserPoolId=env.pool)
    env.user("alice")
    authenticator = env.enrol("alice")
    callback = "https://app.example/callback"
    client_id = cognito.create_user_pool_client(
        UserPoolId=env.pool, ClientName="web", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid"], CallbackURLs=[callback],
        LogoutURLs=["https://app.example/bye"],
    )["UserPoolClient"]["ClientId"]
    authorize = f"{server.url}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={callback}"

    def new_browser():
        ctx = browser.new_context()
        # The app: nothing serves it, the test reads where the browser went.
        ctx.route("https://app.example/**", lambda route: route.fulfill(status=200, body="app"))
        return ctx

    def sign_out(ctx):
        """/logout ends the hosted-login session (the cookie goes; the device cookie stays)."""
        out = ctx.request.get(f"{server.url}/logout?client_id={client_id}&logout_uri=https://app.example/bye",
                              max_redirects=0)
        assert out.status == 302 and out.headers["location"] == "https://app.example/bye"
        assert not [c for c in ctx.cookies() if c["name"].startswith("gatehouse_session_")]

    def sign_in(ctx):
        page = ctx.new_page()
        page.goto(authorize)
        hosted_sign_in(page)
        return page

    first = new_browser()
    try:
        page = sign_in(first)
        expect(page.get_by_label("Code")).to_be_visible()
        page.get_by_label("Code").fill(authenticator.next_code())
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("button", name="Remember this device")).to_be_visible()
        expect(page.get_by_role("button", name="Don't remember")).to_be_visible()
        page.get_by_role("button", name="Remember this device").click()
        page.wait_for_url(f"{callback}?code=**")
        devices = cognito.admin_list_devices(UserPoolId=env.pool, Username="alice")["Devices"]
        named = {d["DeviceKey"]: {a["Name"]: a["Value"] for a in d["DeviceAttributes"]} for d in devices}
        browser_keys = [k for k, a in named.items() if a.get("device_name") == "Chrome on Linux"]
        assert len(browser_keys) == 1, named
        assert named[browser_keys[0]]["dev:device_remembered_status"] == "remembered"
        # Sign out, then in again in the same browser: no code.
        sign_out(first)
        page = sign_in(first)
        page.wait_for_url(f"{callback}?code=**")
        # A fresh context (another browser) is asked.
        second = new_browser()
        try:
            other = sign_in(second)
            expect(other.get_by_label("Code")).to_be_visible()
        finally:
            second.close()
        # Forgotten by an admin: the first browser is asked again.
        cognito.admin_forget_device(UserPoolId=env.pool, Username="alice", DeviceKey=browser_keys[0])
        sign_out(first)
        page = sign_in(first)
        expect(page.get_by_label("Code")).to_be_visible()
    finally:
        first.close()
