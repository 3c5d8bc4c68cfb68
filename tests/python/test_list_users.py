"""ListUsers: server-side filters, Limit, PaginationToken (by hand and through boto3's paginator),
AttributesToGet."""

from __future__ import annotations

import pytest

from support import aws_error, user_attributes

PEOPLE = [
    # username, email, given_name, family_name, phone_number
    ("alice", "alice@example.com", "Alice", "Smith", "+15555550101"),
    ("albert", "albert@corp.example", "Albert", "Jones", "+15555550102"),
    ("bob", "bob@example.com", "Bob", "Smith", "+15555550103"),
    ("carol", "carol@corp.example", "Carol", "Alvarez", "+4915155550104"),
]


@pytest.fixture
def pool(cognito):
    return cognito.create_user_pool(PoolName="listing", Schema=[
        {"Name": "tenant", "AttributeDataType": "String"}])["UserPool"]["Id"]


@pytest.fixture
def people(cognito, pool):
    """Four users: bob CONFIRMED, albert disabled, the rest FORCE_CHANGE_PASSWORD. Returns subs by name."""
    subs = {}
    for username, email, given, family, phone in PEOPLE:
        user = cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS", UserAttributes=[
            {"Name": "email", "Value": email},
            {"Name": "given_name", "Value": given},
            {"Name": "family_name", "Value": family},
            {"Name": "name", "Value": f"{given} {family}"},
            {"Name": "preferred_username", "Value": f"{username}_p"},
            {"Name": "phone_number", "Value": phone},
            {"Name": "custom:tenant", "Value": "acme"},
        ])["User"]
        subs[username] = user_attributes(user)["sub"]
    cognito.admin_set_user_password(UserPoolId=pool, Username="bob", Password="Perm4nent!", Permanent=True)
    cognito.admin_disable_user(UserPoolId=pool, Username="albert")
    return subs


def names(cognito, pool, **kwargs) -> list[str]:
    response = cognito.list_users(UserPoolId=pool, **kwargs)
    assert "PaginationToken" not in response, response
    return sorted(u["Username"] for u in response["Users"])


def test_list_all_users(cognito, pool, people):
    users = cognito.list_users(UserPoolId=pool)["Users"]
    assert sorted(u["Username"] for u in users) == ["albert", "alice", "bob", "carol"]
    by_name = {u["Username"]: u for u in users}
    assert by_name["bob"]["UserStatus"] == "CONFIRMED"
    assert by_name["albert"]["Enabled"] is False
    assert user_attributes(by_name["alice"])["email"] == "alice@example.com"
    assert user_attributes(by_name["alice"])["sub"] == people["alice"]
    assert user_attributes(by_name["alice"])["custom:tenant"] == "acme"
    assert by_name["alice"]["UserCreateDate"] and by_name["alice"]["UserLastModifiedDate"]


def test_list_users_empty_pool(cognito, pool):
    assert cognito.list_users(UserPoolId=pool)["Users"] == []


def test_list_users_unknown_pool(cognito):
    with aws_error("ResourceNotFoundException", "User pool us-east-1_ZZZZZZZZZ does not exist."):
        cognito.list_users(UserPoolId="us-east-1_ZZZZZZZZZ")


@pytest.mark.parametrize("filter_, expected", [
    ('email = "alice@example.com"', ["alice"]),
    ('email = "nobody@example.com"', []),
    ('email ^= "al"', ["albert", "alice"]),
    ('email ^= "carol@corp"', ["carol"]),
    ('username = "bob"', ["bob"]),
    ('username ^= "al"', ["albert", "alice"]),
    ('username = "BOB"', []),  # username is case-sensitive
    ('cognito:user_status = "CONFIRMED"', ["bob"]),
    ('cognito:user_status = "FORCE_CHANGE_PASSWORD"', ["albert", "alice", "carol"]),
    ('status = "Enabled"', ["alice", "bob", "carol"]),
    ('status = "Disabled"', ["albert"]),
    ('status = "enabled"', []),  # status is case-sensitive
    ('name = "Bob Smith"', ["bob"]),
    ('name ^= "Al"', ["albert", "alice"]),
    ('given_name = "Carol"', ["carol"]),
    ('given_name ^= "A"', ["albert", "alice"]),
    ('family_name = "Smith"', ["alice", "bob"]),
    ('preferred_username = "bob_p"', ["bob"]),
    ('phone_number = "+15555550102"', ["albert"]),
    ('phone_number ^= "+49"', ["carol"]),
    ('email="bob@example.com"', ["bob"]),
    ('', ["albert", "alice", "bob", "carol"]),
])
def test_filters(cognito, pool, people, filter_, expected):
    assert names(cognito, pool, Filter=filter_) == expected


def test_filter_user_status_is_case_insensitive(cognito, pool, people):
    # "cognito:user_status (called Status in the Console) (case-insensitive)"
    assert names(cognito, pool, Filter='cognito:user_status = "confirmed"') == ["bob"]
    assert names(cognito, pool, Filter='cognito:user_status = "Force_Change_Password"') == ["albert", "alice", "carol"]


