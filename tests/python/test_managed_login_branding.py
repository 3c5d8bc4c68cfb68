"""Managed login styles through boto3 (Create/Describe/DescribeByClient/Update/Delete
ManagedLoginBranding) and on the managed login (version 2) pages. What Cognito does:
docs/design/remaining-operations-cognito-behaviour.md §2.
"""

from __future__ import annotations

import base64
import re
from concurrent.futures import ThreadPoolExecutor

from oauth_support import Browser, oauth_client, pkce
from support import aws_error, new_app_client

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
BUTTON = {"components": {"primaryButton": {"lightMode": {"defaults": {"backgroundColor": "ff6600ff"}}}}}
LOGO = {"Category": "FORM_LOGO", "ColorMode": "LIGHT", "Extension": "PNG", "Bytes": PNG}


def test_one_style_per_client_merged_on_update_and_filled_on_request(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    made = cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id, Settings=BUTTON,
                                                 Assets=[LOGO])["ManagedLoginBranding"]
    branding_id = made["ManagedLoginBrandingId"]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", branding_id)
    assert made["Settings"] == BUTTON and made["UseCognitoProvidedValues"] is False
    with aws_error("ManagedLoginBrandingExistsException"):
        cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id, UseCognitoProvidedValues=True)
    by_client = cognito.describe_managed_login_branding_by_client(UserPoolId=pool, ClientId=client_id)
    assert by_client["ManagedLoginBranding"]["ManagedLoginBrandingId"] == branding_id
    # Update merges settings and replaces the asset of the same category and colour mode.
    more = {"categories": {"global": {"colorSchemeMode": "DARK"}}}
    updated = cognito.update_managed_login_branding(
        UserPoolId=pool, ManagedLoginBrandingId=branding_id, Settings=more,
        Assets=[{**LOGO, "ResourceId": "v2"}])["ManagedLoginBranding"]
    assert updated["Settings"]["components"] == BUTTON["components"]
    assert updated["Settings"]["categories"]["global"]["colorSchemeMode"] == "DARK"
    assert [a.get("ResourceId") for a in updated["Assets"]] == ["v2"]
    merged = cognito.describe_managed_login_branding(UserPoolId=pool, ManagedLoginBrandingId=branding_id,
                                                     ReturnMergedResources=True)["ManagedLoginBranding"]
    assert merged["Settings"]["categories"]["form"]["location"]["horizontal"] == "CENTER"
    plain = cognito.describe_managed_login_branding(UserPoolId=pool, ManagedLoginBrandingId=branding_id)
    assert "form" not in plain["ManagedLoginBranding"]["Settings"]["categories"]
    cognito.delete_managed_login_branding(UserPoolId=pool, ManagedLoginBrandingId=branding_id)
    with aws_error("ResourceNotFoundException"):
        cognito.describe_managed_login_branding_by_client(UserPoolId=pool, ClientId=client_id)


def test_refusals(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    with aws_error("InvalidParameterException", "but not both"):
        cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id, Settings=BUTTON,
                                              UseCognitoProvidedValues=True)
    with aws_error("InvalidParameterException", "but not both"):
        cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id)
    with aws_error("InvalidParameterException", "not a PNG file"):
        cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id, UseCognitoProvidedValues=True,
                                              Assets=[{**LOGO, "Bytes": b"GIF89a"}])
    with aws_error("ResourceNotFoundException"):
        cognito.create_managed_login_branding(UserPoolId=pool, ClientId="nosuchclient0000000000000",
                                              UseCognitoProvidedValues=True)
    with aws_error("ResourceNotFoundException"):
        cognito.describe_managed_login_branding(UserPoolId=pool, ManagedLoginBrandingId="3f2a1c4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b")


def test_simultaneous_creations_make_one_style(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)

    def make(_):
        try:
            cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id, UseCognitoProvidedValues=True)
            return True
        except cognito.exceptions.ManagedLoginBrandingExistsException:
            return False

    with ThreadPoolExecutor(max_workers=6) as ex:
        assert sum(ex.map(make, range(6))) == 1


def test_managed_login_pages_take_the_styles_button_colour_and_logo(server, cognito):
    pool = cognito.create_user_pool(PoolName="branded")["UserPool"]["Id"]
    cognito.create_user_pool_domain(Domain="branded", UserPoolId=pool, ManagedLoginVersion=2)
    client_id, _ = oauth_client(cognito, pool, scopes=("openid",))
    cognito.create_managed_login_branding(UserPoolId=pool, ClientId=client_id, Settings=BUTTON, Assets=[LOGO])
    b = Browser(server.url)
    _, challenge = pkce()
    b.get("/oauth2/authorize", response_type="code", client_id=client_id,
          redirect_uri="https://app.example/callback", code_challenge=challenge, code_challenge_method="S256")
    assert ".submitButton-customizable { background-color: #ff6600ff; }" in b.page.text
    assert 'class="logo-customizable" src="data:image/png;base64,' in b.page.text


def test_simultaneous_updates_all_merge_in(cognito, pool):
    client_id, _ = new_app_client(cognito, pool)
    branding_id = cognito.create_managed_login_branding(
        UserPoolId=pool, ClientId=client_id, Settings={"components": {}})["ManagedLoginBranding"]["ManagedLoginBrandingId"]
    keys = [f"key{i}" for i in range(8)]

    def update(key):
        cognito.update_managed_login_branding(UserPoolId=pool, ManagedLoginBrandingId=branding_id,
                                              Settings={"components": {key: {"on": True}}})

    with ThreadPoolExecutor(max_workers=8) as ex:
        list(ex.map(update, keys))
    settings = cognito.describe_managed_login_branding(UserPoolId=pool, ManagedLoginBrandingId=branding_id)
    assert sorted(settings["ManagedLoginBranding"]["Settings"]["components"]) == keys
