"""lstm_ref._checks: every message names the layout and what was received, and the
checks accept exactly what torch.nn.LSTM accepts."""

import itertools

import numpy as np
import pytest
import torch

from lstm_ref import _checks as C


def test_layout_str():
    assert C.layout_str(C.BTF) == "(batch, time_steps, features)"
    assert C.layout_str(C.TBF, {"features": 3, "batch": 2}) == "(time_steps, batch, features) = (?, 2, 3)"
    assert (
        C.layout_str(C.STATE, {"batch": 4}) == "(num_layers*num_directions, batch, hidden_size) = (?, 4, ?)"
    )


def test_as_float_array_dtypes():
    assert C.as_float_array([1, 2, 3]).dtype == np.float64
    assert C.as_float_array(np.array([True, False])).dtype == np.float64
    assert C.as_float_array(np.zeros(3, np.float32)).dtype == np.float32
    assert C.as_float_array(np.zeros(3, np.float64)).dtype == np.float64
    np.testing.assert_array_equal(C.as_float_array([[1, 2], [3, 4]]), [[1.0, 2.0], [3.0, 4.0]])
    assert C.as_float_array(np.zeros((0, 3))).shape == (0, 3)  # empty is fine here


@pytest.mark.parametrize(
    "value,match",
    [
        (["a", "b"], r"x must hold numbers, got dtype <U1"),
        (np.array([1, None], dtype=object), "x must hold numbers, got dtype object"),
        ([[1.0, 2.0], [3.0]], "x must be a numeric array, could not convert it"),
        ([1.0, np.nan, np.nan], r"x contains 2 NaN or infinite value\(s\)"),
        ([1.0, -np.inf], r"x contains 1 NaN or infinite value\(s\)"),
    ],
)
def test_as_float_array_rejects(value, match):
    with pytest.raises(ValueError, match=match):
        C.as_float_array(value)


def test_as_float_array_uses_the_name():
    with pytest.raises(ValueError, match="^prices contains 1 NaN"):
        C.as_float_array([np.nan], name="prices")


def test_check_shape():
    C.check_shape((4, 10, 3), C.BTF, {"features": 3})
    C.check_shape((4, 10, 3), C.BTF, {})
    with pytest.raises(
        ValueError,
        match=r"^x: expected \(batch, time_steps, features\) = \(4, \?, 3\), got shape \(5, 10, 2\): "
        r"axis 0 \(batch\) is 5, expected 4; axis 2 \(features\) is 2, expected 3$",
    ):
        C.check_shape((5, 10, 2), C.BTF, {"features": 3, "batch": 4})
    with pytest.raises(
        ValueError, match=r"got shape \(4, 10\): the features axis .* is missing; see the book$"
    ):
        C.check_shape((4, 10), C.BTF, {"features": 3}, hint="see the book")
    with pytest.raises(ValueError, match=r"got shape \(4,\): a 1-D array where 3-D is expected"):
        C.check_shape((4,), C.BTF, {"features": 3})


def test_check_sequence():
    assert C.check_sequence((5, 7, 3), features=3) == (5, 7)
    assert C.check_sequence((7, 5, 3), features=3, batch_first=False) == (5, 7)
    with pytest.raises(
        ValueError,
        match=r"time_steps axis \(axis 1\) is missing.*no time axis.*make_windows.*"
        r"x.reshape\(5, 1, 3\) gives one time step per sample",
    ):
        C.check_sequence((5, 3), features=3)
    with pytest.raises(
        ValueError, match=r"\(time_steps, batch, features\) = \(\?, \?, 3\).*x\[None\] gives one time step"
    ):
        C.check_sequence((5, 3), features=3, batch_first=False)
    with pytest.raises(ValueError, match=r"got shape \(30,\): a 1-D array .* bare series: .*make_windows"):
        C.check_sequence((30,), features=1)
    with pytest.raises(
        ValueError,
        match=r"wrong order: .*\(batch, features, time_steps\) \(the features axis must be last\).*"
        r"transpose\(0, 2, 1\)",
    ):
        C.check_sequence((5, 3, 7), features=3)
    with pytest.raises(
        ValueError, match=r"^seq: .* got shape \(5, 7, 4\): axis 2 \(features\) is 4, expected 3$"
    ):
        C.check_sequence((5, 7, 4), features=3, name="seq")


def test_check_messages_are_the_diagnosis():
    """The validators say exactly what lstm_ref.diagnose says (one wording), as a ValueError."""
    from lstm_ref.diagnose import diagnose

    for shape in [(5, 3), (30,), (5, 3, 7), (5, 7, 4)]:
        with pytest.raises(ValueError) as err:
            C.check_sequence(shape, features=3)
        assert str(err.value) == diagnose(shape, (None, None, 3), "btf")
    with pytest.raises(ValueError) as err:
        C.check_state((4, 2, 5), layers_dirs=2, batch=4, hidden=5, name="c0")
    assert str(err.value) == diagnose((4, 2, 5), (2, 4, 5), "state", name="c0")


def test_check_sequence_suggested_reshape_works_in_torch():
    """The fix in the 2-D message really gives input that torch.nn.LSTM(batch_first=True) takes."""
    lstm = torch.nn.LSTM(3, 4, batch_first=True)
    x = np.zeros((5, 3), np.float32)
    with pytest.raises(ValueError) as err:
        C.check_sequence(x.shape, features=3)
    assert "x.reshape(5, 1, 3)" in str(err.value)
    out, _ = lstm(torch.from_numpy(x.reshape(5, 1, 3)))
    assert tuple(out.shape) == (5, 1, 4)


