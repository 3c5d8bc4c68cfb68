"""The web console (/console/) in real Chromium, driven by Playwright: sign-in with an admin key,
the pools list, creating and deleting a pool, and the pool's device-tracking section, whose saved
values boto3's DescribeUserPool must show with nothing else of the pool changed. In the PostgreSQL
lane (GATEHOUSE_TEST_PROCESSES and GATEHOUSE_TEST_DATABASE_URL set) the console's server runs on a
PostgreSQL database of its own. Fixtures and the browser requirement: console_support.py.
Elements are found by role and label, as a person would find them.
"""

from __future__ import annotations

import re

import pytest

from console_support import *  # noqa: F401,F403 - fixtures and helpers
from console_support import ADMIN, READER, expect, mfa_optional_pool, open_user, remember_new_device, \
    sign_in, sign_in_as_device, tracked_pool_with_ana
from support import GatehouseServer


def test_console_sends_a_visitor_without_a_session_to_sign_in(page, console_server):
    page.goto(console_server.url + "/console/")
    expect(page).to_have_url(console_server.url + "/console/sign-in")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_a_wrong_secret_is_refused(page, console_server):
    page.goto(console_server.url + "/console/sign-in")
    page.get_by_label("Access key ID").fill(ADMIN[0])
    page.get_by_label("Secret access key").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("The access key ID or the secret access key is wrong.")
    page.goto(console_server.url + "/console/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_sign_in_sets_a_strict_http_only_cookie_and_sign_out_ends_the_session(page, console_server):
    sign_in(page, console_server)
    cookies = page.context.cookies()
    assert [c["name"] for c in cookies] == ["gatehouse_console"]
    assert cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    expect(page.get_by_text(f"Signed in as {ADMIN[0]}")).to_be_visible()
    kept = page.context.cookies()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.context.cookies() == []
    page.goto(console_server.url + "/console/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    # A copy of the cookie kept from before the sign-out opens nothing either.
    page.context.add_cookies(kept)
    page.goto(console_server.url + "/console/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_pools_are_links_named_by_pool_name(page, console_server, admin_api):
    pool_id = admin_api.create_user_pool(PoolName="listed-pool")["UserPool"]["Id"]
    sign_in(page, console_server)
    page.get_by_role("link", name="listed-pool").click()
    expect(page.get_by_role("heading", name="listed-pool")).to_be_visible()
    expect(page.get_by_text(f"Pool id {pool_id}")).to_be_visible()


def test_device_trust_is_set_on_the_pool_page_and_stays_off_cognitos_wire(page, console_server, admin_api):
    pool_id = mfa_optional_pool(admin_api, "trust-pool")
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    sign_in(page, console_server)
    page.get_by_role("link", name="trust-pool").click()
    trust = page.get_by_role("group", name="Device trust")
    days = trust.get_by_label("Days a remembered device is trusted since it last signed in")
    cap = trust.get_by_label("Remembered devices per user")
    expect(days).to_have_value("")
    days.fill("30")
    cap.fill("3")
    trust.get_by_role("button", name="Save device trust").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(days).to_have_value("30")
    expect(cap).to_have_value("3")
    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    for member in set(before) | set(after):
        if member != "LastModifiedDate":
            assert after.get(member) == before.get(member), member
    # Emptied: no limit again.
    days.fill("")
    trust.get_by_role("button", name="Save device trust").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(days).to_have_value("")
    expect(cap).to_have_value("3")


def test_device_tracking_saves_exactly_device_configuration_and_nothing_else(page, console_server, admin_api,
                                                                           screenshots):
    pool_id = mfa_optional_pool(admin_api, "devices-pool")
    before = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert "DeviceConfiguration" not in before
    sign_in(page, console_server)
    page.get_by_role("link", name="devices-pool").click()
    remember = page.get_by_role("radiogroup", name="Remember user devices")
    expect(remember.get_by_label("Don't remember")).to_be_checked()
    remember.get_by_label("User opt-in").check()
    suppress = page.get_by_label("Suppress MFA on remembered devices")
    expect(suppress).to_be_enabled()
    suppress.check()
    page.get_by_role("group", name="Device tracking").screenshot(path=str(screenshots / "device-tracking.png"))
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")

    after = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert after["DeviceConfiguration"] == {
        "ChallengeRequiredOnNewDevice": True,
        "DeviceOnlyRememberedOnUserPrompt": True,
    }
    for member in set(before) | set(after):
        if member in ("DeviceConfiguration", "LastModifiedDate"):
            continue
        assert after.get(member) == before.get(member), member

    # The page shows what is saved; Always without suppression is saved as such.
    expect(remember.get_by_label("User opt-in")).to_be_checked()
    expect(suppress).to_be_checked()
    remember.get_by_label("Always").check()
    suppress.uncheck()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]["DeviceConfiguration"] == {
        "ChallengeRequiredOnNewDevice": False,
        "DeviceOnlyRememberedOnUserPrompt": False,
    }
    remember.get_by_label("Don't remember").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    assert "DeviceConfiguration" not in admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]


def test_suppress_mfa_is_disabled_with_a_reason_when_mfa_is_off(page, console_server, admin_api):
    admin_api.create_user_pool(PoolName="no-mfa-pool")
    sign_in(page, console_server)
    page.get_by_role("link", name="no-mfa-pool").click()
    expect(page.get_by_label("Suppress MFA on remembered devices")).to_be_disabled()
    expect(page.get_by_text("Available when MFA is Optional or Required")).to_be_visible()


def test_a_stale_form_does_not_overwrite_a_change_made_meanwhile(page, console_server, admin_api):
    pool_id = mfa_optional_pool(admin_api, "stale-pool")
    sign_in(page, console_server)
    page.get_by_role("link", name="stale-pool").click()
    # Someone else changes the pool after the page was drawn.
    admin_api.update_user_pool(
        UserPoolId=pool_id, MfaConfiguration="OPTIONAL",
        SmsConfiguration={"SnsCallerArn": "arn:aws:iam::000000000000:role/sms"},
        DeviceConfiguration={"ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False},
    )
    page.get_by_role("radiogroup", name="Remember user devices").get_by_label("User opt-in").check()
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("changed since this page was loaded")
    assert admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]["DeviceConfiguration"] == {
        "ChallengeRequiredOnNewDevice": False,
        "DeviceOnlyRememberedOnUserPrompt": False,
    }


def test_create_a_pool_with_the_apis_validation_and_delete_it_with_typed_confirmation(page, console_server, admin_api):
    sign_in(page, console_server)
    page.get_by_label("Pool name").fill("x" * 129)
    page.get_by_role("button", name="Create pool").click()
    expect(page.get_by_role("alert")).to_contain_text("poolName")
    page.get_by_label("Pool name").fill("made-in-console")
    page.get_by_role("button", name="Create pool").click()
    expect(page.get_by_role("status")).to_have_text("The pool was created.")
    pools = {p["Name"]: p["Id"] for p in admin_api.list_user_pools(MaxResults=60)["UserPools"]}
    assert "made-in-console" in pools

    page.get_by_role("link", name="made-in-console").click()
    page.get_by_label("Type the pool's name to confirm").fill("wrong-name")
    page.get_by_role("button", name="Delete pool").click()
    expect(page.get_by_role("alert")).to_have_text("Type the pool's name exactly to delete it.")
    page.get_by_label("Type the pool's name to confirm").fill("made-in-console")
    page.get_by_role("button", name="Delete pool").click()
    expect(page.get_by_role("status")).to_have_text("The pool was deleted.")
    with pytest.raises(admin_api.exceptions.ResourceNotFoundException):
        admin_api.describe_user_pool(UserPoolId=pools["made-in-console"])


def test_a_read_only_key_sees_pages_but_cannot_save(page, console_server, admin_api):
    pool_id = mfa_optional_pool(admin_api, "read-only-pool")
    sign_in(page, console_server, READER)
    page.get_by_role("link", name="read-only-pool").click()
    expect(page.get_by_role("button", name="Save", exact=True)).to_be_disabled()
    # A post made anyway (the form's own token, the session's cookie) is refused as the API would.
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(
        f"{console_server.url}/console/pools/{pool_id}/device-tracking",
        form={"csrf": csrf, "version": "1", "remember": "always"},
        max_redirects=0,
    )
    assert answer.status == 403
    assert "not authorized to perform: cognito-idp:UpdateUserPool" in answer.text()
    assert "DeviceConfiguration" not in admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]


