"""lstm_course.results.feedback: the student's feedback page never shows hidden tests, tracebacks or streams."""

from __future__ import annotations

import copy
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

from lstm_course.results.feedback import TestResult, hidden_lines, redact, render_student_feedback
from lstm_course.results.feedback import test_results as results_of

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SHAPE_MSG = "Your h_n has shape (4, 2, 5) but it should be (num_layers, batch, hidden_size) = (2, 4, 5)"
VISIBLE = 'assert_shape(h_n, (2, 4, 5), what="h_n")'
HIDDEN_1 = "assert secret_check(model, seed=1234)"
HIDDEN_2 = "for k in range(3): assert probe(k) == expected[k]"
GRADED_SRC = f'"""Shapes."""\n{VISIBLE}\n{BEGIN}\n    {HIDDEN_1}\n{HIDDEN_2}\nx = 1\n\n{END}\n'
RELEASE_SRC = f'"""Shapes."""\n{VISIBLE}\n'


def cell(source, grade_id=None, *, grade=False, solution=False, points=0, outputs=(), cell_type="code"):
    c = {"cell_type": cell_type, "metadata": {}, "source": source}
    if grade_id is not None:
        c["metadata"]["nbgrader"] = {
            "grade": grade,
            "solution": solution,
            "locked": not solution,
            "grade_id": grade_id,
            "points": points,
        }
    if cell_type == "code":
        c["outputs"], c["execution_count"] = list(outputs), None
    return c


