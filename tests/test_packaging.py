"""Packaging: requirements.lock pins what pyproject.toml asks for and environment.yml installs it,
the light modules stay free of torch and TensorFlow, a built wheel carries the airline data, and its
`lstm-course` works outside a checkout while its `lstm_ref` holds no course code."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
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


def _lock() -> dict[str, str]:
    """requirements.lock as ``{normalised name: version}``; each package once, as ``name==version``."""
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;@]+)", line)
        assert m, f"requirements.lock: {line!r} is not a plain `name==version` pin"
        name = _parse_req(m.group(1))[0]
        assert name not in pins, f"requirements.lock pins {name} twice"
        pins[name] = m.group(2)
    return pins


def test_lock_satisfies_pyproject():
    """Every requirement of pyproject.toml (base, every extra, the build system) is locked, in range."""
    from packaging.requirements import Requirement

    project = _pyproject()
    wanted = project["project"]["dependencies"] + project["build-system"]["requires"]
    wanted += [r for extra in project["project"]["optional-dependencies"].values() for r in extra]
    pins = _lock()
    for text in wanted:
        req = Requirement(text)
        name = _parse_req(req.name)[0]
        assert name in pins, f"{text} is not in requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} breaks {text}"
    for extra_pkg in ("distributed", "psycopg-binary"):  # dask[distributed], psycopg[binary]
        assert extra_pkg in pins
    assert {"pip", "setuptools", "wheel", "uv"} <= set(pins), "the installers are locked too"


def test_lock_has_the_cpu_torch_and_no_cuda():
    pins = _lock()
    assert pins["torch"] == "2.13.0+cpu"
    cuda = sorted(n for n in pins if n.startswith(("nvidia-", "cuda-", "triton")))
    assert cuda == [], f"CUDA packages in the lock: {cuda}"


def test_lock_is_closed_under_dependencies():
    """Each locked package's own requirements (on this platform, no extras) are locked too.

    Read from the installed metadata, which also checks that this environment is the lock's."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    pins = _lock()
    for name, version in pins.items():
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            raise AssertionError(f"{name} is locked but not installed: run `make setup`") from None
        assert dist.version == version, f"{name} {dist.version} is installed, {version} locked: `make setup`"
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                assert _parse_req(req.name)[0] in pins, f"{name} needs {text}, which is not locked"


def test_environment_yml_installs_the_lock():
    """environment.yml installs requirements.lock itself, so conda users get the same versions."""
    pip = _env_pip_list()
    assert [r for r in pip if not r.startswith("--")] == ["-r requirements.lock", "-e ."]
    assert all(r.startswith("--extra-index-url ") for r in pip if r.startswith("--"))
    # the smaller extras are subsets of `course`, so they are covered too
    extras = _pyproject()["project"]["optional-dependencies"]
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


# --------------------------------------------------------------------------- the course tools in the wheel

IMPORTS_COURSE_CODE = re.compile(r"^\s*(?:from|import)\s+(?:lstm_course|nbgrader|dask|distributed)\b", re.M)


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """The wheel built from a clean copy of the sources, installed with ``pip --target`` (no venv, offline).

    Returns ``(wheel, site)``: the ``.whl`` and the folder holding its packages and its ``bin/lstm-course``.
    """
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src)
    for pkg in ("lstm_ref", "lstm_course"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "-q", "--disable-pip-version-check"]
    offline = ["--no-deps", "--no-build-isolation", "--no-index"]
    subprocess.run(
        [*pip, "wheel", *offline, "-w", str(tmp / "dist"), str(src)], check=True, capture_output=True
    )
    (wheel,) = (tmp / "dist").glob("lstm_ref-*.whl")
    site = tmp / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--no-index", "--target", str(site), str(wheel)], check=True
    )
    return wheel, site


def test_wheel_keeps_the_course_tools_out_of_lstm_ref(installed_wheel):
    """``lstm_ref`` in the wheel is the library only; the tools are the top-level ``lstm_course``."""
    wheel, _ = installed_wheel
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        library = {n: zf.read(n).decode() for n in names if n.startswith("lstm_ref/") and n.endswith(".py")}
        (entry_points,) = (n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "lstm-course = lstm_course.cli:main" in zf.read(entry_points).decode()
    for module in ("cli", "grading/worker", "sandbox/guard", "results/misconceptions"):  # every stage ships
        assert f"lstm_course/{module}.py" in names, module
    assert not [n for n in library if Path(n).stem in ("course", "misconceptions") or "/course/" in n]
    assert {n for n, text in library.items() if IMPORTS_COURSE_CODE.search(text)} == set()


def _run_installed(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """``lstm-course ARGS`` from the installed wheel, in ``cwd`` (outside the checkout)."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [str(site / "bin" / "lstm-course"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )


@pytest.mark.slow
def test_installed_console_script_works_outside_the_checkout(installed_wheel, tmp_path):
    """From a folder outside the checkout: --help, a clear error without a course, release with --root."""
    _, site = installed_wheel
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = subprocess.run(
        [
            sys.executable,
            "-c",
            "import lstm_course, lstm_ref; print(lstm_course.__file__, lstm_ref.__file__)",
        ],
        cwd=elsewhere,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert all(Path(f).is_relative_to(site) for f in where.stdout.split()), where.stdout  # not the checkout

    helped = _run_installed(site, elsewhere, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--root" in helped.stdout and "nbgrader_config.py" in helped.stdout

    lost = _run_installed(site, elsewhere, "release")
    assert lost.returncode != 0
    assert "no course root" in lost.stderr and "nbgrader_config.py" in lost.stderr and "--root" in lost.stderr

    course = tmp_path / "course"  # a copy with no book: release must not create book/exercises.md
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / "shapes", course / "solutions" / "shapes")
    released = _run_installed(site, elsewhere, "--root", str(course), "release", "shapes")
    assert released.returncode == 0, released.stdout + released.stderr
    assert "released exercises/shapes" in released.stdout
    got = (course / "exercises" / "shapes" / "shapes.ipynb").read_bytes()
    assert got == (ROOT / "exercises" / "shapes" / "shapes.ipynb").read_bytes()
    assert not (course / "book").exists()
    assert sorted(p.name for p in elsewhere.iterdir()) == [], "the command wrote into the folder it ran in"
