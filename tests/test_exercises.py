"""The nbgrader exercises grade as intended: every assignment, every case in tests/exercise_cases/.

For each assignment (one case file ``tests/exercise_cases/<assignment>.py`` each) a temporary course
is built from ``solutions/`` and ``nbgrader_config.py``; one submission per variant is written (the
solution, the blank release, every WRONG answer, a WARNS answer and a tampered wrong answer) and ONE
``nbgrader autograde`` run grades them all with the course's own settings. A second run grades the
LOOP answer and a solution beside it with a short cell limit (``LOOP_TIMEOUT``: the course's limit is
long, for slow days, and a loop would wait it out in every test cell that calls it). Scores are read
from the gradebook. The assignments' runs go in parallel (``LSTM_COURSE_JOBS``, default 4): most of
the time is spent waiting on kernels and on the LOOP timeout.
"""

from __future__ import annotations

import json
import os
import runpy
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import lstm_course as course

ROOT = Path(__file__).resolve().parents[1]
CASE_DIR = ROOT / "tests" / "exercise_cases"
CASES = {p.stem: runpy.run_path(str(p)) for p in sorted(CASE_DIR.glob("*.py")) if not p.name.startswith("_")}
NAMES = sorted(CASES)
WRONG_IDS = [(a, w) for a in NAMES for w in sorted(CASES[a]["WRONG"])]
LOOP_TIMEOUT = 60  # s per cell in the LOOP run; the other cells take 1-6 s on a 4x-loaded machine
LOOP_RUN = ("loop", "loop_and_solution")  # graded together, in this order, in the second run


def _source(a: str) -> dict:
    return json.loads((ROOT / course.SOLUTIONS / a / CASES[a]["NOTEBOOK"]).read_text(encoding="utf-8"))


def _nbmeta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


# --------------------------------------------------------------------------- fast structural checks


@pytest.mark.parametrize("a", NAMES)
def test_case_file_fits_its_notebook(a):
    """Every case names real cells, pins ranges strictly inside (0, MAX), and MAX matches the points."""
    case, nb = CASES[a], _source(a)
    assert a in course.assignments(ROOT), f"case file {a}.py but no solutions/{a}/"
    solution_ids = {_nbmeta(c)["grade_id"] for c in nb["cells"] if _nbmeta(c).get("solution")}
    test_ids = {_nbmeta(c)["grade_id"] for c in nb["cells"] if _nbmeta(c).get("grade")}
    points = sum(_nbmeta(c).get("points", 0) for c in nb["cells"] if _nbmeta(c).get("grade"))
    assert points == case["MAX_SCORE"], (
        f"{a}: the notebook's points add up to {points}, not {case['MAX_SCORE']}"
    )
    assert len(case["WRONG"]) >= 3, f"{a}: at least 3 wrong answers needed"
    assert set(case["WRONG_SCORES"]) == set(case["WRONG"])
    for name, answers in case["WRONG"].items():
        assert answers and set(answers) <= solution_ids, f"{a}/{name}: unknown solution cells {set(answers)}"
        lo, hi = case["WRONG_SCORES"][name]
        assert 0 < lo <= hi < case["MAX_SCORE"], f"{a}/{name}: range ({lo}, {hi}) is not inside (0, MAX)"
    assert case["WARNS"] and set(case["WARNS"]) <= solution_ids
    assert case["LOOP"] and set(case["LOOP"]) <= solution_ids
    assert 0 <= case["LOOP_SCORE"] < case["MAX_SCORE"]
    assert case["TAMPER_BASE"] in case["WRONG"]
    assert case["TAMPER_CELLS"] and set(case["TAMPER_CELLS"]) <= test_ids


