"""NumPy LSTM: a line-for-line twin of ``torch.nn.LSTM``, forward and full BPTT.

The gate math lives in three small functions and nowhere else:

- ``_activate``: pre-activations (4H, B) -> the four gates, in place,
- ``_cell_forward``: gates and ``c_prev`` -> ``c``, ``tanh(c)``, ``h``,
- ``_cell_backward``: the reverse of ``_cell_forward`` and ``_activate``.

The single-step pair ``lstm_step_forward`` / ``lstm_step_backward`` (CS231n style:
``(out, cache)`` then ``backward(dout, cache)``) and the whole-sequence ``LSTM`` are
both built from them. Gate order is **i, f, g, o**, as in PyTorch and Keras
(CS231n uses i, f, o, g). The equations, for one time step::

    a = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh        # (B, 4H), blocks i, f, g, o
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g                                 # (B, H)
    h = o * tanh(c)                                        # (B, H)

Speed (``make bench`` compares with ``torch.nn.LSTM``; BENCHMARKS.md has the numbers). Each
choice below was measured against the simpler code it replaced:

- **One ``tanh`` pass for all gates.** ``sigmoid(z) = (1 + tanh(z / 2)) / 2``, so once the
  three sigmoid blocks are pre-scaled by 1/2 (folded into the weights) and sit next to each
  other, one ``tanh`` over the whole gate block gives all four gates. Internally the blocks
  are therefore kept in the order **i, f, o, g** (``_internal``). The public weights,
  ``state_dict`` and gradients stay in torch's order i, f, g, o.
- **Batch last.** Inside ``LSTM`` every array is (rows, batch): gates (4H, B), states (H, B).
  Each gate is then one contiguous block, and the per-step GEMM ``W @ z`` is the faster
  orientation for BLAS. The public inputs and outputs keep torch's layouts.
- **One GEMM per step.** ``z_t = [h_{t-1}; x_t; 1]`` (H+F+1, B) is stacked in a preallocated
  buffer, so ``W_hh h + W_ih x + b`` is a single ``W @ z_t`` written straight into the gate
  buffer: no separate input projection, no ``+=`` of two partial results. Each step is one
  GEMM and eight element-wise NumPy calls, with no allocation.
- **A small working set.** The forward keeps only ``z`` (the h and x of every step) and the
  cell states; the gates pass through one (4H, B) buffer that stays in the CPU cache. The
  backward recomputes each step's gates from ``z`` (one more GEMM per step), which costs it
  less than writing a fresh (T, 4H, B) block costs the forward.
- **Two halves of the batch in two threads** for big batches (``PARALLEL_MIN_BATCH``,
  ``PARALLEL_MIN_WORK``): batch rows never interact, so each half runs the whole network on
  its own, with BLAS limited to its share of the cores (``threadpoolctl``). NumPy releases
  the GIL inside every call, so the halves overlap. For small batches the GIL hand-offs
  between short calls cost more than they save, and one thread is used.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

import numpy as np

from lstm_ref._checks import as_float_array, check_sequence, check_shape, check_state, check_state_dict

__all__ = [
    "LSTM",
    "PARALLEL_MIN_BATCH",
    "PARALLEL_MIN_WORK",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "rel_error",
    "sigmoid",
]

#: ``LSTM`` splits the batch over two threads when it has at least ``PARALLEL_MIN_BATCH`` rows
#: and a step's gate block, ``4 * hidden * batch``, has at least ``PARALLEL_MIN_WORK`` numbers.
#: Measured on 2 cores (best of 5 rounds, T=50): two threads took 0.80x the time at B512, H64,
#: 0.89x at B256, H64 and 0.96x at B256, H128, but 1.06x at B128, H128, 1.03x at B64, H128 and
#: 1.22x at B128, H64: narrower halves make BLAS less efficient and the GIL hand-offs between
#: short NumPy calls cost more than they save. Set both to 0 to always split a batch of two
#: or more, or ``PARALLEL_MIN_BATCH`` to ``float("inf")`` to never split.
PARALLEL_MIN_BATCH = 256
PARALLEL_MIN_WORK = 1 << 16


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function, elementwise, any shape.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    x = np.asarray(x)
    with np.errstate(under="ignore"):
        return np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def _internal(hidden: int) -> np.ndarray:
    """Row order that turns torch's blocks i, f, g, o into i, f, o, g (it is its own inverse)."""
    return np.r_[0 : 2 * hidden, 3 * hidden : 4 * hidden, 2 * hidden : 3 * hidden]