def notebook(*cells):
    return {"cells": list(cells), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def error(ename, evalue, traceback=()):
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": list(traceback)}


def stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


def toy(test_outputs=(), answer_outputs=(), answer="def f(x):\n    return x * x\n"):
    """A graded notebook (instructor test source, given outputs) and its release."""

    def build(test_src, outs, answer_outs, answer_src):
        return notebook(
            cell("# Title", cell_type="markdown"),
            cell("import numpy as np", "setup"),
            cell(answer_src, "answer", solution=True, outputs=answer_outs),
            cell(test_src, "test_shape", grade=True, points=2, outputs=outs),
            cell("assert f(2) == 4", "test_value", grade=True, points=1),
        )

    graded = build(GRADED_SRC, test_outputs, answer_outputs, answer)
    release = build(RELEASE_SRC, (), (), "# YOUR CODE HERE\nraise NotImplementedError()")
    return graded, release


def source(c):
    return "".join(c["source"]) if isinstance(c["source"], list) else c["source"]


def load(path):
    return json.loads((ROOT / path).read_text())


def graded_cells(nb):
    """grade_id -> test cell (graded, not a solution)."""
    meta = [(c, c["metadata"].get("nbgrader", {})) for c in nb["cells"]]
    return {m["grade_id"]: c for c, m in meta if m.get("grade") and not m.get("solution")}


def squash(text):
    return re.sub(r"\s+", "", text)


def assert_no_leak(page, lines):
    """No line appears in the page, raw, escaped, or with its whitespace changed."""
    flat = squash(page)
    for line in lines:
        for form in {line, html.escape(line)}:
            assert squash(form) not in flat, line
    assert BEGIN not in page and END not in page and "HIDDEN TESTS" not in page


class TagChecker(HTMLParser):
    VOID = {"meta", "br", "hr", "img", "link", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()


def check_html(page):
    parser = TagChecker()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert "script" not in parser.tags and "link" not in parser.tags and "iframe" not in parser.tags
    lower = page.lower()
    for bad in ("<script", "http://", "https://", "javascript:", "src=", "href=", "url(", "@import"):
        assert bad not in lower, bad


# hidden_lines


def test_hidden_lines_are_exactly_the_hidden_ones():
    assert hidden_lines(GRADED_SRC, RELEASE_SRC) == {HIDDEN_1, HIDDEN_2}  # "x = 1" is too short, markers out


def test_hidden_lines_without_release_is_every_line():
    assert hidden_lines(GRADED_SRC, None) == {'"""Shapes."""', VISIBLE, HIDDEN_1, HIDDEN_2}
    assert hidden_lines(RELEASE_SRC, RELEASE_SRC) == set()


def test_hidden_lines_of_a_real_test_cell():
    graded = graded_cells(load("solutions/gates/gates.ipynb"))
    release = graded_cells(load("exercises/gates/gates.ipynb"))
    src = source(graded["test_step_gate_order"])
    hidden = hidden_lines(src, source(release["test_step_gate_order"]))
    between = src.split(BEGIN)[1].split(END)[0]
    visible = {line.strip() for line in source(release["test_step_gate_order"]).splitlines()}
    assert hidden == {s for s in map(str.strip, between.splitlines()) if s and s not in visible}
    assert "bias[:H] = 20.0" in hidden
    assert (
        'assert_close(c, np.full((B, H), 1.5), what="c when the i and g blocks are 20", layout=BH, atol=1e-6)'
        in hidden
    )
    # lines the hidden part shares with the visible one are not secrets
    assert "bias = np.zeros(4 * H)" not in hidden
    assert "h, c = lstm_step(zero_x, zero_h, np.ones((B, H)), W_ih, W_hh, bias)" not in hidden
    assert not hidden & visible and BEGIN not in hidden and END not in hidden
    assert len(hidden) == 4  # a comment, two bias lines and the check


# redact


def test_redact_finds_reindented_and_embedded_lines():
    secret = {HIDDEN_1, HIDDEN_2}
    msg = f"boom in line:\n        {HIDDEN_1}\nand {HIDDEN_2.replace(' ', '   ')} too; {HIDDEN_1.replace(', ', ',')}"
    out = redact(msg, secret)
    assert out == "boom in line:\n        [hidden test code]\nand [hidden test code] too; [hidden test code]"


def test_redact_strips_ansi_first():
    coloured = f"\x1b[0;31mAssertionError\x1b[0m: {HIDDEN_1[:10]}\x1b[1m{HIDDEN_1[10:]}\x1b[0m"
    assert redact(coloured, {HIDDEN_1}) == "AssertionError: [hidden test code]"
    assert redact("\x1b[31mred\x1b[0m", set()) == "red"
    split = "\u200b".join(HIDDEN_1).replace(" ", "\xa0")  # zero-width spaces, no-break spaces
    assert redact(f"x {split} y", {HIDDEN_1}) == "x [hidden test code] y"


def test_redact_truncates_and_always_removes_markers():
    assert redact("a" * 601, set()) == "a" * 600 + " …"
    assert redact("a" * 600, set()) == "a" * 600
    assert redact("abcdef", set(), limit=3) == "abc …"
    assert redact(f"{BEGIN}\nx\n  {END}", set()) == "[hidden test code]\nx\n  [hidden test code]"
    assert redact("nothing secret here", {HIDDEN_1}) == "nothing secret here"


def test_redact_prefers_the_longer_secret():
    long_line, short_line = "assert probe(k) == expected[k]", "probe(k)"
    assert redact(f"x {long_line} y {short_line}", {short_line, long_line}) == (
        "x [hidden test code] y [hidden test code]"
    )


# test_results


def test_results_pass_and_fail_with_assertion_message():
    traceback = ["\x1b[0;31mAssertionError\x1b[0m Traceback", f"----> 3     {HIDDEN_1}", f"  {HIDDEN_2}"]
    graded, release = toy([stream("stdout", "printed\n"), error("AssertionError", SHAPE_MSG, traceback)])
    assert results_of(graded, release) == [
        TestResult("test_shape", 0.0, 2.0, False, f"AssertionError: {SHAPE_MSG}"),
        TestResult("test_value", 1.0, 1.0, True, ""),
    ]


def test_results_empty_evalue_and_stderr():
    graded, release = toy([error("ZeroDivisionError", "")])
    assert results_of(graded, release)[0].message == "ZeroDivisionError (no message)"
    # stderr alone costs nothing (the grader's rule: errors only); it is shown, redacted
    graded, release = toy([stream("stderr", f"warning: {HIDDEN_1}\n")])
    (shape, _) = results_of(graded, release)
    assert (shape.points, shape.passed, shape.message) == (2.0, True, "")
    assert shape.stderr == "warning: [hidden test code]"
    note = stream("stdout", "[stderr, shortened: shown for information, it costs no points]\nslow\n")
    graded, release = toy([note, error("AssertionError", SHAPE_MSG)])
    (shape, _) = results_of(graded, release)
    assert (shape.points, shape.stderr, shape.message) == (0.0, "slow", f"AssertionError: {SHAPE_MSG}")


def test_results_scores_override():
    graded, release = toy([error("AssertionError", SHAPE_MSG)])
    shape, value = results_of(graded, release, {"test_shape": 2, "test_value": 0.5})
    assert (shape.points, shape.passed, shape.message) == (2.0, True, "")
    assert (value.points, value.passed, value.message) == (0.5, False, "failed")
    shape, value = results_of(graded, release, {"test_value": 1})  # missing grade_id: nbgrader's rule
    assert (shape.points, value.points) == (0.0, 1.0)


def test_results_never_use_tracebacks_or_streams():
    graded, release = toy(
        [stream("stdout", "STDOUT-SENTINEL"), error("AssertionError", "short", [HIDDEN_1, "TB-SENTINEL"])]
    )
    message = results_of(graded, release)[0].message
    assert message == "AssertionError: short"


def test_results_redact_the_cells_hidden_lines_from_messages():
    graded, release = toy([error("AssertionError", f"{SHAPE_MSG}\n    {HIDDEN_2}")])
    assert results_of(graded, release)[0].message == f"AssertionError: {SHAPE_MSG}\n    [hidden test code]"


# render_student_feedback


def render(graded, release, student="alice", **kwargs):
    page = render_student_feedback(
        graded, release, student=student, assignment="a&b", notebook="gates", **kwargs
    )
    check_html(page)
    return page


def test_page_adversarial_evalue_with_the_whole_hidden_source():
    # student code did: raise AssertionError(inspect.getsource(...)) or read the cell via linecache
    graded, release = toy([error("AssertionError", GRADED_SRC, GRADED_SRC.splitlines())])
    page = render(graded, release)
    assert_no_leak(page, [HIDDEN_1, HIDDEN_2])
    assert "AssertionError: " in page and "[hidden test code]" in page


def test_page_answers_show_source_and_redacted_errors_but_no_streams():
    graded, release = toy(
        answer_outputs=[
            stream("stdout", "STDOUT-SENTINEL"),
            stream("stderr", "STDERR-SENTINEL"),
            error("NameError", f"name 'zz' is not defined; {HIDDEN_1}", [HIDDEN_2, "TB-SENTINEL"]),
        ]
    )
    page = render(graded, release)
    assert "<h3>answer</h3>" in page and "def f(x):\n    return x * x" in page
    assert "NameError: name &#x27;zz&#x27; is not defined; [hidden test code]" in page
    assert_no_leak(page, [HIDDEN_1, HIDDEN_2, "STDOUT-SENTINEL", "STDERR-SENTINEL", "TB-SENTINEL"])


def test_page_escapes_student_source():
    graded, release = toy(answer='<script>alert("hi")</script>\n')
    page = render(graded, release, student="<b>al</b>")  # also checks: parses, no tags or URLs of its own
    assert "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;" in page
    assert "<b>al</b>" not in page and "&lt;b&gt;al&lt;/b&gt;" in page and "<b>a&amp;b</b>" in page


def test_page_scrubs_hidden_lines_even_from_student_source():
    # the student's own text, but the page keeps its promise: no marker, no hidden line, ever
    graded, release = toy(answer=f"def f(x):\n    {BEGIN}\n    #   {HIDDEN_2}\n    return x * x\n")
    page = render(graded, release)
    assert_no_leak(page, [HIDDEN_1, HIDDEN_2])
    assert "    [hidden test code]\n    #   [hidden test code]\n    return x * x" in page


def test_page_totals_table_and_outcome():
    graded, release = toy([error("AssertionError", SHAPE_MSG)])
    page = render(graded, release)
    assert "1 / 3" in page and "0 / 2" in page and "1 / 1" in page
    assert "test_shape" in page and "test_value" in page and html.escape(SHAPE_MSG) in page
    assert 'class="outcome"' not in page
    assert html.escape(VISIBLE) not in page  # test cell sources are never shown, not even the visible part
    outcome = "NOT GRADED: killed: wall-clock limit (600 s)"
    page = render(graded, release, outcome=outcome, scores={"test_shape": 0, "test_value": 0})
    assert f'<p class="outcome">{outcome}</p>' in page and "0 / 3" in page
    assert page.index(outcome) < page.index("<table>")


def test_page_notes_and_flags():
    graded, release = toy([])
    page = render(graded, release, notes=[f"test cell `test_shape` was deleted: {HIDDEN_1}"])
    assert "Notes from the grader" in page and "was deleted: [hidden test code]" in page
    assert "flagged" not in page
    page = render(graded, release, flags=["gates/lstm_step line 3: sys.settrace (skips lines of a test)"])
    assert "flagged for your instructor" in page and "sys.settrace" in page
    assert "Notes from the grader" not in render(graded, release)


def test_page_for_the_real_gates_notebook():
    graded, release = copy.deepcopy(load("solutions/gates/gates.ipynb")), load("exercises/gates/gates.ipynb")
    tests, released = graded_cells(graded), graded_cells(release)
    for c in graded["cells"]:
        if c["cell_type"] == "code":
            c["outputs"].append(stream("stdout", "STDOUT-SENTINEL\n"))
    target = tests["test_step_gate_order"]
    src = source(target)
    assert BEGIN in src
    shape = "Your c has shape (1, 3, 1) but it should be (batch, hidden_size) = (1, 3)"
    target["outputs"] += [
        stream("stderr", f"STDERR-SENTINEL {src}"),
        error("AssertionError", shape, ["\x1b[0;31m---------\x1b[0m", *src.splitlines(), "TB-SENTINEL"]),
    ]
    page = render(graded, release)

    hidden = set().union(*(hidden_lines(source(c), source(released[g])) for g, c in tests.items()))
    assert len(hidden) >= 10
    assert_no_leak(page, [*hidden, "STDOUT-SENTINEL", "TB-SENTINEL"])
    assert (
        "printed to stderr (costs no points):</span>\nSTDERR-SENTINEL" in page
    )  # shown, its hidden lines redacted
    for grade_id in tests:
        assert f"<td>{grade_id}</td>" in page
    assert "<td>test_step_gate_order</td><td>0 / 1</td>" in page
    assert "<td>test_backward_weights</td><td>2 / 2</td>" in page
    assert "Total: <b>9 / 10</b>" in page
    assert html.escape(f"AssertionError: {shape}") in page
    for answer in ("lstm_step", "lstm_forward", "lstm_backward", "weights_from_torch"):
        assert f"<h3>{answer}</h3>" in page
    assert "def lstm_step(" in page


# a failure in the hidden part is labelled hidden


def frame(line):
    """IPython's first traceback frame for line ``line`` of the running cell, colours and all."""
    return f"\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[3]\x1b[39m\x1b[32m, line {line}\x1b[39m\n----> {line} x"


def test_results_label_a_failure_in_the_hidden_part():
    # GRADED_SRC: line 2 is the visible check, line 4 the first hidden one
    helper = (
        "\x1b[36mFile \x1b[39m/venv/lstm_ref/feedback.py:40, in assert_shape\n----> 40 raise AssertionError"
    )
    for line, hidden in [(2, False), (4, True), (5, True)]:
        graded, release = toy([error("AssertionError", SHAPE_MSG, ["---", "Traceback", frame(line), helper])])
        shape, value = results_of(graded, release)
        assert shape.hidden is hidden and not value.hidden
        prefix = "a hidden test failed: " if hidden else ""
        assert shape.message == f"{prefix}AssertionError: {SHAPE_MSG}"
        page = render(graded, release)
        assert ("a hidden test failed" in page) is hidden
        assert_no_leak(page, hidden_lines(GRADED_SRC, RELEASE_SRC))
    # no frame of the cell (a timeout, a traceback without IPython's frames): not labelled
    for tb in ([], ["CellTimeoutError"], [HIDDEN_1]):
        graded, release = toy([error("AssertionError", SHAPE_MSG, tb)])
        assert results_of(graded, release)[0].hidden is False


_RUN_CELL = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shown = []
shell._showtraceback = lambda etype, evalue, stb: shown.append((etype.__name__, str(evalue), stb))
for src in json.loads(sys.stdin.read()):
    shell.run_cell(src)
print(json.dumps(shown[-1]))
"""


def ipython_failure(*sources):
    """Run ``sources`` as cells of a real IPython shell (in a subprocess); the last error as an output."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _RUN_CELL],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        check=True,
    )
    ename, evalue, tb = json.loads(done.stdout)
    return error(ename, evalue, tb)


def test_page_for_the_real_shapes_notebook_says_which_part_failed():
    """The real keras-shapes test cell, run by IPython on two wrong answers: return_state ignored fails a
    visible check; the output's time axis lost with return_state=True fails only a hidden one."""
    setup = "import numpy as np\nfrom lstm_ref.feedback import assert_shape"
    graded0, release = load("solutions/shapes/shapes.ipynb"), load("exercises/shapes/shapes.ipynb")
    test_src = source(graded_cells(graded0)["test_keras_shapes"])
    ignores = "def keras_lstm_shapes(b, t, f, u, return_sequences=False, return_state=False):\n" + (
        "    return ((b, t, u) if return_sequences else (b, u),)\n"
    )
    drops = "def keras_lstm_shapes(b, t, f, u, return_sequences=False, return_state=False):\n" + (
        "    if return_state:\n        return ((b, u), (b, u), (b, u))\n"
        "    return ((b, t, u) if return_sequences else (b, u),)\n"
    )
    hidden = hidden_lines(test_src, source(graded_cells(release)["test_keras_shapes"]))
    for answer, is_hidden, phrase in [(ignores, False, "return_state=True: expected a tuple of 3 shapes"),
                                      (drops, True, "output")]:  # fmt: skip
        graded = copy.deepcopy(graded0)
        graded_cells(graded)["test_keras_shapes"]["outputs"] = [ipython_failure(setup, answer, test_src)]
        (result,) = [r for r in results_of(graded, release) if r.name == "test_keras_shapes"]
        assert (result.passed, result.hidden) == (False, is_hidden)
        assert result.message.startswith(
            "a hidden test failed: AssertionError: " if is_hidden else "AssertionError: "
        )
        assert phrase in result.message
        page = render(graded, release)
        row = page[page.index("<td>test_keras_shapes</td>") :].split("</tr>")[0]
        assert ("a hidden test failed" in row) is is_hidden
        assert ("the visible tests of that cell passed" in page) is is_hidden
        assert_no_leak(page, hidden)
