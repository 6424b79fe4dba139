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
import re
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
from lstm_course.results import feedback
from lstm_course.sandbox import bwrap as sandbox

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
        **stderr_cases(),
        **tampering_cases(),
    }


# Students write to stderr without meaning harm; inside a function a test calls, it must cost nothing.
NOISE = {
    "print": "print('debug: shapes look fine', file=sys.stderr)",
    "logging": "logging.warning('lstm_step called with %d rows', 2)",
    "warnings": "with warnings.catch_warnings():\n        warnings.simplefilter('always')\n"
    "        warnings.warn('float64 is slow', RuntimeWarning)",
    "tqdm": "for _ in tqdm(range(3), desc='steps'):\n        pass",
}


def _noisy(answer: str, noise: str) -> str:
    """``answer`` (a cell defining lstm_step) whose lstm_step writes ``noise`` to stderr on every call."""
    return (
        answer.replace("def lstm_step(", "def _quiet_step(")
        + "\n\nimport logging, sys, warnings\nfrom tqdm import tqdm  # the console bar: it writes to stderr\n\n"
        + f"def lstm_step(*args, **kwargs):\n    {noise}\n    return _quiet_step(*args, **kwargs)\n"
    )


def stderr_cases() -> dict:
    cases = {}
    for name, noise in NOISE.items():
        cases[f"stderr_{name}"] = (
            {"lstm_step": _noisy(STEP, noise)},
            10.0,
            "wrote to stderr (shown, not graded)",
        )
        cases[f"stderr_{name}_wrong"] = (
            {"lstm_step": _noisy(WRONG_STEP, noise)},
            WRONG_SCORE,
            "wrote to stderr (shown, not graded)",
        )
    return cases


# One line each, appended to a WRONG answer: each neuters the tests in a plain kernel (10 / 10 there).
TAMPER = {
    "input_transformer": 'get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"] if "assert" in '
    '"".join(lines) else lines)\n',
    "ast_transformer": "import ast\nclass _NoAsserts(ast.NodeTransformer):\n    def visit_Assert(self, node):\n"
    "        return ast.Pass()\n    def visit_Raise(self, node):\n        return ast.Pass()\n"
    "get_ipython().ast_transformers.append(_NoAsserts())\n",
    "pre_run_cell": "def _neuter(info):\n    import lstm_ref.feedback as fb\n    fb.assert_close = lambda *a, **k: None\n"
    "    get_ipython().user_ns['assert_close'] = fb.assert_close\n"
    'get_ipython().events.register("pre_run_cell", _neuter)\n',
    "run_cell": "from IPython.core.interactiveshell import InteractiveShell\n_real_run = InteractiveShell.run_cell\n"
    "def _run(self, raw_cell, *a, **k):\n    return _real_run(self, 'pass' if 'assert' in raw_cell else raw_cell, *a, **k)\n"
    "InteractiveShell.run_cell = _run\n",
    "assertion_error": "import builtins\nclass AssertionError(Exception):\n    pass\n"
    "builtins.AssertionError = AssertionError\n",
    "settrace": "import sys\ndef _skip(frame, event, arg):\n    if event == 'exception':\n        return None\n"
    "    return _skip\nsys.settrace(_skip)\n",
    "numpy_testing": "import numpy.testing, lstm_ref.feedback as fb\nnumpy.testing.assert_allclose = lambda *a, **k: None\n"
    "fb.assert_close = lambda *a, **k: None\nassert_close = fb.assert_close\n",
    # inside the function a test calls: restoring before the test cannot help, the guard after it sees it
    "patch_while_tested": "_wrong_step = lstm_step\ndef lstm_step(*a, **k):\n"
    "    import lstm_ref.feedback as fb\n    fb.assert_close.__code__ = (lambda *a, **k: None).__code__\n"
    "    return _wrong_step(*a, **k)\n",
    # the guard's own snapshot (one tuple of tuples: it cannot be edited), found through gc and swapped for
    # a copy that holds a fake, so that restoring would put the fake back
    "guard_snapshot": "import gc\nimport lstm_ref.feedback as _fb\n_real, _fake = _fb.assert_close, lambda *a, **k: None\n"
    "def _swap(v):\n    return _fake if v is _real else tuple(map(_swap, v)) if type(v) is tuple else v\n"
    "gc.unfreeze()\n"
    "_found = [o for o in gc.get_objects() if type(o) is list and len(o) == 1 and type(o[0]) is tuple and len(o[0]) == 15]\n"
    "assert _found, 'the attack did not find the snapshot'\n"
    "_found[0][0] = _swap(_found[0][0])\n"
    "_fb.assert_close = _fake\n",
    # the guard's answer rewritten on its way out of the kernel (IPython formats it as text): what it
    # restored is dropped, and the fake is put back after every check
    "answer_rewrite": "import re as _re\n_ns = globals()\n_fake = lambda *a, **k: None\n"
    "def _print_str(s, p, cycle):\n"
    "    if _re.match(r'[0-9a-f]{32}[{]', s):\n"
    "        s = _re.sub(r'\"fixed\":\\[.*\\]', '\"fixed\":[]', s)\n"
    "        _ns.update({'assert' + '_close': _fake})\n"
    "    p.text(repr(s))\n"
    "get_ipython().display_formatter.formatters['text/plain'].for_type(str, _print_str)\n"
    "_ns.update({'assert' + '_close': _fake})\n",
    # the guard's own channel: its call is evaluated in the user namespace, so a name it looks up there
    # (``__import__``, bound through an alias of globals()) can wrap it, drop what it reports and patch again
    "guard_channel": "_g = globals()\n"
    "_b = _g['__builtins__']\n"
    "_imp = _b.__import__ if hasattr(_b, '__import__') else _b['__import__']\n"
    "_json = _imp('json')\n"
    "\n"
    "\n"
    "def _noop(*a, **k):\n"
    "    return None\n"
    "\n"
    "\n"
    "class _Dumps:\n"
    "    def dumps(self, result):\n"
    "        if type(result) is dict and 'fixed' in result:\n"
    "            result['fixed'] = []\n"
    "        _g.update({'assert' + '_close': _noop, '__imp' + 'ort__': _fake_import})\n"
    "        return _json.dumps(result)\n"
    "\n"
    "\n"
    "def _fake_import(name, *a, **k):\n"
    "    return _Dumps() if name == 'json' else _imp(name, *a, **k)\n"
    "\n"
    "\n"
    "_g.update({'__imp' + 'ort__': _fake_import, 'assert' + '_close': _noop})\n",
}


