"""Reveal.js slides for every chapter of the book, offline: ``python -m scripts.slides --out DIR``.

The decks are made from the notebooks the book build executed (``book/_build/jupyter_execute/<chapter>.ipynb``,
written by myst-nb from ``book/<chapter>.md``), so they show the real outputs and figures and never drift
from the chapters. Slide breaks follow the structure: each ``#``/``##`` heading starts a slide, ``###`` a
subslide (a slide below it), and a slide that grows past a screenful continues on a subslide. Cells the
book removes or folds away (tags ``remove-cell``, ``hide-cell``) are left out; ``remove-input`` and
``hide-input`` show the output alone, ``remove-output`` and ``hide-output`` the code alone. MyST markup
nbconvert cannot read (``(label)=`` targets, ``{ref}``/``{doc}`` roles, directives) becomes plain Markdown.

``DIR`` gets one ``<chapter>.slides.html`` per chapter (``_toc.yml`` order, the exercises and instructors parts left out),
``index.html`` listing them, and the files they load: reveal.js (``scripts/ensure-reveal.sh`` installs a
pinned copy from npm) and MathJax (from ``jupyter_server_mathjax``, as the book serves it). Nothing is
loaded from another site.
"""

from __future__ import annotations

import argparse
import copy
import html
import math
import re
import shutil
import sys
import time
from pathlib import Path

import nbformat
import yaml

from scripts import book_module

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TEMPLATES = Path(__file__).resolve().parent / "slides" / "templates"
REVEAL_DIR = "reveal.js"  # folders next to the decks
MATHJAX_DIR = "mathjax"
THEME = "white"  # reveal.js's theme; its fonts are local (some other themes import Google Fonts)
SLIDE_LINES = 28  # about what fits on one 960x700 slide at the template's font sizes
LINE_CHARS = 90


def reveal_version() -> str:
    """The reveal.js version ``scripts/ensure-reveal.sh`` installs (its ``VERSION=`` line)."""
    text = (ROOT / "scripts" / "ensure-reveal.sh").read_text()
    return re.search(r"^VERSION=(\S+)$", text, re.M).group(1)


def reveal_source(venv: Path) -> Path:
    """The unpacked reveal.js package, or exit saying how to install it."""
    src = venv / "share" / f"reveal.js-{reveal_version()}"
    if not (src / "dist" / "reveal.js").is_file():
        sys.exit(f"slides: reveal.js is not installed in {src}: run `make reveal` (scripts/ensure-reveal.sh)")
    return src


def chapters(book: Path = BOOK) -> list[str]:
    """The chapters in ``_toc.yml``, in reading order: the root page and every part but the exercises
    listing and the instructors' pages (a guide to read, not to present)."""
    toc = yaml.safe_load((book / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        if part.get("caption", "").lower() not in ("exercises", "for instructors"):
            names += [ch["file"] for ch in part["chapters"]]
    return names


def executed(book: Path, name: str) -> nbformat.NotebookNode:
    """The executed notebook of one chapter; exit when the book was not built, or built before the
    chapter's source last changed. A page of plain Markdown (no ``kernelspec`` in its front matter,
    so myst-nb executes nothing) becomes one markdown cell of its text."""
    nb_path = book / "_build" / "jupyter_execute" / f"{name}.ipynb"
    source = book / f"{name}.md"
    text = source.read_text("utf-8") if source.is_file() else ""
    front = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    if source.is_file() and not (front and "kernelspec" in (yaml.safe_load(front[1]) or {})):
        return nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_markdown_cell(text[front.end() if front else 0 :])]
        )
    if not nb_path.is_file():
        sys.exit(f"slides: {nb_path} is missing: build the book first (`make book`)")
    if source.is_file() and source.stat().st_mtime > nb_path.stat().st_mtime:
        sys.exit(f"slides: {source.name} changed after the book was built: run `make book` again")
    return with_outputs(book, nbformat.read(nb_path, as_version=4), name)


