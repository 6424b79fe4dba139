"""lstm_course.grading.cells: a submission's test cells put back where they belong, broken answer cells graded.

Hand-built notebooks for each rule, the real releases, and one autograde run of real nbgrader on a toy course.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lstm_course.grading.cells import RestoreCells, restore_layout

ROOT = Path(__file__).resolve().parents[1]


def meta(gid: str, kind: str, points: int = 1) -> dict:
    """nbgrader metadata as generate_assignment writes it (kind: answer, test, locked)."""
    m = {
        "grade_id": gid,
        "grade": kind == "test",
        "solution": kind == "answer",
        "locked": kind != "answer",
        "schema_version": 3,
        "task": False,
        "checksum": f"sum-{gid}",
    }
    return m | ({"points": points} if kind == "test" else {})


def code(cid: str, source: str, kind: str | None = None, points: int = 1) -> dict:
    md = {"nbgrader": meta(cid, kind, points)} if kind else {}
    return new_code_cell(source, id=cid, metadata=md)


STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
RELEASE = new_notebook(
    cells=[
        new_markdown_cell("# Toy", id="intro"),
        code("setup", "import math", "locked"),
        new_markdown_cell("## A", id="md-a"),
        code("A", STUB, "answer"),
        code("T1", "assert a() == 1", "test"),
        code("T2", "assert a() > 0", "test"),
        new_markdown_cell("## B", id="md-b"),
        code("B", STUB, "answer"),
        code("T3", "assert b() == 2", "test", 2),
    ],
    metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
)
ORDER = [c["id"] for c in RELEASE.cells]


def answered() -> dict:
    """The release with both answers written: what an honest student hands in."""
    nb = copy.deepcopy(RELEASE)
    cell(nb, "A").source = "def a():\n    return 1"
    cell(nb, "B").source = "def b():\n    return 2"
    return nb


def cell(nb: dict, cid: str) -> dict:
    return next(c for c in nb["cells"] if c.get("id") == cid)


def submission(*ids: str | dict) -> dict:
    """An answered submission with the cells ``ids`` in that order (a cell given in ``ids`` is used as is)."""
    nb = answered()
    out = copy.deepcopy(nb)
    out.cells = [copy.deepcopy(c) if isinstance(c, dict) else copy.deepcopy(cell(nb, c)) for c in ids]
    return out


def run(sub: dict, release: dict = RELEASE) -> tuple[dict, list[str]]:
    """restore_layout, checking what every result must be: inputs untouched, a valid notebook, unique ids."""
    before = json.dumps([sub, release], sort_keys=True)
    nb, notes = restore_layout(sub, release)
    assert json.dumps([sub, release], sort_keys=True) == before, "an input was changed"
    nbformat.validate(nbformat.from_dict(nb))  # a copy: our own id check below sees any duplicate
    ids = [c["id"] for c in nb["cells"]]
    assert len(ids) == len(set(ids)), ids
    graded = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if "nbgrader" in c["metadata"]]
    assert len(graded) == len(set(graded)), graded
    return nb, notes


def layout(nb: dict) -> list[str]:
    """Each cell as its grade_id, or as ``~id`` for a free cell."""
    return [c["metadata"].get("nbgrader", {}).get("grade_id") or f"~{c['id']}" for c in nb["cells"]]


RELEASE_LAYOUT = ["~intro", "setup", "~md-a", "A", "T1", "T2", "~md-b", "B", "T3"]


def restored(nb: dict) -> list[str]:
    return nb["metadata"].get("lstm_course", {}).get("restored_tests", [])


# --------------------------------------------------------------------------- the rules


def test_untouched_submission_is_left_alone():
    sub = answered()
    nb, notes = run(sub)
    assert nb["cells"] == sub["cells"] and notes == []
    assert "lstm_course" not in nb["metadata"]


def test_plain_dicts_work_like_notebook_nodes():
    sub = json.loads(json.dumps(submission(*[i for i in ORDER if i != "T1"])))
    nb, notes = run(sub, json.loads(json.dumps(RELEASE)))
    assert layout(nb) == RELEASE_LAYOUT and notes and type(nb) is dict


@pytest.mark.parametrize("test", ["T1", "T2", "T3"])
def test_deleted_test_is_put_back_after_its_answer(test):
    nb, notes = run(submission(*[i for i in ORDER if i != test]))
    anchor = "B" if test == "T3" else "A"
    assert layout(nb) == RELEASE_LAYOUT
    assert cell(nb, test) == cell(RELEASE, test)
    assert notes == [f"test cell `{test}` was deleted: put back after `{anchor}` and graded"]
    assert nb["metadata"]["lstm_course"] == {"layout_notes": notes, "restored_tests": [test]}


def test_test_moved_above_its_answer_runs_after_it():
    nb, notes = run(submission("intro", "setup", "md-a", "T1", "A", "T2", "md-b", "B", "T3"))
    assert layout(nb) == RELEASE_LAYOUT
    assert notes == ["test cell `T1` was moved: put back after `A`"] and restored(nb) == ["T1"]


def test_test_moved_to_the_end_goes_back():
    nb, notes = run(submission("intro", "setup", "md-a", "A", "T2", "md-b", "B", "T3", "T1"))
    assert layout(nb) == RELEASE_LAYOUT
    assert notes == ["test cell `T1` was moved: put back after `A`"]


def test_swapped_tests_run_in_release_order():
    nb, notes = run(submission("intro", "setup", "md-a", "A", "T2", "T1", "md-b", "B", "T3"))
    assert layout(nb) == RELEASE_LAYOUT and restored(nb) == ["T1"]


def test_duplicated_test_runs_once():
    t3 = cell(RELEASE, "T3")
    copies = [dict(copy.deepcopy(t3), id=f"t3-{i}") for i in range(2)]
    nb, notes = run(
        submission("intro", copies[0], "setup", "md-a", "A", "T1", "T2", "md-b", "B", "T3", copies[1])
    )
    assert layout(nb) == RELEASE_LAYOUT
    assert notes == ["test cell `T3` appeared 3 times: it runs once, after `B`"] and restored(nb) == ["T3"]


def test_helper_cells_between_answer_and_test_still_run_before_it():
    helper = new_code_cell("def helper():\n    return 1", id="helper")
    nb, notes = run(submission("intro", "setup", "md-a", "A", helper, "T1", "T2", "md-b", "B", "T3"))
    assert layout(nb) == ["~intro", "setup", "~md-a", "A", "~helper", "T1", "T2", "~md-b", "B", "T3"]
    assert notes == []
    for gone in ("T1", "T2"):  # a test put back goes after the helper too
        kept = [i for i in ("T1", "T2") if i != gone]
        nb, _ = run(submission("intro", "setup", "md-a", "A", helper, *kept, "md-b", "B", "T3"))
        assert layout(nb)[:7] == ["~intro", "setup", "~md-a", "A", "~helper", "T1", "T2"]


def test_test_before_every_answer_goes_back_to_the_leading_block():
    release = new_notebook(
        cells=[
            new_markdown_cell("# Toy", id="intro"),
            code("T0", "import math", "test"),
            new_markdown_cell("## A", id="md-a"),
            code("A", STUB, "answer"),
        ]
    )
    nb, notes = run(submission("intro", "md-a", "A"), release)
    assert layout(nb) == ["~intro", "T0", "~md-a", "A"]
    assert notes == ["test cell `T0` was deleted: put back before the first graded cell and graded"]


def test_deleted_answer_is_graded_as_unanswered():
    nb, notes = run(submission(*[i for i in ORDER if i != "B"]))
    assert layout(nb) == RELEASE_LAYOUT and cell(nb, "B").source == STUB
    assert notes == ["answer cell `B` was deleted: graded as unanswered"] and restored(nb) == []


def test_answer_turned_into_markdown_is_kept_as_text_and_graded_as_unanswered():
    sub = submission(*ORDER)
    a = cell(sub, "A")
    sub.cells[sub.cells.index(a)] = new_markdown_cell(a.source, id="A", metadata=a.metadata)
    nb, notes = run(sub)
    assert layout(nb)[3:6] == ["~A", "A", "T1"]
    assert nb.cells[3].cell_type == "markdown" and nb.cells[3].source == "def a():\n    return 1"
    assert nb.cells[4].cell_type == "code" and nb.cells[4].source == STUB
    assert notes == [
        "answer cell `A` was turned into a Markdown cell: graded as unanswered (your text is kept, not run)"
    ]


def test_test_turned_into_markdown_is_put_back():
    sub = submission(*ORDER)
    t3 = cell(sub, "T3")
    sub.cells[-1] = new_markdown_cell("my notes", id="T3", metadata=t3.metadata)
    nb, notes = run(sub)
    assert layout(nb)[-3:] == ["B", "~T3", "T3"] and restored(nb) == ["T3"]  # at the end of B's block
    assert notes == [
        "test cell `T3` was turned into a Markdown cell: put back after `B` and graded (your text is kept, not run)"
    ]


def test_duplicated_answer_runs_every_copy_and_grades_the_last():
    first = dict(copy.deepcopy(cell(answered(), "A")), id="a-copy", source="def a():\n    return 0")
    nb, notes = run(submission("intro", "setup", "md-a", first, "A", "T1", "T2", "md-b", "B", "T3"))
    assert layout(nb) == ["~intro", "setup", "~md-a", "~a-copy", *RELEASE_LAYOUT[3:]]
    assert cell(nb, "a-copy")["source"] == "def a():\n    return 0"  # it still runs, as the student's code
    assert notes == [
        "answer cell `A` appears 2 times: every copy runs in your order; the last one is your answer"
    ]


def test_tests_follow_the_last_copy_of_their_answer():
    last = dict(copy.deepcopy(cell(answered(), "A")), id="a-copy")
    nb, notes = run(submission(*ORDER, last))
    assert layout(nb) == ["~intro", "setup", "~md-a", "~A", "~md-b", "B", "T3", "A", "T1", "T2"]
    assert notes[1:] == [
        "test cell `T1` was moved: put back after `A`",
        "test cell `T2` was moved: put back after `A`",
    ]


def test_deleted_setup_is_put_back_where_it_was():
    nb, notes = run(submission(*[i for i in ORDER if i != "setup"]))
    assert layout(nb) == RELEASE_LAYOUT and cell(nb, "setup").source == "import math"
    assert notes == ["read-only cell `setup` was deleted: put back"]


def test_flipped_metadata_is_reset_from_the_release():
    sub = submission(*ORDER)
    cell(sub, "T1").metadata.nbgrader.update(points=100)
    cell(sub, "T2").metadata.nbgrader.update(solution=True, grade=False)  # "my answer now"
    cell(sub, "A").metadata.nbgrader.update(grade=True, points=50)
    cell(sub, "setup").metadata.nbgrader.update(locked=False, checksum="x")
    nb, notes = run(sub)
    assert notes == [] and layout(nb) == RELEASE_LAYOUT
    for c, r in zip(nb.cells, RELEASE.cells, strict=True):
        assert c.metadata.get("nbgrader") == r.metadata.get("nbgrader")
    assert cell(nb, "A").source == "def a():\n    return 1"


def test_unknown_grade_id_becomes_a_free_cell():
    bonus = code("bonus", "x = 1", "answer")
    nb, notes = run(submission(*ORDER[:4], bonus, *ORDER[4:]))
    assert layout(nb) == [*RELEASE_LAYOUT[:4], "~bonus", *RELEASE_LAYOUT[4:]]
    assert cell(nb, "bonus").source == "x = 1" and "nbgrader" not in cell(nb, "bonus").metadata
    assert len(notes) == 1 and "`bonus`" in notes[0]


def test_empty_notebook_gets_every_graded_cell():
    nb, notes = run(submission())
    assert layout(nb) == ["setup", "A", "T1", "T2", "B", "T3"]
    assert len(notes) == 6 and restored(nb) == ["T1", "T2", "T3"]


def test_only_free_cells_come_first():
    mine = [new_code_cell("x = 1", id="mine"), new_markdown_cell("hello", id="hi")]
    nb, _ = run(submission(*mine))
    assert layout(nb) == ["~mine", "~hi", "setup", "A", "T1", "T2", "B", "T3"]


def test_weird_submissions_do_not_raise():
    weird = [
        {"nbformat": 4, "nbformat_minor": 5, "metadata": [], "cells": "no"},
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [1, {"cell_type": "code"}]},
        {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"metadata": {"nbgrader": "A"}}]},
        {
            "nbformat": 4,
            "cells": [{"metadata": []}, {"metadata": {"nbgrader": {"grade_id": 3, "grade": True}}}],
        },
        {
            "nbformat": 4,
            "nbformat_minor": 5,
            "cells": [{"id": ["x"], "cell_type": "markdown", "metadata": {}}],
        },
    ]
    for sub in weird:
        nb, _ = restore_layout(sub, RELEASE)
        graded = [
            c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"] if "nbgrader" in c.get("metadata", {})
        ]
        assert graded == ["setup", "A", "T1", "T2", "B", "T3"]


def test_old_format_without_cell_ids():
    sub = submission(*[i for i in ORDER if i != "T1"])
    sub.nbformat_minor = 4
    for c in sub.cells:
        del c["id"]
    nb, _ = restore_layout(sub, RELEASE)
    nbformat.validate(nbformat.from_dict(nb))
    assert all("id" not in c for c in nb["cells"])


# --------------------------------------------------------------------------- the real releases


RELEASES = sorted((ROOT / "exercises").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", RELEASES, ids=lambda p: p.stem)
def test_real_release_is_its_own_layout_and_every_deleted_test_comes_back(path):
    release = nbformat.read(path, as_version=4)
    nb, notes = run(release, release)
    assert nb["cells"] == release["cells"] and notes == []
    tests = [i for i, c in enumerate(release.cells) if c.metadata.get("nbgrader", {}).get("grade")]
    assert tests
    for i in tests:
        sub = copy.deepcopy(release)
        del sub.cells[i]
        nb, notes = run(sub, release)
        assert nb["cells"] == release["cells"], (i, notes)
        assert restored(nb) == [release.cells[i].metadata.nbgrader.grade_id]


# --------------------------------------------------------------------------- the preprocessor


def test_preprocessor_without_a_release_leaves_the_notebook(tmp_path):
    sub = submission(*ORDER[:4])
    res = {"nbgrader": {"assignment": "toy", "notebook": "toy"}}
    assert RestoreCells().preprocess(sub, res)[0] is sub
    assert RestoreCells(release_dir=str(tmp_path)).preprocess(sub, res)[0] is sub
    (tmp_path / "toy").mkdir()
    nbformat.write(RELEASE, tmp_path / "toy" / "toy.ipynb")
    nb, _ = RestoreCells(release_dir=str(tmp_path)).preprocess(sub, res)
    assert isinstance(nb, nbformat.NotebookNode)
    assert layout(nb) == ["~intro", "setup", "~md-a", "A", "T1", "T2", "B", "T3"]


# --------------------------------------------------------------------------- real nbgrader


TOY_CONFIG = """
from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells
from nbgrader.preprocessors import OverwriteKernelspec
from lstm_course.grading.cells import RestoreCells
c = get_config()
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.Autograde.sanitize_preprocessors = [ClearOutput, RestoreCells, DeduplicateIds, OverwriteKernelspec,
    OverwriteCells, CheckCellMetadata]
