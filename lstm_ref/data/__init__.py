"""Turn a time series into the arrays an LSTM wants, and load the shipped data.

A series is ``(N,)`` (one variable) or ``(N, F)`` (``F`` variables, rows in time
order). An LSTM wants ``(batch, time_steps, features)``. The package has three parts, and
every name is importable from ``lstm_ref.data`` itself:

- :mod:`lstm_ref.data.windows`: :func:`make_windows` (overlapping windows for an ordinary,
  stateless model; ``N - look_back - horizon + 1`` of them), :func:`sliding_windows`, and
  :func:`classic_create_dataset`, the popular tutorial loop that silently drops the last window;
- :mod:`lstm_ref.data.stateful`: :func:`stateful_batches` / :func:`stateful_arrays`, batches for
  a *stateful* model, where row ``j`` of batch ``k + 1`` continues row ``j`` of batch ``k``, and
  :func:`stateful_layout`, which says which series rows go where (and what is dropped);
- :mod:`lstm_ref.data.forecast`: the airline-passengers series (:func:`load_airline`), a
  NumPy-only :class:`MinMaxScaler`, a chronological :func:`train_test_split_series`, the naive
  baselines every forecast should beat, and :func:`rmse` / :func:`mae`.

Nothing here imports torch or TensorFlow, and nothing downloads.
"""

from lstm_ref.data.forecast import (
    MinMaxScaler,
    load_airline,
    mae,
    naive_forecast,
    rmse,
    seasonal_naive_forecast,
    seasonal_trend_forecast,
    train_test_split_series,
)
from lstm_ref.data.stateful import StatefulLayout, stateful_arrays, stateful_batches, stateful_layout
from lstm_ref.data.windows import SERIES, classic_create_dataset, make_windows, sliding_windows

__all__ = [
    "SERIES",
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
    "seasonal_trend_forecast",
    "rmse",
    "mae",
]
