"""The grading run's ETA: one mean per assignment, from the ledger and this run, over the workers."""

from __future__ import annotations

import json

import pytest

from lstm_course.grading.eta import Eta, format_seconds, measured


def _ledger(results, student, assignment, status, seconds):
    path = results / student / f"{assignment}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"assignment": assignment, "status": status, "seconds": seconds}))


def test_measured_reads_graded_entries_only(tmp_path):
    _ledger(tmp_path, "ann", "shapes", "graded", 2.0)
    _ledger(tmp_path, "bob", "shapes", "graded", 4.0)
    _ledger(tmp_path, "cat", "shapes", "not graded", 600.0)  # a timed-out kernel says nothing of the rest
    _ledger(tmp_path, "ann", "stateful", "graded", 9.0)
    (tmp_path / "dan").mkdir()
    (tmp_path / "dan" / "gates.json").write_text("{not json")
    assert measured(tmp_path) == {"shapes": [2.0, 4.0], "stateful": [9.0]}


def test_eta_weighs_each_assignment_by_its_own_time():
    # 10 torch notebooks at 2 s and 10 TensorFlow ones at 8 s on 2 workers: (20 + 80) / 2 = 50 s
    eta = Eta(["shapes"] * 10 + ["stateful"] * 10, workers=2, prior={"shapes": [2.0], "stateful": [8.0]})
    assert eta.seconds_left() == pytest.approx(50.0)
    for _ in range(10):  # the quick ones end first: a single rate would now promise 2 s a notebook
        eta.done("shapes", 2.0)
    assert eta.seconds_left() == pytest.approx(40.0)
    eta.done("stateful", 10.0)  # measured slower: the mean moves to 9 s
    assert eta.seconds_left() == pytest.approx(9 * 9.0 / 2)
    assert eta.describe() == "ETA 0:40"


def test_eta_waits_for_a_measurement_and_ignores_failures():
    eta = Eta(["gates", "gates", "frameworks"], workers=1)
    assert eta.seconds_left() is None and eta.describe() == "ETA measuring"
    eta.done("gates", None)  # not graded: counted as done, no time
    eta.done("gates", 3.0)
    assert eta.seconds_left() is None, "frameworks has no measurement yet"
    eta.done("frameworks", 5.0)
    assert eta.seconds_left() == 0.0


def test_longest_assignments_go_first():
    eta = Eta(["shapes", "stateful"], workers=1, prior={"shapes": [1.5], "stateful": [7.25]})
    assert eta.priority("stateful") == 7250 > eta.priority("shapes") == 1500 > eta.priority("gates") == 0


def test_format_seconds():
    assert [format_seconds(s) for s in (0, 59.6, 61, 3600)] == ["0:00", "1:00", "1:01", "1:00:00"]
