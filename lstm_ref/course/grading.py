"""Grade a class: every kernel sandboxed, every submission ends with a recorded outcome.

``grade(root, SUBMISSIONS, OUT)`` reads ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb`` and
writes to ``OUT``:

- ``outcomes.csv``: one row per (student, assignment): ``graded`` with the score, or ``not graded``
  with the reason (not a valid notebook, notebook missing, the kernel died, a limit killed it), and the
  notes (patched objects the guard restored, output truncated, cells timed out);
- ``grades.csv`` (nbgrader's export) and the gradebook (``--db``, SQLite ``OUT/gradebook.db`` by
  default), holding the graded submissions only;
- ``feedback/<student>/<assignment>/<notebook>.html``: what the student sees, test names, points and
  the shape-aware messages, never the hidden tests (:mod:`lstm_ref.course.feedback`);
- ``instructor/<student>/<assignment>/<notebook>.html``: nbgrader's full feedback, hidden tests
  included, and ``instructor/.../<notebook>.ipynb``, the autograded notebook.

Each (student, assignment) is graded in its own ``nbgrader autograde`` process, so nothing a
submission does can cost another student's grade. Kernels run in the bubblewrap sandbox
(:mod:`lstm_ref.course.sandbox`) unless ``sandbox=False``.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lstm_ref.course import sandbox as sbx
from lstm_ref.course.common import (
    EXERCISES,
    assignments,
    autograde,
    generate,
    make_course,
    nbgrader,
    notebooks,
    read_nb,
    read_scores,
)

__all__ = ["Outcome", "GradeResult", "grade", "NO_SANDBOX_WARNING"]

NO_SANDBOX_WARNING = """\
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! WARNING: --no-sandbox. Student code runs with YOUR rights: it can read the hidden tests and the   !!
!! gradebook, reach the network, read your environment and files, and kill the grader. Use it only   !!
!! for code you trust (your own solutions), never for a class's submissions.                         !!
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
"""


@dataclass
class Outcome:
    """How one (student, assignment) ended."""

    student: str
    assignment: str
    status: str  # "graded" or "not graded"
    score: float | None = None
    max_score: float | None = None
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def graded(self) -> bool:
        return self.status == "graded"


@dataclass
class GradeResult:
    outcomes: list[Outcome]
    csv: Path
    outcomes_csv: Path
    feedback: Path

    @property
    def rows(self) -> list[tuple[str, str, float, float]]:
        """``(student, assignment, score, max_score)`` of every graded submission."""
        return [(o.student, o.assignment, o.score, o.max_score) for o in self.outcomes if o.graded]

    @property
    def broken(self) -> list[tuple[str, str, str]]:
        """``(student, assignment, reason)`` of every submission NOT GRADED."""
        return [(o.student, o.assignment, o.reason) for o in self.outcomes if not o.graded]


def _grading_config(
    report_dir: Path, sandbox: bool, limits: sbx.Limits, cell_timeout: int | None, max_output: int
) -> str:
    """Lines appended to the temporary course's ``nbgrader_config.py`` for a grading run."""
    lines = [
        "",
        "# ---- added by lstm-course grade",
        "from nbgrader.preprocessors import AssignLatePenalties, CheckCellMetadata, IgnorePattern",
        "from nbgrader.preprocessors import LimitOutput, SaveAutoGrades",
        "from nbconvert.preprocessors import ClearMetadataPreprocessor",
        "from lstm_ref.course.execute import SandboxExecute",
        "c.Autograde.autograde_preprocessors = [SandboxExecute, IgnorePattern, ClearMetadataPreprocessor,",
        "    LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]",
        f"c.SandboxExecute.sandbox = {sandbox!r}",
        f"c.SandboxExecute.report_dir = {str(report_dir)!r}",
        f"c.SandboxExecute.max_output_bytes = {max_output!r}",
        "c.SandboxExecute.startup_timeout = 300  # a kernel start on a slow day; a hang still ends",
        f"c.SandboxKernelManager.memory = {limits.memory!r}",
        f"c.SandboxKernelManager.processes = {limits.processes!r}",
        f"c.SandboxKernelManager.cpu_seconds = {limits.cpu_seconds!r}",
        f"c.SandboxKernelManager.wall_seconds = {limits.wall_seconds!r}",
    ]
    if cell_timeout is not None:
        lines.append(f"c.Execute.timeout = {int(cell_timeout)!r}")
    return "\n".join(lines) + "\n"


