"""The ``lstm-course`` command: release, check and grade the course's nbgrader exercises.

It works from an installed wheel as well as from a checkout: everything it reads is named by
:data:`NEEDS` (also printed by ``lstm-course --help``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from lstm_course.course import find_root
from lstm_course.sandbox.bwrap import Limits

NEEDS = (
    "release, check and grade read a course root (--root DIR, else the current folder or the nearest "
    "parent that is one): nbgrader_config.py and solutions/<assignment>/*.ipynb. release writes "
    "exercises/<assignment>/ there and updates book/exercises.md only if the root has it. report reads "
    "only its --out folder; validate reads nbgrader_config.py and exercises/ above the notebook. Needs the course extra (pip install 'lstm_ref[course]': nbgrader, Dask); "
    "grade also needs bubblewrap (bwrap) unless --no-sandbox."
)


def parse_size(text: str) -> int:
    """Bytes from ``2G``, ``512M``, ``64K`` or a plain number.

    >>> parse_size("2G"), parse_size("512M"), parse_size("1000")
    (2147483648, 536870912, 1000)
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", text, re.I)
    if not m:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 2G, 512M, 1000000)")
    power = " KMGT".index(m.group(2).upper() or " ")
    return int(float(m.group(1)) * 1024**power)


def _add_grade(sub) -> None:
    """The ``grade`` command and its limits (defaults from :class:`~lstm_course.sandbox.bwrap.Limits`)."""
    p = sub.add_parser(
        "grade",
        help="autograde a folder <student>/<assignment>/<notebook>.ipynb, every kernel sandboxed",
        description="Autograde a class. Every student kernel runs in a bubblewrap sandbox: no network, "
        "its own pid namespace and uid, an empty environment, a read-only system, no view of the "
        "course, the gradebook or other submissions, and caps on memory, processes, CPU and time.",
    )
    p.add_argument("submissions", help="folder of submissions")
    p.add_argument("--out", default="grades", help="output folder (default: grades)")
    p.add_argument("--db", dest="db_url", help="gradebook URL (default: sqlite:///OUT/gradebook.db)")
    p.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run student code with your own rights (DANGEROUS; only for code you trust)",
    )
    d = Limits()
    p.add_argument("--memory", type=parse_size, default=d.memory, help="memory cap per kernel (default: 2G)")
    p.add_argument(
        "--processes", type=int, default=d.processes, help=f"processes + threads (default: {d.processes})"
    )
    p.add_argument(
        "--cpu-time", type=int, default=d.cpu_seconds, help=f"CPU seconds (default: {d.cpu_seconds})"
    )
    p.add_argument(
        "--wall-time",
        type=int,
        default=d.wall_seconds,
        help=f"seconds per notebook (default: {d.wall_seconds})",
    )
    p.add_argument(
        "--cell-timeout",
        type=int,
        help="seconds per cell (default: the course's Execute.timeout in nbgrader_config.py)",
    )
    p.add_argument(
        "--max-output", type=parse_size, default=1 << 20, help="output kept per notebook (default: 1M)"
    )
    p.add_argument("--workers", type=int, help="local Dask worker processes (default: the machine's cores)")
    p.add_argument(
        "--scheduler", help="address of an existing Dask scheduler (tcp://HOST:PORT) instead of local workers"
    )
    p.add_argument("--regrade", action="store_true", help="grade every submission again, changed or not")
    p.add_argument("--report", action="store_true", help="also write OUT/report.html and OUT/items.csv")
    p.add_argument(
        "--kernel-threads",
        type=int,
        default=1,
        help="threads of NumPy/torch/TensorFlow in each kernel (default: 1, one worker per core)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``lstm-course`` argument parser: ``--root`` and the four commands with their options."""
    parser = argparse.ArgumentParser(
        prog="lstm-course",
        description="Release, check and grade the course's nbgrader exercises.",
        epilog=NEEDS,
    )
    parser.add_argument(
        "--root",
        help="course root: a folder with nbgrader_config.py and solutions/ "
        "(default: the current folder or the nearest parent that has both)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "release", help="regenerate exercises/ (each notebook and its Chinese twin) from solutions/"
    )
    p.add_argument("assignment", nargs="*", help="assignments (default: all)")
    p = sub.add_parser(
        "check",
        help="solution scores full marks, blank release scores 0 (each notebook and its Chinese twin)",
    )
    p.add_argument("assignment", nargs="*", help="assignments (default: all)")
    _add_grade(sub)
    p = sub.add_parser(
        "report",
        help="the class report: OUT/report.html and OUT/items.csv from a graded folder",
    )
    p.add_argument("--out", default="grades", help="the folder `grade` wrote (default: grades)")
    p.add_argument("--db", dest="db_url", help="gradebook URL (default: sqlite:///OUT/gradebook.db)")
    p = sub.add_parser(
        "validate",
        help="for students: run a notebook as the grader will (visible tests only) and print the score and notes",
    )
    p.add_argument("notebook", help="the notebook to check, e.g. exercises/shapes/shapes.ipynb")
    p.add_argument("--no-sandbox", action="store_true", help="do not use bubblewrap even when installed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lstm-course`` console script; returns its exit status."""
    args = build_parser().parse_args(argv)
    if args.command == "report":
        return _report(args)
    if args.command == "validate":
        from lstm_course.grading.validate import report, validate

        root = Path(args.root) if args.root else None
        v = validate(Path(args.notebook), root, sandbox=False if args.no_sandbox else None)
        print(report(v))
        return 0 if v.ok else 1
    root = find_root(args.root)
    if args.command == "release":
        from lstm_course.releases import release

        for path in release(root, args.assignment):
            print(f"released {path.relative_to(root)}")
        return 0
    if args.command == "check":
        from lstm_course.releases import check

        rows = check(root, args.assignment)
        return 0 if rows and all(r.ok for r in rows) else 1
    from lstm_course.grading.coordinator import grade

    limits = Limits(
        memory=args.memory,
        processes=args.processes,
        cpu_seconds=args.cpu_time,
        wall_seconds=args.wall_time,
    )
    try:
        res = grade(
            root,
            Path(args.submissions),
            Path(args.out),
            args.db_url,
            sandbox=not args.no_sandbox,
            limits=limits,
            cell_timeout=args.cell_timeout,
            max_output=args.max_output,
            workers=args.workers,
            scheduler=args.scheduler,
            regrade=args.regrade,
            report=args.report,
            kernel_threads=args.kernel_threads,
        )
    except KeyboardInterrupt:
        return 130  # grade() said what was stored; the next run resumes
    if args.report:  # grade() wrote it into OUT: say where, as `lstm-course report` does
        out = Path(args.out).resolve()
        print(f"report: {out / 'report.html'}\nitems: {out / 'items.csv'}")
    return 1 if res.broken else 0


def _report(args: argparse.Namespace) -> int:
    """``lstm-course report``: needs no course root, only the folder ``grade`` wrote."""
    from lstm_course.results.report import write_report

    try:
        rep = write_report(Path(args.out).resolve(), args.db_url)
    except FileNotFoundError as exc:
        print(f"lstm-course report: {exc}", file=sys.stderr)
        return 2
    print(f"report: {rep.html}\nitems: {rep.items_csv}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
