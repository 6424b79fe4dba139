"""``lstm_ref`` stays small enough to read: every module at most 400 lines, every function at most 60
lines of code, and the shape tracer (``lstm_ref/trace/``) at most 1,500 lines in all.

Lines are counted as ``wc -l`` counts them. A function's code lines are the lines of its body that
hold code: blank lines, comment-only lines and its docstring do not count (a nested function's lines
count for it and for the function around it). Every ``.py`` file under ``lstm_ref/`` is read with
``ast``; nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lstm_ref"
MAX_MODULE_LINES, MAX_FUNCTION_LINES, MAX_TRACE_LINES = 400, 60, 1500


def _modules(folder: Path = PACKAGE) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _lines(path: Path) -> int:
    """What ``wc -l`` says: the number of newline characters."""
    return path.read_text(encoding="utf-8").count("\n")


def code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef, source: list[str]) -> int:
    """The lines of ``fn``'s body that hold code: no blank line, no comment-only line, no docstring."""
    first = fn.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    docstring = (
        range(first.lineno, first.end_lineno + 1) if has_doc and isinstance(first.value.value, str) else ()
    )
    body = range(first.lineno, fn.end_lineno + 1)
    return sum(
        1
        for n in body
        if n not in docstring and source[n - 1].strip() and not source[n - 1].lstrip().startswith("#")
    )


def _long_functions(path: Path, root: Path = ROOT) -> list[str]:
    """``module:line name (N code lines)`` for every function of ``path`` over the limit."""
    text = path.read_text(encoding="utf-8")
    source, rel = text.splitlines(), path.relative_to(root).as_posix()
    return [
        f"{rel}:{node.lineno} {node.name} ({n} code lines)"
        for node in ast.walk(ast.parse(text, filename=rel))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (n := code_lines(node, source)) > MAX_FUNCTION_LINES
    ]


def test_the_counts_read_what_they_should():
    """A docstring, blank and comment-only lines are no code lines; a nested function counts twice."""
    text = 'def f(x):\n    """Doc,\n    two lines."""\n\n    # a comment\n    def g():\n        return x\n\n    return g  # code\n'
    tree = ast.parse(text)
    outer, inner = tree.body[0], tree.body[0].body[1]
    assert (code_lines(outer, text.splitlines()), code_lines(inner, text.splitlines())) == (3, 1)
    assert _modules() and all(p.suffix == ".py" for p in _modules())


def test_every_module_is_at_most_400_lines():
    long = [
        f"{p.relative_to(ROOT).as_posix()} ({n} lines)"
        for p in _modules()
        if (n := _lines(p)) > MAX_MODULE_LINES
    ]
    assert not long, f"{len(long)} module(s) of lstm_ref over {MAX_MODULE_LINES} lines: {long}"


def test_every_function_is_at_most_60_code_lines():
    long = [f for p in _modules() for f in _long_functions(p)]
    assert not long, f"{len(long)} function(s) of lstm_ref over {MAX_FUNCTION_LINES} code lines: {long}"


def test_the_shape_tracer_is_at_most_1500_lines():
    files = {p.relative_to(ROOT).as_posix(): _lines(p) for p in sorted((PACKAGE / "trace").glob("*.py"))}
    assert sum(files.values()) <= MAX_TRACE_LINES, f"lstm_ref/trace/ is {sum(files.values())} lines: {files}"


def test_the_checks_can_fail(tmp_path):
    """A module of 401 lines and a function of 400 code lines are found, and named with their counts."""
    path = tmp_path / "big.py"
    path.write_text("def big():\n" + "".join(f"    x{k} = {k}\n" for k in range(400)), encoding="utf-8")
    assert _lines(path) == 401 > MAX_MODULE_LINES
    assert _long_functions(path, tmp_path) == ["big.py:1 big (400 code lines)"]
