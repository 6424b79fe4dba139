"""The Keras 3 side of the shape tracer: :func:`trace_keras`.

How a model is run; each way gives exactly what ``model(x)`` gives, in one forward pass:

- **a Functional model, or a built** ``Sequential`` (its graph, ``model._functional``): the model's
  own input checks (``_assert_input_compatibility``, then ``_standardize_inputs``, where Keras adds
  or drops a last axis of size 1) and its own graph walk (``_run_through_graph``) with an
  ``operation_fn`` that records each operation's inputs and outputs, or its exception. A nested
  model is walked the same way and its rows are named ``outer/inner``; a shared layer's second
  call is ``name#2``. Every ``keras.Input`` gets a row (``InputLayer``).
- **an unbuilt** ``Sequential`` (no ``keras.Input``): its layers are called in turn, as
  ``Sequential.call`` does when it has no graph. The layers get built, as ``model(x)`` would build
  them, but the model itself is not: ``model(x)`` would fix its input shape to ``x.shape`` for
  good, even when the call then fails.
- **any other model** (a subclass with its own ``call``), or a Functional model when this Keras
  lacks the private graph API above: ``model(x)`` itself, watched with :func:`sys.settrace` (or
  :func:`sys.setprofile` when a debugger or coverage holds the trace hook) for calls of
  ``keras.Layer.__call__``: the layers (and graph operations) the model calls directly become the
  rows, deeper calls are inside them. When both hooks are taken the model is one row. This
  watching costs time in every Python call (up to about one more forward pass for a TensorFlow
  LSTM); the graph walk above costs nothing extra.
- **a bare layer**: one row.

The model is not changed: nothing is attached to it and its non-trainable variables (a stateful
RNN's ``(h, c)``) are restored after the run. The private Keras API (pinned Keras 3.15) is only

This module holds the entry point, the graph walk and what is done per operation; the rest is in
:mod:`._keras_common` (shared helpers, bookkeeping), :mod:`._keras_inputs` (the model's inputs),
:mod:`._keras_names` (names of outputs, notes), :mod:`._keras_diagnose` (diagnoses) and
:mod:`._keras_watch` (the settrace/setprofile path).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from lstm_ref.trace._core import Row, Shape, ShapeError, ShapeTrace
from lstm_ref.trace._keras_common import (
    STATE,
    _all_layers,
    _default_axes,
    _fit_axes,
    _is_tensor,
    _message,
    _params,
    _rnn,
    _shape,
    _state_labels,
)
from lstm_ref.trace._keras_diagnose import _Diagnoses
from lstm_ref.trace._keras_inputs import _Inputs, _rank_adjusted
from lstm_ref.trace._keras_names import _Notes, _output_axes
from lstm_ref.trace._keras_watch import observe

__all__ = ["trace_keras"]

#: the private Functional API the graph walk reads (Keras 3.15); without it the public fallbacks run
_GRAPH_API = ("_run_through_graph", "_standardize_inputs", "_assert_input_compatibility", "_nodes_by_depth")


def _graph_of(model):
    """The Functional graph that ``model(x)`` walks, or None (no graph, a custom ``call``, or a Keras
    without the private API this path reads)."""
    try:
        from keras.src.models.functional import Functional
    except ImportError:
        return None
    if isinstance(model, keras.Sequential):
        if type(model).call is not keras.Sequential.call:
            return None
        graph = getattr(model, "_functional", None)
    elif isinstance(model, Functional):
        if type(model).call is not Functional.call:
            return None
        graph = model
    else:
        return None
    if graph is None or not all(hasattr(graph, a) for a in _GRAPH_API):
        return None
    return graph


class _Tracer(_Inputs, _Notes, _Diagnoses):
    """Runs a model once and makes its rows: the ways to run it, and what is done per operation."""

    # ------------------------------------------------------------------ entry
    def run(self, model, x):
        if isinstance(model, keras.Model):
            return self.model(model, x, "")
        return self.bare(model, x)

    def model(self, model, x, prefix: str):
        graph = _graph_of(model)
        if graph is not None:
            return self.walk_graph(model, graph, x, prefix)
        if isinstance(model, keras.Sequential) and type(model).call is keras.Sequential.call:
            return self.walk_layers(model, x, prefix)
        return observe(self, model, x, prefix)

    # ------------------------------------------------------------------ one operation
    def inputs_of(self, op, args, kwargs) -> list[tuple[Shape, object]]:
        rnn = _rnn(op)
        found = []
        first = args[0] if args else None
        if _is_tensor(first):
            found.append(("x", first))
        elif isinstance(first, list | tuple):
            flat = [t for t in keras.tree.flatten(first) if _is_tensor(t)]
            found += [(f"x[{k}]", t) for k, t in enumerate(flat)]
        for k, a in enumerate(args[1:], start=1):
            if _is_tensor(a):
                found.append((f"args[{k}]", a))
        for key, val in kwargs.items():
            if key in ("mask", "training") or val is None:
                continue
            flat = [t for t in keras.tree.flatten(val) if _is_tensor(t)]
            if key == "initial_state" and rnn is not None:
                per = len(flat) // 2 if isinstance(op, keras.layers.Bidirectional) else len(flat)
                labels = [f"{s}0" for s in _state_labels(rnn, per)] if per else []
                if isinstance(op, keras.layers.Bidirectional):
                    labels = [f"{s}_forward" for s in labels] + [f"{s}_backward" for s in labels]
                found += list(zip(labels, flat, strict=False))
            elif len(flat) == 1:
                found.append((key, flat[0]))
            else:
                found += [(f"{key}[{k}]", t) for k, t in enumerate(flat)]
        out = []
        for label, t in found:
            default = STATE if label.startswith(("h0", "c0", "h_", "c_")) or "0_" in label else None
            out.append((Shape(label, _shape(t), self.axes_of(t, default)), t))
        return out

    def call_op(self, op, prefix: str, args, kwargs):
        if isinstance(op, keras.Model) and args:
            return self.model(op, args[0], f"{prefix}{op.name}/")
        ins = self.inputs_of(op, args, kwargs)
        row = Row(self.row_name(prefix + op.name), type(op).__name__, inputs=[s for s, _ in ins])
        self.rows.append(row)
        try:
            out = op(*args, **kwargs)
        except Exception as exc:
            self.fail(op, row, ins, exc)
            raise
        self.record(op, row, ins, out, kwargs.get("mask") is not None)
        return out

    def fail(self, op, row: Row, ins, exc: BaseException) -> None:
        row.failed = True
        row.params = _params(op)
        try:
            if isinstance(op, keras.Model):  # a nested model run whole: name the layer inside it
                self.diagnosis = self.opaque_diagnosis(op, row, exc)
            else:
                self.diagnosis = self.diagnose_layer(op, row, ins, exc)
        except Exception:  # the diagnosis must never hide the model's own error
            self.diagnosis = None
        if not self.diagnosis:
            self.diagnosis = f"{row.name} ({row.kind}): {_message(exc)}"

    def record(self, op, row: Row, ins, out, masked: bool = False) -> None:
        outs = [t for t in keras.tree.flatten(out) if _is_tensor(t)]
        try:
            named = _output_axes(op, ins, outs)
        except Exception:
            named = []
        if len(named) != len(outs):
            named = [("output" if len(outs) == 1 else f"output[{k}]", None) for k in range(len(outs))]
        shapes = []
        for (label, axes), t in zip(named, outs, strict=True):
            axes = _fit_axes(axes, len(t.shape), default=_default_axes(len(t.shape)))
            shapes.append(Shape(label, _shape(t), axes))
            self.register(t, axes, op, row, ins[0][1] if ins else None)
        row.outputs = shapes
        if (
            not isinstance(op, keras.Layer)
            and outs
            and all(keras.backend.standardize_dtype(t.dtype) == "bool" for t in outs)
        ):
            # an op computing a mask (Masking's NotEqual, Any): part of that layer, no row of its own
            self.rows[:] = [r for r in self.rows if r is not row]
            return
        row.params = _params(op)
        try:
            row.note = self.note(op, row, ins, outs, masked)
        except Exception:
            row.note = ""

    # ------------------------------------------------------------------ the ways to run a model
    def walk_graph(self, model, graph, x, prefix: str):
        """Functional, or Sequential with a graph: the model's own input checks and graph walk."""
        refs = list(graph.inputs)
        struct, raw = self.flat_inputs(x, len(refs))
        self.check_layout(raw, prefix)
        uses = self.input_uses(graph, refs)
        check = graph is model  # a Functional model checks its input spec; a Sequential does not
        try:
            if check:
                model._assert_input_compatibility(struct)
            std = graph._standardize_inputs(struct)
        except Exception as exc:
            self.fail_input(refs, raw, prefix, uses, check, exc)
            raise
        rows = self.input_rows(refs, raw, [_shape(s) for s in std], prefix, uses, check)
        for row, s in zip(rows, std, strict=True):
            self.register(s, row.outputs[0].axes, None, row)
        self.rows += rows

        live = _live_ops(graph)

        def operation_fn(op):
            if live is not None and id(op) not in live:
                return op  # feeds no output (e.g. the mask ops a Masking layer leaves in the graph): no row
            return lambda *args, **kwargs: self.call_op(op, prefix, args, kwargs)

        out = graph._run_through_graph(std, operation_fn=operation_fn)
        return out[0] if isinstance(out, list | tuple) and len(out) == 1 else out

    def walk_layers(self, model, x, prefix: str):
        """A Sequential without a graph: each layer on the previous one's output, as ``Sequential.call``."""
        try:
            refs = list(model.inputs)  # built, but this Keras lacks the graph API
        except Exception:  # unbuilt: no inputs yet
            refs = []
        layers = list(model.layers)
        self.check_layout([x], prefix)
        if len(refs) == 1:
            raw_shape = _shape(x) if hasattr(x, "shape") else _shape(keras.ops.convert_to_tensor(x))
            adj = _rank_adjusted(raw_shape, _shape(refs[0]))
            if adj is None:
                exc = ValueError(
                    f"Invalid input shape: expected shape {_shape(refs[0])}, "
                    f"but input has incompatible shape {raw_shape}"
                )
                self.fail_input(refs, [x], prefix, {}, False, exc)
                raise exc
            cur = keras.ops.convert_to_tensor(x, dtype=refs[0].dtype)
            if adj != raw_shape:
                cur = keras.ops.reshape(cur, (-1, *adj[1:]))
            rows = self.input_rows(refs, [x], [_shape(cur)], prefix, {}, False)
            self.register(cur, rows[0].outputs[0].axes, None, rows[0])
            self.rows += rows
        else:
            cur = keras.ops.convert_to_tensor(x, dtype=getattr(model, "input_dtype", None))
            hit = self.info.get(id(x))
            if hit is not None and hit[0] is x:
                axes = hit[1]
            else:
                use = "embedding" if layers and isinstance(layers[0], keras.layers.Embedding) else ""
                axes = self.top_axes(0, len(cur.shape), use)
            self.register(cur, axes)
        for layer in layers:
            cur = self.call_op(layer, prefix, (cur,), {})
        return cur

    def bare(self, layer, x):
        """A layer on its own: one row. An RNN layer takes ``[x, h0, c0]`` as ``x`` and its initial state."""
        args, kwargs = (x,), {}
        if isinstance(x, list | tuple) and _rnn(layer) is not None and len(x) > 1:
            flat = list(keras.tree.flatten(x))
            args, kwargs = (flat[0],), {"initial_state": flat[1:]}
        if not _is_tensor(args[0]) and not isinstance(args[0], list | tuple):
            args = (keras.ops.convert_to_tensor(args[0]),)
        self.check_layout([args[0]] if hasattr(args[0], "shape") else [], "")
        for t in keras.tree.flatten(args[0]):
            if _is_tensor(t):
                use = "embedding" if isinstance(layer, keras.layers.Embedding) else ""
                self.register(t, self.top_axes(0, len(t.shape), use))
        for t in kwargs.get("initial_state", []):
            if _is_tensor(t):
                self.register(t, _fit_axes(STATE, len(t.shape)))
        return self.call_op(layer, "", args, kwargs)


