"""The instructor guide (book/instructor_guide.md): its timings, its plans and the commands it quotes.

- ``book/_static/timings.json`` (written by ``scripts/time_course.py``) has a positive, measured time
  for every page of ``_toc.yml`` (the instructors' part aside) and every assignment of ``solutions/``;
- each plan of ``book/instructor_plan.py`` names real pages and assignments and fits its slot, and
  would be refused if it did not;
- every ``--flag`` the guide gives ``lstm-course`` exists in its real argparse parser, and every
  ``lstm-course <command>`` it quotes is a real command;
- the built page shows both plans, and its cheat-sheet download link points at a file of the site.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts import book_module

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
GUIDE = BOOK / "instructor_guide.md"
ip = book_module("instructor_plan")  # book/instructor_plan.py (book/ is no package)

OTHER_TOOLS = ("nbgrader", "dask ", "time_course")  # lines quoting these tools' own flags


def toc_parts() -> dict[str, list[str]]:
    """``_toc.yml`` read here, independently of the plan module: caption -> page names."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    return {part["caption"]: [ch["file"] for ch in part["chapters"]] for part in toc["parts"]}


def test_timings_cover_every_chapter_and_assignment():
    timings = json.loads((BOOK / "_static" / "timings.json").read_text())
    parts = toc_parts()
    pages = ["intro"] + [p for caption, names in parts.items() if caption != "For instructors" for p in names]
    assert "instructor_guide" in parts["For instructors"]
    assert set(timings["chapters"]) == set(pages)
    assert all(timings["chapters"][p]["run_s"] > 0 for p in pages)
    tasks = sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb"))
    assert tasks == ["frameworks", "gates", "shapes", "stateful"]
    assert set(timings["exercises"]) == set(tasks)
    for a in tasks:
        row = timings["exercises"][a]
        assert row["solution_run_s"] > 0 and row["check_s"] > row["check_grade_solution_s"] > 0, (a, row)
    assert timings["machine"]["cpu_count"] >= 1 and timings["machine"]["torch"] and timings["date"]
    assert ip.coverage_problems(timings) == []


def test_coverage_problems_names_what_is_missing():
    timings = ip.load_timings()
    del timings["chapters"]["03_shapes"]
    timings["exercises"]["gates"]["solution_run_s"] = 0
    assert ip.coverage_problems(timings) == [
        "chapter 03_shapes: no measured run time",
        "exercise gates: no measured run time",
    ]


@pytest.mark.parametrize("name", sorted(ip.PLANS))
def test_plan_fits_its_slot(name):
    timings = ip.load_timings()
    parts = toc_parts()
    chapters = set(parts["The course"]) | {"intro"}
    for item in ip.PLANS[name]:
        assert item == "break" or item in chapters or item.removeprefix("exercise:") in timings["exercises"]
    rows = ip.build_plan(name, timings)
    total = ip.check_plan(name, rows)
    assert 0 < total <= ip.SLOTS[name]
    # a lower bound from the measurements alone: the runs of its items and the exercises' working time
    runs = sum(
        timings["exercises"][i[9:]]["solution_run_s"]
        if i.startswith("exercise:")
        else timings["chapters"][i]["run_s"]
        for i in ip.PLANS[name]
        if i != "break"
    )
    work = sum(ip.EXERCISE_MIN[i[9:]] for i in ip.PLANS[name] if i.startswith("exercise:"))
    assert total >= runs / 60 + work
    with pytest.raises(AssertionError, match="more than its"):
        ip.check_plan(name, rows + [ip.Row("overrun", 0, 0, ip.SLOTS[name])])


def test_day_plan_teaches_the_chapters_in_order():
    """Every chapter of the course but the project and the appendix, in the book's order; the chapters
    and exercises it leaves out are the ones the guide gives as homework."""
    parts = toc_parts()
    day = ip.PLANS["1-day"]
    home = ("09_project", "11_appendix")
    assert [i for i in day if i in parts["The course"]] == [p for p in parts["The course"] if p not in home]
    assert "{doc}`09_project`" in GUIDE.read_text().split("## A 1-day plan")[1].split("```")[0]
    in_class = sorted(i[9:] for i in day if i.startswith("exercise:"))
    assert in_class == ["gates", "shapes"] and set(in_class) < set(ip.EXERCISE_MIN)
    homework = sorted(set(ip.EXERCISE_MIN) - set(in_class))
    assert "`" + "` and `".join(homework) + "` exercises" in GUIDE.read_text().replace("\n", " ")


