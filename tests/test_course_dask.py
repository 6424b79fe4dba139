"""Grading at scale (lstm_course.grading.coordinator on Dask): nothing lost, nothing counted twice, resumable.

The class: ``CLASS`` students x 2 assignments (shapes, gates), a mix of correct, partial (one known
mistake each), blank, broken (not JSON) and kernel-killing ones (every kind in each assignment), graded
by 2 local Dask workers into a real PostgreSQL server (``postgres_url``, started by conftest with ``initdb`` +
``pg_ctl``). Expected scores come from the source notebooks' points and the mistake planted, and the
gradebook is read back with plain SQL, not through our code. Smaller classes test a worker killed
mid-run, a submission whose worker dies twice, a run interrupted with Ctrl-C and resumed, and the
docs' recipe for an existing cluster: ``dask scheduler`` and two ``dask worker`` commands, each its own
process, that see none of the class's files, and ``lstm-course grade --scheduler``.

``make test`` grades a class of 12 (24 submissions); ``make bench-grading`` runs this file again with
``LSTM_CLASS=100``: the same checks on 200 submissions, too long for every test run.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import sql_rows
from distributed import WorkerPlugin

from lstm_course import grade
from lstm_course.course import fill_release, nbmeta, read_nb, write_nb
from lstm_course.grading.coordinator import CLUSTER_CONFIG

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("shapes", "gates")
CLASS = int(os.environ.get("LSTM_CLASS", "12"))  # students; 12 >= len(KINDS): every kind in both assignments
KINDS = (
    "correct",
    "partial",
    "correct",
    "blank",
    "correct",
    "partial",
    "correct",
    "blank",
    "broken",
    "killer",
)
# one planted mistake per assignment: the answer and the single test cell it fails
PARTIAL = {
    "shapes": (
        "torch_shapes",
        "def torch_lstm_shapes(batch, time_steps, features, hidden_size, num_layers=1, batch_first=False,\n"
        "                      bidirectional=False):\n"
        "    dirs = 2 if bidirectional else 1\n"
        "    out = (batch, time_steps, dirs * hidden_size) if batch_first else (time_steps, batch, dirs * hidden_size)\n"
        "    if batch_first:  # the mistake: h_n read as batch-first\n"
        "        return out, (batch, num_layers * dirs, hidden_size), (batch, num_layers * dirs, hidden_size)\n"
        "    return out, (num_layers * dirs, batch, hidden_size), (num_layers * dirs, batch, hidden_size)\n",
        "test_torch_shapes",
    ),
    "gates": (
        "weights_from_torch",
        "def weights_from_torch(lstm):\n"
        "    p = {k: v.detach().double().numpy() for k, v in lstm.state_dict().items()}\n"
        "    return p['weight_ih_l0'], p['weight_hh_l0'], p['bias_ih_l0']  # the mistake: bias_hh forgotten\n",
        "test_torch_output",
    ),
}
KILLER = {"shapes": "make_windows", "gates": "lstm_step"}  # the first answer cell: the kernel exits there


def _points(a: str) -> dict[str, float]:
    nb = read_nb(ROOT / "solutions" / a / f"{a}.ipynb")
    return {nbmeta(c)["grade_id"]: float(nbmeta(c)["points"]) for c in nb.cells if nbmeta(c).get("grade")}


def make_class(dest: Path, students: int, offset: int = 0) -> dict[tuple[str, str], str]:
    """Write ``students`` x ASSIGNMENTS submissions; return ``{(student, assignment): kind}``."""
    kinds = {}
    for a in ASSIGNMENTS:
        release = read_nb(ROOT / "exercises" / a / f"{a}.ipynb")
        source = read_nb(ROOT / "solutions" / a / f"{a}.ipynb")
        for i in range(offset, offset + students):
            student, kind = f"s{i:03d}", KINDS[(i + (a == "gates")) % len(KINDS)]
            path = dest / student / a / f"{a}.ipynb"
            if kind == "broken":
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text('{"cells": [', encoding="utf-8")
            elif kind == "blank":
                write_nb(release, path)
            else:
                answers = {}
                if kind == "partial":
                    answers = {PARTIAL[a][0]: PARTIAL[a][1]}
                elif kind == "killer":
                    answers = {KILLER[a]: "import os\nos._exit(3)\n"}
                write_nb(fill_release(release, source, answers), path)
            kinds[student, a] = kind
    return kinds


def expected_score(a: str, kind: str) -> float | None:
    """The score a submission of ``kind`` must get; None: it must be NOT GRADED."""
    points = _points(a)
    return {
        "correct": sum(points.values()),
        "partial": sum(points.values()) - points[PARTIAL[a][2]],
        "blank": 0.0,
    }.get(kind)


def read_outcomes(out: Path) -> list[dict]:
    with open(out / "outcomes.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


SCORES_SQL = """
SELECT s.student_id, a.name, SUM(COALESCE(g.manual_score, g.auto_score, 0)), COUNT(DISTINCT s.id)
FROM submitted_assignment s
JOIN assignment a ON a.id = s.assignment_id
JOIN submitted_notebook n ON n.assignment_id = s.id
JOIN grade g ON g.notebook_id = n.id
GROUP BY s.student_id, a.name
"""
CELLS_SQL = """
SELECT s.student_id, a.name, c.name, COALESCE(g.manual_score, g.auto_score, 0)
FROM submitted_assignment s
JOIN assignment a ON a.id = s.assignment_id
JOIN submitted_notebook n ON n.assignment_id = s.id
JOIN grade g ON g.notebook_id = n.id
JOIN base_cell c ON c.id = g.cell_id
"""


def gradebook_scores(db_url: str) -> dict[tuple[str, str], float]:
    rows = sql_rows(db_url, SCORES_SQL)
    assert all(r[3] == 1 for r in rows), f"a (student, assignment) is in the gradebook twice: {rows}"
    return {(r[0], r[1]): float(r[2]) for r in rows}


def gradebook_cells(db_url: str) -> dict[tuple[str, str, str], float]:
    return {(r[0], r[1], r[2]): float(r[3]) for r in sql_rows(db_url, CELLS_SQL)}


# --------------------------------------------------------------------------- a class, PostgreSQL


@pytest.fixture(scope="module")
def big_class(tmp_path_factory, postgres_url):
    base = tmp_path_factory.mktemp("class")
    kinds = make_class(base / "subs", CLASS)
    t0 = time.monotonic()
    res = grade(ROOT, base / "subs", base / "out", db_url=postgres_url, workers=2, progress=False)
    return {"base": base, "kinds": kinds, "res": res, "db": postgres_url, "seconds": time.monotonic() - t0}


def test_class_two_workers_postgres_none_lost_none_doubled(big_class):
    kinds, out, db = big_class["kinds"], big_class["base"] / "out", big_class["db"]
    rows = read_outcomes(out)
    keys = [(r["student"], r["assignment"]) for r in rows]
    n = 2 * CLASS
    assert len(rows) == len(kinds) == n and set(keys) == set(kinds) and len(set(keys)) == n
    assert set(kinds.values()) == set(KINDS), "every kind of submission is in the class"
    in_gradebook = gradebook_scores(db)
    for r in rows:
        key, kind = (r["student"], r["assignment"]), kinds[r["student"], r["assignment"]]
        want = expected_score(r["assignment"], kind)
        if want is None:
            assert r["status"] == "not graded", (key, kind, r)
            assert key not in in_gradebook, f"{key} ({kind}) is NOT GRADED but has a grade"
            why = "not a valid notebook" if kind == "broken" else "kernel"
            assert why in r["reason"], (key, kind, r["reason"])
        else:
            assert r["status"] == "graded", (key, kind, r)
            assert float(r["score"]) == want == in_gradebook[key], (
                key,
                kind,
                r["score"],
                in_gradebook.get(key),
            )
    graded = {k for k, v in kinds.items() if expected_score(k[1], v) is not None}
    assert set(in_gradebook) == graded
    workers = {json.loads(p.read_text())["worker"] for p in (out / "results").rglob("*.json")} - {""}
    assert len(workers) == 2, f"both workers should have graded: {workers}"
    print(f"\n{n} submissions, 2 workers: {big_class['seconds']:.0f} s")


def test_partial_submissions_fail_only_the_planted_check(big_class):
    cells = gradebook_cells(big_class["db"])
    for (student, a), kind in big_class["kinds"].items():
        if kind != "partial":
            continue
        points = _points(a)
        failed = {c for c in points if cells[student, a, c] != points[c]}
        assert failed == {PARTIAL[a][2]}, (student, a, failed)


def test_report_counts_match_the_gradebook(big_class):
    from lstm_course.results.report import write_report

    out, db = big_class["base"] / "out", big_class["db"]
    rep = write_report(out, db)
    cells = gradebook_cells(db)
    with open(rep.items_csv, newline="", encoding="utf-8") as fh:
        items = list(csv.DictReader(fh))
    assert {(i["assignment"], i["cell"]) for i in items} == {(a, c) for a in ASSIGNMENTS for c in _points(a)}
    for item in items:
        a, cell = item["assignment"], item["cell"]
        scores = [v for (s, aa, c), v in cells.items() if aa == a and c == cell]
        assert int(item["submissions"]) == len(scores)
        assert int(item["passed"]) == sum(v == _points(a)[cell] for v in scores), item
    # the planted batch-first state is named, with its count, on the page and in items.csv
    partial = sum(1 for (s, a), k in big_class["kinds"].items() if a == "shapes" and k == "partial")
    row = next(i for i in items if i["cell"] == "test_torch_shapes")
    assert f"state-batch-first:{partial}" in row["misconceptions"].replace(" ", ""), row
    graded_shapes = len({s for (s, a, c) in cells if a == "shapes"})
    html = rep.html.read_text(encoding="utf-8")
    assert f"{partial} of {graded_shapes}" in html


# --------------------------------------------------------------------------- workers that die


class _DieOn(WorkerPlugin):
    """A Dask worker plugin: the worker process exits when it starts a task whose key names ``tag``."""

    name = "die-on"

    def __init__(self, tag: str):
        self.tag = tag

    def setup(self, worker):
        pass

    def teardown(self, worker):
        pass

    def transition(self, key, start, finish, **kw):
        if finish == "executing" and self.tag in str(key):
            os._exit(17)


OK = 8  # honest students beside the doomed one (fewer made a retry land on the dying worker)


def test_killed_worker_every_submission_still_has_an_outcome(tmp_path, survivors):
    import dask
    from distributed import Client, LocalCluster

    subs = tmp_path / "subs"
    release = read_nb(ROOT / "exercises" / "gates" / "gates.ipynb")
    source = read_nb(ROOT / "solutions" / "gates" / "gates.ipynb")
    for student in [f"ok{i}" for i in range(OK)] + ["doomed"]:
        write_nb(fill_release(release, source), subs / student / "gates" / "gates.ipynb")
    with dask.config.set(CLUSTER_CONFIG):  # what the README asks of an existing cluster's scheduler
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = Client(cluster)
    try:
        client.register_plugin(_DieOn("doomed"))
        out = tmp_path / "out"
        killed = []

        def kill_one_mid_run():  # once a first result is stored, SIGKILL a worker grading an honest student
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline and not killed:
                if list((out / "results").rglob("*.json")):
                    busy = [
                        w
                        for w, keys in client.processing().items()
                        if keys and not any("doomed" in str(k) for k in keys)
                    ]
                    for pid in client.run(os.getpid, workers=busy[:1]).values() if busy else ():
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                time.sleep(0.1)

        killer = threading.Thread(target=kill_one_mid_run)
        killer.start()
        res = grade(ROOT, subs, out, scheduler=cluster.scheduler_address, progress=False)
        killer.join()
    finally:
        client.close()
        cluster.close()
    assert killed, "no worker was busy to kill"
    by = {o.student: o for o in res.outcomes}
    assert set(by) == {f"ok{i}" for i in range(OK)} | {"doomed"}
    assert not by["doomed"].graded and "died twice" in by["doomed"].reason
    assert all(by[f"ok{i}"].graded and by[f"ok{i}"].score == 10 for i in range(OK)), res.outcomes
    assert gradebook_scores(f"sqlite:///{out / 'gradebook.db'}") == {
        (f"ok{i}", "gates"): 10.0 for i in range(OK)
    }
    # the dead worker's sandboxed kernel died with it, and the others ended with their notebooks
    assert survivors("lstm_course.sandbox.bwrap") == []


# --------------------------------------------------------------------------- Ctrl-C and resume


def test_interrupted_run_resumed_matches_the_uninterrupted_one(big_class, tmp_path):
    subs = tmp_path / "subs"
    kinds = make_class(subs, 6)  # the same students, kinds and notebooks as the first 6 of big_class
    assert all(big_class["kinds"][k] == v for k, v in kinds.items())
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "lstm_course", "grade", str(subs), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # as a terminal starts it: a shell's background job (`make test &`) inherits SIGINT ignored,
        # and Python then installs no KeyboardInterrupt handler, so Ctrl-C would do nothing
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and len(list((out / "results").rglob("*.json"))) < 3:
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 130, (proc.returncode, stderr.decode()[-3000:])
    assert b"interrupted" in stderr
    stored = len(list((out / "results").rglob("*.json")))
    assert 3 <= stored < 12, f"the run was not interrupted mid-way: {stored} stored"

    res = grade(ROOT, subs, out, workers=2, progress=False)  # resume
    assert res.graded_now == 12 - stored, "the resumed run graded what was already stored"
    db = f"sqlite:///{out / 'gradebook.db'}"
    want_cells = {k: v for k, v in gradebook_cells(big_class["db"]).items() if (k[0], k[1]) in kinds}
    assert gradebook_cells(db) == want_cells
    assert gradebook_scores(db) == {k: v for k, v in gradebook_scores(big_class["db"]).items() if k in kinds}
    want_rows = [
        r for r in read_outcomes(big_class["base"] / "out") if (r["student"], r["assignment"]) in kinds
    ]
    assert read_outcomes(out) == want_rows

    again = grade(ROOT, subs, out, workers=1, progress=False)  # nothing changed: nothing graded
    assert again.graded_now == 0 and read_outcomes(out) == want_rows

    # a student hands in again: exactly that submission is graded, and replaced, not added
    blank = next(k for k, v in kinds.items() if v == "blank" and k[1] == "gates")
    release = read_nb(ROOT / "exercises" / "gates" / "gates.ipynb")
    write_nb(
        fill_release(release, read_nb(ROOT / "solutions" / "gates" / "gates.ipynb")),
        subs / blank[0] / "gates" / "gates.ipynb",
    )
    changed = grade(ROOT, subs, out, workers=1, progress=False)
    assert changed.graded_now == 1
    assert gradebook_scores(db)[blank] == 10.0 and len(gradebook_scores(db)) == len(want_rows) - sum(
        r["status"] != "graded" for r in want_rows
    )


# --------------------------------------------------------------------------- the dashboard line


class _Stop(Exception):
    pass


class _Fake:
    """A stand-in Dask client or cluster: its ``dashboard_link`` (``None``: the KeyError distributed raises
    when the scheduler has no dashboard); it stops ``_run`` at its first ``submit``."""

    def __init__(self, link: str | None):
        self.link, self.closed = link, False

    @property
    def dashboard_link(self) -> str:
        if self.link is None:
            raise KeyError("dashboard")
        return self.link

    def submit(self, *args, **kwargs):
        raise _Stop

    def close(self) -> None:
        self.closed = True


LINK = "http://127.0.0.1:8787/status"


@pytest.mark.parametrize(
    ("local", "link", "line"),
    [
        (True, LINK, f"Dask dashboard: {LINK}"),
        (False, LINK, f"Dask dashboard: {LINK}"),
        (False, None, "Dask dashboard: none (the scheduler serves no dashboard)"),
    ],
    ids=["local-cluster", "scheduler", "scheduler-without-dashboard"],
)
def test_the_dashboard_link_is_printed_first(monkeypatch, capsys, local, link, line):
    from lstm_course.grading import coordinator

    client, cluster = _Fake(None if local else link), _Fake(link) if local else None
    monkeypatch.setattr(coordinator, "_cluster", lambda workers, scheduler: (client, cluster))
    for progress in (True, False):
        with pytest.raises(_Stop):
            coordinator._run([], None, 2, None if local else "tcp://h:1", print, progress)
        err = capsys.readouterr().err
        assert err.splitlines()[:1] == ([line] if progress else []), err
        assert client.closed and (cluster is None or cluster.closed)


# --------------------------------------------------------------------------- an existing cluster: separate commands


def _stop(procs: list[subprocess.Popen]) -> None:
    """SIGTERM each process group (a worker's nanny and its worker process), then SIGKILL what is left."""
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


def test_scheduler_and_workers_as_separate_commands_no_shared_disk(tmp_path, survivors):
    """The docs' recipe, as a person types it: ``dask scheduler``, two ``dask worker`` commands and
    ``lstm-course grade --scheduler``, each its own process; no LocalCluster. The workers run in
    folders of their own, and as root (CI, ``make test``) in a mount namespace where the class folder,
    submissions and ``--out`` alike, is an empty tmpfs: what they grade reaches them only as bytes."""
    from distributed import Client

    bindir = Path(sys.executable).parent
    class_dir = tmp_path / "class"  # the submissions and --out: the workers never see it
    subs, out = class_dir / "subs", class_dir / "out"
    release = read_nb(ROOT / "exercises" / "gates" / "gates.ipynb")
    source = read_nb(ROOT / "solutions" / "gates" / "gates.ipynb")
    kinds = {"solved": "correct", "blank": "blank", "wrong": "partial"}
    for student, kind in kinds.items():
        answers = {PARTIAL["gates"][0]: PARTIAL["gates"][1]} if kind == "partial" else {}
        nb = release if kind == "blank" else fill_release(release, source, answers)
        write_nb(nb, subs / student / "gates" / "gates.ipynb")
    # what docs/instructors.md asks of an existing cluster's scheduler (CLUSTER_CONFIG), as its env vars
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
    }
    hide = os.geteuid() == 0  # a mount namespace needs root
    sched_file, procs = tmp_path / "scheduler.json", []

    def start(name: str, cmd: list[str], cwd: Path) -> subprocess.Popen:
        cwd.mkdir(exist_ok=True)
        with open(tmp_path / f"{name}.log", "wb") as log:  # the child keeps its own copy of the file
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=log, start_new_session=True)
        procs.append(proc)
        return proc

    def logs() -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in tmp_path.glob("*.log")
        )

    t0 = time.monotonic()
    try:
        start(
            "scheduler",
            [str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0"]
            + ["--scheduler-file", str(sched_file), "--dashboard-address", ":0"],
            tmp_path / "scheduler",
        )
        deadline = time.monotonic() + 600  # a hang, not a slow start: a scheduler starts in seconds
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sched_file.exists(), logs()
        for i in range(2):
            worker = [
                str(bindir / "dask"),
                "worker",
                "--scheduler-file",
                str(sched_file),
                "--host",
                "127.0.0.1",
            ]
            worker += ["--nthreads", "1", "--nworkers", "1", "--name", f"w{i}", "--no-dashboard"]
            worker += ["--local-directory", str(tmp_path / f"w{i}")]
            if hide:  # the class folder is an empty tmpfs in the worker's own mount namespace
                script = f"mount -t tmpfs tmpfs {shlex.quote(str(class_dir))} && exec {shlex.join(worker)}"
                worker = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
            start(f"worker{i}", worker, tmp_path / f"w{i}")
        with Client(scheduler_file=str(sched_file), timeout="600s") as client:
            try:
                client.wait_for_workers(2, timeout=600)
            except TimeoutError:
                pytest.fail(f"2 workers did not join:\n{logs()}")
            addresses = set(client.scheduler_info()["workers"])
            settings = client.run_on_scheduler(
                lambda dask_scheduler: (dask_scheduler.allowed_failures, dask_scheduler.WORKER_SATURATION)
            )
            seen = client.run(os.path.isfile, str(subs / "solved" / "gates" / "gates.ipynb"))
            address = json.loads(sched_file.read_text())["address"]
        assert settings == (1, 1.0), settings
        if hide:
            assert seen == dict.fromkeys(addresses, False), f"a worker sees the submissions: {seen}"
        started = time.monotonic() - t0
        proc = subprocess.run(
            [str(bindir / "lstm-course"), "--root", str(ROOT), "grade", str(subs), "--out", str(out)]
            + ["--scheduler", address],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=1800,  # three notebooks take ~20 s; this only stops a hang
        )
    finally:
        _stop(procs)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:], logs())
    dashboard = [ln for ln in proc.stderr.splitlines() if ln.startswith("Dask dashboard: ")]
    assert len(dashboard) == 1, proc.stderr[-3000:]
    # nothing lost: every submission has an outcome, and the gradebook holds exactly the expected scores
    rows = read_outcomes(out)
    assert {(r["student"], r["status"]) for r in rows} == {(s, "graded") for s in kinds}, rows
    want = {(s, "gates"): expected_score("gates", k) for s, k in kinds.items()}
    assert gradebook_scores(f"sqlite:///{out / 'gradebook.db'}") == want
    assert {(r["student"], "gates"): float(r["score"]) for r in rows} == want
    # both workers graded: the ledger names the worker of each submission
    ledger = {p.parent.name: json.loads(p.read_text())["worker"] for p in (out / "results").rglob("*.json")}
    assert set(ledger) == set(kinds) and set(ledger.values()) == addresses, (ledger, addresses)
    assert survivors("lstm_course.sandbox.bwrap") == []
    print(
        f"\ncluster up in {started:.0f} s; 3 graded in {time.monotonic() - t0 - started:.0f} s; {dashboard[0]}"
    )
