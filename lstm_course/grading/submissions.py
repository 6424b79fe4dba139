"""A student's submission as the grader reads it: its files (as bytes, links dropped), its size
limit and its content hash. :mod:`lstm_course.grading.coordinator` reads folders with these; a
:class:`Job` carries one submission to a Dask worker (:mod:`lstm_course.grading.worker`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lstm_course.course import TRANSLATIONS, read_nb, twin_name

__all__ = [
    "MAX_SUBMISSION_BYTES",
    "Job",
    "SubmissionTooLarge",
    "check_submission",
    "choose_language",
    "source_named",
    "read_submission",
    "safe_relpath",
    "submission_digest",
]


@dataclass(frozen=True)
class Job:
    """One (student, assignment): the submission's files (relative POSIX path -> bytes) and their hash;
    ``lang``: which twin the student handed in (``"en"``: ``<a>.ipynb``; ``"zh_CN"``: ``<a>.zh_CN.ipynb``)."""

    student: str
    assignment: str
    digest: str
    files: dict[str, bytes]
    notes: tuple[str, ...] = ()
    lang: str = "en"


MAX_SUBMISSION_BYTES = 64 << 20  # a submission travels to a worker in memory


class SubmissionTooLarge(ValueError):
    """A submission folder over :data:`MAX_SUBMISSION_BYTES`; it is recorded NOT GRADED, never read."""


def read_submission(folder: Path, limit: int = MAX_SUBMISSION_BYTES) -> tuple[dict[str, bytes], list[str]]:
    """The files of a submission folder and the symbolic links left out (never followed).

    nbgrader, run as root, would follow a link to any file on the grading machine, so links are
    dropped; so are ``.ipynb_checkpoints`` and ``__pycache__``. A folder holding more than ``limit``
    bytes raises :class:`SubmissionTooLarge` before anything is read.
    """
    total = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
    if total > limit:
        raise SubmissionTooLarge(
            f"the submission holds {total / 2**20:.0f} MiB, over the {limit / 2**20:.0f} MiB limit"
        )
    files, links = {}, []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if {".ipynb_checkpoints", "__pycache__"} & set(rel.parts):
            continue
        if path.is_symlink() or any((folder / p).is_symlink() for p in rel.parents if p.parts):
            links.append(rel.as_posix())
        elif path.is_file():
            files[rel.as_posix()] = path.read_bytes()
    return files, links


def submission_digest(files: dict[str, bytes], course_key: str) -> str:
    """The content hash that decides whether a submission is graded again: its files and the course key."""
    h = hashlib.sha256(course_key.encode())
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def safe_relpath(rel: str) -> PurePosixPath:
    """A submission's relative path, refused (``ValueError``) when absolute, empty or climbing out with ``..``."""
    p = PurePosixPath(rel)
    if p.is_absolute() or ".." in p.parts or not p.parts:
        raise ValueError(f"unsafe path in submission: {rel!r}")
    return p


def choose_language(a_dir: Path, expected: list[str]) -> tuple[str, str]:
    """Which twin a submission folder holds: ``(lang, "")``, or ``("en", why)`` when it cannot be graded.

    ``expected`` are the English notebook names. A folder holding every notebook of one language is that
    language; one with none is English (:func:`check_submission` then says what is missing). A folder
    holding both the English notebook and a twin is refused, with the reason: the grader never guesses
    which one the student worked in.
    """
    found = [
        lang
        for lang in ("en", *TRANSLATIONS)
        if all(
            (a_dir / twin_name(n, lang)).is_file() or (a_dir / twin_name(n, lang)).is_symlink()
            for n in expected
        )
    ]
    if len(found) > 1:
        names = " and ".join(twin_name(expected[0], lang) for lang in found)
        return "en", f"both {names} were handed in: hand in only the notebook you worked in"
    return (found or ["en"])[0], ""


def source_named(files: dict[str, bytes], expected: list[str], lang: str) -> dict[str, bytes]:
    """A submission's files with each ``lang`` twin renamed to its English notebook name (the name the
    course's gradebook knows).

    >>> source_named({"shapes.zh_CN.ipynb": b"{}", "data.csv": b"1"}, ["shapes.ipynb"], "zh_CN")
    {'shapes.ipynb': b'{}', 'data.csv': b'1'}
    """
    names = {twin_name(n, lang): n for n in expected}
    return {names.get(rel, rel): data for rel, data in files.items()}


def check_submission(a_dir: Path, expected: list[str]) -> str:
    """Why a submission folder cannot be graded (a notebook of ``expected`` missing, a link, or not a
    notebook), or ``""``."""
    for nb_name in expected:
        if (a_dir / nb_name).is_symlink():
            return f"{nb_name} is a symbolic link, not a notebook"
        if not (a_dir / nb_name).is_file():
            found = sorted(p.name for p in a_dir.glob("*.ipynb"))
            return f"{nb_name} is missing" + (f" (found: {', '.join(found)})" if found else "")
        try:
            read_nb(a_dir / nb_name)
        except ValueError as exc:
            return str(exc)
    return ""
