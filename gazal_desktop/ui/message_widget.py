"""One message of a discussion: its versions, collapsible reasoning, status and statistics."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from gazal_desktop.core.chat import STATUS_WORDS, ChatMessage
from gazal_desktop.core.reasoning import split_steps
from gazal_desktop.safety import DISCLAIMER
from gazal_desktop.ui.markdown import MarkdownView

# One style sheet for every message, set on the list that holds them (a sheet per widget
# costs a restyle each).
MESSAGE_STYLE = (
    "QToolButton#reasoningToggle { border: none; color: gray; }"
    "QLabel#messageUnsaved { color: #c62828; font-weight: bold; }"
    "QLabel#messageDisclaimer { color: gray; font-size: small; }"
    "MessageWidget:focus { border: 2px solid palette(highlight); border-radius: 4px; }"
)

class ReasoningPanel(QFrame):
    """Collapsible reasoning: open and live while the model thinks, closed once it answers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.toggle = QToolButton(self)
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow)
        self.toggle.setObjectName("reasoningToggle")
        self.toggle.toggled.connect(self._on_toggled)
        self.body = QPlainTextEdit(self)
        self.body.setReadOnly(True)
        self.body.setMaximumHeight(220)
        layout.addWidget(self.toggle)
        layout.addWidget(self.body)
        self.text = ""
        self.set_header("Thinking…")
        self.toggle.setChecked(True)

    def set_header(self, text: str) -> None:
        self.toggle.setText(text)

    def append(self, text: str) -> None:
        self.text += text
        self.body.moveCursor(self.body.textCursor().MoveOperation.End)
        self.body.insertPlainText(text)
        self.body.ensureCursorVisible()

    def set_text(self, text: str) -> None:
        self.text = text
        self.body.setPlainText(text)

    def finish(self, seconds: float | None) -> None:
        steps = split_steps(self.text)
        timing = f"Reasoned for {seconds:.0f} s" if seconds is not None else "Reasoning"
        self.set_header(f"{timing} · {len(steps)} step{'s' if len(steps) != 1 else ''}")
        if steps:
            self.body.setPlainText("\n\n".join(f"Step {s.number}: {s.text}" for s in steps))

    @property
    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def _on_toggled(self, on: bool) -> None:
        self.body.setVisible(on)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)


