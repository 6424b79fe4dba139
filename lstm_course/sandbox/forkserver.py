"""Warm sandboxed kernels: a fork server inside bubblewrap that has imported the course's heavy modules.

A cold kernel (:mod:`lstm_course.sandbox.bwrap`) is a new Python in a new sandbox: it starts IPython and
imports numpy, torch and, for two assignments, TensorFlow, for every notebook (1 to 4 s of CPU, more than
most notebooks' own tests). A :class:`ForkServer` pays that once per grading process: one sandboxed Python,
the *server*, imports the modules the assignment's source imports (:func:`preload_for`), then, for each
kernel, forks. Every student still gets a fresh process in a fresh sandbox:

- **its own namespaces**, made by the forked child before any student code runs (:func:`_isolate`): a
  user namespace (mapping only the server's uid, so the kernel has the same uid as a cold kernel), a
  mount namespace with a new ``/tmp``, ``/home/student`` (a copy of this submission) and ``/dev/shm``, each
  a size-capped tmpfs, the server's folders hidden under an empty tmpfs except this kernel's own socket
  folder; a pid namespace with its own ``/proc`` (an *init* process, pid 1, then the kernel, pid 2: every
  process the student starts dies with the kernel); and a network and an IPC namespace of its own;
- **nothing left from the student before**: the server never runs student code; each kernel is a copy of
  the server taken just after the imports, so modules, files, processes and environment are the server's,
  and its random generators (Python's, numpy's, torch's) are seeded afresh;
- **the same limits** as a cold kernel (:class:`~lstm_course.sandbox.bwrap.Limits`): memory, processes, CPU
  time, file size (set in the kernel, where the hard limits only go down), the tmpfs sizes, and the wall
  clock, which the supervisor enforces as for a cold kernel;
- **no capabilities** (all dropped, the bounding set emptied, ``no_new_privs``), checked before the first
  line of the kernel runs; the server and the init process are not dumpable, so the kernel cannot read
  their memory.

The server's sandbox is a cold kernel's (:func:`~lstm_course.sandbox.bwrap.bwrap_argv`) with two
differences: its folder (the control socket and each kernel's state) is mounted read-write, and ``/proc`` is
the host's, which Linux requires before a nested sandbox may mount a ``/proc`` of its own; the kernels
never see it. The kernel manager starts the same supervisor as for a cold kernel, with ``--fork-server``:
the supervisor (``bwrap._Forked``) asks the server for the kernel over the control socket and keeps the connection open while
the kernel lives; when the supervisor ends (the grader shut the kernel down, the wall clock ran out, the
grader died), the server kills the kernel's namespace.

Why a fork server and not a pool of pre-started kernels: a pool hides the start behind the previous
notebook, but every kernel still imports the frameworks, so the CPU per notebook stays the same and a
machine with one worker per core gains nothing (BENCHMARKS.md, "Warm kernels"). Forking shares the
imported modules, so that work is done once per worker and assignment.

Needs Linux and unprivileged user namespaces (``kernel.unprivileged_userns_clone=1`` /
``user.max_user_namespaces`` > 0), as bubblewrap without setuid does.
"""

from __future__ import annotations

import ast
import atexit
import contextlib
import ctypes
import gc
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

__all__ = [
    "PRELOADABLE",
    "preload_for",
    "ForkServer",
    "ForkServerUnavailable",
    "fork_server",
    "prestart",
    "shutdown_all",
]

