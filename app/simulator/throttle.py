"""Laravel's RateLimiter as the `api` limiter uses it (reference §4).

A fixed window that opens at the first counted request; rejected requests are not counted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .state import SimulatorConfig, SimulatorState


@dataclass(frozen=True)
class ThrottleResult:
    allowed: bool
    limit: int
    remaining: int

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}


def hit(state: SimulatorState, config: SimulatorConfig, family: str, key: str) -> ThrottleResult:
    """Count one request for (family, key); the two families use separate buckets."""
    limit = int(config.rate_limit)
    now = time.monotonic()
    with state.lock:
        bucket = state.throttle.get((family, key))
        if bucket is None or now - bucket[0] >= float(config.rate_window_s):
            bucket = [now, 0]
            state.throttle[(family, key)] = bucket
        if bucket[1] >= limit:
            return ThrottleResult(False, limit, 0)
        bucket[1] += 1
        return ThrottleResult(True, limit, limit - int(bucket[1]))
