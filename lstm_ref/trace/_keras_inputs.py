"""The Keras tracer's handling of a model's inputs: the ``InputLayer`` rows and an input refused.

:class:`_Inputs` turns what the caller passed into the arrays Keras sees (:meth:`_Inputs.flat_inputs`),
names their axes (the ``layout``, known names, or what each ``keras.Input`` is used for), writes one
``InputLayer`` row per input with a note where Keras added or dropped a last axis of size 1, and,
when the model refused ``x`` before any layer ran, makes the failing ``keras.Input`` the last row.
"""

from __future__ import annotations

import re

import keras
import numpy as np

from lstm_ref.trace._core import Row, Shape, axis_names
from lstm_ref.trace._keras_common import _default_axes, _message, _rnn, _shape, _TracerState
from lstm_ref.trace._keras_diagnose import _diagnose_input


def _input_layer_name(ref, i: int) -> str:
    hist = getattr(ref, "_keras_history", None)
    op = getattr(hist, "operation", None) if hist is not None else None
    return getattr(op, "name", None) or getattr(ref, "name", None) or f"input_{i}"


def _rank_adjusted(raw: tuple, ref: tuple) -> tuple | None:
    """The shape Keras's ``_adjust_input_rank`` makes of ``raw`` for an Input of shape ``ref``, or None."""
    if len(raw) == len(ref):
        return raw
    if len(raw) == len(ref) + 1 and raw[-1] == 1:
        return raw[:-1]
    if len(raw) == len(ref) - 1 and ref and ref[-1] == 1:
        return (*raw, 1)
    return None


def _fits_input(raw: tuple, ref: tuple) -> bool:
    adj = _rank_adjusted(raw, ref)
    return adj is not None and all(r is None or a == r for a, r in zip(adj[1:], ref[1:], strict=True))


def _input_notes(raw_shape: tuple, ref_shape: tuple, names: tuple, check: bool) -> list[str]:
    """What Keras did to an input's rank, and where a Sequential let through sizes its Input declared otherwise."""
    notes = []
    adj = _rank_adjusted(raw_shape, ref_shape)
    if adj is not None and len(raw_shape) == len(ref_shape) - 1:
        notes.append("Keras added the last axis of size 1 (x[..., None])")
    elif adj is not None and len(raw_shape) == len(ref_shape) + 1:
        notes.append("Keras dropped the last axis of size 1")
    if adj is not None and not check:
        off = [
            f"{ax}={g}, not {e}" for ax, g, e in zip(names, adj, ref_shape, strict=True) if e not in (None, g)
        ]
        if off:
            notes.append(f"keras.Input declared otherwise ({'; '.join(off)}): Sequential does not check")
    return notes


def _failing_input(refs, raw, exc) -> int:
    """The index of the input that was refused: the first that does not fit its ``keras.Input``."""
    if len(raw) != len(refs):
        return max(min(len(raw), len(refs)) - 1, 0)
    k = next(
        (
            i
            for i, (r, ref) in enumerate(zip(raw, refs, strict=True))
            if not _fits_input(_shape(r), _shape(ref))
        ),
        None,
    )
    if k is None:
        m = re.search(r"Input (\d+)", str(exc))
        k = int(m.group(1)) if m and int(m.group(1)) < len(refs) else 0
    return k


