"""The catalogues: the template extracted from the sources, the Chinese catalogue merged from it
and every message translated, the committed .mo compiled from it (`make translations`)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import flask_babel
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
POT = ROOT / "translations" / "messages.pot"
PO = ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"
FIX = "run `make translations`"


def _pybabel(*args: str) -> None:
    """The pybabel of this interpreter, with the options of the Makefile's `translations`."""
    command = [sys.executable, "-m", "babel.messages.frontend", "-q", *args]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)


def _ids(path: Path) -> set:
    return {m.id for m in read_po(path.open("rb")) if m.id}


def test_the_template_is_extracted_from_the_current_sources(tmp_path):
    fresh = tmp_path / "messages.pot"
    options = "-F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --omit-header"
    _pybabel("extract", *options.split(), "-o", str(fresh), ".")
    if fresh.read_bytes() != POT.read_bytes():
        new, gone = _ids(fresh) - _ids(POT), _ids(POT) - _ids(fresh)
        raise AssertionError(
            f"{FIX}: new {sorted(new, key=str)[:5]}, gone {sorted(gone, key=str)[:5]}"
        )


def test_the_chinese_catalogue_is_merged_from_the_template(tmp_path):
    merged = tmp_path / "messages.po"
    shutil.copy(PO, merged)
    options = "-l zh_Hans --no-fuzzy-matching --ignore-pot-creation-date"
    _pybabel("update", *options.split(), "-i", str(POT), "-o", str(merged))
    assert merged.read_bytes() == PO.read_bytes(), FIX


def test_every_message_has_a_chinese_translation():
    catalog = read_po(PO.open("rb"), locale="zh_Hans")
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not all(m.string if m.pluralizable else [m.string]))
    ]
    assert not untranslated, f"translate in {PO.relative_to(ROOT)}: {untranslated[:5]}"
    # Chinese has one plural form: msgstr[0] serves every count.
    plurals = [m for m in catalog if m.pluralizable]
    assert plurals and all(len(m.string) == catalog.num_plurals == 1 for m in plurals)


def test_the_committed_mo_is_compiled_from_the_catalogue(tmp_path):
    compiled = tmp_path / "messages.mo"
    _pybabel("compile", "-i", str(PO), "-o", str(compiled), "-l", "zh_Hans")
    assert compiled.read_bytes() == PO.with_suffix(".mo").read_bytes(), FIX


def test_plurals_follow_the_count_in_english_and_use_the_one_chinese_form(app):
    wait = ("Wait %(num)s second, then try again.", "Wait %(num)s seconds, then try again.")
    source = '{{ ngettext("Import %(num)s contact", "Import %(num)s contacts", n) }}'
    found = {}
    for language in ("en", "zh"):
        for n in (1, 2):
            # A fresh app context each time: the request's translations are kept on `g`.
            headers = {"Accept-Language": language}
            with app.app_context(), app.test_request_context("/", headers=headers):
                page = app.jinja_env.from_string(source).render(n=n)
                found[language, n] = (flask_babel.ngettext(*wait, n), page)
    assert found["en", 1] == ("Wait 1 second, then try again.", "Import 1 contact")
    assert found["en", 2] == ("Wait 2 seconds, then try again.", "Import 2 contacts")
    assert found["zh", 1] == ("请等待 1 秒后重试。", "导入 1 个联系人")
    assert found["zh", 2] == ("请等待 2 秒后重试。", "导入 2 个联系人")


def test_template_gettext_matches_jinjas_newstyle_gettext(app):
    """`_()` in templates (app/i18n.py) gives what Jinja's own newstyle gettext gives: "%%" is
    "%", variables are escaped, and a string kept for the request comes back the same."""
    from jinja2 import Environment

    stock = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    stock.install_gettext_callables(lambda s: s, lambda s, p, n: s if n == 1 else p, newstyle=True)
    source = (
        '{{ _("100%% sure") }}|{{ _("Hi %(name)s", name=who) }}|{{ _("<em>x</em>") }}'
        '|{{ _("100%% sure") }}'
    )
    with app.test_request_context("/"):
        ours = app.jinja_env.from_string(source).render(who="<b>&")
    assert ours == stock.from_string(source).render(who="<b>&")
    assert ours == "100% sure|Hi &lt;b&gt;&amp;|<em>x</em>|100% sure"
