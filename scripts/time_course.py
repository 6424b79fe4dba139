"""Measure how long the course takes to run, for the instructor guide's plans: ``book/_static/timings.json``.

What is measured (wall-clock seconds, on this machine, as it is):

- every page of the book in ``book/_toc.yml`` (the "For instructors" part left out: it reads this file),
  converted from its MyST source with jupytext and executed with nbclient in a **fresh kernel**, in
  ``book/`` (as the book build runs it), so a cold ``import torch`` / ``import tensorflow`` is counted,
  as a student running the chapter's notebook top to bottom would see it. Not read from the book's
  jupyter-cache: that holds only the chapters changed since the last build, and a cached chapter keeps
  the time of whatever machine ran it;
- every assignment's solution notebook (``solutions/<a>/<a>.ipynb``, hidden tests included), executed
  the same way in its own folder: a student's final *Restart & Run All*;
- ``lstm-course --root . check <a>`` per assignment, in a subprocess (``--no-check`` skips it): the
  instructor's round trip (generate the release, autograde the solution and the blank release).

The machine's CPU count, load averages before and after, Python and framework versions are recorded
with the date. The items run one after the other; the machine may be shared with other work, so the
times are an upper bound for a quiet machine of the same kind.

    .venv/bin/python -m scripts.time_course                      # everything (about 10 minutes on 2 cores)
    .venv/bin/python -m scripts.time_course --no-check --only 01_recurrence shapes   # a few items, merged
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from scripts import book_module

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
_plan = book_module("instructor_plan")  # book/instructor_plan.py: what the guide needs
OUT, assignments, toc_pages = _plan.TIMINGS, _plan.assignments, _plan.toc_pages

CELL_TIMEOUT = 900  # catches a hang, not a slow machine (book/_config.yml says why)


def run_notebook(nb: nbformat.NotebookNode, cwd: Path) -> float:
    """Execute ``nb`` in a new python3 kernel started in ``cwd``; return the wall-clock seconds.

    Cells tagged ``raises-exception`` may fail (nbclient's rule, as in the book); any other error raises.
    """
    client = NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    )
    t0 = time.perf_counter()
    client.execute()
    return time.perf_counter() - t0


def time_page(name: str) -> dict:
    """Seconds to run one book page from a fresh kernel, and its number of code cells."""
    nb = jupytext.read(BOOK / f"{name}.md", fmt="md:myst")
    code = sum(c.cell_type == "code" for c in nb.cells)
    return {"run_s": round(run_notebook(nb, BOOK), 2), "code_cells": code}


CHECK_ROW = re.compile(
    r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+([\d.]+)s\s+([\d.]+)s\s+([\d.]+)s\s+(yes|NO)\s*$", re.M
)


def time_assignment(name: str, with_check: bool) -> dict:
    """Seconds to run the solution notebook, and (``with_check``) ``lstm-course check`` for it."""
    folder = ROOT / "solutions" / name
    nb = nbformat.read(folder / f"{name}.ipynb", as_version=4)
    row = {"solution_run_s": round(run_notebook(nb, folder), 2)}
    if with_check:
        cli = Path(sys.executable).with_name("lstm-course")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [str(cli), "--root", str(ROOT), "check", name], capture_output=True, text=True, timeout=3600
        )
        took = time.perf_counter() - t0
        m = CHECK_ROW.search(proc.stdout)
        if proc.returncode or not m or m.group(1) != name or m.group(8) != "yes":
            raise RuntimeError(
                f"lstm-course check {name} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
            )
        row |= {
            "check_s": round(took, 2),
            "check_generate_s": float(m.group(5)),
            "check_grade_solution_s": float(m.group(6)),
            "check_grade_blank_s": float(m.group(7)),
        }
    return row


def version(dist: str) -> str | None:
    """The installed version of ``dist``, or None."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine() -> dict:
    """What the times were measured on."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "cpu_count": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "cpu_model": model,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": version("torch"),
        "tensorflow": version("tensorflow") or version("tensorflow-cpu"),
        "keras": version("keras"),
        "nbclient": version("nbclient"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=OUT, help=f"JSON to write (default: {OUT.relative_to(ROOT)})")
    ap.add_argument("--only", nargs="+", help="pages or assignments to (re)measure; merged into --out")
    ap.add_argument("--no-check", action="store_true", help="do not time `lstm-course check`")
    ap.add_argument("--note", default="", help="a note on the machine's state (e.g. 'shared, 2 cores')")
    args = ap.parse_args(argv)

    pages, tasks = toc_pages(), assignments()
    if args.only:
        unknown = set(args.only) - set(pages) - set(tasks)
        if unknown:
            ap.error(f"unknown items {sorted(unknown)}; known: {pages + tasks}")
        pages = [p for p in pages if p in args.only]
        tasks = [a for a in tasks if a in args.only]
    old = json.loads(args.out.read_text()) if args.only and args.out.is_file() else {}
    load_before = os.getloadavg()
    chapters = dict(old.get("chapters", {}))
    exercises = dict(old.get("exercises", {}))
    t0 = time.perf_counter()
    for k, name in enumerate(pages, 1):
        chapters[name] = time_page(name)
        print(f"[{k}/{len(pages)}] page {name}: {chapters[name]['run_s']:.1f} s", flush=True)
    for k, name in enumerate(tasks, 1):
        exercises[name] = time_assignment(name, not args.no_check)
        print(f"[{k}/{len(tasks)}] assignment {name}: {exercises[name]}", flush=True)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "method": (
            "wall-clock seconds; each book page converted with jupytext and executed by nbclient in a fresh "
            "python3 kernel in book/; each solution notebook executed the same way in its folder; "
            "`lstm-course check <a>` timed as a subprocess. Items run one after the other."
        ),
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "note": args.note,
        "total_s": round(time.perf_counter() - t0, 1),
        "chapters": {name: chapters[name] for name in toc_pages() if name in chapters},
        "exercises": {name: exercises[name] for name in assignments() if name in exercises},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out} ({result['total_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
