"""lstm_course.results.misconceptions: each misconception is recognised in the message a real wrong answer gets.

The messages are never written here. They come from running lstm_ref.feedback's checks on wrong
answers, or from the ``hint=`` texts and assertion messages of the solution notebooks' test cells,
read from the .ipynb (f-string fields filled with 1), and wrapped as the failing check shows them.
Each must get exactly its own id: nothing unrelated.
"""

from __future__ import annotations

import ast
import json
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


def count(got: int, expected: int, hidden_size: int) -> str:
    return failure(feedback.assert_param_count, got, expected, hidden_size=hidden_size)


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
    ],
    "stack-count": [
        lambda: count(
            param_count(3, 8, framework="torch"), param_count(3, 8, framework="torch", num_layers=2), 8
        ),
        lambda: count(
            param_count(3, 8, framework="keras"), param_count(3, 8, framework="keras", bidirectional=True), 8
        ),
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
    "state-not-detached": [lambda: from_notebook("test_torch_carry_detach", "assert", "grad_fn")],
    "state-not-reset": [
        lambda: from_notebook("test_torch_order_reset", "assert", "expected zeros"),
        lambda: from_notebook("test_keras_train", "assert", "middle of an epoch"),
        lambda: from_notebook("test_keras_train", "assert", "no reset_state()"),
        lambda: from_notebook("test_keras_train", "assert", "non-zero state"),
    ],
    "shuffled": [
        lambda: from_notebook("test_helpers", "assert", "never shuffle"),
        lambda: from_notebook("test_batches", "assert", "must continue row j"),
    ],
    "stateful-batch-size": [lambda: from_notebook("test_keras_build", "assert", "batch size must be fixed")],
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
