"""The per-chapter slides (``scripts/slides.py``) follow the chapters and work offline in a browser.

Builds the book (the ``built_book`` fixture), makes the decks into a temporary folder, checks them
against the chapter sources (every chapter in ``_toc.yml`` has a deck, and each deck's ``#``/``##``
headings are the chapter's, in order), then serves them on 127.0.0.1 and opens each in Debian's
headless chromium: reveal.js starts, the deck has its slides, a figure or a code output shows, the
next slide comes, nothing is logged as an error and no request leaves 127.0.0.1. A screenshot of
each deck's first figure slide lands in ``artifacts/screenshots/slides/`` (gitignored).

The Chinese decks (``--lang zh_CN``, into the English folder's ``zh_CN/``) are checked against the
English decks and the catalogues: the same slides, headings from ``<chapter>.po``, the figures' zh PNGs
from the executed outputs' metadata, the code with its comments in Chinese and otherwise unchanged, the
links between twins; in the browser, the same number of slides, no prose block mostly in Latin letters
(the same measure shown to flag the English decks), Chinese drawn in the CJK font, nothing fetched from
another host.
"""

from __future__ import annotations

import base64
import functools
import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import polib
import pytest
import yaml
from conftest import book_lock, keep_local, launch, serve
from test_book import external_loads
from test_book_i18n import _mostly_latin

from scripts.book_i18n import glossary

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SHOTS = ROOT / "artifacts" / "screenshots" / "slides"
LOCALE = BOOK / "locales" / "zh_CN" / "LC_MESSAGES"
CJK = re.compile(r"[\u3400-\u9fff]")
MIN_SLIDES = 5  # the shortest deck, the introduction, had 8 (2026-11-29)

pytestmark = pytest.mark.slow


def deck_chapters() -> list[str]:
    """The documents that get a deck: ``_toc.yml``'s root and chapters, without the exercises listing
    and the instructors' part."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc["parts"]:
        if part.get("caption") not in ("Exercises", "For instructors"):
            names += [ch["file"] for ch in part["chapters"]]
    return names


def source_headings(md: Path, plain=None) -> list[str]:
    """The ``#`` and ``##`` headings of a chapter's MyST source, outside code blocks, as plain text
    (or as ``plain`` makes them from the MyST)."""
    found, fence = [], None
    for line in md.read_text("utf-8").splitlines():
        m = re.match(r"^(`{3,}|~{3,}|:{3,})", line.strip())
        if m and fence is None:
            fence = m[1]
        elif m and fence and line.strip() == fence:
            fence = None
        elif fence is None and (h := re.match(r"^#{1,2}\s+(.*)$", line)):
            found.append((plain or _plain)(h[1].strip()))
    return found


def _plain(text: str) -> str:
    """Heading text without markup, so that Markdown and rendered HTML compare."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text)).replace("¶", "")
    return re.sub(r"\s+", " ", re.sub(r"[`*_\\]", "", text)).strip()


