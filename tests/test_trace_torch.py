"""lstm_ref.trace on PyTorch models: the traced shapes against the real outputs, and the diagnoses of
the classic shape mistakes (the book's misconceptions chapter) against broken models."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from lstm_ref.shapes import diagnose
from lstm_ref.torch import ManyToMany, ManyToOne, ScratchLSTM
from lstm_ref.trace import ShapeError, ShapeTrace, trace

B, T, F, H = 4, 7, 3, 5


def _shapes(obj) -> list[tuple[int, ...]]:
    """Every tensor in a real output, flattened as the trace lists them (PackedSequence: data, batch_sizes)."""
    if isinstance(obj, torch.Tensor):
        return [tuple(obj.shape)]
    if isinstance(obj, nn.utils.rnn.PackedSequence):
        return [tuple(obj.data.shape), tuple(obj.batch_sizes.shape)]
    if isinstance(obj, tuple | list):
        return [s for o in obj for s in _shapes(o)]
    return []


def _out(row) -> list[tuple[int, ...]]:
    return [s.shape for s in row.outputs]


def _axes(row, label: str) -> tuple[str, ...]:
    return next(s.axes for s in [*row.inputs, *row.outputs] if s.label == label)


def _row(tr: ShapeTrace, name: str):
    return next(r for r in tr.rows if r.name == name)


def _fails(model, x, **kw) -> ShapeError:
    with pytest.raises(ShapeError) as info:
        trace(model, x, **kw)
    return info.value


class Head(nn.Module):
    """An LSTM and a Linear on the last time step: the course's many-to-one model."""

    def __init__(self, lstm: nn.Module, out_features: int = 1, in_features: int | None = None):
        super().__init__()
        self.lstm = lstm
        d = 2 if lstm.bidirectional else 1
        width = getattr(lstm, "proj_size", 0) or lstm.hidden_size
        self.fc = nn.Linear(in_features or d * width, out_features)

    def forward(self, x):
        output, _ = self.lstm(x)
        last = output[:, -1] if self.lstm.batch_first else output[-1]
        return self.fc(last)


# ------------------------------------------------------------------------------------ real shapes


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_stacked_lstm_shapes_are_the_real_ones(batch_first, bidirectional):
    torch.manual_seed(0)
    lstm = nn.LSTM(F, H, num_layers=2, batch_first=batch_first, bidirectional=bidirectional)
    model = Head(lstm)
    x = torch.randn(B, T, F) if batch_first else torch.randn(T, B, F)
    tr = trace(model, x)
    assert [r.name for r in tr.rows] == ["lstm", "fc"]
    assert tr.diagnosis is None and tr.failed is None
    lstm_row, fc_row = tr.rows
    assert _out(lstm_row) == _shapes(lstm(x))
    assert _out(fc_row) == _shapes(model(x))
    assert lstm_row.inputs[0].shape == tuple(x.shape)
    lead = ("batch", "time_steps") if batch_first else ("time_steps", "batch")
    width = "directions*hidden" if bidirectional else "hidden"
    assert _axes(lstm_row, "x") == (*lead, "features")
    assert _axes(lstm_row, "output") == (*lead, width)
    assert _axes(lstm_row, "h_n") == ("layers*directions", "batch", "hidden")
    assert _axes(lstm_row, "c_n") == ("layers*directions", "batch", "hidden")
    assert _axes(fc_row, "x") == ("batch", width)  # output[:, -1] / output[-1]: the time axis dropped
    assert _axes(fc_row, "output") == ("batch", "units")
    assert lstm_row.params == sum(p.numel() for p in lstm.parameters())
    assert fc_row.params == sum(p.numel() for p in model.fc.parameters())
    assert (
        "batch_first=True, but h_n is still (layers*directions, batch, hidden)" in lstm_row.note
    ) is batch_first
    assert ("bidirectional: output is 2*hidden wide" in lstm_row.note) is bidirectional
    text = str(tr)
    assert f"h_n (layers*directions={2 * (1 + bidirectional)}, batch={B}, hidden={H})" in text


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_proj_size_shapes_and_note():
    lstm = nn.LSTM(F, 8, num_layers=2, proj_size=3, batch_first=True, bidirectional=True)
    x = torch.randn(B, T, F)
    h0, c0 = torch.zeros(4, B, 3), torch.zeros(4, B, 8)
    tr = trace(lstm, (x, (h0, c0)))
    (row,) = tr.rows
    assert _out(row) == _shapes(lstm(x, (h0, c0)))
    assert [s.label for s in row.inputs] == ["x", "h0", "c0"]
    assert _axes(row, "output") == ("batch", "time_steps", "directions*proj")
    assert _axes(row, "h_n") == ("layers*directions", "batch", "proj")
    assert _axes(row, "c_n") == ("layers*directions", "batch", "hidden")
    assert _axes(row, "h0")[-1] == "proj" and _axes(row, "c0")[-1] == "hidden"
    assert "proj_size=3: h_n is 3 wide, c_n is 8 wide" in row.note
    assert "h_n is still (layers*directions, batch, proj)" in row.note


