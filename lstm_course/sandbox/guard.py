"""Undo, before and after every test cell, what a student's code changed in the kernel, and say what it was.

This file's *source* is sent to the kernel by :class:`lstm_course.sandbox.kernel.SandboxExecute` once,
before the notebook's first cell, and run in a fresh namespace with its own copy of the builtins: it runs
the course's trusted set-up code, takes a snapshot (:func:`start`) and installs its entry
(:data:`ENTRY`), through which the grader calls it around every test cell to put the snapshot back
(:func:`check`). It is never imported by the kernel, so a submission cannot swap its functions, and no
call after the first looks up a name that student code can rebind.

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

The snapshot is one tuple of tuples, which no code can edit; :func:`check` also returns its fingerprint
(its identity) as it found it. The grader keeps the one :func:`start` returned, outside the kernel: a
submission that finds the snapshot (through ``gc``) and puts an edited copy in its place changes the
fingerprint, and is caught. A check costs a few milliseconds: every watched namespace is compared with
its reference in C loops, and only one that differs is walked.

Limits, in plain words: this runs inside the student's process, so a submission written against this
file (one that finds its entry class or its key through ``__subclasses__``, ``gc`` or frames, or rewrites
its functions) can still fool it. Such code has to reach for the grader's machinery by name, which
:mod:`lstm_course.grading.screen` reads in the submission's source, outside the kernel; and nbgrader reads
each test's verdict from the kernel's error output, which :mod:`lstm_course.sandbox.kernel` cross-checks
against the kernel's reply.
"""

from __future__ import annotations

import builtins
import contextlib
import gc
import os
import sys
import threading
import types
import warnings
from _json import encode_basestring_ascii as _text
from functools import partial
from hashlib import blake2b
from itertools import chain, compress, repeat
from operator import and_, attrgetter, eq, is_, itemgetter, methodcaller, not_

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
_STATE: list = [None]  # the snapshot in use; only this namespace holds it
#: The name of the class the grader finds the guard through after :func:`start` (see :func:`_install`).
ENTRY = "_lstm_course_guard"
_CODE = (types.FunctionType,)
_FUNCTION_LIKE = (types.FunctionType, staticmethod, classmethod)
_DESCRIPTORS = (types.FunctionType, classmethod, staticmethod, property, type)


def _under(name: str, prefixes: tuple) -> bool:
    """Whether ``name`` is one of the modules ``prefixes`` or inside one (C string tests)."""
    dotted = _DOTTED.get(prefixes)
    if dotted is None:
        dotted = _DOTTED[prefixes] = tuple(p + "." for p in prefixes)
    return name in prefixes or name.startswith(dotted)


_DOTTED: dict = {}


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
    values = list(values)
    # the functions among tens of thousands of values, picked out in C loops (map, compress)
    for value in compress(values, map(isinstance, values, repeat(_FUNCTION_LIKE))):
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
    walked: set[int] = set()
    for module in modules.values():
        values = list(vars(module).values())
        for value in compress(values, map(isinstance, values, repeat(type))):
            if id(value) in walked:  # one class is found in many modules: its bases are walked once
                continue
            walked.add(id(value))
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


# --------------------------------------------------------------------------- the snapshot
# One tuple, immutable all the way down (its parts are tuples too): code that finds it through ``gc``
# cannot edit it, only build another one. Its fingerprint is its identity, and every snapshot is kept
# alive until the kernel ends (:func:`_keep`), so no other object can ever take its id.
# Namespaces (modules' dicts, classes' mapping proxies) are kept as live views beside their reference
# contents: keys, values and the values' ids. A check compares all of them in C loops (``map``), and
# walks in Python only a namespace that differs.
(OWNERS, VIEWS, KINDS, NAMES, KEYS, VALS, IDS) = range(7)  # one tuple each, a namespace per position
(FUNCS, USER_NS, SHADOWS, OBJECTS, LISTS, INSTANCES, SYS, SHELL) = range(7, 15)
_SIZE = 15
_KINDS = (types.FunctionType, type, types.BuiltinFunctionType)  # what an API module's attributes keep


def _namespace(owner, kind: str, name: str) -> tuple:
    """``(owner, view, kind, name, keys, values, ids)`` of a module's dict or a class's mapping proxy."""
    view = owner.__dict__ if kind in ("class", "strict") else vars(owner)
    keys, vals = tuple(view), tuple(view.values())
    return owner, view, kind, name, keys, vals, tuple(map(id, vals))