def deck_headings(deck: Path) -> list[str]:
    """The text of every ``<h1>`` and ``<h2>`` in a deck, in order."""
    return [_plain(h) for h in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", deck.read_text("utf-8"), re.S)]


@pytest.fixture(scope="module")
def decks(built_book, tmp_path_factory) -> Path:
    """The decks of the built book, made by ``python -m scripts.slides`` into a temporary folder (under
    ``book_lock()``, so that no other test rebuilds the executed notebooks meanwhile)."""
    out = tmp_path_factory.mktemp("slides")
    with book_lock():
        proc = subprocess.run(
            [sys.executable, "-m", "scripts.slides", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert proc.returncode == 0, "python -m scripts.slides failed:\n" + (proc.stdout + proc.stderr)[-4000:]
    print(proc.stdout)
    return out


@pytest.fixture(scope="module")
def zh_decks(decks) -> Path:
    """The Chinese decks, ``python -m scripts.slides --lang zh_CN``, next to the English (``decks/zh_CN``)."""
    out = decks / "zh_CN"
    with book_lock():
        proc = subprocess.run(
            [sys.executable, "-m", "scripts.slides", "--lang", "zh_CN", "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
    assert proc.returncode == 0, "scripts.slides --lang zh_CN failed:\n" + (proc.stdout + proc.stderr)[-4000:]
    print(proc.stdout)
    return out


def test_every_chapter_has_a_deck(decks):
    """One deck per chapter in _toc.yml (the exercises listing and the instructor guide aside), and the
    index links them in order."""
    names = deck_chapters()
    assert len(names) >= 13 and not {"exercises", "instructor_guide"} & set(names)
    for name in names:
        assert (decks / f"{name}.slides.html").is_file(), f"{name}: no deck"
    assert not (decks / "exercises.slides.html").exists()
    assert not (decks / "instructor_guide.slides.html").exists()
    links = re.findall(r'href="([^"]+)\.slides\.html"', (decks / "index.html").read_text("utf-8"))
    assert links == names


def test_decks_follow_the_sources(decks):
    """Each deck's # and ## headings are the chapter source's, in the same order: the decks are made
    from the chapters, so an edited heading (or a new section) shows up in the slides."""
    for name in deck_chapters():
        want = source_headings(BOOK / f"{name}.md")
        assert want, f"{name}.md: no headings found"
        assert deck_headings(decks / f"{name}.slides.html") == want, name


def test_no_external_loads(decks):
    """No deck (nor the index) loads a script, stylesheet, font or image from another site, and the
    reveal.js and MathJax files they name are there."""
    bad, local = external_loads(decks.glob("*.html"), decks.rglob("*.css"))
    assert not bad, "external assets:\n" + "\n".join(bad)
    assert {"reveal.js/dist/reveal.js", "reveal.js/plugin/notes/notes.js", "mathjax/MathJax.js"} <= local
    assert all((decks / u).is_file() for u in local), sorted(u for u in local if not (decks / u).is_file())


def _po(name: str) -> dict[str, str]:
    """``msgid -> msgstr`` of a zh_CN catalogue, read here with polib."""
    return {e.msgid: e.msgstr for e in polib.pofile(str(LOCALE / f"{name}.po")) if e.msgstr}


def _sections(deck: Path) -> list[str]:
    """The deck's ``<section>`` tags, opening and closing, in order: its slides and subslides."""
    return re.findall(r"</?section\b", deck.read_text("utf-8"))


def test_an_untranslated_block_is_an_error():
    """A Markdown block with English words and no catalogue entry is reported, never left in English
    silently: a paragraph (looked up with its lines joined), a table cell; code and math are not prose,
    and what the catalogue has is swapped in. ``--lang zh_CN`` exits naming the block."""
    from scripts import slides

    text = "## A heading\n\nA paragraph in\nplain English.\n\n- an item\n\n| a cell | `x` |\n|---|---|\n"
    text += "\n```python\n# a comment in a code block\n```\n\n$$\\text{a} + b$$\n"
    missing: list[str] = []
    out = slides.translate_myst(text, {"A heading": "标题", "an item": "一项"}, missing)
    assert missing == ["A paragraph in plain English.", "a cell"]
    assert "## 标题" in out and "- 一项" in out and "# a comment in a code block" in out
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Nobody translated this sentence.")])
    with pytest.raises(SystemExit, match="(?s)intro: 1 without a zh_CN translation.*Nobody translated this"):
        slides.translated(nb, "intro", "zh_CN")


def test_zh_decks_mirror_the_english(decks, zh_decks):
    """Every chapter has a zh deck with the English deck's slides (the same sections), ``lang="zh-CN"``,
    its # and ## headings the catalogue's translations of the chapter's, the h1's translation as its
    title; each deck links its twin, and the zh index lists the zh decks in order with their titles."""
    names = deck_chapters()
    index = (zh_decks / "index.html").read_text("utf-8")
    assert "lang='zh-CN'" in index and 'href="../index.html"' in index
    assert 'href="zh_CN/index.html"' in (decks / "index.html").read_text("utf-8")
    assert re.findall(r'href="([^"]+)\.slides\.html"', index) == names
    for name in names:
        en, zh = decks / f"{name}.slides.html", zh_decks / f"{name}.slides.html"
        assert zh.is_file(), f"{name}: no zh deck"
        assert _sections(zh) == _sections(en), f"{name}: the zh deck's slides differ from the English"
        text = zh.read_text("utf-8")
        assert '<html lang="zh-CN">' in text and '<html lang="en">' in en.read_text("utf-8"), name
        po = _po(name)
        want = source_headings(BOOK / f"{name}.md", plain=lambda h, po=po: _plain(po[h]))
        assert deck_headings(zh) == want, name
        title = html.unescape(re.search(r"<title>(.*?)</title>", text, re.S)[1])
        assert want[0] in _plain(title) and want[0] in _plain(index), (name, title, want[0])
        assert f'href="../{name}.slides.html"' in text, f"{name}: no link to the English deck"
        assert f'href="zh_CN/{name}.slides.html"' in en.read_text("utf-8"), f"{name}: no link to the zh deck"


@functools.cache
def _executed_outputs(name: str) -> list:
    """The outputs of a chapter as executed, from the execution cache (the notebook myst-nb leaves in
    ``jupyter_execute/`` has none when the chapter came from the cache: see tests/test_book_pdf.py)."""
    from jupyter_cache import get_cache

    nb = nbformat.read(BOOK / "_build" / "jupyter_execute" / f"{name}.ipynb", as_version=4)
    _, nb = get_cache(BOOK / "_build" / ".jupyter_cache").merge_match_into_notebook(nb)
    return [out for cell in nb.cells for out in cell.get("outputs", [])]


def _images(deck: Path) -> set[bytes]:
    """The bytes of every data-URI image in a deck (PNGs of figures, GIFs and stills of animations)."""
    found = re.findall(r"data:image/(?:png|gif);base64,([A-Za-z0-9+/=\s]+)", deck.read_text("utf-8"))
    return {base64.b64decode(b) for b in found}


def test_zh_decks_show_the_zh_figures(decks, zh_decks):
    """Each figure the English deck shows is, in the zh deck, its twin from the output's metadata
    (``lstm_i18n.zh_CN``): the zh PNG's bytes (or the animation's zh images) are there, the English ones
    are not."""
    shown = 0
    for name in deck_chapters():
        en, zh = _images(decks / f"{name}.slides.html"), _images(zh_decks / f"{name}.slides.html")
        for out in _executed_outputs(name):
            twin = out.get("metadata", {}).get("lstm_i18n", {}).get("zh_CN")
            if twin is None:
                continue
            if "image/png" in twin:
                english, chinese = (
                    {base64.b64decode(out["data"]["image/png"])},
                    {base64.b64decode(twin["image/png"])},
                )
            else:
                english, chinese = (_images_in(out["data"]["text/html"]), _images_in(twin["text/html"]))
            if not english <= en:
                continue  # a figure the deck leaves out (remove-cell, hide-cell)
            shown += 1
            assert chinese <= zh, f"{name}: a zh figure is missing from the zh deck"
            assert not (english - chinese) & zh, f"{name}: an English figure is in the zh deck"
    assert shown >= 20, f"only {shown} figures with a zh twin in the decks: the check would check little"


def _images_in(text) -> set[bytes]:
    text = "".join(text)
    return {base64.b64decode(b) for b in re.findall(r"data:image/(?:png|gif);base64,([A-Za-z0-9+/=]+)", text)}


def _code_cells(deck: Path) -> list[str]:
    """The text of every code cell's source shown in a deck (Pygments' HTML, tags removed)."""
    return [
        html.unescape(re.sub(r"<[^>]+>", "", block))
        for block in re.findall(
            r'<div class="highlight hl-ipython3"><pre>(.*?)</pre>', deck.read_text("utf-8"), re.S
        )
    ]


def _split_comments(code: str) -> tuple[list[str], list[str]]:
    """``(code lines without comments, comments)`` of Python source (``tokenize``)."""
    import io
    import tokenize

    comments = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT]
    lines = code.splitlines()
    for t in reversed(comments):
        row, col = t.start
        lines[row - 1] = lines[row - 1][:col]
    return [line.rstrip() for line in lines if line.strip()], [t.string for t in comments]


def test_zh_decks_comment_the_code_in_chinese(decks, zh_decks):
    """The zh decks show the English decks' code, unchanged but for its comments: every cell whose
    comments have English words has Chinese ones, and no comment is mostly Latin letters."""
    terms, translated = set(glossary()), 0
    for name in deck_chapters():
        en, zh = _code_cells(decks / f"{name}.slides.html"), _code_cells(zh_decks / f"{name}.slides.html")
        assert len(en) == len(zh), name
        for en_cell, zh_cell in zip(en, zh, strict=True):
            (en_code, en_comments), (zh_code, zh_comments) = (
                _split_comments(en_cell),
                _split_comments(zh_cell),
            )
            assert en_code == zh_code, f"{name}: the code changed:\n{en_cell}\n---\n{zh_cell}"
            if any(_mostly_latin(c.lstrip("# "), set()) for c in en_comments):
                translated += 1
                assert CJK.search(" ".join(zh_comments)), f"{name}: English comments\n{zh_cell}"
            latin = [c for c in zh_comments if not CJK.search(c) and _mostly_latin(c.lstrip("# "), terms)]
            assert not latin, f"{name}: comments left in English: {latin}"
    assert translated >= 20, (
        f"only {translated} code cells with English comments: the check would check little"
    )


@pytest.fixture(scope="module")
def server(decks):
    """Serve the decks on 127.0.0.1 (a free port) for the browser."""
    with serve(decks) as base:
        yield base


# Where the first figure (a PNG, GIF or the HTML of an animation) or else the first code output is,
# as reveal.js indices of its slide.
FIRST_OUTPUT = """
() => {
  const outs = Array.from(document.querySelectorAll('.jp-OutputArea-output'));
  const fig = outs.find(o => o.querySelector('img'));
  const el = fig || outs[0];
  if (!el) return null;
  const idx = Reveal.getIndices(el.closest('section'));
  return {h: idx.h, v: idx.v || 0, figure: !!fig};
}
"""

MATH_DONE = """
async () => {
  if (!(window.MathJax && MathJax.Hub)) return -1;
  await new Promise(r => MathJax.Hub.Queue(() => r(true)));
  return document.querySelectorAll('.MathJax, .MathJax_Display').length;
}
"""


# The text of the prose blocks of a deck's Markdown (innermost p, li, td, th, h1-h4), without code, math
# and the link to the twin deck.
PROSE = """
() => Array.from(document.querySelectorAll('.jp-MarkdownCell')).flatMap(cell => {
  const c = cell.cloneNode(true);
  c.querySelectorAll('pre, code, script, style, .MathJax_Preview, .MathJax, .MathJax_Display, .lstm-twin')
    .forEach(e => e.remove());
  return Array.from(c.querySelectorAll('p, li, td, th, h1, h2, h3, h4'))
    .filter(e => !e.querySelector('p, li, td')).map(e => e.textContent.trim());
})
"""


def _open_decks(server: str, folder: str, shots: Path) -> tuple[dict, list[str], list[str]]:
    """Open every deck under ``server/folder`` in headless chromium and check it as
    ``test_decks_in_browser`` says. Returns ``({deck: {"total", "figure", "prose", "fonts"}}, problems,
    requests refused)``; "fonts" are the platform fonts that drew the title slide's h1."""
    from playwright import sync_api  # make test installs it: missing is a failure, not a skip

    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    problems: list[str] = []
    external: list[str] = []
    seen = {}
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        keep_local(context, external)
        for name in deck_chapters():
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(f"uncaught: {e}"))
            response = page.goto(f"{server}/{folder}{name}.slides.html", wait_until="load")
            assert response is not None and response.status == 200, name
            page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=60_000)
            total = page.evaluate("Reveal.getTotalSlides()")
            if total < MIN_SLIDES:
                problems.append(f"{name}: only {total} slides")
            seen[name] = {"total": total, "figure": False, "prose": page.evaluate(PROSE)}
            cdp = context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument")["root"]["nodeId"]
            h1 = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "section h1"})["nodeId"]
            seen[name]["fonts"] = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": h1})["fonts"]
            page.evaluate("Reveal.next()")
            page.wait_for_timeout(100)
            if page.evaluate("Reveal.isFirstSlide()"):
                problems.append(f"{name}: Reveal.next() stayed on the first slide")
            source = (BOOK / f"{name}.md").read_text("utf-8")
            prose = re.sub(r"```\{code-cell\}.*?```", "", source, flags=re.S)  # math lives in the prose
            if "$" in prose and page.evaluate(MATH_DONE) <= 0:
                problems.append(f"{name}: the chapter has math but MathJax typeset none")
            where = page.evaluate(FIRST_OUTPUT)
            if where is None:
                problems.append(f"{name}: no code output in the deck")
            else:
                page.evaluate(f"Reveal.slide({where['h']}, {where['v']})")
                selector = "section.present .jp-OutputArea-output" + (" img" if where["figure"] else "")
                try:  # waits out the slide transition; the limit only catches an output that never shows
                    page.locator(selector).first.wait_for(state="visible", timeout=60_000)
                except sync_api.TimeoutError:
                    problems.append(f"{name}: the output on slide {where} is not visible")
                seen[name]["figure"] = where["figure"]
                page.screenshot(path=str(shots / f"{name}.png"))
            page.wait_for_timeout(100)  # let late console messages arrive
            problems += [f"{name}: console: {e}" for e in errors]
            page.close()
        browser.close()
    return seen, problems, external


