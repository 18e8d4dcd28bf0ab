"""The library: search as you type, filters, and new / edit / duplicate / delete with undo.

Every database call goes through the single-threaded TaskRunner, off the GUI thread.
"""

from __future__ import annotations

import json

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QMessageBox, QPlainTextEdit, QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from gazal_desktop.ui.case_list import ROW_ROLE, CaseRow, CaseRowDelegate
from gazal_desktop.ui.keys import tab_moves_focus
from gazal_desktop.ui.tag_filter import TagFilter
from gazal_desktop.library.cases import DIFFICULTIES, SPECIALTIES, Case, CaseStore
from gazal_desktop.library.db import LibraryError
from gazal_desktop.safety import phi_spans
from gazal_desktop.ui.gate import PhiDialog
from gazal_desktop.ui.threads import TaskRunner

ALL = "All"


class CaseEditor(QDialog):
    """Edit a case: vignette, specialty, tags, difficulty and the answer key."""

    def __init__(self, case: Case, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit case" if case.id else "New case")
        self.case = case
        form = QFormLayout(self)
        self.title = QLineEdit(case.title)
        self.vignette = QPlainTextEdit(case.vignette)
        self.specialty = QComboBox()
        self.specialty.setEditable(True)
        self.specialty.addItems([""] + SPECIALTIES)
        self.specialty.setCurrentText(case.specialty)
        self.tags = QLineEdit(", ".join(case.tags))
        self.difficulty = QComboBox()
        self.difficulty.addItems(list(DIFFICULTIES))
        self.difficulty.setCurrentText(case.difficulty)
        self.diagnosis = QLineEdit(case.diagnosis)
        self.findings = QPlainTextEdit(case.key_findings)
        self.management = QPlainTextEdit(case.management)
        self.teaching = QPlainTextEdit(case.teaching_points)
        self.question = QLineEdit(case.mcq_question)
        self.options = QPlainTextEdit("\n".join(case.mcq_options))
        self.options.setPlaceholderText("One option per line")
        self.explanations = QPlainTextEdit("\n".join(case.mcq_explanations))
        self.explanations.setPlaceholderText("Why each option is right or wrong: one line per option, in the same "
                                             "order (an empty line for none)")
        self.patient = QPlainTextEdit(json.dumps(case.patient, indent=1, ensure_ascii=False) if case.patient else "")
        self.patient.setPlaceholderText("Patient mode (optional): the patient script as JSON, with persona, opening, "
                                        "history, exam, tests, differential, diagnosis and management")
        tab_moves_focus(self.vignette, self.findings, self.management, self.teaching, self.options, self.explanations,
                        self.patient)
        self.answer = QSpinBox()
        self.answer.setRange(1, 10)
        self.answer.setValue((case.mcq_answer or 0) + 1)
        for label, w in [("Title", self.title), ("Vignette", self.vignette), ("Specialty", self.specialty),
                         ("Tags (comma-separated)", self.tags), ("Difficulty", self.difficulty),
                         ("Diagnosis", self.diagnosis), ("Key findings", self.findings), ("Management", self.management),
                         ("Teaching points", self.teaching), ("Question", self.question), ("Options", self.options),
                         ("Correct option (number)", self.answer), ("Why each option", self.explanations),
                         ("Patient script (JSON)", self.patient)]:
            form.addRow(label, w)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(640, 780)

    def result_case(self) -> Case:
        options = [o.strip() for o in self.options.toPlainText().splitlines() if o.strip()]
        c = self.case
        c.title, c.vignette = self.title.text().strip(), self.vignette.toPlainText().strip()
        c.specialty, c.difficulty = self.specialty.currentText().strip(), self.difficulty.currentText()
        c.tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
        c.diagnosis, c.key_findings = self.diagnosis.text().strip(), self.findings.toPlainText().strip()
        c.management, c.teaching_points = self.management.toPlainText().strip(), self.teaching.toPlainText().strip()
        c.mcq_question, c.mcq_options = self.question.text().strip(), options
        c.mcq_answer = (self.answer.value() - 1) if options else None
        why = [w.strip() for w in self.explanations.toPlainText().splitlines()]
        while why and not why[-1]:
            why.pop()
        c.mcq_explanations = why + [""] * (len(options) - len(why)) if any(why) else []
        c.patient = self.patient_script()
        return c

    def patient_script(self) -> dict:
        """The patient script as typed; raises LibraryError, in words, when it cannot be used."""
        from gazal_desktop.core.patient import PatientScript, ScriptError

        text = self.patient.toPlainText().strip()
        if not text:
            return {}
        try:
            data = json.loads(text)
            PatientScript.from_dict(data)
        except ValueError as e:  # JSONDecodeError and ScriptError alike
            kind = "is not valid JSON" if not isinstance(e, ScriptError) else "cannot be used"
            raise LibraryError(f"The patient script {kind}: {e}") from None
        return data

    def accept(self) -> None:
        """Saving checks the patient script, then runs the identifiable-data check on the vignette."""
        try:
            self.patient_script()
        except LibraryError as e:
            QMessageBox.warning(self, "Patient script", str(e))
            return
        text = self.vignette.toPlainText()
        spans = phi_spans(text)
        if spans:
            dlg = PhiDialog(text, spans, self)
            result = dlg.exec()
            if result == PhiDialog.REDACT:
                self.vignette.setPlainText(dlg.redacted_text())
            elif result != PhiDialog.SEND_AS_IS:
                return
        super().accept()


class LibraryPane(QWidget):
    case_selected = Signal(object)  # Case
    hit_selected = Signal(object, int, int)  # Case, conversation id, message id: a search hit in a discussion
    status = Signal(str)
    deleted = Signal(int, str)  # case id, title (the window offers Undo)
    failed = Signal(str)
    undo_requested = Signal()  # Ctrl+Z in the list
    selection_cleared = Signal()  # the open case is no longer in the list (a search or filter hid it)
    listed = Signal()  # the list was filled (after each search or change)

    def __init__(self, runner: TaskRunner, store: CaseStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.store = runner, store
        layout = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search cases and discussions…")
        self.search.setClearButtonEnabled(True)
        layout.addWidget(self.search)
        filters = QHBoxLayout()
        self.specialty = QComboBox(self)
        self.tag = TagFilter(self)
        # a long specialty must not widen the pane (or the window)
        self.specialty.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.specialty.setMinimumContentsLength(8)
        filters.addWidget(self.specialty, 1)
        filters.addWidget(self.tag, 1)
        layout.addLayout(filters)
        self.list = QListWidget(self)
        self.list.setItemDelegate(CaseRowDelegate(self.list))
        self.list.setUniformItemSizes(True)
        layout.addWidget(self.list, 1)
        self.no_match = QWidget(self)  # what an empty result says, with the way out
        row = QHBoxLayout(self.no_match)
        row.setContentsMargins(0, 0, 0, 0)
        self.no_match_label = QLabel("")
        self.no_match_label.setWordWrap(True)
        self.no_match_label.setTextFormat(Qt.TextFormat.PlainText)
        self.clear_filters_button = QPushButton("Clear search and filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        row.addWidget(self.no_match_label, 1)
        row.addWidget(self.clear_filters_button)
        self.no_match.setVisible(False)
        layout.addWidget(self.no_match)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.list, self.delete_case,
                  context=Qt.ShortcutContext.WidgetShortcut)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Undo), self.list, self.undo_requested.emit,
                  context=Qt.ShortcutContext.WidgetShortcut)
        buttons = QHBoxLayout()
        self.new_button, self.edit_button = QPushButton("New"), QPushButton("Edit")
        self.duplicate_button, self.delete_button = QPushButton("Duplicate"), QPushButton("Delete")
        for b in (self.new_button, self.edit_button, self.duplicate_button, self.delete_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(150)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _: self._debounce.start())
        self.specialty.currentIndexChanged.connect(lambda _: self.refresh())
        self.tag.changed.connect(self.refresh)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.new_button.clicked.connect(self.new_case)
        self.edit_button.clicked.connect(self.edit_case)
        self.duplicate_button.clicked.connect(self.duplicate_case)
        self.delete_button.clicked.connect(self.delete_case)
        self._generation = 0
        self.loaded = False

    # -- data ---------------------------------------------------------------------------------
    def subscribe(self, changes) -> None:
        """Reload the filters and the list whenever the library's cases change."""
        changes.cases_changed.connect(self.reload_filters)
        # the rows' markers: discussions and questions due
        changes.chats_changed.connect(self._debounce.start)
        changes.quiz_changed.connect(self._debounce.start)

    def reload_filters(self) -> None:
        def fetch():
            return self.store.specialties(), self.store.tags()

        def fill(result):
            specialties, tags = result
            combo = self.specialty
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("All specialties", None)
            for it in specialties:
                combo.addItem(it, it)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            combo.blockSignals(False)
            self.tag.set_tags(tags)
            self.refresh()

        self.runner.run(fetch, fill, self._on_error)

    def refresh(self) -> None:
        self._generation += 1
        gen = self._generation
        text = self.search.text().strip()
        specialty, tag = self.specialty.currentData(), (self.tag.selected() or None)

        def fetch():
            import datetime as dt

            from gazal_desktop.library.quiz import end_of_local_day

            now = dt.datetime.now(dt.timezone.utc)
            marks = self.store.markers(end_of_local_day(now).isoformat(timespec="seconds"))

            def row(c, hit: str = "", in_discussion: bool = False) -> CaseRow:
                n, due = marks.get(c.id, (0, False))
                return CaseRow(c.title, c.specialty, c.difficulty, n, due, hit, in_discussion)

            if text:
                hits, seen = [], set()
                for h in self.store.search(text, specialty=specialty, tag=tag, limit=200):
                    if h.case_id not in seen:
                        seen.add(h.case_id)
                        hits.append(h)
                cases = self.store.get_many([h.case_id for h in hits])  # one query, not one per hit
                rows = []
                for h in hits:
                    if h.case_id in cases:
                        where = (h.conversation_id, h.message_id) if h.kind == "message" else None
                        rows.append((h.case_id, h.title, row(cases[h.case_id], h.snippet, where is not None), where))
                return rows
            return [(c.id, c.title, row(c), None)
                    for c in self.store.list(specialty=specialty, tag=tag, sort="title")]

        def show(rows):
            if gen != self._generation:
                return  # a newer search is on its way: drop stale results
            current = self.current_case_id()
            self.list.blockSignals(True)
            self.list.clear()
            for cid, title, case_row, where in rows:
                item = QListWidgetItem(title + ("  · in a discussion" if where else ""))
                item.setData(Qt.ItemDataRole.UserRole, cid)
                item.setData(Qt.ItemDataRole.UserRole + 1, where)
                item.setData(ROW_ROLE, case_row)
                item.setToolTip(case_row.tooltip())
                self.list.addItem(item)
                if cid == current:
                    self.list.setCurrentItem(item)
            self.list.blockSignals(False)
            self.loaded = True
            filtered = bool(text) or specialty is not None or tag is not None
            self.no_match.setVisible(not rows and filtered)
            if not rows and filtered:
                what = f"“{text}”" if text else "these filters"
                self.no_match_label.setText(f"No cases match {what}.")
            if current is not None and self.list.currentItem() is None:
                self.selection_cleared.emit()  # its vignette must not stay on screen as if listed
            self.status.emit(f"{len(rows)} case{'s' if len(rows) != 1 else ''}")
            self.listed.emit()

        self.runner.run(fetch, show, self._on_error)

    def clear_filters(self) -> None:
        self.specialty.blockSignals(True)
        self.specialty.setCurrentIndex(0)
        self.specialty.blockSignals(False)
        self.tag.blockSignals(True)
        self.tag.clear_selection()
        self.tag.blockSignals(False)
        self.search.clear()
        self.refresh()

    def current_case_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def select(self, case_id: int) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) == case_id:
                self.list.setCurrentRow(i)
                return

    def _on_current_changed(self, item, _previous) -> None:
        if item is None:
            return
        cid = item.data(Qt.ItemDataRole.UserRole)
        where = item.data(Qt.ItemDataRole.UserRole + 1)
        if where:  # the search matched a message: open that discussion at that message
            self.runner.run(lambda: self.store.get(cid), lambda case: self.hit_selected.emit(case, *where),
                            self._on_error)
            return
        self.runner.run(lambda: self.store.get(cid), self.case_selected.emit, self._on_error)

    def _on_error(self, exc, tb) -> None:
        self.failed.emit(f"{exc}")

    # -- actions ------------------------------------------------------------------------------
    def new_case(self) -> None:
        self._edit(Case(title="", vignette=""))

    def edit_case(self) -> None:
        cid = self.current_case_id()
        if cid is not None:
            self.runner.run(lambda: self.store.get(cid), self._edit, self._on_error)

    def _edit(self, case: Case) -> None:
        dlg = CaseEditor(case, self)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        c = dlg.result_case()
        save = (lambda: self.store.update(c)) if c.id else (lambda: self.store.add(c))

        def saved(result):
            self.status.emit(f"Saved “{result.title}”")
            self.reload_filters()
            QTimer.singleShot(200, self, lambda: self.select(result.id))

        self.runner.run(save, saved, self._on_error)

    def duplicate_case(self) -> None:
        cid = self.current_case_id()
        if cid is not None:
            self.runner.run(lambda: self.store.duplicate(cid), lambda c: (self.status.emit(f"Duplicated as “{c.title}”"),
                                                                           self.refresh()), self._on_error)

    def delete_case(self) -> None:
        cid = self.current_case_id()
        if cid is None:
            return
        title = self.list.currentItem().text()

        def done(_):
            self.deleted.emit(cid, title)
            self.reload_filters()

        self.runner.run(lambda: self.store.delete(cid), done, self._on_error)

    def undo_delete(self, cid: int) -> None:
        self.runner.run(lambda: self.store.undo_delete(cid), lambda _: self.reload_filters(), self._on_error)
