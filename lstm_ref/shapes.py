"""LSTM shapes and parameter counts for Keras and PyTorch, computed without either framework.

- :func:`param_count`, :func:`torch_param_shapes`, :func:`keras_weight_shapes`:
  how many weights an LSTM has and where they live.
- :func:`keras_lstm_shapes`, :func:`torch_lstm_shapes`: the input, output and
  state shapes of ``keras.layers.LSTM`` and ``torch.nn.LSTM``.
- :func:`check_targets`: targets that Keras would broadcast against the output (no error, wrong loss).
- :func:`describe`, :func:`diagnose`, :func:`assert_shape`: a shape in words,
  and which axis of a wrong shape is wrong (the classic mistakes are named).
  The exercises build their feedback from these.

Every result here is checked against the real frameworks in ``tests/test_shapes.py``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from lstm_ref._checks import STATE, check_int, layout_str

FRAMEWORKS = ("keras", "torch")
MERGE_MODES = ("concat", "sum", "mul", "ave", None)

#: Named layouts accepted wherever a ``layout`` argument is expected (or pass a tuple of axis names).
LAYOUTS: dict[str, tuple[str, ...]] = {
    "btf": ("batch", "time_steps", "features"),
    "tbf": ("time_steps", "batch", "features"),
    "bth": ("batch", "time_steps", "hidden_size"),
    "tbh": ("time_steps", "batch", "hidden_size"),
    "bh": ("batch", "hidden_size"),
    "state": STATE,
    "windows": ("windows", "time_steps", "features"),
    "targets": ("windows", "horizon"),
    "series": ("time_steps", "features"),
}

_WORDS = {
    "batch": ("sample", "samples"),
    "windows": ("window", "windows"),
    "time_steps": ("time step", "time steps"),
    "features": ("feature", "features"),
    "hidden_size": ("hidden unit", "hidden units"),
    "units": ("unit", "units"),
    "horizon": ("future step", "future steps"),
    "targets": ("target", "targets"),
    "num_layers*num_directions": ("layer/direction pair", "layer/direction pairs"),
}
_BATCH_AXES = ("batch", "samples", "windows")

Dim = int | None
Shape = tuple[Dim, ...]


def _framework(framework: str) -> str:
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return framework


def _dim(value, name: str) -> Dim:
    """A size that may be unknown (None), as for batch and time steps."""
    return None if value is None else check_int(value, name, minimum=1)


def _lstm_sizes(
    input_size, hidden_size, num_layers, proj_size, *, keras: bool = False, input_name: str = "input_size"
) -> tuple[int, int, int, int]:
    """Validated ``(input_size, hidden_size, num_layers, proj_size)`` of an LSTM configuration."""
    f_in = check_int(input_size, input_name, minimum=1)
    h = check_int(hidden_size, "hidden_size", minimum=1)
    num_layers = check_int(num_layers, "num_layers", minimum=1)
    proj_size = check_int(proj_size, "proj_size", minimum=0)
    if proj_size and keras:
        raise ValueError("proj_size exists only in torch.nn.LSTM; Keras LSTM has no projection")
    if proj_size >= h:
        raise ValueError(f"proj_size must be smaller than hidden_size = {h}, got {proj_size}")
    return f_in, h, num_layers, proj_size


def param_count(
    input_size: int,
    hidden_size: int,
    *,
    framework: str,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    proj_size: int = 0,
) -> int:
    """Number of trainable parameters of an LSTM (stack), for Keras or PyTorch.

    Per layer and direction, with ``F`` inputs and ``H`` units:

    - Keras ``LSTM(H)``: ``4H(F + H) + 4H`` (one bias vector);
    - PyTorch ``nn.LSTM(F, H)``: ``4H(F + H) + 8H`` (``bias_ih`` and ``bias_hh``).

    Layer ``k > 0`` takes ``H * num_directions`` inputs. For Keras, a stack of
    ``num_layers`` layers means ``num_layers`` ``LSTM`` (or, with
    ``bidirectional``, ``Bidirectional(LSTM)`` with ``merge_mode="concat"``)
    layers; the count is their sum. The count never depends on the number of
    time steps or the batch size. ``bias=False`` drops the bias terms
    (Keras ``use_bias=False``).

    ``proj_size = P > 0`` (PyTorch only; Keras has no projection) projects
    ``h`` from ``H`` down to ``P`` values with ``weight_hr`` ``(P, H)``, which has
    no bias. ``h`` is then ``P`` wide, so ``weight_hh`` is ``(4H, P)`` and layer
    ``k > 0`` takes ``P * num_directions`` inputs; ``c`` stays ``H`` wide. Per layer
    and direction: ``4H(F_k + P) + 8H + PH``.

    Args:
        input_size: ``F``, features per time step.
        hidden_size: ``H``, Keras ``units``.
        framework: ``"keras"`` or ``"torch"``.
        num_layers: stacked layers (each one bidirectional if ``bidirectional``).
        bidirectional: two directions per layer, outputs concatenated.
        bias: with bias vectors (PyTorch ``bias``, Keras ``use_bias``).
        proj_size: ``P``, PyTorch's ``proj_size`` (``0 <= P < H``); 0 means no
            projection. Any other value with ``framework="keras"`` raises ValueError.

    Returns:
        The number of scalar weights, as ``sum(p.numel() for p in lstm.parameters())``
        (PyTorch) or ``model.count_params()`` (Keras) report it.

    >>> param_count(1, 4, framework="keras")
    96
    >>> param_count(1, 4, framework="torch")
    112
    >>> param_count(7, 32, framework="torch", num_layers=2, bidirectional=True)
    35584
    >>> param_count(3, 5, framework="torch", proj_size=2)  # 4*5*(3+2) + 8*5 + 2*5
    150
    >>> param_count(3, 5, framework="keras", proj_size=2)
    Traceback (most recent call last):
        ...
    ValueError: proj_size exists only in torch.nn.LSTM; Keras LSTM has no projection
    """
    fw = _framework(framework)
    f_in, h, num_layers, proj_size = _lstm_sizes(
        input_size, hidden_size, num_layers, proj_size, keras=fw == "keras"
    )
    dirs = 2 if bidirectional else 1
    out = proj_size or h
    total = 0
    for k in range(num_layers):
        f = f_in if k == 0 else out * dirs
        per_direction = 4 * h * (f + out)
        if bias:
            per_direction += 4 * h if fw == "keras" else 8 * h
        per_direction += proj_size * h
        total += dirs * per_direction
    return total


def torch_param_shapes(
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    bias: bool = True,
    proj_size: int = 0,
) -> dict[str, tuple[int, ...]]:
    """Names and shapes of ``torch.nn.LSTM(...).state_dict()``, in PyTorch's order.

    The course's one weight format: ``weight_ih_l{k}`` (4H, in), ``weight_hh_l{k}``
    (4H, H or proj_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (4H,), ``weight_hr_l{k}``
    (proj_size, H) with a projection, and a ``_reverse`` suffix for the backward direction.

    >>> torch_param_shapes(3, 5)
    {'weight_ih_l0': (20, 3), 'weight_hh_l0': (20, 5), 'bias_ih_l0': (20,), 'bias_hh_l0': (20,)}
    """
    f_in, h, num_layers, proj_size = _lstm_sizes(input_size, hidden_size, num_layers, proj_size)
    dirs = 2 if bidirectional else 1
    out = proj_size or h
    shapes: dict[str, tuple[int, ...]] = {}
    for k in range(num_layers):
        f = f_in if k == 0 else out * dirs
        for suffix in ("", "_reverse")[:dirs]:
            shapes[f"weight_ih_l{k}{suffix}"] = (4 * h, f)
            shapes[f"weight_hh_l{k}{suffix}"] = (4 * h, out)
            if bias:
                shapes[f"bias_ih_l{k}{suffix}"] = (4 * h,)
                shapes[f"bias_hh_l{k}{suffix}"] = (4 * h,)
            if proj_size:
                shapes[f"weight_hr_l{k}{suffix}"] = (proj_size, h)
    return shapes


def keras_weight_shapes(
    input_size: int, units: int, *, bidirectional: bool = False, use_bias: bool = True
) -> dict[str, tuple[int, ...]]:
    """Shapes of ``layer.get_weights()`` for one Keras ``LSTM`` (or ``Bidirectional(LSTM)``), in order.

    ``kernel`` (F, 4H), ``recurrent_kernel`` (H, 4H), ``bias`` (4H,); gate
    order i, f, c, o along the 4H axis. A bidirectional layer lists the
    forward layer's weights, then the backward layer's.

    >>> keras_weight_shapes(3, 5)
    {'kernel': (3, 20), 'recurrent_kernel': (5, 20), 'bias': (20,)}
    """
    f = check_int(input_size, "input_size", minimum=1)
    h = check_int(units, "units", minimum=1)
    one = {"kernel": (f, 4 * h), "recurrent_kernel": (h, 4 * h)}
    if use_bias:
        one["bias"] = (4 * h,)
    if not bidirectional:
        return one
    return {f"{d}_{k}": s for d in ("forward", "backward") for k, s in one.items()}


def keras_lstm_shapes(
    batch: int | None,
    time_steps: int | None,
    features: int,
    units: int,
    *,
    return_sequences: bool = False,
    return_state: bool = False,
    bidirectional: bool = False,
    merge_mode: str | None = "concat",
) -> dict[str, Shape]:
    """Input, output and state shapes of ``keras.layers.LSTM(units)`` (optionally ``Bidirectional``).

    ``None`` stands for an unknown batch size or number of time steps, as in
    ``keras.Input(shape=(None, features))``. The returned dict starts with
    ``"input"`` (always ``(batch, time_steps, features)``); the other keys follow
    the order of the list the layer returns:

    - one output ``"output"``: ``(batch, time_steps, H')`` with
      ``return_sequences``, else ``(batch, H')``, where ``H' = 2 * units`` for a
      bidirectional layer with ``merge_mode="concat"`` and ``units`` otherwise;
      ``merge_mode=None`` gives two outputs, ``"output_forward"`` and ``"output_backward"``;
    - with ``return_state``: ``"h"`` and ``"c"``, each ``(batch, units)``; a bidirectional
      layer gives ``"h_forward"``, ``"c_forward"``, ``"h_backward"``, ``"c_backward"``.

    >>> keras_lstm_shapes(32, 10, 3, 8)
    {'input': (32, 10, 3), 'output': (32, 8)}
    >>> keras_lstm_shapes(None, 10, 3, 8, return_sequences=True, return_state=True)
    {'input': (None, 10, 3), 'output': (None, 10, 8), 'h': (None, 8), 'c': (None, 8)}
    """
    b = _dim(batch, "batch")
    t = _dim(time_steps, "time_steps")
    f = check_int(features, "features", minimum=1)
    h = check_int(units, "units", minimum=1)
    if merge_mode not in MERGE_MODES:
        raise ValueError(f"merge_mode must be one of {MERGE_MODES}, got {merge_mode!r}")
    shapes: dict[str, Shape] = {"input": (b, t, f)}

    def out(width: int) -> Shape:
        return (b, t, width) if return_sequences else (b, width)

    if not bidirectional:
        shapes["output"] = out(h)
    elif merge_mode is None:
        shapes["output_forward"] = out(h)
        shapes["output_backward"] = out(h)
    else:
        shapes["output"] = out(2 * h if merge_mode == "concat" else h)
    if return_state:
        for d in ("_forward", "_backward") if bidirectional else ("",):
            shapes[f"h{d}"] = (b, h)
            shapes[f"c{d}"] = (b, h)
    return shapes


def torch_lstm_shapes(
    batch: int | None,
    time_steps: int | None,
    features: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    batch_first: bool = False,
    bidirectional: bool = False,
    proj_size: int = 0,
) -> dict[str, Shape]:
    """Input, output and state shapes of ``torch.nn.LSTM(features, hidden_size, ...)``.

    ``output, (h_n, c_n) = lstm(input)``. With ``D = 2`` if bidirectional else 1
    and ``H_out = proj_size or hidden_size``:

    - ``"input"``: ``(time_steps, batch, features)``, or ``(batch, time_steps, features)``
      with ``batch_first=True``;
    - ``"output"``: ``(time_steps, batch, D * H_out)`` (batch first with ``batch_first``);
    - ``"h_n"``: ``(num_layers * D, batch, H_out)`` and ``"c_n"``:
      ``(num_layers * D, batch, hidden_size)``, **whatever** ``batch_first`` says.
      ``h0`` and ``c0`` have these same shapes.

    ``None`` stands for an unknown batch size or number of time steps.

    >>> torch_lstm_shapes(4, 10, 3, 5, num_layers=2, batch_first=True)
    {'input': (4, 10, 3), 'output': (4, 10, 5), 'h_n': (2, 4, 5), 'c_n': (2, 4, 5)}
    """
    b = _dim(batch, "batch")
    t = _dim(time_steps, "time_steps")
    f, h, num_layers, proj_size = _lstm_sizes(
        features, hidden_size, num_layers, proj_size, input_name="features"
    )
    d = 2 if bidirectional else 1
    h_out = proj_size or h
    lead = (b, t) if batch_first else (t, b)
    return {
        "input": (*lead, f),
        "output": (*lead, d * h_out),
        "h_n": (num_layers * d, b, h_out),
        "c_n": (num_layers * d, b, h),
    }


def _layout(layout: str | Sequence[str]) -> tuple[str, ...]:
    if isinstance(layout, str):
        if layout not in LAYOUTS:
            raise ValueError(
                f"layout must be one of {sorted(LAYOUTS)} or a tuple of axis names, got {layout!r}"
            )
        return LAYOUTS[layout]
    return tuple(layout)


def _shape(shape) -> tuple:
    """Accept a shape tuple or anything with ``.shape`` (NumPy array, tensor)."""
    shape = getattr(shape, "shape", shape)
    return tuple(None if s is None else int(s) for s in shape)


def describe(shape, layout: str | Sequence[str] = "btf") -> str:
    """Say a shape in words, axis by axis.

    Args:
        shape: a shape tuple (``None`` for unknown sizes) or an array/tensor.
        layout: a name from :data:`LAYOUTS` (``"btf"``, ``"tbf"``, ``"state"``,
            ``"windows"``, ...) or a tuple of axis names, one per axis.

    >>> describe((26, 5, 7), "windows")
    '(26, 5, 7) = 26 windows × 5 time steps × 7 features'
    >>> describe((None, 1, 3))
    '(None, 1, 3) = ? samples × 1 time step × 3 features'
    >>> describe((2, 4, 5), "state")
    '(2, 4, 5) = 2 layer/direction pairs × 4 samples × 5 hidden units'
    """
    names = _layout(layout)
    shape = _shape(shape)
    if len(shape) != len(names):
        raise ValueError(
            f"shape {shape} has {len(shape)} axes but the layout {layout_str(names)} has {len(names)}"
        )
    parts = []
    for n, s in zip(names, shape, strict=True):
        one, many = _WORDS.get(n, (n.replace("_", " "), n.replace("_", " ")))
        parts.append(f"{'?' if s is None else s} {one if s == 1 else many}")
    return f"{shape} = " + " × ".join(parts)


def _fits(got: Sequence[int], expected: Sequence[Dim]) -> bool:
    return len(got) == len(expected) and all(e is None or g == e for g, e in zip(got, expected, strict=True))


def _size(s: Dim) -> str:
    return "?" if s is None else str(s)


def _same_rank(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool) -> str:
    n = len(names)
    for perm in itertools.permutations(range(n)):
        if perm == tuple(range(n)):
            continue
        if _fits(got, [exp[p] for p in perm]):
            order = tuple(names[p] for p in perm)
            inverse = tuple(perm.index(i) for i in range(n))
            msg = f"the axes are in the wrong order: it looks like ({', '.join(order)})"
            moved = [names[i] for i in range(n) if perm[i] != i]
            transpose = (
                f"; use x.transpose{inverse}" if fix else "; reorder them with a transpose, not a reshape"
            )
            if "num_layers*num_directions" in moved and "batch" in moved:
                msg += "; the state is never batch-first, even with batch_first=True"
                return msg + (
                    f"; use x.transpose{inverse} (torch: x.permute{inverse}.contiguous())" if fix else ""
                )
            if order[:2] == ("time_steps", "batch"):
                msg += ", the PyTorch default layout (batch_first=False)" + transpose
                if fix:
                    msg += ", or batch_first=True where the model is built"
            elif set(moved) == {"time_steps", "features"}:
                t, f = got[names.index("time_steps")], got[names.index("features")]
                msg += f": {t} time step(s) of {f} feature(s) each"
                if t == 1:
                    msg += (
                        ". The classic X.reshape(n, 1, look_back) puts a whole window on the features "
                        "axis, so the LSTM sees one time step"
                    )
                msg += transpose
            else:
                msg += transpose
            return msg
    pairs = enumerate(zip(got, exp, strict=True))
    wrong = [(i, names[i], g, e) for i, (g, e) in pairs if e is not None and g != e]
    if len(wrong) == 1:
        i, ax, g, e = wrong[0]
        msg = f"axis {i} ({ax}) is {g}, expected {e}"
        windowed = ax != "batch" or "time_steps" in names  # a batch of states is no window count
        if ax in _BATCH_AXES and windowed and g == e - 1:
            return msg + (
                ": one window short. The classic create_dataset loops over range(N - look_back - 1) "
                "and drops the last window; N rows give N - look_back - horizon + 1 windows"
                + (" (lstm_ref.data.make_windows)" if fix else "")
            )
        if ax in _BATCH_AXES and windowed and g == e + 1:
            return msg + (
                ": one window too many. N - look_back + 1 windows exist, but the last one has no "
                "future value to predict: with a horizon of h there are N - look_back - h + 1"
            )
        if ax == "time_steps":
            return msg + f": the windows are {g} steps long; cut them with look_back = {e}"
        return msg
    parts = "; ".join(f"axis {i} ({ax}) is {g}, expected {e}" for i, ax, g, e in wrong)
    if all(e is not None for e in exp) and math.prod(got) == math.prod(exp):
        parts += (
            f" (the {math.prod(got)} values are all there, cut differently: "
            "check look_back and how the array was reshaped)"
        )
    return parts


def _missing_axis(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool) -> str | None:
    # Which axis, once removed, makes the rest fit? With unknown (None) sizes
    # several may; prefer the one whose remaining axes match the most known sizes,
    # then the most common mistake (a missing time axis).
    fits = [i for i in range(len(names)) if _fits(got, exp[:i] + exp[i + 1 :])]
    prefer = ("time_steps", "features")
    fits.sort(
        key=lambda i: (
            -sum(e is not None for e in exp[:i] + exp[i + 1 :]),
            prefer.index(names[i]) if names[i] in prefer else len(prefer),
        )
    )
    if not fits:
        return None
    i = fits[0]
    ax = names[i]
    # the code that inserts a size-1 axis at position i
    insert = "x[None]" if i == 0 else "x[..., None]" if i == len(names) - 1 else f"np.expand_dims(x, {i})"
    head = f"the {ax} axis (axis {i}) is missing"
    use = f"; use {insert}" if fix else ""
    if ax == "time_steps" and exp[i] != 1:
        msg = f"{head}: each sample is a single row, with no time steps. An LSTM reads a sequence per sample"
        steps = "" if exp[i] is None else f" of {exp[i]} time steps"
        if not fix:
            return msg + f"; give every sample its own window{steps}"
        if exp[i] is None:
            return msg + (
                ": cut windows with lstm_ref.data.make_windows(series, look_back=...), "
                f"or use np.expand_dims(x, {i}) for one time step each"
            )
        return msg + f": cut windows with lstm_ref.data.make_windows(series, look_back={exp[i]})"
    if ax == "features" and exp[i] == 1:
        return f"{head}: a single feature still needs its own axis of size 1{use}"
    if ax == "num_layers*num_directions":
        msg = f"{head}: the state has one (batch, hidden_size) slice per layer and direction"
        if exp[i] in (1, None):
            return msg + (f"; use {insert} for a single-layer, one-direction LSTM" if fix else "")
        return (
            msg
            + f"; stack {exp[i]} of them"
            + (" with np.stack([...])" if fix else "")
            + " in the order of the layers"
        )
    if ax in _BATCH_AXES:
        if exp[i] in (1, None):
            return f"{head}: even a single sample needs a batch axis of size 1{use}"
        return f"{head}: expected {exp[i]} samples stacked along axis {i}"
    if exp[i] == 1:
        return head + use
    return head


def _merged_axes(got: tuple, exp: tuple, names: tuple[str, ...], fix: bool) -> str | None:
    for i in range(len(names) - 1):
        a, b = exp[i], exp[i + 1]
        merged = got[i] if i < len(got) else None
        rest_ok = _fits(got[:i] + got[i + 1 :], exp[:i] + exp[i + 2 :])
        if merged is None or not rest_ok:
            continue
        known = [s for s in (a, b) if s is not None]
        if 1 in known:  # merging with an axis of size 1 is the same as missing it
            continue
        if (len(known) == 2 and merged == a * b) or (len(known) == 1 and merged % known[0] == 0):
            target = [*got[:i], -1 if a is None else a, -1 if b is None else b, *got[i + 1 :]]
            how = f"use x.reshape{tuple(target)}" if fix else "keep them as two separate axes"
            return (
                f"{names[i]} and {names[i + 1]} are flattened into one axis of {merged} = "
                f"{_size(a)} × {_size(b)}; {how}"
            )
    return None


def diagnose(
    got_shape, expected_shape, layout: str | Sequence[str] = "btf", *, name: str = "x", fix: bool = True
) -> str | None:
    """Explain what is wrong with a shape, or return ``None`` when it fits.

    Names the wrong axis and recognises the classic mistakes: a missing time
    (or feature, batch, layer) axis, axes flattened together, axes in the wrong
    order (PyTorch's time-major layout, the ``reshape(n, 1, look_back)``
    mix-up, a batch-first ``h0``), a window too few (the off-by-one
    ``create_dataset``) or too many, and an extra axis of size 1.

    Args:
        got_shape: the shape received (a tuple, or an array/tensor).
        expected_shape: the expected shape; ``None`` marks an axis of any size.
        layout: a name from :data:`LAYOUTS` or a tuple of axis names for ``expected_shape``.
        name: what to call the array in the message.
        fix: also say the code that repairs the array (see :func:`explain_mismatch`).

    >>> diagnose((26, 5, 7), (26, 5, 7)) is None
    True
    >>> print(diagnose((26, 7), (26, 5, 7), name="X"))  # doctest: +ELLIPSIS
    X: expected (batch, time_steps, features) = (26, 5, 7), got shape (26, 7): the time_steps axis...
    >>> print(diagnose((25, 5, 1), (26, 5, 1)))  # doctest: +ELLIPSIS
    x: expected ... got shape (25, 5, 1): axis 0 (batch) is 25, expected 26: one window short...
    """
    names = _layout(layout)
    exp = _shape(expected_shape)
    got = _shape(got_shape)
    if len(exp) != len(names):
        raise ValueError(
            f"expected_shape {exp} has {len(exp)} axes but the layout {layout_str(names)} has {len(names)}"
        )
    if _fits(got, exp):
        return None
    head = f"{name}: expected {layout_str(names, dict(zip(names, exp, strict=True)))}, got shape {got}: "
    return head + explain_mismatch(got, exp, names, fix=fix)


def explain_mismatch(got: tuple, exp: tuple, names: tuple[str, ...], *, fix: bool = True) -> str:
    """The reason part of :func:`diagnose`, for shapes known not to fit.

    ``got`` and ``exp`` are shape tuples (``None`` in ``exp`` marks any size), ``names`` the axis
    names of ``exp``. With ``fix=False`` the reason keeps its hint but leaves out the code that
    would repair the array (``x.transpose(...)``, ``x.reshape(...)``, ``make_windows``): the
    exercises' feedback (:mod:`lstm_ref.feedback`) uses it that way, because there the fix is
    the graded answer.

    >>> explain_mismatch((26, 35), (26, 5, 7), ("batch", "time_steps", "features"), fix=False)
    'time_steps and features are flattened into one axis of 35 = 5 × 7; keep them as two separate axes'
    """
    if len(got) == len(exp):
        return _same_rank(got, exp, names, fix)
    if len(got) == len(exp) - 1:
        reasons = [r for r in (_missing_axis(got, exp, names, fix), _merged_axes(got, exp, names, fix)) if r]
        if reasons:  # with unknown sizes both readings can fit; then give both
            return "; or, if not, ".join(reasons)
    if len(got) == len(exp) + 1:
        for i, s in enumerate(got):
            if s == 1 and _fits(got[:i] + got[i + 1 :], exp):
                return f"an extra axis of size 1 at position {i}" + (f"; use x.squeeze({i})" if fix else "")
    return f"a {len(got)}-D array where {len(exp)}-D is expected; {describe(exp, names)}"


def assert_shape(got, expected_shape, layout: str | Sequence[str] = "btf", *, name: str = "x") -> None:
    """Raise ``AssertionError`` with :func:`diagnose`'s explanation unless the shape fits.

    For autograder tests: ``assert_shape(X, (26, 5, 7), "windows", name="X")``.

    >>> assert_shape((4, 3), (4, None, 3))
    Traceback (most recent call last):
    ...
    AssertionError: x: expected (batch, time_steps, features) = (4, ?, 3), got shape (4, 3): the time_steps...
    """
    msg = diagnose(got, expected_shape, layout, name=name)
    if msg is not None:
        raise AssertionError(msg)


def _drop_trailing_ones(shape: tuple) -> tuple:
    while shape and shape[-1] == 1:
        shape = shape[:-1]
    return shape


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
    out = _shape(output_shape)
    got = _shape(y)
    if len(out) < 2:
        raise ValueError(f"output_shape {out}: expected (batch, ...) with at least one axis per sample")
    if len(got) < 1:
        raise ValueError(f"targets y {got}: expected (batch, ...), got a scalar")
    names = (
        ("batch", "time_steps", "units")
        if len(out) == 3
        else ("batch",) + tuple(f"axis {i}" for i in range(1, len(out) - 1)) + ("units",)
    )
    head = f"targets y {got} do not fit the model's output {layout_str(names, dict(zip(names, out, strict=True)))}"
    if out[0] is not None and got[0] != out[0]:
        raise ValueError(f"{head}: {got[0]} samples in y, {out[0]} in the output")
    per_out = out[1:-1] if sparse_labels else out[1:]
    if _drop_trailing_ones(tuple(got[1:])) == _drop_trailing_ones(tuple(per_out)):
        return
    if (
        not sparse_labels
        and len(out) == 3
        and _drop_trailing_ones(tuple(got[1:])) == _drop_trailing_ones(out[2:])
    ):
        steps = _size(out[1])
        keras_does = (
            "Keras would broadcast y over the time steps and train on the mean loss of all steps, "
            "without an error"
            if out[2] == 1
            else "Keras stops with 'Incompatible shapes' inside fit"
        )
        raise ValueError(
            f"{head}: the model predicts at every one of the {steps} time steps (return_sequences=True) "
            f"but y has one target per sample; {keras_does}. Use return_sequences=False for one "
            f"prediction per sample, or give y one target per step, shape ({got[0]}, {steps}, {out[2]})"
        )
    want = ", ".join(_size(s) for s in (out[1:-1] if sparse_labels else out[1:]))
    raise ValueError(
        f"{head}: per sample the output is {_tup(per_out)} and y is {_tup(got[1:])}; "
        f"expected y of shape ({got[0]}, {want})" + (" (integer labels)" if sparse_labels else "")
    )


def _tup(shape: Sequence[Dim]) -> str:
    return str(tuple(shape)).replace("None", "?")
