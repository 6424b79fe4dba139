"""lstm_ref.shapes against the real frameworks: parameter counts and shapes of
``torch.nn.LSTM`` and ``keras.layers.LSTM``, and diagnose() whose suggested fixes
must really produce the expected shape."""

import itertools
import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from lstm_ref import shapes  # noqa: E402

# ---------------------------------------------------------------- parameter counts


def _torch_lstm(f, h, layers, bidir, bias=True, proj=0):
    return torch.nn.LSTM(f, h, num_layers=layers, bidirectional=bidir, bias=bias, proj_size=proj)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_param_count_torch(layers, bidir, bias):
    for f, h in itertools.product([1, 3, 7], [1, 4, 16]):
        lstm = _torch_lstm(f, h, layers, bidir, bias)
        want = sum(p.numel() for p in lstm.parameters())
        got = shapes.param_count(f, h, framework="torch", num_layers=layers, bidirectional=bidir, bias=bias)
        assert got == want, (f, h, layers, bidir, bias)


# (F, H, P): P = 1 and P = H - 1 are the extremes torch accepts; F < P, F = P and F > P all occur
PROJ_SIZES = [(1, 2, 1), (5, 6, 2), (2, 7, 6), (4, 4, 1), (3, 16, 3)]


@pytest.mark.parametrize("f,h,proj", PROJ_SIZES)
@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("bias", [True, False])
# PyTorch's one-time CPU notice for proj_size; it falls back to its default implementation
@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN:UserWarning")
def test_param_count_torch_proj(f, h, proj, layers, bidir, bias):
    """param_count(proj_size=P) equals what torch.nn.LSTM(..., proj_size=P) really holds."""
    lstm = _torch_lstm(f, h, layers, bidir, bias, proj)
    want = sum(p.numel() for p in lstm.parameters())
    got = shapes.param_count(
        f, h, framework="torch", num_layers=layers, bidirectional=bidir, bias=bias, proj_size=proj
    )
    assert got == want, (f, h, proj, layers, bidir, bias)
    # the docstring's formula, per layer and direction: 4H(F_k + P) + 8H + PH, with F_k = D*P for k > 0
    d = 2 if bidir else 1
    first = 4 * h * (f + proj) + (8 * h if bias else 0) + proj * h
    later = 4 * h * (d * proj + proj) + (8 * h if bias else 0) + proj * h
    assert got == d * (first + (layers - 1) * later)


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN:UserWarning")
def test_proj_size_shapes_in_torch():
    """With proj_size=P: h is P wide, c stays H wide; weight_hr (P, H); layer 1 reads D*P inputs."""
    f, h, p, b, t = 3, 5, 2, 4, 6
    lstm = torch.nn.LSTM(f, h, num_layers=2, bidirectional=True, proj_size=p, batch_first=True)
    sd = {k: tuple(v.shape) for k, v in lstm.state_dict().items()}
    assert sd["weight_hr_l0"] == (p, h) and sd["weight_hh_l0"] == (4 * h, p)
    assert sd["weight_ih_l1"] == (4 * h, 2 * p)
    with torch.no_grad():
        out, (h_n, c_n) = lstm(torch.zeros(b, t, f))
    assert tuple(out.shape) == (b, t, 2 * p)
    assert tuple(h_n.shape) == (4, b, p) and tuple(c_n.shape) == (4, b, h)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(4, 4, 2\), got \[4, 4, 5\]"):
        lstm(torch.zeros(b, t, f), (torch.zeros(4, b, h), torch.zeros(4, b, h)))


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_torch_param_shapes_match_state_dict(layers, bidir, bias):
    for f, h, proj in [(3, 5, 0), (1, 4, 2)]:
        lstm = _torch_lstm(f, h, layers, bidir, bias, proj)
        want = [(k, tuple(v.shape)) for k, v in lstm.state_dict().items()]
        got = shapes.torch_param_shapes(
            f, h, num_layers=layers, bidirectional=bidir, bias=bias, proj_size=proj
        )
        assert list(got.items()) == want  # same names, shapes and order


def _keras_stack(f, h, layers, bidir, use_bias=True):
    inputs = keras.Input(shape=(None, f))
    x = inputs
    for k in range(layers):
        layer = keras.layers.LSTM(h, return_sequences=k < layers - 1, use_bias=use_bias)
        x = keras.layers.Bidirectional(layer)(x) if bidir else layer(x)
    return keras.Model(inputs, x)


