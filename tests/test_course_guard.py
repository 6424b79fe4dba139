"""The guard, without a kernel: a stand-in shell, real modules, the patches students try.

(The guard inside a real sandboxed kernel is exercised by tests/test_course_adversarial.py.)
"""

from __future__ import annotations

import builtins
import sys

import numpy as np
import numpy.testing
import pytest

import lstm_ref.feedback as fb
from lstm_course import guard


class Kernel:
    def do_execute(self, code):
        return {"status": "ok" if "raise" not in code else "error"}


class Shell:
    def __init__(self):
        self.kernel = Kernel()
        self.user_ns = {}

    def showtraceback(self, *args):
        return "traceback shown"


@pytest.fixture
def shell():
    sh = Shell()
    sh.user_ns.update(assert_close=fb.assert_close, np=np, BH=("batch", "hidden_size"))
    snap = guard.snapshot(sh.user_ns, sh, ["assert_close", "np", "BH"])
    yield sh, snap
    guard.restore(snap, sh.user_ns)  # never leave this test process patched


def test_nothing_changed_nothing_reported(shell):
    sh, snap = shell
    assert guard.restore(snap, sh.user_ns) == []


def test_module_attributes_are_put_back(shell):
    sh, snap = shell
    real_allclose, real_assert_allclose = np.allclose, numpy.testing.assert_allclose
    np.allclose = lambda *a, **k: True
    numpy.testing.assert_allclose = lambda *a, **k: None
    fb.assert_close = lambda *a, **k: None
    sys.modules["lstm_ref.feedback"] = type(sys)("fake")
    fixed = guard.restore(snap, sh.user_ns)
    assert np.allclose is real_allclose and numpy.testing.assert_allclose is real_assert_allclose
    assert sys.modules["lstm_ref.feedback"] is fb
    with pytest.raises(AssertionError, match="differs from the reference"):
        fb.assert_close(np.ones(2), np.zeros(2))
    assert {"numpy.allclose", "numpy.testing.assert_allclose", "lstm_ref.feedback.assert_close"} <= set(fixed)
    assert "sys.modules['lstm_ref.feedback']" in fixed


def test_replaced_code_objects_are_put_back(shell):
    sh, snap = shell
    fb.assert_shape.__code__ = (lambda *a, **k: None).__code__
    fixed = guard.restore(snap, sh.user_ns)
    with pytest.raises(AssertionError, match="should be"):
        fb.assert_shape(np.zeros((2, 3)), (2, 4), layout=("batch", "hidden_size"))
    assert any("assert_shape (code)" in f for f in fixed)


def test_user_namespace_names_and_builtins(shell):
    sh, snap = shell
    sh.user_ns["assert_close"] = lambda *a, **k: None
    del sh.user_ns["np"]
    real_isinstance = builtins.isinstance
    builtins.isinstance = lambda *a: True
    fixed = guard.restore(snap, sh.user_ns)
    assert builtins.isinstance is real_isinstance
    assert sh.user_ns["assert_close"] is fb.assert_close and sh.user_ns["np"] is np
    assert {"assert_close", "np", "builtins.isinstance"} <= set(fixed)


def test_rebinding_to_an_equal_value_is_restored_without_a_note(shell):
    sh, snap = shell
    sh.user_ns["BH"] = ("batch", "hidden_size")  # the real set-up cell running again
    assert guard.restore(snap, sh.user_ns) == []


def test_shell_and_kernel_methods_on_instances_and_classes(shell):
    sh, snap = shell
    sh.showtraceback = lambda *a: None
    Shell.showtraceback = lambda *a: None
    sh.kernel.do_execute = lambda code: {"status": "ok"}
    Kernel.forged = lambda self: None
    fixed = guard.restore(snap, sh.user_ns)
    assert sh.showtraceback() == "traceback shown"
    assert sh.kernel.do_execute("raise") == {"status": "error"}
    assert not hasattr(Kernel, "forged")
    assert {
        "Shell().showtraceback",
        "Shell.showtraceback",
        "Kernel().do_execute",
        "Kernel.forged (added)",
    } <= set(fixed)


def test_trace_hooks_are_removed(shell):
    sh, snap = shell
    old = sys.gettrace()  # coverage tools may have one; put it back after
    try:
        sys.settrace(lambda *a: None)
        assert "sys.settrace/setprofile hook" in guard.restore(snap, sh.user_ns)
        assert sys.gettrace() is None
    finally:
        sys.settrace(old)


def test_guard_source_runs_in_a_fresh_namespace():
    """The grader sends the file's source, never imports it in the kernel: it must run on its own."""
    ns: dict = {}
    exec(compile(open(guard.__file__).read(), "<lstm-course guard>", "exec"), ns)
    assert callable(ns["start"]) and callable(ns["check"])
