"""Several `gatehouse serve` processes on one PostgreSQL database, behind a round-robin proxy.

Standard library only (psql/pg_dump through subprocess), so that test modules, CI scripts and the
Node suite's runner can all use it:

    url, drop = fresh_database()
    try:
        with Cluster(binary, url, processes=3, workdir=tmp) as cluster:
            ...  # talk to cluster.url; cluster.endpoints[i] is process i
    finally:
        drop()

The proxy sends each HTTP request (not each TCP connection: boto3, pycognito and Node keep their
connections alive) to the next process in turn, passing method, path, headers and body through
unchanged, and the answer back unchanged. A process that refuses the connection (killed, not yet
restarted) is skipped, as a load balancer would after a failed connect; nothing that reached a
process is ever sent twice. Every process gets `--public-url` = the proxy's URL, so tokens carry
one issuer whichever process issued or checks them.

As a command, for the Node suite and CI (prints `GATEHOUSE_TEST_ENDPOINT=<proxy url>` once every
process is healthy, then serves until SIGTERM/SIGINT, dropping the database it created):

    python3 tests/python/cluster.py serve --processes 2 [--admin-url postgres://…/postgres]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import http.server
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable, Iterable

ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
REGION = "us-east-1"
ACCOUNT_ID = "000000000000"
START_TIMEOUT = 60.0
REPO = Path(__file__).resolve().parents[2]


# --- databases -----------------------------------------------------------------------------------

def _with_database(url: str, name: str) -> str:
    """The same server URL (user, host, query) naming another database."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def _psql(admin_url: str, sql: str) -> None:
    subprocess.run(["psql", admin_url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                   check=True, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def fresh_database(admin_url: str = ADMIN_URL, prefix: str = "gh_test") -> tuple[str, Callable[[], None]]:
    """Create a uniquely named database on admin_url's server; returns its URL and a function
    that drops it (WITH (FORCE), so connections left open do not stop it; calling it twice is
    harmless)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", prefix):
        raise ValueError(f"database prefix must be a lower-case SQL identifier: {prefix!r}")
    name = f"{prefix}_{os.getpid()}_{int(time.time())}_{secrets.token_hex(3)}"
    try:
        _psql(admin_url, f'CREATE DATABASE "{name}"')
    except subprocess.CalledProcessError as e:
        raise RuntimeError(f"cannot create database {name} through {admin_url}: {e.stderr.decode(errors='replace')}")
    dropped = False

    def drop() -> None:
        nonlocal dropped
        if not dropped:
            _psql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            dropped = True

    return _with_database(admin_url, name), drop


# --- the proxy -----------------------------------------------------------------------------------

# Hop-by-hop headers (RFC 9110 7.6.1): about one connection, so not passed on.
# Expect: 100-continue is answered by the proxy itself (http.server does) before it reads the body.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade", "expect"}
# A pooled connection to a process idle for longer than this is not reused: Gatehouse closes idle
# keep-alive connections after --header-read-timeout (10 s), and a request sent on a connection it
# is closing would be lost.
BACKEND_IDLE_REUSE = 4.0


class _NoDelayConnection(http.client.HTTPConnection):
    def connect(self):
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Backends:
    """The processes' addresses, the round-robin turn, per-process counts and idle connections."""

    def __init__(self, addresses: list[tuple[str, int]]):
        self.addresses = addresses
        self.enabled = [True] * len(addresses)
        self.counts = [0] * len(addresses)
        self._next = 0
        self._lock = threading.Lock()
        self._idle: list[list[tuple[float, http.client.HTTPConnection]]] = [[] for _ in addresses]

    def order(self) -> list[int]:
        """The processes to try for one request: the next in turn first, then the others."""
        with self._lock:
            n = len(self.addresses)
            start = self._next
            self._next = (self._next + 1) % n
        return [(start + k) % n for k in range(n) if self.enabled[(start + k) % n]]

    def count(self, i: int) -> None:
        with self._lock:
            self.counts[i] += 1

    def connection(self, i: int) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to process i (reused=True), else a new one."""
        now = time.monotonic()
        with self._lock:
            while self._idle[i]:
                since, conn = self._idle[i].pop()
                if now - since < BACKEND_IDLE_REUSE:
                    return conn, True
                conn.close()
        host, port = self.addresses[i]
        return _NoDelayConnection(host, port, timeout=120), False

    def give_back(self, i: int, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle[i].append((time.monotonic(), conn))

    def close_idle(self, i: int | None = None) -> None:
        with self._lock:
            for j in range(len(self._idle)) if i is None else [i]:
                for _, conn in self._idle[j]:
                    conn.close()
                self._idle[j].clear()


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive towards the client
    timeout = 120  # an idle client connection is closed after this
    # TCP_NODELAY, and each answer goes out in one write: otherwise Nagle's algorithm and the
    # client's delayed ACK hold every answer back about 40 ms.
    disable_nagle_algorithm = True
    server: "_ProxyServer"

    def log_message(self, format, *args):  # quiet: the processes log the requests
        pass

    def __getattr__(self, name: str):
        # Every method (GET, POST, PUT, DELETE, OPTIONS, HEAD, PATCH, odd ones) is forwarded.
        if name.startswith("do_"):
            return self._forward
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            # Passed on as it came (chunk framing included): read up to the last chunk and trailers.
            raw = bytearray()
            while True:
                line = self.rfile.readline(65537)
                raw += line
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        trailer = self.rfile.readline(65537)
                        raw += trailer
                        if trailer in (b"\r\n", b"\n", b""):
                            return bytes(raw)
                raw += self.rfile.read(size + 2)
        length = self.headers.get("Content-Length")
        return self.rfile.read(int(length)) if length else b""

    def _send_to(self, i: int, body: bytes) -> http.client.HTTPResponse | None:
        """Send the request to process i; its response, or None if it could not be reached
        before anything was sent (so the request can go to another process)."""
        backends = self.server.backends
        for attempt in range(2):
            conn, reused = backends.connection(i)
            try:
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP:
                        conn.putheader(name, value)
                conn.endheaders(body or None)
            except ConnectionRefusedError:
                conn.close()
                return None
            except OSError:
                conn.close()
                if reused and attempt == 0:
                    continue  # the process closed that idle connection: a fresh one
                return None
            try:
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                # A reused connection the process closed as the request went out: nothing was
                # read (keep-alive race). On a fresh connection it is a process dying mid-request.
                if reused and attempt == 0:
                    continue
                raise
            resp._gatehouse_conn = (i, conn)  # type: ignore[attr-defined]
            return resp
        return None

    def _forward(self) -> None:
        body = self._read_body()
        backends = self.server.backends
        resp = None
        try:
            for i in backends.order():
                resp = self._send_to(i, body)
                if resp is not None:
                    backends.count(i)
                    break
        except (OSError, http.client.HTTPException) as e:
            self._bad_gateway(f"process dropped the connection: {e!r}")
            return
        if resp is None:
            self._bad_gateway("no process accepted the connection")
            return
        i, conn = resp._gatehouse_conn  # type: ignore[attr-defined]
        try:
            payload = resp.read()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            self._bad_gateway(f"process {i} dropped the connection mid-answer: {e!r}")
            return
        if resp.will_close:
            conn.close()
        else:
            backends.give_back(i, conn)

        self.send_response_only(resp.status, resp.reason)  # no Server/Date headers of our own
        chunked = False
        for name, value in resp.getheaders():
            lower = name.lower()
            if lower in HOP_BY_HOP:
                continue
            if lower == "transfer-encoding":
                chunked = True  # http.client has un-chunked it: sent with a length instead
                continue
            self.send_header(name, value)
        if chunked:
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self._end_headers_with(payload if self.command != "HEAD" else b"")

    def _end_headers_with(self, payload: bytes) -> None:
        """end_headers(), with the body in the same write."""
        self._headers_buffer.append(b"\r\n" + payload)
        self.flush_headers()

    def _bad_gateway(self, why: str) -> None:
        body = json.dumps({"proxy": "gatehouse test cluster", "error": why}).encode()
        self.send_response_only(502)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self._end_headers_with(body)


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, backends: _Backends):
        self.backends = backends
        super().__init__(address, _ProxyHandler)


# --- processes -----------------------------------------------------------------------------------

def listening_since(log_path: Path, offset: int) -> bool:
    """Whether the process writing log_path from offset on has bound its port. Until then a
    /health answered on that port may be another server's: the port found free can be taken
    by another test first, and then this process exits with "cannot listen"."""
    try:
        with open(log_path, "rb") as f:
            f.seek(offset)
            return b"gatehouse listening" in f.read()
    except OSError:
        return False


def log_size(log_path: Path) -> int:
    try:
        return log_path.stat().st_size
    except OSError:
        return 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def default_binary() -> Path:
    env = os.environ.get("GATEHOUSE_BIN")
    if env:
        return Path(env)
    release = REPO / "target" / "release" / "gatehouse"
    return release if release.exists() else REPO / "target" / "debug" / "gatehouse"


class Cluster:
    """N `gatehouse serve` processes on database_url, one server key, admin credentials and
    public URL for all, behind a round-robin proxy (see the module docstring).

    Process i listens on endpoints[i], keeps its data dir in workdir/process-<i> and logs (stderr)
    to log_path(i), stdout beside it. extra_args go to every process; env is added to theirs.
    """

    def __init__(self, binary: str | Path | None, database_url: str, processes: int = 3,
                 workdir: str | Path | None = None, dev: bool = True, extra_args: Iterable[str] = (),
                 env: dict[str, str] | None = None, region: str = REGION, account_id: str = ACCOUNT_ID):
        if processes < 1:
            raise ValueError("a cluster needs at least one process")
        self.binary = Path(binary) if binary else default_binary()
        if not self.binary.exists():
            raise RuntimeError(f"gatehouse binary not found at {self.binary}; set GATEHOUSE_BIN")
        self.database_url = database_url
        self.processes = processes
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="gatehouse-cluster-")) if workdir is None else Path(workdir)
        self.dev = dev
        self.extra_args = list(extra_args)
        self.env = dict(env or {})
        self.region = region
        self.account_id = account_id
        self.server_key = base64.b64encode(secrets.token_bytes(32)).decode()
        # Admin credentials: not kept in the database, so every process must be given the same pair
        # (--dev accepts any, but a non-dev cluster needs these).
        self.credentials = ("AKIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30))
        self.ports = [free_port() for _ in range(processes)]
        self.procs: list[subprocess.Popen | None] = [None] * processes
        self._files: list[list] = [[] for _ in range(processes)]
        self._log_starts = [0] * processes
        self._proxy: _ProxyServer | None = None
        self._proxy_thread: threading.Thread | None = None
        self.backends = _Backends([("127.0.0.1", p) for p in self.ports])

    # addresses

    @property
    def endpoints(self) -> list[str]:
        return [f"http://127.0.0.1:{p}" for p in self.ports]

    @property
    def url(self) -> str:
        if self._proxy is None:
            raise RuntimeError("cluster not started")
        return f"http://127.0.0.1:{self._proxy.server_address[1]}"

    @property
    def request_counts(self) -> list[int]:
        """Requests the proxy has handed to each process so far."""
        return list(self.backends.counts)

    def data_dir(self, i: int) -> Path:
        return self.workdir / f"process-{i}"

    def log_path(self, i: int) -> Path:
        return self.workdir / f"process-{i}.log"

    def log_tail(self, i: int | None = None, n: int = 4000) -> str:
        """The end of process i's log, or of every process's log."""
        out = []
        for j in range(self.processes) if i is None else [i]:
            try:
                text = self.log_path(j).read_bytes()[-n:].decode("utf-8", "replace")
            except OSError:
                text = ""
            out.append(f"--- process {j} ({self.endpoints[j]}) ---\n{text}")
        return "\n".join(out)

    # life cycle

    def start(self) -> "Cluster":
        self.workdir.mkdir(parents=True, exist_ok=True)
        # The proxy is bound first: its URL is every process's --public-url.
        self._proxy = _ProxyServer(("127.0.0.1", 0), self.backends)
        self._proxy_thread = threading.Thread(target=self._proxy.serve_forever, name="cluster-proxy", daemon=True)
        self._proxy_thread.start()
        try:
            for i in range(self.processes):  # all at once: one migrates, the others wait for it
                self._launch(i)
            for i in range(self.processes):
                self._wait_healthy_on_a_free_port(i)
        except BaseException:
            self.stop()
            raise
        return self

    def command(self, i: int) -> list[str]:
        return [
            str(self.binary), "serve", *(["--dev"] if self.dev else []),
            "--listen", f"127.0.0.1:{self.ports[i]}",
            "--data-dir", str(self.data_dir(i)),
            "--public-url", self.url,
            "--region", self.region,
            "--account-id", self.account_id,
            *self.extra_args,
        ]

    def _launch(self, i: int) -> None:
        assert self.procs[i] is None or self.procs[i].poll() is not None, f"process {i} is running"
        self._close_files(i)
        self._log_starts[i] = log_size(self.log_path(i))
        log = open(self.log_path(i), "ab")
        out = open(str(self.log_path(i)) + ".out", "ab")
        self._files[i] = [log, out]
        env = {**os.environ,
               "GATEHOUSE_DATABASE_URL": self.database_url,
               "GATEHOUSE_SERVER_KEY": self.server_key,
               "GATEHOUSE_ACCESS_KEY_ID": self.credentials[0],
               "GATEHOUSE_SECRET_ACCESS_KEY": self.credentials[1],
               **self.env}
        self.procs[i] = subprocess.Popen(self.command(i), stdin=subprocess.DEVNULL, stdout=out, stderr=log, env=env)

    def _wait_healthy_on_a_free_port(self, i: int, attempts: int = 3) -> None:
        """_wait_healthy, moving process i to another port when the one chosen was taken before
        it could bind it (free_port() only finds a port free; CI runs two suites side by side)."""
        for attempt in range(attempts):
            try:
                self._wait_healthy(i)
                return
            except RuntimeError:
                taken = not self.is_running(i) and "Address already in use" in self.log_tail(i, 300)
                if not taken or attempt == attempts - 1:
                    raise
            self.ports[i] = free_port()
            self.backends.addresses[i] = ("127.0.0.1", self.ports[i])
            self._launch(i)

    def _wait_healthy(self, i: int, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            proc = self.procs[i]
            if proc.poll() is not None:
                raise RuntimeError(f"gatehouse process {i} exited with {proc.returncode}; log:\n{self.log_tail(i)}")
            if not listening_since(self.log_path(i), self._log_starts[i]):
                time.sleep(0.02)
                continue
            try:
                with urllib.request.urlopen(self.endpoints[i] + "/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except (OSError, ValueError) as e:  # not listening yet (or 503)
                last_error = e
            time.sleep(0.05)
        raise RuntimeError(f"gatehouse process {i} did not become healthy in {timeout}s ({last_error}); "
                           f"log:\n{self.log_tail(i)}")

    def is_running(self, i: int) -> bool:
        proc = self.procs[i]
        return proc is not None and proc.poll() is None

    def kill(self, i: int, sig: int = signal.SIGKILL, timeout: float = 15.0) -> int | None:
        """Send sig to process i and wait for it to exit; its exit code (negative: the signal).
        A stopped process is skipped by the proxy until restart(i)."""
        proc = self.procs[i]
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"gatehouse process {i} ignored signal {sig} for {timeout}s")
        self.backends.close_idle(i)
        self._close_files(i)
        return proc.returncode

    def restart(self, i: int, sig: int = signal.SIGTERM) -> "Cluster":
        """Stop process i (if running) and start it again: same port, arguments, data dir and key."""
        self.kill(i, sig)
        self._launch(i)
        self._wait_healthy(i)
        return self

    def set_enabled(self, i: int, enabled: bool) -> None:
        """Take process i out of the proxy's rotation (or put it back), as a balancer would."""
        self.backends.enabled[i] = enabled

    def stop(self, timeout: float = 15.0) -> list[int | None]:
        """Stop the proxy, then every process (SIGTERM, SIGKILL after timeout); their exit codes."""
        if self._proxy is not None:
            self._proxy.shutdown()
            self._proxy.server_close()
            self._proxy = None
        codes: list[int | None] = []
        for i in range(self.processes):
            proc = self.procs[i]
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for i in range(self.processes):
            proc = self.procs[i]
            if proc is None:
                codes.append(None)
                continue
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            codes.append(proc.returncode)
            self._close_files(i)
        self.backends.close_idle()
        return codes

    def _close_files(self, i: int) -> None:
        for f in self._files[i]:
            f.close()
        self._files[i] = []

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --dev helpers (through the proxy, so any process may answer)

    def reset(self) -> None:
        """POST /_gatehouse/reset (--dev): wipes the shared database."""
        req = urllib.request.Request(self.url + "/_gatehouse/reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=30) as r:
            assert r.status == 200

    def outbox(self, pool_id: str, username: str) -> list[dict]:
        """Messages "sent" to a user (--dev), oldest first."""
        query = urllib.parse.urlencode({"poolId": pool_id, "username": username})
        with urllib.request.urlopen(f"{self.url}/_gatehouse/outbox?{query}", timeout=30) as r:
            assert r.status == 200
            return json.load(r)["Messages"]

    def stored_bytes(self) -> bytes:
        """Everything the database holds (pg_dump, data only), to look for secrets in the clear."""
        return subprocess.run(["pg_dump", "--data-only", "--dbname", self.database_url],
                              check=True, capture_output=True, timeout=120).stdout


# --- command line --------------------------------------------------------------------------------

def _serve(args: argparse.Namespace) -> int:
    drop = None
    database_url = args.database_url
    if database_url is None:
        database_url, drop = fresh_database(args.admin_url, args.prefix)
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    try:
        workdir = Path(args.workdir) if args.workdir else None
        with Cluster(args.binary, database_url, processes=args.processes, workdir=workdir,
                     dev=not args.no_dev, extra_args=args.extra) as cluster:
            print(f"GATEHOUSE_TEST_ENDPOINT={cluster.url}", flush=True)
            print(f"# processes {' '.join(cluster.endpoints)}; logs in {cluster.workdir}", flush=True)
            if args.url_file:
                Path(args.url_file).write_text(cluster.url + "\n")
            stopping.wait()
            print(f"# requests per process: {cluster.request_counts}", flush=True)
    finally:
        if drop is not None:
            drop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run a cluster until SIGTERM/SIGINT")
    serve.add_argument("--processes", type=int, default=2)
    serve.add_argument("--binary", default=None, help="default: $GATEHOUSE_BIN, else target/{release,debug}/gatehouse")
    serve.add_argument("--database-url", default=None, help="use this database (kept); default: a fresh one")
    serve.add_argument("--admin-url", default=os.environ.get("GATEHOUSE_TEST_ADMIN_URL", ADMIN_URL),
                       help="where to create (and at the end drop) the fresh database")
    serve.add_argument("--prefix", default="gh_cluster")
    serve.add_argument("--workdir", default=None)
    serve.add_argument("--url-file", default=None, help="also write the proxy URL to this file")
    serve.add_argument("--no-dev", action="store_true")
    serve.add_argument("extra", nargs="*", help="more `gatehouse serve` arguments (after --)")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
