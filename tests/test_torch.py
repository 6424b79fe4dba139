"""lstm_ref.torch against independent references: torch.nn.LSTM, scalar math, lstm_ref.numpy."""

import copy
import itertools
import math
import subprocess
import sys

import numpy as np
import pytest
import torch
from torch import nn

from lstm_ref import data
from lstm_ref import numpy as lnp
from lstm_ref.torch import ManyToMany, ManyToOne, ScratchLSTM, lstm_cell, run_chunks, train_stateful

F, H, B, T = 3, 4, 2, 5


def _twins(num_layers=1, bias=True, batch_first=False, bidirectional=False, seed=0):
    """An nn.LSTM and a ScratchLSTM holding the same weights."""
    torch.manual_seed(seed)
    kw = dict(num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    ref = nn.LSTM(F, H, **kw)
    mine = ScratchLSTM(F, H, **kw)
    mine.load_state_dict(ref.state_dict())
    return ref, mine


def test_parameter_names_and_shapes_match_nn_lstm():
    """Same names, same order, same shapes as nn.LSTM (so state_dicts load both ways)."""
    for layers, bidir, bias in itertools.product([1, 3], [False, True], [False, True]):
        ref = nn.LSTM(F, H, num_layers=layers, bidirectional=bidir, bias=bias)
        mine = ScratchLSTM(F, H, num_layers=layers, bidirectional=bidir, bias=bias)
        assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in ref.state_dict().items()
        ]


def test_init_range_matches_nn_lstm():
    """Weights start in U(-1/sqrt(H), 1/sqrt(H)), like nn.LSTM."""
    torch.manual_seed(1)
    mine = ScratchLSTM(F, 16)
    values = torch.cat([p.detach().flatten() for p in mine.parameters()])
    assert values.abs().max() <= 1 / math.sqrt(16)
    assert values.abs().max() > 0.9 / math.sqrt(16)


GRID = list(itertools.product([1, 2, 3], [False, True], [False, True], [False, True], [True, False]))


