"""``lstm-course validate``: a student runs their notebook the way the grader will, visible tests only.

Run as the student would, as a command (a subprocess: grading sets the process's thread variables),
sandboxed with bubblewrap as `make test` installs it.
"""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_course as course
from lstm_course.grading.validate import find_release

ROOT = Path(__file__).resolve().parents[1]
A = "gates"
SRC = course.read_nb(ROOT / course.SOLUTIONS / A / f"{A}.ipynb")
REL = course.read_nb(ROOT / course.EXERCISES / A / f"{A}.ipynb")
WRONG = runpy.run_path(str(ROOT / "tests" / "exercise_cases" / f"{A}.py"))["WRONG"]["cs231n_gate_order"]


def _validate(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lstm_course", "--root", str(ROOT), "validate", str(path), *args],
        capture_output=True,
        text=True,
        timeout=900,  # a hang, not a slow day (a notebook grades in ~10 s)
    )


def test_find_release_from_the_notebook_or_its_name(tmp_path):
    root, a, release = find_release(ROOT / course.EXERCISES / A / f"{A}.ipynb")
    assert (root, a, release) == (ROOT, A, ROOT / course.EXERCISES / A / f"{A}.ipynb")
    assert find_release(tmp_path / f"{A}.ipynb", ROOT)[1] == A  # a copy elsewhere, named by --root
    with pytest.raises(SystemExit, match=r"no exercises/<assignment>/nope.ipynb"):
        find_release(tmp_path / "nope.ipynb", ROOT)


@pytest.mark.slow
def test_a_correct_notebook_passes_the_visible_tests(tmp_path):
    path = tmp_path / f"{A}.ipynb"
    course.write_nb(course.fill_release(REL, SRC), path)
    proc = _validate(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    visible = sum(c["metadata"]["nbgrader"]["points"] for c in REL["cells"] if course.is_test_cell(c))
    assert f"visible tests: {visible:g} / {visible:g} points" in proc.stdout
    assert "FAIL" not in proc.stdout and "FLAGGED" not in proc.stdout and "note:" not in proc.stdout


@pytest.mark.slow
def test_a_wrong_notebook_hears_what_the_grader_would_say(tmp_path):
    """A wrong answer, a deleted test cell, a debug print to stderr and a settrace: each is reported."""
    nb = course.fill_release(
        REL,
        SRC,
        {
            "lstm_step": WRONG["lstm_step"].replace("def lstm_step(", "def _step(")
            + "\nimport sys\n\ndef lstm_step(*a, **k):\n    print('debug', file=sys.stderr)\n    return _step(*a, **k)\n",
            "lstm_backward": course.strip_solution_markers(
                "".join(
                    next(
                        c["source"]
                        for c in SRC["cells"]
                        if course.nbmeta(c).get("grade_id") == "lstm_backward"
                    )
                )
            )
            + "\nimport sys\nsys.settrace(None)\n",
        },
    )
    nb["cells"] = [c for c in nb["cells"] if course.nbmeta(c).get("grade_id") != "test_forward_shapes"]
    path = tmp_path / f"{A}.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    proc = _validate(path)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr[-3000:]
    assert "FAIL  test_step_gate_order" in out and "at batch=0, hidden_size=0" in out  # shape-aware
    assert "pass  test_forward_shapes" in out, "the deleted test cell is put back and run"
    assert "note: test cell `test_forward_shapes` was deleted" in out
    assert "wrote to stderr (shown, not graded)" in out
    assert "would be FLAGGED" in out and "settrace" in out
