"""The messages an exercise's test code writes: found in a code cell, put back in another language, read back.

A *message* is the text a failing test shows the student, written in the test code itself (the test
cells and the read-only cells of helpers they call; never an answer cell): the message of an ``assert``,
an argument of ``raise SomeError(...)``, and an argument of a helper that :data:`MESSAGE_ARGS` names as
prose (``what=`` and ``hint=`` of :mod:`lstm_ref.feedback`'s checks, positional or keyword), or a string
assigned to a name that stands in such a place or alone in a message's field (``fix=TORCH_ORDER``,
``{what}``) in the same cell. Layouts, dimension names, dict and ``state_dict`` keys are none of these.

Its *msgid* is the literal's text (escapes decoded), one for an implicit concatenation of literals; an
f-string's keeps its fields verbatim, ``{end + 1:g}``, and doubles its literal braces, as ``str.format``
does. Only a text with an English word outside its fields and code is one (:func:`lstm_figures.i18n.needs`,
the rule for code comments). :func:`translate` writes a translation back as valid literals, one per line
the English used, an ``f`` on those with a field; :func:`problems` says what makes a translation
unusable; :func:`to_english` reads translated messages in a failure's text back as their English msgids
(fields as wildcards), for the class report's misconception matcher. Standard library only, but for
:func:`messages`, which asks :mod:`lstm_figures.i18n` what an English word is.

>>> src = 'assert_close(c, want, "c", layout=BH, hint="the forget gate scales c_prev")\\nassert n == 2, f"got {n} layers"'
>>> [m.msgid for m in messages(src)]
['the forget gate scales c_prev', 'got {n} layers']
>>> print(translate(src, {"the forget gate scales c_prev": "遗忘门缩放 c_prev", "got {n} layers": "得到 {n} 层"}.get))
assert_close(c, want, "c", layout=BH, hint="遗忘门缩放 c_prev")
assert n == 2, f"得到 {n} 层"
"""

from __future__ import annotations

import ast
import functools
import io
import re
import tokenize
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["MESSAGE_ARGS", "Message", "messages", "fields", "prose", "translate", "problems", "to_english"]

#: Helpers whose arguments carry prose: name -> (its parameters in order, those that are messages). The
#: other parameters are data, layouts or names the code compares. ``lstm_ref.feedback``'s checks, and the
#: stateful notebook's own ``check_order`` (``fix``: how to keep the order, said when it is wrong).
MESSAGE_ARGS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "assert_shape": (("got", "expected", "layout", "what", "hint"), frozenset({"what", "hint", "name"})),
    "assert_close": (("got", "expected", "what", "atol", "rtol", "layout", "hint"), frozenset({"what", "hint"})),
    "assert_param_count": (("got", "expected", "hidden_size", "what"), frozenset({"what"})),
    "check_order": (("seen", "n_batches", "epochs", "who", "fix"), frozenset({"fix"})),
}  # fmt: skip
_STRING = (ast.Constant, ast.JoinedStr)


@dataclass(frozen=True)
class Message:
    """One message of a cell: ``msgid``, whether it is an f-string, its literals' source positions
    ``((row, col), (row, col))`` (rows from 1, columns in characters, as :mod:`tokenize` counts) and quotes."""

    msgid: str
    f: bool
    spans: tuple[tuple[tuple[int, int], tuple[int, int]], ...]
    quotes: tuple[str, ...]

    @property
    def line(self) -> int:
        return self.spans[0][0][0]


