"""The ``lstm-course`` tool: release is deterministic, grade copes with broken work, check passes."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lstm_ref import course
from lstm_ref.course import cli

ROOT = Path(__file__).resolve().parents[1]


def _course_copy(tmp: Path, names: list[str]) -> Path:
    """A minimal course root: nbgrader_config.py, solutions/<names>, the book page."""
    root = tmp / "repo"
    course.make_course(ROOT, root, names)
    (root / "book").mkdir()
    shutil.copy2(ROOT / course.BOOK_PAGE, root / course.BOOK_PAGE)
    return root


def test_strip_solution_markers_keeps_the_answer():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    assert course.strip_solution_markers(src) == "def f(x):\n    return 2 * x\n"


def test_fill_release_answers_every_solution_cell():
    src = json.loads((ROOT / "solutions/shapes/shapes.ipynb").read_text())
    rel = json.loads((ROOT / "exercises/shapes/shapes.ipynb").read_text())
    sub = course.fill_release(rel, src, {"repairs": "pass"})
    code = "".join("".join(c["source"]) for c in sub["cells"] if c["cell_type"] == "code")
    assert "NotImplementedError" not in code and "BEGIN SOLUTION" not in code
    assert [
        c["source"] for c in sub["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "repairs"
    ] == ["pass"]
    with pytest.raises(KeyError, match="nope"):
        course.fill_release(rel, src, {"nope": "pass"})


def test_book_page_lists_every_release_and_is_current():
    """book/exercises.md holds exactly what `lstm-course release` writes from exercises/."""
    page = (ROOT / course.BOOK_PAGE).read_text(encoding="utf-8")
    assert course.BEGIN_MARK in page and course.END_MARK in page, "run `lstm-course release`"
    generated = page.split(course.BEGIN_MARK)[1].split(course.END_MARK)[0].strip()
    assert generated == course.book_section(ROOT).strip(), (
        "book/exercises.md is stale: run `lstm-course release`"
    )
    for a in course.assignments(ROOT):
        if (ROOT / "exercises" / a).is_dir():
            assert f"<../exercises/{a}/{a}.ipynb>" in page
            assert f"blob/main/exercises/{a}/{a}.ipynb" in page
    assert "BEGIN SOLUTION" not in page and "HIDDEN TESTS" not in page


def test_cli_help_runs_without_nbgrader_work():
    out = subprocess.run(
        [sys.executable, "-m", "lstm_ref.course", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for cmd in ("release", "check", "grade"):
        assert cmd in out


@pytest.mark.slow
def test_release_is_deterministic(tmp_path):
    """Two releases from the same sources are byte-identical, and equal the committed exercises/."""
    root = _course_copy(tmp_path, ["shapes"])
    assert cli.main(["--root", str(root), "release", "shapes"]) == 0
    first = (root / "exercises/shapes/shapes.ipynb").read_bytes()
    page = (root / course.BOOK_PAGE).read_text()
    assert cli.main(["--root", str(root), "release", "shapes"]) == 0
    assert (root / "exercises/shapes/shapes.ipynb").read_bytes() == first
    assert (root / course.BOOK_PAGE).read_text() == page
    assert first == (ROOT / "exercises/shapes/shapes.ipynb").read_bytes(), "run `lstm-course release`"
    assert not (root / "gradebook.db").exists(), "release must not leave a gradebook in the course"


@pytest.mark.slow
def test_grade_a_folder_with_a_broken_submission(tmp_path, capsys):
    """One good and one invalid-JSON submission: CSV and feedback for the good one, the broken one reported."""
    root = _course_copy(tmp_path, ["gates"])
    subs, out = tmp_path / "submissions", tmp_path / "out"
    src = course.read_nb(ROOT / "solutions/gates/gates.ipynb")
    rel = course.read_nb(ROOT / "exercises/gates/gates.ipynb")
    course.write_nb(course.fill_release(rel, src), subs / "alice" / "gates" / "gates.ipynb")
    (subs / "bob" / "gates").mkdir(parents=True)
    (subs / "bob" / "gates" / "gates.ipynb").write_text('{"cells": [ this is not json')
    code = cli.main(["--root", str(root), "grade", str(subs), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1, "a broken submission makes the exit code 1"
    assert "bob" in printed and "NOT GRADED" in printed and "not a valid notebook" in printed
    with open(out / "grades.csv", newline="") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(rows["alice"]["score"]) == float(rows["alice"]["max_score"]) == 10.0
    assert "bob" not in rows
    html = (out / "feedback" / "alice" / "gates" / "gates.html").read_text()
    assert "test_torch_output" in html
    assert (out / "gradebook.db").is_file()


@pytest.mark.slow
def test_check_round_trip(tmp_path, capsys):
    rows = course.check(course.find_root(ROOT), ["gates"], progress=False)
    assert [(r.assignment, r.max_score, r.solution, r.blank, r.ok) for r in rows] == [
        ("gates", 10.0, 10.0, 0.0, True)
    ]
    assert "gates" in capsys.readouterr().out


def test_library_users_never_import_the_grading_code():
    code = (
        "import sys, lstm_ref, lstm_ref.numpy, lstm_ref.data, lstm_ref.shapes, lstm_ref.feedback\n"
        "print(sorted(m for m in sys.modules if m.startswith('lstm_ref.course') or m.startswith('nbgrader')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_grade_refuses_without_bubblewrap(tmp_path, monkeypatch, capsys):
    from lstm_ref.course import sandbox

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sandbox, "SEARCH_PATH", str(tmp_path))
    (tmp_path / "subs").mkdir()
    with pytest.raises(SystemExit, match="apt-get install bubblewrap"):
        cli.main(["--root", str(ROOT), "grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out")])
    assert not (tmp_path / "out").exists(), "nothing is graded without the sandbox"


@pytest.mark.slow
def test_no_sandbox_warns_loudly(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    res = course.grade(ROOT, tmp_path / "subs", tmp_path / "out", progress=False, sandbox=False)
    err = capsys.readouterr().err
    assert "WARNING: --no-sandbox" in err and "YOUR rights" in err
    assert res.outcomes == []


@pytest.mark.slow
def test_every_solution_scores_full_marks_in_the_sandbox(tmp_path):
    """All four assignments (torch, TensorFlow/Keras training included) grade 10/10 under the default caps."""
    subs = tmp_path / "subs"
    for a in course.assignments(ROOT):
        for nb_name in course.notebooks(ROOT, a):
            src = course.read_nb(ROOT / course.SOLUTIONS / a / nb_name)
            rel = course.read_nb(ROOT / course.EXERCISES / a / nb_name)
            course.write_nb(course.fill_release(rel, src), subs / "solution" / a / nb_name)
    res = course.grade(ROOT, subs, tmp_path / "out", progress=False)
    assert [(o.assignment, o.status, o.score, o.max_score) for o in res.outcomes] == [
        (a, "graded", 10.0, 10.0) for a in sorted(course.assignments(ROOT))
    ], [(o.assignment, o.reason, o.notes) for o in res.outcomes]
    assert all(o.notes == [] for o in res.outcomes), [o.notes for o in res.outcomes]
