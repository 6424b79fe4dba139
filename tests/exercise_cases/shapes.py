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
def as_single_step(X):
    return X.reshape(X.shape[0], 1, X.shape[1])


def return_sequences_flags(n_layers):
    return [True] * (n_layers - 1) + [False]


def to_time_major(x):
    return x.reshape(x.shape[1], x.shape[0], x.shape[2])
""",
    },
    # "expected ndim=3" fixed the wrong way: 7 features turned into 7 time steps of 1 feature.
    "features_as_time": {
        "repairs": """
def as_single_step(X):
    return X.reshape(X.shape[0], X.shape[1], 1)


def return_sequences_flags(n_layers):
    return [True] * (n_layers - 1) + [False]


def to_time_major(x):
    return np.ascontiguousarray(x.transpose(1, 0, 2))
""",
    },
}

WRONG_SCORES = {
    "off_by_one_windows": (7.0, 7.0),
    "flattened_time": (8.0, 8.0),
    "hn_batch_first": (9.0, 9.0),
    "keras_count_for_torch": (9.0, 9.0),
    "reshape_not_transpose": (9.0, 9.0),
    "features_as_time": (9.0, 9.0),
}

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