@pytest.mark.parametrize("num_layers,bidirectional,batch_first,with_state,bias", GRID)
def test_scratch_matches_nn_lstm(num_layers, bidirectional, batch_first, with_state, bias):
    """Outputs, h_n, c_n and every gradient equal nn.LSTM's (same state_dict) to 1e-5."""
    ref, mine = _twins(num_layers, bias, batch_first, bidirectional)
    L = num_layers * (2 if bidirectional else 1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn((B, T, F) if batch_first else (T, B, F), generator=g)
    h0, c0 = torch.randn(L, B, H, generator=g), torch.randn(L, B, H, generator=g)
    results = []
    for model in (ref, mine):
        xi = x.clone().requires_grad_(True)
        hi, ci = h0.clone().requires_grad_(True), c0.clone().requires_grad_(True)
        out, (h_n, c_n) = model(xi, (hi, ci) if with_state else None)
        gen = torch.Generator().manual_seed(3)  # the same random weighting of every output
        loss = sum((t * torch.randn(t.shape, generator=gen)).sum() for t in (out, h_n, c_n))
        loss.backward()
        grads = {k: p.grad for k, p in model.named_parameters()}
        grads["x"] = xi.grad
        if with_state:
            grads |= {"h0": hi.grad, "c0": ci.grad}
        results.append(((out, h_n, c_n), grads))
    (ref_out, ref_grads), (my_out, my_grads) = results
    assert tuple(my_out[0].shape) == tuple(ref_out[0].shape)
    for a, b in zip(ref_out, my_out, strict=True):
        torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    assert ref_grads.keys() == my_grads.keys()
    for k in ref_grads:
        torch.testing.assert_close(my_grads[k], ref_grads[k], atol=1e-5, rtol=1e-5, msg=k)


def test_scratch_matches_nn_lstm_in_float64():
    """In float64 the two agree to 1e-12 (the 1e-5 above is float32 round-off, not a loose check)."""
    torch.manual_seed(0)
    ref = nn.LSTM(F, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    mine = ScratchLSTM(F, H, num_layers=2, bidirectional=True, dtype=torch.float64)
    mine.load_state_dict(ref.state_dict())
    x = torch.randn(T, B, F, dtype=torch.float64)
    out_r, (h_r, c_r) = ref(x)
    out_m, (h_m, c_m) = mine(x)
    for a, b in [(out_r, out_m), (h_r, h_m), (c_r, c_m)]:
        torch.testing.assert_close(b, a, atol=1e-12, rtol=1e-12)


def test_lstm_cell_against_scalar_math():
    """One step with H = 1 equals the LSTM equations written with Python's math module."""
    x, h, c = 0.7, -0.3, 0.5
    w_ih, w_hh = [0.1, -0.2, 0.3, 0.4], [0.5, 0.6, -0.7, 0.8]
    b_ih, b_hh = [0.01, 0.02, 0.03, 0.04], [-0.05, 0.06, 0.07, -0.08]
    pre = [w_ih[j] * x + w_hh[j] * h + b_ih[j] + b_hh[j] for j in range(4)]

    def sig(z):
        return 1 / (1 + math.exp(-z))

    i, f, g, o = sig(pre[0]), sig(pre[1]), math.tanh(pre[2]), sig(pre[3])
    c_want = f * c + i * g
    h_want = o * math.tanh(c_want)
    t = lambda v: torch.tensor(v, dtype=torch.float64)  # noqa: E731
    h1, c1 = lstm_cell(
        t([[x]]), t([[h]]), t([[c]]), t(w_ih).reshape(4, 1), t(w_hh).reshape(4, 1), t(b_ih), t(b_hh)
    )
    assert h1.item() == pytest.approx(h_want, abs=1e-12)
    assert c1.item() == pytest.approx(c_want, abs=1e-12)


def test_scratch_matches_numpy_lstm():
    """ScratchLSTM agrees with the independent NumPy implementation too."""
    ref, mine = _twins(num_layers=2, bidirectional=True, batch_first=True)
    np_lstm = lnp.LSTM(F, H, num_layers=2, batch_first=True, bidirectional=True)
    np_lstm.load_state_dict(mine.state_dict())
    x = torch.randn(B, T, F)
    out, (h_n, c_n) = mine(x)
    np_out, (np_h, np_c) = np_lstm(x.numpy())
    np.testing.assert_allclose(out.detach().numpy(), np_out, atol=1e-5)
    np.testing.assert_allclose(h_n.detach().numpy(), np_h, atol=1e-5)
    np.testing.assert_allclose(c_n.detach().numpy(), np_c, atol=1e-5)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "shape,match",
    [
        ((B, F), r"the time_steps axis \(axis 1\) is missing.* no time axis"),
        ((F,), "a 1-D array where 3-D is expected.*bare series"),
        ((B, T, F + 1), r"axis 2 \(features\) is 4, expected 3"),
        ((B, F, T), "features axis must be last"),
        ((B, 0, F), "time axis is empty"),
    ],
)
def test_bad_input_shapes(shape, match):
    """Wrong rank or features raise ValueError naming the (batch, time_steps, features) layout."""
    lstm = ScratchLSTM(F, H, batch_first=True)
    with pytest.raises(ValueError, match=match) as info:
        lstm(torch.zeros(shape))
    assert "(batch, time_steps, features)" in str(info.value) or "time axis is empty" in str(info.value)


def test_bad_h0_under_batch_first():
    """(batch, layers, hidden) is refused with the reason: the state is never batch-first."""
    lstm = ScratchLSTM(F, H, num_layers=2, batch_first=True)
    x = torch.zeros(4, T, F)
    good = torch.zeros(2, 4, H)
    with pytest.raises(ValueError, match="never batch-first"):
        lstm(x, (torch.zeros(4, 2, H), good))
    with pytest.raises(ValueError, match="c0: .*never batch-first"):
        lstm(x, (good, torch.zeros(4, 2, H)))
    with pytest.raises(ValueError, match=r"num_layers\*num_directions axis \(axis 0\) is missing.*stack 2"):
        lstm(x, (torch.zeros(4, H), good))
    with pytest.raises(ValueError, match="tuple"):
        lstm(x, good)
    # the same mistake through a model built on nn.LSTM (which would raise a RuntimeError)
    with pytest.raises(ValueError, match="never batch-first"):
        ManyToOne(F, H, num_layers=2)(x, (torch.zeros(4, 2, H), good))


def test_other_bad_inputs():
    """Non-tensors, dtype mismatches and bad constructor arguments are explained."""
    lstm = ScratchLSTM(F, H)
    with pytest.raises(ValueError, match="torch.Tensor"):
        lstm(np.zeros((T, B, F), np.float32))
    with pytest.raises(ValueError, match="float64"):
        lstm(torch.zeros(T, B, F, dtype=torch.float64))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        ScratchLSTM(F, 0)


def test_models_refuse_2d_input_that_nn_lstm_accepts():
    """nn.LSTM silently reads 2-D input as one unbatched sequence; the models refuse it."""
    x = torch.zeros(7, F)
    nn.LSTM(F, H, batch_first=True)(x)  # no error from torch itself
    for model in (ManyToOne(F, H), ManyToMany(F, H)):
        with pytest.raises(ValueError, match="no time axis"):
            model(x)


# ---------------------------------------------------------------- builders


@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, False), (1, True), (2, True)])
def test_many_to_one_reads_the_right_states(num_layers, bidirectional):
    """The head sees the forward state after the last step and the backward state after the first."""
    torch.manual_seed(0)
    model = ManyToOne(F, H, 2, num_layers=num_layers, bidirectional=bidirectional)
    x = torch.randn(B, T, F)
    y, (h_n, c_n) = model(x)
    output, _ = model.lstm(x)  # (B, T, D*H), the top layer at every step
    want_features = output[:, -1, :H]
    if bidirectional:
        want_features = torch.cat([output[:, -1, :H], output[:, 0, H:]], dim=1)
        wrong = model.head(output[:, -1])  # the classic mistake
        assert not torch.allclose(wrong, y, atol=1e-3)
    torch.testing.assert_close(y, model.head(want_features))
    assert tuple(y.shape) == (B, 2)
    assert tuple(h_n.shape) == tuple(c_n.shape) == (num_layers * (2 if bidirectional else 1), B, H)


