"""Where one notebook's grading time goes, phase by phase, for the baseline code and for this checkout.

Each side runs in a fresh Python (the baseline: ``lstm_course`` exported from git at ``--baseline`` and put
first on ``PYTHONPATH``, as in ``scripts/bench_grading.py``), grades ``--students`` correct notebooks of
each assignment one after the other with the worker's own ``grade_job`` (no Dask), and times the phases
by wrapping the functions both versions share: copying the template, nbgrader's ``autograde`` (kernel
start, the set-up cell, the other cells, the guard's calls, the kernel's shutdown, nbgrader's own steps),
nbgrader's instructor feedback, and the student's page. The first notebook of each assignment is
reported apart (it pays a fork server's start); the table gives the mean of the others.

    python -m scripts.profile_grading                 # shapes and stateful, 4 notebooks each
    python -m scripts.profile_grading --assignments gates --students 6
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.bench_grading import BASELINE, export_baseline

PHASES = (
    ("kernel start (until it answers)", "kernel"),
    ("course set-up code + guard snapshot (the imports)", "guard_start"),
    ("the notebook's cells", "cells"),
    ("guard checks around test cells", "guard"),
    ("kernel shutdown", "shutdown"),
    ("nbgrader autograde, the rest", "autograde_rest"),
    ("nbgrader instructor feedback", "feedback"),
    ("template copy, student page, rest", "rest"),
)

# Runs in the fresh Python: times every job's phases, prints one JSON line per job.
RUNNER = r"""
import hashlib, json, sys, time, collections
from pathlib import Path
from nbclient.client import NotebookClient
from nbgrader.apps import NbGraderAPI
import lstm_course
from lstm_course.grading import worker
from lstm_course.grading.worker import CourseBundle, Job, build_template, grade_job
from lstm_course.nbgrader_adapter import Settings
from lstm_course.sandbox import kernel as K

T = collections.defaultdict(float)

def timed(owner, name, key, is_async, when=lambda *a, **k: True):
    orig = getattr(owner, name)
    if is_async:
        async def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return await orig(*a, **k)
            finally:
                if when(*a, **k):
                    T[key] += time.perf_counter() - t
    else:
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return orig(*a, **k)
            finally:
                T[key] += time.perf_counter() - t
    setattr(owner, name, wrapper)

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.asynchronous.client import AsyncKernelClient
timed(AsyncKernelManager, "start_kernel", "kernel", True)
timed(AsyncKernelClient, "wait_for_ready", "kernel", True)
if "wait_for_ready" in vars(getattr(K, "SandboxKernelClient", object)):  # this checkout's own client
    timed(K.SandboxKernelClient, "wait_for_ready", "kernel", True)
timed(AsyncKernelManager, "shutdown_kernel", "shutdown", True)
orig_guard = K.SandboxExecute._guard
async def guard(self, call, *a, **k):
    t = time.perf_counter()
    try:
        return await orig_guard(self, call, *a, **k)
    finally:
        T["guard_start" if call == "start" else "guard"] += time.perf_counter() - t
K.SandboxExecute._guard = guard
orig_cell = NotebookClient.async_execute_cell
async def cell(self, c, *a, **k):
    t = time.perf_counter()
    try:
        return await orig_cell(self, c, *a, **k)
    finally:
        T["cells"] += time.perf_counter() - t
NotebookClient.async_execute_cell = cell
timed(NbGraderAPI, "autograde", "autograde", False)
timed(NbGraderAPI, "generate_feedback", "feedback", False)
if hasattr(worker, "instructor_feedback"):  # this checkout: one exporter per process
    timed(worker, "instructor_feedback", "feedback", False)

