"""lstm_ref.i18n: the learners' messages in English (the default, unchanged) or Simplified Chinese.

Real wrong calls (``lstm_ref.numpy``, ``feedback``, ``diagnose``, ``data``, ``torch``, ``keras``, ``convert``,
the tracer) against Chinese and English written out here, by ``set_language`` and by ``LSTM_REF_LANG`` (in a
fresh interpreter; a typo in it warns once); many more wrong calls of every module, each of whose Chinese
message must read back (``to_english``) as exactly its English one; the catalogue itself (every entry reads
back, placeholders, ``scripts/lstm_ref_i18n.py check`` on the committed files and on broken copies); and
what ``import lstm_ref`` loads. Every test leaves the language at English.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np
import polib
import pytest

import lstm_ref
from lstm_ref import data, feedback, i18n
from lstm_ref.diagnose import describe, diagnose
from lstm_ref.feedback import assert_param_count, assert_shape
from lstm_ref.i18n import to_english, width
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
# Latin words a Chinese message keeps: names of libraries, layers and classes, the arrays', axes' and
# arguments' own names
KEEP = set(
    "LSTM PyTorch Keras torch MinMaxScaler GRU Dense dense Bidirectional bidirectional tanh sigmoid state dict "
    "x X y h lstm batch features hidden series horizon season context fit low high batches chunk chunks "
    "streams None int dtype ndarray framework".split()
)
CODE = re.compile(r"'[^']*'|\S*[_.=()\[\]*/:,0-9]\S*")  # quoted names, identifiers, calls, shapes, numbers


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


@pytest.mark.parametrize("bad", ["fr", "zh", "", "chinese"])
def test_set_language_refuses_an_unknown_language(bad):
    msg = _raises(ValueError, lstm_ref.set_language, bad)
    assert "unknown language" in msg and "en" in msg and "zh_CN" in msg
    assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_EN


def test_a_typo_in_the_environment_warns_once_and_keeps_english(monkeypatch):
    """An unknown LSTM_REF_LANG must not hide the learner's own error behind a configuration error: the
    first message made warns once per bad value, naming it and the languages there are; all is English."""
    monkeypatch.setattr(i18n, "_warned", set())
    monkeypatch.setenv(i18n.ENV, "zh-TW")
    lstm_ref.set_language(None)
    with pytest.warns(UserWarning) as caught:
        made = [diagnose((26, 7), (26, 5, 7)), diagnose((26, 7), (26, 5, 7)), _numpy_wrong_shape()]
    assert made[:2] == [WINDOWS_EN] * 2 and made[2].startswith("x: expected (batch, time_steps, features)")
    assert [str(w.message) for w in caught] == [
        "LSTM_REF_LANG: unknown language 'zh-TW'; lstm_ref supports en, zh_CN; the messages stay in English"
    ]
    monkeypatch.setenv(i18n.ENV, "klingon")  # another value: said once more
    with pytest.warns(UserWarning, match="'klingon'") as caught:
        assert diagnose((26, 7), (26, 5, 7)) == diagnose((26, 7), (26, 5, 7)) == WINDOWS_EN
    assert len(caught) == 1
    lstm_ref.set_language("zh_CN")  # a call wins over the environment, bad or not
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert diagnose((26, 7), (26, 5, 7)) == WINDOWS_ZH


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


def test_the_tracer_table_in_chinese_lines_up():
    """The table's headers, a failed row and a module called twice in Chinese; a Chinese character takes
    two terminal columns, so every column starts at the same display width on every line."""
    torch = pytest.importorskip("torch")
    from torch import nn

    from lstm_ref.trace import ShapeError, trace

    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.act, self.fc = nn.LSTM(1, 5, batch_first=True), nn.Tanh(), nn.Linear(5, 1)

        def forward(self, x):
            output, _ = self.lstm(x)
            return self.fc(self.act(self.act(output[:, -1])))

    english = str(trace(Twice(), torch.zeros(4, 12, 1))).splitlines()
    assert english[1].split() == ["layer", "type", "input", "output", "params", "note"]
    assert english[-2].startswith("act (call 2)  Tanh    x (batch=4, hidden=5)")
    lstm_ref.set_language("zh_CN")
    lines = str(trace(Twice(), torch.zeros(4, 12, 1))).splitlines()
    assert (
        lines[0] == "PyTorch 模型 Twice：追踪了 4 层"
        and lines[1].split() == "层 类型 输入 输出 参数 说明".split()
    )
    row = next(line for line in lines if line.startswith("act（第 2 次调用）"))
    starts = {
        width(line[: line.index(word)])
        for line, word in ((lines[1], "类型"), (row, "Tanh"), (lines[3], "LSTM"))
    }
    assert len(starts) == 1, lines
    with pytest.raises(ShapeError) as info:
        trace(Twice(), torch.zeros(4, 1, 12))
    failed = str(info.value.trace).splitlines()[3]
    assert re.match(
        r"lstm +LSTM +x \(batch=4, time_steps=1, features=12\) +失败 +160 +batch_first=True，", failed
    )
    assert "<th style='text-align:left'>层</th>" in info.value.trace._repr_html_()


def test_the_tracer_demo_in_chinese(capsys):
    """``python -m lstm_ref.trace`` in Chinese: its prose, the table, then the broken variant's diagnosis."""
    pytest.importorskip("torch")
    from lstm_ref.trace.__main__ import main

    lstm_ref.set_language("zh_CN")
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("输入形状为 (32, 12, 1) 的窗口的模型：\n\nPyTorch 模型 ManyToOne：追踪了 2 层\n层 ")
    assert (
        "\n同一个模型，输入 X.reshape(n, 1, look_back)，形状为 (32, 1, 12)：\n" in out
        and "\n诊断：lstm (LSTM)：" in out
    )


