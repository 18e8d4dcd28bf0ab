"""The question player: one question at a time, tutor or timed, single-best-answer or commit-first.

Keyboard: 1-5 choose, Ctrl+1-5 strike out, Enter submits or moves on, F flags, Left/Right
move between questions in timed mode, 1-4 grade a commit-first answer, G/S/C set confidence,
N writes a note, Ctrl+Z takes back the last answer. The rules (what Enter does, when an answer
is revealed, graded and recorded) are core.quiz_session.QuizSession's; this widget renders its
state and hands the database thread snapshots of the answers to record.
"""

from __future__ import annotations

import datetime as dt
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup, QFormLayout, QHBoxLayout, QInputDialog, QLabel, QLineEdit,
    QPlainTextEdit, QPushButton, QRadioButton, QScrollArea, QTextBrowser, QToolButton, QVBoxLayout, QWidget,
)

from gazal_desktop.core.scheduling import interval_text, preview
from gazal_desktop.ui.keys import tab_moves_focus
from gazal_desktop.ui.study.explanation import explanation_html
from gazal_desktop.core.quiz import CONFIDENCE, LETTERS, RATING_NAMES, extract_choice
from gazal_desktop.core.quiz_session import QuizSession, Response, State, Step
from gazal_desktop.library.quiz import QuizStore
from gazal_desktop.ui.threads import TaskRunner


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def bold_label(label: QLabel, scale: float = 1.0) -> None:
    f = label.font()
    f.setBold(True)
    if scale != 1.0:
        f.setPointSizeF(f.pointSizeF() * scale)
    label.setFont(f)


