"""The nbgrader exercises grade as intended: every assignment, every case in tests/exercise_cases/.

For each assignment (one case file ``tests/exercise_cases/<assignment>.py`` each) a temporary course
is built from ``solutions/`` and ``nbgrader_config.py`` to check the committed release; one submission
per variant is written (the solution, the blank release, every WRONG answer, a WARNS answer and a
tampered wrong answer) and ONE ``lstm-course grade`` run grades them all the way a class is graded:
every kernel sandboxed, the guard and the integrity checks on, on Dask, into a gradebook, with the
course's own settings. A second run, at the same time, grades the LOOP answer and a solution beside it
with a short cell limit (``LOOP_TIMEOUT``: the course's limit is long, for slow days, and a loop would
wait it out in every test cell that calls it). Scores are read from the gradebooks; no honest variant
may be flagged.

The Chinese twins (``exercises/<a>/<a>.zh_CN.ipynb``) are graded in the same run, handed in as
``<a>.zh_CN.ipynb``: per assignment the twin's solution, its blank release and one wrong answer
(``ZH_WRONG``), which must score what the English ones score, fail with the catalogue's translation of the
test's own message and count under the English answer's misconception; for one assignment a twin with
edited test cells (``ZH_TAMPERED``), and for one a folder holding both notebooks (``ZH_BOTH``), which is not
graded.
"""

from __future__ import annotations

import csv
import html
import json
import re
import runpy
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

import lstm_course as course
from lstm_course import cell_messages
from lstm_course.releases import twin_course
from lstm_course.translations import load_messages

ROOT = Path(__file__).resolve().parents[1]
CASE_DIR = ROOT / "tests" / "exercise_cases"
CASES = {p.stem: runpy.run_path(str(p)) for p in sorted(CASE_DIR.glob("*.py")) if not p.name.startswith("_")}
NAMES = sorted(CASES)
WRONG_IDS = [(a, w) for a in NAMES for w in sorted(CASES[a]["WRONG"])]
# the wrong answers whose failing test cells are pinned: a named mistake in a visible test, or a hidden one
MESSAGE_IDS = [(a, w) for a in NAMES for w in sorted(CASES[a].get("WRONG_MESSAGES", {}))]
HIDDEN_IDS = [(a, w) for a in NAMES for w in sorted(CASES[a].get("HIDDEN_FAILS", {}))]
# s per cell in the LOOP run: 5x the slowest honest cell on a 4x-loaded machine (1-6 s), and each loop
# spins a core for this long
LOOP_TIMEOUT = 30
LOOP_RUN = ("loop", "loop_and_solution")  # graded together, in this order, in the second run
ZH = "zh_CN"
ZH_TAMPERED = "gates"  # the twin whose test cells a variant edits (the fastest notebook: no TensorFlow)
ZH_BOTH = "shapes"  # the assignment a student hands in twice, as both notebooks
NOT_GRADED = {"zh_both"}  # variants that must end NOT GRADED, with the reason
# twins whose pinned failure is lstm_ref's diagnosis alone (what="h_n"): no message of the test's own to show
ZH_LSTM_REF_ONLY = {"shapes"}


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
    for name, cells in case.get("WRONG_MESSAGES", {}).items():
        assert name in case["WRONG"], f"{a}: WRONG_MESSAGES names {name}, which is no WRONG answer"
        assert cells and set(cells) <= test_ids, f"{a}/{name}: unknown test cells {set(cells) - test_ids}"
        assert all(phrases for phrases in cells.values()), f"{a}/{name}: a test cell with no phrase"
    for name, cells in case.get("HIDDEN_FAILS", {}).items():
        assert name in case["WRONG"] and cells and set(cells) <= test_ids, f"{a}/{name}: {cells}"
    assert case["WARNS"] and set(case["WARNS"]) <= solution_ids
    assert case["LOOP"] and set(case["LOOP"]) <= solution_ids
    assert 0 <= case["LOOP_SCORE"] < case["MAX_SCORE"]
    assert case["TAMPER_BASE"] in case["WRONG"]
    assert case["TAMPER_CELLS"] and set(case["TAMPER_CELLS"]) <= test_ids
    wrong, cell = case["ZH_WRONG"]
    assert wrong in case["WRONG"] and (cell is None or cell in test_ids), case["ZH_WRONG"]


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
    assert cfg.IgnorePattern.enabled is True
    pattern = cfg.IgnorePattern.pattern
    for category in (UserWarning, RuntimeWarning, DeprecationWarning, FutureWarning):
        text = warnings.formatwarning("careful", category, "/tmp/ipykernel_1/123.py", 7, "warnings.warn(x)")
        assert re.search(pattern, text), text
    assert re.search(pattern, "WARNING:absl:Compiled the loaded model\n")
    for other in ("hello from stderr\n", "Traceback (most recent call last):\nValueError: bad\n"):
        assert not re.search(pattern, other)
    assert "NotImplementedError" in cfg.ClearSolutions.code_stub["python"]