def _check_submission(a_dir: Path, expected: list[str]) -> str:
    """Why a submission folder cannot be graded, or ``""``."""
    for nb_name in expected:
        if (a_dir / nb_name).is_symlink():
            return f"{nb_name} is a symbolic link, not a notebook"
        if not (a_dir / nb_name).is_file():
            found = sorted(p.name for p in a_dir.glob("*.ipynb"))
            return f"{nb_name} is missing" + (f" (found: {', '.join(found)})" if found else "")
        try:
            read_nb(a_dir / nb_name)
        except ValueError as exc:
            return str(exc)
    return ""


def _copy_submission(src: Path, dest: Path) -> list[str]:
    """Copy a submission folder without its symbolic links (nbgrader, run as root, would follow a link
    to any file on the grading machine into the kernel's scratch copy); return the links left out."""
    links = sorted(str(p.relative_to(src)) for p in src.rglob("*") if p.is_symlink())

    def ignore(folder, names):
        return {
            n for n in names if Path(folder, n).is_symlink() or n in (".ipynb_checkpoints", "__pycache__")
        }

    shutil.copytree(src, dest, ignore=ignore)
    return links


def _remove_submission(db_url: str, assignment: str, student: str) -> None:
    """Drop a submission that was not graded from the gradebook (its outcome says why)."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url) as gb:
        try:
            gb.remove_submission(assignment, student)
        except MissingEntry:
            pass


def _write_feedback(course: Path, out: Path, student: str, a: str, scores: dict[str, float], reason: str):
    """The student's page (``OUT/feedback``) and, when graded, the autograded notebook (``OUT/instructor``)."""
    from lstm_ref.course.feedback import render_student_feedback

    for nb_name in notebooks(course, a):
        graded = course / "autograded" / student / a / nb_name
        release = read_nb(course / EXERCISES / a / nb_name)
        nb = read_nb(graded) if graded.is_file() else release
        html = render_student_feedback(
            nb,
            release,
            student=student,
            assignment=a,
            notebook=nb_name[: -len(".ipynb")],
            scores=scores if graded.is_file() else {},
            outcome=f"NOT GRADED: {reason}" if reason else None,
        )
        dest = out / "feedback" / student / a / nb_name.replace(".ipynb", ".html")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(html, encoding="utf-8")
        if graded.is_file():
            inst = out / "instructor" / student / a / nb_name
            inst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(graded, inst)


def _write_outcomes(path: Path, outcomes: list[Outcome]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "assignment", "status", "score", "max_score", "reason", "notes"])
        for o in outcomes:
            score = "" if o.score is None else f"{o.score:g}"
            top = "" if o.max_score is None else f"{o.max_score:g}"
            w.writerow([o.student, o.assignment, o.status, score, top, o.reason, " | ".join(o.notes)])


