"""The Keras 3 recorder of :func:`lstm_ref.trace.trace`: ``keras.Layer.__call__`` (and ``Operation.__call__``,
for graph operations such as ``GetItem``) wrapped for one run of the model as ``model(x)`` runs it; an
unbuilt ``Sequential`` runs ``Sequential.call`` instead, which does not fix its input shape for good. The
calls the model makes itself are the rows (a nested model's are ``outer/inner``, a shared layer's second
``name#2``), after one per ``keras.Input``; Keras building a model symbolically makes none. The model's
non-trainable variables (a stateful RNN's ``(h, c)``) are restored.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import keras
import numpy as np

from lstm_ref.diagnose import KERAS_STATE
from lstm_ref.i18n import _
from lstm_ref.trace import _keras_layers as kl
from lstm_ref.trace._core import Row, Shape, ShapeError, ShapeTrace, axis_names, summary


class _Recorder:
    """The rows made so far and what is known of each tensor seen (``info``: id -> the tensor, its axes,
    the op that made it, that op's row and first input). ``stack``: per layer call running in this
    thread, the row-name prefix of a model whose own calls are rows, or None inside a layer."""

    def __init__(self, layout: Sequence[str] | None):
        self.layout, self.thread = None if layout is None else tuple(layout), threading.get_ident()
        self.rows, self.info, self.counts, self.stack = [], {}, {}, []
        self.diagnosis = self.mask_from = self.failed = None  # failed: (op, row, ins, exception) that raised
        self.by_shape: dict[tuple, tuple[str, ...]] = {}  # the model's inputs, which Keras converts unseen

    def row_name(self, name: str) -> str:
        self.counts[name] = k = self.counts.get(name, 0) + 1
        return name if k == 1 else f"{name}#{k}"

    def axes_of(self, t, default: Sequence[str] | None = None) -> tuple[str, ...]:
        hit, nd = self.info.get(id(t)), len(t.shape)
        if hit is not None and hit[0] is t and len(hit[1]) == nd:
            return hit[1]
        return self.by_shape.get(kl.shape_of(t)) or kl.fit_axes(default, nd, kl.default_axes(nd))

    def producer(self, t):
        """The op that made ``t``, looking through layers that keep the shape; (op, row) or (None, None)."""
        for _k in range(50):
            hit = self.info.get(id(t))
            if hit is None or hit[0] is not t or hit[2] is None:
                break
            if type(hit[2]).__name__ not in kl.KEEP or hit[4] is None:
                return hit[2], hit[3]
            t = hit[4]
        return None, None

    def run(self, model, x):
        """Call ``model`` (a Keras model or layer) on ``x`` as ``model(x)`` does, its calls recorded."""
        layer_call, op_call = keras.Layer.__call__, keras.Operation.__call__

        def on_layer(op, *args, **kwargs):
            return self.call(layer_call, op, args, kwargs)

        def on_op(op, *args, **kwargs):  # also a layer's own call: recorded once, in on_layer
            if isinstance(op, keras.Layer):
                return op_call(op, *args, **kwargs)
            return self.call(op_call, op, args, kwargs)

        def bare(layer, x):  # a layer on its own is one row; an RNN layer takes [x, h0, c0]
            flat = keras.tree.flatten(x) if isinstance(x, list | tuple) else [x]
            rnn = kl.rnn_layer(layer) is not None and len(flat) > 1
            return layer(flat[0], initial_state=flat[1:]) if rnn else layer(x)

        keras.Layer.__call__, keras.Operation.__call__ = on_layer, on_op
        try:
            how = layer_call if isinstance(model, keras.Model) else bare
            unbuilt = isinstance(model, keras.Sequential) and not model.built  # __call__ builds it for good
            how = keras.Sequential.call if unbuilt else how
            return self.expand(how, model, (x,), {}, "")
        finally:
            keras.Layer.__call__, keras.Operation.__call__ = layer_call, op_call

    def call(self, orig, op, args, kwargs):
        """One call of ``op`` through ``orig``: a row when an expanded model made it, else only run."""
        if threading.get_ident() != self.thread:
            return orig(op, *args, **kwargs)
        top = self.stack[-1] if self.stack else None
        flat = keras.tree.flatten(args) if top is not None else []
        if kl.in_symbolic_scope() or any(isinstance(t, keras.KerasTensor) for t in flat):
            top = None  # Keras building a model: no data flows
        if top is not None and isinstance(op, keras.Model) and args:
            return self.expand(orig, op, args, kwargs, f"{top}{op.name}/")
        row = ins = None
        if top is not None:
            ins = self.inputs_of(op, args, kwargs)
            row = Row(self.row_name(top + op.name), type(op).__name__, inputs=[s for s, _t in ins])
            self.rows.append(row)
            self.failed = None
        self.stack.append(None)
        try:
            out = orig(op, *args, **kwargs)
        except Exception as exc:
            self.failed = (op, row, ins, exc) if row is not None else self.failed
            raise
        finally:
            self.stack.pop()
        if row is not None:
            self.record(op, row, ins, out, kwargs.get("mask") is not None)
        return out

    def expand(self, orig, model, args: tuple, kwargs: dict, prefix: str):
        """Run ``model`` through ``orig``, its own calls rows named ``prefix + name``, after a row per
        ``keras.Input``; when it refuses its input, the failing row is that ``keras.Input``'s."""
        refs = list(getattr(model, "inputs", None) or [])  # [] for a subclass, an unbuilt Sequential
        struct = raw = args[0]  # as the model takes it, and flat: (x, (h0, c0)) and [x, h0, c0] alike
        raw = list(keras.tree.flatten(raw)) if isinstance(raw, dict | list | tuple) else [raw]
        if isinstance(struct, list | tuple) and all(hasattr(t, "shape") for t in raw):
            struct = raw if len(refs) > 1 else raw[0] if len(raw) == 1 else struct
        elif not isinstance(struct, dict) and not hasattr(struct, "shape"):  # numbers: one array
            struct = np.asarray(struct)
            raw = [struct]
        nd = len(raw[0].shape) if raw and hasattr(raw[0], "shape") else None
        layout = self.layout if not prefix and nd is not None else None
        given = layout and axis_names(nd, layout)  # a layout that does not fit x is the caller's ValueError
        uses = _input_uses(model, refs)
        n0, counts, check = len(self.rows), dict(self.counts), not isinstance(model, keras.Sequential)
        if refs and len(raw) == len(refs):
            for row in self.input_rows(refs, raw, prefix, uses, check):
                self.by_shape.setdefault(row.outputs[0].shape, row.outputs[0].axes)
        elif nd is not None:  # its first input, as known, or per the layout, or the usual names
            hit = self.info.get(id(raw[0]))
            first = model.layers[0] if isinstance(model, keras.Sequential) and model.layers else model
            use = "embedding" if isinstance(first, keras.layers.Embedding) else ""
            axes = hit[1] if hit is not None and hit[0] is raw[0] else given or kl.default_axes(nd, use)
            self.info[id(raw[0])] = (raw[0], axes, None, None, None)
            self.by_shape.setdefault(kl.shape_of(raw[0]), axes)
        n1 = len(self.rows)
        self.stack.append(prefix)
        try:
            out = orig(model, struct, *args[1:], **kwargs)
        except Exception as exc:
            if self.failed is None and self.diagnosis is None and refs and len(self.rows) == n1:
                del self.rows[n0:]
                self.counts = counts  # the input rows again, under the same names
                self.fail_input(refs, raw, prefix, uses, check, exc)
            elif self.failed is None and self.diagnosis is None:  # its own code failed
                self.fail(model, *self.model_row(model, raw, prefix), exc)
            raise
        finally:
            self.stack.pop()
        if len(self.rows) == n1:  # no layer seen: the model is one row
            self.record(model, *self.model_row(model, raw, prefix), out)
        return out

    def inputs_of(self, op, args, kwargs) -> list[tuple[Shape, object]]:
        """The tensors ``op`` is called with, labelled (``x``, ``h0``, ``args[1]``), as ``(Shape, tensor)``."""
        r, bi, first = kl.recurrent(op), isinstance(op, keras.layers.Bidirectional), args[0] if args else None
        seq = isinstance(first, list | tuple)
        flat = [t for t in keras.tree.flatten(first) if kl.is_tensor(t)] if seq else []
        found = [("x", first)] * kl.is_tensor(first) + [(f"x[{k}]", t) for k, t in enumerate(flat)]
        found += [(f"args[{k}]", a) for k, a in enumerate(args[1:], start=1) if kl.is_tensor(a)]
        for key, val in [(k, v) for k, v in kwargs.items() if k not in ("mask", "training")]:
            flat = [t for t in keras.tree.flatten(val) if kl.is_tensor(t)]
            if key == "initial_state" and r is not None:
                labels = [f"{s}0" for s in kl.state_labels(r, len(flat) // 2 if bi else len(flat))]
                labels = [f"{s}_{d}" for d in ("forward", "backward") for s in labels] if bi else labels
                found += zip(labels, flat, strict=False)
            else:
                found += [(key if len(flat) == 1 else f"{key}[{k}]", t) for k, t in enumerate(flat)]
        return [self.named(label, t) for label, t in found]

    def named(self, label: str, t) -> tuple[Shape, object]:
        """``t`` with its axes: known ones, else those of a model input of its shape, else the usual."""
        state = label.startswith(("h0", "c0", "h_", "c_")) or "0_" in label
        return Shape(label, kl.shape_of(t), self.axes_of(t, KERAS_STATE if state else None)), t

    def record(self, op, row: Row, ins, out, masked: bool = False) -> None:
        """What ``op`` returned: the row's outputs named, its params and note (an op making a mask: no row)."""
        outs = [t for t in keras.tree.flatten(out) if kl.is_tensor(t)]
        try:
            named = kl.output_axes(op, ins, outs)
        except Exception:
            named = []
        if len(named) != len(outs):
            named = [("output" if len(outs) == 1 else f"output[{k}]", None) for k in range(len(outs))]
        row.outputs = []
        for (label, axes), t in zip(named, outs, strict=True):
            nd = len(t.shape)
            row.outputs.append(Shape(label, kl.shape_of(t), kl.fit_axes(axes, nd, kl.default_axes(nd))))
            self.info[id(t)] = (t, row.outputs[-1].axes, op, row, ins[0][1] if ins else None)
        if not isinstance(op, keras.Layer) and outs and all("bool" in str(t.dtype) for t in outs):
            self.rows[:] = [r for r in self.rows if r is not row]  # a mask op (Masking's NotEqual): no row
            return
        row.params = _params(op)
        try:
            row.note = kl.note(self, op, row, ins, masked)
        except Exception:
            row.note = ""

    def fail(self, op, row: Row, ins, exc: BaseException) -> None:
        row.failed, row.params = True, _params(op)
        try:
            self.diagnosis = kl.diagnose_layer(self, op, row, ins, exc)
        except Exception:  # the diagnosis must never hide the model's own error
            self.diagnosis = None
        why = _("{name} ({kind}): {why}").format(name=row.name, kind=row.kind, why=summary(exc))
        self.diagnosis = self.diagnosis or why

    def model_row(self, model, raw, prefix: str) -> tuple[Row, list]:
        """A row for the whole model, appended to the rows; with its inputs as ``(Shape, tensor)``."""
        ins = [self.named("x", r) for r in raw if hasattr(r, "shape")]
        self.rows.append(Row(self.row_name(prefix + model.name), type(model).__name__, [s for s, _t in ins]))
        return self.rows[-1], ins

    def input_rows(self, refs, raw, prefix: str, uses, check: bool, failed: bool = False) -> list[Row]:
        """One ``InputLayer`` row per model input (appended): ``raw`` as given and as Keras makes it
        (not the last, when ``failed``: that one was refused)."""
        rows = []
        for i, (ref, r) in enumerate(zip(refs, raw, strict=False)):
            want, label = kl.shape_of(ref), "x" if len(refs) == 1 else _input_name(ref, i)
            names = kl.default_axes(len(want), uses.get(i, ""))
            got = kl.shape_of(keras.ops.convert_to_tensor(r))
            hit, given = self.info.get(id(r)), prefix == "" and i == 0 and self.layout is not None
            if hit is not None and hit[0] is r and len(hit[1]) == len(got):
                axes = hit[1]
            elif given:
                axes = axis_names(len(got), self.layout)
            elif len(got) == len(names) or _rank_adjusted(got, want) is None:
                axes = kl.fit_axes(names, len(got))
            else:
                axes = names[:-1] if len(got) < len(names) else (*names, "axis")
            row = Row(self.row_name(prefix + _input_name(ref, i)), "InputLayer", [Shape(label, got, axes)])
            adj = _rank_adjusted(got, want)
            if not (failed and i == len(refs) - 1):  # the caller's names, where given
                std = adj or got
                grown = {0: axes, 1: (*axes, "features"), -1: axes[: len(std)]}.get(len(std) - len(axes))
                mine = given or axes != names[: len(axes)]
                row.outputs = [Shape(label, std, grown or names if mine else names)]
            if adj is not None and len(got) != len(want):  # what Keras did to its rank
                added = _("Keras added the last axis of size 1 (x[..., None])")
                row.note = added if len(got) < len(want) else _("Keras dropped the last axis of size 1")
            trio = zip(names, adj or (), want, strict=False)
            each = _("{axis}={got}, not {want}")
            off = [each.format(axis=a, got=g, want=e) for a, g, e in trio if e not in (None, g)]
            if off and not check:  # sizes a Sequential lets through
                declared = _("keras.Input declared otherwise ({sizes}): Sequential does not check")
                off = declared.format(sizes=_("; ").join(off))
                row.note = _("; ").join([*filter(None, [row.note]), off])
            rows.append(row)
        self.rows += rows
        return rows

    def fail_input(self, refs, raw, prefix: str, uses, check: bool, exc) -> None:
        """The model refused ``x`` before any layer ran: the failing row is the ``keras.Input``'s."""
        k = max(min(len(raw), len(refs)) - 1, 0)
        if len(raw) == len(refs):  # the first input that does not fit its keras.Input, else Keras's word
            m = re.search(r"Input (\d+)", str(exc))
            k = int(m.group(1)) if m and int(m.group(1)) < len(refs) else 0
            for i, (r, ref) in enumerate(zip(raw, refs, strict=True)):
                adj, want = _rank_adjusted(kl.shape_of(r), kl.shape_of(ref)), kl.shape_of(ref)
                if adj is None or any(e not in (None, a) for a, e in zip(adj[1:], want[1:], strict=True)):
                    k = i
                    break
        last = self.input_rows(refs[: k + 1], raw[: k + 1], prefix, uses, check, failed=True)[-1]
        last.failed, s, want = True, last.inputs[0], kl.shape_of(refs[k])
        try:
            names = kl.default_axes(len(want), uses.get(k, ""))
            self.diagnosis = kl.diagnose_input(last.name, s.label, s.shape, want, names, exc)
        except Exception:
            self.diagnosis = _("{name} ({kind}): {why}").format(
                name=last.name, kind="InputLayer", why=summary(exc)
            )
        if len(raw) != len(refs):
            inputs = ", ".join(_input_name(r, i) for i, r in enumerate(refs))
            many = _("the model has {n} input(s) ({inputs}) but got {m} array(s); pass them as a list in this order").format(n=len(refs), inputs=inputs, m=len(raw))  # fmt: skip
            self.diagnosis = _("{name} ({kind}): {why}").format(name=last.name, kind="InputLayer", why=many)


def _params(op) -> int:
    try:
        return int(op.count_params()) if isinstance(op, keras.Layer) and op.built else 0
    except Exception:  # a layer that never created its weights
        return 0


def _input_uses(model, refs) -> dict[int, str]:
    """How each model input is used: 'state' (an RNN's initial_state), 'embedding', or '' (read from the
    model's graph, Keras's private ``_nodes_by_depth``; {} where it cannot be read)."""
    uses: dict[int, str] = {}
    try:
        ids, graph = {id(r): i for i, r in enumerate(refs)}, getattr(model, "_functional", None) or model
        for node in [n for nodes in graph._nodes_by_depth.values() for n in nodes]:
            op, kwargs = node.operation, node.arguments.kwargs
            state = kwargs.get("initial_state") if kl.rnn_layer(op) is not None else None
            uses.update((ids[id(t)], "state") for t in keras.tree.flatten(state) if id(t) in ids)
            embedded = node.input_tensors if isinstance(op, keras.layers.Embedding) else []
            for t in [t for t in embedded if id(t) in ids]:
                uses.setdefault(ids[id(t)], "embedding")
    except Exception:
        pass
    return uses


def _input_name(ref, i: int) -> str:
    op = getattr(getattr(ref, "_keras_history", None), "operation", None)
    return getattr(op, "name", None) or getattr(ref, "name", None) or f"input_{i}"


def _rank_adjusted(raw: tuple, ref: tuple) -> tuple | None:
    """The shape Keras makes of ``raw`` for a ``keras.Input`` of shape ``ref`` (adding or dropping a
    last axis of size 1), or None when the ranks cannot be made to agree."""
    if len(raw) == len(ref):
        return raw
    if len(raw) == len(ref) + 1 and raw[-1] == 1:
        return raw[:-1]
    return (*raw, 1) if len(raw) == len(ref) - 1 and ref and ref[-1] == 1 else None


def trace_keras(model, x, *, layout: Sequence[str] | None = None) -> ShapeTrace:
    """:func:`lstm_ref.trace.trace` for a Keras 3 model or layer; ``x``: an array or tensor, or ``[x, h0, c0]``
    (``(x, (h0, c0))`` alike) for several inputs or an RNN layer given its state. The last row of the
    ``ShapeError``'s trace is the failing layer, or the ``keras.Input`` that refused ``x``."""
    rec, tr = _Recorder(layout), ShapeTrace("Keras", f"{model.name} ({type(model).__name__})")
    saved = {id(v): v for v in getattr(model, "non_trainable_variables", [])}  # what a run may change
    for layer in [model, *getattr(model, "_flatten_layers", lambda **_kw: [])(include_self=False)]:
        if getattr(layer, "stateful", False) and getattr(layer, "states", None) is not None:
            saved.update((id(v), v) for v in keras.tree.flatten(layer.states) if hasattr(v, "assign"))
    saved = [(v, v.numpy()) for v in saved.values()]  # (Keras keeps a stateful RNN's states apart)
    try:
        rec.run(model, x)
    except Exception as exc:
        if rec.diagnosis is None and rec.failed is not None:
            rec.fail(*rec.failed)
        if rec.diagnosis is None:
            raise
        tr.rows, tr.diagnosis = rec.rows, rec.diagnosis
        raise ShapeError(tr) from exc
    finally:
        for v, value in saved:
            v.assign(value)
    tr.rows = rec.rows
    return tr
