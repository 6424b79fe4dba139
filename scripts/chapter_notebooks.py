"""Write ``book/<chapter>.ipynb``, the launchable twin of every MyST chapter, for Colab and Binder,
and ``book/<chapter>.<lang>.ipynb``, its translation, which the translated edition's buttons open.

The book's sources are MyST Markdown (text, reviewable diffs). Colab cannot open them, and the
theme's launch buttons open ``<chapter>.ipynb`` instead whenever that file sits next to the
``.md``. So each chapter gets a generated notebook without outputs, with one extra first cell that,
on Colab only, clones the course and pip-installs it without dependencies (Colab has numpy,
matplotlib, torch and Keras), with ``polib``, which reads the figures' catalogues: that gives
``lstm_ref`` and the book's figures, ``lstm_figures`` (``book/lstm_figures/``, packaged by
``pyproject.toml``).

The translated notebook (:func:`twin`) has the same cells, with

- every Markdown block (heading, paragraph, list item, table cell, display equation, a directive's
  title and body) from the page's catalogue ``locales/<lang>/LC_MESSAGES/<chapter>.po``, whose msgids
  Sphinx extracted from this very Markdown (:func:`translate_markdown`; MyST directives, roles and
  ``(label)=`` targets pass through);
- the code comments from ``comments.po``, as the translated edition shows them (``book/i18n.py``),
  hidden set-up cells' (``remove-cell``) included: the page hides them, the notebook shows them;
- the Colab cell in ``lang``, ending with ``lstm_ref.set_language(lang)``: ``lstm_ref``'s messages
  (errors, shape checks) and the figures' labels (``lstm_figures.i18n.shown_language``) in ``lang``; on
  Colab it also installs the CJK font the figures draw Chinese with (Debian's ``fonts-wqy-microhei``).
  Every twin gets it, also the two chapters that do not import ``lstm_ref`` (``intro``,
  ``instructor_guide``): one set-up cell for all, at the cost of one small import of a package the
  Colab cell has just installed, and a reader who tries ``lstm_ref`` there gets its messages in
  ``lang`` too.

The notebooks are committed, excluded from the Sphinx build (``_config.yml``: ``*.ipynb``), and
``tests/test_chapter_notebooks.py`` fails when one has drifted from its chapter or its catalogues.

    python -m scripts.chapter_notebooks          # (re)write every book/<chapter>.ipynb and its twins
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import jupytext
import nbformat

from lstm_course.translations import MissingTranslations, _markdown, _translatable
from lstm_figures.i18n import CJK_FONT, TRANSLATIONS, catalogue, needs, translate_comments

BOOK = Path(__file__).resolve().parent.parent / "book"
REPO_URL = "https://github.com/lstm-shapes-course/lstm-shapes"
_COLAB = """# {install}
import importlib.util
import os
import subprocess
import sys

