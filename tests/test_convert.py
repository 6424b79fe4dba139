"""lstm_ref.convert: weights moved between keras.layers.LSTM, torch.nn.LSTM and lstm_ref.numpy.LSTM
give the same outputs (to 1e-5), with non-zero biases so that a dropped bias is caught."""

import numpy as np
import pytest
import torch
from torch import nn

from lstm_ref import numpy as lnp
from lstm_ref.convert import (
    KERAS_TO_TORCH,
    keras_state_dict,
    load_keras,
    load_torch,
    torch_state_dict,
)
from lstm_ref.keras import keras
from lstm_ref.shapes import torch_param_shapes
from lstm_ref.torch import ScratchLSTM

F, H, B, T = 3, 4, 2, 5
ATOL = 1e-5


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(B, T, F)).astype(np.float32)


def _keras_lstm(seed, **kw):
    """A Keras LSTM whose bias is random (not the default zeros/ones), so every bias matters."""
    init = keras.initializers.RandomUniform(-0.5, 0.5, seed=seed)
    return keras.layers.LSTM(H, bias_initializer=init, unit_forget_bias=False, **kw)


def _torch_lstm(seed, **kw):
    torch.manual_seed(seed)
    return nn.LSTM(F, H, batch_first=True, **kw)


def _run_torch(lstm, x):
    with torch.no_grad():
        out, (h, c) = lstm(torch.from_numpy(x))
    return out.numpy(), h.numpy(), c.numpy()


def _np(t):
    return keras.ops.convert_to_numpy(t)


# ---------------------------------------------------------------- plain LSTM


def test_keras_to_torch_and_numpy(x):
    """Keras LSTM -> torch names -> nn.LSTM and lstm_ref.numpy.LSTM: output, h and c agree."""
    layer = _keras_lstm(1, return_sequences=True, return_state=True)
    k_out, k_h, k_c = (_np(t) for t in layer(x))
    sd = keras_state_dict(layer)
    assert list(sd) == list(torch_param_shapes(F, H))
    assert np.abs(sd["bias_ih_l0"]).min() > 0  # the test is meaningful only with a real bias
    t_lstm = _torch_lstm(0)
    load_torch(t_lstm, sd)
    t_out, t_h, t_c = _run_torch(t_lstm, x)
    n_lstm = lnp.LSTM(F, H, batch_first=True)
    n_lstm.load_state_dict(sd)
    n_out, (n_h, n_c) = n_lstm(x)
    for out, h, c in [(t_out, t_h, t_c), (n_out, n_h, n_c)]:
        np.testing.assert_allclose(out, k_out, atol=ATOL)
        np.testing.assert_allclose(h[0], k_h, atol=ATOL)
        np.testing.assert_allclose(c[0], k_c, atol=ATOL)


def test_documented_bias_choice(x):
    """Keras -> torch: weight_ih = kernel.T, weight_hh = recurrent_kernel.T, bias_ih = bias, bias_hh = 0."""
    layer = _keras_lstm(2)
    layer(x)
    sd = keras_state_dict(layer)
    kernel, recurrent, bias = layer.get_weights()
    np.testing.assert_array_equal(sd["weight_ih_l0"], kernel.T)
    np.testing.assert_array_equal(sd["weight_hh_l0"], recurrent.T)
    np.testing.assert_array_equal(sd["bias_ih_l0"], bias)
    np.testing.assert_array_equal(sd["bias_hh_l0"], np.zeros(4 * H))
    # KERAS_TO_TORCH is the table the conversion follows, and it names every weight but bias_hh
    for kname, tname, transposed in KERAS_TO_TORCH:
        weight = getattr(layer.cell, kname).numpy()
        np.testing.assert_array_equal(sd[tname + "_l0"], weight.T if transposed else weight)
    assert {tname + "_l0" for _, tname, _ in KERAS_TO_TORCH} == set(sd) - {"bias_hh_l0"}


def test_torch_state_dict_returns_copies():
    """Changing the returned arrays leaves the module alone (they are copies, not views)."""
    lstm = _torch_lstm(5)
    sd = torch_state_dict(lstm)
    sd["weight_ih_l0"][:] = 0
    assert lstm.weight_ih_l0.abs().sum().item() > 0


def test_torch_to_keras_sums_the_two_biases(x):
    """nn.LSTM (two random biases) -> Keras: outputs agree, so bias = bias_ih + bias_hh."""
    t_lstm = _torch_lstm(3)
    t_out, t_h, t_c = _run_torch(t_lstm, x)
    layer = keras.layers.LSTM(H, return_sequences=True, return_state=True)  # unbuilt: built from the dict
    load_keras(layer, torch_state_dict(t_lstm))
    k_out, k_h, k_c = (_np(t) for t in layer(x))
    np.testing.assert_allclose(k_out, t_out, atol=ATOL)
    np.testing.assert_allclose(k_h, t_h[0], atol=ATOL)
    np.testing.assert_allclose(k_c, t_c[0], atol=ATOL)


