"""The nbgrader side of sandboxed grading: a kernel manager and an ``Execute`` preprocessor.

``lstm-course grade`` runs ``nbgrader autograde`` with ``Autograde.autograde_preprocessors`` naming
:class:`SandboxExecute` in place of nbgrader's ``Execute``. Everything here runs in the grader's process,
outside the sandbox:

- :class:`SandboxKernelManager` starts each kernel through :mod:`lstm_course.sandbox.bwrap` (bubblewrap),
  over Unix sockets in a private folder, with interrupts sent as messages (a signal would reach the
  supervisor, not the kernel). ``--no-sandbox`` keeps nbgrader's plain kernel manager.
- :class:`SandboxExecute` caps the output a notebook may send (``max_output_bytes``), runs the
  :mod:`lstm_course.sandbox.guard` before every test cell, and writes one JSON *outcome* per notebook into
  ``report_dir``: graded, or not graded with the reason (the kernel died, a limit killed it), plus notes
  (patched objects restored, output truncated, cells timed out).
"""

from __future__ import annotations

import ast
import hmac
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from queue import Empty

import zmq
from jupyter_client.asynchronous.client import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, DottedObjectName, Integer, List, Type, Unicode

from lstm_course.course import is_test_cell, nbmeta
from lstm_course.results.feedback import STDERR_HEADER
from lstm_course.sandbox import bwrap as sandbox
from lstm_course.sandbox import forkserver, guard

# The guard's source runs once per kernel, before the first cell (``start``: nothing but the course's own
# code has run, so the names it looks up are the builtins), in a fresh namespace with its own copy of the
# builtins. Every later call reaches the guard from a literal, through the class it installed (no name the
# student can rebind), and its answer comes signed with a key that only the guard and the grader hold.
_GUARD_SOURCE = Path(guard.__file__).read_text(encoding="utf-8")
_GUARD_START = (
    "(lambda g: (exec(compile({source!r}, '<lstm-course guard>', 'exec'), g), "
    "__import__('json').dumps(g['start'](get_ipython(){params})))[1])"
    "({{'__builtins__': dict(vars(__import__('builtins')))}})"
)
_GUARD_CALL = (
    "[c for c in (1j).__class__.__subclasses__() if c.__qualname__ == {entry!r}][0].{call}({nonce!r})"
)


