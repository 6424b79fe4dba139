"""The launchable chapter notebooks (book/<chapter>.ipynb) and their Chinese twins
(book/<chapter>.zh_CN.ipynb) match their MyST sources and catalogues, and open anywhere."""

import io
import json
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
import yaml

from lstm_course.translations import MissingTranslations
from scripts import book_i18n
from scripts import chapter_notebooks as cn

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = cn.chapters()
LANG = "zh_CN"


def _cells(nb) -> list[tuple[str, str, list]]:
    return [
        (c["cell_type"], "".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in nb["cells"]
    ]


def test_every_chapter_has_a_notebook_and_a_twin():
    names = {p.stem for p in CHAPTERS}
    assert {"intro", "01_recurrence", "07_stateful", "11_appendix"} <= names
    stems = {p.name.removesuffix(".ipynb") for p in (ROOT / "book").glob("*.ipynb")}
    expected = names | {f"{n}.{LANG}" for n in names}
    assert stems == expected, (
        f"missing: {sorted(expected - stems)}; without a chapter: {sorted(stems - expected)}"
    )


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_notebook_matches_its_chapter(md):
    committed = md.with_suffix(".ipynb")
    assert committed.exists(), f"{committed.name} is missing: run python -m scripts.chapter_notebooks"
    fresh = json.loads(json.dumps(cn.notebook(md)))
    assert _cells(json.loads(committed.read_text())) == _cells(fresh), (
        f"{committed.name} has drifted from {md.name}: run python -m scripts.chapter_notebooks"
    )
    code = [s for t, s, _ in _cells(fresh) if t == "code"]
    assert len(code) > 1 and code[0] == cn.COLAB_CELL


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_twin_matches_its_chapter_and_catalogues(md):
    committed = cn.twin_path(md, LANG)
    assert committed.exists(), f"{committed.name} is missing: run python -m scripts.chapter_notebooks"
    fresh = json.loads(json.dumps(cn.twin(md, LANG)))
    assert _cells(json.loads(committed.read_text())) == _cells(fresh), (
        f"{committed.name} has drifted from {md.name} or its catalogues: run python -m scripts.chapter_notebooks"
    )


def _code(source: str) -> list[str]:
    """The lines of Python ``source`` without its comments (a line that was only a comment is dropped)."""
    lines = source.split("\n")
    for tok in reversed(list(tokenize.generate_tokens(io.StringIO(source).readline))):
        if tok.type == tokenize.COMMENT:
            row, col = tok.start
            lines[row - 1] = lines[row - 1][:col].rstrip() or "\0"
    return [line for line in lines if line != "\0"]


def _comments(source: str) -> list[str]:
    """The comments of Python ``source``, consecutive full-line comments joined into one text."""
    out, last_row = [], 0
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.COMMENT:
            continue
        text, full_line = tok.string.lstrip("#").strip(), not tok.line[: tok.start[1]].strip()
        if full_line and out and tok.start[0] == last_row + 1:
            out[-1] += "\n" + text
        else:
            out.append(text)
        last_row = tok.start[0] if full_line else 0
    return out


def _prose(markdown: str) -> list[str]:
    """A Markdown cell's blank-line separated chunks, MyST syntax (a directive's name, its options) left out."""
    markdown = re.sub(r"^[ \t]*(?::{3,}|`{3,})\{[\w:-]+\}", "", markdown, flags=re.M)
    return re.sub(r"^[ \t]*:[\w-]+:.*$", "", markdown, flags=re.M).split("\n\n")


def _mostly_latin(text: str, codeish: bool = False) -> bool:
    """The catalogue check's rule for prose (``scripts.book_i18n.entry_problems``): three English words or
    more, and at least as many Latin letters in words as Chinese characters. ``codeish``: a comment,
    where code is not quoted."""
    words = book_i18n.english_words(text, codeish)
    return len(words) >= 3 and sum(len(w) for w in words) >= len(book_i18n.CJK.findall(text))


def _headings(nb) -> list[int]:
    """The level of every Markdown heading (outside fenced blocks), in order."""
    levels, fenced = [], False
    for t, source, _ in _cells(nb):
        for line in source.split("\n") if t == "markdown" else []:
            fenced ^= bool(re.match(r"[ \t]*(```|~~~)", line))
            if not fenced and (m := re.match(r"(#{1,6}) \S", line)):
                levels.append(len(m.group(1)))
    return levels


@pytest.mark.parametrize("md", CHAPTERS, ids=lambda p: p.stem)
def test_twin_is_its_chapter_in_chinese(md):
    """Each Markdown chunk with English prose reads as Chinese (the catalogue check's rule: fewer Latin
    letters in words than Chinese characters); the headings are the English ones; the code is the English
    code, comments aside, and every comment is Chinese (a set-up cell the page hides included); the first cell also installs the
    figures' CJK font on Colab and sets lstm_ref's language (its messages' and the figures')."""
    en, zh = json.loads(md.with_suffix(".ipynb").read_text()), json.loads(cn.twin_path(md, LANG).read_text())
    en_cells, zh_cells = _cells(en), _cells(zh)
    assert [(t, tags) for t, _, tags in en_cells] == [(t, tags) for t, _, tags in zh_cells]
    assert _headings(en) == _headings(zh) and _headings(en), md.name
    english_chunks = 0
    for (t, en_src, tags), (_, zh_src, _) in zip(en_cells, zh_cells, strict=True):
        if t == "markdown":
            en_chunks, zh_chunks = _prose(en_src), _prose(zh_src)
            assert len(en_chunks) == len(zh_chunks), (md.name, en_src[:80])
            for before, after in zip(en_chunks, zh_chunks, strict=True):
                if len(book_i18n.english_words(before)) < 3:
                    continue
                english_chunks += 1
                assert not _mostly_latin(after), f"{md.name}: mostly Latin letters: {after[:120]!r}"
        elif "colab-setup" in tags:
            font = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
            set_up = [
                "",
                f'if "google.colab" in sys.modules and not os.path.exists("{font}"):',
                '    subprocess.run(["apt-get", "-qq", "install", "-y", "fonts-wqy-microhei"], check=False)',
                "",
                "import lstm_ref",
                "",
                f'lstm_ref.set_language("{LANG}")',
            ]
            assert _code(zh_src) == _code(en_src) + set_up
            assert _comments(zh_src) and all(book_i18n.CJK.search(text) for text in _comments(zh_src))
        else:
            assert _code(zh_src) == _code(en_src), (md.name, en_src[:80])
            english = [text for text in _comments(zh_src) if _mostly_latin(text, codeish=True)]
            assert not english, (md.name, english)  # hidden set-up cells too: the notebook shows them
    assert english_chunks >= 3, f"{md.name}: only {english_chunks} chunks of prose were checked"


def test_translate_markdown_keeps_myst_and_translates_its_prose():
    """Directives, roles, targets, glue, options, code and math pass through; titles, bodies, list items,
    table cells and equations with words are looked up as Sphinx extracts them (lines joined by spaces)."""
    source = """(sec-x)=
## The cube

```{note}
A {term}`batch` stacks
samples.
```

:::{admonition} Why three axes?
:class: dropdown
One row per step.
:::

```{figure} _static/cube.png
:name: fig-cube

The cube, front face.
```

```{glue:figure} cube_fig
```

```python
x = 1  # not prose
```

$$h_t = \\tanh(a_t)$$

$$
y = x \\quad \\text{for every step}
$$

1. Train for 30 steps instead of
   300. Where are the gates?
2. Second item.

| question | Keras |
|---|---|
| input layout | `(B, T, F)` |"""
    table = {
        "The cube": "立方体",
        "A {term}`batch` stacks samples.": "一个{term}`批次 <batch>`把样本叠在一起。",
        "Why three axes?": "为什么是三个轴？",
        "One row per step.": "每个时间步一行。",
        "The cube, front face.": "立方体的正面。",
        "\ny = x \\quad \\text{for every step}\n": "\ny = x \\quad \\text{对每一步}\n",
        "Train for 30 steps instead of 300. Where are the gates?": "只训练 30 步而不是 300 步。门在哪里？",
        "Second item.": "第二项。",
        "question": "问题",
        "input layout": "输入布局",
    }
    expected = """(sec-x)=
## 立方体

```{note}
一个{term}`批次 <batch>`把样本叠在一起。
```

:::{admonition} 为什么是三个轴？
:class: dropdown
每个时间步一行。
:::

```{figure} _static/cube.png
:name: fig-cube

立方体的正面。
```

```{glue:figure} cube_fig
```

```python
x = 1  # not prose
```

$$h_t = \\tanh(a_t)$$

$$
y = x \\quad \\text{对每一步}
$$

1. 只训练 30 步而不是 300 步。门在哪里？
2. 第二项。

| 问题 | Keras |
|---|---|
| 输入布局 | `(B, T, F)` |"""
    looked_up = []

    def tr(text):
        looked_up.append(text)
        return table[text]

    assert cn.translate_markdown(source, tr) == expected
    assert sorted(looked_up) == sorted(table), "every msgid looked up once, nothing else"


def test_twin_names_the_chapter_and_the_blocks_its_catalogue_lacks(monkeypatch):
    md = cn.BOOK / "03_shapes.md"
    full = cn.catalogue(md.stem, LANG)
    lacking = {k: v for k, v in full.items() if k not in {"Why three axes?", "The picture"}}
    monkeypatch.setattr(cn, "catalogue", lambda domain, lang: lacking if domain == md.stem else {})
    with pytest.raises(MissingTranslations) as err:
        cn.twin(md, LANG)
    message = str(err.value)
    assert message.startswith("book/03_shapes.md: 2 block(s)")
    assert "'Why three axes?'" in message and "'The picture'" in message and "03_shapes.po" in message


def test_sphinx_build_excludes_the_notebooks():
    """_config.yml's exclude_patterns keep every .ipynb, the twins included, out of the book (the pages
    are the .md files); the same patterns do not exclude a chapter."""
    from sphinx.util.matching import Matcher

    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text("utf-8"))
    excluded = Matcher(config["exclude_patterns"])
    twins = [cn.twin_path(md, LANG).name for md in CHAPTERS]
    assert all(excluded(name) for name in twins) and not any(excluded(md.name) for md in CHAPTERS)


@pytest.mark.parametrize("lang", ["en", LANG])
def test_colab_cell_does_nothing_outside_colab(tmp_path, lang):
    """Outside Colab the first cell installs nothing and stays in its folder; the twin's chooses lstm_ref's
    language."""
    first = (
        cn.COLAB_CELL
        if lang == "en"
        else _cells(json.loads(cn.twin_path(CHAPTERS[0], LANG).read_text()))[0][1]
    )
    before = sorted(os.listdir(tmp_path))
    check = "\nimport lstm_ref\nprint(os.getcwd(), lstm_ref.get_language())"
    proc = subprocess.run(
        [sys.executable, "-c", first + check],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "LSTM_REF_LANG"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(tmp_path), lang] and sorted(os.listdir(tmp_path)) == before