@pytest.mark.parametrize("cls", [nn.GRU, nn.RNN])
def test_gru_and_rnn_have_no_c_n(cls):
    rnn = cls(F, H, num_layers=3, batch_first=True)
    x = torch.randn(B, T, F)
    (row,) = trace(rnn, x).rows
    assert [s.label for s in row.outputs] == ["output", "h_n"]
    assert _out(row) == _shapes(rnn(x))
    assert row.kind == cls.__name__


class PackedModel(nn.Module):
    """Packs padded sequences, runs a bidirectional GRU, unpacks, and applies a Linear at every step."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(F, H, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * H, 2)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True)
        return self.fc(out)


def test_packed_sequence_inside_a_model():
    model = PackedModel()
    x, lengths = torch.randn(B, T, F), torch.tensor([7, 3, 5, 2])
    tr = trace(model, (x, lengths))
    rnn_row, fc_row = tr.rows
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    assert [s.shape for s in rnn_row.inputs] == _shapes(packed)
    assert _out(rnn_row) == _shapes(model.rnn(packed))
    assert [s.label for s in rnn_row.inputs] == ["x.data", "x.batch_sizes"]
    assert _axes(rnn_row, "x.data") == ("packed_steps", "features")
    assert _axes(rnn_row, "x.batch_sizes") == ("time_steps",)
    assert _axes(rnn_row, "output.data") == ("packed_steps", "directions*hidden")
    assert "PackedSequence: 17 real steps packed, up to 7 time steps" in rnn_row.note
    assert _out(fc_row) == _shapes(model(x, lengths))
    assert _axes(fc_row, "x") == ("batch", "time_steps", "features")  # pad_packed_sequence's output, by size
    assert "applied at every time step" in fc_row.note


def test_packed_sequence_as_the_input():
    lstm = nn.LSTM(F, H, num_layers=2)
    seqs = [torch.randn(n, F) for n in (6, 4, 1)]
    packed = nn.utils.rnn.pack_sequence(seqs)
    (row,) = trace(lstm, packed).rows
    assert [s.shape for s in row.inputs] == [(11, F), (6,)]
    assert _out(row) == _shapes(lstm(packed))
    assert row.outputs[2].shape == (2, 3, H)  # h_n: 3 sequences


class Reshaper(nn.Module):
    """A custom forward that reshapes: a flat (batch, T*F) row becomes (batch, T, F); the output is flattened."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(2, 8, batch_first=True)
        self.fc = nn.Linear(6 * 8, 1)

    def forward(self, x):
        x = x.view(x.shape[0], 6, 2)
        out, _ = self.lstm(x)
        return self.fc(out.reshape(out.shape[0], -1))