class MessageWidget(QFrame):
    regenerate_requested = Signal()
    edit_requested = Signal()
    continue_requested = Signal()

    def __init__(self, message: ChatMessage, first_answer: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.versions: list[ChatMessage] = [message]
        self.index = 0
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        self.who = QLabel("<b>You</b>" if message.role == "user" else "<b>Gazal</b>")
        self.status = QLabel("")
        self.status.setObjectName("messageStatus")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.unsaved = QLabel("")
        self.unsaved.setObjectName("messageUnsaved")
        self.unsaved.setTextFormat(Qt.TextFormat.PlainText)
        self.unsaved.setVisible(False)
        head.addWidget(self.who)
        head.addWidget(self.status)
        head.addWidget(self.unsaved)
        head.addStretch(1)
        self.prev_button, self.version_label, self.next_button = QToolButton(), QLabel(""), QToolButton()
        self.prev_button.setText("‹")
        self.next_button.setText("›")
        self.prev_button.clicked.connect(lambda: self.show_version(self.index - 1))
        self.next_button.clicked.connect(lambda: self.show_version(self.index + 1))
        for w in (self.prev_button, self.version_label, self.next_button):
            head.addWidget(w)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.clicked.connect(self.copy)
        head.addWidget(self.copy_button)
        self.action_button = QToolButton()
        if message.role == "assistant":
            self.action_button.setText("Regenerate")
            self.action_button.clicked.connect(self.regenerate_requested)
        else:
            self.action_button.setText("Edit")
            self.action_button.clicked.connect(self.edit_requested)
        head.addWidget(self.action_button)
        self.continue_button = QToolButton()
        self.continue_button.setText("Continue")
        self.continue_button.setToolTip("Go on from where this reply stopped")
        self.continue_button.clicked.connect(self.continue_requested)
        self.continue_button.setVisible(False)
        head.addWidget(self.continue_button)
        # Every action is reachable from the keyboard: Tab reaches the message and its buttons;
        # on a focused message, C copies, R regenerates, E edits, Left/Right page the versions.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        for b in (self.prev_button, self.next_button, self.copy_button, self.action_button, self.continue_button):
            b.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.copy_button.setToolTip("Copy the answer (C on a focused message)")
        self.action_button.setToolTip("Regenerate this reply (R)" if message.role == "assistant"
                                      else "Edit and resend this question (E)")
        self.prev_button.setToolTip("Earlier version (Left)")
        self.next_button.setToolTip("Later version (Right)")
        layout.addLayout(head)
        self.reasoning = ReasoningPanel(self)
        self.reasoning.setVisible(False)
        layout.addWidget(self.reasoning)
        self.answer = MarkdownView(self)
        self.answer.setFrameShape(QFrame.Shape.NoFrame)
        self.answer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.answer.setMinimumHeight(40)
        self.answer.on_grow = self._fit  # a long message grows chunk by chunk
        layout.addWidget(self.answer)
        self.disclaimer = QLabel(f"<i>{DISCLAIMER}</i>")
        self.disclaimer.setWordWrap(True)
        self.disclaimer.setObjectName("messageDisclaimer")
        self.disclaimer.setVisible(first_answer and message.role == "assistant")
        layout.addWidget(self.disclaimer)
        self._refresh_versions()
        self.show_message(message)

    # -- showing ----------------------------------------------------------------------------
    @property
    def message(self) -> ChatMessage:
        return self.versions[self.index]

    def show_message(self, m: ChatMessage) -> None:
        if m.role == "user":
            self.answer.setPlainText(m.content)
            self._fit()
            return
        if m.reasoning:
            self.reasoning.setVisible(True)
            self.reasoning.set_text(m.reasoning)
            if m.status != "streaming":
                self.reasoning.finish(m.reasoning_seconds)
                self.reasoning.toggle.setChecked(False)
        else:
            self.reasoning.setVisible(m.status == "streaming")
        self.answer.set_markdown(m.content)
        self.status.setProperty("status", m.status)  # coloured by resources/style.qss
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        words = STATUS_WORDS.get(m.status, m.status)
        if m.notice:  # e.g. reasoning cut at its budget: said on the message, kept on reopening
            words = f"{words} · {m.notice}" if words else m.notice
        self.status.setText(words)
        if m.error:
            self.status.setText(f"{'interrupted' if m.status == 'interrupted' else 'error'}: {m.error}")
        self.setToolTip(self.stats_text(m))
        self._fit()

    def mark_unsaved(self, reason: str) -> None:
        """A save of this message failed: say so, with why, until a later save succeeds."""
        self.unsaved.setText("not saved")
        self.unsaved.setToolTip(reason)
        self.unsaved.setVisible(True)

    @staticmethod
    def stats_text(m: ChatMessage) -> str:
        u = m.usage
        if u is None:
            return ""
        parts = [f"{u.prompt_tokens} prompt tokens ({u.cached_tokens} cached)", f"{u.completion_tokens} generated"]
        if u.ttft_s is not None:
            parts.append(f"first token after {u.ttft_s:.2f} s")
        if u.prompt_tps:
            parts.append(f"prompt {u.prompt_tps:.0f} tok/s")
        if u.gen_tps:
            parts.append(f"generation {u.gen_tps:.1f} tok/s")
        return " · ".join(parts)

    def _fit(self, cap: int | None = None) -> None:
        """Make the answer as tall as its text, so the discussion scrolls as one page. With
        `cap` (while streaming), no taller than that: past it the answer scrolls inside its
        own view, and the widget is not resized each frame (resizing a tall text view lays
        out all of it again: 45 ms a frame at 40 KB)."""
        doc = self.answer.document()
        width = max(200, self.answer.viewport().width())
        if doc.textWidth() != width:
            doc.setTextWidth(width)
        if cap is not None and self.answer.height() >= cap:
            return
        height = int(doc.size().height()) + 8
        if cap is not None:
            height = min(height, cap)
        if height != self.answer.height():
            self.answer.setFixedHeight(height)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():  # the height follows the text: no loop
            self._fit()

    # -- versions -----------------------------------------------------------------------------
    def add_version(self, m: ChatMessage) -> None:
        self.versions.append(m)
        self.index = len(self.versions) - 1
        self._refresh_versions()
        self.show_message(m)

    def show_version(self, i: int) -> None:
        if 0 <= i < len(self.versions):
            self.index = i
            self._refresh_versions()
            self.show_message(self.versions[i])

    def set_versions(self, versions: list[ChatMessage]) -> None:
        """Every version of this message, oldest first; the newest is shown."""
        self.versions = list(versions)
        self.index = len(self.versions) - 1
        self._refresh_versions()
        self.show_message(self.versions[-1])

    def _refresh_versions(self) -> None:
        many = len(self.versions) > 1
        for w in (self.prev_button, self.version_label, self.next_button):
            w.setVisible(many)
        self.version_label.setText(f"{self.index + 1}/{len(self.versions)}")
        self.prev_button.setEnabled(self.index > 0)
        self.next_button.setEnabled(self.index < len(self.versions) - 1)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt)
        key, plain = event.key(), event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        role = self.message.role
        if plain and key == Qt.Key.Key_C:
            self.copy()
        elif plain and key == Qt.Key.Key_R and role == "assistant" and self.action_button.isEnabled():
            self.regenerate_requested.emit()
        elif plain and key == Qt.Key.Key_E and role == "user" and self.action_button.isEnabled():
            self.edit_requested.emit()
        elif plain and key == Qt.Key.Key_Left:
            self.show_version(self.index - 1)
        elif plain and key == Qt.Key.Key_Right:
            self.show_version(self.index + 1)
        else:
            super().keyPressEvent(event)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.message.content)
