"""Three Gatehouse processes on one PostgreSQL database (docs/deploy.md "What another process sees,
and when"), through cluster.Cluster:

- every sign-in kind completes while its steps land on different processes: pycognito's SRP,
  device SRP with a remembered device, SMS and TOTP codes, MFA_SETUP, NEW_PASSWORD_REQUIRED;
- 24 simultaneous wrong passwords for one user spread over the three processes: at most five are
  checked, the rest are told "Password attempts exceeded"; likewise a one-time code is accepted
  once and guessed at most five times, and a rotated refresh token is taken once;
- a revocation through one process (GlobalSignOut, AdminDisableUser, ForgetDevice) holds on the
  others at their very next request, although they had just accepted the same tokens or device;
- a pool or app client change through process 0 is honoured by the others within 1 s;
- kill -9 of one process under write load loses no acknowledged write and does not disturb the
  other two.

Steps are sent to chosen processes: `Spread` is a boto3 client that sends each call to the next
process in turn and records where each went; pycognito's Cognito class goes through the
cluster's round-robin proxy, whose per-process counts are checked.

Needs GATEHOUSE_TEST_DATABASE_URL (a database whose user may create databases: each test makes
its own and drops it); skipped without.
"""

from __future__ import annotations

import itertools
import os
import signal
import threading
import time

import pytest
from botocore.exceptions import ClientError
from pycognito.aws_srp import AWSSRP

from cluster import Cluster, fresh_database
from mfa_support import (
    DEVICE_PASSWORD_VERIFIER, DEVICE_SRP_AUTH, INCORRECT, LOCKED, PASSWORD, PASSWORD_VERIFIER, TOTP, Env,
    mfa_answer, tokens,
)
from support import (
    NEW_PASSWORD, aws_error, last_code, make_client, new_app_client, new_confirmed_user, pycognito_user, refresh,
    sign_in_tokens,
)
from test_mfa_factors import SETUP, SMS, FactorEnv, assert_code_challenge, assert_setup
from test_races import confirm, outcomes, race, racing_refresh, rotating_pool

ADMIN_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL")
pytestmark = pytest.mark.skipif(not ADMIN_URL, reason="GATEHOUSE_TEST_DATABASE_URL is unset: needs PostgreSQL")

PROCESSES = 3
TEMPORARY = "Temp0rary!"
ALWAYS_SUPPRESS = {"DeviceOnlyRememberedOnUserPrompt": False, "ChallengeRequiredOnNewDevice": True}
ACCESS_REVOKED = "Access Token has been revoked"
REFRESH_REVOKED = "Refresh Token has been revoked"
DISABLED = "User is disabled."
NO_DEVICE = "Device does not exist."
PROPAGATION = 1.0  # docs/deploy.md: a pool or client change reaches every process within 1 s


@pytest.fixture
def cluster(tmp_path):
    url, drop = fresh_database(ADMIN_URL, prefix="gh_scale")
    c = Cluster(None, url, processes=PROCESSES, workdir=tmp_path / "cluster")
    try:
        yield c.start()
    finally:
        c.stop()
        drop()


@pytest.fixture
def spread(cluster):
    return Spread(cluster.endpoints)


@pytest.fixture
def pinned(cluster):
    """One boto3 client per process."""
    return [make_client(url) for url in cluster.endpoints]


class Spread:
    """Stands for a boto3 cognito-idp client: each call goes to the next process in turn (a client
    per process underneath); `calls` records (process, operation) of every call."""

    def __init__(self, endpoints: list[str]):
        self.clients = [make_client(url) for url in endpoints]
        self.calls: list[tuple[int, str]] = []
        self._turn = itertools.cycle(range(len(endpoints)))
        self._lock = threading.Lock()

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args, **kwargs):
            with self._lock:
                i = next(self._turn)
                self.calls.append((i, name))
            return getattr(self.clients[i], name)(*args, **kwargs)

        return call

    def mark(self) -> int:
        return len(self.calls)

    def since(self, mark: int) -> list[tuple[int, str]]:
        return self.calls[mark:]


AUTH_CALLS = {"initiate_auth", "respond_to_auth_challenge", "admin_initiate_auth",
              "admin_respond_to_auth_challenge", "associate_software_token", "verify_software_token"}


