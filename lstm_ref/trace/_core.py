"""What both recorders share: named shapes, rows, the table; the one rule naming the axes of a reshaped
tensor (:func:`carry`); the one recurrent-layer spec (:class:`Recurrent`) and its diagnosis
(:func:`diagnose_rnn`); the one summary of a framework's error (:func:`summary`). No torch, no TensorFlow.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from lstm_ref.diagnose import BTF, KERAS_STATE, STATE, TBF, Dim, Sizes, diagnose
from lstm_ref.i18n import _, width

LD = "layers*directions"  # the table's name for the first axis of a PyTorch state (STATE's, shorter)
Names = Sequence[str]  # one name per axis


def columns() -> tuple[str, ...]:
    """The table's column headers in the current language: layer, type, input, output, params, note."""
    return _("layer"), _("type"), _("input"), _("output"), _("params"), _("note")


@dataclass(frozen=True)
class Shape:
    """One array's shape with a name per axis.

    Attributes:
        label: what the array is, e.g. ``"x"``, ``"output"``, ``"h_n"``, ``"c_n"``, ``"h0"``.
        shape: the sizes, ``None`` for a size not known (Keras's symbolic batch).
        axes: one name per axis, e.g. ``("batch", "time_steps", "features")``.

    >>> str(Shape("output", (32, 12, 64), ("batch", "time_steps", "hidden")))
    'output (batch=32, time_steps=12, hidden=64)'
    """

    label: str
    shape: tuple[Dim, ...]
    axes: tuple[str, ...]

    def __post_init__(self):
        if len(self.shape) != len(self.axes):
            raise ValueError(f"{self.label}: sizes {self.shape} but axes {self.axes}")

    def sizes(self) -> str:
        """``(batch=32, time_steps=12, features=1)``; ``()`` for a scalar."""
        parts = [f"{a}={'?' if s is None else s}" for a, s in zip(self.axes, self.shape, strict=True)]
        return "(" + ", ".join(parts) + ")"

    def __str__(self) -> str:
        return f"{self.label} {self.sizes()}"


@dataclass
class Row:
    """One layer or module of a traced model.

    Attributes:
        name: its path in the model (``"lstm"``, ``"encoder.0"``, Keras's layer name).
        kind: its class name (``"LSTM"``, ``"Linear"``, ``"Dense"``).
        inputs: the shapes it received, in order (an RNN's ``x`` and ``h0``/``c0`` when given).
        outputs: the shapes it returned (an RNN's ``output``, ``h_n``, ``c_n``); empty when it failed.
        params: its parameter count (its own and its children's).
        note: a short remark where the layout changes, e.g. ``"time axis dropped: return_sequences=False"``.
        failed: this is the layer the model failed in.
    """

    name: str
    kind: str
    inputs: list[Shape] = field(default_factory=list)
    outputs: list[Shape] = field(default_factory=list)
    params: int = 0
    note: str = ""
    failed: bool = False


