"""The end-of-block review: the score, one line per question, and each question's explanation."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from gazal_desktop.core.quiz import LETTERS, RATING_NAMES
from gazal_desktop.core.quiz_session import QuizSession
from gazal_desktop.ui.markdown import esc_html
from gazal_desktop.ui.study.explanation import explanation_html
from gazal_desktop.library.quiz import QuizStore
from gazal_desktop.ui.study.player import bold_label
from gazal_desktop.ui.threads import TaskRunner


class QuizReview(QWidget):
    done = Signal()

    def __init__(self, runner: TaskRunner, store: QuizStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.store = runner, store
        self.session: QuizSession | None = None
        lay = QVBoxLayout(self)
        self.summary = QLabel()
        bold_label(self.summary, 1.3)
        lay.addWidget(self.summary)
        self.list = QListWidget()
        self.list.currentRowChanged.connect(self._on_row_changed)
        lay.addWidget(self.list, 1)
        self.detail = QTextBrowser()
        self.detail.setOpenLinks(False)
        lay.addWidget(self.detail, 2)
        back = QPushButton("Back to Study")
        back.clicked.connect(self.done)
        lay.addWidget(back)

    def show_session(self, s: QuizSession) -> None:
        self.session = s
        correct, answered = s.score()
        omitted = len(s.items) - answered
        pct = f" ({correct / answered:.0%})" if answered else ""
        self.summary.setText(f"{correct} of {answered} correct{pct}" + (f" · {omitted} not answered (still due)"
                                                                         if omitted else ""))
        self.list.clear()
        for i, item in enumerate(s.items):
            r = s.responses.get(i)
            ok = r.correct(item) if r else None
            mark = "✓" if ok else ("✗" if ok is False else "–")
            if item.kind == "mcq":
                yours = LETTERS[r.chosen] if r and r.chosen is not None else "none"
                line = f"{mark} {i + 1}. {item.title}: you {yours}, answer {LETTERS[item.answer]}"
            else:
                grade = RATING_NAMES.get(r.self_rating) if r and r.self_rating else "not graded"
                line = f"{mark} {i + 1}. {item.title}: commit first, {grade}"
            QListWidgetItem(line, self.list)
        self.list.setCurrentRow(0)

    def _on_row_changed(self, row: int) -> None:
        s = self.session
        if s is None or not 0 <= row < len(s.items):
            return
        item = s.items[row]
        stem = f"<p>{esc_html(item.stem)}</p><p><b>{esc_html(item.question)}</b></p>" if item.kind == "mcq" else \
            f"<p>{esc_html(item.stem)}</p>"
        self.detail.setHtml(stem + explanation_html(item, s.responses.get(row)))
