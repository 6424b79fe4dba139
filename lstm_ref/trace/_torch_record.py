"""What the PyTorch tracer's forward hooks write down: one :class:`_Call` per module call.

:class:`_Recorder` registers a forward pre-hook and a forward hook on every submodule and keeps,
for each call, the shapes of its inputs and outputs (as :class:`_Seen`, never the tensors) and
whether another module ran inside it. :class:`_RNN` is what a recurrent module was built with, read
by the naming (:mod:`._torch_names`) and the diagnoses (:mod:`._torch_diagnose`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence

ROOT = "model"

# the trace's own axis names (the table); lstm_ref.shapes's are BTF/TBF/STATE (the diagnoses)
LD = "layers*directions"


@dataclass
class _Seen:
    """One tensor that went into or came out of a module call."""

    label: str
    shape: tuple[int, ...]
    key: int
    axes: tuple[str, ...] | None = None


@dataclass
class _Call:
    """One module call, as the hooks saw it."""

    module: nn.Module
    name: str
    inputs: list[_Seen]
    args: tuple | None = None  # kept while the call runs, for the diagnosis of a failure
    kwargs: dict | None = None
    outputs: list[_Seen] | None = None  # None: it never returned
    own: bool = True  # no other module ran inside it


@dataclass(frozen=True)
class _RNN:
    """What an ``nn.LSTM``/``GRU``/``RNN`` (or a twin like ``ScratchLSTM``) was built with."""

    kind: str
    F: int
    H: int
    L: int
    D: int
    P: int
    bf: bool
    lstm: bool
    native: bool  # a torch.nn.RNNBase, which reads a 2-D x as one unbatched sequence

    @property
    def h_out(self) -> int:
        return self.P or self.H

    @property
    def width(self) -> str:
        base = "proj" if self.P else "hidden"
        return f"directions*{base}" if self.D == 2 else base


def _rnn(m: nn.Module) -> _RNN | None:
    if isinstance(m, nn.RNNBase):
        lstm = m.mode == "LSTM"
    elif all(hasattr(m, a) for a in ("input_size", "hidden_size", "num_layers", "batch_first")) and not list(
        m.children()
    ):
        lstm = "LSTM" in type(m).__name__  # duck-typed: lstm_ref.torch.ScratchLSTM and the like
    else:
        return None
    try:
        return _RNN(
            kind=type(m).__name__,
            F=int(m.input_size),
            H=int(m.hidden_size),
            L=int(m.num_layers),
            D=2 if getattr(m, "bidirectional", False) else 1,
            P=int(getattr(m, "proj_size", 0) or 0),
            bf=bool(m.batch_first),
            lstm=lstm,
            native=isinstance(m, nn.RNNBase),
        )
    except (TypeError, ValueError):
        return None


def _is_cell(m: nn.Module) -> bool:
    return isinstance(m, nn.RNNCellBase)


def _is_linear(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear)


# ---------------------------------------------------------------------------------------------- recording


class _Recorder:
    """The hooks: a stack of calls entered and not left, and every call in the order it started."""

    def __init__(self, model: nn.Module):
        self.model = model
        self.calls: list[_Call] = []
        self.stack: list[_Call] = []
        self._ids: dict[int, tuple[weakref.ref, int]] = {}
        self._count: dict[str, int] = {}
        self.handles = []
        self.has_rnn = any(_rnn(m) is not None or _is_cell(m) for m in model.modules())
        for name, m in model.named_modules():
            self.handles.append(m.register_forward_pre_hook(self._enter(name or ROOT), with_kwargs=True))
            self.handles.append(m.register_forward_hook(self._leave, with_kwargs=True))

    def remove(self) -> None:
        for h in self.handles:
            h.remove()
        self.handles.clear()

    def key(self, t: torch.Tensor) -> int:
        """The same number for the same tensor object during the trace (no tensor is kept alive)."""
        hit = self._ids.get(id(t))
        if hit is not None and hit[0]() is t:
            return hit[1]
        k = len(self._ids) + 1
        self._ids[id(t)] = (weakref.ref(t), k)
        return k

    def seen(self, obj, label: str) -> list[_Seen]:
        """Every tensor in ``obj`` (a tensor, PackedSequence, tuple, list or dict), labelled by its place."""
        if isinstance(obj, torch.Tensor):
            return [_Seen(label, tuple(int(s) for s in obj.shape), self.key(obj))]
        if isinstance(obj, PackedSequence):
            return self.seen(obj.data, f"{label}.data") + self.seen(obj.batch_sizes, f"{label}.batch_sizes")
        if isinstance(obj, tuple | list):
            return [s for i, o in enumerate(obj) for s in self.seen(o, f"{label}[{i}]")]
        if isinstance(obj, dict):
            return [s for k, o in obj.items() for s in self.seen(o, f"{label}[{k!r}]")]
        return []

    def inputs(self, m: nn.Module, args: tuple, kwargs: dict) -> list[_Seen]:
        out: list[_Seen] = []
        rnn_like = _rnn(m) is not None or _is_cell(m)
        rnn_like = rnn_like or (m is self.model and self.has_rnn and _looks_like_state(args))
        for i, a in enumerate(args):
            if i == 1 and rnn_like:
                out += self.state(a, "0")
            else:
                out += self.seen(a, "x" if i == 0 else f"args[{i}]")
        for k, v in kwargs.items():
            out += self.state(v, "0") if k == "hx" and rnn_like else self.seen(v, k)
        return out

    def state(self, hx, suffix: str) -> list[_Seen]:
        """``(h0, c0)`` or ``h0`` (``h_n``/``c_n`` with ``suffix="_n"``)."""
        if isinstance(hx, tuple | list) and len(hx) == 2 and all(isinstance(t, torch.Tensor) for t in hx):
            return self.seen(hx[0], "h" + suffix) + self.seen(hx[1], "c" + suffix)
        return self.seen(hx, "h" + suffix)

    def outputs(self, m: nn.Module, out) -> list[_Seen]:
        if _rnn(m) is not None and isinstance(out, tuple) and len(out) == 2:
            return self.seen(out[0], "output") + self.state(out[1], "_n")
        if _is_cell(m):
            return self.state(out, "")
        return self.seen(out, "output")

    def _enter(self, name: str):
        def hook(m, args, kwargs):
            n = self._count[name] = self._count.get(name, 0) + 1
            call = _Call(m, name if n == 1 else f"{name} (call {n})", [], args, kwargs)
            try:
                call.inputs = self.inputs(m, args, kwargs)
            except Exception:  # noqa: BLE001 - a trace must never break the model
                pass
            if self.stack:
                self.stack[-1].own = False
            self.stack.append(call)
            self.calls.append(call)

        return hook

    def _leave(self, m, args, kwargs, out):
        # a call left on the stack above m raised inside m and m caught it: it is over too
        while self.stack and self.stack[-1].module is not m:
            self.stack.pop().args = None
        if not self.stack:
            return
        call = self.stack.pop()
        call.args = call.kwargs = None
        try:
            call.outputs = self.outputs(m, out)
        except Exception:  # noqa: BLE001
            call.outputs = []


def _looks_like_state(args: tuple) -> bool:
    """A model called as ``model(x, (h0, c0))`` or ``model(x, h0)``, with 3-D (or 2-D) states."""
    if len(args) < 2:
        return False
    hx = args[1]
    parts = hx if isinstance(hx, tuple | list) and len(hx) == 2 else (hx,)
    return all(isinstance(t, torch.Tensor) and t.dim() in (2, 3) for t in parts)
