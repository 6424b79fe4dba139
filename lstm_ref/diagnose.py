"""The shape vocabulary of ``lstm_ref``: axis names, a shape in words, and what is wrong with a shape.

Every shape message in the package is worded here, once, in the language of :mod:`lstm_ref.i18n`: the input
validators (:mod:`lstm_ref._checks`), the exercises' feedback (:mod:`lstm_ref.feedback`) and the traces
(:mod:`lstm_ref.trace`) call :func:`diagnose` or :func:`explain_mismatch`: which axis of a wrong shape is
wrong, naming the classic mistakes and, with ``fix=True``, the NumPy or torch code that repairs it. Also: the
axis names (:data:`LAYOUTS`, :func:`layout_str`), :func:`describe`, the exercises' :func:`assert_shape`, and
:func:`hx_not_a_pair`. Nothing here imports torch or TensorFlow: shapes are tuples (or have ``.shape``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np

from lstm_ref.i18n import N_, _, ngettext

Dim = int | None  # one axis's size; None: any size (or not known)
Sizes = tuple[Dim, ...]  # a shape tuple (lstm_ref.trace.Shape is a shape with a name per axis)
Layout = str | Sequence[str]  # a name from LAYOUTS, or one name per axis

BTF = ("batch", "time_steps", "features")
TBF = ("time_steps", "batch", "features")
STATE = ("num_layers*num_directions", "batch", "hidden_size")  # PyTorch's h0, c0, h_n, c_n
KERAS_STATE = ("batch", "hidden")  # a Keras RNN's initial or final state, one tensor per h and c

# fmt: off
LAYOUTS: dict[str, tuple[str, ...]] = {  # named layouts, for any layout argument (or a tuple of axis names)
    "btf": BTF, "tbf": TBF, "bth": ("batch", "time_steps", "hidden_size"),
    "tbh": ("time_steps", "batch", "hidden_size"), "bh": ("batch", "hidden_size"), "state": STATE,
    "windows": ("windows", "time_steps", "features"), "targets": ("windows", "horizon"),
    "series": ("time_steps", "features"),
}
_WORDS = {  # an axis's size in words, singular and plural (ngettext)
    "batch": N_("{n} sample", "{n} samples"), "windows": N_("{n} window", "{n} windows"),
    "streams": N_("{n} stream", "{n} streams"), "time_steps": N_("{n} time step", "{n} time steps"),
    "features": N_("{n} feature", "{n} features"), "hidden_size": N_("{n} hidden unit", "{n} hidden units"),
    "units": N_("{n} unit", "{n} units"), "horizon": N_("{n} future step", "{n} future steps"),
    "targets": N_("{n} target", "{n} targets"),
    "num_layers*num_directions": N_("{n} layer/direction pair", "{n} layer/direction pairs"),
}
# fmt: on
_BATCH_AXES = ("batch", "samples", "windows")  # counted in windows: one off is create_dataset's off-by-one


def layout_str(layout: Sequence[str], expected: Mapping[str, int | None] | None = None) -> str:
    """Render a layout such as ``(batch, time_steps, features) = (?, ?, 3)``; one axis reads as a tuple does.

    >>> layout_str(BTF, {"features": 3})
    '(batch, time_steps, features) = (?, ?, 3)'
    >>> layout_str(("windows",), {"windows": 25}), layout_str(BTF)
    ('(windows,) = (25,)', '(batch, time_steps, features)')
    """

    def tup(items) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    if not expected:
        return tup(layout)
    return f"{tup(layout)} = {tup(['?' if expected.get(n) is None else str(expected[n]) for n in layout])}"


def resolve_layout(layout: str | Sequence[str]) -> tuple[str, ...]:
    """The axis names of ``layout``: a name from :data:`LAYOUTS`, or a sequence of names as given.

    >>> resolve_layout("state"), resolve_layout(["rows", "cols"])
    (('num_layers*num_directions', 'batch', 'hidden_size'), ('rows', 'cols'))
    """
    if isinstance(layout, str) and layout not in LAYOUTS:
        msg = _("layout must be one of {names} or a tuple of axis names, got {layout}")
        raise ValueError(msg.format(names=sorted(LAYOUTS), layout=repr(layout)))
    return LAYOUTS[layout] if isinstance(layout, str) else tuple(layout)


def _shape(shape) -> Sizes:
    """Accept a shape tuple or anything with ``.shape`` (NumPy array, tensor)."""
    return tuple(None if s is None else int(s) for s in getattr(shape, "shape", shape))


def _named(shape, layout: str | Sequence[str], what: str = "shape") -> tuple[Sizes, tuple[str, ...]]:
    """``shape`` as a tuple and the axis names of ``layout``; a ``ValueError`` unless one name per axis."""
    sizes, names = _shape(shape), resolve_layout(layout)
    if len(sizes) != len(names):
        msg, n, m = _("{what} {sizes} has {n} axes but the layout {layout} has {m}"), len(sizes), len(names)
        raise ValueError(msg.format(what=what, sizes=sizes, n=n, layout=layout_str(names), m=m))
    return sizes, names


def fits(got: Sequence[Dim], expected: Sequence[Dim]) -> bool:
    """Whether shape ``got`` is ``expected``, where ``None`` in ``expected`` accepts any size.

    >>> fits((4, 7, 3), (None, None, 3)), fits((4, 3), (None, None, 3))
    (True, False)
    """
    return len(got) == len(expected) and all(e is None or g == e for g, e in zip(got, expected, strict=True))


def _size(s: Dim) -> str:
    return "?" if s is None else str(s)


def describe(shape, layout: str | Sequence[str] = "btf") -> str:
    """Say a shape in words, axis by axis.

    ``shape``: a shape tuple (``None`` for unknown sizes) or an array/tensor; ``layout``: a name from
    :data:`LAYOUTS` (``"btf"``, ``"state"``, ``"windows"``, ...) or a tuple of axis names, one per axis.

    >>> describe((26, 5, 7), "windows"), describe((None, 1, 3))
    ('(26, 5, 7) = 26 windows × 5 time steps × 7 features', '(None, 1, 3) = ? samples × 1 time step × 3 features')
    >>> describe((2, 4, 5), "state")
    '(2, 4, 5) = 2 layer/direction pairs × 4 samples × 5 hidden units'
    """
    shape, names = _named(shape, layout)
    units = [_WORDS.get(n, ("{n} " + n.replace("_", " "),) * 2) for n in names]  # other names: no msgid
    return f"{shape} = " + " × ".join(
        ngettext(*u, 2 if s is None else s).replace("{n}", _size(s))
        for u, s in zip(units, shape, strict=True)
    )


def diagnose(
    got_shape, expected_shape, layout: Layout = "btf", *, name="x", fix=True, lib=None
) -> str | None:
    """Explain what is wrong with a shape, or return ``None`` when it fits.

    Names the wrong axis and the classic mistakes: a missing time (or feature, batch, layer) axis, axes
    flattened together or in the wrong order (time-major, the ``reshape(n, 1, look_back)`` mix-up, a
    batch-first ``h0``), a window too few (``create_dataset``) or too many, an extra axis of size 1.

    ``got_shape`` is a tuple or an array/tensor; ``None`` in ``expected_shape`` marks an axis of any size;
    ``layout`` names the axes of ``expected_shape`` (a name from :data:`LAYOUTS` or a tuple); ``name`` is what
    the message calls the array (the repair code calls it ``x``); ``fix`` adds that code (see
    :func:`explain_mismatch`), in ``lib``'s words: ``"torch"`` (the default for a tensor or ``torch.Size``) or
    ``"numpy"``.

    >>> diagnose((26, 5, 7), (26, 5, 7)) is None
    True
    >>> print(diagnose((26, 7), (26, 5, 7), name="X"))  # doctest: +ELLIPSIS
    X: expected (batch, time_steps, features) = (26, 5, 7), got shape (26, 7): the time_steps axis...
    >>> print(diagnose((25, 5, 1), (26, 5, 1)))  # doctest: +ELLIPSIS
    x: expected ... got shape (25, 5, 1): axis 0 (batch) is 25, expected 26: one window short...
    """
    (exp, names), got = _named(expected_shape, layout, "expected_shape"), _shape(got_shape)
    if fits(got, exp):
        return None
    why = explain_mismatch(got, exp, names, fix=fix, lib=lib or lib_of(got_shape))
    want = layout_str(names, dict(zip(names, exp, strict=True)))
    msg = _("{name}: expected {layout}, got shape {got}: {reason}")
    return msg.format(name=name, layout=want, got=got, reason=why)


def lib_of(obj) -> str:
    """``"torch"`` for a torch tensor or ``torch.Size`` (no import needed), else ``"numpy"``."""
    return "torch" if type(obj).__module__.split(".")[0] == "torch" else "numpy"


def explain_mismatch(got: tuple, exp: tuple, names: tuple[str, ...], *, fix=True, lib="numpy") -> str:
    """The reason part of :func:`diagnose`, for shapes known not to fit.

    ``got`` and ``exp`` are shape tuples (``None`` in ``exp`` marks any size), ``names`` the axis
    names of ``exp``. With ``fix=False`` the reason leaves out the code that would repair the array
    (``x.transpose(...)``, ``make_windows``): in the exercises' feedback that code is the answer.
    ``lib="torch"`` words that code for a tensor (``x.permute``, ``x.unsqueeze``), else for NumPy.

    >>> explain_mismatch((26, 35), (26, 5, 7), ("batch", "time_steps", "features"), fix=False)
    'time_steps and features are flattened into one axis of 35 = 5 × 7; keep them as two separate axes'
    """
    got, exp, names = tuple(got), tuple(exp), tuple(names)
    if len(got) == len(exp):
        return _wrong_order(got, exp, names, fix, lib) or _wrong_sizes(got, exp, names, fix)
    if len(got) == len(exp) - 1:  # with unknown sizes both readings can fit; then give both
        a, b = _missing_axis(got, exp, names, fix, lib), _merged_axes(got, exp, names, fix)
        if a or b:
            return _("{msg}; or, if not, {other}").format(msg=a, other=b) if a and b else a or b
    for i in range(len(got) if len(got) == len(exp) + 1 else 0):
        if got[i] == 1 and fits(got[:i] + got[i + 1 :], exp):
            return _use(_("an extra axis of size 1 at position {i}").format(i=i), f"x.squeeze({i})", fix)
    msg = _("a {n}-D array where {m}-D is expected; {shape}")
    msg = msg.format(n=len(got), m=len(exp), shape=describe(exp, names))
    if len(got) != 1 or "time_steps" not in names:
        return msg
    if fix:
        bare = _("{msg}; it looks like a bare series: cut it into windows with {code}")
        return bare.format(msg=msg, code="lstm_ref.data.make_windows(series, look_back)")
    return _("{msg}; it looks like a bare series: cut it into windows of look_back time steps").format(msg=msg)  # fmt: skip


def _use(msg: str, code: str, fix: bool = True) -> str:
    """``msg`` and, if ``fix``, the code that repairs the array."""
    return _("{msg}; use {code}").format(msg=msg, code=code) if fix else msg


def _wrong_order(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool, lib: str) -> str | None:
    """The sizes are all there but on the wrong axes: which order it looks like, and the transpose."""
    n = len(names)
    perm = next((p for p in itertools.permutations(range(n)) if fits(got, [exp[i] for i in p])), None)
    if perm is None:  # (the identity never fits: the shapes are known not to match)
        return None
    order, inverse = tuple(names[p] for p in perm), tuple(perm.index(i) for i in range(n))
    msg = _("the axes are in the wrong order: it looks like {order}").format(order=layout_str(order))
    moved = {names[i] for i in range(n) if perm[i] != i}
    big = [k for k in inverse if got[k] != 1]  # a reshape keeps these in order: same values if only 1s move
    same, state = None not in got and big == sorted(big), {STATE[0], "batch"} <= moved

    def repair(m: str) -> str:  # the transpose (fix), or whether a reshape would do as well
        if fix:
            m, more = _use(m, _reorder(inverse, lib, state)), "{msg}"
            more = _("{msg} (only axes of size 1 move: {code} is the same)") if same else more
        elif same:
            more = _("{msg}; only axes of size 1 move, so here a reshape gives the same array as a transpose")
        else:
            more = _("{msg}; reorder them with a transpose, not a reshape")
        return more.format(msg=m, code=f"x.reshape{tuple(got[k] for k in inverse)}")

    if state:
        msg = _("{msg}; the state is never batch-first, even with batch_first=True").format(msg=msg)
        return repair(msg) if fix else msg
    if order[:2] == ("time_steps", "batch"):
        msg = repair(_("{msg}, the PyTorch default layout (batch_first=False)").format(msg=msg))
        return _("{msg}, or batch_first=True where the model is built").format(msg=msg) if fix else msg
    if moved == {"time_steps", "features"}:
        t, f = got[names.index("time_steps")], got[names.index("features")]
        if order[-1] != "features":
            msg = _("{msg} (the features axis must be last)").format(msg=msg)
        msg = _("{msg}: {t} time step(s) of {f} feature(s) each").format(msg=msg, t=t, f=f)
        if t == 1:
            msg = _("{msg}. The classic X.reshape(n, 1, look_back) puts a whole window on the features axis, so the LSTM sees one time step").format(msg=msg)  # fmt: skip
    return repair(msg)


def _reorder(inverse: tuple[int, ...], lib: str, state: bool = False) -> str:
    """The code that puts x's axes in the order ``inverse``: NumPy's ``transpose`` takes the whole order,
    torch's ``permute`` does (its ``transpose`` swaps two dims); a torch state must be contiguous."""
    swapped, code = tuple(i for i, k in enumerate(inverse) if k != i), f"x.permute{inverse}"
    if lib != "torch":
        return f"x.transpose{inverse}" + (f" (torch: {code}.contiguous())" if state else "")
    if state or len(swapped) != 2:
        return code + ".contiguous()" * state
    return _("{code} or {other}").format(code=code, other=f"x.transpose{swapped}")


