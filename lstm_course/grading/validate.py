"""``lstm-course validate NOTEBOOK``: run a notebook the way the grader will, before handing it in.

A student's check, in the spirit of ``nbgrader validate``, but through the grader's own path
(:func:`lstm_course.grading.worker.grade_job`): the same per-cell limit and output cap, the same sandbox when
bubblewrap is installed, test cells put back where they were deleted or moved
(:mod:`lstm_course.grading.cells`), stderr shown and not counted, and the same integrity checks. The only
difference is the source it grades against: the *released* notebook (``exercises/<a>/<nb>.ipynb``),
so the visible tests run and the hidden ones do not exist here. It prints each visible test with its
points and its shape-aware message, then every note the grader would make, and exits 0 when every
visible test passes.

    lstm-course validate exercises/shapes/shapes.ipynb
    lstm-course validate exercises/shapes/shapes.zh_CN.ipynb   # the Chinese twin: its messages in Chinese
    !lstm-course validate shapes.ipynb          # from a notebook cell, in the notebook's folder
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from lstm_course.course import EXERCISES, SOLUTIONS
from lstm_course.grading.submissions import Job

__all__ = ["Validation", "validate", "find_release"]


@dataclass
class Validation:
    """What :func:`validate` found: visible-test rows, notes, integrity findings, and the reason when the
    notebook could not be run at all (``reason``)."""

    assignment: str
    notebook: str
    score: float
    max_score: float
    cells: list[dict]
    notes: list[str]
    integrity: list[str]
    reason: str = ""
    sandboxed: bool = True

    @property
    def ok(self) -> bool:
        return not self.reason and self.score == self.max_score and not self.integrity


def find_release(notebook: Path, root: Path | None = None) -> tuple[Path, str, Path]:
    """``(course root, assignment, released notebook)`` for a student's ``notebook``.

    The root is ``root`` or the nearest folder above the notebook (then the current folder's) that holds
    ``nbgrader_config.py`` and ``exercises/``; the assignment is the one whose release has a notebook of
    the same name. Raises ``SystemExit`` naming what is missing.
    """
    notebook = Path(notebook).resolve()
    candidates = [root] if root else [*notebook.parents, Path.cwd(), *Path.cwd().parents]
    for cand in candidates:
        cand = Path(cand)
        if (cand / "nbgrader_config.py").is_file() and (cand / EXERCISES).is_dir():
            hits = sorted((cand / EXERCISES).glob(f"*/{notebook.name}"))
            if hits:
                return cand.resolve(), hits[0].parent.name, hits[0]
            raise SystemExit(f"lstm-course validate: no exercises/<assignment>/{notebook.name} in {cand}")
    raise SystemExit(
        "lstm-course validate: no course folder (nbgrader_config.py and exercises/) above "
        f"{notebook} or here; pass --root"
    )


def validate(notebook: Path, root: Path | None = None, sandbox: bool | None = None) -> Validation:
    """Grade ``notebook`` against its release's visible tests, as ``lstm-course grade`` would.

    ``sandbox=None`` uses bubblewrap when it is installed (it is the student's own code, on their own
    machine: without it the run is the same, only not isolated).
    """
    from lstm_course.grading.worker import CourseBundle, Settings, grade_job
    from lstm_course.sandbox import bwrap as sbx

    root, a, release = find_release(notebook, root)
    if sandbox is None:
        try:
            sbx.find_bwrap()
            sandbox = True
        except sbx.SandboxUnavailable:
            sandbox = False
    files = {
        "nbgrader_config.py": (root / "nbgrader_config.py").read_bytes(),
        f"{SOLUTIONS}/{a}/{release.name}": release.read_bytes(),  # the release is the source: no hidden tests
    }
    bundle = CourseBundle(files, Settings(sandbox=sandbox))
    data = Path(notebook).read_bytes()
    job = Job("you", a, hashlib.sha256(data).hexdigest(), {release.name: data})
    result = grade_job(bundle, job)
    cells = result.get("cells", [])
    return Validation(
        assignment=a,
        notebook=release.name,
        score=sum(c["points"] for c in cells),
        max_score=sum(c["max_points"] for c in cells),
        cells=cells,
        notes=list(result.get("notes", [])),
        integrity=list(result.get("integrity", [])),
        reason="" if result["status"] == "graded" else result.get("reason", "not graded"),
        sandboxed=sandbox,
    )


def report(v: Validation) -> str:
    """The text ``lstm-course validate`` prints."""
    lines = [f"{v.assignment}/{v.notebook}: the visible tests, run as the grader runs them"]
    if not v.sandboxed:
        lines.append("(not sandboxed here: bubblewrap is not installed; the grader uses it)")
    if v.reason:
        lines.append(f"NOT GRADED: {v.reason}")
    for c in v.cells:
        mark = "pass" if c["passed"] else "FAIL"
        lines.append(f"  {mark}  {c['name']:<28} {c['points']:g} / {c['max_points']:g}")
        if c["message"]:
            lines += [f"        {ln}" for ln in c["message"].splitlines()]
    if not v.reason:
        lines.append(
            f"visible tests: {v.score:g} / {v.max_score:g} points "
            "(the grader also runs hidden tests: passing these is necessary, not sufficient)"
        )
    lines += [f"note: {n}" for n in v.notes]
    if v.integrity:
        lines.append("your notebook would be FLAGGED for the instructor's review:")
        lines += [f"  - {f}" for f in v.integrity]
    return "\n".join(lines)
