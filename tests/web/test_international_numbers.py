"""Numbers of several countries through group sends, exports and re-imports, under several
default countries (issue 12 items 17, 26 and 40)."""

from __future__ import annotations

import csv
import io
from urllib.parse import quote

import pytest

from app.extensions import db
from app.jobs import drain
from app.models import Job
from app.services.gotone import get_settings
from app.services.job_files import job_dir
from tests.factories import login, make_user, make_workspace
from tests.web.test_messages_send import form_data

TOKEN = "71|intl-numbers-token-CCCC"
# As the gateway stores them: digits with the country code, no "+".
NUMBERS = ["8801721970125", "447700900123", "8613800138000", "4915123456789", "12025550175"]
GROUP_NAME = "客户名单 (VIP)"


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000)
    with app.app_context():
        yield app


@pytest.fixture(params=["US", "CN", "GB"])
def workspace(request, app, sim, client):
    token = sim.control.create_account(token=TOKEN, balance=1000)
    workspace = make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)
    get_settings(workspace).default_country = request.param
    db.session.commit()
    login(client, workspace.memberships[0].user)
    return workspace


@pytest.fixture
def group(sim, workspace):
    contacts = [{"phone": n, "first_name": f"P{i}"} for i, n in enumerate(NUMBERS)]
    return sim.control.seed_group(TOKEN, GROUP_NAME, contacts)["uid"]


def _latest_job(workspace) -> Job:
    db.session.expire_all()
    return db.session.scalars(
        db.select(Job).where(Job.workspace_id == workspace.id).order_by(Job.id.desc())
    ).first()


def test_a_group_send_reaches_every_country(app, client, sim, workspace, group):
    base = f"/w/{workspace.id}/messages"
    review = client.post(f"{base}/review", data=form_data("k-intl", numbers="", groups=[group]))
    page = review.get_data(as_text=True)
    assert review.status_code == 200, page
    assert "invalid left out" not in page and "Add at least one valid recipient" not in page
    sent = client.post(f"{base}/send", data=form_data("k-intl", numbers="", groups=[group]))
    assert sent.status_code == 303
    drain(app)
    reached = {s["to"] for s in sim.control.sends(TOKEN)}
    assert reached == set(NUMBERS)


def test_export_writes_e164_and_reimports_with_no_rejects(app, client, sim, workspace, group):
    assert client.post(f"/w/{workspace.id}/jobs/export", data={"group": group}).status_code == 303
    drain(app)
    job = _latest_job(workspace)
    download = client.get(f"/w/{workspace.id}/jobs/{job.id}/export.csv")
    # Item 17: the group's Chinese name made the header unencodable (500).
    assert download.status_code == 200
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    assert disposition.encode("latin-1")  # the header itself stays ASCII
    assert f"filename*=UTF-8''{quote('客户名单')}" in disposition
    text = download.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]
    assert [r[0] for r in rows] == [f"+{n}" for n in NUMBERS]

    target = sim.control.seed_group(TOKEN, "Copy")["uid"]
    upload = {"file": (io.BytesIO(text.encode("utf-8")), "export.csv")}
    response = client.post(
        f"/w/{workspace.id}/jobs/import?group={target}",
        data=upload,
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    drain(app)
    again = _latest_job(workspace)
    assert (again.to_process, again.invalid, again.duplicates) == (len(NUMBERS), 0, 0)
    assert job_dir(again) != job_dir(job)


def test_the_rejects_file_writes_numbers_as_the_export_does(app, client, sim, workspace, group):
    lines = [
        "phone,first_name",
        "+8801721970125,A",
        "+880 1721-970125,Again",
        "12,Bad",
        "+44 7700 900123,B",
        "0044 7700 900123,Dup",
    ]
    upload = {"file": (io.BytesIO("\n".join(lines).encode()), "c.csv")}
    client.post(
        f"/w/{workspace.id}/jobs/import?group={group}",
        data=upload,
        content_type="multipart/form-data",
    )
    drain(app)
    job = _latest_job(workspace)
    rejects = client.get(f"/w/{workspace.id}/jobs/{job.id}/rejects.csv")
    assert rejects.status_code == 200
    rows = list(csv.reader(io.StringIO(rejects.get_data(as_text=True))))
    assert [r[1] for r in rows[1:]] == ["+8801721970125", "12", "+447700900123"]
