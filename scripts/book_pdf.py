"""The whole book as one printable PDF per edition, offline: ``python -m scripts.book_pdf --out DIR``.

Jupyter Book's ``pdfhtml`` builder would download Chromium (pyppeteer), so instead this builds each
edition as one HTML page (Sphinx's ``singlehtml`` builder, as ``jupyter-book build book --builder
singlehtml`` runs it, with ``language`` set for a translation as ``scripts.book`` sets it; every output
comes from the execution cache, so nothing runs again when ``make book`` ran first), serves it on
127.0.0.1 and prints it with Debian's headless Chromium through Playwright: A4, the sidebars, header and
launch buttons hidden by a print style sheet, folded cells opened, MathJax typeset first. Any request for
something not on 127.0.0.1 is refused and fails the run. Writes ``DIR/lstm-shapes-book.pdf`` (English,
built in ``book/_build/singlehtml``) and ``DIR/lstm-shapes-book.zh_CN.pdf`` (the Chinese edition, built
in ``book/_build/zh_CN/singlehtml``, its figures and code comments in Chinese as on the site); animated
GIFs print as their first frame.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from scripts.book import SOURCE, TRANSLATIONS
from scripts.chromium import local_browser

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
PDF_NAME = "lstm-shapes-book.pdf"
LANGS = (SOURCE, *TRANSLATIONS)
PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .bd-header-article, .bd-footer,
.bd-footer-article, .bd-footer-content, .prev-next-area, .headerlink, .toggle-button, .copybtn,
.skip-link, #pst-back-to-top, .bd-search, .search-button-field, details > summary
{ display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-article, .bd-page-width, .bd-container,
.bd-container__inner { max-width: 100% !important; width: 100% !important; margin: 0 !important;
  padding: 0 !important; }
body { font-size: 10.5pt; }
pre, .highlight pre, .output pre { white-space: pre-wrap !important; word-break: break-all;
  font-size: 8.5pt !important; max-height: none !important; overflow: visible !important; }
/* a short block stays whole; a text output (a long traceback) or a long table may run on to the
   next page (a table row stays whole): kept whole (the theme's print style keeps every .highlight
   whole, in a flex box), they left one or two pages nearly blank before them */
.cell_input, figure, img, tr, .admonition, .cell_output:has(img) { break-inside: avoid; }
table { break-inside: auto !important; }
.pst-scrollable-table-container { overflow: visible !important; }
.cell_output:not(:has(img)) .output, .cell_output:not(:has(img)) .highlight
{ break-inside: auto !important; display: block !important; overflow: visible !important; }
.cell_output pre { orphans: 3; widows: 3; }
img { max-width: 100% !important; height: auto !important; }
h1, h2, h3, h4 { break-after: avoid; }
/* each chapter starts a new page: singlehtml puts <span id="document-NAME"> before its section */
span[id^="document-"] + section { break-before: page; }
details, .toggle-hidden, .tag_hide-cell .cell_input, .tag_hide-input .cell_input,
.tag_hide-output .cell_output { display: block !important; visibility: visible !important;
  height: auto !important; }
"""
OPEN_FOLDED = """
() => {
  document.querySelectorAll('details').forEach(d => d.open = true);
  document.querySelectorAll('.toggle-hidden').forEach(e => e.classList.remove('toggle-hidden'));
  document.querySelectorAll('img').forEach(i => i.loading = 'eager');
}
"""
READY = """
async () => {
  await Promise.all(Array.from(document.images).map(i => i.decode().catch(() => null)));
  if (window.MathJax && MathJax.Hub) await new Promise(r => MathJax.Hub.Queue(() => r(true)));
  await document.fonts.ready;
  return document.images.length;
}
"""


def pdf_name(lang: str = SOURCE) -> str:
    """``lstm-shapes-book.pdf``, and ``lstm-shapes-book.<lang>.pdf`` for a translation."""
    return PDF_NAME if lang == SOURCE else PDF_NAME.replace(".pdf", f".{lang}.pdf")


def singlehtml_dir(lang: str = SOURCE) -> Path:
    """Where an edition's one-page build goes: ``book/_build/singlehtml``, ``book/_build/<lang>/singlehtml``
    (beside the doctrees of the edition's HTML build, which it reuses)."""
    return BOOK / "_build" / "singlehtml" if lang == SOURCE else BOOK / "_build" / lang / "singlehtml"


