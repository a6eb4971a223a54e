"""The layers keep to their side (issue 13 items 2 and 3), read with `ast` like the import-cycle
check (tests/test_import_cycles.py):

- the portal's own errors are defined in app/exceptions.py, under one base class;
- services import nothing from app/errors.py and read neither Flask's `request`, `g` nor
  `session` (what they need of a request is passed in: app/services/scope.py);
- a blueprint imports no other blueprint, and registering one sets nothing up on the app
  (converters, template helpers, hooks and CLI commands are create_app's, app/wiring.py);
- every blueprint whose pages live inside one workspace declares its url_prefix once.
"""

from __future__ import annotations

import ast

from app import exceptions
from app.blueprints import contacts, dashboard, groups, jobs, messages
from tests.test_import_cycles import APP, import_graph, module_name

# Modules with error classes of their own that are not the portal's: the gateway client and
# the simulator (each its own hierarchy), the crypto library, the settings loader (before any
# app exists) and the web layer's HTTP 422 for a NUL in a form.
OWN_HIERARCHIES = ("app.gotone", "app.simulator", "app.crypto", "app.config", "app.security")
FLASK_REQUEST_STATE = {"request", "g", "session", "has_request_context"}
APP_SETUP_CALLS = {
    "record",
    "record_once",
    "app_template_filter",
    "app_template_global",
    "app_template_test",
    "app_context_processor",
    "before_app_request",
    "after_app_request",
    "teardown_app_request",
    "app_errorhandler",
    "app_url_defaults",
    "app_url_value_preprocessor",
}


def _trees(prefix: str) -> dict[str, ast.Module]:
    return {
        module_name(path): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(APP.rglob("*.py"))
        if module_name(path) == prefix or module_name(path).startswith(prefix + ".")
    }


def _base_names(node: ast.ClassDef) -> list[str]:
    return [
        base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        for base in node.bases
    ]


def test_the_portals_own_errors_are_in_app_exceptions_under_one_base():
    elsewhere = [
        f"{name}.{node.name}"
        for name, tree in _trees("app").items()
        if name != "app.exceptions" and not name.startswith(OWN_HIERARCHIES)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any(base.endswith(("Error", "Exception")) for base in _base_names(node))
    ]
    assert elsewhere == []
    defined = [
        value
        for value in vars(exceptions).values()
        if isinstance(value, type) and value.__module__ == exceptions.__name__
    ]
    assert len(defined) > 10
    assert all(issubclass(error, exceptions.PortalError) for error in defined)


def test_services_never_import_app_errors_nor_read_the_request():
    graph = import_graph()
    services = [name for name in graph if name.startswith("app.services")]
    assert [name for name in services if "app.errors" in graph[name]] == []
    reads = []
    for name, tree in _trees("app.services").items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask":
                reads += [f"{name}: {a.name}" for a in node.names if a.name in FLASK_REQUEST_STATE]
            elif (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "flask"
                and node.attr in FLASK_REQUEST_STATE
            ):
                reads.append(f"{name}: flask.{node.attr}")
    assert reads == []


def _package_of(name: str) -> str:
    """The blueprint a module belongs to: app.blueprints.<area> (a module or a package)."""
    return ".".join(name.split(".")[:3])


def _sets_up_the_app(func: ast.expr) -> bool:
    """`bp.record_once(...)`, `bp.app_template_filter(...)`, `bp.cli.command(...)` and the like."""
    if not isinstance(func, ast.Attribute):
        return False
    if isinstance(func.value, ast.Name) and func.value.id == "bp":
        return func.attr in APP_SETUP_CALLS
    owner = func.value
    return (
        isinstance(owner, ast.Attribute)
        and owner.attr == "cli"
        and isinstance(owner.value, ast.Name)
        and owner.value.id == "bp"
    )


def test_blueprints_import_no_other_blueprint_and_set_nothing_up_on_the_app():
    graph = import_graph()
    crossing = [
        f"{name} -> {target}"
        for name in graph
        if name.startswith("app.blueprints.")
        for target in graph[name]
        if target.startswith("app.blueprints") and _package_of(target) != _package_of(name)
    ]
    assert crossing == []
    setup = [
        f"{name}: {ast.unparse(node.func)}"
        for name, tree in _trees("app.blueprints").items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _sets_up_the_app(node.func)
    ]
    assert setup == []


def test_each_workspace_blueprint_declares_its_url_prefix_once(app):
    # The workspaces blueprint is not one of them: beside /w/<id>/... it holds the home page,
    # the workspace list and the invitation links, which belong to no workspace.
    for blueprint in (dashboard.bp, groups.bp, contacts.bp, jobs.bp, messages.bp):
        assert blueprint.url_prefix.startswith("/w/<int:workspace_id>/"), blueprint.name
        rules = [
            r.rule for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] == blueprint.name
        ]
        assert rules and all(rule.startswith(blueprint.url_prefix) for rule in rules), rules