def stderr_note(text: str, lines: int = 12, width: int = 300) -> str:
    """What a test cell wrote to stderr, as it is shown: a progress bar's last state (``\\r`` rewrites a
    line), at most ``lines`` lines (the first and last halves) of at most ``width`` characters.

    >>> print(stderr_note("loss 1\\rloss 2\\n" + "".join(f"w{i}\\n" for i in range(20))), end="")
    [stderr, shortened: shown for information, it costs no points]
    loss 2
    w0
    w1
    w2
    w3
    w4
    [... 9 more lines ...]
    w14
    w15
    w16
    w17
    w18
    w19
    """
    rows = [row.rsplit("\r", 1)[-1] for row in text.replace("\r\n", "\n").rstrip("\r\n").split("\n")]
    rows = [r if len(r) <= width else r[:width] + " ..." for r in rows]
    if len(rows) > lines:
        rows = [*rows[: lines // 2], f"[... {len(rows) - lines} more lines ...]", *rows[-(lines // 2) :]]
    return STDERR_HEADER + "\n".join(rows) + "\n"


class SandboxKernelClient(AsyncKernelClient):
    """jupyter_client's client, ready as soon as the kernel is.

    jupyter_client's ``wait_for_ready`` ends by waiting until the IOPub channel has been silent for 0.2 s,
    and zmq retries a connection to a socket not yet bound every 0.1 s: together about 0.25 s of idle
    time per kernel, more than a forked kernel needs to start. Here the client is ready when the kernel
    has answered a ``kernel_info`` request on the shell channel *and* reported that request's ``idle``
    status on IOPub (ipykernel reports busy and idle for every request), which proves both channels are
    connected and drains what IOPub sent before; zmq retries connections every 10 ms.
    """

    #: seconds to wait for the reply, and for its idle status, before asking again
    shell_wait, iopub_wait = 1.0, 0.2

    def start_channels(self, *args, **kw):
        self.context.setsockopt(zmq.RECONNECT_IVL, 10)  # applies to the sockets made from now on
        super().start_channels(*args, **kw)

    async def _answer(self, channel, msg_id: str, wanted, wait: float):
        """The first message on ``channel`` that answers ``msg_id`` and satisfies ``wanted``, or ``None``
        after ``wait`` seconds; other messages are dropped (nothing has run in the kernel yet)."""
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                msg = await ensure_async(channel.get_msg(timeout=left))
            except Empty:
                return None
            if msg.get("parent_header", {}).get("msg_id") == msg_id and wanted(msg):
                return msg
        return None

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            msg_id = self.kernel_info()
            reply = await self._answer(
                self.shell_channel, msg_id, lambda m: m["msg_type"] == "kernel_info_reply", self.shell_wait
            )
            idle = lambda m: m["msg_type"] == "status" and m["content"].get("execution_state") == "idle"  # noqa: E731
            if reply is not None and await self._answer(self.iopub_channel, msg_id, idle, self.iopub_wait):
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run in a bubblewrap sandbox (see :mod:`lstm_course.sandbox.bwrap`)."""

    client_class = DottedObjectName("lstm_course.sandbox.kernel.SandboxKernelClient")
    client_factory = Type(SandboxKernelClient, klass=AsyncKernelClient)

    memory = Integer(sandbox.Limits.memory, help="memory cap of the kernel, bytes").tag(config=True)
    processes = Integer(sandbox.Limits.processes, help="processes and threads").tag(config=True)
    cpu_seconds = Integer(sandbox.Limits.cpu_seconds, help="CPU-time cap, s").tag(config=True)
    wall_seconds = Integer(sandbox.Limits.wall_seconds, help="wall-clock cap, s").tag(config=True)
    warm = Bool(False, help="fork the kernel from a warm fork server (lstm_course.sandbox.forkserver)").tag(
        config=True
    )
    preload = List(Unicode(), help="modules the fork server imports once (with warm)").tag(config=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.transport = "ipc"
        self.state: Path | None = None
        self.server: forkserver.ForkServer | None = None

    @property
    def limits(self) -> sandbox.Limits:
        return sandbox.Limits(
            memory=self.memory,
            processes=self.processes,
            cpu_seconds=self.cpu_seconds,
            wall_seconds=self.wall_seconds,
        )

    async def _async_pre_start_kernel(self, **kw):
        sandbox.find_bwrap()
        if self.warm:  # this worker thread's server for these modules, started on first use
            try:
                self.server = forkserver.fork_server(tuple(self.preload), self.limits)
            except forkserver.ForkServerUnavailable as exc:  # a cold kernel: slower, the same sandbox
                self.log.warning("warm kernels unavailable, starting a cold one: %s", exc)
                self.server = None
        if self.server is not None:
            self.state, uid = self.server.new_state(), self.server.uid
        else:
            self.state, uid = Path(tempfile.mkdtemp(prefix="lstm-sandbox-")), None
        spec = sandbox.prepare(self.state, Path(kw.get("cwd") or os.getcwd()), self.limits, uid)
        self.ip = str(Path(spec["ipc"]) / "kernel")
        self.kernel_spec.interrupt_mode = "message"
        # what the kernel writes to the OS-level stdout/stderr (start-up banners, a student's os.write(2, ...))
        # is not part of the notebook: it must not fill the grader's terminal or logs
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        # after a kill, jupyter_client polls for the process's end every 0.1 s: the supervisor ends at
        # once (SIGKILL), so poll every 5 ms instead of idling up to 0.1 s per notebook
        await super()._async_wait(pollinterval=min(pollinterval, 0.005))

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        server = ["--fork-server", str(self.server.socket)] if self.server else []
        return [
            sys.executable,
            "-m",
            "lstm_course.sandbox.bwrap",
            "--state",
            str(self.state),
            *server,
            "--",
            *cmd,
        ]

    def status(self) -> dict | None:
        """How the sandboxed kernel ended (``status.json`` of the supervisor), once it has."""
        path = self.state / "status.json" if self.state else None
        return json.loads(path.read_text()) if path and path.is_file() else None

    def remove_state(self) -> None:
        if self.state is not None:
            shutil.rmtree(self.state, ignore_errors=True)


class SandboxExecute(Execute):
    """nbgrader's ``Execute`` with a sandboxed kernel, a guard before test cells, capped output and outcomes."""

    sandbox = Bool(True, help="run kernels in the bubblewrap sandbox").tag(config=True)
    guard = Bool(True, help="restore patched helpers before every test cell").tag(config=True)
    warm = Bool(
        True, help="fork each sandboxed kernel from a warm server that has imported the notebook's frameworks"
    ).tag(config=True)
    max_output_bytes = Integer(1 << 20, help="output one notebook may keep, bytes").tag(config=True)
    setup_timeout = Integer(
        600, help="seconds for the course set-up code run before the first cell (imports TF/torch: slow days)"
    ).tag(config=True)
    report_dir = Unicode("", help="folder for <student>/<assignment>/<notebook>.json outcomes").tag(
        config=True
    )

    def __init__(self, **kw):
        super().__init__(**kw)
        if self.sandbox:
            self.kernel_manager_class = SandboxKernelManager
        if self.extra_arguments == []:
            self.extra_arguments = ["--HistoryManager.hist_file=:memory:"]

    # ------------------------------------------------------------------ one notebook
    def preprocess(self, nb, resources=None, km=None):
        self._notes: list[str] = []
        self._integrity: list[str] = []
        self._fingerprint = None
        self._key = secrets.token_hex(32)  # signs the guard's answers (guard.signature)
        self._errors_seen: set[int] = set()
        self._reply_status: dict[int, str] = {}
        self._output_bytes = 0
        self._truncated: set[int] = set()
        self._guarded = False
        self._checked_after: int | None = None  # the test cell whose after-check was the kernel's last code
        self._window: list[int] = []  # test cells run one after the other, checked after the last of them
        self._untrusted_ran = False
        self._preload: tuple[str, ...] = ()
        self._setup_cells = self._trusted_setup(nb, resources or {})
        # what lstm_course.grading.cells.RestoreCells did to the cell layout (deleted, moved, duplicated cells)
        self._notes += list(nb.get("metadata", {}).get("lstm_course", {}).get("layout_notes", []))
        info = (resources or {}).get("nbgrader", {})
        outcome = {"student": info.get("student"), "assignment": info.get("assignment")}
        outcome["notebook"] = info.get("notebook")
        try:
            nb, resources = super().preprocess(nb, resources, km)
        except DeadKernelError as exc:
            outcome.update(status="not graded", reason=self._why_dead(exc))
            raise
        except Exception as exc:
            outcome.update(status="not graded", reason=f"grading failed: {type(exc).__name__}: {exc}"[:500])
            raise
        else:
            outcome.update(status="graded", reason="")
        finally:
            outcome["notes"] = self._notes
            outcome["integrity"] = self._integrity
            self._write_outcome(outcome)
            km = getattr(self, "_km", None)
            if isinstance(km, SandboxKernelManager):
                km.remove_state()
        return nb, resources

    def create_kernel_manager(self):
        self._km = super().create_kernel_manager()
        if isinstance(self._km, SandboxKernelManager) and self.warm:
            self._km.warm, self._km.preload = True, list(self._preload)
        return self._km

    def _why_dead(self, exc: Exception) -> str:
        km = getattr(self, "_km", None)
        status = km.status() if isinstance(km, SandboxKernelManager) else None
        if status and status.get("reason") and not status.get("stopped"):
            return status["reason"]
        return f"the kernel died ({exc})"

    def _write_outcome(self, outcome: dict) -> None:
        if not self.report_dir or not outcome.get("student"):
            return
        path = Path(self.report_dir, outcome["student"], outcome["assignment"], f"{outcome['notebook']}.json")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(outcome, indent=1))

    def _trusted_setup(self, nb, resources) -> list[str]:
        """The course's own set-up code: the gradebook's source of the locked cells before the first answer."""
        info = resources.get("nbgrader", {})
        if not self.guard or not info.get("db_url"):
            return []
        from lstm_course.gradebook import source_cells

        parts = []
        sources = source_cells(info["db_url"], info["assignment"], info["notebook"])
        # what the course's own code imports: a warm kernel has it imported already
        self._preload = forkserver.preload_for(list(sources.values()))
        for cell in nb.cells:
            meta = nbmeta(cell)
            if meta.get("solution") or meta.get("grade"):
                break
            if cell.cell_type != "code" or not meta.get("locked") or meta.get("grade_id") not in sources:
                continue
            try:
                ast.parse(src := sources[meta["grade_id"]])
            except SyntaxError:
                continue
            parts.append(src)
        return parts

    # ------------------------------------------------------------------ the guard
    async def _run_silent(self, expression: str, timeout: float) -> tuple[str, object]:
        """Evaluate ``expression`` in the kernel (an empty execute request: no history, no output); return
        the reply status and its value when it is a string (else ``None``).

        Waits at most ``timeout`` seconds (then the status is ``"timeout"``); raises ``DeadKernelError``
        if the kernel dies meanwhile.
        """
        msg_id = self.kc.execute(
            "", silent=True, store_history=False, allow_stdin=False, user_expressions={"r": expression}
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=1))
            except Empty:
                await self._async_check_alive()
                if time.monotonic() > deadline:
                    return "timeout", None
                continue
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        value = content.get("user_expressions", {}).get("r", {})
        try:
            text = ast.literal_eval(value["data"]["text/plain"])
        except (KeyError, ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            text = None
        return content["status"], text if isinstance(text, str) else None

    async def _guard(self, call: str, timeout: float, *args: str) -> tuple[str, object]:
        """Run the guard's ``call``: ``start(get_ipython(), *args, key)`` from its source, the later calls
        (``check``, ``rebase``) through its entry. Returns the reply status and the guard's answer; a later
        call's answer must carry the guard's signature, else the status is ``"forged"``."""
        if call == "start":
            params = "".join(f", {a!r}" for a in (*args, self._key))
            status, text = await self._run_silent(
                _GUARD_START.format(source=_GUARD_SOURCE, params=params), timeout
            )
            body = text
        else:
            nonce = secrets.token_hex(8)
            expression = _GUARD_CALL.format(entry=guard.ENTRY, call=call, nonce=nonce)
            status, text = await self._run_silent(expression, timeout)
            n = guard.SIGNATURE_CHARS
            body = text[n:] if text else None
            if body is not None and not hmac.compare_digest(
                text[:n], guard.signature(bytes.fromhex(self._key), nonce, body)
            ):
                return ("forged" if status == "ok" else status), None
        try:
            return status, json.loads(body) if body is not None else None
        except ValueError:
            return status, None

    def _flag(self, text: str) -> None:
        """Record an integrity finding: the notebook is flagged for the instructor (see the outcome)."""
        if text not in self._integrity:
            self._integrity.append(text)

    async def _check(self, when: str, name: str) -> tuple[bool, list[str]]:
        """Run the guard's ``check``: (could it vouch for the kernel, what it put back)."""
        status, value = await self._guard("check", self.timeout or 60)
        if status != "ok" or not isinstance(value, dict) or not isinstance(value.get("fixed"), list):
            why = {
                "ok": "no valid answer",
                "forged": "its answer did not carry the guard's signature: it was altered on its way out",
            }.get(status, status)
            self._flag(f"{name}: the guard could not run {when} the test ({why})")
            return False, []
        trusted = value.get("before") == self._fingerprint
        if trusted:
            self._fingerprint = value.get("after")
        else:  # kept as it was: every later test is void too, since the guard now restores the fakes
            self._flag(f"{name}: the guard's own snapshot was altered in the kernel")
        return trusted, [str(f) for f in value["fixed"]]

    @staticmethod
    def _void(cell, why: str):
        """The test's verdict cannot be trusted: it scores 0, and says why."""
        cell.outputs = [
            NotebookNode(
                output_type="error",
                ename="TamperingDetected",
                evalue=why,
                traceback=[f"TamperingDetected: {why}"],
            )
        ]
        return cell

    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        code_cell = cell.cell_type == "code"
        test = code_cell and is_test_cell(cell)
        name = nbmeta(cell).get("grade_id") or f"cell {cell_index}"
        if self.guard and code_cell and not self._guarded:
            self._guarded = True
            # before the first cell: the course's set-up code, then the snapshot (guard.start)
            setup = "\n\n".join(self._setup_cells)
            status, value = await self._guard("start", self.setup_timeout, setup)
            if status != "ok" or not (value or {}).get("ok"):
                self._notes.append("the course set-up code failed before the first cell")
            self._fingerprint = (value or {}).get("fingerprint")
        if self.guard and test and self._checked_after is None:
            trusted, fixed = await self._check("before", name)
            if fixed:
                self._flag(f"{name}: restored before the test: {', '.join(sorted(set(fixed))[:20])}")
            if not trusted:
                cell.execution_count = None
                return self._void(cell, "the kernel was altered so that the tests cannot be trusted")
        trusted_cell = not code_cell or (nbmeta(cell).get("locked") and cell.source in self._setup_cells)
        self._errors_seen.discard(cell_index)
        self._reply_status.pop(cell_index, None)
        cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if code_cell and self.guard and trusted_cell and not self._untrusted_ran:
            # the notebook's own set-up cell rebinds its names: they become the guard's reference
            status, value = await self._guard("rebase", self.timeout or 60)
            if status == "ok" and isinstance(value, dict):
                self._fingerprint = value.get("fingerprint")
        elif not trusted_cell:
            self._untrusted_ran = True
        if test:
            self._verdict_from_errors(cell, cell_index, name)
        if code_cell:
            self._checked_after = None
        if self.guard and test and self._next_is_test(cell_index):
            # the next code cell is a test too: this one's after-check is that one's, for both
            self._window.append(cell_index)
            self._checked_after = cell_index
        elif self.guard and test:
            # what the student's functions changed WHILE the tests of this run of test cells ran: their
            # verdicts cannot be trusted. Until another code cell runs, this check also stands for the
            # next test's "before" check: nothing ran in between (a thread the student left running is
            # caught by that test's own after-check: the test then scores 0 and the notebook is flagged)
            window, self._window = [*self._window, cell_index], []
            trusted, fixed = await self._check("after", name)
            if fixed or not trusted:
                changed = ", ".join(sorted(set(fixed))[:20]) or "the guard"
                names = ", ".join(nbmeta(self.nb.cells[i]).get("grade_id") or f"cell {i}" for i in window)
                many = len(window) > 1
                self._flag(
                    f"{names}: changed while the test{'s' if many else ''} ran, so "
                    f"{'they score' if many else 'it scores'} 0: {changed}"
                )
                for i in window:
                    self._void(
                        self.nb.cells[i], f"the test's own checks were changed while it ran ({changed})"
                    )
            elif trusted:
                self._checked_after = cell_index
        if cell_index in self._truncated:
            text = (
                f"\n[lstm-course: output truncated; a notebook keeps at most {self.max_output_bytes} bytes]\n"
            )
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=text))
        if code_cell:
            events = {"CellTimeoutError": "timed out", "MemoryError": "hit the memory cap (MemoryError)"}
            for out in cell.outputs:
                if out.get("output_type") == "error" and out.get("ename") in events:
                    self._notes.append(f"{name}: {events[out['ename']]}")
        return cell

    def _next_is_test(self, cell_index: int) -> bool:
        """Whether the next code cell after ``cell_index`` is a test cell (no student code in between)."""
        following = (c for c in self.nb.cells[cell_index + 1 :] if c.cell_type == "code")
        nxt = next(following, None)
        return nxt is not None and is_test_cell(nxt)

    def _verdict_from_errors(self, cell, cell_index: int, name: str) -> None:
        """A test's verdict comes from errors only: stderr is shown, shortened, and costs nothing; an error
        the kernel reported (in its reply, or as an output that was then cleared) always counts."""
        stderr = "".join(
            o.get("text", "")
            for o in cell.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stderr"
        )
        if stderr:
            cell.outputs = [
                o
                for o in cell.outputs
                if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
            ]
            cell.outputs.append(NotebookNode(output_type="stream", name="stdout", text=stderr_note(stderr)))
            self._notes.append(f"{name}: wrote to stderr (shown, not graded)")
        has_error = any(o.get("output_type") == "error" for o in cell.outputs)
        if has_error:
            return
        if cell_index in self._errors_seen:
            self._flag(f"{name}: the test's error output was removed while it ran")
            self._void(cell, "the test failed, and its error output was removed")
        elif self._reply_status.get(cell_index) == "error":
            self._flag(f"{name}: the kernel reported an error but showed none")
            self._void(cell, "the test failed, and its error was hidden")

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        if exec_reply is not None:
            self._reply_status[cell_index] = exec_reply.get("content", {}).get("status")
        return await super()._check_raise_for_error(cell, cell_index, exec_reply)

    execute_cell = run_sync(async_execute_cell)  # nbconvert calls the sync name, bound to the base class

    # ------------------------------------------------------------------ capped output
    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "error":
            self._errors_seen.add(cell_index)
        if msg["msg_type"] in ("stream", "display_data", "execute_result", "update_display_data"):
            content = msg.get("content", {})
            self._output_bytes += len(json.dumps(content.get("data", content.get("text", ""))))
            if self._output_bytes > self.max_output_bytes:  # dropped as it arrives; errors are always kept
                if cell_index not in self._truncated:
                    self._truncated.add(cell_index)
                    self._notes.append(
                        f"cell {cell_index}: output truncated at {self.max_output_bytes} bytes"
                    )
                return None
        return super().output(outs, msg, display_id, cell_index)
