"""Build the printable LSTM shapes cheat sheet: two pages, A4 and Letter, offline, every claim checked.

    python scripts/cheatsheet.py --out book/_static/cheatsheet   # what `make cheatsheet` runs

Writes ``lstm-shapes-cheatsheet-{a4,letter}.html`` and the ``.pdf`` printed from each by Debian's
headless Chromium (Playwright, every request that is not ``file:`` or ``data:`` refused and counted).

Every shape, formula and number on the sheet is computed here, then checked before anything is printed:

- the shape tables are Python expressions over the symbols B, T, F, H, L, P (``"(2*L, B, H)"``),
  printed as written (``(2L, B, H)``) and evaluated for two sets of sizes against
  ``lstm_ref.shapes`` and against a real ``torch.nn.LSTM`` / ``keras.layers.LSTM`` run on that input;
- the parameter formulas likewise, against ``lstm_ref.shapes.param_count`` and the frameworks' counts;
- the gate equations, by one step computed from them with the gate blocks in the printed order,
  against both frameworks; the conversion rules and the stateful recipes, by running the printed code;
- the twelve classic mistakes are the book's own (``book/shape_tracer.md``), their fixes the
  diagnoses ``lstm_ref.trace`` gives when the book's cell runs here.

Any disagreement stops the build with a ``CheckError`` (exit status 1) that names the claim. After
printing, each PDF must have exactly 2 pages of the right size (pypdf).
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import os
import re
import string
import sys
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow C++ log lines
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # no oneDNN banner

import warnings  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from chromium import CHROMIUM, launch  # noqa: E402

warnings.filterwarnings("ignore", message="LSTM with projections is not supported with oneDNN")

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "cheatsheet"
NAME = "lstm-shapes-cheatsheet"
PAGES = 2
SIZES = {"a4": ("A4", (595, 842)), "letter": ("Letter", (612, 792))}  # CSS @page size, points
# Two sets of sizes for the symbols; every expression on the sheet is evaluated with both.
SIZES_CHECKED = [dict(B=4, T=5, F=3, H=6, L=2, P=2), dict(B=3, T=7, F=2, H=5, L=3, P=4)]

# ---------------------------------------------------------------- the claims printed on the sheet

# PyTorch: (what the row changes, keyword arguments of nn.LSTM(F, H, num_layers=L, ...), shapes)
TORCH_SHAPES = [
    ("default", {}, {"input": "(T, B, F)", "output": "(T, B, H)", "h_n": "(L, B, H)"}),
    ("batch_first=True", {"batch_first": True}, {"input": "(B, T, F)", "output": "(B, T, H)", "h_n": "(L, B, H)"}),
    (
        "+ bidirectional",
        {"batch_first": True, "bidirectional": True},
        {"input": "(B, T, F)", "output": "(B, T, 2*H)", "h_n": "(2*L, B, H)"},
    ),
    (
        "+ proj_size=P",
        {"batch_first": True, "proj_size": "P"},
        {"input": "(B, T, F)", "output": "(B, T, P)", "h_n": "(L, B, P)", "c_n": "(L, B, H)"},
    ),
]  # fmt: skip
# Keras: (the layer, keyword arguments, shapes in the order the layer returns them)
KERAS_SHAPES = [
    ("LSTM(H)", {}, {"input": "(B, T, F)", "output": "(B, H)"}),
    ("return_sequences=True", {"return_sequences": True}, {"input": "(B, T, F)", "output": "(B, T, H)"}),
    (
        "return_state=True",
        {"return_state": True},
        {"input": "(B, T, F)", "output": "(B, H)", "h": "(B, H)", "c": "(B, H)"},
    ),
    ("Bidirectional(LSTM(H))", {"bidirectional": True}, {"input": "(B, T, F)", "output": "(B, 2*H)"}),
    (
        "Bidirectional, return_sequences",
        {"bidirectional": True, "return_sequences": True},
        {"input": "(B, T, F)", "output": "(B, T, 2*H)"},
    ),
    (
        "Bidirectional, return_state",
        {"bidirectional": True, "return_state": True},
        {
            "input": "(B, T, F)",
            "output": "(B, 2*H)",
            "h_forward": "(B, H)",
            "c_forward": "(B, H)",
            "h_backward": "(B, H)",
            "c_backward": "(B, H)",
        },
    ),
]
# Parameter counts: (key, framework, what it counts, expression, the configurations it covers)
FORMULAS = [
    ("keras", "keras", "Keras, one layer", "4*(F*H + H**2 + H)", {"L": [1], "D": [1]}),
    ("torch", "torch", "PyTorch, one layer", "4*(F*H + H**2 + 2*H)", {"L": [1], "D": [1]}),
    (
        "keras_stack",
        "keras",
        "Keras, L layers",
        "D*(4*(F*H + H**2 + H) + 4*(L-1)*(D*H**2 + H**2 + H))",
        {"L": [1, 2, 3], "D": [1, 2]},
    ),
    (
        "torch_stack",
        "torch",
        "PyTorch, L layers",
        "D*(4*(F*H + H**2 + 2*H) + 4*(L-1)*(D*H**2 + H**2 + 2*H))",
        {"L": [1, 2, 3], "D": [1, 2]},
    ),
    ("torch_proj", "torch", "PyTorch, proj_size=P", "4*H*(F + P) + 8*H + P*H", {"L": [1], "D": [1]}),
]
# Worked examples of the counts: (F, H, L, bidirectional)
COUNT_EXAMPLES = [(1, 4, 1, False), (3, 8, 1, False), (3, 8, 2, False), (3, 8, 2, True), (7, 32, 2, True)]
# Weights: (name, shape); the PyTorch rows with their configuration
KERAS_WEIGHTS = {"kernel": "(F, 4*H)", "recurrent_kernel": "(H, 4*H)", "bias": "(4*H,)"}
TORCH_WEIGHTS = {
    "weight_ih_l0": "(4*H, F)",
    "weight_hh_l0": "(4*H, H)",
    "bias_ih_l0": "(4*H,)",
    "bias_hh_l0": "(4*H,)",
}
TORCH_WEIGHTS_MORE = [  # (configuration, name, shape)
    ({"num_layers": 2, "bidirectional": True}, "weight_ih_l1_reverse", "(4*H, 2*H)"),
    ({"proj_size": "P"}, "weight_hh_l0", "(4*H, P)"),
    ({"proj_size": "P"}, "weight_hr_l0", "(P, H)"),
]  # fmt: skip
GATE_ORDER = "ifgo"  # the blocks of every 4H axis, in both frameworks

# The printed code, run by the checks below (names: see their namespaces).
CONVERT_CODE = """\
kernel, recurrent, bias = k_lstm.get_weights()
sd = {"weight_ih_l0": kernel.T,     # (4H, F)
      "weight_hh_l0": recurrent.T,  # (4H, H)
      "bias_ih_l0": bias,           # (4H,)
      "bias_hh_l0": 0 * bias}       # Keras: one bias