#: Modules worth importing once per worker (seconds each); a source's other imports are left to the kernel.
PRELOADABLE = ("numpy", "torch", "tensorflow", "keras", "lstm_ref", "lstm_ref.feedback", "matplotlib.pyplot")
#: Always imported: what every kernel loads before the first cell (``ipykernel.debugger`` imports debugpy,
#: about 150 modules, 76 ms of each kernel's start when left to the kernel; importing starts no thread).
KERNEL_MODULES = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "ipykernel.debugger")
#: Imported together: Keras 3 imports TensorFlow (its backend) anyway, so an assignment that names one
#: shares the other's server (one server per worker for both TensorFlow assignments, not two).
TOGETHER = {"keras": ("tensorflow",), "tensorflow": ("keras",)}
#: What a preloaded module imports later, at first use, measured: torch's optimizers import
#: ``torch._dynamo`` (about 800 modules, 0.9 s) at their first ``step()``. Importing starts no thread.
LATER = {"torch": ("torch._dynamo",)}

# --------------------------------------------------------------------------- Linux calls (ctypes)

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
_libc = ctypes.CDLL(None, use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = lambda s: None if s is None else s.encode()  # noqa: E731
    _call(_libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)), f"mount {target}")


def _prctl(option: int, arg: int = 0) -> None:
    _call(_libc.prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_capabilities() -> None:
    """Empty the bounding, ambient, effective, permitted and inheritable sets; set ``no_new_privs``."""
    last = (
        int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        if Path("/proc/sys/kernel/cap_last_cap").exists()
        else 40
    )
    for cap in range(last + 1):
        _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0)  # EINVAL for caps this kernel lacks
    _libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)
    header, data = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _call(_libc.capset(ctypes.byref(header), data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    status = dict(ln.split(":", 1) for ln in Path("/proc/self/status").read_text().splitlines() if ":" in ln)
    if int(status["CapEff"], 16) or int(status["CapPrm"], 16) or int(status["CapBnd"], 16):
        raise OSError("capabilities still held after dropping them")


# --------------------------------------------------------------------------- which modules


def preload_for(sources: list[str]) -> tuple[str, ...]:
    """The :data:`PRELOADABLE` modules that trusted ``sources`` (code cells) import, in that order.

    >>> preload_for(["import numpy as np\\nfrom lstm_ref.feedback import check", "import keras"])
    ('numpy', 'tensorflow', 'keras', 'lstm_ref', 'lstm_ref.feedback')
    """
    wanted: set[str] = set()
    for src in sources:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and not node.level
                else []
            )
            for name in names:
                parts = name.split(".")
                wanted.update(".".join(parts[: i + 1]) for i in range(len(parts)))
    wanted.update(m for name in list(wanted) for m in TOGETHER.get(name, ()))
    return tuple(m for m in PRELOADABLE if m in wanted)


# --------------------------------------------------------------------------- the server (in the sandbox)


def _reseed() -> None:
    """A forked kernel's random generators start from fresh entropy, as a new process's would."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _set_limits(limits: dict, uid: int) -> None:
    """A cold kernel's limits (``bwrap.set_limits``): the hard limits only go down from the server's."""
    import resource

    # the process cap counts every process of the uid: the server, its child and init are 3 of them
    mine = sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _uid_of(p) == uid)
    for res, soft, hard in (
        (resource.RLIMIT_DATA, limits["memory"], limits["memory"]),
        (resource.RLIMIT_NPROC, limits["processes"] + mine, limits["processes"] + mine),
        (resource.RLIMIT_CPU, limits["cpu_seconds"], limits["cpu_seconds"] + 5),
        (resource.RLIMIT_FSIZE, limits["file_size"], limits["file_size"]),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        ceiling = resource.getrlimit(res)[1]
        if ceiling != resource.RLIM_INFINITY:
            soft, hard = min(soft, ceiling), min(hard, ceiling)
        resource.setrlimit(res, (soft, hard))


def _uid_of(path: Path) -> int:
    try:
        return path.stat().st_uid
    except OSError:
        return -1


def _isolate(request: dict, root: Path) -> None:
    """In the forked child, before anything else: new namespaces, the kernel's own filesystem view."""
    uid, gid, home = os.getuid(), os.getgid(), request["limits"]["home"]
    state = Path(request["state"])
    limits = request["limits"]
    _call(
        _libc.unshare(
            CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
        ),
        "unshare",
    )
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
    Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    ipc = os.open(state / "ipc", os.O_PATH | os.O_DIRECTORY)
    _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['scratch_size']},mode=0777")
    shutil.copytree(state / "work", home, dirs_exist_ok=True, symlinks=True)
    kept = _mounts_under("/tmp", root)  # the software the server's sandbox mounted there (a venv in /tmp)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['tmp_size']},mode=1777")
    _restore_mounts(kept, "/tmp")
    if Path("/dev/shm").is_dir():
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['tmp_size']},mode=1777")
    # the server's folder (its socket, every kernel's state: often under the /tmp just covered) shows
    # only this kernel's socket folder, at the path its connection file names
    root.mkdir(parents=True, exist_ok=True)
    _mount("tmpfs", str(root), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0755")
    (state / "ipc").mkdir(parents=True)
    _mount(f"/proc/self/fd/{ipc}", str(state / "ipc"), None, MS_BIND)
    os.close(ipc)
    _mount(None, str(root), None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "size=64k,mode=0755")


def _mounts_under(top: str, skip: Path) -> list[tuple[str, int, int, bool]]:
    """The mount points strictly below ``top`` (outside ``skip``), parents first: each with an ``O_PATH``
    descriptor of it and its flags, to be mounted again over a new ``top`` (:func:`_restore_mounts`)."""
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].encode().decode("unicode_escape")  # octal escapes: spaces in paths
        path = Path(point)
        if Path(top) in path.parents and not (path == skip or skip in path.parents):
            found.append(point)
    kept = []
    for point in sorted(set(found), key=lambda p: p.count("/")):
        flags = os.statvfs(point).f_flag & (MS_RDONLY | MS_NOSUID | MS_NODEV | 8 | 1024)  # ST_ = MS_ bits
        kept.append((point, os.open(point, os.O_PATH), flags, os.path.isdir(point)))
    return kept