def _functions_tuple(functions: dict) -> tuple:
    """``(functions, codes, defaults, kwdefaults)``, four tuples in step, from :func:`_functions`."""
    rows = list(functions.values())
    return tuple(tuple(map(itemgetter(i), rows)) for i in range(4))


def _more_functions(funcs: tuple, values) -> tuple:
    """A snapshot's :func:`_functions_tuple` with the plain functions among ``values`` guarded too."""
    functions = dict(zip(map(id, funcs[0]), zip(*funcs, strict=True), strict=True))
    functions.update(_functions(values))
    return _functions_tuple(functions)


def _with(snap: tuple, **parts) -> tuple:
    """A new snapshot: ``snap`` with some parts replaced (``user_ns=...``; upper-case field names)."""
    new = list(snap)
    for name, value in parts.items():
        new[globals()[name.upper()]] = value
    return tuple(new)


def snapshot(user_ns: dict, shell, user_names) -> tuple:
    """What :func:`restore` puts back: modules, APIs, ``user_names`` of ``user_ns``, the shell's hooks."""
    with warnings.catch_warnings():  # reading a deprecated module attribute warns
        warnings.simplefilter("ignore")
        return _snapshot(user_ns, shell, user_names)


def _snapshot(user_ns: dict, shell, user_names) -> tuple:
    whole = {n: m for n, m in list(sys.modules.items()) if m is not None and _under(n, WHOLE)}
    whole["builtins"] = builtins
    apis = _api_modules()
    packages = {n.split(".")[0] for n in [*whole, *apis]}
    spaces = []
    for kind, modules in (("whole", whole), ("api", apis)):
        for name, module in modules.items():
            try:
                spaces.append(_namespace(module, kind, name))
            except TypeError:  # an object in sys.modules without a __dict__
                continue
    objects = {name: getattr(shell, name) for name in SHELL_OBJECTS if hasattr(shell, name)}
    helpers = [shell, shell.kernel, getattr(shell.kernel, "session", None), *objects.values()]
    helpers = [o for o in helpers if not isinstance(o, tuple)]
    helpers = list({id(o): o for o in helpers if isinstance(getattr(o, "__dict__", None), dict)}.values())
    instances = []
    for obj in helpers:
        saved = {k: v for k, v in vars(obj).items() if callable(v) and k not in VOLATILE}
        instances.append((obj, tuple(saved), tuple(saved.values())))
    classes = _classes_of({**whole, **apis}, packages)
    classes += [
        c for o in helpers for c in type(o).__mro__ if _package(c) in (*HOOK_PACKAGES, "jupyter_client")
    ]
    # the shell's and the kernel's own classes: every attribute, and nothing may be added to them
    strict = {id(c): c for o in (shell, shell.kernel) for c in type(o).__mro__ if c is not object}
    seen = set()
    for cls in [*classes, *strict.values()]:
        if id(cls) not in seen:
            seen.add(id(cls))
            spaces.append(_namespace(cls, "strict" if id(cls) in strict else "class", cls.__name__))
    functions = _functions(chain.from_iterable(space[VALS] for space in spaces))
    saved_ns = {k: user_ns[k] for k in user_names if k in user_ns}
    functions.update(_functions(saved_ns.values()))
    shadows = {k: user_ns[k] for k in SHADOWED if k in user_ns}
    lists = tuple((label, lst, tuple(lst)) for label, lst in _hook_lists(shell).items())
    return (
        *(tuple(map(itemgetter(i), spaces)) for i in range(7)),
        _functions_tuple(functions),
        (tuple(saved_ns), tuple(saved_ns.values())),
        (tuple(shadows), tuple(shadows.values())),
        (tuple(objects), tuple(objects.values())),
        lists,
        tuple(instances),
        (SYS_ATTRS, tuple(getattr(sys, a) for a in SYS_ATTRS)),
        shell,
    )


def fingerprint(snap) -> str:
    """The snapshot's identity: any other object (an edited copy) has another. Not a snapshot: ``""``."""
    if type(snap) is not tuple or len(snap) != _SIZE:
        return ""
    return format(id(snap), "x")


