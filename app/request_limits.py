"""How much of a request body the portal reads: little, except on the upload routes.

Werkzeug refuses a body over `max_content_length` with a 413 before parsing it (the CSRF
check is the first to read the form), so an anonymous post of many megabytes costs the
worker nothing. Only the routes that take a file get the import limit (IMPORT_MAX_BYTES plus
the form around it, MAX_CONTENT_LENGTH); every other route gets FORM_MAX_BYTES.
"""

from __future__ import annotations

from flask import Flask, current_app
from flask.wrappers import Request

# Endpoints that accept an uploaded file or a pasted list as large as a file.
UPLOAD_ENDPOINTS = frozenset({"jobs.new_import"})


class PortalRequest(Request):
    """A request whose body limits depend on the route it matched (Flask 3.1 per-request
    limits; a view may still set its own)."""

    def _is_upload(self) -> bool:
        return self.endpoint in UPLOAD_ENDPOINTS

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None or not current_app:
            return super().max_content_length
        cfg = current_app.config
        if self._is_upload():
            return cfg["MAX_CONTENT_LENGTH"]
        return min(filter(None, (cfg["FORM_MAX_BYTES"], cfg["MAX_CONTENT_LENGTH"])))

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        if self._max_form_memory_size is not None or not current_app:
            return super().max_form_memory_size
        # A pasted list is a form field, not a file: it may be as large as the upload.
        if self._is_upload():
            return current_app.config["MAX_CONTENT_LENGTH"]
        return super().max_form_memory_size

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value


def init_request_limits(app: Flask) -> None:
    """Use PortalRequest for every request of `app`."""
    app.request_class = PortalRequest
