"""Fixtures for the portal suites: a fresh app and database per test, clients, the simulator.

The database is SQLite in tmp_path, or PostgreSQL when PORTAL_TEST_DATABASE_URL is set: each
pytest process then works in its own schema, so parallel runs cannot see each other.
"""

from __future__ import annotations

import contextvars
import os
import re
import uuid

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import create_engine, inspect, text

from app import create_app
from app.crypto import generate_key
from app.extensions import db as _db
from app.simulator.server import SimulatorServer

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")
KEYS = generate_key()
HX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/w"}
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


# Figures the reliability, security and load suites measured: one summary line per suite,
# printed in a "figures" section at the end of the run (so a reader sees numbers, not only
# passes) and, with PORTAL_FIGURES_FILE set, appended to that file too.
FIGURES: list[str] = []


def report_figure(suite: str, text: str) -> None:
    """Record one summary line, e.g. report_figure("T8", "840 requests, 0 × 500, p99 1.2 s")."""
    # A suite split over pytest-xdist workers reports one line per worker, labelled with it.
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    line = f"{suite} [{worker}]: {text}" if worker else f"{suite}: {text}"
    FIGURES.append(line)
    if os.environ.get("PORTAL_FIGURES_FILE"):
        with open(os.environ["PORTAL_FIGURES_FILE"], "a", encoding="utf-8") as out:
            out.write(line + "\n")


@pytest.fixture
def figures():
    """The report_figure function, for tests that prefer a fixture."""
    return report_figure


def pytest_sessionfinish(session):
    # Under pytest-xdist each worker process has its own FIGURES: hand them to the controller,
    # which prints them all in one section (a worker's config carries `workeroutput`).
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["figures"] = list(FIGURES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    FIGURES.extend(getattr(node, "workeroutput", {}).get("figures", []))


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("figures")
        for line in FIGURES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def pg_schema():
    if not PG_URL:
        yield None
        return
    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield schema
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def portal_config(tmp_path, pg_schema, **extra) -> dict:
    """The overrides every test app gets; `extra` wins."""
    config = {
        "TESTING": True,
        "PORTAL_ENV": "testing",
        "SECRET_KEY": "test-secret-key",
        "ENCRYPTION_KEYS": KEYS,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'portal.db'}",
        # Cheap hashes keep the suite fast; test_passwords checks the production numbers.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_PARALLELISM": 1,
        "GOTONE_DEFAULT_URL": "http://127.0.0.1:9/api/v3",
        # The simulator listens on plain http at 127.0.0.1 (tests of the policy switch these off).
        "GOTONE_ALLOW_HTTP": True,
        "GOTONE_ALLOW_PRIVATE": True,
        "GOTONE_TIMEOUT": 5.0,
        "RATELIMIT_STORAGE_URI": "memory://",
        # Per-member limits (app/rate_limits.py) out of the way of suites that send, export
        # and refresh hundreds of times a minute as one member; their tests set them.
        "SEND_LIMIT": "100000 per minute",
        "EXPORT_LIMIT": "100000 per minute",
        "REFRESH_LIMIT": "100000 per minute",
        "SERVER_NAME": None,
    }
    if pg_schema:
        config["SQLALCHEMY_DATABASE_URI"] = PG_URL
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            # No WAL flush per commit: a test database need not survive a power cut, and the
            # suite commits thousands of times (what is stored is the same).
            "connect_args": {"options": f"-csearch_path={pg_schema} -csynchronous_commit=off"},
        }
    config.update(extra)
    return config


def reset_schema() -> None:
    """Empty the database. PostgreSQL's schema lives for the whole run: when it holds exactly
    the models' tables they are truncated (a third of the time of dropping and creating them);
    anything else (a migration test's leftovers, Alembic's bookkeeping) is dropped and the
    tables created afresh. A SQLite file is new for each test."""
    _db.session.remove()
    tables = _db.metadata.sorted_tables
    if _db.engine.dialect.name == "postgresql":
        existing = set(inspect(_db.engine).get_table_names())
        if existing == {table.name for table in tables}:
            names = ", ".join(f'"{table.name}"' for table in tables)
            with _db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
    with _db.engine.begin() as conn:
        _db.metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    _db.metadata.create_all(_db.engine)


class PortalClient(FlaskClient):
    """Test client: each request in its own app context; CSRF token added to posts.

    Tests hold an app context open for factories and queries. Requests run in an empty
    contextvars context so that, as in production, each gets its own `g` and db session.
    """

    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            _db.session.expire_all()  # the test's own session must see what the request did
        return response

    def session_transaction(self, *args, **kwargs):
        return _EmptyContextManager(super().session_transaction, *args, **kwargs)

    def csrf_token(self) -> str:
        page = self.get("/auth/login").get_data(as_text=True)
        match = _CSRF.search(page)
        assert match, "no CSRF token on the login page"
        return match.group(1) or match.group(2)

    def post(self, *args, csrf: bool = True, **kwargs):
        if csrf:
            data = dict(kwargs.pop("data", None) or {})
            data.setdefault("csrf_token", self.csrf_token())
            kwargs["data"] = data
        return super().post(*args, **kwargs)


class _EmptyContextManager:
    """Runs a context manager's enter and exit outside the test's app context."""

    def __init__(self, factory, *args, **kwargs):
        self._ctx = contextvars.Context()
        self._cm = self._ctx.run(factory, *args, **kwargs)

    def __enter__(self):
        return self._ctx.run(self._cm.__enter__)

    def __exit__(self, *exc):
        return self._ctx.run(self._cm.__exit__, *exc)


@pytest.fixture(scope="session")
def jinja_bytecode_cache(tmp_path_factory) -> FileSystemBytecodeCache:
    """Compiled templates shared by every app of this test process: each test builds its own
    app, whose Jinja environment would otherwise compile every template it renders again.
    (A template's entry is keyed by its name and the checksum of its source.)"""
    return FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja-bytecode")))


@pytest.fixture
def make_app(tmp_path, pg_schema, jinja_bytecode_cache):
    """Build an app with extra overrides; its database starts empty."""
    built = []

    def factory(**extra):
        app = create_app(portal_config(tmp_path, pg_schema, **extra))
        app.test_client_class = PortalClient
        app.jinja_env.bytecode_cache = jinja_bytecode_cache
        with app.app_context():
            reset_schema()
        built.append(app)
        return app

    yield factory
    for app in built:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def app(make_app):
    app = make_app()
    with app.app_context():
        yield app
        _db.session.remove()


@pytest.fixture
def client(app) -> PortalClient:
    return app.test_client()


@pytest.fixture
def db(app):
    return _db


@pytest.fixture(scope="session")
def simulator():
    with SimulatorServer() as sim:
        yield sim


@pytest.fixture
def sim(simulator):
    simulator.control.reset()
    yield simulator
    simulator.control.reset()


@pytest.fixture
def gateway_token(sim) -> str:
    return sim.control.create_account(token="42|sim-secret-token-Zq9X", balance=750)


@pytest.fixture
def sim_workspace(app, sim, gateway_token):
    """A workspace whose token is the simulator account of `gateway_token` (v3 family)."""
    from tests.factories import make_user, make_workspace

    return make_workspace(make_user(), base_url=sim.api_url("v3"), token=gateway_token)
