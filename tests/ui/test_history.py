"""Discussions are saved exactly as the learner left them (real SQLite file, scripted backend).

Each test does what a learner does in the window, closes it, opens a new window on the same
data folder (a relaunch) and compares what the database gives back with what was on screen.
"""

from __future__ import annotations

import hashlib
import sqlite3

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gazal_desktop import app as app_mod
from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.core.settings import AppSettings
from gazal_desktop.library.chats import ChatStore
from gazal_desktop.ui.main_window import MainWindow
from gazal_desktop.ui.threads import TaskRunner


def open_window(qtbot, folder, backend=None) -> MainWindow:
    runner = TaskRunner(1)
    lib = app_mod.open_library_or_recover(runner, folder)
    w = MainWindow(folder, AppSettings(), lib, runner)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.library_pane.loaded, timeout=10000)
    if backend is not None:
        w.set_backend(backend)
    return w


def pick_case(qtbot, w, row=0):
    before = w.case
    w.library_pane.list.setCurrentRow(row)
    qtbot.waitUntil(lambda: w.case is not None and w.case is not before and w.chat_view.session is not None
                    and w.chat_view.session.vignette == w.case.vignette, timeout=5000)


def send(qtbot, w, text):
    w.chat_view.send(text)
    qtbot.waitUntil(lambda: not w.chat_view.generating, timeout=10000)
    w.runner.wait()


def on_screen(w):
    """(role, content, status, versions' contents, statistics) of every message shown."""
    out = []
    for widget in w.chat_view.message_widgets():
        m = widget.message
        out.append((m.role, m.content, m.status, [v.content for v in widget.versions],
                    m.usage.completion_tokens if m.usage else None, m.reasoning, m.reasoning_seconds))
    return out


def close(w):
    w.close()
    w.runner.wait()


REPLIES = [f"<think>Step 1: look again ({i}).</think>Answer {i}." for i in range(20)]


def test_regenerate_and_edit_and_resend_reopen_exactly_without_a_model(qtbot, tmp_path):
    folder = tmp_path / "data"
    w = open_window(qtbot, folder, ScriptedBackend(list(REPLIES)))
    pick_case(qtbot, w)
    send(qtbot, w, "What is the diagnosis?")
    send(qtbot, w, "And the first investigation?")
    for _ in range(3):  # regenerate the latest reply three times
        with qtbot.waitSignal(w.chat_view.generation_finished, timeout=10000):
            w.chat_view.message_widgets()[-1].action_button.click()
        w.runner.wait()
    for text in ("Which investigation first, and why?", "What single test comes first?"):  # edit twice
        w.chat_view.edit(w.chat_view.message_widgets()[2])
        send(qtbot, w, text)
    shown = on_screen(w)
    context_before = w.chat_view.session.build()[0]
    assert [r[1] for r in shown][2] == "What single test comes first?" and len(shown) == 4
    assert len(shown[1][3]) == 1  # the first reply was never regenerated
    case_id = w.case.id
    close(w)

    # Relaunch with no model: the discussion is there to read, exactly as it was.
    w = open_window(qtbot, folder)
    pick_case(qtbot, w)
    qtbot.waitUntil(lambda: len(w.chat_view.message_widgets()) == 4, timeout=5000)
    assert on_screen(w) == shown
    assert not w.chat_view.composer.isEnabled() and "read this discussion" in w.chat_view.empty_state.text()
    chats = ChatStore(w.library)
    (summary,) = chats.summaries(case_id)
    assert summary.message_count == 4 and summary.first_question == "What is the diagnosis?"
    every = chats.messages(summary.conversation.id)
    # Nothing lost: 2 + 2 user messages, 2 replies + 3 regenerations + 2 replies after the edits.
    assert len(every) == 11 and len({m.uid for m in every}) == 11
    assert sum(m.superseded for m in every) == 7  # the edited-away branches, kept
    close(w)

    # With a model loaded again, the edited-away messages never return to the context.
    w = open_window(qtbot, folder, ScriptedBackend(list(REPLIES)))
    pick_case(qtbot, w)
    qtbot.waitUntil(lambda: len(w.chat_view.message_widgets()) == 4, timeout=5000)
    assert w.chat_view.session.build()[0] == context_before
    assert "And the first investigation?" not in str(w.chat_view.session.build()[0])
    close(w)


