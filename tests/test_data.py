"""lstm_ref.data: windows (property tests against a plain loop), stateful batches
(continuity, and torch.nn.LSTM run over them with a carried state equals running each
stream whole), the airline data, scaling, splitting, baselines, and every error path."""

import csv
import io
from importlib import resources

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lstm_ref import data

# ---------------------------------------------------------------- make_windows


def loop_windows(series2d, look_back, horizon, cols, stride=1):
    """Reference: the obvious loop, written independently of make_windows."""
    X, y = [], []
    i = 0
    while i + look_back + horizon <= len(series2d):
        X.append(series2d[i : i + look_back])
        y.append(series2d[i + look_back : i + look_back + horizon][:, cols])
        i += stride
    return X, y


@st.composite
def window_problems(draw):
    look_back = draw(st.integers(1, 8))
    horizon = draw(st.integers(1, 4))
    n = draw(st.integers(look_back + horizon, 40))
    f = draw(st.integers(1, 4))
    one_d = f == 1 and draw(st.booleans())
    series = np.arange(n * f, dtype=np.float64).reshape(n, f) * 1.5 - 7
    target = draw(
        st.one_of(
            st.none(),
            st.integers(-f, f - 1),
            st.lists(st.integers(0, f - 1), min_size=1, max_size=f, unique=True),
        )
    )
    stride = draw(st.integers(1, 3))
    return (series[:, 0] if one_d else series), look_back, horizon, target, stride


@settings(max_examples=200, deadline=None)
@given(window_problems())
def test_make_windows_matches_loop(problem):
    series, look_back, horizon, target, stride = problem
    X, y = data.make_windows(series, look_back, horizon, target_cols=target, stride=stride)
    s2 = series.reshape(len(series), -1)
    n_rows, f = s2.shape
    cols = list(range(f)) if target is None else ([target % f] if isinstance(target, int) else target)
    ref_X, ref_y = loop_windows(s2, look_back, horizon, cols, stride)
    # count: every window whose targets exist, the last one included
    assert len(X) == len(ref_X) == (n_rows - look_back - horizon) // stride + 1
    assert X.shape == (len(ref_X), look_back, f)
    for i in range(len(X)):
        np.testing.assert_array_equal(X[i], series.reshape(n_rows, f)[i * stride : i * stride + look_back])
        np.testing.assert_array_equal(X[i], ref_X[i])
    # y layout: (n, horizon) for one target, (n, horizon, n_targets) for several
    if len(cols) == 1:
        assert y.shape == (len(X), horizon)
        np.testing.assert_array_equal(y, np.array(ref_y)[:, :, 0])
    else:
        assert y.shape == (len(X), horizon, len(cols))
        np.testing.assert_array_equal(y, np.array(ref_y))
    Xk, yk = data.make_windows(
        series, look_back, horizon, target_cols=target, stride=stride, keep_target_axis=True
    )
    assert yk.shape == (len(X), horizon, len(cols))
    np.testing.assert_array_equal(Xk, X)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10), st.integers(1, 50))
def test_classic_create_dataset_drops_exactly_one_window(look_back, extra):
    n = look_back + extra
    series = np.arange(float(n))
    X, y = data.make_windows(series, look_back)
    Xc, yc = data.classic_create_dataset(series, look_back)
    assert len(X) == n - look_back
    assert len(Xc) == max(n - look_back - 1, 0)
    # it is the *last* window that goes missing; the others agree
    np.testing.assert_array_equal(Xc, X[: len(Xc), :, 0])
    np.testing.assert_array_equal(yc, y[: len(yc), 0])
    assert y[-1, 0] == n - 1  # only make_windows ever predicts the last value
    assert n - 1 not in set(yc.tolist())


def test_hand_computed_30_rows_look_back_5():
    series = np.arange(30 * 7, dtype=np.float32).reshape(30, 7)
    assert data.sliding_windows(series, 5).shape == (26, 5, 7)  # 30 - 5 + 1 windows
    X, y = data.make_windows(series, 5)  # one fewer: the last window has no next row
    assert X.shape == (25, 5, 7) and y.shape == (25, 1, 7)
    assert X.dtype == np.float32
    assert X[0, 0, 0] == 0 and X[0, 4, 6] == 34 and X[24, 4, 6] == 28 * 7 + 6
    np.testing.assert_array_equal(y[24, 0], series[29])
    X1, y1 = data.make_windows(series, 5, target_cols=6)
    assert y1.shape == (25, 1) and y1[0, 0] == 5 * 7 + 6
    Xc, yc = data.classic_create_dataset(series, 5)
    assert Xc.shape == (24, 5) and yc.shape == (24,)  # 2-D, column 0 only, one window short