t_lstm.load_state_dict(
    {k: torch.from_numpy(v) for k, v in sd.items()})
# back: kernel = weight_ih_l0.T,
#   recurrent_kernel = weight_hh_l0.T,
#   bias = bias_ih_l0 + bias_hh_l0 (the sum)
"""
KERAS_STATEFUL = """\
X, Y = stateful_arrays(series, batch_size=B,
                       seq_len=T, targets=True)
inputs = keras.Input(batch_shape=(B, T, F))
lstm = keras.layers.LSTM(H, stateful=True,
                         return_sequences=True)
model = keras.Model(
    inputs, keras.layers.Dense(1)(lstm(inputs)))
model.compile(optimizer="adam", loss="mse")
for epoch in range(epochs):
    model.fit(X, Y, batch_size=B, epochs=1,
              shuffle=False, verbose=0)
    lstm.reset_state()  # after each pass
"""
TORCH_STATEFUL = """\
lstm = nn.LSTM(F, H, batch_first=True)
head = nn.Linear(H, 1)
opt = torch.optim.Adam([*lstm.parameters(),
                        *head.parameters()])
for epoch in range(epochs):
    state = None  # zeros: the streams start again
    for X, Y in stateful_batches(series, B, T,
                                 targets=True):
        out, (h, c) = lstm(torch.from_numpy(X), state)
        loss = nn.functional.mse_loss(
            head(out), torch.from_numpy(Y))
        opt.zero_grad(); loss.backward(); opt.step()
        state = (h.detach(), c.detach())  # cut graph
