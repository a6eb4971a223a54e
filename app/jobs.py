"""Background work on Huey: the queue instance, the one task, the consumer and the sweeper.

The database is the source of truth (app/models/jobs.py); the queue only wakes workers up.
Huey delivers a task at most once, so a consumer killed mid-task loses it: the sweeper
(every JOBS_SWEEP_SECONDS in every consumer) re-queues items whose lease expired and wakes
jobs nobody has worked on for a lease. Running the task twice never does the work twice:
items are claimed with an atomic UPDATE (a few at a time when the pace is fast), and each is
called, finished or released on its own.

`SqliteHuey` (a file in the instance folder, separate from the portal database) by default;
`RedisHuey` when PORTAL_REDIS_URL is set, so consumers on several hosts share one queue.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey
from huey.api import Huey
from huey.consumer import Consumer
from sqlalchemy.exc import DBAPIError, OperationalError

from .extensions import db
from .services import jobs

try:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError
except ImportError:  # pragma: no cover - redis is installed with huey's Redis support
    RedisConnectionError = RedisTimeoutError = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

TASK_NAME = "portal.run_job"


def _env(name: str, default: str) -> str:
    return os.environ.get(name) or default


def job_defaults(instance_path: str) -> dict[str, Any]:
    """Settings of the job system, from PORTAL_JOBS_* variables (tests override them)."""
    return {
        # The Huey queue: its name (one per deployment, or per test) and the SQLite file.
        "JOBS_QUEUE_NAME": _env("PORTAL_JOBS_QUEUE", "portal-jobs"),
        "JOBS_SQLITE_FILE": _env(
            "PORTAL_JOBS_SQLITE_FILE", str(Path(instance_path) / "jobs-queue.db")
        ),
        # Uploaded files and exports live here, one folder per job.
        "JOBS_DIR": _env("PORTAL_JOBS_DIR", str(Path(instance_path) / "jobs")),
        # Gateway calls per window per workspace; the gateway's documented default is 60/min.
        "JOBS_PACE": int(_env("PORTAL_JOBS_PACE", "60")),
        "JOBS_PACE_WINDOW": float(_env("PORTAL_JOBS_PACE_WINDOW", "60")),
        # A claimed item belongs to its worker this long; then the sweeper may re-queue it.
        # It must exceed the gateway timeout plus the longest pace wait (JOBS_MAX_INLINE_WAIT);
        # a runner gives back claimed items it has not called within a quarter of it.
        "JOBS_LEASE_SECONDS": float(_env("PORTAL_JOBS_LEASE_SECONDS", "120")),
        "JOBS_SWEEP_SECONDS": float(_env("PORTAL_JOBS_SWEEP_SECONDS", "15")),
        # A running job with no sign of life for this long gets fresh runners from the sweeper
        # (its consumer may have died; extra runners find nothing to claim). Below the lease,
        # so the other consumers take over long before the dead one's items come back.
        "JOBS_STALL_SECONDS": float(_env("PORTAL_JOBS_STALL_SECONDS", "30")),
        # Runner tasks per job (they share the workspace's pace), and how long one runs
        # before it re-queues itself so that other workspaces' jobs get a worker thread.
        "JOBS_RUNNERS": int(_env("PORTAL_JOBS_RUNNERS", "2")),
        "JOBS_SLICE_SECONDS": float(_env("PORTAL_JOBS_SLICE_SECONDS", "10")),
        # A pace wait up to this is slept in the worker; a longer one re-schedules the task.
        "JOBS_MAX_INLINE_WAIT": float(_env("PORTAL_JOBS_MAX_INLINE_WAIT", "2")),
        "JOBS_MAX_ATTEMPTS": int(_env("PORTAL_JOBS_MAX_ATTEMPTS", "5")),
        # Imports: the biggest file accepted, and up to how many contacts a group is read in
        # the dry run to count the numbers it already holds.
        "IMPORT_MAX_BYTES": int(float(_env("PORTAL_IMPORT_MAX_MB", "50")) * 1024 * 1024),
        "IMPORT_CHECK_GROUP_MAX": int(_env("PORTAL_IMPORT_CHECK_GROUP_MAX", "500")),
    }


def make_huey(config: dict[str, Any]) -> Huey:
    """RedisHuey when REDIS_URL is set, else SqliteHuey: the same task code runs on both."""
    name = config["JOBS_QUEUE_NAME"]
    if config.get("REDIS_URL"):
        return RedisHuey(name, url=config["REDIS_URL"], results=False)
    path = Path(config["JOBS_SQLITE_FILE"])
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False)


def init_jobs(app: Flask) -> None:
    """Create the app's queue and register the job task on it (called once per app)."""
    for key, value in job_defaults(app.config["INSTANCE_PATH"]).items():
        app.config.setdefault(key, value)
    # The biggest request the portal reads: an import file plus the form around it.
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = app.config["IMPORT_MAX_BYTES"] + 1024 * 1024
    huey = make_huey(app.config)

    @huey.task(name=TASK_NAME)
    def run_job(job_id: int, retry: int = 0) -> None:
        # One app per consumer process; every task in its own app context (its own session).
        with app.app_context():
            _run_and_reschedule(app, job_id, retry)

    app.extensions["huey"] = huey
    app.extensions["huey.run_job"] = run_job


