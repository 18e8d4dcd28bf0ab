"""Entry point for ``gazal-desktop``: the gate, the library, the main window."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gazal_desktop import __version__
from gazal_desktop.safety import DISCLAIMER_TITLE, DISCLAIMER_VERSION


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gazal-desktop",
        description="Offline clinical-reasoning tutor. " + DISCLAIMER_TITLE + ".",
    )
    parser.add_argument("--version", action="version", version=f"gazal-desktop {__version__}")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="where the case library, models and settings live (default: the per-user app data "
                             "folder; the GAZAL_DATA_DIR environment variable also sets it)")
    parser.add_argument("--model", metavar="FILE.gguf", help="open this GGUF model at start (after the fit check)")
    parser.add_argument("--demo", action="store_true",
                        help="try the interface with a scripted demonstration backend instead of a model, on a "
                             "throwaway library in a temporary folder (your own library is not opened or changed)")
    parser.add_argument("--self-test", action="store_true",
                        help="check this installation end to end in a temporary folder (library, window, a tiny "
                             "model converted and run through llama.cpp), print each step and exit 0 if all passed; "
                             "offscreen unless --show is given")
    parser.add_argument("--show", action="store_true", help="with --self-test: show the window on the screen")
    return parser


def ensure_disclaimer(settings, data_dir: Path, parent=None) -> bool:
    """Show the gate when this disclaimer version was never accepted. False = declined."""
    from PySide6.QtWidgets import QDialog

    from gazal_desktop.core.settings import save_settings
    from gazal_desktop.ui.gate import DisclaimerGate

    if not settings.needs_disclaimer(DISCLAIMER_VERSION):
        return True
    gate = DisclaimerGate(parent)
    if gate.exec() != QDialog.DialogCode.Accepted:
        return False
    settings.accept_disclaimer(DISCLAIMER_VERSION)
    try:
        save_settings(data_dir, settings)
    except OSError:
        pass  # accepted for this run; a full or read-only disk is said when the library opens
    return True


def _in_background(runner, fn):
    """Run fn on the database thread and wait for it without blocking the event loop."""
    from PySide6.QtCore import QEventLoop

    loop, out = QEventLoop(), {}
    runner.run(fn, lambda r: (out.update(ok=r), loop.quit()), lambda e, tb: (out.update(err=e), loop.quit()))
    loop.exec()
    if "err" in out:
        raise out["err"]
    return out["ok"]


def open_library_or_recover(runner, data_dir: Path, parent=None):
    """Open the library off the GUI thread; on damage offer the newest backup.

    Returns the library, or None after telling the learner why not.
    """
    from PySide6.QtWidgets import QMessageBox

    import sqlite3

    from gazal_desktop.library import open_library
    from gazal_desktop.library.chats import ChatStore
    from gazal_desktop.library.db import LibraryCorrupt, LibraryError, as_library_error

    def open_it():
        lib, _ = open_library(data_dir)
        try:
            chats = ChatStore(lib)
            chats.mark_interrupted()  # replies cut off by a crash or kill are kept, marked interrupted
            chats.purge_deleted()  # discussions deleted more than 30 days ago
        except (sqlite3.DatabaseError, OSError) as exc:
            lib.close(backup=False)
            raise as_library_error(data_dir, exc) from None
        return lib

    while True:
        try:
            return _in_background(runner, open_it)
        except LibraryCorrupt as exc:
            if not offer_restore(runner, data_dir, exc, parent):
                return None
        except LibraryError as exc:
            QMessageBox.critical(parent, "Gazal Desktop", str(exc))
            return None


def offer_restore(runner, data_dir: Path, exc, parent=None, before_restore=None, done_text: str = "",
                  ask: bool = True) -> bool:
    """Say the library is damaged and offer its newest good backup. True once it is in place
    (the damaged file is kept aside); False when the learner declined or nothing could be restored."""
    from PySide6.QtWidgets import QMessageBox

    from gazal_desktop.library.db import LibraryError, restore_backup

    if exc.latest_backup is None:
        QMessageBox.critical(parent, "Gazal Desktop", f"{exc}\n\nThe damaged file was left in place.")
        return False
    if ask:
        answer = QMessageBox.question(parent, "Gazal Desktop", f"{exc}\n\nRestore that backup now? The damaged "
                                      "file is kept beside it, renamed, not deleted.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
    backup = exc.latest_backup
    if before_restore is not None:
        before_restore()  # the running app closes its copy of the library first
    try:
        aside = _in_background(runner, lambda: restore_backup(data_dir, backup))
    except (LibraryError, OSError) as err:
        QMessageBox.critical(parent, "Gazal Desktop", f"The backup could not be restored: {err}")
        return False
    QMessageBox.information(parent, "Gazal Desktop", f"Restored the backup {backup.name}. The damaged library "
                            f"was kept as {aside.name}. {done_text}".rstrip())
    return True


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--check-template"]:  # the bundled app checking a model's chat template (a child process)
        from gazal_desktop.core.backends.chat_template import _child_main

        return _child_main()
    args = build_parser().parse_args(argv)
    if args.self_test:
        from gazal_desktop.selftest import run

        return run(show=args.show)
    window = start(args)
    if isinstance(window, int):
        return window
    from PySide6.QtWidgets import QApplication

    return QApplication.instance().exec()


_HELD: list = []
ALREADY_OPEN = ("Gazal Desktop is already open with this data folder ({folder}{pid}). Use that window, or start "
                "another copy with --data-dir for a different library: two copies writing one library would "
                "lose each other's work.")


def hold_data_folder(folder: Path):
    """One app per data folder: a lock file taken before anything in the folder is read or
    written (two copies starting at once on a new folder both created it). A lock left by a
    crashed copy is stale and taken over. Returns the held QLockFile, or None (said to the
    learner, and on stderr) when another running copy holds it."""
    from PySide6.QtCore import QLockFile

    folder.mkdir(parents=True, exist_ok=True)
    lock = QLockFile(str(folder / "gazal-desktop.lock"))
    lock.setStaleLockTime(0)  # only a lock whose process is gone is stale
    if lock.tryLock(200):
        return lock
    if lock.error() != QLockFile.LockError.LockFailedError:  # not another copy: the folder cannot be written
        import shutil

        from gazal_desktop.library.db import DISK_FULL

        full = shutil.disk_usage(folder).free < 64 * 1024
        message = (DISK_FULL.format(folder=folder) if full else
                   f"Gazal Desktop cannot write to its data folder {folder} (it is read-only or not yours). "
                   "Start it with --data-dir pointing at a folder you can write to.")
        _say_at_start(message)
        return None
    info = lock.getLockInfo()  # (pid, host, app name), or False when it cannot be read
    pid = info[0] if isinstance(info, tuple) and info and isinstance(info[0], int) else None
    message = ALREADY_OPEN.format(folder=folder, pid=f", process {pid}" if pid else "")
    if _ask_first_copy_forward(folder):
        message = BROUGHT_FORWARD.format(folder=folder)
    _say_at_start(message, "Gazal Desktop is already open")
    return None


BROUGHT_FORWARD = ("Gazal Desktop is already open with this data folder ({folder}): its window was brought to the "
                   "front. (Start another copy with --data-dir for a different library.)")


def _forward_name(folder: Path) -> str:
    import hashlib

    return "gazal-desktop-" + hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]


def _ask_first_copy_forward(folder: Path) -> bool:
    """Ask the copy that holds `folder` to bring its window to the front. True if it heard."""
    from PySide6.QtNetwork import QLocalSocket

    sock = QLocalSocket()
    sock.connectToServer(_forward_name(folder))
    if not sock.waitForConnected(1000):
        return False
    sock.write(b"forward\n")
    ok = sock.waitForBytesWritten(1000)
    sock.waitForReadyRead(1000)  # its answer: it has raised the window
    heard = ok and bytes(sock.readAll().data()).startswith(b"ok")
    sock.disconnectFromServer()
    return heard


def listen_for_second_launch(folder: Path, window) -> None:
    """A later launch on the same folder brings this window to the front instead of opening
    a second copy of the library."""
    from PySide6.QtNetwork import QLocalServer

    name = _forward_name(folder)
    QLocalServer.removeServer(name)  # a crashed copy's name (the lock is already ours)
    server = QLocalServer(window)
    if not server.listen(name):
        return  # bringing forward is a courtesy: the lock still keeps one copy per folder

    def answer():
        conn = server.nextPendingConnection()
        if conn is None:
            return
        window.showNormal()
        window.raise_()
        window.activateWindow()
        conn.write(b"ok\n")
        conn.flush()
        conn.disconnected.connect(conn.deleteLater)
        print("A second launch on this data folder asked for this window: brought to the front.", file=sys.stderr,
              flush=True)

    server.newConnection.connect(answer)
    window._second_launch_server = server


def _say_at_start(message: str, title: str = "Gazal Desktop") -> None:
    """Before the window exists: on stderr, and in a message box where there is a screen."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    print(message, file=sys.stderr)
    if QApplication.instance() is not None and QApplication.instance().platformName() != "offscreen":
        QMessageBox.warning(None, title, message)


