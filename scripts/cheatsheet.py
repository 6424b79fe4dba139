"""Build the printable LSTM shapes cheat sheet: two pages, A4 and Letter, offline.

    python -m scripts.cheatsheet --out book/_static/cheatsheet   # what `make cheatsheet` runs

Writes ``lstm-shapes-cheatsheet-{a4,letter}.html`` and the ``.pdf`` printed from each by Debian's
headless Chromium (``scripts.chromium.local_browser``: the folder served on 127.0.0.1, every other
request refused, and any refused request fails the build). Each part of the sheet lives in one place:

- **the claims** (shape tables, parameter formulas, weight layouts, gate order, the printed code) are
  data, ``scripts/cheatsheet/sheet.toml``; ``tests/test_cheatsheet.py`` checks every one against
  ``torch.nn.LSTM`` and ``keras.layers.LSTM``, and reads the printed PDFs back;
- **what the build works out** (``collect_facts``): the worked parameter counts
  (``lstm_ref.shapes.param_count``), the example batches of ``lstm_ref.data.stateful_batches``, how
  close the printed conversion code brings torch to Keras (run here), the thirteen classic mistakes of
  ``book/shape_tracer.md`` with the diagnoses ``lstm_ref.trace`` gives when the book's cells run here
  (their own asserts included), and the verdicts of ``book/10_misconceptions.md``'s summary table;
- **the page** (``render``): ``scripts/cheatsheet/sheet.html`` and ``sheet.css`` filled in.

After printing, each PDF must have exactly 2 pages of its paper size (pypdf), or the build stops with a
``BuildError`` (exit status 1).
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
import tomllib
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # no TensorFlow C++ log lines
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # no oneDNN banner

import numpy as np  # noqa: E402

from scripts.chromium import CHROMIUM, local_browser  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "cheatsheet"
CONTENT = HERE / "sheet.toml"
NAME = "lstm-shapes-cheatsheet"
PAGES = 2
SIZES = {"a4": ("A4", (595, 842)), "letter": ("Letter", (612, 792))}  # CSS @page size, points
MISTAKES = 13  # the traced mistakes of book/shape_tracer.md, each with its diagnosis, on page 2


class BuildError(Exception):
    """The sheet could not be built as it must be: its sources, or the printed PDF."""


def log(msg: str, start: float | None = None) -> None:
    """One progress line on stdout, with the seconds since ``start``."""
    took = f" ({time.perf_counter() - start:.1f} s)" if start is not None else ""
    print(f"[cheatsheet] {msg}{took}", flush=True)


def content() -> dict:
    """The sheet's claims, ``scripts/cheatsheet/sheet.toml``."""
    return tomllib.loads(CONTENT.read_text(encoding="utf-8"))


def show(expr: str) -> str:
    """An expression as printed: ``4*(F*H + H**2)`` -> ``4(FH + H²)``, ``2*L`` -> ``2L``."""
    if re.search(r"\d\s*\*\s*\d", expr):
        raise ValueError(f"{expr!r}: a product of two numbers would read as one number")
    return expr.replace("**2", "²").replace("*", "").replace("-", "−")


# ---------------------------------------------------------------- what the build works out


def worked_counts(examples: list) -> dict[tuple, dict[str, int]]:
    """``{(F, H, L, bidirectional): {"keras": n, "torch": n}}`` by ``lstm_ref.shapes.param_count``."""
    from lstm_ref.shapes import param_count

    return {
        (F, H, L, bi): {
            fw: param_count(F, H, framework=fw, num_layers=L, bidirectional=bi) for fw in ("keras", "torch")
        }
        for F, H, L, bi in examples
    }


def convert_gap(code: str) -> float:
    """Run the printed conversion ``code`` from a Keras layer to its ``nn.LSTM`` twin; returns the
    largest difference of their outputs on one input (the sheet prints it)."""
    import torch

    from lstm_ref.keras import keras

    keras.utils.set_random_seed(1)  # the same weights, and the same gap, at every build
    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype("float32")
    k_lstm = keras.layers.LSTM(8, return_sequences=True, bias_initializer="random_normal")
    k_out = np.asarray(k_lstm(x))
    ns = {"np": np, "torch": torch, "k_lstm": k_lstm, "t_lstm": torch.nn.LSTM(3, 8, batch_first=True)}
    exec(code, ns)
    with torch.no_grad():
        return float(np.abs(ns["t_lstm"](torch.from_numpy(x))[0].numpy() - k_out).max())


def example_batches() -> list[np.ndarray]:
    """``stateful_batches(np.arange(12), batch_size=2, seq_len=3)``, as the sheet shows them."""
    from lstm_ref.data import stateful_batches

    return list(stateful_batches(np.arange(12.0), batch_size=2, seq_len=3))


