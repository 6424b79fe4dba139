"""lstm_course.results.misconceptions: each misconception is recognised in the message a real wrong answer gets.

The messages are never written here. They come from running lstm_ref.feedback's checks on wrong
answers, from the ``hint=`` texts and assertion messages of the solution notebooks' test cells,
read from the .ipynb (f-string fields filled with 1), or from PyTorch and Keras themselves refusing a
wrong answer (a state carried without ``detach``, a stateful layer without a fixed batch size, one
framework's state layout given to the other), each wrapped as the failing check shows it
(``ename: evalue``). Each must get exactly its own id: nothing unrelated.

Each id's ``where`` is checked against the book: the label exists in ``book/*.md``, and the text of
its section (up to the next label) speaks of that mistake (keywords chosen here, not in the module).
"""

from __future__ import annotations

import ast
import functools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from lstm_course.results.misconceptions import CATALOGUE, FALLBACK, classify, describe
from lstm_ref import feedback
from lstm_ref.shapes import param_count

ROOT = Path(__file__).resolve().parents[1]
BTF = ("batch", "time_steps", "features")
WINDOWS = ("windows", "time_steps", "features")
STATE = ("num_layers*num_directions", "batch", "hidden_size")


def failure(check, *args, **kw) -> str:
    """The text of the AssertionError a check raises, as the grader stores it (``ename: evalue``)."""
    with pytest.raises(AssertionError) as info:
        check(*args, **kw)
    return f"AssertionError: {info.value}"


def _text(node: ast.expr) -> str | None:
    """A string literal or an f-string with every field filled with 1; None for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "1" for v in node.values)
    return None


def notebook_texts(grade_id: str) -> dict[str, list[str]]:
    """``{"hint": [...], "assert": [...]}``: the hint= texts and assertion messages of one notebook cell."""
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") != grade_id:
                continue
            found: dict[str, list[str]] = {"hint": [], "assert": []}
            for node in ast.walk(ast.parse("".join(cell["source"]))):
                if isinstance(node, ast.keyword) and node.arg == "hint":
                    found["hint"].append(_text(node.value))
                elif isinstance(node, ast.Assert) and node.msg is not None:
                    found["assert"].append(_text(node.msg))
                elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "AssertionError":
                    found["assert"].extend(_text(a) for a in node.args)
            return {k: [t for t in v if t] for k, v in found.items()}
    raise KeyError(grade_id)


def from_notebook(grade_id: str, kind: str, phrase: str) -> str:
    """The one ``kind`` text of cell ``grade_id`` that contains ``phrase``, as its failing check shows it.

    A hint ends an ``assert_close`` failure (the checks that carry hints are value checks); an assertion
    message follows ``AssertionError: ``.
    """
    texts = [t for t in notebook_texts(grade_id)[kind] if phrase in t]
    assert len(texts) == 1, (grade_id, kind, phrase, notebook_texts(grade_id))
    if kind == "hint":
        return failure(feedback.assert_close, np.ones(3), np.zeros(3), "output", hint=texts[0])
    return f"AssertionError: {texts[0]}"


def raised(call) -> str:
    """What a framework call raises, as the grader stores it: ``ename: evalue``."""
    try:
        call()
    except Exception as err:  # noqa: BLE001 - whatever the framework raises is the message
        return f"{type(err).__name__}: {err}"
    raise AssertionError(f"{call} raised nothing")


def torch_carry_without_detach() -> None:
    """Truncated BPTT done wrong: the state of batch k fed to batch k + 1 with its graph attached."""
    import torch

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(1, 4, batch_first=True)
    opt = torch.optim.SGD(lstm.parameters(), lr=0.1)
    state = None
    for x in torch.randn(3, 2, 5, 1):  # 3 batches of (batch=2, seq_len=5, features=1)
        out, state = lstm(x, state)  # no detach: batch k + 1 back-propagates into batch k
        loss = out.pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


@functools.cache
def keras():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    return keras


def keras_stateful_free_batch() -> None:
    """A stateful Keras 3 LSTM on an input whose batch size is left free (None)."""
    k = keras()
    free = k.Input(shape=(10, 1))
    k.Model(free, k.layers.LSTM(8, stateful=True)(free))


def keras_given_torch_state() -> None:
    """Keras's initial_state given PyTorch's layout: h0 and c0 each (1, batch, units) instead of (batch, units)."""
    k = keras()
    h0 = np.zeros((1, 4, 8), "float32")
    k.layers.LSTM(8)(np.zeros((4, 10, 1), "float32"), initial_state=[h0, h0])


def torch_given_keras_state() -> None:
    """torch.nn.LSTM's (h0, c0) given Keras's layout: each (batch, hidden) instead of (1, batch, hidden)."""
    import torch

    h0 = torch.zeros(4, 8)
    torch.nn.LSTM(1, 8, batch_first=True)(torch.zeros(4, 10, 1), (h0, h0))


def keras_train_wrapping(error: str) -> str:
    """test_keras_train's message when build_stateful_keras raised ``error`` (``ename: evalue``)."""
    text = from_notebook("test_keras_train", "assert", "which raised")
    assert "which raised 1: 1." in text, text  # the f-string's fields {type(err).__name__}: {err}
    return text.replace("which raised 1: 1.", f"which raised {error}.")


