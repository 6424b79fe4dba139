"""The printable book (``scripts/book_pdf.py``): one PDF of the whole book per edition, printed offline.

Builds each edition as one page (Sphinx's ``singlehtml`` builder, the Chinese one with ``language=zh_CN``,
under ``book_lock()``: they write into ``book/_build``) and prints it with Debian's headless chromium into
a temporary folder. Checks, with pypdf, that the English PDF has a sane number of A4 pages, that its text
can be extracted, that every title in ``_toc.yml`` appears in reading order, that it holds a shape printed
by an executed cell, that every character has a glyph (the glossary's Chinese included), and that every
request the page made during the print went to 127.0.0.1; and that the Chinese PDF is the same book in
Chinese: about as many pages, every chapter's Chinese title starting a page in order, the glossary's
terms, no missing glyph, nothing asked of another host.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from conftest import book_lock

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# Measured 2026-11-29: 181 pages for 15 pages of book (13 chapters, the exercises, the instructor
# guide), about 12 A4 pages a chapter with its figures. Fewer than 60 would mean chapters missing or
# cut; more than 600 a broken print style (a figure or a line per page).
MIN_PAGES, MAX_PAGES = 60, 600
A4_POINTS = (595, 842)

CJK = re.compile(r"[\u3400-\u9fff]")

pytestmark = pytest.mark.slow


def toc_titles() -> list[str]:
    """Each document's title (its first ``#`` heading) in ``_toc.yml`` reading order, read from the sources."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    names = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    titles = []
    for name in names:
        heading = re.search(r"^# (.+)$", (BOOK / f"{name}.md").read_text("utf-8"), re.M)
        titles.append(re.sub(r"[`*]", "", heading[1]).strip())
    return titles


def _squash(text: str) -> str:
    """Text without whitespace and with PDF ligatures undone, so that line breaks do not matter."""
    for lig, plain in {"ﬁ": "fi", "ﬂ": "fl", "ﬀ": "ff", "ﬃ": "ffi", "ﬄ": "ffl"}.items():
        text = text.replace(lig, plain)
    return re.sub(r"\s+", "", text)


def print_edition(load_script, tmp_path_factory, lang: str) -> tuple[Path, list[str]]:
    """``(pdf, requests)``: one edition printed into a temporary folder, and every URL asked for."""
    book_pdf = load_script("book_pdf")
    with book_lock():
        page = book_pdf.build_singlehtml(lang)
        pdf = tmp_path_factory.mktemp("pdf") / book_pdf.pdf_name(lang)
        requests = book_pdf.print_pdf(page, pdf)
    return pdf, requests


def text_of(pdf: Path) -> list[str]:
    """The extracted text of every page, each page checked to be A4."""
    from pypdf import PdfReader

    reader = PdfReader(pdf)
    for page in reader.pages:
        width, height = (round(float(v)) for v in page.mediabox.upper_right)
        assert abs(width - A4_POINTS[0]) <= 2 and abs(height - A4_POINTS[1]) <= 2, (width, height)
    return [p.extract_text() for p in reader.pages]


@pytest.fixture(scope="module")
def printed(built_book, load_script, tmp_path_factory):
    """The English book printed: ``(pdf, requests)``."""
    return print_edition(load_script, tmp_path_factory, "en")


@pytest.fixture(scope="module")
def pages(printed) -> list[str]:
    """The extracted text of every page."""
    return text_of(printed[0])


@pytest.fixture(scope="module")
def printed_zh(built_book, load_script, tmp_path_factory):
    """The Chinese edition printed: ``(pdf, requests)``."""
    return print_edition(load_script, tmp_path_factory, "zh_CN")


@pytest.fixture(scope="module")
def pages_zh(printed_zh) -> list[str]:
    return text_of(printed_zh[0])


def test_page_count(pages):
    """Between MIN_PAGES and MAX_PAGES A4 pages, each with extractable text."""
    assert MIN_PAGES <= len(pages) <= MAX_PAGES, len(pages)
    empty = [i + 1 for i, t in enumerate(pages) if len(t.strip()) < 10]
    assert len(empty) <= len(pages) // 20, f"pages without text: {empty}"


