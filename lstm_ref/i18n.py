"""The language of ``lstm_ref``'s messages to learners: English (the default) or Simplified Chinese.

    import lstm_ref
    lstm_ref.set_language("zh_CN")  # or LSTM_REF_LANG=zh_CN in the environment; "en" for English

(An unknown ``LSTM_REF_LANG`` warns once and keeps English; ``set_language`` refuses an unknown language.)

A message is written ``_("... {name} ...").format(name=...)``: a whole English sentence with named
placeholders (shapes, names and code, which stay English). :func:`_` looks it up when the message is
made, in ``locales/<language>/LC_MESSAGES/lstm_ref.mo`` (standard-library ``gettext``), so
:func:`set_language` changes every message made after it. ``scripts/lstm_ref_i18n.py`` extracts the
messages, merges them into the ``.po`` files, compiles and checks them. :func:`to_english` reads a
Chinese message back in English; :func:`width` is the terminal width of text with Chinese in it.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
import unicodedata
import warnings
from pathlib import Path

LANGUAGES = ("en", "zh_CN")
ENV = "LSTM_REF_LANG"  # read while no set_language() call chose a language
LOCALES = Path(__file__).with_name("locales")
DOMAIN = "lstm_ref"
_chosen: str | None = None
_warned: set[str] = set()  # the unknown LSTM_REF_LANG values already warned about


def _known(lang: str, source: str) -> str:
    """``lang`` as one of :data:`LANGUAGES` (``zh-CN`` and ``zh_CN.UTF-8`` are ``zh_CN``), else ValueError."""
    code = lang.strip().split(".")[0].replace("-", "_") if isinstance(lang, str) else lang
    if code not in LANGUAGES:
        raise ValueError(f"{source}: unknown language {lang!r}; lstm_ref supports {', '.join(LANGUAGES)}")
    return code


def set_language(lang: str | None) -> None:
    """Write the messages made from now on in ``lang``: ``"en"`` or ``"zh_CN"``; ``None`` goes back to
    ``$LSTM_REF_LANG`` (English when it is not set).

    >>> set_language("fr")
    Traceback (most recent call last):
    ...
    ValueError: set_language: unknown language 'fr'; lstm_ref supports en, zh_CN
    """
    global _chosen
    _chosen = None if lang is None else _known(lang, "set_language")


def get_language() -> str:
    """The language of the messages made now: :func:`set_language`'s, else ``$LSTM_REF_LANG``'s, else ``"en"``.

    An ``$LSTM_REF_LANG`` that names no language of :data:`LANGUAGES` gives English and, the first time,
    a warning naming it: a typo in the environment must not hide the learner's own error behind a
    configuration error. (``set_language`` with an unknown language raises: it is an explicit call.)
    """
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV, "")
    if not env.strip():
        return "en"
    try:
        return _known(env, ENV)
    except ValueError as exc:
        if env not in _warned:
            _warned.add(env)
            warnings.warn(f"{exc}; the messages stay in English", UserWarning, stacklevel=3)
        return "en"


@functools.cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALES, languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` (an English msgid) in the current language."""
    lang = get_language()
    return message if lang == "en" else _catalogue(lang).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """``singular`` or ``plural`` (English msgids) in the current language, as ``n`` asks."""
    lang = get_language()
    if lang == "en":
        return singular if n == 1 else plural
    return _catalogue(lang).ngettext(singular, plural, n)


def N_(singular: str, plural: str) -> tuple[str, str]:
    """Mark a ``(singular, plural)`` pair for extraction, to be translated later with :func:`ngettext`."""
    return singular, plural


