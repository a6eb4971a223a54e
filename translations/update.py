"""Re-extract messages.pot, merge it into zh_Hans, fill in the ZH dicts, compile the .mo.

Chinese texts live in `zh_hans_*.py` modules beside this file (one per area, each a dict `ZH`),
so work on different areas never edits the same file.

Run `python translations/update.py` after changing user-visible strings; the compiled .mo is
committed so the portal needs no build step (tests/test_i18n.py checks it is up to date).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def chinese_texts() -> dict[str, str]:
    """Merge the ZH dicts of every zh_hans_*.py module."""
    merged: dict[str, str] = {}
    for path in sorted(HERE.glob("zh_hans_*.py")):
        merged.update(importlib.import_module(path.stem).ZH)
    return merged


PO = HERE / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def main() -> None:
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    extract = [pybabel, "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
               "-o", "translations/messages.pot", "--no-location", "--sort-output",
               "--omit-header", "."]  # fmt: skip
    update = [pybabel, "update", "-i", "translations/messages.pot", "-d", "translations",
              "-l", "zh_Hans", "--no-fuzzy-matching", "--omit-header"]  # fmt: skip
    for command in (extract, update):
        subprocess.run(command, cwd=HERE.parent, check=True)  # noqa: S603 - fixed arguments
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans")
    zh = chinese_texts()
    for message in catalog:
        if message.id and message.id in zh:
            message.string = zh[message.id]
    with PO.open("wb") as fh:
        write_po(fh, catalog, omit_header=True, sort_output=True, no_location=True)
    with PO.with_suffix(".mo").open("wb") as fh:
        write_mo(fh, catalog)


if __name__ == "__main__":
    main()
