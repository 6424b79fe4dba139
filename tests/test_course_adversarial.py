"""The adversarial suite: a class of attacks graded by `lstm-course grade` in one run, beside an honest class.

Every attacker hands in a correct (or a known wrong) `gates` answer plus one attack. One sandboxed
`grade()` run grades them all together with four honest students; a second run, at the same time, grades
an uninterruptible loop under a short wall-clock limit. Then, from the outside:

- 0 honest grades lost: every honest student is graded, with exactly the score of their answer;
- 0 unearned marks: every attacker scores exactly what their answer earns without the attack;
- 0 leaks: no secret, hidden test or solution reaches any student's feedback, no file is written on the
  host, no TCP connection reaches the host's server, no process outlives the run;
- every submission ends with a recorded outcome (graded, or NOT GRADED with its reason).
"""

from __future__ import annotations

import csv
import json
import os
import runpy
import socket
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import lstm_course as course
from lstm_course import feedback, sandbox

ROOT = Path(__file__).resolve().parents[1]
A = "gates"
NB = f"{A}.ipynb"
SECRET = f"lstm-course-secret-{os.getpid()}"
TAG = f"lstm-attack-{os.getpid()}"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox needs Linux namespaces"),
]


def _cell(nb: dict, gid: str) -> str:
    return "".join(
        next(c["source"] for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)
    )


SRC = course.read_nb(ROOT / course.SOLUTIONS / A / NB)
REL = course.read_nb(ROOT / course.EXERCISES / A / NB)
STEP = course.strip_solution_markers(_cell(SRC, "lstm_step"))
BACKWARD = course.strip_solution_markers(_cell(SRC, "lstm_backward"))
CASES = runpy.run_path(str(ROOT / "tests" / "exercise_cases" / "gates.py"))
WRONG_STEP = CASES["WRONG"]["cs231n_gate_order"]["lstm_step"]  # scores 6 / 10
WRONG_SCORE = CASES["WRONG_SCORES"]["cs231n_gate_order"][0]
TEST_IDS = [
    c["metadata"]["nbgrader"]["grade_id"]
    for c in SRC["cells"]
    if c["metadata"].get("nbgrader", {}).get("grade")
]

HONEST = {  # student: (answers, expected score)
    "honest_alice": ({}, 10.0),
    "honest_bob": ({"lstm_step": WRONG_STEP}, WRONG_SCORE),
    "honest_dave": (CASES["WRONG"]["no_forget_gate"], CASES["WRONG_SCORES"]["no_forget_gate"][0]),
}


