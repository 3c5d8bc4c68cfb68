#!/usr/bin/env python3
"""SRP sign-ins on SQLite, on PostgreSQL and on two processes sharing PostgreSQL, in one run:
Gatehouse's CPU per login against the crypto floor, PostgreSQL's own CPU per login, the SQL
statements of a login, and GetUser's CPU next to /health on both stores (a benchmark, not a
test).

Usage: python3 bench/pg_bench.py [--gatehouse target/release/gatehouse]
           [--loadgen target/release/gatehouse-loadgen] [--logins 5000] [--users 200]
           [--concurrency 16] [--count-logins 300] [--getuser-seconds 5] [--getuser-rounds 2]
           [--postgres postgres://postgres@127.0.0.1:5432] [--pg-log PATH] [--setups sqlite,pg1,pg2]
Needs: a release build (`cargo build --release -p gatehouse -p gatehouse-client`), a local
PostgreSQL whose user may create databases and ALTER DATABASE (a superuser: log_statement),
psql, wrk and boto3 (tests/python/requirements.txt), read access to PostgreSQL's log file.

Setups, each on a fresh database (PostgreSQL: `gh_bench_<pid>_<setup>`, dropped at the end):
  sqlite  one process, the embedded store in a temporary data dir;
  pg1     one process on PostgreSQL;
  pg2     two processes on one PostgreSQL database with the same GATEHOUSE_SERVER_KEY; the load
          generator's sign-in loops send each request to the other process in turn, so every
          SRP sign-in starts on one process and finishes on the other.
Every process: `gatehouse serve --rate-limit-per-ip 0 --rate-limit-per-client 0` with an admin
credential (no --dev: the generator signs its admin calls), --database-max-connections as given
(default 10, the server's default), default log level (one line per request to a file).

Per setup, `gatehouse-loadgen` (real SRP sign-ins from Rust, USER_SRP_AUTH →
PASSWORD_VERIFIER) makes the users, warms up, then runs --logins sign-ins at --concurrency; it
reports logins/s, Gatehouse's CPU per login (utime+stime summed over the --server-pid
processes) and the crypto floor (3 modexp + 2 RS256, measured by the generator before and after
the run). Around the same measured window (the generator's "warm-up:" and "run:" lines) this
script reads, from /proc (bench/pgcpu.py):
  PostgreSQL CPU: the backends of the setup's database plus the cluster's background processes
    (walwriter, checkpointer, autovacuum, ...), followed through the run as they come and go;
    backends of other databases (other people's tests on a shared cluster) are left out and
    shown, as is the whole cluster (postmaster with its reaped children);
  the machine: CPU busy in total, steal, and "other load" = busy − Gatehouse − the whole
    PostgreSQL cluster − the load generator − this script.
Then, on sqlite and pg1, GetUser / malformed GetUser / GET /health with wrk in the same process
(bench/getuser_floor.py), with PostgreSQL's CPU per request.

Statements per login: for pg1 and pg2 a separate short run (--count-logins sign-ins on a fresh
database with `ALTER DATABASE … SET log_statement = 'all'`, which applies to the connections
the server opens afterwards) reads PostgreSQL's log between the same two lines, keeps the lines
of that database (log_line_prefix must contain %d; it is checked) and prints each distinct
statement with its count per login. The timing runs log nothing. The setting goes with the
database, which is dropped.

Per vCPU: logins/s that one vCPU sustains = 1000 / (CPU ms per login), for Gatehouse alone
(comparable with Keycloak's published 15 password logins/s per vCPU, which leaves out its
database) and for Gatehouse + PostgreSQL; the load generator, on the same two cores, is left
out. The whole machine's logins/s ÷ 2 is printed next to it (generator included).
"""

import argparse
import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import getuser_floor as gf  # noqa: E402
import pgcpu  # noqa: E402

LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] ")
STATEMENT = re.compile(r" LOG:  (?:statement|execute [^:]+): (.*)$")


