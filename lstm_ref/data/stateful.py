"""Batches for a *stateful* LSTM: row ``j`` of batch ``k + 1`` continues row ``j`` of batch ``k``.

The series is split into ``batch_size`` back-to-back streams that are walked ``seq_len`` steps at
a time, so a model that carries ``(h, c)`` from one batch to the next sees each stream in order.

- :func:`stateful_layout` / :class:`StatefulLayout`: which series rows go where, and what is dropped;
- :func:`stateful_arrays`: all the batches stacked, in the order ``fit(..., shuffle=False)`` needs;
- :func:`stateful_batches`: the same batches one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from lstm_ref._checks import check_int
from lstm_ref.data.windows import _as_series, _target_index
from lstm_ref.i18n import _

__all__ = ["StatefulLayout", "stateful_arrays", "stateful_batches", "stateful_layout"]


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
        if targets:
            msg = _("series: {n} rows are too few for stateful batches of (batch_size, seq_len) = ({b}, {t}): need at least batch_size * seq_len + 1 (the last target) = {need} rows")  # fmt: skip
        else:
            msg = _("series: {n} rows are too few for stateful batches of (batch_size, seq_len) = ({b}, {t}): need at least batch_size * seq_len = {need} rows")  # fmt: skip
        raise ValueError(msg.format(n=n_rows, b=batch_size, t=seq_len, need=batch_size * seq_len + shift))
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
    series, batch_size: int, seq_len: int, *, targets: bool = False, **options
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
        options: ``target_cols``, as for :func:`stateful_arrays`.

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
    out = stateful_arrays(series, batch_size, seq_len, targets=targets, **options)
    X, Y = out if targets else (out, None)
    slices = [slice(k, k + batch_size) for k in range(0, len(X), batch_size)]
    return iter([(X[sl], Y[sl]) for sl in slices] if targets else [X[sl] for sl in slices])
