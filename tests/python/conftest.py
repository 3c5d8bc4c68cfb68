"""Shared fixtures for the real-client suite: a Gatehouse server process, boto3 clients, resets.

The binary comes from $GATEHOUSE_BIN, else <repo>/target/release/gatehouse, else
<repo>/target/debug/gatehouse. One server (in --dev mode, on a free port, with a temporary data
dir) serves the whole session; every test that uses it starts from an empty store via
POST /_gatehouse/reset. Tests that stop and restart a server get their own process and data dir
from `server_factory`.

Multi-process mode: with GATEHOUSE_TEST_PROCESSES=N and GATEHOUSE_TEST_DATABASE_URL (a PostgreSQL
URL through which the session may create and drop databases, e.g.
postgres://postgres@127.0.0.1:5432/postgres), the shared server is instead N processes on a
database made for the session (dropped at the end; its name starts with
GATEHOUSE_TEST_DATABASE_PREFIX, default gh_pytest), behind cluster.py's proxy, which hands each
request to the next process in turn. Private servers from `server_factory` stay single processes
on SQLite.

Fixtures shared by the modules: `cognito` / `cognito_raw` (boto3), `pool` (a default pool),
`client_id` (an app client of `pool` allowing every password flow) and `alice` (a CONFIRMED user
of `pool` with support.PASSWORD and the attributes of `alice_attributes`). A module that needs a
different pool or user overrides `pool` or `alice_attributes`; `client_id` and `alice` then use
the module's. The environment variable COGNITO_JWKS is removed for every test, so pycognito
fetches the keys from the server.

`browser` is one Chromium for the session's browser tests (launched by the first that needs it;
console_support.py has the browser requirement and the per-test `page`, a context of its own).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cluster import fresh_database
from lambda_runtime import LambdaRuntime
from support import PASSWORD, GatehouseCluster, GatehouseServer, gatehouse_binary, new_app_client, new_confirmed_user

PROCESSES = int(os.environ.get("GATEHOUSE_TEST_PROCESSES") or "0")
DATABASE_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL")
DATABASE_PREFIX = os.environ.get("GATEHOUSE_TEST_DATABASE_PREFIX") or "gh_pytest"


_cluster_summary: list[str] = []


def pytest_report_header(config):
    if PROCESSES:
        return f"gatehouse: {PROCESSES} process(es) on PostgreSQL ({DATABASE_URL}), behind a round-robin proxy"
    return "gatehouse: one process on SQLite"


# The key the shared server signs its Lambda invocations with (test_triggers.py checks them).
LAMBDA_SIGNING = {"AWS_ACCESS_KEY_ID": "AKIDTRIGGERS0000", "AWS_SECRET_ACCESS_KEY": "trigger-signing-secret",
                  "AWS_SESSION_TOKEN": ""}


@pytest.fixture(scope="session")
def lambda_runtime():
    """The Lambda Invoke API the shared server runs the pools' triggers on (lambda_runtime.py)."""
    runtime = LambdaRuntime()
    yield runtime
    runtime.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory, lambda_runtime):
    base = tmp_path_factory.mktemp("gatehouse")
    triggers = ["--lambda-endpoint", lambda_runtime.url]
    if not PROCESSES:
        srv = GatehouseServer(base / "data", base / "server.log", extra_args=tuple(triggers),
                              env=LAMBDA_SIGNING).start()
        yield srv
        srv.stop()
        return
    if not DATABASE_URL:
        raise pytest.UsageError("GATEHOUSE_TEST_PROCESSES needs GATEHOUSE_TEST_DATABASE_URL (a PostgreSQL URL)")
    database_url, drop = fresh_database(DATABASE_URL, prefix=DATABASE_PREFIX)
    try:
        srv = GatehouseCluster(gatehouse_binary(), database_url, processes=PROCESSES, workdir=base,
                               extra_args=triggers, env=LAMBDA_SIGNING).start()
        try:
            yield srv
        finally:
            srv.stop()
            _cluster_summary.append(f"requests per process {srv.request_counts}; logs in {base}")
    finally:
        drop()


def pytest_terminal_summary(terminalreporter):
    for line in _cluster_summary:
        terminalreporter.write_line(f"gatehouse cluster: {line}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with the tail of each Gatehouse log it used: a connection
    reset or a 5xx then shows the server's side (a panic, a timeout) in CI's output."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for name, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, GatehouseServer):
            report.sections.append((f"gatehouse log ({name})", value.log_tail(3000)))
        elif isinstance(value, GatehouseCluster):
            report.sections.append((f"gatehouse logs ({name})", value.log_tail(n=1500)))


@pytest.fixture(autouse=True)
def _reset_state(request):
    """Every test that uses the shared server starts from an empty store."""
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()
    yield


@pytest.fixture(autouse=True)
def _jwks_from_the_server(monkeypatch):
    """pycognito would take the keys from $COGNITO_JWKS instead of fetching them from the server."""
    monkeypatch.delenv("COGNITO_JWKS", raising=False)


@pytest.fixture
def cognito(server):
    """boto3 cognito-idp client against the shared server (boto3's own validation on)."""
    return server.client()


@pytest.fixture
def cognito_raw(server):
    """Same, but without boto3's client-side parameter validation, so the server's own is tested."""
    return server.client(parameter_validation=False)


@pytest.fixture
def server_factory(tmp_path):
    """Start private servers (e.g. to restart them); every one is stopped at teardown."""
    started: list[GatehouseServer] = []

    def make(data_dir: Path | None = None, **options) -> GatehouseServer:
        data_dir = data_dir or (tmp_path / f"data{len(started)}")
        srv = GatehouseServer(data_dir, tmp_path / f"server{len(started)}.log", **options).start()
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def browser():
    """One Chromium (console_support.chromium) for every browser test of the session; each test
    opens its own context (cookies, storage), so only the process is shared."""
    from console_support import chromium
    with chromium() as b:
        yield b


@pytest.fixture
def pool(cognito):
    """A fresh user pool with default settings; returns its Id."""
    return cognito.create_user_pool(PoolName="fixture-pool")["UserPool"]["Id"]


@pytest.fixture
def client_id(cognito, pool):
    """An app client of `pool` (the module's own, if it defines one) allowing every password flow."""
    return new_app_client(cognito, pool)[0]


@pytest.fixture
def alice_attributes():
    """The attributes `alice` is created with; a module may override this fixture."""
    return {"email": "alice@example.com", "email_verified": "true"}


@pytest.fixture
def alice(cognito, pool, alice_attributes):
    """A CONFIRMED user alice of `pool` with support.PASSWORD; AdminGetUser's answer."""
    return new_confirmed_user(cognito, pool, "alice", PASSWORD, **alice_attributes)