def assert_steps_spread(calls: list[tuple[int, str]], steps: int) -> None:
    """The sign-in steps among `calls`: `steps` of them, each on another process than the one
    before, all processes used when there are enough steps."""
    auth = [(i, op) for i, op in calls if op in AUTH_CALLS]
    assert len(auth) == steps, calls
    processes = [i for i, _ in auth]
    assert all(a != b for a, b in zip(processes, processes[1:])), auth
    assert len(set(processes)) == min(PROCESSES, steps), auth


# --- sign-ins whose steps land on different processes --------------------------------------------

def test_pycognito_srp_across_processes(cluster, spread):
    e = Env(spread, cluster)
    e.user("alice", email="alice@example.com", email_verified="true")
    # pycognito's Cognito class through the proxy: InitiateAuth and RespondToAuthChallenge (and the
    # JWKS it fetches to verify the tokens) go to consecutive processes.
    before = cluster.request_counts
    u = pycognito_user(cluster.url, e.pool, e.client_id, "alice")
    u.authenticate(PASSWORD)
    assert u.access_claims["username"] == "alice"
    assert u.id_claims["iss"] == f"{cluster.url}/{e.pool}"
    delta = [b - a for a, b in zip(before, cluster.request_counts)]
    assert sum(delta) >= 2 and sum(1 for d in delta if d) >= 2, delta
    # pycognito's AWSSRP, one step per process.
    mark = spread.mark()
    e.assert_signed_in(tokens(e.srp("alice").authenticate_user()))
    assert_steps_spread(spread.since(mark), 2)


def test_remembered_device_srp_across_processes(cluster, spread):
    """ConfirmDevice through one process; the sign-in with the remembered device (its code
    skipped, ChallengeRequiredOnNewDevice) has its four steps on alternating processes."""
    e = Env(spread, cluster, ALWAYS_SUPPRESS)
    e.user("alice")
    device, app = e.prepare("remembered")
    mark = spread.mark()
    sequence, result = e.sign_in("USER_SRP_AUTH", None, device=device)
    assert sequence == [PASSWORD_VERIFIER, DEVICE_SRP_AUTH, DEVICE_PASSWORD_VERIFIER]
    assert e.assert_signed_in(result)["device_key"] == device.key
    assert_steps_spread(spread.since(mark), 4)
    # pycognito's own device flow (no Session on the device challenges), spread the same way.
    mark = spread.mark()
    result = tokens(e.srp(device=device).authenticate_user())
    assert e.assert_signed_in(result)["device_key"] == device.key
    assert_steps_spread(spread.since(mark), 4)


def test_totp_across_processes(cluster, spread):
    """AssociateSoftwareToken and VerifySoftwareToken on different processes; then an SRP
    sign-in's code answered on a third."""
    e = Env(spread, cluster)
    e.user("alice")
    app = e.enrol("alice", previous_step=True)  # two sign-ins' codes without waiting for a step
    assert [op for _, op in spread.calls[-3:]] == ["associate_software_token", "verify_software_token",
                                                   "set_user_mfa_preference"]
    mark = spread.mark()
    sequence, result = e.sign_in("USER_SRP_AUTH", app)
    assert sequence == [PASSWORD_VERIFIER, TOTP]
    e.assert_signed_in(result)
    assert_steps_spread(spread.since(mark), 3)
    # USER_PASSWORD_AUTH then the code on the next process.
    mark = spread.mark()
    sequence, result = e.sign_in("USER_PASSWORD_AUTH", app)
    assert sequence == [TOTP]
    assert_steps_spread(spread.since(mark), 2)


def test_sms_mfa_across_processes(cluster, spread):
    """The SMS code is written to the shared outbox by the process that challenged, read through
    the proxy, and answered on another process."""
    e = FactorEnv(spread, cluster)
    e.sms_user("alice")
    mark = spread.mark()
    session = assert_code_challenge(e.password_auth(), SMS, "+*******0123")
    code = e.last_code()
    e.assert_signed_in(tokens(e.respond(SMS, e.code_answer(SMS, code), session)))
    assert_steps_spread(spread.since(mark), 2)
    # SRP then the code: three steps on three processes.
    mark = spread.mark()
    srp = e.srp_steps("alice")
    answer = srp.respond(srp.responses(srp.initiate()))
    session = assert_code_challenge(answer, SMS, "+*******0123")
    e.assert_signed_in(tokens(e.respond(SMS, e.code_answer(SMS, e.last_code()), session)))
    assert_steps_spread(spread.since(mark), 3)


