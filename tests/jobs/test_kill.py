"""T6: a consumer killed with SIGKILL part way through a 2,000-row import, then restarted.

The consumer is a real subprocess (`python -m app.worker`) on the test's database and queue:
SQLite + SqliteHuey under `make test`, PostgreSQL + RedisHuey (a queue name of its own) under
`make test-pg`. The simulator answers after 10 ms. Afterwards: every valid number is in the
group exactly once, every item is final, nothing is queued, the job is complete.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.jobs import wake
from app.models import Job, JobItem
from app.models import jobs as states
from app.services import imports, jobs
from tests.conftest import KEYS, PG_URL
from tests.factories import make_user, make_workspace
from tests.jobs.conftest import TOKEN, contacts_of

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
JOB_SETTINGS = {
    "JOBS_PACE": 1_000_000,
    "JOBS_LEASE_SECONDS": 3,
    "JOBS_SWEEP_SECONDS": 0.5,
    "JOBS_RUNNERS": 4,
    "JOBS_SLICE_SECONDS": 5,
    "JOBS_MAX_INLINE_WAIT": 2,
}


def make_file(rows: int) -> tuple[bytes, set[str]]:
    """`rows` data rows: 2 % invalid, 3 % repeats of earlier numbers, the rest unique."""
    lines, unique = ["phone,first_name,last_name"], []
    for n in range(rows):
        if n % 50 == 7:
            lines.append(f"12{n},Bad,Number")  # too short everywhere
        elif n % 100 in (11, 45, 78) and unique:
            lines.append(f"+{unique[n % len(unique)]},Again,Repeat")
        else:
            phone = f"1202{5_000_000 + n:07d}"
            unique.append(phone)
            lines.append(f"{phone},First{n},Last{n}")
    return ("\n".join(lines) + "\n").encode(), set(unique)


def _queue_backend():
    if not PG_URL:
        return {}, {}
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError:
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not reachable at {REDIS_URL}")
        pytest.skip("Redis is not running")
    name = f"kill-test-{uuid.uuid4().hex[:8]}"
    return (
        {"REDIS_URL": REDIS_URL, "JOBS_QUEUE_NAME": name},
        {"PORTAL_REDIS_URL": REDIS_URL, "PORTAL_JOBS_QUEUE": name},
    )


class Consumer:
    """`python -m app.worker` in a subprocess with the test app's settings."""

    def __init__(self, app, env_extra: dict[str, str], log: Path) -> None:
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).get("connect_args", {})
        if options.get("options"):  # the PostgreSQL test schema
            url += "?options=" + options["options"].replace("=", "%3D")
        self.env = {
            **os.environ,
            "PORTAL_ENV": "testing",
            "PORTAL_SECRET_KEY": "test-secret-key",
            "PORTAL_ENCRYPTION_KEYS": KEYS,
            "PORTAL_DATABASE_URL": url,
            "PORTAL_INSTANCE_PATH": app.config["INSTANCE_PATH"],
            "PORTAL_JOBS_LEASE_SECONDS": str(JOB_SETTINGS["JOBS_LEASE_SECONDS"]),
            "PORTAL_JOBS_SWEEP_SECONDS": str(JOB_SETTINGS["JOBS_SWEEP_SECONDS"]),
            "PORTAL_JOBS_PACE": str(JOB_SETTINGS["JOBS_PACE"]),
            "PORTAL_JOBS_RUNNERS": str(JOB_SETTINGS["JOBS_RUNNERS"]),
            "PORTAL_JOBS_SLICE_SECONDS": str(JOB_SETTINGS["JOBS_SLICE_SECONDS"]),
            "PORTAL_LOG_LEVEL": "WARNING",
            **env_extra,
        }
        if "PORTAL_REDIS_URL" not in env_extra:
            self.env.pop("PORTAL_REDIS_URL", None)  # SqliteHuey, like the test app
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            command = [sys.executable, "-m", "app.worker", "--workers", "4"]
            self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=out)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _job(job_id: int) -> Job:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    db.session.commit()  # end the read transaction: the consumer writes meanwhile
    return job


