"""The book's figures and animations, drawn by code from numbers a chapter computed.

Every picture in the book comes from here, so a figure can never disagree with the code beside
it. The package lives in ``book/lstm_figures/`` and is installed with the course (``pip install -e
.`` maps it in ``pyproject.toml``), so a chapter imports it from anywhere, not through its working
directory::

    import lstm_figures as figs

    figs.data_cube((4, 6, 3), highlight="sample")

Each drawing function has one name and one signature, and is re-exported here from its topic
module. Static figures return a closed matplotlib ``Figure`` (a cell ending with the call shows it
exactly once); animations return an :class:`Animation`. Nothing here computes anything an LSTM
does.

==================  =============================================================================
module              what it draws
==================  =============================================================================
``style``           colours, fonts and helpers shared by all (``done``, ``arrow``, ``box``, ...)
``shapes``          ``data_cube``, ``shape_flow``, ``bidirectional``, ``window_positions``,
                    ``window_counts``
``cell``            ``unrolled``, ``cell_diagram``, ``activations``, ``gate_functions``,
                    ``gate_histogram``, ``gate_heatmaps``
``weights``         ``weight_blocks``, ``param_counts``, ``param_counts_by_framework``,
                    ``initial_biases``
``sequences``       ``padding_pattern``, ``padded_batch``, ``packed_layout``, ``stateful_grid``,
                    ``chunk_vs_full``
``training``        ``gradient_norms``, ``loss_curve``, ``curves``, ``series``, ``series_split``,
                    ``forecasts``, ``mode_task``
``forecast``        ``seed_spread``, ``horizon_errors``
``anim``            the four animations: ``window_slide``, ``unrolled_loop``, ``stateful_streams``,
                    ``packed_batch_sizes``
``animation``       ``Animation`` and ``render``: frames to an animated GIF and a still PNG
``i18n``            the figures' labels and the code comments in other languages (the zh_CN edition)
==================  =============================================================================

Needs matplotlib and Pillow (the ``course`` extra), not torch or TensorFlow.

>>> import lstm_figures as figs
>>> figs.cell_diagram()
<Figure size 860x460 with 1 Axes>
"""

from . import anim, cell, forecast, i18n, sequences, shapes, style, training, weights
from .anim import packed_batch_sizes, stateful_streams, unrolled_loop, window_slide
from .animation import Animation
from .cell import activations, cell_diagram, gate_functions, gate_heatmaps, gate_histogram, unrolled
from .forecast import horizon_errors, seed_spread
from .sequences import chunk_vs_full, packed_layout, padded_batch, padding_pattern, stateful_grid
from .shapes import bidirectional, data_cube, shape_flow, window_counts, window_positions
from .style import AXIS_COLORS, FW_COLORS, GATE_COLORS, GATE_NAMES, GATES
from .training import curves, forecasts, gradient_norms, loss_curve, mode_task, series, series_split
from .weights import initial_biases, param_counts, param_counts_by_framework, weight_blocks

i18n.register()  # in a notebook, every figure also carries its translations (lstm_figures.i18n)

MODULES = (shapes, cell, weights, sequences, training, forecast, anim)  # the topic modules, in book order

__all__ = [
    "AXIS_COLORS",
    "FW_COLORS",
    "GATES",
    "GATE_COLORS",
    "GATE_NAMES",
    "MODULES",
    "Animation",
    "anim",
    "cell",
    "forecast",
    "i18n",
    "sequences",
    "shapes",
    "style",
    "training",
    "weights",
    "data_cube",
    "shape_flow",
    "bidirectional",
    "window_positions",
    "window_counts",
    "unrolled",
    "cell_diagram",
    "activations",
    "gate_functions",
    "gate_histogram",
    "gate_heatmaps",
    "weight_blocks",
    "param_counts",
    "param_counts_by_framework",
    "initial_biases",
    "padding_pattern",
    "padded_batch",
    "packed_layout",
    "stateful_grid",
    "chunk_vs_full",
    "gradient_norms",
    "loss_curve",
    "curves",
    "series",
    "series_split",
    "forecasts",
    "mode_task",
    "seed_spread",
    "horizon_errors",
    "window_slide",
    "unrolled_loop",
    "stateful_streams",
    "packed_batch_sizes",
]
