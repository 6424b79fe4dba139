"""The language of ``lstm_ref``'s messages to learners: English (the default) or Simplified Chinese.

    import lstm_ref
    lstm_ref.set_language("zh_CN")  # or LSTM_REF_LANG=zh_CN in the environment; "en" for English

A message is written ``_("... {name} ...").format(name=...)``: a whole English sentence with named
placeholders (shapes, names and code, which stay English). :func:`_` looks it up when the message is
made, in ``locales/<language>/LC_MESSAGES/lstm_ref.mo`` (standard-library ``gettext``), so
:func:`set_language` changes every message made after it. ``scripts/lstm_ref_i18n.py`` extracts the
messages, merges them into the ``.po`` files, compiles and checks them.
"""

from __future__ import annotations

import functools
import gettext
import os
import re
from pathlib import Path

LANGUAGES = ("en", "zh_CN")
ENV = "LSTM_REF_LANG"  # read while no set_language() call chose a language
LOCALES = Path(__file__).with_name("locales")
DOMAIN = "lstm_ref"
_chosen: str | None = None


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
    """The language of the messages made now: :func:`set_language`'s, else ``$LSTM_REF_LANG``'s, else ``"en"``."""
    if _chosen is not None:
        return _chosen
    env = os.environ.get(ENV, "")
    return _known(env, ENV) if env.strip() else "en"


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


def to_english(text: str, lang: str = "zh_CN") -> str:
    """``text`` with every message of ``lang``'s catalogue found in it put back into English.

    For a reader of messages that only knows English, such as the class report's misconception
    matcher (``lstm_course.results.misconceptions``): each translation is matched as a pattern (its
    ``{name}`` placeholders match the shapes and code it was filled with) and replaced by its
    English msgid filled with the same values. Text that matches no message stays as it is.
    """
    for rx, msgid in _reverse(_known(lang, "to_english")):
        text = rx.sub(lambda m, msgid=msgid: _fill(msgid, m), text)
    return text


def _fill(msgid: str, match) -> str:
    values = {k.rsplit("__", 1)[0]: v for k, v in match.groupdict().items() if v is not None}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), msgid)


@functools.cache
def _reverse(lang: str) -> list[tuple[re.Pattern, str]]:
    """``(pattern of a translation, its English msgid)``, the most literal text first."""
    catalog = getattr(_catalogue(lang), "_catalog", {})
    pairs = []
    for key, msgstr in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key  # a plural form: the singular's placeholders
        if not msgid or not msgstr or msgid == msgstr:
            continue
        parts, seen = [], {}
        for piece in re.split(r"(\{\w+\})", msgstr):
            name = re.fullmatch(r"\{(\w+)\}", piece)
            if name:
                k = seen[name.group(1)] = seen.get(name.group(1), -1) + 1
                parts.append(f"(?P<{name.group(1)}__{k}>.+?)" if k == 0 else f"(?P={name.group(1)}__0)")
            else:
                parts.append(re.escape(piece))
        if parts and parts[-1].startswith("(?P<"):  # ends with a value: up to the end of its sentence
            parts[-1] = parts[-1].replace(".+?)", "[^。；\\n]+)")
        pairs.append((re.compile("".join(parts), re.S), msgid, len(re.sub(r"\{\w+\}", "", msgstr))))
    return [(rx, msgid) for rx, msgid, _ in sorted(pairs, key=lambda p: -p[2])]
