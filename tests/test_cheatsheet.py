"""The cheat sheet (``python -m scripts.cheatsheet``): two printable pages (A4 and Letter), in English and in
Chinese, whose claims agree with the frameworks.

Its claims are data, ``scripts/cheatsheet/sheet.toml``; the script only renders and prints them. Here
they are checked against torch and Keras directly, not through the script or ``lstm_ref``, twice: the
printed PDFs of both languages are read back with pypdf (parameter counts of real layers, the printed
formulas evaluated on several sizes, the printed state shapes fed to a real ``nn.LSTM``), and the claims
that are easier to run than to read back (the Keras rows with their return order, the weight tables, the
gate equations in the printed order, the conversion and stateful code) are checked from the data file.
The Chinese sheet must read as Chinese (no English sentence, every glyph printed in the CJK font) and its
words come from ``book/locales/zh_CN/LC_MESSAGES/cheatsheet.po``, which must hold exactly the sheet's texts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from conftest import launch

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"a4": (595, 842), "letter": (612, 792)}  # points
LANGS = {"en": "", "zh_CN": ".zh_CN"}  # each language's sheet: the suffix of its file names
YES_NO = {"en": ("yes", "no"), "zh_CN": ("是", "否")}
OUTPUT = {"en": "output", "zh_CN": "输出"}  # how a Keras row names the tensor the layer returns
PO = ROOT / "book" / "locales" / "zh_CN" / "LC_MESSAGES" / "cheatsheet.po"
CJK = re.compile(r"[\u3400-\u9fff]")
# four English words in a row, outside code (a word touching "." or "(" is code): a sentence left in English
ENGLISH = re.compile(r"(?<![\w.])[A-Za-z]{2,}(?:[,;:]?\s+[A-Za-z]{2,}){3,}(?![\w(])")
CLAIMS = tomllib.loads((ROOT / "scripts" / "cheatsheet" / "sheet.toml").read_text(encoding="utf-8"))
# two sets of sizes for the symbols: every claim checked from the data file is evaluated with both
SIZES_CHECKED = [dict(B=4, T=5, F=3, H=6, L=2, P=2), dict(B=3, T=7, F=2, H=5, L=3, P=4)]


def value(expr, sizes: dict):
    """A claim's expression (``"(2*L, B, H)"``) or plain value, evaluated with the sizes of the symbols."""
    return eval(expr, {"__builtins__": {}}, dict(sizes)) if isinstance(expr, str) else expr


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> Path:
    """Build the sheet into a temporary folder (no book lock needed: nothing under book/ is written)."""
    out = tmp_path_factory.mktemp("cheatsheet")
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.cheatsheet", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # catches a hang; a cold TensorFlow import alone once took 155 s
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "[cheatsheet] worked out the parameter counts of the examples" in proc.stdout
    assert re.search(r"\[cheatsheet\] done \([\d.]+ s\)", proc.stdout), proc.stdout
    assert proc.stderr.strip() == "", proc.stderr[-2000:]  # framework noise silenced
    return out


def text_of(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(pdf).pages]


def pdf_of(sheet: Path, size: str, lang: str = "en") -> Path:
    return sheet / f"lstm-shapes-cheatsheet-{size}{LANGS[lang]}.pdf"


def zh_words() -> dict[str, str]:
    """The Chinese of the sheet's own words, from the committed catalogue."""
    import polib

    return {e.msgid: e.msgstr for e in polib.pofile(str(PO))}


def squash(s: str) -> str:
    """Text without whitespace, so that line breaks in the PDF do not matter."""
    return re.sub(r"\s+", "", s)


def as_python(printed: str) -> str:
    """A printed formula or shape as Python: ``4(FH + H²)`` -> ``4*(F*H + H**2)``, ``2L`` -> ``2*L``."""
    s = printed.replace("²", "**2").replace("−", "-")
    return re.sub(r"(?<=[0-9A-Z)])(?=[A-Z(])", "*", s)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", SIZES)