def _gate_scale(hidden: int, dtype) -> np.ndarray:
    """The (4H, 1) row scale, in the internal order i, f, o, g: 1/2 for the sigmoid gates, 1 for g."""
    scale = np.full((4 * hidden, 1), 0.5, dtype=dtype)
    scale[3 * hidden :] = 1.0
    return scale


# ----------------------------------------------------------------------------- gate math (once)
def _blocks(a: np.ndarray) -> list[np.ndarray]:
    """The four (H, B) row blocks i, f, o, g of a (4H, B) array, as views."""
    hidden = a.shape[0] // 4
    return [a[k * hidden : (k + 1) * hidden] for k in range(4)]


def _activate(a_scaled: np.ndarray, sig: np.ndarray) -> None:
    """Gates from *scaled* pre-activations, in place, in the internal order i, f, o, g.

    ``a_scaled`` (4H, B), or (T, 4H, B) for many steps at once, holds ``a / 2`` for the i, f, o
    blocks and ``a`` for the g block (see ``_gate_scale``); ``sig`` is its first 3H rows, the
    sigmoid gates (passed in so that the time loop slices nothing). Afterwards ``a_scaled`` holds
    ``[sigmoid(a_i); sigmoid(a_f); sigmoid(a_o); tanh(a_g)]``.
    """
    np.tanh(a_scaled, a_scaled)
    np.multiply(sig, 0.5, sig)
    np.add(sig, 0.5, sig)  # sigmoid(a) = (1 + tanh(a / 2)) / 2


def _cell_forward(
    i: np.ndarray,
    f: np.ndarray,
    o: np.ndarray,
    g: np.ndarray,
    c_prev: np.ndarray,
    c: np.ndarray,
    tanh_c: np.ndarray,
    h: np.ndarray,
) -> None:
    """``c = f * c_prev + i * g`` and ``h = o * tanh(c)``, written into ``c``, ``tanh_c``, ``h``.

    Every argument is (H, B): the gates ``i, f, o, g`` (see ``_blocks``), then the states.
    """
    np.multiply(f, c_prev, c)
    np.multiply(i, g, h)  # h is scratch here
    np.add(c, h, c)
    np.tanh(c, tanh_c)
    np.multiply(o, tanh_c, h)


def _cell_backward(
    dh: np.ndarray, dc: np.ndarray, gates: np.ndarray, c_prev: np.ndarray, tanh_c: np.ndarray, da: np.ndarray
) -> np.ndarray:
    """Backward of ``_cell_forward`` and ``_activate`` for one step.

    Inputs, all (H, B) except ``gates`` and ``da`` (4H, B, internal order i, f, o, g):
    upstream ``dh`` and ``dc`` (``dc`` is updated in place to the total gradient on ``c``),
    the cached ``gates``, ``c_prev`` and ``tanh_c``. Writes the gradient on the (unscaled)
    pre-activations into ``da`` and returns ``dc_prev`` (a new array).
    """
    i, f, o, g = _blocks(gates)
    da_i, da_f, da_o, da_g = _blocks(da)
    # dc += dh * o * (1 - tanh(c)^2)
    np.multiply(tanh_c, tanh_c, da_o)
    np.subtract(1.0, da_o, da_o)
    da_o *= o
    da_o *= dh
    dc += da_o
    # gate gradients, then through the activations
    np.multiply(dh, tanh_c, da_o)  # do
    da_o *= o
    da_o *= 1.0 - o  # sigmoid'
    np.multiply(dc, g, da_i)  # di
    da_i *= i
    da_i *= 1.0 - i
    np.multiply(dc, c_prev, da_f)  # df
    da_f *= f
    da_f *= 1.0 - f
    np.multiply(dc, i, da_g)  # dg
    da_g *= 1.0 - g * g  # tanh'
    return dc * f