# --------------------------------------------------------------------------- one sandboxed grading run


@dataclass
class Graded:
    assignment: str
    release: Path  # a fresh release: the English notebook and its twin
    students: list[str]
    outcomes: dict[str, course.Outcome]
    scores: dict[str, course.Score]
    outs: dict[str, Path]  # student: the grading run's --out folder
    twin_source: dict  # the twin's source notebook, as lstm-course release makes it (hidden tests included)


def _submissions(a: str, release: Path, twin_home: Path, subs: Path, loop_subs: Path) -> list[str]:
    """Write every variant of ``a`` (see the module docstring); the LOOP ones into ``loop_subs``.
    ``release`` holds the English release and its twin, ``twin_home`` the twin's course."""
    case = CASES[a]
    nb_name, zh_name = case["NOTEBOOK"], course.twin_name(case["NOTEBOOK"], ZH)
    release_nb, twin_nb = course.read_nb(release / nb_name), course.read_nb(release / zh_name)
    source_nb = course.read_nb(ROOT / course.SOLUTIONS / a / nb_name)
    twin_source = course.read_nb(twin_home / course.SOLUTIONS / a / nb_name)
    variants = {"solution": {}, "warns": case["WARNS"], "loop": case["LOOP"], "loop_and_solution": {}}
    variants.update({f"wrong_{w}": ans for w, ans in case["WRONG"].items()})
    tamper = dict(case["WRONG"][case["TAMPER_BASE"]])
    tamper.update({cell: '"""Tampered: always passes."""\nassert True\n' for cell in case["TAMPER_CELLS"]})
    variants["tampered"] = tamper
    for student, answers in variants.items():
        folder = loop_subs if student in LOOP_RUN else subs
        course.write_nb(course.fill_release(release_nb, source_nb, answers), folder / student / a / nb_name)
    course.write_nb(release_nb, subs / "blank" / a / nb_name)
    wrong = case["ZH_WRONG"][0]
    twins = {"zh_solution": {}, f"zh_wrong_{wrong}": case["WRONG"][wrong]}
    if a == ZH_TAMPERED:
        twins["zh_tampered"] = tamper
    for student, answers in twins.items():
        course.write_nb(course.fill_release(twin_nb, twin_source, answers), subs / student / a / zh_name)
    course.write_nb(twin_nb, subs / "zh_blank" / a / zh_name)
    if a == ZH_BOTH:
        course.write_nb(course.fill_release(release_nb, source_nb), subs / "zh_both" / a / nb_name)
        course.write_nb(course.fill_release(twin_nb, twin_source), subs / "zh_both" / a / zh_name)
    return [*variants, "blank", *twins, "zh_blank", *(["zh_both"] if a == ZH_BOTH else [])]


def _release(a: str, base: Path) -> tuple[Path, Path]:
    """A fresh release of ``a`` as `lstm-course release` makes it, in ``base``: the English release folder
    (with the twin written into it) and the twin's course."""
    home = course.make_course(ROOT, base / a, [a])
    rel = course.generate(home, a)
    twin_home = twin_course(home, a, ZH)
    twin = course.generate(twin_home, a)
    nb_name = CASES[a]["NOTEBOOK"]
    course.write_nb(course.read_nb(twin / nb_name), rel / course.twin_name(nb_name, ZH))
    return rel, twin_home


