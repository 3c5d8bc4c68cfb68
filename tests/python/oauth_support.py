"""A browser without a browser for the hosted pages: requests with a cookie jar that walks
/oauth2/authorize → /login → challenges → the app's redirect, reading the pages' forms by their
field names and labels (docs/managed-login.md), and PKCE helpers. The Playwright suites drive the
same pages in Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

CHROME_UA = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/156.0.0.0 Safari/537.36")
CALLBACK = "https://app.example/callback"
SIGNED_OUT = "https://app.example/signed-out"


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def oauth_pool(cognito, domain: str = "app-login", **pool_settings) -> str:
    """A pool with a prefix domain (the OAuth endpoints need one)."""
    pool_id = cognito.create_user_pool(PoolName="oauth-pool", **pool_settings)["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain=domain, UserPoolId=pool_id)
    return pool_id


def oauth_client(cognito, pool_id: str, secret: bool = False, flows=("code",),
                 scopes=("openid", "email", "profile"), **settings) -> tuple[str, str | None]:
    created = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName="web", GenerateSecret=secret, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=list(flows), AllowedOAuthScopes=list(scopes),
        CallbackURLs=settings.pop("CallbackURLs", [CALLBACK]), LogoutURLs=settings.pop("LogoutURLs", [SIGNED_OUT]),
        SupportedIdentityProviders=["COGNITO"], **settings)["UserPoolClient"]
    return created["ClientId"], created.get("ClientSecret")


class Form:
    def __init__(self, action: str, fields: dict[str, str], buttons: list[tuple[str, str, str]], text: str):
        self.action = action
        self.fields = fields
        self.buttons = buttons  # (label, name, value)
        self.text = text


def forms_of(page: str, base_url: str) -> list[Form]:
    out = []
    for m in re.finditer(r"<form[^>]*action=\"([^\"]*)\"[^>]*>(.*?)</form>", page, re.S):
        action = urljoin(base_url, html.unescape(m.group(1)))
        body = m.group(2)
        fields = {}
        for inp in re.finditer(r"<input([^>]*)>", body):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', inp.group(1)))
            if "name" in attrs and attrs.get("type") != "radio":
                fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
            elif attrs.get("type") == "radio" and "checked" in inp.group(1):
                fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
        buttons = []
        for b in re.finditer(r"<button([^>]*)>(.*?)</button>", body, re.S):
            attrs = dict(re.findall(r'(\w+)="([^"]*)"', b.group(1)))
            buttons.append((html.unescape(b.group(2).strip()), attrs.get("name", ""), attrs.get("value", "")))
        out.append(Form(action, fields, buttons, body))
    return out


class Browser:
    """One browser profile: a cookie jar and a User-Agent."""

    def __init__(self, base_url: str, user_agent: str = CHROME_UA):
        self.base = base_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = user_agent
        self.page: requests.Response | None = None

    def get(self, path_or_url: str, **params) -> requests.Response:
        url = path_or_url if "://" in path_or_url else self.base + path_or_url
        self.page = self.http.get(url, params=params or None, allow_redirects=False)
        return self.follow()

    def follow(self) -> requests.Response:
        """Follows redirects that stay on the server; stops at one that leaves it (the app)."""
        while self.page.status_code in (301, 302, 303) and self.page.headers["Location"]:
            target = urljoin(self.page.url, self.page.headers["Location"])
            if not target.startswith(self.base):
                return self.page
            self.page = self.http.get(target, allow_redirects=False)
        return self.page

    @property
    def redirect(self) -> str | None:
        """Where the server sent the browser off the server, if it did."""
        if self.page is not None and self.page.status_code in (301, 302, 303):
            return self.page.headers["Location"]
        return None

    def form(self) -> Form:
        forms = forms_of(self.page.text, self.page.url)
        assert forms, f"no form on the page ({self.page.status_code}): {self.page.text[:500]}"
        return forms[0]

    def submit(self, button: str | None = None, **values) -> requests.Response:
        f = self.form()
        data = dict(f.fields)
        data.update(values)
        if button is not None:
            match = [b for b in f.buttons if b[0] == button]
            assert match, f"no button {button!r} among {f.buttons}"
            if match[0][1]:
                data[match[0][1]] = match[0][2]
        self.page = self.http.post(f.action, data=data, allow_redirects=False)
        return self.follow()

    def has_field(self, name: str) -> bool:
        return any(name in f.fields for f in forms_of(self.page.text, self.page.url))

    def sign_in(self, client_id: str, username: str = "alice", password: str = "Passw0rd!",
                redirect_uri: str = CALLBACK, **params) -> requests.Response:
        """Authorize and submit the sign-in form; returns the page (or redirect) after it."""
        self.get("/oauth2/authorize", response_type=params.pop("response_type", "code"), client_id=client_id,
                 redirect_uri=redirect_uri, **params)
        assert self.page.status_code == 200, (self.page.status_code, self.page.text[:500])
        assert self.has_field("username") and self.has_field("password"), self.page.text[:500]
        return self.submit("Sign in", username=username, password=password)


    def sign_out(self, client_id: str) -> None:
        """GET /logout (Cognito's dialect): ends the browser's hosted-login session."""
        self.get("/logout", client_id=client_id, logout_uri=SIGNED_OUT)
        assert self.redirect == SIGNED_OUT, (self.page.status_code, self.page.text[:300])

    def session_cookie(self, pool_id: str) -> str | None:
        return self.http.cookies.get(f"gatehouse_session_{pool_id}")


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def fragment_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).fragment).items()}
