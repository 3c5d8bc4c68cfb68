"""Passkeys in real Chromium (docs/passkeys.md): a virtual authenticator (the DevTools protocol's
WebAuthn domain) registers a passkey through StartWebAuthnRegistration,
navigator.credentials.create and CompleteWebAuthnRegistration, then signs in with USER_AUTH and
the WEB_AUTHN challenge through navigator.credentials.get. A tampered assertion, an assertion
made for another origin and one whose signature counter did not move are refused; those two
are signed here with the authenticator's own key (read through DevTools), so that only the
origin or the counter is wrong.

The page is the server's own /health at http://localhost:<port>: browsers treat localhost as a
secure context, and the pool's relying party id is `localhost`."""

from __future__ import annotations

import base64
import hashlib
import json
import struct

import pytest
from botocore.exceptions import ClientError

from console_support import chromium  # noqa: F401 (skips the module without a browser)
from support import (PASSWORD, assert_tokens_of, aws_error, new_app_client, new_confirmed_user, pool_change_settles,
                     tokens)

# base64url without padding, both ways, and the WebAuthn JSON forms Amplify sends.
HELPERS = """
const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, '');
const unb64 = (s) => Uint8Array.from(
  atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)), (c) => c.charCodeAt(0));
"""

CREATE = HELPERS + """
return (async () => {
  const o = structuredClone(options);
  o.challenge = unb64(o.challenge);
  o.user.id = unb64(o.user.id);
  o.excludeCredentials = (o.excludeCredentials || []).map((c) => ({ ...c, id: unb64(c.id) }));
  const c = await navigator.credentials.create({ publicKey: o });
  return {
    id: c.id, rawId: b64(c.rawId), type: c.type, authenticatorAttachment: c.authenticatorAttachment,
    clientExtensionResults: c.getClientExtensionResults(),
    response: {
      clientDataJSON: b64(c.response.clientDataJSON),
      attestationObject: b64(c.response.attestationObject),
      transports: c.response.getTransports(),
    },
  };
})();
"""

GET = HELPERS + """
return (async () => {
  const o = JSON.parse(options);
  o.challenge = unb64(o.challenge);
  o.allowCredentials = o.allowCredentials.map((c) => ({ ...c, id: unb64(c.id) }));
  const a = await navigator.credentials.get({ publicKey: o });
  return {
    id: a.id, rawId: b64(a.rawId), type: a.type, authenticatorAttachment: a.authenticatorAttachment,
    clientExtensionResults: a.getClientExtensionResults(),
    response: {
      clientDataJSON: b64(a.response.clientDataJSON),
      authenticatorData: b64(a.response.authenticatorData),
      signature: b64(a.response.signature),
      userHandle: a.response.userHandle ? b64(a.response.userHandle) : null,
    },
  };
})();
"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A page at http://localhost:<port> with a CTAP2 platform authenticator that verifies the
    user and keeps resident keys."""

    def __init__(self, browser, server):
        self.context = browser.new_context()
        self.page = self.context.new_page()
        port = server.url.rsplit(":", 1)[1]
        self.origin = f"http://localhost:{port}"
        self.page.goto(f"{self.origin}/health")
        self.cdp = self.context.new_cdp_session(self.page)
        self.cdp.send("WebAuthn.enable")
        self.authenticator = self.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
            "protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
            "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
        }})["authenticatorId"]

    def run(self, script: str, options):
        return self.page.evaluate(f"(options) => {{ {script} }}", options)

    def credential(self) -> dict:
        """The authenticator's one credential, with its private key and sign count."""
        [c] = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator})["credentials"]
        return c

    def close(self):
        self.context.close()


@pytest.fixture
def setup(server, cognito):
    pool = cognito.create_user_pool(PoolName="passkeys", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}})["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OFF", WebAuthnConfiguration={
        "RelyingPartyId": "localhost", "UserVerification": "preferred"})
    client_id, _ = new_app_client(cognito, pool, ExplicitAuthFlows=[
        "ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    return pool, client_id


@pytest.fixture
def chrome(browser, server):
    b = Browser(browser, server)
    yield b
    b.close()


def password_access(cognito, client_id):
    return tokens(cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "alice", "PASSWORD": PASSWORD}))["AccessToken"]


