"""Jobs pages: upload, dry run, start, progress fragment, rejects and export downloads, cancel,
bad files, tenant isolation. Tasks run in the test thread (app.jobs.drain)."""

from __future__ import annotations

import csv
import io

import pytest

from app.extensions import db
from app.jobs import drain
from app.models import Job
from app.models import jobs as states
from app.permissions import Role
from tests.conftest import HX
from tests.factories import add_member, login, make_user, make_workspace

TOKEN = "81|jobs-web-token-QQQQ"
FILE = (
    "Phone,First name,Last name\n+1 202 555 0100,Ada,Lovelace\n2025550101,Alan,Turing\n"
    "123,Bad,Number\n+1 202 555 0100,Ada,Again\n"
)


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000)
    with app.app_context():
        yield app


@pytest.fixture
def token(sim):
    return sim.control.create_account(token=TOKEN)


@pytest.fixture
def workspace(app, sim, token):
    return make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)


@pytest.fixture
def owner(client, workspace):
    user = workspace.memberships[0].user
    login(client, user)
    return user


@pytest.fixture
def group(sim, token):
    return sim.control.seed_group(token, "Friends =1+1")["uid"]


def run(app):
    drain(app)
    db.session.expire_all()


def upload(client, workspace, group, content=FILE, name="c.csv", **extra):
    data = {"file": (io.BytesIO(content.encode() if isinstance(content, str) else content), name)}
    return client.post(
        f"/w/{workspace.id}/jobs/import?group={group}",
        data=data,
        content_type="multipart/form-data",
        **extra,
    )


def test_upload_dry_run_start_progress_and_rejects(app, client, owner, workspace, group, sim):
    page = client.get(f"/w/{workspace.id}/jobs/import?group={group}").get_data(as_text=True)
    assert "Friends =1+1" in page and 'enctype="multipart/form-data"' in page
    response = upload(client, workspace, group)
    assert response.status_code == 303
    job = db.session.scalar(db.select(Job))
    assert response.headers["Location"] == f"/w/{workspace.id}/jobs/{job.id}"
    polling = client.get(f"/w/{workspace.id}/jobs/{job.id}", headers=HX).get_data(as_text=True)
    assert polling.lstrip().startswith('<div id="job-status"')
    assert 'hx-trigger="every 1s"' in polling
    run(app)
    page = client.get(f"/w/{workspace.id}/jobs/{job.id}").get_data(as_text=True)
    assert 'id="count-new">2<' in page and 'id="count-invalid">1<' in page
    assert 'id="count-duplicates">1<' in page and 'id="count-in-group">0<' in page
    assert "Same number as row 2." in page and "Import 2 contacts" in page
    assert 'hx-trigger="every 1s"' not in page  # waiting for the member: no polling

    assert client.post(f"/w/{workspace.id}/jobs/{job.id}/start").status_code == 303
    running = client.get(f"/w/{workspace.id}/jobs/{job.id}", headers=HX).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in running
    run(app)
    done = client.get(f"/w/{workspace.id}/jobs/{job.id}", headers=HX).get_data(as_text=True)
    assert 'value="100"' in done and 'id="count-created">2<' in done
    assert "hx-trigger" not in done

    # buffered: the streamed body is read inside the request (see PortalClient.open)
    rejects = client.get(f"/w/{workspace.id}/jobs/{job.id}/rejects.csv", buffered=True)
    assert rejects.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.reader(io.StringIO(rejects.get_data(as_text=True))))
    assert [r[0] for r in rows[1:]] == ["4", "5"]
    assert len(sim.control.requests(f"/api/v3/contacts/{group}/store")) == 2
    index = client.get(f"/w/{workspace.id}/jobs").get_data(as_text=True)
    assert f"/w/{workspace.id}/jobs/{job.id}" in index and "Finished" in index


def test_start_and_cancel_answer_htmx_with_the_status_fragment(
    app, client, owner, workspace, group
):
    upload(client, workspace, group)
    job = db.session.scalar(db.select(Job))
    run(app)
    body = client.post(f"/w/{workspace.id}/jobs/{job.id}/cancel", headers=HX).get_data(as_text=True)
    assert body.lstrip().startswith('<div id="job-status"') and "Stopped" in body
    assert db.session.get(Job, job.id).state == states.CANCELLED
    again = client.post(f"/w/{workspace.id}/jobs/{job.id}/start", headers=HX)
    assert again.status_code == 200 and "cannot be started" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "empty.csv", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "photo.csv", "not a CSV or Excel file"),
        ("phone\nM\u00fcller\n".encode("cp1252"), "latin.csv", "not UTF-8"),
    ],
)
def test_bad_files_are_refused_with_a_clear_message(
    app, client, owner, workspace, group, content, name, message
):
    response = upload(client, workspace, group, content, name)
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0


def test_nothing_chosen_is_a_form_error(app, client, owner, workspace, group):
    response = client.post(f"/w/{workspace.id}/jobs/import?group={group}", data={"text": " "})
    assert response.status_code == 422
    assert "Choose a file or paste some contacts." in response.get_data(as_text=True)


def test_pasted_text_imports_too(app, client, owner, workspace, group):
    response = client.post(
        f"/w/{workspace.id}/jobs/import?group={group}",
        data={"text": "+12025550190\n+12025550191,Ada"},
    )
    assert response.status_code == 303
    run(app)
    assert db.session.scalar(db.select(Job)).to_process == 2


