"""Why a PyTorch module refused what arrived, and the fix (:func:`diagnosis`): an RNN's input and initial
state by :func:`~lstm_ref.trace._core.diagnose_rnn` plus PyTorch's fixes; a Linear's or a cell's input."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_ref.diagnose import BTF, STATE, diagnose, hx_not_a_pair, layout_str
from lstm_ref.trace._core import LD, Recurrent, Row, axis_names, diagnose_rnn, summary


def _why_rnn(r: Recurrent, args: tuple, kwargs: dict) -> str | None:
    """Why an RNN refused its input ``x`` or its initial state ``hx``, with the fix; None if both fit."""
    x = args[0] if args else kwargs.get("input")
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    config = [f"input_size={r.F}", f"hidden_size={r.H}"] + [f"num_layers={r.L}"] * (r.L > 1)
    config += ["bidirectional=True"] * (r.D == 2) + [f"proj_size={r.P}"] * bool(r.P)
    built = f"it was built with {', '.join(config)}, batch_first={r.batch_first}"
    reads = layout_str(r.x_names())
    xs = tuple(x.shape) if isinstance(x, torch.Tensor) else None
    batch = xs[1 - r.batch_first] if xs and len(xs) == 3 else None
    if isinstance(x, PackedSequence):
        msg = diagnose(tuple(x.data.shape), (None, r.F), ("packed_steps", "features"), name="x.data")
        if msg:
            return f"{msg}; {built}: pack sequences of {r.F} features each"
        batch = int(x.batch_sizes[0]) if len(x.batch_sizes) else None
    elif xs is None:
        return f"x is a {type(x).__name__}, not a tensor: {r.kind} takes a tensor {reads} or a PackedSequence"
    seq = isinstance(hx, tuple | list)
    ok = hx is None or (seq and len(hx) == 2 if r.lstm else not seq)  # LSTM: (h0, c0); else: h0
    states = [] if hx is None or not ok else [("h0", hx[0]), ("c0", hx[1])] if r.lstm else [("h0", hx)]
    shapes = [(label, tuple(t.shape)) for label, t in states if isinstance(t, torch.Tensor)]
    bad = diagnose_rnn(r, xs, shapes, batch=batch)
    if bad and bad[0] == "x" and len(xs) == 2:
        unb = "a 2-D x is read as one unbatched sequence (time_steps, features); " * r.native
        if r.batch_first:
            return f"{bad[1]} ({unb}{built})"
        tbf = "(time_steps, batch, features): for an array of (samples, time_steps) use x.T[..., None]"
        return f"{bad[1]}; with batch_first=False that is {tbf}, or build it with batch_first=True ({unb}{built})"
    if bad and bad[0] == "x":
        more = f": give x {r.F} feature(s) per time step, or build it with input_size={xs[-1]}"
        more *= len(xs) == 3 and xs[-1] != r.F not in xs  # not a time/feature swap
        return f"{bad[1]}; {built}, so it reads x as {reads}{more}"
    if not ok and r.lstm:
        return hx_not_a_pair(hx, {STATE[0]: r.L * r.D, "batch": batch, "hidden_size": None if r.P else r.H})
    if not ok:
        return f"{r.kind} takes one initial state h0 ({LD}, batch, hidden), not a tuple (that is nn.LSTM's (h0, c0))"
    for label, t in states:
        if not isinstance(t, torch.Tensor):
            width = r.state_shape(label, 0)[0][-1]
            return f"{label} is a {type(t).__name__}, not a tensor of shape ({r.L * r.D}, batch, {width})"
    return _state_fix(r, bad[0], dict(shapes)[bad[0]], bad[1], x, batch) if bad else None


def _state_fix(r: Recurrent, label: str, s: tuple[int, ...], msg: str, x, batch: int | None) -> str:
    """A state ``s`` of the wrong shape: the message ``msg``, its likely causes and how to build it."""
    ld, width = r.L * r.D, r.state_shape(label, 0)[0][-1]
    xs = tuple(x.shape) if isinstance(x, torch.Tensor) else None
    unbatched = r.native and xs is not None and len(xs) == 2  # x is one unbatched sequence
    if unbatched and len(s) == 3:
        why = diagnose(xs, (s[1], None, r.F), BTF, name="x")
        return (
            f"{label} {s} has a batch axis but x {xs} is 2-D, which {r.kind} reads as ONE unbatched "
            f"sequence (time_steps, features) and then wants a 2-D {label}" + (f"; {why}" if why else "")
        )
    make = f"torch.zeros({ld}, {width})" if unbatched else f"torch.zeros({ld}, {batch or 'batch'}, {width})"
    three, fixes = len(s) == 3 and not unbatched, []  # a 3-D state's causes: axis 0, proj_size, x's order
    if three and s[0] != ld and (s[1:] == (batch, width) or len(set(s)) < 3):
        if r.D == 2 and s[0] == r.L:
            each = f"num_layers*2 = {ld} (forward and backward of each layer)"
            fixes.append(f"bidirectional=True: {label} needs one slice per layer AND direction, {each}")
        elif r.L > 1 and s[0] == r.D:
            fixes.append(f"num_layers={r.L}: {label} needs one slice per layer and direction, {ld} in all")
        else:
            fixes.append(f"its first axis is num_layers*num_directions = {r.L}*{r.D} = {ld}")
        fixes += [f"its {ld} rows are, in order: {r.rows()}"] * (ld > 1)
    if three and s[2] != width and r.P and label == "h0" and s[2] == r.H:
        keeps = f"c0 (like c_n) keeps hidden_size = {r.H}"
        fixes.append(f"proj_size={r.P}: h0 (like h_n) is proj_size = {r.P} wide; {keeps}")
    elif three and s[2] != width and r.P and label == "c0" and s[2] == r.P:
        fixes.append(f"c0 keeps hidden_size = {r.H}; only h0 (like h_n) is proj_size = {r.P} wide")
    other = three and xs is not None and len(xs) == 3 and s[1] == xs[r.batch_first] != batch
    if (
        other and s[0] == ld and s[2] == width
    ):  # the state's batch is x's other leading axis: x in the other order
        bf, (a, b, f) = r.batch_first, xs
        reads = f"(batch={a}, time_steps={b}" if bf else f"(time_steps={a}, batch={b}"
        fixes.append(
            f"x {xs} looks {'time-major' if bf else 'batch-first'}, but this {r.kind} has batch_first={bf} and "
            f"reads it as {reads}, features={f}): transpose x to {'(B, T, F)' if bf else '(T, B, F)'} with "
            f"x.transpose(0, 1), or build it with batch_first={not bf}"
        )
    order = "batch_first=True" if r.batch_first else "batch_first=False, the default"
    fixes.append(f"build it as {label} = {make} ({order}: the state is never batch-first)")
    # diagnose words its fix code for an array called x; name the real one
    msg = msg.replace("use x.transpose", f"use {label}.transpose").replace("x.permute", f"{label}.permute")
    msg = msg.replace("x.reshape", f"{label}.reshape")
    return f"{msg}; " + "; ".join(fixes)


def _why_linear(m: nn.Linear, args: tuple, x_axes, rnns: list[Recurrent]) -> str | None:
    """Why a Linear refused its input: a tuple or PackedSequence, or a width other than in_features."""
    x = args[0] if args else None
    if isinstance(x, PackedSequence):
        return (
            "x is a PackedSequence, not a tensor: unpack the RNN's output first, "
            "output, lengths = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True)"
        )
    if isinstance(x, tuple | list):
        lstm = len(x) == 2 and isinstance(x[1], tuple | list) and len(x[1]) == 2
        what = "nn.LSTM returns (output, (h_n, c_n))" if lstm else "an RNN returns (output, h_n)"
        return (
            f"x is a {type(x).__name__} of {len(x)}, not a tensor: {what}, and nn.Sequential passes that "
            "whole tuple on to the next module. Write a forward(): output, (h_n, c_n) = self.lstm(x), then "
            "self.fc(output[:, -1]) (the last time step, batch_first=True) or self.fc(h_n[-1]) "
            "(the last layer's final state)"
        )
    got, want = tuple(x.shape) if isinstance(x, torch.Tensor) else None, m.in_features
    if not got:
        return (
            None
            if got is None
            else f"x is a scalar: nn.Linear needs at least one axis of in_features = {want}"
        )
    lead = tuple(x_axes[:-1]) if x_axes and len(x_axes) == len(got) else axis_names(len(got))[:-1]
    msg = diagnose(got, (*[None] * (len(got) - 1), want), (*lead, "features"), name="x")
    w, bidir = got[-1], [r.P or r.H for r in rnns if r.D == 2]  # the width of each bidirectional h
    if msg and 2 * w == want and w in bidir:
        return (
            f"{msg}: half of 2*hidden = {want}. Under bidirectional=True, h_n[-1] is only the "
            f"backward direction of the last layer ({w} wide); join both directions with "
            f"torch.cat([h_n[-2], h_n[-1]], dim=1), {want} wide. (output[:, -1] is "
            f"{want} wide too, but its backward half has read only the last time step)"
        )
    if msg and w == 2 * want and want in bidir:
        joined = f"a bidirectional output is 2*hidden = {w} wide (forward and backward joined)"
        return f"{msg}: {joined}; build the Linear with in_features = {w}"
    fix = f"; nn.Linear({want}, ...) reads the last axis: build it with in_features={w}, or fix what feeds it"
    return msg and msg + fix


def diagnosis(call, exc: BaseException, rows: list[Row], rnns: list[Recurrent], r: Recurrent | None) -> str:
    """The diagnosis of the failing ``call`` (a ``Call``), given the ``rows`` so far (its own last), the ``rnns``
    that ran before it, and ``r``, its own spec if it is recurrent."""
    m, why, args = call.module, None, call.args or ()
    head, x = f"{call.name} ({type(m).__name__}): ", args[0] if args else None
    try:
        if r is not None:
            why = _why_rnn(r, args, call.kwargs or {})
            conflict = [n for n in rows[-1].note.split("; ") if "reads axis 0 as" in n]
            why = why and why + (f"; {conflict[0]}" if conflict and "transpose x to" not in why else "")
        elif isinstance(m, nn.Linear):
            why = _why_linear(m, args, call.inputs[0].axes if call.inputs else None, rnns)
        elif isinstance(m, nn.RNNCellBase) and isinstance(x, torch.Tensor) and x.dim() == 3:
            why = (
                f"x {tuple(x.shape)} is a whole sequence, but a cell takes one time step (batch, features): "
                f"loop over the time axis, or use nn.{type(m).__name__.replace('Cell', '')}"
            )
        elif isinstance(m, nn.RNNCellBase) and isinstance(x, torch.Tensor) and x.dim() == 2:
            why = diagnose(tuple(x.shape), (None, m.input_size), ("batch", "features"), name="x")
    except Exception:  # noqa: BLE001 - a diagnosis that fails must not hide the real error
        why = None
    if why:
        return head + why
    got = ", ".join(f"{s.label} {s.shape}" for s in call.inputs) or "no tensors"
    if call.own is False or list(m.children()):
        after = f" after {rows[-2].name}" if len(rows) > 1 else ""
        return f"{head}its own forward() code failed{after} (not inside one of its modules), on {got}: {summary(exc)}"
    return f"{head}failed on {got}: {summary(exc)}"
