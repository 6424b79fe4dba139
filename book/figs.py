"""Plotting helpers shared by the whole book (chapters 1-5 and 11 use them; any chapter may).

Every picture in the book is drawn by code, from numbers a cell computed, so a figure can never
disagree with the code beside it. Each public function returns the matplotlib ``Figure`` it drew,
already closed, so a cell that ends with the call shows the figure exactly once (with any
backend: the inline one in a notebook, Agg in a script). None of them computes anything an LSTM
does.

Stable API (other chapters import these; keep the signatures):

- colours: ``AXIS_COLORS`` (batch / time / feature), ``GATE_COLORS`` (i, f, g, o), ``GATES``;
- shapes: :func:`data_cube` (one or more 3-D boxes, e.g. ``(batch, time_steps, features)``),
  :func:`unrolled` (one cell applied at many time steps), :func:`shape_flow` (layers and the
  shape between them), :func:`bidirectional` (what ``output[:, -1]`` and ``h_n`` hold);
- windows: :func:`window_slider`, :func:`window_counts`, :func:`padded_batch`;
- the cell: :func:`lstm_cell`, :func:`activations`, :func:`gate_histogram`, :func:`gate_heatmaps`;
- curves: :func:`gradient_norms`, :func:`param_counts`, :func:`series`, :func:`loss_curve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Polygon, Rectangle

__all__ = [
    "AXIS_COLORS",
    "GATES",
    "GATE_COLORS",
    "activations",
    "bidirectional",
    "data_cube",
    "gate_heatmaps",
    "gate_histogram",
    "gradient_norms",
    "loss_curve",
    "lstm_cell",
    "padded_batch",
    "param_counts",
    "series",
    "shape_flow",
    "unrolled",
    "window_counts",
    "window_slider",
]

AXIS_COLORS = {"batch": "#4C72B0", "time": "#DD8452", "feature": "#55A868", "target": "#C44E52"}
GATES = ("i", "f", "g", "o")
GATE_COLORS = {"i": "#4C72B0", "f": "#DD8452", "g": "#55A868", "o": "#C44E52"}
GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"}
_GREY = "#B0B0B0"
_DARK = "#333333"

plt.rcParams.update(
    {
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "font.size": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
    }
)


def _done(fig, tight: bool = True):
    """Lay the figure out and close it: the notebook then shows it once, as the cell's result."""
    if tight:
        fig.tight_layout()
    plt.close(fig)
    return fig


def _blank(ax) -> None:
    ax.set_axis_off()
    ax.set_aspect("equal")


def _arrow(ax, xy0, xy1, color=_DARK, lw=1.5, style="-|>", ls="-") -> None:
    ax.add_patch(
        FancyArrowPatch(xy0, xy1, arrowstyle=style, mutation_scale=12, color=color, lw=lw, linestyle=ls)
    )


def _box(ax, x, y, w, h, text, color, *, fontsize=10, text_color="white", alpha=1.0) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec=_DARK, lw=1, alpha=alpha
        )
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", color=text_color, fontsize=fontsize)


# --------------------------------------------------------------------------------------------------
# 3-D boxes
# --------------------------------------------------------------------------------------------------
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
    _arrow(ax, (x0, -0.6), (x0 + width, -0.6), color=c_width)
    ax.text(x0 + width / 2, -1.15, f"{names[1]} = {width}", ha="center", va="top", color=c_width)
    _arrow(ax, (x0 - 0.5, 0), (x0 - 0.5, height), color=c_height)
    ax.text(
        x0 - 0.85, height / 2, f"{names[2]} = {height}", ha="right", va="center",
        color=c_height, rotation=90,
    )  # fmt: skip
    bx, by = x0 + width + 0.35, 0.0
    _arrow(ax, (bx, by), (bx + depth * _DX, by + depth * _DY), color=c_depth)
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
    _blank(ax)
    ax.set_xlim(-0.5, x0 - 2.5)
    ax.set_ylim(-2.0, tallest + 1.4)
    return _done(fig)


