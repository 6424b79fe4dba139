"""Grading cases for the `shapes` assignment (windows, output/state shapes, parameter counts, repairs).

Plain data read by tests/test_exercises.py: each WRONG entry replaces whole solution cells (by grade_id)
of solutions/shapes/shapes.ipynb with a plausible mistake; the score must land in WRONG_SCORES.
"""

NOTEBOOK = "shapes.ipynb"
MAX_SCORE = 10.0

WRONG = {
    # The classic create_dataset loop: range(len(data) - look_back - 1) drops the last window
    # (and, for horizon > 2, runs past the end of the series).
    "off_by_one_windows": {
        "make_windows": """
def make_windows(data, look_back, horizon=1, target_col=0):
    data = np.asarray(data)
    X, y = [], []
    for i in range(len(data) - look_back - 1):
        X.append(data[i : i + look_back])
        y.append(data[i + look_back + horizon - 1, target_col])
    return np.array(X), np.array(y)
""",
    },
    # Windows flattened to (windows, look_back * features), as for a Dense network.
    "flattened_time": {
        "make_windows": """
def make_windows(data, look_back, horizon=1, target_col=0):
    data = np.asarray(data)
    n = len(data) - look_back - horizon + 1
    X = np.stack([data[i : i + look_back].ravel() for i in range(n)])
    y = data[look_back + horizon - 1 : look_back + horizon - 1 + n, target_col]
    return X, y
""",
    },
    # h_n / c_n assumed batch-first when batch_first=True (they never are).
    "hn_batch_first": {
        "torch_shapes": """
def torch_lstm_shapes(batch, time_steps, features, hidden_size, num_layers=1, batch_first=False,
                      bidirectional=False):
    dirs = 2 if bidirectional else 1
    if batch_first:
        out = (batch, time_steps, dirs * hidden_size)
        state = (batch, num_layers * dirs, hidden_size)
    else:
        out = (time_steps, batch, dirs * hidden_size)
        state = (num_layers * dirs, batch, hidden_size)
    return (out, state, state)
""",
    },
    # The Keras formula (one bias) used for PyTorch (two biases): 4H short per layer and direction.
    "keras_count_for_torch": {
        "param_counts": """
def keras_param_count(features, units):
    return 4 * units * (features + units) + 4 * units


def torch_param_count(features, hidden_size, num_layers=1, bidirectional=False):
    dirs = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        input_size = features if layer == 0 else hidden_size * dirs
        total += dirs * (4 * hidden_size * (input_size + hidden_size) + 4 * hidden_size)
    return total
""",
    },
    # reshape instead of transpose: the shape fits nn.LSTM, the samples are scrambled.
    "reshape_not_transpose": {
        "repairs": """
def add_feature_axis(X):
    return X[..., None]


def return_sequences_flags(n_layers):
    return [True] * (n_layers - 1) + [False]


def to_time_major(x):
    return x.reshape(x.shape[1], x.shape[0], x.shape[2])
""",
    },
    # "expected ndim=3" fixed the way many posts do: X.reshape(n, 1, look_back), one time step of
    # look_back features instead of look_back steps of one feature.
    "one_step_windows": {
        "repairs": """
def add_feature_axis(X):
    return X.reshape(X.shape[0], 1, X.shape[1])


def return_sequences_flags(n_layers):
    return [True] * (n_layers - 1) + [False]


def to_time_major(x):
    return np.ascontiguousarray(x.transpose(1, 0, 2))
""",
    },
    # return_state ignored: one shape whatever the flag says.
    "return_state_missing": {
        "keras_shapes": """
def keras_lstm_shapes(batch, time_steps, features, units, return_sequences=False, return_state=False):
    out = (batch, time_steps, units) if return_sequences else (batch, units)
    return (out,)
""",
    },
    # return_state=True read as "the last step only": the output loses its time axis even with
    # return_sequences=True. The visible tests pass; a hidden test fails (its feedback says so).
    "state_drops_sequences": {
        "keras_shapes": """
def keras_lstm_shapes(batch, time_steps, features, units, return_sequences=False, return_state=False):
    if return_state:
        return ((batch, units), (batch, units), (batch, units))
    out = (batch, time_steps, units) if return_sequences else (batch, units)
    return (out,)
""",
    },
}

WRONG_SCORES = {
    "off_by_one_windows": (7.0, 7.0),
    "flattened_time": (8.0, 8.0),
    "hn_batch_first": (9.0, 9.0),
    "keras_count_for_torch": (9.0, 9.0),
    "reshape_not_transpose": (9.0, 9.0),
    "one_step_windows": (9.0, 9.0),
    "return_state_missing": (9.0, 9.0),
    "state_drops_sequences": (9.0, 9.0),
}

# The VISIBLE part of these test cells fails (before any hidden test runs) with a message holding
# each phrase: a student sees the mistake named before handing in.
WRONG_MESSAGES = {
    "one_step_windows": {
        "test_feature_axis": [
            "X.reshape(n, 1, look_back) puts a whole window on the features axis",
            "X[..., None]",
        ]
    },
    "return_state_missing": {
        "test_keras_shapes": ["return_state=True: expected a tuple of 3 shapes (output, h, c)"]
    },
    "reshape_not_transpose": {"test_time_major": ["a reshape keeps the memory order and mixes samples"]},
}

# Only a HIDDEN test of these cells fails: the student's feedback page says so.
HIDDEN_FAILS = {"state_drops_sequences": ["test_keras_shapes"]}

# Correct, but prints a UserWarning and a NumPy RuntimeWarning on every call (warnings forced on).
WARNS = {
    "make_windows": """
import warnings


def make_windows(data, look_back, horizon=1, target_col=0):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("make_windows copies the data", UserWarning)
        np.log(np.zeros(1))  # RuntimeWarning: divide by zero
    data = np.asarray(data)
    n = len(data) - look_back - horizon + 1
    X = np.stack([data[i : i + look_back] for i in range(n)])
    y = data[look_back + horizon - 1 : look_back + horizon - 1 + n, target_col]
    return X, y
""",
}

# An endless loop inside a function the tests call: test_keras_shapes (1 point) times out.
LOOP = {
    "keras_shapes": """
def keras_lstm_shapes(batch, time_steps, features, units, return_sequences=False, return_state=False):
    while True:
        pass
""",
}
LOOP_SCORE = 9.0

TAMPER_BASE = "off_by_one_windows"
TAMPER_CELLS = ["test_windows_shape", "test_windows_values", "test_windows_target"]

# The Chinese twin (exercises/shapes/shapes.zh_CN.ipynb): this wrong answer, handed in as the twin, must score
# what it scores in English; it fails the visible test named second with a message of lstm_ref.feedback,
# which the twin's feedback page shows in Chinese.
ZH_WRONG = ("hn_batch_first", "test_torch_shapes")
