"""Training and results: gradient norms, loss curves, series and forecasts.

- :func:`gradient_norms`: norms of products of Jacobians against the number of steps;
- :func:`loss_curve` and :func:`curves`: one loss curve; several named curves;
- :func:`series` and :func:`series_split`: curves over time; a series split into train and test;
- :func:`forecasts`: test-period truth against the forecasts of several models;
- :func:`mode_task`: the toy "remember the mode" task with its predictions.

Each function returns the matplotlib ``Figure`` it drew, already closed (see :func:`.style.done`).

>>> loss_curve([1.0, 0.5, 0.25]).axes[0].get_yscale()
'log'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .style import AXIS_COLORS, done

__all__ = ["curves", "forecasts", "gradient_norms", "loss_curve", "mode_task", "series", "series_split"]


def gradient_norms(norms: Mapping[str, Sequence[float]], *, xlabel: str = "time steps back (T)", ylabel=None):
    """Norms of products of Jacobians against the number of steps, log scale, one line per setting."""
    fig, ax = plt.subplots(figsize=(6.6, 3.6))
    for label, v in norms.items():
        v = np.asarray(v, dtype=float)
        ax.semilogy(np.arange(1, len(v) + 1), v, lw=2, label=label)
    ax.axhline(1.0, color="#999999", lw=0.8, ls=":")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel or "‖∂h(T) / ∂h(0)‖")
    ax.legend(frameon=False, fontsize=9)
    return done(fig)


def loss_curve(losses: Sequence[float], *, title: str = "training loss"):
    """Loss against epoch, log scale."""
    fig, ax = plt.subplots(figsize=(5.4, 2.8))
    ax.semilogy(np.arange(1, len(losses) + 1), losses, color=AXIS_COLORS["batch"], lw=1.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    return done(fig)


def series(x, lines: Mapping[str, tuple], *, xlabel: str = "", ylabel: str = "", title: str = "", split=None):
    """Several curves over one x axis.

    Args:
        x: the common x values (numbers or ``datetime64``).
        lines: ``{label: (x_values, y_values)}`` or ``{label: y_values}`` (then ``x`` is used).
        split: optional x value drawn as a vertical line (e.g. the train/test boundary).
    """
    fig, ax = plt.subplots(figsize=(8.0, 3.4))
    for label, v in lines.items():
        xs, ys = v if isinstance(v, tuple) else (x, v)
        ax.plot(xs, ys, lw=1.6, label=label)
    if split is not None:
        ax.axvline(split, color="#999999", ls="--", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return done(fig)


def curves(named: Mapping[str, Sequence[float]], xlabel: str, ylabel: str, title: str, logy: bool = False):
    """Several named curves on one axis (loss curves, timings...)."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    for name, ys in named.items():
        ax.plot(np.arange(1, len(ys) + 1), ys, marker="o" if len(ys) < 30 else None, ms=3, label=name)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8)
    return done(fig)


def series_split(dates: Sequence, values: np.ndarray, n_train: int, ylabel: str, title: str):
    """A series with its training part and test part coloured."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(dates[:n_train], values[:n_train], color="#4C72B0", label="train")
    ax.plot(dates[n_train - 1 :], values[n_train - 1 :], color="#C44E52", label="test")
    ax.axvline(dates[n_train], color="grey", ls=":")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.legend()
    return done(fig)


def forecasts(dates: Sequence, truth: np.ndarray, preds: Mapping[str, np.ndarray], title: str):
    """Test-period truth and one-step forecasts of several models."""
    fig, ax = plt.subplots(figsize=(9, 3.6))
    ax.plot(dates, truth, color="black", lw=2.5, label="truth")
    styles = ["-", "--", "-.", ":", "-"]
    for k, (name, p) in enumerate(preds.items()):
        ax.plot(dates, p, ls=styles[k % len(styles)], lw=1.5, label=name)
    ax.set_ylabel("passengers (thousands)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, ncol=2)
    return done(fig)


def mode_task(x: np.ndarray, y: np.ndarray, preds: Mapping[str, np.ndarray], chunk: int):
    """The toy 'remember the mode' task: input spikes, target mode, and predictions."""
    T = len(x)
    fig, axes = plt.subplots(2, 1, figsize=(9, 4), sharex=True)
    axes[0].plot(x, color="grey", lw=0.8)
    axes[0].set_ylabel("input x")
    axes[0].set_title("Input: noise plus a spike (+1 or -1) when the mode changes", fontsize=10)
    axes[1].plot(y, color="black", lw=2, label="target: current mode")
    for name, p in preds.items():
        axes[1].plot(p, lw=1, label=name)
    for b in range(chunk, T, chunk):
        axes[1].axvline(b - 0.5, color="grey", lw=0.3, ls=":")
    axes[1].set_ylabel("mode")
    axes[1].set_xlabel("time step (dotted: chunk boundaries)")
    axes[1].legend(fontsize=8, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, frameon=False)
    return done(fig)