def attacks(paths: dict) -> dict[str, tuple[dict, float | None, str]]:
    """attacker: (answers by grade_id, expected score or None for NOT GRADED, what the outcome must say)."""
    step = lambda attack: {"lstm_step": STEP + "\n\n" + attack}  # noqa: E731
    wrong = lambda attack: {"lstm_step": WRONG_STEP + "\n\n" + attack}  # noqa: E731
    return {
        "infinite_loop": ({"lstm_backward": BACKWARD + "\nwhile True:\n    pass\n"}, 10.0, "timed out"),
        "os_exit": (step("import os\nos._exit(1)\n"), None, "exited with status 1"),
        "alloc_6gib": (step("_hog = bytearray(6 << 30)\n"), 10.0, "memory cap"),
        "print_200mb": (step("print('x' * 200_000_000)\n"), 10.0, "output truncated"),
        "stderr_noise": (
            step(
                "import os, sys, warnings\nprint('noise ' * 50, file=sys.stderr)\nos.write(2, b'C-level noise\\n')\n"
                "warnings.warn('loud', UserWarning)\n"
            ),
            10.0,
            "",
        ),
        "monkeypatched_asserts": (
            wrong(
                "import numpy, numpy.testing, lstm_ref.feedback as fb, builtins\n"
                "numpy.allclose = lambda *a, **k: True\n"
                "numpy.testing.assert_allclose = lambda *a, **k: None\n"
                "numpy.testing.assert_array_almost_equal = lambda *a, **k: None\n"
                "fb.assert_close = lambda *a, **k: None\n"
                "fb.assert_shape = lambda *a, **k: None\n"
                "fb.assert_close.__code__ = (lambda *a, **k: None).__code__\n"
                "assert_close = lambda *a, **k: None\n"
                "assert_shape = lambda *a, **k: None\n"
                "numeric_gradient = lambda f, x, eps=1e-6: numpy.zeros_like(x)\n"
                "import sys\nsys.settrace(lambda *a: None)\n"
            ),
            WRONG_SCORE,
            "restored before the test",
        ),
        "showtraceback": (
            wrong(
                "from IPython.core.interactiveshell import InteractiveShell\n"
                "import sys\n"
                "get_ipython().showtraceback = lambda *a, **k: None\n"
                "InteractiveShell.showtraceback = lambda *a, **k: None\n"
                "InteractiveShell._showtraceback = lambda *a, **k: None\n"
                "sys.excepthook = lambda *a: None\n"
            ),
            WRONG_SCORE,
            "showtraceback",
        ),
        "read_hidden_files": (
            step(
                "import os\n"
                f"targets = {paths['secret_files']!r}\n"
                "leaks = [p for p in targets if os.path.exists(p)]\n"
                "for top in sorted(set(os.listdir('/')) - {'proc', 'sys', 'dev', 'usr', 'lib', 'lib64', 'bin', 'sbin'}):\n"
                "    for d, dirs, files in os.walk('/' + top):\n"
                f"        if d.startswith({paths['software']!r}):\n"
                "            continue\n"
                "        for f in files:\n"
                "            p = os.path.join(d, f)\n"
                "            if f.endswith(('.db', '.ipynb')) or 'solutions' in p or '/source/' in p:\n"
                "                leaks.append(p)\n"
                "print('LEAK: ' + repr(leaks) if leaks else 'NO-LEAK')\n"
            ),
            10.0,
            "",
        ),
        "tcp_to_host": (
            step(
                "import socket\ntry:\n"
                f"    socket.create_connection(('127.0.0.1', {paths['port']}), timeout=5).sendall(b'pwned')\n"
                "    print('CONNECTED')\nexcept OSError as e:\n    print('TCP refused:', type(e).__name__)\n"
            ),
            10.0,
            "",
        ),
        "kill_parent": (
            step(
                "import os\nfor pid in (os.getppid(), 1, -1, "
                f"{paths['grader_pid']}):\n"
                "    try:\n        os.kill(pid, 9)\n    except OSError as e:\n        print('kill', pid, type(e).__name__)\n"
            ),
            10.0,
            "",
        ),
        "fifty_children": (
            step(
                "import subprocess\n"
                f"kids = [subprocess.Popen(['sleep', '900', '{TAG}'], start_new_session=True) for _ in range(50)]\n"
                "print('children', len(kids))\n"
            ),
            10.0,
            "",
        ),
        "write_outside": (
            step(
                f"for p in {paths['write_targets']!r}:\n"
                "    try:\n        open(p, 'w').write('pwned')\n        print('WROTE', p)\n"
                "    except OSError as e:\n        print('refused', p, type(e).__name__)\n"
                "open('/home/student/mine.txt', 'w').write('fine')\n"
            ),
            10.0,
            "",
        ),
        "print_environment": (step("import os\nprint(dict(os.environ))\n"), 10.0, ""),
        "symlink_exfiltration": (step("print(open('notes.txt').read())\n"), 10.0, "symbolic links dropped"),
        "edited_tests": (
            {"lstm_step": WRONG_STEP, **{t: '"""Edited: always passes."""\nassert True\n' for t in TEST_IDS}},
            WRONG_SCORE,
            "",
        ),
    }


