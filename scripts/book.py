"""Build the book in every language: the English at ``book/_build/html/``, each translation below it.

    python -m scripts.book            # what `make book` runs: English, then zh_CN into html/zh_CN/
    python -m scripts.book --lang en  # one edition only

Both editions are Jupyter Book 1 (Sphinx + myst-nb) builds of the same sources with the same
``_config.yml``; a translation only adds ``language`` (Sphinx then reads
``book/locales/<lang>/LC_MESSAGES/<page>.po``, see ``scripts.book_i18n``). The code runs once: the
English build executes the chapters into the execution cache (``book/_build/.jupyter_cache``), and
the translated build takes every output from that cache (the figures carry their translated twins,
``lstm_figures.i18n``). A translation builds in ``book/_build/<lang>/`` (myst-nb writes its
``jupyter_execute`` folder beside the output, which must not land in the published site) and is
then copied to ``book/_build/html/<lang>/``. Warnings are errors, as ``jupyter-book build
--warningiserror`` makes them.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BUILD = BOOK / "_build"
SOURCE = "en"
TRANSLATIONS = ("zh_CN",)


def outdir(lang: str) -> Path:
    """Where an edition is published: the English at the root of the site, a translation below it."""
    return BUILD / "html" if lang == SOURCE else BUILD / "html" / lang


def build(lang: str, *, keep_going: bool = True) -> None:
    """One edition, as ``jupyter-book build book --warningiserror`` builds it, in ``lang``."""
    from jupyter_book.sphinx import build_sphinx

    where = BUILD / "html" if lang == SOURCE else BUILD / lang / "html"
    overrides = {
        "external_toc_path": str(BOOK / "_toc.yml"),
        "latex_individualpages": False,
        "nb_execution_cache_path": str(BUILD / ".jupyter_cache"),  # one cache, shared by every edition
    }
    if lang != SOURCE:
        overrides["language"] = lang
    t0 = time.monotonic()
    print(f"[book] building the {lang} edition into {where.relative_to(ROOT)}", flush=True)
    result = build_sphinx(
        BOOK,
        where,
        noconfig=True,
        path_config=BOOK / "_config.yml",
        confoverrides=overrides,
        doctreedir=where.parent / ".doctrees",
        builder="html",
        warningiserror=True,
        keep_going=keep_going,
    )
    if result != 0:
        raise SystemExit(f"[book] the {lang} edition failed to build (status {result})")
    if lang != SOURCE:
        target = outdir(lang)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(where, target)
    print(
        f"[book] {lang} edition: {outdir(lang).relative_to(ROOT)}/index.html ({time.monotonic() - t0:.0f} s)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=(SOURCE, *TRANSLATIONS), action="append", help="default: all")
    args = parser.parse_args(argv)
    for lang in args.lang or (SOURCE, *TRANSLATIONS):
        build(lang)
    print("build succeeded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
