"""The class report (lstm_course.results.report) on a gradebook and results whose every count is chosen here.

A real nbgrader gradebook (the gates assignment, recorded by ``nbgrader generate_assignment``) gets
six graded students with chosen points per test cell, written through nbgrader.api.Gradebook; the
results folder gets their cells with chosen misconceptions (one student handed the notebook in blank,
another left one answer blank), two NOT GRADED submissions (one with a reason that carries HTML), and
one "graded" result the gradebook does not hold, which must not be counted. Every number the report
shows is checked against counts computed here from those choices, and the page is opened in headless
Chromium. The colour scale, the figures' ticks, the shortening of messages and the path printed by
``lstm-course grade --report`` are checked on their own.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lstm_course.course import make_course, nbmeta, read_nb
from lstm_course.nbgrader_adapter import generate
from lstm_course.results.misconceptions import describe
from lstm_course.results.report import AMBER, GREEN, RED, Item, pass_colour, shorten, write_report

# nbgrader's own add_submission trips SQLAlchemy's autoflush warnings (as in lstm_course.grading.worker)
pytestmark = pytest.mark.filterwarnings("ignore:Object of type <Submitted")
ROOT = Path(__file__).resolve().parents[1]
A = "gates"
POINTS = {
    nbmeta(c)["grade_id"]: float(nbmeta(c)["points"])
    for c in read_nb(ROOT / "solutions" / A / f"{A}.ipynb").cells
    if nbmeta(c).get("grade") and not nbmeta(c).get("solution")
}
BLANK = "no-answer"  # what classify() says of a NotImplementedError: shown apart from wrong answers
# student -> {failed test cell: the misconceptions its message showed}; every other cell passed
FAILED = {
    "ana": {},
    "bo": {"test_step_gate_order": ["gate-order"], "test_step_matches_torch": ["wrong-values"]},
    "cy": {"test_step_gate_order": ["gate-order", "cell-update"]},
    "di": {"test_torch_output": ["weight-layout"], "test_forward_values": []},
    "ed": {
        "test_step_gate_order": [],
        "test_torch_output": ["weight-layout"],
        "test_backward_weights": [BLANK],
    },
    "flo": dict.fromkeys(POINTS, [BLANK]),  # handed in as released: every answer still blank
}
SECONDS = {"ana": 2.0, "bo": 3.5, "cy": 1.25, "di": 9.75, "ed": 4.0, "flo": 0.75}
NOT_GRADED = {"fay": "the kernel died <script>alert(1)</script>", "gus": "gates.ipynb is missing"}
STALE = "hal"  # a "graded" result with no submission in the gradebook
ODD = "AssertionError: odd failure <b>{}</b>"
FLAGGED = {"cy": ["gates/lstm_step line 4: sys.settrace <i>(a trace hook can skip an assert)</i>"]}


def _result(out: Path, student: str, **fields) -> None:
    entry = {
        "student": student,
        "assignment": A,
        "hash": "0" * 64,
        "status": "graded",
        "reason": "",
        "notes": [],
        "score": None,
        "max_score": None,
        "seconds": 1.0,
        "worker": "tcp://127.0.0.1:4321",
        "graded_at": "2026-11-29T07:00:00+00:00",
        "cells": [],
        **fields,
    }
    path = out / "results" / student / f"{A}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry), encoding="utf-8")


def _cells(failed: dict[str, list[str]]) -> list[dict]:
    return [
        {
            "notebook": A,
            "name": c,
            "points": 0.0 if c in failed else p,
            "max_points": p,
            "passed": c not in failed,
            "message": ODD.format(c) if c in failed else "",
            "misconceptions": failed.get(c, []),
        }
        for c, p in POINTS.items()
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from nbgrader.api import Gradebook

    out = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{out / 'gradebook.db'}"
    generate(make_course(ROOT, out / "course", [A]), A, db_url=url)
    with Gradebook(url) as gb:
        for student, failed in FAILED.items():
            gb.add_student(student)
            gb.add_submission(A, student)
            for cell, p in POINTS.items():
                grade = gb.find_grade(cell, A, A, student)
                grade.auto_score = 0.0 if cell in failed else p
                grade.needs_manual_grade = False
            gb.db.commit()
    for student, failed in FAILED.items():
        score = sum(p for c, p in POINTS.items() if c not in failed)
        _result(
            out,
            student,
            cells=_cells(failed),
            score=score,
            max_score=sum(POINTS.values()),
            seconds=SECONDS[student],
            integrity=FLAGGED.get(student, []),
        )
    for student, why in NOT_GRADED.items():
        _result(out, student, status="not graded", reason=why, seconds=0.5, worker="")
    _result(out, STALE, cells=_cells({"test_step_gate_order": ["gate-order"]}))
    return out, write_report(out, url)


@pytest.mark.slow
def test_items_csv_counts_are_the_gradebooks(report):
    out, rep = report
    with open(out / "items.csv", newline="", encoding="utf-8") as fh:
        rows = {r["cell"]: r for r in csv.DictReader(fh)}
    assert list(rows) == list(POINTS)  # every test cell, in notebook order
    for cell, p in POINTS.items():
        failed = [s for s, f in FAILED.items() if cell in f]
        row = rows[cell]
        assert (row["assignment"], row["notebook"], float(row["max_points"])) == (A, A, p)
        assert int(row["submissions"]) == len(FAILED)
        assert int(row["passed"]) == len(FAILED) - len(failed)
        assert float(row["pass_rate"]) == pytest.approx(1 - len(failed) / len(FAILED), abs=1e-4)
        assert float(row["mean_points"]) == pytest.approx(p * (1 - len(failed) / len(FAILED)), abs=1e-4)
        seen = Counter(m for s in failed for m in FAILED[s][cell] if m != BLANK)
        got = dict(x.split(":") for x in row["misconceptions"].split("; ") if x)
        assert {k: int(v) for k, v in got.items()} == seen, cell
        assert int(row["unmatched"]) == sum(not FAILED[s][cell] for s in failed)
        assert int(row["blank"]) == sum(FAILED[s][cell] == [BLANK] for s in failed)
    assert [(i.cell, i.passed) for i in rep.items] == [(c, int(r["passed"])) for c, r in rows.items()]


@pytest.mark.slow
def test_page_states_the_counts_in_words(report):
    _, rep = report
    page = rep.html.read_text(encoding="utf-8")
    n = len(FAILED)  # the stale "graded" result of hal is not counted anywhere
    per_cell = Counter((c, m) for f in FAILED.values() for c, ms in f.items() for m in ms if m != BLANK)
    for (cell, mid), k in per_cell.items():
        block = page.split(f"<code>{cell}</code> (")[-1].split("<h3>")[0]
        assert f"<b>{100 * k / n:.0f}% ({k} of {n})</b> {describe(mid)}" in block, (cell, mid)
    class_wide = Counter(m for f in FAILED.values() for m in {m for ms in f.values() for m in ms} - {BLANK})
    assert class_wide == {"gate-order": 2, "cell-update": 1, "weight-layout": 2, "wrong-values": 1}
    assert describe(BLANK) not in page  # a blank answer is no misconception: counted apart
    assert f"<b>2 of {n}</b> left at least one answer blank" in page and "1 of them handed the whole" in page
    block = page.split("<code>test_backward_weights</code> (")[-1].split("<h3>")[0]
    assert f"<b>2 of {n}</b> left the answer blank (not counted as wrong)" in block
    for mid, k in class_wide.items():
        assert f"<b>{100 * k / n:.0f}% ({k} of {n})</b> {describe(mid)}" in page
    # failures that matched none: counted, with their (escaped) message
    assert f"<b>1 of {n}</b>: no known misconception matched" in page
    assert ODD.format("test_forward_values").replace("<", "&lt;").replace(">", "&gt;") in page
    assert "<b>test_forward_values" not in page
    # summary: 9 submissions (6 graded, 1 of them blank; 2 not graded; 1 stale), mean from the chosen points
    scores = [sum(p for c, p in POINTS.items() if c not in f) for f in FAILED.values()]
    mean = f"{sum(scores) / len(scores):.2f} / {sum(POINTS.values()):g}"
    row = "".join(f'<td class="n">{v}</td>' for v in (9, 6, 1, 2, mean))
    assert f"<td>{A}</td>{row}" in page


@pytest.mark.slow
def test_pass_rates_are_coloured_and_split_wrong_from_blank(report):
    _, rep = report
    page = rep.html.read_text(encoding="utf-8")
    n = len(FAILED)
    for cell in POINTS:
        failed = [s for s in FAILED if cell in FAILED[s]]
        blank = sum(FAILED[s][cell] == [BLANK] for s in failed)
        rate = 1 - len(failed) / n
        name = {RED: "red", AMBER: "amber", GREEN: "green"}[pass_colour(rate)]
        cells = [
            n,
            n - len(failed),
            len(failed) - blank,
            blank,
            f'<span class="rate {name}">{100 * rate:.0f}%</span>',
        ]
        assert "".join(f'<td class="n">{c}</td>' for c in cells) in page.split(f"<code>{cell}</code>")[1], (
            cell
        )
    # 3 of 6 failed test_torch_output (di, ed, flo): 50 %, which is amber, not green
    assert (
        '<code>test_torch_output</code></td><td class="n">1</td><td class="n">6</td><td class="n">3</td>'
        in page
    )
    assert '<span class="rate amber">50%</span>' in page


@pytest.mark.slow
def test_student_by_misconception_table(report):
    _, rep = report
    section = rep.html.read_text(encoding="utf-8").split("<h2>Students and misconceptions</h2>", 1)[1]
    section = section.split("<h2>", 1)[0]
    head = re.findall(r"<th>(.*?)</th>", section)
    ids = [re.sub(r"<[^>]+>", "", h) for h in head[3:-1]]
    assert head[:3] == ["student", "score", "blank"] and head[-1] == "no match"
    assert sorted(ids) == sorted({m for f in FAILED.values() for ms in f.values() for m in ms} - {BLANK})
    for student, failed in FAILED.items():
        score = sum(p for c, p in POINTS.items() if c not in failed)
        seen = Counter(m for ms in failed.values() for m in ms)
        want = [student, f"{score:g} / {sum(POINTS.values()):g}", seen[BLANK] or ""]
        want += [seen[m] or "" for m in ids] + [sum(not ms for ms in failed.values()) or ""]
        got = re.search(rf"<tr><td>{student}</td>(.*?)</tr>", section).group(1)
        assert [student, *re.findall(r"<td[^>]*>(.*?)</td>", got)] == [str(w) for w in want], student
    assert STALE not in section and "fay" not in section  # graded submissions only


@pytest.mark.slow
def test_integrity_section_lists_the_flagged_only(report):
    _, rep = report
    section = rep.html.read_text(encoding="utf-8").split("<h2>Integrity</h2>", 1)[1].split("<h2>", 1)[0]
    assert "<td>cy</td>" in section and sum(f"<td>{s}</td>" in section for s in FAILED) == 1
    assert "sys.settrace &lt;i&gt;(a trace hook can skip an assert)&lt;/i&gt;" in section


@pytest.mark.slow
def test_page_is_offline_valid_and_escapes_student_text(report):
    _, rep = report
    page = rep.html.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "gus" in page and "gates.ipynb is missing" in page  # every NOT GRADED submission is listed
    refs = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)|url\(([^)]*)\)|@import""", page)
    assert all(u.startswith("#") for pair in refs for u in pair if u), refs  # only links inside the page
    assert "http://" not in page and "https://" not in page and "<link" not in page
    assert page.startswith("<!DOCTYPE html>") and re.search(r"<title>[^<]+</title>", page)
    assert page.count("<svg") == 2
    # valid: every element closed in order, no id twice (two inline SVGs share one document)
    checker = _TagChecker()
    checker.feed(page)
    checker.close()
    assert checker.errors == [] and checker.stack == []
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    # slowest first, and no worker column (which machine graded it is no business of the report)
    slow = re.findall(r"<tr><td>(\w+)</td><td>gates</td><td class=\"n\">([\d.]+)</td>", page)
    assert [s for s, _ in slow[:3]] == sorted(SECONDS, key=SECONDS.get, reverse=True)[:3]
    assert "<th>worker</th>" not in page and "tcp://127.0.0.1:4321" not in page