def test_two_pages_of_the_right_size(sheet, size, lang):
    from pypdf import PdfReader

    pages = PdfReader(pdf_of(sheet, size, lang)).pages
    assert len(pages) == 2
    for page in pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == SIZES[size]
        text = page.extract_text()
        assert len(text) > 2000  # real text, not an image
        assert "\x00" not in text, "a character printed without a glyph (a font is missing)"


@pytest.mark.parametrize("size", SIZES)
def test_the_chinese_sheet_is_chinese(sheet, size):
    """Both pages in Chinese, printed in WenQuanYi Micro Hei, with no English sentence left (the detector
    finds the English sheet's), and page 2 carries every shape and number of the English diagnoses."""
    from pypdf import PdfReader

    english = text_of(pdf_of(sheet, size))
    assert all(len(ENGLISH.findall(text)) > 5 for text in english)  # the check sees English where it is
    reader = PdfReader(pdf_of(sheet, size, "zh_CN"))
    for k, page in enumerate(reader.pages):
        text = page.extract_text()
        assert len(CJK.findall(text)) > 300, (k, text[:500])
        assert ENGLISH.findall(text) == [], k
        fonts = {str(f.get_object().get("/BaseFont")) for f in page["/Resources"]["/Font"].values()}
        assert any("WenQuanYiMicroHei" in f for f in fonts), fonts
    tuples = re.compile(r"\(\d+(?:,\d+)*\)")
    zh_page2 = squash(reader.pages[1].extract_text())
    assert set(tuples.findall(squash(english[1]))) <= set(tuples.findall(zh_page2))


@pytest.mark.parametrize("lang", LANGS)
def test_parameter_counts_match_the_frameworks(sheet, lang):
    """The worked counts and the printed formulas, against torch's numel and Keras's count_params."""
    import torch
    from keras import Input, Sequential, layers

    def torch_count(F, H, L=1, bi=False, P=0):
        lstm = torch.nn.LSTM(F, H, num_layers=L, bidirectional=bi, proj_size=P)
        return sum(p.numel() for p in lstm.parameters())

    def keras_count(F, H, L=1, bi=False):
        stack = [layers.LSTM(H, return_sequences=k < L - 1) for k in range(L)]
        return Sequential(
            [Input((None, F))] + [layers.Bidirectional(s) if bi else s for s in stack]
        ).count_params()

    page1 = text_of(pdf_of(sheet, "a4", lang))[0]
    yes, no = YES_NO[lang]
    rows = re.findall(rf"^(\d+) (\d+) (\d+) ({yes}|{no}) ([\d,]+) ([\d,]+)$", page1, re.M)
    assert len(rows) >= 4, page1
    for F, H, L, bi, k, t in rows:
        F, H, L, bi = int(F), int(H), int(L), bi == yes
        assert int(k.replace(",", "")) == keras_count(F, H, L, bi), (F, H, L, bi)
        assert int(t.replace(",", "")) == torch_count(F, H, L, bi), (F, H, L, bi)
    assert (7, 32, 2, True) in {(int(a), int(b), int(c), d == yes) for a, b, c, d, _, _ in rows}

    # the formula table, in sheet.toml's order: "Keras, one layer 4(FH + H² + H)" or "Keras ，单层 4(...)"
    printed = re.findall(r"^((?:Keras|PyTorch) ?[,，][^\n]*?) ([0-9DH4][^\n]*[)H])$", page1, re.M)
    labels = [row["what"].replace("`", "") for row in CLAIMS["formulas"]]
    assert len(printed) == len(labels), printed
    if lang == "en":
        assert [label for label, _ in printed] == labels
    formulas = dict(zip(labels, (formula for _, formula in printed), strict=True))
    assert formulas["Keras, one layer"] == "4(FH + H² + H)"
    assert formulas["PyTorch, one layer"] == "4(FH + H² + 2H)"
    for F, H in ((2, 3), (5, 4)):
        for L, bi in ((1, False), (2, False), (3, True)):
            v = dict(F=F, H=H, L=L, D=2 if bi else 1, P=H - 1)
            assert eval(as_python(formulas["Keras, L layers"]), v) == keras_count(F, H, L, bi)
            assert eval(as_python(formulas["PyTorch, L layers"]), v) == torch_count(F, H, L, bi)
        v = dict(F=F, H=H, P=H - 1)
        assert eval(as_python(formulas["Keras, one layer"]), v) == keras_count(F, H)
        assert eval(as_python(formulas["PyTorch, one layer"]), v) == torch_count(F, H)
        assert eval(as_python(formulas["PyTorch, proj_size=P"]), v) == torch_count(F, H, P=H - 1)


