"""The light modules stay light: importing (and using) each one in a fresh interpreter loads no framework.

A learner's ``import lstm_ref`` must not wait for TensorFlow, and the grader imports its screening and
misconception code in every worker. Each module runs in its own subprocess, since ``sys.modules`` of
this test process holds whatever other tests imported. Besides the frameworks, a module may forbid
more: the library (``lstm_ref``) never imports the grading code (``lstm_course``, ``nbgrader``), the
screen never imports nbgrader, and the misconception catalogue not even NumPy.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "tensorflow", "keras", "jax")
GRADING = ("lstm_course", "nbgrader")

# module -> (what to run after importing it, what else it must not load)
LIGHT = {
    "lstm_ref": ("", GRADING),
    "lstm_ref.numpy": ("", GRADING),
    "lstm_ref.data": ("lstm_ref.data.load_airline()", GRADING),
    "lstm_ref.shapes": ("lstm_ref.shapes.param_count(1, 2, framework='torch')", GRADING),
    "lstm_ref._checks": ("", GRADING),
    "lstm_ref.diagnose": ("", GRADING),
    "lstm_ref.feedback": ("", GRADING),
    "lstm_ref.trace": ("from lstm_ref.trace import ShapeError, ShapeTrace, trace", GRADING),
    "lstm_ref.trace._core": ("", GRADING),
    "lstm_course.grading.screen": ("", ("nbgrader",)),
    "lstm_course.results.misconceptions": ("", ("numpy",)),
}


@pytest.mark.parametrize("module", LIGHT)
def test_a_light_module_loads_no_framework(module):
    use, forbidden = LIGHT[module]
    heavy = FRAMEWORKS + forbidden
    code = (
        f"import sys, json, {module}\n{use}\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [], f"import {module}; {use} loaded them"
