"""Undo, before every test cell, what a student's code patched in the kernel.

This file's *source* is sent to the kernel by :class:`lstm_course.execute.SandboxExecute` and run in
a fresh namespace: once before the notebook's first cell, after the course's trusted set-up code, to take
a snapshot (:func:`snapshot`), and before every test cell, to put it back (:func:`restore`). It is never
imported by the kernel, so a submission cannot swap its functions.

What the snapshot covers, and :func:`restore` puts back:

- every module named ``numpy*``, ``lstm_ref*`` (the shape-aware assertions), ``torch.testing*``, and
  ``builtins``: each attribute, the functions' code, defaults and keyword defaults, and the
  ``sys.modules`` entry itself (``np.allclose = lambda *a, **k: True``, ``assert_close.__code__ = ...``,
  ``sys.modules["lstm_ref.feedback"] = fake``);
- the names the set-up code bound in the user namespace (``assert_close = lambda *a, **k: None``);
- the methods of the IPython shell and kernel, on their classes and on the instances
  (``get_ipython().showtraceback = lambda *a, **k: None``);
- ``sys.excepthook``, ``sys.displayhook``, ``sys.stdout``, ``sys.stderr``; trace and profile hooks are
  removed (a trace function can jump over an ``assert``).

Limits: a submission that studies this guard can still reach its snapshot (for example through ``gc``)
or rewrite the kernel's message handling itself. The grader does not trust the kernel for the outcome of
a cell either: nbgrader reads the ``execute_reply`` status, and a guard that fails or reports an error
makes the next test cell score 0.
"""

from __future__ import annotations

import builtins
import sys
import threading
import types

PROTECTED = ("numpy", "lstm_ref", "torch.testing")
SYS_ATTRS = ("displayhook", "stdout", "stderr")
# the kernel itself swaps these around every request (stdin forwarding, its exception hook)
VOLATILE = {"input", "raw_input", "getpass", "sys_excepthook", "excepthook"}
_MISSING = object()


def _protected(name: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in PROTECTED)


def _functions(namespace: dict) -> dict:
    """``{id: (function, code, defaults, kwdefaults)}`` for every plain function in ``namespace``."""
    out = {}
    for value in list(namespace.values()):
        if isinstance(value, types.FunctionType):
            out[id(value)] = (value, value.__code__, value.__defaults__, value.__kwdefaults__)
    return out


def _same(a, b) -> bool:
    """Equivalent values: the same object, functions with the same code, or equal plain values."""
    if a is b:
        return True
    if isinstance(a, types.FunctionType) and isinstance(b, types.FunctionType):
        ca, cb = a.__code__, b.__code__
        return (ca.co_code, ca.co_consts, ca.co_names) == (cb.co_code, cb.co_consts, cb.co_names)
    if type(a) is not type(b) or not isinstance(a, (int, float, str, bytes, tuple, frozenset, type(None))):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _classes(shell) -> list[type]:
    objs = [shell, getattr(shell, "kernel", None)]
    return [c for o in objs if o is not None for c in type(o).__mro__ if c is not object]


def snapshot(user_ns: dict, shell, user_names) -> dict:
    """What :func:`restore` puts back: protected modules, ``user_names`` of ``user_ns``, the shell."""
    modules = {n: m for n, m in list(sys.modules.items()) if m is not None and _protected(n)}
    modules["builtins"] = builtins
    snap = {
        "modules": {n: (m, dict(vars(m))) for n, m in modules.items()},
        "functions": {},
        "user_ns": {k: user_ns[k] for k in user_names if k in user_ns},
        "classes": {c: dict(vars(c)) for c in _classes(shell)},
        "instances": [
            (o, {k: v for k, v in vars(o).items() if callable(v) and k not in VOLATILE})
            for o in (shell, shell.kernel)
        ],
        "sys": {a: getattr(sys, a) for a in SYS_ATTRS},
    }
    for _, saved in snap["modules"].values():
        snap["functions"].update(_functions(saved))
    snap["functions"].update(_functions(snap["user_ns"]))
    return snap


def restore(snap: dict, user_ns: dict) -> list[str]:
    """Put back everything :func:`snapshot` saw; return what had been changed, in words."""
    fixed = []
    if sys.gettrace() is not None or sys.getprofile() is not None:
        fixed.append("sys.settrace/setprofile hook")
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    for attr, value in snap["sys"].items():
        if getattr(sys, attr) is not value:
            setattr(sys, attr, value)
            fixed.append(f"sys.{attr}")
    for name, (module, saved) in snap["modules"].items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
            fixed.append(f"sys.modules[{name!r}]")
        current = vars(module)
        for key, value in saved.items():
            if current.get(key, _MISSING) is not value and not (module is builtins and key in VOLATILE):
                current[key] = value
                fixed.append(f"{name}.{key}")
    for func, code, defaults, kwdefaults in snap["functions"].values():
        if (
            func.__code__ is not code
            or func.__defaults__ is not defaults
            or func.__kwdefaults__ is not kwdefaults
        ):
            func.__code__, func.__defaults__, func.__kwdefaults__ = code, defaults, kwdefaults
            fixed.append(f"{func.__module__}.{func.__qualname__} (code)")
    for key, value in snap["user_ns"].items():
        current = user_ns.get(key, _MISSING)
        if current is not value:
            user_ns[key] = value
            if not _same(current, value):  # the set-up cell itself rebinds its names: not worth a note
                fixed.append(key)
    for cls, saved in snap["classes"].items():
        for key, value in saved.items():
            if cls.__dict__.get(key, _MISSING) is not value:
                setattr(cls, key, value)
                fixed.append(f"{cls.__name__}.{key}")
        for key in [k for k, v in vars(cls).items() if k not in saved and callable(v)]:
            delattr(cls, key)
            fixed.append(f"{cls.__name__}.{key} (added)")
    for obj, saved in snap["instances"]:
        for key, value in list(vars(obj).items()):
            if callable(value) and key not in VOLATILE and saved.get(key, _MISSING) is not value:
                if key in saved:
                    setattr(obj, key, saved[key])
                else:
                    delattr(obj, key)
                fixed.append(f"{type(obj).__name__}().{key}")
    return fixed


def start(shell, setup: str, preload=("numpy", "numpy.testing", "lstm_ref.feedback")) -> dict:
    """Run the course's trusted set-up code, then snapshot; kept on ``sys`` for :func:`check`."""
    import importlib

    user_ns = shell.user_ns
    before = set(user_ns)
    for name in preload:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    ok = True
    if setup.strip():
        ok = bool(shell.run_cell(setup, store_history=False, silent=True).success)
    names = sorted(k for k in user_ns if k not in before and not k.startswith("_"))
    sys.__dict__["_lstm_course_guard"] = snapshot(user_ns, shell, names)
    return {"ok": ok, "names": names}


def check(shell) -> list[str]:
    """Restore the snapshot :func:`start` took; what had been changed, in words."""
    return restore(sys.__dict__["_lstm_course_guard"], shell.user_ns)


def rebase(shell) -> list[str]:
    """The notebook's own set-up cell ran (trusted, before any student cell): its names become the reference."""
    snap = sys.__dict__["_lstm_course_guard"]
    user_ns = shell.user_ns
    snap["user_ns"] = {k: user_ns[k] for k in snap["user_ns"] if k in user_ns}
    snap["functions"].update(_functions(snap["user_ns"]))
    return sorted(snap["user_ns"])
