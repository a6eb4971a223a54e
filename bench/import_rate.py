"""Measure the contact import rate: N rows through a real consumer against the simulator.

    .venv/bin/python bench/import_rate.py --rows 2000 --latency-ms 10 --pace 6000 --workers 4

Starts the simulator (given latency, no gateway limit unless --gateway-limit), a portal
database in a temporary folder (SQLite, or --database-url), and `python -m app.worker` as a
subprocess; uploads a CSV of unique valid numbers, waits for the dry run, starts the import
and prints the rate from "start" to "done" (contacts per second).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--latency-ms", type=int, default=10)
    parser.add_argument("--pace", type=int, default=6000, help="portal pace, calls per minute")
    parser.add_argument("--gateway-limit", type=int, default=1_000_000,
                        help="simulator limit, calls per minute")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--runners", type=int, default=4, help="runner tasks per job")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from werkzeug.datastructures import FileStorage

    from app import create_app
    from app.crypto import generate_key
    from app.extensions import db
    from app.jobs import wake
    from app.models import Job
    from app.services import imports, jobs
    from app.simulator.server import SimulatorServer
    from tests.factories import make_user, make_workspace

    folder = Path(tempfile.mkdtemp(prefix="import-bench-"))
    keys = generate_key()
    url = args.database_url or f"sqlite:///{folder / 'portal.db'}"
    env = {"PORTAL_ENV": "testing", "PORTAL_SECRET_KEY": "bench", "PORTAL_ENCRYPTION_KEYS": keys,
           "PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE_PATH": str(folder / "instance"),
           "PORTAL_JOBS_PACE": str(args.pace), "PORTAL_JOBS_RUNNERS": str(args.runners),
           "PORTAL_LOG_LEVEL": "WARNING"}  # fmt: skip
    os.environ.update(env)
    with SimulatorServer(control=True) as sim:
        sim.control.configure(latency_ms=args.latency_ms, rate_limit=args.gateway_limit)
        token = sim.control.create_account(token="1|bench-token-0000")  # noqa: S106 - simulator
        group = sim.control.seed_group(token, "Bench")["uid"]
        app = create_app({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024,
                          "ARGON2_PARALLELISM": 1})  # fmt: skip
        with app.app_context():
            db.drop_all()
            db.create_all()
            owner = make_user("bench@example.com")
            workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
            lines = "phone\n" + "\n".join(f"1202{5_000_000 + n:07d}" for n in range(args.rows))
            upload = FileStorage(io.BytesIO(lines.encode()), filename="bench.csv")
            job = imports.create_import(workspace, owner, group, "Bench", upload, None)
            job_id = job.id
            wake(job_id)
            log = open(folder / "worker.log", "wb")  # noqa: SIM115 - closed below
            worker = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "app.worker", "--workers", str(args.workers)],
                cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log)
            try:
                analysed = time.monotonic()
                job = _wait(job_id, lambda j: j.state == "ready")
                print(f"dry run of {args.rows} rows: {time.monotonic() - analysed:.2f} s")
                jobs.start(job, owner)
                started = time.monotonic()
                wake(job_id, copies=args.runners)
                job = _wait(job_id, lambda j: j.state == "done")
                took = time.monotonic() - started
            finally:
                worker.terminate()
                worker.wait()
                log.close()
            print(f"imported {job.created} contacts in {took:.2f} s = {job.created / took:.1f} "
                  f"contacts/s (latency {args.latency_ms} ms, pace {args.pace}/min, "
                  f"{args.workers} worker threads, {args.runners} runners, "
                  f"{db.engine.dialect.name})")  # fmt: skip
            assert db.session.get(Job, job_id).failed == 0


def _wait(job_id, done, timeout=3600):
    from app.extensions import db
    from app.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        job = db.session.get(Job, job_id)
        db.session.commit()
        if done(job):
            return job
        time.sleep(0.05)
    raise SystemExit("timed out")


if __name__ == "__main__":
    main()