def test_round_trip_torch_keras_numpy_torch(x):
    """torch -> Keras -> NumPy -> torch (a fresh nn.LSTM) keeps the outputs."""
    t_lstm = _torch_lstm(4)
    want = _run_torch(t_lstm, x)
    layer = keras.layers.LSTM(H)
    load_keras(layer, torch_state_dict(t_lstm))
    n_lstm = lnp.LSTM(F, H, batch_first=True)
    n_lstm.load_state_dict(keras_state_dict(layer))
    back = _torch_lstm(5)
    load_torch(back, n_lstm.state_dict())
    for got, ref in zip(_run_torch(back, x), want, strict=True):
        np.testing.assert_allclose(got, ref, atol=ATOL)


def test_use_bias_false(x):
    """Without biases the dict has only the two weights, and outputs still agree."""
    layer = keras.layers.LSTM(H, use_bias=False, return_sequences=True)
    k_out = _np(layer(x))
    sd = keras_state_dict(layer)
    assert sorted(sd) == ["weight_hh_l0", "weight_ih_l0"]
    t_lstm = _torch_lstm(0, bias=False)
    load_torch(t_lstm, sd)
    np.testing.assert_allclose(_run_torch(t_lstm, x)[0], k_out, atol=ATOL)


# ---------------------------------------------------------------- Bidirectional and stacked


@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_both_ways(x, merge_mode):
    """Bidirectional(LSTM) <-> nn.LSTM(bidirectional=True); merge modes only change how outputs combine."""
    fwd = _keras_lstm(6, return_sequences=True)
    bwd = _keras_lstm(7, return_sequences=True, go_backwards=True)
    bi = keras.layers.Bidirectional(fwd, backward_layer=bwd, merge_mode=merge_mode)
    k_out = _np(bi(x))
    t_lstm = _torch_lstm(0, bidirectional=True)
    load_torch(t_lstm, keras_state_dict(bi))
    t_out = _run_torch(t_lstm, x)[0]  # (B, T, 2H)
    merged = t_out if merge_mode == "concat" else t_out[..., :H] + t_out[..., H:]
    np.testing.assert_allclose(merged, k_out, atol=ATOL)
    # and back: torch -> a fresh Bidirectional
    t2 = _torch_lstm(8, bidirectional=True)
    bi2 = keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True))
    load_keras(bi2, torch_state_dict(t2))
    np.testing.assert_allclose(_np(bi2(x)), _run_torch(t2, x)[0], atol=ATOL)


def test_stacked_list_both_ways(x):
    """A list of Keras LSTMs is one torch LSTM with num_layers = len(list): item k -> _l{k}."""
    layers = [_keras_lstm(10 + k, return_sequences=True) for k in range(3)]
    y = x
    for layer in layers:
        y = layer(y)
    sd = keras_state_dict(layers)
    assert list(sd) == list(torch_param_shapes(F, H, num_layers=3))
    n_lstm = lnp.LSTM(F, H, num_layers=3, batch_first=True)
    n_lstm.load_state_dict(sd)
    np.testing.assert_allclose(n_lstm(x)[0], _np(y), atol=ATOL)
    t_lstm = _torch_lstm(11, num_layers=2, bidirectional=True)
    pair = [keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True)) for _ in range(2)]
    load_keras(pair, torch_state_dict(t_lstm))
    np.testing.assert_allclose(_np(pair[1](pair[0](x))), _run_torch(t_lstm, x)[0], atol=ATOL)


def test_keras_model_gives_its_lstms_in_order(x):
    """keras_state_dict(model) takes the model's LSTM layers in order."""
    inputs = keras.Input(shape=(None, F))
    l0, l1 = keras.layers.LSTM(H, return_sequences=True), keras.layers.LSTM(H)
    model = keras.Model(inputs, keras.layers.Dense(1)(l1(l0(inputs))))
    sd = keras_state_dict(model)
    np.testing.assert_array_equal(sd["weight_ih_l1"], keras_state_dict(l1)["weight_ih_l0"])
    np.testing.assert_array_equal(sd["weight_ih_l0"], keras_state_dict(l0)["weight_ih_l0"])


def test_torch_helpers_with_scratch_module(x):
    """torch_state_dict / load_torch work for ScratchLSTM, and copies are independent."""
    t_lstm = _torch_lstm(12, num_layers=2)
    mine = ScratchLSTM(F, H, num_layers=2, batch_first=True)
    load_torch(mine, torch_state_dict(t_lstm))
    for got, ref in zip(_run_torch(mine, x), _run_torch(t_lstm, x), strict=True):
        np.testing.assert_allclose(got, ref, atol=ATOL)
    sd = torch_state_dict(mine)
    sd["weight_ih_l0"][:] = 0
    assert mine.weight_ih_l0.abs().sum().item() > 0
    load_torch(mine, {k: torch.from_numpy(v) for k, v in sd.items()})  # tensors are accepted too
    assert mine.weight_ih_l0.abs().sum().item() == 0


