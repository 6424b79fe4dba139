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

``--lang zh_CN`` writes the same decks in Chinese (put them in ``<English DIR>/zh_CN``: each deck's title
slide links its twin in the other language there, and each index the other). They have the English decks'
slides, cut at the same places, and the same outputs, with the words the zh_CN edition of the book uses
(``book/locales/zh_CN/LC_MESSAGES``): every Markdown block (heading, paragraph, list item, table cell,
admonition title and text) from ``<chapter>.po``, looked up as Sphinx's gettext extracted it (the MyST
source of the block, its lines joined by single spaces), code comments from ``comments.po``
(``lstm_figures.i18n.translate_comments``) and each figure's translated twin from its output's metadata
(``lstm_i18n``). A block, comment or figure label with English words and no translation is an error
naming it, never English on a Chinese slide.
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

from lstm_figures.i18n import TRANSLATIONS, catalogue, needs, translate_comments
from scripts import book_module

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
TEMPLATES = Path(__file__).resolve().parent / "slides" / "templates"
REVEAL_DIR = "reveal.js"  # folders next to the decks
MATHJAX_DIR = "mathjax"
THEME = "white"  # reveal.js's theme; its fonts are local (some other themes import Google Fonts)
SLIDE_LINES = 28  # about what fits on one 960x700 slide at the template's font sizes
LINE_CHARS = 90
# What the decks and the index say besides the chapters, and the link to the twin deck, per language.
WORDS = {
    "en": {
        "html": "en",
        "title": "{} slides",
        "index_title": "LSTM shapes: slides",
        "heading": "LSTM shapes: slides, one deck per chapter",
        "intro": "Made from the chapters as the book executed them. Arrow keys move; <kbd>s</kbd> opens the "
        "speaker view; <kbd>Esc</kbd> the overview.",
        "count": " ({} slides)",
        "name": "English",
    },
    "zh_CN": {
        "html": "zh-CN",
        "title": "{} · 幻灯片",
        "index_title": "LSTM 的形状：幻灯片",
        "heading": "LSTM 的形状：幻灯片，每章一套",
        "intro": "由本书构建时实际执行的各章生成。方向键翻页；按 <kbd>s</kbd> 打开演讲者视图；按 <kbd>Esc</kbd> "
        "查看全部幻灯片。",
        "count": "（{} 张幻灯片）",
        "name": "中文",
    },
}


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


# --------------------------------------------------------------------------- translation
LIST_ITEM = re.compile(r"^(\s*(?:[-*+]|(?P<n>\d+)[.)])\s+)(?P<text>.*)$")
TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
TABLE_RULE = re.compile(r"^[\s|:-]+$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})")
ADMONITIONS = {"admonition", "note", "tip", "hint", "important", "warning", "caution", "attention", "danger"}
ADMONITIONS |= {"error", "seealso", "dropdown"}
VERBATIM = {"code-cell", "code", "code-block", "tableofcontents", "math"}
MATH_TEXT = re.compile(r"\\(?:text|mathrm|operatorname)\{([^}]*)\}")
NOT_WORDS = re.compile(r"``.+?``|`[^`]*`|\$\$.+?\$\$|\$[^$]+\$|\]\([^)]*\)|<[^>]+>|\{[a-z:-]+\}")


def translated_block(msgid: str, table: dict[str, str], missing: list[str]) -> str:
    """One block's translation: ``table[msgid]``; a block with English words outside code, math, link
    targets and names (``lstm_figures.i18n.needs``) that the table lacks is added to ``missing``."""
    if msgid in table:
        return table[msgid]
    if needs(NOT_WORDS.sub(" ", msgid)):
        missing.append(msgid)
    return msgid