def _live_ops(graph) -> set[int] | None:
    """ids of the operations of ``graph`` whose results reach its outputs, or None if unknown."""
    try:
        needed = {id(t) for t in graph.outputs}
        live: set[int] = set()
        for depth in sorted(graph._nodes_by_depth):
            for node in graph._nodes_by_depth[depth]:
                if any(id(t) in needed for t in node.outputs):
                    live.add(id(node.operation))
                    needed.update(id(t) for t in node.input_tensors)
        return live
    except Exception:
        return None


# ---------------------------------------------------------------------------------------------


def _snapshot(model):
    """The values a run may change: non-trainable variables, and stateful RNN states (Keras keeps
    those out of ``non_trainable_variables``)."""
    seen: dict[int, object] = {}
    try:
        for v in model.non_trainable_variables:
            seen.setdefault(id(v), v)
    except Exception:
        pass
    for layer in [model, *_all_layers(model)]:
        if getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None:
            for v in keras.tree.flatten(layer.states):
                if hasattr(v, "assign"):
                    seen.setdefault(id(v), v)
    return [(v, v.numpy() if hasattr(v, "numpy") else keras.ops.convert_to_numpy(v)) for v in seen.values()]


def _restore(saved) -> None:
    for v, value in saved:
        v.assign(value)


def trace_keras(model, x, *, layout: Sequence[str] | None = None) -> ShapeTrace:
    """Run a Keras 3 model (or layer) once on ``x`` and return the shapes that flowed through it.

    See :func:`lstm_ref.trace.trace`; ``x`` is an array or tensor, or a list ``[x, h0, c0]`` (a
    tuple ``(x, (h0, c0))`` is read the same way) for a model with several inputs or an RNN layer
    given its initial state.

    Raises:
        ShapeError: the model failed on ``x``; the trace's last row is the failing layer (or the
            ``keras.Input`` that refused ``x``), Keras's exception is chained as ``__cause__``.
    """
    tracer = _Tracer(layout)
    tr = ShapeTrace("Keras", f"{model.name} ({type(model).__name__})")
    saved = _snapshot(model)
    try:
        tracer.run(model, x)
    except Exception as exc:
        if tracer.diagnosis is None:
            raise
        tr.rows, tr.diagnosis = tracer.rows, tracer.diagnosis
        raise ShapeError(tr) from exc
    finally:
        _restore(saved)
    tr.rows = tracer.rows
    return tr