# ----------------------------------------------------------------------------- one step
def lstm_step_forward(
    x: np.ndarray,
    h_prev: np.ndarray,
    c_prev: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple]:
    """One LSTM time step (gate order i, f, g, o), PyTorch weight layout.

    - x: input at this step, shape (B, F)
    - h_prev, c_prev: previous hidden and cell state, shape (B, H)
    - weight_ih: shape (4H, F); weight_hh: shape (4H, H)
    - bias: shape (4H,) (``bias_ih + bias_hh``), or None

    Returns ``(h, c, cache)``: next hidden and cell state, each (B, H), and what
    ``lstm_step_backward`` needs.

    >>> rng = np.random.default_rng(0)
    >>> B, F, H = 2, 3, 4
    >>> h, c, cache = lstm_step_forward(rng.normal(size=(B, F)), np.zeros((B, H)), np.zeros((B, H)),
    ...                                 rng.normal(size=(4 * H, F)), rng.normal(size=(4 * H, H)))
    >>> h.shape, c.shape
    ((2, 4), (2, 4))
    >>> bool(np.all(np.abs(h) < 1))
    True
    """
    x = as_float_array(x, "x")
    hidden = np.shape(weight_hh)[-1] if np.ndim(weight_hh) == 2 else np.shape(h_prev)[-1]
    check_shape(
        np.shape(weight_hh), ("4*hidden", "hidden"), {"4*hidden": 4 * hidden, "hidden": hidden}, "weight_hh"
    )
    check_shape(x.shape, ("batch", "features"), {}, "x")
    batch, features = x.shape
    check_shape(
        np.shape(weight_ih),
        ("4*hidden", "features"),
        {"4*hidden": 4 * hidden, "features": features},
        "weight_ih",
    )
    for name, s in (("h_prev", h_prev), ("c_prev", c_prev)):
        check_shape(np.shape(s), ("batch", "hidden"), {"batch": batch, "hidden": hidden}, name)
    if bias is not None:
        check_shape(np.shape(bias), ("4*hidden",), {"4*hidden": 4 * hidden}, "bias")
    dtype = np.result_type(x, h_prev, c_prev, weight_ih, weight_hh)
    h_prev, c_prev = np.asarray(h_prev, dtype), np.asarray(c_prev, dtype)
    a = np.asarray(weight_ih) @ x.T + np.asarray(weight_hh) @ h_prev.T  # (4H, B), rows i, f, g, o
    if bias is not None:
        a += np.asarray(bias)[:, None]
    gates = a[_internal(hidden)].astype(dtype, copy=False) * _gate_scale(hidden, dtype)
    _activate(gates, gates[: 3 * hidden])
    c_prev_t = np.ascontiguousarray(c_prev.T)
    c, tanh_c, h = (np.empty((hidden, batch), dtype) for _ in range(3))
    _cell_forward(*_blocks(gates), c_prev_t, c, tanh_c, h)
    cache = (x, h_prev, c_prev_t, np.asarray(weight_ih), np.asarray(weight_hh), gates, tanh_c)
    return np.ascontiguousarray(h.T), np.ascontiguousarray(c.T), cache


