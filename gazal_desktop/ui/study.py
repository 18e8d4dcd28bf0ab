"""Study: the quiz builder with today's due count, the end-of-block review, progress, and the
tab that holds them and the question player (ui/quiz_player.py).

The session's state lives in core.quiz.QuizSession; every database call goes through the
single database TaskRunner. Keyboard: 1-5 choose, Ctrl+1-5 strike out, Enter submits or
moves on, F flags, Left/Right move between questions in timed mode, and 1-4 grade a
commit-first answer.
"""

from __future__ import annotations

import random


from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QListWidget, QListWidgetItem, QMessageBox, QPushButton, QRadioButton, QSpinBox,
    QStackedWidget, QTextBrowser, QVBoxLayout, QWidget,
)

from gazal_desktop.core.quiz import shuffled
from gazal_desktop.core.quiz import (LETTERS, RATING_NAMES, QuizSession)
from gazal_desktop.library.quiz import POOLS, QuizFilter, QuizStore
from gazal_desktop.ui.gate import Banner
from gazal_desktop.ui.progress_view import ProgressView
from gazal_desktop.ui.quiz_explanation import esc_html, explanation_html
from gazal_desktop.ui.quiz_player import QuizPlayer, bold_label
from gazal_desktop.ui.threads import TaskRunner

POOL_LABELS = {"due": "Due for review", "new": "New", "incorrect": "Answered wrong last time", "flagged": "Flagged"}


class QuizHome(QWidget):
    start_requested = Signal(object, str)  # QuizFilter, mode
    drafts_requested = Signal()
    progress_requested = Signal()

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


# -- one question at a time ------------------------------------------------------------------------


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


# -- the whole Study tab ----------------------------------------------------------------------------
class StudyView(QWidget):
    """The Study tab: the disclaimer banner over one page at a time (home, player, review,
    progress)."""

    counts_changed = Signal(dict)
    status = Signal(str)  # a short message for the window's status bar

    def __init__(self, runner: TaskRunner, store: QuizStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.store = runner, store
        self._refreshing = self._refresh_again = False  # refresh: one at a time
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.banner = Banner(self)
        lay.addWidget(self.banner)
        self.pages = QStackedWidget(self)
        lay.addWidget(self.pages, 1)
        self.home = QuizHome(self)
        self.player = QuizPlayer(runner, store, self)
        self.review = QuizReview(runner, store, self)
        self.progress = ProgressView(self)
        for w in (self.home, self.player, self.review, self.progress):
            self.pages.addWidget(w)
        self.home.start_requested.connect(self.start)
        self.home.drafts_requested.connect(self.review_drafts)
        self.home.progress_requested.connect(self.show_progress)
        self.player.finished.connect(self._on_finished)
        self.player.failed.connect(self._show_error)
        self.review.done.connect(self.show_home)
        self.progress.back_requested.connect(self.show_home)
        self.progress.export_requested.connect(self.export_results)
        self.show_home()

    def currentWidget(self) -> QWidget:  # noqa: N802 - as QStackedWidget
        return self.pages.currentWidget()

    def setCurrentWidget(self, page: QWidget) -> None:  # noqa: N802
        self.pages.setCurrentWidget(page)

    @property
    def in_quiz(self) -> bool:
        return self.currentWidget() is self.player and self.player.session is not None \
            and self.player.session.finished_at is None

    def show_home(self) -> None:
        self.setCurrentWidget(self.home)
        self.refresh()

    def subscribe(self, changes) -> None:
        """The deck follows the cases' answer keys. (Saved discussions are read when a
        commit-first answer is shown, so they need no refresh here.)"""
        changes.cases_changed.connect(self.refresh)

    def refresh(self) -> None:
        if self._refreshing:  # one at a time: a burst of changes is one reload
            self._refresh_again = True
            return
        self._refreshing, self._refresh_again = True, False

        def load():
            self.store.sync_authored()
            return self.store.counts(), self.store.specialties()

        def done(result):
            self._refreshing = False
            counts, specs = result
            self.home.set_counts(counts, specs)
            self.counts_changed.emit(counts)
            if self._refresh_again:
                self.refresh()

        def failed(e, tb):
            self._refreshing = False
            self._show_error(str(e))

        self.runner.run(load, done, failed, guard=self)

    def start(self, f: QuizFilter, mode: str) -> None:
        self.home.start_button.setEnabled(False)

        def build():
            items = self.store.build(f)
            if not items:
                return None
            rng = random.Random()
            items = [shuffled(it, rng) for it in items]  # options in a fresh order each presentation
            session = QuizSession(items, mode)
            self.store.start_session(session, {"specialties": f.specialties, "tags": f.tags, "count": f.count,
                                               "pools": list(f.pools), "kinds": list(f.kinds)})
            return session

        def done(session):
            self.home.start_button.setEnabled(True)
            if session is None:
                self.home.message.setText("No questions match. Widen the specialties or tags, or include new "
                                          "questions.")
                return
            self.home.message.clear()
            self.setCurrentWidget(self.player)
            self.player.start(session)

        def failed(exc, _tb):
            self.home.start_button.setEnabled(True)
            self.home.message.setText(str(exc))

        self.runner.run(build, done, failed, guard=self)

    def _on_finished(self, session: QuizSession) -> None:
        self.review.show_session(session)
        self.setCurrentWidget(self.review)
        self.refresh()

    def show_progress(self) -> None:
        self.runner.run(self.store.progress, self._on_progress, lambda e, tb: self._show_error(str(e)), guard=self)

    def _on_progress(self, progress) -> None:
        self.progress.set_progress(progress)
        self.setCurrentWidget(self.progress)

    def review_drafts(self, select_id: int | None = None) -> None:
        from gazal_desktop.ui.draft_review import DraftReview

        dlg = DraftReview(self.runner, self.store, self, select_id=select_id)
        dlg.changed.connect(self.refresh)
        dlg.finished.connect(lambda _r: self.refresh())
        dlg.show()
        return dlg

    def export_results(self, path: str | None = None) -> None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export quiz results", "gazal-results.csv", "CSV (*.csv)")
        if path:
            self.runner.run(lambda: self.store.export_csv(path), lambda p: self.status.emit(f"Exported {p}"),
                            lambda e, tb: self._show_error(f"The results could not be saved: {e}"), guard=self)

    def _show_error(self, text: str) -> None:
        QMessageBox.warning(self, "Gazal Desktop", text)
