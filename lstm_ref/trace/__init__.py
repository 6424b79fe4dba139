"""The shape tracer: watch ``(batch, time_steps, features)`` flow through a Keras or PyTorch model.

    from lstm_ref.trace import trace
    print(trace(model, x))  # model: a torch.nn.Module or a Keras model; x: an example input

:func:`trace` runs the model once: a row per layer, its input and output shapes with every axis named
(``h_n (layers*directions=2, batch=32, hidden=64)``), its parameters and a note where the layout changes.
On a failure :class:`ShapeError` says, in :mod:`lstm_ref.diagnose` words, which axis is wrong and the fix.
Importing this imports neither torch nor TensorFlow. ``python -m lstm_ref.trace`` traces a demo.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from lstm_ref.i18n import _
from lstm_ref.trace._core import Row, Shape, ShapeError, ShapeTrace, axis_names

__all__ = ["Row", "Shape", "ShapeError", "ShapeTrace", "axis_names", "trace"]


def trace(model, x, *, layout: Sequence[str] | None = None) -> ShapeTrace:
    """Run ``model`` once on ``x`` and return the shapes that flowed through it, layer by layer.

    Args:
        model: a ``torch.nn.Module`` or a Keras 3 ``Model``/``Sequential``/layer. It is not changed.
        x: an example input: an array or tensor, e.g. ``(batch, time_steps, features)``; for an
            RNN that takes a state, the tuple ``(x, (h0, c0))`` (PyTorch) or ``[x, h0, c0]`` (Keras).
        layout: names for the axes of ``x``, e.g. ``("time_steps", "batch", "features")``; by
            default they are inferred (batch first, or what the first recurrent layer reads).

    Raises:
        ShapeError: the model failed on ``x``; ``.trace`` has the rows up to the failing layer and
            the diagnosis, and the framework's own exception is chained as ``__cause__``.
        TypeError: ``model`` is neither a torch nor a Keras model.
    """
    torch, keras = sys.modules.get("torch"), sys.modules.get("keras")  # loaded, since the model exists
    if torch is not None and isinstance(model, torch.nn.Module):
        from lstm_ref.trace._torch import trace_torch

        return trace_torch(model, x, layout=layout)
    if keras is not None and isinstance(model, keras.Layer):
        from lstm_ref.trace._keras import trace_keras

        return trace_keras(model, x, layout=layout)
    kind = f"{type(model).__module__}.{type(model).__name__}"
    raise TypeError(_("trace() needs a torch.nn.Module or a Keras model/layer, got {kind}").format(kind=kind))