def psql(base, sql, db="postgres"):
    return subprocess.run(["psql", f"{base}/{db}", "-v", "ON_ERROR_STOP=1", "-Atc", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


class Servers:
    """1 or 2 gatehouse processes on one store."""

    def __init__(self, a, scratch, name, n, database_url, env):
        self.procs, self.ports = [], []
        for i in range(n):
            data = os.path.join(scratch, f"{name}-data{i}")
            os.makedirs(data)
            port = gf.free_port()
            proc = gf.start_server(a.gatehouse, data, port, database_url, env,
                                   log=os.path.join(scratch, f"{name}-{i}.log"))
            self.procs.append(proc)
            self.ports.append(port)
        for port, proc in zip(self.ports, self.procs):
            gf.wait_ready(port, proc)
        self.urls = [f"http://127.0.0.1:{p}/" for p in self.ports]
        self.pids = [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def loadgen(a, servers, logins, floor_samples, on_start, on_end, outfile):
    """Runs the generator; calls on_start(pid)/on_end(pid) at its "warm-up:" / "run:" lines."""
    cmd = [a.loadgen, "--users", str(a.users), "--logins", str(logins),
           "--concurrency", str(a.concurrency), "--floor-samples", str(floor_samples)]
    for url in servers.urls:
        cmd += ["--endpoint", url.rstrip("/")]
    for pid in servers.pids:
        cmd += ["--server-pid", str(pid)]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": gf.KEY_ID, "AWS_SECRET_ACCESS_KEY": gf.SECRET}
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         bufsize=1, env=env)
    lines = []
    for line in p.stdout:
        lines.append(line)
        if line.startswith("warm-up:"):
            on_start(p.pid)
        elif line.startswith("run:"):
            on_end(p.pid)
    if p.wait() != 0:
        sys.stdout.write("".join(lines))
        raise RuntimeError("gatehouse-loadgen failed")
    text = "".join(lines)
    with open(outfile, "w") as f:
        f.write(text)
    return text


def parse_loadgen(text):
    def num(pattern, group=1):
        m = re.search(pattern, text)
        return float(m.group(group)) if m else None

    return {
        "logins_s": num(r"logins/s\s+([\d.]+)"),
        "p50": num(r"latency ms\s+p50 ([\d.]+)"),
        "p99": num(r"latency ms\s+p50 [\d.]+\s+p90 [\d.]+\s+p99 ([\d.]+)"),
        "errors": num(r"run: \d+ logins in [\d.]+ s, \d+ ok, (\d+) errors"),
        "gh_ms": num(r"server CPU per login \((?:pid \d+|\d+ processes, sum)[^)]*\)\s+([\d.]+) ms"),
        "client_ms": num(r"client CPU per login \(this process\)\s+([\d.]+) ms"),
        "modexp": re.search(r"modexp 3072-bit[^\n]*?([\d.]+) / ([\d.]+) ms", text).groups(),
        "rs256": re.search(r"RS256, 2048-bit key[^\n]*?([\d.]+) / ([\d.]+) ms", text).groups(),
        "floor": num(r"SRP floor = 3 modexp \+ 2 RS256\s+[\d.]+ / [\d.]+ ms, mean ([\d.]+) ms"),
        "ratio": num(r"ratio server CPU per login / SRP floor\s+([\d.]+)"),
        "rss": re.findall(r"server peak RSS \(VmHWM\)[^\n]*?([\d.]+) MiB", text),
    }


def timing_run(a, servers, pg, outfile):
    """The measured sign-ins, with PostgreSQL and the machine metered over the same window."""
    marks = {}

    def start(lg_pid):
        marks["meter"] = pgcpu.PgMeter(*pg).start() if pg else None
        marks["window"] = pgcpu.Window().start()
        marks["gh0"] = sum(pgcpu.cpu(p) for p in servers.pids)
        marks["lg0"] = pgcpu.cpu(lg_pid)

    def end(lg_pid):
        marks["lg1"] = pgcpu.cpu(lg_pid)
        marks["gh1"] = sum(pgcpu.cpu(p) for p in servers.pids)
        marks["win"] = marks["window"].stop()
        marks["pg"] = marks["meter"].stop() if marks["meter"] else None

    text = loadgen(a, servers, a.logins, a.floor_samples, start, end, outfile)
    r = parse_loadgen(text)
    win, pgd = marks["win"], marks["pg"]
    gh = marks["gh1"] - marks["gh0"]
    lg = marks["lg1"] - marks["lg0"]
    cluster = pgd["cluster"] if pgd else 0.0
    r.update(window=win, pg=pgd, gh_cpu=gh, lg_cpu=lg,
             other_load=win["busy"] - gh - cluster - lg - win["self"])
    r["pg_ms"] = (pgd["ours"] + pgd["background"]) * 1000 / a.logins if pgd else 0.0
    return r, text


def parse_log(path, start, end, db):
    """Statements of database `db` logged between two byte offsets: {text: count}."""
    with open(path, "rb") as f:
        f.seek(start)
        chunk = f.read(end - start).decode(errors="replace")
    entries, cur = [], None
    for line in chunk.splitlines():
        if LOG_ENTRY.match(line):
            cur = [line]
            entries.append(cur)
        elif cur is not None:
            cur.append(line.strip())
    counts = {}
    for e in entries:
        if f"@{db} " not in e[0]:
            continue
        m = STATEMENT.search(e[0])
        if not m:
            continue
        text = " ".join([m.group(1)] + e[1:])
        text = re.sub(r"\s+", " ", text).strip()
        counts[text] = counts.get(text, 0) + 1
    return counts


def count_run(a, scratch, name, n, env, tag):
    """A short run with every statement of the database logged; returns ({text: count}, logins)."""
    db = f"gh_bench_{tag}_count_{name}"
    psql(a.postgres, f"CREATE DATABASE {db}")
    psql(a.postgres, f"ALTER DATABASE {db} SET log_statement = 'all'")
    servers = None
    try:
        servers = Servers(a, scratch, f"count-{name}", n, f"{a.postgres}/{db}", env)
        offsets = {}
        loadgen(a, servers, a.count_logins, 11,
                lambda _: offsets.__setitem__("start", os.path.getsize(a.pg_log)),
                lambda _: offsets.__setitem__("end", os.path.getsize(a.pg_log)),
                os.path.join(scratch, f"count-{name}.txt"))
        return parse_log(a.pg_log, offsets["start"], offsets["end"], db), a.count_logins
    finally:
        if servers:
            servers.stop()
        psql(a.postgres, f"ALTER DATABASE {db} RESET log_statement")
        psql(a.postgres, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")


def conditions(label):
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    busy0, steal0, total0 = pgcpu.machine()
    time.sleep(1)
    busy1, steal1, total1 = pgcpu.machine()
    t = total1 - total0
    print(f"machine {label}: load average {load}; over 1 s: busy {100 * (busy1 - busy0) / t:.0f} %"
          f" of {os.cpu_count()} CPUs, steal {100 * (steal1 - steal0) / t:.1f} %")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gatehouse", default="target/release/gatehouse")
    ap.add_argument("--loadgen", default="target/release/gatehouse-loadgen")
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432",
                    help="server URL without a database name")
    ap.add_argument("--pg-log", default="/var/log/postgresql/postgresql-15-main.log")
    ap.add_argument("--setups", default="sqlite,pg1,pg2")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--logins", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--floor-samples", type=int, default=400)
    ap.add_argument("--count-logins", type=int, default=300)
    ap.add_argument("--getuser-seconds", type=int, default=5)
    ap.add_argument("--getuser-rounds", type=int, default=2)
    ap.add_argument("--database-max-connections", type=int, default=10)
    a = ap.parse_args()
    setups = a.setups.split(",")
    for tool in ("psql", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"pg_bench: needs {tool}")
    pg_setups = [s for s in setups if s.startswith("pg")]
    if pg_setups:
        prefix = psql(a.postgres, "SHOW log_line_prefix")
        if "%d" not in prefix:
            sys.exit(f"pg_bench: log_line_prefix {prefix!r} has no %d: cannot tell our lines")
        if not os.access(a.pg_log, os.R_OK):
            sys.exit(f"pg_bench: cannot read {a.pg_log} (--pg-log)")
        postmaster = pgcpu.postmaster_pid(f"{a.postgres}/postgres")

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    results = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", f"pg-{stamp}")
    os.makedirs(results, exist_ok=True)
    print(f"pg_bench {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, commit {commit}"
          f"{' (with local changes)' if dirty else ''}, {os.cpu_count()} CPUs; "
          f"{a.logins} SRP sign-ins per setup, {a.users} users, concurrency {a.concurrency}; "
          f"generator outputs in {results}")
    conditions("before")

    tag = os.getpid()
    key = base64.b64encode(os.urandom(32)).decode()
    env = {"GATEHOUSE_SERVER_KEY": key,
           "GATEHOUSE_DATABASE_MAX_CONNECTIONS": str(a.database_max_connections)}
    scratch = tempfile.mkdtemp(prefix="gh-pgbench-")
    made_dbs, rows, getuser = [], {}, {}
    try:
        for setup in setups:
            n = 2 if setup == "pg2" else 1
            url, pg = None, None
            if setup.startswith("pg"):
                db = f"gh_bench_{tag}_{setup}"
                psql(a.postgres, f"CREATE DATABASE {db}")
                made_dbs.append(db)
                url, pg = f"{a.postgres}/{db}", (postmaster, db)
            servers = Servers(a, scratch, setup, n, url, env)
            try:
                print(f"\n== {setup}: {n} process{'es' if n > 1 else ''} on "
                      f"{'PostgreSQL ' + pg[1] if pg else 'SQLite'} (pids "
                      f"{', '.join(map(str, servers.pids))})")
                r, _ = timing_run(a, servers, pg, os.path.join(results, f"{setup}.txt"))
                rows[setup] = r
                print_timing(setup, r, a)
                if n == 1 and a.getuser_seconds > 0:
                    series = gf.prepare(servers.urls[0], scratch)
                    print(f"  GetUser next to /health, same process (wrk -t1 -c32, "
                          f"{a.getuser_seconds} s per series, {a.getuser_rounds} rounds):")
                    sys.stdout.write("  ")
                    gf.print_header(pg)
                    out = {}
                    for _ in range(a.getuser_rounds):
                        for name, target, script in series:
                            res = gf.run_series(servers.pids[0], target, script,
                                                a.getuser_seconds, pg)
                            out.setdefault(name, []).append(res)
                            sys.stdout.write("  ")
                            gf.print_row(name, res, a.getuser_seconds)
                    getuser[setup] = out
            finally:
                servers.stop()

        counts = {}
        for setup in pg_setups:
            n = 2 if setup == "pg2" else 1
            counts[setup] = count_run(a, scratch, setup, n, env, tag)
    finally:
        for db in made_dbs:
            psql(a.postgres, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        shutil.rmtree(scratch, ignore_errors=True)

    print_summary(a, rows, getuser, counts)
    conditions("after")


def print_timing(setup, r, a):
    w = r["window"]
    print(f"  logins/s {r['logins_s']:.1f}, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
          f"errors {int(r['errors'])}")
    print(f"  Gatehouse CPU per login {r['gh_ms']:.3f} ms (summed over its processes); "
          f"SRP floor {r['floor']:.3f} ms (modexp {r['modexp'][0]}/{r['modexp'][1]} ms, "
          f"RS256 {r['rs256'][0]}/{r['rs256'][1]} ms before/after); ratio {r['ratio']:.2f}")
    if r["pg"]:
        p = r["pg"]
        per = lambda s: s * 1000 / a.logins  # noqa: E731
        print(f"  PostgreSQL CPU per login {r['pg_ms']:.3f} ms = this database's "
              f"{int(p['ours_backends'])} backends {per(p['ours']):.3f} ms + background processes "
              f"{per(p['background']):.3f} ms; left out: other databases' backends "
              f"{per(p['other']):.3f} ms; whole cluster {per(p['cluster']):.3f} ms"
              f"{'; backends that exited: ' + str(p['ours_exited']) if p['ours_exited'] else ''}")
    print(f"  load generator CPU per login {r['lg_cpu'] * 1000 / a.logins:.3f} ms; machine over "
          f"the {w['seconds']:.1f} s run: busy {w['busy'] / w['seconds']:.2f} of "
          f"{os.cpu_count()} CPUs, steal {w['steal_pct']:.1f} %, other load "
          f"{r['other_load']:.2f} CPU-s ({100 * r['other_load'] / w['busy']:.0f} % of busy), "
          f"load average {' '.join(w['loadavg'])}")


def print_summary(a, rows, getuser, counts):
    cpus = os.cpu_count()
    # Each setup's floor comes from its own generator run (before and after its sign-ins); the
    # floor moves with the machine between setups, so the ratio to the run's mean floor is shown
    # too, to compare the setups with each other.
    mean_floor = sum(r["floor"] for r in rows.values()) / max(len(rows), 1)
    print(f"\n== Summary (floor: each setup's own generator run; run mean {mean_floor:.3f} ms)")
    print(f"{'setup':<7} {'logins/s':>9} {'GH ms/login':>12} {'floor ms':>9} {'GH/floor':>9} "
          f"{'GH/mean':>8} {'PG ms/login':>12} {'per vCPU: GH':>13} {'GH+PG':>7} "
          f"{'machine/2':>10} {'other load':>11} {'steal':>6}")
    for setup, r in rows.items():
        gh, pgm = r["gh_ms"], r["pg_ms"]
        w = r["window"]
        print(f"{setup:<7} {r['logins_s']:>9.1f} {gh:>12.3f} {r['floor']:>9.3f} "
              f"{gh / r['floor']:>9.2f} {gh / mean_floor:>8.2f} "
              f"{pgm if r['pg'] else float('nan'):>12.3f} "
              f"{1000 / gh:>13.0f} {1000 / (gh + pgm):>7.0f} {r['logins_s'] / cpus:>10.0f} "
              f"{100 * r['other_load'] / w['busy']:>10.0f}% {w['steal_pct']:>5.1f}%")
    print("goals: Gatehouse CPU per SRP login <= 1.3x floor; PostgreSQL CPU per login <= 0.35 ms")
    for setup, r in rows.items():
        ok = r["gh_ms"] / r["floor"] <= 1.3
        line = f"  {setup}: ratio {r['gh_ms'] / r['floor']:.2f} {'met' if ok else 'NOT met'}"
        if r["pg"]:
            line += (f"; PostgreSQL {r['pg_ms']:.3f} ms "
                     f"{'met' if r['pg_ms'] <= 0.35 else 'NOT met'}")
        print(line)
    if getuser:
        print("GetUser vs GET /health, same process (server CPU µs/req, median of rounds; "
              "/health includes a database ping, SELECT 1); goal GetUser <= 3x /health:")
        for setup, out in getuser.items():
            def med(name, f):
                v = sorted(f(r) for r in out[name])
                return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
            gh = {n: med(n, lambda r: (r["user"] + r["system"]) / r["requests"] * 1e6)
                  for n in out}
            line = (f"  {setup}: health {gh['health']:.1f}, malformed {gh['malformed']:.1f}, "
                    f"getuser {gh['getuser']:.1f} -> {gh['getuser'] / gh['health']:.2f}x "
                    f"{'met' if gh['getuser'] <= 3 * gh['health'] else 'NOT met'}")
            if out["health"][0]["pg"]:
                pgv = {n: med(n, lambda r: (r["pg"]["ours"] + r["pg"]["background"])
                              / r["requests"] * 1e6) for n in out}
                line += (f"; PostgreSQL µs/req: health {pgv['health']:.1f}, getuser "
                         f"{pgv['getuser']:.1f}")
            print(line)
    for setup, (c, logins) in counts.items():
        total = sum(c.values())
        print(f"\nSQL statements per login, {setup} ({logins} logged sign-ins, "
              f"{total} statements: {total / logins:.2f} per login):")
        for text, k in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])):
            print(f"  {k / logins:6.2f}  {text}")


if __name__ == "__main__":
    main()
