"""Build the printable LSTM shapes cheat sheet: two pages, A4 and Letter, in every language, offline.

    python -m scripts.cheatsheet --out book/_static/cheatsheet   # what `make cheatsheet` runs
    python -m scripts.cheatsheet --catalogue   # after editing the sheet's words: merge them into cheatsheet.po

Writes ``lstm-shapes-cheatsheet-{a4,letter}.html`` and the ``.pdf`` printed from each by Debian's
headless Chromium (``scripts.chromium.local_browser``: the folder served on 127.0.0.1, every other
request refused, and any refused request fails the build), and the same in Chinese,
``lstm-shapes-cheatsheet-{a4,letter}.zh_CN.{html,pdf}`` (the book's zh_CN edition links those,
``book/i18n.py``). Each part of the sheet lives in one place:

- **the claims** (shape tables, parameter formulas, weight layouts, gate order, the printed code) are
  data, ``scripts/cheatsheet/sheet.toml``; ``tests/test_cheatsheet.py`` checks every one against
  ``torch.nn.LSTM`` and ``keras.layers.LSTM``, and reads the printed PDFs back;
- **what the build works out** (``collect_facts``): the worked parameter counts
  (``lstm_ref.shapes.param_count``), the example batches of ``lstm_ref.data.stateful_batches``, how
  close the printed conversion code brings torch to Keras (run here), the thirteen classic mistakes of
  ``book/shape_tracer.md`` with the diagnoses ``lstm_ref.trace`` gives when the book's cells run here
  (their own asserts included; traced again with ``lstm_ref``'s messages in each translation), and the
  verdicts of ``book/10_misconceptions.md``'s summary table;
- **the page** (``render``): ``scripts/cheatsheet/sheet.html`` and ``sheet.css`` filled in;
- **the words** (``texts``): every text in ``[[...]]`` in ``sheet.html``, the words the script prints
  (``WORDS``), the labels of ``sheet.toml`` and the comments of its code, the mistakes' titles and the
  misconceptions' cells. A translation takes each from ``book/locales/<lang>/LC_MESSAGES/cheatsheet.po``
  (``msgids``), or from the page catalogue that has it (``SHARED``); a missing one stops the build.
  Code, shapes and numbers are the English sheet's.

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

from scripts.book import SOURCE, TRANSLATIONS  # noqa: E402
from scripts.chromium import CHROMIUM, local_browser  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "cheatsheet"
CONTENT = HERE / "sheet.toml"
NAME = "lstm-shapes-cheatsheet"
PAGES = 2
SIZES = {"a4": ("A4", (595, 842)), "letter": ("Letter", (612, 792))}  # CSS @page size, points
MISTAKES = 13  # the traced mistakes of book/shape_tracer.md, each with its diagnosis, on page 2
LANGS = (SOURCE, *TRANSLATIONS)  # "en", "zh_CN"
SHARED = ("shape_tracer", "10_misconceptions")  # page catalogues whose translations the sheet reuses
MARK = re.compile(r"\[\[(.+?)\]\]", re.S)  # a translated text of sheet.html
WORDS = {  # the words the script prints around the claims: text -> what it is (for the translator)
    "input": "table header", "output": "table header; also names the tensor a Keras layer returns",
    "returns (input always (B, T, F))": "table header", "shape": "table header", "bidir.": "table header",
    "yes": "bidirectional: yes", "no": "bidirectional: no", "row {j}": "row j of a batch", "batch {k}": "batch k",
    "{0} {1}, expected {2}: {3}": "a diagnosis made shorter: {0} an array's name, {1} its shape, {2} the shape expected, {3} the rest",
    "{0}: {1}": "a belief, and the book's verdict on it",
}  # fmt: skip


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


def book_mistakes() -> dict[str, dict[str, str]]:
    """The thirteen classic mistakes of ``book/shape_tracer.md`` and their diagnoses, by running the book's
    two cells that define and trace them here (in English, the book's asserts included), then tracing each
    model again with ``lstm_ref``'s messages in every translation: ``{lang: {title: diagnosis}}``, the
    titles in the book's order and in English."""
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
    with messages_in(SOURCE), contextlib.redirect_stdout(io.StringIO()):
        for cell in wanted:
            exec(cell, ns)  # the book's own asserts run here too
        found = {SOURCE: {what: _shorter(d) for what, (_, d, _) in ns["found"].items()}}
    for lang in TRANSLATIONS:
        with messages_in(lang):
            found[lang] = {}
            for what, (model, x, *_) in ns["mistakes"].items():
                try:
                    trace(model, x)
                except ShapeError as err:
                    found[lang][what] = _shorter(err.trace.diagnosis)
    for lang, mistakes in found.items():
        if len(mistakes) != MISTAKES or list(mistakes) != list(ns["mistakes"]):
            raise BuildError(
                f"book/shape_tracer.md: expected {MISTAKES} traced mistakes, got {len(mistakes)} ({lang})"
            )
    return found


@contextlib.contextmanager
def messages_in(lang: str):
    """``with messages_in("zh_CN"):`` ``lstm_ref``'s messages in ``lang`` (``lstm_ref.i18n``), as before after."""
    from lstm_ref.i18n import set_language

    set_language(lang)
    try:
        yield
    finally:
        set_language(None)


ONE_WORD = r"\S+?"  # a {name} in lstm_ref's messages


def _fields(template: str, text: str) -> dict[str, str] | None:
    """The values of the ``{placeholders}`` of ``lstm_ref``'s message ``template`` (its msgid, looked up in
    the language set, ``messages_in``) when ``text`` is that message, else ``None``. A ``{name}`` is one
    word; the last placeholder takes the rest."""
    from lstm_ref.i18n import _

    rx, seen = "", set()
    for i, part in enumerate(re.split(r"\{(\w+)\}", _(template))):
        if i % 2 == 0:
            rx += re.escape(part)
        else:
            rx += f"(?P={part})" if part in seen else f"(?P<{part}>{ONE_WORD if part == 'name' else '.*?'})"
            seen.add(part)
    match = re.fullmatch(rx, text, re.S)
    return match.groupdict() if match else None


def _shorter(diagnosis: str) -> str:
    """A diagnosis without the failing layer's name (``lstm_2 (LSTM): ``) and, where the model's own
    ``forward()`` failed, without what ``lstm_ref`` says around the error (``... on x (4, 8): ValueError: ``),
    in the language ``lstm_ref`` writes in."""
    head = _fields("{name} ({kind}): {why}", diagnosis)
    if head is None:
        return diagnosis
    for own in (
        "its own forward() code failed after {name} (not inside one of its modules), on {got}: {error}",
        "its own forward() code failed (not inside one of its modules), on {got}: {error}",
    ):
        failed = _fields(own, head["why"])
        if failed is not None:
            return re.sub(r"^\w+Error: ", "", failed["error"])
    return head["why"]


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


# ---------------------------------------------------------------- the words


def mistake_titles() -> list[str]:
    """The titles of the mistakes in ``book/shape_tracer.md``'s ``mistakes = {...}`` cell, read (not run)."""
    text = (ROOT / "book" / "shape_tracer.md").read_text()
    return re.findall(r'^    "([^"]+)":$', text.split("mistakes = {", 1)[1].split("\n}", 1)[0], re.M)


def texts() -> dict[str, str]:
    """Every English text the sheet translates, ``text -> where it is``: the ``[[...]]`` of ``sheet.html``
    (whitespace as single spaces), ``WORDS``, the labels of ``sheet.toml``'s PyTorch rows and formulas and
    the comments of its code, the mistakes' titles and the misconceptions table's cells. Reads files only."""
    from lstm_figures.i18n import comments

    data = content()
    out = {" ".join(t.split()): "sheet.html" for t in MARK.findall((HERE / "sheet.html").read_text())}
    out |= {text: f"scripts/cheatsheet.py: {what}" for text, what in WORDS.items()}
    out |= {row["what"]: "sheet.toml" for key in ("torch_shapes", "formulas") for row in data[key]}
    for name, code in data["code"].items():
        out |= {text: f"sheet.toml code.{name}" for *_, text in comments(code)}
    out |= dict.fromkeys(mistake_titles(), "book/shape_tracer.md")
    out |= {cell: "book/10_misconceptions.md" for row in book_beliefs() for cell in row}
    return out


def msgids(lang: str = "zh_CN") -> dict[str, str]:
    """The msgids of ``book/locales/<lang>/LC_MESSAGES/cheatsheet.po``: the ``texts`` that no ``SHARED``
    page catalogue translates (``text -> where``, as ``scripts.book_i18n.merge`` takes them)."""
    from lstm_figures.i18n import catalogue

    shared = {msgid for domain in SHARED for msgid in catalogue(domain, lang)}
    return {text: where for text, where in texts().items() if text not in shared}


class Words:
    """The sheet's words in ``lang``: ``words(text)`` is the translation of an English ``text`` (one of
    ``texts``) from ``cheatsheet.po`` or a ``SHARED`` catalogue; ``text`` itself in English. A text that
    ``texts`` does not list, or that no catalogue translates with the same placeholders, is a
    ``BuildError``: nothing is left in English on a translated sheet, and ``msgids`` misses nothing."""

    def __init__(self, lang: str):
        from lstm_figures.i18n import catalogue

        self.lang, self.known, self.table = lang, texts(), {}
        for domain in (*SHARED, "cheatsheet") if lang != SOURCE else ():
            self.table |= catalogue(domain, lang)

    def __call__(self, text: str) -> str:
        if text not in self.known:
            raise BuildError(f"{text!r} is printed but not listed by texts() (so it cannot be translated)")
        if self.lang == SOURCE:
            return text
        done = self.table.get(text)
        if done is None:
            raise BuildError(
                f"no {self.lang} translation of {text!r} in cheatsheet.po (`python -m scripts.cheatsheet"
                f" --catalogue` adds it) or in the page catalogue it comes from ({', '.join(SHARED)})"
            )
        holders = re.compile(r"\$\w+|\{\w*\}")
        if sorted(holders.findall(done)) != sorted(holders.findall(text)):
            raise BuildError(f"the {self.lang} translation of {text!r} changes its placeholders: {done!r}")
        return done

    def md(self, text: str) -> str:
        """A text of ``sheet.html`` translated, as HTML: `code`, **bold** and *italic* as in the book."""
        parts = html.escape(self(" ".join(text.split())), quote=False).split("`")
        for i in range(0, len(parts), 2):
            parts[i] = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", parts[i])
            parts[i] = re.sub(r"\*(.+?)\*", r"<i>\1</i>", parts[i])
        return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))

    def code(self, source: str) -> str:
        """Printed ``source`` with its comments (``lstm_figures.i18n.comments``) translated; the code as it is."""
        from lstm_figures.i18n import comments

        lines = source.splitlines()
        for first, last, col, text in reversed(comments(source) if self.lang != SOURCE else []):
            said = self(text).split("\n")
            if lines[first - 1][:col].strip():  # after code: one line
                lines[first - 1] = lines[first - 1][:col] + "# " + " ".join(said)
            else:
                lines[first - 1 : last] = [f"{lines[first - 1][:col]}# {t}" for t in said]
        return html.escape("\n".join(lines) + ("\n" if source.endswith("\n") else ""))


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


