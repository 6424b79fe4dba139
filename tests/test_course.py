"""The ``lstm-course`` tool: release is deterministic, grade copes with broken work, check passes."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import lstm_course as course
from lstm_course import cli

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
        [sys.executable, "-m", "lstm_course", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for cmd in ("release", "check", "grade"):
        assert cmd in out


@pytest.mark.slow
def test_release_is_deterministic(tmp_path):
    """A release from the same sources is byte-identical to the committed one (itself made by an earlier
    release); the book page it writes is the one test_book_page_lists_every_release_and_is_current checks."""
    root = _course_copy(tmp_path, ["shapes"])
    assert cli.main(["--root", str(root), "release", "shapes"]) == 0
    for name in ("shapes.ipynb", "shapes.zh_CN.ipynb"):
        got = (root / "exercises/shapes" / name).read_bytes()
        assert got == (ROOT / "exercises/shapes" / name).read_bytes(), "run `lstm-course release`"
    assert "exercises/shapes/shapes.ipynb" in (root / course.BOOK_PAGE).read_text()
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
    """check grades each assignment's solution and blank release, and the same for its Chinese twin."""
    rows = course.check(course.find_root(ROOT), ["gates"], progress=False)
    assert [(r.assignment, r.max_score, r.solution, r.blank, r.twins, r.ok) for r in rows] == [
        ("gates", 10.0, 10.0, 0.0, {"zh_CN": (10.0, 0.0)}, True)
    ]
    assert "gates" in capsys.readouterr().out


def test_lstm_ref_does_not_expose_the_course_tools():
    """The tools are the top-level ``lstm_course``; ``lstm_ref`` is the library a learner imports."""
    import importlib.util

    import lstm_ref

    assert "course" not in lstm_ref.__all__ and "misconceptions" not in lstm_ref.__all__
    with pytest.raises(AttributeError):
        lstm_ref.course  # noqa: B018
    assert importlib.util.find_spec("lstm_ref.course") is None
    assert importlib.util.find_spec("lstm_ref.misconceptions") is None


def test_find_root_names_what_is_missing(tmp_path, monkeypatch):
    """--root must be a course root; without it the current folder or a parent is, else a clear error."""
    with pytest.raises(SystemExit, match=r"not a course root: no nbgrader_config\.py and no solutions/"):
        course.find_root(tmp_path)
    (tmp_path / "nbgrader_config.py").write_text("")
    with pytest.raises(SystemExit, match=r"not a course root: no solutions/$"):
        course.find_root(tmp_path)
    (tmp_path / "solutions").mkdir()
    assert course.find_root(tmp_path) == tmp_path.resolve()
    (tmp_path / "book" / "deep").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "book" / "deep")
    assert course.find_root() == tmp_path.resolve()
    monkeypatch.chdir(tmp_path.parent)
    with pytest.raises(SystemExit, match=r"no course root in .* pass --root DIR"):
        cli.main(["release"])


def test_report_needs_no_course_root(tmp_path, monkeypatch, capsys):
    """``report`` reads only its --out folder: it runs anywhere (here: nothing graded, exit 2)."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["report", "--out", str(tmp_path)]) == 2
    assert "lstm-course report" in capsys.readouterr().err


def test_release_never_creates_the_book_page(tmp_path):
    """The listing is rewritten only where the course has ``book/exercises.md``."""
    (tmp_path / "solutions").mkdir()
    (tmp_path / "book").mkdir()
    page = course.update_book_page(tmp_path)
    assert not page.exists()
    page.write_text(f"# Exercises\n\nBy hand.\n\n{course.BEGIN_MARK}\nold\n{course.END_MARK}\n")
    course.update_book_page(tmp_path)
    assert page.read_text().startswith("# Exercises\n\nBy hand.\n") and "old" not in page.read_text()


def test_grade_refuses_without_bubblewrap(tmp_path, monkeypatch, capsys):
    from lstm_course.sandbox import bwrap as sandbox

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
