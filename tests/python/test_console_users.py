"""The console's user management in real Chromium, driven by Playwright, checked through boto3:
creating users (with an invitation or without), disabling and enabling them, resetting their
password, deleting them, their attributes, groups and MFA, the development-mode outbox, and what
a read-only key may not do. Every action calls the API's core function, so what boto3 reads back
is the console's only measure. Fixtures and the browser requirement: console_support.py.
"""

from __future__ import annotations

import pytest

from console_support import *  # noqa: F401,F403 - fixtures and helpers
from console_support import ADMIN, READER, expect, mfa_optional_pool, open_user, sign_in, \
    tracked_pool_with_ana
from support import GatehouseServer, new_app_client


def open_users(page, server, pool_name, key=ADMIN):
    sign_in(page, server, key)
    page.get_by_role("link", name=pool_name, exact=True).click()
    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()


def create_user(page, username, email="", invite=True, temporary_password=""):
    form = page.get_by_role("group", name="Create user")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Email").fill(email)
    form.get_by_label("Send an invitation").set_checked(invite)
    form.get_by_label("Temporary password").fill(temporary_password)
    form.get_by_role("button", name="Create user").click()


def password_sign_in(api, client_id, username, password):
    return api.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                             AuthParameters={"USERNAME": username, "PASSWORD": password})