def _shape_tables(data: dict, tr: Words) -> dict[str, str]:
    torch_rows = [
        [tr.md(r["what"]), *(_tt(s[k]) for k in ("input", "output", "h_n")), _tt(s.get("c_n", s["h_n"]))]
        for r in data["torch_shapes"]
        for s in [r["shapes"]]
    ]
    keras_rows = [
        [
            f"<code>{html.escape(r['what'])}</code>",
            "<br>".join(
                f"{tr(k) if k in WORDS else k} {_tt(v)}" for k, v in r["shapes"].items() if k != "input"
            ),
        ]
        for r in data["keras_shapes"]
    ]
    return {
        "torch_shapes": _table(["nn.LSTM(F, H, num_layers=L)", tr("input"), tr("output"), "h_n, h0", "c_n, c0"], torch_rows),
        "keras_shapes": _table(["keras.layers.…", html.escape(tr("returns (input always (B, T, F))"))], keras_rows),
    }  # fmt: skip


def _weight_tables(data: dict, tr: Words) -> dict[str, str]:
    k_weights = [[f"<code>{n}</code>", _tt(s)] for n, s in data["keras_weights"].items()]
    t_weights = [[f"<code>{n}</code>", _tt(s)] for n, s in data["torch_weights"].items()]
    for row in data["torch_weights_more"]:
        config = ", ".join(f"{k}={show(str(v))}" for k, v in row["config"].items())
        t_weights.append([f"<code>{row['name']}</code> <small>({config})</small>", _tt(row["shape"])])
    return {
        "keras_weights": _table(["Keras", tr("shape")], k_weights),
        "torch_weights": _table(["PyTorch state_dict", tr("shape")], t_weights),
    }