def grade(
    root: Path,
    submissions: Path,
    out: Path,
    db_url: str | None = None,
    progress: bool = True,
    sandbox: bool = True,
    limits: sbx.Limits | None = None,
    cell_timeout: int | None = None,
    max_output: int = 1 << 20,
) -> GradeResult:
    """Autograde ``submissions/<student>/<assignment>/<nb>.ipynb`` into ``out`` (see the module docstring).

    ``sandbox=False`` runs student code unsandboxed, after a loud warning. With ``sandbox=True``
    and no bubblewrap installed, raise ``SystemExit`` with install instructions. ``limits`` caps each
    kernel (memory, processes, CPU time, wall clock); ``cell_timeout`` overrides the course's per-cell
    timeout (``Execute.timeout``, seconds); ``max_output`` caps the output a notebook keeps (bytes).
    """
    from tqdm.auto import tqdm

    limits = limits or sbx.Limits()
    if sandbox:
        try:
            sbx.find_bwrap()
        except sbx.SandboxUnavailable as exc:
            raise SystemExit(f"lstm-course grade: {exc}") from exc
    else:
        print(NO_SANDBOX_WARNING, file=sys.stderr, flush=True)
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise SystemExit(f"{submissions}: no such folder (expected <student>/<assignment>/<notebook>.ipynb)")
    out.mkdir(parents=True, exist_ok=True)
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    known = set(assignments(root))
    outcomes: list[Outcome] = []
    todo: list[tuple[str, str]] = []
    notes: dict[tuple[str, str], list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="lstm-course-grade-") as tmp:
        course = Path(tmp) / "course"
        reports = Path(tmp) / "reports"
        for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
            for a_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
                student, a = student_dir.name, a_dir.name
                if a not in known:
                    why = f"unknown assignment (known: {', '.join(sorted(known))})"
                    outcomes.append(Outcome(student, a, "not graded", reason=why))
                    continue
                why = _check_submission(a_dir, notebooks(root, a))
                if why:
                    outcomes.append(Outcome(student, a, "not graded", reason=why))
                    continue
                links = _copy_submission(a_dir, course / "submitted" / student / a)
                if links:
                    notes[student, a] = [f"symbolic links dropped: {', '.join(links[:5])}"]
                todo.append((student, a))
        used = sorted({a for _, a in todo} | {o.assignment for o in outcomes if o.assignment in known})
        make_course(root, course, used)
        with open(course / "nbgrader_config.py", "a", encoding="utf-8") as fh:
            fh.write(_grading_config(reports, sandbox, limits, cell_timeout, max_output))
        for a in used:
            generate(course, a, db_url=db_url)
        for student, a in tqdm(todo, desc="autograde", disable=not progress):
            backstop = limits.wall_seconds * len(notebooks(root, a)) + 300  # the sandbox kills first
            proc = autograde(course, a, student, db_url=db_url, check=False, timeout=backstop)
            found = [json.loads(p.read_text()) for p in sorted((reports / student / a).glob("*.json"))]
            run_notes = notes.get((student, a), []) + [n for r in found for n in r.get("notes", [])]
            failed = [r["reason"] for r in found if r.get("status") != "graded"]
            ok = proc.returncode == 0 and (course / "autograded" / student / a).is_dir()
            if ok and not failed and len(found) == len(notebooks(root, a)):
                outcomes.append(Outcome(student, a, "graded", notes=run_notes))
                continue
            if not failed:
                lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "rror" in ln]
                failed = ["grading failed: " + (lines[-1][-300:] if lines else f"exit {proc.returncode}")]
            _remove_submission(db_url, a, student)
            outcomes.append(Outcome(student, a, "not graded", reason="; ".join(failed), notes=run_notes))
        scores = {a: read_scores(db_url, a) for a in used}
        for o in outcomes:
            sc = scores.get(o.assignment, {}).get(o.student)
            if o.graded and sc is not None:
                o.score, o.max_score = sc.score, sc.max_score
            if o.assignment in known:
                cells = sc.cells if sc is not None else {}
                _write_feedback(course, out, o.student, o.assignment, cells, "" if o.graded else o.reason)
        for a in used:
            nbgrader(course, "generate_feedback", a, "--force", db_url=db_url, check=False)
        if (course / "feedback").is_dir():
            shutil.copytree(course / "feedback", out / "instructor", dirs_exist_ok=True)
        grades_csv = out / "grades.csv"
        nbgrader(course, "export", f"--to={grades_csv}", db_url=db_url)
    outcomes.sort(key=lambda o: (o.student, o.assignment))
    outcomes_csv = out / "outcomes.csv"
    _write_outcomes(outcomes_csv, outcomes)
    for o in outcomes:
        if o.graded:
            print(f"{o.student:<20} {o.assignment:<12} {o.score:>5g} / {o.max_score:g}")
        else:
            print(f"{o.student:<20} {o.assignment:<12} NOT GRADED: {o.reason}")
    print(
        f"outcomes: {outcomes_csv}\ngrades: {grades_csv}\nfeedback: {out / 'feedback'}\ngradebook: {db_url}"
    )
    return GradeResult(outcomes, grades_csv, outcomes_csv, out / "feedback")