def _wrong_sizes(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool) -> str:
    """Same rank, no reordering fits: name each wrong axis; one wrong axis gets its classic cause."""
    wrong = [(i, names[i], g, e) for i, (g, e) in enumerate(zip(got, exp, strict=True)) if e not in (None, g)]
    each = _("axis {i} ({axis}) is {got}, expected {want}")
    msg = _("; ").join(each.format(i=i, axis=ax, got=g, want=e) for i, ax, g, e in wrong)
    if len(wrong) > 1 and None not in exp and math.prod(got) == math.prod(exp):
        more = _("{msg} (the {n} values are all there, cut differently: check look_back and how the array was reshaped)")  # fmt: skip
        return more.format(msg=msg, n=math.prod(got))
    ax, g, e = wrong[0][1:] if len(wrong) == 1 else (None, 0, 0)
    windowed = ax in _BATCH_AXES and (ax != "batch" or "time_steps" in names)  # not a batch of states
    if windowed and g == e - 1:
        msg = _("{msg}: one window short. The classic create_dataset loops over range(N - look_back - 1) and drops the last window; N rows give N - look_back - horizon + 1 windows").format(msg=msg)  # fmt: skip
        return _("{msg} ({code})").format(msg=msg, code="lstm_ref.data.make_windows") if fix else msg
    if windowed and g == e + 1:
        return _("{msg}: one window too many. N - look_back + 1 windows exist, but the last one has no future value to predict: with a horizon of h there are N - look_back - h + 1").format(msg=msg)  # fmt: skip
    if ax == "time_steps":
        more = _("{msg}: the windows are {got} steps long; cut them with look_back = {want}")
        return more.format(msg=msg, got=g, want=e)
    return msg