@pytest.mark.parametrize("a", NAMES)
def test_notebook_follows_the_format(a):
    """Locked set-up cell first, kernelspec, 1-3 points per test cell, docstrings, solution markers."""
    nb = _source(a)
    assert nb["metadata"]["kernelspec"] == {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    first = _nbmeta(code[0])
    assert first.get("locked") and not first.get("grade") and not first.get("solution"), (
        "first code cell: set-up"
    )
    src0 = "".join(code[0]["source"])
    assert 'os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"' in src0 and 'warnings.simplefilter("ignore")' in src0
    ids = [_nbmeta(c).get("grade_id") for c in nb["cells"] if _nbmeta(c)]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    tests = [c for c in code if _nbmeta(c).get("grade")]
    assert len(tests) >= 3
    for c in tests:
        meta, src = _nbmeta(c), "".join(c["source"])
        assert 1 <= meta["points"] <= 3, f"{meta['grade_id']}: {meta['points']} points"
        assert meta["locked"] and not meta["solution"]
        assert src.lstrip().startswith('"""'), f"{meta['grade_id']}: test cells open with a docstring"
    for c in code:
        if _nbmeta(c).get("solution"):
            src = "".join(c["source"])
            assert "### BEGIN SOLUTION" in src and "### END SOLUTION" in src, _nbmeta(c)["grade_id"]
    assert any("### BEGIN HIDDEN TESTS" in "".join(c["source"]) for c in tests), "no hidden tests"


def test_nbgrader_config_drops_warnings_only():
    """IgnorePattern is enabled and matches what Python prints for a warning, not other stderr."""
    import re
    import warnings

    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(ROOT)).load_config()
    assert cfg.CourseDirectory.root == str(ROOT)
    assert (cfg.CourseDirectory.source_directory, cfg.CourseDirectory.release_directory) == (
        course.SOLUTIONS,
        course.EXERCISES,
    )
    # limits that catch a hang, not a slow machine (a cell takes 1-6 s here); each one, when it runs
    # out, costs a cell (timeout) or the whole notebook (startup, iopub)
    assert cfg.Execute.timeout == 120 and LOOP_TIMEOUT < cfg.Execute.timeout
    assert cfg.Execute.startup_timeout >= 300 and cfg.Execute.iopub_timeout >= 60
    # what students and instructors are told is the limit that applies
    limit = cfg.Execute.timeout
    assert f"more than {limit // 60} minutes is stopped" in (ROOT / "book" / "exercises.md").read_text()
    readme = (ROOT / "README.md").read_text()
    assert f"{limit} s per cell" in readme and f"longer than {limit} s is interrupted" in readme
    assert cfg.IgnorePattern.enabled is True
    pattern = cfg.IgnorePattern.pattern
    for category in (UserWarning, RuntimeWarning, DeprecationWarning, FutureWarning):
        text = warnings.formatwarning("careful", category, "/tmp/ipykernel_1/123.py", 7, "warnings.warn(x)")
        assert re.search(pattern, text), text
    assert re.search(pattern, "WARNING:absl:Compiled the loaded model\n")
    for other in ("hello from stderr\n", "Traceback (most recent call last):\nValueError: bad\n"):
        assert not re.search(pattern, other)
    assert "NotImplementedError" in cfg.ClearSolutions.code_stub["python"]


# --------------------------------------------------------------------------- one autograde run each


@dataclass
class Graded:
    assignment: str
    course: Path
    release: Path
    students: list[str]
    scores: dict[str, course.Score]
    seconds: float
    log: str
    retried: dict[str, str]  # student: why the first run could not grade the notebook