"""
CODE_WIDTH = 54  # characters of a code line that fit a column without wrapping


class CheckError(Exception):
    """A claim on the sheet disagrees with lstm_ref or with the framework."""


def log(msg: str, start: float | None = None) -> None:
    """One progress line on stdout, with the seconds since ``start``."""
    took = f" ({time.perf_counter() - start:.1f} s)" if start is not None else ""
    print(f"[cheatsheet] {msg}{took}", flush=True)


def show(expr: str) -> str:
    """An expression as printed: ``4*(F*H + H**2)`` -> ``4(FH + H²)``, ``2*L`` -> ``2L``."""
    if re.search(r"\d\s*\*\s*\d", expr):
        raise ValueError(f"{expr!r}: a product of two numbers would read as one number")
    return expr.replace("**2", "²").replace("*", "").replace("-", "−")


def value(expr, sizes: dict):
    """An expression (or a plain value) evaluated with the sizes of the symbols."""
    return eval(expr, {"__builtins__": {}}, dict(sizes)) if isinstance(expr, str) else expr


def _config(kwargs: dict, sizes: dict) -> dict:
    return {k: value(v, sizes) for k, v in kwargs.items()}


def _compare(problems: list, where: str, claimed, **found) -> None:
    """Record a problem for every source in ``found`` that disagrees with the claimed value."""
    for source, got in found.items():
        if got != claimed:
            problems.append(f"{where}: the sheet says {claimed}, {source} says {got}")


def _raise(problems: list, what: str) -> None:
    if problems:
        raise CheckError(
            f"{what}: {len(problems)} claim(s) on the sheet are wrong:\n  " + "\n  ".join(problems)
        )


# ---------------------------------------------------------------- checks against lstm_ref and the frameworks


def check_torch_shapes(rows: list | None = None) -> None:
    """Each PyTorch shape row against ``torch_lstm_shapes`` and a real nn.LSTM given (h0, c0) of that shape."""
    rows = TORCH_SHAPES if rows is None else rows
    import torch

    from lstm_ref.shapes import torch_lstm_shapes

    problems: list[str] = []
    for sizes in SIZES_CHECKED:
        B, T, F, H, L = (sizes[k] for k in "BTFHL")
        for what, kwargs, shapes in rows:
            cfg = _config(kwargs, sizes)
            claim = {k: value(v, sizes) for k, v in shapes.items()}
            claim.setdefault("c_n", claim["h_n"])  # the sheet: c_n like h_n unless it says otherwise
            ref = torch_lstm_shapes(B, T, F, H, num_layers=L, **cfg)
            lstm = torch.nn.LSTM(F, H, num_layers=L, **cfg)
            try:  # x, h0 and c0 built in the claimed shapes of input, h_n and c_n
                with torch.no_grad():
                    out, (h, c) = lstm(
                        torch.zeros(claim["input"]), (torch.zeros(claim["h_n"]), torch.zeros(claim["c_n"]))
                    )
            except RuntimeError as err:
                problems.append(f"torch {what} {sizes}: nn.LSTM refuses the sheet's shapes {claim}: {err}")
                continue
            real = {
                "input": claim["input"],
                "output": tuple(out.shape),
                "h_n": tuple(h.shape),
                "c_n": tuple(c.shape),
            }
            for k, v in claim.items():
                _compare(problems, f"torch {what} {k} {sizes}", v, lstm_ref=ref[k], torch=real[k])
    _raise(problems, "PyTorch shapes")


def check_keras_shapes(rows: list | None = None) -> None:
    """Each Keras shape row against ``keras_lstm_shapes`` and a real layer called on that input."""
    rows = KERAS_SHAPES if rows is None else rows
    from lstm_ref.keras import keras
    from lstm_ref.shapes import keras_lstm_shapes

    problems: list[str] = []
    for sizes in SIZES_CHECKED:
        B, T, F, H = (sizes[k] for k in "BTFH")
        for what, kwargs, shapes in rows:
            claim = {k: value(v, sizes) for k, v in shapes.items()}
            bidirectional = kwargs.get("bidirectional", False)
            ref = keras_lstm_shapes(B, T, F, H, **kwargs)
            layer_kw = {k: v for k, v in kwargs.items() if k != "bidirectional"}
            layer = keras.layers.LSTM(H, **layer_kw)
            layer = keras.layers.Bidirectional(layer) if bidirectional else layer
            try:
                out = layer(np.zeros(claim["input"], "float32"))
            except ValueError as err:
                problems.append(f"keras {what} {sizes}: the layer refuses input {claim['input']}: {err}")
                continue
            real = [claim["input"]] + [
                tuple(t.shape) for t in (out if isinstance(out, list | tuple) else [out])
            ]
            _compare(problems, f"keras {what} {sizes}: returns", list(claim), lstm_ref=list(ref))
            _compare(
                problems,
                f"keras {what} {sizes}",
                list(claim.values()),
                lstm_ref=list(ref.values()),
                keras=real,
            )
    _raise(problems, "Keras shapes")


def _torch_count(F: int, H: int, L: int, D: int, P: int = 0) -> int:
    import torch

    lstm = torch.nn.LSTM(F, H, num_layers=L, bidirectional=D == 2, proj_size=P)
    return sum(p.numel() for p in lstm.parameters())


def _keras_count(F: int, H: int, L: int, D: int) -> int:
    from lstm_ref.keras import keras

    layers = []
    for k in range(L):
        lstm = keras.layers.LSTM(H, return_sequences=k < L - 1)
        layers.append(keras.layers.Bidirectional(lstm) if D == 2 else lstm)
    return keras.Sequential([keras.Input(shape=(None, F)), *layers]).count_params()


def check_formulas(formulas: list | None = None, examples: list | None = None) -> dict[tuple, dict[str, int]]:
    """Each parameter formula against ``param_count`` and the framework's own count; returns the
    worked examples' counts, ``{(F, H, L, bidirectional): {"keras": n, "torch": n}}``."""
    formulas = FORMULAS if formulas is None else formulas
    examples = COUNT_EXAMPLES if examples is None else examples
    from lstm_ref.shapes import param_count

    problems: list[str] = []
    keras_checked = set()
    for _, framework, what, expr, grid in formulas:
        for F in (1, 3, 7):
            for H in (2, 5, 8):
                for L in grid["L"]:
                    for D in grid["D"]:
                        P = (H - 1) if "P" in expr else 0
                        cfg = dict(num_layers=L, bidirectional=D == 2, proj_size=P)
                        ref = param_count(F, H, framework=framework, **cfg)
                        where = f"{what} {show(expr)} at F={F}, H={H}, L={L}, D={D}" + (
                            f", P={P}" if P else ""
                        )
                        claimed = value(expr, dict(F=F, H=H, L=L, D=D, P=P))
                        found = {"lstm_ref": ref}
                        if framework == "torch":
                            found["torch"] = _torch_count(F, H, L, D, P)
                        elif (F, H) in ((3, 5), (7, 8)) and (F, H, L, D) not in keras_checked:
                            keras_checked.add((F, H, L, D))  # building Keras models is slow: a sample
                            found["keras"] = _keras_count(F, H, L, D)
                        _compare(problems, where, claimed, **found)
    counts = {}
    for F, H, L, bi in examples:
        D = 2 if bi else 1
        counts[(F, H, L, bi)] = {
            fw: param_count(F, H, framework=fw, num_layers=L, bidirectional=bi) for fw in ("keras", "torch")
        }
        _compare(
            problems,
            f"keras count F={F} H={H} L={L} D={D}",
            counts[(F, H, L, bi)]["keras"],
            keras=_keras_count(F, H, L, D),
        )
        _compare(problems, f"torch count F={F} H={H} L={L} D={D}", counts[(F, H, L, bi)]["torch"], torch=_torch_count(F, H, L, D))  # fmt: skip
    _raise(problems, "parameter counts")
    return counts