def count(got: int, expected: int, hidden_size: int) -> str:
    return failure(feedback.assert_param_count, got, expected, hidden_size=hidden_size)


def torch_count(*modules) -> int:
    """The parameter count a learner reads off real PyTorch modules."""
    return sum(p.numel() for m in modules for p in m.parameters())


def torch_model_without_bias() -> str:
    """The learner built nn.LSTM(3, 8, num_layers=2, bias=False) + nn.Linear(8, 1) for the 2-layer model."""
    import torch

    got = torch_count(torch.nn.LSTM(3, 8, num_layers=2, bias=False), torch.nn.Linear(8, 1))
    return count(got, param_count(3, 8, framework="torch", num_layers=2) + 8 + 1, 8)


def shape(got: tuple, expected: tuple, layout=BTF, what="X") -> str:
    return failure(feedback.assert_shape, np.zeros(got), expected, layout, what)


# id -> the messages of wrong answers of that kind
CASES: dict[str, list] = {
    "time-axis-missing": [lambda: shape((26, 7), (26, 5, 7))],
    "axes-flattened": [
        lambda: shape((26, 35), (26, 5, 7)),
        lambda: shape((26, 1, 5), (26, 5, 1)),  # the classic X.reshape(n, 1, look_back)
    ],
    "axis-order": [
        lambda: shape((5, 26, 7), (26, 5, 7)),  # time-major where batch-first is expected
        lambda: shape((4, 6, 3), (6, 4, 3), ("time_steps", "batch", "features")),  # and the other way round
        lambda: from_notebook("test_torch_model", "assert", "batch_first=True"),
    ],
    "reshape-not-transpose": [lambda: from_notebook("test_time_major", "hint", "a reshape")],
    "state-batch-first": [
        lambda: shape((4, 2, 5), (2, 4, 5), STATE, "h_n"),
        lambda: from_notebook("test_bidir_final", "hint", "whatever batch_first says"),
    ],
    "state-layer-axis": [lambda: shape((4, 8), (1, 4, 8), STATE, "h_n")],
    "window-count": [
        lambda: shape((25, 5, 7), (26, 5, 7)),  # range(N - look_back - 1)
        lambda: shape((27, 5, 7), (26, 5, 7)),
        lambda: shape((22, 5, 7), (25, 5, 7), WINDOWS),
    ],
    "window-length": [lambda: shape((26, 4, 7), (26, 5, 7))],
    "window-content": [
        lambda: from_notebook("test_windows_values", "hint", "X[0]"),
        lambda: from_notebook("test_windows_values", "hint", "y[0]"),
        lambda: from_notebook("test_windows_target", "hint", "y[0]"),
    ],
    "bias-count": [
        lambda: count(param_count(1, 50, framework="keras"), param_count(1, 50, framework="torch"), 50),
        lambda: count(param_count(1, 50, framework="torch"), param_count(1, 50, framework="keras"), 50),
        torch_model_without_bias,
    ],
    "stack-count": [
        lambda: count(
            param_count(3, 8, framework="torch"), param_count(3, 8, framework="torch", num_layers=2), 8
        ),
        lambda: count(
            param_count(3, 8, framework="keras"), param_count(3, 8, framework="keras", bidirectional=True), 8
        ),
        # the learner counted 4H(F + H) + 8H for both layers: layer 1 reads hidden = 8 inputs, not features = 3
        lambda: count(2 * (4 * 8 * (3 + 8) + 8 * 8), param_count(3, 8, framework="torch", num_layers=2), 8),
    ],
    "four-gates": [lambda: count(112, 448, 8)],
    "gate-order": [
        lambda: from_notebook("test_step_gate_order", "hint", "third block"),
        lambda: from_notebook("test_backward_inputs", "hint", "rows 0:H"),
    ],
    "cell-update": [lambda: from_notebook("test_step_zero_weights", "hint", "forget gate")],
    "return-sequences": [
        lambda: from_notebook("test_return_sequences", "assert", "return_sequences=True"),
        lambda: from_notebook("test_keras_model", "hint", "last output"),
        lambda: from_notebook("test_keras_model", "assert", "the second only"),
    ],
    "final-state": [
        lambda: from_notebook("test_torch_model", "hint", "final hidden state"),
        lambda: from_notebook("test_bidir_final", "hint", "forward direction"),
        lambda: from_notebook("test_bidir_final", "hint", "backward direction"),
        lambda: from_notebook("test_bidir_final", "hint", "both directions"),
    ],
    "weight-layout": [
        lambda: from_notebook("test_keras_to_torch", "hint", "land somewhere"),
        lambda: from_notebook("test_torch_to_keras", "hint", "land somewhere"),
        lambda: from_notebook("test_torch_output", "hint", "weights_from_torch"),
    ],
    "state-not-carried": [
        lambda: from_notebook("test_forward_values", "hint", "passed on"),
        lambda: from_notebook("test_torch_carry_detach", "assert", "received no state"),
        lambda: from_notebook("test_torch_carry_detach", "hint", "returned for batch"),
        lambda: from_notebook("test_keras_build", "assert", "not stateful"),
        lambda: from_notebook("test_keras_build", "assert", "no state carried"),
    ],
    "state-not-detached": [
        lambda: from_notebook("test_torch_carry_detach", "assert", "grad_fn"),
        lambda: from_notebook("test_helpers", "assert", "computation graph"),  # run_torch_training's own
        lambda: raised(torch_carry_without_detach),  # PyTorch's RuntimeError, where no wrapper catches it
    ],
    "state-not-reset": [
        lambda: from_notebook("test_torch_order_reset", "assert", "expected zeros"),
        lambda: from_notebook("test_keras_train", "assert", "middle of an epoch"),
        lambda: from_notebook("test_keras_train", "assert", "no reset_state()"),
        lambda: from_notebook("test_keras_train", "assert", "non-zero state"),
    ],
    "shuffled": [
        lambda: from_notebook("test_helpers", "assert", "never shuffle"),
        lambda: from_notebook("test_helpers", "assert", "arrived out of order"),
        lambda: from_notebook("test_batches", "assert", "must continue row j"),
    ],
    "stateful-batch-size": [
        lambda: from_notebook("test_keras_build", "assert", "batch size must be fixed"),
        lambda: raised(keras_stateful_free_batch),  # Keras 3 refuses to build it
        lambda: keras_train_wrapping(raised(keras_stateful_free_batch)),
    ],
    "state-framework-layout": [
        lambda: raised(keras_given_torch_state),
        lambda: raised(torch_given_keras_state),
    ],
    FALLBACK: [
        lambda: failure(feedback.assert_close, np.ones((2, 3)), np.zeros((2, 3)), "h", layout=("batch", "x")),
        lambda: failure(feedback.assert_close, np.full(3, np.nan), np.zeros(3), "c"),
    ],
    "no-answer": [lambda: "NotImplementedError (no message)", lambda: "NotImplementedError: "],
}
PAIRS = [(mid, k) for mid, makers in CASES.items() for k in range(len(makers))]


