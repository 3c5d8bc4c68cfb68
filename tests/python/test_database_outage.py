"""The database goes away under load and comes back (docs/deploy.md "When the database is in
trouble"): one Gatehouse process on PostgreSQL through pgproxy.PgProxy, with a short
--database-statement-timeout-ms, serves sign-ins, GetUser and AdminCreateUser from several threads
while the proxy cuts the database for 10 s, either by closing every connection (the host is down)
or by freezing them (the network hangs: no byte goes through, nothing is reset).

Asserted, for both modes:
- no request waits longer than the statement timeout plus a margin (the maximum is measured);
- during the cut every request is refused with InternalErrorException (HTTP 500), and /health
  answers 503 with "database": "down";
- after the resume the same process serves everything again (no restart);
- every AdminCreateUser that answered 200 is present afterwards.

Then the partial failures: one process's change feed alone hangs (a pool change must still reach
it within 1 s), and one process hangs inside a transaction, its row locks held (the other process
answers within the statement timeout, and only that user's writes wait).

The shared PostgreSQL server is never stopped: only this test's proxy cuts the connections.
Needs GATEHOUSE_TEST_DATABASE_URL (a database whose user may create databases); skipped without.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass

import pytest

from cluster import fresh_database
from pgproxy import PgProxy
from support import AMZ_JSON, TARGET_PREFIX, GatehouseServer, new_app_client, new_confirmed_user, raw_request

ADMIN_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="GATEHOUSE_TEST_DATABASE_URL is unset: needs PostgreSQL")

PASSWORD = "Passw0rd!"
STATEMENT_TIMEOUT_MS = 2000
# What a request may take beyond the statement timeout: the work around the database calls on a
# debug build, on a shared two-core machine that also runs PostgreSQL and the load threads.
MARGIN = 1.5
LIMIT = STATEMENT_TIMEOUT_MS / 1000 + MARGIN
HEALTH_LIMIT = 2.0 + MARGIN  # /health gives its SELECT 1 two seconds
WARM = 3.0
CUT = 10.0
AFTER = 8.0
SETTLED = 3.0  # the last seconds of load after the resume, when everything must succeed
THREADS_PER_OP = 2
PAUSE = 0.05  # between two requests of one thread


@pytest.fixture
def database():
    url, drop = fresh_database(ADMIN_URL, prefix="gh_outage")
    yield url
    drop()


@dataclass
class Sample:
    op: str
    start: float
    end: float
    status: int | None
    error_type: str | None
    detail: str = ""
    username: str | None = None

    @property
    def latency(self) -> float:
        return self.end - self.start


def request(url: str, operation: str, body: dict, path: str = "/") -> tuple[int | None, str | None, str, dict]:
    """One AWS JSON 1.1 call (unsigned: the server runs --dev); (status, __type, detail, body).
    A transport failure (no answer within 60 s, a reset) is status None."""
    headers = {"Content-Type": AMZ_JSON, "X-Amz-Target": TARGET_PREFIX + operation}
    try:
        resp = raw_request(url, body=json.dumps(body), headers=headers, timeout=60)
    except OSError as e:
        return None, None, repr(e), {}
    try:
        answer = resp.json()
    except ValueError:
        return resp.status, None, resp.body[:200].decode("utf-8", "replace"), {}
    return resp.status, answer.get("__type"), answer.get("message", ""), answer


class Load:
    """Threads calling InitiateAuth (USER_PASSWORD_AUTH), GetUser and AdminCreateUser in a loop,
    each request timed; AdminCreateUser usernames are unique so acknowledged writes can be checked."""

    def __init__(self, url: str, pool: str, client_id: str, signers: list[str], access_tokens: list[str]):
        self.url = url
        self.pool = pool
        self.client_id = client_id
        self.signers = signers
        self.access_tokens = access_tokens
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._names = itertools.count()

    def _call(self, op: str, k: int) -> Sample:
        username = None
        if op == "InitiateAuth":
            body = {"ClientId": self.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": self.signers[k % len(self.signers)], "PASSWORD": PASSWORD}}
        elif op == "GetUser":
            body = {"AccessToken": self.access_tokens[k % len(self.access_tokens)]}
        else:
            username = f"w{next(self._names):05d}"
            body = {"UserPoolId": self.pool, "Username": username, "MessageAction": "SUPPRESS"}
        start = time.monotonic()
        status, error_type, detail, _ = request(self.url, op, body)
        return Sample(op, start, time.monotonic(), status, error_type, detail, username)

    def _run(self, op: str, k: int) -> None:
        while not self._stop.is_set():
            sample = self._call(op, k)
            with self._lock:
                self.samples.append(sample)
            time.sleep(PAUSE)

    def start(self) -> "Load":
        for op in ("InitiateAuth", "GetUser", "AdminCreateUser"):
            for k in range(THREADS_PER_OP):
                t = threading.Thread(target=self._run, args=(op, k), daemon=True)
                t.start()
                self._threads.append(t)
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=90)
            assert not t.is_alive(), "a load thread is stuck"
        return sorted(self.samples, key=lambda s: s.start)


class HealthProbe:
    """GET /health every half second, timed."""

    def __init__(self, url: str):
        self.url = url
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                resp = raw_request(self.url, method="GET", path="/health", timeout=60)
                body = resp.json()
                sample = Sample("health", start, time.monotonic(), resp.status, body.get("database"), json.dumps(body))
            except (OSError, ValueError) as e:
                sample = Sample("health", start, time.monotonic(), None, None, repr(e))
            self.samples.append(sample)
            self._stop.wait(0.5)

    def start(self) -> "HealthProbe":
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(timeout=90)
        return self.samples


def describe(samples: list[Sample], t0: float) -> str:
    return "\n".join(f"{s.op:16} t={s.start - t0:6.2f}s {s.latency:6.2f}s {s.status} {s.error_type} {s.detail[:80]}"
                     for s in samples)


def cut_and_resume(mode: str, tmp_path, database) -> None:
    with PgProxy() as proxy:
        server = GatehouseServer(tmp_path / "data", tmp_path / "server.log", extra_args=(
            "--database-url", proxy.url(database),
            "--database-statement-timeout-ms", str(STATEMENT_TIMEOUT_MS),
            "--rate-limit-per-ip", "0", "--rate-limit-per-client", "0",
        )).start()
        try:
            run_outage(server, proxy, mode)
        finally:
            proxy.resume()
            server.stop()


def run_outage(server: GatehouseServer, proxy: PgProxy, mode: str) -> None:
    cognito = server.client()
    pool = cognito.create_user_pool(PoolName="outage")["UserPool"]["Id"]
    client_id = new_app_client(cognito, pool)[0]
    signers = [f"s{k}" for k in range(THREADS_PER_OP)]
    for name in signers:
        new_confirmed_user(cognito, pool, name, PASSWORD)
    access = [cognito.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": name, "PASSWORD": PASSWORD})["AuthenticationResult"]["AccessToken"] for name in signers]
    pid = server.proc.pid

    load = Load(server.url, pool, client_id, signers, access).start()
    t0 = time.monotonic()
    time.sleep(WARM)
    health = HealthProbe(server.url)
    cut_at = time.monotonic()
    proxy.close() if mode == "closed" else proxy.freeze()
    health.start()
    time.sleep(CUT)
    resumed_at = time.monotonic()
    proxy.resume()
    time.sleep(AFTER)
    samples = load.stop()
    probes = health.stop()
    end = time.monotonic()

    # The same process throughout.
    assert server.proc.poll() is None and server.proc.pid == pid, server.log_tail()

    report = describe(samples, t0)
    during = [s for s in samples if s.start >= cut_at + 0.1 and s.end <= resumed_at]
    overlapping = [s for s in samples if s.end >= cut_at and s.start <= resumed_at]
    worst = max(samples, key=lambda s: s.latency)
    worst_cut = max(overlapping, key=lambda s: s.latency)
    before = [s for s in samples if s.end < cut_at]
    print(f"\n[{mode}] {len(samples)} requests; {len(during)} inside the cut; max latency before the cut "
          f"{max(s.latency for s in before):.2f}s, overlapping the cut {worst_cut.latency:.2f}s "
          f"({worst_cut.op}, status {worst_cut.status}), whole run {worst.latency:.2f}s")
    print(f"[{mode}] health: " + ", ".join(f"{s.start - cut_at:+.1f}s:{s.status}/{s.latency:.2f}s" for s in probes))

    # The load really ran on both sides of the cut.
    assert len(before) >= 6, report
    assert len(during) >= 3 * THREADS_PER_OP, report
    # Nothing waited longer than the statement timeout plus the margin.
    slow = [s for s in samples if s.latency > LIMIT]
    assert not slow, f"{len(slow)} requests over {LIMIT}s (max {worst.latency:.2f}s):\n{describe(slow, t0)}"
    # Every answer was an answer: no transport failure, and every refusal an InternalErrorException.
    failed = [s for s in samples if s.status != 200]
    odd = [s for s in failed if (s.status, s.error_type) != (500, "InternalErrorException")]
    assert not odd, describe(odd, t0)
    # Nothing succeeded while the database was away.
    assert all(s.status == 500 for s in during), describe([s for s in during if s.status != 500], t0)
    assert {s.op for s in during} == {"InitiateAuth", "GetUser", "AdminCreateUser"}, report

    # /health: 503 "database": "down" during the cut, quickly; 200 "up" after.
    down = [p for p in probes if p.start >= cut_at + 0.1 and p.end <= resumed_at]
    assert len(down) >= 3, describe(probes, cut_at)
    assert all((p.status, p.error_type) == (503, "down") for p in down), describe(down, cut_at)
    assert max(p.latency for p in probes) <= HEALTH_LIMIT, describe(probes, cut_at)
    final = raw_request(server.url, method="GET", path="/health")
    assert final.status == 200 and final.json()["database"] == "up", final

    # After the resume everything works again: the last seconds of load all succeeded.
    settled = [s for s in samples if s.start >= end - SETTLED]
    assert {s.op for s in settled} == {"InitiateAuth", "GetUser", "AdminCreateUser"}, report
    assert all(s.status == 200 for s in settled), describe([s for s in settled if s.status != 200], t0)
    recovered = min(s.end for s in samples if s.start >= resumed_at and s.status == 200) - resumed_at
    print(f"[{mode}] first success {recovered:.2f}s after the resume")

    # Every acknowledged write is there; a refused one may or may not be (it is reported).
    acknowledged = {s.username for s in samples if s.op == "AdminCreateUser" and s.status == 200}
    refused = {s.username for s in samples if s.op == "AdminCreateUser" and s.status != 200}
    present = set()
    token = None
    while True:
        page = cognito.list_users(UserPoolId=pool, **({"PaginationToken": token} if token else {}))
        present |= {u["Username"] for u in page["Users"]}
        token = page.get("PaginationToken")
        if not token:
            break
    missing = acknowledged - present
    assert not missing, f"acknowledged writes lost: {sorted(missing)}"
    print(f"[{mode}] {len(acknowledged)} acknowledged writes all present; "
          f"{len(refused & present)} of {len(refused)} refused ones were committed anyway")


def test_database_closed_for_ten_seconds(tmp_path, database):
    cut_and_resume("closed", tmp_path, database)


def test_database_frozen_for_ten_seconds(tmp_path, database):
    cut_and_resume("frozen", tmp_path, database)


# --- one process's change feed hangs while its other connections work ------------------------------

FEED = b"gatehouse-feed"  # the application_name of the connection a process LISTENs on
ALWAYS = {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": False}
PROPAGATION = 1.0  # docs/deploy.md: a pool change reaches every process within 1 s, feed down or frozen


def with_sslmode_disable(url: str) -> str:
    """The proxy reads startup packets to find the feed's connection: no TLS on that path."""
    return url + ("&" if "?" in url else "?") + "sslmode=disable"


