"""`python -m app.worker`: a job consumer (Huey) with its sweeper, configured like the portal.

Same as `flask jobs worker`. Run one on every host that should do background work; with
PORTAL_REDIS_URL set they share one queue, and the database decides who does what.
SIGINT stops gracefully (tasks in flight finish), SIGTERM interrupts; after SIGKILL the
sweeper of any consumer re-queues the abandoned items once their lease expires.
"""

from __future__ import annotations

import argparse
import logging
import os


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m app.worker", description=__doc__)
    parser.add_argument(
        "--workers",
        "-w",
        type=int,
        default=int(os.environ.get("PORTAL_JOBS_WORKERS", "4")),
        help="worker threads (default 4, or PORTAL_JOBS_WORKERS)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("PORTAL_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )

    from . import create_app
    from .jobs import run_worker

    run_worker(create_app(), args.workers)


if __name__ == "__main__":
    main()
