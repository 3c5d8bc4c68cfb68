"""The console's App clients section of a pool, in real Chromium driven by Playwright: the list,
creating a client (its secret shown once), editing it (a save changes the form's fields and keeps
everything else the client holds, and a form drawn before a change made meanwhile is refused),
deleting it after typing its name, and the policy and CSRF checks of each form. What the console
did is checked with boto3's DescribeUserPoolClient. Fixtures: console_support.py. Elements are
found by role and label, as a person would find them.
"""

from __future__ import annotations

import re

import pytest

from console_support import *  # noqa: F401,F403 - fixtures and helpers
from console_support import ADMIN, READER, expect, sign_in

FLOWS = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH",
         "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_AUTH"]


def open_clients(page, server, pool_name, key=ADMIN):
    sign_in(page, server, key)
    page.get_by_role("link", name=pool_name, exact=True).click()
    page.get_by_role("link", name="App clients").click()
    expect(page.get_by_role("heading", name="App clients")).to_be_visible()


def open_client(page, server, pool_name, client_name, key=ADMIN):
    open_clients(page, server, pool_name, key)
    page.get_by_role("link", name=client_name, exact=True).click()
    expect(page.get_by_role("heading", name=client_name)).to_be_visible()


def describe(api, pool_id, client_id):
    return api.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)["UserPoolClient"]


def csrf_of(page):
    """The session's CSRF token as the page's forms carry it (a hidden input has no role)."""
    return re.search(r'name="csrf" value="([^"]+)"', page.content()).group(1)


def post_form(page, url, form):
    return page.request.post(url, form=form, max_redirects=0)


