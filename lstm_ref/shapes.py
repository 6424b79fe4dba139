"""LSTM shapes and parameter counts for Keras and PyTorch, computed without either framework.

- :func:`torch_param_shapes`: the one parameter table of the package, the names and shapes of
  ``torch.nn.LSTM(...).state_dict()`` in its order; :func:`param_suffixes`: the ``_l{k}`` /
  ``_l{k}_reverse`` suffix of every layer and direction. ``lstm_ref.numpy``, ``lstm_ref.torch``
  and ``lstm_ref.convert`` build and check their weights from these two.
- :func:`param_count`: how many weights, for either framework; :func:`keras_weight_shapes`:
  where Keras keeps them.
- :func:`keras_lstm_shapes`, :func:`torch_lstm_shapes`: the input, output and state shapes of
  ``keras.layers.LSTM`` and ``torch.nn.LSTM``.

Per layer and direction, with ``F`` inputs and ``H`` units, Keras ``LSTM(H)`` has
``4H(F + H) + 4H`` weights (one bias vector) and PyTorch ``nn.LSTM(F, H)`` has ``4H(F + H) + 8H``
(``bias_ih`` and ``bias_hh``). Layer ``k > 0`` takes ``H * num_directions`` inputs. PyTorch's
``proj_size = P > 0`` projects ``h`` down to ``P`` values with ``weight_hr`` ``(P, H)`` (no bias),
so ``weight_hh`` is ``(4H, P)``, layer ``k > 0`` takes ``P * num_directions`` inputs, and ``c``
stays ``H`` wide: ``4H(F_k + P) + 8H + PH`` per layer and direction.

The shape vocabulary and diagnosis (:func:`describe`, :func:`diagnose`, :func:`explain_mismatch`,
:func:`assert_shape`, :data:`LAYOUTS`) live in :mod:`lstm_ref.diagnose`, and :func:`check_targets`
in :mod:`lstm_ref._checks`; they are importable from here too. Every result here is checked
against the real frameworks in ``tests/test_shapes.py``.
"""

from __future__ import annotations

import math

from lstm_ref._checks import check_int, check_targets
from lstm_ref.diagnose import LAYOUTS, Dim, Sizes, assert_shape, describe, diagnose, explain_mismatch
from lstm_ref.i18n import _

__all__ = [
    "FRAMEWORKS",
    "LAYOUTS",
    "MERGE_MODES",
    "assert_shape",
    "check_targets",
    "describe",
    "diagnose",
    "explain_mismatch",
    "keras_lstm_shapes",
    "keras_weight_shapes",
    "param_count",
    "param_suffixes",
    "torch_lstm_shapes",
    "torch_param_shapes",
]

FRAMEWORKS = ("keras", "torch")
MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _dim(value, name: str) -> Dim:
    """A size that may be unknown (None), as for batch and time steps."""
    return None if value is None else check_int(value, name, minimum=1)


def _lstm_sizes(input_size, hidden_size, num_layers, proj_size) -> tuple[int, int, int, int]:
    """Validated ``(input_size, hidden_size, num_layers, proj_size)`` of an LSTM configuration."""
    f_in = check_int(input_size, "input_size", minimum=1)
    h = check_int(hidden_size, "hidden_size", minimum=1)
    num_layers = check_int(num_layers, "num_layers", minimum=1)
    proj_size = check_int(proj_size, "proj_size", minimum=0)
    if proj_size >= h:
        msg = _("proj_size must be smaller than hidden_size = {h}, got {p}")
        raise ValueError(msg.format(h=h, p=proj_size))
    return f_in, h, num_layers, proj_size


