"""The book's translations: extract, update and check the gettext catalogues of the zh_CN edition.

    python -m scripts.book_i18n update          # after editing the English: re-extract and merge
    python -m scripts.book_i18n check [PO...]   # what the tests check (exit 1 and a list of problems)

The English pages (``book/*.md``) are the source. Sphinx's ``gettext`` builder extracts every
paragraph, heading, list item, table cell and caption into ``book/_build/gettext/<page>.pot``
(the code is not executed for that: ``nb_execution_mode=off``); ``sphinx-intl update`` merges them
into ``book/locales/zh_CN/LC_MESSAGES/<page>.po``, where a changed English paragraph becomes a
*fuzzy* entry and a removed one an *obsolete* one. The Chinese build (``scripts.book``) reads the
compiled catalogues.

``check`` fails (with a line per problem) when the committed catalogues are not exactly in step:

- an entry is untranslated, fuzzy or obsolete (``sphinx-intl stat`` always exits 0, so polib does it);
- the catalogues are stale: the msgids extracted from the English now differ from the committed ones;
- a translation lost what must pass through unchanged: inline code, math, a cross-reference target,
  a link's URL;
- a translation breaks the glossary (``book/11_appendix.md``, section "Glossary", the single source of
  the terminology): a core term of the English is not rendered by its 简体 term, another rendering of
  the "also written" column appears, or a glossary term is left in English outside code;
- a prose paragraph is left mostly in Latin letters.

A translator may exempt one entry from one core term with a translator comment
``# terminology: <English term>: <why>`` (for example "feature" meaning a library's capability).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from lstm_figures.i18n import CODE_TOKEN, Term, best_match, glossary

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
LANGS = ("zh_CN",)
LOCALES = BOOK / "locales"

# The one-term-per-concept list: these English terms must be rendered by the glossary's 简体
# term wherever the English uses them in prose. Patterns are matched case-insensitively outside code.
CORE = {
    "batch size": r"\bbatch[ -]sizes?\b",
    "batch": r"\b(?:mini-?)?batch(?:es|ed)?\b",
    "time step": r"\btime[ -]steps?\b",
    "feature": r"\bfeatures?\b",
    "hidden state": r"\bhidden states?\b",
    "cell state": r"\bcell states?\b",
    "forget gate": r"\bforget gates?\b",
    "input gate": r"\binput gates?\b",
    "output gate": r"\boutput gates?\b",
    "stateful": r"\bstateful\b",
    "truncated BPTT": r"\btruncated (?:BPTT|back-?prop(?:agation)?(?: through time)?)\b",
}
# a longer term is matched first and its words removed, so "batch size" does not also ask for 批次
ORDER = sorted(CORE, key=len, reverse=True)

CODE = re.compile(r"``.+?``|`[^`]+`")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$", re.S)
ROLE = re.compile(r"\{[a-z:-]+\}`([^`]+)`")  # {ref}`label`, {doc}`page`, {term}`...`
LATEX = re.compile(r"\\(?:operatorname|mathrm|mathbf|text|begin|end)\{[^}]*\}|\\[A-Za-z]+")
LINK_URL = re.compile(r"\]\(([^)\s]+)\)")
LABEL_IN_ROLE = re.compile(r"<([^>]+)>$")
CJK = re.compile(r"[\u3400-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")
# words that stay in English in Chinese prose: names of libraries, layers, acronyms
KEEP = {
    "LSTM", "LSTMs", "GRU", "GRUs", "RNN", "RNNs", "Keras", "PyTorch", "torch", "NumPy", "TensorFlow", "cuDNN", "CUDA",
    "BPTT", "RMSE", "MAE", "MASE", "MSE", "GPU", "CPU", "Dense", "Sequential", "API", "Jupyter", "Colab",
    "Binder", "Python", "SciPy", "Dask", "nbgrader", "PDF", "HTML", "ID", "CSV", "tanh", "sigmoid", "ReLU",
    "Adam", "SGD", "ONNX", "oneDNN", "Chromium", "SQLite", "PostgreSQL", "A4", "Letter", "OK", "vs",
}  # fmt: skip


IDENTIFIER = CODE_TOKEN  # in comments, labels and the site's title, code is not quoted (lstm_figures.i18n)


def _strip(text: str, codeish: bool = False) -> str:
    """``text`` without inline code, math, roles and link URLs: the prose a reader reads as words.
    ``codeish``: also without bare identifiers (``weight_ih``, ``x[0]``, ``(B, T, F)``), as in a code
    comment or a figure label, where code is not in backticks."""
    if codeish:
        text = IDENTIFIER.sub(" ", text)
    text = MATH.sub(" ", text)
    text = LATEX.sub(" ", text)  # a display equation is a msgid of its own, without $ delimiters
    text = ROLE.sub(" ", text)
    text = LINK_URL.sub("]", text)
    return CODE.sub(" ", text)


def _spans(pattern: re.Pattern, text: str) -> list[str]:
    return [m.group(0) for m in pattern.finditer(text)]


def _targets(text: str) -> list[str]:
    """Cross-reference targets of MyST roles: ``{ref}`text <label>``` and ``{ref}`label``` give ``label``."""
    out = []
    for m in ROLE.finditer(text):
        inner = m.group(1)
        lab = LABEL_IN_ROLE.search(inner)
        out.append(lab.group(1) if lab else inner)
    return out


def _missing(needed: list[str], have: list[str]) -> list[str]:
    pool = list(have)
    lost = []
    for item in needed:
        if item in pool:
            pool.remove(item)
        else:
            lost.append(item)
    return lost


def english_words(text: str, codeish: bool = False) -> list[str]:
    """The English words of prose (outside code and math), names like Keras left out."""
    words = LATIN_WORD.findall(_strip(text, codeish))
    return [w for w in words if w not in KEEP and w.rstrip("s") not in KEEP]


def entry_problems(
    msgid: str, msgstr: str, exempt: set[str], terms: dict[str, Term], codeish: bool = False
) -> list[str]:
    """What is wrong with one translation (empty when nothing is)."""
    problems = []
    for what, pattern in (("inline code", CODE), ("math", MATH), ("link URL", LINK_URL)):
        lost = _missing(_spans(pattern, ROLE.sub(" ", msgid)), _spans(pattern, ROLE.sub(" ", msgstr)))
        if lost:
            problems.append(f"{what} lost or changed: {', '.join(lost)}")
    lost = _missing(_targets(msgid), _targets(msgstr))
    if lost:
        problems.append(f"cross-reference target lost or changed: {', '.join(lost)}")
    if msgid.strip() in terms and msgstr.strip() == msgid.strip():
        return problems  # a cell of the glossary's English column stays English
    src, dst = _strip(msgid, codeish), _strip(msgstr, codeish)
    for name in ORDER:
        pattern = re.compile(CORE[name], re.I)
        if name not in exempt and pattern.search(src) and terms[name].zh not in dst:
            problems.append(f"glossary: {name!r} must be rendered as {terms[name].zh}")
        src = pattern.sub(" ", src)
    for term in terms.values():
        for other in term.also:
            if other in dst and other not in msgid:  # the English may quote a rendering (the glossary does)
                problems.append(f"glossary: {other} is written {term.zh} in this book ({term.english})")
        english = re.sub(r"\s*\(.*\)$", "", term.english)  # "gated recurrent unit (GRU)": the words
        if re.search(rf"\b{re.escape(english)}\b", dst, re.I):
            if english not in KEEP and msgid.strip() != term.english:  # the glossary's English column stays
                problems.append(f"glossary term left in English outside code: {english!r}")
    words = english_words(msgid, codeish)
    if len(words) >= 3:  # prose, not a heading made of names or a formula
        latin = sum(len(w) for w in english_words(msgstr, codeish))
        cjk = len(CJK.findall(dst))
        if cjk == 0 or latin > cjk:
            problems.append(
                f"mostly Latin letters ({latin} Latin letters in words, {cjk} Chinese characters)"
            )
    return problems


def catalogue_problems(po_path: Path, terms: dict[str, Term] | None = None) -> list[str]:
    """Every problem of one ``.po`` file, each as ``"<file>: <msgid start>: <problem>"``."""
    import polib

    terms = terms or glossary()
    lost = set(CORE) - set(terms)
    if lost:
        raise ValueError(f"the glossary (book/11_appendix.md) lost core terms: {sorted(lost)}")
    po = polib.pofile(str(po_path))
    out = []

    def where(entry) -> str:
        head = " ".join(entry.msgid.split())[:70]
        return f"{po_path.name}: {head!r}"

    for entry in po.obsolete_entries():
        out.append(f"{where(entry)}: obsolete (the English is gone: remove it)")
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            out.append(f"{where(entry)}: fuzzy (the English changed: update the translation, drop the flag)")
            continue
        if not entry.msgstr.strip():
            out.append(f"{where(entry)}: untranslated")
            continue
        exempt = {m.group(1).strip() for m in re.finditer(r"terminology:\s*([^:]+):", entry.tcomment or "")}
        codeish = po_path.stem in NOT_PAGES
        problems = entry_problems(entry.msgid, entry.msgstr, exempt, terms, codeish)
        out += [f"{where(entry)}: {p}" for p in problems]
    return out


def extract(out: Path) -> Path:
    """The English msgids, as Sphinx's gettext builder extracts them (no code runs), into ``out``."""
    code = f"""
import sys
from pathlib import Path
from jupyter_book.sphinx import build_sphinx
book = Path({str(BOOK)!r})
rc = build_sphinx(book, Path({str(out)!r}), noconfig=True, path_config=book / "_config.yml",
    confoverrides={{"external_toc_path": str(book / "_toc.yml"), "latex_individualpages": False,
                   "nb_execution_mode": "off", "gettext_compact": True, "gettext_location": False,
                   "gettext_uuid": False, "gettext_last_translator": "", "gettext_language_team": ""}},
    builder="gettext", doctreedir=Path({str(out)!r}) / ".doctrees", warningiserror=True, quiet=True)
sys.exit(rc if isinstance(rc, int) else 1)
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=BOOK, capture_output=True, text=True, timeout=1800
    )
    if proc.returncode:
        raise RuntimeError("gettext extraction failed:\n" + (proc.stdout + proc.stderr)[-4000:])
    return out


def stale(lang: str = "zh_CN", locales: Path = LOCALES) -> list[str]:
    """Pages whose committed msgids differ from what the English extracts now, with what differs."""
    import polib

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        pots = {p.stem: p for p in extract(Path(tmp) / "gettext").glob("*.pot")}
        folder = locales / lang / "LC_MESSAGES"
        pos = {p.stem: p for p in folder.glob("*.po") if p.stem not in NOT_PAGES}
        for name in sorted(set(pots) - set(pos)):
            out.append(f"{name}: no catalogue {folder}/{name}.po")
        for name in sorted(set(pos) - set(pots)):
            out.append(f"{name}.po: no such page any more")
        for name in sorted(set(pots) & set(pos)):
            want = {e.msgid for e in polib.pofile(str(pots[name]))}
            have = {e.msgid for e in polib.pofile(str(pos[name])) if not e.obsolete}
            for msgid in sorted(want - have):
                out.append(
                    f"{name}.po: new English text, not in the catalogue: {' '.join(msgid.split())[:80]!r}"
                )
            for msgid in sorted(have - want):
                out.append(f"{name}.po: the English no longer has: {' '.join(msgid.split())[:80]!r}")
    return out


NOT_PAGES = {
    "figures",
    "comments",
    "site",
    "cheatsheet",
}  # catalogues that are not pages (see the functions below)


def comment_msgids() -> dict[str, str]:
    """Every translatable comment of every code cell of the book: ``text -> "page:line"``. Hidden cells'
    too: the page hides them, but the chapter's launchable notebook (``scripts/chapter_notebooks.py``)
    shows them."""
    import jupytext
    import yaml

    from lstm_figures.i18n import comments

    toc = yaml.safe_load((BOOK / "_toc.yml").read_text("utf-8"))
    pages = [toc["root"]] + [ch["file"] for part in toc["parts"] for ch in part["chapters"]]
    out: dict[str, str] = {}
    for page in pages:
        nb = jupytext.read(BOOK / f"{page}.md", fmt="md:myst")
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for first, _, _, text in comments(cell.source):
                out.setdefault(text, f"{page}:{first}")
    return out


def site_msgids() -> dict[str, str]:
    """The site's own words in ``_config.yml``: the title, the author and the footer."""
    import yaml

    config = yaml.safe_load((BOOK / "_config.yml").read_text("utf-8"))
    return {config["title"]: "title", config["author"]: "author", config["html"]["extra_footer"]: "footer"}


