"""The central gradebook: nbgrader's own schema, written by the coordinator, one transaction a result.

Workers grade into private SQLite gradebooks (:mod:`lstm_course.tasks`); only the coordinator
writes here, through nbgrader's :class:`nbgrader.api.Gradebook` and its ORM classes, so formgrader,
``nbgrader export`` and every other nbgrader tool read the result as their own. The URL is any
SQLAlchemy URL nbgrader accepts: ``sqlite:///OUT/gradebook.db`` on one machine,
``postgresql://user@host:5432/db`` when many graders share a gradebook (nbgrader's FAQ: SQLite is not
safe for concurrent writers).

:func:`store` replaces a (student, assignment) submission in a single transaction: the old one (if
any) is deleted and the new one, with every grade and comment, is added before one ``COMMIT``. A crash
or Ctrl-C before the commit leaves the old state, after it the new one; never half, never two.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

__all__ = [
    "normalize_url",
    "open_gradebook",
    "prepare_assignments",
    "store",
    "remove",
    "export_csv",
    "graded_students",
]


def normalize_url(db_url: str) -> str:
    """Name the PostgreSQL driver we install (psycopg 3) in a bare ``postgresql://`` URL.

    SQLAlchemy picks a default driver by its own version (psycopg2 before 2.1); saying which keeps one
    URL working everywhere ``lstm_ref[course]`` is installed.

    >>> normalize_url("postgresql://grader@db:5432/gradebook")
    'postgresql+psycopg://grader@db:5432/gradebook'
    >>> normalize_url("sqlite:///grades/gradebook.db")
    'sqlite:///grades/gradebook.db'
    """
    if db_url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db_url.split("://", 1)[1]
    return db_url


def interpreter_first_on_path() -> None:
    """Put this interpreter's folder first on PATH: nbgrader stamps a new database with the ``alembic``
    it finds there, and starts kernels named ``python3`` from there."""
    bindir = str(Path(sys.executable).parent)
    if os.environ.get("PATH", "").split(os.pathsep)[0] != bindir:
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def open_gradebook(db_url: str):
    """nbgrader's ``Gradebook`` on ``db_url`` (created with nbgrader's schema when new). Use as ``with``."""
    from nbgrader.api import Gradebook

    from lstm_course.common import COURSE_ID

    interpreter_first_on_path()
    return Gradebook(db_url, course_id=COURSE_ID)


def prepare_assignments(course: Path, assignments: list[str], db_url: str) -> None:
    """Record the assignments (notebooks, cells, points) in the gradebook: nbgrader's ``generate_assignment``.

    ``course`` is a scratch course folder (``nbgrader_config.py`` and ``solutions/``).
    """
    from lstm_course.tasks import NBGRADER, _api

    interpreter_first_on_path()
    api = _api(course, db_url)
    for a in assignments:
        with NBGRADER:
            res = api.generate_assignment(a, force=True, create=True)
        if not res["success"]:
            raise RuntimeError(f"generate_assignment {a} into {db_url} failed:\n{res['log'][-3000:]}")


def _delete(session, assignment: str, student: str) -> bool:
    """Delete a submission with its notebooks, grades and comments (no commit). True if one existed."""
    from nbgrader.api import Assignment, SubmittedAssignment

    sub = (
        session.query(SubmittedAssignment)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .filter(Assignment.name == assignment, SubmittedAssignment.student_id == student)
        .one_or_none()
    )
    if sub is None:
        return False
    for nb in list(sub.notebooks):
        for row in [*nb.grades, *nb.comments]:
            session.delete(row)
        session.delete(nb)
    session.delete(sub)
    session.flush()
    return True


def store(gb, student: str, assignment: str, rows: dict) -> None:
    """Replace ``student``'s submission of ``assignment`` with ``rows``, in one transaction.

    ``gb`` is an open ``Gradebook``; ``rows`` is :func:`lstm_course.tasks._gradebook_rows`'s
    ``{"timestamp", "notebooks": {name: {"flagged", "late_submission_penalty", "grades": {cell: {...}},
    "comments": {cell: {...}}}}}``. Cells are matched by name against the assignment's cells in this
    gradebook; a cell the worker did not report keeps nbgrader's defaults (needs manual grading).
    """
    from nbgrader.api import Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook

    s = gb.db
    try:
        asg = gb.find_assignment(assignment)
        if s.get(Student, student) is None:
            s.add(Student(id=student))
        _delete(s, assignment, student)
        stamp = datetime.fromisoformat(rows["timestamp"]) if rows.get("timestamp") else None
        with s.no_autoflush:  # build the whole submission, then write it at the commit
            sub = SubmittedAssignment(assignment=asg, student_id=student, timestamp=stamp)
            new = [sub]
            for nb in asg.notebooks:
                got = rows["notebooks"].get(nb.name, {})
                snb = SubmittedNotebook(
                    notebook=nb,
                    assignment=sub,
                    flagged=bool(got.get("flagged", False)),
                    late_submission_penalty=got.get("late_submission_penalty"),
                )
                new.append(snb)
                grades, comments = got.get("grades", {}), got.get("comments", {})
                for cell in [*nb.grade_cells, *nb.task_cells]:
                    g = grades.get(cell.name, {})
                    new.append(
                        Grade(
                            cell_id=cell.id,
                            notebook=snb,
                            auto_score=g.get("auto_score"),
                            manual_score=g.get("manual_score"),
                            extra_credit=g.get("extra_credit"),
                            needs_manual_grade=g.get("needs_manual_grade", True),
                        )
                    )
                for cell in [*nb.solution_cells, *nb.task_cells]:
                    c = comments.get(cell.name, {})
                    new.append(
                        Comment(
                            cell_id=cell.id,
                            notebook=snb,
                            auto_comment=c.get("auto_comment"),
                            manual_comment=c.get("manual_comment"),
                        )
                    )
            s.add_all(new)  # SQLAlchemy 2 does not cascade along back-references: add every row
        s.commit()
    except BaseException:
        s.rollback()
        raise


def remove(gb, student: str, assignment: str) -> None:
    """Delete ``student``'s submission of ``assignment`` if there is one, in one transaction."""
    s = gb.db
    try:
        if _delete(s, assignment, student):
            s.commit()
        else:
            s.rollback()
    except BaseException:
        s.rollback()
        raise


def export_csv(gb, path: Path) -> None:
    """nbgrader's own CSV export (what ``nbgrader export`` writes), in this process."""
    from nbgrader.plugins import CsvExportPlugin

    CsvExportPlugin(to=str(path)).export(gb)


def graded_students(gb, assignment: str) -> dict[str, tuple[float, float]]:
    """``{student: (score, max_score)}`` of every submission of ``assignment`` in the gradebook."""
    return {
        sub.student.id: (float(sub.score), float(sub.max_score))
        for sub in gb.assignment_submissions(assignment)
    }
