"""`gatehouse migrate-store` through real clients (docs/deploy.md "From embedded SQLite to
PostgreSQL"): a SQLite deployment with users, an authenticator app, a remembered device, live
refresh tokens, groups and a client with a secret is stopped and copied into a fresh PostgreSQL
database; a server on PostgreSQL with the SQLite deployment's server key (its data dir's
server.key) and the same address (so the same issuer) then signs the same users in as before.

Needs PostgreSQL: GATEHOUSE_TEST_DATABASE_URL names a database whose user may create databases
(each test makes its own and drops it). Skipped when it is unset.
"""

from __future__ import annotations

import base64
import os
import secrets
import subprocess

import pytest

import support
from cluster import fresh_database
from mfa_support import DEVICE_PASSWORD_VERIFIER, DEVICE_SRP_AUTH, PASSWORD, PASSWORD_VERIFIER, TOTP, Env, tokens
from support import GatehouseServer, aws_error, free_port, gatehouse_binary, new_app_client, refresh, secret_hash

ADMIN_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="GATEHOUSE_TEST_DATABASE_URL is unset: needs PostgreSQL")

ALWAYS_SUPPRESS = {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": True}


@pytest.fixture
def database():
    url, drop = fresh_database(ADMIN_URL, prefix="gh_migrate")
    yield url
    drop()


def migrate(source_db, target_url, *extra, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([str(gatehouse_binary()), "migrate-store", "--from", f"sqlite:{source_db}",
                           "--to", target_url, *extra],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def all_pages(fetch, key: str, token_in: str = "NextToken", token_out: str = "NextToken", **kwargs) -> list:
    items, token = [], None
    while True:
        page = fetch(**kwargs, **({token_in: token} if token else {}))
        items += page[key]
        token = page.get(token_out)
        if not token:
            return items


def snapshot(cognito) -> dict:
    """What an admin sees of every pool: its description, app clients (secrets included), users
    with attributes, MFA settings, groups and devices, and the groups with their members."""
    out = {}
    pools = all_pages(cognito.list_user_pools, "UserPools", MaxResults=60)
    for p in pools:
        pool_id = p["Id"]
        description = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        tracked = "DeviceConfiguration" in description
        users = {}
        for u in all_pages(cognito.list_users, "Users", token_in="PaginationToken",
                           token_out="PaginationToken", UserPoolId=pool_id):
            name = u["Username"]
            got = support.strip_meta(cognito.admin_get_user(UserPoolId=pool_id, Username=name))
            users[name] = {
                "listed": u,
                "user": got,
                "groups": sorted(g["GroupName"] for g in cognito.admin_list_groups_for_user(
                    UserPoolId=pool_id, Username=name)["Groups"]),
                "devices": sorted((d for d in all_pages(cognito.admin_list_devices, "Devices",
                                                        token_in="PaginationToken", token_out="PaginationToken",
                                                        UserPoolId=pool_id, Username=name)),
                                  key=lambda d: d["DeviceKey"]) if tracked else None,
            }
        groups = {
            g["GroupName"]: {
                "group": g,
                "members": sorted(m["Username"] for m in cognito.list_users_in_group(
                    UserPoolId=pool_id, GroupName=g["GroupName"])["Users"]),
            }
            for g in all_pages(cognito.list_groups, "Groups", UserPoolId=pool_id)
        }
        clients = {
            c["ClientId"]: cognito.describe_user_pool_client(UserPoolId=pool_id, ClientId=c["ClientId"])[
                "UserPoolClient"]
            for c in all_pages(cognito.list_user_pool_clients, "UserPoolClients", UserPoolId=pool_id, MaxResults=60)
        }
        out[pool_id] = {
            "pool": description,
            "mfa": support.strip_meta(cognito.get_user_pool_mfa_config(UserPoolId=pool_id)),
            "clients": clients,
            "users": users,
            "groups": groups,
        }
    return out


def counts(snap: dict) -> dict:
    return {
        "pools": len(snap),
        "clients": sum(len(p["clients"]) for p in snap.values()),
        "users": sum(len(p["users"]) for p in snap.values()),
        "groups": sum(len(p["groups"]) for p in snap.values()),
        "memberships": sum(len(g["members"]) for p in snap.values() for g in p["groups"].values()),
        "devices": sum(len(u["devices"] or []) for p in snap.values() for u in p["users"].values()),
    }


def test_a_sqlite_deployment_copied_to_postgres_signs_the_same_users_in(tmp_path, database, monkeypatch):
    # --- the SQLite deployment ---------------------------------------------------------------
    data = tmp_path / "sqlite-data"
    sqlite = GatehouseServer(data, tmp_path / "sqlite.log").start()
    try:
        cognito = sqlite.client()
        # Device tracking with ChallengeRequiredOnNewDevice (a remembered device skips the code),
        # MFA OPTIONAL with authenticator apps.
        e = Env(cognito, sqlite, ALWAYS_SUPPRESS)
        e.user("alice", email="alice@example.com", email_verified="true")
        alice_device, alice_app = e.prepare("remembered")  # TOTP enrolled, device remembered
        assert e.sign_in("USER_SRP_AUTH", None, device=alice_device)[0] == [
            PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
        e.user("bob")
        bob_app = e.enrol("bob")
        e.user("carol", email="carol@example.com")
        carol = tokens(e.password_auth("carol"))
        _, bob = e.sign_in("USER_PASSWORD_AUTH", bob_app, "bob")
        cognito.create_group(UserPoolId=e.pool, GroupName="admins", Description="the admins", Precedence=1)
        cognito.create_group(UserPoolId=e.pool, GroupName="readers", Precedence=5)
        for user, group in [("alice", "admins"), ("carol", "admins"), ("carol", "readers")]:
            cognito.admin_add_user_to_group(UserPoolId=e.pool, Username=user, GroupName=group)
        # A second pool, with a confidential client and a user.
        other = cognito.create_user_pool(PoolName="other")["UserPool"]["Id"]
        secret_client, client_secret = new_app_client(cognito, other, "confidential", GenerateSecret=True)
        support.new_confirmed_user(cognito, other, "dave", PASSWORD)
        dave = tokens(support.password_sign_in(cognito, secret_client, "dave", PASSWORD, client_secret))
        before = snapshot(cognito)
    finally:
        port = sqlite.port
        assert sqlite.stop() == 0, sqlite.log_tail()
    assert counts(before) == {"pools": 2, "clients": 2, "users": 4, "groups": 2, "memberships": 3,
                              "devices": 1}, counts(before)
    server_key = (data / "server.key").read_text().strip()
    source = data / "gatehouse.db"
    assert source.exists()

    # --- the copy ------------------------------------------------------------------------------
    copied = migrate(source, database)
    assert copied.returncode == 0, copied.stderr + copied.stdout
    # A target holding records is refused without --force, and left as it was.
    again = migrate(source, database)
    assert again.returncode != 0, again.stderr + again.stdout
    assert "--force" in again.stderr + again.stdout, again.stderr + again.stdout
    forced = migrate(source, database, "--force")
    assert forced.returncode == 0, forced.stderr + forced.stdout

    # --- PostgreSQL with another key is refused (the copy carries the key's fingerprint) -----
    wrong_key = base64.b64encode(secrets.token_bytes(32)).decode()
    refused = subprocess.run(
        [str(gatehouse_binary()), "serve", "--dev", "--listen", f"127.0.0.1:{free_port()}",
         "--data-dir", str(tmp_path / "wrong-key-data"), "--database-url", database, "--server-key", wrong_key],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert refused.returncode != 0, refused.stderr
    assert "fingerprint" in refused.stderr, refused.stderr

    # --- PostgreSQL with the SQLite deployment's key, on the same address (same issuer) ----------
    monkeypatch.setattr(support, "free_port", lambda: port)
    pg = GatehouseServer(tmp_path / "pg-data", tmp_path / "pg.log",
                         extra_args=("--database-url", database, "--server-key", server_key)).start()
    try:
        assert pg.url == sqlite.url
        health = support.fetch_json(pg.url + "/health")
        assert health["database"] == "up", health
        cognito = pg.client()
        e.cognito, e.server = cognito, pg

        after = snapshot(cognito)
        assert counts(after) == counts(before)
        assert after == before

        # Access tokens issued by the SQLite server are honoured (same signing keys, same issuer)
        # and refresh tokens issued then still work.
        assert cognito.get_user(AccessToken=carol["AccessToken"])["Username"] == "carol"
        refreshed = refresh(cognito, e.client_id, carol["RefreshToken"])
        assert e.assert_signed_in({**tokens(refreshed), "RefreshToken": carol["RefreshToken"]}, "carol")
        refreshed = refresh(cognito, e.client_id, bob["RefreshToken"])
        assert cognito.get_user(AccessToken=tokens(refreshed)["AccessToken"])["Username"] == "bob"
        hashed = secret_hash(client_secret, "dave", secret_client)
        refreshed = refresh(cognito, secret_client, dave["RefreshToken"], SECRET_HASH=hashed)
        assert cognito.get_user(AccessToken=tokens(refreshed)["AccessToken"])["Username"] == "dave"

        # The same password: pycognito's SRP, which verifies the tokens against the JWKS.
        u = e.pycognito("carol")
        u.authenticate(PASSWORD)
        assert u.access_claims["username"] == "carol"
        assert sorted(u.id_claims["cognito:groups"]) == ["admins", "readers"]
        with aws_error("NotAuthorizedException", "Incorrect username or password."):
            e.pycognito("carol").authenticate("Wr0ng-Passw0rd!")
        # The confidential client's secret.
        assert tokens(support.password_sign_in(cognito, secret_client, "dave", PASSWORD, client_secret))

        # The remembered device: device SRP, and it skips the code.
        sequence, result = e.sign_in("USER_SRP_AUTH", None, device=alice_device)
        assert sequence == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
        assert e.assert_signed_in(result)["device_key"] == alice_device.key
        # Without it, the authenticator app answers the code.
        sequence, result = e.sign_in("USER_SRP_AUTH", alice_app)
        assert sequence == [PASSWORD_VERIFIER, TOTP]
        e.assert_signed_in(result)
        sequence, result = e.sign_in("USER_PASSWORD_AUTH", bob_app, "bob")
        assert sequence == [TOTP]
        e.assert_signed_in(result, "bob")

        # New writes land in PostgreSQL.
        support.new_confirmed_user(cognito, e.pool, "erin", PASSWORD)
        assert tokens(e.password_auth("erin"))
    finally:
        assert pg.stop() == 0, pg.log_tail()
    # The users are in PostgreSQL (not in some SQLite file of the new data dir).
    rows = subprocess.run(["psql", database, "-qAtX", "-c", "SELECT count(*) FROM users"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert int(rows.stdout.strip()) == counts(before)["users"] + 1
