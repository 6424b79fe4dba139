"""Forecasting results: the spread of errors over seeds, and errors over a forecast horizon.

- :func:`seed_spread`: each model's error for every seed (dots), mean ± standard deviation (error
  bar), and the baselines as horizontal lines;
- :func:`horizon_errors`: error against the number of steps ahead, one line per forecaster.

Each function returns the matplotlib ``Figure`` it drew, already closed (see :func:`.style.done`).

>>> fig = seed_spread({"a": [1.0, 2.0, 3.0]}, {"baseline": 2.5}, "RMSE")
>>> fig.axes[0].get_ylabel()
'RMSE'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .style import DARK, GREY, STREAM_COLORS, done

__all__ = ["horizon_errors", "seed_spread"]


def seed_spread(
    errors: Mapping[str, Sequence[float]], baselines: Mapping[str, float], ylabel: str, title: str = ""
):
    """Errors over seeds: one column per model, a dot per seed, mean ± sample std as an error bar.

    Args:
        errors: ``{model: errors of its seeds}``, each of shape ``(n_seeds,)``.
        baselines: ``{name: error}`` of forecasts that have no seed, drawn as dashed lines.
        ylabel, title: axis label and title.

    >>> [t.get_text() for t in seed_spread({"a": [1.0, 2.0], "b": [3.0]}, {}, "RMSE").axes[0].get_xticklabels()]
    ['a', 'b']
    """
    fig, ax = plt.subplots(figsize=(7.2, 3.6))
    for k, v in enumerate(errors.values()):
        v = np.asarray(v, dtype=float)
        color = STREAM_COLORS[k % len(STREAM_COLORS)]
        jitter = np.linspace(-0.12, 0.12, len(v))
        ax.plot(k + jitter, v, "o", color=color, alpha=0.55, ms=5)
        std = v.std(ddof=1) if len(v) > 1 else 0.0
        ax.errorbar(k + 0.3, v.mean(), yerr=std, fmt="s", color=color, capsize=5, lw=2, ms=7)
        ax.annotate(f"{v.mean():.1f} ± {std:.1f}", (k + 0.38, v.mean()), fontsize=8, va="center")
    for j, (name, value) in enumerate(baselines.items()):
        ax.axhline(value, color=DARK if j == 0 else GREY, ls=["--", ":", "-."][j % 3], lw=1.2, label=name)
    ax.set_xticks(range(len(errors)), list(errors))
    ax.set_xlim(-0.5, len(errors) - 0.1)
    ax.set_ylabel(ylabel)
    if baselines:
        ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return done(fig)


def horizon_errors(per_step: Mapping[str, Sequence[float]], ylabel: str, title: str = ""):
    """Error against steps ahead (1, 2, ...), one line per forecaster.

    Args:
        per_step: ``{forecaster: error at each step ahead}``, each of shape ``(horizon,)``.
        ylabel, title: axis label and title.

    >>> horizon_errors({"a": [1.0, 2.0, 3.0]}, "RMSE").axes[0].get_xlabel()
    'months ahead'
    """
    fig, ax = plt.subplots(figsize=(7.2, 3.4))
    for k, (name, v) in enumerate(per_step.items()):
        v = np.asarray(v, dtype=float)
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3, lw=1.6, label=name,
                color=STREAM_COLORS[k % len(STREAM_COLORS)], ls="-" if k < 4 else "--")  # fmt: skip
    ax.set_xlabel("months ahead")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False, ncol=2)
    if title:
        ax.set_title(title)
    return done(fig)
