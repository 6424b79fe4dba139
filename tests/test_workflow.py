"""The GitHub Actions workflow (.github/workflows/publish.yml): actionlint finds nothing, with shellcheck
on its `run:` scripts, and everything it names exists here: make targets, the paths it caches and
uploads, the files its cache keys hash, the Python version. No network is needed for any of it."""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"
ACTIONLINT = Path(sys.executable).with_name("actionlint")


@pytest.fixture(scope="module")
def flow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def _steps(flow: dict):
    for name, job in flow["jobs"].items():
        for step in job.get("steps", []):
            yield name, step


def _actionlint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ACTIONLINT), "-verbose", *map(str, paths)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_actionlint_is_clean_with_shellcheck_on():
    assert shutil.which("shellcheck"), "shellcheck is missing: `make shellcheck` installs Debian's package"
    proc = _actionlint(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'Rule "shellcheck" was disabled' not in proc.stderr, proc.stderr  # the run: scripts were checked


@pytest.mark.parametrize(
    "broken, found, rule",
    [
        ("github.event_name != 'pull_request'", "github.event_nam != 'pull_request'", "[expression]"),
        ("timeout-minutes: 120", "timeout-minutes: soon", "[syntax-check]"),
        ("run: make site", 'run: echo $UNQUOTED"', "[shellcheck]"),
    ],
)
def test_actionlint_finds_a_broken_copy(tmp_path, broken, found, rule):
    """The linter really lints: each one-line break of the workflow is reported, by the right rule."""
    text = WORKFLOW.read_text()
    assert broken in text
    bad = tmp_path / ".github" / "workflows" / "publish.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(text.replace(broken, found, 1))
    proc = _actionlint(bad)
    assert proc.returncode == 1 and rule in proc.stdout, proc.stdout + proc.stderr


def test_triggers_and_jobs(flow):
    """Pull requests run `make test`; pushes to main build the site and deploy it to GitHub Pages."""
    assert flow["on"]["push"]["branches"] == ["main"] and "pull_request" in flow["on"]
    jobs = flow["jobs"]
    assert "pull_request" in jobs["test"]["if"] and "make test" in [
        s.get("run") for s in jobs["test"]["steps"]
    ]
    assert "pull_request" in jobs["build"]["if"] and "make site" in [
        s.get("run") for s in jobs["build"]["steps"]
    ]
    assert jobs["deploy"]["needs"] == "build" and "refs/heads/main" in jobs["deploy"]["if"]
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert flow["permissions"] == {"contents": "read"}  # nothing else may write
    uses = [s.get("uses", "").split("@")[0] for _, s in _steps(flow)]
    assert {"actions/upload-pages-artifact", "actions/deploy-pages", "actions/cache"} <= set(uses)
    assert "secrets." not in WORKFLOW.read_text()


def test_make_targets_exist(flow):
    """Every `make X` in a run: step is a target of the Makefile."""
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][\w-]*):", makefile, re.M))
    runs = " ".join(s.get("run", "") for _, s in _steps(flow))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", runs))
    assert named >= {"test", "site"} and named <= targets, named - targets


def test_paths_it_caches_and_uploads(flow):
    """The uploaded site is what `make site` writes; the restored cache is the book's execution cache."""
    makefile = (ROOT / "Makefile").read_text()
    site = makefile.split("\nsite:", 1)[1].split("\n\n", 1)[0]
    paths = {s["with"]["path"] for _, s in _steps(flow) if "path" in s.get("with", {})}
    upload = [
        s["with"]["path"] for _, s in _steps(flow) if s.get("uses", "").startswith("actions/upload-pages")
    ]
    assert upload == ["book/_build/site"] and "cp -r book/_build/html book/_build/site" in site
    for part in ("book/_build/slides", "book/_build/pdf"):  # what `make slides` and `make pdf` write
        assert part in site and f"--out {part}" in makefile
    assert "book/_build/.jupyter_cache" in paths
    config = yaml.safe_load((ROOT / "book" / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "cache"  # jupyter-book keeps it in _build/.jupyter_cache
    assert paths - {"book/_build/.jupyter_cache", "book/_build/site"} == {flow["env"]["UV_CACHE_DIR"]}


def test_cache_keys_hash_real_files():
    """Each hashFiles() pattern matches tracked files: a key that hashes nothing never changes."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    files = tracked.splitlines()
    patterns = [
        p
        for args in re.findall(r"hashFiles\(([^)]*)\)", WORKFLOW.read_text())
        for p in re.findall(r"'([^']+)'", args)
    ]
    assert patterns
    for pattern in patterns:
        glob = pattern.replace("**", "*")
        assert any(fnmatch.fnmatch(f, glob) for f in files), f"hashFiles('{pattern}') matches no tracked file"


def test_python_version_matches_the_project(flow):
    """The container's Python is the one the lock and the Makefile are for."""
    images = {job["container"]["image"] for job in flow["jobs"].values() if "container" in job}
    assert images == {"python:3.11-bookworm"}
    assert re.search(r"^PY \?= python3\.11$", (ROOT / "Makefile").read_text(), re.M)
    assert 'requires-python = ">=3.11"' in (ROOT / "pyproject.toml").read_text()
