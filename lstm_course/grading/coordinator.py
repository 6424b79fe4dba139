"""Grade a class in parallel on Dask: every kernel sandboxed, every submission recorded once, nothing lost.

``grade(root, SUBMISSIONS, OUT)`` reads ``SUBMISSIONS/<student>/<assignment>/<notebook>.ipynb``, or the
notebook's Chinese twin ``<notebook>.zh_CN.ipynb`` in its place: a twin is graded by the same tests for the
same points, under the English notebook's name (:mod:`lstm_course.grading.worker`), and a folder holding
both is NOT GRADED with that reason.
One Dask task grades one (student, assignment) on a worker, in a scratch course with a private
gradebook (:mod:`lstm_course.grading.worker`); this process, the *coordinator*, stores each result in the
central gradebook in one transaction (:mod:`lstm_course.gradebook`) and then in the ledger. It
writes to ``OUT``:

- ``outcomes.csv``: one row per (student, assignment): ``graded`` with the score, or ``not graded``
  with the reason (not a valid notebook, notebook missing, the kernel died, a limit killed it, the
  worker grading it died twice), notes (test cells put back, stderr shown, output truncated, ...) and
  ``integrity``: what the integrity checks found (the submission is then *flagged* for a person to
  review; see docs/instructors.md, "Tampering");
- ``grades.csv`` (nbgrader's export) and the gradebook (``db_url``: SQLite ``OUT/gradebook.db`` by
  default, or PostgreSQL), holding the graded submissions only;
- ``results/<student>/<assignment>.json``: the ledger, one file per submission: its content hash,
  outcome, time, worker and test cells with the misconceptions their failures reveal;
- ``feedback/<student>/<assignment>/<notebook>.html``: the student's page, without hidden tests;
- ``instructor/<student>/<assignment>/``: nbgrader's full feedback and the autograded notebook.

Runs are resumable and idempotent. A submission whose content hash (its files and the assignment's
source) matches its ledger entry is not graded again, unless ``regrade``; a result is stored by
*replacing* the submission in the gradebook, so a run interrupted at any point and run again ends
exactly where an uninterrupted run ends. Infrastructure failures (a worker that died twice, a crash
of the grading code) are recorded as not graded and retried on the next run.

``workers=N`` starts a local Dask cluster of N single-threaded worker processes;
``scheduler="tcp://host:port"`` uses an existing cluster (dask-jobqueue, Kubernetes, ``dask
scheduler`` + ``dask worker``): same code, and workers need only ``lstm_ref[course]`` and bubblewrap
(no shared disk: the course and every submission travel as bytes). With ``progress``, stderr shows
a progress bar and, first, one line ``Dask dashboard: URL`` (the local cluster's, or the scheduler's).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from lstm_course import gradebook
from lstm_course.course import EXERCISES, assignments, make_course, notebooks, read_nb, twin_name
from lstm_course.grading.eta import Eta, measured
from lstm_course.grading.submissions import (
    Job,
    SubmissionTooLarge,
    check_submission,
    choose_language,
    read_submission,
    submission_digest,
)
from lstm_course.grading.worker import CourseBundle, build_template, grade_job
from lstm_course.nbgrader_adapter import NBGRADER, Settings
from lstm_course.sandbox import bwrap as sbx

__all__ = ["Outcome", "GradeResult", "grade", "NO_SANDBOX_WARNING", "RESULTS", "CLUSTER_CONFIG"]

RESULTS = "results"
# The scheduler settings grading relies on (set them on an existing cluster's scheduler too):
# a task whose worker dies is retried elsewhere, and a second death marks it KilledWorker; a worker
# holds only the task it runs (no queue of assigned tasks that would share its death).
CLUSTER_CONFIG = {"distributed.scheduler.allowed-failures": 1, "distributed.scheduler.worker-saturation": 1.0}
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
    # what the integrity checks found (static screen, guard, reply cross-checks): for a person to review
    integrity: list[str] = field(default_factory=list)

    @property
    def graded(self) -> bool:
        return self.status == "graded"

    @property
    def flagged(self) -> bool:
        return bool(self.integrity)


@dataclass
class GradeResult:
    outcomes: list[Outcome]
    csv: Path
    outcomes_csv: Path
    feedback: Path
    graded_now: int = 0  # submissions graded by this run (the rest were unchanged since the last run)

    @property
    def rows(self) -> list[tuple[str, str, float, float]]:
        """``(student, assignment, score, max_score)`` of every graded submission."""
        return [(o.student, o.assignment, o.score, o.max_score) for o in self.outcomes if o.graded]

    @property
    def broken(self) -> list[tuple[str, str, str]]:
        """``(student, assignment, reason)`` of every submission NOT GRADED."""
        return [(o.student, o.assignment, o.reason) for o in self.outcomes if not o.graded]


# --------------------------------------------------------------------------- the ledger


def _ledger_path(out: Path, student: str, assignment: str) -> Path:
    return out / RESULTS / student / f"{assignment}.json"


def _read_ledger(out: Path, student: str, assignment: str) -> dict | None:
    try:
        return json.loads(_ledger_path(out, student, assignment).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _not_graded(
    student: str, a: str, digest: str, reason: str, notes=(), retry: bool = False, lang: str = "en"
) -> dict:
    return {
        "student": student,
        "assignment": a,
        "language": lang,
        "hash": digest,
        "status": "not graded",
        "reason": reason,
        "notes": list(notes),
        "integrity": [],
        "retry": retry,
        "cells": [],
        "files": {},
        "gradebook": None,
        "score": None,
        "max_score": None,
        "seconds": 0.0,
        "worker": "",
    }


def _record(gb, root: Path, out: Path, result: dict) -> dict:
    """Store one result: the gradebook (one transaction), then the files, then the ledger entry.

    A crash between the steps is repaired by the next run: with no ledger entry the submission is
    graded again, and storing replaces what the gradebook holds.
    """
    from datetime import UTC, datetime

    from lstm_course.results.feedback import render_student_feedback

    student, a = result["student"], result["assignment"]
    if result["status"] == "graded":
        gradebook.store(gb, result["gradebook"])
    else:
        gradebook.remove(gb, student, a)
        shutil.rmtree(out / "instructor" / student / a, ignore_errors=True)
        for nb_name in notebooks(root, a):  # the release the student handed in, English or a twin
            nb_path = root / EXERCISES / a / twin_name(nb_name, result.get("language", "en"))
            if not nb_path.is_file():
                nb_path = root / EXERCISES / a / nb_name
            if not nb_path.is_file():
                continue
            release, stem = read_nb(nb_path), nb_name[: -len(".ipynb")]
            page = render_student_feedback(
                release,
                release,
                student=student,
                assignment=a,
                notebook=stem,
                scores={},
                outcome=f"NOT GRADED: {result['reason']}",
            )
            result["files"][f"feedback/{student}/{a}/{stem}.html"] = page.encode()
    for rel, data in result["files"].items():
        _write_atomic(out / rel, data)
    entry = {k: v for k, v in result.items() if k not in ("files", "gradebook")}
    if entry.get("integrity"):
        entry["notes"] = [
            *entry["notes"],
            f"flagged for review: {len(entry['integrity'])} integrity finding(s)",
        ]
    entry["graded_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    _write_atomic(_ledger_path(out, student, a), json.dumps(entry, indent=1).encode())
    return entry


def _write_outcomes(path: Path, outcomes: list[Outcome]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["student", "assignment", "status", "score", "max_score", "reason", "notes", "integrity"])
        for o in outcomes:
            score = "" if o.score is None else f"{o.score:g}"
            top = "" if o.max_score is None else f"{o.max_score:g}"
            flags = " | ".join(o.integrity)
            w.writerow([o.student, o.assignment, o.status, score, top, o.reason, " | ".join(o.notes), flags])


# --------------------------------------------------------------------------- Dask


def _cluster(workers: int | None, scheduler: str | None):
    """A Dask client: on ``scheduler``, or on a new local cluster of ``workers`` processes."""
    import dask
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler, timeout="120s"), None
    n = workers or os.cpu_count() or 1
    # workers start in this process's cwd: not while an nbgrader run of another thread has moved it
    with dask.config.set(CLUSTER_CONFIG), NBGRADER:
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: two graders on one machine never clash
            silence_logs=logging.ERROR,
            memory_limit=0,  # each kernel has its own cap in the sandbox; the worker itself stays small
        )
    return Client(cluster), cluster


def _dashboard_line(client, cluster) -> str:
    """``Dask dashboard: URL``: the local cluster's dashboard, or an existing scheduler's when the client
    knows it; ``none`` when the scheduler reports no dashboard service. Its pages need bokeh where the
    scheduler runs, and say so without it."""
    try:
        link = (cluster if cluster is not None else client).dashboard_link
    except Exception:  # a scheduler without a dashboard has no "dashboard" service: KeyError
        link = None
    return f"Dask dashboard: {link or 'none (the scheduler serves no dashboard)'}"


def _course(bundle: CourseBundle) -> CourseBundle:
    """A task that holds the bundle on the cluster: sent once, then passed to every job by its key."""
    return bundle


def _workers(client) -> int:
    """How many jobs the cluster grades at once (its workers' threads)."""
    try:
        return sum(w.get("nthreads", 1) for w in client.scheduler_info()["workers"].values())
    except Exception:  # a scheduler that does not answer yet: the ETA waits
        return 0


def _run(
    jobs: list[Job], bundle: CourseBundle, workers, scheduler, on_result, progress: bool, prior=None
) -> None:
    """Grade ``jobs`` on Dask and call ``on_result(result)`` in this process as each one ends.

    ``prior``: seconds per notebook by assignment measured before (:func:`lstm_course.grading.eta.measured`):
    the progress bar's ETA starts from them, and the longest jobs go first."""
    from concurrent.futures import CancelledError

    from distributed import as_completed
    from tqdm.auto import tqdm

    client, cluster = _cluster(workers, scheduler)
    futures = []
    try:
        if progress:
            print(_dashboard_line(client, cluster), file=sys.stderr, flush=True)
        # the course travels once, as a task's result (not scattered data): if every worker holding it
        # dies, the scheduler computes it again from the task instead of cancelling all the grading
        shared = client.submit(_course, bundle, key=f"course-{uuid.uuid4().hex}", pure=False)
        # each assignment's template course (and its twin's) is built once on the cluster, then shared
        templates = {
            (a, lang): client.submit(
                build_template, shared, a, lang, key=f"template-{a}-{lang}-{uuid.uuid4().hex}", pure=False
            )
            for a, lang in sorted({(job.assignment, job.lang) for job in jobs})
        }
        eta = Eta([job.assignment for job in jobs], _workers(client), prior)
        by_key = {}
        for job in jobs:
            key = f"grade-{job.student}-{job.assignment}-{job.digest[:12]}"
            fut = client.submit(
                grade_job,
                shared,
                job,
                templates[job.assignment, job.lang],
                key=key,
                pure=False,
                retries=0,
                priority=eta.priority(job.assignment),  # the slowest assignments first: no long tail
            )
            by_key[fut.key] = job
            futures.append(fut)
        failed = 0
        # tqdm's own ETA is a rate over all jobs; ours sums each assignment's measured time per notebook
        bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"
        with tqdm(
            total=len(jobs), desc="grading", unit="submission", disable=not progress, bar_format=bar_format
        ) as bar:
            for fut in as_completed(futures):
                job = by_key[fut.key]
                try:
                    # a result held by a worker that died before we fetched it is computed again: wait for it
                    result = fut.result()
                except (Exception, CancelledError) as exc:
                    why = (
                        "the worker grading it died twice (KilledWorker)"
                        if type(exc).__name__ == "KilledWorker"
                        else f"grading failed: {type(exc).__name__}: {exc}"[:500]
                    )
                    result = _not_graded(
                        job.student, job.assignment, job.digest, why, job.notes, retry=True, lang=job.lang
                    )
                fut.release()
                failed += result["status"] != "graded"
                on_result(result)
                eta.workers = _workers(client) or eta.workers
                eta.done(job.assignment, result.get("seconds") if result["status"] == "graded" else None)
                bar.set_postfix_str(f"{eta.describe()}, not graded: {failed}", refresh=False)
                bar.update(1)
    finally:
        if futures:
            client.cancel(futures)
        client.close()
        if cluster is not None:
            cluster.close()


# --------------------------------------------------------------------------- grade


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
    workers: int | None = None,
    scheduler: str | None = None,
    regrade: bool = False,
    report: bool = False,
    kernel_threads: int = 1,
) -> GradeResult:
    """Autograde ``submissions/<student>/<assignment>/<nb>.ipynb`` into ``out`` (see the module docstring).

    ``sandbox=False`` runs student code unsandboxed, after a loud warning; with ``sandbox=True`` and
    no bubblewrap installed, raise ``SystemExit`` with install instructions. ``limits`` caps each
    kernel (memory, processes, CPU time, wall clock); ``cell_timeout`` overrides the course's per-cell
    timeout (``Execute.timeout``, seconds); ``max_output`` caps the output a notebook keeps (bytes).
    ``workers`` (default: the machine's cores) or ``scheduler`` choose the Dask cluster; ``regrade``
    grades every submission again; ``report`` writes ``OUT/report.html`` and ``OUT/items.csv``;
    ``kernel_threads`` caps the numeric libraries' threads in each kernel (one worker is one core).
    """

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
    db_url = gradebook.normalize_url(db_url or f"sqlite:///{out / 'gradebook.db'}")
    bundle = CourseBundle.from_root(root, Settings(sandbox, limits, cell_timeout, max_output, kernel_threads))
    known = assignments(root)
    entries, todo, now = _scan(submissions, out, bundle, known, regrade)
    with gradebook.open_gradebook(db_url) as gb, tempfile.TemporaryDirectory(prefix="lstm-course-") as tmp:
        course = make_course(root, Path(tmp) / "course", known)
        used = sorted({j.assignment for j in todo} | {r["assignment"] for r in now})
        if used:
            gradebook.prepare_assignments(course, used, db_url)
        for result in now:
            entries[result["student"], result["assignment"]] = _record(gb, root, out, result)

        def on_result(result: dict) -> None:
            entries[result["student"], result["assignment"]] = _record(gb, root, out, result)

        if todo:
            try:
                _run(todo, bundle, workers, scheduler, on_result, progress, measured(out / RESULTS))
            except KeyboardInterrupt:
                done = sum(1 for j in todo if (j.student, j.assignment) in entries)
                print(
                    f"\ninterrupted: {done} of {len(todo)} submissions stored; run the same command again to "
                    "grade the rest (nothing is lost or counted twice)",
                    file=sys.stderr,
                )
                raise
        scores = {a: gradebook.scores(gb, a) for a in known}
        grades_csv = out / "grades.csv"
        gradebook.export_csv(gb, grades_csv)
    outcomes = _outcomes(entries, scores)
    outcomes_csv = out / "outcomes.csv"
    _write_outcomes(outcomes_csv, outcomes)
    if report:
        from lstm_course.results.report import write_report

        write_report(out, db_url)
    _summary(outcomes, len(todo) + len(now), out, grades_csv, outcomes_csv, db_url)
    return GradeResult(outcomes, grades_csv, outcomes_csv, out / "feedback", graded_now=len(todo) + len(now))


