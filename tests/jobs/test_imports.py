"""Imports end to end in one process: the dry run's counts are the outcome, rejects are exact."""

from __future__ import annotations

import csv
import io

import pytest
from werkzeug.datastructures import FileStorage

from app.exceptions import FileProblem
from app.extensions import db
from app.jobs import wake
from app.models import Job, JobItem
from app.models import jobs as states
from app.services import imports, jobs
from app.services import rejects as rejects_file
from tests.jobs.conftest import contacts_of

VALID = [f"+1 202 555 {n:04d}" for n in range(100, 130)]  # 30 numbers


def mixed_csv() -> tuple[str, dict]:
    """A file with valid, invalid, repeated and already-present numbers; what to expect."""
    rows = [["Mobile", "First Name", "Surname"]]
    expected_rejects = {}
    for i, phone in enumerate(VALID):
        rows.append([phone, f"First{i}", f"Last{i}"])
    for bad in ("12", "not a number", "+999 1234 5678", "1.20255E+10", ""):
        rows.append([bad, "Bad", "Row"])
        expected_rejects[len(rows)] = "invalid"
    for i in (0, 5, 5, 29):  # four repeats of earlier lines (two of the same one)
        rows.append([VALID[i].replace(" ", "-"), "Again", ""])
        expected_rejects[len(rows)] = "duplicate"
    rows.append(["", "", ""])  # blank line: not a contact at all
    text = "\n".join(",".join(row) for row in rows) + "\n"
    return text, expected_rejects


def _upload(text: str, name: str = "contacts.csv") -> FileStorage:
    return FileStorage(io.BytesIO(text.encode()), filename=name)


@pytest.fixture
def group(sim, token):
    # Three of the file's numbers are in the group before the import.
    existing = [{"phone": VALID[i].replace(" ", "").lstrip("+")} for i in (1, 2, 3)]
    return sim.control.seed_group(token, "Customers", existing)["uid"]


def test_dry_run_counts_equal_the_outcome_and_rejects_list_exactly_the_rejected_rows(
    app, workspace, owner, group, sim, token, run_jobs
):
    text, expected = mixed_csv()
    job = imports.create_import(workspace, owner, group, "Customers", _upload(text), None)
    assert job.state == states.ANALYSING
    assert job.options["mapping"] == {"phone": 0, "first_name": 1, "last_name": 2}
    before = len(sim.control.requests())
    wake(job.id)
    run_jobs()  # the dry run: no gateway writes
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == states.READY
    assert not [r for r in sim.control.requests()[before:] if r["path"].endswith("/store")]
    dry = {
        "rows": job.rows,
        "new": job.to_process - job.in_group,
        "in_group": job.in_group,
        "duplicates": job.duplicates,
        "invalid": job.invalid,
    }
    assert dry == {"rows": 39, "new": 27, "in_group": 3, "duplicates": 4, "invalid": 5}

    jobs.start(job, owner)
    wake(job.id, copies=2)
    run_jobs()
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == states.DONE and job.percent == 100
    assert (job.created, job.existing, job.refused, job.failed) == (dry["new"], 3, 0, 0)
    phones = sorted(str(c.phone) for c in contacts_of(sim, token, group))
    assert phones == sorted(v.replace(" ", "").lstrip("+") for v in VALID)

    rejects = list(csv.reader(io.StringIO("".join(rejects_file.rejects_csv(job.id)))))
    assert rejects[0] == ["row", "phone", "first_name", "last_name", "reason"]
    assert {int(r[0]): r for r in rejects[1:]}.keys() == expected.keys()
    by_row = {int(r[0]): r for r in rejects[1:]}
    assert "Same number as row 2." in by_row[37][4]  # VALID[0] is on row 2
    assert by_row[35][1] == "1.20255E+10" and "scientific" in by_row[35][4]
    assert all(r[4] for r in rejects[1:])
    outcomes = {
        (i.state, i.outcome)
        for i in db.session.scalars(db.select(JobItem).where(JobItem.job_id == job.id))
    }
    assert outcomes <= {
        (states.ITEM_DONE, "created"),
        (states.ITEM_DONE, "exists"),
        (states.ITEM_REJECTED, "invalid"),
        (states.ITEM_REJECTED, "duplicate"),
    }


def test_running_the_task_again_after_completion_changes_nothing(
    app, workspace, owner, group, sim, run_jobs
):
    job = imports.create_import(workspace, owner, group, "Customers", None, "\n".join(VALID[:5]))
    wake(job.id)
    run_jobs()
    jobs.start(db.session.get(Job, job.id), owner)
    wake(job.id, copies=3)
    run_jobs()
    stores = len(sim.control.requests(f"/api/v3/contacts/{group}/store"))
    wake(job.id, copies=3)
    assert jobs.run(job.id) is None
    run_jobs()
    assert len(sim.control.requests(f"/api/v3/contacts/{group}/store")) == stores == 5


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "empty.csv", "The file is empty."),
        (b"\x00\x01\x02binary\x00stuff", "data.csv", "not a CSV or Excel file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old.xls", "Old Excel files"),
        ("phone\n+1 202 555 0100\nM\u00fcller\n".encode("latin-1"), "latin.csv", "not UTF-8"),
        (b"PK\x03\x04not really a zip", "broken.xlsx", "cannot be opened"),
    ],
)
def test_bad_files_get_a_clear_message(app, workspace, owner, group, content, name, message):
    upload = FileStorage(io.BytesIO(content), filename=name)
    with pytest.raises(FileProblem, match=message):
        imports.create_import(workspace, owner, group, "Customers", upload, None)
    assert db.session.scalar(db.select(db.func.count()).select_from(Job)) == 0


