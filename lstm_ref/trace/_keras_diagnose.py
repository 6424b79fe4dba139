"""The Keras tracer's diagnoses: why the failing layer (or ``keras.Input``) refused what arrived.

:class:`_Diagnoses` words the failure of a layer in :mod:`lstm_ref.shapes` words: a recurrent layer
(its input, a time axis dropped by the layer below, a stateful batch size, its initial state), a
Dense built for another width, or whatever the layer's ``input_spec`` says; a nested model run as
one piece is diagnosed from Keras's message. :func:`_diagnose_input` is for a ``keras.Input`` that
refused the model's input.
"""

from __future__ import annotations

import re

import keras

from lstm_ref._checks import layout_str
from lstm_ref.shapes import diagnose
from lstm_ref.trace._core import Row, Shape
from lstm_ref.trace._keras_common import (
    _ANSI,
    BTF,
    STATE,
    _all_layers,
    _default_axes,
    _fit_axes,
    _message,
    _rnn,
    _rnn_batch,
    _rnn_features,
    _TracerState,
    _units,
)


class _Diagnoses(_TracerState):
    """The diagnosis of a layer that failed, from its row and its inputs."""

    def diagnose_layer(self, op, row: Row, ins, exc: BaseException) -> str | None:
        head = f"{row.name} ({row.kind}): "
        if not ins:
            return None
        x, xt = ins[0]
        got = x.shape
        rnn = _rnn(op)
        if rnn is not None and len(got) in (2, 3) and (_rnn_features(rnn) is not None or not rnn.built):
            return self.diagnose_rnn(op, rnn, head, ins, exc)
        d = _dense_mismatch(op, x)
        if d:
            return head + d
        exp = _spec_expected(op, got)
        if exp is not None:
            names = _fit_axes(x.axes, len(exp), default=BTF if len(exp) == 3 else None)
            d = diagnose(got, exp, names, name="x")
            if d:
                return head + d
        return head + f"failed on input {x.sizes()}: {_message(exc)}"

    def diagnose_rnn(self, op, rnn, head: str, ins, exc) -> str:
        x, xt = ins[0]
        got = x.shape
        f = _rnn_features(rnn)
        b = _rnn_batch(rnn)
        kind = type(rnn).__name__
        extra, fix, t_exp = "", True, None
        if len(got) == 2:
            extra, fix, f, t_exp = self.two_d_hint(xt, got, f)
        exp = (b, t_exp, f)
        d = diagnose(got, exp, BTF, name="x", fix=fix)
        if d is None:
            # x fits: look at the initial state, (batch, units) per state tensor
            return head + (
                _state_mismatch(kind, ins, got, _units(rnn))
                or f"failed on input {x.sizes()}: {_message(exc)}"
            )
        if b is not None and len(got) == 3 and got[0] != b:
            # not the off-by-one of a window count: the batch is fixed by the layer's state
            d = f"x: expected {layout_str(BTF, dict(zip(BTF, exp, strict=True)))}, got shape {got}: "
            d += f"axis 0 (batch) is {got[0]}, expected {b}"
            extra = (
                f"a stateful {kind} keeps its state for exactly {b} samples, the batch size it was built "
                f"with: feed batches of {b} (predict(x, batch_size={b}); pad or drop the last batch), or "
                "copy the weights into a stateless twin for other batch sizes"
            )
        elif f is not None and len(got) == 3 and got[2] != f and got[1] != f:  # not a time/feature swap
            extra = f"the {kind} was built for {f} features per time step"
        return head + d + (f"; {extra}" if extra else "")

    def two_d_hint(self, xt, got: tuple, f: int | None) -> tuple[str, bool, int | None, int | None]:
        """A recurrent layer given a 2-D ``x``: what made it so, as ``(extra, fix, features, time_steps)``
        (``fix``: whether the generic fix of :func:`lstm_ref.shapes.diagnose` applies)."""
        src, src_row = self.producer(xt)
        src_rnn = _rnn(src) if src is not None else None
        if src_rnn is not None and not src.return_sequences:
            t_exp = None
            if src_row is not None and src_row.inputs and len(src_row.inputs[0].shape) == 3:
                t_exp = src_row.inputs[0].shape[1]
            extra = (
                f"here the time axis was dropped inside the model: the {type(src).__name__} "
                f"'{src.name}' below returns only its last step (return_sequences=False); give it "
                "return_sequences=True, as every recurrent layer that feeds another one needs"
            )
            return extra, False, (f if f is not None else got[-1]), t_exp
        if src is not None and src_rnn is None:
            extra = (
                f"'{src.name}' ({type(src).__name__}) gives one vector per sample; "
                "keras.layers.RepeatVector(time_steps) before this layer repeats it over the time steps"
            )
            return extra, True, f, None
        if src is None and f is None and xt is not None:
            n = got[1]
            extra = (
                f"if the {n} columns are {n} time steps of one feature, add the features axis "
                f"instead: x[..., None] is ({got[0]}, {n}, 1)"
            )
            return extra, True, f, None
        return "", True, f, None

    def opaque_diagnosis(self, model, row: Row, exc) -> str | None:
        """A model run as one piece failed: name the inner layer from Keras's message when it says."""
        text = _ANSI.sub("", str(exc))
        m = re.search(r"of layer ['\"]([^'\"]+)['\"]", text)
        if not m:
            return None
        inner = next((la for la in _all_layers(model) if la.name == m.group(1)), None)
        if inner is None:
            return None
        g = re.search(r"(?:Full shape received:|found shape=|received input with shape)\s*(\([^)]*\))", text)
        base = f"{row.name} ({row.kind}), in its layer '{inner.name}' ({type(inner).__name__}): "
        if g:
            got = tuple(
                None if s.strip() == "None" else int(s)
                for s in g.group(1).strip("()").split(",")
                if s.strip()
            )
            fake = Row(inner.name, type(inner).__name__)
            shape = Shape("x", got, _fit_axes(None, len(got), default=_default_axes(len(got))))
            try:
                d = self.diagnose_layer(inner, fake, [(shape, None)], exc)
            except Exception:
                d = None
            if d:
                return base + d.split(": ", 1)[1]
        return base + _message(exc)