# A runner that meets a transient failure queues itself again after min(cap, base * 2**n)
# seconds, up to RETRY_LIMIT times in a row; then the sweeper's round takes over.
RETRY_BASE_SECONDS = 0.5
RETRY_CAP_SECONDS = 30.0
RETRY_LIMIT = 10


def transient(error: BaseException) -> bool:
    """A failure that goes away by itself: the database or Redis briefly unreachable."""
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if RedisConnectionError is None:  # pragma: no cover
        return False
    return isinstance(error, RedisConnectionError | RedisTimeoutError)


def retry_delay(retry: int) -> float:
    return min(RETRY_CAP_SECONDS, RETRY_BASE_SECONDS * 2**retry)


def _run_and_reschedule(app: Flask, job_id: int, retry: int = 0) -> None:
    try:
        delay = jobs.run(job_id)
    except Exception as error:
        # Never let the exception kill a worker thread. The job stays as the database says:
        # claimed items go back when their lease ends (their call may have happened).
        try:
            db.session.rollback()
        except Exception:  # the connection itself is gone; the pool replaces it
            log.debug("rollback after a runner failure failed", exc_info=True)
        if not transient(error) or retry >= RETRY_LIMIT:
            log.exception("job %s: runner failed; the sweeper wakes it again", job_id)
            return
        wait = retry_delay(retry)
        log.warning(
            "job %s: runner met %s; trying again in %.1f s", job_id, type(error).__name__, wait
        )
        try:
            wake(job_id, delay=wait, app=app, retry=retry + 1)
        except Exception:  # the queue itself is down: the sweeper wakes the job later
            log.exception("job %s: could not queue the runner again", job_id)
        return
    if delay is not None:
        wake(job_id, delay=delay, app=app)


def wake(
    job_id: int, *, delay: float = 0, copies: int = 1, app: Flask | None = None, retry: int = 0
) -> None:
    """Queue `copies` runner tasks for the job (after the caller committed).

    Several copies are separate queue entries, so idle consumers (on any host) take some.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    task = app.extensions["huey.run_job"]
    kwargs = {"retry": retry} if retry else None
    for _ in range(max(1, copies)):
        if delay and delay > 0:
            task.schedule((job_id,), kwargs, delay=delay)
        else:
            task(job_id, **(kwargs or {}))


def sweep_once(app: Flask) -> int:
    """Re-queue expired items and wake stalled jobs; returns how many jobs were woken."""
    with app.app_context():
        woken = jobs.sweep()
        for job_id in woken:
            try:
                wake(job_id, copies=app.config["JOBS_RUNNERS"], app=app)
            except Exception:
                # The queue is down: the job is left for the next round, not for a lease.
                log.exception("job %s: could not be woken; trying again next round", job_id)
                jobs.forget_heartbeat(job_id)
        # Other periodic work, hooked by create_app (app/wiring.py): abandoned sends, due
        # scheduled sends.
        for hook in app.extensions.get("jobs.periodic", ()):
            try:
                hook()
            except Exception:
                log.exception("periodic hook %s failed", getattr(hook, "__name__", hook))
    return len(woken)


class Sweeper(threading.Thread):
    """Runs sweep_once every JOBS_SWEEP_SECONDS until stopped (one per consumer)."""

    def __init__(self, app: Flask) -> None:
        super().__init__(name="jobs-sweeper", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = float(self.app.config["JOBS_SWEEP_SECONDS"])
        while True:
            try:
                sweep_once(self.app)
            except Exception:  # the database may be briefly unavailable; try next round
                log.exception("jobs sweeper failed")
            if self.stopped.wait(interval):
                return

    def stop(self) -> None:
        self.stopped.set()


def make_consumer(app: Flask, workers: int) -> Consumer:
    huey = app.extensions["huey"]
    # Poll at least once a second when idle: a freshly queued import starts promptly.
    return Consumer(huey, workers=workers, periodic=False, max_delay=1.0, check_worker_health=True)


def run_worker(app: Flask, workers: int) -> None:
    """Run a consumer in the foreground (signals: SIGINT graceful stop, SIGTERM interrupt)."""
    sweeper = Sweeper(app)
    sweeper.start()
    consumer = make_consumer(app, workers)
    try:
        consumer.run()
    finally:
        sweeper.stop()


def start_background(app: Flask, workers: int = 2):
    """Start a consumer and a sweeper in threads of this process (`make run`, browser tests).

    Returns a function that stops both.
    """
    consumer = make_consumer(app, workers)
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    # Consumer.start() installs Huey's handlers, which only its own run() loop acts on: give
    # the host process (the dev server, a test) its Ctrl-C and SIGTERM back.
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    sweeper = Sweeper(app)
    sweeper.start()

    def stop() -> None:
        sweeper.stop()
        consumer.stop(graceful=True)

    return stop


def drain(app: Flask, limit: int = 10_000) -> int:
    """Run every queued task (and due scheduled ones) in this thread; for tests and tools."""
    huey = app.extensions["huey"]
    ran = 0
    while ran < limit:
        for task in huey.read_schedule():
            huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            return ran
        if not huey.ready_to_run(task):
            huey.add_schedule(task)  # as a consumer would: not before its time
            continue
        huey.execute(task)
        ran += 1
    return ran
