"""Review, edit and approve questions the model wrote, before they enter the deck."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QDialog, QFormLayout, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPlainTextEdit, QPushButton, QRadioButton, QSplitter, QVBoxLayout, QWidget,
)

from gazal_desktop.ui.keys import tab_moves_focus
from gazal_desktop.core.quiz import LETTERS, Option, QuizItem, dose_warnings, validate
from gazal_desktop.library.quiz import QuizStore
from gazal_desktop.ui.threads import TaskRunner

MAX_OPTIONS = 5


class DraftReview(QDialog):
    """Drafts on the left; the selected one's stem, options, explanations and teaching point on
    the right, with the reasons it cannot be approved yet, updated as the learner edits."""

    changed = Signal()  # something was approved or discarded

    def __init__(self, runner: TaskRunner, store: QuizStore, parent: QWidget | None = None,
                 select_id: int | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review questions written by the model")
        self.runner, self.store = runner, store
        self.drafts: list[QuizItem] = []
        self.current: QuizItem | None = None
        self._select_id = select_id
        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._on_row_changed)
        split.addWidget(self.list)
        editor = QWidget()
        form = QFormLayout(editor)
        self.case_label = QLabel()
        form.addRow("Case", self.case_label)
        self.answer_key = QPlainTextEdit()  # the case's own key beside the draft: check the model against it
        self.answer_key.setReadOnly(True)
        self.answer_key.setMaximumHeight(110)
        self.answer_key.setObjectName("draftAnswerKey")
        form.addRow("Case answer key", self.answer_key)
        self.stem = QPlainTextEdit()
        self.question = QLineEdit()
        form.addRow("Stem", self.stem)
        form.addRow("Lead-in", self.question)
        grid = QGridLayout()
        grid.addWidget(QLabel("Correct"), 0, 0)
        grid.addWidget(QLabel("Option"), 0, 1)
        grid.addWidget(QLabel("Explanation"), 0, 2)
        self.correct = QButtonGroup(self)
        self.option_edits: list[tuple[QLineEdit, QLineEdit]] = []
        for i in range(MAX_OPTIONS):
            radio = QRadioButton(LETTERS[i])
            self.correct.addButton(radio, i)
            text, why = QLineEdit(), QLineEdit()
            text.setPlaceholderText("(leave empty for a four-option question)" if i == 4 else "")
            grid.addWidget(radio, i + 1, 0)
            grid.addWidget(text, i + 1, 1)
            grid.addWidget(why, i + 1, 2)
            self.option_edits.append((text, why))
            text.textChanged.connect(self._recheck)
            why.textChanged.connect(self._recheck)
        self.correct.idToggled.connect(lambda *_: self._recheck())
        form.addRow(grid)
        self.teaching = QPlainTextEdit()
        self.teaching.setMaximumHeight(80)
        tab_moves_focus(self.stem, self.teaching)
        form.addRow("Teaching point", self.teaching)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #b3261e")
        form.addRow(self.problems)
        for w in (self.stem, self.teaching):
            w.textChanged.connect(self._recheck)
        self.question.textChanged.connect(self._recheck)
        buttons = QHBoxLayout()
        self.approve_button = QPushButton("Approve into the deck")
        self.save_button = QPushButton("Save draft")
        self.discard_button = QPushButton("Discard")
        close = QPushButton("Close")
        for b in (self.approve_button, self.save_button, self.discard_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(close)
        form.addRow(buttons)
        self.approve_button.clicked.connect(self.approve)
        self.save_button.clicked.connect(self.save)
        self.discard_button.clicked.connect(self.discard)
        close.clicked.connect(self.accept)
        split.addWidget(editor)
        split.setStretchFactor(1, 3)
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        self.resize(1000, 640)
        self.reload()

    # -- data ------------------------------------------------------------------------------
    def reload(self) -> None:
        self.runner.run(self.store.drafts, self._on_loaded, self._on_failed, guard=self)

    def _on_loaded(self, drafts: list[QuizItem]) -> None:
        self.drafts = drafts
        self.list.blockSignals(True)
        self.list.clear()
        for d in drafts:
            mark = "✗ " if d.status == "rejected" else ""
            QListWidgetItem(f"{mark}{d.title or 'Case'}: {d.question[:60]}", self.list)
        self.list.blockSignals(False)
        for b in (self.approve_button, self.save_button, self.discard_button):
            b.setEnabled(bool(drafts))
        row = next((i for i, d in enumerate(drafts) if d.id == self._select_id), 0)
        if drafts:
            self.list.setCurrentRow(row)
            self._on_row_changed(row)
        else:
            self.current = None
            self.problems.setText("No questions are waiting for review.")

    def _on_failed(self, exc: Exception, _tb: str) -> None:
        self.problems.setText(str(exc))

    def _on_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self.drafts):
            return
        d = self.current = self.drafts[row]
        self._select_id = d.id
        self.case_label.setText(d.title)
        key = d.answer_key
        self.answer_key.setPlainText("\n".join(f"{label}: {key[k]}" for label, k in (
            ("Diagnosis", "diagnosis"), ("Key findings", "findings"), ("Management", "management"),
            ("Teaching points", "teaching_points")) if key.get(k)) or "This case has no answer key yet.")
        self.stem.setPlainText(d.stem)
        self.question.setText(d.question)
        self.teaching.setPlainText(d.teaching_point)
        for i, (text, why) in enumerate(self.option_edits):
            o = d.options[i] if i < len(d.options) else Option("")
            text.setText(o.text)
            why.setText(o.explanation)
        if d.answer is not None:
            self.correct.button(d.answer).setChecked(True)
        else:
            self.correct.setExclusive(False)
            for b in self.correct.buttons():
                b.setChecked(False)
            self.correct.setExclusive(True)
        self._recheck()

    def edited(self) -> QuizItem | None:
        """The draft as the editor shows it now."""
        if self.current is None:
            return None
        options, answer = [], None
        for i, (text, why) in enumerate(self.option_edits):
            if text.text().strip():
                if self.correct.checkedId() == i:
                    answer = len(options)
                options.append(Option(text.text().strip(), why.text().strip()))
        return replace(self.current, stem=self.stem.toPlainText().strip(), question=self.question.text().strip(),
                       options=options, answer=answer, teaching_point=self.teaching.toPlainText().strip(),
                       source="generated")

    def _recheck(self) -> None:
        item = self.edited()
        if item is None:
            return
        problems = validate(item)
        warnings = dose_warnings(item)  # not a refusal: the reviewer checks them against a reference
        text = "\n".join(problems) if problems else "Ready to approve."
        self.problems.setText(text + ("\n" + "\n".join(warnings) if warnings else ""))
        self.approve_button.setEnabled(not problems)

    # -- actions -----------------------------------------------------------------------------
    def approve(self) -> None:
        item = self.edited()
        if item is not None:
            self.runner.run(lambda: self.store.approve(item), lambda _r: self._after_change(), self._on_failed, guard=self)

    def save(self) -> None:
        item = self.edited()
        if item is not None:
            self.runner.run(lambda: self.store.save_draft(item), lambda _r: self.reload(), self._on_failed, guard=self)

    def discard(self) -> None:
        if self.current is not None and self.current.id is not None:
            item_id = self.current.id
            self._select_id = None
            self.runner.run(lambda: self.store.discard(item_id), lambda _r: self._after_change(), self._on_failed, guard=self)

    def _after_change(self) -> None:
        self._select_id = None
        self.changed.emit()
        self.reload()
