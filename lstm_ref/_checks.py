"""Input validation shared by every public entry point of ``lstm_ref``.

Each check raises a ``ValueError`` that names the expected layout and the
shape it received, and, for the classic mistakes, says how to fix them.
Nothing here imports torch or TensorFlow: checks work on plain shapes, so the
framework modules reuse them on tensors via ``tuple(t.shape)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

BTF = ("batch", "time_steps", "features")
TBF = ("time_steps", "batch", "features")
STATE = ("num_layers*num_directions", "batch", "hidden_size")


def layout_str(layout: Sequence[str], expected: Mapping[str, int | None] | None = None) -> str:
    """Render a layout such as ``(batch, time_steps, features) = (?, ?, 3)``.

    >>> layout_str(BTF, {"features": 3})
    '(batch, time_steps, features) = (?, ?, 3)'
    >>> layout_str(BTF)
    '(batch, time_steps, features)'
    """
    names = "(" + ", ".join(layout) + ")"
    if not expected:
        return names
    vals = ["?" if expected.get(n) is None else str(expected[n]) for n in layout]
    return f"{names} = ({', '.join(vals)})"


def as_float_array(x, name: str = "x") -> np.ndarray:
    """Return ``x`` as a floating NumPy array; reject non-numeric data, NaN and inf.

    Integer and boolean input becomes float64; float32/float64 keep their dtype.

    >>> as_float_array([1, 2]).dtype
    dtype('float64')
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be a numeric array, could not convert it: {exc}") from exc
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise ValueError(
            f"{name} must hold numbers, got dtype {arr.dtype} "
            "(strings or objects? convert with np.asarray(x, dtype=np.float32) after cleaning)"
        )
    # NaN and inf reach the sum, so a finite sum proves a clean array in one pass and no
    # temporary; only a non-finite sum (NaN, inf, or a float overflow) needs the full check.
    with np.errstate(over="ignore", invalid="ignore"):
        total = arr.sum() if arr.size else 0.0
    if not np.isfinite(total) and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.isfinite(arr).sum())
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); an LSTM would spread them "
            "through every later time step. Drop or impute them first."
        )
    return arr


def check_shape(
    shape: Sequence[int],
    layout: Sequence[str],
    expected: Mapping[str, int | None],
    name: str = "x",
    hint: str = "",
) -> None:
    """Check that ``shape`` has ``len(layout)`` axes and the sizes in ``expected``.

    ``expected`` maps axis names to sizes; ``None`` (or a missing name) means any size.

    >>> check_shape((4, 10, 3), BTF, {"features": 3})
    >>> check_shape((4, 10, 2), BTF, {"features": 3})
    Traceback (most recent call last):
    ...
    ValueError: x: expected (batch, time_steps, features) = (?, ?, 3), got shape (4, 10, 2): features is 2, expected 3
    """
    shape = tuple(int(s) for s in shape)
    want = layout_str(layout, expected)
    if len(shape) != len(layout):
        msg = f"{name}: expected {want}, got shape {shape}: a {len(shape)}-D array, expected {len(layout)}-D"
        raise ValueError(msg + (f"; {hint}" if hint else ""))
    wrong = [
        f"{ax} is {s}, expected {expected[ax]}"
        for ax, s in zip(layout, shape, strict=True)
        if expected.get(ax) is not None and s != expected[ax]
    ]
    if wrong:
        msg = f"{name}: expected {want}, got shape {shape}: " + "; ".join(wrong)
        raise ValueError(msg + (f"; {hint}" if hint else ""))


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
    ValueError: x: expected (batch, time_steps, features) = (?, ?, 3), got shape (5, 3): a 2-D array has no time axis; use x.reshape(5, 1, 3) for one time step each, or make_windows(series, look_back) for windows of a series
    """
    shape = tuple(int(s) for s in shape)
    layout = BTF if batch_first else TBF
    want = layout_str(layout, {"features": features})
    if len(shape) == 2:
        n, f = shape
        fix = f"x.reshape({n}, 1, {f})" if batch_first else f"x.reshape(1, {n}, {f})"
        raise ValueError(
            f"{name}: expected {want}, got shape {shape}: a 2-D array has no time axis; "
            f"use {fix} for one time step each, or make_windows(series, look_back) "
            "for windows of a series"
        )
    if len(shape) == 1:
        raise ValueError(
            f"{name}: expected {want}, got shape {shape}: a 1-D array is a bare series; "
            "cut it into windows with lstm_ref.data.make_windows(series, look_back)"
        )
    hint = ""
    if len(shape) == 3 and shape[-1] != features and features in shape[:2]:
        hint = (
            "the features axis must be last; if your array is (batch, features, time_steps) "
            "use x.transpose(0, 2, 1)"
        )
    check_shape(shape, layout, {"features": features}, name, hint)
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
    ValueError: h0: expected (num_layers*num_directions, batch, hidden_size) = (2, 4, 5), got shape (4, 2, 5): it looks like (batch, num_layers*num_directions, hidden_size); the state is never batch-first, even with batch_first=True; use h0.transpose(1, 0, 2) (torch: h0.permute(1, 0, 2).contiguous())
    """
    shape = tuple(int(s) for s in shape)
    exp = {"num_layers*num_directions": layers_dirs, "batch": batch, "hidden_size": hidden}
    want = layout_str(STATE, exp)
    if shape == (layers_dirs, batch, hidden):
        return
    if shape == (batch, layers_dirs, hidden):
        raise ValueError(
            f"{name}: expected {want}, got shape {shape}: it looks like "
            "(batch, num_layers*num_directions, hidden_size); the state is never batch-first, "
            "even with batch_first=True; use h0.transpose(1, 0, 2) "
            "(torch: h0.permute(1, 0, 2).contiguous())"
        )
    if len(shape) == 2 and shape == (batch, hidden):
        raise ValueError(
            f"{name}: expected {want}, got shape {shape}: the layer axis is missing; "
            f"use {name}[None] (or stack one ({batch}, {hidden}) state per layer and direction)"
        )
    check_shape(shape, STATE, exp, name)


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
    problems = []
    if missing:
        problems.append(f"missing keys {missing}")
    if extra:
        hint = ""
        if any(k.startswith("bias") for k in extra) and not any(k.startswith("bias") for k in expected):
            hint = " (this LSTM has bias=False)"
        problems.append(f"unexpected keys {extra}{hint}")
    for key in sorted(set(expected) & set(state_dict)):
        got = tuple(int(s) for s in np.shape(state_dict[key]))
        if got != tuple(expected[key]):
            tip = ""
            if len(got) == 2 and got[::-1] == tuple(expected[key]):
                tip = " (transposed? Keras kernels are (in, 4H); torch weights are (4H, in))"
            problems.append(f"{key} has shape {got}, expected {tuple(expected[key])}{tip}")
    if problems:
        raise ValueError(f"state dict does not fit this {what}: " + "; ".join(problems))


def check_int(value, name: str, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int; reject floats, bools and values below ``minimum``.

    >>> check_int(5, "look_back", minimum=1)
    5
    >>> check_int(0, "look_back", minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: look_back must be an integer >= 1, got 0
    """
    want = "an integer" + (f" >= {minimum}" if minimum is not None else "")
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be {want}, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be {want}, got {value}")
    return int(value)
