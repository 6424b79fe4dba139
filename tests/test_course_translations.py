"""lstm_course.translations: the exercises' catalogues are complete and in step with the English sources,
and each committed twin differs from its English release only in its Markdown, comments and test messages
(and the set-up cell's choice of language); lstm_course.cell_messages: which strings of the test code are
messages, how a translation is written back (valid literals that say what the catalogue says), what the
check refuses, how a failure is read back in English. Everything here reads files or runs a cell's code
in this process: no kernel, no nbgrader run."""

from __future__ import annotations

import ast
import inspect
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
from lstm_course import cell_messages as cm
from lstm_course import translations as tr
from lstm_course.results.misconceptions import classify
from lstm_ref import feedback

ROOT = Path(__file__).resolve().parents[1]
NAMES = course.assignments(ROOT)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _nb(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _without_comments(source: str) -> list[tokenize.TokenInfo]:
    """The tokens of Python source, comments and line breaks left out: what the code is."""
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    return [t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type not in skip]


def _same_code(english: str, twin: str) -> list[str]:
    """Assert that ``twin`` is ``english`` token for token, but for the literals of each test message
    (:func:`lstm_course.cell_messages.messages`), which may hold other words; return the twin's messages
    (their literals' source, joined)."""
    message_of = {start: k for k, m in enumerate(cm.messages(english)) for start, _ in m.spans}
    theirs = ["" for _ in set(message_of.values())]
    en, zh = _without_comments(english), _without_comments(twin)
    assert len(en) == len(zh), (len(en), len(zh))
    for e, z in zip(en, zh, strict=True):
        if e.start in message_of:
            assert z.type == tokenize.STRING, (e.string, z.string)
            theirs[message_of[e.start]] += z.string
        else:
            assert (e.type, e.string) == (z.type, z.string), (e.string, z.string)
    return theirs


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
    checksums nbgrader computes) and code token for token, comments and test messages aside; its set-up cell
    adds only the language choice; every Markdown cell, comment and test message that has English words
    reads in Chinese, and every code cell compiles."""
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
        ast.parse(code)
        english = [m for m in _same_code(_src(e), code) if not CJK.search(m)]
        assert not english, f"{a}/{e['id']}: test messages left in English: {english}"
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


# --------------------------------------------------------------------------- test messages

SAMPLE = '''\
"""A test cell's docstring is no message."""
weights = keras_lstm_to_torch(k, r, b)
assert isinstance(weights, dict), f"keras_lstm_to_torch should return a dict, got {type(weights).__name__}"
assert_shape(weights["weight_ih"], (4 * H, F), ("4*hidden_size", "features"), "weight_ih")
assert_shape(out, (B, T, H), STATE, "output of the second layer", hint="stack the "
             "layers with return_sequences=True")
assert_close(h, want, what="h", layout=("batch", "hidden_size"), atol=1e-6)
assert_close(h, want, "final hidden state", 1e-6, 0.0, ("num_layers*num_directions", "batch"), "read h_n[-1]")
forward = {k[: -len("_reverse")]: v for k, v in bi.state_dict().items() if k.endswith("_reverse")}
assert_param_count(n, 448, 8, "torch parameter count")
ORDER = "walk the batches in order, never shuffled"
check_order(seen, 4, 2, "train_stateful_torch", ORDER)
if mode == "stateful":
    raise ValueError(f"mode {mode!r} is not supported here: {{braces}}")