def attributes_of(api, pool_id, username="ana"):
    user = api.admin_get_user(UserPoolId=pool_id, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"]}


def test_create_a_user_without_an_invitation_and_the_apis_messages_beside_the_form(page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "create-users-pool")
    open_users(page, console_server, "create-users-pool")
    form = page.get_by_role("group", name="Create user")
    expect(form.get_by_label("Send an invitation")).to_be_checked()

    # The API's validation and the core's refusals, beside the form, which keeps what was typed.
    create_user(page, "has space", email="x@example.com")
    expect(form.get_by_role("alert")).to_contain_text("username")
    expect(form.get_by_label("Username")).to_have_value("has space")
    create_user(page, "ana", invite=False)
    expect(form.get_by_role("alert")).to_have_text("User account already exists")
    expect(form.get_by_label("Send an invitation")).not_to_be_checked()

    create_user(page, "carla", email="carla@example.com", invite=False, temporary_password="Temp0rary!pw")
    expect(page.get_by_role("heading", name="carla")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("The user was created.")
    user = admin_api.admin_get_user(UserPoolId=pool_id, Username="carla")
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert attributes_of(admin_api, pool_id, "carla")["email"] == "carla@example.com"
    # The temporary password given is the one the user signs in with.
    assert password_sign_in(admin_api, client_id, "carla", "Temp0rary!pw")["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    # Without --dev the page has no outbox.
    expect(page.get_by_role("heading", name="Outbox")).to_have_count(0)


def test_in_development_mode_the_outbox_shows_the_invitation_and_nothing_for_a_suppressed_user(page, tmp_path):
    srv = GatehouseServer(tmp_path / "data", tmp_path / "server.log").start()
    try:
        api = srv.client()
        pool_id = api.create_user_pool(PoolName="outbox-pool")["UserPool"]["Id"]
        client_id, _ = new_app_client(api, pool_id)
        page.goto(f"{srv.url}/console/pools/{pool_id}/users")
        create_user(page, "dora", email="dora@example.com", invite=True)
        expect(page.get_by_role("heading", name="dora")).to_be_visible()
        outbox = page.get_by_role("table", name="Outbox")
        row = outbox.get_by_role("row").filter(has_text="INVITATION")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("EMAIL")
        expect(row).to_contain_text("dora@example.com")
        code = row.locator("code").inner_text()
        assert code
        assert [m["Code"] for m in srv.outbox(pool_id, "dora") if m["Purpose"] == "INVITATION"] == [code]
        # The code shown is the temporary password the invitation carries.
        assert password_sign_in(api, client_id, "dora", code)["ChallengeName"] == "NEW_PASSWORD_REQUIRED"

        page.goto(f"{srv.url}/console/pools/{pool_id}/users")
        create_user(page, "eli", email="eli@example.com", invite=False)
        expect(page.get_by_role("heading", name="eli")).to_be_visible()
        expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
        expect(page.get_by_text("Nothing sent to this user.")).to_be_visible()
        assert srv.outbox(pool_id, "eli") == []
    finally:
        srv.stop()


def test_disable_refuses_sign_in_and_enable_allows_it_again(page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "disable-pool")
    open_user(page, console_server, "disable-pool")
    page.get_by_role("button", name="Disable user").click()
    expect(page.get_by_role("status")).to_have_text("The user was disabled.")
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["Enabled"] is False
    with pytest.raises(admin_api.exceptions.NotAuthorizedException, match="User is disabled"):
        password_sign_in(admin_api, client_id, "ana", "Passw0rd!")

    page.get_by_role("button", name="Enable user").click()
    expect(page.get_by_role("status")).to_have_text("The user was enabled.")
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["Enabled"] is True
    assert "AuthenticationResult" in password_sign_in(admin_api, client_id, "ana", "Passw0rd!")


def test_reset_password_needs_a_verified_contact_then_requires_a_new_password(page, console_server, admin_api):
    pool_id, client_id = tracked_pool_with_ana(admin_api, "reset-pool")
    open_user(page, console_server, "reset-pool")
    password = page.get_by_role("group", name="Password")
    # ana's email is not verified: the API's refusal, beside the form.
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        password.get_by_role("button", name="Reset password").click()
    assert answer.value.status == 400
    expect(password.get_by_role("alert")).to_have_text(
        "Cannot reset password for the user as there is no registered/verified email or phone_number")
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["UserStatus"] == "CONFIRMED"

    admin_api.admin_update_user_attributes(UserPoolId=pool_id, Username="ana",
                                           UserAttributes=[{"Name": "email_verified", "Value": "true"}])
    password.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("status")).to_contain_text("The password was reset")
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["UserStatus"] == "RESET_REQUIRED"
    with pytest.raises(admin_api.exceptions.PasswordResetRequiredException):
        password_sign_in(admin_api, client_id, "ana", "Passw0rd!")


def test_delete_a_user_only_with_the_username_typed(page, console_server, admin_api):
    pool_id, _ = tracked_pool_with_ana(admin_api, "delete-user-pool")
    open_user(page, console_server, "delete-user-pool")
    delete = page.get_by_role("group", name="Delete this user")
    delete.get_by_label("Type the username to confirm").fill("an")
    delete.get_by_role("button", name="Delete user").click()
    expect(delete.get_by_role("alert")).to_have_text("Type the username exactly to delete the user.")
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["Username"] == "ana"

    delete.get_by_label("Type the username to confirm").fill("ana")
    delete.get_by_role("button", name="Delete user").click()
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("The user was deleted.")
    expect(page.get_by_role("link", name="ana", exact=True)).to_have_count(0)
    with pytest.raises(admin_api.exceptions.UserNotFoundException):
        admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")


def test_edit_add_and_delete_attributes_with_the_apis_message_for_a_bad_one(page, console_server, admin_api):
    pool_id, _ = tracked_pool_with_ana(admin_api, "attributes-pool")
    open_user(page, console_server, "attributes-pool")
    form = page.get_by_role("group", name="Edit or add an attribute")
    table = page.get_by_role("table", name="Attributes")

    form.get_by_label("Attribute name").fill("name")
    form.get_by_label("Value").fill("Ana Lima")
    form.get_by_role("button", name="Save attribute").click()
    expect(page.get_by_role("status")).to_have_text("The attribute was saved.")
    expect(table.get_by_role("row", name="name Ana Lima", exact=True)).to_be_visible()
    assert attributes_of(admin_api, pool_id)["name"] == "Ana Lima"

    form.get_by_label("Attribute name").fill("email")
    form.get_by_label("Value").fill("ana@example.net")
    form.get_by_role("button", name="Save attribute").click()
    expect(page.get_by_role("status")).to_have_text("The attribute was saved.")
    attrs = attributes_of(admin_api, pool_id)
    assert attrs["email"] == "ana@example.net"
    assert attrs["email_verified"] == "false"

    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        form.get_by_label("Attribute name").fill("shoe_size")
        form.get_by_label("Value").fill("9")
        form.get_by_role("button", name="Save attribute").click()
    assert answer.value.status == 400
    expect(form.get_by_role("alert")).to_have_text(
        "Attributes did not conform to the schema: shoe_size: Attribute does not exist in the schema.")
    expect(form.get_by_label("Attribute name")).to_have_value("shoe_size")
    assert "shoe_size" not in attributes_of(admin_api, pool_id)

    page.get_by_role("button", name="Delete attribute name", exact=True).click()
    expect(page.get_by_role("status")).to_have_text("The attribute was deleted.")
    assert "name" not in attributes_of(admin_api, pool_id)
    expect(table.get_by_role("row", name="name Ana Lima")).to_have_count(0)


def test_create_groups_and_add_and_remove_a_user(page, console_server, admin_api):
    pool_id, _ = tracked_pool_with_ana(admin_api, "groups-pool")
    open_users(page, console_server, "groups-pool")
    page.get_by_role("link", name="Groups", exact=True).click()
    expect(page.get_by_text("No groups yet.")).to_be_visible()
    create = page.get_by_role("group", name="Create group")
    for name in ("admins", "staff"):
        create.get_by_label("Group name").fill(name)
        create.get_by_role("button", name="Create group").click()
        expect(page.get_by_role("status")).to_have_text("The group was created.")
    expect(page.get_by_role("table", name="Groups").get_by_role("row")).to_have_count(3)
    create.get_by_label("Group name").fill("admins")
    create.get_by_role("button", name="Create group").click()
    expect(create.get_by_role("alert")).to_have_text("A group with the name already exists.")
    assert sorted(g["GroupName"] for g in admin_api.list_groups(UserPoolId=pool_id)["Groups"]) == ["admins", "staff"]

    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("link", name="ana", exact=True).click()
    expect(page.get_by_text("Not in any group.")).to_be_visible()
    page.get_by_label("Group", exact=True).select_option("staff")
    page.get_by_role("button", name="Add to group").click()
    expect(page.get_by_role("status")).to_have_text("The user was added to the group.")
    groups = lambda: [g["GroupName"] for g in admin_api.admin_list_groups_for_user(UserPoolId=pool_id, Username="ana")["Groups"]]  # noqa: E731
    assert groups() == ["staff"]
    # Only groups the user is not in are offered.
    expect(page.get_by_label("Group", exact=True).locator("option")).to_have_text(["admins"])
    page.get_by_role("button", name="Add to group").click()
    expect(page.get_by_role("status")).to_have_text("The user was added to the group.")
    assert sorted(groups()) == ["admins", "staff"]

    page.get_by_role("button", name="Remove from staff").click()
    expect(page.get_by_role("status")).to_have_text("The user was removed from the group.")
    assert groups() == ["admins"]
    expect(page.get_by_role("list", name="Groups of ana")).to_have_text("admins Remove from admins")


def test_reset_mfa_turns_off_every_factor(page, console_server, admin_api):
    pool_id = mfa_optional_pool(admin_api, "mfa-reset-pool")
    admin_api.admin_create_user(UserPoolId=pool_id, Username="ana", MessageAction="SUPPRESS",
                                UserAttributes=[{"Name": "email", "Value": "ana@example.com"},
                                                {"Name": "phone_number", "Value": "+15555550100"}])
    admin_api.admin_set_user_mfa_preference(UserPoolId=pool_id, Username="ana",
                                            SMSMfaSettings={"Enabled": True, "PreferredMfa": True})
    open_user(page, console_server, "mfa-reset-pool")
    expect(page.get_by_text("Preferred factor", exact=True)).to_be_visible()
    expect(page.locator("dd").first).to_have_text("SMS_MFA")
    expect(page.locator("dd").nth(1)).to_have_text("SMS_MFA")
    page.get_by_role("button", name="Reset MFA").click()
    expect(page.get_by_role("status")).to_have_text("MFA was reset: no factor is enabled or preferred.")
    user = admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")
    assert "PreferredMfaSetting" not in user
    assert not user.get("UserMFASettingList")
    expect(page.locator("dd")).to_have_text(["none", "none"])


def test_a_read_only_key_sees_disabled_buttons_and_a_forced_post_is_refused(page, console_server, admin_api):
    pool_id, _ = tracked_pool_with_ana(admin_api, "ro-users-pool")
    admin_api.create_group(UserPoolId=pool_id, GroupName="readers")
    open_users(page, console_server, "ro-users-pool", key=READER)
    expect(page.get_by_role("button", name="Create user")).to_be_disabled()
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    page.get_by_role("link", name="ana", exact=True).click()
    for name in ("Disable user", "Reset password", "Save attribute", "Delete attribute email",
                 "Add to group", "Reset MFA", "Delete user"):
        expect(page.get_by_role("button", name=name, exact=True)).to_be_disabled()

    base = f"{console_server.url}/console/pools/{pool_id}"
    forced = [
        ("/users", {"username": "mallory", "email": "m@example.com"}, "AdminCreateUser"),
        ("/users/ana/disable", {}, "AdminDisableUser"),
        ("/users/ana/delete", {"confirm": "ana"}, "AdminDeleteUser"),
        ("/users/ana/attributes", {"name": "name", "value": "x"}, "AdminUpdateUserAttributes"),
        ("/users/ana/groups/add", {"group": "readers"}, "AdminAddUserToGroup"),
        ("/users/ana/mfa/reset", {}, "AdminSetUserMFAPreference"),
        ("/groups", {"group_name": "writers"}, "CreateGroup"),
    ]
    for path, form, operation in forced:
        answer = page.request.post(base + path, form={"csrf": csrf, **form}, max_redirects=0)
        assert answer.status == 403, path
        assert f"not authorized to perform: cognito-idp:{operation}" in answer.text(), path
    user = admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")
    assert user["Enabled"] is True
    assert "name" not in {a["Name"] for a in user["UserAttributes"]}
    assert admin_api.admin_list_groups_for_user(UserPoolId=pool_id, Username="ana")["Groups"] == []
    assert [u["Username"] for u in admin_api.list_users(UserPoolId=pool_id)["Users"]] == ["ana"]


def test_every_user_form_needs_its_csrf_token_and_no_input_makes_a_server_error(page, console_server, admin_api):
    pool_id, _ = tracked_pool_with_ana(admin_api, "csrf-users-pool")
    open_users(page, console_server, "csrf-users-pool")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    base = f"{console_server.url}/console/pools/{pool_id}"
    paths = ["/users", "/groups"] + [f"/users/ana/{a}" for a in (
        "disable", "enable", "reset-password", "delete", "attributes", "attributes/delete", "mfa/reset",
        "groups/add", "groups/remove")]
    for path in paths:
        answer = page.request.post(base + path, form={"csrf": "forged"}, max_redirects=0)
        assert answer.status == 403 and "CSRF" in answer.text(), path
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["Enabled"] is True
    # Empty or odd fields, and a user who does not exist: an answer, never a server error.
    odd = {"username": "", "group_name": "", "name": "", "value": "\u0000", "group": "nope", "confirm": ""}
    for path in paths + [p.replace("/ana/", "/nobody%2Fhere/") for p in paths if "/ana/" in p]:
        answer = page.request.post(base + path, form={"csrf": csrf, **odd}, max_redirects=0)
        assert answer.status < 500, (path, answer.status)
    assert admin_api.admin_get_user(UserPoolId=pool_id, Username="ana")["Username"] == "ana"


def test_a_username_holding_script_is_shown_as_text(page, console_server, admin_api):
    admin_api.create_user_pool(PoolName="script-user-pool")
    script = "<script>alert('x')</script>"
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_users(page, console_server, "script-user-pool")
    create_user(page, script, invite=False)
    expect(page.get_by_role("heading", name=script)).to_be_visible()
    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("link", name=script).click()
    expect(page.get_by_role("heading", name=script)).to_be_visible()
    assert dialogs == []


def test_users_list_screenshot(page, console_server, admin_api, screenshots):
    pool_id = admin_api.create_user_pool(PoolName="team-pool")["UserPool"]["Id"]
    for name, email in (("ana", "ana@example.com"), ("bruno", "bruno@example.com"), ("chen", "chen@example.org")):
        admin_api.admin_create_user(UserPoolId=pool_id, Username=name, MessageAction="SUPPRESS",
                                    UserAttributes=[{"Name": "email", "Value": email}])
    admin_api.admin_set_user_password(UserPoolId=pool_id, Username="ana", Password="Passw0rd!", Permanent=True)
    admin_api.admin_disable_user(UserPoolId=pool_id, Username="chen")
    page.set_viewport_size({"width": 1000, "height": 900})
    open_users(page, console_server, "team-pool")
    expect(page.get_by_role("table", name="Users").get_by_role("row")).to_have_count(4)
    page.locator("main").screenshot(path=str(screenshots / "users-list.png"))
    assert (screenshots / "users-list.png").stat().st_size > 0
