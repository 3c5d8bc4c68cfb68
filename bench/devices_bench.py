#!/usr/bin/env python3
"""ListDevices and AdminListDevices latency with 1,000,000 devices in the store (a benchmark, not
a test).

Usage: python3 bench/devices_bench.py [path/to/gatehouse] [users] [devices-per-user]
       (defaults: target/release/gatehouse, 1000 users, 1000 devices each = 1,000,000 devices)
Needs boto3 and pycognito (tests/python/requirements.txt).

1. Starts the server (temporary data dir, admin credentials, rate limits off) with a pool that
   always remembers devices, creates the users, and gives user 0 one real device: pycognito SRP
   sign-in, ConfirmDevice with pycognito's generate_hash_device, then a device-SRP sign-in.
2. Stops the server and seeds the other devices straight into its SQLite file, copying the real
   device's record (a million sign-ins would take hours; the rows are what the server would
   have written).
3. Restarts the server and measures from one keep-alive connection, from sending a request to
   the last byte of its answer (and, from the server's log, its own time per request): ListDevices (Limit 60, the
   user's access token) and AdminListDevices (Limit 60, SigV4-signed before the clock starts)
   of random users, first pages and pages reached with a PaginationToken; p50 / p99 / max in
   milliseconds (goal from the devices issue: p99 under 2 ms). It also pages through user 0's
   devices and checks every one comes back exactly once.
"""

