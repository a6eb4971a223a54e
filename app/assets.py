"""Page weight: static files under content-hashed names, and compressed responses.

Static files. At start-up every file under static/ is read once and named by the start of its
SHA-256: `url_for("static", filename="css/app.css")` builds `/static/css/app.<digest>.css`
(a URL default, so every template and view gets the hashed name without knowing it). That name
is served with `Cache-Control: public, max-age=31536000, immutable`: a browser never asks again,
and a changed file has a new name. An old or unknown digest is redirected to the current name
(302, `no-cache`), never cached for a year; the plain name still works, revalidated each time.
Bodies are compressed once per process (gzip and brotli at their best levels) instead of on
every request.

Responses. flask-compress compresses buffered answers (pages, htmx fragments, JSON) with brotli
or gzip; streamed ones (CSV downloads) are compressed here chunk by chunk, without holding the
request context open while the file streams (jobs.rejects reads each chunk in an app context
of its own on purpose).

BREACH: an answer to a request the browser marks `Sec-Fetch-Site: cross-site` or `same-site`
is not compressed. The attack needs many requests started by the attacker's page, each
reflecting a guess next to a secret; those are exactly the requests a browser labels so, while
the portal's own pages and htmx calls (same-origin) and typed URLs (none) stay compressed.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, current_app, redirect, request, url_for
from werkzeug.security import safe_join
from werkzeug.wrappers import Response as BaseResponse

try:  # flask-compress depends on one of the two
    import brotlicffi as brotli
except ImportError:  # pragma: no cover - depends on the platform's wheels
    import brotli

DIGEST_LENGTH = 10
IMMUTABLE = "public, max-age=31536000, immutable"
MIN_SIZE = 500  # below this, the encoding's own framing eats most of the gain
COMPRESSIBLE = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "text/csv",
    "text/plain",
    "text/markdown",
    "image/svg+xml",
]
# The request's own page or htmx call ("same-origin"), a typed URL or bookmark ("none"), or a
# client that sends no Sec-Fetch-Site (scripts, old browsers): compressed. See BREACH above.
_COMPRESS_FOR = {None, "same-origin", "none"}
_HASHED = re.compile(rf"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{{{DIGEST_LENGTH}}})(?P<ext>\.[^.]+)?$")


class Asset:
    """One file under static/: its bytes, digest, hashed name and compressed bodies."""

    def __init__(self, name: str, path: Path) -> None:
        self.name = name
        self.path = path
        stat = path.stat()
        self.stamp = (stat.st_mtime_ns, stat.st_size)
        self.body = path.read_bytes()
        self.digest = hashlib.sha256(self.body).hexdigest()[:DIGEST_LENGTH]
        folder, slash, base = name.rpartition("/")
        stem, dot, ext = base.rpartition(".")
        hashed = f"{stem}.{self.digest}.{ext}" if dot and stem else f"{base}.{self.digest}"
        self.hashed = f"{folder}{slash}{hashed}"
        self.mimetype = mimetypes.guess_type(base)[0] or "application/octet-stream"
        self.compressible = self.mimetype in COMPRESSIBLE and len(self.body) >= MIN_SIZE
        self._encoded: dict[str, bytes] = {}

    def encoded(self, coding: str) -> bytes:
        """The body in `coding` ("br" or "gzip"), compressed on first use."""
        if coding not in self._encoded:
            if coding == "br":
                self._encoded[coding] = brotli.compress(self.body, quality=11)
            else:
                self._encoded[coding] = gzip.compress(self.body, compresslevel=9, mtime=0)
        return self._encoded[coding]


class Manifest:
    """Every static file by its plain name. `live` (development) re-reads a file that changed
    on disk, so an edited stylesheet gets a new name without a restart."""

    def __init__(self, folder: str | os.PathLike, *, live: bool = False) -> None:
        self.folder = Path(folder)
        self.live = live
        self.files: dict[str, Asset] = {}
        if self.folder.is_dir():
            for path in sorted(self.folder.rglob("*")):
                name = path.relative_to(self.folder).as_posix()
                if path.is_file() and not any(p.startswith(".") for p in name.split("/")):
                    self.files[name] = Asset(name, path)

    def get(self, name: str) -> Asset | None:
        asset = self.files.get(name)
        if self.live:
            asset = self._reread(name, asset)
        return asset

    def _reread(self, name: str, asset: Asset | None) -> Asset | None:
        found = safe_join(str(self.folder), name)  # None for ../ and absolute names
        path = Path(found) if found else None
        if path is None or not path.is_file() or any(p.startswith(".") for p in name.split("/")):
            self.files.pop(name, None)
            return None
        stat = path.stat()
        if asset is None or asset.stamp != (stat.st_mtime_ns, stat.st_size):
            asset = self.files[name] = Asset(name, path)
        return asset

    def resolve(self, filename: str) -> tuple[Asset | None, bool]:
        """(asset, current) for a requested name: the plain name is current; a hashed one is
        current when its digest is the file's digest now."""
        asset = self.get(filename)
        if asset is not None:
            return asset, True
        folder, slash, base = filename.rpartition("/")
        match = _HASHED.match(base)
        if match is None:
            return None, False
        asset = self.get(f"{folder}{slash}{match['stem']}{match['ext'] or ''}")
        return asset, asset is not None and match["digest"] == asset.digest


