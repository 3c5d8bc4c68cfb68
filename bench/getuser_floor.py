#!/usr/bin/env python3
"""What a GetUser costs the server, next to what answering any HTTP request costs it (a
benchmark, not a test).

Usage: python3 bench/getuser_floor.py [path/to/gatehouse] [seconds-per-series] [rounds]
       (defaults: target/release/gatehouse, 5 s, 2 rounds)
Needs boto3 (tests/python/requirements.txt) and wrk (Debian's wrk).

Starts one server (temporary data dir, rate limits off), makes a pool, an app client and 100
users, signs each in once for an access token, then drives the server with wrk (one thread, 32
keep-alive connections) through three series, reading the server's CPU time (user + system,
from /proc/PID/stat) around each:

  health     GET /health: the HTTP floor (hyper, axum, CORS, tracing), no body and no store.
  malformed  POST GetUser whose AccessToken is as long as a real one but not a JWT: the request
             floor (the JSON body, validation against the model, an error answer), still no
             store and no signature.
  getuser    POST GetUser with the 100 real tokens in turn: the signature (checked once per token
             and process, see crates/core/src/verified_tokens.rs), expiry, the client, revocation
             and the user, read in one query.

The series run `rounds` times, interleaved, so a disturbance of the machine shows as a spread.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import boto3

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gatehouse"
SECONDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 2
KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PASSWORD = "Bench-Passw0rd!"
USERS = 100
TICK = os.sysconf("SC_CLK_TCK")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu(pid):
    """(user, system) CPU seconds of the process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / TICK, int(fields[12]) / TICK


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


def run_series(pid, url, script):
    args = ["wrk", "-t1", "-c32", f"-d{SECONDS}s", url]
    if script:
        args[1:1] = ["-s", script]
    u0, s0 = cpu(pid)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    u1, s1 = cpu(pid)
    requests = next(int(line.split()[0]) for line in out.splitlines() if "requests in" in line)
    non_200 = next((line.strip() for line in out.splitlines() if "Non-2xx" in line), "")
    return requests, u1 - u0, s1 - s0, non_200


def main():
    if not shutil.which("wrk"):
        sys.exit("getuser_floor: needs wrk (apt-get install wrk)")
    data = tempfile.mkdtemp(prefix="gatehouse-floor-")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen(
        [BIN, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
         "--access-key-id", KEY_ID, "--secret-access-key", SECRET,
         "--rate-limit-per-ip", "0", "--rate-limit-per-client", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
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
                                  UserAttributes=[{"Name": "email",
                                                   "Value": f"{name}@example.com"}])
            idp.admin_set_user_password(UserPoolId=pool, Username=name, Password=PASSWORD,
                                        Permanent=True)
            tokens.append(idp.initiate_auth(
                ClientId=client, AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
            )["AuthenticationResult"]["AccessToken"])
        real = os.path.join(data, "getuser.lua")
        lua_post(real, [f'{{"AccessToken":"{t}"}}' for t in tokens])
        malformed = os.path.join(data, "malformed.lua")
        lua_post(malformed, [f'{{"AccessToken":"{"x" * len(tokens[0])}"}}'])
        series = [("health", url + "health", None), ("malformed", url, malformed),
                  ("getuser", url, real)]
        print(f"{BIN}: wrk -t1 -c32, {SECONDS} s per series, {ROUNDS} rounds")
        print(f"{'series':<10} {'req/s':>9} {'server CPU µs/req':>18} {'user':>7} {'system':>7}")
        for _ in range(ROUNDS):
            for name, target, script in series:
                n, user, system, non_200 = run_series(proc.pid, target, script)
                per = lambda s: s / n * 1e6
                note = f"  ({non_200})" if non_200 and name != "malformed" else ""
                print(f"{name:<10} {n / SECONDS:>9,.0f} {per(user + system):>18.1f} "
                      f"{per(user):>7.1f} {per(system):>7.1f}{note}")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