def translate_myst(text: str, table: dict[str, str], missing: list[str]) -> str:
    """A markdown cell's MyST with every block translated (``table``: msgid -> msgstr of its chapter's
    catalogue). A paragraph or list item (its lines joined by single spaces, as Sphinx's gettext does)
    becomes one line, so blank lines, headings, and so the slides' blocks, stay where they were. Code
    blocks, ``$$`` math, ``(label)=`` targets and a table's rule row are kept as they are; an admonition's
    title and text are translated. A directive this function does not know is in ``missing``."""
    out: list[str] = []
    para: list[str] = []  # [prefix, line, line, ...] of the paragraph being read

    def flush() -> None:
        if para:
            out.append(para[0] + translated_block(" ".join(p.strip() for p in para[1:]), table, missing))
            para.clear()

    lines, i = text.splitlines(), 0
    while i < len(lines):
        line, stripped = lines[i], lines[i].strip()
        if fence := FENCE.match(line):
            flush()
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == fence[1]), len(lines))
            directive = DIRECTIVE.match(stripped)
            name = directive["name"].strip() if directive else None
            if name in ADMONITIONS:
                arg = directive["arg"].strip()
                head = line[: line.index("{")] + "{" + directive["name"] + "}"
                out.append(head + (" " + translated_block(arg, table, missing) if arg else ""))
                options = i + 1
                while options < end and re.match(r"^\s*:[\w-]+:", lines[options]):
                    options += 1
                out += lines[i + 1 : options]
                out += translate_myst("\n".join(lines[options:end]), table, missing).splitlines()
                out += lines[end : end + 1]
            else:
                if name is not None and name not in VERBATIM:
                    missing.append(f"(the directive {{{name}}}: not translated by scripts/slides.py)")
                out += lines[i : end + 1]
            i = end + 1
            continue
        if stripped.startswith("$$"):  # display math: its text as it stands (newlines kept) is the msgid
            flush()
            end = i if len(stripped) > 2 and stripped.endswith("$$") else i + 1
            while end < len(lines) and not lines[end].strip().endswith("$$"):
                end += 1
            math = "\n".join(lines[i : end + 1]).strip()[2:-2]
            if math in table:
                math = table[math]
            elif needs(" ".join(MATH_TEXT.findall(math))):
                missing.append(f"$${math}$$")
            out += f"$${math}$$".splitlines()
            i = end + 1
            continue
        heading, item = HEADING.match(line), LIST_ITEM.match(line)
        if not stripped or LABEL.match(line) or (TABLE_ROW.match(line) and TABLE_RULE.match(line)):
            flush()
            out.append(line)
        elif heading:
            flush()
            out.append(f"{heading[1]} {translated_block(heading[2].strip(), table, missing)}")
        elif TABLE_ROW.match(line):
            flush()
            cells = re.split(r"(?<!\\)\|", stripped)[1:-1]
            row = [translated_block(c.strip(), table, missing) if c.strip() else "" for c in cells]
            out.append("| " + " | ".join(row) + " |")
        elif item and (not para or len(line) - len(line.lstrip()) < len(para[0]) or item["n"] in (None, "1")):
            flush()  # a new item (an ordered list not starting at 1 cannot interrupt a paragraph)
            para[:] = [item[1], item["text"]]
        elif para:
            para.append(line)
        else:
            para[:] = [line[: len(line) - len(line.lstrip())], line]
        i += 1
    flush()
    return "\n".join(out)


def translate_outputs(cell: nbformat.NotebookNode, lang: str, missing: list[str]) -> None:
    """Show, in place, each output's ``lang`` twin (``metadata.lstm_i18n.<lang>``: its ``image/png`` or
    ``text/html`` instead of the English); a twin with missing labels or an error is in ``missing``."""
    for out in cell.get("outputs", []):
        twin = out.get("metadata", {}).get("lstm_i18n", {}).get(lang)
        if twin is None:
            continue
        if twin.get("error") or twin.get("missing"):
            missing.append(f"(figure: {twin.get('error') or twin['missing']})")
        swapped = [m for m in ("image/png", "text/html") if m in twin and m in out.get("data", {})]
        if not swapped:
            missing.append(f"(figure: no {lang} twin of {sorted(out.get('data', {}))})")
        for mime in swapped:
            out.data[mime] = twin[mime]