def sphinx_singlehtml(lang: str = SOURCE) -> int:
    """The ``singlehtml`` build of one edition into ``singlehtml_dir(lang)``, in this process
    (``build_singlehtml`` runs it in a child). Returns Sphinx's exit status."""
    from jupyter_book.sphinx import build_sphinx

    build = BOOK / "_build"
    # scripts.book's overrides: the HTML build's environment is reused (the jupyter-book command line lacks
    # nb_execution_cache_path, so there Sphinx read every page again, and the next HTML build too)
    overrides = {
        "external_toc_path": str(BOOK / "_toc.yml"),
        "latex_individualpages": False,
        "nb_execution_cache_path": str(build / ".jupyter_cache"),  # the outputs of the English build
    }
    if lang != SOURCE:
        overrides["language"] = lang
    path_config = BOOK / "_config.yml"
    return build_sphinx(
        BOOK, singlehtml_dir(lang), noconfig=True, path_config=path_config, confoverrides=overrides,
        builder="singlehtml",
    )  # fmt: skip


def build_singlehtml(lang: str = SOURCE) -> Path:
    """Build one edition as one page (``sphinx_singlehtml``, in a child process: Sphinx keeps state in its
    process) and return the page's path. Holds no lock: a caller that shares ``book/_build`` with others
    takes ``tests/conftest.py``'s ``book_lock()``."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys; from scripts.book_pdf import sphinx_singlehtml; sys.exit(sphinx_singlehtml({lang!r}))",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,  # a hang in a cell is caught by _config.yml's limit; this bounds a stuck build
    )
    if proc.returncode or "build succeeded" not in proc.stdout + proc.stderr:
        sys.exit(f"book_pdf: the {lang} singlehtml build failed:\n" + (proc.stdout + proc.stderr)[-4000:])
    import yaml

    root = yaml.safe_load((BOOK / "_toc.yml").read_text())["root"]
    page = singlehtml_dir(lang) / f"{root}.html"
    if not page.is_file():
        sys.exit(f"book_pdf: {page} was not written")
    return page


def print_pdf(page: Path, pdf: Path) -> list[str]:
    """Print one HTML page (served with its folder on 127.0.0.1) to ``pdf`` with headless Chromium;
    returns every URL the page asked for. Requests for any other host are refused (and returned)."""
    requested: list[str] = []
    viewport = {"width": 1100, "height": 1400}
    with local_browser(page.parent, refused=[], requested=requested, viewport=viewport) as (base, context):
        tab = context.new_page()
        tab.goto(f"{base}/{page.name}", wait_until="load")
        tab.evaluate(OPEN_FOLDED)
        tab.add_style_tag(content=PRINT_CSS)
        tab.emulate_media(media="print")
        tab.evaluate(READY)
        pdf.parent.mkdir(parents=True, exist_ok=True)
        tab.pdf(
            path=str(pdf),
            format="A4",
            print_background=True,
            prefer_css_page_size=True,
            display_header_footer=True,
            header_template="<span></span>",
            footer_template=(
                "<div style='font-size:8pt;width:100%;text-align:center;color:#555'>"
                "<span class='pageNumber'></span> / <span class='totalPages'></span></div>"
            ),
        )
    return requested


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the PDFs")
    parser.add_argument("--lang", choices=LANGS, action="append", help="default: every edition")
    args = parser.parse_args()
    from pypdf import PdfReader

    for lang in args.lang or LANGS:
        start = time.perf_counter()
        page = build_singlehtml(lang)
        built = time.perf_counter()
        pdf = args.out / pdf_name(lang)
        requested = print_pdf(page, pdf)
        outside = [u for u in requested if urlparse(u).hostname != "127.0.0.1"]
        if outside:
            sys.exit(
                "book_pdf: the page asked for other sites (refused):\n" + "\n".join(sorted(set(outside)))
            )
        pages = len(PdfReader(pdf).pages)
        print(
            f"book_pdf: {pdf} ({pages} pages, {pdf.stat().st_size / 1e6:.1f} MB); {lang} singlehtml build "
            f"{built - start:.1f} s, printing {time.perf_counter() - built:.1f} s; {len(requested)} requests, "
            "all to 127.0.0.1"
        )


if __name__ == "__main__":
    main()
