"""The shipped data and the forecasting basics: scale, split in time, beat the naive baselines.

- :func:`load_airline`: the airline-passengers series, read from the package (nothing downloads);
- :class:`MinMaxScaler`: a NumPy-only scaler fitted on the training part;
- :func:`train_test_split_series`: a chronological split, never shuffled;
- :func:`naive_forecast`, :func:`seasonal_naive_forecast`: the baselines every forecast should beat;
- :func:`seasonal_trend_forecast`: the stronger one for a growing seasonal series (last season's
  value, scaled or shifted by the change over the last season);
- :func:`rmse`, :func:`mae`: errors of two arrays of the same shape (nothing is broadcast).
"""

from __future__ import annotations

import math
from importlib import resources

import numpy as np

from lstm_ref._checks import as_float_array, check_int, check_shape
from lstm_ref.data.windows import _as_series, _series, _target_index, make_windows  # noqa: F401 (doctests)
from lstm_ref.diagnose import BTF
from lstm_ref.i18n import _

__all__ = [
    "MinMaxScaler",
    "load_airline",
    "mae",
    "naive_forecast",
    "rmse",
    "seasonal_naive_forecast",
    "seasonal_trend_forecast",
    "train_test_split_series",
]


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
            msg = _("feature_range must be (low, high) with low < high, got {value}")
            raise ValueError(msg.format(value=feature_range))
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
            raise ValueError(_("series: expected {series}, got 0 rows").format(series=_series()))
        self.data_min_ = data.min(axis=0).astype(np.float64)
        self.data_max_ = data.max(axis=0).astype(np.float64)
        return self

    def _params(self, x: np.ndarray, column: int | None) -> tuple[np.ndarray, np.ndarray]:
        if self.data_min_ is None:
            raise ValueError(_("this MinMaxScaler is not fitted yet; call fit(train) first"))
        n_features = len(self.data_min_)
        rng = self.data_max_ - self.data_min_
        rng = np.where(rng == 0, 1.0, rng)
        if column is not None:
            c = _target_index(column, n_features)[0]
            return self.data_min_[c], rng[c]
        if n_features > 1 and (x.ndim == 0 or x.shape[-1] != n_features):
            msg = _(
                "x: expected (..., features) = (..., {n}) as in fit, got shape {shape}; "
                "to scale one column use column=<index>"
            )
            raise ValueError(msg.format(n=n_features, shape=x.shape))
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
        raise ValueError(_("series: expected {series}, got a scalar").format(series=_series()))
    n = len(data)
    if isinstance(test_size, float | np.floating):
        if not 0.0 < test_size < 1.0:
            raise ValueError(
                _("test_size: a fraction must be in (0, 1), got {value}").format(value=test_size)
            )
        n_test = math.ceil(test_size * n)
    else:
        n_test = check_int(test_size, "test_size", minimum=1)
    context = check_int(context, "context", minimum=0)
    cut = n - n_test
    if cut < 1:
        msg = _("series has {n} rows: a test part of {n_test} rows leaves no training rows")
        raise ValueError(msg.format(n=n, n_test=n_test))
    if context > cut:
        msg = _("context={context} is more than the {cut} training rows; use context <= {cut}")
        raise ValueError(msg.format(context=context, cut=cut))
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
        msg = _(
            "X: expected (batch, time_steps, features) with time_steps >= season = {season}, "
            "got shape {shape}: use make_windows(series, look_back={season}) or more"
        )
        raise ValueError(msg.format(season=season, shape=X.shape))
    col = _target_index(target_col, X.shape[2])[0]
    steps = look_back - season + np.arange(horizon) % season
    return X[:, steps, col]


def seasonal_trend_forecast(
    X, season: int, horizon: int = 1, target_col: int = 0, *, multiplicative: bool = True
) -> np.ndarray:
    """Seasonal naive with trend: last season's value times (or plus) the change over the last season.

    With ``L = look_back`` and the last season's change measured at the window's end,
    ``g = X[i, L-1] / X[i, L-1-season]`` (``multiplicative``) or ``d = X[i, L-1] - X[i, L-1-season]``:

    ``y_hat[i, h] = X[i, L - season + (h % season)] * g ** k`` or ``... + k * d``, with ``k = h // season + 1``.

    For monthly data (``season=12``): next March = last March times this year's growth, the
    growth being this month over the same month a year earlier. Needs ``look_back >= season + 1``.

    Args:
        X: windows of shape ``(n, look_back, F)``.
        season: season length in time steps.
        horizon: number of future steps.
        target_col: column of ``X`` to forecast.
        multiplicative: growth ratio (for a series whose swings grow with its level) or difference.

    Returns:
        Shape ``(n, horizon)``.

    >>> X = np.array([10.0, 20, 30, 12, 24, 36, 14.4]).reshape(1, 7, 1)  # 3 months a year, +20 %/year
    >>> seasonal_trend_forecast(X, season=3, horizon=2)  # last year's 24, 36 times 14.4 / 12
    array([[28.8, 43.2]])
    >>> seasonal_trend_forecast(X, season=3, horizon=2, multiplicative=False)  # plus 14.4 - 12
    array([[26.4, 38.4]])
    """
    X = _as_windows(X)
    season = check_int(season, "season", minimum=1)
    if X.shape[1] < season + 1:
        msg = _(
            "X: expected (batch, time_steps, features) with time_steps >= season + 1 = {n} "
            "(the change over the last season needs one more step), got shape {shape}"
        )
        raise ValueError(msg.format(n=season + 1, shape=X.shape))
    base = seasonal_naive_forecast(X, season, horizon, target_col)  # (n, horizon)
    col = _target_index(target_col, X.shape[2])[0]
    last, year_before = X[:, -1:, col], X[:, -1 - season : -season, col]  # (n, 1) each
    k = np.arange(horizon) // season + 1  # (horizon,): how many seasons ahead
    if multiplicative:
        return base * (last / year_before) ** k
    return base + k * (last - year_before)


def _as_windows(X) -> np.ndarray:
    arr = as_float_array(X, "X")
    check_shape(arr.shape, BTF, {}, "X")  # 3-D windows, as from make_windows
    return arr


def _check_pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    a = as_float_array(y_true, "y_true")
    b = as_float_array(y_pred, "y_pred")
    if a.shape != b.shape:
        msg = _(
            "y_pred: expected the shape of y_true {want}, got shape {got}; "
            "shapes must match exactly (nothing is broadcast: (n, 1) against (n,) would compare "
            "every prediction with every target)"
        )
        raise ValueError(msg.format(want=a.shape, got=b.shape))
    if a.size == 0:
        raise ValueError(_("y_true is empty"))
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
