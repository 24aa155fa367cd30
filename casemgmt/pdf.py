"""PDF rendering with WeasyPrint behind a URL fetcher that reaches only our own static files.

A template that (by mistake or through user input) names file:///etc/passwd or a remote URL
must not pull it into a letter: such URLs are refused and logged. Our stylesheets and images
are named ``static:<path>`` and read from the package's static folder, with no network.
"""
from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse


class RefusedURL(ValueError):
    """A document asked for a resource outside our static folder."""


class StaticOnlyFetcher(URLFetcher):
    """Serves ``static:`` and ``data:`` URLs; refuses file://, http(s):// and everything else."""

    def __init__(self, static_root: str | Path):
        super().__init__(allowed_protocols={"static", "data"}, allow_redirects=False, fail_on_errors=False)
        self.root = Path(static_root).resolve()
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "static":
            path = (self.root / unquote(urlsplit(url).path).lstrip("/")).resolve()
            if self.root in path.parents and path.is_file():
                mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, body=path.read_bytes(), headers={"Content-Type": mime})
        self.refused.append(url)
        current_app.logger.warning("PDF rendering refused to fetch %s", url)
        raise RefusedURL(f"refused to fetch {url}")


def html_to_pdf(html: str) -> tuple[bytes, list[str]]:
    """PDF bytes and the URLs that were refused."""
    fetcher = StaticOnlyFetcher(current_app.static_folder)
    pdf = HTML(string=html, url_fetcher=fetcher).write_pdf()
    return pdf, fetcher.refused


def render_pdf(template: str, **context) -> bytes:
    """Render a Jinja template (templates/pdf/...) to A4 PDF bytes."""
    return html_to_pdf(render_template(template, **context))[0]