def _scan(
    submissions: Path, out: Path, bundle: CourseBundle, known: list[str], regrade: bool
) -> tuple[dict[tuple[str, str], dict], list[Job], list[dict]]:
    """Every ``<student>/<assignment>/`` folder under ``submissions``, sorted three ways:
    ``entries`` (ledger entries kept as they are: unchanged since they were graded, or an unknown
    assignment), ``todo`` (jobs for a kernel) and ``now`` (outcomes decided without one: too large,
    or refused by ``check_submission``)."""
    entries: dict[tuple[str, str], dict] = {}
    todo: list[Job] = []
    now: list[dict] = []
    for student_dir in sorted(p for p in submissions.iterdir() if p.is_dir()):
        for a_dir in sorted(p for p in student_dir.iterdir() if p.is_dir()):
            student, a = student_dir.name, a_dir.name
            if a not in known:
                why = f"unknown assignment (known: {', '.join(known)})"
                entries[student, a] = _not_graded(student, a, "", why)  # nothing to store: no such assignment
                continue
            try:
                files, links = read_submission(a_dir)
            except SubmissionTooLarge as exc:  # never read into memory: recorded, and checked again next run
                now.append(_not_graded(student, a, "", str(exc)))
                continue
            expected = bundle.notebooks(a)
            lang, why = choose_language(a_dir, expected)  # the English notebook or a twin, never both
            digest = submission_digest(files, bundle.course_key(a, lang))
            notes = [f"symbolic links dropped: {', '.join(links[:5])}"] if links else []
            old = _read_ledger(out, student, a)
            if not regrade and old and old.get("hash") == digest and not old.get("retry"):
                entries[student, a] = old
                continue
            why = why or check_submission(a_dir, [twin_name(n, lang) for n in expected])
            if why:
                now.append(_not_graded(student, a, digest, why, notes, lang=lang))
            else:
                todo.append(Job(student, a, digest, files, tuple(notes), lang))
    return entries, todo, now