class _TagChecker(HTMLParser):
    VOID = {"meta", "br", "img", "hr", "link", "input", "col", "wbr", "source"}

    def __init__(self):
        super().__init__()
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # <path ... /> inside SVG
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


@pytest.mark.slow
def test_page_renders_in_chromium(report):
    _, rep = report
    from conftest import launch
    from playwright import sync_api  # make test installs it: missing is a failure, not a skip

    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request", lambda r: None if r.url.startswith("file:") else errors.append(f"network: {r.url}")
            )
            page.goto(rep.html.as_uri())
            sizes = page.eval_on_selector_all(
                "figure svg, img",
                "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
            )
            drawn = page.eval_on_selector_all(
                "figure svg", "els => els.map(e => e.querySelectorAll('path').length)"
            )
            text = page.inner_text("body")
        finally:
            browser.close()
    assert errors == []
    assert len(sizes) == 2 and all(w > 100 and h > 100 for w, h in sizes), sizes
    assert all(n > 10 for n in drawn), drawn
    assert "33% (2 of 6)" in text and "the kernel died <script>alert(1)</script>" in text


def test_missing_gradebook_is_named(tmp_path):
    pytest.importorskip("nbgrader")
    with pytest.raises(FileNotFoundError, match="no gradebook at sqlite:///"):
        write_report(tmp_path)
    assert not (tmp_path / "gradebook.db").exists()


