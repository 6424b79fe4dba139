"""The fast NumPy LSTM engine: ``torch.nn.LSTM``'s twin, tuned for speed (read ``lstm_ref.numpy`` first).

``LSTM`` here has the interface and results of the readable ``lstm_ref.numpy.LSTM`` (tests hold the
two together and against torch); only the computation differs. Its gate math lives in three small
functions and nowhere else:

- ``_activate``: pre-activations (4H, B) -> the four gates, in place,
- ``_cell_forward``: gates and ``c_prev`` -> ``c``, ``tanh(c)``, ``h``,
- ``_cell_backward``: the reverse of ``_cell_forward`` and ``_activate``.

Gate order is **i, f, g, o**, as in PyTorch and Keras
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
from collections.abc import Callable

import numpy as np

from lstm_ref._numpy_layer import NumpyLSTMBase

__all__ = ["LSTM", "PARALLEL_MIN_BATCH", "PARALLEL_MIN_WORK", "batch_parts"]


#: ``LSTM`` splits the batch over two threads when it has at least ``PARALLEL_MIN_BATCH`` rows
#: and a step's gate block, ``4 * hidden * batch``, has at least ``PARALLEL_MIN_WORK`` numbers.
#: Measured on 2 cores (best of 5 rounds, T=50): two threads took 0.80x the time at B512, H64,
#: 0.89x at B256, H64 and 0.96x at B256, H128, but 1.06x at B128, H128, 1.03x at B64, H128 and
#: 1.22x at B128, H64: narrower halves make BLAS less efficient and the GIL hand-offs between
#: short NumPy calls cost more than they save. Set both to 0 to always split a batch of two
#: or more, or ``PARALLEL_MIN_BATCH`` to ``float("inf")`` to never split.
PARALLEL_MIN_BATCH = 256
PARALLEL_MIN_WORK = 1 << 16


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


class LSTM(NumpyLSTMBase):
    """``lstm_ref.numpy.LSTM``, fast: same arguments, weights, results and errors.

    One more keyword, ``threads``: ``None`` splits big batches over two threads when that pays
    (``batch_parts``), ``1`` never splits, ``2`` always splits a batch of two or more rows.

    >>> lstm = LSTM(3, 5, num_layers=2, batch_first=True, seed=0)
    >>> out, (h_n, c_n) = lstm(np.ones((4, 7, 3)))
    >>> out.shape, h_n.shape
    ((4, 7, 5), (2, 4, 5))
    >>> from lstm_ref.numpy import LSTM as Readable
    >>> slow = Readable(3, 5, num_layers=2, batch_first=True, seed=0)
    >>> bool(np.allclose(out, slow(np.ones((4, 7, 3)))[0], atol=1e-6))
    True
    """

    def __init__(self, *args, threads: int | None = None, **kwargs) -> None:
        if threads not in (None, 1, 2):
            raise ValueError(f"threads must be None (automatic), 1 or 2, got {threads!r}")
        self.threads = threads
        super().__init__(*args, **kwargs)

    def _set_params(self, params: dict[str, np.ndarray]) -> None:
        """Store the (read-only) weights and drop the time loop's copies of the old ones."""
        super()._set_params(params)
        self._scaled: dict[str, np.ndarray] = {}  # suffix -> the loop's weight matrix, see _scaled_weights

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
    def forward(self, x: np.ndarray, hx: tuple[np.ndarray, np.ndarray] | None = None):
        """Run the LSTM.

        - x: (T, B, F), or (B, T, F) with ``batch_first=True``
        - hx: optional ``(h0, c0)``, each (num_layers * num_directions, B, H); zeros if None

        Returns ``(output, (h_n, c_n))``: output (T, B, D*H) or (B, T, D*H), h_n and c_n (L*D, B, H).
        ``output`` may be a strided view of the buffers ``backward`` reads: copy it before writing to it.
        """
        x, h0, c0 = self._check_input(x, hx)
        x = x.transpose(1, 2, 0) if self.batch_first else x.transpose(0, 2, 1)  # (T, F, B): batch last
        T, F, B = x.shape
        parts = batch_parts(B, self.hidden_size) if self.threads is None else _halves(B, self.threads)
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
                cache = self._run_direction(x, h0[idx].T, c0[idx].T, self._suffix(layer, d), reverse=bool(d))
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
    def backward_with_state(self, d_output, dh_n=None, dc_n=None):
        """BPTT for the last forward call (``backward`` calls this): ``(grads, dx, (dh0, dc0))``."""
        d_output, dh_n, dc_n = self._check_grads(d_output, dh_n, dc_n)
        dy = d_output.transpose(1, 2, 0) if self.batch_first else d_output.transpose(0, 2, 1)  # (T, D*H, B)
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


def batch_parts(batch: int, hidden: int, cpus: int | None = None) -> list[slice]:
    """The batch rows each thread of ``LSTM(threads=None)`` runs: all, or two halves when that pays.

    Two halves need two CPUs (``cpus``, default: those this process may use), at least
    ``PARALLEL_MIN_BATCH`` rows and a step of at least ``PARALLEL_MIN_WORK`` numbers (4 * H * B).

    >>> batch_parts(64, 128, cpus=2)
    [slice(0, 64, None)]
    >>> batch_parts(301, 64, cpus=2)
    [slice(0, 151, None), slice(151, 301, None)]
    """
    too_small = batch < max(2, PARALLEL_MIN_BATCH) or 4 * hidden * batch < PARALLEL_MIN_WORK
    if too_small or (_cpu_count() if cpus is None else cpus) < 2:
        return [slice(0, batch)]
    return _halves(batch, 2)


def _halves(batch: int, threads: int) -> list[slice]:
    """Rows 0..B split in ``threads`` (1 or 2) parts, the first one the larger."""
    if threads == 1 or batch < 2:
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
