"""The main window on a fresh data folder with the starter library, shown offscreen."""

from __future__ import annotations

import pytest

from gazal_desktop import app as app_mod
from gazal_desktop.core.settings import AppSettings
from gazal_desktop.ui.main_window import MainWindow
from gazal_desktop.ui.threads import TaskRunner


@pytest.fixture
def window(qtbot, tmp_path):
    runner = TaskRunner(1)
    lib = app_mod.open_library_or_recover(runner, tmp_path / "data")
    w = MainWindow(tmp_path / "data", AppSettings(), lib, runner)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.library_pane.loaded, timeout=10000)
    yield w
    w.close()
