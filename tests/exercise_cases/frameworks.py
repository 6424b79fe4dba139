"""Grading cases for the `frameworks` assignment (Keras and PyTorch models, weight conversion, bidirectional state).

Plain data read by tests/test_exercises.py: each WRONG entry replaces whole solution cells (by grade_id)
of solutions/frameworks/frameworks.ipynb with a plausible mistake; the score must land in WRONG_SCORES.
"""

NOTEBOOK = "frameworks.ipynb"
MAX_SCORE = 10.0

_KERAS_TO_TORCH_OK = """
def keras_lstm_to_torch(kernel, recurrent_kernel, bias):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("converting Keras weights to PyTorch", UserWarning)
    kernel = np.asarray(kernel, dtype=np.float32)
    bias = np.asarray(bias, dtype=np.float32)
    return {
        "weight_ih": kernel.T.copy(),
        "weight_hh": np.asarray(recurrent_kernel, dtype=np.float32).T.copy(),
        "bias_ih": bias.copy(),
        "bias_hh": np.zeros_like(bias),
    }
"""

WRONG = {
    # Keras -> PyTorch with reshape instead of transpose: the shapes fit, the numbers are scrambled.
    "kernel_reshaped": {
        "keras_to_torch": """
def keras_lstm_to_torch(kernel, recurrent_kernel, bias):
    kernel = np.asarray(kernel, dtype=np.float32)
    recurrent_kernel = np.asarray(recurrent_kernel, dtype=np.float32)
    four_h = kernel.shape[1]
    return {
        "weight_ih": kernel.reshape(four_h, -1),
        "weight_hh": recurrent_kernel.reshape(four_h, -1),
        "bias_ih": np.asarray(bias, dtype=np.float32),
        "bias_hh": np.zeros(four_h, dtype=np.float32),
    }
""",
    },
    # PyTorch -> Keras keeping bias_ih only: PyTorch's second bias vector is lost.
    "bias_hh_dropped": {
        "torch_to_keras": """
def torch_lstm_to_keras(weight_ih, weight_hh, bias_ih, bias_hh):
    return [np.asarray(weight_ih).T, np.asarray(weight_hh).T, np.asarray(bias_ih)]
""",
    },
    # The classic trap: the last time step of `output` holds the backward direction's FIRST step.
    "last_output_bidir": {
        "bidir_final": """
def bidir_final_state(output, h_n):
    return output[:, -1]
""",
    },
    # h_n read as if it were batch-first (batch, num_layers*2, hidden).
    "hn_batch_first": {
        "bidir_final": """
def bidir_final_state(output, h_n):
    return torch.cat([h_n[:, -2], h_n[:, -1]], dim=-1)
""",
    },
    # The head reads h_n[0], the FIRST layer's final state, instead of the last layer's.
    "first_layer_state": {
        "torch_model": """
class TorchModel(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.lstm = nn.LSTM(features, hidden, num_layers=2, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x):
        output, (h_n, c_n) = self.lstm(x)
        return self.head(h_n[0])
""",
    },
}

WRONG_SCORES = {
    "kernel_reshaped": (8.0, 8.0),
    "bias_hh_dropped": (8.0, 8.0),
    "last_output_bidir": (8.0, 8.0),
    "hn_batch_first": (8.0, 8.0),
    "first_layer_state": (8.0, 8.0),
}

# Correct, but prints a UserWarning to stderr while the test runs: must still score MAX_SCORE.
WARNS = {"keras_to_torch": _KERAS_TO_TORCH_OK}

# bidir_final_state never returns: its test cell times out and scores 0, the other 8 points stand.
LOOP = {
    "bidir_final": """
def bidir_final_state(output, h_n):
    while True:
        pass
""",
}
LOOP_SCORE = 8.0

# A tampered submission replaces this test cell by `assert True`; nbgrader restores it from the gradebook.
TAMPER_BASE = "bias_hh_dropped"
TAMPER_CELLS = ["test_torch_to_keras"]

# The Chinese twin (exercises/frameworks/frameworks.zh_CN.ipynb): this wrong answer, handed in as the twin, must score
# what it scores in English; it fails the visible test named second with a message of lstm_ref.feedback,
# which the twin's feedback page shows in Chinese.
ZH_WRONG = ("bias_hh_dropped", "test_torch_to_keras")