# ---------------------------------------------------------------------------------------------- every module

STATEFUL_EN = (
    "series: 6 rows are too few for stateful batches of (batch_size, seq_len) = (2, 3): need at least "
    "batch_size * seq_len + 1 (the last target) = 7 rows"
)
STATEFUL_ZH = (
    "series：6 行数据不够组成 (batch_size, seq_len) = (2, 3) 的有状态批次：至少需要 "
    "batch_size * seq_len + 1（最后一个目标）= 7 行"
)


def _in_both(exc: type[Exception], fn, *args, **kwargs) -> tuple[str, str]:
    """``fn``'s error message in Chinese, then in English (the default again)."""
    lstm_ref.set_language("zh_CN")
    try:
        zh = _raises(exc, fn, *args, **kwargs)
    finally:
        lstm_ref.set_language("en")
    return zh, _raises(exc, fn, *args, **kwargs)


def test_a_data_error_in_chinese_and_english():
    en = _raises(ValueError, data.stateful_arrays, np.arange(6.0), batch_size=2, seq_len=3, targets=True)
    assert en == STATEFUL_EN
    assert _in_both(ValueError, data.stateful_arrays, np.arange(6.0), 2, 3, targets=True) == (STATEFUL_ZH, en)
    zh, en = _in_both(ValueError, data.make_windows, np.zeros((2, 5, 1)), look_back=2)
    assert zh == (
        "series：应为 (time_steps,) 或 (time_steps, features)，实际形状为 (2, 5, 1)：这是一个 3 维数组；这看起来"
        "已经是 (batch, time_steps, features) 形式的窗口了；请改为传入原始序列（各行按时间顺序排列）"
    )
    assert en == (
        "series: expected (time_steps,) or (time_steps, features), got shape (2, 5, 1): a 3-D array; this "
        "already looks like (batch, time_steps, features) windows; pass the raw series (rows in time order) instead"
    )


def test_a_torch_error_and_the_progress_bar_in_chinese_and_english(capsys):
    torch = pytest.importorskip("torch")
    from lstm_ref.torch import ManyToOne, train_stateful

    torch.manual_seed(0)
    batches = [(torch.zeros(2, 3, 1), torch.zeros(2, 1)), (torch.zeros(3, 3, 1), torch.zeros(3, 1))]
    zh, en = _in_both(ValueError, train_stateful, ManyToOne(1, 4), batches, epochs=1, progress=False)
    assert zh == "第 1 个批次：x 的批大小是 3，但传递过来的状态是 2；有状态训练要求每个批次的批大小都相同"
    assert en == (
        "batch 1: x has batch size 3 but the carried state has 2; stateful training needs the same batch "
        "size in every batch"
    )
    lstm_ref.set_language("zh_CN")
    train_stateful(ManyToOne(1, 4), batches[:1], epochs=1)
    lstm_ref.set_language("en")
    train_stateful(ManyToOne(1, 4), batches[:1], epochs=1)
    bars = [line.split(":")[0] for line in re.split(r"[\r\n]+", capsys.readouterr().out) if "1/1" in line]
    assert bars[0] == "训练轮次" and bars[-1] == "epochs", bars


def test_a_convert_error_in_chinese_and_english():
    torch = pytest.importorskip("torch")
    from lstm_ref.convert import torch_state_dict

    zh, en = _in_both(ValueError, torch_state_dict, torch.nn.LSTM(3, 5, proj_size=2))
    assert zh == (
        "proj_size=2：带投影的 LSTM 多了 weight_hr_l{k} 矩阵，而且 h 的大小是 proj_size；Keras 和 "
        "lstm_ref.numpy 都没有这样的层"
    )
    assert en == (
        "proj_size=2: an LSTM with projections has extra weight_hr_l{k} matrices and h of size proj_size; "
        "Keras and lstm_ref.numpy have no such layer"
    )


