"""Grading cases for the `gates` assignment (LSTM step forward/backward in NumPy, torch weights).

Plain data read by tests/test_exercises.py: each WRONG entry replaces whole solution cells (by grade_id)
of solutions/gates/gates.ipynb with a plausible mistake; the score must land in WRONG_SCORES.
"""

NOTEBOOK = "gates.ipynb"
MAX_SCORE = 10.0

_STEP = """
def lstm_step(x, h_prev, c_prev, weight_ih, weight_hh, bias):
    H = h_prev.shape[1]
    a = x @ weight_ih.T + h_prev @ weight_hh.T + bias
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    {gates}
    {cell}
    h = o * np.tanh(c)
    return h, c
"""

WRONG = {
    # CS231n's gate order i, f, o, g instead of PyTorch/Keras's i, f, g, o.
    "cs231n_gate_order": {
        "lstm_step": _STEP.format(
            gates="o = sigmoid(a[:, 2 * H : 3 * H])\n    g = np.tanh(a[:, 3 * H :])",
            cell="c = f * c_prev + i * g",
        ),
    },
    # The forget gate never touches the old cell state.
    "no_forget_gate": {
        "lstm_step": _STEP.format(
            gates="g = np.tanh(a[:, 2 * H : 3 * H])\n    o = sigmoid(a[:, 3 * H :])",
            cell="c = c_prev + i * g",
        ),
    },
    # Sign slip in tanh'(c): 1 + tanh^2 instead of 1 - tanh^2.
    "backward_sign": {
        "lstm_backward": """
def lstm_step_backward(dh, dc, x, h_prev, c_prev, weight_ih, weight_hh, bias):
    H = h_prev.shape[1]
    a = x @ weight_ih.T + h_prev @ weight_hh.T + bias
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    tc = np.tanh(c)
    dc_total = dc + dh * o * (1 + tc**2)
    da = np.concatenate(
        [dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f), dc_total * i * (1 - g**2),
         dh * tc * o * (1 - o)],
        axis=1,
    )
    return da @ weight_ih, da @ weight_hh, dc_total * f, da.T @ x, da.T @ h_prev, da.sum(axis=0)
""",
    },
    # Only bias_ih taken from PyTorch; bias_hh is lost.
    "bias_ih_only": {
        "weights_from_torch": """
def weights_from_torch(lstm):
    p = {k: v.detach().double().numpy() for k, v in lstm.state_dict().items()}
    return p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"]
""",
    },
}

WRONG_SCORES = {
    "cs231n_gate_order": (6.0, 6.0),
    "no_forget_gate": (5.0, 5.0),
    "backward_sign": (7.0, 7.0),
    "bias_ih_only": (9.0, 9.0),
}

# Correct, but warns on every call (warnings forced on, so the output reaches stderr).
WARNS = {
    "lstm_step": """
import warnings


def lstm_step(x, h_prev, c_prev, weight_ih, weight_hh, bias):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("lstm_step: float64 is slow", UserWarning)
    H = h_prev.shape[1]
    a = x @ weight_ih.T + h_prev @ weight_hh.T + bias
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    g = np.tanh(a[:, 2 * H : 3 * H])
    o = sigmoid(a[:, 3 * H :])
    c = f * c_prev + i * g
    return o * np.tanh(c), c
""",
}

# An endless loop at the top level of the backward answer cell: the cell is interrupted, the
# function is never defined, both backward test cells (3 points) score 0.
LOOP = {"lstm_backward": "while True:\n    pass\n"}
LOOP_SCORE = 7.0

TAMPER_BASE = "bias_ih_only"
TAMPER_CELLS = ["test_torch_output"]

# The Chinese twin (exercises/gates/gates.zh_CN.ipynb): this wrong answer, handed in as the twin, must score
# what it scores in English; it fails the visible test named second with a message of lstm_ref.feedback,
# which the twin's feedback page shows in Chinese.
ZH_WRONG = ("bias_ih_only", "test_torch_output")
