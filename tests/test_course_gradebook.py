"""The central gradebook (lstm_course.gradebook): one transaction per result, on SQLite and PostgreSQL.

Read back with plain SQL (sqlite3 / psycopg) and with nbgrader's own Gradebook API, not with our code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import sql_rows

from lstm_course import gradebook
from lstm_course.course import make_course, nbmeta, read_nb
from lstm_course.gradebook import GradeRow, NotebookRows, SubmissionRows

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
A = "gates"


def _points() -> dict[str, float]:
    nb = read_nb(ROOT / "solutions" / A / f"{A}.ipynb")
    return {nbmeta(c)["grade_id"]: float(nbmeta(c)["points"]) for c in nb.cells if nbmeta(c).get("grade")}


def rows(student: str, fraction: float) -> SubmissionRows:
    """A worker's result rows giving every test cell ``fraction`` of its points."""
    grades = {
        name: GradeRow(auto_score=p * fraction, needs_manual_grade=False) for name, p in _points().items()
    }
    return SubmissionRows(student, A, {A: NotebookRows(grades=grades)}, timestamp="2026-11-29T08:00:00")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path_factory):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('gb') / 'gradebook.db'}"
    else:
        url = request.getfixturevalue("postgres_db")
    course = make_course(ROOT, tmp_path_factory.mktemp("course") / "course", [A])
    gradebook.prepare_assignments(course, [A], url)
    return url


def totals(url: str) -> dict[str, float]:
    q = f"""SELECT s.student_id, SUM(g.auto_score), COUNT(DISTINCT s.id) FROM submitted_assignment s
           JOIN assignment a ON a.id = s.assignment_id
           JOIN submitted_notebook n ON n.assignment_id = s.id JOIN grade g ON g.notebook_id = n.id
           WHERE a.name = '{A}' GROUP BY s.student_id"""
    got = sql_rows(url, q)
    assert all(r[2] == 1 for r in got), f"a student has two submissions: {got}"
    return {r[0]: float(r[1]) for r in got}


def test_store_replaces_never_adds(db):
    with gradebook.open_gradebook(db) as gb:
        gradebook.store(gb, rows("ana", 1.0))
        gradebook.store(gb, rows("ana", 0.5))  # graded again: replaced
        gradebook.store(gb, rows("bo", 0.0))
    assert totals(db) == {"ana": 5.0, "bo": 0.0}
    with gradebook.open_gradebook(db) as gb:  # nbgrader reads it as its own
        assert {s.student.id: s.score for s in gb.assignment_submissions(A)} == {"ana": 5.0, "bo": 0.0}
        got = {s: (sc.score, sc.max_score) for s, sc in gradebook.scores(gb, A).items()}
        assert got == {"ana": (5.0, 10.0), "bo": (0.0, 10.0)}
        gradebook.remove(gb, "bo", A)
        gradebook.remove(gb, "nobody", A)  # nothing to remove: no error
    assert totals(db) == {"ana": 5.0}


def test_a_failed_store_leaves_the_previous_result(db):
    with gradebook.open_gradebook(db) as gb:
        gradebook.store(gb, rows("ana", 1.0))
        bad = rows("ana", 0.5)
        bad.notebooks[A].grades["test_step_zero_weights"].auto_score = "not a number"
        with pytest.raises(Exception):  # noqa: B017 - the driver's own error type differs per database
            gradebook.store(gb, bad)
        gradebook.store(gb, rows("bo", 1.0))  # the session is usable after the rollback
    assert totals(db) == {"ana": 10.0, "bo": 10.0}


def test_read_rows_reads_back_every_grade(db):
    with gradebook.open_gradebook(db) as gb:
        gradebook.store(gb, rows("ana", 0.5))
    got = gradebook.read_rows(db, A, "ana")
    assert (got.student, got.assignment, got.score, got.max_score) == ("ana", A, 5.0, 10.0)
    assert got.timestamp.startswith("2026-11-29T08:00:00")
    tests = {name: g.auto_score for name, g in got.notebooks[A].grades.items() if name in _points()}
    assert tests == {name: p * 0.5 for name, p in _points().items()}
