"""The class report: what a class got right, what it got wrong, and which misconception each failure shows.

``write_report(OUT)`` reads what ``lstm-course grade`` wrote to ``OUT``:

- the gradebook (``db_url``, default ``sqlite:///OUT/gradebook.db``), only through nbgrader's
  :class:`nbgrader.api.Gradebook`. It holds the graded submissions: every score and the points of
  every test cell, so every count, score and pass rate comes from it;
- the results ``OUT/results/<student>/<assignment>.json``, one per submission: ``status`` ("graded" or
  "not graded") and ``reason``, ``seconds``, ``worker``, and per test cell (``cells``) whether it
  passed, its redacted ``message`` and the ``misconceptions`` ids that
  :func:`lstm_course.results.misconceptions.classify` found in it. Only the results of submissions the gradebook
  holds as graded are counted for misconceptions.

and writes:

- ``OUT/items.csv``: one row per (assignment, notebook, test cell): max points, graded submissions,
  passed (full points), failed, pass rate, mean points, the misconceptions of its failures as
  ``id:count; id:count`` and how many failures matched none;
- ``OUT/report.html``: one page that works offline (inline CSS, figures as inline SVG drawn by
  matplotlib with Agg, no script, no link): a summary per assignment, the score distributions, the pass
  rate of every test cell, the misconceptions behind each failing check in words with counts
  ("38% (19 of 50) read h_n / c_n as batch-first ..."), the failures that match none with their most
  common messages, the slowest submissions and every NOT GRADED one with its reason. Messages and
  reasons carry student-influenced text: everything from the data is HTML-escaped.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lstm_course.course import ORDER
from lstm_course.results.misconceptions import describe

__all__ = ["Item", "Report", "read_results", "read_gradebook", "write_report"]

CSV_FIELDS = (
    "assignment notebook cell max_points submissions passed failed pass_rate mean_points "
    "misconceptions unmatched"
).split()


@dataclass
class Item:
    """One test cell of one assignment across the class (a row of ``items.csv``)."""

    assignment: str
    notebook: str
    cell: str
    max_points: float
    points: dict[str, float]  # student -> points, from the gradebook
    misconceptions: Counter = field(default_factory=Counter)  # id -> failed submissions showing it
    unmatched: Counter = field(default_factory=Counter)  # message -> failed submissions matching no id

    @property
    def submissions(self) -> int:
        return len(self.points)

    @property
    def passed(self) -> int:
        return sum(p == self.max_points for p in self.points.values())

    @property
    def pass_rate(self) -> float:
        return self.passed / self.submissions if self.submissions else 0.0

    @property
    def mean_points(self) -> float:
        return sum(self.points.values()) / self.submissions if self.submissions else 0.0

    def row(self) -> dict:
        """The ``items.csv`` row."""
        return {
            "assignment": self.assignment,
            "notebook": self.notebook,
            "cell": self.cell,
            "max_points": f"{self.max_points:g}",
            "submissions": self.submissions,
            "passed": self.passed,
            "failed": self.submissions - self.passed,
            "pass_rate": f"{self.pass_rate:.4f}",
            "mean_points": f"{self.mean_points:.4f}",
            "misconceptions": "; ".join(f"{k}:{v}" for k, v in self.misconceptions.most_common()),
            "unmatched": sum(self.unmatched.values()),
        }


@dataclass
class Report:
    html: Path
    items_csv: Path
    items: list[Item]


def read_results(out: Path) -> list[dict]:
    """Every ``OUT/results/<student>/<assignment>.json``, sorted by (student, assignment)."""
    found = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(out).glob("results/*/*.json"))]
    return sorted(found, key=lambda r: (r["student"], r["assignment"]))


def read_gradebook(db_url: str) -> tuple[dict[str, dict[str, tuple[float, float]]], list[Item]]:
    """``{assignment: {student: (score, max_score)}}`` and one :class:`Item` per test cell (no results yet),
    from :func:`lstm_course.gradebook.class_results`."""
    from lstm_course.gradebook import class_results  # lazy: nbgrader is the course extra

    found, cells = class_results(db_url)
    scores = {a: {s: (sc.score, sc.max_score) for s, sc in got.items()} for a, got in found.items()}
    return scores, [Item(c.assignment, c.notebook, c.cell, c.max_points, dict(c.points)) for c in cells]


def _rank(assignment: str) -> tuple[int, str]:
    return (ORDER.index(assignment) if assignment in ORDER else len(ORDER), assignment)


def write_report(out: Path, db_url: str | None = None, progress: bool = False) -> Report:
    """Write ``OUT/items.csv`` and ``OUT/report.html`` (see the module docstring); return them and the items.

    ``progress`` prints what is read and written to stderr.
    """
    from lstm_course.gradebook import normalize_url  # the grader's URL rule: the same gradebook

    out = Path(out)
    db_url = normalize_url(db_url or f"sqlite:///{out / 'gradebook.db'}")
    say = (lambda msg: print(f"report: {msg}", file=sys.stderr)) if progress else (lambda msg: None)
    results = read_results(out)
    scores, items = read_gradebook(db_url)
    say(f"{len(results)} results, {sum(map(len, scores.values()))} graded submissions in the gradebook")
    by_key = {(i.assignment, i.notebook, i.cell): i for i in items}
    position: dict[tuple, int] = {}  # a cell's place in its notebook: the results list them in order
    for r in results:
        if r["status"] != "graded" or r["student"] not in scores.get(r["assignment"], {}):
            continue  # misconceptions are counted over the graded submissions only
        for k, c in enumerate(r.get("cells", [])):
            key = (r["assignment"], c["notebook"], c["name"])
            position.setdefault(key, k)
            if key not in by_key or c["passed"]:
                continue
            if c.get("misconceptions"):
                by_key[key].misconceptions.update(set(c["misconceptions"]))
            else:
                by_key[key].unmatched[c.get("message", "")[:300]] += 1
    items.sort(
        key=lambda i: (
            _rank(i.assignment),
            i.notebook,
            position.get((i.assignment, i.notebook, i.cell), 1e9),
            i.cell,
        )
    )
    items_csv = out / "items.csv"
    with open(items_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(i.row() for i in items)
    page = out / "report.html"
    page.write_text(_page(results, scores, items), encoding="utf-8")
    say(f"wrote {page} and {items_csv} ({len(items)} test cells)")
    return Report(page, items_csv, items)


# --------------------------------------------------------------------------- figures


def _svg(fig, name: str) -> str:
    """``fig`` as inline SVG: no XML prologue, no metadata, no namespace URLs, ids unique to ``name``."""
    buf = io.StringIO()
    fig.savefig(
        buf, format="svg", bbox_inches="tight", metadata=dict.fromkeys(("Creator", "Date", "Format", "Type"))
    )
    text = buf.getvalue()
    text = re.sub(r' xmlns(:xlink)?="[^"]*"', "", text[text.index("<svg") :])
    text = re.sub(r'\bid="', f'id="{name}-', text)  # two figures on one page: no id twice
    return text.replace('href="#', f'href="#{name}-').replace("url(#", f"url(#{name}-")


def _figures(scores: dict, items: list[Item]) -> tuple[str, str]:
    """The score histograms (one panel per assignment) and the pass-rate bars, as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = sorted(scores, key=_rank) or ["(no assignment)"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.6), squeeze=False)
    for ax, a in zip(axes[0], names, strict=True):
        got = list(scores.get(a, {}).values())
        top = max((m for _, m in got), default=1.0)
        ax.hist(
            [s for s, _ in got],
            bins=[x - 0.5 for x in range(int(top) + 2)],
            color="#3b7dd8",
            edgecolor="white",
        )
        ax.set(title=f"{a} (n = {len(got)})", xlabel="score", ylabel="submissions")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Score distribution per assignment", y=1.04)
    hist = _svg(fig, "scores")
    plt.close(fig)
    rows = [i for i in items if i.submissions]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * max(len(rows), 1) + 1.2))
    rates = [100 * i.pass_rate for i in rows]
    ax.barh(range(len(rows)), rates, color=["#2e9e5b" if r >= 50 else "#d8573b" for r in rates])
    ax.set_yticks(range(len(rows)), [f"{i.assignment}: {i.cell}" for i in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set(
        xlim=(0, 100), xlabel="% of graded submissions with full points", title="Pass rate of every test cell"
    )
    bars = _svg(fig, "passrate")
    plt.close(fig)
    return hist, bars


# --------------------------------------------------------------------------- the page

_CSS = """
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; }
code { background: #f3f3f3; padding: 0 0.2em; }
p.mis { margin: 0.2em 0; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
"""
esc = html.escape


def _table(head: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    """A table; cells are already-escaped HTML, except numbers (right-aligned in ``numeric`` columns)."""
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if k in numeric else f"<td>{c}</td>" for k, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _share(mid: str, count: int, n: int) -> str:
    """ "38% (19 of 50) <words> [id]"."""
    pct = 100 * count / n if n else 0.0
    return f'<p class="mis"><b>{pct:.0f}% ({count} of {n})</b> {esc(describe(mid))} <small>[{esc(mid)}]</small></p>'


def _page(results: list[dict], scores: dict, items: list[Item]) -> str:
    """The whole report page: summary, pass rates, misconceptions, integrity, slowest and not-graded
    submissions."""
    by_a: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_a[r["assignment"]].append(r)
    names = sorted(set(by_a) | set(scores), key=_rank)
    hist, bars = _figures(scores, items)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Class report: LSTM-shapes exercises</title><style>{_CSS}</style></head><body>",
        "<h1>Class report</h1>",
        f"<p>{len(results)} submissions with results; scores and pass rates from the gradebook (graded "
        "submissions only); misconceptions from the messages of the failed checks.</p>",
        "<h2>Summary</h2>",
        _summary_table(names, by_a, scores),
        f"<figure>{hist}</figure>",
        "<h2>Pass rate of every test cell</h2>",
        f"<figure>{bars}</figure>",
        _table(
            ["assignment", "notebook", "test cell", "points", "graded", "passed", "pass rate"],
            [
                [esc(i.assignment), esc(i.notebook), f"<code>{esc(i.cell)}</code>", f"{i.max_points:g}"]
                + [i.submissions, i.passed, f"{100 * i.pass_rate:.0f}%" if i.submissions else "–"]
                for i in items
            ],
            {3, 4, 5, 6},
        ),
        *_class_misconceptions(names, by_a, scores),
        *_failing_checks(items),
        *_integrity(results),
        *_slow_and_broken(results),
        "</body></html>",
    ]
    return "\n".join(parts)


def _summary_table(names: list[str], by_a: dict[str, list[dict]], scores: dict) -> str:
    """Per assignment: submissions, graded, not graded, mean score out of the top mark."""
    summary = []
    for a in names:
        graded = scores.get(a, {})
        students = {r["student"] for r in by_a[a]} | set(graded)
        not_graded = sum(r["status"] != "graded" for r in by_a[a])
        mean = sum(s for s, _ in graded.values()) / len(graded) if graded else 0.0
        top = max((m for _, m in graded.values()), default=0.0)
        mean_text = f"{mean:.2f} / {top:g}" if graded else "–"
        summary.append([esc(a), len(students), len(graded), not_graded, mean_text])
    return _table(["assignment", "submissions", "graded", "not graded", "mean score"], summary, {1, 2, 3, 4})


def _class_misconceptions(names: list[str], by_a: dict[str, list[dict]], scores: dict) -> list[str]:
    """Per assignment, the share of graded submissions showing each misconception in a failed check."""
    parts = [
        "<h2>Misconceptions across the class</h2>",
        "<p>Graded submissions with at least one failed check showing each misconception.</p>",
    ]
    for a in names:
        n = len(scores.get(a, {}))
        who = Counter()
        for r in by_a[a]:
            if r["status"] == "graded" and r["student"] in scores.get(a, {}):
                who.update(
                    {m for c in r.get("cells", []) if not c["passed"] for m in c.get("misconceptions", [])}
                )
        if who:
            parts.append(f"<h3>{esc(a)} ({n} graded)</h3>")
            parts += [_share(mid, k, n) for mid, k in who.most_common()]
    return parts


def _failing_checks(items: list[Item]) -> list[str]:
    """Per test cell that failed: the misconceptions its messages showed, and the unmatched messages."""
    parts = ["<h2>What each failing check reveals</h2>"]
    for i in items:
        if not i.misconceptions and not i.unmatched:
            continue
        n = i.submissions
        parts.append(
            f"<h3>{esc(i.assignment)}: <code>{esc(i.cell)}</code> ({n - i.passed} of {n} graded submissions failed)</h3>"
        )
        parts += [_share(mid, k, n) for mid, k in i.misconceptions.most_common()]
        if i.unmatched:
            parts.append(
                f'<p class="mis"><b>{sum(i.unmatched.values())} of {n}</b>: no known misconception matched; '
                "the most common messages:</p><ul>"
            )
            parts += [f"<li>{k} × <code>{esc(msg)}</code></li>" for msg, k in i.unmatched.most_common(3)]
            parts.append("</ul>")
    return parts


def _integrity(results: list[dict]) -> list[str]:
    """Every flagged submission: what the integrity checks found (nothing is decided for the instructor)."""
    flagged = [r for r in results if r.get("integrity")]
    parts = [
        "<h2>Integrity</h2>",
        "<p>Submissions whose code reached for what the tests rely on (static screen of the source, the "
        "kernel guard, the grader's cross-checks of the kernel's replies). Changes made before a test were "
        "undone and the test ran on the restored kernel; a test whose checks were changed while it ran "
        "scored 0. Nothing else was decided: review each one.</p>",
    ]
    if not flagged:
        return [*parts, "<p>No submission was flagged.</p>"]
    rows = [
        [
            esc(r["student"]),
            esc(r["assignment"]),
            esc(r["status"]),
            "<br>".join(esc(f) for f in r["integrity"][:30])
            + (f"<br>… {len(r['integrity']) - 30} more" if len(r["integrity"]) > 30 else ""),
        ]
        for r in flagged
    ]
    return [*parts, _table(["student", "assignment", "status", "what was found"], rows)]


def _slow_and_broken(results: list[dict]) -> list[str]:
    """The ten slowest submissions, then every submission not graded, with its reason."""
    slow = sorted((r for r in results if r.get("seconds")), key=lambda r: -r["seconds"])[:10]
    rows = [
        [
            esc(r["student"]),
            esc(r["assignment"]),
            f"{r['seconds']:.1f}",
            esc(r["status"]),
            esc(r.get("worker", "")),
        ]
        for r in slow
    ]
    broken = [r for r in results if r["status"] != "graded"]
    return [
        "<h2>Slowest submissions</h2>",
        _table(["student", "assignment", "seconds", "status", "worker"], rows, {2}),
        "<h2>Not graded</h2>",
        _table(
            ["student", "assignment", "reason"],
            [[esc(r["student"]), esc(r["assignment"]), esc(r.get("reason", ""))] for r in broken],
        )
        if broken
        else "<p>Every submission was graded.</p>",
    ]