def _restore_mounts(kept: list[tuple[str, int, int, bool]], top: str) -> None:
    """Bind each kept mount again at its path, with its flags (read-only stays read-only); the folders
    made in the new ``top`` to hold them are read-only too (bound onto themselves), as bwrap's are."""
    made = {Path(top) / Path(point).relative_to(top).parts[0] for point, *_ in kept}
    made = {folder for folder in made if str(folder) not in {point for point, *_ in kept}}
    for point, fd, flags, is_dir in kept:
        if is_dir:
            Path(point).mkdir(parents=True, exist_ok=True)
        else:
            Path(point).parent.mkdir(parents=True, exist_ok=True)
            Path(point).touch()
        _mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        _mount(None, point, None, MS_REMOUNT | MS_BIND | flags)
        os.close(fd)
    for folder in sorted(made):
        _mount(str(folder), str(folder), None, MS_BIND | MS_REC)
        _mount(None, str(folder), None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _die_with_parent() -> None:
    parent = os.getppid()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # it died before the call
        os._exit(1)


def _wait_code(status: int) -> int:
    """A wait status as bwrap reports one: the exit code, or 128 + the signal."""
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _child(request: dict, root: Path, fds: list[int]) -> None:
    """The forked child (never returns): namespaces, then *init* (pid 1), which forks the kernel (pid 2)."""
    try:
        _die_with_parent()
        _prctl(PR_SET_DUMPABLE, 1)  # the server is not: its child's /proc/self (the uid map) would be root's
        _isolate(request, root)
        _prctl(PR_SET_DUMPABLE, 0)
        init = os.fork()  # the first child in the new pid namespace is its pid 1
    except BaseException as exc:  # noqa: BLE001 - a child must not return into the server's loop
        os.write(2, f"fork server: could not isolate the kernel: {exc}\n".encode())
        os._exit(70)
    if init:
        _, status = os.waitpid(init, 0)
        os._exit(_wait_code(status) & 0xFF)
    try:
        _die_with_parent()
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV)
        kernel = os.fork()
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"fork server: could not mount /proc: {exc}\n".encode())
        os._exit(71)
    if kernel == 0:
        _kernel(request, fds)
    # init: no capabilities, no signal handlers (so the kernel cannot signal it), reaps every orphan
    _drop_capabilities()
    _prctl(PR_SET_DUMPABLE, 0)
    while True:
        pid, status = os.wait()
        if pid == kernel:
            os._exit(_wait_code(status) & 0xFF)


