"""Sphinx extension: make the built book work offline.

MathJax 2.7 is copied at build time from the installed ``jupyter_server_mathjax`` package into
``_build/html/_static/mathjax/`` (``mathjax_path`` in ``_config.yml`` points there), so no page
loads a script, stylesheet or font from a CDN and nothing large is committed to git.
``tests/test_book.py`` checks the result in a real browser.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError


def mathjax_source() -> Path:
    """The directory that holds ``MathJax.js`` inside the ``jupyter_server_mathjax`` package."""
    try:
        import jupyter_server_mathjax
    except ImportError as exc:  # pragma: no cover - the course's environment installs it
        raise ExtensionError(
            "offline_assets: install jupyter-server-mathjax to serve MathJax locally"
        ) from exc
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (src / "MathJax.js").is_file():
        raise ExtensionError(f"offline_assets: no MathJax.js in {src}")
    return src


def copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    """After an HTML build, copy MathJax into ``_static/mathjax`` unless it is already there."""
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "mathjax"
    src = mathjax_source()
    if (
        not (dest / "MathJax.js").is_file()
        or (dest / "MathJax.js").stat().st_size != (src / "MathJax.js").stat().st_size
    ):
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)


def _is_thebe(asset) -> bool:
    name = str(getattr(asset, "filename", asset) or "")
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return "thebe" in name or "THEBE_JS_URL" in body


def drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Thebe (live code in the page) is off in ``_config.yml``, but sphinx-thebe still adds its
    loader and a CDN address to every page; drop them so the pages name no external script."""
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [a for a in context[key] if not _is_thebe(a)]


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", copy_mathjax)
    app.connect("html-page-context", drop_thebe)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