def executed_notebooks() -> dict[str, dict]:
    """Each page's notebook as executed, from the execution cache (``book/_build/.jupyter_cache``).

    Not ``book/_build/jupyter_execute``: myst-nb 1.4 writes a page taken from the cache there without
    its outputs. Empty before the book has been built."""
    from jupyter_cache import get_cache

    folder = BOOK / "_build" / ".jupyter_cache"
    if not folder.is_dir():
        return {}
    cache = get_cache(folder)
    records = sorted(cache.list_cache_records(), key=lambda r: r.pk)  # the newest record of a page wins
    return {Path(r.uri).stem: cache.get_cache_bundle(r.pk).nb for r in records}


def figure_msgids(lang: str = "zh_CN") -> dict[str, str]:
    """Every figure label of the executed book that needs a translation: ``label -> page``.

    The figure outputs in the execution cache list the labels they needed (``lstm_figures.i18n``);
    empty before the book has been built."""
    out: dict[str, str] = {}
    for page, nb in sorted(executed_notebooks().items()):
        for cell in nb["cells"]:
            for output in cell.get("outputs", []):
                tr = output.get("metadata", {}).get("lstm_i18n", {}).get(lang, {})
                for text in tr.get("texts", []):
                    out.setdefault(text, page)
    return out


def covered(label: str, msgids) -> str | None:
    """The msgid that translates ``label`` (``lstm_figures.i18n.best_match``), or None."""
    hit = best_match(label, msgids)
    return hit[0] if hit else None


