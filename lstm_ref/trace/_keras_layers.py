"""What the Keras recorder knows of layers: a recurrent layer's spec, the names of what a layer returned,
the note of its row, why a layer (or a ``keras.Input``) refused its input. ``ins`` is a call's inputs as
``[(Shape, tensor), ...]``, its ``x`` first; ``rec`` the recorder (who made a tensor, where masks start).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import keras

from lstm_ref.diagnose import BTF, KERAS_STATE, diagnose, layout_str
from lstm_ref.i18n import _
from lstm_ref.trace._core import Recurrent, Row, Shape, axis_names, carry, diagnose_rnn, summary

try:  # Keras's private API: whether Keras builds a model on symbolic tensors; a tensor's mask
    from keras.src.backend import get_keras_mask
    from keras.src.backend.common.symbolic_scope import in_symbolic_scope
except ImportError:  # pragma: no cover - another Keras 3

    def in_symbolic_scope() -> bool:
        return False

    def get_keras_mask(t):
        return getattr(t, "_keras_mask", None)


#: layers that keep the shape and the meaning of every axis (looked through to find who made a tensor)
KEEP = {"Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "AlphaDropout", "Activation"}
KEEP |= {"ReLU", "LeakyReLU", "BatchNormalization", "LayerNormalization", "Identity"}
RNN_KINDS = ("LSTM", "GRU", "SimpleRNN", "RNN", "Bidirectional")


def is_tensor(a) -> bool:
    return hasattr(a, "shape") and hasattr(a, "dtype") and not isinstance(a, keras.Layer | type)


def shape_of(t) -> tuple:
    return tuple(None if d is None else int(d) for d in t.shape)


def rnn_layer(op):
    """The recurrent layer inside ``op`` (itself, or a ``Bidirectional``'s forward layer), else None."""
    if isinstance(op, keras.layers.Bidirectional):
        return op.forward_layer
    return op if isinstance(op, keras.layers.RNN) else None


def recurrent(op) -> Recurrent | None:
    """The spec of a Keras recurrent layer (``D = 2`` for a ``Bidirectional`` that concatenates)."""
    rnn = rnn_layer(op)
    if rnn is None:
        return None
    kernel, states = getattr(rnn.cell, "kernel", None), getattr(rnn, "states", None) if rnn.stateful else None
    F = int(kernel.shape[0]) if kernel is not None and len(kernel.shape) == 2 else None
    D = 2 if isinstance(op, keras.layers.Bidirectional) and op.merge_mode == "concat" else 1
    lstm = isinstance(rnn, keras.layers.LSTM) or type(rnn.cell).__name__ == "LSTMCell"
    stateful = int(keras.tree.flatten(states)[0].shape[0]) if states else None
    units = int(getattr(rnn.cell, "units", 0) or 0)
    return Recurrent(type(rnn).__name__, F, units, D=D, lstm=lstm, stateful=stateful, keras=True)


def state_labels(r: Recurrent, n: int) -> list[str]:
    """The labels of ``n`` state tensors: ``h`` and ``c`` for an LSTM."""
    return ["h", "c"] if n == 2 and r.lstm else ["h"] if n == 1 else [f"state[{k}]" for k in range(n)]


def fit_axes(axes, ndim: int, default: Sequence[str] | None = None) -> tuple[str, ...]:
    return tuple(axes) if axes is not None and len(axes) == ndim else axis_names(ndim, default=default)


def default_axes(ndim: int, use: str = "") -> tuple[str, ...]:
    """Names for an array entering a model: (batch, time_steps, features) for 3-D; a 2-D array is
    (batch, hidden) for a state, (batch, time_steps) for an Embedding, else (batch, features)."""
    if ndim == 2:
        return {"state": KERAS_STATE, "embedding": ("batch", "time_steps")}.get(use, ("batch", "features"))
    return BTF if ndim == 3 else axis_names(ndim)


def output_axes(op, ins, outs) -> list[tuple[str, tuple | None]]:
    """``(label, axes)`` per output of ``op`` given ``ins``; ``axes`` None where nothing better is known."""
    (x, _t), n, r, L = ins[0] if ins else (None, None), len(outs), recurrent(op), keras.layers
    if r is not None:
        bi, nd = isinstance(op, L.Bidirectional), 3 if op.return_sequences else 2
        heads = ["output_forward", "output_backward"] if bi and op.merge_mode is None else ["output"]
        labels = state_labels(r, (n - len(heads)) // (2 if bi else 1))
        labels = [f"{s}_{d}" for d in ("forward", "backward") for s in labels] if bi else labels
        return [(h, r.axes("output", nd)) for h in heads] + [(s, r.axes(s, 2)) for s in labels]
    a = x.axes if x is not None and n == 1 else None
    if isinstance(op, L.TimeDistributed) and a and len(a) >= 2:
        step = [(Shape("x", (x.shape[0], *x.shape[2:]), (a[0], *a[2:])), None)]
        inner = output_axes(op.layer, step, [keras.KerasTensor((outs[0].shape[0], *outs[0].shape[2:]))])
        if len(inner) == 1 and inner[0][1] is not None:
            return [("output", (inner[0][1][0], a[1], *inner[0][1][1:]))]
    if not a:
        return [("output" if n == 1 else f"output[{k}]", None) for k in range(n)]
    name, out, last = type(op).__name__, shape_of(outs[0]), {s.axes[-1] for s, _t in ins if s.axes}
    conv = name in ("Conv1D", "SeparableConv1D", "DepthwiseConv1D") and len(out) == 3
    pool = name.startswith("Global") and name.endswith("1D") and len(a) == 3 and len(out) == 2
    simple = {
        L.Dense: (*a[:-1], "units"),
        L.Embedding: (*a, "features"),
        L.RepeatVector: (a[0], "time_steps", *a[1:]),
        L.Permute: isinstance(op, L.Permute) and (a[0], *(a[d] for d in op.dims)),
        L.Concatenate: len(ins) > 1 and (*a[:-1], last.pop() if len(last) == 1 else "features"),
    }
    found = (a[0], a[1], "filters") if conv else (a[0], a[2]) if pool else None
    found = found or next((v for k, v in simple.items() if isinstance(op, k) and v), None)
    common = next((k for k in range(min(len(a), len(out))) if x.shape[k] != out[k]), min(len(a), len(out)))
    moved = a if len(out) == len(a) else a[:common] + tuple(f"axis {k}" for k in range(common, len(out)))
    return [("output", found or carry(x.shape, a, out) or moved)]


def note(rec, op, row: Row, ins, masked: bool = False) -> str:
    """The note of ``row``: where the layout changes, or what the layer does to time or the mask."""
    if not ins:
        return ""
    (x, xt), r, L = ins[0], recurrent(op), keras.layers
    if r is not None and len(x.shape) == 3:  # how it reads x, what it returns, its state and mask
        parts, f = [], x.shape[2]
        first = next((w for w in rec.rows if w.kind in RNN_KINDS), None)
        if x.axes[:2] != ("batch", "time_steps") and {"batch", "time_steps"} <= set(x.axes):
            msg = _("Keras reads (batch, time_steps, features) but this input is {axes}: transpose it")
            parts.append(msg.format(axes=f"({', '.join(x.axes)})"))
        elif x.shape[1] == 1 and f not in (None, 1) and row is first:
            msg = _("time_steps=1: one step of {f} features; a window of {f} values of one series is {code}")
            parts.append(msg.format(f=f, code=f"X.reshape(n, {f}, 1)"))
        parts += [_("time axis dropped: return_sequences=False")] * (not op.return_sequences)
        parts += [_("forward and backward concatenated: 2 × {h}").format(h=r.H)] * (r.D == 2)
        parts += [_("return_state=True: final states returned too")] * bool(op.return_state)
        if r.stateful is not None:
            parts.append(_("stateful: state kept between calls, batches of exactly {n}").format(n=r.stateful))
        if masked or get_keras_mask(xt) is not None:
            mask = _("mask from {layer}: padded steps skipped") if rec.mask_from else _("mask from the input: padded steps skipped")  # fmt: skip
            parts.append(mask.format(layer=rec.mask_from))
        return _("; ").join(parts)
    if isinstance(op, L.Masking) or isinstance(op, L.Embedding) and getattr(op, "mask_zero", False):
        rec.mask_from = row.name
        if isinstance(op, L.Masking):
            return _("steps whose features all equal {value} are padding (masked)").format(
                value=op.mask_value
            )
        return _("mask_zero=True: id 0 is padding (masked)")
    if isinstance(op, L.Dense) and "time_steps" in x.axes:
        return _("Dense applied at every time step (input has a time axis)")
    if isinstance(op, L.TimeDistributed):
        return _("{layer} applied at every time step").format(layer=type(op.layer).__name__)
    if not (row.outputs and "time_steps" in x.axes and "time_steps" not in row.outputs[0].axes):
        return ""
    flat = [a for a in row.outputs[0].axes if "time_steps" in a]
    src = rec.producer(xt)[0]
    bidir = isinstance(src, L.Bidirectional) and src.return_sequences and not isinstance(op, L.Layer)
    if flat or not bidir:
        return _("time axis flattened: {axes}").format(axes=flat[0]) if flat else _("time axis dropped")
    return _("time axis dropped; under Bidirectional the backward half of the last step has seen one step only; return_sequences=False gives both directions' final states")  # fmt: skip


def diagnose_layer(rec, op, row: Row, ins, exc: BaseException) -> str | None:
    """Why ``op`` (its ``row`` the failing one) refused ``ins``, in :mod:`lstm_ref.diagnose` words."""
    if not ins:
        return None
    head, x, r = _("{name} ({kind}): {why}"), ins[0][0], recurrent(op)
    if r is not None and len(x.shape) in (2, 3) and (r.F is not None or not rnn_layer(op).built):
        return head.format(name=row.name, kind=row.kind, why=_why_rnn(rec, r, ins, exc))
    inner = op.layer if isinstance(op, keras.layers.TimeDistributed) else op
    why = None
    if isinstance(inner, keras.layers.Dense) and inner.built:  # built for another width than it got
        f, nd = int(inner.kernel.shape[0]), max(len(x.shape), 2 + (inner is not op))
        why = diagnose(x.shape, (None,) * (nd - 1) + (f,), fit_axes(x.axes, nd, BTF if nd == 3 else None))
        built = _("{layer}'s kernel was built for {n} inputs on the last axis; the layer before it gives another width")  # fmt: skip
        why = why and _("{msg}; {hint}").format(msg=why, hint=built.format(layer=inner.name, n=f))
    spec = keras.tree.flatten(op.input_spec)[0] if isinstance(op, keras.Layer) and op.input_spec else None
    if why is None and spec is not None:  # what the layer's input_spec asks for, None where it leaves free
        nd = spec.ndim or (spec.min_ndim if spec.min_ndim and len(x.shape) < spec.min_ndim else None)
        nd = nd or (spec.max_ndim if spec.max_ndim and len(x.shape) > spec.max_ndim else None) or len(x.shape)
        exp = [None] * nd
        for axis, val in [(a, v) for a, v in (spec.axes or {}).items() if -nd <= a < nd]:
            exp[axis] = val
        exp = tuple(spec.shape) if spec.shape is not None else tuple(exp)
        why = diagnose(x.shape, exp, fit_axes(x.axes, len(exp), BTF if len(exp) == 3 else None))
    why = why or _("failed on input {shape}: {error}").format(shape=x.sizes(), error=summary(exc))
    return head.format(name=row.name, kind=row.kind, why=why)


def _why_rnn(rec, r: Recurrent, ins, exc) -> str:
    """A recurrent layer refused ``x``, or an initial state (each ``(batch, units)``)."""
    (x, xt), extra, fix, t, got = ins[0], "", True, None, ins[0][0].shape
    src, src_row = rec.producer(xt) if len(got) == 2 else (None, None)  # what made x 2-D
    if src is not None and rnn_layer(src) is not None and not src.return_sequences:
        ins0 = src_row.inputs[:1] if src_row is not None else []
        t = ins0[0].shape[1] if ins0 and len(ins0[0].shape) == 3 else None
        r, fix = dataclasses.replace(r, F=got[-1] if r.F is None else r.F), False
        extra = _("here the time axis was dropped inside the model: the {kind} '{layer}' below returns only its last step (return_sequences=False); give it return_sequences=True, as every recurrent layer that feeds another one needs").format(kind=type(src).__name__, layer=src.name)  # fmt: skip
    elif src is not None and rnn_layer(src) is None:
        extra = _("'{layer}' ({kind}) gives one vector per sample; keras.layers.RepeatVector(time_steps) before this layer repeats it over the time steps").format(kind=type(src).__name__, layer=src.name)  # fmt: skip
    bad = diagnose_rnn(r, got, [(s.label, s.shape) for s, _s in ins[1:]], t=t, fix=fix)
    if bad is None:
        return _("failed on input {shape}: {error}").format(shape=x.sizes(), error=summary(exc))
    if bad[0] != "x":
        return _("{msg}; a Keras {kind} state is (batch, units), one per state tensor").format(
            msg=bad[1], kind=r.kind
        )
    b, f, why = r.stateful, r.F, bad[1]
    if b is not None and len(got) == 3 and got[0] != b:  # not a window count: the layer's state fixes it
        why = _("axis {i} ({axis}) is {got}, expected {want}").format(i=0, axis="batch", got=got[0], want=b)
        want = layout_str(BTF, dict(zip(BTF, (b, t, f), strict=True)))
        why = _("{name}: expected {layout}, got shape {got}: {reason}").format(
            name="x", layout=want, got=got, reason=why
        )
        extra = _("a stateful {kind} keeps its state for exactly {n} samples, the batch size it was built with: feed batches of {n} (predict(x, batch_size={n}); pad or drop the last batch), or copy the weights into a stateless twin for other batch sizes").format(kind=r.kind, n=b)  # fmt: skip
    elif f is not None and len(got) == 3 and got[2] != f and got[1] != f:  # not a time/feature swap
        extra = _("the {kind} was built for {n} features per time step").format(kind=r.kind, n=f)
    return _("{msg}; {hint}").format(msg=why, hint=extra) if extra else why


def diagnose_input(name: str, label: str, raw: tuple, ref: tuple, names, exc) -> str:
    """Why the ``keras.Input`` ``name`` (shape ``ref``, axes ``names``) refused an array of shape ``raw``."""
    head, exp = _("{name} ({kind}): {why}"), (None, *ref[1:])
    why, extra, same = diagnose(raw, exp, names, name=label), "", len(raw) == len(ref) == 3
    if why is None:
        return head.format(name=name, kind="InputLayer", why=summary(exc))
    others = all(e in (None, g) for i, (g, e) in enumerate(zip(raw, exp, strict=False)) if i != 1)
    if same and names[1] == "time_steps" and raw[1] != ref[1] is not None and others:
        extra = _("or build the model with {code} to accept windows of any length").format(code=f"keras.Input(shape=(None, {ref[2]}))")  # fmt: skip
    elif same and names[2] == "features" and raw[2] != ref[2] is not None and raw[1] != ref[2]:
        if all(e in (None, g) for g, e in zip(raw[:2], exp[:2], strict=True)):  # not a time/feature swap
            extra = _("the model was built for {n} features per time step").format(n=ref[2])
    why = _("{msg}; {hint}").format(msg=why, hint=extra) if extra else why
    return head.format(name=name, kind="InputLayer", why=why)
