"""The Keras tracer's way to run a model with its own ``call`` (a subclass): ``model(x)`` itself, watched.

:func:`observe` runs ``model(x)`` under :func:`sys.settrace` (or :func:`sys.setprofile` when a
debugger or coverage holds the trace hook) and watches for calls of ``keras.Layer.__call__`` (and
``keras.Operation.__call__``): the layers the model calls directly become the rows, deeper calls
are inside them, and calls made while Keras builds the model symbolically are skipped. When both
hooks are taken, or no layer is seen, the model is one row.
"""

from __future__ import annotations

import inspect
import sys

import keras

from lstm_ref.trace._core import Row, Shape
from lstm_ref.trace._keras_common import _shape
from lstm_ref.trace._keras_inputs import _rank_adjusted

_BUILD_FRAMES = {"_maybe_build", "build", "compute_output_spec", "compute_output_shape", "symbolic_call"}


def _building(frame, top) -> bool:
    """Whether a layer call seen at ``frame`` is Keras building the model (symbolic), not running it."""
    f = frame.f_back
    while f is not None and f is not top:
        if f.f_code.co_name in _BUILD_FRAMES:
            return True
        f = f.f_back
    return False


def observe(tracer, model, x, prefix: str):
    """Run ``model(x)`` itself and record, in ``tracer``, the layers it calls directly."""
    try:
        refs = list(model.inputs)
    except Exception:  # a subclassed model
        refs = []
    struct, raw = tracer.flat_inputs(x, max(len(refs), 1))
    tracer.check_layout(raw, prefix)
    n_before, counts = len(tracer.rows), dict(tracer.counts)
    _name_inputs(tracer, refs, raw, prefix)
    n_inputs = len(tracer.rows) - n_before
    watch = _Watch(tracer, prefix)
    try:
        out = watch.run(model, struct)
    except Exception as exc:
        if watch.ended:
            op, row, ins = watch.ended[0]
            tracer.fail(op, row, ins, exc)
            del tracer.rows[next(i for i, r in enumerate(tracer.rows) if r is row) + 1 :]
        elif refs and len(tracer.rows) == n_before + n_inputs:
            del tracer.rows[n_before:]
            tracer.counts = counts  # the input rows again, under the same names
            tracer.fail_input(refs, raw, prefix, {}, True, exc)
        else:
            tracer.fail(model, *_model_row(tracer, model, raw, prefix), exc)
        raise
    if len(tracer.rows) == n_before + n_inputs:  # no layer seen: the model is one row
        tracer.record(model, *_model_row(tracer, model, raw, prefix), out)
    return out


def _name_inputs(tracer, refs, raw, prefix: str) -> None:
    """``InputLayer`` rows when the model has its ``keras.Input``\\ s, and names by shape for the arrays
    Keras converts where the hook cannot see them."""
    if refs and len(raw) == len(refs):
        std = [_rank_adjusted(_shape(r), _shape(ref)) or _shape(r) for r, ref in zip(raw, refs, strict=True)]
        rows = tracer.input_rows(refs, raw, std, prefix, {}, True)
        for row in rows:
            tracer.by_shape.setdefault(row.outputs[0].shape, row.outputs[0].axes)
        tracer.rows += rows
    elif raw and hasattr(raw[0], "shape"):
        hit = tracer.info.get(id(raw[0]))
        axes = hit[1] if hit is not None and hit[0] is raw[0] else tracer.top_axes(0, len(raw[0].shape))
        tracer.by_shape.setdefault(_shape(raw[0]), axes)


def _model_row(tracer, model, raw, prefix: str) -> tuple[Row, list]:
    """A row for the whole model, appended to the rows; with its inputs as ``(Shape, tensor)``."""
    row = Row(tracer.row_name(prefix + model.name), type(model).__name__)
    ins = [(Shape("x", _shape(r), tracer.axes_of(r)), r) for r in raw if hasattr(r, "shape")]
    row.inputs = [s for s, _ in ins]
    tracer.rows.append(row)
    return row, ins


class _Watch:
    """One ``model(x)`` under a hook: a row per layer call made by the model itself."""

    def __init__(self, tracer, prefix: str):
        self.tracer = tracer
        self.prefix = prefix
        self.layer_code = inspect.unwrap(keras.Layer.__call__).__code__
        self.op_code = inspect.unwrap(keras.Operation.__call__).__code__
        self.depth: list = []  # the frames of layer calls entered and not left; [0] is the model's
        self.open_rows: dict[int, tuple | None] = {}  # id(frame) -> (op, row, ins, masked); None: symbolic
        self.ended: list = []  # (op, row, ins) of the calls left by an exception

    def run(self, model, struct):
        """``model(struct)`` under settrace (reports Python calls only, cheaper) or, under a debugger or
        coverage, which use it, setprofile; under a profiler too, the model runs unwatched (one row)."""
        hooks = (
            (sys.gettrace, sys.settrace, self.global_trace),
            (sys.getprofile, sys.setprofile, self.profile),
        )
        hook = next(((put, fn) for get, put, fn in hooks if get() is None), None)
        if hook is not None:
            hook[0](hook[1])
        try:
            return model(struct)
        finally:
            if hook is not None:
                hook[0](None)

    def on_call(self, frame) -> bool:
        code = frame.f_code
        if code is not self.layer_code and code is not self.op_code:
            return False
        loc = frame.f_locals
        op = loc.get("self")
        if code is self.op_code and isinstance(op, keras.Layer):
            return False  # the Operation part of a layer's own call
        self.depth.append(frame)
        if len(self.depth) == 2:  # called by the model itself
            args, kwargs = loc.get("args", ()), loc.get("kwargs", {})
            if _building(frame, self.depth[0]) or any(
                isinstance(t, keras.KerasTensor) for t in keras.tree.flatten((args, kwargs))
            ):
                self.open_rows[id(frame)] = None  # Keras building the model symbolically: no data yet
                return True
            tracer = self.tracer
            ins = tracer.inputs_of(op, args, kwargs)
            row = Row(tracer.row_name(self.prefix + op.name), type(op).__name__, inputs=[s for s, _ in ins])
            tracer.rows.append(row)
            self.open_rows[id(frame)] = (op, row, ins, kwargs.get("mask") is not None)
        return True

    def on_return(self, frame, arg) -> None:
        if not self.depth or frame is not self.depth[-1]:
            return
        self.depth.pop()
        if len(self.depth) == 1:
            entry = self.open_rows.pop(id(frame))
            if entry is None:
                return
            op, row, ins, masked = entry
            if arg is None:  # left by an exception
                self.ended.append((op, row, ins))
            else:
                self.tracer.record(op, row, ins, arg, masked)

    def local_trace(self, frame, event, arg):
        if event == "return":
            self.on_return(frame, arg)
        return self.local_trace

    def global_trace(self, frame, event, arg):
        if event == "call" and self.on_call(frame):
            frame.f_trace_lines = False  # only its return matters: no event per line
            return self.local_trace
        return None

    def profile(self, frame, event, arg):
        if event == "call":
            self.on_call(frame)
        elif event == "return":
            self.on_return(frame, arg)
