"""Job kinds register themselves with the engine (issue 13): the engine alone knows no kind,
and create_app - which the web process, `python -m app.worker` and `flask jobs worker` all
call - fills the registry before any task can run. A fresh interpreter, so that nothing the
test process imported earlier registers a kind on its behalf."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import KEYS

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
import app.jobs
from app.services import jobs
before = [name for name in ("import", "export", "send") if jobs.kind_of(name)]
kinds = {"app.services.imports", "app.services.exports", "app.services.outbox"}
loaded = sorted(kinds & set(sys.modules))
from app import create_app
app = create_app()
after = {name: sorted(jobs.kind_of(name).handlers) for name in app.extensions["jobs.kinds"]}
print(json.dumps({"before": before, "loaded": loaded, "after": after}))
"""


def test_the_engine_knows_no_kind_until_create_app_loads_them(tmp_path):
    env = {
        **os.environ,
        "PORTAL_ENV": "testing",
        "PORTAL_SECRET_KEY": "test-secret-key",
        "PORTAL_ENCRYPTION_KEYS": KEYS,
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_LOG_LEVEL": "WARNING",
    }
    env.pop("PORTAL_REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == [] and seen["loaded"] == []
    assert seen["after"] == {
        "import": ["analysing", "running"],
        "export": ["running"],
        "send": ["running"],
    }
