#!/usr/bin/env python3
"""Measures Gatehouse's start-up time and idle memory (a measurement, not a test).

Usage: python3 bench/startup_memory.py [path/to/gatehouse] [runs]

For each run: start the server on an existing database (one pool, one app client, 1,000 users
created beforehand), time from process spawn to the first answered request (GET /health, polled
every 0.5 ms), then let it idle for a second and read its resident memory (VmRSS). Prints every
run and the median. Goals from the foundation issue: under 200 ms and under 30 MB.
"""

import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/gatehouse"
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 10


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answered(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.05) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def call(port, op, body):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/", data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": f"AWSCognitoIdentityProviderService.{op}"})
    with urllib.request.urlopen(req) as r:
        return json.load(r)


def start(data, port):
    return subprocess.Popen([BIN, "--dev", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main():
    data = tempfile.mkdtemp(prefix="gatehouse-startup-")
    try:
        port = free_port()
        p = start(data, port)
        while not answered(port):
            time.sleep(0.01)
        pool = call(port, "CreateUserPool", {"PoolName": "startup"})["UserPool"]["Id"]
        call(port, "CreateUserPoolClient", {"UserPoolId": pool, "ClientName": "app"})
        for i in range(1000):
            call(port, "AdminCreateUser", {"UserPoolId": pool, "Username": f"user{i}", "MessageAction": "SUPPRESS"})
        p.terminate()
        p.wait()
        times, mems = [], []
        for run in range(RUNS):
            port = free_port()
            t0 = time.perf_counter()
            p = start(data, port)
            while not answered(port):
                time.sleep(0.0005)
            ms = (time.perf_counter() - t0) * 1000
            time.sleep(1.0)
            mb = rss_mb(p.pid)
            p.terminate()
            p.wait()
            times.append(ms)
            mems.append(mb)
            print(f"run {run + 1}: first answer after {ms:.1f} ms, idle RSS {mb:.1f} MB")
        print(f"median: start-up {statistics.median(times):.1f} ms (goal < 200), idle RSS {statistics.median(mems):.1f} MB (goal < 30)")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
