"""lstm_ref.feedback: the messages name the wrong axis and the classic mistake, never the answer."""

from __future__ import annotations

import numpy as np
import pytest

from lstm_ref.diagnose import BTF, STATE
from lstm_ref.feedback import assert_close, assert_param_count, assert_shape, diagnose_shape, numeric_gradient


def _message(fn, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        fn(*args, **kwargs)
    return str(info.value)


@pytest.mark.parametrize(
    ("got", "expected"),
    [((26, 5, 7), (26, 5, 7)), ((3, 10, 2), (None, None, 2)), ((1,), (1,)), ((4, 1, 8), (4, None, 8))],
)
def test_matching_shapes_pass(got, expected):
    assert_shape(np.zeros(got), expected, BTF[: len(expected)])
    assert diagnose_shape(got, expected, BTF[: len(expected)]) == ""


def test_missing_time_axis():
    msg = _message(assert_shape, np.zeros((207, 7)), (207, 1, 7), what="X")
    assert msg.startswith(
        "Your X has shape (207, 7) but it should be (batch, time_steps, features) = (207, 1, 7)"
    )
    assert "time_steps axis (axis 1) is missing" in msg and "own window of 1 time steps" not in msg
    assert "reshape(207" not in msg  # a hint, not the answer


def test_flattened_time_and_features():
    msg = _message(assert_shape, np.zeros((26, 35)), (26, 5, 7), what="X")
    assert "time_steps and features are flattened into one axis of 35 = 5 × 7" in msg
    assert "reshape" not in msg  # the fix is the answer


def test_swapped_axes_name_the_layout_received():
    msg = _message(assert_shape, np.zeros((5, 26, 7)), (26, 5, 7))
    assert "wrong order: it looks like (time_steps, batch, features)" in msg and "transpose(" not in msg
    msg = _message(assert_shape, np.zeros((26, 7, 5)), (26, 5, 7))
    assert "(batch, features, time_steps)" in msg


@pytest.mark.parametrize(("n", "word"), [(24, "one window short"), (26, "one window too many")])
def test_off_by_one_window_count(n, word):
    msg = _message(assert_shape, np.zeros((n, 5, 7)), (25, 5, 7), ("windows", "time_steps", "features"))
    assert f"axis 0 (windows) is {n}, expected 25" in msg and word in msg
    assert "make_windows" not in msg


def test_batch_of_states_off_by_one_gets_no_window_hint():
    msg = _message(assert_shape, (2, 5, 8), (2, 4, 8), STATE, what="h_n")
    assert "axis 1 (batch) is 5, expected 4" in msg and "window" not in msg


def test_batch_first_state_is_named():
    msg = _message(assert_shape, (4, 2, 5), (2, 4, 5), STATE, what="h_n")
    assert "(batch, num_layers*num_directions, hidden_size)" in msg and "never batch-first" in msg


def test_other_mismatches_name_the_axis():
    msg = _message(assert_shape, np.zeros((8, 5, 3)), (8, 5, 7))
    assert "axis 2 (features) is 3, expected 7" in msg
    msg = _message(assert_shape, np.zeros((8, 1, 5, 7)), (8, 5, 7))
    assert "extra axis of size 1 at position 1" in msg
    msg = _message(assert_shape, np.zeros((8,)), (8, 5, 7))
    assert "a 1-D array where 3-D is expected" in msg
    assert "Hint: look at X[0]" in _message(assert_shape, np.zeros((8, 5, 3)), (8, 5, 7), hint="look at X[0]")


def test_accepts_tensors_and_shape_tuples_but_not_other_answers():
    torch = pytest.importorskip("torch")
    assert_shape(torch.zeros(2, 3, 4), (2, 3, 4))
    assert_shape((2, 3, 4), (2, 3, 4))
    assert_shape([2, 3, 4], (2, 3, 4))
    assert "shape tuple of ints" in _message(assert_shape, (2.0, 3.0, 4.0), (2, 3, 4))
    assert "shape tuple of ints" in _message(assert_shape, "(2, 3, 4)", (2, 3, 4))
    with pytest.raises(ValueError, match="layout"):
        assert_shape((2, 3), (2, 3), BTF)


def test_assert_close_reports_worst_entry():
    got = np.zeros((2, 3))
    want = np.zeros((2, 3))
    want[1, 2], want[0, 0] = 0.5, 0.1
    msg = _message(assert_close, got, want, what="h", layout=("batch", "hidden_size"))
    assert "max abs error 0.5 at batch=1, hidden_size=2 (got 0, expected 0.5)" in msg
    assert "2 of 6 entries are off" in msg
    assert "at axis0=1, axis1=2" in _message(assert_close, got, want)
    assert_close(got, want, atol=0.5)
    assert_close(np.array([100.0]), np.array([100.1]), atol=0, rtol=1e-2)
    assert "NaN or inf" in _message(assert_close, np.array([np.nan]), np.array([0.0]))
    assert "should have shape (2, 3)" in _message(assert_close, np.zeros(6), want)
    assert "Hint: add both biases" in _message(assert_close, got, want, hint="add both biases")


def test_assert_close_accepts_tensors():
    torch = pytest.importorskip("torch")
    assert_close(torch.ones(2, requires_grad=True) * 2, np.full(2, 2.0))
    assert "differs" in _message(assert_close, torch.ones(2), torch.zeros(2))


def test_param_count_hint_for_torch_vs_keras():
    """The Keras formula applied to PyTorch is exactly 4H short: the message says why."""
    torch = pytest.importorskip("torch")
    f, h = 3, 8
    torch_count = sum(p.numel() for p in torch.nn.LSTM(f, h).parameters())
    keras_formula = 4 * h * (f + h) + 4 * h  # FACTS.md: Keras count_params for LSTM(h) on f features
    assert_param_count(torch_count, torch_count, hidden_size=h)
    msg = _message(assert_param_count, keras_formula, torch_count, hidden_size=h, what="torch count")
    assert (
        f"{torch_count - keras_formula} short, exactly 4 x hidden_size" in msg and "two bias vectors" in msg
    )
    assert "one bias vector" in _message(assert_param_count, torch_count, keras_formula, hidden_size=h)
    assert "4 gates" in _message(assert_param_count, keras_formula // 4, keras_formula, hidden_size=h)
    assert "should be an int" in _message(assert_param_count, 10400.0, 10400, hidden_size=50)
    assert "should be an int" in _message(assert_param_count, True, 1, hidden_size=50)


def test_numeric_gradient_matches_calculus():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    w = rng.standard_normal((4, 2))
    before = x.copy()
    grad = numeric_gradient(lambda: float(np.sin(x @ w).sum()), x)
    analytic = np.cos(x @ w) @ w.T  # d/dx sum(sin(x w))
    np.testing.assert_allclose(grad, analytic, rtol=1e-7, atol=1e-9)
    np.testing.assert_array_equal(x, before)  # x is restored


FIX_CODE = ("transpose(", "reshape(", "squeeze(", "expand_dims", "make_windows", "np.stack", "x[", "permute(")


@pytest.mark.parametrize(
    ("got", "expected", "layout", "mistake"),
    [
        ((26, 7), (26, 5, 7), BTF, "the time_steps axis (axis 1) is missing"),
        ((26, 35), (26, 5, 7), BTF, "time_steps and features are flattened into one axis of 35 = 5 × 7"),
        ((5, 26, 7), (26, 5, 7), BTF, "it looks like (time_steps, batch, features), the PyTorch default"),
        ((26, 7, 5), (26, 5, 7), BTF, "it looks like (batch, features, time_steps)"),
        ((26, 1, 5, 7), (26, 5, 7), BTF, "an extra axis of size 1 at position 1"),
        ((5, 7), (1, 5, 7), BTF, "the batch axis (axis 0) is missing"),
        ((26, 5), (26, 5, 1), BTF, "the features axis (axis 2) is missing"),
        ((4, 2, 5), (2, 4, 5), STATE, "the state is never batch-first"),
        ((4, 5), (1, 4, 5), STATE, "the num_layers*num_directions axis (axis 0) is missing"),
        ((25, 5, 7), (26, 5, 7), BTF, "axis 0 (batch) is 25, expected 26: one window short"),
    ],
)
def test_feedback_names_the_mistake_but_never_the_fix(got, expected, layout, mistake):
    """The exercises' words name the same mistake as the full diagnosis, which also gives the
    repairing code; the feedback leaves that code out (there it is the graded answer)."""
    from lstm_ref.diagnose import diagnose

    hint = diagnose_shape(got, expected, layout)
    full = diagnose(got, expected, layout)
    assert mistake in hint and mistake in full, (mistake, hint, full)
    assert [code for code in FIX_CODE if code in full], f"the full diagnosis gives no fix: {full}"
    assert not [code for code in FIX_CODE if code in hint], hint
    assert hint in _message(assert_shape, got, expected, layout)