# --------------------------------------------------------------------------------------------------
# cells through time
# --------------------------------------------------------------------------------------------------
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
    _box(ax, wx - ww / 2, 3.05, ww, 0.55, f"weights {weights}\n(one copy, read at every step)", "#6A5ACD",
         fontsize=9)  # fmt: skip
    for t, x in enumerate(xs):
        _box(ax, x, 1.2, w, h, f"{cell}\nt = {t}", "#8172B3", fontsize=9)
        _arrow(ax, (wx, 3.05), (x + 0.35, 1.2 + h + 0.02), color="#6A5ACD", lw=1.0, ls="--")
        _box(ax, x + 0.2, 0.0, w - 0.4, 0.5, f"x[:, {t}]", AXIS_COLORS["time"], fontsize=9)
        _arrow(ax, (x + w / 2, 0.5), (x + w / 2, 1.2))
        show = outputs == "all" or (outputs == "last" and t == T - 1)
        if show:
            _arrow(ax, (x + w - 0.25, 1.2 + h), (x + w - 0.25, 2.5), color=_DARK, lw=1)
            ax.text(x + w - 0.2, 2.62, f"out[:, {t}]", ha="center", va="bottom", fontsize=8, color=_DARK)
        if t < T - 1:
            _arrow(ax, (x + w, 1.7), (x + w + gap, 1.7), color=AXIS_COLORS["batch"], lw=2)
            ax.text(x + w + gap / 2, 1.85, state, ha="center", fontsize=8, color=AXIS_COLORS["batch"])
    ax.text(0.15, 1.7, f"{state}\n(zeros)", ha="center", va="center", fontsize=8, color=AXIS_COLORS["batch"])
    _arrow(ax, (0.55, 1.7), (xs[0], 1.7), color=AXIS_COLORS["batch"], lw=2)
    _blank(ax)
    ax.set_xlim(-0.3, xs[-1] + w + 0.4)
    ax.set_ylim(-0.2, 3.75)
    return _done(fig)


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
        _box(ax, x, 2.0, 1.0, 0.6, f"→ t={t}", fwd, fontsize=9)
        _box(ax, x, 1.0, 1.0, 0.6, f"← t={t}", bwd, fontsize=9)
        if t < T - 1:
            _arrow(ax, (x + 1.0, 2.3), (x + 1.5, 2.3), color=fwd)
            _arrow(ax, (x + 1.5, 1.3), (x + 1.0, 1.3), color=bwd)
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
    _blank(ax)
    ax.set_xlim(0.3, last + 2.6)
    ax.set_ylim(0.0, 3.4)
    return _done(fig)


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
        _box(ax, 0.0, y + 0.15, 2.6, 0.6, label, color, fontsize=9)
        ax.text(2.9, y + 0.45, str(tuple(shape)), va="center", fontsize=10, family="monospace")
        ax.text(2.9, y + 0.1, f"{len(shape)}-D", va="center", fontsize=8, color="#666666")
        if k < n - 1:
            _arrow(ax, (1.3, y + 0.15), (1.3, y - 0.25))
    _blank(ax)
    ax.set_aspect("auto")
    ax.set_xlim(-0.1, 6.6)
    ax.set_ylim(-0.1, n)
    if title:
        ax.set_title(title)
    return _done(fig)


