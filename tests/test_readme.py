"""The README's set-up promise and its copy of the permission table match the code."""

from __future__ import annotations

import re
from pathlib import Path

from app.permissions import PERMISSIONS

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_setup_commands():
    block = re.search(r"```\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_readme_permission_table_is_the_code_table():
    rows = dict(re.findall(r"^\| `([a-z_.]+)` \| (viewer|member|admin|owner) \|$", README, re.M))
    assert rows == {name: role.value for name, role in PERMISSIONS.items()}
