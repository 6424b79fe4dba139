"""The book's words in other languages, where Sphinx's gettext cannot reach: figures and code comments.

The prose of a page is translated by Sphinx (``book/locales/<lang>/LC_MESSAGES/<page>.po``). Two
things on a page are not prose, and are translated here from two more catalogues in the same folder:

- **figure labels** (``figures.po``): a figure is drawn once, in English, when a chapter runs. When
  Jupyter shows it, :func:`figure_bundle` also draws a copy with every label translated (titles, axis
  labels, legends, annotations, tick labels given as text) and puts that PNG in the output's metadata
  (``lstm_i18n``), with the labels it needed and those the catalogue lacked. The Chinese build shows
  the translated PNG (``lstm_figures.mystnb``) and fails on a missing label. Animations do the same
  frame by frame (``lstm_figures.animation.render``). So the code runs once, and a figure in the
  Chinese edition is the same drawing as the English one, from the same numbers.
- **in a live notebook** (a chapter's ``.zh_CN.ipynb`` twin, run on Colab or a laptop), Jupyter shows
  the figure in the language of ``lstm_ref``'s messages (:func:`shown_language`: the twin's first cell
  calls ``lstm_ref.set_language("zh_CN")``), the English drawing where that language has no copy. The
  catalogues are read from the checkout (``book/locales``), or from ``./locales`` (the Colab cell clones
  the course and works in its ``book/`` folder).
- **code comments** (``comments.po``): :func:`comments` finds the comments of a code cell (with
  :mod:`tokenize`, so a ``#`` inside a string is not one), consecutive full-line comments as one
  block; the Chinese build swaps them in the cell's shown source (``book/i18n.py``). The code itself,
  identifiers, shapes and outputs stay as they ran.

A label or comment needs a translation when it has an English word outside code (:func:`needs`):
``"h_t"``, ``"(4, 6, 3)"`` or ``"LSTM"`` do not. A ``figures.po`` msgid may hold ``{}`` placeholders,
which match any text (a computed number) and are copied into the translation in order.

The CJK font is WenQuanYi Micro Hei, the one the PDF and the cheat sheet use (``make browser``).
"""

from __future__ import annotations

import base64
import io
import pickle
import re
import tokenize
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

LOCALES = Path(__file__).resolve().parents[1] / "locales"  # in a checkout; installed: ./locales (locales())
TRANSLATIONS = ("zh_CN",)
CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CJK_FAMILY = "WenQuanYi Micro Hei"
KEEP = {
    "LSTM", "LSTMs", "GRU", "RNN", "Keras", "PyTorch", "torch", "NumPy", "TensorFlow", "cuDNN", "BPTT", "RMSE", "MAE",
    "MASE", "MSE", "GPU", "CPU", "Dense", "Sequential", "tanh", "sigmoid", "ReLU", "Adam", "SGD", "vs", "log",
    "max", "min", "std", "OK", "Bidirectional", "LSTMCell", "RepeatVector", "TimeDistributed",
}  # fmt: skip
DIRECTIVE = re.compile(r"^\s*(noqa|fmt:|type:|pragma|pylint:|ruff:)")
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Code in a label or a comment is not quoted: a call, a shape tuple "(num_layers*directions, batch, hidden)",
# an ASCII token with a code character ("weight_ih", "x[0]", "h.detach()") or a digit ("h0"). Words in
# parentheses, "(zeros)", are prose. Chinese next to code is not part of the token.
CODE_TOKEN = re.compile(
    r"`[^`]*`"  # quoted code
    r"|[A-Za-z_]\w*\([^()]*\)"  # a call: ManyToOne(3, 16), ceil(windows / batch_size)
    r"|\(\s*\w+(?:\s*[*+=-]\s*\w+)*(?:,\s*\w+(?:\s*[*+=-]\s*\w+)*)+\s*\)"  # a tuple: (batch, T=12, F=1)
    r"|[!-~]*[_\[\].=/\\][!-~]*|\b\w*\d\w*\b"  # a token with a code character or a digit
)


@dataclass(frozen=True)
class Term:
    english: str
    zh: str
    also: tuple[str, ...]


def glossary(md: Path = LOCALES.parent / "11_appendix.md") -> dict[str, Term]:
    """The glossary table of chapter 11: English -> its 简体 term and the renderings it avoids."""
    text = md.read_text("utf-8")
    start = text.index("| English |", text.index("(sec-glossary)="))
    rows = {}
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("| "):
            break
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        also = tuple(a.strip() for a in cells[4].split(",") if a.strip()) if len(cells) > 4 else ()
        rows[cells[0]] = Term(cells[0], cells[1], also)
    if len(rows) < 10:
        raise ValueError(f"the glossary table of {md.name} was not found (or lost its rows)")
    return rows


IDENTIFIER = re.compile(r"\S*[_\[\]().=/\\]\S*|\b\w*\d\w*\b")  # in comments and labels, code is not quoted


