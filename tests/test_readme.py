"""README.md agrees with the tree: its layout table names every tracked top-level folder, script and
library module and nothing that is not there; every `make` target it names exists, and every target of
the Makefile is named."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [f for f in out.splitlines() if (ROOT / f).exists()]


def _layout() -> dict[str, str]:
    """The layout table: first-column path -> the row's description."""
    section = README.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, re.M)
    assert rows, "README.md: no layout table under '## Layout'"
    return dict(rows)


def test_layout_rows_exist_and_cover_every_top_level_folder():
    layout = _layout()
    for path in layout:
        assert (ROOT / path).exists(), f"README's layout table names {path}, which is not in the tree"
    folders = {f.split("/")[0] + "/" for f in _tracked() if "/" in f and not f.startswith(".ci/")}
    folders |= {"/".join(f.split("/")[:2]) + "/" for f in _tracked() if f.startswith(".github/")}
    missing = {d for d in folders if d not in layout and not any(p.startswith(d) for p in layout)}
    assert not missing, f"tracked folders missing from README's layout table: {sorted(missing)}"


def test_layout_names_every_script():
    row = _layout()["scripts/"]
    named = set(re.findall(r"`([\w.-]+\.(?:py|sh))`", row))
    scripts = {Path(f).name for f in _tracked() if re.fullmatch(r"scripts/[^/]+\.(py|sh)", f)}
    assert named == scripts, f"only in the README: {named - scripts}; only in scripts/: {scripts - named}"


def test_layout_names_every_library_module():
    row = _layout()["lstm_ref/"]
    named = {n.rstrip("/") for n in re.findall(r"`([\w/]+(?:\.py|/))`", row)}
    modules = {
        f.split("/")[1] if f.count("/") > 1 else Path(f).name
        for f in _tracked()
        if f.startswith("lstm_ref/") and f.endswith(".py") and not f.endswith("/__init__.py")
    }
    modules = {m.removesuffix("/") for m in modules}
    assert named == modules, f"only in the README: {named - modules}; only in lstm_ref/: {modules - named}"


def test_make_targets_in_the_readme_exist_and_every_target_is_named():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    named = set(re.findall(r"`make ([a-z][\w-]*)", README))
    assert named <= targets, f"README names make targets that do not exist: {named - targets}"
    assert targets <= named, f"make targets the README does not name: {targets - named}"
