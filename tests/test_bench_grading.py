"""scripts/bench_grading.py and scripts/profile_grading.py: the parts that decide a verdict (no timing is
asserted here: the runs are `make bench-grading`'s)."""

from __future__ import annotations

from pathlib import Path

import lstm_course as course
from scripts import bench_grading as bench
from scripts import profile_grading as profile

ROOT = Path(__file__).resolve().parents[1]


def test_assignments_sorted_by_what_they_import():
    assert bench.kinds(ROOT, list(course.ORDER)) == {
        "torch-only": [a for a in course.ORDER if a in ("shapes", "gates")],
        "TensorFlow": [a for a in course.ORDER if a in ("frameworks", "stateful")],
    }


def test_the_baseline_is_exported_from_git(tmp_path):
    code = bench.export_baseline(ROOT, bench.BASELINE, tmp_path / "code")
    assert (code / "lstm_course" / "__init__.py").is_file()
    assert not (code / "lstm_course" / "sandbox" / "forkserver.py").exists(), (
        "the baseline has no fork server"
    )


def _run(seconds: float, per: dict[str, float]) -> dict:
    return {"seconds": seconds, "per_assignment": per}


def test_each_goal_gets_its_verdict_on_both_sides():
    per = {"shapes": 1.0, "gates": 1.0, "frameworks": 3.0, "stateful": 3.0}
    serial = {a: 10 * 6.0 for a in per}  # 6 s a notebook
    for torch_after, verdict in ((39.0, "met"), (41.0, "MISSED")):
        pairs = {
            "torch-only": (_run(100.0, per), _run(torch_after, per), 20),  # goal <= 0.4
            "TensorFlow": (_run(200.0, per), _run(100.0, per), 20),  # 0.5: met (at the bound)
        }
        one, two = _run(80.0, per), _run(44.0, per)  # 1 worker: 2 s a notebook, 3x serial; 1.82x
        text = bench.report(serial, pairs, one, two, 10, list(per), "abc1234", 0.0)
        assert f"warm / baseline: **{torch_after / 100:.2f}x** (goal <= 0.4x: **{verdict}**)" in text
        assert "**0.50x** (goal <= 0.5x: **met**)" in text
        assert "**3.00x** (goal >= 3x: **met**)" in text and "**1.82x** (goal >= 1.8x: **met**)" in text
        assert "baseline `abc1234`" in text


def test_runs_are_confined_to_their_cores_and_their_cpu_is_counted():
    """A worker is one core: the runs are confined (children included), and the CPU they used is read
    from the machine's counters, which only grow."""
    import os
    import subprocess
    import sys

    allowed = os.sched_getaffinity(0)
    before = bench.cpu_seconds()
    with bench.confined(1):
        child = subprocess.run(
            [sys.executable, "-c", "import os; print(len(os.sched_getaffinity(0)))"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert child.stdout.strip() == "1"
    assert os.sched_getaffinity(0) == allowed
    assert bench.cpu_seconds() >= before > 0


def test_cores_busy_is_cpu_over_wall_time():
    per = {"shapes": 1.0}
    one = {"seconds": 20.0, "per_assignment": per, "cpu": 25.0}
    pairs = {"torch-only": (one, one, 10)}
    text = bench.report(
        {"shapes": 40.0, "cpu": 40.0}, pairs, one, {**one, "cpu": 30.0}, 10, ["shapes"], "a", 0
    )
    assert "| nbgrader `autograde`, serial, cold kernels | 1 | 10 | 40.0 | 4.00 | 15.0 | 1.00 |" in text
    assert "| all, `--workers 1`, warm kernels | 1 | 10 | 20.0 | 2.00 | 30.0 | 1.25 |" in text
    assert "| all, `--workers 2`, warm kernels | 2 | 10 | 20.0 | 2.00 | 30.0 | 1.50 |" in text


def test_the_profile_table_means_the_notebooks_after_the_first():
    phases = {key: 0.0 for _, key in profile.PHASES}
    rows = lambda totals: [  # noqa: E731
        {"assignment": "shapes", "index": i, "total": t, "phases": {**phases, "kernel": t / 2}}
        for i, t in enumerate(totals)
    ]
    text = profile.table(rows([9.0, 3.0, 5.0]), rows([7.0, 1.0, 2.0]), ["shapes"], "abc1234")
    assert "the first: 9.00 s before, 7.00 s after" in text
    assert "| kernel start (until it answers) | 2.00 | 0.75 |" in text
    assert "| **total** | **4.00** | **1.50** (0.38x) |" in text