def _write(subs: Path, student: str, answers: dict) -> Path:
    path = subs / student / A / NB
    course.write_nb(course.fill_release(REL, SRC, answers), path)
    return path


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    base = tmp_path_factory.mktemp("adversarial")
    subs, out, subs2, out2 = base / "subs", base / "out", base / "subs-wall", base / "out-wall"
    secret_file = base / "host-secret.txt"
    secret_file.write_text(SECRET)
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(1)
    received: list[bytes] = []
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100) or b"<connected>")
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    paths = {
        "port": server.getsockname()[1],
        "grader_pid": os.getpid(),
        "software": tuple(str(p) for p in sandbox.readable_paths()),
        "secret_files": [
            str(ROOT / course.SOLUTIONS / A / NB),
            str(ROOT / "nbgrader_config.py"),
            str(out / "gradebook.db"),
            str(subs / "honest_alice" / A / NB),
            str(secret_file),
            str(Path.home() / ".bashrc"),
        ],
        "write_targets": [
            str(ROOT / f"pwned-{TAG}.txt"),
            str(subs / "honest_alice" / A / "pwned.txt"),
            str(base / "pwned.txt"),
            str(Path.home() / f"pwned-{TAG}.txt"),
            str(Path(sys.prefix) / "pwned.txt"),
            f"/tmp/pwned-{TAG}.txt",
        ],
    }
    expected: dict[str, tuple[float | None, str]] = {}
    for student, (answers, score) in HONEST.items():
        _write(subs, student, answers)
        expected[student] = (score, "")
    course.write_nb(REL, subs / "honest_carol" / A / NB)  # the blank release
    expected["honest_carol"] = (0.0, "")
    for student, (answers, score, says) in attacks(paths).items():
        _write(subs, student, answers)
        expected[student] = (score, says)
    (subs / "symlink_exfiltration" / A / "notes.txt").symlink_to(secret_file)
    (subs / "invalid_json" / A).mkdir(parents=True)
    (subs / "invalid_json" / A / NB).write_text('{"cells": [ {"source": "print(1)" ')
    expected["invalid_json"] = (None, "not a valid notebook")
    _write(subs, "wrong_file_name", {}).rename(subs / "wrong_file_name" / A / "gates (1).ipynb")
    expected["wrong_file_name"] = (None, "gates.ipynb is missing (found: gates (1).ipynb)")
    nb = course.fill_release(REL, SRC)
    nb["cells"] = [
        c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in TEST_IDS
    ]
    course.write_nb(nb, subs / "deleted_tests" / A / NB)
    expected["deleted_tests"] = (0.0, "")
    # an uninterruptible loop: only the wall-clock limit ends it (second run, at the same time)
    _write(
        subs2,
        "ignores_interrupts",
        {
            "lstm_step": STEP
            + "\nimport signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n"
        },
    )

    before = set(Path(tempfile.gettempdir()).glob("lstm-sandbox-*"))
    old = os.environ.get("LSTM_COURSE_ATTACK_SECRET")
    os.environ["LSTM_COURSE_ATTACK_SECRET"] = SECRET  # the grader's environment holds a secret
    t0 = time.perf_counter()
    try:
        with ThreadPoolExecutor(2) as pool:
            # 60 s a cell, not the course's 120: the infinite loop waits it out (honest cells take 1-6 s)
            main = pool.submit(course.grade, ROOT, subs, out, progress=False, cell_timeout=60)
            wall = pool.submit(
                course.grade, ROOT, subs2, out2, progress=False, limits=sandbox.Limits(wall_seconds=30)
            )
            result, result_wall = main.result(), wall.result()
    finally:
        if old is None:
            os.environ.pop("LSTM_COURSE_ATTACK_SECRET", None)
        else:
            os.environ["LSTM_COURSE_ATTACK_SECRET"] = old
        stop.set()
        server.close()
    print(f"adversarial grading: {len(expected) + 1} submissions in {time.perf_counter() - t0:.0f} s")
    return {
        "result": result,
        "wall": result_wall,
        "expected": expected,
        "out": out,
        "base": base,
        "paths": paths,
        "received": received,
        "leftover_state": set(Path(tempfile.gettempdir()).glob("lstm-sandbox-*")) - before,
    }


def _outcomes(g) -> dict[str, course.Outcome]:
    return {o.student: o for o in g["result"].outcomes}


def _autograded(g, student: str) -> dict:
    return json.loads((g["out"] / "instructor" / student / A / NB).read_text(encoding="utf-8"))


def _outputs(nb: dict) -> str:
    text = []
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            text.append(json.dumps(o))
    return "\n".join(text)