c.RestoreCells.release_dir = {release!r}
c.Execute.timeout = 60
"""


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:Object of type <Submitted")  # nbgrader's own autoflush warnings
def test_nbgrader_grades_deleted_moved_and_copied_cells(tmp_path, monkeypatch):
    """generate_assignment, then autograde: a submission without a test, one with a test above its answer,
    and one with a copied answer and a copied test. All score full marks and carry the notes. (Plain
    nbgrader 0.9.6, measured: 1 of 2 and a manual grade, 1 of 2, and not graded at all: DeduplicateIds
    leaves ``nbgrader: {}`` on the earlier copy, which CheckCellMetadata rejects as an old schema.)"""
    from lstm_course.gradebook import read_scores
    from lstm_course.nbgrader_adapter import NBGRADER, api

    course = tmp_path / "course"
    answer = "def square(x):\n    ### BEGIN SOLUTION\n    return x * x\n    ### END SOLUTION"
    hidden = "assert square(3) == 9\n### BEGIN HIDDEN TESTS\nassert square(-1) == 1\n### END HIDDEN TESTS"
    source = new_notebook(
        cells=[
            code("square", answer, "answer"),
            code("test_2", "assert square(2) == 4", "test"),
            code("test_3", hidden, "test"),
        ],
        metadata=RELEASE.metadata,
    )
    for c in source.cells:
        del c.metadata.nbgrader["checksum"]
    (course / "source" / "toy").mkdir(parents=True)
    nbformat.write(source, course / "source" / "toy" / "toy.ipynb")
    (course / "nbgrader_config.py").write_text(TOY_CONFIG.format(release=str(course / "release")))
    monkeypatch.chdir(tmp_path)  # nbgrader chdirs; the test's cwd comes back
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    nbg = api(course, db_url)  # with this interpreter first on PATH: kernels named python3 are ours
    with NBGRADER:
        assert nbg.generate_assignment("toy", force=True, create=True)["success"]
    release = nbformat.read(course / "release" / "toy" / "toy.ipynb", as_version=4)
    assert "HIDDEN" not in json.dumps(release)

    solved = copy.deepcopy(release)
    solved.cells[0].source = "def square(x):\n    return x * x"
    square, t2, t3 = solved.cells
    old = nbformat.from_dict(dict(copy.deepcopy(square), id="old", source="def square(x):\n    return x + x"))
    t2_copy = nbformat.from_dict(dict(copy.deepcopy(t2), id="t2-copy"))
    subs = {"deleted": [square, t3], "moved": [t3, square, t2], "copied": [old, square, t2, t2_copy, t3]}
    for student, cells in subs.items():
        sub = copy.deepcopy(solved)
        sub.cells = copy.deepcopy(cells)
        (course / "submitted" / student / "toy").mkdir(parents=True)
        nbformat.write(sub, course / "submitted" / student / "toy" / "toy.ipynb")
        with NBGRADER:
            res = nbg.autograde("toy", student, force=True, create=True)
        assert res["success"], res["log"][-3000:]

    scores = {s: (v.score, v.max_score) for s, v in read_scores(db_url, "toy").items()}
    assert scores == {"deleted": (2, 2), "moved": (2, 2), "copied": (2, 2)}
    for student, test in {"deleted": "test_2", "moved": "test_3", "copied": "test_2"}.items():
        graded = nbformat.read(course / "autograded" / student / "toy" / "toy.ipynb", as_version=4)
        graded_ids = [c.metadata.nbgrader.grade_id for c in graded.cells if "nbgrader" in c.metadata]
        assert graded_ids == ["square", "test_2", "test_3"]
        assert "square(-1)" in graded.cells[-1].source  # the instructor's hidden test ran
        assert graded.metadata.lstm_course["restored_tests"] == [test]
        assert any(f"`{test}`" in note for note in graded.metadata.lstm_course["layout_notes"])
