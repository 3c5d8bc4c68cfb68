#!/usr/bin/env python3
"""What a sign-in's SQL costs PostgreSQL, statement set by statement set (a diagnostic for
bench/pg_bench.py's "PostgreSQL CPU per login", not a test).

Usage: python3 bench/pg_statements.py [--gatehouse target/release/gatehouse]
           [--loadgen target/release/gatehouse-loadgen] [--seconds 6] [--rounds 3]
           [--postgres postgres://postgres@127.0.0.1:5432]
Needs pgbench (PostgreSQL's, /usr/lib/postgresql/15/bin/pgbench), psql and a release build.

1. A fresh database `gh_bench_<pid>_stmt` is filled the real way: one Gatehouse process makes a
   pool, a client and 200 users and signs them in (gatehouse-loadgen, 1,000 SRP sign-ins), then
   stops. Its table statistics show how the users' counter UPDATEs were done (HOT or not).
2. pgbench (-M prepared: named statements with text parameters, as sqlx sends them; 8 pgbench
   processes at once, each one client signing in its own user, so compare-and-swap conditions
   hold) replays one sign-in's statements as
   Gatehouse sends them today (bench/pg_bench.py lists them from PostgreSQL's log), and variants
   with statements left out or merged. Each "transaction" below is one sign-in; the CPU of the
   database's backends per transaction is read from /proc (bench/pgcpu.py).
   pgbench cannot send sqlx's connection check (a lone Sync before each statement on a pooled
   connection, `test_before_acquire`): a bare protocol connection from this script times it, next
   to a prepared SELECT 1, on the backend's own CPU clock.
"""

import argparse
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import getuser_floor as gf  # noqa: E402
import pgcpu  # noqa: E402

PGBENCH = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"

# Text parameters, as sqlx binds them (an expression here would change PostgreSQL's choice
# between a generic and a per-call plan, and with it the cost): each pgbench process is one
# client signing in one user.
USER = ":uk"
Q = {
    "user": "SELECT pool_id, username_key, username, sub, status, enabled, created_at, version, "
            "failed_sign_ins, locked_until, doc FROM users WHERE pool_id = :pool AND "
            f"username_key = {USER};",
    "counter": "SELECT failed_sign_ins, locked_until FROM users WHERE pool_id = :pool AND "
               f"username_key = {USER};",
    "take": "UPDATE users SET failed_sign_ins = 1, locked_until = NULL WHERE pool_id = :pool AND "
            f"username_key = {USER} AND failed_sign_ins = 0 AND locked_until IS NOT DISTINCT "
            "FROM NULL;",
    "reset": "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE pool_id = :pool AND "
             f"username_key = {USER} AND failed_sign_ins = 1 AND locked_until IS NOT DISTINCT "
             "FROM NULL;",
    "spend": "INSERT INTO spent_auth_states (id, expires_at) VALUES (md5(random()::text), "
             ":exp) ON CONFLICT (id) DO NOTHING;",
    "groups": "SELECT g.doc FROM group_members m JOIN groups g ON g.pool_id = m.pool_id AND "
              "g.name = m.group_name WHERE m.pool_id = :pool AND m.username_key = "
              f"{USER} AND m.group_name > '' ORDER BY m.group_name LIMIT 1000;",
    "session": "INSERT INTO auth_sessions (id, pool_id, username_key, client_id, device_key, "
               "expires_at, revoked_at, version, doc) VALUES (gen_random_uuid()::text, :pool, "
               f"{USER}, :client, NULL, :exp, NULL, 1, :doc);",
    # spend + take in one statement (one commit), reset + session in one statement.
    "spend_take": "WITH s AS (INSERT INTO spent_auth_states (id, expires_at) VALUES "
                  "(md5(random()::text), :exp) ON CONFLICT (id) DO NOTHING) "
                  + "UPDATE users SET failed_sign_ins = 1, locked_until = NULL WHERE pool_id = "
                  f":pool AND username_key = {USER} AND failed_sign_ins = 0 AND locked_until "
                  "IS NOT DISTINCT FROM NULL;",
    "reset_session": "WITH r AS (UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE "
                     f"pool_id = :pool AND username_key = {USER} AND failed_sign_ins = 1) "
                     "INSERT INTO auth_sessions (id, pool_id, username_key, client_id, "
                     "device_key, expires_at, revoked_at, version, doc) VALUES "
                     f"(gen_random_uuid()::text, :pool, {USER}, :client, NULL, :exp, NULL, 1, "
                     ":doc);",
    # The least a correct sign-in can send after InitiateAuth's read: the attempt taken with
    # the user read back (and its groups counted) in one statement, then the SRP state spent,
    # the attempt cleared and the session recorded in another.
    "take_read": "UPDATE users SET failed_sign_ins = 1, locked_until = NULL WHERE pool_id = "
                 f":pool AND username_key = {USER} AND failed_sign_ins = 0 AND locked_until "
                 "IS NOT DISTINCT FROM NULL RETURNING pool_id, username_key, username, sub, "
                 "status, enabled, created_at, version, failed_sign_ins, locked_until, doc, "
                 "(SELECT count(*) FROM group_members m WHERE m.pool_id = users.pool_id AND "
                 "m.username_key = users.username_key);",
    "take_read_async": "WITH a AS (SELECT set_config('synchronous_commit', 'off', true)) "
                       "UPDATE users SET failed_sign_ins = 1, locked_until = NULL WHERE pool_id = "
                       f":pool AND username_key = {USER} AND failed_sign_ins = 0 AND locked_until "
                       "IS NOT DISTINCT FROM NULL AND EXISTS (SELECT 1 FROM a) RETURNING pool_id, "
                       "username_key, username, sub, status, enabled, created_at, version, "
                       "failed_sign_ins, locked_until, doc, (SELECT count(*) FROM group_members m "
                       "WHERE m.pool_id = users.pool_id AND m.username_key = users.username_key);",
    "finish": "WITH s AS (INSERT INTO spent_auth_states (id, expires_at) VALUES "
              "(md5(random()::text), :exp) ON CONFLICT (id) DO NOTHING RETURNING id), "
              "r AS (UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE "
              f"pool_id = :pool AND username_key = {USER} AND failed_sign_ins = 1 AND "
              "EXISTS (SELECT 1 FROM s)) "
              "INSERT INTO auth_sessions (id, pool_id, username_key, client_id, "
              "device_key, expires_at, revoked_at, version, doc) SELECT "
              f"gen_random_uuid()::text, :pool, {USER}, :client, NULL, :exp, NULL, 1, "
              ":doc FROM s;",
}