def test_windows_by_hand_horizon_and_stride():
    X, y = data.make_windows([1, 2, 3, 4, 5, 6], look_back=2, horizon=2, stride=2)
    np.testing.assert_array_equal(X[:, :, 0], [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [[3, 4], [5, 6]])
    assert X.dtype == np.float64  # integers become float64


def test_windows_are_copies():
    series = np.arange(10.0)
    X, y = data.make_windows(series, 3)
    X[0, 0, 0] = 99.0
    y[0, 0] = 99.0
    assert series[0] == 0.0 and series[3] == 3.0


def test_windows_feed_keras_style_dense_head():
    """y of shape (n, horizon) lines up with a Dense(horizon) output computed by hand."""
    X, y = data.make_windows(np.sin(np.arange(50.0)), look_back=6, horizon=3)
    w = np.ones((6, 3))  # a Dense(3) on the flattened window, no bias
    pred = X[:, :, 0] @ w
    assert pred.shape == y.shape == (50 - 6 - 3 + 1, 3)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(series=np.arange(10.0), look_back=0), "look_back must be a positive integer, got 0"),
        (
            dict(series=np.arange(10.0), look_back=2.0),
            r"look_back must be a positive integer, got 2.0 \(float\)",
        ),
        (dict(series=np.arange(10.0), look_back=3, horizon=0), "horizon must be a positive integer, got 0"),
        (dict(series=np.arange(10.0), look_back=3, stride=0), "stride must be a positive integer, got 0"),
        (
            dict(series=np.arange(5.0), look_back=5),
            r"series: expected \(time_steps,\) or \(time_steps, features\) with at least look_back \+ horizon "
            r"= 5 \+ 1 = 6 rows, got shape \(5,\) \(5 rows\)",
        ),
        (
            dict(series=np.zeros((4, 5, 2)), look_back=2),
            r"series: expected \(time_steps,\) or \(time_steps, features\), got shape \(4, 5, 2\): a 3-D array; "
            r"this already looks like \(batch, time_steps, features\) windows",
        ),
        (
            dict(series=3.0, look_back=1),
            r"series: expected \(time_steps,\) or \(time_steps, features\), got a scalar",
        ),
        (dict(series=[1.0, np.nan, 3.0, 4.0], look_back=2), "series contains 1 NaN or infinite value"),
        (dict(series=["a", "b", "c"], look_back=1), "series must hold numbers, got dtype <U1"),
        (dict(series=[[1.0, 2.0], [3.0]], look_back=1), "series must be a numeric array, could not convert"),
        (dict(series=np.zeros((9, 0)), look_back=1), r"got shape \(9, 0\): there are no feature columns"),
        (
            dict(series=np.zeros((9, 2)), look_back=2, target_cols=2),
            r"column 2 does not exist; .* 2 feature column",
        ),
        (dict(series=np.zeros((9, 2)), look_back=2, target_cols=[0, 0]), "target_cols repeats a column"),
        (dict(series=np.zeros((9, 2)), look_back=2, target_cols=[]), "target_cols is empty"),
        (dict(series=np.zeros((9, 2)), look_back=2, target_cols=[0.5]), r"column indices \(ints\), got 0.5"),
    ],
)
def test_make_windows_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.make_windows(**kwargs)


def test_sliding_windows_errors():
    with pytest.raises(ValueError, match=r"at least look_back = 4 rows, got shape \(3,\) \(3 rows\)"):
        data.sliding_windows(np.arange(3.0), 4)
    with pytest.raises(ValueError, match="look_back must be a positive integer"):
        data.classic_create_dataset(np.arange(3.0), -1)


# ---------------------------------------------------------------- stateful batches


