"""The PyTorch side of :func:`lstm_ref.trace.trace`: forward hooks on every module, for one forward pass.

``trace_torch(model, x)`` registers a forward pre-hook and a forward hook (``with_kwargs=True``) on
every submodule, runs ``model(x)`` once in eval mode under ``torch.no_grad()``, and removes them in a
``finally``. The hooks only write down shapes (and keep no tensor alive): names for the axes are
given afterwards, so the cost is that of one forward pass plus a few Python calls per module.

Which modules get a row: every module that ran and did its own work, that is, no other module ran
inside its call (``nn.LSTM``, ``nn.Linear``, ``nn.Dropout``, ... but not ``nn.Sequential`` or a custom
model whose ``forward`` only calls its children), in the order they ran; a module called twice gets
two rows (``"fc"``, ``"fc (call 2)"``). Code of a custom ``forward`` between modules (a reshape,
``output[:, -1]``, ``torch.cat``) shows as the next module's input; when the model returns something
else than the last module's output, a last row ``"(model)"`` shows what the model returned.

How axes get their names: the model input per ``layout``, or else as the first recurrent module
reads it (``batch_first``); an RNN's ``output`` is ``(batch, time_steps, hidden)`` or time-major,
``h_n``/``c_n`` are ``(layers*directions, batch, hidden)``; a Linear renames the last axis
``units``; other modules keep the names of an input of the same rank. A tensor made by the model's
own code gets the names of a tensor seen before that it is a copy, slice, permutation or flattening
of (``h_n[-1]`` is ``(batch, hidden)``).

When the model raises, the module entered last and not left is the failing one; its row is the last
(``failed=True``) and the diagnosis says in :mod:`lstm_ref.shapes` words what it expected and what
arrived, plus the PyTorch fix. :class:`~lstm_ref.trace.ShapeError` is raised from the original
exception.

The work is split: :mod:`._torch_record` holds the hooks and what they write down,
:mod:`._torch_names` names the axes, :mod:`._torch_diagnose` words the diagnosis; this module runs
the model and builds the rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from lstm_ref.diagnose import resolve_layout
from lstm_ref.trace._core import Row, Shape, ShapeError, ShapeTrace, axis_names
from lstm_ref.trace._torch_diagnose import _diagnosis, _first_line
from lstm_ref.trace._torch_names import (
    _infer_x_axes,
    _Namer,
    _out_axes,
    _rnn_input_axes,
    _rnn_notes,
    _rnn_output_axes,
)
from lstm_ref.trace._torch_record import _RNN, LD, ROOT, _Call, _is_cell, _is_linear, _Recorder, _rnn

FRAMEWORK = "PyTorch"


def _params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _row(call: _Call, namer: _Namer, failed: bool) -> Row:
    """The row of one call: its inputs and outputs named, its parameter count and note."""
    m = call.module
    r = _rnn(m)
    notes: list[str] = []
    ins = call.inputs
    if r is not None:
        for s in ins:
            if s.label == "x":
                namer.name(s, _rnn_input_axes(r, len(s.shape)))
            elif s.label == "x.data":
                namer.name(s, ("packed_steps", "features"))
            elif s.label == "x.batch_sizes":
                namer.name(s, ("time_steps",))
            elif s.label in ("h0", "c0"):
                width = "hidden" if s.label == "c0" or not r.P else "proj"
                namer.put(
                    s, (LD, width) if len(s.shape) == 2 else (LD, "batch", width)
                )  # as the RNN reads it
            else:
                namer.name(s)
        x = next((s for s in ins if s.label == "x"), None)
        notes = _rnn_notes(r, call, x.axes if x else None, x is not None and x.key in namer.from_layout)
        for s in call.outputs or []:
            namer.put(s, _rnn_output_axes(r, s.label, len(s.shape)))
    elif _is_cell(m):
        for s in ins:
            namer.name(s, ("batch", "features") if s.label == "x" else ("batch", "hidden"))
        for s in call.outputs or []:
            namer.put(
                s, ("batch", "hidden")[-len(s.shape) :] if len(s.shape) <= 2 else axis_names(len(s.shape))
            )
    else:
        for s in ins:
            namer.name(s, last="features" if _is_linear(m) else None)
        first = ins[0] if ins else None
        for s in call.outputs or []:
            namer.put(s, _out_axes(m, s, first, namer))
            if first is not None and first.key in namer.from_layout and s.axes == first.axes:
                namer.from_layout.add(s.key)
        if _is_linear(m) and first is not None and first.label == "x" and "time_steps" in (first.axes or ()):
            notes.append("applied at every time step: the time axis is kept")
    return Row(
        name=call.name,
        kind=type(m).__name__,
        inputs=[Shape(s.label, s.shape, s.axes) for s in ins],
        outputs=[] if failed else [Shape(s.label, s.shape, s.axes) for s in call.outputs or []],
        params=_params(m),
        note="; ".join(notes),
        failed=failed,
    )


# ---------------------------------------------------------------------------------------------- entry point


def _to_input(x, dtype: torch.dtype, device: torch.device | None):
    """Arrays become tensors of the model's dtype and device; tensors, PackedSequences stay as they are."""
    if isinstance(x, torch.Tensor | PackedSequence):
        return x
    if isinstance(x, np.ndarray):
        t = torch.as_tensor(x)
        if t.is_floating_point():
            t = t.to(dtype)
        return t.to(device) if device is not None else t
    if isinstance(x, tuple | list):
        return type(x)(_to_input(v, dtype, device) for v in x)
    return x