@pytest.fixture(scope="module")
def graded(request, tmp_path_factory) -> dict[str, Graded]:
    """Every variant of the wanted assignments, graded by ``lstm-course grade`` as a class is: sandboxed,
    guarded, on Dask, into a gradebook. The LOOP variants go in a second run at the same time, with a
    short cell limit."""
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
    subs, loop_subs, out, loop_out = base / "subs", base / "subs-loop", base / "out", base / "out-loop"
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:  # nbgrader runs as subprocesses: two at a time
        made = dict(zip(names, pool.map(lambda a: _release(a, base), names), strict=True))
    releases = {a: rel for a, (rel, _) in made.items()}
    students = {a: _submissions(a, rel, twin_home, subs, loop_subs) for a, (rel, twin_home) in made.items()}
    print(f"releases: {len(names)} assignments and their twins in {time.perf_counter() - t0:.0f} s")
    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        main = pool.submit(course.grade, ROOT, subs, out, progress=False, workers=2)
        loop = pool.submit(
            course.grade, ROOT, loop_subs, loop_out, progress=False, workers=1, cell_timeout=LOOP_TIMEOUT
        )
        runs = {out: main.result(), loop_out: loop.result()}
    print(
        f"lstm-course grade: {sum(len(r.outcomes) for r in runs.values())} notebooks in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    results = {}
    for a in names:
        outcomes, scores, outs = {}, {}, {}
        for folder, run in runs.items():
            scores.update(course.read_scores(f"sqlite:///{folder / 'gradebook.db'}", a))
            for o in run.outcomes:
                if o.assignment == a:
                    outcomes[o.student], outs[o.student] = o, folder
        twin_source = course.read_nb(made[a][1] / course.SOLUTIONS / a / CASES[a]["NOTEBOOK"])
        results[a] = Graded(a, releases[a], students[a], outcomes, scores, outs, twin_source)
    return results


def _score(g: Graded, student: str) -> course.Score:
    o = g.outcomes.get(student)
    assert o is not None and o.graded, f"{g.assignment}/{student} was not graded: {o and o.reason}"
    return g.scores[student]


def _autograded(g: Graded, student: str) -> dict:
    """The graded notebook of ``student`` (the instructor's copy)."""
    path = g.outs[student] / "instructor" / student / g.assignment / CASES[g.assignment]["NOTEBOOK"]
    assert path.is_file(), f"no graded notebook for {g.assignment}/{student}: {g.outcomes[student]}"
    return json.loads(path.read_text(encoding="utf-8"))


def _test_cell(nb: dict, grade_id: str) -> dict:
    cells = [c for c in nb["cells"] if _nbmeta(c).get("grade_id") == grade_id]
    assert len(cells) == 1, f"{len(cells)} cells with grade_id {grade_id}"
    return cells[0]


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def _failure(nb: dict, grade_id: str) -> tuple[str, int, int]:
    """(``ename: evalue``, the line of the test cell that raised, the number of its visible lines) of a
    test cell that failed. The line is read from IPython's traceback ("Cell In[n], line L": its first
    frame is the test cell); the visible lines are those before the hidden-tests marker."""
    cell = _test_cell(nb, grade_id)
    errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert len(errors) == 1, (
        f"{grade_id} did not fail once: {[o.get('output_type') for o in cell['outputs']]}"
    )
    frames = re.findall(r"Cell In\[\d+\], line (\d+)", _ANSI.sub("", "\n".join(errors[0]["traceback"])))
    assert frames, f"{grade_id}: no frame of the test cell in the traceback {errors[0]['traceback']}"
    source = "".join(cell["source"]).splitlines()
    visible = source.index("### BEGIN HIDDEN TESTS")
    return f"{errors[0]['ename']}: {errors[0]['evalue']}", int(frames[0]), visible


def _page(g: Graded, student: str) -> str:
    """The student's feedback page (one per notebook the gradebook knows: English names, twin or not)."""
    page = g.outs[student] / "feedback" / student / g.assignment / CASES[g.assignment]["NOTEBOOK"]
    return page.with_suffix(".html").read_text(encoding="utf-8")


def _page_row(g: Graded, student: str, grade_id: str) -> str:
    """The text of ``grade_id``'s row in the student's feedback page (HTML unescaped)."""
    text = _page(g, student)
    rows = [r for r in re.findall(r"<tr>(.*?)</tr>", text, re.S) if r.startswith(f"<td>{grade_id}</td>")]
    assert len(rows) == 1, f"no single row for {grade_id} in the page of {g.assignment}/{student}"
    return html.unescape(rows[0])


def _cells(sc: course.Score) -> str:
    return ", ".join(f"{cell}={v:g}" for (_, cell), v in sorted(sc.cells.items()))


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_every_variant_is_graded_and_none_is_flagged(graded, a):
    """Every honest notebook (solution, blank, each pinned wrong answer, warnings, the loop; the twins too)
    is graded, with no integrity finding: the guard and the static screen raise no flag on honest code."""
    g = graded[a]
    assert sorted(g.outcomes) == sorted(g.students)
    for student, o in g.outcomes.items():
        if student in NOT_GRADED:
            continue
        assert o.graded, f"{a}/{student}: {o.reason}"
        assert o.integrity == [], f"{a}/{student} was flagged: {o.integrity}"
        assert not any("restored" in n or "put back" in n for n in o.notes), f"{a}/{student}: {o.notes}"


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
    for name in (CASES[a]["NOTEBOOK"], course.twin_name(CASES[a]["NOTEBOOK"], ZH)):
        text = (graded[a].release / name).read_text(encoding="utf-8")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
            assert marker not in text, name
        assert "raise NotImplementedError()" in text, name


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_solution_scores_full_marks(graded, a):
    sc = _score(graded[a], "solution")
    assert sc.max_score == CASES[a]["MAX_SCORE"]
    assert sc.score == sc.max_score, f"solution scored {sc.score}/{sc.max_score}: {_cells(sc)}"
    assert graded[a].outcomes["solution"].notes == [], "the grader has nothing to say of a solution"


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_blank_release_scores_zero(graded, a):
    sc = _score(graded[a], "blank")
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
    stderr = [
        o
        for c in nb["cells"]
        if _nbmeta(c).get("grade")
        for o in c.get("outputs", [])
        if o.get("name") == "stderr"
    ]
    assert not stderr, "a test cell's stderr is kept as a note (stdout), never as a stderr stream"


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
    assert any("timed out" in n for n in g.outcomes["loop"].notes), g.outcomes["loop"].notes
    beside = _score(g, "loop_and_solution")
    assert beside.score == beside.max_score, f"the solution graded beside the loop: {_cells(beside)}"


@pytest.mark.slow
@pytest.mark.parametrize(("a", "wrong"), MESSAGE_IDS)
def test_visible_test_names_the_mistake(graded, a, wrong):
    """The pinned wrong answer fails in the VISIBLE part of each named test cell (a line before the hidden
    tests, so the student sees it before handing in), with a message that holds every pinned phrase; the
    student's page shows that message and does not call it a hidden test."""
    g = graded[a]
    nb = _autograded(g, f"wrong_{wrong}")
    for grade_id, phrases in CASES[a]["WRONG_MESSAGES"][wrong].items():
        message, line, visible = _failure(nb, grade_id)
        assert line <= visible, f"{wrong}: {grade_id} failed at line {line}, in its hidden tests: {message}"
        for phrase in phrases:
            assert phrase in message, f"{wrong}: {grade_id}'s message lacks {phrase!r}: {message}"
        row = _page_row(g, f"wrong_{wrong}", grade_id)
        assert phrases[0] in row and "hidden test failed" not in row, row


@pytest.mark.slow
@pytest.mark.parametrize(("a", "wrong"), HIDDEN_IDS)
def test_a_hidden_failure_is_labelled_hidden(graded, a, wrong):
    """The pinned wrong answer passes the visible part of each named test cell and fails a hidden test;
    the student's page says "a hidden test failed" for that cell, and shows no hidden line."""
    g = graded[a]
    nb = _autograded(g, f"wrong_{wrong}")
    for grade_id in CASES[a]["HIDDEN_FAILS"][wrong]:
        message, line, visible = _failure(nb, grade_id)
        assert line > visible, f"{wrong}: {grade_id} failed at line {line}, a visible line: {message}"
        row = _page_row(g, f"wrong_{wrong}", grade_id)
        assert "a hidden test failed: AssertionError" in row, row
        assert "BEGIN HIDDEN" not in row and "for seq in (False, True)" not in row, row


# --------------------------------------------------------------------------- the Chinese twins


def _ledger(g: Graded, student: str) -> dict:
    return json.loads((g.outs[student] / "results" / student / f"{g.assignment}.json").read_text("utf-8"))


def _zh_messages(a: str) -> dict[str, str]:
    """The test messages of ``a``'s catalogue: English msgid -> Chinese."""
    return load_messages((ROOT / course.catalogue_path(a, ZH)).read_text(encoding="utf-8"))


def _words(text: str) -> list[str]:
    """The literal parts of a message (its f-string fields left out), as a failure shows them."""
    parts = (
        t.replace("{{", "{").replace("}}", "}") for kind, t in cell_messages.fields(text) if kind == "text"
    )
    return [p.strip() for p in parts if p.strip()]


def _hidden_parts(nb: dict) -> str:
    """The hidden tests of every test cell of ``nb``, in order."""
    found = re.findall(
        r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS",
        "\n".join(
            "".join(c["source"])
            for c in nb["cells"]
            if _nbmeta(c).get("grade") and not _nbmeta(c).get("solution")
        ),
        re.S,
    )
    return "".join(found)


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_twin_grades_like_english(graded, a):
    """The twin, handed in as <a>.zh_CN.ipynb, is graded by the same tests with the same points: its solution
    scores full marks out of the English maximum, its blank release 0, and the pinned wrong answer exactly
    what it scores in English, cell by cell. The gradebook and the ledger hold it as the assignment."""
    g, case = graded[a], CASES[a]
    wrong = case["ZH_WRONG"][0]
    solution, blank = _score(g, "zh_solution"), _score(g, "zh_blank")
    assert (solution.score, solution.max_score) == (case["MAX_SCORE"], case["MAX_SCORE"]), _cells(solution)
    assert (blank.score, blank.max_score) == (0, case["MAX_SCORE"]), _cells(blank)
    zh, en = _score(g, f"zh_wrong_{wrong}"), _score(g, f"wrong_{wrong}")
    assert zh.cells == en.cells, f"{wrong}: twin {_cells(zh)}; English {_cells(en)}"
    lo, hi = case["WRONG_SCORES"][wrong]
    assert lo <= zh.score <= hi < zh.max_score == case["MAX_SCORE"]
    assert g.outcomes["zh_solution"].notes == [], "the grader has nothing to say of a twin's solution"
    assert _ledger(g, "zh_solution")["language"] == ZH and _ledger(g, "solution")["language"] == "en"
    with open(g.outs["zh_solution"] / "grades.csv", newline="", encoding="utf-8") as fh:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(fh)}
    assert float(rows[a, "zh_solution"]["max_score"]) == case["MAX_SCORE"], "one notebook's points, not two"
    assert f"总分：<b>{zh.score:g} / {case['MAX_SCORE']:g}</b> 分" in _page(g, f"zh_wrong_{wrong}")
    assert f"Total: <b>{en.score:g} / {case['MAX_SCORE']:g}</b> points" in _page(g, f"wrong_{wrong}")
    # the hidden tests nbgrader put back are the twin's, with their messages in Chinese
    hidden = _hidden_parts(_autograded(g, f"zh_wrong_{wrong}"))
    assert hidden == _hidden_parts(g.twin_source) != _hidden_parts(_source(a))
    assert any(_words(zh)[0] in hidden for zh in _zh_messages(a).values()), hidden[:500]