def test_mfa_setup_across_processes(cluster, spread):
    """MFA_SETUP in an ON pool: InitiateAuth, AssociateSoftwareToken and VerifySoftwareToken with
    the Session, and the MFA_SETUP answer, each on another process; the next sign-in asks for the
    new authenticator's code."""
    e = FactorEnv(spread, cluster, sms=False)
    e.set_mfa("ON")
    e.user("carol")
    mark = spread.mark()
    session = assert_setup(e.password_auth("carol"), [TOTP, "EMAIL_OTP"])
    answer_session, app = e.set_up_authenticator(session, "carol")
    e.assert_signed_in(tokens(e.respond(SETUP, {"USERNAME": "carol"}, answer_session)), "carol")
    assert_steps_spread(spread.since(mark), 4)
    sequence, result = e.sign_in("USER_PASSWORD_AUTH", app, "carol")
    assert sequence == [TOTP]
    e.assert_signed_in(result, "carol")


def test_new_password_required_across_processes(cluster, spread):
    """An admin-created user with a temporary password: pycognito's SRP reaches
    NEW_PASSWORD_REQUIRED and answers it, three steps on three processes; then the same with
    USER_PASSWORD_AUTH followed by the TOTP code."""
    e = Env(spread, cluster)
    spread.admin_create_user(UserPoolId=e.pool, Username="dan", TemporaryPassword=TEMPORARY,
                             MessageAction="SUPPRESS")
    mark = spread.mark()
    srp = AWSSRP(username="dan", password=TEMPORARY, pool_id=e.pool, client_id=e.client_id, client=spread)
    e.assert_signed_in(tokens(srp.set_new_password_challenge(NEW_PASSWORD)), "dan")
    assert_steps_spread(spread.since(mark), 3)
    assert spread.admin_get_user(UserPoolId=e.pool, Username="dan")["UserStatus"] == "CONFIRMED"
    u = pycognito_user(cluster.url, e.pool, e.client_id, "dan")
    u.authenticate(NEW_PASSWORD)
    assert u.access_claims["username"] == "dan"

    # A TOTP user whose password the admin reset: NEW_PASSWORD_REQUIRED, then the code.
    e.user("erin")
    app = e.enrol("erin")
    spread.admin_set_user_password(UserPoolId=e.pool, Username="erin", Password=TEMPORARY, Permanent=False)
    mark = spread.mark()
    answer = e.password_auth("erin", password=TEMPORARY)
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED", answer
    answer = e.respond("NEW_PASSWORD_REQUIRED", {"USERNAME": "erin", "NEW_PASSWORD": NEW_PASSWORD},
                       answer["Session"])
    assert answer.get("ChallengeName") == TOTP, answer
    e.assert_signed_in(tokens(e.respond(TOTP, mfa_answer("erin", app.next_code()), answer["Session"])), "erin")
    assert_steps_spread(spread.since(mark), 3)


# --- the lockout holds across processes ----------------------------------------------------------

ROUNDS = 3
GUESSES = 24


def test_simultaneous_wrong_passwords_over_three_processes_check_at_most_five(cluster, pinned):
    admin = pinned[0]
    pool = admin.create_user_pool(PoolName="lockout")["UserPool"]["Id"]
    client_id = new_app_client(admin, pool)[0]
    clients = [make_client(cluster.endpoints[k % PROCESSES]) for k in range(GUESSES)]
    checked = []
    for r in range(ROUNDS):
        name = f"victim{r}"
        new_confirmed_user(admin, pool, name, PASSWORD)
        guess = lambda c: c.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",  # noqa: E731
                                          AuthParameters={"USERNAME": name, "PASSWORD": "Wr0ng-Passw0rd!"})
        results = race(clients, [guess] * GUESSES)
        incorrect = results.count(("NotAuthorizedException", INCORRECT))
        exceeded = results.count(("NotAuthorizedException", LOCKED))
        assert incorrect + exceeded == GUESSES, results
        assert 1 <= incorrect <= 5, results
        checked.append(incorrect)
        # Locked everywhere, even with the right password.
        for c in pinned:
            with aws_error("NotAuthorizedException", LOCKED):
                c.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD})
    print(f"\nwrong passwords checked per round of {GUESSES} over {PROCESSES} processes: {checked}")