class OptionButton(QPushButton):
    """An answer option: click to choose, Ctrl+click or right-click to strike it out."""

    strike_toggled = Signal(int)

    def __init__(self, index: int, text: str, parent: QWidget | None = None) -> None:
        super().__init__(f"{LETTERS[index]}.  {text}", parent)
        self.index = index
        self.setCheckable(True)
        self.set_struck(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    BASE_STYLE = "text-align: left; padding: 6px;"

    def set_struck(self, struck: bool) -> None:
        # in the style sheet, not the font: polishing a styled button resets its font
        self.setStyleSheet(self.BASE_STYLE + (" text-decoration: line-through; color: gray;" if struck else ""))
        self.setProperty("struck", struck)

    @property
    def struck(self) -> bool:
        return bool(self.property("struck"))

    def mark(self, correct: bool, chosen: bool) -> None:
        """After the answer shows: the right option in green, a wrong choice in red."""
        if correct:
            self.setStyleSheet(self.BASE_STYLE + " border: 2px solid #1b7f3b; color: #1b7f3b; font-weight: bold;")
        elif chosen:
            self.setStyleSheet(self.BASE_STYLE + " border: 2px solid #b3261e; color: #b3261e;")

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.RightButton or event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.strike_toggled.emit(self.index)
            return
        super().mousePressEvent(event)


class AnswerLine(QLineEdit):
    """The free-text answer box: its Enter answers, and is not passed on to the player (where
    Enter would also move to the next question)."""

    def keyPressEvent(self, event) -> None:  # noqa: N802
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


CONFIDENCE_KEYS = {"low": "G", "medium": "S", "high": "C"}  # Guessing, fairly Sure, Certain
CONFIDENCE_BY_KEY = {getattr(Qt.Key, f"Key_{k}"): level for level, k in CONFIDENCE_KEYS.items()}


class QuizPlayer(QWidget):
    finished = Signal(object)  # the QuizSession, after its answers are recorded
    suspended = Signal()  # the block was saved to resume later
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, store: QuizStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.store = runner, store
        self.session: QuizSession | None = None
        self._pending = 0  # answers sent to the database whose results have not come back
        self._undo_wanted = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.header = QLabel()
        top.addWidget(self.header, 1)
        self.timer_label = QLabel()
        bold_label(self.timer_label)
        top.addWidget(self.timer_label)
        self.flag_button = QToolButton()
        self.flag_button.setText("⚑ Flag (F)")
        self.flag_button.setCheckable(True)
        self.flag_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.flag_button.toggled.connect(self._on_flag_toggled)
        top.addWidget(self.flag_button)
        self.note_button = QToolButton()
        self.note_button.setText("Note… (N)")
        self.note_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.note_button.clicked.connect(self.edit_note)
        top.addWidget(self.note_button)
        lay.addLayout(top)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        self.body = QVBoxLayout(body)
        self.stem = QLabel()
        self.stem.setWordWrap(True)
        self.stem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.stem)
        self.question = QLabel()
        self.question.setWordWrap(True)
        bold_label(self.question)
        self.body.addWidget(self.question)
        self.options_box = QVBoxLayout()
        self.body.addLayout(self.options_box)
        self.option_buttons: list[OptionButton] = []
        # commit-first
        self.commit_box = QWidget()
        cl = QFormLayout(self.commit_box)
        self.commit_dx = QLineEdit()
        self.commit_dx.setPlaceholderText("Your most likely diagnosis")
        self.commit_next = QPlainTextEdit()
        self.commit_next.setPlaceholderText("Your next step in management")
        self.commit_next.setMaximumHeight(90)
        tab_moves_focus(self.commit_next)
        cl.addRow("Diagnosis", self.commit_dx)
        cl.addRow("Next step", self.commit_next)
        self.body.addWidget(self.commit_box)
        self.free_text = AnswerLine()
        self.free_text.setPlaceholderText("…or type your answer (a letter, \"the answer is C\", or the option) and press Enter")
        self.free_text.returnPressed.connect(self._on_free_text)
        self.body.addWidget(self.free_text)
        conf = QHBoxLayout()
        conf.addWidget(QLabel("Confidence:"))
        self.confidence = QButtonGroup(self)
        self.confidence_buttons = {}
        for key, label in CONFIDENCE.items():
            rb = QRadioButton(f"{label} ({CONFIDENCE_KEYS[key]})")
            rb.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            self.confidence.addButton(rb)
            self.confidence_buttons[key] = rb
            conf.addWidget(rb)
        conf.addStretch(1)
        self.confidence_row = QWidget()
        self.confidence_row.setLayout(conf)
        self.body.addWidget(self.confidence_row)
        self.explanation = QTextBrowser()
        self.explanation.setOpenLinks(False)
        self.explanation.setMinimumHeight(380)
        self.body.addWidget(self.explanation)
        self.rating_row = QWidget()
        rr = QHBoxLayout(self.rating_row)
        rr.addWidget(QLabel("How did you do?"))
        self.rating_buttons = []
        for value, name in RATING_NAMES.items():
            b = QPushButton(f"{value}  {name}")
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _c=False, v=value: self.grade_commit(v))
            rr.addWidget(b)
            self.rating_buttons.append(b)
        self.body.addWidget(self.rating_row)
        self.body.addStretch(1)
        scroll.setWidget(body)
        lay.addWidget(scroll, 1)

        nav = QHBoxLayout()
        self.prev_button = QPushButton("← Previous")
        self.prev_button.clicked.connect(lambda: self.go(-1))
        nav.addWidget(self.prev_button)
        self.status = QLabel()
        nav.addWidget(self.status, 1)
        self.suspend_button = QPushButton("Suspend")
        self.suspend_button.setToolTip("Leave the block as it is and finish it later (Study lists it)")
        self.suspend_button.clicked.connect(self.suspend)
        nav.addWidget(self.suspend_button)
        self.end_button = QPushButton("End block")
        self.end_button.clicked.connect(lambda: self.confirm_end())
        nav.addWidget(self.end_button)
        self.main_button = QPushButton("Submit (Enter)")
        self.main_button.clicked.connect(self.advance)
        nav.addWidget(self.main_button)
        for b in (self.prev_button, self.suspend_button, self.end_button, self.main_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addLayout(nav)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._on_tick)

    # -- rendering the session's state -----------------------------------------------------------
    @property
    def revealed(self) -> bool:
        s = self.session
        return s is not None and s.state in (State.REVEALED, State.GRADED)

    def start(self, session: QuizSession) -> None:
        self.session = session
        self._pending = 0
        self._undo_wanted = False
        session.clock_at = time.monotonic()
        self.prev_button.setVisible(session.mode == "timed")
        self.end_button.setVisible(True)
        if session.mode == "timed":
            self.clock.start()
        self._on_tick()
        self.render()

    def show_item(self, index: int) -> None:
        s = self.session
        if s.current.kind == "commit" and s.state is State.ANSWERING:
            self._store_commit_text()
        if s.go(index - s.index, time.monotonic()).moved or index == s.index:
            self.render()

    def render(self) -> None:
        """Draw the current question as its state says: answering, revealed or graded."""
        s = self.session
        index, item = s.index, s.current
        resp = s.responses.get(index)
        self._update_header()
        self.stem.setText(item.stem)
        self.question.setText(item.question if item.kind == "mcq" or item.question else
                              "What is the most likely diagnosis, and what is your next step?")
        for b in self.option_buttons:
            b.deleteLater()
        self.option_buttons = []
        if item.kind == "mcq":
            struck = s.struck.get(index, set())
            for i, o in enumerate(item.options):
                b = OptionButton(i, o.text, self)
                b.set_struck(i in struck)
                b.setChecked(resp is not None and resp.chosen == i)
                b.clicked.connect(lambda _c=False, i=i: self.choose(i))
                b.strike_toggled.connect(self.strike)
                self.options_box.addWidget(b)
                self.option_buttons.append(b)
        self.commit_box.setVisible(item.kind == "commit")
        self.free_text.setVisible(item.kind == "mcq" and s.state is State.ANSWERING)
        self.free_text.clear()
        self.confidence_row.setVisible(item.kind == "mcq")
        self.confidence_buttons[(resp.confidence if resp else "medium")].setChecked(True)
        if item.kind == "commit":
            dx, _, nxt = (resp.text if resp else "").partition("\nNext step: ")
            self.commit_dx.setText(dx.removeprefix("Diagnosis: "))
            self.commit_next.setPlainText(nxt)
        self.commit_dx.setReadOnly(s.state is not State.ANSWERING)
        self.commit_next.setReadOnly(s.state is not State.ANSWERING)
        self.flag_button.blockSignals(True)
        self.flag_button.setChecked(item.flagged)
        self.flag_button.blockSignals(False)
        self.note_button.setText("Note ✎ (N)" if item.note else "Note… (N)")
        self.explanation.clear()
        self.explanation.setVisible(False)
        self.rating_row.setVisible(False)
        if self.revealed:
            self._show_answer()
        self._update_buttons()
        self.setFocus()

    def _update_buttons(self) -> None:
        s = self.session
        item, state = s.current, s.state
        if item.kind == "commit" and state is State.ANSWERING:
            self.main_button.setText("Show the answer (Enter)")
        elif s.mode == "timed":
            self.main_button.setText("Finish (Enter)" if s.last else "Next (Enter)")
        elif state is State.ANSWERING:
            self.main_button.setText("Submit (Enter)")
        else:
            self.main_button.setText("See results (Enter)" if s.last else "Next question (Enter)")
        self.prev_button.setEnabled(s.index > 0)
        answered = len(s.items) - len(s.unanswered())
        self.status.setText(f"{answered} of {len(s.items)} answered")

    def _update_header(self) -> None:
        """"Question 3 of 20 · Cardiology" while answering: a case title can give the answer
        away ("…from a difficult blood draw"), so it is shown only once the answer is revealed."""
        s = self.session
        item = s.current
        kind = "Commit first" if item.kind == "commit" else "Question"
        head = f"{kind} {s.index + 1} of {len(s.items)} · {item.specialty or 'Unsorted'}"
        if item.source == "generated":
            head += " · model-written"  # approved by the learner, still the model's words
        self.header.setText(f"{head} · {item.title}" if self.revealed else head)

    def _show_answer(self) -> None:
        """The revealed state: options marked, the explanation, and (commit first, not yet
        graded) the grade buttons with the interval each would give."""
        s = self.session
        item, index = s.current, s.index
        chosen = s.responses.get(index, Response()).chosen
        for b in self.option_buttons:
            b.setEnabled(False)
            b.mark(b.index == item.answer, b.index == chosen)

        def show(steps):
            if self.session is not s or s.index != index:
                return
            self.explanation.setHtml(explanation_html(item, s.responses.get(index), steps))
            self.explanation.setVisible(True)
            grading = s.state is State.REVEALED
            if grading:  # each button says when that grade brings the case back, as Anki's do
                now = now_utc()
                due = preview(item.card, item.id or 0, now)
                for b, (value, name) in zip(self.rating_buttons, RATING_NAMES.items()):
                    b.setText(f"{value}  {name} · {interval_text(due[value], now)}")
            self.rating_row.setVisible(grading)

        if item.kind == "commit" and item.case_id is not None:
            self.runner.run(lambda: self.store.latest_discussion(item.case_id)[0], show,
                            lambda e, tb: self.failed.emit(str(e)), guard=self)
        else:
            show(None)

    # -- answering: each asks the session for a transition and carries out its Step --------------
    def choose(self, option: int) -> None:
        s = self.session
        if s is None or s.current.kind != "mcq" or not 0 <= option < len(s.current.options):
            return
        if s.choose(option, now_utc(), self._confidence()):
            for b in self.option_buttons:
                b.setChecked(b.index == option)
            self._update_buttons()

    def strike(self, option: int) -> None:
        if self.session is None or self.session.current.kind != "mcq" or not 0 <= option < len(self.option_buttons):
            return
        struck = self.session.toggle_strike(option)
        for b in self.option_buttons:
            b.set_struck(b.index in struck)

    def _confidence(self) -> str:
        for key, rb in self.confidence_buttons.items():
            if rb.isChecked():
                return key
        return "medium"

    def _on_free_text(self) -> None:
        item = self.session.current
        picked = extract_choice(self.free_text.text(), [o.text for o in item.options])
        if picked is None:
            self.status.setText("That answer is unclear: type a letter (A–E) or the option's words.")
            return
        self.choose(picked)
        self.free_text.clear()
        self.setFocus()
        self.advance()

    def advance(self) -> None:
        """Enter: whatever the session's state makes it (submit, show the answer, move on, end)."""
        s = self.session
        if s is None:
            return
        if s.current.kind == "commit" and s.state is State.ANSWERING:
            self._store_commit_text()
        self._carry_out(s.enter(now_utc(), time.monotonic(), self._confidence()))

    def grade_commit(self, rating: int) -> None:
        s = self.session
        if s is not None and s.state is State.REVEALED:
            self._carry_out(s.grade(rating, now_utc(), time.monotonic()))
            if s.state is State.GRADED:
                self.status.setText(f"Graded: {RATING_NAMES[rating]}")

    def go(self, step: int) -> None:
        s = self.session
        if s is not None:
            self.show_item(max(0, min(len(s.items) - 1, s.index + step)))

    def _carry_out(self, step: Step) -> None:
        s = self.session
        if step.state is State.FINISHED:
            self._finish(step)
            return
        if step.confirm_unanswered:
            self.confirm_end(step.confirm_unanswered)
            return
        if step.record:
            self._record(step.record)
        self.render()
        if step.message:
            self.status.setText(step.message)
        elif step.record and s.current.kind == "commit":
            self.status.setText("Saving your grade…")

    def _store_commit_text(self) -> None:
        self.session.write(f"Diagnosis: {self.commit_dx.text().strip()}\n"
                           f"Next step: {self.commit_next.toPlainText().strip()}", now_utc())

    # -- recording (snapshots to the database thread) --------------------------------------------
    def _record(self, records: list) -> None:
        s = self.session
        self._pending += 1

        def done(results):
            self._pending -= 1
            if self.session is not s:
                return
            for r in results:
                s.recorded(r)
                if r.index == s.index:
                    self.status.setText(f"Next review {interval_text(dt.datetime.fromisoformat(r.due), now_utc())}")
            if self._undo_wanted and not self._pending:
                self.undo_answer()

        def failed(e, tb):
            self._pending -= 1
            self.failed.emit(str(e))

        self.runner.run(lambda: [self.store.record(r) for r in records], done, failed, guard=self)

    def undo_answer(self) -> None:
        """Ctrl+Z in tutor mode: take back the last recorded answer and answer it again."""
        s = self.session
        if s is None:
            return
        if self._pending:  # the answer being saved joins the undo log first
            self._undo_wanted = True
            return
        self._undo_wanted = False
        rec = s.take_back()
        if rec is None:
            self.status.setText("Nothing to undo.")
            return
        s.clock_at = time.monotonic()
        self.render()
        self.status.setText("Answer taken back: answer again.")
        self.runner.run(lambda: self.store.undo(rec), None, lambda e, tb: self.failed.emit(str(e)), guard=self)

    # -- ending and suspending -------------------------------------------------------------------
    def confirm_end(self, left: list[int] | None = None) -> None:
        """End the block, but ask first when questions are still unanswered (one Enter too many
        used to end it): end now, suspend to finish later, or go back to the first unanswered."""
        from PySide6.QtWidgets import QMessageBox

        s = self.session
        if s is None or s.finished_at is not None:
            return
        left = s.unanswered() if left is None else left
        if not left:
            self.end_block()
            return
        numbers = ", ".join(str(i + 1) for i in left[:10]) + ("…" if len(left) > 10 else "")
        answer = QMessageBox.question(
            self, "End the block?", f"{len(left)} question{'s are' if len(left) > 1 else ' is'} not answered "
            f"({numbers}). End the block and see the results? (Suspend keeps it to finish later.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.end_block()
        else:
            self.show_item(left[0])

    def end_block(self) -> None:
        s = self.session
        if s is None or s.finished_at is not None:
            return
        if s.current.kind == "commit" and s.state is State.ANSWERING:
            self._store_commit_text()
        self._finish(s.end(now_utc(), time.monotonic()))

    def _finish(self, step: Step) -> None:
        s = self.session
        self.clock.stop()
        records, sid, at, n_correct = step.record, s.id, s.finished_at, s.score()[0]

        def work():  # timed answers count only at the end; tutor ones were recorded as they came
            results = [self.store.record(r) for r in records]
            self.store.finish_session(sid, at, n_correct)
            return results

        def done(results):
            for r in results:
                s.recorded(r)
            self.finished.emit(s)

        self.runner.run(work, done, lambda e, tb: self.failed.emit(str(e)), guard=self)

    def suspend(self) -> None:
        """Keep the block as it is (answers, struck options, the clock) and leave it; Study's home
        lists it to resume, also after a relaunch."""
        s = self.session
        if s is None or s.finished_at is not None:
            return
        if s.id is None:  # not stored: nothing to resume from
            self.end_block()
            return
        if s.current.kind == "commit" and s.state is State.ANSWERING:
            self._store_commit_text()
        s.bank(time.monotonic())
        self.clock.stop()
        state, sid = s.to_state(now_utc()), s.id
        self.session = None
        self.runner.run(lambda: self.store.suspend(sid, state), lambda _r: self.suspended.emit(),
                        lambda e, tb: self.failed.emit(str(e)), guard=self)

    def _on_tick(self) -> None:
        s = self.session
        if s is None or s.mode != "timed":
            self.timer_label.setText("")
            return
        left = s.remaining_s(now_utc())
        self.timer_label.setText(f"Time left {int(left) // 60}:{int(left) % 60:02d}")  # no glyph: Linux fonts lack ⏱
        if left <= 0:
            self.end_block()

    # -- marks -----------------------------------------------------------------------------------
    def _on_flag_toggled(self, on: bool) -> None:
        item = self.session.current
        item.flagged = on
        self.runner.run(lambda: self.store.set_flag(item.id, on))

    def edit_note(self) -> None:
        item = self.session.current
        text, ok = QInputDialog.getMultiLineText(self, "Note", "Your note on this question:", item.note)
        if ok:
            item.note = text
            self.note_button.setText("Note ✎ (N)" if text else "Note… (N)")
            self.runner.run(lambda: self.store.set_note(item.id, text))

    # -- keyboard --------------------------------------------------------------------------------
    def keyPressEvent(self, event) -> None:  # noqa: N802
        s = self.session
        if s is None:
            return super().keyPressEvent(event)
        key, mods = event.key(), event.modifiers()
        digit = key - Qt.Key.Key_1 if Qt.Key.Key_1 <= key <= Qt.Key.Key_9 else None
        if digit is not None and s.current.kind == "commit" and self.revealed:
            if digit < 4:
                self.grade_commit(digit + 1)
        elif digit is not None and mods & Qt.KeyboardModifier.ControlModifier:
            self.strike(digit)
        elif digit is not None:
            self.choose(digit)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.advance()
        elif key == Qt.Key.Key_F:
            self.flag_button.toggle()
        elif key == Qt.Key.Key_N:
            self.edit_note()
        elif key == Qt.Key.Key_Z and mods & Qt.KeyboardModifier.ControlModifier:
            self.undo_answer()
        elif (level := CONFIDENCE_BY_KEY.get(key)) is not None and s.current.kind == "mcq" and \
                s.state is State.ANSWERING:
            self.confidence_buttons[level].setChecked(True)
        elif key == Qt.Key.Key_Right and s.mode == "timed":
            self.go(1)
        elif key == Qt.Key.Key_Left and s.mode == "timed":
            self.go(-1)
        else:
            return super().keyPressEvent(event)
        event.accept()