assert x, "output"
'''


def test_messages_are_the_prose_of_the_test_code():
    """An assert's message, a raise's argument, the prose arguments of the feedback helpers (positional or
    keyword) and a string named where one goes are messages; an implicit concatenation is one, an f-string
    keeps its fields. Docstrings, layouts and dimension names, dict and state_dict keys, a string the code
    compares, a name (``"weight_ih"``, ``"h"``, a single word) are none."""
    found = cm.messages(SAMPLE)
    assert [(m.msgid, m.f, len(m.spans)) for m in found] == [
        ("keras_lstm_to_torch should return a dict, got {type(weights).__name__}", True, 1),
        ("output of the second layer", False, 1),
        ("stack the layers with return_sequences=True", False, 2),
        ("final hidden state", False, 1),
        ("read h_n[-1]", False, 1),
        ("torch parameter count", False, 1),
        ("walk the batches in order, never shuffled", False, 1),
        ("mode {mode!r} is not supported here: {{braces}}", True, 1),
    ]
    nb = _toy()
    nb["cells"][2]["metadata"] = {"nbgrader": {"solution": True, "grade_id": "answer"}}
    nb["cells"][2]["source"] += 'assert x, "an answer cell is the student\'s code"\n'
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [], "source": SAMPLE})
    notes = tr.msgids(nb)
    assert "an answer cell is the student's code" not in notes
    assert notes["torch parameter count"] == "message in cell cell 3, line 10"


def test_message_args_follow_the_helpers_signatures():
    """The positions MESSAGE_ARGS reads are the helpers' own: lstm_ref.feedback's, and the stateful
    notebook's check_order."""
    helpers = {name: list(inspect.signature(getattr(feedback, name)).parameters) for name in feedback.__all__}
    cells = course.read_nb(ROOT / "solutions/stateful/stateful.ipynb")["cells"]
    source = "\n".join(_src(c) for c in cells if c["cell_type"] == "code")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            helpers[node.name] = [a.arg for a in node.args.args]
    for name, (params, prose) in cm.MESSAGE_ARGS.items():
        assert helpers[name][: len(params)] == list(params), name
        assert prose <= set(helpers[name]), name


def test_a_translated_message_is_what_the_test_raises():
    """The twin's literals say exactly the translation, quotes, backslashes and newlines included, with the
    f-string's fields filled when the test runs; a message over two lines stays on two lines."""
    source = (
        'assert n == 2, (\n    f"got {n} layers, "\n    "expected 2"\n)\nraise ValueError(\'it\\\'s "x"\')\n'
    )
    table = {
        "got {n} layers, expected 2": "得到 {n} 层，应为 2 层：\"引号\"、'单引号'、反斜杠 \\ 和 {{花括号}}\n第二行",
        'it\'s "x"': "这是 'x' 和 \"y\"\\n",
    }
    twin = cm.translate(source, table.__getitem__)
    assert len(twin.split("\n")) == len(source.split("\n"))
    with pytest.raises(AssertionError) as info:
        exec(twin, {"n": 3})
    assert str(info.value) == "得到 3 层，应为 2 层：\"引号\"、'单引号'、反斜杠 \\ 和 {花括号}\n第二行"
    with pytest.raises(ValueError) as info:
        exec(twin, {"n": 2})
    assert str(info.value) == table['it\'s "x"']
    assert [cm.problems(m, table[m.msgid]) for m in cm.messages(source)] == [[], []]


def test_check_names_a_damaged_message(tmp_path):
    """A translation that changes a field, leaves a brace open or loses a name of code is a problem that
    `check` names; quotes and backslashes in a translation are none (they are escaped)."""
    root = course.make_course(ROOT, tmp_path / "course", ["gates"])
    path = root / course.catalogue_path("gates", "zh_CN")
    po = polib.pofile(str(path))
    damage = {
        "expected 6 gradients (dx, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias), got {len(grads)}": (
            "应有 6 个梯度 (dx, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias)，实际得到 {len(grad)} 个"
        ),
        "output (B={B}, T={T}, F={F}, H={H})": "输出（B={B}, T={T}, F={F}, H={H）",
        "if the tests above pass, compare what weights_from_torch returns with every tensor in lstm.state_dict()": (
            "如果上面的测试都通过了，请把你的函数返回的内容与 lstm.state_dict() 中的每个张量逐一比较"
        ),
        "c with zero weights": '权重为"零"时的 c \\ ',
    }
    for entry in po:
        entry.msgstr = damage.get(entry.msgid, entry.msgstr)
    po.save(str(path))
    found = tr.problems(root)
    assert len(found) == 4 and all(f.startswith("gates.po: ") for f in found), found
    text = "\n".join(found)
    for what in (
        "placeholder lost or changed: {len(grads)}",
        "placeholder added: {len(grad)}",
        "not the text of an f-string: the field at",
        "name lost or changed: weights_from_torch",
    ):
        assert what in text, found
    assert tr.main(["check", "--root", str(root)]) == 1


@pytest.mark.parametrize("a", NAMES)
def test_a_translated_failure_reads_back_in_english(a):
    """Each test message of the twin, its fields filled with values, is read back as the English message
    with the same values: the text the class report's misconception patterns look for."""
    table = tr.load_messages((ROOT / course.catalogue_path(a, "zh_CN")).read_text(encoding="utf-8"))
    assert table and all(CJK.search(t) for t in table.values())

    for msgid, msgstr in table.items():
        values = {
            f: str(100 + k)
            for k, f in enumerate(dict.fromkeys(t for kind, t in cm.fields(msgid) if kind == "field"))
        }

        def filled(text: str, values=values) -> str:
            return "".join(
                values[t] if kind == "field" else t.replace("{{", "{").replace("}}", "}")
                for kind, t in cm.fields(text)
            )

        assert cm.to_english(f"AssertionError: {filled(msgstr)}", table) == f"AssertionError: {filled(msgid)}"


def test_a_twin_failure_counts_as_the_english_one():
    """A Chinese twin's failure of a hinted value check (lstm_ref's words and the test's, both Chinese) gets
    the misconception the English one gets, once the assignment's messages are given."""
    import numpy as np

    import lstm_ref

    table = tr.load_messages((ROOT / course.catalogue_path("gates", "zh_CN")).read_text(encoding="utf-8"))
    what, hint = "c with zero weights", "the forget gate f = 0.5 scales the old cell state c_prev"
    texts = {}
    for lang, (w, h) in {"en": (what, hint), "zh_CN": (table[what], table[hint])}.items():
        lstm_ref.set_language(lang)
        try:
            with pytest.raises(AssertionError) as info:
                feedback.assert_close(np.ones(3), np.zeros(3), w, hint=h)
        finally:
            lstm_ref.set_language("en")
        texts[lang] = f"AssertionError: {info.value}"
    assert classify(texts["en"]) == ["cell-update"]
    assert classify(texts["zh_CN"], table) == ["cell-update"] and classify(texts["zh_CN"]) == ["wrong-values"]