def _count_tables(data: dict, facts: dict, tr: Words) -> dict[str, str]:
    formulas = "".join(
        f"<tr><td>{tr.md(f['what'])}</td><td class='f'>{html.escape(show(f['expr']))}</td></tr>"
        for f in data["formulas"]
    )
    counts = [
        [f"{F}", f"{H}", f"{L}", tr("yes") if bi else tr("no"), f"{c['keras']:,}", f"{c['torch']:,}"]
        for (F, H, L, bi), c in facts["counts"].items()
    ]
    head = ["F", "H", "L", tr("bidir."), "Keras", "PyTorch"]
    return {"formulas": formulas, "counts": _table(head, counts)}


def _compact(diagnosis: str, tr: Words) -> str:
    """A diagnosis as the sheet prints it, in ``tr``'s language: ``x: expected (names) = (sizes), got shape
    (4, 10): ...`` becomes ``x (4, 10), expected (names) = (sizes): ...`` (the same facts, fewer words;
    the fix is kept whole).

    >>> _compact("x: expected (batch, features) = (?, 16), got shape (4, 8): axis 1 is 8", Words("en"))
    'x (4, 8), expected (batch, features) = (?, 16): axis 1 is 8'
    """
    with messages_in(tr.lang):
        said = _fields("{name}: expected {layout}, got shape {got}: {reason}", diagnosis)
    if said is None:
        return diagnosis
    return tr("{0} {1}, expected {2}: {3}").format(said["name"], said["got"], said["layout"], said["reason"])