def jieba_dict(path: Path, lang: str = "zh_CN") -> Path:
    """A jieba user dictionary of the glossary's terms, so that search finds 时间步 as one word."""
    if lang != "zh_CN":
        raise ValueError(f"no glossary column for {lang!r}")
    words = sorted({t.zh.split("（")[0].strip() for t in glossary().values()})  # "层（堆叠）": 层
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{w} 100000 n\n" for w in words if w and " " not in w), encoding="utf-8")
    return path


def _words(text: str) -> list[str]:
    """The English words of ``text`` outside code: single letters and names like Keras left out."""
    words = WORD.findall(CODE_TOKEN.sub(" ", text))
    return [w for w in words if len(w) > 1 and w not in KEEP and w.rstrip("s") not in KEEP]


def needs(text: str) -> bool:
    """Whether ``text`` has an English word outside code: single letters, names and code do not count."""
    return bool(_words(text))


def locales() -> Path:
    """The catalogues' folder: the checkout's ``book/locales`` next to this package, else ``./locales``
    (an installed package, run from the course's ``book/`` folder)."""
    return LOCALES if LOCALES.is_dir() else Path.cwd() / "locales"


def shown_language() -> str:
    """The language a live notebook shows its figures in: ``lstm_ref``'s (``lstm_ref.set_language``,
    ``$LSTM_REF_LANG``), English without ``lstm_ref``."""
    try:
        from lstm_ref.i18n import get_language
    except ImportError:
        return "en"
    return get_language()


@cache
def catalogue(domain: str, lang: str) -> dict[str, str]:
    """``msgid -> msgstr`` of ``<lang>/LC_MESSAGES/<domain>.po`` (translated, non-fuzzy entries only)."""
    import polib

    path = locales() / lang / "LC_MESSAGES" / f"{domain}.po"
    if not path.is_file():
        return {}
    return {e.msgid: e.msgstr for e in polib.pofile(str(path)) if e.msgstr and "fuzzy" not in e.flags}


def pattern(msgid: str) -> re.Pattern | None:
    """The regular expression of a ``{}`` msgid (each ``{}`` matches any text), or None for a plain one."""
    if "{}" not in msgid:
        return None
    return re.compile(
        "".join("(.+?)" if p == "{}" else re.escape(p) for p in re.split(r"(\{\})", msgid)), re.S
    )


def best_match(label: str, msgids) -> tuple[str, re.Match | None] | None:
    """The msgid that translates ``label``: itself, else the most specific ``{}`` pattern that matches it
    (the most literal text; ties by the msgid), with its match."""
    if label in msgids:
        return label, None
    for msgid in sorted((m for m in msgids if "{}" in m), key=lambda m: (-len(m.replace("{}", "")), m)):
        found = pattern(msgid).fullmatch(label)
        if found:
            return msgid, found
    return None


def translate(text: str, lang: str, missing: set[str] | None = None) -> str:
    """``text`` (a figure label) in ``lang``; what the catalogue lacks is added to ``missing``.

    A ``{}`` pattern's matched parts are translated too; a pattern whose part stays an English phrase
    does not count, so "features = 1: one value per cell" is not half translated by ``features = {}``
    (a part that is one word, a name like ``bias`` in "weights weight_ih, weight_hh, bias", may stay)."""
    if not needs(text):
        return text
    table = catalogue("figures", lang)
    tried = set()
    while (hit := best_match(text, [m for m in table if m not in tried])) is not None:
        msgid, found = hit
        if found is None:
            return table[msgid]
        parts_missing: set[str] = set()
        parts = iter([translate(g, lang, parts_missing) for g in found.groups()])
        if not any(len(_words(p)) > 1 for p in parts_missing):  # a name may stay ("bias"), a phrase not
            return re.sub(r"\{\}", lambda _, parts=parts: next(parts), table[msgid])
        tried.add(msgid)
    if "\n" in text:
        return "\n".join(translate(line, lang, missing) for line in text.split("\n"))
    if missing is not None:
        missing.add(text)
    return text


def use_cjk_font() -> None:
    """Let matplotlib draw Chinese: the CJK font joins the sans-serif list as a fallback for DejaVu."""
    import matplotlib
    from matplotlib import font_manager

    if CJK_FAMILY in matplotlib.rcParams["font.sans-serif"]:
        return
    if not CJK_FONT.is_file():
        raise FileNotFoundError(
            f"no CJK font at {CJK_FONT}: run `make browser` (Debian's fonts-wqy-microhei)"
        )
    font_manager.fontManager.addfont(str(CJK_FONT))
    matplotlib.rcParams["font.sans-serif"] = [
        "DejaVu Sans",
        CJK_FAMILY,
        *matplotlib.rcParams["font.sans-serif"],
    ]


def translate_artists(fig, lang: str, missing: set[str], seen: set[str]) -> None:
    """Translate, in place, every label of ``fig``: its texts, and tick labels that are words.

    An axis whose tick labels need a translation gets them fixed at their current positions (the
    copy is a picture, not an interactive plot). A translated text gets the CJK font as a fallback
    after its own family, so Latin letters keep their look.
    """
    from matplotlib.text import Text

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t.get_text() for t in axis.get_ticklabels()]
            if any(needs(t) for t in labels):
                seen.update(t for t in labels if needs(t))
                axis.set_ticks(axis.get_ticklocs(), [translate(t, lang, missing) for t in labels])
    for text in fig.findobj(Text):
        s = text.get_text()
        if needs(s):
            seen.add(s)
            text.set_text(translate(s, lang, missing))
        if CJK.search(text.get_text()):
            text.set_fontfamily(_with_cjk(text.get_fontfamily()))