# One sign-in: InitiateAuth reads the user; RespondToAuthChallenge(PASSWORD_VERIFIER) spends
# the SRP state, reads the user, takes an attempt (read + swap), checks the password, clears
# the attempt (read + swap), reads the groups for the tokens and records the session.
VARIANTS = [
    ("SELECT 1 (one statement, the /health query)", ["SELECT 1;"]),
    ("one statement: user SELECT", ["user"]),
    ("one statement: counter SELECT", ["counter"]),
    ("two statements: counter UPDATEs, take + clear (2 commits)", ["take", "reset"]),
    ("one statement: spent_auth_states INSERT (1 commit)", ["spend"]),
    ("one statement: groups SELECT", ["groups"]),
    ("one statement: auth_sessions INSERT (1 commit)", ["session"]),
    ("as on 2026-12-03, before the counter reads went: 9 statements, 4 commits",
     ["user", "spend", "user", "counter", "take", "counter", "reset", "groups", "session"]),
    ("as today, without the 2 counter reads (the CAS expects the values it knows): 7 statements, 4 commits",
     ["user", "spend", "user", "take", "reset", "groups", "session"]),
    ("... and without the groups read: 6 statements",
     ["user", "spend", "user", "take", "reset", "session"]),
    ("... and writes merged (spend+take, reset+session): 4 statements, 2 commits",
     ["user", "user", "spend_take", "reset_session"]),
    ("the least: 3 statements, 2 commits (read; take + read back; spend + clear + session)",
     ["user", "take_read", "finish"]),
    ("... with the attempt's commit asynchronous (visible at once, flushed by the next commit)",
     ["user", "take_read_async", "finish"]),
    ("as on 2026-12-03, synchronous_commit off (diagnostic only: the share of WAL flushes)",
     ["user", "spend", "user", "counter", "take", "counter", "reset", "groups", "session"],
     "-c synchronous_commit=off"),
]


class Wire:
    """A bare PostgreSQL protocol-3 connection (trust authentication), to time what pgbench
    cannot send: sqlx's connection check, a lone Sync answered by ReadyForQuery."""

    def __init__(self, url):
        rest = url.split("://", 1)[1]
        user, rest = rest.split("@", 1)
        hostport, db = rest.split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.s = socket.create_connection((host, int(port)))
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        body = struct.pack("!I", 196608) + b"".join(
            k.encode() + b"\0" + v.encode() + b"\0"
            for k, v in (("user", user), ("database", db), ("application_name", "pg_statements"))
        ) + b"\0"
        self.s.sendall(struct.pack("!I", len(body) + 4) + body)
        self.buf = b""
        self.pid = None
        while True:
            kind, payload = self.read()
            if kind == b"K":
                self.pid = struct.unpack("!I", payload[:4])[0]
            elif kind == b"E":
                raise RuntimeError(payload)
            elif kind == b"Z":
                return

    def read(self):
        while len(self.buf) < 5 or len(self.buf) < 1 + struct.unpack("!I", self.buf[1:5])[0]:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed")
            self.buf += chunk
        n = struct.unpack("!I", self.buf[1:5])[0]
        kind, payload, self.buf = self.buf[:1], self.buf[5:1 + n], self.buf[1 + n:]
        return kind, payload

    def until_ready(self):
        while self.read()[0] != b"Z":
            pass

    @staticmethod
    def msg(kind, body):
        return kind + struct.pack("!I", len(body) + 4) + body

    def sync(self):
        self.s.sendall(self.msg(b"S", b""))
        self.until_ready()

    def prepare(self, sql):
        self.s.sendall(self.msg(b"P", b"s1\0" + sql.encode() + b"\0" + struct.pack("!H", 0))
                       + self.msg(b"S", b""))
        self.until_ready()

    def execute(self):
        self.s.sendall(self.msg(b"B", b"\0s1\0" + struct.pack("!HHH", 0, 0, 0))
                       + self.msg(b"E", b"\0" + struct.pack("!I", 0)) + self.msg(b"S", b""))
        self.until_ready()