def _kernel(request: dict, fds: list[int]) -> None:
    """pid 2: the supervisor's stdout and stderr (``fds``), limits, no capabilities, then ``python ARGV``
    (``-m module ...`` or ``-c code``)."""
    import runpy

    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for target, fd in zip((1, 2), fds, strict=False):
            os.dup2(fd, target)
        os.closerange(3, 1 << 16)
        _die_with_parent()
        os.setsid()
        os.chdir(request["limits"]["home"])
        _set_limits(request["limits"], os.getuid())
        _drop_capabilities()
        _prctl(PR_SET_DUMPABLE, 1)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets it at start-up
        os.environ.clear()  # a cold kernel's environment, as the supervisor made it now
        os.environ.update(request["env"])
        _reseed()
        argv = list(request["argv"])
    except BaseException as exc:  # noqa: BLE001
        os.write(2, f"fork server: could not start the kernel: {exc}\n".encode())
        os._exit(72)
    code = 0
    try:
        if argv[:1] == ["-c"]:
            sys.argv = ["-c", *argv[2:]]
            sys.path[0] = ""
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
        elif argv[:1] == ["-m"]:
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            raise SystemExit(f"fork server: expected -c CODE or -m MODULE, got {argv[:2]}")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if exc.code is not None and not isinstance(exc.code, int):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - as the interpreter reports an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _serve_one(conn: socket.socket, root: Path) -> None:
    """One kernel: read the request, fork it, report its exit; kill it if the supervisor goes away."""
    data, fds = b"", []
    while not data.endswith(b"\n"):
        chunk, got, _, _ = socket.recv_fds(conn, 65536, 2)
        fds += got
        if not chunk:
            return
        data += chunk
    request = json.loads(data)
    pid = os.fork()
    if pid == 0:
        conn.close()
        _child(request, root, fds)
    for fd in fds:
        os.close(fd)
    conn.sendall(json.dumps({"started": pid}).encode() + b"\n")
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"exit": _wait_code(status)}).encode() + b"\n")
            return
        readable, _, _ = select.select([conn], [], [], 0.05)
        if readable and not conn.recv(64):  # the supervisor is gone: so is the kernel
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return


def _probe(root: Path, preload: list[str]) -> str:
    """Whether a kernel can be isolated here, tried on a forked child before any kernel is: the namespaces
    (user namespaces may be off), then the kernel's own mounts, after which the Python installation and
    the preloaded modules must still be there. ``""``, or why not."""
    state = root / "kernels" / ".probe"
    for folder in (state / "ipc", state / "work"):
        folder.mkdir(parents=True, exist_ok=True)
    request = {
        "state": str(state),
        "limits": {"home": os.getcwd(), "scratch_size": 1 << 20, "tmp_size": 1 << 20},
    }
    need = [sys.executable, *(getattr(sys.modules.get(m), "__file__", None) for m in preload)]
    pid = os.fork()
    if pid == 0:
        try:
            _prctl(PR_SET_DUMPABLE, 1)
            _isolate(request, root)
        except BaseException as exc:  # noqa: BLE001
            os.write(2, f"fork server: the namespace probe failed: {exc!r}\n".encode())
            os._exit(1)
        missing = [path for path in need if path and not os.path.exists(path)]
        if missing:
            os.write(2, f"fork server: a forked kernel would not see {missing}\n".encode())
            os._exit(2)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    shutil.rmtree(state, ignore_errors=True)
    code = os.waitstatus_to_exitcode(status)
    if code == 1:
        return "a child cannot create the namespaces a kernel needs here (user namespaces off?)"
    return "" if code == 0 else "a forked kernel would not see the Python installation (see the server log)"


