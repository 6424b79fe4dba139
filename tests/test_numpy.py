"""lstm_ref.numpy (readable) and lstm_ref.numpy_fast (tuned), both against independent references:
torch.nn.LSTM / LSTMCell, autograd, numeric gradients, and a small case computed by hand. The layer tests
run on both engines (``ENGINES``); tests/test_numpy_fast.py adds what only the fast engine has."""

import itertools
import math

import numpy as np
import pytest
import torch

from lstm_ref import numpy_fast
from lstm_ref.numpy import (
    LSTM,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    numerical_gradient,
    rel_error,
    sigmoid,
)

GRID = list(itertools.product([1, 2, 3], [False, True], [False, True], [False, True], [True, False]))
ENGINES = {"readable": LSTM, "fast": numpy_fast.LSTM}


@pytest.fixture(params=list(ENGINES))
def engine(request):
    """The LSTM class under test: ``lstm_ref.numpy.LSTM``, then ``lstm_ref.numpy_fast.LSTM``."""
    return ENGINES[request.param]


def _twins(F, H, L, bias, batch_first, bidirectional, dtype=torch.float32, seed=0, engine=LSTM, **kw):
    torch.manual_seed(seed)
    ref = torch.nn.LSTM(F, H, L, bias=bias, batch_first=batch_first, bidirectional=bidirectional).to(dtype)
    if bias:  # make the two biases different and clearly non-zero, so a dropped one is caught
        with torch.no_grad():
            for name, p in ref.named_parameters():
                if name.startswith("bias"):
                    p.uniform_(-1.0, 1.0)
    ours = engine(
        F,
        H,
        L,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        dtype=np.float64 if dtype == torch.float64 else np.float32,
        **kw,
    )
    ours.load_state_dict(ref.state_dict())
    return ref, ours


