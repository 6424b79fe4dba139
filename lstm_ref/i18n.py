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