def lstm_step_backward(
    dh: np.ndarray, dc: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward of ``lstm_step_forward``.

    - dh, dc: upstream gradients on ``h`` and ``c``, each (B, H)
    - cache: from ``lstm_step_forward``

    Returns ``(dx, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias)`` with shapes
    (B, F), (B, H), (B, H), (4H, F), (4H, H), (4H,).

    >>> rng = np.random.default_rng(0)
    >>> x, h0, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    >>> w_ih, w_hh = rng.normal(size=(16, 3)), rng.normal(size=(16, 4))
    >>> h, c, cache = lstm_step_forward(x, h0, c0, w_ih, w_hh)
    >>> dx, *_ = lstm_step_backward(np.ones_like(h), np.zeros_like(c), cache)
    >>> num = numerical_gradient(lambda v: lstm_step_forward(v, h0, c0, w_ih, w_hh)[0], x, np.ones_like(h))
    >>> bool(rel_error(dx, num) < 1e-7)
    True
    """
    x, h_prev, c_prev_t, weight_ih, weight_hh, gates, tanh_c = cache
    hidden, batch = c_prev_t.shape
    for name, g in (("dh", dh), ("dc", dc)):
        check_shape(np.shape(g), ("batch", "hidden"), {"batch": batch, "hidden": hidden}, name)
    dh_t = np.array(np.asarray(dh).T, dtype=gates.dtype)
    dc_t = np.array(np.asarray(dc).T, dtype=gates.dtype)  # a copy: updated in place
    da = np.empty_like(gates)
    dc_prev = _cell_backward(dh_t, dc_t, gates, c_prev_t, tanh_c, da)
    da = da[_internal(hidden)]  # (4H, B), back to torch's order i, f, g, o
    return (
        da.T @ weight_ih,
        da.T @ weight_hh,
        np.ascontiguousarray(dc_prev.T),
        da @ x,
        da @ h_prev,
        da.sum(axis=1),
    )


# ----------------------------------------------------------------------------- gradient checking
def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x`` (CS231n style).

    ``x`` (any shape, float64 for accuracy) is perturbed in place and restored;
    ``dout`` has the shape of ``f(x)``. Returns an array shaped like ``x``.

    >>> numerical_gradient(lambda v: v ** 2, np.array([3.0]), np.array([1.0])).round(6)
    array([6.])
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + eps
        plus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        x[ix] = old - eps
        minus = np.sum(np.asarray(f(x), dtype=np.float64) * dout)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * eps)
        it.iternext()
    return grad


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """Largest relative error ``|a - b| / max(1e-8, |a| + |b|)``; aim for < 1e-7 in float64.

    >>> rel_error(np.array([1.0]), np.array([1.0]))
    0.0
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))) if a.size else 0.0


