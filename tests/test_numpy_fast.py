"""lstm_ref.numpy_fast: what only the fast engine has (two threads, the batch split), and its agreement
with the readable lstm_ref.numpy. The shared layer tests (torch grid, numeric gradients, bad input) run on
both engines in tests/test_numpy.py, and so does the torch comparison of the two-thread path."""

import os

import numpy as np
import pytest
import torch

from lstm_ref import numpy as readable
from lstm_ref import numpy_fast
from lstm_ref.numpy_fast import LSTM, batch_parts


def test_two_threads_and_one_thread_agree_on_an_odd_batch():
    x = np.random.default_rng(0).normal(size=(5, 6, 3))
    d_out = np.random.default_rng(1).normal(size=(5, 6, 8))
    runs = []
    for threads in (1, 2):  # two threads: rows 0-2 and 3-4
        lstm = LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True, seed=0, threads=threads)
        out, (h_n, c_n) = lstm(x)
        grads, dx = lstm.backward(d_out)
        runs.append((out.copy(), h_n, c_n, dx, grads))
    (o1, h1, c1, dx1, g1), (o2, h2, c2, dx2, g2) = runs
    for a, b in ((o1, o2), (h1, h2), (c1, c2), (dx1, dx2)):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=1e-6)
    for name in g1:
        np.testing.assert_allclose(g1[name], g2[name], atol=1e-5, rtol=1e-5, err_msg=name)


def test_when_the_batch_is_split():
    """The rule, with the CPU count given (so it is checked on a one-CPU machine too), and without it."""
    assert batch_parts(1, 4096, cpus=2) == [slice(0, 1)]  # one row: nothing to split
    assert len(batch_parts(128, 1024, cpus=2)) == 1  # fewer than PARALLEL_MIN_BATCH rows
    assert len(batch_parts(4096, 2, cpus=2)) == 1  # 4*H*B = 32768 < PARALLEL_MIN_WORK
    assert batch_parts(256, 256, cpus=2) == [slice(0, 128), slice(128, 256)]
    assert batch_parts(301, 64, cpus=2) == [slice(0, 151), slice(151, 301)]
    assert batch_parts(301, 64, cpus=1) == [slice(0, 301)]  # one CPU: never split
    cpus = len(os.sched_getaffinity(0))  # this machine's CPUs, those this process may use: the default
    assert batch_parts(301, 64) == ([slice(0, 151), slice(151, 301)] if cpus >= 2 else [slice(0, 301)])


def test_threads_must_be_none_1_or_2():
    with pytest.raises(ValueError, match="threads must be None"):
        LSTM(3, 4, threads=4)


def test_an_error_in_a_worker_thread_reaches_the_caller():
    """The thread helper itself (no public call can fail inside a worker: inputs are checked first)."""

    def fn(k):
        if k == 1:
            raise ValueError("boom in the worker")
        return k

    with pytest.raises(ValueError, match="boom in the worker"):
        numpy_fast._map(fn, [0, 1])
    assert numpy_fast._map(lambda k: k * 2, [0, 1, 2]) == [0, 2, 4]


@pytest.mark.parametrize(
    ("L", "bidirectional", "batch_first", "bias", "dtype"),
    [
        (1, False, True, True, np.float64),
        (2, True, False, True, np.float64),
        (3, True, True, False, np.float32),
    ],
)
def test_fast_engine_matches_the_readable_one(L, bidirectional, batch_first, bias, dtype):
    """Same weights and inputs: outputs, states and every gradient agree, at a bigger size than the grid."""
    F, H, B, T = 7, 9, 6, 11
    D = 2 if bidirectional else 1
    kw = {"bias": bias, "batch_first": batch_first, "bidirectional": bidirectional, "dtype": dtype}
    slow, fast = readable.LSTM(F, H, L, seed=2, **kw), LSTM(F, H, L, **kw)
    fast.load_state_dict(slow.state_dict())
    rng = np.random.default_rng(3)
    x = rng.normal(size=(B, T, F) if batch_first else (T, B, F))
    hx = tuple(rng.normal(size=(L * D, B, H)) for _ in range(2))
    tol = {"atol": 1e-10, "rtol": 1e-9} if dtype == np.float64 else {"atol": 2e-5, "rtol": 1e-4}
    runs = []
    for lstm in (slow, fast):
        out, (h_n, c_n) = lstm(x, hx)
        d_out = np.random.default_rng(4).normal(size=out.shape)
        grads, dx, (dh0, dc0) = lstm.backward_with_state(d_out, h_n, c_n)  # any gradients will do
        runs.append((out.copy(), h_n, c_n, dx, dh0, dc0, grads))
    for a, b in zip(runs[0][:6], runs[1][:6], strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, **tol)
    for name, g in runs[0][6].items():
        np.testing.assert_allclose(g, runs[1][6][name], err_msg=name, **tol)


def test_the_output_may_be_kept_across_calls():
    """The output of one call is not overwritten by the next (the engine allocates per call)."""
    lstm = LSTM(2, 3, batch_first=True, seed=0)
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype(np.float32)
    first, _ = lstm(x)
    kept = first.copy()
    lstm(2 * x)
    np.testing.assert_array_equal(first, kept)
    with torch.no_grad():  # and it is torch's answer
        ref = torch.nn.LSTM(2, 3, batch_first=True)
        ref.load_state_dict({k: torch.from_numpy(v) for k, v in lstm.state_dict().items()})
        np.testing.assert_allclose(first, ref(torch.from_numpy(x))[0].numpy(), atol=1e-6)
