"""The class report (lstm_ref.course.report) on a gradebook and ledger whose every count is chosen here.

A real nbgrader gradebook (the gates assignment recorded by ``generate_assignment``) gets five graded
students with chosen points per test cell; the ledger gets their failed cells with chosen
misconceptions, and two NOT GRADED submissions, one with a reason that carries HTML. Every number the
report shows is checked against counts computed here, and the page is opened in headless Chromium.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from lstm_ref.course import gradebook
from lstm_ref.course.common import make_course, nbmeta, read_nb
from lstm_ref.course.report import write_report
from lstm_ref.misconceptions import describe

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
A = "gates"
POINTS = {
    nbmeta(c)["grade_id"]: float(nbmeta(c)["points"])
    for c in read_nb(ROOT / "solutions" / A / f"{A}.ipynb").cells
    if nbmeta(c).get("grade")
}
# student -> {failed test cell: misconceptions its message showed}; every other cell passed
FAILED = {
    "ana": {},
    "bo": {"test_step_gate_order": ["gate-order"], "test_step_matches_torch": ["wrong-values"]},
    "cy": {"test_step_gate_order": ["gate-order"]},
    "di": {"test_torch_output": ["weight-layout"], "test_forward_values": []},
    "ed": {"test_step_gate_order": [], "test_torch_output": ["weight-layout"]},
}
NOT_GRADED = {"fay": "the kernel died <script>alert(1)</script>", "gus": "gates.ipynb is missing"}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    url = f"sqlite:///{out / 'gradebook.db'}"
    gradebook.prepare_assignments(make_course(ROOT, out / "course", [A]), [A], url)
    with gradebook.open_gradebook(url) as gb:
        for student, failed in FAILED.items():
            grades = {
                c: {"auto_score": 0.0 if c in failed else p, "needs_manual_grade": False}
                for c, p in POINTS.items()
            }
            notebooks = {A: {"grades": grades, "comments": {}}}
            gradebook.store(gb, student, A, {"timestamp": None, "notebooks": notebooks})
    for k, (student, failed) in enumerate(FAILED.items()):
        cells = [
            {
                "notebook": A,
                "name": c,
                "points": 0.0 if c in failed else p,
                "max_points": p,
                "passed": c not in failed,
                "message": f"AssertionError: odd failure <b>{c}</b>" if c in failed else "",
                "misconceptions": failed.get(c, []),
            }
            for c, p in POINTS.items()
        ]
        entry = {"student": student, "assignment": A, "status": "graded", "reason": "", "seconds": 2.0 + k}
        _ledger(out, {**entry, "cells": cells})
    for student, why in NOT_GRADED.items():
        _ledger(
            out, {"student": student, "assignment": A, "status": "not graded", "reason": why, "cells": []}
        )
    return out, write_report(out, url)


def _ledger(out: Path, entry: dict) -> None:
    path = out / "results" / entry["student"] / f"{entry['assignment']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry), encoding="utf-8")


def test_items_csv_counts(report):
    out, rep = report
    with open(out / "items.csv", newline="", encoding="utf-8") as fh:
        rows = {r["cell"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(POINTS)
    for cell, p in POINTS.items():
        failed = [s for s, f in FAILED.items() if cell in f]
        assert int(rows[cell]["submissions"]) == len(FAILED)
        assert int(rows[cell]["passed"]) == len(FAILED) - len(failed)
        assert float(rows[cell]["max_points"]) == p
        seen = {}
        for s in failed:
            for m in FAILED[s][cell]:
                seen[m] = seen.get(m, 0) + 1
        got = dict(x.split(":") for x in rows[cell]["misconceptions"].split("; ") if x)
        assert {k: int(v) for k, v in got.items()} == seen, cell


def test_page_states_the_misconception_counts_in_words(report):
    _, rep = report
    page = rep.html.read_text(encoding="utf-8")
    # class-wide: 2 of 5 graded submissions showed gate-order, 2 weight-layout, 1 wrong-values
    for mid, k in (("gate-order", 2), ("weight-layout", 2), ("wrong-values", 1)):
        assert f"<b>{100 * k / 5:.0f}% ({k} of 5)</b> {describe(mid)}" in page
    # a failure that matched none is shown with its (escaped) message
    assert "no known misconception matched" in page and "odd failure &lt;b&gt;test_forward_values" in page
    assert "<b>test_forward_values" not in page


def test_page_is_offline_and_escapes_student_text(report):
    _, rep = report
    page = rep.html.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"' >]+)""", page)
    assert not [u for u in links if re.match(r"(https?:)?//", u)], links
    assert "<title>" in page and page.count("<svg") == 2
    assert "gus" in page and "gates.ipynb is missing" in page  # every NOT GRADED submission is listed


def test_page_renders_in_chromium(report):
    _, rep = report
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_book import CHROMIUM, CHROMIUM_ARGS

    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on(
                "request",
                lambda r: errors.append(f"network: {r.url}") if not r.url.startswith("file:") else None,
            )
            page.goto(rep.html.as_uri())
            sizes = page.eval_on_selector_all(
                "figure svg",
                "els => els.map(e => [e.getBoundingClientRect().width, e.getBoundingClientRect().height])",
            )
            text = page.inner_text("body")
        finally:
            browser.close()
    assert errors == []
    assert len(sizes) == 2 and all(w > 100 and h > 100 for w, h in sizes), sizes
    assert "40% (2 of 5)" in text