import http.client
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from pycognito.aws_srp import AWSSRP, generate_hash_device

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gatehouse"
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
PER_USER = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
KEY_ID, SECRET = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
PASSWORD = "Bench-Passw0rd!"
SAMPLES = 2000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(data, port, log=subprocess.DEVNULL):
    proc = subprocess.Popen(
        [BIN, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
         "--access-key-id", KEY_ID, "--secret-access-key", SECRET,
         "--rate-limit-per-ip", "0", "--rate-limit-per-client", "0"],
        stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def stop(proc):
    proc.terminate()
    proc.wait()


class Api:
    """One keep-alive connection; admin bodies are SigV4-signed by `prepare` (untimed)."""

    def __init__(self, port):
        self.url = f"http://127.0.0.1:{port}/"
        self.conn = http.client.HTTPConnection("127.0.0.1", port)
        self.creds = Credentials(KEY_ID, SECRET)

    def prepare(self, op, body, signed):
        data = json.dumps(body)
        headers = {"Content-Type": "application/x-amz-json-1.1",
                   "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"}
        if signed:
            req = AWSRequest(method="POST", url=self.url, data=data, headers=headers)
            SigV4Auth(self.creds, "cognito-idp", REGION).add_auth(req)
            headers = dict(req.headers.items())
        return op, data, headers

    def send(self, prepared):
        return self.timed(prepared)[0]

    def timed(self, prepared):
        """The answer, and the milliseconds from sending the request to its last byte (decoding
        the JSON afterwards is the client's business, not the server's latency)."""
        op, data, headers = prepared
        t = time.perf_counter()
        self.conn.request("POST", "/", data, headers)
        r = self.conn.getresponse()
        body = r.read()
        elapsed = (time.perf_counter() - t) * 1000
        out = json.loads(body or b"{}")
        if r.status != 200:
            raise RuntimeError(f"{op}: {out}")
        return out, elapsed


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def report(name, lat):
    print(f"  {name:<56} p50 {pct(lat, .5):.2f} ms  p99 {pct(lat, .99):.2f} ms  "
          f"max {max(lat):.2f} ms  ({len(lat)} requests; goal p99 < 2 ms)")


def server_times(log_path, op):
    """The server's own time per request (its `answered ... micros=` log lines), in ms."""
    out = []
    with open(log_path, errors="replace") as f:
        for line in f:
            if f"operation={op}}}" in line or f"operation={op} " in line:
                m = re.search(r"answered status=200 micros=(\d+)", line)
                if m:
                    out.append(int(m.group(1)) / 1000)
    return out


def set_up(port):
    c = boto3.client("cognito-idp", endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION,
                     aws_access_key_id=KEY_ID, aws_secret_access_key=SECRET)
    pool = c.create_user_pool(PoolName="devices-bench", DeviceConfiguration={
        "ChallengeRequiredOnNewDevice": False, "DeviceOnlyRememberedOnUserPrompt": False})["UserPool"]["Id"]
    client_id = c.create_user_pool_client(UserPoolId=pool, ClientName="bench",
                                          ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
                                          )["UserPoolClient"]["ClientId"]
    t = time.perf_counter()
    for i in range(USERS):
        c.admin_create_user(UserPoolId=pool, Username=f"user{i:05d}", MessageAction="SUPPRESS")
    c.admin_set_user_password(UserPoolId=pool, Username="user00000", Password=PASSWORD, Permanent=True)
    print(f"set-up: {USERS} users in {time.perf_counter() - t:.1f} s")
    first = AWSSRP(username="user00000", password=PASSWORD, pool_id=pool, client_id=client_id,
                   client=c).authenticate_user()["AuthenticationResult"]
    meta = first["NewDeviceMetadata"]
    device_password, config = generate_hash_device(meta["DeviceGroupKey"], meta["DeviceKey"])
    c.confirm_device(AccessToken=first["AccessToken"], DeviceKey=meta["DeviceKey"],
                     DeviceSecretVerifierConfig=config, DeviceName="bench-laptop")
    signed_in = AWSSRP(username="user00000", password=PASSWORD, pool_id=pool, client_id=client_id, client=c,
                       device_key=meta["DeviceKey"], device_group_key=meta["DeviceGroupKey"],
                       device_password=device_password).authenticate_user()["AuthenticationResult"]
    assert "NewDeviceMetadata" not in signed_in, "the device sign-in should not issue a new key"
    return pool, meta["DeviceKey"], signed_in["RefreshToken"], client_id


def seed(data, pool, real_key):
    db = sqlite3.connect(os.path.join(data, "gatehouse.db"))
    doc = json.loads(db.execute("SELECT doc FROM devices WHERE pool_id = ? AND device_key = ?",
                                (pool, real_key)).fetchone()[0])
    t = time.perf_counter()
    rows = 0
    with db:
        for i in range(USERS):
            user = f"user{i:05d}"
            batch = []
            for _ in range(PER_USER - (1 if i == 0 else 0)):
                key = f"{REGION}_{uuid.uuid4()}"
                d = dict(doc, device_key=key, username_key=user, name=f"device of {user}")
                batch.append((pool, key, user, "remembered", None, d["version"], json.dumps(d)))
            db.executemany("INSERT INTO devices (pool_id, device_key, username_key, status, expires_at, "
                           "version, doc) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
            rows += len(batch)
    db.execute("ANALYZE")
    total = db.execute("SELECT count(*) FROM devices").fetchone()[0]
    db.close()
    print(f"seeded {rows} devices in {time.perf_counter() - t:.1f} s; devices in the store: {total}")
    return total


def main():
    data = tempfile.mkdtemp(prefix="gatehouse-devices-bench-")
    port = free_port()
    proc = start(data, port)
    try:
        pool, real_key, refresh, client_id = set_up(port)
        stop(proc)
        seed(data, pool, real_key)
        log_path = os.path.join(data, "server.log")
        proc = start(data, port, open(log_path, "ab"))
        api = Api(port)
        access = api.send(api.prepare("InitiateAuth", {
            "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client_id,
            "AuthParameters": {"REFRESH_TOKEN": refresh, "DEVICE_KEY": real_key}}, False)
        )["AuthenticationResult"]["AccessToken"]

        # Warm the connection and the caches.
        for _ in range(50):
            api.send(api.prepare("ListDevices", {"AccessToken": access, "Limit": 60}, False))
        print(f"with {USERS * PER_USER:,} devices in the store ({USERS} users, {PER_USER} each):")

        lat = []
        for _ in range(SAMPLES):
            p = api.prepare("ListDevices", {"AccessToken": access, "Limit": 60}, False)
            page, ms = api.timed(p)
            lat.append(ms)
            assert len(page["Devices"]) == 60
        report("ListDevices, first page of 60 (access token)", lat)

        seen, token, lat = [], None, []
        while True:
            body = {"AccessToken": access, "Limit": 60}
            if token:
                body["PaginationToken"] = token
            p = api.prepare("ListDevices", body, False)
            page, ms = api.timed(p)
            lat.append(ms)
            seen += [d["DeviceKey"] for d in page["Devices"]]
            token = page.get("PaginationToken")
            if not token:
                break
        once = len(seen) == len(set(seen)) == PER_USER and real_key in seen
        report(f"ListDevices, all {len(lat)} pages of user00000", lat)
        print(f"  every device of user00000 exactly once: {once}")

        lat, tokens = [], []
        for _ in range(SAMPLES):
            body = {"UserPoolId": pool, "Username": f"user{random.randrange(USERS):05d}", "Limit": 60}
            p = api.prepare("AdminListDevices", body, True)
            page, ms = api.timed(p)
            lat.append(ms)
            assert len(page["Devices"]) == min(60, PER_USER)
            if page.get("PaginationToken"):
                tokens.append((body["Username"], page["PaginationToken"]))
        report("AdminListDevices, first page of 60 (SigV4), random users", lat)
        lat = []
        for user, token in tokens:
            p = api.prepare("AdminListDevices", {"UserPoolId": pool, "Username": user, "Limit": 60,
                                                 "PaginationToken": token}, True)
            lat.append(api.timed(p)[1])
        if lat:
            report("AdminListDevices, second page (PaginationToken)", lat)
        stop(proc)
        print("the server's own time per request (from its log, same requests):")
        for op in ("ListDevices", "AdminListDevices"):
            report(op, server_times(log_path, op))
        if not once:
            sys.exit(1)
    finally:
        stop(proc)
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
