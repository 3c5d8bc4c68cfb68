"""Groups: CreateGroup / GetGroup / UpdateGroup / DeleteGroup / ListGroups and membership through
AdminAddUserToGroup / AdminRemoveUserFromGroup / AdminListGroupsForUser / ListUsersInGroup."""

from __future__ import annotations

import datetime as dt

import pytest

from support import aws_error, strip_meta

ROLE = "arn:aws:iam::123456789012:role/"
NOT_FOUND = "Group not found."


@pytest.fixture
def pool(cognito):
    pool = cognito.create_user_pool(PoolName="groups")["UserPool"]["Id"]
    for username in ("alice", "bob", "carol"):
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    return pool


def group_names(groups: list[dict]) -> list[str]:
    return sorted(g["GroupName"] for g in groups)


def groups_of(cognito, pool, username) -> list[str]:
    return group_names(cognito.admin_list_groups_for_user(UserPoolId=pool, Username=username)["Groups"])


def members(cognito, pool, group) -> list[str]:
    return sorted(u["Username"] for u in cognito.list_users_in_group(UserPoolId=pool, GroupName=group)["Users"])


# --- CreateGroup / GetGroup ----------------------------------------------------------------------

def test_create_and_get_group(cognito, pool):
    before = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    created = cognito.create_group(UserPoolId=pool, GroupName="admins", Description="The admins",
                                   Precedence=1, RoleArn=ROLE + "admin")["Group"]
    after = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5)
    assert created["GroupName"] == "admins"
    assert created["UserPoolId"] == pool
    assert created["Description"] == "The admins"
    assert created["Precedence"] == 1
    assert created["RoleArn"] == ROLE + "admin"
    assert before <= created["CreationDate"] <= after
    assert created["LastModifiedDate"] == created["CreationDate"]
    assert cognito.get_group(UserPoolId=pool, GroupName="admins")["Group"] == created


def test_create_minimal_group(cognito, pool):
    created = cognito.create_group(UserPoolId=pool, GroupName="plain")["Group"]
    for key in ("Description", "Precedence", "RoleArn"):
        assert key not in created, created
    assert cognito.get_group(UserPoolId=pool, GroupName="plain")["Group"] == created


def test_create_existing_group(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="admins", Description="first")
    with aws_error("GroupExistsException", "A group with the name already exists."):
        cognito.create_group(UserPoolId=pool, GroupName="admins", Description="second")
    assert cognito.get_group(UserPoolId=pool, GroupName="admins")["Group"]["Description"] == "first"


def test_group_names_are_per_pool(cognito, pool):
    other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
    cognito.create_group(UserPoolId=pool, GroupName="admins")
    with aws_error("ResourceNotFoundException", NOT_FOUND):
        cognito.get_group(UserPoolId=other, GroupName="admins")
    cognito.create_group(UserPoolId=other, GroupName="admins")
    assert cognito.get_group(UserPoolId=other, GroupName="admins")["Group"]["UserPoolId"] == other


def test_create_group_validation(cognito_raw, pool):
    with aws_error("InvalidParameterException", "precedence"):
        cognito_raw.create_group(UserPoolId=pool, GroupName="neg", Precedence=-1)
    with aws_error("InvalidParameterException", "roleArn"):
        cognito_raw.create_group(UserPoolId=pool, GroupName="bad", RoleArn="not-an-arn")
    assert cognito_raw.list_groups(UserPoolId=pool)["Groups"] == []


def test_create_group_unknown_pool(cognito):
    with aws_error("ResourceNotFoundException"):
        cognito.create_group(UserPoolId="us-east-1_ZZZZZZZZZ", GroupName="g")


@pytest.mark.parametrize("operation, kwargs", [
    ("get_group", {}),
    ("update_group", {"Description": "x"}),
    ("delete_group", {}),
    ("list_users_in_group", {}),
    ("admin_add_user_to_group", {"Username": "alice"}),
    ("admin_remove_user_from_group", {"Username": "alice"}),
])
def test_unknown_group(cognito, pool, operation, kwargs):
    with aws_error("ResourceNotFoundException", NOT_FOUND):
        getattr(cognito, operation)(UserPoolId=pool, GroupName="nope", **kwargs)


# --- UpdateGroup ---------------------------------------------------------------------------------

def test_update_group(cognito, pool):
    created = cognito.create_group(UserPoolId=pool, GroupName="staff")["Group"]
    updated = cognito.update_group(UserPoolId=pool, GroupName="staff", Description="All staff",
                                   Precedence=5, RoleArn=ROLE + "staff")["Group"]
    assert updated["Description"] == "All staff"
    assert updated["Precedence"] == 5
    assert updated["RoleArn"] == ROLE + "staff"
    assert updated["CreationDate"] == created["CreationDate"]
    assert updated["LastModifiedDate"] >= created["LastModifiedDate"]
    assert cognito.get_group(UserPoolId=pool, GroupName="staff")["Group"] == updated

    again = cognito.update_group(UserPoolId=pool, GroupName="staff", Precedence=0)["Group"]
    assert again["Precedence"] == 0
    assert cognito.get_group(UserPoolId=pool, GroupName="staff")["Group"]["Precedence"] == 0


# --- DeleteGroup ---------------------------------------------------------------------------------

