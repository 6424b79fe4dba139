"""The student notebooks' twins in other languages: one catalogue per assignment, and the twin made from it.

The English source ``solutions/<a>/<a>.ipynb`` is the only notebook an instructor edits. Its words go
to a gettext catalogue, ``solutions/locales/<lang>/LC_MESSAGES/<a>.po`` (:func:`~lstm_course.course.
catalogue_path`), whose msgids are

- each block of a Markdown cell (:func:`blocks`): a heading's text, a paragraph, a list item, a table
  cell, with its lines joined by single spaces (as Sphinx's gettext writes the book's), and
- each comment of a code cell, found by :func:`lstm_figures.i18n.comments` (consecutive full-line
  comments are one msgid, their lines joined by newlines); nbgrader's ``### BEGIN/END`` markers are not
  comments to translate, and
- each message the test code writes (the test cells, hidden tests included, and the read-only cells of
  their helpers): an ``assert``'s message, a ``raise``'s, a ``what=`` or ``hint=`` of ``lstm_ref.feedback``
  (:mod:`lstm_course.cell_messages`; an f-string's msgid keeps its ``{fields}``),

when it has an English word outside code and math (:func:`lstm_figures.i18n.needs`). :func:`twin_source`
puts the translations back: the twin is the source with its Markdown, comments and test messages in
``lang``, and its set-up cell (the first code cell) choosing ``lang`` for ``lstm_ref``'s messages
(``lstm_ref.set_language``), so that a failing test explains itself in that language. Code, grade_ids,
cell ids and points are the source's. nbgrader then releases the twin and grades it like the English
(``lstm-course release``, :mod:`lstm_course.grading.worker`): from the twin's source, so the hidden tests
it puts back at grading are the twin's, messages in ``lang``.

    python -m lstm_course.translations update   # after editing solutions/: re-extract, merge into the .po
    python -m lstm_course.translations check    # what the tests check: exit 1 and a line per problem

``update`` adds new English text as empty entries, and a changed block as a *fuzzy* entry holding the
old translation; text gone from the English stays as an *obsolete* entry until a translator deletes it.
New or untranslated text that the book's exercises page already translates (``book/locales/<lang>/LC_MESSAGES/
exercises.po``: the page lists each student notebook) takes that translation, so that the twin and the
book's listing of the notebook say the same.
``check`` fails on untranslated, fuzzy or obsolete entries, on a catalogue out of step with the English
(stale), on what ``scripts.book_i18n.catalogue_problems`` finds in an entry (inline code, math or a
link lost, a glossary term rendered otherwise than the book's glossary says), on a message whose
translation loses, adds or changes a field or a name of code, or would not read back from the literal
the twin gets (:func:`lstm_course.cell_messages.problems`), and on a twin cell that does not compile; it
needs a checkout of the course repository (``scripts/``, ``book/``). Everything else here needs only
``polib``.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from lstm_course import cell_messages
from lstm_course.course import (
    SOLUTIONS,
    TRANSLATIONS,
    assignments,
    catalogue_path,
    find_root,
    is_test_cell,
    nbmeta,
    read_nb,
)

__all__ = [
    "blocks",
    "msgids",
    "load_catalogue",
    "load_messages",
    "language_of",
    "twin_source",
    "twin_files",
    "MissingTranslations",
    "update",
    "problems",
    "SET_LANGUAGE",
]

# The lines a twin's set-up cell ends with: lstm_ref's messages (the tests' explanations) in that language.
SET_LANGUAGE = {
    "zh_CN": '\n\nimport lstm_ref\n\nlstm_ref.set_language("zh_CN")  # lstm_ref 的提示信息（测试的失败说明）用中文\n',
}

# what a catalogue entry's note says of a code comment and of a test's message (a Markdown block: "markdown cell")
COMMENT, MESSAGE = "comment in cell", "message in"
_CODE = re.compile(r"``.+?``|`[^`]+`")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
_FENCE = re.compile(r"^[ \t]*(```|~~~)")
_HEADING = re.compile(r"^([ \t]*#{1,6}[ \t]+)(.*?)[ \t]*$")
_ITEM = re.compile(r"^([ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+)(\S.*)$")
_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) (SOLUTION|HIDDEN TESTS)[ \t]*$")


def _translatable(text: str) -> bool:
    """Whether a Markdown block has an English word outside inline code and math (then it is a msgid):
    Markdown marks its code, so ``PyTorch (layer k)`` has one (``layer``) and `` `(4*hidden,)` `` none."""
    from lstm_figures.i18n import KEEP

    words = re.findall(r"[A-Za-z][A-Za-z'-]*[A-Za-z]", _CODE.sub(" ", _MATH.sub(" ", text)))
    return any(w not in KEEP and w.rstrip("s") not in KEEP for w in words)


def _starts_block(line: str) -> bool:
    return bool(
        _FENCE.match(line) or _HEADING.match(line) or _ITEM.match(line) or line.lstrip().startswith("|")
    )


def _row_cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def blocks(markdown: str) -> list[tuple[str, list[str], list[str]]]:
    """A Markdown cell's blocks, in order: ``(prefix, texts, lines)``.

    ``lines`` are the block's source lines. ``texts`` are its translatable units: one for a heading
    (``prefix`` its ``#`` marks), a list item (``prefix`` its indent and bullet) or a paragraph
    (``prefix`` ``""``), each with its lines joined by single spaces; a table row's cells (``prefix``
    ``"|"``); none for a blank line, a table's rule or a fenced code block.

    >>> [b[:2] for b in blocks("## 1. Windows\\n\\nA series\\nof rows.\\n\\n- one `x`;\\n  more\\n| a | `b` |\\n|---|---|")]
    [('## ', ['1. Windows']), ('', []), ('', ['A series of rows.']), ('', []), ('- ', ['one `x`; more']), ('|', ['a', '`b`']), ('', [])]
    """
    lines, out, i = markdown.split("\n"), [], 0
    while i < len(lines):
        line, j = lines[i], i + 1
        if _FENCE.match(line):
            while j < len(lines) and not _FENCE.match(lines[j]):
                j += 1
            j = min(j + 1, len(lines))
            out.append(("", [], lines[i:j]))
        elif not line.strip() or set(line.strip()) <= set("|-: "):
            out.append(("", [], [line]))
        elif m := _HEADING.match(line):
            out.append((m.group(1), [m.group(2)], [line]))
        elif line.lstrip().startswith("|"):
            out.append(("|", _row_cells(line), [line]))
        else:
            m = _ITEM.match(line)
            while j < len(lines) and lines[j].strip() and not _starts_block(lines[j]):
                j += 1
            text = " ".join(x.strip() for x in [m.group(2) if m else line, *lines[i + 1 : j]])
            out.append((m.group(1) if m else "", [text], lines[i:j]))
        i = j
    return out


def _code_comments(source: str) -> list[tuple[int, int, int, str]]:
    """:func:`lstm_figures.i18n.comments` of a code cell, nbgrader's marker lines left out (and never
    joined to a comment beside them)."""
    from lstm_figures.i18n import comments

    masked = "\n".join("" if _MARKER.match(line) else line for line in source.split("\n"))
    return comments(masked)


def _source(cell: Mapping) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _messages(cell: Mapping) -> list[cell_messages.Message]:
    """The test messages of a code cell; none in an answer cell (the student's code)."""
    return [] if nbmeta(cell).get("solution") else cell_messages.messages(_source(cell))


def msgids(nb: Mapping) -> dict[str, str]:
    """Every msgid of a source notebook, in order: ``{msgid: where}``, ``where`` naming the cell (its
    grade_id, else its id): ``"markdown cell ID"``, ``"comment in cell ID, line N"``, or ``"message in
    test cell ID, line N"`` (``"message in cell ID, ..."`` in a read-only cell of the tests' helpers)."""
    out: dict[str, str] = {}
    for index, cell in enumerate(nb["cells"]):
        name = nbmeta(cell).get("grade_id") or cell.get("id") or f"cell {index}"
        if cell["cell_type"] == "markdown":
            for _, texts, _ in blocks(_source(cell)):
                for text in texts:
                    if _translatable(text):
                        out.setdefault(text, f"markdown cell {name}")
        elif cell["cell_type"] == "code":
            found = [(first, text, COMMENT) for first, _, _, text in _code_comments(_source(cell))]
            where = f"{MESSAGE} {'test ' if is_test_cell(cell) else ''}cell"
            found += [(m.line, m.msgid, where) for m in _messages(cell)]
            for line, text, what in sorted(found, key=lambda x: x[0]):
                out.setdefault(text, f"{what} {name}, line {line}")
    return out


def load_catalogue(text: str) -> dict[str, str]:
    """``{msgid: msgstr}`` of a ``.po`` file's text: translated entries only (not fuzzy, not obsolete)."""
    import polib

    return {
        e.msgid: e.msgstr
        for e in polib.pofile(text)
        if e.msgstr.strip() and "fuzzy" not in e.flags and not e.obsolete
    }


def load_messages(text: str) -> dict[str, str]:
    """The test messages of a catalogue's text, ``{msgid: msgstr}`` as :func:`load_catalogue` reads them:
    what :func:`lstm_course.cell_messages.to_english` reads a twin's failures back with."""
    import polib

    table = load_catalogue(text)
    return {
        e.msgid: table[e.msgid]
        for e in polib.pofile(text)
        if MESSAGE in (e.comment or "") and e.msgid in table
    }


def language_of(nb: Mapping) -> str:
    """The language of a student notebook: that of the twin whose set-up cell (its first code cell) it
    has (:data:`SET_LANGUAGE`), else ``"en"``.

    >>> language_of({"cells": [{"cell_type": "code", "source": "import numpy" + SET_LANGUAGE["zh_CN"]}]})
    'zh_CN'
    """
    first = next((_source(c) for c in nb.get("cells", []) if c.get("cell_type") == "code"), "")
    return next((lang for lang, tail in SET_LANGUAGE.items() if first.rstrip().endswith(tail.rstrip())), "en")


class MissingTranslations(ValueError):
    """A twin needs msgids its catalogue lacks (or holds only as fuzzy): the twin is not made."""


def _markdown(source: str, tr: Callable[[str], str]) -> str:
    out = []
    for prefix, texts, lines in blocks(source):
        if not any(_translatable(t) for t in texts):
            out += lines
        elif prefix == "|":
            indent = lines[0][: len(lines[0]) - len(lines[0].lstrip())]
            cells = [tr(t) if _translatable(t) else t for t in texts]
            out.append(f"{indent}| {' | '.join(cells)} |")
        else:
            out.append(prefix + tr(texts[0]))
    return "\n".join(out)


def _code(source: str, tr: Callable[[str], str]) -> str:
    """``source`` with its comments translated (as :func:`lstm_figures.i18n.translate_comments` does)."""
    lines = source.split("\n")
    for first, last, col, text in reversed(_code_comments(source)):
        head, new = lines[first - 1], tr(text).split("\n")
        if head[:col].strip():  # a comment after code: one line
            lines[first - 1] = head[:col] + "# " + " ".join(new)
        else:
            lines[first - 1 : last] = [f"{head[:col]}# {t}" for t in new]
    return "\n".join(lines)


def twin_source(nb: Mapping, table: Mapping[str, str], lang: str) -> dict:
    """The ``lang`` twin of source notebook ``nb``: its Markdown blocks, code comments and test messages
    replaced by ``table[msgid]``, and :data:`SET_LANGUAGE` after its first code cell's code. Everything else
    (code, metadata, cell ids, outputs) is ``nb``'s. Raises :class:`MissingTranslations` naming what
    ``table`` lacks."""
    missing: list[str] = []

    def tr(text: str) -> str:
        if text not in table:
            missing.append(text)
        return table.get(text, text)

    twin = copy.deepcopy(dict(nb))
    first_code = True
    for cell in twin["cells"]:
        if cell["cell_type"] == "markdown":
            cell["source"] = _markdown(_source(cell), tr)
        elif cell["cell_type"] == "code":
            source = (
                _source(cell) if nbmeta(cell).get("solution") else cell_messages.translate(_source(cell), tr)
            )
            cell["source"] = _code(source, tr)
            if first_code:
                cell["source"] = cell["source"].rstrip("\n") + SET_LANGUAGE[lang].rstrip("\n")
                first_code = False
    if missing:
        listed = "; ".join(repr(" ".join(m.split())[:60]) for m in dict.fromkeys(missing))
        raise MissingTranslations(f"{len(set(missing))} msgid(s) without a {lang} translation: {listed}")
    return twin


def twin_files(files: Mapping[str, bytes], assignment: str, lang: str) -> dict[str, bytes]:
    """``files`` (course-relative POSIX paths -> bytes: ``nbgrader_config.py``, ``solutions/...``) with each
    source notebook of ``assignment`` replaced by its ``lang`` twin under the same path, made with the
    catalogue ``files[catalogue_path(assignment, lang)]``. Raises :class:`MissingTranslations` when the
    catalogue is missing or lacks a msgid."""
    import nbformat

    po = files.get(catalogue_path(assignment, lang))
    if po is None:
        raise MissingTranslations(f"no catalogue {catalogue_path(assignment, lang)} for the {lang} twin")
    table = load_catalogue(po.decode("utf-8"))
    prefix = f"{SOLUTIONS}/{assignment}/"
    out = dict(files)
    for rel, data in files.items():
        if rel.startswith(prefix) and rel.endswith(".ipynb") and "/" not in rel[len(prefix) :]:
            twin = twin_source(json.loads(data), table, lang)
            out[rel] = nbformat.writes(nbformat.from_dict(twin)).encode("utf-8")
    return out


# --------------------------------------------------------------------------- update and check


def _wanted(root: Path, assignment: str) -> dict[str, str]:
    from lstm_course.course import notebooks

    out: dict[str, str] = {}
    for nb_name in notebooks(root, assignment):
        for msgid, where in msgids(read_nb(root / SOLUTIONS / assignment / nb_name)).items():
            out.setdefault(msgid, f"{nb_name}: {where}")
    return out


def update(root: Path, lang: str = "zh_CN") -> list[Path]:
    """Bring every assignment's catalogue in step with its English source (see the module docstring)."""
    import polib

    book = root / "book" / "locales" / lang / "LC_MESSAGES" / "exercises.po"
    listed = load_catalogue(book.read_text(encoding="utf-8")) if book.is_file() else {}
    written = []
    for a in assignments(root):
        path = root / catalogue_path(a, lang)
        po = polib.pofile(str(path)) if path.is_file() else polib.POFile()
        po.metadata = po.metadata or {"Content-Type": "text/plain; charset=utf-8", "Language": lang}
        old = {e.msgid: e for e in po if not e.obsolete}
        wanted = _wanted(root, a)
        gone = {m: e for m, e in old.items() if m not in wanted and e.msgstr.strip()}
        entries = []
        for msgid, where in wanted.items():
            if msgid in old:
                entry = old[msgid]
                entry.comment = where
                entry.msgstr = entry.msgstr or listed.get(msgid, "")
            else:
                entry = polib.POEntry(msgid=msgid, msgstr=listed.get(msgid, ""), comment=where)
                near = difflib.get_close_matches(msgid, list(gone), n=1, cutoff=0.6)
                old_translation = gone.pop(near[0]).msgstr if near else ""
                if old_translation and not entry.msgstr:  # a changed block: the old translation, to check
                    entry.msgstr, entry.previous_msgid = old_translation, near[0]
                    entry.flags.append("fuzzy")
            entries.append(entry)
        for e in [*gone.values(), *po.obsolete_entries()]:
            e.obsolete = True
            entries.append(e)
        po[:] = entries
        path.parent.mkdir(parents=True, exist_ok=True)
        po.save(str(path))
        written.append(path)
    return written


def _book_i18n(root: Path):
    """``scripts.book_i18n`` of the course checkout ``root`` (its glossary checks)."""
    try:
        import scripts.book_i18n as book_i18n
    except ImportError:
        if not (root / "scripts" / "book_i18n.py").is_file():
            raise SystemExit(
                "the catalogue checks need a checkout of the course repository (scripts/book_i18n.py)"
            ) from None
        sys.path.insert(0, str(root))
        import scripts.book_i18n as book_i18n
    return book_i18n


def problems(root: Path, lang: str = "zh_CN") -> list[str]:
    """Every problem of the assignments' catalogues (empty when they are complete and in step)."""
    import polib

    book_i18n = _book_i18n(root)
    terms = book_i18n.glossary()
    out = []
    for a in assignments(root):
        path = root / catalogue_path(a, lang)
        if not path.is_file():
            out.append(
                f"{a}.po: no catalogue {catalogue_path(a, lang)}: run python -m lstm_course.translations update"
            )
            continue
        have = {e.msgid for e in polib.pofile(str(path)) if not e.obsolete}
        wanted = _wanted(root, a)
        out += [
            f"{a}.po: new English text, not in the catalogue: {m[:80]!r}" for m in wanted if m not in have
        ]
        out += [f"{a}.po: the English no longer has: {m[:80]!r}" for m in sorted(have - set(wanted))]
        out += _entry_problems(book_i18n, path, terms)
        out += _message_problems(root, a, path, lang)
    return out


def _message_problems(root: Path, assignment: str, path: Path, lang: str) -> list[str]:
    """Each test message's translation as the twin's literal (:func:`lstm_course.cell_messages.problems`),
    and each code cell of the twin, which must compile."""
    import ast

    from lstm_course.course import notebooks

    table, out = load_catalogue(path.read_text(encoding="utf-8")), []
    for nb_name in notebooks(root, assignment):
        nb = read_nb(root / SOLUTIONS / assignment / nb_name)
        for m in [m for cell in nb["cells"] if cell["cell_type"] == "code" for m in _messages(cell)]:
            if m.msgid in table:
                out += [
                    f"{path.name}: {m.msgid[:70]!r}: {p}" for p in cell_messages.problems(m, table[m.msgid])
                ]
        try:
            twin = twin_source(nb, table, lang)
        except (MissingTranslations, ValueError):  # reported above: untranslated, or a field broken
            continue
        for cell in (c for c in twin["cells"] if c["cell_type"] == "code"):
            try:
                ast.parse(_source(cell))
            except SyntaxError as exc:
                name = nbmeta(cell).get("grade_id") or cell.get("id")
                out.append(f"{path.name}: the twin's cell {name} does not compile: {exc}")
    return list(dict.fromkeys(out))


def _entry_problems(book_i18n, path: Path, terms) -> list[str]:
    """``scripts.book_i18n.catalogue_problems`` of a catalogue: its Markdown entries as a page's, its code
    comments and test messages as the book's ``comments.po`` (code there is not quoted: shapes and
    identifiers are code). Each part is checked as a file of its own, named back to ``path``."""
    import tempfile

    import polib

    po = polib.pofile(str(path))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for codeish, stem in ((False, path.stem), (True, "comments")):
            part = polib.POFile()
            part.metadata = po.metadata
            for e in po:
                if any(w in (e.comment or "") for w in (COMMENT, MESSAGE)) != codeish:
                    continue
                if MESSAGE in (e.comment or ""):  # read as prose: fields and class names are code
                    e = copy.copy(e)
                    e.msgid, e.msgstr = cell_messages.prose(e.msgid), cell_messages.prose(e.msgstr)
                part.append(e)
            part.save(str(Path(tmp) / f"{stem}.po"))
            found = book_i18n.catalogue_problems(Path(tmp) / f"{stem}.po", terms)
            out += [p.replace(f"{stem}.po: ", f"{path.name}: ", 1) for p in found]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_course.translations", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("command", choices=("update", "check"))
    parser.add_argument("--root", help="course root (default: the current folder or a parent)")
    args = parser.parse_args(argv)
    root = find_root(args.root)
    for lang in TRANSLATIONS:
        if args.command == "update":
            for path in update(root, lang):
                print(f"updated {path.relative_to(root)}")
        found = problems(root, lang)
        print("\n".join(found + [f"{len(found)} problem(s) in the {lang} catalogues"]))
        if found:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