def test_every_submission_has_a_recorded_outcome(attacked):
    got = _outcomes(attacked)
    assert set(got) == set(attacked["expected"]), set(attacked["expected"]) ^ set(got)
    with open(attacked["result"].outcomes_csv, newline="") as fh:
        rows = {r["student"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(got)
    for student, o in got.items():
        assert o.status in ("graded", "not graded")
        assert o.graded or o.reason, f"{student}: NOT GRADED without a reason"
        assert rows[student]["status"] == o.status


def test_honest_class_keeps_exactly_its_scores(attacked):
    got = _outcomes(attacked)
    for student in [*HONEST, "honest_carol"]:
        o = got[student]
        assert o.graded, f"{student} lost their grade: {o.reason}"
        assert o.score == attacked["expected"][student][0], f"{student}: {o.score}, notes {o.notes}"
        assert o.max_score == 10.0
    with open(attacked["result"].csv, newline="") as fh:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh)}
    for student in [*HONEST, "honest_carol"]:
        assert exported[student] == attacked["expected"][student][0], "the gradebook export disagrees"


@pytest.mark.parametrize(
    "attack",
    sorted(attacks({"port": 0, "grader_pid": 0, "software": (), "secret_files": [], "write_targets": []}))
    + ["invalid_json", "wrong_file_name", "deleted_tests"],
)
def test_attack_earns_nothing_and_is_recorded(attacked, attack):
    o = _outcomes(attacked)[attack]
    score, says = attacked["expected"][attack]
    if score is None:
        assert not o.graded and says in o.reason, f"{attack}: {o.status} {o.reason!r}"
    else:
        assert o.graded, f"{attack} was not graded: {o.reason}"
        assert o.score == score, f"{attack} scored {o.score}, earned {score}; notes: {o.notes}"
    assert says in o.reason + " ".join(o.notes), f"{attack}: expected {says!r} in {o.reason!r} {o.notes}"


def test_wall_clock_limit_ends_an_uninterruptible_loop(attacked):
    (o,) = attacked["wall"].outcomes
    assert not o.graded and o.reason == "killed: wall-clock limit (30 s)", o


def test_no_leaks_into_student_feedback(attacked):
    """No secret, no hidden test line and no solution-only line reaches any student's feedback page."""
    hidden = set()
    rel_cells = {
        c["metadata"].get("nbgrader", {}).get("grade_id"): "".join(c["source"]) for c in REL["cells"]
    }
    for c in SRC["cells"]:
        meta = c["metadata"].get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            hidden |= feedback.hidden_lines("".join(c["source"]), rel_cells.get(meta["grade_id"]))
    assert len(hidden) > 10
    pages = sorted((attacked["out"] / "feedback").rglob("*.html"))
    assert len(pages) == len(attacked["expected"]), "one page per submission (all are of a known assignment)"
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert SECRET not in html, f"{page}: the secret leaked"
        assert "BEGIN HIDDEN TESTS" not in html
        leaked = [ln for ln in hidden if ln in html]
        assert not leaked, f"{page}: hidden test lines {leaked[:3]}"


def test_sandbox_saw_nothing_secret(attacked):
    assert "NO-LEAK" in _outputs(_autograded(attacked, "read_hidden_files"))
    env_out = _outputs(_autograded(attacked, "print_environment"))
    assert "HOME" in env_out and SECRET not in env_out and "LSTM_COURSE_ATTACK_SECRET" not in env_out
    for student in attacked["expected"]:
        path = attacked["out"] / "instructor" / student / A / NB
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8"), f"{student}: the secret reached the kernel"


def test_no_network_no_host_writes_no_survivors(attacked, survivors):
    assert attacked["received"] == [], "a sandboxed kernel reached the host's TCP server"
    assert "TCP refused" in _outputs(_autograded(attacked, "tcp_to_host"))
    for target in attacked["paths"]["write_targets"]:
        assert not Path(target).exists(), f"{target} was written from the sandbox"
    wrote = [ln for ln in _outputs(_autograded(attacked, "write_outside")).split("\\n") if "WROTE" in ln]
    assert len(wrote) == 1 and f"/tmp/pwned-{TAG}.txt" in wrote[0], (
        f"only its private /tmp is writable: {wrote}"
    )
    assert attacked["leftover_state"] == set(), "every kernel's private folder is removed after grading"
    left = survivors(TAG)
    assert left == [], f"{len(left)} child processes outlived their kernel"


def test_big_output_is_capped(attacked):
    nb = _autograded(attacked, "print_200mb")
    assert len(json.dumps(nb)) < 3 * (1 << 20)
    assert "output truncated" in _outputs(nb)
