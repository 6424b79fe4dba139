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

from collections.abc import Callable, Sequence

import numpy as np

from lstm_ref._checks import to_numpy
from lstm_ref.diagnose import BTF, assert_shape, explain_mismatch, fits
from lstm_ref.numpy import numerical_gradient

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
        raise AssertionError(f"Your {what} has shape {g.shape} but it should have shape {e.shape}")
    if g.size and not np.isfinite(g).all():
        raise AssertionError(f"Your {what} contains NaN or inf; an overflowing exp or a division by zero?")
    err = np.abs(g - e)
    excess = err - (atol + rtol * np.abs(e))
    if g.size == 0 or excess.max() <= 0:
        return
    idx = np.unravel_index(int(np.argmax(excess)), g.shape)
    names = layout if layout is not None else [f"axis{k}" for k in range(g.ndim)]
    where = ", ".join(f"{n}={int(i)}" for n, i in zip(names, idx, strict=False)) if idx else "the only entry"
    tol = f"{atol:g}" + (f" + {rtol:g} * |expected|" if rtol else "")
    bad = int((excess > 0).sum())
    many = f"; {bad} of {g.size} entries are off" if bad > 1 else ""
    msg = (
        f"Your {what} differs from the reference: max abs error {err[idx]:.3g} at {where} "
        f"(got {g[idx]:.6g}, expected {e[idx]:.6g}); allowed {tol}{many}"
    )
    raise AssertionError(msg + (f". Hint: {hint}" if hint else ""))


def assert_param_count(got, expected: int, hidden_size: int, what: str = "parameter count") -> None:
    """Assert an LSTM parameter count and name the classic slips (bias counted once or twice, T counted).

    >>> assert_param_count(416, 448, hidden_size=8, what="torch parameter count")
    Traceback (most recent call last):
    ...
    AssertionError: Your torch parameter count is 416 but it should be 448: 32 short, exactly 4 x hidden_size: PyTorch keeps two bias vectors (bias_ih and bias_hh), Keras only one
    """
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        raise AssertionError(f"Your {what} should be an int, got {type(got).__name__} {got!r}")
    got = int(got)
    if got == expected:
        return
    diff = expected - got
    h4 = 4 * hidden_size
    if diff == h4:
        why = (
            f"{diff} short, exactly 4 x hidden_size: PyTorch keeps two bias vectors (bias_ih and bias_hh), "
            "Keras only one"
        )
    elif diff == -h4:
        why = f"{-diff} too many, exactly 4 x hidden_size: Keras has one bias vector, not two"
    elif got > 0 and got * 4 == expected:
        why = "4 times too small: an LSTM has 4 gates (i, f, g, o), each with its own weights and bias"
    elif diff > 0 and diff % h4 == 0:
        why = f"{diff} short, a multiple of 4 x hidden_size: did you miss a bias, a layer or a direction?"
    elif diff < 0 and (-diff) % h4 == 0:
        why = f"{-diff} too many, a multiple of 4 x hidden_size: count the inputs of each layer again"
    else:
        why = "remember the 4 gates, the input and recurrent weights, the biases, and that T never counts"
    raise AssertionError(f"Your {what} is {got} but it should be {expected}: {why}")


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