def _missing_axis(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool, lib: str) -> str | None:
    """Which axis, once removed, makes the rest fit? With unknown (None) sizes several may: prefer
    the one whose remaining axes match the most known sizes, then the commonest mistake (time)."""
    found = [i for i in range(len(names)) if fits(got, exp[:i] + exp[i + 1 :])]
    if not found:
        return None
    known = [-sum(e is not None for e in exp[:k] + exp[k + 1 :]) for k in range(len(names))]
    i = min(found, key=lambda k: (known[k], {"time_steps": 0, "features": 1}.get(names[k], 2)))
    ax, want, insert = names[i], exp[i], _insert_code(got, i, lib)
    head = _("the {axis} axis (axis {i}) is missing").format(axis=ax, i=i)
    if ax == "time_steps" and want != 1:
        return _no_time_axis(got, exp, names, head, fix, lib)
    if ax == STATE[0]:
        msg = _("{msg}: the state has one (batch, hidden_size) slice per layer and direction")
        one, stack = want in (1, None), f"{'torch' if lib == 'torch' else 'np'}.stack([...])"
        more = {  # (one slice?, fix?)
            (True, True): _("{msg}; use {code} for a single-layer, one-direction LSTM"),
            (True, False): "{msg}",
            (False, True): _("{msg}; stack {n} of them with {code} in the order of the layers"),
            (False, False): _("{msg}; stack {n} of them in the order of the layers"),
        }[one, fix]
        return more.format(msg=msg.format(msg=head), n=want, code=insert if one else stack)
    if ax == "features" and want == 1:
        head = _("{msg}: a single feature still needs its own axis of size 1").format(msg=head)
    elif ax in _BATCH_AXES and want in (1, None):
        head = _("{msg}: even a single sample needs a batch axis of size 1").format(msg=head)
    elif ax in _BATCH_AXES:
        return _("{msg}: expected {n} samples stacked along axis {i}").format(msg=head, n=want, i=i)
    elif want != 1:
        return head
    return _use(head, insert, fix)


