"""The conversation: messages with collapsible reasoning, a composer, Stop, versions.

The stream arrives on a worker thread (threads.start_stream); text is buffered and drawn
by a ~30 fps timer, so long answers never re-layout once per token.
"""

from __future__ import annotations


from PySide6.QtCore import QElapsedTimer, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QScrollArea,
    QVBoxLayout, QWidget,
)

from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.chat import ChatMessage, ChatSession
from gazal_desktop.core.reasoning import split_steps
from gazal_desktop.core.events import (
    AnswerDelta, ContextNotice, Finished, PromptStarted, ReasoningClosed, ReasoningDelta,
)
from gazal_desktop.ui.discussions import DiscussionBar
from gazal_desktop.ui.gate import Banner, screen_message
from gazal_desktop.ui.message_widget import MESSAGE_STYLE, MessageWidget, ReasoningPanel
from gazal_desktop.ui.keys import tab_moves_focus
from gazal_desktop.ui.markdown import shown_vignette
from gazal_desktop.ui.threads import TaskRunner, start_stream

FRAME_MS = 33
PAGE = 16  # messages shown when a discussion is opened; "Show earlier messages" adds more


class ChatView(QWidget):
    """One case's conversation with a backend."""

    open_model_requested = Signal()
    download_requested = Signal()
    convert_requested = Signal()
    study_requested = Signal()
    generation_started = Signal()
    generation_finished = Signal(str)  # finish reason
    message_saved = Signal(object)

    def __init__(self, parent: QWidget | None = None, runner: TaskRunner | None = None) -> None:
        """`runner`: the window's model thread, for counting tokens (a view on its own, as in
        the tests, makes one)."""
        super().__init__(parent)
        self.session: ChatSession | None = None
        self.cancel: CancelToken | None = None
        self._thread = None
        self._current: MessageWidget | None = None
        self._answer_dirty = False
        self._stream_clock = QElapsedTimer()
        self.frames = 0
        layout = QVBoxLayout(self)
        self.banner = Banner(self)
        layout.addWidget(self.banner)
        self.discussions = DiscussionBar(self)
        layout.addWidget(self.discussions)
        self.vignette = QLabel("")
        self.vignette.setTextFormat(Qt.TextFormat.PlainText)  # text from a file is never rich text
        self.vignette.setWordWrap(True)
        self.vignette.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.vignette.setStyleSheet("padding: 6px; background: rgba(127,127,127,0.12); border-radius: 4px;")
        layout.addWidget(self.vignette)
        self.empty_state = QLabel("")
        self.empty_state.setWordWrap(True)
        self.empty_state.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.empty_state)
        self.setup_buttons = QWidget(self)
        row = QHBoxLayout(self.setup_buttons)
        row.addStretch(1)
        for text, signal in (("Open a GGUF file…", self.open_model_requested),
                             ("Download a GGUF…", self.download_requested),
                             ("Convert a checkpoint…", self.convert_requested),
                             ("Study without a model", self.study_requested)):
            b = QPushButton(text, self.setup_buttons)
            b.clicked.connect(signal)
            row.addWidget(b)
        row.addStretch(1)
        layout.addWidget(self.setup_buttons)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.list_widget = QWidget()
        # One style sheet for every message (a sheet per widget costs a restyle each).
        self.list_widget.setStyleSheet(MESSAGE_STYLE)
        self.list_layout = QVBoxLayout(self.list_widget)
        self.earlier_button = QPushButton("", self.list_widget)
        self.earlier_button.setFlat(True)
        self.earlier_button.clicked.connect(self.show_earlier)
        self.earlier_button.setVisible(False)
        self.list_layout.addWidget(self.earlier_button)
        self.list_layout.addStretch(1)
        self._hidden: list[ChatMessage] = []  # older messages of an opened discussion, not yet shown
        self._unsaved: dict[str, str] = {}  # uid -> why its save failed
        self._thinking_since: QElapsedTimer | None = None
        self._user_pending = False
        self._steps_seen = (0, 0)  # (reasoning length, steps in it): recounted only when it grew
        self.scroll.setWidget(self.list_widget)
        layout.addWidget(self.scroll, 1)
        # Follow the output while the learner is at the bottom; stop when they scroll up to read,
        # and offer a way back.
        self.following = True
        self.jump_button = QPushButton("Jump to latest ↓", self)
        self.jump_button.setVisible(False)
        self.jump_button.clicked.connect(self.jump_to_latest)
        layout.addWidget(self.jump_button, 0, Qt.AlignmentFlag.AlignRight)
        bar = self.scroll.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(lambda _lo, _hi: self._scroll_to_end() if self.following else None)
        meter = QHBoxLayout()
        self.state = QLabel("")
        self.context = QProgressBar(self)
        self.context.setTextVisible(False)  # the words sit beside the bar, never on top of it
        self.context.setFixedHeight(8)
        self.context.setMinimumWidth(120)
        self.context.setMaximumWidth(240)
        self.context_label = QLabel("", self)
        self.context_label.setObjectName("contextMeter")
        meter.addWidget(self.state, 1)
        meter.addWidget(self.context_label)
        meter.addWidget(self.context)
        layout.addLayout(meter)
        self.edit_bar = QWidget(self)
        edit_row = QHBoxLayout(self.edit_bar)
        edit_row.setContentsMargins(0, 0, 0, 0)
        self.edit_label = QLabel("Editing your message: Send replaces it and everything after it "
                                 "(the earlier version is kept in the discussion's history).")
        self.edit_label.setWordWrap(True)
        cancel_edit = QPushButton("Cancel edit", self.edit_bar)
        cancel_edit.clicked.connect(self.cancel_edit)
        edit_row.addWidget(self.edit_label, 1)
        edit_row.addWidget(cancel_edit)
        self.edit_bar.setVisible(False)
        layout.addWidget(self.edit_bar)
        self._editing: str | None = None  # uid of the learner's message being edited
        composer = QHBoxLayout()
        self.composer = QPlainTextEdit(self)
        self.composer.setPlaceholderText("Discuss this case… (Ctrl+Enter to send, Esc to stop)")
        self.composer.setMaximumHeight(90)
        tab_moves_focus(self.composer)
        self.send_button = QPushButton("Send", self)
        self.send_button.clicked.connect(self._on_send_clicked)
        composer.addWidget(self.composer, 1)
        composer.addWidget(self.send_button)
        layout.addLayout(composer)
        # Keys typed in the composer go to it first, so they are caught there; the shortcut
        # covers the rest of the view.
        self.composer.installEventFilter(self)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.stop)
        self._counter = runner or TaskRunner(1, self)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_frame)
        self.set_session(None, "")

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt override
        if obj is self.composer and event.type() == QEvent.Type.KeyPress:
            key, mods = event.key(), event.modifiers()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and mods & Qt.KeyboardModifier.ControlModifier:
                self._on_send_clicked()
                return True
            if key == Qt.Key.Key_Escape:
                self.stop()
                return True
        return super().eventFilter(obj, event)

    # -- setup --------------------------------------------------------------------------------
    def set_session(self, session: ChatSession | None, vignette: str, no_model_text: str = "") -> None:
        """Show a discussion. A session without a backend is shown read-only: reading a saved
        discussion needs no model, sending does."""
        self._abandon_generation()
        self.cancel_edit()
        self.session = session
        self.vignette.setText(shown_vignette(vignette))
        self.vignette.setVisible(bool(vignette))
        for w in self.message_widgets():
            self._drop_widget(w)
        can_send = session is not None and session.can_send
        self.empty_state.setText(no_model_text or (
            "No model is loaded: you can read this discussion; to continue it, open a GGUF file, download one "
            "or convert a checkpoint from the Model menu." if session is not None and session.messages else
            "No model is loaded. Open a GGUF file, download one or convert a checkpoint from the Model menu. "
            "The Study tab works without a model."))
        self.empty_state.setVisible(not can_send)
        self.setup_buttons.setVisible(not can_send)
        self.composer.setEnabled(can_send)
        self.send_button.setEnabled(can_send)
        self._hidden = []
        if session is not None:
            # A long discussion opens on its latest messages at once; older ones on request.
            self._hidden = list(session.messages[:-PAGE]) if len(session.messages) > PAGE else []
            self._insert(session.messages[len(self._hidden):], at_top=False)
            QTimer.singleShot(0, self, self._scroll_to_end)
        self._update_earlier()
        self._update_continue()
        if can_send:
            self.update_context()
        else:
            self._set_context_text("no model loaded")
            self.context.setValue(0)

    def _insert(self, messages: list[ChatMessage], at_top: bool) -> None:
        self.list_widget.setUpdatesEnabled(False)
        for k, m in enumerate(messages):
            w = self._add_widget(m, scroll=False, at=1 + k if at_top else None)
            if self.session.versions.get(m.uid):
                w.set_versions(self.session.versions_of(m))
        self.list_widget.setUpdatesEnabled(True)

    def show_earlier(self) -> None:
        """Add the previous page of an opened discussion above what is shown."""
        if not self._hidden:
            return
        page, self._hidden = self._hidden[-PAGE:], self._hidden[:-PAGE]
        self._insert(page, at_top=True)
        self._update_earlier()

    def _update_earlier(self) -> None:
        n = len(self._hidden)
        self.earlier_button.setText(f"Show {min(n, PAGE)} earlier messages ({n} not shown)")
        self.earlier_button.setVisible(n > 0)

    def _drop_widget(self, w: QWidget) -> None:
        """Take a message off the list and let Qt delete it. Its parent stays: a widget given
        to Python with setParent(None) and then deleted by Qt was freed twice once the last
        Python reference to it (a signal's lambda) went (a crash under load)."""
        self.list_layout.removeWidget(w)
        w.hide()
        w.deleteLater()

    def message_widgets(self) -> list[MessageWidget]:
        items = (self.list_layout.itemAt(i).widget() for i in range(self.list_layout.count()))
        return [w for w in items if isinstance(w, MessageWidget)]

    def _add_widget(self, m: ChatMessage, scroll: bool = True, at: int | None = None) -> MessageWidget:
        first = m.role == "assistant" and not self._hidden and not any(
            w.message.role == "assistant" for w in self.message_widgets())
        w = MessageWidget(m, first_answer=first)
        w.regenerate_requested.connect(lambda w=w: self.regenerate(w))
        w.edit_requested.connect(lambda w=w: self.edit(w))
        w.continue_requested.connect(lambda w=w: self.continue_reply(w))
        if m.uid in self._unsaved:
            w.mark_unsaved(self._unsaved[m.uid])
        self.list_layout.insertWidget(self.list_layout.count() - 1 if at is None else at, w)
        if scroll:
            QTimer.singleShot(0, self, self._scroll_to_end)
        return w

    def _scroll_to_end(self) -> None:
        self.scroll.verticalScrollBar().setValue(self.scroll.verticalScrollBar().maximum())

    def _on_scrolled(self, value: int) -> None:
        bar = self.scroll.verticalScrollBar()
        self.following = value >= bar.maximum() - 24
        self.jump_button.setVisible(not self.following and self.generating)

    def jump_to_latest(self) -> None:
        self.following = True
        self._scroll_to_end()
        self.jump_button.setVisible(False)

    def widget_for(self, uid: str) -> MessageWidget | None:
        """The widget showing the message with this uid (any of its versions)."""
        for w in self.message_widgets():
            if any(v.uid == uid for v in w.versions):
                return w
        return None

    def focus_message(self, uid: str) -> MessageWidget | None:
        """Bring a message into view (a search hit): earlier pages are shown as needed, and an
        earlier version of a reply is the one displayed."""
        while self.widget_for(uid) is None and self._hidden:
            self.show_earlier()
        w = self.widget_for(uid)
        if w is not None:
            w.show_version(next(i for i, v in enumerate(w.versions) if v.uid == uid))
            QTimer.singleShot(0, self, lambda: self.scroll.ensureWidgetVisible(w))
            w.setFocus()
        return w

    def mark_unsaved(self, uid: str, reason: str) -> None:
        """A save failed. The message may not be on screen yet (its save can fail before the
        stream's first event shows it): then it is marked when it appears."""
        self._unsaved[uid] = reason
        w = self.widget_for(uid)
        if w is not None:
            w.mark_unsaved(reason)
        self.state.setText(f"A message could not be saved: {reason}")

    def update_context(self, draft: str = "") -> None:
        """Recount the context off the GUI thread (tokenizing a long chat, or asking a server)."""
        session = self.session
        if session is None or not session.can_send:
            return
        self._counter.run(lambda: session.context_status(draft),
                          lambda st: self._show_context(st) if session is self.session else None,
                          lambda exc, tb: self._set_context_text("context size unknown"))

    def _set_context_text(self, text: str) -> None:
        self.context.setFormat(text)
        self.context_label.setText(text)

    def _show_context(self, st) -> None:
        self.context.setMaximum(st.limit)
        self.context.setValue(min(st.used, st.limit))
        self._set_context_text(st.describe())
        colors = {"ok": "", "warn": "QProgressBar::chunk { background: #e0a100; }",
                  "full": "QProgressBar::chunk { background: #c62828; }"}
        self.context.setStyleSheet(colors[st.level])
        self.context.setToolTip("The conversation is nearly full: older exchanges will be left out (never the case)."
                                if st.level != "ok" else "")

    # -- sending -----------------------------------------------------------------------------
    @property
    def generating(self) -> bool:
        return self._thread is not None

    def _on_send_clicked(self) -> None:
        if self.generating:
            self.stop()
            return
        text = self.composer.toPlainText().strip()
        if not text or self.session is None:
            return
        text = self.check_message(text)
        if text is None:
            return
        self.send_button.setEnabled(False)
        session = self.session
        self._counter.run(lambda: session.context_status(text),
                          lambda st: self._send_if_it_fits(session, text, st),
                          lambda exc, tb: self._send_if_it_fits(session, text, None))

    def _send_if_it_fits(self, session: ChatSession, text: str, st) -> None:
        """The context guard: before sending, say when the message and the reply budget will
        not fit, and offer to leave out the oldest exchanges (never the case vignette)."""
        self.send_button.setEnabled(session is self.session and session.can_send)
        if session is not self.session:
            return
        if st is not None and st.used + st.reserve > st.limit:
            box = QMessageBox(QMessageBox.Icon.Warning, "The context is full",
                              f"This message and a reply of up to {st.reserve:,} tokens need {st.used + st.reserve:,} "
                              f"tokens; the context holds {st.limit:,}.", parent=self)
            box.setInformativeText("Send it anyway, leaving out the oldest exchanges of this discussion? The case "
                                   "vignette is always kept. (Or raise the context length in Settings.)")
            send = box.addButton("Send, leaving out older exchanges", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is not send:
                return
        self.composer.clear()
        self.send(text)

    def check_message(self, text: str) -> str | None:
        """The emergency interstitial, then the identifiable-data check. None = do not send."""
        return screen_message(self, text)

    def send(self, text: str) -> None:
        """Send (the session saves the message), or, while editing, replace the edited message
        and everything after it."""
        session = self.session
        if self._editing is not None:
            uid = self._editing
            self.cancel_edit()
            index = next((k for k, m in enumerate(session.messages) if m.uid == uid), None)
            if index is not None:
                widgets = self.message_widgets()
                w = self.widget_for(uid)
                for old in widgets[widgets.index(w):] if w in widgets else []:
                    self._drop_widget(old)
                self._run(lambda cancel: session.edit_and_resend(index, text, cancel), added_user=True)
                return
        self._run(lambda cancel: session.send(text, cancel), added_user=True)

    def regenerate(self, widget: MessageWidget) -> None:
        if self.generating or self.session is None or not self.session.can_send:
            return
        widgets = self.message_widgets()
        if widget is not widgets[-1] or not self.session.messages or self.session.messages[-1].role != "assistant":
            return  # only the latest reply can be regenerated (earlier ones would change history)
        session = self.session
        self._run(lambda cancel: session.regenerate(cancel), into=widget)

    def continue_reply(self, widget: MessageWidget) -> None:
        """Go on with a stopped reply: the same message grows in place."""
        if self.generating or self.session is None or widget is not (self.message_widgets() or [None])[-1]:
            return
        ok, why = self.session.can_continue()
        if not ok:
            self.state.setText(why)
            return
        session = self.session
        widget.show_version(len(widget.versions) - 1)
        self._run(lambda cancel: session.continue_reply(cancel), continuing=widget)

    def _update_continue(self) -> None:
        """Offer Continue on the latest reply when it stopped early (hidden, with the reason,
        where the backend cannot continue)."""
        widgets = self.message_widgets()
        for w in widgets:
            w.continue_button.setVisible(False)
        if self.session is None or not widgets or self.generating:
            return
        ok, why = self.session.can_continue()
        last = widgets[-1]
        if last.message.role == "assistant" and last.message is self.session.messages[-1]:
            last.continue_button.setVisible(ok)
            if why and last.message.status in self.session.CONTINUABLE:
                last.status.setToolTip(why)

    def edit(self, widget: MessageWidget) -> None:
        """Put a message back in the composer; sending it replaces it and everything after it.
        Nothing changes until it is sent (Cancel edit leaves the discussion as it was)."""
        if self.generating or self.session is None or not self.session.can_send:
            return
        self._editing = widget.message.uid
        self.edit_bar.setVisible(True)
        self.composer.setPlainText(widget.message.content)
        self.composer.setFocus()

    def cancel_edit(self) -> None:
        if self._editing is not None:
            self._editing = None
            self.composer.clear()
        self.edit_bar.setVisible(False)

    def _run(self, make, into: MessageWidget | None = None, added_user: bool = False,
             continuing: MessageWidget | None = None) -> None:
        self.cancel = CancelToken()
        cancel = self.cancel
        self._into = into
        self._current = continuing  # a continued reply grows in its own widget
        self._thinking_since: QElapsedTimer | None = None
        if continuing is not None:
            continuing.continue_button.setVisible(False)
            self._answer_dirty = True
        self._user_pending = added_user  # the session adds the learner's message: show it then
        self.frames = 0
        self.send_button.setText("Stop")
        self.following = True  # a new reply: follow it until the learner scrolls away
        self.state.setText("Processing prompt…")
        self.generation_started.emit()
        self._thread = start_stream(self, lambda: make(cancel), self._on_event, self._on_failed, self._on_done)
        self._stream_clock.start()
        self.timer.start()

    def _abandon_generation(self) -> None:
        """Stop a running generation and forget it (another case or model was chosen)."""
        if self._thread is None:
            return
        self.cancel.cancel()
        self._thread.detach()
        self._thread.wait(10000)
        self._thread = None
        self._current = None
        self.timer.stop()
        self.send_button.setText("Send")
        self.state.setText("")

    def stop(self) -> None:
        if self.cancel is not None and self.generating:  # Esc with nothing running does nothing
            self.cancel.cancel()
            self.state.setText("Stopping…")

    # -- stream events (GUI thread) ------------------------------------------------------------
    def _reply(self) -> ChatMessage | None:
        if self.session and self.session.messages and self.session.messages[-1].role == "assistant":
            return self.session.messages[-1]
        return None

    def _ensure_widget(self) -> MessageWidget | None:
        if self._current is None:
            reply = self._reply()
            if reply is None:
                return None
            if self._into is not None:
                self._into.add_version(reply)
                self._current = self._into
            else:
                self._current = self._add_widget(reply)
            self._current.reasoning.setVisible(True)
            self._current.reasoning.toggle.setChecked(True)
        return self._current

    def _show_pending_user(self) -> None:
        if self._user_pending and self.session is not None:
            self._user_pending = False
            users = [m for m in self.session.messages if m.role == "user"]
            if users and self.widget_for(users[-1].uid) is None:
                self._add_widget(users[-1])

    def _on_event(self, ev) -> None:
        self._show_pending_user()
        if isinstance(ev, PromptStarted):
            self.state.setText(f"Processing prompt… ({ev.prompt_tokens - ev.cached_tokens} new tokens)")
        elif isinstance(ev, ReasoningDelta):
            if self._thinking_since is None:
                self._thinking_since = QElapsedTimer()
                self._thinking_since.start()
            w = self._ensure_widget()
            if ev.replaces_answer and w is not None:
                w.reasoning.set_text(self._reply().reasoning)
                w.answer.set_markdown("")
            self.state.setText("Thinking…")
        elif isinstance(ev, AnswerDelta):
            w = self._ensure_widget()
            if w is not None and w.reasoning.expanded and self._reply().reasoning:
                self._flush_reasoning(w)
                w.reasoning.finish(None)
                w.reasoning.toggle.setChecked(False)  # collapse when the answer begins
            self._answer_dirty = True
            self.state.setText("Answering…")
        elif isinstance(ev, (ContextNotice, ReasoningClosed)):
            self.state.setText(ev.message)
        elif isinstance(ev, Finished):
            self._finished_reason = ev.reason

    def _flush_reasoning(self, w: MessageWidget) -> None:
        """Show the reasoning the session holds that the panel does not yet."""
        reply = self._reply()
        if reply is not None and len(reply.reasoning) > len(w.reasoning.text) and reply.reasoning.startswith(w.reasoning.text):
            w.reasoning.append(reply.reasoning[len(w.reasoning.text):])

    def _on_frame(self) -> None:
        w = self._current
        if w is None:
            return
        self.frames += 1
        self._flush_reasoning(w)
        reply = self._reply()
        if self._thinking_since is not None and reply is not None and not reply.content:
            # Live while the model thinks: "Thinking… 12 s · 4 steps"
            if self._steps_seen[0] != len(reply.reasoning):
                self._steps_seen = (len(reply.reasoning), len(split_steps(reply.reasoning)))
            n = self._steps_seen[1]
            w.reasoning.set_header(f"Thinking… {self._thinking_since.elapsed() / 1000:.0f} s · "
                                   f"{n} step{'s' if n != 1 else ''}")
        if self._answer_dirty:
            self._answer_dirty = False
            reply = self._reply()
            if reply is not None:
                w.answer.stream_markdown(reply.content)
                w._fit(cap=max(400, self.scroll.viewport().height() - 40))

    def _on_failed(self, exc, tb) -> None:
        self.state.setText(f"Generation failed: {exc}")

    def _on_done(self) -> None:
        self._show_pending_user()
        self.timer.stop()
        self._on_frame()
        reply = self._reply()
        w = self._ensure_widget()
        if w is not None and reply is not None:
            w.versions[w.index] = reply
            w.show_message(reply)
        self._thread = None
        self.jump_button.setVisible(False)
        self.send_button.setText("Send")
        reason = getattr(self, "_finished_reason", "error")
        elapsed = self._stream_clock.elapsed() / 1000
        self.state.setText({"stop": "", "length": "Stopped at the length limit.", "cancelled": "Stopped.",
                            "interrupted": "The connection closed before the reply ended; what arrived is kept.",
                            "error": "The model could not finish."}.get(reason, "") +
                           (f"  ({elapsed:.1f} s)" if reason != "error" else ""))
        if reason in ("stop", "length") and reply is not None and not reply.content.strip():
            self.state.setText("The model stopped without writing an answer. Regenerate, or ask again in other words.")
        self.update_context()
        self._update_continue()
        self.generation_finished.emit(reason)
        if reply is not None:
            self.message_saved.emit(reply)

    def wait(self, ms: int = 10000) -> None:
        """Block until the current generation ends (tests, shutdown)."""
        if self._thread is not None:
            self._thread.wait(ms)


__all__ = ["ChatView", "MessageWidget", "ReasoningPanel"]
