"""The class report: what a class got right, what it got wrong, and which misconception each failure shows.

``write_report(OUT)`` reads what ``lstm-course grade`` wrote to ``OUT``:

- the gradebook (``db_url``, default ``sqlite:///OUT/gradebook.db``) through nbgrader's ``Gradebook``:
  every graded submission's score and the points of every test cell (the counts and pass rates);
- the ledger ``OUT/results/<student>/<assignment>.json``: outcomes (graded or NOT GRADED and why),
  seconds per submission, and per failed test cell the misconception ids that
  :func:`lstm_ref.misconceptions.classify` found in its message;

and writes:

- ``OUT/items.csv``: one row per (assignment, notebook, test cell): max points, graded submissions,
  how many passed (full points), pass rate, mean points, and ``id:count`` of the misconceptions seen;
- ``OUT/report.html``: one page that works offline (inline CSS, figures as inline SVG drawn by
  matplotlib): a summary per assignment, the score distributions, the pass rate of every test cell,
  the misconceptions behind each failing check in words with counts ("38% (19 of 50) read h_n as
  batch-first ..."), the failures that match none with their most common messages, the slowest
  submissions and every NOT GRADED one with its reason. All student-influenced text is escaped.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from lstm_ref.course.common import ORDER
from lstm_ref.misconceptions import describe

__all__ = ["Report", "write_report", "read_ledger"]


@dataclass
class Report:
    html: Path
    items_csv: Path
    items: list[dict]  # the rows of items.csv


def read_ledger(out: Path) -> list[dict]:
    """Every ledger entry under ``OUT/results``, sorted by (student, assignment)."""
    entries = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((out / "results").glob("*/*.json"))]
    return sorted(entries, key=lambda e: (e["student"], e["assignment"]))


def _order(names) -> list[str]:
    return sorted(names, key=lambda a: (ORDER.index(a) if a in ORDER else len(ORDER), a))


def _from_gradebook(
    db_url: str,
) -> tuple[dict[str, list[tuple[str, float, float]]], dict[tuple, list[float]]]:
    """``{assignment: [(student, score, max)]}`` and ``{(assignment, notebook, cell, max): [points]}``."""
    from lstm_ref.course.gradebook import open_gradebook

    subs: dict[str, list] = defaultdict(list)
    cells: dict[tuple, list[float]] = defaultdict(list)
    with open_gradebook(db_url) as gb:
        for a in gb.assignments:
            for nb in a.notebooks:  # every test cell gets a row, even with no submission
                answers = {c.name for c in nb.solution_cells}
                for gc in nb.grade_cells:
                    if gc.name not in answers:
                        cells[a.name, nb.name, gc.name, float(gc.max_score)]
            for sub in gb.assignment_submissions(a.name):
                subs[a.name].append((sub.student.id, float(sub.score), float(sub.max_score)))
                for snb in sub.notebooks:
                    answers = {c.name for c in snb.notebook.solution_cells}
                    for g in snb.grades:
                        if g.name not in answers:
                            cells[a.name, snb.name, g.name, float(g.max_score)].append(float(g.score))
    return subs, cells


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue: the SVG sits inside the HTML


def _figures(subs: dict, items: list[dict]) -> tuple[str, str]:
    """The score histograms and the pass-rate bars, as inline SVG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = _order(subs) or ["(none)"]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 2.6), squeeze=False)
    for ax, a in zip(axes[0], names, strict=True):
        scores = [s for _, s, _ in subs.get(a, [])]
        top = max([m for _, _, m in subs.get(a, [])] or [1.0])
        ax.hist(scores, bins=[x - 0.5 for x in range(int(top) + 2)], color="#3b7dd8", edgecolor="white")
        ax.set_title(f"{a} (n = {len(scores)})")
        ax.set_xlabel("score")
        ax.set_ylabel("submissions")
    fig.suptitle("Score distribution per assignment", y=1.06)
    hist = _svg(fig)
    plt.close(fig)
    rows = [i for i in items if i["submissions"]]
    fig, ax = plt.subplots(figsize=(7.5, 0.28 * max(len(rows), 1) + 1.2))
    labels = [f"{i['assignment']}: {i['cell']}" for i in rows]
    rates = [100 * i["pass_rate"] for i in rows]
    ax.barh(range(len(rows)), rates, color=["#2e9e5b" if r >= 50 else "#d8573b" for r in rates])
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of graded submissions with full points")
    ax.set_title("Pass rate of every test cell")
    bars = _svg(fig)
    plt.close(fig)
    return hist, bars