@pytest.mark.parametrize("layers", [1, 2, 3])
@pytest.mark.parametrize("bidir", [False, True])
def test_param_count_keras(layers, bidir):
    for f, h in [(1, 2), (5, 8)]:
        model = _keras_stack(f, h, layers, bidir)
        got = shapes.param_count(f, h, framework="keras", num_layers=layers, bidirectional=bidir)
        assert got == model.count_params(), (f, h, layers, bidir)


def test_param_count_keras_no_bias():
    model = _keras_stack(3, 4, 2, True, use_bias=False)
    got = shapes.param_count(3, 4, framework="keras", num_layers=2, bidirectional=True, bias=False)
    assert got == model.count_params()


@pytest.mark.parametrize("bidir", [False, True])
@pytest.mark.parametrize("use_bias", [True, False])
def test_keras_weight_shapes(bidir, use_bias):
    layer = keras.layers.LSTM(5, use_bias=use_bias)
    if bidir:
        layer = keras.layers.Bidirectional(layer)
    layer(np.zeros((2, 4, 3), dtype="float32"))
    want = [w.shape for w in layer.get_weights()]
    got = shapes.keras_weight_shapes(3, 5, bidirectional=bidir, use_bias=use_bias)
    assert list(got.values()) == want
    # the names say which weight is which
    names = [w.path for w in layer.weights]
    for key, path in zip(got, names, strict=True):
        assert path.endswith(key.split("_", 1)[-1] if bidir else key), (key, path)
        if bidir:
            assert key.split("_")[0] in path


def test_param_count_independent_of_time_steps_keras():
    # the count is a property of the layer, not of the sequence length
    counts = set()
    for t in (1, 7, 30):
        model = keras.Sequential([keras.Input(shape=(t, 3)), keras.layers.LSTM(4)])
        counts.add(model.count_params())
    assert counts == {shapes.param_count(3, 4, framework="keras")}


def test_param_count_errors():
    with pytest.raises(ValueError, match=r"framework must be one of \('keras', 'torch'\), got 'tf'"):
        shapes.param_count(3, 4, framework="tf")
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        shapes.param_count(3, 0, framework="torch")
    with pytest.raises(ValueError, match="input_size must be a positive integer, got 2.5"):
        shapes.param_count(2.5, 4, framework="torch")
    with pytest.raises(ValueError, match="proj_size exists only in torch"):
        shapes.param_count(3, 4, framework="keras", proj_size=2)
    with pytest.raises(ValueError, match="proj_size must be smaller than hidden_size = 4, got 4"):
        shapes.param_count(3, 4, framework="torch", proj_size=4)
    with pytest.raises(ValueError, match="num_layers must be a positive integer, got True"):
        shapes.param_count(3, 4, framework="torch", num_layers=True)
    with pytest.raises(ValueError, match="proj_size must be smaller"):
        shapes.torch_lstm_shapes(2, 3, 4, 5, proj_size=5)


# ---------------------------------------------------------------- output and state shapes


TORCH_GRID = list(itertools.product([1, 3], [1, 4], [1, 2, 3], [False, True], [False, True], [0, 2]))


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("b,t,layers,batch_first,bidir,proj", TORCH_GRID)
def test_torch_lstm_shapes_match_torch(b, t, layers, batch_first, bidir, proj):
    f, h = 2, 3
    want = shapes.torch_lstm_shapes(
        b, t, f, h, num_layers=layers, batch_first=batch_first, bidirectional=bidir, proj_size=proj
    )
    lstm = torch.nn.LSTM(
        f, h, num_layers=layers, batch_first=batch_first, bidirectional=bidir, proj_size=proj
    )
    x = torch.zeros(want["input"])
    # h0/c0 of the documented shapes are accepted (the state is never batch-first)
    h0, c0 = torch.zeros(want["h_n"]), torch.zeros(want["c_n"])
    with torch.no_grad():
        out, (h_n, c_n) = lstm(x, (h0, c0))
    assert tuple(out.shape) == want["output"]
    assert tuple(h_n.shape) == want["h_n"]
    assert tuple(c_n.shape) == want["c_n"]


def test_torch_shapes_unknown_sizes():
    got = shapes.torch_lstm_shapes(None, None, 3, 5, num_layers=2, bidirectional=True, batch_first=True)
    assert got == {
        "input": (None, None, 3),
        "output": (None, None, 10),
        "h_n": (4, None, 5),
        "c_n": (4, None, 5),
    }


