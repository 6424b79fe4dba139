"""LSTM weights: the four gate blocks in Keras and PyTorch, parameter counts, initial biases.

- :func:`weight_blocks`: Keras ``kernel`` / ``recurrent_kernel`` / ``bias`` beside PyTorch's
  ``weight_ih`` / ``weight_hh`` / ``bias_ih`` + ``bias_hh``, gates coloured;
- :func:`param_counts`: parameter counts against a setting, one line per model;
- :func:`param_counts_by_framework`: Keras against PyTorch per hidden size (PyTorch's extra 4H);
- :func:`initial_biases`: the biases at initialisation, per gate.

Each function returns the matplotlib ``Figure`` it drew, already closed (see :func:`.style.done`).

>>> len(param_counts([5, 10], {"LSTM(8)": [384, 384]}, xlabel="time_steps").axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from .style import FW_COLORS, GATE_COLORS, GATE_NAMES, GATES, done

__all__ = ["initial_biases", "param_counts", "param_counts_by_framework", "weight_blocks"]


def _matrix(ax, x0: float, y0: float, rows: int, cols: int, hidden: int, gate_axis: int, label: str) -> None:
    """Draw a ``rows x cols`` matrix at (x0, y0) (top-left), its gate axis split in 4 coloured blocks."""
    for k, gate in enumerate(GATES):
        if gate_axis == 1:  # gates along the columns (Keras)
            xy, w, h = (x0 + k * hidden, y0), hidden, rows
        else:  # gates along the rows (PyTorch)
            xy, w, h = (x0, y0 + k * hidden), cols, hidden
        ax.add_patch(Rectangle(xy, w, h, facecolor=GATE_COLORS[gate], edgecolor="white", lw=1.5))
        ax.text(
            xy[0] + w / 2, xy[1] + h / 2, gate, ha="center", va="center", color="white", fontweight="bold"
        )
    ax.text(x0 + cols / 2, y0 - 0.6, label, ha="center", va="bottom", fontsize=9)


def weight_blocks(features: int, hidden: int):
    """Keras ``kernel`` (F, 4H) / ``recurrent_kernel`` (H, 4H) / ``bias`` (4H,) next to PyTorch's
    ``weight_ih`` (4H, F) / ``weight_hh`` (4H, H) / ``bias_ih`` + ``bias_hh`` (4H,), gates coloured."""
    F, H = features, hidden
    fig, (ax_k, ax_t) = plt.subplots(
        1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [4 * H + 2, F + H + 10]}
    )
    y = 2.0
    _matrix(ax_k, 0, y, F, 4 * H, H, 1, f"kernel ({F}, {4 * H}): rows = features")
    y += F + 3
    _matrix(ax_k, 0, y, H, 4 * H, H, 1, f"recurrent_kernel ({H}, {4 * H}): rows = hidden units")
    y += H + 3
    _matrix(ax_k, 0, y, 1, 4 * H, H, 1, f"bias ({4 * H},): one vector")
    ax_k.set_xlim(-1, 4 * H + 1)
    ax_k.set_ylim(y + 2, 0)
    ax_k.set_title("Keras: the 4 gate blocks are column blocks", color=FW_COLORS["keras"])
    x = 0.0
    for name, cols in [(f"weight_ih\n({4 * H}, {F})", F), (f"weight_hh\n({4 * H}, {H})", H)]:
        _matrix(ax_t, x, 2.5, 4 * H, cols, H, 0, name)
        x += cols + 3
    for name in ["bias_ih", "bias_hh"]:
        _matrix(ax_t, x, 2.5, 4 * H, 1, H, 0, f"{name}\n({4 * H},)")
        x += 4
    ax_t.set_xlim(-1, x)
    ax_t.set_ylim(4 * H + 3.5, 0)
    ax_t.set_title("PyTorch: the same blocks as row blocks (transposed)", color=FW_COLORS["torch"])
    for ax in (ax_k, ax_t):
        ax.set_aspect("equal")
        ax.axis("off")
    fig.suptitle(f"LSTM weights for F={F} features, H={H} units; gate order i, f, g, o in both")
    return done(fig)


def param_counts(x: Sequence[int], counts: Mapping[str, Sequence[int]], *, xlabel: str, title: str = ""):
    """Parameter counts against some setting (e.g. ``time_steps``), one line per model."""
    fig, ax = plt.subplots(figsize=(6.2, 3.2))
    for k, (label, v) in enumerate(counts.items()):
        ax.plot(x, v, marker="o", lw=2, label=label, ls="-" if k == 0 else "--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameters")
    ax.set_ylim(0, max(max(v) for v in counts.values()) * 1.25)
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return done(fig)


def param_counts_by_framework(
    hidden_sizes: Sequence[int], keras_counts: Sequence[int], torch_counts: Sequence[int]
):
    """Bar chart of parameter counts per hidden size, Keras vs PyTorch, with the 4H gap annotated."""
    x = np.arange(len(hidden_sizes))
    fig, ax = plt.subplots(figsize=(7.5, 3.6))
    ax.bar(x - 0.2, keras_counts, 0.4, label="Keras count_params()", color=FW_COLORS["keras"])
    ax.bar(x + 0.2, torch_counts, 0.4, label="PyTorch sum(p.numel())", color=FW_COLORS["torch"])
    for xi, k, t in zip(x, keras_counts, torch_counts, strict=True):
        ax.text(xi + 0.2, t, f"+{t - k}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(x, [f"H={h}" for h in hidden_sizes])
    ax.set_ylabel("parameters")
    ax.set_yscale("log")
    ax.set_title("One LSTM layer: PyTorch has 4H more parameters (its second bias)")
    ax.legend()
    return done(fig)


def initial_biases(keras_bias: np.ndarray, torch_bias_ih: np.ndarray, torch_bias_hh: np.ndarray):
    """Initial biases per gate: Keras (unit_forget_bias) vs PyTorch (uniform)."""
    H = keras_bias.shape[0] // 4
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
    for ax, vals, title in [
        (axes[0], [keras_bias], "Keras: bias at initialisation"),
        (axes[1], [torch_bias_ih, torch_bias_hh], "PyTorch: bias_ih and bias_hh at initialisation"),
    ]:
        for j, v in enumerate(vals):
            for k, gate in enumerate(GATES):
                idx = np.arange(k * H, (k + 1) * H)
                ax.scatter(
                    idx,
                    v[idx],
                    color=GATE_COLORS[gate],
                    marker="os"[j],
                    s=22,
                    label=(GATE_NAMES[gate] if j == 0 else None),
                )
        for k in range(1, 4):
            ax.axvline(k * H - 0.5, color="grey", lw=0.5)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("index in the 4H bias vector")
    axes[0].set_ylabel("value")
    axes[0].legend(fontsize=8, loc="center left")
    return done(fig)
