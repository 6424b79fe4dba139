"""How the PyTorch tracer names the axes of every tensor it saw, and the notes of an RNN's row.

:class:`_Namer` gives names in the order the calls ran: the model input per ``layout`` or as the
first recurrent module reads it (:func:`_infer_x_axes`), an RNN's inputs and outputs as it reads
and returns them, a module's outputs from its input (:func:`_out_axes`), and a tensor made by the
model's own code from a tensor seen before that it is a copy, slice, permutation or flattening of
(:func:`_derive`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from torch import nn

from lstm_ref._checks import BTF
from lstm_ref.trace._core import axis_names
from lstm_ref.trace._torch_record import _RNN, LD, _Call, _rnn, _Seen


def _drop(axes: tuple[str, ...], i: int) -> tuple[str, ...]:
    return axes[:i] + axes[i + 1 :]


def _derive(shape: tuple[int, ...], seen: Sequence[tuple[tuple[int, ...], tuple[str, ...]]]):
    """Names for a tensor made by custom code: from the latest tensor it is a copy, slice,
    permutation, flattening or unsqueeze of; ``None`` if none fits."""
    for s, axes in reversed(seen[-64:]):
        if s == shape:
            return axes
        n = len(s)
        if len(shape) == n - 1:
            drops = [i for i in range(n) if _drop(s, i) == shape]
            if drops:
                drops.sort(key=lambda i: (axes[i] not in ("time_steps", LD), i))
                return _drop(axes, drops[0])
            for i in range(n - 1):
                if s[:i] + (s[i] * s[i + 1],) + s[i + 2 :] == shape:
                    return axes[:i] + (f"{axes[i]}*{axes[i + 1]}",) + axes[i + 2 :]
        if len(shape) == n and len(set(s)) == n and sorted(s) == sorted(shape) and n > 1:
            return tuple(axes[s.index(k)] for k in shape)
        if len(shape) == n + 1:
            for i in range(n + 1):
                if shape[i] == 1 and shape[:i] + shape[i + 1 :] == s:
                    missing = [a for a in BTF if a not in axes]
                    new = missing[0] if len(shape) == 3 and len(missing) == 1 else "1"
                    return axes[:i] + (new,) + axes[i:]
    return None


class _Namer:
    """Gives every tensor seen its axis names, in the order the calls ran."""

    def __init__(self):
        self.known: dict[int, tuple[str, ...]] = {}
        self.history: list[tuple[tuple[int, ...], tuple[str, ...]]] = []
        self.from_layout: set[int] = set()  # tensors named by the user's layout (or kept through a module)
        self.sizes: dict[str, int] = {}  # the first batch size and number of time steps seen

    def put(self, s: _Seen, axes: Sequence[str]) -> None:
        axes = tuple(axes)
        if len(axes) != len(s.shape):
            axes = axis_names(len(s.shape))
        s.axes = axes
        self.known[s.key] = axes
        self.history.append((s.shape, axes))
        for a, n in zip(axes, s.shape, strict=True):
            if a in ("batch", "time_steps"):
                self.sizes.setdefault(a, n)

    def guess(self, shape: tuple[int, ...], last: str | None) -> tuple[str, ...]:
        """Names by size: the batch size and number of time steps seen so far; ``last`` for the last axis."""
        names: list[str] = []
        for i, n in enumerate(shape):
            if last is not None and i == len(shape) - 1 and i > 0:
                names.append(last)
                continue
            name = next(
                (a for a in ("batch", "time_steps") if self.sizes.get(a) == n and a not in names), None
            )
            names.append(name or f"axis {i}")
        return tuple(names)

    def name(
        self, s: _Seen, default: Sequence[str] | None = None, last: str | None = None
    ) -> tuple[str, ...]:
        """Known names, or derived ones, or ``default``, or names guessed by size."""
        if s.key in self.known:
            axes = self.known[s.key]
        else:
            axes = _derive(s.shape, self.history) or (
                tuple(default) if default is not None and len(default) == len(s.shape) else None
            )
            if axes is None:
                axes = self.guess(s.shape, last)
        self.put(s, axes)
        return s.axes


def _rnn_input_axes(r: _RNN, ndim: int) -> tuple[str, ...]:
    if ndim == 2:
        return ("time_steps", "features")
    return ("batch", "time_steps", "features") if r.bf else ("time_steps", "batch", "features")


def _rnn_output_axes(r: _RNN, label: str, ndim: int) -> tuple[str, ...]:
    base = "proj" if r.P else "hidden"
    if label == "output":
        lead = ("time_steps",) if ndim == 2 else ("batch", "time_steps") if r.bf else ("time_steps", "batch")
        return (*lead, r.width)
    if label == "output.data":
        return ("packed_steps", r.width)
    if label == "output.batch_sizes":
        return ("time_steps",)
    width = "hidden" if label == "c_n" else base
    return (LD, width) if ndim == 2 else (LD, "batch", width)


def _infer_x_axes(x: _Seen, calls: list[_Call]) -> tuple[str, ...]:
    """The model input's axes as the first recurrent module reads it (batch first otherwise)."""
    nd = len(x.shape)
    if nd == 2 and any(
        isinstance(c.module, nn.Embedding) and c.inputs and c.inputs[0].key == x.key for c in calls
    ):
        return ("batch", "time_steps")  # token ids
    for c in calls:
        r = _rnn(c.module)
        if r is None or not c.inputs or c.inputs[0].label != "x":
            continue
        got = c.inputs[0]
        if got.key == x.key:
            return _rnn_input_axes(r, nd) if nd in (2, 3) else axis_names(nd)
        if nd == 3 and len(got.shape) == 3 and x.shape[0] != x.shape[1]:
            if got.shape[:2] == x.shape[:2]:
                return _rnn_input_axes(r, 3)
            if got.shape[:2] == x.shape[1::-1]:  # the model's code transposed it first
                return _rnn_input_axes(dataclasses.replace(r, bf=not r.bf), 3)
        break
    if nd == 3:
        return BTF
    if nd == 2:
        return ("batch", "features")
    return axis_names(nd)


