"""The classic hosted UI's customization through boto3 (SetUICustomization, GetUICustomization)
and on the hosted pages themselves. What Cognito does:
docs/design/remaining-operations-cognito-behaviour.md §1.
"""

from __future__ import annotations

import base64
import re
import urllib.request

from oauth_support import Browser, oauth_client, oauth_pool, pkce
from support import aws_error

# A 1×1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
CSS = ".submitButton-customizable { background-color: #123456; }\n.logo-customizable { max-width: 60%; }"


def login_page(server, client_id) -> str:
    b = Browser(server.url)
    _, challenge = pkce()
    b.get("/oauth2/authorize", response_type="code", client_id=client_id,
          redirect_uri="https://app.example/callback", code_challenge=challenge, code_challenge_method="S256")
    return b.page.text


def test_the_pools_look_applies_to_every_client_until_a_client_has_its_own(server, cognito):
    pool = oauth_pool(cognito, domain="looks")
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    assert cognito.get_ui_customization(UserPoolId=pool)["UICustomization"] == {}
    set_ = cognito.set_ui_customization(UserPoolId=pool, ClientId="ALL", CSS=CSS, ImageFile=PNG)["UICustomization"]
    assert set_["ClientId"] == "ALL" and set_["CSS"] == CSS and re.fullmatch(r"\d{14}", set_["CSSVersion"])
    with urllib.request.urlopen(set_["ImageUrl"], timeout=10) as r:
        assert r.read() == PNG and r.headers["Content-Type"] == "image/png"
    # A client without its own record gets the pool's.
    got = cognito.get_ui_customization(UserPoolId=pool, ClientId=client_id)["UICustomization"]
    assert got["CSS"] == CSS and got["ClientId"] == "ALL"
    page = login_page(server, client_id)
    assert ".submitButton-customizable { background-color: #123456; }" in page
    assert 'class="logo-customizable" src="data:image/png;base64,' in page
    assert 'class="submitButton-customizable"' in page
    # The client's own record replaces the pool's whole (no logo now).
    own = cognito.set_ui_customization(UserPoolId=pool, ClientId=client_id,
                                       CSS=".label-customizable { font-weight: 700; }")["UICustomization"]
    assert "ImageUrl" not in own and own["ClientId"] == client_id
    page = login_page(server, client_id)
    assert "font-weight: 700" in page and "#123456" not in page and "logo-customizable" not in page
    # Neither CSS nor image: the client's record goes, the pool's applies again.
    cognito.set_ui_customization(UserPoolId=pool, ClientId=client_id)
    assert "#123456" in login_page(server, client_id)


def test_refusals(cognito):
    no_domain = cognito.create_user_pool(PoolName="plain")["UserPool"]["Id"]
    with aws_error("InvalidParameterException", "There has to be an existing domain associated with this user pool"):
        cognito.set_ui_customization(UserPoolId=no_domain, CSS=CSS)
    pool = oauth_pool(cognito, domain="looks-refused")
    for bad in ("body { color: red; }", ".label-customizable { background: url(https://evil.example/x); }",
                "@import 'x';", ".label-customizable { color: red } </style><script>alert(1)</script>"):
        with aws_error("InvalidParameterException", "Invalid CSS"):
            cognito.set_ui_customization(UserPoolId=pool, CSS=bad)
    with aws_error("InvalidParameterException", "PNG or JPEG"):
        cognito.set_ui_customization(UserPoolId=pool, ImageFile=b"GIF89a....")
    with aws_error("ResourceNotFoundException"):
        cognito.set_ui_customization(UserPoolId=pool, ClientId="nosuchclient0000000000000", CSS=CSS)
