"""Keras 3 side of ``lstm_ref``: the book's models and stateful training, the Keras 3 way.

- ``many_to_one`` / ``many_to_many``: ``keras.Input(shape=(T, F))`` -> LSTM(s) -> ``Dense``
  (many-to-many: ``TimeDistributed(Dense)``), stacked with ``num_layers``, bidirectional
  with ``bidirectional=True``;
- ``stateful_model``: ``keras.Input(batch_shape=(B, T, F))`` and ``LSTM(..., stateful=True)``
  (Keras 3 has no ``batch_input_shape``);
- ``reset_states``: resets every stateful layer (Keras 3 has no ``Model.reset_states``);
- ``train_stateful``: one ``fit(..., epochs=1, shuffle=False)`` per epoch, then a reset;
- ``run_chunks``: predicts consecutive chunks, the stateful layers carrying ``(h, c)``.

Keras input is always ``(B, T, F)``; an LSTM returns ``(B, H)``, or ``(B, T, H)`` with
``return_sequences=True``. Importing this module selects the TensorFlow backend (unless
``KERAS_BACKEND`` is set) and keeps TensorFlow quiet, so nothing is written to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

# Before keras loads TensorFlow. TF_CPP_MIN_LOG_LEVEL=3 drops TensorFlow's C++ log lines, but the
# "oneDNN custom operations are on" notice comes through absl before logging is set up, so only
# TF_ENABLE_ONEDNN_OPTS=0 silences it. Any stderr output makes an nbgrader test cell score 0.
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from lstm_ref import _checks  # noqa: E402
from lstm_ref.i18n import _  # noqa: E402

__all__ = ["many_to_many", "many_to_one", "reset_states", "run_chunks", "stateful_model", "train_stateful"]

# a stateful model's batch rows are parallel streams: row b of every chunk continues row b of the last
STREAMS = ("streams", "time_steps", "features")


def _stack(inputs, units: int, num_layers: int, bidirectional: bool, last_sequences: bool):
    """``num_layers`` LSTMs; all but the last return sequences (B, T, D*H) for the next one."""
    x = inputs
    for k in range(num_layers):
        layer = keras.layers.LSTM(units, return_sequences=last_sequences or k < num_layers - 1)
        if bidirectional:
            layer = keras.layers.Bidirectional(layer)  # merge_mode="concat": (..., 2H)
        x = layer(x)
    return x


def many_to_one(
    features: int,
    units: int,
    output_size: int = 1,
    *,
    time_steps: int | None = None,
    num_layers: int = 1,
    bidirectional: bool = False,
) -> keras.Model:
    """Many-to-one regressor: (B, T, F) -> LSTM(s) -> Dense -> (B, output_size).

    - features: F; units: H; time_steps: T, or None for any length
    - num_layers > 1 stacks LSTMs (all but the last with ``return_sequences=True``)
    - bidirectional=True wraps each in ``Bidirectional``; its last layer returns
      ``concat(forward state after step T-1, backward state after step 0)``, (B, 2H)

    >>> model = many_to_one(features=3, units=8, num_layers=2)
    >>> model.output_shape
    (None, 1)
    """
    return _regressor(features, units, output_size, False, time_steps, num_layers, bidirectional)


def many_to_many(features: int, units: int, output_size: int = 1, **options) -> keras.Model:
    """Many-to-many model: (B, T, F) -> LSTM(s) -> ``TimeDistributed(Dense)`` -> (B, T, output_size).

    - features: F; units: H; ``options``: ``time_steps``, ``num_layers`` and ``bidirectional``,
      as for :func:`many_to_one`
    - every LSTM has ``return_sequences=True``, so the Dense sees (B, T, D*H)

    >>> model = many_to_many(features=1, units=6, output_size=2, bidirectional=True)
    >>> model.output_shape
    (None, None, 2)
    """
    return _regressor(features, units, output_size, True, **options)


def _regressor(features, units, output_size, per_step, time_steps=None, num_layers=1, bidirectional=False):
    """(B, T, F) -> LSTM(s) -> Dense: on the last state (B, output_size), or on every step (B, T, output_size)."""
    inputs = keras.Input(shape=(time_steps, features))  # (B, T, F)
    x = _stack(inputs, units, num_layers, bidirectional, last_sequences=per_step)  # (B, [T,] D*H)
    if per_step:
        outputs = keras.layers.TimeDistributed(keras.layers.Dense(output_size))(x)  # (B, T, output_size)
        return keras.Model(inputs, outputs, name="many_to_many")
    return keras.Model(inputs, keras.layers.Dense(output_size)(x), name="many_to_one")  # (B, output_size)


def stateful_model(
    batch_size: int,
    features: int,
    units: int,
    output_size: int | None = 1,
    *,
    time_steps: int | None = None,
    num_layers: int = 1,
    return_sequences: bool = False,
) -> keras.Model:
    """A stateful LSTM model, Keras 3 style: ``keras.Input(batch_shape=(B, T, F))``.

    - batch_size: B, fixed: row b of each batch continues row b of the previous batch
    - features: F; units: H; time_steps: T or None
    - output_size: size of the Dense head, or None for the bare LSTM output
    - return_sequences: output (B, T, ...) instead of (B, ...)

    The LSTMs keep their final ``(h, c)`` as the next call's initial state until
    ``reset_states(model)``.

    >>> model = stateful_model(batch_size=2, features=1, units=4, output_size=None, time_steps=3)
    >>> model.output_shape
    (2, 4)
    """
    inputs = keras.Input(batch_shape=(batch_size, time_steps, features))  # (B, T, F)
    x = inputs
    for k in range(num_layers):
        seq = return_sequences or k < num_layers - 1
        x = keras.layers.LSTM(units, stateful=True, return_sequences=seq)(x)  # (B, T, H) or (B, H)
    if output_size is not None:
        dense = keras.layers.Dense(output_size)
        x = keras.layers.TimeDistributed(dense)(x) if return_sequences else dense(x)
    return keras.Model(inputs, x, name="stateful_lstm")


def _all_layers(model) -> Iterable:
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def reset_states(model: keras.Model) -> list[str]:
    """Reset every stateful recurrent layer of ``model`` to zeros; return their names.

    Keras 3 removed ``Model.reset_states()``; each layer has ``reset_state()``.

    >>> reset_states(stateful_model(2, 1, 4, time_steps=3))
    ['lstm...']
    """
    names = []
    for layer in _all_layers(model):
        if getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
            layer.reset_state()
            names.append(layer.name)
    return names


def _batch_size(model: keras.Model) -> int:
    b = model.inputs[0].shape[0]
    if b is None or not any(getattr(la, "stateful", False) for la in _all_layers(model)):
        msg = _(
            "the model is not stateful: build it with keras.Input(batch_shape=(B, T, F)) and "
            "LSTM(..., stateful=True), e.g. lstm_ref.keras.stateful_model(...)"
        )
        raise ValueError(msg)
    return int(b)


def train_stateful(
    model: keras.Model,
    x,
    y,
    *,
    epochs: int = 10,
    progress: bool = True,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Train a compiled stateful model: per epoch, ``fit(..., epochs=1, shuffle=False)`` then reset.

    - x: (N, T, F) with N a multiple of the model's batch size B; rows are ordered so that
      row b of batch k+1 continues row b of batch k (``lstm_ref.data.stateful_batches``)
    - y: (N, ...) targets shaped like the model's output

    Within an epoch the state flows from batch to batch; ``reset_states`` runs after every
    epoch, so each epoch starts from zeros. Returns the loss of each epoch.
    ``on_epoch(epoch, loss)`` is called after each reset.

    >>> model = stateful_model(2, 1, 4, time_steps=3)
    >>> model.compile(optimizer="adam", loss="mse")
    >>> len(train_stateful(model, np.zeros((4, 3, 1)), np.zeros((4, 1)), epochs=2, progress=False))
    2
    """
    B = _batch_size(model)
    if not getattr(model, "compiled", False):
        raise ValueError(
            _('the model is not compiled: call model.compile(optimizer="adam", loss="mse") first')
        )
    x = _checks.as_float_array(x, "x").astype(np.float32)
    y = _checks.as_float_array(y, "y").astype(np.float32)
    _checks.check_sequence(x.shape, int(model.inputs[0].shape[-1]), batch_first=True)
    if len(x) % B or len(x) == 0:
        msg = _(
            "x has {n} rows but the stateful model has batch size {b}: every batch must be full, "
            "so use a multiple of {b} rows (drop {drop} or pad)"
        )
        raise ValueError(msg.format(n=len(x), b=B, drop=len(x) % B))
    if len(y) != len(x):
        raise ValueError(_("y has {n} rows but x has {m}; they must match").format(n=len(y), m=len(x)))
    reset_states(model)
    history = []
    bar = tqdm(range(epochs), desc=_("epochs"), disable=not progress, file=sys.stdout)
    for epoch in bar:
        fit = model.fit(x, y, batch_size=B, epochs=1, shuffle=False, verbose=0)  # state carried
        reset_states(model)  # each epoch starts from zeros
        history.append(float(fit.history["loss"][-1]))
        bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
        if on_epoch is not None:
            on_epoch(epoch, history[-1])
    return history


def run_chunks(model: keras.Model, chunks: Iterable, *, reset: bool = True) -> list[np.ndarray]:
    """Predict consecutive chunks of a stream with a stateful model, carrying ``(h, c)``.

    - chunks: arrays (B, t_k, F), B = the model's batch size
    - reset: reset the states first (otherwise continue from the last call)

    Returns one output per chunk; with ``return_sequences=True``,
    ``np.concatenate(outputs, axis=1)`` equals one run over the whole stream.

    >>> model = stateful_model(1, 1, 3, output_size=None, return_sequences=True)
    >>> [o.shape for o in run_chunks(model, [np.zeros((1, 2, 1)), np.zeros((1, 4, 1))])]
    [(1, 2, 3), (1, 4, 3)]
    """
    B = _batch_size(model)
    F = int(model.inputs[0].shape[-1])
    if reset:
        reset_states(model)
    outputs = []
    for chunk in chunks:
        chunk = _checks.as_float_array(chunk, "chunk").astype(np.float32)
        hint = _("a stateful model takes exactly its batch_size streams in every chunk")
        _checks.check_shape(chunk.shape, STREAMS, {"streams": B, "features": F}, "chunk", hint)
        outputs.append(np.asarray(model(chunk, training=False)))
    return outputs