def test_custom_forward_that_reshapes():
    model = Reshaper()
    x = torch.randn(5, 12)
    tr = trace(model, x)
    assert [r.name for r in tr.rows] == ["lstm", "fc"]  # a reshape is no module: it shows as the next input
    lstm_row, fc_row = tr.rows
    assert lstm_row.inputs[0].shape == (5, 6, 2)
    assert _axes(lstm_row, "x") == ("batch", "time_steps", "features")
    assert _out(lstm_row) == _shapes(model.lstm(x.view(5, 6, 2)))
    assert fc_row.inputs[0].shape == (5, 48)
    assert _axes(fc_row, "x") == ("batch", "time_steps*hidden")
    assert _out(fc_row) == _shapes(model(x))


def test_a_model_that_returns_what_no_module_returned_gets_a_model_row():
    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(F, H, batch_first=True, bidirectional=True)

        def forward(self, x):
            output, _ = self.lstm(x)
            return output[:, -1]

    model = LastStep()
    x = torch.randn(B, T, F)
    tr = trace(model, x)
    assert [r.name for r in tr.rows] == ["lstm", "model"]
    assert tr.rows[-1].kind == "LastStep"
    assert _out(tr.rows[-1]) == _shapes(model(x))
    assert _axes(tr.rows[-1], "output") == ("batch", "directions*hidden")
    assert tr.rows[-1].params == sum(p.numel() for p in model.parameters())
    assert "forward() returned" in tr.rows[-1].note
    # everything ManyToOne returns, (y, (h_n, c_n)), some module returned: no model row
    torch.manual_seed(0)
    model = ManyToOne(F, 8, num_layers=2, bidirectional=True)
    tr = trace(model, x)
    assert [r.name for r in tr.rows] == ["lstm", "head"]
    assert _axes(tr.rows[1], "x") == ("batch", "directions*hidden")  # torch.cat of h_n's top layer
    assert _out(tr.rows[1]) == _shapes(model(x)[0])


def test_scratch_lstm_is_read_as_an_lstm():
    lstm = ScratchLSTM(F, H, num_layers=2, batch_first=True, bidirectional=True)
    x = torch.randn(B, T, F)
    (row,) = trace(lstm, x).rows
    assert _out(row) == _shapes(lstm(x))
    assert _axes(row, "output") == ("batch", "time_steps", "directions*hidden")
    assert "bidirectional" in row.note


def test_rows_follow_execution_order_and_skip_containers():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = nn.Sequential(nn.Linear(F, 6), nn.Tanh())
            self.lstm = nn.LSTM(6, H)
            self.act = nn.ReLU()

        def forward(self, x):
            out, _ = self.lstm(self.enc(x))
            return self.act(self.act(out))  # the same module twice

    tr = trace(Net(), torch.randn(T, B, F))
    assert [r.name for r in tr.rows] == ["enc.0", "enc.1", "lstm", "act", "act (call 2)"]
    assert [r.kind for r in tr.rows] == ["Linear", "Tanh", "LSTM", "ReLU", "ReLU"]
    # the input reaches the LSTM through rank-keeping modules: it is read time-major, as the LSTM reads it
    assert _axes(tr.rows[0], "x") == ("time_steps", "batch", "features")
    assert _axes(tr.rows[0], "output") == ("time_steps", "batch", "units")
    assert _axes(tr.rows[4], "output") == ("time_steps", "batch", "hidden")


def test_layout_names_the_input_axes():
    lstm = nn.LSTM(F, H)  # time-major: inferred (time_steps, batch, features)
    x = torch.randn(T, B, F)
    assert _axes(trace(lstm, x).rows[0], "x") == ("time_steps", "batch", "features")
    tr = trace(lstm, x, layout=("time_steps", "samples", "features"))
    assert _axes(tr.rows[0], "x") == ("time_steps", "samples", "features")
    assert _axes(trace(lstm, x, layout="tbf").rows[0], "x") == ("time_steps", "batch", "features")
    with pytest.raises(ValueError, match="names 2 axes, but the input has 3"):
        trace(lstm, x, layout=("batch", "features"))


