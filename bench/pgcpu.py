"""CPU time of processes from /proc, for the benchmarks: one process, a PostgreSQL cluster
split by database, and the whole machine (to tell how much else ran during a measurement).

All figures are utime + stime (fields 14 and 15 of /proc/PID/stat), in seconds.

PostgreSQL's processes come and go (a backend per connection, autovacuum workers), so a
`PgMeter` does not just difference two snapshots:

- it lists the postmaster's children (/proc/PID/task/*/children) at start, every `interval`
  seconds while it runs, and at stop, and keeps each child's last reading, keyed by (pid, start
  time) so a reused pid is a new process;
- a child first seen after the start counts from zero (all its CPU was spent in the window), a
  child that exits counts with its last reading (at most `interval` of its CPU is missed);
- each child is classified once, from its process title ("postgres: 15/main: USER DB
  HOST(PORT) STATE" for a backend): a backend of the measured database, a backend of another
  database (other people's work on a shared cluster), or a background process (checkpointer,
  background writer, walwriter, autovacuum, ...);
- the exact cluster total comes from the postmaster itself: its own utime+stime, plus cutime +
  cstime (the CPU of children it has reaped, i.e. every process that exited), plus the live
  children's readings at stop minus those at start.

Nothing here connects to PostgreSQL (a connection would be a backend of its own in the window).
"""

import os
import subprocess
import threading
import time

TICK = os.sysconf("SC_CLK_TCK")

BACKGROUND = (
    "checkpointer",
    "background writer",
    "walwriter",
    "autovacuum launcher",
    "autovacuum worker",
    "logical replication launcher",
    "archiver",
    "stats collector",
    "walsender",
    "walreceiver",
    "startup",
    "parallel worker",
)


def stat(pid):
    """(utime+stime, cutime+cstime, start time in ticks since boot) in seconds/ticks, or None
    if the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # fields[0] is field 3 (state): utime 14 → 11, stime 12, cutime 13, cstime 14, starttime 19.
    own = (int(fields[11]) + int(fields[12])) / TICK
    reaped = (int(fields[13]) + int(fields[14])) / TICK
    return own, reaped, int(fields[19])


def cpu(pid):
    """utime + stime of a live process, in seconds."""
    s = stat(pid)
    if s is None:
        raise ProcessLookupError(pid)
    return s[0]


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except FileNotFoundError:
        pass
    return out


def title(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except FileNotFoundError:
        return ""


def uptime_ticks():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0]) * TICK


def postmaster_pid(psql_url):
    """The cluster's postmaster: first line of postmaster.pid in its data directory."""
    data_dir = subprocess.run(
        ["psql", psql_url, "-Atc", "SHOW data_directory"],
        capture_output=True, text=True, check=True).stdout.strip()
    with open(os.path.join(data_dir, "postmaster.pid")) as f:
        return int(f.readline())


def classify(text, db):
    """'ours', 'other' (a backend of another database) or 'background'."""
    # "postgres: 15/main: postgres gh_bench_x 127.0.0.1(46656) idle"
    rest = text.split(": ", 2)[-1] if text.startswith("postgres: ") else text
    words = rest.split()
    if any(rest.startswith(b) for b in BACKGROUND):
        return "ours" if db in words else "background"
    if len(words) >= 2:
        return "ours" if words[1] == db else "other"
    return "background"


class PgMeter:
    def __init__(self, postmaster, db, interval=0.1):
        self.pm, self.db, self.interval = postmaster, db, interval
        self.base, self.last, self.kind = {}, {}, {}
        self._stop = threading.Event()
        self._thread = None

    def _scan(self, first=False):
        live = {}
        for pid in children(self.pm):
            s = stat(pid)
            if s is None:
                continue
            key = (pid, s[2])
            live[key] = s[0]
            if key not in self.kind:
                self.kind[key] = classify(title(pid), self.db)
                # Started after the window opened: all its CPU is in the window.
                self.base[key] = s[0] if first or s[2] < self.t0 - 1 else 0.0
            self.last[key] = s[0]
        return live

    def _poll(self):
        while not self._stop.wait(self.interval):
            self._scan()

    def start(self):
        self.t0 = uptime_ticks()
        s = stat(self.pm)
        self.pm0 = s[0] + s[1]
        self.live0 = self._scan(first=True)
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join()
        live1 = self._scan()
        s = stat(self.pm)
        out = {"ours": 0.0, "other": 0.0, "background": 0.0}
        for key, k in self.kind.items():
            out[k] += self.last[key] - self.base[key]
        out["cluster"] = (s[0] + s[1] - self.pm0) + sum(live1.values()) - sum(self.live0.values())
        out["postmaster+unattributed"] = out["cluster"] - out["ours"] - out["other"] - out["background"]
        out["ours_backends"] = sum(1 for key, k in self.kind.items() if k == "ours")
        out["ours_exited"] = sum(1 for key, k in self.kind.items()
                                 if k == "ours" and key not in live1)
        return out


def machine():
    """(busy, steal, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (v + [0] * 8)[:8]
    return user + nice + system + irq + softirq, steal, sum(v[:8])


class Window:
    """Wall time, machine busy CPU and steal over a measurement, and the load average."""

    def start(self):
        self.t = time.monotonic()
        self.m = machine()
        self.me = os.times()
        return self

    def stop(self):
        t, m, me = time.monotonic(), machine(), os.times()
        busy, steal, total = (m[i] - self.m[i] for i in range(3))
        return {
            "seconds": t - self.t,
            "busy": busy / TICK,  # CPU-seconds used by everything on the machine
            "steal_pct": 100.0 * steal / total if total else 0.0,
            # This script and the children it has reaped (wrk).
            "self": (me.user + me.system + me.children_user + me.children_system)
            - (self.me.user + self.me.system + self.me.children_user + self.me.children_system),
            "loadavg": open("/proc/loadavg").read().split()[:3],
        }
