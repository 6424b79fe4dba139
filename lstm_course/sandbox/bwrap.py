"""Run one grading kernel in a bubblewrap sandbox, and supervise it.

The grader (nbgrader, the gradebook, this package) stays outside and trusted; only the kernel, which
runs the student's code, goes inside. :class:`lstm_course.sandbox.kernel.SandboxKernelManager` prepares a
private folder for each kernel and starts ``python -m lstm_course.sandbox.bwrap --state DIR -- KERNEL
ARGV``: this module's :func:`main`, the *supervisor*. The supervisor stays outside the sandbox, starts
``bwrap``, enforces the wall-clock limit and writes ``DIR/status.json`` (how the kernel ended), which the
grader turns into the submission's recorded outcome.

Inside the sandbox (:func:`bwrap_argv`):

- no network (an empty network namespace: the kernel talks to the grader over Unix sockets in
  ``DIR/ipc``, the only folder it shares with the grader);
- its own pid namespace: the grader and other kernels cannot be seen or signalled, and every
  process the kernel started dies with it;
- an unprivileged uid with no capabilities and ``no_new_privs``: as root, a uid of its own per kernel
  (``1_000_000 +`` the grader's pid, so the process cap is per kernel); otherwise a user namespace;
- an empty environment apart from :data:`ENV_ALLOW` (no tokens or credentials);
- a read-only system: ``/usr``, a few files of ``/etc``, the Python installation, the venv and the
  ``lstm_ref`` package, each mounted at its own path. The course root, ``solutions/`` and ``source/``,
  the gradebook, other submissions and ``$HOME`` are not mounted at all;
- the only writable places: ``/home/student``, a size-capped tmpfs that starts as a copy of this one
  submission (minus its notebooks: the one being graded holds the hidden tests), and a size-capped
  private ``/tmp``. Nothing the kernel writes reaches the grader's disk;
- caps (:class:`Limits`): memory (``RLIMIT_DATA``), processes and threads (``RLIMIT_NPROC``),
  CPU time (``RLIMIT_CPU``), file size (``RLIMIT_FSIZE``), no core files, and the wall clock.

The per-cell timeout and the output cap are enforced on the grader's side
(:class:`lstm_course.sandbox.kernel.SandboxExecute`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "Limits",
    "SandboxUnavailable",
    "ENV_ALLOW",
    "find_bwrap",
    "sandbox_uid",
    "readable_paths",
    "bwrap_argv",
    "describe_exit",
    "prepare",
    "supervise",
    "main",
]

GiB = 1 << 30
MiB = 1 << 20

#: Environment variables passed into the sandbox when the grader has them; everything else is dropped.
ENV_ALLOW = (
    "LANG",
    "LC_ALL",
    "TZ",
    "TF_CPP_MIN_LOG_LEVEL",
    "TF_ENABLE_ONEDNN_OPTS",
    "PYTHONWARNINGS",
    "PYTHONHASHSEED",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "MPLBACKEND",
    "PYDEVD_DISABLE_FILE_VALIDATION",
)
#: The parts of /etc a Python kernel needs (dynamic loader, user names, time zone, fonts).
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "nsswitch.conf", "passwd", "group", "fonts")
HOME = "/home/student"
SUBMISSION = "/home/.submission"  # the scratch copy, read-only; copied into HOME as the kernel starts
INSTALL_HINT = (
    "bubblewrap (bwrap) is not installed; grading sandboxes every student kernel with it. "
    "Install it with `sudo apt-get install bubblewrap` (Debian/Ubuntu; `dnf install bubblewrap` on "
    "Fedora), or pass --no-sandbox to run student code with your own rights (never for untrusted work)."
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create the namespaces it needs."""