@pytest.mark.slow
@pytest.mark.parametrize("a", NAMES)
def test_twin_feedback_shows_the_messages_in_chinese(graded, a):
    """The pinned wrong answer's failing cell, in the twin: the page (headings and verdict too) and the ledger
    say it in Chinese, where the English notebook's say it in English; every message of the test's own that
    the English page shows is on the twin's page as the catalogue translates it; and the failure counts
    under the same misconceptions as the English one (what the class report counts)."""
    g, case = graded[a], CASES[a]
    wrong, pinned = case["ZH_WRONG"]
    table = _zh_messages(a)
    for cell in [pinned] if pinned else list(case["WRONG_MESSAGES"][wrong]):
        zh_row, en_row = _page_row(g, f"zh_wrong_{wrong}", cell), _page_row(g, f"wrong_{wrong}", cell)
        assert "未通过" in zh_row and re.search(r"[\u4e00-\u9fff]", zh_row), zh_row
        assert "fail" in en_row and not re.search(r"[\u4e00-\u9fff]", en_row), en_row
        assert "<h2>测试</h2>" in _page(g, f"zh_wrong_{wrong}") and "<h2>Tests</h2>" in _page(
            g, f"wrong_{wrong}"
        )
        shown = [en for en in table if all(w in en_row for w in _words(en)) and len("".join(_words(en))) > 12]
        assert bool(shown) == (a not in ZH_LSTM_REF_ONLY), (shown, en_row)
        for en in shown:
            assert all(w in zh_row for w in _words(table[en])), (table[en], zh_row)
        zh, en = (
            {c["name"]: c for c in _ledger(g, s)["cells"]}[cell]
            for s in (f"zh_wrong_{wrong}", f"wrong_{wrong}")
        )
        assert re.search(r"[\u4e00-\u9fff]", zh["message"]), zh["message"]
        assert zh["misconceptions"] == en["misconceptions"] and en["misconceptions"] not in (
            [],
            ["wrong-values"],
        )


