"""Release the exercises from ``solutions/`` and check that each solution scores full marks.

Each assignment is released twice over: ``exercises/<a>/<a>.ipynb`` from the English source, and each
twin ``exercises/<a>/<a>.<lang>.ipynb`` from the twin's source, which :mod:`lstm_course.translations`
makes in memory from the English one and ``solutions/locales/<lang>/LC_MESSAGES/<a>.po`` (:func:`twin_course`).
The twin's source is never written to ``solutions/``: nbgrader would take it for a second notebook of the
assignment (20 points, not 10), and a generated file there could be edited by hand and drift.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from lstm_course.course import (
    BEGIN_MARK,
    BOOK_PAGE,
    END_MARK,
    EXERCISES,
    REPO_URL,
    SOLUTIONS,
    TRANSLATIONS,
    assignments,
    catalogue_path,
    fill_release,
    make_course,
    notebooks,
    read_nb,
    twin_languages,
    twin_name,
    write_nb,
)
from lstm_course.gradebook import read_scores
from lstm_course.nbgrader_adapter import autograde, db_url_of, generate

# --------------------------------------------------------------------------- release


def twin_course(course: Path, assignment: str, lang: str) -> Path:
    """A scratch course beside ``course`` (``<course>.<lang>``, made anew) whose source of ``assignment`` is
    its ``lang`` twin under the English notebook names, so that nbgrader releases and grades the same
    notebooks, cells and points. ``course`` holds the English source and the catalogue (``make_course``)."""
    from lstm_course.translations import twin_files

    files = {"nbgrader_config.py": (course / "nbgrader_config.py").read_bytes()}
    for path in [*(course / SOLUTIONS / assignment).rglob("*"), course / catalogue_path(assignment, lang)]:
        if path.is_file():
            files[path.relative_to(course).as_posix()] = path.read_bytes()
    dest = course.with_name(f"{course.name}.{lang}")
    shutil.rmtree(dest, ignore_errors=True)
    for rel, data in twin_files(files, assignment, lang).items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    return dest


def release(root: Path, only: Sequence[str] | None = None, progress: bool = True) -> list[Path]:
    """Regenerate ``exercises/<a>/`` for every assignment (or ``only``): the English notebooks and their
    twins (``<a>.<lang>.ipynb``); update the book listing if any."""
    from tqdm.auto import tqdm

    names = list(only) if only else assignments(root)
    written = []
    with tempfile.TemporaryDirectory(prefix="lstm-course-release-") as tmp:
        course = make_course(root, Path(tmp) / "course", names)
        for a in tqdm(names, desc="release", disable=not progress):
            rel = generate(course, a)
            for nb_path in rel.glob("*.ipynb"):  # normalise: exactly nbformat's own serialisation
                write_nb(read_nb(nb_path), nb_path)
            for lang in twin_languages(course, a):
                twin = generate(twin_course(course, a, lang), a)
                for nb_name in notebooks(course, a):
                    write_nb(read_nb(twin / nb_name), rel / twin_name(nb_name, lang))
            dest = root / EXERCISES / a
            if dest.exists():
                shutil.rmtree(dest)
            shutil.copytree(rel, dest)
            written.append(dest)
    update_book_page(root)
    return written


# --------------------------------------------------------------------------- book listing


def _md_cell(text: str) -> str:
    """A markdown cell for the static listing: headings become bold lines (no heading-level clashes)."""
    lines = []
    for line in text.splitlines():
        m = re.match(r"^(#{1,6})\s+(.*)$", line)
        lines.append(f"**{m.group(2).strip()}**" if m else line)
    return "\n".join(lines).strip()


def render_listing(nb: Mapping) -> str:
    """Static MyST text of a release notebook: markdown cells as text, code cells as fenced code.

    Nothing is executed. Locked cells are marked read-only and graded cells show their points.

    >>> nb = {"cells": [{"cell_type": "markdown", "source": "# Task", "metadata": {}},
    ...                 {"cell_type": "code", "source": "x = 1", "metadata": {}}]}
    >>> print(render_listing(nb))
    **Task**
    <BLANKLINE>
    ```python
    x = 1
    ```
    """
    parts = []
    for cell in nb["cells"]:
        src = "".join(cell["source"]).rstrip()
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "markdown":
            parts.append(_md_cell(src))
            continue
        if not src:
            continue
        notes = []
        if meta.get("grade") and not meta.get("solution"):
            notes.append(f"tests, {meta.get('points', 0):g} point(s)")
        elif meta.get("solution"):
            notes.append("your answer goes here")
        elif meta.get("locked"):
            notes.append("read-only")
        fence = "````" if "```" in src else "```"
        label = f"*{'; '.join(notes)}*\n\n" if notes else ""
        parts.append(f"{label}{fence}python\n{src}\n{fence}")
    return "\n\n".join(parts)


def _points(nb: Mapping) -> float:
    return float(
        sum(
            c["metadata"]["nbgrader"].get("points", 0)
            for c in nb["cells"]
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")
        )
    )


def _summary(nb: Mapping) -> str:
    """The first sentence of the notebook's first markdown paragraph that is not a heading.

    >>> _summary({"cells": [{"cell_type": "markdown", "source": "# T\\n\\nBuild windows. Then more."}]})
    'Build windows.'
    """
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for para in "".join(cell["source"]).split("\n\n"):
            para = " ".join(para.split())
            if para and not para.startswith("#"):
                return re.split(r"(?<=[.!?])\s+(?=[A-Z*`])", para)[0].replace("|", "\\|")
    return ""


def book_section(root: Path) -> str:
    """The generated part of ``book/exercises.md``: a table, then one section per released assignment."""
    repo = REPO_URL.split("github.com/")[1]
    table = ["| Assignment | Points | What it trains |", "|---|---|---|"]
    out = []
    for a in assignments(root):
        for name in notebooks(root, a):
            rel = root / EXERCISES / a / name
            if not rel.is_file():
                continue
            nb = json.loads(rel.read_text(encoding="utf-8"))
            path = f"{EXERCISES}/{a}/{name}"
            table.append(f"| {{ref}}`{a} <exercise-{a}>` | {_points(nb):g} | {_summary(nb)} |")
            out.append(
                f"(exercise-{a})=\n## `{a}`: {_points(nb):g} points\n\n"
                f"- Download: {{download}}`{name} <../{path}>`\n"
                f"- Open in [Colab](https://colab.research.google.com/github/{repo}/blob/main/{path}) "
                f"or [Binder](https://mybinder.org/v2/gh/{repo}/HEAD?labpath={path})\n\n"
                f"::::{{dropdown}} The student notebook `{name}` (not executed)\n\n"
                f"{render_listing(nb)}\n\n::::"
            )
    return "\n\n".join(["\n".join(table), *out])


def update_book_page(root: Path) -> Path:
    """Rewrite the generated part of ``book/exercises.md`` (between the markers) from ``exercises/``.

    A course without that page (a copy with no book) is left alone: the page is never created.
    """
    page = root / BOOK_PAGE
    if not page.is_file():
        return page
    text = page.read_text(encoding="utf-8")
    head = text.split(BEGIN_MARK)[0].rstrip() + "\n\n"
    tail = text.split(END_MARK, 1)[1].lstrip("\n") if END_MARK in text else ""
    new = f"{head}{BEGIN_MARK}\n\n{book_section(root)}\n\n{END_MARK}\n" + (f"\n{tail}" if tail else "")
    if new != text:
        page.write_text(new, encoding="utf-8")
    return page


# --------------------------------------------------------------------------- check


@dataclass
class CheckRow:
    """One assignment's round trip; ``twins[lang]`` is ``(solution, blank)``: the scores of its twin."""

    assignment: str
    max_score: float
    solution: float
    blank: float
    generate_s: float
    solution_s: float
    blank_s: float
    twins: dict[str, tuple[float, float]] = field(default_factory=dict)
    twins_s: float = 0.0

    @property
    def ok(self) -> bool:
        full = (self.solution, self.blank) == (self.max_score, 0)
        return self.max_score > 0 and full and all(t == (self.max_score, 0) for t in self.twins.values())


