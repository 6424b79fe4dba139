"""The launchable chapter notebooks (book/<chapter>.ipynb) match their MyST sources and open anywhere."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("chapter_notebooks", ROOT / "scripts" / "chapter_notebooks.py")
chapter_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(chapter_notebooks)

CHAPTERS = chapter_notebooks.chapters()


def _cells(nb) -> list[tuple[str, str, list]]:
    return [
        (c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in nb["cells"]
    ]


def test_every_chapter_has_a_notebook():
    names = {p.stem for p in CHAPTERS}
    assert {"intro", "01_recurrence", "07_stateful", "11_appendix"} <= names
    extra = {p.stem for p in (ROOT / "book").glob("*.ipynb")} - names
    assert not extra, f"notebooks without a chapter: {sorted(extra)}"


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_matches_its_chapter(md):
    committed = md.with_suffix(".ipynb")
    assert committed.exists(), f"{committed.name} is missing: run python scripts/chapter_notebooks.py"
    fresh = json.loads(json.dumps(chapter_notebooks.notebook(md)))
    assert _cells(json.loads(committed.read_text())) == _cells(fresh), (
        f"{committed.name} has drifted from {md.name}: run python scripts/chapter_notebooks.py"
    )
    code = [s for t, s, _ in _cells(fresh) if t == "code"]
    assert len(code) > 1 and code[0] == chapter_notebooks.COLAB_CELL


def test_colab_cell_does_nothing_outside_colab(tmp_path):
    before = sorted(os.listdir(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", chapter_notebooks.COLAB_CELL + "\nprint(os.getcwd())"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path) and sorted(os.listdir(tmp_path)) == before
