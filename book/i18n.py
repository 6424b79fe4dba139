"""Sphinx extension: the book's editions (English, and translations built by ``scripts.book``).

Every edition is the same Sphinx project; Sphinx translates the prose from
``locales/<lang>/LC_MESSAGES/<page>.po``. This extension does the rest:

- **a language switcher** in every page's header (``_templates/lang-switcher.html``) that goes to
  *the same page* in each other edition (the English site at the root, a translation in
  ``<lang>/``), and ``<link rel="alternate" hreflang>`` for each;
- **code comments** in a translated edition: the shown source of every code cell gets its comments
  from ``comments.po`` (``lstm_figures.i18n.translate_comments``); the code and its outputs stay as
  they ran. A comment the catalogue lacks is a warning, so the build (warnings are errors) fails;
- **downloads**: a translated page links ``X.<lang>.pdf`` for ``X.pdf`` (the cheat sheet);
- **launch buttons**: Colab, Binder and JupyterHub open the chapter's notebook in the edition's
  language, ``<chapter>.<lang>.ipynb`` (``scripts/chapter_notebooks.py``), not ``<chapter>.ipynb``;
- **the table of contents' captions** (inserted after Sphinx translated the page);
- **nested blocks**: a table inside a ``dropdown`` is extracted and translated like any other;
- **the site's own words**: the title, author and footer from ``site.po``;
- **search**: the glossary's 简体 terms join jieba's dictionary, so a search for 时间步 finds it.

With ``language = "zh_CN"`` Sphinx splits Chinese words with jieba (``html_search_options``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging

logger = logging.getLogger(__name__)

EDITIONS = {"en": "English", "zh_CN": "中文"}  # every edition, by Sphinx language code, in its own words


def _lang(app: Sphinx) -> str:
    return app.config.language or "en"


class SourceForNestedBlocks(SphinxTransform):
    """Give a block nested in a directive (a table in a ``dropdown``) the source of its ancestor.

    Sphinx extracts and translates only text blocks that know their source file; MyST leaves it unset
    on some nested blocks (the cells of a table inside a ``dropdown``), which would then stay English
    in every translation. Runs before Sphinx's own translation transform (priority 20)."""

    default_priority = 15

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(nodes.TextElement):
            if node.source:
                continue
            parent = node.parent
            while parent is not None and not parent.source:
                parent = parent.parent
            node.source = parent.source if parent is not None else self.document["source"]
            node.line = node.line or (parent.line if parent is not None else None)


def translate_site(app: Sphinx, config) -> None:
    """``config-inited``: the title, author and footer in the edition's language (``site.po``)."""
    from lstm_figures.i18n import catalogue

    lang = _lang(app)
    if lang == "en":
        return
    table = catalogue("site", lang)
    opts = config.html_theme_options
    for key in ("extra_footer",):
        if opts.get(key) in table:
            opts[key] = table[opts[key]]
    if config.html_title in table:
        config.html_title = table[config.html_title]
    for key in ("project", "author"):
        if config[key] in table:
            config[key] = table[config[key]]
    if lang == "zh_CN":  # search: the glossary's terms as words of jieba's dictionary
        from lstm_figures.i18n import jieba_dict

        words = jieba_dict(Path(app.outdir).parent / "jieba-glossary.txt", lang)
        config.html_search_options = {**(config.html_search_options or {}), "dict": str(words)}


