"""Grading cases for the `stateful` assignment (stateful batch layout, PyTorch and Keras stateful training).

Plain data read by tests/test_exercises.py: each WRONG entry replaces whole solution cells (by grade_id)
of solutions/stateful/stateful.ipynb with a plausible mistake; the score must land in WRONG_SCORES.
"""

NOTEBOOK = "stateful.ipynb"
MAX_SCORE = 10.0

# The PyTorch loop with a parameter for each classic mistake (filled in below).
_TORCH_LOOP = """
def train_stateful_torch(model, X, Y, batch_size, epochs, lr=0.01):
    X = torch.as_tensor(X, dtype=torch.float32)
    Y = torch.as_tensor(Y, dtype=torch.float32)
    n_batches = len(X) // batch_size
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    history = []
    state = None
    for _ in range(epochs):
        {epoch_start}
        total = 0.0
        for k in {batch_order}:
            {batch_start}
            rows = slice(k * batch_size, (k + 1) * batch_size)
            y_hat, state = model(X[rows], state)
            loss = loss_fn(y_hat, Y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            {batch_end}
            total += loss.item()
        history.append(total / n_batches)
    return history
"""


def _torch_loop(
    epoch_start="state = None",
    batch_order="range(n_batches)",
    batch_start="pass",
    batch_end="state = tuple(s.detach() for s in state)",
):
    return _TORCH_LOOP.format(
        epoch_start=epoch_start, batch_order=batch_order, batch_start=batch_start, batch_end=batch_end
    )


_KERAS_TRAIN = """
def train_stateful_keras(model, X, Y, batch_size, epochs):
    history = []
    for _ in range(epochs):
        result = model.fit(X, Y, batch_size=batch_size, epochs=1, shuffle={shuffle}, verbose=0)
        {reset}
        history.append(float(result.history["loss"][0]))
    return history
"""

_KERAS_BUILD = """
def build_stateful_keras(batch_size, seq_len, hidden):
    inputs = keras.Input({input_args})
    x = keras.layers.LSTM(hidden, stateful={stateful}, return_sequences=True, name="lstm")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    return model
"""

WRONG = {
    # Consecutive windows in consecutive rows: row j of batch k+1 does not continue row j of batch k.
    "windows_in_order": {
        "batches": """
def make_stateful_arrays(series, batch_size, seq_len):
    series = np.asarray(series, dtype=np.float32)
    n_batches = (len(series) - 1) // (batch_size * seq_len)
    n = n_batches * batch_size * seq_len
    X = series[:n].reshape(-1, seq_len, 1)
    Y = series[1 : n + 1].reshape(-1, seq_len, 1)
    return X, Y
""",
    },
    # The graph of batch k is still attached when batch k+1 calls backward(): PyTorch raises.
    "forgets_detach": {"torch_loop": _torch_loop(batch_end="pass")},
    # The state is created once and carried from the end of one epoch into the next.
    "never_resets": {"torch_loop": _torch_loop(epoch_start="pass")},
    # A zero state for every batch: a stateless loop in disguise.
    "resets_every_batch": {"torch_loop": _torch_loop(batch_start="state = None")},
    # Batches in a random order every epoch.
    "shuffles": {"torch_loop": _torch_loop(batch_order="np.random.permutation(n_batches)")},
    # Keras 3: Input(shape=...) leaves the batch size open, which a stateful LSTM refuses.
    "keras_no_batch_shape": {
        "keras_build": _KERAS_BUILD.format(input_args="shape=(seq_len, 1)", stateful="True"),
    },
    # The fixed batch shape is there, but the LSTM forgets stateful=True.
    "keras_not_stateful": {
        "keras_build": _KERAS_BUILD.format(
            input_args="batch_shape=(batch_size, seq_len, 1)", stateful="False"
        ),
    },
    # fit(..., shuffle=True): the samples of every epoch in a random order.
    "keras_shuffles": {
        "keras_train": _KERAS_TRAIN.format(shuffle="True", reset='model.get_layer("lstm").reset_state()'),
    },
    # fit() without shuffle=...: it shuffles by default.
    "keras_default_shuffle": {
        "keras_train": """
def train_stateful_keras(model, X, Y, batch_size, epochs):
    history = []
    for _ in range(epochs):
        result = model.fit(X, Y, batch_size=batch_size, epochs=1, verbose=0)
        model.get_layer("lstm").reset_state()
        history.append(float(result.history["loss"][0]))
    return history
""",
    },
    # The state is never reset between epochs.
    "keras_never_resets": {"keras_train": _KERAS_TRAIN.format(shuffle="False", reset="pass")},
}

WRONG_SCORES = {
    "windows_in_order": (8.0, 8.0),
    "forgets_detach": (6.0, 6.0),
    "never_resets": (8.0, 8.0),
    "resets_every_batch": (8.0, 8.0),
    "shuffles": (8.0, 8.0),
    "keras_no_batch_shape": (6.0, 6.0),  # the training test builds with the learner's builder too
    "keras_not_stateful": (8.0, 8.0),
    "keras_shuffles": (8.0, 8.0),
    "keras_default_shuffle": (8.0, 8.0),
    "keras_never_resets": (8.0, 8.0),
}

# The VISIBLE part of these test cells fails (before any hidden test runs) with a message holding
# each phrase: a student sees the mistake named before handing in.
_SHUFFLED = ["the batches arrived out of order", "mixed rows of different batches of X", "shuffle=False"]
WRONG_MESSAGES = {
    "never_resets": {"test_torch_order_reset": ["the state was not reset at the start of epoch 1"]},
    "shuffles": {"test_torch_order_reset": ["the batches arrived out of order: they came as batches ["]},
    "keras_shuffles": {"test_keras_train": _SHUFFLED},
    "keras_default_shuffle": {"test_keras_train": _SHUFFLED},
    "keras_never_resets": {"test_keras_train": ["no reset_state() between epoch 0 and epoch 1"]},
}

# Correct, but prints a UserWarning to stderr during the tested call: must still score MAX_SCORE.
WARNS = {
    "torch_loop": _torch_loop(
        epoch_start=(
            "state = None\n"
            "        with warnings.catch_warnings():\n"
            '            warnings.simplefilter("always")\n'
            '            warnings.warn("starting an epoch from a zero state", UserWarning)'
        )
    ),
}

# train_stateful_keras never returns: its test cell times out and scores 0, the other 8 points stand.
LOOP = {
    "keras_train": """
def train_stateful_keras(model, X, Y, batch_size, epochs):
    while True:
        pass
""",
}
LOOP_SCORE = 8.0

# A tampered submission replaces this test cell by `assert True`; nbgrader restores it from the gradebook.
TAMPER_BASE = "shuffles"
TAMPER_CELLS = ["test_torch_order_reset"]

# The Chinese twin (exercises/stateful/stateful.zh_CN.ipynb): this wrong answer, handed in as the twin, must score
# what it scores in English. (No visible test here fails it with a message of lstm_ref.feedback: these
# tests word their own messages, which are code and stay English in both notebooks.)
ZH_WRONG = ("never_resets", None)