def test_torch_batch_first_state_is_rejected_by_torch():
    """The learner-notes belief "h0 is (batch, layers, hidden) with batch_first" is wrong: torch says so."""
    s = shapes.torch_lstm_shapes(4, 6, 3, 5, num_layers=2, batch_first=True)
    lstm = torch.nn.LSTM(3, 5, num_layers=2, batch_first=True)
    wrong = torch.zeros(4, 2, 5)
    with pytest.raises(RuntimeError, match=r"Expected hidden\[0\] size \(2, 4, 5\)"):
        lstm(torch.zeros(s["input"]), (wrong, wrong))
    msg = shapes.diagnose(tuple(wrong.shape), s["h_n"], "state", name="h0")
    assert "never batch-first" in msg


KERAS_GRID = [(rs, st, False, "concat") for rs in (False, True) for st in (False, True)] + [
    (rs, st, True, mm)
    for rs in (False, True)
    for st in (False, True)
    for mm in ("concat", "sum", "mul", "ave", None)
]


def _keras_layer(units, rs, st, bidir, mm):
    layer = keras.layers.LSTM(units, return_sequences=rs, return_state=st)
    return keras.layers.Bidirectional(layer, merge_mode=mm) if bidir else layer


def _as_list(out):
    return list(out) if isinstance(out, list | tuple) else [out]


@pytest.mark.parametrize("rs,st,bidir,mm", KERAS_GRID)
def test_keras_lstm_shapes_match_keras(rs, st, bidir, mm):
    b, t, f, h = 2, 4, 3, 5
    want = shapes.keras_lstm_shapes(
        b, t, f, h, return_sequences=rs, return_state=st, bidirectional=bidir, merge_mode=mm
    )
    assert want["input"] == (b, t, f)
    # eager: real arrays through the real layer
    outs = _as_list(_keras_layer(h, rs, st, bidir, mm)(np.zeros((b, t, f), dtype="float32")))
    assert [tuple(o.shape) for o in outs] == list(want.values())[1:]
    # symbolic: unknown batch and time are None in Keras too
    sym = _as_list(_keras_layer(h, rs, st, bidir, mm)(keras.Input(shape=(None, f))))
    want_none = shapes.keras_lstm_shapes(
        None, None, f, h, return_sequences=rs, return_state=st, bidirectional=bidir, merge_mode=mm
    )
    assert [tuple(o.shape) for o in sym] == list(want_none.values())[1:]


def test_keras_rejects_2d_input_like_diagnose_says():
    layer = keras.layers.LSTM(4)
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layer(keras.Input(shape=(3,)))
    msg = shapes.diagnose((None, 3), shapes.keras_lstm_shapes(None, None, 3, 4)["input"])
    assert msg is not None and "time_steps axis (axis 1) is missing" in msg


def test_shape_helper_errors():
    with pytest.raises(
        ValueError, match=r"merge_mode must be one of \('concat', 'sum', 'mul', 'ave', None\)"
    ):
        shapes.keras_lstm_shapes(1, 2, 3, 4, bidirectional=True, merge_mode="max")
    with pytest.raises(ValueError, match="batch must be a positive integer, got 0"):
        shapes.keras_lstm_shapes(0, 2, 3, 4)
    with pytest.raises(ValueError, match="time_steps must be a positive integer, got 2.0"):
        shapes.torch_lstm_shapes(1, 2.0, 3, 4)
    with pytest.raises(ValueError, match="features must be a positive integer, got None"):
        shapes.torch_lstm_shapes(1, 2, None, 4)


# ---------------------------------------------------------------- describe


def test_describe():
    assert shapes.describe((26, 5, 7), "windows") == "(26, 5, 7) = 26 windows × 5 time steps × 7 features"
    assert shapes.describe((1, 1, 1)) == "(1, 1, 1) = 1 sample × 1 time step × 1 feature"
    assert shapes.describe((5, 2, 8), "tbh") == "(5, 2, 8) = 5 time steps × 2 samples × 8 hidden units"
    assert shapes.describe(np.zeros((3, 4)), ("windows", "horizon")) == "(3, 4) = 3 windows × 4 future steps"
    assert shapes.describe((2, 3), ("rows", "my_cols")) == "(2, 3) = 2 rows × 3 my cols"
    assert shapes.describe(torch.zeros(2, 4, 5), "state").startswith("(2, 4, 5) = 2 layer/direction pairs")


