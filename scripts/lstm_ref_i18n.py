"""lstm_ref's own catalogues: its messages to learners in Simplified Chinese (``lstm_ref.set_language``).

    python -m scripts.lstm_ref_i18n update   # after changing a message: re-extract, merge, compile
    python -m scripts.lstm_ref_i18n check    # what the tests check (exit 1 and a list of problems)

Every message is marked in the code as ``_("... {name} ...")`` (``ngettext``, and ``N_`` for a plural pair
kept in a table, see :mod:`lstm_ref.i18n`). ``update`` extracts them with Babel into
``lstm_ref/locales/lstm_ref.pot``, merges that into ``lstm_ref/locales/<lang>/LC_MESSAGES/lstm_ref.po``
with polib (a new message comes in untranslated, a removed one becomes obsolete: translate the one,
delete the other) and compiles the ``.mo`` next to it, which the package ships and reads at run time.

``check`` fails (a line per problem) unless the committed catalogues are exactly in step:

- the msgids extracted from the code now differ from the ``.po``'s (or the ``.pot``'s);
- an entry is untranslated, fuzzy or obsolete;
- a translation has other ``{placeholders}`` than its msgid;
- the committed ``.mo`` is not what the ``.po`` compiles to.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

import polib
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("zh_CN",)
DOMAIN = "lstm_ref"
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": (1, 2)}  # N_: a (singular, plural) pair for ngettext
PLURALS = {"zh_CN": "nplurals=1; plural=0;"}
PLACEHOLDER = re.compile(r"(?<!\{)\{([a-zA-Z_]\w*)\}(?!\})")


def paths(root: Path = ROOT, lang: str = "zh_CN") -> tuple[Path, Path, Path]:
    """The ``.pot``, and ``lang``'s ``.po`` and ``.mo``, of the package under ``root``."""
    locales = root / "lstm_ref" / "locales"
    folder = locales / lang / "LC_MESSAGES"
    return locales / f"{DOMAIN}.pot", folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def extract(root: Path = ROOT) -> Catalog:
    """The messages marked in ``root/lstm_ref``, with where they are used."""
    catalog = Catalog(project=DOMAIN, charset="utf-8", fuzzy=False)
    found = extract_from_dir(
        root / "lstm_ref", [("**.py", "python")], keywords=KEYWORDS, comment_tags=("Translators:",)
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(
            message, locations=[(f"lstm_ref/{filename}", lineno)], auto_comments=comments, context=context
        )
    return catalog


def write_pot(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100)


def new_po(lang: str) -> polib.POFile:
    po = polib.POFile(wrapwidth=100)
    po.metadata = {
        "Project-Id-Version": DOMAIN,
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": PLURALS[lang],
    }
    return po


def update(root: Path = ROOT) -> None:
    """Re-extract the messages, merge them into every language's ``.po`` and compile its ``.mo``."""
    pot_path = paths(root)[0]
    write_pot(extract(root), pot_path)
    pot = polib.pofile(str(pot_path))
    for lang in LANGS:
        _, po_path, mo_path = paths(root, lang)
        po = polib.pofile(str(po_path), wrapwidth=100) if po_path.is_file() else new_po(lang)
        po.merge(pot)
        forms = int(re.search(r"nplurals=(\d+)", PLURALS[lang]).group(1))  # the .pot has 2 plural forms
        for entry in (e for e in po if e.msgid_plural):
            entry.msgstr_plural = {k: entry.msgstr_plural.get(k, "") for k in range(forms)}
        po_path.parent.mkdir(parents=True, exist_ok=True)
        po.save(str(po_path))
        po.save_as_mofile(str(mo_path))
        todo = len(po.untranslated_entries()) + len(po.fuzzy_entries())
        print(
            f"{po_path.relative_to(root)}: {len(po)} entries, {todo} to translate, {len(po.obsolete_entries())} obsolete"
        )


def _ids(entries) -> set[tuple[str, str]]:
    return {(e.msgid, e.msgid_plural or "") for e in entries if not e.obsolete}


def placeholder_problems(entry: polib.POEntry) -> list[str]:
    """A translation must use exactly the ``{placeholders}`` of its msgid (plural forms: of either msgid)."""
    want = set(PLACEHOLDER.findall(entry.msgid + " " + entry.msgid_plural))
    strings = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
    out = []
    for text in filter(None, strings):
        got = set(PLACEHOLDER.findall(text))
        if got != want:
            out.append(
                f"{entry.msgid[:60]!r}: placeholders {sorted(got)} in the translation, {sorted(want)} in the msgid"
            )
    return out


def check(root: Path = ROOT) -> list[str]:
    """The problems of the catalogues under ``root`` (a checkout, or a copy of one); [] when all is well."""
    fresh = _ids(polib.pofile(_pot_text(extract(root))))
    pot_path = paths(root)[0]
    problems = [] if pot_path.is_file() else [f"{pot_path.relative_to(root)} is missing: run update"]
    if pot_path.is_file() and _ids(polib.pofile(str(pot_path))) != fresh:
        problems.append(f"{pot_path.relative_to(root)} is stale: run update")
    for lang in LANGS:
        _, po_path, mo_path = paths(root, lang)
        where = po_path.relative_to(root)
        if not po_path.is_file():
            problems.append(f"{where} is missing: run update")
            continue
        po = polib.pofile(str(po_path))
        have = _ids(po)
        problems += [f"{where}: not extracted from the code any more: {m[0]!r}" for m in sorted(have - fresh)]
        problems += [f"{where}: new in the code, missing here: {m[0]!r}" for m in sorted(fresh - have)]
        problems += [f"{where}: untranslated: {e.msgid!r}" for e in po.untranslated_entries()]
        problems += [f"{where}: fuzzy: {e.msgid!r}" for e in po.fuzzy_entries()]
        problems += [f"{where}: obsolete: {e.msgid!r}" for e in po.obsolete_entries()]
        problems += [f"{where}: {p}" for e in po if not e.obsolete for p in placeholder_problems(e)]
        with tempfile.TemporaryDirectory() as tmp:
            fresh_mo = Path(tmp) / "fresh.mo"
            po.save_as_mofile(str(fresh_mo))
            if not mo_path.is_file() or mo_path.read_bytes() != fresh_mo.read_bytes():
                problems.append(f"{mo_path.relative_to(root)} is not the compiled {po_path.name}: run update")
    return problems


def _pot_text(catalog: Catalog) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{DOMAIN}.pot"
        write_pot(catalog, path)
        return path.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout (or a copy) holding lstm_ref/")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("update", help="re-extract the messages, merge them into the catalogues, compile them")
    sub.add_parser("check", help="stale, untranslated, fuzzy, obsolete, placeholders, a stale .mo")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    if args.cmd == "update":
        update(root)
        return 0
    problems = check(root)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in lstm_ref's catalogues", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