def _dense_mismatch(op, x: Shape) -> str | None:
    """A built Dense (or one inside TimeDistributed) given another width than its kernel's."""
    got = x.shape
    inner = op.layer if isinstance(op, keras.layers.TimeDistributed) else op
    if not (isinstance(inner, keras.layers.Dense) and inner.built):
        return None
    f = int(inner.kernel.shape[0])
    lead = 2 if inner is not op else 1
    nd = max(len(got), lead + 1)
    exp = (None,) * (nd - 1) + (f,)
    names = _fit_axes(x.axes, nd, default=BTF if nd == 3 else None)
    d = diagnose(got, exp, names, name="x")
    if not d:
        return None
    extra = (
        f"{inner.name}'s kernel was built for {f} inputs on the last axis; "
        "the layer before it gives another width"
    )
    return d + "; " + extra


def _spec_expected(op, got: tuple) -> tuple | None:
    """The shape a layer's ``input_spec`` asks for, ``None`` per axis it leaves free; None without one."""
    spec = op.input_spec if isinstance(op, keras.Layer) else None
    spec = keras.tree.flatten(spec)[0] if spec else None
    if spec is None:
        return None
    if spec.shape is not None:
        return tuple(spec.shape)
    nd = spec.ndim or (spec.min_ndim if spec.min_ndim and len(got) < spec.min_ndim else None)
    nd = nd or (spec.max_ndim if spec.max_ndim and len(got) > spec.max_ndim else None)
    nd = nd or len(got)
    exp = [None] * nd
    for axis, val in (spec.axes or {}).items():
        if -nd <= axis < nd:
            exp[axis] = val
    return tuple(exp)


def _state_mismatch(kind: str, ins, got: tuple, units: int | None) -> str | None:
    """An initial state that is not ``(batch, units)``, when x itself fits."""
    for s, _t in ins[1:]:
        want = (got[0], units)
        ds = diagnose(s.shape, want, STATE, name=s.label)
        if ds:
            return ds + f"; a Keras {kind} state is (batch, units), one per state tensor"
    return None


def _diagnose_input(name: str, label: str, raw: tuple, ref: tuple, names, exc) -> str:
    head = f"{name} (InputLayer): "
    exp = (None, *ref[1:])
    d = diagnose(raw, exp, names, name=label)
    if d is None:
        return head + _message(exc)
    extra = ""
    if (
        len(raw) == len(ref) == 3
        and names[1] == "time_steps"
        and raw[1] != ref[1]
        and ref[1] is not None
        and all(e is None or g == e for i, (g, e) in enumerate(zip(raw, exp, strict=True)) if i != 1)
    ):
        extra = f"or build the model with keras.Input(shape=(None, {ref[2]})) to accept windows of any length"
    elif (
        len(raw) == len(ref) == 3
        and names[2] == "features"
        and ref[2] is not None
        and raw[2] != ref[2]
        and raw[1] != ref[2]  # not a time/feature swap
        and all(e is None or g == e for g, e in zip(raw[:2], exp[:2], strict=True))
    ):
        extra = f"the model was built for {ref[2]} features per time step"
    return head + d + (f"; {extra}" if extra else "")
