#!/usr/bin/env python3
"""What managed login's back channel costs the server (a benchmark, not a test): authorization-code
grants and client-credentials grants at /oauth2/token, and userInfo, each with the server's CPU
per request next to the HTTP floor (GET /health) measured in the same run.

Usage: python3 bench/oauth_bench.py [path/to/gatehouse] [--codes 3000] [--seconds 5]
       (default binary: target/release/gatehouse; SQLite in a temporary data dir)
Needs boto3 and requests (tests/python/requirements.txt) and wrk (Debian's wrk).

One server (rate limits off), a pool with a domain, a resource server, a public client (code +
PKCE) and a confidential one (client_credentials), and one user. Series:

  health       GET /health (wrk -t1 -c32): the HTTP floor.
  client-cred  POST /oauth2/token grant_type=client_credentials with Basic auth (wrk): client
               authentication (constant-time secret compare), scopes, one RS256 signature.
  userinfo     GET /oauth2/userInfo with one access token (wrk): the token's signature (checked
               once per token and process), its session and user in one query, the claims.
  code-grant   POST /oauth2/token grant_type=authorization_code with PKCE, one fresh code per
               request (codes made beforehand by `--codes` hosted sign-ins; 16 Python threads with
               keep-alive connections): the code taken from the store, the session's refresh
               secret replaced, two RS256 signatures.

Zitadel publishes (docs: "Benchmarks", v2.65): client credentials 424 req/s and userinfo 2,653
req/s on 2 to 7 nodes of 6 vCPU each. Compare per core: a figure here is for at most the
machine's cores, and the server CPU per request says what one core sustains (1 / CPU).
"""

import argparse
import base64
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import urllib.parse

import boto3
import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import getuser_floor as floor  # noqa: E402
import pgcpu  # noqa: E402

CALLBACK = "https://app.example/callback"


def cpu_of(pid):
    s = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(s[11]) + int(s[12])) / pgcpu.TICK


def prepare(url):
    idp = boto3.client("cognito-idp", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=floor.KEY_ID, aws_secret_access_key=floor.SECRET)
    pool = idp.create_user_pool(PoolName="oauth-bench")["UserPool"]["Id"]
    idp.create_user_pool_domain(Domain="oauth-bench", UserPoolId=pool)
    idp.create_resource_server(UserPoolId=pool, Identifier="https://api.example", Name="api",
                               Scopes=[{"ScopeName": "read", "ScopeDescription": "read"}])
    public = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="spa", AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["code"], AllowedOAuthScopes=["openid", "email"],
        CallbackURLs=[CALLBACK])["UserPoolClient"]["ClientId"]
    m2m = idp.create_user_pool_client(
        UserPoolId=pool, ClientName="m2m", GenerateSecret=True, AllowedOAuthFlowsUserPoolClient=True,
        AllowedOAuthFlows=["client_credentials"],
        AllowedOAuthScopes=["https://api.example/read"])["UserPoolClient"]
    idp.admin_create_user(UserPoolId=pool, Username="alice", MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": "alice@example.com"}])
    idp.admin_set_user_password(UserPoolId=pool, Username="alice", Password=floor.PASSWORD, Permanent=True)
    return pool, public, (m2m["ClientId"], m2m["ClientSecret"])


def make_codes(url, client_id, n):
    """n codes through the hosted sign-in page, with their PKCE verifiers."""
    http = requests.Session()
    page = http.get(f"{url}login", params={"response_type": "code", "client_id": client_id,
                                           "redirect_uri": CALLBACK, "code_challenge": "x" * 43,
                                           "code_challenge_method": "S256"})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    out = []
    for _ in range(n):
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        q = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": CALLBACK,
                                    "scope": "openid email", "code_challenge": challenge,
                                    "code_challenge_method": "S256"})
        r = http.post(f"{url}login?{q}", data={"csrf": csrf, "username": "alice", "password": floor.PASSWORD},
                      allow_redirects=False)
        loc = r.headers.get("Location", "")
        code = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)["code"][0]
        out.append((code, verifier))
    return out


