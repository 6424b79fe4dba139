"""scripts/bench.py: its measuring and its BENCHMARKS.md writing work (no timing is asserted here:
speed targets live in the benchmark, never in a timed test)."""

import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench(load_script):
    return load_script("bench")


def test_measure_times_both_libraries_on_both_passes(bench, monkeypatch):
    monkeypatch.setattr(bench.time, "sleep", lambda s: None)
    res = bench.measure(2, 3, 4, 5, repeats=1, rounds=2)
    assert set(res) == {"forward", "forward+backward"}
    for times in res.values():
        assert set(times) == {"numpy", "default", "aten"}
        assert all(0 < t < 600 for t in times.values())


def test_the_aten_reference_really_runs_without_onednn(bench):
    """The targets' reference is torch's per-step loop: with oneDNN off, torch's profiler shows an
    ``addmm`` per time step and no oneDNN RNN primitive, and the outputs are the default kernel's."""
    import torch

    lstm, x = torch.nn.LSTM(3, 4), torch.randn(6, 2, 3)
    with bench.TORCH_PATHS["aten"](), torch.no_grad(), torch.autograd.profiler.profile() as prof:
        out_aten, _ = lstm(x)
    ops = [e.key for e in prof.function_events]
    assert "aten::mkldnn_rnn_layer" not in ops and ops.count("aten::addmm") >= 6
    assert bench.torch_lstm_kernel("aten") == "ATen loop"
    with torch.no_grad():
        out_default, _ = lstm(x)
    torch.testing.assert_close(out_aten, out_default, atol=1e-5, rtol=1e-5)
    assert torch.backends.mkldnn.enabled  # the context restored torch's setting


def test_blas_kernel_names_the_library(bench):
    assert "openblas" in bench.blas_kernel().lower()


def test_measure_times_the_engine_it_is_given(bench, monkeypatch):
    """``engine=`` picks the NumPy LSTM class: the readable one is timed through the same code."""
    from lstm_ref import numpy as readable

    made = []

    class Spy(readable.LSTM):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(bench.time, "sleep", lambda s: None)
    bench.measure(2, 3, 4, 5, repeats=1, rounds=1, engine=Spy)
    assert len(made) == 1
    from lstm_ref import numpy_fast

    engine = inspect.signature(bench.measure).parameters["engine"].default
    assert engine is numpy_fast.LSTM  # by default, the engine the targets are for


def test_every_target_is_judged_and_documented(bench):
    """Each target in the script gets a verdict on both sides of its bound, and BENCHMARKS.md's
    table states the same bound on the same size and pass."""
    table = (ROOT / "BENCHMARKS.md").read_text().split(bench.BEGIN)[1].split(bench.END)[0]
    assert bench.TARGETS and set(bench.TARGETS) <= set(bench.SIZES)
    for size, targets in bench.TARGETS.items():
        for measure_name, target in targets.items():
            assert bench.verdict(size, measure_name, target) == "met"
            assert bench.verdict(size, measure_name, target + 0.01) == "MISSED"
            row = f"| {', '.join(map(str, size))} | {measure_name} |"
            assert any(line.startswith(row) and f"<= {target}x" in line for line in table.splitlines()), row
    assert bench.verdict((1, 1, 1, 1), "forward", 99.0) == ""  # no target: no verdict


def test_write_table_replaces_only_the_generated_block(bench, tmp_path):
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(
        f"# Title\n\nintro\n\n{bench.BEGIN}\nold table\n{bench.END}\n\n## Reading the table\n\nnotes\n"
    )
    bench.write_table(doc, "| new | table |")
    text = doc.read_text()
    assert "old table" not in text and "| new | table |" in text
    assert text.startswith("# Title\n\nintro\n") and text.endswith("## Reading the table\n\nnotes\n")
    bench.write_table(doc, "| newer |")  # idempotent: the markers stay
    assert doc.read_text().count(bench.BEGIN) == 1 and "| new | table |" not in doc.read_text()


def test_write_table_refuses_a_file_without_markers(bench, tmp_path):
    doc = tmp_path / "notes.md"
    doc.write_text("hand-written only\n")
    with pytest.raises(SystemExit, match="bench:begin"):
        bench.write_table(doc, "| t |")
    assert doc.read_text() == "hand-written only\n"


def test_the_committed_benchmarks_file_has_the_markers(bench):
    text = (ROOT / "BENCHMARKS.md").read_text()
    assert text.count(bench.BEGIN) == 1 and text.count(bench.END) == 1