def test_too_large_file_is_refused(make_app, sim, token):
    from tests.factories import make_user, make_workspace

    app = make_app(IMPORT_MAX_BYTES=1000)
    with app.app_context():
        ws = make_workspace(make_user(), base_url=sim.api_url("v3"), token=token)
        upload = FileStorage(io.BytesIO(b"phone\n" + b"+12025550100\n" * 200), filename="big.csv")
        with pytest.raises(FileProblem, match="larger than"):
            imports.create_import(ws, ws.memberships[0].user, "g", "G", upload, None)


def test_no_phone_column_waits_for_the_member_to_choose(app, workspace, owner, group, run_jobs):
    text = "Name,Company\nAda,Analytical\n"
    job = imports.create_import(workspace, owner, group, "Customers", _upload(text), None)
    assert job.state == states.READY and "phone" in job.error.lower()
    imports.remap(job, owner, {"phone": 1, "first_name": 0, "last_name": None}, True)
    wake(job.id)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert job.state == states.READY and job.invalid == 1 and job.to_process == 0


def test_file_without_header_semicolons_and_utf8_bom(app, workspace, owner, group, run_jobs):
    text = "\ufeff2025550140;Zoë;Ünal\n+1 202 555 0141;Li;Wei\n"
    job = imports.create_import(workspace, owner, group, "Customers", _upload(text), None)
    assert job.options["has_header"] is False and job.options["delimiter"] == ";"
    wake(job.id)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert (job.rows, job.to_process, job.invalid) == (2, 2, 0)
    first = db.session.scalar(db.select(JobItem).where(JobItem.job_id == job.id, JobItem.seq == 1))
    assert (first.phone, first.first_name, first.last_name) == ("12025550140", "Zoë", "Ünal")


def test_xlsx_file_is_read_with_numbers_as_digits(app, workspace, owner, group, run_jobs, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Phone Number", "First name", "Last name"])
    sheet.append([12025550150, "Num", "Cell"])
    sheet.append(["+1 (202) 555-0151", "Text", "Cell"])
    sheet.append(["nonsense", "Bad", "Row"])
    path = tmp_path / "c.xlsx"
    book.save(path)
    with open(path, "rb") as fh:
        upload = FileStorage(fh, filename="c.xlsx")
        job = imports.create_import(workspace, owner, group, "Customers", upload, None)
    wake(job.id)
    run_jobs()
    job = db.session.get(Job, job.id)
    assert (job.rows, job.to_process, job.invalid) == (3, 2, 1)
    phones = set(db.session.scalars(db.select(JobItem.phone).where(JobItem.job_id == job.id)))
    assert phones == {"12025550150", "12025550151", None}


def test_stopping_during_the_dry_run_leaves_every_line_final(
    app, workspace, owner, group, run_jobs, monkeypatch
):
    job = imports.create_import(workspace, owner, group, "Customers", None, "\n".join(VALID))
    monkeypatch.setattr(imports, "BATCH", 5)
    real_beat, calls = jobs.beat, []

    def beat_then_cancel(job_id, until_seconds=0.0):
        real_beat(job_id, until_seconds)
        calls.append(job_id)
        if len(calls) == 2:  # the member presses "Do not import" while the file is read
            jobs.cancel(db.session.get(Job, job_id), owner)

    monkeypatch.setattr(jobs, "beat", beat_then_cancel)
    wake(job.id)
    run_jobs()
    job = db.session.get(Job, job.id)
    items = db.session.scalars(db.select(JobItem).where(JobItem.job_id == job.id)).all()
    assert job.state == states.CANCELLED and 0 < len(items) < len(VALID)
    assert {i.state for i in items} == {states.ITEM_CANCELLED}
    assert job.cancelled == len(items)


def test_the_rejects_file_holds_every_rejected_row_past_one_chunk(
    app, workspace, owner, group, run_jobs
):
    text = "phone\n" + "\n".join(f"bad{n}" for n in range(2_500)) + "\n+12025550100\n"
    job = imports.create_import(workspace, owner, group, "Customers", None, text)
    wake(job.id)
    run_jobs()
    rows = list(csv.reader(io.StringIO("".join(rejects_file.rejects_csv(job.id)))))
    assert [int(r[0]) for r in rows[1:]] == list(range(2, 2_502))
    assert db.session.get(Job, job.id).to_process == 1
