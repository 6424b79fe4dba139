"""How the Keras tracer names the axes of a layer's outputs, and the note of each row.

:func:`_output_axes` names what a layer returned from what it was given (an RNN's ``output`` and
states, a Dense's ``units``, a reshape's moved axes through :func:`_carry`); :class:`_Notes` writes
a row's note where the layout changes (the time axis dropped, a mask, a stateful batch).
"""

from __future__ import annotations

import keras

from lstm_ref.trace._core import Row, Shape
from lstm_ref.trace._keras_common import BTF, _rnn, _rnn_batch, _shape, _state_labels, _TracerState, _units


def _carry(in_shape: tuple, in_axes: tuple, out_shape: tuple) -> tuple[str, ...]:
    """Names for ``out_shape`` made from a tensor ``in_shape`` named ``in_axes`` by a layer that only
    moves sizes around (a reshape, a slice, a flatten)."""
    n_in, n_out = len(in_shape), len(out_shape)
    if n_out == n_in:
        return in_axes
    if n_out == n_in - 1:
        drops = [i for i in range(n_in) if in_shape[:i] + in_shape[i + 1 :] == out_shape]
        if drops:
            i = next((i for i in drops if in_axes[i] == "time_steps"), drops[0])
            return in_axes[:i] + in_axes[i + 1 :]
        for i in range(n_in - 1):
            a, b = in_shape[i], in_shape[i + 1]
            if a is not None and b is not None and in_shape[:i] + (a * b,) + in_shape[i + 2 :] == out_shape:
                return in_axes[:i] + (f"{in_axes[i]}*{in_axes[i + 1]}",) + in_axes[i + 2 :]
    if n_out == n_in + 1:
        if out_shape == (*in_shape, 1):
            return (*in_axes, "features" if "features" not in in_axes else "axis")
        for i in range(n_in):
            if out_shape[:i] == in_shape[:i] and out_shape[i + 2 :] == in_shape[i + 1 :]:
                parts = in_axes[i].split("*")
                if len(parts) == 2:
                    return in_axes[:i] + tuple(parts) + in_axes[i + 1 :]
                if n_out == 3 and i == 1 and in_axes[0] == "batch":  # (batch, n) cut into sequences
                    return BTF
                return in_axes[:i] + (in_axes[i], "axis") + in_axes[i + 1 :]
    common = 0
    while common < min(n_in, n_out) and in_shape[common] == out_shape[common]:
        common += 1
    return in_axes[:common] + tuple(f"axis {k}" for k in range(common, n_out))


def _output_axes(op, ins, outs) -> list[tuple[str, tuple | None]]:
    """``(label, axes)`` per output of ``op`` given ``ins``; ``axes`` None where nothing better is known."""
    x_shape = ins[0][0].shape if ins else None
    x_axes = ins[0][0].axes if ins else None
    batch = "batch"  # what a Keras layer reads axis 0 as, whatever the caller named it
    n = len(outs)
    if isinstance(op, keras.layers.Bidirectional):
        fw = op.forward_layer
        width = "directions*hidden" if op.merge_mode == "concat" else "hidden"
        main = (batch, "time_steps", width) if op.return_sequences else (batch, width)
        heads = (
            [("output_forward", main), ("output_backward", main)]
            if op.merge_mode is None
            else [("output", main)]
        )
        per = (n - len(heads)) // 2
        labels = _state_labels(fw, per)
        states = [(f"{s}_{d}", (batch, "hidden")) for d in ("forward", "backward") for s in labels]
        return heads + states
    if isinstance(op, keras.layers.RNN):
        main = (batch, "time_steps", "hidden") if op.return_sequences else (batch, "hidden")
        return [("output", main)] + [(s, (batch, "hidden")) for s in _state_labels(op, n - 1)]
    if isinstance(op, keras.layers.TimeDistributed) and x_axes and len(x_axes) >= 2 and n == 1:
        step_in = (x_axes[0],) + x_axes[2:]
        step_out = _output_axes(
            op.layer,
            [(Shape("x", (x_shape[0],) + x_shape[2:], step_in), None)],
            [keras.KerasTensor((outs[0].shape[0],) + tuple(outs[0].shape[2:]))],
        )
        if len(step_out) == 1 and step_out[0][1] is not None:
            a = step_out[0][1]
            return [("output", (a[0], x_axes[1], *a[1:]))]
    if n == 1 and x_axes is not None:
        t = outs[0]
        name = type(op).__name__
        if isinstance(op, keras.layers.Dense):
            return [("output", (*x_axes[:-1], "units"))]
        if isinstance(op, keras.layers.Embedding):
            return [("output", (*x_axes, "features"))]
        if isinstance(op, keras.layers.RepeatVector):
            return [("output", (x_axes[0], "time_steps", *x_axes[1:]))]
        if isinstance(op, keras.layers.Permute):
            return [("output", (x_axes[0], *(x_axes[d] for d in op.dims)))]
        if name in ("Conv1D", "SeparableConv1D", "DepthwiseConv1D") and len(t.shape) == 3:
            return [("output", (x_axes[0], x_axes[1], "filters"))]
        if name.startswith("Global") and name.endswith("1D") and len(x_axes) == 3 and len(t.shape) == 2:
            return [("output", (x_axes[0], x_axes[2]))]
        if isinstance(op, keras.layers.Concatenate) and len(ins) > 1:
            last = {s.axes[-1] for s, _ in ins if s.axes}
            return [("output", (*x_axes[:-1], last.pop() if len(last) == 1 else "features"))]
        return [("output", _carry(x_shape, x_axes, _shape(t)))]
    return [("output" if n == 1 else f"output[{k}]", None) for k in range(n)]


