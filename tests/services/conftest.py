"""Fixtures for the outbox suites: a paced-never-waiting app, a workspace on the simulator."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.jobs import drain
from tests.factories import make_user, make_workspace

TOKEN = "77|outbox-sim-token-Kp3W"


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000, JOBS_SLICE_SECONDS=30)
    with app.app_context():
        yield app


@pytest.fixture
def token(sim):
    return sim.control.create_account(token=TOKEN, balance=10_000)


@pytest.fixture
def workspace(app, sim, token):
    return make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)


@pytest.fixture
def owner(workspace):
    return workspace.memberships[0].user


@pytest.fixture
def run_jobs(app):
    def run() -> int:
        ran = drain(app)
        db.session.expire_all()
        return ran

    return run
