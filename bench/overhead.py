"""Overhead: the portal's list pages against the same gateway calls made directly.

    .venv/bin/python bench/overhead.py [--requests 200] [--latencies 0,50,200] [--users 1,20]

For each simulator latency and number of concurrent users, every page is fetched through the
portal (gunicorn with gunicorn.conf.py, a logged-in session per user) and its gateway calls are
made straight against the simulator (one session per user, as the portal pools its own),
alternating portal and direct rounds so that both see the same machine. Prints p50 and p99 for
both, the ratios portal/direct, and at 0 ms the portal's own time per page (portal − direct).

The gateway calls of each page, as the portal makes them (counted by the web tests):
groups: GET /contacts; contacts: POST /contacts/{uid}/show + POST /contacts/{uid}/all;
history: none (the portal's own outbox) — compared with the gateway's GET /sms list;
dashboard: balance and profile, cached 60 s per workspace — compared with GET /balance + GET /me.
"""

from __future__ import annotations

import argparse
import threading
import time

from stack import Stack  # bench/ is on sys.path when run as a script

PAGES = ["groups", "contacts", "history", "dashboard"]


def direct_calls(stack, session, page: str) -> None:
    api, uid = stack.api, stack.group_uid
    if page == "groups":
        session.get(f"{api}/contacts", params={"page": 1}, timeout=30).raise_for_status()
    elif page == "contacts":
        session.post(f"{api}/contacts/{uid}/show", timeout=30).raise_for_status()
        session.post(f"{api}/contacts/{uid}/all", params={"page": 1}, timeout=30).raise_for_status()
    elif page == "history":
        session.get(f"{api}/sms", params={"page": 1}, timeout=30).raise_for_status()
    else:
        session.get(f"{api}/balance", timeout=30).raise_for_status()
        session.get(f"{api}/me", timeout=30).raise_for_status()


def run_round(sessions, work, per_user: int) -> tuple[list[float], int]:
    """Every user runs `per_user` requests at once; returns latencies (s) and errors."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def user(session):
        mine = []
        for _ in range(per_user):
            started = time.perf_counter()
            try:
                work(session)
            except Exception:  # noqa: BLE001 - counted, the run goes on
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - started)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=user, args=(s,)) for s in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors[0]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="per page, mode and setting")
    parser.add_argument("--latencies", default="0,50,200")
    parser.add_argument("--users", default="1,20")
    parser.add_argument("--rounds", type=int, default=4, help="portal/direct alternations")
    args = parser.parse_args()
    latencies = [int(x) for x in args.latencies.split(",")]
    user_counts = [int(x) for x in args.users.split(",")]

    rows = []
    with Stack() as stack:
        portal_sessions = [stack.login() for _ in range(max(user_counts))]
        gateway_sessions = [stack.gateway() for _ in range(max(user_counts))]
        stack.send_history(portal_sessions[0], 30)
        urls = stack.urls()
        for latency in latencies:
            stack.control.configure(latency_ms=latency)
            for users in user_counts:
                per_user = max(1, args.requests // users // args.rounds)
                for page in PAGES:

                    def portal(session, url=urls[page]):
                        answer = session.get(url, timeout=30, allow_redirects=False)
                        if answer.status_code != 200:
                            raise RuntimeError(answer.status_code)

                    def direct(session, page=page):
                        direct_calls(stack, session, page)

                    p_times, d_times, errors = [], [], 0
                    run_round(portal_sessions[:users], portal, 1)  # warm the pools
                    run_round(gateway_sessions[:users], direct, 1)
                    for _ in range(args.rounds):
                        t, e = run_round(portal_sessions[:users], portal, per_user)
                        p_times += t
                        errors += e
                        t, e = run_round(gateway_sessions[:users], direct, per_user)
                        d_times += t
                        errors += e
                    rows.append(
                        (
                            page,
                            latency,
                            users,
                            pct(d_times, 50),
                            pct(d_times, 99),
                            pct(p_times, 50),
                            pct(p_times, 99),
                            errors,
                            len(p_times),
                        )
                    )
                    print(".", end="", flush=True)
    print()
    header = (
        f"{'page':<10}{'latency':>8}{'users':>6}{'direct p50':>11}{'p99':>8}"
        f"{'portal p50':>11}{'p99':>8}{'ratio p50':>10}{'p99':>7}{'own ms':>8}{'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for page, latency, users, d50, d99, p50, p99, errors, _n in rows:
        print(
            f"{page:<10}{latency:>6}ms{users:>6}{d50:>11.1f}{d99:>8.1f}{p50:>11.1f}{p99:>8.1f}"
            f"{p50 / d50:>10.2f}{p99 / d99:>7.2f}{p50 - d50:>8.1f}{errors:>7}"
        )
    print(
        f"({rows[-1][-1]} portal requests per row; times in ms; own = portal p50 - direct p50; "
        "targets: ratio p50 <= 1.10 and p99 <= 1.5 at 20 users and 50 ms, own <= 15 ms at 0 ms)"
    )


if __name__ == "__main__":
    main()