# what the integrity note must say, where one reason is expected (else: "flagged")
TAMPER_SAYS = {
    "guard_snapshot": "the guard's own snapshot was altered",
    "guard_channel": "__import__ (shadows the builtin)",
    "answer_rewrite": "altered on its way out",
}


def tampering_cases() -> dict:
    return {
        f"tamper_{name}": (
            {"lstm_step": WRONG_STEP + "\n\n" + code},
            -WRONG_SCORE,
            TAMPER_SAYS.get(name, "flagged"),
        )
        for name, code in TAMPER.items()
    }


def _layout_case(kind: str, answers: dict) -> dict:
    """A submission whose test cells were deleted, moved above their answer, or duplicated."""
    nb = course.fill_release(REL, SRC, answers)
    cells, gid = nb["cells"], lambda c: c["metadata"].get("nbgrader", {}).get("grade_id")  # noqa: E731
    first_test = next(i for i, c in enumerate(cells) if gid(c) == TEST_IDS[0])
    if kind == "deleted":
        nb["cells"] = [c for c in cells if gid(c) not in TEST_IDS[:2]]
    elif kind == "moved":
        cells.insert(0, cells.pop(first_test))  # the first test now runs before any answer
    else:  # Jupyter's copy and paste: the same metadata under a new cell id
        for where in (first_test, len(cells)):
            copy = json.loads(json.dumps(cells[first_test]))
            copy["id"] = f"copy-{where}"
            cells.insert(where, copy)
    return nb


