"""Sphinx extension: never publish an output that the current code would not print.

The book executes with ``execute_notebooks: cache``: jupyter-cache re-runs a chapter only when the
chapter's *own* code changes. But a chapter also runs code it imports (``lstm_ref``, the figures'
package, the course tools) and reads files (the exercises, the measured timings), and the installed
packages are pinned by ``requirements.lock``. When any of those change, a cached output may no longer be
what the code prints now, and Sphinx, seeing the page's source unchanged, would not even read it again.

So this extension hashes those inputs (``exec_inputs``: paths and globs relative to ``exec_inputs_root``,
set in ``_config.yml``) before anything is read. When the hash differs from the one stored beside the
execution cache by the last successful build, it removes the cache, logs which inputs changed, and makes
Sphinx read every page again (``env-get-outdated``); the new hash is stored when the build succeeds. The
stamp lives inside the cache folder, so a cache restored by CI carries the inputs it was made from. A
second copy lives in the build's doctrees: the book's editions share one cache, and an edition whose own
pages were made from older inputs reads every page again (from the cache) even when the English build
has already executed them.

A page can also depend on other pages' sources (the instructor guide counts the chapters' words):
``exec_page_inputs`` maps its name to globs relative to the book, noted as Sphinx dependencies, so an
edit there makes Sphinx read the page again. Such a page must not come from the cache (its code did not
change): its front matter sets ``mystnb: {execution_mode: force}``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

STAMP = "lstm-exec-inputs.json"  # inside the execution cache folder
SKIP = ("__pycache__", ".ipynb_checkpoints")


def input_files(root: Path, patterns: list[str]) -> list[Path]:
    """Every file named by ``patterns`` under ``root``: a folder means all files below it, else a glob.

    Raises ``ValueError`` for a pattern that matches nothing (a renamed input would silently drop out).
    """
    files: set[Path] = set()
    for pattern in patterns:
        matched = sorted(root.glob(pattern))
        if not matched:
            raise ValueError(f"exec_inputs: {pattern!r} matches nothing under {root}")
        for path in matched:
            below = path.rglob("*") if path.is_dir() else [path]
            files.update(p for p in below if p.is_file() and not any(part in SKIP for part in p.parts))
    return sorted(files)


def digests(root: Path, patterns: list[str]) -> dict[str, str]:
    """``{path relative to root: sha256 of its bytes}`` for every input file."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in input_files(root, patterns)
    }


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The inputs added, removed or edited between two ``digests``, sorted."""
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


def _cache_dir(app: Sphinx) -> Path:
    """Where myst-nb keeps the execution cache: ``nb_execution_cache_path``, else ``<outdir>/../.jupyter_cache``."""
    path = app.config["nb_execution_cache_path"]
    return (
        Path(app.srcdir, path).resolve()
        if path
        else Path(app.outdir).parent.joinpath(".jupyter_cache").resolve()
    )


def check(app: Sphinx) -> None:
    """``builder-inited``: clear the execution cache when its inputs changed (before myst-nb opens it)."""
    root = Path(app.srcdir, app.config.exec_inputs_root).resolve()
    new = digests(root, list(app.config.exec_inputs))
    cache = _cache_dir(app)
    stamp = cache / STAMP
    old = json.loads(stamp.read_text(encoding="utf-8")) if stamp.is_file() else None
    # Every page is read again when this build's own pages were made from other inputs, even if another
    # build (another language, sharing the cache) already executed them: its stamp is in the doctrees.
    mine = Path(app.doctreedir) / STAMP
    pages = json.loads(mine.read_text(encoding="utf-8")) if mine.is_file() else None
    app._exec_inputs = {"new": new, "stale": old != new or pages != new}
    if old == new:
        return
    if old is None:
        why = "no record of the inputs the cached outputs were made from"
    else:
        diff = changed(old, new)
        why = f"{len(diff)} changed: {', '.join(diff[:8])}" + (", ..." if len(diff) > 8 else "")
    if cache.exists():
        shutil.rmtree(cache)
        logger.info(f"[book] the chapters' inputs changed ({why}): execution cache cleared")
    logger.info("[book] every page is read and executed again")


def page_inputs(app: Sphinx, docname: str, source: list[str]) -> None:
    """``source-read``: note the files a page reads as its dependencies (``exec_page_inputs``)."""
    for pattern in app.config.exec_page_inputs.get(docname, []):
        matched = sorted(Path(app.srcdir).glob(pattern))
        if not matched:
            raise ValueError(f"exec_page_inputs[{docname!r}]: {pattern!r} matches nothing")
        for path in matched:
            if path.is_file() and path != Path(app.srcdir, app.env.doc2path(docname)):
                app.env.note_dependency(str(path))


def outdated(app: Sphinx, env, added, changed_docs, removed) -> list[str]:
    """``env-get-outdated``: every page, when the inputs changed (their sources may not have)."""
    if getattr(app, "_exec_inputs", {}).get("stale"):
        return sorted(env.found_docs - set(added) - set(changed_docs) - set(removed))
    return []


def record(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: store the hash of the inputs this build's outputs were made from."""
    state = getattr(app, "_exec_inputs", None)
    if exception is not None or state is None:
        return
    cache = _cache_dir(app)
    cache.mkdir(parents=True, exist_ok=True)
    for folder in (cache, Path(app.doctreedir)):
        (folder / STAMP).write_text(json.dumps(state["new"], indent=0, sort_keys=True), encoding="utf-8")


def setup(app: Sphinx) -> dict:
    app.add_config_value("exec_inputs", [], "env", [list])
    app.add_config_value("exec_inputs_root", ".", "env", [str])
    app.add_config_value("exec_page_inputs", {}, "env", [dict])
    app.connect("builder-inited", check)
    app.connect("env-get-outdated", outdated)
    app.connect("source-read", page_inputs)
    app.connect("build-finished", record)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
