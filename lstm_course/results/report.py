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
  passed (full points), failed, of those left blank (the answer still raises ``NotImplementedError``:
  misconception ``no-answer``), pass rate, mean points, the misconceptions of its other failures as
  ``id:count; id:count`` and how many of them matched none;
- ``OUT/report.html``: one page that works offline (inline CSS, figures as inline SVG drawn by
  matplotlib with Agg, no script, no link): a summary per assignment (with the submissions handed in
  blank), the score distributions, the pass rate of every test cell (red under
  :data:`PASS_AMBER`, amber from it, green from :data:`PASS_GREEN`), the misconceptions behind each
  failing check in words with counts ("38% (19 of 50) read h_n / c_n as batch-first ..."), blank
  answers counted apart from wrong ones, a student x misconception table, the failures that match none
  with their most common messages (shortened at a word, :func:`shorten`), the slowest submissions and
  every NOT GRADED one with its reason. Messages and reasons carry student-influenced text: everything
  from the data is HTML-escaped.
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

__all__ = [
    "Item",
    "Report",
    "read_results",
    "read_gradebook",
    "write_report",
    "shorten",
    "pass_colour",
    "score_figure",
    "pass_rate_figure",
]

CSV_FIELDS = (
    "assignment notebook cell max_points submissions passed failed blank pass_rate mean_points "
    "misconceptions unmatched"
).split()
BLANK = "no-answer"  # the misconception of an answer left as released: shown apart from wrong answers
MESSAGE_CHARS = 300  # an unmatched message is shortened to this, at a word boundary

#: Pass-rate colours: red below PASS_AMBER, amber from PASS_AMBER, green from PASS_GREEN. Half the class
#: failing a check is a point to take up again, not a success: 50 % is amber, never green.
PASS_AMBER, PASS_GREEN = 0.5, 0.8
RED, AMBER, GREEN = "#d8573b", "#e3a21a", "#2e9e5b"


def pass_colour(rate: float) -> str:
    """The colour of a pass rate (0 to 1) on the report's scale.

    >>> pass_colour(0.49) == RED, pass_colour(0.5) == AMBER, pass_colour(0.79) == AMBER, pass_colour(0.8) == GREEN
    (True, True, True, True)
    """
    return GREEN if rate >= PASS_GREEN else AMBER if rate >= PASS_AMBER else RED


