"""The zh_CN edition is complete and in step with the English (scripts/book_i18n.py, scripts/book.py).

The catalogue checks run without a build: nothing untranslated, fuzzy or obsolete (polib, since
``sphinx-intl stat`` always exits 0), the catalogues exactly what the English extracts today, code,
math and cross-references intact, and the glossary's terms (``book/11_appendix.md``) used as the
glossary says. Each check is also shown to catch what it is for, on a damaged copy. The built
edition is then compared with the English page by page, and opened in Chromium.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from conftest import keep_local, launch, serve

from scripts import book_i18n as i18n

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "book" / "_build" / "html"
ZH = HTML / "zh_CN"
LOCALE = ROOT / "book" / "locales" / "zh_CN" / "LC_MESSAGES"

pytestmark = pytest.mark.slow  # the staleness check extracts the whole book; the rest needs it built


def page_names() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "book" / "_toc.yml").read_text("utf-8"))
    return [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]


# --------------------------------------------------------------------------- the catalogues


def test_every_catalogue_entry_is_translated_and_clean():
    """No untranslated, fuzzy or obsolete entry; markup intact; the glossary's terms; prose in Chinese."""
    terms = i18n.glossary()
    files = sorted(LOCALE.glob("*.po"))
    assert {f.stem for f in files} >= set(page_names()) | {"comments", "site", "figures"}
    problems = [p for f in files for p in i18n.catalogue_problems(f, terms)]
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:60])


def test_catalogues_are_not_stale():
    """Re-extracting the English gives exactly the committed msgids: pages, code comments, site words."""
    assert i18n.stale() == []
    for domain, wanted in (("comments", i18n.comment_msgids()), ("site", i18n.site_msgids())):
        have = {e.msgid for e in polib.pofile(str(LOCALE / f"{domain}.po"))}
        assert have == set(wanted), f"{domain}.po: run `make translations` ({len(set(wanted) ^ have)} differ)"


def _damaged(tmp_path: Path, page: str, change) -> Path:
    po = polib.pofile(str(LOCALE / f"{page}.po"))
    change(po)
    out = tmp_path / f"{page}.po"
    po.save(str(out))
    return out


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda po: setattr(po[3], "msgstr", ""), "untranslated"),
        (lambda po: po[3].flags.append("fuzzy"), "fuzzy"),
        (lambda po: setattr(po[3], "obsolete", True), "obsolete"),
    ],
    ids=["untranslated", "fuzzy", "obsolete"],
)
def test_check_catches_untranslated_fuzzy_obsolete(tmp_path, damage, expected):
    problems = i18n.catalogue_problems(_damaged(tmp_path, "03_shapes", damage))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "msgid, msgstr, expected",
    [
        ("The hidden state `h` is $(B, H)$.", "隐状态 `h` 是 $(B, H)$。", "隐状态 is written 隐藏状态"),
        ("The hidden state `h` is $(B, H)$.", "隐藏状态 h 是 $(B, H)$。", "inline code lost"),
        ("The hidden state `h` is $(B, H)$.", "隐藏状态 `h` 是 (B, H)。", "math lost"),
        (
            "Each time step reads one row of numbers here.",
            "每个时间步长读一行数字。",
            "时间步长 is written 时间步",
        ),
        (
            "Each time step reads one row of numbers here.",
            "每一步读一行数字。",
            "'time step' must be rendered as 时间步",
        ),
        (
            "See {ref}`the windows <sec-windows>` first.",
            "先看{ref}`窗口 <sec-window>`。",
            "cross-reference target",
        ),
        ("The batch comes first in Keras.", "在 Keras 中 batch 在前。", "left in English"),
        ("Read the [docs](https://x.org/a) first, then run it.", "先读[文档](https://x.org/b)。", "link URL"),
        (
            "This paragraph explains the idea in plain words.",
            "This paragraph explains it. 好",
            "mostly Latin",
        ),
    ],
)
def test_check_catches_terminology_and_markup(msgid, msgstr, expected):
    problems = i18n.entry_problems(msgid, msgstr, set(), i18n.glossary())
    assert any(expected in p for p in problems), problems


