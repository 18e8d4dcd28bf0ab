"""What changed in the library, announced once for every view that shows it.

The window (or any view) that changes cases, quizzes or discussions emits; views subscribe
to what they show. Nobody calls another view's reload method or reaches up to the window.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Changes(QObject):
    cases_changed = Signal()  # added, imported, edited or deleted cases
    quiz_changed = Signal()  # items, drafts or reviews
    chats_changed = Signal()  # a discussion saved, renamed or deleted