def test_files_over_the_limit_are_refused(make_app, sim, token):
    app = make_app(IMPORT_MAX_BYTES=1000, MAX_CONTENT_LENGTH=4000)
    with app.app_context():
        ws = make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)
        group = sim.control.seed_group(token, "G")["uid"]
        client = app.test_client()
        login(client, ws.memberships[0].user)
        over_file = upload(client, ws, group, "phone\n" + "+12025550100\n" * 200)
        assert over_file.status_code == 422 and "larger than" in over_file.get_data(as_text=True)
        over_request = upload(client, ws, group, "phone\n" + "+12025550100\n" * 2000)
        assert over_request.status_code == 413
        assert "larger than" in over_request.get_data(as_text=True)


def test_no_phone_column_asks_for_the_column(app, client, owner, workspace, group):
    upload(client, workspace, group, "Name,Code\nAda,12025550100\n")
    job = db.session.scalar(db.select(Job))
    page = client.get(f"/w/{workspace.id}/jobs/{job.id}").get_data(as_text=True)
    assert "Choose the phone column" in page and 'id="columns-form"' in page
    response = client.post(
        f"/w/{workspace.id}/jobs/{job.id}/columns",
        data={"phone": "1", "first_name": "0", "last_name": "-1", "has_header": "y"},
    )
    assert response.status_code == 303
    run(app)
    job = db.session.get(Job, job.id)
    assert (job.state, job.to_process, job.invalid) == (states.READY, 1, 0)


def test_export_neutralises_formulas_and_reimports(app, client, owner, workspace, sim, token):
    contacts = [
        {"phone": "12025550150", "first_name": '=HYPERLINK("x")', "last_name": "+1"},
        {"phone": "12025550151", "first_name": "@SUM(A1)", "last_name": "-2"},
    ]
    contacts += [
        {"phone": f"1202555{n:04d}", "first_name": "P", "last_name": str(n)}
        for n in range(2000, 2030)
    ]  # 32 contacts: two pages
    source = sim.control.seed_group(token, "Source", contacts)["uid"]
    response = client.post(f"/w/{workspace.id}/jobs/export", data={"group": source})
    assert response.status_code == 303
    job = db.session.scalar(db.select(Job))
    assert client.get(f"/w/{workspace.id}/jobs/{job.id}/export.csv").status_code == 303
    run(app)
    job = db.session.get(Job, job.id)
    assert (job.state, job.rows, job.to_process) == (states.DONE, 32, 2)
    download = client.get(f"/w/{workspace.id}/jobs/{job.id}/export.csv")
    assert "Source" in download.headers["Content-Disposition"]
    text = download.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["phone", "first_name", "last_name"] and len(rows) == 33
    assert rows[1] == ["+12025550150", '\'=HYPERLINK("x")', "'+1"]
    assert rows[2] == ["+12025550151", "'@SUM(A1)", "'-2"]

    target = sim.control.seed_group(token, "Copy")["uid"]
    upload(client, workspace, target, text.encode("utf-8"), "export.csv")
    run(app)
    again = db.session.scalars(db.select(Job).order_by(Job.id.desc())).first()
    assert (again.to_process, again.invalid, again.duplicates) == (32, 0, 0)


def test_viewers_see_jobs_but_cannot_start_them(app, client, workspace, group):
    owner = workspace.memberships[0].user
    login(client, owner)
    upload(client, workspace, group)
    job = db.session.scalar(db.select(Job))
    run(app)
    viewer = add_member(workspace, make_user(), Role.VIEWER)
    login(client, viewer)
    page = client.get(f"/w/{workspace.id}/jobs/{job.id}").get_data(as_text=True)
    assert "Dry run" in page and 'id="start-form"' not in page
    assert client.post(f"/w/{workspace.id}/jobs/{job.id}/start").status_code == 403


def test_another_workspaces_job_is_not_found(app, client, owner, workspace, group):
    upload(client, workspace, group)
    job = db.session.scalar(db.select(Job))
    stranger = make_user()
    other = make_workspace(stranger)
    login(client, stranger)
    for path in ("", "/rejects.csv", "/export.csv"):
        assert client.get(f"/w/{other.id}/jobs/{job.id}{path}").status_code == 404
    assert client.post(f"/w/{other.id}/jobs/{job.id}/cancel").status_code == 404
    assert client.get(f"/w/{workspace.id}/jobs/{job.id}").status_code == 404


def test_pace_is_set_by_admins(app, client, owner, workspace):
    response = client.post(f"/w/{workspace.id}/jobs/pace", data={"calls": "30"})
    assert response.status_code == 303
    from app.services import jobs

    assert jobs.pace_of(workspace.id) == 30
    client.post(f"/w/{workspace.id}/jobs/pace", data={"calls": ""})
    assert jobs.pace_of(workspace.id) == app.config["JOBS_PACE"]


def test_a_job_no_worker_picks_up_says_so(app, client, owner, workspace, group):
    from datetime import timedelta

    from app.models.types import utcnow

    upload(client, workspace, group)
    job = db.session.scalar(db.select(Job))
    assert 'id="job-stalled"' not in client.get(f"/w/{workspace.id}/jobs/{job.id}").get_data(
        as_text=True
    )
    job.heartbeat_at = utcnow() - timedelta(seconds=app.config["JOBS_LEASE_SECONDS"] + 1)
    db.session.commit()
    page = client.get(f"/w/{workspace.id}/jobs/{job.id}").get_data(as_text=True)
    assert 'id="job-stalled"' in page and "flask jobs worker" in page
