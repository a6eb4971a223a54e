"""The load benchmark's user actions work against the real stack (simulator + gunicorn).

Each check runs in a subprocess: bench/stack.py sets PORTAL_* variables in the process that
seeds the portal, which must not leak into the rest of the test session. No timings are
asserted, only that the actions succeed (a send that the portal refuses, as happened when the
send key was missing from the parsed review form, made every benchmark send a 422).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SEND_ONE = """
import sys
sys.path.insert(0, "bench")
from stack import Stack, TOKEN
from load_mix import send_one
with Stack(workers=1, contacts=3) as stack:
    session = stack.login()
    print("status", send_one(stack, session, "Hello from the bench test"))
    print("sent", len(stack.control.sends(TOKEN)))
"""


def test_send_one_sends_one_message():
    done = subprocess.run(
        [sys.executable, "-c", SEND_ONE], cwd=ROOT, capture_output=True, text=True, timeout=110
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "status 303" in done.stdout, done.stdout
    assert "sent 1" in done.stdout, done.stdout


@pytest.mark.slow
def test_load_benchmark_runs_the_mix_without_errors():
    done = subprocess.run(
        [sys.executable, "bench/load.py", "--users", "3", "--duration", "8", "--workers", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
    )
    out = done.stdout
    assert "errors" in out and "target" in out, out + done.stderr[-2000:]
    for kind in ("list", "history", "dashboard", "send"):
        row = re.search(rf"^{kind}\s+\d+%\s+\d+%\s+(\d+)\s.*\s(\d+)$", out, re.M)
        assert row, (kind, out)
        assert int(row.group(1)) > 0 and int(row.group(2)) == 0, row.group(0)
    assert re.search(r"^errors\s+0\s+0\s+ok$", out, re.M), out
