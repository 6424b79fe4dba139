"""Undo, before and after every test cell, what a student's code changed in the kernel, and say what it was.

This file's *source* is sent to the kernel by :class:`lstm_course.sandbox.kernel.SandboxExecute` and run in
a fresh namespace: once before the notebook's first cell, after the course's trusted set-up code, to take
a snapshot (:func:`start`), and around every test cell, to put it back (:func:`check`). It is never
imported by the kernel, so a submission cannot swap its functions.

What the snapshot covers, and :func:`restore` puts back (each change is reported, in words):

- *whole modules*: every module named ``numpy*``, ``lstm_ref*`` (the shape-aware assertions),
  ``torch.testing*`` and ``builtins``: each attribute, and the ``sys.modules`` entry itself
  (``np.allclose = lambda *a, **k: True``, ``sys.modules["lstm_ref.feedback"] = fake``,
  ``builtins.AssertionError = Exception``);
- *APIs*: the public modules of torch and Keras the tests call, and IPython's and ipykernel's: each
  attribute that holds a function or a class (``torch.allclose = ...``, ``keras.ops.convert_to_numpy = ...``);
- the functions of all of these (code, defaults, keyword defaults: ``assert_close.__code__ = ...``) and
  the methods of their classes (``nn.LSTM.forward = ...``, ``InteractiveShell.showtraceback = ...``);
- the names the set-up code bound in the user namespace, and user-namespace bindings that shadow the
  builtins a test relies on (``AssertionError = ...``, ``isinstance = ...``, ``__builtins__ = ...``);
- IPython's hooks: input transformers (``input_transformers_post``, the transformer manager's lists),
  AST transformers, event callbacks (``pre_run_cell`` ...), custom exception handlers (``set_custom_exc``),
  the shell's and kernel's own methods and helper objects (``run_cell``, ``showtraceback``, the compiler,
  the display publisher, the session);
- ``sys.displayhook``, ``sys.stdout``, ``sys.stderr``; trace and profile hooks are removed (a trace
  function can jump over an ``assert``).

IPython and matplotlib register hooks of their own (``%matplotlib inline`` adds a ``post_execute``
callback): a hook whose function comes from those packages is adopted, not reported.

:func:`check` also returns a fingerprint of the snapshot as it found it. The grader keeps the one
:func:`start` returned, outside the kernel: a submission that edits the snapshot (found through ``gc``)
changes the fingerprint, and is caught.

Limits, in plain words: this runs inside the student's process, so a submission written against this
file (one that reads it and imitates its answers, or rewrites the kernel's messaging) can still fool it.
Such code has to reach for the grader's machinery by name, which :mod:`lstm_course.grading.screen` reads in the
submission's source, outside the kernel; and nbgrader reads each test's verdict from the kernel's
error output, which :mod:`lstm_course.sandbox.kernel` cross-checks against the kernel's reply.
"""

from __future__ import annotations

import builtins
import os
import sys
import threading
import types
import warnings
from itertools import chain, repeat
from operator import is_, itemgetter

WHOLE = ("numpy", "lstm_ref", "torch.testing")  # every attribute of these modules is restored
# attributes holding functions and classes are restored; the rest is the library's own state
API = ("torch", "torch.autograd", "torch.nn", "torch.optim", "keras", "IPython.core", "ipykernel")
API_TREES = ("torch.nn", "torch.optim", "keras", "IPython.core", "ipykernel")  # and their public submodules
HOOK_PACKAGES = ("IPython", "ipykernel", "matplotlib", "matplotlib_inline", "ipywidgets", "comm")
SYS_ATTRS = ("displayhook", "stdout", "stderr")
# builtins a test cell (or this guard) relies on: a user-namespace binding of one is put aside
SHADOWED = (
    "__builtins__",
    "AssertionError",
    "Exception",
    "BaseException",
    "isinstance",
    "exec",
    "compile",
    "__import__",
    "get_ipython",
)
# the shell's helper objects whose identity matters, and the lists of hooks it calls
SHELL_OBJECTS = (
    "input_transformer_manager",
    "compile",
    "events",
    "display_pub",
    "displayhook",
    "display_trap",
    "InteractiveTB",
    "SyntaxTB",
    "custom_exceptions",
    "CustomTB",
    "kernel",
)
SHELL_LISTS = ("input_transformers_post", "input_transformers_cleanup", "ast_transformers")
MANAGER_LISTS = ("cleanup_transforms", "line_transforms", "token_transformers")
# the kernel itself swaps these around every request (stdin forwarding, its exception hook)
VOLATILE = {"input", "raw_input", "getpass", "sys_excepthook", "excepthook"}
_MISSING = object()
_CODE = (types.FunctionType,)
_DESCRIPTORS = (types.FunctionType, classmethod, staticmethod, property, type)


