"""lstm_course.translations: the exercises' catalogues are complete and in step with the English sources,
and each committed twin differs from its English release only in its Markdown and comments (and the set-up
cell's choice of language). Everything here reads files: no kernel, no nbgrader run."""

from __future__ import annotations

import io
import json
import re
import shutil
import tokenize
from collections import Counter
from pathlib import Path

import polib
import pytest

import lstm_course as course
from lstm_course import translations as tr

ROOT = Path(__file__).resolve().parents[1]
NAMES = course.assignments(ROOT)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _without_comments(source: str) -> list[tuple[int, str]]:
    """The tokens of Python source, comments and line breaks left out: what the code is."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    toks = tokenize.generate_tokens(io.StringIO(source).readline)
    return [(t.type, t.string) for t in toks if t.type not in skip]


def test_committed_catalogues_are_complete_and_in_step():
    """Every msgid the English sources have is in its catalogue, translated, and passes the book's checks
    (markup kept, the glossary's terms); `python -m lstm_course.translations check` says the same."""
    assert tr.problems(ROOT) == []
    for a in NAMES:
        po = polib.pofile(str(ROOT / course.catalogue_path(a, "zh_CN")))
        source = course.read_nb(ROOT / course.SOLUTIONS / a / f"{a}.ipynb")
        assert [e.msgid for e in po] == list(tr.msgids(source)), f"{a}.po is not in the English order"
        assert all(CJK.search(e.msgstr) for e in po), f"{a}.po: an entry without Chinese"
    assert tr.main(["check", "--root", str(ROOT)]) == 0


@pytest.mark.parametrize("a", NAMES)
def test_twin_differs_from_the_english_only_in_words(a):
    """exercises/<a>/<a>.zh_CN.ipynb has the English release's cells, ids, nbgrader metadata (but for the
    checksums nbgrader computes) and code token for token, comments aside; its set-up cell adds only the
    language choice; every Markdown cell and every comment that has English words reads in Chinese."""
    en = _nb(ROOT / course.EXERCISES / a / f"{a}.ipynb")
    zh = _nb(ROOT / course.EXERCISES / a / f"{a}.zh_CN.ipynb")
    assert en["metadata"] == zh["metadata"] and len(en["cells"]) == len(zh["cells"])
    first_code = True
    for e, z in zip(en["cells"], zh["cells"], strict=True):
        assert (e["id"], e["cell_type"]) == (z["id"], z["cell_type"])
        meta = [
            {k: v for k, v in c["metadata"].get("nbgrader", {}).items() if k != "checksum"} for c in (e, z)
        ]
        assert meta[0] == meta[1], e["id"]
        if e["cell_type"] == "markdown":
            assert CJK.search(_src(z)) and _src(z) != _src(e), e["id"]
            lost = Counter(re.findall(r"`[^`]+`", _src(e))) - Counter(re.findall(r"`[^`]+`", _src(z)))
            assert not lost, f"{e['id']}: inline code lost: {list(lost)}"
            continue
        code = _src(z)
        if first_code:
            assert code.endswith(
                'lstm_ref.set_language("zh_CN")  # lstm_ref 的提示信息（测试的失败说明）用中文'
            )
            code = code[: code.rindex("import lstm_ref")]
            first_code = False
        assert _without_comments(_src(e)) == _without_comments(code), e["id"]
        for line in code.splitlines():  # a comment (not an nbgrader marker, a shape or a name) is Chinese
            comment = line.split("#", 1)[1] if "#" in line and not line.lstrip().startswith("###") else ""
            if re.search(r"\b[a-z]{3,} [a-z]{3,} [a-z]{3,}\b", comment):
                assert CJK.search(comment), f"{a}/{e['id']}: an English comment: {line.strip()}"


def test_blocks_split_markdown_as_gettext_does():
    md = (
        "# Title here\n\nA paragraph\nover two lines.\n\n- an item\n  continued\n* another\n"
        "1. numbered\n\n| name | `x` |\n|---|---|\n| value | 5 |\n\n```python\n# not a comment here\n```"
    )
    units = [t for _, texts, _ in tr.blocks(md) for t in texts]
    assert units == [
        "Title here",
        "A paragraph over two lines.",
        "an item continued",
        "another",
        "numbered",
        "name",
        "`x`",
        "value",
        "5",
    ]
    assert "".join(line for b in tr.blocks(md) for line in b[2]) == md.replace("\n", "")


def _toy() -> dict:
    return {
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": "## Windows (3 points)\n\nBuild the\nwindows.",
            },
            {
                "cell_type": "code",
                "metadata": {},
                "source": "import numpy as np  # numpy here",
                "outputs": [],
            },
            {
                "cell_type": "code",
                "metadata": {},
                "outputs": [],
                "source": "def f(x):\n    ### BEGIN SOLUTION\n    # the answer is doubled\n    return 2 * x\n"
                "    ### END SOLUTION\n",
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_twin_source_translates_words_and_keeps_code():
    table = {
        "Windows (3 points)": "窗口（3 分）",
        "Build the windows.": "构造窗口。",
        "numpy here": "这里用 numpy",
        "the answer is doubled": "答案加倍",
    }
    assert list(tr.msgids(_toy())) == list(table)
    twin = tr.twin_source(_toy(), table, "zh_CN")
    assert twin["cells"][0]["source"] == "## 窗口（3 分）\n\n构造窗口。"
    assert (
        twin["cells"][1]["source"] == "import numpy as np  # 这里用 numpy" + tr.SET_LANGUAGE["zh_CN"].rstrip()
    )
    assert twin["cells"][2]["source"] == (
        "def f(x):\n    ### BEGIN SOLUTION\n    # 答案加倍\n    return 2 * x\n    ### END SOLUTION\n"
    )
    assert _toy()["cells"][0]["source"].startswith("## Windows"), "the source is left as it was"
    with pytest.raises(tr.MissingTranslations, match="1 msgid.*'the answer is doubled'"):
        tr.twin_source(_toy(), {k: v for k, v in table.items() if k != "the answer is doubled"}, "zh_CN")


def test_update_merges_and_check_names_what_is_left(tmp_path):
    """A changed paragraph comes back fuzzy with its old translation, removed text obsolete, new text
    untranslated until the book's exercises page (its listing of the notebook) translates it; check names
    what is left, and the committed translations of the rest still pass."""
    root = course.make_course(ROOT, tmp_path / "course", ["gates"])  # its source and its catalogue
    nb_path = root / course.SOLUTIONS / "gates" / "gates.ipynb"
    text = nb_path.read_text(encoding="utf-8")
    text = text.replace("every shape and every weight\\n", "every shape and each weight\\n")
    text = text.replace(
        "## 2. A whole sequence (2 points)", "## 2. A whole sequence\\n\\nA brand new paragraph."
    )
    nb_path.write_text(text.replace("# reference: PyTorch's own LSTM cell", "# (B, H)"), encoding="utf-8")
    listing = polib.POFile()
    listing.append(polib.POEntry(msgid="A brand new paragraph.", msgstr="全新的一段。"))
    listing.save(str(tmp_path / "exercises.po"))
    tr.update(root)
    po = {e.msgid: e.msgstr for e in polib.pofile(str(root / course.catalogue_path("gates", "zh_CN")))}
    assert po["A brand new paragraph."] == "", "no book here: untranslated"
    (root / "book" / "locales" / "zh_CN" / "LC_MESSAGES").mkdir(parents=True)
    shutil.copy2(
        tmp_path / "exercises.po", root / "book" / "locales" / "zh_CN" / "LC_MESSAGES" / "exercises.po"
    )
    tr.update(root)
    po = {e.msgid: e for e in polib.pofile(str(root / course.catalogue_path("gates", "zh_CN")))}
    changed = next(m for m in po if "each weight" in m)
    assert "fuzzy" in po[changed].flags and "每个权重" in po[changed].msgstr
    assert (
        "fuzzy" in po["2. A whole sequence"].flags
        and po["2. A whole sequence"].msgstr == "2. 一整个序列（2 分）"
    )
    assert po["A brand new paragraph."].msgstr == "全新的一段。" and not po["A brand new paragraph."].flags
    assert po["reference: PyTorch's own LSTM cell"].obsolete
    found = tr.problems(root)
    assert len(found) == 3 and all(f.startswith("gates.po: ") for f in found), found
    for what in ("fuzzy", "obsolete"):
        assert what in "\n".join(found), found