@contextmanager
def translated(fig, lang: str, missing: set[str], seen: set[str]):
    """``with translated(fig, lang, missing, seen):`` the figure's labels in ``lang``, restored after.

    For an animation, whose frames update their artists: each frame is drawn once in English and
    once inside this block."""
    from matplotlib.text import Text

    texts = [(t, t.get_text(), t.get_fontfamily()) for t in fig.findobj(Text)]
    axes = [
        (a, a.get_major_formatter(), a.get_major_locator()) for ax in fig.axes for a in (ax.xaxis, ax.yaxis)
    ]
    translate_artists(fig, lang, missing, seen)
    try:
        yield fig
    finally:
        for axis, formatter, locator in axes:
            axis.set_major_formatter(formatter)
            axis.set_major_locator(locator)
        for text, value, family in texts:
            text.set_text(value)
            text.set_fontfamily(family)


CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
GENERIC = ("sans-serif", "serif", "monospace", "cursive", "fantasy")


def _with_cjk(families: list[str]) -> list[str]:
    """``families`` (generic names resolved to their first font) with the CJK font after them."""
    import matplotlib

    out = [matplotlib.rcParams[f"font.{f}"][0] if f in GENERIC else f for f in families]
    return [f for f in out if f != CJK_FAMILY] + [CJK_FAMILY]


def figure_png(fig) -> bytes:
    """The PNG Jupyter's inline backend would show for ``fig`` (``bbox_inches="tight"``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def figure_bundle(fig, include=None, exclude=None):
    """Jupyter's display of a matplotlib figure: the English PNG, and each translation in the metadata;
    where :func:`shown_language` is a translation, its PNG is the one shown."""
    data = {"image/png": base64.b64encode(figure_png(fig)).decode("ascii")}
    meta = {}
    for lang in TRANSLATIONS:
        missing: set[str] = set()
        seen: set[str] = set()
        try:
            use_cjk_font()
            copy = pickle.loads(pickle.dumps(fig))
            translate_artists(copy, lang, missing, seen)
            meta[lang] = {"image/png": base64.b64encode(figure_png(copy)).decode("ascii")}
        except Exception as exc:  # the English figure still shows; the translated build reports this
            meta[lang] = {"error": f"{type(exc).__name__}: {exc}"}
        meta[lang].update(texts=sorted(seen), missing=sorted(missing))
    shown = meta.get(shown_language(), {})
    if "image/png" in shown:  # a live notebook in that language (the book's build runs in English)
        data["image/png"] = shown["image/png"]
    elif "error" in shown:
        _warn_once(f"lstm_figures: figures stay in English here ({shown['error']})")
    return data, {"lstm_i18n": meta}


@cache
def _warn_once(message: str) -> None:
    import warnings

    warnings.warn(message, stacklevel=3)


def register() -> None:
    """Show matplotlib figures through :func:`figure_bundle` in this IPython kernel (no-op elsewhere)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib.figure import Figure

    shell.display_formatter.mimebundle_formatter.for_type(Figure, figure_bundle)


def comments(source: str) -> list[tuple[int, int, int, str]]:
    """The translatable comments of Python ``source``: ``(first line, last line, column, text)``.

    Lines count from 1. Consecutive full-line comments in the same column form one block (their texts
    joined by newlines); a comment after code is its own. Tool directives (``# noqa``, ``# fmt: skip``)
    and comments without an English word are left out. Source that does not tokenize has none.
    """
    out: list[tuple[int, int, int, str]] = []
    lines = source.splitlines()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        text = tok.string[1:].strip()
        (row, col), full_line = tok.start, not lines[tok.start[0] - 1][: tok.start[1]].strip()
        if DIRECTIVE.match(text):
            continue
        prev = out[-1] if out else None
        if (
            prev
            and full_line
            and prev[1] == row - 1
            and prev[2] == col
            and not lines[prev[0] - 1][:col].strip()
        ):
            out[-1] = (prev[0], row, col, prev[3] + "\n" + text)
        else:
            out.append((row, row, col, text))
    return [c for c in out if needs(c[3])]


def translate_comments(source: str, lang: str, missing: set[str] | None = None) -> str:
    """``source`` with its comments (:func:`comments`) in ``lang``; the code is untouched."""
    table = catalogue("comments", lang)
    lines = source.splitlines()
    for first, last, col, text in reversed(comments(source)):
        if text not in table:
            if missing is not None:
                missing.add(text)
            continue
        head = lines[first - 1]
        if head[:col].strip():  # a comment after code: one line
            lines[first - 1] = head[:col] + "# " + " ".join(table[text].split("\n"))
        else:
            lines[first - 1 : last] = [f"{head[:col]}# {t}" for t in table[text].split("\n")]
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")