@pytest.fixture(scope="module")
def english_in_browser(server):
    """What ``_open_decks`` saw of the English decks."""
    return _open_decks(server, "", SHOTS)


def _latin_prose(blocks: list[str], terms: set[str]) -> list[str]:
    """The prose blocks that read as English (``tests/test_book_i18n.py``'s measure: three or more English
    words outside code, with more Latin letters than Chinese characters), math left out."""
    no_math = [re.sub(r"\$\$.+?\$\$|\$[^$]+\$|\\\(.+?\\\)", " ", b, flags=re.S) for b in blocks]
    return [b for b in no_math if _mostly_latin(b, terms)]


def test_decks_in_browser(english_in_browser):
    """Every deck in headless chromium: Reveal is ready with at least MIN_SLIDES slides, its first
    figure (or code output) is visible on its slide, Reveal.next() moves on, MathJax typesets the math
    where the chapter has some, no console error, no request leaving 127.0.0.1."""
    seen, problems, external = english_in_browser
    assert not external, "requests left 127.0.0.1:\n" + "\n".join(sorted(set(external)))
    assert not problems, "\n".join(problems)
    figures = [n for n, s in seen.items() if s["figure"]]
    drawn = [
        n for n in deck_chapters() if any("image/png" in o.get("data", {}) for o in _executed_outputs(n))
    ]
    assert drawn and set(drawn) <= set(figures), (
        f"decks with figures {figures}, chapters with figures {drawn}"
    )


def test_zh_decks_in_browser(zh_decks, english_in_browser, server):
    """Every zh deck passes the English decks' browser checks, with as many slides as its English twin;
    none of its prose blocks reads as English by the measure that flags the English decks' prose, and
    its title is drawn in the CJK font (a local one: no request leaves 127.0.0.1)."""
    english, _, _ = english_in_browser
    seen, problems, external = _open_decks(server, "zh_CN/", SHOTS / "zh_CN")
    assert not external, "requests left 127.0.0.1:\n" + "\n".join(sorted(set(external)))
    assert not problems, "\n".join(problems)
    terms = set(glossary())  # the glossary's English column stays English in the glossary table
    for name in deck_chapters():
        assert seen[name]["total"] == english[name]["total"], name
        assert seen[name]["figure"] == english[name]["figure"], name
        assert _latin_prose(english[name]["prose"], set()), f"{name}: the measure flags no English prose"
        latin = _latin_prose(seen[name]["prose"], terms)
        assert not latin, f"{name}: prose in English:\n" + "\n".join(b[:100] for b in latin)
        fonts = {f["familyName"] for f in seen[name]["fonts"]}
        assert "WenQuanYi Micro Hei" in fonts, f"{name}: the title is drawn in {fonts}"