def _keep(snap: tuple) -> None:
    """Keep ``snap`` alive until the process ends, whatever becomes of the references Python code can
    reach: its id, the fingerprint, then never goes to another object."""
    import ctypes

    ctypes.pythonapi.Py_IncRef(ctypes.py_object(snap))


# --------------------------------------------------------------------------- restoring


def _changed_spaces(snap: tuple) -> list[int]:
    """The namespaces whose keys or values are not the reference's, found in C loops over all of them."""
    views = snap[VIEWS]
    same_keys = map(eq, map(tuple, views), snap[KEYS])
    same_ids = map(eq, map(tuple, map(partial(map, id), map(methodcaller("values"), views))), snap[IDS])
    return list(compress(range(len(views)), map(not_, map(and_, same_keys, same_ids))))


def _fix_module(snap: tuple, i: int, fixed: list[str], adopted: dict) -> None:
    """Whole modules get every attribute back; in an API module (functions and classes only), a library
    rebinding its own name is adopted: ``adopted[i]`` maps the name to its new reference value."""
    module, current, kind, name = snap[OWNERS][i], snap[VIEWS][i], snap[KINDS][i], snap[NAMES][i]
    for key, value in zip(snap[KEYS][i], snap[VALS][i], strict=True):
        if kind == "api" and not isinstance(value, _KINDS):
            continue
        now = current.get(key, _MISSING)
        if now is value or (module is builtins and key in VOLATILE):
            continue
        if kind == "api" and now is not _MISSING and _made_by(now, name.split(".")[0]):
            adopted.setdefault(i, {})[key] = now
            continue
        current[key] = value
        fixed.append(f"{name}.{key}")


def _fix_class(snap: tuple, i: int, fixed: list[str], adopted: dict) -> None:
    """A library class's methods (descriptors) are put back, and those added by other code removed;
    the shell's and the kernel's classes (``strict``) get every attribute back, and nothing added."""
    cls, current, strict = snap[OWNERS][i], snap[VIEWS][i], snap[KINDS][i] == "strict"
    saved = dict(zip(snap[KEYS][i], snap[VALS][i], strict=True))
    if not strict:
        saved = {k: v for k, v in saved.items() if isinstance(v, _DESCRIPTORS)}
    for key, value in saved.items():
        now = current.get(key, _MISSING)
        if now is value:
            continue
        if not strict and now is not _MISSING and _made_by(now, _package(cls)):
            adopted.setdefault(i, {})[key] = now  # the library rebound its own method: adopted
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


def _adopt_spaces(snap: tuple, adopted: dict) -> tuple:
    """``snap`` with the adopted values in its namespaces' references, and their code guarded too."""
    vals, ids = list(snap[VALS]), list(snap[IDS])
    for i, new in adopted.items():
        vals[i] = tuple(new.get(k, v) for k, v in zip(snap[KEYS][i], vals[i], strict=True))
        ids[i] = tuple(map(id, vals[i]))
    funcs = _more_functions(snap[FUNCS], chain.from_iterable(new.values() for new in adopted.values()))
    return _with(snap, vals=tuple(vals), ids=tuple(ids), funcs=funcs)


def _restore_modules(snap: tuple, fixed: list[str]) -> dict:
    count = sum(1 for k in snap[KINDS] if k in ("whole", "api"))
    names, modules = snap[NAMES][:count], snap[OWNERS][:count]
    if not all(map(is_, map(sys.modules.get, names), modules)):
        for name, module in zip(names, modules, strict=True):
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                fixed.append(f"sys.modules[{name!r}]")
    adopted: dict = {}
    for i in _changed_spaces(snap):
        (_fix_class if snap[KINDS][i] in ("class", "strict") else _fix_module)(snap, i, fixed, adopted)
    return adopted


def _restore_functions(funcs: tuple, fixed: list[str]) -> None:
    for func, code, defaults, kwdefaults in zip(*funcs, strict=True):
        if (
            func.__code__ is not code
            or func.__defaults__ is not defaults
            or func.__kwdefaults__ is not kwdefaults
        ):
            func.__code__, func.__defaults__, func.__kwdefaults__ = code, defaults, kwdefaults
            fixed.append(f"{func.__module__}.{func.__qualname__} (code)")


