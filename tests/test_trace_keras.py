"""lstm_ref.trace on Keras 3 models.

Every traced shape is checked against what the real model returns (a probe model cut at that layer,
or the layers called by hand), never against the tracer's own arithmetic. Each classic shape
mistake is built for real and its diagnosis must name the failing layer and the wrong axis. The
model must come out of a trace unchanged, and the public fallbacks (no private Keras API) must give
the same rows as the graph walk.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from lstm_ref.keras import keras  # sets the TensorFlow backend and keeps it quiet
from lstm_ref.shapes import param_count
from lstm_ref.trace import Row, ShapeError, ShapeTrace, _keras, trace

L = keras.layers
B, T, F = 8, 12, 3


def arr(*shape, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def shapes(out) -> list[tuple]:
    return [tuple(int(d) for d in t.shape) for t in keras.tree.flatten(out)]


def row(tr: ShapeTrace, name: str) -> Row:
    return next(r for r in tr.rows if r.name == name)


def _inputs(model):
    return model.inputs[0] if len(model.inputs) == 1 else model.inputs


def assert_real(model, x, tr: ShapeTrace) -> None:
    """Each layer row's outputs are the shapes a probe model cut at that layer really returns."""
    checked = 0
    for r in tr.rows:
        if r.kind == "InputLayer" or "/" in r.name or "#" in r.name:
            continue
        try:
            layer = model.get_layer(r.name)
        except ValueError:  # a graph operation (GetItem), not a layer
            continue
        probe = keras.Model(_inputs(model), layer.output)
        assert [s.shape for s in r.outputs] == shapes(probe(x)), r.name
        checked += 1
    assert checked
    last = [s.shape for s in tr.rows[-1].outputs]
    assert last == shapes(model(x))[: len(last)]


def fingerprint(model) -> dict:
    """What a trace must leave as it found it."""
    layers = model._flatten_layers(include_self=True)
    return {
        "weights": [w.numpy() for w in model.weights],
        "states": [
            v.numpy() for la in layers if getattr(la, "states", None) for v in keras.tree.flatten(la.states)
        ],
        "attrs": [sorted(vars(la)) for la in layers],
        "built": [la.built for la in layers],
        "nodes": [len(la._inbound_nodes) for la in layers],
    }


def assert_same(before: dict, after: dict) -> None:
    assert before.keys() == after.keys()
    for key in ("attrs", "built", "nodes"):
        assert before[key] == after[key], key
    for key in ("weights", "states"):
        assert len(before[key]) == len(after[key]), key
        for a, b in zip(before[key], after[key], strict=True):
            np.testing.assert_array_equal(a, b)


def failing(model, x, **kw) -> ShapeError:
    with pytest.raises(ShapeError) as err:
        trace(model, x, **kw)
    e = err.value
    tr = e.trace
    assert tr.failed is tr.rows[-1] and tr.rows[-1].failed
    assert sum(r.failed for r in tr.rows) == 1
    assert e.__cause__ is not None and not isinstance(e.__cause__, ShapeError)
    assert tr.diagnosis.startswith(f"{tr.failed.name} ({tr.failed.kind}): ")
    assert tr.diagnosis in str(e)
    assert sys.gettrace() is None and sys.getprofile() is None
    return e


def functional(layers, shape=(T, F), **input_kw):
    inp = keras.Input(shape, **input_kw) if shape is not None else keras.Input(**input_kw)
    h = inp
    for la in layers:
        h = la(h)
    return keras.Model(inp, h)


def stacked():
    return [L.LSTM(16, return_sequences=True), L.LSTM(8), L.Dense(1)]


# ---------------------------------------------------------------------------------------------
# traced shapes are the real ones