KILLED_WRITER = r"""
import sys
from pathlib import Path
from gazal_desktop.core.chat import ChatSession
from gazal_desktop.core.sampling import Sampling
from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.library import open_library
from gazal_desktop.library.cases import CaseStore
from gazal_desktop.library.chats import ChatStore

lib, _ = open_library(Path(sys.argv[1]))
case = CaseStore(lib).get(int(sys.argv[2]))
recorder = ChatStore(lib).recorder(case.id)
backend = ScriptedBackend(["<think>" + "Step 1: thinking it over. " * 2000 + "</think>Done."], delay=0.001)
session = ChatSession(backend, case.vignette, Sampling(max_tokens=100000), on_update=recorder.save)
for i, _ in enumerate(session.send("Explain slowly.")):
    if i == 100:
        print("STREAMING", flush=True)
"""


def test_a_reply_cut_off_by_a_kill_reopens_as_interrupted(qtbot, tmp_path):
    import signal
    import subprocess
    import sys

    folder = tmp_path / "data"
    w = open_window(qtbot, folder)
    pick_case(qtbot, w)
    case_id = w.case.id
    close(w)
    w.library.close(backup=False)
    proc = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(folder), str(case_id)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "STREAMING"
    proc.send_signal(signal.SIGKILL)  # mid-reply: no chance to save a final status
    proc.wait()
    w = open_window(qtbot, folder)
    pick_case(qtbot, w)
    qtbot.waitUntil(lambda: len(w.chat_view.message_widgets()) == 2, timeout=5000)
    reply = w.chat_view.message_widgets()[1]
    assert reply.message.status == "interrupted" and reply.message.reasoning.startswith("Step 1: thinking")
    assert reply.status.text().startswith("interrupted")  # not "stopped at the length limit"
    assert w.chat_view.message_widgets()[0].message.content == "Explain slowly."
    close(w)


def test_each_message_is_its_own_row_however_many_are_made_and_freed(qtbot, tmp_path):
    """Rows were keyed by id(): CPython reuses an id once an object is freed, so a new reply
    could be written over an older row. Now a row belongs to a uid for good."""
    w = open_window(qtbot, tmp_path / "data", ScriptedBackend([f"Reply {i}." for i in range(40)]))
    pick_case(qtbot, w)
    for i in range(15):
        send(qtbot, w, f"Question {i}")
        if i % 3 == 2:  # regenerations free nothing we hold, edits drop whole widgets
            with qtbot.waitSignal(w.chat_view.generation_finished, timeout=10000):
                w.chat_view.message_widgets()[-1].action_button.click()
            w.runner.wait()
    chats = ChatStore(w.library)
    conv = chats.summaries(w.case.id)[0].conversation
    thread = chats.load_thread(conv.id)
    assert [m.content for m in thread.messages] == [w_.message.content for w_ in w.chat_view.message_widgets()]
    assert len(chats.messages(conv.id)) == 30 + 5
    close(w)


def test_new_discussion_keeps_the_earlier_one_in_the_list(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path / "data", ScriptedBackend(list(REPLIES)))
    pick_case(qtbot, w)
    send(qtbot, w, "First discussion's question")
    w.new_discussion()
    qtbot.waitUntil(lambda: w.chat_view.message_widgets() == [] and w.chat_view.session is not None, timeout=5000)
    send(qtbot, w, "Second discussion's question")
    bar = w.chat_view.discussions
    qtbot.waitUntil(lambda: len(bar.summaries) == 2, timeout=5000)
    assert "Second discussion's question" in bar.combo.currentText()
    earlier = next(s for s in bar.summaries if s.first_question == "First discussion's question")
    bar.chosen.emit(earlier.conversation.id)
    qtbot.waitUntil(lambda: [m.content for m in w.chat_view.session.messages][:1] == ["First discussion's question"],
                    timeout=5000)
    # Delete it, then Undo.
    w.discussions.delete(earlier.conversation.id)
    qtbot.waitUntil(lambda: len(bar.summaries) == 1, timeout=5000)
    assert w.undo_button.isVisible()
    w.undo_button.click()
    qtbot.waitUntil(lambda: len(bar.summaries) == 2, timeout=5000)
    # An opened case with no discussion leaves nothing behind until something is sent.
    pick_case(qtbot, w, row=5)
    w.runner.wait()
    assert ChatStore(w.library).summaries(w.case.id) == []
    close(w)


def test_a_failed_save_is_shown_on_the_message(qtbot, tmp_path, monkeypatch):
    w = open_window(qtbot, tmp_path / "data", ScriptedBackend(["Answer."]))
    pick_case(qtbot, w)

    def full_disk(self, conv_id, message):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(ChatStore, "save", full_disk)
    send(qtbot, w, "Diagnosis?")
    qtbot.waitUntil(lambda: w.chat_view.message_widgets()[0].unsaved.isVisible(), timeout=5000)
    first = w.chat_view.message_widgets()[0]
    assert first.unsaved.text() == "not saved" and "disk is full" in first.unsaved.toolTip()
    assert "could not be saved" in w.chat_view.state.text()
    monkeypatch.undo()
    close(w)


