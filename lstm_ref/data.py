"""Turn a time series into the arrays an LSTM wants, and load the shipped data.

A series is ``(N,)`` (one variable) or ``(N, F)`` (``F`` variables, rows in time
order). An LSTM wants ``(batch, time_steps, features)``. This module cuts the
series into those cubes, two ways:

- :func:`make_windows`: overlapping windows for an ordinary (stateless) model.
  ``X[i] = series[i : i + look_back]``; there are exactly
  ``N - look_back - horizon + 1`` of them. :func:`classic_create_dataset`
  reproduces the popular tutorial loop that silently drops the last one.
- :func:`stateful_batches` / :func:`stateful_arrays`: batches for a *stateful*
  model, where row ``j`` of batch ``k + 1`` continues row ``j`` of batch ``k``.
  :func:`stateful_layout` says which series rows go where (and what is dropped).

It also ships the airline-passengers series (:func:`load_airline`), a NumPy-only
:class:`MinMaxScaler`, a chronological :func:`train_test_split_series`, and the
naive baselines every forecast should beat. Nothing here imports torch or
TensorFlow, and nothing downloads.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from lstm_ref._checks import as_float_array, check_int

SERIES = "(time_steps,) or (time_steps, features)"

__all__ = [
    "sliding_windows",
    "make_windows",
    "classic_create_dataset",
    "StatefulLayout",
    "stateful_layout",
    "stateful_arrays",
    "stateful_batches",
    "load_airline",
    "MinMaxScaler",
    "train_test_split_series",
    "naive_forecast",
    "seasonal_naive_forecast",
    "rmse",
    "mae",
]


def _as_series(series, name: str = "series") -> np.ndarray:
    """Return ``series`` as a float array of shape ``(N, F)`` (a 1-D series gets ``F = 1``)."""
    arr = as_float_array(series, name)
    if arr.ndim == 1:
        return arr[:, None]
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise ValueError(
                f"{name}: expected {SERIES}, got shape {arr.shape}: there are no feature columns"
            )
        return arr
    if arr.ndim == 0:
        raise ValueError(f"{name}: expected {SERIES}, got a scalar ({arr!r}); a series needs a time axis")
    hint = ""
    if arr.ndim == 3:
        hint = (
            "; this already looks like (batch, time_steps, features) windows; "
            "pass the raw series (rows in time order) instead"
        )
    raise ValueError(f"{name}: expected {SERIES}, got shape {arr.shape}: a {arr.ndim}-D array{hint}")


def _target_index(target_cols, n_features: int) -> list[int]:
    """Validate ``target_cols`` (None, an int or a sequence of ints) against ``n_features``."""
    if target_cols is None:
        return list(range(n_features))
    cols = [target_cols] if np.ndim(target_cols) == 0 else list(target_cols)
    if not cols:
        raise ValueError("target_cols is empty; give at least one column index, or None for all columns")
    for c in cols:
        if isinstance(c, bool) or not isinstance(c, int | np.integer):
            raise ValueError(f"target_cols must hold column indices (ints), got {c!r}")
        if not -n_features <= c < n_features:
            raise ValueError(
                f"target_cols: column {c} does not exist; the series has {n_features} feature column(s) "
                f"(valid indices 0..{n_features - 1})"
            )
    cols = [int(c) % n_features for c in cols]
    if len(set(cols)) != len(cols):
        raise ValueError(f"target_cols repeats a column: {list(target_cols)}")
    return cols


def sliding_windows(series, look_back: int, *, stride: int = 1) -> np.ndarray:
    """Every window of ``look_back`` consecutive rows, with no targets.

    Use it when the target is not a future value of the series (for example a
    label per window) or to count windows: ``N`` rows give
    ``(N - look_back) // stride + 1`` windows, so 30 rows with ``look_back=5``
    give 26. :func:`make_windows` gives ``horizon`` fewer, because the last
    windows have no future values to predict.

    Args:
        series: shape ``(N,)`` or ``(N, F)``, rows in time order.
        look_back: time steps per window (``>= 1``).
        stride: distance in rows between the starts of consecutive windows.

    Returns:
        ``X`` of shape ``(n, look_back, F)`` with ``X[i] = series[i*stride : i*stride + look_back]``.

    >>> X = sliding_windows(np.zeros((30, 7)), look_back=5)
    >>> X.shape                                   # 26 windows x 5 time steps x 7 features
    (26, 5, 7)
    """
    look_back = check_int(look_back, "look_back", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    data = _as_series(series)
    if len(data) < look_back:
        raise ValueError(
            f"series: expected {SERIES} with at least look_back = {look_back} rows, "
            f"got shape {np.shape(series)} ({len(data)} rows); use a smaller look_back or a longer series"
        )
    starts = np.arange((len(data) - look_back) // stride + 1)[:, None] * stride  # (n, 1)
    return data[starts + np.arange(look_back)]  # (n, look_back, F)


def make_windows(
    series,
    look_back: int,
    horizon: int = 1,
    *,
    target_cols: int | Sequence[int] | None = None,
    stride: int = 1,
    keep_target_axis: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a series into input windows ``X`` and the values that follow them, ``y``.

    Args:
        series: shape ``(N,)`` or ``(N, F)``, rows in time order. Numbers only, no NaN.
        look_back: time steps per window (``>= 1``).
        horizon: how many future steps each window must predict (``>= 1``).
        target_cols: which columns ``y`` holds: an int, a sequence of ints, or
            ``None`` for every column. ``X`` always holds all ``F`` columns.
        stride: distance in rows between the starts of consecutive windows.
        keep_target_axis: keep the target axis of ``y`` even with one target.

    Returns:
        ``X`` of shape ``(n, look_back, F)`` with ``X[i] = series[i*stride : i*stride + look_back]``
        (a 1-D series gives ``F = 1``), and ``y`` with
        ``y[i, h] = series[i*stride + look_back + h, target_cols]``:

        - shape ``(n, horizon)`` when there is one target column (a 1-D series,
          or ``target_cols`` naming one column): exactly what a ``Dense(horizon)``
          head outputs, so ``model.fit(X, y)`` needs no reshape;
        - shape ``(n, horizon, n_targets)`` with several targets, or with
          ``keep_target_axis=True``.

        ``n = (N - look_back - horizon) // stride + 1``; with ``stride=1`` that is
        ``N - look_back - horizon + 1``: every window whose targets exist, the
        last one included (compare :func:`classic_create_dataset`).

    The dtype follows :func:`lstm_ref._checks.as_float_array`: float32 stays
    float32, integers become float64. The arrays are copies, never views.

    >>> series = np.arange(30.0).reshape(30, 1)   # 30 rows, 1 feature
    >>> X, y = make_windows(series, look_back=5)
    >>> X.shape, y.shape                          # 30 - 5 - 1 + 1 = 25 windows
    ((25, 5, 1), (25, 1))
    >>> X[-1, :, 0], y[-1]                        # the last window is kept
    (array([24., 25., 26., 27., 28.]), array([29.]))
    >>> X, y = make_windows(np.arange(30.0).reshape(10, 3), look_back=4, horizon=2, target_cols=0)
    >>> X.shape, y.shape
    ((5, 4, 3), (5, 2))
    """
    look_back = check_int(look_back, "look_back", minimum=1)
    horizon = check_int(horizon, "horizon", minimum=1)
    stride = check_int(stride, "stride", minimum=1)
    data = _as_series(series)
    n_rows, n_features = data.shape
    cols = _target_index(target_cols, n_features)
    need = look_back + horizon
    if n_rows < need:
        raise ValueError(
            f"series: expected {SERIES} with at least look_back + horizon = {look_back} + {horizon} = "
            f"{need} rows, got shape {np.shape(series)} ({n_rows} rows); "
            f"use a smaller look_back or a longer series"
        )
    X = sliding_windows(data[: n_rows - horizon], look_back, stride=stride)  # (n, look_back, F)
    starts = np.arange(len(X))[:, None] * stride  # (n, 1)
    y = data[starts + look_back + np.arange(horizon)][:, :, cols]  # (n, horizon, n_targets)
    if len(cols) == 1 and not keep_target_axis:
        y = y[:, :, 0]  # (n, horizon)
    return X, y