def width(text: str) -> int:
    """The columns ``text`` takes in a terminal, where a wide (Chinese) character takes two.

    >>> width("layer"), width("层")
    (5, 2)
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def to_english(text: str, lang: str = "zh_CN") -> str:
    """``text`` with every message of ``lang``'s catalogue found in it put back into English.

    For a reader of messages that only knows English, such as the class report's misconception
    matcher (``lstm_course.results.misconceptions``). Each line is read as one message where it can be
    (after a prefix such as ``AssertionError: ``): a translation whose every ``{name}`` value is either
    plain (shapes and code, no Chinese) or itself a message, so that messages made of messages
    (``"{msg}; {hint}"``) come back whole; it becomes its English msgid filled with the values read back.
    In a line that is not one message, each translation is matched as a pattern and replaced. Text that
    matches no message stays as it is.

    >>> to_english("ValueError: x：实际形状为 (2, 0, 3)：时间轴是空的（0 个时间步）")
    'ValueError: x: got shape (2, 0, 3): the time axis is empty (0 time steps)'
    """
    lang = _known(lang, "to_english")
    return "\n".join(_line(line, lang) for line in text.split("\n"))


_CHINESE = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # ideographs, CJK punctuation


def _line(line: str, lang: str) -> str:
    """``line`` as one message read back, from where that explains most of it; else pattern by pattern."""
    reader = _Reader(_templates(lang))
    starts = [0] + [m.end() for m in re.finditer(r": ", line)]  # after a prefix such as "ValueError: "
    read = [(start, found) for start in starts if (found := reader.read(line[start:]))]
    if read:
        start, (english, _covered) = max(read, key=lambda r: r[1][1])
        return line[:start] + english
    for rx, msgid, texts in _reverse(lang):
        if all(t in line for t in texts):  # else it cannot match: skip a slow failing search
            line = rx.sub(lambda m, msgid=msgid: _fill(msgid, m.groupdict()), line)
    return line


class _Reader:
    """Reads texts of one line as messages, remembering each text's reading. A text that is no message can
    have very many ways to try (a long Chinese text with many "；"): after ``TRIES`` tries, or nested
    ``DEPTH`` deep, a text is no message. lstm_ref's longest messages take under 2,000 tries, 8 deep."""

    TRIES, DEPTH = 20_000, 20

    def __init__(self, templates: list):
        self.templates, self.memo, self.tries, self.depth = templates, {}, 0, 0

    def read(self, text: str) -> tuple[str, int] | None:
        """``(text in English, how many of its characters are a translation's own)`` if ``text`` is plain
        (no Chinese) or one message whose values read back in turn, the most literal translation first."""
        if text not in self.memo:
            self.memo[text] = None if _CHINESE.search(text) else (text, 0)  # None while its values are read
            self.depth += 1
            if self.memo[text] is None and self.depth < self.DEPTH:
                self.memo[text] = self._message(text)
            self.depth -= 1
        return self.memo[text]

    def _message(self, text: str) -> tuple[str, int] | None:
        for pieces, msgid in self.templates:
            for values in self._splits(pieces, text, 0, {}):
                read = {name: self.read(v) for name, v in values.items()}
                if None not in read.values():
                    own = sum(len(p) for named, p in pieces if not named)
                    english = _fill(msgid, {name: r[0] for name, r in read.items()})
                    return english, own + sum(r[1] for r in read.values())
        return None

    def _splits(self, pieces: list[tuple[bool, str]], text: str, at: int, values: dict[str, str]):
        """Every way ``text[at:]`` fits ``pieces`` (``(is a {name}, text)``): the values, by name."""
        if not pieces:
            if at == len(text):
                yield values
            return
        (named, piece), rest = pieces[0], pieces[1:]
        if not named:
            if text.startswith(piece, at):
                yield from self._splits(rest, text, at + len(piece), values)
            return
        if not rest:
            ends = [len(text)]
        elif rest[0][0]:  # two values in a row
            ends = range(at + 1, len(text))
        else:  # wherever the next text follows
            ends, end = [], text.find(rest[0][1], at + 1)
            while end != -1:
                ends.append(end)
                end = text.find(rest[0][1], end + 1)
        for end in ends:
            self.tries += 1
            if self.tries > self.TRIES:
                return
            value = text[at:end]
            if end > at and values.get(piece, value) == value:
                yield from self._splits(rest, text, end, {**values, piece: value})


def _fill(msgid: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), msgid)


@functools.cache
def _templates(lang: str) -> list[tuple[list[tuple[bool, str]], str]]:
    """``(pieces of a translation, its English msgid)``, the most literal translation first."""
    found = []
    for key, msgstr in getattr(_catalogue(lang), "_catalog", {}).items():
        msgid = key[0] if isinstance(key, tuple) else key  # a plural form: the singular's placeholders
        if msgid and msgstr and msgid != msgstr:
            pieces = [(i % 2 == 1, p) for i, p in enumerate(re.split(r"\{(\w+)\}", msgstr)) if p]
            found.append((pieces, msgid, len(re.sub(r"\{\w+\}", "", msgstr))))
    return [(pieces, msgid) for pieces, msgid, _ in sorted(found, key=lambda f: -f[2])]


@functools.cache
def _reverse(lang: str) -> list[tuple[re.Pattern, str, list[str]]]:
    """``(pattern of a translation, its English msgid, its own texts)`` in :func:`_templates`' order: a
    ``{name}`` matches any text, a last one up to the end of its sentence."""
    found = []
    for pieces, msgid in _templates(lang):
        parts, seen = [], set()
        for named, piece in pieces:
            if not named:
                parts.append(re.escape(piece))
            else:
                parts.append(f"(?P={piece})" if piece in seen else f"(?P<{piece}>.+?)")
                seen.add(piece)
        parts[-1] = parts[-1].replace(".+?)", "[^。；\\n]+)")  # a first {name} at the end
        found.append((re.compile("".join(parts), re.S), msgid, [p for named, p in pieces if not named]))
    return found
