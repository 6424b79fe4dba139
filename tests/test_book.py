"""The book builds, and every built page works offline in a real browser.

Builds ``book/`` with ``jupyter-book build --warningiserror`` (the execution cache makes an
unchanged rebuild fast), serves ``book/_build/html`` on 127.0.0.1 and opens every page in Debian's
headless chromium through Playwright. A page fails on a console error, an uncaught exception, a
broken image, math left unrendered or any request that leaves 127.0.0.1: the English pages and the
zh_CN edition's (``html/zh_CN/``). One full-page screenshot per English page lands in
``artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import keep_local, launch, serve

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
HTML = BOOK / "_build" / "html"
SHOTS = ROOT / "artifacts" / "screenshots"
MIN_FIGURES = 25  # the whole book; figures are PNGs drawn by matplotlib cells

pytestmark = pytest.mark.slow


def toc_files() -> list[str]:
    """Document names from ``_toc.yml``, in reading order."""
    toc = yaml.safe_load((BOOK / "_toc.yml").read_text())
    names = [toc["root"]]
    for part in toc.get("parts", []):
        names += [ch["file"] for ch in part["chapters"]]
    return names


@pytest.fixture(scope="module")
def built(built_book) -> Path:
    return built_book


def pages(html: Path) -> list[Path]:
    """Every built HTML page (not the theme's static files or the notebook sources)."""
    skip = {"_static", "_sources", "_images"}
    return sorted(p for p in html.rglob("*.html") if not skip & set(p.relative_to(html).parts))


class _Refs(HTMLParser):
    """Collects the URLs a page loads by itself: scripts, stylesheets, preloads, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.loaded: list[str] = []
        self.inline_scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in a
            if a.get("src"):
                self.loaded.append(a["src"])
        elif tag == "link" and a.get("href"):
            rel = (a.get("rel") or "").lower()
            if any(
                r in rel for r in ("stylesheet", "preload", "icon", "modulepreload", "prefetch", "preconnect")
            ):
                self.loaded.append(a["href"])
        elif tag in ("img", "iframe", "source", "video", "audio") and a.get("src"):
            self.loaded.append(a["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline_scripts.append(data)


def _external(url: str) -> bool:
    return bool(re.match(r"^(https?:)?//", url.strip(), re.I))


def test_toc_pages_built(built):
    """Every document in _toc.yml, in the required order, became a page with a title."""
    names = toc_files()
    assert names == [
        "intro", "01_recurrence", "02_lstm_cell", "03_shapes", "04_keras", "05_pytorch",
        "06_keras_vs_pytorch", "07_stateful", "08_variable_length", "09_project",
        "10_misconceptions", "shape_tracer", "11_appendix", "exercises", "instructor_guide",
    ]  # fmt: skip
    for name in names:
        page = built / f"{name}.html"
        assert page.is_file(), f"{name}: not built"
        assert re.search(r"<h1>.+?</h1>", page.read_text("utf-8"), re.S), f"{name}: no title"


def external_loads(html_files, css_files) -> tuple[list[str], set[str]]:
    """What the pages and style sheets would load from another site (each as ``"file: url"``), and the
    local files the pages load (relative URLs, query dropped; ``data:`` URLs left out)."""
    bad, local = [], set()
    for page in html_files:
        refs = _Refs()
        refs.feed(page.read_text("utf-8"))
        bad += [f"{page.name}: {u}" for u in refs.loaded if _external(u)]
        bad += [
            f"{page.name}: inline script names {m}"
            for s in refs.inline_scripts
            for m in re.findall(r"https?://[^\s\"']+", s)
        ]
        local |= {u.split("?")[0] for u in refs.loaded if not _external(u) and not u.startswith("data:")}
    for css in css_files:
        text = css.read_text("utf-8", errors="replace")
        bad += [
            f"{css.name}: {m}" for m in re.findall(r"@import\s+(?:url\()?['\"]?(?:https?:)?//[^;]+", text)
        ]
        bad += [f"{css.name}: {m}" for m in re.findall(r"url\(\s*['\"]?(?:https?:)?//[^)]+\)", text)]
    return bad, local


def test_no_external_assets(built):
    """No page loads a script, stylesheet, font or image from another site; CSS imports nothing."""
    bad, _ = external_loads(pages(built), (built / "_static").rglob("*.css"))
    assert not bad, "external assets:\n" + "\n".join(bad)
    assert (built / "_static" / "mathjax" / "MathJax.js").is_file(), "MathJax was not copied into the site"


def test_enough_figures(built):
    """The book carries at least MIN_FIGURES figures drawn by its own code."""
    n = sum(len(re.findall(r"<img[^>]+src=\"_images/", p.read_text("utf-8"))) for p in pages(built))
    assert n >= MIN_FIGURES, f"only {n} figures in the book"


def test_launch_buttons_open_the_chapter_notebooks(built):
    """Colab and Binder buttons point at book/<chapter>.ipynb (Colab cannot open the MyST .md)."""
    for md in sorted(BOOK.glob("0*.md")):
        page = (built / f"{md.stem}.html").read_text("utf-8")
        colab = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', page)
        binder = re.findall(r'href="(https://mybinder\.org/[^"]+)"', page)
        assert colab and binder, f"{md.stem}: no launch buttons"
        assert all(u.endswith(f"/book/{md.stem}.ipynb") for u in colab), colab
        assert all(f"book/{md.stem}.ipynb" in u for u in binder), binder


@pytest.fixture(scope="module")
def server(built):
    """Serve the built site on 127.0.0.1 (a free port) for the browser."""
    with serve(built) as base:
        yield base


MATH_DONE = """
async () => {
  const maths = document.querySelectorAll('.math');
  if (maths.length === 0) return {count: 0, unrendered: 0, errors: 0};
  const t0 = Date.now();
  while (!(window.MathJax && window.MathJax.Hub && window.MathJax.isReady)) {
    if (Date.now() - t0 > 120000) return {count: maths.length, unrendered: -1, errors: 0};  // a hang, not a slow load
    await new Promise(r => setTimeout(r, 50));
  }
  await new Promise(r => window.MathJax.Hub.Queue(() => r(true)));
  let unrendered = 0;
  for (const m of maths) {
    if (!m.querySelector('.MathJax, .MathJax_Display, .MathJax_CHTML, .MathJax_SVG')) unrendered++;
  }
  const errors = document.querySelectorAll('.MathJax_Error, .merror, [data-mjx-error]').length;
  return {count: maths.length, unrendered, errors};
}
"""

BROKEN_IMAGES = """
async () => {
  const imgs = Array.from(document.images);
  for (const i of imgs) i.loading = 'eager';
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  return imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.getAttribute('src'));
}
"""

VISIBLE_TEXT = """
() => {
  const clone = document.body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .MathJax_Preview, .highlight, .cell_output, noscript')
       .forEach(e => e.remove());
  return clone.innerText;
}
"""


def test_pages_in_browser(server, built):
    """Open every page in headless chromium: no errors, no broken images, math rendered, no
    request leaving 127.0.0.1; save a screenshot of each."""
    from playwright import sync_api  # make test installs it: missing is a failure, not a skip

    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    problems: list[str] = []
    external: list[str] = []
    math_total = 0
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        keep_local(context, external)
        for path in pages(built):
            rel = path.relative_to(built).as_posix()
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            page.on("pageerror", lambda e, errors=errors: errors.append(f"uncaught: {e}"))
            response = page.goto(f"{server}/{rel}", wait_until="load")
            if response is None or response.status != 200:
                problems.append(f"{rel}: HTTP {response and response.status}")
            redirect = re.search(r'http-equiv="refresh"[^>]*url=([^"]+)"', path.read_text("utf-8"), re.I)
            if redirect:  # index.html forwards to the first page; check where it lands
                page.wait_for_url(f"**/{redirect.group(1)}")
                page.wait_for_load_state("load")
            math = page.evaluate(MATH_DONE)
            math_total += math["count"]
            if math["unrendered"]:
                problems.append(
                    f"{rel}: {math['unrendered']} of {math['count']} math elements not rendered by MathJax"
                )
            if math["errors"]:
                problems.append(f"{rel}: {math['errors']} MathJax errors")
            broken = page.evaluate(BROKEN_IMAGES)
            if broken:
                problems.append(f"{rel}: broken images {broken}")
            text = page.evaluate(VISIBLE_TEXT)
            leftover = re.findall(r"\\\(.+?\\\)|\\\[.+?\\\]|\$[^$\s][^$\n]*?\$", text)
            if leftover:
                problems.append(f"{rel}: raw math in visible text {leftover[:3]}")
            page.wait_for_timeout(100)  # let late console messages arrive
            problems += [f"{rel}: console: {e}" for e in errors]
            if not rel.startswith("zh_CN/"):  # a full-page shot is slow; the zh pages have the same layout
                page.screenshot(path=str(SHOTS / (rel.removesuffix(".html") + ".png")), full_page=True)
            page.close()
        browser.close()
    assert not external, "requests left the site:\n" + "\n".join(sorted(set(external)))
    assert not problems, "\n".join(problems)
    assert math_total > 0, "no math found anywhere: the MathJax check checked nothing"
    assert len(list(SHOTS.glob("*.png"))) == len([p for p in pages(built) if "zh_CN" not in p.parts])
    assert any("zh_CN" in p.parts for p in pages(built)), "the zh_CN edition's pages were not opened"


MIN_ANIMATIONS = 4  # lstm_figures.anim: window_slide, unrolled_loop, stateful_streams, packed_batch_sizes

# Click each animation's pause button twice (book/_static/anim-controls.js): what the image shows and
# what the button says after each click.
TOGGLES = """
async () => {
  const out = [];
  for (const fig of document.querySelectorAll('figure.lstm-anim')) {
    const img = fig.querySelector('picture > img');
    const button = fig.querySelector('button.lstm-anim-toggle');
    const row = {button: !!button, states: []};
    if (button) {
      for (let k = 0; k < 2; k++) {
        button.click();
        await img.decode().catch(() => null);
        row.states.push({current: img.currentSrc, pressed: button.getAttribute('aria-pressed'),
                         label: button.textContent});
      }
    }
    out.push(row);
  }
  return out;
}
"""

ANIMATIONS = """
async () => {
  const out = [];
  for (const fig of document.querySelectorAll('figure.lstm-anim')) {
    const img = fig.querySelector('picture > img');
    const still = fig.querySelector('picture > source[media="(prefers-reduced-motion: reduce)"]');
    if (img) await img.decode().catch(() => null);
    out.push({
      src: img && img.getAttribute('src'),
      alt: img && img.getAttribute('alt'),
      natural: img ? img.naturalWidth : 0,
      complete: img ? img.complete : false,
      current: img && img.currentSrc,
      still: still && still.getAttribute('srcset'),
    });
  }
  return out;
}
"""


def _data_uri(uri: str | None, mime: str) -> bytes:
    """The bytes of a ``data:<mime>;base64,...`` URI (an AssertionError for anything else)."""
    import base64

    prefix = f"data:{mime};base64,"
    assert uri and uri.startswith(prefix), f"expected a {mime} data URI, got {(uri or '')[:40]!r}"
    return base64.b64decode(uri[len(prefix) :])


def test_animations_in_browser(server, built):
    """The book's animations (lstm_figures.anim) load in chromium: at least MIN_ANIMATIONS
    figure.lstm-anim, each a decoded GIF of more than one frame with alt text and a reduced-motion
    still PNG; with reduced motion emulated, the browser shows the still frame instead. Each has a
    pause button (WCAG 2.2.2) that shows the still frame and then the GIF again; with reduced motion,
    none (nothing moves)."""
    import io

    from PIL import Image
    from playwright import sync_api  # make test installs it: missing is a failure, not a skip

    with_anim = [p for p in pages(built) if "lstm-anim" in p.read_text("utf-8")]
    seen: dict[str, dict[str, list]] = {"no-preference": {}, "reduce": {}}
    toggles: dict[str, dict[str, list]] = {"no-preference": {}, "reduce": {}}
    with sync_api.sync_playwright() as p:
        browser = launch(p)
        for motion in seen:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, reduced_motion=motion)
            keep_local(context, refused=[])
            for path in with_anim:
                rel = path.relative_to(built).as_posix()
                page = context.new_page()
                page.goto(f"{server}/{rel}", wait_until="load")
                seen[motion][rel] = page.evaluate(ANIMATIONS)
                toggles[motion][rel] = page.evaluate(TOGGLES)
                page.close()
            context.close()
        browser.close()
    counts = {rel: len(figs) for rel, figs in seen["no-preference"].items()}
    assert sum(counts.values()) >= MIN_ANIMATIONS, f"only {sum(counts.values())} animations: {counts}"
    problems = []
    for rel, figs in seen["no-preference"].items():
        for k, (moving, reduced) in enumerate(zip(figs, seen["reduce"][rel], strict=True)):
            where = f"{rel} animation {k}"
            if not (moving["complete"] and moving["natural"] > 0 and reduced["natural"] > 0):
                problems.append(f"{where}: the image did not decode")
            if not (moving["alt"] or "").strip():
                problems.append(f"{where}: no alt text")
            if not moving["still"]:
                problems.append(f"{where}: no <source media='(prefers-reduced-motion: reduce)'>")
                continue
            gif = Image.open(io.BytesIO(_data_uri(moving["src"], "image/gif")))
            still = Image.open(io.BytesIO(_data_uri(moving["still"], "image/png")))
            if gif.n_frames < 2:
                problems.append(f"{where}: the GIF has {gif.n_frames} frame")
            if still.size != gif.size:
                problems.append(f"{where}: still {still.size} != GIF {gif.size}")
            if moving["current"] != moving["src"]:
                problems.append(f"{where}: without reduced motion the browser did not pick the GIF")
            if reduced["current"] != moving["still"]:
                problems.append(f"{where}: with reduced motion the browser did not pick the still PNG")
            toggle, calm = toggles["no-preference"][rel][k], toggles["reduce"][rel][k]
            if calm["button"]:
                problems.append(f"{where}: a pause button although nothing moves (reduced motion)")
            expected = [
                {"current": moving["still"], "pressed": "true", "label": "Play animation"},
                {"current": moving["src"], "pressed": "false", "label": "Pause animation"},
            ]
            if not toggle["button"] or toggle["states"] != expected:
                problems.append(f"{where}: the pause button did not pause and play: {str(toggle)[:200]}")
    assert not problems, "\n".join(problems)