def test_one_code_over_three_processes_is_accepted_once_and_guessed_at_most_five_times(cluster, pinned):
    """ForgotPassword codes raced from 24 clients spread over the processes: the right code is
    accepted once; wrong guesses are checked at most five times, the rest LimitExceeded."""
    admin = pinned[0]
    pool = admin.create_user_pool(PoolName="codes")["UserPool"]["Id"]
    client_id = new_app_client(admin, pool)[0]
    clients = [make_client(cluster.endpoints[k % PROCESSES]) for k in range(GUESSES)]
    for r in range(ROUNDS):
        for name in (f"right{r}", f"wrong{r}"):
            new_confirmed_user(admin, pool, name, PASSWORD, email=f"{name}@example.com", email_verified="true")
            pinned[r % PROCESSES].forgot_password(ClientId=client_id, Username=name)
        code = last_code(cluster, pool, "FORGOT_PASSWORD", f"right{r}")
        results = race(clients, [confirm(client_id, f"right{r}", code)] * GUESSES)
        assert outcomes(results) == ["CodeMismatchException"] * (GUESSES - 1) + ["ok"], results
        code = last_code(cluster, pool, "FORGOT_PASSWORD", f"wrong{r}")
        wrong = "111111" if code == "000000" else "000000"
        results = race(clients, [confirm(client_id, f"wrong{r}", wrong)] * GUESSES)
        assert outcomes(results) == ["CodeMismatchException"] * 5 + ["LimitExceededException"] * (GUESSES - 5), \
            results
        with aws_error("LimitExceededException"):
            confirm(client_id, f"wrong{r}", code)(pinned[(r + 1) % PROCESSES])


def test_a_rotated_refresh_token_is_taken_once_over_three_processes(cluster, pinned):
    """Refresh-token rotation without grace, one token raced from 8 clients over the processes:
    one of them gets the new tokens."""
    pool = pinned[0].create_user_pool(PoolName="rotation")["UserPool"]["Id"]
    client_id = rotating_pool(pinned[0], pool, True)
    clients = [make_client(cluster.endpoints[k % PROCESSES]) for k in range(8)]
    for r in range(ROUNDS * 2):
        token = sign_in_tokens(pinned[r % PROCESSES], client_id)["RefreshToken"]
        results = race(clients, [racing_refresh(client_id, token, True)] * 8)
        assert outcomes(results).count("ok") == 1, results


# --- revocations hold at the next request on another process -------------------------------------

def test_global_sign_out_on_one_process_holds_on_the_others(cluster, pinned):
    p0, p1, p2 = pinned
    pool = p0.create_user_pool(PoolName="sign-out")["UserPool"]["Id"]
    client_id = new_app_client(p0, pool)[0]
    new_confirmed_user(p0, pool, "alice", PASSWORD)
    session = sign_in_tokens(p1, client_id)
    # Processes 1 and 2 accept the tokens (and remember the access token's signature).
    assert p1.get_user(AccessToken=session["AccessToken"])["Username"] == "alice"
    assert tokens(refresh(p2, client_id, session["RefreshToken"]))
    p0.global_sign_out(AccessToken=session["AccessToken"])
    with aws_error("NotAuthorizedException", ACCESS_REVOKED):
        p1.get_user(AccessToken=session["AccessToken"])
    with aws_error("NotAuthorizedException", REFRESH_REVOKED):
        refresh(p2, client_id, session["RefreshToken"])


def test_admin_disable_user_on_one_process_holds_on_the_others(cluster, pinned):
    p0, p1, p2 = pinned
    pool = p0.create_user_pool(PoolName="disable")["UserPool"]["Id"]
    client_id = new_app_client(p0, pool)[0]
    new_confirmed_user(p0, pool, "alice", PASSWORD)
    session = sign_in_tokens(p2, client_id)
    assert p1.get_user(AccessToken=session["AccessToken"])["Username"] == "alice"
    assert tokens(refresh(p2, client_id, session["RefreshToken"]))
    p0.admin_disable_user(UserPoolId=pool, Username="alice")
    # AdminDisableUser revokes the user's tokens; either refusal is the user's token refused.
    with aws_error("NotAuthorizedException") as info:
        p1.get_user(AccessToken=session["AccessToken"])
    assert info.value.response["Error"]["Message"] in (ACCESS_REVOKED, DISABLED), info.value.response
    with aws_error("NotAuthorizedException"):
        refresh(p2, client_id, session["RefreshToken"])
    with aws_error("NotAuthorizedException", DISABLED):
        sign_in_tokens(p1, client_id)


