"""Gzip for pages, JSON and static assets, done by the app itself (deployments may have no nginx)."""
from __future__ import annotations

import gzip
import os
from functools import lru_cache

from flask import current_app, request
from werkzeug.security import safe_join

# Text that shrinks well. PDFs, XLSX, images and archives are compressed already.
COMPRESSIBLE = frozenset({"text/html", "text/css", "text/javascript", "application/javascript",
                          "application/json", "image/svg+xml"})
MIN_SIZE = 1024  # below this the gzip header and a round of CPU buy nothing


def _accepts_gzip() -> bool:
    """Whether Accept-Encoding allows gzip: an explicit ``gzip`` entry wins over ``*``."""
    wildcard = 0.0
    for value, quality in request.accept_encodings:
        if value.lower() in ("gzip", "x-gzip"):
            return quality > 0
        if value == "*":
            wildcard = quality
    return wildcard > 0


@lru_cache(maxsize=64)
def _static_gzip(path: str, mtime_ns: int, size: int) -> bytes:
    """A static file compressed once per version of it (mtime and size are part of the key)."""
    with open(path, "rb") as handle:
        return gzip.compress(handle.read(), compresslevel=9, mtime=0)


def _static_body(response) -> bytes | None:
    """The cached gzip of the static file this answer streams, or None if it is not one."""
    filename = (request.view_args or {}).get("filename")
    path = safe_join(current_app.static_folder, filename) if filename else None
    if path is None or not os.path.isfile(path):
        return None
    stat = os.stat(path)
    if stat.st_size != response.content_length or stat.st_size < MIN_SIZE:
        return None
    return _static_gzip(path, stat.st_mtime_ns, stat.st_size)


def compress(response):
    if (response.mimetype not in COMPRESSIBLE or "Content-Encoding" in response.headers
            or response.status_code in (204, 206, 304) or "Content-Range" in response.headers):
        return response
    if request.endpoint == "static" and response.direct_passthrough:
        body = _static_body(response)
        if body is None:
            return response
        response.vary.add("Accept-Encoding")
        if not _accepts_gzip():
            return response
        close = getattr(response.response, "close", None)
        if close is not None:
            close()  # the file send_file opened; the cached bytes replace it
        response.direct_passthrough = False
        response.set_data(body)
    else:
        # Streamed answers (exports, attachments) go out as they are produced.
        if response.is_streamed or response.direct_passthrough:
            return response
        data = response.get_data()
        if len(data) < MIN_SIZE:
            return response
        response.vary.add("Accept-Encoding")
        if not _accepts_gzip():
            return response
        # BREACH recovers a secret repeated across many answers; our CSRF token is re-signed with
        # a fresh timestamp every second (its fixed part is useless without the server's key).
        response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag and not weak:
        # Same content, other bytes: a weak validator, which werkzeug's If-None-Match check accepts.
        response.set_etag(etag, weak=True)
    return response


def init_app(app) -> None:
    app.after_request(compress)
