"""Sphinx extension: say which chapter the build is on, how long each took, and which were slowest.

Executing a chapter (myst-nb runs its notebook while Sphinx reads it) can take minutes on a loaded
machine, and Sphinx alone prints only the name of the page it starts. This prints one line per
chapter when it has been read (executed or taken from the cache), counting ``k/n``, and at the end
the total and the slowest chapters, so a slow build shows where its time went::

    [book 4/13] 04_keras: 10.0 s
    ...
    [book] read 13 pages in 95.2 s; slowest: 07_stateful 12.0 s, 09_project 11.0 s, ...
"""

from __future__ import annotations

import time

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


def _state(app: Sphinx) -> dict:
    if not hasattr(app, "_book_progress"):
        app._book_progress = {"todo": 0, "done": 0, "start": {}, "took": {}, "t0": time.monotonic()}
    return app._book_progress


def before_read(app: Sphinx, env, docnames: list[str]) -> None:
    """Remember how many pages this build reads (the ones changed since the last build)."""
    st = _state(app)
    st["todo"] = len(docnames)
    st["t0"] = time.monotonic()
    logger.info(f"[book] {len(docnames)} page(s) to read; chapters execute as they are read")


def source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    _state(app)["start"][docname] = time.monotonic()


def doctree_read(app: Sphinx, doctree) -> None:
    st = _state(app)
    docname = app.env.docname
    if docname not in st["start"]:
        return
    took = time.monotonic() - st["start"].pop(docname)
    st["took"][docname] = took
    st["done"] += 1
    logger.info(f"[book {st['done']}/{st['todo']}] {docname}: {took:.1f} s")


def summary(app: Sphinx, exception: Exception | None) -> None:
    st = _state(app)
    if not st["took"]:
        return
    slowest = sorted(st["took"].items(), key=lambda kv: -kv[1])[:3]
    listed = ", ".join(f"{name} {secs:.1f} s" for name, secs in slowest)
    logger.info(
        f"[book] read {len(st['took'])} page(s) in {sum(st['took'].values()):.1f} s; slowest: {listed}; "
        f"whole build {time.monotonic() - st['t0']:.1f} s"
    )


def setup(app: Sphinx) -> dict:
    app.connect("env-before-read-docs", before_read)
    app.connect("source-read", source_read)
    app.connect("doctree-read", doctree_read)
    app.connect("build-finished", summary)
    return {"parallel_read_safe": False, "parallel_write_safe": True, "version": "1.0"}
