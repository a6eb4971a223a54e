"""T21 fixtures: the figures line once all fuzzed forms ran, a fast simulator account."""

from __future__ import annotations

import pytest

from tests.conftest import report_figure
from tests.fuzz.harness import figures_line


@pytest.fixture(scope="session", autouse=True)
def _t21_figures():
    yield
    line = figures_line()
    if line:
        report_figure("T21", line)


@pytest.fixture
def fast_sim(sim):
    """The simulator without latency and with a throttle no fuzz run reaches."""
    sim.control.configure(latency_ms=0, rate_limit=1_000_000)
    return sim
