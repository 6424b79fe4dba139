"""myst-nb plugin: a translated edition shows each figure in its own language (``lstm_figures.i18n``).

Registered in ``pyproject.toml`` (entry point group ``myst_nb.mime_renderers``). For an output that
carries ``lstm_i18n`` metadata, a build whose Sphinx ``language`` is one of the translations renders
the translated PNG or HTML instead of the English; a label the catalogue lacked, or a figure that
could not be translated, is a warning (the build runs with warnings as errors), naming the labels to
add to ``book/locales/<lang>/LC_MESSAGES/figures.po``. The English build renders outputs unchanged.
"""

from __future__ import annotations

import dataclasses


class LanguagePlugin:
    """The ``MimeRenderPlugin`` of myst-nb (a protocol): ``handle_mime`` or ``None`` for the default."""

    mime_priority_overrides = ()

    @staticmethod
    def handle_mime(renderer, data, inline):
        translations = (data.output_metadata or {}).get("lstm_i18n")
        if inline or not translations or data.mime_type not in ("image/png", "text/html"):
            return None
        lang = renderer.renderer.sphinx_env.config.language
        if lang not in translations:
            return None
        tr = translations[lang]
        where = f"figure in cell {data.cell_index}"
        if tr.get("error"):
            renderer.logger.warning(f"{where}: no {lang} version: {tr['error']}", line=data.line)
            return None
        if tr.get("missing"):
            labels = "; ".join(repr(t) for t in tr["missing"])
            renderer.logger.warning(
                f"{where}: labels missing from locales/{lang}/LC_MESSAGES/figures.po: {labels}",
                line=data.line,
            )
        content = tr.get(data.mime_type)
        if content is None:
            return None
        translated = dataclasses.replace(data, content=content, output_metadata={})
        if data.mime_type == "text/html":
            return renderer.render_text_html(translated)
        return renderer.render_image(translated)