def test_stacked_functional_rows_axes_params_and_real_shapes():
    model = functional(stacked())
    x = arr(B, T, F)
    tr = trace(model, x)
    assert isinstance(tr, ShapeTrace) and tr.framework == "Keras" and tr.diagnosis is None
    kinds = [r.kind for r in tr.rows]
    assert kinds == ["InputLayer", "LSTM", "LSTM", "Dense"]
    inp, lstm1, lstm2, dense = tr.rows
    assert inp.inputs[0].axes == inp.outputs[0].axes == ("batch", "time_steps", "features")
    assert str(lstm1.inputs[0]) == "x (batch=8, time_steps=12, features=3)"
    assert str(lstm1.outputs[0]) == "output (batch=8, time_steps=12, hidden=16)"
    assert lstm2.inputs[0].axes == ("batch", "time_steps", "hidden")
    assert str(lstm2.outputs[0]) == "output (batch=8, hidden=8)"
    assert lstm2.note == "time axis dropped: return_sequences=False"
    assert str(dense.outputs[0]) == "output (batch=8, units=1)"
    assert lstm1.params == param_count(F, 16, framework="keras") == model.get_layer(lstm1.name).count_params()
    assert lstm2.params == param_count(16, 8, framework="keras")
    assert dense.params == 9 and inp.params == 0
    assert_real(model, x, tr)
    text = str(tr)
    assert "(batch=8, time_steps=12, features=3)" in text and "time axis dropped" in text
    assert "1,152" in text or str(lstm1.params) in text.replace(",", "")
    html = tr._repr_html_()
    assert "<table>" in html and "time_steps=12" in html and "return_sequences=False" in html


def test_sequential_with_input_is_walked_like_functional():
    model = keras.Sequential([keras.Input((T, F)), *stacked()])
    x = arr(B, T, F)
    tr = trace(model, x)
    assert [r.kind for r in tr.rows] == ["InputLayer", "LSTM", "LSTM", "Dense"]
    assert_real(model, x, tr)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", None])
def test_bidirectional_stack_real_shapes(merge_mode):
    inp = keras.Input((T, F))
    seq = L.Bidirectional(L.LSTM(6, return_sequences=True), merge_mode=merge_mode)(inp)
    if merge_mode is None:
        seq = L.Concatenate()(seq)
    last = L.Bidirectional(L.LSTM(4))(seq)
    model = keras.Model(inp, L.Dense(2)(last))
    x = arr(B, T, F)
    tr = trace(model, x)
    assert_real(model, x, tr)
    first = next(r for r in tr.rows if r.kind == "Bidirectional")
    labels = [s.label for s in first.outputs]
    if merge_mode == "concat":
        assert str(first.outputs[0]) == "output (batch=8, time_steps=12, directions*hidden=12)"
        assert "forward and backward concatenated: 2 × 6" in first.note
    elif merge_mode == "sum":
        assert str(first.outputs[0]) == "output (batch=8, time_steps=12, hidden=6)"
    else:
        assert labels == ["output_forward", "output_backward"]
    second = [r for r in tr.rows if r.kind == "Bidirectional"][1]
    assert second.outputs[0].axes == ("batch", "directions*hidden")
    assert "time axis dropped: return_sequences=False" in second.note
    width = second.inputs[0].shape[-1]  # 2 × 6 concatenated, 6 summed
    assert width == (6 if merge_mode == "sum" else 12)
    assert second.params == param_count(width, 4, framework="keras", bidirectional=True)


def test_return_sequences_return_state_and_time_distributed():
    inp = keras.Input((T, F))
    seq, h, c = L.LSTM(5, return_sequences=True, return_state=True)(inp)
    y = L.TimeDistributed(L.Dense(2))(seq)
    model = keras.Model(inp, [y, h, c])
    x = arr(B, T, F)
    tr = trace(model, x)
    lstm = next(r for r in tr.rows if r.kind == "LSTM")
    assert [str(s) for s in lstm.outputs] == [
        "output (batch=8, time_steps=12, hidden=5)",
        "h (batch=8, hidden=5)",
        "c (batch=8, hidden=5)",
    ]
    assert "return_state=True" in lstm.note and "time axis dropped" not in lstm.note
    td = next(r for r in tr.rows if r.kind == "TimeDistributed")
    assert str(td.outputs[0]) == "output (batch=8, time_steps=12, units=2)"
    assert td.note == "Dense applied at every time step"
    assert_real(model, x, tr)
    assert shapes(model(x)) == [(B, T, 2), (B, 5), (B, 5)]