def fields(text: str) -> list[tuple[str, str]]:
    """``text`` in f-string form as ``("text", ...)`` and ``("field", "{...}")`` parts; ``{{`` and ``}}``
    stay in the text parts. Raises ``ValueError`` on a brace that opens no field or a field never closed.

    >>> fields("got {x[0]:.3g} of {{n}}")
    [('text', 'got '), ('field', '{x[0]:.3g}'), ('text', ' of {{n}}')]
    """
    out, text_start, i = [], 0, 0
    while i < len(text):
        if text.startswith(("{{", "}}"), i):
            i += 2
        elif text[i] == "}":
            raise ValueError(f"a single '}}' at {i}: write '}}}}' for a brace")
        elif text[i] == "{":
            j, depth, quote = i + 1, 1, ""
            while depth:
                if j == len(text):
                    raise ValueError(f"the field at {i} is never closed")
                c = text[j]
                if quote:
                    quote = "" if c == quote else quote
                elif c in "'\"":
                    quote = c
                else:
                    depth += (c in "{[(") - (c in "}])")
                j += 1
            out += [("text", text[text_start:i]), ("field", text[i:j])]
            text_start = i = j
        else:
            i += 1
    out.append(("text", text[text_start:]))
    return [p for p in out if p[1]]


def _texts(msgid: str, f: bool) -> str:
    """The words of a msgid: its text parts (an f-string's fields left out)."""
    return " ".join(t for kind, t in fields(msgid) if kind == "text") if f else msgid


def prose(text: str) -> str:
    """A message's words as the catalogue checks read them: its fields (``{}``) and the CamelCase names of
    classes (``…``) are code, as a snake_case name is to those checks already.

    >>> prose("TorchModel output for x ({batch}, 3)")
    '… output for x ({}, 3)'
    """
    try:
        text = "".join("{}" if kind == "field" else t for kind, t in fields(text))
    except ValueError:  # a plain message's own braces
        pass
    return re.sub(r"\b[A-Z][a-z]+[A-Z]\w*", "…", text)


def _quote(token: str) -> str:
    body = token.lstrip("rRbBuUfF")
    return body[:3] if body[:3] in ('"""', "'''") else body[0]


def _piece(token: str, f: bool) -> str:
    """The msgid part of one literal token: its text, escapes decoded; an f-string's fields verbatim and,
    in an f-string message, literal braces doubled."""
    prefix, quote = token[: len(token) - len(token.lstrip("rRbBuUfF"))], _quote(token)
    if "f" not in prefix.lower():
        value = ast.literal_eval(token)
        return value.replace("{", "{{").replace("}", "}}") if f else value
    plain, body = prefix.lower().replace("f", ""), token[len(prefix) + len(quote) : -len(quote)]
    return "".join(
        ast.literal_eval(f"{plain}{quote}{t}{quote}") if kind == "text" else t for kind, t in fields(body)
    )


def _char_col(lines: list[str], row: int, byte_col: int) -> int:
    """``ast`` counts columns in UTF-8 bytes, :mod:`tokenize` in characters."""
    return len(lines[row - 1].encode("utf-8")[:byte_col].decode("utf-8"))


