"""Items claimed in batches (services/jobs.claim_items): disjoint, in row order, given back
uncounted when not called, and settled with the job when it stops with a batch in hand."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.jobs import wake
from app.models import Job, JobItem
from app.models import jobs as states
from app.services import imports, jobs
from tests.factories import make_user, make_workspace
from tests.jobs.conftest import TOKEN, contacts_of

PHONES = [f"1202555{n:04d}" for n in range(30)]


def started_import(workspace, owner, sim, token, run_jobs) -> Job:
    group = sim.control.seed_group(token, "Batch")["uid"]
    job = imports.create_import(workspace, owner, group, "Batch", None, "\n".join(PHONES))
    wake(job.id)
    run_jobs()  # the dry run
    job = db.session.get(Job, job.id)
    assert job.state == states.READY and job.to_process == len(PHONES)
    jobs.start(job, owner)
    return job


def item_states(job_id: int) -> dict[str, int]:
    rows = db.session.execute(
        db.select(JobItem.state, db.func.count())
        .where(JobItem.job_id == job_id)
        .group_by(JobItem.state)
    )
    return dict(rows.all())


def test_batches_are_disjoint_in_row_order_and_given_back_uncounted(
    workspace, owner, sim, token, run_jobs
):
    job = started_import(workspace, owner, sim, token, run_jobs)
    first, second = jobs.claim_items(job.id, 10), jobs.claim_items(job.id, 10)
    seqs = [item.seq for item in first + second]
    assert seqs == sorted(seqs) and len(set(seqs)) == 20
    assert {item.attempts for item in first + second} == {1}
    assert item_states(job.id) == {states.ITEM_RUNNING: 20, states.QUEUED: 10}

    jobs.give_back(first)
    db.session.expire_all()
    assert item_states(job.id) == {states.ITEM_RUNNING: 10, states.QUEUED: 20}
    back = db.session.scalars(db.select(JobItem).where(JobItem.id.in_([i.id for i in first])))
    assert {(i.state, i.attempts, i.claim, i.uncertain) for i in back} == {
        (states.QUEUED, 0, None, False)
    }
    # Given back twice (or after the sweeper took them): nothing happens, nothing counted.
    jobs.give_back(first)
    assert db.session.get(Job, job.id).processed == 0
    assert [i.seq for i in jobs.claim_items(job.id, 5)] == seqs[:5]


def test_a_stop_with_a_batch_in_hand_leaves_every_item_final(
    workspace, owner, sim, token, run_jobs, monkeypatch
):
    job = started_import(workspace, owner, sim, token, run_jobs)
    job_id = job.id
    real_finish, finished = jobs.finish_item, []

    def finish_then_stop(item, *args, **kwargs):
        counted = real_finish(item, *args, **kwargs)
        finished.append(item.seq)
        if len(finished) == 3:  # the member presses Stop while the runner holds its batch
            jobs.cancel(db.session.get(Job, job_id), owner)
        return counted

    monkeypatch.setattr(jobs, "finish_item", finish_then_stop)
    wake(job_id)
    run_jobs()
    job = db.session.get(Job, job_id)
    assert job.state == states.CANCELLED
    # Items in flight finish (at most the one whose slot was taken as the stop came); the
    # rest of the claimed batch is cancelled with the queued items: nothing left running.
    assert 3 <= job.created <= 4
    assert item_states(job_id) == {
        states.ITEM_DONE: job.created,
        states.ITEM_CANCELLED: len(PHONES) - job.created,
    }
    assert job.cancelled == len(PHONES) - job.created
    assert len(contacts_of(sim, token, job.group_uid)) == job.created


@pytest.mark.parametrize(
    ("pace", "window", "batch"), [(100_000, 60.0, jobs.CLAIM_MAX), (2, 1.0, 1)]
)
def test_the_batch_is_half_a_second_of_the_pace(make_app, sim, pace, window, batch, monkeypatch):
    """A slow pace (60 a minute by default) claims one item at a time, as before batches:
    nothing waits claimed for long; a fast one claims up to CLAIM_MAX at once."""
    app = make_app(JOBS_PACE=pace, JOBS_PACE_WINDOW=window, JOBS_SLICE_SECONDS=30)
    with app.app_context():
        token = sim.control.create_account(token=TOKEN, balance=100)
        owner = make_user()
        workspace = make_workspace(owner, base_url=sim.api_url("v3"), token=token)
        from app.jobs import drain

        def run_jobs() -> None:
            drain(app)
            db.session.expire_all()

        job = started_import(workspace, owner, sim, token, run_jobs)
        real_claim, asked = jobs.claim_items, []

        def spy(job_id, limit=1):
            asked.append(limit)
            return real_claim(job_id, limit)

        monkeypatch.setattr(jobs.runner, "claim_items", spy)  # the runner claims
        if batch == 1:
            # Three items at two a second are enough to see the claims (and keep it short).
            for item in real_claim(job.id, 27):
                jobs.finish_item(item, states.ITEM_DONE, "exists", "existing")
        wake(job.id)
        run_jobs()
        job = db.session.get(Job, job.id)
        assert job.state == states.DONE
        assert asked and max(asked) == batch