def test_a_form_posted_without_its_csrf_token_is_refused(page, console_server, admin_api):
    pool_id = mfa_optional_pool(admin_api, "csrf-pool")
    sign_in(page, console_server)
    for form in ({"version": "1", "remember": "always"},
                 {"csrf": "forged", "version": "1", "remember": "always"}):
        answer = page.request.post(
            f"{console_server.url}/console/pools/{pool_id}/device-tracking",
            form=form, max_redirects=0,
        )
        assert answer.status == 403
        assert "CSRF" in answer.text()
    assert "DeviceConfiguration" not in admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]


def test_console_pages_cannot_be_framed_or_cached(page, console_server):
    answer = page.request.get(console_server.url + "/console/sign-in")
    assert answer.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["cache-control"] == "no-store"


def test_users_are_links_found_by_a_username_prefix_or_a_filter(page, console_server, admin_api):
    pool_id, _ = tracked_pool_with_ana(admin_api, "search-pool")
    admin_api.admin_create_user(UserPoolId=pool_id, Username="bob", MessageAction="SUPPRESS",
                                UserAttributes=[{"Name": "email", "Value": "bob@example.org"}])
    sign_in(page, console_server)
    page.get_by_role("link", name="search-pool").click()
    page.get_by_role("link", name="Users").click()
    expect(page.get_by_role("link", name="ana")).to_be_visible()
    expect(page.get_by_role("link", name="bob")).to_be_visible()
    page.get_by_label("Search users").fill("bo")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="bob")).to_be_visible()
    expect(page.get_by_role("link", name="ana")).to_have_count(0)
    page.get_by_label("Search users").fill('email ^= "ana@"')
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="ana")).to_be_visible()
    expect(page.get_by_role("link", name="bob")).to_have_count(0)
    # A filter ListUsers refuses shows ListUsers' message.
    page.get_by_label("Search users").fill('shoe_size = "9"')
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).not_to_be_empty()