def _hand_in(course: Path, assignment: str, rel: Path) -> None:
    """Hand in, from the release ``rel``, the filled-in solution (student "solution") and the blank
    release (student "blank") of each notebook of ``assignment``."""
    for nb_name in notebooks(course, assignment):
        release_nb = read_nb(rel / nb_name)
        source_nb = read_nb(course / SOLUTIONS / assignment / nb_name)
        write_nb(
            fill_release(release_nb, source_nb), course / "submitted" / "solution" / assignment / nb_name
        )
        write_nb(release_nb, course / "submitted" / "blank" / assignment / nb_name)


def _round_trip(course: Path, assignment: str) -> dict[str, float]:
    """Release ``assignment`` in ``course``, hand in its filled-in solution and its blank release, grade
    both in one nbgrader run; return ``{"max", "solution", "blank"}``."""
    _hand_in(course, assignment, generate(course, assignment))
    autograde(course, assignment)
    scores = read_scores(db_url_of(course), assignment)
    return {
        "max": scores["solution"].max_score,
        "solution": scores["solution"].score,
        "blank": scores["blank"].score,
    }


def check_assignment(root: Path, assignment: str, workdir: Path) -> CheckRow:
    """Round trip of one assignment in ``workdir``: generate, grade the solution and the blank release;
    then the same for each twin (:func:`twin_course`), whose scores go to ``CheckRow.twins``."""
    course = make_course(root, workdir / assignment, [assignment])
    t0 = time.perf_counter()
    rel = generate(course, assignment)
    t_gen = time.perf_counter() - t0
    _hand_in(course, assignment, rel)
    times = {}
    for student in ("solution", "blank"):
        t0 = time.perf_counter()
        autograde(course, assignment, student)
        times[student] = time.perf_counter() - t0
    scores = read_scores(db_url_of(course), assignment)
    row = CheckRow(
        assignment,
        scores["solution"].max_score,
        scores["solution"].score,
        scores["blank"].score,
        t_gen,
        times["solution"],
        times["blank"],
    )
    t0 = time.perf_counter()
    for lang in twin_languages(course, assignment):  # each twin: released, its solution and blank graded
        got = _round_trip(twin_course(course, assignment, lang), assignment)
        row.twins[lang] = (got["solution"], got["blank"]) if got["max"] == row.max_score else (-1.0, -1.0)
    row.twins_s = time.perf_counter() - t0
    return row


