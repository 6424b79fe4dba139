"""A static screen of a submission's code: the constructs that reach for the grader's machinery.

Student code runs inside the grading kernel, where it can tamper with what the tests rely on: IPython's
input and AST transformers, event callbacks, ``run_cell`` or ``showtraceback`` replaced, custom exception
handlers, ``sys.settrace``, a redefined ``AssertionError`` or builtin, monkey-patched ``numpy.testing``,
``lstm_ref.feedback``, torch or Keras, the guard's snapshot found through ``gc``, forged kernel messages.
:mod:`lstm_course.sandbox.guard` undoes much of that at run time, but it runs in the student's process, where
code written against it can defeat it. This module is out of the student's reach: it reads the
notebook's *source* in the grader's own process, before any kernel starts, and lists every construct
that reaches for that machinery (:class:`Finding`). Honest answers never need one, so a finding FLAGS
the notebook for the instructor; it never changes a score by itself.

What it cannot catch, plainly: it reads source, so it cannot see code that arrives at run time from a
file or the network (the sandbox has no network and the submission folder is the only input), nor what
honest-looking code does when it runs. Obfuscated tampering is found through the construct it cannot
avoid (``__import__``, ``exec``, ``getattr`` on a module with a computed name, ``gc``, frames), not
through what it finally does. A finding is a flag for a person to read, not a verdict.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Collection
from dataclasses import dataclass

from lstm_course.course import is_test_cell, nbmeta

__all__ = ["Finding", "screen_source", "screen_notebook", "HELPER_NAMES", "ALIASES"]

# attributes of IPython's shell (get_ipython()) that run, transform or report the test cells
SHELL_ATTRS = (
    *("input_transformers_post", "input_transformers_cleanup", "input_transformer_manager"),
    *("ast_transformers", "events", "set_custom_exc", "CustomTB", "custom_exceptions", "run_cell"),
    *("run_cell_async", "run_ast_nodes", "run_code", "run_cell_magic", "transform_cell", "showtraceback"),
    *("_showtraceback", "showsyntaxerror", "InteractiveTB", "SyntaxTB", "displayhook", "display_pub"),
    *("compile", "kernel", "user_ns", "user_ns_hidden", "user_global_ns", "register_magic_function"),
    *("ex", "ev"),
)
SHELL_CLASSES = ("InteractiveShell", "ZMQInteractiveShell", "IPythonKernel", "ExecutionResult")
KERNEL_PACKAGES = ("IPython", "ipykernel", "jupyter_client", "zmq", "comm")
HONEST_KERNEL = ("IPython.display", "IPython.core.display")  # display(), HTML, Markdown, clear_output
# builtins the tests rely on: binding one of these names anywhere is a finding (sum, max, input... are not)
BUILTIN_NAMES = (
    *("AssertionError", "Exception", "BaseException", "TypeError", "ValueError", "exec", "eval"),
    *("compile", "__import__", "get_ipython", "isinstance", "getattr", "setattr", "delattr", "super"),
    *("type", "object", "id", "hash", "vars", "globals", "__builtins__"),
)
# what the course's locked set-up and helper cells define; tests/test_course_screen.py checks it
HELPER_NAMES = frozenset(
    {
        *("assert_close", "assert_shape", "assert_param_count", "numeric_gradient", "sigmoid"),
        *("to_numpy", "random_keras_lstm", "keras_run", "torch_run", "load_torch_layer"),
        *("check_torch_weights", "check_keras_weights", "torch_weights_of", "SeqModel", "sine_series"),
        *("RecordingSeqModel", "RecordingLSTM", "record_keras", "batch_index", "run_torch_training"),
        "check_order",
    }
)
# the module aliases of the set-up cells (checked by the tests too), and ``__builtins__`` is ``builtins``
ALIASES = {"np": "numpy", "nn": "torch.nn", "tf": "tensorflow", "lstm_data": "lstm_ref.data"}
# modules whose names are followed: an attribute assigned on one of them is a finding
MODULES = (
    *KERNEL_PACKAGES,
    *("numpy", "torch", "keras", "tensorflow", "lstm_ref", "unittest", "pytest", "math", "operator"),
    *("functools", "json", "warnings", "logging", "builtins", "sys", "os", "gc", "inspect", "threading"),
    *("types", "importlib", "signal", "atexit", "ctypes", "pickle", "marshal", "dill", "base64", "codecs"),
    "__main__",  # the notebook's own namespace, as a module
)
NOT_PATCHING = ("torch.backends", "sys.stdout", "sys.stderr", "sys.argv")  # settings honest code changes
WHY = {
    "shell": "changes how IPython runs, transforms or reports the test cells",
    "kernel": "reaches into the IPython kernel that runs the tests and reports their results",
    "hook": "installs a hook that runs inside the test cells: it can skip an assert or hide a failure",
    "frame": "reaches the frames, objects or source around it, the grader's and the tests' included",
    "modules": "can swap a module the tests import for a fake one",
    "builtin": "redefines a builtin the tests rely on, so a failed assert may no longer count",
    "helper": "rebinds a helper or module that the test cells call",
    "patch": "monkey-patches a library or helper the tests use to check answers",
    "code": "runs or builds code that this screen cannot read",
    "grader": "names the grader's own machinery",
    "message": "can forge the kernel messages that report a test's result",
    "process": "can end or signal the kernel, or run code after the tests",
    "file": "runs code from a file that this screen cannot read",
    "namespace": "hands the notebook's namespace to other code, which can then rebind the names the tests and "
    "the grader use",
    "scan": "found by a text scan (Python could not parse this line): it names a hook or the grader's machinery",
}
_REACH_BY_KIND = {  # names, or the start of names, that honest answers never touch
    "hook": "sys.settrace sys.setprofile threading.settrace threading.setprofile threading.settrace_all_threads "
    "threading.setprofile_all_threads sys.monitoring sys.set_asyncgen_hooks sys.addaudithook sys.excepthook "
    "sys.displayhook sys.breakpointhook sys.unraisablehook",
    "modules": "sys.modules sys.meta_path sys.path_hooks sys.path_importer_cache",
    "frame": "sys._getframe sys._current_frames inspect.currentframe inspect.stack inspect.getouterframes "
    "inspect.trace inspect.getsource ctypes gc.get_objects gc.get_referrers gc.get_referents",
    "process": "signal.signal os.kill os.killpg os._exit atexit.register",
    "code": "importlib.import_module importlib.reload importlib.util importlib.machinery types.FunctionType "
    "types.CodeType marshal pickle.loads dill unittest.mock pytest.MonkeyPatch",
    "kernel": " ".join(KERNEL_PACKAGES),
    "builtin": "builtins",
}
REACH = {name: kind for kind, names in _REACH_BY_KIND.items() for name in names.split()}
EXEC_NAMES = ("exec", "eval", "compile", "__import__")
ENCODERS = ("base64", "codecs", "zlib", "bz2", "lzma", "binascii")
CODE_ATTRS = ("__code__", "__defaults__", "__kwdefaults__", "__globals__", "__closure__", "__subclasses__")
FRAME_ATTRS = ("f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame", "cr_frame")
STORED_ATTRS = (*CODE_ATTRS, "__class__", "__dict__")  # assigning one swaps a function's or object's insides
MESSAGE_ATTRS = ("send_multipart", "shell_stream", "shell_streams", "control_stream")
GRADER_WORDS = ("lstm_course", "__lstm_", "nbgrader", "TamperingDetected", "Gradebook")
MUTATORS = ("update", "pop", "popitem", "setdefault", "clear", "__setitem__", "__delitem__")
# what may be done with globals() and the like without a finding: read a name, list them, copy them
NAMESPACE_READS = ("get", "keys", "items", "values", "copy", "__contains__", "__getitem__")
NAMESPACE_COPIES = (
    *(
        "len",
        "sorted",
        "list",
        "dict",
        "set",
        "tuple",
        "print",
        "repr",
        "str",
        "any",
        "all",
        "pprint",
        "display",
    ),
)
CELL_MAGICS = ("capture", "time", "timeit", "prun")  # their body is Python run in the kernel: screened

_MAGIC = re.compile(r"^\s*([%!]|[\w, ]+=\s*[%!])|^\s*(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")
_GENERIC = {"events", "compile", "kernel", "displayhook", "run_code", "user_ns", "user_global_ns", "ex", "ev"}
_WORDS = [w for w in SHELL_ATTRS if w not in _GENERIC] + [*SHELL_CLASSES, *KERNEL_PACKAGES[1:3]]
_WORDS += [*CODE_ATTRS, *MESSAGE_ATTRS, "settrace", "setprofile", "addaudithook", "_getframe", "get_objects"]
_WORDS += ["get_referrers", "get_referents", "ctypes", "builtins", "__builtins__", "excepthook", "meta_path"]
_WORDS += ["currentframe", "marshal", "sys.modules"]
_PROTECTED = "|".join(map(re.escape, sorted({*BUILTIN_NAMES, *HELPER_NAMES})))
_SCAN = re.compile(
    r"(?<![\w.])(?:exec|eval|compile|__import__)\s*\(|^\s*%run\b|iopub|"
    + "|".join(map(re.escape, GRADER_WORDS))
    + r"|\b(?:"
    + "|".join(map(re.escape, _WORDS))
    + rf")\b|^\s*(?:class|def)\s+(?:{_PROTECTED})\b|^\s*(?:{_PROTECTED})\s*\+?=(?!=)|\bglobal\s.*\b(?:{_PROTECTED})\b"
    + r"|^\s*(?:np|numpy|torch|nn|keras|tf|tensorflow|lstm_ref|fb|builtins|__builtins__)\.[\w.]+\s*=(?!=)"
)


@dataclass(frozen=True)
class Finding:
    """A construct in a submission that reaches for the grader's machinery, for the instructor to read."""

    cell: str  # grade_id of the cell, else "cell 7" (1-based among the notebook's cells)
    line: int  # 1-based, in that cell
    what: str  # the construct, e.g. "get_ipython().input_transformers_post"
    why: str  # one short sentence: what it can do to grading


