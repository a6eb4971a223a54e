"""The registry of job kinds: each kind (import, export, send) registers its handlers when
its module is imported, so the engine runs them without importing any of them.

create_app imports the kinds (app/services/job_kinds.py), so the registry is full in the web
process and in every consumer before the first task runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...models import Job

# Works on a job for one time slice; returns a delay after which to run again, or None.
Handler = Callable[[Job], "float | None"]


@dataclass(frozen=True)
class JobKind:
    """A kind of job: its Job.kind, a handler per job state it works in, and what to do once
    its last item is finished (before the job is marked done)."""

    name: str
    handlers: Mapping[str, Handler]
    on_last_item: Callable[[Job], None] | None = None


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    """Add (or, on a module reload, replace) a kind of job."""
    _KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> JobKind | None:
    return _KINDS.get(name)


def handler_for(job: Job) -> Handler | None:
    """The registered handler for the job's kind in its current state, or None."""
    kind = _KINDS.get(job.kind)
    return None if kind is None else kind.handlers.get(job.state)