def assert_titles_start_pages(pages: list[str], titles: list[str]) -> None:
    """Each title starts a page (the print style breaks the page before each chapter), in this order."""
    starts = [re.sub(r"^\d+/\d+", "", _squash(text)) for text in pages]  # the footer may come first
    at = -1
    for title in titles:
        found = next((i for i in range(at + 1, len(starts)) if starts[i].startswith(_squash(title))), None)
        assert found is not None, f"no page after page {at + 1} starts with {title!r}"
        at = found


def test_titles_in_reading_order(pages):
    """Every title in _toc.yml starts a page, and those pages come in reading order."""
    assert_titles_start_pages(pages, toc_titles())


def test_executed_output_printed(pages):
    """A shape printed by a cell of the executed chapter 03 is in the PDF's text."""
    import nbformat
    from jupyter_cache import get_cache

    # the outputs as executed, from the execution cache (the notebook myst-nb leaves in
    # jupyter_execute/ has none when the chapter came from the cache)
    nb = nbformat.read(BOOK / "_build" / "jupyter_execute" / "03_shapes.ipynb", as_version=4)
    _, nb = get_cache(BOOK / "_build" / ".jupyter_cache").merge_match_into_notebook(nb)
    printed = "".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))
    shapes = set(re.findall(r"\(\d+, \d+, \d+\)", printed))
    assert shapes, "chapter 03 printed no (a, b, c) shape: the check would check nothing"
    text = _squash("\n".join(pages))
    assert any(_squash(s) in text for s in shapes), sorted(shapes)


def test_every_character_has_a_glyph(pages):
    """The glossary's Chinese terms print as themselves, and nothing prints as a missing glyph. Without
    a CJK font (``make browser`` installs Debian's fonts-wqy-microhei) Chromium drew empty boxes, which
    pypdf extracts as NUL characters."""
    chinese = set(re.findall(r"[\u3400-\u9fff]", (BOOK / "11_appendix.md").read_text("utf-8")))
    assert len(chinese) > 20, "the glossary lost its Chinese terms: the check would check nothing"
    nul = [i + 1 for i, text in enumerate(pages) if "\x00" in text]
    assert not nul, f"characters without a glyph on pages {nul}"
    assert not chinese - set("".join(pages)), sorted(chinese - set("".join(pages)))


def test_no_request_left_the_machine(printed):
    """The page asked for its files from 127.0.0.1 only (the print refuses anything else)."""
    requests = printed[1]
    assert any(u.endswith(".png") for u in requests), "no figure was loaded: the check saw nothing"
    outside = sorted({u for u in requests if urlparse(u).hostname != "127.0.0.1"})
    assert not outside, outside


def test_the_chinese_edition(pages, pages_zh, printed_zh):
    """The Chinese PDF is the whole book in Chinese: within 20% of the English page count; each chapter's
    title as its catalogue translates it starts a page, in reading order; the glossary's core terms in
    the text; every character printed (no empty box) and in Chinese far more than in Latin letters
    outside the code; every request to 127.0.0.1."""
    import polib

    assert abs(len(pages_zh) - len(pages)) <= 0.2 * len(pages), (len(pages_zh), len(pages))
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    names = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    titles = []
    for name, english in zip(names, toc_titles(), strict=True):
        po = polib.pofile(str(BOOK / "locales" / "zh_CN" / "LC_MESSAGES" / f"{name}.po"))
        heading = re.search(r"^# (.+)$", (BOOK / f"{name}.md").read_text("utf-8"), re.M)[1]
        titles.append(re.sub(r"[`*]", "", po.find(heading).msgstr).strip())
        assert CJK.search(titles[-1]) and titles[-1] != english, (name, titles[-1])
    assert_titles_start_pages(pages_zh, titles)
    text = "\n".join(pages_zh)
    for term in ("时间步", "隐藏状态", "细胞状态", "批大小", "特征", "有状态"):
        assert text.count(term) >= 5, term  # measured 2026-12-05: 159, 9, 19, 34, 88, 58
    assert len(CJK.findall(text)) > 20_000, len(CJK.findall(text))  # measured: 39,355
    nul = [i + 1 for i, page in enumerate(pages_zh) if "\x00" in page]
    assert not nul, f"characters without a glyph on pages {nul}"
    requests = printed_zh[1]
    assert any(u.endswith(".png") for u in requests), "no figure was loaded: the check saw nothing"
    assert not sorted({u for u in requests if urlparse(u).hostname != "127.0.0.1"})