def release_data_folder() -> None:
    while _HELD:
        _HELD.pop().unlock()


def start(args: argparse.Namespace):
    """Everything up to the shown main window (the window, or an exit code)."""
    if args.demo:
        # The demo's scripted answers must never reach the learner's library (Study would show
        # them as "the model's reasoning"): a throwaway data folder, deleted at exit.
        import atexit
        import shutil
        import tempfile

        demo_dir = tempfile.mkdtemp(prefix="gazal-demo-")
        atexit.register(shutil.rmtree, demo_dir, True)
        os.environ["GAZAL_DATA_DIR"] = demo_dir
    elif args.data_dir:
        os.environ["GAZAL_DATA_DIR"] = args.data_dir  # read by gazal_desktop.core.paths.data_dir
    from PySide6.QtGui import QIcon, QPixmap
    from PySide6.QtWidgets import QApplication

    from gazal_desktop import resources
    from gazal_desktop.core.paths import data_dir
    from gazal_desktop.core.settings import load_settings
    from gazal_desktop.ui.main_window import MainWindow
    from gazal_desktop.ui.threads import TaskRunner

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gazal Desktop")
    icon = QPixmap()
    icon.loadFromData(resources.read_text("app-icon.svg").encode(), "SVG")
    app.setWindowIcon(QIcon(icon))
    folder = data_dir()
    lock = hold_data_folder(folder)
    if lock is None:
        return 3
    _HELD.append(lock)  # held until the process ends
    settings = load_settings(folder)
    if not ensure_disclaimer(settings, folder):
        return 0  # declining quits
    runner = TaskRunner(1)
    lib = open_library_or_recover(runner, folder)
    if lib is None:
        return 1
    from gazal_desktop.ui.settings_dialog import apply_appearance

    apply_appearance(settings)
    window = MainWindow(folder, settings, lib, runner, TaskRunner(1))  # the database and the model threads
    from gazal_desktop.ui.session_memory import reopen_last_model, restore

    restore(window)  # size, splitter, tab and case as they were left
    window.show()
    listen_for_second_launch(folder, window)
    if getattr(settings, "problem", None):
        window.statusBar().showMessage(settings.problem, 30000)
    if args.demo:
        from gazal_desktop.core.scripted import ScriptedBackend

        window.setWindowTitle(f"{window.windowTitle()} · DEMO: scripted replies on a throwaway library, nothing is kept")
        window.set_backend(ScriptedBackend(delay=0.01))
    elif args.model:
        window.open_model(args.model)
    else:
        reopen_last_model(window)  # in the background, with Cancel
    return window


if __name__ == "__main__":
    sys.exit(main())
