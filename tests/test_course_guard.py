"""The guard, without a kernel: a stand-in shell, real modules, the patches students try.

(The guard inside a real sandboxed kernel is exercised by tests/test_course_adversarial.py.)
"""

from __future__ import annotations

import builtins
import gc
import json
import sys

import numpy as np
import numpy.testing
import pytest

import lstm_ref.feedback as fb
from lstm_course.sandbox import guard


class Kernel:
    def do_execute(self, code):
        return {"status": "ok" if "raise" not in code else "error"}


class Events:
    def __init__(self):
        self.callbacks = {"pre_run_cell": [], "post_execute": []}


class Shell:
    """What the guard reads of IPython's shell: hooks, transformers, exception handlers, the kernel."""

    def __init__(self):
        self.kernel = Kernel()
        self.user_ns = {}
        self.input_transformers_post = []
        self.ast_transformers = []
        self.events = Events()
        self.custom_exceptions = ()

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


def test_ipython_hooks_are_put_back(shell):
    """The one-line exploits: an input transformer, an AST transformer, an event callback, a handler."""
    sh, snap = shell
    sh.input_transformers_post.append(lambda lines: ["pass\n"])
    sh.ast_transformers.append(object())
    sh.events.callbacks["pre_run_cell"].append(lambda info: None)
    sh.custom_exceptions = (AssertionError,)
    sh.CustomTB = lambda *a: None
    fixed = guard.restore(snap, sh.user_ns)
    assert sh.input_transformers_post == [] and sh.ast_transformers == []
    assert sh.events.callbacks["pre_run_cell"] == [] and sh.custom_exceptions == ()
    assert not hasattr(sh, "CustomTB")
    assert {
        "get_ipython().input_transformers_post",
        "get_ipython().ast_transformers",
        "get_ipython().events['pre_run_cell']",
        "get_ipython().custom_exceptions",
    } <= set(fixed)


def test_ipythons_own_hooks_are_adopted_not_reported(shell):
    """``%matplotlib inline`` registers a post_execute callback: that is not tampering."""
    from IPython.core.display_functions import display  # a function that IPython itself defines

    sh, snap = shell
    sh.events.callbacks["post_execute"].append(display)
    assert guard.restore(snap, sh.user_ns) == []
    assert sh.events.callbacks["post_execute"] == [display]


def test_shadowed_builtins_in_the_user_namespace(shell):
    """``AssertionError = ...`` or ``isinstance = ...`` in a student cell is put aside before a test."""
    sh, snap = shell
    sh.user_ns["AssertionError"] = type("AssertionError", (Exception,), {})
    sh.user_ns["isinstance"] = lambda *a: True
    sh.user_ns["max"] = 3  # an honest name clash: left alone
    fixed = guard.restore(snap, sh.user_ns)
    assert "AssertionError" not in sh.user_ns and "isinstance" not in sh.user_ns and sh.user_ns["max"] == 3
    assert {"AssertionError (shadows the builtin)", "isinstance (shadows the builtin)"} <= set(fixed)


def test_torch_functions_and_class_methods(shell):
    """torch's public API: a rebound function and a patched method of nn.LSTM are both put back."""
    torch = pytest.importorskip("torch")
    sh, _ = shell
    snap = guard.snapshot(sh.user_ns, sh, [])
    real_allclose, real_forward = torch.allclose, torch.nn.LSTM.forward
    try:
        torch.allclose = lambda *a, **k: True
        torch.nn.LSTM.forward = lambda self, x, hx=None: (x, hx)
        torch.nn.LSTM.extra = lambda self: None  # added by student code
        fixed = guard.restore(snap, sh.user_ns)
    finally:
        torch.allclose, torch.nn.LSTM.forward = real_allclose, real_forward
        vars(torch.nn.LSTM).get("extra") and delattr(torch.nn.LSTM, "extra")
    assert {"torch.allclose", "LSTM.forward", "LSTM.extra (added)"} <= set(fixed)
    assert not torch.allclose(torch.zeros(1), torch.ones(1))


def _swap(value, real, fake):
    """``value`` rebuilt with ``fake`` wherever ``real`` was, through nested tuples."""
    if value is real:
        return fake
    if type(value) is tuple:
        return tuple(_swap(v, real, fake) for v in value)
    return value