# ---------------------------------------------------------------- errors


def test_state_dict_key_and_shape_errors():
    """Missing, extra and transposed keys are ValueErrors that name the problem; nothing is copied."""
    t_lstm = _torch_lstm(0)
    sd = torch_state_dict(t_lstm)
    before = torch_state_dict(t_lstm)
    missing = {k: v for k, v in sd.items() if k != "bias_hh_l0"}
    with pytest.raises(ValueError, match=r"missing keys \['bias_hh_l0'\]"):
        load_torch(t_lstm, missing)
    with pytest.raises(ValueError, match=r"unexpected keys \['weight_ih_l1'\]"):
        load_torch(t_lstm, sd | {"weight_ih_l1": sd["weight_ih_l0"]})
    with pytest.raises(
        ValueError, match=r"weight_ih_l0 has shape \(3, 16\), expected \(16, 3\) \(transposed"
    ):
        load_torch(t_lstm, sd | {"weight_ih_l0": sd["weight_ih_l0"].T})
    for k, v in torch_state_dict(t_lstm).items():
        np.testing.assert_array_equal(v, before[k])
    keras_layer = keras.layers.LSTM(H)
    keras_layer.build((None, None, F))
    with pytest.raises(ValueError, match="missing keys"):
        load_keras(keras_layer, missing)
    with pytest.raises(ValueError, match="transposed"):
        load_keras(
            keras_layer, sd | {"weight_hh_l0": np.zeros((H, 4 * H))} | {"weight_ih_l0": sd["weight_ih_l0"]}
        )
    with pytest.raises(ValueError, match=r"unexpected keys .*bias_hh_l0.*\(this LSTM has bias=False\)"):
        no_bias = keras.layers.LSTM(H, use_bias=False)
        no_bias.build((None, None, F))
        load_keras(no_bias, sd)
    weights_only = {k: v for k, v in sd.items() if k.startswith("weight")}
    with pytest.raises(ValueError, match="has no biases.*bias=False"):
        load_torch(t_lstm, weights_only)
    with pytest.raises(ValueError, match="has no biases.*use_bias=False"):
        load_keras(keras_layer, weights_only)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"activation": "relu"}, "activation='relu'.*always uses tanh and sigmoid"),
        ({"recurrent_activation": "hard_sigmoid"}, "recurrent_activation='hard_sigmoid'"),
        ({"go_backwards": True}, "go_backwards=True.*no such option"),
    ],
)
def test_unsupported_keras_config(kwargs, match):
    """Keras settings torch cannot express are refused, both ways."""
    layer = keras.layers.LSTM(H, **kwargs)
    layer.build((None, None, F))
    with pytest.raises(ValueError, match=match):
        keras_state_dict(layer)
    with pytest.raises(ValueError, match=match):
        load_keras(layer, torch_state_dict(_torch_lstm(0)))


def test_other_keras_errors():
    """Unbuilt layers, non-LSTM layers, models without LSTMs and unequal stacks are explained."""
    with pytest.raises(ValueError, match="not built yet"):
        keras_state_dict(keras.layers.LSTM(H))
    with pytest.raises(ValueError, match="expected a keras LSTM or Bidirectional"):
        keras_state_dict(keras.layers.Dense(3))
    dense_only = keras.Sequential([keras.Input(shape=(F,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="has no LSTM"):
        keras_state_dict(dense_only)
    a, b = keras.layers.LSTM(H, return_sequences=True), keras.layers.LSTM(H + 1)
    a.build((None, None, F))
    b.build((None, None, H))
    with pytest.raises(ValueError, match="same settings in every layer"):
        keras_state_dict([a, b])
    summed = [keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True), merge_mode="sum")]
    summed.append(keras.layers.Bidirectional(keras.layers.LSTM(H)))
    summed[1](summed[0](np.zeros((B, T, F), np.float32)))
    with pytest.raises(ValueError, match=r"weight_ih_l1 has shape \(16, 4\), expected \(16, 8\)"):
        keras_state_dict(summed)  # torch's layer 1 reads the concatenation (2H), not the sum (H)
    with pytest.raises(ValueError, match="missing 'weight_ih_l0'"):
        load_keras(keras.layers.LSTM(H), {})


def test_torch_errors():
    """proj_size > 0 and non-LSTM modules are refused."""
    with pytest.raises(ValueError, match="proj_size=2"):
        torch_state_dict(nn.LSTM(F, H, proj_size=2))
    with pytest.raises(ValueError, match="proj_size=2"):
        load_torch(nn.LSTM(F, H, proj_size=2), {})
    with pytest.raises(ValueError, match="pass its LSTM"):
        torch_state_dict(nn.GRU(F, H))