def book_mistakes() -> dict[str, str]:
    """The thirteen classic mistakes of ``book/shape_tracer.md`` and their diagnoses, by running the book's
    two cells that define and trace them here: ``{title: diagnosis}``, in the book's order."""
    import torch

    from lstm_ref.keras import keras
    from lstm_ref.torch import ManyToOne
    from lstm_ref.trace import ShapeError, trace

    text = (ROOT / "book" / "shape_tracer.md").read_text()
    cells = re.findall(r"```\{code-cell\} ipython3\n(.*?)```", text, re.S)
    wanted = [c for c in cells if "mistakes = {" in c or "found = {}" in c]
    if len(wanted) != 2:
        raise BuildError(
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
    if len(found) != MISTAKES or list(found) != list(ns["mistakes"]):
        raise BuildError(f"book/shape_tracer.md: expected {MISTAKES} traced mistakes, got {len(found)}")
    # drop the layer's name ("lstm_2 (LSTM): ", "model (ManyToOne): its own forward() ... ValueError: ")
    prefix = re.compile(r"^\S+ \([^)]*\): (?:its own forward\(\) code failed.*?\w+Error: )?")
    return {what: prefix.sub("", d) for what, d in found.items()}


def book_beliefs() -> list[tuple[str, str]]:
    """``(belief, verdict)`` rows of the summary table of ``book/10_misconceptions.md``."""
    text = (ROOT / "book" / "10_misconceptions.md").read_text()
    table = text.split("(mis-summary)=", 1)[1].split("(mis-try)=", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines() if line.startswith("| ") and "{ref}" in line]
    if len(rows) < 10:
        raise BuildError(f"book/10_misconceptions.md: expected its summary table, found {len(rows)} rows")
    return [(a.strip(), b.strip()) for a, b in rows]


def collect_facts(data: dict) -> dict:
    """What the sheet prints beyond its claims: versions, counts, the conversion's gap, the example
    batches, the book's mistakes and beliefs."""
    import keras
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(1)
    facts = {"versions": f"PyTorch {torch.__version__.split('+')[0]}, Keras {keras.__version__}"}
    for key, name, work in [
        ("counts", "the parameter counts of the examples", lambda: worked_counts(data["count_examples"])),
        ("convert_gap", "the conversion code (run)", lambda: convert_gap(data["code"]["convert"])),
        ("batches", "the example stateful batches", example_batches),
        ("mistakes", f"the {MISTAKES} classic mistakes (book/shape_tracer.md, traced)", book_mistakes),
        ("beliefs", "the misconceptions table (book/10_misconceptions.md)", book_beliefs),
    ]:
        t = time.perf_counter()
        facts[key] = work()
        log(f"worked out {name}", t)
    return facts


# ---------------------------------------------------------------- HTML


def _code(text: str) -> str:
    """Inline code in markdown backticks -> <code>, the rest escaped."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _table(head: list[str], rows: list[list[str]]) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def _tt(expr: str) -> str:
    return f"<code>{html.escape(show(expr))}</code>"


def _shape_tables(data: dict) -> dict[str, str]:
    torch_rows = [
        [f"<code>{html.escape(r['what'])}</code>", *(_tt(s[k]) for k in ("input", "output", "h_n")), _tt(s.get("c_n", s["h_n"]))]
        for r in data["torch_shapes"]
        for s in [r["shapes"]]
    ]  # fmt: skip
    keras_rows = [
        [f"<code>{html.escape(r['what'])}</code>", "<br>".join(f"{k} {_tt(v)}" for k, v in r["shapes"].items() if k != "input")]
        for r in data["keras_shapes"]
    ]  # fmt: skip
    return {
        "torch_shapes": _table(["nn.LSTM(F, H, num_layers=L)", "input", "output", "h_n, h0", "c_n, c0"], torch_rows),
        "keras_shapes": _table(["keras.layers.…", "returns (input always (B, T, F))"], keras_rows),
    }  # fmt: skip


def _weight_tables(data: dict) -> dict[str, str]:
    k_weights = [[f"<code>{n}</code>", _tt(s)] for n, s in data["keras_weights"].items()]
    t_weights = [[f"<code>{n}</code>", _tt(s)] for n, s in data["torch_weights"].items()]
    for row in data["torch_weights_more"]:
        config = ", ".join(f"{k}={show(str(v))}" for k, v in row["config"].items())
        t_weights.append([f"<code>{row['name']}</code> <small>({config})</small>", _tt(row["shape"])])
    return {
        "keras_weights": _table(["Keras", "shape"], k_weights),
        "torch_weights": _table(["PyTorch state_dict", "shape"], t_weights),
    }


def _count_tables(data: dict, facts: dict) -> dict[str, str]:
    formulas = "".join(
        f"<tr><td>{html.escape(f['what'])}</td><td class='f'>{html.escape(show(f['expr']))}</td></tr>"
        for f in data["formulas"]
    )
    counts = [
        [f"{F}", f"{H}", f"{L}", "yes" if bi else "no", f"{c['keras']:,}", f"{c['torch']:,}"]
        for (F, H, L, bi), c in facts["counts"].items()
    ]
    return {"formulas": formulas, "counts": _table(["F", "H", "L", "bidir.", "Keras", "PyTorch"], counts)}


def _compact(diagnosis: str) -> str:
    """A diagnosis as the sheet prints it: ``x: expected (names) = (sizes), got shape (4, 10): ...`` becomes
    ``x (4, 10), expected (names) = (sizes): ...`` (the same facts, fewer words; the fix is kept whole).

    >>> _compact("x: expected (batch, features) = (?, 16), got shape (4, 8): axis 1 is 8")
    'x (4, 8), expected (batch, features) = (?, 16): axis 1 is 8'
    """
    head = re.match(r"(\w+): expected (\([^)]*\) = \([^)]*\)), got shape (\([^)]*\)): ", diagnosis)
    if head is None:
        return diagnosis
    name, want, got = head.groups()
    return f"{name} {got}, expected {want}: {diagnosis[head.end() :]}"


def _page_two(facts: dict) -> dict[str, str]:
    batches = facts["batches"]
    stream_rows = [
        [f"row {j}"] + [" ".join(f"{int(v)}" for v in b[j, :, 0]) for b in batches]
        for j in range(batches[0].shape[0])
    ]
    mistakes = "".join(
        f"<li><b>{html.escape(what)}</b> — {_code(_compact(diag))}</li>"
        for what, diag in facts["mistakes"].items()
    )
    return {
        "streams": _table([""] + [f"batch {k}" for k in range(len(batches))], stream_rows),
        "mistakes": mistakes,
        "beliefs": " · ".join(f"<i>{_code(a)}</i>: {_code(b)}" for a, b in facts["beliefs"]),
    }


def render(data: dict, facts: dict, page_size: str) -> str:
    """The sheet's HTML for one paper size (CSS inlined; nothing to load)."""
    code = data["code"]
    fill = {
        "page_size": page_size,
        "css": (HERE / "sheet.css").read_text(),
        "versions": html.escape(facts["versions"]),
        "gate_order": ", ".join(data["gate_order"]),
        "convert_code": html.escape(code["convert"]),
        "convert_gap": f"{facts['convert_gap']:.1g}",
        "keras_stateful": html.escape(code["keras_stateful"]),
        "torch_stateful": html.escape(code["torch_stateful"]),
        **_shape_tables(data),
        **_weight_tables(data),
        **_count_tables(data, facts),
        **_page_two(facts),
    }
    return string.Template((HERE / "sheet.html").read_text()).substitute(fill)


# ---------------------------------------------------------------- print and check the PDFs


def print_pdfs(pages: dict[str, Path]) -> list[str]:
    """Print each ``{paper format: html file}`` (all in one folder) to the .pdf beside it, through
    ``scripts.chromium.local_browser``; returns the URLs it refused (there should be none)."""
    (folder,) = {page.parent for page in pages.values()}
    refused: list[str] = []
    with local_browser(folder, refused) as (base, context):
        for fmt, page_html in pages.items():
            tab = context.new_page()
            tab.goto(f"{base}/{page_html.name}", wait_until="load")
            tab.pdf(
                path=str(page_html.with_suffix(".pdf")),
                format=fmt,
                print_background=True,
                prefer_css_page_size=True,
            )
            tab.close()
    return refused


def check_pdf(pdf: Path, points: tuple[int, int]) -> None:
    """Exactly ``PAGES`` pages of ``points`` (width, height), each with text; else a ``BuildError``."""
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
    if problems:
        raise BuildError(f"{pdf.name}: " + "; ".join(problems))


def build(out: Path) -> None:
    """Write the HTML for both paper sizes into ``out``, print them and check the PDFs."""
    data = content()
    facts = collect_facts(data)
    out.mkdir(parents=True, exist_ok=True)
    pages = {}
    for key, (fmt, _) in SIZES.items():
        pages[fmt] = out / f"{NAME}-{key}.html"
        pages[fmt].write_text(render(data, facts, fmt))
    t = time.perf_counter()
    refused = print_pdfs(pages)
    log(f"printed {', '.join(p.with_suffix('.pdf').name for p in pages.values())} with {CHROMIUM}", t)
    if refused:
        raise BuildError("the sheet must load nothing from the network; refused: " + ", ".join(refused))
    for fmt, points in SIZES.values():
        pdf = pages[fmt].with_suffix(".pdf")
        check_pdf(pdf, points)
        log(f"{pdf}: {PAGES} pages of {points[0]}x{points[1]} pt, {pdf.stat().st_size / 1024:.0f} KiB")


def main(argv: list[str] | None = None) -> int:
    """Build the sheet into ``--out``; 1 if it cannot be built as it must be."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the .html and .pdf files")
    args = parser.parse_args(argv)
    start = t = time.perf_counter()
    import keras  # noqa: F401
    import torch  # noqa: F401

    log("imported torch and keras", t)
    try:
        build(args.out)
    except BuildError as err:
        print(f"[cheatsheet] FAILED: {err}", file=sys.stderr, flush=True)
        return 1
    log("done", start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
