"""scripts/cheatsheet.py: two printable pages (A4 and Letter) whose shapes and counts agree with the frameworks.

The sheet is built once into a temporary folder. Its PDFs are read back with pypdf and what they say is
checked against torch and Keras directly, here, not through the script or ``lstm_ref``: parameter counts
of real layers, the printed formulas evaluated on several sizes, the printed state shapes against a
real ``nn.LSTM``. A wrong claim must stop the build.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
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


@pytest.fixture(scope="module")
def sheet(tmp_path_factory) -> Path:
    """Build the sheet into a temporary folder (no book lock needed: nothing under book/ is written)."""
    out = tmp_path_factory.mktemp("cheatsheet")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "cheatsheet.py"), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,  # catches a hang; a cold TensorFlow import alone once took 155 s
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    assert "[cheatsheet] checked parameter formulas" in proc.stdout
    assert re.search(r"\[cheatsheet\] done \([\d.]+ s\)", proc.stdout), proc.stdout
    assert proc.stderr.strip() == "", proc.stderr[-2000:]  # framework noise silenced
    return out


def text_of(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() for page in PdfReader(pdf).pages]


def squash(s: str) -> str:
    """Text without whitespace, so that line breaks in the PDF do not matter."""
    return re.sub(r"\s+", "", s)


def as_python(printed: str) -> str:
    """A printed formula or shape as Python: ``4(FH + H²)`` -> ``4*(F*H + H**2)``, ``2L`` -> ``2*L``."""
    s = printed.replace("²", "**2").replace("−", "-")
    return re.sub(r"(?<=[0-9A-Z)])(?=[A-Z(])", "*", s)


@pytest.mark.parametrize("size", SIZES)
def test_two_pages_of_the_right_size(sheet, size):
    from pypdf import PdfReader

    pages = PdfReader(sheet / f"lstm-shapes-cheatsheet-{size}.pdf").pages
    assert len(pages) == 2
    for page in pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == SIZES[size]
        text = page.extract_text()
        assert len(text) > 2000  # real text, not an image
        assert "\x00" not in text, "a character printed without a glyph (a font is missing)"


def test_parameter_counts_match_the_frameworks(sheet):
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

    page1 = text_of(sheet / "lstm-shapes-cheatsheet-a4.pdf")[0]
    rows = re.findall(r"^(\d+) (\d+) (\d+) (yes|no) ([\d,]+) ([\d,]+)$", page1, re.M)
    assert len(rows) >= 4, page1
    for F, H, L, bi, k, t in rows:
        F, H, L, bi = int(F), int(H), int(L), bi == "yes"
        assert int(k.replace(",", "")) == keras_count(F, H, L, bi), (F, H, L, bi)
        assert int(t.replace(",", "")) == torch_count(F, H, L, bi), (F, H, L, bi)
    assert (7, 32, 2, True) in {(int(a), int(b), int(c), d == "yes") for a, b, c, d, _, _ in rows}

    formulas = dict(re.findall(r"^((?:Keras|PyTorch), [^\n]*?) ([0-9DH4][^\n]*[)H])$", page1, re.M))
    want = {
        "Keras, one layer",
        "PyTorch, one layer",
        "Keras, L layers",
        "PyTorch, L layers",
        "PyTorch, proj_size=P",
    }
    assert want <= set(formulas), formulas
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


def test_torch_shapes_match_a_real_lstm(sheet):
    """Each printed PyTorch row (input, output, h_n, c_n), evaluated and fed to / read from nn.LSTM."""
    import torch

    page1 = text_of(sheet / "lstm-shapes-cheatsheet-letter.pdf")[0]
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


def test_keras_shapes_and_weights(sheet):
    """Keras rows: LSTM(H) -> (B, H), return_sequences -> (B, T, H), Bidirectional -> 2H; weight shapes."""
    from keras import layers

    page1 = squash(text_of(sheet / "lstm-shapes-cheatsheet-a4.pdf")[0])
    x = np.zeros((4, 6, 3), "float32")
    cases = {
        "LSTM(H)output(B,H)": layers.LSTM(5)(x).shape,
        "return_sequences=Trueoutput(B,T,H)": layers.LSTM(5, return_sequences=True)(x).shape,
        "Bidirectional(LSTM(H))output(B,2H)": layers.Bidirectional(layers.LSTM(5))(x).shape,
    }
    v = dict(B=4, T=6, F=3, H=5)
    for printed, real in cases.items():
        assert printed in page1, printed
        assert eval(as_python(printed.split("output")[1].replace(",", ", ")), v) == tuple(real)
    lstm = layers.LSTM(5)
    lstm.build((None, None, 3))
    for name, w in zip(("kernel", "recurrent_kernel", "bias"), lstm.get_weights(), strict=True):
        printed = re.search(rf"(?<!_){name}(\([^)]*\))", page1).group(1)
        assert eval(as_python(printed.replace(",", ", ")), v) == w.shape, name


def test_all_twelve_mistakes_with_their_fix(sheet):
    """The 12 titles of book/shape_tracer.md's mistakes, each followed by its diagnosis, on page 2."""
    source = (ROOT / "book" / "shape_tracer.md").read_text()
    cell = source.split("mistakes = {", 1)[1].split("}  # fmt: skip", 1)[0]
    titles = re.findall(r'^    "([^"]+)":$', cell, re.M)
    assert len(titles) == 12, titles
    for size in SIZES:
        page2 = squash(text_of(sheet / f"lstm-shapes-cheatsheet-{size}.pdf")[1])
        for n, title in enumerate(titles, 1):
            assert f"{n}.{squash(title)}—" in page2, (size, title)
        for fix in ("x.transpose(0,2,1)", "return_sequences=True", "torch.cat([h_n[-2],h_n[-1]],dim=1)",
                    "h0=torch.zeros(1,4,2)", "keras.Input(shape=(None,3))"):  # fmt: skip
            assert fix in page2, fix
        for recipe in ("keras.Input(batch_shape=(B,T,F))", "stateful=True", "lstm.reset_state()",
                       "shuffle=False", "(h.detach(),c.detach())"):  # fmt: skip
            assert recipe in page2, recipe