def _no_time_axis(got: tuple, exp: tuple, names: tuple[str, ...], head: str, fix: bool, lib: str) -> str:
    """A 2-D ``(samples, columns)`` for ``(samples, time_steps, features)``: most likely a window per row."""
    i, want = names.index("time_steps"), exp[names.index("time_steps")]
    msg = _("{msg}: each sample is a single row, with no time axis. An LSTM reads a sequence per sample")
    window = names[-1] == "features" and exp[-1] is None and i == 1 and len(got) == 2 and None not in got
    window = window and got[1] > 1 and want in (None, got[1])  # a window per row, of one feature
    if window and not fix:
        more = _("{msg}; if the {c} columns are a window of {c} time steps of one feature, the features axis of size 1 is what is missing, not a time axis of 1")  # fmt: skip
    elif window:
        more = _("{msg}: if the {c} columns are a window of {c} time steps of one feature, use x[..., None] = x.reshape({n}, {c}, 1); x.reshape({n}, 1, {c}) would be ONE time step of {c} features (the whole window on the features axis); if instead each row is one time step, cut windows with lstm_ref.data.make_windows(rows, look_back=...)")  # fmt: skip
    elif not fix and want is None:
        more = _("{msg}; give every sample its own window")
    elif not fix:
        more = _("{msg}; give every sample its own window of {t} time steps")
    elif want is None:
        more = _("{msg}: cut windows with {code}; {one} gives one time step per sample: the LSTM has nothing to recur over")  # fmt: skip
    else:
        more = _("{msg}: cut windows with {code}")
    n, c = got if window else (None, None)
    make = f"lstm_ref.data.make_windows(series, look_back={'...' if want is None else want})"
    return more.format(msg=msg.format(msg=head), n=n, c=c, t=want, code=make, one=_insert_code(got, i, lib))