def test_check_passes_a_good_translation_and_an_exemption():
    terms = i18n.glossary()
    good = "在 Keras 中，隐藏状态 `h` 的形状是 $(B, H)$，每个批次的每个时间步读一行特征。"
    assert i18n.entry_problems("In Keras the hidden state `h` is $(B, H)$: each time step of a batch reads one row of features.", good, set(), terms) == []  # fmt: skip
    assert i18n.entry_problems("A feature of Keras 3.", "Keras 3 的一项功能。", {"feature"}, terms) == []
    assert i18n.entry_problems("A feature of Keras 3.", "Keras 3 的一项功能。", set(), terms) != []


def test_stale_sees_a_changed_english_paragraph(tmp_path):
    """A paragraph changed in the English (here: a committed msgid that the English no longer has, and
    the paragraph it became) fails the staleness check until the catalogue is merged again."""
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, locales)
    po = polib.pofile(str(locales / "zh_CN" / "LC_MESSAGES" / "03_shapes.po"))
    old = po[5].msgid
    po[5].msgid = old + " (an older wording)"
    po.save()
    problems = i18n.stale(locales=locales)
    assert any("no longer has" in p for p in problems) and any("new English text" in p for p in problems)


def test_glossary_is_the_terminology_source():
    """The core terms of the issue are rows of the glossary table, each with its 简体 term."""
    terms = i18n.glossary()
    assert {name: terms[name].zh for name in i18n.CORE} == {
        "batch size": "批大小", "batch": "批次", "time step": "时间步", "feature": "特征",
        "hidden state": "隐藏状态", "cell state": "细胞状态", "forget gate": "遗忘门", "input gate": "输入门",
        "output gate": "输出门", "stateful": "有状态", "truncated BPTT": "截断反向传播",
    }  # fmt: skip
    assert "时间步长" in terms["time step"].also


# --------------------------------------------------------------------------- the built edition


@pytest.fixture(scope="module")
def built(built_book) -> Path:
    return built_book