def trace_torch(model: nn.Module, x, *, layout: Sequence[str] | str | None = None) -> ShapeTrace:
    """Run ``model`` once on ``x`` and return its :class:`~lstm_ref.trace.ShapeTrace` (see :func:`lstm_ref.trace.trace`).

    ``x`` is a tensor, an array (made a tensor of the model's dtype), a ``PackedSequence``, or a
    tuple of the model's arguments such as ``(x, (h0, c0))``. The model runs in eval mode under
    ``torch.no_grad()``; its hooks, training flags and weights are as before afterwards.

    >>> import torch
    >>> lstm = torch.nn.LSTM(3, 8, batch_first=True)
    >>> print(trace_torch(lstm, torch.zeros(4, 10, 3)).rows[0].outputs[1])
    h_n (layers*directions=1, batch=4, hidden=8)
    """
    params = next(iter(model.parameters()), None)
    dtype = params.dtype if params is not None and params.is_floating_point() else torch.get_default_dtype()
    device = params.device if params is not None else None
    args = _to_input(x, dtype, device)
    args = tuple(args) if isinstance(args, tuple) and not isinstance(args, PackedSequence) else (args,)
    names = None if layout is None else resolve_layout(layout)
    if names is not None:
        first = args[0] if args else None
        if not isinstance(first, torch.Tensor):
            raise ValueError(
                f"layout names the axes of x, a tensor or array, but x is a {type(first).__name__}"
                + (
                    ": a PackedSequence's data is always (packed_steps, features)"
                    if isinstance(first, PackedSequence)
                    else ""
                )
            )
        axis_names(first.dim(), names)  # raises ValueError unless it names every axis

    training = {m: m.training for m in model.modules()}
    rec = _Recorder(model)
    error: Exception | None = None
    try:
        model.eval()
        with torch.no_grad():
            model(*args)
    except Exception as exc:  # noqa: BLE001 - re-raised below, chained
        error = exc
    finally:
        rec.remove()
        for m, flag in training.items():
            m.training = flag
    tr = _build(model, rec, names, error)
    if error is not None:
        raise ShapeError(tr) from error
    return tr


def _build(
    model: nn.Module, rec: _Recorder, layout: tuple[str, ...] | None, error: Exception | None
) -> ShapeTrace:
    """The trace of what the hooks recorded: the rows in the order the calls ran, and the diagnosis."""
    calls = rec.calls
    tr = ShapeTrace(FRAMEWORK, type(model).__name__)
    if not calls:
        tr.diagnosis = (
            f"{ROOT} ({type(model).__name__}): failed before it ran: {_first_line(error)}" if error else None
        )
        return tr
    root = calls[0]
    failing = rec.stack[-1] if error is not None and rec.stack else None
    namer = _Namer()
    _name_model_inputs(root, calls, namer, layout)
    # one row per call that did its own work, in the order they ran
    rows: list[Row] = []
    rnns: list[_RNN] = []
    done = [c for c in calls if c.outputs is not None and c.own and c is not failing]
    for c in done + ([failing] if failing is not None else []):  # the failing one started before its children
        rows.append(_row(c, namer, failed=c is failing))
        r = _rnn(c.module)
        if r is not None:
            rnns.append(r)
    if error is None and root.outputs is not None and not root.own:
        rows += _returned_row(model, root, done, namer)
    tr.rows = rows
    if failing is not None:
        tr.diagnosis = _diagnosis(failing, error, rows, rnns[:-1] if _rnn(failing.module) else rnns)
    elif error is not None:
        tr.diagnosis = f"{ROOT} ({type(model).__name__}): {_first_line(error)}"
    return tr


def _name_model_inputs(
    root: _Call, calls: list[_Call], namer: _Namer, layout: tuple[str, ...] | None
) -> None:
    """Names for what the model was called with: ``x`` per ``layout`` or inferred, then the rest."""
    x = root.inputs[0] if root.inputs else None
    if x is None:
        return
    if x.label == "x":
        if layout is not None:
            axes = axis_names(len(x.shape), layout)
            namer.from_layout.add(x.key)
        else:
            axes = _infer_x_axes(x, calls)
        namer.put(x, axes)
    for s in root.inputs:
        if s.key in namer.known:
            continue
        if s.label == "x.data":
            namer.put(s, ("packed_steps", "features"))
        elif s.label == "x.batch_sizes":
            namer.put(s, ("time_steps",))
        elif s.label in ("h0", "c0") and len(s.shape) == 3:
            namer.put(s, (LD, "batch", "hidden"))


def _returned_row(model: nn.Module, root: _Call, done: list[_Call], namer: _Namer) -> list[Row]:
    """The last row ``"(model)"``, when the model returned something else than its last module's output."""
    made = {s.key for c in done for s in c.outputs or []}
    if root.outputs and all(s.key in made for s in root.outputs):
        return []
    for s in root.outputs:
        namer.name(s)
    return [
        Row(
            ROOT,
            type(model).__name__,
            [Shape(s.label, s.shape, s.axes) for s in root.inputs],
            [Shape(s.label, s.shape, s.axes) for s in root.outputs],
            _params(model),
            note="what forward() returned: its own code ran after the last module",
        )
    ]
