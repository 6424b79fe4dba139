"""lstm_ref.misconceptions: each misconception is recognised in the message a real wrong answer gets.

The messages come from running lstm_ref.feedback's checks on wrong answers, or from the hints and
assertion texts in the solution notebooks' test cells (read from the .ipynb), never written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lstm_ref import feedback
from lstm_ref.misconceptions import CATALOGUE, classify, describe

ROOT = Path(__file__).resolve().parents[1]
BTF = ("batch", "time_steps", "features")
STATE = ("num_layers*num_directions", "batch", "hidden_size")


def message(check, *args, **kw) -> str:
    """The AssertionError text a check gives, as nbgrader's feedback shows it (``ename: evalue``)."""
    with pytest.raises(AssertionError) as info:
        check(*args, **kw)
    return f"AssertionError: {info.value}"


def test_source(grade_id: str) -> str:
    """The source of one test cell of the solution notebooks."""
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == grade_id:
                return "".join(cell["source"])
    raise KeyError(grade_id)


test_source.__test__ = False


CASES = {
    "time-axis-missing": lambda: message(feedback.assert_shape, np.zeros((26, 7)), (26, 5, 7), BTF, "X"),
    "axes-flattened": lambda: message(feedback.assert_shape, np.zeros((26, 35)), (26, 5, 7), BTF, "X"),
    "axis-order": lambda: message(feedback.assert_shape, np.zeros((5, 26, 7)), (26, 5, 7), BTF, "X"),
    "state-batch-first": lambda: message(feedback.assert_shape, (4, 2, 5), (2, 4, 5), STATE, "h_n"),
    "window-count": lambda: message(feedback.assert_shape, np.zeros((25, 5, 7)), (26, 5, 7), BTF, "X"),
    "window-length": lambda: message(feedback.assert_shape, np.zeros((26, 4, 7)), (26, 5, 7), BTF, "X"),
    "bias-count": lambda: message(feedback.assert_param_count, 416, 448, hidden_size=8),
    "four-gates": lambda: message(feedback.assert_param_count, 112, 448, hidden_size=8),
    "gate-order": lambda: test_source("test_step_gate_order"),
    "window-content": lambda: test_source("test_windows_values"),
    "state-not-carried": lambda: test_source("test_forward_values"),
    "state-not-detached": lambda: test_source("test_torch_carry_detach"),
    "state-not-reset": lambda: test_source("test_keras_train"),
    "shuffled": lambda: test_source("test_helpers"),
    "stateful-batch-size": lambda: test_source("test_keras_build"),
    "return-sequences": lambda: test_source("test_return_sequences"),
    "final-state": lambda: test_source("test_bidir_final"),
    "weight-layout": lambda: test_source("test_keras_to_torch"),
    "no-answer": lambda: "NotImplementedError (no message)",
}


def test_every_entry_has_a_case():
    assert set(CASES) == set(CATALOGUE) - {"wrong-values"}


@pytest.mark.parametrize("mid", sorted(CASES))
def test_recognised_in_a_real_message(mid):
    text = CASES[mid]()
    assert mid in classify(text), (mid, classify(text), text[:300])


@pytest.mark.parametrize(
    "mid",
    ["time-axis-missing", "axes-flattened", "axis-order", "state-batch-first", "window-count", "bias-count"],
)
def test_a_shape_diagnosis_names_one_misconception(mid):
    """Messages from lstm_ref.feedback are specific: exactly the one misconception, nothing else."""
    assert classify(CASES[mid]()) == [mid]


def test_state_order_is_not_read_as_a_data_layout_mistake():
    got = classify(CASES["state-batch-first"]())
    assert "axis-order" not in got


def test_value_mismatch_is_the_last_resort():
    text = message(
        feedback.assert_close, np.ones((2, 3)), np.zeros((2, 3)), "h", layout=("batch", "hidden_size")
    )
    assert classify(text) == ["wrong-values"]
    specific = message(
        feedback.assert_close, np.ones(3), np.zeros(3), "c", hint="is your third block really g (tanh)?"
    )
    assert classify(specific) == ["gate-order"]


def test_unrelated_errors_are_not_classified():
    assert classify("NameError: name 'lstm_step' is not defined") == []
    assert classify("") == []


def test_describe():
    assert describe("state-batch-first").startswith("read h_n")
    with pytest.raises(KeyError, match="unknown misconception 'nope'; known: time-axis-missing"):
        describe("nope")


def test_light_import():
    """The grader imports it in every worker: it must not pull torch or TensorFlow."""
    import subprocess
    import sys

    code = "import sys, lstm_ref.misconceptions; print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