@pytest.mark.parametrize(("L", "bidirectional", "batch_first", "with_hx", "bias"), GRID)
def test_forward_and_backward_match_torch(engine, L, bidirectional, batch_first, with_hx, bias, **kw):
    F, H, B, T = 3, 5, 4, 6
    D = 2 if bidirectional else 1
    ref, ours = _twins(F, H, L, bias, batch_first, bidirectional, engine=engine, **kw)
    g = torch.Generator().manual_seed(1)
    x = torch.randn((B, T, F) if batch_first else (T, B, F), generator=g, requires_grad=True)
    h0 = torch.randn(L * D, B, H, generator=g, requires_grad=True)
    c0 = torch.randn(L * D, B, H, generator=g, requires_grad=True)
    out, (h_n, c_n) = ref(x, (h0, c0)) if with_hx else ref(x)
    hx = (h0.detach().numpy(), c0.detach().numpy()) if with_hx else None
    o, (h, c) = ours(x.detach().numpy(), hx)

    assert o.shape == tuple(out.shape) and h.shape == tuple(h_n.shape) and c.shape == tuple(c_n.shape)
    np.testing.assert_allclose(o, out.detach().numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(h, h_n.detach().numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(c, c_n.detach().numpy(), atol=1e-5, rtol=0)

    d_out, d_h, d_c = (torch.randn(t.shape, generator=g) for t in (out, h_n, c_n))
    ((out * d_out).sum() + (h_n * d_h).sum() + (c_n * d_c).sum()).backward()
    grads, dx, (dh0, dc0) = ours.backward_with_state(d_out.numpy(), d_h.numpy(), d_c.numpy())
    assert list(grads) == list(ref.state_dict())
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), atol=1e-4, rtol=1e-4, err_msg=name)
    np.testing.assert_allclose(dx, x.grad.numpy(), atol=1e-4, rtol=1e-4)
    if with_hx:
        np.testing.assert_allclose(dh0, h0.grad.numpy(), atol=1e-4, rtol=1e-4)
        np.testing.assert_allclose(dc0, c0.grad.numpy(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize(
    ("L", "bidirectional", "batch_first", "with_hx", "bias"),
    [(2, True, True, True, True), (1, False, False, False, True), (3, False, True, True, False)],
)
def test_two_thread_path_matches_torch(L, bidirectional, batch_first, with_hx, bias):
    """The fast engine with ``threads=2`` runs the batch halves (B=4: rows 0-1 and 2-3) in two
    threads, even on one CPU."""
    test_forward_and_backward_match_torch(
        numpy_fast.LSTM, L, bidirectional, batch_first, with_hx, bias, threads=2
    )


def test_backward_returns_grads_and_dx_like_the_contract(engine):
    ref, ours = _twins(2, 3, 1, True, True, False, engine=engine)
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype(np.float32)
    out, _ = ours(x)
    grads, dx = ours.backward(np.ones_like(out))
    assert set(grads) == set(ours.state_dict()) and dx.shape == x.shape
    for k, v in grads.items():
        assert v.shape == ours.state_dict()[k].shape


@pytest.mark.parametrize(("L", "bidirectional", "batch_first"), [(1, False, True), (2, True, False)])
def test_backward_matches_numeric_gradient_float64(engine, L, bidirectional, batch_first):
    F, H, B, T = 2, 3, 2, 4
    D = 2 if bidirectional else 1
    lstm = engine(F, H, L, batch_first=batch_first, bidirectional=bidirectional, dtype=np.float64, seed=3)
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, F) if batch_first else (T, B, F))
    h0, c0 = rng.normal(size=(L * D, B, H)), rng.normal(size=(L * D, B, H))
    out, (h_n, c_n) = lstm(x, (h0, c0))
    d_out, d_h, d_c = rng.normal(size=out.shape), rng.normal(size=h_n.shape), rng.normal(size=c_n.shape)
    grads, dx, (dh0, dc0) = lstm.backward_with_state(d_out, d_h, d_c)

    def loss_of(arr_setter):
        def f(v):
            arr_setter(v)
            o, (h, c) = lstm(x, (h0, c0))
            return np.array([np.sum(o * d_out) + np.sum(h * d_h) + np.sum(c * d_c)])

        return f

    one = np.ones(1)
    assert rel_error(dx, numerical_gradient(loss_of(lambda v: None), x, one)) < 1e-7
    assert rel_error(dh0, numerical_gradient(loss_of(lambda v: None), h0, one)) < 1e-7
    assert rel_error(dc0, numerical_gradient(loss_of(lambda v: None), c0, one)) < 1e-7
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", f"weight_hh_l{L - 1}"):
        p = lstm.state_dict()[name]  # a copy: numerical_gradient nudges it, load_state_dict installs it

        def load(v, name=name):
            lstm.load_state_dict({**lstm.state_dict(), name: v})

        num = numerical_gradient(loss_of(load), p, one)
        load(p)
        assert rel_error(grads[name], num) < 1e-6, name


def test_weights_change_only_through_load_state_dict(engine):
    """``state_dict()`` hands out copies: writing to one changes nothing. ``load_state_dict`` after a
    forward call takes effect at the next call (the fast engine keeps a prepared copy of the weights)."""
    ref, ours = _twins(3, 4, 2, True, True, True, engine=engine)
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype(np.float32)
    before, _ = ours(x)
    before = before.copy()
    copy = ours.state_dict()
    copy["weight_hh_l0"][0, 0] = 5.0  # a writable copy
    assert ours.state_dict()["weight_hh_l0"][0, 0] != 5.0
    np.testing.assert_array_equal(ours(x)[0], before)
    torch.manual_seed(7)
    other = torch.nn.LSTM(3, 4, 2, batch_first=True, bidirectional=True)
    ours.load_state_dict(other.state_dict())
    out, _ = ours(x)
    with torch.no_grad():
        expected, _ = other(torch.from_numpy(x))
    np.testing.assert_allclose(out, expected.numpy(), atol=1e-5, rtol=0)


def test_step_forward_matches_torch_lstmcell():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(3, 4).double()
    x, h0, c0 = torch.randn(5, 3).double(), torch.randn(5, 4).double(), torch.randn(5, 4).double()
    h_ref, c_ref = cell(x, (h0, c0))
    sd = {k: v.detach().numpy() for k, v in cell.state_dict().items()}
    h, c, _ = lstm_step_forward(
        x.numpy(), h0.numpy(), c0.numpy(), sd["weight_ih"], sd["weight_hh"], sd["bias_ih"] + sd["bias_hh"]
    )
    np.testing.assert_allclose(h, h_ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c, c_ref.detach().numpy(), atol=1e-12)


