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