PAGE = """---
jupytext:
  text_representation: {extension: .md}
---
# A tiny page

One two three four five.

```{code-cell} ipython3
x = 1  # a line of code

# a comment line, and a blank line above: neither counts
y = x + 1
```

Six seven.

```{code-cell} ipython3
:tags: [remove-input]
hidden = "the class sees the output only"
```

```{code-cell} ipython3
---
tags: [raises-exception]
---
z = x / 0
```

```bash
not a code cell: a quoted command
```

:::{note}
Eight nine ten.
:::
"""


def test_page_counts_prose_and_code_on_a_hand_made_page():
    counts = ip.page_counts(PAGE)
    # prose: "# A tiny page" (4 words), five, two; the bash block and the note fence are left out
    assert counts.words == 4 + 5 + 2
    assert counts.code_cells == 3
    assert counts.code_lines == 2 + 0 + 1  # x, y; the hidden cell shows none; z
    assert counts.read_min == pytest.approx(11 / ip.READ_WPM)
    assert counts.code_min == pytest.approx((3 * ip.CODE_CELL_S + 3 * ip.CODE_LINE_S) / 60)
    # a chapter's plan row counts its code: reading time above the prose alone
    timings = ip.load_timings()
    row = next(r for r in ip.build_plan("1-day", timings) if r.item == "03_shapes")
    real = ip.chapter_counts("03_shapes")
    assert row.code_min == pytest.approx(real.code_min) and real.code_cells > 10 and real.code_lines > 50
    assert row.total_min == pytest.approx(row.read_min + row.code_min + row.run_min + row.other_min)


def test_prose_words_leave_code_out():
    text = GUIDE.read_text()
    assert 0 < ip.prose_words("instructor_guide") < len(text.split())
    assert "coverage_problems" not in re.sub(r"```.*?```", "", text, flags=re.S)  # only in code cells


def lstm_course_options() -> tuple[set[str], set[str]]:
    """Every option string of ``lstm-course`` and its subcommands, and the subcommands' names."""
    import argparse

    from lstm_course.cli import build_parser

    parser = build_parser()
    flags = {s for a in parser._actions for s in a.option_strings}
    commands: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                commands.add(name)
                flags |= {s for a in sub._actions for s in a.option_strings}
    return flags, commands


def test_lstm_course_flags_in_the_guide_exist():
    flags, commands = lstm_course_options()
    mentioned = set()
    for line in GUIDE.read_text().splitlines():
        if any(tool in line for tool in OTHER_TOOLS):
            continue
        mentioned |= set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", line))
    assert {"--workers", "--scheduler", "--db", "--report", "--no-sandbox", "--root"} <= mentioned
    assert mentioned <= flags, f"not lstm-course flags: {sorted(mentioned - flags)}"
    used = set(re.findall(r"lstm-course (?:--root \S+ )?([a-z]+)", GUIDE.read_text()))
    assert used and used <= commands, used - commands
    # the parser is the command's: its --help lists the grade flags the guide uses
    cli = Path(sys.executable).with_name("lstm-course")
    out = subprocess.run([str(cli), "grade", "--help"], capture_output=True, text=True, timeout=600).stdout
    assert all(f in out for f in ("--workers", "--scheduler", "--db", "--kernel-threads", "--regrade"))


@pytest.mark.slow
def test_built_page_shows_both_plans(built_book):
    page = (built_book / "instructor_guide.html").read_text("utf-8")
    assert "3-hour plan:" in page and "1-day plan:" in page
    assert page.count("<table") >= 5  # pages, exercises, two plans, the mistakes (and the caught table)
    assert "Traceback" not in page and "AssertionError" not in page
    links = re.findall(r'href="(_downloads/[^"]+lstm-shapes-cheatsheet-a4\.pdf)"', page)
    assert links and all((built_book / link).is_file() for link in links)
