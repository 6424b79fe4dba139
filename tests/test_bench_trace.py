"""scripts/bench_trace.py runs end to end on tiny models and writes its BENCHMARKS block in place."""

from __future__ import annotations

import re


def test_bench_trace_reports_every_model_and_rewrites_only_its_block(load_script, tmp_path, capsys):
    bench = load_script("bench_trace")
    md = tmp_path / "BENCH.md"
    md.write_text(f"# Benchmarks\n\nbefore\n\n{bench.BEGIN}\nold numbers\n{bench.END}\n\nafter\n")
    args = ["--rounds", "2", "--batch", "2", "--steps", "3", "--features", "2", "--hidden", "4"]
    assert bench.main([*args, "--write", str(md)]) == 0  # without --check a missed goal is only reported
    out = capsys.readouterr().out
    rows = re.findall(
        r"^\| (PyTorch|Keras)[^|]*\| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| (met|MISSED) \|$", out, re.M
    )
    assert len(rows) == 4, out
    for _, plain, traced, ratio, verdict in rows:  # times are printed to 0.1 ms: the ratio is not recomputed
        assert float(plain) > 0 and float(traced) > 0 and float(ratio) > 0
        assert (verdict == "met") == (float(ratio) <= bench.GOAL)
    text = md.read_text()
    assert (
        "old numbers" not in text and text.startswith("# Benchmarks\n\nbefore\n") and text.endswith("after\n")
    )
    assert text.count(bench.BEGIN) == 1 and "trace / plain" in text
