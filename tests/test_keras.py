"""lstm_ref.keras against independent references: Keras's pinned constant-initialiser output,
lstm_ref.numpy.LSTM run over the whole stream, and the torch builders with the same weights."""

import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from lstm_ref import data
from lstm_ref import numpy as lnp
from lstm_ref import torch as ltorch
from lstm_ref.convert import keras_state_dict, load_torch
from lstm_ref.keras import (
    keras,
    many_to_many,
    many_to_one,
    reset_states,
    run_chunks,
    stateful_model,
    train_stateful,
)

F, H, B = 3, 4, 2
ATOL = 1e-5
# FACTS.md: keras/src/layers/rnn/lstm_test.py pins these for arange(72).reshape(3, 6, 4) and LSTM(3)
# with constant kernel 0.01, recurrent kernel 0.02 and bias 0.03 (one value per sample).
PINNED = np.array([0.6288687, 0.86899155, 0.9460773])


def test_pinned_keras_output_and_numpy_twin():
    """The real Keras layer gives the pinned numbers, and so does lstm_ref.numpy with its converted weights."""
    seq = np.arange(72).reshape((3, 6, 4)).astype("float32")
    c = keras.initializers.Constant
    layer = keras.layers.LSTM(
        3, kernel_initializer=c(0.01), recurrent_initializer=c(0.02), bias_initializer=c(0.03)
    )
    k_out = keras.ops.convert_to_numpy(layer(seq))  # (3, 3)
    np.testing.assert_allclose(k_out, np.repeat(PINNED[:, None], 3, axis=1), atol=1e-6)
    np_lstm = lnp.LSTM(4, 3, batch_first=True)
    np_lstm.load_state_dict(keras_state_dict(layer))
    out, (h_n, _) = np_lstm(seq)
    np.testing.assert_allclose(out[:, -1], np.repeat(PINNED[:, None], 3, axis=1), atol=1e-6)
    np.testing.assert_allclose(h_n[0], out[:, -1])


# ---------------------------------------------------------------- builders


def _copy_head(dense_layer, linear):
    kernel, bias = dense_layer.get_weights()  # (in, out), (out,)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(kernel.T))
        linear.bias.copy_(torch.from_numpy(bias))


def _assert_same_as_torch(model, tmodel, x):
    """Copy the Keras model's LSTM and head weights into the torch model; both must give the same output on x."""
    load_torch(tmodel.lstm, keras_state_dict(model))
    _copy_head(model.layers[-1], tmodel.head)
    with torch.no_grad():
        want = tmodel(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(model(x)), want, atol=ATOL)


@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (2, True)])
def test_many_to_one_equals_torch_model(num_layers, bidirectional):
    """Keras many_to_one == lstm_ref.torch.ManyToOne with the same weights (Keras picks the right states)."""
    model = many_to_one(F, H, 2, num_layers=num_layers, bidirectional=bidirectional)
    assert model.output_shape == (None, 2)
    tmodel = ltorch.ManyToOne(F, H, 2, num_layers=num_layers, bidirectional=bidirectional)
    _assert_same_as_torch(model, tmodel, np.random.default_rng(0).normal(size=(B, 6, F)).astype(np.float32))


def test_many_to_many_equals_torch_model():
    """Keras many_to_many (TimeDistributed(Dense)) == lstm_ref.torch.ManyToMany, stacked and bidirectional."""
    model = many_to_many(F, H, 3, num_layers=2, bidirectional=True)
    assert model.output_shape == (None, None, 3)
    assert isinstance(model.layers[-1], keras.layers.TimeDistributed)
    tmodel = ltorch.ManyToMany(F, H, 3, num_layers=2, bidirectional=True)
    _assert_same_as_torch(model, tmodel, np.random.default_rng(1).normal(size=(B, 7, F)).astype(np.float32))


def test_builder_shapes():
    """Input (B, T, F); the time axis may be fixed or None; keras rejects 2-D input."""
    model = many_to_one(F, H, time_steps=5)
    assert model.input_shape == (None, 5, F)
    with pytest.raises(ValueError, match=r"incompatible.*found shape=\(2, 3\)"):
        model(np.zeros((2, F), np.float32))
    assert stateful_model(B, F, H, time_steps=5).input_shape == (B, 5, F)


# ---------------------------------------------------------------- stateful


def test_stateful_chunks_match_numpy_and_reset_restores():
    """Chunks with carried state == lstm_ref.numpy on the whole stream; reset_states restores the first call."""
    model = stateful_model(B, F, H, output_size=None, num_layers=2, return_sequences=True)
    np_lstm = lnp.LSTM(F, H, num_layers=2, batch_first=True)
    np_lstm.load_state_dict(keras_state_dict(model))
    stream = np.random.default_rng(2).normal(size=(B, 12, F)).astype(np.float32)
    chunks = np.split(stream, [3, 7], axis=1)  # 3, 4 and 5 steps
    outs = run_chunks(model, chunks)
    np.testing.assert_allclose(np.concatenate(outs, axis=1), np_lstm(stream)[0], atol=ATOL)
    carried = run_chunks(model, chunks[:1], reset=False)[0]  # continues after step 12
    assert not np.allclose(carried, outs[0], atol=1e-3)
    assert len(reset_states(model)) == 2
    for layer in model.layers:
        for s in getattr(layer, "states", None) or []:
            assert not np.any(s.numpy())
    again = run_chunks(model, chunks[:1], reset=False)[0]
    np.testing.assert_allclose(again, outs[0], atol=1e-6)