def test_describe_errors():
    with pytest.raises(
        ValueError, match=r"shape \(26, 7\) has 2 axes but the layout \(batch, time_steps, features\)"
    ):
        shapes.describe((26, 7), "btf")
    with pytest.raises(ValueError, match="layout must be one of .*'btf'.* got 'bft'"):
        shapes.describe((26, 7, 5), "bft")


# ---------------------------------------------------------------- diagnose

_FIX = re.compile(r"use (x\.\w+\([^)]*\)|x\[None\]|x\[\.\.\., None\]|np\.expand_dims\(x, \d\))")


def _apply_fixes(msg, got):
    """Every concrete fix diagnose suggests, applied to a real array of shape ``got``."""
    fixes = _FIX.findall(msg)
    return [(fix, eval(fix, {"np": np, "x": np.zeros(got)}).shape) for fix in fixes]


CASES = [
    # got, expected, layout, words that must appear
    ((26, 7), (26, 5, 7), "btf", ["time_steps axis (axis 1) is missing", "make_windows", "look_back=5"]),
    ((26, 35), (26, 5, 7), "btf", ["flattened", "35 = 5 × 7"]),
    ((130, 7), (26, 5, 7), "btf", ["batch and time_steps are flattened", "130 = 26 × 5"]),
    ((5, 26, 7), (26, 5, 7), "btf", ["(time_steps, batch, features)", "batch_first"]),
    ((26, 1, 5), (26, 5, 1), "btf", ["reshape(n, 1, look_back)", "1 time step(s) of 5 feature(s)"]),
    ((26, 7, 5), (26, 5, 7), "btf", ["(batch, features, time_steps)"]),
    ((26, 5), (26, 5, 1), "btf", ["features axis (axis 2) is missing", "single feature"]),
    ((5, 7), (1, 5, 7), "btf", ["batch axis (axis 0) is missing", "single sample"]),
    ((4, 2, 5), (2, 4, 5), "state", ["never batch-first", "(batch, num_layers*num_directions, hidden_size)"]),
    ((4, 5), (2, 4, 5), "state", ["num_layers*num_directions axis (axis 0) is missing"]),
    ((4, 5), (1, 4, 5), "state", ["num_layers*num_directions axis (axis 0) is missing"]),
    ((25, 5, 1), (26, 5, 1), "windows", ["axis 0 (windows) is 25, expected 26", "one window short"]),
    ((27, 5, 1), (26, 5, 1), "windows", ["axis 0 (windows) is 27, expected 26", "one window too many"]),
    ((26, 4, 7), (26, 5, 7), "btf", ["axis 1 (time_steps) is 4, expected 5", "look_back = 5"]),
    ((26, 5, 6), (26, 5, 7), "btf", ["axis 2 (features) is 6, expected 7"]),
    ((26, 2, 1), (26, 2), "targets", ["extra axis of size 1 at position 2"]),
    ((1, 26, 5, 7), (26, 5, 7), "btf", ["extra axis of size 1 at position 0"]),
    ((13, 10, 7), (26, 5, 7), "btf", ["axis 0 (batch) is 13", "axis 1 (time_steps) is 10", "910 values"]),
    (
        (3,),
        (26, 5, 7),
        "btf",
        ["a 1-D array where 3-D is expected", "26 samples × 5 time steps × 7 features"],
    ),
    ((26, 7), (None, 5, 7), "btf", ["time_steps axis (axis 1) is missing"]),
    ((4, 3), (4, None, 3), "btf", ["time_steps axis (axis 1) is missing"]),
]


@pytest.mark.parametrize("got,expected,layout,words", CASES)
def test_diagnose_names_the_mistake(got, expected, layout, words):
    msg = shapes.diagnose(got, expected, layout, name="X")
    names = shapes.LAYOUTS[layout]
    assert msg.startswith(f"X: expected ({', '.join(names)}) = "), msg
    assert f"got shape {got}" in msg
    for w in words:
        assert w in msg, (w, msg)
    # any concrete fix it proposes really yields the expected shape
    for fix, shape in _apply_fixes(msg, got):
        assert all(e is None or s == e for s, e in zip(shape, expected, strict=True)), (fix, shape, expected)


