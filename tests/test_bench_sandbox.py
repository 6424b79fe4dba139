"""scripts/bench_sandbox.py: its submissions, its refusal to time broken grading and its BENCHMARKS.md writing.

Fast: nothing is really graded here (``course.grade`` is faked) and no speed is asserted: speed targets live
in the benchmark, never in a timed test."""

import os
import sys
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench_sandbox")


def test_build_submissions_writes_one_correct_notebook_per_student_and_assignment(bench, tmp_path):
    subs = tmp_path / "submissions"
    written = bench.build_submissions(ROOT, subs, 3, ["gates", "shapes"])
    expected = {subs / f"student{i:02d}" / a / f"{a}.ipynb" for i in (1, 2, 3) for a in ("gates", "shapes")}
    assert len(written) == 6 and set(written) == expected
    assert {p for p in subs.rglob("*") if p.is_file()} == expected
    for path in written:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        code = "".join(c.source for c in nb.cells if c.cell_type == "code")
        assert "NotImplementedError" not in code and "BEGIN SOLUTION" not in code, "answered"
        assert "BEGIN HIDDEN TESTS" not in code, "a release, not the source notebook"
    # every student hands in the same correct answer
    assert (subs / "student01/gates/gates.ipynb").read_bytes() == (
        subs / "student03/gates/gates.ipynb"
    ).read_bytes()


def test_build_submissions_fills_the_release_from_the_solutions(bench, tmp_path):
    import lstm_course as course

    (path,) = bench.build_submissions(ROOT, tmp_path, 1, ["gates"])
    src = course.read_nb(ROOT / "solutions/gates/gates.ipynb")
    rel = course.read_nb(ROOT / "exercises/gates/gates.ipynb")
    assert course.read_nb(path) == nbformat.from_dict(course.fill_release(rel, src))


