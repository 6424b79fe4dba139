"""One grading task: one (student, assignment), graded on a Dask worker in a scratch course of its own.

The coordinator (:mod:`lstm_course.grading.coordinator`) sends every worker one :class:`CourseBundle` (the
course's ``nbgrader_config.py`` and source notebooks, and the grading settings) and then one
:class:`Job` per submission (the submission's files as bytes: a worker needs no shared disk).
:func:`grade_job` runs on the worker:

1. once per worker process and assignment (and language: a Chinese twin has a template of its own, built
   from the twin's source), it builds a *template* course: the bundle's files and
   ``nbgrader generate_assignment`` into a private SQLite gradebook;
2. per job, it copies the template to a fresh scratch folder, writes the submission into
   ``submitted/<student>/<assignment>/`` (a twin under the English notebook's name), and runs nbgrader's ``autograde`` in-process (no new Python
   per submission) with :class:`~lstm_course.sandbox.kernel.SandboxExecute`, so every kernel is sandboxed;
3. it reads back what nbgrader wrote to the private gradebook (every grade and comment), renders the
   student's page and nbgrader's instructor feedback, and returns it all as plain data.

Nothing is written to the central gradebook here: the coordinator stores each result in one
transaction (:mod:`lstm_course.gradebook`). A job that raises is returned as *not graded* with
the reason; a worker that dies is Dask's to notice (the coordinator retries the job once elsewhere).
"""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from lstm_course.course import EXERCISES, SOLUTIONS, catalogue_path
from lstm_course.gradebook import NotebookRows, read_rows
from lstm_course.grading.submissions import (
    MAX_SUBMISSION_BYTES,
    Job,
    SubmissionTooLarge,
    read_submission,
    safe_relpath,
    source_named,
)
from lstm_course.nbgrader_adapter import NBGRADER, Settings, api, instructor_feedback, settle

__all__ = [
    "Settings",
    "CourseBundle",
    "Job",
    "grade_job",
    "read_submission",
    "SubmissionTooLarge",
    "MAX_SUBMISSION_BYTES",
]


@dataclass(frozen=True)
class CourseBundle:
    """What a worker needs to grade: ``files`` maps course-relative POSIX paths to their bytes."""

    files: dict[str, bytes]
    settings: Settings

    @classmethod
    def from_root(cls, root: Path, settings: Settings) -> CourseBundle:
        """``nbgrader_config.py`` and every file under ``solutions/`` (checkpoints and caches left out)."""
        files = {"nbgrader_config.py": (root / "nbgrader_config.py").read_bytes()}
        for path in sorted((root / SOLUTIONS).rglob("*")):
            rel = path.relative_to(root)
            if path.is_file() and not {".ipynb_checkpoints", "__pycache__"} & set(rel.parts):
                files[rel.as_posix()] = path.read_bytes()
        return cls(files, settings)

    def course_key(self, assignment: str, lang: str = "en") -> str:
        """A hash of what decides a grade of ``assignment`` handed in as its ``lang`` twin: its source
        notebooks and the course config, and for a twin the language and its catalogue.

        A submission graded under another key (a test changed) is graded again on the next run.
        """
        h = hashlib.sha256()
        if lang != "en":
            h.update(f"twin {lang}\0".encode())
        for rel in sorted(self.files):
            if (
                rel == "nbgrader_config.py"
                or rel.startswith(f"{SOLUTIONS}/{assignment}/")
                or (lang != "en" and rel == catalogue_path(assignment, lang))
            ):
                h.update(rel.encode() + b"\0" + hashlib.sha256(self.files[rel]).digest())
        return h.hexdigest()

    def notebooks(self, assignment: str) -> list[str]:
        prefix = f"{SOLUTIONS}/{assignment}/"
        return sorted(
            r[len(prefix) :]
            for r in self.files
            if r.startswith(prefix) and r.endswith(".ipynb") and "/" not in r[len(prefix) :]
        )


# --------------------------------------------------------------------------- worker side

_LOCK = threading.Lock()
_TEMPLATES: dict[tuple[str, str, str], Path] = {}


THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def _prepare_process(settings: Settings) -> None:
    """The thread limits kernels inherit (``settings.kernel_threads``, through the sandbox's allow-list),
    and quiet logs. (``PATH`` is the adapter's: :func:`~lstm_course.nbgrader_adapter.api` sets it.)"""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(settings.kernel_threads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # nbgrader's own add_submission trips SQLAlchemy's autoflush warnings on every submission
    warnings.filterwarnings("ignore", message=r"Object of type <Submitted")


def _scratch_root() -> str | None:
    """The Dask worker's own folder (removed with the worker), else the system's temporary folder."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def build_template(bundle: CourseBundle, assignment: str, lang: str = "en") -> dict[str, bytes]:
    """The template course of ``assignment`` as files: the bundle's config, source and
    release notebooks, and a private SQLite gradebook holding the assignment.

    For a twin (``lang`` other than ``"en"``) the source notebooks are the ``lang`` twins
    (:func:`lstm_course.translations.twin_files`) under the English names: nbgrader records the same
    notebooks, cells and points, with the twin's own sources and checksums, so a twin is graded (and its
    read-only and test cells checked) exactly as the English notebook is.

    A Dask task of its own: the cluster builds each template once (``generate_assignment``, a few
    seconds) and hands the bytes to every worker that grades the assignment. The worker that builds it
    also starts, in the background, the fork server its kernels will need (:func:`_prestart`).
    """
    from lstm_course.translations import twin_files

    _prepare_process(bundle.settings)
    _prestart(bundle, assignment)
    files = bundle.files if lang == "en" else twin_files(bundle.files, assignment, lang)
    with tempfile.TemporaryDirectory(
        prefix=f"lstm-course-template-{assignment}-", dir=_scratch_root()
    ) as tmp:
        course = Path(tmp) / "course"
        for rel, data in files.items():
            if rel == "nbgrader_config.py" or rel.startswith(f"{SOLUTIONS}/{assignment}/"):
                dest = course / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
        with NBGRADER:
            settle(_scratch_root())
            res = api(course, f"sqlite:///{course / 'gradebook.db'}").generate_assignment(
                assignment, force=True, create=True
            )
        if not res["success"]:
            raise RuntimeError(f"generate_assignment {assignment} failed:\n{res['log'][-3000:]}")
        return {
            p.relative_to(course).as_posix(): p.read_bytes() for p in sorted(course.rglob("*")) if p.is_file()
        }


def _prestart(bundle: CourseBundle, assignment: str) -> None:
    """Start this worker's fork server for ``assignment`` (the frameworks its source imports, the run's
    limits, as :class:`~lstm_course.sandbox.kernel.SandboxKernelManager` will ask for it) in the
    background, so that its imports overlap the template's build instead of the first notebook."""
    settings = bundle.settings
    if not (settings.sandbox and settings.warm_kernels):
        return
    from lstm_course.course import nbmeta
    from lstm_course.sandbox import bwrap, forkserver

    sources = [
        "".join(cell.get("source", ""))
        for nb_name in bundle.notebooks(assignment)
        for cell in json.loads(bundle.files[f"{SOLUTIONS}/{assignment}/{nb_name}"]).get("cells", [])
        if nbmeta(cell).get("grade_id")  # what the gradebook records: SandboxExecute's preload reads it
    ]
    lim = settings.limits  # the four the kernel manager is configured with (grading_config)
    limits = bwrap.Limits(
        memory=lim.memory, processes=lim.processes, cpu_seconds=lim.cpu_seconds, wall_seconds=lim.wall_seconds
    )
    forkserver.prestart(forkserver.preload_for(sources), limits)


def _template(
    bundle: CourseBundle, assignment: str, files: dict[str, bytes] | None, lang: str = "en"
) -> Path:
    """This worker's template course folder for ``assignment`` (its ``lang`` twin), written once per
    process from ``files`` (:func:`build_template`'s result; built here when ``None``)."""
    key = (bundle.course_key(assignment, lang) + repr(bundle.settings), assignment, lang)
    with _LOCK:
        if key in _TEMPLATES and _TEMPLATES[key].is_dir():
            return _TEMPLATES[key]
        files = files if files is not None else build_template(bundle, assignment, lang)
        scratch = _scratch_root()
        base = Path(tempfile.mkdtemp(prefix=f"lstm-course-template-{assignment}-", dir=scratch))
        if scratch is None:  # outside Dask nothing removes it with the worker: remove it with this process
            atexit.register(shutil.rmtree, base, True)
        course = base / "course"
        for rel, data in files.items():
            dest = course / safe_relpath(rel)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        _TEMPLATES[key] = course
        return course


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return f"{socket.gethostname()}:{os.getpid()}"


