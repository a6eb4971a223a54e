"""Bulk work against the gateway: a contact import and a personalised send, with and without
the gateway's limit, through real `python -m app.worker` consumers.

    .venv/bin/python bench/bulk.py                      # 10,000 rows / recipients, 20 ms
    .venv/bin/python bench/bulk.py --quick              # a short smoke run
    make bench-bulk BENCH_ARGS="--consumers 2 --threads 2 --runners 4"

Processes: the simulator (`python -m app.simulator --keep-alive --latency-ms 20`, served as
a production gateway is), `--consumers` job consumers (`python -m app.worker --workers
THREADS`, production settings, SQLite queue) and this process, which prepares the portal
database (SQLite in a temporary folder, or --database-url), starts the jobs as the portal's
views do and watches the database.

Concurrency - gateway calls in flight at once - is the number of runner tasks of a job
(PORTAL_JOBS_RUNNERS) that have a worker thread: min(runners, consumers x threads). Each
runner makes one call at a time. The defaults are production's: 2 runners per job, one
consumer of 4 threads (`make worker`).

(a) no limit: the simulator's limit and the workspace's pace are out of reach; the job runs
    to its end. Rate = items done / (start .. done); ideal = concurrency / latency.
(b) the gateway allows LIMIT calls a minute (the simulator's fixed window, as Laravel's
    limiter) and the workspace's pace is set to LIMIT a minute; the job is stopped after
    --window seconds (120). Rate = items done in the window; the ideal is the limit.
Either way the calls answered `Too Many Attempts.` are the calls the simulator logged
(control API /_control/requests) minus the ones it processed.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stack import (  # noqa: E402
    EMAIL,
    PASSWORD,
    TOKEN,
    Stack,
    children,
    cpu_seconds,
    stop,
    wait_http,
)

UNLIMITED = 100_000_000  # calls a minute: a limit nothing reaches
TARGET_A = 0.90  # of concurrency / latency
TARGET_B = 0.95  # of the limit
TARGET_429 = 0.01  # share of calls answered Too Many Attempts.


@dataclass
class Result:
    workload: str
    setting: str
    items: int
    seconds: float
    ideal: float  # items per second
    calls: int  # calls the simulator logged for the workload's path in the measured run
    refused: int  # of them answered Too Many Attempts.
    worker_cpu: float  # CPU seconds of the consumers during the run
    sim_cpu: float
    direct: float | None = None  # items per second of the same calls made directly

    @property
    def of_direct(self) -> float | None:
        return self.rate / self.direct if self.direct else None

    @property
    def rate(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    @property
    def share(self) -> float:
        return self.rate / self.ideal if self.ideal else 0.0

    @property
    def refused_share(self) -> float:
        return self.refused / self.calls if self.calls else 0.0


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stack = Stack(database_url=args.database_url)
        self.procs: list[subprocess.Popen] = []
        self.env = {
            **self.stack.env(),
            "PORTAL_JOBS_RUNNERS": str(args.runners),
            "PORTAL_JOBS_PACE": str(UNLIMITED),
            "PORTAL_LOG_LEVEL": "WARNING",
        }

    # -- processes ----------------------------------------------------------------------------
    def spawn(self, command: list[str], log: str) -> subprocess.Popen:
        out = open(self.stack.folder / log, "wb")  # noqa: SIM115 - lives as long as the process
        proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=out)  # noqa: S603
        self.procs.append(proc)
        return proc

    def __enter__(self) -> Bench:
        from app.simulator.control import SimulatorControl

        stack = self.stack
        self.sim = self.spawn(
            [
                sys.executable,
                "-m",
                "app.simulator",
                "--port",
                str(stack.sim_port),
                "--control",
                "--keep-alive",
                "--rate-limit",
                str(UNLIMITED),
                "--latency-ms",
                str(self.args.latency_ms),
            ],
            "simulator.log",
        )
        wait_http(stack.sim_url + "/_control/config")
        self.control = SimulatorControl(stack.sim_url)
        os.environ.update({k: v for k, v in self.env.items() if k.startswith("PORTAL_")})
        from flask_migrate import upgrade

        from app import create_app
        from app.extensions import db
        from app.services import accounts, gotone, workspaces

        self.app = create_app(
            {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1}
        )
        self.ctx = self.app.app_context()
        self.ctx.push()
        upgrade(directory=str(ROOT / "migrations"))
        self.user = accounts.create_user(EMAIL, PASSWORD)
        self.workspace = workspaces.create("Bench", self.user, gotone_url=stack.api)
        self.fresh_account()
        gotone.set_token(self.workspace, self.user, TOKEN)
        self.user_id, self.workspace_id = self.user.id, self.workspace.id
        db.session.commit()
        self.workers = [
            self.spawn(
                [sys.executable, "-m", "app.worker", "--workers", str(self.args.threads)],
                f"worker{n}.log",
            )
            for n in range(self.args.consumers)
        ]
        return self

    def __exit__(self, *exc) -> None:
        stop(self.procs)
        self.ctx.pop()

    def fresh_account(self, limit: int = UNLIMITED) -> None:
        """A clean simulator (no contacts, request log or limit window) with the bench token."""
        self.control.reset()
        self.control.configure(rate_limit=limit, latency_ms=self.args.latency_ms)
        self.control.create_account(token=TOKEN, balance=-1)

    def cpu(self) -> tuple[float, float]:
        """CPU seconds so far of the consumers, and of the simulator (with --keep-alive a
        gunicorn master and its worker)."""
        workers = sum(cpu_seconds(p.pid) or 0.0 for p in self.workers)
        simulator = sum(cpu_seconds(pid) or 0.0 for pid in [self.sim.pid, *children(self.sim.pid)])
        return workers, simulator

    # -- portal state -------------------------------------------------------------------------
    def objects(self):
        from app.extensions import db
        from app.models import User, Workspace

        db.session.expire_all()
        return db.session.get(Workspace, self.workspace_id), db.session.get(User, self.user_id)

    def set_pace(self, calls: int) -> None:
        from app.services import jobs

        workspace, user = self.objects()
        jobs.set_pace(workspace, user, calls)

    def job(self, job_id: int):
        from app.extensions import db
        from app.models import Job

        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.commit()
        return job

    def wait(self, job_id: int, done, timeout: float):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.job(job_id)
            if done(job):
                return job
            time.sleep(0.05)
        raise SystemExit(f"job {job_id} timed out; logs in {self.stack.folder}")

    # -- one measured run ---------------------------------------------------------------------
    def measure(self, workload: str, setting: str) -> Result:
        limited = setting == "b"
        limit = self.args.limit if limited else UNLIMITED
        self.set_pace(limit)
        prepare = self.prepare_import if workload == "import" else self.prepare_send
        go = prepare(limit)
        cpu_before = self.cpu()
        started = time.time()
        job_id = go()
        window = self.args.window if limited else 3600.0
        job = self.wait(job_id, lambda j: j.final or time.time() - started >= window, 3700)
        ended = time.time()
        done = job.processed
        cpu_after = self.cpu()
        if not job.final:
            self.stop(job)
        calls, answered = self.gateway_counts(workload, job_id, started, ended)
        concurrency = min(self.args.runners, self.args.consumers * self.args.threads)
        ideal = limit / 60 if limited else concurrency / (self.args.latency_ms / 1000)
        result = Result(
            workload,
            setting,
            done,
            ended - started,
            ideal,
            calls,
            max(0, calls - answered),
            cpu_after[0] - cpu_before[0],
            cpu_after[1] - cpu_before[1],
        )
        if not limited and self.args.direct:
            result.direct = self.direct(workload, concurrency)
        return result

    def direct(self, workload: str, concurrency: int) -> float:
        """The same gateway calls made directly - `concurrency` threads, each one call at a
        time through the portal's own client, no database - items per second: what the
        simulator and the client allow, the portal's job machinery left out."""
        import threading

        from app.services.gotone import client_for

        self.fresh_account()
        group = self.control.seed_group(TOKEN, "Bench direct")["uid"]
        client = client_for(self.objects()[0])
        count = min(self.args.rows, self.args.direct)
        numbers = iter(range(count))
        lock = threading.Lock()

        def call_all() -> None:
            while True:
                with lock:
                    n = next(numbers, None)
                if n is None:
                    return
                phone = f"1202{5_000_000 + n:07d}"
                if workload == "import":
                    client.create_contact(group, phone, f"First{n}", "")
                else:
                    client.send_sms([phone], f"Hi First{n}, your order is ready.")

        threads = [threading.Thread(target=call_all) for _ in range(concurrency)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return count / (time.monotonic() - started)

    def prepare_import(self, limit: int):
        """A group and a CSV of unique valid numbers; the dry run done: ready to go on."""
        from werkzeug.datastructures import FileStorage

        from app.jobs import wake
        from app.services import imports, jobs

        self.fresh_account(limit)
        group = self.control.seed_group(TOKEN, "Bench import")["uid"]
        lines = "phone,first_name\n" + "\n".join(
            f"1202{5_000_000 + n:07d},First{n}" for n in range(self.args.rows)
        )
        upload = FileStorage(io.BytesIO(lines.encode()), filename="bench.csv")
        workspace, user = self.objects()
        job = imports.create_import(workspace, user, group, "Bench import", upload, None)
        job_id = job.id
        wake(job_id)
        analysed = time.monotonic()
        self.wait(job_id, lambda j: j.state == "ready", 600)
        self.dry_run_seconds = time.monotonic() - analysed

        def go() -> int:
            jobs.start(self.job(job_id), self.objects()[1])  # the member's "Import" button
            wake(job_id, copies=self.args.runners)
            return job_id

        return go

    def prepare_send(self, limit: int):
        """A group of ROWS contacts seeded in the simulator, read as compose reads it."""
        from app.services import compose, outbox
        from app.services.gotone import client_for

        self.fresh_account()
        people = [
            {
                "phone": f"1202{5_000_000 + n:07d}",
                "first_name": f"First{n}",
                "last_name": f"Last{n}",
            }
            for n in range(self.args.rows)
        ]
        group = self.control.seed_group(TOKEN, "Bench send", people)["uid"]
        workspace, user = self.objects()
        recipients = compose.collect(workspace, client_for(workspace), "", [group]).people
        assert len(recipients) == self.args.rows, len(recipients)
        # The group read above must not count in the limit window the send is measured in:
        # a fresh account (numbers need no contact to receive a message).
        self.fresh_account(limit)
        draft = outbox.Draft(text="Hi {first_name}, your order is ready.", recipients=recipients)
        key = f"bench-{time.time_ns()}"
        request = outbox.submit(workspace, user, key, draft).request
        request_id = request.id

        def go() -> int:
            from app.extensions import db
            from app.models import SendRequest

            outbox.start(db.session.get(SendRequest, request_id))  # as the send view does
            return db.session.get(SendRequest, request_id).job_id

        return go

    def stop(self, job) -> None:
        """Stop the job (the member's Stop button) and let the calls in flight finish."""
        from app.services import jobs

        jobs.cancel(job, self.objects()[1])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and jobs.unfinished(job.id)[1]:
            time.sleep(0.1)

    def gateway_counts(
        self, workload: str, job_id: int, started: float, ended: float
    ) -> tuple[int, int]:
        """(calls logged in the run, calls processed) for the workload's gateway path."""
        from sqlalchemy import func, select

        from app.extensions import db
        from app.models import JobItem, OutboxMessage, SendRequest
        from app.models import jobs as states

        suffix = "/store" if workload == "import" else "/sms/send"
        logged = [
            r
            for r in self.control.requests()
            if r["method"] == "POST" and r["path"].endswith(suffix) and r["time"] >= started
        ]
        if workload == "import":
            # Every item with an answer from the gateway (created, already there, refused).
            answered = db.session.scalar(
                select(func.count()).where(
                    JobItem.job_id == job_id,
                    JobItem.state.in_((states.ITEM_DONE, states.ITEM_REJECTED)),
                    JobItem.outcome != "invalid",
                    JobItem.outcome != "duplicate",
                )
            )
        else:
            answered = db.session.scalar(
                select(func.count()).where(
                    OutboxMessage.request_id
                    == select(SendRequest.id).where(SendRequest.job_id == job_id).scalar_subquery(),
                    OutboxMessage.state.in_(("accepted", "failed")),
                )
            )
        db.session.commit()
        return len(logged), answered or 0


def table(results: list[Result], args: argparse.Namespace) -> str:
    concurrency = min(args.runners, args.consumers * args.threads)
    head = (
        f"{'workload':<8} {'setting':<22} {'items':>6} {'secs':>6} {'ideal/s':>8} "
        f"{'rate/s':>8} {'% ideal':>8} {'direct/s':>8} {'% dir':>6} {'calls':>6} "
        f"{'429':>5} {'429 %':>6} "
        f"{'cpu ms/item w+s':>15}  target"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        if r.setting == "a":
            setting = f"a: no limit (c={concurrency})"
            target = f">= {TARGET_A:.0%} of ideal"
            ok = r.share >= TARGET_A
        else:
            setting = f"b: limit {args.limit}/min"
            target = f">= {TARGET_B:.0%} of limit, < {TARGET_429:.0%} 429"
            ok = r.share >= TARGET_B and r.refused_share < TARGET_429
        direct = f"{r.direct:.1f}" if r.direct else "-"
        of_direct = f"{r.of_direct:.0%}" if r.of_direct else "-"
        per_item = (
            f"{r.worker_cpu / r.items * 1000:.1f}+{r.sim_cpu / r.items * 1000:.1f}"
            if r.items
            else "-"
        )
        lines.append(
            f"{r.workload:<8} {setting:<22} {r.items:>6} {r.seconds:>6.1f} "
            f"{r.ideal:>8.1f} {r.rate:>8.1f} {r.share:>8.1%} {direct:>8} {of_direct:>6} "
            f"{r.calls:>6} "
            f"{r.refused:>5} {r.refused_share:>6.2%} {per_item:>15}  {target} "
            f"{'MET' if ok else 'NOT MET'}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000, help="rows / recipients (10,000)")
    parser.add_argument("--latency-ms", type=int, default=20, help="simulator latency (20)")
    parser.add_argument("--limit", type=int, default=600, help="(b): calls a minute (600)")
    parser.add_argument(
        "--window",
        type=float,
        default=120.0,
        help="(b): seconds measured before the job is stopped (120)",
    )
    parser.add_argument(
        "--consumers", type=int, default=1, help="`python -m app.worker` processes (1)"
    )
    parser.add_argument("--threads", type=int, default=4, help="worker threads each (4)")
    parser.add_argument(
        "--runners",
        type=int,
        default=2,
        help="runner tasks per job, PORTAL_JOBS_RUNNERS (2, its default)",
    )
    parser.add_argument(
        "--only",
        choices=["import", "send", "a", "b"],
        action="append",
        help="run only these workloads / settings (repeatable)",
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 rows, 20 s windows")
    parser.add_argument(
        "--direct",
        type=int,
        default=None,
        help="(a): calls made directly for the comparison (default --rows: the "
        "simulator's contact creation slows as its group grows; 0: none)",
    )
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.window = min(args.rows, 1000), min(args.window, 20.0)
    if args.direct is None:
        args.direct = args.rows
    chosen = set(args.only or [])
    workloads = [w for w in ("import", "send") if not chosen & {"import", "send"} or w in chosen]
    settings = [s for s in ("a", "b") if not chosen & {"a", "b"} or s in chosen]

    results = []
    with Bench(args) as bench:
        from app.extensions import db

        dialect = db.engine.dialect.name
        for setting in settings:
            for workload in workloads:
                print(f"running {workload} ({setting}) ...", flush=True)
                result = bench.measure(workload, setting)
                results.append(result)
                if workload == "import":
                    print(f"  dry run of {args.rows} rows: {bench.dry_run_seconds:.1f} s")
                print(
                    f"  {result.items} items in {result.seconds:.1f} s = {result.rate:.1f}/s "
                    f"({result.share:.1%} of {result.ideal:.1f}/s)",
                    flush=True,
                )
    concurrency = min(args.runners, args.consumers * args.threads)
    print()
    print(
        f"Bulk: {args.rows} rows/recipients, simulator latency {args.latency_ms} ms, "
        f"{args.consumers} consumer(s) x {args.threads} threads, {args.runners} runners per "
        f"job -> concurrency {concurrency} calls in flight; ideal (a) = {concurrency} / "
        f"{args.latency_ms} ms; {dialect}; {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}"
    )
    print(table(results, args))
    print(
        f"direct/s: the same calls ({args.direct}) made directly by `concurrency` threads "
        "through the portal's client (no jobs, no database): what the simulator and the "
        "client allow; % dir = rate / direct."
    )
    print("cpu ms/item: CPU time of the consumer processes + of the simulator per item done.")


if __name__ == "__main__":
    main()