_CSS = """
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
td.n { text-align: right; }
code { background: #f3f3f3; padding: 0 0.2em; }
.mis { margin: 0.2em 0; }
figure { margin: 1em 0; }
"""


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    th = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{c}</td>' if k in numeric else f"<td>{c}</td>" for k, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def write_report(out: Path, db_url: str | None = None, progress: bool = False) -> Report:
    """Write ``OUT/items.csv`` and ``OUT/report.html`` (see the module docstring); return both and the rows."""
    from lstm_ref.course.gradebook import normalize_url

    out = Path(out)
    db_url = normalize_url(db_url or f"sqlite:///{out / 'gradebook.db'}")
    ledger = read_ledger(out)
    subs, cells = _from_gradebook(db_url)
    seen: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (assignment, cell) -> id counts
    unmatched: dict[tuple[str, str], Counter] = defaultdict(Counter)  # (assignment, cell) -> messages
    for e in ledger:
        if e["status"] != "graded":
            continue
        for c in e.get("cells", []):
            if c["passed"]:
                continue
            if c["misconceptions"]:
                seen[e["assignment"], c["name"]].update(c["misconceptions"])
            else:
                unmatched[e["assignment"], c["name"]][c["message"][:200]] += 1
    position: dict[tuple[str, str], int] = {}  # notebook order, as the ledger lists the test cells
    for e in ledger:
        for k, c in enumerate(e.get("cells", [])):
            position.setdefault((e["assignment"], c["name"]), k)
    rank = {a: k for k, a in enumerate(_order({key[0] for key in cells}))}

    def where(key: tuple) -> tuple:
        a, nb, cell, _ = key
        return rank[a], nb, position.get((a, cell), len(position)), cell

    items = []
    for (a, nb, cell, top), points in sorted(cells.items(), key=lambda kv: where(kv[0])):
        passed = sum(p == top for p in points)
        items.append(
            {
                "assignment": a,
                "notebook": nb,
                "cell": cell,
                "max_points": top,
                "submissions": len(points),
                "passed": passed,
                "pass_rate": passed / len(points) if points else 0.0,
                "mean_points": sum(points) / len(points) if points else 0.0,
                "misconceptions": "; ".join(f"{k}:{v}" for k, v in seen[a, cell].most_common()),
            }
        )
    items_csv = out / "items.csv"
    with open(items_csv, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(items[0]) if items else ["assignment"])
        w.writeheader()
        for i in items:
            w.writerow({**i, "pass_rate": f"{i['pass_rate']:.4f}", "mean_points": f"{i['mean_points']:.4f}"})
    page = _page(ledger, subs, items, seen, unmatched)
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return Report(path, items_csv, items)


def _page(ledger, subs, items, seen, unmatched) -> str:
    esc = html.escape
    by_a: dict[str, list[dict]] = defaultdict(list)
    for e in ledger:
        by_a[e["assignment"]].append(e)
    names = _order(set(by_a) | set(subs))
    summary = []
    for a in names:
        graded = subs.get(a, [])
        mean = sum(s for _, s, _ in graded) / len(graded) if graded else 0.0
        top = graded[0][2] if graded else 0.0
        bad = sum(e["status"] != "graded" for e in by_a.get(a, []))
        summary.append(
            [esc(a), str(len(by_a.get(a, []))), str(len(graded)), str(bad), f"{mean:.2f} / {top:g}"]
        )
    hist, bars = _figures(subs, items)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Class report: LSTM-shapes exercises</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>Class report</h1>",
        f"<p>{len(ledger)} submissions in the ledger; scores and pass rates from the gradebook (graded "
        "submissions only), misconceptions from the messages of the failed checks.</p>",
        "<h2>Summary</h2>",
        _table(["assignment", "submissions", "graded", "not graded", "mean score"], summary, {1, 2, 3, 4}),
        f"<figure>{hist}</figure>",
        "<h2>Pass rate of every test cell</h2>",
        f"<figure>{bars}</figure>",
        _table(
            ["assignment", "test cell", "points", "graded", "passed", "pass rate"],
            [
                [
                    esc(i["assignment"]),
                    f"<code>{esc(i['cell'])}</code>",
                    f"{i['max_points']:g}",
                    str(i["submissions"]),
                    str(i["passed"]),
                    f"{100 * i['pass_rate']:.0f}%",
                ]
                for i in items
            ],
            {2, 3, 4, 5},
        ),
        "<h2>Misconceptions across the class</h2>",
        "<p>Graded submissions with at least one failed check showing each misconception.</p>",
    ]
    for a in names:
        who: Counter = Counter()
        for e in by_a.get(a, []):
            if e["status"] == "graded":
                who.update({m for c in e.get("cells", []) if not c["passed"] for m in c["misconceptions"]})
        n = len(subs.get(a, []))
        if who:
            parts.append(f"<h3>{esc(a)} ({n} graded)</h3>")
            parts += [
                f'<p class="mis"><b>{100 * k / n:.0f}% ({k} of {n})</b> {esc(describe(mid))} <small>[{esc(mid)}]</small></p>'
                for mid, k in who.most_common()
            ]
    parts.append("<h2>What each failing check reveals</h2>")
    for i in items:
        key = (i["assignment"], i["cell"])
        if not seen.get(key) and not unmatched.get(key):
            continue
        n = i["submissions"]
        parts.append(
            f"<h3>{esc(i['assignment'])}: <code>{esc(i['cell'])}</code> ({n - i['passed']} of {n} failed)</h3>"
        )
        for mid, count in seen.get(key, Counter()).most_common():
            pct = 100 * count / n if n else 0.0
            parts.append(
                f'<p class="mis"><b>{pct:.0f}% ({count} of {n})</b> {esc(describe(mid))} <small>[{esc(mid)}]</small></p>'
            )
        for msg, count in unmatched.get(key, Counter()).most_common(3):
            parts.append(
                f'<p class="mis">{count} of {n}: no known misconception matched; the message was '
                f"<code>{esc(msg)}</code></p>"
            )
    slow = sorted((e for e in ledger if e.get("seconds")), key=lambda e: -e["seconds"])[:10]
    parts += [
        "<h2>Slowest submissions</h2>",
        _table(
            ["student", "assignment", "seconds", "status"],
            [
                [esc(e["student"]), esc(e["assignment"]), f"{e['seconds']:.1f}", esc(e["status"])]
                for e in slow
            ],
            {2},
        ),
        "<h2>Not graded</h2>",
    ]
    broken = [e for e in ledger if e["status"] != "graded"]
    parts.append(
        _table(
            ["student", "assignment", "reason"],
            [[esc(e["student"]), esc(e["assignment"]), esc(e.get("reason", ""))] for e in broken],
        )
        if broken
        else "<p>Every submission was graded.</p>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)