def test_every_entry_has_a_case():
    assert list(CASES) == list(CATALOGUE)


@pytest.mark.parametrize(("mid", "k"), PAIRS, ids=[f"{m}-{k}" for m, k in PAIRS])
def test_a_real_message_gets_its_own_id_only(mid, k):
    text = CASES[mid][k]()
    assert classify(text) == [mid], text


@pytest.mark.parametrize(("mid", "k"), PAIRS, ids=[f"{m}-{k}" for m, k in PAIRS])
def test_the_same_message_in_chinese_gets_the_same_id(mid, k):
    """A Chinese twin's student gets lstm_ref's messages in Chinese: the class report still recognises them."""
    import lstm_ref

    lstm_ref.set_language("zh_CN")
    try:
        text = CASES[mid][k]()
    finally:
        lstm_ref.set_language("en")
    assert classify(text) == [mid], text


def test_a_specific_hint_wins_over_the_value_mismatch():
    """A hinted assert_close failure is also a value mismatch; the hint names the mistake."""
    text = from_notebook("test_step_gate_order", "hint", "third block")
    assert "differs from the reference" in text and classify(text) == ["gate-order"]


def test_unrelated_errors_are_not_classified():
    assert classify("NameError: name 'lstm_step' is not defined") == []
    assert classify("TypeError: lstm_step() missing 1 required positional argument: 'bias'") == []
    assert classify("") == []
    # a hint that asks two questions at once names no single mistake
    assert classify(from_notebook("test_torch_model", "hint", "is the LSTM batch-first")) == [FALLBACK]