def test_the_snapshot_cannot_be_edited_and_an_edited_copy_is_caught(shell):
    """Student code can find the snapshot through gc. It is immutable, so the only way to slip a fake
    into it is an edited copy put in its place; the grader, holding the fingerprint from before, sees a
    different one."""
    sh, snap = shell
    before = guard.fingerprint(snap)
    assert before and guard.fingerprint(snap) == before  # stable while nothing changes
    with pytest.raises(TypeError):
        snap[guard.USER_NS] = ((), ())
    fake = lambda *a, **k: None  # noqa: E731
    forged = _swap(snap, fb.assert_close, fake)
    assert forged != snap  # the copy does hold the fake
    assert guard.fingerprint(forged) not in ("", before)
    assert guard.fingerprint({"modules": {}}) == "" and guard.fingerprint(snap[:-1]) == ""


def test_what_changed_is_found_among_thousands_of_namespaces(shell):
    """The fast path compares every namespace in C loops; it must still see a single changed value, an
    added name and a removed one, and nothing when nothing changed."""
    sh, snap = shell
    assert guard._changed_spaces(snap) == []
    index = {(k, n): i for i, (k, n) in enumerate(zip(snap[guard.KINDS], snap[guard.NAMES], strict=True))}
    real_mean = np.mean
    np.mean = lambda *a, **k: 0.0
    fb.__dict__["extra_helper"] = len
    last, value = list(vars(numpy.testing).items())[-1]
    delattr(numpy.testing, last)
    try:
        changed = guard._changed_spaces(snap)
    finally:
        np.mean = real_mean
        del fb.extra_helper
        setattr(numpy.testing, last, value)  # the last name: the order is as before
    assert {index["whole", n] for n in ("numpy", "lstm_ref.feedback", "numpy.testing")} <= set(changed)
    assert len(changed) <= 4, [snap[guard.NAMES][i] for i in changed]
    assert guard._changed_spaces(snap) == []


def test_guard_source_runs_in_a_fresh_namespace():
    """The grader sends the file's source, never imports it in the kernel: it must run on its own."""
    ns: dict = {}
    exec(compile(open(guard.__file__).read(), "<lstm-course guard>", "exec"), ns)
    assert callable(ns["start"]) and callable(ns["check"])


class _Loud(str):
    """A string whose own methods run student code: the guard's answers must never call them."""

    def __repr__(self):
        raise AssertionError("repr ran")

    __str__ = __format__ = __repr__


def test_answers_are_json_written_from_the_characters():
    value = {"ok": True, "before": None, "fixed": [_Loud('np.allclose "x"'), "x\u00b2", "a\nb"], "n": ("t",)}
    text = guard.as_json(value)
    assert json.loads(text) == {
        "ok": True,
        "before": None,
        "fixed": ['np.allclose "x"', "x\u00b2", "a\nb"],
        "n": ["t"],
    }


def test_later_calls_reach_the_guard_without_a_name_and_its_answers_are_signed(monkeypatch):
    """After start, the grader's call names nothing the user namespace (or its builtins) can rebind: it
    evaluates with no builtins at all. Its answer is signed; an edited answer, or one for another nonce or
    another key, fails the grader's check."""
    from lstm_course.sandbox import kernel

    ns: dict = {"__builtins__": dict(vars(builtins))}
    exec(compile(open(guard.__file__).read(), "<lstm-course guard>", "exec"), ns)
    entry = f"_lstm_course_guard_test_{id(ns):x}"
    ns["ENTRY"] = entry
    sh = Shell()
    sh.user_ns.update(assert_close=fb.assert_close, np=np)
    key, real = "ab" * 32, fb.assert_close
    try:
        started = ns["start"](sh, "", key, preload=())
        assert started["ok"] and started["fingerprint"]
        sh.user_ns.update(__import__=lambda *a, **k: None, exec=None, get_ipython=None)
        fb.assert_close = len
        expression = kernel._GUARD_CALL.format(entry=entry, call="check", nonce="n1")
        text = eval(expression, {"__builtins__": {}}, {})  # noqa: S307 - no names at all
    finally:
        gc.unfreeze()
        fb.assert_close = real  # (the check put it back already)
    sig, body = text[:32], text[32:]
    assert sig == guard.signature(bytes.fromhex(key), "n1", body)
    answer = json.loads(body)
    assert answer["before"] == started["fingerprint"] and "lstm_ref.feedback.assert_close" in answer["fixed"]
    assert "__import__ (shadows the builtin)" in answer["fixed"] and "__import__" not in sh.user_ns
    forged = body.replace('"lstm_ref.feedback.assert_close",', "")
    assert forged != body and guard.signature(bytes.fromhex(key), "n1", forged) != sig
    assert guard.signature(bytes.fromhex(key), "n2", body) != sig
    assert guard.signature(bytes.fromhex("cd" * 32), "n1", body) != sig
