"""The look every figure of the book shares: colours, fonts and the few drawing helpers.

Defined once here, used by every topic module (and importing the package applies the fonts):

- colours by meaning: :data:`AXIS_COLORS` (batch / time / feature / target), :data:`GATE_COLORS`
  and :data:`GATE_NAMES` (gates in the order :data:`GATES` = i, f, g, o, as in Keras and PyTorch),
  :data:`FW_COLORS` (Keras / PyTorch / NumPy);
- the animations' colour-blind-safe palette (Okabe and Ito, 2008): :data:`BLUE` ... :data:`YELLOW`,
  with :data:`STREAM_COLORS` for one colour per stream or sequence;
- helpers: :func:`done` (lay out, close and return a figure), :func:`blank`, :func:`arrow`,
  :func:`box` (a rounded, labelled box) and :func:`square` (a flat, labelled cell).

>>> GATES, GATE_NAMES["g"]
(('i', 'f', 'g', 'o'), 'candidate g')
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

GATES = ("i", "f", "g", "o")
GATE_COLORS = {"i": "#4C72B0", "f": "#DD8452", "g": "#55A868", "o": "#C44E52"}
GATE_NAMES = {"i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o"}
AXIS_COLORS = {"batch": "#4C72B0", "time": "#DD8452", "feature": "#55A868", "target": "#C44E52"}
FW_COLORS = {"keras": "#8C1D40", "torch": "#E8710A", "numpy": "#4C72B0"}

# Okabe & Ito (2008), safe for the common colour-vision deficiencies (the animations use it).
BLUE, ORANGE, SKY, GREEN = "#0072B2", "#E69F00", "#56B4E9", "#009E73"
VERMILLION, PURPLE, YELLOW = "#D55E00", "#CC79A7", "#F0E442"
GREY, LIGHT, DARK = "#9A9A9A", "#E6E6E6", "#222222"
STREAM_COLORS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, YELLOW)

FONTS = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
}
plt.rcParams.update(FONTS)


def done(fig: Figure, tight: bool = True) -> Figure:
    """Lay ``fig`` out, close it and return it: a cell ending with the call shows it exactly once.

    >>> fig = done(plt.figure())
    >>> plt.fignum_exists(fig.number)
    False
    """
    if tight:
        fig.tight_layout()
    plt.close(fig)
    return fig


def blank(ax) -> None:
    """No axes, ticks or frame, equal units: ``ax`` becomes a drawing canvas."""
    ax.set_axis_off()
    ax.set_aspect("equal")


def arrow(ax, p0, p1, *, color: str = DARK, lw: float = 1.5, ls: str = "-", style: str = "-|>",
          ms: float = 12, shrink: float = 2.0) -> None:  # fmt: skip
    """An arrow from ``p0`` to ``p1`` (data units); ``ms`` sizes the head, ``shrink`` (points) the gaps."""
    ax.add_patch(
        FancyArrowPatch(
            p0,
            p1,
            arrowstyle=style,
            mutation_scale=ms,
            color=color,
            lw=lw,
            linestyle=ls,
            shrinkA=shrink,
            shrinkB=shrink,
        )  # fmt: skip
    )


def box(ax, x, y, w, h, text, color, *, fontsize=10, text_color="white", alpha=1.0) -> None:
    """A rounded box with its lower-left corner at ``(x, y)`` and ``text`` centred in it."""
    ax.add_patch(
        FancyBboxPatch(
            (x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec=DARK, lw=1, alpha=alpha
        )
    )
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", color=text_color, fontsize=fontsize)


def square(ax, x, y, w, h, fc, text="", *, ec="white", lw=1.0, fontsize=7, color=DARK, **kw) -> None:
    """A flat cell (one value of an array) at ``(x, y)``, with optional centred ``text``."""
    ax.add_patch(Rectangle((x, y), w, h, fc=fc, ec=ec, lw=lw, **kw))
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, color=color)