def param_suffixes(num_layers: int, bidirectional: bool = False) -> list[tuple[int, int, str]]:
    """``(layer, direction, suffix)`` of every layer and direction, in ``state_dict`` order.

    Direction 0 reads ``t = 0 .. T-1`` and its weights end in ``_l{k}``; direction 1 (only when
    bidirectional) reads ``t = T-1 .. 0`` and its weights end in ``_l{k}_reverse``.

    >>> param_suffixes(2, bidirectional=True)
    [(0, 0, '_l0'), (0, 1, '_l0_reverse'), (1, 0, '_l1'), (1, 1, '_l1_reverse')]
    """
    dirs = 2 if bidirectional else 1
    return [(k, d, f"_l{k}" + ("_reverse" if d else "")) for k in range(num_layers) for d in range(dirs)]


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

    The course's one weight format, per layer ``k`` and direction: ``weight_ih_l{k}`` (4H, in_k),
    ``weight_hh_l{k}`` (4H, H or proj_size), ``bias_ih_l{k}`` and ``bias_hh_l{k}`` (4H,) unless
    ``bias=False``, ``weight_hr_l{k}`` (proj_size, H) with a projection, and a ``_reverse`` suffix
    for the backward direction (:func:`param_suffixes`). ``in_0 = input_size``, and layer ``k > 0``
    reads ``(proj_size or H) * num_directions`` inputs. The rows of every 4H axis hold the gates in
    the order i, f, g, o.

    >>> torch_param_shapes(3, 5)
    {'weight_ih_l0': (20, 3), 'weight_hh_l0': (20, 5), 'bias_ih_l0': (20,), 'bias_hh_l0': (20,)}
    >>> torch_param_shapes(3, 5, num_layers=2, bidirectional=True)["weight_ih_l1_reverse"]
    (20, 10)
    """
    f_in, h, num_layers, proj_size = _lstm_sizes(input_size, hidden_size, num_layers, proj_size)
    out = proj_size or h  # the width of h
    shapes: dict[str, tuple[int, ...]] = {}
    for k, _d, sfx in param_suffixes(num_layers, bidirectional):
        shapes["weight_ih" + sfx] = (4 * h, f_in if k == 0 else out * (2 if bidirectional else 1))
        shapes["weight_hh" + sfx] = (4 * h, out)
        if bias:
            shapes["bias_ih" + sfx] = (4 * h,)
            shapes["bias_hh" + sfx] = (4 * h,)
        if proj_size:
            shapes["weight_hr" + sfx] = (proj_size, h)
    return shapes


def param_count(input_size: int, hidden_size: int, *, framework: str, **config) -> int:
    """Number of trainable parameters of an LSTM (stack), for Keras or PyTorch.

    Args:
        input_size: ``F``, features per time step.
        hidden_size: ``H``, Keras ``units``.
        framework: ``"keras"`` or ``"torch"``; Keras keeps one bias vector where PyTorch has two.
        **config: ``num_layers`` (1), ``bidirectional`` (False), ``bias`` (True; Keras
            ``use_bias``) and ``proj_size`` (0; PyTorch only), as for :func:`torch_param_shapes`.
            For Keras, a stack of ``num_layers`` means that many ``LSTM`` layers (or
            ``Bidirectional(LSTM)`` with ``merge_mode="concat"``); the count is their sum.

    Returns:
        The number of scalar weights, as ``sum(p.numel() for p in lstm.parameters())``
        (PyTorch) or ``model.count_params()`` (Keras) report it. It never depends on the
        number of time steps or the batch size. The formulas are in the module docstring.

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
    if framework not in FRAMEWORKS:
        msg = _("framework must be one of {names}, got {framework}")
        raise ValueError(msg.format(names=FRAMEWORKS, framework=repr(framework)))
    if framework == "keras" and config.get("proj_size", 0):
        raise ValueError(_("proj_size exists only in torch.nn.LSTM; Keras LSTM has no projection"))
    shapes = torch_param_shapes(input_size, hidden_size, **config)
    if framework == "keras":  # Keras's one bias vector stands where torch has bias_ih
        shapes = {name: s for name, s in shapes.items() if not name.startswith("bias_hh")}
    return sum(math.prod(s) for s in shapes.values())


def keras_weight_shapes(
    input_size: int, units: int, *, bidirectional: bool = False, use_bias: bool = True
) -> dict[str, tuple[int, ...]]:
    """Shapes of ``layer.get_weights()`` for one Keras ``LSTM`` (or ``Bidirectional(LSTM)``), in order.

    ``kernel`` (F, 4H), ``recurrent_kernel`` (H, 4H), ``bias`` (4H,); gate
    order i, f, g, o along the 4H axis, as in PyTorch (Keras's source calls the g block ``c``, the
    candidate cell value: same block, same place). A bidirectional layer lists the forward layer's
    weights, then the backward layer's.

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
) -> dict[str, Sizes]:
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
        msg = _("merge_mode must be one of {names}, got {mode}")
        raise ValueError(msg.format(names=MERGE_MODES, mode=repr(merge_mode)))
    shapes: dict[str, Sizes] = {"input": (b, t, f)}

    def out(width: int) -> Sizes:
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
    batch_first: bool = False,
    **options,
) -> dict[str, Sizes]:
    """Input, output and state shapes of ``torch.nn.LSTM(features, hidden_size, ...)``.

    ``output, (h_n, c_n) = lstm(input)``. ``options`` are the other keywords of the layer:
    ``num_layers`` (1), ``bidirectional`` (False) and ``proj_size`` (0), as for
    :func:`torch_param_shapes`, whose table gives the sizes. With ``D = 2`` if bidirectional
    else 1 and ``H_out = proj_size or hidden_size``:

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
    f = check_int(features, "features", minimum=1)
    params = torch_param_shapes(f, hidden_size, **options)  # also checks the options
    layers_dirs = sum(name.startswith("weight_ih") for name in params)  # num_layers * D
    d = 2 if "weight_ih_l0_reverse" in params else 1
    h, h_out = params["weight_hh_l0"][0] // 4, params["weight_hh_l0"][1]  # hidden_size, proj_size or H
    lead = (b, t) if batch_first else (t, b)
    return {
        "input": (*lead, f),
        "output": (*lead, d * h_out),
        "h_n": (layers_dirs, b, h_out),
        "c_n": (layers_dirs, b, h),
    }
