from __future__ import annotations

from pathlib import Path

import pytest



@pytest.fixture
def outdir(tmp_path) -> Path:
    """An empty folder for outputs (tmp_path also holds the test's private home)."""
    d = tmp_path / "out"
    d.mkdir()
    return d