class _Page(HTMLParser):
    """What a built page is made of: section ids, images, outputs, math, code cells, switcher links."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.images = self.outputs = self.math = self.cells = 0
        self.editions: list[tuple[str, str]] = []
        self.lang = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "html":
            self.lang = a.get("lang", "")
        if tag == "section" and a.get("id"):
            self.sections.append(a["id"])
        if tag == "img":
            self.images += 1
        if "cell_output" in classes:
            self.outputs += 1
        if "math" in classes:
            self.math += 1
        if "cell_input" in classes:
            self.cells += 1
        if tag == "a" and "lstm-edition" in classes:
            self.editions.append((a.get("hreflang", ""), a["href"]))


def _read(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text("utf-8"))
    return page


def test_zh_edition_has_the_pages_sections_figures_and_outputs_of_the_english(built):
    for name in page_names():
        en, zh = _read(HTML / f"{name}.html"), _read(ZH / f"{name}.html")
        assert zh.lang == "zh-CN" and en.lang == "en", (name, en.lang, zh.lang)
        assert zh.sections == en.sections, f"{name}: sections differ"
        # (math may repeat in Chinese: "取决于 $D_t$，而 $D_t$ 又取决于数据"; every span of the English is
        # kept, the catalogue check says so)
        assert zh.math >= en.math, f"{name}: math {en.math} > {zh.math}"
        for what in ("images", "outputs", "cells"):
            assert getattr(zh, what) == getattr(en, what), (
                f"{name}: {what} {getattr(en, what)} != {getattr(zh, what)}"
            )
        assert en.editions == [("zh-CN", f"zh_CN/{name}.html")], (name, en.editions)
        assert zh.editions == [("en", f"../{name}.html")], (name, zh.editions)


def test_zh_pages_link_the_chinese_downloads(built):
    """The zh exercises page offers the Chinese twins of the notebooks, the zh pages the Chinese cheat
    sheet (book/i18n.py swaps X.pdf for X.zh_CN.pdf where it exists), and the files are in the site."""
    import lstm_course as course

    page = (ZH / "exercises.html").read_text("utf-8")
    english = (HTML / "exercises.html").read_text("utf-8")
    launch = r'href="(https://(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/[^"]+[/=]exercises/{a}/[^"]+)"'
    for a in course.assignments(ROOT):
        links = re.findall(rf'href="(_downloads/[^"]+/{a}(?:\.zh_CN)?\.ipynb)"', page)
        assert links and all(link.endswith(f"{a}.zh_CN.ipynb") for link in links), (a, links)
        assert all((ZH / link).is_file() for link in links)
        # "在 Colab 或 Binder 中打开" opens the twin; the English page the English notebook
        zh_open, en_open = re.findall(launch.format(a=a), page), re.findall(launch.format(a=a), english)
        assert len(zh_open) == len(en_open) == 2, (a, zh_open, en_open)
        assert all(u.endswith(f"{a}/{a}.zh_CN.ipynb") for u in zh_open), zh_open
        assert all(u.endswith(f"{a}/{a}.ipynb") for u in en_open), en_open
    intro = (ZH / "intro.html").read_text("utf-8")
    sheets = re.findall(r'href="(_downloads/[^"]+\.pdf)"', intro)
    assert sheets and all(s.endswith(".zh_CN.pdf") for s in sheets), sheets


def test_zh_launch_buttons_open_the_chinese_notebooks(built):
    """The zh pages' Colab and Binder buttons open book/<chapter>.zh_CN.ipynb (book/i18n.py), the English
    pages' book/<chapter>.ipynb; the ".ipynb" download of a zh page is that Chinese notebook too."""
    button = r'href="(https://(?:colab\.research\.google\.com/github|mybinder\.org/v2/gh)/[^"]+/book/[^"]+)"'
    chapters = [n for n in page_names() if (ROOT / "book" / f"{n}.zh_CN.ipynb").is_file()]
    assert "03_shapes" in chapters, chapters
    for name in chapters:
        chinese = {}  # Chinese characters in the prose of each edition's download
        for folder, notebook in ((HTML, f"book/{name}.ipynb"), (ZH, f"book/{name}.zh_CN.ipynb")):
            page = (folder / f"{name}.html").read_text("utf-8")
            links = re.findall(button, page)
            assert len(links) == 2 and all(link.endswith(notebook) for link in links), (folder.name, links)
            downloads = re.findall(r'href="([^"]*_sources/[^"]+\.ipynb)"', page)
            assert downloads == [f"_sources/{Path(notebook).name}"], (folder.name, downloads)
            served = json.loads((folder / downloads[0]).read_text("utf-8"))
            prose = "".join("".join(c["source"]) for c in served["cells"] if c["cell_type"] == "markdown")
            chinese[folder] = len(re.findall(r"[\u4e00-\u9fff]", prose))
            if folder == ZH:
                assert served == json.loads((ROOT / notebook).read_text("utf-8"))
        assert chinese[ZH] > 100 and chinese[HTML] < chinese[ZH] / 4, (name, chinese)  # the glossary has some


def test_zh_figures_are_drawn_in_chinese(built):
    """Every figure output of the executed book carries a zh_CN twin with no label missing, and a figure
    with labels is a different image in zh (read from the execution cache)."""
    figures = 0
    for page, nb in sorted(i18n.executed_notebooks().items()):
        for cell in nb["cells"]:
            for out in cell.get("outputs", []):
                tr = out.get("metadata", {}).get("lstm_i18n", {}).get("zh_CN")
                if tr is None:
                    continue
                figures += 1
                assert not tr.get("error") and not tr.get("missing"), (
                    page,
                    tr.get("error"),
                    tr.get("missing"),
                )
                if tr["texts"]:
                    mime = "image/png" if "image/png" in out["data"] else "text/html"
                    assert tr[mime] != out["data"][mime], f"{page}: a figure with labels is unchanged in zh"
    assert figures >= 40, f"only {figures} figures carry a zh_CN twin"


