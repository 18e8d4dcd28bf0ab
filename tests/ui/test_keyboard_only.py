"""A new user, keyboard only: through the disclaimer, to a finished quiz without a model, then
to a streamed answer with one. Every step is a key event sent to whatever has focus."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QListWidget, QPlainTextEdit, QPushButton

from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.ui.gate import DisclaimerGate

NO = Qt.KeyboardModifier.NoModifier


def press(qtbot, key, mods=NO):
    target = QApplication.focusWidget()
    assert target is not None, "nothing has keyboard focus"
    qtbot.keyClick(target, key, mods)


def tab_to(qtbot, found, limit=80, window=None):
    """Tab until `found(focus widget)` is true; the path a keyboard user takes."""
    for _ in range(limit):
        w = QApplication.focusWidget()
        if w is not None and found(w):
            return w
        press(qtbot, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached it (focus ended on {QApplication.focusWidget()!r})")


def test_first_launch_to_a_finished_quiz_and_a_streamed_answer_by_keyboard(qtbot, window):
    gate = DisclaimerGate()
    qtbot.addWidget(gate)
    gate.show()
    gate.raise_()
    gate.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is gate and QApplication.focusWidget() is not None,
                    timeout=5000)
    for _ in gate.checks:
        tab_to(qtbot, lambda w: isinstance(w, QCheckBox) and not w.isChecked())
        press(qtbot, Qt.Key.Key_Space)
    tab_to(qtbot, lambda w: w is gate.continue_button)
    press(qtbot, Qt.Key.Key_Space)
    assert gate.result() == DisclaimerGate.DialogCode.Accepted

    window.raise_()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window and QApplication.focusWidget() is not None,
                    timeout=5000)
    press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    study = window.study_view
    assert window.tabs.currentWidget() is study
    qtbot.waitUntil(lambda: "new" in study.home.detail.text(), timeout=5000)
    tab_to(qtbot, lambda w: w is study.home.count)
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(QApplication.focusWidget(), "3")
    tab_to(qtbot, lambda w: w is study.home.start_button)
    press(qtbot, Qt.Key.Key_Space)
    player = study.player
    qtbot.waitUntil(lambda: study.currentWidget() is player and player.session is not None, timeout=5000)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is player, timeout=5000)
    for _ in range(3):
        press(qtbot, Qt.Key.Key_1)  # choose an option
        press(qtbot, Qt.Key.Key_Return)  # submit: the explanation
        press(qtbot, Qt.Key.Key_Return)  # next (after the last: the results)
    qtbot.waitUntil(lambda: study.currentWidget() is study.review, timeout=5000)
    assert "of 3 correct" in study.review.summary.text()  # a finished quiz, no model loaded

    window.set_backend(ScriptedBackend(["## Primary Diagnosis\nWarfarin interaction."], delay=0.001))
    press(qtbot, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.tabs.currentIndex() == 0
    tab_to(qtbot, lambda w: isinstance(w, QListWidget) and w is window.library_pane.list)
    press(qtbot, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: window.chat_view.session is not None and window.chat_view.session.can_send,
                    timeout=5000)
    composer = tab_to(qtbot, lambda w: isinstance(w, QPlainTextEdit) and w is window.chat_view.composer)
    qtbot.keyClicks(composer, "What is the most likely diagnosis?")
    press(qtbot, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.chat_view.generating and len(window.chat_view.message_widgets()) == 2,
                    timeout=10000)
    answer = window.chat_view.message_widgets()[1]
    assert "Warfarin interaction" in answer.message.content
    assert not any(isinstance(w, QPushButton) and w.isDown() for w in window.findChildren(QPushButton))
