"""The one place nbgrader is run: its lock, its config, its ``PATH``, in-process and as a subprocess.

- **In process** (:func:`api`): grading. A worker grades many submissions in one Python, so no new
  interpreter starts per submission. nbgrader's converters ``chdir`` the whole process while they run,
  so every in-process run holds :data:`NBGRADER` and starts from a folder that outlives it
  (:func:`settle`).
- **As a subprocess** (:func:`run`, :func:`generate`, :func:`autograde`): ``lstm-course release`` and
  ``check``, which run the course's own notebooks as nbgrader does for an instructor, with a timeout that
  kills a hung run.
- **Config**: the course's ``nbgrader_config.py``, then, for grading, :func:`grading_config`'s
  :class:`traitlets.config.Config` on top (the sandboxed executor, the cell restorer, the limits of a
  :class:`Settings`). The only config we write is that object.
- **PATH**: nbgrader stamps a new gradebook with the ``alembic`` it finds on ``PATH`` and starts kernels
  named ``python3`` from there: both must be this interpreter's (:func:`interpreter_path`).

nbgrader is imported lazily, so ``lstm_ref`` installs without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lstm_course.course import COURSE_ID, EXERCISES
from lstm_course.sandbox.bwrap import Limits

__all__ = [
    "NBGRADER",
    "Settings",
    "interpreter_path",
    "interpreter_first_on_path",
    "alembic_head",
    "nbgrader_ready",
    "instructor_feedback",
    "settle",
    "grading_config",
    "api",
    "run",
    "generate",
    "autograde",
    "db_url_of",
]

# Every in-process nbgrader run holds this lock (see the module docstring): two at once in one process
# (threads of a worker, two grade() calls in one program) would leave each other in the wrong folder.
NBGRADER = threading.RLock()


@dataclass(frozen=True)
class Settings:
    """How every kernel of a grading run is limited (the same for all jobs of a run)."""

    sandbox: bool = True
    limits: Limits = field(default_factory=Limits)
    cell_timeout: int | None = None  # None: the course's Execute.timeout
    max_output: int = 1 << 20  # output bytes one notebook may keep
    # threads of the numeric libraries in a kernel (OpenMP, MKL, OpenBLAS, TensorFlow): one worker is one
    # core, and the exercises' arrays are tiny, so more threads only fight the other workers for the CPU
    kernel_threads: int = 1
    # fork each kernel from a warm server that imported the frameworks once (lstm_course.sandbox.forkserver)
    warm_kernels: bool = True


def interpreter_path(path: str | None) -> str:
    """The ``PATH`` value ``path`` with this interpreter's folder first (once).

    >>> interpreter_path("/usr/bin").split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]
    True
    """
    bindir = str(Path(sys.executable).parent)
    parts = path.split(os.pathsep) if path else []
    return os.pathsep.join([bindir, *(p for p in parts if p != bindir)])


def interpreter_first_on_path() -> None:
    """Put this interpreter's folder first on this process's ``PATH`` (for in-process runs)."""
    os.environ["PATH"] = interpreter_path(os.environ.get("PATH"))


def alembic_head() -> str:
    """The revision nbgrader stamps a new gradebook with, read in this process from nbgrader's own
    migrations (``nbgrader:alembic``): what ``alembic heads`` prints, without a new Python."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "nbgrader:alembic")
    return ScriptDirectory.from_config(cfg).get_current_head()


def nbgrader_ready() -> None:
    """Before an in-process nbgrader run: this interpreter first on ``PATH`` (the ``python3`` kernels), and
    nbgrader's ``get_alembic_version``, which starts the ``alembic`` command for every new gradebook
    (a template per assignment, the central one: 1.5 s each, measured in BENCHMARKS.md), answered once
    per process from :func:`alembic_head` instead."""
    import functools

    import nbgrader.api

    interpreter_first_on_path()
    if not hasattr(nbgrader.api.get_alembic_version, "cache_info"):
        nbgrader.api.get_alembic_version = functools.cache(alembic_head)
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, _SchemaCache):
        common.jsonschema = _SchemaCache(common.jsonschema)