LAYOUT = {  # student: (kind, answers, score, note)
    f"{kind}_tests{suffix}": (kind, answers, score, note)
    for kind, note in (("deleted", "was deleted"), ("moved", "was moved"), ("duplicated", "times"))
    for suffix, answers, score in (("", {}, 10.0), ("_wrong", {"lstm_step": WRONG_STEP}, WRONG_SCORE))
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
    expected["deleted_tests"] = (10.0, "put back")
    for student, (kind, answers, score, note) in LAYOUT.items():
        course.write_nb(_layout_case(kind, answers), subs / student / A / NB)
        expected[student] = (score, note)
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
        assert not o.flagged, f"{student} was flagged: {o.integrity}"
        assert o.score == attacked["expected"][student][0], f"{student}: {o.score}, notes {o.notes}"
        assert o.max_score == 10.0
    with open(attacked["result"].csv, newline="") as fh:
        exported = {r["student_id"]: float(r["score"]) for r in csv.DictReader(fh)}
    for student in [*HONEST, "honest_carol"]:
        assert exported[student] == attacked["expected"][student][0], "the gradebook export disagrees"


@pytest.mark.parametrize(
    "attack",
    sorted(attacks({"port": 0, "grader_pid": 0, "software": (), "secret_files": [], "write_targets": []}))
    + ["invalid_json", "wrong_file_name", "deleted_tests", *LAYOUT],
)
def test_attack_earns_nothing_and_is_recorded(attacked, attack):
    """Each submission scores exactly what its answer earns (at most that, and flagged, for tampering:
    a negative expected score), and the outcome says what happened."""
    o = _outcomes(attacked)[attack]
    score, says = attacked["expected"][attack]
    if score is None:
        assert not o.graded and says in o.reason, f"{attack}: {o.status} {o.reason!r}"
    elif score < 0:
        assert o.graded, f"{attack} was not graded: {o.reason}"
        assert o.score <= -score, f"{attack} scored {o.score}, its honest score is {-score}; {o.integrity}"
        assert o.flagged, f"{attack} was not flagged: notes {o.notes}"
    else:
        assert o.graded, f"{attack} was not graded: {o.reason}"
        assert o.score == score, f"{attack} scored {o.score}, earned {score}; notes: {o.notes} {o.integrity}"
    said = " ".join([o.reason, *o.notes, *o.integrity])
    assert says in said, f"{attack}: expected {says!r} in {said!r}"


@pytest.mark.parametrize(
    "attack", ["monkeypatched_asserts", "showtraceback", *(f"tamper_{t}" for t in TAMPER)]
)
def test_tampering_is_flagged_for_the_instructor(attacked, attack):
    """outcomes.csv's integrity column, the ledger and report.html name every tampering submission."""
    o = _outcomes(attacked)[attack]
    assert o.flagged, attack
    with open(attacked["result"].outcomes_csv, newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["student"] == attack)
    assert row["integrity"] == " | ".join(o.integrity)
    ledger = json.loads((attacked["out"] / "results" / attack / f"{A}.json").read_text(encoding="utf-8"))
    assert ledger["integrity"] == o.integrity and any("flagged for review" in n for n in ledger["notes"])
    page = (attacked["out"] / "feedback" / attack / A / f"{A}.html").read_text(encoding="utf-8")
    assert "flagged for your instructor" in page


def test_report_lists_the_flagged_and_only_them(attacked):
    from lstm_course.results.report import write_report

    html = write_report(attacked["out"]).html.read_text(encoding="utf-8")
    section = html.split("<h2>Integrity</h2>", 1)[1].split("<h2>", 1)[0]
    for o in _outcomes(attacked).values():
        assert (f"<td>{o.student}</td>" in section) == o.flagged, o.student


def test_stderr_is_shown_not_scored(attacked):
    """A test cell's stderr stays visible, shortened, on the student's page and the instructor's copy."""
    for student in (s for s in attacked["expected"] if s.startswith("stderr_") and s != "stderr_noise"):
        page = (attacked["out"] / "feedback" / student / A / f"{A}.html").read_text(encoding="utf-8")
        assert "printed to stderr (costs no points)" in page, student
        assert "stderr, shortened" in _outputs(_autograded(attacked, student)), student
    tqdm_page = (attacked["out"] / "feedback" / "stderr_tqdm" / A / f"{A}.html").read_text(encoding="utf-8")
    assert "steps: 100%" in tqdm_page, "a progress bar shows its last state"


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


# Left in a kernel, then looked for by the next one: files, a detached process, a double-forked daemon,
# a patched module the guard does not watch (the kernel's own json would break its messages), an
# environment variable, a fake module. The static screen flags the sys.modules line: these are attackers.
LOOK_THEN_LEAVE = f"""
import os, statistics, subprocess, sys, types
_traces = [p for p in ("/tmp/left.txt", "/home/student/left.txt", "/dev/shm/left") if os.path.exists(p)]
_traces += [c for c in (open(f"/proc/{{p}}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()) if "sleep" in c]
_traces += ["statistics.mean"] if statistics.mean.__module__ != "statistics" else []
_traces += [n for n in ("LEFT_BEHIND",) if n in os.environ] + [m for m in ("left_behind",) if m in sys.modules]
print("UID", os.getuid(), "SAW", _traces)
for _p in ("/tmp/left.txt", "/home/student/left.txt", "/dev/shm/left"):
    open(_p, "w").write("left behind")
subprocess.Popen(["sleep", "600", "{TAG}-left"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    subprocess.Popen(["sleep", "601", "{TAG}-left"])
    os._exit(0)
statistics.mean = lambda data: 0
os.environ["LEFT_BEHIND"] = "1"
sys.modules["left_behind"] = types.ModuleType("left_behind")
"""


def test_the_next_student_on_a_worker_finds_nothing_left(tmp_path, survivors):
    """Two students graded one after the other on one worker, each kernel forked by the same warm server:
    each leaves files, processes and a patched module behind, and each finds none of the other's (and
    keeps every point: their answers are right; the screen flags their sys.modules line)."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    for student in ("leaves_first", "leaves_second"):
        _write(subs, student, {"lstm_step": STEP + "\n" + LOOK_THEN_LEAVE})
    result = course.grade(ROOT, subs, out, workers=1, progress=False)
    seen = {}
    for o in result.outcomes:
        assert o.graded and o.score == 10.0, o
        printed = re.findall(r"UID (\d+) SAW (\[.*?\])", _outputs(_autograded({"out": out}, o.student)))
        assert len(printed) == 1, printed
        seen[o.student] = (int(printed[0][0]), printed[0][1])
    (uid1, saw1), (uid2, saw2) = seen.values()
    assert saw1 == saw2 == "[]", seen
    assert uid1 == uid2, "both kernels came from the worker's one fork server"
    if os.geteuid() == 0:  # a cold kernel's uid is 1_000_000 + the grader's pid; a server's has its slot
        assert uid1 >= 1_000_000 + sandbox.PID_SPAN, uid1
    time.sleep(0.5)
    assert survivors(f"{TAG}-left") == [], "every process a kernel started died with it"