def check(root: Path, only: Sequence[str] | None = None, progress: bool = True) -> list[CheckRow]:
    """Run :func:`check_assignment` for every assignment and print a summary table."""
    from tqdm.auto import tqdm

    names = list(only) if only else assignments(root)
    rows = []
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lstm-course-check-") as tmp:
        for a in tqdm(names, desc="check", disable=not progress):
            rows.append(check_assignment(root, a, Path(tmp)))
    total = time.perf_counter() - t0
    head = f"{'assignment':<12} {'max':>5} {'solution':>8} {'blank':>6} {'generate':>9} {'grade sol.':>10} {'grade blank':>11}"
    print(head + "".join(f" {lang + ' sol./blank':>18}" for lang in TRANSLATIONS) + "  ok")
    for r in rows:
        twins = "".join(
            f" {'/'.join(f'{x:g}' for x in r.twins[lang]) if lang in r.twins else '-':>18}"
            for lang in TRANSLATIONS
        )
        print(
            f"{r.assignment:<12} {r.max_score:>5g} {r.solution:>8g} {r.blank:>6g} {r.generate_s:>8.1f}s "
            f"{r.solution_s:>9.1f}s {r.blank_s:>10.1f}s{twins}  {'yes' if r.ok else 'NO'}"
        )
    print(f"total {total:.1f}s")
    return rows
