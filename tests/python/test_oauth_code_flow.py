"""Managed login's OAuth 2.0 / OpenID Connect surface without a browser: the discovery document,
the authorization-code grant with PKCE through the hosted sign-in page, tokens (verified with the
pool's JWKS), userInfo, the refresh grant, revocation and both logout dialects; and the
refusals (docs/managed-login.md; Cognito's behaviour: docs/design/oauth-cognito-behaviour.md §4).
"""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests

from oauth_support import (CALLBACK, SIGNED_OUT, Browser, fragment_of, oauth_client, oauth_pool, pkce,
                           query_of)
from support import PASSWORD, new_app_client, new_confirmed_user, sign_in_tokens


@pytest.fixture
def pool(cognito):
    return oauth_pool(cognito)


@pytest.fixture
def alice_attributes():
    return {"email": "alice@example.com", "email_verified": "true", "name": "Alice Example"}


def verified(server, pool_id: str, token: str, audience: str | None = None) -> dict:
    keys = jwt.PyJWKClient(f"{server.url}/{pool_id}/.well-known/jwks.json")
    key = keys.get_signing_key_from_jwt(token).key
    options = {"verify_aud": audience is not None}
    return jwt.decode(token, key, algorithms=["RS256"], audience=audience, issuer=f"{server.url}/{pool_id}",
                      options=options)


def code_flow(server, client_id: str, browser: Browser | None = None, scope: str = "openid email profile",
              **extra) -> tuple[str, str, Browser]:
    """Signs alice in through the hosted page; returns (code, verifier, browser)."""
    browser = browser or Browser(server.url)
    verifier, challenge = pkce()
    browser.sign_in(client_id, scope=scope, state="st-1", nonce="n-1", code_challenge=challenge,
                    code_challenge_method="S256", **extra)
    assert browser.redirect and browser.redirect.startswith(CALLBACK + "?"), (browser.page.status_code,
                                                                              browser.page.text[:400])
    q = query_of(browser.redirect)
    assert q["state"] == "st-1"
    return q["code"], verifier, browser


def redeem(server, client_id: str, code: str, verifier: str | None, secret: str | None = None,
           redirect_uri: str = CALLBACK, basic: bool = True) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    auth = None
    if secret is not None and basic:
        auth = (client_id, secret)
    else:
        data["client_id"] = client_id
        if secret is not None:
            data["client_secret"] = secret
    return requests.post(f"{server.url}/oauth2/token", data=data, auth=auth)


def test_discovery_lists_the_endpoints_once_the_pool_has_a_domain(server, cognito):
    bare = cognito.create_user_pool(PoolName="no-domain")["UserPool"]["Id"]
    doc = requests.get(f"{server.url}/{bare}/.well-known/openid-configuration").json()
    assert doc["authorization_endpoint"] == "" and "end_session_endpoint" not in doc
    with_domain = oauth_pool(cognito, domain="discovery-test")
    doc = requests.get(f"{server.url}/{with_domain}/.well-known/openid-configuration").json()
    assert doc["issuer"] == f"{server.url}/{with_domain}"
    assert doc["authorization_endpoint"] == f"{server.url}/oauth2/authorize"
    assert doc["token_endpoint"] == f"{server.url}/oauth2/token"
    assert doc["userinfo_endpoint"] == f"{server.url}/oauth2/userInfo"
    assert doc["end_session_endpoint"] == f"{server.url}/logout"
    assert doc["revocation_endpoint"] == f"{server.url}/oauth2/revoke"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert requests.get(doc["jwks_uri"]).json()["keys"]


