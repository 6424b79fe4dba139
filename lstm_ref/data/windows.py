"""Cut a time series into the ``(batch, time_steps, features)`` windows an LSTM reads.

A series is ``(N,)`` (one variable) or ``(N, F)`` (``F`` variables, rows in time order).

- :func:`make_windows`: overlapping windows and the values that follow them, for an ordinary
  (stateless) model. ``X[i] = series[i : i + look_back]``; there are exactly
  ``N - look_back - horizon + 1`` of them.
- :func:`sliding_windows`: every window, with no targets.
- :func:`classic_create_dataset`: the popular tutorial loop that silently drops the last window,
  kept to show the bug.

The dtype follows :func:`lstm_ref._checks.as_float_array`: float32 stays float32, integers
become float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lstm_ref._checks import as_float_array, check_int
from lstm_ref.i18n import _

SERIES = "(time_steps,) or (time_steps, features)"  # a series' layout; in messages, _series()

__all__ = ["classic_create_dataset", "make_windows", "sliding_windows"]


def _series() -> str:
    """:data:`SERIES` in the current language, for messages."""
    return _("(time_steps,) or (time_steps, features)")


def _as_series(series, name: str = "series") -> np.ndarray:
    """Return ``series`` as a float array of shape ``(N, F)`` (a 1-D series gets ``F = 1``)."""
    arr = as_float_array(series, name)
    if arr.ndim == 1:
        return arr[:, None]
    v = {"name": name, "series": _series(), "shape": arr.shape}
    if arr.ndim == 2:
        if arr.shape[1] == 0:
            raise ValueError(_("{name}: expected {series}, got shape {shape}: there are no feature columns").format_map(v))  # fmt: skip
        return arr
    if arr.ndim == 0:
        msg = _("{name}: expected {series}, got a scalar ({value}); a series needs a time axis")
        raise ValueError(msg.format(**v, value=repr(arr)))
    msg = _("{name}: expected {series}, got shape {shape}: a {n}-D array").format(**v, n=arr.ndim)
    if arr.ndim == 3:
        msg = _("{msg}; this already looks like (batch, time_steps, features) windows; pass the raw series (rows in time order) instead").format(msg=msg)  # fmt: skip
    raise ValueError(msg)


def _target_index(target_cols, n_features: int) -> list[int]:
    """Validate ``target_cols`` (None, an int or a sequence of ints) against ``n_features``."""
    if target_cols is None:
        return list(range(n_features))
    cols = [target_cols] if np.ndim(target_cols) == 0 else list(target_cols)
    if not cols:
        raise ValueError(_("target_cols is empty; give at least one column index, or None for all columns"))
    for c in cols:
        if isinstance(c, bool) or not isinstance(c, int | np.integer):
            raise ValueError(
                _("target_cols must hold column indices (ints), got {value}").format(value=repr(c))
            )
        if not -n_features <= c < n_features:
            msg = _(
                "target_cols: column {c} does not exist; the series has {n} feature column(s) "
                "(valid indices 0..{last})"
            )
            raise ValueError(msg.format(c=c, n=n_features, last=n_features - 1))
    cols = [int(c) % n_features for c in cols]
    if len(set(cols)) != len(cols):
        raise ValueError(_("target_cols repeats a column: {cols}").format(cols=list(target_cols)))
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
        msg = _(
            "series: expected {series} with at least look_back = {look_back} rows, "
            "got shape {shape} ({n} rows); use a smaller look_back or a longer series"
        )
        raise ValueError(
            msg.format(series=_series(), look_back=look_back, shape=np.shape(series), n=len(data))
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
        last one included (compare :func:`classic_create_dataset`). Copies, never views.

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
        msg = _(
            "series: expected {series} with at least look_back + horizon = {look_back} + {horizon} = "
            "{need} rows, got shape {shape} ({n} rows); use a smaller look_back or a longer series"
        )
        v = {"look_back": look_back, "horizon": horizon, "need": need, "shape": np.shape(series), "n": n_rows}
        raise ValueError(msg.format(series=_series(), **v))
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
