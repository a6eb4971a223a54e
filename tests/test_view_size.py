"""Every view fits in about 25 lines (issue 13 item 4): read with `ast`, like the layer checks
(tests/test_layers.py). A view is a function of app/blueprints decorated with a route
(`@bp.get`, `@bp.post`, `@bp.route`, ...); its length is that of its body from the first
statement after the docstring to the last, decorators and docstring left out. A longer view
parses, calls one service and renders: the rest belongs in a service or a small helper.
"""

from __future__ import annotations

import ast

from tests.test_import_cycles import APP

MAX_VIEW_LINES = 25
ROUTE_DECORATORS = {"route", "get", "post", "put", "patch", "delete"}


def _is_view(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call)
        and isinstance(d.func, ast.Attribute)
        and d.func.attr in ROUTE_DECORATORS
        for d in node.decorator_list
    )


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def views() -> dict[str, int]:
    found = {}
    for path in sorted((APP / "blueprints").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_view(node):
                found[f"{path.relative_to(APP.parent)}:{node.lineno} {node.name}"] = body_lines(
                    node
                )
    return found


def test_the_check_finds_the_views():
    found = views()
    assert any(name.endswith(" send") for name in found), "the compose blueprint's send view"
    assert len(found) > 50


def test_the_measure_leaves_out_docstring_and_decorators():
    tree = ast.parse(
        '@bp.get("/x")\n@login_required\ndef view():\n    """Doc."""\n    a = 1\n\n    return a\n'
    )
    (node,) = tree.body
    assert _is_view(node) and body_lines(node) == 3


def test_every_view_fits_in_about_25_lines():
    long = {name: lines for name, lines in views().items() if lines > MAX_VIEW_LINES}
    assert long == {}, f"views over {MAX_VIEW_LINES} lines: {long}"
