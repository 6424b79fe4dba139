"""Put a submission's cells back where the released notebook has them, before nbgrader grades it.

nbgrader finds a test cell by its grade_id wherever it stands: a deleted test scores 0 ("needs manual
grade"), a test moved above its answer runs before the code it tests, and of a copied cell
``DeduplicateIds`` keeps the last copy's metadata and runs the others as plain code. :func:`restore_layout`
normalises a submitted notebook against its release (``exercises/<a>/<nb>.ipynb``). Every cell's kind
comes from the release cell with its grade_id, never from the submission's metadata, which students can
edit:

- the student's own cells (answers, read-only cells, free cells) keep the student's order; a deleted
  answer, or one turned into Markdown, comes back as the release stub (graded as unanswered), a deleted
  read-only cell comes back; of a copied answer every copy runs and the last one is graded;
- exactly one copy of each test cell runs: one in place stays put (after the student's helper cells), a
  deleted, moved or copied one is put back after the answer it tests;
- every graded cell gets the release's nbgrader metadata, so flipping ``points`` gains nothing.

The notes say what was put back, in the student's words; they are also kept in the notebook's metadata
(``lstm_course``). :class:`RestoreCells` runs it among nbgrader's sanitize preprocessors, before
``DeduplicateIds`` and ``OverwriteCells`` (which then restores the instructor's test sources by grade_id).
"""

from __future__ import annotations

import copy
import os
import re
import uuid
from collections import Counter

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

__all__ = ["restore_layout", "RestoreCells"]

_NAMES = {"answer": "answer cell", "test": "test cell", "locked": "read-only cell"}
_TYPES = {"markdown": "a Markdown cell", "code": "a code cell", "raw": "a Raw cell"}
_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's cell id


def _meta(cell: dict) -> dict:
    """A cell's nbgrader metadata, ``{}`` when absent or malformed."""
    md = cell.get("metadata")
    meta = md.get("nbgrader") if isinstance(md, dict) else None
    return meta if isinstance(meta, dict) else {}


def _gid(cell: dict) -> str | None:
    gid = _meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def _kind(meta: dict) -> str | None:
    """What a release cell is: ``answer``, ``test``, ``locked`` (read-only, task), or ``None`` (not graded)."""
    if meta.get("solution"):
        return "answer"
    if meta.get("grade"):
        return "test"
    return "locked" if meta.get("locked") or meta.get("task") else None


def _strip(cell: dict) -> dict:
    """Make ``cell`` a free cell: its nbgrader metadata removed."""
    if isinstance(cell.get("metadata"), dict):
        cell["metadata"].pop("nbgrader", None)
    return cell


def _fresh(cell: dict) -> dict:
    """A copy of a release cell to insert, with no outputs."""
    new = copy.deepcopy(cell)
    if new.get("cell_type") == "code":
        new["outputs"], new["execution_count"] = [], None
    return new


def _retyped(name: str, cell: dict, outcome: str) -> str:
    """The note for a graded cell the student turned into another type of cell."""
    kept = (
        "your text is kept, not run" if cell.get("cell_type") != "code" else "your cell runs as your own code"
    )
    return f"{name} was turned into {_TYPES.get(cell.get('cell_type'), 'another kind of cell')}: {outcome} ({kept})"