@pytest.mark.slow
def test_progress_and_a_second_run(report, capsys):
    out, rep = report
    again = write_report(out, f"sqlite:///{out / 'gradebook.db'}", progress=True)
    err = capsys.readouterr().err
    assert "report: 9 results, 6 graded submissions in the gradebook" in err and "report.html" in err
    assert again.items_csv.read_text(encoding="utf-8") == rep.items_csv.read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_report(report, capsys, tmp_path):
    from lstm_course.cli import main

    out, rep = report
    (out / "report.html").unlink()
    assert main(["--root", str(ROOT), "report", "--out", str(out)]) == 0
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    assert (out / "report.html").read_text(encoding="utf-8") == rep.html.read_text(encoding="utf-8")
    assert main(["--root", str(ROOT), "report", "--out", str(tmp_path)]) == 2  # nothing graded there
    assert "no gradebook at sqlite:///" in capsys.readouterr().err


@pytest.mark.slow
def test_grade_report_prints_the_report_path(report, capsys, monkeypatch):
    """``lstm-course grade ... --report`` says where the report is, as ``lstm-course report`` does.

    The grading run itself (Dask, sandbox) is covered in tests/test_course_dask.py; here ``grade`` is
    replaced by one that writes the report of the fixture's folder, as the real one does with ``report=True``.
    """
    from types import SimpleNamespace

    from lstm_course.cli import main
    from lstm_course.grading import coordinator

    out, rep = report
    (out / "report.html").unlink()
    asked = {}

    def grade(root, submissions, out_dir, db_url, **kw):
        asked.update(kw, out=out_dir)
        if kw["report"]:
            write_report(out_dir, db_url)
        return SimpleNamespace(broken=[])

    monkeypatch.setattr(coordinator, "grade", grade)
    assert main(["--root", str(ROOT), "grade", str(out / "nothing"), "--out", str(out), "--report"]) == 0
    printed = capsys.readouterr().out
    assert asked["report"] and asked["out"] == out
    assert f"report: {out / 'report.html'}" in printed and f"items: {out / 'items.csv'}" in printed
    assert (out / "report.html").is_file()
    assert main(["--root", str(ROOT), "grade", str(out / "nothing"), "--out", str(out)]) == 0
    assert "report:" not in capsys.readouterr().out  # no --report, no report line


