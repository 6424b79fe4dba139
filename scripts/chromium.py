"""Debian's headless Chromium as every builder and browser test here starts it, and a local web server.

The flags keep Chromium headless and quiet: without the background-networking ones it tries to reach
Google's hosts at every start, and this machine refuses them. ``scripts.cheatsheet`` and
``scripts.book_pdf`` print through it; the tests get it through ``tests/conftest.py``. ``launch`` starts
it from Playwright, ``keep_local`` lets a browser context reach 127.0.0.1 only, ``serve`` puts a folder
there, and ``local_browser`` does all three: a folder's pages in a browser that can reach nothing else.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"  # Debian's package, installed by `make browser`
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) from a thread; yields the base URL, without a
    trailing slash, and stops the server on exit."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def launch(playwright):
    """Debian's Chromium with ``CHROMIUM_ARGS``, headless, from a started Playwright (``sync_playwright()``).
    Raises ``FileNotFoundError`` naming the fix when Debian's chromium is not installed."""
    if not Path(CHROMIUM).is_file():
        raise FileNotFoundError(f"Debian's chromium is missing ({CHROMIUM}): run `make browser`")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def keep_local(context, refused: list[str], requested: list[str] | None = None) -> None:
    """Let a Playwright browser ``context`` reach 127.0.0.1 only: any other request is refused and its
    URL appended to ``refused``; ``requested``, when given, gets the URL of every request."""

    def route(r):
        if requested is not None:
            requested.append(r.request.url)
        if urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)


@contextlib.contextmanager
def local_browser(
    folder: Path, refused: list[str], requested: list[str] | None = None, **context_options
) -> Iterator[tuple[str, object]]:
    """``folder`` served on 127.0.0.1 (``serve``) and a context of Debian's Chromium (``launch``) that
    can reach that host only (``keep_local``: other requests refused and appended to ``refused``).
    Yields ``(base URL, Playwright browser context)``; ``context_options`` go to ``new_context``. The
    browser and the server stop on exit."""
    from playwright.sync_api import sync_playwright

    with serve(folder) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(**context_options)
            keep_local(context, refused, requested)
            yield base, context
        finally:
            browser.close()
