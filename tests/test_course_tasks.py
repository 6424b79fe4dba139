"""lstm_course.grading.worker: the course bundle a worker gets, its nbgrader settings, and grading one job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lstm_course.grading.worker import CourseBundle
from lstm_course.nbgrader_adapter import Settings, grading_config

ROOT = Path(__file__).resolve().parents[1]


def test_course_key_changes_only_with_that_assignment(tmp_path):
    for name in ("nbgrader_config.py",):
        shutil.copy2(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    before = CourseBundle.from_root(tmp_path, Settings())
    nb = tmp_path / "solutions" / "gates" / "gates.ipynb"
    nb.write_text(nb.read_text().replace("numerically safe sigmoid", "safe sigmoid"))
    after = CourseBundle.from_root(tmp_path, Settings())
    assert before.course_key("gates") != after.course_key("gates")
    assert before.course_key("shapes") == after.course_key("shapes")
    assert before.notebooks("gates") == ["gates.ipynb"]
    # a twin's grade also rests on its catalogue: editing it regrades the twins of that assignment only
    po = tmp_path / "solutions" / "locales" / "zh_CN" / "LC_MESSAGES" / "gates.po"
    po.write_text(po.read_text(encoding="utf-8").replace("数值稳定", "数值上稳定"), encoding="utf-8")
    edited = CourseBundle.from_root(tmp_path, Settings())
    assert edited.course_key("gates", "zh_CN") != after.course_key("gates", "zh_CN")
    assert edited.course_key("gates") == after.course_key("gates") != after.course_key("gates", "zh_CN")
    assert edited.course_key("shapes", "zh_CN") == after.course_key("shapes", "zh_CN")


def test_grading_config_names_the_sandbox_and_limits(tmp_path):
    from nbconvert.exporters import NotebookExporter
    from traitlets.utils.importstring import import_item

    c = grading_config(tmp_path, tmp_path / "reports", Settings(cell_timeout=7))
    assert c.SandboxExecute.sandbox is True and c.Execute.timeout == 7
    assert c.RestoreCells.release_dir == str(tmp_path / "exercises")
    assert "lstm_course.sandbox.kernel.SandboxExecute" == c.Autograde.autograde_preprocessors[0]
    exporter = NotebookExporter()
    for name in [*c.Autograde.sanitize_preprocessors, *c.Autograde.autograde_preprocessors]:
        exporter.register_preprocessor(name)  # every name imports, as nbgrader registers it
        assert isinstance(import_item(name), type)


@pytest.mark.slow
def test_grades_from_a_deleted_working_folder(tmp_path):
    """A worker may start in a folder that is gone (a Dask worker inherits its parent's cwd, and nbgrader
    starts from the cwd); grading must not depend on it."""
    import subprocess
    import sys

    code = f"""
import os, tempfile
import nbformat
from pathlib import Path
from lstm_course.course import fill_release, read_nb
from lstm_course.grading.worker import CourseBundle, Job, Settings, grade_job
root = Path({str(ROOT)!r})
nb = fill_release(read_nb(root / "exercises/gates/gates.ipynb"), read_nb(root / "solutions/gates/gates.ipynb"))
job = Job("ana", "gates", "d", {{"gates.ipynb": nbformat.writes(nbformat.from_dict(nb)).encode()}})
gone = tempfile.mkdtemp(dir={str(tmp_path)!r})
os.chdir(gone)
os.rmdir(gone)
r = grade_job(CourseBundle.from_root(root, Settings()), job)
print(r["status"], r["score"], r["reason"])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert proc.stdout.strip() == "graded 10.0", proc.stdout + proc.stderr[-2000:]


def test_kernels_get_the_thread_limits(tmp_path):
    """The worker sets the thread variables, and the sandbox lets exactly those through to the kernel."""
    from lstm_course.grading.worker import THREAD_VARIABLES
    from lstm_course.sandbox import bwrap as sandbox

    env = {name: "1" for name in THREAD_VARIABLES} | {"SECRET_TOKEN": "x"}
    argv = sandbox.bwrap_argv(
        ["python"], work=tmp_path, ipc=tmp_path, uid=1, limits=sandbox.Limits(), env=env
    )
    passed = {argv[i + 1]: argv[i + 2] for i, a in enumerate(argv) if a == "--setenv"}
    assert all(passed.get(name) == "1" for name in THREAD_VARIABLES), passed
    assert "SECRET_TOKEN" not in passed


