"""The per-chapter slides (``scripts/slides.py``) follow the chapters and work offline in a browser.

Builds the book (the ``built_book`` fixture), makes the decks into a temporary folder, checks them
against the chapter sources (every chapter in ``_toc.yml`` has a deck, and each deck's ``#``/``##``
headings are the chapter's, in order), then serves them on 127.0.0.1 and opens each in Debian's
headless chromium: reveal.js starts, the deck has its slides, a figure or a code output shows, the
next slide comes, nothing is logged as an error and no request leaves 127.0.0.1. A screenshot of
each deck's first figure slide lands in ``artifacts/screenshots/slides/`` (gitignored).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import book_lock, keep_local, launch, serve
from test_book import external_loads

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SHOTS = ROOT / "artifacts" / "screenshots" / "slides"
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


def source_headings(md: Path) -> list[str]:
    """The ``#`` and ``##`` headings of a chapter's MyST source, outside code blocks, as plain text."""
    found, fence = [], None
    for line in md.read_text("utf-8").splitlines():
        m = re.match(r"^(`{3,}|~{3,}|:{3,})", line.strip())
        if m and fence is None:
            fence = m[1]
        elif m and fence and line.strip() == fence:
            fence = None
        elif fence is None and (h := re.match(r"^#{1,2}\s+(.*)$", line)):
            found.append(_plain(h[1]))
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


def test_decks_in_browser(decks, server):
    """Every deck in headless chromium: Reveal is ready with at least MIN_SLIDES slides, its first
    figure (or code output) is visible on its slide, Reveal.next() moves on, MathJax typesets the math
    where the chapter has some, no console error, no request leaving 127.0.0.1."""
    from playwright import sync_api  # make test installs it: missing is a failure, not a skip

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    problems: list[str] = []
    external: list[str] = []
    figures = []
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        keep_local(context, external)
        for name in deck_chapters():
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(f"uncaught: {e}"))
            response = page.goto(f"{server}/{name}.slides.html", wait_until="load")
            assert response is not None and response.status == 200, name
            page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=60_000)
            total = page.evaluate("Reveal.getTotalSlides()")
            if total < MIN_SLIDES:
                problems.append(f"{name}: only {total} slides")
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
                if where["figure"]:
                    figures.append(name)
                page.screenshot(path=str(SHOTS / f"{name}.png"))
            page.wait_for_timeout(100)  # let late console messages arrive
            problems += [f"{name}: console: {e}" for e in errors]
            page.close()
        browser.close()
    assert not external, "requests left 127.0.0.1:\n" + "\n".join(sorted(set(external)))
    assert not problems, "\n".join(problems)
    drawn = [n for n in deck_chapters() if '"image/png"' in _executed(n)]
    assert drawn and set(drawn) <= set(figures), (
        f"decks with figures {figures}, chapters with figures {drawn}"
    )


def _executed(name: str) -> str:
    """The text of a chapter's executed notebook ('' for a page myst-nb does not execute)."""
    path = BOOK / "_build" / "jupyter_execute" / f"{name}.ipynb"
    return path.read_text("utf-8") if path.is_file() else ""