class _SchemaCache:
    """``jsonschema`` as nbgrader's cell-metadata validator uses it, with one validator per schema.

    nbgrader checks every cell's metadata with ``jsonschema.validate(metadata, schema)``, which validates
    the schema itself against its meta-schema first, on every call: about 2 ms a cell, 70 ms of every
    notebook's autograde. :meth:`validate` does what ``jsonschema.validate`` does (the same validator
    class, the same best error raised) with the schema checked once; the rest is the module itself.
    """

    def __init__(self, module):
        self._module, self._validators = module, {}

    def __getattr__(self, name):
        return getattr(self._module, name)

    def validate(self, instance, schema, *args, **kw):
        if args or kw:
            return self._module.validate(instance, schema, *args, **kw)
        known = self._validators.get(id(schema))
        if known is None or known[0] is not schema:
            cls = self._module.validators.validator_for(schema)
            cls.check_schema(schema)
            known = self._validators[id(schema)] = (schema, cls(schema))
        error = self._module.exceptions.best_match(known[1].iter_errors(instance))
        if error is not None:
            raise error


def settle(folder: str | None = None) -> None:
    """Move to ``folder`` (default: the system's temporary folder), one that outlives every run.

    Call it holding :data:`NBGRADER`: nbgrader starts from the current folder, which a finished run may
    have deleted.
    """
    os.chdir(folder or tempfile.gettempdir())