def test_the_alembic_head_read_in_process_is_what_the_alembic_command_prints():
    """nbgrader stamps every new gradebook with `alembic heads` (a new Python each time); the adapter
    answers it once per process from nbgrader's migrations: the same revision."""
    import functools

    import nbgrader.api

    from lstm_course.nbgrader_adapter import alembic_head, nbgrader_ready

    nbgrader_ready()
    assert isinstance(nbgrader.api.get_alembic_version, functools._lru_cache_wrapper)
    assert nbgrader.api.get_alembic_version() == alembic_head()
    assert len(alembic_head()) == 12 and alembic_head() == _alembic_heads_command()


def test_cell_metadata_is_validated_as_nbgrader_does_with_the_schema_checked_once(monkeypatch):
    """nbgrader's cell-metadata check, sped up in process: the same verdicts and the same best error as
    ``jsonschema.validate`` (independent: called directly), and the meta-schema check runs once."""
    import jsonschema
    from nbformat.notebooknode import from_dict
    from nbgrader.nbgraderformat import common
    from nbgrader.nbgraderformat.v3 import MetadataValidatorV3

    from lstm_course.nbgrader_adapter import nbgrader_ready

    nbgrader_ready()
    validator = MetadataValidatorV3()
    good = {
        "schema_version": 3,
        "grade": True,
        "solution": False,
        "locked": True,
        "grade_id": "t",
        "points": 2,
    }
    bad = {**good, "points": "two"}
    checks = []
    real_check = jsonschema.Draft4Validator.check_schema
    monkeypatch.setattr(
        jsonschema.Draft4Validator,
        "check_schema",
        classmethod(lambda cls, s: checks.append(1) or real_check(s)),
    )
    for _ in range(3):
        validator.validate_cell(from_dict({"cell_type": "code", "metadata": {"nbgrader": dict(good)}}))
    with pytest.raises(jsonschema.ValidationError) as ours:
        validator.validate_cell(from_dict({"cell_type": "code", "metadata": {"nbgrader": dict(bad)}}))
    assert len(checks) <= 1, "the schema was checked for every cell"
    with pytest.raises(jsonschema.ValidationError) as theirs:
        jsonschema.validate(bad, validator.schema)
    assert str(ours.value) == str(theirs.value)
    assert len(checks) >= 1  # jsonschema.validate's own check did go through the counter
    assert common.jsonschema.ValidationError is jsonschema.ValidationError


def _alembic_heads_command() -> str:
    """What nbgrader's get_alembic_version computes: `alembic -c INI heads`, first word."""
    import subprocess
    import sys
    from pathlib import Path

    from nbgrader.api import _temp_alembic_ini

    alembic = Path(sys.executable).with_name("alembic")
    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        out = subprocess.check_output([str(alembic), "-c", ini, "heads"], text=True)
    return out.split("\n")[0].split(" ")[0]


def test_instructor_feedback_is_what_nbgrader_generate_feedback_writes(tmp_path, monkeypatch):
    """The worker renders nbgrader's instructor feedback from one exporter per process; the page is the
    one nbgrader's own `generate_feedback` writes for the same autograded notebook, byte for byte (a
    wrong answer, so that scores and a failed test's traceback are on it)."""
    import nbformat

    from lstm_course.course import fill_release, read_nb
    from lstm_course.grading.worker import CourseBundle, Job, _unpack
    from lstm_course.nbgrader_adapter import NBGRADER, api, instructor_feedback, settle

    wrong = "def lstm_step(x, h_prev, c_prev, weight_ih, weight_hh, bias):\n    return h_prev, c_prev\n"
    nb = fill_release(
        read_nb(ROOT / "exercises/gates/gates.ipynb"),
        read_nb(ROOT / "solutions/gates/gates.ipynb"),
        {"lstm_step": wrong},
    )
    job = Job("ana", "gates", "d", {"gates.ipynb": nbformat.writes(nbformat.from_dict(nb)).encode()})
    settings = Settings()
    bundle = CourseBundle.from_root(ROOT, settings)
    course = _unpack(bundle, job, None, tmp_path / "course")
    db_url = f"sqlite:///{course / 'gradebook.db'}"
    nbg = api(course, db_url, tmp_path / "reports", settings)
    monkeypatch.chdir(tmp_path)  # settle moves there too: back where the test started afterwards
    with NBGRADER:
        settle(str(tmp_path))
        assert nbg.autograde("gates", "ana", force=True, create=True)["success"]
        assert nbg.generate_feedback("gates", "ana", force=True)["success"]
        ours = instructor_feedback(course / "autograded/ana/gates/gates.ipynb", db_url, "gates", "ana")
        again = instructor_feedback(course / "autograded/ana/gates/gates.ipynb", db_url, "gates", "ana")
    theirs = (course / "feedback/ana/gates/gates.html").read_text("utf-8")
    assert "Score:" in theirs or "score" in theirs.lower()
    assert ours == theirs and again == theirs
