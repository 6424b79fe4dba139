"""How long a grading run has left, from measured seconds per notebook of each assignment.

A class's notebooks are not alike: a TensorFlow assignment costs two to three times a torch-only one
(BENCHMARKS.md). A rate over all submissions (tqdm's own ETA) swings as the mix of finished ones changes;
:class:`Eta` keeps one mean per assignment instead, from the workers' own ``seconds`` (the ledger's, of
this run and of the runs before it), and divides the work left by the workers grading it. Jobs are also
given to the cluster longest first (:meth:`Eta.priority`), so the run does not end on one slow notebook.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

__all__ = ["Eta", "measured", "format_seconds"]


def measured(results: Path) -> dict[str, list[float]]:
    """Seconds per graded notebook by assignment, from the ledger files ``results/<student>/<a>.json``."""
    seen: dict[str, list[float]] = {}
    for path in sorted(results.glob("*/*.json")):
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if entry.get("status") == "graded" and isinstance(entry.get("seconds"), (int, float)):
            seen.setdefault(entry["assignment"], []).append(float(entry["seconds"]))
    return seen


def format_seconds(seconds: float) -> str:
    """``h:mm:ss`` or ``m:ss``.

    >>> format_seconds(75.4), format_seconds(3725)
    ('1:15', '1:02:05')
    """
    s = round(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


class Eta:
    """Seconds left for the jobs not finished yet, from per-assignment means.

    ``assignments``: the assignment of every job of the run; ``prior``: seconds per notebook measured
    before (:func:`measured`); ``workers``: how many grade at once.

    >>> eta = Eta(["shapes"] * 4 + ["stateful"] * 2, workers=2, prior={"stateful": [6.0, 8.0]})
    >>> eta.seconds_left() is None  # nothing known of shapes yet
    True
    >>> eta.done("shapes", 2.0)
    >>> eta.seconds_left()  # (3 shapes x 2 s + 2 stateful x 7 s) / 2 workers
    10.0
    >>> eta.priority("stateful") > eta.priority("shapes")
    True
    """

    def __init__(self, assignments: Iterable[str], workers: int, prior: dict[str, list[float]] | None = None):
        self.left = Counter(assignments)
        self.workers = max(1, workers)
        self.samples = {a: list(v) for a, v in (prior or {}).items()}

    def mean(self, assignment: str) -> float | None:
        got = self.samples.get(assignment)
        return sum(got) / len(got) if got else None

    def done(self, assignment: str, seconds: float | None) -> None:
        """One job of ``assignment`` ended (``seconds``: the worker's time, ``None`` when not measured)."""
        self.left[assignment] -= 1
        if seconds is not None:
            self.samples.setdefault(assignment, []).append(float(seconds))

    def seconds_left(self) -> float | None:
        """The work left over the workers; ``None`` while an assignment with jobs left has no measurement."""
        total = 0.0
        for a, n in self.left.items():
            if n > 0:
                m = self.mean(a)
                if m is None:
                    return None
                total += n * m
        return total / self.workers

    def priority(self, assignment: str) -> int:
        """Dask's ``priority`` for a job of ``assignment``: its expected milliseconds (longest first)."""
        return round(1000 * (self.mean(assignment) or 0.0))

    def describe(self) -> str:
        left = self.seconds_left()
        return "ETA measuring" if left is None else f"ETA {format_seconds(left)}"
