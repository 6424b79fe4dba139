"""Move LSTM weights between Keras, PyTorch and NumPy through one format: torch ``state_dict`` names.

The canonical state dict (NumPy arrays) for layer k, with a ``_reverse`` suffix for the
backward direction, gate order i, f, g, o in both frameworks (its names and shapes, in order,
come from :func:`lstm_ref.shapes.torch_param_shapes`, the package's one parameter table):

=====================  ==============  ===========================================
torch name             shape           Keras weight
=====================  ==============  ===========================================
``weight_ih_l{k}``     (4H, in_k)      ``kernel.T``            (kernel: (in_k, 4H))
``weight_hh_l{k}``     (4H, H)         ``recurrent_kernel.T``  (recurrent: (H, 4H))
``bias_ih_l{k}``       (4H,)           ``bias``
``bias_hh_l{k}``       (4H,)           zeros (Keras has one bias; torch adds two)
=====================  ==============  ===========================================

Keras -> torch puts the whole Keras bias in ``bias_ih`` and zeros in ``bias_hh``: only the
sum ``bias_ih + bias_hh`` enters the gates, so this choice is exact and keeps the Keras
numbers visible. Torch -> Keras writes ``bias = bias_ih + bias_hh``.

Like minGPT's ``from_pretrained``, the converters keep an explicit list of the weights that
are transposed (``KERAS_TO_TORCH``) and check every shape before copying; a missing, extra or
transposed key is a ``ValueError`` that says what was expected. torch and Keras are imported
only by the functions that need them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_ref import _checks
from lstm_ref._checks import to_numpy
from lstm_ref.i18n import _
from lstm_ref.shapes import param_suffixes, torch_param_shapes

__all__ = ["KERAS_TO_TORCH", "keras_state_dict", "load_keras", "load_torch", "torch_state_dict"]

# (Keras weight, torch name, transposed?): the only renames and transposes there are.
KERAS_TO_TORCH = [
    ("kernel", "weight_ih", True),  # (in, 4H) -> (4H, in)
    ("recurrent_kernel", "weight_hh", True),  # (H, 4H) -> (4H, H)
    ("bias", "bias_ih", False),  # (4H,), and bias_hh = zeros
]


def _check_bias(state_dict: Mapping[str, Any], expected: Mapping[str, Any], what: str) -> None:
    """Name the use_bias / bias mismatch before the generic key check does."""
    has = any(k.startswith("bias_") for k in state_dict)
    wants = any(k.startswith("bias_") for k in expected)
    if wants and not has and any(k.startswith("weight_") for k in state_dict):
        msg = _(
            "state dict does not fit this {what}: it has no biases (saved with bias=False / "
            "use_bias=False) but the layer has biases; build it with bias=False (torch) or use_bias=False (Keras)"
        )
        raise ValueError(msg.format(what=what))


# ---------------------------------------------------------------- Keras


def _keras():
    from lstm_ref.keras import keras  # sets KERAS_BACKEND and quiets TensorFlow first

    return keras


def _check_keras_lstm(lstm, where: str, backward_ok: bool) -> None:
    cfg = lstm.get_config()
    if cfg["activation"] != "tanh" or cfg["recurrent_activation"] != "sigmoid":
        msg = _(
            "{where}: activation={activation}, recurrent_activation={recurrent}; torch.nn.LSTM always "
            "uses tanh and sigmoid, so these weights would compute something else there"
        )
        act, rec = repr(cfg["activation"]), repr(cfg["recurrent_activation"])
        raise ValueError(msg.format(where=where, activation=act, recurrent=rec))
    if cfg["go_backwards"] and not backward_ok:
        msg = _(
            "{where}: go_backwards=True reads the sequence from the end; torch.nn.LSTM has no such "
            "option (flip the time axis yourself, or use Bidirectional / bidirectional=True)"
        )
        raise ValueError(msg.format(where=where))
    if not lstm.built:
        msg = _("{where}: the layer is not built yet; call it on an input or put it after keras.Input")
        raise ValueError(msg.format(where=where))


def _keras_layers(layer) -> list[tuple[Any, Any | None]]:
    """[(forward LSTM, backward LSTM or None), ...] for a layer, a Bidirectional, a list or a Model."""
    keras = _keras()
    if isinstance(layer, keras.Model):
        found = [
            lay for lay in layer.layers if isinstance(lay, keras.layers.LSTM | keras.layers.Bidirectional)
        ]
        if not found:
            msg = _("model {name} has no LSTM or Bidirectional(LSTM) layer")
            raise ValueError(msg.format(name=repr(layer.name)))
        layer = found
    items = list(layer) if isinstance(layer, list | tuple) else [layer]
    if not items:
        raise ValueError(_("expected a keras LSTM, a Bidirectional(LSTM), or a non-empty list of them"))
    pairs = []
    for k, item in enumerate(items):
        v = {"k": k, "name": getattr(item, "name", type(item).__name__)}
        where = _("layer {k} ({name})").format_map(v)
        if isinstance(item, keras.layers.Bidirectional):
            fwd, bwd = item.forward_layer, item.backward_layer
            if not (isinstance(fwd, keras.layers.LSTM) and isinstance(bwd, keras.layers.LSTM)):
                msg = _("{where}: Bidirectional wraps {kind}, expected an LSTM")
                raise ValueError(msg.format(where=where, kind=type(fwd).__name__))
            _check_keras_lstm(fwd, _("layer {k} ({name}) forward").format_map(v), backward_ok=False)
            _check_keras_lstm(bwd, _("layer {k} ({name}) backward").format_map(v), backward_ok=True)
            pairs.append((fwd, bwd))
        elif isinstance(item, keras.layers.LSTM):
            _check_keras_lstm(item, where, backward_ok=False)
            pairs.append((item, None))
        else:
            msg = _("{where}: expected a keras LSTM or Bidirectional(LSTM), got {kind}")
            raise ValueError(msg.format(where=where, kind=type(item).__name__))
    return pairs


def _keras_expected_shapes(pairs) -> dict[str, tuple[int, ...]]:
    """The torch shapes these Keras layers must have, checking they form one torch LSTM."""
    fwd0 = pairs[0][0]
    units, use_bias = fwd0.units, fwd0.use_bias
    bidirectional = pairs[0][1] is not None
    for k, (fwd, bwd) in enumerate(pairs):
        differs = fwd.units != units or fwd.use_bias != use_bias or (bwd is not None) != bidirectional
        if bwd is not None and (bwd.units != units or bwd.use_bias != use_bias):
            differs = True
        if differs:
            msg = _(
                "layer {k} ({name}): units={units}, use_bias={bias}, bidirectional={bi}, but layer 0 has "
                "units={units0}, use_bias={bias0}, bidirectional={bi0}; one torch.nn.LSTM has the same "
                "settings in every layer"
            )
            this = {"k": k, "name": fwd.name, "units": fwd.units, "bias": fwd.use_bias, "bi": bwd is not None}
            raise ValueError(msg.format(**this, units0=units, bias0=use_bias, bi0=bidirectional))
    input_size = int(fwd0.cell.kernel.shape[0])
    return torch_param_shapes(
        input_size, units, num_layers=len(pairs), bidirectional=bidirectional, bias=use_bias
    )


def _directions(pairs):
    """Yield (torch suffix "_l{k}" or "_l{k}_reverse", Keras LSTM layer), in state_dict order."""
    for k, d, suffix in param_suffixes(len(pairs), bidirectional=pairs[0][1] is not None):
        yield suffix, pairs[k][d]


def keras_state_dict(layer) -> dict[str, np.ndarray]:
    """Torch-named NumPy weights of a built Keras LSTM.

    - layer: a ``keras.layers.LSTM``, a ``Bidirectional(LSTM)``, a list of them (stacked: list
      item k becomes ``_l{k}``), or a ``keras.Model`` (its LSTM layers, in order)
    - returns ``{name: array}`` with the shapes of ``lstm_ref.shapes.torch_param_shapes`` (see the
      module table); ``bias_hh`` is zeros

    Refused (``ValueError``): an activation other than tanh or a recurrent activation other than
    sigmoid, ``go_backwards=True`` outside a ``Bidirectional``, unbuilt layers, and stacks whose
    layers differ in units, use_bias or direction. A Bidirectional's ``merge_mode`` does not touch
    the weights; in a stack, torch feeds layer k+1 the concatenation (2H), so a lower layer with
    ``merge_mode="sum"`` fails the shape check. ``dropout`` only acts in training and is ignored.

    >>> from lstm_ref.keras import keras  # a quiet import of keras
    >>> lstm = keras.layers.LSTM(5)
    >>> lstm.build((None, None, 3))
    >>> {k: v.shape for k, v in keras_state_dict(lstm).items()}
    {'weight_ih_l0': (20, 3), 'weight_hh_l0': (20, 5), 'bias_ih_l0': (20,), 'bias_hh_l0': (20,)}
    """
    pairs = _keras_layers(layer)
    expected = _keras_expected_shapes(pairs)
    out: dict[str, np.ndarray] = {}
    for suffix, lstm in _directions(pairs):
        for kname, tname, transposed in KERAS_TO_TORCH:
            var = getattr(lstm.cell, kname, None)
            if var is None:  # use_bias=False
                continue
            value = to_numpy(var, copy=True)  # via .numpy(): np.asarray(var) warns under NumPy 2
            out[tname + suffix] = np.ascontiguousarray(value.T if transposed else value)
        if lstm.use_bias:
            out["bias_hh" + suffix] = np.zeros_like(out["bias_ih" + suffix])
    _checks.check_state_dict(out, expected, "torch LSTM")  # e.g. stacked layers that do not chain
    return {k: out[k] for k in expected}  # torch's key order


def load_keras(layer, state_dict: Mapping[str, Any]) -> None:
    """Copy torch-named weights into a Keras LSTM (the reverse of ``keras_state_dict``).

    - layer: as for ``keras_state_dict``; an unbuilt layer is built from the weights' shapes
    - state_dict: ``{name: array or tensor}`` with exactly the keys and shapes of
      ``lstm_ref.shapes.torch_param_shapes`` for that layer; ``bias = bias_ih + bias_hh``

    >>> from lstm_ref.keras import keras  # a quiet import of keras
    >>> lstm = keras.layers.LSTM(2)
    >>> sd = {k: np.ones(s, "float32") for k, s in torch_param_shapes(3, 2).items()}
    >>> load_keras(lstm, sd)
    >>> lstm.cell.bias.numpy()[:3]
    array([2., 2., 2.], dtype=float32)
    """
    keras = _keras()
    items = _unbuilt_items(layer, keras)
    for k, item in enumerate(items):
        if not item.built:
            key = f"weight_ih_l{k}"
            if key not in state_dict:
                msg = _("state dict does not fit: missing {key}, needed to build layer {k}")
                raise ValueError(msg.format(key=repr(key), k=k))
            item.build((None, None, int(np.shape(state_dict[key])[1])))
    pairs = _keras_layers(layer)
    expected = _keras_expected_shapes(pairs)
    _check_bias(state_dict, expected, "Keras LSTM")
    _checks.check_state_dict(state_dict, expected, "Keras LSTM")
    for suffix, lstm in _directions(pairs):
        for kname, tname, transposed in KERAS_TO_TORCH:
            var = getattr(lstm.cell, kname, None)
            if var is None:
                continue
            value = to_numpy(state_dict[tname + suffix])
            if kname == "bias":
                value = value + to_numpy(state_dict["bias_hh" + suffix])
            value = value.T if transposed else value
            if tuple(value.shape) != tuple(var.shape):  # checked above; assert before every copy
                msg = _("{name}: {got} does not fit {weight} {want}")
                raise ValueError(
                    msg.format(name=tname + suffix, got=value.shape, weight=kname, want=tuple(var.shape))
                )
            var.assign(value.astype(var.dtype))


def _unbuilt_items(layer, keras) -> list:
    if isinstance(layer, keras.Model):
        return []  # a model's layers are built with it
    return list(layer) if isinstance(layer, list | tuple) else [layer]


# ---------------------------------------------------------------- torch


def _check_torch_lstm(module) -> None:
    import torch

    from lstm_ref.torch import ScratchLSTM

    if not isinstance(module, torch.nn.LSTM | ScratchLSTM):
        msg = _(
            "expected torch.nn.LSTM or lstm_ref.torch.ScratchLSTM, got {kind}; "
            "for a model, pass its LSTM (e.g. model.lstm)"
        )
        raise ValueError(msg.format(kind=type(module).__name__))
    if getattr(module, "proj_size", 0) > 0:
        msg = _(
            "proj_size={p}: an LSTM with projections has extra {weights} matrices and h of size "
            "proj_size; Keras and lstm_ref.numpy have no such layer"
        )
        raise ValueError(msg.format(p=module.proj_size, weights="weight_hr_l{k}"))


def _torch_expected_shapes(module) -> dict[str, tuple[int, ...]]:
    return torch_param_shapes(
        module.input_size,
        module.hidden_size,
        num_layers=module.num_layers,
        bidirectional=module.bidirectional,
        bias=module.bias,
    )


def torch_state_dict(module) -> dict[str, np.ndarray]:
    """The weights of a ``torch.nn.LSTM`` or ``ScratchLSTM`` as NumPy arrays (copies).

    - module: the LSTM; returns ``{name: array}`` with the shapes of
      ``lstm_ref.shapes.torch_param_shapes``

    >>> import torch
    >>> sd = torch_state_dict(torch.nn.LSTM(3, 5))
    >>> sd["weight_ih_l0"].shape, sd["weight_ih_l0"].dtype
    ((20, 3), dtype('float32'))
    """
    _check_torch_lstm(module)
    expected = _torch_expected_shapes(module)
    out = {k: to_numpy(v, copy=True) for k, v in module.state_dict().items()}
    _checks.check_state_dict(out, expected, "torch LSTM")
    return {k: out[k] for k in expected}


def load_torch(module, state_dict: Mapping[str, Any]) -> None:
    """Copy torch-named weights (NumPy arrays or tensors) into a ``torch.nn.LSTM`` or ``ScratchLSTM``.

    - state_dict: exactly the keys and shapes of ``lstm_ref.shapes.torch_param_shapes`` for this module;
      nothing is transposed or broadcast (a Keras kernel (in, 4H) is refused: use
      ``keras_state_dict``)

    >>> import torch
    >>> lstm = torch.nn.LSTM(3, 5)
    >>> load_torch(lstm, {k: np.zeros(s) for k, s in torch_param_shapes(3, 5).items()})
    >>> lstm.weight_ih_l0.abs().sum().item()
    0.0
    """
    import torch

    _check_torch_lstm(module)
    expected = _torch_expected_shapes(module)
    _check_bias(state_dict, expected, "torch LSTM")
    _checks.check_state_dict(state_dict, expected, "torch LSTM")
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, value in state_dict.items():
            p = params[name]
            value = torch.as_tensor(to_numpy(value), dtype=p.dtype, device=p.device)
            if value.shape != p.shape:  # checked above; assert before every copy
                msg = _("{name}: shape {got} does not fit {want}")
                raise ValueError(msg.format(name=name, got=tuple(value.shape), want=tuple(p.shape)))
            p.copy_(value)