def _insert_code(got: tuple, i: int, lib: str = "numpy") -> str:
    """The code that inserts an axis of size 1 at position ``i`` of an array of shape ``got``."""
    if i in (0, len(got)):
        return "x[None]" if i == 0 else "x[..., None]"
    if lib == "torch" or None in got:
        return f"x.unsqueeze({i})" if lib == "torch" else f"np.expand_dims(x, {i})"
    return f"x.reshape{(*got[:i], 1, *got[i:])}"


def _merged_axes(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool) -> str | None:
    """Two neighbouring axes flattened into one: the merged size is their product."""
    for i in range(len(names) - 1):
        a, b = exp[i], exp[i + 1]
        merged = got[i] if i < len(got) else None
        if merged is None or not fits(got[:i] + got[i + 1 :], exp[:i] + exp[i + 2 :]):
            continue
        known = [s for s in (a, b) if s is not None]
        if 1 in known or known == [merged]:  # the other axis would be 1: that is a missing axis
            continue
        if (len(known) == 2 and merged == a * b) or (len(known) == 1 and merged % known[0] == 0):
            target = (*got[:i], -1 if a is None else a, -1 if b is None else b, *got[i + 1 :])
            msg = _("{a} and {b} are flattened into one axis of {n} = {sa} × {sb}")
            msg = msg.format(a=names[i], b=names[i + 1], n=merged, sa=_size(a), sb=_size(b))
            keep = _("{msg}; keep them as two separate axes").format(msg=msg)
            return _use(msg, f"x.reshape{target}") if fix else keep
    return None


