"""A stand-in for a host someone points a gateway URL at: a real HTTP server on 127.0.0.1 that
answers 200 JSON to everything and records each request's path and headers."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Listener:
    """A real local HTTP server that answers 200 JSON and keeps each request's headers."""

    def __init__(self) -> None:
        seen = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server interface
                seen.append({"path": self.path, "headers": dict(self.headers)})
                body = json.dumps({"status": "success", "data": {}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/v3"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def authorizations(self) -> list[str]:
        return [
            r["headers"]["Authorization"] for r in self.requests if "Authorization" in r["headers"]
        ]

    def tokens_in_paths(self, token: str) -> list[str]:
        return [r["path"] for r in self.requests if token in r["path"]]


@contextmanager
def running_listener():
    found = Listener()
    found.thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()
