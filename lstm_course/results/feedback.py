"""The student's feedback page for one autograded notebook, without the hidden tests.

nbgrader's ``generate_feedback`` renders the autograded notebook as it is, and the autograded notebook
holds the instructor's test cells: the hidden tests between ``### BEGIN HIDDEN TESTS`` and
``### END HIDDEN TESTS`` show up in the student's HTML (nbgrader issues #917 and #1363). Instructors
keep nbgrader's full HTML; students get this page instead. It shows per test only the points and the
exception's ``ename: evalue`` (never tracebacks, never stream outputs, never a test cell's source),
and per answer cell the student's own source and error lines. A test that failed in its hidden part
says so ("a hidden test failed: ..."): the student then knows that the visible tests of that cell
passed and that the code is right for the examples shown but not for the other cases the grader tries.
Which part failed is read from the traceback's first frame, the test cell's own line ("Cell In[n], line
L", IPython's format) against the lines between the hidden-test markers; a failure with no such frame
(a timeout, a crashed kernel) is not labelled. The label is a convenience for the student, never a
score: student code could fake a traceback, and would only mislabel its own page.

An exception message is written by code that runs next to student code, so student code can put the
hidden test source into it (``raise AssertionError(inspect.getsource(...))``, ``linecache``, a frame's
``f_code``). Every message is therefore redacted here, on the trusted side, against the hidden lines
that :func:`hidden_lines` finds by comparing the instructor's test cell with the released one, and
cut to a few hundred characters. Redaction catches verbatim copies (whitespace, ANSI colours and
zero-width characters do not matter); it cannot catch an encoded copy (base64, reversed), which only
the length limit bounds.

The page speaks the notebook's language: a Chinese twin's (:func:`lstm_course.translations.language_of`
reads it from the release the student was given) gets its headings, labels and notes in Chinese
(:data:`PAGE_WORDS`); the messages are the tests' own, already in that language. An English page is
the English words, unchanged.

Notebooks are plain dicts in nbformat 4 layout (``json.load`` of the ``.ipynb``); nbgrader is not
imported.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from lstm_course.course import is_test_cell, nbmeta
from lstm_course.translations import language_of

__all__ = [
    "HIDDEN_FAILED",
    "PAGE_WORDS",
    "TestResult",
    "failed_in_hidden",
    "hidden_lines",
    "redact",
    "render_student_feedback",
    "test_results",
]

MARKERS = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
HIDDEN = "[hidden test code]"
HIDDEN_FAILED = "a hidden test failed: "  # the start of the message of a test that failed in its hidden part
HIDDEN_NOTE = (
    '"a hidden test failed": the visible tests of that cell passed, but a hidden one (other sizes, other '
    "options, the real Keras or PyTorch layer) did not. Your code fits the examples you were shown, not every "
    "case the task asks for: read the task again, and test your code on other sizes."
)
FLAGGED = (
    "<b>Your notebook is flagged for your instructor's review</b>: it changed what the tests rely on. Your "
    "score is what the tests gave with those changes undone; your instructor decides. What was found:"
)
#: The page's own words in a twin's language, by their English (which an English page shows as it is).
PAGE_WORDS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "Feedback {title}": "反馈 {title}",
        "Feedback for {student}": "{student} 的反馈",
        "Assignment <b>{assignment}</b>, notebook <b>{notebook}</b>": "作业 <b>{assignment}</b>，笔记本 <b>{notebook}</b>",
        "Notes from the grader": "评分程序的说明",
        FLAGGED: "<b>你的笔记本已被标记，交由老师复核</b>：它改动了测试所依赖的内容。你的分数是撤销这些改动之后"
        "测试给出的分数；最终由老师决定。发现的问题：",
        "Total: <b>{earned} / {total}</b> points": "总分：<b>{earned} / {total}</b> 分",
        "Tests": "测试",
        "Test": "测试",
        "Points": "得分",
        "Result": "结果",
        "Message": "信息",
        "pass": "通过",
        "fail": "未通过",
        "printed to stderr (costs no points):": "输出到 stderr 的内容（不扣分）：",
        HIDDEN_FAILED: "隐藏测试未通过：",
        HIDDEN_NOTE: "“隐藏测试未通过”：该单元格中可见的测试都通过了，但有一个隐藏测试（换了大小、换了选项，或用的是真正的"
        " Keras 或 PyTorch 层）没有通过。你的代码只符合给你看的那些例子，还没有覆盖题目要求的每一种情况：请重读题目，"
        "并用其他大小测试你的代码。",
        "Your answers": "你的答案",
    }
}
_FRAME = re.compile(r"Cell In\[\d+\], line (\d+)")  # IPython's name for a line of the running cell
MIN_LINE = 6  # shorter lines ("pass", "x = 1") are not secrets worth redacting
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"
)  # e.g. zero-width


def _source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _lines(source: str) -> set[str]:
    return {s for s in (line.strip() for line in source.splitlines()) if len(s) >= MIN_LINE}


def hidden_lines(graded_cell_source: str, release_cell_source: str | None) -> set[str]:
    """Stripped lines of the instructor's test cell that are not in the released one (``None``: all).

    Blank lines, lines under 6 characters and the two markers are left out (:func:`redact` always
    removes the markers).

    >>> graded = "check(h)\\n### BEGIN HIDDEN TESTS\\n    assert f(3) == 9\\nx = 1\\n### END HIDDEN TESTS\\n"
    >>> sorted(hidden_lines(graded, "check(h)\\n"))
    ['assert f(3) == 9']
    """
    release = _lines(release_cell_source) if release_cell_source is not None else set()
    return _lines(graded_cell_source) - release - set(MARKERS)


def _pattern(line: str) -> str:
    """``line`` as a regex that matches it with any whitespace between (and inside) its tokens."""
    return r"\s*".join(re.escape(ch) for ch in re.sub(r"\s+", "", line))


def _scrub(text: str, secret_lines: set[str]) -> str:
    text = _INVISIBLE.sub("", _ANSI.sub("", text))
    secrets = sorted({*secret_lines, *MARKERS}, key=len, reverse=True)  # longest first: no partial hits
    for line in secrets:
        if line.strip():
            text = re.sub(_pattern(line), HIDDEN, text)
    return text


def redact(text: str, secret_lines: set[str], limit: int = 600) -> str:
    """``text`` with ANSI codes removed, every secret line (and marker) replaced, cut to ``limit``.

    Invisible characters (control characters but newline and tab, zero-width spaces, bidi controls)
    go with the ANSI codes, and whitespace never matters, so a re-indented, re-spaced or
    zero-width-split copy of a secret line is still found.

    >>> redact("AssertionError: \\x1b[31mboom\\x1b[0m at   assert f(3)==9 !", {"assert f(3) == 9"})
    'AssertionError: boom at   [hidden test code] !'
    >>> redact("x" * 10, set(), limit=4)
    'xxxx …'
    """
    text = _scrub(text, secret_lines)
    return text if len(text) <= limit else text[:limit] + " …"


def _hidden_line_numbers(source: str) -> set[int]:
    """The 1-based numbers of the lines between the hidden-test markers of a test cell (markers included)."""
    inside, numbers = False, set()
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped == MARKERS[0]:
            inside = True
        if inside:
            numbers.add(number)
        if stripped == MARKERS[1]:
            inside = False
    return numbers


def failed_in_hidden(cell: dict) -> bool:
    """Whether the error of a graded test cell was raised by a line of its hidden tests.

    The first "Cell In[n], line L" frame of an error output's traceback is the test cell's own line
    (a helper it called is a later frame); ``False`` when no error output has such a frame.

    >>> src = "check(1)\\n### BEGIN HIDDEN TESTS\\ncheck(2)\\n### END HIDDEN TESTS\\n"
    >>> tb = ["AssertionError  Traceback", "Cell In[7], line 3\\n----> 3 check(2)", "AssertionError: no"]
    >>> failed_in_hidden({"source": src, "outputs": [{"output_type": "error", "traceback": tb}]})
    True
    """
    hidden = _hidden_line_numbers(_source(cell))
    for o in cell.get("outputs", []):
        if o.get("output_type") != "error":
            continue
        tb = o.get("traceback") or []
        frame = _FRAME.search(_ANSI.sub("", "\n".join(tb if isinstance(tb, list) else [str(tb)])))
        if frame:
            return int(frame.group(1)) in hidden
    return False


@dataclass
class TestResult:
    """One graded test cell: ``name`` is its grade_id, ``message`` is '' when it passed; ``stderr`` is what
    it wrote to stderr (shortened, redacted; it costs no points). ``hidden`` is True when it failed in its
    hidden tests (its visible tests passed); its message then starts with :data:`HIDDEN_FAILED`."""

    __test__ = False  # not a pytest test class

    name: str
    points: float
    max_points: float
    passed: bool
    message: str
    stderr: str = ""
    hidden: bool = False


def _errors(cell: dict) -> list[str]:
    return [
        f"{o.get('ename', 'Error')}: {o['evalue']}"
        if o.get("evalue")
        else f"{o.get('ename', 'Error')} (no message)"
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]


STDERR_HEADER = (
    "[stderr, shortened: shown for information, it costs no points]\n"  # lstm_course.sandbox.kernel
)


def _stderr(cell: dict) -> str:
    """What the test wrote to stderr, as the grader kept it (shortened), without the header."""
    texts = []
    for o in cell.get("outputs", []):
        text = o.get("text", "") if o.get("output_type") == "stream" else ""
        text = "".join(text) if isinstance(text, list) else text
        if o.get("name") == "stderr":
            texts.append(text)
        elif text.startswith(STDERR_HEADER):
            texts.append(text[len(STDERR_HEADER) :])
    return "".join(texts).strip("\n")


def _release_sources(release_nb: dict) -> dict[str, str]:
    return {
        nbmeta(c)["grade_id"]: _source(c) for c in release_nb.get("cells", []) if nbmeta(c).get("grade_id")
    }


def _words(lang: str) -> Callable[[str], str]:
    """``lang``'s words for the page's English ones (:data:`PAGE_WORDS`); English: the words themselves."""
    table = PAGE_WORDS.get(lang, {})
    return lambda text: table.get(text, text)


def test_results(
    graded_nb: dict, release_nb: dict, scores: dict[str, float] | None = None, lang: str | None = None
) -> list[TestResult]:
    """One :class:`TestResult` per test cell of ``graded_nb``, in notebook order.

    Earned points are ``scores[grade_id]`` when given, else the grader's rule: 0 after an error output,
    else full points (stderr costs nothing: :mod:`lstm_course.sandbox.kernel` turns it into a shortened note).
    A failed cell's message is its errors' ``ename: evalue`` lines, after :data:`HIDDEN_FAILED` (in the
    notebook's language ``lang``, by default the release's) when a hidden test raised
    (:func:`failed_in_hidden`); messages and stderr are redacted against the cell's hidden lines.
    """
    hidden_failed = _words(lang or language_of(release_nb))(HIDDEN_FAILED)
    released = _release_sources(release_nb)
    results = []
    for cell in graded_nb.get("cells", []):
        if not is_test_cell(cell):
            continue
        meta = nbmeta(cell)
        name = meta.get("grade_id", "?")
        max_points = float(meta.get("points", 0) or 0)
        errors, stderr = _errors(cell), _stderr(cell)
        if scores is not None and name in scores:
            earned = float(scores[name])
        else:
            earned = 0.0 if errors else max_points
        passed = earned == max_points
        secrets = hidden_lines(_source(cell), released.get(name))
        hidden = not passed and failed_in_hidden(cell)
        message = redact("\n".join(errors) or "failed", secrets) if not passed else ""
        if hidden:
            message = hidden_failed + message
        stderr = redact(stderr, secrets) if stderr else ""
        results.append(TestResult(name, earned, max_points, passed, message, stderr, hidden))
    return results


test_results.__test__ = False  # a name pytest would otherwise collect where it is imported


def _pts(x: float) -> str:
    return f"{x:g}"


_CSS = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #ccc; padding: .3em .5em; text-align: left; vertical-align: top; }
td.msg, pre { white-space: pre-wrap; font-family: monospace; }
pre { background: #f6f6f6; padding: .5em; border: 1px solid #ddd; }
.pass { color: #176f2c; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
.outcome { font-size: 1.3em; font-weight: bold; color: #b00020; border: 2px solid #b00020; padding: .5em; }
.total { font-size: 1.2em; } .note { color: #555; font-style: italic; font-family: sans-serif; }
"""