def screen_source(source: str, cell: str = "cell") -> list[Finding]:
    """The findings in one cell's source (IPython syntax allowed; never raises), in line order.

    >>> [f.what for f in screen_source("import sys\\nsys.settrace(None)\\n")]
    ['sys.settrace']
    >>> screen_source("%matplotlib inline\\ndef sum_sq(x):\\n    sum = 0\\n    return sum + np.sum(x**2)\\n")
    []
    """
    found: dict[tuple[int, str], str] = {}
    lines = source.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic = (lines[first].split() + [""])[0][2:]
        if magic in ("writefile", "file") and lines[first].rstrip().endswith(".py"):
            found[(first + 1, lines[first].strip())] = WHY["file"]
        if magic not in CELL_MAGICS:
            return _findings(found, cell)
        lines[first] = ""
    for i, line in enumerate(lines):
        if _MAGIC.match(line):
            _scan(line, i + 1, found)
            lines[i] = ""
    as_text = True  # what Python cannot parse is scanned as text
    for _ in range(200):  # blank each line that Python cannot parse, and scan it as text
        left = [i + 1 for i, line in enumerate(lines) if line.strip()]
        if not left:
            break
        try:
            _Screen(ast.parse("\n".join(lines)), found).run()
            as_text = False
            break
        except SyntaxError as err:  # the line it names, else the nearest line above (or below) with code
            n = min(max(err.lineno or len(lines), 1), len(lines))
            n = max((i for i in left if i <= n), default=left[0])
            _scan(lines[n - 1], n, found)
            lines[n - 1] = ""
        except (ValueError, RecursionError, MemoryError):  # null bytes, absurd nesting
            found[(1, "a cell Python cannot parse")] = WHY["code"]
            break
    for i, line in enumerate(lines if as_text else ()):
        _scan(line, i + 1, found)
    return _findings(found, cell)


