"""Serve the simulator the way a production gateway is served: HTTP/1.1 keep-alive.

werkzeug's threaded server, which the tests use because its hooks can fake connection resets,
closes every connection after one answer. A real GoTone gateway (Laravel behind nginx) keeps
connections alive, and the portal's pooled sessions (app/services/connections.py) are worth
measuring only against a server that does: `python -m app.simulator --keep-alive` serves the
same app from gunicorn's threaded worker instead (one process, so one state). Fault modes that
need the werkzeug hooks (reset before/after) then close the connection normally instead.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication


class KeepAliveServer(BaseApplication):
    def __init__(self, app: Any, host: str, port: int, *, threads: int = 64, quiet: bool = True):
        self.application = app
        self.options = {
            "bind": f"{host}:{port}",
            "workers": 1,  # the simulator's state lives in one process
            "worker_class": "gthread",
            "threads": threads,  # latency sleeps hold a thread each: room for the benchmarks
            "keepalive": 30,
            "timeout": 300,
            "accesslog": "-" if not quiet else None,
            "loglevel": "warning",
        }
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application