# ----------------------------------------------------------------------------- the whole LSTM
def _to_numpy(value) -> np.ndarray:
    """NumPy view of an array or a (possibly grad-tracking) torch tensor, without importing torch."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


class LSTM:
    """NumPy twin of ``torch.nn.LSTM``: same arguments, shapes, weight names and results.

    - ``input_size`` F, ``hidden_size`` H, ``num_layers`` L; layer k > 0 takes H * num_directions inputs.
    - ``batch_first``: input and output are (B, T, ·) instead of (T, B, ·).
      The states ``h0, c0, h_n, c_n`` are **always** (L * num_directions, B, H).
    - ``dtype``: float32 by default, like torch; inputs are cast to it.
    - ``seed``: weights start from U(-1/sqrt(H), 1/sqrt(H)), as in torch.

    ``lstm(x, hx=None)`` returns ``(output, (h_n, c_n))``: output (T, B, D*H) or (B, T, D*H).
    ``lstm.backward(d_output, dh_n=None, dc_n=None)`` returns ``(grads, dx)`` for the last call.

    >>> lstm = LSTM(3, 5, num_layers=2, batch_first=True, seed=0)
    >>> out, (h_n, c_n) = lstm(np.ones((4, 7, 3)))
    >>> out.shape, h_n.shape, c_n.shape
    ((4, 7, 5), (2, 4, 5), (2, 4, 5))
    >>> np.allclose(out[:, -1], h_n[-1])
    True
    >>> sorted(lstm.state_dict())[:2]
    ['bias_hh_l0', 'bias_hh_l1']
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
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if not isinstance(v, int | np.integer) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.input_size, self.hidden_size, self.num_layers = (
            int(input_size),
            int(hidden_size),
            int(num_layers),
        )
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.num_directions = 2 if bidirectional else 1
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a floating type, got {self.dtype}")
        self._params: dict[str, np.ndarray] = {}
        self._cache: dict | None = None
        self.reset_parameters(seed)

    # -- parameters -------------------------------------------------------------------------
    def _suffixes(self):
        """Yield ``(layer, direction, suffix)`` in torch's parameter order."""
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                yield layer, d, f"_l{layer}" + ("_reverse" if d else "")

    def _expected_shapes(self) -> dict[str, tuple[int, ...]]:
        H, shapes = self.hidden_size, {}
        for layer, _, sfx in self._suffixes():
            in_size = self.input_size if layer == 0 else H * self.num_directions
            shapes["weight_ih" + sfx] = (4 * H, in_size)
            shapes["weight_hh" + sfx] = (4 * H, H)
            if self.bias:
                shapes["bias_ih" + sfx] = (4 * H,)
                shapes["bias_hh" + sfx] = (4 * H,)
        return shapes

    def reset_parameters(self, seed: int | None = None) -> None:
        """Draw every weight from U(-1/sqrt(H), 1/sqrt(H)), as ``torch.nn.LSTM`` does."""
        rng = np.random.default_rng(seed)
        k = 1.0 / np.sqrt(self.hidden_size)
        self._set_params(
            {
                name: rng.uniform(-k, k, size=shape).astype(self.dtype)
                for name, shape in self._expected_shapes().items()
            }
        )

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        """The only writer of the weights: stores them read-only and drops the time loop's copies."""
        for p in params.values():
            p.flags.writeable = False
        self._params = params
        self._scaled: dict[str, np.ndarray] = {}  # suffix -> the loop's weight matrix, see _scaled_weights

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the weights under torch's names, e.g. ``weight_ih_l0`` (4H, F)."""
        return {name: p.copy() for name, p in self._params.items()}

    def load_state_dict(self, state_dict: Mapping[str, object]) -> None:
        """Load weights under torch's names; NumPy arrays or torch tensors. Keys and shapes must match exactly."""
        check_state_dict(state_dict, self._expected_shapes(), "NumPy LSTM")
        self._set_params(
            {
                name: as_float_array(_to_numpy(state_dict[name]), name).astype(self.dtype)
                for name in self._params
            }
        )

    def num_parameters(self) -> int:
        """Number of scalars, equal to ``sum(p.numel() for p in torch_lstm.parameters())``."""
        return int(sum(p.size for p in self._params.values()))

    def __repr__(self) -> str:
        return (
            f"LSTM({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional})"
        )

    def _scaled_weights(self, sfx: str) -> np.ndarray:
        """The time loop's ``[W_hh | W_ih | b]`` (4H, H+F+1): rows in the internal order i, f, o, g,
        the sigmoid rows halved (``_gate_scale``). Made once per set of weights."""
        if sfx not in self._scaled:
            p, H = self._params, self.hidden_size
            b = p["bias_ih" + sfx] + p["bias_hh" + sfx] if self.bias else np.zeros(4 * H, self.dtype)
            w = np.hstack([p["weight_hh" + sfx], p["weight_ih" + sfx], b[:, None]])[_internal(H)]
            self._scaled[sfx] = np.ascontiguousarray(w * _gate_scale(H, self.dtype))
        return self._scaled[sfx]

    # -- forward ----------------------------------------------------------------------------
    def _check_input(self, x, hx):
        """Validate; return x as (T, F, B) (batch last, see the module docstring), h0 and c0 (L*D, B, H)."""
        x = as_float_array(x, "x")
        batch, steps = check_sequence(x.shape, self.input_size, self.batch_first, "x")
        if steps == 0 or batch == 0:
            raise ValueError(f"x: got shape {x.shape}: batch and time_steps must be at least 1")
        LD, H = self.num_layers * self.num_directions, self.hidden_size
        if hx is None:
            h0 = np.zeros((LD, batch, H), self.dtype)
            c0 = np.zeros((LD, batch, H), self.dtype)
        else:
            if not isinstance(hx, tuple | list) or len(hx) != 2:
                raise ValueError(
                    "hx must be a tuple (h0, c0), each of shape (num_layers*num_directions, batch, "
                    f"hidden_size) = ({LD}, {batch}, {H}); got {type(hx).__name__}"
                )
            h0, c0 = (
                as_float_array(_to_numpy(s), n).astype(self.dtype, copy=False)
                for s, n in zip(hx, ("h0", "c0"), strict=True)
            )
            check_state(h0.shape, LD, batch, H, "h0")
            check_state(c0.shape, LD, batch, H, "c0")
        return x.transpose(1, 2, 0) if self.batch_first else x.transpose(0, 2, 1), h0, c0

    def __call__(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        return self.forward(x, hx)

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        """Run the LSTM.

        - x: (T, B, F), or (B, T, F) with ``batch_first=True``
        - hx: optional ``(h0, c0)``, each (num_layers * num_directions, B, H); zeros if None

        Returns ``(output, (h_n, c_n))``: output (T, B, D*H) or (B, T, D*H), h_n and c_n (L*D, B, H).
        ``output`` may be a strided view of the buffers ``backward`` reads: copy it before writing to it.
        """
        x, h0, c0 = self._check_input(x, hx)
        T, F, B = x.shape
        parts = _parts(B, self.hidden_size)
        runs = _map(lambda rows: self._forward_rows(x[..., rows], h0[:, rows], c0[:, rows]), parts)
        out = _join([r[0] for r in runs], axis=2)  # (T, D*H, B)
        h_n, c_n = (_join([r[k] for r in runs], axis=1) for k in (1, 2))
        self._cache = {"parts": parts, "caches": [r[3] for r in runs], "shape": (T, B, F)}
        output = out.transpose(2, 0, 1) if self.batch_first else out.transpose(0, 2, 1)
        return output, (h_n, c_n)

    def _forward_rows(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray):
        """All layers and directions for some batch rows: x (T, F, B), h0 and c0 (L*D, B, H).

        Returns ``(output (T, D*H, B), h_n, c_n (L*D, B, H), caches)``.
        """
        D = self.num_directions
        h_n, c_n = np.empty_like(h0), np.empty_like(c0)
        caches = []
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):
                idx = layer * D + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                cache = self._run_direction(x, h0[idx].T, c0[idx].T, sfx, reverse=bool(d))
                outs.append(cache["h"])
                h_n[idx], c_n[idx] = cache["z"][-1, : self.hidden_size].T, cache["c"][-1].T
                caches.append(cache)
            x = _join(outs, axis=1)
        return x, h_n, c_n, caches

    def _run_direction(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, sfx: str, reverse: bool) -> dict:
        """One layer, one direction: x (T, F, B), h0 and c0 (H, B). Returns its cache.

        Step s handles time s, or time T-1-s when ``reverse``; ``z[s] = [h_{s-1}; x_s; 1]``
        (H+F+1, B), so ``z[s+1, :H]`` is the h of step s, and ``c[s+1]`` its cell state.
        The cache keeps only ``z``, ``c`` and the weights: the gates go through one (4H, B)
        buffer that stays in the CPU cache, and ``backward`` recomputes each step's gates from
        ``z``: writing a fresh (T, 4H, B) block here slowed the forward by 3 to 9% (BENCHMARKS.md).
        """
        T, F, B = x.shape
        H = self.hidden_size
        w = self._scaled_weights(sfx)  # (4H, H+F+1)
        z = np.empty((T + 1, H + F + 1, B), self.dtype)
        z[0, :H] = h0
        z[:T, H : H + F] = x[::-1] if reverse else x
        z[:, H + F] = 1.0
        c = np.empty((T + 1, H, B), self.dtype)
        c[0] = c0
        a, tanh_c = np.empty((4 * H, B), self.dtype), np.empty((H, B), self.dtype)
        i, f, o, g = _blocks(a)
        sig = a[: 3 * H]
        for z_s, c_prev, c_s, h_s in zip(z[:-1], c[:-1], c[1:], z[1:, :H], strict=True):
            np.matmul(w, z_s, a)  # a = W_hh h + W_ih x + b, scaled, in one GEMM
            _activate(a, sig)
            _cell_forward(i, f, o, g, c_prev, c_s, tanh_c, h_s)
        h = z[1:, :H]
        return {"z": z, "c": c, "w": w, "sfx": sfx, "reverse": reverse, "h": h[::-1] if reverse else h}

    # -- backward ---------------------------------------------------------------------------
    def backward(self, d_output: np.ndarray, dh_n: np.ndarray | None = None, dc_n: np.ndarray | None = None):
        """Full backpropagation through time for the last forward call.

        - d_output: gradient on ``output``, same shape as output ((T, B, D*H) or (B, T, D*H))
        - dh_n, dc_n: optional gradients on ``h_n`` and ``c_n``, each (L*D, B, H)

        Returns ``(grads, dx)``: ``grads`` keyed like ``state_dict()``, ``dx`` shaped like ``x``.
        (To get the gradients on ``h0``/``c0`` too, use ``backward_with_state``.)
        """
        grads, dx, _ = self.backward_with_state(d_output, dh_n, dc_n)
        return grads, dx

    def backward_with_state(self, d_output, dh_n=None, dc_n=None):
        """Like ``backward``, and also returns ``(dh0, dc0)``, each (L*D, B, H)."""
        if self._cache is None:
            raise ValueError(
                "backward() needs a forward call first: run lstm(x) before lstm.backward(d_output)"
            )
        T, B, _ = self._cache["shape"]
        H, D, L = self.hidden_size, self.num_directions, self.num_layers
        out_layout = (
            ("batch", "time_steps", "D*hidden") if self.batch_first else ("time_steps", "batch", "D*hidden")
        )
        sizes = {"batch": B, "time_steps": T, "D*hidden": D * H}
        d_output = as_float_array(_to_numpy(d_output), "d_output")
        check_shape(d_output.shape, out_layout, sizes, "d_output")
        dy = (d_output.transpose(1, 2, 0) if self.batch_first else d_output.transpose(0, 2, 1)).astype(
            self.dtype, copy=False
        )  # (T, D*H, B)
        zeros = np.zeros((L * D, B, H), self.dtype)
        dh_n = zeros if dh_n is None else as_float_array(_to_numpy(dh_n), "dh_n").astype(self.dtype)
        dc_n = zeros if dc_n is None else as_float_array(_to_numpy(dc_n), "dc_n").astype(self.dtype)
        check_state(dh_n.shape, L * D, B, H, "dh_n")
        check_state(dc_n.shape, L * D, B, H, "dc_n")
        parts, caches = self._cache["parts"], self._cache["caches"]
        runs = _map(
            lambda k: self._backward_rows(caches[k], dy[..., parts[k]], dh_n[:, parts[k]], dc_n[:, parts[k]]),
            list(range(len(parts))),
        )
        grads = {name: sum(r[0][name] for r in runs) for name in self._params}  # the parts' rows add up
        dx = _join([r[1] for r in runs], axis=2)  # (T, F, B)
        dh0, dc0 = (_join([r[k] for r in runs], axis=1) for k in (2, 3))
        dx = dx.transpose(2, 0, 1) if self.batch_first else dx.transpose(0, 2, 1)
        return grads, np.ascontiguousarray(dx), (dh0, dc0)

    def _backward_rows(self, caches: list, dy: np.ndarray, dh_n: np.ndarray, dc_n: np.ndarray):
        """BPTT through every layer for the batch rows of one forward part.

        dy (T, D*H, B); dh_n, dc_n (L*D, B, H). Returns ``(grads, dx (T, F, B), dh0, dc0)``.
        """
        H, D = self.hidden_size, self.num_directions
        grads, dh0, dc0 = {}, np.empty_like(dh_n), np.empty_like(dc_n)
        for layer in reversed(range(self.num_layers)):
            dx = None
            for d in range(D):
                idx = layer * D + d
                g, dx_d, dh0_d, dc0_d = self._backward_direction(
                    caches[idx], dy[:, d * H : (d + 1) * H], dh_n[idx].T, dc_n[idx].T
                )
                grads.update(g)
                dh0[idx], dc0[idx] = dh0_d.T, dc0_d.T
                dx = dx_d if dx is None else dx + dx_d
            dy = dx
        return grads, dy, dh0, dc0

    def _backward_direction(self, cache: dict, dy: np.ndarray, dh_last: np.ndarray, dc_last: np.ndarray):
        """BPTT through one layer and direction: dy (T, H, B), dh_last and dc_last (H, B).

        Returns ``(grads, dx (T, F, B), dh0 (H, B), dc0 (H, B))``.
        """
        z, c, w, sfx = cache["z"], cache["c"], cache["w"], cache["sfx"]
        T, H, B = z.shape[0] - 1, self.hidden_size, z.shape[2]
        F = z.shape[1] - H - 1
        unscaled = w / _gate_scale(H, self.dtype)  # da is the gradient on the true (unscaled) a
        w_t = np.ascontiguousarray(unscaled.T)  # (H+F+1, 4H)
        dy = dy[::-1] if cache["reverse"] else dy  # step order
        gates, tanh_c = np.empty((4 * H, B), self.dtype), np.empty((H, B), self.dtype)  # one step's, reused
        da = np.empty((T, 4 * H, B), self.dtype)
        dz = np.empty((T, H + F + 1, B), self.dtype)  # gradients on z[s] = [h; x; 1]
        dh, dc = dh_last.copy(), dc_last.copy()
        for s in range(T - 1, -1, -1):
            np.matmul(w, z[s], gates)  # the forward's gates again (the forward kept only z and c)
            _activate(gates, gates[: 3 * H])
            np.tanh(c[s + 1], tanh_c)
            dh += dy[s]
            dc = _cell_backward(dh, dc, gates, c[s], tanh_c, da[s])
            np.matmul(w_t, da[s], dz[s])
            dh = dz[s, :H]
        # dW = sum_s da[s] @ z[s].T, one GEMM; its columns are [W_hh | W_ih | b], like z's rows
        dw = np.tensordot(da, z[:T], axes=([0, 2], [0, 2]))[_internal(H)]  # rows back to i, f, g, o
        grads = {"weight_ih" + sfx: dw[:, H : H + F].copy(), "weight_hh" + sfx: dw[:, :H].copy()}
        if self.bias:
            grads["bias_ih" + sfx] = dw[:, H + F].copy()
            grads["bias_hh" + sfx] = dw[:, H + F].copy()
        dx = dz[:, H : H + F]
        return grads, dx[::-1] if cache["reverse"] else dx, dh.copy(), dc