def _restore_shell(snap: tuple, fixed: list[str]) -> tuple:
    """The shell's helper objects, its hook lists and event callbacks (IPython's own hooks are adopted:
    then the snapshot returned is a new one), the helpers' methods."""
    shell = snap[SHELL]
    for name, value in zip(*snap[OBJECTS], strict=True):
        if getattr(shell, name, _MISSING) is not value:
            setattr(shell, name, value)
            fixed.append(f"get_ipython().{name}")
    lists, changed = [], False
    for label, lst, saved in snap[LISTS]:
        if len(lst) != len(saved) or not all(map(is_, lst, saved)):
            extra = [h for h in lst if not any(h is s for s in saved)]
            if all(_ours(h) for h in extra) and all(any(s is h for h in lst) for s in saved):
                lists.append((label, lst, tuple(lst)))  # IPython's or matplotlib's own hook: adopted
                changed = True
                continue
            lst[:] = saved
            fixed.append(f"get_ipython().{label}")
        lists.append((label, lst, saved))
    labels = {label for label, _, _ in lists}
    events = getattr(shell, "events", None)
    for event, callbacks in getattr(events, "callbacks", {}).items():
        label = f"events[{event!r}]"
        if label not in labels and callbacks:
            if all(_ours(h) for h in callbacks):
                lists.append((label, callbacks, tuple(callbacks)))
                changed = True
            else:
                callbacks[:] = [h for h in callbacks if _ours(h)]
                fixed.append(f"get_ipython().{label}")
    for obj, keys, vals in snap[INSTANCES]:
        saved = dict(zip(keys, vals, strict=True))
        for key, value in list(vars(obj).items()):
            if callable(value) and key not in VOLATILE and saved.get(key, _MISSING) is not value:
                if key in saved:
                    setattr(obj, key, saved[key])
                else:
                    delattr(obj, key)
                fixed.append(f"{type(obj).__name__}().{key}")
    return _with(snap, lists=tuple(lists)) if changed else snap


def restore(snap: tuple, user_ns: dict) -> list[str]:
    """Put back everything :func:`snapshot` saw; return what had been changed, in words."""
    return _restore_all(snap, user_ns)[0]


def _restore_all(snap: tuple, user_ns: dict) -> tuple[list[str], tuple]:
    """What had been changed, and the snapshot to use from now on (``snap``, or a new one that adopted
    what IPython or a library itself rebound)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _restore(snap, user_ns)


def _restore(snap: tuple, user_ns: dict) -> tuple[list[str], tuple]:
    fixed = []
    if sys.gettrace() is not None or sys.getprofile() is not None:
        fixed.append("sys.settrace/setprofile hook")
    sys.settrace(None)
    sys.setprofile(None)
    threading.settrace(None)
    threading.setprofile(None)
    for attr, value in zip(*snap[SYS], strict=True):
        if getattr(sys, attr) is not value:
            setattr(sys, attr, value)
            fixed.append(f"sys.{attr}")
    adopted = _restore_modules(snap, fixed)
    funcs = snap[FUNCS]
    if not all(
        all(map(is_, map(attrgetter(attr), funcs[0]), funcs[i]))
        for i, attr in ((1, "__code__"), (2, "__defaults__"), (3, "__kwdefaults__"))
    ):
        _restore_functions(funcs, fixed)
    for key, value in zip(*snap[USER_NS], strict=True):
        current = user_ns.get(key, _MISSING)
        if current is not value:
            user_ns[key] = value
            if not _same(current, value):  # the set-up cell itself rebinds its names: not worth a note
                fixed.append(key)
    saved_shadows = dict(zip(*snap[SHADOWS], strict=True))
    for key in SHADOWED:
        current, saved = user_ns.get(key, _MISSING), saved_shadows.get(key, _MISSING)
        if current is not saved:
            if saved is _MISSING:
                del user_ns[key]
            else:
                user_ns[key] = saved
            fixed.append(f"{key} (shadows the builtin)")
    if adopted:
        snap = _adopt_spaces(snap, adopted)
    return fixed, _restore_shell(snap, fixed)


# --------------------------------------------------------------------------- the grader's calls


@contextlib.contextmanager
def _gc_paused():
    """The cyclic garbage collector paused: a check makes thousands of small tuples, enough to set off
    full collections, which cost about 80 ms each in a kernel that holds TensorFlow."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def start(shell, setup: str, key: str = "", preload=("numpy", "numpy.testing", "lstm_ref.feedback")) -> dict:
    """Run the course's trusted set-up code, then snapshot; kept in this namespace for :func:`check`.

    ``key`` (hex, from the grader): when given, install :data:`ENTRY`, through which the grader makes its
    later calls and which signs their answers with ``key`` (see :func:`_install`).
    """
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
    with _gc_paused():
        snap = snapshot(user_ns, shell, names)
    _keep(snap)
    _STATE[0] = snap
    if key:
        _keep(_install(shell, bytes.fromhex(key)))
    # what exists now (the libraries, the snapshot) lives as long as the kernel: the collector need not
    # scan it again, which makes every later full collection of the notebook's own code cheaper
    gc.freeze()
    return {"ok": ok, "names": names, "fingerprint": fingerprint(snap)}