def screen_notebook(nb: dict, locked_ids: Collection[str] | None = None) -> list[Finding]:
    """The findings in every code cell a student may write: answer cells and free cells.

    Test cells and locked cells are skipped when they carry a grade_id: nbgrader puts the course's own
    source back in them. ``locked_ids``, the grade_ids the course's source notebook locks, makes that
    exact: a cell the student marked locked (or as a test) with any other grade_id is screened too.
    """
    found: list[Finding] = []
    for i, cell in enumerate(nb.get("cells") or [] if isinstance(nb, dict) else [], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = nbmeta(cell) if isinstance(cell.get("metadata", {}), dict) else {}
        meta = meta if isinstance(meta, dict) else {}
        gid = meta.get("grade_id")
        trusted = is_test_cell({"metadata": {"nbgrader": meta}}) or meta.get("locked")
        if trusted and gid and (locked_ids is None or gid in locked_ids):
            continue
        source = cell.get("source", "")
        found += screen_source(
            "".join(source) if isinstance(source, list) else str(source), gid or f"cell {i}"
        )
    return found


def _findings(found: dict, cell: str) -> list[Finding]:
    return [Finding(cell, line, what, why) for (line, what), why in sorted(found.items())]


def _scan(line: str, n: int, found: dict) -> None:
    for m in _SCAN.finditer(line):
        found[(n, m.group(0).strip()[:80])] = WHY["scan"]


def _reach(path: str) -> str | None:
    if any(path == h or path.startswith(h + ".") for h in HONEST_KERNEL):
        return None
    return next((k for key, k in REACH.items() if path == key or path.startswith(key + ".")), None)


def _literal(call: ast.Call) -> str | None:
    """The attribute name of ``getattr/setattr/delattr(obj, "name", ...)``, when it is a literal."""
    if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant) and isinstance(call.args[1].value, str):
        return call.args[1].value
    return None