def merge(domain: str, wanted: dict[str, str], lang: str = "zh_CN") -> None:
    """Bring ``<domain>.po`` in step with ``wanted`` (msgid -> where): new entries empty, gone ones removed."""
    import polib

    path = LOCALES / lang / "LC_MESSAGES" / f"{domain}.po"
    po = polib.pofile(str(path)) if path.is_file() else polib.POFile()
    po.metadata = po.metadata or {"Content-Type": "text/plain; charset=utf-8", "Language": lang}
    have = {e.msgid: e for e in po}
    keep = {m for m in wanted} | ({covered(m, set(have)) for m in wanted} if domain == "figures" else set())
    for entry in [e for e in po if e.msgid not in keep]:
        po.remove(entry)
    for msgid, where in wanted.items():
        if msgid not in have and not (domain == "figures" and covered(msgid, set(have))):
            po.append(polib.POEntry(msgid=msgid, msgstr="", comment=where))
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))


def update(lang: str = "zh_CN") -> None:
    """Re-extract the English and merge it into the catalogues (changed entries become fuzzy)."""
    out = extract(BOOK / "_build" / "gettext")
    subprocess.run(
        [Path(sys.executable).with_name("sphinx-intl"), "update", "-p", out, "-l", lang, "-d", LOCALES],
        check=True,
        timeout=600,
    )
    merge("comments", comment_msgids(), lang)
    merge("site", site_msgids(), lang)
    figures = figure_msgids(lang)
    if figures or not (LOCALES / lang / "LC_MESSAGES" / "figures.po").is_file():
        merge("figures", figures, lang)
    else:
        print("figures.po left as it is: build the book first (its figures list their labels)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("update", help="re-extract the English and merge it into the catalogues")
    check = sub.add_parser("check", help="untranslated, fuzzy, obsolete, stale, glossary, markup")
    check.add_argument("po", nargs="*", type=Path, help="only these catalogues (and no staleness check)")
    args = parser.parse_args(argv)
    if args.cmd == "update":
        update()
        return 0
    files = args.po or sorted((LOCALES / "zh_CN" / "LC_MESSAGES").glob("*.po"))
    terms = glossary()
    problems = [p for f in files for p in catalogue_problems(f, terms)]
    if not args.po:
        problems += stale()
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s) in {len(files)} catalogue(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