def device_srp(e: Env, client, device=None) -> AWSSRP:
    """pycognito's AWSSRP for alice of `e`'s pool through `client` (one process), holding `device`."""
    extra = {}
    if device is not None:
        extra = dict(device_key=device.key, device_group_key=device.group_key, device_password=device.password)
    return AWSSRP(username="alice", password=PASSWORD, pool_id=e.pool, client_id=e.client_id, client=client, **extra)


def test_forget_device_on_one_process_holds_on_the_others(cluster, pinned):
    """A remembered device signs in on process 1 and refreshes on process 2; ForgetDevice through
    process 0; the next device sign-in with it on process 1 is refused, and its refresh token on
    process 2."""
    p0, p1, p2 = pinned
    e = Env(p0, cluster, ALWAYS_SUPPRESS)
    e.user("alice")
    first = tokens(e.password_auth())
    device = e.confirm(first)
    signed_in = tokens(device_srp(e, p1, device).authenticate_user())
    assert e.assert_signed_in(signed_in)["device_key"] == device.key
    assert tokens(refresh(p2, e.client_id, signed_in["RefreshToken"], device.key))
    p0.forget_device(AccessToken=first["AccessToken"], DeviceKey=device.key)
    with aws_error("ResourceNotFoundException", NO_DEVICE):
        device_srp(e, p1, device).authenticate_user()
    with aws_error("NotAuthorizedException", REFRESH_REVOKED):
        refresh(p2, e.client_id, signed_in["RefreshToken"], device.key)
    # Without the device alice still signs in.
    e.assert_signed_in(tokens(device_srp(e, p2).authenticate_user()))


# --- pool and client changes reach every process within 1 s -------------------------------------

def watch_change(attempt, changed, clients: dict[int, object], change, duration: float = 2.5):
    """Polls attempt(client) on each process of `clients`, each from a thread of its own, from
    half a second before change() runs until `duration` after it returned. Returns when change()
    was called, when it returned, and per process the samples (start, end, changed(outcome))."""
    samples: dict[int, list[tuple[float, float, bool]]] = {i: [] for i in clients}
    stop = threading.Event()

    def poll(i, client):
        while not stop.is_set():
            start = time.monotonic()
            outcome = attempt(client)
            samples[i].append((start, time.monotonic(), changed(outcome)))

    threads = [threading.Thread(target=poll, args=(i, c), daemon=True) for i, c in clients.items()]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the processes have read the old state (and cached it)
    started = time.monotonic()
    change()
    changed_at = time.monotonic()
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return started, changed_at, samples


def assert_propagated(started: float, changed_at: float, samples: dict, what: str) -> dict[int, float]:
    """Before the change no process saw it; on each, a request that saw it ended within 1 s of
    it, and every request that started 1 s after it saw it. Returns per process that first
    request's end, relative to the change."""
    delays = {}
    for i, got in samples.items():
        before = [s for s in got if s[1] < started]
        assert before and not any(s[2] for s in before), (i, got)
        late_old = [round(s[0] - changed_at, 3) for s in got if s[0] >= changed_at + PROPAGATION and not s[2]]
        assert not late_old, f"process {i} still served the old {what} at {late_old} s after the change"
        after = [s for s in got if s[0] >= changed_at and s[2]]
        assert after, (i, got)
        delays[i] = after[0][1] - changed_at
        last_old = max((s[0] - changed_at for s in got if s[0] >= changed_at and not s[2]), default=None)
        print(f"\n{what}: process {i} first saw the change in a request ending {delays[i]:.3f}s after it; "
              + ("no request started after it saw the old state" if last_old is None
                 else f"the last old answer was to a request started {last_old:.3f}s after it"))
        assert delays[i] < PROPAGATION, (i, delays[i], got)  # the first new answer itself came within 1 s
    return delays


