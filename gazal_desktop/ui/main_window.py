"""The main window: the library on the left, the case's conversation on the right."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog, QInputDialog, QLabel, QMainWindow, QMessageBox, QProgressDialog, QPushButton, QSplitter, QStyle,
    QTabWidget,
)

from gazal_desktop import __version__
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.hardware import llama_build
from gazal_desktop.core.sampling import PresetStore
from gazal_desktop.core.settings import AppSettings, save_settings
from gazal_desktop.library.cases import Case, CaseStore
from gazal_desktop.library.chats import ChatStore
from gazal_desktop.library.db import BACKUP_INTERVAL, Library, LibraryError
from gazal_desktop.core.atomic import write_text_atomic as write_atomic
from gazal_desktop.library.quiz import QuizStore
from gazal_desktop.library.exchange import (
    export_json, export_markdown, export_pack, import_any, import_medqa_jsonl, read_json_file,
)
from gazal_desktop.safety import DISCLAIMER, DISCLAIMER_TITLE, DISCLAIMER_VERSION
from gazal_desktop.ui.changes import Changes
from gazal_desktop.ui.chat_view import ChatView
from gazal_desktop.ui.discussions import Discussions
from gazal_desktop.ui.library_pane import LibraryPane
from gazal_desktop.ui.model_actions import ModelActions
from gazal_desktop.ui.threads import TaskRunner


def show_error(parent, message: str, detail: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, "Gazal Desktop", message, QMessageBox.StandardButton.Ok, parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # messages carry names from files: never rich text
    if detail:
        box.setDetailedText(detail)  # the technical part, one click away
    box.exec()


def theme_icon(widget, name: str, fallback) -> QIcon:
    """The platform's theme icon where it has one (Linux desktops), else Qt's standard one."""
    icon = QIcon.fromTheme(name)
    return icon if not icon.isNull() else widget.style().standardIcon(fallback)


def fidelity_words(path) -> str:
    """" · q4_k_m vs bf16: same top token 97.1%, KLD 0.012" when `gazal-convert report` measured
    this GGUF (its report sits beside the file); "" otherwise."""
    if not path:
        return ""
    from gazal_convert.fidelity import read_sidecar

    rep = read_sidecar(Path(path))
    if rep is None:
        return ""
    return f" · vs {rep['reference']}: same top token {rep['same_top']:.1%}, KLD {rep['kld_mean']:.3f}"


class MainWindow(ModelActions, QMainWindow):
    def __init__(self, data_dir: Path, settings: AppSettings, library: Library, runner: TaskRunner,
                 model_runner: TaskRunner | None = None) -> None:
        """`runner`: the one database thread; `model_runner`: the one thread for model work
        (loading, counting tokens, writing questions). app.py makes both once."""
        super().__init__()
        self.data_dir, self.settings, self.library, self.runner = data_dir, settings, library, runner
        self.model_runner = model_runner or TaskRunner(1, self)
        self.import_runner = TaskRunner(1, self)  # long imports, on a connection of their own
        self._closing = False
        self.cases, self.chats = CaseStore(library), ChatStore(library)
        self.presets = PresetStore(data_dir / "presets.json")
        self.backend = None
        self.case: Case | None = None
        self.setWindowTitle(f"Gazal Desktop {__version__}")
        self.changes = Changes(self)
        self.library_pane = LibraryPane(runner, self.cases, self)
        self.library_pane.subscribe(self.changes)
        self.chat_view = ChatView(self, runner=self.model_runner)
        self.split = split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.library_pane)
        split.addWidget(self.chat_view)
        split.setStretchFactor(1, 3)
        from gazal_desktop.ui.study import StudyView

        self.quiz = QuizStore(library)
        self.study_view = StudyView(runner, self.quiz, self)
        self.study_view.subscribe(self.changes)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(split, "Cases")
        self.tabs.addTab(self.study_view, "Study")
        from gazal_desktop.library.encounters import EncounterStore
        from gazal_desktop.ui.patient_view import PatientView

        self.patient_view = PatientView(runner, EncounterStore(library), lambda: self.backend, self)
        self.tabs.addTab(self.patient_view, "Patient")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.study_view.counts_changed.connect(self._on_quiz_counts)
        self.study_view.counts_changed.connect(lambda _counts: self.changes.quiz_changed.emit())  # "due" markers
        self.study_view.status.connect(lambda t: self.statusBar().showMessage(t, 5000))
        self.patient_view.status.connect(lambda t: self.statusBar().showMessage(t, 5000))
        self.patient_view.deck_changed.connect(self.study_view.refresh)
        self.patient_view.failed.connect(lambda t: show_error(self, t))
        self.patient_view.listed.connect(
            lambda case_id, rows: self.chat_view.discussions.set_encounters(rows)
            if self.case is not None and self.case.id == case_id else None)
        self.setCentralWidget(self.tabs)
        self.model_label = QLabel("No model")
        self.statusBar().addPermanentWidget(self.model_label)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setVisible(False)
        self.statusBar().addPermanentWidget(self.undo_button)
        self._undo: Callable[[], None] | None = None
        self.undo_button.clicked.connect(self._on_undo_clicked)
        self.runner.unhandled_failure.connect(lambda text, detail: show_error(self, text, detail))
        from gazal_desktop.ui.library_guard import LibraryGuard

        self.library_closed = False
        self.guard = LibraryGuard(self, data_dir, self.close_library_now)
        self.runner.watcher = self.guard.watch
        self.discussions = Discussions(
            runner, self.chats, self.chat_view, lambda text, detail: show_error(self, text, detail),
            lambda text: self.statusBar().showMessage(text, 5000), self.offer_undo, self)
        self.discussions.changed.connect(self.changes.chats_changed)
        self.library_pane.case_selected.connect(self._on_case_selected)
        self.library_pane.hit_selected.connect(self._on_hit_selected)
        self.library_pane.status.connect(lambda t: self.statusBar().showMessage(t, 5000))
        self.library_pane.failed.connect(lambda t: show_error(self, t))
        self.library_pane.deleted.connect(self._on_deleted)
        self.library_pane.undo_requested.connect(self._on_undo_clicked)
        self.library_pane.selection_cleared.connect(self._on_selection_cleared)
        self.chat_view.open_model_requested.connect(self.open_model)
        self.chat_view.download_requested.connect(self.download_model)
        self.chat_view.convert_requested.connect(self.convert_model)
        self.chat_view.study_requested.connect(lambda: self.tabs.setCurrentWidget(self.study_view))
        self.chat_view.discussions.patient_chosen.connect(
            lambda eid: (self.tabs.setCurrentWidget(self.patient_view), self.patient_view.resume(eid)))
        self._build_menus()
        self.backup_timer = QTimer(self)
        self.backup_timer.setInterval(int(BACKUP_INTERVAL.total_seconds() * 1000))
        self.backup_timer.timeout.connect(lambda: self.runner.submit(self.library.maybe_backup))
        self.backup_timer.start()
        self.library_pane.reload_filters()
        self.resize(1200, 800)

    # -- menus ----------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        def action(menu, text, slot, shortcut=None, icon=None):
            a = QAction(text, self)
            a.triggered.connect(slot)
            if shortcut:
                a.setShortcut(QKeySequence(shortcut))
            if icon:
                a.setIcon(theme_icon(self, *icon))
            menu.addAction(a)
            return a

        SP = QStyle.StandardPixmap
        f = self.menuBar().addMenu("&File")
        new_case = action(f, "New case…", self.library_pane.new_case, "Ctrl+N", ("document-new", SP.SP_FileIcon))
        action(f, "New discussion of this case", self.new_discussion, "Ctrl+Shift+N")
        action(f, "Import case pack or library export…", self.import_pack, "Ctrl+I",
               ("document-import", SP.SP_DialogOpenButton))
        action(f, "Import MedQA questions (JSONL)…", self.import_medqa)
        action(f, "Export case as Markdown…", self.export_markdown)
        action(f, "Export library (JSON, with discussions)…", self.export_library)
        action(f, "Export cases as a case pack…", self.export_case_pack, None, ("document-export", SP.SP_DialogSaveButton))
        action(f, "Restore a backup…", self.guard.choose_backup)
        f.addSeparator()
        settings = action(f, "Settings…", self.open_settings, "Ctrl+,", ("preferences-system", SP.SP_FileDialogDetailedView))
        f.addSeparator()
        action(f, "Quit", self.close, "Ctrl+Q", ("application-exit", SP.SP_DialogCloseButton))
        m = self.menuBar().addMenu("&Model")
        open_model = action(m, "Open GGUF file…", self.open_model, "Ctrl+O", ("document-open", SP.SP_DirOpenIcon))
        action(m, "Download a GGUF from Hugging Face…", self.download_model, None, ("go-down", SP.SP_ArrowDown))
        action(m, "Convert a checkpoint (gazal-convert)…", self.convert_model, None, ("system-run", SP.SP_BrowserReload))
        action(m, "Connect to a server (OpenAI-compatible)…", self.connect_server, None,
               ("network-server", SP.SP_DriveNetIcon))
        st = self.menuBar().addMenu("&Study")
        study = action(st, "Study", lambda: self.tabs.setCurrentWidget(self.study_view), "Ctrl+Shift+S",
                       ("accessories-dictionary", SP.SP_FileDialogContentsView))
        action(st, "Cases", lambda: self.tabs.setCurrentIndex(0), "Ctrl+Shift+L")  # Ctrl+digit strikes options
        action(st, "Write a question about this case (model)…", self.generate_question, "Ctrl+Shift+Q")
        action(st, "Patient mode: take the history from a simulated patient",
               lambda: self.tabs.setCurrentWidget(self.patient_view), "Ctrl+Shift+P")
        action(st, "Review questions the model wrote…", lambda: self.study_view.review_drafts())
        action(st, "Lab values (reference ranges)", self.show_lab_values, "Ctrl+L")
        action(st, "Progress", lambda: (self.tabs.setCurrentWidget(self.study_view), self.study_view.show_progress()))
        action(st, "Export quiz results (CSV)…", lambda: self.study_view.export_results())
        bar = self.addToolBar("Main")  # the main actions, with icons, one click away
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in (new_case, open_model, study, settings):
            bar.addAction(a)
        h = self.menuBar().addMenu("&Help")
        action(h, "Keyboard shortcuts", self.show_shortcuts, "F1")
        action(h, "About Gazal Desktop", self.about)

    def open_settings(self) -> None:
        from PySide6.QtWidgets import QDialog

        from gazal_desktop.ui.settings_dialog import SettingsDialog, apply_appearance

        dlg = SettingsDialog(self.settings, self.presets, str(self.data_dir), self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        before = self.settings
        self.settings = dlg.result_settings()
        try:
            save_settings(self.data_dir, self.settings)
        except OSError as exc:
            show_error(self, f"The settings apply now but could not be saved for next time: {exc.strerror or exc}.")
        apply_appearance(self.settings)
        if self.chat_view.session is not None:
            self.chat_view.session.sampling = self.presets.resolve(self.settings.preset)
            self.chat_view.update_context()
        loaded = getattr(self.backend, "path", None)
        changed = [name for name, a, b in (
            ("context length", before.n_ctx, self.settings.n_ctx),
            ("GPU layers", before.n_gpu_layers, self.settings.n_gpu_layers),
            ("CPU threads", before.n_threads, self.settings.n_threads)) if a != b]
        if loaded is not None and changed and not self.chat_view.generating:
            answer = QMessageBox.question(
                self, "Reload the model?",
                f"The new {' and '.join(changed)} take effect when the model is loaded again. Reload "
                f"{Path(loaded).name} now? (The discussion is kept.)")
            if answer == QMessageBox.StandardButton.Yes:
                self.reload_model()
            else:
                self.statusBar().showMessage(f"The new {' and '.join(changed)} apply the next time a model is loaded.",
                                             10000)

    def show_lab_values(self) -> None:
        """Ctrl+L, in a quiz or a discussion: reference ranges in a window beside it."""
        from gazal_desktop.ui.lab_values import LabValuesPanel

        if getattr(self, "lab_values", None) is None:
            self.lab_values = LabValuesPanel(self)
        self.lab_values.open_on_top()

    def show_shortcuts(self) -> None:
        from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableWidget, QTableWidgetItem, QVBoxLayout

        from gazal_desktop.ui.keys import shortcut_rows

        rows = shortcut_rows(self)
        dlg = QDialog(self)
        dlg.setWindowTitle("Keyboard shortcuts")
        table = QTableWidget(len(rows), 3, dlg)
        table.setHorizontalHeaderLabels(["Where", "Keys", "What"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                table.setItem(r, c, QTableWidgetItem(text))
        table.resizeColumnsToContents()
        table.horizontalHeader().setStretchLastSection(True)
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=dlg)
        buttons.rejected.connect(dlg.reject)
        layout = QVBoxLayout(dlg)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dlg.resize(640, 480)
        self.shortcuts_dialog = dlg
        dlg.show()

    def about(self) -> None:
        QMessageBox.about(self, "About Gazal Desktop",
                          f"<h3>Gazal Desktop {__version__}</h3><p><b>{DISCLAIMER_TITLE}.</b></p><p>{DISCLAIMER}</p>"
                          f"<p><small>Disclaimer version {DISCLAIMER_VERSION}</small></p>"
                          f"<p><small>{html.escape(llama_build().describe())}</small></p>")

    # -- study ----------------------------------------------------------------------------------
    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.study_view and not self.study_view.in_quiz:
            self.study_view.refresh()

    def _on_quiz_counts(self, counts: dict) -> None:
        due = counts.get("due", 0)
        self.tabs.setTabText(self.tabs.indexOf(self.study_view), f"Study ({due} due)" if due else "Study")

    def generate_question(self) -> None:
        """Ask the loaded model for a question about the current case; it waits as a draft."""
        if self.case is None:
            show_error(self, "Choose a case first: the model writes its question from the case and your discussion.")
            return
        if self.backend is None:
            show_error(self, "Load a model (Model menu) to have it write questions. Questions from the cases' "
                             "own answer keys need no model: open the Study tab.")
            return
        if self.chat_view.generating:
            show_error(self, "Wait for the current reply to finish (or stop it) first.")
            return
        from gazal_desktop.core.quiz_gen import generate_item

        case, backend, sampling = self.case, self.backend, self.presets.resolve(self.settings.preset)
        cancel = CancelToken()
        dialog = QProgressDialog("The model is writing a question…", "Stop", 0, 0, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(cancel.cancel)
        dialog.show()
        worker = self.model_runner

        def write():
            steps, answer = self.quiz.latest_discussion(case.id)
            discussion = "\n".join(steps) + ("\n\n" + answer if answer else "")
            return generate_item(backend, case, discussion, sampling, cancel)

        def save(result):
            dialog.close()
            if result.item is None:
                show_error(self, "The model's reply could not be used as a question.", "\n".join(result.problems)
                           + "\n\n" + result.raw[:2000])
                return
            self.runner.run(lambda: self.quiz.add_generated(result.item, case.id),
                            lambda item: self.study_view.review_drafts(item.id),
                            lambda e, tb: show_error(self, str(e), tb))

        def failed(exc, tb):
            dialog.close()
            if not cancel.cancelled:
                show_error(self, f"The model could not write a question. {exc}", getattr(exc, "detail", "") or tb)

        worker.run(write, save, failed)

    # -- library --------------------------------------------------------------------------------
    def _on_deleted(self, cid: int, title: str) -> None:
        self.offer_undo(f"Deleted “{title}”", lambda: self.library_pane.undo_delete(cid))

    def offer_undo(self, text: str, undo: Callable[[], None]) -> None:
        """Undo in the status bar for ten seconds."""
        self._undo = undo
        self.statusBar().showMessage(text, 10000)
        self.undo_button.setVisible(True)
        QTimer.singleShot(10000, self, lambda: self.undo_button.setVisible(False))

    def _on_undo_clicked(self) -> None:
        if self._undo is not None:
            self._undo()
            self._undo = None
        self.undo_button.setVisible(False)

    def _on_case_selected(self, case: Case) -> None:
        if self.case is None or self.case.id != case.id:
            self.chat_view.discussions.encounters = []  # the new case's come with its list
        self.case = case
        self._attach_session()
        self.patient_view.set_case(case)

    def _on_selection_cleared(self) -> None:
        """A search or filter hid the open case: its vignette leaves the screen too (a reply
        being written stays until it ends)."""
        if self.chat_view.generating:
            return
        self.case = None
        self.chat_view.set_session(None, "", "Choose a case from the list.")

    def _on_hit_selected(self, case: Case, conv_id: int, message_id: int) -> None:
        self.case = case
        self.patient_view.set_case(case)
        self._attach_session(conv_id=conv_id, focus_message_id=message_id)

    def _attach_session(self, new: bool = False, conv_id: int | None = None, focus_message_id: int | None = None) -> None:
        """Show the current case's latest discussion (or `conv_id`) exactly as left; read-only
        without a model."""
        backend = self.backend
        model = backend.label.split(": ", 1)[-1] if backend is not None else ""  # the file, server or "Demo"
        self.discussions.open(self.case, backend, self.presets.resolve(self.settings.preset), conv_id, new=new,
                              model_file=model, focus_message_id=focus_message_id)

    def new_discussion(self) -> None:
        """Start a fresh discussion of the current case (earlier ones stay in the list)."""
        self._attach_session(new=True)

    def import_pack(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import a case pack or library export", "",
                                              "Case packs and exports (*.json *.gazalpack)")
        if path:
            def done(report) -> None:
                self.changes.cases_changed.emit()
                self.show_import_report(f"Imported {Path(path).name}", report)

            self.runner.run(lambda: import_any(self.cases, self.chats, read_json_file(Path(path))), done,
                            lambda e, tb: show_error(self, str(e), tb))

    def show_import_report(self, title: str, report) -> None:
        """What an import did, in a dialog that stays until read (the status bar was overwritten
        at once): added, updated, duplicates skipped, and each error by case or line."""
        self.statusBar().showMessage(f"{title}: {report.summary()}", 8000)
        box = QMessageBox(QMessageBox.Icon.Warning if report.errors else QMessageBox.Icon.Information,
                          title, f"{report.summary()}.", QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        details = []
        if report.duplicates:
            details += ["Already in the library (skipped):"] + [f"  {t}" for t in report.duplicates[:200]]
        if report.errors:
            details += ["Not imported:"] + [f"  {e}" for e in report.errors[:500]]
        if details:
            box.setDetailedText("\n".join(details))
        self.import_report_box = box
        box.open()

    def import_medqa(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import MedQA questions", "", "JSON Lines (*.jsonl *.json)")
        if not path:
            return

        def run(report_progress):
            # Its own thread and connection, committing in batches: chats and quizzes keep
            # saving while a 100,000-question file comes in.
            lib = self.library.second_connection()
            try:
                def progress(n: int) -> None:
                    if self.library_closed or self._closing:  # what is in stays in; the rest waits
                        raise LibraryError(f"the app is closing ({n:,} lines were read and are kept)")
                    report_progress(n)

                with open(path, encoding="utf-8") as fh:
                    return import_medqa_jsonl(CaseStore(lib), fh, source=Path(path).name, progress=progress)
            finally:
                lib.db.conn.close()

        def done(report):
            self.changes.cases_changed.emit()
            self.show_import_report(f"Imported {Path(path).name}", report)

        def failed(e, tb):
            self.changes.cases_changed.emit()  # the batches already in are shown
            show_error(self, f"The import stopped: {e}", tb)

        self.import_runner.run(run, done, failed, guard=self,
                               on_progress=lambda n: self.statusBar().showMessage(f"Importing… {n:,} lines read", 0))

    def export_markdown(self) -> None:
        if self.case is None:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export case", f"{self.case.title}.md", "Markdown (*.md)")
        if path:
            case = self.case

            def run():
                convs = [(c, self.chats.messages(c.id)) for c in self.chats.conversations(case.id)]  # live threads
                write_atomic(Path(path), export_markdown(case, convs))

            self.runner.run(run, lambda _: self.statusBar().showMessage(f"Exported {path}", 5000),
                            lambda e, tb: show_error(self, str(e), tb))

    def export_library(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export library", "gazal-library.json", "JSON (*.json)")
        if path:
            self.runner.run(lambda: write_atomic(Path(path), json.dumps(export_json(self.cases, self.chats), indent=1,
                                                                        ensure_ascii=False)),
                            lambda _: self.statusBar().showMessage(f"Exported {path}", 5000),
                            lambda e, tb: show_error(self, str(e), tb))

    def export_case_pack(self) -> None:
        """A pack a teacher can hand out: this case, the cases listed now, or the whole library."""
        choices = ["The whole library", "The cases listed now (search and filters)"]
        if self.case is not None:
            choices.insert(0, f"This case: {self.case.title}")
        which, ok = QInputDialog.getItem(self, "Export a case pack", "Cases to put in the pack:", choices, 0, False)
        if not ok:
            return
        title, ok = QInputDialog.getText(self, "Export a case pack", "Title of the pack:", text="Teaching cases")
        if not ok:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Export a case pack", f"{title or 'cases'}.gazalpack.json",
                                              "Case packs (*.json)")
        if not path:
            return
        listed = [self.library_pane.list.item(i).data(Qt.ItemDataRole.UserRole)
                  for i in range(self.library_pane.list.count())]
        this = self.case.id if self.case is not None and which.startswith("This case") else None

        def run() -> int:
            import uuid

            if this is not None:
                chosen = [self.cases.get(this)]
            elif which.startswith("The cases listed"):
                chosen = [self.cases.get(i) for i in listed]
            else:
                chosen = self.cases.list(sort="title")
            pack = export_pack(chosen, title or "Teaching cases", f"pack-{uuid.uuid4().hex[:12]}")
            write_atomic(Path(path), json.dumps(pack, indent=1, ensure_ascii=False))
            return len(chosen)

        self.runner.run(run, lambda n: self.statusBar().showMessage(f"Exported {n} case{'s' if n != 1 else ''} "
                                                                    f"to {path}", 8000),
                        lambda e, tb: show_error(self, str(e), tb))

    # -- models ---------------------------------------------------------------------------------
    def set_backend(self, backend) -> None:
        if self.backend is not backend:
            self.patient_view.stop_answer()  # an answer being written by the old model
        if self.backend is not None and self.backend is not backend:
            old = self.backend
            self.runner.run(old.close)
        self.backend = backend
        self.model_label.setText(backend.label + fidelity_words(getattr(backend, "path", None)))
        self._attach_session()

    # -- closing --------------------------------------------------------------------------------
    def close_library_now(self, backup: bool = False) -> None:
        """Finish what is running and close the library (before a restore replaces it)."""
        if self.library_closed:
            return
        self.study_view.suspend_running()  # a block in progress is kept to resume
        self.patient_view.leave()  # an encounter is saved as it goes; an answer being written stops
        if self.chat_view.generating:
            self.chat_view.stop()
            self.chat_view.wait()
        self.changes.blockSignals(True)
        self.model_runner.wait()
        self.import_runner.wait(-1)
        self.runner.wait()
        self.runner.run(lambda: self.library.close(backup=backup))
        self.runner.wait()
        self.library_closed = True

    def closeEvent(self, event) -> None:  # noqa: N802
        from gazal_desktop.ui.session_memory import remember

        self._closing = True  # an import stops after its current batch
        if not self.library_closed:
            remember(self)
        self.close_library_now(backup=True)
        self.runner.close()  # what is still queued must not reach the closed library
        self.model_runner.close()
        super().closeEvent(event)