def translated(nb: nbformat.NotebookNode, name: str, lang: str) -> nbformat.NotebookNode:
    """A copy of a chapter's executed notebook in ``lang``: markdown from ``<name>.po``, code comments
    from ``comments.po``, figures from their outputs' twins; the code and other outputs as they ran.
    Exits naming every block, comment or figure that has no translation."""
    table, missing = catalogue(name, lang), []
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            cell.source = translate_myst(cell.source, table, missing)
        elif cell.cell_type == "code" and not tags & {"remove-cell", "hide-cell"}:  # what the deck shows
            if not tags & {"remove-input", "hide-input"}:
                comments: set[str] = set()
                cell.source = translate_comments(cell.source, lang, comments)
                missing += [f"(code comment) {c}" for c in sorted(comments)]
            if not tags & {"remove-output", "hide-output"}:
                translate_outputs(cell, lang, missing)
    if missing:
        where = f"book/locales/{lang}/LC_MESSAGES/{name}.po, comments.po or figures.po"
        sys.exit(
            f"slides: {name}: {len(missing)} without a {lang} translation ({where}):\n  "
            + "\n  ".join(missing)
        )
    return nb


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


def slide_cells(
    nb: nbformat.NotebookNode, labels: dict, titles: dict, kinds: list[str] | None = None
) -> nbformat.NotebookNode:
    """A copy of an executed chapter arranged as a deck: ``slideshow.slide_type`` set on every cell, or
    taken from ``kinds`` (the English deck's, for a translation: the same slides, cut at the same places;
    a translation whose cells or headings do not line up with them is an error)."""
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

    if kinds is not None and len(kinds) != len(cells):
        raise ValueError(f"{len(cells)} cells where the English deck has {len(kinds)}")
    used = SLIDE_LINES  # the first cell always starts a slide
    for i, cell in enumerate(cells):
        level, h = heading_level(cell), height(cell)
        if level in (1, 2):
            kind, used = "slide", 0
        elif level >= 3 or used + h > SLIDE_LINES:
            kind, used = "subslide", 0
        else:
            kind = "-"
        if kinds is not None:
            if (kinds[i] == "slide") != (level in (1, 2)) or (level >= 3 and kinds[i] != "subslide"):
                raise ValueError(f"cell {i} (heading level {level}) is a {kinds[i]!r} in the English deck")
            kind = kinds[i]
        cell.metadata["slideshow"] = {"slide_type": kind}
        used += h
    deck = copy.deepcopy(nb)
    deck.cells = cells
    return deck


# --------------------------------------------------------------------------- output
def exporter():
    """nbconvert's SlidesExporter with the offline template (``scripts/slides/templates/lstm_reveal``);
    the page's language and title are set by :func:`localized`."""
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


def plain_title(title: str) -> str:
    """A heading's text without its Markdown markup, for a page title: ``形状：`(a, b)``` -> ``形状：(a, b)``."""
    return re.sub(r"[`*]", "", title)


def twin_links(page: str, lang: str) -> str:
    """The HTML of the links from ``page`` (a deck's or the index's file name) in ``lang`` to the same
    page in the other languages: a translation's decks are in ``<English folder>/<lang>/``."""
    hrefs = {t: f"{t}/{page}" for t in TRANSLATIONS} if lang == "en" else {"en": f"../{page}"}
    return " · ".join(
        f'<a href="{href}" hreflang="{WORDS[t]["html"]}" lang="{WORDS[t]["html"]}">{WORDS[t]["name"]}</a>'
        for t, href in hrefs.items()
    )


def localized(body: str, title: str, lang: str) -> str:
    """A deck's HTML with the language and the page title of ``lang`` (nbconvert writes ``lang="en"``
    and "<title> slides")."""
    body, n = re.subn(r'<html lang="[^"]*">', f'<html lang="{WORDS[lang]["html"]}">', body, count=1)
    page_title = html.escape(WORDS[lang]["title"].format(plain_title(title)))
    body, m = re.subn(r"<title>.*?</title>", f"<title>{page_title}</title>", body, count=1, flags=re.S)
    if (n, m) != (1, 1):
        raise ValueError("nbconvert's reveal template no longer writes <html lang=...> and <title>")
    return body


