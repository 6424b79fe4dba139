"""The PyTorch tracer's diagnoses: why the failing module refused what arrived, and the fix.

:func:`_diagnosis` picks the words for the failing call: for an RNN (:func:`_diagnose_rnn`), a
Linear or a cell, what it expected and what arrived in :mod:`lstm_ref.shapes` words plus the
PyTorch fix; for anything else, what it got and the framework's own first line.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_ref._checks import BTF, STATE, TBF
from lstm_ref.diagnose import diagnose
from lstm_ref.trace._core import Row, axis_names
from lstm_ref.trace._torch_record import _RNN, LD, _Call, _is_cell, _is_linear, _rnn


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"


def _say(msg: str, label: str) -> str:
    """lstm_ref.shapes writes its fix code for an array called x; name the real one."""
    if label == "x":
        return msg
    return msg.replace("use x.transpose", f"use {label}.transpose").replace("x.permute", f"{label}.permute")


def _config(r: _RNN) -> str:
    parts = [f"input_size={r.F}", f"hidden_size={r.H}"]
    if r.L > 1:
        parts.append(f"num_layers={r.L}")
    if r.D == 2:
        parts.append("bidirectional=True")
    if r.P:
        parts.append(f"proj_size={r.P}")
    parts.append(f"batch_first={r.bf}")
    return ", ".join(parts)


def _diagnose_rnn(r: _RNN, args: tuple, kwargs: dict) -> str | None:
    """Why an RNN refused its input ``x`` or its initial state ``hx``, with the fix; None if both fit."""
    x = args[0] if args else kwargs.get("input")
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    why, batch, unbatched = _check_rnn_input(r, x)
    if why is not None or hx is None:
        return why
    states = _rnn_states(r, hx)
    if isinstance(states, str):
        return states
    for label, t, width in states:
        why = _check_rnn_state(r, label, t, width, x, batch, unbatched)
        if why is not None:
            return why
    return None


def _reads_as(r: _RNN) -> str:
    return "(batch, time_steps, features)" if r.bf else "(time_steps, batch, features)"


def _check_rnn_input(r: _RNN, x) -> tuple[str | None, int | None, bool]:
    """What is wrong with the RNN's input ``x`` (None: nothing), the batch size it carries, and
    whether the RNN reads it as one unbatched sequence."""
    built = f"it was built with {_config(r)}"
    if isinstance(x, PackedSequence):
        got = tuple(x.data.shape)
        msg = diagnose(got, (None, r.F), ("packed_steps", "features"), name="x.data")
        if msg:
            return f"{msg}; {built}: pack sequences of {r.F} features each", None, False
        return None, (int(x.batch_sizes[0]) if len(x.batch_sizes) else None), False
    if not isinstance(x, torch.Tensor):
        why = (
            f"x is a {type(x).__name__}, not a tensor: {r.kind} takes a tensor "
            f"{_reads_as(r)} or a PackedSequence"
        )
        return why, None, False
    got = tuple(int(s) for s in x.shape)
    if len(got) == 2:
        return (_unbatched_x(r, got, built) if got[-1] != r.F else None), None, True
    msg = diagnose(got, (None, None, r.F), BTF if r.bf else TBF, name="x")
    if msg:
        tail = f"{built}, so it reads x as {_reads_as(r)}"
        if len(got) == 3 and got[-1] != r.F and r.F not in got:
            tail += f": give x {r.F} feature(s) per time step, or build it with input_size={got[-1]}"
        return f"{msg}; {tail}", None, False
    return None, got[0 if r.bf else 1], False


def _unbatched_x(r: _RNN, got: tuple[int, ...], built: str) -> str:
    """A 2-D x whose last axis is not input_size."""
    msg = diagnose(got, (None, None, r.F), BTF if r.bf else TBF, name="x")
    extra = (
        ""
        if r.bf
        else "; with batch_first=False that is (time_steps, batch, features): for an array of "
        "(samples, time_steps) use x.T[..., None], or build it with batch_first=True"
    )
    unb = "a 2-D x is read as one unbatched sequence (time_steps, features); " if r.native else ""
    return f"{msg}{extra} ({unb}{built})"


def _rnn_states(r: _RNN, hx) -> str | list[tuple[str, object, int]]:
    """``hx`` as ``(label, tensor, width)`` per state, or what is wrong with its structure."""
    if r.lstm:
        if not (isinstance(hx, tuple | list) and len(hx) == 2):
            return (
                f"hx is a {type(hx).__name__}: nn.LSTM takes its initial state as one tuple (h0, c0), "
                f"each ({LD}, batch, hidden): lstm(x, (h0, c0))"
            )
        return [("h0", hx[0], r.h_out), ("c0", hx[1], r.H)]
    if isinstance(hx, tuple | list):
        return f"{r.kind} takes one initial state h0 ({LD}, batch, hidden), not a tuple (that is nn.LSTM's (h0, c0))"
    return [("h0", hx, r.h_out)]


def _check_rnn_state(r: _RNN, label: str, t, width: int, x, batch: int | None, unbatched: bool) -> str | None:
    """What is wrong with one initial state ``t`` (``h0`` or ``c0``) and how to build it; None if it fits."""
    ld = r.L * r.D
    if not isinstance(t, torch.Tensor):
        return f"{label} is a {type(t).__name__}, not a tensor of shape ({ld}, batch, {width})"
    s = tuple(int(k) for k in t.shape)
    if unbatched:
        if len(s) == 3 and isinstance(x, torch.Tensor):
            msg = diagnose(tuple(x.shape), (s[1], None, r.F), BTF, name="x")
            return (
                f"{label} {s} has a batch axis but x {tuple(x.shape)} is 2-D, which {r.kind} reads as ONE "
                f"unbatched sequence (time_steps, features) and then wants a 2-D {label}"
                + (f"; {msg}" if msg else "")
            )
        exp, names = (ld, width), (STATE[0], STATE[2])
    else:
        exp, names = (ld, batch, width), STATE
    msg = diagnose(s, exp, names, name=label)
    if not msg:
        return None
    fixes = _state_fixes(r, label, s, width, x, batch) if len(s) == len(exp) and not unbatched else []
    make = f"torch.zeros({ld}, {batch if batch is not None else 'batch'}, {width})"
    if unbatched:
        make = f"torch.zeros({ld}, {width})"
    order = "batch_first=True" if r.bf else "batch_first=False, the default"
    fixes.append(f"build it as {label} = {make} ({order}: the state is never batch-first)")
    return f"{_say(msg, label)}; " + "; ".join(fixes)


def _state_fixes(r: _RNN, label: str, s: tuple[int, ...], width: int, x, batch: int | None) -> list[str]:
    """The likely causes of a wrong 3-D state ``s``: its first axis, proj_size, or an x read the wrong way."""
    ld = r.L * r.D
    fixes = []
    if s[0] != ld and s[1:] == (batch, width) or (s[0] != ld and len(set(s)) < 3):
        if r.D == 2 and s[0] == r.L:
            fixes.append(
                f"bidirectional=True: {label} needs one slice per layer AND direction, "
                f"num_layers*2 = {ld} (forward and backward of each layer)"
            )
        elif r.L > 1 and s[0] == r.D:
            fixes.append(f"num_layers={r.L}: {label} needs one slice per layer and direction, {ld} in all")
        else:
            fixes.append(f"its first axis is num_layers*num_directions = {r.L}*{r.D} = {ld}")
    if s[2] != width and r.P:
        if label == "h0" and s[2] == r.H:
            fixes.append(
                f"proj_size={r.P}: h0 (like h_n) is proj_size = {r.P} wide; c0 (like c_n) keeps "
                f"hidden_size = {r.H}"
            )
        elif label == "c0" and s[2] == r.P:
            fixes.append(f"c0 keeps hidden_size = {r.H}; only h0 (like h_n) is proj_size = {r.P} wide")
    if s[0] == ld and s[2] == width and s[1] != batch and isinstance(x, torch.Tensor) and x.dim() == 3:
        fixes += _x_order_fix(r, s, tuple(x.shape))
    return fixes


def _x_order_fix(r: _RNN, s: tuple[int, ...], xs: tuple[int, ...]) -> list[str]:
    """The state's batch is x's other leading axis: x was given in the other order."""
    if not r.bf and s[1] == xs[0]:
        return [
            f"x {xs} looks batch-first, but this {r.kind} has batch_first=False and reads it as "
            f"(time_steps={xs[0]}, batch={xs[1]}, features={xs[2]}): transpose x to (T, B, F) "
            "with x.transpose(0, 1), or build it with batch_first=True"
        ]
    if r.bf and s[1] == xs[1]:
        return [
            f"x {xs} looks time-major, but this {r.kind} has batch_first=True and reads it as "
            f"(batch={xs[0]}, time_steps={xs[1]}, features={xs[2]}): transpose x to (B, T, F) "
            "with x.transpose(0, 1), or build it with batch_first=False"
        ]
    return []


def _diagnose_linear(m: nn.Linear, args: tuple, x_axes, rnns: list[_RNN]) -> str | None:
    x = args[0] if args else None
    if isinstance(x, PackedSequence):
        return (
            "x is a PackedSequence, not a tensor: unpack the RNN's output first, "
            "output, lengths = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True)"
        )
    if isinstance(x, tuple | list):
        inner = x[1] if len(x) == 2 else None
        if isinstance(inner, tuple | list) and len(inner) == 2:
            what = "nn.LSTM returns (output, (h_n, c_n))"
        else:
            what = "an RNN returns (output, h_n)"
        return (
            f"x is a {type(x).__name__} of {len(x)}, not a tensor: {what}, and nn.Sequential passes that "
            "whole tuple on to the next module. Write a forward(): output, (h_n, c_n) = self.lstm(x), then "
            "self.fc(output[:, -1]) (the last time step, batch_first=True) or self.fc(h_n[-1]) "
            "(the last layer's final state)"
        )
    if not isinstance(x, torch.Tensor):
        return None
    got = tuple(int(s) for s in x.shape)
    if not got:
        return f"x is a scalar: nn.Linear needs at least one axis of in_features = {m.in_features}"
    lead = tuple(x_axes[:-1]) if x_axes and len(x_axes) == len(got) else axis_names(len(got))[:-1]
    names = (*lead, "features")
    msg = diagnose(got, (*[None] * (len(got) - 1), m.in_features), names, name="x")
    if not msg:
        return None
    w = got[-1]
    bidir = [r for r in rnns if r.D == 2]
    if bidir and 2 * w == m.in_features and any(r.h_out == w for r in bidir):
        return (
            f"{msg}: half of 2*hidden = {m.in_features}. Under bidirectional=True, h_n[-1] is only the "
            f"backward direction of the last layer ({w} wide); join both directions with "
            f"torch.cat([h_n[-2], h_n[-1]], dim=1), {m.in_features} wide. (output[:, -1] is "
            f"{m.in_features} wide too, but its backward half has read only the last time step)"
        )
    if bidir and w == 2 * m.in_features and any(r.h_out == m.in_features for r in bidir):
        return (
            f"{msg}: a bidirectional output is 2*hidden = {w} wide (forward and backward joined); "
            f"build the Linear with in_features = {w}"
        )
    return f"{msg}; nn.Linear({m.in_features}, ...) reads the last axis: build it with in_features={w}, or fix what feeds it"


def _diagnose_cell(m: nn.RNNCellBase, args: tuple) -> str | None:
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor):
        return None
    got = tuple(int(s) for s in x.shape)
    if len(got) == 3:
        return (
            f"x {got} is a whole sequence, but a cell takes one time step (batch, features): loop over the "
            f"time axis, or use nn.{type(m).__name__.replace('Cell', '')}"
        )
    msg = diagnose(got, (None, m.input_size), ("batch", "features"), name="x") if len(got) == 2 else None
    return msg


def _diagnosis(call: _Call, exc: BaseException, rows: list[Row], rnns: list[_RNN]) -> str:
    m = call.module
    head = f"{call.name} ({type(m).__name__}): "
    why = None
    args = call.args or ()
    kwargs = call.kwargs or {}
    x_axes = call.inputs[0].axes if call.inputs else None
    try:
        r = _rnn(m)
        if r is not None:
            why = _diagnose_rnn(r, args, kwargs)
            conflict = next((n for n in rows[-1].note.split("; ") if "reads axis 0 as" in n), None)
            if why and conflict and "transpose x to" not in why:
                why += f"; {conflict}"
        elif _is_linear(m):
            why = _diagnose_linear(m, args, x_axes, rnns)
        elif _is_cell(m):
            why = _diagnose_cell(m, args)
    except Exception:  # noqa: BLE001 - a diagnosis that fails must not hide the real error
        why = None
    if why:
        return head + why
    got = ", ".join(f"{s.label} {s.shape}" for s in call.inputs) or "no tensors"
    if call.own is False or m is not None and list(m.children()):
        after = f" after {rows[-2].name}" if len(rows) > 1 else ""
        return (
            f"{head}its own forward() code failed{after} (not inside one of its modules), on {got}: "
            f"{_first_line(exc)}"
        )
    return f"{head}failed on {got}: {_first_line(exc)}"