def translate_captions(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: the table of contents' part captions ("The course") in a translated edition.

    sphinx-external-toc inserts the toctrees after Sphinx has translated the page, so their captions,
    extracted into the root page's catalogue, are looked up here."""
    from sphinx import addnodes

    from lstm_figures.i18n import catalogue

    lang = _lang(app)
    if lang == "en":
        return
    table = catalogue(app.env.docname, lang)
    for toc in doctree.findall(addnodes.toctree):
        caption = toc.get("caption")
        if caption in table:
            toc["caption"] = table[caption]
        elif caption:
            logger.warning(
                f"toctree caption missing from locales/{lang}/LC_MESSAGES/{app.env.docname}.po: {caption!r}"
            )


def translate_comments(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``: in a translated edition, the comments of every code cell's shown source."""
    from lstm_figures.i18n import translate_comments as swap

    lang = _lang(app)
    if lang == "en":
        return
    for block in doctree.findall(nodes.literal_block):
        parent = block.parent
        if parent is None or "cell_input" not in parent.get("classes", []):
            continue
        source = block.astext()
        missing: set[str] = set()
        shown = swap(source, lang, missing)
        for text in sorted(missing):
            logger.warning(
                f"code comment missing from locales/{lang}/LC_MESSAGES/comments.po: {text!r}", location=block
            )
        if shown != source:
            block.children = [nodes.Text(shown)]
            block.rawsource = shown


# a notebook path of the repository in a Colab (.../blob/main/PATH) or Binder (...?labpath=PATH) link
_NOTEBOOK_LINK = re.compile(r"(?:/blob/[^/]+/|labpath=)(?P<path>[\w./-]+?(?<!\.zh_CN)\.ipynb)")


def localized_downloads(app: Sphinx, doctree: nodes.document) -> None:
    """``doctree-read``, before Sphinx collects the downloads: a translated edition links the translated
    file where one exists (``X.zh_CN.pdf`` for ``X.pdf``: the cheat sheet; an exercise's ``.zh_CN.ipynb``
    twin, also in its Colab and Binder links), and warns where it does not."""
    from sphinx import addnodes

    lang = _lang(app)
    if lang == "en":
        return
    for ref in doctree.findall(addnodes.download_reference):
        target = Path(ref["reftarget"])
        if target.stem.endswith(f".{lang}"):  # links the translation already
            continue
        local = target.with_name(f"{target.stem}.{lang}{target.suffix}")
        if (Path(app.srcdir) / local).is_file():
            ref["reftarget"] = str(local)
        else:
            logger.warning(
                f"no {lang} version of {target} ({local}): the {lang} page links the English one",
                location=ref,
            )
    # "Open in Colab / Binder" links to a notebook of this repository: its twin, where the repository has one
    repo = (app.config.html_theme_options.get("repository_url") or "").rstrip("/")
    root = Path(app.srcdir).parent
    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        match = _NOTEBOOK_LINK.search(uri)
        if not repo or not match or repo.split("github.com/")[-1] not in uri:
            continue
        twin = Path(match.group("path")).with_suffix(f".{lang}.ipynb")
        if (root / twin).is_file():
            ref["refuri"] = uri[: match.start("path")] + twin.as_posix() + uri[match.end("path") :]
        else:
            logger.warning(
                f"no {lang} twin of {match.group('path')}: the link opens the English one", location=ref
            )


def localized_launch_buttons(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """``html-page-context``, after sphinx-book-theme built the launch and download buttons (its handlers
    run at priority 501): in a translated edition each launch button's URL opens ``<page>.<lang>.ipynb``
    instead of ``<page>.ipynb``, and the ".ipynb" download serves that notebook too (copied next to the
    page's sources as ``_sources/<page>.<lang>.ipynb``; the theme's own would be the English notebook).
    A missing notebook, or a URL that does not name the English one, is a warning."""
    lang = _lang(app)
    buttons = {b.get("label"): b for b in context.get("header_buttons", [])}
    launch = buttons.get("launch-buttons")
    notebook = [
        b
        for b in buttons.get("download-buttons", {}).get("buttons", [])
        if b.get("label") == "download-notebook-button"
    ]
    if lang == "en" or not (launch or notebook):
        return
    english, local = f"{pagename}.ipynb", f"{pagename}.{lang}.ipynb"
    if not (Path(app.srcdir) / local).is_file():
        logger.warning(
            f"no {local} (python -m scripts.chapter_notebooks): the launch buttons open the English notebook",
            location=pagename,
        )
        return
    for button in notebook:
        if not button["url"].endswith(f"/{english}"):
            logger.warning(f".ipynb download URL does not name {english}: {button['url']}", location=pagename)
            continue
        button["url"] = button["url"][: -len(english)] + local
        target = Path(app.outdir) / "_sources" / local
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(app.srcdir) / local, target)
    if not launch:
        return
    # the notebook's path ends a URL's path (Colab), or a query value (Binder's and JupyterHub's urlpath)
    named = re.compile(rf"(?:(?<=/)|(?<==)|(?<=%2F)){re.escape(english)}(?=$|[?&#])")
    for button in launch["buttons"]:
        if "url" not in button:  # Thebe's button runs JavaScript on the page
            continue
        button["url"], found = named.subn(local, button["url"])
        if found != 1:
            logger.warning(
                f"{button['text']} launch URL does not name {english}: {button['url']}", location=pagename
            )


def page_context(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """``html-page-context``: links to this page in every edition, for the switcher and the head."""
    lang = _lang(app)
    up = "../" * pagename.count("/")  # from this page to the root of its own edition
    root = up if lang == "en" else up + "../"  # to the English root
    links = []
    for code, label in EDITIONS.items():
        base = root if code == "en" else root + f"{code}/"
        links.append((code, label, f"{base}{pagename}.html", code == lang))
    context["lstm_editions"] = links
    alternates = "".join(
        f'<link rel="alternate" hreflang="{code.replace("_", "-")}" href="{url}">\n'
        for code, _, url, _ in links
    )
    context["metatags"] = context.get("metatags", "") + alternates


def setup(app: Sphinx) -> dict:
    app.add_transform(SourceForNestedBlocks)
    app.connect("config-inited", translate_site)
    app.connect("doctree-read", translate_comments)
    app.connect("doctree-read", translate_captions)
    app.connect("doctree-read", localized_downloads, priority=100)  # before Sphinx's download collector
    app.connect("html-page-context", page_context)
    app.connect("html-page-context", localized_launch_buttons, priority=502)  # after the theme's (501)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
