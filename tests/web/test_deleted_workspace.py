"""A deleted workspace leaves nothing a new one can see (issue 12 items 1 and 13).

The issue's proof: a new account's workspace got a deleted workspace's id, saw its audit rows,
and its own 1-contact export downloaded the old workspace's contacts, because SQLite handed the
id out again, deleting kept the job folders, and an export joined every part file it found.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from app.extensions import db
from app.jobs import drain
from app.models import AuditEvent, Job
from app.services import audit, workspaces
from app.services.job_files import job_dir, workspace_dir
from tests.factories import login, make_user, make_workspace

OLD = [
    {"phone": f"4420794609{n:02d}", "first_name": "Old", "last_name": str(n)} for n in range(30)
]  # (two gateway pages)


@pytest.fixture
def app(make_app):
    app = make_app(JOBS_PACE=100_000)
    with app.app_context():
        yield app


def _export(client, app, workspace, group_uid) -> Job:
    response = client.post(f"/w/{workspace.id}/jobs/export", data={"group": group_uid})
    assert response.status_code == 303
    drain(app)
    db.session.expire_all()
    return db.session.scalars(
        db.select(Job).where(Job.workspace_id == workspace.id).order_by(Job.id.desc())
    ).first()


def _rows(client, workspace, job) -> list[list[str]]:
    download = client.get(f"/w/{workspace.id}/jobs/{job.id}/export.csv")
    assert download.status_code == 200
    return list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))[1:]


def test_a_new_workspace_sees_nothing_of_a_deleted_one(app, client, sim):
    old_token = sim.control.create_account(token="61|old-account-token-AAAA")
    old_owner = make_user()
    old = make_workspace(old_owner, base_url=sim.api_url("v3"), token=old_token)
    login(client, old_owner)
    old_job = _export(client, app, old, sim.control.seed_group(old_token, "Old", OLD)["uid"])
    assert len(_rows(client, old, old_job)) == 30
    old_folder = job_dir(old_job)
    assert (old_folder / "export.csv").exists()
    old_id, old_job_id = old.id, old_job.id
    old_audit = db.session.scalar(
        db.select(db.func.count()).where(AuditEvent.workspace_id == old_id)
    )

    workspaces.delete(old, old_owner)

    # Its files are gone; its audit rows are kept on purpose (with its id).
    assert not old_folder.exists() and not workspace_dir(old_id).exists()
    assert (
        db.session.scalar(db.select(db.func.count()).where(AuditEvent.workspace_id == old_id))
        == old_audit + 1
    )
    assert db.session.get(Job, old_job_id) is None

    new_token = sim.control.create_account(token="62|new-account-token-BBBB")
    new_owner = make_user()
    new = make_workspace(new_owner, base_url=sim.api_url("v3"), token=new_token)
    assert new.id != old_id  # SQLite gave the deleted id again before revision 0005
    login(client, new_owner)
    page = client.get(f"/w/{new.id}/audit").get_data(as_text=True)
    assert "export.started" not in page and "workspace.deleted" not in page
    assert sorted(e.action for e in audit.list_events(new, 1).events) == [
        "token.set",
        "workspace.created",
    ]

    mine = sim.control.seed_group(new_token, "Mine", [{"phone": "8801721970125"}])["uid"]
    response = client.post(f"/w/{new.id}/jobs/export", data={"group": mine})
    assert response.status_code == 303
    job = db.session.scalars(db.select(Job).where(Job.workspace_id == new.id)).one()
    assert job.id != old_job_id
    # Ids forced to collide: whatever another job with this id left behind - in the folder
    # its id alone named (before 0005), or as a stray page in this job's own folder - is
    # not part of this export.
    stray = "\r\n".join(",".join((c["phone"], c["first_name"], c["last_name"])) for c in OLD)
    for folder in (Path(app.config["JOBS_DIR"]) / str(job.id), job_dir(job)):
        (folder / "parts").mkdir(parents=True, exist_ok=True)
        for page in (1, 2):
            (folder / "parts" / f"{page:07d}.csv").write_text(stray + "\r\n")
    drain(app)
    db.session.expire_all()
    assert _rows(client, new, db.session.get(Job, job.id)) == [["+8801721970125", "", ""]]