def test_delete_group(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="temp")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName="temp")
    assert strip_meta(cognito.delete_group(UserPoolId=pool, GroupName="temp")) == {}
    with aws_error("ResourceNotFoundException", NOT_FOUND):
        cognito.get_group(UserPoolId=pool, GroupName="temp")
    with aws_error("ResourceNotFoundException", NOT_FOUND):
        cognito.delete_group(UserPoolId=pool, GroupName="temp")
    # Membership went with the group; the user did not.
    assert groups_of(cognito, pool, "alice") == []
    assert cognito.admin_get_user(UserPoolId=pool, Username="alice")["Username"] == "alice"
    # A group of the same name starts empty.
    cognito.create_group(UserPoolId=pool, GroupName="temp")
    assert members(cognito, pool, "temp") == []


# --- ListGroups ----------------------------------------------------------------------------------

def test_list_groups_pagination(cognito, pool):
    expected = [f"group{i}" for i in range(7)]
    for name in expected:
        cognito.create_group(UserPoolId=pool, GroupName=name)
    seen, token = [], None
    for _ in range(20):
        page = cognito.list_groups(UserPoolId=pool, Limit=3, **({"NextToken": token} if token else {}))
        assert len(page["Groups"]) <= 3
        seen += [g["GroupName"] for g in page["Groups"]]
        token = page.get("NextToken")
        if not token:
            break
    assert sorted(seen) == expected and len(seen) == len(set(seen))

    paged = [g["GroupName"] for p in cognito.get_paginator("list_groups").paginate(
        UserPoolId=pool, PaginationConfig={"PageSize": 2}) for g in p["Groups"]]
    assert sorted(paged) == expected and len(paged) == len(expected)


def test_list_groups_full_members(cognito, pool):
    created = cognito.create_group(UserPoolId=pool, GroupName="admins", Description="d", Precedence=2,
                                   RoleArn=ROLE + "a")["Group"]
    assert cognito.list_groups(UserPoolId=pool)["Groups"] == [created]


def test_list_groups_limit_bounds(cognito_raw, pool):
    with aws_error("InvalidParameterException", "limit"):
        cognito_raw.list_groups(UserPoolId=pool, Limit=61)
    assert cognito_raw.list_groups(UserPoolId=pool, Limit=60)["Groups"] == []


# --- membership ----------------------------------------------------------------------------------

def test_membership_round_trip(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="admins", Precedence=0)
    cognito.create_group(UserPoolId=pool, GroupName="staff", Precedence=10)

    assert strip_meta(cognito.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName="admins")) == {}
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName="staff")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="bob", GroupName="staff")
    cognito.admin_add_user_to_group(UserPoolId=pool, Username="bob", GroupName="staff")  # no-op the second time

    assert groups_of(cognito, pool, "alice") == ["admins", "staff"]
    assert groups_of(cognito, pool, "bob") == ["staff"]
    assert groups_of(cognito, pool, "carol") == []
    assert members(cognito, pool, "staff") == ["alice", "bob"]
    assert members(cognito, pool, "admins") == ["alice"]

    # AdminListGroupsForUser returns full GroupType records.
    listed = cognito.admin_list_groups_for_user(UserPoolId=pool, Username="alice")["Groups"]
    assert {g["GroupName"]: g["Precedence"] for g in listed} == {"admins": 0, "staff": 10}
    assert all(g["UserPoolId"] == pool for g in listed)

    # ListUsersInGroup returns full UserType records.
    [bob] = [u for u in cognito.list_users_in_group(UserPoolId=pool, GroupName="staff")["Users"]
             if u["Username"] == "bob"]
    assert bob["UserStatus"] == "FORCE_CHANGE_PASSWORD" and bob["Enabled"] is True
    assert any(a["Name"] == "sub" for a in bob["Attributes"])

    assert strip_meta(cognito.admin_remove_user_from_group(UserPoolId=pool, Username="alice", GroupName="staff")) == {}
    assert groups_of(cognito, pool, "alice") == ["admins"]
    assert members(cognito, pool, "staff") == ["bob"]


def test_deleting_a_user_removes_membership(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="staff")
    for username in ("alice", "bob"):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=username, GroupName="staff")
    cognito.admin_delete_user(UserPoolId=pool, Username="alice")
    assert members(cognito, pool, "staff") == ["bob"]
    cognito.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS")
    assert groups_of(cognito, pool, "alice") == []


def test_membership_unknown_user(cognito, pool):
    cognito.create_group(UserPoolId=pool, GroupName="staff")
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="nobody", GroupName="staff")
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_remove_user_from_group(UserPoolId=pool, Username="nobody", GroupName="staff")
    with aws_error("UserNotFoundException", "User does not exist."):
        cognito.admin_list_groups_for_user(UserPoolId=pool, Username="nobody")
    assert members(cognito, pool, "staff") == []


def test_membership_pagination(cognito, pool):
    for i in range(5):
        cognito.create_group(UserPoolId=pool, GroupName=f"g{i}")
        cognito.admin_add_user_to_group(UserPoolId=pool, Username="alice", GroupName=f"g{i}")
    for i in range(7):
        cognito.admin_create_user(UserPoolId=pool, Username=f"m{i}", MessageAction="SUPPRESS")
        cognito.admin_add_user_to_group(UserPoolId=pool, Username=f"m{i}", GroupName="g0")

    groups = [g["GroupName"] for p in cognito.get_paginator("admin_list_groups_for_user").paginate(
        UserPoolId=pool, Username="alice", PaginationConfig={"PageSize": 2}) for g in p["Groups"]]
    assert sorted(groups) == [f"g{i}" for i in range(5)] and len(groups) == 5

    users = [u["Username"] for p in cognito.get_paginator("list_users_in_group").paginate(
        UserPoolId=pool, GroupName="g0", PaginationConfig={"PageSize": 3}) for u in p["Users"]]
    assert sorted(users) == sorted(["alice"] + [f"m{i}" for i in range(7)]) and len(users) == 8