def _grade_assignment(a: str, base: Path) -> Graded:
    case = CASES[a]
    nb_name = case["NOTEBOOK"]
    home = course.make_course(ROOT, base / a, [a])
    rel = course.generate(home, a)
    release_nb = course.read_nb(rel / nb_name)
    source_nb = course.read_nb(home / course.SOLUTIONS / a / nb_name)
    subs = {"solution": {}, "warns": case["WARNS"], "loop": case["LOOP"], "loop_and_solution": {}}
    subs.update({f"wrong_{w}": ans for w, ans in case["WRONG"].items()})
    tamper = dict(case["WRONG"][case["TAMPER_BASE"]])
    tamper.update({cell: '"""Tampered: always passes."""\nassert True\n' for cell in case["TAMPER_CELLS"]})
    subs["tampered"] = tamper
    for student, answers in subs.items():
        sub = course.fill_release(release_nb, source_nb, answers)
        course.write_nb(sub, home / "submitted" / student / a / nb_name)
    course.write_nb(release_nb, home / "submitted" / "blank" / a / nb_name)
    t0 = time.perf_counter()
    exclude = f"--CourseDirectory.student_id_exclude={','.join(LOOP_RUN)}"
    main = course.autograde(home, a, check=False, options=[exclude])
    loop_options = [f"--Execute.timeout={LOOP_TIMEOUT}"]
    loop = course.autograde(home, a, student="loop*", check=False, options=loop_options)
    log = f"{main.stdout}{main.stderr}\n---- the LOOP run\n{loop.stdout}{loop.stderr}"
    # A notebook that nbgrader could not grade at all is graded once more, alone, and nbgrader's first
    # reason is reported as a warning; a second failure is the test's to report (``_autograded``). On the
    # 2-core CI machine, with other tests' kernels starting beside these four runs, one notebook in ~170
    # was lost this way twice (2026-11-29), each time a different one, and grading it again alone passed;
    # the log of those runs was not kept. Known causes of such losses: kernels racing for TCP ports at
    # start (jupyter_client issue 487), nbclient's short start-up and IOPub limits (nbgrader_config.py).
    students, retried = [*subs, "blank"], {}
    for student in students:
        if not (home / "autograded" / student / a / nb_name).is_file():
            why = _why_not_graded(log, student, a)
            again = course.autograde(
                home, a, student=student, check=False, options=loop_options if student in LOOP_RUN else []
            )
            log += f"\n---- {student} again\n{again.stdout}{again.stderr}"
            retried[student] = why
    seconds = time.perf_counter() - t0
    (home / "autograde.log").write_text(log, encoding="utf-8")  # kept with pytest's last temporary folders
    scores = course.read_scores(course.db_url_of(home), a)
    return Graded(a, home, rel, students, scores, seconds, log, retried)


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory) -> dict[str, Graded]:
    # grade only the assignments that the selected tests ask for (all of them in a full run)
    wanted = {
        item.callspec.params["a"]
        for item in request.session.items
        if "graded" in getattr(item, "fixturenames", ())
        and hasattr(item, "callspec")
        and "a" in item.callspec.params
        and item.module.__name__ == __name__  # other modules may have a fixture of the same name
    }
    names = [a for a in NAMES if a in wanted]
    base = tmp_path_factory.mktemp("courses")
    jobs = int(os.environ.get("LSTM_COURSE_JOBS", "4"))
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(names)))) as pool:
        results = dict(zip(names, pool.map(lambda a: _grade_assignment(a, base), names), strict=False))
    for g in results.values():
        print(f"autograde {g.assignment}: {len(g.students)} notebooks in {g.seconds:.1f}s")
        for student, why in g.retried.items():
            msg = f"{g.assignment}/{student} was graded a second time; the first run said:\n{why[-1500:]}"
            warnings.warn(msg, stacklevel=2)
    return results


def _score(g: Graded, student: str) -> course.Score:
    _autograded(g, student)  # a notebook nbgrader could not run scores 0 in the gradebook: say why instead
    assert student in g.scores, f"{g.assignment}/{student} was not graded; nbgrader said:\n{g.log[-3000:]}"
    return g.scores[student]


def _why_not_graded(log: str, student: str, assignment: str) -> str:
    """nbgrader's error lines about ``student`` (its traceback follows the first), else the log's end."""
    lines = log.splitlines()
    mine = f"/{student}/{assignment}"
    start = next((i for i, line in enumerate(lines) if "ERROR" in line and mine in line), None)
    if start is None:
        return log[-3000:]
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].startswith("[AutogradeApp | INFO]")), None
    )
    return "\n".join(lines[start : min(end or len(lines), start + 80)])


def _autograded(g: Graded, student: str) -> dict:
    """The graded notebook of ``student``; if nbgrader wrote none, fail with nbgrader's reason for it."""
    path = g.course / "autograded" / student / g.assignment / CASES[g.assignment]["NOTEBOOK"]
    if not path.is_file():
        why = _why_not_graded(g.log, student, g.assignment)
        pytest.fail(f"nbgrader wrote no graded notebook for {g.assignment}/{student}:\n{why}")
    return json.loads(path.read_text(encoding="utf-8"))