@pytest.mark.parametrize("lang", LANGS)
def test_torch_shapes_match_a_real_lstm(sheet, lang):
    """Each printed PyTorch row (input, output, h_n, c_n), evaluated and fed to / read from nn.LSTM."""
    import torch

    page1 = text_of(pdf_of(sheet, "letter", lang))[0]
    shape = r"(\([A-Z0-9, ]+\))"
    rows = re.findall(rf"{shape} {shape} {shape} {shape}", page1)
    assert len(rows) == 4, page1
    options = [{}, {"batch_first": True}, {"batch_first": True, "bidirectional": True}, {"batch_first": True, "proj_size": 2}]  # fmt: skip
    assert "(T, B, F)" in rows[0][0] and "(2L, B, H)" in rows[2]  # the layouts learners get wrong
    for opts, row in zip(options, rows, strict=True):
        v = dict(B=4, T=6, F=3, H=5, L=2, P=2)
        x_shape, out_shape, h_shape, c_shape = (eval(as_python(s), v) for s in row)
        lstm = torch.nn.LSTM(3, 5, num_layers=2, **opts)
        out, (h, c) = lstm(torch.zeros(x_shape), (torch.zeros(h_shape), torch.zeros(c_shape)))
        assert (tuple(out.shape), tuple(h.shape), tuple(c.shape)) == (out_shape, h_shape, c_shape), (
            opts,
            row,
        )


@pytest.mark.parametrize("lang", LANGS)
def test_keras_shapes_and_weights(sheet, lang):
    """Keras rows: LSTM(H) -> (B, H), return_sequences -> (B, T, H), Bidirectional -> 2H; weight shapes."""
    from keras import layers

    page1 = squash(text_of(pdf_of(sheet, "a4", lang))[0])
    x = np.zeros((4, 6, 3), "float32")
    output = OUTPUT[lang]
    cases = {
        f"LSTM(H){output}(B,H)": layers.LSTM(5)(x).shape,
        f"return_sequences=True{output}(B,T,H)": layers.LSTM(5, return_sequences=True)(x).shape,
        f"Bidirectional(LSTM(H)){output}(B,2H)": layers.Bidirectional(layers.LSTM(5))(x).shape,
    }
    v = dict(B=4, T=6, F=3, H=5)
    for printed, real in cases.items():
        assert printed in page1, printed
        assert eval(as_python(printed.split(output)[1].replace(",", ", ")), v) == tuple(real)
    lstm = layers.LSTM(5)
    lstm.build((None, None, 3))
    for name, w in zip(("kernel", "recurrent_kernel", "bias"), lstm.get_weights(), strict=True):
        printed = re.search(rf"(?<!_){name}(\([^)]*\))", page1).group(1)
        assert eval(as_python(printed.replace(",", ", ")), v) == w.shape, name


