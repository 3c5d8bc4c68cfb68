#!/usr/bin/env python3
"""`gatehouse import-users` over a million rows (a benchmark, not a test).

Usage: python3 bench/import_bench.py [path/to/gatehouse] [rows] [--database-url postgres://...]

Starts the server (--dev, a temporary data dir; or on a fresh PostgreSQL database when
--database-url names a server: a database of its own is created and dropped), creates a pool
whose email is auto-verified, stops the server, writes a CSV of `rows` users (username, email,
email_verified, name; one row in 1,000 refused by Cognito's rules, one in 1,000 a repeated
username), and times `gatehouse import-users` on it. Prints rows per second, wall and CPU time
(user + system of the import process), its peak memory, and the counts it reported, which must
add up to the rows written. The API's own job (CreateUserImportJob ... StartUserImportJob) runs
the same row code under a 500,000-row limit.
"""

import http.client
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

args = [a for a in sys.argv[1:] if not a.startswith("--")]
BIN = args[0] if args else "target/release/gatehouse"
ROWS = int(args[1]) if len(args) > 1 else 1_000_000
PG = next((sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--database-url"), None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, op, body):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("POST", "/", json.dumps(body), {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"})
    r = conn.getresponse()
    data = json.loads(r.read())
    if r.status != 200:
        raise RuntimeError(f"{op}: {data}")
    return data


def store_args(data_dir, database_url):
    return ["--data-dir", data_dir] + (["--database-url", database_url] if database_url else [])


def main():
    work = tempfile.mkdtemp(prefix="gatehouse-import-bench-")
    database_url, drop = None, None
    if PG:
        name = f"gh_import_bench_{os.getpid()}"
        subprocess.run(["psql", PG, "-qc", f"CREATE DATABASE {name}"], check=True)
        database_url = PG.rsplit("/", 1)[0] + "/" + name
        drop = lambda: subprocess.run(["psql", PG, "-qc", f"DROP DATABASE {name} WITH (FORCE)"])  # noqa: E731
    try:
        data_dir = os.path.join(work, "data")
        port = free_port()
        server = subprocess.Popen([BIN, "serve", "--dev", "--listen", f"127.0.0.1:{port}",
                                   *store_args(data_dir, database_url)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while True:
            try:
                pool = call(port, "CreateUserPool", {"PoolName": "import-bench",
                                                     "AutoVerifiedAttributes": ["email"]})["UserPool"]["Id"]
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.05)
        server.terminate()
        server.wait(timeout=30)

        csv_path = os.path.join(work, "users.csv")
        with open(csv_path, "w") as f:
            f.write("cognito:username,email,email_verified,name\n")
            for i in range(ROWS):
                if i % 1000 == 999:
                    f.write(f"refused{i},refused{i}@example.com,false,Refused {i}\n")  # no verified attribute
                elif i % 1000 == 998:
                    f.write("user000000,again@example.com,true,Again\n")  # a username already taken
                else:
                    f.write(f"user{i:06d},user{i}@example.com,true,User {i}\n")
        size = os.path.getsize(csv_path)

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run([BIN, "import-users", "--pool", pool, *store_args(data_dir, database_url), csv_path],
                              capture_output=True, text=True, env={**os.environ, "GATEHOUSE_LOG": "warn"})
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        summary = json.loads(done.stdout)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        counted = summary["ImportedUsers"] + summary["SkippedUsers"] + summary["FailedUsers"]
        assert counted == ROWS, (counted, ROWS)
        print(f"store: {'PostgreSQL' if PG else 'SQLite'}; file: {ROWS:,} rows, {size / 1e6:.1f} MB")
        print(f"imported {summary['ImportedUsers']:,}, skipped {summary['SkippedUsers']:,}, "
              f"failed {summary['FailedUsers']:,}")
        print(f"wall {wall:.1f} s, {ROWS / wall:,.0f} rows/s; import-users CPU {cpu:.1f} s "
              f"({cpu / ROWS * 1e6:.0f} µs per row); peak RSS {after.ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if drop:
            drop()


if __name__ == "__main__":
    main()
