"""Damage found while the app runs takes the start-up path: the newest good backup is
offered, the damaged file kept aside, the app started again; a full disk is said as such."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox

from gazal_desktop import app as app_mod
from gazal_desktop.library.cases import CaseStore
from gazal_desktop.library.db import Library, backup_time
from gazal_desktop.ui.threads import TaskRunner


@pytest.fixture
def said(monkeypatch):
    """Every message box, answered Yes/OK, recorded as (kind, text)."""
    seen = []

    def box(kind, answer):
        def show(parent, title, text, *a, **k):
            seen.append((kind, text))
            return answer
        return show

    monkeypatch.setattr(QMessageBox, "question", box("question", QMessageBox.StandardButton.Yes))
    monkeypatch.setattr(QMessageBox, "information", box("information", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "warning", box("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "critical", box("critical", QMessageBox.StandardButton.Ok))
    return seen


def test_a_damaged_row_found_while_running_offers_the_newest_good_backup(window, qtbot, said):
    restarts, quits = [], []
    window.guard.restart, window.guard.quit = (lambda: restarts.append(1)), (lambda: quits.append(1))
    good = window.library.backup()
    folder = window.data_dir
    # The file changes under the running app: one case's tags no longer parse.
    window.library.db.conn.execute("UPDATE cases SET tags = '[\"ABG\", \"acid-ba' WHERE id = (SELECT min(id) FROM cases)")
    window.library_pane.refresh()  # the list reads every case: the damaged row is met
    qtbot.waitUntil(lambda: bool(quits), timeout=10000)
    questions = [t for k, t in said if k == "question"]
    assert len(questions) == 1 and "is damaged" in questions[0] and backup_time(good) in questions[0]
    assert restarts == [1] and window.library_closed
    aside = list(folder.glob("library-replaced-*.db"))
    assert len(aside) == 1  # the damaged file is kept, renamed
    lib = Library.open(folder)
    try:
        assert all(isinstance(c.tags, list) for c in CaseStore(lib).list())  # the backup is in place
    finally:
        lib.close(backup=False)


def test_declining_keeps_the_app_running_and_says_how_to_restore_later(window, qtbot, said, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    window.library.backup()
    window.library.db.conn.execute("UPDATE cases SET mcq_options = '{' WHERE id = (SELECT min(id) FROM cases)")
    window.library_pane.refresh()
    qtbot.waitUntil(lambda: "Restore a backup" in window.statusBar().currentMessage(), timeout=10000)
    assert not window.library_closed and not window.guard.handling


def test_start_up_on_a_full_disk_says_the_disk_is_full(qtbot, tmp_path, said):
    from tests.smallfs import fill, mounted

    with mounted(tmp_path / "small", size_kib=8192) as fs:
        fill(fs)
        runner = TaskRunner(1)
        assert app_mod.open_library_or_recover(runner, fs / "data") is None
        runner.wait()
    (kind, text), = said
    assert kind == "critical" and "is full" in text and "damaged" not in text


def test_a_full_disk_while_running_is_said_in_the_status_bar_not_per_save(window, qtbot, said):
    err = sqlite3.OperationalError("database or disk is full")
    err.sqlite_errorcode = 13  # SQLITE_FULL, as sqlite3 sets it
    for _ in range(3):  # three failed background saves: no pile of dialogs
        window.runner.run(lambda: (_ for _ in ()).throw(err))
    window.runner.wait()
    qtbot.waitUntil(lambda: "is full" in window.statusBar().currentMessage(), timeout=5000)
    assert "not saved" in window.statusBar().currentMessage()
    assert said == [] and not window.library_closed