@pytest.mark.slow
@pytest.mark.parametrize("a", [ZH_TAMPERED])
def test_twin_tampered_test_cells_are_restored_as_in_english(graded, a):
    """Edited test cells of a twin are put back from the twin's own source (its checksums): the submission
    scores what its answer earns, exactly as the English tampered one, and the integrity checks say of it
    what they say of the English one."""
    g, case = graded[a], CASES[a]
    twin, en = _score(g, "zh_tampered"), _score(g, "tampered")
    assert twin.cells == en.cells == _score(g, f"wrong_{case['TAMPER_BASE']}").cells, _cells(twin)
    assert g.outcomes["zh_tampered"].integrity == g.outcomes["tampered"].integrity
    nb = _autograded(g, "zh_tampered")
    for grade_id in case["TAMPER_CELLS"]:
        assert "".join(_test_cell(nb, grade_id)["source"]) == "".join(
            _test_cell(g.twin_source, grade_id)["source"]
        )


@pytest.mark.slow
@pytest.mark.parametrize("a", [ZH_BOTH])
def test_both_notebooks_handed_in_is_not_graded_with_the_reason(graded, a):
    """A folder holding both <a>.ipynb and <a>.zh_CN.ipynb is not graded (the grader never guesses which one
    counts): the reason is in the outcome, the ledger and the student's page, and the gradebook has no row."""
    g = graded[a]
    o = g.outcomes["zh_both"]
    reason = f"both {a}.ipynb and {a}.zh_CN.ipynb were handed in: hand in only the notebook you worked in"
    assert not o.graded and o.reason == reason
    assert _ledger(g, "zh_both")["reason"] == reason and "zh_both" not in g.scores
    assert html.escape(f"NOT GRADED: {reason}") in _page(g, "zh_both")