class _Inputs(_TracerState):
    """The model's inputs: how they are passed, named, shown as rows, and refused."""

    def check_layout(self, raw, prefix: str) -> None:
        if self.layout is not None and prefix == "" and raw and hasattr(raw[0], "shape"):
            axis_names(len(raw[0].shape), self.layout)  # a layout that does not fit x is the caller's error

    def input_rows(self, refs, raw, std_shapes, prefix: str, uses, check: bool) -> list[Row]:
        """One ``InputLayer`` row per model input: ``raw`` as given, ``std_shapes`` as Keras made them
        (None: not known, the input failed)."""
        rows = []
        single = len(refs) == 1
        for i, (ref, r) in enumerate(zip(refs, raw, strict=False)):
            ref_shape = _shape(ref)
            lname = _input_layer_name(ref, i)
            label = "x" if single else lname
            names = _default_axes(len(ref_shape), uses.get(i, ""))
            raw_shape = _shape(r) if hasattr(r, "shape") else _shape(keras.ops.convert_to_tensor(r))
            raw_axes = self.raw_axes(i, r, raw_shape, names, prefix, ref_shape)
            row = Row(self.row_name(prefix + lname), "InputLayer", inputs=[Shape(label, raw_shape, raw_axes)])
            if std_shapes is not None:
                std = std_shapes[i]
                row.outputs = [Shape(label, std, self.std_axes(i, raw_axes, len(std), names, prefix))]
            row.note = "; ".join(_input_notes(raw_shape, ref_shape, names, check))
            rows.append(row)
        return rows

    def raw_axes(
        self, i: int, r, raw_shape: tuple, names: tuple, prefix: str, ref_shape=None
    ) -> tuple[str, ...]:
        """Names for the array given as model input ``i``: known ones, the ``layout``, or the Input's."""
        hit = self.info.get(id(r))
        if hit is not None and hit[0] is r and len(hit[1]) == len(raw_shape):
            return hit[1]
        if prefix == "" and i == 0 and self.layout is not None:
            return axis_names(len(raw_shape), self.layout)
        if len(raw_shape) == len(names):
            return names
        if ref_shape is not None and _rank_adjusted(raw_shape, ref_shape) is not None:
            return names[:-1] if len(raw_shape) < len(names) else (*names, "axis")
        return axis_names(len(raw_shape))

    def std_axes(self, i: int, raw_axes: tuple, std_ndim: int, names: tuple, prefix: str) -> tuple[str, ...]:
        """Names for input ``i`` once Keras adjusted its rank: the caller's names where given."""
        if prefix == "" and i == 0 and self.layout is not None or raw_axes != names[: len(raw_axes)]:
            if len(raw_axes) == std_ndim:
                return raw_axes
            if len(raw_axes) == std_ndim - 1:
                return (*raw_axes, "features")
            if len(raw_axes) == std_ndim + 1:
                return raw_axes[:std_ndim]
        return names

    @staticmethod
    def input_uses(graph, refs) -> dict[int, str]:
        """How each model input is used: 'state' (an RNN's initial_state), 'embedding', or ''."""
        uses: dict[int, str] = {}
        try:
            ids = {id(r): i for i, r in enumerate(refs)}
            for nodes in graph._nodes_by_depth.values():
                for node in nodes:
                    op = node.operation
                    state = node.arguments.kwargs.get("initial_state") if _rnn(op) is not None else None
                    for t in keras.tree.flatten(state) if state is not None else []:
                        if id(t) in ids:
                            uses[ids[id(t)]] = "state"
                    if isinstance(op, keras.layers.Embedding):
                        for t in node.input_tensors:
                            if id(t) in ids:
                                uses.setdefault(ids[id(t)], "embedding")
        except Exception:
            pass
        return uses

    def flat_inputs(self, x, n_inputs: int):
        """``x`` as Keras's ``tree.flatten`` sees it; ``(x, (h0, c0))`` and ``[x, h0, c0]`` alike."""
        if isinstance(x, dict):
            return x, list(keras.tree.flatten(x))
        if isinstance(x, list | tuple):
            flat = list(keras.tree.flatten(x))
            if not all(hasattr(t, "shape") for t in flat):  # nested lists of numbers: one array
                x = np.asarray(x)
                return x, [x]
            return (flat if n_inputs > 1 else flat[0] if len(flat) == 1 else x), flat
        if not hasattr(x, "shape"):
            x = np.asarray(x)
        return x, [x]

    def fail_input(self, refs, raw, prefix: str, uses, check: bool, exc) -> None:
        """The model refused ``x`` before any layer ran: the failing row is the ``keras.Input``."""
        k = _failing_input(refs, raw, exc)
        rows = self.input_rows(refs[: k + 1], raw[: k + 1], None, prefix, uses, check)
        for r in rows[:-1]:
            adj = _rank_adjusted(r.inputs[0].shape, _shape(refs[rows.index(r)]))
            r.outputs = [
                Shape(
                    r.inputs[0].label,
                    adj or r.inputs[0].shape,
                    r.inputs[0].axes
                    if adj is None or len(adj) == len(r.inputs[0].shape)
                    else _default_axes(len(adj)),
                )
            ]
        last = rows[-1]
        last.failed = True
        self.rows += rows
        if len(raw) != len(refs):
            names = ", ".join(_input_layer_name(r, i) for i, r in enumerate(refs))
            self.diagnosis = (
                f"{last.name} (InputLayer): the model has {len(refs)} input(s) ({names}) "
                f"but got {len(raw)} array(s); pass them as a list in this order"
            )
            return
        ref_shape = _shape(refs[k])
        names = _default_axes(len(ref_shape), uses.get(k, ""))
        try:
            self.diagnosis = _diagnose_input(
                last.name, last.inputs[0].label, last.inputs[0].shape, ref_shape, names, exc
            )
        except Exception:
            self.diagnosis = f"{last.name} (InputLayer): {_message(exc)}"