def test_train_stateful_carries_state_in_order_and_resets_each_epoch():
    """With a zero learning rate, each epoch's loss equals the loss of one NumPy run over the ordered
    stream (state carried across batches), and both epochs agree (reset between them)."""
    T, K = 3, 4  # steps per batch, batches per epoch
    model = stateful_model(B, 1, H, output_size=None, time_steps=T)  # output: h after each batch, (B, H)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    rng = np.random.default_rng(3)
    stream = rng.normal(size=(B, K * T, 1)).astype(np.float32)
    x = np.concatenate([stream[:, k * T : (k + 1) * T] for k in range(K)])  # row k*B + b: stream b, chunk k
    y = rng.normal(size=(K * B, H)).astype(np.float32)
    np_lstm = lnp.LSTM(1, H, batch_first=True)
    np_lstm.load_state_dict(keras_state_dict(model))
    out = np_lstm(stream)[0]  # (B, K*T, H)
    per_batch = [np.mean((out[:, (k + 1) * T - 1] - y[k * B : (k + 1) * B]) ** 2) for k in range(K)]
    fresh = [
        np.mean((np_lstm(x[k * B : (k + 1) * B])[0][:, -1] - y[k * B : (k + 1) * B]) ** 2) for k in range(K)
    ]
    assert not np.isclose(np.mean(per_batch), np.mean(fresh), rtol=1e-3)  # carrying the state matters here
    seen = []
    history = train_stateful(
        model, x, y, epochs=2, progress=False, on_epoch=lambda e, loss: seen.append(_all_zero(model))
    )
    np.testing.assert_allclose(history, [np.mean(per_batch)] * 2, rtol=1e-5)
    assert seen == [True, True]  # states are zero after every epoch


def _all_zero(model):
    return all(not np.any(s.numpy()) for la in model.layers for s in (getattr(la, "states", None) or []))


def test_train_stateful_loss_falls_on_a_sine():
    """Next-step prediction of a sine with stateful_arrays from lstm_ref.data: the loss falls."""
    keras.utils.set_random_seed(0)
    series = np.sin(np.arange(300) * 0.2).astype(np.float32)
    x, y = data.stateful_arrays(series, batch_size=4, seq_len=10, targets=True)
    model = stateful_model(4, 1, 8, time_steps=10, return_sequences=True)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    history = train_stateful(model, x, y, epochs=8, progress=False)
    assert history[-1] < history[0] / 5


def test_stateful_errors():
    """Non-stateful or uncompiled models and bad shapes raise ValueError with the fix."""
    x, y = np.zeros((4, 3, 1), np.float32), np.zeros((4, 1), np.float32)
    model = stateful_model(B, 1, H, time_steps=3)
    with pytest.raises(ValueError, match="not compiled"):
        train_stateful(model, x, y, epochs=1, progress=False)
    model.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match="not stateful.*batch_shape"):
        train_stateful(many_to_one(1, H), x, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match="multiple of 2"):
        train_stateful(model, x[:3], y[:3], epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"the features axis \(axis 2\) is missing: .*use x\[\.\.\., None\]"):
        train_stateful(model, x[:, :, 0], y, epochs=1, progress=False)
    with pytest.raises(ValueError, match="y has 2 rows but x has 4"):
        train_stateful(model, x, y[:2], epochs=1, progress=False)
    with pytest.raises(
        ValueError, match=r"axis 0 \(streams\) is 3, expected 2; a stateful model takes exactly"
    ):
        run_chunks(model, [np.zeros((3, 3, 1))])


def test_import_build_and_train_write_nothing_to_stderr():
    """Importing lstm_ref.keras, building, calling, fitting and predicting print nothing on stderr."""
    code = (
        "import numpy as np\n"
        "from lstm_ref.keras import many_to_one, stateful_model, train_stateful, run_chunks\n"
        "m = many_to_one(3, 4, bidirectional=True)\n"
        "m(np.zeros((2, 5, 3), 'float32'))\n"
        "m.compile(optimizer='adam', loss='mse')\n"
        "m.fit(np.zeros((4, 5, 3)), np.zeros((4, 1)), epochs=1, verbose=0)\n"
        "m.predict(np.zeros((2, 5, 3)), verbose=0)\n"
        "s = stateful_model(2, 1, 3, time_steps=4)\n"
        "s.compile(optimizer='adam', loss='mse')\n"
        "train_stateful(s, np.zeros((4, 4, 1)), np.zeros((4, 1)), epochs=2)\n"
        "run_chunks(s, [np.zeros((2, 4, 1))])\n"
    )
    quiet_vars = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")  # set by our own import
    env = {k: v for k, v in os.environ.items() if k not in quiet_vars}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "epochs" in done.stdout  # the tqdm bar goes to stdout
