"""The Study tab's home: today's due count, blocks waiting to be resumed, and the quiz builder."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem,
    QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget,
)

from gazal_desktop.library.quiz import POOLS, QuizFilter
from gazal_desktop.ui.study.player import bold_label

POOL_LABELS = {"due": "Due for review", "new": "New", "incorrect": "Answered wrong last time", "flagged": "Flagged"}


class QuizHome(QWidget):
    start_requested = Signal(object, str)  # QuizFilter, mode
    drafts_requested = Signal()
    progress_requested = Signal()
    resume_requested = Signal(int)  # a suspended block's session id
    discard_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.due_label = QLabel("Loading…")
        bold_label(self.due_label, 1.6)
        lay.addWidget(self.due_label)
        self.detail = QLabel()
        lay.addWidget(self.detail)
        quick = QHBoxLayout()
        self.study_due = QPushButton("Study what is due")
        self.study_due.clicked.connect(self._start_due)
        quick.addWidget(self.study_due)
        self.drafts_button = QPushButton("Review drafts")
        self.drafts_button.clicked.connect(self.drafts_requested)
        quick.addWidget(self.drafts_button)
        progress = QPushButton("Progress")
        progress.clicked.connect(self.progress_requested)
        quick.addWidget(progress)
        quick.addStretch(1)
        lay.addLayout(quick)

        self.suspended_box = QGroupBox("Suspended blocks")
        sl = QHBoxLayout(self.suspended_box)
        self.suspended_list = QListWidget()
        self.suspended_list.setMaximumHeight(90)
        self.suspended_list.itemActivated.connect(lambda _it: self._resume())
        sl.addWidget(self.suspended_list, 1)
        col = QVBoxLayout()
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(self._resume)
        col.addWidget(self.resume_button)
        self.discard_button = QPushButton("Discard")
        self.discard_button.setToolTip("End it without finishing: answers already graded keep counting")
        self.discard_button.clicked.connect(self._discard)
        col.addWidget(self.discard_button)
        col.addStretch(1)
        sl.addLayout(col)
        self.suspended_box.setVisible(False)
        lay.addWidget(self.suspended_box)

        box = QGroupBox("Build a quiz")
        form = QFormLayout(box)
        self.specialties = QListWidget()
        self.specialties.setMaximumHeight(150)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("any; or comma-separated tags, e.g. ECG, sepsis")
        self.count = QSpinBox()
        self.count.setRange(1, 200)
        self.count.setValue(10)
        self.pools = {}
        pools_row = QHBoxLayout()
        for p in POOLS:
            cb = QCheckBox(POOL_LABELS[p])
            cb.setChecked(p in ("due", "new"))
            self.pools[p] = cb
            pools_row.addWidget(cb)
        self.kind_mcq = QCheckBox("Single-best-answer questions")
        self.kind_mcq.setChecked(True)
        self.kind_commit = QCheckBox("Commit first (write your diagnosis, then compare)")
        kinds = QHBoxLayout()
        kinds.addWidget(self.kind_mcq)
        kinds.addWidget(self.kind_commit)
        self.tutor = QRadioButton("Tutor: explanation after each question")
        self.timed = QRadioButton("Timed: 90 s a question, review at the end")
        self.tutor.setChecked(True)
        modes = QHBoxLayout()
        modes.addWidget(self.tutor)
        modes.addWidget(self.timed)
        form.addRow("Specialties (none ticked: all)", self.specialties)
        form.addRow("Tags", self.tags)
        form.addRow("Questions", self.count)
        form.addRow("Include", pools_row)
        form.addRow("Kinds", kinds)
        form.addRow("Mode", modes)
        self.start_button = QPushButton("Start quiz")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._start)
        form.addRow(self.start_button)
        self.message = QLabel()
        self.message.setWordWrap(True)
        form.addRow(self.message)
        lay.addWidget(box)
        lay.addStretch(1)

    def set_counts(self, counts: dict, specialties: list[str]) -> None:
        n = counts["due"]
        self.due_label.setText(f"{n} due today" if n else "Nothing due today")
        self.detail.setText(f"{counts['new']} new · {counts['flagged']} flagged · {counts['total']} questions in the deck")
        self.study_due.setEnabled(n > 0)
        self.drafts_button.setText(f"Review drafts ({counts['drafts']})")
        ticked = {self.specialties.item(i).text() for i in range(self.specialties.count())
                  if self.specialties.item(i).checkState() == Qt.CheckState.Checked}
        self.specialties.clear()
        for s in specialties:
            it = QListWidgetItem(s, self.specialties)
            it.setFlags(it.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            it.setCheckState(Qt.CheckState.Checked if s in ticked else Qt.CheckState.Unchecked)

    def set_suspended(self, blocks: list[dict]) -> None:
        """Blocks waiting to be resumed (QuizStore.suspended), newest first."""
        self.suspended_list.clear()
        for b in blocks:
            kind = "Timed" if b["mode"] == "timed" else "Tutor"
            it = QListWidgetItem(f"{kind} block of {b['n_items']}: {b['answered']} answered · started "
                                 f"{str(b['started_at'])[:16].replace('T', ' ')} UTC", self.suspended_list)
            it.setData(Qt.ItemDataRole.UserRole, b["id"])
        self.suspended_box.setVisible(bool(blocks))
        if blocks:
            self.suspended_list.setCurrentRow(0)

    def _selected_block(self) -> int | None:
        it = self.suspended_list.currentItem()
        return None if it is None else int(it.data(Qt.ItemDataRole.UserRole))

    def _resume(self) -> None:
        if (sid := self._selected_block()) is not None:
            self.resume_requested.emit(sid)

    def _discard(self) -> None:
        if (sid := self._selected_block()) is not None:
            self.discard_requested.emit(sid)

    def quiz_filter(self) -> QuizFilter:
        specs = [self.specialties.item(i).text() for i in range(self.specialties.count())
                 if self.specialties.item(i).checkState() == Qt.CheckState.Checked]
        tags = [t.strip() for t in self.tags.text().split(",") if t.strip()]
        kinds = tuple(k for k, cb in (("mcq", self.kind_mcq), ("commit", self.kind_commit)) if cb.isChecked())
        pools = tuple(p for p, cb in self.pools.items() if cb.isChecked())
        return QuizFilter(specialties=specs, tags=tags, count=self.count.value(), pools=pools, kinds=kinds)

    def _start(self) -> None:
        f = self.quiz_filter()
        if not f.pools:
            self.message.setText("Tick at least one of: due, new, answered wrong, flagged.")
            return
        if not f.kinds:
            self.message.setText("Tick at least one kind of question.")
            return
        self.start_requested.emit(f, "timed" if self.timed.isChecked() else "tutor")

    def _start_due(self) -> None:
        self.start_requested.emit(QuizFilter(count=200, pools=("due",), kinds=("mcq", "commit")), "tutor")
