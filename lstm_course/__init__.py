"""The instructor's tools (``lstm-course``): release, check and grade the course's nbgrader exercises.

A top-level package beside :mod:`lstm_ref`, shipped in the same wheel: learners import ``lstm_ref``
and never this. It needs the ``course`` extra (nbgrader, Dask) and a course root given with ``--root``
or found from the current folder (:func:`~lstm_course.course.find_root`), never a checkout around the
installed package. Each command works in a temporary copy of the course, so the course stays clean:

- ``lstm-course release``: regenerate ``exercises/<a>/`` from ``solutions/<a>/`` for every
  assignment (``nbgrader generate_assignment --force``), the English notebook and its Chinese twin
  ``<a>.zh_CN.ipynb`` (:mod:`~lstm_course.translations`), and the listing in ``book/exercises.md``.
- ``lstm-course check``: for every assignment, autograde the filled-in solution (must score
  full marks) and the blank release (must score 0); prints a table with timings.
- ``lstm-course grade SUBMISSIONS``: autograde ``SUBMISSIONS/<student>/<assignment>/<nb>.ipynb``
  in parallel on Dask (local workers or ``--scheduler``), with every kernel in a bubblewrap sandbox
  (:mod:`lstm_course.sandbox.bwrap`), into a SQLite or PostgreSQL gradebook; every submission ends
  graded or NOT GRADED with its reason, runs resume where they stopped, students get feedback
  without the hidden tests, and tampering is undone or flagged for the instructor.
- ``lstm-course validate NOTEBOOK``: for students, the grader's run of one notebook with the visible
  tests only, its score and every note.
- ``lstm-course report``: the class report, pass rates and the misconceptions behind the failures.

Modules, stage by stage (ARCHITECTURE.md draws the flow): :mod:`~lstm_course.course` (the course on
disk), :mod:`~lstm_course.nbgrader_adapter` (the one way nbgrader runs), :mod:`~lstm_course.gradebook`
(every gradebook read and write), :mod:`~lstm_course.translations` (the twins' catalogues and sources),
:mod:`~lstm_course.releases` (release, book listing, check), the
packages :mod:`lstm_course.grading` (coordinator, worker, submissions, cells, screen, validate),
:mod:`lstm_course.sandbox` (bwrap, kernel, guard) and :mod:`lstm_course.results` (feedback,
misconceptions, report), and :mod:`~lstm_course.cli`. ``import lstm_ref`` never imports this package.
"""

from lstm_course.course import *  # noqa: F403
from lstm_course.course import __all__ as _common_all

# grade and release load on first use: the sandbox supervisor (``python -m lstm_course.sandbox.bwrap``)
# must not find its own module imported by this package first.
_LAZY = {
    "GradeResult": "grading.coordinator",
    "Outcome": "grading.coordinator",
    "grade": "grading.coordinator",
    "Report": "results.report",
    "write_report": "results.report",
    "CheckRow": "releases",
    "book_section": "releases",
    "check": "releases",
    "check_assignment": "releases",
    "release": "releases",
    "update_book_page": "releases",
    "generate": "nbgrader_adapter",
    "autograde": "nbgrader_adapter",
    "db_url_of": "nbgrader_adapter",
    "Score": "gradebook",
    "read_scores": "gradebook",
}
__all__ = [*_common_all, *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"lstm_course.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'lstm_course' has no attribute {name!r}")