def code_grants(port, pid, client_id, codes, threads=16):
    """Redeems every code once; returns (successes, wall seconds, server CPU seconds)."""
    chunks = [codes[i::threads] for i in range(threads)]
    ok = [0] * threads

    def work(i):
        conn = http.client.HTTPConnection("127.0.0.1", port)
        for code, verifier in chunks[i]:
            body = urllib.parse.urlencode({"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": CALLBACK, "code_verifier": verifier,
                                           "client_id": client_id})
            conn.request("POST", "/oauth2/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            r.read()
            ok[i] += r.status == 200

    c0, t0 = cpu_of(pid), time.monotonic()
    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return sum(ok), time.monotonic() - t0, cpu_of(pid) - c0


def lua(path, method, path_q, headers, body=None):
    hs = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items())
    with open(path, "w") as f:
        f.write(f'wrk.method = "{method}"\nwrk.path = "{path_q}"\n{hs}\n')
        if body:
            f.write(f'wrk.body = "{body}"\n')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary", nargs="?", default="target/release/gatehouse")
    ap.add_argument("--codes", type=int, default=3000)
    ap.add_argument("--seconds", type=int, default=5)
    a = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("oauth_bench: needs wrk (apt-get install wrk)")
    data = tempfile.mkdtemp(prefix="gatehouse-oauth-bench-")
    port = floor.free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = floor.start_server(a.binary, data, port)
    try:
        floor.wait_ready(port, proc)
        pool, public, (m2m_id, m2m_secret) = prepare(url)
        basic = base64.b64encode(f"{m2m_id}:{m2m_secret}".encode()).decode()
        cc = os.path.join(data, "cc.lua")
        lua(cc, "POST", "/oauth2/token", {"Content-Type": "application/x-www-form-urlencoded",
                                          "Authorization": f"Basic {basic}"},
            "grant_type=client_credentials&scope=https%3A%2F%2Fapi.example%2Fread")
        codes = make_codes(url, public, a.codes + 1)
        # One code for the userInfo token.
        code, verifier = codes.pop()
        token = requests.post(f"{url}oauth2/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "code_verifier": verifier, "client_id": public}).json()["access_token"]
        ui = os.path.join(data, "userinfo.lua")
        lua(ui, "GET", "/oauth2/userInfo", {"Authorization": f"Bearer {token}"})
        print(f"{a.binary} on SQLite, {os.cpu_count()} cores; wrk -t1 -c32 {a.seconds} s per series; "
              f"{len(codes)} code grants from 16 threads")
        print(f"{'series':<12} {'req/s':>9} {'server CPU µs/req':>18} {'× floor':>8} {'req/s per core (1/CPU)':>23}")
        rows = []
        for name, target, script in [("health", url + "health", None), ("client-cred", url, cc),
                                     ("userinfo", url, ui)]:
            r = floor.run_series(proc.pid, target, script, a.seconds)
            if r["non_200"]:
                print(f"  {name}: {r['non_200']}")
            rows.append((name, r["requests"] / a.seconds, (r["user"] + r["system"]) / r["requests"]))
        ok, wall, cpu = code_grants(port, proc.pid, public, codes)
        if ok != len(codes):
            print(f"  code-grant: {len(codes) - ok} of {len(codes)} refused")
        rows.append(("code-grant", ok / wall, cpu / max(ok, 1)))
        base = rows[0][2]
        for name, rate, per in rows:
            print(f"{name:<12} {rate:>9,.0f} {per * 1e6:>18.1f} {per / base:>8.1f} {1 / per:>23,.0f}")
        print("Zitadel (published): client credentials 424 req/s, userinfo 2,653 req/s, on 2-7 nodes of 6 vCPU")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
