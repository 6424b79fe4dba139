"""The instructor guide's teaching plans, built from measured run times (``_static/timings.json``).

A plan is a list of book chapters and exercises in teaching order. Each row's minutes are computed:

- a chapter: reading its prose at :data:`READ_WPM` words a minute (words counted in its MyST source,
  code cells and other fenced blocks left out), reading its code (:data:`CODE_CELL_S` seconds per code
  cell, :data:`CODE_LINE_S` per line of code shown; :func:`page_counts`), running its notebook once from a
  fresh kernel (the measured ``run_s``), and :data:`DISCUSS_MIN` minutes of questions;
- an exercise: the working time :data:`EXERCISE_MIN` (a teaching choice, not a measurement) and the
  measured run of its solution notebook (a student's final *Restart & Run All*).

:func:`check_plan` says whether a plan fits its slot (:data:`SLOTS`); :func:`coverage_problems` says
what ``timings.json`` is missing. The guide page (``instructor_guide.md``) imports this module and
asserts both, so the book fails to build when the chapters, the exercises or the timings drift apart.
``tests/test_instructor_guide.py`` checks the same.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
TIMINGS = BOOK / "_static" / "timings.json"
INSTRUCTOR_PART = "For instructors"  # the _toc.yml part that timings.json leaves out (it reads the file)

READ_WPM = 200  # words a minute, reading or presenting prose
# Code is read far slower than prose, and every cell costs a moment whatever its length: pointing at it,
# running it, reading its output or figure aloud. 15 s a cell covers that moment. A line of code holds
# about 5 to 10 tokens (names, operators, shapes) that a reader must each resolve, at about the prose
# speed of 200 a minute: about 3 s a line. Lines of comments and blank lines count as nothing (a
# comment is read with its line), and a cell whose input the page hides (tags remove-input, hide-input)
# costs its 15 s but no lines: the class sees its output only.
CODE_CELL_S = 15  # seconds per code cell: point at it, run it, read its output
CODE_LINE_S = 3  # seconds per line of code shown
HIDDEN_TAGS = ("remove-input", "hide-input", "remove-cell")  # code the page does not show
DISCUSS_MIN = 5  # minutes of questions per chapter taught
EXERCISE_MIN = {"shapes": 40, "gates": 50, "frameworks": 45, "stateful": 45}  # students' working time
BREAK_MIN = 10  # one break inside the 3-hour slot

#: Minutes of each slot: 3 hours, and a day of 6.5 teaching hours (lunch and breaks outside it).
SLOTS = {"3-hour": 180, "1-day": 390}

#: Teaching order of each plan: chapter names (book/<name>.md) and ``exercise:<assignment>``.
PLANS = {
    "3-hour": [  # 01_recurrence is read before the session: the slot keeps a margin for questions
        "intro",
        "02_lstm_cell",
        "03_shapes",
        "05_pytorch",
        "exercise:shapes",
        "break",
        "10_misconceptions",
    ],
    "1-day": [
        "intro",
        "01_recurrence",
        "02_lstm_cell",
        "03_shapes",
        "exercise:shapes",
        "exercise:gates",
        "04_keras",
        "05_pytorch",
        "06_keras_vs_pytorch",
        "07_stateful",
        "08_variable_length",
        "10_misconceptions",
        "shape_tracer",
    ],
}


@dataclass(frozen=True)
class Row:
    """One line of a plan: what is taught and its minutes (reading prose and code, running, the rest)."""

    item: str
    read_min: float  # the prose
    run_min: float
    other_min: float  # questions for a chapter, working time for an exercise, the break itself
    code_min: float = 0.0  # the code cells: CODE_CELL_S each, CODE_LINE_S per line shown

    @property
    def total_min(self) -> float:
        return self.read_min + self.code_min + self.run_min + self.other_min


@dataclass(frozen=True)
class PageCounts:
    """What a page gives to read: prose words, code cells, and the lines of code it shows."""

    words: int
    code_cells: int
    code_lines: int

    @property
    def read_min(self) -> float:
        return self.words / READ_WPM

    @property
    def code_min(self) -> float:
        return (self.code_cells * CODE_CELL_S + self.code_lines * CODE_LINE_S) / 60


def load_timings(path: Path = TIMINGS) -> dict:
    """``timings.json`` as written by ``scripts/time_course.py``."""
    return json.loads(path.read_text(encoding="utf-8"))


_FENCE = re.compile(r"^(`{3,}|:{3,})(.*?)$(.*?)^\1\s*$", re.S | re.M)


def page_counts(text: str) -> PageCounts:
    """The prose words, code cells and lines of code shown of a MyST page's source ``text``.

    Prose is the text without the front matter and fenced blocks. A code cell is a ```` ```{code-cell} ````
    block; its lines of code are those neither blank nor comments nor cell options (``:tags:``, ``---``),
    and none when its tags hide its input (:data:`HIDDEN_TAGS`).
    """
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    cells = lines = 0
    for m in _FENCE.finditer(text):
        if not m.group(2).strip().startswith("{code-cell}"):
            continue
        cells += 1
        body = m.group(3)
        if any(tag in body for tag in HIDDEN_TAGS):
            continue
        body = re.sub(r"\A\s*---\n.*?\n---\n", "", body, flags=re.S)  # a YAML block of cell options
        code = [ln for ln in body.splitlines() if ln.strip() and not ln.strip().startswith(("#", ":"))]
        lines += len(code)
    prose = _FENCE.sub("", text)
    return PageCounts(len(prose.split()), cells, lines)


def chapter_counts(name: str) -> PageCounts:
    """:func:`page_counts` of ``book/<name>.md``."""
    return page_counts((BOOK / f"{name}.md").read_text(encoding="utf-8"))


def prose_words(name: str) -> int:
    """Words of a chapter's prose: its MyST source without the front matter and fenced blocks."""
    return chapter_counts(name).words


def toc_pages() -> list[str]:
    """The book's pages that ``timings.json`` must cover: ``_toc.yml`` without the instructors' part."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]
    for part in toc.get("parts", []):
        if part.get("caption") != INSTRUCTOR_PART:
            names += [ch["file"] for ch in part["chapters"]]
    return names


def assignments() -> list[str]:
    """Every assignment (a folder of ``solutions/`` holding a notebook), in alphabetical order."""
    from lstm_course.course import assignments as course_assignments

    return sorted(course_assignments(ROOT))


def coverage_problems(timings: dict) -> list[str]:
    """What ``timings`` lacks: a page or assignment with no time, or a time that is not positive."""
    problems = []
    for name in toc_pages():
        secs = timings["chapters"].get(name, {}).get("run_s", 0)
        if not secs > 0:
            problems.append(f"chapter {name}: no measured run time")
    for name in assignments():
        secs = timings["exercises"].get(name, {}).get("solution_run_s", 0)
        if not secs > 0:
            problems.append(f"exercise {name}: no measured run time")
    return problems


def build_plan(name: str, timings: dict) -> list[Row]:
    """The rows of plan ``name`` (a key of :data:`PLANS`), minutes computed from ``timings``."""
    rows = []
    for item in PLANS[name]:
        if item == "break":
            rows.append(Row("break", 0.0, 0.0, BREAK_MIN))
        elif item.startswith("exercise:"):
            a = item.split(":", 1)[1]
            run = timings["exercises"][a]["solution_run_s"] / 60
            rows.append(Row(item, 0.0, run, EXERCISE_MIN[a]))
        else:
            run = timings["chapters"][item]["run_s"] / 60
            counts = chapter_counts(item)
            rows.append(Row(item, counts.read_min, run, DISCUSS_MIN, counts.code_min))
    return rows


def check_plan(name: str, rows: list[Row]) -> float:
    """The plan's total minutes; an AssertionError when it does not fit its slot."""
    total = sum(r.total_min for r in rows)
    assert total <= SLOTS[name], (
        f"the {name} plan takes {total:.0f} min, more than its {SLOTS[name]} min slot"
    )
    return total


def plan_table(rows: list[Row]):
    """A pandas DataFrame of the plan, whole minutes, with its running start time and a total row."""
    import pandas as pd

    start, records = 0.0, []
    for r in rows:
        records.append(
            {
                "starts at": _clock(start),
                "item": r.item,
                "read prose (min)": round(r.read_min),
                "read code (min)": round(r.code_min),
                "run (min)": round(r.run_min, 1),
                "questions / work / break (min)": r.other_min,
                "total (min)": round(r.total_min),
            }
        )
        start += r.total_min
    records.append(dict.fromkeys(records[0], "") | {"starts at": _clock(start), "item": "end"})
    return pd.DataFrame(records)


def _clock(minutes: float) -> str:
    """``h:mm`` from minutes since the start."""
    return f"{int(minutes) // 60}:{int(minutes) % 60:02d}"