def test_write_block_replaces_only_the_generated_block(bench, tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    other = "<!-- bench:begin (scripts/bench.py --write) -->\nnumpy table\n<!-- bench:end -->"
    doc.write_text(f"# Title\n\n{other}\n\n{bench.BEGIN}\nold report\n{bench.END}\n\n## Notes\n\nkept\n")
    bench.write_block(doc, "| new | report |")
    text = doc.read_text()
    assert "old report" not in text and f"{bench.BEGIN}\n| new | report |\n{bench.END}" in text
    assert text.startswith(f"# Title\n\n{other}\n\n") and text.endswith("## Notes\n\nkept\n")
    assert "## Grading sandbox overhead" not in text, "the intro is added only with missing markers"
    bench.write_block(doc, "| newer |")  # idempotent: the markers stay, once
    text = doc.read_text()
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    assert "| new | report |" not in text and "| newer |" in text


@pytest.mark.parametrize("ending", ["", "\n", "\n\n"])
def test_write_block_appends_the_section_when_the_markers_are_missing(bench, tmp_path, ending):
    doc = tmp_path / "BENCHMARKS.md"
    hand = "# Benchmarks\n\nhand-written text"
    doc.write_text(hand + ending)
    bench.write_block(doc, "| report |")
    text = doc.read_text()
    assert text.startswith(hand + "\n\n## Grading sandbox overhead\n"), (
        "the rest is kept, a blank line before"
    )
    assert text.endswith(f"{bench.BEGIN}\n| report |\n{bench.END}\n")
    assert bench.INTRO in text
    bench.write_block(doc, "| again |")
    again = doc.read_text()
    assert again.count("## Grading sandbox overhead") == 1 and again.count(bench.BEGIN) == 1
    assert again == text.replace("| report |", "| again |")


def test_write_block_creates_a_missing_file(bench, tmp_path):
    doc = tmp_path / "new.md"
    bench.write_block(doc, "| r |")
    assert doc.read_text() == f"{bench.INTRO}\n{bench.BEGIN}\n| r |\n{bench.END}\n"


def test_the_goal_is_the_issue_s(bench):
    assert bench.GOAL == 1.15
    assert bench.BEGIN != "<!-- bench:begin (scripts/bench.py --write) -->", "its own markers"


def test_report_says_whether_the_goal_was_met(bench):
    grading = {"sandboxed": [12.0, 11.0], "unsandboxed": [10.0, 10.5], "warnings": 2}
    kernels = {
        "sandboxed": {"start": [0.6, 0.5, 0.7], "stop": [0.2, 0.2, 0.2]},
        "plain": {"start": [0.5, 0.4, 0.6], "stop": [0.1, 0.1, 0.1]},
    }
    text = bench.report(grading, kernels, 5, "5 students x gates", 2, 3, 0.5)
    assert "| sandboxed | 2.20 | 2.40, 2.20 | 11.0 |" in text
    assert "**1.10x**" in text and "**met** (1.10x)" in text
    assert "| `SandboxKernelManager` | 0.60 | 0.50 | 0.20 |" in text
    assert "+0.10 (1.20x)" in text and "2 of 2 captured" in text
    assert "differ by +0.20 s (medians), against +0.20 s per notebook" in text
    grading["sandboxed"] = [13.0]
    assert "**MISSED** (1.30x)" in bench.report(grading, kernels, 5, "x", 2, 3, 0.5)


def _fake_grade(outcomes):
    def grade(root, subs, out, progress, sandbox):
        print("per-student lines")
        if not sandbox:
            print(_warning(), file=sys.stderr)
        return SimpleNamespace(outcomes=outcomes)

    return grade


def _warning():
    from lstm_course.grading.coordinator import NO_SANDBOX_WARNING

    return NO_SANDBOX_WARNING


def test_grade_once_captures_the_warning_and_accepts_full_marks(bench, monkeypatch, tmp_path, capsys):
    from lstm_course.grading.coordinator import Outcome

    full = [Outcome("s1", "gates", "graded", 10.0, 10.0), Outcome("s2", "gates", "graded", 10.0, 10.0)]
    monkeypatch.setattr(bench.course, "grade", _fake_grade(full))
    seconds, err = bench.grade_once(ROOT, tmp_path, tmp_path / "out", sandbox=False, expected=2)
    assert seconds >= 0 and _warning() in err
    assert bench.grade_once(ROOT, tmp_path, tmp_path / "out", sandbox=True, expected=2)[1] == ""
    assert capsys.readouterr() == ("", ""), "grade()'s printing is captured"


@pytest.mark.parametrize(
    "outcomes",
    [
        [("graded", 10.0, 10.0, ""), ("graded", 7.0, 10.0, "")],  # not full marks
        [("graded", 10.0, 10.0, ""), ("not graded", None, None, "the kernel died")],
        [("graded", 10.0, 10.0, "")],  # a submission missing
        [("graded", 0.0, 0.0, ""), ("graded", 0.0, 0.0, "")],  # nothing to score
    ],
)
def test_grade_once_refuses_to_time_broken_grading(bench, monkeypatch, tmp_path, outcomes):
    from lstm_course.grading.coordinator import Outcome

    made = [Outcome(f"s{i}", "gates", st, sc, top, why) for i, (st, sc, top, why) in enumerate(outcomes)]
    monkeypatch.setattr(bench.course, "grade", _fake_grade(made))
    with pytest.raises(bench.GradingBroken, match="did not give 2 submissions full marks"):
        bench.grade_once(ROOT, tmp_path, tmp_path / "out", sandbox=True, expected=2)


def test_main_exits_non_zero_when_grading_is_broken(bench, monkeypatch, tmp_path, capsys):
    from lstm_course.grading.coordinator import Outcome

    monkeypatch.setattr(bench.course, "grade", _fake_grade([Outcome("s", "gates", "not graded", reason="x")]))
    monkeypatch.setattr(bench, "measure_kernel_start", lambda *a: pytest.fail("no kernels after a failure"))
    monkeypatch.setenv("PATH", os.environ["PATH"])  # main() puts the venv first, as grade() does
    doc = tmp_path / "BENCHMARKS.md"
    args = ["--root", str(ROOT), "--students", "1", "--assignments", "gates", "--write", str(doc)]
    assert bench.main(args) == 1
    assert "full marks" in capsys.readouterr().err and not doc.exists()


def test_the_committed_benchmarks_file_has_the_section_once(bench):
    text = (ROOT / "BENCHMARKS.md").read_text()
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
    assert text.index(bench.BEGIN) > text.index("<!-- bench:end -->"), "after the NumPy/torch table"
    assert bench.INTRO in text, "the intro in BENCHMARKS.md is the one the script would add"
