"""Serve the simulator from a background thread (tests) or the foreground (__main__)."""

from __future__ import annotations

import socket
import struct
import threading
from typing import Any

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

from .app import create_simulator_app
from .control import SimulatorControl
from .faults import ABORT_FLAG
from .state import SimulatorConfig, SimulatorState


class _Handler(WSGIRequestHandler):
    quiet = False

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        """A simulated reset: close with SO_LINGER 0 so the peer gets a TCP RST, not a FIN."""
        if environ is not None and environ.get(ABORT_FLAG):
            self.close_connection = True
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
            except OSError:
                return
            self.server.aborted.add(self.connection)  # type: ignore[attr-defined]

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        if not self.quiet:
            super().log_request(*args, **kwargs)


class SimulatorWSGIServer(ThreadedWSGIServer):
    """werkzeug's threaded server, plus abortive close for simulated connection resets."""

    def __init__(self, host: str, port: int, app: Any, quiet: bool = False) -> None:
        self.aborted: set[socket.socket] = set()
        handler = type("SimulatorHandler", (_Handler,), {"quiet": quiet})
        super().__init__(host, port, app, handler=handler)

    def shutdown_request(self, request: Any) -> None:
        if request in self.aborted:
            # No shutdown(SHUT_WR): that would send a FIN before the RST.
            self.aborted.discard(request)
            self.close_request(request)
            return
        super().shutdown_request(request)


class SimulatorServer:
    """The simulator with its control API on 127.0.0.1 and a free port, in a thread.

    `SimulatorServer(profile="modern", rate_limit=5)`; extra keyword `state_file` persists
    state, `host`/`port` override the address, `quiet=False` logs requests to stderr.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_file: str | None = None,
        quiet: bool = True,
        **config_kwargs: Any,
    ) -> None:
        config_kwargs.setdefault("control", True)
        self.config = SimulatorConfig(**config_kwargs)
        self.state = SimulatorState(state_file)
        self.app = create_simulator_app(self.config, self.state)
        self._host, self._port, self._quiet = host, port, quiet
        self._server: SimulatorWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.control: SimulatorControl | None = None

    def start(self) -> SimulatorServer:
        if self._server is not None:
            return self
        self.state.stopping.clear()
        self._server = SimulatorWSGIServer(self._host, self._port, self.app, quiet=self._quiet)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="gotone-simulator",
            daemon=True,
        )
        self._thread.start()
        self.control = SimulatorControl(self.host_url)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self.state.stopping.set()  # wakes hang/drip/latency sleepers
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("SimulatorServer is not running")
        return int(self._server.server_port)

    @property
    def host_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def api_url(self, family: str = "v3") -> str:
        if family not in ("v3", "http"):
            raise ValueError("family must be 'v3' or 'http'")
        return f"{self.host_url}/api/{family}"

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