def best_coding() -> str | None:
    """br or gzip, whichever the request's Accept-Encoding rates higher (br on a tie)."""
    accepted = request.accept_encodings
    br, gz = accepted.quality("br"), accepted.quality("gzip")
    if max(br, gz) <= 0:
        return None
    return "br" if br >= gz else "gzip"


def serve_static(filename: str) -> BaseResponse:
    """The `static` endpoint: hashed names for a year, plain names revalidated, stale names
    redirected to the current file."""
    asset, current = current_app.extensions["assets"].resolve(filename)
    if asset is None:
        abort(404)
    if not current:
        # A page rendered before the file changed (or a forged digest): the file as it is now,
        # under its own name; this answer itself is not kept.
        response = redirect(url_for("static", filename=asset.name), 302)
        response.headers["Cache-Control"] = "no-cache"
        return response
    coding = best_coding() if asset.compressible else None
    response = current_app.response_class(
        asset.encoded(coding) if coding else asset.body, mimetype=asset.mimetype
    )
    if coding:
        response.headers["Content-Encoding"] = coding
    if asset.compressible:
        response.vary.add("Accept-Encoding")
    if filename == asset.hashed:
        response.headers["Cache-Control"] = IMMUTABLE
    else:  # the plain name may change content at the next deploy
        max_age = current_app.get_send_file_max_age(filename)
        response.headers["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    response.set_etag(f"{asset.digest}-{coding or 'identity'}")
    return response.make_conditional(request)


def _compress_stream(response: Response, coding: str) -> Response:
    """Compress a streamed body chunk by chunk, as it is sent. Unlike flask-compress's own
    streaming, the request context is not kept open until the last chunk."""
    chunks, source = response.iter_encoded(), response.response

    def generate() -> Iterator[bytes]:
        if coding == "br":
            compressor = brotli.Compressor(quality=4)
            feed, finish = compressor.process, compressor.finish
        else:
            compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)  # gzip framing
            feed, finish = compressor.compress, compressor.flush
        try:
            for chunk in chunks:
                if out := feed(chunk):
                    yield out
            yield finish()
        finally:
            close = getattr(source, "close", None)
            if close is not None:  # e.g. the export generator's open file
                close()

    response.response = generate()
    response.direct_passthrough = False
    response.headers["Content-Encoding"] = coding
    response.headers.pop("Content-Length", None)
    return response


def _compress(response: Response) -> Response:
    """The last after-request hook: compress the final body (see the module docstring)."""
    if request.endpoint == "static":
        return response  # serve_static chose the encoding itself
    response.vary.add("Sec-Fetch-Site")
    response.vary.add("Accept-Encoding")
    # best_coding first: flask-compress would still pick gzip for "gzip;q=0" (not acceptable).
    coding = best_coding() if request.headers.get("Sec-Fetch-Site") in _COMPRESS_FOR else None
    if coding is None:
        return response
    if not response.is_streamed:
        from .extensions import compress

        return compress.after_request(response)
    if (
        200 <= response.status_code < 300
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
    ):
        return _compress_stream(response, coding)
    return response


def _hashed_static_url(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values:
        asset = current_app.extensions["assets"].get(values["filename"])
        if asset is not None:
            values["filename"] = asset.hashed


def init_assets(app: Flask) -> None:
    """Register before any other after-request hook: Flask runs them in reverse order, so the
    compression sees the final body and headers."""
    from .extensions import compress

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSIBLE)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    # Pages are compressed on every request by a CPU-bound worker: brotli 1 takes a fifth of
    # the time of brotli 4 (0.08 against 0.42 ms for a 22 KB page) for 30 % more bytes on
    # pages of 2 to 3 KB compressed. gzip 1, for clients without brotli, likewise.
    app.config.setdefault("COMPRESS_BR_LEVEL", 1)
    app.config.setdefault("COMPRESS_LEVEL", 1)
    app.config.setdefault("COMPRESS_MIN_SIZE", MIN_SIZE)
    app.config["COMPRESS_REGISTER"] = False  # _compress calls it, after the BREACH check
    app.config["COMPRESS_STREAMS"] = False  # _compress_stream does those
    compress.init_app(app)
    app.after_request(_compress)

    if app.static_folder:
        live = app.debug or app.config.get("PORTAL_ENV") == "development"
        app.extensions["assets"] = Manifest(app.static_folder, live=live)
        app.url_defaults(_hashed_static_url)
        app.view_functions["static"] = serve_static