def test_fifty_percent_is_amber():
    assert pass_colour(0.5) == AMBER != GREEN and pass_colour(0.4999) == RED and pass_colour(1.0) == GREEN
    import matplotlib.colors as mcolors

    from lstm_course.results.report import pass_rate_figure

    items = [Item("gates", "gates", f"c{k}", 1.0, {s: float(s < k) for s in range(4)}) for k in (1, 2, 4)]
    assert [i.pass_rate for i in items] == [0.25, 0.5, 1.0]
    fig = pass_rate_figure(items)
    bars = fig.axes[0].patches
    assert [mcolors.to_hex(b.get_facecolor()) for b in bars] == [RED, AMBER, GREEN]
    assert [b.get_width() for b in bars] == [25, 50, 100]


def test_count_axes_have_whole_number_ticks():
    from lstm_course.results.report import score_figure

    # one submission per score: matplotlib's own ticks would be 0, 0.2, 0.4, ... submissions
    fig = score_figure({"gates": {"a": (3.0, 10.0), "b": (7.0, 10.0)}, "shapes": {"c": (1.0, 5.0)}})
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.yaxis, ax.get_ylim()), (ax.xaxis, ax.get_xlim())):
            ticks = [t for t in axis.get_ticklocs() if lo <= t <= hi]
            assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), (ax.get_title(), ticks)


def test_messages_are_shortened_at_a_word():
    text = "AssertionError: Your h_n has shape (4, 2, 5) but it should be (1, 4, 5): the state is never batch-first"
    for limit in range(20, len(text)):
        got = shorten(text, limit)
        assert len(got) <= limit and got.endswith("…")
        kept = got[:-1]
        assert text.startswith(kept) and text[len(kept)] in " ,:;", (limit, got)  # the cut is at a boundary
    assert shorten(text, len(text)) == text
    assert shorten("x" * 50, 10) == "x" * 9 + "…"  # one long word: no boundary to keep
    assert shorten("word " * 100).count("…") == 1 and len(shorten("word " * 100)) <= 300