def serve(sock_path: Path, preload: list[str]) -> None:
    """The server's main loop: import ``preload``, check that kernels can be isolated, say ``ready``,
    then serve one kernel at a time."""
    import importlib

    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # debugpy's import-time warning, at once
    for name in (*KERNEL_MODULES, *preload, *(m for p in preload for m in LATER.get(p, ()))):
        importlib.import_module(name)
    # the imported modules live as long as every kernel: out of the collector's sight, a full collection
    # in a kernel no longer walks TensorFlow's millions of objects (nor writes to their shared pages)
    gc.collect()
    gc.freeze()
    if why := _probe(sock_path.parent.parent, preload):
        print(f"unavailable: {why}", flush=True)
        return
    _prctl(PR_SET_DUMPABLE, 0)
    root = sock_path.parent.parent
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(4)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        with conn:
            try:
                _serve_one(conn, root)
            except (OSError, ValueError) as exc:
                print(f"fork server: {exc}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m lstm_course.sandbox.forkserver", description=__doc__)
    parser.add_argument("--socket", required=True, type=Path)
    parser.add_argument("--preload", default="", help="comma-separated modules to import once")
    args = parser.parse_args(argv)
    serve(args.socket, [m for m in args.preload.split(",") if m])
    return 0


# --------------------------------------------------------------------------- the grader's side


class ForkServerUnavailable(RuntimeError):
    """No fork server here (no user namespaces for its kernels, or it failed): kernels start cold."""


