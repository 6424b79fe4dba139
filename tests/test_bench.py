"""scripts/bench.py: its measuring and its BENCHMARKS.md writing work (no timing is asserted here:
speed targets live in the benchmark, never in a timed test)."""

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
    for t_np, t_torch in res.values():
        assert 0 < t_np < 60 and 0 < t_torch < 60


def test_the_targets_are_the_issue_s(bench):
    assert bench.TARGETS == {
        (64, 100, 32, 128): {"forward": 1.4, "forward+backward": 1.5},
        (256, 200, 64, 256): {"forward": 1.2},
    }


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