def shorten(text: str, limit: int = MESSAGE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, ``…`` marking the cut.

    A single word longer than ``limit`` is cut inside it (there is no boundary to keep).

    >>> shorten("the state is never batch-first", 20)
    'the state is never…'
    >>> shorten("short enough", 20)
    'short enough'
    """
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]  # room for the ellipsis
    if not text[limit - 1].isspace() and re.search(r"\s", cut):
        cut = re.sub(r"\s+\S*\Z", "", cut)  # drop the word the limit falls in
    return cut.rstrip(" \t\n,;:") + "…"


@dataclass
class Item:
    """One test cell of one assignment across the class (a row of ``items.csv``)."""

    assignment: str
    notebook: str
    cell: str
    max_points: float
    points: dict[str, float]  # student -> points, from the gradebook
    misconceptions: Counter = field(default_factory=Counter)  # id -> failed submissions showing it
    blank: int = 0  # failed submissions whose answer was left blank (no-answer): not counted as wrong
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
            "blank": self.blank,
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
            found = set(c.get("misconceptions", []))
            if BLANK in found:
                by_key[key].blank += 1
            elif found:
                by_key[key].misconceptions.update(found)
            else:
                by_key[key].unmatched[shorten(c.get("message", ""))] += 1
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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def score_figure(scores: dict):
    """The score histograms, one panel per assignment: a matplotlib Figure whose count axis (submissions)
    and score axis have whole-number ticks."""
    from matplotlib.ticker import MaxNLocator

    plt = _pyplot()
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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle("Score distribution per assignment", y=1.04)
    return fig


def pass_rate_figure(items: list[Item]):
    """One bar per test cell with graded submissions, its pass rate in %, coloured by :func:`pass_colour`."""
    plt = _pyplot()
    rows = [i for i in items if i.submissions]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * max(len(rows), 1) + 1.2))
    ax.barh(
        range(len(rows)), [100 * i.pass_rate for i in rows], color=[pass_colour(i.pass_rate) for i in rows]
    )
    ax.set_yticks(range(len(rows)), [f"{i.assignment}: {i.cell}" for i in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set(
        xlim=(0, 100), xlabel="% of graded submissions with full points", title="Pass rate of every test cell"
    )
    return fig


def _figures(scores: dict, items: list[Item]) -> tuple[str, str]:
    """The two figures as inline SVG."""
    plt = _pyplot()
    found = []
    for fig, name in ((score_figure(scores), "scores"), (pass_rate_figure(items), "passrate")):
        found.append(_svg(fig, name))
        plt.close(fig)
    return found[0], found[1]


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
span.rate { padding: 0 0.4em; border-radius: 0.2em; color: #fff; }
p.blank { margin: 0.2em 0 0.8em; color: #555; }
""" + "".join(
    f"span.{name} {{ background: {colour}; }}\n"
    for name, colour in (("red", RED), ("amber", AMBER), ("green", GREEN))
)
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


def _rate(item: Item) -> str:
    """The pass rate as a coloured badge: ``<span class="rate amber">50%</span>``; "–" with no submission."""
    if not item.submissions:
        return "–"
    name = {RED: "red", AMBER: "amber", GREEN: "green"}[pass_colour(item.pass_rate)]
    return f'<span class="rate {name}">{100 * item.pass_rate:.0f}%</span>'


def _graded(r: dict, scores: dict) -> bool:
    """A result the gradebook holds as graded (the only ones counted for misconceptions)."""
    return r["status"] == "graded" and r["student"] in scores.get(r["assignment"], {})


def _failed(r: dict) -> list[dict]:
    return [c for c in r.get("cells", []) if not c["passed"]]


def _all_blank(r: dict) -> bool:
    """Handed in as released: every test cell failed, each with its answer left blank."""
    cells = r.get("cells", [])
    return bool(cells) and all(not c["passed"] and BLANK in c.get("misconceptions", []) for c in cells)


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
        f"<p>Pass rate: <span class='rate red'>under {PASS_AMBER:.0%}</span> "
        f"<span class='rate amber'>{PASS_AMBER:.0%} to {PASS_GREEN:.0%}</span> "
        f"<span class='rate green'>{PASS_GREEN:.0%} or more</span>. A failed check whose answer was left "
        "blank (it still raises <code>NotImplementedError</code>) is counted as blank, not as wrong.</p>",
        _table(
            [
                "assignment",
                "notebook",
                "test cell",
                "points",
                "graded",
                "passed",
                "wrong",
                "blank",
                "pass rate",
            ],
            [
                [esc(i.assignment), esc(i.notebook), f"<code>{esc(i.cell)}</code>", f"{i.max_points:g}"]
                + [i.submissions, i.passed, i.submissions - i.passed - i.blank, i.blank, _rate(i)]
                for i in items
            ],
            {3, 4, 5, 6, 7, 8},
        ),
        *_class_misconceptions(names, by_a, scores),
        *_students(names, by_a, scores),
        *_failing_checks(items),
        *_integrity(results),
        *_slow_and_broken(results),
        "</body></html>",
    ]
    return "\n".join(parts)


def _summary_table(names: list[str], by_a: dict[str, list[dict]], scores: dict) -> str:
    """Per assignment: submissions, graded, of those handed in blank, not graded, mean score out of the top mark."""
    summary = []
    for a in names:
        graded = scores.get(a, {})
        students = {r["student"] for r in by_a[a]} | set(graded)
        blank = sum(_graded(r, scores) and _all_blank(r) for r in by_a[a])
        not_graded = sum(r["status"] != "graded" for r in by_a[a])
        mean = sum(s for s, _ in graded.values()) / len(graded) if graded else 0.0
        top = max((m for _, m in graded.values()), default=0.0)
        mean_text = f"{mean:.2f} / {top:g}" if graded else "–"
        summary.append([esc(a), len(students), len(graded), blank, not_graded, mean_text])
    head = ["assignment", "submissions", "graded", "of which handed in blank", "not graded", "mean score"]
    return _table(head, summary, {1, 2, 3, 4, 5})


