"""Each log line is written once, in the portal's format, whatever configured logging first."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.crypto import generate_key

ROOT = Path(__file__).resolve().parent.parent

# What `make run` does (app/devserver.py): create the app, upgrade in-process, then work.
_DEVSERVER_LIKE = """
import logging
from flask_migrate import upgrade
from app import create_app

app = create_app()
with app.app_context():
    upgrade()
logging.getLogger("app.gotone").warning("GoTone GET /api/v3/balance -> - not_sent in 3 ms")
logging.getLogger("app.gotone").info("GoTone GET /api/v3/me -> 200 success in 4 ms")
"""


def test_gateway_log_line_is_written_once_with_its_whole_level(tmp_path):
    env = {
        "PORTAL_ENV": "development",
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_ENCRYPTION_KEYS": generate_key(),
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", _DEVSERVER_LIKE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = (done.stdout + done.stderr).splitlines()
    warned = [line for line in lines if "not_sent in 3 ms" in line]
    assert len(warned) == 1, lines
    assert " WARNING app.gotone [-] GoTone GET /api/v3/balance" in warned[0]
    # The level set by PORTAL_LOG_LEVEL (INFO) still holds after Alembic ran.
    assert sum("success in 4 ms" in line for line in lines) == 1, lines
    assert any("Running upgrade" in line for line in lines), lines