@st.composite
def stateful_problems(draw):
    batch_size = draw(st.integers(1, 5))
    seq_len = draw(st.integers(1, 6))
    targets = draw(st.booleans())
    n = draw(st.integers(batch_size * seq_len + int(targets), 80))
    f = draw(st.integers(1, 3))
    return n, f, batch_size, seq_len, targets


@settings(max_examples=150, deadline=None)
@given(stateful_problems())
def test_stateful_batches_continuity(problem):
    n, f, batch_size, seq_len, targets = problem
    # the value of every cell is its row number, so we can read the layout back
    series = np.repeat(np.arange(float(n))[:, None], f, axis=1)
    out = list(data.stateful_batches(series, batch_size, seq_len, targets=targets))
    lay = data.stateful_layout(n, batch_size, seq_len, targets=targets)
    assert len(out) == lay.n_batches >= 1
    xs = [o[0] for o in out] if targets else out
    for xb in xs:
        assert xb.shape == (batch_size, seq_len, f)
    # row j of batch k+1 continues row j of batch k
    for k in range(len(xs) - 1):
        np.testing.assert_array_equal(xs[k + 1][:, 0, 0], xs[k][:, -1, 0] + 1)
    # each stream, read across batches, is one contiguous run of rows, streams back to back
    streams = np.concatenate(xs, axis=1)[:, :, 0]  # (batch_size, n_batches * seq_len)
    for j in range(batch_size):
        start = j * lay.stream_len
        np.testing.assert_array_equal(streams[j], np.arange(start, start + lay.stream_len))
    used = streams.size
    assert used == batch_size * lay.stream_len
    # the dropped rows are exactly the trailing ones that appear nowhere
    shift = int(targets)
    assert lay.dropped_rows == n - used - shift >= 0
    assert lay.dropped_rows < batch_size * seq_len  # never a whole batch's worth
    if targets:
        for xb, yb in out:
            assert yb.shape == (batch_size, seq_len, f)
            np.testing.assert_array_equal(yb, xb + 1)  # next-step targets
        assert max(yb.max() for _, yb in out) == n - 1 - lay.dropped_rows
    np.testing.assert_array_equal(lay.index_grid(), np.stack(xs)[..., 0])


def test_stateful_by_hand():
    lay = data.stateful_layout(23, batch_size=2, seq_len=5)
    assert (lay.n_batches, lay.stream_len, lay.stream_starts, lay.dropped_rows) == (2, 10, (0, 10), 3)
    lay_t = data.stateful_layout(21, batch_size=2, seq_len=5, targets=True)
    assert (lay_t.n_batches, lay_t.dropped_rows) == (2, 0)  # rows 0..19 inputs, row 20 the last target
    X, Y = data.stateful_arrays(np.arange(21.0).reshape(21, 1), 2, 5, targets=True)
    # sample k*batch_size + j = batch k, row j (the order Keras fit(shuffle=False) needs)
    np.testing.assert_array_equal(
        X[:, :, 0], [[0, 1, 2, 3, 4], [10, 11, 12, 13, 14], [5, 6, 7, 8, 9], [15, 16, 17, 18, 19]]
    )
    assert Y[-1, -1, 0] == 20


def test_stateful_target_cols():
    series = np.arange(30.0).reshape(10, 3)
    (xb, yb), *_ = data.stateful_batches(series, 2, 2, targets=True, target_cols=[2])
    assert xb.shape == (2, 2, 3) and yb.shape == (2, 2, 1)
    np.testing.assert_array_equal(yb[:, :, 0], series[[[1, 2], [5, 6]], 2])