def test_a_remembered_device_is_listed_by_name_and_forget_makes_the_next_sign_in_a_new_device(
        page, console_server, admin_api, screenshots):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "forget-pool")
    key = remember_new_device(admin_api, client_id, "ana's laptop")
    open_user(page, console_server, "forget-pool")
    devices = page.get_by_role("table", name="Devices")
    row = devices.get_by_role("row", name="ana's laptop")
    expect(row).to_contain_text("remembered")
    expect(row).to_contain_text("127.0.0.1")
    devices.screenshot(path=str(screenshots / "user-devices.png"))
    page.get_by_role("button", name="Forget ana's laptop").click()
    expect(page.get_by_role("status")).to_have_text("The device was forgotten.")
    expect(page.get_by_text("No devices.")).to_be_visible()
    assert admin_api.admin_list_devices(UserPoolId=pool_id, Username="ana")["Devices"] == []
    # The client still holds the old key: its next sign-in is a new device.
    again = sign_in_as_device(admin_api, client_id, key)
    assert again["NewDeviceMetadata"]["DeviceKey"] != key


def test_a_users_sessions_are_listed_and_one_is_revoked_and_passkeys_shown(page, console_server, admin_api):
    """docs/sessions.md and docs/passkeys.md: where the pool tracks sessions the user's page lists
    them (client, device, times, address) and revokes one, whose tokens then stop working; the
    passkeys are listed (none here: registering one needs a browser ceremony, test_passkeys.py)."""
    pool_id, client_id = tracked_pool_with_ana(admin_api, "sessions-pool")
    admin_api.set_user_pool_session_configuration(UserPoolId=pool_id, UserSessionTracking="ENABLED",
                                                  TokenSession={"MaxPerUser": 5})
    first = sign_in_as_device(admin_api, client_id)
    second = sign_in_as_device(admin_api, client_id)
    open_user(page, console_server, "sessions-pool")
    sessions = page.get_by_role("table", name="Sessions")
    expect(sessions.get_by_role("row")).to_have_count(3)
    expect(sessions).to_contain_text(client_id)
    expect(sessions).to_contain_text("127.0.0.1")
    expect(page.get_by_text("No passkeys.")).to_be_visible()
    sessions.get_by_role("button", name=re.compile("Revoke")).first.click()
    expect(page.get_by_role("status")).to_have_text("The session was revoked: its tokens no longer work.")
    expect(page.get_by_role("table", name="Sessions").get_by_role("row")).to_have_count(2)
    alive = 0
    for signed in (first, second):
        try:
            admin_api.get_user(AccessToken=signed["AccessToken"])
            alive += 1
        except admin_api.exceptions.NotAuthorizedException:
            pass
    assert alive == 1