def test_diagnose_fix_coverage():
    """The fixes are not just words: most cases above propose code that works (checked above)."""
    with_fix = [c for c in CASES if _apply_fixes(shapes.diagnose(c[0], c[1], c[2]), c[0])]
    assert len(with_fix) >= 10


def test_diagnose_ok_and_wildcards():
    assert shapes.diagnose((26, 5, 7), (26, 5, 7)) is None
    assert shapes.diagnose(np.zeros((3, 9, 2)), (None, None, 2)) is None
    assert shapes.diagnose(torch.zeros(2, 4, 5), (2, 4, 5), "state") is None
    # numpy/torch inputs, not only tuples
    assert "is missing" in shapes.diagnose(np.zeros((26, 7)), (26, 5, 7))


def test_diagnose_off_by_one_from_classic_create_dataset():
    """The off-by-one the classic tutorial makes is recognised on its real output."""
    from lstm_ref.data import classic_create_dataset, make_windows

    series = np.arange(30.0)
    X_ok, _ = make_windows(series, look_back=5)
    X_bad, _ = classic_create_dataset(series, look_back=5)
    X_bad = X_bad.reshape(len(X_bad), 5, 1)
    msg = shapes.diagnose(X_bad, X_ok.shape, "windows")
    assert "one window short" in msg


def test_diagnose_batch_of_states_off_by_one_gets_no_window_hint():
    msg = shapes.diagnose((2, 5, 8), (2, 4, 8), "state")
    assert "is 5, expected 4" in msg and "window" not in msg


def test_diagnose_errors():
    with pytest.raises(ValueError, match=r"expected_shape \(26, 5\) has 2 axes but the layout"):
        shapes.diagnose((26, 5), (26, 5), "btf")


def test_assert_shape_is_the_one_assertion():
    """lstm_ref.shapes.assert_shape is lstm_ref.feedback.assert_shape; name= still works for what=."""
    from lstm_ref import diagnose, feedback

    assert shapes.assert_shape is feedback.assert_shape is diagnose.assert_shape
    shapes.assert_shape(np.zeros((26, 5, 7)), (26, 5, 7))
    shapes.assert_shape(np.zeros((26, 5, 7)), (None, 5, 7), "windows")
    with pytest.raises(AssertionError, match=r"^Your X has shape \(26, 7\) .*: the time_steps axis"):
        shapes.assert_shape(np.zeros((26, 7)), (26, 5, 7), name="X")
    with pytest.raises(AssertionError) as fixed:
        shapes.assert_shape(np.zeros((26, 35)), (26, 5, 7), fix=True)
    assert "use x.reshape(26, 5, 7)" in str(fixed.value)


@st.composite
def mistakes(draw):
    """An expected shape (some sizes unknown) and a shape derived from it by a typical mistake."""
    layout = draw(st.sampled_from(["btf", "tbf", "state", "windows", "bth"]))
    exp = tuple(draw(st.integers(1, 6)) for _ in range(3))
    exp = tuple(None if draw(st.booleans()) and draw(st.booleans()) else e for e in exp)
    concrete = tuple(draw(st.integers(1, 6)) if e is None else e for e in exp)  # what a right answer has
    kind = draw(st.sampled_from(["swap", "drop", "extra", "merge", "off_by_one", "ok"]))
    i = draw(st.integers(0, 2))
    got = list(concrete)
    if kind == "swap":
        j = (i + draw(st.integers(1, 2))) % 3
        got[i], got[j] = got[j], got[i]
    elif kind == "drop":
        del got[i]
    elif kind == "extra":
        got.insert(draw(st.integers(0, 3)), 1)
    elif kind == "merge":
        k = min(i, 1)
        got[k : k + 2] = [got[k] * got[k + 1]]
    elif kind == "off_by_one":
        got[i] += draw(st.sampled_from([-1, 1])) if got[i] > 1 else 1
    return layout, exp, tuple(got)


@settings(max_examples=300, deadline=None)
@given(mistakes())
def test_diagnose_property(problem):
    layout, exp, got = problem
    msg = shapes.diagnose(got, exp, layout)
    fits = len(got) == len(exp) and all(e is None or g == e for g, e in zip(got, exp, strict=False))
    if fits:
        assert msg is None
        return
    assert msg is not None and msg.startswith("x: expected (")
    assert f"got shape {got}" in msg
    for fix, shape in _apply_fixes(msg, got):  # every concrete fix really gives the expected shape
        assert len(shape) == len(exp), (fix, msg)
        assert all(e is None or s == e for s, e in zip(shape, exp, strict=True)), (fix, shape, msg)