@pytest.mark.parametrize("batch_size,seq_len", [(1, 7), (3, 4), (4, 1)])
def test_stateful_torch_lstm_carry_equals_whole_streams(batch_size, seq_len):
    """Running torch.nn.LSTM batch by batch, carrying (h, c), equals running each stream in one go."""
    torch.manual_seed(0)
    f, h = 2, 5
    series = np.random.default_rng(1).normal(size=(61, f)).astype(np.float32)
    lstm = torch.nn.LSTM(f, h, batch_first=True)
    lay = data.stateful_layout(len(series), batch_size, seq_len)
    with torch.no_grad():
        state = None
        outs = []
        for xb in data.stateful_batches(series, batch_size, seq_len):
            out, state = lstm(torch.from_numpy(xb), state)  # carry (h, c) ourselves
            outs.append(out)
        carried = torch.cat(outs, dim=1)  # (batch_size, stream_len, h)
        streams = np.stack([series[s : s + lay.stream_len] for s in lay.stream_starts])
        whole, (h_n, _) = lstm(torch.from_numpy(streams))
        torch.testing.assert_close(carried, whole, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(state[0], h_n, rtol=1e-5, atol=1e-6)
        # the test has teeth: resetting the state every batch gives something else
        reset = torch.cat(
            [lstm(torch.from_numpy(xb))[0] for xb in data.stateful_batches(series, batch_size, seq_len)], 1
        )
        if lay.n_batches > 1:
            assert (reset - whole).abs().max() > 1e-3


def test_stateful_arrays_order_suits_keras_stateful_predict():
    """A stateful keras LSTM fed stateful_arrays with batch_size=B equals a plain LSTM run on whole streams."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    b, s, f, h = 3, 4, 2, 5
    series = np.random.default_rng(2).normal(size=(40, f)).astype(np.float32)
    lay = data.stateful_layout(len(series), b, s)
    X = data.stateful_arrays(series, b, s)  # (n_batches * b, s, f)
    inp = keras.Input(batch_shape=(b, s, f))
    stateful = keras.layers.LSTM(h, stateful=True, return_sequences=True)
    model = keras.Model(inp, stateful(inp))
    out = model.predict(X, batch_size=b, verbose=0)  # the layer carries its state from batch to batch
    plain = keras.layers.LSTM(h, return_sequences=True)
    streams = np.stack([series[st : st + lay.stream_len] for st in lay.stream_starts])
    plain(streams[:, :1])  # build, then copy the weights
    plain.set_weights(stateful.get_weights())
    whole = np.asarray(plain(streams))  # (b, stream_len, h)
    per_stream = out.reshape(lay.n_batches, b, s, h).transpose(1, 0, 2, 3).reshape(b, lay.stream_len, h)
    np.testing.assert_allclose(per_stream, whole, rtol=1e-5, atol=1e-6)


def test_stateful_errors():
    msg = (
        r"series: 10 rows are too few for stateful batches of \(batch_size, seq_len\) = \(2, 5\): "
        r"need at least batch_size \* seq_len \+ 1 \(the last target\) = 11 rows"
    )
    with pytest.raises(ValueError, match=msg):
        data.stateful_batches(np.arange(10.0), 2, 5, targets=True)  # raises at the call, not later
    with pytest.raises(ValueError, match=r"need at least batch_size \* seq_len = 12 rows"):
        data.stateful_arrays(np.arange(10.0), 3, 4)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        data.stateful_layout(10, 0, 4)
    with pytest.raises(ValueError, match="seq_len must be a positive integer, got 1.5"):
        data.stateful_arrays(np.arange(10.0), 1, 1.5)
    with pytest.raises(ValueError, match=r"got shape \(2, 5, 1\): a 3-D array"):
        data.stateful_arrays(np.zeros((2, 5, 1)), 1, 2)
    with pytest.raises(ValueError, match="contains 1 NaN"):
        data.stateful_arrays(np.array([1.0, np.inf, 2.0, 3.0]), 1, 2)


# ---------------------------------------------------------------- airline data


def test_load_airline_matches_csv_read_independently():
    text = resources.files("lstm_ref").joinpath("datasets/airline_passengers.csv").read_text()
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in text.splitlines() if not l.startswith("#")))))
    values, months = data.load_airline(with_months=True)
    assert values.shape == months.shape == (144,)
    assert values.dtype == np.float32 and months.dtype == np.dtype("datetime64[M]")
    np.testing.assert_array_equal(values, [float(r["passengers"]) for r in rows])
    assert [str(m) for m in months] == [r["month"] for r in rows]
    # well-known facts of series G: 112 in January 1949, 432 in December 1960, peak 622 in July 1960
    assert values[0] == 112 and values[-1] == 432
    assert values.max() == 622 and str(months[values.argmax()]) == "1960-07"
    assert np.all(np.diff(months).astype(int) == 1)  # consecutive months, none missing
    np.testing.assert_array_equal(data.load_airline(), values)


# ---------------------------------------------------------------- scaling and splitting


def test_minmax_scaler_by_hand():
    train = np.array([[10.0, -1.0], [20.0, 1.0], [30.0, 3.0]])
    s = data.MinMaxScaler().fit(train)
    np.testing.assert_allclose(s.transform(train), [[0, 0], [0.5, 0.5], [1, 1]])
    # test data outside the training range is not clipped: no peeking at the test period
    np.testing.assert_allclose(s.transform(np.array([[40.0, 5.0]])), [[1.5, 1.5]])
    np.testing.assert_allclose(s.inverse_transform(s.transform(train)), train)
    # a target column alone, any shape (e.g. predictions (n, horizon))
    np.testing.assert_allclose(s.inverse_transform(np.array([[0.0, 0.25]]), column=0), [[10.0, 15.0]])
    np.testing.assert_allclose(s.transform(np.array([2.0]), column=-1), [0.75])
    s2 = data.MinMaxScaler((-1, 1)).fit(np.array([0.0, 4.0]))
    np.testing.assert_allclose(s2.transform(np.array([[0.0, 1.0], [2.0, 4.0]])), [[-1, -0.5], [0, 1]])
    const = data.MinMaxScaler().fit(np.array([5.0, 5.0]))
    np.testing.assert_allclose(const.transform(np.array([5.0, 6.0])), [0.0, 1.0])


def test_minmax_scaler_keeps_float32_and_airline_round_trip():
    values = data.load_airline()
    train, test = data.train_test_split_series(values, 0.33)
    s = data.MinMaxScaler()
    scaled = s.fit_transform(train)
    assert scaled.dtype == np.float32 and scaled.min() == 0 and scaled.max() == 1
    assert s.transform(test).max() > 1  # the test period exceeds the training range
    np.testing.assert_allclose(s.inverse_transform(s.transform(test)), test, rtol=1e-6)


def test_minmax_scaler_errors():
    with pytest.raises(ValueError, match="not fitted yet"):
        data.MinMaxScaler().transform(np.zeros(3))
    with pytest.raises(ValueError, match="low < high"):
        data.MinMaxScaler((1, 1))
    s = data.MinMaxScaler().fit(np.zeros((4, 3)))
    with pytest.raises(
        ValueError, match=r"x: expected \(\.\.\., features\) = \(\.\.\., 3\) as in fit, got shape \(4, 2\)"
    ):
        s.transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="column 3 does not exist"):
        s.inverse_transform(np.zeros(2), column=3)
    with pytest.raises(ValueError, match="got 0 rows"):
        data.MinMaxScaler().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        s.transform(np.array([[0.0, np.nan, 1.0]]))


def test_train_test_split_series():
    series = np.arange(144.0)
    train, test = data.train_test_split_series(series, 0.33)
    assert len(train) == int(144 * 0.67) == 96 and len(test) == 48  # as in the classic tutorial
    np.testing.assert_array_equal(np.concatenate([train, test]), series)  # chronological, nothing shuffled
    train, test = data.train_test_split_series(series.reshape(72, 2), 12, context=5)
    assert train.shape == (60, 2) and test.shape == (17, 2)
    np.testing.assert_array_equal(test[:5], train[-5:])
    # with context = look_back, the test windows predict every test row exactly once
    X, y = data.make_windows(test, look_back=5, target_cols=0)
    np.testing.assert_array_equal(y[:, 0], series.reshape(72, 2)[60:, 0])


@pytest.mark.parametrize(
    "args,match",
    [
        ((np.arange(10.0), 0), "test_size must be a positive integer, got 0"),
        ((np.arange(10.0), 1.0), r"test_size: a fraction must be in \(0, 1\), got 1.0"),
        ((np.arange(10.0), 10), "leaves no training rows"),
        ((5.0, 1), "got a scalar"),
    ],
)
def test_train_test_split_errors(args, match):
    with pytest.raises(ValueError, match=match):
        data.train_test_split_series(*args)
    with pytest.raises(ValueError, match=r"context=8 is more than the 7 training rows"):
        data.train_test_split_series(np.arange(10.0), 3, context=8)


# ---------------------------------------------------------------- baselines and metrics


def test_baselines_by_hand():
    X, y = data.make_windows(np.arange(10.0), look_back=4, horizon=3)
    np.testing.assert_array_equal(data.naive_forecast(X, 3)[0], [3, 3, 3])
    periodic = np.tile([1.0, 5.0, 2.0, 7.0], 10)  # season 4
    X, y = data.make_windows(periodic, look_back=8, horizon=6)
    pred = data.seasonal_naive_forecast(X, season=4, horizon=6)
    assert pred.shape == y.shape
    assert data.rmse(y, pred) == 0.0  # a perfectly seasonal series is forecast exactly
    assert data.mae(y, data.naive_forecast(X, 6)) > 0
    X2, y2 = data.make_windows(np.arange(40.0).reshape(20, 2), look_back=3, target_cols=1)
    np.testing.assert_array_equal(data.naive_forecast(X2, target_col=1)[:, 0], X2[:, -1, 1])


def test_metrics_by_hand_and_no_broadcasting():
    assert data.rmse([0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, -1.0]) == 1.0
    assert data.mae([[1.0, 2.0]], [[2.0, 4.0]]) == 1.5
    with pytest.raises(ValueError, match=r"y_pred: expected the shape of y_true \(3, 1\), got shape \(3,\)"):
        data.rmse(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(ValueError, match="y_true is empty"):
        data.mae([], [])


def test_baseline_errors():
    X = np.zeros((5, 3, 1))
    with pytest.raises(ValueError, match=r"time_steps >= season = 12, got shape \(5, 3, 1\)"):
        data.seasonal_naive_forecast(X, season=12)
    with pytest.raises(
        ValueError,
        match=r"X: expected \(batch, time_steps, features\) = \(\?, \?, \?\), got shape \(5, 3\): "
        r"the time_steps axis \(axis 1\) is missing.*make_windows",
    ):
        data.naive_forecast(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="column 1 does not exist"):
        data.naive_forecast(X, target_col=1)


# ---- seasonal_trend_forecast: forecasts worked out by hand, and the series it must reproduce exactly
def test_hand_computed_multiplicative_and_additive():
    # season 4; last season 8, 12, 16, 20; growth over the last season 20 / 10 = 2, change +10
    X = np.array([[10.0, 4, 6, 8, 10, 8, 12, 16, 20]]).reshape(1, 9, 1)
    mult = data.seasonal_trend_forecast(X, season=4, horizon=6)
    np.testing.assert_allclose(mult, [[16.0, 24, 32, 40, 8 * 2**2, 12 * 2**2]])  # k = 2 after a season
    add = data.seasonal_trend_forecast(X, season=4, horizon=6, multiplicative=False)
    np.testing.assert_allclose(add, [[18.0, 22, 26, 30, 28, 32]])


def test_reproduces_a_series_that_grows_by_a_constant_factor():
    season, years = 12, 5
    pattern = 100 + 20 * np.sin(np.arange(season) / season * 2 * np.pi)  # (12,)
    series = np.concatenate([pattern * 1.1**y for y in range(years)])  # (60,)
    X, y = data.make_windows(series, look_back=season + 1, horizon=18)
    np.testing.assert_allclose(data.seasonal_trend_forecast(X, season, horizon=18), y, rtol=1e-12)


def test_reproduces_a_series_that_grows_by_a_constant_amount():
    season = 3
    series = np.tile([1.0, 5.0, 2.0], 6) + np.repeat(np.arange(6) * 7.0, season)  # +7 per season
    X, y = data.make_windows(series, look_back=4, horizon=5)
    pred = data.seasonal_trend_forecast(X, season, horizon=5, multiplicative=False)
    np.testing.assert_allclose(pred, y)


def test_target_column_and_shape():
    X = np.stack([np.arange(1.0, 14.0), np.full(13, -1.0)], axis=1)[None]  # (1, 13, 2)
    pred = data.seasonal_trend_forecast(X, season=12, horizon=2, target_col=0)
    assert pred.shape == (1, 2)
    np.testing.assert_allclose(pred, [[2.0 * 13 / 1, 3.0 * 13 / 1]])  # last year's 2, 3 times 13 / 1


def test_needs_one_step_more_than_a_season():
    with pytest.raises(ValueError, match=r"time_steps >= season \+ 1 = 13"):
        data.seasonal_trend_forecast(np.ones((2, 12, 1)), season=12)
