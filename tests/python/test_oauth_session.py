"""The hosted-login session (docs/managed-login.md, "Signed in once"): a browser that signed in on
the hosted pages is signed in to every client of the pool for an hour, without the pages;
`prompt=login`, `prompt=none` and `max_age` as OpenID Connect defines them; /logout, a global
sign-out, a disabled or re-created user end it; the cookie is HttpOnly, SameSite=Lax, sealed and
bound to its pool. Without a browser: oauth_support.Browser keeps the cookies.
"""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from oauth_support import CALLBACK, Browser, oauth_client, oauth_pool, pkce, query_of
from support import PASSWORD, new_confirmed_user, pool_change_settles


@pytest.fixture
def pool(cognito):
    return oauth_pool(cognito, domain="session-login")


@pytest.fixture
def clients(cognito, pool):
    """Two apps of the pool: a public SPA and a confidential server-side app."""
    spa, _ = oauth_client(cognito, pool, scopes=("openid", "email"))
    web, secret = oauth_client(cognito, pool, secret=True, scopes=("openid", "profile"))
    return spa, (web, secret)


def authorize(b: Browser, client_id: str, with_pkce: bool = True, **params):
    if with_pkce:
        params.update(code_challenge=pkce()[1], code_challenge_method="S256")
    return b.get("/oauth2/authorize", response_type="code", client_id=client_id, redirect_uri=CALLBACK,
                 state="st", **params)


def signed_in(b: Browser, client_id: str, **params) -> bool:
    """Whether the authorization came straight back with a code (no page shown)."""
    authorize(b, client_id, **params)
    if b.redirect and b.redirect.startswith(CALLBACK):
        q = query_of(b.redirect)
        assert q["state"] == "st" and "code" in q, b.redirect
        return True
    assert b.page.status_code == 200 and b.has_field("username"), (b.page.status_code, b.page.text[:300])
    return False


def redeem(server, client_id, secret, code) -> dict:
    r = requests.post(f"{server.url}/oauth2/token", auth=(client_id, secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK})
    assert r.status_code == 200, r.text
    return r.json()


