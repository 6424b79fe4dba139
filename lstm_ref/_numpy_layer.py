"""What the two NumPy LSTMs share: the constructor, the weights and ``state_dict``, the input checks.

``lstm_ref.numpy.LSTM`` (readable) and ``lstm_ref.numpy_fast.LSTM`` (tuned) both subclass
``NumpyLSTMBase`` and add only ``forward`` and ``backward_with_state``; nothing here computes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lstm_ref._checks import (
    as_float_array,
    check_sequence,
    check_shape,
    check_state,
    check_state_dict,
    to_numpy,
)
from lstm_ref.diagnose import STATE, hx_not_a_pair
from lstm_ref.i18n import _
from lstm_ref.shapes import param_suffixes, torch_param_shapes


class NumpyLSTMBase:
    """Arguments, weights and checks of a NumPy ``torch.nn.LSTM``; subclasses add the computation.

    >>> from lstm_ref.numpy import LSTM
    >>> LSTM(3, 5, num_layers=2).num_parameters()
    440
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        bidirectional: bool = False,
        *,
        dtype=np.float32,
        seed: int | None = None,
    ) -> None:
        self._shapes = torch_param_shapes(  # checks the sizes; names and shapes in state_dict order
            input_size, hidden_size, num_layers=num_layers, bidirectional=bidirectional, bias=bias
        )
        self.input_size, self.hidden_size, self.num_layers = (
            int(input_size),
            int(hidden_size),
            int(num_layers),
        )
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(_("dtype must be a floating type, got {dtype}").format(dtype=self.dtype))
        self._suffixes = {(k, d): sfx for k, d, sfx in param_suffixes(self.num_layers, self.bidirectional)}
        self._cache: dict | None = None
        self.reset_parameters(seed)

    # -- parameters -------------------------------------------------------------------------
    def reset_parameters(self, seed: int | None = None) -> None:
        """Draw every weight from U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTM`` does."""
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(self.hidden_size)
        self._set_params({n: rng.uniform(-k, k, size=s).astype(self.dtype) for n, s in self._shapes.items()})

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        """The only writer of the weights: stores them read-only (``state_dict`` hands out copies)."""
        for p in params.values():
            p.flags.writeable = False
        self._params = params

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the weights under torch's names, e.g. ``weight_ih_l0`` (4H, F)."""
        return {name: p.copy() for name, p in self._params.items()}

    def load_state_dict(self, state_dict: Mapping[str, object]) -> None:
        """Load weights under torch's names; NumPy arrays or torch tensors. Keys and shapes must match exactly."""
        check_state_dict(state_dict, self._shapes, "NumPy LSTM")
        self._set_params(
            {
                name: as_float_array(to_numpy(state_dict[name]), name).astype(self.dtype)
                for name in self._shapes
            }
        )

    def num_parameters(self) -> int:
        """Number of scalars, equal to ``sum(p.numel() for p in torch_lstm.parameters())``."""
        return int(sum(p.size for p in self._params.values()))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
            f"bias={self.bias}, batch_first={self.batch_first}, bidirectional={self.bidirectional})"
        )

    def _suffix(self, layer: int, direction: int) -> str:
        """torch's parameter-name suffix: ``_l0``, ``_l0_reverse``, ``_l1``, ..."""
        return self._suffixes[layer, direction]

    def _weights(self, layer: int, direction: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``(weight_ih, weight_hh, bias_ih + bias_hh or None)`` of one layer and direction."""
        sfx, p = self._suffix(layer, direction), self._params
        return (
            p["weight_ih" + sfx],
            p["weight_hh" + sfx],
            p["bias_ih" + sfx] + p["bias_hh" + sfx] if self.bias else None,
        )

    # -- input checks ---------------------------------------------------------------------
    def _check_input(self, x, hx) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate; return x in the caller's layout and dtype, h0 and c0 (L*D, B, H)."""
        x = as_float_array(x, "x")
        batch, steps = check_sequence(x.shape, self.input_size, self.batch_first, "x")
        if steps == 0 or batch == 0:
            msg = _("x: got shape {shape}: batch and time_steps must be at least 1")
            raise ValueError(msg.format(shape=x.shape))
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        if hx is None:
            return x.astype(self.dtype, copy=False), *(np.zeros((LD, batch, H), self.dtype) for _ in range(2))
        if not isinstance(hx, tuple | list) or len(hx) != 2:
            raise ValueError(hx_not_a_pair(hx, dict(zip(STATE, (LD, batch, H), strict=True))))
        h0, c0 = (
            as_float_array(to_numpy(s), n).astype(self.dtype, copy=False)
            for s, n in zip(hx, ("h0", "c0"), strict=True)
        )
        check_state(h0.shape, LD, batch, H, "h0")
        check_state(c0.shape, LD, batch, H, "c0")
        return x.astype(self.dtype, copy=False), h0, c0

    def _check_grads(self, d_output, dh_n, dc_n) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Validate ``backward``'s arguments; return them as arrays (zeros for a missing state gradient)."""
        if self._cache is None:
            raise ValueError(
                _("backward() needs a forward call first: run lstm(x) before lstm.backward(d_output)")
            )
        T, B, _f = self._cache["shape"]
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        layout = ("time_steps", "batch", "D*hidden")
        layout = (layout[1], layout[0], layout[2]) if self.batch_first else layout
        d_output = as_float_array(to_numpy(d_output), "d_output")
        check_shape(
            d_output.shape,
            layout,
            {"batch": B, "time_steps": T, "D*hidden": self.num_directions * H},
            "d_output",
        )
        states = []
        for name, value in (("dh_n", dh_n), ("dc_n", dc_n)):
            value = np.zeros((LD, B, H)) if value is None else as_float_array(to_numpy(value), name)
            check_state(value.shape, LD, B, H, name)
            states.append(value.astype(self.dtype, copy=False))
        return d_output.astype(self.dtype, copy=False), *states

    def __call__(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        return self.forward(x, hx)

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):  # pragma: no cover
        raise NotImplementedError

    def backward(self, d_output: np.ndarray, dh_n: np.ndarray | None = None, dc_n: np.ndarray | None = None):
        """Full backpropagation through time for the last forward call.

        - d_output: gradient on ``output``, same shape as output ((T, B, D*H) or (B, T, D*H))
        - dh_n, dc_n: optional gradients on ``h_n`` and ``c_n``, each (L*D, B, H)

        Returns ``(grads, dx)``: ``grads`` keyed like ``state_dict()``, ``dx`` shaped like ``x``.
        (To get the gradients on ``h0``/``c0`` too, use ``backward_with_state``.)
        """
        grads, dx, _dstate = self.backward_with_state(d_output, dh_n, dc_n)
        return grads, dx

    def backward_with_state(self, d_output, dh_n=None, dc_n=None):  # pragma: no cover
        raise NotImplementedError