def test_masking_rows_notes_and_real_shapes():
    x = arr(B, T, 1)
    x[:, :4] = 0.0  # padded at the front
    model = keras.Sequential(
        [keras.Input((T, 1)), L.Masking(0.0), L.LSTM(4, return_sequences=True), L.TimeDistributed(L.Dense(1))]
    )
    tr = trace(model, x)
    assert [r.kind for r in tr.rows] == ["InputLayer", "Masking", "LSTM", "TimeDistributed"]  # no mask ops
    masking, lstm = tr.rows[1], tr.rows[2]
    assert masking.outputs[0].axes == ("batch", "time_steps", "features")
    assert "padding" in masking.note and "0.0" in masking.note
    assert f"mask from {masking.name}: padded steps skipped" in lstm.note
    assert_real(model, x, tr)


def test_sequential_without_input_is_walked_layer_by_layer_and_left_unbuilt():
    model = keras.Sequential([L.LSTM(6, return_sequences=True), L.Dense(1)])
    x = arr(B, T, F)
    tr = trace(model, x)
    assert [r.kind for r in tr.rows] == ["LSTM", "Dense"]
    assert not model.built and len(model._layers) == 2  # no InputLayer fixed to x.shape
    dense = tr.rows[1]
    assert str(dense.outputs[0]) == "output (batch=8, time_steps=12, units=1)"
    assert dense.note == "Dense applied at every time step (input has a time axis)"
    h, real = x, []
    for la in model.layers:
        h = la(h)
        real.append(shapes(h))
    assert [[s.shape for s in r.outputs] for r in tr.rows] == real
    assert [s.shape for s in tr.rows[-1].outputs] == shapes(model(x))


def test_keras_adds_the_missing_last_axis_of_size_one():
    model = functional([L.LSTM(4), L.Dense(1)], shape=(T, 1))
    x = arr(B, T)
    tr = trace(model, x)
    inp = tr.rows[0]
    assert str(inp.inputs[0]) == "x (batch=8, time_steps=12)"
    assert str(inp.outputs[0]) == "x (batch=8, time_steps=12, features=1)"
    assert "Keras added the last axis of size 1" in inp.note
    assert_real(model, x, tr)


class Reshaper(keras.Model):
    """A subclassed model whose own ``call`` reshapes (B, T*F) into (B, T, F)."""

    def __init__(self):
        super().__init__()
        self.lstm = L.LSTM(7)
        self.head = L.Dense(1)

    def call(self, x):
        return self.head(self.lstm(keras.ops.reshape(x, (-1, T, F))))


def test_custom_call_that_reshapes_is_traced_layer_by_layer():
    model = Reshaper()
    x = arr(B, T * F)
    tr = trace(model, x)
    assert [(r.name, r.kind) for r in tr.rows] == [(model.lstm.name, "LSTM"), (model.head.name, "Dense")]
    lstm, head = tr.rows
    assert str(lstm.inputs[0]) == "x (batch=8, time_steps=12, features=3)"
    real_h = model.lstm(keras.ops.reshape(x, (-1, T, F)))
    assert [s.shape for s in lstm.outputs] == shapes(real_h)
    assert [s.shape for s in head.outputs] == shapes(model.head(real_h)) == shapes(model(x))
    assert lstm.params == model.lstm.count_params()


def test_reshape_layer_in_a_functional_model():
    model = functional([L.Reshape((T, F)), L.LSTM(4), L.Dense(1)], shape=(T * F,))
    x = arr(B, T * F)
    tr = trace(model, x)
    assert str(tr.rows[1].outputs[0]) == "output (batch=8, time_steps=12, features=3)"
    assert_real(model, x, tr)