def test_one_sign_in_serves_every_client_of_the_pool(server, cognito, pool, alice, clients):
    spa, (web, secret) = clients
    b = Browser(server.url)
    b.sign_in(spa, code_challenge=pkce()[1], code_challenge_method="S256")
    assert b.redirect and "code=" in b.redirect
    assert b.session_cookie(pool)
    first_sign_in = int(time.time())
    # Another app of the pool, in the same browser: a code at once, no page.
    authorize(b, web, with_pkce=False)  # a confidential client may go without PKCE
    code = query_of(b.redirect)["code"]
    tokens = redeem(server, web, secret, code)
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["aud"] == web and claims["cognito:username"] == "alice"
    # auth_time is the sign-in's, not this authorization's.
    assert abs(claims["auth_time"] - first_sign_in) <= 2
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["scope"] == "openid profile" and access["client_id"] == web
    # Its own refresh-token session: refreshing works for the second app.
    r = requests.post(f"{server.url}/oauth2/token", auth=(web, secret), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    # A browser that never signed in sees the page.
    assert not signed_in(Browser(server.url), web)


def test_prompt_and_max_age(server, cognito, pool, alice, clients):
    spa, (web, _) = clients
    fresh = Browser(server.url)
    # prompt=none without a session: back to the app with login_required, never a page.
    authorize(fresh, spa, prompt="none")
    assert fresh.redirect and fresh.redirect.startswith(CALLBACK + "?")
    assert query_of(fresh.redirect) == {"error": "login_required", "error_description": "the user must sign in",
                                        "state": "st"}
    b = Browser(server.url)
    b.sign_in(spa, code_challenge=pkce()[1], code_challenge_method="S256")
    assert signed_in(b, web, prompt="none")
    assert signed_in(b, web, prompt="consent")  # no effect, as on Cognito
    # prompt=login: the page again, although the session lives.
    assert not signed_in(b, web, prompt="login")
    # max_age: a session older than that signs in again.
    assert signed_in(b, web, max_age="3600")
    time.sleep(1.2)
    assert not signed_in(b, web, max_age="0")
    # prompt=none together with another value, or a max_age that is not a number: invalid_request.
    for params in ({"prompt": "none login"}, {"max_age": "soon"}, {"max_age": "-5"}):
        authorize(b, web, **params)
        assert query_of(b.redirect)["error"] == "invalid_request", (params, b.redirect)


def test_logout_ends_the_session_and_keeps_the_device(server, cognito, pool, alice, clients):
    spa, (web, _) = clients
    b = Browser(server.url)
    b.sign_in(spa, code_challenge=pkce()[1], code_challenge_method="S256")
    assert signed_in(b, web)
    b.sign_out(spa)
    assert b.session_cookie(pool) is None
    assert not signed_in(b, web)
    authorize(b, web, prompt="none")
    assert query_of(b.redirect)["error"] == "login_required"


def test_a_global_sign_out_or_a_disabled_user_ends_the_session(server, cognito, pool, alice, clients):
    spa, (web, _) = clients
    b = Browser(server.url)
    b.sign_in(spa, code_challenge=pkce()[1], code_challenge_method="S256")
    assert signed_in(b, web)
    cognito.admin_user_global_sign_out(UserPoolId=pool, Username="alice")
    assert not signed_in(b, web)

    b.submit("Sign in", username="alice", password=PASSWORD)
    assert b.redirect and "code=" in b.redirect
    assert signed_in(b, web)
    cognito.admin_disable_user(UserPoolId=pool, Username="alice")
    assert not signed_in(b, web)
    cognito.admin_enable_user(UserPoolId=pool, Username="alice")

    # Deleted and created again under the same name: someone else, not signed in.
    b.submit("Sign in", username="alice", password=PASSWORD)
    assert signed_in(b, web)
    cognito.admin_delete_user(UserPoolId=pool, Username="alice")
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    assert not signed_in(b, web)


def test_the_cookie_is_httponly_an_hour_and_bound_to_its_pool(server, cognito, pool, alice, clients):
    spa, _ = clients
    b = Browser(server.url)
    authorize(b, spa)
    b.page = b.http.post(b.form().action, data={**b.form().fields, "username": "alice", "password": PASSWORD},
                         allow_redirects=False)
    set_cookies = [c for c in b.page.raw.headers.getlist("Set-Cookie") if c.startswith(f"gatehouse_session_{pool}=")]
    assert len(set_cookies) == 1, b.page.headers
    attrs = [a.strip() for a in set_cookies[0].split(";")]
    assert "HttpOnly" in attrs and "SameSite=Lax" in attrs and "Max-Age=3600" in attrs
    value = b.session_cookie(pool)
    # The same value under another pool's name opens nothing there.
    other = oauth_pool(cognito, domain="other-session")
    new_confirmed_user(cognito, other, "alice", PASSWORD)
    other_client, _ = oauth_client(cognito, other)
    mine = next(c for c in b.http.cookies if c.name == f"gatehouse_session_{pool}")
    b.http.cookies.set(f"gatehouse_session_{other}", value, domain=mine.domain, path=mine.path)
    assert not signed_in(b, other_client)
    # An edited value opens nothing either.
    mine.value = value[:-4] + ("AAAA" if not value.endswith("AAAA") else "BBBB")
    assert not signed_in(b, spa)


def test_a_clients_sso_validity_bounds_the_sessions_reuse(server, cognito, pool, alice, clients):
    """SetUserPoolClientSessionConfiguration (docs/sessions.md): 0 makes the client ask every
    time; the other clients of the pool still reuse the browser's sign-in."""
    spa, (web, _) = clients
    cognito.set_user_pool_session_configuration(
        UserPoolId=pool, UserSessionTracking="ENABLED", TokenSession={"MaxPerUser": 20})
    cognito.set_user_pool_client_session_configuration(
        UserPoolId=pool, ClientId=web, SSOSession={"MaxValidityMinutes": 0})
    pool_change_settles(server)
    b = Browser(server.url)
    b.sign_in(spa, code_challenge=pkce()[1], code_challenge_method="S256")
    assert not signed_in(b, web)
    assert signed_in(b, spa)
    cognito.set_user_pool_client_session_configuration(
        UserPoolId=pool, ClientId=web, SSOSession={"MaxValidityMinutes": 5})
    pool_change_settles(server)
    assert signed_in(b, web)