def with_outputs(book: Path, nb: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The notebook with its outputs from the book's execution cache (``_build/.jupyter_cache``).
    myst-nb 1.4 writes ``jupyter_execute/<chapter>.ipynb`` without outputs when the chapter came from
    the cache (it saves the notebook it read, not the one merged with the cached outputs), so the
    outputs are taken from the cache itself, matched on the code cells as myst-nb matches them."""
    from jupyter_cache import get_cache

    try:
        _, merged = get_cache(book / "_build" / ".jupyter_cache").merge_match_into_notebook(nb)
    except KeyError:
        sys.exit(f"slides: {name} is not in the book's execution cache: run `make book` again")
    return merged


# --------------------------------------------------------------------------- MyST -> plain Markdown
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
LABEL = re.compile(r"^\((?P<label>[^()\s]+)\)=\s*$")
ROLE = re.compile(r"\{(?P<role>[a-z:-]+)\}`(?P<body>[^`]*)`")
DIRECTIVE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[^}]+)\}\s*(?P<arg>.*)$")


def labels_and_titles(notebooks: dict[str, nbformat.NotebookNode]) -> tuple[dict, dict]:
    """``(labels, titles)``: the heading text behind each ``(label)=`` target, and each chapter's title
    (its first ``#`` heading), for the text of ``{ref}`` and ``{doc}`` links."""
    labels, titles = {}, {}
    for name, nb in notebooks.items():
        pending = None
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for line in cell.source.splitlines():
                if m := LABEL.match(line):
                    pending = m["label"]
                elif m := HEADING.match(line):
                    titles.setdefault(name, m[2].strip())
                    if pending:
                        labels[pending] = m[2].strip()
                    pending = None
                elif line.strip():
                    pending = None
    return labels, titles


def plain_markdown(text: str, labels: dict, titles: dict) -> str:
    """One markdown cell's MyST turned into Markdown nbconvert renders: no ``(label)=`` lines,
    ``{doc}`` links to the chapter's deck, ``{ref}`` as its section title, admonitions as quotes and
    ``{tableofcontents}`` as a list of the decks."""

    def role(m: re.Match) -> str:
        body = m["body"]
        named = re.fullmatch(r"(?P<shown>.*?)\s*<(?P<target>[^<>]+)>", body)  # {ref}`text <target>`
        shown, target = (named["shown"], named["target"]) if named else ("", body)
        if m["role"] == "doc":
            text = shown or titles.get(target, target)
            return f"[{text}]({target}.slides.html)" if target in titles else text
        if m["role"] == "ref":
            return shown or labels.get(target, target)
        return f"${body}$" if m["role"] == "math" else f"`{body}`"

    out, lines = [], text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if LABEL.match(line):
            i += 1
            continue
        if m := DIRECTIVE.match(line):
            fence, name, arg = m["fence"], m["name"].strip(), m["arg"].strip()
            body = []
            i += 1
            while i < len(lines) and lines[i].strip() != fence:
                if not (not body and re.match(r"^:[\w-]+:", lines[i])):  # directive options
                    body.append(lines[i])
                i += 1
            i += 1  # the closing fence
            if name == "tableofcontents":
                out += [f"- [{t}]({n}.slides.html)" for n, t in titles.items() if n != next(iter(titles))]
            else:
                title = arg or name.capitalize()
                inner = plain_markdown("\n".join(body), labels, titles).splitlines()
                out += [f"> **{title}**", ">"] + [f"> {b}".rstrip() for b in inner]
            continue
        out.append(ROLE.sub(role, line))
        i += 1
    return "\n".join(out).strip()


def blocks(text: str) -> list[str]:
    """A markdown text cut into blocks: at blank lines and before each heading, never inside a fenced
    code block or a ``$$`` display."""
    found, current, fence, math_open = [], [], None, False
    for line in text.splitlines():
        stripped = line.strip()
        if fence is None and not math_open:
            if not stripped or HEADING.match(line):
                if current:
                    found.append("\n".join(current))
                current = [] if not stripped else [line]
                if HEADING.match(line):
                    found.append(line)
                    current = []
                continue
        current.append(line)
        if m := re.match(r"^(`{3,}|~{3,})", stripped):
            if fence is None:
                fence = m[1]  # a code block opens
            elif m[1].startswith(fence) and stripped == m[1]:
                fence = None  # ... and closes
        elif fence is None and stripped.count("$$") % 2:
            math_open = not math_open
    if current:
        found.append("\n".join(current))
    return [b for b in found if b.strip()]


# --------------------------------------------------------------------------- cells -> slides
def heading_level(cell: nbformat.NotebookNode) -> int:
    """The level of the heading a markdown cell starts with, or 0."""
    m = HEADING.match(cell.source) if cell.cell_type == "markdown" else None
    return len(m[1]) if m else 0


def wrapped_lines(text: str) -> int:
    """How many screen lines a text takes, at ``LINE_CHARS`` characters a line."""
    return sum(max(1, math.ceil(len(line) / LINE_CHARS)) for line in text.splitlines())


def height(cell: nbformat.NotebookNode) -> int:
    """A rough height of a cell on a slide, in text lines: its source, its text output, and a figure
    or HTML output as a block of lines."""
    shown_source = not cell.metadata.get("transient", {}).get("remove_source")
    n = wrapped_lines(cell.source) + (1 if cell.cell_type == "code" else 0) if shown_source else 0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data or "image/gif" in data or "image/svg+xml" in data:
            n += 14
        elif "text/html" in data:
            n += min(16, 2 + "".join(data["text/html"]).count("<tr"))
        elif out.output_type == "stream":
            n += wrapped_lines(out.text)
        elif out.output_type == "error":
            n += 12
        else:
            n += wrapped_lines("".join(data.get("text/plain", "")))
    return n


def slide_cells(nb: nbformat.NotebookNode, labels: dict, titles: dict) -> nbformat.NotebookNode:
    """A copy of an executed chapter arranged as a deck: ``slideshow.slide_type`` set on every cell."""
    cells = []
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if tags & {"remove-cell", "hide-cell"} or cell.cell_type == "raw":
            continue
        if cell.cell_type == "markdown":
            text = plain_markdown(cell.source, labels, titles)
            cells += [nbformat.v4.new_markdown_cell(b) for b in blocks(text)]
            continue
        cell = copy.deepcopy(cell)
        if tags & {"remove-input", "hide-input"}:
            cell.metadata["transient"] = {"remove_source": True}
        if tags & {"remove-output", "hide-output"}:
            cell.outputs = []
        if cell.source.strip() or cell.outputs:
            cells.append(cell)

    used = SLIDE_LINES  # the first cell always starts a slide
    for cell in cells:
        level, h = heading_level(cell), height(cell)
        if level in (1, 2):
            kind, used = "slide", 0
        elif level >= 3 or used + h > SLIDE_LINES:
            kind, used = "subslide", 0
        else:
            kind = "-"
        cell.metadata["slideshow"] = {"slide_type": kind}
        used += h
    deck = copy.deepcopy(nb)
    deck.cells = cells
    return deck


# --------------------------------------------------------------------------- output
def exporter():
    """nbconvert's SlidesExporter with the offline template (``scripts/slides/templates/lstm_reveal``)."""
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    c = Config()
    c.SlidesExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.SlidesExporter.template_name = "lstm_reveal"
    c.SlidesExporter.reveal_url_prefix = REVEAL_DIR
    c.SlidesExporter.reveal_theme = THEME
    c.SlidesExporter.reveal_width = "960"
    c.SlidesExporter.reveal_height = "700"
    c.SlidesExporter.mathjax_url = f"{MATHJAX_DIR}/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
    c.SlidesExporter.exclude_input_prompt = True
    c.SlidesExporter.exclude_output_prompt = True
    return SlidesExporter(config=c)


def copy_assets(out: Path, venv: Path) -> None:
    """Copy what the decks load next to them: reveal.js (dist without source maps, the ES module build
    or the themes not used; the notes plugin) and MathJax 2.7 from ``jupyter_server_mathjax``."""
    mathjax_source = book_module("offline_assets").mathjax_source

    src = reveal_source(venv)
    dest = out / REVEAL_DIR
    shutil.rmtree(dest, ignore_errors=True)
    skip = shutil.ignore_patterns("*.map", "*.esm.js")
    shutil.copytree(src / "dist", dest / "dist", ignore=shutil.ignore_patterns("*.map", "*.esm.js", "theme"))
    shutil.copytree(src / "dist" / "theme" / "fonts", dest / "dist" / "theme" / "fonts")
    shutil.copy2(src / "dist" / "theme" / f"{THEME}.css", dest / "dist" / "theme" / f"{THEME}.css")
    shutil.copytree(src / "plugin" / "notes", dest / "plugin" / "notes", ignore=skip)
    shutil.copy2(src / "LICENSE", dest / "LICENSE")
    shutil.rmtree(out / MATHJAX_DIR, ignore_errors=True)
    shutil.copytree(mathjax_source(), out / MATHJAX_DIR)


def write_index(out: Path, titles: dict[str, str], counts: dict[str, int]) -> None:
    """``out/index.html``: one link per chapter deck, in reading order."""
    items = "\n".join(
        f'  <li><a href="{name}.slides.html">{html.escape(titles[name])}</a> ({counts[name]} slides)</li>'
        for name in titles
    )
    (out / "index.html").write_text(
        "<!DOCTYPE html>\n<html lang='en'>\n<head><meta charset='utf-8'>"
        "<title>LSTM shapes: slides</title>\n"
        "<style>body{font-family:sans-serif;max-width:44em;margin:2em auto;line-height:1.5}</style>\n"
        "</head>\n<body>\n<h1>LSTM shapes: slides, one deck per chapter</h1>\n"
        "<p>Made from the chapters as the book executed them. Arrow keys move; <kbd>s</kbd> opens the "
        "speaker view; <kbd>Esc</kbd> the overview.</p>\n"
        f"<ol>\n{items}\n</ol>\n</body>\n</html>\n",
        encoding="utf-8",
    )


def build(out: Path, book: Path = BOOK, venv: Path = ROOT / ".venv") -> dict[str, int]:
    """Write every chapter's deck, the index and the assets into ``out``; returns slides per deck."""
    names = chapters(book)
    notebooks = {name: executed(book, name) for name in names}
    labels, titles = labels_and_titles(notebooks)
    missing = [n for n in names if n not in titles]
    if missing:
        sys.exit(f"slides: no '#' heading in {missing}")
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out, venv)
    export = exporter()
    counts = {}
    for name in names:
        deck = slide_cells(notebooks[name], labels, titles)
        body, _ = export.from_notebook_node(deck, resources={"metadata": {"name": titles[name]}})
        (out / f"{name}.slides.html").write_text(body, encoding="utf-8")
        counts[name] = sum(c.metadata["slideshow"]["slide_type"] in ("slide", "subslide") for c in deck.cells)
    write_index(out, titles, counts)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the decks (made if missing)")
    parser.add_argument("--book", type=Path, default=BOOK, help="the book's folder (default: book/)")
    args = parser.parse_args()
    start = time.perf_counter()
    counts = build(args.out.resolve(), args.book.resolve())
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(
        f"slides: {len(counts)} decks, {sum(counts.values())} slides, {size / 1e6:.1f} MB in {args.out} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    for name, n in counts.items():
        print(f"  {name}.slides.html: {n} slides")


if __name__ == "__main__":
    main()