def _outcomes(
    entries: dict[tuple[str, str], dict], scores: dict[str, dict[str, gradebook.Score]]
) -> list[Outcome]:
    """One :class:`Outcome` per ledger entry, sorted by (student, assignment), with the gradebook's
    score for a graded one (``scores[assignment][student]``, a :class:`~lstm_course.gradebook.Score`)."""
    outcomes = []
    for (student, a), e in sorted(entries.items()):
        o = Outcome(student, a, e["status"], reason=e.get("reason", ""), notes=list(e.get("notes", [])))
        o.integrity = list(e.get("integrity", []))
        if o.graded:
            o.score, o.max_score = scores[a][student].score, scores[a][student].max_score
        outcomes.append(o)
    return outcomes


def _summary(outcomes: list[Outcome], graded_now: int, out, grades_csv, outcomes_csv, db_url) -> None:
    if len(outcomes) <= 100:
        for o in outcomes:
            flag = f"  [FLAGGED: {len(o.integrity)} integrity finding(s)]" if o.flagged else ""
            if o.graded:
                print(f"{o.student:<20} {o.assignment:<12} {o.score:>5g} / {o.max_score:g}{flag}")
            else:
                print(f"{o.student:<20} {o.assignment:<12} NOT GRADED: {o.reason}{flag}")
    bad = sum(not o.graded for o in outcomes)
    if flagged := sum(o.flagged for o in outcomes):
        print(f"{flagged} submission(s) flagged for review: see the integrity column of outcomes.csv")
    print(
        f"{len(outcomes)} submissions: {len(outcomes) - bad} graded, {bad} not graded "
        f"({graded_now} graded by this run, {len(outcomes) - graded_now} unchanged since the last)\n"
        f"outcomes: {outcomes_csv}\ngrades: {grades_csv}\nfeedback: {out / 'feedback'}\ngradebook: {db_url}"
    )
