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


# ---------------------------------------------------------------- messages a learner's run found wrong


def test_param_count_names_a_missing_bias_not_the_second_bias():
    """nn.LSTM(3, 8, num_layers=2, bias=False) + Linear(8, 1), checked as the frameworks exercise checks it."""
    torch = pytest.importorskip("torch")
    hidden, features = 8, 3
    layer_0 = 4 * hidden * (features + hidden) + 8 * hidden  # the exercise's expected count, by hand
    layer_1 = 4 * hidden * (hidden + hidden) + 8 * hidden
    expected = layer_0 + layer_1 + hidden + 1
    with_bias = [torch.nn.LSTM(features, hidden, num_layers=2, batch_first=True), torch.nn.Linear(hidden, 1)]
    assert sum(p.numel() for m in with_bias for p in m.parameters()) == expected  # torch agrees
    learner = [torch.nn.LSTM(3, 8, num_layers=2, bias=False, batch_first=True), torch.nn.Linear(8, 1)]
    got = sum(p.numel() for m in learner for p in m.parameters())
    msg = _message(assert_param_count, got, expected, hidden, "TorchModel's parameter count")
    assert got == expected - 2 * 8 * hidden  # both biases of both layers
    assert f"{8 * 2 * hidden} short, exactly every bias of 2 layers" in msg
    assert "Is the bias missing (bias=False)?" in msg and "PyTorch keeps two bias vectors" not in msg
    # one bias counted per layer (Keras's formula): the two-bias hint stays
    one_bias = expected - 2 * 4 * hidden
    msg = _message(assert_param_count, one_bias, expected, hidden, "TorchModel's parameter count")
    assert "PyTorch keeps two bias vectors (bias_ih and bias_hh)" in msg and "bias=False" not in msg


def test_param_count_names_a_missing_keras_bias():
    """keras LSTM(8, use_bias=False) twice + Dense(1), checked as the frameworks exercise checks it."""
    pytest.importorskip("tensorflow")
    from lstm_ref.keras import keras

    hidden, features = 8, 3
    lstm_1 = 4 * hidden * (features + hidden) + 4 * hidden
    lstm_2 = 4 * hidden * (hidden + hidden) + 4 * hidden

    def build(use_bias):
        return keras.Sequential(
            [
                keras.Input((5, features)),
                keras.layers.LSTM(hidden, return_sequences=True, use_bias=use_bias),
                keras.layers.LSTM(hidden, use_bias=use_bias),
                keras.layers.Dense(1),
            ]
        )

    expected = lstm_1 + lstm_2 + hidden + 1
    assert build(True).count_params() == expected  # Keras agrees with the hand count
    got = build(False).count_params()
    assert got == expected - 2 * 4 * hidden
    msg = _message(assert_param_count, got, expected, hidden, "Keras model's parameter count")
    assert "exactly every bias of 2 layers" in msg and "Is the bias missing (use_bias=False)?" in msg
    assert "PyTorch keeps two" not in msg


def test_param_count_names_the_input_width_of_layer_1():
    """(features, hidden) = (3, 8), two layers, counted 4H(F+H)+8H for both: layer 1 reads hidden inputs."""
    torch = pytest.importorskip("torch")
    features, hidden = 3, 8
    expected = (4 * 8 * (3 + 8) + 8 * 8) + (4 * 8 * (8 + 8) + 8 * 8) + 8 + 1  # by hand: 416 + 576 + 9
    model = [torch.nn.LSTM(features, hidden, num_layers=2), torch.nn.Linear(hidden, 1)]
    assert sum(p.numel() for m in model for p in m.parameters()) == expected == 1001
    learner = 2 * (4 * hidden * (features + hidden) + 8 * hidden) + hidden + 1
    msg = _message(assert_param_count, learner, expected, hidden, "TorchModel's parameter count")
    assert (
        "layer 1 reads the previous layer's output, so its input width is hidden = 8, not features = 3" in msg
    )
    assert "(4 x 8 x (8 - 3) = 160 weights)" in msg and expected - learner == 4 * 8 * (8 - 3)


def test_param_count_names_both_directions_as_layer_1_input():
    torch = pytest.importorskip("torch")
    hidden = 8
    lstm = torch.nn.LSTM(3, hidden, num_layers=2, bidirectional=True)
    expected = sum(p.numel() for p in lstm.parameters())
    one_direction_wide = (
        expected - 2 * 4 * hidden * hidden
    )  # layer 1 counted with hidden, not 2*hidden, inputs
    msg = _message(assert_param_count, one_direction_wide, expected, hidden, "torch count", framework="torch")
    assert "its input width is 2*hidden = 16 (both directions), not hidden = 8" in msg


def test_size_one_axes_moved_a_reshape_is_the_transpose():
    """(5, 1, 3) for (1, 5, 3): only the axis of size 1 moves, so the reshape gives the transpose's values."""
    x = np.arange(15.0).reshape(5, 1, 3)
    assert np.array_equal(x.reshape(1, 5, 3), x.transpose(1, 0, 2))  # the claim, checked
    msg = _message(assert_shape, x, (1, 5, 3), what="X")
    assert "only axes of size 1 move, so here a reshape gives the same array as a transpose" in msg
    assert "not a reshape" not in msg
    # a real transpose: the reshape mixes values, and the old words stay
    y = np.arange(5 * 26 * 7.0).reshape(5, 26, 7)  # (time_steps, batch, features)
    assert not np.array_equal(y.reshape(26, 5, 7), y.transpose(1, 0, 2))
    assert "reorder them with a transpose, not a reshape" in _message(assert_shape, y, (26, 5, 7))
    # with the fix shown, the equivalent reshape is named and really is the transpose
    fixed = diagnose_shape((4, 1, 10), (4, 10, 1))
    assert "only axes of size 1 move" in fixed
    from lstm_ref.diagnose import diagnose

    shown = diagnose((4, 1, 10), (4, 10, 1))
    assert "use x.transpose(0, 2, 1) (only axes of size 1 move: x.reshape(4, 10, 1) is the same)" in shown
    z = np.arange(40.0).reshape(4, 1, 10)
    assert np.array_equal(z.transpose(0, 2, 1), z.reshape(4, 10, 1))


def test_one_axis_layout_prints_as_a_tuple():
    msg = _message(assert_shape, np.zeros(24), (25,), ("windows",))
    assert msg.startswith("Your x has shape (24,) but it should be (windows,) = (25,): ")
    assert "(windows) = (25)" not in msg


def test_two_d_windows_lead_with_the_features_axis():
    """(windows, look_back) into an LSTM whose features are unknown: x[..., None] first, one step flagged."""
    from lstm_ref.diagnose import diagnose

    msg = diagnose((26, 5), (None, None, None))
    fix = (
        "if the 5 columns are a window of 5 time steps of one feature, use x[..., None] = x.reshape(26, 5, 1)"
    )
    assert fix in msg
    assert msg.index(fix) < msg.index("x.reshape(26, 1, 5) would be ONE time step of 5 features")
    x = np.arange(130.0).reshape(26, 5)
    assert np.array_equal(x[..., None], x.reshape(26, 5, 1)) and x[..., None].shape == (26, 5, 1)
    hidden = diagnose_shape((26, 5), (None, None, None))  # the grader's words: no code
    assert "the features axis of size 1 is what is missing, not a time axis of 1" in hidden
    assert "x[" not in hidden and "reshape(" not in hidden
