"""No import cycle in app/ (issue 13): the module graph of every `import app...` and
`from ... import ...` statement, at the top of a module and inside its functions alike,
read with `ast` (nothing is imported), has no cycle.

An import inside a function only postpones the cycle to the first call; it is still a knot
the next reader has to untie, so it counts. Importing a submodule also runs its package's
`__init__`, but that edge is left out: a package re-exporting its own modules is no cycle.
Imports under `if TYPE_CHECKING:` are left out too: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

# Cycles left for later items: each entry is the set of modules of one strongly connected
# component. A component that grows, shrinks or appears fails the test. (The last one, the
# messages blueprint and its view modules, went with issue 13 item 3.)
KNOWN_CYCLES: list[frozenset[str]] = []


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The app modules that `name` imports, anywhere in its file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    type_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _is_type_checking(node.test)
        for statement in node.body
        for inner in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from pkg import mod` imports the module pkg.mod; `from mod import name` imports mod.
            targets = [f"{source}.{alias.name}" for alias in node.names]
            targets = [t if t in known else source for t in targets]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import app.a.b` of a name inside b
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Attribute):
        return test.attr == "TYPE_CHECKING"
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def import_graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {name: imports_of(name, path, known) for name, path in found.items()}


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[frozenset[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(frozenset(component))
    return result


def test_the_checker_finds_a_cycle_and_resolves_relative_imports(tmp_path):
    graph = {"app.a": {"app.b"}, "app.b": {"app.c"}, "app.c": {"app.a"}, "app.d": {"app.a"}}
    assert cycles(graph) == [frozenset({"app.a", "app.b", "app.c"})]
    graph = import_graph()
    assert "app.services.jobs.claims" in graph["app.services.jobs"]  # a package re-export
    assert "app.extensions" in graph["app.services.jobs.claims"]  # `from ...extensions`
    assert "app.services.jobs" in graph["app.services.imports"]  # `from . import jobs`
    assert "app.jobs" in graph["app.services.outbox.send_job"]  # `from ...jobs import wake`
    assert "app.blueprints" in graph["app"]  # in a function (create_app)
    assert "app.gotone.types" not in graph["app.gotone.errors"]  # under TYPE_CHECKING only


def test_the_job_engine_imports_none_of_its_kinds():
    graph = import_graph()
    engine = {name for name in graph if name == "app.jobs" or name.startswith("app.services.jobs")}
    kinds = {"app.services.imports", "app.services.exports", "app.services.job_kinds"}
    kinds |= {name for name in graph if name.startswith("app.services.outbox")}
    for name in engine:
        assert not graph[name] & kinds, name


def test_no_import_cycle_in_app():
    found = cycles(import_graph())
    unexpected = [sorted(c) for c in found if c not in KNOWN_CYCLES]
    assert unexpected == [], "import cycles in app/ (module -> module, all inside functions too)"
    gone = [sorted(c) for c in KNOWN_CYCLES if c not in found]
    assert gone == [], "a known cycle is gone or changed: update KNOWN_CYCLES"