def grading_config(course: Path, report_dir: Path, settings: Settings):
    """The config a grading run puts over the course's own: a :class:`traitlets.config.Config`.

    Autograde restores the cell layout (:class:`~lstm_course.grading.cells.RestoreCells`, against the
    release in ``course/exercises``) before nbgrader's own checks, and runs every notebook with
    :class:`~lstm_course.sandbox.kernel.SandboxExecute` under ``settings``; each notebook's outcome is
    written to ``report_dir``.
    """
    from traitlets.config import Config

    lim = settings.limits
    c = Config()
    c.Autograde.sanitize_preprocessors = [
        "nbgrader.preprocessors.ClearOutput",
        "lstm_course.grading.cells.RestoreCells",
        "nbgrader.preprocessors.DeduplicateIds",
        "nbgrader.preprocessors.OverwriteKernelspec",
        "nbgrader.preprocessors.OverwriteCells",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.Autograde.autograde_preprocessors = [
        "lstm_course.sandbox.kernel.SandboxExecute",
        "nbgrader.preprocessors.IgnorePattern",
        "nbconvert.preprocessors.ClearMetadataPreprocessor",
        "nbgrader.preprocessors.LimitOutput",
        "nbgrader.preprocessors.SaveAutoGrades",
        "nbgrader.preprocessors.AssignLatePenalties",
        "nbgrader.preprocessors.CheckCellMetadata",
    ]
    c.RestoreCells.release_dir = str(course / EXERCISES)
    c.SandboxExecute.sandbox = settings.sandbox
    c.SandboxExecute.warm = settings.warm_kernels
    c.SandboxExecute.report_dir = str(report_dir)
    c.SandboxExecute.max_output_bytes = settings.max_output
    c.SandboxExecute.startup_timeout = 300  # a kernel start on a slow day; a hang still ends
    # the notebook has run: kill the sandbox (its supervisor takes it along) instead of asking the
    # kernel to shut down and waiting for it (0.1 s warm, 0.5 s cold, every notebook: BENCHMARKS.md)
    c.SandboxExecute.shutdown_kernel = "immediate"
    for name in ("memory", "processes", "cpu_seconds", "wall_seconds"):
        setattr(c.SandboxKernelManager, name, getattr(lim, name))
    if settings.cell_timeout is not None:
        c.Execute.timeout = int(settings.cell_timeout)
    return c


def api(course: Path, db_url: str, report_dir: Path | None = None, settings: Settings | None = None):
    """nbgrader's in-process ``NbGraderAPI`` on ``course``: its ``nbgrader_config.py``, the gradebook
    ``db_url``, and with ``settings`` the grading config (:func:`grading_config`, outcomes to
    ``report_dir``). Use it holding :data:`NBGRADER`, after :func:`settle`."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import PyFileConfigLoader

    nbgrader_ready()
    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    if settings is not None:
        cfg.merge(grading_config(course, report_dir or course / "reports", settings))
    cfg.CourseDirectory.root = str(course)
    cfg.CourseDirectory.db_url = db_url
    if not cfg.CourseDirectory.get("course_id"):
        cfg.CourseDirectory.course_id = COURSE_ID
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


_FEEDBACK: list = []  # this process's HTML exporter for nbgrader's feedback, made once (template compiled)


def instructor_feedback(graded: Path, db_url: str, assignment: str, student: str) -> str:
    """nbgrader's feedback HTML of the autograded notebook ``graded`` (scores and comments from the
    gradebook ``db_url``), as ``generate_feedback`` writes it, from one exporter per process.

    ``generate_feedback`` builds a new exporter, compiles its templates and scans the course folder on
    every call (0.5 s a notebook, BENCHMARKS.md); this does what it does for one notebook: the same
    exporter class, template, preprocessors (``GetGrades``, ``CSSHTMLHeaderPreprocessor``) and resources.
    Call it holding :data:`NBGRADER`.
    """
    if not _FEEDBACK:
        from nbgrader.converters import GenerateFeedback
        from traitlets.config import Config

        converter = GenerateFeedback(config=Config())  # its own defaults: template, paths, preprocessors
        exporter = converter.exporter_class(parent=converter, config=converter.config)
        for pp in converter.preprocessors:
            exporter.register_preprocessor(pp)
        _FEEDBACK.append(exporter)
    notebook = graded.stem
    resources = {
        "unique_key": notebook,
        "output_files_dir": f"{notebook}_files",
        "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook, "db_url": db_url},
    }
    html, _ = _FEEDBACK[0].from_filename(str(graded), resources=resources)
    return html


def run(
    course: Path, *args: str, db_url: str | None = None, check: bool = True, timeout: float | None = None
) -> subprocess.CompletedProcess:
    """Run ``python -m nbgrader ARGS`` in the course folder; raise with its log if ``check`` and it fails.

    After ``timeout`` seconds the run is killed and returns exit status -9 with "timed out" in stderr.
    """
    try:
        import nbgrader as _  # noqa: F401  (lazy: only the course tools need it)
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise SystemExit("lstm-course needs nbgrader: pip install 'lstm_ref[course]'") from exc
    cmd = [sys.executable, "-m", "nbgrader", *args]
    if db_url:
        cmd.append(f"--CourseDirectory.db_url={db_url}")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}
    env["PATH"] = interpreter_path(env.get("PATH"))
    try:
        proc = subprocess.run(cmd, cwd=course, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        proc = subprocess.CompletedProcess(cmd, -9, out, f"ERROR: timed out after {timeout:g} s")
    if check and proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[2:])} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def generate(course: Path, assignment: str, db_url: str | None = None) -> Path:
    """``nbgrader generate_assignment ASSIGNMENT --force`` in ``course``; return the release folder."""
    run(course, "generate_assignment", assignment, "--force", db_url=db_url)
    return course / EXERCISES / assignment


def autograde(
    course: Path,
    assignment: str,
    student: str | None = None,
    db_url: str | None = None,
    check: bool = True,
    timeout: float | None = None,
    options: Sequence[str] = (),
) -> subprocess.CompletedProcess:
    """``nbgrader autograde ASSIGNMENT --force [OPTIONS]``: every student in one run, or ``student``.

    ``student`` is a glob of student ids (nbgrader's ``--student``); ``options`` are more nbgrader
    settings, such as ``--Execute.timeout=30``.
    """
    args = ["autograde", assignment, "--force", *options]
    if student is not None:
        args.append(f"--student={student}")
    return run(course, *args, db_url=db_url, check=check, timeout=timeout)


def db_url_of(course: Path) -> str:
    """The default gradebook of a course folder (nbgrader's own default)."""
    return f"sqlite:///{(course / 'gradebook.db').resolve()}"