def test_filter_by_sub(cognito, pool, people):
    assert names(cognito, pool, Filter=f'sub = "{people["carol"]}"') == ["carol"]


def test_filter_with_escaped_quote(cognito, pool):
    cognito.admin_create_user(UserPoolId=pool, Username="quoted", MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "family_name", "Value": 'O"Brien'}])
    assert names(cognito, pool, Filter='family_name = "O\\"Brien"') == ["quoted"]


@pytest.mark.parametrize("filter_", [
    'email = alice@example.com',          # unquoted value
    'email = "x" and name = "y"',         # only one attribute at a time
    'custom:tenant = "acme"',             # custom attributes aren't searchable
    'locale = "en"',                      # nor are other standard attributes
    'nonsense = "x"',
    'email != "x"',
    'email',
])
def test_invalid_filters(cognito, pool, people, filter_):
    with aws_error("InvalidParameterException"):
        cognito.list_users(UserPoolId=pool, Filter=filter_)


def test_limit_bounds(cognito_raw, pool, people):
    with aws_error("InvalidParameterException", "limit", "60"):
        cognito_raw.list_users(UserPoolId=pool, Limit=61)
    assert len(cognito_raw.list_users(UserPoolId=pool, Limit=60)["Users"]) == 4


def test_limit_sixty_users(cognito, pool):
    for i in range(61):
        cognito.admin_create_user(UserPoolId=pool, Username=f"user{i:02d}", MessageAction="SUPPRESS")
    first = cognito.list_users(UserPoolId=pool, Limit=60)
    assert len(first["Users"]) == 60
    assert "PaginationToken" in first
    rest = cognito.list_users(UserPoolId=pool, Limit=60, PaginationToken=first["PaginationToken"])
    assert len(rest["Users"]) == 1
    assert "PaginationToken" not in rest
    seen = [u["Username"] for u in first["Users"] + rest["Users"]]
    assert sorted(seen) == [f"user{i:02d}" for i in range(61)]


def test_pagination_returns_every_user_once(cognito, pool):
    expected = [f"user{i:02d}" for i in range(23)]
    for username in expected:
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    seen, token, pages = [], None, 0
    while True:
        kwargs = {"PaginationToken": token} if token else {}
        page = cognito.list_users(UserPoolId=pool, Limit=5, **kwargs)
        assert len(page["Users"]) <= 5
        seen += [u["Username"] for u in page["Users"]]
        pages += 1
        token = page.get("PaginationToken")
        if not token:
            break
        assert pages < 50, "pagination does not terminate"
    assert sorted(seen) == expected
    assert len(seen) == len(set(seen))
    assert pages >= 5


def test_boto3_paginator(cognito, pool):
    expected = {f"user{i:02d}" for i in range(13)}
    for username in expected:
        cognito.admin_create_user(UserPoolId=pool, Username=username, MessageAction="SUPPRESS")
    paginator = cognito.get_paginator("list_users")
    pages = list(paginator.paginate(UserPoolId=pool, PaginationConfig={"PageSize": 4}))
    seen = [u["Username"] for page in pages for u in page["Users"]]
    assert len(seen) == len(expected) and set(seen) == expected
    assert len(pages) >= 4
    assert all(len(page["Users"]) <= 4 for page in pages)
    # build_full_result stitches the same list.
    full = paginator.paginate(UserPoolId=pool, PaginationConfig={"PageSize": 3}).build_full_result()
    assert sorted(u["Username"] for u in full["Users"]) == sorted(expected)


def test_pagination_with_filter(cognito, pool):
    for i in range(9):
        cognito.admin_create_user(UserPoolId=pool, Username=f"{'a' if i % 3 else 'b'}{i}", MessageAction="SUPPRESS")
    paginator = cognito.get_paginator("list_users")
    seen = [u["Username"] for page in paginator.paginate(UserPoolId=pool, Filter='username ^= "a"',
                                                         PaginationConfig={"PageSize": 2})
            for u in page["Users"]]
    assert sorted(seen) == ["a1", "a2", "a4", "a5", "a7", "a8"]


def test_invalid_pagination_token(cognito, pool, people):
    with aws_error("InvalidParameterException"):
        cognito.list_users(UserPoolId=pool, PaginationToken="not-a-token")


def test_attributes_to_get(cognito, pool, people):
    users = cognito.list_users(UserPoolId=pool, AttributesToGet=["email", "given_name"])["Users"]
    assert len(users) == 4
    for user in users:
        assert set(user_attributes(user)) == {"email", "given_name"}, user
        # The other members are still there.
        assert user["UserStatus"] and "Enabled" in user and user["UserCreateDate"]
    bob = next(u for u in users if u["Username"] == "bob")
    assert user_attributes(bob) == {"email": "bob@example.com", "given_name": "Bob"}


def test_attributes_to_get_with_filter(cognito, pool, people):
    [user] = cognito.list_users(UserPoolId=pool, Filter='family_name = "Jones"', AttributesToGet=["sub"])["Users"]
    assert user["Username"] == "albert"
    assert user_attributes(user) == {"sub": people["albert"]}

