"""A damaged library or a full disk found while the app runs: said once, and the damaged
file replaced by its newest good backup when the learner agrees.

Every failed database task passes through `LibraryGuard.watch` (the database runner's
watcher). A damaged file (SQLite says malformed, or a stored value no longer parses) takes
the same path as damage found at start-up: the newest backup that passes its own check is
offered, the damaged file is kept aside, and the app starts again on the restored library.
A full disk is said as such (nothing is damaged; the last change was not saved).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gazal_desktop.library.db import damaged, is_damage, means_disk_full

FULL_DISK_QUIET_S = 60  # how long the full-disk notice stays in the status bar
FULL_NOW = ("The disk holding the case library ({folder}) is full: the last change was not saved, and nothing "
            "will be until space is freed. The library itself is intact.")


def relaunch() -> None:
    """Start this app again with the same arguments, after this one lets go of the folder."""
    from PySide6.QtCore import QProcess

    from gazal_desktop.app import release_data_folder

    release_data_folder()
    QProcess.startDetached(sys.executable, list(sys.orig_argv[1:]))


class LibraryGuard(QObject):
    def __init__(self, window, folder: Path, close_library: Callable[[], None],
                 restart: Callable[[], None] = relaunch) -> None:
        super().__init__(window)
        self.window, self.folder = window, folder
        self.close_library, self.restart = close_library, restart
        self.quit: Callable[[], None] = lambda: QApplication.instance().quit()
        self.handling = False

    def watch(self, exc: Exception) -> str | None:
        if means_disk_full(exc, self.folder):
            self.window.statusBar().showMessage(FULL_NOW.format(folder=self.folder), FULL_DISK_QUIET_S * 1000)
            return "said"
        if is_damage(exc):
            if not self.handling:
                self.handling = True
                QTimer.singleShot(0, lambda: self._offer(exc))
            return "damage"
        return None

    def _offer(self, exc: Exception) -> None:
        self.window.runner.run(lambda: damaged(self.folder, exc), self._offered)

    def _offered(self, problem) -> None:
        if not self._restore(problem):
            self.window.statusBar().showMessage(
                "The case library is damaged: some cases or discussions may not open or save. "
                "File ▸ Restore a backup… puts a good copy in its place.", 0)
            self.handling = False

    def choose_backup(self) -> None:
        """File ▸ Restore a backup…: the backups that pass their check, newest first."""
        from gazal_desktop.library.db import BACKUP_DIR, LibraryCorrupt, backup_time, list_backups, verify_backup

        def good():
            return [p for p in reversed(list_backups(self.folder / BACKUP_DIR)) if verify_backup(p)]

        def chosen(backups: list[Path]) -> None:
            from PySide6.QtWidgets import QInputDialog

            if not backups:
                QMessageBox.information(self.window, "Gazal Desktop", "There is no usable backup yet. The library "
                                        "is backed up every 30 minutes while it changes, and when the app closes.")
                return
            labels = [f"{backup_time(p)}  ({p.name})" for p in backups]
            label, ok = QInputDialog.getItem(self.window, "Restore a backup",
                                             "Replace the library with this backup (the current file is kept "
                                             "aside, renamed):", labels, 0, False)
            if not ok:
                return
            pick = backups[labels.index(label)]
            offer = LibraryCorrupt(f"Restore the backup from {backup_time(pick)}?", pick)
            self._restore(offer, ask=False)

        self.window.runner.run(good, chosen)

    def _restore(self, problem, ask: bool = True) -> None:
        from gazal_desktop.app import offer_restore

        restored = offer_restore(self.window.runner, self.folder, problem, self.window, ask=ask,
                                 before_restore=self.close_library,
                                 done_text="Gazal Desktop starts again on the restored library.")
        if restored:
            self.restart()
            self.quit()
        return restored
