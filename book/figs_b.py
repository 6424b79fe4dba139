"""Plotting helpers for chapters 6-10 of the book (Keras vs PyTorch, stateful, variable length,
project, misconceptions).

Every figure in these chapters is drawn here, from arrays the chapter computed, so a figure can
never disagree with the code beside it. Each function returns the matplotlib ``Figure``, already closed
(the convention of ``figs.py``): a cell that ends with the call shows it once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from figs import GATE_COLORS, GATES  # book-wide colours (book/figs.py)
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"}
FW_COLORS = {"keras": "#8C1D40", "torch": "#E8710A", "numpy": "#4C72B0"}


def _done(fig, tight: bool = True):
    """Close ``fig`` and return it: a cell ending with the call shows it exactly once."""
    if tight:
        fig.tight_layout()
    plt.close(fig)
    return fig


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
    return _done(fig)


def param_counts(hidden_sizes: Sequence[int], keras_counts: Sequence[int], torch_counts: Sequence[int]):
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
    return _done(fig)


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
    return _done(fig)


def stateful_layout(positions: np.ndarray, title: str = ""):
    """``positions`` (num_batches, batch_size, seq_len): index in the original series of each value.

    Draws one panel per batch: rows = streams (batch rows), columns = time steps, colour = position.
    """
    nb, B, T = positions.shape
    show = min(nb, 4)
    fig, axes = plt.subplots(1, show, figsize=(2.4 * show + 1.2, 0.45 * B + 1.6), sharey=True)
    axes = np.atleast_1d(axes)
    vmax = positions.max()
    for j in range(show):
        ax = axes[j]
        im = ax.imshow(positions[j], cmap="viridis", vmin=0, vmax=vmax, aspect="auto")
        for r in range(B):
            for c in range(T):
                ax.text(c, r, int(positions[j, r, c]), ha="center", va="center", fontsize=7, color="white")
        ax.set_title(f"batch {j}", fontsize=10)
        ax.set_xlabel("time step in chunk")
        ax.set_xticks(range(T))
    axes[0].set_ylabel("stream = row of the batch")
    axes[0].set_yticks(range(B))
    fig.colorbar(im, ax=list(axes), label="position in the series")
    fig.suptitle(title or "Row r of batch j+1 continues row r of batch j", fontsize=11)
    return _done(fig, tight=False)


def chunk_vs_full(h_full: np.ndarray, h_chunks: np.ndarray, chunk: int):
    """Hidden unit 0 over time for one long run and for chunks with carried state (one stream)."""
    T = h_full.shape[0]
    fig, ax = plt.subplots(figsize=(8, 3))
    ax.plot(range(T), h_full, color="grey", lw=5, alpha=0.5, label="one long run")
    ax.plot(range(T), h_chunks, color=FW_COLORS["torch"], lw=1.5, label=f"chunks of {chunk}, state carried")
    for b in range(chunk, T, chunk):
        ax.axvline(b - 0.5, color="black", lw=0.6, ls=":")
    ax.set_xlabel("time step")
    ax.set_ylabel("h[unit 0]")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("Carrying the state makes chunks identical to one long run (dotted: chunk boundaries)")
    return _done(fig)


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
    return _done(fig)


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
    return _done(fig)


def padded_batch(values: np.ndarray, mask: np.ndarray, title: str = "A padded batch and its mask"):
    """``values`` (B, T) padded batch (one feature), ``mask`` (B, T) booleans, side by side."""
    B, T = values.shape
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * B + 1.8))
    shown = np.where(mask, values, np.nan)
    cmap = plt.get_cmap("Blues").copy()
    cmap.set_bad("#eeeeee")
    axes[0].imshow(shown, cmap=cmap, aspect="auto", vmin=-0.3, vmax=1.2)
    for r in range(B):
        for c in range(T):
            txt = f"{values[r, c]:.1f}" if mask[r, c] else "pad"
            axes[0].text(c, r, txt, ha="center", va="center", fontsize=7)
    axes[0].set_title("x: (batch, time_steps), padding in grey", fontsize=10)
    axes[1].imshow(mask, cmap=ListedColormap(["#dddddd", "#55A868"]), aspect="auto", vmin=0, vmax=1)
    for r in range(B):
        for c in range(T):
            axes[1].text(c, r, "1" if mask[r, c] else "0", ha="center", va="center", fontsize=8)
    axes[1].set_title("mask: True where a real value is", fontsize=10)
    for ax in axes:
        ax.set_xlabel("time step")
        ax.set_ylabel("sequence")
        ax.set_yticks(range(B))
        ax.set_xticks(range(T))
    fig.suptitle(title)
    return _done(fig)


def packed_layout(lengths_sorted: Sequence[int], batch_sizes: Sequence[int]):
    """How PackedSequence stores a batch: at time t it holds ``batch_sizes[t]`` rows."""
    T = len(batch_sizes)
    B = len(lengths_sorted)
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * B + 1.8), gridspec_kw={"width_ratios": [T, 1.6 * T]})
    grid = np.zeros((B, T))
    for r, n in enumerate(lengths_sorted):
        grid[r, :n] = 1
    axes[0].imshow(grid, cmap=ListedColormap(["#dddddd", "#4C72B0"]), aspect="auto", vmin=0, vmax=1)
    axes[0].set_title("sorted by length (longest first)", fontsize=10)
    axes[0].set_xlabel("time step")
    axes[0].set_ylabel("sequence (sorted)")
    axes[0].set_yticks(range(B), [f"len {n}" for n in lengths_sorted])
    axes[0].set_xticks(np.arange(-0.5, T), minor=True)
    axes[0].set_yticks(np.arange(-0.5, B), minor=True)
    axes[0].grid(which="minor", color="white", lw=2)
    axes[0].tick_params(which="minor", length=0)
    axes[0].set_xticks(range(T))
    axes[1].bar(range(T), batch_sizes, color="#4C72B0")
    for t, b in enumerate(batch_sizes):
        axes[1].text(t, b, str(int(b)), ha="center", va="bottom")
    axes[1].set_xticks(range(T))
    axes[1].set_xlabel("time step")
    axes[1].set_ylabel("rows processed")
    axes[1].set_yticks(range(0, B + 1))
    axes[1].set_title("packed.batch_sizes: no step is spent on padding", fontsize=10)
    return _done(fig)


def series_split(dates: Sequence, values: np.ndarray, n_train: int, ylabel: str, title: str):
    """A series with its training part and test part coloured."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(dates[:n_train], values[:n_train], color="#4C72B0", label="train")
    ax.plot(dates[n_train - 1 :], values[n_train - 1 :], color="#C44E52", label="test")
    ax.axvline(dates[n_train], color="grey", ls=":")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    ax.legend()
    return _done(fig)


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
    return _done(fig)