def test_nested_model_rows_are_prefixed():
    encoder = keras.Sequential(
        [keras.Input((T, F)), L.LSTM(8, return_sequences=True), L.LSTM(4)], name="encoder"
    )
    inp = keras.Input((T, F))
    model = keras.Model(inp, L.Dense(1)(encoder(inp)))
    x = arr(B, T, F)
    tr = trace(model, x)
    names = [r.name for r in tr.rows]
    assert [n.split("/")[0] for n in names[1:4]] == ["encoder"] * 3
    inner = [r for r in tr.rows if r.name.startswith("encoder/") and r.kind == "LSTM"]
    probe = keras.Model(_inputs(encoder), encoder.layers[0].output)
    assert [s.shape for s in inner[0].outputs] == shapes(probe(x))
    assert [s.shape for s in inner[1].outputs] == shapes(encoder(x))
    assert [s.shape for s in tr.rows[-1].outputs] == shapes(model(x))


def test_initial_state_inputs_are_named_and_real():
    xi, h0, c0 = keras.Input((T, F), name="x"), keras.Input((5,), name="h0"), keras.Input((5,), name="c0")
    model = keras.Model([xi, h0, c0], L.LSTM(5)(xi, initial_state=[h0, c0]))
    xs = [arr(B, T, F), arr(B, 5), arr(B, 5)]
    for given in (xs, (xs[0], (xs[1], xs[2]))):
        tr = trace(model, given)
        assert [r.name for r in tr.rows[:3]] == ["x", "h0", "c0"]
        assert tr.rows[1].outputs[0].axes == ("batch", "hidden")
        lstm = tr.rows[3]
        assert [s.label for s in lstm.inputs] == ["x", "h0", "c0"]
        assert [s.shape for s in lstm.outputs] == shapes(model(xs))


def test_bare_layer_is_one_row():
    layer = L.LSTM(4, return_state=True)
    x = arr(B, T, F)
    tr = trace(layer, x)
    assert len(tr.rows) == 1
    assert [s.label for s in tr.rows[0].outputs] == ["output", "h", "c"]
    assert [s.shape for s in tr.rows[0].outputs] == shapes(layer(x))
    tr = trace(L.GRU(3), [x, arr(B, 3)])
    assert [str(s) for s in tr.rows[0].inputs] == [
        "x (batch=8, time_steps=12, features=3)",
        "h0 (batch=8, hidden=3)",
    ]


def test_shared_layer_gets_one_row_per_call():
    shared = L.Dense(4)
    inp = keras.Input((F,))
    model = keras.Model(inp, shared(shared(L.Dense(4)(inp))))
    tr = trace(model, arr(B, F))
    names = [r.name for r in tr.rows]
    assert names[-2:] == [shared.name, f"{shared.name}#2"]


def test_layout_names_the_axes_of_x():
    model = functional([L.LSTM(4)])
    x = arr(B, T, F)
    default = trace(model, x)
    given = trace(model, x, layout=("batch", "time_steps", "features"))
    assert [r.outputs for r in default.rows] == [r.outputs for r in given.rows]
    tbf = trace(model, x, layout=("time_steps", "batch", "features"))
    assert tbf.rows[0].inputs[0].axes == ("time_steps", "batch", "features")
    assert "transpose it" in tbf.rows[1].note
    with pytest.raises(ValueError, match="layout") as err:
        trace(model, x, layout=("batch", "features"))
    assert not isinstance(err.value, ShapeError)


def test_getitem_after_bidirectional_sequence_is_noted():
    inp = keras.Input((T, F))
    seq = L.Bidirectional(L.LSTM(4, return_sequences=True))(inp)
    model = keras.Model(inp, L.Dense(1)(seq[:, -1]))
    x = arr(B, T, F)
    tr = trace(model, x)
    get = next(r for r in tr.rows if r.kind == "GetItem")
    assert get.outputs[0].axes == ("batch", "directions*hidden")
    assert "time axis dropped" in get.note and "return_sequences=False" in get.note
    assert_real(model, x, tr)


# ---------------------------------------------------------------------------------------------
# the classic mistakes: the failing layer and the wrong axis are named


