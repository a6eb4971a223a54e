"""The outbox: claim a send by its idempotency key, then send each recipient at most once.

Rules that move a message (see app/models/outbox.py for the states):
- created `queued` in the same transaction that claims the request's (workspace, send_key);
- `queued → sending` by an UPDATE guarded on `queued`, committed before the gateway call, so
  two requests, tabs or task runs can never both call the gateway for one row;
- the gateway answered with a report → `accepted` (or `failed` if the report says failed);
  it refused (validation, balance, coverage, auth, rate limit) → `failed`;
- `Too Many Attempts.` → back to `queued` (an inline send becomes a job that waits out the
  gateway's window);
- the call provably never reached the gateway (`definitely_not_received`) → tried again
  (inline: up to 3 attempts; in a job: released to the queue with a delay, up to
  JOBS_MAX_ATTEMPTS) and then `failed`;
- anything else after the call started (timeout, reset, 5xx, garbled answer) → `unknown`;
  a row found still `sending` by a worker (its predecessor died mid-call) → `unknown`, and so
  does any row left `sending` past the call's deadline with no live job item (the periodic
  sweep, outbox/sweep.py, which also starts requests stored but never sent);
- a request that needs a job is stored with it in one commit (outbox/send_job.py);
- `unknown` is never sent again automatically: `resend` (a member's confirmation) creates a
  new request with one message linked by `resend_of_id`.

One job per module: drafts (Draft, submit and reading requests back), delivery (claim, call,
settle, done), sending (now: inline or as a job), send_job (the background send, registered
with the job engine), resend and sweep (the periodic round for abandoned sends). Callers use
the package: `from app.services import outbox; outbox.submit(...)`.
"""

from __future__ import annotations

from ...exceptions import InFlightError, KeyReusedError, OutboxError  # callers: outbox.X
from ...models.outbox import (
    ACCEPTED,
    CANCELLED,
    DONE,
    FAILED,
    PLAIN,
    QUEUED,
    SCHEDULED,
    SENDING,
    UNKNOWN,
)
from ...models.types import utcnow
from . import sweep
from .delivery import (
    MAX_CALL,
    Call,
    CallResult,
    SendSpec,
    _claim,
    _mark,
    _touch,
    fail_queued,
    finish_if_done,
    refresh,
)
from .drafts import (
    IN_FLIGHT_WAIT,
    Draft,
    Submitted,
    by_key,
    counts,
    find,
    find_message,
    messages_of,
    rewrite_messages,
    submit,
)
from .resend import resend
from .send_job import SEND_JOB, add_job, needs_job, process, wake_job
from .sending import INLINE_ATTEMPTS, INLINE_BACKOFF, send_inline, start, start_job

__all__ = [
    "ACCEPTED",
    "CANCELLED",
    "DONE",
    "FAILED",
    "INLINE_ATTEMPTS",
    "INLINE_BACKOFF",
    "IN_FLIGHT_WAIT",
    "MAX_CALL",
    "PLAIN",
    "QUEUED",
    "SCHEDULED",
    "SENDING",
    "SEND_JOB",
    "UNKNOWN",
    "Call",
    "CallResult",
    "Draft",
    "InFlightError",
    "KeyReusedError",
    "OutboxError",
    "SendSpec",
    "Submitted",
    "_claim",
    "_mark",
    "_touch",
    "add_job",
    "by_key",
    "counts",
    "fail_queued",
    "find",
    "find_message",
    "finish_if_done",
    "messages_of",
    "needs_job",
    "process",
    "refresh",
    "resend",
    "rewrite_messages",
    "send_inline",
    "start",
    "start_job",
    "submit",
    "sweep",
    "utcnow",
    "wake_job",
]
