"""The misconceptions that the course's failing checks reveal, and how to tell them from a message.

Every test cell of the exercises fails with a message written to be read: the shape diagnoses of
:mod:`lstm_ref.feedback` (built on :func:`lstm_ref.shapes.explain_mismatch`) and the ``hint=`` texts
and assertion messages of the test cells in ``solutions/*/*.ipynb``. Each message names the mistake
in words; :func:`classify` maps those words back to the ids of :data:`CATALOGUE`, which the class
report (:mod:`lstm_course.results.report`) counts: "38% (19 of 50) read h_n / c_n as batch-first ...".
``tests/test_misconceptions.py`` produces each message from a real wrong answer, or reads it from the
solution notebooks, and checks that it gets exactly its own id.

Some failures never reach a written message: PyTorch's and Keras's own errors (a state carried
without ``detach``, a stateful Keras layer with a free batch size, one framework's state layout given to
the other) are matched on the framework's words.

Each pattern is a short key phrase of its message, not the whole text, so that rewording around it
does not break the match; when a message in ``lstm_ref.feedback``, ``lstm_ref.shapes``, a test cell or
a framework changes its key phrase, the test for its id fails until the pattern here follows it.

Standard library only (``re``): the grader classifies every failed cell without importing NumPy.

>>> classify("AssertionError: Your h_n has shape (4, 2, 5) but ...; the state is never batch-first, even with batch_first=True")
['state-batch-first']
>>> describe("state-batch-first")[:31]
'read h_n / c_n as batch-first: '
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Misconception", "CATALOGUE", "FALLBACK", "classify", "describe"]


@dataclass(frozen=True)
class Misconception:
    """A mistake a failing check reveals.

    - ``id``: a short stable name (``"state-batch-first"``), stored in the grader's results;
    - ``words``: a sentence fragment that reads after a percentage ("38% <words>");
    - ``patterns``: regular expressions (matched case-insensitively, anywhere) over a failure message;
    - ``where``: the MyST label of the book section that takes the mistake apart (the instructor guide's
      table of mistakes shows it; ``tests/test_misconceptions.py`` checks that the label exists and that
      its section speaks of the mistake); ``""`` for the generic ids.
    """

    id: str
    words: str
    patterns: tuple[str, ...]
    where: str = ""


#: The last-resort id: a value mismatch in which nothing more specific was recognised.
FALLBACK = "wrong-values"

# wrong-order messages that name a more specific mistake (state-batch-first, axes-flattened)
_NOT_JUST_ORDER = r"state is never batch-first|puts a whole window on the features"

_ENTRIES = (
    # ---- shapes: lstm_ref.shapes.explain_mismatch, through lstm_ref.feedback.assert_shape
    Misconception(
        "time-axis-missing",
        "left out the time axis: a 2-D (batch, features) array where an LSTM needs (batch, time_steps, features)",
        (r"the time_steps axis \(axis \d\) is missing",),
        "mis-input-2d",
    ),
    Misconception(
        "axes-flattened",
        "flattened time_steps and features into one axis (or put a whole window on the features axis) "
        "instead of keeping two",
        (r"time_steps and features are flattened into one axis", r"puts a whole window on the features axis"),
        "mis-one-time-step",
    ),
    Misconception(
        "axis-order",
        "put the axes in the wrong order: time-major (time_steps, batch, features) for batch-first "
        "(batch, time_steps, features), or time_steps and features swapped",
        (
            rf"the axes are in the wrong order(?!.*(?:{_NOT_JUST_ORDER}))",
            r"should take \(batch, time_steps, features\): batch_first=True",
        ),
        "sec-torch-args",
    ),
    Misconception(
        "reshape-not-transpose",
        "used a reshape where a transpose was needed: a reshape keeps the memory order and mixes samples",
        (r"a reshape keeps the memory order and mixes samples",),
        "sec-reshape-not-transpose",
    ),
    Misconception(
        "state-batch-first",
        "read h_n / c_n as batch-first: the state is (num_layers*num_directions, batch, hidden_size) "
        "whatever batch_first says",
        (r"the state is never batch-first", r"whatever batch_first says"),
        "mis-h0-batch-first",
    ),
    Misconception(
        "state-layer-axis",
        "left out the (num_layers*num_directions) axis of h_n / c_n: PyTorch keeps one (batch, hidden_size) "
        "slice per layer and direction",
        (r"the num_layers\*num_directions axis \(axis \d\) is missing",),
        "mis-h0-batch-first",
    ),
    # ---- windows (make_windows, the create_dataset off-by-one)
    Misconception(
        "window-count",
        "made the wrong number of windows (the range(N - look_back - 1) off-by-one, or a window with no target)",
        (r"one window short", r"one window too many", r"axis 0 \(windows\) is \d+, expected \d+"),
        "mis-create-dataset",
    ),
    Misconception(
        "window-length",
        "cut windows of the wrong length: look_back is the number of time steps per window",
        (r"the windows are \d+ steps long",),
        "pr-windows",
    ),
    Misconception(
        "window-content",
        "filled the windows or their targets from the wrong rows or column (look_back, horizon, target_col)",
        (r"X\[0\] must equal data\[", r"y\[0\] is data\["),
        "sec-worked-examples",
    ),
    # ---- parameter counts: lstm_ref.feedback.assert_param_count
    Misconception(
        "bias-count",
        "counted the biases wrongly, or left them out: PyTorch keeps two bias vectors (bias_ih and bias_hh), "
        "Keras one",
        (
            r"PyTorch keeps two bias vectors",
            r"Keras has one bias vector, not two",
            r"Is the bias missing \((use_)?bias=False\)",
        ),
        "kvp-biases",
    ),
    Misconception(
        "stack-count",
        "miscounted a stacked or bidirectional LSTM: every layer and direction has its own weights, and "
        "layer k > 0 reads hidden_size * num_directions inputs",
        (
            r"did you miss a bias, a layer or a direction",
            r"count the inputs of each layer again",
            r"reads? the previous layer's output, so (its|their) input width",
        ),
        "kvp-params",
    ),
    Misconception(
        "four-gates",
        "forgot that an LSTM has four gates (i, f, g, o), each with its own weights and bias",
        (r"4 times too small: an LSTM has 4 gates", r"remember the 4 gates"),
        "mis-params-time-steps",
    ),
    # ---- the cell (gates notebook)
    Misconception(
        "gate-order",
        "put the gates in the wrong order or mixed their activations: the blocks are i, f, g, o (g is tanh)",
        (r"is your third block really g", r"rows 0:H of the weights belong to i"),
        "sec-equations",
    ),
    Misconception(
        "cell-update",
        "updated the cell state wrongly: c = f * c_prev + i * g (the forget gate scales the old c)",
        (r"the forget gate f = 0\.5 scales the old cell state",),
        "mis-c-forget-gate",
    ),
    # ---- frameworks: stacks, final states, weight conversion
    Misconception(
        "return-sequences",
        "set return_sequences wrongly: every LSTM under another returns sequences, the top one only its "
        "last output",
        (
            r"needs return_sequences=True",
            r"the second LSTM should hand only its last output",
            r"the first LSTM must return \(batch, time_steps, hidden\), the second only",
            r"stacked LSTMs you gave",
        ),
        "mis-return-sequences",
    ),
    Misconception(
        "final-state",
        "read the wrong final state: the last layer's h_n, and for a bidirectional LSTM each direction's end",
        (
            r"the head should read the final hidden state",
            r"the forward direction ends after the last time step",
            r"the backward direction reads from the last time step",
            r"use the last layer, both directions",
        ),
        "mis-bidirectional-last",
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
        "kvp-weights",
    ),
    # ---- stateful training
    Misconception(
        "state-not-carried",
        "did not carry (h, c) from one step or batch to the next",
        (
            r"is c passed on to the next step",
            r"received no state \(None = zeros\); expected the \(h, c\) returned",
            r"it should be the \w+ returned for batch",
            r"not stateful: it would start every batch from zeros",
            r"no state carried",
        ),
        "mis-stateful-reset",
    ),
    Misconception(
        "state-not-detached",
        "carried the state without detaching it, so gradients flow back through every earlier batch",
        (
            r"still has a grad_fn",  # test_torch_carry_detach
            r"still attached to the previous batch's computation graph",  # the stateful notebook's wrapper
            r"Trying to backward through the graph a second time",  # PyTorch's own RuntimeError
        ),
        "st-detach",
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
        "mis-stateful-reset",
    ),
    Misconception(
        "shuffled",
        "shuffled or mis-laid a stateful sequence: row j of batch k + 1 must continue row j of batch k",
        (
            r"the batches arrived out of order",
            r"never shuffle",
            r"row j of the next batch must continue row j",
        ),
        "st-pitfalls",
    ),
    Misconception(
        "stateful-batch-size",
        "left the batch size free in a stateful model: it keeps one state per batch row, so the size is fixed",
        (
            r"so the batch size must be fixed in the input",  # test_keras_build
            r"stateful=True`? in a RNN, the batch size must be static",  # Keras 3's own ValueError
        ),
        "st-fixed-batch",
    ),
    Misconception(
        "state-framework-layout",
        "gave one framework's state layout to the other: Keras initial_state takes h and c each "
        "(batch, units), PyTorch's (h0, c0) each (num_layers*num_directions, batch, hidden_size)",
        (
            r"hx and cx should also be 3-D",  # torch.nn.LSTM given (batch, hidden) states
            # Keras 3's LSTMCell given (1, batch, units) states: its error lists the 3-D states it received
            r"Arguments received by LSTMCell\.call\(\).*states=\([^\n]*shape=\(\d+, \d+, \d+\)",
        ),
        "kvp-table",
    ),
    # ---- the generic ones
    Misconception(
        FALLBACK,
        "computed values that differ from the reference (no more specific mistake recognised)",
        (r"differs from the reference", r"contains NaN or inf"),
    ),
    Misconception("no-answer", "left the answer blank (NotImplementedError)", (r"NotImplementedError",)),
)

#: Every misconception by id, in the order :func:`classify` reports them.
CATALOGUE: dict[str, Misconception] = {m.id: m for m in _ENTRIES}
_COMPILED = [(m.id, [re.compile(p, re.I | re.S) for p in m.patterns]) for m in _ENTRIES]


def classify(message: str, messages: Mapping[str, str] | None = None) -> list[str]:
    """Ids of the misconceptions ``message`` reveals, in catalogue order; ``[]`` when none is recognised.

    ``message`` is a failed check's text, as the grader stores it (``"AssertionError: ..."``). A Chinese
    twin's (``<a>.zh_CN.ipynb``) is read in English first: the test cells' own messages through
    ``messages``, the assignment's catalogue of them (msgid -> translation,
    :func:`lstm_course.translations.load_messages`; fields match any text), then ``lstm_ref``'s
    (``lstm_ref.i18n.to_english``), so that it counts as the English student's failure does.
    :data:`FALLBACK` (``"wrong-values"``) is the last resort: it is returned alone, for a value
    mismatch ("differs from the reference") that names nothing more specific.

    >>> classify("AssertionError: Your X has shape (26, 35) but ...: time_steps and features are flattened into one axis of 35 = 5 × 7")
    ['axes-flattened']
    >>> classify("AssertionError: Your c differs from the reference: max abs error 0.1 at batch=0, hidden_size=1")
    ['wrong-values']
    >>> classify("AssertionError: Your c differs from the reference: ... Hint: is your third block really g (tanh)?")
    ['gate-order']
    >>> classify("NotImplementedError (no message)")
    ['no-answer']
    >>> classify("ZeroDivisionError: division by zero")
    []
    """
    if re.search(r"[\u3400-\u9fff]", message):  # a Chinese twin's message: its words back in English
        from lstm_course.cell_messages import to_english as tests_to_english
        from lstm_ref.i18n import to_english

        message = to_english(tests_to_english(message, messages or {}))
    found = [mid for mid, patterns in _COMPILED if any(p.search(message) for p in patterns)]
    specific = [mid for mid in found if mid != FALLBACK]
    return specific or found


def describe(misconception_id: str) -> str:
    """The words for ``misconception_id``; they read after a percentage ("38% <words>").

    Raises ``KeyError`` naming the known ids for an unknown one.

    >>> describe("no-answer")
    'left the answer blank (NotImplementedError)'
    >>> describe("nope")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    KeyError: "unknown misconception 'nope'; known: time-axis-missing, axes-flattened, ..."
    """
    try:
        return CATALOGUE[misconception_id].words
    except KeyError:
        raise KeyError(f"unknown misconception {misconception_id!r}; known: {', '.join(CATALOGUE)}") from None