def _wait_for(job_id: int, done, timeout: float, consumer: Consumer) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = _job(job_id)
        if done(job):
            return job
        assert consumer.proc.poll() is None, consumer.log.read_text()[-3000:]
        time.sleep(0.05)
    log = consumer.log.read_text()[-3000:]
    raise AssertionError(f"timed out; job {_job(job_id).__dict__}\n{log}")


def kill_and_restart(make_app, sim, tmp_path, figures, rows: int, deadline: float) -> None:
    app_extra, env_extra = _queue_backend()
    app = make_app(**JOB_SETTINGS, **app_extra)
    with app.app_context():
        token = sim.control.create_account(token=TOKEN, balance=100)
        sim.control.configure(latency_ms=10, rate_limit=1_000_000)
        group = sim.control.seed_group(token, "Everyone")["uid"]
        owner = make_user()
        workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
        content, valid = make_file(rows)
        upload = FileStorage(io.BytesIO(content), filename="big.csv")
        job = imports.create_import(workspace, owner, group, "Everyone", upload, None)
        wake(job.id)
        consumer = Consumer(app, env_extra, tmp_path / "consumer.log")
        consumer.start()
        started = time.monotonic()
        try:
            job = _wait_for(job.id, lambda j: j.state == states.READY, 60, consumer)
            assert job.to_process == len(valid), (job.to_process, len(valid))
            jobs.start(job, owner)
            wake(job.id, copies=app.config["JOBS_RUNNERS"])
            _wait_for(job.id, lambda j: j.processed >= job.to_process * 0.4, 90, consumer)
            consumer.kill()
            killed_at = _job(job.id).processed
            assert killed_at < job.to_process, "the import finished before the kill"
            time.sleep(0.5)
            consumer.start()
            job = _wait_for(job.id, lambda j: j.state == states.DONE, deadline, consumer)
        finally:
            consumer.stop()
            if app_extra:
                app.extensions["huey"].flush()  # the test's own Redis queue
        elapsed = time.monotonic() - started

        leftovers = db.session.scalar(
            db.select(db.func.count())
            .select_from(JobItem)
            .where(JobItem.job_id == job.id, JobItem.state.not_in(states.ITEM_FINAL))
        )
        assert leftovers == 0
        assert (job.created + job.existing, job.failed, job.refused) == (len(valid), 0, 0)
        assert job.invalid == rows // 50 and job.duplicates > 0
        phones = [str(c.phone) for c in contacts_of(sim, token, group)]
        assert len(phones) == len(set(phones)) == len(valid)  # each exactly once
        assert set(phones) == valid
        stores = sim.control.requests(f"/api/v3/contacts/{group}/store")
        # Only items in flight at the kill may have been sent twice (the gateway refused the
        # repeat as "already subscribed"): at most one per worker thread.
        assert len(valid) <= len(stores) <= len(valid) + 4
        figures(
            "T6",
            f"{rows}-row import, SIGKILL at {killed_at}/{job.to_process}, done in "
            f"{elapsed:.1f} s: {len(phones)} contacts for {len(valid)} valid rows "
            f"(0 duplicates, 0 lost), {len(stores) - len(valid)} repeated calls "
            "refused by the gateway as already subscribed",
        )


# About 25 s on an idle 2-core machine; the limits leave room for a loaded CI run.
@pytest.mark.timeout(400)
def test_sigkill_mid_import_then_restart_loses_and_repeats_nothing(
    make_app, sim, tmp_path, figures
):
    kill_and_restart(make_app, sim, tmp_path, figures, rows=2_000, deadline=180)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_mid_import_of_10000_rows(make_app, sim, tmp_path, figures):
    kill_and_restart(make_app, sim, tmp_path, figures, rows=10_000, deadline=240)
