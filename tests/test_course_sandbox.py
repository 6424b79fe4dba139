"""The grading sandbox, tried from inside: each test runs Python in it and checks what it could do.

Everything goes through the real supervisor (``python -m lstm_course.sandbox.bwrap``) and bubblewrap, as a
kernel would; the checks are made from the outside (the host's files, processes, a TCP server). Every test
runs twice: with a *cold* sandbox (a new bwrap per run) and with a *forked* one (a warm fork server,
:mod:`lstm_course.sandbox.forkserver`, forks the run into namespaces of its own): both must hold the same.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from lstm_course.sandbox import bwrap as sandbox
from lstm_course.sandbox import forkserver
from lstm_course.sandbox.bwrap import GiB, Limits, MiB

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="bubblewrap sandboxes need Linux namespaces"
)


MODE = "cold"  # set by the `mode` fixture: every test runs in both kinds of sandbox


@pytest.fixture(params=["cold", "forked"], autouse=True)
def mode(request):
    global MODE
    MODE = request.param
    yield MODE
    MODE = "cold"


def run(tmp_path: Path, code: str, limits: Limits | None = None, timeout: float = 600) -> tuple[dict, str]:
    """Run ``code`` with the venv's Python in a sandbox (cold, or forked by a fork server that has
    imported numpy); return (status.json, stdout + stderr). ``status["state"]``: the kernel's folder."""
    sub = tmp_path / "submission"
    sub.mkdir(parents=True, exist_ok=True)
    (sub / "data.csv").write_text("x\n1\n")
    (sub / "gates.ipynb").write_text('{"cells": ["### BEGIN HIDDEN TESTS"]}')
    limits = limits or Limits()
    cmd = [sys.executable, "-m", "lstm_course.sandbox.bwrap"]
    if MODE == "forked":
        server = forkserver.fork_server(("numpy",), limits)
        state = server.new_state()
        sandbox.prepare(state, sub, limits, uid=server.uid)
        cmd += ["--state", str(state), "--fork-server", str(server.socket), "--"]
    else:
        state = tmp_path / "state"
        state.mkdir()
        sandbox.prepare(state, sub, limits)
        cmd += ["--state", str(state), "--"]
    cmd += [sys.executable, "-c", textwrap.dedent(code)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return json.loads((state / "status.json").read_text()) | {"state": state}, proc.stdout + proc.stderr


def lines(out: str) -> dict[str, str]:
    """``KEY=value`` lines printed by the sandboxed code."""
    return dict(
        ln.split("=", 1)
        for ln in out.splitlines()
        if "=" in ln and ln.split("=", 1)[0].split(" ")[0].isupper()
    )


def test_bwrap_is_installed():
    """`make test` installs bubblewrap (scripts/ensure-deb.sh); every other test here needs it."""
    assert Path(sandbox.find_bwrap()).is_file()


def test_missing_bwrap_says_how_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(sandbox, "SEARCH_PATH", "/nonexistent")
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap.*--no-sandbox"):
        sandbox.find_bwrap()


def test_identity_unprivileged_own_pid_namespace(tmp_path):
    status, out = run(
        tmp_path,
        """
        import os
        print(f"UID={os.getuid()}")
        print(f"PID={os.getpid()}")
        print(f"PPID={os.getppid()}")
        st = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines())
        print(f"CAPS={st['CapEff'].strip()}")
        print(f"NNP={st['NoNewPrivs'].strip()}")
        print(f"PROCS={sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}")
        try:
            os.kill(os.getppid(), 9)
            print("KILLPARENT=done")
        except OSError as e:
            print(f"KILLPARENT={type(e).__name__}")
        """,
    )
    got = lines(out)
    assert status["exit_code"] == 0, out
    if os.geteuid() == 0:
        assert int(got["UID"]) >= 1_000_000, "root graders run kernels as a uid of their own"
    assert int(got["UID"]) != 0
    assert int(got["PID"]) <= 3 and int(got["PPID"]) <= 2, "the kernel must be in a pid namespace of its own"
    assert max(json.loads(got["PROCS"])) <= 4, f"host processes visible: {got['PROCS']}"
    assert got["CAPS"] == "0000000000000000" and got["NNP"] == "1"
    # pid 1 of the sandbox must not be killable: bwrap's runs as another uid (EPERM); a forked kernel's
    # init runs as the kernel's uid, and Linux drops signals from inside its namespace (the run goes on)
    assert got["KILLPARENT"] == ("PermissionError" if MODE == "cold" else "done"), out


def test_no_network(tmp_path):
    """A server on the host's 127.0.0.1 is unreachable from the sandbox, reachable from the host."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    seen: list[bytes] = []

    def serve():
        server.settimeout(30)
        try:
            conn, _ = server.accept()
            seen.append(conn.recv(100))
        except OSError:
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    status, out = run(
        tmp_path,
        f"""
        import socket
        try:
            socket.create_connection(("127.0.0.1", {port}), timeout=5).sendall(b"pwned")
            print("TCP=connected")
        except OSError as e:
            print(f"TCP={{type(e).__name__}}")
        print(f"IFACES={{[n for _, n in socket.if_nameindex()]}}")
        try:
            socket.getaddrinfo("pypi.org", 443)
            print("DNS=resolved")
        except OSError as e:
            print(f"DNS={{type(e).__name__}}")
        """,
    )
    got = lines(out)
    assert got["TCP"] in ("ConnectionRefusedError", "OSError"), out
    assert got["IFACES"] == "['lo']" and got["DNS"] == "gaierror"
    socket.create_connection(("127.0.0.1", port), timeout=5).sendall(b"host")
    t.join(10)
    server.close()
    assert seen == [b"host"], "only the host's own connection may arrive"


def test_environment_is_an_allow_list(tmp_path, monkeypatch):
    monkeypatch.setenv("LSTM_COURSE_TEST_TOKEN", "ghp_not-for-students")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "also-secret")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    status, out = run(tmp_path, "import os, json; print('ENV=' + json.dumps(dict(os.environ)))")
    env = json.loads(lines(out)["ENV"])
    assert "not-for-students" not in out and "also-secret" not in out
    fixed = {"HOME", "TMPDIR", "PATH", "IPYTHONDIR", "MPLCONFIGDIR", "USER", "PWD"}  # PWD: set by bwrap
    assert set(env) <= fixed | set(sandbox.ENV_ALLOW), set(env) - fixed - set(sandbox.ENV_ALLOW)
    assert env["TF_CPP_MIN_LOG_LEVEL"] == "3" and env["HOME"] == sandbox.HOME


def test_course_gradebook_and_home_are_not_mounted(tmp_path):
    """The course root, solutions/, gradebooks, other folders and $HOME do not exist in the sandbox."""
    other = tmp_path / "other-student"
    other.mkdir()
    (other / "answer.txt").write_text("bob's work")
    db = tmp_path / "gradebook.db"
    db.write_text("SQLite format 3")
    probes = [ROOT / "solutions", ROOT / "nbgrader_config.py", ROOT / "tests", other / "answer.txt", db]
    probes += [Path.home() / ".bashrc", Path("/etc/shadow"), tmp_path / "state" / "spec.json"]
    if MODE == "forked":  # the server's socket and log, another kernel's folder
        server = forkserver.fork_server(("numpy",), Limits())
        other_kernel = server.new_state() / "work"
        other_kernel.mkdir()
        (other_kernel / "answer.txt").write_text("carol's work")
        probes += [server.socket, server.log, server.root / "ctl", other_kernel / "answer.txt"]
    software = tuple(str(p) for p in sandbox.readable_paths())
    status, out = run(
        tmp_path,
        f"""
        import os
        for p in {[str(p) for p in probes]!r}:
            print(f"EXISTS {{p}}={{os.path.exists(p)}}")
        print(f"ROOTLIST={{sorted(os.listdir({str(ROOT)!r}))}}")
        print(f"HOMELIST={{sorted(os.listdir('/home/student'))}}")
        found = []
        software = {software!r}  # read-only installs (nbgrader ships a test gradebook.db)
        for top in sorted(set(os.listdir("/")) - {{"proc", "sys", "dev", "usr", "lib", "lib64", "bin", "sbin"}}):
            for d, _, files in os.walk("/" + top):
                if not d.startswith(software):
                    found += [os.path.join(d, f) for f in files if f.endswith((".db", ".sqlite"))]
        print(f"DBS={{found}}")
        """,
    )
    got = lines(out)
    for p in probes:
        assert got[f"EXISTS {p}"] == "False", f"{p} is visible in the sandbox"
    assert set(eval(got["ROOTLIST"])) <= {".venv", "lstm_ref"}, got["ROOTLIST"]
    assert eval(got["HOMELIST"]) == ["data.csv"], "the scratch copy holds the submission minus its notebooks"
    assert eval(got["DBS"]) == []


def test_read_only_system_and_one_writable_scratch(tmp_path):
    targets = [ROOT / "lstm_ref" / "x.py", Path(sys.prefix) / "x", Path("/usr/x"), Path("/etc/x"), ROOT / "x"]
    marker = f"/tmp/lstm-sandbox-marker-{os.getpid()}"
    status, out = run(
        tmp_path,
        f"""
        for p in {[str(t) for t in targets]!r}:
            try:
                open(p, "w").write("owned")
                print(f"WRITE {{p}}=ok")
            except OSError as e:
                print(f"WRITE {{p}}={{type(e).__name__}}")
        open("/home/student/result.txt", "w").write("mine")
        print("MINE=" + open("result.txt").read())
        open({marker!r}, "w").write("private tmp")
        print("DONE=1")
        """,
    )
    got = lines(out)
    assert got["DONE"] == "1", out
    for t in targets:
        assert got[f"WRITE {t}"] != "ok" and not t.exists(), f"{t} was writable"
    assert got["MINE"] == "mine", "its HOME is writable"
    assert not (status["state"] / "work" / "result.txt").exists(), "nothing it writes reaches the host"
    assert not Path(marker).exists(), "the sandbox's /tmp must be its own"


def test_memory_cap_raises_memory_error(tmp_path):
    status, out = run(
        tmp_path,
        """
        import numpy as np
        try:
            a = np.ones(2 << 30, dtype=np.uint8)
            print("ALLOC=ok")
        except MemoryError:
            print("ALLOC=MemoryError")
        """,
        Limits(memory=1 * GiB),
    )
    assert lines(out)["ALLOC"] == "MemoryError", out
    assert status["exit_code"] == 0


def test_process_cap(tmp_path):
    status, out = run(
        tmp_path,
        """
        import subprocess
        kids = []
        try:
            for _ in range(200):
                kids.append(subprocess.Popen(["sleep", "30"]))
        except OSError as e:
            print(f"ERR={type(e).__name__}")
        print(f"STARTED={len(kids)}")
        """,
        Limits(processes=40),
    )
    got = lines(out)
    assert int(got["STARTED"]) < 40 and got["ERR"] == "BlockingIOError", out


def test_children_die_with_the_sandbox(tmp_path, survivors):
    """Processes the kernel leaves behind (even detached ones) end with it: nothing survives on the host."""
    tag = f"lstm-orphan-{os.getpid()}"
    status, out = run(
        tmp_path,
        f"""
        import subprocess
        for _ in range(50):
            subprocess.Popen(["sleep", "300", "{tag}"], start_new_session=True)
        print("SPAWNED=50")
        """,
    )
    assert lines(out)["SPAWNED"] == "50", out
    time.sleep(0.5)
    left = survivors(tag)
    assert left == [], f"{len(left)} processes outlived the sandbox"


def test_cpu_limit_kills(tmp_path):
    status, out = run(tmp_path, "while True: pass", Limits(cpu_seconds=1))
    assert status["reason"] == "killed: CPU-time limit (1 s)", status


def test_wall_clock_limit_kills(tmp_path):
    t0 = time.monotonic()
    status, out = run(tmp_path, "import time; time.sleep(600)", Limits(wall_seconds=3))
    assert status["killed"] and status["reason"] == "killed: wall-clock limit (3 s)", status
    assert time.monotonic() - t0 < 120


def test_scratch_space_is_capped(tmp_path):
    """/home/student is a size-capped tmpfs: filling it fails with ENOSPC instead of filling the grader's disk."""
    status, out = run(
        tmp_path,
        """
        n = 0
        try:
            for i in range(100):
                open(f"/home/student/fill{i}", "wb").write(b"x" * (1 << 20))
                n += 1
        except OSError as e:
            print(f"FULL={e.errno}")
        print(f"WROTE={n}")
        """,
        Limits(scratch_size=8 * MiB),
    )
    got = lines(out)
    assert got["FULL"] == "28" and int(got["WROTE"]) <= 8, out  # ENOSPC after at most 8 MiB


def test_file_size_cap(tmp_path):
    status, out = run(
        tmp_path,
        """
        try:
            open("/home/student/big", "wb").write(b"x" * (3 << 20))
            print("BIG=ok")
        except OSError as e:
            print(f"BIG={e.errno}")
        """,
        Limits(file_size=1 * MiB),
    )
    assert lines(out)["BIG"] == "27", out  # EFBIG


@pytest.mark.slow
def test_kernel_imports_the_frameworks(tmp_path):
    """numpy, torch, TensorFlow/Keras and lstm_ref import and run under the default 2 GiB cap."""
    status, out = run(
        tmp_path,
        """
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, torch, keras, tensorflow as tf
        import lstm_ref
        from lstm_ref.numpy import LSTM
        x = np.zeros((2, 3, 4), dtype=np.float32)
        out, _ = LSTM(4, 5, batch_first=True, seed=0)(x)
        y, _ = torch.nn.LSTM(4, 5, batch_first=True)(torch.zeros(2, 3, 4))
        z = keras.layers.LSTM(5)(x)
        print(f"SHAPES={out.shape}|{tuple(y.shape)}|{tuple(z.shape)}")
        import ipykernel, IPython
        print("IMPORTS=ok")
        """,
    )
    got = lines(out)
    assert got.get("IMPORTS") == "ok", out[-3000:]
    assert got["SHAPES"] == "(2, 3, 5)|(2, 3, 5)|(2, 5)"


@pytest.mark.parametrize("mode", ["forked"], indirect=True)  # a cold sandbox is a new bwrap each time
def test_a_forked_kernel_sees_nothing_of_the_one_before(tmp_path, survivors, mode):
    """Two kernels forked by one warm server, one after the other: the second finds no file, process,
    module change, environment variable or random state the first left behind, and the server's modules
    as it imported them."""
    tag = f"lstm-leftover-{os.getpid()}"
    first, out1 = run(
        tmp_path / "a",
        f"""
        import os, subprocess, sys, types, numpy
        for path in ("/tmp/left.txt", "/home/student/left.txt", "/dev/shm/left"):
            open(path, "w").write("left behind")
        subprocess.Popen(["sleep", "300", "{tag}"], start_new_session=True)
        if os.fork() == 0:  # a double-forked daemon
            os.setsid()
            subprocess.Popen(["sleep", "301", "{tag}"])
            os._exit(0)
        numpy.allclose = lambda *a, **k: True
        numpy.left_behind = 1
        sys.modules["left_behind"] = types.ModuleType("left_behind")
        os.environ["LEFT_BEHIND"] = "1"
        print(f"UID={{os.getuid()}}")
        print(f"RANDOM={{numpy.random.rand()}}")
        """,
    )
    second, out2 = run(
        tmp_path / "b",
        """
        import os, sys, numpy
        files = [p for p in ("/tmp/left.txt", "/home/student/left.txt", "/dev/shm/left") if os.path.exists(p)]
        print(f"FILES={files}")
        procs = [open(f"/proc/{p}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()]
        print(f"SLEEPERS={sum('sleep' in c for c in procs)}")
        print(f"ALLCLOSE={numpy.allclose.__module__}")
        print(f"PATCHES={[hasattr(numpy, 'left_behind'), 'left_behind' in sys.modules, 'LEFT_BEHIND' in os.environ]}")
        print(f"PRELOADED={'numpy' in sys.modules}")
        print(f"UID={os.getuid()}")
        print(f"RANDOM={numpy.random.rand()}")
        """,
    )
    a, b = lines(out1), lines(out2)
    assert first["exit_code"] == 0 and second["exit_code"] == 0, out1 + out2
    assert a["UID"] == b["UID"], "both kernels came from the same server"
    assert b["FILES"] == "[]" and b["SLEEPERS"] == "0", out2
    assert b["ALLCLOSE"] == "numpy" and b["PATCHES"] == "[False, False, False]", out2
    assert b["PRELOADED"] == "True" and a["RANDOM"] != b["RANDOM"], "numpy comes imported, and reseeded"
    time.sleep(0.5)
    assert survivors(tag) == [], "the first kernel's processes died with it"


@pytest.mark.parametrize("mode", ["forked"], indirect=True)
def test_a_server_that_cannot_start_says_why(mode):
    with pytest.raises(
        forkserver.ForkServerUnavailable,
        match="(?s)did not start: it exited.*No module named .no_such_module_here.",
    ):
        forkserver.ForkServer(("no_such_module_here",), Limits())


@pytest.mark.parametrize("mode", ["forked"], indirect=True)
def test_without_a_fork_server_kernels_start_cold(tmp_path, monkeypatch, mode):
    """Where forked kernels cannot be isolated (no user namespaces), the kernel manager starts cold ones."""
    from lstm_course.sandbox.kernel import SandboxKernelManager

    monkeypatch.setattr(forkserver, "_UNAVAILABLE", ["a child cannot create user namespaces here"])
    km = SandboxKernelManager(warm=True, preload=["numpy"])
    km.kernel_spec  # noqa: B018 - loads the spec the pre-start hook changes
    run_sync = __import__("jupyter_core.utils", fromlist=["run_sync"]).run_sync
    run_sync(km._async_pre_start_kernel)(cwd=str(tmp_path))
    try:
        assert km.server is None and "--fork-server" not in km.format_kernel_cmd()
        assert json.loads((km.state / "spec.json").read_text())["uid"] == sandbox.sandbox_uid()
    finally:
        km.remove_state()


@pytest.mark.parametrize("mode", ["forked"], indirect=True)
def test_software_under_tmp_stays_in_a_forked_kernel(tmp_path, monkeypatch, mode):
    """A venv or a checkout under /tmp (a CI clone) is mounted read-only into the server's sandbox, under
    its /tmp; the new /tmp a forked kernel gets must keep it, read-only, and hide the rest."""
    import shutil
    import tempfile

    pkg = Path(tempfile.mkdtemp(prefix="lstm-venv-", dir="/tmp"))  # a checkout: its venv one level down
    inner = pkg / "venv"
    try:
        inner.mkdir()
        (inner / "under_tmp_module.py").write_text("X = 42\n")
        for path in (pkg, inner):
            path.chmod(0o755)
        (inner / "under_tmp_module.py").chmod(0o644)
        original = sandbox.readable_paths
        monkeypatch.setattr(sandbox, "readable_paths", lambda: [*original(), inner])
        server = forkserver.ForkServer(("numpy",), Limits())
        try:
            sub = tmp_path / "submission"
            sub.mkdir()
            state = server.new_state()
            sandbox.prepare(state, sub, Limits(), uid=server.uid)
            code = (
                f"import os, sys; sys.path.insert(0, {str(inner)!r}); import under_tmp_module as m\n"
                f"print(f'X={{m.X}}')\n"
                f"try:\n    open({str(pkg / 'w.txt')!r}, 'w')\n    print('WRITE=ok')\n"  # the folder holding it
                f"except OSError as e:\n    print(f'WRITE={{type(e).__name__}}')\n"
                f"print(f'TMP={{sorted(os.listdir(\"/tmp\"))}}')\n"
            )
            cmd = [sys.executable, "-m", "lstm_course.sandbox.bwrap", "--state", str(state)]
            cmd += ["--fork-server", str(server.socket), "--", sys.executable, "-c", code]
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        finally:
            server.close()
        got = lines(proc.stdout)
        assert got.get("X") == "42", proc.stdout + proc.stderr
        assert got["WRITE"] in ("OSError", "PermissionError"), got
        # the other software under /tmp: this checkout's venv, when the checkout itself is under /tmp
        software = {q.relative_to("/tmp").parts[0] for q in original() if Path("/tmp") in q.parents}
        assert set(eval(got["TMP"])) <= {pkg.name, server.root.name} | software, got["TMP"]
    finally:
        shutil.rmtree(pkg, ignore_errors=True)
