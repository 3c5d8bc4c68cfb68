"""Shared fixtures for the real-client suite: a Gatehouse server process, boto3 clients, resets.

The binary comes from $GATEHOUSE_BIN, else <repo>/target/release/gatehouse, else
<repo>/target/debug/gatehouse. One server (in --dev mode, on a free port, with a temporary data
dir) serves the whole session; every test that uses it starts from an empty store via
POST /_gatehouse/reset. Tests that stop and restart a server get their own process and data dir
from `server_factory`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support import GatehouseServer


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("gatehouse")
    srv = GatehouseServer(base / "data", base / "server.log").start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _reset_state(request):
    """Every test that uses the shared server starts from an empty store."""
    if "server" in request.fixturenames:
        request.getfixturevalue("server").reset()
    yield


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


@pytest.fixture
def pool(cognito):
    """A fresh user pool with default settings; returns its Id."""
    return cognito.create_user_pool(PoolName="fixture-pool")["UserPool"]["Id"]