# ----------------------------------------------------------------------------- batch halves in threads
def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _parts(batch: int, hidden: int) -> list[slice]:
    """The batch rows each thread runs: all of them, or two halves when a step is big enough."""
    too_small = batch < max(2, PARALLEL_MIN_BATCH) or 4 * hidden * batch < PARALLEL_MIN_WORK
    if too_small or _cpu_count() < 2:
        return [slice(0, batch)]
    half = (batch + 1) // 2
    return [slice(0, half), slice(half, batch)]


def _join(arrays: list[np.ndarray], axis: int) -> np.ndarray:
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays, axis=axis)


_BLAS = None  # threadpoolctl's controller, made on first use


def _map(fn: Callable, items: list) -> list:
    """``[fn(item) for item in items]``; with several items, one thread each, BLAS threads shared out.

    The BLAS thread limit is process-wide while the threads run (threadpoolctl sets the library's
    own count), and is restored afterwards. An exception in any thread is re-raised here.
    """
    if len(items) == 1:
        return [fn(items[0])]
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    results, errors = [None] * len(items), []

    def work(k: int) -> None:
        try:
            results[k] = fn(items[k])
        except BaseException as exc:  # re-raised in the caller's thread
            errors.append(exc)

    with _BLAS.limit(limits=max(1, _cpu_count() // len(items)), user_api="blas"):
        threads = [threading.Thread(target=work, args=(k,)) for k in range(1, len(items))]
        for t in threads:
            t.start()
        work(0)
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    return results
