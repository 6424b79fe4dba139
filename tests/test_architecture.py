"""ARCHITECTURE.md agrees with the tree, and the packages keep the boundaries it describes.

The page's tables name every module of ``lstm_ref``, ``lstm_course``, ``scripts`` and the book's own
Python, and for each the test files that cover it and their speed; here each of those is checked
against the files themselves (and their ``slow`` marks). The import graph is read from the source with
``ast``: no cycles between modules of a package, and no module of ``lstm_course`` uses another's private
(``_``) names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
PACKAGES = ("lstm_ref", "lstm_course")
# where a module must be named on the page: every .py in these folders (a package's __init__/__main__
# are named by its folder)
NAMED_TREES = ("lstm_ref", "lstm_course", "scripts", "book/lstm_figures")


def _rows() -> list[list[str]]:
    """The cells of every table row whose first cell is not the header or the rule."""
    rows = []
    for line in PAGE.splitlines():
        if line.startswith("|") and not line.startswith("|---") and not line.startswith("| stage |"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
    return rows


def _named_paths() -> set[str]:
    return set(re.findall(r"`((?:lstm_ref|lstm_course|scripts|book|tests|docs)/[\w/.-]*)`", PAGE))


def _modules() -> set[str]:
    """Every module that must be named: a .py file, or the folder of a package for its __init__/__main__."""
    found = set()
    for tree in NAMED_TREES:
        for p in sorted((ROOT / tree).rglob("*.py")):
            rel = p.relative_to(ROOT)
            if "__pycache__" in rel.parts or "_build" in rel.parts:
                continue
            found.add(
                f"{rel.parent.as_posix()}/" if p.name in ("__init__.py", "__main__.py") else rel.as_posix()
            )
    found |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "book").glob("*.py")}
    found |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "scripts").glob("*.sh")}
    return found


def _layout() -> dict[str, str]:
    """The layout table: first-column path -> the row's description."""
    section = PAGE.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \| (.+) \|$", section, re.M)
    assert rows, "ARCHITECTURE.md: no layout table under '## Layout'"
    return dict(rows)


def test_layout_covers_every_tracked_top_level_folder():
    import subprocess

    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    tracked = [f for f in out.splitlines() if (ROOT / f).exists()]
    folders = {f.split("/")[0] + "/" for f in tracked if "/" in f}
    folders |= {"/".join(f.split("/")[:2]) + "/" for f in tracked if f.startswith(".github/")}
    layout = _layout()
    missing = {d for d in folders if d not in layout and not any(p.startswith(d) for p in layout)}
    assert not missing, f"tracked folders missing from the layout table: {sorted(missing)}"
    for path in layout:
        assert (ROOT / path).exists(), f"the layout table names {path}, which is not in the tree"


def test_every_path_named_exists():
    missing = sorted(p for p in _named_paths() if not (ROOT / p).exists())
    assert not missing, f"ARCHITECTURE.md names what is not in the tree: {missing}"


def test_every_module_is_named():
    named = _named_paths()
    unnamed = sorted(m for m in _modules() if m not in named)
    assert not unnamed, f"modules ARCHITECTURE.md does not name: {unnamed}"


def _is_slow(test_file: Path) -> bool:
    """A file whose tests are marked slow: the whole module, or any one test."""
    return "pytest.mark.slow" in test_file.read_text(encoding="utf-8")


def test_each_rows_tests_exist_and_its_speed_is_theirs():
    rows = [r for r in _rows() if len(r) == 5]
    assert len(rows) >= 30, "the stage tables have 5 columns: stage, module, what, tests, speed"
    for stage, module, _, tests, speed in rows:
        if tests.startswith("none (needs CUDA"):  # scripts/gpu_check.py: no GPU where tests run
            assert speed == "-", module
            continue
        files = re.findall(r"`(tests/[\w.]+\.py)`", tests)
        assert files, f"{module}: no test file named"
        for f in files:
            assert (ROOT / f).is_file(), f"{module}: {f} does not exist"
        want = "slow" if any(_is_slow(ROOT / f) for f in files) else "fast"
        assert speed == want, f"{module} ({stage}): its tests are {want}, the page says {speed}"


# --------------------------------------------------------------------------- the import graph


def _package_modules(pkg: str, root: Path) -> dict[str, Path]:
    mods = {}
    for p in sorted((root / pkg).rglob("*.py")):
        parts = p.relative_to(root).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mods[name] = p
    return mods


def _imports(pkg: str, root: Path = ROOT) -> tuple[dict[str, set[str]], list[str]]:
    """``{module: modules of pkg it imports}`` (lazy imports in functions too) and every use of another
    module's private name, as ``"user -> module._name"``."""
    mods = _package_modules(pkg, root)
    edges: dict[str, set[str]] = {m: set() for m in mods}
    private = []
    for m, path in mods.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == pkg:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    target = full if full in mods else node.module
                    if target in mods and target != m:
                        edges[m].add(target)
                    if full in mods:
                        aliases[a.asname or a.name] = full
                    elif a.name.startswith("_") and not a.name.startswith("__"):
                        private.append(f"{m} -> {full}")
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name in mods and a.name != m:
                        edges[m].add(a.name)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                private.append(f"{m} -> {aliases[node.value.id]}.{node.attr}")
    return edges, private


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of its modules, or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done

    def visit(m: str, path: list[str]) -> list[str] | None:
        state[m] = 1
        for t in sorted(edges[m]):
            # a package's __init__ importing its own submodule is no cycle: Python loads it first
            if t.startswith(m + "."):
                continue
            if state.get(t) == 1:
                return [*path[path.index(t) :], t] if t in path else [m, t]
            if t not in state and (found := visit(t, [*path, t])):
                return found
        state[m] = 2
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m, [m])):
            return found
    return None


@pytest.mark.parametrize("pkg", PACKAGES)
def test_no_import_cycles(pkg):
    edges, _ = _imports(pkg)
    assert _cycle(edges) is None, f"{pkg}: import cycle {' -> '.join(_cycle(edges))}"


@pytest.mark.parametrize("pkg", ["lstm_course"])
def test_no_private_names_across_modules(pkg):
    _, private = _imports(pkg)
    assert not private, f"{pkg}: modules reach for another module's private names: {private}"


def test_the_graph_checks_see_a_cycle_and_a_private_name(tmp_path):
    """The two checks above can fail: a tiny package with both faults."""
    pkg = tmp_path / "pkg_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg_demo.b import _hidden\n")
    (pkg / "b.py").write_text("def f():\n    from pkg_demo import a\n_hidden = 1\n")
    edges, private = _imports("pkg_demo", tmp_path)
    assert _cycle(edges) == ["pkg_demo.a", "pkg_demo.b", "pkg_demo.a"]
    assert private == ["pkg_demo.a -> pkg_demo.b._hidden"]
