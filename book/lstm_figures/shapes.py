"""Shapes as pictures: 3-D data cubes, the shape flowing through layers, windows over a series.

- :func:`data_cube`: one or more ``(batch, time_steps, features)`` boxes of unit cubes;
- :func:`shape_flow`: layers from top to bottom with the shape between them;
- :func:`bidirectional`: what ``output[:, -1]`` and ``h_n`` of a bidirectional LSTM hold;
- :func:`window_positions` and :func:`window_counts`: sliding windows over a series.

Each function returns the matplotlib ``Figure`` it drew, already closed (see :func:`.style.done`).

>>> len(data_cube((2, 3, 4)).axes)
1
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Polygon, Rectangle

from .style import AXIS_COLORS, arrow, blank, box, done

__all__ = ["bidirectional", "data_cube", "shape_flow", "window_counts", "window_positions"]

_DX, _DY = 0.55, 0.4  # oblique projection: one unit of depth moves a point right by _DX and up by _DY


def _shade(color: str, k: float) -> tuple[float, float, float]:
    r, g, b = matplotlib.colors.to_rgb(color)
    return (
        (r * k, g * k, b * k)
        if k < 1
        else (r + (1 - r) * (k - 1), g + (1 - g) * (k - 1), b + (1 - b) * (k - 1))
    )


def _cube(ax, x, y, z, color, alpha=1.0) -> None:
    """A unit cube with its front-lower-left corner at (x, y, z), drawn as three visible faces."""

    def p(a, b, c):
        return (a + c * _DX, b + c * _DY)

    front = [p(x, y, z), p(x + 1, y, z), p(x + 1, y + 1, z), p(x, y + 1, z)]
    top = [p(x, y + 1, z), p(x + 1, y + 1, z), p(x + 1, y + 1, z + 1), p(x, y + 1, z + 1)]
    side = [p(x + 1, y, z), p(x + 1, y, z + 1), p(x + 1, y + 1, z + 1), p(x + 1, y + 1, z)]
    for face, k in ((top, 1.35), (side, 0.75), (front, 1.0)):
        ax.add_patch(Polygon(face, closed=True, fc=_shade(color, k), ec="white", lw=0.8, alpha=alpha))


def _axis_color(name: str, default: str) -> str:
    """Colour an axis by what it means (batch / time / feature), wherever it sits in the shape."""
    for key, color in (("batch", AXIS_COLORS["batch"]), ("time", AXIS_COLORS["time"]),
                       ("feature", AXIS_COLORS["feature"])):  # fmt: skip
        if key in name.lower():
            return color
    return default


def _one_cube(ax, shape, names, highlight, x0, title) -> float:
    depth, width, height = shape  # e.g. (batch, time_steps, features)
    c_depth = _axis_color(names[0], "#8172B3")
    c_width = _axis_color(names[1], "#8172B3")
    c_height = _axis_color(names[2], "#8172B3")
    base = matplotlib.colors.to_rgb("#9DB4D3")
    for z in range(depth - 1, -1, -1):  # back to front (painter's algorithm)
        for y in range(height):
            for x in range(width):
                color = base
                if highlight == "sample" and z == 0:
                    color = AXIS_COLORS["batch"]
                elif highlight == "time" and x == width - 1:
                    color = AXIS_COLORS["time"]
                elif highlight == "feature" and y == height - 1:
                    color = AXIS_COLORS["feature"]
                _cube(ax, x0 + x, y, z, color)
    # axis labels with arrows
    arrow(ax, (x0, -0.6), (x0 + width, -0.6), color=c_width)
    ax.text(x0 + width / 2, -1.15, f"{names[1]} = {width}", ha="center", va="top", color=c_width)
    arrow(ax, (x0 - 0.5, 0), (x0 - 0.5, height), color=c_height)
    ax.text(
        x0 - 0.85, height / 2, f"{names[2]} = {height}", ha="right", va="center",
        color=c_height, rotation=90,
    )  # fmt: skip
    bx, by = x0 + width + 0.35, 0.0
    arrow(ax, (bx, by), (bx + depth * _DX, by + depth * _DY), color=c_depth)
    ax.text(
        bx + depth * _DX + 0.15, by + depth * _DY / 2, f"{names[0]} = {depth}", ha="left", va="center",
        color=c_depth,
    )  # fmt: skip
    if title:
        ax.text(x0 + (width + depth * _DX) / 2, height + depth * _DY + 0.7, title, ha="center", fontsize=11)
    return x0 + width + depth * _DX


def data_cube(
    shapes: Sequence[int] | Sequence[Sequence[int]],
    *,
    names: Sequence[str] | Sequence[Sequence[str]] = ("batch", "time_steps", "features"),
    highlight: str | None = None,
    titles: Sequence[str] | None = None,
    figsize: tuple[float, float] | None = None,
):
    """Draw one or more 3-D boxes of unit cubes.

    Args:
        shapes: one shape ``(depth, width, height)`` such as ``(batch, time_steps, features)``, or a
            list of such shapes drawn side by side.
        names: the three axis names, in the order of the shape (or one such triple per box).
        highlight: ``"sample"`` (the front slice = one sample, a ``(time_steps, features)`` matrix),
            ``"time"`` (the last time step of every sample), ``"feature"`` (one feature) or None.
        titles: one title per box.
    """
    shapes = [tuple(shapes)] if np.ndim(shapes[0]) == 0 else [tuple(s) for s in shapes]
    titles = list(titles) if titles else [""] * len(shapes)
    all_names = [tuple(names)] * len(shapes) if isinstance(names[0], str) else [tuple(n) for n in names]
    total = sum(s[1] + s[0] * _DX + 6.5 for s in shapes)
    tallest = max(s[2] + s[0] * _DY for s in shapes)
    fig, ax = plt.subplots(figsize=figsize or (min(12.0, 0.42 * total + 1.5), 0.42 * tallest + 2.0))
    x0 = 2.0
    for shape, title, axis_names in zip(shapes, titles, all_names, strict=True):
        end = _one_cube(ax, shape, axis_names, highlight, x0, title)
        x0 = end + 6.5
    blank(ax)
    ax.set_xlim(-0.5, x0 - 2.5)
    ax.set_ylim(-2.0, tallest + 1.4)
    return done(fig)


def shape_flow(steps: Sequence[tuple[str, Sequence[int | None]]], *, title: str = ""):
    """Layers from top to bottom, with the tensor shape that flows out of each one.

    Args:
        steps: ``(label, shape)`` pairs, e.g. ``[("Input", (None, 10, 3)), ("LSTM(16)", (None, 16))]``;
            ``None`` prints as ``None`` (Keras's unknown batch size).
    """
    n = len(steps)
    fig, ax = plt.subplots(figsize=(6.2, 0.95 * n + 0.6))
    for k, (label, shape) in enumerate(steps):
        y = (n - 1 - k) * 1.0
        color = AXIS_COLORS["batch"] if k == 0 else "#8172B3"
        box(ax, 0.0, y + 0.15, 2.6, 0.6, label, color, fontsize=9)
        ax.text(2.9, y + 0.45, str(tuple(shape)), va="center", fontsize=10, family="monospace")
        ax.text(2.9, y + 0.1, f"{len(shape)}-D", va="center", fontsize=8, color="#666666")
        if k < n - 1:
            arrow(ax, (1.3, y + 0.15), (1.3, y - 0.25))
    blank(ax)
    ax.set_aspect("auto")
    ax.set_xlim(-0.1, 6.6)
    ax.set_ylim(-0.1, n)
    if title:
        ax.set_title(title)
    return done(fig)


def bidirectional(time_steps: int = 5, *, batch_first: bool = True):
    """What a bidirectional PyTorch LSTM returns at each end of the sequence.

    ``output[:, t] = [forward h at t, backward h at t]``. ``h_n`` holds the forward state after the
    *last* step and the backward state after the *first* step (its own last step), so
    ``output[:, -1]`` and ``h_n`` share only the forward half.
    """
    T = time_steps
    fig, ax = plt.subplots(figsize=(1.5 * T + 3.5, 4.2))
    fwd, bwd = AXIS_COLORS["batch"], AXIS_COLORS["time"]
    for t in range(T):
        x = 1.0 + 1.5 * t
        box(ax, x, 2.0, 1.0, 0.6, f"→ t={t}", fwd, fontsize=9)
        box(ax, x, 1.0, 1.0, 0.6, f"← t={t}", bwd, fontsize=9)
        if t < T - 1:
            arrow(ax, (x + 1.0, 2.3), (x + 1.5, 2.3), color=fwd)
            arrow(ax, (x + 1.5, 1.3), (x + 1.0, 1.3), color=bwd)
        ax.text(x + 0.5, 3.0, f"output[:, {t}]" if batch_first else f"output[{t}]", ha="center", fontsize=8)
    last = 1.0 + 1.5 * (T - 1)
    first = 1.0
    ax.add_patch(Rectangle((last - 0.12, 0.88), 1.24, 1.84, fill=False, ec="black", lw=2, ls="--"))
    ax.text(last + 0.5, 0.45, "output[:, -1]\n= [fwd final, bwd after 1 step]", ha="center", fontsize=8)
    ax.add_patch(Rectangle((last - 0.06, 1.94), 1.12, 0.72, fill=False, ec="#C44E52", lw=2.5))
    ax.add_patch(Rectangle((first - 0.06, 0.94), 1.12, 0.72, fill=False, ec="#C44E52", lw=2.5))
    ax.text(first + 0.5, 0.45, "h_n[-1] (backward final)\n= output[:, 0, H:]", ha="center", fontsize=8,
            color="#C44E52")  # fmt: skip
    ax.text(last + 1.25, 2.3, "h_n[-2]\n(forward final)", va="center", fontsize=8, color="#C44E52")
    blank(ax)
    ax.set_xlim(0.3, last + 2.6)
    ax.set_ylim(0.0, 3.4)
    return done(fig)


def window_positions(
    n: int,
    look_back: int,
    horizon: int = 1,
    *,
    starts: Sequence[int] | None = None,
    values: np.ndarray | None = None,
    title: str = "",
):
    """A series of ``n`` rows and some windows over it: inputs in orange, targets in red.

    Args:
        n: rows in the series.
        look_back: time steps per input window.
        horizon: future values each window predicts (``0`` draws windows without targets).
        starts: which window starts to draw (default: the first three and the last one).
        values: optional series values, printed in the cells.
    """
    last = n - look_back - horizon
    if starts is None:
        starts = sorted({0, 1, 2, last} & set(range(last + 1)))
    rows = len(starts)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.36 * n + 2.4), 0.5 * rows + 1.4))
    for r, s in enumerate(starts):
        y = rows - 1 - r
        for i in range(n):
            color = "#EEEEEE"
            if s <= i < s + look_back:
                color = AXIS_COLORS["time"]
            elif s + look_back <= i < s + look_back + horizon:
                color = AXIS_COLORS["target"]
            ax.add_patch(Rectangle((i, y * 1.2), 0.92, 0.92, fc=color, ec="white"))
            if values is not None:
                ax.text(i + 0.46, y * 1.2 + 0.46, f"{values[i]:g}", ha="center", va="center", fontsize=6)
        ax.text(-0.5, y * 1.2 + 0.46, f"window {s}", ha="right", va="center", fontsize=9)
    for i in range(0, n, 5):
        ax.text(i + 0.46, -0.45, str(i), ha="center", fontsize=8, color="#666666")
    ax.text(n + 0.3, (rows - 1) * 1.2 + 0.46, f"look_back = {look_back}\nhorizon = {horizon}", va="center",
            fontsize=9)  # fmt: skip
    blank(ax)
    ax.set_xlim(-3.5, n + 4.5)
    ax.set_ylim(-0.9, rows * 1.2)
    if title:
        ax.set_title(title)
    return done(fig)


def window_counts(n: int, look_back: int, counts: Mapping[str, int], horizon: int = 1):
    """Every window of two windowing functions, one bar per window; a missing window shows red.

    Args:
        n: rows in the series.
        look_back: time steps per window.
        counts: ``{label: number of windows}`` for each function (e.g. the classic ``create_dataset``
            and ``make_windows``); the largest count is taken as the complete set.
        horizon: target steps after each window.
    """
    full = max(counts.values())
    fig, axes = plt.subplots(1, len(counts), figsize=(5.2 * len(counts), 0.16 * full + 1.6), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (label, count) in zip(axes, counts.items(), strict=True):
        for w in range(full):
            kept = w < count
            ax.add_patch(Rectangle((w, w), look_back, 0.8, fc=AXIS_COLORS["time"] if kept else "white",
                                   ec=AXIS_COLORS["time"] if kept else "#C44E52", lw=1 if kept else 2,
                                   ls="-" if kept else "--"))  # fmt: skip
            ax.add_patch(Rectangle((w + look_back, w), horizon, 0.8,
                                   fc=AXIS_COLORS["target"] if kept else "white", ec="#C44E52"))  # fmt: skip
        ax.set_xlim(0, n)
        ax.set_ylim(full + 0.5, -0.5)
        ax.set_xlabel("row of the series")
        ax.set_title(f"{label}: {count} windows")
        if count < full:
            ax.text(
                full - 1.4, full - 1 + 0.4, "missing", ha="right", va="center", color="#C44E52", fontsize=10
            )
    axes[0].set_ylabel("window")
    return done(fig)