def test_mistake_2d_windows_into_sequential_lstm():
    """(samples, time_steps) with no feature axis, into an LSTM that has never seen data."""
    model = keras.Sequential([L.LSTM(4), L.Dense(1)])
    e = failing(model, arr(B, T))
    assert e.trace.failed.kind == "LSTM"
    d = e.trace.diagnosis
    assert "the time_steps axis (axis 1) is missing" in d
    # the window reading first (look_back time steps of one feature); the one-step reshape is flagged
    lead = "if the 12 columns are a window of 12 time steps of one feature, use x[..., None] = x.reshape(8, 12, 1)"
    assert lead in d and d.index(lead) < d.index("x.reshape(8, 1, 12) would be ONE time step of 12 features")
    assert "ndim=3" in str(e.__cause__)
    assert not model.built
    assert model(arr(B, T)[..., None]).shape == (B, 1)  # the fix runs


def test_mistake_2d_batch_features_into_functional():
    """(batch, features) where (batch, time_steps, features) is expected: refused at the Input."""
    model = functional([L.LSTM(4)], shape=(None, F))
    e = failing(model, arr(B, F))
    assert e.trace.failed.kind == "InputLayer" and e.trace.failed.name == model.layers[0].name
    assert "the time_steps axis (axis 1) is missing" in e.trace.diagnosis


def test_mistake_2d_into_multifeature_input():
    model = functional([L.LSTM(4)])
    e = failing(model, arr(B, T))
    assert e.trace.failed.kind == "InputLayer"
    assert "the features axis (axis 2) is missing" in e.trace.diagnosis


def test_mistake_time_and_features_swapped_functional():
    """X.reshape(n, 1, look_back) instead of (n, look_back, 1)."""
    model = functional([L.LSTM(4), L.Dense(1)], shape=(T, 1))
    e = failing(model, arr(B, 1, T))
    assert e.trace.failed.kind == "InputLayer"
    d = e.trace.diagnosis
    assert "wrong order" in d and "X.reshape(n, 1, look_back)" in d and "x.transpose(0, 2, 1)" in d
    assert "expected shape=(None, 12, 1), found shape=(8, 1, 12)" in str(e.__cause__)


def test_mistake_time_and_features_swapped_in_built_sequential_fails_in_the_lstm():
    model = keras.Sequential([keras.Input((T, 1)), L.LSTM(4), L.Dense(1)])
    e = failing(model, arr(B, 1, T))
    assert e.trace.failed.kind == "LSTM"
    assert "wrong order" in e.trace.diagnosis and "transpose(0, 2, 1)" in e.trace.diagnosis


def test_mistake_time_and_features_swapped_silently_is_noted():
    model = keras.Sequential([L.LSTM(4), L.Dense(1)])
    tr = trace(model, arr(B, 1, T))
    assert tr.rows[0].note.startswith("time_steps=1: one step of 12 features")
    assert "X.reshape(n, 12, 1)" in tr.rows[0].note


def test_mistake_stacked_lstm_without_return_sequences():
    model = keras.Sequential([L.LSTM(8), L.LSTM(4), L.Dense(1)])
    e = failing(model, arr(B, T, F))
    first, second = e.trace.rows
    assert second.failed and second.kind == "LSTM" and not first.failed
    d = e.trace.diagnosis
    assert d.startswith(f"{second.name} (LSTM): ")
    assert "the time_steps axis (axis 1) is missing" in d
    assert f"'{first.name}' below returns only its last step" in d and "return_sequences=True" in d


def test_mistake_stacked_lstm_in_a_subclassed_model():
    class Two(keras.Model):
        def __init__(self):
            super().__init__()
            self.a, self.b = L.LSTM(8), L.LSTM(4)

        def call(self, x):
            return self.b(self.a(x))

    model = Two()
    e = failing(model, arr(B, T, F))
    assert e.trace.failed.name == model.b.name
    assert "return_sequences=True" in e.trace.diagnosis and model.a.name in e.trace.diagnosis


