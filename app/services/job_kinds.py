"""The kinds of job the portal runs: import, export, send.

Each kind registers itself with the job engine (services/jobs/kinds.py) when its module is
imported; the engine imports none of them. create_app calls load_job_kinds, so the registry
is full in the web process and in every consumer (`python -m app.worker`, `flask jobs
worker`) before the first task runs.
"""

from __future__ import annotations

from flask import Flask

from ..models import jobs as states
from . import exports, imports, outbox
from . import jobs as engine

KIND_MODULES = {states.IMPORT: imports, states.EXPORT: exports, outbox.SEND_JOB: outbox}


def load_job_kinds(app: Flask) -> None:
    """Check that every kind registered itself, and list them on the app."""
    missing = [name for name in KIND_MODULES if engine.kind_of(name) is None]
    if missing:  # pragma: no cover - a kind module lost its register() call
        raise RuntimeError(f"job kinds not registered: {', '.join(missing)}")
    app.extensions["jobs.kinds"] = tuple(KIND_MODULES)