class ForkServer:
    """A running fork server: its sandbox, with ``preload`` imported, under ``limits``.

    ``kernels`` is where each kernel's state folder goes (it must lie inside the server's folder);
    :func:`request_kernel` (from the supervisor) asks the server at ``socket`` for one kernel.
    """

    def __init__(self, preload: tuple[str, ...], limits, start_timeout: float = 600):
        from lstm_course.sandbox import bwrap

        self.preload, self.limits = preload, limits
        self.uid = bwrap.sandbox_uid(slot=_next_slot())
        self.root = Path(tempfile.mkdtemp(prefix="lstm-forkserver-"))
        self.kernels, home = self.root / "kernels", self.root / "home"
        ctl = self.root / "ctl"
        for d in (self.kernels, home, ctl):
            d.mkdir()
        self.root.chmod(0o755)
        if os.geteuid() == 0:
            for d in (self.kernels, ctl):
                os.chown(d, self.uid, self.uid)
        self.socket = ctl / "server.sock"
        # the server runs this file, copied: the course's own folder is never mounted in a sandbox
        script = shutil.copyfile(__file__, ctl / "forkserver.py")
        cmd = [sys.executable, str(script), "--socket", str(self.socket)]
        cmd += ["--preload", ",".join(preload)]
        argv = bwrap.bwrap_argv(
            cmd,
            work=home,
            ipc=self.root,
            uid=self.uid,
            limits=limits,
            env=dict(os.environ),
            bwrap=bwrap.find_bwrap(),
            host_proc=True,
        )
        self.log = self.root / "server.log"  # what the server and a kernel failing to start wrote
        self.proc = subprocess.Popen(
            argv,
            # room for the server, its child and init beside the kernel, whose own cap is the same as cold
            preexec_fn=lambda: bwrap.set_limits(
                replace(limits, processes=limits.processes + 8), self.uid, cpu=False
            ),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self.log.open("ab"),
        )
        self._wait_ready(start_timeout)

    def _wait_ready(self, timeout: float) -> None:
        """Until the server says ``ready``; :class:`ForkServerUnavailable` with its reason otherwise."""
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        said = self.proc.stdout.readline().decode(errors="replace").strip() if ready else ""
        if said == "ready":
            return
        log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
        self.close()
        why = said or (f"no answer in {timeout:g} s" if not ready else "it exited")
        raise ForkServerUnavailable(
            f"the fork server (preload {', '.join(self.preload) or 'nothing'}) did not start: {why}\n{log}".strip()
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def new_state(self) -> Path:
        """A fresh state folder for one kernel, inside the server's folder."""
        state = Path(tempfile.mkdtemp(prefix="k-", dir=self.kernels))
        state.chmod(0o755)  # the server's uid reads the kernel's work/ and binds its ipc/
        return state

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


_SERVERS: dict[tuple, Future] = {}  # (preload, limits, thread) -> the server, started or starting
_UNAVAILABLE: list[str] = []  # why this process's first server could not start: then no more tries
_SERVERS_LOCK = threading.Lock()
_SLOTS = iter(range(1, 1 << 20))
# Every server is started from this one long-lived thread: bubblewrap's --die-with-parent fires when the
# *thread* that started it ends (PR_SET_PDEATHSIG), and a server must outlive the short-lived threads
# that ask for it (an event loop's runner, prestart's caller); it still dies with the process.
_SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lstm-forkserver-spawner")


def _next_slot() -> int:
    with _SERVERS_LOCK:
        return next(_SLOTS)


def _start(preload: tuple[str, ...], limits, future: Future) -> None:
    try:
        future.set_result(ForkServer(preload, limits))
    except ForkServerUnavailable as exc:
        if "unavailable:" in str(exc):  # the probe's verdict on this machine: the same for every later server
            _UNAVAILABLE.append(str(exc))
        future.set_exception(exc)
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits for this server
        future.set_exception(exc)


def _claim(key: tuple) -> tuple[Future, bool]:
    """The registry's future for ``key``, and whether this caller must start the server (a new one, or
    one that replaces a server that died or failed)."""
    with _SERVERS_LOCK:
        old = _SERVERS.get(key)
        if old is not None and (not old.done() or (old.exception() is None and old.result().alive())):
            return old, False
        _SERVERS[key] = new = Future()
    if old is not None and old.exception() is None:
        old.result().close()
    return new, True


def prestart(preload: tuple[str, ...], limits, thread: int | None = None) -> None:
    """Start the server that ``fork_server(preload, limits)`` will return in ``thread`` (default: this
    one), in the background: its imports then overlap other work (a worker building the assignment's
    template). Does nothing where a server is running or starting, or where servers are unavailable."""
    if _UNAVAILABLE:
        return
    future, mine = _claim((preload, limits, thread or threading.get_ident()))
    if mine:
        _SPAWNER.submit(_start, preload, limits, future)


def fork_server(preload: tuple[str, ...], limits) -> ForkServer:
    """This thread's running server for ``preload`` and ``limits``, started (or restarted) when needed,
    or the one :func:`prestart` is starting (then this waits for it).

    One per thread: a server forks one kernel at a time, so two threads grading at once never share one.
    Raises :class:`ForkServerUnavailable` (and again at every later call, without trying) when the
    machine cannot isolate forked kernels.
    """
    if _UNAVAILABLE:
        raise ForkServerUnavailable(_UNAVAILABLE[0])
    future, mine = _claim((preload, limits, threading.get_ident()))
    if mine:
        _SPAWNER.submit(_start, preload, limits, future)
    return future.result()


def shutdown_all() -> None:
    """Stop every server of this process (also done at exit)."""
    with _SERVERS_LOCK:
        futures = list(_SERVERS.values())
        _SERVERS.clear()
    for future in futures:
        try:
            server = future.result(timeout=600)
        except BaseException:  # noqa: BLE001 - one that failed to start has nothing to stop
            continue
        server.close()


atexit.register(shutdown_all)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
