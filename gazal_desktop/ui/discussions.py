"""A case's discussions: the list above the conversation, and opening one exactly as left.

`DiscussionBar` is the widget (a list of the case's discussions with date, first question
and message count; New, Rename, Delete with Undo, Export as Markdown). `Discussions` does
the work: it reads a discussion off the GUI thread, builds the ChatSession that owns its
messages (read-only when no model is loaded), and routes every save through the database
thread, so a failed save marks the message "not saved" with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QInputDialog, QLabel, QMenu, QToolButton, QWidget

from gazal_desktop.core.chat import ChatMessage, ChatSession
from gazal_desktop.core.atomic import write_text_atomic
from gazal_desktop.library.chats import ChatStore, Conversation, DiscussionSummary, Thread


class DiscussionBar(QWidget):
    chosen = Signal(int)  # conversation id
    new_requested = Signal()
    rename_requested = Signal(int)
    delete_requested = Signal(int)
    export_requested = Signal(int)
    patient_chosen = Signal(int)  # a patient-mode encounter of this case (opened in the Patient tab)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Discussion:"))
        self.combo = QComboBox(self)
        self.combo.setMinimumContentsLength(40)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.activated.connect(self._on_activated)
        row.addWidget(self.combo, 1)
        self.menu_button = QToolButton(self)
        self.menu_button.setText("⋯")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        self.new_action = menu.addAction("New discussion", self.new_requested.emit)
        self.rename_action = menu.addAction("Rename…", lambda: self._emit_current(self.rename_requested))
        self.export_action = menu.addAction("Export as Markdown…", lambda: self._emit_current(self.export_requested))
        self.delete_action = menu.addAction("Delete", lambda: self._emit_current(self.delete_requested))
        self.menu_button.setMenu(menu)
        row.addWidget(self.menu_button)
        self.summaries: list[DiscussionSummary] = []
        self.encounters: list[dict] = []
        self.set_discussions([], None)

    def current_id(self) -> int | None:
        data = self.combo.currentData()
        return data if isinstance(data, int) else None

    def set_encounters(self, rows: list[dict]) -> None:
        """The case's patient-mode encounters, listed after its discussions."""
        self.encounters = rows
        self.set_discussions(self.summaries, self.current_id())

    def set_discussions(self, summaries: list[DiscussionSummary], current: int | None) -> None:
        self.summaries, self._shown = summaries, current
        self.combo.blockSignals(True)
        self.combo.clear()
        if current is None:
            self.combo.addItem("New discussion (saved when you send)", None)
        for s in summaries:
            self.combo.addItem(s.describe(), s.conversation.id)
        for r in self.encounters:
            state = "finished" if r["finished_at"] else "in progress"
            self.combo.addItem(f"Patient mode · {r['created_at'][:16].replace('T', ' ')} UTC · {state} · "
                               f"{r['key_elicited']} of {r['key_total']} key items", f"patient:{r['id']}")
        index = self.combo.findData(current) if current is not None else 0
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)
        has = current is not None
        for action in (self.rename_action, self.export_action, self.delete_action):
            action.setEnabled(has)

    def _emit_current(self, signal) -> None:
        cid = self.current_id()
        if cid is not None:
            signal.emit(cid)

    def _on_activated(self, index: int) -> None:
        data = self.combo.itemData(index)
        if isinstance(data, str) and data.startswith("patient:"):
            self.set_discussions(self.summaries, self._shown)  # the conversation on screen stays
            self.patient_chosen.emit(int(data.removeprefix("patient:")))
            return
        if data is None:
            self.new_requested.emit()
        else:
            self.chosen.emit(int(data))


