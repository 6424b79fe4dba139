"""Input validation shared by every public entry point of ``lstm_ref``, and its one ``to_numpy``.

Each check raises a ``ValueError`` that names the expected layout and the shape it received.
The shape checks take their words from :mod:`lstm_ref.diagnose` (the same sentences as the
exercises' feedback and the traces), so the classic mistakes come with their fix.

- :func:`to_numpy`: a NumPy array from an array, a list, or a tensor of any framework;
- :func:`as_float_array`: numbers only, no NaN or inf;
- :func:`check_int`: the integer check (``minimum=1`` is the positive-integer check);
- :func:`check_shape`, :func:`check_sequence`, :func:`check_state`: shapes of ``x`` and ``h0``/``c0``;
- :func:`check_state_dict`: the keys and shapes of a weight dict;
- :func:`check_targets`: targets that Keras would broadcast against the output (no error, wrong loss).

Nothing here imports torch or TensorFlow: checks work on plain shapes, so the framework modules
reuse them on tensors via ``tuple(t.shape)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from lstm_ref.diagnose import BTF, STATE, TBF, diagnose, layout_str, lib_of
from lstm_ref.i18n import _


def to_numpy(value, *, copy: bool = False) -> np.ndarray:
    """``value`` as a NumPy array: a torch tensor is detached and moved to the CPU first.

    Works for NumPy arrays, lists, torch tensors (on any device, with or without gradients) and
    Keras/TensorFlow tensors and variables (``.numpy()``), without importing any framework.
    ``copy=True`` always returns a new array; otherwise an array comes back as it is.

    >>> to_numpy([1.0, 2.0])
    array([1., 2.])
    >>> a = np.zeros(2)
    >>> to_numpy(a) is a, to_numpy(a, copy=True) is a
    (True, False)
    """
    if hasattr(value, "detach"):  # torch.Tensor
        value = value.detach().cpu().numpy()
    elif hasattr(value, "numpy") and not isinstance(value, np.ndarray):  # tf.Tensor, keras.Variable
        value = value.numpy()
    return np.array(value, copy=True) if copy else np.asarray(value)


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating NumPy array; reject non-numeric data, NaN and inf.

    Integer and boolean input becomes float64; float32/float64 keep their dtype.

    >>> as_float_array([1, 2]).dtype
    dtype('float64')
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        msg = _("{name} must be a numeric array, could not convert it: {error}")
        raise ValueError(msg.format(name=name, error=exc)) from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        msg = _(
            "{name} must hold numbers, got dtype {dtype} "
            "(strings or objects? convert with np.asarray(x, dtype=np.float32) after cleaning)"
        )
        raise ValueError(msg.format(name=name, dtype=arr.dtype))
    # NaN and inf reach the sum, so a finite sum proves a clean array in one pass and no
    # temporary; only a non-finite sum (NaN, inf, or a float overflow) needs the full check.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum() if arr.size else 0.0
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.isfinite(arr).sum())
        msg = _(
            "{name} contains {n} NaN or infinite value(s); an LSTM would spread them "
            "through every later time step. Drop or impute them first."
        )
        raise ValueError(msg.format(name=name, n=bad))
    return arr


def check_shape(
    shape: Sequence[int],
    layout: Sequence[str],
    expected: Mapping[str, int | None],
    name: str = "x",
    hint: str = "",
) -> None:
    """Check that ``shape`` has ``len(layout)`` axes and the sizes in ``expected``.

    ``expected`` maps axis names to sizes; ``None`` (or a missing name) means any size. The
    message is :func:`lstm_ref.diagnose.diagnose`'s, with ``hint`` added at the end; its repair code
    is torch's when ``shape`` is a ``torch.Size`` (pass ``x.shape``), else NumPy's.

    >>> check_shape((4, 10, 3), BTF, {"features": 3})
    >>> check_shape((4, 10, 2), BTF, {"features": 3})
    Traceback (most recent call last):
    ...
    ValueError: x: expected (batch, time_steps, features) = (?, ?, 3), got shape (4, 10, 2): axis 2 (features) is 2, expected 3
    """
    exp = tuple(expected.get(axis) for axis in layout)
    msg = diagnose(tuple(int(s) for s in shape), exp, tuple(layout), name=name, lib=lib_of(shape))
    if msg is not None:
        raise ValueError(_("{msg}; {hint}").format(msg=msg, hint=hint) if hint else msg)


def check_sequence(
    shape: Sequence[int], features: int, batch_first: bool = True, name: str = "x"
) -> tuple[int, int]:
    """Check a 3-D sequence batch and return ``(batch, time_steps)``.

    ``batch_first=True`` means ``(batch, time_steps, features)`` (Keras, and
    PyTorch with ``batch_first=True``); otherwise ``(time_steps, batch, features)``.

    >>> check_sequence((5, 7, 3), features=3)
    (5, 7)
    >>> check_sequence((5, 3), features=3)
    Traceback (most recent call last):
    ...
    ValueError: x: expected (batch, time_steps, features) = (?, ?, 3), got shape (5, 3): the time_steps axis (axis 1) is missing: each sample is a single row, with no time axis. An LSTM reads a sequence per sample: cut windows with lstm_ref.data.make_windows(series, look_back=...); x.reshape(5, 1, 3) gives one time step per sample: the LSTM has nothing to recur over
    """
    check_shape(shape, BTF if batch_first else TBF, {"features": features}, name)
    shape = tuple(int(s) for s in shape)
    return (shape[0], shape[1]) if batch_first else (shape[1], shape[0])


def check_state(
    shape: Sequence[int],
    layers_dirs: int,
    batch: int,
    hidden: int,
    name: str = "h0",
) -> None:
    """Check an initial state ``h0``/``c0`` of shape ``(num_layers*num_directions, batch, hidden)``.

    This layout holds whatever ``batch_first`` says; the classic mistake of
    passing ``(batch, num_layers*num_directions, hidden)`` is named.

    >>> check_state((2, 4, 5), layers_dirs=2, batch=4, hidden=5)
    >>> check_state((4, 2, 5), layers_dirs=2, batch=4, hidden=5)
    Traceback (most recent call last):
    ...
    ValueError: h0: expected (num_layers*num_directions, batch, hidden_size) = (2, 4, 5), got shape (4, 2, 5): the axes are in the wrong order: it looks like (batch, num_layers*num_directions, hidden_size); the state is never batch-first, even with batch_first=True; use x.transpose(1, 0, 2) (torch: x.permute(1, 0, 2).contiguous())
    """
    sizes = {"num_layers*num_directions": layers_dirs, "batch": batch, "hidden_size": hidden}
    check_shape(shape, STATE, sizes, name)


def check_state_dict(
    state_dict: Mapping[str, object], expected: Mapping[str, tuple[int, ...]], what: str = "LSTM"
) -> None:
    """Check that ``state_dict`` has exactly the keys and shapes of ``expected``.

    Values may be NumPy arrays or tensors (anything with ``.shape``).

    >>> check_state_dict({"w": np.zeros((2, 3))}, {"w": (2, 3)})
    >>> check_state_dict({}, {"w": (2, 3)})
    Traceback (most recent call last):
    ...
    ValueError: state dict does not fit this LSTM: missing keys ['w']
    """
    missing = sorted(set(expected) - set(state_dict))
    extra = sorted(set(state_dict) - set(expected))
    problems = [_("missing keys {keys}").format(keys=missing)] if missing else []
    if extra:
        no_bias = any(k.startswith("bias") for k in extra) and not any(k.startswith("bias") for k in expected)
        msg = (
            _("unexpected keys {keys} (this LSTM has bias=False)") if no_bias else _("unexpected keys {keys}")
        )
        problems.append(msg.format(keys=extra))
    for key in sorted(set(expected) & set(state_dict)):
        got, want = tuple(int(s) for s in np.shape(state_dict[key])), tuple(expected[key])
        if got != want and len(got) == 2 and got[::-1] == want:
            msg = _(
                "{key} has shape {got}, expected {want} (transposed? Keras kernels are (in, 4H); torch weights are (4H, in))"
            )
            problems.append(msg.format(key=key, got=got, want=want))
        elif got != want:
            problems.append(_("{key} has shape {got}, expected {want}").format(key=key, got=got, want=want))
    if problems:
        msg = _("state dict does not fit this {what}: {problems}")
        raise ValueError(msg.format(what=what, problems=_("; ").join(problems)))


def check_int(value, name: str, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int; reject floats, bools and values below ``minimum``.

    The package's one integer check: ``check_int(n, "hidden_size", minimum=1)`` is the
    positive-integer check.

    >>> check_int(5, "look_back", minimum=1)
    5
    >>> check_int(0, "look_back", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: look_back must be a positive integer, got 0
    """
    if minimum == 1:
        want = _("a positive integer")
    else:
        want = _("an integer") if minimum is None else _("an integer >= {minimum}").format(minimum=minimum)
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        msg = _("{name} must be {want}, got {value} ({kind})")
        raise ValueError(msg.format(name=name, want=want, value=repr(value), kind=type(value).__name__))
    if minimum is not None and value < minimum:
        raise ValueError(_("{name} must be {want}, got {value}").format(name=name, want=want, value=value))
    return int(value)