def test_a_failed_background_task_is_shown_to_the_learner(qtbot, tmp_path):
    w = open_window(qtbot, tmp_path / "data")
    seen = {}

    def read(dlg):
        seen["text"] = dlg.text()
        seen["detail"] = dlg.detailedText()
        dlg.accept()

    def poll(n=300):
        dlg = QApplication.activeModalWidget()
        if isinstance(dlg, QMessageBox):
            read(dlg)
        elif n:
            QTimer.singleShot(10, lambda: poll(n - 1))

    QTimer.singleShot(10, poll)
    w.runner.run(lambda: 1 / 0)  # no error callback: it must not vanish
    qtbot.waitUntil(lambda: "text" in seen, timeout=5000)
    assert "division by zero" in seen["text"] and "ZeroDivisionError" in seen["detail"]
    seen.clear()
    QTimer.singleShot(10, poll)
    w.runner.submit(lambda: [][1])  # fire and forget, from any thread: shown too
    qtbot.waitUntil(lambda: "text" in seen, timeout=5000)
    assert "out of range" in seen["text"]
    close(w)


def _file_digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_demo_mode_leaves_the_learners_library_untouched(qtbot, tmp_path, monkeypatch):
    import os

    learner = tmp_path / "learner"
    monkeypatch.setenv("GAZAL_DATA_DIR", str(learner))
    runner = TaskRunner(1)
    lib = app_mod.open_library_or_recover(runner, learner)
    lib.close(backup=False)
    from gazal_desktop.core.settings import load_settings, save_settings
    from gazal_desktop.safety import DISCLAIMER_VERSION

    settings = load_settings(learner)
    settings.accept_disclaimer(DISCLAIMER_VERSION)
    save_settings(learner, settings)
    before = {p.name: _file_digest(p) for p in learner.iterdir() if p.is_file()}

    def accept(n=300):
        dlg = QApplication.activeModalWidget()
        if dlg is not None and hasattr(dlg, "checks"):
            for c in dlg.checks:
                c.setChecked(True)
            dlg.continue_button.click()
        elif n:
            QTimer.singleShot(10, lambda: accept(n - 1))

    QTimer.singleShot(10, accept)  # the throwaway library asks for the acknowledgements too
    w = app_mod.start(app_mod.build_parser().parse_args(["--demo"]))
    qtbot.addWidget(w)
    assert "DEMO" in w.windowTitle() and os.environ["GAZAL_DATA_DIR"] != str(learner)
    qtbot.waitUntil(lambda: w.library_pane.loaded, timeout=10000)
    pick_case(qtbot, w)
    send(qtbot, w, "What is the diagnosis?")
    assert w.chat_view.session.messages[-1].content  # the scripted answer was "saved"... elsewhere
    close(w)
    after = {p.name: _file_digest(p) for p in learner.iterdir() if p.is_file()}
    assert after == before


def test_a_search_hit_in_a_discussion_opens_it_at_that_message(qtbot, tmp_path):
    from gazal_desktop.ui.chat_view import PAGE

    w = open_window(qtbot, tmp_path / "data", ScriptedBackend([f"Reply number {i}." for i in range(40)]))
    pick_case(qtbot, w)
    send(qtbot, w, "Is erythema migrans typical here?")  # the message the search will find
    for i in range(PAGE):
        send(qtbot, w, f"Follow-up {i}")
    case_title = w.case.title
    w.new_discussion()  # the case now opens on another discussion
    qtbot.waitUntil(lambda: w.chat_view.message_widgets() == [], timeout=5000)
    send(qtbot, w, "A second discussion")
    pane = w.library_pane
    pane.list.setCurrentRow(3)  # somewhere else
    qtbot.keyClicks(pane.search, "erythema migrans")
    qtbot.waitUntil(lambda: any(t.startswith(case_title) and "in a discussion" in t for t in pane.titles()),
                    timeout=5000)
    row = next(i for i, t in enumerate(pane.titles()) if t.startswith(case_title))
    pane.list.setCurrentRow(row)
    qtbot.waitUntil(lambda: w.chat_view.widget_for(next(
        (m.uid for m in (w.chat_view.session.messages if w.chat_view.session else [])
         if m.content == "Is erythema migrans typical here?"), "-")) is not None, timeout=5000)
    assert w.chat_view.session.messages[0].content == "Is erythema migrans typical here?"
    assert "Is erythema migrans" in w.chat_view.discussions.combo.currentText()
    close(w)