def render_student_feedback(
    graded_nb: dict,
    release_nb: dict,
    *,
    student: str,
    assignment: str,
    notebook: str,
    scores: dict[str, float] | None = None,
    outcome: str | None = None,
    notes: list[str] = (),
    flags: list[str] = (),
    lang: str | None = None,
) -> str:
    """A self-contained HTML page (inline CSS, no JavaScript, no URLs): total, outcome, the grader's notes
    (test cells put back, stderr shown, ...), tests, answers; in ``lang``, by default the language of
    ``release_nb`` (a twin's is its own).

    Test cell sources and stdout are never shown; a test's stderr is shown shortened; answer cells'
    error lines, the notes and ``flags`` (integrity findings: the page says the notebook goes to the
    instructor for review) are redacted against the hidden lines of every test cell.
    """
    e, lang = html.escape, lang or language_of(release_nb)
    t = _words(lang)
    results = test_results(graded_nb, release_nb, scores, lang)
    released = _release_sources(release_nb)
    secrets: set[str] = set()
    for cell in graded_nb.get("cells", []):
        if is_test_cell(cell):
            secrets |= hidden_lines(_source(cell), released.get(nbmeta(cell).get("grade_id", "")))
    earned, total = sum(r.points for r in results), sum(r.max_points for r in results)
    title = f"{student}: {assignment} / {notebook}"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{lang.replace("_", "-")}"><head><meta charset="utf-8">',
        f"<title>{t('Feedback {title}').format(title=e(title))}</title><style>{_CSS}</style></head><body>",
        f"<h1>{t('Feedback for {student}').format(student=e(student))}</h1>",
        "<p>{}</p>".format(
            t("Assignment <b>{assignment}</b>, notebook <b>{notebook}</b>").format(
                assignment=e(assignment), notebook=e(notebook)
            )
        ),
    ]
    if outcome:
        out.append(f'<p class="outcome">{e(outcome)}</p>')
    if notes or flags:
        out.append(f"<h2>{t('Notes from the grader')}</h2><ul>")
        out += [f"<li>{e(redact(n, secrets, 300))}</li>" for n in notes]
        if flags:
            out.append(f"<li>{t(FLAGGED)}<ul>")
            out += [f"<li>{e(redact(f, secrets, 300))}</li>" for f in flags[:20]]
            out.append("</ul></li>")
        out.append("</ul>")
    total_line = t("Total: <b>{earned} / {total}</b> points").format(earned=_pts(earned), total=_pts(total))
    out += [
        f'<p class="total">{total_line}</p>',
        f"<h2>{t('Tests')}</h2>",
        "<table><tr>"
        + "".join(f"<th>{t(h)}</th>" for h in ("Test", "Points", "Result", "Message"))
        + "</tr>",
    ]
    for r in results:
        verdict = (
            f'<span class="pass">{t("pass")}</span>' if r.passed else f'<span class="fail">{t("fail")}</span>'
        )
        msg = e(r.message)
        if r.stderr:
            msg += f'{"<br>" if msg else ""}<span class="note">{t("printed to stderr (costs no points):")}</span>\n'
            msg += e(r.stderr)
        out.append(
            f"<tr><td>{e(r.name)}</td><td>{_pts(r.points)} / {_pts(r.max_points)}</td>"
            f'<td>{verdict}</td><td class="msg">{msg}</td></tr>'
        )
    out.append("</table>")
    if any(r.hidden for r in results):
        out.append(f'<p class="note">{t(HIDDEN_NOTE)}</p>')
    out.append(f"<h2>{t('Your answers')}</h2>")
    for cell in graded_nb.get("cells", []):
        if not nbmeta(cell).get("solution"):
            continue
        # the student's own code; scrubbed anyway so that the page never holds a hidden line
        out.append(f"<h3>{e(nbmeta(cell).get('grade_id', '?'))}</h3>")
        out.append(f"<pre>{e(_scrub(_source(cell), secrets))}</pre>")
        for err in _errors(cell):
            out.append(f'<p class="fail">{e(redact(err, secrets))}</p>')
    out.append("</body></html>")
    return "\n".join(out) + "\n"