def _as_shape(obj) -> tuple[int, ...]:
    """A shape from an array/tensor (``.shape``) or from a tuple of ints given as an answer."""
    if hasattr(obj, "shape"):
        return tuple(int(s) for s in obj.shape)
    ints = isinstance(obj, tuple | list) and all(isinstance(s, int | np.integer) for s in obj)
    if ints and not any(isinstance(s, bool) for s in obj):
        return tuple(int(s) for s in obj)
    msg = _("expected an array or a shape tuple of ints, got {kind}: {value}")
    raise AssertionError(msg.format(kind=type(obj).__name__, value=f"{obj!r:.80}"))


def assert_shape(
    got, expected: Sequence[Dim], layout: Layout = "btf", what: str = "x", hint="", *, name=None, fix=False
) -> None:
    """Raise ``AssertionError`` unless ``got`` (an array, a tensor or a shape tuple) has shape ``expected``.

    The one shape assertion of the package (``lstm_ref.feedback.assert_shape`` and
    ``lstm_ref.shapes.assert_shape`` are this function). The message says what was received
    and what was expected, in the words of :func:`explain_mismatch`.

    ``None`` in ``expected`` accepts any size; ``layout`` names its axes (a name from :data:`LAYOUTS` or a
    tuple); ``what`` (or ``name``, kept for old calls) is what the message calls ``got``; ``hint`` is added
    after ``Hint:``; ``fix`` adds the repair code (NumPy's, torch's for a tensor): off by default, since
    in an exercise that code is the graded answer.

    >>> assert_shape((4, 2, 5), (2, 4, 5), "state", what="h_n")
    Traceback (most recent call last):
    ...
    AssertionError: Your h_n has shape (4, 2, 5) but it should be (num_layers*num_directions, batch, hidden_size) = (2, 4, 5): the axes are in the wrong order: it looks like (batch, num_layers*num_directions, hidden_size); the state is never batch-first, even with batch_first=True
    """
    what = what if name is None else name
    (expected, names), shape = _named(expected, layout, "expected"), _as_shape(got)
    if fits(shape, expected):
        return
    want = layout_str(names, dict(zip(names, expected, strict=True)))
    why = explain_mismatch(shape, expected, names, fix=fix, lib=lib_of(got))
    msg = _("Your {what} has shape {shape} but it should be {want}: {reason}")
    msg = msg.format(what=what, shape=shape, want=want, reason=why)
    raise AssertionError(_("{msg}. Hint: {hint}").format(msg=msg, hint=hint) if hint else msg)


def hx_not_a_pair(hx, sizes: Mapping[str, int | None] | None = None) -> str:
    """Why an LSTM refuses ``hx``, its initial state, when it is not one pair ``(h0, c0)``. ``sizes`` maps
    names of :data:`STATE` to the sizes expected (``None`` or missing: not known).

    >>> hx_not_a_pair([1, 2, 3], {"num_layers*num_directions": 2, "batch": 4})
    'hx must be one tuple (h0, c0), each (num_layers*num_directions, batch, hidden_size) = (2, 4, ?), as in lstm(x, (h0, c0)); got list'
    """
    msg = _("hx must be one tuple (h0, c0), each {each}, as in lstm(x, (h0, c0)); got {kind}")
    return msg.format(each=layout_str(STATE, sizes or {}), kind=type(hx).__name__)