@dataclass
class ShapeTrace:
    """The shapes that flowed through a model on one example input, layer by layer.

    ``print(trace)`` gives a table; ``trace.rows`` is the list of :class:`Row` for programs; in a
    notebook the trace shows as an HTML table. ``diagnosis`` is set when the model failed: then
    the last row is the failing layer (``failed=True``).
    """

    framework: str
    model: str
    rows: list[Row] = field(default_factory=list)
    diagnosis: str | None = None

    @property
    def failed(self) -> Row | None:
        """The row of the layer that failed, or ``None``."""
        return next((r for r in self.rows if r.failed), None)

    def table(self) -> list[tuple[str, ...]]:
        """The rows as text cells, one per :func:`columns`; a multi-output cell has one line each."""
        cells = []
        for r in self.rows:
            out = _("FAILED") if r.failed else "\n".join(map(str, r.outputs))
            cells.append((r.name, r.kind, "\n".join(map(str, r.inputs)), out, f"{r.params:,}", r.note))
        return cells

    def __str__(self) -> str:
        body, names = [[c.split("\n") for c in row] for row in self.table()], columns()
        widths = [max([width(c)] + [width(s) for row in body for s in row[i]]) for i, c in enumerate(names)]

        def line(cells) -> str:
            return "  ".join(c + " " * (w - width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

        head = _("{framework} model {model}: {n} layer(s) traced")
        lines = [head.format(framework=self.framework, model=self.model, n=len(self.rows)), line(names)]
        lines.append("  ".join("-" * w for w in widths))
        for cells in body:
            lines += [line([c[k] if k < len(c) else "" for c in cells]) for k in range(max(map(len, cells)))]
        diag = ["", _("diagnosis: {text}").format(text=self.diagnosis)] if self.diagnosis else []
        return "\n".join(lines + diag)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        esc, left, red = html.escape, " style='text-align:left'", " style='background:#fde0dc'"
        head = "".join(f"<th{left}>{esc(c)}</th>" for c in columns())
        body = "".join(
            f"<tr{red if r.failed else ''}>"
            + "".join(f"<td{left}>{esc(c).replace(chr(10), '<br>')}</td>" for c in cells)
            + "</tr>"
            for r, cells in zip(self.rows, self.table(), strict=True)
        )
        diag = _("<b>diagnosis:</b> {text}").format(text=esc(self.diagnosis)) if self.diagnosis else ""
        model = _("{framework} model {model}")
        model = model.format(framework=esc(self.framework), model=f"<code>{esc(self.model)}</code>")
        return (
            f"<div class='lstm-trace'><p>{model}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{diag and f'<p>{diag}</p>'}</div>"
        )


class ShapeError(ValueError):
    """A model failed on the traced input. ``.trace`` holds the rows up to the failing layer and
    the diagnosis; the original exception is chained (``__cause__``), so nothing is hidden."""

    def __init__(self, trace: ShapeTrace):
        self.trace = trace
        super().__init__(f"{trace.diagnosis}\n\n{trace}")


def axis_names(ndim: int, layout: Names | None = None, *, default: Names | None = None) -> tuple[str, ...]:
    """Names for the axes of an ``ndim``-D array: ``layout`` if given (it must fit), else ``default``
    when it has ``ndim`` names, else batch first and ``axis k`` for the rest:

    >>> axis_names(3), axis_names(2, default=("batch", "features"))
    (('batch', 'axis 1', 'axis 2'), ('batch', 'features'))
    """
    for names in (layout, default):
        if names is not None and len(names) == ndim:
            return tuple(names)
    if layout is not None:
        msg = _("layout {layout} names {n} axes, but the input has {ndim}")
        raise ValueError(msg.format(layout=tuple(layout), n=len(layout), ndim=ndim))
    return ("batch",) + tuple(f"axis {k}" for k in range(1, ndim)) if ndim else ()


def carry(src: Sizes, axes: Sequence[str], shape: Sizes) -> tuple[str, ...] | None:
    """Names for a tensor of ``shape`` made from one of shape ``src`` named ``axes`` by code that only
    moves sizes around: the same shape, a permutation, an axis dropped (``output[:, -1]``, the time
    axis first) or inserted (of size 1), two neighbours flattened into one, or one cut in two.
    ``None`` when none of these fits:

    >>> carry((4, 7, 5), ("batch", "time_steps", "hidden"), (4, 5)), carry((4, 7, 5), ("b", "t", "h"), (4, 35))
    (('batch', 'hidden'), ('b', 't*h'))
    """
    axes, n, m = tuple(axes), len(src), len(shape)
    if shape == src:
        return axes
    if m == n > 1 and None not in src and len(set(src)) == n and sorted(src) == sorted(shape):
        return tuple(axes[src.index(k)] for k in shape)
    if m == n - 1:
        drops = [i for i in range(n) if src[:i] + src[i + 1 :] == shape]
        if drops:
            i = min(drops, key=lambda i: (axes[i] not in ("time_steps", LD), i))
            return axes[:i] + axes[i + 1 :]
        for i, (a, b) in enumerate(zip(src, src[1:], strict=False)):
            if a is not None and b is not None and src[:i] + (a * b,) + src[i + 2 :] == shape:
                return axes[:i] + (f"{axes[i]}*{axes[i + 1]}",) + axes[i + 2 :]
    for i in range(m if m == n + 1 else 0):  # an axis of size 1 inserted
        if shape[i] == 1 and shape[:i] + shape[i + 1 :] == src:
            names = [a for a in BTF if a not in axes and axes[:i] + (a,) + axes[i:] in (BTF, TBF)]
            names += ["features" if i == n and "features" not in axes else "axis"]
            return axes[:i] + (names[0],) + axes[i:]
    for i in range(n if m == n + 1 else 0):  # an axis cut in two: a flattening undone
        a, b, around = shape[i], shape[i + 1], shape[:i] == src[:i] and shape[i + 2 :] == src[i + 1 :]
        if around and (None in (a, b, src[i]) or a * b == src[i]):
            parts = tuple(axes[i].split("*"))
            if len(parts) == 2:
                return axes[:i] + parts + axes[i + 1 :]
            if m == 3 and i == 1 and axes[0] == "batch":  # (batch, n) cut into sequences
                return BTF
            return axes[:i] + (axes[i], "axis") + axes[i + 1 :]
    return None


def summary(exc: BaseException) -> str:
    """The framework's own words, ``Type: message``, without terminal colours and Keras's 'Exception
    encountered when calling' wrapping: the first line, and the next two while within 300 characters."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    while "Exception encountered when calling" in text:
        parts = [p.strip() for p in text.split("\n\n")[1:]]
        inner = [p for p in parts if p and not p.startswith("Arguments received")]
        if not inner:
            break
        text = "\n\n".join(inner)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()] or [""]
    msg = lines[0]
    for ln in lines[1:3]:
        msg += f" {ln}" if len(msg) + len(ln) < 300 else ""
    return f"{type(exc).__name__}: {msg}"


@dataclass(frozen=True)
class Recurrent:
    """What a recurrent layer was built with (``nn.LSTM``/``GRU``/``RNN`` or a twin; a Keras ``LSTM``, ...):
    its class name ``kind``; ``F`` features per time step (``None``: a Keras layer not built yet); ``H``
    hidden units; ``L`` layers and ``D`` directions (a Keras ``Bidirectional``: 2 where it concatenates);
    PyTorch's ``P = proj_size`` (``h`` is then ``P`` wide, ``c`` stays ``H``); whether it reads ``x``
    ``batch_first``, is an ``lstm`` (its state is ``(h0, c0)``), is a ``torch.nn.RNNBase`` (``native``: a
    2-D ``x`` is one unbatched sequence); a stateful Keras layer's batch size (``stateful``); ``keras``: each
    state is :data:`~lstm_ref.diagnose.KERAS_STATE` ``(batch, hidden)``, not PyTorch's ``STATE``."""

    kind: str
    F: int | None
    H: int
    L: int = 1
    D: int = 1
    P: int = 0
    batch_first: bool = True
    lstm: bool = True
    native: bool = False
    stateful: int | None = None
    keras: bool = False

    def x_names(self) -> tuple[str, ...]:
        """The axes of a 3-D ``x`` as the layer reads them: :data:`~lstm_ref.diagnose.BTF` or ``TBF``."""
        return BTF if self.batch_first else TBF

    def axes(self, label: str, ndim: int) -> tuple[str, ...]:
        """The table's names for what the layer takes or returns: ``x`` (``x.data``, ``x.batch_sizes`` of a
        PackedSequence), ``output`` (``output.data``, ``output_forward``) or a state (``h0``, ``c_n``, ``h``)."""
        width = ("directions*" if self.D == 2 else "") + ("proj" if self.P else "hidden")
        if label.endswith(".batch_sizes"):
            return ("time_steps",)
        if label.endswith(".data"):
            return ("packed_steps", "features" if label == "x.data" else width)
        if label in ("x", "output") or label.startswith("output_"):
            lead = self.x_names()[:2] if ndim == 3 else ("batch",) if self.keras else ("time_steps",)
            return (*lead, "features" if label == "x" else width)
        width = "proj" if self.P and not label.startswith("c") else "hidden"
        return ("batch", width) if self.keras else (LD, width) if ndim == 2 else (LD, "batch", width)

    def rows(self) -> str:
        """What each row of a PyTorch state holds, in order: ``layer 0 forward, layer 0 backward, ...``."""
        each = (_("layer {k} forward"), _("layer {k} backward")) if self.D == 2 else (_("layer {k}"),)
        return _(", ").join(w.format(k=k) for k in range(self.L) for w in each)

    def state_shape(self, label: str, batch: int | None, unbatched: bool = False) -> tuple[Sizes, Names]:
        """The shape an initial state ``label`` (``h0``, ``c0``) must have for ``batch`` samples, and its axes."""
        width = self.H if label.startswith("c") else self.P or self.H
        if self.keras:
            return (batch, width), KERAS_STATE
        if unbatched:
            return (self.L * self.D, width), (STATE[0], STATE[2])
        return (self.L * self.D, batch, width), STATE


def diagnose_rnn(
    r: Recurrent, x: Sizes | None, states: Sequence[tuple[str, Sizes]] = (), *, batch=None, t=None, fix=True
) -> tuple[str, str] | None:
    """Why the recurrent layer ``r`` refuses its input ``x`` or an initial state: ``(label, message)`` of
    the first that does not fit, in :func:`lstm_ref.diagnose.diagnose`'s words (``fix``: with the repair
    code), else ``None``. ``x``: the input's shape, ``(batch, time_steps, features)`` or time-major as ``r``
    reads it (a 2-D one for a ``torch.nn.RNNBase``: one sequence), or ``None`` if checked (a PackedSequence
    of ``batch`` sequences); ``states``: ``(label, shape)`` per state, e.g. ``("h0", (1, 4, 8))``; ``t``:
    the number of time steps expected, if known."""
    unbatched, lib = r.native and x is not None and len(x) == 2, "numpy" if r.keras else "torch"
    if x is not None and not (unbatched and x[-1] == r.F):
        names, exp = r.x_names(), {"batch": r.stateful, "time_steps": t, "features": r.F}
        msg = diagnose(x, tuple(exp[n] for n in names), names, name="x", fix=fix, lib=lib)
        if msg:
            return "x", msg
        batch = x[names.index("batch")]
    for label, got in states:
        msg = diagnose(got, *r.state_shape(label, batch, unbatched), name=label, lib=lib)
        if msg:
            return label, msg
    return None
