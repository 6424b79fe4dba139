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