def check(shell) -> dict:
    """Restore the snapshot :func:`start` took: what had been changed, and the snapshot's fingerprint
    as found (``before``: the grader compares it with the last one it was given) and as left (``after``:
    another one where the guard adopted what IPython or a library itself rebound)."""
    snap = _STATE[0]
    before = fingerprint(snap)
    if not before:
        return {"before": "", "after": "", "fixed": ["the guard's snapshot (not one)"]}
    with _gc_paused():
        fixed, new = _restore_all(snap, shell.user_ns)
    if new is not snap:
        _keep(new)
        _STATE[0] = new
    return {"before": before, "after": fingerprint(new), "fixed": fixed}


def rebase(shell) -> dict:
    """The notebook's own set-up cell ran (trusted, before any student cell): its names become the reference."""
    snap = _STATE[0]
    user_ns = shell.user_ns
    saved = {k: user_ns[k] for k in snap[USER_NS][0] if k in user_ns}
    with _gc_paused():
        funcs = _more_functions(snap[FUNCS], saved.values())
    new = _with(snap, user_ns=(tuple(saved), tuple(saved.values())), funcs=funcs)
    _keep(new)
    _STATE[0] = new
    return {"names": sorted(saved), "fingerprint": fingerprint(new)}


# --------------------------------------------------------------------------- the grader's entry


def as_json(value) -> str:
    """JSON text of the guard's answers (dicts, lists, strings, booleans, None). A string is written
    from its characters by ``_json``'s C encoder: a ``str`` subclass's own methods never run.

    >>> print(as_json({"ok": True, "fixed": ["np.allclose", "x\u00b2"], "before": None}))
    {"ok":true,"fixed":["np.allclose","x\\u00b2"],"before":null}
    """
    if type(value) is dict:
        return "{" + ",".join(_text(k) + ":" + as_json(v) for k, v in value.items()) + "}"
    if type(value) is list or type(value) is tuple:
        return "[" + ",".join(map(as_json, value)) + "]"
    if value is None or value is True or value is False:
        return "null" if value is None else "true" if value else "false"
    return _text(value)


SIGNATURE_CHARS = 32  # an answer starts with its signature: 16 bytes, in hex


def signature(key: bytes, nonce: str, body: str) -> str:
    """The grader's check that an answer is the guard's own: keyed BLAKE2b of the nonce and the body."""
    digest = SIGNATURE_CHARS // 2
    return blake2b(nonce.encode() + b"\n" + body.encode(), key=key, digest_size=digest).hexdigest()


def _install(shell, key: bytes) -> type:
    """The guard's entry for every call after :func:`start`: a subclass of ``complex`` named
    :data:`ENTRY`, whose ``check(nonce)`` and ``rebase(nonce)`` answer ``signature + JSON``.

    The grader reaches it from a literal, ``(1j).__class__.__subclasses__()``, not through a single
    name in the user namespace, which student code can rebind (``__import__``, ``exec``,
    ``get_ipython``) to wrap the call, drop what the guard reports and patch again. The first class of
    that name is this one: it exists before any student code runs. This namespace's builtins are its own
    copy (the grader's ``start`` call gives it one) and the signing key lives only here and in the grader,
    so an answer edited on its way out (a formatter, the kernel's messaging) no longer matches its
    signature. Reaching this class or its key takes ``__subclasses__``, ``gc`` or frames, which
    :mod:`lstm_course.grading.screen` flags.
    """

    def answer(call, nonce: str) -> str:
        body = as_json(call(shell))
        return signature(key, nonce, body) + body

    return type(
        ENTRY,
        (complex,),
        {"__slots__": (), "check": partial(answer, check), "rebase": partial(answer, rebase)},
    )