def _class_misconceptions(names: list[str], by_a: dict[str, list[dict]], scores: dict) -> list[str]:
    """Per assignment, the share of graded submissions showing each misconception in a failed check, and
    apart from them, how many left answers blank."""
    parts = [
        "<h2>Misconceptions across the class</h2>",
        "<p>Graded submissions with at least one failed check showing each misconception. Answers left "
        "blank are counted apart: a blank answer shows no misconception.</p>",
    ]
    for a in names:
        n = len(scores.get(a, {}))
        graded = [r for r in by_a[a] if _graded(r, scores)]
        who = Counter()
        for r in graded:
            who.update({m for c in _failed(r) for m in c.get("misconceptions", [])} - {BLANK})
        some_blank = sum(any(BLANK in c.get("misconceptions", []) for c in _failed(r)) for r in graded)
        if who or some_blank:
            parts.append(f"<h3>{esc(a)} ({n} graded)</h3>")
            parts += [_share(mid, k, n) for mid, k in who.most_common()]
        if some_blank:
            whole = sum(map(_all_blank, graded))
            parts.append(
                f'<p class="blank"><b>{some_blank} of {n}</b> left at least one answer blank '
                f"(<code>NotImplementedError</code>); {whole} of them handed the whole notebook in blank.</p>"
            )
    return parts


def _students(names: list[str], by_a: dict[str, list[dict]], scores: dict) -> list[str]:
    """Per assignment, one row per graded student: their score, their blank answers, and for each
    misconception the number of their failed checks showing it."""
    parts = [
        "<h2>Students and misconceptions</h2>",
        "<p>For each graded student, the number of failed checks showing each misconception (empty: none), "
        "the answers left blank, and the failed checks that matched no known misconception.</p>",
    ]
    for a in names:
        graded = sorted((r for r in by_a[a] if _graded(r, scores)), key=lambda r: r["student"])
        shown = Counter(
            m for r in graded for c in _failed(r) for m in set(c.get("misconceptions", [])) - {BLANK}
        )
        if not shown and not any(_failed(r) for r in graded):
            continue
        ids = [mid for mid, _ in shown.most_common()]
        head = [
            "student",
            "score",
            "blank",
            *(f'<code title="{esc(describe(m))}">{esc(m)}</code>' for m in ids),
        ]
        rows = []
        for r in graded:
            seen = Counter(m for c in _failed(r) for m in set(c.get("misconceptions", [])))
            none = sum(not c.get("misconceptions") for c in _failed(r))
            score = scores[a][r["student"]]
            rows.append(
                [esc(r["student"]), f"{score[0]:g} / {score[1]:g}", seen[BLANK] or ""]
                + [seen[m] or "" for m in ids]
                + [none or ""]
            )
        numeric = set(range(1, len(ids) + 4))
        parts += [f"<h3>{esc(a)}</h3>", _table([*head, "no match"], rows, numeric)]
    return parts


def _failing_checks(items: list[Item]) -> list[str]:
    """Per test cell that failed: the misconceptions its messages showed, the blank answers, and the
    unmatched messages."""
    parts = ["<h2>What each failing check reveals</h2>"]
    for i in items:
        if not i.misconceptions and not i.unmatched and not i.blank:
            continue
        n = i.submissions
        parts.append(
            f"<h3>{esc(i.assignment)}: <code>{esc(i.cell)}</code> ({n - i.passed} of {n} graded submissions failed)</h3>"
        )
        parts += [_share(mid, k, n) for mid, k in i.misconceptions.most_common()]
        if i.blank:
            parts.append(
                f'<p class="blank"><b>{i.blank} of {n}</b> left the answer blank (not counted as wrong)</p>'
            )
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
        ]
        for r in slow
    ]
    broken = [r for r in results if r["status"] != "graded"]
    return [
        "<h2>Slowest submissions</h2>",
        _table(["student", "assignment", "seconds", "status"], rows, {2}),
        "<h2>Not graded</h2>",
        _table(
            ["student", "assignment", "reason"],
            [[esc(r["student"]), esc(r["assignment"]), esc(r.get("reason", ""))] for r in broken],
        )
        if broken
        else "<p>Every submission was graded.</p>",
    ]