def test_step_backward_matches_numeric_gradient():
    rng = np.random.default_rng(0)
    B, F, H = 3, 4, 5
    x, h0, c0 = rng.normal(size=(B, F)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    w_ih, w_hh, b = rng.normal(size=(4 * H, F)), rng.normal(size=(4 * H, H)), rng.normal(size=4 * H)
    dh, dc = rng.normal(size=(B, H)), rng.normal(size=(B, H))
    _, _, cache = lstm_step_forward(x, h0, c0, w_ih, w_hh, b)
    dx, dh0, dc0, dw_ih, dw_hh, db = lstm_step_backward(dh, dc, cache)

    def f(_):
        h, c, _ = lstm_step_forward(x, h0, c0, w_ih, w_hh, b)
        return np.array([np.sum(h * dh) + np.sum(c * dc)])

    for analytic, arr in ((dx, x), (dh0, h0), (dc0, c0), (dw_ih, w_ih), (dw_hh, w_hh), (db, b)):
        assert rel_error(analytic, numerical_gradient(f, arr, np.ones(1))) < 1e-7


def test_layer_functions_are_the_step_loop():
    """``lstm_forward`` is ``lstm_step_forward`` in a loop; ``lstm_backward`` matches a numeric gradient."""
    rng = np.random.default_rng(5)
    B, T, F, H = 2, 4, 3, 2
    x, h0, c0 = rng.normal(size=(B, T, F)), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    w_ih, w_hh, b = rng.normal(size=(4 * H, F)), rng.normal(size=(4 * H, H)), rng.normal(size=4 * H)
    hs, (h, c), cache = lstm_forward(x, h0, c0, w_ih, w_hh, b)
    h_t, c_t = h0, c0
    for t in range(T):
        h_t, c_t, _ = lstm_step_forward(x[:, t], h_t, c_t, w_ih, w_hh, b)
        np.testing.assert_array_equal(hs[:, t], h_t)
    np.testing.assert_array_equal(c, c_t)
    dhs, dh, dc = rng.normal(size=hs.shape), rng.normal(size=(B, H)), rng.normal(size=(B, H))
    grads = lstm_backward(dhs, dh, dc, cache)

    def f(_):
        hs, (h, c), _ = lstm_forward(x, h0, c0, w_ih, w_hh, b)
        return np.array([np.sum(hs * dhs) + np.sum(h * dh) + np.sum(c * dc)])

    for analytic, arr in zip(grads, (x, h0, c0, w_ih, w_hh, b), strict=True):
        assert rel_error(analytic, numerical_gradient(f, arr, np.ones(1))) < 1e-7


def test_one_step_by_hand():
    """H = 1, F = 1, all weights 0.5, no bias, x = 1, h0 = c0 = 0: a = 0.5 for every gate."""
    h, c, _ = lstm_step_forward(
        np.ones((1, 1)), np.zeros((1, 1)), np.zeros((1, 1)), np.full((4, 1), 0.5), np.full((4, 1), 0.5)
    )
    s = 1 / (1 + math.exp(-0.5))
    c_hand = s * math.tanh(0.5)  # f * 0 + i * g
    assert c[0, 0] == pytest.approx(c_hand, abs=1e-15)
    assert h[0, 0] == pytest.approx(s * math.tanh(c_hand), abs=1e-15)


def test_gate_order_is_i_f_g_o():
    """The blocks of the 4H axis are i, f, g, o, told apart from the 23 other orders (CS231n's i, f, o, g
    among them): each block gets its own pre-activations, so each order gives its own (h, c) by hand,
    and only i, f, g, o gives what ``lstm_step_forward`` gives, and what ``torch.nn.LSTM`` gives."""
    H = 2
    blocks = np.array([[0.9, -0.4], [-1.3, 0.6], [1.7, -2.1], [0.3, 1.1]])  # pre-activations, axis order
    x, h0, c0 = np.array([[1.0]]), np.array([[0.5, -0.2]]), np.array([[0.8, -1.5]])

    def by_hand(order: str) -> np.ndarray:
        z = dict(zip(order, blocks, strict=True))
        sig = {k: 1 / (1 + np.exp(-v)) for k, v in z.items()}
        c = sig["f"] * c0 + sig["i"] * np.tanh(z["g"])
        return np.concatenate([sig["o"] * np.tanh(c), c], axis=None)  # (h, c)

    hand = {"".join(order): by_hand("".join(order)) for order in itertools.permutations("ifgo")}
    assert min(np.abs(a - b).max() for a, b in itertools.combinations(hand.values(), 2)) > 1e-2

    # the same pre-activations from all three terms: x @ W_ih.T + h0 @ W_hh.T + b
    w_ih = 0.5 * blocks.reshape(4 * H, 1)
    w_hh = np.random.default_rng(0).normal(size=(4 * H, H))
    b = blocks.reshape(4 * H) - (x @ w_ih.T + h0 @ w_hh.T)[0]
    h, c, _ = lstm_step_forward(x, h0, c0, w_ih, w_hh, b)
    ours = np.concatenate([h, c], axis=None)
    assert [order for order, v in hand.items() if np.allclose(v, ours, rtol=0, atol=1e-12)] == ["ifgo"]

    weights = {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b, "bias_hh_l0": 0 * b}
    ref = torch.nn.LSTM(1, H).double()
    with torch.no_grad():
        for name, v in weights.items():
            getattr(ref, name).copy_(torch.from_numpy(v))
        t_h, t_c = ref(torch.from_numpy(x[None]), tuple(torch.from_numpy(s[None]) for s in (h0, c0)))[1]
    theirs = np.concatenate([t_h.numpy(), t_c.numpy()], axis=None)
    assert [order for order, v in hand.items() if np.allclose(v, theirs, rtol=0, atol=1e-12)] == ["ifgo"]


def test_sigmoid_is_stable_and_exact():
    x = np.array([-800.0, -3.0, 0.0, 2.0, 800.0])
    with np.errstate(all="raise"):
        np.testing.assert_allclose(sigmoid(x), [0.0, 1 / (1 + math.exp(3)), 0.5, 1 / (1 + math.exp(-2)), 1.0])


def test_extreme_inputs_do_not_warn_or_nan(engine):
    lstm = engine(1, 2, seed=0)
    with np.errstate(all="raise"):
        out, (h, c) = lstm(np.full((3, 1, 1), 1e4, np.float32))
    assert np.isfinite(out).all() and np.isfinite(c).all()


def test_other_sequence_lengths_and_state_continuation(engine):
    """The time axis is free, and two chunks with carried state equal one run."""
    lstm = engine(2, 3, num_layers=2, batch_first=True, seed=1)
    x = np.random.default_rng(2).normal(size=(2, 9, 2)).astype(np.float32)
    out, (h, c) = lstm(x)
    out1, state = lstm(x[:, :4])
    out2, (h2, c2) = lstm(x[:, 4:], state)
    np.testing.assert_allclose(np.concatenate([out1, out2], axis=1), out, atol=1e-6)
    np.testing.assert_allclose(h2, h, atol=1e-6)
    np.testing.assert_allclose(c2, c, atol=1e-6)


def test_num_parameters_matches_torch(engine):
    for L, bi, bias in itertools.product([1, 2], [False, True], [True, False]):
        ref = torch.nn.LSTM(7, 6, L, bias=bias, bidirectional=bi)
        ours = engine(7, 6, L, bias=bias, bidirectional=bi)
        assert ours.num_parameters() == sum(p.numel() for p in ref.parameters())
        assert {k: v.shape for k, v in ours.state_dict().items()} == {
            k: tuple(v.shape) for k, v in ref.state_dict().items()
        }


def test_init_range_matches_torch(engine):
    """Every weight is drawn from U(-1/sqrt(H), 1/sqrt(H)) in both: same bound, same spread."""
    torch.manual_seed(0)
    ref = {k: v.numpy() for k, v in torch.nn.LSTM(3, 16, 2).state_dict().items()}
    ours = engine(3, 16, 2, seed=0).state_dict()
    assert list(ours) == list(ref)
    for name, w in ours.items():
        for arr in (w, ref[name]):
            assert np.abs(arr).max() <= 1 / 4  # 1 / sqrt(H)
            assert np.std(arr) == pytest.approx(0.25 / math.sqrt(3), rel=0.25), name  # U(-k, k): k / sqrt(3)


# ----------------------------------------------------------------------------- bad input
def test_rejects_2d_input_with_fix(engine):
    with pytest.raises(
        ValueError,
        match=r"expected \(batch, time_steps, features\) = \(\?, \?, 3\), got shape "
        r"\(5, 3\).*no time axis.*x.reshape\(5, 1, 3\)",
    ):
        engine(3, 4, batch_first=True)(np.zeros((5, 3)))


def test_rejects_wrong_feature_count(engine):
    with pytest.raises(
        ValueError, match=r"\(time_steps, batch, features\) = \(\?, \?, 3\).*features\)? is 2, expected 3"
    ):
        engine(3, 4)(np.zeros((5, 2, 2)))


def test_rejects_features_in_the_wrong_place(engine):
    with pytest.raises(ValueError, match="features axis must be last"):
        engine(3, 4, batch_first=True)(np.zeros((8, 3, 10)))


def test_rejects_batch_first_h0_with_the_fix(engine):
    lstm = engine(3, 5, num_layers=2, batch_first=True)
    x = np.zeros((4, 6, 3))
    bad = np.zeros((4, 2, 5))  # (batch, layers, hidden): the classic mistake
    with pytest.raises(
        ValueError,
        match=r"\(num_layers\*num_directions, batch, hidden_size\) = \(2, 4, 5\).*"
        r"got shape \(4, 2, 5\).*never batch-first.*transpose\(1, 0, 2\)",
    ):
        lstm(x, (bad, np.zeros((2, 4, 5))))
    with pytest.raises(ValueError, match="c0"):
        lstm(x, (np.zeros((2, 4, 5)), np.zeros((2, 4, 4))))
    with pytest.raises(ValueError, match="tuple"):
        lstm(x, np.zeros((2, 4, 5)))


def test_rejects_nan_and_non_numeric(engine):
    lstm = engine(1, 2)
    with pytest.raises(ValueError, match="NaN"):
        lstm(np.array([[[np.nan]]]))
    with pytest.raises(ValueError, match="must hold numbers"):
        lstm(np.array([[["a"]]]))


def test_rejects_bad_state_dicts(engine):
    lstm = engine(3, 4)
    sd = lstm.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['bias_hh_l0'\]"):
        lstm.load_state_dict({k: v for k, v in sd.items() if k != "bias_hh_l0"})
    with pytest.raises(ValueError, match=r"unexpected keys \['weight_ih_l1'\]"):
        lstm.load_state_dict({**sd, "weight_ih_l1": sd["weight_ih_l0"]})
    with pytest.raises(ValueError, match=r"weight_ih_l0 has shape \(3, 16\), expected \(16, 3\).*transposed"):
        lstm.load_state_dict({**sd, "weight_ih_l0": sd["weight_ih_l0"].T})
    with pytest.raises(ValueError, match="bias=False"):
        engine(3, 4, bias=False).load_state_dict(sd)


def test_rejects_bad_constructor_and_backward_misuse(engine):
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
            engine(3, bad)
    with pytest.raises(ValueError, match="dtype must be a floating type"):
        engine(3, 4, dtype=np.int32)
    lstm = engine(3, 4, batch_first=True)
    with pytest.raises(ValueError, match="forward call first"):
        lstm.backward(np.zeros((1, 1, 4)))
    out, _ = lstm(np.zeros((2, 5, 3)))
    with pytest.raises(
        ValueError, match=r"d_output: expected \(batch, time_steps, D\*hidden\) = \(2, 5, 4\)"
    ):
        lstm.backward(np.zeros((5, 2, 4)))