def write_index(out: Path, titles: dict[str, str], counts: dict[str, int], lang: str = "en") -> None:
    """``out/index.html``: one link per chapter deck, in reading order, in ``lang``, and a link to the
    index in the other languages."""
    words = WORDS[lang]
    items = "\n".join(
        f'  <li><a href="{name}.slides.html">{html.escape(plain_title(titles[name]))}</a>'
        f"{words['count'].format(counts[name])}</li>"
        for name in titles
    )
    (out / "index.html").write_text(
        f"<!DOCTYPE html>\n<html lang='{words['html']}'>\n<head><meta charset='utf-8'>"
        f"<title>{words['index_title']}</title>\n"
        "<style>body{font-family:sans-serif;max-width:44em;margin:2em auto;line-height:1.5}</style>\n"
        f"</head>\n<body>\n<p class='lstm-twin'>{twin_links('index.html', lang)}</p>\n"
        f"<h1>{words['heading']}</h1>\n<p>{words['intro']}</p>\n"
        f"<ol>\n{items}\n</ol>\n</body>\n</html>\n",
        encoding="utf-8",
    )


def build(out: Path, book: Path = BOOK, venv: Path = ROOT / ".venv", lang: str = "en") -> dict[str, int]:
    """Write every chapter's deck in ``lang``, the index and the assets into ``out``; returns slides per
    deck. A translation's decks are cut where the English decks are."""
    names = chapters(book)
    notebooks = {name: executed(book, name) for name in names}
    labels, titles = labels_and_titles(notebooks)
    missing = [n for n in names if n not in titles]
    if missing:
        sys.exit(f"slides: no '#' heading in {missing}")
    decks = {name: slide_cells(notebooks[name], labels, titles) for name in names}
    if lang != "en":
        notebooks = {name: translated(notebooks[name], name, lang) for name in names}
        labels, titles = labels_and_titles(notebooks)
        for name in names:
            kinds = [c.metadata["slideshow"]["slide_type"] for c in decks[name].cells]
            try:
                decks[name] = slide_cells(notebooks[name], labels, titles, kinds)
            except ValueError as exc:
                sys.exit(f"slides: the {lang} deck of {name} does not line up with the English: {exc}")
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out, venv)
    export = exporter()
    counts = {}
    for name in names:
        deck = decks[name]
        link = nbformat.v4.new_markdown_cell(
            f'<p class="lstm-twin">{twin_links(f"{name}.slides.html", lang)}</p>'
        )
        link.metadata["slideshow"] = {"slide_type": "-"}  # on the title slide
        deck.cells.insert(1, link)
        body, _ = export.from_notebook_node(deck, resources={"metadata": {"name": titles[name]}})
        (out / f"{name}.slides.html").write_text(localized(body, titles[name], lang), encoding="utf-8")
        counts[name] = sum(c.metadata["slideshow"]["slide_type"] in ("slide", "subslide") for c in deck.cells)
    write_index(out, titles, counts, lang)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for the decks (made if missing)")
    parser.add_argument("--book", type=Path, default=BOOK, help="the book's folder (default: book/)")
    parser.add_argument(
        "--lang",
        choices=("en", *TRANSLATIONS),
        default="en",
        help="the decks' language (default: en); a translation goes into <English --out>/<lang>",
    )
    args = parser.parse_args()
    start = time.perf_counter()
    counts = build(args.out.resolve(), args.book.resolve(), lang=args.lang)
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(
        f"slides: {len(counts)} decks, {sum(counts.values())} slides, {size / 1e6:.1f} MB in {args.out} "
        f"({time.perf_counter() - start:.1f} s)"
    )
    for name, n in counts.items():
        print(f"  {name}.slides.html: {n} slides")


if __name__ == "__main__":
    main()