def test_keras_and_its_conversions_in_chinese_and_english():
    """One test, since importing Keras is slow: stateful training, a chunk of the wrong batch size, and
    layers torch cannot take, each in Chinese (read back exactly) and in English."""
    pytest.importorskip("lstm_ref.keras")  # sets Keras's backend and quiets TensorFlow before importing it
    from lstm_ref import convert
    from lstm_ref import keras as lk
    from lstm_ref.keras import keras

    model = lk.stateful_model(2, 1, 4, time_steps=3)
    model.compile(optimizer="adam", loss="mse")
    zh, en = _in_both(
        ValueError, lk.train_stateful, model, np.zeros((5, 3, 1)), np.zeros((5, 1)), progress=False
    )
    assert zh == (
        "x 有 5 行，但这个有状态模型的批大小是 2：每个批次都必须是满的，所以行数必须是 2 的倍数"
        "（丢掉 1 行，或进行填充）"
    )
    assert en == (
        "x has 5 rows but the stateful model has batch size 2: every batch must be full, so use a multiple "
        "of 2 rows (drop 1 or pad)"
    )
    bidirectional = keras.layers.Bidirectional(keras.layers.LSTM(4, activation="relu"), name="bi")
    bidirectional.build((None, None, 3))
    zh, en = _in_both(ValueError, convert.keras_state_dict, bidirectional)
    assert zh.startswith(
        "第 0 层（bi）的正向：activation='relu', recurrent_activation='sigmoid'；torch.nn.LSTM"
    )
    assert en.startswith(
        "layer 0 (bi) forward: activation='relu', recurrent_activation='sigmoid'; torch.nn.LSTM"
    )
    a, b = keras.layers.LSTM(4, return_sequences=True, name="lstm_a"), keras.layers.LSTM(5, name="lstm_b")
    a.build((None, None, 3))
    b.build((None, None, 4))
    calls = [
        (lk.run_chunks, model, [np.zeros((3, 3, 1))]),  # 3 streams for a model of 2
        (lk.run_chunks, lk.many_to_one(1, 4), []),  # not stateful
        (lk.train_stateful, lk.stateful_model(2, 1, 4, time_steps=3), np.zeros((4, 3, 1)), np.zeros((4, 1))),
        (convert.keras_state_dict, [a, b]),  # unequal stack
        (convert.keras_state_dict, keras.layers.Dense(3, name="dense_d")),
        (convert.load_keras, keras.layers.LSTM(4), {}),  # nothing to build it from
    ]
    for fn, *args in calls:
        zh, en = _in_both(ValueError, fn, *args)
        assert zh != en and english_left(zh) == [] and to_english(zh) == en, (zh, en)


# Wrong calls of every module: each message in Chinese (no English words left but names) reads back as
# exactly its English one, and English again after switching back. The English itself is pinned by each
# module's own tests.
CALLS = {
    "no feature columns": lambda: data.make_windows(np.zeros((3, 0)), 2),
    "a scalar series": lambda: data.make_windows(np.float64(3.0), 2),
    "a 4-D series": lambda: data.sliding_windows(np.zeros((2, 2, 2, 2)), 2),
    "no target columns": lambda: data.make_windows(np.zeros((10, 3)), 2, target_cols=[]),
    "a float target column": lambda: data.make_windows(np.zeros((10, 3)), 2, target_cols=[1.5]),
    "a missing target column": lambda: data.make_windows(np.zeros((10, 3)), 2, target_cols=-4),
    "a repeated target column": lambda: data.make_windows(np.zeros((10, 3)), 2, target_cols=[0, -3]),
    "too short to slide": lambda: data.sliding_windows(np.zeros(3), 4),
    "too short for the horizon": lambda: data.make_windows(np.zeros(5), 4, horizon=2),
    "too short for stateful batches": lambda: data.stateful_layout(5, 2, 3),
    "an empty range": lambda: data.MinMaxScaler((1, 0)),
    "an empty fit": lambda: data.MinMaxScaler().fit(np.zeros((0,))),
    "not fitted": lambda: data.MinMaxScaler().transform(np.zeros(3)),
    "another width than fitted": lambda: (
        data.MinMaxScaler().fit(np.zeros((4, 3))).transform(np.zeros((4, 2)))
    ),
    "a scalar to split": lambda: data.train_test_split_series(np.float64(1.0), test_size=1),
    "a fraction above 1": lambda: data.train_test_split_series(np.zeros(10), test_size=1.5),
    "no training rows": lambda: data.train_test_split_series(np.zeros(3), test_size=3),
    "too much context": lambda: data.train_test_split_series(np.zeros(10), test_size=3, context=8),
    "windows shorter than a season": lambda: data.seasonal_naive_forecast(np.zeros((5, 3, 1)), season=12),
    "no step before the season": lambda: data.seasonal_trend_forecast(np.zeros((5, 12, 1)), season=12),
    "broadcast targets": lambda: data.rmse(np.zeros((3, 1)), np.zeros(3)),
    "no targets": lambda: data.rmse([], []),
    "an unknown framework": lambda: feedback.assert_param_count(1, 2, 3, framework="jax"),
}