class Discussions(QObject):
    """Opens, lists, renames, deletes and exports one case's discussions for the chat view."""

    changed = Signal()  # the list of discussions changed (a new one was saved, renamed, deleted)

    def __init__(self, runner, chats: ChatStore, chat_view, show_error: Callable[[str, str], None],
                 notify: Callable[[str], None], offer_undo: Callable[[str, Callable[[], None]], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner, self.chats, self.view = runner, chats, chat_view
        self.show_error, self.notify, self.offer_undo = show_error, notify, offer_undo
        self.case = None
        self.conv_id: int | None = None
        bar = chat_view.discussions
        bar.chosen.connect(lambda cid: self.open(self.case, self._backend, self._sampling, cid))
        bar.new_requested.connect(lambda: self.open(self.case, self._backend, self._sampling, new=True))
        bar.rename_requested.connect(self.rename)
        bar.delete_requested.connect(self.delete)
        bar.export_requested.connect(self.export)
        chat_view.generation_finished.connect(lambda _reason: self.refresh())
        self._backend = None
        self._sampling = None
        self._recorder = None
        self._model_file = ""

    def open(self, case, backend, sampling, conv_id: int | None = None, new: bool = False,
             model_file: str = "", focus_message_id: int | None = None) -> None:
        """Show the case's discussion `conv_id` (default: the one most recently active),
        or a new one. Works with no model: the discussion is then read-only."""
        if case is None:
            return
        if self.view.generating:
            self.view.stop()
            self.view.wait()
        self.case, self._backend, self._sampling = case, backend, sampling
        self._model_file = model_file or self._model_file

        def load():
            summaries = self.chats.summaries(case.id)
            chosen = None if new else (conv_id if conv_id is not None else
                                        (summaries[0].conversation.id if summaries else None))
            focus = self.chats.uid_of(focus_message_id) if focus_message_id is not None else None
            thread = self.chats.load_thread(chosen) if chosen is not None else Thread([], {})
            return summaries, chosen, thread, focus

        def ready(result):
            if case is not self.case:
                return  # another case was chosen meanwhile
            summaries, chosen, thread, focus = result
            self.conv_id = chosen
            self.view.set_session(self._session(case, backend, sampling, chosen, thread), case.vignette)
            self.view.discussions.set_discussions(summaries, chosen)
            if focus is not None:
                self.view.focus_message(focus)

        self.runner.operation(load).success(ready).failure(
            lambda e, tb: self.show_error(f"The discussion could not be opened: {e}", tb)).run()

    def _session(self, case, backend, sampling, conv_id: int | None, thread: Thread) -> ChatSession:
        recorder = self.chats.recorder(case.id, conv_id, Conversation(
            case.id, model_file=self._model_file, sampling=dict(sampling.__dict__) if sampling else {}))
        view = self.view

        def failed(uid: str):
            return lambda exc, tb: view.mark_unsaved(uid, str(exc) or type(exc).__name__)

        def on_update(m: ChatMessage) -> None:  # on the stream thread: snapshot, then save in order
            snap = replace(m)
            self.runner.submit(lambda: recorder.save(snap), on_error=failed(m.uid))

        def on_superseded(ms: list[ChatMessage]) -> None:
            gone = list(ms)
            self.runner.submit(lambda: recorder.supersede(gone), on_error=failed(gone[0].uid) if gone else None)

        self._recorder = recorder  # a new discussion's row (and id) is made with its first message
        session = ChatSession(backend, case.vignette, sampling, on_update=on_update, on_superseded=on_superseded)
        session.messages = thread.messages
        session.versions = thread.versions
        return session

    def refresh(self) -> None:
        """Re-read the list (after a reply: a new discussion now exists, counts changed)."""
        case = self.case
        if case is None:
            return

        def ready(summaries):
            if case is not self.case:
                return
            if self.conv_id is None and self._recorder is not None:
                self.conv_id = self._recorder.conv_id
            self.view.discussions.set_discussions(summaries, self.conv_id)
            self.changed.emit()

        self.runner.operation(lambda: self.chats.summaries(case.id)).success(ready).run()

    def rename(self, conv_id: int) -> None:
        current = next((s for s in self.view.discussions.summaries if s.conversation.id == conv_id), None)
        title, ok = QInputDialog.getText(self.view, "Rename discussion", "Name:",
                                         text=current.conversation.title if current else "")
        if ok:
            self.runner.operation(lambda: self.chats.rename(conv_id, title)).success(lambda _: self.refresh()).run()

    def delete(self, conv_id: int) -> None:
        case = self.case

        def done(_):
            self.notify("Discussion deleted")
            self.offer_undo("Discussion deleted", lambda: self.runner.operation(
                lambda: self.chats.restore(conv_id)).success(
                    lambda _: self.open(case, self._backend, self._sampling, conv_id)).run())
            self.open(case, self._backend, self._sampling)

        self.runner.operation(lambda: self.chats.delete(conv_id)).success(done).run()

    def export(self, conv_id: int) -> None:
        from gazal_desktop.library.exchange import export_markdown

        case = self.case
        path, _ = QFileDialog.getSaveFileName(self.view, "Export discussion", f"{case.title}.md", "Markdown (*.md)")
        if not path:
            return

        def run():
            conv = self.chats.get_conversation(conv_id)
            write_text_atomic(Path(path), export_markdown(case, [(conv, self.chats.messages(conv_id))]))

        self.runner.operation(run).success(lambda _: self.notify(f"Exported {path}")).run()
