"""NumPy LSTM: a line-for-line twin of ``torch.nn.LSTM``, forward and full BPTT.

The gate math lives in three small functions and nowhere else:

- ``_activate``: pre-activations (B, 4H) -> the four gates,
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

Speed. ``sigmoid(z) = (1 + tanh(z / 2)) / 2``, so one ``tanh`` pass over the whole (B, 4H)
block gives all four gates once the three sigmoid blocks are pre-scaled by 1/2 and sit
next to each other. Internally the blocks are therefore kept in the order **i, f, o, g**
(``_INTERNAL``), with the 1/2 folded into the weights once per call. The public weights,
``state_dict`` and gradients stay in torch's order i, f, g, o. ``LSTM`` also computes the
input projection of every time step (and the bias) in one GEMM and writes into
preallocated buffers, so each time step is one small GEMM and ten NumPy calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from lstm_ref._checks import as_float_array, check_sequence, check_shape, check_state, check_state_dict

__all__ = [
    "LSTM",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "rel_error",
    "sigmoid",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function, elementwise, any shape.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    x = np.asarray(x)
    with np.errstate(under="ignore"):
        return np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def _internal(hidden: int) -> np.ndarray:
    """Row/column order that turns torch's blocks i, f, g, o into i, f, o, g (it is its own inverse)."""
    return np.r_[0 : 2 * hidden, 3 * hidden : 4 * hidden, 2 * hidden : 3 * hidden]


def _gate_scale(hidden: int, dtype) -> np.ndarray:
    """The (4H,) scale, in the internal order i, f, o, g: 1/2 for the sigmoid gates, 1 for g."""
    scale = np.full(4 * hidden, 0.5, dtype=dtype)
    scale[3 * hidden :] = 1.0
    return scale


# ----------------------------------------------------------------------------- gate math (once)
def _activate(a_scaled: np.ndarray) -> np.ndarray:
    """Gates from *scaled* pre-activations, in place, in the internal order i, f, o, g.

    ``a_scaled`` (B, 4H) holds ``a / 2`` for the i, f, o blocks and ``a`` for the g block
    (see ``_gate_scale``). Afterwards it holds ``[sigmoid(a_i) | sigmoid(a_f) | sigmoid(a_o) | tanh(a_g)]``.
    """
    hidden = a_scaled.shape[-1] // 4
    np.tanh(a_scaled, out=a_scaled)
    sig = a_scaled[..., : 3 * hidden]
    sig *= 0.5
    sig += 0.5  # sigmoid(a) = (1 + tanh(a / 2)) / 2
    return a_scaled


def _cell_forward(
    gates: np.ndarray, c_prev: np.ndarray, c: np.ndarray, tanh_c: np.ndarray, h: np.ndarray
) -> None:
    """``c = f * c_prev + i * g`` and ``h = o * tanh(c)``, written into ``c``, ``tanh_c``, ``h`` (B, H).

    ``gates`` (B, 4H) is in the internal order i, f, o, g.
    """
    hidden = c_prev.shape[-1]
    i, f = gates[:, :hidden], gates[:, hidden : 2 * hidden]
    o, g = gates[:, 2 * hidden : 3 * hidden], gates[:, 3 * hidden :]
    np.multiply(f, c_prev, out=c)
    np.multiply(i, g, out=h)  # h is scratch here
    c += h
    np.tanh(c, out=tanh_c)
    np.multiply(o, tanh_c, out=h)


