"""The catalogues: every string extracted, every Chinese entry translated, the .mo current."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def _source_ids() -> set[str]:
    method_map = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
    ids = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        ids.add(message if isinstance(message, str) else message[0])
    return ids


def test_every_source_string_is_in_the_chinese_catalogue():
    catalog = read_po(PO.open("rb"))
    missing = _source_ids() - {m.id for m in catalog if m.id}
    assert not missing, f"run `python translations/update.py`: {sorted(missing)[:5]}"


def test_every_chinese_entry_is_translated_and_compiled():
    catalog = read_po(PO.open("rb"))
    untranslated = [m.id for m in catalog if m.id and not m.string]
    assert not untranslated
    compiled = read_mo(io.BytesIO((PO.with_suffix(".mo")).read_bytes()))
    assert {m.id: m.string for m in catalog if m.id} == {m.id: m.string for m in compiled if m.id}


def test_template_gettext_matches_jinjas_newstyle_gettext(app):
    """`_()` in templates (app/i18n.py) gives what Jinja's own newstyle gettext gives: "%%" is
    "%", variables are escaped, and a string kept for the request comes back the same."""
    from jinja2 import Environment

    stock = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    stock.install_gettext_callables(lambda s: s, lambda s, p, n: s if n == 1 else p,
                                    newstyle=True)  # fmt: skip
    source = ('{{ _("100%% sure") }}|{{ _("Hi %(name)s", name=who) }}|{{ _("<em>x</em>") }}'
              '|{{ _("100%% sure") }}')  # fmt: skip
    with app.test_request_context("/"):
        ours = app.jinja_env.from_string(source).render(who="<b>&")
    assert ours == stock.from_string(source).render(who="<b>&")
    assert ours == "100% sure|Hi &lt;b&gt;&amp;|<em>x</em>|100% sure"
