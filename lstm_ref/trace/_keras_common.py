"""What every part of the Keras tracer shares: small helpers about layers, tensors and axis names,
and :class:`_TracerState`, the tracer's bookkeeping (rows, the names of every tensor seen and the
layer that made it).

The parts of :class:`lstm_ref.trace._keras._Tracer` are built on :class:`_TracerState`: model
inputs (:mod:`._keras_inputs`), names and notes (:mod:`._keras_names`), diagnoses
(:mod:`._keras_diagnose`); :mod:`._keras_watch` runs a subclassed model under a hook.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import keras

from lstm_ref.diagnose import BTF  # noqa: F401 - the one (batch, time_steps, features), re-exported to the _keras modules
from lstm_ref.trace._core import Row, axis_names

STATE = ("batch", "hidden")  # a Keras RNN state: (batch, units), unlike PyTorch's (L*D, batch, H)

#: layers that keep the shape and the meaning of every axis (walked through to find who made a tensor)
_KEEP = (
    "Dropout",
    "SpatialDropout1D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "Activation",
    "ReLU",
    "LeakyReLU",
    "BatchNormalization",
    "LayerNormalization",
    "Identity",
)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


# ---------------------------------------------------------------------------------------------
# small helpers


def _is_tensor(a) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, keras.Layer | type)


def _shape(t) -> tuple:
    return tuple(None if d is None else int(d) for d in t.shape)


def _params(op) -> int:
    if not isinstance(op, keras.Layer) or not op.built:
        return 0
    try:
        return int(op.count_params())
    except Exception:  # a layer that never created its weights
        return 0


def _rnn(op):
    """The recurrent layer inside ``op`` (itself, or a ``Bidirectional``'s forward layer), else None."""
    if isinstance(op, keras.layers.Bidirectional):
        return op.forward_layer
    if isinstance(op, keras.layers.RNN):
        return op
    return None


def _state_labels(rnn, n: int) -> list[str]:
    if n == 2 and (isinstance(rnn, keras.layers.LSTM) or type(rnn.cell).__name__ == "LSTMCell"):
        return ["h", "c"]
    if n == 1:
        return ["h"]
    return [f"state[{k}]" for k in range(n)]


def _rnn_features(rnn) -> int | None:
    """F the recurrent layer was built for (its kernel's first axis), or None before it is built."""
    kernel = getattr(getattr(rnn, "cell", None), "kernel", None)
    if kernel is not None and len(kernel.shape) == 2:
        return int(kernel.shape[0])
    return None


def _rnn_batch(rnn) -> int | None:
    """The batch size a stateful recurrent layer holds its state for, else None."""
    if not getattr(rnn, "stateful", False):
        return None
    states = getattr(rnn, "states", None)
    if states:
        return int(keras.tree.flatten(states)[0].shape[0])
    return None


def _units(rnn) -> int | None:
    units = getattr(getattr(rnn, "cell", None), "units", None)
    return int(units) if units is not None else None


def _message(exc: BaseException) -> str:
    """The framework's own words, without Keras's 'Exception encountered when calling' wrapping."""
    text = _ANSI.sub("", str(exc)).strip()
    while "Exception encountered when calling" in text:
        parts = [p.strip() for p in text.split("\n\n") if p.strip()]
        inner = [p for p in parts[1:] if not p.startswith("Arguments received")]
        if not inner:
            break
        text = "\n\n".join(inner)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    msg = " ".join(lines[:3]) if lines else type(exc).__name__
    return msg if len(msg) <= 300 else msg[:297] + "..."


def _fit_axes(axes, ndim: int, default: Sequence[str] | None = None) -> tuple[str, ...]:
    if axes is not None and len(axes) == ndim:
        return tuple(axes)
    return axis_names(ndim, default=default)


def _default_axes(ndim: int, use: str = "") -> tuple[str, ...]:
    """Names for an array of ``ndim`` axes entering a model: (batch, time_steps, features) for 3-D; a
    2-D array is (batch, hidden) for a state, (batch, time_steps) for an Embedding, else (batch, features)."""
    if ndim == 3:
        return BTF
    if ndim == 2:
        return {"state": STATE, "embedding": ("batch", "time_steps")}.get(use, ("batch", "features"))
    return axis_names(ndim)


_RNN_KINDS = {"LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional"}


def _all_layers(model) -> list:
    try:
        return list(model._flatten_layers(include_self=False))
    except Exception:
        out, todo = [], list(getattr(model, "layers", []))
        while todo:
            la = todo.pop(0)
            out.append(la)
            todo += list(getattr(la, "layers", []))
        return out


class _TracerState:
    """The rows made so far and what is known of every tensor seen: its axis names, the op that
    made it, that op's row and the op's first input."""

    def __init__(self, layout: Sequence[str] | None):
        self.layout = tuple(layout) if layout is not None else None
        self.rows: list[Row] = []
        self.diagnosis: str | None = None
        self.info: dict[int, tuple] = {}  # id(tensor) -> (tensor, axes, producing op, its row, its input)
        self.counts: dict[str, int] = {}
        self.mask_from: str | None = None
        # observe(): names by shape for the model's inputs, which Keras converts where we cannot see
        self.by_shape: dict[tuple, tuple[str, ...]] = {}

    # ------------------------------------------------------------------ bookkeeping
    def row_name(self, name: str) -> str:
        k = self.counts.get(name, 0) + 1
        self.counts[name] = k
        return name if k == 1 else f"{name}#{k}"

    def register(self, t, axes, op=None, row=None, src=None) -> None:
        self.info[id(t)] = (t, tuple(axes), op, row, src)

    def axes_of(self, t, default: Sequence[str] | None = None) -> tuple[str, ...]:
        hit = self.info.get(id(t))
        if hit is not None and hit[0] is t and len(hit[1]) == len(t.shape):
            return hit[1]
        by_shape = self.by_shape.get(_shape(t))
        if by_shape is not None:
            return by_shape
        return _fit_axes(default, len(t.shape), default=_default_axes(len(t.shape)))

    def producer(self, t):
        """The op that made ``t``, looking through layers that keep the shape; (op, row) or (None, None)."""
        for _ in range(50):
            hit = self.info.get(id(t))
            if hit is None or hit[0] is not t or hit[2] is None:
                return None, None
            op, row, src = hit[2], hit[3], hit[4]
            if type(op).__name__ not in _KEEP or src is None:
                return op, row
            t = src
        return None, None

    def top_axes(self, i: int, ndim: int, use: str = "") -> tuple[str, ...]:
        """Names for model input ``i`` with ``ndim`` axes: the ``layout`` for the first one, else inferred."""
        if i == 0 and self.layout is not None:
            return axis_names(ndim, self.layout)
        return _default_axes(ndim, use)

    def first_rnn_row(self) -> Row | None:
        return next((r for r in self.rows if r.kind in _RNN_KINDS), None)

    @staticmethod
    def mask_of(t):
        try:
            from keras.src.backend import get_keras_mask

            return get_keras_mask(t)
        except Exception:
            return getattr(t, "_keras_mask", None)