def test_token_ids_into_an_embedding_are_batch_and_time():
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 6)
            self.lstm = nn.LSTM(6, H, batch_first=True)

        def forward(self, ids):
            return self.lstm(self.emb(ids))[0]

    ids = np.arange(B * T).reshape(B, T) % 50  # an integer array stays integer
    emb, lstm = trace(Tagger(), ids).rows
    assert _axes(emb, "x") == ("batch", "time_steps")
    assert _axes(emb, "output") == ("batch", "time_steps", "features")
    assert _axes(lstm, "x") == ("batch", "time_steps", "features")
    assert _out(lstm) == _shapes(Tagger().lstm(torch.zeros(B, T, 6)))


def test_numpy_input_is_made_a_tensor_of_the_model_dtype():
    lstm = nn.LSTM(F, H, batch_first=True)
    (row,) = trace(lstm, np.zeros((B, T, F))).rows  # float64 array, float32 model
    assert _out(row) == _shapes(lstm(torch.zeros(B, T, F)))


def test_one_forward_pass_and_the_model_is_unchanged():
    torch.manual_seed(0)
    calls = []

    class Counting(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(F, H, batch_first=True, dropout=0.5, num_layers=2)
            self.norm = nn.BatchNorm1d(H)
            self.fc = nn.Linear(H, 1)

        def forward(self, x):
            calls.append(1)
            out, _ = self.lstm(x)
            return self.fc(self.norm(out[:, -1]))

    model = Counting()
    model.train()
    model.fc.eval()  # a mixed state, to see it restored module by module
    before = copy.deepcopy(model.state_dict())
    attrs = {name: set(vars(m)) for name, m in model.named_modules()}
    flags = {name: m.training for name, m in model.named_modules()}
    x = torch.randn(B, T, F)
    trace(model, x)
    assert len(calls) == 1
    with pytest.raises(ShapeError):
        trace(model, torch.randn(B, T, F + 1))
    assert len(calls) == 2
    for name, m in model.named_modules():
        assert not m._forward_hooks and not m._forward_pre_hooks, name
        assert set(vars(m)) == attrs[name], name
        assert m.training == flags[name], name
    after = model.state_dict()
    assert before.keys() == after.keys()
    for k in before:  # BatchNorm's running statistics too: traced in eval mode
        assert torch.equal(before[k], after[k]), k
    assert all(p.grad is None for p in model.parameters())


def test_html_and_text():
    tr = trace(Head(nn.LSTM(F, H, batch_first=True)), torch.randn(B, T, F))
    html = tr._repr_html_()
    assert "<table>" in html and "time_steps=7" in html and "lstm" in html
    text = str(tr)
    assert text.splitlines()[0] == "PyTorch model Head: 2 layer(s) traced"
    assert "x (batch=4, time_steps=7, features=3)" in text


# ------------------------------------------------------------------------------------ failures


def _check_failure(err: ShapeError, name: str, kind: str, cause=RuntimeError) -> str:
    """The failing row is the last, named; the diagnosis starts with it; the framework's error is chained."""
    tr = err.trace
    assert tr.rows[-1].failed and tr.failed is tr.rows[-1]
    assert (tr.rows[-1].name, tr.rows[-1].kind) == (name, kind)
    assert tr.rows[-1].outputs == []
    assert all(not r.failed for r in tr.rows[:-1])
    assert tr.diagnosis.startswith(f"{name} ({kind}): ")
    assert isinstance(err, ValueError)
    assert isinstance(err.__cause__, cause)
    assert tr.diagnosis in str(err) and "FAILED" in str(err)
    return tr.diagnosis


def test_mistake_1_two_d_input_without_a_feature_axis():
    """(samples, time_steps) with no feature axis into an LSTM(1, ...)."""
    model = Head(nn.LSTM(1, H, batch_first=True))
    err = _fails(model, torch.randn(32, 12))
    why = _check_failure(err, "lstm", "LSTM")
    assert "the features axis (axis 2) is missing" in why
    assert "x[..., None]" in why
    assert diagnose((32, 12), (None, None, 1), "btf", name="x") in why  # the words of lstm_ref.shapes


def test_mistake_1_two_d_input_is_silently_one_unbatched_sequence():
    """(batch, features) into an LSTM with input_size = features: PyTorch reads one sequence of `batch` steps."""
    lstm = nn.LSTM(F, H, batch_first=True)
    x = torch.randn(32, F)
    (row,) = trace(lstm, x).rows
    assert _out(row) == _shapes(lstm(x))
    assert _axes(row, "x") == ("time_steps", "features")
    assert "ONE unbatched sequence of 32 time steps" in row.note
    assert "x.unsqueeze(1)" in row.note
    (row,) = trace(lstm, x, layout=("batch", "features")).rows
    assert row.note.startswith("the layout says (batch, features), but a 2-D x is ONE unbatched sequence")


def test_mistake_2_time_and_features_swapped():
    """X.reshape(n, 1, look_back) instead of (n, look_back, 1)."""
    model = Head(nn.LSTM(1, H, batch_first=True))
    series = torch.randn(32, 12)
    err = _fails(model, series.reshape(32, 1, 12))
    why = _check_failure(err, "lstm", "LSTM")
    assert "the axes are in the wrong order" in why
    assert "1 time step(s) of 12 feature(s)" in why
    assert "X.reshape(n, 1, look_back)" in why


def test_mistake_3_batch_first_data_into_a_time_major_lstm_silent():
    """Shapes fit, nothing fails: only the layout tells the tracer the data is batch first."""
    model = Head(nn.LSTM(1, H))  # batch_first=False
    x = torch.randn(32, 12, 1)
    tr = trace(model, x, layout=("batch", "time_steps", "features"))
    row = tr.rows[0]
    assert _axes(row, "x") == ("batch", "time_steps", "features")
    assert "batch_first=False reads axis 0 as time_steps, but the layout says it is batch" in row.note
    assert "transpose to (T, B, F)" in row.note and "batch_first=True" in row.note
    assert (
        "reads axis 0" not in trace(model, x).rows[0].note
    )  # without a layout, x is read as the LSTM reads it


def test_mistake_3_batch_first_data_into_a_time_major_lstm_fails_on_h0():
    lstm = nn.LSTM(1, H)
    x, h0, c0 = torch.randn(32, 12, 1), torch.zeros(1, 32, H), torch.zeros(1, 32, H)
    err = _fails(lstm, (x, (h0, c0)))
    why = _check_failure(err, "model", "LSTM")
    assert "axis 1 (batch) is 32, expected 12" in why
    assert "transpose x to (T, B, F)" in why and "batch_first=True" in why
    # with the layout given, the row says it too
    err = _fails(lstm, (x, (h0, c0)), layout="btf")
    assert "the layout says it is batch" in err.trace.rows[-1].note


def test_mistake_4_batch_first_h0():
    """h0/c0 built (batch, layers, hidden) because batch_first=True."""
    lstm = nn.LSTM(1, H, batch_first=True)
    x, h0, c0 = torch.randn(32, 12, 1), torch.zeros(32, 1, H), torch.zeros(32, 1, H)
    why = _check_failure(_fails(lstm, (x, (h0, c0))), "model", "LSTM")
    assert why.startswith(
        "model (LSTM): h0: expected (num_layers*num_directions, batch, hidden_size) = (1, 32, 5)"
    )
    assert "the state is never batch-first, even with batch_first=True" in why
    assert "h0.permute(1, 0, 2)" in why and "x.permute" not in why


@pytest.mark.parametrize(("layers", "bidirectional"), [(1, True), (2, False), (2, True)])
def test_mistake_5_h0_first_axis_is_num_layers_only(layers, bidirectional):
    lstm = nn.LSTM(F, H, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    wrong = layers if bidirectional else 1
    x = torch.randn(B, T, F)
    state = (torch.zeros(wrong, B, H), torch.zeros(wrong, B, H))
    why = _check_failure(_fails(lstm, (x, state)), "model", "LSTM")
    ld = layers * (2 if bidirectional else 1)
    assert f"axis 0 (num_layers*num_directions) is {wrong}, expected {ld}" in why
    assert ("num_layers*2" in why) is bidirectional
    assert f"torch.zeros({ld}, {B}, {H})" in why


def test_mistake_7_linear_after_an_lstm_in_sequential():
    model = nn.Sequential(nn.LSTM(F, H, batch_first=True), nn.Linear(H, 1))
    err = _fails(model, torch.randn(B, T, F))
    why = _check_failure(err, "1", "Linear", cause=TypeError)
    assert "nn.LSTM returns (output, (h_n, c_n))" in why
    assert "output[:, -1]" in why and "h_n[-1]" in why
    assert [s.label for s in err.trace.rows[-1].inputs] == ["x[0]", "x[1][0]", "x[1][1]"]
    assert err.trace.rows[0].name == "0" and not err.trace.rows[0].failed


def test_mistake_7_linear_on_a_sequence_output_keeps_the_time_axis():
    model = ManyToMany(F, H, output_size=1)
    x = torch.randn(B, T, F)
    tr = trace(model, x)
    head = _row(tr, "head")
    assert _axes(head, "output") == ("batch", "time_steps", "units")
    assert head.outputs[0].shape == tuple(model(x)[0].shape)
    assert "applied at every time step" in head.note


class LastHidden(nn.Module):
    """The bidirectional mistake: h_n[-1] is the last layer's backward direction only (H wide)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(F, H, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * H, 1)

    def forward(self, x):
        _, (h_n, _) = self.lstm(x)
        return self.fc(h_n[-1])


def test_mistake_8_h_n_last_under_bidirectional():
    err = _fails(LastHidden(), torch.randn(B, T, F))
    why = _check_failure(err, "fc", "Linear")
    assert f"axis 1 (features) is {H}, expected {2 * H}" in why
    assert "torch.cat([h_n[-2], h_n[-1]], dim=1)" in why
    assert "output[:, -1]" in why
    assert _axes(err.trace.rows[-1], "x") == (
        "batch",
        "hidden",
    )  # derived from h_n (layers*directions, batch, hidden)


def test_mistake_9_wrong_number_of_features():
    model = Head(nn.LSTM(F, H, batch_first=True))
    why = _check_failure(_fails(model, torch.randn(B, T, 5)), "lstm", "LSTM")
    assert "axis 2 (features) is 5, expected 3" in why
    assert "input_size=5" in why


def test_mistake_10_time_and_features_flattened():
    model = Head(nn.LSTM(F, H, batch_first=True))
    why = _check_failure(_fails(model, torch.randn(B, T * F)), "lstm", "LSTM")
    assert "time_steps and features are flattened into one axis of 21" in why
    assert f"x.reshape({B}, -1, {F})" in why


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
def test_mistake_12_proj_size_h0_of_width_hidden():
    lstm = nn.LSTM(F, 8, proj_size=3, batch_first=True)
    x = torch.randn(B, T, F)
    why = _check_failure(_fails(lstm, (x, (torch.zeros(1, B, 8), torch.zeros(1, B, 8)))), "model", "LSTM")
    assert "axis 2 (hidden_size) is 8, expected 3" in why
    assert "h0 (like h_n) is proj_size = 3 wide" in why
    # and c0 of width proj
    why = _check_failure(_fails(lstm, (x, (torch.zeros(1, B, 3), torch.zeros(1, B, 3)))), "model", "LSTM")
    assert why.startswith("model (LSTM): c0:") and "c0 keeps hidden_size = 8" in why


def test_the_failing_layer_is_the_innermost_one_entered():
    class Deep(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = nn.Sequential(nn.Linear(F, 6), nn.Sequential(nn.Tanh(), nn.LSTM(5, H)))

        def forward(self, x):
            return self.block(x)

    err = _fails(Deep(), torch.randn(T, B, F))
    why = _check_failure(err, "block.1.1", "LSTM")
    assert [r.name for r in err.trace.rows] == ["block.0", "block.1.0", "block.1.1"]
    assert "axis 2 (features) is 6, expected 5" in why


def test_a_failure_in_the_models_own_code_and_a_failure_that_is_no_shape():
    class Own(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(F, H, batch_first=True)

        def forward(self, x):
            out, _ = self.lstm(x)
            return out.view(-1, 999)

    err = _fails(Own(), torch.randn(B, T, F))
    why = _check_failure(err, "model", "Own")
    assert "its own forward() code failed after lstm" in why
    assert [r.name for r in err.trace.rows] == ["lstm", "model"]
    # a non-shape error is still reported, at its layer, with the original chained
    lstm = nn.LSTM(F, H).double()
    why = _check_failure(_fails(lstm, torch.randn(T, B, F, dtype=torch.float16)), "model", "LSTM", ValueError)
    assert why.startswith("model (LSTM): failed on x (7, 4, 3): ValueError: RNN input dtype (torch.float16)")


def test_the_course_model_checks_its_input_in_its_own_words():
    err = _fails(ManyToOne(F, 8), torch.randn(B, F, T))
    why = _check_failure(err, "model", "ManyToOne", cause=ValueError)
    assert "x: expected (batch, time_steps, features) = (?, ?, 3), got shape (4, 3, 7)" in why


def test_shape_error_message_is_the_diagnosis_then_the_table():
    err = _fails(Head(nn.LSTM(F, H, batch_first=True)), torch.randn(B, T, 5))
    first, _, rest = str(err).partition("\n\n")
    assert first == err.trace.diagnosis
    assert re.search(r"^lstm\s+LSTM\s+x \(batch=4, time_steps=7, features=5\)\s+FAILED", rest, re.M)


# ---------------------------------------------------------------- messages a learner's run found wrong


def test_torch_fix_is_permute_not_numpys_transpose():
    """A batch_first nn.LSTM fed (batch, features, time_steps): torch's words, and they work."""
    lstm = nn.LSTM(3, 8, batch_first=True)
    x = torch.randn(4, 3, 10)  # (batch, features, time_steps)
    err = _fails(lstm, x)
    why = err.trace.diagnosis
    assert "use x.permute(0, 2, 1) or x.transpose(1, 2)" in why
    assert "transpose(0, 2, 1)" not in why
    with torch.no_grad():
        out_p, _ = lstm(x.permute(0, 2, 1))
        out_t, _ = lstm(x.transpose(1, 2))
    assert out_p.shape == (4, 10, 8) and torch.equal(out_p, out_t)


def test_h_n_rows_are_named_by_layer_and_direction():
    """The note's row names, checked against what nn.LSTM puts in each row of h_n."""
    torch.manual_seed(0)
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(2, 6, 3)
    note = trace(lstm, x).rows[0].note
    assert "h_n rows: layer 0 forward, layer 0 backward, layer 1 forward, layer 1 backward" in note
    with torch.no_grad():
        out, (h_n, _) = lstm(x)
        first = nn.LSTM(3, 5, bidirectional=True, batch_first=True)  # layer 0 alone, same weights
        first.load_state_dict({k: v for k, v in lstm.state_dict().items() if "_l0" in k})
        out0, _ = first(x)
    torch.testing.assert_close(h_n[0], out0[:, -1, :5])  # layer 0 forward ends at the last step
    torch.testing.assert_close(h_n[1], out0[:, 0, 5:])  # layer 0 backward ends at the first step
    torch.testing.assert_close(h_n[2], out[:, -1, :5])  # layer 1 forward
    torch.testing.assert_close(h_n[3], out[:, 0, 5:])  # layer 1 backward
    err = _fails(lstm, (x, (torch.zeros(2, 2, 5), torch.zeros(2, 2, 5))))  # num_layers rows only
    assert (
        "its 4 rows are, in order: layer 0 forward, layer 0 backward, layer 1 forward" in err.trace.diagnosis
    )