def test_many_to_many_applies_head_at_every_step():
    """y[:, t] == head(output[:, t]) for each t; shapes (B, T, out)."""
    model = ManyToMany(F, H, 3, num_layers=2, bidirectional=True)
    x = torch.randn(B, T, F)
    y, _ = model(x)
    output, _ = model.lstm(x)
    assert tuple(y.shape) == (B, T, 3)
    for t in range(T):
        torch.testing.assert_close(y[:, t], model.head(output[:, t]))


def test_scratch_models_equal_nn_models():
    """scratch=True builds the same model: same state_dict gives the same y."""
    for cls in (ManyToOne, ManyToMany):
        ref = cls(F, H, 2, num_layers=2, bidirectional=True)
        mine = cls(F, H, 2, num_layers=2, bidirectional=True, scratch=True)
        mine.load_state_dict(ref.state_dict())
        x = torch.randn(B, T, F)
        torch.testing.assert_close(mine(x)[0], ref(x)[0], atol=1e-5, rtol=1e-5)


# ---------------------------------------------------------------- stateful


def _stream_batches(n_batches=3, batch=2, steps=4, seed=0):
    """Hand-made stateful batches: row b of batch k+1 continues row b of batch k."""
    g = torch.Generator().manual_seed(seed)
    stream = torch.randn(batch, n_batches * steps, 1, generator=g)  # (B, total_T, 1)
    xs = list(torch.split(stream, steps, dim=1))
    return stream, [(x, x[:, -1] * 0.5) for x in xs]


class Recorder(nn.Module):
    """Wraps a model and records every (x, state) it is called with."""

    def __init__(self, model):
        super().__init__()
        self.model, self.calls = model, []

    def forward(self, x, hx=None):
        self.calls.append((x, hx))
        return self.model(x, hx)


def test_train_stateful_carries_resets_detaches_and_keeps_order():
    """Each batch gets the previous batch's final state, detached; zeros (None) at each epoch start."""
    torch.manual_seed(0)
    _, batches = _stream_batches()
    model = Recorder(ManyToOne(1, 3))
    records = []
    history = train_stateful(model, batches, epochs=3, lr=1e-2, on_batch=records.append, progress=False)
    assert len(history) == 3 and len(records) == len(model.calls) == 9
    for n, ((x, hx), rec) in enumerate(zip(model.calls, records, strict=True)):
        epoch, b = divmod(n, len(batches))
        assert (rec.epoch, rec.batch) == (epoch, b)
        assert x is batches[b][0]  # stream order, every epoch: never shuffled
        assert hx is rec.state_in
        if b == 0:
            assert hx is None  # reset at each epoch start
        else:
            prev = records[n - 1].state_out
            assert prev[0].grad_fn is not None  # what the model returned was part of a graph ...
            for carried, returned in zip(hx, prev, strict=True):
                assert carried.grad_fn is None and not carried.requires_grad  # ... cut here
                torch.testing.assert_close(carried, returned.detach(), rtol=0, atol=0)
    assert [r.loss for r in records[:3]] != [r.loss for r in records[3:6]]


