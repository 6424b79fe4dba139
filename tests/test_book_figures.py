"""The book's figures (``lstm_figures``, in ``book/lstm_figures/``): one package, one name per drawing.

Fast (no book build). Every drawing function draws from small arrays and returns a closed
``Figure``; the package imports from any working directory (it is installed, not found through
``book/``); each name is defined once (no drawing function twice with two signatures, no palette
redefined, no clash with a function of ``lstm_ref``); the docstring examples run. The animations
have their own checks in ``tests/test_book_anim.py``.
"""

from __future__ import annotations

import ast
import doctest
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

import lstm_figures as figs
from lstm_figures import style

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "book" / "lstm_figures"
rng = np.random.default_rng(0)
GATES = {g: rng.uniform(-1 if g == "g" else 0, 1, size=(12, 4)) for g in "ifgo"}  # (T, H) each
MASK = np.arange(6)[None, :] < np.array([6, 4, 2])[:, None]  # (B, T)
MONTHS = np.arange("1949-01", "1950-01", dtype="datetime64[M]")  # (12,)

STATIC = {  # every static drawing function, with small arguments
    "data_cube": lambda: figs.data_cube([(2, 3, 4), (2, 5, 4)], titles=["a", "b"], highlight="time"),
    "shape_flow": lambda: figs.shape_flow([("Input", (None, 10, 3)), ("LSTM(16)", (None, 16))]),
    "bidirectional": lambda: figs.bidirectional(4),
    "window_positions": lambda: figs.window_positions(12, 3, horizon=2, values=np.arange(12.0)),
    "window_counts": lambda: figs.window_counts(12, 3, {"classic": 8, "make_windows": 9}),
    "unrolled": lambda: figs.unrolled(3, outputs="last"),
    "cell_diagram": figs.cell_diagram,
    "activations": figs.activations,
    "gate_histogram": lambda: figs.gate_histogram(GATES, title="gates"),
    "gate_functions": lambda: figs.gate_functions(np.linspace(-3, 3, 7), {"a": np.ones(7), "b": np.zeros(7)}),
    "gate_heatmaps": lambda: figs.gate_heatmaps(GATES, series_values=np.sin(np.arange(12.0))),
    "weight_blocks": lambda: figs.weight_blocks(features=2, hidden=3),
    "param_counts": lambda: figs.param_counts([5, 10], {"a": [10, 10], "b": [12, 12]}, xlabel="T"),
    "param_counts_by_framework": lambda: figs.param_counts_by_framework([4, 8], [176, 608], [192, 640]),
    "initial_biases": lambda: figs.initial_biases(
        np.r_[np.zeros(3), np.ones(3), np.zeros(6)], rng.normal(size=12), rng.normal(size=12)
    ),  # fmt: skip
    "padding_pattern": lambda: figs.padding_pattern([4, 2, 1], padding="pre"),
    "padded_batch": lambda: figs.padded_batch(np.where(MASK, 0.5, 0.0), MASK),
    "packed_layout": lambda: figs.packed_layout([6, 4, 2], [3, 3, 2, 2, 1, 1]),
    "seed_spread": lambda: figs.seed_spread({"a": [1.0, 2.0]}, {"b": 1.5}, "RMSE"),
    "horizon_errors": lambda: figs.horizon_errors({"a": [1.0, 2.0]}, "RMSE"),
    "stateful_grid": lambda: figs.stateful_grid(np.arange(2 * 3 * 4).reshape(2, 3, 4)),
    "chunk_vs_full": lambda: figs.chunk_vs_full(np.sin(np.arange(12.0)), np.sin(np.arange(12.0)), 4),
    "gradient_norms": lambda: figs.gradient_norms({"w = 0.9": 0.9 ** np.arange(10)}),
    "loss_curve": lambda: figs.loss_curve([1.0, 0.5, 0.2]),
    "curves": lambda: figs.curves({"a": [3, 2, 1], "b": [3, 1, 0.5]}, "epoch", "loss", "t", logy=True),
    "series": lambda: figs.series(MONTHS, {"y": np.arange(12.0)}, split=MONTHS[8]),
    "series_split": lambda: figs.series_split(MONTHS, np.arange(12.0), 8, "y", "split"),
    "forecasts": lambda: figs.forecasts(MONTHS[8:], np.arange(4.0), {"model": np.arange(4.0) + 0.1}, "f"),
    "mode_task": lambda: figs.mode_task(
        rng.normal(size=24), np.sign(np.sin(np.arange(24.0))), {"model": np.zeros(24)}, 6
    ),  # fmt: skip
}
ANIMATIONS = {"window_slide", "unrolled_loop", "stateful_streams", "packed_batch_sizes"}