def _torch_accepts_state(shape, layers, bidir, batch, hidden):
    lstm = torch.nn.LSTM(2, hidden, num_layers=layers, bidirectional=bidir, batch_first=True)
    h0 = torch.zeros(shape)
    try:
        with torch.no_grad():
            lstm(torch.zeros(batch, 3, 2), (h0, h0))
    except RuntimeError:
        return False
    return True


@pytest.mark.parametrize("layers,bidir", [(1, False), (2, False), (1, True), (2, True)])
def test_check_state_agrees_with_torch(layers, bidir):
    batch, hidden = 4, 5
    ld = layers * (2 if bidir else 1)
    candidates = set(itertools.permutations((ld, batch, hidden))) | {(ld, batch + 1, hidden), (ld, batch, 3)}
    for shape in sorted(candidates):
        try:
            C.check_state(shape, ld, batch, hidden)
            ours = True
        except ValueError:
            ours = False
        assert ours == _torch_accepts_state(shape, layers, bidir, batch, hidden), shape


def test_check_state_messages():
    with pytest.raises(
        ValueError, match=r"^h0: expected .* = \(2, 4, 5\), got shape \(4, 2, 5\): .*never batch-first"
    ):
        C.check_state((4, 2, 5), layers_dirs=2, batch=4, hidden=5)
    with pytest.raises(
        ValueError,
        match=r"^c0: .*got shape \(4, 5\): the num_layers\*num_directions axis \(axis 0\) is missing.*"
        r"use x\[None\]",
    ):
        C.check_state((4, 5), layers_dirs=1, batch=4, hidden=5, name="c0")
    with pytest.raises(ValueError, match=r"is missing: .* stack 2 of them with np.stack"):
        C.check_state((4, 5), layers_dirs=2, batch=4, hidden=5)
    with pytest.raises(ValueError, match=r"got shape \(2, 4, 6\): axis 2 \(hidden_size\) is 6, expected 5$"):
        C.check_state((2, 4, 6), layers_dirs=2, batch=4, hidden=5)


def test_check_state_dict_against_torch_names():
    lstm = torch.nn.LSTM(3, 5, num_layers=2)
    expected = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    C.check_state_dict(lstm.state_dict(), expected)  # tensors are fine
    C.check_state_dict({k: v.numpy() for k, v in lstm.state_dict().items()}, expected)
    sd = {k: v.numpy() for k, v in lstm.state_dict().items()}
    sd["weight_ih_l0"] = sd["weight_ih_l0"].T
    with pytest.raises(
        ValueError, match=r"weight_ih_l0 has shape \(3, 20\), expected \(20, 3\) \(transposed\?"
    ):
        C.check_state_dict(sd, expected)
    no_bias = {k: v for k, v in expected.items() if not k.startswith("bias")}
    with pytest.raises(
        ValueError, match=r"unexpected keys \['bias_hh_l0', .*\] \(this LSTM has bias=False\)"
    ):
        C.check_state_dict(lstm.state_dict(), no_bias)
    del sd["weight_hh_l1"]
    with pytest.raises(
        ValueError, match=r"^state dict does not fit this GRU: missing keys \['weight_hh_l1'\]"
    ):
        C.check_state_dict(sd, expected, what="GRU")


def test_check_int():
    assert C.check_int(3, "n") == 3
    assert type(C.check_int(np.int64(3), "n", minimum=1)) is int
    assert C.check_int(-2, "n") == -2
    for bad in (2.0, "3", None, True, np.float32(1)):
        with pytest.raises(ValueError, match="^n must be an integer"):
            C.check_int(bad, "n")
    with pytest.raises(ValueError, match="^look_back must be a positive integer, got 0$"):
        C.check_int(0, "look_back", minimum=1)


def test_nan_check_is_exact_and_silent_at_the_float_limits():
    """The one-pass check (a finite sum) must neither reject huge finite values whose sum overflows
    nor miss inf and -inf that cancel into NaN, and must not warn (stderr fails autograded cells)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = np.full(10, 3e38, np.float32)  # its float32 sum overflows to inf
        assert C.as_float_array(huge) is huge
        for bad, count in (([np.inf, -np.inf, 1.0], 2), ([1.0, np.nan], 1), ([3e38, 3e38, np.inf], 1)):
            with pytest.raises(ValueError, match=f"contains {count} NaN or infinite"):
                C.as_float_array(np.array(bad, np.float32))


def test_check_sequence_words_its_fix_for_the_array_it_got():
    """A torch.Size gets torch's code: permute (torch's transpose swaps two dims); a tuple gets NumPy's."""
    x = torch.randn(5, 3, 7)  # (batch, features, time_steps) for an LSTM on 3 features
    with pytest.raises(ValueError) as info:
        C.check_sequence(x.shape, features=3)
    msg = str(info.value)
    assert "use x.permute(0, 2, 1) or x.transpose(1, 2)" in msg and "transpose(0, 2, 1)" not in msg
    assert x.permute(0, 2, 1).shape == x.transpose(1, 2).shape == (5, 7, 3)
    with pytest.raises(ValueError, match=r"use x\.transpose\(0, 2, 1\)$"):
        C.check_sequence(tuple(x.shape), features=3)
    assert np.zeros((5, 3, 7)).transpose(0, 2, 1).shape == (5, 7, 3)
    with pytest.raises(ValueError, match=r"use x\.permute\(1, 0, 2\)\.contiguous\(\)$"):
        C.check_state(torch.zeros(4, 2, 5).shape, layers_dirs=2, batch=4, hidden=5)
