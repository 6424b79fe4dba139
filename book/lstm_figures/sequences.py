"""Batches of sequences: padding and masks, packed sequences, stateful streams.

- :func:`padding_pattern`: which steps of a batch of given lengths are padding, and the mask;
- :func:`padded_batch`: a real padded batch (its values) beside its mask;
- :func:`packed_layout`: how a ``PackedSequence`` stores a batch (``batch_sizes``);
- :func:`stateful_grid`: which series position sits in each row of each stateful batch;
- :func:`chunk_vs_full`: chunks with carried state against one long run.

Each function returns the matplotlib ``Figure`` it drew, already closed (see :func:`.style.done`).

>>> len(padding_pattern([3, 1]).axes)
2
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Rectangle

from .style import AXIS_COLORS, FW_COLORS, blank, done

__all__ = ["chunk_vs_full", "packed_layout", "padded_batch", "padding_pattern", "stateful_grid"]


def padding_pattern(lengths: Sequence[int], *, pad_value: float = 0.0, padding: str = "post"):
    """A batch of sequences of different lengths padded to the longest, and the mask that results."""
    T = max(lengths)
    B = len(lengths)
    fig, axes = plt.subplots(1, 2, figsize=(0.5 * T * 2 + 2.5, 0.5 * B + 1.4))
    for ax, kind in zip(axes, ("values", "mask"), strict=True):
        for b, L in enumerate(lengths):
            for t in range(T):
                real = t < L if padding == "post" else t >= T - L
                if kind == "values":
                    fc, txt = (AXIS_COLORS["time"], "x") if real else ("#EEEEEE", f"{pad_value:g}")
                else:
                    fc, txt = (AXIS_COLORS["feature"], "True") if real else ("#EEEEEE", "False")
                ax.add_patch(Rectangle((t, B - 1 - b), 0.95, 0.95, fc=fc, ec="white"))
                ax.text(t + 0.47, B - 1 - b + 0.47, txt, ha="center", va="center", fontsize=7)
            ax.text(-0.3, B - 1 - b + 0.47, f"len {L}", ha="right", va="center", fontsize=8)
        ax.set_title("padded batch (B, T)" if kind == "values" else "mask (B, T)")
        blank(ax)
        ax.set_xlim(-1.8, T + 0.1)
        ax.set_ylim(-0.2, B + 0.1)
    return done(fig)


def padded_batch(values: np.ndarray, mask: np.ndarray, title: str = "A padded batch and its mask"):
    """``values`` (B, T) padded batch (one feature), ``mask`` (B, T) booleans, side by side."""
    B, T = values.shape
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.5 * B + 1.8))
    shown = np.where(mask, values, np.nan)
    cmap = plt.get_cmap("Blues").with_extremes(bad="#eeeeee")
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
    return done(fig)


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
    return done(fig)


def stateful_grid(positions: np.ndarray, title: str = ""):
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
    return done(fig, tight=False)


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
    return done(fig)
