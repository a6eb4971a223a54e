"""Peak memory of an import's dry run: a 1,000,000-row CSV through the real dry-run code.

    .venv/bin/python bench/memory.py                 # 1,000,000 rows
    .venv/bin/python bench/memory.py --rows 20000    # a smoke run

This process writes the CSV (phone, first_name, last_name; 1 % invalid numbers and 1 %
repeats of an earlier row, so every branch of the dry run is taken) into a temporary folder.
A child process (this script with --child) then prepares a portal database there (SQLite,
or --database-url), uploads the file with `imports.create_import` as the upload view does,
notes its resident memory (the baseline), and runs the job's dry run (`services.jobs.run`,
which a consumer would run: read the file, one item per row, counts) and nothing else. Its
peak resident memory is the kernel's high-water mark (VmHWM, = ru_maxrss); the child reports
it and the parent prints the table. The workspace has no gateway token, so the dry run's
optional count of the group's numbers is skipped (one call; no memory at stake).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MB = 200


def write_csv(path: Path, rows: int) -> int:
    """The test file; returns its size in bytes."""
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("phone,first_name,last_name\n")
        for n in range(rows):
            if n % 100 == 99:
                phone = f"0{n % 1000:03d}"  # not a phone number: invalid
            elif n % 100 == 49:
                phone = f"1202{5_000_000 + n - 40:07d}"  # a repeat of row n-40
            else:
                phone = f"1202{5_000_000 + n:07d}"
            out.write(f"{phone},First{n},Last{n}\n")
    return path.stat().st_size


def status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(folder: Path, csv_path: Path, database_url: str) -> None:
    """Only the dry run: prepare, note the baseline, run it, report as JSON on stdout."""
    import resource

    from app.crypto import generate_key

    os.environ.update(
        {
            "PORTAL_ENV": "production",
            "PORTAL_SECRET_KEY": "bench" * 8,
            "PORTAL_ENCRYPTION_KEYS": generate_key(),
            "PORTAL_DATABASE_URL": database_url,
            "PORTAL_INSTANCE_PATH": str(folder / "instance"),
            "PORTAL_LOG_LEVEL": "WARNING",
            "PORTAL_IMPORT_MAX_MB": "1000",
        }
    )
    os.environ.pop("PORTAL_REDIS_URL", None)
    from flask_migrate import upgrade
    from werkzeug.datastructures import FileStorage

    from app import create_app
    from app.extensions import db
    from app.models import Job
    from app.services import accounts, imports, jobs, workspaces

    app = create_app({"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 1024, "ARGON2_PARALLELISM": 1})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        user = accounts.create_user("memory@example.com", "memory-password")
        workspace = workspaces.create("Memory", user)
        with open(csv_path, "rb") as stream:
            upload = FileStorage(stream, filename="million.csv")
            job = imports.create_import(workspace, user, "g1", "Group", upload, None)
        job_id = job.id
        db.session.remove()
    with app.app_context():
        baseline = status_kib("VmRSS")
        started = time.perf_counter()
        jobs.run(job_id)  # the consumer's task: analyse the file (the dry run)
        seconds = time.perf_counter() - started
        job = db.session.get(Job, job_id)
        report = {
            "baseline_kib": baseline,
            "hwm_kib": status_kib("VmHWM"),
            "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "end_kib": status_kib("VmRSS"),
            "seconds": seconds,
            "state": job.state,
            "rows": job.rows,
            "to_process": job.to_process,
            "invalid": job.invalid,
            "duplicates": job.duplicates,
            "dialect": db.engine.dialect.name,
        }
    print(json.dumps(report))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp folder")
    parser.add_argument("--child", nargs=2, metavar=("FOLDER", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        folder = Path(args.child[0])
        child(folder, Path(args.child[1]), args.database_url or f"sqlite:///{folder / 'portal.db'}")
        return

    folder = Path(tempfile.mkdtemp(prefix="portal-memory-"))
    csv_path = folder / "million.csv"
    size = write_csv(csv_path, args.rows)
    command = [sys.executable, str(Path(__file__).resolve()), "--child", str(folder), str(csv_path)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    answer = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)  # noqa: S603
    if answer.returncode != 0:
        sys.stderr.write(answer.stderr)
        raise SystemExit(f"the dry run failed (files in {folder})")
    r = json.loads(answer.stdout.strip().splitlines()[-1])
    peak_mb = max(r["hwm_kib"], r["maxrss_kib"]) / 1024
    print(
        f"Dry run of a {args.rows:,}-row CSV ({size / 1e6:.1f} MB), {r['dialect']}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}: state {r['state']}, "
        f"{r['rows']:,} rows = {r['to_process']:,} to import + {r['invalid']:,} invalid + "
        f"{r['duplicates']:,} repeats"
    )
    head = (
        f"{'rows':>9} {'seconds':>8} {'rows/s':>8} {'baseline MB':>12} {'peak MB':>8} "
        f"{'growth MB':>10} {'target':>10}"
    )
    print(head)
    print("-" * len(head))
    print(
        f"{args.rows:>9,} {r['seconds']:>8.1f} {args.rows / r['seconds']:>8.0f} "
        f"{r['baseline_kib'] / 1024:>12.1f} {peak_mb:>8.1f} "
        f"{peak_mb - r['baseline_kib'] / 1024:>10.1f} {'< ' + str(TARGET_MB) + ' MB':>10} "
        f"{'MET' if peak_mb < TARGET_MB else 'NOT MET'}"
    )
    print(
        "peak = the child's VmHWM (ru_maxrss): its whole life, set-up included; baseline = "
        "its VmRSS just before the dry run."
    )


if __name__ == "__main__":
    main()
