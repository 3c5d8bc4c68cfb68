"""Promises that simultaneous HTTP requests must not break (the core-level twins are in
crates/store/tests/races.rs): one code is accepted once and guessed at most five times, one email
has one holder, a RevokeToken that answered 200 holds against a racing refresh, a rotated
refresh token without grace is taken once, and concurrent attribute updates all succeed.

Every race starts its requests together (a barrier) from separate boto3 clients, several rounds."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from support import PASSWORD, last_code, new_app_client, new_confirmed_user, password_sign_in, refresh

ROUNDS = 4
WIDTH = 32


@pytest.fixture(scope="module")
def clients(server):
    return [server.client() for _ in range(WIDTH)]


def race(clients, calls):
    """Runs calls[i](clients[i]) all at once; returns each result or the AWS error code."""
    barrier = threading.Barrier(len(calls))

    def run(i):
        barrier.wait()
        try:
            return ("ok", calls[i](clients[i]))
        except ClientError as e:
            return (e.response["Error"]["Code"], e.response["Error"]["Message"])

    with ThreadPoolExecutor(len(calls)) as ex:
        return list(ex.map(run, range(len(calls))))


def outcomes(results):
    return sorted(r[0] for r in results)


@pytest.fixture
def recovery(cognito, pool):
    client_id = new_app_client(cognito, pool)[0]

    def user(name):
        new_confirmed_user(cognito, pool, name, PASSWORD, email=f"{name}@example.com", email_verified="true")
        cognito.forgot_password(ClientId=client_id, Username=name)
        return name

    return client_id, user


def confirm(client_id, name, code):
    return lambda c: c.confirm_forgot_password(ClientId=client_id, Username=name, ConfirmationCode=code,
                                               Password=f"N3w-{code}-Passw0rd!")


def test_simultaneous_confirmations_of_one_code_accept_it_once(server, pool, recovery, clients):
    client_id, user = recovery
    for r in range(ROUNDS):
        name = user(f"one{r}")
        code = last_code(server, pool, "FORGOT_PASSWORD", name)
        results = race(clients, [confirm(client_id, name, code)] * 16)
        # One wins. The others find the code spent or, when more than five guesses were counted
        # before the winner consumed it (PostgreSQL with several processes is truly parallel),
        # the guesses used up: as the store suite's twin in crates/store/tests/races.rs says.
        assert outcomes(results).count("ok") == 1, results
        assert set(outcomes(results)) <= {"ok", "CodeMismatchException", "LimitExceededException"}, results


def test_thirty_two_simultaneous_wrong_guesses_check_at_most_five(server, cognito, pool, recovery, clients):
    client_id, user = recovery
    for r in range(ROUNDS):
        name = user(f"guess{r}")
        code = last_code(server, pool, "FORGOT_PASSWORD", name)
        wrong = "111111" if code == "000000" else "000000"
        results = race(clients, [confirm(client_id, name, wrong)] * WIDTH)
        assert outcomes(results) == ["CodeMismatchException"] * 5 + ["LimitExceededException"] * 27, results
        with pytest.raises(ClientError) as e:
            confirm(client_id, name, code)(cognito)
        assert e.value.response["Error"]["Code"] == "LimitExceededException"


def test_forgot_password_is_capped_per_user(cognito, pool, recovery, clients):
    client_id, user = recovery
    user("capped")  # one code sent already
    results = race(clients, [lambda c: c.forgot_password(ClientId=client_id, Username="capped")] * 8)
    assert outcomes(results) == ["LimitExceededException"] * 4 + ["ok"] * 4, results
    assert {r[1] for r in results if r[0] != "ok"} == {"Attempt limit exceeded, please try after some time."}


def test_simultaneous_sign_ups_with_one_email_make_one_user(cognito, clients):
    pool = cognito.create_user_pool(PoolName="email-names", UsernameAttributes=["email"],
                                    UsernameConfiguration={"CaseSensitive": False})["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    for r in range(ROUNDS):
        email = f"Same{r}@example.com"
        calls = [lambda c, i=i: c.sign_up(ClientId=client_id, Password=PASSWORD,
                                          Username=email.lower() if i % 3 == 0 else email)
                 for i in range(16)]
        results = race(clients, calls)
        assert outcomes(results) == ["UsernameExistsException"] * 15 + ["ok"], results
        users = cognito.list_users(UserPoolId=pool, Filter=f'email = "{email.lower()}"')["Users"]
        assert len(users) == 1


def test_simultaneous_creations_with_one_verified_alias_leave_one_holder(cognito, clients):
    pool = cognito.create_user_pool(PoolName="email-alias", AliasAttributes=["email"])["UserPool"]["Id"]
    for r in range(ROUNDS):
        email = f"shared{r}@example.com"
        calls = [lambda c, i=i: c.admin_create_user(
            UserPoolId=pool, Username=f"r{r}u{i}", MessageAction="SUPPRESS",
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}])
            for i in range(16)]
        results = race(clients, calls)
        assert outcomes(results) == ["AliasExistsException"] * 15 + ["ok"], results
        holders = [u for u in cognito.list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
                   if {"Name": "email_verified", "Value": "true"} in u["Attributes"]]
        assert len(holders) == 1


def rotating_pool(cognito, pool, rotation):
    settings = {}
    if rotation:
        settings["RefreshTokenRotation"] = {"Feature": "ENABLED", "RetryGracePeriodSeconds": 0}
    client_id = new_app_client(cognito, pool, **settings)[0]
    new_confirmed_user(cognito, pool, "alice", PASSWORD)
    return client_id


def racing_refresh(client_id, token, rotation):
    """A call for `race`: GetTokensFromRefreshToken with rotation, else REFRESH_TOKEN_AUTH."""
    if rotation:
        return lambda c: c.get_tokens_from_refresh_token(ClientId=client_id, RefreshToken=token)
    return lambda c: refresh(c, client_id, token)


@pytest.mark.parametrize("rotation", [False, True])
def test_a_revocation_that_answered_holds_against_racing_refreshes(cognito, pool, clients, rotation):
    client_id = rotating_pool(cognito, pool, rotation)
    for r in range(ROUNDS * 2):
        token = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]["RefreshToken"]
        calls = ([lambda c: c.revoke_token(ClientId=client_id, Token=token)]
                 + [racing_refresh(client_id, token, rotation)] * 3)
        results = race(clients, calls)
        assert results[0][0] == "ok", results
        for kind, answer in results[1:]:
            if kind != "ok":
                continue
            got = answer["AuthenticationResult"]
            with pytest.raises(ClientError) as e:
                cognito.get_user(AccessToken=got["AccessToken"])
            assert e.value.response["Error"]["Code"] == "NotAuthorizedException"
            if "RefreshToken" in got:
                with pytest.raises(ClientError):
                    racing_refresh(client_id, got["RefreshToken"], rotation)(cognito)
        with pytest.raises(ClientError):
            racing_refresh(client_id, token, rotation)(cognito)


def test_a_rotated_refresh_token_without_grace_is_taken_once(cognito, pool, clients):
    client_id = rotating_pool(cognito, pool, True)
    for r in range(ROUNDS * 2):
        token = password_sign_in(cognito, client_id, "alice", PASSWORD)["AuthenticationResult"]["RefreshToken"]
        results = race(clients, [racing_refresh(client_id, token, True)] * 8)
        assert outcomes(results).count("ok") == 1, results


def test_concurrent_attribute_updates_of_one_user_all_succeed(cognito, clients):
    pool = cognito.create_user_pool(PoolName="attrs", Schema=[
        {"Name": f"a{i}", "AttributeDataType": "String", "Mutable": True} for i in range(WIDTH)])["UserPool"]["Id"]
    for r in range(ROUNDS):
        name = f"user{r}"
        new_confirmed_user(cognito, pool, name, PASSWORD)
        calls = [lambda c, i=i: c.admin_update_user_attributes(
            UserPoolId=pool, Username=name, UserAttributes=[{"Name": f"custom:a{i}", "Value": f"v{i}"}])
            for i in range(WIDTH)]
        results = race(clients, calls)
        assert outcomes(results) == ["ok"] * WIDTH, results
        attrs = cognito.admin_get_user(UserPoolId=pool, Username=name)["UserAttributes"]
        assert sorted(a["Name"] for a in attrs if a["Name"].startswith("custom:a")) == \
            sorted(f"custom:a{i}" for i in range(WIDTH))
