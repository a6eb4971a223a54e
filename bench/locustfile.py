"""Locust users of the load benchmark (bench/load.py starts locust with this file).

Each user logs in as the portal's bench user (its own session cookie), then runs the mix:
60% list pages (groups, a group's contacts), 20% history, 10% dashboard, 10% sends. A send is the
full compose → review → send of bench/load_mix.py and counts as ONE entry named "send" (its time
is the three requests together); its three steps and the logins are timed apart, outside locust's
statistics, so that the mix and the totals hold only the tasks.

The measured window starts when every user has logged in (the statistics are reset then) and
lasts BENCH_DURATION seconds; logins are argon2 work that a real day spreads out, not part of
the mix. At the end the statistics (with their response-time histograms, so that bench/load.py
can merge rows) go to BENCH_RESULT as JSON.

Environment (set by bench/load.py): BENCH_WORKSPACE_ID, BENCH_GROUP_UID, BENCH_EMAIL,
BENCH_PASSWORD, BENCH_USERS, BENCH_DURATION, BENCH_RESULT, BENCH_PACE (tasks per second per
user; 0 = no pause between tasks).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path

import gevent
from gevent.event import Event
from load_mix import review_form, send_form  # bench/ is on sys.path: locust adds the file's folder
from locust import FastHttpUser, constant, constant_throughput, events, task
from locust.event import EventHook
from locust.stats import StatsError

WORKSPACE = os.environ.get("BENCH_WORKSPACE_ID", "1")
GROUP = os.environ.get("BENCH_GROUP_UID", "")
EMAIL = os.environ.get("BENCH_EMAIL", "bench@example.com")
PASSWORD = os.environ.get("BENCH_PASSWORD", "")
USERS = int(os.environ.get("BENCH_USERS", "1"))
DURATION = float(os.environ.get("BENCH_DURATION", "60"))
PACE = float(os.environ.get("BENCH_PACE", "0"))
RESULT = Path(os.environ.get("BENCH_RESULT", "locust-result.json"))
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# Steps of a send and logins, timed apart: name -> {rounded ms: count}, plus their failures.
steps: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
step_errors: dict[str, int] = defaultdict(int)
window = {"start": None, "end": None, "users": 0, "logged_in": 0, "login_failed": 0}
all_in = Event()


def _record_step(request_type, name, response_time, response_length, exception=None, **_kw):
    steps[name][int(round(response_time))] += 1
    if exception is not None:
        step_errors[name] += 1


private = EventHook()
private.add_listener(_record_step)


def _begin_window(environment) -> None:
    """Every user is in: reset the statistics and stop the run DURATION seconds from now."""
    environment.runner.stats.reset_all()
    window["start"] = time.time()
    RESULT.with_suffix(".ready").write_text(str(window["start"]))
    gevent.spawn_later(DURATION, environment.runner.quit)
    all_in.set()


class PortalUser(FastHttpUser):
    wait_time = constant_throughput(PACE) if PACE > 0 else constant(0)
    # One connection per user is what a browser tab does; no retries, so that errors show.
    concurrency = 1
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self) -> None:
        # Each user its own address (the portal runs behind a proxy here; see bench/load.py),
        # so that the login's per-address limit sees 50 people, not one.
        window["users"] += 1
        address = f"10.8.{window['users'] // 250}.{window['users'] % 250 + 1}"
        self.client.client.default_headers.update({"X-Forwarded-For": address})
        try:
            self._login()
        finally:
            window["logged_in"] += 1
            if window["logged_in"] == USERS:
                _begin_window(self.environment)
        all_in.wait(timeout=300)

    def _login(self) -> None:
        main, self.client.request_event = self.client.request_event, private
        try:
            page = self.client.get("/auth/login", name="login page")
            found = _CSRF.search(page.text or "")
            form = {
                "csrf_token": found.group(1) if found else "",
                "email": EMAIL,
                "password": PASSWORD,
            }
            answer = self.client.post("/auth/login", name="login", data=form, allow_redirects=False)
        finally:
            self.client.request_event = main
        location = (answer.headers or {}).get("location", "") if answer.status_code else ""
        if answer.status_code not in (302, 303) or "/auth/login" in location:
            # Counted as errors by bench/load.py (the statistics are reset once all are in);
            # every later request of this user fails as well, and shows in the failures.
            window["login_failed"] += 1

    # -- the mix: weights are percentages -----------------------------------------------------
    @task(30)
    def groups(self) -> None:
        self._page(f"/w/{WORKSPACE}/groups", "groups")

    @task(30)
    def contacts(self) -> None:
        self._page(f"/w/{WORKSPACE}/groups/{GROUP}", "contacts")

    @task(20)
    def history(self) -> None:
        self._page(f"/w/{WORKSPACE}/messages/history", "history")

    @task(10)
    def dashboard(self) -> None:
        self._page(f"/w/{WORKSPACE}", "dashboard")

    @task(10)
    def send(self) -> None:
        """Compose → review → send as one entry; a step that fails ends the send as an error."""
        base = f"/w/{WORKSPACE}/messages"
        main, self.client.request_event = self.client.request_event, private
        started = time.perf_counter()
        length, error = 0, None
        try:
            compose = self.client.get(f"{base}/compose", name="send 1 compose")
            length += len(compose.content or b"")
            if compose.status_code != 200:
                raise RuntimeError(f"compose answered {compose.status_code}")
            form = review_form(compose.text, f"Load {time.time():.6f}")
            review = self.client.post(f"{base}/review", name="send 2 review", data=form)
            length += len(review.content or b"")
            if review.status_code != 200:
                raise RuntimeError(f"review answered {review.status_code}")
            fields = send_form(review.text, form)
            answer = self.client.post(
                f"{base}/send", name="send 3 send", data=fields, allow_redirects=False
            )
            length += len(answer.content or b"")
            location = (answer.headers or {}).get("location", "")
            if answer.status_code not in (302, 303) or "/sends/" not in location:
                raise RuntimeError(f"send answered {answer.status_code} {location}".strip())
        except Exception as exc:  # noqa: BLE001 - reported as the send's failure
            error = exc
        finally:
            self.client.request_event = main
        main.fire(
            request_type="FLOW",
            name="send",
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            exception=error,
            context={},
        )

    def _page(self, path: str, name: str) -> None:
        # A redirect (to the login page, say) is not the page: count it as an error.
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{name} answered {answer.status_code}")


@events.test_stop.add_listener
def _dump(environment, **_kw) -> None:
    """The statistics of the window, with histograms, for bench/load.py."""
    window["end"] = time.time()
    stats = environment.runner.stats
    entries = {
        name: {
            "method": method,
            "requests": e.num_requests,
            "failures": e.num_failures,
            "bytes": e.total_content_length,
            "times": dict(e.response_times),
        }
        for (name, method), e in stats.entries.items()
    }
    errors = [
        {
            "method": e.method,
            "name": e.name,
            "error": StatsError.parse_error(e.error),
            "occurrences": e.occurrences,
        }
        for e in stats.errors.values()
    ]
    RESULT.write_text(
        json.dumps(
            {
                "window": window,
                "entries": entries,
                "errors": errors,
                "steps": {name: dict(times) for name, times in steps.items()},
                "step_errors": dict(step_errors),
            }
        )
    )
