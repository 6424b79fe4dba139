"""What a trace is made of, for both frameworks: named shapes, rows, the table and its HTML.

Nothing here imports torch or TensorFlow; ``_torch.py`` and ``_keras.py`` fill the rows.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

Dim = int | None


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
            raise ValueError(
                f"{self.label}: {len(self.shape)} sizes {self.shape} but {len(self.axes)} axis names"
            )

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


COLUMNS = ("layer", "type", "input", "output", "params", "note")


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
        """The rows as text cells, one tuple per :data:`COLUMNS`; a multi-output cell has one line each."""
        out = []
        for r in self.rows:
            out.append(
                (
                    r.name,
                    r.kind,
                    "\n".join(map(str, r.inputs)),
                    "FAILED" if r.failed else "\n".join(map(str, r.outputs)),
                    f"{r.params:,}",
                    r.note,
                )
            )
        return out

    def __str__(self) -> str:
        body = self.table()
        widths = [
            max([len(c)] + [len(line) for row in body for line in row[i].split("\n")])
            for i, c in enumerate(COLUMNS)
        ]
        lines = [f"{self.framework} model {self.model}: {len(self.rows)} layer(s) traced"]
        sep = "  "
        lines.append(sep.join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)).rstrip())
        lines.append(sep.join("-" * w for w in widths))
        for row in body:
            cells = [c.split("\n") for c in row]
            for k in range(max(len(c) for c in cells)):
                parts = [(c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths, strict=True)]
                lines.append(sep.join(parts).rstrip())
        if self.diagnosis:
            lines += ["", "diagnosis: " + self.diagnosis]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        esc = html.escape
        head = "".join(f"<th style='text-align:left'>{esc(c)}</th>" for c in COLUMNS)
        body = []
        for r, cells in zip(self.rows, self.table(), strict=True):
            style = " style='background:#fde0dc'" if r.failed else ""
            tds = "".join(
                f"<td style='text-align:left'>{esc(c).replace(chr(10), '<br>')}</td>" for c in cells
            )
            body.append(f"<tr{style}>{tds}</tr>")
        diag = f"<p><b>diagnosis:</b> {esc(self.diagnosis)}</p>" if self.diagnosis else ""
        return (
            f"<div class='lstm-trace'><p>{esc(self.framework)} model <code>{esc(self.model)}</code></p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{diag}</div>"
        )


class ShapeError(ValueError):
    """A model failed on the traced input. ``.trace`` holds the rows up to the failing layer and
    the diagnosis; the original exception is chained (``__cause__``), so nothing is hidden."""

    def __init__(self, trace: ShapeTrace):
        self.trace = trace
        super().__init__(f"{trace.diagnosis}\n\n{trace}")


def axis_names(
    ndim: int, layout: Sequence[str] | None = None, *, default: Sequence[str] | None = None
) -> tuple[str, ...]:
    """Names for the axes of an ``ndim``-D array: ``layout`` if given (it must fit), else ``default``
    when it has ``ndim`` names, else batch first and ``axis k`` for the rest.

    >>> axis_names(3)
    ('batch', 'axis 1', 'axis 2')
    >>> axis_names(3, default=("batch", "time_steps", "features"))
    ('batch', 'time_steps', 'features')
    """
    for names in (layout, default):
        if names is not None and len(names) == ndim:
            return tuple(names)
    if layout is not None:
        raise ValueError(f"layout {tuple(layout)} names {len(layout)} axes, but the input has {ndim}")
    if ndim == 0:
        return ()
    return ("batch",) + tuple(f"axis {k}" for k in range(1, ndim))