def _cells(sc: course.Score) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in sorted(sc.cells.items()))


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_release_matches_fresh_generate(graded, a):
    """exercises/<a>/ is exactly what nbgrader generate_assignment makes from solutions/<a>/ now."""
    fresh, committed = graded[a].release, ROOT / course.EXERCISES / a
    assert committed.is_dir(), f"exercises/{a}/ is missing: run `lstm-course release`"
    files = lambda d: sorted(str(p.relative_to(d)) for p in d.rglob("*") if p.is_file())  # noqa: E731
    assert files(committed) == files(fresh), "exercises/ is stale: run `lstm-course release`"
    for rel in files(fresh):
        if rel.endswith(".ipynb"):
            got = json.loads((committed / rel).read_text(encoding="utf-8"))
            want = json.loads((fresh / rel).read_text(encoding="utf-8"))
            assert got == want, f"exercises/{a}/{rel} differs from a fresh release: run `lstm-course release`"
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), rel


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_release_hides_solutions_and_hidden_tests(graded, a):
    text = (graded[a].release / CASES[a]["NOTEBOOK"]).read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    assert "raise NotImplementedError()" in text


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_solution_scores_full_marks(graded, a):
    sc = _score(graded[a], "solution")
    assert sc.max_score == CASES[a]["MAX_SCORE"]
    assert sc.score == sc.max_score, f"solution scored {sc.score}/{sc.max_score}: {_cells(sc)}"


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_blank_release_scores_zero(graded, a):
    sc = _score(graded[a], "blank")
    _autograded(graded[a], "blank")
    assert sc.score == 0, f"the blank release scored {sc.score}: {_cells(sc)}"


@pytest.mark.slow
@pytest.mark.parametrize(("a", "wrong"), WRONG_IDS)
def test_wrong_answer_gets_partial_credit(graded, a, wrong):
    sc = _score(graded[a], f"wrong_{wrong}")
    lo, hi = CASES[a]["WRONG_SCORES"][wrong]
    assert 0 < sc.score < sc.max_score
    assert lo <= sc.score <= hi, f"{wrong} scored {sc.score}, pinned to [{lo}, {hi}]: {_cells(sc)}"


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_warnings_do_not_cost_points(graded, a):
    sc = _score(graded[a], "warns")
    assert sc.score == sc.max_score, f"a correct answer that warns scored {sc.score}: {_cells(sc)}"
    nb = _autograded(graded[a], "warns")
    warned = [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if o.get("name") == "stderr"
    ]
    assert not warned, "IgnorePattern should have dropped the warning outputs"


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_tampered_test_cells_are_restored(graded, a):
    case = CASES[a]
    sc = _score(graded[a], "tampered")
    base = _score(graded[a], f"wrong_{case['TAMPER_BASE']}")
    assert sc.score == base.score, f"tampered {sc.score} vs {case['TAMPER_BASE']} {base.score}: {_cells(sc)}"
    nb = _autograded(graded[a], "tampered")
    for cell in nb["cells"]:
        if _nbmeta(cell).get("grade_id") in case["TAMPER_CELLS"]:
            assert "Tampered" not in "".join(cell["source"])


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_endless_loop_times_out_and_the_rest_is_graded(graded, a):
    g = graded[a]
    sc = _score(g, "loop")
    assert sc.score == CASES[a]["LOOP_SCORE"], f"loop scored {sc.score}: {_cells(sc)}"
    nb = _autograded(g, "loop")
    errors = [o.get("ename") for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert {"CellTimeoutError", "KeyboardInterrupt"} & set(errors), f"no timeout recorded: {errors}"
    assert set(g.students) <= set(g.scores), f"not graded: {set(g.students) - set(g.scores)}"
    beside = _score(g, "loop_and_solution")
    assert beside.score == beside.max_score, f"the solution graded beside the loop: {_cells(beside)}"
