"""book/exec_inputs.py: the book never shows an output that its current code would not print.

The hashing is checked on small trees; the book's own list of inputs is checked against what its
chapters import; and a two-page Jupyter Book is built again and again to show the stale output that
the execution cache alone keeps, and that the extension removes.
"""

from __future__ import annotations

import ast
import importlib.machinery
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import book_module

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
ei = book_module("exec_inputs")  # book/exec_inputs.py (book/ is no package)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("A = 1\n")
    (tmp_path / "pkg" / "sub" / "data.json").write_text("{}")
    (tmp_path / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "w.py").write_text("")
    (tmp_path / "x.py").write_text("")
    (tmp_path / "y.txt").write_text("")
    return tmp_path


def test_inputs_are_folders_and_globs_without_caches(tmp_path):
    root = _tree(tmp_path)
    got = [p.relative_to(root).as_posix() for p in ei.input_files(root, ["pkg", "*.py"])]
    assert got == ["pkg/a.py", "pkg/sub/data.json", "w.py", "x.py"]


def test_an_input_that_matches_nothing_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"'renamed_pkg' matches nothing"):
        ei.input_files(_tree(tmp_path), ["pkg", "renamed_pkg"])


def test_edits_additions_and_removals_are_named(tmp_path):
    root = _tree(tmp_path)
    before = ei.digests(root, ["pkg", "*.py"])
    assert ei.changed(before, ei.digests(root, ["pkg", "*.py"])) == []
    (root / "pkg" / "a.py").write_text("A = 2\n")  # edited
    (root / "pkg" / "b.py").write_text("")  # added
    (root / "x.py").unlink()  # removed
    (root / "pkg" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\1")  # not an input
    assert ei.changed(before, ei.digests(root, ["pkg", "*.py"])) == ["pkg/a.py", "pkg/b.py", "x.py"]


def _sphinx_config() -> dict:
    return yaml.safe_load((BOOK / "_config.yml").read_text(encoding="utf-8"))["sphinx"]


def _chapter_imports() -> set[str]:
    """Top-level names of the modules that the book's code cells import."""
    names = set()
    for md in BOOK.glob("*.md"):
        for block in re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", md.read_text("utf-8"), re.S | re.M):
            block = re.sub(r"\A---\n.*?\n---\n", "", block, flags=re.S)  # the cell's own options
            code = "\n".join(line for line in block.splitlines() if not line.startswith(("%", "!", ":")))
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    names.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def test_the_books_inputs_cover_every_local_module_its_chapters_import():
    """A chapter that imports a module of this repository (not of the virtual environment) must have
    that module among the inputs, or an edit to it would leave the chapter's cached outputs in place."""
    cfg = _sphinx_config()
    assert "exec_inputs" in cfg["local_extensions"]
    root = (BOOK / cfg["config"]["exec_inputs_root"]).resolve()
    assert root == ROOT
    inputs = set(ei.input_files(root, cfg["config"]["exec_inputs"]))
    local = {}
    for name in sorted(_chapter_imports()):  # found in book/ first, as the chapters' kernels (run there) do
        spec = importlib.machinery.PathFinder.find_spec(name, [str(BOOK)]) or importlib.util.find_spec(name)
        origin = Path(spec.origin).resolve() if spec and spec.has_location else None
        if origin and ROOT in origin.parents and ".venv" not in origin.parts:
            local[name] = origin
    assert {"lstm_ref", "lstm_course", "lstm_figures", "instructor_plan"} <= set(local), sorted(local)
    missing = {name: str(origin) for name, origin in local.items() if origin not in inputs}
    assert not missing, f"imported by a chapter but not in exec_inputs: {missing}"


# --------------------------------------------------------------------------- a two-page book

PAGE = """---
jupytext: {text_representation: {extension: .md, format_name: myst}}
kernelspec: {name: python3, display_name: Python 3, language: python}
---
# Page

Words that the summary counts.

```{code-cell}
import helper
print(f"VALUE={helper.VALUE}")
```
"""

SUMMARY = """---
jupytext: {text_representation: {extension: .md, format_name: myst}}
kernelspec: {name: python3, display_name: Python 3, language: python}
mystnb:
  execution_mode: force
---
# Summary

```{code-cell}
from pathlib import Path
print(f"WORDS={len(Path('page.md').read_text().split())}")
```
"""


def _mini_book(path: Path, extension: bool) -> Path:
    path.mkdir()
    config = {
        "title": "mini",
        "only_build_toc_files": True,
        "exclude_patterns": ["_build", "*.py"],
        "execute": {"execute_notebooks": "cache", "timeout": 900, "run_in_temp": False},
        "sphinx": {"config": {}},
    }
    if extension:
        config["sphinx"]["local_extensions"] = {"exec_inputs": str(BOOK)}
        config["sphinx"]["config"] = {
            "exec_inputs": ["helper.py"],
            "exec_page_inputs": {"summary": ["page.md"]},
        }
    (path / "_config.yml").write_text(yaml.safe_dump(config))
    (path / "_toc.yml").write_text("format: jb-book\nroot: page\nchapters:\n  - file: summary\n")
    (path / "page.md").write_text(PAGE)
    (path / "summary.md").write_text(SUMMARY)
    (path / "helper.py").write_text("VALUE = 1\n")
    return path


def _build(book: Path) -> tuple[str, str, str]:
    """Build ``book``; return (the page's VALUE line, the summary's WORDS line, the build log)."""
    jb = Path(sys.executable).with_name("jupyter-book")
    proc = subprocess.run([str(jb), "build", str(book)], capture_output=True, text=True, timeout=1800)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "build succeeded" in log, log[-4000:]
    html = book / "_build" / "html"
    value = re.search(r"VALUE=\d+", (html / "page.html").read_text("utf-8"))
    words = re.search(r"WORDS=\d+", (html / "summary.html").read_text("utf-8"))
    return value[0], words[0], log


@pytest.mark.slow
def test_a_changed_import_or_page_is_executed_again(tmp_path):
    # without the extension: the cache keeps an output the code no longer prints (the problem)
    plain = _mini_book(tmp_path / "plain", extension=False)
    assert _build(plain)[0] == "VALUE=1"
    (plain / "helper.py").write_text("VALUE = 2\n")
    assert _build(plain)[0] == "VALUE=1", "the execution cache alone would have caught this"

    book = _mini_book(tmp_path / "book", extension=True)
    words = lambda text: f"WORDS={len(text.split())}"  # noqa: E731
    assert _build(book)[:2] == ("VALUE=1", words(PAGE))
    value, _, log = _build(book)  # nothing changed: nothing is read again, nothing cleared
    assert value == "VALUE=1" and "cache cleared" not in log
    assert re.search(r"0 added, 0 changed, 0 removed", log), log[-3000:]
    assert (book / "_build" / ".jupyter_cache" / ei.STAMP).is_file()

    (book / "helper.py").write_text("VALUE = 2\n")  # an import changed: the chapter runs again
    value, _, log = _build(book)
    assert value == "VALUE=2", log[-3000:]
    assert "inputs changed (1 changed: helper.py): execution cache cleared" in log

    edited = PAGE.replace("Words that", "More words that")
    (book / "page.md").write_text(edited)  # another page's prose: the summary reads it again
    value, counted, log = _build(book)
    assert (value, counted) == ("VALUE=2", words(edited)), log[-3000:]
    assert "cache cleared" not in log


def test_an_edition_whose_pages_are_older_than_the_cache_reads_them_again(tmp_path):
    """Two editions share one execution cache. After the English build executed new inputs (the cache's
    stamp is current), the Chinese build's own doctrees still hold the old stamp: it must read every page
    again (from the cache, not clearing it), and after it the stamps agree and nothing is stale."""
    from types import SimpleNamespace

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "m.py").write_text("A = 1\n")
    cache, en, zh = tmp_path / "cache", tmp_path / "en", tmp_path / "zh"
    for folder in (en, zh):
        folder.mkdir()

    def app(doctrees):
        config = {
            "nb_execution_cache_path": str(cache),
            "exec_inputs_root": str(tmp_path),
            "exec_inputs": ["src"],
        }
        return SimpleNamespace(
            config=_Config(config),
            srcdir=str(tmp_path),
            outdir=str(tmp_path / "out"),
            doctreedir=str(doctrees),
        )

    for doctrees in (en, zh):  # both built from A = 1
        a = app(doctrees)
        ei.check(a)
        ei.record(a, None)
    (tmp_path / "src" / "m.py").write_text("A = 2\n")
    english = app(en)
    ei.check(english)
    assert english._exec_inputs["stale"]
    assert not cache.exists()  # cleared: its outputs were made from A = 1
    cache.mkdir()
    (cache / "marker").write_text("")  # what the English build executes into the cache
    ei.record(english, None)
    chinese = app(zh)
    ei.check(chinese)
    assert chinese._exec_inputs["stale"], "the Chinese pages were made from A = 1: read them again"
    assert (cache / "marker").is_file(), "the cache (current) must not be cleared for it"
    ei.record(chinese, None)
    again = app(zh)
    ei.check(again)
    assert not again._exec_inputs["stale"]


class _Config(dict):
    """Sphinx's config as exec_inputs reads it: items and attributes."""

    __getattr__ = dict.__getitem__
