"""The Study tab: the disclaimer banner over one page at a time: home (ui/study/home.py), the
question player (player.py), the end-of-block review (review.py) and progress.

A block's rules live in core.quiz_session.QuizSession; every database call goes through the
single database TaskRunner, which is handed snapshots, never the live session.
"""

from __future__ import annotations

import random

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QStackedWidget, QVBoxLayout, QWidget

from gazal_desktop.core.quiz import shuffled
from gazal_desktop.core.quiz_session import QuizSession
from gazal_desktop.library.quiz import QuizFilter, QuizStore
from gazal_desktop.ui.gate import Banner
from gazal_desktop.ui.progress_view import ProgressView
from gazal_desktop.ui.study.home import QuizHome
from gazal_desktop.ui.study.player import QuizPlayer
from gazal_desktop.ui.study.review import QuizReview
from gazal_desktop.ui.threads import TaskRunner


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
        self.home.resume_requested.connect(self.resume)
        self.home.discard_requested.connect(self.discard)
        self.player.finished.connect(self._on_finished)
        self.player.suspended.connect(self._on_suspended)
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
            return self.store.counts(), self.store.specialties(), self.store.suspended()

        def done(result):
            self._refreshing = False
            counts, specs, suspended = result
            self.home.set_counts(counts, specs)
            self.home.set_suspended(suspended)
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

    def resume(self, session_id: int) -> None:
        def done(session):
            self.setCurrentWidget(self.player)
            self.player.start(session)
            self.status.emit("Block resumed")

        def failed(exc, _tb):
            self.home.message.setText(str(exc))
            self.refresh()

        self.runner.run(lambda: self.store.resume(session_id), done, failed, guard=self)

    def discard(self, session_id: int) -> None:
        answer = QMessageBox.question(self, "Discard the block?", "Discard this suspended block? Answers already "
                                      "graded in tutor mode keep counting; unfinished timed answers are dropped.")
        if answer == QMessageBox.StandardButton.Yes:
            self.runner.run(lambda: self.store.discard_suspended(session_id), lambda _r: self.refresh(),
                            lambda e, tb: self._show_error(str(e)), guard=self)

    def suspend_running(self) -> None:
        """Keep a block in progress to resume later (the window is closing)."""
        if self.in_quiz:
            self.player.suspend()

    def _on_suspended(self) -> None:
        self.status.emit("Block suspended: resume it from Study")
        self.show_home()

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