@pytest.mark.parametrize("lang", LANGS)
def test_every_traced_mistake_with_its_fix(sheet, lang):
    """The 13 titles of book/shape_tracer.md's mistakes (in Chinese, as cheatsheet.po says), each followed
    by its diagnosis, on page 2."""
    source = (ROOT / "book" / "shape_tracer.md").read_text()
    cell = source.split("mistakes = {", 1)[1].split("}  # fmt: skip", 1)[0]
    titles = re.findall(r'^    "([^"]+)":$', cell, re.M)
    assert len(titles) == 13, titles
    if lang != "en":
        titles = [zh_words()[title] for title in titles]
    for size in SIZES:
        page2 = squash(text_of(pdf_of(sheet, size, lang))[1])
        for n, title in enumerate(titles, 1):
            assert f"{n}.{squash(title)}—" in page2, (size, title)
        for fix in ("x.permute(0,2,1)", "return_sequences=True", "torch.cat([h_n[-2],h_n[-1]],dim=1)",
                    "h0=torch.zeros(1,4,2)", "keras.Input(shape=(None,3))"):  # fmt: skip
            assert fix in page2, fix
        for recipe in ("keras.Input(batch_shape=(B,T,F))", "stateful=True", "lstm.reset_state()",
                       "shuffle=False", "(h.detach(),c.detach())"):  # fmt: skip
            assert recipe in page2, recipe


def test_nothing_from_the_network(sheet):
    """No http(s) resource in the HTML, only local fonts, and Chromium requests nothing else when loading it."""
    from playwright.sync_api import sync_playwright

    for size, lang in [(size, lang) for size in SIZES for lang in LANGS]:
        page_html = pdf_of(sheet, size, lang).with_suffix(".html").read_text()
        assert f'<html lang="{lang.replace("_", "-")}">' in page_html
        assert not re.search(
            r"""(src|href)\s*=\s*["']?https?:|url\(\s*["']?https?:|@import|@font-face""", page_html
        )
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)pt", page_html)]
        assert sizes and min(sizes) >= 7.5  # legible in print
        assert not re.search(r"font-size:\s*[\d.]+(px|em|rem|%)", page_html)
    requests: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(pdf_of(sheet, "a4", "zh_CN").with_suffix(".html").as_uri(), wait_until="load")
        browser.close()
    assert [u for u in requests if urlparse(u).scheme not in ("file", "data")] == []


def test_page_count_is_checked(load_script, tmp_path):
    """A PDF with a third page (the content overflowed) fails the build."""
    from pypdf import PdfWriter

    cs = load_script("cheatsheet")
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    pdf = tmp_path / "three.pdf"
    writer.write(pdf)
    with pytest.raises(cs.BuildError, match="3 pages, expected 2"):
        cs.check_pdf(pdf, (595, 842))


def test_the_catalogue_translates_exactly_the_sheets_words(load_script):
    """cheatsheet.po holds exactly the texts the sheet translates that no page catalogue has, each
    translated, and passes `python -m scripts.book_i18n check` (glossary, code spans, no English left)."""
    import polib

    from scripts.book_i18n import catalogue_problems

    cs = load_script("cheatsheet")
    po = polib.pofile(str(PO))
    assert {e.msgid for e in po} == set(cs.msgids("zh_CN"))
    assert [e.msgid for e in po if not e.msgstr or "fuzzy" in e.flags or e.obsolete] == []
    assert catalogue_problems(PO) == []
    assert "Parameter counts" in cs.msgids() and "false" not in cs.msgids()  # 10_misconceptions.po has it


def test_a_word_without_its_translation_stops_the_build(load_script):
    """A text the catalogue lacks, one whose translation drops a placeholder, and one the sheet does not
    list are each a BuildError, never English on the Chinese sheet."""
    cs = load_script("cheatsheet")
    words = cs.Words("zh_CN")
    assert words("Symbols") == zh_words()["Symbols"] and words("false") != "false"
    del words.table["Symbols"]
    with pytest.raises(cs.BuildError, match="no zh_CN translation of 'Symbols'"):
        words("Symbols")
    words.table["row {j}"] = "第 {i} 行"
    with pytest.raises(cs.BuildError, match="placeholders"):
        words("row {j}")
    with pytest.raises(cs.BuildError, match="not listed"):
        words("a sentence that is not on the sheet")


