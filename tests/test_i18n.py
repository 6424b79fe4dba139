"""lstm_ref.i18n: the learners' messages in English (the default, unchanged) or Simplified Chinese.

Real wrong-shape calls (``lstm_ref.numpy``, ``feedback.assert_shape``, ``diagnose``, the tracer) against
Chinese written out here, by ``set_language`` and by ``LSTM_REF_LANG`` in a fresh interpreter; the
catalogue itself (placeholders, ``scripts/lstm_ref_i18n.py check`` on the committed files and on broken
copies); and what ``import lstm_ref`` loads. Every test leaves the language at English.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import polib
import pytest

import lstm_ref
from lstm_ref import i18n
from lstm_ref.diagnose import describe, diagnose
from lstm_ref.feedback import assert_param_count, assert_shape
from lstm_ref.numpy import LSTM

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "lstm_ref" / "locales" / "zh_CN" / "LC_MESSAGES" / "lstm_ref.po"
MO = PO.with_suffix(".mo")

# (26, 7) for (26, 5, 7): the missing time axis, with and without the repair code
WINDOWS_EN = (
    "x: expected (batch, time_steps, features) = (26, 5, 7), got shape (26, 7): the time_steps axis (axis 1) "
    "is missing: each sample is a single row, with no time axis. An LSTM reads a sequence per sample: cut "
    "windows with lstm_ref.data.make_windows(series, look_back=5)"
)
WINDOWS_ZH = (
    "x：应为 (batch, time_steps, features) = (26, 5, 7)，实际形状为 (26, 7)：缺少 time_steps 轴（轴 1）："
    "每个样本只是一行，没有时间轴。LSTM 对每个样本读取一个序列：请用 "
    "lstm_ref.data.make_windows(series, look_back=5) 切出窗口"
)
ASSERT_ZH = (
    "你的 X 形状是 (26, 7)，但应为 (batch, time_steps, features) = (26, 5, 7)：缺少 time_steps 轴（轴 1）："
    "每个样本只是一行，没有时间轴。LSTM 对每个样本读取一个序列；请给每个样本一个自己的、含 5 个时间步的窗口"
)
NUMPY_ZH = (
    "x：应为 (batch, time_steps, features) = (?, ?, 3)，实际形状为 (5, 3)：缺少 time_steps 轴（轴 1）："
    "每个样本只是一行，没有时间轴。LSTM 对每个样本读取一个序列：请用 "
    "lstm_ref.data.make_windows(series, look_back=...) 切出窗口；x.reshape(5, 1, 3) 会让每个样本只有一个"
    "时间步：LSTM 就没有可以循环的内容了"
)
# Latin words a Chinese message keeps: names of libraries and layers, the arrays' and axes' own names
KEEP = {"LSTM", "PyTorch", "Keras", "x", "X", "lstm", "batch", "features", "hidden"}
CODE = re.compile(r"\S*[_.=()\[\]*/:,0-9]\S*")  # identifiers, calls, shapes, numbers


def english_left(text: str) -> list[str]:
    """The Latin words of ``text`` that are not code or a kept name: a Chinese message has none."""
    words = re.findall(
        r"[A-Za-z][A-Za-z'-]*", CODE.sub(" ", re.sub(r"[\u3000-\u303f\uff00-\uffef]", " ", text))
    )
    return [w for w in words if w not in KEEP]


@pytest.fixture(autouse=True)
def english_after(monkeypatch):
    """No test leaks its language: English (and no LSTM_REF_LANG) before and after each one."""
    monkeypatch.delenv(i18n.ENV, raising=False)
    lstm_ref.set_language("en")
    yield
    lstm_ref.set_language("en")


def _raises(exc: type[Exception], fn, *args, **kwargs) -> str:
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _numpy_wrong_shape() -> str:
    return _raises(ValueError, LSTM(3, 5, batch_first=True), np.zeros((5, 3)))


# ---------------------------------------------------------------------------------------------- switching


def test_english_is_the_default_and_unchanged():
    assert i18n.get_language() == "en"
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_EN
    lstm_ref.set_language("zh_CN")
    lstm_ref.set_language("en")
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_EN
    assert describe((None, 1, 3)) == "(None, 1, 3) = ? samples × 1 time step × 3 features"


def test_set_language_gives_chinese_messages():
    lstm_ref.set_language("zh_CN")
    assert lstm_ref.get_language() == "zh_CN"
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_ZH
    assert _raises(AssertionError, assert_shape, np.zeros((26, 7)), (26, 5, 7), what="X") == ASSERT_ZH
    assert _numpy_wrong_shape() == NUMPY_ZH
    for text in (WINDOWS_ZH, ASSERT_ZH, NUMPY_ZH):
        assert english_left(text) == [], text


def test_a_hint_and_the_shapes_pass_through_unchanged():
    lstm_ref.set_language("zh_CN")
    msg = _raises(AssertionError, assert_shape, (4, 2, 5), (2, 4, 5), "state", what="h_n", hint="look at h_n")
    assert msg.startswith(
        "你的 h_n 形状是 (4, 2, 5)，但应为 (num_layers*num_directions, batch, hidden_size) = (2, 4, 5)："
    )
    assert "轴的顺序不对：看起来是 (batch, num_layers*num_directions, hidden_size)" in msg
    assert msg.endswith("。提示：look at h_n")  # the exercise's own hint is not translated


def test_the_language_is_read_when_the_message_is_made():
    english = diagnose((25, 5, 1), (26, 5, 1))
    lstm_ref.set_language("zh_CN")
    chinese = diagnose((25, 5, 1), (26, 5, 1))
    assert "one window short" in english and "少了一个窗口" in chinese
    assert "轴 0（batch）的大小是 25，应为 26" in chinese and "(25, 5, 1)" in chinese
    lstm_ref.set_language("en")
    assert diagnose((25, 5, 1), (26, 5, 1)) == english


def test_the_environment_chooses_unless_set_language_did(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "zh_CN")
    lstm_ref.set_language(None)  # back to the environment
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_ZH
    lstm_ref.set_language("en")  # a call wins over the environment
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_EN
    monkeypatch.setenv(i18n.ENV, "zh-CN.UTF-8")  # spelled as a locale
    lstm_ref.set_language(None)
    assert i18n.get_language() == "zh_CN"


@pytest.mark.parametrize("bad", ["fr", "zh", "", "chinese", None])
def test_an_unknown_language_is_a_clear_value_error(bad, monkeypatch):
    if bad is None:  # an unknown LSTM_REF_LANG: said as soon as a message is made
        monkeypatch.setenv(i18n.ENV, "klingon")
        lstm_ref.set_language(None)
        msg = _raises(ValueError, i18n.get_language)
    else:
        msg = _raises(ValueError, lstm_ref.set_language, bad)
    assert "unknown language" in msg and "en" in msg and "zh_CN" in msg
    lstm_ref.set_language("en")
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_EN


def test_plurals_and_counts_in_chinese():
    lstm_ref.set_language("zh_CN")
    assert describe((26, 5, 7), "windows") == "(26, 5, 7) = 26 个窗口 × 5 个时间步 × 7 个特征"
    assert describe((1, 1, 1), "state") == "(1, 1, 1) = 1 个层/方向组合 × 1 个样本 × 1 个隐藏单元"
    msg = _raises(AssertionError, assert_param_count, 416, 448, hidden_size=8, what="torch parameter count")
    assert msg == (
        "你的 torch parameter count 是 416，但应为 448：少了 32，正好是 4 x hidden_size：PyTorch 有两个偏置向量"
        "（bias_ih 和 bias_hh），Keras 只有一个"
    )


def test_environment_in_a_fresh_interpreter_loads_no_framework():
    """``LSTM_REF_LANG=zh_CN``: Chinese from the first message on; importing loads no torch, TensorFlow,
    polib or Babel, and reads no catalogue until a message is made."""
    code = (
        "import sys, json, numpy as np, lstm_ref\n"
        "from lstm_ref import i18n\n"
        "loaded = i18n._catalogue.cache_info().currsize\n"
        "from lstm_ref.numpy import LSTM\n"
        "try:\n    LSTM(3, 5, batch_first=True)(np.zeros((5, 3)))\nexcept ValueError as e:\n    msg = str(e)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'tensorflow', 'keras', 'polib', 'babel'))\n"
        "print(json.dumps([loaded, msg, lstm_ref.diagnose.diagnose((26, 7), (26, 5, 7)), heavy]))\n"
    )
    env = {**os.environ, i18n.ENV: "zh_CN"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded, msg, windows, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert (loaded, msg, windows, heavy) == (0, NUMPY_ZH, WINDOWS_ZH, [])


# ---------------------------------------------------------------------------------------------- the tracer


def test_a_tracer_diagnosis_in_chinese():
    torch = pytest.importorskip("torch")
    from torch import nn

    from lstm_ref.trace import ShapeError, trace

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = nn.LSTM(1, 5, batch_first=True), nn.Linear(5, 1)

        def forward(self, x):
            output, _ = self.lstm(x)
            return self.fc(output[:, -1])

    lstm_ref.set_language("zh_CN")
    with pytest.raises(ShapeError) as info:
        trace(Head(), torch.zeros(4, 1, 12))  # the classic X.reshape(n, 1, look_back)
    diag = info.value.trace.diagnosis
    assert diag.startswith(
        "lstm (LSTM)：x：应为 (batch, time_steps, features) = (?, ?, 1)，实际形状为 (4, 1, 12)：轴的顺序不对："
        "看起来是 (batch, features, time_steps)（features 轴必须在最后）：1 个时间步，每步 12 个特征。"
    )
    assert "它的构建参数是 input_size=1, hidden_size=5, batch_first=True，所以它把 x 读作" in diag
    assert english_left(diag) == [], diag
    table = str(info.value.trace)
    assert table.startswith("PyTorch 模型 Head：追踪了 1 层") and "\n诊断：lstm (LSTM)：" in table
    assert "batch_first=True，但 h_n 仍然是 (layers*directions, batch, hidden)" in table  # the note
    assert "<b>诊断：</b>lstm (LSTM)：" in info.value.trace._repr_html_()
    lstm_ref.set_language("en")
    with pytest.raises(ShapeError) as info:
        trace(Head(), torch.zeros(4, 1, 12))
    assert info.value.trace.diagnosis.startswith("lstm (LSTM): x: expected (batch, time_steps, features)")


# ---------------------------------------------------------------------------------------------- the catalogue


def test_every_translation_has_the_placeholders_of_its_msgid():
    po = polib.pofile(str(PO))
    names = re.compile(r"\{(\w+)\}")
    assert len(po) > 150 and po.metadata["Language"] == "zh_CN"
    for entry in po:
        want = set(names.findall(entry.msgid + entry.msgid_plural))
        for text in entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]:
            assert text and set(names.findall(text)) == want, (entry.msgid, text)


def test_the_catalogues_ship_with_the_package():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"][
        "lstm_ref"
    ]
    assert {"locales/**/*.po", "locales/**/*.mo"} <= set(data)
    assert MO.is_file() and (ROOT / "lstm_ref" / "locales" / "lstm_ref.pot").is_file()


def _check(root: Path = ROOT) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "scripts.lstm_ref_i18n", "--root", str(root), "check"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)


def test_check_passes_on_the_committed_catalogues():
    done = _check()
    assert done.returncode == 0, done.stdout + done.stderr


def _copy(tmp_path: Path) -> tuple[Path, polib.POFile]:
    shutil.copytree(ROOT / "lstm_ref", tmp_path / "lstm_ref", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path, polib.pofile(str(tmp_path / PO.relative_to(ROOT)))


def _entry(po: polib.POFile, msgid: str) -> polib.POEntry:
    return next(e for e in po if e.msgid == msgid)


@pytest.mark.parametrize("broken", ["untranslated", "fuzzy", "stale mo", "new message", "placeholder"])
def test_check_fails_on_a_broken_copy(tmp_path, broken):
    root, po = _copy(tmp_path)
    po_path, mo_path = root / PO.relative_to(ROOT), root / MO.relative_to(ROOT)
    entry = _entry(po, "the {axis} axis (axis {i}) is missing")
    if broken == "untranslated":
        entry.msgstr = ""
    elif broken == "fuzzy":
        entry.flags.append("fuzzy")
    elif broken == "stale mo":
        entry.msgstr = "缺了 {axis} 轴（轴 {i}）"
    elif broken == "placeholder":
        entry.msgstr = "缺少 {name} 轴（轴 {i}）"
    else:  # a message added to the code, not to the catalogue
        module = root / "lstm_ref" / "shapes.py"
        module.write_text(module.read_text() + '\n\ndef _new():\n    return _("a brand new message")\n')
    po.save(str(po_path))
    if broken in ("untranslated", "fuzzy", "placeholder"):
        po.save_as_mofile(str(mo_path))  # only the .po is wrong
    done = _check(root)
    expected = {
        "untranslated": "untranslated: 'the {axis} axis (axis {i}) is missing'",
        "fuzzy": "fuzzy: 'the {axis} axis (axis {i}) is missing'",
        "stale mo": "lstm_ref.mo is not the compiled lstm_ref.po",
        "new message": "new in the code, missing here: 'a brand new message'",
        "placeholder": "placeholders ['i', 'name'] in the translation, ['axis', 'i'] in the msgid",
    }[broken]
    assert done.returncode == 1 and expected in done.stdout, done.stdout + done.stderr


def test_update_merges_a_new_message_and_keeps_every_translation(tmp_path):
    root, _ = _copy(tmp_path)
    module = root / "lstm_ref" / "shapes.py"
    module.write_text(module.read_text() + '\n\ndef _new():\n    return _("a brand new message")\n')
    cmd = [sys.executable, "-m", "scripts.lstm_ref_i18n", "--root", str(root), "update"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    po = polib.pofile(str(root / PO.relative_to(ROOT)))
    assert [e.msgid for e in po.untranslated_entries()] == ["a brand new message"]
    assert not po.fuzzy_entries() and not po.obsolete_entries()
    assert _entry(po, "{n} sample").msgstr_plural == {0: "{n} 个样本"}  # plural translations survive
    done = _check(root)
    assert done.returncode == 1 and done.stdout.splitlines() == [
        "lstm_ref/locales/zh_CN/LC_MESSAGES/lstm_ref.po: untranslated: 'a brand new message'"
    ]


def test_to_english_reads_a_chinese_message_back_exactly():
    """What lstm_ref says in Chinese, put back into English, is what it says in English (three real
    wrong answers: flattened axes, time-first, wrong values)."""
    import numpy as np

    import lstm_ref
    from lstm_ref import feedback
    from lstm_ref.i18n import to_english

    def message(lang, check):
        lstm_ref.set_language(lang)
        try:
            check()
        except AssertionError as exc:
            return str(exc)
        finally:
            lstm_ref.set_language("en")
        raise AssertionError("the check passed")

    checks = [
        lambda: feedback.assert_shape(np.zeros((26, 35)), (26, 5, 7), "btf"),
        lambda: feedback.assert_shape(np.zeros((5, 26, 7)), (26, 5, 7), "btf"),
        lambda: feedback.assert_close(np.ones((2, 3)), np.zeros((2, 3)), "h", layout=("batch", "x")),
    ]
    for check in checks:
        zh, en = message("zh_CN", check), message("en", check)
        assert zh != en and "轴" in zh + message("zh_CN", checks[0])
        assert to_english(zh) == en
    assert to_english("NameError: name 'x' is not defined") == "NameError: name 'x' is not defined"
