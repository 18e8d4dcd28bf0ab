"""Data files shipped with the app (starter cases, styles, icons).

Installed as ``gazal_desktop.resources`` and read with :mod:`importlib.resources`, so
the same code works from a checkout, a wheel or a frozen bundle.
"""

from __future__ import annotations

from importlib import resources as _resources


def read_text(name: str) -> str:
    """Return the text of a bundled resource file."""
    return _resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
