"""The question player: one question at a time, tutor or timed, single-best-answer or commit-first.

Keyboard: 1-5 choose, Ctrl+1-5 strike out, Enter submits or moves on, F flags, Left/Right
move between questions in timed mode, and 1-4 grade a commit-first answer. The session's
state lives in core.quiz.QuizSession; database calls go through the database TaskRunner.
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
from gazal_desktop.ui.quiz_explanation import explanation_html
from gazal_desktop.core.quiz import (CONFIDENCE, LETTERS, RATING_NAMES, QuizSession, Response,
                                     extract_choice)
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
    failed = Signal(str)

    def __init__(self, runner: TaskRunner, store: QuizStore, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self.store = runner, store
        self.session: QuizSession | None = None
        self.revealed = False
        self._shown_at = time.monotonic()
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
        self.end_button = QPushButton("End block")
        self.end_button.clicked.connect(self.end_block)
        nav.addWidget(self.end_button)
        self.main_button = QPushButton("Submit (Enter)")
        self.main_button.clicked.connect(self.advance)
        nav.addWidget(self.main_button)
        for b in (self.prev_button, self.end_button, self.main_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addLayout(nav)
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._on_tick)

    # -- session -------------------------------------------------------------------------------
    def start(self, session: QuizSession) -> None:
        self.session = session
        self._shown_at = time.monotonic()
        self.prev_button.setVisible(session.mode == "timed")
        self.end_button.setVisible(True)
        if session.mode == "timed":
            self.clock.start()
        self._on_tick()
        self.show_item(0)

    def show_item(self, index: int) -> None:
        s = self.session
        self._bank_time()
        s.index = index
        item = s.current
        resp = s.responses.get(index)
        self.revealed = bool(resp and resp.submitted)
        self._shown_at = time.monotonic()
        self._update_header()
        self.stem.setText(item.stem)
        self.question.setText(item.question if item.kind == "mcq" else
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
        self.free_text.setVisible(item.kind == "mcq")
        self.free_text.clear()
        self.confidence_row.setVisible(item.kind == "mcq")
        self.confidence_buttons[(resp.confidence if resp else "medium")].setChecked(True)
        if item.kind == "commit":
            dx, _, nxt = (resp.text if resp else "").partition("\nNext step: ")
            self.commit_dx.setText(dx.removeprefix("Diagnosis: "))
            self.commit_next.setPlainText(nxt)
        self.flag_button.blockSignals(True)
        self.flag_button.setChecked(item.flagged)
        self.flag_button.blockSignals(False)
        self.note_button.setText("Note ✎ (N)" if item.note else "Note… (N)")
        self.explanation.clear()
        self.explanation.setVisible(False)
        self.rating_row.setVisible(False)
        if self.revealed and s.mode == "tutor":
            self._reveal(record=False)
        self._update_buttons()
        self.setFocus()

    def _bank_time(self) -> None:
        """Add the time spent on the current question since it was shown (or last banked) to its
        answer, until the answer is locked: the review log keeps how long each one took."""
        s = self.session
        if s is None or s.finished_at is not None:
            return
        r = s.response()
        if not r.submitted:
            r.seconds += time.monotonic() - self._shown_at
        self._shown_at = time.monotonic()

    def _update_buttons(self) -> None:
        s = self.session
        item = s.current
        last = s.index == len(s.items) - 1
        if s.mode == "timed":
            self.main_button.setText("Finish (Enter)" if last else "Next (Enter)")
            self.prev_button.setEnabled(s.index > 0)
        elif item.kind == "commit" and not self.revealed:
            self.main_button.setText("Show the answer (Enter)")
        elif not self.revealed:
            self.main_button.setText("Submit (Enter)")
        else:
            self.main_button.setText("See results (Enter)" if last else "Next question (Enter)")
        answered = len(s.items) - len(s.unanswered())
        self.status.setText(f"{answered} of {len(s.items)} answered")

    # -- answering -------------------------------------------------------------------------------
    def choose(self, option: int) -> None:
        s = self.session
        if s is None or s.current.kind != "mcq" or self.revealed or not 0 <= option < len(s.current.options):
            return
        s.choose(option, now_utc())
        s.response().confidence = self._confidence()
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
        """Enter: submit (tutor), show the answer (commit first), or move on."""
        s = self.session
        if s is None:
            return
        item = s.current
        if s.mode == "timed":
            if item.kind == "commit" and not self.revealed:
                self._store_commit_text()
                self._reveal(record=False)
                return
            if s.index == len(s.items) - 1:
                self.confirm_end()
            else:
                self.go(1)
            return
        if not self.revealed:
            if item.kind == "mcq":
                r = s.responses.get(s.index)
                if r is None or r.chosen is None:
                    self.status.setText("Choose an answer first (1–5), or End block.")
                    return
                r.confidence = self._confidence()
                self._bank_time()
                s.submit(now_utc())
                self._reveal(record=True)
            else:
                self._store_commit_text()
                self._reveal(record=False)
            return
        if item.kind == "commit" and s.responses.get(s.index, Response()).self_rating is None:
            self.status.setText("Grade yourself first (1 Again … 4 Easy).")
            return
        if s.index == len(s.items) - 1:
            self.end_block()
        else:
            self.go(1)

    def _store_commit_text(self) -> None:
        r = self.session.response()
        r.text = f"Diagnosis: {self.commit_dx.text().strip()}\nNext step: {self.commit_next.toPlainText().strip()}"
        r.answered_at = r.answered_at or now_utc()

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

    def _reveal(self, record: bool) -> None:
        s = self.session
        item, index = s.current, s.index
        self.revealed = True
        self._update_header()
        chosen = s.responses.get(index, Response()).chosen
        for b in self.option_buttons:
            b.setEnabled(False)
            b.mark(b.index == item.answer, b.index == chosen)
        self.free_text.setVisible(False)
        self.commit_dx.setReadOnly(item.kind == "commit")
        self.commit_next.setReadOnly(item.kind == "commit")

        def show(steps):
            if self.session is not s or s.index != index:
                return
            self.explanation.setHtml(explanation_html(item, s.responses.get(index), steps))
            self.explanation.setVisible(True)
            grading = item.kind == "commit" and s.responses.get(index, Response()).self_rating is None \
                and s.finished_at is None
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
        if record:
            self._record(index)
        self._update_buttons()

    def grade_commit(self, rating: int) -> None:
        s = self.session
        if s is None or s.current.kind != "commit" or not self.revealed or s.finished_at is not None:
            return
        r = s.response()
        r.self_rating = rating
        r.answered_at = r.answered_at or now_utc()
        self.rating_row.setVisible(False)
        if s.mode == "tutor":
            self._bank_time()
            s.submit(now_utc())
            self._record(s.index)
        self.status.setText(f"Graded: {RATING_NAMES[rating]}")
        self._update_buttons()

    def undo_answer(self) -> None:
        """Ctrl+Z in tutor mode: take back the last recorded answer and answer it again."""
        s = self.session
        if s is None or s.mode != "tutor" or not s.undo_log or s.finished_at is not None:
            self.status.setText("Nothing to undo.")
            return
        self.runner.wait()  # the answer being recorded is in the log before it is undone

        def done(index):
            if index is None or self.session is not s:
                return
            self.show_item(index)
            self.status.setText("Answer taken back: answer again.")

        self.runner.run(lambda: self.store.undo_last(s), done, lambda e, tb: self.failed.emit(str(e)), guard=self)

    def _record(self, index: int) -> None:
        s = self.session

        def done(item):
            if item is not None and self.session is s:
                due = dt.datetime.fromisoformat(item.due)
                if s.index == index:
                    self.status.setText(f"Next review {interval_text(due, now_utc())}")

        self.runner.run(lambda: self.store.record(s, index), done, lambda e, tb: self.failed.emit(str(e)), guard=self)

    def go(self, step: int) -> None:
        s = self.session
        if s is None:
            return
        target = s.index + step
        if 0 <= target < len(s.items):
            if s.current.kind == "commit" and not self.revealed:
                self._store_commit_text()
            self.show_item(target)

    def confirm_end(self) -> None:
        """Enter on the last question of a timed block: end it, but ask first when questions
        are still unanswered (one Enter too many used to end the block)."""
        left = self.session.unanswered()  # what the results will count as not answered
        if left:
            from PySide6.QtWidgets import QMessageBox

            numbers = ", ".join(str(i + 1) for i in left[:10]) + ("…" if len(left) > 10 else "")
            answer = QMessageBox.question(
                self, "End the block?", f"{len(left)} question{'s are' if len(left) > 1 else ' is'} not answered "
                f"({numbers}). End the block and see the results?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.go(left[0] - self.session.index)
                return
        self.end_block()

    def end_block(self) -> None:
        s = self.session
        if s is None or s.finished_at is not None:
            return
        if s.current.kind == "commit" and not self.revealed and (self.commit_dx.text() or self.commit_next.toPlainText()):
            self._store_commit_text()
        self._bank_time()
        self.clock.stop()
        s.finish(now_utc())
        timed = s.mode == "timed"

        def record_all():
            if timed:  # timed answers count only at the end; tutor ones were recorded as they came
                for i in range(len(s.items)):
                    self.store.record(s, i)
            self.store.finish_session(s)
            return s

        self.runner.run(record_all, self.finished.emit, lambda e, tb: self.failed.emit(str(e)), guard=self)

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
        elif (level := CONFIDENCE_BY_KEY.get(key)) is not None and s.current.kind == "mcq" and not self.revealed:
            self.confidence_buttons[level].setChecked(True)
        elif key == Qt.Key.Key_Right and s.mode == "timed":
            self.go(1)
        elif key == Qt.Key.Key_Left and s.mode == "timed":
            self.go(-1)
        else:
            return super().keyPressEvent(event)
        event.accept()


# -- end of block ---------------------------------------------------------------------------------
