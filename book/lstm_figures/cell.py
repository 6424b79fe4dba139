"""The LSTM cell: one cell unrolled through time, its diagram, its activations and its gates.

- :func:`unrolled`: one cell (one weight set) applied at every time step;
- :func:`cell_diagram`: the cell at one step, gates i, f, g, o and the cell state highway;
- :func:`activations`: sigmoid and tanh with their ranges;
- :func:`gate_functions`: several gate functions (sigmoid, hard sigmoids) over one axis;
- :func:`gate_histogram` and :func:`gate_heatmaps`: gate values computed by a chapter.

Each function returns the matplotlib ``Figure`` it drew, already closed (see :func:`.style.done`).

>>> len(gate_histogram({"i": [0.2, 0.7], "g": [-0.5, 0.1]}).axes)
2
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .style import AXIS_COLORS, DARK, GATE_COLORS, GATE_NAMES, arrow, blank, box, done

__all__ = ["activations", "cell_diagram", "gate_functions", "gate_heatmaps", "gate_histogram", "unrolled"]


def unrolled(
    time_steps: int = 4,
    *,
    cell: str = "LSTM cell",
    weights: str = "W, U, b",
    outputs: str = "all",
    state: str = "h, c",
):
    """One cell applied at ``time_steps`` time steps: the boxes are the *same* cell, not copies.

    Args:
        time_steps: how many steps to draw.
        cell: the label inside every box.
        weights: the label of the single weight set that every step reads.
        outputs: ``"all"`` (an output at every step, ``return_sequences=True``), ``"last"`` (only the
            last step's output, Keras's default) or ``"none"``.
        state: the label of the state passed from one step to the next.
    """
    T = time_steps
    fig, ax = plt.subplots(figsize=(1.9 * T + 2.2, 3.9))
    w, h, gap = 1.3, 1.0, 0.6
    xs = [1.2 + t * (w + gap) for t in range(T)]
    # the one weight set, above
    wx = xs[0] + (xs[-1] + w - xs[0]) / 2
    ww = max(2.2, 0.085 * len(weights) + 0.9)
    box(ax, wx - ww / 2, 3.05, ww, 0.55, f"weights {weights}\n(one copy, read at every step)", "#6A5ACD",
         fontsize=9)  # fmt: skip
    for t, x in enumerate(xs):
        box(ax, x, 1.2, w, h, f"{cell}\nt = {t}", "#8172B3", fontsize=9)
        arrow(ax, (wx, 3.05), (x + 0.35, 1.2 + h + 0.02), color="#6A5ACD", lw=1.0, ls="--")
        box(ax, x + 0.2, 0.0, w - 0.4, 0.5, f"x[:, {t}]", AXIS_COLORS["time"], fontsize=9)
        arrow(ax, (x + w / 2, 0.5), (x + w / 2, 1.2))
        show = outputs == "all" or (outputs == "last" and t == T - 1)
        if show:
            arrow(ax, (x + w - 0.25, 1.2 + h), (x + w - 0.25, 2.5), color=DARK, lw=1)
            ax.text(x + w - 0.2, 2.62, f"out[:, {t}]", ha="center", va="bottom", fontsize=8, color=DARK)
        if t < T - 1:
            arrow(ax, (x + w, 1.7), (x + w + gap, 1.7), color=AXIS_COLORS["batch"], lw=2)
            ax.text(x + w + gap / 2, 1.85, state, ha="center", fontsize=8, color=AXIS_COLORS["batch"])
    ax.text(0.15, 1.7, f"{state}\n(zeros)", ha="center", va="center", fontsize=8, color=AXIS_COLORS["batch"])
    arrow(ax, (0.55, 1.7), (xs[0], 1.7), color=AXIS_COLORS["batch"], lw=2)
    blank(ax)
    ax.set_xlim(-0.3, xs[-1] + w + 0.4)
    ax.set_ylim(-0.2, 3.75)
    return done(fig)


def cell_diagram():
    """The LSTM cell at one time step: three gates in (0, 1), the candidate g in (-1, 1), and the
    cell state c running along the top (c is the cell's memory, not a gate)."""
    fig, ax = plt.subplots(figsize=(8.6, 4.6))
    ax.add_patch(Rectangle((0.8, 0.4), 7.4, 3.9, fc="#F4F1FA", ec="#8172B3", lw=1.5))
    # cell state highway
    arrow(ax, (0.0, 3.7), (9.0, 3.7), color=AXIS_COLORS["batch"], lw=3)
    ax.text(0.0, 3.9, "c(t-1)", color=AXIS_COLORS["batch"], fontsize=10)
    ax.text(8.5, 3.9, "c(t)", color=AXIS_COLORS["batch"], fontsize=10)
    ax.text(4.5, 4.45, "cell state c: the memory (not a gate)", ha="center", color=AXIS_COLORS["batch"])
    # hidden state in
    arrow(ax, (0.0, 0.8), (1.4, 0.8), color=DARK, lw=2)
    ax.text(0.0, 0.95, "h(t-1)", fontsize=10)
    ax.text(1.3, 0.05, "x(t)", fontsize=10, color=AXIS_COLORS["time"])
    arrow(ax, (1.5, 0.2), (1.5, 0.75), color=AXIS_COLORS["time"], lw=2)
    ax.plot([1.5, 7.2], [0.8, 0.8], color=DARK, lw=2)
    specs = [
        ("f", 2.0, "forget f\nσ: (0, 1)"),
        ("i", 3.6, "input i\nσ: (0, 1)"),
        ("g", 4.8, "candidate g\ntanh: (-1, 1)"),
        ("o", 6.4, "output o\nσ: (0, 1)"),
    ]
    for gate, x, label in specs:
        box(ax, x - 0.55, 1.15, 1.1, 0.75, label, GATE_COLORS[gate], fontsize=8)
        arrow(ax, (x, 0.8), (x, 1.15), color=DARK, lw=1)
    # multiply / add nodes on the highway
    for x, sym in ((2.0, "×"), (4.2, "+")):
        ax.add_patch(plt.Circle((x, 3.7), 0.22, fc="white", ec=DARK, lw=1.5, zorder=3))
        ax.text(x, 3.7, sym, ha="center", va="center", fontsize=12, zorder=4)
    arrow(ax, (2.0, 1.9), (2.0, 3.48), color=GATE_COLORS["f"])
    ax.add_patch(plt.Circle((4.2, 2.6), 0.22, fc="white", ec=DARK, lw=1.5, zorder=3))
    ax.text(4.2, 2.6, "×", ha="center", va="center", fontsize=12, zorder=4)
    arrow(ax, (3.6, 1.9), (4.05, 2.45), color=GATE_COLORS["i"])
    arrow(ax, (4.8, 1.9), (4.35, 2.45), color=GATE_COLORS["g"])
    arrow(ax, (4.2, 2.82), (4.2, 3.48), color=DARK)
    # output path
    box(ax, 6.95, 2.75, 0.9, 0.5, "tanh", "#777777", fontsize=9)
    arrow(ax, (7.4, 3.7), (7.4, 3.25), color=AXIS_COLORS["batch"])
    ax.add_patch(plt.Circle((7.4, 2.1), 0.22, fc="white", ec=DARK, lw=1.5, zorder=3))
    ax.text(7.4, 2.1, "×", ha="center", va="center", fontsize=12, zorder=4)
    arrow(ax, (7.4, 2.75), (7.4, 2.32), color=DARK)
    arrow(ax, (6.85, 1.6), (7.2, 1.98), color=GATE_COLORS["o"])
    arrow(ax, (7.62, 2.1), (9.0, 2.1), color=DARK, lw=2)
    ax.text(8.5, 2.25, "h(t)", fontsize=10)
    blank(ax)
    ax.set_xlim(-0.2, 9.2)
    ax.set_ylim(-0.1, 4.7)
    return done(fig)


def activations():
    """sigmoid (the gates) and tanh (the candidate and the output squashing), with their ranges."""
    z = np.linspace(-6, 6, 241)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(z, 1 / (1 + np.exp(-z)), color=GATE_COLORS["f"], lw=2, label="sigmoid: gates i, f, o in (0, 1)")
    ax.plot(z, np.tanh(z), color=GATE_COLORS["g"], lw=2, label="tanh: candidate g in (-1, 1)")
    for v in (-1, 0, 1):
        ax.axhline(v, color="#999999", lw=0.6, ls=":")
    ax.set_xlabel("pre-activation z")
    ax.legend(loc="lower right", frameon=False)
    return done(fig)


def gate_functions(z: np.ndarray, curves: Mapping[str, np.ndarray], *, xlabel: str = "pre-activation x"):
    """Several gate functions of the same pre-activations ``z``, one line style each.

    Args:
        z: the pre-activations, shape ``(N,)``.
        curves: ``{label: values}``, each of shape ``(N,)`` (e.g. sigmoid and two hard sigmoids).
    """
    fig, ax = plt.subplots(figsize=(6.0, 3.0))
    for k, (label, v) in enumerate(curves.items()):
        ax.plot(z, v, ("-", "--", ":", "-.")[k % 4], lw=2 if k % 4 == 2 else 1.5, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("gate value")
    ax.legend(fontsize=8)
    return done(fig)


def gate_histogram(gates: Mapping[str, np.ndarray], *, bins: int = 40, title: str = ""):
    """Histograms of gate values, one panel per gate (values of any shape are flattened)."""
    names = list(gates)
    fig, axes = plt.subplots(1, len(names), figsize=(3.0 * len(names), 2.9), sharey=True)
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        v = np.asarray(gates[name]).ravel()
        lo = -1.0 if name == "g" else 0.0
        ax.hist(v, bins=np.linspace(lo, 1.0, bins + 1), color=GATE_COLORS.get(name, "#777777"))
        ax.set_title(GATE_NAMES.get(name, name))
        ax.set_xlim(lo, 1.0)
        ax.set_xlabel("value")
    np.atleast_1d(axes)[0].set_ylabel("count")
    if title:
        fig.suptitle(title)
    return done(fig)


def gate_heatmaps(
    gates: Mapping[str, np.ndarray], *, series_values: np.ndarray | None = None, xlabel="time step"
):
    """One heatmap per gate, hidden units (rows) over time (columns); ``series_values`` on top.

    Args:
        gates: ``{name: array (T, H)}`` for one sample.
        series_values: optional ``(T,)`` input series drawn above the heatmaps.
    """
    names = list(gates)
    rows = len(names) + (series_values is not None)
    fig = plt.figure(figsize=(9.0, 1.45 * rows + 0.6))
    grid = fig.add_gridspec(rows, 2, width_ratios=[40, 1], wspace=0.03)
    axes = [fig.add_subplot(grid[r, 0]) for r in range(rows)]
    for ax in axes[1:]:
        ax.sharex(axes[0])
    if series_values is not None:
        fig.add_subplot(grid[0, 1]).set_axis_off()
        ax = axes.pop(0)
        ax.plot(np.arange(len(series_values)) + 0.5, series_values, color=DARK, lw=1.2)
        ax.set_ylabel("input")
    start = rows - len(names)
    for r, (ax, name) in enumerate(zip(axes, names, strict=True)):
        v = np.asarray(gates[name])  # (T, H)
        lo = -1.0 if name == "g" else 0.0
        im = ax.imshow(v.T, aspect="auto", cmap="RdBu_r" if name == "g" else "viridis", vmin=lo, vmax=1.0,
                       interpolation="nearest", extent=(0, v.shape[0], v.shape[1], 0))  # fmt: skip
        ax.set_ylabel(f"{name}\nunit")
        fig.colorbar(im, cax=fig.add_subplot(grid[start + r, 1]))
    for ax in axes[:-1]:
        ax.tick_params(labelbottom=False)
    axes[-1].set_xlabel(xlabel)
    fig.subplots_adjust(left=0.08, right=0.95, top=0.97, bottom=0.08, hspace=0.15)
    return done(fig, tight=False)