# --------------------------------------------------------------------------------------------------
# windows
# --------------------------------------------------------------------------------------------------
def window_slider(
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
    _blank(ax)
    ax.set_xlim(-3.5, n + 4.5)
    ax.set_ylim(-0.9, rows * 1.2)
    if title:
        ax.set_title(title)
    return _done(fig)


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
    return _done(fig)


def padded_batch(lengths: Sequence[int], *, pad_value: float = 0.0, padding: str = "post"):
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
        _blank(ax)
        ax.set_xlim(-1.8, T + 0.1)
        ax.set_ylim(-0.2, B + 0.1)
    return _done(fig)


# --------------------------------------------------------------------------------------------------
# the cell
# --------------------------------------------------------------------------------------------------
def lstm_cell():
    """The LSTM cell at one time step: three gates in (0, 1), the candidate g in (-1, 1), and the
    cell state c running along the top (c is the cell's memory, not a gate)."""
    fig, ax = plt.subplots(figsize=(8.6, 4.6))
    ax.add_patch(Rectangle((0.8, 0.4), 7.4, 3.9, fc="#F4F1FA", ec="#8172B3", lw=1.5))
    # cell state highway
    _arrow(ax, (0.0, 3.7), (9.0, 3.7), color=AXIS_COLORS["batch"], lw=3)
    ax.text(0.0, 3.9, "c(t-1)", color=AXIS_COLORS["batch"], fontsize=10)
    ax.text(8.5, 3.9, "c(t)", color=AXIS_COLORS["batch"], fontsize=10)
    ax.text(4.5, 4.45, "cell state c: the memory (not a gate)", ha="center", color=AXIS_COLORS["batch"])
    # hidden state in
    _arrow(ax, (0.0, 0.8), (1.4, 0.8), color=_DARK, lw=2)
    ax.text(0.0, 0.95, "h(t-1)", fontsize=10)
    ax.text(1.3, 0.05, "x(t)", fontsize=10, color=AXIS_COLORS["time"])
    _arrow(ax, (1.5, 0.2), (1.5, 0.75), color=AXIS_COLORS["time"], lw=2)
    ax.plot([1.5, 7.2], [0.8, 0.8], color=_DARK, lw=2)
    specs = [
        ("f", 2.0, "forget f\nσ: (0, 1)"),
        ("i", 3.6, "input i\nσ: (0, 1)"),
        ("g", 4.8, "candidate g\ntanh: (-1, 1)"),
        ("o", 6.4, "output o\nσ: (0, 1)"),
    ]
    for gate, x, label in specs:
        _box(ax, x - 0.55, 1.15, 1.1, 0.75, label, GATE_COLORS[gate], fontsize=8)
        _arrow(ax, (x, 0.8), (x, 1.15), color=_DARK, lw=1)
    # multiply / add nodes on the highway
    for x, sym in ((2.0, "×"), (4.2, "+")):
        ax.add_patch(plt.Circle((x, 3.7), 0.22, fc="white", ec=_DARK, lw=1.5, zorder=3))
        ax.text(x, 3.7, sym, ha="center", va="center", fontsize=12, zorder=4)
    _arrow(ax, (2.0, 1.9), (2.0, 3.48), color=GATE_COLORS["f"])
    ax.add_patch(plt.Circle((4.2, 2.6), 0.22, fc="white", ec=_DARK, lw=1.5, zorder=3))
    ax.text(4.2, 2.6, "×", ha="center", va="center", fontsize=12, zorder=4)
    _arrow(ax, (3.6, 1.9), (4.05, 2.45), color=GATE_COLORS["i"])
    _arrow(ax, (4.8, 1.9), (4.35, 2.45), color=GATE_COLORS["g"])
    _arrow(ax, (4.2, 2.82), (4.2, 3.48), color=_DARK)
    # output path
    _box(ax, 6.95, 2.75, 0.9, 0.5, "tanh", "#777777", fontsize=9)
    _arrow(ax, (7.4, 3.7), (7.4, 3.25), color=AXIS_COLORS["batch"])
    ax.add_patch(plt.Circle((7.4, 2.1), 0.22, fc="white", ec=_DARK, lw=1.5, zorder=3))
    ax.text(7.4, 2.1, "×", ha="center", va="center", fontsize=12, zorder=4)
    _arrow(ax, (7.4, 2.75), (7.4, 2.32), color=_DARK)
    _arrow(ax, (6.85, 1.6), (7.2, 1.98), color=GATE_COLORS["o"])
    _arrow(ax, (7.62, 2.1), (9.0, 2.1), color=_DARK, lw=2)
    ax.text(8.5, 2.25, "h(t)", fontsize=10)
    _blank(ax)
    ax.set_xlim(-0.2, 9.2)
    ax.set_ylim(-0.1, 4.7)
    return _done(fig)


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
    return _done(fig)


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
    return _done(fig)


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
        ax.plot(np.arange(len(series_values)) + 0.5, series_values, color=_DARK, lw=1.2)
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
    return _done(fig, tight=False)


# --------------------------------------------------------------------------------------------------
# curves
# --------------------------------------------------------------------------------------------------
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
    return _done(fig)


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
    return _done(fig)


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
    return _done(fig)


def loss_curve(losses: Sequence[float], *, title: str = "training loss"):
    """Loss against epoch, log scale."""
    fig, ax = plt.subplots(figsize=(5.4, 2.8))
    ax.semilogy(np.arange(1, len(losses) + 1), losses, color=AXIS_COLORS["batch"], lw=1.8)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    return _done(fig)