class _Notes(_TracerState):
    """The note of a row; a Masking or ``mask_zero`` Embedding row also sets where masks come from."""

    def note(self, op, row: Row, ins, outs, masked: bool = False) -> str:
        """The note of ``row``: where the layout changes, or what the layer does to time or the mask."""
        if not ins:
            return ""
        x, xt = ins[0]
        rnn = _rnn(op)
        if rnn is not None and len(x.shape) == 3:
            parts = self.rnn_notes(op, rnn, row, x, xt, masked)
        else:
            parts = self.layer_notes(op, row, x, xt)
        return "; ".join(parts)

    def rnn_notes(self, op, rnn, row: Row, x: Shape, xt, masked: bool) -> list[str]:
        """A recurrent layer given a 3-D input: how it reads it, what it returns, its state and mask."""
        parts = []
        if x.axes[:2] != ("batch", "time_steps") and {"batch", "time_steps"} <= set(x.axes):
            parts.append(
                f"Keras reads (batch, time_steps, features) but this input is ({', '.join(x.axes)}): "
                "transpose it"
            )
        elif x.shape[1] == 1 and x.shape[2] not in (None, 1) and row is self.first_rnn_row():
            f = x.shape[2]
            parts.append(
                f"time_steps=1: one step of {f} features; a window of {f} values of one series "
                f"is X.reshape(n, {f}, 1)"
            )
        if not op.return_sequences:
            parts.append("time axis dropped: return_sequences=False")
        if isinstance(op, keras.layers.Bidirectional) and op.merge_mode == "concat":
            parts.append(f"forward and backward concatenated: 2 × {_units(rnn)}")
        if op.return_state:
            parts.append("return_state=True: final states returned too")
        b = _rnn_batch(rnn)
        if b is not None:
            parts.append(f"stateful: state kept between calls, batches of exactly {b}")
        if masked or self.mask_of(xt) is not None:
            parts.append(f"mask from {self.mask_from or 'the input'}: padded steps skipped")
        return parts

    def layer_notes(self, op, row: Row, x: Shape, xt) -> list[str]:
        """Any other layer: a mask it makes, a layer applied at every time step, a time axis it drops."""
        parts = []
        if isinstance(op, keras.layers.Masking):
            self.mask_from = row.name
            parts.append(f"steps whose features all equal {op.mask_value} are padding (masked)")
        elif isinstance(op, keras.layers.Embedding) and getattr(op, "mask_zero", False):
            self.mask_from = row.name
            parts.append("mask_zero=True: id 0 is padding (masked)")
        elif isinstance(op, keras.layers.Dense) and "time_steps" in x.axes:
            parts.append("Dense applied at every time step (input has a time axis)")
        elif isinstance(op, keras.layers.TimeDistributed):
            parts.append(f"{type(op.layer).__name__} applied at every time step")
        elif row.outputs and "time_steps" in x.axes and "time_steps" not in row.outputs[0].axes:
            parts += self.time_axis_notes(op, row, xt)
        return parts

    def time_axis_notes(self, op, row: Row, xt) -> list[str]:
        """The time axis is gone from the output: flattened into another axis, or dropped."""
        flat = [a for a in row.outputs[0].axes if "time_steps" in a]
        if flat:
            return [f"time axis flattened: {flat[0]}"]
        parts = ["time axis dropped"]
        src, _ = self.producer(xt)
        if (
            isinstance(src, keras.layers.Bidirectional)
            and src.return_sequences
            and not isinstance(op, keras.layers.Layer)
        ):
            parts.append(
                "under Bidirectional the backward half of the last step has seen one step only; "
                "return_sequences=False gives both directions' final states"
            )
        return parts