def test_code_with_pkce_gives_verified_tokens_with_the_scopes_and_nonce(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    code, verifier, _ = code_flow(server, client_id)
    r = redeem(server, client_id, code, verifier)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert set(body) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    access = verified(server, pool, body["access_token"])
    assert access["token_use"] == "access" and access["client_id"] == client_id
    assert access["scope"].split() == ["openid", "email", "profile"]
    assert access["username"] == "alice"
    id_token = verified(server, pool, body["id_token"], audience=client_id)
    assert id_token["nonce"] == "n-1"
    assert id_token["email"] == "alice@example.com" and id_token["cognito:username"] == "alice"
    digest = hashlib.sha256(body["access_token"].encode()).digest()[:16]
    assert id_token["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    # userInfo answers the same user's claims.
    info = requests.get(f"{server.url}/oauth2/userInfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert info.status_code == 200, info.text
    claims = info.json()
    assert claims["sub"] == id_token["sub"] and claims["email"] == "alice@example.com"
    assert claims["name"] == "Alice Example" and claims["username"] == "alice"
    # The access token has no aws.cognito.signin.user.admin: the user API refuses it.
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_user(AccessToken=body["access_token"])


def test_the_refresh_grant_works_and_keeps_the_scopes(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    code, verifier, _ = code_flow(server, client_id, scope="openid email")
    tokens = redeem(server, client_id, code, verifier).json()
    r = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    again = r.json()
    assert "refresh_token" not in again  # no rotation configured
    assert verified(server, pool, again["access_token"])["scope"] == "openid email"
    assert verified(server, pool, again["id_token"], audience=client_id)["sub"]


def test_a_confidential_client_authenticates_with_basic_or_post_and_not_without(server, cognito, pool, alice):
    client_id, secret = oauth_client(cognito, pool, secret=True)
    for basic in (True, False):
        code, verifier, _ = code_flow(server, client_id)
        r = redeem(server, client_id, code, verifier, secret=secret, basic=basic)
        assert r.status_code == 200, r.text
    code, verifier, _ = code_flow(server, client_id)
    r = redeem(server, client_id, code, verifier, secret="wrong-secret")
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"
    r = redeem(server, client_id, code, verifier)
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_a_confidential_client_without_pkce_gets_a_code(server, cognito, pool, alice):
    client_id, secret = oauth_client(cognito, pool, secret=True)
    b = Browser(server.url)
    b.sign_in(client_id, scope="openid")
    code = query_of(b.redirect)["code"]
    assert redeem(server, client_id, code, None, secret=secret).status_code == 200


def test_implicit_grant_puts_tokens_in_the_fragment(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool, flows=("implicit",))
    b = Browser(server.url)
    b.sign_in(client_id, response_type="token", scope="openid email", state="s", nonce="nn")
    f = fragment_of(b.redirect)
    assert f["state"] == "s" and f["token_type"] == "Bearer" and "refresh_token" not in f
    assert verified(server, pool, f["id_token"], audience=client_id)["nonce"] == "nn"
    assert verified(server, pool, f["access_token"])["scope"] == "openid email"


def test_revocation_ends_the_refresh_token_and_its_access_tokens(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    code, verifier, _ = code_flow(server, client_id)
    tokens = redeem(server, client_id, code, verifier).json()
    r = requests.post(f"{server.url}/oauth2/revoke", data={"token": tokens["refresh_token"], "client_id": client_id})
    assert r.status_code == 200 and r.text == ""
    r = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "refresh_token": tokens["refresh_token"]})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    info = requests.get(f"{server.url}/oauth2/userInfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 401 and info.json()["error"] == "invalid_token"
    # An access token is not a refresh token.
    r = requests.post(f"{server.url}/oauth2/revoke", data={"token": tokens["access_token"], "client_id": client_id})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_token_type"


def test_logout_goes_only_to_registered_sign_out_urls(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    r = requests.get(f"{server.url}/logout", params={"client_id": client_id, "logout_uri": SIGNED_OUT},
                     allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == SIGNED_OUT
    for evil in ("https://evil.example/", SIGNED_OUT + "/../x", "//evil.example", SIGNED_OUT + "?x=1"):
        r = requests.get(f"{server.url}/logout", params={"client_id": client_id, "logout_uri": evil},
                         allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers, evil
    # OpenID Connect's dialect: id_token_hint names the client, state comes back.
    code, verifier, _ = code_flow(server, client_id)
    id_token = redeem(server, client_id, code, verifier).json()["id_token"]
    r = requests.get(f"{server.url}/logout", params={"id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT,
                                                     "state": "bye"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == SIGNED_OUT + "?state=bye"
    r = requests.get(f"{server.url}/logout", params={"id_token_hint": id_token,
                                                     "post_logout_redirect_uri": "https://evil.example/"},
                     allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers
    # Sign in again: back to the authorization endpoint with the same parameters.
    r = requests.get(f"{server.url}/logout", params={"client_id": client_id, "redirect_uri": CALLBACK,
                                                     "response_type": "code"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].startswith("/oauth2/authorize?")


# --- refusals ----------------------------------------------------------------------------------

def test_an_unregistered_redirect_uri_gets_the_error_page_not_a_redirect(server, cognito, pool):
    client_id, _ = oauth_client(cognito, pool)
    _, challenge = pkce()
    for uri in ("https://evil.example/callback", CALLBACK + "/", CALLBACK.upper()):
        r = requests.get(f"{server.url}/oauth2/authorize", params={
            "response_type": "code", "client_id": client_id, "redirect_uri": uri, "code_challenge": challenge,
            "code_challenge_method": "S256"}, allow_redirects=False)
        assert r.status_code == 400 and "Location" not in r.headers, uri
        assert "redirect_mismatch" in r.text


def test_a_public_client_must_use_s256(server, cognito, pool):
    client_id, _ = oauth_client(cognito, pool)
    _, challenge = pkce()
    base = {"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "state": "x"}
    for extra in ({}, {"code_challenge": challenge, "code_challenge_method": "plain"},
                  {"code_challenge": challenge}):
        r = requests.get(f"{server.url}/oauth2/authorize", params={**base, **extra}, allow_redirects=False)
        assert r.status_code == 302, extra
        q = query_of(r.headers["Location"])
        assert r.headers["Location"].startswith(CALLBACK + "?")
        assert q["error"] == "invalid_request" and q["state"] == "x", extra


def test_scopes_beyond_the_clients_are_refused(server, cognito, pool):
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    _, challenge = pkce()
    r = requests.get(f"{server.url}/oauth2/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "scope": "openid phone",
        "code_challenge": challenge, "code_challenge_method": "S256"}, allow_redirects=False)
    assert query_of(r.headers["Location"])["error"] == "invalid_scope"


def test_a_code_works_once_even_when_redeemed_many_times_at_once(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    code, verifier, _ = code_flow(server, client_id)
    with ThreadPoolExecutor(12) as ex:
        results = list(ex.map(lambda _: redeem(server, client_id, code, verifier), range(12)))
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) == 1, [r.text for r in results]
    assert all(r.json()["error"] == "invalid_grant" for r in results if r.status_code != 200)


def test_a_code_is_bound_to_its_verifier_client_and_redirect_uri(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool, CallbackURLs=[CALLBACK, "https://app.example/other"])
    other_client, _ = oauth_client(cognito, pool)
    code, verifier, _ = code_flow(server, client_id)
    r = redeem(server, client_id, code, pkce()[0])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # A failed try spends the code.
    assert redeem(server, client_id, code, verifier).json()["error"] == "invalid_grant"
    code, verifier, _ = code_flow(server, client_id)
    assert redeem(server, other_client, code, verifier).json()["error"] == "invalid_grant"
    code, verifier, _ = code_flow(server, client_id)
    assert redeem(server, client_id, code, verifier,
                  redirect_uri="https://app.example/other").json()["error"] == "invalid_grant"
    code, _, _ = code_flow(server, client_id)
    assert redeem(server, client_id, code, None).json()["error"] == "invalid_grant"


def test_a_sign_in_form_without_its_csrf_token_is_refused(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    b = Browser(server.url)
    _, challenge = pkce()
    b.get("/oauth2/authorize", response_type="code", client_id=client_id, redirect_uri=CALLBACK,
          code_challenge=challenge, code_challenge_method="S256")
    form = b.form()
    data = {k: v for k, v in form.fields.items() if k != "csrf"}
    data.update(username="alice", password=PASSWORD)
    r = b.http.post(form.action, data=data, allow_redirects=False)
    assert r.status_code == 403 and "Location" not in r.headers
    # Login CSRF: a form posted from another site carries the token of another browser.
    stranger = requests.post(form.action, data={**form.fields, "username": "alice", "password": PASSWORD},
                             allow_redirects=False)
    assert stranger.status_code == 403


def test_userinfo_refuses_a_token_from_initiate_auth(server, cognito, pool, alice):
    client_id, _ = new_app_client(cognito, pool)
    access = sign_in_tokens(cognito, client_id)["AccessToken"]
    r = requests.get(f"{server.url}/oauth2/userInfo", headers={"Authorization": f"Bearer {access}"})
    assert r.status_code == 401
    assert r.json() == {"error": "invalid_token", "error_description": "Access token does not contain openid scope"}
    assert "invalid_token" in r.headers["WWW-Authenticate"]


def test_a_wrong_password_shows_the_form_again_with_the_apis_message(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    b = Browser(server.url)
    _, challenge = pkce()
    b.sign_in(client_id, password="not-the-password", code_challenge=challenge, code_challenge_method="S256")
    assert b.page.status_code == 400 and b.redirect is None
    assert "Incorrect username or password." in b.page.text
    assert b.has_field("password")


def test_the_endpoints_need_a_domain_and_an_oauth_client(server, cognito, alice):
    bare = cognito.create_user_pool(PoolName="bare")["UserPool"]["Id"]
    client_id, _ = oauth_client(cognito, bare)
    _, challenge = pkce()
    r = requests.get(f"{server.url}/oauth2/authorize", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "code_challenge": challenge,
        "code_challenge_method": "S256"}, allow_redirects=False)
    assert r.status_code == 400 and "Location" not in r.headers


def test_the_hosted_page_hides_strangers_when_the_client_does(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool, PreventUserExistenceErrors="ENABLED")
    b = Browser(server.url)
    _, challenge = pkce()
    b.sign_in(client_id, username="nobody", code_challenge=challenge, code_challenge_method="S256")
    assert b.page.status_code == 400 and "Incorrect username or password." in b.page.text
    legacy, _ = oauth_client(cognito, pool)
    b.sign_in(legacy, username="nobody", code_challenge=challenge, code_challenge_method="S256")
    assert "User does not exist." in b.page.text


def test_the_refresh_grant_rotates_when_the_client_asks(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool, RefreshTokenRotation={"Feature": "ENABLED",
                                                                      "RetryGracePeriodSeconds": 0})
    code, verifier, _ = code_flow(server, client_id)
    first = redeem(server, client_id, code, verifier).json()["refresh_token"]
    r = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "refresh_token": first})
    assert r.status_code == 200, r.text
    second = r.json()["refresh_token"]
    assert second != first
    # The rotated-out token is refused (and its reuse revokes the family).
    r = requests.post(f"{server.url}/oauth2/token", data={
        "grant_type": "refresh_token", "client_id": client_id, "refresh_token": first})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_the_pages_cookies_and_headers(server, cognito, pool, alice):
    client_id, _ = oauth_client(cognito, pool)
    _, challenge = pkce()
    r = requests.get(f"{server.url}/login", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http here; https public URLs add it
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY" and "no-store" in r.headers["Cache-Control"]


def test_behind_https_the_cookies_are_secure(server_factory):
    srv = server_factory(extra_args=("--public-url", "https://login.example"))
    cognito = srv.client()
    pool_id = oauth_pool(cognito, domain="secure-cookies")
    client_id, _ = oauth_client(cognito, pool_id)
    _, challenge = pkce()
    r = requests.get(f"{srv.url}/login", params={
        "response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    assert r.status_code == 200, r.text
    assert "; Secure" in r.headers["Set-Cookie"]
