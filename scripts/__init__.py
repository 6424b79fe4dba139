"""The course's builders and benchmarks, run from the repository root as ``python -m scripts.NAME``
(what the Makefile does), so that they import each other as ``scripts.chromium`` and so on.

The book's own modules (``book/progress.py``, ``book/instructor_plan.py`` ...) are no package: Sphinx
and the chapters' kernels find them because they run in ``book/``. ``book_module`` is the one way a
script or a test imports one of them, without touching ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"


def book_module(name: str) -> ModuleType:
    """``book/<name>.py``, imported once as the module ``name`` (the name Sphinx and the chapters
    import it by); later calls return the same module. Refuses (``ImportError``) when another module
    of that name is already imported."""
    path = BOOK / f"{name}.py"
    loaded = sys.modules.get(name)
    if loaded is not None:
        if Path(getattr(loaded, "__file__", "") or "").resolve() != path:
            raise ImportError(f"book_module({name!r}): {loaded!r} is already imported under that name")
        return loaded
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or not path.is_file():
        raise ModuleNotFoundError(f"book_module({name!r}): no {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before it runs: a dataclass looks its module up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
