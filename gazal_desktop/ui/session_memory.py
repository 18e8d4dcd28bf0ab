"""The app remembers how the learner left it: window size and place, the splitter, the tab,
the open case, and the model (reopened in the background at start, with Cancel)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray

from gazal_desktop.core.settings import save_settings


def remember(window) -> None:
    """Called as the window closes: kept in settings.json (`extra["window"]`)."""
    window.settings.extra["window"] = {
        "geometry": bytes(window.saveGeometry().toBase64().data()).decode("ascii"),
        "splitter": list(window.split.sizes()),
        "tab": window.tabs.currentIndex(),
        "case_id": window.case.id if window.case is not None else None,
    }
    try:
        save_settings(window.data_dir, window.settings)
    except OSError:
        pass  # a full or read-only disk: the next start uses the defaults


def restore(window) -> None:
    """Size, place, splitter, tab and the case that was open, as they were left."""
    left = window.settings.extra.get("window")
    if not isinstance(left, dict):
        return
    geometry = left.get("geometry")
    if isinstance(geometry, str) and geometry:
        window.restoreGeometry(QByteArray.fromBase64(geometry.encode("ascii")))
    sizes = left.get("splitter")
    if isinstance(sizes, list) and len(sizes) == 2 and all(isinstance(x, int) and x >= 0 for x in sizes):
        window.split.setSizes(sizes)
    tab = left.get("tab")
    if isinstance(tab, int) and 0 <= tab < window.tabs.count():
        window.tabs.setCurrentIndex(tab)
    case_id = left.get("case_id")
    if isinstance(case_id, int):
        pane = window.library_pane

        def select_once() -> None:
            pane.listed.disconnect(select_once)
            pane.select(case_id)

        if pane.loaded:
            pane.select(case_id)
        else:
            pane.listed.connect(select_once)


def reopen_last_model(window) -> bool:
    """Load the model that was open last time, in the background (the loading dialog has
    Cancel). A file that has gone is forgotten and said. True if a load started."""
    path = window.settings.last_model
    if not path:
        return False
    if not Path(path).is_file():
        window.statusBar().showMessage(f"The model opened last time is no longer at {path}.", 15000)
        window.settings.last_model = ""
        return False
    window.open_model(path, confirm=False)
    return True