# --------------------------------------------------------------------------- the claims, from the data file


@pytest.mark.parametrize("sizes", SIZES_CHECKED)
def test_every_keras_row_returns_what_the_sheet_says(sizes):
    """Each Keras row: the layer returns as many arrays as the row names, of the shapes it gives, and
    the ``h`` ones are where the row puts them (the output of a layer that returns one step is made of them)."""
    from keras import layers

    x = np.random.default_rng(0).standard_normal(value("(B, T, F)", sizes)).astype("float32")
    for row in CLAIMS["keras_shapes"]:
        config = dict(row["config"])
        bidirectional = config.pop("bidirectional", False)
        layer = layers.LSTM(sizes["H"], **config)
        layer = layers.Bidirectional(layer) if bidirectional else layer
        claim = {name: value(shape, sizes) for name, shape in row["shapes"].items()}
        assert claim.pop("input") == x.shape, row["what"]
        out = layer(x)
        out = out if isinstance(out, list | tuple) else [out]
        assert len(out) == len(claim), row["what"]
        returned = dict(zip(claim, (np.asarray(t) for t in out), strict=True))
        assert {k: v.shape for k, v in returned.items()} == claim, row["what"]
        H, out = sizes["H"], returned["output"]
        for name, part in [("h", out), ("h_forward", out[..., :H]), ("h_backward", out[..., H:])]:
            if name in returned:  # the last step's output is made of the final h of each direction
                np.testing.assert_allclose(returned[name], part, atol=1e-6, err_msg=row["what"])


@pytest.mark.parametrize("sizes", SIZES_CHECKED)
def test_the_weight_tables_match_the_frameworks(sizes):
    """Keras's kernel, recurrent_kernel and bias; every PyTorch state_dict row, with its configuration."""
    import torch
    from keras import layers

    F, H = sizes["F"], sizes["H"]
    lstm = layers.LSTM(H)
    lstm.build((None, None, F))
    for name, shape in CLAIMS["keras_weights"].items():
        assert tuple(getattr(lstm.cell, name).shape) == value(shape, sizes), name
    rows = [({}, name, shape) for name, shape in CLAIMS["torch_weights"].items()]
    rows += [(r["config"], r["name"], r["shape"]) for r in CLAIMS["torch_weights_more"]]
    for config, name, shape in rows:
        config = {k: value(v, sizes) for k, v in config.items()}
        assert tuple(torch.nn.LSTM(F, H, **config).state_dict()[name].shape) == value(shape, sizes), config


def _sheet_step(a: np.ndarray, c: np.ndarray, order: str) -> tuple[np.ndarray, np.ndarray]:
    """One step of the sheet's equations from the pre-activations ``a`` (B, 4H), the blocks in ``order``."""
    z = dict(zip(order, np.split(a, 4, axis=-1), strict=True))
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    c_new = sigmoid(z["f"]) * c + sigmoid(z["i"]) * np.tanh(z["g"])
    return sigmoid(z["o"]) * np.tanh(c_new), c_new


