#!/usr/bin/env python3
"""ListUsers and AdminGetUser latency over a pool of 10,000 users (a benchmark, not a test).

Usage: python3 bench/users_bench.py [path/to/gatehouse] [users]

Starts the server (--dev, temporary data dir), creates the users (AdminCreateUser with an email,
SUPPRESS), then measures from one keep-alive connection:
  - ListUsers with Filter `email ^= "<prefix>"` (prefixes matching about ten users each),
  - AdminGetUser of random users,
and prints p50/p99 in milliseconds (goal from the users issue: p99 under 10 ms). It also pages
through ListUsers (Limit 60) and checks that every user comes back exactly once.
"""

import http.client
import json
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gatehouse"
USERS = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000


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


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p))]


def timed(f, n):
    out = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main():
    data = tempfile.mkdtemp(prefix="gatehouse-bench-")
    port = free_port()
    proc = subprocess.Popen([BIN, "--dev", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        api = Api(port)
        pool = api.call("CreateUserPool", {"PoolName": "bench"})["UserPool"]["Id"]
        t = time.perf_counter()
        for i in range(USERS):
            api.call("AdminCreateUser", {"UserPoolId": pool, "Username": f"user{i:05d}", "MessageAction": "SUPPRESS",
                                         "UserAttributes": [{"Name": "email", "Value": f"user{i:05d}@example.com"}]})
        print(f"created {USERS} users in {time.perf_counter() - t:.1f} s")

        prefixes = [f"user{random.randrange(USERS // 10):04d}" for _ in range(1000)]
        it = iter(prefixes)
        lat = timed(lambda: api.call("ListUsers", {"UserPoolId": pool, "Filter": f'email ^= "{next(it)}"'}), 1000)
        print(f"ListUsers email ^= prefix (~10 matches): p50 {pct(lat, .5):.2f} ms, p99 {pct(lat, .99):.2f} ms (goal p99 < 10)")
        names = [f"user{random.randrange(USERS):05d}" for _ in range(2000)]
        it = iter(names)
        lat = timed(lambda: api.call("AdminGetUser", {"UserPoolId": pool, "Username": next(it)}), 2000)
        print(f"AdminGetUser: p50 {pct(lat, .5):.2f} ms, p99 {pct(lat, .99):.2f} ms (goal p99 < 10)")

        seen, token, pages, page_lat = [], None, 0, []
        while True:
            body = {"UserPoolId": pool, "Limit": 60}
            if token:
                body["PaginationToken"] = token
            t = time.perf_counter()
            page = api.call("ListUsers", body)
            page_lat.append((time.perf_counter() - t) * 1000)
            pages += 1
            seen += [u["Username"] for u in page["Users"]]
            token = page.get("PaginationToken")
            if not token:
                break
        ok = sorted(seen) == [f"user{i:05d}" for i in range(USERS)]
        print(f"ListUsers paging (Limit 60): {pages} pages, p50 {statistics.median(page_lat):.2f} ms, "
              f"p99 {pct(page_lat, .99):.2f} ms; every user exactly once: {ok}")
        if not ok:
            sys.exit(1)
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