def test_train_stateful_gradient_stops_at_batch_boundaries():
    """With inputs that require grad, batch 0's x gets only batch 0's own gradient."""
    torch.manual_seed(0)
    _, batches = _stream_batches(n_batches=2)
    batches = [(x.clone().requires_grad_(True), y) for x, y in batches]
    model = ManyToOne(1, 3)
    before = copy.deepcopy(model)
    x0, y0 = batches[0]
    expect = torch.autograd.grad(nn.functional.mse_loss(before(x0)[0], y0), x0)[0]
    train_stateful(model, batches, epochs=1, progress=False)
    torch.testing.assert_close(x0.grad, expect)  # batch 1's loss added nothing to batch 0's input
    assert batches[1][0].grad is not None


def test_train_stateful_loss_falls_on_a_sine():
    """Next-step prediction of a sine with stateful batches from lstm_ref.data: the loss falls."""
    torch.manual_seed(0)
    series = np.sin(np.arange(400) * 0.2).astype(np.float32)
    batches = list(data.stateful_batches(series, batch_size=4, seq_len=10, targets=True))
    history = train_stateful(ManyToMany(1, 8), batches, epochs=15, lr=2e-2, progress=False)
    assert history[-1] < history[0] / 10


def test_train_stateful_errors():
    """Changing batch size, mismatched target shape and no batches raise ValueError."""
    model = ManyToOne(1, 3)
    x = torch.zeros(2, 4, 1)
    with pytest.raises(ValueError, match="same batch size"):
        train_stateful(model, [(x, x[:, -1]), (x[:1], x[:1, -1])], epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"shape \(2, 1\) but y has shape \(2,\)"):
        train_stateful(model, [(x, x[:, -1, 0])], epochs=1, progress=False)
    with pytest.raises(ValueError, match="empty"):
        train_stateful(model, [], epochs=1, progress=False)


@pytest.mark.parametrize("cls", [nn.LSTM, ScratchLSTM])
def test_run_chunks_equals_one_numpy_run(cls):
    """Chunks with a carried state == lstm_ref.numpy on the whole stream; a fresh start repeats chunk 0."""
    torch.manual_seed(0)
    lstm = cls(F, H, num_layers=2, batch_first=True)
    np_lstm = lnp.LSTM(F, H, num_layers=2, batch_first=True)
    np_lstm.load_state_dict(lstm.state_dict())
    stream = torch.randn(B, 12, F)
    chunks = torch.split(stream, [3, 4, 5], dim=1)
    outs, (h, c) = run_chunks(lstm, chunks)
    want, (want_h, want_c) = np_lstm(stream.numpy())
    np.testing.assert_allclose(torch.cat(outs, dim=1).numpy(), want, atol=1e-5)
    np.testing.assert_allclose(h.numpy(), want_h, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), want_c, atol=1e-5)
    again, _ = run_chunks(lstm, chunks[:1])  # no state passed: starts from zeros again
    torch.testing.assert_close(again[0], outs[0], rtol=0, atol=0)
    assert not torch.allclose(run_chunks(lstm, chunks[:1], (h, c))[0][0], outs[0])


def test_run_chunks_many_to_one_last_chunk_equals_whole_stream():
    """For ManyToOne, the prediction after the last chunk equals one call on the whole stream."""
    model = ManyToOne(1, 5)
    stream = torch.randn(3, 9, 1)
    outs, _ = run_chunks(model, torch.split(stream, 3, dim=1))
    torch.testing.assert_close(outs[-1], model(stream)[0].detach(), atol=1e-6, rtol=1e-5)


def test_import_and_use_write_nothing_to_stderr():
    """Importing lstm_ref.torch and training with progress prints nothing on stderr (nbgrader)."""
    code = (
        "import torch; from lstm_ref.torch import ManyToOne, train_stateful\n"
        "x = torch.zeros(2, 3, 1)\n"
        "train_stateful(ManyToOne(1, 2), [(x, x[:, -1])], epochs=2)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "epochs" in done.stdout  # the tqdm bar goes to stdout