TORCH_CALLS = (
    "not a tensor",
    "no time steps",
    "float64 into float32",
    "no batches",
    "targets of another shape",
)
TORCH_CALLS += ("no chunks", "a GRU to convert", "weights without biases")


def _torch_calls(name: str):
    torch = pytest.importorskip("torch")
    from lstm_ref import convert
    from lstm_ref import torch as lt

    one = [(torch.zeros(2, 3, 1), torch.zeros(2))]
    weights = {
        k: v for k, v in convert.torch_state_dict(torch.nn.LSTM(3, 5)).items() if k.startswith("weight")
    }
    return {
        "not a tensor": lambda: lt.ScratchLSTM(3, 5)(np.zeros((4, 2, 3))),
        "no time steps": lambda: lt.ScratchLSTM(3, 5, batch_first=True)(torch.zeros(2, 0, 3)),
        "float64 into float32": lambda: lt.ScratchLSTM(3, 5)(torch.zeros(4, 2, 3, dtype=torch.float64)),
        "no batches": lambda: lt.train_stateful(lt.ManyToOne(1, 4), [], progress=False),
        "targets of another shape": lambda: lt.train_stateful(
            lt.ManyToOne(1, 4), one, epochs=1, progress=False
        ),
        "no chunks": lambda: lt.run_chunks(torch.nn.LSTM(1, 2), []),
        "a GRU to convert": lambda: convert.torch_state_dict(torch.nn.GRU(3, 5)),
        "weights without biases": lambda: convert.load_torch(torch.nn.LSTM(3, 5), weights),
    }[name]


def _check_both(call) -> None:
    en = _raises(Exception, call)
    lstm_ref.set_language("zh_CN")
    zh = _raises(Exception, call)
    lstm_ref.set_language("en")
    assert zh != en and english_left(zh) == [], zh
    assert to_english(zh) == en, (zh, en)
    assert _raises(Exception, call) == en


@pytest.mark.parametrize("name", CALLS)
def test_a_wrong_call_reads_in_chinese_and_back(name):
    _check_both(CALLS[name])


@pytest.mark.parametrize("name", TORCH_CALLS)
def test_a_wrong_torch_call_reads_in_chinese_and_back(name):
    _check_both(_torch_calls(name))


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
        # a message ending in a value ("少了 32"), inside another message
        lambda: feedback.assert_param_count(416, 448, hidden_size=8, what="torch parameter count"),
    ]
    for check in checks:
        zh, en = message("zh_CN", check), message("en", check)
        assert zh != en and "轴" in zh + message("zh_CN", checks[0])
        assert to_english(zh) == en
    assert to_english("NameError: name 'x' is not defined") == "NameError: name 'x' is not defined"


def test_to_english_reads_every_catalogue_message_back():
    """Each translation, its placeholders filled with shape-like values, reads back as exactly its msgid
    filled alike: no two messages share a translation, and a value that ends a message is kept whole."""
    po = polib.pofile(str(PO))
    for entry in po:
        values = {
            n: f"({k + 2}, {n})" for k, n in enumerate(dict.fromkeys(re.findall(r"\{(\w+)\}", entry.msgid)))
        }

        def fill(text: str, values=values) -> str:
            return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], text)

        zh = entry.msgstr_plural[0] if entry.msgid_plural else entry.msgstr
        assert to_english(fill(zh)) == fill(entry.msgid), (entry.msgid, fill(zh))


def test_to_english_reads_long_text_in_bounded_time():
    """Two hundred messages joined by "；" come back exactly, and a long Chinese text that is no message
    (a learner's own, say) stays as it is but for lstm_ref's words: each in seconds, not minutes."""
    lstm_ref.set_language("zh_CN")
    zh = diagnose((26, 7), (26, 5, 7))
    lstm_ref.set_language("en")
    start = time.perf_counter()
    assert to_english("；".join([zh] * 200)) == "; ".join([WINDOWS_EN] * 200)
    assert to_english("你好；" * 2000) == "你好; " * 2000  # only "；" is lstm_ref's (the "; " that joins)
    assert time.perf_counter() - start < 10, "to_english took too long: a search without a bound?"
