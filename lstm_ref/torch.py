"""PyTorch side of ``lstm_ref``: a from-scratch LSTM, the book's models, stateful training.

- ``lstm_cell``: the gate math of one time step (gate order i, f, g, o), written once;
- ``ScratchLSTM``: a loop-over-time twin of ``torch.nn.LSTM`` (same arguments, same
  parameter names and shapes, same outputs for the same ``state_dict``);
- ``ManyToOne`` / ``ManyToMany``: the regressors the book trains (stacked with
  ``num_layers``, bidirectional with ``bidirectional=True``);
- ``train_stateful`` / ``run_chunks``: carry ``(h, c)`` from one batch or chunk to the next.

Every model here returns ``(y, (h_n, c_n))``, like ``nn.LSTM`` itself, so the state can be
carried. Shapes: x is ``(B, T, F)`` (``batch_first=True`` in the models), ``h_n`` and ``c_n``
are always ``(num_layers * num_directions, B, H)``.

References: ``torch.nn.LSTM`` (``torch/nn/modules/rnn.py``) and Hochreiter & Schmidhuber (1997).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from lstm_ref import _checks
from lstm_ref.diagnose import STATE, hx_not_a_pair
from lstm_ref.i18n import _
from lstm_ref.shapes import param_suffixes, torch_param_shapes

State = tuple[torch.Tensor, torch.Tensor]

__all__ = [
    "BatchRecord",
    "ManyToMany",
    "ManyToOne",
    "ScratchLSTM",
    "lstm_cell",
    "run_chunks",
    "train_stateful",
]


def lstm_cell(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    weight_ih: torch.Tensor,
    weight_hh: torch.Tensor,
    bias_ih: torch.Tensor | None = None,
    bias_hh: torch.Tensor | None = None,
) -> State:
    """One LSTM time step; the only place the gate math is written.

    - x: input at this step, (B, in)
    - h, c: previous hidden and cell state, (B, H) each
    - weight_ih: (4H, in); weight_hh: (4H, H); bias_ih, bias_hh: (4H,) or None

    The rows of the weights hold the gates in the order i, f, g, o (as in PyTorch and Keras).
    Returns the new ``(h, c)``, each (B, H).

    >>> H = 2
    >>> x, h, c = torch.ones(1, 3), torch.zeros(1, H), torch.zeros(1, H)
    >>> h1, c1 = lstm_cell(x, h, c, torch.zeros(4 * H, 3), torch.zeros(4 * H, H))
    >>> c1  # i = sigmoid(0) = 0.5, g = tanh(0) = 0, so c = f * 0 + 0.5 * 0
    tensor([[0., 0.]])
    """
    gates = x @ weight_ih.T + h @ weight_hh.T  # (B, 4H)
    if bias_ih is not None:
        gates = gates + bias_ih
    if bias_hh is not None:
        gates = gates + bias_hh
    i, f, g, o = gates.chunk(4, dim=1)  # (B, H) each
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c


def _check_inputs(
    x: torch.Tensor,
    hx: State | None,
    input_size: int,
    hidden_size: int,
    layers_dirs: int,
    batch_first: bool,
) -> int:
    """Validate x and (h0, c0) as ``nn.LSTM`` expects them; return the batch size."""
    if not isinstance(x, torch.Tensor):
        msg = _("x must be a torch.Tensor, got {kind}; use torch.as_tensor(x, dtype=torch.float32)")
        raise ValueError(msg.format(kind=type(x).__name__))
    batch, steps = _checks.check_sequence(x.shape, input_size, batch_first)
    if steps == 0:
        msg = _("x: got shape {shape}: the time axis is empty (0 time steps)")
        raise ValueError(msg.format(shape=tuple(x.shape)))
    if hx is not None:
        if not (isinstance(hx, tuple | list) and len(hx) == 2):
            raise ValueError(
                hx_not_a_pair(hx, dict(zip(STATE, (layers_dirs, batch, hidden_size), strict=True)))
            )
        for name, s in zip(("h0", "c0"), hx, strict=True):
            _checks.check_state(s.shape, layers_dirs, batch, hidden_size, name)
    return batch


class ScratchLSTM(nn.Module):
    """``torch.nn.LSTM`` written as a plain loop over layers, directions and time steps.

    Arguments and parameter names are those of ``nn.LSTM`` (no dropout, no ``proj_size``); the
    arguments after ``num_layers`` are keyword-only, because ``nn.LSTM``'s positional order has
    ``dropout`` between ``batch_first`` and ``bidirectional``. Parameters:
    ``weight_ih_l{k}`` (4H, in_k), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` (4H,), with a ``_reverse`` suffix for the backward direction, where
    ``in_0 = input_size`` and ``in_k = H * num_directions`` for k > 0. So
    ``ScratchLSTM(...).load_state_dict(nn_lstm.state_dict())`` works, and the outputs agree.

    ``forward(x, hx=None)``:

    - x: (T, B, F), or (B, T, F) with ``batch_first=True``
    - hx: optional ``(h0, c0)``, each (num_layers * num_directions, B, H), **whatever batch_first says**
    - returns ``output`` (T, B, D*H) or (B, T, D*H), and ``(h_n, c_n)``, each (num_layers * D, B, H)

    Unlike ``nn.LSTM``, a 2-D x is refused (``nn.LSTM`` reads it as one unbatched sequence,
    which hides a missing axis), and every shape error names the expected layout.

    >>> lstm = ScratchLSTM(input_size=3, hidden_size=5, num_layers=2, batch_first=True)
    >>> output, (h_n, c_n) = lstm(torch.zeros(4, 7, 3))
    >>> tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)
    ((4, 7, 5), (2, 4, 5), (2, 4, 5))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        *,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
        bias: bool = True,
        batch_first: bool = False,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (
            ("input_size", input_size),
            ("hidden_size", hidden_size),
            ("num_layers", num_layers),
        ):
            _checks.check_int(value, name, minimum=1)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.bidirectional = bidirectional
        self.num_directions = 2 if bidirectional else 1
        shapes = torch_param_shapes(
            input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, bias=bias
        )  # nn.LSTM's names, shapes and order
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.empty(shape, device=device, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Draw every weight from U(-1/sqrt(H), 1/sqrt(H)), as ``nn.LSTM`` does.

        >>> ScratchLSTM(2, 4).reset_parameters()
        """
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def extra_repr(self) -> str:
        return (
            f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional}"
        )

    def forward(self, x: torch.Tensor, hx: State | None = None) -> tuple[torch.Tensor, State]:
        L, H = self.num_layers * self.num_directions, self.hidden_size
        batch = _check_inputs(x, hx, self.input_size, H, L, self.batch_first)
        w = self.weight_ih_l0
        if x.dtype != w.dtype:
            msg = _("x has dtype {got} but the weights are {want}; convert with x.to({want})")
            raise ValueError(msg.format(got=x.dtype, want=w.dtype))
        if hx is None:
            h0 = c0 = x.new_zeros(L, batch, H)
        else:
            h0, c0 = hx
        seq = x.transpose(0, 1) if self.batch_first else x  # (T, B, in)
        T = seq.shape[0]
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if self.bias else [])
        h_n, c_n, outs = [], [], []
        for k, d, suffix in param_suffixes(self.num_layers, self.bidirectional):  # state_dict order
            params = [getattr(self, name + suffix) for name in names]
            h, c = h0[k * self.num_directions + d], c0[k * self.num_directions + d]  # (B, H)
            out: list[torch.Tensor] = [x] * T  # placeholders, all overwritten
            for t in range(T) if d == 0 else reversed(range(T)):  # the backward direction reads T-1 .. 0
                h, c = lstm_cell(seq[t], h, c, *params)  # (B, H) each
                out[t] = h
            outs.append(torch.stack(out))  # (T, B, H)
            h_n.append(h)
            c_n.append(c)
            if d == self.num_directions - 1:  # the layer is done
                seq, outs = torch.cat(outs, dim=2), []  # (T, B, D*H): the next layer's input
        output = seq.transpose(0, 1) if self.batch_first else seq
        return output, (torch.stack(h_n), torch.stack(c_n))  # (L*D, B, H) each


class _SeqModel(nn.Module):
    """Common part of the book's models: a batch-first LSTM (``nn.LSTM``, or ``ScratchLSTM`` with
    ``scratch=True``) plus a Linear head; the subclasses differ only in ``forward``."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int = 1,
        *,
        num_layers: int = 1,
        bidirectional: bool = False,
        scratch: bool = False,
    ) -> None:
        super().__init__()
        self.num_directions = 2 if bidirectional else 1
        cls = ScratchLSTM if scratch else nn.LSTM
        self.lstm = cls(input_size, hidden_size, num_layers, batch_first=True, bidirectional=bidirectional)
        self.head = nn.Linear(hidden_size * self.num_directions, output_size)

    def _run_lstm(self, x: torch.Tensor, hx: State | None) -> tuple[torch.Tensor, State]:
        lstm = self.lstm
        _check_inputs(x, hx, lstm.input_size, lstm.hidden_size, lstm.num_layers * self.num_directions, True)
        return lstm(x, hx)


class ManyToOne(_SeqModel):
    """Many-to-one regressor: LSTM -> final hidden state of the top layer -> Linear.

    - x: (B, T, F) (batch first); hx: optional ``(h0, c0)``, each (num_layers * D, B, H)
    - returns ``y`` (B, output_size) and ``(h_n, c_n)``, each (num_layers * D, B, H)

    Stacked: ``num_layers=2``. Bidirectional: ``bidirectional=True`` feeds the head
    ``cat(h_n[-2], h_n[-1])``, the forward direction's state after step T-1 and the
    backward direction's state after step 0, each (B, H). ``output[:, -1]`` would be wrong
    there: its backward half has seen only the last step. ``scratch=True`` uses ``ScratchLSTM``.

    >>> model = ManyToOne(input_size=3, hidden_size=8, bidirectional=True)
    >>> y, (h_n, c_n) = model(torch.zeros(4, 10, 3))
    >>> tuple(y.shape), tuple(h_n.shape)
    ((4, 1), (2, 4, 8))
    """

    def forward(self, x: torch.Tensor, hx: State | None = None) -> tuple[torch.Tensor, State]:
        _, (h_n, c_n) = self._run_lstm(x, hx)  # h_n: (L*D, B, H)
        top = h_n[-self.num_directions :]  # (D, B, H): top layer, forward then backward
        features = torch.cat(list(top), dim=1)  # (B, D*H)
        return self.head(features), (h_n, c_n)  # (B, output_size)


class ManyToMany(_SeqModel):
    """Many-to-many model: LSTM -> the same Linear on every time step.

    - x: (B, T, F) (batch first); hx: optional ``(h0, c0)``, each (num_layers * D, B, H)
    - returns ``y`` (B, T, output_size) and ``(h_n, c_n)``, each (num_layers * D, B, H)

    (Keras writes this head as ``TimeDistributed(Dense(output_size))``; ``nn.Linear`` acts
    on the last axis, so it applies to every step already.)

    >>> model = ManyToMany(input_size=1, hidden_size=6, output_size=2, num_layers=2)
    >>> y, _ = model(torch.zeros(3, 12, 1))
    >>> tuple(y.shape)
    (3, 12, 2)
    """

    def forward(self, x: torch.Tensor, hx: State | None = None) -> tuple[torch.Tensor, State]:
        output, state = self._run_lstm(x, hx)  # output: (B, T, D*H)
        return self.head(output), state  # (B, T, output_size)


class BatchRecord(NamedTuple):
    """What ``train_stateful`` passes to ``on_batch`` after each optimiser step.

    ``state_in`` is what the model received (``None`` = zeros, at each epoch start);
    ``state_out`` is what it returned, before it is detached for the next batch.
    """

    epoch: int
    batch: int
    state_in: State | None
    state_out: State
    loss: float


def _as_tensor(a, name: str) -> torch.Tensor:
    if isinstance(a, torch.Tensor):
        return a
    return torch.as_tensor(_checks.as_float_array(a, name), dtype=torch.float32)


def train_stateful(
    model: nn.Module,
    batches: Sequence[tuple[object, object]],
    *,
    epochs: int = 10,
    lr: float = 1e-2,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    on_batch: Callable[[BatchRecord], None] | None = None,
    progress: bool = True,
) -> list[float]:
    """Stateful training with truncated back-propagation through time.

    - model: called as ``y, (h, c) = model(x, state)`` (``ManyToOne``, ``ManyToMany``, ...)
    - batches: ``[(x, y), ...]`` in stream order; x (B, T, F); y shaped like the model's output.
      Row b of batch k+1 must continue row b of batch k (see ``lstm_ref.data.stateful_batches``).

    The state is carried from each batch to the next, **detached** (gradients stop at batch
    boundaries: truncated BPTT), reset to zeros at every epoch start, and the batches are never
    shuffled. Adam with ``lr`` unless ``optimizer`` is given; MSE unless ``loss_fn`` is given.
    Returns the mean loss of each epoch. ``on_batch`` receives a ``BatchRecord`` per batch.

    >>> torch.manual_seed(0) and None
    >>> x = torch.zeros(2, 5, 1)
    >>> history = train_stateful(ManyToOne(1, 4), [(x, x[:, -1]), (x, x[:, -1])], epochs=2, progress=False)
    >>> len(history)
    2
    """
    batches = list(batches)
    if not batches:
        raise ValueError(_("batches is empty: expected a list of (x, y) pairs, x (B, T, F)"))
    optimizer = optimizer if optimizer is not None else torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = loss_fn if loss_fn is not None else nn.MSELoss()
    model.train()
    history = []
    bar = tqdm(range(epochs), desc=_("epochs"), disable=not progress, file=sys.stdout)
    for epoch in bar:
        state: State | None = None  # reset: zeros at every epoch start
        total = 0.0
        for b, (x, y) in enumerate(batches):  # stream order, never shuffled
            x, y = _as_tensor(x, "x"), _as_tensor(y, "y")
            if state is not None and state[0].shape[1] != x.shape[0]:
                msg = _(
                    "batch {b}: x has batch size {n} but the carried state has {m}; "
                    "stateful training needs the same batch size in every batch"
                )
                raise ValueError(msg.format(b=b, n=x.shape[0], m=state[0].shape[1]))
            pred, state_out = model(x, state)
            if tuple(pred.shape) != tuple(y.shape):
                msg = _(
                    "batch {b}: the model returned shape {got} but y has shape {want}; "
                    "they must match (no broadcasting)"
                )
                raise ValueError(msg.format(b=b, got=tuple(pred.shape), want=tuple(y.shape)))
            loss = loss_fn(pred, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if on_batch is not None:
                on_batch(BatchRecord(epoch, b, state, state_out, loss.item()))
            state = (state_out[0].detach(), state_out[1].detach())  # truncated BPTT
            total += loss.item()
        history.append(total / len(batches))
        bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
    return history


def run_chunks(
    model: nn.Module, chunks: Iterable[torch.Tensor | np.ndarray], hx: State | None = None
) -> tuple[list[torch.Tensor], State]:
    """Run consecutive chunks of a stream through ``model``, carrying ``(h, c)`` between them.

    - model: ``nn.LSTM``, ``ScratchLSTM``, ``ManyToOne``, ... (called as ``model(x, hx)``)
    - chunks: tensors in the model's layout, e.g. (B, t_k, F) each, same B
    - hx: optional starting state, each (num_layers * D, B, H)

    Returns the list of outputs and the final state. Runs without gradients, in eval mode.
    For a unidirectional LSTM, ``torch.cat(outputs, dim=1)`` equals one run on the whole stream.

    >>> lstm = torch.nn.LSTM(1, 3, batch_first=True)
    >>> x = torch.randn(2, 6, 1)
    >>> outs, _ = run_chunks(lstm, torch.split(x, 2, dim=1))
    >>> torch.allclose(torch.cat(outs, dim=1), lstm(x)[0], atol=1e-6)
    True
    """
    model.eval()
    outputs = []
    with torch.no_grad():
        for chunk in chunks:
            out, hx = model(_as_tensor(chunk, "chunk"), hx)
            outputs.append(out)
    if hx is None:
        raise ValueError(_("chunks is empty: expected at least one chunk"))
    return outputs, hx