def test_a_pool_change_reaches_a_process_whose_change_feed_hangs_within_a_second(tmp_path, database):
    """Two processes: A on the database directly, B through the proxy. B's LISTEN connection alone
    is frozen (its request connections keep working, as when one network path hangs), then A turns
    device tracking on: B must issue NewDeviceMetadata to every sign-in that starts 1 s after the
    change or later. After the resume the feed serves again: turning tracking off reaches B within
    1 s too."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    with PgProxy() as proxy:
        a = GatehouseServer(tmp_path / "a", tmp_path / "a.log",
                            extra_args=("--database-url", database, "--server-key", key)).start()
        b = None
        try:
            b = GatehouseServer(tmp_path / "b", tmp_path / "b.log", extra_args=(
                "--database-url", with_sslmode_disable(proxy.url(database)), "--server-key", key,
                "--database-statement-timeout-ms", str(STATEMENT_TIMEOUT_MS))).start()
            run_feed_freeze(a, b, proxy)
        finally:
            proxy.resume()
            if b is not None:
                b.stop()
            a.stop()


def run_feed_freeze(a: GatehouseServer, b: GatehouseServer, proxy: PgProxy) -> None:
    admin = a.client()
    pool = admin.create_user_pool(PoolName="feed")["UserPool"]["Id"]
    client_id = new_app_client(admin, pool)[0]
    new_confirmed_user(admin, pool, "alice", PASSWORD)
    deadline = time.monotonic() + 10
    while len(proxy.links(FEED)) != 1:
        assert time.monotonic() < deadline, "B opened no change-feed connection through the proxy"
        time.sleep(0.1)
    [feed] = proxy.links(FEED)

    samples: list[Sample] = []
    stop = threading.Event()

    def poll():
        while not stop.is_set():
            start = time.monotonic()
            status, error_type, detail, answer = request(b.url, "InitiateAuth", {
                "ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}})
            tracked = "NewDeviceMetadata" in answer.get("AuthenticationResult", {})
            samples.append(Sample("InitiateAuth", start, time.monotonic(), status, error_type,
                                  "tracked" if tracked else detail))

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    time.sleep(1.5)  # B has read the pool (and keeps it: its feed is live)
    # The worst moment for the freeze: just after B's feed checked the connection (a quiet feed
    # sends a query now and then), once the answer is back.
    sent = feed.chunks_up
    while feed.chunks_up == sent:
        time.sleep(0.002)
    time.sleep(0.05)
    assert proxy.freeze(only=FEED) == 1
    time.sleep(0.05)
    on_start = time.monotonic()
    admin.update_user_pool(UserPoolId=pool, DeviceConfiguration=ALWAYS)
    on_at = time.monotonic()
    time.sleep(4)
    proxy.resume()
    time.sleep(3)  # the feed reconnects (or delivers what it held)
    off_start = time.monotonic()
    admin.update_user_pool(UserPoolId=pool)  # tracking off again
    off_at = time.monotonic()
    time.sleep(2)
    stop.set()
    poller.join(timeout=60)

    report = describe(samples, on_at)
    assert all(s.status == 200 for s in samples), report
    tracked = lambda s: s.detail == "tracked"  # noqa: E731
    assert not any(tracked(s) for s in samples if s.end < on_start), report
    stale_on = [s for s in samples if on_at <= s.start < off_start and not tracked(s)]
    stale_off = [s for s in samples if s.start >= off_at and tracked(s)]
    last_on = max((s.start - on_at for s in stale_on), default=0.0)
    last_off = max((s.start - off_at for s in stale_off), default=0.0)
    print(f"\nfeed frozen: B served the old pool to sign-ins starting up to {last_on:.3f}s after the change; "
          f"after the resume, up to {last_off:.3f}s after the next one")
    # The feed is back after the resume: the next change arrives.
    late = [s for s in stale_off if s.start >= off_at + PROPAGATION]
    assert not late, describe(late, off_at)
    assert any(tracked(s) for s in samples if on_at <= s.start < off_start), report
    # While it hung: within 1 s all the same.
    late = [s for s in stale_on if s.start >= on_at + PROPAGATION]
    assert not late, f"B served the pool without device tracking {late[-1].start - on_at:.2f}s after it was " \
                     f"turned on (its change feed frozen):\n{describe(late, on_at)}"


# --- a process frozen inside a transaction ---------------------------------------------------------

HELD = 5.0  # how long B's transaction stays open, its COMMIT held by the proxy


def test_a_process_frozen_inside_a_transaction_holds_up_only_its_rows_and_only_for_the_timeout(tmp_path, database):
    """B (through the proxy) updates alice and its network hangs just before the COMMIT: the
    transaction stays open in PostgreSQL with alice's row locked, until PostgreSQL ends it after
    the idle-in-transaction timeout (Gatehouse sets it to the statement timeout). Meanwhile A
    (direct) must answer every request within the statement timeout: its update of alice waits at
    most that long, then fails with InternalErrorException or, B's transaction ended, succeeds;
    reads of alice and writes of other users succeed; B answers its own update with
    InternalErrorException in time and keeps serving on its other connections. After the resume,
    alice can be updated again."""
    key = base64.b64encode(secrets.token_bytes(32)).decode()
    timeout = ("--database-statement-timeout-ms", str(STATEMENT_TIMEOUT_MS))
    with PgProxy() as proxy:
        a = GatehouseServer(tmp_path / "a", tmp_path / "a.log",
                            extra_args=("--database-url", database, "--server-key", key, *timeout)).start()
        b = None
        try:
            b = GatehouseServer(tmp_path / "b", tmp_path / "b.log", extra_args=(
                "--database-url", with_sslmode_disable(proxy.url(database)), "--server-key", key, *timeout)).start()
            run_frozen_transaction(a, b, proxy)
        finally:
            proxy.resume()
            if b is not None:
                b.stop()
            a.stop()


def timed(url: str, op: str, body: dict) -> Sample:
    start = time.monotonic()
    status, error_type, detail, _ = request(url, op, body)
    return Sample(op, start, time.monotonic(), status, error_type, detail)


def run_frozen_transaction(a: GatehouseServer, b: GatehouseServer, proxy: PgProxy) -> None:
    admin = a.client()
    pool = admin.create_user_pool(PoolName="locks", Schema=[
        {"Name": "note", "AttributeDataType": "String", "Mutable": True}])["UserPool"]["Id"]
    client_id = new_app_client(admin, pool)[0]
    for name in ("alice", "carol"):
        new_confirmed_user(admin, pool, name, PASSWORD)
    access = admin.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": "alice", "PASSWORD": PASSWORD})["AuthenticationResult"]["AccessToken"]

    def note(value: str) -> dict:
        return {"UserPoolId": pool, "Username": "alice", "UserAttributes": [{"Name": "custom:note", "Value": value}]}

    def sign_in(name: str) -> dict:
        return {"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": name, "PASSWORD": PASSWORD}}

    frozen = proxy.freeze_on(b"COMMIT")
    b_update: list[Sample] = []
    writer = threading.Thread(target=lambda: b_update.append(timed(b.url, "AdminUpdateUserAttributes", note("b"))),
                              daemon=True)
    writer.start()
    assert frozen.wait(10), "B sent no COMMIT"
    frozen_at = time.monotonic()
    during = {
        "A updates alice": timed(a.url, "AdminUpdateUserAttributes", note("a-during")),
        "A reads alice": timed(a.url, "AdminGetUser", {"UserPoolId": pool, "Username": "alice"}),
        "alice's GetUser on A": timed(a.url, "GetUser", {"AccessToken": access}),
        "A creates dave": timed(a.url, "AdminCreateUser", {"UserPoolId": pool, "Username": "dave",
                                                           "MessageAction": "SUPPRESS"}),
        "carol signs in on A": timed(a.url, "InitiateAuth", sign_in("carol")),
        "alice signs in on A": timed(a.url, "InitiateAuth", sign_in("alice")),
        "B creates erin": timed(b.url, "AdminCreateUser", {"UserPoolId": pool, "Username": "erin",
                                                           "MessageAction": "SUPPRESS"}),
        "carol signs in on B": timed(b.url, "InitiateAuth", sign_in("carol")),
    }
    writer.join(timeout=60)
    time.sleep(max(0.0, frozen_at + HELD - time.monotonic()))
    resumed_at = time.monotonic()
    proxy.resume()
    after = None
    while time.monotonic() < resumed_at + LIMIT + 1:
        after = timed(a.url, "AdminUpdateUserAttributes", note("a-after"))
        if after.status == 200:
            break
        time.sleep(0.1)

    [b_sample] = b_update
    report = "\n".join(f"{what:22} t={s.start - frozen_at:5.2f}s {s.latency:5.2f}s {s.status} {s.error_type or ''}"
                       for what, s in [("B updates alice", b_sample), *during.items(), ("A updates alice after", after)])
    print(f"\nB frozen before its COMMIT for {HELD}s:\n{report}")
    # Nobody waited longer than the statement timeout (plus the margin).
    assert all(s.latency <= LIMIT for s in [b_sample, *during.values()]), report
    # B's own update failed in time.
    assert (b_sample.status, b_sample.error_type) == (500, "InternalErrorException"), report
    # A's update of the locked row either fails in time, or gets the row when PostgreSQL ends
    # B's transaction: Gatehouse sets idle_in_transaction_session_timeout to the statement
    # timeout, so both clocks run out together and either may come first.
    assert (during["A updates alice"].status, during["A updates alice"].error_type) in [
        (200, None), (500, "InternalErrorException")], report
    # A sign-in of alice writes her row too: it may wait and fail in the same way.
    assert (during["alice signs in on A"].status, during["alice signs in on A"].error_type) in [
        (200, None), (500, "InternalErrorException")], report
    # Reads of alice, other users' writes and sign-ins, on A and on B's other connections: fine.
    fine = [what for what in during if what not in ("A updates alice", "alice signs in on A")]
    assert all(during[what].status == 200 for what in fine), report
    # Once B's network is back, alice's row is free again.
    assert after is not None and after.status == 200, report
    assert {x["Name"]: x["Value"] for x in admin.admin_get_user(
        UserPoolId=pool, Username="alice")["UserAttributes"]}["custom:note"] == "a-after"