def register(cognito, chrome, access):
    options = cognito.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    credential = chrome.run(CREATE, options)
    cognito.complete_web_authn_registration(AccessToken=access, Credential=credential)
    return options, credential


def passkey_challenge(cognito, client_id):
    answer = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={
        "USERNAME": "alice", "PREFERRED_CHALLENGE": "WEB_AUTHN"})
    assert answer["ChallengeName"] == "WEB_AUTHN", answer
    return answer["Session"], answer["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"]


def answer(cognito, client_id, session, credential):
    return cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="WEB_AUTHN", Session=session,
                                             ChallengeResponses={"USERNAME": "alice",
                                                                 "CREDENTIAL": json.dumps(credential)})


def forged(chrome, credential: dict, options: str, origin: str, counter: int) -> dict:
    """An assertion for `options` signed with the authenticator's own key, from `origin`, with
    this signature counter."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    key = serialization.load_der_private_key(base64.b64decode(chrome.credential()["privateKey"]), None)
    challenge = json.loads(options)["challenge"]
    client_data = json.dumps({"type": "webauthn.get", "challenge": challenge, "origin": origin,
                              "crossOrigin": False}).encode()
    auth_data = hashlib.sha256(b"localhost").digest() + bytes([0x05]) + struct.pack(">I", counter)
    signature = key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
    return {**credential, "response": {**credential["response"], "clientDataJSON": b64url(client_data),
                                       "authenticatorData": b64url(auth_data), "signature": b64url(signature)}}


def test_register_then_sign_in_with_the_passkey(server, cognito, setup, chrome):
    pool, client_id = setup
    access = password_access(cognito, client_id)
    options, credential = register(cognito, chrome, access)
    # Cognito's creation options: the relying party, the user's sub as its id, ES256 then RS256,
    # a resident key, the pool's user verification.
    assert options["rp"] == {"id": "localhost", "name": "localhost"}
    sub = cognito.admin_get_user(UserPoolId=pool, Username="alice")["UserAttributes"]
    assert unb64url(options["user"]["id"]).decode() == next(a["Value"] for a in sub if a["Name"] == "sub")
    assert options["user"]["name"] == "alice"
    assert [p["alg"] for p in options["pubKeyCredParams"]] == [-7, -257]
    assert options["authenticatorSelection"] == {
        "residentKey": "required", "requireResidentKey": True, "userVerification": "preferred"}
    [listed] = cognito.list_web_authn_credentials(AccessToken=access)["Credentials"]
    assert listed["CredentialId"] == credential["id"] and listed["RelyingPartyId"] == "localhost"
    assert listed["AuthenticatorAttachment"] == "platform" and listed["AuthenticatorTransports"] == ["internal"]
    assert listed["FriendlyCredentialName"] == "Platform passkey"
    assert cognito.get_user_auth_factors(AccessToken=access)["ConfiguredUserAuthFactors"] == ["PASSWORD", "WEB_AUTHN"]
    # The same registration cannot be completed twice, nor the passkey registered again.
    with aws_error("WebAuthnChallengeNotFoundException"):
        cognito.complete_web_authn_registration(AccessToken=access, Credential=credential)

    # Sign-in: the menu offers the passkey; its challenge names it; the assertion gives tokens.
    menu = cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_AUTH", AuthParameters={"USERNAME": "alice"})
    assert menu["AvailableChallenges"] == ["PASSWORD_SRP", "PASSWORD", "WEB_AUTHN"]
    chosen = cognito.respond_to_auth_challenge(ClientId=client_id, ChallengeName="SELECT_CHALLENGE",
                                               Session=menu["Session"],
                                               ChallengeResponses={"USERNAME": "alice", "ANSWER": "WEB_AUTHN"})
    request = json.loads(chosen["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    assert request["rpId"] == "localhost" and request["timeout"] == 180000
    assert request["allowCredentials"] == [{"type": "public-key", "id": credential["id"], "transports": ["internal"]}]
    assertion = chrome.run(GET, chosen["ChallengeParameters"]["CREDENTIAL_REQUEST_OPTIONS"])
    result = tokens(answer(cognito, client_id, chosen["Session"], assertion))
    assert_tokens_of(f"{server.url}/{pool}", result, client_id, "alice")
    # The assertion and its Session are spent.
    with aws_error("NotAuthorizedException", "session is expired"):
        answer(cognito, client_id, chosen["Session"], assertion)
    # A second sign-in straight to the passkey.
    session, options = passkey_challenge(cognito, client_id)
    tokens(answer(cognito, client_id, session, chrome.run(GET, options)))


def test_tampered_foreign_and_replayed_assertions_are_refused(server, cognito, setup, chrome):
    pool, client_id = setup
    register(cognito, chrome, password_access(cognito, client_id))
    session, options = passkey_challenge(cognito, client_id)
    real = chrome.run(GET, options)
    # A flipped bit in the signature.
    signature = bytearray(unb64url(real["response"]["signature"]))
    signature[-1] ^= 1
    tampered = {**real, "response": {**real["response"], "signature": b64url(bytes(signature))}}
    with aws_error("NotAuthorizedException"):
        answer(cognito, client_id, session, tampered)
    # Signed by the passkey's own key, but for another origin.
    count = chrome.credential()["signCount"]
    with aws_error("NotAuthorizedException"):
        answer(cognito, client_id, session, forged(chrome, real, options, "https://evil.example.com", count + 1))
    # The untouched assertion still works on this Session (the refusals counted as failures only).
    tokens(answer(cognito, client_id, session, real))

    # A counter that did not move past the last one seen: a cloned authenticator.
    seen = chrome.credential()["signCount"]
    assert seen >= 1
    session, options = passkey_challenge(cognito, client_id)
    with aws_error("NotAuthorizedException"):
        answer(cognito, client_id, session, forged(chrome, real, options, chrome.origin, seen))
    # The same forgery with the next count passes: only the counter was wrong.
    tokens(answer(cognito, client_id, session, forged(chrome, real, options, chrome.origin, seen + 1)))


def test_registration_refusals_list_and_delete(server, cognito, setup, chrome):
    pool, client_id = setup
    access = password_access(cognito, client_id)
    # Nothing started.
    options = cognito.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    credential = chrome.run(CREATE, options)
    other_client, _ = new_app_client(cognito, pool, "other", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"])
    other_access = tokens(cognito.initiate_auth(ClientId=other_client, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "alice", "PASSWORD": PASSWORD}))["AccessToken"]
    with aws_error("WebAuthnClientMismatchException"):
        cognito.complete_web_authn_registration(AccessToken=other_access, Credential=credential)
    # Started again, then answered from another origin (the browser's JSON edited: the origin
    # is checked before anything else).
    options = cognito.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    credential = chrome.run(CREATE, options)
    data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
    data["origin"] = "https://evil.example.com"
    moved = {**credential, "response": {**credential["response"],
                                        "clientDataJSON": b64url(json.dumps(data).encode())}}
    with aws_error("WebAuthnOriginNotAllowedException"):
        cognito.complete_web_authn_registration(AccessToken=access, Credential=moved)
    with aws_error("WebAuthnChallengeNotFoundException"):
        cognito.complete_web_authn_registration(AccessToken=access, Credential=credential)
    with aws_error("InvalidParameterException", "Credential data is not valid"):
        cognito.start_web_authn_registration(AccessToken=access)
        cognito.complete_web_authn_registration(AccessToken=access, Credential={"id": "x"})
    # Two passkeys registered, listed a page at a time, one deleted.
    register(cognito, chrome, access)
    chrome.cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": chrome.authenticator})
    chrome.authenticator = chrome.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "transport": "usb", "hasResidentKey": True, "hasUserVerification": True,
        "isUserVerified": True, "automaticPresenceSimulation": True}})["authenticatorId"]
    register(cognito, chrome, access)
    first = cognito.list_web_authn_credentials(AccessToken=access, MaxResults=1)
    second = cognito.list_web_authn_credentials(AccessToken=access, MaxResults=1, NextToken=first["NextToken"])
    assert "NextToken" not in second
    ids = [c["CredentialId"] for c in first["Credentials"] + second["Credentials"]]
    assert len(set(ids)) == 2
    assert second["Credentials"][0]["AuthenticatorTransports"] == ["usb"]
    cognito.delete_web_authn_credential(AccessToken=access, CredentialId=ids[0])
    with aws_error("ResourceNotFoundException"):
        cognito.delete_web_authn_credential(AccessToken=access, CredentialId=ids[0])
    assert [c["CredentialId"] for c in cognito.list_web_authn_credentials(AccessToken=access)["Credentials"]] == [ids[1]]


def test_pool_configuration(server, cognito):
    pool = cognito.create_user_pool(PoolName="plain")["UserPool"]["Id"]
    client_id, _ = new_app_client(cognito, pool)
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    access = password_access(cognito, client_id)
    # WEB_AUTHN not among the first factors.
    with aws_error("WebAuthnNotEnabledException"):
        cognito.start_web_authn_registration(AccessToken=access)
    cognito.update_user_pool(UserPoolId=pool, Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}})
    pool_change_settles(server)
    # No relying party id and no domain.
    with aws_error("WebAuthnConfigurationMissingException"):
        cognito.start_web_authn_registration(AccessToken=access)
    # The prefix domain is the relying party by default.
    cognito.create_user_pool_domain(UserPoolId=pool, Domain="passkey-test")
    pool_change_settles(server)
    options = cognito.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    assert options["rp"]["id"] == "passkey-test.auth.us-east-1.amazoncognito.com"
    got = cognito.set_user_pool_mfa_config(UserPoolId=pool, WebAuthnConfiguration={
        "RelyingPartyId": "auth.example.com", "UserVerification": "required"})
    assert got["WebAuthnConfiguration"] == {"RelyingPartyId": "auth.example.com", "UserVerification": "required"}
    assert cognito.get_user_pool_mfa_config(UserPoolId=pool)["WebAuthnConfiguration"] == got["WebAuthnConfiguration"]
    pool_change_settles(server)
    options = cognito.start_web_authn_registration(AccessToken=access)["CredentialCreationOptions"]
    assert options["rp"]["id"] == "auth.example.com"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    for bad in ("com", "127.0.0.1", "https://auth.example.com"):
        with aws_error("InvalidParameterException"):
            cognito.set_user_pool_mfa_config(UserPoolId=pool, WebAuthnConfiguration={"RelyingPartyId": bad})


def test_the_hosted_pages_sign_in_with_a_passkey(server, cognito, chrome):
    """Managed login: the sign-in page's passkey button, the browser's passkey prompt answered by
    the page's script, and the app's callback reached with a code (docs/passkeys.md). The app's
    callback is the server's own /health on localhost (http is allowed there), so that the
    browser lands on a page that exists."""
    from oauth_support import oauth_client, oauth_pool, pkce, query_of
    callback = f"{chrome.origin}/health"
    pool = oauth_pool(cognito, domain="passkey-login", Policies={
        "SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"]}})
    cognito.set_user_pool_mfa_config(UserPoolId=pool, MfaConfiguration="OFF", WebAuthnConfiguration={
        "RelyingPartyId": "localhost"})
    client_id, _ = oauth_client(cognito, pool, CallbackURLs=[callback], ExplicitAuthFlows=[
        "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    register(cognito, chrome, password_access(cognito, client_id))
    page = chrome.page
    authorize = (f"{chrome.origin}/oauth2/authorize?response_type=code&client_id={client_id}"
                 f"&redirect_uri={callback}&scope=openid&code_challenge_method=S256"
                 f"&code_challenge={pkce()[1]}")
    page.goto(f"{authorize}&state=st")
    page.fill("#username", "alice")
    page.click("text=Sign in with a passkey")
    page.wait_for_url(f"{callback}?**")
    q = query_of(page.url)
    assert q["state"] == "st" and q["code"], page.url
    # A user without a passkey is told so on the sign-in page, which stays usable.
    new_confirmed_user(cognito, pool, "bob", PASSWORD)
    page.goto(f"{authorize}&state=st2&prompt=login")
    page.fill("#username", "bob")
    page.click("text=Sign in with a passkey")
    assert "No passkey can sign in this user here." in page.inner_text("[role=alert]")