def _builtin_call(node: ast.AST, *names: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


class _Screen:
    """One parsed cell: the names it binds to modules and to the shell, then every rule on every node."""

    def __init__(self, tree: ast.Module, found: dict):
        self.tree, self.found = tree, found
        self.aliases = {**ALIASES, "__builtins__": "builtins"}
        self.getip, self.shells = {"get_ipython"}, set()
        self.parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        self.local = {
            id(n) for c in ast.walk(tree) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)
        }
        self.top = set()
        stack: list[ast.AST] = [tree]
        while stack:  # the nodes of module scope: not inside a def, class or lambda
            node = stack.pop()
            self.top.add(id(node))
            if node is tree or not isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ):
                stack.extend(ast.iter_child_nodes(node))
        stores: dict[str, int] = {}
        for n in ast.walk(tree):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                stores[n.id] = stores.get(n.id, 0) + 1
        for _ in range(2):  # aliases of aliases
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    for a in node.names:
                        self.aliases[a.asname or a.name.split(".")[0]] = (
                            a.name if a.asname else a.name.split(".")[0]
                        )
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    for a in node.names:
                        self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
                elif isinstance(node, ast.Assign):  # ip = get_ipython(); t = np.testing (bound once)
                    names = [t.id for t in node.targets if isinstance(t, ast.Name) and stores[t.id] == 1]
                    if self.shell(node.value):
                        self.shells.update(names)
                    elif isinstance(node.value, ast.Name) and node.value.id in self.getip:
                        self.getip.update(names)
                    elif path := self.dotted(node.value):
                        self.aliases.update(dict.fromkeys(names, path))

    def dotted(self, node: ast.AST) -> str | None:
        """``numpy.testing.assert_allclose`` for ``np.testing.assert_allclose``; None unless it starts at a
        module, a course helper or a shell class."""
        if isinstance(node, ast.Name):
            if node.id in self.aliases:
                return self.aliases[node.id]
            return node.id if node.id in (*MODULES, *HELPER_NAMES, *SHELL_CLASSES) else None
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return base and f"{base}.{node.attr}"
        if _builtin_call(node, "getattr") and (name := _literal(node)):
            base = self.dotted(node.args[0])
            return base and f"{base}.{name}"
        return None

    def shell(self, node: ast.AST) -> bool:
        """Whether ``node`` is IPython's shell, or its class: get_ipython(), a name bound to it, type(...)."""
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Name) and node.func.id in self.getip:
                return True
            if _builtin_call(node, "type") and node.args:
                return self.shell(node.args[0])
            return (self.dotted(node.func) or "").endswith("get_ipython")
        if isinstance(node, ast.Attribute) and node.attr == "__class__":
            return self.shell(node.value)
        if isinstance(node, ast.Name) and node.id in self.shells:
            return True
        return (self.dotted(node) or "").split(".")[-1] in SHELL_CLASSES

    def add(self, node: ast.AST, what: str, kind: str) -> None:
        self.found[(getattr(node, "lineno", 1), what[:80])] = WHY[kind]

    def store(self, node: ast.AST, base: ast.AST, attr: str, what: str) -> None:
        """``base.attr`` is assigned or deleted (directly, or by setattr/delattr)."""
        path = self.dotted(base)
        full = f"{path}.{attr}" if path else ""
        if attr in STORED_ATTRS:
            self.add(node, what, "code")
        elif self.shell(base) or full.split(".")[0] in KERNEL_PACKAGES:
            self.add(node, what, "shell")
        elif kind := _reach(full):
            self.add(node, what, kind)
        elif (
            attr in HELPER_NAMES
            or attr.startswith("assert")
            or (
                full.split(".")[0] in (*MODULES, *HELPER_NAMES, *SHELL_CLASSES)
                and not any(full == p or full.startswith(p + ".") for p in NOT_PATCHING)
            )
        ):
            self.add(node, what, "patch")

    def binds(self, node: ast.AST, name: str, how: str = "binds") -> None:
        if name in BUILTIN_NAMES:
            self.add(node, f"{how} {name}", "builtin")
        elif (name in HELPER_NAMES or name in ALIASES) and (how == "global" or id(node) in self.top):
            self.add(node, f"{how} {name}", "helper")

    def run(self) -> None:
        dynamic, encoders = False, []
        for node in ast.walk(self.tree):
            for word in self.words(node):
                if any(g in word for g in GRADER_WORDS) or "iopub" in word:
                    self.add(node, word, "grader" if "iopub" not in word else "message")
            if isinstance(node, ast.Import | ast.ImportFrom):
                self.imports(node)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    self.binds(node, name, "global")
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.binds(node, node.name, "def" if not isinstance(node, ast.ClassDef) else "class")
            elif isinstance(node, ast.ExceptHandler) and node.name:
                self.binds(node, node.name)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                if id(node) not in self.local:
                    self.binds(node, node.id)
            elif isinstance(node, ast.Name) and node.id in EXEC_NAMES:
                dynamic, call = True, self.parents.get(id(node))
                self.add(
                    node,
                    node.id + ("(...)" if isinstance(call, ast.Call) and call.func is node else ""),
                    "code",
                )
            elif isinstance(node, ast.Attribute):
                self.attribute(node)
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store | ast.Del):
                if self.namespace(node.value):
                    self.add(node, f"{ast.unparse(node.value)}[...] = ...", "patch")
            elif isinstance(node, ast.Call):
                self.call(node)
                self.passed_on(node)
            if isinstance(node, ast.Name | ast.Attribute | ast.Call) and self.outermost(node):
                path = self.dotted(node) or ""
                if (kind := _reach(path)) and not isinstance(getattr(node, "ctx", None), ast.Store | ast.Del):
                    self.add(node, path, kind)
                if path.split(".")[0] in ENCODERS:
                    encoders.append(node)
        if dynamic and encoders:
            self.add(encoders[0], f"{ast.unparse(encoders[0])} with exec/eval", "code")

    def words(self, node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.alias):
            return [node.name, node.asname or ""]
        names = ("id", "attr", "name", "module", "arg")
        return [getattr(node, a) for a in names if isinstance(getattr(node, a, None), str)]

    def outermost(self, node: ast.AST) -> bool:
        parent = self.parents.get(id(node))
        return not (
            isinstance(parent, ast.Attribute) or (_builtin_call(parent, "getattr") and parent.args[0] is node)
        )

    def namespace(self, node: ast.AST) -> bool:
        """``vars(x)``, ``globals()``, ``locals()`` or ``x.__dict__``: writing into it rebinds names."""
        return _builtin_call(node, "vars", "globals", "locals") or (
            isinstance(node, ast.Attribute) and node.attr == "__dict__"
        )

    def passed_on(self, node: ast.Call) -> None:
        """``globals()`` (``locals()`` and ``vars()`` in the cell itself, ``vars(module)``) kept or handed on,
        not just read: ``g = globals()`` then ``g.update({"__imp" + "ort__": fake})`` rebinds names that
        no rule sees by name."""
        whole = _builtin_call(node, "globals") or (
            _builtin_call(node, "locals", "vars") and not node.args and id(node) in self.top
        )
        if not (whole or (_builtin_call(node, "vars") and node.args and self.dotted(node.args[0]))):
            return
        parent = self.parents.get(id(node))
        read = (
            (isinstance(parent, ast.Subscript) and parent.value is node)  # a store is the subscript rule's
            or (isinstance(parent, ast.Attribute) and parent.attr in (*NAMESPACE_READS, *MUTATORS))
            or (isinstance(parent, ast.Compare) and node is not parent.left)  # "x" in globals()
            or (isinstance(parent, ast.For | ast.comprehension) and parent.iter is node)
            or (_builtin_call(parent, *NAMESPACE_COPIES) and node in parent.args)
        )
        if not read:
            self.add(node, f"{ast.unparse(node)} handed on", "namespace")

    def imports(self, node: ast.Import | ast.ImportFrom) -> None:
        module = node.module if isinstance(node, ast.ImportFrom) else None
        for a in node.names:
            path = f"{module}.{a.name}" if module else a.name
            if kind := _reach(path):
                self.add(node, f"import {path}", kind)
            bound = a.asname or a.name.split(".")[0]
            same = (module or "").startswith("lstm_ref") and a.name == bound  # the helper itself, again
            if bound in BUILTIN_NAMES or (bound in HELPER_NAMES and not same):
                self.binds(node, bound, "import")

    def attribute(self, node: ast.Attribute) -> None:
        what = ast.unparse(node)
        if isinstance(node.ctx, ast.Store | ast.Del):
            self.store(node, node.value, node.attr, f"{what} = ...")
        if node.attr in SHELL_ATTRS and self.shell(node.value):
            self.add(node, what, "shell")
        if node.attr in (*CODE_ATTRS, *FRAME_ATTRS) and isinstance(node.ctx, ast.Load):
            self.add(node, what, "frame")
        if node.attr in MESSAGE_ATTRS or (
            node.attr == "send" and isinstance(node.value, ast.Attribute) and node.value.attr == "session"
        ):
            self.add(node, what, "message")

    def call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "delattr") and node.args:
            obj, name, what = node.args[0], _literal(node), ast.unparse(node)
            if name is not None:
                self.attribute(ast.copy_location(ast.Attribute(obj, name, ast.Load()), node))
                if func.id != "getattr":
                    self.store(node, obj, name, what)
            elif len(node.args) >= 2 and (
                self.dotted(obj) or self.shell(obj) or _builtin_call(obj, "__import__")
            ):
                self.add(node, f"{func.id}({ast.unparse(obj)}, <computed name>)", "code")
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS and self.namespace(func.value):
            if not isinstance(func.value, ast.Attribute) or self.dotted(func.value.value):
                self.add(node, f"{ast.unparse(func)}(...)", "patch")