def _cells(
    graded: dict, release: dict, scores: dict[str, float], nb_name: str, messages: dict[str, str]
) -> list[dict]:
    """The ledger's test-cell rows: points, passed, the redacted message and the misconceptions it shows
    (a twin's test messages read back in English through ``messages``, its catalogue of them)."""
    from lstm_course.results.feedback import test_results
    from lstm_course.results.misconceptions import classify

    rows = []
    for r in test_results(graded, release, scores):
        rows.append(
            {
                "notebook": nb_name[: -len(".ipynb")],
                "name": r.name,
                "points": r.points,
                "max_points": r.max_points,
                "passed": r.passed,
                "message": r.message,
                "misconceptions": classify(r.message, messages) if not r.passed else [],
            }
        )
    return rows


def grade_job(bundle: CourseBundle, job: Job, template: dict[str, bytes] | None = None) -> dict:
    """Grade one submission (see the module docstring); return the result as JSON-ready data.

    ``template`` is :func:`build_template`'s result for the job's assignment and language (``None``:
    built here). A twin (``job.lang``) is graded under the English notebook names, against the template
    built from the twin's source: the same tests and points, and the same rows in the gradebook.

    The result has ``status`` ``"graded"`` or ``"not graded"`` with a ``reason``; a graded one carries
    ``gradebook`` (what to store), ``cells`` (the ledger's test rows) and ``files`` (``OUT``-relative
    paths -> bytes: the student's pages, nbgrader's instructor feedback, the autograded notebooks).
    """
    _prepare_process(bundle.settings)
    t0 = time.monotonic()
    a, student = job.assignment, job.student
    nb_names = bundle.notebooks(a)
    job = dataclasses.replace(job, files=source_named(job.files, nb_names, job.lang))
    result = {
        "student": student,
        "assignment": a,
        "language": job.lang,
        "hash": job.digest,
        "status": "not graded",
        "reason": "",
        "notes": list(job.notes),
        "integrity": _screen(bundle, job, nb_names),
        "worker": _worker_name(),
        "cells": [],
        "files": {},
        "gradebook": None,
        "score": None,
        "max_score": None,
    }
    with tempfile.TemporaryDirectory(prefix="lstm-course-task-", dir=_scratch_root()) as tmp:
        try:
            course = _unpack(bundle, job, template, Path(tmp) / "course")
            reports = Path(tmp) / "reports"
            db_url = f"sqlite:///{course / 'gradebook.db'}"
            nbg = api(course, db_url, reports, bundle.settings)
            with NBGRADER:
                settle(_scratch_root())
                res = nbg.autograde(a, student, force=True, create=True)
            found = [json.loads(p.read_text()) for p in sorted((reports / student / a).glob("*.json"))]
            result["notes"] += [n for r in found for n in r.get("notes", [])]
            result["integrity"] += [i for r in found for i in r.get("integrity", [])]
            failed = [r["reason"] for r in found if r.get("status") != "graded"]
            if not res["success"] or failed or len(found) != len(nb_names):
                if not failed:
                    log = [ln for ln in (res.get("log") or "").splitlines() if ln.strip()]
                    errors = [ln for ln in log if "rror" in ln] or log[-3:] or ["nbgrader autograde failed"]
                    failed = ["grading failed: " + " | ".join(errors[-3:])[-500:]]
                    result["log"] = "\n".join(log[-60:])
                result["reason"] = "; ".join(failed)
            else:
                rows = read_rows(db_url, a, student)
                result.update(status="graded", gradebook=rows, score=rows.score, max_score=rows.max_score)
                messages = _test_messages(bundle, a, job.lang)
                for nb_name in nb_names:
                    stem = nb_name[: -len(".ipynb")]
                    mine = [r for r in found if r.get("notebook") == stem]
                    said = {
                        "notes": [n for r in mine for n in r.get("notes", [])],
                        "flags": [i for r in mine for i in r.get("integrity", [])]
                        + [i for i in result["integrity"] if i.startswith(f"{stem}/")],
                    }
                    _collect_notebook(
                        result, course, job, nb_name, rows.notebooks[stem], said, messages, db_url
                    )
        except Exception as exc:  # an infrastructure failure: recorded, and retried on the next run
            result.update(status="not graded", reason=f"grading failed: {type(exc).__name__}: {exc}"[:500])
            result["retry"] = True
    result["seconds"] = round(time.monotonic() - t0, 3)
    return result


