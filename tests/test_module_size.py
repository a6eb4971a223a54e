"""No module in app/ over 400 lines (issue 13): a module that grows past it is split by job,
as services/jobs/ and services/outbox/ were."""

from __future__ import annotations

from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
MAX_LINES = 400


def test_no_module_in_app_is_over_400_lines():
    sizes = {
        str(path.relative_to(APP.parent)): len(path.read_text(encoding="utf-8").splitlines())
        for path in APP.rglob("*.py")
    }
    assert {name: n for name, n in sizes.items() if n > MAX_LINES} == {}