def check_weights() -> None:
    """The weight tables against ``keras_weight_shapes`` / ``torch_param_shapes`` and real layers."""
    import torch

    from lstm_ref.keras import keras
    from lstm_ref.shapes import keras_weight_shapes, torch_param_shapes

    problems: list[str] = []
    for sizes in SIZES_CHECKED:
        F, H = sizes["F"], sizes["H"]
        layer = keras.layers.LSTM(H)
        layer.build((None, None, F))
        real = dict(
            zip(
                ["kernel", "recurrent_kernel", "bias"],
                [tuple(w.shape) for w in layer.get_weights()],
                strict=True,
            )
        )
        ref = keras_weight_shapes(F, H)
        for name, expr in KERAS_WEIGHTS.items():
            _compare(
                problems,
                f"keras {name} {sizes}",
                value(expr, sizes),
                lstm_ref=ref.get(name),
                keras=real.get(name),
            )
        rows = [({}, name, expr) for name, expr in TORCH_WEIGHTS.items()] + TORCH_WEIGHTS_MORE
        for kwargs, name, expr in rows:
            cfg = _config(kwargs, sizes)
            real = {k: tuple(v.shape) for k, v in torch.nn.LSTM(F, H, **cfg).state_dict().items()}
            ref = torch_param_shapes(F, H, **cfg)
            _compare(problems, f"torch {name} {cfg} {sizes}", value(expr, sizes), lstm_ref=ref.get(name), torch=real.get(name))  # fmt: skip
    _raise(problems, "weight shapes")


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def sheet_step(a: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One step of the sheet's equations from the pre-activations ``a`` (B, 4H), blocks in GATE_ORDER."""
    z = dict(zip(GATE_ORDER, np.split(a, 4, axis=-1), strict=True))
    c_new = _sigmoid(z["f"]) * c + _sigmoid(z["i"]) * np.tanh(z["g"])
    return _sigmoid(z["o"]) * np.tanh(c_new), c_new


def check_gates() -> None:
    """The printed equations and gate order reproduce one step of nn.LSTM and keras LSTM (random weights)."""
    import torch

    from lstm_ref.keras import keras

    rng = np.random.default_rng(0)
    B, F, H = 3, 4, 5
    x, h0, c0 = (rng.standard_normal(s).astype("float32") for s in [(B, 1, F), (B, H), (B, H)])
    lstm = torch.nn.LSTM(F, H, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype("float32")))
        _, (h_t, c_t) = lstm(torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    W, U, b1, b2 = (p.detach().numpy() for p in lstm.parameters())
    mine = sheet_step(x[:, 0] @ W.T + h0 @ U.T + b1 + b2, c0)
    layer = keras.layers.LSTM(H, return_state=True, bias_initializer="random_normal")
    _, k_h, k_c = layer(x, initial_state=[h0, c0])
    kernel, recurrent, bias = layer.get_weights()
    k_mine = sheet_step(x[:, 0] @ kernel + h0 @ recurrent + bias, c0)
    gaps = {
        "torch h": np.abs(mine[0] - h_t[0].numpy()).max(),
        "torch c": np.abs(mine[1] - c_t[0].numpy()).max(),
        "keras h": np.abs(k_mine[0] - np.asarray(k_h)).max(),
        "keras c": np.abs(k_mine[1] - np.asarray(k_c)).max(),
    }
    bad = [f"{k}: max |difference| {v:.2g}" for k, v in gaps.items() if not v < 1e-4]
    _raise(bad, f"gate equations with the gate order {GATE_ORDER}")


def check_convert() -> float:
    """Run CONVERT_CODE on a Keras layer; the torch LSTM must then compute the same (returns the gap)."""
    import torch

    from lstm_ref.convert import keras_state_dict
    from lstm_ref.keras import keras

    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype("float32")
    k_lstm = keras.layers.LSTM(8, return_sequences=True, bias_initializer="random_normal")
    k_out = np.asarray(k_lstm(x))
    ns = {"np": np, "torch": torch, "k_lstm": k_lstm, "t_lstm": torch.nn.LSTM(3, 8, batch_first=True)}
    exec(CONVERT_CODE, ns)
    with torch.no_grad():
        gap = float(np.abs(ns["t_lstm"](torch.from_numpy(x))[0].numpy() - k_out).max())
    problems = (
        [f"torch output differs from Keras by {gap:.2g} after the printed conversion"] if gap > 1e-5 else []
    )
    for name, v in keras_state_dict(k_lstm).items():  # the package's converter says the same
        if not np.array_equal(v, ns["sd"][name]):
            problems.append(f"{name}: the printed rule differs from lstm_ref.convert.keras_state_dict")
    _raise(problems, "weight conversion")
    return gap


def check_stateful() -> list[np.ndarray]:
    """Run both stateful recipes on a sine; return the example batches of ``stateful_batches``."""
    import torch

    from lstm_ref.data import stateful_arrays, stateful_batches
    from lstm_ref.keras import keras

    series = np.sin(np.arange(90) / 4).astype("float32")
    common = dict(np=np, series=series, B=4, T=5, F=1, H=3, epochs=2)
    k_ns = dict(common, keras=keras, stateful_arrays=stateful_arrays)
    exec(KERAS_STATEFUL, k_ns)
    t_ns = dict(common, torch=torch, nn=torch.nn, stateful_batches=stateful_batches)
    exec(TORCH_STATEFUL, t_ns)
    problems = []
    if not np.isfinite(t_ns["loss"].item()) or tuple(t_ns["state"][0].shape) != (1, 4, 3):
        problems.append(f"PyTorch recipe: loss {t_ns['loss']}, state {tuple(t_ns['state'][0].shape)}")
    if any(np.abs(np.asarray(v)).max() != 0 for v in k_ns["lstm"].states):
        problems.append("Keras recipe: reset_state() left a non-zero state")
    for old, new in (("batch_input_shape", "keras.Input(batch_shape=...)"), ("reset_states", "reset_state")):
        if old == "batch_input_shape":
            try:
                keras.layers.LSTM(2, batch_input_shape=(1, 3, 1))
                problems.append("Keras 3 accepted LSTM(batch_input_shape=...)")
            except ValueError:
                pass
        elif hasattr(k_ns["model"], old) or not hasattr(k_ns["lstm"], new):
            problems.append("Keras 3: Model.reset_states exists, or LSTM.reset_state does not")
    _raise(problems, "stateful recipes")
    return list(stateful_batches(np.arange(12.0), batch_size=2, seq_len=3))


def book_mistakes() -> dict[str, str]:
    """The twelve classic mistakes of ``book/shape_tracer.md`` and their diagnoses, by running the book's
    two cells that define and trace them here: ``{title: diagnosis}``, in the book's order."""
    import torch

    from lstm_ref.keras import keras
    from lstm_ref.torch import ManyToOne
    from lstm_ref.trace import ShapeError, trace

    text = (ROOT / "book" / "shape_tracer.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, re.S)
    wanted = [c for c in cells if "mistakes = {" in c or "found = {}" in c]
    if len(wanted) != 2:
        raise CheckError(
            "book/shape_tracer.md: expected the cell defining `mistakes` and the one tracing them"
        )
    ns = {
        "np": np,
        "torch": torch,
        "keras": keras,
        "ManyToOne": ManyToOne,
        "trace": trace,
        "ShapeError": ShapeError,
    }
    keras.backend.clear_session()  # layer names from lstm_1 again, as in a fresh book kernel
    with contextlib.redirect_stdout(io.StringIO()):
        for cell in wanted:
            exec(cell, ns)  # the book's own asserts run here too
    found = {what: diagnosis for what, (_, diagnosis, _) in ns["found"].items()}
    if len(found) != 12 or list(found) != list(ns["mistakes"]):
        raise CheckError(f"book/shape_tracer.md: expected 12 traced mistakes, got {len(found)}")
    # drop the layer's name ("lstm_2 (LSTM): ", "model (ManyToOne): its own forward() ... ValueError: ")
    prefix = re.compile(r"^\S+ \([^)]*\): (?:its own forward\(\) code failed.*?\w+Error: )?")
    return {what: prefix.sub("", d) for what, d in found.items()}


def book_beliefs() -> list[tuple[str, str]]:
    """``(belief, verdict)`` rows of the summary table of ``book/10_misconceptions.md``."""
    text = (ROOT / "book" / "10_misconceptions.md").read_text()
    table = text.split("(mis-summary)=", 1)[1].split("(mis-try)=", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines() if line.startswith("| ") and "{ref}" in line]
    if len(rows) < 10:
        raise CheckError(f"book/10_misconceptions.md: expected its summary table, found {len(rows)} rows")
    return [(a.strip(), b.strip()) for a, b in rows]


# ---------------------------------------------------------------- HTML


def _code(text: str) -> str:
    """Inline code in markdown backticks -> <code>, the rest escaped."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _shape_table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _tt(expr: str) -> str:
    return f"<code>{html.escape(show(expr))}</code>"


def render(facts: dict, page_size: str) -> str:
    """The sheet's HTML for one paper size (CSS inlined; nothing to load)."""
    torch_rows = [
        [f"<code>{html.escape(w)}</code>", _tt(s["input"]), _tt(s["output"]), _tt(s["h_n"]), _tt(s.get("c_n", s["h_n"]))]
        for w, _, s in TORCH_SHAPES
    ]  # fmt: skip
    keras_rows = [
        [f"<code>{html.escape(w)}</code>", "<br>".join(f"{k} {_tt(v)}" for k, v in s.items() if k != "input")]
        for w, _, s in KERAS_SHAPES
    ]
    for code in (CONVERT_CODE, KERAS_STATEFUL, TORCH_STATEFUL):
        for line in code.splitlines():
            if len(line) > CODE_WIDTH:
                raise CheckError(f"code line wider than {CODE_WIDTH} characters would wrap: {line!r}")
    formulas = "".join(
        f"<tr><td>{html.escape(what)}</td><td class='f'>{html.escape(show(expr))}</td></tr>"
        for _, _, what, expr, _ in FORMULAS
    )
    counts = [
        [f"{F}", f"{H}", f"{L}", "yes" if bi else "no", f"{c['keras']:,}", f"{c['torch']:,}"]
        for (F, H, L, bi), c in facts["counts"].items()
    ]
    k_weights = [[f"<code>{n}</code>", _tt(s)] for n, s in KERAS_WEIGHTS.items()]
    t_weights = [[f"<code>{n}</code>", _tt(s)] for n, s in TORCH_WEIGHTS.items()] + [
        [
            f"<code>{n}</code> <small>({', '.join(f'{k}={show(str(v))}' for k, v in kw.items())})</small>",
            _tt(s),
        ]
        for kw, n, s in TORCH_WEIGHTS_MORE
    ]
    batches = facts["batches"]
    stream_rows = [
        [f"row {j}"] + [" ".join(f"{int(v)}" for v in b[j, :, 0]) for b in batches]
        for j in range(batches[0].shape[0])
    ]
    mistakes = "".join(
        f"<li><b>{html.escape(what)}</b> — {_code(diag)}</li>" for what, diag in facts["mistakes"].items()
    )
    beliefs = " · ".join(f"<i>{_code(a)}</i>: {_code(b)}" for a, b in facts["beliefs"])
    fill = {
        "page_size": page_size,
        "css": (HERE / "sheet.css").read_text(),
        "versions": html.escape(facts["versions"]),
        "gate_order": ", ".join(GATE_ORDER),
        "torch_shapes": _shape_table(["nn.LSTM(F, H, num_layers=L)", "input", "output", "h_n, h0", "c_n, c0"], torch_rows),
        "keras_shapes": _shape_table(["keras.layers.…", "returns (input always (B, T, F))"], keras_rows),
        "formulas": formulas,
        "counts": _shape_table(["F", "H", "L", "bidir.", "Keras", "PyTorch"], counts),
        "keras_weights": _shape_table(["Keras", "shape"], k_weights),
        "torch_weights": _shape_table(["PyTorch state_dict", "shape"], t_weights),
        "convert_code": html.escape(CONVERT_CODE),
        "convert_gap": f"{facts['convert_gap']:.1g}",
        "keras_stateful": html.escape(KERAS_STATEFUL),
        "torch_stateful": html.escape(TORCH_STATEFUL),
        "streams": _shape_table([""] + [f"batch {k}" for k in range(len(batches))], stream_rows),
        "mistakes": mistakes,
        "beliefs": beliefs,
    }  # fmt: skip
    return string.Template((HERE / "sheet.html").read_text()).substitute(fill)


# ---------------------------------------------------------------- print and check the PDFs


def print_pdfs(pages: dict[str, Path]) -> dict[str, list[str]]:
    """Print each ``{paper format: html file}`` to the .pdf beside it with headless Chromium; any
    request other than ``file:``/``data:`` is refused. Returns the refused URLs per format."""
    from playwright.sync_api import sync_playwright

    refused: dict[str, list[str]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        for fmt, page_html in pages.items():
            context = browser.new_context()
            refused[fmt] = []

            def route(r, seen=refused[fmt]):
                if r.request.url.startswith(("file:", "data:")):
                    r.continue_()
                else:
                    seen.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("request", lambda req, seen=refused[fmt]: None if req.url.startswith(("file:", "data:")) else seen.append(req.url))  # fmt: skip
            page.goto(page_html.resolve().as_uri(), wait_until="load")
            page.pdf(
                path=str(page_html.with_suffix(".pdf")),
                format=fmt,
                print_background=True,
                prefer_css_page_size=True,
            )
            context.close()
        browser.close()
    return refused


def check_pdf(pdf: Path, points: tuple[int, int]) -> None:
    """Exactly ``PAGES`` pages of ``points`` (width, height), each with text."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    problems = []
    if len(reader.pages) != PAGES:
        problems.append(f"{len(reader.pages)} pages, expected {PAGES} (the content overflows: shorten it)")
    for k, page in enumerate(reader.pages):
        size = (float(page.mediabox.width), float(page.mediabox.height))
        if max(abs(a - b) for a, b in zip(size, points, strict=True)) > 1:
            problems.append(f"page {k + 1} is {size} pt, expected {points}")
        if len(page.extract_text() or "") < 500:
            problems.append(f"page {k + 1} has almost no extractable text")
    _raise(problems, pdf.name)


def collect_facts() -> dict:
    """Run every check and return what the sheet prints beyond its fixed claims."""
    import keras
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    facts = {"versions": f"PyTorch {torch.__version__.split('+')[0]}, Keras {keras.__version__}"}
    for name, check in [
        ("PyTorch shapes", check_torch_shapes),
        ("Keras shapes", check_keras_shapes),
        ("weight shapes", check_weights),
        ("gate equations", check_gates),
    ]:
        t = time.perf_counter()
        check()
        log(f"checked {name} against lstm_ref and the framework", t)
    for key, name, fn in [
        ("counts", "parameter formulas", check_formulas),
        ("convert_gap", "the conversion code", check_convert),
        ("batches", "both stateful recipes (run)", check_stateful),
        ("mistakes", "the 12 classic mistakes (book/shape_tracer.md, traced)", book_mistakes),
        ("beliefs", "the misconceptions table (book/10_misconceptions.md)", book_beliefs),
    ]:
        t = time.perf_counter()
        facts[key] = fn()
        log(f"checked {name}", t)
    return facts


def main(argv: list[str] | None = None) -> int:
    """Check every claim, write the HTML, print the PDFs and check them; 1 if anything disagrees."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the .html and .pdf files")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    t = time.perf_counter()
    import keras  # noqa: F401
    import torch  # noqa: F401

    log("imported torch and keras", t)
    try:
        facts = collect_facts()
        args.out.mkdir(parents=True, exist_ok=True)
        pages = {}
        for key, (fmt, _) in SIZES.items():
            pages[fmt] = args.out / f"{NAME}-{key}.html"
            pages[fmt].write_text(render(facts, fmt))
        t = time.perf_counter()
        refused = print_pdfs(pages)
        log(f"printed {', '.join(p.with_suffix('.pdf').name for p in pages.values())} with {CHROMIUM}", t)
        for fmt, urls in refused.items():
            _raise(
                [f"refused request {u}" for u in urls], f"{fmt}: the sheet must load nothing from the network"
            )
        for fmt, points in SIZES.values():
            pdf = pages[fmt].with_suffix(".pdf")
            check_pdf(pdf, points)
            log(f"{pdf}: {PAGES} pages of {points[0]}x{points[1]} pt, {pdf.stat().st_size / 1024:.0f} KiB")
    except CheckError as err:
        print(f"[cheatsheet] FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    log("done", start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
