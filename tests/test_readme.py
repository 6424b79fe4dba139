"""README.md and the guides it points to agree with the tree: every `make` target named exists and every
target of the Makefile is named in the README; every relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PAGES = [
    "README.md",
    "ARCHITECTURE.md",
    "BENCHMARKS.md",
    *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md")),
]


def test_make_targets_in_the_readme_exist_and_every_target_is_named():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert named <= targets, f"README names make targets that do not exist: {named - targets}"
    assert targets <= named, f"make targets the README does not name: {targets - named}"


@pytest.mark.parametrize("page", PAGES)
def test_relative_links_resolve(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    links = [t for t in re.findall(r"\]\(([^)#\s]+)", text) if "://" not in t]
    missing = [t for t in links if not (ROOT / page).parent.joinpath(t).exists()]
    assert not missing, f"{page} links to what is not there: {missing}"


@pytest.mark.parametrize("page", PAGES)
def test_paths_named_exist(page):
    """A file of this repository named in a guide (`lstm_course/grading/cells.py`) is there."""
    text = (ROOT / page).read_text(encoding="utf-8")
    named = set(
        re.findall(r"`((?:lstm_ref|lstm_course|scripts|book|tests|docs)/[\w/.-]+\.(?:py|sh|md|yml))`", text)
    )
    missing = sorted(p for p in named if not (ROOT / p).exists())
    assert not missing, f"{page} names files that are not there: {missing}"


def test_the_readme_is_short():
    """What it is, the two commands and where to go next: the details live in the pages it links."""
    assert len(README.encode()) < 8000, "README.md is over 8 KB: move details to docs/ or BENCHMARKS.md"
    assert not re.search(r"\b\d+(\.\d+)? (s|min)\b", README), "measured times belong in BENCHMARKS.md"
