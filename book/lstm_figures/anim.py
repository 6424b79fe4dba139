"""The book's four animations: pictures where the motion is the explanation.

- :func:`window_slide`: a window slides over a series; each position adds one row to ``X``.
- :func:`unrolled_loop`: one cell, the same weights, carrying ``h`` and ``c`` from step to step.
- :func:`stateful_streams`: stream ``r`` continues in row ``r``; the state crosses a ``detach()`` cut.
- :func:`packed_batch_sizes`: ``pack_padded_sequence``'s ``batch_sizes`` shrinking step by step.

Each returns an :class:`~lstm_figures.animation.Animation` (an animated GIF, a still PNG for
reduced motion, alt text and a caption; :mod:`lstm_figures.animation` encodes them). Colours are
Okabe and Ito's colour-blind-safe palette (:mod:`lstm_figures.style`), and every colour is named by
a label or legend on the frame itself. Nothing here imports torch or TensorFlow; the output is
byte-for-byte deterministic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from . import style
from .animation import Animation, render
from .animation import diagram as _diagram
from .style import BLUE, DARK, GREY, LIGHT, ORANGE, SKY, STREAM_COLORS, VERMILLION, YELLOW
from .style import square as _cell

__all__ = ["packed_batch_sizes", "stateful_streams", "unrolled_loop", "window_slide"]

VALUE_CMAP = "PuOr"  # orange for negative values, white near 0, purple for positive
_arrow = partial(style.arrow, lw=1.4, ms=9, shrink=0)  # thinner, smaller heads, touching their ends


def _fmt(values: np.ndarray) -> Callable[[float], str]:
    """Integers print as integers (112), anything else with two decimals."""
    if np.all(np.asarray(values) == np.round(values)):
        return lambda v: f"{v:.0f}"
    return lambda v: f"{v:.2f}"


# --------------------------------------------------------------------------- 1. windows


def window_slide(
    series, look_back: int = 4, horizon: int = 1, *, name: str = "series", xlabel: str = "time step"
) -> Animation:
    """A window slides over a 1-D series; each position adds one row to ``X`` and one to ``y``.

    Left: the series, the current window (``X[i]``) and the value(s) after it (``y[i]``). Right:
    ``X`` with axes labelled batch / time_steps / features, growing one row per position, and ``y``
    beside it. The windows are cut here with plain slicing, ``X[i] = series[i : i + look_back]``,
    so a test can compare them with :func:`lstm_ref.data.make_windows`.

    Args:
        series: shape ``(N,)``, rows in time order; at most 20 windows fit on the frame.
        look_back: time steps per window.
        horizon: values predicted after each window.
        name: what the series is (the left panel's title).
        xlabel: the unit of the series' time axis.

    Returns:
        An :class:`Animation` whose ``meta`` holds ``X`` of shape ``(n, look_back, 1)`` and ``y``
        of shape ``(n, horizon)``, ``n = N - look_back - horizon + 1``.

    >>> a = window_slide(np.arange(10.0), look_back=3)
    >>> a.meta["X"].shape, a.meta["y"].shape, a.frames
    ((7, 3, 1), (7, 1), 14)
    """
    s = np.asarray(series, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"series: expected shape (N,), got {s.shape}")
    n = len(s) - look_back - horizon + 1
    if look_back < 1 or horizon < 1 or n < 1:
        raise ValueError(f"need look_back >= 1, horizon >= 1 and N >= look_back + horizon; got N = {len(s)}")
    if n > 20:
        raise ValueError(f"{n} windows do not fit on one frame; pass a shorter series (at most 20 windows)")
    X = np.stack([s[i : i + look_back] for i in range(n)])[:, :, None]  # (n, look_back, 1)
    y = np.stack([s[i + look_back : i + look_back + horizon] for i in range(n)])  # (n, horizon)
    fmt = _fmt(s)
    cols = look_back + 1 + horizon  # X columns, a gap, y columns
    after = "next value" if horizon == 1 else f"next {horizon} values"
    art: dict = {}  # the artists, made once and updated frame by frame (much faster than redrawing)

    def setup(fig: Figure) -> None:
        ax = fig.add_axes((0.07, 0.2, 0.4, 0.62))
        ax.plot(np.arange(len(s)), s, color=GREY, lw=1.2, zorder=1)
        ax.scatter(np.arange(len(s)), s, s=10, color=DARK, zorder=2)
        art["span"] = ax.axvspan(-0.4, look_back - 0.6, color=SKY, alpha=0.45, lw=0, label="window")
        art["target"] = ax.scatter([0] * horizon, s[:horizon], s=60, color=VERMILLION, zorder=3, label="next")
        art["legend"] = ax.legend(loc="upper left", fontsize=7, frameon=False)
        ax.set_xlabel(xlabel, fontsize=8)
        ax.set_title(name, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.spines[["top", "right"]].set_visible(False)
        g = _diagram(fig, (0.55, 0.05, 0.43, 0.72), cols + 2.2, n + 1.6)
        art["cells"] = []
        for r in range(n):
            top = n - r  # row r occupies [top - 1, top]
            g.text(1.9, top - 0.5, str(r), ha="right", va="center", fontsize=6, color=DARK)
            for c in [c for c in range(cols) if c != look_back]:
                x_side = c < look_back
                value = X[r, c, 0] if x_side else y[r, c - look_back - 1]
                rect = Rectangle((2 + c, top - 1), 1, 1, fc="#F4F4F4", ec="white", lw=1.0)
                g.add_patch(rect)
                text = g.text(2.5 + c, top - 0.5, "", ha="center", va="center", fontsize=6, color=DARK)
                art["cells"].append((r, rect, text, SKY if x_side else "#F3B58F", fmt(value)))
        for c in range(look_back):
            g.text(2.5 + c, n + 0.2, str(c), ha="center", va="bottom", fontsize=6)
        g.text(2 + look_back / 2, n + 0.95, "time_steps →", ha="center", va="bottom", fontsize=7)
        g.text(2.5 + look_back + 1, n + 0.95, "y", ha="left", va="bottom", fontsize=7, color=VERMILLION)
        g.text(0.5, n / 2, "batch (window i) →", rotation=-90, ha="center", va="center", fontsize=7)
        g.text(2 + look_back / 2, -0.1, "features = 1: one value per cell", ha="center", va="top", fontsize=6)
        art["X"] = fig.text(0.765, 0.975, "", ha="center", va="top", fontsize=8.5, color=BLUE)
        art["y"] = fig.text(0.765, 0.91, "", ha="center", va="top", fontsize=8.5, color=VERMILLION)

    def draw(fig: Figure, k: int) -> None:
        if not art:
            setup(fig)
        i, landed = min(k // 2, n - 1), k % 2 == 1  # window i; has row i reached X yet?
        rows = i + 1 if landed else i
        art["span"].set_x(i - 0.4)
        t = np.arange(i + look_back, i + look_back + horizon)
        art["target"].set_offsets(np.column_stack([t, s[t]]))
        art["legend"].get_texts()[0].set_text(f"window → X[{i}]")
        art["legend"].get_texts()[1].set_text(f"{after} → y[{i}]")
        for r, rect, text, color, label in art["cells"]:
            rect.set_facecolor(color if r < rows else "#F4F4F4")
            rect.set_edgecolor(DARK if (landed and r == rows - 1) else "white")
            text.set_text(label if r < rows else "")
        art["X"].set_text(f"X (batch, time_steps, features) = ({rows}, {look_back}, 1)")
        art["y"].set_text(f"y (batch, horizon) = ({rows}, {horizon})")

    durations = [450, 550] * n
    durations[-1] = 3000
    alt = (
        f"Animation: a window of {look_back} values slides one step at a time over {name} ({len(s)} values). "
        f"At each position the window's values become the next row of X and the {horizon} value(s) after it "
        f"the next row of y, so X grows row by row to shape ({n}, {look_back}, 1) "
        f"= (batch, time_steps, features) and y to ({n}, {horizon})."
    )
    caption = (
        f"Each window position is one sample: {n} positions give X of shape ({n}, {look_back}, 1). "
        "A still frame replaces the animation if your system asks for reduced motion."
    )
    meta = {"X": X, "y": y}
    return render(draw, durations, len(durations) - 1, (680, 320), alt, caption, meta, clear=False)


# --------------------------------------------------------------------------- 2. unrolled loop


def unrolled_loop(x, outputs, *, weights: str = "weight_ih, weight_hh, bias") -> Animation:
    """One LSTM cell applied at every time step, carrying ``h`` and ``c`` from step to step.

    At step ``t`` the slice ``x[:, t]`` (batch, features) enters the cell, the cell (the same
    weights at every step, written on every box) produces ``h_t`` and ``c_t``, both move on to step
    ``t + 1``, and ``h_t`` becomes ``outputs[:, t]``: the output strip grows to
    ``(batch, time_steps, hidden)``. Cell colours show the real values of ``x`` and ``outputs``.

    Args:
        x: the input, shape ``(B, T, F)``, ``T <= 8``.
        outputs: the outputs of the loop, shape ``(B, T, H)`` (``h_t`` at every step).
        weights: the names of the weight arrays, printed on the frame.

    Returns:
        An :class:`Animation`; ``meta["shapes"]`` lists the outputs' shape after each step,
        ``(B, 1, H)`` up to ``(B, T, H)``.

    >>> a = unrolled_loop(np.zeros((2, 3, 1)), np.zeros((2, 3, 4)))
    >>> a.meta["shapes"][-1], a.frames
    ((2, 3, 4), 13)
    """
    x, out = np.asarray(x, dtype=float), np.asarray(outputs, dtype=float)
    if x.ndim != 3 or out.ndim != 3 or x.shape[:2] != out.shape[:2]:
        raise ValueError(
            f"expected x (B, T, F) and outputs (B, T, H) with the same B, T; got {x.shape}, {out.shape}"
        )
    B, T, F = x.shape
    H = out.shape[2]
    if T > 8:
        raise ValueError(f"T = {T} steps do not fit on one frame; pass at most 8")
    cmap = colormaps[VALUE_CMAP]
    lim_x = max(float(np.abs(x).max()), 1e-12)  # each array on its own scale, centred on 0
    lim_o = max(float(np.abs(out).max()), 1e-12)
    W = 100.0
    step = (W - 14) / T  # horizontal room per time step
    cw, cy, ch = step * 0.56, 16.0, 9.0  # cell box width, bottom, height
    xb, ob = min(2.4, cw / F), min(2.4, cw / H)  # sides of one input / output square
    oy = 33.0  # bottom of the output squares

    def cx(t: int) -> float:  # left edge of the cell box at step t
        return 10 + t * step

    def squares(ax, x0, y0, values, side, lim, filled=True) -> None:  # a (B, n) block of squares
        for b in range(values.shape[0]):
            for j in range(values.shape[1]):
                fc = cmap(0.5 + 0.5 * values[b, j] / lim) if filled else "#F4F4F4"
                _cell(ax, x0 + j * side, y0 + (values.shape[0] - 1 - b) * side, side, side, fc, lw=0.5)

    def draw(fig: Figure, k: int) -> None:
        t, phase = divmod(k, 4)  # phase 0: x_t enters; 1: the cell runs; 2: h, c in flight; 3: landed
        final = t >= T
        n_out = T if final else t + (phase == 3)  # output steps written so far
        ax = _diagram(fig, (0, 0, 1, 1), W, 50)
        ax.text(W / 2, 47, f"one LSTM cell, the same weights ({weights}) at every step", ha="center",
                fontsize=9)  # fmt: skip
        ax.text(W / 2, 41.5, f"outputs (B, t, H) = ({B}, {n_out}, {H})", ha="center", fontsize=9, color=BLUE)
        ax.text(1, oy + B * ob / 2, "outputs", va="center", fontsize=7, color=BLUE)
        ax.text(1, 4 + B * xb / 2, "inputs", va="center", fontsize=7)
        ax.text(1, cy + ch * 0.72, "h = 0", fontsize=7, color=BLUE, va="center")
        ax.text(1, cy + ch * 0.28, "c = 0", fontsize=7, color=ORANGE, va="center")
        for s in range(T):
            active = s == t and not final
            ran = s < t or final or (active and phase >= 1)
            fc = YELLOW if (active and phase == 1) else ("#DCEEFB" if ran else "#F4F4F4")
            _cell(ax, cx(s), cy, cw, ch, fc, f"LSTM cell\nsame weights\nt = {s}", ec=DARK if active else GREY,
                  lw=2.0 if active else 1.0, fontsize=6)  # fmt: skip
            squares(ax, cx(s) + (cw - F * xb) / 2, 4, x[:, s], xb, lim_x)
            ax.text(cx(s) + cw / 2, 2.2, f"x[:, {s}]", ha="center", fontsize=6)
            if s < t or final or (active and phase >= 1):  # x_t has entered the cell
                _arrow(ax, (cx(s) + cw / 2, 4 + B * xb + 0.3), (cx(s) + cw / 2, cy), color=GREY, lw=1)
            elif active:  # phase 0: x_t on its way up
                _arrow(ax, (cx(s) + cw / 2, 4 + B * xb + 0.3), (cx(s) + cw / 2, cy - 2.5), color=SKY, lw=2.2)
            squares(ax, cx(s) + (cw - H * ob) / 2, oy, out[:, s], ob, lim_o, filled=s < n_out)
            if s < n_out:
                _arrow(ax, (cx(s) + cw / 2, cy + ch), (cx(s) + cw / 2, oy), color=BLUE, lw=1)
        for s in range(T):  # h and c from step s to s + 1, or out of the last step as h_n, c_n
            x0, x1 = cx(s) + cw, (cx(s + 1) if s < T - 1 else W - 1.5)
            moving = not final and s == t and phase >= 2
            if not (s < t or final or moving):
                continue
            end = x0 + 0.5 * (x1 - x0) if (moving and phase == 2) else x1
            lw = 2.2 if moving else 1.2
            _arrow(ax, (x0, cy + ch * 0.72), (end, cy + ch * 0.72), color=BLUE, lw=lw)
            _arrow(ax, (x0, cy + ch * 0.28), (end, cy + ch * 0.28), color=ORANGE, lw=lw)
            if moving and phase == 2:
                ax.text(end, cy + ch * 0.72 + 1.2, f"h{s}", color=BLUE, fontsize=7, ha="center")
                ax.text(end, cy + ch * 0.28 - 2.6, f"c{s}", color=ORANGE, fontsize=7, ha="center")
                mid = cy + ch + 0.5 * (oy - cy - ch)  # h_t rising to the outputs
                _arrow(ax, (cx(s) + cw / 2, cy + ch), (cx(s) + cw / 2, mid), color=BLUE, lw=2.2)
        if final:
            ax.text(W - 1, cy + ch + 1.5, "h_n, c_n\n(B, H)", ha="right", fontsize=7)
        ax.text(W / 2, 0.2, f"x (B, T, F) = ({B}, {T}, {F})   ·   arrows: h blue, c orange   ·   "
                "squares: value, orange < 0 < purple", ha="center", fontsize=6.5)  # fmt: skip

    durations = [350, 450, 350, 450] * T + [3200]
    shapes = [(B, s + 1, H) for s in range(T)]
    alt = (
        f"Animation: an LSTM unrolled over {T} time steps, drawn as {T} boxes that are one cell with the "
        f"same weights. At each step the input slice x[:, t] of shape ({B}, {F}) rises into the cell, the "
        f"hidden state h (blue arrow) and cell state c (orange arrow) move right to the next step, and h "
        f"rises into the output strip, which grows from ({B}, 1, {H}) to ({B}, {T}, {H})."
    )
    caption = (
        f"The loop inside an LSTM layer: one cell, {T} steps, h and c carried forward, outputs "
        f"({B}, {T}, {H}). A still frame replaces the animation if your system asks for reduced motion."
    )
    return render(draw, durations, len(durations) - 1, (700, 340), alt, caption, {"shapes": shapes})


# --------------------------------------------------------------------------- 3. stateful batches


def stateful_streams(n_rows: int = 36, batch_size: int = 3, seq_len: int = 4) -> Animation:
    """Stateful batches: stream ``r`` of a long series continues in row ``r`` from batch to batch.

    The series (``n_rows`` values) is split into ``batch_size`` back-to-back streams, each walked
    ``seq_len`` steps at a time, exactly as :func:`lstm_ref.data.stateful_batches` does (the layout
    is computed here independently so tests can compare). After each batch the state ``(h, c)`` of
    row ``r`` moves on to row ``r`` of the next batch and crosses a ``detach()`` cut: the values go
    on, the graph (and so the backward pass) stops at the cut.

    Args:
        n_rows: length ``N`` of the series.
        batch_size: number of streams = rows per batch (at most 7).
        seq_len: time steps per batch.

    Returns:
        An :class:`Animation`; ``meta["positions"]`` has shape ``(n_batches, batch_size, seq_len)``,
        the series index of every input value, and ``meta["dropped_rows"]`` the rows left out.

    >>> a = stateful_streams(12, batch_size=2, seq_len=3)
    >>> a.meta["positions"][1]
    array([[ 3,  4,  5],
           [ 9, 10, 11]])
    """
    n_batches = n_rows // (batch_size * seq_len)
    if n_batches < 1 or not 1 <= batch_size <= len(STREAM_COLORS) or n_batches > 4 or n_rows > 60:
        raise ValueError(
            f"need 1 <= batch_size <= {len(STREAM_COLORS)}, 1 to 4 batches and n_rows <= 60; got "
            f"n_rows = {n_rows}, batch_size = {batch_size}, seq_len = {seq_len}"
        )
    stream_len = n_batches * seq_len
    k_, r_, t_ = np.meshgrid(np.arange(n_batches), np.arange(batch_size), np.arange(seq_len), indexing="ij")
    positions = r_ * stream_len + k_ * seq_len + t_  # (n_batches, batch_size, seq_len)
    dropped = n_rows - batch_size * stream_len
    W, gap = 100.0, 7.0
    cell = min(5.0, (W - 27 - gap * (n_batches - 1)) / (n_batches * seq_len))
    sw = min(1.6, (W - 4) / n_rows)  # width of one series cell
    per = 4  # frames per batch: its values picked, the batch filled, state at the cut, state arrived

    def bx(k: int) -> float:  # left edge of batch k
        return 9 + k * (seq_len * cell + gap)

    def draw(fig: Figure, f: int) -> None:
        k, phase = divmod(f, per)
        final = k >= n_batches
        shown = n_batches if final else k + (phase >= 1)
        ax = _diagram(fig, (0, 0, 1, 1), W, 50)
        x0 = (W - n_rows * sw) / 2
        for p in range(n_rows):
            r = p // stream_len
            fc = STREAM_COLORS[r] if r < batch_size else LIGHT
            now = not final and r < batch_size and k * seq_len <= p % stream_len < (k + 1) * seq_len
            _cell(ax, x0 + p * sw, 40, sw, 3, fc, ec=DARK if now else "white", lw=1.6 if now else 0.5,
                  alpha=1.0 if now or final else 0.45)  # fmt: skip
        for r in range(batch_size):
            ax.text(x0 + (r + 0.5) * stream_len * sw, 43.6, f"stream {r}", ha="center", fontsize=7,
                    color=STREAM_COLORS[r])  # fmt: skip
        if dropped:
            ax.text(x0 + (n_rows - dropped / 2) * sw, 43.6, "dropped", ha="center", fontsize=6, color=GREY)
        ax.text(
            x0, 46.5, f"series: {n_rows} values, cut into {batch_size} streams of {stream_len}", fontsize=8
        )
        top = 33.0  # top edge of the batch grids
        for b in range(n_batches):
            for r in range(batch_size):
                for t in range(seq_len):
                    on = b < shown
                    _cell(ax, bx(b) + t * cell, top - (r + 1) * cell, cell, cell,
                          STREAM_COLORS[r] if on else "#F4F4F4", str(positions[b, r, t]) if on else "",
                          color="white", fontsize=6.5)  # fmt: skip
            ax.text(bx(b) + seq_len * cell / 2, top + 1, f"batch {b}: ({batch_size}, {seq_len}, 1)",
                    ha="center", fontsize=7, color=DARK if b < shown else GREY)  # fmt: skip
            ax.text(bx(b) + seq_len * cell / 2, top - batch_size * cell - 2.2, "time_steps →", ha="center",
                    fontsize=6)  # fmt: skip
        for r in range(batch_size):
            ax.text(bx(0) - 0.8, top - (r + 0.5) * cell, f"row {r}", ha="right", va="center", fontsize=6)
        ax.text(
            1.5, top - batch_size * cell / 2, "batch →", rotation=-90, ha="center", va="center", fontsize=6
        )
        low = top - batch_size * cell - 4.5  # below the grids: cut labels
        for b in range(n_batches - 1):  # the state crossing from batch b to b + 1
            cut = bx(b) + seq_len * cell + gap / 2
            reached = final or b < k
            flying = not final and b == k and phase >= 2
            if not (reached or flying):
                continue
            ax.plot([cut, cut], [low + 1.5, top + 0.5], color=VERMILLION, lw=2.2 if flying else 1.5, ls="--")
            ax.text(cut, low, "detach():\nvalues go on,\ngraph is cut", ha="center", va="top", fontsize=6,
                    color=VERMILLION)  # fmt: skip
            for r in range(batch_size):
                yy = top - (r + 0.5) * cell
                x1 = bx(b + 1) if (reached or phase == 3) else cut
                _arrow(ax, (bx(b) + seq_len * cell, yy), (x1, yy), color=DARK, lw=2.0 if flying else 1.0)
            if flying:
                ax.text(cut + 0.6 if phase == 3 else cut - 0.6, top + 3.2, "(h, c) of each row",
                        ha="left" if phase == 3 else "right", fontsize=7)  # fmt: skip
        if final:
            ax.text(bx(n_batches - 1) + seq_len * cell + 1, top - batch_size * cell / 2,
                    "last batch;\nreset the state\nbefore the\nnext epoch", va="center", fontsize=6)  # fmt: skip
        ax.text(W / 2, 1.2, "row r of batch k + 1 continues row r of batch k (the numbers: positions in the series)",
                ha="center", fontsize=7)  # fmt: skip

    # the last batch has no state to pass on: its frames stop after "filled"; then the final frame
    frames = list(range(per * (n_batches - 1) + 2)) + [per * n_batches]
    durations = [(600, 900, 500, 700)[f % per] for f in frames[:-1]] + [3200]

    def draw_frame(fig: Figure, i: int) -> None:
        draw(fig, frames[i])

    alt = (
        f"Animation: a series of {n_rows} values is cut into {batch_size} streams of {stream_len}, one colour "
        f"per stream. Batch by batch, {n_batches} in all, the next {seq_len} values of every stream fill "
        f"the batch, stream r always in row r. Between batches, the state (h, c) of each row moves on to "
        f"the same row of the next batch, crossing a dashed cut labelled detach(): the values go on, the "
        f"graph is cut."
    )
    caption = (
        f"Stateful batches ({batch_size} streams, {seq_len} steps per batch): row r continues row r, and "
        "detach() cuts the graph between batches. A still frame replaces the animation if your system "
        "asks for reduced motion."
    )
    meta = {"positions": positions, "dropped_rows": dropped}
    return render(draw_frame, durations, len(durations) - 1, (700, 340), alt, caption, meta)


# --------------------------------------------------------------------------- 4. packed sequences


def packed_batch_sizes(
    lengths: Sequence[int] = (5, 2, 7, 4), batch_sizes: Sequence[int] | None = None
) -> Animation:
    """How ``pack_padded_sequence`` stores a padded batch: ``batch_sizes[t]`` rows at step ``t``.

    The sequences are sorted by length, longest first. A cursor walks the time steps; at step
    ``t`` only the sequences longer than ``t`` are still running, their number is
    ``batch_sizes[t]`` (the bar chart shrinks), and exactly those values are appended to
    ``packed.data``, which fills time step by time step. Padding is never stored.

    Args:
        lengths: the real length of each sequence, shape ``(B,)``, in batch order.
        batch_sizes: ``packed.batch_sizes`` from torch, shape ``(T,)``; checked against ``lengths``
            (``batch_sizes[t] = number of lengths > t``); computed from them when omitted.

    Returns:
        An :class:`Animation`; ``meta`` holds ``batch_sizes`` (list), ``sorted_indices`` (the
        batch rows longest first; ties keep batch order, where torch may order them differently)
        and ``order`` (the sequence of each row of ``packed.data``).

    >>> packed_batch_sizes([3, 1, 2]).meta["batch_sizes"]
    [3, 2, 1]
    """
    lens = np.asarray(lengths)
    if (
        lens.ndim != 1
        or len(lens) > len(STREAM_COLORS)
        or lens.min(initial=1) < 1
        or lens.max(initial=0) > 10
    ):
        raise ValueError(
            f"lengths: expected 1 to {len(STREAM_COLORS)} lengths between 1 and 10, got {lengths}"
        )
    T = int(lens.max())
    sizes = [int((lens > t).sum()) for t in range(T)]
    if batch_sizes is not None and [int(v) for v in batch_sizes] != sizes:
        raise ValueError(
            f"batch_sizes {list(batch_sizes)} do not match lengths {list(lengths)}: expected {sizes}"
        )
    srt = [int(i) for i in np.argsort(-lens, kind="stable")]  # batch rows, longest first
    order = [srt[j] for t in range(T) for j in range(sizes[t])]  # the sequence of each packed.data row
    B, total = len(lens), int(lens.sum())
    W = 100.0
    gc = min(4.0, 44 / T)  # padded-grid cell
    pc = min(4.2, (W - 6 - 0.8 * (T - 1)) / total)  # packed-strip cell

    def draw(fig: Figure, f: int) -> None:
        t, phase = divmod(f, 2)  # phase 0: the cursor is on column t; 1: its values are packed
        final = t >= T
        done = T if final else t + phase  # time steps already packed
        ax = _diagram(fig, (0, 0, 1, 1), W, 50)
        top = 43.0
        ax.text(14, top + 0.8, "padded batch, sorted by length", fontsize=7.5)
        for row, b in enumerate(srt):
            yy = top - (row + 1) * gc
            ax.text(13, yy + gc / 2, f"seq {b} (len {lens[b]})", ha="right", va="center", fontsize=7,
                    color=STREAM_COLORS[b])  # fmt: skip
            for s in range(T):
                real = s < lens[b]
                cursor = not final and s == t
                _cell(ax, 14 + s * gc, yy, gc, gc, STREAM_COLORS[b] if real else LIGHT,
                      "" if real else "pad", fontsize=5.5, color=GREY,
                      ec=DARK if (cursor and real) else "white", lw=1.8 if cursor and real else 0.8,
                      alpha=1.0 if real and (s < done or cursor) else 0.35)  # fmt: skip
        for s in range(T):
            ax.text(14 + (s + 0.5) * gc, top - B * gc - 2, str(s), ha="center", fontsize=6)
        ax.text(14 + T * gc / 2, top - B * gc - 4.5, "time step t", ha="center", fontsize=7)
        if not final:
            ax.add_patch(Rectangle((14 + t * gc, top - B * gc - 0.3), gc, B * gc + 0.6, fill=False, ec=VERMILLION,
                                   lw=2))  # fmt: skip
        bars = fig.add_axes((0.64, 0.5, 0.32, 0.36))
        shown = T if final else t + 1
        bars.bar(range(shown), sizes[:shown], color=SKY, width=0.7, label="batch_sizes[t]")
        for s in range(shown):
            bars.text(s, sizes[s] + 0.1, str(sizes[s]), ha="center", va="bottom", fontsize=7)
        bars.set_xlim(-0.6, T - 0.4)
        bars.set_ylim(0, B + 1)
        bars.set_xticks(range(T))
        bars.set_yticks(range(B + 1))
        bars.tick_params(labelsize=6)
        bars.set_xlabel("time step t", fontsize=7)
        bars.set_title("batch_sizes[t]: sequences still running", fontsize=7.5)
        bars.spines[["top", "right"]].set_visible(False)
        y0, x = 6.0, 3.0
        n_done = sum(sizes[:done])
        ax.text(3, y0 + pc + 5.5, f"packed.data: ({n_done}, F) of ({total}, F), filled time step by time step",
                fontsize=8)  # fmt: skip
        j = 0
        for s in range(T):
            for _ in range(sizes[s]):
                b = order[j]
                if j < n_done:
                    _cell(ax, x, y0, pc, pc, STREAM_COLORS[b], str(b), color="white", fontsize=6)
                else:
                    _cell(ax, x, y0, pc, pc, "#F4F4F4")
                j += 1
                x += pc
            ax.text(x - sizes[s] * pc / 2, y0 - 2.5, f"t={s}", ha="center", fontsize=6)
            x += 0.8
        ax.text(3, y0 + pc + 1.2, "number in a square = the sequence it comes from", fontsize=6)
        ax.text(2, 47, f"lengths {[int(v) for v in lens]}  →  batch_sizes {sizes}", fontsize=8)

    durations = [650, 750] * T + [3200]
    alt = (
        f"Animation: a padded batch of {B} sequences with lengths {[int(v) for v in lens]}, sorted longest "
        f"first. A cursor moves along the {T} time steps; at step t only the sequences still running are "
        f"outlined, a bar chart of batch_sizes[t] grows to {sizes}, shrinking as sequences end, and their "
        f"values are appended to packed.data, which fills to ({total}, F) without any padding."
    )
    caption = (
        f"pack_padded_sequence stores only real steps: batch_sizes = {sizes}. A still frame replaces the "
        "animation if your system asks for reduced motion."
    )
    meta = {"batch_sizes": sizes, "sorted_indices": srt, "order": order}
    return render(draw, durations, len(durations) - 1, (700, 340), alt, caption, meta)