@dataclass(frozen=True)
class Limits:
    """What one sandboxed kernel may use. Sizes in bytes, times in seconds."""

    memory: int = 2 * GiB  # private writable memory of each process (RLIMIT_DATA)
    processes: int = 256  # processes and threads of the kernel's uid (RLIMIT_NPROC); TF alone starts ~40
    cpu_seconds: int = 1800  # CPU time of each process (RLIMIT_CPU); SIGXCPU, then SIGKILL 5 s later
    wall_seconds: int = 1800  # the whole notebook, kernel start included
    file_size: int = 256 * MiB  # largest file it may write (RLIMIT_FSIZE)
    tmp_size: int = 256 * MiB  # its private /tmp (a tmpfs)
    scratch_size: int = 256 * MiB  # /home/student (a tmpfs), the submission's files included


#: Where :func:`find_bwrap` looks, after ``$PATH``.
SEARCH_PATH = "/usr/bin:/bin:/usr/local/bin"


def find_bwrap() -> str:
    """The path of ``bwrap``; raise :class:`SandboxUnavailable` with install instructions if missing."""
    path = shutil.which("bwrap", path=os.pathsep.join(filter(None, (os.environ.get("PATH"), SEARCH_PATH))))
    if path is None:
        raise SandboxUnavailable(INSTALL_HINT)
    return path


PID_SPAN = 1 << 22  # Linux's largest pid_max


def sandbox_uid(pid: int | None = None, slot: int = 0) -> int:
    """The uid a kernel runs as when the grader is root: unique among live sandboxes. A cold kernel's is
    ``1_000_000 +`` the grader's pid (one cold kernel at a time per grader); a fork server's
    (:mod:`lstm_course.sandbox.forkserver`) adds ``slot`` (1, 2, ...: one per server of that grader).

    >>> sandbox_uid(4321)
    1004321
    >>> sandbox_uid(4321, slot=2)
    9392929
    """
    return 1_000_000 + slot * PID_SPAN + (os.getpid() if pid is None else pid)


def _outermost(paths) -> list[Path]:
    """Distinct paths, dropping any that lies inside another one.

    >>> [str(p) for p in _outermost([Path("/a/b"), Path("/a"), Path("/c")])]
    ['/a', '/c']
    """
    out: list[Path] = []
    for p in sorted({Path(p) for p in paths}, key=lambda p: len(p.parts)):
        if not any(p == q or q in p.parents for q in out):
            out.append(p)
    return sorted(out)


def readable_paths() -> list[Path]:
    """Folders the kernel needs to read: the Python installation, the venv and the ``lstm_ref`` package.

    Only the package folder is mounted, never its parent (in a clone that is the course root).
    """
    import lstm_ref

    cands = {Path(sys.base_prefix).resolve(), Path(sys.prefix), Path(sys.prefix).resolve()}
    cands.add(Path(lstm_ref.__file__).resolve().parent)
    cands.add(Path(sys.executable).resolve().parent.parent)
    return _outermost(p for p in cands if p.exists() and str(p) != "/")


def _parents(path: Path, made: set[Path]) -> list[str]:
    """bwrap arguments creating the missing parents of ``path`` as world-traversable folders."""
    args = []
    for parent in reversed(path.parents):
        if str(parent) != "/" and parent not in made:
            made.add(parent)
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def kernel_env(env: dict[str, str]) -> dict[str, str]:
    """A kernel's whole environment: ``env`` filtered by :data:`ENV_ALLOW`, and the sandbox's own paths."""
    clean = {k: v for k, v in env.items() if k in ENV_ALLOW}
    clean.update(
        HOME=HOME,
        TMPDIR="/tmp",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        IPYTHONDIR="/tmp/ipython",
        MPLCONFIGDIR="/tmp/matplotlib",
        USER="student",
    )
    return clean


