"""NumPy LSTM to read: the gate math in plain view, forward and backward, a twin of ``torch.nn.LSTM``.

This is the reference a learner reads (CS231n ``rnn_layers.py`` style). Speed lives in
``lstm_ref.numpy_fast``, which is tested against this module and against torch.

- ``lstm_step_forward`` / ``lstm_step_backward``: one time step and its gradients.
- ``lstm_forward`` / ``lstm_backward``: one layer, one direction, a plain loop over time.
- ``LSTM``: the whole ``torch.nn.LSTM`` (layers, directions, ``batch_first``, state_dict).
- ``numerical_gradient`` / ``rel_error``: the course's one numeric gradient check.

Gate order is **i, f, g, o**, as in PyTorch and Keras (CS231n uses i, f, o, g). One step::

    a = x @ W_ih.T + h_prev @ W_hh.T + b_ih + b_hh        # (B, 4H), blocks i, f, g, o
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c = f * c_prev + i * g                                 # (B, H)
    h = o * tanh(c)                                        # (B, H)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lstm_ref._checks import as_float_array, check_shape
from lstm_ref._numpy_layer import NumpyLSTMBase

__all__ = [
    "LSTM",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "rel_error",
    "sigmoid",
    "tanh",
]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``, elementwise, any shape, stable for large ``|x|``.

    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    x = np.asarray(x)
    with np.errstate(under="ignore"):  # exp(-log(1 + e^-x)) never overflows
        return np.exp(-np.logaddexp(0.0, -x)).astype(x.dtype if x.dtype.kind == "f" else np.float64)


def tanh(x: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent, elementwise, any shape: the candidate ``g`` and ``tanh(c)``.

    >>> tanh(np.array([0.0]))
    array([0.])
    """
    return np.tanh(x)


# ----------------------------------------------------------------------------- one time step
def _check_step(x, h_prev, c_prev, weight_ih, weight_hh, bias) -> list:
    """Validate the arguments of ``lstm_step_forward``; return them as arrays of one float dtype."""
    x = as_float_array(x, "x")
    check_shape(np.shape(x), ("batch", "features"), {}, "x")
    (batch, features), hidden = x.shape, np.shape(h_prev)[-1]
    sizes = {"batch": batch, "features": features, "hidden": hidden, "4*hidden": 4 * hidden}
    for name, value, layout in (
        ("h_prev", h_prev, ("batch", "hidden")),
        ("c_prev", c_prev, ("batch", "hidden")),
        ("weight_ih", weight_ih, ("4*hidden", "features")),
        ("weight_hh", weight_hh, ("4*hidden", "hidden")),
        ("bias", np.zeros(4 * hidden) if bias is None else bias, ("4*hidden",)),
    ):
        check_shape(np.shape(value), layout, sizes, name)
    arrays = [x, h_prev, c_prev, weight_ih, weight_hh] + ([] if bias is None else [bias])
    dtype = np.result_type(*arrays)
    return [np.asarray(a, dtype) for a in arrays] + ([None] if bias is None else [])


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
    x, h_prev, c_prev, weight_ih, weight_hh, bias = _check_step(x, h_prev, c_prev, weight_ih, weight_hh, bias)
    H = h_prev.shape[1]
    a = x @ weight_ih.T + h_prev @ weight_hh.T  # (B, 4H): the pre-activations, blocks i, f, g, o
    if bias is not None:
        a = a + bias  # (4H,) added to every row
    i = sigmoid(a[:, 0 * H : 1 * H])  # input gate,  (B, H)
    f = sigmoid(a[:, 1 * H : 2 * H])  # forget gate, (B, H)
    g = tanh(a[:, 2 * H : 3 * H])  # candidate,   (B, H)
    o = sigmoid(a[:, 3 * H : 4 * H])  # output gate, (B, H)
    c = f * c_prev + i * g  # (B, H): keep some of the old cell, write some of the candidate
    h = o * tanh(c)  # (B, H): show some of the cell
    cache = (x, h_prev, c_prev, weight_ih, weight_hh, i, f, g, o, c)
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
    x, h_prev, c_prev, weight_ih, weight_hh, i, f, g, o, c = cache
    for name, grad in (("dh", dh), ("dc", dc)):
        check_shape(np.shape(grad), ("batch", "hidden"), {"batch": c.shape[0], "hidden": c.shape[1]}, name)
    tanh_c = tanh(c)  # (B, H)
    do = dh * tanh_c  # (B, H), from h = o * tanh(c)
    dc = dc + dh * o * (1 - tanh_c**2)  # (B, H): the total gradient on c, also through h
    di, df, dg = dc * g, dc * c_prev, dc * i  # (B, H) each, from c = f * c_prev + i * g
    dc_prev = dc * f  # (B, H)
    da = np.concatenate(  # (B, 4H): back through sigmoid' = s (1 - s) and tanh' = 1 - t^2
        [di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2), do * o * (1 - o)], axis=1
    )
    dx = da @ weight_ih  # (B, F)
    dh_prev = da @ weight_hh  # (B, H)
    dweight_ih = da.T @ x  # (4H, F)
    dweight_hh = da.T @ h_prev  # (4H, H)
    dbias = da.sum(axis=0)  # (4H,)
    return dx, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias


# ----------------------------------------------------------------------------- one layer, a loop over time
def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias: np.ndarray | None = None,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray], list]:
    """One layer, one direction, over a whole sequence: ``lstm_step_forward`` at every step.

    - x: shape (B, T, F), batch first; h0, c0: shape (B, H); weights and bias as for one step

    Returns ``(hs, (h, c), cache)``: every step's h (B, T, H), the last h and c (B, H).

    >>> rng = np.random.default_rng(0)
    >>> hs, (h, c), _ = lstm_forward(rng.normal(size=(2, 5, 3)), np.zeros((2, 4)), np.zeros((2, 4)),
    ...                              rng.normal(size=(16, 3)), rng.normal(size=(16, 4)))
    >>> hs.shape, bool(np.allclose(hs[:, -1], h))
    ((2, 5, 4), True)
    """
    h, c, caches, hs = h0, c0, [], []
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, weight_ih, weight_hh, bias)  # (B, H) each
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), (h, c), caches  # hs: T arrays (B, H) -> (B, T, H)


def lstm_backward(
    dhs: np.ndarray, dh: np.ndarray, dc: np.ndarray, cache: list
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``lstm_forward``.

    - dhs: gradient on ``hs``, (B, T, H); dh, dc: gradients on the last h and c, (B, H)

    Returns ``(dx, dh0, dc0, dweight_ih, dweight_hh, dbias)``: (B, T, F), (B, H), (B, H),
    then the weight gradients summed over the steps, shaped like the weights.

    >>> rng = np.random.default_rng(0)
    >>> hs, _, cache = lstm_forward(rng.normal(size=(2, 5, 3)), np.zeros((2, 4)), np.zeros((2, 4)),
    ...                             rng.normal(size=(16, 3)), rng.normal(size=(16, 4)))
    >>> dx, dh0, dc0, dw_ih, dw_hh, db = lstm_backward(np.ones_like(hs), 0 * hs[:, 0], 0 * hs[:, 0], cache)
    >>> dx.shape, dw_ih.shape, db.shape
    ((2, 5, 3), (16, 3), (16,))
    """
    dxs, dweight_ih, dweight_hh, dbias = [], 0.0, 0.0, 0.0
    for t in reversed(range(len(cache))):
        # h_t feeds the output at step t and the next step: the two gradients add up
        dx, dh, dc, dw_ih, dw_hh, db = lstm_step_backward(dh + dhs[:, t], dc, cache[t])
        dxs.append(dx)  # (B, F)
        dweight_ih, dweight_hh, dbias = dweight_ih + dw_ih, dweight_hh + dw_hh, dbias + db
    return np.stack(dxs[::-1], axis=1), dh, dc, dweight_ih, dweight_hh, dbias  # dx: (B, T, F)


# ----------------------------------------------------------------------------- gradient checking
def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray | float, eps: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x`` (CS231n style).

    ``x`` (any shape, float64 for accuracy) is perturbed in place and restored; ``dout`` has the
    shape of ``f(x)`` (``1.0`` for a scalar ``f``). Returns an array shaped like ``x``.

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
class LSTM(NumpyLSTMBase):
    """NumPy twin of ``torch.nn.LSTM``: same arguments, shapes, weight names and results.

    - ``input_size`` F, ``hidden_size`` H, ``num_layers`` L; layer k > 0 takes H * num_directions inputs.
    - ``batch_first``: input and output are (B, T, ·) instead of (T, B, ·).
      The states ``h0, c0, h_n, c_n`` are **always** (L * num_directions, B, H).
    - ``dtype``: float32 by default, like torch; inputs are cast to it.
    - ``seed``: weights start from U(-1/sqrt(H), 1/sqrt(H)), as in torch.

    ``lstm(x, hx=None)`` returns ``(output, (h_n, c_n))``: output (T, B, D*H) or (B, T, D*H).
    ``lstm.backward(d_output, dh_n=None, dc_n=None)`` returns ``(grads, dx)`` for the last call.
    The constructor, ``state_dict`` and the input checks are in ``lstm_ref._numpy_layer``; this
    class adds the computation. ``lstm_ref.numpy_fast.LSTM`` has the same interface, and is faster.

    >>> lstm = LSTM(3, 5, num_layers=2, batch_first=True, seed=0)
    >>> out, (h_n, c_n) = lstm(np.ones((4, 7, 3)))
    >>> out.shape, h_n.shape, c_n.shape
    ((4, 7, 5), (2, 4, 5), (2, 4, 5))
    >>> np.allclose(out[:, -1], h_n[-1])
    True
    >>> sorted(lstm.state_dict())[:2]
    ['bias_hh_l0', 'bias_hh_l1']
    """

    # -- forward and backward ---------------------------------------------------------------
    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        """Run the LSTM.

        - x: (T, B, F), or (B, T, F) with ``batch_first=True``
        - hx: optional ``(h0, c0)``, each (num_layers * num_directions, B, H); zeros if None

        Returns ``(output, (h_n, c_n))``: output (T, B, D*H) or (B, T, D*H), h_n and c_n (L*D, B, H).
        """
        x, h0, c0 = self._check_input(x, hx)
        x = x if self.batch_first else x.transpose(1, 0, 2)  # (B, T, F) from here on
        D = self.num_directions
        h_n, c_n, caches = np.empty_like(h0), np.empty_like(c0), []  # (L*D, B, H)
        for layer in range(self.num_layers):
            outs = []
            for d in range(D):  # d = 1 reads the sequence backwards, then flips its output back
                k = layer * D + d
                hs, (h_n[k], c_n[k]), cache = lstm_forward(
                    x[:, ::-1] if d else x, h0[k], c0[k], *self._weights(layer, d)
                )
                outs.append(hs[:, ::-1] if d else hs)  # (B, T, H)
                caches.append(cache)
            x = np.concatenate(outs, axis=2)  # (B, T, D*H): the next layer's input
        self._cache = {"caches": caches, "shape": (x.shape[1], x.shape[0], self.input_size)}
        return (x if self.batch_first else x.transpose(1, 0, 2)), (h_n, c_n)

    def backward_with_state(self, d_output, dh_n=None, dc_n=None):
        """BPTT for the last forward call (``backward`` calls this): ``(grads, dx, (dh0, dc0))``.

        Arguments as for ``backward``; ``dh0`` and ``dc0`` are (L*D, B, H).
        """
        dy, dh_n, dc_n = self._check_grads(d_output, dh_n, dc_n)
        dy = dy if self.batch_first else dy.transpose(1, 0, 2)  # (B, T, D*H) from here on
        H, D = self.hidden_size, self.num_directions
        grads, dh0, dc0 = {}, np.empty_like(dh_n), np.empty_like(dc_n)  # (L*D, B, H)
        for layer in reversed(range(self.num_layers)):
            dx = 0.0
            for d in range(D):
                k, sfx = layer * D + d, self._suffix(layer, d)
                dhs = dy[:, :, d * H : (d + 1) * H]  # (B, T, H): this direction's share of the output
                dx_d, dh0[k], dc0[k], dw_ih, dw_hh, db = lstm_backward(
                    dhs[:, ::-1] if d else dhs, dh_n[k], dc_n[k], self._cache["caches"][k]
                )
                dx = dx + (dx_d[:, ::-1] if d else dx_d)  # (B, T, in): both directions read the same x
                grads.update({"weight_ih" + sfx: dw_ih, "weight_hh" + sfx: dw_hh})
                if self.bias:  # b_ih and b_hh are added together, so both get the same gradient
                    grads.update({"bias_ih" + sfx: db, "bias_hh" + sfx: db.copy()})
            dy = dx  # the gradient on this layer's input is the one on the layer below's output
        dx = dy if self.batch_first else dy.transpose(1, 0, 2)
        grads = {name: grads[name].astype(self.dtype, copy=False) for name in self._shapes}
        return grads, np.ascontiguousarray(dx, self.dtype), (dh0, dc0)
