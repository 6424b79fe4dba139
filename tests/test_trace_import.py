"""Tracing a torch model loads no Keras; ``python -m lstm_ref.trace`` prints a table and a diagnosis.

(That ``import lstm_ref.trace`` loads no framework at all: ``tests/test_imports.py``.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:  # a cold TF import took 155 s once
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_tracing_a_torch_model_loads_no_keras():
    code = (
        "import sys, torch\n"
        "from lstm_ref.trace import trace\n"
        "trace(torch.nn.LSTM(3, 4), torch.zeros(5, 2, 3))\n"
        "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_python_m_lstm_ref_trace_prints_a_table_and_a_diagnosis():
    done = _run("-m", "lstm_ref.trace")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "PyTorch model ManyToOne: 2 layer(s) traced" in out
    assert "x (batch=32, time_steps=12, features=1)" in out
    assert "h_n (layers*directions=2, batch=32, hidden=16)" in out
    assert "diagnosis: lstm (LSTM): x: expected (batch, time_steps, features)" in out
    assert "X.reshape(n, 1, look_back)" in out
    assert "Traceback" not in out + done.stderr


@pytest.mark.skipif(
    not (ROOT / "lstm_ref" / "trace" / "_keras.py").exists(), reason="the Keras tracer is not there yet"
)
def test_python_m_lstm_ref_trace_keras():
    code = (
        "import sys\n"
        "from lstm_ref.trace.__main__ import main\n"
        "rc = main(['--keras'])\n"
        "print('loaded torch:', 'torch' in sys.modules)\n"
        "sys.exit(rc)\n"
    )
    done = _run("-c", code)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Keras model" in out and "time_steps=12" in out
    assert "diagnosis: " in out
    assert "loaded torch: False" in out
    assert "Traceback" not in out + done.stderr
