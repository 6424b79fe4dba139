"""scripts/chromium.py: how the builders and the browser tests start Debian's headless Chromium."""

from __future__ import annotations

import pytest


def test_a_missing_chromium_names_the_fix(load_script, tmp_path, monkeypatch):
    chromium = load_script("chromium")
    monkeypatch.setattr(chromium, "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(FileNotFoundError, match=r"no-chromium\): run `make browser`"):
        chromium.launch(playwright=None)  # refused before Playwright is touched
