"""Fixtures shared by the test modules."""

from __future__ import annotations

from pathlib import Path

import pytest


def _cmdline(proc: Path) -> bytes:
    try:
        return (proc / "cmdline").read_bytes()
    except OSError:  # it ended while we looked
        return b""


@pytest.fixture
def survivors():
    """``survivors(tag)``: pids of the host's processes whose command line contains ``tag``."""

    def find(tag: str) -> list[int]:
        return [
            int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and tag.encode() in _cmdline(p)
        ]

    return find


@pytest.fixture(scope="session")
def load_script():
    """``load_script("bench")``: the module ``scripts/bench.py``, loaded from its file (scripts/ is no package)."""
    import importlib.util

    def load(name: str):
        path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load
