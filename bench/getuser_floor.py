#!/usr/bin/env python3
"""What a GetUser costs the server, next to what answering any HTTP request costs it (a
benchmark, not a test).

Usage: python3 bench/getuser_floor.py [path/to/gatehouse] [seconds-per-series] [rounds]
                                      [--database-url postgres://USER@HOST/DB]
       (defaults: target/release/gatehouse, 5 s, 2 rounds, SQLite in a temporary data dir)
Needs boto3 (tests/python/requirements.txt) and wrk (Debian's wrk).

Starts one server (temporary data dir, rate limits off; on PostgreSQL with --database-url, an
existing empty database), makes a pool, an app client and 100 users, signs each in once for an
access token, then drives the server with wrk (one thread, 32 keep-alive connections) through
three series, reading the server's CPU time (user + system, from /proc/PID/stat) around each:

  health     GET /health: the HTTP floor (hyper, axum, CORS, tracing) and a database ping
             (SELECT 1 through the store's pool: on SQLite a round trip to its worker thread,
             on PostgreSQL to the database, after sqlx's own check of the pooled connection).
  malformed  POST GetUser whose AccessToken is as long as a real one but not a JWT: the request
             floor (the JSON body, validation against the model, an error answer), no store and
             no signature.
  getuser    POST GetUser with the 100 real tokens in turn: the signature (checked once per token
             and process, see crates/core/src/verified_tokens.rs), expiry, the client, revocation
             and the user, read in one query.

On PostgreSQL each series also gets the CPU of that database's backends per request (see
bench/pgcpu.py). The series run `rounds` times, interleaved, so a disturbance of the machine
shows as a spread. bench/pg_bench.py runs the same series on both stores in one run.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcpu  # noqa: E402

KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSWORD = "Bench-Passw0rd!"
USERS = 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(binary, data, port, database_url=None, env=None, log=None):
    """One `gatehouse serve`, rate limits off, not --dev (admin calls are SigV4-signed)."""
    args = [binary, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
            "--access-key-id", KEY_ID, "--secret-access-key", SECRET,
            "--rate-limit-per-ip", "0", "--rate-limit-per-client", "0"]
    if database_url:
        args += ["--database-url", database_url]
    out = open(log, "ab") if log else subprocess.DEVNULL
    return subprocess.Popen(args, stdout=out, stderr=out, env={**os.environ, **(env or {})})


def wait_ready(port, proc, seconds=30):
    """Until GET /health answers 200 (the database is up)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"server on port {port} not ready in {seconds} s")


def lua_post(path, bodies):
    """A wrk script that POSTs GetUser with the bodies in turn."""
    quoted = ",\n".join("[[" + b + "]]" for b in bodies)
    with open(path, "w") as f:
        f.write(f"""bodies = {{
{quoted}
}}
i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
wrk.headers["X-Amz-Target"] = "AWSCognitoIdentityProviderService.GetUser"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/", nil, bodies[i])
end
""")


def prepare(url, scratch):
    """Pool, client, 100 users with a token each; returns the three series
    [(name, target URL, wrk script or None)]."""
    idp = boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    pool = idp.create_user_pool(PoolName="floor")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="floor",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    tokens = []
    for i in range(USERS):
        name = f"user{i}"
        idp.admin_create_user(UserPoolId=pool, Username=name, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": f"{name}@example.com"}])
        idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD,
                                    Permanent=True)
        tokens.append(idp.initiate_auth(
            ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )["AuthenticationResult"]["AccessToken"])
    real = os.path.join(scratch, "getuser.lua")
    lua_post(real, [f'{{"AccessToken":"{t}"}}' for t in tokens])
    malformed = os.path.join(scratch, "malformed.lua")
    lua_post(malformed, [f'{{"AccessToken":"{"x" * len(tokens[0])}"}}'])
    return [("health", url + "health", None), ("malformed", url, malformed),
            ("getuser", url, real)]


def run_series(pid, url, script, seconds, pg=None):
    """wrk for `seconds`; returns a dict: requests, server user/system CPU, non-2xx line, and
    with `pg` (postmaster pid, database) the PostgreSQL CPU (pgcpu.PgMeter figures)."""
    args = ["wrk", "-t1", "-c32", f"-d{seconds}s", url]
    if script:
        args[1:1] = ["-s", script]
    meter = pgcpu.PgMeter(*pg).start() if pg else None
    window = pgcpu.Window().start()
    s0 = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    s1 = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    win = window.stop()
    pgd = meter.stop() if meter else None
    requests = next(int(line.split()[0]) for line in out.splitlines() if "requests in" in line)
    non_200 = next((line.strip() for line in out.splitlines() if "Non-2xx" in line), "")
    user = (int(s1[11]) - int(s0[11])) / pgcpu.TICK
    system = (int(s1[12]) - int(s0[12])) / pgcpu.TICK
    return {"requests": requests, "user": user, "system": system, "non_200": non_200,
            "pg": pgd, "window": win}


def print_header(pg):
    extra = f" {'PG CPU µs/req':>14}" if pg else ""
    print(f"{'series':<10} {'req/s':>9} {'server CPU µs/req':>18} {'user':>7} {'system':>7}"
          f"{extra}")


def print_row(name, r, seconds):
    n = r["requests"]
    per = lambda s: s / n * 1e6  # noqa: E731
    note = f"  ({r['non_200']})" if r["non_200"] and name != "malformed" else ""
    extra = f" {per(r['pg']['ours'] + r['pg']['background']):>14.1f}" if r["pg"] else ""
    print(f"{name:<10} {n / seconds:>9,.0f} {per(r['user'] + r['system']):>18.1f} "
          f"{per(r['user']):>7.1f} {per(r['system']):>7.1f}{extra}{note}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default="target/release/gatehouse")
    ap.add_argument("seconds", nargs="?", type=int, default=5)
    ap.add_argument("rounds", nargs="?", type=int, default=2)
    ap.add_argument("--database-url", help="postgres://… of an existing, empty database")
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("getuser_floor: needs wrk (apt-get install wrk)")
    data = tempfile.mkdtemp(prefix="gatehouse-floor-")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    pg = None
    if a.database_url:
        base, db = a.database_url.rsplit("/", 1)
        pg = (pgcpu.postmaster_pid(a.database_url), db.split("?")[0])
    proc = start_server(a.binary, data, port, a.database_url)
    try:
        wait_ready(port, proc)
        series = prepare(url, data)
        store = "PostgreSQL" if pg else "SQLite"
        print(f"{a.binary} on {store}: wrk -t1 -c32, {a.seconds} s per series, {a.rounds} rounds")
        print_header(pg)
        for _ in range(a.rounds):
            for name, target, script in series:
                print_row(name, run_series(proc.pid, target, script, a.seconds, pg), a.seconds)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
