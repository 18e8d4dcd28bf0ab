"""Where the app keeps its data: a per-OS folder, overridable by GAZAL_DATA_DIR."""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_DIR_NAME = "Gazal Desktop"


def data_dir(override: str | os.PathLike | None = None) -> Path:
    """The app's data folder (created on first use).

    Same places QStandardPaths.AppDataLocation uses, computed without Qt so the core can
    run headless: %APPDATA%/Gazal Desktop, ~/Library/Application Support/Gazal Desktop,
    $XDG_DATA_HOME/gazal-desktop.
    """
    if override is None:
        override = os.environ.get("GAZAL_DATA_DIR") or None
    if override is not None:
        path = Path(override).expanduser()
    elif sys.platform == "win32":
        path = Path(os.environ.get("APPDATA", Path.home() / "AppData" / "Roaming")) / APP_DIR_NAME
    elif sys.platform == "darwin":
        path = Path.home() / "Library" / "Application Support" / APP_DIR_NAME
    else:
        base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
        path = Path(base) / "gazal-desktop"
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir(base: Path | None = None) -> Path:
    path = (base or data_dir()) / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