def _nodes(tree: ast.AST) -> list[ast.expr]:
    """The message expressions of a parsed cell (see the module docstring), names resolved to the strings
    assigned to them in the cell."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, _STRING):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert) and node.msg is not None:
            found.append(node.msg)
        elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
            found += node.exc.args
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            params, prose = MESSAGE_ARGS.get(name, ((), frozenset()))
            found += [arg for param, arg in zip(params, node.args, strict=False) if param in prose]
            found += [k.value for k in node.keywords if k.arg in prose]
    out: list[ast.expr] = []
    for node in found:
        for value in assigned.get(node.id, []) if isinstance(node, ast.Name) else [node]:
            out.append(value)
            if isinstance(value, ast.JoinedStr):  # a name alone in a field: {what}
                alone = [v.value.id for v in value.values if isinstance(getattr(v, "value", None), ast.Name)]
                out += [s for name in alone for s in assigned.get(name, [])]
    return [n for n in out if isinstance(n, ast.JoinedStr) or isinstance(getattr(n, "value", None), str)]


def messages(source: str) -> list[Message]:
    """The messages of a code cell's ``source`` in source order: those with an English word, but for a
    single word, which names a value (``what="output"``, as ``"h"`` and ``"weight_ih"`` do); none when the
    source is not Python (a cell with IPython magics)."""
    from lstm_figures.i18n import needs

    try:
        tree = ast.parse(source)
        tokens = [
            t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type == tokenize.STRING
        ]
    except (SyntaxError, tokenize.TokenError):
        return []
    lines, out, seen = source.split("\n"), [], set()
    for node in sorted(_nodes(tree), key=lambda n: (n.lineno, n.col_offset)):
        start = (node.lineno, _char_col(lines, node.lineno, node.col_offset))
        end = (node.end_lineno, _char_col(lines, node.end_lineno, node.end_col_offset))
        toks = [t for t in tokens if start <= t.start and t.end <= end]
        f = isinstance(node, ast.JoinedStr)
        msgid = "".join(_piece(t.string, f) for t in toks)
        words = _texts(msgid, f)
        if start not in seen and needs(words) and not re.fullmatch(r"\s*\w+\s*", words):
            out.append(
                Message(
                    msgid, f, tuple((t.start, t.end) for t in toks), tuple(_quote(t.string) for t in toks)
                )
            )
        seen.add(start)
    return out


def _atoms(text: str, f: bool) -> list[str]:
    """``text`` in the pieces a literal may end between: a character, a run of ASCII (a word or a piece of
    code is never cut), a field of an f-string."""
    parts = fields(text) if f else [("text", text)]
    return [a for kind, t in parts for a in ([t] if kind == "field" else re.findall(r"[!-~]+|.", t, re.S))]


def _escape(text: str, quote: str) -> str:
    """``text`` as the inside of a literal in ``quote``: backslashes, that quote and unprintables escaped."""
    return "".join(
        "\\" + c if c in ("\\", quote[0]) else c if c.isprintable() else ascii(c)[1:-1] for c in text
    )


def _cuts(atoms: list[str], weights: list[int]) -> list[int]:
    """Where to end each of ``len(weights)`` literals in ``atoms``: in proportion to ``weights`` (the English
    literals' lengths), moved to just after a space or punctuation when one is close; no literal empty
    while there are atoms enough."""
    ends = [0]
    for a in atoms:
        ends.append(ends[-1] + len(a))
    cuts = [0]
    for k in range(1, len(weights)):
        target = ends[-1] * sum(weights[:k]) / sum(weights)
        options = range(cuts[-1] + 1, len(atoms) - (len(weights) - k) + 1)
        score = [abs(ends[b] - target) + 6 * (atoms[b - 1] not in " ，。；：、,;:)）") for b in options]
        cuts.append(options[score.index(min(score))] if score else cuts[-1])
    return [*cuts, len(atoms)]


def _literals(text: str, message: Message) -> list[str]:
    """``text`` (a translation of ``message``) as one literal per literal of the English (:func:`_cuts`),
    in the English quotes, escaped; an ``f`` prefix on each that holds a field."""
    atoms = _atoms(text, message.f)
    cuts = _cuts(atoms, [e[1] - s[1] if s[0] == e[0] else 1 for s, e in message.spans])
    out = []
    for a, b, quote in zip(cuts[:-1], cuts[1:], message.quotes, strict=True):
        chunk = atoms[a:b]
        field = [message.f and x[0] == "{" and x[:2] != "{{" for x in chunk]
        keep = any(field) or not message.f  # the braces of a literal with no field are single
        body = "".join(
            x if is_field else _escape(x if keep else _unbrace(x), quote)
            for x, is_field in zip(chunk, field, strict=True)
        )
        out.append(f"{'f' if any(field) else ''}{quote}{body}{quote}")
    return out


def translate(source: str, tr: Callable[[str], str]) -> str:
    """``source`` with each message's literals replaced by those of ``tr(msgid)`` (:func:`_literals`); the
    rest of the code, layout and line count (for one-line literals) as they were. Raises ``ValueError``
    for a translation of an f-string whose braces open no field or never close one."""
    lines = source.split("\n")
    for message in reversed(messages(source)):
        try:
            new_literals = _literals(tr(message.msgid), message)
        except ValueError as exc:
            raise ValueError(
                f"the translation of the message {message.msgid!r} is no f-string text: {exc}"
            ) from None
        for ((r0, c0), (r1, c1)), new in reversed(list(zip(message.spans, new_literals, strict=True))):
            lines[r0 - 1 : r1] = [lines[r0 - 1][:c0] + new + lines[r1 - 1][c1:]]
    return "\n".join(lines)


# names that stay as written: code (a dotted or snake_case name) and the frameworks, which
# lstm_ref.feedback.assert_param_count reads in its what= to choose the slips it names
_NAME = re.compile(r"\b(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+|\w*_\w*|Keras|PyTorch|torch|TensorFlow|NumPy)\b")


def problems(message: Message, msgstr: str) -> list[str]:
    """What makes ``msgstr`` unusable as a translation of ``message`` (empty when nothing): a field lost,
    added or changed, a name of code or a framework lost, a literal that would not read back as ``msgstr``."""
    try:
        got = Counter(t for kind, t in fields(msgstr) if kind == "field") if message.f else Counter()
    except ValueError as exc:
        return [f"not the text of an f-string: {exc}"]
    want = Counter(t for kind, t in fields(message.msgid) if kind == "field") if message.f else Counter()
    out = [f"placeholder lost or changed: {p}" for p in want - got]
    out += [f"placeholder added: {p}" for p in got - want]
    lost = Counter(_NAME.findall(_texts(message.msgid, message.f))) - Counter(
        _NAME.findall(_texts(msgstr, message.f))
    )
    out += [f"name lost or changed: {name}" for name in lost]
    try:
        literals = _literals(msgstr, message)
        for lit in literals:
            ast.parse(lit, mode="eval")
        back = "".join(_piece(lit, message.f) for lit in literals)
    except (SyntaxError, ValueError) as exc:
        return [*out, f"the literal does not compile: {exc}"]
    if back != msgstr:
        out.append(f"the literal reads back as {back!r}")
    return out


def to_english(text: str, table: Mapping[str, str]) -> str:
    """``text`` with every translated message of ``table`` (msgid -> translation) found in it put back as
    its English msgid, each field matching any text (one word where the translation starts with it, or
    ends with it and the English does not) and filled back in.

    >>> to_english("AssertionError: 第 2 轮：没有重置", {"epoch {e}: no reset": "第 {e} 轮：没有重置"})
    'AssertionError: epoch 2: no reset'
    """
    for rx, parts in _reverse(tuple(sorted(table.items()))):
        text = rx.sub(lambda m, parts=parts: _fill(parts, m), text)
    return text


def _unbrace(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


_WORD = r"[^\s，。；：]+"


def _fill(parts: list[tuple[str | None, str]], match: re.Match) -> str:
    return "".join(t if group is None else match.group(group) for group, t in parts)


@functools.lru_cache(maxsize=32)
def _reverse(items: tuple[tuple[str, str], ...]) -> list[tuple[re.Pattern, list[tuple[str | None, str]]]]:
    """``(pattern of a translation, the msgid's parts)``, the most literal translation first. A part is
    ``(None, text)`` or ``(the pattern's group of that field, the field)``."""
    found = []
    for msgid, msgstr in items:
        try:
            theirs, ours = fields(msgstr), fields(msgid)
        except ValueError:  # a plain message's own braces: read literally
            theirs, ours = [("text", msgstr)], [("text", msgid)]
        if not msgstr or msgstr == msgid:
            continue
        groups: dict[str, str] = {}
        rx = ""
        for k, (kind, t) in enumerate(theirs):
            if kind == "text":
                rx += re.escape(_unbrace(t))
            elif t in groups:
                rx += f"(?P={groups[t]})"
            else:
                # a value the translation starts with, or ends with where the English does not: one word
                # (the text around it is not the message's); else any text up to what follows it
                word = k == 0 or (k == len(theirs) - 1 and ours[-1] != (kind, t))
                groups[t] = f"g{len(groups)}"
                rx += f"(?P<{groups[t]}>{_WORD if word else '.+?'})"
        parts = [(groups.get(t), t) if kind == "field" else (None, _unbrace(t)) for kind, t in ours]
        literal = sum(len(t) for kind, t in theirs if kind == "text")
        found.append((literal, re.compile(rx, re.S), parts))
    return [(rx, parts) for _, rx, parts in sorted(found, key=lambda x: -x[0])]