# ---------------------------------------------------------------- targets against outputs (Keras's loss)

T_STEPS, N_SAMPLES = 6, 16
# (return_sequences, units, targets' shape): many-to-one, many-to-many, and the mix-ups
TARGET_CASES = [
    (False, 1, (N_SAMPLES, 1)),
    (False, 1, (N_SAMPLES,)),
    (False, 3, (N_SAMPLES, 3)),
    (True, 1, (N_SAMPLES, T_STEPS, 1)),
    (True, 1, (N_SAMPLES, T_STEPS)),
    (True, 3, (N_SAMPLES, T_STEPS, 3)),
    (True, 1, (N_SAMPLES, 1)),  # the silent one: broadcast over the time steps
    (True, 1, (N_SAMPLES,)),
    (True, 3, (N_SAMPLES, 3)),
    (False, 3, (N_SAMPLES, 2)),
    (False, 1, (N_SAMPLES, T_STEPS)),
]


@pytest.mark.parametrize("return_sequences, units, y_shape", TARGET_CASES)
def test_check_targets_accepts_exactly_what_keras_trains_as_meant(return_sequences, units, y_shape):
    """check_targets passes iff Keras's MSE equals the loss meant: prediction i against target i."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N_SAMPLES, T_STEPS, 2)).astype("float32")
    y = rng.normal(size=y_shape).astype("float32")
    model = keras.Sequential(
        [
            keras.Input(shape=(T_STEPS, 2)),
            keras.layers.LSTM(4, return_sequences=return_sequences),
            keras.layers.Dense(units),
        ]
    )
    model.compile(loss="mse")
    pred = model.predict(x, verbose=0)
    try:
        keras_loss = model.evaluate(x, y, batch_size=N_SAMPLES, verbose=0)
    except Exception:  # noqa: BLE001 - Keras refuses the pair (e.g. "Incompatible shapes")
        keras_loss = None
    meant = float(((pred - y.reshape(pred.shape)) ** 2).mean()) if y.size == pred.size else None
    as_meant = keras_loss is not None and meant is not None and np.isclose(keras_loss, meant, rtol=1e-5)
    try:
        shapes.check_targets(model.output_shape, y)
        accepted = True
    except ValueError as err:
        accepted = False
        assert f"targets y {y_shape}" in str(err) and "expected" in str(err) or "return_sequences" in str(err)
    assert accepted == as_meant, (model.output_shape, y_shape, keras_loss, meant)


def test_check_targets_names_the_silent_broadcast():
    with pytest.raises(ValueError) as err:
        shapes.check_targets((None, 10, 1), np.zeros((128, 1)))
    message = str(err.value)
    assert message.startswith(
        "targets y (128, 1) do not fit the model's output (batch, time_steps, units) = (?, 10, 1)"
    )
    assert "without an error" in message and "shape (128, 10, 1)" in message
    with pytest.raises(ValueError, match="31 samples in y, 32 in the output"):
        shapes.check_targets((32, 1), (31, 1))
    shapes.check_targets((None, 10, 5), (8, 10), sparse_labels=True)  # integer labels per step
    with pytest.raises(ValueError, match=r"expected y of shape \(8, 10\) \(integer labels\)"):
        shapes.check_targets((None, 10, 5), (8, 5), sparse_labels=True)


# ---------------------------------------------------------------- one vocabulary, light imports


def test_shapes_keeps_every_public_name():
    """The diagnosis moved to lstm_ref.diagnose and check_targets to lstm_ref._checks; the book,
    the exercises and lstm_ref.trace still import them from lstm_ref.shapes."""
    from lstm_ref import _checks, diagnose

    for name in ("describe", "diagnose", "explain_mismatch", "assert_shape", "LAYOUTS"):
        assert getattr(shapes, name) is getattr(diagnose, name)
    assert shapes.check_targets is _checks.check_targets
    for name in ("param_count", "torch_param_shapes", "keras_weight_shapes", "keras_lstm_shapes"):
        assert callable(getattr(shapes, name))


def test_torch_lstm_shapes_refuses_unknown_options():
    with pytest.raises(TypeError, match="batch_firts"):
        shapes.torch_lstm_shapes(4, 10, 3, 5, batch_firts=True)
