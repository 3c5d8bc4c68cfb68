#!/usr/bin/env python3
"""Gatehouse side by side with moto_server, cognito-local and cognitox under authbench (a benchmark, not a test).

Usage: python3 bench/authbench_peers.py --gatehouse target/release/gatehouse [--logins 20000]

1. Installs the peers inside the clone, nothing global: bench/.venv (moto[server], aiohttp,
   uvloop, botocore; pinned in bench/requirements.txt, pip cache in bench/.cache/pip) and
   bench/node_modules (cognito-local, pinned by bench/package-lock.json, `npm ci` with its cache
   in bench/.cache/npm), cognitox (`cargo install cognitox --version 0.1.2 --root bench/.cargo`,
   with the machine's cargo); wrk from Debian (apt-get) when the wrk engine is used and it is missing.
2. Starts each server in turn on a free loopback port with a fresh data dir under bench/.work/:
   Gatehouse (`serve`, SigV4 verified: admin credentials from GATEHOUSE_ACCESS_KEY_ID/
   GATEHOUSE_SECRET_ACCESS_KEY plus the fixed pair authbench signs with, in a config file; rate
   limits off), moto_server, cognito-local (its data dir is `.cognito` in its working directory),
   cognitox (in memory).
3. Checks each server with one request of every kind (printing the __type of any refusal), then
   runs ../shared/bench/authbench.py against it with the same parameters: login and getuser with
   the wrk engine (unsigned calls), admingetuser with the python engine and real SigV4 (authbench's
   wrk engine cannot sign). Each test waits for an idle machine (--wait-idle) and watches the
   server's PID for CPU and RSS. Prints one table (Markdown) with the ratios Gatehouse/peer, and
   writes it with the raw authbench JSON and the logs to bench/results/<time>/.
4. --logins N: afterwards, N consecutive USER_PASSWORD_AUTH logins against one server (Gatehouse by
   default) in chunks of --chunk, one authbench test per chunk on the same pool and process,
   printing each chunk's CPU per login and RSS, to show whether they stay flat.

See bench/AUTHBENCH.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
VPY = VENV / "bin" / "python"
CACHE = BENCH / ".cache"
WORK = BENCH / ".work"

# The admin credential the Gatehouse server is started with (as documented for the bench).
GH_KEY = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
# authbench --auth sigv4 signs with this fixed pair (see Signer in authbench.py), so the server
# gets it as a second credential through its config file.
AUTHBENCH_KEY = ("AKIDAUTHBENCH", "authbench-secret")

TESTS = [("login", "USER_PASSWORD_AUTH logins"), ("getuser", "GetUser"),
         ("admingetuser", "AdminGetUser")]
SERVERS = ["gatehouse", "moto", "cognito-local", "cognitox"]
# The peers that keep everything in memory (no data directory to measure).
IN_MEMORY = {"moto", "cognitox"}
COGNITOX_VERSION = "0.1.2"
COGNITOX = BENCH / ".cargo" / "bin" / "cognitox"


def log(msg: str):
    print(msg, flush=True)


def run(cmd, **kw):
    log("$ " + " ".join(str(c) for c in cmd))
    subprocess.run([str(c) for c in cmd], check=True, **kw)


def sha256(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


# ----------------------------------------------------------------- installing

def ensure_venv():
    req = BENCH / "requirements.txt"
    stamp = VENV / ".requirements.sha256"
    want = sha256(req)
    if VPY.exists() and stamp.exists() and stamp.read_text().strip() == want:
        return
    if not VPY.exists():
        run([sys.executable, "-m", "venv", VENV])
    env = dict(os.environ, PIP_CACHE_DIR=str(CACHE / "pip"))
    run([VPY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", req], env=env)
    stamp.write_text(want + "\n")


def ensure_node_modules():
    lock = BENCH / "package-lock.json"
    stamp = BENCH / "node_modules" / ".bench-lock.sha256"
    want = sha256(BENCH / "package.json", lock)
    if stamp.exists() and stamp.read_text().strip() == want:
        return
    if not shutil.which("npm"):
        sys.exit("authbench_peers: cognito-local needs node and npm (apt-get install nodejs npm)")
    env = dict(os.environ, npm_config_cache=str(CACHE / "npm"), npm_config_update_notifier="false")
    run(["npm", "ci", "--prefix", BENCH, "--no-audit", "--no-fund", "--loglevel=error"],
        env=env, cwd=BENCH)
    stamp.write_text(want + "\n")


def ensure_cognitox():
    """cognitox, a Rust emulator from crates.io, built once into bench/.cargo (a few minutes)."""
    if COGNITOX.exists() and COGNITOX_VERSION in cognitox_version():
        return
    if not shutil.which("cargo"):
        sys.exit("authbench_peers: cognitox needs cargo (https://rustup.rs)")
    run(["cargo", "install", "--quiet", "--locked", "cognitox", "--version", COGNITOX_VERSION,
         "--root", BENCH / ".cargo"], env=dict(os.environ, CARGO_TARGET_DIR=str(CACHE / "cargo-target")))


def ensure_wrk():
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0:
        sys.exit("authbench_peers: the wrk engine needs wrk: apt-get install -y wrk (or --engine python)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=env).returncode != 0:
        run(["apt-get", "update", "-q"], env=env)
        run(["apt-get", "install", "-y", "-q", "wrk"], env=env)


# ----------------------------------------------------------------- servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(12).startswith(b"HTTP/1.")
    except OSError:
        return False


class Server:
    def __init__(self, name: str, cmd: list, cwd: Path, env: dict, port: int, data: Path,
                 version: str):
        self.name, self.port, self.data, self.version, self.cwd = name, port, data, version, cwd
        self.endpoint = f"http://127.0.0.1:{port}/"
        self.logfile = open(cwd / "server.log", "wb")
        log(f"starting {name} ({version}) on port {port}, data dir {data}")
        self.proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self.logfile,
                                     stderr=subprocess.STDOUT)
        t_end = time.time() + 90
        while not http_ready(port):
            if self.proc.poll() is not None or time.time() > t_end:
                self.stop()
                tail = (cwd / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} did not start:\n{tail}")
            time.sleep(0.05)
        self.pid = self.proc.pid

    def rss_mb(self) -> tuple[float, float]:
        out = {}
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(("VmRSS:", "VmHWM:")):
                        k, v = line.split(":", 1)
                        out[k] = int(v.split()[0]) / 1024
        except OSError:
            pass
        return out.get("VmRSS", float("nan")), out.get("VmHWM", float("nan"))

    def data_size_mb(self) -> float:
        return sum(p.stat().st_size for p in self.data.rglob("*") if p.is_file()) / 2**20

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.logfile.close()


def start_server(name: str, args, stamp: str) -> Server:
    port = free_port()
    cwd = WORK / f"{stamp}-{name}"
    cwd.mkdir(parents=True)
    env = dict(os.environ)
    if name == "gatehouse":
        data = cwd / "data"
        cfg = cwd / "gatehouse.toml"
        cfg.write_text('[[credentials]]\naccess_key_id = "%s"\nsecret_access_key = "%s"\n'
                       % AUTHBENCH_KEY)
        env.update(GATEHOUSE_ACCESS_KEY_ID=GH_KEY[0], GATEHOUSE_SECRET_ACCESS_KEY=GH_KEY[1])
        # Rate limits off (the defaults outside --dev allow 100 sign-ins/s per address, and
        # every request here comes from 127.0.0.1); SigV4 stays verified.
        cmd = [args.gatehouse, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
               "--config", cfg, "--rate-limit-per-ip", "0", "--rate-limit-per-client", "0"]
        return Server(name, cmd, cwd, env, port, data, gatehouse_version(args.gatehouse))
    if name == "moto":
        # moto keeps everything in memory: a fresh process is a fresh store.
        cmd = [VENV / "bin" / "moto_server", "-H", "127.0.0.1", "-p", str(port)]
        return Server(name, cmd, cwd, env, port, cwd, "moto " + moto_version())
    if name == "cognito-local":
        # cognito-local keeps its config and JSON database in ./.cognito of its working directory.
        env.update(PORT=str(port), HOST="127.0.0.1")
        env.pop("DEBUG", None)
        cmd = ["node", BENCH / "node_modules" / "cognito-local" / "lib" / "bin" / "start.js"]
        return Server(name, cmd, cwd, env, port, cwd / ".cognito",
                      f"cognito-local {cognito_local_version()} (node {node_version()})")
    if name == "cognitox":
        # In memory (its default storage mode); no SRP, which the tests here do not use.
        env.pop("RUST_LOG", None)
        cmd = [COGNITOX, "--port", str(port), "--log-level", "warn"]
        return Server(name, cmd, cwd, env, port, cwd, cognitox_version())
    raise SystemExit(f"unknown server {name!r}")


def gatehouse_version(binary) -> str:
    try:
        v = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                           timeout=10).stdout.strip()
    except OSError:
        v = ""
    # Which build: the binary's own digest and time (the clone may have moved on since).
    b = Path(binary)
    digest = hashlib.sha256(b.read_bytes()).hexdigest()[:12]
    built = time.strftime("%Y-%m-%d %H:%M", time.localtime(b.stat().st_mtime))
    try:
        rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        rev = ""
    return (f"{v or 'gatehouse'} (binary sha256 {digest}…, built {built}"
            + (f"; clone at {rev} when measured)" if rev else ")"))


def moto_version() -> str:
    return subprocess.run([VPY, "-c", "import moto; print(moto.__version__)"],
                          capture_output=True, text=True).stdout.strip()


def cognito_local_version() -> str:
    pj = BENCH / "node_modules" / "cognito-local" / "package.json"
    return json.loads(pj.read_text())["version"]


def cognitox_version() -> str:
    try:
        return subprocess.run([COGNITOX, "--version"], capture_output=True, text=True,
                              timeout=10).stdout.strip() or "cognitox"
    except OSError:
        return ""


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def wrk_version() -> str:
    r = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return (r.stdout + r.stderr).split("Copyright")[0].strip()


# ----------------------------------------------------------------- probe (runs in the venv)

def probe(endpoint: str, key: tuple[str, str], expect_signed: bool) -> int:
    """One request of every kind the benchmark makes, signed with `key`; prints each answer's
    status and __type. Runs under bench/.venv/bin/python (needs botocore)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = SigV4Auth(Credentials(*key), "cognito-idp", "us-east-1")
    problems = 0

    def call(op, body, sign=True, expect=None):
        nonlocal problems
        data = json.dumps(body).encode()
        h = {"Content-Type": "application/x-amz-json-1.1",
             "X-Amz-Target": "AWSCognitoIdentityProviderService." + op}
        if sign:
            r = AWSRequest(method="POST", url=endpoint, data=data, headers=h)
            auth.add_auth(r)
            h = dict(r.headers.items())
        req = urllib.request.Request(endpoint, data=data, headers=h, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            out = json.loads(raw) if raw else {}
        except ValueError:
            out = {"__type": "?", "message": raw[:200].decode(errors="replace")}
        typ = out.get("__type", "") if status != 200 else ""
        ok = (status == 200) if expect is None else (typ.split("#")[-1] == expect)
        if not ok:
            problems += 1
        msg = out.get("message") or out.get("Message") or ""
        print(f"  {'ok ' if ok else 'BAD'} {op:<22} HTTP {status} {typ} {msg}"
              + (f"  (expected {expect})" if expect and not ok else ""), flush=True)
        return out

    print(f"probe {endpoint} (admin calls signed as {key[0]})", flush=True)
    pool = call("CreateUserPool", {"PoolName": "probe"}).get("UserPool", {}).get("Id", "")
    client = call("CreateUserPoolClient", {
        "UserPoolId": pool, "ClientName": "probe",
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}
    ).get("UserPoolClient", {}).get("ClientId", "")
    email = "probe@authbench.test"  # an email, as authbench uses (cognito-local insists on one)
    user = call("AdminCreateUser", {
        "UserPoolId": pool, "Username": email, "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": email},
                           {"Name": "email_verified", "Value": "true"}]}
    ).get("User", {}).get("Username", email)
    call("AdminSetUserPassword", {"UserPoolId": pool, "Username": user,
                                  "Password": "Probe-Passw0rd!", "Permanent": True})
    auth_res = call("InitiateAuth", {"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                                     "AuthParameters": {"USERNAME": user, "PASSWORD": "Probe-Passw0rd!"}},
                    sign=False).get("AuthenticationResult", {})
    call("GetUser", {"AccessToken": auth_res.get("AccessToken", "none")}, sign=False)
    call("AdminGetUser", {"UserPoolId": pool, "Username": user})
    call("InitiateAuth", {"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                          "AuthParameters": {"USERNAME": user, "PASSWORD": "Wrong-Passw0rd!"}},
         sign=False, expect="NotAuthorizedException")
    call("GetUser", {"AccessToken": "not-a-token"}, sign=False, expect="NotAuthorizedException")
    if expect_signed:  # the server verifies SigV4: an unsigned admin call must be refused
        call("AdminGetUser", {"UserPoolId": pool, "Username": user}, sign=False,
             expect="MissingAuthenticationTokenException")
    return problems


# ----------------------------------------------------------------- authbench runs

def busy_benchmarks() -> list[str]:
    """Other load generators on the machine (not this harness or its children)."""
    def ppid_of(pid: int) -> int:
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return 0

    mine, pid = set(), os.getpid()
    while pid > 1 and pid not in mine:  # this process and the shells that started it
        mine.add(pid)
        pid = ppid_of(pid)
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) in mine or ppid_of(int(d.name)) == os.getpid():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if re.search(r"loadgen|authbench", cmd):
            found.append(f"{d.name}: {cmd.strip()[:120]}")
    return found


def wait_for_other_benchmarks(max_wait: float):
    t_end = time.time() + max_wait
    while True:
        others = busy_benchmarks()
        if not others:
            return
        if time.time() > t_end:
            log("WARNING: other benchmarks still running; measuring anyway:\n  " + "\n  ".join(others))
            return
        log("waiting for other benchmarks to end:\n  " + "\n  ".join(others))
        time.sleep(30)


def machine_idle(seconds: float = 3.0) -> float:
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return v[3] + v[4], sum(v)
    i0, t0 = sample()
    time.sleep(seconds)
    i1, t1 = sample()
    return (i1 - i0) / max(1, t1 - t0)


def wait_for_quiet(args):
    """Before a run: no other load generator, and the machine at least --wait-idle idle (a build
    or a test suite elsewhere makes every figure worse), for up to --busy-wait-max seconds."""
    t_end = time.time() + args.busy_wait_max
    wait_for_other_benchmarks(args.busy_wait_max)
    said = False
    while args.wait_idle > 0 and time.time() < t_end:
        idle = machine_idle()
        if idle >= args.wait_idle:
            return
        if not said:
            log(f"machine only {100 * idle:.0f}% idle; waiting for it to quiet down "
                f"(up to {args.busy_wait_max:.0f} s)")
            said = True
        time.sleep(10)


def disturbed(r: dict) -> list[str]:
    """Tests of an authbench run during which other processes burnt noticeable CPU."""
    return [x["test"] for x in r["_record"]["results"] if "server_cpu_s" in x
            and x.get("other_cpu_s", 0) > max(0.5, 0.15 * x["server_cpu_s"])]


def authbench(args, srv: Server, label: str, tests: list[str], engine: str, out_dir: Path,
              requests: int | None = None, warmup: int | None = None, retries: int = 2) -> dict:
    """One authbench run, run again (`retries` times at most) when it was disturbed: another
    load generator turned up meanwhile, or other processes used noticeable CPU during a test."""
    for attempt in range(retries + 1):
        wait_for_quiet(args)
        r = authbench_once(args, srv, label, tests, engine, out_dir, requests, warmup)
        if "failed" in r:
            return r
        others = busy_benchmarks()
        noisy = disturbed(r)
        if not (others or noisy) or attempt == retries:
            if others or noisy:
                log(f"WARNING: {label} stayed disturbed after {attempt + 1} runs "
                    f"(other processes busy during {', '.join(noisy) or '-'}; {'; '.join(others)})")
            return r
        log(f"{label} was disturbed ({'; '.join(others) or 'other processes busy during ' + ', '.join(noisy)}); "
            "running it again")
        (out_dir / f"{srv.name}-{label}.json").unlink(missing_ok=True)


def authbench_once(args, srv: Server, label: str, tests: list[str], engine: str, out_dir: Path,
                   requests: int | None, warmup: int | None) -> dict:
    jpath = out_dir / f"{srv.name}-{label}.json"
    cmd = [VPY, args.authbench, "--endpoint", srv.endpoint, "--engine", engine,
           "--users", args.users, "--requests", requests or args.requests,
           "--concurrency", args.concurrency,
           "--warmup", args.warmup if warmup is None else warmup,
           "--tests", ",".join(tests), "--server-pid", srv.pid,
           "--wait-idle", args.wait_idle, "--wait-idle-max", args.wait_idle_max,
           "--label", f"{srv.name} {label} ({srv.version})", "--json", jpath]
    # Admin calls (setup, admingetuser): authbench's sigv4 signs with its own fixed key,
    # registered with Gatehouse; the peers accept any signature, so every server
    # gets the same requests. (The wrk engine sends no signature; it only runs unsigned tests.)
    cmd += ["--auth", "sigv4"]
    env = dict(os.environ, AWS_ACCESS_KEY_ID=GH_KEY[0], AWS_SECRET_ACCESS_KEY=GH_KEY[1],
               AWS_DEFAULT_REGION="us-east-1")
    log(f"\n== {srv.name}: {label} ({engine} engine)")
    logpath = out_dir / f"{srv.name}-{label}.log"
    with open(logpath, "w") as lf:
        p = subprocess.Popen([str(c) for c in cmd], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            for line in p.stdout:
                lf.write(line)
                sys.stdout.write("  " + line)
                sys.stdout.flush()
            rc = p.wait()
        except BaseException:
            os.killpg(p.pid, signal.SIGTERM)  # authbench and its wrk
            p.wait()
            raise
    if rc != 0 or not jpath.exists():
        text = logpath.read_text(errors="replace").strip().splitlines()
        err = next((l for l in reversed(text) if "Error" in l or "error" in l), text[-1] if text else "?")
        return {"failed": err.strip()[:300]}
    rec = json.loads(jpath.read_text().splitlines()[-1])
    return {r["test"]: r for r in rec["results"]} | {"_record": rec}


def diagnose(args, srv: Server, test: str, out_dir: Path) -> dict:
    """wrk counts non-200 answers without reading them: rerun a short python-engine pass that
    records each refusal's HTTP status and __type."""
    r = authbench(args, srv, f"{test}-diagnose", [test], "python", out_dir,
                  requests=min(500, args.requests), warmup=0)
    return r.get(test, {}).get("errors", {}) if "failed" not in r else {"failed": r["failed"]}


def bench_server(name: str, args, stamp: str, out_dir: Path) -> dict:
    wait_for_other_benchmarks(args.busy_wait_max)
    srv = start_server(name, args, stamp)
    res: dict = {"version": srv.version}
    try:
        key = GH_KEY if name == "gatehouse" else ("AKIDPROBE", "probe-secret")
        pr = subprocess.run([str(VPY), __file__, "--_probe", srv.endpoint, "--_probe-key",
                             f"{key[0]}:{key[1]}"] + (["--_probe-signed"] if name == "gatehouse" else []),
                            capture_output=True, text=True)
        log(pr.stdout.rstrip() + pr.stderr.rstrip())
        res["probe"] = [" ".join(l.split()[1:4] + ["(" + " ".join(l.split()[4:]) + ")"])
                        for l in pr.stdout.splitlines() if l.strip().startswith("BAD")]
        unsigned = [t for t in args.tests if t in ("login", "getuser")]
        signed = [t for t in args.tests if t == "admingetuser"]
        parts = []
        if unsigned:
            parts.append(("unsigned", unsigned, args.engine))
        if signed:
            parts.append(("admin", signed, "python"))
        for label, tests, engine in parts:
            r = authbench(args, srv, label, tests, engine, out_dir)
            for t in tests:
                res[t] = r.get(t) or {"failed": r.get("failed", "no result")}
                if engine == "wrk" and res[t].get("errors"):
                    res[t]["diagnosis"] = diagnose(args, srv, t, out_dir)
        if args.logins and name == args.soak_server:
            res["soak"] = soak(args, srv, out_dir)
        rss, hwm = srv.rss_mb()
        res["rss_end_mb"], res["vmhwm_mb"] = round(rss, 1), round(hwm, 1)
        res["data_mb"] = round(srv.data_size_mb(), 2)
    finally:
        srv.stop()
        shutil.copy(srv.cwd / "server.log", out_dir / f"{name}-server.log")
        if not args.keep_data:
            shutil.rmtree(srv.cwd, ignore_errors=True)
    return res


def soak(args, srv: Server, out_dir: Path) -> list:
    chunks = max(1, args.logins // args.chunk)
    # Not rerun when disturbed: a second pass would not start from a fresh server; the
    # "other CPU s" column tells which chunks were.
    r = authbench(args, srv, "soak", ["login"] * chunks, args.engine, out_dir,
                  requests=args.chunk, warmup=0, retries=0)
    if "failed" in r:
        return [{"failed": r["failed"]}]
    chunks = r["_record"]["results"]
    if args.engine == "wrk" and any(c.get("errors") for c in chunks):
        why = diagnose(args, srv, "login", out_dir)
        for c in chunks:
            if c.get("errors"):
                c["diagnosis"] = why
    return chunks


# ----------------------------------------------------------------- report

def fmt(v, unit=""):
    if v is None or (isinstance(v, float) and v != v):
        return "–"
    if isinstance(v, (int, float)):
        if abs(v) >= 100:
            return f"{v:,.0f}{unit}"
        if abs(v) >= 10:
            return f"{v:.1f}{unit}"
        return f"{v:.2f}{unit}"
    return str(v)


def ratio(a, b):
    try:
        return a / b if a is not None and b else None
    except TypeError:
        return None


def errors_text(r: dict) -> str:
    e = r.get("errors") or {}
    s = ", ".join(f"{k}={v}" for k, v in e.items()) or "0"
    if r.get("bad_body"):
        s += f", 200 without expected field={r['bad_body']}"
    if r.get("diagnosis"):
        s += " (" + ", ".join(f"{k}={v}" for k, v in r["diagnosis"].items()) + ")"
    return s


def report(results: dict, args, meta: list[str]) -> str:
    cols = ["req/s", "p50 ms", "p99 ms", "server CPU ms/req", "peak RSS MB", "errors",
            "other CPU s"]
    lines = [f"| test | server | {' | '.join(cols)} |", "|" + " --- |" * (len(cols) + 2)]
    servers = [s for s in SERVERS if s in results]
    for test, title in TESTS:
        if test not in args.tests:
            continue
        for s in servers:
            r = results[s].get(test) or {"failed": results[s].get("failed", "not run")}
            if "failed" in r:
                lines.append(f"| {title} | {s} | failed: {r['failed'].replace('|', '/')} |"
                             + " |" * (len(cols) - 1))
                continue
            lines.append(f"| {title} | {s} | {fmt(r['ok_rps'])} | {fmt(r['p50_ms'])} | "
                         f"{fmt(r['p99_ms'])} | {fmt(r.get('server_cpu_ms_per_req'))} | "
                         f"{fmt(r.get('server_peak_rss_mb'))} | {errors_text(r)} | "
                         f"{fmt(r.get('other_cpu_s'))} |")
        g = results.get("gatehouse", {}).get(test)
        for s in servers:
            p = results[s].get(test)
            if s == "gatehouse" or not g or not p or "failed" in g or "failed" in p:
                continue
            rs = [ratio(g[k], p[k]) for k in ("ok_rps", "p50_ms", "p99_ms")]
            rs += [ratio(g.get(k), p.get(k)) for k in ("server_cpu_ms_per_req", "server_peak_rss_mb")]
            lines.append(f"| {title} | gatehouse / {s} | "
                         + " | ".join(fmt(x, "×") for x in rs) + " | | |")
    out = ["", "## authbench: Gatehouse and its peers", ""] + [f"- {m}" for m in meta]
    if args.tests:
        out += [""] + lines
    out += ["", "req/s counts 200 answers; p50/p99 from the client; server CPU ms/req = CPU time "
            "of the server process during the test / requests; peak RSS sampled every 50 ms "
            "during the test; other CPU s = CPU used by everything else on the machine meanwhile "
            "(large = disturbed run). Ratios: Gatehouse's figure divided by the peer's (req/s: "
            "higher is better; the others: lower is better)."]
    out += ["", "| server | VmHWM MB (whole run) | RSS at end MB | data on disk MB | probe |",
            "| --- | --- | --- | --- | --- |"]
    for s in servers:
        r = results[s]
        if "failed" in r:
            out.append(f"| {s} | failed: {r['failed'][:200]} | | | |")
            continue
        pr = "; ".join(r.get("probe") or []) or "all answers as expected"
        out.append(f"| {s} ({r['version']}) | {fmt(r.get('vmhwm_mb'))} | {fmt(r.get('rss_end_mb'))} | "
                   f"{fmt(r.get('data_mb')) if s not in IN_MEMORY else 'in memory'} | {pr} |")
    for s in servers:
        sk = results[s].get("soak")
        if not sk:
            continue
        out += ["", f"## Soak: {args.logins:,} consecutive USER_PASSWORD_AUTH logins against {s} "
                f"({len(sk)} chunks of {args.chunk:,})", "",
                "| chunk | logins so far | logins/s | p50 ms | p99 ms | server CPU ms/login | "
                "peak RSS MB | RSS at end MB | errors | other CPU s |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        done = 0
        for i, c in enumerate(sk, 1):
            if "failed" in c:
                out.append(f"| {i} | failed: {c['failed']} |" + " |" * 8)
                continue
            done += c["completed"]
            out.append(f"| {i} | {done:,} | {fmt(c['ok_rps'])} | {fmt(c['p50_ms'])} | "
                       f"{fmt(c['p99_ms'])} | {fmt(c.get('server_cpu_ms_per_req'))} | "
                       f"{fmt(c.get('server_peak_rss_mb'))} | {fmt(c.get('server_rss_end_mb'))} | "
                       f"{errors_text(c)} | {fmt(c.get('other_cpu_s'))} |")
        cpu = [c.get("server_cpu_ms_per_req") for c in sk if "failed" not in c]
        rss = [c.get("server_rss_end_mb") for c in sk if "failed" not in c]
        if cpu and rss and None not in cpu and None not in rss:
            out.append("")
            out.append(f"CPU per login: first chunk {fmt(cpu[0])} ms, last {fmt(cpu[-1])} ms, "
                       f"range {fmt(min(cpu))}–{fmt(max(cpu))} ms; RSS at chunk end: first "
                       f"{fmt(rss[0])} MB, last {fmt(rss[-1])} MB. Data on disk after the run: "
                       f"{fmt(results[s].get('data_mb'))} MB.")
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------- main

def main():
    class Fmt(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=Fmt)
    ap.add_argument("--gatehouse", help="Gatehouse binary (omit to bench the peers only)")
    ap.add_argument("--servers", default=",".join(SERVERS), help="which servers, in this order")
    ap.add_argument("--authbench", default=str(ROOT.parent / "shared" / "bench" / "authbench.py"),
                    help="path to authbench.py (../shared/bench/authbench.py from the repo root)")
    ap.add_argument("--tests", default="login,getuser,admingetuser", help="authbench tests")
    ap.add_argument("--users", type=int, default=100, help="users per authbench run")
    ap.add_argument("--requests", type=int, default=5000, help="measured requests per test")
    ap.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    ap.add_argument("--warmup", type=int, default=200, help="unmeasured requests before each test")
    ap.add_argument("--engine", choices=["wrk", "python"], default="wrk",
                    help="engine for the unsigned tests (login, getuser); admingetuser always "
                         "uses the python engine with SigV4")
    ap.add_argument("--wait-idle", type=float, default=0.9,
                    help="start runs and tests only once the machine is this idle (0 = don't wait)")
    ap.add_argument("--wait-idle-max", type=float, default=120,
                    help="authbench's own wait before each test, at most (s)")
    ap.add_argument("--busy-wait-max", type=float, default=3600,
                    help="before each run, wait this long at most (s) for other load generators "
                         "to end and the machine to be --wait-idle idle")
    ap.add_argument("--logins", type=int, default=0,
                    help="soak: this many consecutive USER_PASSWORD_AUTH logins after the comparison")
    ap.add_argument("--chunk", type=int, default=2000, help="soak chunk size")
    ap.add_argument("--soak-server", default="gatehouse", choices=SERVERS)
    ap.add_argument("--soak-only", action="store_true",
                    help="skip the comparison (and soak 20,000 logins unless --logins)")
    ap.add_argument("--keep-data", action="store_true",
                    help="keep the servers' working and data dirs in bench/.work")
    ap.add_argument("--skip-install", action="store_true",
                    help="use bench/.venv, bench/node_modules and wrk as they are")
    ap.add_argument("--_probe", help=argparse.SUPPRESS)
    ap.add_argument("--_probe-key", help=argparse.SUPPRESS)
    ap.add_argument("--_probe-signed", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    # Ctrl-C and kill both stop the servers and authbench on the way out (a shell starts
    # background jobs with SIGINT ignored, so set it explicitly).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    if args._probe:
        k, s = args._probe_key.split(":", 1)
        sys.exit(1 if probe(args._probe, (k, s), args._probe_signed) else 0)

    args.tests = [t.strip() for t in args.tests.split(",") if t.strip()]
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    if args.gatehouse:
        args.gatehouse = str(Path(args.gatehouse).resolve())
        if not os.access(args.gatehouse, os.X_OK):
            sys.exit(f"authbench_peers: {args.gatehouse} is not an executable")
    else:
        servers = [s for s in servers if s != "gatehouse"]
    if args.soak_only:
        if not args.logins:
            args.logins = 20000
        servers = [args.soak_server]
        args.tests = []
    if args.logins and args.soak_server not in servers:
        sys.exit(f"authbench_peers: the soak server {args.soak_server} is not among the servers run")
    if not Path(args.authbench).is_file():
        sys.exit(f"authbench_peers: authbench not found at {args.authbench} (--authbench PATH)")

    if not args.skip_install:
        ensure_venv()
        if "cognito-local" in servers:
            ensure_node_modules()
        if "cognitox" in servers:
            ensure_cognitox()
        if args.engine == "wrk":
            ensure_wrk()

    stamp = time.strftime("%Y%m%dT%H%M%S")
    out_dir = BENCH / "results" / stamp
    out_dir.mkdir(parents=True)
    WORK.mkdir(exist_ok=True)
    engine = args.engine + (f" ({wrk_version()})" if args.engine == "wrk" else "")
    meta = [f"{time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores, {args.users} users, "
            f"concurrency {args.concurrency}, authbench {args.authbench}"]
    if args.tests:
        meta.append(f"comparison: {args.requests:,} requests per test after {args.warmup} "
                    f"warm-up; login/getuser: {engine} engine; admingetuser: python engine, "
                    "SigV4-signed")
    if args.logins:
        meta.append(f"soak: {args.logins:,} logins against {args.soak_server} in chunks of "
                    f"{args.chunk:,}, {engine} engine, no warm-up")
    results: dict = {}
    for name in servers:
        try:
            results[name] = bench_server(name, args, stamp, out_dir)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
            log(f"{name}: {e}")
            results[name] = {"failed": str(e).splitlines()[0], "version": "?"}
        meta.append(f"{name}: {results[name].get('version', '?')}")
    text = report(results, args, meta)
    (out_dir / "summary.md").write_text(text)
    (out_dir / "summary.json").write_text(json.dumps(results, indent=1, default=str))
    print(text)
    print(f"(raw authbench JSON, logs and this table: {out_dir.relative_to(ROOT)}/)")


if __name__ == "__main__":
    main()