def test_every_word_reads_after_a_percentage():
    for m in CATALOGUE.values():
        assert m.words[0].islower() and not m.words.endswith("."), m.id
        assert m.patterns, m.id


def test_describe():
    assert describe("state-batch-first").startswith("read h_n / c_n as batch-first")
    with pytest.raises(KeyError, match="unknown misconception 'nope'; known: time-axis-missing"):
        describe("nope")


# id -> words that the book section it points to (``where``) must contain: the mistake, named there
SECTION_WORDS = {
    "time-axis-missing": ["time axis", "2-D"],
    "axes-flattened": ["(samples, 1, features)", "one time step"],
    "axis-order": ["batch_first"],
    "reshape-not-transpose": ["transpose", "(T, B, F)", "mixes samples"],
    "state-batch-first": ["batch_first", "h0"],
    "state-layer-axis": ["num_layers × num_directions", "h0"],
    "window-count": ["look_back - 1", "drops one"],
    "window-length": ["look_back"],
    "window-content": ["horizon", "target_cols", "make_windows"],
    "bias-count": ["bias_ih", "bias_hh"],
    "stack-count": ["layers × directions", "input size of layer 2"],
    "four-gates": ["4H(F+H)"],
    "gate-order": ["i, f, g, o", "CS231n"],
    "cell-update": ["forget gate", "cell state"],
    "return-sequences": ["return_sequences"],
    "final-state": ["bidirectional", "h_n"],
    "weight-layout": ["transpose", "kernel", "weight_ih"],
    "state-not-carried": ["stateful", "carries the state"],
    "state-not-detached": ["detach", "backward through the graph a second time"],
    "state-not-reset": ["reset_state()"],
    "shuffled": ["shuffle=True", "continues row"],
    "stateful-batch-size": ["fixed batch size", "the batch size must be static"],
    "state-framework-layout": ["initial_state", "(layers*dirs, B, H)"],
}


@functools.cache
def book_sections() -> dict[str, tuple[str, str]]:
    """Every MyST label of ``book/*.md``: label -> (file, its text up to the next label)."""
    found = {}
    for path in sorted((ROOT / "book").glob("*.md")):
        text = path.read_text(encoding="utf-8")
        marks = list(re.finditer(r"^\(([\w-]+)\)=\s*$", text, re.M))
        for k, m in enumerate(marks):
            end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
            found[m.group(1)] = (path.name, text[m.end() : end])
    return found


def test_every_where_is_a_section_of_the_book_that_treats_the_mistake():
    assert set(SECTION_WORDS) == set(CATALOGUE) - {FALLBACK, "no-answer"}
    assert CATALOGUE[FALLBACK].where == CATALOGUE["no-answer"].where == ""
    sections = book_sections()
    for mid, words in SECTION_WORDS.items():
        label = CATALOGUE[mid].where
        assert label in sections, f"{mid}: no ({label})= in book/*.md"
        name, text = sections[label]
        missing = [w for w in words if w not in text]
        assert not missing, f"{mid}: section ({label})= of {name} never says {missing}"


def test_the_section_check_refuses_a_wrong_target():
    """The four targets of the erratum: where each pointed before, its words are not there."""
    sections = book_sections()
    before = {"gate-order": "mis-gates-binary", "window-content": "pr-target", "stack-count": "sec-param-count",
              "shuffled": "st-layout"}  # fmt: skip
    for mid, label in before.items():
        assert any(w not in sections[label][1] for w in SECTION_WORDS[mid]), (mid, label)
