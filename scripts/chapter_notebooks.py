"""Write ``book/<chapter>.ipynb``, the launchable twin of every MyST chapter, for Colab and Binder.

The book's sources are MyST Markdown (text, reviewable diffs). Colab cannot open them, and the
theme's launch buttons open ``<chapter>.ipynb`` instead whenever that file sits next to the
``.md``. So each chapter gets a generated notebook without outputs, with one extra first cell that,
on Colab only, clones the course and pip-installs it without dependencies (Colab has numpy,
matplotlib, torch and Keras): that gives ``lstm_ref`` and the book's figures, ``lstm_figures``
(``book/lstm_figures/``, packaged by ``pyproject.toml``). The notebooks are
committed, excluded from the Sphinx build (``_config.yml``), and ``tests/test_chapter_notebooks.py``
fails when one has drifted from its chapter.

    python -m scripts.chapter_notebooks          # (re)write every book/<chapter>.ipynb
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import nbformat

BOOK = Path(__file__).resolve().parent.parent / "book"
REPO_URL = "https://github.com/lstm-shapes-course/lstm-shapes"
COLAB_CELL = f'''# On Colab, install the course first (lstm_ref and the book's figures, lstm_figures); elsewhere this does nothing.
import importlib.util
import os
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("lstm_figures") is None:
    subprocess.run(["git", "clone", "-q", "--depth", "1", "{REPO_URL}"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "./lstm-shapes"], check=True)
    importlib.invalidate_caches()  # so that this running kernel finds the packages just installed
    os.chdir("lstm-shapes/book")'''


def chapters() -> list[Path]:
    """The MyST notebooks of the book: every ``book/*.md`` whose header names a kernel."""
    return sorted(p for p in BOOK.glob("*.md") if "kernelspec:" in p.read_text().split("\n---", 1)[0])


def notebook(md: Path) -> nbformat.NotebookNode:
    """The launchable notebook of one chapter: the Colab cell, then the chapter's cells."""
    nb = jupytext.read(md)
    nb.metadata.pop("jupytext", None)  # no pairing: the .md stays the one source
    cell = nbformat.v4.new_code_cell(COLAB_CELL, metadata={"tags": ["colab-setup"]})
    cell.pop("id", None)
    for c in nb.cells:
        c.pop("id", None)
        if (
            c.cell_type == "markdown"
        ):  # MyST target labels such as "(ch-shapes)=" mean nothing outside the book
            c.source = re.sub(r"^\([\w-]+\)=\n", "", c.source, flags=re.M).strip("\n")
    nb.cells.insert(0, cell)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def write_all() -> list[Path]:
    written = []
    for md in chapters():
        out = md.with_suffix(".ipynb")
        out.write_text(nbformat.writes(notebook(md)) + "\n")
        written.append(out)
    return written


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path.relative_to(BOOK.parent)}", file=sys.stdout)