def test_figures_catalogue_is_in_step(built):
    """Every label the figures need is in figures.po (exactly, or by a {} pattern), and nothing else is."""
    labels = i18n.figure_msgids()
    assert labels, "the executed notebooks list no figure labels: the check would check nothing"
    have = {e.msgid for e in polib.pofile(str(LOCALE / "figures.po"))}
    assert not [label for label in labels if not i18n.covered(label, have)]
    used = {i18n.covered(label, have) for label in labels}
    assert have <= used, f"figures.po has entries no figure uses: {sorted(have - used)[:10]}"


# Text a reader reads as prose: code, outputs, math and the theme's widgets removed.
PROSE = """
() => {
  const main = document.querySelector('main') || document.body;
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, .MathJax_Preview, .MathJax, .MathJax_Display, .math, '
    + '.highlight, .cell_output, .cell_input, noscript, .lstm-editions, .headerlink, .toggle-details, '
    + 'summary, .tag_hide-input > .cell_input, .admonition-title .headerlink').forEach(e => e.remove());
  const out = [];
  clone.querySelectorAll('p, li, td, th, h1, h2, h3, h4, figcaption, dt, dd').forEach(e => {
    if (e.querySelector('p, li, td')) return;  // only the innermost blocks
    out.push(e.innerText.trim());
  });
  return out;
}
"""


def _mostly_latin(text: str, english_terms: set[str]) -> bool:
    """Whether a prose block reads as English: more Latin letters in words than Chinese characters.
    Code-like tokens (a shape written in a heading, ``weight_ih``) are not words; a cell of the glossary's
    English column is English on purpose."""
    if text.strip() in english_terms:
        return False
    words = i18n.english_words(text, codeish=True)
    cjk = len(re.findall(r"[\u3400-\u9fff]", text))
    return len(words) >= 3 and sum(len(w) for w in words) > cjk


SEARCH = r"""
async (query) => {
  const t0 = Date.now();
  while (Date.now() - t0 < 120000) {  // a hang, not a slow machine
    const items = document.querySelectorAll('#search-results ul.search li a');
    const done = document.querySelector('#search-results p.search-summary');
    if (done && /\d/.test(done.innerText)) {  // "found N pages": written once every result is listed
      return Array.from(items).map(a => a.getAttribute('href'));
    }
    await new Promise(r => setTimeout(r, 100));
  }
  return null;
}
"""


def test_zh_edition_in_browser(built):
    """In Chromium: the switcher goes to the same page in the other edition and back, on every page;
    no request leaves 127.0.0.1; no prose paragraph is mostly Latin letters; and the search for 时间步
    finds the shapes chapter. (tests/test_book.py opens every page of both editions for console
    errors, broken images, MathJax typesetting and requests that leave 127.0.0.1.)"""
    from playwright import sync_api

    refused: list[str] = []
    problems: list[str] = []
    english_terms = set(i18n.glossary())
    with serve(HTML) as base, sync_api.sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        keep_local(context, refused)
        page = context.new_page()
        for name in page_names():
            page.goto(f"{base}/zh_CN/{name}.html", wait_until="load")
            for text in page.evaluate(PROSE):
                if _mostly_latin(text, english_terms):
                    problems.append(f"{name}: mostly Latin: {text[:100]!r}")
            page.click("nav.lstm-editions a[hreflang='en']")
            page.wait_for_load_state("load")
            if not page.url.endswith(f"/{name}.html") or "/zh_CN/" in page.url:
                problems.append(f"{name}: the switcher went to {page.url}")
            page.click("nav.lstm-editions a[hreflang='zh-CN']")
            page.wait_for_load_state("load")
            if not page.url.endswith(f"/zh_CN/{name}.html"):
                problems.append(f"{name}: the switcher came back to {page.url}")
        page.goto(f"{base}/zh_CN/search.html?q=时间步", wait_until="load")
        hits = page.evaluate(SEARCH, "时间步")
        browser.close()
    assert not refused, refused
    assert not problems, "\n".join(problems)
    assert hits and any(h.split("?")[0].endswith("03_shapes.html") for h in hits), hits