def public_functions(module) -> set[str]:
    return {n for n in module.__all__ if callable(getattr(module, n)) and not n[0].isupper()}


def test_every_drawing_function_is_exercised_here():
    drawn = set().union(*(public_functions(m) for m in figs.MODULES))
    assert drawn == set(STATIC) | ANIMATIONS


@pytest.mark.parametrize("name", sorted(STATIC))
def test_draws_a_closed_figure(name):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig = STATIC[name]()
    assert isinstance(fig, Figure) and fig.axes, name
    assert plt.get_fignums() == before, f"{name} left a figure open: a notebook would show it twice"


def test_one_name_per_drawing_function():
    """No name in two topic modules, and the package exports exactly the topic modules' names."""
    seen: dict[str, str] = {}
    for module in figs.MODULES:
        for name in module.__all__:
            assert name not in seen, f"{name} is defined in {seen[name]} and {module.__name__}"
            seen[name] = module.__name__
            assert getattr(figs, name) is getattr(module, name)
    assert set(seen) <= set(figs.__all__)


def top_level(path: Path) -> tuple[set[str], set[str]]:
    """The functions and the UPPER_CASE constants that a file defines at module level."""
    tree = ast.parse(path.read_text())
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    consts = {
        t.id
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
        if isinstance(t, ast.Name) and t.id.isupper()
    }
    return funcs, consts


def test_shared_style_is_defined_once():
    """Colours, fonts and helpers live in style.py: no topic module redefines them."""
    style_funcs, style_consts = top_level(PACKAGE / "style.py")
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name in ("style.py", "__init__.py"):
            continue
        funcs, consts = top_level(path)
        assert not consts & style_consts, f"{path.name} redefines {sorted(consts & style_consts)}"
        private = {f.lstrip("_") for f in funcs if f.startswith("_")}
        assert not private & style_funcs, f"{path.name} redefines {sorted(private & style_funcs)}"
    assert {"GATE_NAMES", "GATE_COLORS", "AXIS_COLORS"} <= style_consts
    assert style.GATES == ("i", "f", "g", "o")


def test_no_name_clashes_with_the_library():
    """A figure is never named like an ``lstm_ref`` function (``lstm_cell`` became ``cell_diagram``)."""
    library = set()
    for path in (ROOT / "lstm_ref").rglob("*.py"):
        library |= {f for f in top_level(path)[0] if not f.startswith("_")}
    clash = set().union(*(public_functions(m) for m in figs.MODULES)) & library
    assert not clash, f"named like functions of lstm_ref: {sorted(clash)}"


def test_imports_from_any_directory(tmp_path):
    """The chapters import the installed package, not a file that happens to sit in their folder."""
    code = "import lstm_figures, lstm_ref; print(lstm_figures.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()) == PACKAGE / "__init__.py"


@pytest.mark.parametrize(
    "module", ["", *(m.__name__.split(".")[1] for m in figs.MODULES), "style", "animation"]
)
def test_docstring_examples(module):
    mod = sys.modules[f"lstm_figures.{module}" if module else "lstm_figures"]
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(mod, optionflags=flags, verbose=False)
    assert result.failed == 0