def test_clients_are_links_and_a_created_clients_secret_is_shown_once(browser, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="clients-pool")["UserPool"]["Id"]
    admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName="from-the-api")
    # The forms work with JavaScript off.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        open_clients(page, console_server, "clients-pool")
        expect(page.get_by_role("link", name="from-the-api")).to_be_visible()

        page.get_by_label("App client name").fill("web")
        page.get_by_label("Generate a client secret").check()
        for flow in FLOWS:
            box = page.get_by_label(flow, exact=True)
            if flow in ("ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"):
                box.check()
            else:
                box.uncheck()
        page.get_by_label("Access token validity (minutes)").fill("30")
        page.get_by_label("ID token validity (minutes)").fill("45")
        page.get_by_label("Refresh token validity (days)").fill("7")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Create app client").click()
        assert answer.value.status == 200  # the page itself, not a redirect
        expect(page.get_by_role("heading", name="web")).to_be_visible()

        listed = admin_api.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        client_id = {c["ClientName"]: c["ClientId"] for c in listed}["web"]
        client = describe(admin_api, pool_id, client_id)
        secret = client["ClientSecret"]
        expect(page.get_by_text(secret)).to_be_visible()
        expect(page.get_by_text("it will not be shown again")).to_be_visible()
        assert sorted(client["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
        assert (client["AccessTokenValidity"], client["IdTokenValidity"], client["RefreshTokenValidity"]) == (30, 45, 7)
        assert client["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"}

        # The client's page, opened again, says it has a secret and never shows it.
        page.get_by_role("link", name="App clients").click()
        page.get_by_role("link", name="web", exact=True).click()
        settings = page.get_by_role("table", name="Settings")
        expect(settings.get_by_role("row", name="Has a client secret yes")).to_be_visible()
        expect(page.get_by_text(secret)).to_have_count(0)
        assert secret not in page.content()
    finally:
        context.close()


def test_a_refused_create_shows_why_beside_the_form_and_keeps_what_was_typed(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="refused-create-pool")["UserPool"]["Id"]
    open_clients(page, console_server, "refused-create-pool")
    name = page.get_by_label("App client name")
    access = page.get_by_label("Access token validity (minutes)")

    # Not a number: answered beside the field, no request reaches the API.
    name.fill("mobile")
    page.get_by_label("ALLOW_CUSTOM_AUTH", exact=True).check()
    access.fill("soon")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create app client").click()
    assert answer.value.status == 400
    expect(access).to_have_accessible_description("Enter a whole number of minutes.")
    expect(name).to_have_value("mobile")
    expect(access).to_have_value("soon")
    expect(page.get_by_label("ALLOW_CUSTOM_AUTH", exact=True)).to_be_checked()

    # Out of the API's range: the API's message, the typed values kept.
    access.fill("1")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create app client").click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).to_contain_text("AccessTokenValidity must be between 300 and 86400 seconds")
    expect(access).to_have_value("1")
    expect(name).to_have_value("mobile")

    # A number too large for the API's integers is no lifetime either; a name the API refuses.
    access.fill("99999999999")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Create app client").click()
    assert answer.value.status == 400
    expect(access).to_have_accessible_description("Enter a whole number of minutes.")
    access.fill("60")
    name.fill("x" * 129)
    page.get_by_role("button", name="Create app client").click()
    expect(page.get_by_role("alert")).to_contain_text("clientName")
    assert admin_api.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"] == []


def test_save_changes_the_forms_fields_and_keeps_what_the_api_set(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="save-pool")["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(
        UserPoolId=pool_id, ClientName="oauth-app", GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        AllowedOAuthFlowsUserPoolClient=True, AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=["https://app.example/cb"], LogoutURLs=["https://app.example/out"],
        SupportedIdentityProviders=["COGNITO"], ReadAttributes=["email", "name"], WriteAttributes=["name"],
        PreventUserExistenceErrors="ENABLED", AuthSessionValidity=10, EnableTokenRevocation=False,
        # Hours the form's units express, and 12 hours, which are no whole number of days.
        AccessTokenValidity=2, IdTokenValidity=3, RefreshTokenValidity=12,
        TokenValidityUnits={"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "hours"},
    )["UserPoolClient"]["ClientId"]
    before = describe(admin_api, pool_id, client_id)

    open_client(page, console_server, "save-pool", "oauth-app")
    expect(page.get_by_label("App client name")).to_have_value("oauth-app")
    expect(page.get_by_label("ALLOW_USER_SRP_AUTH", exact=True)).to_be_checked()
    expect(page.get_by_label("ALLOW_USER_PASSWORD_AUTH", exact=True)).not_to_be_checked()
    expect(page.get_by_label("Access token validity (minutes)")).to_have_value("120")
    expect(page.get_by_label("ID token validity (minutes)")).to_have_value("180")
    expect(page.get_by_label("Refresh token validity (days)")).to_have_value("0.5")
    expect(page.get_by_role("table", name="Settings").get_by_role("row", name="Callback URLs")).to_contain_text(
        "https://app.example/cb")

    page.get_by_label("App client name").fill("oauth-app-renamed")
    page.get_by_label("ALLOW_USER_PASSWORD_AUTH", exact=True).check()
    page.get_by_label("Access token validity (minutes)").fill("90")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(page.get_by_role("heading", name="oauth-app-renamed")).to_be_visible()

    after = describe(admin_api, pool_id, client_id)
    assert after["ClientName"] == "oauth-app-renamed"
    assert sorted(after["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH",
                                                  "ALLOW_USER_SRP_AUTH"]
    assert after["AccessTokenValidity"] == 90
    # The lifetimes left as shown keep their values and units.
    assert after["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "hours", "RefreshToken": "hours"}
    assert (after["IdTokenValidity"], after["RefreshTokenValidity"]) == (3, 12)
    for member in set(before) | set(after):
        if member in ("ClientName", "ExplicitAuthFlows", "AccessTokenValidity", "TokenValidityUnits",
                      "LastModifiedDate"):
            continue
        assert after.get(member) == before.get(member), member

    # Saved again untouched, nothing changes.
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    again = describe(admin_api, pool_id, client_id)
    assert {k: v for k, v in again.items() if k != "LastModifiedDate"} == \
        {k: v for k, v in after.items() if k != "LastModifiedDate"}


def test_a_bad_lifetime_on_the_edit_form_is_answered_beside_it(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="bad-edit-pool")["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    before = describe(admin_api, pool_id, client_id)
    open_client(page, console_server, "bad-edit-pool", "app")
    refresh = page.get_by_label("Refresh token validity (days)")
    page.get_by_label("App client name").fill("app-2")
    refresh.fill("a week")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save changes").click()
    assert answer.value.status == 400
    expect(refresh).to_have_accessible_description("Enter a whole number of days.")
    expect(refresh).to_have_value("a week")
    expect(page.get_by_label("App client name")).to_have_value("app-2")
    # A number the API refuses: its message, beside the form.
    refresh.fill("30")
    page.get_by_label("ID token validity (minutes)").fill("-5")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name="Save changes").click()
    assert answer.value.status == 400
    expect(page.get_by_role("alert")).not_to_be_empty()
    expect(page.get_by_label("ID token validity (minutes)")).to_have_value("-5")
    assert describe(admin_api, pool_id, client_id) == before


def test_a_stale_form_does_not_overwrite_a_change_made_meanwhile(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="stale-client-pool")["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    open_client(page, console_server, "stale-client-pool", "app")
    # Someone else changes the client after the page was drawn.
    admin_api.update_user_pool_client(UserPoolId=pool_id, ClientId=client_id, ClientName="renamed-by-api",
                                      ReadAttributes=["email"])
    page.get_by_label("Access token validity (minutes)").fill("120")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("The app client changed since this page was loaded")
    expect(page.get_by_label("Access token validity (minutes)")).to_have_value("120")
    client = describe(admin_api, pool_id, client_id)
    assert client["ClientName"] == "renamed-by-api"
    assert client["ReadAttributes"] == ["email"]
    assert client["AccessTokenValidity"] == 60


def test_delete_a_client_after_typing_its_name(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="delete-client-pool")["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName="doomed")["UserPoolClient"]["ClientId"]
    open_client(page, console_server, "delete-client-pool", "doomed")
    page.get_by_label("Type the app client's name to confirm").fill("not-it")
    page.get_by_role("button", name="Delete app client").click()
    expect(page.get_by_role("alert")).to_have_text("Type the app client's name exactly to delete it.")
    describe(admin_api, pool_id, client_id)
    page.get_by_label("Type the app client's name to confirm").fill("doomed")
    page.get_by_role("button", name="Delete app client").click()
    expect(page.get_by_role("status")).to_have_text("The app client was deleted.")
    expect(page.get_by_role("link", name="doomed")).to_have_count(0)
    with pytest.raises(admin_api.exceptions.ResourceNotFoundException):
        describe(admin_api, pool_id, client_id)


def test_a_read_only_key_sees_clients_but_cannot_create_save_or_delete(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="ro-clients-pool")["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    before = describe(admin_api, pool_id, client_id)
    open_clients(page, console_server, "ro-clients-pool", READER)
    expect(page.get_by_role("button", name="Create app client")).to_be_disabled()
    page.get_by_role("link", name="app", exact=True).click()
    expect(page.get_by_role("button", name="Save changes")).to_be_disabled()
    expect(page.get_by_role("button", name="Delete app client")).to_be_disabled()
    # Posts made anyway (the form's own token, the session's cookie) are refused as the API would.
    csrf = csrf_of(page)
    base = f"{console_server.url}/console/pools/{pool_id}/clients"
    for url, form, operation in [
        (base, {"csrf": csrf, "name": "sneaky"}, "CreateUserPoolClient"),
        (f"{base}/{client_id}", {"csrf": csrf, "version": "1", "name": "sneaky"}, "UpdateUserPoolClient"),
        (f"{base}/{client_id}/delete", {"csrf": csrf, "confirm": "app"}, "DeleteUserPoolClient"),
    ]:
        answer = post_form(page, url, form)
        assert answer.status == 403, url
        assert f"not authorized to perform: cognito-idp:{operation}" in answer.text()
    assert describe(admin_api, pool_id, client_id) == before
    assert len(admin_api.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]) == 1


def test_client_forms_posted_without_their_csrf_token_are_refused(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="csrf-clients-pool")["UserPool"]["Id"]
    client_id = admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName="app")["UserPoolClient"]["ClientId"]
    sign_in(page, console_server)
    base = f"{console_server.url}/console/pools/{pool_id}/clients"
    for url, form in [
        (base, {"name": "forged"}),
        (f"{base}/{client_id}", {"csrf": "forged", "version": "1", "name": "forged"}),
        (f"{base}/{client_id}/delete", {"confirm": "app"}),
    ]:
        answer = post_form(page, url, form)
        assert answer.status == 403, url
        assert "CSRF" in answer.text()
    clients = admin_api.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    assert [c["ClientName"] for c in clients] == ["app"]


def test_the_list_is_paged(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="many-clients-pool")["UserPool"]["Id"]
    for i in range(61):
        admin_api.create_user_pool_client(UserPoolId=pool_id, ClientName=f"client-{i:02}")
    open_clients(page, console_server, "many-clients-pool")
    table = page.get_by_role("table", name="App clients")
    expect(table.get_by_role("link")).to_have_count(60)
    page.get_by_role("link", name="Next page").click()
    expect(table.get_by_role("link")).to_have_count(1)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