def ping_cost(url, n=20000):
    """Backend CPU (µs) of one Sync round trip and of one prepared SELECT 1, one connection."""
    w = Wire(url)
    w.prepare("SELECT 1")
    out = {}
    for name, f in (("sync", w.sync), ("select1", w.execute), ("sync", w.sync),
                     ("select1", w.execute)):
        c0 = pgcpu.cpu(w.pid)
        for _ in range(n):
            f()
        out.setdefault(name, []).append((pgcpu.cpu(w.pid) - c0) / n * 1e6)
    w.s.close()
    return {k: min(v) for k, v in out.items()}


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gatehouse", default="target/release/gatehouse")
    ap.add_argument("--loadgen", default="target/release/gatehouse-loadgen")
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clients", type=int, default=8)
    a = ap.parse_args()
    db = f"gh_bench_{os.getpid()}_stmt"
    url = f"{a.postgres}/{db}"
    scratch = tempfile.mkdtemp(prefix="gh-pgstmt-")
    psql(f"{a.postgres}/postgres", f"CREATE DATABASE {db}")
    try:
        port = gf.free_port()
        proc = gf.start_server(a.gatehouse, os.path.join(scratch, "data"), port, url,
                               log=os.path.join(scratch, "server.log"))
        try:
            gf.wait_ready(port, proc)
            env = {**os.environ, "AWS_ACCESS_KEY_ID": gf.KEY_ID,
                   "AWS_SECRET_ACCESS_KEY": gf.SECRET}
            subprocess.run([a.loadgen, "--endpoint", f"http://127.0.0.1:{port}", "--users", "200",
                            "--logins", "1000", "--concurrency", "8", "--floor-samples", "11"],
                           env=env, check=True, stdout=subprocess.DEVNULL)
        finally:
            proc.terminate()
            proc.wait()
        upd, hot = psql(url, "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                             "WHERE relname = 'users'").split("|")
        print(f"users' UPDATEs in the real sign-ins: {upd}, of which HOT (no index touched): {hot}")
        pool = psql(url, "SELECT id FROM user_pools LIMIT 1")
        client = psql(url, "SELECT client_id FROM app_clients LIMIT 1")
        doc = psql(url, "SELECT doc FROM auth_sessions LIMIT 1")
        exp = str(int(time.time() * 1000) + 30 * 86400 * 1000)
        psql(url, "UPDATE users SET failed_sign_ins = 0, locked_until = NULL")
        postmaster = pgcpu.postmaster_pid(url)

        ping = ping_cost(url)
        print(f"one connection, 20,000 round trips each (lower of two runs): sqlx's connection "
              f"check (a lone Sync) {ping['sync']:.1f} µs of backend CPU, a prepared SELECT 1 "
              f"(Bind, Execute, Sync) {ping['select1']:.1f} µs")

        scripts = []
        for i, (name, stmts, *options) in enumerate(VARIANTS):
            path = os.path.join(scratch, f"v{i}.sql")
            with open(path, "w") as f:
                f.write("\n".join(Q.get(s, s) for s in stmts) + "\n")
            scripts.append((name, path, options[0] if options else ""))

        print(f"{a.clients} x pgbench -M prepared -c 1 -T {a.seconds}, {a.rounds} rounds; "
              "PostgreSQL CPU of this database's backends + background processes per sign-in "
              "(µs):")
        results = {}
        for r in range(a.rounds):
            for name, path, options in scripts:
                meter = pgcpu.PgMeter(postmaster, db).start()
                runs = [subprocess.Popen(
                    [PGBENCH, "-n", "-M", "prepared", "-c", "1", "-T", str(a.seconds),
                     "-f", path, "-D", f"pool={pool}", "-D", f"uk=user{i:05d}",
                     "-D", f"client={client}", "-D", f"doc={doc}", "-D", f"exp={exp}", url],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                    env={**os.environ, "PGOPTIONS": options}) for i in range(a.clients)]
                outs = [p.communicate() for p in runs]
                d = meter.stop()
                tx = 0
                for p, (out, err) in zip(runs, outs):
                    if p.returncode != 0:
                        sys.exit(f"pgbench failed: {err[-2000:]}")
                    tx += next(int(line.split(":")[1].split()[0]) for line in out.splitlines()
                               if "number of transactions actually processed" in line)
                us = (d["ours"] + d["background"]) / tx * 1e6
                results.setdefault(name, []).append(us)
                print(f"  round {r + 1}: {us:8.1f} µs  {tx / a.seconds:8.0f} tx/s  {name}")
        print("median per sign-in:")
        for name, _, _ in scripts:
            v = sorted(results[name])
            print(f"  {(v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2:8.1f} µs  {name}")
    finally:
        psql(f"{a.postgres}/postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