def _page_two(facts: dict, tr: Words) -> dict[str, str]:
    batches = facts["batches"]
    stream_rows = [
        [tr("row {j}").format(j=j)] + [" ".join(f"{int(v)}" for v in b[j, :, 0]) for b in batches]
        for j in range(batches[0].shape[0])
    ]
    mistakes = "".join(
        f"<li><b>{html.escape(tr(what))}</b> — {_code(_compact(diag, tr))}</li>"
        for what, diag in facts["mistakes"][tr.lang].items()
    )
    return {
        "streams": _table([""] + [tr("batch {k}").format(k=k) for k in range(len(batches))], stream_rows),
        "mistakes": mistakes,
        "beliefs": " · ".join(
            tr("{0}: {1}").format(f"<i>{_code(tr(a))}</i>", _code(tr(b))) for a, b in facts["beliefs"]
        ),
    }


def render(data: dict, facts: dict, page_size: str, lang: str = SOURCE) -> str:
    """The sheet's HTML for one paper size in ``lang`` (CSS inlined; nothing to load)."""
    tr, code = Words(lang), data["code"]
    fill = {
        "html_lang": lang.replace("_", "-"),
        "page_size": page_size,
        "css": (HERE / "sheet.css").read_text(),
        "versions": html.escape(facts["versions"]),
        "gate_order": ", ".join(data["gate_order"]),
        "convert_code": tr.code(code["convert"]),
        "convert_gap": f"{facts['convert_gap']:.1g}",
        "keras_stateful": tr.code(code["keras_stateful"]),
        "torch_stateful": tr.code(code["torch_stateful"]),
        **_shape_tables(data, tr),
        **_weight_tables(data, tr),
        **_count_tables(data, facts, tr),
        **_page_two(facts, tr),
    }
    page = MARK.sub(lambda m: tr.md(m.group(1)), (HERE / "sheet.html").read_text())
    return string.Template(page).substitute(fill)


# ---------------------------------------------------------------- print and check the PDFs


def print_pdfs(pages: list[tuple[str, Path]]) -> list[str]:
    """Print each ``(paper format, html file)`` (all in one folder) to the .pdf beside it, through
    ``scripts.chromium.local_browser``; returns the URLs it refused (there should be none)."""
    (folder,) = {page.parent for _, page in pages}
    refused: list[str] = []
    with local_browser(folder, refused) as (base, context):
        for fmt, page_html in pages:
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


def sheet_name(size: str, lang: str = SOURCE) -> str:
    """The file name of a sheet, without its suffix: ``lstm-shapes-cheatsheet-a4``, ``...-a4.zh_CN``."""
    return f"{NAME}-{size}" + ("" if lang == SOURCE else f".{lang}")


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
    """Write the HTML for both paper sizes in every language into ``out``, print them, check the PDFs."""
    data = content()
    facts = collect_facts(data)
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for lang in LANGS:
        for size, (fmt, _) in SIZES.items():
            page = out / f"{sheet_name(size, lang)}.html"
            page.write_text(render(data, facts, fmt, lang), encoding="utf-8")
            pages.append((fmt, page))
    t = time.perf_counter()
    refused = print_pdfs(pages)
    log(f"printed {', '.join(p.with_suffix('.pdf').name for _, p in pages)} with {CHROMIUM}", t)
    if refused:
        raise BuildError("the sheet must load nothing from the network; refused: " + ", ".join(refused))
    for fmt, page in pages:
        points = dict(SIZES.values())[fmt]
        pdf = page.with_suffix(".pdf")
        check_pdf(pdf, points)
        log(f"{pdf}: {PAGES} pages of {points[0]}x{points[1]} pt, {pdf.stat().st_size / 1024:.0f} KiB")


def merge_catalogues() -> None:
    """Bring each translation's ``cheatsheet.po`` in step with ``msgids``: new texts empty, gone ones removed."""
    from scripts.book_i18n import merge

    for lang in TRANSLATIONS:
        merge("cheatsheet", msgids(lang), lang)
        log(f"book/locales/{lang}/LC_MESSAGES/cheatsheet.po: {len(msgids(lang))} msgids")


def main(argv: list[str] | None = None) -> int:
    """Build the sheet into ``--out``; 1 if it cannot be built as it must be."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the .html and .pdf files")
    parser.add_argument("--catalogue", action="store_true", help="merge the sheet's texts into cheatsheet.po")
    args = parser.parse_args(argv)
    if args.catalogue:
        merge_catalogues()
        return 0
    if args.out is None:
        parser.error("--out is required")
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
