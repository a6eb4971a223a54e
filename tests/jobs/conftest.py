"""Fixtures for the job suites: an app whose pace never waits, a workspace on the simulator."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.jobs import drain
from app.permissions import Role
from tests.factories import add_member, make_user, make_workspace

TOKEN = "61|jobs-sim-token-Zr7Q"


@pytest.fixture
def app(make_app):
    """The portal with a pace high enough never to wait (pacing has its own tests)."""
    app = make_app(JOBS_PACE=100_000, JOBS_SLICE_SECONDS=30)
    with app.app_context():
        yield app


@pytest.fixture
def token(sim):
    return sim.control.create_account(token=TOKEN, balance=100)


@pytest.fixture
def workspace(app, sim, token):
    return make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)


@pytest.fixture
def owner(workspace):
    return workspace.memberships[0].user


@pytest.fixture
def member(workspace):
    return add_member(workspace, make_user(), Role.MEMBER)


@pytest.fixture
def run_jobs(app):
    """Run every queued task in this thread until the queue is empty."""

    def run() -> int:
        ran = drain(app)
        db.session.expire_all()  # the tasks ran in their own sessions
        return ran

    return run


def contacts_of(sim, token, group_uid):
    """The group's contacts straight from the simulator (control API: no throttle)."""
    from app.gotone import GoToneClient

    client = GoToneClient(sim.api_url("v3"), token)
    sim.control.configure(rate_limit=1_000_000)
    return list(client.iter_all(client.list_contacts, group_uid))
