"""Why a PyTorch module refused what arrived, and the fix (:func:`diagnosis`): an RNN's input and initial
state by :func:`~lstm_ref.trace._core.diagnose_rnn` plus PyTorch's fixes; a Linear's or a cell's input."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_ref.diagnose import BTF, STATE, diagnose, hx_not_a_pair, layout_str
from lstm_ref.i18n import _
from lstm_ref.trace._core import Recurrent, Row, axis_names, diagnose_rnn, summary

ORDERS = (
    "(B, T, F)",
    "(T, B, F)",
)  # x as batch_first=True, False reads it; named only by a fix transposing x


def _why_rnn(r: Recurrent, args: tuple, kwargs: dict) -> str | None:
    """Why an RNN refused its input ``x`` or its initial state ``hx``, with the fix; None if both fit."""
    x = args[0] if args else kwargs.get("input")
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    config = [f"input_size={r.F}", f"hidden_size={r.H}"] + [f"num_layers={r.L}"] * (r.L > 1)
    config += ["bidirectional=True"] * (r.D == 2) + [f"proj_size={r.P}"] * bool(r.P)
    built = _("it was built with {config}, batch_first={bf}")
    built = built.format(config=", ".join(config), bf=r.batch_first)
    xs = tuple(x.shape) if isinstance(x, torch.Tensor) else None
    batch = xs[1 - r.batch_first] if xs and len(xs) == 3 else None
    v = {"built": built, "reads": layout_str(r.x_names()), "f": r.F, "kind": r.kind, "type": type(x).__name__}
    if isinstance(x, PackedSequence):
        msg = diagnose(tuple(x.data.shape), (None, r.F), ("packed_steps", "features"), name="x.data")
        if msg:
            return _("{msg}; {built}: pack sequences of {f} features each").format(msg=msg, **v)
        batch = int(x.batch_sizes[0]) if len(x.batch_sizes) else None
    elif xs is None:
        msg = _("x is a {type}, not a tensor: {kind} takes a tensor {reads} or a PackedSequence")
        return msg.format_map(v)
    seq = isinstance(hx, tuple | list)
    ok = hx is None or (seq and len(hx) == 2 if r.lstm else not seq)  # LSTM: (h0, c0); else: h0
    states = [] if hx is None or not ok else [("h0", hx[0]), ("c0", hx[1])] if r.lstm else [("h0", hx)]
    shapes = [(label, tuple(t.shape)) for label, t in states if isinstance(t, torch.Tensor)]
    bad = diagnose_rnn(r, xs, shapes, batch=batch)
    if bad and bad[0] == "x" and len(xs) == 2:
        unb = _("a 2-D x is read as one unbatched sequence (time_steps, features); {built}")
        v["built"] = unb.format_map(v) if r.native else built
        if r.batch_first:
            return _("{msg} ({built})").format(msg=bad[1], **v)
        return _("{msg}; with batch_first=False that is (time_steps, batch, features): for an array of (samples, time_steps) use x.T[..., None], or build it with batch_first=True ({built})").format(msg=bad[1], **v)  # fmt: skip
    if bad and bad[0] == "x" and len(xs) == 3 and xs[-1] != r.F not in xs:  # not a time/feature swap
        more = _("{msg}; {built}, so it reads x as {reads}: give x {f} feature(s) per time step, or build it with input_size={n}")  # fmt: skip
        return more.format(msg=bad[1], n=xs[-1], **v)
    if bad and bad[0] == "x":
        return _("{msg}; {built}, so it reads x as {reads}").format(msg=bad[1], **v)
    if not ok and r.lstm:
        return hx_not_a_pair(hx, {STATE[0]: r.L * r.D, "batch": batch, "hidden_size": None if r.P else r.H})
    if not ok:
        return _("{kind} takes one initial state h0 (layers*directions, batch, hidden), not a tuple (that is nn.LSTM's (h0, c0))").format_map(v)  # fmt: skip
    for label, t in states:
        if not isinstance(t, torch.Tensor):
            msg = _("{label} is a {type}, not a tensor of shape ({ld}, batch, {width})")
            return msg.format(
                label=label, type=type(t).__name__, ld=r.L * r.D, width=r.state_shape(label, 0)[0][-1]
            )
    return _state_fix(r, bad[0], dict(shapes)[bad[0]], bad[1], x, batch) if bad else None


def _state_fix(r: Recurrent, label: str, s: tuple[int, ...], msg: str, x, batch: int | None) -> str:
    """A state ``s`` of the wrong shape: the message ``msg``, its likely causes and how to build it."""
    ld, width = r.L * r.D, r.state_shape(label, 0)[0][-1]
    xs = tuple(x.shape) if isinstance(x, torch.Tensor) else None
    unbatched = r.native and xs is not None and len(xs) == 2  # x is one unbatched sequence
    v = {"label": label, "s": s, "xs": xs, "kind": r.kind, "ld": ld, "L": r.L, "D": r.D, "H": r.H, "P": r.P}
    if unbatched and len(s) == 3:
        why = diagnose(xs, (s[1], None, r.F), BTF, name="x")
        more = _("{label} {s} has a batch axis but x {xs} is 2-D, which {kind} reads as ONE unbatched sequence (time_steps, features) and then wants a 2-D {label}")  # fmt: skip
        return _("{msg}; {hint}").format(msg=more.format_map(v), hint=why) if why else more.format_map(v)
    make = f"torch.zeros({ld}, {width})" if unbatched else f"torch.zeros({ld}, {batch or 'batch'}, {width})"
    three, fixes = len(s) == 3 and not unbatched, []  # a 3-D state's causes: axis 0, proj_size, x's order
    if three and s[0] != ld and (s[1:] == (batch, width) or len(set(s)) < 3):
        if r.D == 2 and s[0] == r.L:
            why = _("bidirectional=True: {label} needs one slice per layer AND direction, num_layers*2 = {ld} (forward and backward of each layer)")  # fmt: skip
        elif r.L > 1 and s[0] == r.D:
            why = _("num_layers={L}: {label} needs one slice per layer and direction, {ld} in all")
        else:
            why = _("its first axis is num_layers*num_directions = {L}*{D} = {ld}")
        fixes.append(why.format_map(v))
        fixes += [_("its {ld} rows are, in order: {rows}").format(ld=ld, rows=r.rows())] * (ld > 1)
    if three and s[2] != width and r.P and label == "h0" and s[2] == r.H:
        fixes.append(_("proj_size={P}: h0 (like h_n) is proj_size = {P} wide; c0 (like c_n) keeps hidden_size = {H}").format_map(v))  # fmt: skip
    elif three and s[2] != width and r.P and label == "c0" and s[2] == r.P:
        why = _("c0 keeps hidden_size = {H}; only h0 (like h_n) is proj_size = {P} wide")
        fixes.append(why.format_map(v))
    other = three and xs is not None and len(xs) == 3 and s[1] == xs[r.batch_first] != batch
    if (
        other and s[0] == ld and s[2] == width
    ):  # the state's batch is x's other leading axis: x in the other order
        if r.batch_first:
            more = _("x {xs} looks time-major, but this {kind} has batch_first=True and reads it as (batch={a}, time_steps={b}, features={f}): transpose x to {order} with x.transpose(0, 1), or build it with batch_first=False")  # fmt: skip
        else:
            more = _("x {xs} looks batch-first, but this {kind} has batch_first=False and reads it as (time_steps={a}, batch={b}, features={f}): transpose x to {order} with x.transpose(0, 1), or build it with batch_first=True")  # fmt: skip
        fixes.append(more.format(**v, a=xs[0], b=xs[1], f=xs[2], order=ORDERS[not r.batch_first]))
    order = "batch_first=True" if r.batch_first else _("batch_first=False, the default")
    build = _("build it as {label} = {make} ({order}: the state is never batch-first)")
    fixes.append(build.format(label=label, make=make, order=order))
    # diagnose words its fix code for an array called x; name the real one
    msg = msg.replace("use x.transpose", f"use {label}.transpose").replace("x.permute", f"{label}.permute")
    msg = msg.replace("x.reshape", f"{label}.reshape")
    return _("{msg}; {hint}").format(msg=msg, hint=_("; ").join(fixes))


def _why_linear(m: nn.Linear, args: tuple, x_axes, rnns: list[Recurrent]) -> str | None:
    """Why a Linear refused its input: a tuple or PackedSequence, or a width other than in_features."""
    x = args[0] if args else None
    if isinstance(x, PackedSequence):
        return _("x is a PackedSequence, not a tensor: unpack the RNN's output first, output, lengths = torch.nn.utils.rnn.pad_packed_sequence(output, batch_first=True)")  # fmt: skip
    if isinstance(x, tuple | list):
        lstm = len(x) == 2 and isinstance(x[1], tuple | list) and len(x[1]) == 2
        what = _("nn.LSTM returns (output, (h_n, c_n))") if lstm else _("an RNN returns (output, h_n)")
        msg = _("x is a {type} of {n}, not a tensor: {what}, and nn.Sequential passes that whole tuple on to the next module. Write a forward(): output, (h_n, c_n) = self.lstm(x), then self.fc(output[:, -1]) (the last time step, batch_first=True) or self.fc(h_n[-1]) (the last layer's final state)")  # fmt: skip
        return msg.format(type=type(x).__name__, n=len(x), what=what)
    got, want = tuple(x.shape) if isinstance(x, torch.Tensor) else None, m.in_features
    if not got:
        msg = _("x is a scalar: nn.Linear needs at least one axis of in_features = {want}")
        return None if got is None else msg.format(want=want)
    lead = tuple(x_axes[:-1]) if x_axes and len(x_axes) == len(got) else axis_names(len(got))[:-1]
    msg = diagnose(got, (*[None] * (len(got) - 1), want), (*lead, "features"), name="x")
    w, bidir = got[-1], [r.P or r.H for r in rnns if r.D == 2]  # the width of each bidirectional h
    if msg and 2 * w == want and w in bidir:
        more = _("{msg}: half of 2*hidden = {want}. Under bidirectional=True, h_n[-1] is only the backward direction of the last layer ({w} wide); join both directions with torch.cat([h_n[-2], h_n[-1]], dim=1), {want} wide. (output[:, -1] is {want} wide too, but its backward half has read only the last time step)")  # fmt: skip
    elif msg and w == 2 * want and want in bidir:
        more = _("{msg}: a bidirectional output is 2*hidden = {w} wide (forward and backward joined); build the Linear with in_features = {w}")  # fmt: skip
    else:
        more = _("{msg}; nn.Linear({want}, ...) reads the last axis: build it with in_features={w}, or fix what feeds it")  # fmt: skip
    return msg and more.format(msg=msg, want=want, w=w)


def diagnosis(call, exc: BaseException, rows: list[Row], rnns: list[Recurrent], r: Recurrent | None) -> str:
    """The diagnosis of the failing ``call`` (a ``Call``), given the ``rows`` so far (its own last), the ``rnns``
    that ran before it, and ``r``, its own spec if it is recurrent."""
    m, why, args = call.module, None, call.args or ()
    x, head = args[0] if args else None, _("{name} ({kind}): {why}")
    try:
        if r is not None:
            why = _why_rnn(r, args, call.kwargs or {})
            # the note where the layout and batch_first disagree: it names the order to transpose x to
            conflict = [n for n in rows[-1].note.split(_("; ")) if any(o in n for o in ORDERS)]
            if why and conflict and not any(o in why for o in ORDERS):
                why = _("{msg}; {hint}").format(msg=why, hint=conflict[0])
        elif isinstance(m, nn.Linear):
            why = _why_linear(m, args, call.inputs[0].axes if call.inputs else None, rnns)
        elif isinstance(m, nn.RNNCellBase) and isinstance(x, torch.Tensor) and x.dim() == 3:
            why = _("x {shape} is a whole sequence, but a cell takes one time step (batch, features): loop over the time axis, or use nn.{rnn}")  # fmt: skip
            why = why.format(shape=tuple(x.shape), rnn=type(m).__name__.replace("Cell", ""))
        elif isinstance(m, nn.RNNCellBase) and isinstance(x, torch.Tensor) and x.dim() == 2:
            why = diagnose(tuple(x.shape), (None, m.input_size), ("batch", "features"), name="x")
    except Exception:  # noqa: BLE001 - a diagnosis that fails must not hide the real error
        why = None
    if not why:
        got = ", ".join(f"{s.label} {s.shape}" for s in call.inputs) or _("no tensors")
        own = call.own is False or list(m.children())
        if own and len(rows) > 1:
            why = _(
                "its own forward() code failed after {name} (not inside one of its modules), on {got}: {error}"
            )
        elif own:
            why = _("its own forward() code failed (not inside one of its modules), on {got}: {error}")
        else:
            why = _("failed on {got}: {error}")
        why = why.format(name=rows[-2].name if len(rows) > 1 else "", got=got, error=summary(exc))
    return head.format(name=call.name, kind=type(m).__name__, why=why)
