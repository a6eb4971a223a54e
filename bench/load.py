"""Load: locust (headless) against gunicorn with gunicorn.conf.py, 50 users, simulator at 50 ms.

    .venv/bin/python bench/load.py [--users 50] [--duration 60] [--latency-ms 50] [--workers N]
                                   [--pace 0] [--database-url URL]      (make bench-load)

bench/stack.py starts the simulator (latency set through its control API) and gunicorn on a
seeded workspace; a warm-up logs in a few sessions, sends 20 messages (history rows) and fetches
every page from many threads at once (every worker thread and pooled gateway session exists).
Then `python -m locust -f bench/locustfile.py --headless` runs as a subprocess: every user logs
in with its own session, and once all are in, the mix runs for --duration seconds: 60% list
pages (groups, a group's contacts), 20% history, 10% dashboard, 10% sends (compose → review →
send, counted as one "send" task). The users pause between tasks only with --pace (tasks per
second per user): by default each user goes as fast as the portal answers, so requests/s is
what the stack can do and the percentiles are at that saturation.

Printed: tasks per second, p50/p95/p99 and errors (with the failures) in total and per type, the
steps of a send and the logins, the RSS of gunicorn's master and workers at the start and end of
the window, the CPU seconds each process group used in the window (gunicorn workers, master,
simulator, locust, this driver, and everything else on the machine), and the targets beside the
measured values. Exits 1 when a target is missed.

--database-url: a PostgreSQL server URL (postgresql+psycopg://postgres@127.0.0.1:5432/test):
Stack migrates and seeds the database it is given and needs it empty (it creates the bench user
and workspace, which would collide with an earlier run's), so a fresh database is created beside
the named one on that server for the run and dropped afterwards. Without it, a SQLite file in the
stack's temporary folder.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from load_mix import send_one
from stack import EMAIL, PASSWORD, ROOT, Stack, children, cpu_seconds, machine_cpu_seconds

TYPES = {
    "list": ["groups", "contacts"],
    "history": ["history"],
    "dashboard": ["dashboard"],
    "send": ["send"],
}
SHARE = {"list": 60, "history": 20, "dashboard": 10, "send": 10}
STEPS = ["send 1 compose", "send 2 review", "send 3 send", "login page", "login"]
TARGET_RPS, TARGET_P95, TARGET_GROWTH = 150, 250, 10.0


# -- statistics -----------------------------------------------------------------------------
def merge(histograms: list[dict]) -> dict[int, int]:
    out: dict[int, int] = {}
    for histogram in histograms:
        for ms, count in histogram.items():
            out[int(ms)] = out.get(int(ms), 0) + count
    return out


def pct(histogram: dict[int, int], q: float) -> float:
    """The smallest time (ms) that at least q% of the entries took no longer than."""
    total = sum(histogram.values())
    if not total:
        return math.nan
    need, seen = math.ceil(q / 100 * total), 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen >= need:
            return ms
    return max(histogram)


# -- the stack ------------------------------------------------------------------------------
class LoadStack(Stack):
    """The stack as deployed behind one proxy, so that each locust user has its own address.

    The login view has a fixed per-address limit (`@limiter.limit("30 per minute")` in
    app/blueprints/auth.py, counted per worker process) besides the configurable throttle that
    Stack.env() raises: 50 users logging in from 127.0.0.1 within a minute got 429 for about
    half of them. Behind a proxy (PORTAL_PROXY_COUNT=1) the portal reads the address from
    X-Forwarded-For, which each user sets to its own, as 50 real users would have.
    """

    def env(self) -> dict[str, str]:
        return {**super().env(), "PORTAL_PROXY_COUNT": "1"}


def fresh_postgres(url: str):
    """A new empty database beside the one named in `url`; returns (its URL, drop())."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"portal_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def warm_up(stack: Stack, sessions: int) -> None:
    """Every page and a send from many sessions at once: threads, pools and caches exist."""
    logged = [stack.login() for _ in range(sessions)]
    stack.send_history(logged[0], 20)
    urls = list(stack.urls().values())

    def user(session, n):
        for _ in range(3):
            for url in urls:
                session.get(url, timeout=30)
        send_one(stack, session, f"Warm-up {n}")

    threads = [threading.Thread(target=user, args=(s, n)) for n, s in enumerate(logged)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def processes(stack: Stack, locust_pid: int) -> dict[str, list[int]]:
    master, simulator = stack.procs[-1].pid, stack.procs[0].pid
    # With --keep-alive the simulator is itself a gunicorn master and worker: count both.
    return {
        "gunicorn workers": children(master),
        "gunicorn master": [master],
        "simulator": [simulator, *children(simulator)],
        "locust": [locust_pid],
        "this driver": [os.getpid()],
    }


def cpu_sample(groups: dict[str, list[int]]) -> dict:
    return {
        "pids": {pid: cpu_seconds(pid) for pids in groups.values() for pid in pids},
        "machine": machine_cpu_seconds(),
        "at": time.monotonic(),
    }


def run_locust(stack: Stack, args, out: Path) -> tuple[dict, dict, dict, int]:
    """Runs locust; returns its result, CPU samples at the window's start and end, RSS."""
    result = out / "result.json"
    env = {
        **os.environ,
        "BENCH_WORKSPACE_ID": str(stack.workspace_id),
        "BENCH_GROUP_UID": stack.group_uid,
        "BENCH_EMAIL": EMAIL,
        "BENCH_PASSWORD": PASSWORD,
        "BENCH_USERS": str(args.users),
        "BENCH_DURATION": str(args.duration),
        "BENCH_PACE": str(args.pace),
        "BENCH_RESULT": str(result),
    }
    # -t is only a safety net: the locustfile ends the run --duration s after the last login.
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(ROOT / "bench" / "locustfile.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.users),
        "-t",
        f"{args.duration + 600}s",
        "--csv",
        str(out / "locust"),
        "--only-summary",
        "--host",
        stack.portal,
    ]
    log = open(out / "locust.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)  # noqa: S603
    groups = start = end = None
    rss = {}
    try:
        while proc.poll() is None:
            if start is None and result.with_suffix(".ready").exists():
                groups = processes(stack, proc.pid)
                start = cpu_sample(groups)
                rss["start"] = stack.rss_kib()
            if start is not None and end is None and result.exists():
                end = cpu_sample(groups)
                rss["end"] = stack.rss_kib()
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.terminate()
        log.close()
    if start is None or end is None or not result.exists():
        tail = (out / "locust.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"locust ended without a result (exit {proc.returncode}):\n{tail}")
    return (
        json.loads(result.read_text()),
        {"start": start, "end": end, "groups": groups},
        rss,
        proc.returncode,
    )


# -- report ---------------------------------------------------------------------------------
def report(
    args, stack: Stack, result: dict, cpu: dict, rss: dict, rss_warm: dict, backend: str
) -> bool:
    window = result["window"]
    seconds = window["end"] - window["start"]
    entries = {
        name: {**e, "times": {int(k): v for k, v in e["times"].items()}}
        for name, e in result["entries"].items()
    }
    workers = len(cpu["groups"]["gunicorn workers"])
    threads = os.environ.get("PORTAL_THREADS", "8")
    print(
        f"load: {args.users} users, {seconds:.1f} s window, simulator latency "
        f"{args.latency_ms} ms, gunicorn {workers} workers x {threads} threads (gthread), "
        f"{backend}, pace {'none (closed loop)' if not args.pace else f'{args.pace}/s/user'}"
    )
    print(
        f"machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"{datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}"
    )
    print()
    header = (
        f"{'type':<11}{'mix':>5}{'share':>7}{'tasks':>8}{'tasks/s':>9}{'p50':>7}{'p95':>7}"
        f"{'p99':>7}{'max':>7}{'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    rows = {}
    total_count = sum(e["requests"] for e in entries.values())
    for kind, names in [*TYPES.items(), ("total", [n for v in TYPES.values() for n in v])]:
        found = [entries[n] for n in names if n in entries]
        histogram = merge([e["times"] for e in found])
        count = sum(e["requests"] for e in found)
        errors = sum(e["failures"] for e in found)
        rows[kind] = (count, pct(histogram, 50), pct(histogram, 95), pct(histogram, 99), errors)
        mix = f"{SHARE[kind]}%" if kind in SHARE else ""
        share = f"{100 * count / total_count:.0f}%" if total_count else "-"
        top = max(histogram) if histogram else math.nan
        if kind == "total":
            print("-" * len(header))
        print(
            f"{kind:<11}{mix:>5}{share:>7}{count:>8}{count / seconds:>9.1f}"
            f"{rows[kind][1]:>7.0f}{rows[kind][2]:>7.0f}{rows[kind][3]:>7.0f}{top:>7.0f}"
            f"{errors:>7}"
        )
    steps = {name: {int(k): v for k, v in t.items()} for name, t in result["steps"].items()}
    http = sum(e["requests"] for n, e in entries.items() if n != "send") + sum(
        sum(steps.get(s, {}).values()) for s in STEPS[:3]
    )
    print(
        f"(times in ms; a send task is 3 HTTP requests: {http} HTTP requests in the window, "
        f"{http / seconds:.1f}/s; other pages are 1 request each)"
    )
    print()
    print(f"{'step (outside the mix)':<24}{'count':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'errors':>7}")
    for name in STEPS:
        times = steps.get(name, {})
        print(
            f"{name:<24}{sum(times.values()):>7}{pct(times, 50):>7.0f}{pct(times, 95):>7.0f}"
            f"{pct(times, 99):>7.0f}{result['step_errors'].get(name, 0):>7}"
        )

    errors = rows["total"][4] + window["login_failed"]
    if errors or result["errors"]:
        print()
        print(f"failures ({errors}; login failures: {window['login_failed']}):")
        for error in sorted(result["errors"], key=lambda e: -e["occurrences"])[:20]:
            print(
                f"  {error['occurrences']:>6} x {error['method']} {error['name']}: "
                f"{error['error'][:160]}"
            )

    # Memory: the workers present at the start, matched by pid at the end.
    print()
    master = stack.procs[-1].pid
    print(f"{'memory (RSS, MiB)':<24}{'warm-up':>9}{'start':>9}{'end':>9}{'growth':>9}")
    start, end = rss["start"], rss["end"]
    worker_pids = [p for p in start if p != master]
    gone = [p for p in worker_pids if p not in end]
    for pid in [master, *worker_pids]:
        label = "master" if pid == master else f"worker {pid}"
        s, e = start.get(pid, 0), end.get(pid, 0)
        growth = f"{100 * (e - s) / s:+.1f}%" if s and e else "gone"
        print(
            f"{label:<24}{rss_warm.get(pid, 0) / 1024:>9.1f}{s / 1024:>9.1f}{e / 1024:>9.1f}"
            f"{growth:>9}"
        )
    w_start = sum(start[p] for p in worker_pids)
    w_end = sum(end.get(p, 0) for p in worker_pids) + sum(
        v for p, v in end.items() if p != master and p not in start
    )
    growth = 100 * (w_end - w_start) / w_start if w_start else math.nan
    warm = sum(v for p, v in rss_warm.items() if p != master)
    print(
        f"{'workers together':<24}{warm / 1024:>9.1f}"
        f"{w_start / 1024:>9.1f}{w_end / 1024:>9.1f}{growth:>+8.1f}%"
    )
    if gone:
        print(f"(workers {gone} were replaced during the run)")

    # CPU: seconds each group used in the window, against what the machine had.
    print()
    cores = os.cpu_count() or 1
    wall = cpu["end"]["at"] - cpu["start"]["at"]
    print(f"CPU in the window ({wall:.1f} s x {cores} cores = {wall * cores:.0f} CPU s available)")
    print(f"{'process group':<24}{'CPU s':>8}{'cores':>7}{'share':>8}{'ms/request':>12}")
    ours = 0.0
    # ms/request: CPU per HTTP request of the window (a send's three steps apart; the requests
    # in flight at the window's edges make this approximate).
    http_all = max(1, http)
    for group, pids in cpu["groups"].items():
        used = 0.0
        for pid in pids:
            a, b = cpu["start"]["pids"].get(pid), cpu["end"]["pids"].get(pid)
            if a is not None and b is not None:
                used += b - a
        ours += used
        print(
            f"{group:<24}{used:>8.1f}{used / wall:>7.2f}{100 * used / (wall * cores):>7.0f}%"
            f"{1000 * used / http_all:>12.1f}"
        )
    busy = cpu["end"]["machine"][0] - cpu["start"]["machine"][0]
    idle = cpu["end"]["machine"][1] - cpu["start"]["machine"][1]
    other = max(0.0, busy - ours)
    for label, used in [("everything else", other), ("idle", idle)]:
        print(f"{label:<24}{used:>8.1f}{used / wall:>7.2f}{100 * used / (wall * cores):>7.0f}%")
    print(
        "(cores = CPU s / wall s; ms/request = CPU ms per HTTP request; 'everything else' is "
        "the machine's busy time outside these processes: other users of the machine, the "
        "kernel's own work)"
    )

    # Targets.
    rps = rows["total"][0] / seconds
    p95 = rows["total"][2]
    checks = [
        ("tasks/s", f">= {TARGET_RPS}", f"{rps:.1f}", rps >= TARGET_RPS),
        ("p95 (ms)", f"<= {TARGET_P95}", f"{p95:.0f}", p95 <= TARGET_P95),
        ("errors", "0", str(errors), errors == 0),
        (
            "worker memory growth",
            f"<= {TARGET_GROWTH:.0f}%",
            f"{growth:+.1f}%",
            growth <= TARGET_GROWTH,
        ),
    ]
    print()
    print(f"{'target':<22}{'wanted':>9}{'measured':>10}  result")
    for name, wanted, measured, ok in checks:
        print(f"{name:<22}{wanted:>9}{measured:>10}  {'ok' if ok else 'MISSED'}")
    print(
        "(a task is a page or a whole send; counting a send's three HTTP requests apart gives "
        f"{http / seconds:.1f} requests/s. Timings are noisy on a shared 2-core machine.)"
    )
    return all(ok for *_, ok in checks)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=int, default=60, help="seconds, after all logged in")
    parser.add_argument("--latency-ms", type=int, default=50, help="the simulator's latency")
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn workers (default: gunicorn.conf.py's)"
    )
    # 50 users who never pause would need 200 requests/s before p95 could be 250 ms (Little's
    # law: 50 in flight / 250 ms); users who read a page pace themselves. 3.5 tasks/s each
    # offers 175 tasks/s (about 210 HTTP requests/s), above the 150/s target.
    parser.add_argument(
        "--pace",
        type=float,
        default=3.5,
        help="tasks per second per user (0: no pause, as fast as answered)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server URL: a fresh database is made on it for the run",
    )
    args = parser.parse_args()

    drop, backend = None, "SQLite"
    database_url = args.database_url
    if database_url and database_url.startswith("postgresql"):
        database_url, drop = fresh_postgres(database_url)
        backend = f"PostgreSQL ({database_url.rsplit('/', 1)[-1]}, dropped after the run)"
    elif database_url:
        backend = database_url
    try:
        with LoadStack(database_url=database_url, workers=args.workers) as stack:
            stack.control.configure(latency_ms=args.latency_ms)
            out = stack.folder / "locust"
            out.mkdir()
            print(f"warming up (stack in {stack.folder})...", flush=True)
            warm_up(stack, 10)
            rss_warm = stack.rss_kib()
            print(
                f"running locust: {args.users} users, {args.duration} s after the logins...",
                flush=True,
            )
            result, cpu, rss, code = run_locust(stack, args, out)
            print()
            ok = report(args, stack, result, cpu, rss, rss_warm, backend)
            print(f"(locust CSV and log: {out}; locust exit {code})")
    finally:
        if drop is not None:
            drop()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