def classic_create_dataset(series, look_back: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The popular tutorial's ``create_dataset``, bug included: it drops the last window.

    This is a **buggy reference**, kept so the course can show the bug. It
    loops over ``range(len(series) - look_back - 1)``, so it returns
    ``N - look_back - 1`` windows where ``N - look_back`` exist. Like the
    original it uses column 0 only and returns 2-D ``X``, which still needs a
    reshape to ``(n, look_back, 1)`` before an LSTM accepts it. Use
    :func:`make_windows` instead.

    Args:
        series: shape ``(N,)`` or ``(N, F)``; only column 0 is used.
        look_back: window length.

    Returns:
        ``X`` of shape ``(N - look_back - 1, look_back)`` and ``y`` of shape
        ``(N - look_back - 1,)``.

    >>> X, y = classic_create_dataset(np.arange(30.0), look_back=5)
    >>> X.shape, y.shape                  # one window fewer than make_windows
    ((24, 5), (24,))
    >>> float(y[-1])                      # 29.0, the last value, is never a target
    28.0
    """
    look_back = check_int(look_back, "look_back", minimum=1)
    dataset = _as_series(series)
    data_x, data_y = [], []
    for i in range(len(dataset) - look_back - 1):  # the off-by-one: should be range(N - look_back)
        data_x.append(dataset[i : i + look_back, 0])
        data_y.append(dataset[i + look_back, 0])
    return np.array(data_x).reshape(-1, look_back), np.array(data_y)


@dataclass(frozen=True)
class StatefulLayout:
    """Where each series row goes in stateful batches (see :func:`stateful_layout`).

    The first ``batch_size * stream_len`` input rows are split into
    ``batch_size`` back-to-back streams; stream ``j`` starts at series row
    ``stream_starts[j] = j * stream_len``. Batch ``k``, row ``j`` holds input
    rows ``stream_starts[j] + k * seq_len`` up to (not including)
    ``stream_starts[j] + (k + 1) * seq_len``; with targets, the target of input
    row ``r`` is row ``r + 1``. The last ``dropped_rows`` rows of the series
    appear in no batch.

    >>> lay = stateful_layout(12, batch_size=2, seq_len=3)
    >>> lay.stream_starts, lay.n_batches, lay.dropped_rows
    ((0, 6), 2, 0)
    """

    n_rows: int
    batch_size: int
    seq_len: int
    targets: bool
    n_batches: int
    stream_len: int
    stream_starts: tuple[int, ...]
    dropped_rows: int

    def index_grid(self) -> np.ndarray:
        """Series row of every input step, shape ``(n_batches, batch_size, seq_len)``.

        >>> stateful_layout(10, batch_size=2, seq_len=2).index_grid()[1]
        array([[2, 3],
               [6, 7]])
        """
        k = np.arange(self.n_batches)[:, None, None] * self.seq_len
        j = np.asarray(self.stream_starts)[None, :, None]
        t = np.arange(self.seq_len)[None, None, :]
        return j + k + t


def stateful_layout(n_rows: int, batch_size: int, seq_len: int, *, targets: bool = False) -> StatefulLayout:
    """Plan stateful batches for a series of ``n_rows`` rows, without touching the data.

    ``n_batches = (n_rows - shift) // (batch_size * seq_len)`` where ``shift``
    is 1 with ``targets`` (each input row needs the next row as its target) and
    0 without; each stream is ``stream_len = n_batches * seq_len`` rows long.
    Everything after the last stream is dropped: ``dropped_rows = n_rows -
    batch_size * stream_len - shift`` rows at the end of the series.

    Args:
        n_rows: length ``N`` of the series.
        batch_size: number of parallel streams (rows per batch).
        seq_len: time steps per batch.
        targets: plan for next-step targets as well.

    >>> lay = stateful_layout(23, batch_size=2, seq_len=5)
    >>> lay.n_batches, lay.stream_len, lay.stream_starts, lay.dropped_rows
    (2, 10, (0, 10), 3)
    """
    n_rows = check_int(n_rows, "n_rows", minimum=0)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    seq_len = check_int(seq_len, "seq_len", minimum=1)
    shift = int(bool(targets))
    n_batches = (n_rows - shift) // (batch_size * seq_len) if n_rows > shift else 0
    if n_batches == 0:
        need = batch_size * seq_len + shift
        plus = " + 1 (the last target)" if targets else ""
        raise ValueError(
            f"series: {n_rows} rows are too few for stateful batches of (batch_size, seq_len) = "
            f"({batch_size}, {seq_len}): need at least batch_size * seq_len{plus} = {need} rows"
        )
    stream_len = n_batches * seq_len
    return StatefulLayout(
        n_rows=n_rows,
        batch_size=batch_size,
        seq_len=seq_len,
        targets=bool(targets),
        n_batches=n_batches,
        stream_len=stream_len,
        stream_starts=tuple(j * stream_len for j in range(batch_size)),
        dropped_rows=n_rows - batch_size * stream_len - shift,
    )


def stateful_arrays(
    series,
    batch_size: int,
    seq_len: int,
    *,
    targets: bool = False,
    target_cols: int | Sequence[int] | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """All stateful batches stacked into one array, in the order ``fit`` must see them.

    Sample ``k * batch_size + j`` is row ``j`` of batch ``k``, so Keras
    ``model.fit(X, Y, batch_size=batch_size, shuffle=False)`` on a stateful
    model feeds each stream to the same batch row every time.

    Args:
        series: shape ``(N,)`` or ``(N, F)``.
        batch_size, seq_len: see :func:`stateful_layout`.
        targets: also return next-step targets.
        target_cols: target columns (an int, ints, or None for all).

    Returns:
        ``X`` of shape ``(n_batches * batch_size, seq_len, F)``; with ``targets``
        also ``Y`` of shape ``(n_batches * batch_size, seq_len, n_targets)`` (always 3-D: the
        output of ``LSTM(..., return_sequences=True)`` followed by ``Dense(n_targets)``), where ``Y[s, t] = series[row + 1, target_cols]`` for the input row ``row`` at ``X[s, t]``.

    >>> X, Y = stateful_arrays(np.arange(11.0), batch_size=2, seq_len=5, targets=True)
    >>> X[:, :, 0]
    array([[0., 1., 2., 3., 4.],
           [5., 6., 7., 8., 9.]])
    >>> Y[:, :, 0]
    array([[ 1.,  2.,  3.,  4.,  5.],
           [ 6.,  7.,  8.,  9., 10.]])
    """
    data = _as_series(series)
    cols = _target_index(target_cols, data.shape[1])
    lay = stateful_layout(len(data), batch_size, seq_len, targets=targets)
    idx = lay.index_grid().reshape(-1, seq_len)  # (n_batches * batch_size, seq_len)
    X = data[idx]
    if not targets:
        return X
    return X, data[idx + 1][:, :, cols]


def stateful_batches(
    series,
    batch_size: int,
    seq_len: int,
    *,
    targets: bool = False,
    target_cols: int | Sequence[int] | None = None,
) -> Iterator[np.ndarray] | Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield batches for a stateful LSTM: row ``j`` of batch ``k + 1`` continues row ``j`` of batch ``k``.

    The series is split into ``batch_size`` contiguous streams that are walked
    ``seq_len`` steps at a time (:func:`stateful_layout` gives the exact rows
    and how many trailing rows are dropped). Carry the state from one batch to
    the next and reset it only after the last batch.

    Args:
        series: shape ``(N,)`` or ``(N, F)``.
        batch_size: number of streams = rows per batch.
        seq_len: time steps per batch.
        targets: yield ``(X, Y)`` pairs with next-step targets instead of ``X`` alone.
        target_cols: target columns (an int, ints, or None for all).

    Yields:
        ``X`` of shape ``(batch_size, seq_len, F)``, or with ``targets`` the pair
        ``(X, Y)`` with ``Y`` of shape ``(batch_size, seq_len, n_targets)``.

    >>> batches = list(stateful_batches(np.arange(12.0), batch_size=2, seq_len=3))
    >>> len(batches), batches[0].shape
    (2, (2, 3, 1))
    >>> batches[0][:, :, 0], batches[1][:, :, 0]
    (array([[0., 1., 2.],
           [6., 7., 8.]]), array([[ 3.,  4.,  5.],
           [ 9., 10., 11.]]))
    """
    # Build (and so validate) eagerly: a bad argument raises here, not at the first next().
    out = stateful_arrays(series, batch_size, seq_len, targets=targets, target_cols=target_cols)
    X, Y = out if targets else (out, None)
    slices = [slice(k, k + batch_size) for k in range(0, len(X), batch_size)]
    return iter([(X[sl], Y[sl]) for sl in slices] if targets else [X[sl] for sl in slices])


def load_airline(*, with_months: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """The monthly international airline passengers, in thousands, January 1949 to December 1960.

    Box, Jenkins and Reinsel (1976), series G. Read from the CSV shipped inside
    the package (``lstm_ref/datasets/airline_passengers.csv``); nothing downloads.

    Returns:
        ``values`` of shape ``(144,)``, float32; with ``with_months=True`` also
        ``months`` of shape ``(144,)``, dtype ``datetime64[M]`` (matplotlib plots
        it directly; ``pandas.PeriodIndex(months, freq="M")`` if you prefer pandas).

    >>> values, months = load_airline(with_months=True)
    >>> values.shape, values.dtype, float(values[0]), float(values[-1])
    ((144,), dtype('float32'), 112.0, 432.0)
    >>> months[0], months[-1]
    (np.datetime64('1949-01'), np.datetime64('1960-12'))
    """
    text = resources.files("lstm_ref").joinpath("datasets", "airline_passengers.csv").read_text("utf-8")
    rows = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    if header.strip() != "month,passengers":
        raise ValueError(f"airline_passengers.csv: unexpected header {header!r}")
    months = np.array([r.split(",")[0] for r in body], dtype="datetime64[M]")
    values = np.array([float(r.split(",")[1]) for r in body], dtype=np.float32)
    return (values, months) if with_months else values


class MinMaxScaler:
    """Scale each column to ``feature_range`` using the minimum and maximum of the *training* data.

    Fit on the training part only, then transform both parts: fitting on the
    whole series leaks the test period's range into training. A constant
    column is mapped to the lower end of the range (its range counts as 1).

    Shapes: :meth:`fit` takes ``(N,)`` or ``(N, F)``. :meth:`transform` and
    :meth:`inverse_transform` take any array whose last axis is ``F`` (for
    ``F = 1``, any shape at all, e.g. ``y`` of shape ``(n, horizon)``), and
    return the same shape. ``column=c`` applies column ``c``'s scaling to the
    whole array, to undo the scaling of a target column alone.

    >>> scaler = MinMaxScaler().fit(np.array([10.0, 20.0, 30.0]))
    >>> scaler.transform(np.array([10.0, 25.0]))
    array([0.  , 0.75])
    >>> scaler.inverse_transform(np.array([[0.5, 1.0]]))
    array([[20., 30.]])
    """

    def __init__(self, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        lo, hi = (float(v) for v in feature_range)
        if not lo < hi:
            raise ValueError(f"feature_range must be (low, high) with low < high, got {feature_range}")
        self.feature_range = (lo, hi)
        self.data_min_: np.ndarray | None = None
        self.data_max_: np.ndarray | None = None

    def fit(self, series) -> MinMaxScaler:
        """Learn per-column min and max from ``series`` of shape ``(N,)`` or ``(N, F)``; returns self.

        >>> MinMaxScaler().fit(np.array([[1.0, 5.0], [3.0, 9.0]])).data_max_
        array([3., 9.])
        """
        data = _as_series(series)
        if len(data) == 0:
            raise ValueError("series: expected (time_steps,) or (time_steps, features), got 0 rows")
        self.data_min_ = data.min(axis=0).astype(np.float64)
        self.data_max_ = data.max(axis=0).astype(np.float64)
        return self

    def _params(self, x: np.ndarray, column: int | None) -> tuple[np.ndarray, np.ndarray]:
        if self.data_min_ is None:
            raise ValueError("this MinMaxScaler is not fitted yet; call fit(train) first")
        n_features = len(self.data_min_)
        rng = self.data_max_ - self.data_min_
        rng = np.where(rng == 0, 1.0, rng)
        if column is not None:
            c = _target_index(column, n_features)[0]
            return self.data_min_[c], rng[c]
        if n_features > 1 and (x.ndim == 0 or x.shape[-1] != n_features):
            raise ValueError(
                f"x: expected (..., features) = (..., {n_features}) as in fit, got shape {x.shape}; "
                f"to scale one column use column=<index>"
            )
        return self.data_min_, rng

    def transform(self, x, column: int | None = None) -> np.ndarray:
        """Scale ``x`` (shape ``(..., F)``, or any shape when ``F = 1`` or ``column`` is given).

        >>> MinMaxScaler((-1, 1)).fit(np.array([0.0, 4.0])).transform(np.array([2.0]))
        array([0.])
        """
        arr = as_float_array(x, "x")
        lo, hi = self.feature_range
        data_min, rng = self._params(arr, column)
        return ((arr - data_min) / rng * (hi - lo) + lo).astype(arr.dtype)

    def inverse_transform(self, x, column: int | None = None) -> np.ndarray:
        """Undo :meth:`transform`; same shapes.

        >>> s = MinMaxScaler().fit(np.array([[0.0, 100.0], [10.0, 300.0]]))
        >>> s.inverse_transform(np.array([0.5, 1.0]), column=1)
        array([200., 300.])
        """
        arr = as_float_array(x, "x")
        lo, hi = self.feature_range
        data_min, rng = self._params(arr, column)
        return ((arr - lo) / (hi - lo) * rng + data_min).astype(arr.dtype)

    def fit_transform(self, series) -> np.ndarray:
        """``fit(series)`` then ``transform(series)``; shape ``(N,)`` or ``(N, F)``.

        >>> MinMaxScaler().fit_transform(np.array([2.0, 4.0, 6.0]))
        array([0. , 0.5, 1. ])
        """
        return self.fit(series).transform(series)


def train_test_split_series(
    series, test_size: int | float, *, context: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split a series chronologically: the first rows train, the last ``test_size`` rows test. No shuffling.

    Args:
        series: shape ``(N,)`` or ``(N, F)``, or anything with a first axis of time.
        test_size: a number of rows (int ``>= 1``) or a fraction in ``(0, 1)``;
            a fraction is rounded up, ``ceil(test_size * N)``.
        context: also prepend the last ``context`` training rows to the test
            part, so that windows of ``look_back = context`` can predict the very
            first test row (``make_windows(test, context)`` then yields one
            target per test row).

    Returns:
        ``(train, test)`` with shapes ``(N - n_test, ...)`` and ``(context + n_test, ...)``.

    >>> train, test = train_test_split_series(np.arange(144.0), test_size=0.33)
    >>> train.shape, test.shape, float(test[0])
    ((96,), (48,), 96.0)
    >>> _, test = train_test_split_series(np.arange(10.0), test_size=3, context=2)
    >>> test
    array([5., 6., 7., 8., 9.])
    """
    data = as_float_array(series, "series")
    if data.ndim == 0:
        raise ValueError(f"series: expected {SERIES}, got a scalar")
    n = len(data)
    if isinstance(test_size, float | np.floating):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size: a fraction must be in (0, 1), got {test_size}")
        n_test = math.ceil(test_size * n)
    else:
        n_test = check_int(test_size, "test_size", minimum=1)
    context = check_int(context, "context", minimum=0)
    cut = n - n_test
    if cut < 1:
        raise ValueError(f"series has {n} rows: a test part of {n_test} rows leaves no training rows")
    if context > cut:
        raise ValueError(f"context={context} is more than the {cut} training rows; use context <= {cut}")
    return data[:cut].copy(), data[cut - context :].copy()


def naive_forecast(X, horizon: int = 1, target_col: int = 0) -> np.ndarray:
    """Persistence baseline: predict the last value of each window for every future step.

    Args:
        X: windows of shape ``(n, look_back, F)`` (as from :func:`make_windows`).
        horizon: number of future steps.
        target_col: column of ``X`` to forecast.

    Returns:
        Shape ``(n, horizon)``, the layout of single-target ``y`` from :func:`make_windows`.

    >>> X, y = make_windows(np.arange(8.0), look_back=3, horizon=2)
    >>> naive_forecast(X, horizon=2)[:2]
    array([[2., 2.],
           [3., 3.]])
    """
    X = _as_windows(X)
    horizon = check_int(horizon, "horizon", minimum=1)
    col = _target_index(target_col, X.shape[2])[0]
    return np.repeat(X[:, -1:, col], horizon, axis=1)


def seasonal_naive_forecast(X, season: int, horizon: int = 1, target_col: int = 0) -> np.ndarray:
    """Seasonal baseline: predict the value one season earlier (``season=12`` for monthly data).

    ``y_hat[i, h] = X[i, look_back - season + (h % season), target_col]``;
    needs ``look_back >= season``.

    Args:
        X: windows of shape ``(n, look_back, F)``.
        season: season length in time steps.
        horizon: number of future steps.
        target_col: column of ``X`` to forecast.

    Returns:
        Shape ``(n, horizon)``.

    >>> X, y = make_windows(np.array([1.0, 2, 3, 1, 2, 3, 1, 2]), look_back=3, horizon=2)
    >>> seasonal_naive_forecast(X, season=3, horizon=2)[0], y[0]
    (array([1., 2.]), array([1., 2.]))
    """
    X = _as_windows(X)
    season = check_int(season, "season", minimum=1)
    horizon = check_int(horizon, "horizon", minimum=1)
    look_back = X.shape[1]
    if look_back < season:
        raise ValueError(
            f"X: expected (batch, time_steps, features) with time_steps >= season = {season}, "
            f"got shape {X.shape}: use make_windows(series, look_back={season}) or more"
        )
    col = _target_index(target_col, X.shape[2])[0]
    steps = look_back - season + np.arange(horizon) % season
    return X[:, steps, col]


def _as_windows(X) -> np.ndarray:
    arr = as_float_array(X, "X")
    if arr.ndim != 3:
        raise ValueError(
            f"X: expected (batch, time_steps, features), got shape {arr.shape}: a {arr.ndim}-D array; "
            "make windows with make_windows(series, look_back)"
        )
    return arr


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array(y_true, "y_true")
    b = as_float_array(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(
            f"y_pred: expected the shape of y_true {a.shape}, got shape {b.shape}; "
            "shapes must match exactly (nothing is broadcast: (n, 1) against (n,) would compare "
            "every prediction with every target)"
        )
    if a.size == 0:
        raise ValueError("y_true is empty")
    return a, b


def rmse(y_true, y_pred) -> float:
    """Root mean squared error of two arrays of the *same* shape (any shape; nothing is broadcast).

    >>> rmse(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    1.4142135623730951
    """
    a, b = _check_pair(y_true, y_pred)
    return float(np.sqrt(np.mean((a.astype(np.float64) - b) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error of two arrays of the *same* shape (any shape; nothing is broadcast).

    >>> mae(np.array([1.0, 2.0]), np.array([1.0, 4.0]))
    1.0
    """
    a, b = _check_pair(y_true, y_pred)
    return float(np.mean(np.abs(a.astype(np.float64) - b)))