def test_mark_a_device_not_remembered_and_remembered_again(page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "status-pool")
    key = remember_new_device(admin_api, client_id, "phone")
    open_user(page, console_server, "status-pool")

    def status():
        device = admin_api.admin_get_device(UserPoolId=pool_id, Username="ana", DeviceKey=key)["Device"]
        return {a["Name"]: a["Value"] for a in device["DeviceAttributes"]}["dev:device_remembered_status"]

    page.get_by_role("button", name="Mark phone not remembered").click()
    expect(page.get_by_role("status")).to_have_text("The device's status was changed.")
    assert status() == "not_remembered"
    page.get_by_role("button", name="Mark phone remembered").click()
    expect(page.get_by_role("status")).to_have_text("The device's status was changed.")
    assert status() == "remembered"


def test_a_read_only_key_cannot_forget_a_device(page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "ro-devices-pool")
    key = remember_new_device(admin_api, client_id, "tablet")
    open_user(page, console_server, "ro-devices-pool", key=READER)
    expect(page.get_by_role("button", name="Forget tablet")).to_be_disabled()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(
        f"{console_server.url}/console/pools/{pool_id}/users/ana/devices/{key}/forget",
        form={"csrf": csrf}, max_redirects=0,
    )
    assert answer.status == 403
    assert "cognito-idp:AdminForgetDevice" in answer.text()
    assert [d["DeviceKey"] for d in admin_api.admin_list_devices(UserPoolId=pool_id, Username="ana")["Devices"]] == [key]


def test_a_user_attribute_holding_script_is_shown_as_text(page, console_server, admin_api):
    script = "<script>alert('x')</script>"
    tracked_pool_with_ana(admin_api, "script-pool", attributes=[{"Name": "name", "Value": script}])
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_user(page, console_server, "script-pool")
    attributes = page.get_by_role("table", name="Attributes")
    expect(attributes.get_by_role("row", name=f"name {script}", exact=True)).to_be_visible()
    assert dialogs == []


def test_development_mode_opens_the_console_under_a_banner(page, tmp_path):
    srv = GatehouseServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        page.goto(srv.url + "/console/")
        expect(page.get_by_role("heading", name="User pools")).to_be_visible()
        expect(page.get_by_text("Development mode: the console is open without sign-in.")).to_be_visible()
    finally:
        srv.stop()


def test_threat_protection_is_switched_on_the_pool_page_and_a_users_events_are_listed_and_marked(
        page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "events-pool")
    sign_in(page, console_server)
    page.get_by_role("link", name="events-pool").click()
    threat = page.get_by_role("group", name="Threat protection")
    expect(threat.get_by_role("radio", name="Off")).to_be_checked()
    threat.get_by_role("radio", name="Audit").check()
    threat.get_by_role("button", name="Save threat protection").click()
    expect(page.get_by_role("status")).to_have_text("Saved.")
    expect(threat.get_by_role("radio", name="Audit")).to_be_checked()
    described = admin_api.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    assert described["UserPoolAddOns"] == {"AdvancedSecurityMode": "AUDIT"}

    remember_new_device(admin_api, client_id, "ana's phone")
    with pytest.raises(admin_api.exceptions.NotAuthorizedException):
        admin_api.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": "ana", "PASSWORD": "Wrong-passw0rd!"})
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="ana").click()
    events = page.get_by_role("table", name="Sign-in events")
    rows = events.locator("tbody tr")
    expect(rows).to_have_count(2)
    # Newest first: the failure, then the sign-in that remembered the phone.
    expect(rows.nth(0)).to_contain_text("Fail")
    expect(rows.nth(1)).to_contain_text("Pass")
    expect(rows.nth(1)).to_contain_text("127.0.0.1")
    rows.nth(0).get_by_role("button", name=re.compile(r"^Mark the SignIn of .* invalid$")).click()
    expect(page.get_by_role("status")).to_have_text("The event's feedback was saved.")
    expect(page.get_by_role("table", name="Sign-in events").locator("tbody tr").nth(0)).to_contain_text("Invalid")
    listed = admin_api.admin_list_user_auth_events(UserPoolId=pool_id, Username="ana")["AuthEvents"]
    assert listed[0]["EventResponse"] == "Fail"
    assert listed[0]["EventFeedback"]["FeedbackValue"] == "Invalid"
    assert "EventFeedback" not in listed[1]


def test_a_pool_without_threat_protection_shows_no_events_section(page, console_server, admin_api):
    tracked_pool_with_ana(admin_api, "quiet-pool")
    open_user(page, console_server, "quiet-pool")
    expect(page.get_by_role("heading", name="Sign-in events")).to_have_count(0)