def outcome(call):
    try:
        return call()
    except ClientError as e:
        return e.response["Error"]


def test_device_tracking_turned_on_reaches_the_other_processes_within_a_second(cluster, pinned):
    p0, p1, p2 = pinned
    pool = p0.create_user_pool(PoolName="tracking")["UserPool"]["Id"]
    client_id = new_app_client(p0, pool)[0]
    new_confirmed_user(p0, pool, "alice", PASSWORD)
    assert "NewDeviceMetadata" not in sign_in_tokens(p1, client_id)

    started, changed_at, samples = watch_change(
        lambda c: outcome(lambda: c.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                                  AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD})),
        lambda o: "NewDeviceMetadata" in o.get("AuthenticationResult", {}),
        {1: p1, 2: p2},
        lambda: p0.update_user_pool(UserPoolId=pool, DeviceConfiguration=ALWAYS_SUPPRESS))
    assert_propagated(started, changed_at, samples, "device configuration")


def test_app_client_change_reaches_the_other_processes_within_a_second(cluster, pinned):
    p0, p1, p2 = pinned
    pool = p0.create_user_pool(PoolName="flows")["UserPool"]["Id"]
    client_id = new_app_client(p0, pool)[0]
    new_confirmed_user(p0, pool, "alice", PASSWORD)
    refused = ("InvalidParameterException", "USER_PASSWORD_AUTH flow not enabled for this client")

    def attempt(c):
        return outcome(lambda: c.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                                               AuthParameters={"USERNAME": "alice", "PASSWORD": PASSWORD}))

    def is_refused(o):
        if "AuthenticationResult" in o:
            return False
        assert (o.get("Code"), o.get("Message")) == refused, o
        return True

    started, changed_at, samples = watch_change(attempt, is_refused, {1: p1, 2: p2}, lambda: p0.update_user_pool_client(
        UserPoolId=pool, ClientId=client_id, ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]))
    assert_propagated(started, changed_at, samples, "ExplicitAuthFlows")


# --- kill -9 under write load --------------------------------------------------------------------

WRITERS_PER_PROCESS = 2