def test_mistake_dense_after_sequence_output_keeps_the_time_axis():
    model = functional([L.LSTM(8, return_sequences=True), L.Dense(1)])
    x = arr(B, T, F)
    tr = trace(model, x)
    dense = tr.rows[-1]
    assert dense.note == "Dense applied at every time step (input has a time axis)"
    assert str(dense.outputs[0]) == "output (batch=8, time_steps=12, units=1)"
    assert shapes(model(x)) == [(B, T, 1)]


def test_mistake_vector_into_lstm_names_repeat_vector():
    model = keras.Sequential([L.LSTM(8), L.Dense(4), L.LSTM(2)])
    e = failing(model, arr(B, T, F))
    assert e.trace.failed.kind == "LSTM" and "RepeatVector" in e.trace.diagnosis


def test_mistake_wrong_number_of_features_functional():
    model = functional([L.LSTM(4)])
    e = failing(model, arr(B, T, 5))
    assert e.trace.failed.kind == "InputLayer"
    assert "axis 2 (features) is 5, expected 3" in e.trace.diagnosis
    assert "built for 3 features per time step" in e.trace.diagnosis


def test_mistake_wrong_number_of_features_sequential_fails_in_the_lstm():
    model = keras.Sequential([keras.Input((T, F)), L.LSTM(4), L.Dense(1)])
    e = failing(model, arr(B, T, 5))
    lstm = e.trace.failed
    assert lstm.kind == "LSTM" and lstm.params == param_count(F, 4, framework="keras")
    d = e.trace.diagnosis
    assert "axis 2 (features) is 5, expected 3" in d and "built for 3 features per time step" in d


def test_mistake_time_and_features_flattened():
    for model in (functional([L.LSTM(4)]), keras.Sequential([keras.Input((T, F)), L.LSTM(4)])):
        e = failing(model, arr(B, T * F))
        assert e.trace.failed.kind == "InputLayer"
        d = e.trace.diagnosis
        assert "time_steps and features are flattened into one axis of 36 = 12 × 3" in d
        assert "x.reshape(8, 12, 3)" in d


def test_mistake_other_number_of_time_steps():
    model = functional([L.LSTM(4)])
    e = failing(model, arr(B, 20, F))
    d = e.trace.diagnosis
    assert e.trace.failed.kind == "InputLayer"
    assert "axis 1 (time_steps) is 20, expected 12" in d and "keras.Input(shape=(None, 3))" in d
    seq = keras.Sequential([keras.Input((T, F)), L.LSTM(4)])  # Sequential runs it anyway
    tr = trace(seq, arr(B, 20, F))
    assert "keras.Input declared otherwise (time_steps=20, not 12)" in tr.rows[0].note


def test_mistake_stateful_model_fed_another_batch_size():
    model = keras.Sequential([keras.Input(batch_shape=(B, T, 1)), L.LSTM(4, stateful=True), L.Dense(1)])
    assert "batches of exactly 8" in trace(model, arr(B, T, 1)).rows[1].note
    e = failing(model, arr(3, T, 1))
    assert e.trace.failed.kind == "LSTM"
    d = e.trace.diagnosis
    assert "axis 0 (batch) is 3, expected 8" in d and "stateful LSTM" in d and "batch_size=8" in d


def test_mistake_state_of_the_wrong_shape():
    e = failing(L.LSTM(4), [arr(B, T, F), arr(4, B), arr(4, B)])
    d = e.trace.diagnosis
    assert d.startswith(e.trace.failed.name + " (LSTM): h0: ") and "wrong order" in d
    xi, h0, c0 = keras.Input((T, F)), keras.Input((5,), name="h0"), keras.Input((5,), name="c0")
    model = keras.Model([xi, h0, c0], L.LSTM(5)(xi, initial_state=[h0, c0]))
    e = failing(model, [arr(B, T, F), arr(B, 6), arr(B, 5)])
    assert e.trace.failed.name == "h0"
    assert (
        "h0: expected (batch, hidden) = (?, 5)" in e.trace.diagnosis
        and "axis 1 (hidden) is 6" in e.trace.diagnosis
    )


