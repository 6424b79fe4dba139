"""Packaging: environment.yml pins what pyproject.toml pins, the light modules stay
free of torch and TensorFlow, and a built wheel carries the airline data."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import yaml  # PyYAML, installed with jupyter-book

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _env():
    return yaml.safe_load((ROOT / "environment.yml").read_text())


def _parse_req(req: str) -> tuple[str, str]:
    """``"Foo_Bar[x] >= 1.0, <2"`` -> ``("foo-bar[x]", "<2,>=1.0")``: normalised name, sorted specifiers."""
    m = re.fullmatch(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*", req)
    assert m, f"cannot parse requirement {req!r}"
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower() + (m.group(2) or "").replace(" ", "")
    specs = ",".join(sorted(s.replace(" ", "") for s in m.group(3).split(",") if s.strip()))
    return name, specs


def _env_pip_list():
    deps = _env()["dependencies"]
    pip = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1, "environment.yml needs exactly one pip: section"
    return pip[0]


def test_parse_req_by_hand():
    assert _parse_req("numpy>=1.26,<3") == ("numpy", "<3,>=1.26")
    assert _parse_req("Jupyter_Book == 1.0.4.post1") == ("jupyter-book", "==1.0.4.post1")
    assert _parse_req("pytest") == ("pytest", "")


def test_environment_yml_mirrors_pyproject():
    project = _pyproject()["project"]
    extras = project["optional-dependencies"]
    want = [_parse_req(r) for r in project["dependencies"] + extras["course"] + extras["dev"]]
    pip = _env_pip_list()
    editable = [r for r in pip if r.startswith("-e")]
    got = [_parse_req(r) for r in pip if not r.startswith("-")]
    assert editable == ["-e ."], "environment.yml must install the course package itself with `-e .`"
    assert len(got) == len(set(got)), "a requirement is listed twice in environment.yml"
    assert dict(got) == dict(want), (
        f"only in environment.yml: {sorted(set(got) - set(want))}; "
        f"only in pyproject.toml: {sorted(set(want) - set(got))}"
    )
    # the smaller extras are subsets of `course`, so they are covered too
    course = {_parse_req(r) for r in extras["course"]}
    for extra in ("torch", "keras"):
        assert {_parse_req(r) for r in extras[extra]} <= course, extra


def test_environment_yml_header():
    env = _env()
    assert env["name"] == "lstm-course"
    deps = env["dependencies"]
    pythons = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert pythons == ["python=3.11"]
    assert "pip" in deps
    lowest = re.fullmatch(r">=\s*(\d+\.\d+)", _pyproject()["project"]["requires-python"]).group(1)
    assert tuple(map(int, lowest.split("."))) <= (3, 11)


def test_light_modules_do_not_import_frameworks():
    code = (
        "import sys\n"
        "import lstm_ref, lstm_ref.numpy, lstm_ref.data, lstm_ref.shapes\n"
        "lstm_ref.data.load_airline(); lstm_ref.shapes.param_count(1, 2, framework='torch')\n"
        "heavy = {'torch', 'tensorflow', 'keras', 'jax'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]", out.stdout


def test_built_wheel_ships_the_airline_data(tmp_path):
    """Build a wheel from a clean copy, unpack it elsewhere and load the data from there."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    for extra in ("README.md", "LICENSE"):
        if (ROOT / extra).exists():
            shutil.copy(ROOT / extra, src)
    shutil.copytree(ROOT / "lstm_ref", src / "lstm_ref", ignore=shutil.ignore_patterns("__pycache__"))
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
    subprocess.run([*cmd, "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("lstm_ref-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        assert "lstm_ref/datasets/airline_passengers.csv" in zf.namelist()
        site = tmp_path / "site"
        zf.extractall(site)
    code = (
        "import lstm_ref, lstm_ref.data as d\n"
        "v, m = d.load_airline(with_months=True)\n"
        "print(lstm_ref.__file__); print(v.shape, v.dtype, v[0], v[-1], m[0], m[-1])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path, env=env
    )
    file_line, data_line = out.stdout.strip().splitlines()
    assert Path(file_line).is_relative_to(site), file_line  # the unpacked wheel, not the repo
    assert data_line == "(144,) float32 112.0 432.0 1949-01 1960-12"