if "google.colab" in sys.modules and importlib.util.find_spec("lstm_figures") is None:
    subprocess.run(["git", "clone", "-q", "--depth", "1", "{repo}"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "./lstm-shapes", "polib"], check=True)
    importlib.invalidate_caches()  # {reload}
    os.chdir("lstm-shapes/book")"""
COLAB_WORDS = {
    "en": {
        "install": "On Colab, install the course first (lstm_ref and the book's figures, lstm_figures); "
        "elsewhere this does nothing.",
        "reload": "so that this running kernel finds the packages just installed",
    },
    "zh_CN": {
        "install": "在 Colab 上先安装本课程（lstm_ref 和本书的绘图包 lstm_figures）；在其他环境中，这段代码什么也不做。",
        "reload": "让正在运行的内核找到刚安装的包",
    },
}
COLAB_CELL = _COLAB.format(repo=REPO_URL, **COLAB_WORDS["en"])
# What a translated notebook's first cell ends with: lstm_ref's messages in that language.
SET_LANGUAGE = {
    "zh_CN": "\n"
    f'\nif "google.colab" in sys.modules and not os.path.exists("{CJK_FONT}"):'
    '\n    subprocess.run(["apt-get", "-qq", "install", "-y", "fonts-wqy-microhei"], check=False)  # 图中文字的字体'
    "\n\nimport lstm_ref"
    '\n\nlstm_ref.set_language("zh_CN")  # lstm_ref 的提示信息（报错、形状检查）和图中的文字都用中文',
}

_FENCE = re.compile(r"^[ \t]*(?P<mark>`{3,}|~{3,}|:{3,})(?:\{(?P<name>[\w:-]+)\})?[ \t]*(?P<arg>.*?)[ \t]*$")
_OPTION = re.compile(r"^[ \t]*:[\w-]+:")  # a directive's option line, ":class: dropdown"
_LABEL = re.compile(r"^[ \t]*\([\w:.-]+\)=[ \t]*$")  # a MyST target, "(ch-shapes)="
_ORDERED = re.compile(r"^([ \t]*)(\d{1,9})[.)][ \t]+\S")
_ITEM = re.compile(r"^[ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+")
_TEXT = re.compile(r"\\text\{([^}]*)\}")
# directives whose body is code or data, kept as written ({math} is an equation, translated whole)
LITERAL = {"code-block", "code", "code-cell", "sourcecode", "raw", "eval-rst", "tableofcontents", "toctree",
           "literalinclude", "include", "glue", "glue:any", "glue:text", "glue:math"}  # fmt: skip
NAME_ARGUMENT = {"figure", "image", "glue:figure", "math"}  # their argument is a path or a name, not a title


def chapters() -> list[Path]:
    """The MyST notebooks of the book: every ``book/*.md`` whose header names a kernel."""
    return sorted(p for p in BOOK.glob("*.md") if "kernelspec:" in p.read_text().split("\n---", 1)[0])


def twin_path(md: Path, lang: str) -> Path:
    """``book/<chapter>.<lang>.ipynb``, the ``lang`` notebook of chapter ``md``."""
    return md.with_suffix(f".{lang}.ipynb")


def notebook(md: Path) -> nbformat.NotebookNode:
    """The launchable notebook of one chapter: the Colab cell, then the chapter's cells."""
    nb = jupytext.read(md)
    nb.metadata.pop("jupytext", None)  # no pairing: the .md stays the one source
    cell = nbformat.v4.new_code_cell(COLAB_CELL, metadata={"tags": ["colab-setup"]})
    cell.pop("id", None)
    for c in nb.cells:
        c.pop("id", None)
        if (
            c.cell_type == "markdown"
        ):  # MyST target labels such as "(ch-shapes)=" mean nothing outside the book
            c.source = re.sub(r"^\([\w-]+\)=\n", "", c.source, flags=re.M).strip("\n")
    nb.cells.insert(0, cell)
    nb.nbformat, nb.nbformat_minor = 4, 4
    return nb


def _lazy_numbers(lines: list[str]) -> list[str]:
    """``lines`` with each line like ``"   300. Where ..."`` joined to the paragraph line before it.

    In CommonMark only ``1.`` may start a list inside a paragraph: any other number continues the
    paragraph (a wrapped "... for 30 steps instead of / 300. Where ..."), unless it is the next item
    of the list the paragraph is in (``2.`` under ``1.``, at the same indent). ``blocks()`` would start
    an item there, and the paragraph's msgid would not be found."""
    out: list[str] = []
    content_col: int | None = None  # where the open list item's text starts; None: a plain paragraph
    for line in lines:
        m = _ORDERED.match(line)
        prose = out and out[-1].strip() and not out[-1].lstrip().startswith(("#", "|"))
        if prose and m and int(m.group(2)) != 1 and (content_col is None or len(m.group(1)) >= content_col):
            out[-1] += " " + line.strip()
            continue
        if not line.strip():
            content_col = None
        elif item := _ITEM.match(line):
            content_col = item.end()
        out.append(line)
    return out


def _equation(lines: list[str], tr: Callable[[str], str]) -> list[str]:
    """A display equation (``$$ ... $$`` or a ``{math}`` body): its msgid is the TeX between the delimiters,
    exactly as written (line breaks included), looked up when it has words (``\\text{...}``)."""
    block = "\n".join(lines)
    tex = block.strip()[2:-2] if block.lstrip().startswith("$$") else block
    if not any(needs(t) for t in _TEXT.findall(tex)):
        return lines
    return block.replace(tex, tr(tex), 1).split("\n")


def _equation_end(lines: list[str], start: int) -> int:
    """The index of the line closing the ``$$`` equation opened at ``lines[start]`` (the last when none)."""
    if lines[start].strip() != "$$" and lines[start].rstrip().endswith("$$"):
        return start  # $$ ... $$ on one line
    return next((j for j in range(start + 1, len(lines)) if lines[j].rstrip().endswith("$$")), len(lines) - 1)


def _fence_end(lines: list[str], start: int, mark: str) -> int:
    """The index of the line closing the fence opened at ``lines[start]`` (``len(lines)`` when none)."""
    close = re.compile(rf"^[ \t]*{re.escape(mark[0])}{{{len(mark)},}}[ \t]*$")
    return next((j for j in range(start + 1, len(lines)) if close.match(lines[j])), len(lines))


def _directive(lines: list[str], fence: re.Match, tr: Callable[[str], str]) -> list[str]:
    """A fenced block, its closing fence left out: a code block or a :data:`LITERAL` directive as written;
    any other directive with its title (an argument that is prose) and its body translated, its options
    (``:class: dropdown`` lines or a ``---`` YAML block) as written."""
    name, arg = fence["name"], fence["arg"]
    if not name or name in LITERAL:
        return lines
    head, body = lines[0], 1
    if body < len(lines) and lines[body].strip() == "---":
        body = next((j for j in range(body + 1, len(lines)) if lines[j].strip() == "---"), len(lines) - 1) + 1
    while body < len(lines) and _OPTION.match(lines[body]):
        body += 1
    if arg and name not in NAME_ARGUMENT and _translatable(arg):
        head = head[: fence.start("arg")] + tr(arg)
    inner = _equation(lines[body:], tr) if name == "math" else _myst(lines[body:], tr)
    return [head, *lines[1:body], *inner]


def _myst(lines: list[str], tr: Callable[[str], str]) -> list[str]:
    """``lines`` of MyST Markdown translated by ``tr``: directives, display equations and ``(label)=``
    targets here, the plain Markdown between them by ``lstm_course.translations``' translator."""
    out: list[str] = []
    plain: list[str] = []

    def flush() -> None:
        if plain:
            out.extend(_markdown("\n".join(_lazy_numbers(plain)), tr).split("\n"))
            plain.clear()

    i = 0
    while i < len(lines):
        line, fence = lines[i], _FENCE.match(lines[i])
        if fence and (fence["name"] or fence["mark"][0] != ":"):  # ":::" alone closes a directive
            flush()
            end = _fence_end(lines, i, fence["mark"])
            out += _directive(lines[i:end], fence, tr) + lines[end : end + 1]
        elif line.lstrip().startswith("$$"):
            flush()
            end = _equation_end(lines, i)
            out += _equation(lines[i : end + 1], tr)
        elif _LABEL.match(line):
            flush()
            out.append(line)
            end = i
        else:
            plain.append(line)
            end = i
        i = end + 1
    flush()
    return out


def translate_markdown(source: str, tr: Callable[[str], str]) -> str:
    """MyST Markdown ``source`` with every block's text replaced by ``tr(text)``, ``text`` as Sphinx's
    gettext extracts it (lines joined by single spaces; an equation's TeX as written).

    >>> table = {"Shapes": "形状", "One *row* per step.": "每个时间步一*行*。", "Note well": "注意"}
    >>> print(translate_markdown("(ch-x)=\\n# Shapes\\n\\n:::{admonition} Note well\\n:class: tip\\nOne *row*\\nper step.\\n:::", table.get))
    (ch-x)=
    # 形状
    <BLANKLINE>
    :::{admonition} 注意
    :class: tip
    每个时间步一*行*。
    :::
    """
    return "\n".join(_myst(source.split("\n"), tr))


def twin(md: Path, lang: str) -> nbformat.NotebookNode:
    """The ``lang`` notebook of chapter ``md``: :func:`notebook`'s cells with its Markdown and code comments
    in ``lang``, and the Colab cell in ``lang`` choosing ``lang`` for ``lstm_ref``. Raises
    :class:`~lstm_course.translations.MissingTranslations` naming the chapter and each block with English
    prose that the catalogues lack."""
    table = catalogue(md.stem, lang)
    missing: dict[str, str] = {}  # text -> what it is

    def tr(text: str) -> str:
        if text not in table:
            missing.setdefault(text, f"locales/{lang}/LC_MESSAGES/{md.stem}.po lacks")
        return table.get(text, text)

    nb = notebook(md)
    for cell in nb.cells:
        if "colab-setup" in cell.metadata.get("tags", []):
            cell.source = _COLAB.format(repo=REPO_URL, **COLAB_WORDS[lang]) + SET_LANGUAGE[lang]
        elif cell.cell_type == "markdown":
            cell.source = translate_markdown(cell.source, tr)
        elif cell.cell_type == "code":
            lacks: set[str] = set()
            cell.source = translate_comments(cell.source, lang, lacks)
            missing.update((t, f"locales/{lang}/LC_MESSAGES/comments.po lacks the comment") for t in lacks)
    if missing:
        listed = "\n".join(f"  {what}: {' '.join(text.split())[:100]!r}" for text, what in missing.items())
        raise MissingTranslations(
            f"book/{md.name}: {len(missing)} block(s) with English and no {lang} translation "
            f"(run python -m scripts.book_i18n update, translate, then this again):\n{listed}"
        )
    return nb


def write_all() -> list[Path]:
    """Write every chapter's notebook and its twin in each of ``lstm_figures.i18n.TRANSLATIONS`` (nothing,
    when a twin cannot be made)."""
    made = {md.with_suffix(".ipynb"): notebook(md) for md in chapters()}
    made |= {twin_path(md, lang): twin(md, lang) for md in chapters() for lang in TRANSLATIONS}
    for out, nb in made.items():
        out.write_text(nbformat.writes(nb) + "\n")
    return sorted(made)


if __name__ == "__main__":
    for path in write_all():
        print(f"wrote {path.relative_to(BOOK.parent)}", file=sys.stdout)