def test_nothing_from_the_network(sheet):
    """No http(s) resource in the HTML, only local fonts, and Chromium requests nothing else when loading it."""
    from playwright.sync_api import sync_playwright

    for size in SIZES:
        page_html = (sheet / f"lstm-shapes-cheatsheet-{size}.html").read_text()
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
        page.goto((sheet / "lstm-shapes-cheatsheet-a4.html").as_uri(), wait_until="load")
        browser.close()
    assert [u for u in requests if urlparse(u).scheme not in ("file", "data")] == []


def test_a_wrong_claim_stops_the_build(load_script, tmp_path, monkeypatch, capsys):
    """A wrong formula, shape or gate order on the sheet is a CheckError; main() exits 1 and prints nothing."""
    cs = load_script("cheatsheet")
    wrong = [f if f[0] != "torch" else (*f[:3], "4*(F*H + H**2 + H)", f[4]) for f in cs.FORMULAS]
    with pytest.raises(cs.CheckError, match=r"PyTorch, one layer 4\(FH \+ H² \+ H\).*torch says"):
        cs.check_formulas(wrong, examples=[])
    with pytest.raises(cs.CheckError, match="gate order"):
        monkeypatch.setattr(cs, "GATE_ORDER", "ifog")  # CS231n's order
        cs.check_gates()
    monkeypatch.undo()
    bad_rows = [(w, kw, {**s, "h_n": "(B, L, H)"} if kw else s) for w, kw, s in cs.TORCH_SHAPES]
    monkeypatch.setattr(cs, "TORCH_SHAPES", bad_rows)  # the batch-first h0 belief
    assert cs.main(["--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "FAILED: PyTorch shapes" in err and "refuses the sheet's shapes" in err, err
    assert not list(tmp_path.glob("*.pdf"))


def test_page_count_is_checked(load_script, tmp_path):
    """A PDF with a third page (the content overflowed) fails the build's own check."""
    from pypdf import PdfWriter

    cs = load_script("cheatsheet")
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    pdf = tmp_path / "three.pdf"
    writer.write(pdf)
    with pytest.raises(cs.CheckError, match="3 pages, expected 2"):
        cs.check_pdf(pdf, (595, 842))