def _gate_gaps(order: str) -> dict[str, float]:
    """How far one step of the sheet's equations, blocks in ``order``, is from nn.LSTM and keras LSTM
    (random weights, biases and state)."""
    import torch
    from keras import layers

    rng = np.random.default_rng(0)
    B, F, H = 3, 4, 5
    x, h0, c0 = (rng.standard_normal(s).astype("float32") for s in [(B, 1, F), (B, H), (B, H)])
    lstm = torch.nn.LSTM(F, H, batch_first=True)
    with torch.no_grad():
        for p in lstm.parameters():
            p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape)).astype("float32")))
        _, (h, c) = lstm(torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    W, U, b_ih, b_hh = (p.detach().numpy() for p in lstm.parameters())
    t_h, t_c = _sheet_step(x[:, 0] @ W.T + h0 @ U.T + b_ih + b_hh, c0, order)
    layer = layers.LSTM(H, return_state=True, bias_initializer="random_normal")
    _, k_h, k_c = layer(x, initial_state=[h0, c0])
    kernel, recurrent, bias = layer.get_weights()
    m_h, m_c = _sheet_step(x[:, 0] @ kernel + h0 @ recurrent + bias, c0, order)
    pairs = {"torch h": (t_h, h[0]), "torch c": (t_c, c[0]), "keras h": (m_h, k_h), "keras c": (m_c, k_c)}
    return {k: float(np.abs(a - np.asarray(b)).max()) for k, (a, b) in pairs.items()}


def test_the_gate_equations_in_the_printed_order():
    """One step from the printed equations, blocks in the printed order, is both frameworks' step; in
    CS231n's order (i, f, o, g) it is neither's, so the check tells the two apart."""
    assert CLAIMS["gate_order"] == "ifgo"
    gaps = _gate_gaps(CLAIMS["gate_order"])
    assert max(gaps.values()) < 1e-4, gaps
    wrong = _gate_gaps("ifog")
    assert min(wrong[k] for k in ("torch h", "keras h")) > 1e-2, wrong


def test_the_conversion_code_makes_torch_compute_what_keras_does():
    """The printed Keras -> PyTorch code, run: the nn.LSTM then gives the Keras layer's outputs, and the
    way back it prints (kernel = weight_ih_l0.T ..., bias = the sum of the two) holds."""
    import torch
    from keras import layers

    x = np.random.default_rng(1).standard_normal((4, 6, 3)).astype("float32")
    k_lstm = layers.LSTM(8, return_sequences=True, bias_initializer="random_normal")
    k_out = np.asarray(k_lstm(x))
    ns = {"torch": torch, "k_lstm": k_lstm, "t_lstm": torch.nn.LSTM(3, 8, batch_first=True)}
    exec(CLAIMS["code"]["convert"], ns)
    t_lstm = ns["t_lstm"]
    with torch.no_grad():
        np.testing.assert_allclose(t_lstm(torch.from_numpy(x))[0].numpy(), k_out, atol=1e-5)
    sd = {k: v.detach().numpy() for k, v in t_lstm.state_dict().items()}
    back = [sd["weight_ih_l0"].T, sd["weight_hh_l0"].T, sd["bias_ih_l0"] + sd["bias_hh_l0"]]
    for mine, theirs in zip(back, k_lstm.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_both_stateful_recipes_run():
    """The printed stateful code, run on a sine with Keras 3 and PyTorch; and the Keras 2 names the
    sheet says are gone are gone."""
    import keras
    import torch

    from lstm_ref.data import stateful_arrays, stateful_batches

    series = np.sin(np.arange(90) / 4).astype("float32")
    common = dict(series=series, B=4, T=5, F=1, H=3, epochs=2)
    k_ns = dict(common, keras=keras, stateful_arrays=stateful_arrays)
    exec(CLAIMS["code"]["keras_stateful"], k_ns)
    assert all(np.abs(np.asarray(v)).max() == 0 for v in k_ns["lstm"].states), "reset_state() left a state"
    t_ns = dict(common, torch=torch, nn=torch.nn, stateful_batches=stateful_batches)
    exec(CLAIMS["code"]["torch_stateful"], t_ns)
    assert np.isfinite(t_ns["loss"].item()) and tuple(t_ns["state"][0].shape) == (1, 4, 3)
    assert not t_ns["state"][0].requires_grad  # cut from the graph
    with pytest.raises(ValueError):
        keras.layers.LSTM(2, batch_input_shape=(1, 3, 1))
    assert not hasattr(k_ns["model"], "reset_states") and hasattr(k_ns["lstm"], "reset_state")


def test_the_printed_code_fits_a_column():
    """No line of the printed code is wider than a column: it would wrap in print."""
    for name, code in CLAIMS["code"].items():
        for line in code.splitlines():
            assert len(line) <= CLAIMS["code_width"], (name, line)
