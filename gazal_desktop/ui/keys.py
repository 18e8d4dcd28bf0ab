"""The keyboard: Tab moves focus out of text editors, and the list Help ▸ Keyboard shortcuts shows."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit

# Keys that are not menu actions (menu actions are listed from the menus themselves).
OTHER_KEYS = [
    ("Discussion", "Ctrl+Enter", "Send the message"),
    ("Discussion", "Esc", "Stop the reply being written"),
    ("Discussion", "Tab / Shift+Tab", "Move between the composer, messages and their buttons"),
    ("Message (focused)", "C", "Copy the answer"),
    ("Message (focused)", "R", "Regenerate this reply"),
    ("Message (focused)", "E", "Edit and resend this question"),
    ("Message (focused)", "Left / Right", "Earlier or later version of a reply"),
    ("Text fields", "Ctrl+Tab", "Type a tab character (Tab moves to the next field)"),
    ("Quiz", "1-5 or A-E", "Choose an option"),
    ("Quiz", "Enter", "Submit, then go on"),
    ("Quiz", "G / S / C", "Confidence: Guessing, fairly Sure, Certain"),
    ("Quiz", "F", "Flag the question"),
    ("Quiz", "N", "Write a note on the question"),
    ("Quiz", "Ctrl+1-5", "Strike out an option"),
    ("Quiz", "Ctrl+Z", "Take back the last answer (tutor mode)"),
]


class _CtrlTabInsertsTab(QObject):
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt)
        if (event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Tab
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            obj.insertPlainText("\t")
            return True
        return False


_FILTER: list[_CtrlTabInsertsTab] = []


def tab_moves_focus(*edits: QPlainTextEdit | QTextEdit) -> None:
    """Tab and Shift+Tab move focus, as in every other field; Ctrl+Tab types a tab."""
    if not _FILTER:
        _FILTER.append(_CtrlTabInsertsTab())
    for edit in edits:
        edit.setTabChangesFocus(True)
        edit.installEventFilter(_FILTER[0])


def shortcut_rows(window) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every menu action with a shortcut, then OTHER_KEYS."""
    rows = []
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        where = menu_action.text().replace("&", "")
        for action in menu.actions():
            keys = action.shortcut().toString()
            if keys:
                rows.append((where, keys, action.text().replace("&", "").rstrip("…")))
    return rows + OTHER_KEYS
