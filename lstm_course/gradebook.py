"""The gradebook: every read and write of nbgrader's database, and the row format workers send.

Workers grade into private SQLite gradebooks (:mod:`lstm_course.grading.worker`) and send back what
nbgrader stored there as a :class:`SubmissionRows` (:func:`read_rows`). Only the coordinator writes the
central gradebook, through nbgrader's :class:`nbgrader.api.Gradebook` and its ORM classes, so formgrader,
``nbgrader export`` and every other nbgrader tool read the result as their own. The URL is any
SQLAlchemy URL nbgrader accepts: ``sqlite:///OUT/gradebook.db`` on one machine,
``postgresql://user@host:5432/db`` when many graders share a gradebook (nbgrader's FAQ: SQLite is not
safe for concurrent writers).

:func:`store` replaces a (student, assignment) submission in a single transaction: the old one (if
any) is deleted and the new one, with every grade and comment, is added before one ``COMMIT``. A crash
or Ctrl-C before the commit leaves the old state, after it the new one; never half, never two.

Scores are read one way: :func:`scores` (one assignment), which :func:`read_scores` and
:func:`class_results` (every assignment and test cell, for the report) use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lstm_course.course import COURSE_ID
from lstm_course.nbgrader_adapter import NBGRADER, api, nbgrader_ready

__all__ = [
    "GradeRow",
    "CommentRow",
    "NotebookRows",
    "SubmissionRows",
    "Score",
    "TestCell",
    "normalize_url",
    "open_gradebook",
    "prepare_assignments",
    "read_rows",
    "source_cells",
    "store",
    "remove",
    "export_csv",
    "scores",
    "read_scores",
    "class_results",
]


@dataclass
class GradeRow:
    """One graded cell of a submitted notebook, as nbgrader stores it (``score``: what it counts)."""

    auto_score: float | None = None
    manual_score: float | None = None
    extra_credit: float | None = None
    needs_manual_grade: bool = True
    max_score: float = 0.0
    score: float = 0.0


@dataclass
class CommentRow:
    """nbgrader's comment on one answer or task cell."""

    auto_comment: str | None = None
    manual_comment: str | None = None


@dataclass
class NotebookRows:
    """One submitted notebook: its grades and comments by cell name (a grade_id)."""

    flagged: bool = False
    late_submission_penalty: float | None = None
    grades: dict[str, GradeRow] = field(default_factory=dict)
    comments: dict[str, CommentRow] = field(default_factory=dict)


@dataclass
class SubmissionRows:
    """What a gradebook holds for one submission: the row format :func:`read_rows` reads and
    :func:`store` writes. ``notebooks`` maps a notebook's name (no ``.ipynb``) to its rows; a cell not
    named there keeps nbgrader's defaults (needs manual grading). ``timestamp``: ISO 8601 or None."""

    student: str
    assignment: str
    notebooks: dict[str, NotebookRows] = field(default_factory=dict)
    timestamp: str | None = None
    score: float = 0.0
    max_score: float = 0.0


@dataclass
class Score:
    """One submission's total and per-cell scores: ``cells[(notebook, cell)] = points``."""

    score: float
    max_score: float
    cells: dict[tuple[str, str], float] = field(default_factory=dict)


@dataclass
class TestCell:
    """One test cell of an assignment and the points each student got in it (``points[student]``)."""

    __test__ = False  # not a pytest class

    assignment: str
    notebook: str
    cell: str
    max_points: float
    points: dict[str, float] = field(default_factory=dict)


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


def open_gradebook(db_url: str, read_only: bool = False):
    """nbgrader's ``Gradebook`` on ``db_url`` (created with nbgrader's schema when new). Use as ``with``.

    ``read_only``: the gradebook must exist, and nothing is added to it (not even the course row).
    """
    from nbgrader.api import Gradebook

    if read_only and db_url.startswith("sqlite:///") and not Path(db_url[len("sqlite:///") :]).exists():
        raise FileNotFoundError(f"no gradebook at {db_url}: run lstm-course grade first")
    nbgrader_ready()  # nbgrader stamps a new database with alembic's head revision
    # course_id "": nbgrader then adds no course row (the id only tags new rows)
    return Gradebook(db_url, course_id="" if read_only else COURSE_ID)


def prepare_assignments(course: Path, assignments: list[str], db_url: str) -> None:
    """Record the assignments (notebooks, cells, points) in the gradebook: nbgrader's ``generate_assignment``.

    ``course`` is a scratch course folder (``nbgrader_config.py`` and ``solutions/``).
    """
    nbg = api(course, db_url)
    for a in assignments:
        with NBGRADER:
            res = nbg.generate_assignment(a, force=True, create=True)
        if not res["success"]:
            raise RuntimeError(f"generate_assignment {a} into {db_url} failed:\n{res['log'][-3000:]}")


