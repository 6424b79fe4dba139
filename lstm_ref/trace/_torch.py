"""The PyTorch recorder of :func:`lstm_ref.trace.trace`: a forward pre-hook and hook on every module for one
forward pass in eval mode under ``torch.no_grad()``, then removed. A row is a module that ran and did its own
work (no module ran inside it), in the order they ran (``"fc (call 2)"``); a custom ``forward``'s own code
shows as the next module's input, or as a last row ``"model"``. The module entered last, not left, failed.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_ref.diagnose import BTF, resolve_layout
from lstm_ref.i18n import _
from lstm_ref.trace._core import Recurrent, Row, Shape, ShapeError, ShapeTrace, axis_names, carry, summary
from lstm_ref.trace._torch_diagnose import ORDERS, diagnosis

ROOT = "model"
_READ = ("x", "x.data", "x.batch_sizes")  # what an RNN reads: a tensor, or a PackedSequence's two
_ANY_RNN = Recurrent("RNN", None, 0)  # how a model's own inputs are read: a PackedSequence, a 3-D h0


@dataclass
class Seen:
    """A tensor in or out of a call: its label (``x``, ``h0``, ``output``), shape, number, and axes."""

    label: str
    shape: tuple[int, ...]
    key: int
    axes: tuple[str, ...] | None = None


@dataclass
class Call:
    """A module call: ``args`` while it runs, ``outputs`` once it returned, ``own``: no module ran inside."""

    module: nn.Module
    name: str
    inputs: list[Seen]
    args: tuple | None = None
    kwargs: dict | None = None
    outputs: list[Seen] | None = None
    own: bool = True


def recurrent(m: nn.Module) -> Recurrent | None:
    """The spec of an ``nn.LSTM``/``GRU``/``RNN``, or of a twin such as ``lstm_ref.torch.ScratchLSTM``."""
    native, names = isinstance(m, nn.RNNBase), ("input_size", "hidden_size", "num_layers", "batch_first")
    if not native and (list(m.children()) or not all(hasattr(m, a) for a in names)):
        return None
    d, p = 2 if getattr(m, "bidirectional", False) else 1, getattr(m, "proj_size", 0) or 0
    lstm = m.mode == "LSTM" if native else "LSTM" in type(m).__name__
    try:
        F, H, L, P = (int(v) for v in (m.input_size, m.hidden_size, m.num_layers, p))
        return Recurrent(type(m).__name__, F, H, L, d, P, bool(m.batch_first), lstm, native)
    except (TypeError, ValueError):
        return None


class _Recorder:
    """The hooks: the calls entered and not left (``stack``), and every call in the order it started."""

    def __init__(self, model: nn.Module):
        self.model, self.calls, self.stack, self.handles = model, [], [], []
        self.ids: dict[int, tuple[weakref.ref, int]] = {}  # id(tensor) -> (the tensor, weakly; its number)
        self.count, self.keys = {}, itertools.count(1)
        self.has_rnn = any(recurrent(m) or isinstance(m, nn.RNNCellBase) for m in model.modules())
        for name, m in model.named_modules():
            self.handles.append(m.register_forward_pre_hook(self.enter(name or ROOT), with_kwargs=True))
            self.handles.append(m.register_forward_hook(self.leave, with_kwargs=True))

    def seen(self, obj, label: str) -> list[Seen]:
        """Every tensor in ``obj`` (a tensor, PackedSequence, tuple, list or dict), labelled by its place."""
        if isinstance(obj, torch.Tensor):
            hit = self.ids.get(id(obj))
            if hit is None or hit[0]() is not obj:  # a new tensor (its id may be a dead one's)
                hit = self.ids[id(obj)] = (weakref.ref(obj), next(self.keys))
            return [Seen(label, tuple(int(s) for s in obj.shape), hit[1])]
        if isinstance(obj, PackedSequence):
            return self.seen(obj.data, f"{label}.data") + self.seen(obj.batch_sizes, f"{label}.batch_sizes")
        if isinstance(obj, tuple | list):
            return [s for i, o in enumerate(obj) for s in self.seen(o, f"{label}[{i}]")]
        items = obj.items() if isinstance(obj, dict) else []
        return [s for k, o in items for s in self.seen(o, f"{label}[{k!r}]")]

    def state(self, hx, suffix: str) -> list[Seen]:
        """``(h0, c0)`` or ``h0`` (``h_n``/``c_n`` with ``suffix="_n"``)."""
        if isinstance(hx, tuple | list) and len(hx) == 2 and all(isinstance(t, torch.Tensor) for t in hx):
            return self.seen(hx[0], "h" + suffix) + self.seen(hx[1], "c" + suffix)
        return self.seen(hx, "h" + suffix)

    def enter(self, name: str):
        def hook(m, args, kwargs):
            n = self.count[name] = self.count.get(name, 0) + 1
            label = name if n == 1 else _("{name} (call {n})").format(name=name, n=n)  # "fc (call 2)"
            call = Call(m, label, [], args, kwargs)
            rnn = recurrent(m) is not None or isinstance(m, nn.RNNCellBase)
            hx = args[1] if len(args) > 1 else None  # a model called as model(x, (h0, c0)) or model(x, h0)
            hx = hx if isinstance(hx, tuple | list) and len(hx) == 2 else (hx,)
            states = all(isinstance(t, torch.Tensor) and t.dim() in (2, 3) for t in hx)
            rnn = rnn or m is self.model and self.has_rnn and states
            try:  # a trace must never break the model
                ins = self.seen(args[0], "x") if args else []
                for i, a in enumerate(args[1:], start=1):
                    ins += self.state(a, "0") if i == 1 and rnn else self.seen(a, f"args[{i}]")
                for k, v in kwargs.items():
                    ins += self.state(v, "0") if k == "hx" and rnn else self.seen(v, k)
                call.inputs = ins
            except Exception:  # noqa: BLE001
                pass
            if self.stack:
                self.stack[-1].own = False
            self.stack.append(call)
            self.calls.append(call)

        return hook

    def leave(self, m, args, kwargs, out):
        while self.stack and self.stack[-1].module is not m:  # raised inside m, and m caught it: over too
            self.stack.pop().args = None
        if self.stack:
            call = self.stack.pop()
            call.args = call.kwargs = None
            try:
                if recurrent(m) is not None and isinstance(out, tuple) and len(out) == 2:
                    call.outputs = self.seen(out[0], "output") + self.state(out[1], "_n")
                else:
                    cell = isinstance(m, nn.RNNCellBase)
                    call.outputs = self.state(out, "") if cell else self.seen(out, "output")
            except Exception:  # noqa: BLE001
                call.outputs = []


class _Namer:
    """Gives every tensor seen its axis names, in the order the calls ran."""

    def __init__(self):
        self.known, self.history = {}, []  # key -> axes; (shape, axes) in the order named
        self.from_layout: set[int] = set()  # tensors named by the user's layout (or kept through a module)
        self.sizes: dict[str, int] = {}  # the first batch size and number of time steps seen

    def put(self, s: Seen, axes: Sequence[str]) -> None:
        s.axes = self.known[s.key] = tuple(axes) if len(axes) == len(s.shape) else axis_names(len(s.shape))
        self.history.append((s.shape, s.axes))
        for a, n in zip(s.axes, s.shape, strict=True):
            if a in ("batch", "time_steps"):
                self.sizes.setdefault(a, n)

    def derive(self, shape: tuple[int, ...]) -> tuple[str, ...] | None:
        """Names carried from the latest tensor seen that ``shape`` is a reshaping of (:func:`carry`)."""
        return next((a for s, named in reversed(self.history[-64:]) if (a := carry(s, named, shape))), None)

    def name(self, s: Seen, default: Sequence[str] | None = None, last: str | None = None) -> tuple[str, ...]:
        """Known names, else carried, else ``default``, else guessed by size (``last``: the last axis's)."""
        axes = self.known[s.key] if s.key in self.known else self.derive(s.shape)
        if axes is None and default is not None and len(default) == len(s.shape):
            axes = tuple(default)
        if axes is None:
            axes = []
            for i, n in enumerate(s.shape):
                size = [a for a in ("batch", "time_steps") if self.sizes.get(a) == n and a not in axes]
                axes.append(last if last and i == len(s.shape) - 1 > 0 else (size + [f"axis {i}"])[0])
        self.put(s, axes)
        return s.axes


def _rnn_notes(r: Recurrent, call: Call, x_axes: tuple[str, ...] | None, from_layout: bool) -> list[str]:
    """The notes of an RNN's row: a 2-D x, a layout it reads otherwise, packing, batch_first, width."""
    notes, x, bf, reads = [], call.inputs[0] if call.inputs else None, r.batch_first, r.x_names()
    nd, packed = len(x.shape) if x else 0, x is not None and x.label == "x.data"
    v = {"bf": bf, "P": r.P, "H": r.H, "base": "proj" if r.P else "hidden", "rows": r.rows()}
    if nd == 2 and not packed and r.native:
        if from_layout and x_axes[0] == "batch":
            msg = _("the layout says (batch, features), but a 2-D x is ONE unbatched sequence of {t} time steps with {f} features, not {t} samples; for {t} samples of one time step each, {code} gives {shape}")  # fmt: skip
        else:
            msg = _("a 2-D x is ONE unbatched sequence of {t} time steps with {f} features, not {t} samples; for {t} samples of one time step each, {code} gives {shape}")  # fmt: skip
        shape = "(batch, 1, features)" if bf else "(1, batch, features)"
        notes.append(msg.format(t=x.shape[0], f=x.shape[1], code=f"x.unsqueeze({int(bf)})", shape=shape))
    if nd == 3 and not packed and from_layout and x_axes[:2] != reads[:2] and {*x_axes[:2]} == {*reads[:2]}:
        msg = _("batch_first={bf} reads axis 0 as {axis}, but the layout says it is {said}: transpose to {order} with x.transpose(0, 1), or set batch_first={other}")  # fmt: skip
        notes.append(msg.format(bf=bf, axis=reads[0], said=x_axes[0], order=ORDERS[not bf], other=not bf))
    if packed:
        steps = next((s.shape[0] for s in call.inputs if s.label == "x.batch_sizes"), "?")
        msg = _("PackedSequence: {n} real steps packed, up to {t} time steps per sequence")
        notes.append(msg.format(n=x.shape[0], t=steps))
    notes += [_("batch_first=True, but h_n is still (layers*directions, batch, {base})").format_map(v)] * bf
    notes += [_("bidirectional: output is 2*{base} wide").format_map(v)] * (r.D == 2)
    notes += [_("h_n rows: {rows}").format_map(v)] * (r.L * r.D > 1)
    return notes + [_("proj_size={P}: h_n is {P} wide, c_n is {H} wide").format_map(v)] * bool(r.P)


def _row(call: Call, namer: _Namer, failed: bool) -> Row:
    """The row of one call: its inputs and outputs named, its parameter count and note."""
    m, ins, notes, r = call.module, call.inputs, [], recurrent(call.module)
    first, outs = (ins[0] if ins else None), call.outputs or []
    if r is not None:
        for s in ins:  # h0/c0 as the RNN reads them
            if s.label in ("h0", "c0"):
                namer.put(s, r.axes(s.label, len(s.shape)))
            else:
                namer.name(s, r.axes(s.label, len(s.shape)) if s.label in _READ else None)
        x = next((s for s in ins if s.label == "x"), None)
        notes = _rnn_notes(r, call, x.axes if x else None, x is not None and x.key in namer.from_layout)
        for s in outs:
            namer.put(s, r.axes(s.label, len(s.shape)))
    elif isinstance(m, nn.RNNCellBase):
        for s in ins:
            namer.name(s, ("batch", "features") if s.label == "x" else ("batch", "hidden"))
        for s in outs:
            namer.put(s, ("batch", "hidden")[-len(s.shape) :] if len(s.shape) <= 2 else ())
    else:
        for s in ins:
            namer.name(s, last="features" if isinstance(m, nn.Linear) else None)
        for s in outs:  # from the first input's names
            fa, nd = first.axes if first is not None else None, len(s.shape)
            if fa is None:
                axes = namer.name(s)
            elif isinstance(m, nn.Linear | nn.Bilinear) and nd == len(fa):
                axes = fa[:-1] + ("units",)
            elif isinstance(m, nn.Embedding) and nd == len(fa) + 1:
                axes = fa + ("features",)
            elif isinstance(m, nn.Flatten) and len(fa) > nd:
                start, end = m.start_dim % len(fa), m.end_dim % len(fa)
                axes = fa[:start] + ("*".join(fa[start : end + 1]),) + fa[end + 1 :]
            elif s.key == first.key or s.shape == first.shape or nd == len(fa):
                axes = fa
            else:
                axes = namer.derive(s.shape) or axis_names(nd)
            namer.put(s, axes)
            if first is not None and first.key in namer.from_layout and s.axes == first.axes:
                namer.from_layout.add(s.key)
        if isinstance(m, nn.Linear) and first and first.label == "x" and "time_steps" in (first.axes or ()):
            notes.append(_("applied at every time step: the time axis is kept"))
    outs, params = [] if failed else _shapes(outs), sum(p.numel() for p in m.parameters())
    return Row(call.name, type(m).__name__, _shapes(ins), outs, params, _("; ").join(notes), failed)


def _shapes(seen: list[Seen]) -> list[Shape]:
    return [Shape(s.label, s.shape, s.axes) for s in seen]


def _to_input(x, dtype: torch.dtype, device: torch.device | None):
    """Arrays become tensors of the model's dtype and device; tensors, PackedSequences stay as they are."""
    if isinstance(x, np.ndarray):
        t = torch.as_tensor(x)
        return (t.to(dtype) if t.is_floating_point() else t).to(device or t.device)
    if isinstance(x, tuple | list) and not isinstance(x, PackedSequence):
        return type(x)(_to_input(v, dtype, device) for v in x)
    return x


def trace_torch(model: nn.Module, x, *, layout: Sequence[str] | str | None = None) -> ShapeTrace:
    """:func:`lstm_ref.trace.trace` for a ``torch.nn.Module``; ``x``: a tensor, an array (made a tensor of the
    model's dtype), a ``PackedSequence``, or the model's arguments such as ``(x, (h0, c0))``.

    >>> lstm = torch.nn.LSTM(3, 8, batch_first=True)
    >>> print(trace_torch(lstm, torch.zeros(4, 10, 3)).rows[0].outputs[1])
    h_n (layers*directions=1, batch=4, hidden=8)
    """
    p = next(iter(model.parameters()), None)
    dtype = p.dtype if p is not None and p.is_floating_point() else torch.get_default_dtype()
    args = _to_input(x, dtype, None if p is None else p.device)
    args = tuple(args) if isinstance(args, tuple) and not isinstance(args, PackedSequence) else (args,)
    names = None if layout is None else resolve_layout(layout)
    if names is not None and not isinstance(args[0], torch.Tensor):
        why = _("layout names the axes of x, a tensor or array, but x is a {type}")
        if isinstance(args[0], PackedSequence):
            why = _("layout names the axes of x, a tensor or array, but x is a {type}: a PackedSequence's data is always (packed_steps, features)")  # fmt: skip
        raise ValueError(why.format(type=type(args[0]).__name__))
    if names is not None:
        axis_names(args[0].dim(), names)  # raises ValueError unless it names every axis
    training, rec, error = {m: m.training for m in model.modules()}, _Recorder(model), None
    try:
        model.eval()
        with torch.no_grad():
            model(*args)
    except Exception as exc:  # noqa: BLE001 - re-raised below, chained
        error = exc
    finally:
        for h in rec.handles:
            h.remove()
        for m, flag in training.items():
            m.training = flag
    tr = _build(model, rec, names, error)
    if error is not None:
        raise ShapeError(tr) from error
    return tr


def _build(model: nn.Module, rec: _Recorder, layout: tuple | None, error: Exception | None) -> ShapeTrace:
    """The trace of what the hooks recorded: the rows in the order the calls ran, and the diagnosis."""
    tr = ShapeTrace("PyTorch", type(model).__name__)
    if not rec.calls:
        msg = _("{name} ({kind}): failed before it ran: {error}")
        tr.diagnosis = msg.format(name=ROOT, kind=tr.model, error=summary(error)) if error else None
        return tr
    root, namer, failing = rec.calls[0], _Namer(), rec.stack[-1] if error is not None and rec.stack else None
    x = root.inputs[0] if root.inputs and root.inputs[0].label == "x" else None
    if x is not None:  # per the layout, else as the first recurrent module reads it (batch first otherwise)
        nd, axes = len(x.shape), None if layout is None else axis_names(len(x.shape), layout)
        namer.from_layout.update([x.key] if layout is not None else [])
        embedded = [c for c in rec.calls if isinstance(c.module, nn.Embedding) and c.inputs[:1]]
        if axes is None and nd == 2 and any(c.inputs[0].key == x.key for c in embedded):
            axes = ("batch", "time_steps")  # token ids
        first = next(
            (c for c in rec.calls if recurrent(c.module) and c.inputs[:1] and c.inputs[0].label == "x"), None
        )
        if axes is None and first is not None:
            r, got = recurrent(first.module), first.inputs[0].shape
            if first.inputs[0].key == x.key:
                axes = r.axes("x", nd) if nd in (2, 3) else axis_names(nd)
            elif (
                nd == len(got) == 3 and x.shape[0] != x.shape[1] and got[:2] in (x.shape[:2], x.shape[1::-1])
            ):
                flip = got[:2] != x.shape[:2]  # the model's code transposed it first
                axes = replace(r, batch_first=r.batch_first != flip).x_names()
        namer.put(x, axes or {3: BTF, 2: ("batch", "features")}.get(nd) or axis_names(nd))
    for s in root.inputs:  # a PackedSequence's two tensors, a 3-D initial state
        if s.key not in namer.known and (s.label in _READ[1:] or s.label[1:] == "0" and len(s.shape) == 3):
            namer.put(s, _ANY_RNN.axes(s.label, len(s.shape)))
    done = [c for c in rec.calls if c.outputs is not None and c.own and c is not failing]
    calls = done + ([failing] if failing is not None else [])  # the failing one started before its children
    tr.rows = [_row(c, namer, failed=c is failing) for c in calls]
    made = {s.key for c in done for s in c.outputs or []}
    returned = root.outputs is not None and not (root.outputs and all(s.key in made for s in root.outputs))
    if error is None and returned and not root.own:
        for s in root.outputs:  # the model returned what no module returned
            namer.name(s)
        ins, outs = _shapes(root.inputs), _shapes(root.outputs)
        note = _("what forward() returned: its own code ran after the last module")
        tr.rows.append(Row(ROOT, tr.model, ins, outs, sum(p.numel() for p in model.parameters()), note))
    rnns = [r for c in calls if (r := recurrent(c.module)) is not None]
    if failing is not None:
        r = recurrent(failing.module)
        tr.diagnosis = diagnosis(failing, error, tr.rows, rnns[:-1] if r else rnns, r)
    elif error is not None:
        tr.diagnosis = _("{name} ({kind}): {why}").format(name=ROOT, kind=tr.model, why=summary(error))
    return tr
