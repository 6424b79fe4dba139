"""The shape tracer: watch ``(batch, time_steps, features)`` flow through a Keras or PyTorch model.

    from lstm_ref.trace import trace
    print(trace(model, x))  # model: a torch.nn.Module or a Keras model; x: an example input

:func:`trace` runs the model once on an example input and returns a :class:`ShapeTrace`: one row
per layer/module with its input and output shapes, every axis named
(``(batch=32, time_steps=12, features=1)``, ``h_n (layers*directions=2, batch=32, hidden=64)``),
its parameter count and a note where the layout changes. When the model fails on the input, the
trace stops at the failing layer and :class:`ShapeError` says, in the words of
:mod:`lstm_ref.shapes` (the same words as the exercises' feedback), which axis is wrong, what the
layer expected, what arrived and the classic fix; the original exception is chained to it.

Importing this module imports neither torch nor TensorFlow; the framework of the model passed in
is imported then (it is already loaded, since the model exists).

``python -m lstm_ref.trace`` traces a small demo model.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from lstm_ref.trace._core import Row, Shape, ShapeError, ShapeTrace, axis_names

__all__ = ["Row", "Shape", "ShapeError", "ShapeTrace", "axis_names", "trace"]


def _is_torch(model) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _is_keras(model) -> bool:
    keras = sys.modules.get("keras")
    return keras is not None and isinstance(model, keras.Layer)


def trace(model, x, *, layout: Sequence[str] | None = None) -> ShapeTrace:
    """Run ``model`` once on ``x`` and return the shapes that flowed through it, layer by layer.

    Args:
        model: a ``torch.nn.Module`` or a Keras 3 ``Model``/``Sequential``/layer. It is not changed.
        x: an example input: an array or tensor, e.g. ``(batch, time_steps, features)``; for an
            RNN that takes a state, the tuple ``(x, (h0, c0))`` (PyTorch) or ``[x, h0, c0]`` (Keras).
        layout: names for the axes of ``x``, e.g. ``("time_steps", "batch", "features")``; by
            default they are inferred (batch first, or what the first recurrent layer reads).

    Returns:
        the :class:`ShapeTrace`.

    Raises:
        ShapeError: the model failed on ``x``; ``.trace`` has the rows up to the failing layer and
            the diagnosis, and the framework's own exception is chained as ``__cause__``.
        TypeError: ``model`` is neither a torch nor a Keras model.
    """
    if _is_torch(model):
        from lstm_ref.trace._torch import trace_torch

        return trace_torch(model, x, layout=layout)
    if _is_keras(model):
        from lstm_ref.trace._keras import trace_keras

        return trace_keras(model, x, layout=layout)
    raise TypeError(
        f"trace() needs a torch.nn.Module or a Keras model/layer, got {type(model).__module__}.{type(model).__name__}"
    )