def test_mistake_dense_built_for_another_width():
    dense = L.Dense(2)
    dense.build((None, 3))
    e = failing(dense, arr(B, 5))
    assert "axis 1 (features) is 5, expected 3" in e.trace.diagnosis


# ---------------------------------------------------------------------------------------------
# the model is not changed; the fallbacks give the same rows


def _stateful():
    return keras.Sequential([keras.Input(batch_shape=(B, T, F)), L.LSTM(4, stateful=True), L.Dense(1)])


def _broken_sequential():
    model = keras.Sequential([L.LSTM(8), L.LSTM(4)])
    model.layers[0](arr(B, T, F))  # the first layer built; the second fails before it builds
    return model


def _warm(model):
    model(arr(B, T, F))  # built, and a stateful state that is not zero
    return model


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda: _warm(functional(stacked())), arr(B, T, F)),
        (lambda: _warm(functional(stacked())), arr(B, T * F)),  # fails at the Input
        (lambda: _warm(keras.Sequential([keras.Input((T, F)), *stacked()])), arr(B, T, F)),
        (_broken_sequential, arr(B, T, F)),  # fails in the second LSTM
        (lambda: _warm(_stateful()), arr(B, T, F)),
        (lambda: _warm(_stateful()), arr(2, T, F)),  # fails in the LSTM
        (lambda: (lambda m: (m(arr(B, T * F)), m)[1])(Reshaper()), arr(B, T * F)),
    ],
)
def test_the_model_is_not_changed(make, x):
    model = make()
    before = fingerprint(model)
    built = model.built
    try:
        trace(model, x)
    except ShapeError:
        pass
    assert_same(before, fingerprint(model))
    assert model.built == built
    assert sys.gettrace() is None and sys.getprofile() is None


def _same_rows(a: ShapeTrace, b: ShapeTrace) -> None:
    assert [(r.name, r.kind, r.inputs, r.outputs, r.params, r.note, r.failed) for r in a.rows] == [
        (r.name, r.kind, r.inputs, r.outputs, r.params, r.note, r.failed) for r in b.rows
    ]
    assert a.diagnosis == b.diagnosis


@pytest.mark.parametrize(
    "make, x",
    [
        (lambda: functional(stacked()), arr(B, T, F)),
        (
            lambda: functional(
                [L.Bidirectional(L.LSTM(4, return_sequences=True)), L.TimeDistributed(L.Dense(1))]
            ),
            arr(B, T, F),
        ),
        (lambda: keras.Sequential([keras.Input((T, 1)), L.Masking(), L.LSTM(4)]), arr(B, T, 1)),
        (lambda: keras.Sequential([keras.Input((T, 1)), L.LSTM(4)]), arr(B, T)),
        (lambda: functional(stacked()), arr(B, T * F)),  # fails at the Input
        (lambda: keras.Sequential([keras.Input((T, F)), L.LSTM(4)]), arr(B, T, 5)),  # fails in the LSTM
        (_stateful, arr(2, T, F)),  # fails in the LSTM
    ],
)
def test_public_fallbacks_give_the_graph_walks_rows(make, x, monkeypatch):
    model = make()
    model(arr(*((B, T, 1) if model.inputs[0].shape[-1] == 1 else (B, T, F))))

    def run():
        try:
            return trace(model, x)
        except ShapeError as e:
            return e.trace

    graph = run()
    read = []  # a Keras whose graph (the private _nodes_by_depth) the tracer cannot read
    monkeypatch.setattr(_keras, "_input_uses", lambda model, refs: read.append(model) or {})
    _same_rows(graph, run())
    assert read  # the model's inputs were named without the graph


def test_observed_path_under_a_debugger_uses_setprofile():
    """With a trace function already set (a debugger, coverage) the observer falls back to setprofile."""
    model = Reshaper()
    x = arr(B, T * F)
    plain = trace(model, x)
    seen = []

    def tracer(frame, event, arg):
        seen.append(event)
        return None

    sys.settrace(tracer)
    try:
        watched = trace(model, x)
    finally:
        sys.settrace(None)
    assert seen and [r.outputs for r in watched.rows] == [r.outputs for r in plain.rows]