def _test_messages(bundle: CourseBundle, assignment: str, lang: str) -> dict[str, str]:
    """The test messages of ``assignment``'s ``lang`` twin, msgid -> translation (none for English)."""
    from lstm_course.translations import load_messages

    po = bundle.files.get(catalogue_path(assignment, lang)) if lang != "en" else None
    return load_messages(po.decode("utf-8")) if po else {}


def _screen(bundle: CourseBundle, job: Job, nb_names: list[str]) -> list[str]:
    """The static screen of the submitted notebooks (:mod:`lstm_course.grading.screen`), outside any kernel.

    Cells are skipped only where nbgrader puts the course's own source back: the test and locked cells
    of the source notebook, by grade_id."""
    from lstm_course.course import is_test_cell, nbmeta
    from lstm_course.grading.screen import screen_notebook

    found = []
    for nb_name in nb_names:
        try:
            nb = json.loads(job.files[nb_name])
            source = json.loads(bundle.files[f"{SOLUTIONS}/{job.assignment}/{nb_name}"])
        except (KeyError, ValueError):
            continue  # missing or not JSON: check_submission and nbgrader say so
        ours = {
            nbmeta(c)["grade_id"]
            for c in source.get("cells", [])
            if nbmeta(c).get("grade_id")
            and (is_test_cell(c) or (nbmeta(c).get("locked") and not nbmeta(c).get("solution")))
        }
        for f in screen_notebook(nb, ours):
            found.append(f"{nb_name[: -len('.ipynb')]}/{f.cell} line {f.line}: {f.what} ({f.why})")
    return found


def _unpack(bundle: CourseBundle, job: Job, template: dict[str, bytes] | None, course: Path) -> Path:
    """A private copy of the assignment's course folder at ``course``, with the job's files in
    ``submitted/<student>/<assignment>/`` (paths checked by ``safe_relpath``)."""
    shutil.copytree(
        _template(bundle, job.assignment, template, job.lang),
        course,
        ignore=shutil.ignore_patterns("autograded", "feedback", "submitted"),
    )
    sub_dir = course / "submitted" / job.student / job.assignment
    sub_dir.mkdir(parents=True)
    for rel, data in job.files.items():
        dest = sub_dir / safe_relpath(rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    return course


def _collect_notebook(
    result: dict,
    course: Path,
    job: Job,
    nb_name: str,
    nb_rows: NotebookRows,
    said: dict,
    messages: dict[str, str],
    db_url: str,
) -> None:
    """Add one graded notebook to ``result``: its ledger test rows (``cells``), the student's feedback
    page (with the grader's ``said["notes"]`` and integrity ``said["flags"]``), and nbgrader's
    autograded notebook and instructor feedback (``files``; from the private gradebook ``db_url``)."""
    from lstm_course.course import read_nb
    from lstm_course.results.feedback import render_student_feedback

    student, a, stem = job.student, job.assignment, nb_name[: -len(".ipynb")]
    graded_path = course / "autograded" / student / a / nb_name
    graded, release = read_nb(graded_path), read_nb(course / EXERCISES / a / nb_name)
    grades = {k: g.score for k, g in nb_rows.grades.items()}
    result["cells"] += _cells(graded, release, grades, nb_name, messages)
    page = render_student_feedback(
        graded,
        release,
        student=student,
        assignment=a,
        notebook=stem,
        scores=grades,
        notes=said["notes"],
        flags=said["flags"],
    )
    result["files"][f"feedback/{student}/{a}/{stem}.html"] = page.encode()
    result["files"][f"instructor/{student}/{a}/{nb_name}"] = graded_path.read_bytes()
    with NBGRADER:  # nbgrader's generate_feedback, one notebook, from this process's one exporter
        html = instructor_feedback(graded_path, db_url, a, student)
    result["files"][f"instructor/{student}/{a}/{stem}.html"] = html.encode("utf-8")