def bwrap_argv(
    kernel_cmd: list[str],
    *,
    work: Path,
    ipc: Path,
    uid: int,
    limits: Limits,
    env: dict[str, str],
    bwrap: str = "bwrap",
    host_proc: bool = False,
) -> list[str]:
    """The full ``bwrap ... -- KERNEL`` command line (see the module docstring for what it isolates).

    ``work`` (the scratch copy of the submission) is mounted read-only and copied into ``/home/student``
    (a tmpfs, the kernel's cwd and HOME) before the kernel starts; ``ipc`` is mounted read-write at its own
    path (the kernel's sockets and connection file). ``env`` is filtered by :data:`ENV_ALLOW`.
    ``host_proc``: a fork server's sandbox (:mod:`lstm_course.sandbox.forkserver`) mounts the host's
    ``/proc``, which Linux requires before the kernels it forks may each mount a ``/proc`` of their own.
    """
    made: set[Path] = set()
    args = [bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    args += ["--die-with-parent", "--new-session", "--hostname", "sandbox"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += ["--bind", "/proc", "/proc"] if host_proc else ["--proc", "/proc"]
    args += ["--dev", "/dev"]
    args += ["--perms", "1777", "--size", str(limits.tmp_size), "--tmpfs", "/tmp"]
    for path in readable_paths():
        args += _parents(path, made) + ["--ro-bind", str(path), str(path)]
    args += _parents(Path(HOME), made) + ["--ro-bind", str(work), SUBMISSION]
    args += ["--perms", "0777", "--size", str(limits.scratch_size), "--tmpfs", HOME]
    args += _parents(ipc, made) + ["--bind", str(ipc), str(ipc)]
    args += ["--chdir", HOME, "--clearenv"]
    for key, value in sorted(kernel_env(env).items()):
        args += ["--setenv", key, value]
    if os.geteuid() == 0:
        # root builds the namespaces, then the kernel drops to a uid of its own, with no capabilities
        args += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
        args += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--no-new-privs"]
        args += ["--inh-caps=-all", "--bounding-set=-all", "--"]
    else:
        args += ["--unshare-user", "--uid", "65534", "--gid", "65534", "--"]
    # as the kernel's own uid: fill HOME from the submission, then become the kernel
    return args + ["/bin/sh", "-c", f'cp -R {SUBMISSION}/. {HOME}/ && exec "$@"', "sh", *kernel_cmd]


def set_limits(limits: Limits, uid: int, cpu: bool = True) -> None:
    """Resource limits of the process about to exec bwrap (inherited by the kernel). A fork server's
    (``cpu=False``) has no CPU-time limit: each kernel it forks sets its own."""
    nproc = limits.processes
    if os.geteuid() != 0:  # the cap counts every process of this uid: leave room for the grader's own
        nproc += sum(1 for p in Path("/proc").iterdir() if p.name.isdigit() and _owner(p) == os.getuid())
    for res, soft, hard in (
        (resource.RLIMIT_DATA, limits.memory, limits.memory),
        (resource.RLIMIT_NPROC, nproc, nproc),
        *([(resource.RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 5)] if cpu else []),
        (resource.RLIMIT_FSIZE, limits.file_size, limits.file_size),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        resource.setrlimit(res, (soft, hard))


def _owner(path: Path) -> int:
    try:
        return path.stat().st_uid
    except OSError:
        return -1


def describe_exit(code: int | None, limits: Limits) -> str:
    """The reason, in words, for a kernel exit code as bwrap reports it (128 + signal for a signal).

    >>> describe_exit(137, Limits())
    'killed (SIGKILL): the memory cap (2 GiB) or the process cap (256) may have been reached'
    >>> describe_exit(152, Limits(cpu_seconds=60))
    'killed: CPU-time limit (60 s)'
    >>> describe_exit(1, Limits())
    'the kernel exited with status 1'
    """
    if code is None:
        return "the kernel did not exit"
    if code > 128:
        sig = code - 128
        if sig == signal.SIGXCPU:
            return f"killed: CPU-time limit ({limits.cpu_seconds} s)"
        if sig == signal.SIGXFSZ:
            return f"killed: file-size limit ({limits.file_size // MiB} MiB)"
        name = signal.Signals(sig).name if sig in signal.valid_signals() else f"signal {sig}"
        return (
            f"killed ({name}): the memory cap ({limits.memory / GiB:g} GiB) or the process cap "
            f"({limits.processes}) may have been reached"
        )
    return f"the kernel exited with status {code}"


# --------------------------------------------------------------------------- the supervisor


def _die_with_parent() -> None:
    """SIGKILL this supervisor when the grader dies (bwrap's --die-with-parent takes the kernel with it)."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def prepare(state: Path, cwd: Path, limits: Limits, uid: int | None = None) -> dict:
    """Fill a kernel's private folder ``state``: ``work/`` (the scratch copy of ``cwd``), ``ipc/``, ``spec.json``.

    The scratch copy leaves out notebooks: the one being graded holds the hidden tests. ``uid``: the
    kernel's (a fork server's, for a forked kernel); by default a cold kernel's, :func:`sandbox_uid`.
    """
    uid = sandbox_uid() if uid is None else uid
    ipc, work = state / "ipc", state / "work"
    ipc.mkdir(mode=0o700)
    ignore = shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints", "__pycache__")
    shutil.copytree(cwd, work, ignore=ignore, symlinks=True)
    if os.geteuid() == 0:
        os.chown(ipc, uid, uid)
    for path in (work, *work.rglob("*")):  # readable by the kernel, which copies it into its HOME
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    spec = {"uid": uid, "ipc": str(ipc), "work": str(work), "limits": asdict(limits)}
    (state / "spec.json").write_text(json.dumps(spec))
    return spec


def _connection_file(cmd: list[str], ipc: Path, uid: int) -> list[str]:
    """Copy the kernel's connection file (root-only, in the grader's runtime folder) into ``ipc``."""
    cmd = list(cmd)
    if "-f" not in cmd:  # not a kernel: nothing to copy
        return cmd
    i = cmd.index("-f") + 1
    dest = ipc / "connection.json"
    shutil.copyfile(cmd[i], dest)
    if os.geteuid() == 0:
        os.chown(dest, uid, uid)
    os.chmod(dest, 0o600)
    cmd[i] = str(dest)
    return cmd


def supervise(state: Path, kernel_cmd: list[str], fork_server: Path | None = None) -> int:
    """Start the sandboxed kernel described by ``state/spec.json``; wait for it within the wall limit.

    With ``fork_server`` (a :mod:`lstm_course.sandbox.forkserver` socket) the kernel is forked by that
    server instead of started by a new bwrap; everything else is the same. Writes ``state/status.json``:
    ``{"exit_code", "reason", "killed", "stopped", "seconds"}``.
    """
    _die_with_parent()
    spec = json.loads((state / "spec.json").read_text())
    limits = Limits(**spec["limits"])
    uid, ipc, work = spec["uid"], Path(spec["ipc"]), Path(spec["work"])
    kernel_cmd = _connection_file(kernel_cmd, ipc, uid)
    t0 = time.monotonic()
    stopped: list[str] = []
    run = _Forked(fork_server, state, kernel_cmd, limits) if fork_server else None
    if run is None:
        argv = bwrap_argv(
            kernel_cmd, work=work, ipc=ipc, uid=uid, limits=limits, env=dict(os.environ), bwrap=find_bwrap()
        )
        proc = subprocess.Popen(argv, preexec_fn=lambda: set_limits(limits, uid), stdin=subprocess.DEVNULL)

    def stop(signum, frame):  # the grader shuts the kernel down: take the sandbox with it
        if (run.poll() if run else proc.poll()) is None:
            stopped.append(signal.Signals(signum).name)
            run.kill() if run else proc.kill()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts reach the kernel as messages
    killed = ""
    try:
        code = run.wait(limits.wall_seconds) if run else proc.wait(timeout=limits.wall_seconds)
    except subprocess.TimeoutExpired:
        run.kill() if run else proc.kill()
        code = run.wait(None) if run else proc.wait()
        killed = f"killed: wall-clock limit ({limits.wall_seconds} s)"
    if stopped and not killed:
        reason = "stopped by the grader"
    else:
        reason = killed or describe_exit(code, limits)
    status = {"exit_code": code, "reason": reason, "killed": bool(killed), "stopped": bool(stopped)}
    status["seconds"] = round(time.monotonic() - t0, 3)
    (state / "status.json").write_text(json.dumps(status))
    return 0 if code == 0 else 1


class _Forked:
    """A kernel forked by a fork server (:mod:`lstm_course.sandbox.forkserver`), seen as a process:
    ``poll``, ``wait``, ``kill``."""

    def __init__(self, server: Path, state: Path, kernel_cmd: list[str], limits: Limits):
        self._read = read_message
        argv = kernel_cmd[1:] if kernel_cmd and Path(kernel_cmd[0]).name.startswith("python") else kernel_cmd
        env = kernel_env(dict(os.environ)) | {"PWD": HOME}  # as bwrap sets it
        self.conn = request_kernel(server, state, argv, asdict(limits) | {"home": HOME}, env)
        self.buffer = bytearray()
        self.code: int | None = None

    def poll(self) -> int | None:
        return self.code

    def wait(self, timeout: float | None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.code is None:
            try:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                msg = self._read(self.conn, self.buffer, left)
            except TimeoutError:
                raise subprocess.TimeoutExpired("forked kernel", timeout) from None
            except (OSError, ValueError):  # kill() closed the lifeline meanwhile
                msg = None
            if self.code is None and (msg is None or "exit" in msg):  # at EOF the server itself died
                self.code = msg["exit"] if msg else 128 + signal.SIGKILL
        return self.code

    def kill(self) -> None:
        """Closing the lifeline makes the server kill the kernel's whole namespace."""
        if self.code is None:
            self.code = 128 + signal.SIGKILL
            self.conn.close()


def request_kernel(sock_path: Path, state: Path, argv: list[str], limits: dict, env: dict) -> socket.socket:
    """The supervisor's side: ask the server for a kernel (``env``: its whole environment); return the open
    connection (the kernel's lifeline).

    Read ``{"exit": code}`` from it when the kernel ends; closing it kills the kernel.
    """
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(sock_path))
    # the kernel writes to the supervisor's stdout and stderr, as a cold kernel does
    message = json.dumps({"state": str(state), "argv": argv, "limits": limits, "env": env}).encode() + b"\n"
    socket.send_fds(conn, [message], [1, 2])
    return conn


def read_message(conn: socket.socket, buffer: bytearray, timeout: float | None) -> dict | None:
    """The next JSON line from the server, or ``None`` at EOF; ``TimeoutError`` after ``timeout`` seconds."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while b"\n" not in buffer:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _, _ = select.select([conn], [], [], left)
        if not ready:
            raise TimeoutError(f"no word from the fork server in {timeout:g} s")
        chunk = conn.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return json.loads(line)


def main(argv: list[str] | None = None) -> int:
    """``python -m lstm_course.sandbox.bwrap --state DIR -- KERNEL ARGV...`` (started by the kernel manager)."""
    parser = argparse.ArgumentParser(prog="python -m lstm_course.sandbox.bwrap", description=__doc__)
    parser.add_argument("--state", required=True, help="the kernel's private folder (spec.json)")
    parser.add_argument("--fork-server", type=Path, help="fork the kernel from this server's socket")
    parser.add_argument("kernel", nargs=argparse.REMAINDER, help="-- the kernel's command line")
    args = parser.parse_args(argv)
    cmd = args.kernel[1:] if args.kernel[:1] == ["--"] else args.kernel
    return supervise(Path(args.state), cmd, args.fork_server)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
