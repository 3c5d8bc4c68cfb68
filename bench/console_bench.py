#!/usr/bin/env python3
"""Console page times with 100,000 users in a pool (a benchmark, not a test).

Usage: python3 bench/console_bench.py [path/to/gatehouse] [users]

Starts the server (--dev, so the console opens without sign-in; temporary data dir), creates the
users (AdminCreateUser with an email, SUPPRESS, from four connections), then requests each console
page 200 times from one keep-alive connection and prints p50/p99 in milliseconds, beside /health
(the HTTP floor) from the same run. The goal (console issue): every page under 50 ms server-side;
these times include the HTTP round trip, so they bound the server's time from above.
"""

import html
import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gatehouse"
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
SEEDERS = 4
RUNS = 200


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port)

    def call(self, op, body):
        self.conn.request("POST", "/", json.dumps(body), {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"})
        r = self.conn.getresponse()
        data = json.loads(r.read())
        if r.status != 200:
            raise RuntimeError(f"{op}: {data}")
        return data

    def get(self, path):
        self.conn.request("GET", path)
        r = self.conn.getresponse()
        body = r.read().decode()
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {body[:300]}")
        return body


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def timed(api, path):
    out = []
    for _ in range(RUNS):
        t = time.perf_counter()
        api.get(path)
        out.append((time.perf_counter() - t) * 1000)
    return pct(out, 0.5), pct(out, 0.99)


def seed(port, pool_id, start, stop):
    api = Api(port)
    for i in range(start, stop):
        api.call("AdminCreateUser", {
            "UserPoolId": pool_id, "Username": f"user{i:06d}", "MessageAction": "SUPPRESS",
            "UserAttributes": [{"Name": "email", "Value": f"user{i:06d}@example.com"}]})


def main():
    data = tempfile.mkdtemp(prefix="gh-console-bench-")
    port = free_port()
    server = subprocess.Popen(
        [BIN, "--dev", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        api = Api(port)
        pool_id = api.call("CreateUserPool", {
            "PoolName": "bench",
            "DeviceConfiguration": {"ChallengeRequiredOnNewDevice": False,
                                    "DeviceOnlyRememberedOnUserPrompt": False}})["UserPool"]["Id"]
        t = time.perf_counter()
        share = USERS // SEEDERS
        threads = [threading.Thread(target=seed, args=(port, pool_id, k * share,
                                                        USERS if k == SEEDERS - 1 else (k + 1) * share))
                   for k in range(SEEDERS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        print(f"created {USERS} users in {time.perf_counter() - t:.1f} s")
        api = Api(port)  # the first connection sat idle while the users were made: the server closed it

        users = f"/console/pools/{pool_id}/users"
        # A page deep in the list: follow the "Next page" links (up to 50 times).
        deep, depth = users, 1
        while depth <= 50:
            link = re.search(r'href="([^"]*[?&](?:amp;)?next=[^"]*)"', api.get(deep))
            if not link:
                break
            deep, depth = html.unescape(link.group(1)), depth + 1
        middle = f"user{USERS // 2:06d}"
        pages = [
            ("/health (HTTP floor)", "/health"),
            ("pools list", "/console/"),
            ("pool page", f"/console/pools/{pool_id}"),
            ("users, first page of 60", users),
            (f"users, page {depth}", deep),
            ("users, username prefix search", f"{users}?q={middle[:-2]}"),
            ("users, email filter", f"{users}?q=" + urllib.parse.quote(f'email ^= "{middle}"')),
            ("a user's page", f"{users}/{middle}"),
        ]
        print(f"{'page':36} {'p50 ms':>8} {'p99 ms':>8}")
        for name, path in pages:
            p50, p99 = timed(api, path)
            print(f"{name:36} {p50:8.2f} {p99:8.2f}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
