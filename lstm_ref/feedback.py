"""Assertions for exercise test cells that explain what went wrong, in shape terms.

Each helper raises ``AssertionError`` with a message a learner can act on: what was
expected and what was received, in ``(batch, time_steps, features)`` words, which axis is
wrong, and a hint for the classic mistakes (missing time axis, flattened time axis, swapped
axes, one window short, batch-first state, PyTorch's second bias). It never prints the
answer's code. NumPy only: tensors are accepted through ``.shape`` and
:func:`lstm_ref._checks.to_numpy`.

The helpers are the package's own, shared rather than copied: :func:`assert_shape` is
:func:`lstm_ref.diagnose.assert_shape` (its words are :func:`lstm_ref.diagnose.explain_mismatch`'s)
and :func:`numeric_gradient` is :func:`lstm_ref.numpy.numerical_gradient` for a scalar ``f()``.

>>> import numpy as np
>>> assert_shape(np.zeros((26, 5, 7)), (26, 5, 7), what="X")
>>> assert_close(np.ones(3), np.ones(3), what="h")
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from lstm_ref._checks import to_numpy
from lstm_ref.diagnose import BTF, assert_shape, explain_mismatch, fits
from lstm_ref.i18n import _, ngettext
from lstm_ref.numpy import numerical_gradient
from lstm_ref.shapes import param_count

__all__ = [
    "assert_shape",
    "assert_close",
    "assert_param_count",
    "numeric_gradient",
    "diagnose_shape",
]

# assert_shape is lstm_ref.diagnose.assert_shape, the package's one shape assertion:
# assert_shape(got, expected, layout=BTF, what="x", hint=""), with no repair code in its message.


def diagnose_shape(got: Sequence[int], expected: Sequence[int | None], layout: Sequence[str] = BTF) -> str:
    """Explain in words how shape ``got`` differs from ``expected`` (``None`` = any size).

    Returns ``""`` when they agree. ``layout`` names the axes of ``expected``. The words are
    :func:`lstm_ref.diagnose.explain_mismatch`'s, without the code that would repair the array:
    here that code is the graded answer.

    >>> diagnose_shape((26, 7), (26, 5, 7))
    'the time_steps axis (axis 1) is missing: each sample is a single row, with no time axis. An LSTM reads a sequence per sample; give every sample its own window of 5 time steps'
    >>> diagnose_shape((26, 35), (26, 5, 7))
    'time_steps and features are flattened into one axis of 35 = 5 × 7; keep them as two separate axes'
    >>> diagnose_shape((5, 26, 7), (26, 5, 7))
    'the axes are in the wrong order: it looks like (time_steps, batch, features), the PyTorch default layout (batch_first=False); reorder them with a transpose, not a reshape'
    >>> diagnose_shape((25, 5, 7), (26, 5, 7))  # doctest: +ELLIPSIS
    'axis 0 (batch) is 25, expected 26: one window short. The classic create_dataset loops over range(N - look_back - 1) and drops the last window; ...'
    """
    got, expected = tuple(got), tuple(expected)
    return "" if fits(got, expected) else explain_mismatch(got, expected, tuple(layout), fix=False)


def assert_close(
    got,
    expected,
    what: str = "output",
    atol: float = 1e-6,
    rtol: float = 0.0,
    layout: Sequence[str] | None = None,
    hint: str = "",
) -> None:
    """Assert ``|got - expected| <= atol + rtol * |expected|`` everywhere; report the worst entry.

    ``got`` and ``expected`` are arrays (or tensors) of the same shape; ``layout`` optionally
    names the axes so the worst entry reads ``batch=1, hidden_size=2``.

    >>> import numpy as np
    >>> assert_close(np.array([[0.1, 0.2]]), np.array([[0.1, 0.5]]), what="h", layout=("batch", "hidden_size"))
    Traceback (most recent call last):
    ...
    AssertionError: Your h differs from the reference: max abs error 0.3 at batch=0, hidden_size=1 (got 0.2, expected 0.5); allowed 1e-06
    """
    g = np.asarray(to_numpy(got), dtype=np.float64)
    e = np.asarray(to_numpy(expected), dtype=np.float64)
    if layout is not None:
        assert_shape(g, e.shape, layout, what)
    elif g.shape != e.shape:
        msg = _("Your {what} has shape {shape} but it should have shape {want}")
        raise AssertionError(msg.format(what=what, shape=g.shape, want=e.shape))
    if g.size and not np.isfinite(g).all():
        msg = _("Your {what} contains NaN or inf; an overflowing exp or a division by zero?")
        raise AssertionError(msg.format(what=what))
    err = np.abs(g - e)
    excess = err - (atol + rtol * np.abs(e))
    if g.size == 0 or excess.max() <= 0:
        return
    idx = np.unravel_index(int(np.argmax(excess)), g.shape)
    names = layout if layout is not None else [f"axis{k}" for k in range(g.ndim)]
    where = (
        ", ".join(f"{n}={int(i)}" for n, i in zip(names, idx, strict=False)) if idx else _("the only entry")
    )
    tol = f"{atol:g}" + (f" + {rtol:g} * |expected|" if rtol else "")
    msg = _(
        "Your {what} differs from the reference: max abs error {error} at {where} "
        "(got {got}, expected {want}); allowed {tol}"
    )
    msg = msg.format(
        what=what, error=f"{err[idx]:.3g}", where=where, got=f"{g[idx]:.6g}", want=f"{e[idx]:.6g}", tol=tol
    )
    if (bad := int((excess > 0).sum())) > 1:
        msg = _("{msg}; {bad} of {n} entries are off").format(msg=msg, bad=bad, n=g.size)
    raise AssertionError(_("{msg}. Hint: {hint}").format(msg=msg, hint=hint) if hint else msg)


def assert_param_count(
    got, expected: int, hidden_size: int, what: str = "parameter count", *, framework: str | None = None
) -> None:
    """Assert an LSTM parameter count and name the classic slips: a bias counted once or twice, every
    bias missing (``bias=False``), layer ``k > 0`` given ``features`` inputs, the 4 gates, T counted.

    ``framework`` (``"torch"`` or ``"keras"``) is read from ``what`` when not given. The slips are
    recognised by trying the stacks of LSTM layers (and a Dense/Linear head) whose count is ``expected``.

    >>> assert_param_count(416, 448, hidden_size=8, what="torch parameter count")
    Traceback (most recent call last):
    ...
    AssertionError: Your torch parameter count is 416 but it should be 448: 32 short, exactly 4 x hidden_size: PyTorch keeps two bias vectors (bias_ih and bias_hh), Keras only one
    >>> assert_param_count(841, 1001, hidden_size=8, what="torch count")  # 2 layers on 3 features
    Traceback (most recent call last):
    ...
    AssertionError: Your torch count is 841 but it should be 1001: 160 short: layer 1 reads the previous layer's output, so its input width is hidden = 8, not features = 3 (4 x 8 x (8 - 3) = 160 weights)
    """
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        msg = _("Your {what} should be an int, got {kind} {value}")
        raise AssertionError(msg.format(what=what, kind=type(got).__name__, value=repr(got)))
    got = int(got)
    if got == expected:
        return
    diff, h4 = expected - got, 4 * hidden_size
    if framework not in (None, "torch", "keras"):
        raise ValueError(
            _("framework must be 'torch', 'keras' or None, got {value}").format(value=repr(framework))
        )
    frameworks = [framework] if framework else [f for f in ("torch", "keras") if f in what.lower()]
    reasons = [r for fw in frameworks or ["torch", "keras"] for r in _slips(diff, expected, hidden_size, fw)]
    amount = _amount(diff)
    if reasons:
        why = _("; or ").join(dict.fromkeys(reasons))
    elif got > 0 and got * 4 == expected:
        why = _("4 times too small: an LSTM has 4 gates (i, f, g, o), each with its own weights and bias")
    elif diff > 0 and diff % h4 == 0:
        why = _("{amount}, a multiple of 4 x hidden_size: did you miss a bias, a layer or a direction?")
        why = why.format(amount=amount)
    elif diff < 0 and (-diff) % h4 == 0:
        why = _("{amount}, a multiple of 4 x hidden_size: count the inputs of each layer again")
        why = why.format(amount=amount)
    else:
        why = _("remember the 4 gates, the input and recurrent weights, the biases, and that T never counts")
    what = _("parameter count") if what == "parameter count" else what  # the default, in the learner's words
    msg = _("Your {what} is {got} but it should be {expected}: {why}")
    raise AssertionError(msg.format(what=what, got=got, expected=expected, why=why))


def _stacks(expected: int, h: int, framework: str) -> set[tuple[int, int, int]]:
    """``(layers, directions, features)`` of every stack of LSTM layers with ``h`` units, topped by a
    Dense/Linear head of 0 to 4 outputs, whose parameter count in ``framework`` is ``expected``."""
    per, found = 4 * h, set()  # weights per input of a layer and direction: 4 gates of h units
    for layers, d, outs in itertools.product(range(1, 7), (1, 2), range(5)):
        lstm = param_count(1, h, framework=framework, num_layers=layers, bidirectional=d == 2)
        rest = expected - outs * (d * h + 1) - (lstm - d * per)  # what the features' weights must fill
        if rest > 0 and rest % (d * per) == 0:
            found.add((layers, d, rest // (d * per)))
    return found


def _amount(diff: int) -> str:
    """How far a count is off: ``"32 short"`` or ``"32 too many"``."""
    return _("{n} short").format(n=diff) if diff > 0 else _("{n} too many").format(n=-diff)


def _slips(diff: int, expected: int, h: int, fw: str) -> list[str]:
    """The slips that explain a ``fw`` count ``diff`` short of ``expected``, for the first stack of
    :func:`_stacks` that any slip explains, fewest features first (a large ``features`` absorbs layers)."""
    amount, h4, out = _amount(diff), 4 * h, []
    for f, layers, d in sorted((f, layers, d) for layers, d, f in _stacks(expected, h, fw)):
        ld, each = layers * d, ngettext("{n} layer", "{n} layers", layers).format(n=layers)
        each = _("{layers} x 2 directions").format(layers=each) if d == 2 else each
        exact = _("exactly 4 x hidden_size per layer and direction ({n} of them)").format(n=ld)
        exact = _("exactly 4 x hidden_size") if ld == 1 else exact
        if diff == ld * h4 * (2 if fw == "torch" else 1):
            msg = _(
                "{amount}, exactly every bias of {each} ({bias}, per layer and direction). "
                "Is the bias missing ({flag})? The expected count includes the biases"
            )
            bias = _("bias_ih and bias_hh, 4 x hidden_size each") if fw == "torch" else None
            bias = bias or _("one bias vector of 4 x hidden_size")
            flag = "bias=False" if fw == "torch" else "use_bias=False"
            out.append(msg.format(amount=amount, each=each, bias=bias, flag=flag))
        if fw == "torch" and diff == ld * h4:
            msg = _("{amount}, {exact}: PyTorch keeps two bias vectors (bias_ih and bias_hh), Keras only one")
            out.append(msg.format(amount=amount, exact=exact))
        if fw == "keras" and diff == -ld * h4:
            msg = _("{amount}, {exact}: Keras has one bias vector, not two")
            out.append(msg.format(amount=amount, exact=exact))
        for width, name in [(f, "features")] + [(h, "hidden")] * (d == 2):
            if layers > 1 and diff == (layers - 1) * d * h4 * (d * h - width) != 0:
                out.append(_layer_input(amount, layers, d, h, width, name))
        if out:
            return out
    return out


def _layer_input(amount: str, layers: int, d: int, h: int, width: int, name: str) -> str:
    """Layer ``k > 0`` counted with ``width`` (``features``, or one direction's ``hidden``) inputs."""
    if layers == 2:
        msg = _(
            "{amount}: layer 1 reads the previous layer's output, so its input width is {right}, "
            "not {name} = {width} ({formula} = {n} weights)"
        )
    else:
        msg = _(
            "{amount}: layers 1 to {last} read the previous layer's output, so their input width is {right}, "
            "not {name} = {width} ({formula} = {n} weights)"
        )
    right = _("2*hidden = {n} (both directions)").format(n=2 * h) if d == 2 else f"hidden = {h}"
    times = f"{layers - 1} x " * (layers > 2) + "2 x " * (d == 2)
    n = abs((layers - 1) * d * 4 * h * (d * h - width))
    formula = f"{times}4 x {h} x ({d * h} - {width})"
    return msg.format(
        amount=amount, last=layers - 1, right=right, name=name, width=width, formula=formula, n=n
    )


def numeric_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f()`` with respect to the array ``x``.

    ``x`` (any shape, float64 for accuracy) is perturbed in place and restored; ``f`` takes no
    arguments and reads ``x``. The result has the shape of ``x``. This is
    :func:`lstm_ref.numpy.numerical_gradient` (CS231n's form, ``f(x)`` weighted by ``dout``)
    for a scalar ``f``.

    >>> import numpy as np
    >>> x = np.array([1.0, 2.0])
    >>> np.round(numeric_gradient(lambda: float((x**2).sum()), x), 6)
    array([2., 4.])
    """
    return numerical_gradient(lambda _x: f(), x, 1.0, eps)