def test_kill_9_under_write_load_loses_no_acknowledged_write(cluster, pinned):
    """Two writer threads per process (AdminCreateUser, unique names, each thread pinned to one
    process). Process 0 is killed with SIGKILL mid-load: every write acknowledged by any process is
    there afterwards, and processes 1 and 2 answered every request, during and after the kill.
    Sign-ins that process 0 started (an SRP PASSWORD_VERIFIER challenge, an SMS code) are finished
    on the survivors."""
    pool = pinned[1].create_user_pool(PoolName="kill")["UserPool"]["Id"]
    # Sign-ins process 0 starts and will not see finished.
    e = FactorEnv(pinned[0], cluster)
    e.sms_user("alice")
    e.user("bob")
    srp = e.srp_steps("bob")
    srp_challenge = srp.initiate()
    sms_session = assert_code_challenge(e.password_auth("alice"), SMS, "+*******0123")
    stop = threading.Event()
    records: list[tuple[int, str, float, float, str]] = []  # process, username, start, end, outcome
    lock = threading.Lock()

    def writer(process: int, k: int):
        client = make_client(cluster.endpoints[process])
        for n in itertools.count():
            if stop.is_set():
                return
            name = f"p{process}w{k}n{n:04d}"
            start = time.monotonic()
            try:
                client.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS")
                result = "ok"
            except ClientError as e:
                result = e.response["Error"]["Code"]
            except Exception as e:  # noqa: BLE001 (the killed process: connection refused or reset)
                result = type(e).__name__
            with lock:
                records.append((process, name, start, time.monotonic(), result))
            if result != "ok" and process == 0:
                time.sleep(0.05)

    threads = [threading.Thread(target=writer, args=(p, k), daemon=True)
               for p in range(PROCESSES) for k in range(WRITERS_PER_PROCESS)]
    for t in threads:
        t.start()
    time.sleep(3)
    killed_at = time.monotonic()
    assert cluster.kill(0, signal.SIGKILL) == -signal.SIGKILL
    time.sleep(4)
    stop.set()
    for t in threads:
        t.join(timeout=60)

    on_0 = [r for r in records if r[0] == 0]
    assert any(r[4] == "ok" and r[3] < killed_at for r in on_0), "process 0 wrote nothing before the kill"
    assert any(r[4] != "ok" for r in on_0 if r[2] >= killed_at), "process 0 still answered after the kill"
    survivors = [r for r in records if r[0] != 0]
    after_kill = [r for r in survivors if r[2] >= killed_at]
    assert len(after_kill) >= 2 * WRITERS_PER_PROCESS, records
    failed = [r for r in survivors if r[4] != "ok"]
    assert not failed, failed

    acknowledged = {r[1] for r in records if r[4] == "ok"}
    present = set()
    token = None
    while True:
        page = pinned[1].list_users(UserPoolId=pool, **({"PaginationToken": token} if token else {}))
        present |= {u["Username"] for u in page["Users"]}
        token = page.get("PaginationToken")
        if not token:
            break
    assert not acknowledged - present, sorted(acknowledged - present)
    unacknowledged = {r[1] for r in on_0 if r[4] != "ok"}
    print(f"\nkill -9: {len(acknowledged)} acknowledged writes all present ({sum(1 for r in on_0 if r[4] == 'ok')} "
          f"by process 0); {len(after_kill)} requests to the survivors after the kill all answered; "
          f"{len(unacknowledged & present)} of {len(unacknowledged)} unacknowledged writes to process 0 committed")

    # The sign-ins process 0 started end on the survivors.
    srp.cognito = e.cognito = pinned[1]
    e.assert_signed_in(tokens(srp.respond(srp.responses(srp_challenge))), "bob")
    e.cognito = pinned[2]
    e.assert_signed_in(tokens(e.respond(SMS, e.code_answer(SMS, e.last_code()), sms_session)))

    # Process 0 comes back on the same database and sees everything.
    cluster.restart(0)
    again = make_client(cluster.endpoints[0])
    for name in sorted(r[1] for r in on_0 if r[4] == "ok")[-5:]:
        assert again.admin_get_user(UserPoolId=pool, Username=name)["Username"] == name
    again.admin_create_user(UserPoolId=pool, Username="after-restart", MessageAction="SUPPRESS")
    assert pinned[2].admin_get_user(UserPoolId=pool, Username="after-restart")["Username"] == "after-restart"


def test_an_import_whose_process_is_killed_is_finished_by_another(cluster, pinned):
    """A user import runs on the process that started it. Killed with SIGKILL mid-run, it leaves
    a lease that runs out (30 s); another process's tending (every 5 s) resumes the job after its
    last checkpoint. Every row is imported once and counted once: rows taken again after the
    checkpoint are recognised as the job's own (docs/user-import.md, "How a job runs")."""
    from test_user_import import new_job, put_csv, wait_for_end
    rows = 20_000
    pool = pinned[0].create_user_pool(PoolName="import", AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    job = new_job(pinned[0], pool)
    body = "cognito:username,email,email_verified\n" + "".join(f"u{i:05d},u{i}@example.com,true\n" for i in range(rows))
    assert put_csv(job["PreSignedUrl"], body)[0] == 200
    pinned[0].start_user_import_job(UserPoolId=pool, JobId=job["JobId"])
    deadline = time.monotonic() + 60
    while pinned[1].describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]["ImportedUsers"] < 1000:
        assert time.monotonic() < deadline, "the run made no checkpoint"
        time.sleep(0.1)
    assert cluster.kill(0, signal.SIGKILL) == -signal.SIGKILL
    killed = pinned[1].describe_user_import_job(UserPoolId=pool, JobId=job["JobId"])["UserImportJob"]
    assert killed["Status"] == "InProgress" and killed["ImportedUsers"] < rows
    ended = wait_for_end(pinned[1], pool, job["JobId"], timeout=180)
    assert (ended["Status"], ended["ImportedUsers"], ended["SkippedUsers"], ended["FailedUsers"]) == (
        "Succeeded", rows, 0, 0), ended
    assert pinned[2].admin_get_user(UserPoolId=pool, Username=f"u{rows - 1:05d}")["UserStatus"] == "RESET_REQUIRED"
    print(f"\nimport resumed after kill -9: {killed['ImportedUsers']} rows checkpointed by the killed process, "
          f"{rows} imported in all")