def _rnn_notes(r: _RNN, call: _Call, x_axes: tuple[str, ...] | None, from_layout: bool) -> list[str]:
    notes = []
    x = call.inputs[0] if call.inputs else None
    packed = x is not None and x.label == "x.data"
    if x is not None and not packed and len(x.shape) == 2 and r.native:
        t, f = x.shape
        fix = (
            "x.unsqueeze(1) gives (batch, 1, features)"
            if r.bf
            else "x.unsqueeze(0) gives (1, batch, features)"
        )
        said = (
            "the layout says (batch, features), but "
            if from_layout and x_axes and x_axes[0] == "batch"
            else ""
        )
        notes.append(
            f"{said}a 2-D x is ONE unbatched sequence of {t} time steps with {f} features, "
            f"not {t} samples; for {t} samples of one time step each, {fix}"
        )
    elif x is not None and not packed and len(x.shape) == 3 and from_layout and x_axes:
        reads = _rnn_input_axes(r, 3)
        if x_axes[:2] != reads[:2] and set(x_axes[:2]) == {"batch", "time_steps"}:
            if r.bf:
                notes.append(
                    f"batch_first=True reads axis 0 as batch, but the layout says it is {x_axes[0]}: "
                    "transpose to (B, T, F) with x.transpose(0, 1), or set batch_first=False"
                )
            else:
                notes.append(
                    f"batch_first=False reads axis 0 as time_steps, but the layout says it is {x_axes[0]}: "
                    "transpose to (T, B, F) with x.transpose(0, 1), or set batch_first=True"
                )
    if packed:
        bs = next((s for s in call.inputs if s.label == "x.batch_sizes"), None)
        steps = bs.shape[0] if bs else "?"
        notes.append(f"PackedSequence: {x.shape[0]} real steps packed, up to {steps} time steps per sequence")
    base = "proj" if r.P else "hidden"
    if r.bf:
        notes.append(f"batch_first=True, but h_n is still ({LD}, batch, {base})")
    if r.D == 2:
        notes.append(f"bidirectional: output is 2*{base} wide")
    if r.P:
        notes.append(f"proj_size={r.P}: h_n is {r.P} wide, c_n is {r.H} wide")
    return notes


def _out_axes(m: nn.Module, s: _Seen, first: _Seen | None, namer: _Namer) -> tuple[str, ...]:
    if first is None or first.axes is None:
        return namer.name(s)
    fa = first.axes
    if isinstance(m, nn.Linear | nn.Bilinear) and len(s.shape) == len(fa):
        return fa[:-1] + ("units",)
    if isinstance(m, nn.Embedding) and len(s.shape) == len(fa) + 1:
        return fa + ("features",)
    if isinstance(m, nn.Flatten) and len(fa) > len(s.shape):
        start, end = m.start_dim % len(fa), m.end_dim % len(fa)
        return fa[:start] + ("*".join(fa[start : end + 1]),) + fa[end + 1 :]
    if s.key == first.key or s.shape == first.shape or len(s.shape) == len(fa):
        return fa
    return _derive(s.shape, namer.history) or axis_names(len(s.shape))