root, subs = Path(sys.argv[1]), Path(sys.argv[2])
bundle = CourseBundle.from_root(root, Settings())
for a_dir in sorted(p for p in subs.iterdir() if p.is_dir()):
    a = a_dir.name
    template = build_template(bundle, a)
    for i, nb in enumerate(sorted(a_dir.glob("*/*.ipynb"))):
        files = {nb.name: nb.read_bytes()}
        job = Job(nb.parent.name, a, hashlib.sha256(files[nb.name]).hexdigest(), files)
        T.clear()
        t = time.perf_counter()
        r = grade_job(bundle, job, template)
        total = time.perf_counter() - t
        if r["score"] != r["max_score"]:
            raise SystemExit(f"{a} {nb}: {r['status']} {r.get('reason')} {r['score']}/{r['max_score']}")
        inside = T["kernel"] + T["guard_start"] + T["cells"] + T["guard"] + T["shutdown"]
        phases = {k: T[k] for k in ("kernel", "guard_start", "cells", "guard", "shutdown", "feedback")}
        phases["autograde_rest"] = T["autograde"] - inside
        phases["rest"] = total - T["autograde"] - T["feedback"]
        print("PROFILE " + json.dumps({"assignment": a, "index": i, "total": total, "phases": phases}))
"""


def profile(root: Path, subs: Path, code: Path | None) -> list[dict]:
    """Every job's phases, graded by ``code`` (``None``: this checkout) in a fresh Python."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(root), str(subs)],
        env=env,
        cwd=subs.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = [json.loads(ln[len("PROFILE ") :]) for ln in proc.stdout.splitlines() if ln.startswith("PROFILE ")]
    if proc.returncode or not rows:
        raise SystemExit(f"profile_grading: failed ({code or 'this checkout'}):\n{proc.stderr[-3000:]}")
    return rows


def table(before: list[dict], after: list[dict], assignments: list[str], baseline: str) -> str:
    """Markdown: per assignment, the mean of each phase over the jobs after the first, before and after."""
    lines = []
    for a in assignments:
        b = [r for r in before if r["assignment"] == a]
        w = [r for r in after if r["assignment"] == a]
        mean = lambda rows, key: sum(r["phases"][key] for r in rows[1:]) / max(1, len(rows) - 1)  # noqa: E731
        total = lambda rows: sum(r["total"] for r in rows[1:]) / max(1, len(rows) - 1)  # noqa: E731
        lines += [
            f"**{a}**, seconds per notebook (mean of notebooks 2 to {len(w)}; the first: "
            f"{b[0]['total']:.2f} s before, {w[0]['total']:.2f} s after, which starts the fork server):",
            "",
            f"| phase | before (`{baseline}`) | after (warm kernels) |",
            "|---|---:|---:|",
        ]
        lines += [f"| {label} | {mean(b, key):.2f} | {mean(w, key):.2f} |" for label, key in PHASES]
        lines += [f"| **total** | **{total(b):.2f}** | **{total(w):.2f}** ({total(w) / total(b):.2f}x) |", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import lstm_course as course
    from scripts.bench_sandbox import _positive, build_submissions

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=_positive, default=4)
    ap.add_argument("--assignments", nargs="+", default=["shapes", "stateful"])
    ap.add_argument("--baseline", default=BASELINE)
    args = ap.parse_args(argv)
    root = course.find_root(None)
    with tempfile.TemporaryDirectory(prefix="profile-grading-") as tmp:
        work = Path(tmp)
        code = export_baseline(root, args.baseline, work / "baseline-code")
        subs = work / "subs"
        for a in args.assignments:  # laid out <assignment>/<student>/<nb> for the runner
            build_submissions(root, work / "flat", args.students, [a])
            for nb in (work / "flat").glob(f"*/{a}/*.ipynb"):
                dest = subs / a / nb.parent.parent.name / nb.name
                dest.parent.mkdir(parents=True, exist_ok=True)
                nb.replace(dest)
        before = profile(root, subs, code)
        after = profile(root, subs, None)
    print(table(before, after, args.assignments, args.baseline))
    return 0


if __name__ == "__main__":
    sys.exit(main())
