"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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


def _scripts_package() -> None:
    """Make ``scripts/`` importable as the package ``scripts``, as ``python -m scripts.NAME`` finds it
    from the root. It is not installed, and a bare ``pytest`` does not put the root on ``sys.path``:
    then the package is imported from its folder (``sys.path`` is left alone)."""
    import importlib.util

    if "scripts" in sys.modules or importlib.util.find_spec("scripts") is not None:
        return
    spec = importlib.util.spec_from_file_location("scripts", ROOT / "scripts" / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["scripts"] = module
    spec.loader.exec_module(module)


_scripts_package()
import scripts  # noqa: E402  the builders (scripts.cheatsheet, ...) and scripts.book_module

assert Path(scripts.__file__).resolve() == ROOT / "scripts" / "__init__.py", scripts.__file__


def _load_script(name: str):
    """The module ``scripts.<name>`` (``scripts/<name>.py``), imported."""
    import importlib

    return importlib.import_module(f"scripts.{name}")


@pytest.fixture(scope="session")
def load_script():
    """``load_script("bench")``: the module ``scripts.bench`` (see ``_load_script``)."""
    return _load_script


# Debian's headless Chromium with the flags every builder uses, and a local server for the browser
# tests (scripts/chromium.py): `from conftest import launch, keep_local, serve`.
from scripts.chromium import CHROMIUM, keep_local, launch, serve  # noqa: E402, F401


def book_lock():
    """The file lock every writer of ``book/_build`` (or of the book's execution cache) holds, so that
    test files on two pytest-xdist workers never build there at once: ``with book_lock(): ...``."""
    from filelock import FileLock

    (ROOT / "book" / "_build").mkdir(parents=True, exist_ok=True)
    return FileLock(ROOT / "book" / "_build" / ".build.lock")


def build_book() -> Path:
    """``make book`` as a test runs it: the cheat sheet the book links (``python -m scripts.cheatsheet``),
    then ``python -m scripts.book`` (the English edition with ``--warningiserror``, executed or from the
    execution cache, then the zh_CN edition from the same outputs), both under ``book_lock()``. Checks
    the build log, including ``book/progress.py``'s per-chapter lines; returns the HTML folder.

    Once per run: a worker of the same pytest-xdist run that finds the book built and checked by
    another (a marker named after the run, written last, under the lock) takes it as it is, instead of
    a no-op rebuild of both editions (about 25 s, more on a busy machine)."""
    html = ROOT / "book" / "_build" / "html"
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", "")
    marker = ROOT / "book" / "_build" / f".built-{run}"
    with book_lock():
        if run and marker.is_file():
            return html
        for old in (ROOT / "book" / "_build").glob(".built-*"):
            old.unlink()
        _build_and_check_book()
        if run:
            marker.write_text("built and checked by this run\n")
    return html


def _build_and_check_book() -> None:
    """The two commands of :func:`build_book` and the checks of their log (the caller holds the lock)."""
    sheet = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.cheatsheet",
            "--out",
            str(ROOT / "book/_static/cheatsheet"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert sheet.returncode == 0, (
        "python -m scripts.cheatsheet failed:\n" + (sheet.stdout + sheet.stderr)[-4000:]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "scripts.book"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=3600,  # a hang is caught per cell (_config.yml); this only bounds a stuck build
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, "python -m scripts.book failed:\n" + log[-6000:]
    assert "build succeeded" in log
    assert "[book] zh_CN edition: book/_build/html/zh_CN/index.html" in log, log[-3000:]
    # progress.py: in each edition, one line per chapter read (executed or cached) and a summary when any was
    english, *translations = re.split(r"\[book\] building the ", log)[1:]
    for edition in translations:  # the code runs once: a translation takes every output from the cache
        executed = set(re.findall(r"book/(\w+)\.md: Executing notebook", edition)) - {"instructor_guide"}
        assert not executed, (
            f"the {edition.split()[0]} edition executed {sorted(executed)} again:\n" + edition[-3000:]
        )
    for edition in (english, *translations):
        todo = int(re.search(r"\[book\] (\d+) page\(s\) to read", edition).group(1))
        assert len(re.findall(r"\[book \d+/\d+\] \S+: [\d.]+ s", edition)) == todo, edition[-3000:]
        assert todo == 0 or re.search(r"\[book\] read \d+ page\(s\) in [\d.]+ s; slowest: ", edition)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """The built book's HTML folder, ``book/_build/html`` (see ``build_book``), once per worker."""
    return build_book()


def _postgres_bin() -> Path:
    """The folder of PostgreSQL's server programs (Debian keeps them off PATH)."""
    import glob
    import shutil

    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    hits = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not hits:
        pytest.fail("PostgreSQL's server is missing: run `make postgres` (Debian's postgresql package)")
    return Path(hits[-1]).parent


@pytest.fixture(scope="session")
def postgres_url():
    """A real PostgreSQL server for the session: ``initdb`` + ``pg_ctl`` in a temp dir, on a loopback port.

    Yields the URL of an empty database ``gradebook``. As root, the server runs as Debian's ``postgres``
    user (``initdb`` refuses root). ``fsync=off``: these tests check transactions, not crash durability.
    """
    import os
    import shutil
    import socket
    import subprocess
    import tempfile

    psycopg = pytest.importorskip("psycopg")
    bindir = _postgres_bin()
    tmp = Path(tempfile.mkdtemp(prefix="lstm-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data, log = tmp / "data", tmp / "server.log"

    def run(*cmd: str) -> None:
        proc = subprocess.run([*as_user, *cmd], capture_output=True, text=True, timeout=300)
        if proc.returncode:
            server_log = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            pytest.fail(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}\n{server_log}")

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "grader", "--no-sync", "-E", "UTF8")
    opts = f"-k {tmp} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(log), "-w", "-t", "300", "start")
    try:
        conn = psycopg.connect(host="127.0.0.1", port=port, user="grader", dbname="postgres")
        conn.autocommit = True
        conn.cursor().execute("CREATE DATABASE gradebook")
        conn.close()
        yield f"postgresql://grader@127.0.0.1:{port}/gradebook"
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def postgres_db(postgres_url):
    """A new, empty database on the session's PostgreSQL server, for one test; dropped after it."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = postgres_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE {name} WITH (FORCE)")


# --------------------------------------------------------------------------- running in parallel (pytest-xdist)
# `make test` runs the suite in two passes (Makefile). The first, `pytest -n 2`, runs every test that
# can share the machine, a whole file per worker (`--dist loadfile` in pyproject.toml): a file's
# module-scoped fixtures (a built book, a graded course) are made once, and two workers never write
# the same fixed path (book/_build, artifacts/). Files go out in the order of `pytest_collection_modifyitems`
# below, longest first, so that the two workers finish together. The second pass runs the EXCLUSIVE
# files one after the other, with nothing beside them.
# LSTM_TESTS=shared leaves them out, LSTM_TESTS=exclusive runs only them; unset, a run with workers
# leaves them out (and says so) and a plain `pytest` runs everything.
# (Not `--dist loadgroup`: pytest-xdist 3.8 writes the group into `item._nodeid`, which pytest 9.2 no
# longer reads, so its xdist_group marks are silently ignored.)

EXCLUSIVE = {
    "test_course_dask.py": "asserts that no `lstm_course.sandbox.bwrap` process is left anywhere on the host",
    "test_course_adversarial.py": "grades a class under attack with every core, then counts what survived",
}
# xdist gives a worker the next file in line when its own has at most two tests left. The worker on
# test_exercises.py is free before the book is built (about 300 s against 330 on 2026-12-06): the next
# file, test_course.py, keeps it busy meanwhile (test_book_i18n.py there would wait for the book's lock),
# and test_book_i18n.py goes to the first worker free after that, usually the one that built the book.
LONGEST_FIRST = [  # seconds on 2 workers, fresh clone, 2026-11-29; files not listed follow in collection order
    "test_exercises.py",  # 495 (about 300 on 2026-12-06)
    "test_book.py",  # 431 (the book built: about 330)
    "test_course.py",  # 143
    "test_book_i18n.py",  # the book is built by then (on the other worker: build_book's marker)
    "test_keras.py",  # 83
    "test_packaging.py",  # 68
    "test_course_tasks.py",  # 54
    "test_numpy.py",  # 49
    "test_course_sandbox.py",  # 49
]


def _which(config) -> str:
    """``all``, ``shared`` (no EXCLUSIVE file) or ``exclusive`` (only those): see the note above."""
    workers = os.environ.get("PYTEST_XDIST_WORKER") or getattr(config.option, "numprocesses", None)
    which = os.environ.get("LSTM_TESTS") or ("shared" if workers else "all")
    if which not in ("all", "shared", "exclusive"):
        raise pytest.UsageError(f"LSTM_TESTS={which!r}: use shared, exclusive or leave it unset")
    return which


def pytest_collection_modifyitems(config, items):
    which = _which(config)
    if which != "all":
        wanted = which == "exclusive"
        config.hook.pytest_deselected(items=[it for it in items if (it.path.name in EXCLUSIVE) != wanted])
        items[:] = [it for it in items if (it.path.name in EXCLUSIVE) == wanted]
    if which == "shared":  # every worker sorts the same way, so their collections still agree
        rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda it: rank.get(it.path.name, len(rank)))


def pytest_terminal_summary(terminalreporter, config):
    if _which(config) == "shared":
        terminalreporter.write_line(
            "left out of this run, to be run alone (`make test` does it next, or LSTM_TESTS=exclusive): "
            + "; ".join(f"{name} ({why})" for name, why in EXCLUSIVE.items())
        )


def sql_rows(db_url: str, query: str) -> list[tuple]:
    """Run SQL on a gradebook directly, not through our code or nbgrader's (psycopg for PostgreSQL, sqlite3 for SQLite)."""
    if db_url.startswith("postgresql"):
        import psycopg

        conn = psycopg.connect(db_url)
    else:
        import sqlite3

        conn = sqlite3.connect(db_url[len("sqlite:///") :])
    try:
        cur = conn.cursor()
        cur.execute(query)
        return list(cur.fetchall())
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _back_to_the_starting_folder():
    """A test that grades in process moves with nbgrader (``settle``): the next test on the same xdist
    worker (the package's doctests look for the course root from the current folder) starts where the
    run started, whatever the order."""
    start = os.getcwd()
    yield
    if os.getcwd() != start:
        os.chdir(start)
