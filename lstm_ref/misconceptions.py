"""The misconceptions that the course's failing checks reveal, and how to tell them from a message.

Every test cell of the exercises fails with a message written to be read: the shape diagnoses of
:mod:`lstm_ref.feedback` (built on :func:`lstm_ref.shapes.explain_mismatch`) and the hints and
assertion texts of the tests. Each message names the mistake in words; :func:`classify` maps those
words back to the ids of :data:`CATALOGUE`, which the class report (``lstm-course report``) counts:
"38% read h_n as batch-first". ``tests/test_misconceptions.py`` produces each message from a real
wrong answer and checks that it is classified as intended.

Standard library only: the grader classifies thousands of messages without importing NumPy.

>>> classify("Your h_n has shape (4, 2, 5) but it should be ... the state is never batch-first, even with batch_first=True")
['state-batch-first']
>>> describe("state-batch-first")[:31]
'read h_n / c_n as batch-first: '
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Misconception", "CATALOGUE", "classify", "describe"]


@dataclass(frozen=True)
class Misconception:
    """``words`` read after a percentage ("38% <words>"); ``patterns`` are regexes over a failure message."""

    id: str
    words: str
    patterns: tuple[str, ...]


_ENTRIES = (
    Misconception(
        "time-axis-missing",
        "left out the time axis: a 2-D (batch, features) array where an LSTM needs (batch, time_steps, features)",
        (r"the time_steps axis \(axis \d\) is missing", r"each sample is a single row, with no time steps"),
    ),
    Misconception(
        "axes-flattened",
        "flattened time_steps and features into one axis instead of keeping two",
        (r"are flattened into one axis", r"puts a whole window on the features"),
    ),
    Misconception(
        "axis-order",
        "put the axes in the wrong order (time-major against batch-first), or reshaped where a transpose was needed",
        (
            r"axes are in the wrong order: it looks like \((?!batch, num_layers)",
            r"a reshape keeps the memory order and mixes samples",
            r"should take \(batch, time_steps, features\): batch_first=True",
        ),
    ),
    Misconception(
        "state-batch-first",
        "read h_n / c_n as batch-first: the state is (num_layers*num_directions, batch, hidden_size) whatever "
        "batch_first says",
        (r"state is never batch-first", r"whatever batch_first says"),
    ),
    Misconception(
        "window-count",
        "made the wrong number of windows (the range(N - look_back - 1) off-by-one, or a window with no target)",
        (r"one window short", r"one window too many"),
    ),
    Misconception(
        "window-length",
        "cut windows of the wrong length: look_back is the number of time steps per window",
        (r"the windows are \d+ steps long",),
    ),
    Misconception(
        "window-content",
        "filled the windows or their targets from the wrong rows or column (look_back, horizon, target_col)",
        (r"X\[0\] must equal data", r"y\[0\] is data\["),
    ),
    Misconception(
        "bias-count",
        "counted the biases wrongly: PyTorch keeps two bias vectors (bias_ih and bias_hh), Keras one",
        (
            r"PyTorch keeps two bias vectors",
            r"Keras has one bias vector, not two",
            r"Keras has room for one bias only",
            r"did you miss a bias, a layer or a direction",
        ),
    ),
    Misconception(
        "four-gates",
        "forgot that an LSTM has four gates (i, f, g, o), each with its own weights and bias",
        (r"4 times too small: an LSTM has 4 gates", r"remember the 4 gates"),
    ),
    Misconception(
        "gate-order",
        "put the gates in the wrong order or mixed their activations: rows are i, f, g, o (g is tanh)",
        (r"is your third block really g", r"rows 0:H of the weights belong to i", r"forget gate f = 0\.5"),
    ),
    Misconception(
        "state-not-carried",
        "did not carry (h, c) from one step or batch to the next",
        (
            r"is c passed on to the next step",
            r"received no state \(None = zeros\); expected the \(h, c\) returned",
            r"not stateful: it would start every batch from zeros",
            r"no state carried",
            r"row \d+ of batch \d+ ends at t=",
        ),
    ),
    Misconception(
        "state-not-detached",
        "carried the state without detaching it, so gradients flow back through every earlier batch",
        (r"still has a grad_fn",),
    ),
    Misconception(
        "state-not-reset",
        "did not reset the state at each epoch's start, or reset it in the middle of an epoch",
        (
            r"received a state with max \|value\| [^;]*; expected zeros",
            r"no reset_state\(\) between epoch",
            r"reset_state\(\) was called in the middle of an epoch",
            r"started from a non-zero state",
        ),
    ),
    Misconception(
        "shuffled",
        "shuffled a stateful sequence: batch k+1 must continue batch k, row by row",
        (r"the model saw the batches in the order", r"never shuffle"),
    ),
    Misconception(
        "stateful-batch-size",
        "left the batch size free in a stateful model: it keeps one state per batch row, so the size is fixed",
        (r"so the batch size must be fixed in the input",),
    ),
    Misconception(
        "return-sequences",
        "set return_sequences wrongly: every LSTM under another returns sequences, the top one only its last output",
        (
            r"needs return_sequences=True",
            r"the second LSTM should hand only its last output",
            r"the first LSTM must return \(batch, time_steps, hidden\), the second only",
            r"stacked LSTMs you gave",
        ),
    ),
    Misconception(
        "final-state",
        "read the wrong final state: the last layer's h_n, and for a bidirectional LSTM both directions' ends",
        (
            r"the head should read the final hidden state",
            r"the forward direction ends after the last time step",
            r"the backward direction reads from the last time step",
            r"use the last layer, both directions",
        ),
    ),
    Misconception(
        "weight-layout",
        "moved weights between layouts wrongly: a bias dropped (PyTorch adds bias_ih and bias_hh) or a matrix "
        "not transposed (Keras kernel (features, 4H), PyTorch weight_ih (4H, features))",
        (
            r"every Keras weight must land somewhere",
            r"every PyTorch weight must land somewhere",
            r"compare what weights_from_torch returns",
        ),
    ),
    Misconception(
        "no-answer",
        "left the answer blank (NotImplementedError)",
        (r"NotImplementedError",),
    ),
)
CATALOGUE: dict[str, Misconception] = {m.id: m for m in _ENTRIES}
_COMPILED = [(m.id, [re.compile(p, re.I) for p in m.patterns]) for m in _ENTRIES]
_VALUES = re.compile(r"differs from the reference|contains NaN or inf", re.I)
CATALOGUE["wrong-values"] = Misconception(
    "wrong-values", "computed values that differ from the reference (no more specific mistake recognised)", ()
)


def classify(message: str) -> list[str]:
    """Ids of the misconceptions ``message`` reveals, in catalogue order; ``[]`` when none is recognised.

    ``"wrong-values"`` is the last resort: a numeric mismatch that names nothing more specific.

    >>> classify("AssertionError: Your X has shape (26, 35) but it should be ...: time_steps and features are flattened into one axis of 35 = 5 × 7")
    ['axes-flattened']
    >>> classify("AssertionError: Your c differs from the reference: max abs error 0.1 at batch=0")
    ['wrong-values']
    >>> classify("NotImplementedError: ")
    ['no-answer']
    >>> classify("ZeroDivisionError: division by zero")
    []
    """
    found = [mid for mid, patterns in _COMPILED if any(p.search(message) for p in patterns)]
    if not found and _VALUES.search(message):
        found = ["wrong-values"]
    return found


def describe(misconception_id: str) -> str:
    """The words for ``misconception_id`` (they read after a percentage: "38% <words>").

    >>> describe("no-answer")
    'left the answer blank (NotImplementedError)'
    """
    try:
        return CATALOGUE[misconception_id].words
    except KeyError:
        raise KeyError(f"unknown misconception {misconception_id!r}; known: {', '.join(CATALOGUE)}") from None