def _cell_backward(
    dh: np.ndarray, dc: np.ndarray, gates: np.ndarray, c_prev: np.ndarray, tanh_c: np.ndarray, da: np.ndarray
) -> np.ndarray:
    """Backward of ``_cell_forward`` and ``_activate`` for one step.

    Inputs, all (B, H) except ``gates`` and ``da`` (B, 4H, internal order i, f, o, g):
    upstream ``dh`` and ``dc`` (``dc`` is updated in place to the total gradient on ``c``),
    the cached ``gates``, ``c_prev`` and ``tanh_c``. Writes the gradient on the (unscaled)
    pre-activations into ``da`` and returns ``dc_prev`` (a new array).
    """
    hidden = dh.shape[-1]
    i, f = gates[:, :hidden], gates[:, hidden : 2 * hidden]
    o, g = gates[:, 2 * hidden : 3 * hidden], gates[:, 3 * hidden :]
    da_i, da_f = da[:, :hidden], da[:, hidden : 2 * hidden]
    da_o, da_g = da[:, 2 * hidden : 3 * hidden], da[:, 3 * hidden :]
    # dc += dh * o * (1 - tanh(c)^2)
    np.multiply(tanh_c, tanh_c, out=da_o)
    np.subtract(1.0, da_o, out=da_o)
    da_o *= o
    da_o *= dh
    dc += da_o
    # gate gradients, then through the activations
    np.multiply(dh, tanh_c, out=da_o)  # do
    da_o *= o
    da_o *= 1.0 - o  # sigmoid'
    np.multiply(dc, g, out=da_i)  # di
    da_i *= i
    da_i *= 1.0 - i
    np.multiply(dc, c_prev, out=da_f)  # df
    da_f *= f
    da_f *= 1.0 - f
    np.multiply(dc, i, out=da_g)  # dg
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
    a = x @ np.asarray(weight_ih).T + np.asarray(h_prev) @ np.asarray(weight_hh).T  # (B, 4H)
    if bias is not None:
        a += bias
    gates = a[:, _internal(hidden)].astype(dtype, copy=False) * _gate_scale(hidden, dtype)
    _activate(gates)
    c_prev = np.asarray(c_prev, dtype=dtype)
    c, tanh_c, h = (np.empty((batch, hidden), dtype) for _ in range(3))
    _cell_forward(gates, c_prev, c, tanh_c, h)
    cache = (
        x,
        np.asarray(h_prev, dtype=dtype),
        c_prev,
        np.asarray(weight_ih),
        np.asarray(weight_hh),
        gates,
        tanh_c,
    )
    return h, c, cache


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
    x, h_prev, c_prev, weight_ih, weight_hh, gates, tanh_c = cache
    dh = np.asarray(dh, dtype=gates.dtype)
    check_shape(dh.shape, ("batch", "hidden"), {"batch": c_prev.shape[0], "hidden": c_prev.shape[1]}, "dh")
    check_shape(
        np.shape(dc), ("batch", "hidden"), {"batch": c_prev.shape[0], "hidden": c_prev.shape[1]}, "dc"
    )
    dc = np.array(dc, dtype=gates.dtype)  # copy: updated in place
    da = np.empty_like(gates)
    dc_prev = _cell_backward(dh, dc, gates, c_prev, tanh_c, da)
    da = da[:, _internal(da.shape[1] // 4)]  # back to torch's order i, f, g, o
    return da @ weight_ih, da @ weight_hh, dc_prev, da.T @ x, da.T @ h_prev, da.sum(axis=0)


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
        self._params = {
            name: rng.uniform(-k, k, size=shape).astype(self.dtype)
            for name, shape in self._expected_shapes().items()
        }

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the weights under torch's names, e.g. ``weight_ih_l0`` (4H, F)."""
        return {name: p.copy() for name, p in self._params.items()}

    def load_state_dict(self, state_dict: Mapping[str, object]) -> None:
        """Load weights under torch's names; NumPy arrays or torch tensors. Keys and shapes must match exactly."""
        check_state_dict(state_dict, self._expected_shapes(), "NumPy LSTM")
        for name in self._params:
            self._params[name] = as_float_array(_to_numpy(state_dict[name]), name).astype(self.dtype)

    def num_parameters(self) -> int:
        """Number of scalars, equal to ``sum(p.numel() for p in torch_lstm.parameters())``."""
        return int(sum(p.size for p in self._params.values()))

    def __repr__(self) -> str:
        return (
            f"LSTM({self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, bias={self.bias}, "
            f"batch_first={self.batch_first}, bidirectional={self.bidirectional})"
        )

    def _prepared(self, sfx: str):
        """Weights for the fast loop, internal order i, f, o, g, scaled: [W_ih; b] (F+1, 4H), W_hh (H, 4H)."""
        p, H = self._params, self.hidden_size
        perm, scale = _internal(H), _gate_scale(H, self.dtype)
        b = p["bias_ih" + sfx] + p["bias_hh" + sfx] if self.bias else np.zeros(4 * H, self.dtype)
        w_ih_b = np.vstack([p["weight_ih" + sfx].T, b[None]])[:, perm] * scale
        w_hh = np.ascontiguousarray(p["weight_hh" + sfx].T[:, perm] * scale)
        return w_ih_b, w_hh

    # -- forward ----------------------------------------------------------------------------
    def _check_input(self, x, hx):
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
        xt = x.transpose(1, 0, 2) if self.batch_first else x  # time-major (T, B, F) from here on
        return np.ascontiguousarray(xt, dtype=self.dtype), h0, c0

    def __call__(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        return self.forward(x, hx)

    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        """Run the LSTM.

        - x: (T, B, F), or (B, T, F) with ``batch_first=True``
        - hx: optional ``(h0, c0)``, each (num_layers * num_directions, B, H); zeros if None

        Returns ``(output, (h_n, c_n))``: output (T, B, D*H) or (B, T, D*H), h_n and c_n (L*D, B, H).
        """
        xt, h0, c0 = self._check_input(x, hx)
        T, B, _ = xt.shape
        H = self.hidden_size
        h_n = np.empty((self.num_layers * self.num_directions, B, H), self.dtype)
        c_n = np.empty_like(h_n)
        layer_in, caches = xt, []
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                idx = layer * self.num_directions + d
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                cache = self._run_direction(layer_in, h0[idx], c0[idx], sfx, reverse=bool(d))
                outs.append(cache["h"])
                h_n[idx], c_n[idx] = cache["h_last"], cache["c_last"]
                caches.append(cache)
            layer_in = outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)
        self._cache = {"caches": caches, "shape": xt.shape}
        output = layer_in.transpose(1, 0, 2) if self.batch_first else layer_in  # a view, not a copy
        return output, (h_n, c_n)

    def _run_direction(self, x: np.ndarray, h0: np.ndarray, c0: np.ndarray, sfx: str, reverse: bool) -> dict:
        """One layer, one direction over time-major x (T, B, F_in). Returns its cache."""
        T, B, F = x.shape
        H = self.hidden_size
        w_ih_b, w_hh = self._prepared(sfx)
        # every input projection and the bias in one GEMM: [x, 1] @ [W_ih; b]
        x1 = np.empty((T * B, F + 1), self.dtype)
        x1[:, :F] = x.reshape(T * B, F)
        x1[:, F] = 1.0
        gates = (x1 @ w_ih_b).reshape(T, B, 4 * H)
        hs = np.empty((T, B, H), self.dtype)
        cs = np.empty((T, B, H), self.dtype)
        tcs = np.empty((T, B, H), self.dtype)
        rec = np.empty((B, 4 * H), self.dtype)
        h_prev, c_prev = h0, c0
        order = range(T - 1, -1, -1) if reverse else range(T)
        for t in order:
            a, h, c = gates[t], hs[t], cs[t]
            np.matmul(h_prev, w_hh, out=rec)
            a += rec
            _activate(a)
            _cell_forward(a, c_prev, c, tcs[t], h)
            h_prev, c_prev = h, c
        return {
            "x": x,
            "h": hs,
            "c": cs,
            "tanh_c": tcs,
            "gates": gates,
            "h0": h0,
            "c0": c0,
            "sfx": sfx,
            "reverse": reverse,
            "h_last": h_prev.copy(),
            "c_last": c_prev.copy(),
        }

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
        dy = (d_output.transpose(1, 0, 2) if self.batch_first else d_output).astype(self.dtype)
        zeros = np.zeros((L * D, B, H), self.dtype)
        dh_n = zeros if dh_n is None else as_float_array(_to_numpy(dh_n), "dh_n").astype(self.dtype)
        dc_n = zeros if dc_n is None else as_float_array(_to_numpy(dc_n), "dc_n").astype(self.dtype)
        check_state(dh_n.shape, L * D, B, H, "dh_n")
        check_state(dc_n.shape, L * D, B, H, "dc_n")
        grads, dh0, dc0 = {}, np.empty_like(zeros), np.empty_like(zeros)
        caches = self._cache["caches"]
        for layer in reversed(range(L)):
            dx_layer = None
            for d in range(D):
                idx = layer * D + d
                cache = caches[idx]
                g, dx, dh0[idx], dc0[idx] = self._backward_direction(
                    cache, np.ascontiguousarray(dy[..., d * H : (d + 1) * H]), dh_n[idx], dc_n[idx]
                )
                grads.update(g)
                dx_layer = dx if dx_layer is None else dx_layer + dx
            dy = dx_layer
        dx = dy.transpose(1, 0, 2) if self.batch_first else dy
        order = list(self._params)  # same key order as state_dict()
        return {k: grads[k] for k in order}, np.ascontiguousarray(dx), (dh0, dc0)

    def _backward_direction(self, cache: dict, dy: np.ndarray, dh_last: np.ndarray, dc_last: np.ndarray):
        """BPTT through one layer and direction. dy (T, B, H). Returns (grads, dx, dh0, dc0)."""
        x, hs, cs, tcs, gates = cache["x"], cache["h"], cache["c"], cache["tanh_c"], cache["gates"]
        T, B, F = x.shape
        H, sfx, reverse = self.hidden_size, cache["sfx"], cache["reverse"]
        perm = _internal(H)  # the caches hold the gates in the internal order i, f, o, g
        w_ih, w_hh = (
            self._params["weight_ih" + sfx][perm],
            self._params["weight_hh" + sfx][perm],
        )  # (4H, F), (4H, H)
        order = range(T) if reverse else range(T - 1, -1, -1)  # the forward order, reversed
        da = np.empty((T, B, 4 * H), self.dtype)
        h_prev_all = np.empty((T, B, H), self.dtype)
        dh = dh_last.copy()
        dc = dc_last.copy()
        for t in order:
            prev = t + 1 if reverse else t - 1  # the step the forward pass ran just before t
            first = (t == T - 1) if reverse else (t == 0)
            c_prev = cache["c0"] if first else cs[prev]
            h_prev_all[t] = cache["h0"] if first else hs[prev]
            dh += dy[t]
            dc = _cell_backward(dh, dc, gates[t], c_prev, tcs[t], da[t])
            dh = da[t] @ w_hh
        da2 = da.reshape(T * B, 4 * H)
        grads = {
            "weight_ih" + sfx: (da2.T @ x.reshape(T * B, F))[perm],  # rows back to i, f, g, o
            "weight_hh" + sfx: (da2.T @ h_prev_all.reshape(T * B, H))[perm],
        }
        if self.bias:
            db = da2.sum(axis=0)[perm]
            grads["bias_ih" + sfx] = db
            grads["bias_hh" + sfx] = db.copy()
        dx = (da2 @ w_ih).reshape(T, B, F)
        return grads, dx, dh, dc