def _under(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _public(name: str) -> bool:
    return not any(part.startswith("_") for part in name.split(".")) and ".src" not in name


def _api_modules() -> dict:
    found = {}
    for name, module in list(sys.modules.items()):
        if module is None or _under(name, WHOLE):
            continue
        if name in API or (
            _under(name, API) and (_public(name) or name.startswith(("IPython.", "ipykernel.")))
        ):
            found[name] = module
    return found


def _functions(values) -> dict:
    """``{id: (function, code, defaults, kwdefaults)}`` for every plain function among ``values``."""
    out = {}
    for value in list(values):
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if isinstance(value, _CODE):
            out[id(value)] = (value, value.__code__, value.__defaults__, value.__kwdefaults__)
    return out


def _package(value) -> str:
    return (getattr(value, "__module__", None) or "").split(".")[0]


def _origin(value) -> str | None:
    """The file of the code that made ``value`` (a function, a property's getter, a class, a builtin)."""
    value = getattr(value, "__func__", value)
    if isinstance(value, property):
        value = value.fget
    code = getattr(value, "__code__", None)
    if code is not None:
        return code.co_filename
    if isinstance(value, type | types.BuiltinFunctionType):
        return getattr(sys.modules.get(getattr(value, "__module__", None) or ""), "__file__", None)
    return None


def _made_by(value, package: str) -> bool:
    """Whether the library ``package`` itself made ``value``: torch wraps ``Optimizer.step`` on first use,
    and its compiler wraps ``torch.manual_seed``. Student code is made in a cell, whatever its name says."""
    top = sys.modules.get(package)
    home = os.path.dirname(getattr(top, "__file__", None) or "")
    origin = _origin(value)
    return bool(home and origin and origin.startswith(home + os.sep))


def _classes_of(modules: dict, packages: set[str]) -> list[type]:
    """The classes the modules hold, and their bases, when they belong to one of ``packages``."""
    seen: dict[int, type] = {}
    for module in modules.values():
        for value in list(vars(module).values()):
            if isinstance(value, type):
                for cls in value.__mro__:
                    if cls is not object and _package(cls) in packages:
                        seen.setdefault(id(cls), cls)
    return list(seen.values())


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


def _hook_lists(shell) -> dict:
    """``{label: list}``: every list of hooks IPython calls while it runs a cell."""
    lists = {
        name: getattr(shell, name) for name in SHELL_LISTS if isinstance(getattr(shell, name, None), list)
    }
    manager = getattr(shell, "input_transformer_manager", None)
    for name in MANAGER_LISTS:
        if isinstance(getattr(manager, name, None), list):
            lists[f"input_transformer_manager.{name}"] = getattr(manager, name)
    for event, callbacks in getattr(getattr(shell, "events", None), "callbacks", {}).items():
        lists[f"events[{event!r}]"] = callbacks
    return lists


def _ours(value) -> bool:
    """A hook that IPython, ipykernel or matplotlib installed (adopted, not reported)."""
    func = getattr(value, "__func__", value)
    return _package(func) in HOOK_PACKAGES or _package(type(func)) in HOOK_PACKAGES


def snapshot(user_ns: dict, shell, user_names) -> dict:
    """What :func:`restore` puts back: modules, APIs, ``user_names`` of ``user_ns``, the shell's hooks."""
    with warnings.catch_warnings():  # reading a deprecated module attribute warns
        warnings.simplefilter("ignore")
        return _snapshot(user_ns, shell, user_names)


def _snapshot(user_ns: dict, shell, user_names) -> dict:
    whole = {n: m for n, m in list(sys.modules.items()) if m is not None and _under(n, WHOLE)}
    whole["builtins"] = builtins
    apis = _api_modules()
    packages = {n.split(".")[0] for n in [*whole, *apis]}
    kinds = (types.FunctionType, type, types.BuiltinFunctionType)
    snap = {
        "modules": {n: (m, dict(vars(m))) for n, m in whole.items()},
        "apis": {n: (m, {k: v for k, v in vars(m).items() if isinstance(v, kinds)}) for n, m in apis.items()},
        "user_ns": {k: user_ns[k] for k in user_names if k in user_ns},
        "shadows": {k: user_ns[k] for k in SHADOWED if k in user_ns},
        "classes": {},
        "objects": {name: getattr(shell, name, _MISSING) for name in SHELL_OBJECTS},
        "lists": {label: (lst, list(lst)) for label, lst in _hook_lists(shell).items()},
        "instances": [],
        "sys": {a: getattr(sys, a) for a in SYS_ATTRS},
        "functions": {},
        "shell": shell,
    }
    helpers = [shell, shell.kernel, getattr(shell.kernel, "session", None)]
    helpers += [v for v in snap["objects"].values() if v is not _MISSING and not isinstance(v, tuple)]
    helpers = list({id(o): o for o in helpers if isinstance(getattr(o, "__dict__", None), dict)}.values())
    for obj in helpers:
        saved = {k: v for k, v in vars(obj).items() if callable(v) and k not in VOLATILE}
        snap["instances"].append((obj, saved))
    classes = _classes_of({**whole, **apis}, packages)
    classes += [
        c for o in helpers for c in type(o).__mro__ if _package(c) in (*HOOK_PACKAGES, "jupyter_client")
    ]
    for cls in classes:
        snap["classes"][cls] = {k: v for k, v in vars(cls).items() if isinstance(v, _DESCRIPTORS)}
    # the shell's and the kernel's own classes: every attribute, and nothing may be added to them
    snap["strict"] = {id(c) for o in (shell, shell.kernel) for c in type(o).__mro__ if c is not object}
    for o in (shell, shell.kernel):
        snap["classes"].update({c: dict(vars(c)) for c in type(o).__mro__ if c is not object})
    for _, saved in [*snap["modules"].values(), *snap["apis"].values()]:
        snap["functions"].update(_functions(saved.values()))
    for saved in snap["classes"].values():
        snap["functions"].update(_functions(saved.values()))
    snap["functions"].update(_functions(snap["user_ns"].values()))
    return snap


def fingerprint(snap: dict) -> str:
    """A digest of what the snapshot holds (ids of every saved object): it changes when it is edited.

    Keys and ``id``s are gathered with ``map`` (C loops): this runs twice around every test cell."""
    parts = []
    for group in ("modules", "apis"):
        for name, (module, saved) in sorted(snap[group].items()):
            parts.append((name, id(module), tuple(saved), tuple(map(id, saved.values()))))
    for cls, saved in snap["classes"].items():
        parts.append((id(cls), tuple(saved), tuple(map(id, saved.values()))))
    functions = snap["functions"]
    parts.append((tuple(functions), tuple(map(id, chain.from_iterable(functions.values())))))
    parts.append((tuple(snap["user_ns"]), tuple(map(id, snap["user_ns"].values()))))
    parts.append(tuple((k, id(lst), tuple(map(id, saved))) for k, (lst, saved) in snap["lists"].items()))
    parts.append((tuple(snap["objects"]), tuple(map(id, snap["objects"].values()))))
    return format(hash(tuple(parts)) & 0xFFFFFFFFFFFF, "012x")


def _unchanged(current, saved: dict) -> bool:
    """Whether ``current`` (a dict or mapping proxy) holds every key of ``saved`` bound to the very same
    object: the common case, checked in C loops (``map``), so that only a changed namespace is walked."""
    return all(map(is_, map(current.get, saved, repeat(_MISSING)), saved.values()))


def _restore_modules(snap: dict, fixed: list[str]) -> None:
    """Whole modules get every attribute back; in the APIs, a library rebinding its own name is adopted."""
    for group in ("modules", "apis"):
        for name, (module, saved) in snap[group].items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                fixed.append(f"sys.modules[{name!r}]")
            current = vars(module)
            if _unchanged(current, saved):
                continue
            for key, value in saved.items():
                now = current.get(key, _MISSING)
                if now is value or (module is builtins and key in VOLATILE):
                    continue
                if group == "apis" and now is not _MISSING and _made_by(now, name.split(".")[0]):
                    saved[key] = now  # the library rebound its own name: adopted
                    _adopt(snap, now)
                    continue
                current[key] = value
                fixed.append(f"{name}.{key}")


def _adopt(snap: dict, value) -> None:
    """``value`` (made by the library) becomes part of the reference, its code guarded from now on."""
    snap["functions"].update(_functions([value]))
    snap["adopted"] = True


def _restore_classes(snap: dict, fixed: list[str]) -> None:
    for cls, saved in snap["classes"].items():
        strict = id(cls) in snap["strict"]
        current = cls.__dict__
        for key, value in [] if _unchanged(current, saved) else list(saved.items()):
            now = current.get(key, _MISSING)
            if now is not value:
                if not strict and now is not _MISSING and _made_by(now, _package(cls)):
                    saved[key] = now  # the library rebound its own method: adopted
                    _adopt(snap, now)
                    continue
                try:
                    setattr(cls, key, value)
                except (TypeError, AttributeError):
                    continue
                fixed.append(f"{cls.__name__}.{key}")
        for key, value in list(current.items()):  # what was not saved: added since?
            if key in saved or not (callable(value) if strict else isinstance(value, _DESCRIPTORS)):
                continue
            # a library may add its own methods later; on the shell's classes, nothing may be added
            if strict or (_package(cls) != _package(value) and not _ours(value)):
                try:
                    delattr(cls, key)
                except (TypeError, AttributeError):
                    continue
                fixed.append(f"{cls.__name__}.{key} (added)")


def _restore_shell(snap: dict, shell, fixed: list[str]) -> None:
    for name, value in snap["objects"].items():
        current = getattr(shell, name, _MISSING)
        if current is not value and value is not _MISSING:
            setattr(shell, name, value)
            fixed.append(f"get_ipython().{name}")
    for label, (lst, saved) in snap["lists"].items():
        if list(lst) != saved:
            extra = [h for h in lst if not any(h is s for s in saved)]
            if all(_ours(h) for h in extra) and all(any(s is h for h in lst) for s in saved):
                saved[:] = list(lst)  # IPython's or matplotlib's own hook: adopted
                snap["adopted"] = True
                continue
            lst[:] = saved
            fixed.append(f"get_ipython().{label}")
    events = getattr(shell, "events", None)
    for event, callbacks in getattr(events, "callbacks", {}).items():
        label = f"events[{event!r}]"
        if label not in snap["lists"] and callbacks:
            if all(_ours(h) for h in callbacks):
                snap["lists"][label] = (callbacks, list(callbacks))
                snap["adopted"] = True
            else:
                callbacks[:] = [h for h in callbacks if _ours(h)]
                fixed.append(f"get_ipython().{label}")
    for obj, saved in snap["instances"]:
        for key, value in list(vars(obj).items()):
            if callable(value) and key not in VOLATILE and saved.get(key, _MISSING) is not value:
                if key in saved:
                    setattr(obj, key, saved[key])
                else:
                    delattr(obj, key)
                fixed.append(f"{type(obj).__name__}().{key}")


def _restore_functions(functions: list, fixed: list[str]) -> None:
    for func, code, defaults, kwdefaults in functions:
        if (
            func.__code__ is not code
            or func.__defaults__ is not defaults
            or func.__kwdefaults__ is not kwdefaults
        ):
            func.__code__, func.__defaults__, func.__kwdefaults__ = code, defaults, kwdefaults
            fixed.append(f"{func.__module__}.{func.__qualname__} (code)")


def restore(snap: dict, user_ns: dict) -> list[str]:
    """Put back everything :func:`snapshot` saw; return what had been changed, in words."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _restore(snap, user_ns)


def _restore(snap: dict, user_ns: dict) -> list[str]:
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
    _restore_modules(snap, fixed)
    functions = list(snap["functions"].values())
    funcs = list(map(itemgetter(0), functions))
    if not all(
        all(map(is_, map(getattr, funcs, repeat(attr)), map(itemgetter(i), functions)))
        for i, attr in ((1, "__code__"), (2, "__defaults__"), (3, "__kwdefaults__"))
    ):
        _restore_functions(functions, fixed)
    for key, value in snap["user_ns"].items():
        current = user_ns.get(key, _MISSING)
        if current is not value:
            user_ns[key] = value
            if not _same(current, value):  # the set-up cell itself rebinds its names: not worth a note
                fixed.append(key)
    for key in SHADOWED:
        current, saved = user_ns.get(key, _MISSING), snap["shadows"].get(key, _MISSING)
        if current is not saved:
            if saved is _MISSING:
                del user_ns[key]
            else:
                user_ns[key] = saved
            fixed.append(f"{key} (shadows the builtin)")
    _restore_classes(snap, fixed)
    _restore_shell(snap, snap["shell"], fixed)
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
    snap = snapshot(user_ns, shell, names)
    sys.__dict__["_lstm_course_guard"] = snap
    return {"ok": ok, "names": names, "fingerprint": fingerprint(snap)}


def check(shell) -> dict:
    """Restore the snapshot :func:`start` took: what had been changed, and the snapshot's fingerprint
    as found (``before``: the grader compares it with the last one it was given) and as left (``after``)."""
    snap = sys.__dict__["_lstm_course_guard"]
    before = fingerprint(snap)
    snap["adopted"] = False
    fixed = restore(snap, shell.user_ns)
    return {"before": before, "after": fingerprint(snap) if snap["adopted"] else before, "fixed": fixed}


def rebase(shell) -> dict:
    """The notebook's own set-up cell ran (trusted, before any student cell): its names become the reference."""
    snap = sys.__dict__["_lstm_course_guard"]
    user_ns = shell.user_ns
    snap["user_ns"] = {k: user_ns[k] for k in snap["user_ns"] if k in user_ns}
    snap["functions"].update(_functions(snap["user_ns"].values()))
    return {"names": sorted(snap["user_ns"]), "fingerprint": fingerprint(snap)}