def _notebook_rows(nb) -> NotebookRows:
    """A ``SubmittedNotebook``'s rows."""
    return NotebookRows(
        flagged=bool(nb.flagged),
        late_submission_penalty=nb.late_submission_penalty,
        grades={
            g.name: GradeRow(
                g.auto_score,
                g.manual_score,
                g.extra_credit,
                bool(g.needs_manual_grade),
                float(g.max_score),
                float(g.score),
            )
            for g in nb.grades
        },
        comments={c.name: CommentRow(c.auto_comment, c.manual_comment) for c in nb.comments},
    )


def read_rows(db_url: str, assignment: str, student: str) -> SubmissionRows:
    """Every grade and comment stored for one submission (a worker's private gradebook)."""
    with open_gradebook(db_url, read_only=True) as gb:
        sub = gb.find_submission(assignment, student)
        return SubmissionRows(
            student,
            assignment,
            {nb.name: _notebook_rows(nb) for nb in sub.notebooks},
            timestamp=sub.timestamp.isoformat() if sub.timestamp else None,
            score=float(sub.score),
            max_score=float(sub.max_score),
        )


def source_cells(db_url: str, assignment: str, notebook: str) -> dict[str, str]:
    """The course's own source of every cell of ``notebook`` (no ``.ipynb``) the gradebook records:
    ``{grade_id: source}`` (empty when it records no such notebook)."""
    from nbgrader.api import MissingEntry

    with open_gradebook(db_url, read_only=True) as gb:
        try:
            nb = gb.find_notebook(notebook, assignment)
        except MissingEntry:
            return {}
        return {c.name: c.source for c in nb.source_cells}


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


def _submission(asg, rows: SubmissionRows) -> list:
    """The ORM objects of one new submission: every grade and comment cell of ``asg`` gets a row."""
    from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook

    stamp = datetime.fromisoformat(rows.timestamp) if rows.timestamp else None
    sub = SubmittedAssignment(assignment=asg, student_id=rows.student, timestamp=stamp)
    new = [sub]
    for nb in asg.notebooks:
        got = rows.notebooks.get(nb.name, NotebookRows())
        snb = SubmittedNotebook(
            notebook=nb,
            assignment=sub,
            flagged=got.flagged,
            late_submission_penalty=got.late_submission_penalty,
        )
        new.append(snb)
        for cell in [*nb.grade_cells, *nb.task_cells]:
            g = got.grades.get(cell.name, GradeRow())
            keep = ("auto_score", "manual_score", "extra_credit", "needs_manual_grade")
            new.append(Grade(cell_id=cell.id, notebook=snb, **{k: getattr(g, k) for k in keep}))
        for cell in [*nb.solution_cells, *nb.task_cells]:
            c = got.comments.get(cell.name, CommentRow())
            new.append(Comment(cell_id=cell.id, notebook=snb, **vars(c)))
    return new


def store(gb, rows: SubmissionRows) -> None:
    """Replace ``rows.student``'s submission of ``rows.assignment`` with ``rows``, in one transaction.

    ``gb`` is an open ``Gradebook``. Cells are matched by name against the assignment's cells in this
    gradebook; a cell the worker did not report keeps nbgrader's defaults (needs manual grading).
    """
    from nbgrader.api import Student

    s = gb.db
    try:
        asg = gb.find_assignment(rows.assignment)
        if s.get(Student, rows.student) is None:
            s.add(Student(id=rows.student))
        _delete(s, rows.assignment, rows.student)
        with s.no_autoflush:  # build the whole submission, then write it at the commit
            # SQLAlchemy 2 does not cascade along back-references: add every row
            s.add_all(_submission(asg, rows))
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


def scores(gb, assignment: str) -> dict[str, Score]:
    """``{student: Score}`` of every submission of ``assignment`` in the open gradebook ``gb``."""
    return {
        sub.student.id: Score(
            float(sub.score),
            float(sub.max_score),
            {(nb.name, g.name): float(g.score) for nb in sub.notebooks for g in nb.grades},
        )
        for sub in gb.assignment_submissions(assignment)
    }


def read_scores(db_url: str, assignment: str) -> dict[str, Score]:
    """:func:`scores` of an existing gradebook, read-only."""
    with open_gradebook(db_url, read_only=True) as gb:
        return scores(gb, assignment)


def class_results(db_url: str) -> tuple[dict[str, dict[str, Score]], list[TestCell]]:
    """Every assignment's ``{student: Score}``, and every test cell (a graded cell that is no answer)
    with each student's points in it; a test cell with no submission yet is listed too."""
    found: dict[str, dict[str, Score]] = {}
    cells: list[TestCell] = []
    with open_gradebook(db_url, read_only=True) as gb:
        for a in gb.assignments:
            found[a.name] = got = scores(gb, a.name)
            for nb in a.notebooks:
                answers = {c.name for c in nb.solution_cells}
                for gc in (gc for gc in nb.grade_cells if gc.name not in answers):
                    key = (nb.name, gc.name)
                    points = {s: sc.cells[key] for s, sc in got.items() if key in sc.cells}
                    cells.append(TestCell(a.name, nb.name, gc.name, float(gc.max_score), points))
    return found, cells