def _drop_trailing_ones(shape: Sequence[int | None]) -> tuple[int | None, ...]:
    shape = tuple(shape)
    while shape and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def _tup(shape: Sequence[int | None]) -> str:
    return str(tuple(shape)).replace("None", "?")


def check_targets(output_shape, y, *, sparse_labels: bool = False) -> None:
    """Raise ``ValueError`` unless targets ``y`` line up with a model's output, sample by sample.

    Keras 3 brings a prediction and its target to the same rank before the loss: it squeezes or
    adds a last axis of size 1, then broadcasts. A many-to-one target ``y (N, 1)`` against a
    ``return_sequences=True`` output ``(N, T, 1)`` therefore trains with **no error**, on the mean
    of the loss at every time step instead of the last one. This check refuses exactly the pairs
    that would be broadcast: the per-sample shapes must be equal once trailing axes of size 1 are
    ignored (a ``(N,)`` target against a ``(N, 1)`` output is fine).

    Args:
        output_shape: the model's output shape, batch first, ``None`` for an unknown size
            (``model.output_shape``), e.g. ``(None, T, 1)`` or ``(None, 1)``.
        y: the targets (an array/tensor or its shape), batch first: ``(N, ...)``.
        sparse_labels: integer class labels for a softmax output ``(batch, ..., classes)``
            (``sparse_categorical_crossentropy``): then ``y`` has no class axis.

    >>> check_targets((None, 1), (128, 1))  # many-to-one, one target per sample
    >>> check_targets((None, 10, 1), (128, 10))  # one target per time step
    >>> check_targets((None, 10, 1), (128, 1))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: targets y (128, 1) do not fit the model's output (batch, time_steps, units) = (?, 10, 1): ...
    """
    out = tuple(getattr(output_shape, "shape", output_shape))
    got = tuple(int(s) for s in getattr(y, "shape", y))
    if len(out) < 2:
        msg = _("output_shape {shape}: expected (batch, ...) with at least one axis per sample")
        raise ValueError(msg.format(shape=out))
    if len(got) < 1:
        raise ValueError(_("targets y {shape}: expected (batch, ...), got a scalar").format(shape=got))
    names = ("batch", *(f"axis {i}" for i in range(1, len(out) - 1)), "units")
    if len(out) == 3:
        names = ("batch", "time_steps", "units")
    head = _("targets y {got} do not fit the model's output {layout}: {reason}")
    where = {"got": got, "layout": layout_str(names, dict(zip(names, out, strict=True)))}
    if out[0] is not None and got[0] != out[0]:
        msg = _("{n} samples in y, {m} in the output").format(n=got[0], m=out[0])
        raise ValueError(head.format(**where, reason=msg))
    per_out = out[1:-1] if sparse_labels else out[1:]
    if _drop_trailing_ones(got[1:]) == _drop_trailing_ones(per_out):
        return
    if not sparse_labels and len(out) == 3 and _drop_trailing_ones(got[1:]) == _drop_trailing_ones(out[2:]):
        raise ValueError(head.format(**where, reason=_one_target_per_sample(out, got[0])))
    want = ", ".join("?" if s is None else str(s) for s in per_out)
    if sparse_labels:
        msg = _("per sample the output is {out} and y is {y}; expected y of shape {shape} (integer labels)")
    else:
        msg = _("per sample the output is {out} and y is {y}; expected y of shape {shape}")
    shape = f"({got[0]},{' ' + want if want else ''})"
    raise ValueError(head.format(**where, reason=msg.format(out=_tup(per_out), y=_tup(got[1:]), shape=shape)))


def _one_target_per_sample(out: tuple, n: int) -> str:
    """Why a ``(N, units)`` target against a ``(N, T, units)`` output is wrong, and the two fixes."""
    steps = "?" if out[1] is None else out[1]
    if out[2] == 1:
        keras_does = _(
            "Keras would broadcast y over the time steps and train on the mean loss of all steps, without an error"
        )
    else:
        keras_does = _("Keras stops with 'Incompatible shapes' inside fit")
    msg = _(
        "the model predicts at every one of the {t} time steps (return_sequences=True) "
        "but y has one target per sample; {keras}. Use return_sequences=False for one "
        "prediction per sample, or give y one target per step, shape {shape}"
    )
    return msg.format(t=steps, keras=keras_does, shape=f"({n}, {steps}, {out[2]})")