def restore_layout(submitted: dict, release: dict) -> tuple[dict, list[str]]:
    """Return (new notebook dict, notes for the student). Never raises on a weird submission.

    ``submitted`` and ``release`` are notebooks (dicts or NotebookNodes, left unchanged); the module
    docstring says what is restored. Notes name grade_ids in backticks; when there are any, they and the
    grade_ids of the test cells put back are stored as ``nb["metadata"]["lstm_course"]``.
    """
    rcells = release.get("cells", [])
    rel = {g: c for c in rcells if (g := _gid(c)) and _kind(_meta(c))}
    rpos = {c["id"]: i for i, c in enumerate(rcells) if isinstance(c.get("id"), str)}
    gpos = {g: i for i, c in enumerate(rcells) if (g := _gid(c)) in rel}
    order = list(rel)
    kinds = {g: _kind(_meta(c)) for g, c in rel.items()}
    rindex = {g: i for i, g in enumerate(order)}
    anchor, last = {}, None
    for g in order:
        if kinds[g] == "test":
            anchor[g] = last
        else:
            last = g

    nb = copy.deepcopy(submitted)
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = {}
    raw = nb.get("cells")
    out = [c for c in raw if isinstance(c, dict)] if isinstance(raw, list) else []
    notes: list[str] = []
    retyped: dict[str, dict] = {}  # grade_id -> the student's cell of another type (now a free cell)
    for cell in out:
        gid = _gid(cell)
        if gid is None:  # nbgrader's CheckCellMetadata fails on graded flags without a grade_id, or junk
            md = cell.get("metadata")
            junk = isinstance(md, dict) and not isinstance(md.get("nbgrader", {}), dict)
            if junk or any(_meta(cell).get(k) for k in ("grade", "solution", "locked", "task")):
                _strip(cell)
        elif gid not in rel:
            notes.append(f"cell `{gid}` is not part of this assignment: it is kept as an ordinary cell")
            _strip(cell)
        elif cell.get("cell_type") != rel[gid].get("cell_type"):
            retyped[gid] = _strip(cell)

    copies: dict[str, list[dict]] = {}
    for cell in out:
        if gid := _gid(cell):
            copies.setdefault(gid, []).append(cell)
    for gid, found in copies.items():
        for cell in found:
            cell["metadata"]["nbgrader"] = copy.deepcopy(_meta(rel[gid]))
        if kinds[gid] != "test" and len(found) > 1:
            for cell in found[:-1]:
                _strip(cell)
            tail = "every copy runs in your order; the last one is"
            tail += " your answer" if kinds[gid] == "answer" else " the read-only cell"
            notes.append(f"{_NAMES[kinds[gid]]} `{gid}` appears {len(found)} times: {tail}")

    def released_at(cell: dict) -> int:
        """A free cell's index in the release (by cell id), -1 for the student's own."""
        cid = cell.get("id")
        return rpos.get(cid, -1) if isinstance(cid, str) else -1

    def where(gid: str) -> int:
        return next(i for i, c in enumerate(out) if _gid(c) == gid)

    def due_after(g: str | None, gid: str) -> bool:
        """Whether graded cell ``g`` comes after ``gid``: later in the release, or ending a test's block."""
        return g is not None and (rindex[g] > rindex[gid] or (kinds[gid] == "test" and kinds[g] != "test"))

    def slot(start: int, gid: str) -> int:
        """Where to insert ``gid``: before the first graded cell from ``start`` due after it (else at the
        end), less the free cells that the release has after ``gid`` (the next section's heading)."""
        pos = start
        while pos < len(out) and not due_after(_gid(out[pos]), gid):
            pos += 1
        while pos > start and _gid(out[pos - 1]) is None and released_at(out[pos - 1]) > gpos[gid]:
            pos -= 1
        return pos

    inserted = []
    for gid in order:  # missing answers and read-only cells, in release order
        if kinds[gid] == "test" or gid in copies:
            continue
        name, put_back = _NAMES[kinds[gid]], "graded as unanswered" if kinds[gid] == "answer" else "put back"
        if gid in retyped:
            pos = next(i for i, c in enumerate(out) if c is retyped[gid]) + 1
            notes.append(_retyped(f"{name} `{gid}`", retyped[gid], put_back))
        else:  # after the block of the previous graded cell present, before the next one due after it
            before = [g for g in order[: rindex[gid]] if kinds[g] != "test" and g in copies]
            pos = slot(where(before[-1]) + 1 if before else 0, gid)
            notes.append(f"{name} `{gid}` was deleted: {put_back}")
        out.insert(pos, new := _fresh(rel[gid]))
        inserted.append(new)
        copies[gid] = [new]

    count = Counter(g for c in out if (g := _gid(c)) and kinds[g] == "test")
    in_place, kept, last = set(), {}, None
    for cell in out:
        if (g := _gid(cell)) and kinds[g] != "test":
            last = g
        elif g and count[g] == 1 and anchor[g] == last and rindex[g] > kept.get(last, -1):
            in_place.add(g)
            kept[last] = rindex[g]
    out[:] = [c for c in out if not ((g := _gid(c)) and kinds[g] == "test" and g not in in_place)]
    restored = [g for g in order if kinds[g] == "test" and g not in in_place]
    for gid in restored:
        start = where(anchor[gid]) + 1 if anchor[gid] else 0
        pos = slot(start, gid)
        out.insert(pos, new := _fresh(rel[gid]))
        inserted.append(new)
        after = f"after `{anchor[gid]}`" if anchor[gid] else "before the first graded cell"
        if count[gid] > 1:
            notes.append(f"test cell `{gid}` appeared {count[gid]} times: it runs once, {after}")
        elif count[gid] == 1:
            notes.append(f"test cell `{gid}` was moved: put back {after}")
        elif gid in retyped:
            notes.append(_retyped(f"test cell `{gid}`", retyped[gid], f"put back {after} and graded"))
        else:
            notes.append(f"test cell `{gid}` was deleted: put back {after} and graded")

    _fix_ids(out, inserted, nb.get("nbformat_minor"))
    nb["cells"] = out
    nb["metadata"].pop("lstm_course", None)  # only this function writes it
    if notes:
        nb["metadata"]["lstm_course"] = {"layout_notes": list(notes), "restored_tests": restored}
    return nb, notes


def _fix_ids(cells: list[dict], inserted: list[dict], minor: object) -> None:
    """Cell ids as nbformat wants them: unique from format 4.5 on, absent before (inserted cells only)."""
    if not isinstance(minor, int) or minor < 5:
        for cell in inserted:
            cell.pop("id", None)
        return
    seen: set[str] = set()
    for cell in cells:
        cid = cell.get("id")
        if not isinstance(cid, str) or not _ID.match(cid) or cid in seen:
            cid = cell["id"] = uuid.uuid4().hex[:8]
        seen.add(cid)


class RestoreCells(NbGraderPreprocessor):
    """nbgrader sanitize preprocessor: :func:`restore_layout` against ``<release_dir>/<assignment>/<nb>.ipynb``.

    Leaves the notebook as submitted (with a warning) when ``release_dir`` is unset or holds no such notebook.
    """

    release_dir = Unicode("", help="the folder of released assignments (exercises/)").tag(config=True)

    def preprocess(self, nb, resources):
        info = resources.get("nbgrader", {})
        path = os.path.join(self.release_dir, info.get("assignment", ""), f"{info.get('notebook', '')}.ipynb")
        if not self.release_dir or not os.path.isfile(path):
            self.log.warning("RestoreCells: no release notebook %r: cells left as submitted", path)
            return nb, resources
        new, notes = restore_layout(nb, nbformat.read(path, as_version=4))
        for note in notes:
            self.log.warning("RestoreCells: %s", note)
        return nbformat.from_dict(new), resources
